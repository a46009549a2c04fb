/* SPDX-License-Identifier: MIT */
/* The consul provider: every key under a prefix of the Consul KV store,
   read with one recursive request from one of several agents. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <envinject/provider.h>
#include <jansson.h>
#include <sodium.h>

#include "common/jsonflat.h"
#include "common/parse_error.h"
#include "common/revision.h"
#include "common/urlpath.h"
#include "consul_parse.h"

#define CONSUL_ADDR_DEFAULT  "http://127.0.0.1:8500"
#define CONSUL_TOKEN_HEADER  "X-Consul-Token: "
#define CONSUL_TOKEN_MAX     4096
#define CONSUL_PREFIX_MAX    1024
#define CONSUL_DC_MAX        128
#define CONSUL_ENDPOINTS_MAX 64
/* bytes of a key or name shown in messages and locators */
#define CONSUL_SHOW_MAX 1024
/* room for "@" + an index + " (" + ")" around the key and member */
#define CONSUL_LOC_EXTRA 32
/* "/v1/kv/", the encoded prefix, "?recurse&dc=" and the encoded dc, and
   "&index=N&wait=Ns" of a blocking query */
#define CONSUL_URL_MAX (3 * CONSUL_PREFIX_MAX + 3 * CONSUL_DC_MAX + 80)
/* A blocking query's wait: Consul's default, 5 minutes, unless the
   deadline is nearer; the server may add wait/16 of jitter. */
#define CONSUL_WAIT_MAX_S 300
#define CONSUL_INDEX_LEN  32

#define HTTP_OK           200
#define HTTP_BAD_REQUEST  400
#define HTTP_FORBIDDEN    403
#define HTTP_NOT_FOUND    404
#define HTTP_BAD_METHOD   405
#define HTTP_TOO_MANY     429
#define HTTP_SERVER_ERROR 500
#define HTTP_STATUS_END   600

struct consul_state {
    const struct ei_host *host;
    struct ei_http *http;
    char **endpoints;
    size_t endpoints_n;
    char *prefix; /* no leading '/', a trailing '/' unless empty */
    const char *dc;
    const char *token;      /* the token option */
    const char *token_file; /* the option, or CONSUL_HTTP_TOKEN_FILE */
    const char *token_file_what;

    /* run --watch: blocking queries (protocols.md 2.4) */
    uint64_t index;          /* X-Consul-Index of the last fetch, 0: none */
    struct ei_http *wait_http; /* the waiting thread's own client */
    pthread_mutex_t lock;    /* guards watch_index and watch_gen */
    uint64_t watch_index;    /* what watch saw last */
    unsigned watch_gen;      /* bumped by each watch */
    uint64_t wait_index;     /* the waiting thread's own */
    unsigned wait_gen;
};

/* ---- the parser (consul_parse.h) ---- */

struct consul_parse {
    const struct ei_host *host; /* for safe_text */
    char *segbuf;
    size_t segbuf_cap;
    const char **seg;
    size_t seg_cap;
    char *val; /* decoded value; wiped before it is freed */
    size_t val_cap;
};

/* A larger copy of p (cap elements of elem bytes, grown to hold need), the
   old one wiped when asked and freed; NULL with p untouched on failure. */
static void *consul_grow(void *p, size_t *cap, size_t need, size_t elem,
                         bool wipe)
{
    if (need <= *cap)
        return p;
    size_t ncap = *cap != 0 ? *cap : 64;
    while (ncap < need)
        ncap *= 2;
    void *fresh = calloc(ncap, elem);
    if (fresh == NULL)
        return NULL;
    if (p != NULL) {
        memcpy(fresh, p, *cap * elem);
        if (wipe)
            sodium_memzero(p, *cap * elem);
        free(p);
    }
    *cap = ncap;
    return fresh;
}

static void consul_parse_fini(struct consul_parse *p)
{
    if (p->val != NULL)
        sodium_memzero(p->val, p->val_cap);
    free(p->val);
    free(p->segbuf);
    free(p->seg);
}

/* Split rest on '/', dropping empty segments. */
static int consul_segments(struct consul_parse *p, const char *rest, size_t len,
                           size_t *n)
{
    *n = 0;
    char *buf = consul_grow(p->segbuf, &p->segbuf_cap, len + 1, 1, false);
    if (buf == NULL)
        return -1;
    p->segbuf = buf;
    memcpy(p->segbuf, rest, len);
    p->segbuf[len] = '\0';
    size_t i = 0;
    while (i < len) {
        if (p->segbuf[i] == '/') {
            p->segbuf[i++] = '\0';
            continue;
        }
        const char **seg =
            consul_grow(p->seg, &p->seg_cap, *n + 1, sizeof(*p->seg), false);
        if (seg == NULL)
            return -1;
        p->seg = seg;
        p->seg[(*n)++] = p->segbuf + i;
        while (i < len && p->segbuf[i] != '/')
            i++;
    }
    return 0;
}

