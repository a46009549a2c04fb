/* SPDX-License-Identifier: MIT */
/* AWS Signature Version 4 with libsodium's SHA-256 and HMAC-SHA256, as a
   pure function of the request, the time given and the credentials. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "../common/urlpath.h"
#include "sigv4.h"

#define SIGV4_TERMINATOR  "aws4_request"
#define SIGV4_KEY_PREFIX  "AWS4"
#define SIGV4_HMAC_BLOCK  64 /* SHA-256 block: longer HMAC keys are hashed */
#define SIGV4_YEAR_MAX    9999
#define SIGV4_HEADERS_MAX 64 /* more signed headers than this is a bug */
#define SIGV4_FIXED_LINES 3  /* Host, X-Amz-Date, X-Amz-Security-Token */

/* A growing string; its old buffers are wiped because the canonical
   request may hold a session token. */
struct sb {
    char *p;
    size_t len, cap;
    bool failed;
};

static void sb_need(struct sb *b, size_t more)
{
    if (b->failed)
        return;
    if (more > SIZE_MAX / 2 - b->len) {
        b->failed = true;
        return;
    }
    if (b->len + more + 1 <= b->cap)
        return;
    size_t cap = b->cap == 0 ? 256 : b->cap;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *p = malloc(cap);
    if (p == NULL) {
        b->failed = true;
        return;
    }
    if (b->p != NULL) {
        memcpy(p, b->p, b->len);
        sodium_memzero(b->p, b->cap);
        free(b->p);
    }
    b->p = p;
    b->cap = cap;
}

static void sb_add(struct sb *b, const char *s, size_t n)
{
    sb_need(b, n);
    if (b->failed)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(struct sb *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void sb_char(struct sb *b, char c)
{
    sb_add(b, &c, 1);
}

static void sb_wipe(struct sb *b)
{
    if (b->p != NULL) {
        sodium_memzero(b->p, b->cap);
        free(b->p);
    }
    memset(b, 0, sizeof(*b));
}

/* The finished string (owned by the caller), NULL when anything failed. */
static char *sb_take(struct sb *b)
{
    if (b->failed || b->p == NULL) {
        bool empty = !b->failed;
        sb_wipe(b);
        if (empty) {
            char *s = malloc(1);
            if (s != NULL)
                s[0] = '\0';
            return s;
        }
        return NULL;
    }
    char *s = b->p;
    memset(b, 0, sizeof(*b));
    return s;
}

static char *wipe_free(char *s)
{
    if (s != NULL) {
        sodium_memzero(s, strlen(s));
        free(s);
    }
    return NULL;
}

static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
           c == '~';
}

static void sb_encode(struct sb *b, const char *in, size_t len, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (unreserved(c) || (keep_slash && c == '/')) {
            sb_char(b, (char)c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 0xf]};
            sb_add(b, e, sizeof(e));
        }
    }
}

char *ei_sigv4_uri_encode(const char *in, size_t len, bool keep_slash)
{
    struct sb b = {0};
    sb_encode(&b, in, len, keep_slash);
    return sb_take(&b);
}

static void hex_of(const unsigned char *bin, size_t n, char *out)
{
    sodium_bin2hex(out, n * 2 + 1, bin, n);
}

static void hmac(const unsigned char *key, size_t key_len, const void *msg,
                 size_t msg_len, unsigned char out[EI_SIGV4_KEY_LEN])
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, key_len);
    crypto_auth_hmacsha256_update(&st, msg, msg_len);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof(st));
}

