/* SPDX-License-Identifier: MIT */
/* A set of resolved entries: key -> {value, origin, secret}, with fast
   lookup, stable insertion order and a sorted view. */
#ifndef EI_ENVSET_H
#define EI_ENVSET_H

#include <stdbool.h>
#include <stddef.h>

#include "envinject/provider.h"

struct ei_store;

/* entry->layer for values that came from the schema's defaults */
#define EI_LAYER_SCHEMA (-1)
/* entry->layer for removals by the configuration's unset list */
#define EI_LAYER_CONFIG (-2)
/* no layer at all: a validation problem about a key nobody set */
#define EI_LAYER_NONE (-3)

/*
 * One entry.  Strings are not owned by the set: they live in the stores of
 * the resolution (the secret store when EI_ENTRY_SECRET is set).
 */
struct ei_entry {
    const char *key;
    const char *value; /* NUL-terminated; value_len bytes */
    size_t value_len;
    unsigned flags;      /* EI_ENTRY_* from provider.h */
    const char *locator; /* where it came from; may be NULL */
    const char *source;  /* source name as given, '/'-joined; may be NULL */
    int layer;           /* index in the resolution, or EI_LAYER_SCHEMA */
    const char *raw;     /* before interpolation, or NULL if unchanged */
    size_t raw_len;
    struct ei_entry *below; /* the lower layer's entry it overrode */
};

struct ei_envset;

/* A new empty set whose entries are allocated from store. */
struct ei_envset *ei_envset_new(struct ei_store *store);
void ei_envset_free(struct ei_envset *set);

/* The entry for key, or NULL. */
struct ei_entry *ei_envset_get(const struct ei_envset *set, const char *key);

/*
 * Insert a copy of *e (the struct, not the strings), replacing any entry
 * with the same key in place (the position in insertion order is kept).
 * *old, when not NULL, receives the replaced entry (still valid) or NULL.
 * Returns the entry in the set, or NULL when out of memory.
 */
struct ei_entry *ei_envset_put(struct ei_envset *set, const struct ei_entry *e,
                               struct ei_entry **old);

/*
 * Insert the entry e itself, not a copy, like ei_envset_put otherwise: the
 * set then shares e with whoever made it, which must keep it alive as long
 * as the set.  Returns 0, or -1 when out of memory (the set unchanged).
 */
int ei_envset_adopt(struct ei_envset *set, struct ei_entry *e,
                    struct ei_entry **old);

/*
 * ei_envset_adopt of entry i of src (in insertion order), its key's hash
 * taken from src instead of computed again (every set hashes with the
 * same key).  Returns 0, or -1 with errno EINVAL (no entry i) or ENOMEM
 * (the set unchanged).
 */
int ei_envset_adopt_at(struct ei_envset *set, const struct ei_envset *src,
                       size_t i, struct ei_entry **old);

/*
 * ei_envset_adopt_at of every entry of src, in insertion order, each
 * entry's below set to the entry of set it replaced (or NULL): the merge
 * of a layer into the layers below it, in one call instead of two an
 * entry.  Returns 0, or -1 with errno EINVAL (no set) or ENOMEM (the
 * entries before the one that failed are in set).
 */
int ei_envset_adopt_all(struct ei_envset *set, const struct ei_envset *src);

/*
 * Room for n more entries, so that as many new keys go in without the
 * index growing on the way (each growth moves every slot): for a caller
 * that knows how many come.  Returns 0, or -1 with errno ENOMEM (the set
 * unchanged, still usable) or EINVAL (no set).
 */
int ei_envset_reserve(struct ei_envset *set, size_t n);

/* Number of entries, and the i-th in insertion order. */
size_t ei_envset_count(const struct ei_envset *set);
struct ei_entry *ei_envset_at(const struct ei_envset *set, size_t i);

/*
 * The entries sorted by key (bytewise), as a malloc'd array the caller
 * frees; entries with EI_ENTRY_UNSET are left out.  NULL when out of
 * memory (or *n == 0 and an empty set: then a valid pointer is returned).
 */
struct ei_entry **ei_envset_sorted(const struct ei_envset *set, size_t *n);

/* Whether s is a valid key: [A-Za-z_][A-Za-z0-9_]* */
bool ei_key_valid(const char *s, size_t len);

/* The length of the NUL-terminated s when it is a valid key of at most
   max bytes, else 0: strlen and ei_key_valid in one pass. */
size_t ei_key_len(const char *s, size_t max);

#endif
