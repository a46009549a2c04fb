/* SPDX-License-Identifier: MIT */
/* The ofrep provider: every flag an OpenFeature Remote Evaluation Protocol
   server (flagd, GO Feature Flag, Flipt, ...) evaluates for one context,
   read with one bulk evaluation request. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <envinject/provider.h>
#include <jansson.h>
#include <sodium.h>

#include "common/jsonflat.h"
#include "common/parse_error.h"
#include "common/revision.h"
#include "ofrep_parse.h"

#define OFREP_BULK_PATH     "/ofrep/v1/evaluate/flags"
#define OFREP_PREFIX_DEF    "FF_"
#define OFREP_BEARER        "Authorization: Bearer "
#define OFREP_IF_NONE_MATCH "If-None-Match: "
#define OFREP_TOKEN_MAX     8192
#define OFREP_PREFIX_MAX    256
#define OFREP_ENDPOINT_MAX  2048
#define OFREP_HEADERS_MAX   64
/* an ETag longer than this is not kept: the layer is read in full again */
#define OFREP_ETAG_MAX 512
/* bytes of a flag key, a code or server details shown in messages */
#define OFREP_SHOW_MAX    200
#define OFREP_DETAILS_MAX 200
/* jansson's own limit is deeper; the flag text writer stops at 64 */
#define OFREP_VALUE_DEPTH 64
/* the request headers: content type, accept, the user's, the bearer
   token, If-None-Match and the terminating NULL */
#define OFREP_FIXED_HEADERS 5

#define HTTP_OK           200
#define HTTP_NOT_MODIFIED 304
#define HTTP_BAD_REQUEST  400
#define HTTP_UNAUTHORIZED 401
#define HTTP_FORBIDDEN    403
#define HTTP_NOT_FOUND    404
#define HTTP_TOO_MANY     429
#define HTTP_SERVER_ERROR 500
#define HTTP_STATUS_END   600

struct ofrep_state {
    const struct ei_host *host;
    struct ei_http *http;
    char *endpoint;   /* the base URL, no trailing '/' */
    const char *what; /* "endpoint" or "OFREP_ENDPOINT" */
    const char *token_file;
    const char *const *headers; /* validated "Name: value" lines */
    size_t headers_n;
    bool headers_auth;        /* the headers carry Authorization or X-API-Key */
    const char *const *flags; /* only these, when given */
    size_t flags_n;
    const char *flag_prefix;
    char *body; /* the request: {"context": {...}} */
    size_t body_len;
    /* what the last 200 said, for a 304 to a later fetch */
    char etag[OFREP_ETAG_MAX];
    char *kept; /* secret memory, kept_size bytes */
    size_t kept_len;
    size_t kept_size;
};

/* ---- the parser (ofrep_parse.h) ---- */

static size_t ofrep_depth(const json_t *j)
{
    size_t deepest = 0;
    if (json_is_object(j)) {
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)j, k, v)
        {
            size_t d = ofrep_depth(v);
            if (d > deepest)
                deepest = d;
        }
        return deepest + 1;
    }
    if (json_is_array(j)) {
        size_t i;
        const json_t *v;
        json_array_foreach(j, i, v)
        {
            size_t d = ofrep_depth(v);
            if (d > deepest)
                deepest = d;
        }
        return deepest + 1;
    }
    return 0;
}

