/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the AWS response parsers (GetSecretValue,
   BatchGetSecretValue, GetParametersByPath, error answers, container and
   instance-metadata credential documents, shared files, STS's XML
   answers, credential_process output) on arbitrary bytes, through a
   minimal host whose HTTP engine answers with them. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <envinject/provider.h>
#include <sodium.h>

#include "aws/creds.h"
#include "aws/sts.h"
#include "safetext.h"

extern const struct ei_provider ei_provider_aws_secrets;
extern const struct ei_provider ei_provider_aws_ssm;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum fuzz_target {
    FZ_SECRET, /* GetSecretValue answer */
    FZ_BATCH,  /* BatchGetSecretValue answer */
    FZ_SSM,    /* GetParametersByPath answer, every page */
    FZ_ERROR,  /* an error answer (HTTP 400) to GetSecretValue */
    FZ_ECS,    /* container credentials document */
    FZ_IMDS,   /* instance metadata credentials document */
    FZ_CODE,   /* ei_aws_error_code */
    FZ_INI,    /* ei_aws_ini_find */
    FZ_STS,     /* an STS answer: credentials (XML) and error */
    FZ_PROCESS, /* credential_process output, and ISO 8601 times */
    FZ_TARGETS
};

/* The first byte chooses the target: its low four bits, so that the
   seeds' ASCII digits '0' to '9' name targets 0 to 9. */
#define FZ_SELECT 16

/* Small enough that a throttling answer gives up at once. */
#define FUZZ_LEFT_MS 10

struct fuzz {
    enum fuzz_target target;
    const char *const *opts; /* "name=value" */
    const char *body;
    size_t len;
    long status;
    struct ei_host host;
};

static const char *const env[] = {"AWS_ACCESS_KEY_ID=AKIDEXAMPLE",
                                  "AWS_SECRET_ACCESS_KEY=secret",
                                  "AWS_SESSION_TOKEN=token", NULL};
static const char *const opts_secret[] = {
    "region=us-east-1", "endpoint=http://127.0.0.1:1", "binary=base64", NULL};
static const char *const opts_batch[] = {"region=us-east-1",
                                         "endpoint=http://127.0.0.1:1", NULL};
static const char *const ids_one[] = {"prod/app/db", NULL};
static const char *const ids_three[] = {"a", "b", "arn:x", NULL};

static struct fuzz *fuzz_of(const struct ei_host *h)
{
    return h->core;
}

static const char *opt_find(const struct ei_host *h, const char *name)
{
    size_t n = strlen(name);
    for (const char *const *o = fuzz_of(h)->opts; *o != NULL; o++)
        if (strncmp(*o, name, n) == 0 && (*o)[n] == '=')
            return *o + n + 1;
    return NULL;
}

static int opt_string(const struct ei_host *h, const char *name,
                      const char **out, struct ei_error *err)
{
    const char *v = opt_find(h, name);
    if (v == NULL)
        return 0;
    *out = v;
    return 1;
}

static int opt_bool(const struct ei_host *h, const char *name, bool *out,
                    struct ei_error *err)
{
    const char *v = opt_find(h, name);
    if (v == NULL)
        return 0;
    *out = strcmp(v, "true") == 0;
    return 1;
}

static int opt_int(const struct ei_host *h, const char *name, long long *out,
                   struct ei_error *err)
{
    return 0;
}

static int opt_list(const struct ei_host *h, const char *name,
                    const char *const **out, size_t *n, struct ei_error *err)
{
    if (strcmp(name, "secret_id") != 0)
        return 0;
    const char *const *ids =
        fuzz_of(h)->target == FZ_BATCH ? ids_three : ids_one;
    *out = ids;
    size_t k = 0;
    while (ids[k] != NULL)
        k++;
    if (n != NULL)
        *n = k;
    return 1;
}

