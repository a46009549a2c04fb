/* SPDX-License-Identifier: MIT */
/* A fake ei_host and a collecting ei_sink for provider unit tests. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "diag.h"
#include "host.h"
#include "http.h"
#include "readfile.h"
#include "safetext.h"
#include "sink.h"

#define FAKE_LAYER         "test"
#define FAKE_MAX_VALUE_LEN (1024u * 1024u)

/* the largest code ei_http_grpc_status accepts (two digits) */
#define FAKE_GRPC_STATUS_MAX 99

struct fake_opt {
    char *name;
    char *value;
    bool used;
};

struct fake_host {
    struct ei_host host;
    char default_cacert[512]; /* what http_open_ca was given last */
    struct fake_opt *opts;
    size_t opts_n;
    char **environ; /* NULL-terminated */
    char *dir;
    char *arg;
    char *log; /* NUL-terminated, lines joined with '\n' */
    size_t log_len;
    char *warn; /* the EI_LOG_WARN lines alone, as log */
    size_t warn_len;
    void **allocs; /* what getters handed out, freed with the host */
    size_t allocs_n;
    size_t reads;
    /* canned HTTP */
    struct fake_reply *replies; /* queued; replies_next is the next one */
    size_t replies_n, replies_next;
    struct fake_http_request *http_reqs;
    size_t http_reqs_n;
    struct fake_http **clients; /* open ones */
    size_t clients_n;
    int64_t sim_ms;       /* simulated time spent in delayed replies */
    char *environment;    /* what host.environment returns, or NULL */
    bool references_only; /* what host.references_only returns */
    /* the last host.revision call, as the core keeps it; revisions: how
       many calls */
    char revision[EI_REVISION_MAX + 1];
    size_t revisions;
    bool layer_secret;       /* what host.layer_secret returns */
    bool revision_unused;    /* host.revision_wanted returns the opposite */
    unsigned last_read_flags; /* of the last host.read_file call */
};

struct fake_reply {
    long status; /* of a gRPC reply: what the engine maps its code to */
    char *body;
    size_t body_len;
    unsigned flags;
    bool grpc;       /* queued with fake_host_grpc_push */
    int grpc_status; /* -1: the reply has no grpc-status */
    char grpc_message[EI_HTTP_GRPC_MESSAGE_MAX];
    char *headers; /* "Name: value\n" lines, or NULL */
};

/* What http_open hands out, behind the opaque struct ei_http pointer. */
struct fake_http {
    struct fake_host *fh;
    char **endpoints;
    size_t endpoints_n;
    size_t current;
    char *locator;
    size_t max_response;
    size_t answer; /* 1 + the index of the reply of the last EI_OK, 0: none */
};

static struct fake_host *fake_of(const struct ei_host *h)
{
    return h->core;
}

static bool fake_keep(struct fake_host *fh, void *p)
{
    if (p == NULL)
        return false;
    void **grown = realloc(fh->allocs, (fh->allocs_n + 1) * sizeof *grown);
    if (grown == NULL) {
        free(p);
        return false;
    }
    fh->allocs = grown;
    fh->allocs[fh->allocs_n++] = p;
    return true;
}

/* The last value of name, marking every occurrence used; NULL if absent. */
static const char *fake_opt_last(struct fake_host *fh, const char *name)
{
    const char *v = NULL;
    for (size_t i = 0; i < fh->opts_n; i++) {
        if (strcmp(fh->opts[i].name, name) == 0) {
            fh->opts[i].used = true;
            v = fh->opts[i].value;
        }
    }
    return v;
}

static int fake_opt_string(const struct ei_host *h, const char *name,
                           const char **out, struct ei_error *err)
{
    const char *v = fake_opt_last(fake_of(h), name);
    if (v == NULL)
        return 0;
    *out = v;
    return 1;
}

static const char *fake_abs_path(const struct ei_host *h, const char *v,
                                 struct ei_error *err)
{
    struct fake_host *fh = fake_of(h);
    if (v[0] == '/' || v[0] == '\0' || fh->dir == NULL)
        return v;
    size_t len = strlen(fh->dir) + 1 + strlen(v) + 1;
    char *p = malloc(len);
    if (p == NULL || !fake_keep(fh, p)) {
        ei_error_set(err, EI_NOMEM, ENOMEM, FAKE_LAYER, NULL, "out of memory");
        return NULL;
    }
    snprintf(p, len, "%s/%s", fh->dir, v);
    return p;
}

static int fake_opt_path(const struct ei_host *h, const char *name,
                         const char **out, struct ei_error *err)
{
    struct fake_host *fh = fake_of(h);
    const char *v = fake_opt_last(fh, name);
    if (v == NULL)
        return 0;
    const char *p = fake_abs_path(h, v, err);
    if (p == NULL)
        return -1;
    *out = p;
    return 1;
}

static int fake_opt_bool(const struct ei_host *h, const char *name, bool *out,
                         struct ei_error *err)
{
    static const struct {
        const char *word;
        bool value;
    } words[] = {{"true", true}, {"false", false}, {"yes", true},
                 {"no", false},  {"1", true},      {"0", false}};
    const char *v = fake_opt_last(fake_of(h), name);
    if (v == NULL)
        return 0;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (strcmp(v, words[i].word) == 0) {
            *out = words[i].value;
            return 1;
        }
    }
    ei_error_set(err, EI_BADCONFIG, 0, FAKE_LAYER, NULL, "%s: not a boolean",
                 name);
    return -1;
}

