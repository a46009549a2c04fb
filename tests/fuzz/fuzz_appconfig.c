/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the aws-appconfig response parsers on arbitrary bytes
   (the StartConfigurationSession answer, the configuration by Content-Type
   with feature-flag detection and mapping, the Agent's answer, error
   answers, the next-token header over two fetches), through a minimal host
   whose HTTP engine answers with them.  The first byte picks the parser,
   the second the Content-Type and profile_type. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <envinject/provider.h>
#include <sodium.h>

#include "safetext.h"

extern const struct ei_provider ei_provider_aws_appconfig;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum fuzz_target {
    FZ_SESSION, /* StartConfigurationSession answer */
    FZ_LATEST,  /* GetLatestConfiguration body */
    FZ_AGENT,   /* the Agent's body */
    FZ_ERROR,   /* an error answer to StartConfigurationSession */
    FZ_TOKEN,   /* Next-Poll-Configuration-Token, then a second fetch */
    FZ_TARGETS
};

#define FUZZ_LEFT_MS 10
#define SESSION_OK   "{\"InitialConfigurationToken\":\"AYAD/+==\"}"

static const char *const types[] = {
    "application/json",
    "application/json; charset=utf-8",
    "text/plain",
    "application/x-yaml",
    "application/x-amz-ion; type=AWS.AppConfig.FeatureFlags",
    "vnd.test+json",
    "text/html",
    NULL /* no Content-Type */};
#define TYPES_N (sizeof(types) / sizeof(types[0]))
static const char *const profile_types[] = {"auto", "flags", "config"};
static const long error_status[] = {400, 401, 403, 404, 429, 500, 302};

struct fuzz {
    enum fuzz_target target;
    const char *ctype;
    const char *profile_type;
    long error_status;
    const char *body;
    size_t len;
    unsigned requests; /* answered so far */
    bool session_next; /* the last answer was to a session request */
    struct ei_host host;
};

static const char *const env[] = {"AWS_ACCESS_KEY_ID=AKIDEXAMPLE",
                                  "AWS_SECRET_ACCESS_KEY=secret", NULL};

static struct fuzz *fuzz_of(const struct ei_host *h)
{
    return h->core;
}

static int opt_string(const struct ei_host *h, const char *name,
                      const char **out, struct ei_error *err)
{
    struct fuzz *f = fuzz_of(h);
    const char *v = NULL;
    if (strcmp(name, "application") == 0)
        v = "myapp";
    else if (strcmp(name, "profile") == 0)
        v = "settings";
    else if (strcmp(name, "profile_type") == 0)
        v = f->profile_type;
    else if (strcmp(name, "agent") == 0 && f->target == FZ_AGENT)
        v = "http://127.0.0.1:2772";
    else if (strcmp(name, "region") == 0 && f->target != FZ_AGENT)
        v = "us-east-1";
    else if (strcmp(name, "endpoint") == 0 && f->target != FZ_AGENT)
        v = "http://127.0.0.1:1";
    if (v == NULL)
        return 0;
    *out = v;
    return 1;
}

static int opt_bool(const struct ei_host *h, const char *name, bool *out,
                    struct ei_error *err)
{
    return 0;
}

static int opt_int(const struct ei_host *h, const char *name, long long *out,
                   struct ei_error *err)
{
    return 0;
}

static int opt_list(const struct ei_host *h, const char *name,
                    const char *const **out, size_t *n, struct ei_error *err)
{
    return 0;
}

static const char *arg(const struct ei_host *h)
{
    return NULL;
}