static enum ei_status ofrep_item(const struct ei_host *h, const json_t *item,
                                 size_t idx, json_t *seen, const char *what,
                                 const struct ei_ofrep_cb *cb, void *ctx,
                                 struct ei_error *err)
{
    if (!json_is_object(item))
        return ei_parse_error(err, EI_BADDATA, what,
                              "bulk reply: flags[%zu] is not an object", idx);
    const json_t *jk = json_object_get(item, "key");
    if (!json_is_string(jk) || json_string_length(jk) == 0)
        return ei_parse_error(err, EI_BADDATA, what,
                              "bulk reply: flags[%zu] has no key", idx);
    const char *key = json_string_value(jk);
    char shown[OFREP_SHOW_MAX + EI_TEXT_EXTRA];
    h->safe_text(h, shown, sizeof(shown), key, json_string_length(jk), 0);
    if (json_object_get(seen, key) != NULL)
        return ei_parse_error(err, EI_BADDATA, what,
                              "bulk reply: flag %s appears twice", shown);
    if (json_object_set_new(seen, key, json_true()) < 0)
        return ei_parse_error(err, EI_NOMEM, what, "out of memory");
    const json_t *code = json_object_get(item, "errorCode");
    if (code != NULL && !json_is_null(code)) {
        if (!json_is_string(code))
            return ei_parse_error(err, EI_BADDATA, what,
                                  "bulk reply: flag %s: errorCode is not a "
                                  "string",
                                  shown);
        const json_t *det = json_object_get(item, "errorDetails");
        cb->skip(ctx, key, json_string_value(code),
                 json_is_string(det) ? json_string_value(det) : NULL);
        return EI_OK;
    }
    const json_t *value = json_object_get(item, "value");
    if (value == NULL || json_is_null(value)) {
        cb->skip(ctx, key, NULL, NULL);
        return EI_OK;
    }
    if (ofrep_depth(value) > OFREP_VALUE_DEPTH)
        return ei_parse_error(err, EI_BADDATA, what,
                              "bulk reply: flag %s: value nested deeper than "
                              "%d levels",
                              shown, OFREP_VALUE_DEPTH);
    size_t len = 0;
    char *text = ei_json_flag_text(value, &len);
    if (text == NULL)
        return ei_parse_error(err, EI_NOMEM, what, "out of memory");
    const json_t *variant = json_object_get(item, "variant");
    int r = cb->flag(
        ctx, key, text, len,
        json_is_string(variant) ? json_string_value(variant) : NULL, err);
    sodium_memzero(text, len);
    free(text);
    return r == 0 ? EI_OK : ei_error_status(err, EI_INTERNAL);
}

enum ei_status ei_ofrep_parse_bulk(const struct ei_host *h, const char *body,
                                   size_t len, const char *what,
                                   const struct ei_ofrep_cb *cb, void *ctx,
                                   struct ei_error *err)
{
    json_t *root = ei_json_load_reply(body, len, what, "bulk reply", err);
    if (root == NULL)
        return ei_error_status(err, EI_BADDATA);
    enum ei_status st = EI_OK;
    const json_t *flags = json_object_get(root, "flags");
    json_t *seen = json_object();
    if (seen == NULL)
        st = ei_parse_error(err, EI_NOMEM, what, "out of memory");
    else if (!json_is_object(root))
        st = ei_parse_error(err, EI_BADDATA, what,
                            "bulk reply: not a JSON object");
    else if (!json_is_array(flags))
        st =
            ei_parse_error(err, EI_BADDATA, what, "bulk reply: no flags array");
    for (size_t i = 0; st == EI_OK && i < json_array_size(flags); i++)
        st = ofrep_item(h, json_array_get(flags, i), i, seen, what, cb, ctx,
                        err);
    json_decref(seen);
    json_decref(root);
    return st;
}

/* ---- options ---- */

static void ofrep_state_free(struct ofrep_state *st)
{
    if (st == NULL)
        return;
    if (st->http != NULL)
        st->host->http_close(st->http);
    if (st->kept != NULL)
        st->host->secret_free(st->host, st->kept, st->kept_size);
    if (st->body != NULL) {
        sodium_memzero(st->body, st->body_len);
        free(st->body);
    }
    free(st->endpoint);
    free(st);
}

