/* SPDX-License-Identifier: MIT */
/* The latest-all document's JSON read in one pass into a tape of tokens,
   taking and refusing exactly what jansson does (load.c of jansson 2.14:
   its lexer's strings, escapes, UTF-8 checks, numbers and depth limit). */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/urlpath.h"
#include "scan.h"

#define LS_OK      1
#define LS_DECLINE 0
#define LS_NOMEM   (-1)

/* tokens of the first allocation: one for every LS_TOK_BYTES bytes of
   text (the bench's 2 MB document has 312,000, one in 6.5 bytes), so
   that the tape rarely grows */
#define LS_TOK_FIRST 64
#define LS_TOK_BYTES 6
/* an integer of up to 15 digits is below 2^53: a double exactly */
#define LS_EXACT_DIGITS 15
/* uint32_t offsets */
#define LS_TEXT_MAX UINT32_MAX

/* byte classes */
#define LS_PLAIN 1 /* a byte that stands for itself in a string */
#define LS_WS    2 /* the blanks of JSON, and the only ones jansson skips */

/* Bytes 0x80 and up are in no class: ls_utf8 reads them. */
static const unsigned char ls_class[256] =
    {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 0, 0, 2, 0, 0, /* \t \n \r */
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* control bytes */
        3, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* ' ' and '"' */
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* '\\' */
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

struct ls_state {
    const unsigned char *p;
    const unsigned char *end;
    unsigned char *buf; /* the copy the strings are decoded into */
    const unsigned char *text;
    struct ld_scan *s;
};

static void ls_ws(struct ls_state *st)
{
    while (st->p < st->end && (ls_class[*st->p] & LS_WS) != 0)
        st->p++;
}

static int ls_grow(struct ld_scan *s)
{
    size_t cap = s->cap * 2;
    if (cap > UINT32_MAX || cap > SIZE_MAX / sizeof(*s->tok))
        return LS_NOMEM;
    /* not realloc: the old block holds numbers, which may be secret
       values, and must be wiped before it goes back */
    struct ld_tok *t = malloc(cap * sizeof(*t));
    if (t == NULL)
        return LS_NOMEM;
    memcpy(t, s->tok, s->n * sizeof(*t));
    explicit_bzero(s->tok, s->cap * sizeof(*s->tok));
    free(s->tok);
    s->tok = t;
    s->cap = cap;
    return LS_OK;
}

static int ls_push(struct ls_state *st, unsigned char type, const void *at,
                   uint32_t *index)
{
    struct ld_scan *s = st->s;
    if (s->n == s->cap && ls_grow(s) != LS_OK)
        return LS_NOMEM;
    struct ld_tok *t = &s->tok[s->n];
    t->type = type;
    t->off = (uint32_t)((const unsigned char *)at - st->text);
    t->len = 0;
    *index = (uint32_t)s->n++;
    t->next = (uint32_t)s->n;
    return LS_OK;
}

/* \uXXXX at p (after the backslash and 'u'): the code unit, or -1. */
static long ls_u4(const unsigned char *p, const unsigned char *end)
{
    if (end - p < 4)
        return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = ei_hex_digit(p[i]);
        if (h < 0)
            return -1;
        v = v << 4 | h;
    }
    return v;
}

/* The length of the UTF-8 sequence at p as jansson's utf8_check_full
   takes it (no overlong form, no surrogate, at most U+10FFFF), or 0. */
static size_t ls_utf8(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0];
    size_t n;
    uint32_t v;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        v = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        v = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        v = c & 0x07;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (p[i] & 0x3f);
    }
    if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000) || v > 0x10ffff ||
        (v >= 0xd800 && v <= 0xdfff))
        return 0;
    return n;
}

static unsigned char *ls_put_utf8(unsigned char *w, uint32_t v)
{
    if (v < 0x80) {
        *w++ = (unsigned char)v;
    } else if (v < 0x800) {
        *w++ = (unsigned char)(0xc0 | v >> 6);
        *w++ = (unsigned char)(0x80 | (v & 0x3f));
    } else if (v < 0x10000) {
        *w++ = (unsigned char)(0xe0 | v >> 12);
        *w++ = (unsigned char)(0x80 | (v >> 6 & 0x3f));
        *w++ = (unsigned char)(0x80 | (v & 0x3f));
    } else {
        *w++ = (unsigned char)(0xf0 | v >> 18);
        *w++ = (unsigned char)(0x80 | (v >> 12 & 0x3f));
        *w++ = (unsigned char)(0x80 | (v >> 6 & 0x3f));
        *w++ = (unsigned char)(0x80 | (v & 0x3f));
    }
    return w;
}

/*
 * A string at the opening quote, decoded into the buffer where its text
 * was (never longer than it) and ended by a NUL where its closing quote
 * or an earlier byte was.
 */
