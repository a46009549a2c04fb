/* SPDX-License-Identifier: MIT */
/* The dotenv reader of the file provider: KEY=VALUE lines, quotes, comments. */

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <envinject/provider.h>

#include "dotenv.h"
#include "emit.h"

#define DOTENV_MAX_VALUE_LEN ((size_t)1048576)
#define DOTENV_EXPORT        "export"
#define DOTENV_EXPORT_LEN    (sizeof DOTENV_EXPORT - 1)

/* A cursor over the input.  Line ends are "\r\n", "\n" and a lone "\r"
   (the rule of Node's dotenv), so a raw CR never reaches a value. */
struct dotenv_in {
    const char *p;
    size_t len;
    size_t pos;
    int line;
};

/* Where key and value of the current entry are decoded.  One buffer of
   input length + 2 holds both: they come from disjoint parts of the input
   and decoding never makes text longer. */
struct dotenv_out {
    char *buf;
    size_t cap;
    size_t key_len;
    size_t val_len;
};

static int dotenv_peek(const struct dotenv_in *in)
{
    if (in->pos >= in->len)
        return -1;
    unsigned char c = (unsigned char)in->p[in->pos];
    return c == '\r' ? '\n' : c;
}

static void dotenv_next(struct dotenv_in *in)
{
    if (in->pos >= in->len)
        return;
    char c = in->p[in->pos++];
    if (c == '\r' && in->pos < in->len && in->p[in->pos] == '\n')
        in->pos++;
    if ((c == '\r' || c == '\n') && in->line < INT_MAX)
        in->line++;
}

static bool dotenv_blank(int c)
{
    return c == ' ' || c == '\t';
}

static void dotenv_skip_blanks(struct dotenv_in *in)
{
    while (in->pos < in->len && dotenv_blank((unsigned char)in->p[in->pos]))
        in->pos++;
}

/* Where the line at from ends: its first '\n' or '\r', else the end of
   the input.  Two memchr calls cost less than a test of every byte. */
static size_t dotenv_line_end(const struct dotenv_in *in, size_t from)
{
    const char *s = in->p + from;
    const char *nl = memchr(s, '\n', in->len - from);
    size_t n = nl != NULL ? (size_t)(nl - s) : in->len - from;
    const char *cr = memchr(s, '\r', n);
    return from + (cr != NULL ? (size_t)(cr - s) : n);
}

/* Skip the rest of the line, its line end included. */
static void dotenv_skip_line(struct dotenv_in *in)
{
    in->pos = dotenv_line_end(in, in->pos);
    dotenv_next(in);
}

static bool dotenv_key_start(unsigned char c)
{
    return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool dotenv_key_char(unsigned char c)
{
    return dotenv_key_start(c) || (c >= '0' && c <= '9');
}

__attribute__((format(printf, 5, 6))) static enum ei_status
dotenv_fail(struct ei_error *err, enum ei_status status, const char *file,
            int line, const char *fmt, ...)
{
    if (err == NULL || err->status != EI_OK)
        return status;
    err->status = status;
    err->errnum = 0;

    /* Shorten the file name rather than lose the line number. */
    char suffix[16] = "";
    if (line > 0)
        snprintf(suffix, sizeof suffix, ":%d", line);
    size_t room = sizeof err->locator - 1 - strlen(suffix);
    size_t file_len = strnlen(file, room);
    snprintf(err->locator, sizeof err->locator, "%.*s%s", (int)file_len, file,
             suffix);

    /* Every text is a short fixed phrase plus numbers: it always fits. */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->text, sizeof err->text, fmt, ap);
    va_end(ap);
    return status;
}

