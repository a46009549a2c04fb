/* SPDX-License-Identifier: MIT */
/* The region, endpoint and credential chain of the AWS SDKs, and the signed
   JSON 1.1 call that every AWS provider makes. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "creds.h"
#include "sigv4.h"
#include "sts.h"

#define AWS_REGION_MAX     64
#define AWS_PROFILE_MAX    128
#define AWS_URL_MAX        2048
#define AWS_KEY_ID_MAX     128
#define AWS_ROLE_MAX       128
#define AWS_TARGET_MAX     128
#define AWS_MESSAGE_SHOW   120 /* bytes of an AWS error message shown */
#define AWS_BACKOFF_BASE   50  /* ms */
#define AWS_BACKOFF_CAP    2000
#define AWS_SLEEP_MARGIN   20 /* ms kept for the request after a back-off */
#define AWS_JSON_TYPE      "Content-Type: application/x-amz-json-1.1"
#define AWS_ECS_HOST       "http://169.254.170.2"
#define AWS_IMDS_HOST      "http://169.254.169.254"
#define AWS_IMDS_HOST6     "http://[fd00:ec2::254]"
#define AWS_IMDS_PROBE_MS  1000 /* botocore's IMDS timeout: not on EC2 */
#define AWS_IMDS_TTL       "X-aws-ec2-metadata-token-ttl-seconds: 21600"
#define AWS_IMDS_TOKEN_HDR "X-aws-ec2-metadata-token: "
#define AWS_IMDS_ROLES     "/latest/meta-data/iam/security-credentials/"
#define AWS_IMDS_TOKEN     "/latest/api/token"

/* What the chain learnt about sources that gave nothing, for the final
   "no credentials" message. */
struct aws_tried {
    char files[EI_AWS_SOURCE_LEN];
    const char *imds; /* "disabled", "unreachable", ... */
};

struct ei_aws {
    const struct ei_host *host;
    const struct ei_aws_service *svc;
    const char *host_prefix; /* the endpoint's, when not svc->name */
    const char *profile_opt; /* the option naming the profile */
    char region[AWS_REGION_MAX + 1];   /* "" until known */
    const char *region_from;           /* what set it, for messages */
    char *endpoint;                    /* base URL, NULL until known */
    char host_header[AWS_URL_MAX + 1]; /* authority sent as Host */
    char profile[AWS_PROFILE_MAX + 1];
    bool profile_option; /* set by the layer: skips the environment */
    bool profile_env;    /* set by AWS_PROFILE: must exist */
    struct ei_http *http;
    bool resolved;
    struct ei_aws_creds creds;
    struct aws_tried tried;
    struct ei_http *sts;            /* STS client, once needed */
    char sts_base[AWS_URL_MAX + 1]; /* its base URL */
    char sts_host[AWS_URL_MAX + 1]; /* and authority, for signing */
};

/* ---- small helpers ---- */

static const char *env_nonempty(const struct ei_host *h, const char *name)
{
    const char *v = h->env_get(h, name);
    return v != NULL && v[0] != '\0' ? v : NULL;
}

static char *secret_dup(const struct ei_host *h, const char *s, size_t n)
{
    char *p = h->secret_alloc(h, n + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static void secret_drop(const struct ei_host *h, char **p)
{
    if (*p != NULL) {
        size_t n = strlen(*p) + 1;
        sodium_memzero(*p, n);
        h->secret_free(h, *p, n);
        *p = NULL;
    }
}

void ei_aws_creds_clear(const struct ei_host *host, struct ei_aws_creds *creds)
{
    secret_drop(host, &creds->access_key_id);
    secret_drop(host, &creds->secret_access_key);
    secret_drop(host, &creds->session_token);
    creds->source[0] = '\0';
    creds->expires = 0;
}

static bool region_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > AWS_REGION_MAX)
        return false;
    for (; *s != '\0'; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '-'))
            return false;
    return true;
}

bool ei_aws_token_valid(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
            return false;
    return true;
}

bool ei_aws_key_id_valid(const char *s, size_t n)
{
    if (n == 0 || n > AWS_KEY_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= '0' && s[i] <= '9')))
            return false;
    return true;
}

/*
 * Split an http(s) URL into its base (scheme://authority) and the rest.
 * Fills base (room base_len) and, when authority is not NULL, the
 * authority without a default port.  -1 when malformed.
 */
static int url_split(const char *url, char *base, size_t base_len,
                     char *authority, size_t auth_len, const char **rest)
{
    size_t skip;
    bool tls;
    if (strncasecmp(url, "http://", 7) == 0) {
        skip = 7;
        tls = false;
    } else if (strncasecmp(url, "https://", 8) == 0) {
        skip = 8;
        tls = true;
    } else {
        return -1;
    }
    size_t alen = strcspn(url + skip, "/?#");
    if (alen == 0 || memchr(url + skip, '@', alen) != NULL ||
        skip + alen >= base_len)
        return -1;
    for (size_t i = 0; i < skip + alen; i++)
        if ((unsigned char)url[i] <= ' ' || (unsigned char)url[i] >= 0x7f)
            return -1;
    memcpy(base, url, skip + alen);
    base[skip + alen] = '\0';
    if (authority != NULL) {
        const char *dflt = tls ? ":443" : ":80";
        size_t dl = strlen(dflt);
        size_t n = alen;
        if (n > dl && strncmp(url + skip + n - dl, dflt, dl) == 0)
            n -= dl;
        if (n >= auth_len)
            return -1;
        memcpy(authority, url + skip, n);
        authority[n] = '\0';
    }
    *rest = url + skip + alen;
    return 0;
}

/* The host of a base URL, without brackets or port, into out. */
static void url_host(const char *base, char *out, size_t out_len)
{
    const char *a = strstr(base, "://");
    a = a != NULL ? a + 3 : base;
    size_t n;
    if (*a == '[') {
        a++;
        n = strcspn(a, "]");
    } else {
        n = strcspn(a, ":");
    }
    if (n >= out_len)
        n = out_len - 1;
    memcpy(out, a, n);
    out[n] = '\0';
}

/* Hosts botocore lets a container credential URI use over plain http. */
static bool container_host_allowed(const char *base)
{
    char host[AWS_URL_MAX + 1];
    url_host(base, host, sizeof(host));
    if (strcasecmp(host, "localhost") == 0 ||
        strcmp(host, "169.254.170.2") == 0 ||
        strcmp(host, "169.254.170.23") == 0)
        return true;
    struct in_addr a4;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    struct in6_addr a6;
    if (inet_pton(AF_INET6, host, &a6) == 1) {
        struct in6_addr ecs;
        inet_pton(AF_INET6, "fd00:ec2::23", &ecs);
        return IN6_IS_ADDR_LOOPBACK(&a6) || memcmp(&a6, &ecs, sizeof(a6)) == 0;
    }
    return false;
}

/* ---- configure ---- */

/* The layer option that names the shared-file profile. */
static const char *aws_profile_opt(const struct ei_aws *a)
{
    return a->profile_opt != NULL ? a->profile_opt : "profile";
}

static enum ei_status aws_set_endpoint(struct ei_aws *a, const char *url,
                                       const char *from, struct ei_error *err)
{
    const struct ei_host *h = a->host;
    char base[AWS_URL_MAX + 1];
    const char *rest;
    if (strlen(url) > AWS_URL_MAX ||
        url_split(url, base, sizeof(base), a->host_header,
                  sizeof(a->host_header), &rest) < 0 ||
        (rest[0] != '\0' && strcmp(rest, "/") != 0))
        return h->error(h, err, EI_BADCONFIG, 0, from,
                        "endpoint must be http(s)://HOST[:PORT] with no "
                        "path, query or user name");
    a->endpoint = strdup(base);
    if (a->endpoint == NULL)
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    return EI_OK;
}

/* The service's client, once the endpoint is known. */
static enum ei_status aws_open_service(struct ei_aws *a, struct ei_error *err)
{
    const struct ei_host *h = a->host;
    if (a->endpoint == NULL) {
        char url[AWS_URL_MAX + 1];
        /* the China partition has its own domain */
        const char *dom = strncmp(a->region, "cn-", 3) == 0 ? "amazonaws.com.cn"
                                                            : "amazonaws.com";
        snprintf(url, sizeof(url), "https://%s.%s.%s",
                 a->host_prefix != NULL ? a->host_prefix : a->svc->name,
                 a->region, dom);
        enum ei_status st = aws_set_endpoint(a, url, "region", err);
        if (st != EI_OK)
            return st;
    }
    const char *eps[] = {a->endpoint, NULL};
    return h->http_open(h, eps, 1, &a->http, err);
}

enum ei_status ei_aws_open(const struct ei_host *host,
                           const struct ei_aws_service *svc,
                           struct ei_aws **out, struct ei_error *err)
{
    return ei_aws_open_as(host, svc, NULL, NULL, out, err);
}