static enum ei_status consul_one(struct consul_parse *p, const json_t *e,
                                 size_t idx, const char *prefix,
                                 const char *what, ei_consul_entry_fn fn,
                                 void *ctx, size_t *keys, struct ei_error *err)
{
    if (!json_is_object(e))
        return ei_parse_error(err, EI_BADDATA, what,
                              "KV reply: entry %zu is not an object", idx);
    const json_t *jk = json_object_get(e, "Key");
    const json_t *jv = json_object_get(e, "Value");
    const json_t *ji = json_object_get(e, "ModifyIndex");
    if (!json_is_string(jk) || json_string_length(jk) == 0)
        return ei_parse_error(err, EI_BADDATA, what,
                              "KV reply: entry %zu has no Key", idx);
    const char *key = json_string_value(jk);
    size_t klen = json_string_length(jk);
    char shown[CONSUL_SHOW_MAX + EI_TEXT_EXTRA];
    p->host->safe_text(p->host, shown, sizeof(shown), key, klen, 0);
    size_t plen = strlen(prefix);
    if (memchr(key, '\0', klen) != NULL)
        return ei_parse_error(err, EI_BADDATA, what,
                              "KV reply: entry %zu has a NUL in its Key", idx);
    if (klen < plen || memcmp(key, prefix, plen) != 0)
        return ei_parse_error(err, EI_BADDATA, shown,
                              "KV reply: key outside the prefix %s", prefix);
    if (ji != NULL && !json_is_null(ji) &&
        (!json_is_integer(ji) || json_integer_value(ji) < 0))
        return ei_parse_error(err, EI_BADDATA, shown,
                              "KV reply: ModifyIndex is not an index");
    long long index = json_is_integer(ji) ? json_integer_value(ji) : 0;
    /* a folder is a key of its own in Consul, with no value to give */
    if (key[klen - 1] == '/')
        return EI_OK;
    size_t seg_n = 0;
    if (consul_segments(p, key + plen, klen - plen, &seg_n) < 0)
        return ei_parse_error(err, EI_NOMEM, what, "out of memory");
    if (seg_n == 0)
        return EI_OK;
    size_t vlen = 0;
    if (jv != NULL && !json_is_null(jv)) {
        if (!json_is_string(jv))
            return ei_parse_error(err, EI_BADDATA, shown,
                                  "KV reply: Value is not a base64 string");
        size_t b64_len = json_string_length(jv);
        char *val =
            consul_grow(p->val, &p->val_cap, b64_len / 4 * 3 + 4, 1, true);
        if (val == NULL)
            return ei_parse_error(err, EI_NOMEM, what, "out of memory");
        p->val = val;
        const char *end = NULL;
        if (sodium_base642bin((unsigned char *)p->val, p->val_cap - 1,
                              json_string_value(jv), b64_len, NULL, &vlen, &end,
                              sodium_base64_VARIANT_ORIGINAL) != 0 ||
            end != json_string_value(jv) + b64_len) {
            sodium_memzero(p->val, p->val_cap);
            return ei_parse_error(err, EI_BADDATA, shown,
                                  "KV reply: Value is not valid base64 (%zu "
                                  "bytes)",
                                  b64_len);
        }
    } else {
        char *val = consul_grow(p->val, &p->val_cap, 1, 1, true);
        if (val == NULL)
            return ei_parse_error(err, EI_NOMEM, what, "out of memory");
        p->val = val;
    }
    p->val[vlen] = '\0';
    const char *nul = memchr(p->val, '\0', vlen);
    if (nul != NULL) {
        size_t at = (size_t)(nul - p->val);
        sodium_memzero(p->val, vlen);
        return ei_parse_error(err, EI_BADDATA, shown,
                              "the value holds a NUL byte at offset %zu", at);
    }
    int r = fn(ctx, key, p->seg, seg_n, p->val, vlen, index, err);
    sodium_memzero(p->val, vlen);
    if (r != 0)
        return ei_error_status(err, EI_INTERNAL);
    (*keys)++;
    return EI_OK;
}

enum ei_status ei_consul_parse_kv(const struct ei_host *h, const char *body,
                                  size_t len, const char *prefix,
                                  const char *what, ei_consul_entry_fn fn,
                                  void *ctx, size_t *keys, struct ei_error *err)
{
    *keys = 0;
    json_t *root = ei_json_load_reply(body, len, what, "KV reply", err);
    if (root == NULL)
        return ei_error_status(err, EI_BADDATA);
    enum ei_status st = EI_OK;
    if (!json_is_array(root)) {
        st =
            ei_parse_error(err, EI_BADDATA, what, "KV reply: not a JSON array");
    } else {
        struct consul_parse p = {.host = h};
        for (size_t i = 0; st == EI_OK && i < json_array_size(root); i++)
            st = consul_one(&p, json_array_get(root, i), i, prefix, what, fn,
                            ctx, keys, err);
        consul_parse_fini(&p);
    }
    json_decref(root);
    return st;
}

