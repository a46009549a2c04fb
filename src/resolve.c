/* SPDX-License-Identifier: MIT */
/* Resolution: fetch every layer, merge in layer order, interpolate, apply
   the schema's defaults and validate. */
#include <errno.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <pthread.h>
#include <stdlib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cache.h"
#include "diag.h"
#include "envset.h"
#include "http.h"
#include "interp.h"
#include "readfile.h"
#include "ref.h"
#include "registry.h"
#include "resolve.h"
#include "safetext.h"
#include "secmem.h"

static void ref_conf_clear(struct ei_layer_conf *c);

const char *ei_resolution_layer_name(const struct ei_resolution *r, int layer)
{
    if (layer == EI_LAYER_CONFIG)
        return "config";
    if (layer < 0 || (size_t)layer >= r->layers_n)
        return "schema";
    return r->layers[layer].name;
}

const char *ei_resolution_provider_name(const struct ei_resolution *r,
                                        int layer)
{
    if (layer < 0 || (size_t)layer >= r->layers_n)
        return "schema";
    return r->layers[layer].prov->name;
}

static const char *layer_name_cb(void *ctx, int layer)
{
    return ei_resolution_layer_name(ctx, layer);
}

void ei_resolution_free(struct ei_resolution *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->layers_n; i++)
        ei_layer_fini(&r->layers[i]);
    free(r->layers);
    for (size_t i = 0; i < r->ref_layers_n; i++) {
        ei_layer_fini(&r->ref_layers[i]);
        ref_conf_clear(&r->ref_confs[i]);
    }
    free(r->ref_layers);
    free(r->ref_confs);
    ei_cache_free(r->cache);
    free(r->cache_config);
    ei_envset_free(r->final);
    ei_problems_clear(&r->problems);
    ei_store_free(r->secrets);
    ei_store_free(r->plain);
    free(r);
}

static void *fetch_thread(void *arg)
{
    ei_layer_fetch(arg);
    return NULL;
}

/*
 * Remote layers each get a thread, so their network time overlaps; a
 * thread costs tens of microseconds, nothing next to a round trip, and
 * keeps every provider ordinary blocking code.  Local layers are read in
 * this thread meanwhile.  The merge waits for all of them and then goes
 * strictly in layer order, so timing never changes the result.
 */
/*
 * check reports every layer that failed, not only the first, each as a
 * problem of rule "layer" at the place the configuration defines it.
 */
static int layer_problem(struct ei_resolution *r, struct ei_layer *l)
{
    char text[EI_ERR_TEXT_LEN * 2];
    char message[sizeof(text) + EI_ERR_LAYER_LEN + 16];
    ei_error_describe(&l->error, text, sizeof(text));
    snprintf(message, sizeof(message), "layer %s: %s", l->name, text);
    return ei_problems_add(
        &r->problems, NULL, EI_RULE_LAYER, message, l->index,
        l->error.locator[0] != '\0' ? l->error.locator : NULL, l->conf->where);
}

/*
 * What a remote layer needs before its thread starts: libcurl's global
 * set-up (not thread-safe), and libsodium's, which envinject-provider(3)
 * promises; local layers leave libsodium to the first secret allocation.
 */
static int remote_ready(const struct ei_layer *l, struct ei_error *err)
{
    if (!(l->prov->flags & EI_PROV_REMOTE))
        return 0;
    if (ei_http_global_init(err) < 0)
        return -1;
    if (sodium_init() < 0)
        return ei_error_set(err, EI_INTERNAL, 0, l->name, NULL,
                            "sodium_init failed"),
               -1;
    return 0;
}

static int fetch_all(struct ei_resolution *r, unsigned flags,
                     struct ei_error *err)
{
    /* before any layer thread exists, even for providers that open
       clients late */
    for (size_t i = 0; i < r->layers_n; i++)
        if (remote_ready(&r->layers[i], err) < 0)
            return -1;
    pthread_t *tid = calloc(r->layers_n, sizeof(*tid));
    bool *started = calloc(r->layers_n, sizeof(*started));
    if (tid == NULL || r->layers_n == 0 || started == NULL) {
        free(tid);
        free(started);
        if (r->layers_n == 0)
            return 0;
        return ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory"),
               -1;
    }
    for (size_t i = 0; i < r->layers_n; i++) {
        struct ei_layer *l = &r->layers[i];
        /* the cache keeps the revision beside the values */
        l->revision_unused = (flags & EI_RESOLVE_NO_REVISION) &&
                             l->opts.on_error != EI_ON_ERROR_CACHE;
        if (!(l->prov->flags & EI_PROV_REMOTE))
            continue;
        int e = pthread_create(&tid[i], NULL, fetch_thread, l);
        if (e != 0) {
            ei_error_set(err, EI_OSERR, e, l->name, NULL,
                         "cannot start a thread");
            for (size_t j = 0; j < i; j++)
                if (started[j])
                    pthread_join(tid[j], NULL);
            free(tid);
            free(started);
            return -1;
        }
        started[i] = true;
    }
    for (size_t i = 0; i < r->layers_n; i++)
        if (!started[i])
            ei_layer_fetch(&r->layers[i]);
    bool threads = false;
    for (size_t i = 0; i < r->layers_n; i++)
        if (started[i]) {
            pthread_join(tid[i], NULL);
            threads = true;
        }
    free(tid);
    free(started);
#ifdef __GLIBC__
    /* the layer threads' arenas keep the pages of every response and
       parse tree they freed; give them back before the merge needs more */
    if (threads)
        malloc_trim(0);
#else
    (void)threads;
#endif