enum ei_status ei_aws_open_as(const struct ei_host *host,
                              const struct ei_aws_service *svc,
                              const char *host_prefix, const char *profile_opt,
                              struct ei_aws **out, struct ei_error *err)
{
    *out = NULL;
    enum ei_status host_ok = EI_HOST_REQUIRE_HTTP(host, err);
    if (host_ok == EI_OK)
        host_ok = EI_HOST_REQUIRE(host, safe_text, err);
    if (host_ok != EI_OK)
        return host_ok;
    struct ei_aws *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return host->error(host, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    a->host = host;
    a->svc = svc;
    a->host_prefix = host_prefix;
    a->profile_opt = profile_opt;
    enum ei_status st = EI_OK;

    const char *region = NULL;
    int rc = host->opt_string(host, "region", &region, err);
    a->region_from = "region";
    if (rc < 0) {
        st = ei_error_status(err, EI_BADCONFIG);
        goto fail;
    }
    if (rc == 0) {
        static const char *const vars[] = {"AWS_REGION", "AWS_DEFAULT_REGION"};
        for (size_t i = 0; i < 2 && region == NULL; i++) {
            region = env_nonempty(host, vars[i]);
            a->region_from = vars[i];
        }
    }
    if (region != NULL) {
        if (!region_valid(region)) {
            st = host->error(host, err, EI_BADCONFIG, 0, a->region_from,
                             "region must be letters, digits and '-' "
                             "(like us-east-1)");
            goto fail;
        }
        snprintf(a->region, sizeof(a->region), "%s", region);
    }

    const char *profile = NULL;
    rc = host->opt_string(host, aws_profile_opt(a), &profile, err);
    if (rc < 0) {
        st = ei_error_status(err, EI_BADCONFIG);
        goto fail;
    }
    a->profile_option = rc > 0;
    if (rc == 0) {
        profile = env_nonempty(host, "AWS_PROFILE");
        a->profile_env = profile != NULL;
    }
    if (profile == NULL)
        profile = "default";
    if (profile[0] == '\0' || strlen(profile) > AWS_PROFILE_MAX ||
        strpbrk(profile, "[]\r\n") != NULL) {
        st = host->error(host, err, EI_BADCONFIG, 0,
                         a->profile_option ? aws_profile_opt(a)
                                           : "AWS_PROFILE",
                         "profile must be a name of at most %d bytes "
                         "without brackets or line breaks",
                         AWS_PROFILE_MAX);
        goto fail;
    }
    snprintf(a->profile, sizeof(a->profile), "%s", profile);

    const char *endpoint = NULL;
    const char *from = "endpoint";
    rc = host->opt_string(host, "endpoint", &endpoint, err);
    if (rc < 0) {
        st = ei_error_status(err, EI_BADCONFIG);
        goto fail;
    }
    if (rc == 0) {
        /* the SDKs' endpoint variables: the service's own, then the
           general one */
        endpoint = env_nonempty(host, svc->endpoint_env);
        from = svc->endpoint_env;
        if (endpoint == NULL) {
            endpoint = env_nonempty(host, "AWS_ENDPOINT_URL");
            from = "AWS_ENDPOINT_URL";
        }
    }
    if (endpoint != NULL) {
        st = aws_set_endpoint(a, endpoint, from, err);
        if (st != EI_OK)
            goto fail;
    }
    /* without a region yet, the endpoint waits for the profile's region */
    if (a->region[0] != '\0') {
        st = aws_open_service(a, err);
        if (st != EI_OK)
            goto fail;
    }
    *out = a;
    return EI_OK;
fail:
    ei_aws_close(a);
    return st;
}

void ei_aws_close(struct ei_aws *a)
{
    if (a == NULL)
        return;
    ei_aws_creds_clear(a->host, &a->creds);
    free(a->endpoint);
    sodium_memzero(a, sizeof(*a));
    free(a);
}

const struct ei_aws_creds *ei_aws_credentials(const struct ei_aws *a)
{
    return a->resolved ? &a->creds : NULL;
}

const char *ei_aws_region(const struct ei_aws *a)
{
    return a->region;
}

const char *ei_aws_endpoint(const struct ei_aws *a)
{
    return a->endpoint;
}

struct ei_http *ei_aws_http(const struct ei_aws *a)
{
    return a->http;
}

/* ---- shared files ---- */

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static void trim(const char **s, const char **e)
{
    while (*s < *e && blank(**s))
        (*s)++;
    while (*e > *s && blank((*e)[-1]))
        (*e)--;
}

static bool section_matches(const char *s, const char *e, bool config,
                            const char *profile)
{
    size_t plen = strlen(profile);
    if (!config)
        return (size_t)(e - s) == plen && memcmp(s, profile, plen) == 0;
    if (strcmp(profile, "default") == 0 && e - s == 7 &&
        memcmp(s, "default", 7) == 0)
        return true;
    if (e - s < 8 || memcmp(s, "profile", 7) != 0 || !blank(s[7]))
        return false;
    s += 7;
    trim(&s, &e);
    return (size_t)(e - s) == plen && memcmp(s, profile, plen) == 0;
}

int ei_aws_ini_find(const char *buf, size_t len, bool config,
                    const char *profile, const char *key, const char **val,
                    size_t *val_len)
{
    const char *p = buf, *end = buf + len;
    bool in = false;
    int found = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *s = p, *e = nl != NULL ? nl : end;
        p = nl != NULL ? nl + 1 : end;
        bool indented = s < e && blank(*s) && *s != '\r';
        trim(&s, &e);
        if (s == e || *s == '#' || *s == ';')
            continue;
        if (*s == '[' && !indented) {
            if (e[-1] != ']' || e - s < 2) {
                in = false;
                continue;
            }
            const char *is = s + 1, *ie = e - 1;
            trim(&is, &ie);
            in = is < ie && section_matches(is, ie, config, profile);
            if (in && key == NULL)
                found = 1;
            continue;
        }
        /* an indented line continues a value or belongs to a nested
           group ("s3 =" and its settings): never one of ours */
        if (!in || indented || key == NULL)
            continue;
        const char *eq = s;
        while (eq < e && *eq != '=' && *eq != ':')
            eq++;
        if (eq == e)
            continue;
        const char *ks = s, *ke = eq, *vs = eq + 1, *ve = e;
        trim(&ks, &ke);
        trim(&vs, &ve);
        size_t klen = strlen(key);
        if ((size_t)(ke - ks) == klen && strncasecmp(ks, key, klen) == 0) {
            *val = vs;
            *val_len = (size_t)(ve - vs);
            found = 1;
        }
    }
    return found;
}

/* A file name from a variable, or HOME/.aws/NAME; "~/" expanded as the
   SDKs do.  0 with out filled, -1 when there is none. */
static int aws_file_path(const struct ei_host *h, const char *var,
                         const char *name, char *out, size_t out_len)
{
    const char *v = env_nonempty(h, var);
    const char *home = env_nonempty(h, "HOME");
    int n;
    if (v != NULL && strncmp(v, "~/", 2) == 0 && home != NULL)
        n = snprintf(out, out_len, "%s/%s", home, v + 2);
    else if (v != NULL)
        n = snprintf(out, out_len, "%s", v);
    else if (home != NULL)
        n = snprintf(out, out_len, "%s/.aws/%s", home, name);
    else
        return -1;
    return n > 0 && (size_t)n < out_len ? 0 : -1;
}

struct aws_file {
    char path[AWS_URL_MAX + 1];
    struct ei_buf buf;
    bool present; /* read and found */
};

static enum ei_status aws_file_read(struct ei_aws *a, const char *var,
                                    const char *name, struct aws_file *f,
                                    struct ei_error *err)
{
    const struct ei_host *h = a->host;
    memset(&f->buf, 0, sizeof(f->buf));
    f->present = false;
    if (aws_file_path(h, var, name, f->path, sizeof(f->path)) < 0) {
        snprintf(f->path, sizeof(f->path), "~/.aws/%s", name);
        return EI_OK;
    }
    struct ei_error tmp = {0};
    enum ei_status st = h->read_file(h, f->path, EI_READ_SECRET, &f->buf, &tmp);
    if (st == EI_NOTFOUND)
        return EI_OK;
    if (st != EI_OK) {
        if (err != NULL && err->status == EI_OK)
            *err = tmp;
        return st;
    }
    f->present = true;
    return EI_OK;
}

static void aws_file_free(struct ei_aws *a, struct aws_file *f)
{
    if (f->present)
        a->host->buf_free(a->host, &f->buf);
    f->present = false;
}

/*
 * The static (or session) keys of a profile in one shared file.  EI_OK
 * with *found set or not; EI_DENIED for a half-given pair or malformed
 * keys.
 */
static enum ei_status static_keys(struct ei_aws *a, struct aws_file *f,
                                  bool config, const char *profile,
                                  struct ei_aws_creds *out, bool *found,
                                  struct ei_error *err)
{
    const struct ei_host *h = a->host;
    *found = false;
    if (!f->present)
        return EI_OK;
    const char *buf = f->buf.data;
    size_t len = f->buf.len;
    const char *akid = NULL, *sk = NULL, *tok = NULL;
    size_t akid_n = 0, sk_n = 0, tok_n = 0;
    bool has_akid = ei_aws_ini_find(buf, len, config, profile,
                                    "aws_access_key_id", &akid, &akid_n) &&
                    akid_n > 0;
    bool has_sk = ei_aws_ini_find(buf, len, config, profile,
                                  "aws_secret_access_key", &sk, &sk_n) &&
                  sk_n > 0;
    if (!(ei_aws_ini_find(buf, len, config, profile, "aws_session_token", &tok,
                          &tok_n) &&
          tok_n > 0) &&
        !(ei_aws_ini_find(buf, len, config, profile, "aws_security_token", &tok,
                          &tok_n) &&
          tok_n > 0))
        tok = NULL;
    if (!has_akid && !has_sk)
        return EI_OK;
    if (!has_akid || !has_sk)
        return h->error(
            h, err, EI_DENIED, 0, f->path, "profile %s has %s but not %s",
            profile, has_akid ? "aws_access_key_id" : "aws_secret_access_key",
            has_akid ? "aws_secret_access_key" : "aws_access_key_id");
    if (!ei_aws_key_id_valid(akid, akid_n) || !ei_aws_token_valid(sk, sk_n) ||
        (tok != NULL && !ei_aws_token_valid(tok, tok_n)))
        return h->error(h, err, EI_DENIED, 0, f->path,
                        "profile %s: malformed credentials (an access key id "
                        "is letters and digits, keys and tokens have no "
                        "blanks)",
                        profile);
    out->access_key_id = secret_dup(h, akid, akid_n);
    out->secret_access_key = secret_dup(h, sk, sk_n);
    if (tok != NULL)
        out->session_token = secret_dup(h, tok, tok_n);
    if (out->access_key_id == NULL || out->secret_access_key == NULL ||
        (tok != NULL && out->session_token == NULL)) {
        ei_aws_creds_clear(h, out);
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    }
    snprintf(out->source, sizeof(out->source),
             "the shared %s file %.100s (profile %.40s)",
             config ? "config" : "credentials", f->path, profile);
    *found = true;
    return EI_OK;
}

/* ---- the environment ---- */