void ei_sigv4_signing_key(const char *secret, size_t secret_len,
                          const char *day, const char *region,
                          const char *service, struct ei_sigv4_keys *out)
{
    /* HMAC hashes a key longer than its block (RFC 2104), so a long secret
       needs no allocation: hash "AWS4"+secret ourselves */
    unsigned char key[SIGV4_HMAC_BLOCK];
    size_t key_len;
    size_t prefix_len = sizeof(SIGV4_KEY_PREFIX) - 1;
    if (secret_len <= sizeof(key) - prefix_len) {
        memcpy(key, SIGV4_KEY_PREFIX, prefix_len);
        memcpy(key + prefix_len, secret, secret_len);
        key_len = prefix_len + secret_len;
    } else {
        crypto_hash_sha256_state hs;
        crypto_hash_sha256_init(&hs);
        crypto_hash_sha256_update(&hs, (const unsigned char *)SIGV4_KEY_PREFIX,
                                  prefix_len);
        crypto_hash_sha256_update(&hs, (const unsigned char *)secret,
                                  secret_len);
        crypto_hash_sha256_final(&hs, key);
        sodium_memzero(&hs, sizeof(hs));
        key_len = crypto_hash_sha256_BYTES;
    }
    hmac(key, key_len, day, strlen(day), out->date);
    sodium_memzero(key, sizeof(key));
    hmac(out->date, EI_SIGV4_KEY_LEN, region, strlen(region), out->region);
    hmac(out->region, EI_SIGV4_KEY_LEN, service, strlen(service), out->service);
    hmac(out->service, EI_SIGV4_KEY_LEN, SIGV4_TERMINATOR,
         sizeof(SIGV4_TERMINATOR) - 1, out->signing);
}

int ei_sigv4_amz_date(time_t t, char *out)
{
    struct tm tm;
    if (t < 0 || gmtime_r(&t, &tm) == NULL ||
        tm.tm_year + 1900 > SIGV4_YEAR_MAX)
        return -1;
    int n = snprintf(out, EI_SIGV4_DATE_LEN + 1, "%04d%02d%02dT%02d%02d%02dZ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
    return n == EI_SIGV4_DATE_LEN ? 0 : -1;
}

static bool amz_date_valid(const char *d)
{
    if (d == NULL || strlen(d) != EI_SIGV4_DATE_LEN)
        return false;
    for (size_t i = 0; i < EI_SIGV4_DATE_LEN; i++) {
        bool digit = d[i] >= '0' && d[i] <= '9';
        if (i == EI_SIGV4_DAY_LEN        ? d[i] != 'T'
            : i == EI_SIGV4_DATE_LEN - 1 ? d[i] != 'Z'
                                         : !digit)
            return false;
    }
    return true;
}

/* Letters, digits and '-': a region or a service name. */
static bool scope_word_valid(const char *s)
{
    if (s == NULL || s[0] == '\0')
        return false;
    for (; *s != '\0'; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '-'))
            return false;
    return true;
}

/* An RFC 7230 token character (a header name). */
static bool tchar(unsigned char c)
{
    return unreserved(c) || (c != '\0' && strchr("!#$%&'*+^`|", c) != NULL);
}

struct hdr {
    char *name;        /* lowercase */
    const char *value; /* into the caller's line */
    size_t value_len;
    size_t order;
};

static int hdr_cmp(const void *a, const void *b)
{
    const struct hdr *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c != 0)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Split the lines into names and values; -1 (EINVAL or ENOMEM) on error. */
static int parse_headers(const char *const *lines, size_t n, struct hdr *h)
{
    for (size_t i = 0; i < n; i++) {
        const char *line = lines[i];
        const char *colon = line != NULL ? strchr(line, ':') : NULL;
        if (colon == NULL || colon == line || strpbrk(line, "\r\n") != NULL) {
            errno = EINVAL;
            return -1;
        }
        size_t name_len = (size_t)(colon - line);
        h[i].name = malloc(name_len + 1);
        if (h[i].name == NULL) {
            errno = ENOMEM;
            return -1;
        }
        for (size_t k = 0; k < name_len; k++) {
            unsigned char c = (unsigned char)line[k];
            if (!tchar(c)) {
                errno = EINVAL;
                return -1;
            }
            h[i].name[k] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        }
        h[i].name[name_len] = '\0';
        h[i].value = colon + 1;
        h[i].value_len = strlen(colon + 1);
        h[i].order = i;
    }
    return 0;
}