/* Check a key (the text before '=', blanks trimmed); EI_OK when valid. */
static enum ei_status dotenv_check_key(const char *key, size_t key_len,
                                       const char *file, int line,
                                       struct ei_error *err)
{
    if (key_len == 0)
        return dotenv_fail(err, EI_BADDATA, file, line,
                           "missing key before '='");
    if (key[0] >= '0' && key[0] <= '9')
        return dotenv_fail(err, EI_BADDATA, file, line,
                           "invalid key (starts with a digit)");
    for (size_t i = 0; i < key_len; i++) {
        unsigned char c = (unsigned char)key[i];
        if (dotenv_key_char(c))
            continue;
        if (c == ' ')
            return dotenv_fail(err, EI_BADDATA, file, line,
                               "invalid key (contains a space)");
        if (c == '\t')
            return dotenv_fail(err, EI_BADDATA, file, line,
                               "invalid key (contains a tab)");
        if (c > ' ' && c < 0x7f)
            return dotenv_fail(err, EI_BADDATA, file, line,
                               "invalid key (contains '%c')", c);
        return dotenv_fail(err, EI_BADDATA, file, line,
                           "invalid key (contains byte 0x%02X)", c);
    }
    return EI_OK;
}

/* The error for a line without '=': hint at the forms other tools accept. */
static enum ei_status dotenv_no_equals(const char *s, size_t n,
                                       const char *file, int line,
                                       struct ei_error *err)
{
    size_t i = 0;
    while (i < n && dotenv_key_char((unsigned char)s[i]))
        i++;
    bool key = i > 0 && dotenv_key_start((unsigned char)s[0]);
    size_t j = i;
    while (j < n && dotenv_blank((unsigned char)s[j]))
        j++;
    if (key && j < n && s[j] == ':')
        return dotenv_fail(err, EI_BADDATA, file, line,
                           "expected KEY=VALUE, not KEY: VALUE");
    if (key && j == n)
        return dotenv_fail(err, EI_BADDATA, file, line,
                           "expected KEY=VALUE, found a bare key");
    return dotenv_fail(err, EI_BADDATA, file, line, "expected KEY=VALUE");
}

/* Read the key and the '=' after it, into out (NUL-terminated). */
static enum ei_status dotenv_key(struct dotenv_in *in, struct dotenv_out *out,
                                 const char *file, struct ei_error *err)
{
    const char *p = in->p;
    int line = in->line;

    /* "export =x" assigns the key "export": blanks around '=' are allowed. */
    if (in->len - in->pos > DOTENV_EXPORT_LEN &&
        memcmp(p + in->pos, DOTENV_EXPORT, DOTENV_EXPORT_LEN) == 0 &&
        dotenv_blank((unsigned char)p[in->pos + DOTENV_EXPORT_LEN])) {
        size_t save = in->pos;
        in->pos += DOTENV_EXPORT_LEN;
        dotenv_skip_blanks(in);
        if (dotenv_peek(in) == '=')
            in->pos = save;
    }

    size_t start = in->pos;
    size_t end = start;
    while (end < in->len && dotenv_key_char((unsigned char)p[end]))
        end++;
    size_t key_end = end;
    /* The common form, a valid key right before the '=', is known valid
       here; anything else is looked at again (the text so far holds no
       '=' and no line end, so the search goes on from end). */
    if (end == in->len || p[end] != '=' || end == start ||
        !dotenv_key_start((unsigned char)p[start])) {
        while (end < in->len && p[end] != '=' && p[end] != '\n' &&
               p[end] != '\r')
            end++;
        if (end == in->len || p[end] != '=')
            return dotenv_no_equals(p + start, end - start, file, line, err);
        key_end = end;
        while (key_end > start && dotenv_blank((unsigned char)p[key_end - 1]))
            key_end--;
        enum ei_status st =
            dotenv_check_key(p + start, key_end - start, file, line, err);
        if (st != EI_OK)
            return st;
    }
    size_t key_len = key_end - start;

    memcpy(out->buf, p + start, key_len);
    out->buf[key_len] = '\0';
    out->key_len = key_len;
    in->pos = end + 1;
    return EI_OK;
}

static bool dotenv_put(struct dotenv_out *out, char c)
{
    if (out->val_len >= DOTENV_MAX_VALUE_LEN)
        return false;
    out->buf[out->key_len + 1 + out->val_len++] = c;
    return true;
}