static enum ei_status ofrep_endpoint(struct ofrep_state *st,
                                     struct ei_error *err)
{
    const struct ei_host *h = st->host;
    const char *ep = NULL;
    st->what = "endpoint";
    int r = h->opt_string(h, "endpoint", &ep, err);
    if (r < 0)
        return ei_error_status(err, EI_BADCONFIG);
    /* the core serves ARG through the getter already; a host that does
       not still offers it here */
    if (r == 0 && h->arg != NULL && h->arg(h) != NULL) {
        ep = h->arg(h);
        r = 1;
    }
    if (r == 0) {
        /* the variable OpenFeature's OFREP providers read (ADR 0007) */
        ep = h->env_get(h, "OFREP_ENDPOINT");
        st->what = "OFREP_ENDPOINT";
    }
    if (ep == NULL || ep[0] == '\0')
        return h->error(h, err, EI_BADCONFIG, 0, "endpoint",
                        "endpoint is required (the server's base URL, such "
                        "as \"http://flagd:8016\"; or set OFREP_ENDPOINT)");
    size_t len = strlen(ep);
    while (len > 0 && ep[len - 1] == '/')
        len--;
    if (len == 0 || len >= OFREP_ENDPOINT_MAX)
        return h->error(h, err, EI_BADCONFIG, 0, st->what,
                        "%s must be a URL of 1 to %d bytes", st->what,
                        OFREP_ENDPOINT_MAX - 1);
    if (memchr(ep, '?', len) != NULL || memchr(ep, '#', len) != NULL)
        return h->error(h, err, EI_BADCONFIG, 0, st->what,
                        "%s is a base URL: no query or fragment", st->what);
    for (size_t i = 0; i + strlen("/ofrep") <= len; i++)
        if (memcmp(ep + i, "/ofrep", strlen("/ofrep")) == 0 &&
            (i + strlen("/ofrep") == len || ep[i + strlen("/ofrep")] == '/'))
            return h->error(h, err, EI_BADCONFIG, 0, st->what,
                            "%s is the base URL, the part before /ofrep "
                            "(the provider adds " OFREP_BULK_PATH ")",
                            st->what);
    st->endpoint = malloc(len + 1);
    if (st->endpoint == NULL)
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    memcpy(st->endpoint, ep, len);
    st->endpoint[len] = '\0';
    return EI_OK;
}

/* RFC 9110 token characters: what a header name is made of. */
static bool ofrep_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static enum ei_status ofrep_headers(struct ofrep_state *st,
                                    struct ei_error *err)
{
    /* the provider sends these itself; a second copy would contradict */
    static const char *const own[] = {"Content-Type", "Content-Length", "Host",
                                      "If-None-Match", "Transfer-Encoding"};
    const struct ei_host *h = st->host;
    if (h->opt_list(h, "headers", &st->headers, &st->headers_n, err) < 0)
        return ei_error_status(err, EI_BADCONFIG);
    if (st->headers_n > OFREP_HEADERS_MAX)
        return h->error(h, err, EI_BADCONFIG, 0, "headers",
                        "more than %d headers", OFREP_HEADERS_MAX);
    for (size_t i = 0; i < st->headers_n; i++) {
        const char *line = st->headers[i];
        size_t n = 0;
        while (ofrep_tchar((unsigned char)line[n]))
            n++;
        if (n == 0 || line[n] != ':')
            return h->error(h, err, EI_BADCONFIG, 0, "headers",
                            "header %zu is not \"Name: value\"", i + 1);
        /* the value may be a key: the message names the header only */
        for (const char *v = line + n + 1; *v != '\0'; v++) {
            unsigned char c = (unsigned char)*v;
            if ((c < 0x20 && c != '\t') || c == 0x7f)
                return h->error(h, err, EI_BADCONFIG, 0, "headers",
                                "header %zu (%.*s) has a control character "
                                "in its value",
                                i + 1, (int)n, line);
        }
        for (size_t k = 0; k < sizeof(own) / sizeof(own[0]); k++)
            if (strlen(own[k]) == n && strncasecmp(line, own[k], n) == 0)
                return h->error(h, err, EI_BADCONFIG, 0, "headers",
                                "header %zu: %s is the provider's own", i + 1,
                                own[k]);
        if ((n == strlen("Authorization") &&
             strncasecmp(line, "Authorization", n) == 0) ||
            (n == strlen("X-API-Key") &&
             strncasecmp(line, "X-API-Key", n) == 0))
            st->headers_auth = true;
    }
    return EI_OK;
}

