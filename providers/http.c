/* SPDX-License-Identifier: MIT */
/* The http provider: configuration from any HTTP(S) endpoint (a JSON,
   dotenv or YAML document, or a Spring Cloud Config Environment), read
   again with If-None-Match when the layer is read a second time. */
#include <errno.h>
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

#include "common/dotenv.h"
#include "common/jsonflat.h"
#include "common/parse_error.h"
#include "common/revision.h"
#include "common/urlpath.h"
#include "common/yamlflat.h"
#include "http_parse.h"

/* The longest url, application, profile or label accepted. */
#define HTTP_URL_MAX   4096
#define HTTP_PART_MAX  1024
#define HTTP_QUERY_ESC 3 /* a byte percent-encoded takes three */
/* headers option: at most this many lines of at most this many bytes */
#define HTTP_HEADERS_MAX     64
#define HTTP_HEADER_LINE_MAX 8192
/* the headers a request adds to the user's: Accept, Authorization,
   If-None-Match, and the NULL */
#define HTTP_OWN_HEADERS 4
/* The longest token or password taken from a file. */
#define HTTP_TOKEN_MAX 8192
/* An ETag longer than this is not kept: the next read is unconditional. */
#define HTTP_ETAG_MAX 1024
/* Bytes of a server's WWW-Authenticate or Location shown in errors. */
#define HTTP_SHOW_MAX 160
/* Bytes of a property name or source name shown in a locator. */
#define HTTP_NAME_SHOW_MAX 200
/* "Authorization: Basic " and friends */
#define HTTP_BEARER      "Authorization: Bearer "
#define HTTP_BASIC       "Authorization: Basic "
#define HTTP_INM         "If-None-Match: "
#define HTTP_ACCEPT_JSON "Accept: application/json"
#define HTTP_ACCEPT_YAML                                                       \
    "Accept: application/yaml, application/x-yaml, text/yaml, "                \
    "text/plain;q=0.9, */*;q=0.8"

#define HTTP_OK                200
#define HTTP_NON_AUTHORITATIVE 203
#define HTTP_NO_CONTENT        204
#define HTTP_REDIRECT_FIRST    300
#define HTTP_NOT_MODIFIED      304
#define HTTP_REDIRECT_END      400
#define HTTP_UNAUTHORIZED      401
#define HTTP_FORBIDDEN         403
#define HTTP_NOT_FOUND         404
#define HTTP_NOT_ACCEPTABLE    406
#define HTTP_GONE              410
#define HTTP_TOO_MANY          429
#define HTTP_SERVER_ERROR      500
#define HTTP_STATUS_END        600

enum http_format { HTTP_JSON, HTTP_DOTENV, HTTP_YAML, HTTP_SPRING };

static const struct {
    const char *name;
    enum http_format format;
} http_formats[] = {
    {"json", HTTP_JSON},
    {"dotenv", HTTP_DOTENV},
    {"yaml", HTTP_YAML},
    {"spring", HTTP_SPRING},
};

struct http_state {
    const struct ei_host *host;
    struct ei_http *http;
    char *origin; /* scheme://authority, the engine's endpoint */
    char *path;   /* what follows: path and query */
    char *shown;  /* origin and path without the query: messages, locators */
    enum http_format format;
    const char *select;
    const char *const *headers; /* the user's, checked */
    size_t headers_n;
    bool user_accept;
    bool user_auth; /* headers holds an Authorization line */
    const char *token_file;
    const char *username;
    const char *password_file;
    const char *profile; /* YAML documents: the chosen environment */
    /* the last answer that parsed and came with an ETag: sent back as
       If-None-Match, and read again on 304 (secret memory) */
    char etag[HTTP_ETAG_MAX];
    char *kept;
    size_t kept_len;
    char *loc;
    size_t loc_cap;
};

/* ---- JSON Pointer (RFC 6901) ---- */

int ei_jsonptr_check(const char *ptr, size_t *bad_at)
{
    size_t n = strlen(ptr);
    *bad_at = 0;
    if (n == 0)
        return 0;
    if (n > EI_JSONPTR_MAX) {
        *bad_at = n;
        return -1;
    }
    if (ptr[0] != '/')
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (ptr[i] == '~' && ptr[i + 1] != '0' && ptr[i + 1] != '1') {
            *bad_at = i;
            return -1;
        }
    }
    return 0;
}

