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
/* Buckets of a set: a byte's 5 low bits, which upper and lower case
   letters share. */
#define EI_KEYGLOB_BUCKETS 32

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
    size_t rank; /* its place in a set (see ei_keyglob_set) */
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

/*
 * Globs read for many names, grouped by the one byte each compares
 * first: the first of a CORE* glob, the last of a whole name or *CORE.
 * A name is tested only against the globs of its own first and last
 * bytes' buckets and those of no bucket (*CORE*, fnmatch's), not against
 * all of them: the env layer's thirty-odd globs cost a few comparisons
 * for most names (PATH, ENV_KEY_1) instead of thirty.
 */
struct ei_keyglob_set {
    const struct ei_keyglob *globs; /* not copied: must outlive the set */
    size_t n;
    int flags;
    /* globs[first[b]..first[b + 1]) are the CORE* globs of bucket b,
       globs[last[b]..last[b + 1]) the others of bucket b, and
       globs[first[EI_KEYGLOB_BUCKETS]..n) those of none */
    size_t first[EI_KEYGLOB_BUCKETS + 1], last[EI_KEYGLOB_BUCKETS + 1];
};

/* Group globs[0..n), which it reorders, into *set for ei_keyglob_set_any
   with flags (0 or FNM_CASEFOLD). */
void ei_keyglob_set_init(struct ei_keyglob_set *set, struct ei_keyglob *globs,
                         size_t n, int flags);

/* ei_keyglob_any of the set's globs and flags: 1, 0 or -1. */
int ei_keyglob_set_any(const struct ei_keyglob_set *set, const char *name,
                       size_t len);

/* ei_keyglob_test of glob, for a glob used once. */
int ei_keyglob_match(const char *glob, const char *name, size_t len, int flags);

#endif