static int fake_opt_int(const struct ei_host *h, const char *name,
                        long long *out, struct ei_error *err)
{
    const char *v = fake_opt_last(fake_of(h), name);
    if (v == NULL)
        return 0;
    char *end = NULL;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (v[0] == '\0' || *end != '\0' || errno != 0) {
        ei_error_set(err, EI_BADCONFIG, 0, FAKE_LAYER, NULL,
                     "%s: not an integer", name);
        return -1;
    }
    *out = n;
    return 1;
}

static int fake_opt_list(const struct ei_host *h, const char *name,
                         const char *const **out, size_t *n,
                         struct ei_error *err)
{
    struct fake_host *fh = fake_of(h);
    size_t count = 0;
    for (size_t i = 0; i < fh->opts_n; i++)
        count += strcmp(fh->opts[i].name, name) == 0;
    if (count == 0)
        return 0;
    const char **list = calloc(count + 1, sizeof *list);
    if (list == NULL || !fake_keep(fh, list)) {
        ei_error_set(err, EI_NOMEM, ENOMEM, FAKE_LAYER, NULL, "out of memory");
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < fh->opts_n; i++) {
        if (strcmp(fh->opts[i].name, name) == 0) {
            fh->opts[i].used = true;
            list[k++] = fh->opts[i].value;
        }
    }
    *out = list;
    if (n != NULL)
        *n = count;
    return 1;
}

static const char *fake_arg(const struct ei_host *h)
{
    return fake_of(h)->arg;
}

static const char *fake_env_get(const struct ei_host *h, const char *name)
{
    size_t len = strlen(name);
    for (char **e = fake_of(h)->environ; *e != NULL; e++) {
        if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
            return *e + len + 1;
    }
    return NULL;
}

static const char *const *fake_env_list(const struct ei_host *h)
{
    return (const char *const *)fake_of(h)->environ;
}

/* The core's filter over the common options as the fake holds them. */
static bool fake_key_selected(const struct ei_host *h, const char *key)
{
    struct fake_host *fh = fake_of(h);
    const char *prefix = fake_opt_last(fh, "prefix");
    bool strip = false;
    const char *const *include = NULL, *const *exclude = NULL;
    if (fake_opt_bool(h, "strip_prefix", &strip, NULL) < 0 ||
        fake_opt_list(h, "include", &include, NULL, NULL) < 0 ||
        fake_opt_list(h, "exclude", &exclude, NULL, NULL) < 0)
        return false;
    return ei_key_filter(prefix, strip, include, exclude, key) != NULL;
}

static enum ei_status fake_read_file(const struct ei_host *h, const char *path,
                                     unsigned flags, struct ei_buf *out,
                                     struct ei_error *err)
{
    fake_of(h)->reads++;
    fake_of(h)->last_read_flags = flags;
    bool fresh = err != NULL && err->status == EI_OK;
    enum ei_status st = ei_readfile(path, flags, h->max_value_len, out, err);
    if (st != EI_OK && fresh)
        ei_error_layer(err, FAKE_LAYER);
    return st;
}

static void fake_buf_free(const struct ei_host *h, struct ei_buf *buf)
{
    ei_readfile_free(buf);
}

static void *fake_secret_alloc(const struct ei_host *h, size_t len)
{
    return sodium_malloc(len);
}

static void fake_secret_free(const struct ei_host *h, void *p, size_t len)
{
    sodium_free(p);
}

__attribute__((format(printf, 6, 7))) static enum ei_status
fake_error(const struct ei_host *h, struct ei_error *err, enum ei_status status,
           int errnum, const char *locator, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ei_error_vset(err, status, errnum, FAKE_LAYER, locator, fmt, ap);
    va_end(ap);
    return status;
}

