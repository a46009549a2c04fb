/* SPDX-License-Identifier: MIT */
/* Resolution: fetch every layer, merge in layer order, interpolate, apply
   the schema's defaults and validate. */
#ifndef EI_RESOLVE_H
#define EI_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "envinject/provider.h"
#include "layer.h"
#include "schema.h"

struct ei_envset;
struct ei_store;

struct ei_resolution {
    struct ei_config *cfg;      /* not owned */
    const char *const *environ; /* the process environment, not owned */
    struct ei_cache *cache; /* when a layer's on_error is "cache" */
    char *cache_config;     /* the configuration's absolute path */
    struct ei_layer *layers;
    size_t layers_n;
    struct ei_envset *final; /* the merged, interpolated result */
    struct ei_store *plain;
    struct ei_store *secrets;
    struct ei_problems problems; /* require and schema findings */
    /* layers made for references into a provider that no layer names
       (its defaults, or the connection the reference's query gives) */
    struct ei_layer *ref_layers;
    struct ei_layer_conf *ref_confs;
    size_t ref_layers_n;
};

/* The most layers references may add, each one provider and connection. */
#define EI_REF_LAYERS_MAX 16

/* Flags of ei_resolve.  KEEP_GOING (check): validation problems are
   recorded and do not fail; every layer that fails is recorded too. */
#define EI_RESOLVE_KEEP_GOING 0x1u
/* NO_CACHE (run --watch, once the program runs): a layer that fails is
   not answered from the cache; its values are still written there. */
#define EI_RESOLVE_NO_CACHE 0x2u
/* NO_REVISION (run without an audit record): nothing keeps the layers'
   revisions but a cache, so only layers with on_error = cache need them
   (host.revision_wanted). */
#define EI_RESOLVE_NO_REVISION 0x4u

/*
 * Resolve cfg against the process environment environ.  On success *out
 * is the resolution (free with ei_resolution_free).  On failure -1 with
 * err; validation failures (when not KEEP_GOING) give EI_BADCONFIG and
 * leave the resolution in *out so that every problem can be reported.
 * With KEEP_GOING, layers that fail to fetch give -1 with the first one's
 * error, and *out holds a resolution whose problems are those layers
 * (rule EI_RULE_LAYER), nothing merged and nothing validated.
 */
int ei_resolve(struct ei_config *cfg, const char *const *environ,
               unsigned flags, struct ei_resolution **out,
               struct ei_error *err);
void ei_resolution_free(struct ei_resolution *r);

/*
 * ei_resolve in two steps, for run --watch, which resolves again and
 * again with the same layers (their providers keep what makes a re-read
 * cheap, such as an ETag): open sets the layers up (options checked, no
 * I/O); run fetches every layer and builds the result, with the same
 * outcomes as ei_resolve except that r stays the caller's to free in
 * every case.  reset forgets the result and every layer's values (wiped),
 * keeping the layers, so that run may be called again; -1 when out of
 * memory.
 */
int ei_resolution_open(struct ei_config *cfg, const char *const *environ,
                       struct ei_resolution **out, struct ei_error *err);
int ei_resolution_run(struct ei_resolution *r, unsigned flags,
                      struct ei_error *err);
int ei_resolution_reset(struct ei_resolution *r);

/* Name of a layer index (EI_LAYER_SCHEMA gives "schema"). */
const char *ei_resolution_layer_name(const struct ei_resolution *r, int layer);
const char *ei_resolution_provider_name(const struct ei_resolution *r,
                                        int layer);

#endif