/* ---- options ---- */

static void consul_state_free(struct consul_state *st)
{
    if (st == NULL)
        return;
    if (st->http != NULL)
        st->host->http_close(st->http);
    if (st->wait_http != NULL)
        st->host->http_close(st->wait_http);
    pthread_mutex_destroy(&st->lock);
    for (size_t i = 0; i < st->endpoints_n; i++)
        free(st->endpoints[i]);
    free(st->endpoints);
    free(st->prefix);
    free(st);
}

static bool consul_true(const char *s)
{
    static const char *const yes[] = {"1", "t", "T", "true", "TRUE", "True"};
    for (size_t i = 0; s != NULL && i < sizeof(yes) / sizeof(yes[0]); i++)
        if (strcmp(s, yes[i]) == 0)
            return true;
    return false;
}

static enum ei_status consul_add_endpoint(struct consul_state *st,
                                          const char *s, size_t len,
                                          bool from_env, struct ei_error *err)
{
    const struct ei_host *h = st->host;
    const char *what = from_env ? "CONSUL_HTTP_ADDR" : "endpoints";
    while (len > 0 && (s[0] == ' ' || s[0] == '\t')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len == 0)
        return h->error(h, err, EI_BADCONFIG, 0, what, "an endpoint is empty");
    if (st->endpoints_n == CONSUL_ENDPOINTS_MAX)
        return h->error(h, err, EI_BADCONFIG, 0, what, "more than %d endpoints",
                        CONSUL_ENDPOINTS_MAX);
    const char *scheme = "";
    const char *sep = memchr(s, ':', len);
    bool has_scheme = sep != NULL && (size_t)(s + len - sep) >= 3 &&
                      sep[1] == '/' && sep[2] == '/';
    if (has_scheme && len >= 7 && strncmp(s, "unix://", 7) == 0)
        return h->error(h, err, EI_BADCONFIG, 0, what,
                        "unix sockets are not supported: give an http:// or "
                        "https:// address");
    if (!has_scheme) {
        /* the Consul CLI takes HOST:PORT and lets CONSUL_HTTP_SSL say
           whether it is TLS; a layer option must say it in the URL */
        if (!from_env)
            return h->error(h, err, EI_BADCONFIG, 0, what,
                            "endpoint %zu needs a scheme (http:// or "
                            "https://)",
                            st->endpoints_n + 1);
        scheme = consul_true(h->env_get(h, "CONSUL_HTTP_SSL")) ? "https://"
                                                               : "http://";
    }
    size_t n = strlen(scheme) + len + 1;
    char *copy = malloc(n);
    if (copy == NULL)
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    snprintf(copy, n, "%s%.*s", scheme, (int)len, s);
    st->endpoints[st->endpoints_n++] = copy;
    return EI_OK;
}

static enum ei_status consul_endpoints(struct consul_state *st,
                                       struct ei_error *err)
{
    const struct ei_host *h = st->host;
    const char *const *list = NULL;
    size_t n = 0;
    int r = h->opt_list(h, "endpoints", &list, &n, err);
    if (r < 0)
        return ei_error_status(err, EI_BADCONFIG);
    st->endpoints = calloc(CONSUL_ENDPOINTS_MAX, sizeof(*st->endpoints));
    if (st->endpoints == NULL)
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    if (r == 0 || n == 0) {
        const char *env = h->env_get(h, "CONSUL_HTTP_ADDR");
        if (env == NULL || env[0] == '\0')
            env = CONSUL_ADDR_DEFAULT;
        return consul_add_endpoint(st, env, strlen(env), true, err);
    }
    for (size_t i = 0; i < n && list[i] != NULL; i++) {
        /* an item may itself be a comma-separated list, as with etcd */
        const char *s = list[i];
        for (;;) {
            const char *comma = strchr(s, ',');
            size_t len = comma != NULL ? (size_t)(comma - s) : strlen(s);
            enum ei_status status = consul_add_endpoint(st, s, len, false, err);
            if (status != EI_OK)
                return status;
            if (comma == NULL)
                break;
            s = comma + 1;
        }
    }
    return EI_OK;
}

