/* SPDX-License-Identifier: MIT */
/* The host table the core hands to each layer's provider: option
   getters, the environment, files, secret memory, messages, deadlines,
   the HTTP engine and the key filter, all answering for one layer. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <sodium.h>

#include "diag.h"
#include "hosttable.h"
#include "http.h"
#include "layer.h"
#include "readfile.h"
#include "safetext.h"
#include "secmem.h"
#include "sink.h"

/* The largest file a provider may read whole; values inside it are held
   to max_value_size by the sink. */
#define FILE_MAX (64 * 1024 * 1024)

static struct ei_layer *layer_of(const struct ei_host *h)
{
    return h->core;
}

static struct ei_opt *find_opt(const struct ei_host *h, const char *name)
{
    struct ei_layer *l = layer_of(h);
    struct ei_opt *o = ei_opt_find(&l->conf->opts, name);
    if (o == NULL && l->conf->arg != NULL && l->prov != NULL &&
        l->prov->arg_option != NULL && strcmp(name, l->prov->arg_option) == 0)
        return NULL; /* the ARG is served by the getters themselves */
    if (o != NULL)
        o->used = true;
    return o;
}

static const char *arg_for(const struct ei_host *h, const char *name)
{
    struct ei_layer *l = layer_of(h);
    if (l->conf->arg != NULL && l->prov != NULL &&
        l->prov->arg_option != NULL && strcmp(name, l->prov->arg_option) == 0)
        return l->conf->arg;
    return NULL;
}

static int wrong_type(const struct ei_host *h, struct ei_error *err,
                      const char *name, const char *what)
{
    struct ei_layer *l = layer_of(h);
    ei_error_set(err, EI_BADCONFIG, 0, l->name, l->conf->where,
                 "option %s must be %s", name, what);
    return -1;
}

static int host_opt_string(const struct ei_host *h, const char *name,
                           const char **out, struct ei_error *err)
{
    const char *a = arg_for(h, name);
    struct ei_opt *o = find_opt(h, name);
    if (o == NULL) {
        if (a == NULL)
            return 0;
        *out = a;
        return 1;
    }
    if (o->type != EI_OPT_STRING)
        return wrong_type(h, err, name, "a string");
    *out = o->str;
    return 1;
}

static const char *host_abs_path(const struct ei_host *h, const char *s,
                                 struct ei_error *err)
{
    struct ei_layer *l = layer_of(h);
    if (s[0] == '/' || l->dir == NULL)
        return s;
    size_t dlen = strlen(l->dir), slen = strlen(s);
    /* the store zeroes: the string ends; joined without snprintf, whose
       code would be libc pages touched at start-up for this alone */
    char *p = ei_store_alloc_chars(l->plain, dlen + 1 + slen + 1);
    if (p == NULL)
        return ei_error_set(err, EI_NOMEM, ENOMEM, l->name, NULL,
                            "out of memory"),
               NULL;
    memcpy(p, l->dir, dlen);
    p[dlen] = '/';
    memcpy(p + dlen + 1, s, slen);
    return p;
}

static int host_opt_path(const struct ei_host *h, const char *name,
                         const char **out, struct ei_error *err)
{
    const char *s;
    int rc = host_opt_string(h, name, &s, err);
    if (rc <= 0)
        return rc;
    const char *p = host_abs_path(h, s, err);
    if (p == NULL)
        return -1;
    *out = p;
    return 1;
}

