/* SPDX-License-Identifier: MIT */
/* Unit tests of the libconfig flattener (providers/cfgflat.c). */
#include <ctype.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfgflat.h"
#include "readfile.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_WANT     16
#define MAX_GOT      160
#define DIR_MARK     "@DIR@"

struct want {
    const char *path; /* segments joined with '/' */
    const char *value;
    int line;
};

struct got {
    char *path;
    char *value;
    size_t value_len;
    int line;
};

/* What the emit callback saw, and how it should misbehave. */
struct cap {
    struct got e[MAX_GOT];
    size_t n;
    size_t calls;
    size_t fail_at;             /* 1-based call that returns -1; 0: none */
    enum ei_status fail_status; /* recorded before failing; EI_OK: none */
    const char *broken;         /* first broken invariant */
};

/* Global so that the teardown can free what a failed test left. */
static struct cap cap;
static char *scratch[4];
/* The folder holding the included files, made by the group setup. */
static char inc_dir[] = "/tmp/test_cfgflat.XXXXXX";
/* What the included files may hold together. */
#define INC_MAX (1024 * 1024)

/* Included files are read as the file provider reads them (the host's
   read_file is ei_readfile; the secret store is not needed here). */
static enum ei_status inc_read(void *ctx, const char *path, struct ei_buf *out,
                               struct ei_error *err)
{
    (void)ctx;
    return ei_readfile(path, 0, INC_MAX, out, err);
}

static void inc_release(void *ctx, struct ei_buf *buf)
{
    (void)ctx;
    ei_readfile_free(buf);
}

static const struct ei_cfgscan_includes inc_opts = {.dir = inc_dir,
                                                    .absolute_in_dir = true,
                                                    .max_len = INC_MAX,
                                                    .read = inc_read,
                                                    .release = inc_release};

static const struct {
    const char *name;
    const char *text;
} inc_files[] = {
    {"a.cfg", "x = 5;\ny = {\n  z = \"in\";\n};\n"},
    {"bad.cfg", "bad = ;\n"},
    {"nest.cfg", "# includes another\n@include \"a.cfg\"\n"},
    {"inf.cfg", "\n\nf = 1e999;\n"},
    /* issue 10 follow-up: included files get the checks of the top one */
    {"nul.cfg", "a = 1;\nb = \"x\\x00y\";\n"},
    {"big.cfg", "b = 99999999999999999999;\n"},
    {"wide.cfg", "b = 2147483648;\n"},
    {"mixed.cfg", "a = [2147483648L, 1];\n"},
    {"outer.cfg", "x = 1;\n  @include \"fifo.cfg\"\n"},
    {"self.cfg", "@include \"self.cfg\"\n"},
};
/* Settings in many.cfg: two inclusions pass the limit of one text. */
#define MANY_SETTINGS 6000

/* Appends s to the NUL-terminated text in dst (cap bytes). */
static void append(char *dst, size_t dst_cap, const char *s)
{
    size_t used = strlen(dst);
    size_t len = strlen(s);
    assert_true(used + len < dst_cap);
    memcpy(dst + used, s, len + 1);
}

/* A copy of s with every DIR_MARK replaced by the include folder. */
static char *with_dir(const char *s, size_t len, size_t *out_len)
{
    size_t out_cap = len * 8 + 64;
    char *out = calloc(1, out_cap);
    assert_non_null(out);
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        if (len - i >= strlen(DIR_MARK) &&
            memcmp(s + i, DIR_MARK, strlen(DIR_MARK)) == 0) {
            assert_true(o + strlen(inc_dir) < out_cap);
            memcpy(out + o, inc_dir, strlen(inc_dir));
            o += strlen(inc_dir);
            i += strlen(DIR_MARK);
        } else {
            assert_true(o + 1 < out_cap);
            out[o++] = s[i++];
        }
    }
    *out_len = o;
    return out;
}

static void cap_free(struct cap *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->e[i].path);
        free(c->e[i].value);
    }
    c->n = 0;
}

static void cap_reset(size_t fail_at, enum ei_status fail_status)
{
    cap_free(&cap);
    memset(&cap, 0, sizeof(cap));
    cap.fail_at = fail_at;
    cap.fail_status = fail_status;
}

static int teardown(void **state)
{
    (void)state;
    cap_free(&cap);
    for (size_t i = 0; i < ARRAY_LEN(scratch); i++) {
        free(scratch[i]);
        scratch[i] = NULL;
    }
    return 0;
}