static enum ei_status consul_prefix(struct consul_state *st,
                                    struct ei_error *err)
{
    const struct ei_host *h = st->host;
    const char *prefix = NULL;
    int r = h->opt_string(h, "prefix", &prefix, err);
    if (r < 0)
        return ei_error_status(err, EI_BADCONFIG);
    /* the core serves ARG through the getter already; a host that does
       not still offers it here */
    if (r == 0 && h->arg != NULL) {
        prefix = h->arg(h);
        r = prefix != NULL;
    }
    /* a layer made for references reads single keys: no folder */
    if (r == 0 && EI_HOST_HAS(h, references_only) && h->references_only(h))
        return EI_OK;
    if (r == 0)
        return h->error(h, err, EI_BADCONFIG, 0, "prefix",
                        "prefix is required (the KV folder, such as "
                        "\"config/app/${env}/\"; \"\" for the whole store)");
    while (prefix[0] == '/')
        prefix++;
    size_t len = strlen(prefix);
    if (len >= CONSUL_PREFIX_MAX)
        return h->error(h, err, EI_BADCONFIG, 0, "prefix",
                        "prefix longer than %d bytes", CONSUL_PREFIX_MAX - 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)prefix[i];
        if (c < 0x20 || c == 0x7f)
            return h->error(h, err, EI_BADCONFIG, 0, "prefix",
                            "prefix has a control character at offset %zu", i);
    }
    st->prefix = malloc(len + 2);
    if (st->prefix == NULL)
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    memcpy(st->prefix, prefix, len);
    /* a prefix is a plain string prefix in Consul: "app" would also read
       "apple/", so the folder ends in '/' */
    if (len > 0 && prefix[len - 1] != '/')
        st->prefix[len++] = '/';
    st->prefix[len] = '\0';
    return EI_OK;
}

static enum ei_status consul_configure(const struct ei_host *host,
                                       void **statep, struct ei_error *err)
{
    *statep = NULL;
    enum ei_status host_ok = EI_HOST_REQUIRE_HTTP(host, err);
    if (host_ok == EI_OK)
        host_ok = EI_HOST_REQUIRE(host, safe_text, err);
    if (host_ok != EI_OK)
        return host_ok;
    struct consul_state *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return host->error(host, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    st->host = host;
    pthread_mutex_init(&st->lock, NULL);
    enum ei_status s = consul_prefix(st, err);
    if (s == EI_OK)
        s = consul_endpoints(st, err);
    if (s == EI_OK &&
        (host->opt_string(host, "datacenter", &st->dc, err) < 0 ||
         host->opt_string(host, "token", &st->token, err) < 0 ||
         host->opt_path(host, "token_file", &st->token_file, err) < 0))
        s = ei_error_status(err, EI_BADCONFIG);
    if (s == EI_OK && st->dc != NULL) {
        size_t n = strlen(st->dc);
        bool ok = n > 0 && n < CONSUL_DC_MAX;
        for (size_t i = 0; ok && i < n; i++) {
            char c = st->dc[i];
            ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        }
        if (!ok)
            s = host->error(host, err, EI_BADCONFIG, 0, "datacenter",
                            "datacenter must be 1 to %d letters, digits, "
                            "'-', '_' or '.'",
                            CONSUL_DC_MAX - 1);
    }
    if (s == EI_OK && st->token != NULL && st->token_file != NULL)
        s = host->error(host, err, EI_BADCONFIG, 0, "token_file",
                        "give token or token_file, not both");
    if (s == EI_OK && st->token != NULL && st->token[0] == '\0')
        s = host->error(host, err, EI_BADCONFIG, 0, "token",
                        "token must not be empty");
    st->token_file_what = "token_file";
    if (s == EI_OK && st->token == NULL && st->token_file == NULL) {
        /* the Consul API client lets the file win over the variable */
        const char *f = host->env_get(host, "CONSUL_HTTP_TOKEN_FILE");
        if (f != NULL && f[0] != '\0') {
            st->token_file = f;
            st->token_file_what = "CONSUL_HTTP_TOKEN_FILE";
        }
    }
    if (s == EI_OK) {
        /* CONSUL_CACERT, as the consul CLI, unless the layer sets cacert */
        if (EI_HOST_HAS(host, http_open_ca))
            s = host->http_open_ca(
                host, (const char *const *)st->endpoints, st->endpoints_n,
                host->env_get(host, "CONSUL_CACERT"), &st->http, err);
        else
            s = host->http_open(host, (const char *const *)st->endpoints,
                                st->endpoints_n, &st->http, err);
        if (s != EI_OK)
            st->http = NULL;
    }
    /* the client of the watch mode's blocking queries, which run in a
       thread of their own: opened now, as opening does no I/O and the
       layer's list of clients is not for threads */
    if (s == EI_OK && EI_HOST_HAS(host, http_header)) {
        if (EI_HOST_HAS(host, http_open_ca))
            s = host->http_open_ca(
                host, (const char *const *)st->endpoints, st->endpoints_n,
                host->env_get(host, "CONSUL_CACERT"), &st->wait_http, err);
        else
            s = host->http_open(host, (const char *const *)st->endpoints,
                                st->endpoints_n, &st->wait_http, err);
        if (s != EI_OK)
            st->wait_http = NULL;
    }
    if (s != EI_OK) {
        consul_state_free(st);
        return s;
    }
    *statep = st;
    return EI_OK;
}

/* ---- fetch ---- */

struct consul_run {
    struct consul_state *st;
    struct ei_sink *sink;
    const char *member;
    char *token_header; /* secret memory */
    size_t token_header_size;
    const char *token_source; /* NULL: no token sent */
    char *loc;
    size_t loc_cap;
    const char *subject; /* what messages say is read: "prefix P", "key K" */
};

static enum ei_status consul_set_token(struct consul_run *run, const char *tok,
                                       size_t len, const char *source,
                                       struct ei_error *err)
{
    const struct ei_host *h = run->st->host;
    while (len > 0 && (tok[len - 1] == '\n' || tok[len - 1] == '\r' ||
                       tok[len - 1] == ' ' || tok[len - 1] == '\t'))
        len--;
    while (len > 0 && (tok[0] == ' ' || tok[0] == '\t')) {
        tok++;
        len--;
    }
    if (len == 0)
        return h->error(h, err, EI_DENIED, 0, source, "the token is empty");
    if (len >= CONSUL_TOKEN_MAX)
        return h->error(h, err, EI_DENIED, 0, source,
                        "the token has %zu bytes, more than %d", len,
                        CONSUL_TOKEN_MAX - 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)tok[i];
        if (c <= 0x20 || c >= 0x7f)
            return h->error(h, err, EI_DENIED, 0, source,
                            "the token has a character not allowed in a "
                            "header at offset %zu",
                            i);
    }
    size_t size = strlen(CONSUL_TOKEN_HEADER) + len + 1;
    run->token_header = h->secret_alloc(h, size);
    if (run->token_header == NULL)
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    run->token_header_size = size;
    memcpy(run->token_header, CONSUL_TOKEN_HEADER, strlen(CONSUL_TOKEN_HEADER));
    memcpy(run->token_header + strlen(CONSUL_TOKEN_HEADER), tok, len);
    run->token_header[size - 1] = '\0';
    run->token_source = source;
    return EI_OK;
}

