/* SPDX-License-Identifier: MIT */
/* The option tree: look-up by dotted path, and the place of an option. */
#include <limits.h>
#include <stdio.h>
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
    const char *dot = strchr(path, '.');
    size_t seg = dot != NULL ? (size_t)(dot - path) : strlen(path);
    if (group->type != EI_OPT_GROUP)
        return NULL;
    for (size_t i = 0; i < group->kids_n; i++) {
        struct ei_opt *k = &group->kids[i];
        if (k->name != NULL && strlen(k->name) == seg &&
            memcmp(k->name, path, seg) == 0) {
            if (dot == NULL)
                return k;
            if (k->type != EI_OPT_GROUP)
                return NULL;
            /* the group itself counts as read when a member is */
            k->used = true;
            return ei_opt_find(k, dot + 1);
        }
    }
    return NULL;
}

char *ei_opt_where(const char *file, int line)
{
    char buf[PATH_MAX + 32];
    snprintf(buf, sizeof(buf), "%s:%d", file, line);
    return strdup(buf);
}