static int parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1", NULL};
    static const char *const no[] = {"false", "no", "off", "0", NULL};
    for (int i = 0; yes[i] != NULL; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

static int host_opt_bool(const struct ei_host *h, const char *name, bool *out,
                         struct ei_error *err)
{
    const char *a = arg_for(h, name);
    struct ei_opt *o = find_opt(h, name);
    if (o == NULL && a == NULL)
        return 0;
    if (o != NULL && o->type == EI_OPT_BOOL) {
        *out = o->b;
        return 1;
    }
    const char *s = o != NULL ? o->str : a;
    /* --layer options are text: accept the usual spellings */
    if (s == NULL || (o != NULL && o->type != EI_OPT_STRING) ||
        parse_bool(s, out) < 0)
        return wrong_type(h, err, name, "true or false");
    return 1;
}

static int host_opt_int(const struct ei_host *h, const char *name,
                        long long *out, struct ei_error *err)
{
    const char *a = arg_for(h, name);
    struct ei_opt *o = find_opt(h, name);
    if (o == NULL && a == NULL)
        return 0;
    if (o != NULL && o->type == EI_OPT_INT) {
        *out = o->num;
        return 1;
    }
    const char *s = o != NULL ? o->str : a;
    if (s == NULL || (o != NULL && o->type != EI_OPT_STRING))
        return wrong_type(h, err, name, "an integer");
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
        return wrong_type(h, err, name, "an integer");
    *out = v;
    return 1;
}

static int host_opt_list(const struct ei_host *h, const char *name,
                         const char *const **out, size_t *n,
                         struct ei_error *err)
{
    struct ei_layer *l = layer_of(h);
    const char *a = arg_for(h, name);
    struct ei_opt *o = find_opt(h, name);
    if (o == NULL && a == NULL)
        return 0;
    size_t count = o == NULL ? 1 : o->type == EI_OPT_LIST ? o->kids_n : 1;
    if (o != NULL && o->type != EI_OPT_LIST && o->type != EI_OPT_STRING)
        return wrong_type(h, err, name, "a list of strings");
    if (o != NULL && o->type == EI_OPT_LIST)
        for (size_t i = 0; i < o->kids_n; i++)
            if (o->kids[i].type != EI_OPT_STRING)
                return wrong_type(h, err, name, "a list of strings");
    const char **v = ei_store_alloc(l->plain, (count + 1) * sizeof(*v));
    if (v == NULL)
        return ei_error_set(err, EI_NOMEM, ENOMEM, l->name, NULL,
                            "out of memory"),
               -1;
    if (o == NULL)
        v[0] = a;
    else if (o->type == EI_OPT_LIST)
        for (size_t i = 0; i < count; i++)
            v[i] = o->kids[i].str;
    else
        v[0] = o->str;
    *out = v;
    if (n != NULL)
        *n = count;
    return 1;
}

/* The option tree below o as JSON, every node marked read; NULL when
   out of memory. */
static json_t *opt_to_json(struct ei_opt *o)
{
    o->used = true;
    switch (o->type) {
    case EI_OPT_STRING:
        return json_string(o->str != NULL ? o->str : "");
    case EI_OPT_INT:
        return json_integer(o->num);
    case EI_OPT_FLOAT:
        /* the text config.c keeps reads back to the same double */
        return json_real(strtod(o->str, NULL));
    case EI_OPT_BOOL:
        return json_boolean(o->b);
    case EI_OPT_LIST:
    case EI_OPT_GROUP:
        break;
    }
    bool group = o->type == EI_OPT_GROUP;
    json_t *j = group ? json_object() : json_array();
    for (size_t i = 0; j != NULL && i < o->kids_n; i++) {
        json_t *k = opt_to_json(&o->kids[i]);
        int rc = k == NULL ? -1
                 : group   ? json_object_set_new(j, o->kids[i].name, k)
                           : json_array_append_new(j, k);
        if (rc < 0) {
            json_decref(j);
            j = NULL;
        }
    }
    return j;
}

static int host_opt_json(const struct ei_host *h, const char *name,
                         const char **out, struct ei_error *err)
{
    struct ei_layer *l = layer_of(h);
    struct ei_opt *o = find_opt(h, name);
    if (o == NULL)
        return 0;
    json_t *j = opt_to_json(o);
    char *text = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY |
                                               JSON_PRESERVE_ORDER)
                           : NULL;
    json_decref(j);
    char *kept =
        text != NULL ? ei_store_alloc(l->plain, strlen(text) + 1) : NULL;
    if (kept != NULL)
        memcpy(kept, text, strlen(text) + 1);
    if (text != NULL) {
        /* json_dumps allocates with jansson's functions (the wiping
           ones main installs), so it is freed with them */
        json_free_t jfree = NULL;
        json_get_alloc_funcs(NULL, &jfree);
        jfree(text);
    }
    if (kept == NULL)
        return ei_error_set(err, EI_NOMEM, ENOMEM, l->name, NULL,
                            "out of memory"),
               -1;
    *out = kept;
    return 1;
}