static enum ei_status dotenv_too_long(const char *file, int line,
                                      struct ei_error *err)
{
    return dotenv_fail(err, EI_BADDATA, file, line,
                       "value longer than %zu bytes", DOTENV_MAX_VALUE_LEN);
}

/* An unquoted value: up to the end of the line or a comment, trimmed.
   '#' starts a comment only after a blank, as in python-dotenv, so that
   "a#b" (URL fragments, colours) survives. */
static enum ei_status dotenv_unquoted(struct dotenv_in *in,
                                      struct dotenv_out *out, const char *file,
                                      int line, struct ei_error *err)
{
    const char *p = in->p;
    size_t start = in->pos;
    size_t eol = dotenv_line_end(in, start);
    size_t end = eol;
    for (const char *h = memchr(p + start, '#', eol - start); h != NULL;
         h = memchr(h + 1, '#', (size_t)(p + eol - h - 1))) {
        size_t at = (size_t)(h - p);
        if (at == start || dotenv_blank((unsigned char)p[at - 1])) {
            end = at;
            break;
        }
    }
    while (end > start && dotenv_blank((unsigned char)p[end - 1]))
        end--;
    if (end - start > DOTENV_MAX_VALUE_LEN)
        return dotenv_too_long(file, line, err);
    memcpy(out->buf + out->key_len + 1, p + start, end - start);
    out->val_len = end - start;
    in->pos = eol;
    dotenv_next(in);
    return EI_OK;
}

/* The end of the run from the cursor on that a value in quote keeps as
   it is: up to the closing quote, a line end (which is counted and may be
   "\r\n"), or in double quotes a backslash. */
static size_t dotenv_run(const struct dotenv_in *in, int quote)
{
    bool escapes = quote == '"';
    size_t i = in->pos;
    while (i < in->len) {
        char c = in->p[i];
        if (c == quote || c == '\n' || c == '\r' || (escapes && c == '\\'))
            break;
        i++;
    }
    return i;
}

/* A quoted value, the opening quote at the cursor.  Single quotes and
   backticks are literal; double quotes decode \n \r \t \" \\ and keep
   every other backslash pair as written, \$ included, so that the
   interpolator still sees the escaped dollar. */
static enum ei_status dotenv_quoted(struct dotenv_in *in,
                                    struct dotenv_out *out, const char *file,
                                    int line, struct ei_error *err)
{
    int quote = dotenv_peek(in);
    const char *kind = quote == '"'    ? "double-quoted"
                       : quote == '\'' ? "single-quoted"
                                       : "backtick-quoted";
    dotenv_next(in);
    for (;;) {
        /* Bytes that stand for themselves go over in one copy; the byte
           that ends the run, if any, takes the byte-wise path below. */
        size_t run = dotenv_run(in, quote) - in->pos;
        if (run > DOTENV_MAX_VALUE_LEN - out->val_len)
            return dotenv_too_long(file, line, err);
        memcpy(out->buf + out->key_len + 1 + out->val_len, in->p + in->pos,
               run);
        out->val_len += run;
        in->pos += run;
        int c = dotenv_peek(in);
        if (c == -1)
            return dotenv_fail(err, EI_BADDATA, file, line,
                               "unterminated %s value (opened on line %d)",
                               kind, line);
        dotenv_next(in);
        if (c == quote)
            break;
        if (quote == '"' && c == '\\') {
            int d = dotenv_peek(in);
            if (d == -1)
                continue; /* reported as unterminated on the next turn */
            dotenv_next(in);
            char decoded = d == 'n'    ? '\n'
                           : d == 'r'  ? '\r'
                           : d == 't'  ? '\t'
                           : d == '"'  ? '"'
                           : d == '\\' ? '\\'
                                       : '\0';
            if (decoded != '\0') {
                if (!dotenv_put(out, decoded))
                    return dotenv_too_long(file, line, err);
                continue;
            }
            if (!dotenv_put(out, '\\'))
                return dotenv_too_long(file, line, err);
            c = d;
        }
        if (!dotenv_put(out, (char)c))
            return dotenv_too_long(file, line, err);
    }

    dotenv_skip_blanks(in);
    int c = dotenv_peek(in);
    if (c != -1 && c != '\n' && c != '#')
        return dotenv_fail(err, EI_BADDATA, file, in->line,
                           "unexpected text after closing quote");
    dotenv_skip_line(in);
    return EI_OK;
}

