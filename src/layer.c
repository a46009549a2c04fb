/* SPDX-License-Identifier: MIT */
/* A configured layer: a provider with its options, its host table and its
   state; runs configure, fetch and destroy, and stages what it emits. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diag.h"
#include "envset.h"
#include "hosttable.h"
#include "http.h"
#include "layer.h"
#include "registry.h"
#include "secmem.h"
#include "sink.h"

int64_t ei_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The first option that neither the core nor the provider read. */
static const struct ei_opt *unused_option(const struct ei_opt *group)
{
    for (size_t i = 0; i < group->kids_n; i++) {
        const struct ei_opt *o = &group->kids[i];
        if (!o->used)
            return o;
        if (o->type == EI_OPT_GROUP) {
            const struct ei_opt *u = unused_option(o);
            if (u != NULL)
                return u;
        }
    }
    return NULL;
}

int ei_layer_init(struct ei_layer *l, struct ei_layer_conf *conf,
                  const struct ei_config *cfg, int index,
                  const char *const *environ, struct ei_error *err)
{
    memset(l, 0, sizeof(*l));
    l->conf = conf;
    l->name = conf->name;
    l->index = index;
    l->dir = conf->dir;
    l->environ = environ;
    l->environment = cfg->environment;
    l->max_value_len = cfg->max_value_len;
    l->status = EI_OK;

    ei_hosttable_init(&l->host, l, cfg->max_value_len);

    l->plain = ei_store_new(false);
    l->entries = ei_store_new(false);
    l->secrets = ei_store_new(true);
    if (l->plain == NULL || l->entries == NULL || l->secrets == NULL)
        goto oom;
    l->staged = ei_envset_new(l->entries);
    if (l->staged == NULL)
        goto oom;

    l->prov = ei_registry_find(conf->provider,
                               (const char *const *)cfg->provider_path, err);
    if (l->prov == NULL) {
        ei_error_layer(err, l->name);
        if (err != NULL && err->locator[0] == '\0')
            snprintf(err->locator, sizeof(err->locator), "%s", conf->where);
        return -1;
    }
    if (conf->arg != NULL && l->prov->arg_option == NULL)
        return ei_error_set(err, EI_USAGE, 0, l->name, conf->where,
                            "provider %s takes no ARG (use %s,OPTION=VALUE)",
                            l->prov->name, l->prov->name),
               -1;
    if (conf->arg != NULL && l->prov->arg_option != NULL &&
        ei_opt_find(&conf->opts, l->prov->arg_option) != NULL)
        return ei_error_set(err, EI_USAGE, 0, l->name, conf->where,
                            "%s is given twice: as ARG and as an option",
                            l->prov->arg_option),
               -1;
    if (ei_layeropts_read(&l->opts, &l->host, l->prov, conf->where, err) < 0)
        return -1;
    if (l->opts.on_error == EI_ON_ERROR_CACHE && cfg->cache.dir == NULL)
        return ei_error_set(err, EI_BADCONFIG, 0, l->name, conf->where,
                            "on_error = \"cache\" needs a cache group in the "
                            "configuration (cache = { dir = ...; max_age = "
                            "...; };)"),
               -1;
    if (l->prov->configure(&l->host, &l->state, err) != EI_OK) {
        if (err != NULL && err->status == EI_OK)
            ei_error_set(err, EI_BADCONFIG, 0, l->name, conf->where,
                         "invalid options");
        ei_error_layer(err, l->name);
        if (err != NULL && err->locator[0] == '\0')
            snprintf(err->locator, sizeof(err->locator), "%s", conf->where);
        return -1;
    }
    /* a remote provider may open its HTTP client only during fetch (when
       a credential source names the endpoint); its network options are
       read now all the same, so that they count as known, and kept for
       then */
    if ((l->prov->flags & EI_PROV_REMOTE) &&
        ei_layeropts_net(&l->net, &l->host, err) < 0)
        return -1;
    const struct ei_opt *u = unused_option(&conf->opts);
    if (u != NULL) {
        char where[EI_ERR_LOCATOR_LEN];
        if (u->line > 0 && !conf->adhoc) {
            const char *colon = strrchr(conf->where, ':');
            int n = colon != NULL ? (int)(colon - conf->where)
                                  : (int)strlen(conf->where);
            snprintf(where, sizeof(where), "%.*s:%d", n, conf->where, u->line);
        } else {
            snprintf(where, sizeof(where), "%s", conf->where);
        }
        return ei_error_set(err, EI_BADCONFIG, 0, l->name, where,
                            "unknown option '%s' for provider %s",
                            u->name != NULL ? u->name : "?", l->prov->name),
               -1;
    }
    return 0;
oom:
    return ei_error_set(err, EI_NOMEM, ENOMEM, l->name, NULL, "out of memory"),
           -1;
}