static int cap_emit(void *ctx, const char *const *name, size_t name_n,
                    const char *value, size_t value_len, int line,
                    unsigned flags, struct ei_error *err)
{
    struct cap *c = ctx;
    c->calls++;
    if (c->fail_at != 0 && c->calls == c->fail_at) {
        if (c->fail_status != EI_OK && err != NULL && err->status == EI_OK) {
            err->status = c->fail_status;
            snprintf(err->text, sizeof(err->text), "refused by the test");
        }
        return -1;
    }
    if (c->broken == NULL) {
        if (name_n == 0)
            c->broken = "no name segments";
        else if (value == NULL || value[value_len] != '\0')
            c->broken = "value not NUL-terminated";
        else if (strlen(value) != value_len)
            c->broken = "NUL inside the value";
        else if (flags != 0)
            c->broken = "unexpected flags";
        else if (line < 0)
            c->broken = "negative line";
        for (size_t i = 0; i < name_n && c->broken == NULL; i++)
            if (name[i] == NULL || name[i][0] == '\0')
                c->broken = "empty name segment";
    }
    if (c->n == MAX_GOT) {
        c->broken = "too many entries";
        return 0;
    }
    size_t path_len = 0;
    for (size_t i = 0; i < name_n; i++)
        path_len += strlen(name[i]) + 1;
    struct got *g = &c->e[c->n++];
    g->path = calloc(1, path_len + 1);
    g->value = malloc(value_len + 1);
    assert_non_null(g->path);
    assert_non_null(g->value);
    for (size_t i = 0; i < name_n; i++) {
        if (i > 0)
            append(g->path, path_len + 1, "/");
        append(g->path, path_len + 1, name[i]);
    }
    memcpy(g->value, value, value_len + 1);
    g->value_len = value_len;
    g->line = line;
    return 0;
}

static void check_entries(const char *name, const struct cap *c,
                          const struct want *w)
{
    if (c->broken != NULL)
        fail_msg("%s: callback invariant broken: %s", name, c->broken);
    size_t n = 0;
    while (n < MAX_WANT && w[n].path != NULL)
        n++;
    for (size_t i = 0; i < n && i < c->n; i++) {
        if (strcmp(c->e[i].path, w[i].path) != 0)
            fail_msg("%s: entry %zu is named \"%s\", want \"%s\"", name, i,
                     c->e[i].path, w[i].path);
        if (strcmp(c->e[i].value, w[i].value) != 0)
            fail_msg("%s: %s = \"%s\", want \"%s\"", name, w[i].path,
                     c->e[i].value, w[i].value);
        if (c->e[i].line != w[i].line)
            fail_msg("%s: %s has line %d, want %d", name, w[i].path,
                     c->e[i].line, w[i].line);
    }
    if (c->n != n)
        fail_msg("%s: %zu entries, want %zu", name, c->n, n);
}

/* The error text rules: one line, no trailing period, no input bytes. */
static void check_error_text(const char *name, const struct ei_error *err)
{
    const char *t = err->text;
    if (t[0] == '\0')
        fail_msg("%s: empty error text", name);
    if (strchr(t, '\n') != NULL || strchr(err->locator, '\n') != NULL)
        fail_msg("%s: error spans lines: \"%s\"", name, t);
    if (isupper((unsigned char)t[0]) || t[strlen(t) - 1] == '.')
        fail_msg("%s: badly shaped error text \"%s\"", name, t);
    if (strstr(t, "CANARY") != NULL || strstr(err->locator, "CANARY") != NULL)
        fail_msg("%s: input leaked into the error: \"%s\" at \"%s\"", name, t,
                 err->locator);
}

struct good_case {
    const char *name;
    const char *doc;
    bool inc; /* pass the include folder */
    struct want want[MAX_WANT];
};