__attribute__((format(printf, 3, 4))) static void
fake_log(const struct ei_host *h, enum ei_log_level level, const char *fmt, ...)
{
    struct fake_host *fh = fake_of(h);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t sep = fh->log_len > 0;
    char *grown = realloc(fh->log, fh->log_len + sep + (size_t)n + 1);
    if (grown == NULL)
        return;
    fh->log = grown;
    if (sep)
        fh->log[fh->log_len++] = '\n';
    va_start(ap, fmt);
    vsnprintf(fh->log + fh->log_len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    /* the warnings, the lines a user sees without -v, once more apart */
    if (level == EI_LOG_WARN) {
        size_t wsep = fh->warn_len > 0;
        char *w = realloc(fh->warn, fh->warn_len + wsep + (size_t)n + 1);
        if (w == NULL)
            return;
        fh->warn = w;
        if (wsep)
            fh->warn[fh->warn_len++] = '\n';
        memcpy(fh->warn + fh->warn_len, fh->log + fh->log_len, (size_t)n + 1);
        fh->warn_len += (size_t)n;
    }
    fh->log_len += (size_t)n;
}

static int64_t fake_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t fake_remaining_ms(const struct ei_host *h,
                                 const struct ei_deadline *dl)
{
    if (dl == NULL)
        return INT64_MAX;
    int64_t left = dl->end_ms - fake_now_ms() - fake_of(h)->sim_ms;
    return left > 0 ? left : 0;
}

void fake_deadline(struct ei_deadline *dl, int64_t ms)
{
    dl->start_ms = fake_now_ms();
    dl->end_ms = dl->start_ms + ms;
}

static char *fake_strdup(const char *s)
{
    size_t len = strlen(s) + 1;
    char *p = malloc(len);
    if (p != NULL)
        memcpy(p, s, len);
    return p;
}

/* ---- canned HTTP ---- */

#define FAKE_HTTP_MAX_RESPONSE (1024LL * 1024 * 1024)
#define FAKE_HTTP_DEFAULT_MAX  (16u * 1024u * 1024u)

static struct fake_http *fake_http_of(struct ei_http *c)
{
    return (struct fake_http *)(void *)c;
}

static void fake_http_free(struct fake_http *fc)
{
    if (fc == NULL)
        return;
    for (size_t i = 0; i < fc->endpoints_n; i++)
        free(fc->endpoints[i]);
    free(fc->endpoints);
    free(fc->locator);
    free(fc);
}

static enum ei_status fake_http_open(const struct ei_host *h,
                                     const char *const *endpoints, size_t n,
                                     struct ei_http **out,
                                     struct ei_error *err);

/* The fake makes no TLS connections: the default CA is only recorded. */
static enum ei_status fake_http_open_ca(const struct ei_host *h,
                                        const char *const *endpoints, size_t n,
                                        const char *default_cacert,
                                        struct ei_http **out,
                                        struct ei_error *err)
{
    struct fake_host *fh = fake_of(h);
    snprintf(fh->default_cacert, sizeof(fh->default_cacert), "%s",
             default_cacert != NULL ? default_cacert : "");
    return fake_http_open(h, endpoints, n, out, err);
}

static enum ei_status fake_http_open(const struct ei_host *h,
                                     const char *const *endpoints, size_t n,
                                     struct ei_http **out, struct ei_error *err)
{
    struct fake_host *fh = fake_of(h);
    const char *path;
    bool insecure;
    long long max = 0;
    *out = NULL;
    /* the core reads these for the provider: mark them used alike */
    static const char *const paths[] = {"cacert", "cert", "key"};
    bool given[3] = {false, false, false};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        int r = fake_opt_path(h, paths[i], &path, err);
        if (r < 0)
            return EI_BADCONFIG;
        given[i] = r > 0;
    }
    if (given[2] && !given[1])
        return ei_error_set(err, EI_BADCONFIG, 0, FAKE_LAYER, NULL,
                            "key needs cert");
    if (fake_opt_bool(h, "insecure", &insecure, err) < 0)
        return EI_BADCONFIG;
    int rc = fake_opt_int(h, "max_response_size", &max, err);
    if (rc < 0)
        return EI_BADCONFIG;
    if (rc > 0 && (max < 1 || max > FAKE_HTTP_MAX_RESPONSE))
        return ei_error_set(err, EI_BADCONFIG, 0, FAKE_LAYER, NULL,
                            "max_response_size must be from 1 to %lld bytes",
                            FAKE_HTTP_MAX_RESPONSE);
    if (endpoints == NULL || n == 0)
        return ei_error_set(err, EI_BADCONFIG, 0, FAKE_LAYER, NULL,
                            "no endpoints");
    for (size_t i = 0; i < n; i++)
        if (endpoints[i] == NULL || endpoints[i][0] == '\0')
            return ei_error_set(err, EI_BADCONFIG, 0, FAKE_LAYER, NULL,
                                "endpoint %zu is empty", i + 1);
    struct fake_http *fc = calloc(1, sizeof *fc);
    struct fake_http **grown =
        realloc(fh->clients, (fh->clients_n + 1) * sizeof *grown);
    if (grown != NULL)
        fh->clients = grown;
    if (fc == NULL || grown == NULL)
        goto nomem;
    fc->fh = fh;
    fc->max_response = rc > 0 ? (size_t)max : FAKE_HTTP_DEFAULT_MAX;
    fc->endpoints = calloc(n, sizeof *fc->endpoints);
    if (fc->endpoints == NULL)
        goto nomem;
    size_t loc_len = 1;
    for (; fc->endpoints_n < n; fc->endpoints_n++) {
        char *e = fake_strdup(endpoints[fc->endpoints_n]);
        if (e == NULL)
            goto nomem;
        fc->endpoints[fc->endpoints_n] = e;
        loc_len += strlen(e) + 2;
    }
    fc->locator = calloc(1, loc_len);
    if (fc->locator == NULL)
        goto nomem;
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(fc->endpoints[i]);
        if (i > 0) {
            memcpy(fc->locator + off, ", ", 2);
            off += 2;
        }
        memcpy(fc->locator + off, fc->endpoints[i], len);
        off += len;
    }
    fh->clients[fh->clients_n++] = fc;
    *out = (struct ei_http *)(void *)fc;
    return EI_OK;
nomem:
    fake_http_free(fc);
    return ei_error_set(err, EI_NOMEM, ENOMEM, FAKE_LAYER, NULL,
                        "out of memory");
}

static void fake_http_request_clear(struct fake_http_request *r)
{
    for (size_t i = 0; i < r->headers_n; i++) {
        sodium_memzero(r->headers[i], strlen(r->headers[i]));
        free(r->headers[i]);
    }
    free(r->headers);
    if (r->body != NULL)
        sodium_memzero(r->body, r->body_len);
    free(r->body);
    free(r->method);
    free(r->path);
}

