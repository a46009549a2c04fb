/* SPDX-License-Identifier: MIT */
/* The output buffer of print, explain, check and diff. */
#ifndef EI_OBUF_H
#define EI_OBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "envinject/provider.h"

/*
 * Output is built in memory and written only when complete, so that an
 * error half-way prints nothing.  The buffer is a chain of blocks: growing
 * it never copies, so it never holds more than the output plus one block
 * (a doubling buffer would hold up to three times the output while it
 * grows).  Not open_memstream: its reallocations would leave copies of
 * revealed secrets in freed memory, whereas every block is wiped.
 */
struct ob_block {
    struct ob_block *next;
    size_t len;
    size_t cap;
    char data[];
};

struct obuf {
    struct ob_block *head;
    struct ob_block *tail;
    bool failed;
};

/* Room for more contiguous bytes at the end of the last block; false (and
   b->failed) when memory runs out. */
bool ob_reserve(struct obuf *b, size_t more);
void ob_put(struct obuf *b, const char *s, size_t n);
void ob_puts(struct obuf *b, const char *s);
void ob_putc(struct obuf *b, char c);
void ob_pad(struct obuf *b, size_t n);
void ob_printf(struct obuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Wipe and free every block. */
void ob_free(struct obuf *b);
/* Write the finished buffer to out, then wipe it: it may hold revealed
   values.  -1 with err when memory ran out or the write failed. */
int ob_finish(struct obuf *b, FILE *out, struct ei_error *err);
/* Dump j (indented, in order) and a newline into b, then drop j. */
int ob_json(struct obuf *b, json_t *j);

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if the
   bytes there are not one. */
size_t ei_utf8_seq(const unsigned char *s, size_t n);

#endif
