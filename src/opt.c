/* SPDX-License-Identifier: MIT */
/* The option tree: look-up by dotted path, and the place of an option. */
#include <stdlib.h>
#include <string.h>

#include "opt.h"

void ei_opt_clear(struct ei_opt *o)
{
    for (size_t i = 0; i < o->kids_n; i++)
        ei_opt_clear(&o->kids[i]);
    free(o->kids);
    free(o->name);
    free(o->str);
    free(o->list_cache);
    memset(o, 0, sizeof(*o));
}

struct ei_opt *ei_opt_find(struct ei_opt *group, const char *path)
{
    if (group->type != EI_OPT_GROUP)
        return NULL;
    for (size_t i = 0; i < group->kids_n; i++) {
        struct ei_opt *k = &group->kids[i];
        if (k->name == NULL)
            continue;
        /* the name against path's first segment byte by byte, nothing
           measured first: most names differ from it at their first byte
           (a start asks some 50 times, mostly for options not given) */
        size_t n = 0;
        while (k->name[n] != '\0' && path[n] != '.' && k->name[n] == path[n])
            n++;
        if (k->name[n] != '\0' || (path[n] != '\0' && path[n] != '.'))
            continue;
        if (path[n] == '\0')
            return k;
        if (k->type != EI_OPT_GROUP)
            return NULL;
        /* the group itself counts as read when a member is */
        k->used = true;
        return ei_opt_find(k, path + n + 1);
    }
    return NULL;
}

char *ei_opt_where(const char *file, int line)
{
    /* written by hand: snprintf's code is pages of libc that start-up
       touches for nothing else, and its PATH_MAX buffer a stack page */
    char digits[3 * sizeof(int) + 2];
    size_t d = sizeof(digits);
    unsigned v = line < 0 ? 0u - (unsigned)line : (unsigned)line;
    do
        digits[--d] = (char)('0' + v % 10);
    while ((v /= 10) > 0);
    if (line < 0)
        digits[--d] = '-';
    size_t flen = strlen(file), dlen = sizeof(digits) - d;
    char *w = malloc(flen + 1 + dlen + 1);
    if (w == NULL)
        return NULL;
    memcpy(w, file, flen);
    w[flen] = ':';
    memcpy(w + flen + 1, digits + d, dlen);
    w[flen + 1 + dlen] = '\0';
    return w;
}