static const char *host_arg(const struct ei_host *h)
{
    return layer_of(h)->conf->arg;
}

static const char *host_env_get(const struct ei_host *h, const char *name)
{
    const char *const *env = layer_of(h)->environ;
    size_t n = strlen(name);
    for (; env != NULL && *env != NULL; env++)
        if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
            return *env + n + 1;
    return NULL;
}

static const char *const *host_env_list(const struct ei_host *h)
{
    static const char *const empty[] = {NULL};
    const char *const *env = layer_of(h)->environ;
    return env != NULL ? env : empty;
}

static enum ei_status host_read_file(const struct ei_host *h, const char *path,
                                     unsigned flags, struct ei_buf *out,
                                     struct ei_error *err)
{
    struct ei_layer *l = layer_of(h);
    enum ei_status st = ei_readfile(path, flags, FILE_MAX, out, err);
    if (st != EI_OK)
        ei_error_layer(err, l->name);
    return st;
}

static void host_buf_free(const struct ei_host *h, struct ei_buf *buf)
{
    ei_readfile_free(buf);
}

static void *host_secret_alloc(const struct ei_host *h, size_t len)
{
    return ei_sodium_malloc(len);
}

static void host_secret_free(const struct ei_host *h, void *p, size_t len)
{
    sodium_free(p);
}

/* clang reads the format attribute of the definition, not of the host
 * table's pointer: without it, -Wformat=2 refuses the va_list pass-on */
__attribute__((format(printf, 6, 7))) static enum ei_status
host_error(const struct ei_host *h, struct ei_error *err, enum ei_status status,
           int errnum, const char *locator, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ei_error_vset(err, status, errnum, layer_of(h)->name, locator, fmt, ap);
    va_end(ap);
    return status;
}

__attribute__((format(printf, 3, 4))) static void
host_log(const struct ei_host *h, enum ei_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ei_diag_vmsg(level, layer_of(h)->name, NULL, fmt, ap);
    va_end(ap);
}

static int64_t host_remaining_ms(const struct ei_host *h,
                                 const struct ei_deadline *dl)
{
    int64_t left = dl->end_ms - ei_now_ms();
    return left > 0 ? left : 0;
}

/* The HTTP engine is src/http.c. */

static enum ei_status open_client(const struct ei_host *h,
                                  const char *const *endpoints, size_t n,
                                  const char *default_cacert,
                                  struct ei_http **out, struct ei_error *err);

static enum ei_status host_http_open(const struct ei_host *h,
                                     const char *const *endpoints, size_t n,
                                     struct ei_http **out, struct ei_error *err)
{
    return open_client(h, endpoints, n, NULL, out, err);
}

static enum ei_status host_http_open_ca(const struct ei_host *h,
                                        const char *const *endpoints, size_t n,
                                        const char *default_cacert,
                                        struct ei_http **out,
                                        struct ei_error *err)
{
    return open_client(h, endpoints, n, default_cacert, out, err);
}

static enum ei_status open_client(const struct ei_host *h,
                                  const char *const *endpoints, size_t n,
                                  const char *default_cacert,
                                  struct ei_http **out, struct ei_error *err)
{
    struct ei_layer *l = layer_of(h);
    struct ei_error e = {0};
    struct ei_http_config cfg = {
        .layer = l->name,
        .endpoints = endpoints,
        .endpoints_n = n,
        .secret_layer = l->opts.secret,
    };
    *out = NULL;
    if (ei_layeropts_net(&l->net, h, &e) < 0 ||
        ei_layeropts_http(&l->net, h, l->conf->where, default_cacert, &cfg,
                          &e) < 0)
        goto fail;
    /* room first, so that a client is never made that cannot be kept */
    size_t have = 0;
    while (l->http != NULL && l->http[have] != NULL)
        have++;
    struct ei_http **grown = realloc(l->http, (have + 2) * sizeof(*grown));
    if (grown == NULL) {
        ei_error_set(&e, EI_NOMEM, ENOMEM, l->name, NULL, "out of memory");
        goto fail;
    }
    grown[have] = NULL;
    l->http = grown;
    struct ei_http *c = ei_http_new(&cfg, &e);
    if (c == NULL)
        goto fail;
    l->http[have] = c;
    l->http[have + 1] = NULL;
    *out = c;
    return EI_OK;
fail:
    if (e.locator[0] == '\0')
        snprintf(e.locator, sizeof(e.locator), "%s", l->conf->where);
    if (err != NULL && err->status == EI_OK)
        *err = e;
    return ei_error_status(&e, EI_BADCONFIG);
}