/* A value trimmed, with every run of blanks inside made one space. */
static void sb_header_value(struct sb *b, const char *v, size_t len)
{
    size_t i = 0;
    while (i < len && (v[i] == ' ' || v[i] == '\t'))
        i++;
    while (len > i && (v[len - 1] == ' ' || v[len - 1] == '\t'))
        len--;
    bool blank = false;
    for (; i < len; i++) {
        if (v[i] == ' ' || v[i] == '\t') {
            blank = true;
            continue;
        }
        if (blank)
            sb_char(b, ' ');
        blank = false;
        sb_char(b, v[i]);
    }
}

/* Decode %XX in len bytes of s and encode the result again, so that a
   query written either way signs the same; -1 on a malformed escape. */
static int sb_reencode(struct sb *b, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            int byte = ei_pct_byte(s + i, len - i);
            if (byte < 0)
                return -1;
            c = (char)byte;
            i += 2;
        }
        sb_encode(b, &c, 1, false);
    }
    return 0;
}

struct qpair {
    char *name, *value; /* encoded */
};

static int qpair_cmp(const void *a, const void *b)
{
    const struct qpair *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c != 0 ? c : strcmp(x->value, y->value);
}

static int sb_query(struct sb *out, const char *query)
{
    if (query == NULL || query[0] == '\0')
        return 0;
    size_t n = 1;
    for (const char *p = query; *p != '\0'; p++)
        n += *p == '&';
    struct qpair *q = calloc(n, sizeof(*q));
    if (q == NULL) {
        errno = ENOMEM;
        return -1;
    }
    size_t got = 0;
    int rc = 0;
    const char *p = query;
    while (rc == 0) {
        const char *end = strchr(p, '&');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (len > 0) {
            const char *eq = memchr(p, '=', len);
            size_t name_len = eq != NULL ? (size_t)(eq - p) : len;
            struct sb nb = {0}, vb = {0};
            if (sb_reencode(&nb, p, name_len) < 0 ||
                (eq != NULL &&
                 sb_reencode(&vb, eq + 1, len - name_len - 1) < 0)) {
                sb_wipe(&nb);
                sb_wipe(&vb);
                errno = EINVAL;
                rc = -1;
                break;
            }
            q[got].name = sb_take(&nb);
            q[got].value = sb_take(&vb);
            got++;
            if (q[got - 1].name == NULL || q[got - 1].value == NULL) {
                errno = ENOMEM;
                rc = -1;
                break;
            }
        }
        if (end == NULL)
            break;
        p = end + 1;
    }
    if (rc == 0) {
        qsort(q, got, sizeof(*q), qpair_cmp);
        for (size_t i = 0; i < got; i++) {
            if (i > 0)
                sb_char(out, '&');
            sb_str(out, q[i].name);
            sb_char(out, '=');
            sb_str(out, q[i].value);
        }
    }
    for (size_t i = 0; i < got; i++) {
        wipe_free(q[i].name);
        wipe_free(q[i].value);
    }
    free(q);
    return rc;
}