    /* the cache is written and read here, one layer after the other */
    for (size_t i = 0; i < r->layers_n; i++)
        if (ei_layer_cache(&r->layers[i], r->cache, r->cache_config,
                           !(flags & EI_RESOLVE_NO_CACHE)) < 0)
            return ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL,
                                "out of memory"),
                   -1;

    bool failed = false;
    for (size_t i = 0; i < r->layers_n; i++) {
        struct ei_layer *l = &r->layers[i];
        if (l->skipped) {
            ei_diag_msg(EI_LOG_WARN, l->name, l->error.locator,
                        "skipped optional layer: %s", l->error.text);
            continue;
        }
        if (l->status != EI_OK) {
            if (err != NULL && err->status == EI_OK)
                *err = l->error;
            if (!(flags & EI_RESOLVE_KEEP_GOING))
                return -1;
            failed = true;
            if (layer_problem(r, l) < 0) {
                ei_error_clear(err);
                return ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL,
                                    "out of memory"),
                       -1;
            }
            continue;
        }
        size_t n = ei_envset_count(l->staged);
        ei_diag_msg(EI_LOG_INFO, l->name, NULL, "%zu key%s %s %lld ms", n,
                    n == 1 ? "" : "s",
                    l->cached ? "from the cache after" : "in",
                    (long long)l->elapsed_ms);
        if (n == 0)
            ei_diag_msg(EI_LOG_INFO, l->name, NULL, "layer is empty");
    }
    return failed ? -1 : 0;
}

static int merge(struct ei_resolution *r, struct ei_error *err)
{
    /* the final index sized once for every staged entry (keys that
       several layers set make it larger than needed): growing on the way
       moved every slot at each doubling */
    size_t total = 0;
    for (size_t i = 0; i < r->layers_n; i++)
        if (!r->layers[i].skipped)
            total += ei_envset_count(r->layers[i].staged);
    if (ei_envset_reserve(r->final, total) != 0)
        return ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory"),
               -1;
    for (size_t i = 0; i < r->layers_n; i++) {
        struct ei_layer *l = &r->layers[i];
        if (l->skipped)
            continue;
        /*
         * The final set takes the staged entries themselves (they live in
         * the layer's stores, which outlive the resolution's use of them)
         * and the staging index goes: with 100,000 keys from a config
         * service, copies would cost megabytes.
         */
        if (ei_envset_adopt_all(r->final, l->staged) != 0)
            return ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL,
                                "out of memory"),
                   -1;
        ei_envset_free(l->staged);
        l->staged = NULL;
    }
    return 0;
}

/* What a provider's lookup hands back: one value and its locator. */
struct ref_capture {
    struct ei_resolution *r;
    const char *value;
    size_t value_len;
    const char *locator;
    int count;
};

static int ref_emit(struct ei_sink *sink, const char *const *name,
                    size_t name_n, const char *value, size_t value_len,
                    const char *locator, unsigned flags, struct ei_error *err)
{
    (void)name;
    (void)name_n;
    (void)flags;
    struct ref_capture *c = sink->ctx;
    if (++c->count > 1)
        return ei_error_set(err, EI_INTERNAL, 0, NULL, locator,
                            "a lookup gave more than one value"),
               -1;
    if (memchr(value, '\0', value_len) != NULL)
        return ei_error_set(err, EI_BADDATA, 0, NULL, locator,
                            "value contains a NUL byte"),
               -1;
    if (value_len > c->r->cfg->max_value_len)
        return ei_error_set(err, EI_BADDATA, 0, NULL, locator,
                            "value of %zu bytes is larger than "
                            "max_value_size (%zu)",
                            value_len, c->r->cfg->max_value_len),
               -1;
    c->value = ei_store_strndup(c->r->secrets, value, value_len);
    c->locator = locator != NULL ? ei_store_strdup(c->r->plain, locator) : NULL;
    if (c->value == NULL || (locator != NULL && c->locator == NULL))
        return ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory"),
               -1;
    c->value_len = value_len;
    return 0;
}

/*
 * vals's scheme names for the providers that have them; any other scheme
 * is a provider's own name (ref+aws-secrets://, a loadable provider's).
 * conn lists the query parameters that choose the connection rather
 * than the item: they become options of a layer of their own.
 */
struct ref_scheme {
    const char *scheme;
    const char *provider;
    const char *const conn[3]; /* "param=option" */
};

static const struct ref_scheme ref_schemes[] = {
    {"awssecrets", "aws-secrets", {"region=region", NULL}},
    {"awsssm", "aws-ssm", {"region=region", NULL}},
    {"azurekeyvault", "azure-keyvault", {NULL}},
    {"consul", "consul", {NULL}},
    {"etcd", "etcd", {NULL}},
    {"file", "file", {NULL}},
    {"vault", "vault", {"address=address", "namespace=namespace", NULL}},
};

