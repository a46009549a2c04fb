/* SPDX-License-Identifier: MIT */
/* Providers: the built-in table and the loader of shared objects. */
#ifndef EI_REGISTRY_H
#define EI_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "envinject/provider.h"

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
 * The variables p consumes (its env_consumed: names or globs,
 * NULL-terminated), or NULL when it declares none or its descriptor
 * predates the field.
 */
const char *const *ei_registry_consumed(const struct ei_provider *p);

/* Unload every shared object (at exit; descriptors become invalid). */
void ei_registry_unload(void);

#endif