static int fake_http_record(struct fake_http *fc,
                            const struct ei_http_request *req)
{
    struct fake_host *fh = fc->fh;
    struct fake_http_request *grown =
        realloc(fh->http_reqs, (fh->http_reqs_n + 1) * sizeof *fh->http_reqs);
    if (grown == NULL)
        return -1;
    fh->http_reqs = grown;
    struct fake_http_request *r = &fh->http_reqs[fh->http_reqs_n];
    memset(r, 0, sizeof *r);
    size_t n = 0;
    while (req->headers != NULL && req->headers[n] != NULL)
        n++;
    r->method = fake_strdup(req->method);
    r->path = fake_strdup(req->path);
    r->headers = calloc(n + 1, sizeof *r->headers);
    if (r->method == NULL || r->path == NULL || r->headers == NULL)
        goto fail;
    for (; r->headers_n < n; r->headers_n++) {
        r->headers[r->headers_n] = fake_strdup(req->headers[r->headers_n]);
        if (r->headers[r->headers_n] == NULL)
            goto fail;
    }
    if (req->body != NULL) {
        r->body = malloc(req->body_len + 1);
        if (r->body == NULL)
            goto fail;
        memcpy(r->body, req->body, req->body_len);
        r->body[req->body_len] = '\0';
        r->body_len = req->body_len;
    }
    r->flags = req->flags;
    r->endpoint = fc->endpoints[fc->current];
    fh->http_reqs_n++;
    return 0;
fail:
    fake_http_request_clear(r);
    return -1;
}

static enum ei_status fake_http_request(struct ei_http *c,
                                        const struct ei_http_request *req,
                                        const struct ei_deadline *dl,
                                        struct ei_http_response *resp,
                                        struct ei_error *err)
{
    struct fake_http *fc = fake_http_of(c);
    struct fake_host *fh = fc->fh;
    bool noretry = (req->flags & EI_HTTP_NORETRY) != 0;
    bool grpc = (req->flags & EI_HTTP_GRPC) != 0;
    unsigned tries = 0;
    fc->answer = 0;
    memset(resp, 0, sizeof *resp);
    resp->retry_after_ms = -1;
    resp->grpc_status = -1;
    if (req->method == NULL || req->path == NULL || req->path[0] != '/')
        return ei_error_set(err, EI_INTERNAL, 0, FAKE_LAYER, NULL,
                            "HTTP request without a method or a path "
                            "starting with '/'");
    if (dl == NULL)
        return ei_error_set(err, EI_INTERNAL, 0, FAKE_LAYER, NULL,
                            "HTTP request without a deadline");
    long long budget = (long long)(dl->end_ms - dl->start_ms);
    for (;;) {
        if (fake_remaining_ms(&fh->host, dl) <= 0)
            return ei_error_set(err, EI_UNAVAILABLE, 0, FAKE_LAYER, fc->locator,
                                "no endpoint answered within %lld ms "
                                "(last: timeout)",
                                budget);
        if (fh->replies_next == fh->replies_n)
            return ei_error_set(err, EI_INTERNAL, 0, FAKE_LAYER, NULL,
                                "fake host: no canned HTTP reply left");
        if (fake_http_record(fc, req) < 0)
            return ei_error_set(err, EI_NOMEM, ENOMEM, FAKE_LAYER, NULL,
                                "out of memory");
        struct fake_reply *r = &fh->replies[fh->replies_next++];
        tries++;
        fh->sim_ms += (int64_t)(r->flags >> 8);
        if (fake_remaining_ms(&fh->host, dl) <= 0)
            return ei_error_set(err, EI_UNAVAILABLE, 0, FAKE_LAYER, fc->locator,
                                "no endpoint answered within %lld ms "
                                "(last: timeout)",
                                budget);
        bool more = fh->replies_next < fh->replies_n;
        if (r->grpc && !grpc)
            return ei_error_set(err, EI_INTERNAL, 0, FAKE_LAYER, NULL,
                                "fake host: gRPC reply to a request without "
                                "EI_HTTP_GRPC");
        if (r->flags & FAKE_HTTP_CLOSE) {
            fc->current = (fc->current + 1) % fc->endpoints_n;
            if (noretry || !more)
                return ei_error_set(err, EI_UNAVAILABLE, 0, FAKE_LAYER,
                                    fc->locator,
                                    "no endpoint answered within %lld ms "
                                    "(last: connection closed without a "
                                    "response)",
                                    budget);
            continue;
        }
        if (!noretry && ei_http_retryable(r->status)) {
            char gtext[32] = "";
            if (r->grpc && r->grpc_status > 0)
                snprintf(gtext, sizeof gtext, " (gRPC %d)", r->grpc_status);
            if (!more)
                return ei_error_set(err, EI_UNAVAILABLE, 0, FAKE_LAYER,
                                    fc->locator,
                                    "HTTP %ld%s after %u attempt%s", r->status,
                                    gtext, tries, tries == 1 ? "" : "s");
            continue;
        }
        if ((req->flags & EI_HTTP_STREAM) && r->status >= 200 &&
            r->status < 300) {
            /* the body in two pieces, split mid-way, as a stream comes */
            if (req->on_data == NULL)
                return ei_error_set(err, EI_INTERNAL, 0, FAKE_LAYER, NULL,
                                    "HTTP stream without on_data");
            size_t half = r->body_len / 2;
            if (half == 0 ||
                req->on_data(req->on_data_ctx, r->body, half) == 0)
                if (r->body_len > half)
                    (void)req->on_data(req->on_data_ctx, r->body + half,
                                       r->body_len - half);
            resp->status = r->status;
            resp->body = calloc(1, 1);
            if (resp->body == NULL)
                return ei_error_set(err, EI_NOMEM, ENOMEM, FAKE_LAYER, NULL,
                                    "out of memory");
            resp->endpoint = fc->endpoints[fc->current];
            fc->answer = (size_t)(r - fh->replies) + 1;
            return EI_OK;
        }
        if (r->body_len > fc->max_response)
            return ei_error_set(
                err, EI_BADDATA, EFBIG, FAKE_LAYER, fc->endpoints[fc->current],
                "response larger than %zu bytes", fc->max_response);
        bool secret = (req->flags & EI_HTTP_SECRET) != 0;
        char *body =
            secret ? sodium_malloc(r->body_len + 1) : malloc(r->body_len + 1);
        if (body == NULL)
            return ei_error_set(err, EI_NOMEM, ENOMEM, FAKE_LAYER, NULL,
                                "out of memory");
        memcpy(body, r->body, r->body_len);
        body[r->body_len] = '\0';
        resp->status = r->status;
        resp->body = body;
        resp->body_len = r->body_len;
        resp->secret = secret;
        resp->endpoint = fc->endpoints[fc->current];
        /* the engine looks for grpc-status on a 200 to a gRPC call only;
           a plain reply to one is a server that sent none */
        if (r->grpc) {
            resp->grpc_status = r->grpc_status;
            memcpy(resp->grpc_message, r->grpc_message,
                   sizeof resp->grpc_message);
        }
        fc->answer = (size_t)(r - fh->replies) + 1;
        return EI_OK;
    }
}

