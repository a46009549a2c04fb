/* SPDX-License-Identifier: MIT */
/* Resolution: fetch every layer, merge in layer order, interpolate, apply
   the schema's defaults and validate. */
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "diag.h"
#include "envset.h"
#include "http.h"
#include "interp.h"
#include "resolve.h"
#include "secmem.h"

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

static int fetch_all(struct ei_resolution *r, unsigned flags,
                     struct ei_error *err)
{
    /* libcurl's global set-up is not thread-safe: do it here, before any
       layer thread exists, even for providers that open clients late */
    for (size_t i = 0; i < r->layers_n; i++)
        if ((r->layers[i].prov->flags & EI_PROV_REMOTE) &&
            ei_http_global_init(err) < 0)
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
        size_t n = ei_envset_count(l->staged);
        for (size_t j = 0; j < n; j++) {
            struct ei_entry *e = ei_envset_at(l->staged, j);
            if (ei_envset_adopt(r->final, e, &e->below) != 0)
                return ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL,
                                    "out of memory"),
                       -1;
        }
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

/* "ref+NAME://..." with NAME of lowercase letters, digits and '-'. */
static size_t ref_scheme(const struct ei_entry *e)
{
    static const char prefix[] = "ref+";
    if (e->value_len < sizeof(prefix) + 3 ||
        memcmp(e->value, prefix, sizeof(prefix) - 1) != 0)
        return 0;
    size_t i = sizeof(prefix) - 1;
    while (i < e->value_len &&
           ((e->value[i] >= 'a' && e->value[i] <= 'z') ||
            (e->value[i] >= '0' && e->value[i] <= '9') || e->value[i] == '-'))
        i++;
    if (i == sizeof(prefix) - 1 || e->value_len - i < 3 ||
        memcmp(e->value + i, "://", 3) != 0)
        return 0;
    return i - (sizeof(prefix) - 1);
}

/*
 * References: a value "ref+NAME://..." is answered by the lookup of the
 * first layer whose provider is NAME, after every layer has been fetched
 * (so the vault layer may come after the file that refers to it).  The
 * answer is secret and literal; the entry keeps its key's layer, and the
 * reference stays visible to explain as the entry below.
 */
static int resolve_refs_in(struct ei_resolution *r,
                           struct ei_deadline *deadlines, struct ei_error *err);

static int resolve_refs(struct ei_resolution *r, struct ei_error *err)
{
    struct ei_deadline *deadlines = calloc(r->layers_n + 1, sizeof(*deadlines));
    if (deadlines == NULL)
        return ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory"),
               -1;
    int rc = resolve_refs_in(r, deadlines, err);
    free(deadlines);
    return rc;
}

static int resolve_refs_in(struct ei_resolution *r,
                           struct ei_deadline *deadlines, struct ei_error *err)
{
    size_t n = ei_envset_count(r->final);
    for (size_t i = 0; i < n; i++) {
        struct ei_entry *e = ei_envset_at(r->final, i);
        if (e->flags & EI_ENTRY_UNSET)
            continue;
        /* only text that is open to expansion can hold a reference: a
           single-quoted value, the environment or a secret store's answer
           is taken as it is */
        if ((e->flags & EI_ENTRY_LITERAL) || e->layer < 0 ||
            !r->layers[e->layer].opts.interpolate)
            continue;
        size_t scheme_len = ref_scheme(e);
        if (scheme_len == 0)
            continue;
        const char *scheme = e->value + 4;
        struct ei_layer *by = NULL;
        for (size_t j = 0; j < r->layers_n && by == NULL; j++) {
            struct ei_layer *l = &r->layers[j];
            if (strlen(l->prov->name) == scheme_len &&
                memcmp(l->prov->name, scheme, scheme_len) == 0 &&
                l->prov->lookup != NULL && !l->skipped)
                by = l;
        }
        const char *where = ei_resolution_layer_name(r, e->layer);
        if (by == NULL) {
            /* no layer of that provider: plain text, as a tool without
               that provider would read it */
            ei_diag_msg(EI_LOG_INFO, where, e->locator,
                        "%s looks like a %.*s reference, but no layer "
                        "answers it: kept as text",
                        e->key, (int)scheme_len, scheme);
            continue;
        }
        struct ref_capture cap = {.r = r};
        struct ei_sink sink = {.ctx = &cap, .emit = ref_emit};
        /* the layer's timeout covers all its lookups together */
        struct ei_deadline *dl = &deadlines[by->index];
        if (dl->end_ms == 0) {
            dl->start_ms = ei_now_ms();
            dl->end_ms = dl->start_ms + by->opts.timeout_ms;
        }
        struct ei_error lerr = {0};
        enum ei_status st =
            by->prov->lookup(by->state, e->value, &sink, dl, &lerr);
        if (st == EI_OK && cap.count != 1)
            st =
                ei_error_set(&lerr, EI_NOTFOUND, 0, by->name, NULL, "no value");
        if (st != EI_OK) {
            /* a reference that names nothing is the configuration's
               fault; a denied or unreachable store keeps its own code */
            enum ei_status out =
                st == EI_NOTFOUND || st == EI_BADDATA ? EI_BADCONFIG : st;
            return ei_error_set(err, out, lerr.errnum, where, e->locator,
                                "%s: cannot resolve %.200s through layer "
                                "%s: %s",
                                e->key, e->value, by->name,
                                lerr.text[0] != '\0' ? lerr.text
                                                     : ei_status_text(st)),
                   -1;
        }
        struct ei_entry ne = *e;
        ne.value = cap.value;
        ne.value_len = cap.value_len;
        ne.locator = cap.locator != NULL ? cap.locator : by->name;
        ne.flags |= EI_ENTRY_SECRET | EI_ENTRY_LITERAL;
        ne.raw = NULL;
        ne.below = e;
        if (ei_envset_put(r->final, &ne, NULL) == NULL)
            return ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL,
                                "out of memory"),
                   -1;
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