/* The request body, {"context": CONTEXT}, made once from the options. */
static enum ei_status ofrep_context(struct ofrep_state *st,
                                    struct ei_error *err)
{
    const struct ei_host *h = st->host;
    const char *text = NULL;
    int r = h->opt_json(h, "context", &text, err);
    if (r < 0)
        return ei_error_status(err, EI_BADCONFIG);
    json_t *ctx =
        r == 0 ? json_object() : json_loads(text, JSON_DECODE_ANY, NULL);
    if (ctx == NULL)
        return h->error(h, err, r == 0 ? EI_NOMEM : EI_INTERNAL, 0, "context",
                        "cannot read the context");
    enum ei_status s = EI_OK;
    const json_t *tk = json_object_get(ctx, "targetingKey");
    if (!json_is_object(ctx))
        s = h->error(h, err, EI_BADCONFIG, 0, "context",
                     "context must be a group, such as context = { "
                     "targetingKey = \"user-1\"; plan = \"pro\"; }");
    else if (tk != NULL && !json_is_string(tk))
        s = h->error(h, err, EI_BADCONFIG, 0, "context.targetingKey",
                     "context.targetingKey must be a string");
    json_t *req = s == EI_OK ? json_pack("{sO}", "context", ctx) : NULL;
    json_decref(ctx);
    if (s != EI_OK)
        return s;
    st->body = ei_json_dumps(req, JSON_COMPACT | JSON_PRESERVE_ORDER,
                             &st->body_len);
    json_decref(req);
    if (st->body == NULL)
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    return EI_OK;
}