/* The token: the option, the file (option or CONSUL_HTTP_TOKEN_FILE), then
   CONSUL_HTTP_TOKEN; none means the agent's default token. */
static enum ei_status consul_token(struct consul_run *run, struct ei_error *err)
{
    struct consul_state *st = run->st;
    const struct ei_host *h = st->host;
    if (st->token != NULL)
        return consul_set_token(run, st->token, strlen(st->token), "token",
                                err);
    if (st->token_file != NULL) {
        struct ei_buf buf = {0};
        struct ei_error rerr = {0};
        enum ei_status s = h->read_file(
            h, st->token_file, EI_READ_SECRET | EI_READ_PRIVATE, &buf, &rerr);
        if (s != EI_OK) {
            /* a missing token is no missing source: an optional layer
               must not be skipped silently for it */
            if (s == EI_NOTFOUND)
                s = EI_DENIED;
            return h->error(h, err, s, rerr.errnum, st->token_file, "%s: %s",
                            st->token_file_what,
                            rerr.text[0] != '\0' ? rerr.text : "cannot read");
        }
        s = consul_set_token(run, buf.data, buf.len, st->token_file_what, err);
        h->buf_free(h, &buf);
        return s;
    }
    const char *env = h->env_get(h, "CONSUL_HTTP_TOKEN");
    if (env != NULL && env[0] != '\0')
        return consul_set_token(run, env, strlen(env), "CONSUL_HTTP_TOKEN",
                                err);
    return EI_OK;
}

/* "config/app/DB_HOST@42 (http://127.0.0.1:8500)", as etcd's locators. */
static int consul_locator(struct consul_run *run, const char *key,
                          long long index)
{
    size_t len = strlen(key);
    size_t shown = len < CONSUL_SHOW_MAX ? len : CONSUL_SHOW_MAX;
    size_t need = shown + strlen(run->member) + CONSUL_LOC_EXTRA;
    if (need > run->loc_cap) {
        char *p = realloc(run->loc, need);
        if (p == NULL)
            return -1;
        run->loc = p;
        run->loc_cap = need;
    }
    const struct ei_host *h = run->st->host;
    h->safe_text(h, run->loc, shown + EI_TEXT_EXTRA, key, len, 0);
    size_t used = strlen(run->loc);
    snprintf(run->loc + used, run->loc_cap - used, "@%lld (%s)", index,
             run->member);
    return 0;
}