static const struct good_case good[] = {
    {"good: integers in decimal",
     "a = 1;\nb = -42;\nh = 0x1F;\nbig = 9223372036854775807L;\n"
     "neg = -9223372036854775808L;\nhex64 = 0x1FFFFFFFFL;\nzero = -0;\n",
     false,
     {{"a", "1", 1},
      {"b", "-42", 2},
      {"h", "31", 3},
      {"big", "9223372036854775807", 4},
      {"neg", "-9223372036854775808", 5},
      {"hex64", "8589934591", 6},
      {"zero", "0", 7}}},
    {"good: an escaped backslash before x00 is text",
     "s = \"a\\\\x00\";\n",
     false,
     {{"s", "a\\x00", 1}}},
    /* libconfig 1.5 cuts plain integers to 32 bits; the check gives
       them an L first (issue 10, item 25) */
    {"good: integers wider than 32 bits keep their value",
     "big = 3000000000;\nhex = 0xFFFFFFFF;\nneg = -2147483649;\n"
     "max = 9223372036854775807;\nmin = -9223372036854775808;\n"
     "l = 4294967296L;\nlist = (1, 5000000000);\n",
     false,
     {{"big", "3000000000", 1},
      {"hex", "4294967295", 2},
      {"neg", "-2147483649", 3},
      {"max", "9223372036854775807", 4},
      {"min", "-9223372036854775808", 5},
      {"l", "4294967296", 6},
      {"list", "1,5000000000", 7}}},
    /* issue 10 follow-up: one type per array, so one wide integer widens
       them all; leading zeros are not out of range */
    {"good: an array mixing wide and small integers",
     "a = [2147483648, 1];\nz = 0000000000000000000000000000000000000000000"
     "00000000000000000000000001;\n",
     false,
     {{"a", "2147483648,1", 1}, {"z", "1", 2}}},
    {"good: floats in the shortest exact form",
     "f1 = 0.1;\nf2 = 1e5;\nf3 = -2.5;\nf4 = 5.0;\nf5 = 1.;\nf6 = .5;\n"
     "f7 = 1e-7;\nf8 = 0.30000000000000004;\nf9 = 1e-400;\n"
     "f10 = 123456789.125;\n",
     false,
     {{"f1", "0.1", 1},
      {"f2", "100000", 2},
      {"f3", "-2.5", 3},
      {"f4", "5", 4},
      {"f5", "1", 5},
      {"f6", "0.5", 6},
      {"f7", "1e-07", 7},
      {"f8", "0.30000000000000004", 8},
      {"f9", "0", 9},
      {"f10", "123456789.125", 10}}},
    {"good: booleans in any case",
     "t = TRUE;\nf = false;\nm = True;\nn = FaLsE;\n",
     false,
     {{"t", "true", 1},
      {"f", "false", 2},
      {"m", "true", 3},
      {"n", "false", 4}}},
    {"good: strings as they are",
     "s = \"h\xc3\xa9llo \xe2\x9c\x93\";\ncat = \"a\" \"b\"\n  \"c\";\n"
     "esc = \"tab\\there\\x41\\\\\";\nnl = \"l1\\nl2\";\nempty = \"\";\n"
     "raw = \"\\xff\";\nlit = \"\\u0041\";\n",
     false,
     {{"s", "h\xc3\xa9llo \xe2\x9c\x93", 1},
      {"cat", "abc", 2},
      {"esc", "tab\thereA\\", 4},
      {"nl", "l1\nl2", 5},
      {"empty", "", 6},
      {"raw", "\xff", 7},
      {"lit", "\\u0041", 8}}},
    {"good: nested groups carry their lines",
     "db = {\n  host = \"localhost\";\n  pool = {\n    size = 10;\n  };\n"
     "  empty = {};\n};\nx : 1\n",
     false,
     {{"db/host", "localhost", 2}, {"db/pool/size", "10", 4}, {"x", "1", 8}}},
    {"good: empty groups emit nothing",
     "e = {};\ng = { h = {}; };\nx = 1;\n",
     false,
     {{"x", "1", 3}}},
    {"good: arrays of each scalar type are joined",
     "ai = [1, 2, 3];\naf = [0.5, 1.5];\nas = [\"a\", \"b,c\"];\n"
     "ab = [true, FALSE];\nae = [];\na64 = [1L, 2L];\nah = [0x10, 0x20];\n",
     false,
     {{"ai", "1,2,3", 1},
      {"af", "0.5,1.5", 2},
      {"as", "a,b,c", 3},
      {"ab", "true,false", 4},
      {"ae", "", 5},
      {"a64", "1,2", 6},
      {"ah", "16,32", 7}}},
    {"good: lists of scalars are joined",
     "ls = (1, \"a\", true, 2.5, 3L);\nle = ();\none = (\"x\");\n"
     "raw = (\"\\xff\", 1);\n",
     false,
     {{"ls", "1,a,true,2.5,3", 1},
      {"le", "", 2},
      {"one", "x", 3},
      {"raw", "\xff,1", 4}}},
    {"good: lists holding aggregates become compact JSON",
     "m = (1, { k = \"v\"; }, [1, 2], (\"x\", 3));\nlg = ({});\n"
     "q = ({ s = \"a\\\"b\\n\"; f = 0.1; t = true; n = 5L; });\n"
     "nest = ((1, (2)), []);\nu = ({ n = \"\xe6\x97\xa5\"; });\n",
     false,
     {{"m", "[1,{\"k\":\"v\"},[1,2],[\"x\",3]]", 1},
      {"lg", "[{}]", 2},
      {"q", "[{\"s\":\"a\\\"b\\n\",\"f\":0.1,\"t\":true,\"n\":5}]", 3},
      {"nest", "[[1,[2]],[]]", 4},
      {"u", "[{\"n\":\"\xe6\x97\xa5\"}]", 5}}},
    {"good: UTF-8 edge cases in JSON text",
     "l = ((\"\\xc2\\x80\\xe0\\xa0\\x80\\xef\\xbf\\xbf\\xf0\\x90\\x80\\x80\"),"
     " (\"\\xf4\\x8f\\xbf\\xbf\\xed\\x9f\\xbf\"));\n",
     false,
     {{"l",
       "[[\"\xc2\x80\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80\"],"
       "[\"\xf4\x8f\xbf\xbf\xed\x9f\xbf\"]]",
       1}}},
    {"good: multi-line settings take the line of their name",
     "a =\n  \"v\";\nb\n=\n[1,\n2];\nc = (\n1,\n{ k = 1; }\n);\n",
     false,
     {{"a", "v", 1}, {"b", "1,2", 3}, {"c", "[1,{\"k\":1}]", 7}}},
    {"good: comments and unusual names",
     "# hash\n// slashes\n/* block\n   comment */\na-b_c* = 1;\n"
     "*x = 2; # trailing\n",
     false,
     {{"a-b_c*", "1", 5}, {"*x", "2", 6}}},
    {"good: empty text", "", false, {{NULL, NULL, 0}}},
    {"good: only comments", "# nothing here\n", false, {{NULL, NULL, 0}}},
    {"good: @include in a string is not a directive",
     "a = \"@include \\\"x\\\"\";\n",
     false,
     {{"a", "@include \"x\"", 1}}},
    {"include: included settings have no line",
     "top = 1;\n@include \"a.cfg\"\nafter = 2;\n",
     true,
     {{"top", "1", 1}, {"x", "5", 0}, {"y/z", "in", 0}, {"after", "2", 3}}},
    {"include: inside a group",
     "g = {\n  @include \"a.cfg\"\n};\n",
     true,
     {{"g/x", "5", 0}, {"g/y/z", "in", 0}}},
    {"include: nested includes",
     "@include \"nest.cfg\"\n",
     true,
     {{"x", "5", 0}, {"y/z", "in", 0}}},
    {"include: a folder but no @include", "a = 1;\n", true, {{"a", "1", 1}}},
};