static const struct ref_scheme *ref_scheme_find(const struct ei_ref *ref)
{
    for (size_t i = 0; i < sizeof(ref_schemes) / sizeof(ref_schemes[0]); i++)
        if (strlen(ref_schemes[i].scheme) == ref->scheme_len &&
            memcmp(ref_schemes[i].scheme, ref->scheme, ref->scheme_len) == 0)
            return &ref_schemes[i];
    return NULL;
}

/* Whether a query parameter (k bytes at q) chooses the connection. */
static const char *ref_conn_option(const struct ref_scheme *rs, const char *q,
                                   size_t k)
{
    for (size_t i = 0; rs != NULL && rs->conn[i] != NULL; i++) {
        const char *eq = strchr(rs->conn[i], '=');
        if ((size_t)(eq - rs->conn[i]) == k && memcmp(rs->conn[i], q, k) == 0)
            return eq + 1;
    }
    return NULL;
}

struct ref_build {
    const struct ref_scheme *rs;
    struct ei_layer_conf *conf; /* NULL: build the lookup text */
    char *text;
    size_t len, cap;
    bool any;
    struct ei_error *err;
};

static int ref_build_pair(void *ctx, const char *name, size_t name_len,
                          const char *pair, size_t pair_len)
{
    struct ref_build *b = ctx;
    const char *opt = ref_conn_option(b->rs, name, name_len);
    if (b->conf != NULL) {
        if (opt == NULL)
            return 0;
        struct ei_ref one = {.query = pair, .query_len = pair_len};
        char name_z[EI_REF_SCHEME_MAX + 1], value[EI_ERR_LOCATOR_LEN];
        snprintf(name_z, sizeof(name_z), "%.*s", (int)name_len, name);
        if (ei_ref_param(&one, name_z, value, sizeof(value)) != 1)
            return ei_error_set(b->err, EI_BADCONFIG, 0, NULL, NULL,
                                "query parameter %s is badly encoded or too "
                                "long",
                                name_z),
                   -1;
        struct ei_opt *g = &b->conf->opts;
        struct ei_opt *k = realloc(g->kids, (g->kids_n + 1) * sizeof(*k));
        if (k == NULL)
            return -1;
        g->kids = k;
        memset(&k[g->kids_n], 0, sizeof(*k));
        k[g->kids_n].type = EI_OPT_STRING;
        k[g->kids_n].name = strdup(opt);
        k[g->kids_n].str = strdup(value);
        g->kids_n++;
        if (k[g->kids_n - 1].name == NULL || k[g->kids_n - 1].str == NULL)
            return -1;
        return 0;
    }
    if (opt != NULL)
        return 0;
    if (b->len + pair_len + 2 > b->cap)
        return -1;
    b->text[b->len++] = b->any ? '&' : '?';
    memcpy(b->text + b->len, pair, pair_len);
    b->len += pair_len;
    b->text[b->len] = '\0';
    b->any = true;
    return 0;
}

static void ref_conf_clear(struct ei_layer_conf *c)
{
    free(c->name);
    free(c->provider);
    free(c->where);
    ei_opt_clear(&c->opts);
    memset(c, 0, sizeof(*c));
}

/* Whether two layer option groups of references hold the same strings. */
static bool ref_same_opts(const struct ei_opt *a, const struct ei_opt *b)
{
    if (a->kids_n != b->kids_n)
        return false;
    for (size_t i = 0; i < a->kids_n; i++)
        if (strcmp(a->kids[i].name, b->kids[i].name) != 0 ||
            strcmp(a->kids[i].str, b->kids[i].str) != 0)
            return false;
    return true;
}

/*
 * The layer that answers ref: the first configured layer of its provider
 * when the reference chooses no connection, else a layer made for it,
 * with the provider's defaults (credentials from the environment, as
 * vals reads them) and the connection its query gives.
 */