/* Forget what was staged (wiped); -1 when out of memory (status set). */
static int drop_staged(struct ei_layer *l)
{
    ei_envset_free(l->staged);
    ei_store_free(l->secrets);
    l->secrets = ei_store_new(true);
    l->staged = ei_envset_new(l->entries);
    if (l->staged == NULL || l->secrets == NULL) {
        l->status = EI_NOMEM;
        return -1;
    }
    return 0;
}

int ei_layer_fetch(struct ei_layer *l)
{
    struct ei_sink sink;
    ei_sink_init(&sink, l);
    struct ei_deadline dl;
    dl.start_ms = ei_now_ms();
    dl.end_ms = dl.start_ms + l->opts.timeout_ms;
    ei_error_clear(&l->error);
    l->revision[0] = '\0';
    enum ei_status st = l->prov->fetch(l->state, &sink, &dl, &l->error);
    l->elapsed_ms = ei_now_ms() - dl.start_ms;
    if (st == EI_OK && l->error.status != EI_OK)
        st = l->error.status; /* the sink failed and the provider forgot */
    l->status = st;
    if (st == EI_OK)
        return 0;
    l->revision[0] = '\0'; /* of what was not read in the end */
    if (l->error.status == EI_OK)
        ei_error_set(&l->error, st, 0, l->name, NULL, "%s", ei_status_text(st));
    ei_error_layer(&l->error, l->name);
    /* a failed layer leaves nothing behind */
    if (drop_staged(l) < 0)
        return -1;
    if (l->opts.optional && (st == EI_NOTFOUND || st == EI_UNAVAILABLE)) {
        l->skipped = true;
        return 0;
    }
    /* dotenv tools skip a missing file with a warning at most; here it
       fails (a typo in a path must not start the program without its
       configuration), and says how to ask for the skip */
    if (st == EI_NOTFOUND && l->conf->adhoc &&
        (strcmp(l->prov->name, "file") == 0 ||
         strcmp(l->prov->name, "dir") == 0 ||
         strcmp(l->prov->name, "sealed") == 0)) {
        size_t n = strlen(l->error.text);
        snprintf(l->error.text + n, sizeof(l->error.text) - n,
                 " (add ,optional=true to the --layer to skip it when "
                 "missing)");
    }
    return -1;
}

void ei_layer_fini(struct ei_layer *l)
{
    if (l->prov != NULL && l->state != NULL)
        l->prov->destroy(l->state);
    l->state = NULL;
    for (size_t i = 0; l->http != NULL && l->http[i] != NULL; i++)
        ei_http_free(l->http[i]);
    free(l->http);
    l->http = NULL;
    ei_envset_free(l->staged);
    ei_store_free(l->secrets);
    ei_store_free(l->entries);
    ei_store_free(l->plain);
    l->staged = NULL;
    l->secrets = l->entries = l->plain = NULL;
}

int ei_layer_reset(struct ei_layer *l)
{
    ei_envset_free(l->staged);
    ei_store_free(l->secrets);
    ei_store_free(l->entries);
    l->entries = ei_store_new(false);
    l->secrets = ei_store_new(true);
    l->staged = l->entries != NULL ? ei_envset_new(l->entries) : NULL;
    l->status = EI_OK;
    l->skipped = false;
    l->cached = false;
    l->cache_age_ms = 0;
    ei_error_clear(&l->error);
    l->elapsed_ms = 0;
    return l->staged != NULL && l->secrets != NULL ? 0 : -1;
}

/* ---- the last-known-good cache ---- */

struct cache_stage {
    struct ei_layer *l;
    const int64_t *age_ms; /* set by ei_cache_open before the entries */
    char mark[48];         /* "cached, age 3m12s", made on first use */
};

/* Stage one cached entry as the sink would have, its locator marked. */
static int cache_stage_entry(void *ctx, const struct ei_cache_entry *c)
{
    struct cache_stage *cs = ctx;
    struct ei_layer *l = cs->l;
    if (cs->mark[0] == '\0') {
        char age[32];
        ei_cache_age_text(*cs->age_ms, age, sizeof(age));
        snprintf(cs->mark, sizeof(cs->mark), "cached, age %s", age);
    }
    struct ei_store *vs =
        (c->flags & EI_ENTRY_SECRET) ? l->secrets : l->entries;
    struct ei_entry e = {0};
    e.key = ei_store_strdup(l->entries, c->key);
    e.value = ei_store_strndup(vs, c->value, c->value_len);
    e.value_len = c->value_len;
    e.flags = c->flags;
    e.layer = l->index;
    size_t n = (c->locator != NULL ? strlen(c->locator) + 3 : 0) +
               strlen(cs->mark) + 1;
    char *loc = ei_store_alloc_chars(l->entries, n);
    if (loc != NULL) {
        if (c->locator != NULL)
            snprintf(loc, n, "%s (%s)", c->locator, cs->mark);
        else
            snprintf(loc, n, "%s", cs->mark);
    }
    e.locator = loc;
    e.source =
        c->source != NULL ? ei_store_strdup(l->entries, c->source) : NULL;
    if (e.key == NULL || e.value == NULL || loc == NULL ||
        (c->source != NULL && e.source == NULL) ||
        ei_envset_put(l->staged, &e, NULL) == NULL)
        return -1;
    return 0;
}