static void run_good(void **state)
{
    const struct good_case *c = *state;
    cap_reset(0, EI_OK);
    struct ei_error err = {0};
    size_t len;
    scratch[0] = with_dir(c->doc, strlen(c->doc), &len);
    enum ei_status st =
        ei_cfgflat_parse(scratch[0], len, "t.cfg", c->inc ? &inc_opts : NULL,
                         cap_emit, &cap, &err);
    if (st != EI_OK)
        fail_msg("%s: status %d (%s: %s)", c->name, (int)st, err.locator,
                 err.text);
    if (err.status != EI_OK)
        fail_msg("%s: err set on success", c->name);
    check_entries(c->name, &cap, c->want);
    if (!c->inc)
        return;
    /* text that is not secret: its scanned copy is freed without a wipe,
       and nothing else changes */
    struct ei_cfgscan_includes plain = inc_opts;
    plain.plain = true;
    cap_reset(0, EI_OK);
    assert_int_equal(ei_cfgflat_parse(scratch[0], len, "t.cfg", &plain,
                                      cap_emit, &cap, &err),
                     EI_OK);
    check_entries(c->name, &cap, c->want);
}

struct bad_case {
    const char *name;
    const char *doc;
    size_t doc_len; /* 0: strlen(doc) */
    bool inc;
    enum ei_status status;
    const char *locator;
    const char *text; /* a substring of the error text */
};

