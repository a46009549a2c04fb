/* SPDX-License-Identifier: MIT */
/* Checks libconfig text before libconfig reads it (see cfgscan.h). */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cfgscan.h"
#include "parse_error.h"

/* The locator when the caller gave no name. */
#define CS_NO_NAME "config"
/* ':' and the digits of the largest unsigned line number. */
#define CS_LINE_LEN 12
/* The longest integer literal converted; any longer one is out of range
   (a sign, 20 digits or "0x" and 16 hex digits fit with room to spare). */
#define CS_NUM_MAX 64
/* The directive libconfig 1.5 acts on at the start of a line, after
   blanks: ^[ \t]*@include[ \t]+" (its scanner.l). */
#define CS_INCLUDE "@include"

/*
 * The token classes below follow libconfig's scanner: names are
 * [A-Za-z*][-A-Za-z0-9_*]*, integers [-+]?[0-9]+ or 0[Xx][0-9A-Fa-f]+ with
 * an optional L or LL, comments #, // and slash-star, strings in double
 * quotes with backslash escapes, and '=' or ':' after every setting name.
 * Only what could hide an integer, a '=' or an escape is told apart; the
 * grammar stays libconfig's to judge.
 */
/* What the top text and every file it includes share. */
struct cs_shared {
    const struct ei_cfgscan_includes *inc;
    size_t settings;
    size_t includes;
    size_t included_len;
};

/* Where an array began, to scan it again when an integer in it turns out
   to need an L (libconfig wants one type in an array). */
struct cs_array {
    bool open;
    bool force_wide; /* the second pass: every integer gets an L */
    bool wide, narrow;
    size_t i, o, settings;
};

struct cs_scan {
    const char *buf;
    size_t len;
    size_t i;    /* the scan's position */
    size_t done; /* buf[0..done) is in out[0..o) */
    char *out;   /* NULL for an included file: only checked */
    size_t o;
    size_t cap;
    unsigned depth; /* 0: the top text */
    struct cs_shared *shared;
    struct cs_array arr;
    const char *file;
    struct ei_error *err;
};

static enum ei_status cs_text(const char *buf, size_t len, const char *file,
                              unsigned depth, struct cs_shared *shared,
                              char **out, size_t *out_len,
                              struct ei_error *err);