static int consul_emit(void *ctx, const char *key, const char *const *name,
                       size_t name_n, const char *value, size_t value_len,
                       long long index, struct ei_error *err)
{
    struct consul_run *run = ctx;
    if (consul_locator(run, key, index) < 0)
        return ei_parse_error(err, EI_NOMEM, NULL, "out of memory"), -1;
    return run->sink->emit(run->sink, name, name_n, value, value_len, run->loc,
                           0, err);
}

static enum ei_status consul_http_fail(struct consul_run *run,
                                       const struct ei_http_response *resp,
                                       struct ei_error *err)
{
    const struct ei_host *h = run->st->host;
    const char *subject = run->subject;
    long s = resp->status;
    if (s == HTTP_FORBIDDEN) {
        if (run->token_source == NULL)
            return h->error(h, err, EI_DENIED, 0, run->member,
                            "permission denied reading %s (HTTP 403, "
                            "no token: set token, token_file or "
                            "CONSUL_HTTP_TOKEN)",
                            subject);
        return h->error(h, err, EI_DENIED, 0, run->member,
                        "permission denied reading %s (HTTP 403, "
                        "token from %s)",
                        subject, run->token_source);
    }
    if (s == HTTP_TOO_MANY || (s >= HTTP_SERVER_ERROR && s < HTTP_STATUS_END))
        return h->error(h, err, EI_UNAVAILABLE, 0, run->member,
                        "server error (HTTP %ld)", s);
    if (s == HTTP_BAD_METHOD || s == HTTP_NOT_FOUND)
        return h->error(h, err, EI_BADDATA, 0, run->member,
                        "not a Consul KV endpoint (HTTP %ld)", s);
    if (s == HTTP_BAD_REQUEST)
        return h->error(h, err, EI_BADDATA, 0, run->member,
                        "request refused for %s (HTTP 400)", subject);
    return h->error(h, err, EI_BADDATA, 0, run->member,
                    "unexpected response (HTTP %ld, %zu bytes)", s,
                    resp->body_len);
}

static void consul_run_fini(struct consul_run *run)
{
    const struct ei_host *h = run->st->host;
    if (run->token_header != NULL)
        h->secret_free(h, run->token_header, run->token_header_size);
    free(run->loc);
}

/* GET url with the layer's token: the answer in *resp (the caller frees
   it), run->member set. */
static enum ei_status consul_get(struct consul_run *run, struct ei_http *c,
                                 const char *url, const struct ei_deadline *dl,
                                 struct ei_http_response *resp,
                                 struct ei_error *err)
{
    const struct ei_host *h = run->st->host;
    memset(resp, 0, sizeof(*resp));
    enum ei_status s = consul_token(run, err);
    if (s != EI_OK)
        return s;
    const char *headers[2] = {run->token_header, NULL};
    struct ei_http_request req = {
        .method = "GET",
        .path = url,
        .headers = headers,
        .flags = EI_HTTP_SECRET,
    };
    s = h->http_request(c, &req, dl, resp, err);
    run->member = resp->endpoint != NULL ? resp->endpoint : "?";
    return s;
}

/* The recursive read of the prefix; with index > 0, a blocking query on
   it that waits up to wait_s seconds. */
static enum ei_status consul_url(const struct consul_state *st, char *url,
                                 size_t size, uint64_t index, int wait_s,
                                 struct ei_error *err)
{
    const struct ei_host *h = st->host;
    size_t len = 0;
    char block[64] = "";
    if (index > 0)
        snprintf(block, sizeof(block), "&index=%" PRIu64 "&wait=%ds", index,
                 wait_s);
    if (ei_url_append(url, size, &len, "/v1/kv/", false) < 0 ||
        ei_url_append(url, size, &len, st->prefix, true) < 0 ||
        ei_url_append(url, size, &len, "?recurse", false) < 0 ||
        (st->dc != NULL &&
         (ei_url_append(url, size, &len, "&dc=", false) < 0 ||
          ei_url_append(url, size, &len, st->dc, true) < 0)) ||
        ei_url_append(url, size, &len, block, false) < 0)
        return h->error(h, err, EI_INTERNAL, 0, st->prefix, "URL too long");
    return EI_OK;
}

/* X-Consul-Index of the answer c received last, 0 when it has none. */
static uint64_t consul_answer_index(const struct consul_state *st,
                                    struct ei_http *c)
{
    const struct ei_host *h = st->host;
    char v[CONSUL_INDEX_LEN];
    if (!EI_HOST_HAS(h, http_header) ||
        h->http_header(c, "X-Consul-Index", v, sizeof(v)) <= 0)
        return 0;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno != 0 || *end != '\0' || v[0] < '0' || v[0] > '9')
        return 0;
    return (uint64_t)n;
}

