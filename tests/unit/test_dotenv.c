/* SPDX-License-Identifier: MIT */
/* Unit tests of the dotenv reader (providers/dotenv.c); link with
   -Wl,--wrap=malloc for the allocation-failure test. */

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <envinject/provider.h>

#include "dotenv.h"

#define V            EI_ENTRY_VERBATIM
#define L            (EI_ENTRY_VERBATIM | EI_ENTRY_LITERAL)
#define WANT_N       8
#define GOT_N        16
#define FILE_NAME    "t.env"
#define LIMIT        ((size_t)1048576)
#define CANARY       "CANARY123"
#define LONG_TEXT    "value longer than 1048576 bytes"
#define INPUT_LEN(s) (sizeof(s) - 1)

/* --- allocation failure through ld --wrap=malloc --- */

void *__real_malloc(size_t n);
void *__wrap_malloc(size_t n);

/* malloc calls that succeed before one fails; -1: never fail */
static long chaos_countdown = -1;

void *__wrap_malloc(size_t n)
{
    if (chaos_countdown == 0)
        return NULL;
    if (chaos_countdown > 0)
        chaos_countdown--;
    return __real_malloc(n);
}

/* --- recording callback --- */

struct got {
    char *key;
    char *value;
    size_t value_len;
    unsigned flags;
    int line;
};

struct rec {
    struct got got[GOT_N];
    size_t n;           /* calls, including those not stored */
    size_t stop_at;     /* 1-based call that returns -1; 0: none */
    bool stop_silently; /* return -1 without filling err */
};

static int rec_emit(void *ctx, const char *const *name, size_t name_n,
                    const char *value, size_t value_len, int line,
                    unsigned flags, struct ei_error *err)
{
    struct rec *r = ctx;
    assert_int_equal(name_n, 1);
    assert_non_null(name[0]);
    assert_int_equal(value[value_len], '\0');
    assert_int_equal(strlen(value), value_len);
    r->n++;
    if (r->n <= GOT_N) {
        /* strndup allocates inside libc, out of reach of the chaos hook */
        struct got *g = &r->got[r->n - 1];
        g->key = strndup(name[0], strlen(name[0]));
        g->value = strndup(value, value_len);
        assert_non_null(g->key);
        assert_non_null(g->value);
        g->value_len = value_len;
        g->flags = flags;
        g->line = line;
    }
    if (r->stop_at != 0 && r->n == r->stop_at) {
        if (!r->stop_silently && err != NULL && err->status == EI_OK) {
            err->status = EI_DENIED;
            snprintf(err->text, sizeof err->text, "stopped by the callback");
        }
        return -1;
    }
    return 0;
}

static void rec_clear(struct rec *r)
{
    size_t n = r->n < GOT_N ? r->n : GOT_N;
    for (size_t i = 0; i < n; i++) {
        free(r->got[i].key);
        free(r->got[i].value);
    }
    memset(r, 0, sizeof *r);
}

/* --- good inputs --- */

struct want {
    const char *key;
    const char *value;
    unsigned flags;
    int line;
};

struct good_case {
    const char *name;
    const char *in;
    size_t in_len; /* 0: strlen(in) */
    struct want want[WANT_N];
};