static enum ei_status creds_from_env(struct ei_aws *a, struct ei_aws_creds *out,
                                     bool *found, struct ei_error *err)
{
    const struct ei_host *h = a->host;
    *found = false;
    const char *akid = env_nonempty(h, "AWS_ACCESS_KEY_ID");
    const char *sk = env_nonempty(h, "AWS_SECRET_ACCESS_KEY");
    const char *tok = env_nonempty(h, "AWS_SESSION_TOKEN");
    if (tok == NULL)
        tok = env_nonempty(h, "AWS_SECURITY_TOKEN");
    if (akid == NULL && sk == NULL)
        return EI_OK;
    if (akid == NULL || sk == NULL)
        return h->error(h, err, EI_DENIED, 0,
                        akid ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID",
                        "%s is set but %s is not",
                        akid ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                        akid ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
    if (!ei_aws_key_id_valid(akid, strlen(akid)) ||
        !ei_aws_token_valid(sk, strlen(sk)) ||
        (tok != NULL && !ei_aws_token_valid(tok, strlen(tok))))
        return h->error(h, err, EI_DENIED, 0, "AWS_ACCESS_KEY_ID",
                        "malformed credentials in the environment (an "
                        "access key id is letters and digits, keys and "
                        "tokens have no blanks)");
    /* the SDKs' expiry of exported temporary credentials: fetched anew
       (read again) when it comes */
    const char *exp = env_nonempty(h, "AWS_CREDENTIAL_EXPIRATION");
    int64_t expires = 0;
    if (exp != NULL && ei_aws_parse_time(exp, strlen(exp), &expires) < 0)
        return h->error(h, err, EI_BADCONFIG, 0, "AWS_CREDENTIAL_EXPIRATION",
                        "not an ISO 8601 time (like 2030-01-01T00:00:00Z)");
    out->access_key_id = secret_dup(h, akid, strlen(akid));
    out->secret_access_key = secret_dup(h, sk, strlen(sk));
    if (tok != NULL)
        out->session_token = secret_dup(h, tok, strlen(tok));
    if (out->access_key_id == NULL || out->secret_access_key == NULL ||
        (tok != NULL && out->session_token == NULL)) {
        ei_aws_creds_clear(h, out);
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    }
    out->expires = expires;
    snprintf(out->source, sizeof(out->source),
             "the environment (AWS_ACCESS_KEY_ID%s)",
             tok != NULL ? ", AWS_SESSION_TOKEN" : "");
    *found = true;
    return EI_OK;
}

/* ---- credential documents (container, instance metadata) ---- */

static const char *json_str(json_t *o, const char *name, size_t *len)
{
    json_t *v = json_object_get(o, name);
    if (!json_is_string(v))
        return NULL;
    *len = json_string_length(v);
    const char *s = json_string_value(v);
    /* a "\u0000" inside would cut the C string short */
    return strlen(s) == *len ? s : NULL;
}

enum ei_status ei_aws_parse_creds(const struct ei_host *host, const char *body,
                                  size_t len, bool imds, const char *locator,
                                  struct ei_aws_creds *out,
                                  struct ei_error *err)
{
    json_error_t je;
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (doc == NULL || !json_is_object(doc)) {
        enum ei_status st =
            doc == NULL
                ? host->error(host, err, EI_BADDATA, 0, locator,
                              "malformed credentials document (JSON error "
                              "at line %d, column %d)",
                              je.line, je.column)
                : host->error(host, err, EI_BADDATA, 0, locator,
                              "malformed credentials document (not a JSON "
                              "object)");
        json_decref(doc);
        return st;
    }
    enum ei_status st = EI_OK;
    int64_t expires = 0;
    size_t code_n = 0, akid_n = 0, sk_n = 0, tok_n = 0, exp_n = 0;
    const char *code = json_str(doc, "Code", &code_n);
    const char *akid = json_str(doc, "AccessKeyId", &akid_n);
    const char *sk = json_str(doc, "SecretAccessKey", &sk_n);
    const char *tok = json_str(doc, "Token", &tok_n);
    const char *exp = json_str(doc, "Expiration", &exp_n);
    if (imds && code != NULL && strcmp(code, "Success") != 0) {
        bool plain = code_n <= EI_AWS_CODE_LEN;
        for (size_t i = 0; plain && i < code_n; i++)
            plain = code[i] > ' ' && code[i] < 0x7f;
        st = host->error(host, err, EI_DENIED, 0, locator,
                         "instance metadata returned no credentials "
                         "(Code %s)",
                         plain ? code : "?");
    } else if (akid == NULL || sk == NULL ||
               (imds && (tok == NULL || exp == NULL))) {
        st = host->error(host, err, EI_BADDATA, 0, locator,
                         "credentials document without %s",
                         akid == NULL  ? "AccessKeyId"
                         : sk == NULL  ? "SecretAccessKey"
                         : tok == NULL ? "Token"
                                       : "Expiration");
    } else if (!ei_aws_key_id_valid(akid, akid_n) ||
               !ei_aws_token_valid(sk, sk_n) ||
               (tok != NULL && tok_n > 0 && !ei_aws_token_valid(tok, tok_n))) {
        st = host->error(host, err, EI_BADDATA, 0, locator,
                         "malformed credentials in the credentials document");
    } else if (exp != NULL && ei_aws_parse_time(exp, exp_n, &expires) < 0) {
        st = host->error(host, err, EI_BADDATA, 0, locator,
                         "malformed Expiration in the credentials document");
    } else {
        out->expires = expires;
        out->access_key_id = secret_dup(host, akid, akid_n);
        out->secret_access_key = secret_dup(host, sk, sk_n);
        if (tok != NULL && tok_n > 0)
            out->session_token = secret_dup(host, tok, tok_n);
        if (out->access_key_id == NULL || out->secret_access_key == NULL ||
            (tok != NULL && tok_n > 0 && out->session_token == NULL)) {
            ei_aws_creds_clear(host, out);
            st =
                host->error(host, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
        }
    }
    json_decref(doc);
    return st;
}

/* A deadline no later than ms from now (the host's clock, via dl). */
static void sub_deadline(const struct ei_host *h, const struct ei_deadline *dl,
                         int64_t ms, struct ei_deadline *out)
{
    int64_t left = h->remaining_ms(h, dl);
    *out = *dl;
    if (left > ms)
        out->end_ms = dl->end_ms - left + ms;
}

/* ---- container credentials ---- */

static enum ei_status container_token(struct ei_aws *a, char **token,
                                      struct ei_error *err)
{
    const struct ei_host *h = a->host;
    *token = NULL;
    const char *file =
        env_nonempty(h, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const char *var = env_nonempty(h, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
    const char *src = file != NULL ? file : "AWS_CONTAINER_AUTHORIZATION_TOKEN";
    struct ei_buf buf = {0};
    const char *v = var;
    size_t n = var != NULL ? strlen(var) : 0;
    if (file != NULL) {
        enum ei_status st = h->read_file(h, file, EI_READ_SECRET, &buf, err);
        if (st != EI_OK)
            return st;
        v = buf.data;
        n = buf.len;
    }
    if (v == NULL)
        return EI_OK;
    /* a token file written with echo ends in a newline: not part of it */
    while (n > 0 && (v[n - 1] == '\n' || v[n - 1] == '\r'))
        n--;
    enum ei_status st = EI_OK;
    if (n == 0 || memchr(v, '\n', n) != NULL || memchr(v, '\r', n) != NULL ||
        memchr(v, '\0', n) != NULL)
        st = h->error(h, err, EI_BADCONFIG, 0, src,
                      "the container authorization token is empty or holds "
                      "a line break");
    else if ((*token = secret_dup(h, v, n)) == NULL)
        st = h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    if (file != NULL)
        h->buf_free(h, &buf);
    return st;
}

static enum ei_status creds_from_container(struct ei_aws *a,
                                           const struct ei_deadline *dl,
                                           struct ei_aws_creds *out,
                                           bool *found, struct ei_error *err)
{
    const struct ei_host *h = a->host;
    *found = false;
    const char *rel = env_nonempty(h, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = env_nonempty(h, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
    if (rel == NULL && full == NULL)
        return EI_OK;
    char base[AWS_URL_MAX + 1];
    const char *path;
    const char *var = rel != NULL ? "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"
                                  : "AWS_CONTAINER_CREDENTIALS_FULL_URI";
    if (rel != NULL) {
        snprintf(base, sizeof(base), "%s", AWS_ECS_HOST);
        path = rel;
        if (path[0] != '/')
            return h->error(h, err, EI_BADCONFIG, 0, var,
                            "the relative URI must start with '/'");
    } else {
        if (strlen(full) > AWS_URL_MAX ||
            url_split(full, base, sizeof(base), NULL, 0, &path) < 0)
            return h->error(h, err, EI_BADCONFIG, 0, var,
                            "not an http:// or https:// URL");
        if (strncasecmp(base, "https://", 8) != 0 &&
            !container_host_allowed(base))
            return h->error(h, err, EI_BADCONFIG, 0, var,
                            "plain http is only allowed to loopback and the "
                            "container credential addresses (use https)");
        if (path[0] == '\0')
            path = "/";
        if (path[0] != '/')
            return h->error(h, err, EI_BADCONFIG, 0, var,
                            "the URL has no path");
    }
    for (const char *q = path; *q != '\0'; q++)
        if ((unsigned char)*q <= ' ' || (unsigned char)*q >= 0x7f ||
            *q == '#' || *q == '\\')
            return h->error(h, err, EI_BADCONFIG, 0, var,
                            "the URI has a blank, a control character, '#' "
                            "or '\\' at offset %zu",
                            (size_t)(q - path));
    char *token = NULL;
    enum ei_status st = container_token(a, &token, err);
    if (st != EI_OK)
        return st;
    const char *eps[] = {base, NULL};
    struct ei_http *c = NULL;
    st = h->http_open(h, eps, 1, &c, err);
    if (st != EI_OK) {
        secret_drop(h, &token);
        return st;
    }
    char *auth = NULL;
    if (token != NULL) {
        size_t n = strlen("Authorization: ") + strlen(token) + 1;
        auth = h->secret_alloc(h, n);
        if (auth != NULL)
            snprintf(auth, n, "Authorization: %s", token);
        secret_drop(h, &token);
        if (auth == NULL)
            return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    }
    const char *headers[] = {"Accept: application/json", auth, NULL};
    struct ei_http_request req = {.method = "GET",
                                  .path = path,
                                  .headers = headers,
                                  .flags = EI_HTTP_SECRET};
    struct ei_http_response resp = {0};
    st = h->http_request(c, &req, dl, &resp, err);
    secret_drop(h, &auth);
    if (st != EI_OK) {
        h->http_response_free(c, &resp);
        return st;
    }
    if (resp.status != 200) {
        st = h->error(h, err, EI_DENIED, 0, base,
                      "the container credentials endpoint answered HTTP %ld",
                      resp.status);
    } else {
        st = ei_aws_parse_creds(h, resp.body, resp.body_len, false, base, out,
                                err);
    }
    h->http_response_free(c, &resp);
    if (st != EI_OK)
        return st;
    snprintf(out->source, sizeof(out->source),
             "the container endpoint %.120s (%s)", base, var);
    *found = true;
    return EI_OK;
}

/* ---- EC2 instance metadata (IMDSv2) ---- */

static bool role_valid(const char *s, size_t n)
{
    if (n == 0 || n > AWS_ROLE_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || strchr("+=,.@_-", c) != NULL))
            return false;
    }
    return true;
}

struct imds {
    struct ei_aws *a;
    struct ei_http *c;
    const char *base;
    char *token_hdr; /* secret memory */
};

static enum ei_status imds_get(struct imds *m, const char *path,
                               const struct ei_deadline *dl,
                               struct ei_http_response *resp,
                               struct ei_error *err)
{
    const char *headers[] = {m->token_hdr, NULL};
    struct ei_http_request req = {.method = "GET",
                                  .path = path,
                                  .headers = headers,
                                  .flags = EI_HTTP_SECRET};
    return m->a->host->http_request(m->c, &req, dl, resp, err);
}

static enum ei_status creds_from_imds(struct ei_aws *a,
                                      const struct ei_deadline *dl,
                                      struct ei_aws_creds *out, bool *found,
                                      struct ei_error *err)
{
    const struct ei_host *h = a->host;
    *found = false;
    const char *off = env_nonempty(h, "AWS_EC2_METADATA_DISABLED");
    if (off != NULL && strcasecmp(off, "true") == 0) {
        a->tried.imds = "disabled by AWS_EC2_METADATA_DISABLED";
        return EI_OK;
    }
    char base[AWS_URL_MAX + 1];
    const char *ep = env_nonempty(h, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
    const char *mode =
        env_nonempty(h, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
    const char *rest = "";
    if (ep != NULL) {
        if (strlen(ep) > AWS_URL_MAX ||
            url_split(ep, base, sizeof(base), NULL, 0, &rest) < 0 ||
            (rest[0] != '\0' && strcmp(rest, "/") != 0))
            return h->error(h, err, EI_BADCONFIG, 0,
                            "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                            "not an http(s)://HOST[:PORT] URL");
    } else {
        snprintf(base, sizeof(base), "%s",
                 mode != NULL && strcasecmp(mode, "IPv6") == 0 ? AWS_IMDS_HOST6
                                                               : AWS_IMDS_HOST);
    }
    struct imds m = {.a = a, .base = base};
    const char *eps[] = {base, NULL};
    enum ei_status st = h->http_open(h, eps, 1, &m.c, err);
    if (st != EI_OK)
        return st;

    /* off EC2 nothing answers: a short wait, then "no credentials" */
    struct ei_deadline probe;
    sub_deadline(h, dl, AWS_IMDS_PROBE_MS, &probe);
    const char *put_headers[] = {AWS_IMDS_TTL, NULL};
    struct ei_http_request put = {.method = "PUT",
                                  .path = AWS_IMDS_TOKEN,
                                  .headers = put_headers,
                                  .flags = EI_HTTP_SECRET | EI_HTTP_NORETRY};
    struct ei_http_response resp = {0};
    struct ei_error quiet = {0};
    st = h->http_request(m.c, &put, &probe, &resp, &quiet);
    if (st == EI_UNAVAILABLE) {
        h->http_response_free(m.c, &resp);
        a->tried.imds = "unreachable";
        h->log(h, EI_LOG_DEBUG, "instance metadata at %s unreachable: %s", base,
               quiet.text);
        return EI_OK;
    }
    if (st != EI_OK) {
        h->http_response_free(m.c, &resp);
        if (err != NULL && err->status == EI_OK)
            *err = quiet;
        return st;
    }
    if (resp.status != 200) {
        long status = resp.status;
        h->http_response_free(m.c, &resp);
        return h->error(h, err, EI_DENIED, 0, base,
                        "instance metadata refused an IMDSv2 token (HTTP "
                        "%ld)",
                        status);
    }
    size_t tn = resp.body_len;
    while (tn > 0 && (resp.body[tn - 1] == '\n' || resp.body[tn - 1] == '\r'))
        tn--;
    if (!ei_aws_token_valid(resp.body, tn)) {
        h->http_response_free(m.c, &resp);
        return h->error(h, err, EI_BADDATA, 0, base,
                        "malformed IMDSv2 token (%zu bytes)", tn);
    }
    size_t hl = strlen(AWS_IMDS_TOKEN_HDR) + tn + 1;
    m.token_hdr = h->secret_alloc(h, hl);
    if (m.token_hdr != NULL)
        snprintf(m.token_hdr, hl, "%s%.*s", AWS_IMDS_TOKEN_HDR, (int)tn,
                 resp.body);
    h->http_response_free(m.c, &resp);
    if (m.token_hdr == NULL)
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");

    char path[sizeof(AWS_IMDS_ROLES) + AWS_ROLE_MAX + 1];
    char role[AWS_ROLE_MAX + 1] = "";
    st = imds_get(&m, AWS_IMDS_ROLES, dl, &resp, err);
    if (st == EI_OK && resp.status == 404) {
        st = h->error(h, err, EI_DENIED, 0, base,
                      "no IAM role is attached to this instance (instance "
                      "metadata answered HTTP 404)");
    } else if (st == EI_OK && resp.status != 200) {
        st = h->error(h, err, EI_DENIED, 0, base,
                      "instance metadata refused the role list (HTTP %ld)",
                      resp.status);
    } else if (st == EI_OK) {
        /* the first line names the role */
        size_t n = strcspn(resp.body, "\r\n");
        if (!role_valid(resp.body, n)) {
            st = h->error(h, err, EI_BADDATA, 0, base,
                          "malformed role name in instance metadata (%zu "
                          "bytes)",
                          n);
        } else {
            memcpy(role, resp.body, n);
            role[n] = '\0';
            snprintf(path, sizeof(path), "%s%s", AWS_IMDS_ROLES, role);
        }
    }
    h->http_response_free(m.c, &resp);
    if (st == EI_OK) {
        st = imds_get(&m, path, dl, &resp, err);
        if (st == EI_OK && resp.status != 200)
            st = h->error(h, err, EI_DENIED, 0, base,
                          "instance metadata refused the credentials of role "
                          "%s (HTTP %ld)",
                          role, resp.status);
        else if (st == EI_OK)
            st = ei_aws_parse_creds(h, resp.body, resp.body_len, true, base,
                                    out, err);
        h->http_response_free(m.c, &resp);
    }
    secret_drop(h, &m.token_hdr);
    if (st != EI_OK)
        return st;
    snprintf(out->source, sizeof(out->source),
             "instance metadata %.100s (role %.64s)", base, role);
    *found = true;
    return EI_OK;
}

/* ---- the JSON 1.1 call ---- */

/* "com.amazonaws.secretsmanager#ResourceNotFoundException" and
   "Code:http://..." both reduce to the bare code; false when t holds no
   code made of [A-Za-z0-9_.-] that fits. */
static bool aws_code_clean(const char *t, char *code, size_t code_len)
{
    const char *hash = strrchr(t, '#');
    if (hash != NULL)
        t = hash + 1;
    size_t n = strcspn(t, ":");
    bool ok = n > 0 && n < code_len;
    for (size_t i = 0; ok && i < n; i++) {
        char c = t[i];
        ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
             (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    }
    if (ok) {
        memcpy(code, t, n);
        code[n] = '\0';
    }
    return ok;
}

int ei_aws_error_code(const char *body, size_t len, long status, char *code,
                      size_t code_len)
{
    json_t *doc = body != NULL ? json_loadb(body, len, 0, NULL) : NULL;
    const char *t = NULL;
    if (json_is_object(doc)) {
        json_t *v = json_object_get(doc, "__type");
        if (!json_is_string(v))
            v = json_object_get(doc, "code");
        if (json_is_string(v))
            t = json_string_value(v);
    }
    if (t != NULL && aws_code_clean(t, code, code_len)) {
        json_decref(doc);
        return 1;
    }
    json_decref(doc);
    snprintf(code, code_len, "HTTP %ld", status);
    return 0;
}

/* The "message" (or "Message") of an error response, or NULL; *doc must
   be released by the caller. */
static const char *aws_message(const char *body, size_t len, json_t **doc)
{
    *doc = body != NULL ? json_loadb(body, len, 0, NULL) : NULL;
    json_t *m = json_object_get(*doc, "message");
    if (!json_is_string(m))
        m = json_object_get(*doc, "Message");
    return json_is_string(m) ? json_string_value(m) : NULL;
}

static const char *const aws_throttle_codes[] = {
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    NULL};

struct aws_error_map {
    const char *code;
    enum ei_status status;
    const char *text;
    bool creds;   /* name the credential source */
    bool message; /* show AWS's message */
};

static const struct aws_error_map aws_errors[] = {
    {"InvalidSignatureException", EI_DENIED, "signature rejected", true, false},
    {"SignatureDoesNotMatch", EI_DENIED, "signature rejected", true, false},
    {"IncompleteSignature", EI_DENIED, "signature rejected as incomplete", true,
     false},
    {"MissingAuthenticationToken", EI_DENIED, "request not signed", true,
     false},
    {"InvalidClientTokenId", EI_DENIED, "access key unknown", true, false},
    {"UnrecognizedClientException", EI_DENIED,
     "access key or session token unknown", true, false},
    {"ExpiredTokenException", EI_DENIED, "session token expired", true, false},
    {"ExpiredToken", EI_DENIED, "session token expired", true, false},
    {"RequestExpired", EI_DENIED, "request expired (is the clock right?)", true,
     false},
    {"AccessDeniedException", EI_DENIED, "access denied", true, true},
    {"AccessDenied", EI_DENIED, "access denied", true, true},
    {"DecryptionFailure", EI_DENIED, "cannot decrypt (KMS key access)", true,
     true},
    {"ResourceNotFoundException", EI_NOTFOUND, "not found", false, false},
    {"BadRequestException", EI_BADDATA, "request refused", false, true},
    {"ParameterNotFound", EI_NOTFOUND, "not found", false, false},
    {"ValidationException", EI_BADCONFIG, "request refused as invalid", false,
     true},
    {"InvalidParameterException", EI_BADCONFIG, "request refused as invalid",
     false, true},
    {"InvalidRequestException", EI_BADCONFIG, "request refused", false, true},
    {"InternalServiceError", EI_UNAVAILABLE, "service error", false, false},
    {"InternalFailure", EI_UNAVAILABLE, "service error", false, false},
    {"InternalServerError", EI_UNAVAILABLE, "service error", false, false},
    {"ServiceUnavailable", EI_UNAVAILABLE, "service unavailable", false, false},
    /* STS */
    {"InvalidIdentityToken", EI_DENIED, "web identity token refused", false,
     true},
    {"IDPRejectedClaim", EI_DENIED, "identity provider claim rejected", false,
     true},
    {"IDPCommunicationError", EI_UNAVAILABLE,
     "identity provider unreachable from STS", false, true},
    {"RegionDisabledException", EI_BADCONFIG,
     "STS is not activated in this region", false, true},
    {"ValidationError", EI_BADCONFIG, "request refused as invalid", false,
     true},
    {"MalformedPolicyDocument", EI_BADCONFIG, "policy refused", false, true},
    {"PackedPolicyTooLarge", EI_BADCONFIG, "policy refused", false, true},
};

static bool aws_throttled(const char *code)
{
    for (size_t i = 0; aws_throttle_codes[i] != NULL; i++)
        if (strcmp(code, aws_throttle_codes[i]) == 0)
            return true;
    return false;
}

/* The entry of code, or dflt filled for an unknown code by its HTTP
   status. */
static const struct aws_error_map *
aws_error_lookup(const char *code, long status, struct aws_error_map *dflt)
{
    for (size_t i = 0; i < sizeof(aws_errors) / sizeof(aws_errors[0]); i++)
        if (strcmp(code, aws_errors[i].code) == 0)
            return &aws_errors[i];
    *dflt = (struct aws_error_map){code, EI_BADDATA, "unexpected error", false,
                                   true};
    if (status == 401 || status == 403) {
        dflt->status = EI_DENIED;
        dflt->text = "request refused";
        dflt->creds = true;
    } else if (status >= 500) {
        dflt->status = EI_UNAVAILABLE;
        dflt->text = "service error";
    }
    return dflt;
}

enum ei_status ei_aws_fail(const struct ei_aws *a, const char *code,
                           long status, const char *message,
                           const char *locator, struct ei_error *err)
{
    const struct ei_host *h = a->host;
    struct aws_error_map dflt;
    const struct aws_error_map *m = aws_error_lookup(code, status, &dflt);
    char msg[AWS_MESSAGE_SHOW + EI_TEXT_EXTRA] = "";
    if (m->message && message != NULL)
        h->safe_text(h, msg, sizeof(msg), message, strlen(message), 0);
    char what[EI_AWS_CODE_LEN + 32];
    if (status <= 0)
        snprintf(what, sizeof(what), "%s", code);
    else if (strncmp(code, "HTTP ", 5) == 0)
        snprintf(what, sizeof(what), "%s", code);
    else
        snprintf(what, sizeof(what), "%s, HTTP %ld", code, status);
    if (m->creds)
        return h->error(
            h, err, m->status, 0, locator, "%s (%s)%s%s; credentials from %s",
            m->text, what, msg[0] != '\0' ? ": " : "", msg,
            a->creds.source[0] != '\0' ? a->creds.source : "nowhere");
    return h->error(h, err, m->status, 0, locator, "%s (%s)%s%s", m->text, what,
                    msg[0] != '\0' ? ": " : "", msg);
}

static void aws_sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Full-jitter back-off before retry number attempt, or -1 when it would
   not leave time for the request. */
static int64_t aws_backoff(unsigned attempt, int64_t retry_after, int64_t left)
{
    int64_t d;
    if (retry_after >= 0) {
        d = retry_after;
    } else {
        int64_t cap = AWS_BACKOFF_BASE;
        for (unsigned i = 0; i < attempt && cap < AWS_BACKOFF_CAP; i++)
            cap *= 2;
        if (cap > AWS_BACKOFF_CAP)
            cap = AWS_BACKOFF_CAP;
        d = (int64_t)randombytes_uniform((uint32_t)cap + 1);
    }
    return d + AWS_SLEEP_MARGIN < left ? d : -1;
}

/* The error code of a REST-JSON answer: X-Amzn-ErrorType first, as the
   SDKs read it ("Code:http://..." reduced to the code), else the body's. */
static void aws_answer_code(struct ei_aws *a,
                            const struct ei_http_response *resp, char *code,
                            size_t code_len)
{
    const struct ei_host *h = a->host;
    char hdr[EI_AWS_CODE_LEN * 2];
    if (EI_HOST_HAS(h, http_header) &&
        h->http_header(a->http, "X-Amzn-ErrorType", hdr, sizeof(hdr)) > 0 &&
        aws_code_clean(hdr, code, code_len))
        return;
    ei_aws_error_code(resp->body, resp->body_len, resp->status, code,
                      code_len);
}

enum ei_status ei_aws_request(struct ei_aws *a, const char *method,
                              const char *path, const char *query,
                              const char *const *extra, size_t extra_n,
                              const char *body, size_t body_len,
                              unsigned http_flags, const char *locator,
                              const struct ei_deadline *dl,
                              struct ei_http_response *resp,
                              struct ei_error *err)
{
    const struct ei_host *h = a->host;
    memset(resp, 0, sizeof(*resp));
    enum ei_status st = ei_aws_resolve(a, dl, err);
    if (st != EI_OK)
        return st;
    /* the path as sent carries the query; the signer wants them apart */
    char *target = NULL;
    if (query != NULL && query[0] != '\0') {
        size_t n = strlen(path) + strlen(query) + 2;
        target = malloc(n);
        if (target == NULL)
            return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
        snprintf(target, n, "%s?%s", path, query);
    }
    struct ei_sigv4_creds sc = {a->creds.access_key_id,
                                a->creds.secret_access_key,
                                a->creds.session_token};
    for (unsigned attempt = 0;; attempt++) {
        char date[EI_SIGV4_DATE_LEN + 1];
        if (ei_sigv4_amz_date(time(NULL), date) < 0) {
            st = h->error(h, err, EI_OSERR, 0, NULL,
                          "the clock is outside the years 1970-9999");
            break;
        }
        char **headers =
            ei_sigv4_headers(method, a->host_header, path, query, extra,
                             extra_n, body, body_len, date, a->region,
                             a->svc->name, &sc);
        if (headers == NULL) {
            st = errno == ENOMEM ? h->error(h, err, EI_NOMEM, ENOMEM, NULL,
                                            "out of memory")
                                 : h->error(h, err, EI_INTERNAL, 0, NULL,
                                            "cannot sign the request");
            break;
        }
        struct ei_http_request req = {.method = method,
                                      .path = target != NULL ? target : path,
                                      .headers = (const char *const *)headers,
                                      .body = body,
                                      .body_len = body_len,
                                      .flags = http_flags};
        st = h->http_request(a->http, &req, dl, resp, err);
        ei_sigv4_headers_free(headers);
        if (st != EI_OK) {
            h->http_response_free(a->http, resp);
            break;
        }
        if (resp->status >= 200 && resp->status <= 299)
            break;
        char code[EI_AWS_CODE_LEN];
        aws_answer_code(a, resp, code, sizeof(code));
        if (!aws_throttled(code)) {
            json_t *doc;
            const char *msg = aws_message(resp->body, resp->body_len, &doc);
            st = ei_aws_fail(a, code, resp->status, msg, locator, err);
            json_decref(doc);
            h->http_response_free(a->http, resp);
            break;
        }
        int64_t ra = resp->retry_after_ms;
        h->http_response_free(a->http, resp);
        int64_t d = aws_backoff(attempt, ra, h->remaining_ms(h, dl));
        if (d < 0) {
            st = h->error(h, err, EI_UNAVAILABLE, 0, locator,
                          "throttled (%s) until the timeout, %u attempt%s",
                          code, attempt + 1, attempt == 0 ? "" : "s");
            break;
        }
        h->log(h, EI_LOG_DEBUG, "throttled (%s): retrying in %lld ms", code,
               (long long)d);
        if (d > 0)
            aws_sleep_ms(d);
    }
    free(target);
    return st;
}

enum ei_status ei_aws_call(struct ei_aws *a, const char *operation,
                           const char *body, size_t body_len, bool secret,
                           const char *locator, const struct ei_deadline *dl,
                           struct ei_http_response *resp, struct ei_error *err)
{
    const struct ei_host *h = a->host;
    memset(resp, 0, sizeof(*resp));
    char target[AWS_TARGET_MAX];
    int tn = snprintf(target, sizeof(target), "X-Amz-Target: %s%s",
                      a->svc->target_prefix, operation);
    if (tn < 0 || (size_t)tn >= sizeof(target))
        return h->error(h, err, EI_INTERNAL, 0, NULL,
                        "operation name too long");
    const char *extra[] = {AWS_JSON_TYPE, target};
    return ei_aws_request(a, "POST", "/", NULL, extra, 2, body, body_len,
                          secret ? EI_HTTP_SECRET : 0, locator, dl, resp, err);
}

void ei_aws_response_free(struct ei_aws *a, struct ei_http_response *resp)
{
    a->host->http_response_free(a->http, resp);
}

/* ---- STS (AWS Query protocol) ---- */

#define AWS_FORM_TYPE                                                          \
    "Content-Type: application/x-www-form-urlencoded; charset=utf-8"
#define AWS_ARN_MAX     2048
#define AWS_SESSION_MAX 64
#define AWS_CHAIN_MAX   8     /* profiles in one role chain */
#define AWS_PROCESS_MAX 65536 /* bytes of credential_process output */
#define AWS_STDERR_SHOW 160

/* The STS client: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, else the
   regional endpoint, as the SDKs choose it. */
static enum ei_status sts_open(struct ei_aws *a, struct ei_error *err)
{
    const struct ei_host *h = a->host;
    if (a->sts != NULL)
        return EI_OK;
    const char *from = "AWS_ENDPOINT_URL_STS";
    const char *ep = env_nonempty(h, from);
    if (ep == NULL) {
        from = "AWS_ENDPOINT_URL";
        ep = env_nonempty(h, from);
    }
    char url[AWS_URL_MAX + 1];
    if (ep == NULL) {
        const char *dom = strncmp(a->region, "cn-", 3) == 0 ? "amazonaws.com.cn"
                                                            : "amazonaws.com";
        snprintf(url, sizeof(url), "https://sts.%s.%s", a->region, dom);
        ep = url;
        from = "the STS endpoint";
    }
    const char *rest;
    if (strlen(ep) > AWS_URL_MAX ||
        url_split(ep, a->sts_base, sizeof(a->sts_base), a->sts_host,
                  sizeof(a->sts_host), &rest) < 0 ||
        (rest[0] != '\0' && strcmp(rest, "/") != 0))
        return h->error(h, err, EI_BADCONFIG, 0, from,
                        "endpoint must be http(s)://HOST[:PORT] with no "
                        "path, query or user name");
    const char *eps[] = {a->sts_base, NULL};
    return h->http_open(h, eps, 1, &a->sts, err);
}

/* A form body in secret memory: "Name=value&..." with each value
   percent-encoded as RFC 3986 wants (what the SDKs send). */
struct form {
    char *buf;
    size_t len, cap;
};

static void form_add(struct form *f, const char *name, const char *value)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t need = strlen(name) + 2 + 3 * strlen(value);
    if (f->len + need >= f->cap)
        return; /* cannot happen: form_new counted */
    if (f->len > 0)
        f->buf[f->len++] = '&';
    for (const char *p = name; *p != '\0'; p++)
        f->buf[f->len++] = *p;
    f->buf[f->len++] = '=';
    for (const unsigned char *p = (const unsigned char *)value; *p != '\0';
         p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
            (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' ||
            *p == '~') {
            f->buf[f->len++] = (char)*p;
        } else {
            f->buf[f->len++] = '%';
            f->buf[f->len++] = hex[*p >> 4];
            f->buf[f->len++] = hex[*p & 15];
        }
    }
    f->buf[f->len] = '\0';
}

static bool session_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || n > AWS_SESSION_MAX)
        return false;
    for (; *s != '\0'; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
              (*s >= '0' && *s <= '9') || strchr("+=,.@_-", *s) != NULL))
            return false;
    return true;
}

static bool arn_valid(const char *s)
{
    return strncmp(s, "arn:", 4) == 0 && strlen(s) <= AWS_ARN_MAX &&
           ei_aws_token_valid(s, strlen(s));
}

/* What an STS call is about, for its request and its messages. */
struct sts_req {
    const char *op;      /* "AssumeRole", "AssumeRoleWithWebIdentity" */
    const char *role;    /* the role ARN */
    const char *session; /* NULL: AWS_ROLE_SESSION_NAME or a default */
    const char *external_id;
    const char *duration; /* DurationSeconds, NULL for STS's default */
    const char *token;    /* web identity token (secret) */
    const struct ei_aws_creds *signer; /* AssumeRole: the source */
};

static enum ei_status sts_fail(struct ei_aws *a, const struct sts_req *r,
                               const char *code, long status,
                               const char *message, struct ei_error *err)
{
    const struct ei_host *h = a->host;
    struct aws_error_map dflt;
    const struct aws_error_map *m = aws_error_lookup(code, status, &dflt);
    char msg[AWS_MESSAGE_SHOW + EI_TEXT_EXTRA] = "";
    char role[96 + EI_TEXT_EXTRA];
    if (message != NULL && message[0] != '\0')
        h->safe_text(h, msg, sizeof(msg), message, strlen(message), 0);
    h->safe_text(h, role, sizeof(role), r->role, strlen(r->role), 0);
    char what[EI_AWS_CODE_LEN + 32];
    if (strncmp(code, "HTTP ", 5) == 0)
        snprintf(what, sizeof(what), "%s", code);
    else
        snprintf(what, sizeof(what), "%s, HTTP %ld", code, status);
    return h->error(h, err, m->status, 0, a->sts_base,
                    "STS %s of %s: %s (%s)%s%s%s%s", r->op, role, m->text, what,
                    msg[0] != '\0' ? ": " : "", msg,
                    r->signer != NULL ? "; source credentials from " : "",
                    r->signer != NULL ? r->signer->source : "");
}

/* One STS call whose answer holds credentials: into out (secret). */
static enum ei_status sts_call(struct ei_aws *a, const struct sts_req *r,
                               const struct ei_deadline *dl,
                               struct ei_aws_creds *out, struct ei_error *err)
{
    const struct ei_host *h = a->host;
    enum ei_status st = sts_open(a, err);
    if (st != EI_OK)
        return st;
    char session[AWS_SESSION_MAX + 1];
    const char *sess = r->session;
    if (sess == NULL)
        sess = env_nonempty(h, "AWS_ROLE_SESSION_NAME");
    if (sess == NULL) {
        /* as botocore and the JavaScript SDK: a name with the time */
        snprintf(session, sizeof(session), "envinject-%lld",
                 (long long)time(NULL));
        sess = session;
    }
    if (!session_name_valid(sess))
        return h->error(h, err, EI_BADCONFIG, 0, r->role,
                        "the role session name must be 2 to 64 letters, "
                        "digits and +=,.@_-");
    size_t cap = 256 + strlen(r->op) + 3 * (strlen(r->role) + strlen(sess));
    if (r->external_id != NULL)
        cap += 3 * strlen(r->external_id);
    if (r->duration != NULL)
        cap += 3 * strlen(r->duration);
    if (r->token != NULL)
        cap += 3 * strlen(r->token);
    struct form f = {h->secret_alloc(h, cap), 0, cap};
    if (f.buf == NULL)
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    /* in the order the SDKs send them (sorted) */
    form_add(&f, "Action", r->op);
    if (r->duration != NULL)
        form_add(&f, "DurationSeconds", r->duration);
    if (r->external_id != NULL)
        form_add(&f, "ExternalId", r->external_id);
    form_add(&f, "RoleArn", r->role);
    form_add(&f, "RoleSessionName", sess);
    form_add(&f, "Version", EI_AWS_STS_VERSION);
    if (r->token != NULL)
        form_add(&f, "WebIdentityToken", r->token);
    const char *extra[] = {AWS_FORM_TYPE};
    struct ei_sigv4_creds sc = {NULL, NULL, NULL};
    if (r->signer != NULL)
        sc = (struct ei_sigv4_creds){r->signer->access_key_id,
                                     r->signer->secret_access_key,
                                     r->signer->session_token};
    struct ei_http_response resp = {0};
    for (unsigned attempt = 0;; attempt++) {
        char **signed_hdrs = NULL;
        const char *plain[] = {AWS_FORM_TYPE, NULL};
        const char *const *headers = plain;
        if (r->signer != NULL) {
            char date[EI_SIGV4_DATE_LEN + 1];
            if (ei_sigv4_amz_date(time(NULL), date) < 0) {
                st = h->error(h, err, EI_OSERR, 0, NULL,
                              "the clock is outside the years 1970-9999");
                break;
            }
            signed_hdrs =
                ei_sigv4_headers("POST", a->sts_host, "/", NULL, extra, 1,
                                 f.buf, f.len, date, a->region, "sts", &sc);
            if (signed_hdrs == NULL) {
                st = errno == ENOMEM ? h->error(h, err, EI_NOMEM, ENOMEM, NULL,
                                                "out of memory")
                                     : h->error(h, err, EI_INTERNAL, 0, NULL,
                                                "cannot sign the request");
                break;
            }
            headers = (const char *const *)signed_hdrs;
        }
        struct ei_http_request req = {.method = "POST",
                                      .path = "/",
                                      .headers = headers,
                                      .body = f.buf,
                                      .body_len = f.len,
                                      .flags =
                                          EI_HTTP_SECRET | EI_HTTP_SECRET_BODY};
        st = h->http_request(a->sts, &req, dl, &resp, err);
        ei_sigv4_headers_free(signed_hdrs);
        if (st != EI_OK)
            break;
        if (resp.status == 200) {
            st = ei_aws_sts_parse_creds(h, r->op, resp.body, resp.body_len,
                                        a->sts_base, out, err);
            break;
        }
        char code[EI_AWS_CODE_LEN];
        char message[EI_AWS_STS_MESSAGE_LEN];
        ei_aws_sts_error(resp.body, resp.body_len, resp.status, code,
                         sizeof(code), message, sizeof(message));
        if (!aws_throttled(code) &&
            strcmp(code, "IDPCommunicationError") != 0) {
            st = sts_fail(a, r, code, resp.status, message, err);
            break;
        }
        int64_t ra = resp.retry_after_ms;
        long status = resp.status;
        h->http_response_free(a->sts, &resp);
        int64_t d = aws_backoff(attempt, ra, h->remaining_ms(h, dl));
        if (d < 0) {
            char role[96 + EI_TEXT_EXTRA];
            h->safe_text(h, role, sizeof(role), r->role, strlen(r->role), 0);
            st = h->error(h, err, EI_UNAVAILABLE, 0, a->sts_base,
                          "STS %s of %s: throttled (%s, HTTP %ld) until the "
                          "timeout, %u attempt%s",
                          r->op, role, code, status, attempt + 1,
                          attempt == 0 ? "" : "s");
            break;
        }
        h->log(h, EI_LOG_DEBUG, "STS %s: %s, retrying in %lld ms", r->op, code,
               (long long)d);
        if (d > 0)
            aws_sleep_ms(d);
    }
    h->http_response_free(a->sts, &resp);
    sodium_memzero(f.buf, f.cap);
    h->secret_free(h, f.buf, f.cap);
    return st;
}

/* Web identity: a token file and a role (from the environment or a
   profile) → AssumeRoleWithWebIdentity, unsigned. */
static enum ei_status
creds_from_web_identity(struct ei_aws *a, struct sts_req *r, const char *file,
                        const char *from, const struct ei_deadline *dl,
                        struct ei_aws_creds *out, struct ei_error *err)
{
    const struct ei_host *h = a->host;
    if (!arn_valid(r->role))
        return h->error(h, err, EI_BADCONFIG, 0, from,
                        "the role must be an ARN (arn:aws:iam::ACCOUNT:"
                        "role/NAME)");
    /* read at every fetch: Kubernetes rotates the projected token */
    struct ei_buf buf = {0};
    struct ei_error quiet = {0};
    enum ei_status st = h->read_file(h, file, EI_READ_SECRET, &buf, &quiet);
    if (st == EI_NOTFOUND)
        return h->error(h, err, EI_DENIED, 0, file,
                        "the web identity token file does not exist");
    if (st != EI_OK) {
        if (err != NULL && err->status == EI_OK)
            *err = quiet;
        return st;
    }
    size_t n = buf.len;
    while (n > 0 && (buf.data[n - 1] == '\n' || buf.data[n - 1] == '\r' ||
                     buf.data[n - 1] == ' '))
        n--;
    if (n == 0 || !ei_aws_token_valid(buf.data, n)) {
        h->buf_free(h, &buf);
        return h->error(h, err, EI_DENIED, 0, file,
                        "the web identity token file is empty or holds "
                        "blanks or control characters");
    }
    buf.data[n] = '\0';
    r->op = "AssumeRoleWithWebIdentity";
    r->token = buf.data;
    r->signer = NULL;
    st = sts_call(a, r, dl, out, err);
    r->token = NULL;
    h->buf_free(h, &buf);
    if (st != EI_OK)
        return st;
    snprintf(out->source, sizeof(out->source),
             "web identity (%.40s, role %.100s) through STS %.80s", from,
             r->role, a->sts_base);
    return EI_OK;
}

/* ---- credential_process ---- */

/* The last non-blank line of text, made safe, into out. */
static void last_line(const struct ei_host *h, const char *text, size_t n,
                      char *out, size_t out_len)
{
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' ||
                     text[n - 1] == ' ' || text[n - 1] == '\t'))
        n--;
    size_t s = n;
    while (s > 0 && text[s - 1] != '\n')
        s--;
    h->safe_text(h, out, out_len, text + s, n - s, 0);
}

/*
 * Run cmd as the SDKs for Go, JavaScript and Rust do, with /bin/sh -c,
 * in envinject's environment, stdin from /dev/null, stdout and stderr
 * captured.  *out (secret memory, AWS_PROCESS_MAX + 1 bytes) gets stdout.
 */
static enum ei_status run_process(struct ei_aws *a, const char *cmd,
                                  const char *where,
                                  const struct ei_deadline *dl, char **out,
                                  size_t *out_len, struct ei_error *err)
{
    const struct ei_host *h = a->host;
    *out = NULL;
    *out_len = 0;
    int po[2] = {-1, -1}, pe[2] = {-1, -1};
    if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
        int e = errno;
        if (po[0] >= 0) {
            close(po[0]);
            close(po[1]);
        }
        return h->error(h, err, EI_OSERR, e, where, "cannot make a pipe");
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, po[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
    char *argv[] = {"/bin/sh", "-c", (char *)cmd, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv,
                         (char *const *)h->env_list(h));
    posix_spawn_file_actions_destroy(&fa);
    close(po[1]);
    close(pe[1]);
    if (rc != 0) {
        close(po[0]);
        close(pe[0]);
        return h->error(h, err, EI_OSERR, rc, where,
                        "cannot start credential_process with /bin/sh");
    }
    char *buf = h->secret_alloc(h, AWS_PROCESS_MAX + 1);
    char ebuf[4096];
    size_t n = 0, en = 0;
    bool too_big = false, timed_out = false;
    struct pollfd pfd[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
    int open_fds = 2;
    while (buf != NULL && open_fds > 0) {
        int64_t left = h->remaining_ms(h, dl);
        if (left <= 0) {
            timed_out = true;
            break;
        }
        int pr = poll(pfd, 2, left > INT32_MAX ? INT32_MAX : (int)left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0)
            break;
        for (int i = 0; i < 2; i++) {
            if (pfd[i].fd < 0 || pfd[i].revents == 0)
                continue;
            char tmp[4096];
            ssize_t got = read(pfd[i].fd, tmp, sizeof(tmp));
            if (got < 0 && errno == EINTR)
                continue;
            if (got <= 0) {
                close(pfd[i].fd);
                pfd[i].fd = -1;
                open_fds--;
                continue;
            }
            if (i == 0) {
                if (n + (size_t)got > AWS_PROCESS_MAX) {
                    too_big = true;
                } else {
                    memcpy(buf + n, tmp, (size_t)got);
                    n += (size_t)got;
                }
            } else {
                /* keep the end: the error is usually the last line */
                if ((size_t)got >= sizeof(ebuf)) {
                    memcpy(ebuf, tmp + got - (ssize_t)sizeof(ebuf),
                           sizeof(ebuf));
                    en = sizeof(ebuf);
                } else {
                    if (en + (size_t)got > sizeof(ebuf)) {
                        size_t drop = en + (size_t)got - sizeof(ebuf);
                        memmove(ebuf, ebuf + drop, en - drop);
                        en -= drop;
                    }
                    memcpy(ebuf + en, tmp, (size_t)got);
                    en += (size_t)got;
                }
            }
            sodium_memzero(tmp, sizeof(tmp));
        }
        if (too_big)
            break;
    }
    for (int i = 0; i < 2; i++)
        if (pfd[i].fd >= 0)
            close(pfd[i].fd);
    if (buf == NULL || too_big || timed_out)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    enum ei_status st = EI_OK;
    char line[AWS_STDERR_SHOW + EI_TEXT_EXTRA];
    last_line(h, ebuf, en, line, sizeof(line));
    if (buf == NULL)
        st = h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    else if (timed_out)
        st = h->error(h, err, EI_UNAVAILABLE, 0, where,
                      "credential_process did not finish before the "
                      "layer's timeout (killed)");
    else if (too_big)
        st = h->error(h, err, EI_BADDATA, 0, where,
                      "credential_process wrote more than %d bytes",
                      AWS_PROCESS_MAX);
    else if (WIFSIGNALED(status))
        st = h->error(h, err, EI_DENIED, 0, where,
                      "credential_process was killed by signal %d%s%s",
                      WTERMSIG(status), line[0] != '\0' ? ": " : "", line);
    else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        st = h->error(h, err, EI_DENIED, 0, where,
                      "credential_process exited with status %d%s%s",
                      WEXITSTATUS(status), line[0] != '\0' ? ": " : "",
                      line[0] != '\0' ? line
                                      : " (and wrote nothing to "
                                        "stderr)");
    sodium_memzero(ebuf, sizeof(ebuf));
    if (st != EI_OK) {
        if (buf != NULL) {
            sodium_memzero(buf, AWS_PROCESS_MAX + 1);
            h->secret_free(h, buf, AWS_PROCESS_MAX + 1);
        }
        return st;
    }
    buf[n] = '\0';
    *out = buf;
    *out_len = n;
    return EI_OK;
}

static enum ei_status creds_from_process(struct ei_aws *a, const char *cmd,
                                         const char *profile, const char *file,
                                         const struct ei_deadline *dl,
                                         struct ei_aws_creds *out,
                                         struct ei_error *err)
{
    const struct ei_host *h = a->host;
    char where[AWS_URL_MAX + AWS_PROFILE_MAX + 32];
    snprintf(where, sizeof(where), "%s, profile %s", file, profile);
    char *buf;
    size_t n;
    h->log(h, EI_LOG_DEBUG, "running the credential_process of profile %s",
           profile);
    enum ei_status st = run_process(a, cmd, where, dl, &buf, &n, err);
    if (st != EI_OK)
        return st;
    st = ei_aws_parse_process(h, buf, n, where, out, err);
    sodium_memzero(buf, AWS_PROCESS_MAX + 1);
    h->secret_free(h, buf, AWS_PROCESS_MAX + 1);
    if (st != EI_OK)
        return st;
    if (out->expires != 0 && out->expires <= (int64_t)time(NULL)) {
        ei_aws_creds_clear(h, out);
        return h->error(h, err, EI_DENIED, 0, where,
                        "credential_process gave credentials that have "
                        "expired already");
    }
    snprintf(out->source, sizeof(out->source),
             "the credential_process of profile %.40s (%.120s)", profile, file);
    return EI_OK;
}

/* ---- profiles: static keys, roles, processes ---- */

struct aws_files {
    struct aws_file cred, conf;
};

/* A setting of profile: the credentials file first, as botocore merges
   them.  1 with out (NUL-terminated), 0 absent or empty, -1 too long
   (err filled). */
static int prof_get(struct ei_aws *a, struct aws_files *f, const char *profile,
                    const char *key, char *out, size_t out_len,
                    struct ei_error *err)
{
    const char *v = NULL;
    size_t n = 0;
    const char *path = NULL;
    if (f->cred.present && ei_aws_ini_find(f->cred.buf.data, f->cred.buf.len,
                                           false, profile, key, &v, &n))
        path = f->cred.path;
    else if (f->conf.present &&
             ei_aws_ini_find(f->conf.buf.data, f->conf.buf.len, true, profile,
                             key, &v, &n))
        path = f->conf.path;
    if (path == NULL || n == 0)
        return 0;
    if (n >= out_len) {
        a->host->error(a->host, err, EI_BADCONFIG, 0, path,
                       "profile %s: %s is longer than %zu bytes", profile, key,
                       out_len - 1);
        return -1;
    }
    memcpy(out, v, n);
    out[n] = '\0';
    return 1;
}

static bool prof_exists(struct aws_files *f, const char *profile)
{
    return (f->cred.present &&
            ei_aws_ini_find(f->cred.buf.data, f->cred.buf.len, false, profile,
                            NULL, NULL, NULL)) ||
           (f->conf.present &&
            ei_aws_ini_find(f->conf.buf.data, f->conf.buf.len, true, profile,
                            NULL, NULL, NULL));
}

struct chain {
    const char *names[AWS_CHAIN_MAX];
    size_t n;
};

static enum ei_status creds_from_profile(struct ei_aws *a, struct aws_files *f,
                                         const char *profile, struct chain *ch,
                                         const struct ei_deadline *dl,
                                         struct ei_aws_creds *out, bool *found,
                                         struct ei_error *err);

/* The credentials a role profile assumes the role with. */
static enum ei_status role_source(struct ei_aws *a, struct aws_files *f,
                                  const char *profile, const char *src,
                                  const char *cs, struct chain *ch,
                                  const struct ei_deadline *dl,
                                  struct ei_aws_creds *out,
                                  struct ei_error *err)
{
    const struct ei_host *h = a->host;
    bool found = false;
    enum ei_status st = EI_OK;
    if (src != NULL && strcmp(src, profile) == 0) {
        /* botocore: a profile that names itself uses its own keys */
        st = static_keys(a, &f->cred, false, profile, out, &found, err);
        if (st == EI_OK && !found)
            st = static_keys(a, &f->conf, true, profile, out, &found, err);
        if (st == EI_OK && !found)
            st = h->error(h, err, EI_DENIED, 0, f->conf.path,
                          "profile %s is its own source_profile but has no "
                          "aws_access_key_id",
                          profile);
        return st;
    }
    if (src != NULL) {
        if (!prof_exists(f, src))
            return h->error(h, err, EI_BADCONFIG, 0, f->conf.path,
                            "source_profile %s of profile %s is in neither "
                            "%s nor %s",
                            src, profile, f->cred.path, f->conf.path);
        st = creds_from_profile(a, f, src, ch, dl, out, &found, err);
        if (st == EI_OK && !found)
            st = h->error(h, err, EI_DENIED, 0, f->conf.path,
                          "source_profile %s of profile %s gives no "
                          "credentials",
                          src, profile);
        return st;
    }
    if (strcmp(cs, "Environment") == 0)
        st = creds_from_env(a, out, &found, err);
    else if (strcmp(cs, "EcsContainer") == 0)
        st = creds_from_container(a, dl, out, &found, err);
    else if (strcmp(cs, "Ec2InstanceMetadata") == 0)
        st = creds_from_imds(a, dl, out, &found, err);
    else
        return h->error(h, err, EI_BADCONFIG, 0, f->conf.path,
                        "profile %s: credential_source must be Environment, "
                        "EcsContainer or Ec2InstanceMetadata",
                        profile);
    if (st == EI_OK && !found)
        st = h->error(h, err, EI_DENIED, 0, f->conf.path,
                      "profile %s: credential_source %s gives no credentials%s",
                      profile, cs,
                      a->tried.imds != NULL &&
                              strcmp(cs, "Ec2InstanceMetadata") == 0
                          ? " (instance metadata unreachable or disabled)"
                          : "");
    return st;
}

static enum ei_status creds_from_profile(struct ei_aws *a, struct aws_files *f,
                                         const char *profile, struct chain *ch,
                                         const struct ei_deadline *dl,
                                         struct ei_aws_creds *out, bool *found,
                                         struct ei_error *err)
{
    const struct ei_host *h = a->host;
    *found = false;
    for (size_t i = 0; i < ch->n; i++)
        if (strcmp(ch->names[i], profile) == 0) {
            char loop[EI_ERR_TEXT_LEN / 2] = "";
            size_t l = 0;
            for (size_t j = i; j < ch->n && l < sizeof(loop); j++)
                l += (size_t)snprintf(loop + l, sizeof(loop) - l, "%s -> ",
                                      ch->names[j]);
            return h->error(h, err, EI_BADCONFIG, 0, f->conf.path,
                            "source_profile loop: %s%s", loop, profile);
        }
    if (ch->n == AWS_CHAIN_MAX)
        return h->error(h, err, EI_BADCONFIG, 0, f->conf.path,
                        "role chain of profile %s longer than %d profiles",
                        ch->names[0], AWS_CHAIN_MAX);
    ch->names[ch->n++] = profile;

    char role[AWS_ARN_MAX + 1], src[AWS_PROFILE_MAX + 1], cs[64],
        wit[AWS_URL_MAX + 1], sess[AWS_SESSION_MAX + 1], ext[1300], dur[16],
        mfa[AWS_ARN_MAX + 1];
    int has_role = prof_get(a, f, profile, "role_arn", role, sizeof(role), err);
    if (has_role < 0)
        return EI_BADCONFIG;
    if (has_role) {
        /* the settings of a role profile, as the AWS CLI reads them */
        static const char *const keys[] = {
            "source_profile",    "credential_source", "web_identity_token_file",
            "role_session_name", "external_id",       "duration_seconds",
            "mfa_serial"};
        char *vals[] = {src, cs, wit, sess, ext, dur, mfa};
        const size_t lens[] = {sizeof(src),  sizeof(cs),  sizeof(wit),
                               sizeof(sess), sizeof(ext), sizeof(dur),
                               sizeof(mfa)};
        int has[7];
        for (size_t i = 0; i < 7; i++) {
            has[i] = prof_get(a, f, profile, keys[i], vals[i], lens[i], err);
            if (has[i] < 0)
                return EI_BADCONFIG;
        }
        int hs = has[0], hc = has[1], hw = has[2], hn = has[3], he = has[4],
            hd = has[5], hm = has[6];
        if (!arn_valid(role))
            return h->error(h, err, EI_BADCONFIG, 0, f->conf.path,
                            "profile %s: role_arn must be an ARN "
                            "(arn:aws:iam::ACCOUNT:role/NAME)",
                            profile);
        if (hm)
            return h->error(h, err, EI_BADCONFIG, 0, f->conf.path,
                            "profile %s: mfa_serial needs a code typed in, "
                            "which envinject does not ask for (export "
                            "credentials from aws sts assume-role instead)",
                            profile);
        if (hs + hc + hw != 1)
            return h->error(h, err, EI_BADCONFIG, 0, f->conf.path,
                            "profile %s: role_arn needs exactly one of "
                            "source_profile, credential_source and "
                            "web_identity_token_file",
                            profile);
        long long secs = 0;
        char *endp = NULL;
        if (hd) {
            errno = 0;
            secs = strtoll(dur, &endp, 10);
            if (errno != 0 || *endp != '\0' || secs < 900 || secs > 43200)
                return h->error(h, err, EI_BADCONFIG, 0, f->conf.path,
                                "profile %s: duration_seconds must be a "
                                "number from 900 to 43200",
                                profile);
        }
        if (he && !ei_aws_token_valid(ext, strlen(ext)))
            return h->error(h, err, EI_BADCONFIG, 0, f->conf.path,
                            "profile %s: external_id has blanks or control "
                            "characters",
                            profile);
        struct sts_req r = {.role = role,
                            .session = hn ? sess : NULL,
                            .external_id = he ? ext : NULL,
                            .duration = hd ? dur : NULL};
        enum ei_status st;
        if (hw) {
            char from[AWS_PROFILE_MAX + 16];
            snprintf(from, sizeof(from), "profile %s", profile);
            st = creds_from_web_identity(a, &r, wit, from, dl, out, err);
        } else {
            struct ei_aws_creds source = {0};
            st = role_source(a, f, profile, hs ? src : NULL, hc ? cs : NULL, ch,
                             dl, &source, err);
            if (st == EI_OK) {
                r.op = "AssumeRole";
                r.signer = &source;
                st = sts_call(a, &r, dl, out, err);
            }
            if (st == EI_OK)
                snprintf(out->source, sizeof(out->source),
                         "role %.80s of profile %.30s (source: %.100s)", role,
                         profile, source.source);
            ei_aws_creds_clear(h, &source);
        }
        if (st != EI_OK)
            ei_aws_creds_clear(h, out);
        *found = st == EI_OK;
        return st;
    }

    enum ei_status st =
        static_keys(a, &f->cred, false, profile, out, found, err);
    if (st == EI_OK && !*found)
        st = static_keys(a, &f->conf, true, profile, out, found, err);
    if (st != EI_OK || *found)
        return st;
    char cmd[AWS_URL_MAX + 1];
    int hp =
        prof_get(a, f, profile, "credential_process", cmd, sizeof(cmd), err);
    if (hp < 0)
        return EI_BADCONFIG;
    if (hp) {
        const char *v;
        size_t vn;
        const char *file =
            f->cred.present &&
                    ei_aws_ini_find(f->cred.buf.data, f->cred.buf.len, false,
                                    profile, "credential_process", &v, &vn)
                ? f->cred.path
                : f->conf.path;
        st = creds_from_process(a, cmd, profile, file, dl, out, err);
        *found = st == EI_OK;
        return st;
    }
    static const char *const sso[] = {"sso_session", "sso_start_url"};
    for (size_t i = 0; i < 2; i++) {
        char v[AWS_URL_MAX + 1];
        int rc = prof_get(a, f, profile, sso[i], v, sizeof(v), err);
        if (rc < 0)
            return EI_BADCONFIG;
        if (rc > 0)
            return h->error(h, err, EI_DENIED, 0, f->conf.path,
                            "profile %s uses %s, which envinject does not "
                            "support (run aws sso login and export the "
                            "credentials of aws configure "
                            "export-credentials)",
                            profile, sso[i]);
    }
    return EI_OK;
}

/* ---- the chain ---- */

/* AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE (EKS's IRSA sets both). */
static enum ei_status creds_from_env_web_identity(struct ei_aws *a,
                                                  const struct ei_deadline *dl,
                                                  struct ei_aws_creds *out,
                                                  bool *found,
                                                  struct ei_error *err)
{
    const struct ei_host *h = a->host;
    *found = false;
    const char *role = env_nonempty(h, "AWS_ROLE_ARN");
    const char *file = env_nonempty(h, "AWS_WEB_IDENTITY_TOKEN_FILE");
    if (role == NULL && file == NULL)
        return EI_OK;
    if (role == NULL || file == NULL)
        return h->error(
            h, err, EI_BADCONFIG, 0,
            role != NULL ? "AWS_WEB_IDENTITY_TOKEN_FILE" : "AWS_ROLE_ARN",
            "%s is set but %s is not",
            role != NULL ? "AWS_ROLE_ARN" : "AWS_WEB_IDENTITY_TOKEN_FILE",
            role != NULL ? "AWS_WEB_IDENTITY_TOKEN_FILE" : "AWS_ROLE_ARN");
    struct sts_req r = {.role = role};
    enum ei_status st =
        creds_from_web_identity(a, &r, file, "AWS_ROLE_ARN", dl, out, err);
    *found = st == EI_OK;
    return st;
}

static bool creds_fresh(const struct ei_aws_creds *c)
{
    return c->expires == 0 ||
           (int64_t)time(NULL) + EI_AWS_REFRESH_MARGIN_S < c->expires;
}

enum ei_status ei_aws_resolve(struct ei_aws *a, const struct ei_deadline *dl,
                              struct ei_error *err)
{
    const struct ei_host *h = a->host;
    if (a->resolved) {
        if (creds_fresh(&a->creds))
            return EI_OK;
        /* temporary credentials about to expire: the whole chain again,
           as the SDKs refresh (a rotated token file, a new process run) */
        h->log(h, EI_LOG_DEBUG,
               "AWS credentials from %s expire within %d s: fetching new "
               "ones",
               a->creds.source, EI_AWS_REFRESH_MARGIN_S);
        ei_aws_creds_clear(h, &a->creds);
        a->resolved = false;
    }
    struct aws_files f = {0};
    bool found = false;
    enum ei_status st = EI_OK;

    /* an explicit profile option, like --profile of the AWS CLI, passes
       over the environment variables */
    if (!a->profile_option)
        st = creds_from_env(a, &a->creds, &found, err);
    /* the config file may still be needed for the region alone */
    if (st == EI_OK && !found)
        st = aws_file_read(a, "AWS_SHARED_CREDENTIALS_FILE", "credentials",
                           &f.cred, err);
    if (st == EI_OK && (!found || a->region[0] == '\0'))
        st = aws_file_read(a, "AWS_CONFIG_FILE", "config", &f.conf, err);
    if (st == EI_OK && a->region[0] == '\0') {
        const char *r = NULL;
        size_t rn = 0;
        if (f.conf.present &&
            ei_aws_ini_find(f.conf.buf.data, f.conf.buf.len, true, a->profile,
                            "region", &r, &rn) &&
            rn > 0 && rn <= AWS_REGION_MAX) {
            memcpy(a->region, r, rn);
            a->region[rn] = '\0';
            a->region_from = f.conf.path;
            if (!region_valid(a->region)) {
                a->region[0] = '\0';
                st = h->error(h, err, EI_BADCONFIG, 0, f.conf.path,
                              "profile %s: region must be letters, digits "
                              "and '-'",
                              a->profile);
            }
        }
        if (st == EI_OK && a->region[0] == '\0')
            st = h->error(h, err, EI_BADCONFIG, 0, NULL,
                          "no region: set the layer's region, AWS_REGION or "
                          "AWS_DEFAULT_REGION, or region in profile %s of "
                          "%s",
                          a->profile, f.conf.path);
        if (st == EI_OK)
            st = aws_open_service(a, err);
    }
    /* web identity from the environment, before the shared files, as
       botocore orders it */
    if (st == EI_OK && !found && !a->profile_option)
        st = creds_from_env_web_identity(a, dl, &a->creds, &found, err);
    if (st == EI_OK && !found) {
        bool known = prof_exists(&f, a->profile);
        if ((a->profile_option || a->profile_env) && !known)
            st = h->error(h, err, EI_BADCONFIG, 0,
                          a->profile_option ? aws_profile_opt(a) : "AWS_PROFILE",
                          "profile %s is in neither %s nor %s", a->profile,
                          f.cred.path, f.conf.path);
        struct chain ch = {.n = 0};
        if (st == EI_OK && known)
            st = creds_from_profile(a, &f, a->profile, &ch, dl, &a->creds,
                                    &found, err);
        snprintf(a->tried.files, sizeof(a->tried.files),
                 "%.80s or %.80s (profile %.20s)", f.cred.path, f.conf.path,
                 a->profile);
    }
    aws_file_free(a, &f.cred);
    aws_file_free(a, &f.conf);
    /* with a profile of its own the layer means that profile, nothing
       else */
    if (st == EI_OK && !found && !a->profile_option) {
        st = creds_from_container(a, dl, &a->creds, &found, err);
        if (st == EI_OK && !found)
            st = creds_from_imds(a, dl, &a->creds, &found, err);
    }
    if (st == EI_OK && !found) {
        if (a->profile_option)
            return h->error(h, err, EI_DENIED, 0, aws_profile_opt(a),
                            "no credentials in profile %s of %s", a->profile,
                            a->tried.files);
        return h->error(h, err, EI_DENIED, 0, NULL,
                        "no AWS credentials: none in the environment or %s, "
                        "no container endpoint, instance metadata %s",
                        a->tried.files,
                        a->tried.imds != NULL ? a->tried.imds : "gave none");
    }
    if (st != EI_OK) {
        ei_aws_creds_clear(h, &a->creds);
        return st;
    }
    a->resolved = true;
    h->log(h, EI_LOG_DEBUG, "AWS credentials from %s, region %s",
           a->creds.source, a->region);
    return EI_OK;
}