static const struct bad_case bad[] = {
    {"bad: syntax error on line 3", "a = 1;\nb = 2;\nc = ;\n", 0, false,
     EI_BADDATA, "t.cfg:3", "syntax error"},
    {"bad: duplicate setting", "a = 1;\n\na = 2;\n", 0, false, EI_BADDATA,
     "t.cfg:3", "duplicate setting name"},
    {"bad: duplicate setting in a group", "g = {\n  x = 1;\n  x = 2;\n};\n", 0,
     false, EI_BADDATA, "t.cfg:3", "duplicate setting name"},
    {"bad: mismatched array element types", "arr = [1,\n\"CANARY\"];\n", 0,
     false, EI_BADDATA, "t.cfg:2", "mismatched element type in array"},
    {"bad: group inside an array", "a = [{ x = 1; }];\n", 0, false, EI_BADDATA,
     "t.cfg:1", "syntax error"},
    {"bad: @include without a folder", "a = 1;\n  @include \"x.cfg\"\n", 0,
     false, EI_BADDATA, "t.cfg:2", "@include is not allowed here"},
    {"bad: @include after tabs", "a = 1;\n\n\t \t@include \"x.cfg\"\n", 0,
     false, EI_BADDATA, "t.cfg:3", "@include is not allowed here"},
    {"bad: @include in a comment is refused too",
     "/*\n@include \"x.cfg\"\n*/\n", 0, false, EI_BADDATA, "t.cfg:2",
     "@include is not allowed here"},
    /* issue 10, item 25: libconfig would change these silently */
    {"bad: \\x00 in a string", "a = 1;\nb = \"CANARY\\x00y\";\n", 0, false,
     EI_BADDATA, "t.cfg:2", "a string holds \\x00, a NUL byte"},
    {"bad: 64-bit integer that would saturate",
     "a = 1;\nb = 99999999999999999999999999L;\n", 0, false, EI_BADDATA,
     "t.cfg:2", "out of the 64-bit range"},
    {"bad: plain integer below the 64-bit range", "b = -9223372036854775809;\n",
     0, false, EI_BADDATA, "t.cfg:1", "out of the 64-bit range"},
    {"bad: hex integer above the signed 64-bit range",
     "h = 0x8000000000000000L;\n", 0, false, EI_BADDATA, "t.cfg:1",
     "out of the 64-bit range"},
    {"bad: NUL byte in the text", "a = 1;\nb = \"CANARY\0y\";\n", 23, false,
     EI_BADDATA, "t.cfg:2", "text holds a NUL byte"},
    {"bad: float out of range", "a = 1;\nf = 1e999;\n", 0, false, EI_BADDATA,
     "t.cfg:2", "f: float out of range"},
    {"bad: float out of range in a list", "g = { l = (1, -1e999); };\n", 0,
     false, EI_BADDATA, "t.cfg:1", "g.l: float out of range"},
    {"bad: invalid UTF-8 in JSON text", "l = ({ s = \"CANARY\\xff\"; });\n", 0,
     false, EI_BADDATA, "t.cfg:1",
     "l: string in JSON text is not valid UTF-8 (7 bytes)"},
    {"bad: overlong UTF-8 in JSON text", "l = ((\"\\xc0\\xaf\"));\n", 0, false,
     EI_BADDATA, "t.cfg:1", "not valid UTF-8"},
    {"bad: overlong 3-byte UTF-8 in JSON text",
     "l = ((\"\\xe0\\x80\\xaf\"));\n", 0, false, EI_BADDATA, "t.cfg:1",
     "not valid UTF-8"},
    {"bad: overlong 4-byte UTF-8 in JSON text",
     "l = ((\"\\xf0\\x80\\x80\\xaf\"));\n", 0, false, EI_BADDATA, "t.cfg:1",
     "not valid UTF-8"},
    {"bad: UTF-8 above U+10FFFF in JSON text",
     "l = ((\"\\xf4\\x90\\x80\\x80\"));\n", 0, false, EI_BADDATA, "t.cfg:1",
     "not valid UTF-8"},
    {"bad: surrogate in JSON text", "l = ((\"\\xed\\xa0\\x80\"));\n", 0, false,
     EI_BADDATA, "t.cfg:1", "not valid UTF-8"},
    {"bad: truncated UTF-8 in JSON text", "l = ((\"\\xe6\\x97\"));\n", 0, false,
     EI_BADDATA, "t.cfg:1", "not valid UTF-8"},
    {"bad: canary before a syntax error", "secret = \"CANARYXYZ\" x;\n", 0,
     false, EI_BADDATA, "t.cfg:1", "syntax error"},
    {"bad: unterminated string", "k = \"CANARY\n", 0, false, EI_BADDATA,
     "t.cfg:2", "syntax error"},
    {"bad: name starting with a digit", "9abc = 1;\n", 0, false, EI_BADDATA,
     "t.cfg:1", "syntax error"},
    {"bad: signed hex", "a = -0x10;\n", 0, false, EI_BADDATA, "t.cfg:1",
     "syntax error"},
    {"bad: lists nested 20000 deep", NULL, 0, false, EI_BADDATA, "t.cfg:1",
     "memory exhausted"},
    {"include: syntax error in the included file",
     "top = 1;\n@include \"bad.cfg\"\n", 0, true, EI_BADDATA,
     DIR_MARK "/bad.cfg:1", "syntax error"},
    /* libconfig 1.5 puts the folder in front of absolute names too. */
    {"include: absolute name is taken inside the folder",
     "\t@include \"" DIR_MARK "/a.cfg\"\n", 0, true, EI_BADDATA, "t.cfg:1",
     "cannot open include file"},
    {"include: missing file", "top = 1;\n@include \"nope.cfg\"\n", 0, true,
     EI_BADDATA, "t.cfg:2", "cannot open include file"},
    {"include: bad value located in the included file",
     "a = 1;\n@include \"inf.cfg\"\n", 0, true, EI_BADDATA,
     DIR_MARK "/inf.cfg:3", "f: float out of range"},
    {"include: duplicate across files", "x = 1;\n@include \"a.cfg\"\n", 0, true,
     EI_BADDATA, DIR_MARK "/a.cfg:1", "duplicate setting name"},
    /* issue 10 follow-up: libconfig opens included files itself, so they
       are checked before it parses, as the top file is */
    {"include: a FIFO is refused, not waited on", "@include \"fifo.cfg\"\n", 0,
     true, EI_IOERROR, DIR_MARK "/fifo.cfg", "not a regular file"},
    {"include: a folder is refused", "a = 1;\n @include \"sub.d\"\n", 0, true,
     EI_IOERROR, DIR_MARK "/sub.d", "not a regular file"},
    {"include: a FIFO behind a nested include", "@include \"outer.cfg\"\n", 0,
     true, EI_IOERROR, DIR_MARK "/fifo.cfg", "not a regular file"},
    {"include: \\x00 in an included file", "@include \"nul.cfg\"\n", 0, true,
     EI_BADDATA, DIR_MARK "/nul.cfg:2", "a string holds \\x00"},
    {"include: past 64 bits in an included file", "@include \"big.cfg\"\n", 0,
     true, EI_BADDATA, DIR_MARK "/big.cfg:1", "out of the 64-bit range"},
    {"include: a wide integer without L in an included file",
     "@include \"wide.cfg\"\n", 0, true, EI_BADDATA, DIR_MARK "/wide.cfg:1",
     "needs the L suffix in an included file"},
    {"include: a mixed array in an included file", "@include \"mixed.cfg\"\n",
     0, true, EI_BADDATA, DIR_MARK "/mixed.cfg:1",
     "mixes integers with and without the L suffix"},
    {"include: settings are counted across files",
     "g1 = {\n@include \"many.cfg\"\n};\ng2 = {\n@include \"many.cfg\"\n};\n",
     0, true, EI_BADDATA, DIR_MARK "/many.cfg:3999",
     "more than 10000 settings"},
    {"include: a file that includes itself", "@include \"self.cfg\"\n", 0, true,
     EI_BADDATA, DIR_MARK "/self.cfg:1", "nested more than 10 levels deep"},
};