static const struct good_case good_cases[] = {
    /* the rows of protocols.md section 7 that a reader decides */
    {"export", "export EXPORTED=yes\n", 0, {{"EXPORTED", "yes", V, 1}}},
    {"unquoted comment",
     "UNQ=unquoted value   # c\n",
     0,
     {{"UNQ", "unquoted value", V, 1}}},
    {"hash inside word", "HASH=a#b\n", 0, {{"HASH", "a#b", V, 1}}},
    {"hash after space", "HASHSP=a #b\n", 0, {{"HASHSP", "a", V, 1}}},
    {"hash after tab", "T=a\t#c\n", 0, {{"T", "a", V, 1}}},
    {"hash in double quotes",
     "DQ_HASH=\"double # kept\"\n",
     0,
     {{"DQ_HASH", "double # kept", V, 1}}},
    {"single quotes literal",
     "SQ='single $UNQ \\n kept'\n",
     0,
     {{"SQ", "single $UNQ \\n kept", L, 1}}},
    {"double quote escapes",
     "DQ_ESC=\"l1\\nl2\\tT \\\"q\\\" \\\\ back\"\n",
     0,
     {{"DQ_ESC", "l1\nl2\tT \"q\" \\ back", V, 1}}},
    {"double quotes multi-line",
     "ML=\"multi\nline\"\nNEXT=1\n",
     0,
     {{"ML", "multi\nline", V, 1}, {"NEXT", "1", V, 3}}},
    {"backticks", "BT=`back tick`\n", 0, {{"BT", "back tick", L, 1}}},
    {"braced reference raw", "EXP=${UNQ}-x\n", 0, {{"EXP", "${UNQ}-x", V, 1}}},
    {"unbraced reference raw", "EXPU=$UNQ-y\n", 0, {{"EXPU", "$UNQ-y", V, 1}}},
    {"defaults raw",
     "DEF1=${UNDEF:-d1}\nDEF3=${EMPTY-d3}\n",
     0,
     {{"DEF1", "${UNDEF:-d1}", V, 1}, {"DEF3", "${EMPTY-d3}", V, 2}}},
    {"escaped dollar unquoted", "ESCD=\\$NOT\n", 0, {{"ESCD", "\\$NOT", V, 1}}},
    {"double dollar", "DD=$$lit\n", 0, {{"DD", "$$lit", V, 1}}},
    {"single-quoted reference",
     "SQEXP='${UNQ}'\n",
     0,
     {{"SQEXP", "${UNQ}", L, 1}}},
    {"indented and padded",
     "  INDENTED=ok\nSPACED=   padded   \n",
     0,
     {{"INDENTED", "ok", V, 1}, {"SPACED", "padded", V, 2}}},
    {"duplicate keys in order",
     "DUP=first\nDUP=second\n",
     0,
     {{"DUP", "first", V, 1}, {"DUP", "second", V, 2}}},
    {"command substitution is text",
     "X=$(echo hi)\nY=\"$(id)\"\n",
     0,
     {{"X", "$(echo hi)", V, 1}, {"Y", "$(id)", V, 2}}},
    /* quoting */
    {"escaped dollar in double quotes",
     "E=\"a\\$b\"\n",
     0,
     {{"E", "a\\$b", V, 1}}},
    {"other escapes kept",
     "E=\"\\q\\x41\\0\\a\"\n",
     0,
     {{"E", "\\q\\x41\\0\\a", V, 1}}},
    {"backslash-escaped quote at end",
     "E=\"a\\\\\"\nF=\"\\\\\\\"\"\n",
     0,
     {{"E", "a\\", V, 1}, {"F", "\\\"", V, 2}}},
    {"carriage return escape", "E=\"x\\ry\"\n", 0, {{"E", "x\ry", V, 1}}},
    {"backslash before newline kept",
     "E=\"a\\\nb\"\n",
     0,
     {{"E", "a\\\nb", V, 1}}},
    {"single quotes no escapes", "E='a\\'\n", 0, {{"E", "a\\", L, 1}}},
    {"single quotes multi-line",
     "A='l1\nl2\n'\nB=2\n",
     0,
     {{"A", "l1\nl2\n", L, 1}, {"B", "2", V, 4}}},
    {"backticks multi-line", "A=`x\ny`\n", 0, {{"A", "x\ny", L, 1}}},
    {"other quotes inside",
     "A=\"it's `x`\"\nB='say \"hi\"'\n",
     0,
     {{"A", "it's `x`", V, 1}, {"B", "say \"hi\"", L, 2}}},
    {"unquoted backslashes literal",
     "A=a\\nb\\\\c\n",
     0,
     {{"A", "a\\nb\\\\c", V, 1}}},
    {"unquoted inner quotes", "A=a\"b'c\n", 0, {{"A", "a\"b'c", V, 1}}},
    {"comments after quotes",
     "A=\"x\" # c\nB='y'#c\nC=`z`\t\nD=\"w\"  \n",
     0,
     {{"A", "x", V, 1}, {"B", "y", L, 2}, {"C", "z", L, 3}, {"D", "w", V, 4}}},
    {"blanks before quote", "A=  \"x \"\n", 0, {{"A", "x ", V, 1}}},
    /* empty values */
    {"empty values",
     "A=\nB=\"\"\nC=''\nD=``\nE=   # c\nF=#c\nG=",
     0,
     {{"A", "", V, 1},
      {"B", "", V, 2},
      {"C", "", L, 3},
      {"D", "", L, 4},
      {"E", "", V, 5},
      {"F", "", V, 6},
      {"G", "", V, 7}}},
    /* lines */
    {"comments and blank lines",
     "# c\n\n   # indented\nA=1\n\t\nB=2 \n# end",
     0,
     {{"A", "1", V, 4}, {"B", "2", V, 6}}},
    {"no final newline",
     "A=1\nB=two",
     0,
     {{"A", "1", V, 1}, {"B", "two", V, 2}}},
    {"crlf",
     "A=1\r\nB=\"x\r\ny\"\r\n# c\r\nC='p\r\nq'\r\nD=4",
     0,
     {{"A", "1", V, 1},
      {"B", "x\ny", V, 2},
      {"C", "p\nq", L, 5},
      {"D", "4", V, 7}}},
    {"lone carriage return ends a line",
     "A=1\rB=\"x\ry\"\r",
     0,
     {{"A", "1", V, 1}, {"B", "x\ny", V, 2}}},
    {"bom",
     "\xEF\xBB\xBF"
     "A=1\n",
     0,
     {{"A", "1", V, 1}}},
    {"bom later is data", "A=\xEF\xBB\xBF\n", 0, {{"A", "\xEF\xBB\xBF", V, 1}}},
    {"empty input", "", 0, {{NULL, NULL, 0, 0}}},
    {"only bom", "\xEF\xBB\xBF", 0, {{NULL, NULL, 0, 0}}},
    {"only comments", "# a\n  #b\n\n", 0, {{NULL, NULL, 0, 0}}},
    /* keys, export and '=' */
    {"spaces around equals",
     "A = 1\nB\t=\t2\n",
     0,
     {{"A", "1", V, 1}, {"B", "2", V, 2}}},
    {"export with tabs",
     "\texport\t\tA=1\nexport  B = 2\n",
     0,
     {{"A", "1", V, 1}, {"B", "2", V, 2}}},
    {"export as a key",
     "export=1\nexport = 2\nexportFOO=3\nexport =\n",
     0,
     {{"export", "1", V, 1},
      {"export", "2", V, 2},
      {"exportFOO", "3", V, 3},
      {"export", "", V, 4}}},
    {"key characters",
     "_a1=x\nabc_DEF_9=y\n_=z\n",
     0,
     {{"_a1", "x", V, 1}, {"abc_DEF_9", "y", V, 2}, {"_", "z", V, 3}}},
    {"equals in value",
     "A=b=c\nB==\n",
     0,
     {{"A", "b=c", V, 1}, {"B", "=", V, 2}}},
    {"utf-8 value",
     "A=h\xC3\xA9llo w\xC3\xB6rld\n",
     0,
     {{"A", "h\xC3\xA9llo w\xC3\xB6rld", V, 1}}},
    {"unquoted inner blanks kept", "A=a \t b\n", 0, {{"A", "a \t b", V, 1}}},
    /* the edges of the reader's runs: a '#' that is text and one that
       starts a comment on the same line, a comment sign on the next line
       only, line ends right at a run's end, a backslash before "\r\n" */
    {"hash in word then comment",
     "A=a#b #c#d\nB=#\n",
     0,
     {{"A", "a#b", V, 1}, {"B", "", V, 2}}},
    {"hash after a lone carriage return",
     "A=a\r#b\nC=c\r\n",
     0,
     {{"A", "a", V, 1}, {"C", "c", V, 3}}},
    {"quoted runs around line ends",
     "A=\"\r\n\n\rx\\\r\ny\"\nB='\r'\n",
     0,
     {{"A", "\n\n\nx\\\ny", V, 1}, {"B", "\n", L, 6}}},
    {"key right before the end", "KEY_1=", 0, {{"KEY_1", "", V, 1}}},
};