static int ls_string(struct ls_state *st)
{
    const unsigned char *p = st->p + 1;
    const unsigned char *end = st->end;
    uint32_t index;
    if (ls_push(st, LD_TOK_STR, p, &index) != LS_OK)
        return LS_NOMEM;
    /* most strings have nothing to decode: no copy for those */
    while (end - p >= 4 && (ls_class[p[0]] & ls_class[p[1]] & ls_class[p[2]] &
                            ls_class[p[3]] & LS_PLAIN) != 0)
        p += 4;
    while (p < end && (ls_class[*p] & LS_PLAIN) != 0)
        p++;
    unsigned char *w = st->buf + (p - st->text);
    while (p < end && *p != '"') {
        unsigned char c = *p;
        if ((ls_class[c] & LS_PLAIN) != 0) {
            *w++ = c;
            p++;
        } else if (c >= 0x80) {
            size_t n = ls_utf8(p, end);
            if (n == 0)
                return LS_DECLINE;
            memmove(w, p, n);
            w += n;
            p += n;
        } else if (c != '\\' || end - p < 2) {
            return LS_DECLINE; /* a control byte */
        } else {
            static const char from[] = "\"\\/bfnrt";
            static const char to[] = "\"\\/\b\f\n\r\t";
            const char *e = p[1] != '\0' ? strchr(from, p[1]) : NULL;
            if (e != NULL) {
                *w++ = (unsigned char)to[e - from];
                p += 2;
                continue;
            }
            if (p[1] != 'u')
                return LS_DECLINE;
            long v = ls_u4(p + 2, end);
            if (v < 0)
                return LS_DECLINE;
            p += 6;
            if (v >= 0xd800 && v <= 0xdbff) {
                long lo = end - p >= 2 && p[0] == '\\' && p[1] == 'u'
                              ? ls_u4(p + 2, end)
                              : -1;
                if (lo < 0xdc00 || lo > 0xdfff)
                    return LS_DECLINE;
                v = 0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00);
                p += 6;
            } else if (v <= 0 || (v >= 0xdc00 && v <= 0xdfff)) {
                /* -1 a bad escape, 0 a NUL, else a lone low surrogate */
                return LS_DECLINE;
            }
            w = ls_put_utf8(w, (uint32_t)v);
        }
    }
    if (p == end)
        return LS_DECLINE;
    struct ld_tok *t = &st->s->tok[index];
    t->len = (uint32_t)(w - (st->buf + t->off));
    *w = '\0';
    st->p = p + 1;
    return LS_OK;
}

/*
 * After a number or a literal: jansson's lexer reads the byte after one
 * and puts it back, and a NUL put back is taken for the end of its own
 * buffer, so the next read skips it.  One NUL right after a number or a
 * literal is therefore no error to jansson: skipped here too.
 */
static void ls_after_word(struct ls_state *st)
{
    if (st->p < st->end && *st->p == '\0')
        st->p++;
}

static bool ls_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* A number in JSON's grammar, read with strtod as jansson reads one with
   JSON_DECODE_INT_AS_REAL; an overflow is its error too. */
static int ls_number(struct ls_state *st)
{
    const unsigned char *p = st->p;
    const unsigned char *end = st->end;
    if (p < end && *p == '-')
        p++;
    if (p == end || !ls_digit(*p))
        return LS_DECLINE;
    if (*p == '0')
        p++;
    else
        while (p < end && ls_digit(*p))
            p++;
    const unsigned char *int_end = p;
    if (p < end && *p == '.') {
        p++;
        if (p == end || !ls_digit(*p))
            return LS_DECLINE;
        while (p < end && ls_digit(*p))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p == end || !ls_digit(*p))
            return LS_DECLINE;
        while (p < end && ls_digit(*p))
            p++;
    }
    uint32_t index;
    if (ls_push(st, LD_TOK_NUM, st->p, &index) != LS_OK)
        return LS_NOMEM;
    double d;
    bool neg = *st->p == '-';
    if (int_end == p && (size_t)(p - st->p) - neg <= LS_EXACT_DIGITS) {
        /* an integer of up to 15 digits is a double exactly: what strtod
           would round it to, for a tenth of its time */
        const unsigned char *q = st->p + neg;
        uint64_t v = 0;
        while (q < p)
            v = v * 10 + (uint64_t)(*q++ - '0');
        d = neg ? -(double)v : (double)v;
    } else {
        /* the buffer's copy ends with a NUL and holds no string's bytes
           here: strtod stops where the grammar did */
        char *at = (char *)st->buf + (st->p - st->text);
        char *stop = NULL;
        errno = 0;
        d = strtod(at, &stop);
        if (stop != at + (p - st->p) ||
            (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL)))
            return LS_DECLINE;
    }
    st->s->tok[index].num = d;
    st->p = p;
    ls_after_word(st);
    return LS_OK;
}

static int ls_word(struct ls_state *st, const char *word, size_t len,
                   unsigned char type)
{
    if ((size_t)(st->end - st->p) < len || memcmp(st->p, word, len) != 0)
        return LS_DECLINE;
    /* jansson reads letters up to the first other byte as one word */
    if ((size_t)(st->end - st->p) > len) {
        unsigned char c = st->p[len];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
            return LS_DECLINE;
    }
    uint32_t index;
    if (ls_push(st, type, st->p, &index) != LS_OK)
        return LS_NOMEM;
    st->p += len;
    ls_after_word(st);
    return LS_OK;
}