static enum ei_status ofrep_configure(const struct ei_host *host, void **statep,
                                      struct ei_error *err)
{
    *statep = NULL;
    enum ei_status s = EI_HOST_REQUIRE_HTTP(host, err);
    if (s == EI_OK)
        s = EI_HOST_REQUIRE(host, safe_text, err);
    if (s == EI_OK)
        s = EI_HOST_REQUIRE(host, http_header, err);
    if (s == EI_OK)
        s = EI_HOST_REQUIRE(host, opt_json, err);
    if (s != EI_OK)
        return s;
    struct ofrep_state *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return host->error(host, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    st->host = host;
    st->flag_prefix = OFREP_PREFIX_DEF;
    s = ofrep_endpoint(st, err);
    if (s == EI_OK)
        s = ofrep_headers(st, err);
    if (s == EI_OK &&
        (host->opt_path(host, "token_file", &st->token_file, err) < 0 ||
         host->opt_string(host, "flag_prefix", &st->flag_prefix, err) < 0 ||
         host->opt_list(host, "flags", &st->flags, &st->flags_n, err) < 0))
        s = ei_error_status(err, EI_BADCONFIG);
    if (s == EI_OK && st->token_file != NULL && st->headers_auth)
        s = host->error(host, err, EI_BADCONFIG, 0, "token_file",
                        "give token_file or an Authorization (or X-API-Key) "
                        "header, not both");
    if (s == EI_OK && strlen(st->flag_prefix) >= OFREP_PREFIX_MAX)
        s = host->error(host, err, EI_BADCONFIG, 0, "flag_prefix",
                        "flag_prefix longer than %d bytes",
                        OFREP_PREFIX_MAX - 1);
    if (s == EI_OK && st->flags != NULL && st->flags_n == 0)
        s = host->error(host, err, EI_BADCONFIG, 0, "flags",
                        "flags is empty: leave it out to take every flag");
    for (size_t i = 0; s == EI_OK && i < st->flags_n; i++)
        if (st->flags[i][0] == '\0')
            s = host->error(host, err, EI_BADCONFIG, 0, "flags",
                            "flags: item %zu is empty", i + 1);
    if (s == EI_OK)
        s = ofrep_context(st, err);
    if (s == EI_OK) {
        const char *eps[] = {st->endpoint};
        s = host->http_open(host, eps, 1, &st->http, err);
        if (s != EI_OK)
            st->http = NULL;
    }
    if (s != EI_OK) {
        ofrep_state_free(st);
        return s;
    }
    *statep = st;
    return EI_OK;
}

/* ---- fetch ---- */

struct ofrep_run {
    struct ofrep_state *st;
    struct ei_sink *sink;
    const char *member; /* the endpoint that answered */
    bool replay;        /* the kept answer again: its warnings were given */
    bool *listed;       /* which of st->flags the reply had */
    char *token_header; /* secret memory */
    size_t token_header_size;
    char *name;
    size_t name_cap;
    size_t used, skipped;
};

static enum ei_status ofrep_token(struct ofrep_run *run, struct ei_error *err)
{
    struct ofrep_state *st = run->st;
    const struct ei_host *h = st->host;
    struct ei_buf buf = {0};
    struct ei_error rerr = {0};
    enum ei_status s = h->read_file(
        h, st->token_file, EI_READ_SECRET | EI_READ_PRIVATE, &buf, &rerr);
    if (s != EI_OK) {
        /* a missing token is no missing source: an optional layer must
           not be skipped silently for it */
        if (s == EI_NOTFOUND)
            s = EI_DENIED;
        return h->error(h, err, s, rerr.errnum, st->token_file,
                        "token_file: %s",
                        rerr.text[0] != '\0' ? rerr.text : "cannot read");
    }
    size_t len = buf.len;
    /* one final line end, as an editor leaves it */
    if (len > 0 && buf.data[len - 1] == '\n')
        len--;
    if (len > 0 && buf.data[len - 1] == '\r')
        len--;
    s = EI_OK;
    if (len == 0)
        s = h->error(h, err, EI_DENIED, 0, st->token_file,
                     "token_file: the token is empty");
    else if (len >= OFREP_TOKEN_MAX)
        s = h->error(h, err, EI_DENIED, 0, st->token_file,
                     "token_file: the token has %zu bytes, more than %d", len,
                     OFREP_TOKEN_MAX - 1);
    for (size_t i = 0; s == EI_OK && i < len; i++) {
        unsigned char c = (unsigned char)buf.data[i];
        if (c <= 0x20 || c >= 0x7f)
            s = h->error(h, err, EI_DENIED, 0, st->token_file,
                         "token_file: the token has a character not allowed "
                         "in a header at offset %zu",
                         i);
    }
    if (s == EI_OK) {
        size_t size = strlen(OFREP_BEARER) + len + 1;
        run->token_header = h->secret_alloc(h, size);
        if (run->token_header == NULL) {
            s = h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
        } else {
            run->token_header_size = size;
            memcpy(run->token_header, OFREP_BEARER, strlen(OFREP_BEARER));
            memcpy(run->token_header + strlen(OFREP_BEARER), buf.data, len);
            run->token_header[size - 1] = '\0';
        }
    }
    h->buf_free(h, &buf);
    return s;
}

/* The index of key in the flags option, or flags_n when not listed. */
static size_t ofrep_listed(const struct ofrep_state *st, const char *key)
{
    size_t i = 0;
    while (i < st->flags_n && strcmp(st->flags[i], key) != 0)
        i++;
    return i;
}

/* Whether the flag is wanted: every flag, or those of the flags option. */
static bool ofrep_wanted(struct ofrep_run *run, const char *key)
{
    if (run->st->flags == NULL)
        return true;
    size_t i = ofrep_listed(run->st, key);
    if (i == run->st->flags_n)
        return false;
    run->listed[i] = true;
    return true;
}

static int ofrep_emit(void *ctx, const char *key, const char *value,
                      size_t value_len, const char *variant,
                      struct ei_error *err)
{
    struct ofrep_run *run = ctx;
    const struct ei_host *h = run->st->host;
    if (!ofrep_wanted(run, key))
        return 0;
    size_t plen = strlen(run->st->flag_prefix);
    size_t need = plen + strlen(key) + 1;
    if (need > run->name_cap) {
        char *p = realloc(run->name, need);
        if (p == NULL)
            return ei_parse_error(err, EI_NOMEM, NULL, "out of memory"), -1;
        run->name = p;
        run->name_cap = need;
    }
    snprintf(run->name, need, "%s%s", run->st->flag_prefix, key);
    char shown[OFREP_SHOW_MAX + EI_TEXT_EXTRA];
    char var[OFREP_SHOW_MAX + EI_TEXT_EXTRA];
    char loc[2 * (OFREP_SHOW_MAX + EI_TEXT_EXTRA) + OFREP_ENDPOINT_MAX + 32];
    h->safe_text(h, shown, sizeof(shown), key, strlen(key), 0);
    if (variant != NULL) {
        h->safe_text(h, var, sizeof(var), variant, strlen(variant), 0);
        snprintf(loc, sizeof(loc), "flag %s, variant %s (%s)", shown, var,
                 run->member);
    } else {
        snprintf(loc, sizeof(loc), "flag %s (%s)", shown, run->member);
    }
    const char *name[] = {run->name};
    run->used++;
    return run->sink->emit(run->sink, name, 1, value, value_len, loc, 0, err);
}

static void ofrep_skip(void *ctx, const char *key, const char *code,
                       const char *details)
{
    struct ofrep_run *run = ctx;
    const struct ei_host *h = run->st->host;
    if (!ofrep_wanted(run, key))
        return;
    run->skipped++;
    char shown[OFREP_SHOW_MAX + EI_TEXT_EXTRA];
    h->safe_text(h, shown, sizeof(shown), key, strlen(key), 0);
    if (code == NULL) {
        h->log(h, EI_LOG_DEBUG, "flag %s: no value, the default applies",
               shown);
        return;
    }
    char c[OFREP_SHOW_MAX + EI_TEXT_EXTRA];
    char d[OFREP_DETAILS_MAX + EI_TEXT_EXTRA];
    h->safe_text(h, c, sizeof(c), code, strlen(code), EI_TEXT_ASCII);
    if (details != NULL)
        h->safe_text(h, d, sizeof(d), details, strlen(details), EI_TEXT_ASCII);
    h->log(h, run->replay ? EI_LOG_DEBUG : EI_LOG_WARN,
           "flag %s left out: the server reports %s%s%s%s", shown, c,
           details != NULL ? " (" : "", details != NULL ? d : "",
           details != NULL ? ")" : "");
}

/* The errorCode and errorDetails of a 400, made fit for a message. */
static void ofrep_refusal(const struct ei_host *h,
                          const struct ei_http_response *resp, char *code,
                          size_t code_len, char *details, size_t details_len)
{
    snprintf(code, code_len, "%s", "no errorCode");
    details[0] = '\0';
    json_t *j = resp->body != NULL
                    ? json_loadb(resp->body, resp->body_len, 0, NULL)
                    : NULL;
    const json_t *c = json_object_get(j, "errorCode");
    const json_t *d = json_object_get(j, "errorDetails");
    if (json_is_string(c))
        h->safe_text(h, code, code_len, json_string_value(c),
                     json_string_length(c), EI_TEXT_ASCII);
    if (json_is_string(d))
        h->safe_text(h, details, details_len, json_string_value(d),
                     json_string_length(d), EI_TEXT_ASCII);
    json_decref(j);
}

static enum ei_status ofrep_http_fail(struct ofrep_run *run,
                                      const struct ei_http_response *resp,
                                      struct ei_error *err)
{
    struct ofrep_state *st = run->st;
    const struct ei_host *h = st->host;
    long s = resp->status;
    if (s == HTTP_UNAUTHORIZED || s == HTTP_FORBIDDEN) {
        const char *what = s == HTTP_UNAUTHORIZED ? "authentication failed"
                                                  : "permission denied";
        if (st->token_file != NULL)
            return h->error(h, err, EI_DENIED, 0, run->member,
                            "%s (HTTP %ld, bearer token from token_file %s)",
                            what, s, st->token_file);
        if (st->headers_auth)
            return h->error(h, err, EI_DENIED, 0, run->member,
                            "%s (HTTP %ld, credentials from headers)", what, s);
        return h->error(h, err, EI_DENIED, 0, run->member,
                        "%s (HTTP %ld, no credentials: set token_file or an "
                        "Authorization header in headers)",
                        what, s);
    }
    if (s == HTTP_BAD_REQUEST) {
        char code[OFREP_SHOW_MAX + EI_TEXT_EXTRA];
        char details[OFREP_DETAILS_MAX + EI_TEXT_EXTRA];
        ofrep_refusal(h, resp, code, sizeof(code), details, sizeof(details));
        /* the context is what the user wrote: theirs to fix */
        bool ctx = strcmp(code, "INVALID_CONTEXT") == 0 ||
                   strcmp(code, "TARGETING_KEY_MISSING") == 0;
        return h->error(h, err, ctx ? EI_BADCONFIG : EI_BADDATA, 0, run->member,
                        "the server refused the %s: %s%s%s (HTTP 400)",
                        ctx ? "context" : "request", code,
                        details[0] != '\0' ? ": " : "", details);
    }
    if (s == HTTP_NOT_FOUND)
        return h->error(h, err, EI_NOTFOUND, 0, run->member,
                        "no OFREP bulk evaluation at " OFREP_BULK_PATH
                        " (HTTP 404)");
    if (s == HTTP_TOO_MANY || (s >= HTTP_SERVER_ERROR && s < HTTP_STATUS_END))
        return h->error(h, err, EI_UNAVAILABLE, 0, run->member,
                        "server error (HTTP %ld)", s);
    return h->error(h, err, EI_BADDATA, 0, run->member,
                    "unexpected response (HTTP %ld, %zu bytes)", s,
                    resp->body_len);
}

/* The answer a later 304 refers to, with its ETag; kept only when the
   server sent one, since only then can it answer 304. */
static void ofrep_keep(struct ofrep_state *st,
                       const struct ei_http_response *resp)
{
    const struct ei_host *h = st->host;
    char etag[OFREP_ETAG_MAX];
    int n = h->http_header(st->http, "ETag", etag, sizeof(etag));
    bool ok = n > 0;
    for (int i = 0; ok && i < n; i++)
        ok = (unsigned char)etag[i] >= 0x20 && (unsigned char)etag[i] < 0x7f;
    if (st->kept != NULL)
        h->secret_free(h, st->kept, st->kept_size);
    st->kept = NULL;
    st->kept_len = st->kept_size = 0;
    st->etag[0] = '\0';
    if (!ok) {
        if (n == -2 || n > 0)
            h->log(h, EI_LOG_DEBUG, "ETag not kept (too long or not text)");
        return;
    }
    st->kept = h->secret_alloc(h, resp->body_len + 1);
    if (st->kept == NULL)
        return; /* the next fetch reads everything again */
    st->kept_size = resp->body_len + 1;
    st->kept_len = resp->body_len;
    memcpy(st->kept, resp->body, resp->body_len);
    st->kept[resp->body_len] = '\0';
    memcpy(st->etag, etag, (size_t)n + 1);
}

static enum ei_status ofrep_use(struct ofrep_run *run, const char *body,
                                size_t len, struct ei_error *err)
{
    struct ofrep_state *st = run->st;
    const struct ei_host *h = st->host;
    static const struct ei_ofrep_cb cb = {.flag = ofrep_emit,
                                          .skip = ofrep_skip};
    enum ei_status s =
        ei_ofrep_parse_bulk(h, body, len, run->member, &cb, run, err);
    if (s != EI_OK)
        return s;
    for (size_t i = 0; i < st->flags_n; i++) {
        if (run->listed[i])
            continue;
        char shown[OFREP_SHOW_MAX + EI_TEXT_EXTRA];
        h->safe_text(h, shown, sizeof(shown), st->flags[i],
                     strlen(st->flags[i]), 0);
        h->log(h, run->replay ? EI_LOG_DEBUG : EI_LOG_WARN,
               "flag %s left out: not in the server's answer", shown);
    }
    h->log(h, EI_LOG_DEBUG, "%zu flags from %s%s, %zu left out", run->used,
           run->member, run->replay ? " (unchanged, HTTP 304)" : "",
           run->skipped);
    return EI_OK;
}

static enum ei_status ofrep_fetch(void *state, struct ei_sink *sink,
                                  const struct ei_deadline *dl,
                                  struct ei_error *err)
{
    struct ofrep_state *st = state;
    const struct ei_host *h = st->host;
    struct ofrep_run run = {.st = st, .sink = sink, .member = st->endpoint};
    enum ei_status s = EI_OK;
    char *inm = NULL;
    if (st->flags_n > 0) {
        run.listed = calloc(st->flags_n, sizeof(*run.listed));
        if (run.listed == NULL)
            return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    }
    if (st->token_file != NULL)
        s = ofrep_token(&run, err);
    const char *headers[OFREP_HEADERS_MAX + OFREP_FIXED_HEADERS + 1];
    size_t n = 0;
    headers[n++] = "Content-Type: application/json";
    headers[n++] = "Accept: application/json";
    for (size_t i = 0; i < st->headers_n; i++)
        headers[n++] = st->headers[i];
    if (run.token_header != NULL)
        headers[n++] = run.token_header;
    bool conditional = st->kept != NULL && st->etag[0] != '\0';
    if (s == EI_OK && conditional) {
        size_t size = strlen(OFREP_IF_NONE_MATCH) + strlen(st->etag) + 1;
        inm = malloc(size);
        if (inm == NULL)
            s = h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
        else
            snprintf(inm, size, "%s%s", OFREP_IF_NONE_MATCH, st->etag);
        headers[n++] = inm;
    }
    headers[n] = NULL;
    struct ei_http_response resp;
    memset(&resp, 0, sizeof(resp));
    if (s == EI_OK) {
        struct ei_http_request req = {
            .method = "POST",
            .path = OFREP_BULK_PATH,
            .headers = headers,
            .body = st->body,
            .body_len = st->body_len,
            .flags = EI_HTTP_SECRET,
        };
        s = h->http_request(st->http, &req, dl, &resp, err);
    }
    if (s == EI_OK) {
        run.member = resp.endpoint != NULL ? resp.endpoint : st->endpoint;
        if (resp.status == HTTP_OK) {
            s = ofrep_use(&run, resp.body, resp.body_len, err);
            if (s == EI_OK)
                ofrep_keep(st, &resp);
            /* the revision: the ETag kept, else the body's SHA-256 */
            if (s == EI_OK && st->etag[0] != '\0')
                ei_revision_etag(h, st->etag);
            else if (s == EI_OK)
                ei_revision_sha256(h, resp.body, resp.body_len);
        } else if (resp.status == HTTP_NOT_MODIFIED) {
            if (!conditional) {
                s = h->error(h, err, EI_BADDATA, 0, run.member,
                             "the server answered 304 Not Modified to a "
                             "request without If-None-Match");
            } else {
                run.replay = true;
                s = ofrep_use(&run, st->kept, st->kept_len, err);
                if (s == EI_OK)
                    ei_revision_etag(h, st->etag);
            }
        } else {
            s = ofrep_http_fail(&run, &resp, err);
        }
    }
    h->http_response_free(st->http, &resp);
    if (run.token_header != NULL)
        h->secret_free(h, run.token_header, run.token_header_size);
    free(inm);
    free(run.name);
    free(run.listed);
    return s;
}

static void ofrep_destroy(void *state)
{
    ofrep_state_free(state);
}

EI_PROVIDER_DEFINE(ofrep) = {
    .abi = EI_PROVIDER_ABI,
    .size = sizeof(struct ei_provider),
    .name = "ofrep",
    .summary = "feature flags from an OpenFeature (OFREP) server",
    .arg_option = "endpoint",
    .flags = EI_PROV_REMOTE,
    .configure = ofrep_configure,
    .fetch = ofrep_fetch,
    .lookup = NULL,
    .destroy = ofrep_destroy,
};
