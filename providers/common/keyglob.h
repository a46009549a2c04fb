/* SPDX-License-Identifier: MIT */
/* Globs on variable names: fnmatch(3)'s answer, without its cost for the
   globs that layers and providers use most. */
#ifndef EI_PROVIDERS_KEYGLOB_H
#define EI_PROVIDERS_KEYGLOB_H

#include <stddef.h>

/*
 * Whether name[0..len) matches glob, as fnmatch(glob, name, flags) says;
 * flags is 0 or FNM_CASEFOLD.  name need not be NUL-terminated.  A glob
 * whose only special character is '*' at its start, its end or both
 * (DB_PASSWORD, *_TOKEN, DOTENV_PRIVATE_KEY_*, *KEY*) is decided by
 * comparing bytes, case folded as in the C locale, which envinject never
 * leaves; fnmatch costs some hundred instructions a call, and the env
 * layer asks about every variable against some thirty globs.  Any other
 * glob goes to fnmatch.  Returns 1 (a match), 0, or -1 when out of memory
 * (fnmatch needed a NUL-terminated copy of the name).
 */
int ei_keyglob_match(const char *glob, const char *name, size_t len,
                     int flags);

#endif
