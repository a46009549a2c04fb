/* SPDX-License-Identifier: MIT */
/* A one-pass JSON scanner for latest-all documents: the document becomes a
   flat array of tokens (a tape) that the evaluator compiles from, instead
   of a jansson tree of some 200,000 allocations that it would read once
   and free. */
#ifndef EI_LD_SCAN_H
#define EI_LD_SCAN_H

#include <stddef.h>
#include <stdint.h>

/* jansson's JSON_PARSER_MAX_DEPTH: a value nested deeper is an error */
#define LD_SCAN_DEPTH_MAX 2048

enum ld_tok_type {
    LD_TOK_NULL,
    LD_TOK_FALSE,
    LD_TOK_TRUE,
    LD_TOK_NUM,
    LD_TOK_STR,
    LD_TOK_ARR,
    LD_TOK_OBJ
};

/*
 * One value.  An array's elements follow it, each one's next leading to
 * the one after; an object's members follow it as a name (a string
 * token) then its value.
 */
struct ld_tok {
    unsigned char type;
    uint32_t next; /* the index of the token after this value */
    union {
        struct {
            uint32_t off; /* STR: the decoded text in the scanner's buffer;
                             ARR, OBJ, literals: the value in the text */
            uint32_t len; /* STR: bytes of the decoded text; ARR, OBJ:
                             bytes of the value in the text */
        };
        double num; /* NUM: the number as strtod reads it */
    };
};

struct ld_scan {
    char *buf; /* the text, with every string decoded in place and ended
                  by a NUL */
    size_t buf_len;
    struct ld_tok *tok;
    size_t n;
    size_t cap;
};

/*
 * Scan len bytes of text (a JSON object at the top, blanks around it).
 * Accepts exactly what json_loadb(JSON_DECODE_INT_AS_REAL) accepts with an
 * object at the top, and reads every value as it does: strings decoded
 * from escapes and checked as UTF-8 (no NUL), numbers as doubles.  Returns
 * 1 with *s filled (the caller frees it with ld_scan_free), 0 when the text
 * is not such a document (the caller asks jansson for the reason), -1 when
 * memory ran out.  After 0 or -1, *s holds nothing to free.
 */
int ld_scan(const char *text, size_t len, struct ld_scan *s);

/* Wipe the text s holds (a layer's flags may be secret), free it all. */
void ld_scan_free(struct ld_scan *s);

/* The value of the last member called name of the object at obj, or 0
   (never an object's index) when it has none.  As jansson, whose parse
   keeps the last of repeated names. */
uint32_t ld_scan_member(const struct ld_scan *s, uint32_t obj,
                        const char *name);

#endif