int ei_sigv4_canonical_request(const struct ei_sigv4_request *req, char **creq,
                               char **signed_headers)
{
    *creq = NULL;
    *signed_headers = NULL;
    const char *path = req->path != NULL ? req->path : "";
    if (req->method == NULL || req->method[0] == '\0' ||
        (path[0] != '\0' && path[0] != '/') ||
        req->headers_n > SIGV4_HEADERS_MAX ||
        (req->headers_n > 0 && req->headers == NULL) ||
        (req->payload == NULL && req->payload_len > 0)) {
        errno = EINVAL;
        return -1;
    }
    for (const char *m = req->method; *m != '\0'; m++)
        if (!tchar((unsigned char)*m)) {
            errno = EINVAL;
            return -1;
        }

    struct hdr h[SIGV4_HEADERS_MAX];
    memset(h, 0, sizeof(h));
    struct sb b = {0}, sh = {0};
    int rc = parse_headers(req->headers, req->headers_n, h);
    if (rc == 0) {
        qsort(h, req->headers_n, sizeof(h[0]), hdr_cmp);
        sb_str(&b, req->method);
        sb_char(&b, '\n');
        if (path[0] == '\0')
            sb_char(&b, '/');
        else
            sb_encode(&b, path, strlen(path), true);
        sb_char(&b, '\n');
        rc = sb_query(&b, req->query);
    }
    if (rc == 0) {
        sb_char(&b, '\n');
        for (size_t i = 0; i < req->headers_n; i++) {
            bool again = i > 0 && strcmp(h[i].name, h[i - 1].name) == 0;
            /* a repeated header is one line, its values joined by ',' */
            if (again) {
                sb_char(&b, ',');
            } else {
                if (i > 0) {
                    sb_char(&b, '\n');
                    sb_char(&sh, ';');
                }
                sb_str(&b, h[i].name);
                sb_char(&b, ':');
                sb_str(&sh, h[i].name);
            }
            sb_header_value(&b, h[i].value, h[i].value_len);
        }
        if (req->headers_n > 0)
            sb_char(&b, '\n');
        sb_char(&b, '\n');
        sb_add(&b, sh.p != NULL ? sh.p : "", sh.len);
        sb_char(&b, '\n');
        unsigned char digest[crypto_hash_sha256_BYTES];
        char hexd[EI_SIGV4_HEX_LEN + 1];
        crypto_hash_sha256(digest, req->payload, req->payload_len);
        hex_of(digest, sizeof(digest), hexd);
        sb_str(&b, hexd);
    }
    for (size_t i = 0; i < req->headers_n; i++)
        free(h[i].name);
    if (rc < 0) {
        sb_wipe(&b);
        sb_wipe(&sh);
        return -1;
    }
    *creq = sb_take(&b);
    *signed_headers = sb_take(&sh);
    if (*creq == NULL || *signed_headers == NULL) {
        *creq = wipe_free(*creq);
        *signed_headers = wipe_free(*signed_headers);
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

/* Characters an access key id may hold without breaking the header. */
static bool akid_valid(const char *s)
{
    if (s == NULL || s[0] == '\0')
        return false;
    for (; *s != '\0'; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
              (*s >= '0' && *s <= '9')))
            return false;
    return true;
}

void ei_sigv4_free(struct ei_sigv4 *s)
{
    if (s == NULL)
        return;
    wipe_free(s->canonical_request);
    wipe_free(s->signed_headers);
    wipe_free(s->scope);
    wipe_free(s->string_to_sign);
    wipe_free(s->authorization);
    sodium_memzero(s, sizeof(*s));
}

int ei_sigv4_sign(const struct ei_sigv4_request *req, const char *amz_date,
                  const char *region, const char *service,
                  const struct ei_sigv4_creds *creds, struct ei_sigv4 *out)
{
    memset(out, 0, sizeof(*out));
    if (!amz_date_valid(amz_date) || !scope_word_valid(region) ||
        !scope_word_valid(service) || creds == NULL ||
        !akid_valid(creds->access_key_id) || creds->secret_access_key == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (ei_sigv4_canonical_request(req, &out->canonical_request,
                                   &out->signed_headers) < 0)
        return -1;

    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, (const unsigned char *)out->canonical_request,
                       strlen(out->canonical_request));
    hex_of(digest, sizeof(digest), out->request_hash);
    /* the payload hash is the last line of the canonical request */
    const char *last = strrchr(out->canonical_request, '\n');
    memcpy(out->payload_hash, last + 1, EI_SIGV4_HEX_LEN + 1);

    char day[EI_SIGV4_DAY_LEN + 1];
    memcpy(day, amz_date, EI_SIGV4_DAY_LEN);
    day[EI_SIGV4_DAY_LEN] = '\0';
    struct sb b = {0};
    sb_str(&b, day);
    sb_char(&b, '/');
    sb_str(&b, region);
    sb_char(&b, '/');
    sb_str(&b, service);
    sb_str(&b, "/" SIGV4_TERMINATOR);
    out->scope = sb_take(&b);

    sb_str(&b, EI_SIGV4_ALGORITHM "\n");
    sb_str(&b, amz_date);
    sb_char(&b, '\n');
    sb_str(&b, out->scope != NULL ? out->scope : "");
    sb_char(&b, '\n');
    sb_str(&b, out->request_hash);
    out->string_to_sign = sb_take(&b);
    if (out->scope == NULL || out->string_to_sign == NULL)
        goto nomem;

    ei_sigv4_signing_key(creds->secret_access_key,
                         strlen(creds->secret_access_key), day, region, service,
                         &out->keys);
    unsigned char sig[EI_SIGV4_KEY_LEN];
    hmac(out->keys.signing, EI_SIGV4_KEY_LEN, out->string_to_sign,
         strlen(out->string_to_sign), sig);
    hex_of(sig, sizeof(sig), out->signature);

    sb_str(&b, EI_SIGV4_ALGORITHM " Credential=");
    sb_str(&b, creds->access_key_id);
    sb_char(&b, '/');
    sb_str(&b, out->scope);
    sb_str(&b, ", SignedHeaders=");
    sb_str(&b, out->signed_headers);
    sb_str(&b, ", Signature=");
    sb_str(&b, out->signature);
    out->authorization = sb_take(&b);
    if (out->authorization == NULL)
        goto nomem;
    return 0;
nomem:
    ei_sigv4_free(out);
    errno = ENOMEM;
    return -1;
}

void ei_sigv4_headers_free(char **headers)
{
    if (headers == NULL)
        return;
    for (size_t i = 0; headers[i] != NULL; i++)
        wipe_free(headers[i]);
    free(headers);
}

static char *line_of(const char *name, const char *value)
{
    struct sb b = {0};
    sb_str(&b, name);
    sb_str(&b, ": ");
    sb_str(&b, value);
    return sb_take(&b);
}

char **ei_sigv4_headers(const char *method, const char *host, const char *path,
                        const char *query, const char *const *extra,
                        size_t extra_n, const void *payload, size_t payload_len,
                        const char *amz_date, const char *region,
                        const char *service, const struct ei_sigv4_creds *creds)
{
    bool token = creds != NULL && creds->session_token != NULL &&
                 creds->session_token[0] != '\0';
    if (host == NULL || host[0] == '\0' || strpbrk(host, "\r\n") != NULL ||
        amz_date == NULL || strpbrk(amz_date, "\r\n") != NULL ||
        (token && strpbrk(creds->session_token, "\r\n") != NULL) ||
        extra_n > SIGV4_HEADERS_MAX - SIGV4_FIXED_LINES ||
        (extra_n > 0 && extra == NULL)) {
        errno = EINVAL;
        return NULL;
    }
    /* the fixed lines, the extra ones, Authorization and the NULL */
    char **lines = calloc(SIGV4_FIXED_LINES + extra_n + 2, sizeof(*lines));
    if (lines == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    size_t n = 0;
    lines[n++] = line_of("Host", host);
    lines[n++] = line_of("X-Amz-Date", amz_date);
    if (token)
        lines[n++] = line_of("X-Amz-Security-Token", creds->session_token);
    for (size_t i = 0; i < extra_n; i++) {
        if (extra[i] == NULL) {
            ei_sigv4_headers_free(lines);
            errno = EINVAL;
            return NULL;
        }
        struct sb b = {0};
        sb_str(&b, extra[i]);
        lines[n++] = sb_take(&b);
    }
    for (size_t i = 0; i < n; i++)
        if (lines[i] == NULL) {
            /* lines after a failed one are not NULL: free them all */
            for (size_t k = 0; k < n; k++)
                wipe_free(lines[k]);
            free(lines);
            errno = ENOMEM;
            return NULL;
        }
    struct ei_sigv4_request req = {
        .method = method,
        .path = path,
        .query = query,
        .headers = (const char *const *)lines,
        .headers_n = n,
        .payload = payload,
        .payload_len = payload_len,
    };
    struct ei_sigv4 sig;
    if (ei_sigv4_sign(&req, amz_date, region, service, creds, &sig) < 0) {
        int e = errno;
        ei_sigv4_free(&sig);
        ei_sigv4_headers_free(lines);
        errno = e;
        return NULL;
    }
    lines[n] = line_of("Authorization", sig.authorization);
    ei_sigv4_free(&sig);
    if (lines[n] == NULL) {
        ei_sigv4_headers_free(lines);
        errno = ENOMEM;
        return NULL;
    }
    return lines;
}