static bool cs_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool cs_is_hex(char c)
{
    return cs_is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool cs_is_name_head(char c)
{
    /* a letter: bit 0x20 folds the case, and the subtraction wraps below
       'a' */
    return (unsigned char)((c | 0x20) - 'a') < 26 || c == '*';
}

static bool cs_is_name_char(char c)
{
    return cs_is_name_head(c) || (unsigned char)(c - '0') < 10 || c == '-' ||
           c == '_';
}

/* Whether c starts no token: cs_run passes a run of them over at once. */
static bool cs_is_plain(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '{' ||
           c == '}' || c == ';' || c == ',' || c == '(' || c == ')';
}

/* The line of s->i, counted only for an error. */
static unsigned cs_line(const struct cs_scan *s)
{
    unsigned line = 1;
    for (size_t j = 0; j < s->i; j++)
        line += s->buf[j] == '\n';
    return line;
}

static enum ei_status cs_error(const struct cs_scan *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static enum ei_status cs_error(const struct cs_scan *s, const char *fmt, ...)
{
    char loc[EI_ERR_LOCATOR_LEN];
    char text[EI_ERR_TEXT_LEN];
    snprintf(loc, sizeof loc, "%.*s:%u", (int)(sizeof loc - CS_LINE_LEN),
             s->file, cs_line(s));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    return ei_parse_error(s->err, EI_BADDATA, loc, "%s", text);
}

/* Pass buf[i..end) on unchanged: cs_flush copies it with the text
   before it, in one memcpy, when the output is to differ after it. */
static void cs_copy(struct cs_scan *s, size_t end)
{
    s->i = end;
}

/* Bring the output up to the scan's position. */
static void cs_flush(struct cs_scan *s)
{
    if (s->out != NULL && s->i > s->done) {
        memcpy(s->out + s->o, s->buf + s->done, s->i - s->done);
        s->o += s->i - s->done;
    }
    s->done = s->i;
}

/* The position of the first c in buf[from..len), or len. */
static size_t cs_find(const struct cs_scan *s, size_t from, char c)
{
    const char *p = memchr(s->buf + from, c, s->len - from);
    return p != NULL ? (size_t)(p - s->buf) : s->len;
}

static void cs_comment(struct cs_scan *s)
{
    size_t end;
    if (s->buf[s->i] == '/' && s->buf[s->i + 1] == '*') {
        end = s->i + 2;
        while (end < s->len && !(s->buf[end] == '*' && end + 1 < s->len &&
                                 s->buf[end + 1] == '/'))
            end++;
        end = end < s->len ? end + 2 : s->len;
    } else {
        end = cs_find(s, s->i, '\n');
    }
    cs_copy(s, end);
}

static enum ei_status cs_string(struct cs_scan *s)
{
    /* memchr finds the next quote and, before it, each backslash: most
       strings have none, and this costs less than a test of every byte */
    const char *b = s->buf;
    size_t j = s->i + 1;
    size_t end = cs_find(s, j, '"');
    for (;;) {
        const char *bs = memchr(b + j, '\\', end - j);
        if (bs == NULL) {
            j = end;
            break;
        }
        j = (size_t)(bs - b);
        /* "\x00" would end the C string that libconfig keeps: "x\x00y"
           becomes "xy" */
        if (j + 3 < s->len && (s->buf[j + 1] == 'x' || s->buf[j + 1] == 'X') &&
            s->buf[j + 2] == '0' && s->buf[j + 3] == '0') {
            cs_copy(s, j); /* for the line number */
            return cs_error(s, "a string holds \\x00, a NUL byte, which no "
                               "environment value can hold");
        }
        j += j + 1 < s->len ? 2 : 1;
        if (j > end) /* the quote was escaped */
            end = cs_find(s, j, '"');
    }
    cs_copy(s, j < s->len ? j + 1 : s->len);
    return EI_OK;
}

/* Float or integer at s->i; integers are range-checked. */
static enum ei_status cs_number(struct cs_scan *s)
{
    const char *b = s->buf;
    size_t start = s->i, j = start;
    if (b[j] == '+' || b[j] == '-')
        j++;
    bool hex = j == start && b[j] == '0' && j + 2 < s->len &&
               (b[j + 1] == 'x' || b[j + 1] == 'X') && cs_is_hex(b[j + 2]);
    size_t digits = hex ? j + 2 : j;
    size_t k = digits;
    while (k < s->len && (hex ? cs_is_hex(b[k]) : cs_is_digit(b[k])))
        k++;
    if (!hex && (k == digits ||
                 (k < s->len && (b[k] == '.' || b[k] == 'e' || b[k] == 'E')))) {
        /* a float: libconfig judges it, and cfgflat refuses infinity */
        while (k < s->len && (cs_is_digit(b[k]) || b[k] == '.'))
            k++;
        if (k < s->len && (b[k] == 'e' || b[k] == 'E')) {
            k++;
            if (k < s->len && (b[k] == '+' || b[k] == '-'))
                k++;
            while (k < s->len && cs_is_digit(b[k]))
                k++;
        }
        cs_copy(s, k);
        return EI_OK;
    }
    size_t end = k;
    while (end < s->len && end - k < 2 && b[end] == 'L')
        end++;
    bool wide = end > k;

    /* leading zeros change nothing (libconfig reads 0010 as 10) */
    size_t sig = digits;
    while (sig + 1 < k && b[sig] == '0')
        sig++;
    char num[CS_NUM_MAX + 1];
    size_t head = digits - start, num_len = head + (k - sig);
    bool in_range = num_len <= CS_NUM_MAX;
    bool fits_int = false;
    if (in_range) {
        memcpy(num, b + start, head);
        memcpy(num + head, b + sig, k - sig);
        num[num_len] = '\0';
        errno = 0;
        if (hex) {
            unsigned long long v = strtoull(num + 2, NULL, 16);
            in_range = errno == 0 && v <= (unsigned long long)INT64_MAX;
            fits_int = v <= (unsigned long long)INT_MAX;
        } else {
            long long v = strtoll(num, NULL, 10);
            in_range = errno == 0;
            fits_int = v >= INT_MIN && v <= INT_MAX;
        }
        /* a number in a defaults file may be a PIN */
        sodium_memzero(num, sizeof num);
    }
    if (!in_range)
        return cs_error(s,
                        "an integer of %zu characters is out of the "
                        "64-bit range",
                        k - start);
    bool add_l = !wide && (!fits_int || (s->arr.open && s->arr.force_wide));
    if (s->arr.open) {
        s->arr.wide |= wide || add_l;
        s->arr.narrow |= !wide && !add_l;
    }
    if (add_l && s->out == NULL)
        return cs_error(s, "an integer outside the 32-bit range needs the L "
                           "suffix in an included file, which libconfig "
                           "reads itself");
    cs_copy(s, end);
    if (add_l) {
        cs_flush(s);
        if (s->o >= s->cap)
            return cs_error(s, "too many integers wider than 32 bits");
        s->out[s->o++] = 'L';
    }
    return EI_OK;
}

/*
 * '[' or ']' at s->i.  An array whose integers are of both widths is read
 * again from its '[' with an L on every integer: libconfig refuses
 * [2147483648L, 1] as "mismatched element type in array".  Arrays do not
 * nest in libconfig, so one saved position is enough.
 */
static enum ei_status cs_bracket(struct cs_scan *s)
{
    struct cs_array *a = &s->arr;
    if (s->buf[s->i] == '[') {
        if (!a->open) {
            bool force = a->force_wide;
            cs_flush(s);
            *a = (struct cs_array){.open = true,
                                   .force_wide = force,
                                   .i = s->i,
                                   .o = s->o,
                                   .settings = s->shared->settings};
        }
    } else if (a->open) {
        if (a->wide && a->narrow && !a->force_wide) {
            if (s->out == NULL)
                return cs_error(s, "an array mixes integers with and without "
                                   "the L suffix in an included file, which "
                                   "libconfig reads itself: give every one "
                                   "an L");
            s->i = a->i;
            s->done = a->i;
            s->o = a->o;
            s->shared->settings = a->settings;
            *a = (struct cs_array){.force_wide = true};
            return EI_OK;
        }
        *a = (struct cs_array){0};
    }
    cs_copy(s, s->i + 1);
    return EI_OK;
}

static bool cs_is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Whether an @include directive starts at s->i: only blanks before it on
   its line, blanks and a '"' after the keyword. */
static bool cs_at_include(const struct cs_scan *s, size_t *name_start)
{
    const size_t kw_len = sizeof(CS_INCLUDE) - 1;
    if (s->len - s->i < kw_len ||
        memcmp(s->buf + s->i, CS_INCLUDE, kw_len) != 0)
        return false;
    for (size_t j = s->i; j > 0 && s->buf[j - 1] != '\n'; j--)
        if (!cs_is_blank(s->buf[j - 1]))
            return false;
    size_t j = s->i + kw_len;
    if (j >= s->len || !cs_is_blank(s->buf[j]))
        return false;
    while (j < s->len && cs_is_blank(s->buf[j]))
        j++;
    if (j >= s->len || s->buf[j] != '"')
        return false;
    *name_start = j + 1;
    return true;
}

/*
 * The @include at s->i: the name as libconfig 1.5 takes it (\\ and \"
 * are the only escapes), resolved as libconfig will open it, then read
 * and checked like the top text.  An unterminated name is left to
 * libconfig's parser.
 */
static enum ei_status cs_include(struct cs_scan *s, size_t name_start)
{
    const struct ei_cfgscan_includes *inc = s->shared->inc;
    char name[PATH_MAX];
    size_t n = 0, j = name_start;
    bool too_long = false;
    while (j < s->len && s->buf[j] != '"') {
        char c = s->buf[j];
        if (c == '\\' && j + 1 < s->len &&
            (s->buf[j + 1] == '\\' || s->buf[j + 1] == '"'))
            c = s->buf[++j];
        if (n + 1 < sizeof name)
            name[n++] = c;
        else
            too_long = true;
        j++;
    }
    name[n] = '\0';
    if (j >= s->len) {
        cs_copy(s, s->len);
        return EI_OK;
    }
    if (s->depth >= EI_CFGSCAN_MAX_DEPTH)
        return cs_error(s, CS_INCLUDE " nested more than %d levels deep",
                        EI_CFGSCAN_MAX_DEPTH);
    if (++s->shared->includes > EI_CFGSCAN_MAX_INCLUDES)
        return cs_error(s, "more than %d " CS_INCLUDE " directives",
                        EI_CFGSCAN_MAX_INCLUDES);
    char path[PATH_MAX];
    int w;
    if (inc->dir == NULL || (name[0] == '/' && !inc->absolute_in_dir))
        w = snprintf(path, sizeof path, "%s", name);
    else
        w = snprintf(path, sizeof path, "%s/%s", inc->dir, name);
    if (too_long || w < 0 || (size_t)w >= sizeof path)
        return cs_error(s, CS_INCLUDE " names a path longer than %d bytes",
                        PATH_MAX - 1);

    struct ei_buf buf = {0};
    struct ei_error rerr = {0};
    enum ei_status st = inc->read(inc->ctx, path, &buf, &rerr);
    if (st == EI_NOTFOUND) {
        /* libconfig says "cannot open include file" at this line */
        st = EI_OK;
    } else if (st != EI_OK) {
        /* an error recorded before this one wins */
        if (s->err != NULL && s->err->status == EI_OK)
            *s->err = rerr;
    } else {
        s->shared->included_len += buf.len;
        if (s->shared->included_len > inc->max_len)
            st = ei_parse_error(s->err, EI_BADDATA, path,
                                "the included files hold more than %zu "
                                "bytes together",
                                inc->max_len);
        else
            st = cs_text(buf.data, buf.len, path, s->depth + 1, s->shared, NULL,
                         NULL, s->err);
        inc->release(inc->ctx, &buf);
    }
    if (st != EI_OK)
        return st;
    cs_copy(s, j + 1);
    return EI_OK;
}

static enum ei_status cs_run(struct cs_scan *s)
{
    const char *b = s->buf;
    for (;;) {
        /* most tokens have blanks or punctuation between them: passed
           over here, before any other test */
        size_t plain = s->i;
        while (plain < s->len && cs_is_plain(b[plain]))
            plain++;
        cs_copy(s, plain);
        if (s->i >= s->len)
            break;
        char c = b[s->i];
        enum ei_status st = EI_OK;
        if (cs_is_name_head(c)) {
            size_t end = s->i + 1;
            while (end < s->len && cs_is_name_char(b[end]))
                end++;
            cs_copy(s, end);
            continue;
        }
        char next = s->i + 1 < s->len ? b[s->i + 1] : '\0';
        size_t name_start = 0;
        if (c == '#' || (c == '/' && (next == '/' || next == '*'))) {
            cs_comment(s);
        } else if (c == '"') {
            st = cs_string(s);
        } else if (c == '=' || c == ':') {
            if (++s->shared->settings > EI_CFGSCAN_MAX_SETTINGS)
                return cs_error(s,
                                "more than %d settings, which libconfig "
                                "reads in quadratic time: use JSON or "
                                "dotenv for a file this large",
                                EI_CFGSCAN_MAX_SETTINGS);
            cs_copy(s, s->i + 1);
        } else if (cs_is_digit(c) || c == '.' ||
                   ((c == '+' || c == '-') &&
                    (cs_is_digit(next) || next == '.'))) {
            st = cs_number(s);
        } else if (c == '[' || c == ']') {
            st = cs_bracket(s);
        } else if (c == '@' && s->shared->inc != NULL &&
                   cs_at_include(s, &name_start)) {
            st = cs_include(s, name_start);
        } else {
            cs_copy(s, s->i + 1); /* libconfig judges it */
        }
        if (st != EI_OK)
            return st;
    }
    return EI_OK;
}

/* Scan one text: the top one into *out (out NULL: an included file,
   only checked). */
static enum ei_status cs_text(const char *buf, size_t len, const char *file,
                              unsigned depth, struct cs_shared *shared,
                              char **out, size_t *out_len, struct ei_error *err)
{
    struct cs_scan s = {.buf = buf,
                        .len = len,
                        .depth = depth,
                        .shared = shared,
                        .file = file,
                        .err = err};
    if (buf == NULL && len > 0)
        return ei_parse_error(err, EI_INTERNAL, s.file,
                              "bad arguments to the check");
    /* a NUL anywhere, a string included, would end libconfig's text */
    const char *nul = buf != NULL ? memchr(buf, '\0', len) : NULL;
    if (nul != NULL) {
        s.i = (size_t)(nul - buf);
        return cs_error(&s, "text holds a NUL byte");
    }
    if (out == NULL)
        return cs_run(&s);
    /* an added L follows an integer and at least one more character (a
       separator or ']'): one in an array, where every integer may get
       one; elsewhere only after ten characters or more */
    if (len > (SIZE_MAX - 2) / 2)
        return ei_parse_error(err, EI_NOMEM, s.file, "out of memory");
    s.cap = len + len / 2 + 1;
    s.out = malloc(s.cap + 1);
    if (s.out == NULL)
        return ei_parse_error(err, EI_NOMEM, s.file, "out of memory");
    enum ei_status st = cs_run(&s);
    if (st != EI_OK) {
        ei_cfgscan_free(s.out, s.cap);
        return st;
    }
    cs_flush(&s);
    s.out[s.o] = '\0';
    *out = s.out;
    *out_len = s.o;
    return EI_OK;
}

enum ei_status ei_cfgscan_with_includes(const char *buf, size_t len,
                                        const char *file,
                                        const struct ei_cfgscan_includes *inc,
                                        char **out, size_t *out_len,
                                        struct ei_error *err)
{
    *out = NULL;
    *out_len = 0;
    struct cs_shared shared = {.inc = inc};
    return cs_text(buf, len, file != NULL ? file : CS_NO_NAME, 0, &shared, out,
                   out_len, err);
}

enum ei_status ei_cfgscan(const char *buf, size_t len, const char *file,
                          char **out, size_t *out_len, struct ei_error *err)
{
    return ei_cfgscan_with_includes(buf, len, file, NULL, out, out_len, err);
}

void ei_cfgscan_free_plain(char *text)
{
    free(text);
}

void ei_cfgscan_free(char *text, size_t len)
{
    if (text == NULL)
        return;
    sodium_memzero(text, len + 1);
    free(text);
}