static enum ei_status consul_fetch(void *state, struct ei_sink *sink,
                                   const struct ei_deadline *dl,
                                   struct ei_error *err)
{
    struct consul_state *st = state;
    const struct ei_host *h = st->host;
    struct consul_run run = {.st = st, .sink = sink};
    char url[CONSUL_URL_MAX];
    enum ei_status s = consul_url(st, url, sizeof(url), 0, 0, err);
    if (s != EI_OK)
        return s;
    char subject[CONSUL_SHOW_MAX + EI_TEXT_EXTRA + 8];
    snprintf(subject, sizeof(subject), "prefix %s", st->prefix);
    run.subject = subject;
    struct ei_http_response resp;
    s = consul_get(&run, st->http, url, dl, &resp, err);
    if (s != EI_OK)
        goto out;
    st->index = consul_answer_index(st, st->http);
    size_t keys = 0;
    if (resp.status == HTTP_NOT_FOUND && resp.body_len == 0) {
        /* Consul's answer for a prefix with no keys: an empty layer */
        h->log(h, EI_LOG_DEBUG, "no keys under %s", st->prefix);
    } else if (resp.status != HTTP_OK) {
        s = consul_http_fail(&run, &resp, err);
    } else {
        s = ei_consul_parse_kv(st->host, resp.body, resp.body_len, st->prefix,
                               run.member, consul_emit, &run, &keys, err);
        if (s == EI_OK)
            h->log(h, EI_LOG_DEBUG, "%zu keys under %s from %s", keys,
                   st->prefix, run.member);
    }
    h->http_response_free(st->http, &resp);
    if (s == EI_OK && st->index > 0) {
        char text[24];
        snprintf(text, sizeof(text), "%" PRIu64, st->index);
        ei_revision_report(h, text);
    }
out:
    consul_run_fini(&run);
    return s;
}

/* ---- references: ref+consul://KEY ---- */

struct consul_ref {
    struct consul_run *run;
    const char *key;
    bool found;
};

static int consul_ref_entry(void *ctx, const char *key,
                            const char *const *name, size_t name_n,
                            const char *value, size_t value_len,
                            long long modify_index, struct ei_error *err)
{
    struct consul_ref *cr = ctx;
    if (strcmp(key, cr->key) != 0 || cr->found)
        return 0;
    cr->found = true;
    return consul_emit(cr->run, key, name, name_n, value, value_len,
                       modify_index, err);
}

/*
 * One key, as vals would name it: "ref+consul://config/app/DB_PASSWORD"
 * (a leading '/' is dropped); the value as it is (its fragment, if any,
 * is the core's to pick).  The token and datacenter are the layer's.
 */
static enum ei_status consul_lookup(void *state, const char *ref,
                                    struct ei_sink *sink,
                                    const struct ei_deadline *dl,
                                    struct ei_error *err)
{
    static const char head[] = "ref+consul://";
    struct consul_state *st = state;
    const struct ei_host *h = st->host;
    if (strncmp(ref, head, sizeof(head) - 1) != 0)
        return h->error(h, err, EI_BADDATA, 0, "reference",
                        "not a ref+consul:// reference");
    const char *key = ref + sizeof(head) - 1;
    while (key[0] == '/')
        key++;
    size_t len = strlen(key);
    if (strchr(key, '?') != NULL)
        return h->error(h, err, EI_BADDATA, 0, "reference",
                        "consul references take no query parameters");
    if (len == 0 || key[len - 1] == '/' || len >= CONSUL_PREFIX_MAX)
        return h->error(h, err, EI_BADDATA, 0, "reference",
                        "a consul reference names one key (not empty, not "
                        "a folder, under %d bytes)",
                        CONSUL_PREFIX_MAX);
    char url[CONSUL_URL_MAX];
    size_t ulen = 0;
    if (ei_url_append(url, sizeof(url), &ulen, "/v1/kv/", false) < 0 ||
        ei_url_append(url, sizeof(url), &ulen, key, true) < 0 ||
        (st->dc != NULL &&
         (ei_url_append(url, sizeof(url), &ulen, "?dc=", false) < 0 ||
          ei_url_append(url, sizeof(url), &ulen, st->dc, true) < 0)))
        return h->error(h, err, EI_BADDATA, 0, "reference", "key too long");
    char shown[CONSUL_SHOW_MAX + EI_TEXT_EXTRA];
    h->safe_text(h, shown, sizeof(shown), key, len, 0);
    char subject[sizeof(shown) + 8];
    snprintf(subject, sizeof(subject), "key %s", shown);
    struct consul_run run = {.st = st, .sink = sink, .subject = subject};
    struct ei_http_response resp;
    enum ei_status s = consul_get(&run, st->http, url, dl, &resp, err);
    if (s != EI_OK)
        goto out;
    if (resp.status == HTTP_NOT_FOUND && resp.body_len == 0) {
        s = h->error(h, err, EI_NOTFOUND, 0, run.member, "no key %s", shown);
    } else if (resp.status != HTTP_OK) {
        s = consul_http_fail(&run, &resp, err);
    } else {
        struct consul_ref cr = {.run = &run, .key = key};
        size_t keys = 0;
        s = ei_consul_parse_kv(h, resp.body, resp.body_len, "", run.member,
                               consul_ref_entry, &cr, &keys, err);
        if (s == EI_OK && !cr.found)
            s = h->error(h, err, EI_NOTFOUND, 0, run.member, "no key %s",
                         shown);
    }
    h->http_response_free(st->http, &resp);
out:
    consul_run_fini(&run);
    return s;
}