static struct ei_layer *ref_layer(struct ei_resolution *r,
                                  const struct ei_ref *ref,
                                  const struct ref_scheme *rs,
                                  const char *provider, const char *key,
                                  bool from_remote, struct ei_error *err)
{
    struct ei_layer_conf conf = {.opts = {.type = EI_OPT_GROUP}};
    struct ref_build b = {.rs = rs, .conf = &conf, .err = err};
    if (ei_ref_each_param(ref, ref_build_pair, &b) != 0) {
        ref_conf_clear(&conf);
        return ei_error_status(err, EI_OK) == EI_OK
                   ? (ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL,
                                   "out of memory"),
                      NULL)
                   : NULL;
    }
    /* a value served by a remote source must not choose the server that
       gets the credentials of the environment (vault's address=https://
       elsewhere would receive VAULT_TOKEN): connection parameters count
       only in values from the configuration, local files and the
       environment */
    if (conf.opts.kids_n > 0 && from_remote) {
        ref_conf_clear(&conf);
        ei_error_set(err, EI_BADCONFIG, 0, NULL, NULL,
                     "%s: a reference served by a remote layer may not "
                     "choose its connection with query parameters; "
                     "configure a %s layer instead",
                     key, provider);
        return NULL;
    }
    if (conf.opts.kids_n == 0)
        for (size_t j = 0; j < r->layers_n; j++) {
            struct ei_layer *l = &r->layers[j];
            if (strcmp(l->prov->name, provider) == 0 && !l->skipped)
                return ref_conf_clear(&conf), l;
        }
    for (size_t j = 0; j < r->ref_layers_n; j++)
        if (strcmp(r->ref_confs[j].provider, provider) == 0 &&
            ref_same_opts(&r->ref_confs[j].opts, &conf.opts))
            return ref_conf_clear(&conf), &r->ref_layers[j];
    if (r->ref_layers_n == EI_REF_LAYERS_MAX) {
        ref_conf_clear(&conf);
        ei_error_set(err, EI_BADCONFIG, 0, NULL, NULL,
                     "%s: references need more than %d connections", key,
                     EI_REF_LAYERS_MAX);
        return NULL;
    }
    if (r->ref_layers == NULL) {
        r->ref_layers = calloc(EI_REF_LAYERS_MAX, sizeof(*r->ref_layers));
        r->ref_confs = calloc(EI_REF_LAYERS_MAX, sizeof(*r->ref_confs));
        if (r->ref_layers == NULL || r->ref_confs == NULL) {
            ref_conf_clear(&conf);
            ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory");
            return NULL;
        }
    }
    size_t n = strlen(provider) + 8;
    conf.provider = strdup(provider);
    conf.name = malloc(n);
    conf.where = strdup("a reference");
    conf.dir = r->cfg->dir != NULL ? r->cfg->dir : r->cfg->cwd;
    conf.adhoc = true;
    conf.references_only = true;
    if (conf.provider == NULL || conf.name == NULL || conf.where == NULL) {
        ref_conf_clear(&conf);
        ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory");
        return NULL;
    }
    snprintf(conf.name, n, "ref+%.*s", (int)ref->scheme_len, ref->scheme);
    size_t k = r->ref_layers_n;
    r->ref_confs[k] = conf;
    struct ei_layer *l = &r->ref_layers[k];
    if (ei_layer_init(l, &r->ref_confs[k], r->cfg, (int)(r->layers_n + k),
                      r->environ, err) < 0) {
        ei_layer_fini(l);
        ref_conf_clear(&r->ref_confs[k]);
        return NULL;
    }
    r->ref_layers_n++;
    if (remote_ready(l, err) < 0)
        return NULL;
    return l;
}

/* Where an answer's text goes into a value that will be interpolated:
   every '$' written \$, so that the answer stays as it is. */
static size_t ref_escaped_len(const char *v, size_t n, bool escape)
{
    size_t out = n;
    for (size_t i = 0; escape && i < n; i++)
        out += v[i] == '$';
    return out;
}

struct ref_out {
    char *buf;
    size_t len, cap;
};

static int ref_out_add(struct ref_out *o, const char *p, size_t n, bool escape)
{
    size_t need = ref_escaped_len(p, n, escape);
    if (need > o->cap - o->len)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (escape && p[i] == '$')
            o->buf[o->len++] = '\\';
        o->buf[o->len++] = p[i];
    }
    return 0;
}

/* The reference's text for a message: it names a source, not a value;
   but in a secret that a provider served (one that happens to hold
   "ref+") it may be part of the secret, and is shown as <secret>. */
static const char *ref_shown(const struct ei_resolution *r,
                             const struct ei_entry *e, const struct ei_ref *ref,
                             char *out, size_t out_len)
{
    /* a secret that a secret store or a remote source served; a value
       the user wrote (a file, the environment) names its source */
    const struct ei_layer *l = e->layer >= 0 && (size_t)e->layer < r->layers_n
                                   ? &r->layers[e->layer]
                                   : NULL;
    if ((e->flags & EI_ENTRY_SECRET) &&
        (l == NULL || (l->prov->flags & (EI_PROV_SECRET | EI_PROV_REMOTE))))
        return ei_safe_text(out, out_len, "<secret>", sizeof("<secret>") - 1,
                            0);
    return ei_safe_text(out, out_len, e->value + ref->start,
                        ref->end - ref->start, 0);
}

/* A fragment picked out of *answer (len bytes), in place of it. */
static int ref_fragment(struct ei_resolution *r, const struct ei_entry *e,
                        const struct ei_ref *ref, const char *shown,
                        const char **answer, size_t *answer_len,
                        const char **locator, struct ei_error *err)
{
    const char *where = ei_resolution_layer_name(r, e->layer);
    /* the locator names the field: "vault secret/app v2 #password" */
    const char *f = ref->fragment;
    size_t f_len = ref->fragment_len;
    if (f[0] == '/') {
        f++;
        f_len--;
    }
    char loc[EI_ERR_LOCATOR_LEN], field[EI_ERR_LOCATOR_LEN / 2];
    ei_safe_text(field, sizeof(field), f, f_len, 0);
    snprintf(loc, sizeof(loc), "%s #%s", *locator, field);
    *locator = ei_store_strdup(r->plain, loc);
    if (*locator == NULL)
        return ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory"),
               -1;
    struct ei_error lerr = {0};
    char *picked = NULL;
    size_t picked_len = 0;
    enum ei_status st =
        ei_ref_pick(ref, *answer, *answer_len, &picked, &picked_len, &lerr);
    if (st != EI_OK)
        return ei_error_set(err, st == EI_NOMEM ? st : EI_BADCONFIG, 0, where,
                            e->locator, "%s: %s: %s", e->key, shown, lerr.text),
               -1;
    *answer = ei_store_strndup(r->secrets, picked, picked_len);
    *answer_len = picked_len;
    sodium_memzero(picked, picked_len);
    free(picked);
    if (*answer == NULL)
        return ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory"),
               -1;
    return 0;
}