/* Lists nested past what libconfig's parser stack takes. */
static char *deep_lists(size_t depth)
{
    char *doc = malloc(depth * 2 + 16);
    assert_non_null(doc);
    size_t o = 0;
    memcpy(doc, "a = ", 4);
    o += 4;
    for (size_t i = 0; i < depth; i++)
        doc[o++] = '(';
    doc[o++] = '1';
    for (size_t i = 0; i < depth; i++)
        doc[o++] = ')';
    memcpy(doc + o, ";\n", 3);
    return doc;
}

static void run_bad(void **state)
{
    const struct bad_case *c = *state;
    size_t len;
    if (c->doc != NULL)
        scratch[0] =
            with_dir(c->doc, c->doc_len ? c->doc_len : strlen(c->doc), &len);
    else {
        scratch[0] = deep_lists(20000);
        len = strlen(scratch[0]);
    }
    size_t loc_len;
    scratch[1] = with_dir(c->locator, strlen(c->locator), &loc_len);
    const struct ei_cfgscan_includes *dir = c->inc ? &inc_opts : NULL;

    cap_reset(0, EI_OK);
    struct ei_error err = {0};
    enum ei_status st =
        ei_cfgflat_parse(scratch[0], len, "t.cfg", dir, cap_emit, &cap, &err);
    if (st != c->status || err.status != c->status)
        fail_msg("%s: status %d / err %d, want %d (%s: %s)", c->name, (int)st,
                 (int)err.status, (int)c->status, err.locator, err.text);
    if (strcmp(err.locator, scratch[1]) != 0)
        fail_msg("%s: locator \"%s\", want \"%s\"", c->name, err.locator,
                 scratch[1]);
    if (strstr(err.text, c->text) == NULL)
        fail_msg("%s: text \"%s\" lacks \"%s\"", c->name, err.text, c->text);
    check_error_text(c->name, &err);
    if (cap.broken != NULL)
        fail_msg("%s: callback invariant broken: %s", c->name, cap.broken);

    /* Without an error record the status is the same. */
    cap_reset(0, EI_OK);
    st = ei_cfgflat_parse(scratch[0], len, "t.cfg", dir, cap_emit, &cap, NULL);
    if (st != c->status)
        fail_msg("%s: status %d without err, want %d", c->name, (int)st,
                 (int)c->status);

    /* The first error recorded wins. */
    cap_reset(0, EI_OK);
    struct ei_error first = {.status = EI_DENIED};
    snprintf(first.locator, sizeof(first.locator), "earlier");
    snprintf(first.text, sizeof(first.text), "earlier error");
    st =
        ei_cfgflat_parse(scratch[0], len, "t.cfg", dir, cap_emit, &cap, &first);
    if (st != c->status || first.status != EI_DENIED ||
        strcmp(first.locator, "earlier") != 0 ||
        strcmp(first.text, "earlier error") != 0)
        fail_msg("%s: an earlier error was overwritten (%d, %s: %s)", c->name,
                 (int)st, first.locator, first.text);
}

