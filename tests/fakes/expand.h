/* SPDX-License-Identifier: MIT */
/* The template expansion of the unit tests' case tables: placeholders
   such as "%D" or "@ROOT@" stand for a scratch folder known only at run
   time, and bracketed text such as "@{TEXT}" for something made from TEXT
   (a sealed token, a base64 encoding). */
#ifndef EI_TESTS_EXPAND_H
#define EI_TESTS_EXPAND_H

#include <stddef.h>

/* A growing, always NUL-terminated text. */
struct expand_buf {
    char *p;
    size_t len, cap;
};

/* Append n bytes; the calling test fails when memory runs out. */
void expand_put(struct expand_buf *b, const void *s, size_t n);

/*
 * One rule: open alone stands for the text sub; with close set,
 * open TEXT close becomes what fn appends to out for TEXT (len bytes).
 * The first rule whose open matches at a position wins.
 */
struct expand_rule {
    const char *open;
    const char *sub;
    const char *close;
    void (*fn)(struct expand_buf *out, const char *text, size_t len, void *ctx);
    void *ctx;
};

/* tpl with every rule applied, left to right; malloc'd, NULL for NULL. */
char *expand(const char *tpl, const struct expand_rule *rules, size_t n);

/* Shorthand for the common case: every "%D" replaced by dir. */
char *expand_dir(const char *tpl, const char *dir);

/* The n first strings of list (fewer when a NULL ends it) through
   expand_dir, in a NULL-terminated array; free with expand_list_free. */
char **expand_dir_list(const char *const *list, size_t n, const char *dir);
void expand_list_free(char **list);

/* expand() into a caller's buffer; the test fails rather than truncate. */
void expand_to(char *out, size_t len, const char *tpl,
               const struct expand_rule *rules, size_t n);

#endif