static enum ei_status dotenv_entry(struct dotenv_in *in, struct dotenv_out *out,
                                   const char *file, ei_emit_fn emit, void *ctx,
                                   struct ei_error *err)
{
    int line = in->line;
    enum ei_status st = dotenv_key(in, out, file, err);
    if (st != EI_OK)
        return st;

    out->val_len = 0;
    dotenv_skip_blanks(in);
    int c = dotenv_peek(in);
    bool quoted = c == '"' || c == '\'' || c == '`';
    if (quoted)
        st = dotenv_quoted(in, out, file, line, err);
    else
        st = dotenv_unquoted(in, out, file, line, err);
    if (st != EI_OK)
        return st;

    char *key = out->buf;
    char *value = out->buf + out->key_len + 1;
    value[out->val_len] = '\0';
    unsigned flags = EI_ENTRY_VERBATIM;
    if (c == '\'' || c == '`')
        flags |= EI_ENTRY_LITERAL;
    const char *const name[1] = {key};
    int rc = emit(ctx, name, 1, value, out->val_len, line, flags, err);
    sodium_memzero(out->buf, out->key_len + 1 + out->val_len + 1);
    if (rc == 0)
        return EI_OK;
    if (err != NULL && err->status != EI_OK)
        return err->status;
    return dotenv_fail(err, EI_INTERNAL, file, line,
                       "entry refused without an error");
}

/* Values cannot hold NUL, and a NUL usually means a binary file: refuse
   the whole file before emitting anything. */
static enum ei_status dotenv_check_nul(const char *buf, size_t len,
                                       const char *file, struct ei_error *err)
{
    const char *nul = memchr(buf, '\0', len);
    if (nul == NULL)
        return EI_OK;
    struct dotenv_in in = {.p = buf, .len = (size_t)(nul - buf), .line = 1};
    while (dotenv_peek(&in) != -1)
        dotenv_next(&in);
    return dotenv_fail(err, EI_BADDATA, file, in.line, "NUL byte at offset %zu",
                       (size_t)(nul - buf));
}

enum ei_status ei_dotenv_parse(const char *buf, size_t len, const char *file,
                               ei_emit_fn emit, void *ctx, struct ei_error *err)
{
    if (file == NULL)
        file = "(dotenv)";
    enum ei_status st = dotenv_check_nul(buf, len, file, err);
    if (st != EI_OK)
        return st;

    struct dotenv_in in = {.p = buf, .len = len, .pos = 0, .line = 1};
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        in.pos = 3;

    if (len > SIZE_MAX - 2)
        return dotenv_fail(err, EI_NOMEM, file, 0, "out of memory");
    struct dotenv_out out = {.cap = len + 2};
    out.buf = malloc(out.cap);
    if (out.buf == NULL)
        return dotenv_fail(err, EI_NOMEM, file, 0, "out of memory (%zu bytes)",
                           out.cap);

    for (;;) {
        dotenv_skip_blanks(&in);
        int c = dotenv_peek(&in);
        if (c == -1)
            break;
        if (c == '\n' || c == '#') {
            dotenv_skip_line(&in);
            continue;
        }
        st = dotenv_entry(&in, &out, file, emit, ctx, err);
        if (st != EI_OK)
            break;
    }

    /* Each entry wipes what it decoded once emitted; a failed one may
       leave part of a value behind. */
    if (st != EI_OK)
        sodium_memzero(out.buf, out.cap);
    free(out.buf);
    return st;
}
