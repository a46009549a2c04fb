/* SPDX-License-Identifier: MIT */
/* A configured layer: a provider with its options, its host table and its
   state; runs configure, fetch and destroy, and stages what it emits. */
#ifndef EI_LAYER_H
#define EI_LAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "config.h"
#include "layeropts.h"
#include "envinject/provider.h"

struct ei_envset;
struct ei_store;

struct ei_layer {
    struct ei_layer_conf *conf;
    const char *name;
    const struct ei_provider *prov;
    struct ei_host host;
    void *state;
    int index;
    const char *dir;            /* base of relative paths */
    const char *const *environ; /* the process environment */
    const char *environment;    /* the chosen environment, or NULL */
    size_t max_value_len;

    struct ei_layeropts opts; /* the options common to every layer */
    struct ei_netopts net;    /* network options, read on first use */

    /* HTTP clients opened by the provider (host.http_open), NULL-terminated
       or NULL; the layer owns them and closes them in ei_layer_fini */
    struct ei_http **http;

    /* results of fetch */
    struct ei_envset *staged;
    struct ei_store *plain;   /* the options' strings, kept until fini */
    struct ei_store *entries; /* keys, locators, plain values, staged */
    struct ei_store *secrets; /* secret values */
    enum ei_status status;
    bool skipped;          /* optional and failed: warned and left out */
    bool cached;           /* failed, and staged from the cache instead */
    int64_t cache_age_ms;  /* how old those values are */
    struct ei_error error; /* why it failed or was skipped */
    /* what the fetch read (host.revision), "" when it did not say; a layer
       staged from the cache has "cached:" before the cached one */
    char revision[EI_REVISION_MAX + 8];
    bool revision_unused; /* the fetch may skip it (host.revision_wanted) */
    int64_t elapsed_ms;
};

/*
 * Set up a layer from its configuration: find the provider (through the
 * registry, with cfg->provider_path), read the common options, build the
 * host table, call configure, and reject options nobody read.  No I/O but
 * loading a provider's shared object.  -1 with err (the layer's name set).
 */
int ei_layer_init(struct ei_layer *l, struct ei_layer_conf *conf,
                  const struct ei_config *cfg, int index,
                  const char *const *environ, struct ei_error *err);

/*
 * Fetch into the layer's own staging set and stores (thread-safe with
 * respect to other layers).  On failure nothing stays staged; l->status
 * and l->error say why.  An optional layer whose source is missing or
 * unreachable is marked skipped.  Returns 0 when the layer may be merged
 * (fetched, or skipped), -1 when the resolution must fail.
 */
int ei_layer_fetch(struct ei_layer *l);

/*
 * The cache of a layer whose on_error is "cache", once fetch_all has
 * fetched it: after a fetch, its staged values are written to c (a
 * failure is a warning); after a failure that the cache may answer (the
 * source unavailable) and when may_read, the cached values are staged
 * instead if they authenticate and are younger than max_age (one
 * warning), else the layer fails as it did, with the reason added or
 * warned.  config: the configuration file's absolute path.  Returns -1
 * only when out of memory (l->status says so).
 */
int ei_layer_cache(struct ei_layer *l, struct ei_cache *c, const char *config,
                   bool may_read);

/* Destroy the provider state, the staging set and the stores. */
void ei_layer_fini(struct ei_layer *l);

/* Forget the values of the last fetch (wiped), keeping the provider's
   state, for another fetch; -1 when out of memory. */
int ei_layer_reset(struct ei_layer *l);

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t ei_now_ms(void);

#endif