static void assert_entries(const struct rec *r, const struct want *want,
                           size_t want_n)
{
    assert_int_equal(r->n, want_n);
    for (size_t i = 0; i < want_n; i++) {
        const struct got *g = &r->got[i];
        assert_string_equal(g->key, want[i].key);
        assert_int_equal(g->value_len, strlen(want[i].value));
        assert_memory_equal(g->value, want[i].value, g->value_len);
        assert_int_equal(g->flags, want[i].flags);
        assert_int_equal(g->line, want[i].line);
    }
}

static size_t want_count(const struct want *want)
{
    size_t n = 0;
    while (n < WANT_N && want[n].key != NULL)
        n++;
    return n;
}

static void test_good(void **state)
{
    for (size_t i = 0; i < sizeof good_cases / sizeof good_cases[0]; i++) {
        const struct good_case *c = &good_cases[i];
        print_message("# good: %s\n", c->name);
        size_t len = c->in_len != 0 ? c->in_len : strlen(c->in);
        struct rec r = {0};
        struct ei_error err = {0};
        enum ei_status st =
            ei_dotenv_parse(c->in, len, FILE_NAME, rec_emit, &r, &err);
        assert_int_equal(st, EI_OK);
        assert_int_equal(err.status, EI_OK);
        assert_entries(&r, c->want, want_count(c->want));
        rec_clear(&r);
    }
}

