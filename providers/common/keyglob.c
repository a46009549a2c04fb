/* SPDX-License-Identifier: MIT */
/* Globs on variable names (see keyglob.h). */
#include <fnmatch.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "keyglob.h"

static char kg_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool kg_equal(const char *a, const char *b, size_t n, bool fold)
{
    if (!fold)
        return memcmp(a, b, n) == 0;
    for (size_t i = 0; i < n; i++)
        if (kg_lower(a[i]) != kg_lower(b[i]))
            return false;
    return true;
}

void ei_keyglob_compile(struct ei_keyglob *g, const char *glob)
{
    size_t glob_len = strlen(glob);
    bool lead = glob_len > 0 && glob[0] == '*';
    g->glob = glob;
    g->core = glob + (lead ? 1 : 0);
    g->core_len = glob_len - (lead ? 1 : 0);
    bool trail = g->core_len > 0 && g->core[g->core_len - 1] == '*';
    if (trail)
        g->core_len--;
    if (memchr(g->core, '*', g->core_len) != NULL ||
        strpbrk(glob, "?[\\") != NULL)
        g->kind = EI_KEYGLOB_FNMATCH;
    else if (lead)
        g->kind =
            trail || g->core_len == 0 ? EI_KEYGLOB_INFIX : EI_KEYGLOB_SUFFIX;
    else
        g->kind = trail ? EI_KEYGLOB_PREFIX : EI_KEYGLOB_EXACT;
}

/* fnmatch itself, on a NUL-terminated copy when name is not one. */
static int kg_fnmatch(const char *glob, const char *name, size_t len, int flags)
{
    if (name[len] == '\0')
        return fnmatch(glob, name, flags) == 0;
    char *copy = strndup(name, len);
    if (copy == NULL)
        return -1;
    int hit = fnmatch(glob, copy, flags) == 0;
    free(copy);
    return hit;
}

/* *CORE*: anywhere in the name. */
static bool kg_infix(const struct ei_keyglob *g, const char *name, size_t len,
                     bool fold)
{
    for (size_t at = 0; at + g->core_len <= len; at++)
        if (kg_equal(name + at, g->core, g->core_len, fold))
            return true;
    return false;
}

int ei_keyglob_any(const struct ei_keyglob *globs, size_t n, const char *name,
                   size_t len, int flags)
{
    bool fold = (flags & FNM_CASEFOLD) != 0;
    bool other_flags = (flags & ~FNM_CASEFOLD) != 0;
    for (size_t i = 0; i < n; i++) {
        const struct ei_keyglob *g = &globs[i];
        size_t c = g->core_len;
        bool hit;
        /* one byte first, the one most names differ in: a glob's length
           for a whole name, its first byte for a prefix, its last for a
           suffix; the loop is one function, as a call per glob cost more
           than the comparison */
        switch (other_flags ? EI_KEYGLOB_FNMATCH : g->kind) {
        case EI_KEYGLOB_EXACT:
            hit = len == c && kg_equal(name, g->core, c, fold);
            break;
        case EI_KEYGLOB_PREFIX:
            hit = len >= c && kg_equal(name, g->core, 1, fold) &&
                  kg_equal(name, g->core, c, fold);
            break;
        case EI_KEYGLOB_SUFFIX:
            hit = len >= c &&
                  kg_equal(name + len - 1, g->core + c - 1, 1, fold) &&
                  kg_equal(name + len - c, g->core, c, fold);
            break;
        case EI_KEYGLOB_INFIX:
            hit = kg_infix(g, name, len, fold);
            break;
        default: {
            int r = kg_fnmatch(g->glob, name, len, flags);
            if (r != 0)
                return r;
            hit = false;
            break;
        }
        }
        if (hit)
            return 1;
    }
    return 0;
}

int ei_keyglob_test(const struct ei_keyglob *g, const char *name, size_t len,
                    int flags)
{
    return ei_keyglob_any(g, 1, name, len, flags);
}

int ei_keyglob_match(const char *glob, const char *name, size_t len, int flags)
{
    struct ei_keyglob g;
    ei_keyglob_compile(&g, glob);
    return ei_keyglob_test(&g, name, len, flags);
}
