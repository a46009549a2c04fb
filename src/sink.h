/* SPDX-License-Identifier: MIT */
/* The sink a layer hands to its provider's fetch: key mapping, the
   layer's key filter, the secret decision, and staging. */
#ifndef EI_SINK_H
#define EI_SINK_H

#include <stdbool.h>
#include <stddef.h>

#include "envinject/provider.h"

struct ei_layer;

/* The longest key a source name may map to, in bytes. */
#define EI_KEY_MAX 1024

/* Map a source name to a key, as the sink does (case_preserve or not).
   Writes at most out_len bytes including the NUL; -1 if it does not fit
   or the name is empty. */
int ei_key_map(const char *const *name, size_t name_n, bool case_preserve,
               char *out, size_t out_len);

/*
 * The common key filter of a layer: NULL when key does not start with
 * prefix (NULL: no prefix), or is left invalid by strip_prefix, or
 * matches no glob of include, or one of exclude (NULL: no list);
 * otherwise the key as the layer keeps it (a pointer into key).
 */
const char *ei_key_filter(const char *prefix, bool strip_prefix,
                          const char *const *include,
                          const char *const *exclude, const char *key);

/* ei_key_filter with the options of layer l (a provider's own prefix is
   no filter): the key as l keeps it, or NULL. */
const char *ei_sink_filter(const struct ei_layer *l, const char *key);

/*
 * Make sink the sink of layer l: each entry emitted is mapped to a key,
 * checked (valid name, max_value_len, no NUL byte), filtered, marked
 * secret or not, and copied into l->staged, its strings into l->entries or
 * l->secrets.  l must outlive the sink.
 */
void ei_sink_init(struct ei_sink *sink, struct ei_layer *l);

#endif