/*
 * ref+file://PATH: the file's content as it is, read as a file layer
 * reads its file (into secret memory; the same size limit); a relative
 * PATH is relative to the folder of the layer that holds the reference
 * (the configuration file's, or the working directory).
 */
static int ref_file(struct ei_resolution *r, const struct ei_entry *e,
                    const struct ei_ref *ref, const char *shown,
                    const char **answer, size_t *answer_len,
                    const char **locator, struct ei_error *err)
{
    const char *where = ei_resolution_layer_name(r, e->layer);
    if (ref->query != NULL)
        return ei_error_set(err, EI_BADCONFIG, 0, where, e->locator,
                            "%s: ref+file takes no query parameters (%s)",
                            e->key, shown),
               -1;
    const char *dir = e->layer >= 0 && (size_t)e->layer < r->layers_n
                          ? r->layers[e->layer].dir
                          : r->cfg->cwd;
    char path[PATH_MAX];
    int n = ref->path[0] == '/' ? snprintf(path, sizeof(path), "%.*s",
                                           (int)ref->path_len, ref->path)
                                : snprintf(path, sizeof(path), "%s/%.*s", dir,
                                           (int)ref->path_len, ref->path);
    if (n < 0 || (size_t)n >= sizeof(path))
        return ei_error_set(err, EI_BADCONFIG, 0, where, e->locator,
                            "%s: path too long in %s", e->key, shown),
               -1;
    struct ei_buf buf = {0};
    struct ei_error ferr = {0};
    enum ei_status st =
        ei_readfile(path, EI_READ_SECRET, r->cfg->max_value_len, &buf, &ferr);
    if (st != EI_OK)
        return ei_error_set(err, st == EI_BADDATA ? EI_BADCONFIG : st,
                            ferr.errnum, where, e->locator,
                            "%s: cannot resolve %s: %s", e->key, shown,
                            ferr.text),
               -1;
    *answer = memchr(buf.data, '\0', buf.len) == NULL
                  ? ei_store_strndup(r->secrets, buf.data, buf.len)
                  : NULL;
    *answer_len = buf.len;
    bool nul = memchr(buf.data, '\0', buf.len) != NULL;
    ei_readfile_free(&buf);
    if (nul)
        return ei_error_set(err, EI_BADCONFIG, 0, where, e->locator,
                            "%s: %s: the file holds a NUL byte", e->key, shown),
               -1;
    char loc[EI_ERR_LOCATOR_LEN];
    ei_safe_text(loc, sizeof(loc), path, strlen(path), 0);
    *locator = ei_store_strdup(r->plain, loc);
    if (*answer == NULL || *locator == NULL)
        return ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory"),
               -1;
    if (ref->fragment == NULL)
        return 0;
    return ref_fragment(r, e, ref, shown, answer, answer_len, locator, err);
}

/*
 * Answer one reference: find the layer, look the item up, pick the
 * fragment.  *answer is in the secret store.
 */