/* Deep nesting, generated: groups put segments on the path, lists nest
   inside a value; both count against the same limit of 64. */
struct depth_case {
    const char *name;
    int groups; /* nested groups, each one path segment */
    int lists;  /* nested lists inside the innermost setting */
    enum ei_status status;
    int err_line;
};

static const struct depth_case depths[] = {
    {"depth: setting 64 deep", 63, 0, EI_OK, 0},
    {"depth: setting 65 deep", 64, 0, EI_BADDATA, 65},
    {"depth: 63 nested lists below one setting", 0, 63, EI_OK, 0},
    {"depth: 64 nested lists below one setting", 0, 64, EI_BADDATA, 1},
    {"depth: 31 groups and 32 lists", 31, 32, EI_OK, 0},
    {"depth: 31 groups and 33 lists", 31, 33, EI_BADDATA, 32},
};

static void run_depth(void **state)
{
    const struct depth_case *c = *state;
    size_t groups = (size_t)c->groups;
    size_t lists = (size_t)c->lists;
    size_t doc_cap = groups * 16 + lists * 2 + 32;
    size_t path_cap = groups * 2 + 4;
    size_t value_cap = lists * 2 + 4;
    char *doc = scratch[0] = calloc(1, doc_cap);
    char *path = scratch[1] = calloc(1, path_cap);
    char *value = scratch[2] = calloc(1, value_cap);
    assert_non_null(doc);
    assert_non_null(path);
    assert_non_null(value);
    for (size_t i = 0; i < groups; i++) {
        append(doc, doc_cap, "g = {\n");
        append(path, path_cap, "g/");
    }
    append(doc, doc_cap, "v = ");
    append(path, path_cap, "v");
    for (size_t i = 0; i < lists; i++) {
        append(doc, doc_cap, "(");
        /* one list of a scalar is joined, more become JSON text */
        if (lists > 1)
            append(value, value_cap, "[");
    }
    append(doc, doc_cap, "1");
    append(value, value_cap, "1");
    for (size_t i = 0; i < lists; i++) {
        append(doc, doc_cap, ")");
        if (lists > 1)
            append(value, value_cap, "]");
    }
    append(doc, doc_cap, ";\n");
    for (size_t i = 0; i < groups; i++)
        append(doc, doc_cap, "};\n");

    cap_reset(0, EI_OK);
    struct ei_error err = {0};
    enum ei_status st =
        ei_cfgflat_parse(doc, strlen(doc), "t.cfg", NULL, cap_emit, &cap, &err);
    if (st != c->status)
        fail_msg("%s: status %d, want %d (%s: %s)", c->name, (int)st,
                 (int)c->status, err.locator, err.text);
    if (st == EI_OK) {
        struct want w[2] = {{path, value, (int)groups + 1}, {NULL, NULL, 0}};
        check_entries(c->name, &cap, w);
    } else {
        char loc[32];
        snprintf(loc, sizeof(loc), "t.cfg:%d", c->err_line);
        if (strcmp(err.text, "nesting deeper than 64 levels") != 0 ||
            strcmp(err.locator, loc) != 0)
            fail_msg("%s: error %s: %s, want %s", c->name, err.locator,
                     err.text, loc);
    }
}

/* A callback that returns -1 stops the walk; its status comes back. */
struct stop_case {
    const char *name;
    size_t fail_at;
    enum ei_status fail_status;
    enum ei_status want;
    size_t want_calls;
};

static const char stop_doc[] =
    "a = 1;\nb = { c = [1, 2]; d = ((1)); };\ne = \"x\";\n";

static const struct stop_case stops[] = {
    {"stop: at the first entry", 1, EI_DENIED, EI_DENIED, 1},
    {"stop: at a joined array", 2, EI_NOMEM, EI_NOMEM, 2},
    {"stop: at JSON text", 3, EI_UNAVAILABLE, EI_UNAVAILABLE, 3},
    {"stop: at the last entry", 4, EI_BADDATA, EI_BADDATA, 4},
    {"stop: without a status is internal", 2, EI_OK, EI_INTERNAL, 2},
    {"stop: never", 0, EI_OK, EI_OK, 4},
};

static void run_stop(void **state)
{
    const struct stop_case *c = *state;
    cap_reset(c->fail_at, c->fail_status);
    struct ei_error err = {0};
    enum ei_status st = ei_cfgflat_parse(stop_doc, strlen(stop_doc), "t.cfg",
                                         NULL, cap_emit, &cap, &err);
    if (st != c->want || cap.calls != c->want_calls)
        fail_msg("%s: status %d after %zu calls, want %d after %zu", c->name,
                 (int)st, cap.calls, (int)c->want, c->want_calls);
    if (c->fail_status != EI_OK && strcmp(err.text, "refused by the test"))
        fail_msg("%s: the callback's error was replaced by \"%s\"", c->name,
                 err.text);
}