static void consul_destroy(void *state)
{
    consul_state_free(state);
}

/* ---- run --watch ---- */

/* Blocking queries from the index of the last fetch, when the host can
   read it; else the core polls. */
static enum ei_watch_kind consul_watch(void *state, const char *const **paths,
                                       int64_t *poll_ms)
{
    struct consul_state *st = state;
    (void)paths;
    (void)poll_ms;
    if (st->wait_http == NULL || st->index == 0)
        return EI_WATCH_POLL;
    pthread_mutex_lock(&st->lock);
    st->watch_index = st->index;
    st->watch_gen++;
    pthread_mutex_unlock(&st->lock);
    return EI_WATCH_BLOCKING;
}

/*
 * One blocking query.  Its answer is no proof of change: the index says.
 * Consul's rules: an index lower than ours means the store was reset
 * (read again from 0); one of 0 counts as 1.
 */
static enum ei_status consul_wait_change(void *state,
                                         const struct ei_deadline *dl,
                                         bool *changed, struct ei_error *err)
{
    struct consul_state *st = state;
    const struct ei_host *h = st->host;
    *changed = false;
    pthread_mutex_lock(&st->lock);
    if (st->wait_gen != st->watch_gen) {
        st->wait_gen = st->watch_gen;
        st->wait_index = st->watch_index;
    }
    pthread_mutex_unlock(&st->lock);
    uint64_t idx = st->wait_index > 0 ? st->wait_index : 1;
    /* leave room for the server's jitter (wait / 16) and the answer */
    int64_t left_s = h->remaining_ms(h, dl) / 1000;
    int64_t wait_s = left_s * 16 / 17 - 2;
    if (wait_s > CONSUL_WAIT_MAX_S)
        wait_s = CONSUL_WAIT_MAX_S;
    if (wait_s < 1)
        return EI_OK; /* the core calls again with a new deadline */
    char url[CONSUL_URL_MAX];
    enum ei_status s = consul_url(st, url, sizeof(url), idx, (int)wait_s, err);
    if (s != EI_OK)
        return s;
    char subject[CONSUL_SHOW_MAX + EI_TEXT_EXTRA + 8];
    snprintf(subject, sizeof(subject), "prefix %s", st->prefix);
    struct consul_run run = {.st = st, .subject = subject};
    struct ei_http_response resp;
    s = consul_get(&run, st->wait_http, url, dl, &resp, err);
    if (s != EI_OK)
        goto out;
    if (resp.status == HTTP_OK ||
        (resp.status == HTTP_NOT_FOUND && resp.body_len == 0)) {
        uint64_t got = consul_answer_index(st, st->wait_http);
        if (got == 0)
            got = 1;
        if (got < idx) {
            h->log(h, EI_LOG_INFO, "the Consul index went back from %" PRIu64
                   " to %" PRIu64 ": reading again", idx, got);
            st->wait_index = 0;
            *changed = true;
        } else if (got > idx) {
            st->wait_index = got;
            *changed = true;
        }
    } else {
        s = consul_http_fail(&run, &resp, err);
    }
    h->http_response_free(st->wait_http, &resp);
out:
    if (run.token_header != NULL)
        h->secret_free(h, run.token_header, run.token_header_size);
    return s;
}

EI_PROVIDER_DEFINE(consul) = {
    .abi = EI_PROVIDER_ABI,
    .size = sizeof(struct ei_provider),
    .name = "consul",
    .summary = "Consul KV keys under a prefix",
    .arg_option = "prefix",
    .flags = EI_PROV_REMOTE | EI_PROV_INTERP | EI_PROV_OWN_PREFIX,
    .configure = consul_configure,
    .fetch = consul_fetch,
    .lookup = consul_lookup,
    .destroy = consul_destroy,
    .env_consumed = NULL,
    .watch = consul_watch,
    .wait_change = consul_wait_change,
};