static int ref_answer(struct ei_resolution *r, struct ei_deadline *deadlines,
                      const struct ei_entry *e, const struct ei_ref *ref,
                      const char **answer, size_t *answer_len,
                      const char **locator, struct ei_error *err)
{
    const char *where = ei_resolution_layer_name(r, e->layer);
    char shown[160];
    ref_shown(r, e, ref, shown, sizeof(shown));
    const struct ref_scheme *rs = ref_scheme_find(ref);
    char provider[EI_REF_SCHEME_MAX + 1];
    snprintf(provider, sizeof(provider), "%.*s", (int)ref->scheme_len,
             ref->scheme);
    if (rs != NULL)
        snprintf(provider, sizeof(provider), "%s", rs->provider);
    if (strcmp(provider, "file") == 0)
        return ref_file(r, e, ref, shown, answer, answer_len, locator, err);
    struct ei_error ferr = {0};
    const struct ei_provider *prov = ei_registry_find(
        provider, (const char *const *)r->cfg->provider_path, &ferr);
    if (prov == NULL && rs == NULL)
        return ei_error_set(err, EI_BADCONFIG, 0, where, e->locator,
                            "%s: unknown reference scheme '%s' in %s "
                            "(known: awssecrets, awsssm, azurekeyvault, "
                            "consul, etcd, file, vault, or a provider's "
                            "name)",
                            e->key, provider, shown),
               -1;
    if (prov == NULL || prov->lookup == NULL)
        return ei_error_set(err, EI_BADCONFIG, 0, where, e->locator,
                            "%s: provider %s %s, so %s cannot be resolved",
                            e->key, provider,
                            prov == NULL ? "is not in this envinject"
                                         : "answers no references yet",
                            shown),
               -1;
    struct ei_error lerr = {0};
    bool from_remote = e->layer >= 0 && (size_t)e->layer < r->layers_n &&
                       (r->layers[e->layer].prov->flags & EI_PROV_REMOTE);
    struct ei_layer *by =
        ref_layer(r, ref, rs, provider, e->key, from_remote, &lerr);
    if (by == NULL) {
        *err = lerr;
        if (err->layer[0] == '\0')
            ei_error_layer(err, where);
        return -1;
    }
    /* the lookup gets "ref+PROVIDER://PATH[?ITEM PARAMS]": the fragment
       is picked here, the connection is the layer's */
    char text[EI_ERR_LOCATOR_LEN * 4];
    int n = snprintf(text, sizeof(text), "ref+%s://%.*s", by->prov->name,
                     (int)ref->path_len, ref->path);
    if (n < 0 || (size_t)n >= sizeof(text))
        return ei_error_set(err, EI_BADCONFIG, 0, where, e->locator,
                            "%s: reference too long", e->key),
               -1;
    struct ref_build b = {.rs = rs,
                          .text = text,
                          .len = (size_t)n,
                          .cap = sizeof(text),
                          .err = err};
    if (ei_ref_each_param(ref, ref_build_pair, &b) != 0)
        return ei_error_set(err, EI_BADCONFIG, 0, where, e->locator,
                            "%s: reference too long", e->key),
               -1;
    struct ref_capture cap = {.r = r};
    struct ei_sink sink = {.ctx = &cap, .emit = ref_emit};
    /* the layer's timeout covers all its lookups together */
    struct ei_deadline *dl = &deadlines[by->index];
    if (dl->end_ms == 0) {
        dl->start_ms = ei_now_ms();
        dl->end_ms = dl->start_ms + by->opts.timeout_ms;
    }
    enum ei_status st = by->prov->lookup(by->state, text, &sink, dl, &lerr);
    if (st == EI_OK && cap.count != 1)
        st = ei_error_set(&lerr, EI_NOTFOUND, 0, by->name, NULL, "no value");
    if (st != EI_OK) {
        /* a reference that names nothing is the configuration's fault; a
           denied or unreachable store keeps its own code */
        enum ei_status out =
            st == EI_NOTFOUND || st == EI_BADDATA ? EI_BADCONFIG : st;
        return ei_error_set(err, out, lerr.errnum, where, e->locator,
                            "%s: cannot resolve %s through layer %s: %s",
                            e->key, shown, by->name,
                            lerr.text[0] != '\0' ? lerr.text
                                                 : ei_status_text(st)),
               -1;
    }
    *answer = cap.value;
    *answer_len = cap.value_len;
    *locator = cap.locator != NULL ? cap.locator : by->name;
    if (ref->fragment == NULL)
        return 0;
    return ref_fragment(r, e, ref, shown, answer, answer_len, locator, err);
}

/*
 * References, with vals's syntax (ref.h): in every layer, the process
 * environment included, a value that is a reference, or that holds
 * references each ended by '+' or a blank, is resolved after every layer
 * has been fetched (so the vault layer may come after the file that
 * refers to it).  The answers are secret, and so is a value that holds
 * one.  A whole-value answer is literal; in a value that is interpolated
 * later, an answer's '$' are written \$ so that it stays as it is.  The
 * entry keeps its key's layer, and the text with the references stays
 * visible to explain as the entry below.  A single-quoted dotenv value
 * (literal) keeps "ref+" as text.
 */
static int resolve_refs_in(struct ei_resolution *r,
                           struct ei_deadline *deadlines, struct ei_error *err);

static int resolve_refs(struct ei_resolution *r, struct ei_error *err)
{
    struct ei_deadline *deadlines =
        calloc(r->layers_n + EI_REF_LAYERS_MAX, sizeof(*deadlines));
    if (deadlines == NULL)
        return ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory"),
               -1;
    int rc = resolve_refs_in(r, deadlines, err);
    free(deadlines);
    return rc;
}

