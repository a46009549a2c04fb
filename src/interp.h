/* SPDX-License-Identifier: MIT */
/* Interpolation of ${KEY}, $KEY, ${KEY:-default}, ${KEY-default}, \$ and
   $$ in resolved values, with cycle detection. */
#ifndef EI_INTERP_H
#define EI_INTERP_H

#include <stdbool.h>
#include <stddef.h>

#include "envinject/provider.h"

struct ei_envset;
struct ei_store;
struct ei_entry;

/*
 * Expand every entry of set that allows it: interp_layer[entry->layer] is
 * true and the entry has no EI_ENTRY_LITERAL (entries of EI_LAYER_SCHEMA
 * are expanded too).  References are looked up in set itself; a
 * referenced value is expanded first.  A value that took in a secret
 * becomes secret (its text goes to the secret store).  The original text is
 * kept in entry->raw.
 *
 * Errors (EI_BADCONFIG, locator = the entry's locator, layer = its layer's
 * name through layer_name): an undefined reference without default names
 * the key and the reference; a cycle names every key in it
 * ("A -> B -> A"); a malformed ${ names the offset.  Values never appear.
 */
int ei_interp_expand(struct ei_envset *set, const bool *interp_layer,
                     size_t layers_n,
                     const char *(*layer_name)(void *ctx, int layer), void *ctx,
                     struct ei_store *plain, struct ei_store *secret,
                     struct ei_error *err);

#endif
