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

int ei_layer_fetch(struct ei_layer *l)
{
    struct ei_sink sink;
    ei_sink_init(&sink, l);
    struct ei_deadline dl;
    dl.start_ms = ei_now_ms();
    dl.end_ms = dl.start_ms + l->opts.timeout_ms;
    ei_error_clear(&l->error);
    enum ei_status st = l->prov->fetch(l->state, &sink, &dl, &l->error);
    l->elapsed_ms = ei_now_ms() - dl.start_ms;
    if (st == EI_OK && l->error.status != EI_OK)
        st = l->error.status; /* the sink failed and the provider forgot */
    l->status = st;
    if (st == EI_OK)
        return 0;
    if (l->error.status == EI_OK)
        ei_error_set(&l->error, st, 0, l->name, NULL, "%s", ei_status_text(st));
    ei_error_layer(&l->error, l->name);
    /* a failed layer leaves nothing behind */
    ei_envset_free(l->staged);
    ei_store_free(l->secrets);
    l->secrets = ei_store_new(true);
    l->staged = ei_envset_new(l->entries);
    if (l->staged == NULL || l->secrets == NULL) {
        l->status = EI_NOMEM;
        return -1;
    }
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
    ei_error_clear(&l->error);
    l->elapsed_ms = 0;
    return l->staged != NULL && l->secrets != NULL ? 0 : -1;
}
