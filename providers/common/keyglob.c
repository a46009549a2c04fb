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

/* fnmatch itself, on a NUL-terminated copy when name is not one. */
static int kg_fnmatch(const char *glob, const char *name, size_t len,
                      int flags)
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

int ei_keyglob_match(const char *glob, const char *name, size_t len, int flags)
{
    size_t glob_len = strlen(glob);
    bool lead = glob_len > 0 && glob[0] == '*';
    const char *core = glob + (lead ? 1 : 0);
    size_t core_len = glob_len - (lead ? 1 : 0);
    bool trail = core_len > 0 && core[core_len - 1] == '*';
    if (trail)
        core_len--;
    if (memchr(core, '*', core_len) != NULL ||
        strpbrk(glob, "?[\\") != NULL || (flags & ~FNM_CASEFOLD) != 0)
        return kg_fnmatch(glob, name, len, flags);
    bool fold = (flags & FNM_CASEFOLD) != 0;
    if (len < core_len)
        return 0;
    if (!lead && !trail)
        return len == core_len && kg_equal(name, core, len, fold);
    if (!lead)
        return kg_equal(name, core, core_len, fold);
    if (!trail)
        return kg_equal(name + len - core_len, core, core_len, fold);
    for (size_t at = 0; at + core_len <= len; at++)
        if (kg_equal(name + at, core, core_len, fold))
            return 1;
    return 0;
}