static int resolve_entry_refs(struct ei_resolution *r,
                              struct ei_deadline *deadlines, struct ei_entry *e,
                              struct ei_error *err)
{
    const char *where = ei_resolution_layer_name(r, e->layer);
    const char *why = NULL;
    struct ei_ref ref;
    int found = ei_ref_next(e->value, e->value_len, 0, &ref, &why);
    if (found == 0)
        return 0;
    bool whole = found == 1 && ref.start == 0 && ref.end == e->value_len &&
                 ei_ref_next(e->value, e->value_len, ref.end, &ref, &why) == 0;
    bool escape = !whole && e->layer >= 0 && (size_t)e->layer < r->layers_n &&
                  r->layers[e->layer].opts.interpolate;
    struct ref_out out = {0};
    const char *locator = NULL;
    size_t at = 0;
    int rc = -1;
    for (found = ei_ref_next(e->value, e->value_len, 0, &ref, &why); found != 0;
         found = ei_ref_next(e->value, e->value_len, at, &ref, &why)) {
        if (found < 0) {
            char shown[160];
            ref_shown(r, e, &ref, shown, sizeof(shown));
            ei_error_set(err, EI_BADCONFIG, 0, where, e->locator,
                         "%s: malformed reference %s: %s", e->key, shown, why);
            goto done;
        }
        const char *answer = NULL, *loc = NULL;
        size_t answer_len = 0;
        if (ref_answer(r, deadlines, e, &ref, &answer, &answer_len, &loc, err) <
            0)
            goto done;
        if (locator == NULL)
            locator = loc;
        size_t need =
            (ref.start - at) + ref_escaped_len(answer, answer_len, escape);
        if (need > SIZE_MAX / 2 - out.len) {
            ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory");
            goto done;
        }
        if (out.len + need + e->value_len + 1 > out.cap) {
            size_t cap = (out.len + need + e->value_len + 1) * 2;
            char *nb = malloc(cap);
            if (nb == NULL) {
                ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL,
                             "out of memory");
                goto done;
            }
            if (out.len > 0)
                memcpy(nb, out.buf, out.len);
            if (out.buf != NULL) {
                sodium_memzero(out.buf, out.cap);
                free(out.buf);
            }
            out.buf = nb;
            out.cap = cap;
        }
        ref_out_add(&out, e->value + at, ref.start - at, false);
        ref_out_add(&out, answer, answer_len, escape);
        at = ref.end;
    }
    if (out.cap - out.len < e->value_len - at + 1) {
        ei_error_set(err, EI_INTERNAL, 0, NULL, NULL, "reference buffer");
        goto done;
    }
    ref_out_add(&out, e->value + at, e->value_len - at, false);
    if (out.len > r->cfg->max_value_len) {
        ei_error_set(err, EI_BADCONFIG, 0, where, e->locator,
                     "%s: value of %zu bytes with its references is larger "
                     "than max_value_size (%zu)",
                     e->key, out.len, r->cfg->max_value_len);
        goto done;
    }
    struct ei_entry ne = *e;
    ne.value =
        ei_store_strndup(r->secrets, out.buf != NULL ? out.buf : "", out.len);
    ne.value_len = out.len;
    ne.locator = locator;
    ne.flags |= EI_ENTRY_SECRET | (escape ? 0 : EI_ENTRY_LITERAL);
    ne.raw = NULL;
    ne.below = e;
    if (ne.value == NULL || ei_envset_put(r->final, &ne, NULL) == NULL) {
        ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory");
        goto done;
    }
    rc = 0;
done:
    if (out.buf != NULL) {
        sodium_memzero(out.buf, out.cap);
        free(out.buf);
    }
    return rc;
}

static int resolve_refs_in(struct ei_resolution *r,
                           struct ei_deadline *deadlines, struct ei_error *err)
{
    size_t n = ei_envset_count(r->final);
    for (size_t i = 0; i < n; i++) {
        struct ei_entry *e = ei_envset_at(r->final, i);
        /* memchr first: most values hold no '+', and memmem costs some
           two hundred instructions on any value */
        if (e->flags & (EI_ENTRY_UNSET | EI_ENTRY_LITERAL) || e->layer < 0 ||
            e->value_len < 7 || memchr(e->value, '+', e->value_len) == NULL ||
            memmem(e->value, e->value_len, "ref+", 4) == NULL)
            continue;
        if (resolve_entry_refs(r, deadlines, e, err) < 0)
            return -1;
    }
    return 0;
}

/* Keys the configuration says never reach the program. */
static int apply_unset(struct ei_resolution *r, struct ei_error *err)
{
    for (size_t i = 0; i < r->cfg->unset_n; i++) {
        struct ei_entry *old = ei_envset_get(r->final, r->cfg->unset[i]);
        if (old == NULL || (old->flags & EI_ENTRY_UNSET))
            continue;
        struct ei_entry e = *old;
        e.flags |= EI_ENTRY_UNSET;
        e.layer = EI_LAYER_CONFIG;
        e.locator = "unset";
        e.below = old;
        if (ei_envset_put(r->final, &e, NULL) == NULL)
            return ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL,
                                "out of memory"),
                   -1;
    }
    return 0;
}

/*
 * The implicit environment layer of ad-hoc use gives what is set its
 * place in the order (it wins over the files, or loses with --overload)
 * and the names that ${...} may use; a variable that no other layer has
 * is no part of the configuration, so print, check and run --pristine
 * leave it out (run passes it on as inherited anyway).  What a reference
 * in it resolved to stays.
 */
static int drop_environment_only(struct ei_resolution *r, struct ei_error *err)
{
    bool any = false;
    for (size_t i = 0; i < r->layers_n; i++)
        any |= r->layers[i].conf->implicit;
    if (!any)
        return 0;
    struct ei_envset *kept = ei_envset_new(r->plain);
    if (kept == NULL)
        return ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory"),
               -1;
    size_t n = ei_envset_count(r->final);
    for (size_t i = 0; i < n; i++) {
        struct ei_entry *e = ei_envset_at(r->final, i);
        if (e->layer >= 0 && (size_t)e->layer < r->layers_n &&
            r->layers[e->layer].conf->implicit && e->below == NULL)
            continue;
        if (ei_envset_adopt_at(kept, r->final, i, NULL) != 0) {
            ei_envset_free(kept);
            return ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL,
                                "out of memory"),
                   -1;
        }
    }
    ei_envset_free(r->final);
    r->final = kept;
    return 0;
}

/* The result's own stores and set, empty. */
static int fresh_result(struct ei_resolution *r)
{
    r->plain = ei_store_new(false);
    r->secrets = ei_store_new(true);
    r->final = r->plain != NULL ? ei_envset_new(r->plain) : NULL;
    return r->plain != NULL && r->secrets != NULL && r->final != NULL ? 0 : -1;
}

/* The cache, and the configuration's path that its files are bound to:
   absolute, links resolved, so that every way of naming it is one. */