static const char *jsonptr_type(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

/* A pointer (or a part of it) fit for a one-line message. */
static void jsonptr_show(char *out, size_t out_len, const char *p, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 4 < out_len; i++) {
        unsigned char c = (unsigned char)p[i];
        out[o++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    if (o + 4 >= out_len && o < n)
        memcpy(out + o, "...", 3), o += 3;
    out[o] = '\0';
}

/* An array index as RFC 6901 writes it: "0", or digits without a leading
   zero; -1 for anything else, SIZE_MAX when past any array. */
static int jsonptr_index(const char *tok, size_t *idx)
{
    size_t n = strlen(tok);
    if (n == 0 || strspn(tok, "0123456789") != n || (n > 1 && tok[0] == '0'))
        return -1;
    size_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (v > (SIZE_MAX - 9) / 10) {
            *idx = SIZE_MAX;
            return 0;
        }
        v = v * 10 + (size_t)(tok[i] - '0');
    }
    *idx = v;
    return 0;
}

enum ei_status ei_jsonptr_eval(const json_t *root, const char *ptr,
                               const char *what, const json_t **out,
                               struct ei_error *err)
{
    *out = NULL;
    size_t n = strlen(ptr);
    char *tok = malloc(n + 1);
    if (tok == NULL)
        return ei_parse_error(err, EI_NOMEM, what, "out of memory");
    char shown[EI_JSONPTR_MAX / 4], at[EI_JSONPTR_MAX / 4];
    jsonptr_show(shown, sizeof(shown), ptr, n);
    const json_t *cur = root;
    enum ei_status st = EI_OK;
    size_t pos = 0; /* start of the next "/token" */
    while (pos < n) {
        size_t end = pos + 1 + strcspn(ptr + pos + 1, "/");
        size_t t = 0;
        /* ~1 then ~0: "~01" is "~1", not "/" */
        for (size_t i = pos + 1; i < end; i++) {
            if (ptr[i] == '~' && i + 1 < end && ptr[i + 1] == '1') {
                tok[t++] = '/';
                i++;
            } else if (ptr[i] == '~' && i + 1 < end && ptr[i + 1] == '0') {
                tok[t++] = '~';
                i++;
            } else {
                tok[t++] = ptr[i];
            }
        }
        tok[t] = '\0';
        jsonptr_show(at, sizeof(at), ptr, pos);
        if (json_is_object(cur)) {
            const json_t *next = json_object_get(cur, tok);
            if (next == NULL) {
                char name[EI_JSONPTR_MAX / 4];
                jsonptr_show(name, sizeof(name), tok, t);
                st = ei_parse_error(err, EI_BADDATA, what,
                                    "select \"%s\": the object at \"%s\" has "
                                    "no member \"%s\"",
                                    shown, at, name);
                break;
            }
            cur = next;
        } else if (json_is_array(cur)) {
            size_t idx = 0;
            if (strcmp(tok, "-") == 0) {
                st = ei_parse_error(err, EI_BADDATA, what,
                                    "select \"%s\": \"-\" at \"%s\" names the "
                                    "element after the last of the array, "
                                    "which never exists",
                                    shown, at);
                break;
            }
            if (jsonptr_index(tok, &idx) < 0) {
                st = ei_parse_error(err, EI_BADDATA, what,
                                    "select \"%s\": \"%s\" holds an array, "
                                    "and an array index is 0 or digits "
                                    "without a leading zero",
                                    shown, at);
                break;
            }
            if (idx >= json_array_size(cur)) {
                st = ei_parse_error(err, EI_BADDATA, what,
                                    "select \"%s\": the array at \"%s\" has "
                                    "%zu elements",
                                    shown, at, json_array_size(cur));
                break;
            }
            cur = json_array_get(cur, idx);
        } else {
            st = ei_parse_error(err, EI_BADDATA, what,
                                "select \"%s\": \"%s\" is %s, not an object "
                                "or array",
                                shown, at, jsonptr_type(cur));
            break;
        }
        pos = end;
    }
    sodium_memzero(tok, n + 1);
    free(tok);
    if (st == EI_OK)
        *out = cur;
    return st;
}

/* ---- Spring Cloud Config ---- */

/* A property name in segments: split at '.' and at "[...]", dashes
   dropped (Spring's relaxed binding: spring.main.log-startup-info is
   SPRING_MAIN_LOGSTARTUPINFO, my.list[0].x is MY_LIST_0_X); list[i]
   records, for each segment that was an index, where its list ends. */
struct spring_name {
    char *buf;
    const char **seg;
    bool *indexed; /* the segment was written [i] */
    size_t n;
    size_t cap;
};

static void spring_name_fini(struct spring_name *sn)
{
    free(sn->buf);
    free(sn->seg);
    free(sn->indexed);
}

static int spring_split(struct spring_name *sn, const char *key, size_t len)
{
    if (len + 1 > sn->cap) {
        char *buf = malloc(len + 1);
        const char **seg = calloc(len + 1, sizeof(*seg));
        bool *ix = calloc(len + 1, sizeof(*ix));
        if (buf == NULL || seg == NULL || ix == NULL) {
            free(buf);
            free(seg);
            free(ix);
            return -1;
        }
        spring_name_fini(sn);
        sn->buf = buf;
        sn->seg = seg;
        sn->indexed = ix;
        sn->cap = len + 1;
    }
    sn->n = 0;
    size_t o = 0;
    size_t i = 0;
    while (i < len) {
        bool bracket = key[i] == '[';
        const char *stop = bracket ? "]" : ".[";
        if (bracket || key[i] == '.')
            i++;
        size_t start = o;
        while (i < len && strchr(stop, key[i]) == NULL) {
            if (key[i] != '-')
                sn->buf[o++] = key[i];
            i++;
        }
        if (bracket && i < len)
            i++; /* the ']' */
        if (o > start) {
            sn->buf[o++] = '\0';
            sn->seg[sn->n] = sn->buf + start;
            sn->indexed[sn->n] = bracket;
            sn->n++;
        }
    }
    return 0;
}

/* Segments 0..n-1 as one lower-case name, the set key of "seen" and
   "lists"; malloc'd. */
static char *spring_canonical(const struct spring_name *sn, size_t n)
{
    size_t need = 1;
    for (size_t i = 0; i < n; i++)
        need += strlen(sn->seg[i]) + 1;
    char *c = malloc(need);
    if (c == NULL)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            c[o++] = '\x1f';
        for (const char *p = sn->seg[i]; *p != '\0'; p++)
            c[o++] = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
    }
    c[o] = '\0';
    return c;
}

struct spring_parse {
    const struct ei_host *h;
    const char *what;
    json_t *seen;  /* canonical name -> the source that gave it */
    json_t *lists; /* canonical list name -> the first source with it */
    struct spring_name sn;
};

static const json_t *spring_unwrap(const json_t *v)
{
    /* v2 replies wrap values with their origin; the plain media type
       should not, but a server may */
    if (json_is_object(v) && json_object_size(v) == 2 &&
        json_object_get(v, "value") != NULL &&
        json_object_get(v, "origin") != NULL)
        return json_object_get(v, "value");
    return v;
}

/* Record every list source i has, before any property is handed over. */
static enum ei_status spring_lists(struct spring_parse *p, const json_t *src,
                                   size_t i)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)src, key, v)
    {
        if (spring_split(&p->sn, key, strlen(key)) < 0)
            return EI_NOMEM;
        for (size_t s = 0; s < p->sn.n; s++) {
            if (!p->sn.indexed[s] || s == 0)
                continue;
            char *c = spring_canonical(&p->sn, s);
            if (c == NULL)
                return EI_NOMEM;
            int r = 0;
            if (json_object_get(p->lists, c) == NULL)
                r = json_object_set_new(p->lists, c,
                                        json_integer((json_int_t)i));
            free(c);
            if (r != 0)
                return EI_NOMEM;
        }
    }
    return EI_OK;
}

/* Whether a list that name is part of belongs to an earlier source. */
static int spring_list_taken(struct spring_parse *p, size_t i)
{
    for (size_t s = 1; s < p->sn.n; s++) {
        if (!p->sn.indexed[s])
            continue;
        char *c = spring_canonical(&p->sn, s);
        if (c == NULL)
            return -1;
        const json_t *owner = json_object_get(p->lists, c);
        free(c);
        if (owner != NULL && json_integer_value(owner) != (json_int_t)i)
            return 1;
    }
    return 0;
}

#define SPRING_INVALID "invalid."
#define SPRING_CIPHER  "{cipher}"

