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
/* The shortest literal that needs an L: "2147483648", "0x80000000". */
#define CS_WIDE_MIN 10

/*
 * The token classes below follow libconfig's scanner: names are
 * [A-Za-z*][-A-Za-z0-9_*]*, integers [-+]?[0-9]+ or 0[Xx][0-9A-Fa-f]+ with
 * an optional L or LL, comments #, // and slash-star, strings in double
 * quotes with backslash escapes, and '=' or ':' after every setting name.
 * Only what could hide an integer, a '=' or an escape is told apart; the
 * grammar stays libconfig's to judge.
 */
struct cs_scan {
    const char *buf;
    size_t len;
    size_t i;
    unsigned line;
    char *out;
    size_t o;
    size_t cap;
    size_t settings;
    const char *file;
    struct ei_error *err;
};

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
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '*';
}

static bool cs_is_name_char(char c)
{
    return cs_is_name_head(c) || cs_is_digit(c) || c == '-' || c == '_';
}

static enum ei_status cs_error(const struct cs_scan *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static enum ei_status cs_error(const struct cs_scan *s, const char *fmt, ...)
{
    char loc[EI_ERR_LOCATOR_LEN];
    char text[EI_ERR_TEXT_LEN];
    snprintf(loc, sizeof loc, "%.*s:%u", (int)(sizeof loc - CS_LINE_LEN),
             s->file, s->line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    return ei_parse_error(s->err, EI_BADDATA, loc, "%s", text);
}

/* Copy buf[i..end) to the output, counting lines. */
static void cs_copy(struct cs_scan *s, size_t end)
{
    for (; s->i < end; s->i++) {
        if (s->buf[s->i] == '\n')
            s->line++;
        s->out[s->o++] = s->buf[s->i];
    }
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
        const char *nl = memchr(s->buf + s->i, '\n', s->len - s->i);
        end = nl != NULL ? (size_t)(nl - s->buf) : s->len;
    }
    cs_copy(s, end);
}

static enum ei_status cs_string(struct cs_scan *s)
{
    size_t j = s->i + 1;
    while (j < s->len && s->buf[j] != '"') {
        if (s->buf[j] != '\\') {
            j++;
            continue;
        }
        /* "\x00" would end the C string that libconfig keeps: "x\x00y"
           becomes "xy" */
        if (j + 3 < s->len && (s->buf[j + 1] == 'x' || s->buf[j + 1] == 'X') &&
            s->buf[j + 2] == '0' && s->buf[j + 3] == '0') {
            cs_copy(s, j); /* for the line number */
            return cs_error(s, "a string holds \\x00, a NUL byte, which no "
                               "environment value can hold");
        }
        j += j + 1 < s->len ? 2 : 1;
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

    char num[CS_NUM_MAX + 1];
    bool in_range = k - start <= CS_NUM_MAX;
    bool fits_int = false;
    if (in_range) {
        memcpy(num, b + start, k - start);
        num[k - start] = '\0';
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
    cs_copy(s, end);
    if (!wide && !fits_int) {
        if (s->o >= s->cap)
            return cs_error(s, "too many integers wider than 32 bits");
        s->out[s->o++] = 'L';
    }
    return EI_OK;
}

static enum ei_status cs_run(struct cs_scan *s)
{
    const char *b = s->buf;
    while (s->i < s->len) {
        char c = b[s->i];
        char next = s->i + 1 < s->len ? b[s->i + 1] : '\0';
        enum ei_status st = EI_OK;
        if (c == '#' || (c == '/' && (next == '/' || next == '*'))) {
            cs_comment(s);
        } else if (c == '"') {
            st = cs_string(s);
        } else if (c == '=' || c == ':') {
            if (++s->settings > EI_CFGSCAN_MAX_SETTINGS)
                return cs_error(s,
                                "more than %d settings, which libconfig "
                                "reads in quadratic time: use JSON or "
                                "dotenv for a file this large",
                                EI_CFGSCAN_MAX_SETTINGS);
            cs_copy(s, s->i + 1);
        } else if (cs_is_name_head(c)) {
            size_t end = s->i + 1;
            while (end < s->len && cs_is_name_char(b[end]))
                end++;
            cs_copy(s, end);
        } else if (cs_is_digit(c) || c == '.' ||
                   ((c == '+' || c == '-') &&
                    (cs_is_digit(next) || next == '.'))) {
            st = cs_number(s);
        } else {
            cs_copy(s, s->i + 1);
        }
        if (st != EI_OK)
            return st;
    }
    return EI_OK;
}

enum ei_status ei_cfgscan(const char *buf, size_t len, const char *file,
                          char **out, size_t *out_len, struct ei_error *err)
{
    *out = NULL;
    *out_len = 0;
    struct cs_scan s = {.buf = buf,
                        .len = len,
                        .line = 1,
                        .file = file != NULL ? file : CS_NO_NAME,
                        .err = err};
    if (buf == NULL && len > 0)
        return ei_parse_error(err, EI_INTERNAL, s.file,
                              "bad arguments to the check");
    /* a NUL anywhere, a string included, would end libconfig's text */
    const char *nul = buf != NULL ? memchr(buf, '\0', len) : NULL;
    if (nul != NULL) {
        for (const char *p = buf; p < nul; p++)
            s.line += *p == '\n';
        return cs_error(&s, "text holds a NUL byte");
    }
    /* every added L follows a literal of CS_WIDE_MIN characters or more */
    if (len > (SIZE_MAX - 1) / 2)
        return ei_parse_error(err, EI_NOMEM, s.file, "out of memory");
    s.cap = len + len / CS_WIDE_MIN + 1;
    s.out = malloc(s.cap + 1);
    if (s.out == NULL)
        return ei_parse_error(err, EI_NOMEM, s.file, "out of memory");
    enum ei_status st = cs_run(&s);
    if (st != EI_OK) {
        ei_cfgscan_free(s.out, s.o);
        return st;
    }
    s.out[s.o] = '\0';
    *out = s.out;
    *out_len = s.o;
    return EI_OK;
}

void ei_cfgscan_free(char *text, size_t len)
{
    if (text == NULL)
        return;
    sodium_memzero(text, len + 1);
    free(text);
}
