/* SPDX-License-Identifier: MIT */
/* Providers: the built-in table and the loader of shared objects. */
#ifndef EI_REGISTRY_H
#define EI_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "envinject/provider.h"

struct ei_layer;

/* The built-in providers, NULL-terminated. */
const struct ei_provider *const *ei_registry_builtin(void);

/* Whether this build can load providers from shared objects. */
bool ei_registry_can_load(void);

/* The compiled-in provider folder. */
const char *ei_registry_default_path(void);

/*
 * Find a provider by name: a built-in one, else NAME.so in the folders of
 * path (NULL-terminated, may be NULL) and the compiled-in folder.  A loaded
 * provider stays loaded until ei_registry_unload.  NULL with err
 * (EI_BADCONFIG) when there is none or a shared object is refused; the text
 * names the file and the check that failed.
 */
const struct ei_provider *ei_registry_find(const char *name,
                                           const char *const *path,
                                           struct ei_error *err);

/*
 * Check a descriptor as the loader does (ABI, size, name, functions).
 * file_name is the name the descriptor must carry.  -1 with err.
 */
int ei_registry_check(const struct ei_provider *p, const char *file_name,
                      const char *where, struct ei_error *err);

/*
 * Call fn for every provider: built-in ones, then NAME.so files in the
 * folders (loaded and checked; a refused one is reported with its reason).
 */
void ei_registry_each(const char *const *path,
                      void (*fn)(const struct ei_provider *p, const char *file,
                                 const struct ei_error *refused, void *ctx),
                      void *ctx);

/*
 * Call fn for every variable that providers consume (env_consumed: names
 * or fnmatch(3) globs) and that run keeps from the program: those of every
 * built-in provider, whether a layer uses it or not (a credential meant for
 * envinject stays out of the program even when this configuration does not
 * read it), then those of the providers of layers[0..layers_n) that are
 * not built in (loaded from shared objects).  Each provider is read once,
 * and only when its descriptor's size covers env_consumed.  The patterns
 * belong to the descriptors.
 */
void ei_registry_each_consumed(const struct ei_layer *layers, size_t layers_n,
                               void (*fn)(const char *pattern, void *ctx),
                               void *ctx);

/* Unload every shared object (at exit; descriptors become invalid). */
void ei_registry_unload(void);

#endif