static enum ei_status host_http_request(struct ei_http *c,
                                        const struct ei_http_request *req,
                                        const struct ei_deadline *dl,
                                        struct ei_http_response *resp,
                                        struct ei_error *err)
{
    return ei_http_request(c, req, dl, resp, err);
}

static void host_http_response_free(struct ei_http *c,
                                    struct ei_http_response *resp)
{
    ei_http_response_free(c, resp);
}

/*
 * The layer owns its clients and frees them in ei_layer_fini, right
 * after the provider's destroy: http_close gets no host, so it cannot
 * take a client off the layer's list, and freeing it here would leave
 * the list pointing at freed memory.
 */
static void host_http_close(struct ei_http *c)
{
}

static int host_http_header(struct ei_http *c, const char *name, char *out,
                            size_t out_len)
{
    return ei_http_header(c, name, out, out_len);
}

static const char *host_environment(const struct ei_host *h)
{
    return layer_of(h)->environment;
}

static bool host_references_only(const struct ei_host *h)
{
    return layer_of(h)->conf->references_only;
}

static void host_revision(const struct ei_host *h, const char *text)
{
    struct ei_layer *l = layer_of(h);
    size_t n = text != NULL ? strnlen(text, EI_REVISION_MAX + 1) : 0;
    if (n > EI_REVISION_MAX)
        n = EI_REVISION_MAX;
    for (size_t i = 0; i < n; i++)
        if (text[i] < 0x20 || text[i] > 0x7e) {
            ei_diag_msg(EI_LOG_DEBUG, l->name, NULL,
                        "a revision that is not printable ASCII, ignored");
            return;
        }
    memcpy(l->revision, text, n);
    l->revision[n] = '\0';
}

static bool host_layer_secret(const struct ei_host *h)
{
    return layer_of(h)->opts.secret;
}

static bool host_revision_wanted(const struct ei_host *h)
{
    return !layer_of(h)->revision_unused;
}

static bool host_key_selected(const struct ei_host *h, const char *key)
{
    return ei_sink_filter(layer_of(h), key) != NULL;
}

void ei_hosttable_init(struct ei_host *h, struct ei_layer *l,
                       size_t max_value_len)
{
    /* one member a line, in the order of struct ei_host */
    *h = (struct ei_host){
        .abi = EI_HOST_ABI,
        .size = sizeof(*h),
        .core = l,
        .opt_string = host_opt_string,
        .opt_path = host_opt_path,
        .opt_bool = host_opt_bool,
        .opt_int = host_opt_int,
        .opt_list = host_opt_list,
        .arg = host_arg,
        .env_get = host_env_get,
        .env_list = host_env_list,
        .read_file = host_read_file,
        .buf_free = host_buf_free,
        .secret_alloc = host_secret_alloc,
        .secret_free = host_secret_free,
        .error = host_error,
        .log = host_log,
        .remaining_ms = host_remaining_ms,
        .max_value_len = max_value_len,
        .http_open = host_http_open,
        .http_request = host_http_request,
        .http_response_free = host_http_response_free,
        .http_close = host_http_close,
        .http_open_ca = host_http_open_ca,
        .key_selected = host_key_selected,
        .safe_text = ei_host_safe_text,
        .http_header = host_http_header,
        .environment = host_environment,
        .opt_json = host_opt_json,
        .abs_path = host_abs_path,
        .references_only = host_references_only,
        .revision = host_revision,
        .layer_secret = host_layer_secret,
        .revision_wanted = host_revision_wanted,
    };
}
