/* SPDX-License-Identifier: MIT */
/* The parity gate's list of keys that may differ between environments
   (diff --expect-differ): globs of key names. */
#ifndef EI_PARITY_H
#define EI_PARITY_H

#include <stdbool.h>
#include <stddef.h>

#include "envinject/provider.h"

/*
 * Split the arguments of --expect-differ (args_n strings, each a list
 * GLOB,GLOB...) into one NULL-terminated, malloc'd array of malloc'd
 * globs in *out (free with ei_parity_globs_free).  A glob is a key name in
 * which * ? and [...] may stand for characters, as fnmatch(3) reads
 * them.  0, or -1 with err: EI_USAGE naming the bad glob (an empty one, a
 * character no key or glob has), EI_NOMEM.
 */
int ei_parity_globs(const char *const *args, size_t args_n, char ***out,
                    struct ei_error *err);
void ei_parity_globs_free(char **globs);

/* Whether key matches one of globs (NULL: none). */
bool ei_parity_expected(const char *const *globs, const char *key);

#endif