/* --- bad inputs --- */

struct bad_case {
    const char *name;
    const char *in;
    size_t in_len; /* 0: strlen(in) */
    enum ei_status status;
    const char *locator;
    const char *text; /* a substring of err.text */
    size_t emitted;   /* entries emitted before the error */
};

static const struct bad_case bad_cases[] = {
    {"dot in key", "A.B=" CANARY "\n", 0, EI_BADDATA, "t.env:1",
     "invalid key (contains '.')", 0},
    {"dash in key", "OK=1\nA-B=" CANARY "\n", 0, EI_BADDATA, "t.env:2",
     "invalid key (contains '-')", 1},
    {"space in key", "MY KEY=" CANARY "\n", 0, EI_BADDATA, "t.env:1",
     "invalid key (contains a space)", 0},
    {"tab in key", "MY\tKEY=" CANARY "\n", 0, EI_BADDATA, "t.env:1",
     "invalid key (contains a tab)", 0},
    {"digit first", "1A=" CANARY "\n", 0, EI_BADDATA, "t.env:1",
     "invalid key (starts with a digit)", 0},
    {"non-ascii key", "K\xC3\x89Y=" CANARY "\n", 0, EI_BADDATA, "t.env:1",
     "invalid key (contains byte 0xC3)", 0},
    {"quoted key", "\"A\"=" CANARY "\n", 0, EI_BADDATA, "t.env:1",
     "invalid key (contains '\"')", 0},
    {"missing key", "=" CANARY "\n", 0, EI_BADDATA, "t.env:1",
     "missing key before '='", 0},
    {"colon form", "# c\nKEY: " CANARY "\n", 0, EI_BADDATA, "t.env:2",
     "expected KEY=VALUE, not KEY: VALUE", 0},
    {"no equals", "A=1\n\n" CANARY " more\n", 0, EI_BADDATA, "t.env:3",
     "expected KEY=VALUE", 1},
    {"bare key", "A=1\nB\n", 0, EI_BADDATA, "t.env:2",
     "expected KEY=VALUE, found a bare key", 1},
    {"bare key at the end", "A=1\nB_2", 0, EI_BADDATA, "t.env:2",
     "expected KEY=VALUE, found a bare key", 1},
    {"key then blank at the end", "A=1\nB \t", 0, EI_BADDATA, "t.env:2",
     "expected KEY=VALUE, found a bare key", 1},
    {"export bare key", "export KEY\n", 0, EI_BADDATA, "t.env:1",
     "expected KEY=VALUE", 0},
    {"export alone", "export \n", 0, EI_BADDATA, "t.env:1",
     "expected KEY=VALUE", 0},
    {"equals on next line", "A\n=" CANARY "\n", 0, EI_BADDATA, "t.env:1",
     "expected KEY=VALUE", 0},
    {"unterminated double", "A=1\nB=2\nC=\"" CANARY "\nmore\n", 0, EI_BADDATA,
     "t.env:3", "unterminated double-quoted value (opened on line 3)", 2},
    {"unterminated double after escape", "C=\"" CANARY "\\", 0, EI_BADDATA,
     "t.env:1", "unterminated double-quoted value (opened on line 1)", 0},
    {"unterminated double escaped quote", "C=\"" CANARY "\\\"\n", 0, EI_BADDATA,
     "t.env:1", "unterminated double-quoted value (opened on line 1)", 0},
    {"unterminated single", "\n\nS='" CANARY "\nmore\\", 0, EI_BADDATA,
     "t.env:3", "unterminated single-quoted value (opened on line 3)", 0},
    {"unterminated backtick", "B=`" CANARY, 0, EI_BADDATA, "t.env:1",
     "unterminated backtick-quoted value (opened on line 1)", 0},
    {"text after double quote", "A=\"" CANARY "\" x\n", 0, EI_BADDATA,
     "t.env:1", "unexpected text after closing quote", 0},
    {"text after single quote", "A='" CANARY "'x\n", 0, EI_BADDATA, "t.env:1",
     "unexpected text after closing quote", 0},
    {"text after backtick", "A=`" CANARY "`\t" CANARY "\n", 0, EI_BADDATA,
     "t.env:1", "unexpected text after closing quote", 0},
    {"second quoted word", "A=\"" CANARY "\" \"b\"\n", 0, EI_BADDATA, "t.env:1",
     "unexpected text after closing quote", 0},
    {"text after multi-line quote", "A='" CANARY "\n" CANARY "' junk\n", 0,
     EI_BADDATA, "t.env:2", "unexpected text after closing quote", 0},
    {"nul in value", "A=CANA\0RY123\n", INPUT_LEN("A=CANA\0RY123\n"),
     EI_BADDATA, "t.env:1", "NUL byte at offset 6", 0},
    {"nul on line 3 after crlf", "A=1\r\nB=2\r\n\0C=" CANARY,
     INPUT_LEN("A=1\r\nB=2\r\n\0C=" CANARY), EI_BADDATA, "t.env:3",
     "NUL byte at offset 10", 0},
    {"nul in comment", "# \0\nA=" CANARY, INPUT_LEN("# \0\nA=" CANARY),
     EI_BADDATA, "t.env:1", "NUL byte at offset 2", 0},
    {"nul in quoted value", "A=\"" CANARY "\n\0\"",
     INPUT_LEN("A=\"" CANARY "\n\0\""), EI_BADDATA, "t.env:2", "NUL byte", 0},
};