static const char *env_get(const struct ei_host *h, const char *name)
{
    size_t n = strlen(name);
    for (const char *const *e = env; *e != NULL; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

static const char *const *env_list(const struct ei_host *h)
{
    return env;
}

static enum ei_status read_file(const struct ei_host *h, const char *path,
                                unsigned flags, struct ei_buf *out,
                                struct ei_error *err)
{
    return EI_NOTFOUND;
}

static void buf_free(const struct ei_host *h, struct ei_buf *buf)
{
}

static void *secret_alloc(const struct ei_host *h, size_t len)
{
    return malloc(len);
}

static void secret_free(const struct ei_host *h, void *p, size_t len)
{
    free(p);
}

__attribute__((format(printf, 6, 7))) static enum ei_status
error(const struct ei_host *h, struct ei_error *err, enum ei_status status,
      int errnum, const char *locator, const char *fmt, ...)
{
    if (err == NULL || err->status != EI_OK)
        return status;
    err->status = status;
    err->errnum = errnum;
    snprintf(err->locator, sizeof(err->locator), "%s",
             locator != NULL ? locator : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->text, sizeof(err->text), fmt, ap);
    va_end(ap);
    return status;
}

static void log_msg(const struct ei_host *h, enum ei_log_level level,
                    const char *fmt, ...)
{
}

static int64_t remaining_ms(const struct ei_host *h,
                            const struct ei_deadline *dl)
{
    return FUZZ_LEFT_MS;
}

static const char *environment(const struct ei_host *h)
{
    return "prod";
}

static enum ei_status http_open(const struct ei_host *h,
                                const char *const *endpoints, size_t n,
                                struct ei_http **out, struct ei_error *err)
{
    *out = (struct ei_http *)(void *)fuzz_of(h);
    return EI_OK;
}

static enum ei_status http_request(struct ei_http *c,
                                   const struct ei_http_request *req,
                                   const struct ei_deadline *dl,
                                   struct ei_http_response *resp,
                                   struct ei_error *err)
{
    struct fuzz *f = (struct fuzz *)(void *)c;
    memset(resp, 0, sizeof(*resp));
    resp->retry_after_ms = -1;
    bool session = strcmp(req->method, "POST") == 0;
    f->session_next = session;
    f->requests++;
    const char *body = f->body;
    size_t len = f->len;
    resp->status = 200;
    if (session && f->target != FZ_SESSION && f->target != FZ_ERROR) {
        body = SESSION_OK;
        len = strlen(SESSION_OK);
    }
    if (session)
        resp->status = f->target == FZ_ERROR ? f->error_status : 201;
    resp->body = malloc(len + 1);
    if (resp->body == NULL)
        return EI_NOMEM;
    memcpy(resp->body, body, len);
    resp->body[len] = '\0';
    resp->body_len = len;
    return EI_OK;
}

static void http_response_free(struct ei_http *c, struct ei_http_response *r)
{
    free(r->body);
    memset(r, 0, sizeof(*r));
}

static void http_close(struct ei_http *c)
{
}

/* The headers of the last answer: the fuzzed bytes are the next token in
   FZ_TOKEN, and X-Amzn-ErrorType in FZ_ERROR. */
static int http_header(struct ei_http *c, const char *name, char *out,
                       size_t out_len)
{
    struct fuzz *f = (struct fuzz *)(void *)c;
    const char *v = NULL;
    size_t n = 0;
    if (strcasecmp(name, "Content-Type") == 0 && !f->session_next)
        v = f->ctype;
    else if (strcasecmp(name, "Next-Poll-Configuration-Token") == 0)
        v = f->target == FZ_TOKEN ? NULL : "tok-2";
    else if (strcasecmp(name, "Next-Poll-Interval-In-Seconds") == 0)
        v = "60";
    else if (strcasecmp(name, "X-Amzn-ErrorType") == 0 &&
             f->target == FZ_ERROR && f->len % 2 == 0)
        v = "ResourceNotFoundException:http://x/";
    if (f->target == FZ_TOKEN &&
        strcasecmp(name, "Next-Poll-Configuration-Token") == 0) {
        n = strnlen(f->body, f->len);
        if (n + 1 > out_len) {
            out[0] = '\0';
            return -2;
        }
        memcpy(out, f->body, n);
        out[n] = '\0';
        return (int)n;
    }
    if (v == NULL)
        return -1;
    n = strlen(v);
    if (n + 1 > out_len) {
        out[0] = '\0';
        return -2;
    }
    memcpy(out, v, n + 1);
    return (int)n;
}

static int emit(struct ei_sink *sink, const char *const *name, size_t name_n,
                const char *value, size_t value_len, const char *locator,
                unsigned flags, struct ei_error *err)
{
    if (name_n == 0 || value == NULL || locator == NULL ||
        memchr(value, '\0', value_len) != NULL)
        abort();
    for (size_t i = 0; i < name_n; i++)
        if (name[i] == NULL || name[i][0] == '\0')
            abort();
    return 0;
}

static void check_error(enum ei_status st, const struct ei_error *err)
{
    if (st == EI_OK)
        return;
    if (err->status != st || err->text[0] == '\0' ||
        strchr(err->text, '\n') != NULL || strchr(err->locator, '\n') != NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || sodium_init() < 0)
        return 0;
    struct fuzz f = {
        .target = (enum fuzz_target)(data[0] % FZ_TARGETS),
        .ctype = types[data[1] % TYPES_N],
        .profile_type = profile_types[(data[1] / TYPES_N) % 3],
        .error_status = error_status[data[1] % 7],
        .body = (const char *)data + 2,
        .len = size - 2,
    };
    f.host = (struct ei_host){
        .abi = EI_HOST_ABI,
        .size = sizeof(struct ei_host),
        .core = &f,
        .opt_string = opt_string,
        .opt_path = opt_string,
        .opt_bool = opt_bool,
        .opt_int = opt_int,
        .opt_list = opt_list,
        .arg = arg,
        .env_get = env_get,
        .env_list = env_list,
        .read_file = read_file,
        .buf_free = buf_free,
        .secret_alloc = secret_alloc,
        .secret_free = secret_free,
        .error = error,
        .log = log_msg,
        .remaining_ms = remaining_ms,
        .max_value_len = 1024 * 1024,
        .http_open = http_open,
        .http_request = http_request,
        .http_response_free = http_response_free,
        .http_close = http_close,
        .safe_text = ei_host_safe_text,
        .http_header = http_header,
        .environment = environment,
    };
    const struct ei_provider *p = &ei_provider_aws_appconfig;
    void *state = NULL;
    struct ei_error err = {0};
    if (p->configure(&f.host, &state, &err) != EI_OK)
        abort();
    struct ei_sink sink = {NULL, emit};
    struct ei_deadline dl = {0, INT64_MAX};
    enum ei_status st = p->fetch(state, &sink, &dl, &err);
    check_error(st, &err);
    if (st == EI_OK && f.target != FZ_AGENT) {
        /* a second read polls with the kept token (or a new session) and
           gives the kept values again on an empty answer */
        memset(&err, 0, sizeof(err));
        f.body = "";
        f.len = 0;
        st = p->fetch(state, &sink, &dl, &err);
        check_error(st, &err);
    }
    p->destroy(state);
    return 0;
}
