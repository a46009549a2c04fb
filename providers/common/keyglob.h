/* SPDX-License-Identifier: MIT */
/* Globs on variable names: fnmatch(3)'s answer, without its cost for the
   globs that layers and providers use most. */
#ifndef EI_PROVIDERS_KEYGLOB_H
#define EI_PROVIDERS_KEYGLOB_H

#include <stddef.h>

/*
 * A glob read once for many names.  One whose only special character is
 * '*' at its start, its end or both (DB_PASSWORD, *_TOKEN,
 * DOTENV_PRIVATE_KEY_*, *KEY*) is decided by comparing bytes, case folded
 * as in the C locale, which envinject never leaves: fnmatch costs some
 * hundred instructions a call, and the env layer asks about every
 * variable against some thirty globs.  Any other glob goes to fnmatch.
 */
enum ei_keyglob_kind {
    EI_KEYGLOB_EXACT,   /* the whole name */
    EI_KEYGLOB_PREFIX,  /* CORE* */
    EI_KEYGLOB_SUFFIX,  /* *CORE */
    EI_KEYGLOB_INFIX,   /* *CORE* (and "*", whose core is empty) */
    EI_KEYGLOB_FNMATCH, /* anything else */
};

struct ei_keyglob {
    const char *glob; /* as given (not copied): for fnmatch */
    const char *core; /* inside glob, without the leading and trailing '*' */
    size_t core_len;
    enum ei_keyglob_kind kind;
};

/* Read glob into *g, which points into glob: glob must outlive it. */
void ei_keyglob_compile(struct ei_keyglob *g, const char *glob);

/*
 * Whether name[0..len) matches g, as fnmatch(g->glob, name, flags) says;
 * flags is 0 or FNM_CASEFOLD.  name need not be NUL-terminated.  Returns
 * 1 (a match), 0, or -1 when out of memory (fnmatch needed a
 * NUL-terminated copy of the name).
 */
int ei_keyglob_test(const struct ei_keyglob *g, const char *name, size_t len,
                    int flags);

/* Whether any of globs[0..n) matches: 1, 0 or -1 as ei_keyglob_test (a
   loop here, where the test is inlined: a call per glob cost more than
   the comparison). */
int ei_keyglob_any(const struct ei_keyglob *globs, size_t n, const char *name,
                   size_t len, int flags);

/* ei_keyglob_test of glob, for a glob used once. */
int ei_keyglob_match(const char *glob, const char *name, size_t len, int flags);

#endif
