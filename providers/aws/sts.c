/* SPDX-License-Identifier: MIT */
/* Parsers of STS answers (AWS Query protocol, XML), of credential_process
   output (JSON) and of their ISO 8601 times.  The XML reader reads exactly
   what STS sends: elements, attributes it skips, text with entities; it
   refuses DOCTYPE (no entity definitions, so no expansion bombs), CDATA
   and processing instructions, which STS never sends. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "../common/urlpath.h"
#include "sts.h"

/* ---- times ---- */

static int digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int ei_aws_parse_time(const char *s, size_t n, int64_t *out)
{
    int Y, M, D, h, m, sec;
    /* YYYY-MM-DDTHH:MM:SS, then fraction, then Z or an offset */
    if (n < 20 || digits(s, 4, &Y) < 0 || s[4] != '-' ||
        digits(s + 5, 2, &M) < 0 || s[7] != '-' || digits(s + 8, 2, &D) < 0 ||
        (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) < 0 ||
        s[13] != ':' || digits(s + 14, 2, &m) < 0 || s[16] != ':' ||
        digits(s + 17, 2, &sec) < 0)
        return -1;
    size_t i = 19;
    if (i < n && s[i] == '.') {
        size_t f = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == f)
            return -1;
    }
    int offset = 0;
    if (i + 1 == n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i + 6 == n && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
        int oh, om;
        if (digits(s + i + 1, 2, &oh) < 0 || digits(s + i + 4, 2, &om) < 0 ||
            oh > 23 || om > 59)
            return -1;
        offset = (oh * 60 + om) * 60 * (s[i] == '+' ? 1 : -1);
        i += 6;
    } else {
        return -1;
    }
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (Y < 1970 || M < 1 || M > 12 || D < 1 || D > mdays[M - 1] || h > 23 ||
        m > 59 || sec > 60)
        return -1;
    bool leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
    if (M == 2 && D == 29 && !leap)
        return -1;
    struct tm tm = {.tm_year = Y - 1900,
                    .tm_mon = M - 1,
                    .tm_mday = D,
                    .tm_hour = h,
                    .tm_min = m,
                    .tm_sec = sec};
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    *out = (int64_t)t - offset;
    return 0;
}

/* ---- the XML reader ---- */

struct xml {
    const char *p, *end;
    char *scratch;
    ei_aws_xml_leaf leaf;
    void *ctx;
    struct ei_aws_xml_name path[EI_AWS_XML_DEPTH];
    size_t depth;
};

static bool xml_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool name_start(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
           c == ':' || c >= 0x80;
}