static int open_cache(struct ei_resolution *r, const char *const *envp,
                      struct ei_error *err)
{
    const struct ei_config *cfg = r->cfg;
    r->cache_config = realpath(cfg->path, NULL);
    if (r->cache_config == NULL)
        return ei_error_set(err, EI_IOERROR, errno, NULL, cfg->path,
                            "cache: cannot resolve the configuration's path"),
               -1;
    r->cache = ei_cache_new(&cfg->cache, envp, err);
    return r->cache != NULL ? 0 : -1;
}

int ei_resolution_open(struct ei_config *cfg, const char *const *environ,
                       struct ei_resolution **out, struct ei_error *err)
{
    *out = NULL;
    struct ei_resolution *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory"),
               -1;
    r->cfg = cfg;
    r->environ = environ;
    r->layers = calloc(cfg->layers_n + 1, sizeof(*r->layers));
    if (r->layers == NULL || fresh_result(r) < 0) {
        ei_resolution_free(r);
        return ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory"),
               -1;
    }
    /* every layer's options are checked before any layer does I/O */
    bool cached = false;
    for (size_t i = 0; i < cfg->layers_n; i++) {
        r->layers_n = i + 1;
        if (ei_layer_init(&r->layers[i], &cfg->layers[i], cfg, (int)i, environ,
                          err) < 0) {
            ei_resolution_free(r);
            return -1;
        }
        cached |= r->layers[i].opts.on_error == EI_ON_ERROR_CACHE;
    }
    /* the key and the folder are checked before any fetch too */
    if (cached && open_cache(r, environ, err) < 0) {
        ei_resolution_free(r);
        return -1;
    }
    *out = r;
    return 0;
}

int ei_resolution_reset(struct ei_resolution *r)
{
    ei_envset_free(r->final);
    ei_store_free(r->secrets);
    ei_store_free(r->plain);
    r->final = NULL;
    r->plain = r->secrets = NULL;
    ei_problems_clear(&r->problems);
    /* the layers made for references start again too: a provider's
       state holds what its lookups read, which a watch must read anew */
    for (size_t i = 0; i < r->ref_layers_n; i++) {
        ei_layer_fini(&r->ref_layers[i]);
        ref_conf_clear(&r->ref_confs[i]);
    }
    r->ref_layers_n = 0;
    int rc = fresh_result(r);
    for (size_t i = 0; i < r->layers_n; i++)
        if (ei_layer_reset(&r->layers[i]) < 0)
            rc = -1;
    return rc;
}

int ei_resolve(struct ei_config *cfg, const char *const *environ,
               unsigned flags, struct ei_resolution **out, struct ei_error *err)
{
    struct ei_resolution *r;
    if (ei_resolution_open(cfg, environ, &r, err) < 0)
        return *out = NULL, -1;
    int rc = ei_resolution_run(r, flags, err);
    /* a failure leaves the resolution only when it holds the problems
       (failed layers under KEEP_GOING, validation findings) to report */
    if (rc < 0 && (r->problems.n == 0 || err->status == EI_NOMEM)) {
        ei_resolution_free(r);
        r = NULL;
    }
    *out = r;
    return rc;
}

int ei_resolution_run(struct ei_resolution *r, unsigned flags,
                      struct ei_error *err)
{
    struct ei_config *cfg = r->cfg;
    if (fetch_all(r, flags, err) < 0) {
        /* KEEP_GOING: the failed layers are the problems; validating
           without them would report their keys as missing */
        if (r->problems.n > 0 && err->status != EI_NOMEM)
            return -1;
        goto fail;
    }
    if (merge(r, err) < 0 || resolve_refs(r, err) < 0)
        goto fail;

    /* schema defaults go in before interpolation, so that a value can
       refer to a key that only the schema sets, and a default can refer
       to resolved keys */
    if (ei_schema_apply(&cfg->schema, r->final, r->plain, r->secrets, err) < 0)
        goto fail;
    bool *interp = calloc(r->layers_n + 1, sizeof(*interp));
    if (interp == NULL)
        goto oom;
    for (size_t i = 0; i < r->layers_n; i++)
        interp[i] = r->layers[i].opts.interpolate;
    int rc = ei_interp_expand(r->final, interp, r->layers_n, layer_name_cb, r,
                              r->plain, r->secrets, err);
    free(interp);
    if (rc < 0)
        goto fail;
    if (apply_unset(r, err) < 0)
        goto fail;

    long found = ei_schema_check(&cfg->schema, r->final, &r->problems);
    if (found < 0)
        goto oom;
    /* after the check: a required key may be one that is only set */
    if (drop_environment_only(r, err) < 0)
        goto fail;
    if (found > 0 && !(flags & EI_RESOLVE_KEEP_GOING))
        return ei_error_set(err, EI_BADCONFIG, 0, NULL, NULL,
                            "%ld validation problem%s", found,
                            found == 1 ? "" : "s"),
               -1;
    for (size_t i = 0; i < r->layers_n; i++) {
        size_t unlocked = ei_store_unlocked(r->layers[i].secrets);
        if (unlocked > 0)
            ei_diag_msg(EI_LOG_INFO, r->layers[i].name, NULL,
                        "secret memory could not be locked (RLIMIT_MEMLOCK)");
    }
    return 0;
oom:
    ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory");
fail:
    return -1;
}