static enum ei_status spring_property(struct spring_parse *p, size_t i,
                                      const char *key, const json_t *raw,
                                      const char *source, ei_spring_fn fn,
                                      void *ctx, size_t *keys,
                                      struct ei_error *err)
{
    const struct ei_host *h = p->h;
    size_t klen = strlen(key);
    char shown[HTTP_NAME_SHOW_MAX + EI_TEXT_EXTRA];
    char src_shown[HTTP_NAME_SHOW_MAX + EI_TEXT_EXTRA];
    h->safe_text(h, src_shown, sizeof(src_shown), source, strlen(source), 0);
    if (klen > strlen(SPRING_INVALID) &&
        strncmp(key, SPRING_INVALID, strlen(SPRING_INVALID)) == 0) {
        const char *name = key + strlen(SPRING_INVALID);
        h->safe_text(h, shown, sizeof(shown), name, strlen(name), 0);
        return ei_parse_error(err, EI_BADDATA, p->what,
                              "property %s of %s: the server could not "
                              "decrypt its value (it sent invalid.%s); fix "
                              "the server's encryption key",
                              shown, src_shown, shown);
    }
    if (strcmp(key, "spring.profiles") == 0)
        return EI_OK;
    h->safe_text(h, shown, sizeof(shown), key, klen, 0);
    const json_t *v = spring_unwrap(raw);
    if (json_is_string(v) && json_string_length(v) >= strlen(SPRING_CIPHER) &&
        strncmp(json_string_value(v), SPRING_CIPHER, strlen(SPRING_CIPHER)) ==
            0)
        return ei_parse_error(err, EI_BADDATA, p->what,
                              "property %s of %s is still encrypted "
                              "({cipher}...): the server did not decrypt it",
                              shown, src_shown);
    if (spring_split(&p->sn, key, klen) < 0)
        return ei_parse_error(err, EI_NOMEM, p->what, "out of memory");
    if (p->sn.n == 0)
        return ei_parse_error(err, EI_BADDATA, p->what,
                              "property \"%s\" of %s has no name to map", shown,
                              src_shown);
    int taken = spring_list_taken(p, i);
    if (taken < 0)
        return ei_parse_error(err, EI_NOMEM, p->what, "out of memory");
    if (taken > 0)
        return EI_OK;
    char *c = spring_canonical(&p->sn, p->sn.n);
    if (c == NULL)
        return ei_parse_error(err, EI_NOMEM, p->what, "out of memory");
    const json_t *had = json_object_get(p->seen, c);
    if (had != NULL) {
        free(c);
        /* an earlier source wins; in the same source two spellings of
           one name go on to the sink, which names both */
        if (json_integer_value(had) != (json_int_t)i)
            return EI_OK;
    } else {
        int r = json_object_set_new(p->seen, c, json_integer((json_int_t)i));
        free(c);
        if (r != 0)
            return ei_parse_error(err, EI_NOMEM, p->what, "out of memory");
    }
    char small[64];
    const char *val = NULL;
    size_t vlen = 0;
    char *made = NULL;
    if (json_is_string(v)) {
        val = json_string_value(v);
        vlen = json_string_length(v);
        if (memchr(val, '\0', vlen) != NULL)
            return ei_parse_error(err, EI_BADDATA, p->what,
                                  "property %s of %s holds a NUL byte", shown,
                                  src_shown);
    } else if (json_is_object(v) || json_is_array(v)) {
        made = ei_json_flag_text(v, &vlen);
        if (made == NULL)
            return ei_parse_error(err, EI_BADDATA, p->what,
                                  "property %s of %s: a value that cannot be "
                                  "written as JSON text",
                                  shown, src_shown);
        val = made;
    } else {
        int n = ei_jsonflat_scalar(v, small, sizeof(small));
        if (n < 0)
            return ei_parse_error(err, EI_INTERNAL, p->what,
                                  "property %s: number too long", shown);
        val = small;
        vlen = (size_t)n;
    }
    int r = fn(ctx, p->sn.seg, p->sn.n, val, vlen, key, source, err);
    if (made != NULL) {
        sodium_memzero(made, vlen);
        free(made);
    }
    sodium_memzero(small, sizeof(small));
    if (r != 0)
        return ei_error_status(err, EI_INTERNAL);
    (*keys)++;
    return EI_OK;
}

enum ei_status ei_spring_parse(const struct ei_host *h, const char *body,
                               size_t len, const char *what, ei_spring_fn fn,
                               void *ctx, size_t *keys, struct ei_error *err)
{
    *keys = 0;
    json_t *root = NULL;
    enum ei_status st = ei_jsonflat_load(body, len, what, &root, err);
    if (st != EI_OK)
        return st;
    struct spring_parse p = {.h = h, .what = what};
    const json_t *sources = json_object_get(root, "propertySources");
    if (!json_is_object(root) || !json_is_array(sources)) {
        st = ei_parse_error(err, EI_BADDATA, what,
                            "not a Spring Cloud Config Environment (no "
                            "propertySources list)");
        goto out;
    }
    p.seen = json_object();
    p.lists = json_object();
    if (p.seen == NULL || p.lists == NULL) {
        st = ei_parse_error(err, EI_NOMEM, what, "out of memory");
        goto out;
    }
    size_t n = json_array_size(sources);
    for (size_t i = 0; i < n; i++) {
        const json_t *ps = json_array_get(sources, i);
        const json_t *src = json_object_get(ps, "source");
        const json_t *name = json_object_get(ps, "name");
        if (!json_is_object(src) ||
            (name != NULL && !json_is_string(name) && !json_is_null(name))) {
            st = ei_parse_error(err, EI_BADDATA, what,
                                "propertySources[%zu] is not {\"name\": "
                                "..., \"source\": {...}}",
                                i);
            goto out;
        }
        if (spring_lists(&p, src, i) != EI_OK) {
            st = ei_parse_error(err, EI_NOMEM, what, "out of memory");
            goto out;
        }
    }
    for (size_t i = 0; i < n && st == EI_OK; i++) {
        const json_t *ps = json_array_get(sources, i);
        const json_t *src = json_object_get(ps, "source");
        const json_t *name = json_object_get(ps, "name");
        char fallback[48];
        snprintf(fallback, sizeof(fallback), "propertySources[%zu]", i);
        const char *sname = json_is_string(name) && json_string_length(name) > 0
                                ? json_string_value(name)
                                : fallback;
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)src, key, v)
        {
            st = spring_property(&p, i, key, v, sname, fn, ctx, keys, err);
            if (st != EI_OK)
                break;
        }
    }
out:
    spring_name_fini(&p.sn);
    json_decref(p.seen);
    json_decref(p.lists);
    json_decref(root);
    return st;
}

/* ---- options ---- */

static void http_state_free(struct http_state *st)
{
    if (st == NULL)
        return;
    const struct ei_host *h = st->host;
    if (st->http != NULL)
        h->http_close(st->http);
    if (st->kept != NULL)
        h->secret_free(h, st->kept, st->kept_len + 1);
    sodium_memzero(st->etag, sizeof(st->etag));
    free(st->origin);
    free(st->path);
    free(st->shown);
    free(st->loc);
    free(st);
}