/* As the core: at most EI_REVISION_MAX bytes, printable ASCII only. */
static void fake_revision(const struct ei_host *h, const char *text)
{
    struct fake_host *fh = fake_of(h);
    size_t n = strnlen(text, EI_REVISION_MAX + 1);
    if (n > EI_REVISION_MAX)
        n = EI_REVISION_MAX;
    for (size_t i = 0; i < n; i++)
        if (text[i] < 0x20 || text[i] > 0x7e)
            return;
    fh->revisions++;
    memcpy(fh->revision, text, n);
    fh->revision[n] = '\0';
}

const char *fake_host_revision(const struct fake_host *fh)
{
    return fh->revisions > 0 ? fh->revision : NULL;
}

void fake_host_revision_clear(struct fake_host *fh)
{
    fh->revisions = 0;
    fh->revision[0] = '\0';
}

static const char *fake_environment(const struct ei_host *h)
{
    return fake_of(h)->environment;
}

static bool fake_references_only(const struct ei_host *h)
{
    return fake_of(h)->references_only;
}

/*
 * As the core's, for the two shapes a test can give: an option named
 * exactly name holds JSON text (a typed group of a configuration file),
 * returned as it is; else the options "name.MEMBER" (--layer's shape)
 * make an object of strings.  Either way every one counts as read.
 */
static int fake_opt_json(const struct ei_host *h, const char *name,
                         const char **out, struct ei_error *err)
{
    struct fake_host *fh = fake_of(h);
    const char *whole = fake_opt_last(fh, name);
    char *text = NULL;
    if (whole != NULL) {
        text = fake_strdup(whole);
    } else {
        size_t n = strlen(name);
        json_t *obj = json_object();
        bool any = false;
        for (size_t i = 0; obj != NULL && i < fh->opts_n; i++) {
            struct fake_opt *o = &fh->opts[i];
            if (strncmp(o->name, name, n) != 0 || o->name[n] != '.')
                continue;
            o->used = true;
            any = true;
            if (json_object_set_new(obj, o->name + n + 1,
                                    json_string(o->value)) < 0) {
                json_decref(obj);
                obj = NULL;
            }
        }
        if (obj != NULL && !any) {
            json_decref(obj);
            return 0;
        }
        char *dumped = obj != NULL
                           ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER)
                           : NULL;
        json_decref(obj);
        if (dumped != NULL) {
            text = fake_strdup(dumped);
            json_free_t jfree = NULL;
            json_get_alloc_funcs(NULL, &jfree);
            jfree(dumped);
        }
    }
    if (text == NULL || !fake_keep(fh, text)) {
        ei_error_set(err, EI_NOMEM, ENOMEM, FAKE_LAYER, NULL, "out of memory");
        return -1;
    }
    *out = text;
    return 1;
}

