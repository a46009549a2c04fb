/* SPDX-License-Identifier: MIT */
/* The option tree: what a layer's options and the schema group of
   envinject.conf become once read, whatever the syntax they came in. */
#ifndef EI_OPT_H
#define EI_OPT_H

#include <stdbool.h>
#include <stddef.h>

enum ei_opt_type {
    EI_OPT_STRING = 0,
    EI_OPT_INT,
    EI_OPT_FLOAT,
    EI_OPT_BOOL,
    EI_OPT_LIST, /* list or array */
    EI_OPT_GROUP
};

/* One option; lists and groups have children. */
struct ei_opt {
    char *name; /* NULL for list elements */
    enum ei_opt_type type;
    char *str; /* string value, and the text of every scalar */
    long long num;
    bool b;
    struct ei_opt *kids;
    size_t kids_n;
    int line;                /* in the configuration file, 0 for --layer */
    bool used;               /* read by the core or the provider */
    const char **list_cache; /* NULL-terminated view for opt_list */
};

/* Free what o holds (its children too) and zero it. */
void ei_opt_clear(struct ei_opt *o);

/* Find an option by dotted path ("auth.method"); NULL if absent.  The
   groups on the way count as read. */
struct ei_opt *ei_opt_find(struct ei_opt *group, const char *path);

/*
 * "FILE:LINE" as the configuration's messages and origins write a place,
 * newly allocated (the caller frees it), or NULL when out of memory.
 */
char *ei_opt_where(const char *file, int line);

#endif
