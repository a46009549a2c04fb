/* SPDX-License-Identifier: MIT */
#include "expand.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

void expand_put(struct expand_buf *b, const void *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        assert_non_null(p);
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

char *expand(const char *tpl, const struct expand_rule *rules, size_t n)
{
    if (tpl == NULL)
        return NULL;
    struct expand_buf b = {0};
    expand_put(&b, "", 0);
    for (const char *p = tpl; *p != '\0';) {
        const struct expand_rule *r = NULL;
        for (size_t i = 0; i < n && r == NULL; i++)
            if (strncmp(p, rules[i].open, strlen(rules[i].open)) == 0)
                r = &rules[i];
        if (r == NULL) {
            expand_put(&b, p++, 1);
            continue;
        }
        p += strlen(r->open);
        if (r->close == NULL) {
            expand_put(&b, r->sub, strlen(r->sub));
            continue;
        }
        const char *end = strstr(p, r->close);
        assert_non_null(end);
        r->fn(&b, p, (size_t)(end - p), r->ctx);
        p = end + strlen(r->close);
    }
    return b.p;
}

char *expand_dir(const char *tpl, const char *dir)
{
    const struct expand_rule rule = {.open = "%D", .sub = dir};
    return expand(tpl, &rule, 1);
}

char **expand_dir_list(const char *const *list, size_t n, const char *dir)
{
    char **out = calloc(n + 1, sizeof *out);
    assert_non_null(out);
    for (size_t i = 0; i < n && list[i] != NULL; i++)
        out[i] = expand_dir(list[i], dir);
    return out;
}

void expand_list_free(char **list)
{
    for (size_t i = 0; list[i] != NULL; i++)
        free(list[i]);
    free(list);
}

void expand_to(char *out, size_t len, const char *tpl,
               const struct expand_rule *rules, size_t n)
{
    char *s = expand(tpl, rules, n);
    assert_true(strlen(s) < len);
    memcpy(out, s, strlen(s) + 1);
    free(s);
}
