/* SPDX-License-Identifier: MIT */
/* The output buffer of print, explain, check and diff. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "diag.h"
#include "obuf.h"

#define OBUF_FIRST_BLOCK 4096
#define OBUF_BLOCK       (64 * 1024)

/* Room for more contiguous bytes at the end of the last block. */
bool ob_reserve(struct obuf *b, size_t more)
{
    if (b->failed)
        return false;
    struct ob_block *t = b->tail;
    if (t != NULL && more <= t->cap - t->len)
        return true;
    size_t cap = t == NULL ? OBUF_FIRST_BLOCK : OBUF_BLOCK;
    if (cap < more)
        cap = more;
    if (cap > SIZE_MAX - sizeof(*t)) {
        b->failed = true;
        return false;
    }
    t = malloc(sizeof(*t) + cap);
    if (t == NULL) {
        b->failed = true;
        return false;
    }
    t->next = NULL;
    t->len = 0;
    t->cap = cap;
    if (b->tail != NULL)
        b->tail->next = t;
    else
        b->head = t;
    b->tail = t;
    return true;
}

void ob_put(struct obuf *b, const char *s, size_t n)
{
    if (n == 0 || !ob_reserve(b, n))
        return;
    memcpy(b->tail->data + b->tail->len, s, n);
    b->tail->len += n;
}

void ob_puts(struct obuf *b, const char *s)
{
    ob_put(b, s, strlen(s));
}

void ob_putc(struct obuf *b, char c)
{
    ob_put(b, &c, 1);
}

void ob_pad(struct obuf *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ob_putc(b, ' ');
}

void ob_printf(struct obuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if (!ob_reserve(b, (size_t)n + 1))
        return;
    va_start(ap, fmt);
    vsnprintf(b->tail->data + b->tail->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->tail->len += (size_t)n;
}

void ob_free(struct obuf *b)
{
    struct ob_block *t = b->head;
    while (t != NULL) {
        struct ob_block *next = t->next;
        sodium_memzero(t->data, t->cap);
        free(t);
        t = next;
    }
    memset(b, 0, sizeof(*b));
}

/* Write the finished buffer, then wipe it: it may hold revealed values. */
int ob_finish(struct obuf *b, FILE *out, struct ei_error *err)
{
    if (b->failed) {
        ob_free(b);
        ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL,
                     "out of memory building the output");
        return -1;
    }
    bool ok = true;
    for (const struct ob_block *t = b->head; ok && t != NULL; t = t->next)
        ok = t->len == 0 || fwrite(t->data, 1, t->len, out) == t->len;
    int rc = 0;
    if (!ok || fflush(out) != 0) {
        ei_error_set(err, EI_OSERR, errno, NULL, NULL,
                     "cannot write the output");
        rc = -1;
    }
    ob_free(b);
    return rc;
}

static int ob_json_cb(const char *s, size_t n, void *data)
{
    struct obuf *b = data;
    ob_put(b, s, n);
    return b->failed ? -1 : 0;
}

/* Dump j into b, then drop it.  The jansson allocator that main installs
   wipes the strings it frees, revealed values included. */
int ob_json(struct obuf *b, json_t *j)
{
    int rc = json_dump_callback(j, ob_json_cb, b,
                                JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (rc != 0) {
        b->failed = true;
        return -1;
    }
    ob_putc(b, '\n');
    return 0;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if the
   bytes there are not one. */
size_t ei_utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