static int ls_scalar(struct ls_state *st)
{
    switch (*st->p) {
    case '"':
        return ls_string(st);
    case 't':
        return ls_word(st, "true", 4, LD_TOK_TRUE);
    case 'f':
        return ls_word(st, "false", 5, LD_TOK_FALSE);
    case 'n':
        return ls_word(st, "null", 4, LD_TOK_NULL);
    default:
        return ls_number(st);
    }
}

/* The document, without recursion: stack holds the open containers. */
static int ls_document(struct ls_state *st)
{
    uint32_t stack[LD_SCAN_DEPTH_MAX];
    size_t depth = 0;
    int r;
    ls_ws(st);
    if (st->p == st->end || *st->p != '{')
        return LS_DECLINE;
    for (;;) {
        /* a value is expected at st->p (after blanks) */
        ls_ws(st);
        if (st->p == st->end)
            return LS_DECLINE;
        unsigned char c = *st->p;
        /* jansson counts the depth of every value, scalars too */
        if (depth + 1 > LD_SCAN_DEPTH_MAX)
            return LS_DECLINE;
        if (c == '{' || c == '[') {
            uint32_t index;
            if (ls_push(st, c == '{' ? LD_TOK_OBJ : LD_TOK_ARR, st->p,
                        &index) != LS_OK)
                return LS_NOMEM;
            stack[depth++] = index;
            st->p++;
            ls_ws(st);
            if (st->p < st->end && *st->p == (c == '{' ? '}' : ']')) {
                st->p++;
                goto close;
            }
            if (c == '[')
                continue;
            goto name;
        }
        r = ls_scalar(st);
        if (r != LS_OK)
            return r;
        /* after a value: ',' and the next, or the container's end */
        for (;;) {
            if (depth == 0)
                return LS_DECLINE; /* a scalar at the top */
            ls_ws(st);
            if (st->p == st->end)
                return LS_DECLINE;
            c = *st->p++;
            struct ld_tok *top = &st->s->tok[stack[depth - 1]];
            if (c == ',') {
                if (top->type == LD_TOK_ARR)
                    break;
                goto name;
            }
            if (c != (top->type == LD_TOK_OBJ ? '}' : ']'))
                return LS_DECLINE;
        close:
            top = &st->s->tok[stack[depth - 1]];
            top->next = (uint32_t)st->s->n;
            top->len = (uint32_t)(st->p - (st->text + top->off));
            if (--depth == 0)
                return LS_OK;
        }
        continue;
    name:
        ls_ws(st);
        if (st->p == st->end || *st->p != '"')
            return LS_DECLINE;
        r = ls_string(st);
        if (r != LS_OK)
            return r;
        ls_ws(st);
        if (st->p == st->end || *st->p != ':')
            return LS_DECLINE;
        st->p++;
    }
}

int ld_scan(const char *text, size_t len, struct ld_scan *s)
{
    memset(s, 0, sizeof(*s));
    if (text == NULL || len >= LS_TEXT_MAX)
        return LS_DECLINE;
    s->buf = malloc(len + 1);
    if (s->buf == NULL)
        return LS_NOMEM;
    s->buf_len = len + 1;
    memcpy(s->buf, text, len);
    s->buf[len] = '\0';
    s->cap = len / LS_TOK_BYTES + LS_TOK_FIRST;
    if (s->cap > UINT32_MAX || s->cap > SIZE_MAX / sizeof(*s->tok)) {
        ld_scan_free(s);
        return LS_NOMEM;
    }
    s->tok = malloc(s->cap * sizeof(*s->tok));
    if (s->tok == NULL) {
        ld_scan_free(s);
        return LS_NOMEM;
    }
    struct ls_state st = {
        .p = (const unsigned char *)text,
        .end = (const unsigned char *)text + len,
        .buf = (unsigned char *)s->buf,
        .text = (const unsigned char *)text,
        .s = s,
    };
    int r = ls_document(&st);
    if (r == LS_OK) {
        /* jansson wants nothing but blanks after the value */
        ls_ws(&st);
        if (st.p != st.end)
            r = LS_DECLINE;
    }
    if (r != LS_OK)
        ld_scan_free(s);
    return r;
}

void ld_scan_free(struct ld_scan *s)
{
    /* the text, and the tokens: a token holds a number of the document,
       which may be a secret flag value */
    if (s->buf != NULL)
        explicit_bzero(s->buf, s->buf_len);
    if (s->tok != NULL)
        explicit_bzero(s->tok, s->cap * sizeof(*s->tok));
    free(s->buf);
    free(s->tok);
    memset(s, 0, sizeof(*s));
}

uint32_t ld_scan_member(const struct ld_scan *s, uint32_t obj, const char *name)
{
    const struct ld_tok *t = s->tok;
    if (t[obj].type != LD_TOK_OBJ)
        return 0;
    uint32_t found = 0;
    for (uint32_t i = obj + 1; i < t[obj].next; i = t[i + 1].next)
        if (strcmp(s->buf + t[i].off, name) == 0)
            found = i + 1;
    return found;
}