static bool http_tchar(unsigned char c)
{
    /* RFC 9110 section 5.6.2 */
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

static bool http_named(const char *line, size_t name_len, const char *name)
{
    return name_len == strlen(name) && strncasecmp(line, name, name_len) == 0;
}

/* The user's headers: "Name: value", a proper name, a value without
   control characters; none of those the engine or this provider owns. */
static enum ei_status http_headers(struct http_state *st, bool has_auth,
                                   struct ei_error *err)
{
    const struct ei_host *h = st->host;
    const char *const *list = NULL;
    size_t n = 0;
    int r = h->opt_list(h, "headers", &list, &n, err);
    if (r < 0)
        return ei_error_status(err, EI_BADCONFIG);
    if (r == 0)
        return EI_OK;
    if (n > HTTP_HEADERS_MAX)
        return h->error(h, err, EI_BADCONFIG, 0, "headers",
                        "more than %d headers", HTTP_HEADERS_MAX);
    static const char *const owned[] = {
        "Host",       "Content-Length", "Transfer-Encoding",
        "Connection", "If-None-Match",  "Expect",
        "TE",         "Upgrade",        "Content-Type",
    };
    for (size_t i = 0; i < n; i++) {
        const char *line = list[i];
        size_t len = strlen(line);
        size_t name_len = 0;
        while (name_len < len && http_tchar((unsigned char)line[name_len]))
            name_len++;
        if (name_len == 0 || name_len >= len || line[name_len] != ':')
            return h->error(h, err, EI_BADCONFIG, 0, "headers",
                            "header %zu is not \"Name: value\" (a name of "
                            "letters, digits and !#$%%&'*+-.^_`|~, then ':')",
                            i + 1);
        if (len > HTTP_HEADER_LINE_MAX)
            return h->error(h, err, EI_BADCONFIG, 0, "headers",
                            "header %zu is longer than %d bytes", i + 1,
                            HTTP_HEADER_LINE_MAX);
        const char *v = line + name_len + 1;
        for (size_t k = 0; v[k] != '\0'; k++) {
            unsigned char c = (unsigned char)v[k];
            if ((c < 0x20 && c != '\t') || c == 0x7f)
                return h->error(h, err, EI_BADCONFIG, 0, "headers",
                                "header %zu has a control character (CR, "
                                "LF, ...) in its value",
                                i + 1);
        }
        if (v[strspn(v, " \t")] == '\0')
            return h->error(h, err, EI_BADCONFIG, 0, "headers",
                            "header %zu has no value", i + 1);
        for (size_t k = 0; k < sizeof(owned) / sizeof(owned[0]); k++)
            if (http_named(line, name_len, owned[k]))
                return h->error(h, err, EI_BADCONFIG, 0, "headers",
                                "header %zu: envinject sets %s itself", i + 1,
                                owned[k]);
        if (http_named(line, name_len, "Authorization") && has_auth)
            return h->error(h, err, EI_BADCONFIG, 0, "headers",
                            "header %zu is an Authorization header, and "
                            "token_file or username gives one too: choose "
                            "one",
                            i + 1);
        if (http_named(line, name_len, "Accept"))
            st->user_accept = true;
        if (http_named(line, name_len, "Authorization"))
            st->user_auth = true;
    }
    st->headers = list;
    st->headers_n = n;
    return EI_OK;
}

/* Copy len bytes of s into a new string; NULL out of memory. */
static char *http_strndup(const char *s, size_t len)
{
    char *c = malloc(len + 1);
    if (c != NULL) {
        memcpy(c, s, len);
        c[len] = '\0';
    }
    return c;
}

/* Append one path segment of a Spring request: '/' is written "(_)" as
   Spring's server expects, the rest percent-encoded. */
static int http_spring_segment(char *url, size_t cap, size_t *len,
                               const char *s)
{
    if (ei_url_append(url, cap, len, "/", false) < 0)
        return -1;
    char part[HTTP_PART_MAX + 1];
    for (;;) {
        size_t n = strcspn(s, "/");
        if (n > HTTP_PART_MAX)
            return -1;
        memcpy(part, s, n);
        part[n] = '\0';
        if (ei_url_append(url, cap, len, part, true) < 0)
            return -1;
        if (s[n] == '\0')
            return 0;
        if (ei_url_append(url, cap, len, "(_)", false) < 0)
            return -1;
        s += n + 1;
    }
}

/* The Spring options: application (then url is the server's base),
   profile (default: the environment, else "default") and label. */
static enum ei_status http_spring(struct http_state *st, const char *base_path,
                                  size_t base_len, const char *query,
                                  struct ei_error *err)
{
    const struct ei_host *h = st->host;
    const char *app = NULL, *profile = NULL, *label = NULL;
    if (h->opt_string(h, "application", &app, err) < 0 ||
        h->opt_string(h, "profile", &profile, err) < 0 ||
        h->opt_string(h, "label", &label, err) < 0)
        return ei_error_status(err, EI_BADCONFIG);
    if (st->format != HTTP_SPRING && (app || profile || label))
        return h->error(h, err, EI_BADCONFIG, 0,
                        app       ? "application"
                        : profile ? "profile"
                                  : "label",
                        "application, profile and label are options of "
                        "format = \"spring\"");
    if (app == NULL && (profile != NULL || label != NULL))
        return h->error(h, err, EI_BADCONFIG, 0, profile ? "profile" : "label",
                        "%s needs application (or give the whole "
                        "/{application}/{profile}[/{label}] path in url)",
                        profile ? "profile" : "label");
    if (app == NULL)
        return EI_OK;
    if (profile == NULL && EI_HOST_HAS(h, environment))
        profile = h->environment(h);
    if (profile == NULL)
        profile = "default";
    const char *const parts[] = {app, profile, label};
    const char *const names[] = {"application", "profile", "label"};
    for (size_t i = 0; i < 3; i++) {
        if (parts[i] == NULL)
            continue;
        size_t n = strlen(parts[i]);
        if (n == 0 || n > HTTP_PART_MAX)
            return h->error(h, err, EI_BADCONFIG, 0, names[i],
                            "%s must be 1 to %d bytes", names[i],
                            HTTP_PART_MAX);
        for (size_t k = 0; k < n; k++) {
            unsigned char c = (unsigned char)parts[i][k];
            if (c < 0x20 || c == 0x7f)
                return h->error(h, err, EI_BADCONFIG, 0, names[i],
                                "%s has a control character at offset %zu",
                                names[i], k);
        }
    }
    if (strchr(profile, '/') != NULL)
        return h->error(h, err, EI_BADCONFIG, 0, "profile",
                        "a profile has no '/' (several are written "
                        "\"dev,mysql\")");
    size_t cap =
        base_len + HTTP_QUERY_ESC * 3 * (HTTP_PART_MAX + 4) + strlen(query) + 8;
    char *path = malloc(cap);
    if (path == NULL)
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    size_t len = 0;
    path[0] = '\0';
    while (base_len > 0 && base_path[base_len - 1] == '/')
        base_len--;
    memcpy(path, base_path, base_len);
    len = base_len;
    path[len] = '\0';
    if (http_spring_segment(path, cap, &len, app) < 0 ||
        http_spring_segment(path, cap, &len, profile) < 0 ||
        (label != NULL && http_spring_segment(path, cap, &len, label) < 0) ||
        ei_url_append(path, cap, &len, query, false) < 0) {
        free(path);
        return h->error(h, err, EI_BADCONFIG, 0, NULL, "url too long");
    }
    free(st->path);
    st->path = path;
    return EI_OK;
}

/* url: scheme and authority become the engine's endpoint, the rest the
   request path; no credentials, no fragment. */
static enum ei_status http_url(struct http_state *st, struct ei_error *err)
{
    const struct ei_host *h = st->host;
    const char *url = NULL;
    int r = h->opt_string(h, "url", &url, err);
    if (r < 0)
        return ei_error_status(err, EI_BADCONFIG);
    /* the core serves ARG through the getter already; a host that does
       not still offers it here */
    if (r == 0 && h->arg != NULL)
        url = h->arg(h);
    if (url == NULL || url[0] == '\0')
        return h->error(
            h, err, EI_BADCONFIG, 0, NULL,
            "url is required (such as "
            "\"http://config-service/myapp/${env}/settings.json\")");
    size_t n = strlen(url);
    if (n > HTTP_URL_MAX)
        return h->error(h, err, EI_BADCONFIG, 0, "url",
                        "url longer than %d bytes", HTTP_URL_MAX);
    size_t skip = 0;
    if (strncasecmp(url, "http://", 7) == 0)
        skip = 7;
    else if (strncasecmp(url, "https://", 8) == 0)
        skip = 8;
    else
        return h->error(h, err, EI_BADCONFIG, 0, "url",
                        "url is not an http:// or https:// URL");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= ' ' || c >= 0x7f || c == '\\' || c == '"' || c == '<' ||
            c == '>')
            return h->error(h, err, EI_BADCONFIG, 0, "url",
                            "url has a character not allowed in a URL at "
                            "offset %zu (percent-encode it: a space is %%20)",
                            i);
    }
    if (strchr(url, '#') != NULL)
        return h->error(h, err, EI_BADCONFIG, 0, "url",
                        "url has a fragment (#...), which is never sent to "
                        "the server: drop it");
    size_t auth_len = strcspn(url + skip, "/?");
    if (memchr(url + skip, '@', auth_len) != NULL)
        return h->error(h, err, EI_BADCONFIG, 0, "url",
                        "credentials in URLs are not allowed: use username "
                        "and password_file, or token_file");
    if (auth_len == 0)
        return h->error(h, err, EI_BADCONFIG, 0, "url", "url has no host");
    st->origin = http_strndup(url, skip + auth_len);
    const char *rest = url + skip + auth_len;
    size_t path_len = strcspn(rest, "?");
    const char *query = rest + path_len;
    /* "http://h?x" asks for "/?x" */
    size_t plen = strlen(rest) + 2;
    st->path = malloc(plen);
    if (st->origin == NULL || st->path == NULL)
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    snprintf(st->path, plen, "%s%s", rest[0] == '/' ? "" : "/", rest);
    enum ei_status s = http_spring(st, rest, path_len, query, err);
    if (s != EI_OK)
        return s;
    /* the query may carry a token: never shown */
    size_t shown_path = strcspn(st->path, "?");
    size_t slen = strlen(st->origin) + shown_path + 1;
    st->shown = malloc(slen);
    if (st->shown == NULL)
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    snprintf(st->shown, slen, "%s%.*s", st->origin, (int)shown_path, st->path);
    return EI_OK;
}