/* Why a cache file was not used, for its warning; NULL: no warning. */
static const char *cache_unused(enum ei_cache_result res)
{
    switch (res) {
    case EI_CACHE_BAD:
        return "failed authentication; ignored";
    case EI_CACHE_OTHER_KEY:
        return "failed authentication (written with another key); ignored";
    case EI_CACHE_OTHER_VERSION:
        return "was written by another version of envinject; ignored";
    case EI_CACHE_OTHER_OPTIONS:
        return "was written for other options of the layer; ignored";
    case EI_CACHE_FUTURE:
        return "was written in the future (was the clock changed?); ignored";
    default:
        return NULL;
    }
}

/* Add "; SUFFIX" to the layer's error text (cut when it does not fit). */
static void error_append(struct ei_error *e, const char *suffix)
{
    size_t n = strlen(e->text);
    snprintf(e->text + n, sizeof(e->text) - n, "; %s", suffix);
}

int ei_layer_cache(struct ei_layer *l, struct ei_cache *c, const char *config,
                   bool may_read)
{
    if (l->opts.on_error != EI_ON_ERROR_CACHE || c == NULL)
        return 0;
    struct ei_cache_ident id = {.config = config,
                                .layer = l->name,
                                .provider = l->prov->name,
                                .environment = l->environment != NULL
                                                   ? l->environment
                                                   : ""};
    ei_cache_options_id(ei_cache_key(c), l->conf, id.options);
    struct ei_error err = {0};
    char text[EI_ERR_TEXT_LEN * 2];
    if (l->status == EI_OK && !l->skipped) {
        if (ei_cache_write(c, &id, l->staged, l->revision, &err) < 0) {
            ei_error_describe(&err, text, sizeof(text));
            ei_diag_msg(EI_LOG_WARN, l->name, NULL,
                        "the cache is not written: %s", text);
        }
        return 0;
    }
    /* only an outage falls back: an answer that the source is gone or
       that we may not read it (404, 401, 403) stands */
    if (l->status != EI_UNAVAILABLE || !may_read)
        return 0;
    int64_t age_ms = 0;
    struct cache_stage cs = {.l = l, .age_ms = &age_ms};
    char rev[EI_REVISION_MAX + 1];
    enum ei_cache_result res =
        ei_cache_read(c, &id, &age_ms, cache_stage_entry, &cs, rev, &err);
    char age[32], max[32];
    ei_cache_age_text(age_ms, age, sizeof(age));
    const char *why = cache_unused(res);
    switch (res) {
    case EI_CACHE_OK:
        ei_error_describe(&l->error, text, sizeof(text));
        ei_diag_msg(EI_LOG_WARN, NULL, NULL,
                    "layer '%s' unavailable (%s); using values cached %s ago",
                    l->name, text, age);
        l->status = EI_OK;
        l->skipped = false;
        l->cached = true;
        l->cache_age_ms = age_ms;
        /* the audit record says where the values came from */
        if (rev[0] != '\0')
            snprintf(l->revision, sizeof(l->revision), "cached:%s", rev);
        ei_error_clear(&l->error);
        return 0;
    case EI_CACHE_ABSENT:
        ei_diag_msg(EI_LOG_INFO, l->name, NULL, "no cache to fall back on");
        break;
    case EI_CACHE_TOO_OLD:
        ei_cache_age_text(ei_cache_max_age_ms(c), max, sizeof(max));
        snprintf(text, sizeof(text),
                 "the cache is too old (written %s ago, max_age %s)", age,
                 max);
        error_append(&l->error, text);
        break;
    case EI_CACHE_UNREADABLE:
        ei_error_describe(&err, text, sizeof(text));
        ei_diag_msg(EI_LOG_WARN, NULL, NULL,
                    "cache for layer '%s' could not be read (%s); ignored",
                    l->name, text);
        break;
    case EI_CACHE_NOMEM:
        drop_staged(l);
        l->status = EI_NOMEM;
        ei_error_clear(&l->error);
        ei_error_set(&l->error, EI_NOMEM, ENOMEM, l->name, NULL,
                     "out of memory");
        return -1;
    default:
        ei_diag_msg(EI_LOG_WARN, NULL, NULL, "cache for layer '%s' %s",
                    l->name, why != NULL ? why : "is not used");
        break;
    }
    /* an image is used whole or not at all */
    return drop_staged(l);
}