/* As the engine's: the header of the reply the last EI_OK returned. */
static int fake_http_resp_header(struct ei_http *c, const char *name, char *out,
                                 size_t out_len)
{
    struct fake_http *fc = fake_http_of(c);
    if (out_len > 0)
        out[0] = '\0';
    if (fc == NULL || fc->answer == 0 || name == NULL || out_len == 0)
        return -1;
    const char *lines = fc->fh->replies[fc->answer - 1].headers;
    if (lines == NULL)
        return -1;
    size_t nl = strlen(name);
    for (const char *p = lines; *p != '\0';) {
        const char *end = strchr(p, '\n');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (len > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
            const char *v = p + nl + 1;
            size_t n = len - nl - 1;
            while (n > 0 && (*v == ' ' || *v == '\t')) {
                v++;
                n--;
            }
            while (n > 0 &&
                   (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r'))
                n--;
            if (n >= out_len)
                return -2;
            memcpy(out, v, n);
            out[n] = '\0';
            return (int)n;
        }
        p += len;
        if (*p == '\n')
            p++;
    }
    return -1;
}

static void fake_http_response_free(struct ei_http *c,
                                    struct ei_http_response *resp)
{
    if (resp == NULL)
        return;
    if (resp->body != NULL) {
        if (resp->secret) {
            sodium_free(resp->body);
        } else {
            sodium_memzero(resp->body, resp->body_len);
            free(resp->body);
        }
    }
    memset(resp, 0, sizeof *resp);
    resp->retry_after_ms = -1;
    resp->grpc_status = -1;
}

static void fake_http_close(struct ei_http *c)
{
    struct fake_http *fc = fake_http_of(c);
    if (fc == NULL)
        return;
    struct fake_host *fh = fc->fh;
    for (size_t i = 0; i < fh->clients_n; i++) {
        if (fh->clients[i] == fc) {
            fh->clients[i] = fh->clients[--fh->clients_n];
            break;
        }
    }
    fake_http_free(fc);
}

int fake_host_http_push(struct fake_host *fh, long status, const char *body,
                        unsigned flags)
{
    struct fake_reply *grown =
        realloc(fh->replies, (fh->replies_n + 1) * sizeof *grown);
    if (grown == NULL)
        return -1;
    fh->replies = grown;
    char *copy = fake_strdup(body != NULL ? body : "");
    if (copy == NULL)
        return -1;
    fh->replies[fh->replies_n++] = (struct fake_reply){
        .status = status,
        .body = copy,
        .body_len = strlen(copy),
        .flags = flags,
    };
    return 0;
}

int fake_host_set_environment(struct fake_host *fh, const char *name)
{
    char *copy = NULL;
    if (name != NULL && (copy = fake_strdup(name)) == NULL)
        return -1;
    free(fh->environment);
    fh->environment = copy;
    return 0;
}

void fake_host_set_references_only(struct fake_host *fh, bool on)
{
    fh->references_only = on;
}

static bool fake_layer_secret(const struct ei_host *h)
{
    return fake_of(h)->layer_secret;
}

static bool fake_revision_wanted(const struct ei_host *h)
{
    return !fake_of(h)->revision_unused;
}

void fake_host_set_layer_secret(struct fake_host *fh, bool on)
{
    fh->layer_secret = on;
}

void fake_host_set_revision_wanted(struct fake_host *fh, bool on)
{
    fh->revision_unused = !on;
}

unsigned fake_host_read_flags(const struct fake_host *fh)
{
    return fh->last_read_flags;
}

enum ei_status fake_configure(const struct ei_provider *p,
                              const char *const *opts,
                              const char *const *environ, bool refs_only,
                              struct ei_error *err)
{
    struct fake_host *fh = fake_host_new(opts, environ, NULL);
    if (fh == NULL) {
        *err = (struct ei_error){.status = EI_NOMEM};
        return EI_NOMEM;
    }
    fake_host_set_references_only(fh, refs_only);
    void *st = NULL;
    enum ei_status s = p->configure(fake_host_host(fh), &st, err);
    if (s == EI_OK && (st == NULL || fh->reads != 0))
        s = fake_error(&fh->host, err, EI_INTERNAL, 0, NULL,
                       st == NULL ? "configure made no state"
                                  : "configure read a file");
    if (st != NULL)
        p->destroy(st);
    fake_host_free(fh);
    return s;
}

const char *fake_configure_rows(const struct ei_provider *p,
                                const struct fake_configure_row *rows, size_t n,
                                char *buf, size_t size)
{
    for (size_t i = 0; i < n; i++) {
        const struct fake_configure_row *r = &rows[i];
        struct ei_error err = {0};
        enum ei_status got =
            fake_configure(p, r->opts, r->environ, r->refs_only, &err);
        if (got != r->want ||
            (got != EI_OK && strstr(err.text, r->want_text) == NULL)) {
            snprintf(buf, size, "%s: status %d (want %d), error '%s'", r->name,
                     (int)got, (int)r->want, err.text);
            return buf;
        }
    }
    return NULL;
}

int fake_host_http_push_headers(struct fake_host *fh, long status,
                                const char *headers, const char *body,
                                unsigned flags)
{
    char *copy = NULL;
    if (headers != NULL && (copy = fake_strdup(headers)) == NULL)
        return -1;
    if (fake_host_http_push(fh, status, body, flags) < 0) {
        free(copy);
        return -1;
    }
    fh->replies[fh->replies_n - 1].headers = copy;
    return 0;
}

int fake_host_grpc_push(struct fake_host *fh, int grpc_status,
                        const char *grpc_message, const void *body,
                        size_t body_len, unsigned flags)
{
    /* what ei_http_grpc_status can yield */
    if (grpc_status < -1 || grpc_status > FAKE_GRPC_STATUS_MAX ||
        (body == NULL && body_len > 0) || body_len == SIZE_MAX) {
        errno = EINVAL;
        return -1;
    }
    struct fake_reply *grown =
        realloc(fh->replies, (fh->replies_n + 1) * sizeof *grown);
    if (grown == NULL)
        return -1;
    fh->replies = grown;
    char *copy = malloc(body_len + 1);
    if (copy == NULL)
        return -1;
    if (body_len > 0)
        memcpy(copy, body, body_len);
    copy[body_len] = '\0';
    struct fake_reply *r = &fh->replies[fh->replies_n++];
    *r = (struct fake_reply){
        .status = grpc_status > 0 ? ei_http_grpc_to_http(grpc_status) : 200,
        .body = copy,
        .body_len = body_len,
        .flags = flags,
        .grpc = true,
        .grpc_status = grpc_status,
    };
    /* the engine keeps a message only with a code above 0, decoded and
       made printable */
    const char *m = grpc_status > 0 && grpc_message != NULL ? grpc_message : "";
    size_t n = 0;
    for (; m[n] != '\0' && n + 1 < sizeof r->grpc_message; n++) {
        unsigned char c = (unsigned char)m[n];
        r->grpc_message[n] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    r->grpc_message[n] = '\0';
    return 0;
}

const struct fake_http_request *fake_host_http_requests(struct fake_host *fh,
                                                        size_t *n)
{
    if (n != NULL)
        *n = fh->http_reqs_n;
    return fh->http_reqs;
}

const char *fake_http_header(const struct fake_http_request *r,
                             const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < r->headers_n; i++) {
        const char *h = r->headers[i];
        if (strncasecmp(h, name, len) == 0 && h[len] == ':') {
            h += len + 1;
            while (*h == ' ' || *h == '\t')
                h++;
            return h;
        }
    }
    return NULL;
}

size_t fake_host_http_pending(struct fake_host *fh)
{
    return fh->replies_n - fh->replies_next;
}

size_t fake_host_http_clients(struct fake_host *fh)
{
    return fh->clients_n;
}

int64_t fake_host_http_elapsed(struct fake_host *fh)
{
    return fh->sim_ms;
}

struct fake_host *fake_host_new(const char *const *opts,
                                const char *const *environ, const char *dir)
{
    if (sodium_init() < 0)
        return NULL;
    struct fake_host *fh = calloc(1, sizeof *fh);
    if (fh == NULL)
        return NULL;
    fh->host = (struct ei_host){
        .abi = EI_HOST_ABI,
        .size = sizeof(struct ei_host),
        .core = fh,
        .opt_string = fake_opt_string,
        .opt_path = fake_opt_path,
        .opt_bool = fake_opt_bool,
        .opt_int = fake_opt_int,
        .opt_list = fake_opt_list,
        .arg = fake_arg,
        .env_get = fake_env_get,
        .env_list = fake_env_list,
        .read_file = fake_read_file,
        .buf_free = fake_buf_free,
        .secret_alloc = fake_secret_alloc,
        .secret_free = fake_secret_free,
        .error = fake_error,
        .log = fake_log,
        .remaining_ms = fake_remaining_ms,
        .max_value_len = FAKE_MAX_VALUE_LEN,
        .http_open = fake_http_open,
        .http_open_ca = fake_http_open_ca,
        .http_request = fake_http_request,
        .http_response_free = fake_http_response_free,
        .http_close = fake_http_close,
        .key_selected = fake_key_selected,
        /* the core's own: it holds no state a test would fake */
        .safe_text = ei_host_safe_text,
        .http_header = fake_http_resp_header,
        .environment = fake_environment,
        .opt_json = fake_opt_json,
        .abs_path = fake_abs_path,
        .references_only = fake_references_only,
        .revision = fake_revision,
        .layer_secret = fake_layer_secret,
        .revision_wanted = fake_revision_wanted,
    };
    size_t n = 0;
    while (opts != NULL && opts[n] != NULL)
        n++;
    fh->opts = calloc(n + 1, sizeof *fh->opts);
    if (fh->opts == NULL)
        goto fail;
    for (; fh->opts_n < n; fh->opts_n++) {
        const char *o = opts[fh->opts_n];
        const char *eq = strchr(o, '=');
        struct fake_opt *fo = &fh->opts[fh->opts_n];
        fo->name = fake_strdup(o);
        if (fo->name == NULL)
            goto fail;
        if (eq == NULL) {
            fo->value = fake_strdup("");
        } else {
            fo->name[eq - o] = '\0';
            fo->value = fake_strdup(eq + 1);
        }
        if (fo->value == NULL) {
            fh->opts_n++;
            goto fail;
        }
    }
    n = 0;
    while (environ != NULL && environ[n] != NULL)
        n++;
    fh->environ = calloc(n + 1, sizeof *fh->environ);
    if (fh->environ == NULL)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        fh->environ[i] = fake_strdup(environ[i]);
        if (fh->environ[i] == NULL)
            goto fail;
    }
    if (dir != NULL) {
        fh->dir = fake_strdup(dir);
        if (fh->dir == NULL)
            goto fail;
    }
    fh->log = calloc(1, 1);
    if (fh->log == NULL)
        goto fail;
    return fh;
fail:
    fake_host_free(fh);
    return NULL;
}

const struct ei_host *fake_host_host(struct fake_host *fh)
{
    return &fh->host;
}

void fake_host_set_arg(struct fake_host *fh, const char *arg)
{
    free(fh->arg);
    fh->arg = arg != NULL ? fake_strdup(arg) : NULL;
}

void fake_host_set_max_value_len(struct fake_host *fh, size_t len)
{
    fh->host.max_value_len = len;
}

void fake_host_set_size(struct fake_host *fh, size_t size)
{
    fh->host.size = (uint32_t)size;
}

const char *fake_host_unused(struct fake_host *fh)
{
    for (size_t i = 0; i < fh->opts_n; i++) {
        if (!fh->opts[i].used)
            return fh->opts[i].name;
    }
    return NULL;
}

const char *fake_host_default_cacert(struct fake_host *fh)
{
    return fh->default_cacert;
}

const char *fake_host_log(struct fake_host *fh)
{
    return fh->log;
}

const char *fake_host_warnings(struct fake_host *fh)
{
    return fh->warn != NULL ? fh->warn : "";
}

size_t fake_host_reads(struct fake_host *fh)
{
    return fh->reads;
}

void fake_host_free(struct fake_host *fh)
{
    if (fh == NULL)
        return;
    for (size_t i = 0; fh->opts != NULL && i < fh->opts_n; i++) {
        free(fh->opts[i].name);
        free(fh->opts[i].value);
    }
    free(fh->opts);
    for (size_t i = 0; fh->environ != NULL && fh->environ[i] != NULL; i++) {
        /* environments in tests carry fake secrets */
        sodium_memzero(fh->environ[i], strlen(fh->environ[i]));
        free(fh->environ[i]);
    }
    free(fh->environ);
    for (size_t i = 0; i < fh->allocs_n; i++)
        free(fh->allocs[i]);
    free(fh->allocs);
    free(fh->dir);
    free(fh->arg);
    free(fh->log);
    free(fh->warn);
    while (fh->clients_n > 0)
        fake_http_close((struct ei_http *)(void *)fh->clients[0]);
    free(fh->clients);
    for (size_t i = 0; i < fh->replies_n; i++) {
        sodium_memzero(fh->replies[i].body, fh->replies[i].body_len);
        free(fh->replies[i].body);
        free(fh->replies[i].headers);
    }
    free(fh->replies);
    free(fh->environment);
    for (size_t i = 0; i < fh->http_reqs_n; i++)
        fake_http_request_clear(&fh->http_reqs[i]);
    free(fh->http_reqs);
    free(fh);
}

void fake_sink_init(struct fake_sink *fs)
{
    memset(fs, 0, sizeof *fs);
    fs->sink.ctx = fs;
    fs->sink.emit = fake_sink_emit;
}

static int fake_sink_refuse(struct fake_sink *fs, struct ei_error *err,
                            const char *why)
{
    fs->abi_violation = true;
    ei_error_set(err, EI_INTERNAL, 0, FAKE_LAYER, NULL, "fake sink: %s", why);
    return -1;
}

int fake_sink_emit(struct ei_sink *sink, const char *const *name, size_t name_n,
                   const char *value, size_t value_len, const char *locator,
                   unsigned flags, struct ei_error *err)
{
    struct fake_sink *fs = sink->ctx;
    fs->emits++;
    if (fs->fail_at != 0 && fs->emits == fs->fail_at) {
        ei_error_set(err, EI_INTERNAL, 0, FAKE_LAYER, NULL,
                     "fake sink: failing emit %zu as told", fs->emits);
        return -1;
    }
    if (name == NULL || name_n == 0)
        return fake_sink_refuse(fs, err, "no name segment");
    if (value == NULL)
        return fake_sink_refuse(fs, err, "NULL value");
    if (memchr(value, '\0', value_len) != NULL)
        return fake_sink_refuse(fs, err, "NUL byte inside a value");
    size_t name_len = 0;
    for (size_t i = 0; i < name_n; i++) {
        if (name[i] == NULL || name[i][0] == '\0')
            return fake_sink_refuse(fs, err, "NULL or empty name segment");
        name_len += strlen(name[i]) + 1;
    }
    if (fs->n == fs->cap) {
        size_t cap = fs->cap != 0 ? fs->cap * 2 : 16;
        struct fake_entry *grown = realloc(fs->entries, cap * sizeof *grown);
        if (grown == NULL)
            goto nomem;
        fs->entries = grown;
        fs->cap = cap;
    }
    struct fake_entry *e = &fs->entries[fs->n];
    memset(e, 0, sizeof *e);
    e->name = malloc(name_len);
    e->value = malloc(value_len + 1);
    e->locator = locator != NULL ? fake_strdup(locator) : NULL;
    if (e->name == NULL || e->value == NULL ||
        (locator != NULL && e->locator == NULL)) {
        free(e->name);
        free(e->value);
        free(e->locator);
        goto nomem;
    }
    size_t off = 0;
    for (size_t i = 0; i < name_n; i++) {
        size_t l = strlen(name[i]);
        memcpy(e->name + off, name[i], l);
        off += l;
        e->name[off++] = i + 1 < name_n ? '/' : '\0';
    }
    e->name_n = name_n;
    memcpy(e->value, value, value_len);
    e->value[value_len] = '\0';
    e->value_len = value_len;
    e->flags = flags;
    fs->n++;
    return 0;
nomem:
    ei_error_set(err, EI_NOMEM, ENOMEM, FAKE_LAYER, NULL, "out of memory");
    return -1;
}

const struct fake_entry *fake_sink_find(const struct fake_sink *fs,
                                        const char *name)
{
    for (size_t i = fs->n; i > 0; i--) {
        if (strcmp(fs->entries[i - 1].name, name) == 0)
            return &fs->entries[i - 1];
    }
    return NULL;
}

void fake_sink_free(struct fake_sink *fs)
{
    for (size_t i = 0; i < fs->n; i++) {
        struct fake_entry *e = &fs->entries[i];
        sodium_memzero(e->value, e->value_len);
        free(e->name);
        free(e->value);
        free(e->locator);
    }
    free(fs->entries);
    fake_sink_init(fs);
}