static void check_bad(const struct bad_case *c, const char *in, size_t len)
{
    struct rec r = {0};
    struct ei_error err = {0};
    enum ei_status st = ei_dotenv_parse(in, len, FILE_NAME, rec_emit, &r, &err);
    assert_int_equal(st, c->status);
    assert_int_equal(err.status, c->status);
    assert_int_equal(r.n, c->emitted);
    if (c->status != EI_OK) {
        assert_string_equal(err.locator, c->locator);
        assert_non_null(strstr(err.text, c->text));
        assert_null(strstr(err.text, CANARY));
        assert_null(strstr(err.locator, CANARY));
        assert_null(strchr(err.text, '\n'));
        assert_int_equal(err.errnum, 0);
    }
    rec_clear(&r);
}

static void test_bad(void **state)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const struct bad_case *c = &bad_cases[i];
        print_message("# bad: %s\n", c->name);
        size_t len = c->in_len != 0 ? c->in_len : strlen(c->in);
        check_bad(c, c->in, len);
    }
}

/* --- the value size limit --- */

struct long_case {
    const char *name;
    const char *open; /* text before the repeated unit */
    const char *unit; /* repeated count times */
    size_t count;
    const char *close; /* text after */
    enum ei_status status;
    size_t value_len; /* when EI_OK */
    char first;       /* first byte of the value, when EI_OK */
};