/* The text need not end in a NUL, and bytes past len are not read. */
static void test_not_nul_terminated(void **state)
{
    (void)state;
    static const char text[] = "a = 1;\nb = 2;GARBAGE = = =";
    cap_reset(0, EI_OK);
    struct ei_error err = {0};
    assert_int_equal(
        ei_cfgflat_parse(text, 13, "t.cfg", NULL, cap_emit, &cap, &err), EI_OK);
    struct want w[] = {{"a", "1", 1}, {"b", "2", 2}, {NULL, NULL, 0}};
    check_entries("not NUL-terminated", &cap, w);
}

static void test_no_file_name(void **state)
{
    (void)state;
    cap_reset(0, EI_OK);
    struct ei_error err = {0};
    assert_int_equal(
        ei_cfgflat_parse("a = ;", 5, NULL, NULL, cap_emit, &cap, &err),
        EI_BADDATA);
    assert_string_equal(err.locator, "config:1");
}

static void test_bad_arguments(void **state)
{
    (void)state;
    cap_reset(0, EI_OK);
    struct ei_error err = {0};
    assert_int_equal(
        ei_cfgflat_parse(NULL, 3, "t.cfg", NULL, cap_emit, &cap, &err),
        EI_INTERNAL);
    struct ei_error err2 = {0};
    assert_int_equal(
        ei_cfgflat_parse("a = 1;", 6, "t.cfg", NULL, NULL, NULL, &err2),
        EI_INTERNAL);
    assert_int_equal(cap.calls, 0);
}

static int setup_dir(void **state)
{
    (void)state;
    if (mkdtemp(inc_dir) == NULL)
        return -1;
    for (size_t i = 0; i < ARRAY_LEN(inc_files); i++) {
        char path[PATH_MAX];
        int n =
            snprintf(path, sizeof(path), "%s/%s", inc_dir, inc_files[i].name);
        if (n < 0 || (size_t)n >= sizeof(path))
            return -1;
        FILE *f = fopen(path, "w");
        if (f == NULL)
            return -1;
        fputs(inc_files[i].text, f);
        if (fclose(f) != 0)
            return -1;
    }
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/fifo.cfg", inc_dir);
    if (mkfifo(path, 0600) != 0)
        return -1;
    snprintf(path, sizeof(path), "%s/sub.d", inc_dir);
    if (mkdir(path, 0700) != 0)
        return -1;
    snprintf(path, sizeof(path), "%s/many.cfg", inc_dir);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    for (int i = 0; i < MANY_SETTINGS; i++)
        fprintf(f, "s%d = 1;\n", i);
    return fclose(f) == 0 ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(inc_files); i++) {
        char path[PATH_MAX];
        int n =
            snprintf(path, sizeof(path), "%s/%s", inc_dir, inc_files[i].name);
        if (n > 0 && (size_t)n < sizeof(path))
            unlink(path);
    }
    static const char *const made[] = {"fifo.cfg", "many.cfg"};
    for (size_t i = 0; i < ARRAY_LEN(made); i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/%s", inc_dir, made[i]);
        unlink(path);
    }
    char sub[PATH_MAX];
    snprintf(sub, sizeof(sub), "%s/sub.d", inc_dir);
    rmdir(sub);
    rmdir(inc_dir);
    return 0;
}

int main(void)
{
    static struct CMUnitTest tests[ARRAY_LEN(good) + ARRAY_LEN(bad) +
                                   ARRAY_LEN(depths) + ARRAY_LEN(stops) + 3];
    size_t k = 0;
    for (size_t i = 0; i < ARRAY_LEN(good); i++)
        tests[k++] = (struct CMUnitTest){good[i].name, run_good, NULL, teardown,
                                         (void *)&good[i]};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++)
        tests[k++] = (struct CMUnitTest){bad[i].name, run_bad, NULL, teardown,
                                         (void *)&bad[i]};
    for (size_t i = 0; i < ARRAY_LEN(depths); i++)
        tests[k++] = (struct CMUnitTest){depths[i].name, run_depth, NULL,
                                         teardown, (void *)&depths[i]};
    for (size_t i = 0; i < ARRAY_LEN(stops); i++)
        tests[k++] = (struct CMUnitTest){stops[i].name, run_stop, NULL,
                                         teardown, (void *)&stops[i]};
    tests[k++] = (struct CMUnitTest)cmocka_unit_test_teardown(
        test_not_nul_terminated, teardown);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test_teardown(test_no_file_name,
                                                              teardown);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test_teardown(
        test_bad_arguments, teardown);
    if (k != ARRAY_LEN(tests))
        return 1;
    return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