static enum ei_status http_configure(const struct ei_host *host, void **statep,
                                     struct ei_error *err)
{
    *statep = NULL;
    enum ei_status s = EI_HOST_REQUIRE_HTTP(host, err);
    if (s == EI_OK)
        s = EI_HOST_REQUIRE(host, safe_text, err);
    if (s == EI_OK)
        s = EI_HOST_REQUIRE(host, http_header, err);
    if (s != EI_OK)
        return s;
    struct http_state *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return host->error(host, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    st->host = host;
    const char *fmt = NULL;
    if (host->opt_string(host, "format", &fmt, err) < 0 ||
        host->opt_string(host, "select", &st->select, err) < 0 ||
        host->opt_path(host, "token_file", &st->token_file, err) < 0 ||
        host->opt_string(host, "username", &st->username, err) < 0 ||
        host->opt_path(host, "password_file", &st->password_file, err) < 0) {
        s = ei_error_status(err, EI_BADCONFIG);
        goto fail;
    }
    if (fmt != NULL) {
        size_t i, nf = sizeof(http_formats) / sizeof(http_formats[0]);
        for (i = 0; i < nf; i++)
            if (strcmp(fmt, http_formats[i].name) == 0)
                break;
        if (i == nf) {
            char shown[64];
            host->safe_text(host, shown, sizeof(shown), fmt, strlen(fmt), 0);
            s = host->error(host, err, EI_BADCONFIG, 0, "format",
                            "unknown format '%s' (expected json, dotenv, "
                            "yaml or spring)",
                            shown);
            goto fail;
        }
        st->format = http_formats[i].format;
    }
    s = http_url(st, err);
    if (s != EI_OK)
        goto fail;
    if (st->select != NULL) {
        size_t bad = 0;
        if (st->format != HTTP_JSON && st->format != HTTP_YAML) {
            s = host->error(host, err, EI_BADCONFIG, 0, "select",
                            "select applies to format json and yaml only");
            goto fail;
        }
        if (ei_jsonptr_check(st->select, &bad) < 0) {
            s = host->error(host, err, EI_BADCONFIG, 0, "select",
                            bad == 0 ? "select is a JSON Pointer (RFC 6901): "
                                       "\"\" or \"/member/0/...\", starting "
                                       "with '/'"
                            : bad >= EI_JSONPTR_MAX
                                ? "select is longer than 1024 bytes"
                                : "select: '~' must be followed by 0 or 1 "
                                  "(~0 is '~', ~1 is '/')");
            goto fail;
        }
    }
    if (st->token_file != NULL &&
        (st->username != NULL || st->password_file != NULL)) {
        s = host->error(host, err, EI_BADCONFIG, 0, "token_file",
                        "give token_file (Bearer) or username and "
                        "password_file (Basic), not both");
        goto fail;
    }
    if ((st->username == NULL) != (st->password_file == NULL)) {
        s = host->error(host, err, EI_BADCONFIG, 0,
                        st->username ? "username" : "password_file",
                        "username and password_file go together (HTTP "
                        "Basic authentication)");
        goto fail;
    }
    if (st->username != NULL) {
        bool ok = st->username[0] != '\0';
        for (const char *p = st->username; ok && *p != '\0'; p++)
            ok = *p != ':' && (unsigned char)*p >= 0x20 && *p != 0x7f;
        if (!ok) {
            s = host->error(host, err, EI_BADCONFIG, 0, "username",
                            "username must not be empty nor hold ':' or a "
                            "control character (RFC 7617)");
            goto fail;
        }
    }
    s = http_headers(st, st->token_file != NULL || st->username != NULL, err);
    if (s != EI_OK)
        goto fail;
    if (EI_HOST_HAS(host, environment))
        st->profile = host->environment(host);
    const char *endpoint = st->origin;
    s = host->http_open(host, &endpoint, 1, &st->http, err);
    if (s != EI_OK) {
        st->http = NULL;
        goto fail;
    }
    *statep = st;
    return EI_OK;
fail:
    http_state_free(st);
    return s;
}

/* ---- fetch ---- */

struct http_run {
    struct http_state *st;
    struct ei_sink *sink;
    char *auth; /* secret memory */
    size_t auth_size;
    const char *auth_what; /* what sent credentials, for 401/403 */
};

/* A token or password file: EI_DENIED (not EI_NOTFOUND: an optional
   layer must not be skipped for a missing credential) when unreadable. */
static enum ei_status http_read_secret(struct http_run *run, const char *path,
                                       const char *what, struct ei_buf *buf,
                                       struct ei_error *err)
{
    const struct ei_host *h = run->st->host;
    struct ei_error rerr = {0};
    enum ei_status s =
        h->read_file(h, path, EI_READ_SECRET | EI_READ_PRIVATE, buf, &rerr);
    if (s == EI_OK)
        return EI_OK;
    if (s == EI_NOTFOUND || s == EI_IOERROR)
        s = EI_DENIED;
    return h->error(h, err, s, rerr.errnum, path, "%s: %s", what,
                    rerr.text[0] != '\0' ? rerr.text : "cannot read");
}

static enum ei_status http_set_auth(struct http_run *run, const char *prefix,
                                    size_t body_len, struct ei_error *err)
{
    const struct ei_host *h = run->st->host;
    run->auth_size = strlen(prefix) + body_len + 1;
    run->auth = h->secret_alloc(h, run->auth_size);
    if (run->auth == NULL)
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    memcpy(run->auth, prefix, strlen(prefix));
    return EI_OK;
}

static enum ei_status http_bearer(struct http_run *run, struct ei_error *err)
{
    struct http_state *st = run->st;
    const struct ei_host *h = st->host;
    struct ei_buf buf = {0};
    enum ei_status s =
        http_read_secret(run, st->token_file, "token_file", &buf, err);
    if (s != EI_OK)
        return s;
    size_t len = buf.len;
    while (len > 0 && strchr("\r\n \t", buf.data[len - 1]) != NULL)
        len--;
    size_t lead = strspn(buf.data, " \t");
    len = len > lead ? len - lead : 0;
    const char *tok = buf.data + lead;
    if (len == 0)
        s = h->error(h, err, EI_DENIED, 0, st->token_file,
                     "token_file: the token is empty");
    else if (len > HTTP_TOKEN_MAX)
        s = h->error(h, err, EI_DENIED, 0, st->token_file,
                     "token_file: the token has more than %d bytes",
                     HTTP_TOKEN_MAX);
    for (size_t i = 0; s == EI_OK && i < len; i++) {
        unsigned char c = (unsigned char)tok[i];
        if (c <= 0x20 || c >= 0x7f)
            s = h->error(h, err, EI_DENIED, 0, st->token_file,
                         "token_file: the token has a character not allowed "
                         "in a header at offset %zu",
                         i);
    }
    if (s == EI_OK)
        s = http_set_auth(run, HTTP_BEARER, len, err);
    if (s == EI_OK) {
        memcpy(run->auth + strlen(HTTP_BEARER), tok, len);
        run->auth[run->auth_size - 1] = '\0';
        run->auth_what = "the bearer token of token_file";
    }
    h->buf_free(h, &buf);
    return s;
}

static enum ei_status http_basic(struct http_run *run, struct ei_error *err)
{
    struct http_state *st = run->st;
    const struct ei_host *h = st->host;
    struct ei_buf buf = {0};
    enum ei_status s =
        http_read_secret(run, st->password_file, "password_file", &buf, err);
    if (s != EI_OK)
        return s;
    /* one final newline is the file's, not the password's */
    size_t len = buf.len;
    if (len > 0 && buf.data[len - 1] == '\n')
        len--;
    if (len > 0 && buf.data[len - 1] == '\r')
        len--;
    size_t ulen = strlen(st->username);
    if (len > HTTP_TOKEN_MAX) {
        h->buf_free(h, &buf);
        return h->error(h, err, EI_DENIED, 0, st->password_file,
                        "password_file: the password has more than %d bytes",
                        HTTP_TOKEN_MAX);
    }
    size_t plain_len = ulen + 1 + len;
    char *plain = h->secret_alloc(h, plain_len + 1);
    if (plain == NULL) {
        h->buf_free(h, &buf);
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    }
    memcpy(plain, st->username, ulen);
    plain[ulen] = ':';
    memcpy(plain + ulen + 1, buf.data, len);
    h->buf_free(h, &buf);
    size_t b64 =
        sodium_base64_ENCODED_LEN(plain_len, sodium_base64_VARIANT_ORIGINAL);
    s = http_set_auth(run, HTTP_BASIC, b64, err);
    if (s == EI_OK) {
        sodium_bin2base64(run->auth + strlen(HTTP_BASIC), b64,
                          (const unsigned char *)plain, plain_len,
                          sodium_base64_VARIANT_ORIGINAL);
        run->auth_what = "basic authentication";
    }
    h->secret_free(h, plain, plain_len + 1);
    return s;
}

/* "URL" or "URL (source)" for an entry. */
static const char *http_locator(struct http_run *run, const char *source,
                                int line)
{
    struct http_state *st = run->st;
    const struct ei_host *h = st->host;
    size_t need = strlen(st->shown) + HTTP_NAME_SHOW_MAX + 32;
    if (need > st->loc_cap) {
        char *p = realloc(st->loc, need);
        if (p == NULL)
            return NULL;
        st->loc = p;
        st->loc_cap = need;
    }
    if (source != NULL) {
        char shown[HTTP_NAME_SHOW_MAX + EI_TEXT_EXTRA];
        h->safe_text(h, shown, sizeof(shown), source, strlen(source), 0);
        snprintf(st->loc, st->loc_cap, "%s (%s)", st->shown, shown);
    } else if (line > 0) {
        snprintf(st->loc, st->loc_cap, "%s:%d", st->shown, line);
    } else {
        snprintf(st->loc, st->loc_cap, "%s", st->shown);
    }
    return st->loc;
}

static int http_forward(void *ctx, const char *const *name, size_t name_n,
                        const char *value, size_t value_len, int line,
                        unsigned flags, struct ei_error *err)
{
    struct http_run *run = ctx;
    const char *loc = http_locator(run, NULL, line);
    if (loc == NULL)
        return ei_parse_error(err, EI_NOMEM, NULL, "out of memory"), -1;
    return run->sink->emit(run->sink, name, name_n, value, value_len, loc,
                           flags, err);
}

static int http_forward_spring(void *ctx, const char *const *name,
                               size_t name_n, const char *value,
                               size_t value_len, const char *key,
                               const char *source, struct ei_error *err)
{
    struct http_run *run = ctx;
    (void)key;
    const char *loc = http_locator(run, source, 0);
    if (loc == NULL)
        return ei_parse_error(err, EI_NOMEM, NULL, "out of memory"), -1;
    /* "${...}" in a Spring value is Spring's own placeholder, naming a
       property ("${server.host:localhost}"), which the application
       resolves: not a reference to a key of envinject's */
    return run->sink->emit(run->sink, name, name_n, value, value_len, loc,
                           EI_ENTRY_LITERAL, err);
}

/* A JSON tree, through select when set, walked into the sink. */
static enum ei_status http_walk(struct http_run *run, const json_t *root,
                                struct ei_error *err)
{
    struct http_state *st = run->st;
    const json_t *sel = root;
    if (st->select != NULL) {
        enum ei_status s =
            ei_jsonptr_eval(root, st->select, st->shown, &sel, err);
        if (s != EI_OK)
            return s;
        if (!json_is_object(sel)) {
            char shown[EI_JSONPTR_MAX / 4];
            jsonptr_show(shown, sizeof(shown), st->select, strlen(st->select));
            return ei_parse_error(err, EI_BADDATA, st->shown,
                                  "select \"%s\" is %s, not an object", shown,
                                  jsonptr_type(sel));
        }
    }
    return ei_jsonflat_walk(sel, NULL, 0, st->shown, http_forward, run, err);
}

static enum ei_status http_parse(struct http_run *run, const char *body,
                                 size_t len, struct ei_error *err)
{
    struct http_state *st = run->st;
    const struct ei_host *h = st->host;
    json_t *root = NULL;
    enum ei_status s = EI_OK;
    size_t keys = 0;
    switch (st->format) {
    case HTTP_JSON:
        s = ei_jsonflat_load(body, len, st->shown, &root, err);
        if (s == EI_OK)
            s = http_walk(run, root, err);
        break;
    case HTTP_YAML:
        if (st->select == NULL) {
            s = ei_yamlflat_parse(body, len, st->shown, st->profile,
                                  http_forward, run, err);
            break;
        }
        s = ei_yaml_to_json(body, len, st->shown, st->profile, &root, err);
        if (s == EI_OK)
            s = http_walk(run, root, err);
        break;
    case HTTP_DOTENV:
        s = ei_dotenv_parse(body, len, st->shown, http_forward, run, err);
        break;
    case HTTP_SPRING:
        s = ei_spring_parse(h, body, len, st->shown, http_forward_spring, run,
                            &keys, err);
        if (s == EI_OK && keys == 0)
            h->log(h, EI_LOG_INFO,
                   "the Spring server sent no property (an unknown "
                   "application or profile?)");
        break;
    }
    json_decref(root);
    return s;
}

/* What the server sent in header name, fit for a message; "" if none. */
static void http_shown_header(struct http_state *st, const char *name,
                              char *out, size_t out_len)
{
    const struct ei_host *h = st->host;
    char raw[HTTP_ETAG_MAX];
    out[0] = '\0';
    int n = h->http_header(st->http, name, raw, sizeof(raw));
    if (n <= 0)
        return;
    /* a Location may carry a token in its query */
    if (strcmp(name, "Location") == 0)
        n = (int)strcspn(raw, "?#");
    h->safe_text(h, out, out_len, raw, (size_t)n, 0);
    sodium_memzero(raw, sizeof(raw));
}

/* A page meant for a browser: no configuration format is sent as HTML. */
static bool http_is_html(struct http_state *st, char *ctype, size_t ctype_len)
{
    int n = st->host->http_header(st->http, "Content-Type", ctype, ctype_len);
    if (n <= 0) {
        ctype[0] = '\0';
        return false;
    }
    ctype[strcspn(ctype, "; \t")] = '\0';
    return strcasecmp(ctype, "text/html") == 0 ||
           strcasecmp(ctype, "application/xhtml+xml") == 0;
}

static enum ei_status http_status_fail(struct http_run *run,
                                       const struct ei_http_response *resp,
                                       struct ei_error *err)
{
    struct http_state *st = run->st;
    const struct ei_host *h = st->host;
    long s = resp->status;
    char shown[HTTP_SHOW_MAX + EI_TEXT_EXTRA];
    const char *sent = run->auth_what != NULL ? run->auth_what
                       : st->user_auth ? "the Authorization header of headers"
                                       : "no credentials";
    if (s == HTTP_NOT_FOUND || s == HTTP_GONE || s == HTTP_NO_CONTENT)
        return h->error(h, err, EI_NOTFOUND, 0, st->shown,
                        s == HTTP_NO_CONTENT ? "no content (HTTP %ld)"
                                             : "not found (HTTP %ld)",
                        s);
    if (s == HTTP_UNAUTHORIZED) {
        http_shown_header(st, "WWW-Authenticate", shown, sizeof(shown));
        return h->error(h, err, EI_DENIED, 0, st->shown,
                        "authentication failed (HTTP 401, %s sent%s%s)", sent,
                        shown[0] != '\0' ? "; the server asks for: " : "",
                        shown);
    }
    if (s == HTTP_FORBIDDEN)
        return h->error(h, err, EI_DENIED, 0, st->shown,
                        "permission denied (HTTP 403, %s sent)", sent);
    if (s >= HTTP_REDIRECT_FIRST && s < HTTP_REDIRECT_END) {
        http_shown_header(st, "Location", shown, sizeof(shown));
        return h->error(h, err, EI_BADDATA, 0, st->shown,
                        "the server redirects (HTTP %ld)%s%s; envinject "
                        "follows no redirect: set url to the final address",
                        s, shown[0] != '\0' ? " to " : "", shown);
    }
    if (s == HTTP_NOT_ACCEPTABLE)
        return h->error(h, err, EI_BADDATA, 0, st->shown,
                        "the server cannot answer in the format asked "
                        "(HTTP 406): set an Accept header in headers");
    if (s == HTTP_TOO_MANY || (s >= HTTP_SERVER_ERROR && s < HTTP_STATUS_END))
        return h->error(h, err, EI_UNAVAILABLE, 0, st->shown,
                        "server error (HTTP %ld)", s);
    return h->error(h, err, EI_BADDATA, 0, st->shown,
                    "unexpected response (HTTP %ld, %zu bytes)", s,
                    resp->body_len);
}

/* Keep a parsed answer and its ETag for the next read; without an ETag
   nothing is kept, and the next read is unconditional. */
static void http_keep(struct http_state *st, const char *body, size_t len)
{
    const struct ei_host *h = st->host;
    char etag[HTTP_ETAG_MAX];
    int n = h->http_header(st->http, "ETag", etag, sizeof(etag));
    bool ok = n > 0;
    for (int i = 0; ok && i < n; i++)
        ok = (unsigned char)etag[i] >= 0x20 && (unsigned char)etag[i] < 0x7f;
    if (st->kept != NULL)
        h->secret_free(h, st->kept, st->kept_len + 1);
    st->kept = NULL;
    st->kept_len = 0;
    sodium_memzero(st->etag, sizeof(st->etag));
    if (!ok)
        return;
    st->kept = h->secret_alloc(h, len + 1);
    if (st->kept == NULL)
        return; /* the next read is unconditional: no harm */
    memcpy(st->kept, body, len);
    st->kept[len] = '\0';
    st->kept_len = len;
    memcpy(st->etag, etag, (size_t)n + 1);
    h->log(h, EI_LOG_DEBUG, "ETag kept for the next read (%d bytes)", n);
}

static enum ei_status http_fetch(void *state, struct ei_sink *sink,
                                 const struct ei_deadline *dl,
                                 struct ei_error *err)
{
    struct http_state *st = state;
    const struct ei_host *h = st->host;
    struct http_run run = {.st = st, .sink = sink};
    enum ei_status s = EI_OK;
    if (st->token_file != NULL)
        s = http_bearer(&run, err);
    else if (st->username != NULL)
        s = http_basic(&run, err);
    char *inm = NULL;
    size_t inm_size = 0;
    const char *headers[HTTP_HEADERS_MAX + HTTP_OWN_HEADERS];
    size_t hn = 0;
    for (size_t i = 0; i < st->headers_n; i++)
        headers[hn++] = st->headers[i];
    if (!st->user_accept && st->format != HTTP_DOTENV)
        headers[hn++] =
            st->format == HTTP_YAML ? HTTP_ACCEPT_YAML : HTTP_ACCEPT_JSON;
    if (run.auth != NULL)
        headers[hn++] = run.auth;
    bool conditional = st->kept != NULL;
    if (s == EI_OK && conditional) {
        inm_size = strlen(HTTP_INM) + strlen(st->etag) + 1;
        inm = malloc(inm_size);
        if (inm == NULL)
            s = h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
        else
            snprintf(inm, inm_size, "%s%s", HTTP_INM, st->etag);
        headers[hn++] = inm;
    }
    headers[hn] = NULL;
    struct ei_http_response resp;
    memset(&resp, 0, sizeof(resp));
    if (s != EI_OK)
        goto out;
    struct ei_http_request req = {
        .method = "GET",
        .path = st->path,
        .headers = headers,
        .flags = EI_HTTP_SECRET,
    };
    s = h->http_request(st->http, &req, dl, &resp, err);
    if (s != EI_OK)
        goto out;
    char ctype[128];
    if (resp.status == HTTP_NOT_MODIFIED) {
        if (!conditional) {
            s = h->error(h, err, EI_BADDATA, 0, st->shown,
                         "the server answered 304 Not Modified to a request "
                         "without If-None-Match");
            goto out;
        }
        h->log(h, EI_LOG_INFO, "not modified since the last read (HTTP 304)");
        s = http_parse(&run, st->kept, st->kept_len, err);
        if (s == EI_OK)
            ei_revision_etag(h, st->etag);
    } else if (resp.status == HTTP_OK ||
               resp.status == HTTP_NON_AUTHORITATIVE) {
        if (http_is_html(st, ctype, sizeof(ctype))) {
            s = h->error(h, err, EI_BADDATA, 0, st->shown,
                         "the server sent an HTML page (Content-Type %s, "
                         "%zu bytes), not %s: a login page or a proxy's "
                         "error page?",
                         ctype, resp.body_len, http_formats[st->format].name);
            goto out;
        }
        s = http_parse(&run, resp.body, resp.body_len, err);
        if (s == EI_OK)
            http_keep(st, resp.body, resp.body_len);
        /* the revision: the ETag kept, else the body's SHA-256 */
        if (s == EI_OK && st->kept != NULL)
            ei_revision_etag(h, st->etag);
        else if (s == EI_OK)
            ei_revision_sha256(h, resp.body, resp.body_len);
    } else {
        s = http_status_fail(&run, &resp, err);
    }
out:
    h->http_response_free(st->http, &resp);
    if (inm != NULL) {
        sodium_memzero(inm, inm_size);
        free(inm);
    }
    if (run.auth != NULL)
        h->secret_free(h, run.auth, run.auth_size);
    return s;
}

static void http_destroy(void *state)
{
    http_state_free(state);
}

EI_PROVIDER_DEFINE(http) = {
    .abi = EI_PROVIDER_ABI,
    .size = sizeof(struct ei_provider),
    .name = "http",
    .summary = "any HTTP(S) endpoint: JSON, dotenv, YAML or Spring Cloud "
               "Config",
    .arg_option = "url",
    .flags = EI_PROV_REMOTE | EI_PROV_INTERP,
    .configure = http_configure,
    .fetch = http_fetch,
    .lookup = NULL,
    .destroy = http_destroy,
};
