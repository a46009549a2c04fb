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

/* The place of g in a set: 2 * bucket for CORE*, 2 * bucket + 1 for a
   whole name or *CORE, 2 * EI_KEYGLOB_BUCKETS for the others. */
static size_t kg_rank(const struct ei_keyglob *g)
{
    if (g->core_len == 0)
        return 2 * EI_KEYGLOB_BUCKETS;
    switch (g->kind) {
    case EI_KEYGLOB_PREFIX:
        return 2 * ((unsigned char)g->core[0] % EI_KEYGLOB_BUCKETS);
    case EI_KEYGLOB_EXACT:
    case EI_KEYGLOB_SUFFIX:
        return 2 * ((unsigned char)g->core[g->core_len - 1] %
                    EI_KEYGLOB_BUCKETS) +
               1;
    default:
        return 2 * EI_KEYGLOB_BUCKETS;
    }
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
    g->rank = kg_rank(g);
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

void ei_keyglob_set_init(struct ei_keyglob_set *set, struct ei_keyglob *globs,
                         size_t n, int flags)
{
    set->globs = globs;
    set->n = n;
    set->flags = flags;
    if ((flags & ~FNM_CASEFOLD) != 0) {
        /* fnmatch's flags: every glob goes to it */
        memset(set->first, 0, sizeof set->first);
        memset(set->last, 0, sizeof set->last);
        return;
    }
    /* an insertion sort by rank: a set is read once, and holds tens */
    for (size_t i = 1; i < n; i++) {
        struct ei_keyglob g = globs[i];
        size_t j = i;
        for (; j > 0 && globs[j - 1].rank > g.rank; j--)
            globs[j] = globs[j - 1];
        globs[j] = g;
    }
    size_t at = 0;
    for (size_t b = 0; b <= EI_KEYGLOB_BUCKETS; b++) {
        set->first[b] = at;
        while (at < n && globs[at].rank == 2 * b)
            at++;
        set->last[b] = at;
        while (at < n && globs[at].rank == 2 * b + 1)
            at++;
    }
}

/* ei_keyglob_any of globs[from..to), without a call when it is empty. */
static int kg_range(const struct ei_keyglob_set *set, size_t from, size_t to,
                    const char *name, size_t len)
{
    if (from == to)
        return 0;
    return ei_keyglob_any(set->globs + from, to - from, name, len, set->flags);
}

int ei_keyglob_set_any(const struct ei_keyglob_set *set, const char *name,
                       size_t len)
{
    /* an empty list (secret_keys or plain_keys not given, no consumed
       variables) is common: no bucket to look at */
    if (set->n == 0)
        return 0;
    const size_t *first = set->first, *last = set->last;
    int hit = kg_range(set, first[EI_KEYGLOB_BUCKETS], set->n, name, len);
    if (hit != 0 || len == 0)
        return hit;
    size_t b = (unsigned char)name[0] % EI_KEYGLOB_BUCKETS;
    hit = kg_range(set, first[b], last[b], name, len);
    if (hit != 0)
        return hit;
    b = (unsigned char)name[len - 1] % EI_KEYGLOB_BUCKETS;
    return kg_range(set, last[b], first[b + 1], name, len);
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