static const struct long_case long_cases[] = {
    {"unquoted at the limit", "A=", "x", LIMIT, "\n", EI_OK, LIMIT, 'x'},
    {"unquoted over the limit", "A=", "x", LIMIT + 1, "\n", EI_BADDATA, 0, 0},
    {"unquoted, trailing blanks trimmed", "A=", "x", LIMIT, "   # c\n", EI_OK,
     LIMIT, 'x'},
    {"single-quoted at the limit", "A='", "x", LIMIT, "'", EI_OK, LIMIT, 'x'},
    {"single-quoted over the limit", "A='", "x", LIMIT + 1, "'", EI_BADDATA, 0,
     0},
    {"double-quoted over the limit", "A=\"", "x", LIMIT + 1, "\"", EI_BADDATA,
     0, 0},
    {"escapes count decoded", "A=\"", "\\n", LIMIT, "\"", EI_OK, LIMIT, '\n'},
    {"escaped dollar counts two", "A=\"", "\\$", LIMIT / 2, "x\"", EI_BADDATA,
     0, 0},
    {"backtick over the limit", "A=`", "y", LIMIT + 1, "`", EI_BADDATA, 0, 0},
    {"unterminated long", "A=\"", "z", LIMIT + 1, "", EI_BADDATA, 0, 0},
};

static void test_long(void **state)
{
    for (size_t i = 0; i < sizeof long_cases / sizeof long_cases[0]; i++) {
        const struct long_case *c = &long_cases[i];
        print_message("# long: %s\n", c->name);
        size_t unit_len = strlen(c->unit);
        size_t len = strlen(c->open) + unit_len * c->count + strlen(c->close);
        char *in = malloc(len + 1);
        assert_non_null(in);
        size_t at = strlen(c->open);
        memcpy(in, c->open, at);
        for (size_t k = 0; k < c->count; k++, at += unit_len)
            memcpy(in + at, c->unit, unit_len);
        memcpy(in + at, c->close, strlen(c->close) + 1);

        struct rec r = {0};
        struct ei_error err = {0};
        enum ei_status st =
            ei_dotenv_parse(in, len, FILE_NAME, rec_emit, &r, &err);
        assert_int_equal(st, c->status);
        if (st == EI_OK) {
            assert_int_equal(r.n, 1);
            assert_int_equal(r.got[0].value_len, c->value_len);
            assert_int_equal(r.got[0].value[0], c->first);
            assert_int_equal(r.got[0].value[c->value_len - 1], c->first);
        } else {
            assert_int_equal(r.n, 0);
            assert_string_equal(err.locator, "t.env:1");
            /* the limit is reported before a missing closing quote */
            assert_string_equal(err.text, LONG_TEXT);
        }
        rec_clear(&r);
        free(in);
    }
}

/* --- the callback stops the parse --- */

struct stop_case {
    const char *name;
    size_t stop_at;
    bool silently;
    bool with_err;
    enum ei_status status;
    const char *text;
};

static const struct stop_case stop_cases[] = {
    {"first entry", 1, false, true, EI_DENIED, "stopped by the callback"},
    {"second entry", 2, false, true, EI_DENIED, "stopped by the callback"},
    {"last entry", 3, false, true, EI_DENIED, "stopped by the callback"},
    {"without an error", 2, true, true, EI_INTERNAL,
     "entry refused without an error"},
    {"without err", 2, true, false, EI_INTERNAL, NULL},
};