static bool name_char(unsigned char c)
{
    return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static bool starts(const struct xml *x, const char *lit)
{
    size_t n = strlen(lit);
    return (size_t)(x->end - x->p) >= n && memcmp(x->p, lit, n) == 0;
}

/* Skip to just past lit; -1 when it never comes. */
static int skip_past(struct xml *x, const char *lit)
{
    size_t n = strlen(lit);
    for (const char *q = x->p; (size_t)(x->end - q) >= n; q++)
        if (memcmp(q, lit, n) == 0) {
            x->p = q + n;
            return 0;
        }
    return -1;
}

/* Whitespace and comments between markup. */
static int skip_misc(struct xml *x)
{
    for (;;) {
        while (x->p < x->end && xml_space(*x->p))
            x->p++;
        if (!starts(x, "<!--"))
            return 0;
        x->p += 4;
        if (skip_past(x, "-->") < 0)
            return -1;
    }
}

static int utf8_put(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Decode the entity at s (just past '&', up to end) into out; returns the
   bytes of input used (through ';') with *wrote set, or -1. */
static int entity(const char *s, const char *end, char *out, int *wrote)
{
    static const struct {
        const char *name;
        char c;
    } named[] = {{"lt;", '<'},
                 {"gt;", '>'},
                 {"amp;", '&'},
                 {"quot;", '"'},
                 {"apos;", '\''}};
    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
        size_t n = strlen(named[i].name);
        if ((size_t)(end - s) >= n && memcmp(s, named[i].name, n) == 0) {
            out[0] = named[i].c;
            *wrote = 1;
            return (int)n;
        }
    }
    if (s >= end || *s != '#')
        return -1;
    const char *q = s + 1;
    bool hex = q < end && *q == 'x';
    if (hex)
        q++;
    uint32_t cp = 0;
    const char *d = q;
    for (; q < end && *q != ';'; q++) {
        int v = ei_hex_digit((unsigned char)*q);
        if (v < 0 || (!hex && v > 9))
            return -1;
        cp = cp * (hex ? 16 : 10) + (uint32_t)v;
        if (cp > 0x10ffff)
            return -1;
    }
    /* XML 1.0's Char: no NUL, no other C0 control but tab, LF, CR, no
       surrogates, no U+FFFE/FFFF */
    if (q == d || q >= end || (cp < 0x20 && cp != 9 && cp != 10 && cp != 13) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
        return -1;
    *wrote = utf8_put(cp, out);
    return (int)(q + 1 - s);
}

/* Text up to the next '<', decoded into the scratch at *out. */
static int xml_text(struct xml *x, char **out)
{
    while (x->p < x->end && *x->p != '<') {
        char c = *x->p;
        if (c == '&') {
            int w;
            int used = entity(x->p + 1, x->end, *out, &w);
            if (used < 0)
                return -1;
            x->p += 1 + used;
            *out += w;
        } else if (c == '\0' || c == '>') {
            /* '>' alone is legal XML, but only "]]>" needs it: STS
               escapes it, and a NUL is never text */
            if (c == '\0')
                return -1;
            *(*out)++ = c;
            x->p++;
        } else {
            *(*out)++ = c;
            x->p++;
        }
    }
    return 0;
}

/* A name at x->p. */
static int xml_name(struct xml *x, struct ei_aws_xml_name *name)
{
    const char *s = x->p;
    if (s >= x->end || !name_start((unsigned char)*s))
        return -1;
    while (x->p < x->end && name_char((unsigned char)*x->p))
        x->p++;
    name->s = s;
    name->n = (size_t)(x->p - s);
    return 0;
}

/* Attributes up to '>' or "/>"; sets *empty for the latter. */
static int xml_attrs(struct xml *x, bool *empty)
{
    for (;;) {
        bool gap = false;
        while (x->p < x->end && xml_space(*x->p)) {
            x->p++;
            gap = true;
        }
        if (x->p >= x->end)
            return -1;
        if (*x->p == '>') {
            x->p++;
            *empty = false;
            return 0;
        }
        if (starts(x, "/>")) {
            x->p += 2;
            *empty = true;
            return 0;
        }
        struct ei_aws_xml_name an;
        if (!gap || xml_name(x, &an) < 0)
            return -1;
        while (x->p < x->end && xml_space(*x->p))
            x->p++;
        if (x->p >= x->end || *x->p != '=')
            return -1;
        x->p++;
        while (x->p < x->end && xml_space(*x->p))
            x->p++;
        if (x->p >= x->end || (*x->p != '"' && *x->p != '\''))
            return -1;
        char q = *x->p++;
        const char *close = memchr(x->p, q, (size_t)(x->end - x->p));
        if (close == NULL || memchr(x->p, '<', (size_t)(close - x->p)))
            return -1;
        x->p = close + 1;
    }
}

static struct ei_aws_xml_name local_name(struct ei_aws_xml_name n)
{
    const char *colon = memchr(n.s, ':', n.n);
    if (colon != NULL) {
        n.n -= (size_t)(colon + 1 - n.s);
        n.s = colon + 1;
    }
    return n;
}

/* One element, its '<' at x->p. */
static int xml_element(struct xml *x)
{
    if (x->depth >= EI_AWS_XML_DEPTH)
        return -1;
    x->p++;
    struct ei_aws_xml_name name;
    bool empty;
    if (xml_name(x, &name) < 0 || xml_attrs(x, &empty) < 0)
        return -1;
    x->path[x->depth++] = local_name(name);
    bool children = false;
    char *text = x->scratch, *out = x->scratch;
    while (!empty) {
        if (xml_text(x, &out) < 0 || x->p >= x->end)
            return -1;
        if (starts(x, "<!--")) {
            x->p += 4;
            if (skip_past(x, "-->") < 0)
                return -1;
        } else if (starts(x, "</")) {
            x->p += 2;
            struct ei_aws_xml_name end;
            if (xml_name(x, &end) < 0 || end.n != name.n ||
                memcmp(end.s, name.s, name.n) != 0)
                return -1;
            while (x->p < x->end && xml_space(*x->p))
                x->p++;
            if (x->p >= x->end || *x->p != '>')
                return -1;
            x->p++;
            break;
        } else if (starts(x, "<!") || starts(x, "<?")) {
            return -1;
        } else {
            /* text between child elements may only be blanks */
            for (const char *t = text; t < out; t++)
                if (!xml_space(*t))
                    return -1;
            out = text;
            children = true;
            int rc = xml_element(x);
            if (rc != 0)
                return rc;
        }
    }
    if (children) {
        for (const char *t = text; t < out; t++)
            if (!xml_space(*t))
                return -1;
    } else {
        *out = '\0';
        int rc = x->leaf(x->ctx, x->path, x->depth, text, (size_t)(out - text));
        if (rc != 0)
            return rc;
    }
    x->depth--;
    return 0;
}

int ei_aws_xml_walk(const char *buf, size_t len, char *scratch,
                    ei_aws_xml_leaf leaf, void *ctx)
{
    struct xml x = {.p = buf,
                    .end = buf + len,
                    .scratch = scratch,
                    .leaf = leaf,
                    .ctx = ctx};
    if (starts(&x, "<?xml") && x.p + 5 < x.end && xml_space(x.p[5])) {
        if (skip_past(&x, "?>") < 0)
            return -1;
    }
    if (skip_misc(&x) < 0 || x.p >= x.end || *x.p != '<' || starts(&x, "<!") ||
        starts(&x, "<?") || starts(&x, "</"))
        return -1;
    int rc = xml_element(&x);
    if (rc != 0)
        return rc;
    if (skip_misc(&x) < 0 || x.p != x.end)
        return -1;
    return 0;
}

/* ---- STS answers ---- */

static bool name_is(const struct ei_aws_xml_name *n, const char *a,
                    const char *b)
{
    size_t an = strlen(a), bn = b != NULL ? strlen(b) : 0;
    return n->n == an + bn && memcmp(n->s, a, an) == 0 &&
           (bn == 0 || memcmp(n->s + an, b, bn) == 0);
}

enum sts_field { F_AKID, F_SK, F_TOKEN, F_EXP, F_N };
static const char *const sts_fields[F_N] = {"AccessKeyId", "SecretAccessKey",
                                            "SessionToken", "Expiration"};

struct sts_parse {
    const struct ei_host *host;
    const char *op;
    char *val[F_N]; /* secret memory */
    int dup;        /* a field twice */
    bool root_ok;
};

static int sts_leaf(void *ctx, const struct ei_aws_xml_name *path, size_t depth,
                    const char *text, size_t len)
{
    struct sts_parse *s = ctx;
    if (depth >= 1 && name_is(&path[0], s->op, "Response"))
        s->root_ok = true;
    if (depth != 4 || !name_is(&path[0], s->op, "Response") ||
        !name_is(&path[1], s->op, "Result") ||
        !name_is(&path[2], "Credentials", NULL))
        return 0;
    for (int f = 0; f < F_N; f++) {
        if (!name_is(&path[3], sts_fields[f], NULL))
            continue;
        if (s->val[f] != NULL) {
            s->dup = 1;
            return 1;
        }
        s->val[f] = s->host->secret_alloc(s->host, len + 1);
        if (s->val[f] == NULL)
            return 2;
        memcpy(s->val[f], text, len);
        s->val[f][len] = '\0';
    }
    return 0;
}

static void drop(const struct ei_host *h, char **p)
{
    if (*p != NULL) {
        size_t n = strlen(*p) + 1;
        sodium_memzero(*p, n);
        h->secret_free(h, *p, n);
        *p = NULL;
    }
}

static bool printable(const char *s)
{
    return ei_aws_token_valid(s, strlen(s));
}

static bool alnum(const char *s)
{
    return ei_aws_key_id_valid(s, strlen(s));
}

enum ei_status ei_aws_sts_parse_creds(const struct ei_host *host,
                                      const char *op, const char *body,
                                      size_t len, const char *locator,
                                      struct ei_aws_creds *out,
                                      struct ei_error *err)
{
    struct sts_parse s = {.host = host, .op = op};
    char *scratch = host->secret_alloc(host, len + 1);
    if (scratch == NULL)
        return host->error(host, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    int rc = ei_aws_xml_walk(body, len, scratch, sts_leaf, &s);
    sodium_memzero(scratch, len + 1);
    host->secret_free(host, scratch, len + 1);
    enum ei_status st = EI_OK;
    int64_t exp = 0;
    if (rc == 2)
        st = host->error(host, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    else if (rc < 0)
        st = host->error(host, err, EI_BADDATA, 0, locator,
                         "malformed STS %s answer (not well-formed XML)", op);
    else if (s.dup)
        st = host->error(host, err, EI_BADDATA, 0, locator,
                         "malformed STS %s answer (a credential element "
                         "twice)",
                         op);
    else if (!s.root_ok)
        st = host->error(host, err, EI_BADDATA, 0, locator,
                         "malformed STS %s answer (no %sResponse)", op, op);
    else {
        for (int f = 0; f < F_N && st == EI_OK; f++)
            if (s.val[f] == NULL)
                st = host->error(host, err, EI_BADDATA, 0, locator,
                                 "STS %s answer without Credentials/%s", op,
                                 sts_fields[f]);
        if (st == EI_OK && (!alnum(s.val[F_AKID]) || !printable(s.val[F_SK]) ||
                            !printable(s.val[F_TOKEN])))
            st = host->error(host, err, EI_BADDATA, 0, locator,
                             "malformed credentials in the STS %s answer", op);
        if (st == EI_OK &&
            ei_aws_parse_time(s.val[F_EXP], strlen(s.val[F_EXP]), &exp) < 0)
            st = host->error(host, err, EI_BADDATA, 0, locator,
                             "malformed Expiration in the STS %s answer", op);
    }
    if (st == EI_OK) {
        out->access_key_id = s.val[F_AKID];
        out->secret_access_key = s.val[F_SK];
        out->session_token = s.val[F_TOKEN];
        out->expires = exp;
        s.val[F_AKID] = s.val[F_SK] = s.val[F_TOKEN] = NULL;
    }
    for (int f = 0; f < F_N; f++)
        drop(host, &s.val[f]);
    return st;
}

struct sts_err {
    char *code, *message;
    size_t code_len, message_len;
    bool have_code;
};

static void copy_cut(char *dst, size_t cap, const char *src, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static int err_leaf(void *ctx, const struct ei_aws_xml_name *path, size_t depth,
                    const char *text, size_t len)
{
    struct sts_err *e = ctx;
    if (depth != 3 || !name_is(&path[0], "ErrorResponse", NULL) ||
        !name_is(&path[1], "Error", NULL))
        return 0;
    if (name_is(&path[2], "Code", NULL) && len > 0 && len < e->code_len) {
        bool ok = true;
        for (size_t i = 0; i < len && ok; i++) {
            char c = text[i];
            ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                 (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
        }
        if (ok) {
            copy_cut(e->code, e->code_len, text, len);
            e->have_code = true;
        }
    } else if (name_is(&path[2], "Message", NULL)) {
        copy_cut(e->message, e->message_len, text, len);
    }
    return 0;
}

int ei_aws_sts_error(const char *body, size_t len, long status, char *code,
                     size_t code_len, char *message, size_t message_len)
{
    struct sts_err e = {code, message, code_len, message_len, false};
    message[0] = '\0';
    char *scratch = body != NULL ? malloc(len + 1) : NULL;
    if (scratch != NULL &&
        ei_aws_xml_walk(body, len, scratch, err_leaf, &e) == 0 && e.have_code) {
        free(scratch);
        return 1;
    }
    free(scratch);
    message[0] = '\0';
    snprintf(code, code_len, "HTTP %ld", status);
    return 0;
}

/* ---- credential_process output ---- */

static const char *json_text(json_t *o, const char *name)
{
    json_t *v = json_object_get(o, name);
    if (!json_is_string(v))
        return NULL;
    const char *s = json_string_value(v);
    return strlen(s) == json_string_length(v) ? s : NULL;
}

static char *dup_secret(const struct ei_host *h, const char *s)
{
    size_t n = strlen(s);
    char *p = h->secret_alloc(h, n + 1);
    if (p != NULL)
        memcpy(p, s, n + 1);
    return p;
}

enum ei_status ei_aws_parse_process(const struct ei_host *host,
                                    const char *body, size_t len,
                                    const char *locator,
                                    struct ei_aws_creds *out,
                                    struct ei_error *err)
{
    json_error_t je;
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    enum ei_status st = EI_OK;
    if (doc == NULL) {
        return host->error(host, err, EI_BADDATA, 0, locator,
                           "credential_process output is not JSON (error at "
                           "line %d, column %d)",
                           je.line, je.column);
    }
    json_t *ver = json_object_get(doc, "Version");
    const char *akid = json_text(doc, "AccessKeyId");
    const char *sk = json_text(doc, "SecretAccessKey");
    json_t *tokv = json_object_get(doc, "SessionToken");
    json_t *expv = json_object_get(doc, "Expiration");
    const char *tok = json_text(doc, "SessionToken");
    const char *exps = json_text(doc, "Expiration");
    int64_t exp = 0;
    if (!json_is_object(doc))
        st = host->error(host, err, EI_BADDATA, 0, locator,
                         "credential_process output is not a JSON object");
    else if (!json_is_integer(ver) || json_integer_value(ver) != 1)
        st = host->error(host, err, EI_BADDATA, 0, locator,
                         "credential_process output must have \"Version\": 1");
    else if (akid == NULL || sk == NULL)
        st = host->error(host, err, EI_BADDATA, 0, locator,
                         "credential_process output without %s (a string)",
                         akid == NULL ? "AccessKeyId" : "SecretAccessKey");
    else if ((tokv != NULL && !json_is_null(tokv) && tok == NULL) ||
             (expv != NULL && !json_is_null(expv) && exps == NULL))
        st = host->error(host, err, EI_BADDATA, 0, locator,
                         "credential_process output: %s must be a string",
                         tok == NULL && tokv != NULL && !json_is_null(tokv)
                             ? "SessionToken"
                             : "Expiration");
    else if (!alnum(akid) || !printable(sk) ||
             (tok != NULL && *tok != '\0' && !printable(tok)))
        st = host->error(host, err, EI_BADDATA, 0, locator,
                         "malformed credentials in the credential_process "
                         "output (an access key id is letters and digits, "
                         "keys and tokens have no blanks)");
    else if (exps != NULL && ei_aws_parse_time(exps, strlen(exps), &exp) < 0)
        st = host->error(host, err, EI_BADDATA, 0, locator,
                         "credential_process output: Expiration is not an "
                         "ISO 8601 time");
    if (st == EI_OK) {
        out->access_key_id = dup_secret(host, akid);
        out->secret_access_key = dup_secret(host, sk);
        if (tok != NULL && *tok != '\0')
            out->session_token = dup_secret(host, tok);
        out->expires = exp;
        if (out->access_key_id == NULL || out->secret_access_key == NULL ||
            (tok != NULL && *tok != '\0' && out->session_token == NULL)) {
            ei_aws_creds_clear(host, out);
            st =
                host->error(host, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
        }
    }
    json_decref(doc);
    return st;
}