static const char *arg(const struct ei_host *h)
{
    return fuzz_of(h)->target == FZ_SSM ? "/prod/app" : NULL;
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
    resp->body = malloc(f->len + 1);
    if (resp->body == NULL)
        return EI_NOMEM;
    memcpy(resp->body, f->body, f->len);
    resp->body[f->len] = '\0';
    resp->body_len = f->len;
    resp->status = f->status;
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

static int emit(struct ei_sink *sink, const char *const *name, size_t name_n,
                const char *value, size_t value_len, const char *locator,
                unsigned flags, struct ei_error *err)
{
    if (name_n == 0 || value == NULL || locator == NULL)
        abort();
    for (size_t i = 0; i < name_n; i++)
        if (name[i] == NULL || name[i][0] == '\0')
            abort();
    if ((flags & EI_ENTRY_SECRET) && (flags & EI_ENTRY_PLAIN))
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

static void run_provider(struct fuzz *f, const struct ei_provider *p)
{
    void *state = NULL;
    struct ei_error err = {0};
    if (p->configure(&f->host, &state, &err) != EI_OK)
        abort();
    struct ei_sink sink = {NULL, emit};
    struct ei_deadline dl = {0, INT64_MAX};
    enum ei_status st = p->fetch(state, &sink, &dl, &err);
    check_error(st, &err);
    p->destroy(state);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || sodium_init() < 0)
        return 0;
    if (data[0] % FZ_SELECT >= FZ_TARGETS)
        return 0;
    struct fuzz f = {.target = (enum fuzz_target)(data[0] % FZ_SELECT),
                     .body = (const char *)data + 1,
                     .len = size - 1,
                     .status = 200};
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
    };
    f.opts = f.target == FZ_SECRET ? opts_secret : opts_batch;
    struct ei_error err = {0};
    switch (f.target) {
    case FZ_SECRET:
    case FZ_BATCH:
        run_provider(&f, &ei_provider_aws_secrets);
        break;
    case FZ_ERROR:
        f.status = 400;
        run_provider(&f, &ei_provider_aws_secrets);
        break;
    case FZ_SSM:
        run_provider(&f, &ei_provider_aws_ssm);
        break;
    case FZ_ECS:
    case FZ_IMDS: {
        struct ei_aws_creds c = {0};
        enum ei_status st = ei_aws_parse_creds(
            &f.host, f.body, f.len, f.target == FZ_IMDS, "fuzz", &c, &err);
        check_error(st, &err);
        if ((st == EI_OK) != (c.access_key_id != NULL))
            abort();
        ei_aws_creds_clear(&f.host, &c);
        break;
    }
    case FZ_CODE: {
        char code[EI_AWS_CODE_LEN];
        ei_aws_error_code(f.body, f.len, 400, code, sizeof(code));
        if (code[0] == '\0' || strlen(code) >= sizeof(code))
            abort();
        break;
    }
    case FZ_INI: {
        const char *v = NULL;
        size_t n = 0;
        if (ei_aws_ini_find(f.body, f.len, size % 2 == 0, "default",
                            "aws_access_key_id", &v, &n) &&
            (v < f.body || v + n > f.body + f.len))
            abort();
        ei_aws_ini_find(f.body, f.len, true, "dev", NULL, NULL, NULL);
        break;
    }
    case FZ_STS: {
        /* both operations' answers, and the error reader */
        static const char *const ops[] = {"AssumeRoleWithWebIdentity",
                                          "AssumeRole"};
        struct ei_aws_creds c = {0};
        enum ei_status st = ei_aws_sts_parse_creds(
            &f.host, ops[size % 2], f.body, f.len, "fuzz", &c, &err);
        check_error(st, &err);
        if ((st == EI_OK) != (c.access_key_id != NULL) ||
            (st == EI_OK && (c.session_token == NULL || c.expires == 0)))
            abort();
        ei_aws_creds_clear(&f.host, &c);
        char code[EI_AWS_CODE_LEN], msg[EI_AWS_STS_MESSAGE_LEN];
        ei_aws_sts_error(f.body, f.len, 403, code, sizeof(code), msg,
                         sizeof(msg));
        if (code[0] == '\0' || strlen(code) >= sizeof(code) ||
            strlen(msg) >= sizeof(msg))
            abort();
        break;
    }
    case FZ_PROCESS: {
        struct ei_aws_creds c = {0};
        enum ei_status st =
            ei_aws_parse_process(&f.host, f.body, f.len, "fuzz", &c, &err);
        check_error(st, &err);
        if ((st == EI_OK) != (c.access_key_id != NULL))
            abort();
        ei_aws_creds_clear(&f.host, &c);
        int64_t t;
        if (ei_aws_parse_time(f.body, f.len, &t) == 0 && t < 0)
            abort();
        break;
    }
    default:
        break;
    }
    return 0;
}