static void test_stop(void **state)
{
    static const char in[] = "A=1\nB='" CANARY "'\nC=3\n";
    for (size_t i = 0; i < sizeof stop_cases / sizeof stop_cases[0]; i++) {
        const struct stop_case *c = &stop_cases[i];
        print_message("# stop: %s\n", c->name);
        struct rec r = {.stop_at = c->stop_at, .stop_silently = c->silently};
        struct ei_error err = {0};
        enum ei_status st =
            ei_dotenv_parse(in, INPUT_LEN(in), FILE_NAME, rec_emit, &r,
                            c->with_err ? &err : NULL);
        assert_int_equal(st, c->status);
        assert_int_equal(r.n, c->stop_at);
        if (c->text != NULL) {
            assert_int_equal(err.status, c->status);
            assert_string_equal(err.text, c->text);
            assert_null(strstr(err.text, CANARY));
        }
        rec_clear(&r);
    }
}

/* --- error recording --- */

static void test_error_record(void **state)
{
    static const char bad[] = "A=1\nB.C=2\n";
    struct rec r = {0};

    /* err may be NULL */
    assert_int_equal(
        ei_dotenv_parse(bad, INPUT_LEN(bad), FILE_NAME, rec_emit, &r, NULL),
        EI_BADDATA);
    assert_int_equal(r.n, 1);
    rec_clear(&r);

    /* the first error recorded wins */
    struct ei_error err = {.status = EI_IOERROR};
    snprintf(err.text, sizeof err.text, "earlier");
    assert_int_equal(
        ei_dotenv_parse(bad, INPUT_LEN(bad), FILE_NAME, rec_emit, &r, &err),
        EI_BADDATA);
    assert_int_equal(err.status, EI_IOERROR);
    assert_string_equal(err.text, "earlier");
    assert_string_equal(err.locator, "");
    rec_clear(&r);

    /* a long file name is cut, the line number kept */
    char file[EI_ERR_LOCATOR_LEN + 40];
    memset(file, 'f', sizeof file - 1);
    file[sizeof file - 1] = '\0';
    struct ei_error err2 = {0};
    assert_int_equal(
        ei_dotenv_parse(bad, INPUT_LEN(bad), file, rec_emit, &r, &err2),
        EI_BADDATA);
    size_t loc_len = strlen(err2.locator);
    assert_int_equal(loc_len, EI_ERR_LOCATOR_LEN - 1);
    assert_string_equal(err2.locator + loc_len - 2, ":2");
    assert_int_equal(err2.locator[0], 'f');
    rec_clear(&r);
}

/* --- allocation failure --- */

static void test_nomem(void **state)
{
    static const char in[] = "A=1\nB=\"" CANARY "\"\n";
    bool failed_once = false;
    for (long n = 0;; n++) {
        struct rec r = {0};
        struct ei_error err = {0};
        chaos_countdown = n;
        enum ei_status st =
            ei_dotenv_parse(in, INPUT_LEN(in), FILE_NAME, rec_emit, &r, &err);
        chaos_countdown = -1;
        if (st == EI_NOMEM) {
            /* everything is allocated before the first entry */
            failed_once = true;
            assert_int_equal(err.status, EI_NOMEM);
            assert_string_equal(err.locator, FILE_NAME);
            assert_non_null(strstr(err.text, "out of memory"));
            assert_int_equal(r.n, 0);
            rec_clear(&r);
            continue;
        }
        assert_int_equal(st, EI_OK);
        static const struct want want[] = {{"A", "1", V, 1},
                                           {"B", CANARY, V, 2}};
        assert_entries(&r, want, 2);
        rec_clear(&r);
        break;
    }
    assert_true(failed_once);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),         cmocka_unit_test(test_bad),
        cmocka_unit_test(test_long),         cmocka_unit_test(test_stop),
        cmocka_unit_test(test_error_record), cmocka_unit_test(test_nomem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
