/* SPDX-License-Identifier: MIT */
/* Unit tests of the JSON flattener (providers/jsonflat.c). */
#include <ctype.h>
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "jsonflat.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_WANT     24
#define MAX_GOT      160
#define MAX_DEPTH    64

struct want {
    const char *path; /* segments joined with '/' */
    const char *value;
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

/* Appends s to the NUL-terminated text in dst (cap bytes). */
static void append(char *dst, size_t cap, const char *s)
{
    size_t used = strlen(dst);
    size_t len = strlen(s);
    assert_true(used + len < cap);
    memcpy(dst + used, s, len + 1);
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

static void cap_free(struct cap *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->e[i].path);
        free(c->e[i].value);
    }
    c->n = 0;
}

/* Global so that the teardown can free what a failed test left. */
static struct cap cap;
static char *depth_bufs[3];

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
    for (size_t i = 0; i < 3; i++) {
        free(depth_bufs[i]);
        depth_bufs[i] = NULL;
    }
    return 0;
}

static size_t want_len(const struct want *w)
{
    size_t n = 0;
    while (n < MAX_WANT && w[n].path != NULL)
        n++;
    return n;
}

static void check_entries(const char *name, const struct cap *c,
                          const struct want *w)
{
    if (c->broken != NULL)
        fail_msg("%s: callback invariant broken: %s", name, c->broken);
    size_t n = want_len(w);
    for (size_t i = 0; i < n && i < c->n; i++) {
        if (strcmp(c->e[i].path, w[i].path) != 0)
            fail_msg("%s: entry %zu is named \"%s\", want \"%s\"", name, i,
                     c->e[i].path, w[i].path);
        if (strcmp(c->e[i].value, w[i].value) != 0)
            fail_msg("%s: %s = \"%s\", want \"%s\"", name, w[i].path,
                     c->e[i].value, w[i].value);
        if (c->e[i].line != 0)
            fail_msg("%s: %s has line %d, want 0", name, w[i].path,
                     c->e[i].line);
    }
    if (c->n != n)
        fail_msg("%s: %zu entries, want %zu", name, c->n, n);
}

/* The error text rules: one line, no trailing period, no input bytes. */
static void check_error_text(const char *name, const struct ei_error *err,
                             const char *forbidden)
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
    if (forbidden != NULL && strstr(t, forbidden) != NULL)
        fail_msg("%s: \"%s\" leaked into the error \"%s\"", name, forbidden, t);
}

struct good_case {
    const char *name;
    const char *doc;
    struct want want[MAX_WANT];
};

static const struct good_case good[] = {
    {"good: strings and numbers",
     "{\"host\": \"db.local\", \"port\": 5432}",
     {{"host", "db.local"}, {"port", "5432"}}},
    {"good: nested objects in document order",
     "{\"db\": {\"primary\": {\"host\": \"a\", \"port\": 1},\n"
     "        \"replica\": {\"host\": \"b\"}},\n"
     " \"x\": \"y\"}",
     {{"db/primary/host", "a"},
      {"db/primary/port", "1"},
      {"db/replica/host", "b"},
      {"x", "y"}}},
    {"good: empty objects emit nothing",
     "{\"a\": {}, \"b\": {\"c\": {}}, \"d\": 1}",
     {{"d", "1"}}},
    {"good: empty document object", " { } ", {{NULL, NULL}}},
    {"good: booleans and null",
     "{\"t\": true, \"f\": false, \"n\": null}",
     {{"t", "true"}, {"f", "false"}, {"n", ""}}},
    {"good: 64-bit and negative integers",
     "{\"max\": 9223372036854775807, \"min\": -9223372036854775808,"
     " \"neg\": -42, \"zero\": -0}",
     {{"max", "9223372036854775807"},
      {"min", "-9223372036854775808"},
      {"neg", "-42"},
      {"zero", "0"}}},
    {"good: reals in the shortest exact form",
     "{\"a\": 0.1, \"b\": 1e5, \"c\": -2.5, \"d\": 5.0, \"e\": 1E-7,"
     " \"f\": 0.30000000000000004, \"g\": 1.7976931348623157e308,"
     " \"h\": -0.0, \"i\": 123456789.125, \"j\": 5e-324,"
     " \"k\": 1000.0, \"l\": 8080.0, \"m\": 1234567.0, \"n\": 1e17,"
     " \"o\": 0.00001, \"p\": 1e16}",
     {{"a", "0.1"},
      {"b", "100000"},
      {"c", "-2.5"},
      {"d", "5"},
      {"e", "1e-07"},
      {"f", "0.30000000000000004"},
      {"g", "1.7976931348623157e+308"},
      {"h", "-0"},
      {"i", "123456789.125"},
      {"j", "5e-324"},
      {"k", "1000"},
      {"l", "8080"},
      {"m", "1234567"},
      {"n", "1e+17"},
      {"o", "0.00001"},
      {"p", "10000000000000000"}}},
    {"good: unicode strings and names",
     "{\"ключ\": \"значение ✓\", \"esc\": \"\\u00e9\\ud83d\\ude00\","
     " \"raw\": \"日本\"}",
     {{"ключ", "значение ✓"}, {"esc", "é😀"}, {"raw", "日本"}}},
    {"good: escapes in strings",
     "{\"s\": \"a\\\"b\\\\c\\/d\\ne\\tf\"}",
     {{"s", "a\"b\\c/d\ne\tf"}}},
    {"good: arrays of each scalar type are joined",
     "{\"i\": [1, -2, 3], \"r\": [0.5, 1e5], \"s\": [\"a\", \"b c\", \"d,e\"],"
     " \"b\": [true, false], \"n\": [null, null],"
     " \"m\": [1, \"x\", true, null, 2.5], \"one\": [\"only\"]}",
     {{"i", "1,-2,3"},
      {"r", "0.5,100000"},
      {"s", "a,b c,d,e"},
      {"b", "true,false"},
      {"n", ","},
      {"m", "1,x,true,,2.5"},
      {"one", "only"}}},
    {"good: empty arrays give empty values",
     "{\"e\": [], \"g\": {\"e2\": []}}",
     {{"e", ""}, {"g/e2", ""}}},
    {"good: arrays holding aggregates become compact JSON",
     "{\"a\": [[1, 2], [3]], \"o\": [{\"k\": \"v\", \"n\": null}, 2],"
     " \"e\": [{}], \"ee\": [[]], \"r\": [0.1, [5.0, true]],"
     " \"s\": [{\"q\": \"a\\\"b\\n\\u0001\\\\\"}], \"u\": [[\"é\"]]}",
     {{"a", "[[1,2],[3]]"},
      {"o", "[{\"k\":\"v\",\"n\":null},2]"},
      {"e", "[{}]"},
      {"ee", "[[]]"},
      {"r", "[0.1,[5,true]]"},
      {"s", "[{\"q\":\"a\\\"b\\n\\u0001\\\\\"}]"},
      {"u", "[[\"é\"]]"}}},
    {"good: a NUL inside JSON text stays escaped",
     "{\"a\": [[\"x\\u0000y\"]]}",
     {{"a", "[[\"x\\u0000y\"]]"}}},
    {"good: member names are passed on as they are",
     "{\"with space\": 1, \"dot.ted\": 2, \"UPPER\": 3, \"9lead\": 4,"
     " \"a/b\": 5}",
     {{"with space", "1"},
      {"dot.ted", "2"},
      {"UPPER", "3"},
      {"9lead", "4"},
      {"a/b", "5"}}},
    {"good: the same name in different objects",
     "{\"a\": {\"x\": 1}, \"b\": {\"x\": 2}}",
     {{"a/x", "1"}, {"b/x", "2"}}},
    {"good: leading and trailing white space",
     "\n\n\t{\r\n\"k\"\n:\n\"v\"\n}\n\n",
     {{"k", "v"}}},
};

static void run_good(void **state)
{
    const struct good_case *c = *state;
    cap_reset(0, EI_OK);
    struct ei_error err = {0};
    enum ei_status st = ei_jsonflat_parse(c->doc, strlen(c->doc), "t.json",
                                          cap_emit, &cap, &err);
    if (st != EI_OK)
        fail_msg("%s: status %d (%s: %s)", c->name, (int)st, err.locator,
                 err.text);
    if (err.status != EI_OK)
        fail_msg("%s: err set on success", c->name);
    check_entries(c->name, &cap, c->want);
    cap_free(&cap);
}

struct bad_case {
    const char *name;
    const char *doc;
    size_t doc_len; /* 0: strlen(doc) */
    enum ei_status status;
    const char *locator;
    const char *text;      /* a substring of the error text */
    const char *forbidden; /* besides CANARY, must not appear in the text */
};

static const struct bad_case bad[] = {
    {"bad: syntax error on line 3", "{\n  \"a\": 1,\n  \"b\": }\n", 0,
     EI_BADDATA, "t.json:3", "unexpected token at column 8", "'}'"},
    {"bad: empty input", "", 0, EI_BADDATA, "t.json:1",
     "unexpected token near end of file", NULL},
    {"bad: top level is an array", "[1, 2]", 0, EI_BADDATA, "t.json",
     "top level is an array, expected an object", NULL},
    {"bad: top level is a string", "\"CANARYXYZ\"", 0, EI_BADDATA, "t.json",
     "top level is a string, expected an object", NULL},
    {"bad: top level is a number", "42", 0, EI_BADDATA, "t.json",
     "top level is a number, expected an object", NULL},
    {"bad: top level is null", "null", 0, EI_BADDATA, "t.json",
     "top level is null, expected an object", NULL},
    {"bad: top level is a boolean", "true", 0, EI_BADDATA, "t.json",
     "top level is a boolean, expected an object", NULL},
    {"bad: duplicate keys", "{\"a\": 1,\n \"a\": 2}", 0, EI_BADDATA, "t.json:2",
     "duplicate object key", NULL},
    {"bad: duplicate keys in a nested object",
     "{\"o\": {\"CANARYKEY\": 1, \"CANARYKEY\": 2}}", 0, EI_BADDATA, "t.json:1",
     "duplicate object key", NULL},
    {"bad: NUL in a string names the path",
     "{\"db\": {\"pass\": \"CANARY\\u0000cd\"}}", 0, EI_BADDATA, "t.json",
     "db.pass: string holds a NUL byte", NULL},
    {"bad: NUL in a joined array", "{\"l\": [\"a\", \"\\u0000CANARY\"]}", 0,
     EI_BADDATA, "t.json", "l: string holds a NUL byte", NULL},
    {"bad: NUL in a member name", "{\"a\\u0000b\": 1}", 0, EI_BADDATA,
     "t.json:1", "member name holds a NUL byte", "a\\u0000b"},
    {"bad: empty member name", "{\"x\": 1, \"\": 1}", 0, EI_BADDATA, "t.json",
     "empty member name", NULL},
    {"bad: empty nested member name", "{\"a\": {\"b\": {\"\": 1}}}", 0,
     EI_BADDATA, "t.json", "a.b: empty member name", NULL},
    {"bad: canary before a missing colon", "{\"a\" \"CANARYXYZ\"}", 0,
     EI_BADDATA, "t.json:1", "':' expected", NULL},
    {"bad: canary as a bare token", "{\"a\": CANARYXYZ}", 0, EI_BADDATA,
     "t.json:1", "invalid token", NULL},
    {"bad: canary after a lone surrogate", "{\"a\": \"x\\uD800CANARY\"}", 0,
     EI_BADDATA, "t.json:1", "invalid Unicode", "D800"},
    {"bad: bad second surrogate",
     "{\"a\":\n\"\\uD83D\\u0041CANARYCANARYCANARY\"}", 0, EI_BADDATA,
     "t.json:2", "invalid Unicode", "0041"},
    {"bad: canary in a bad escape", "{\"a\": \"CANARY\\u00\"}", 0, EI_BADDATA,
     "t.json:1", "invalid escape", NULL},
    {"bad: control character in a string", "{\"a\": \"CANARY\x01\"}", 0,
     EI_BADDATA, "t.json:1", "control character", "0x1"},
    {"bad: invalid UTF-8", "{\"a\": \"CANARY\xff\"}", 0, EI_BADDATA, "t.json:1",
     "unable to decode byte", "0xff"},
    {"bad: newline in a string", "{\"a\": \"CANARY\nX\"}", 0, EI_BADDATA,
     "t.json:1", "unexpected newline", NULL},
    {"bad: trailing garbage", "{\"a\": 1}\n CANARY", 0, EI_BADDATA, "t.json:2",
     "end of file expected", NULL},
    {"bad: integer beyond 64 bits", "{\"a\": 99999999999999999999}", 0,
     EI_BADDATA, "t.json:1", "too big integer", "9999"},
    {"bad: real overflow", "{\"a\": 1e999}", 0, EI_BADDATA, "t.json:1",
     "real number overflow", "1e999"},
    {"bad: unterminated string", "{\"a\": \"CANARY", 0, EI_BADDATA, "t.json:1",
     "premature end of input", NULL},
    {"bad: long unterminated string",
     "{\"a\": \"CANARYCANARYCANARYCANARYCANARY", 0, EI_BADDATA, "t.json:1",
     "premature end of input", NULL},
    {"bad: trailing comma", "{\"a\": 1,}", 0, EI_BADDATA, "t.json:1",
     "string or '}' expected", NULL},
    {"bad: NUL byte in the input", "{\"a\": 1}\0CANARY", 15, EI_BADDATA,
     "t.json:1", "end of file expected", NULL},
};

static void run_bad(void **state)
{
    const struct bad_case *c = *state;
    cap_reset(0, EI_OK);
    struct ei_error err = {0};
    size_t len = c->doc_len != 0 ? c->doc_len : strlen(c->doc);
    enum ei_status st =
        ei_jsonflat_parse(c->doc, len, "t.json", cap_emit, &cap, &err);
    if (st != c->status || err.status != c->status)
        fail_msg("%s: status %d / err %d, want %d (%s: %s)", c->name, (int)st,
                 (int)err.status, (int)c->status, err.locator, err.text);
    if (strcmp(err.locator, c->locator) != 0)
        fail_msg("%s: locator \"%s\", want \"%s\"", c->name, err.locator,
                 c->locator);
    if (strstr(err.text, c->text) == NULL)
        fail_msg("%s: text \"%s\" lacks \"%s\"", c->name, err.text, c->text);
    check_error_text(c->name, &err, c->forbidden);
    if (cap.broken != NULL)
        fail_msg("%s: callback invariant broken: %s", c->name, cap.broken);
    cap_free(&cap);

    /* Without an error record the status is the same. */
    st = ei_jsonflat_parse(c->doc, len, "t.json", cap_emit, &cap, NULL);
    if (st != c->status)
        fail_msg("%s: status %d without err, want %d", c->name, (int)st,
                 (int)c->status);
    cap_free(&cap);

    /* The first error recorded wins. */
    struct ei_error first = {.status = EI_DENIED};
    snprintf(first.locator, sizeof(first.locator), "earlier");
    snprintf(first.text, sizeof(first.text), "earlier error");
    st = ei_jsonflat_parse(c->doc, len, "t.json", cap_emit, &cap, &first);
    if (st != c->status || first.status != EI_DENIED ||
        strcmp(first.locator, "earlier") != 0 ||
        strcmp(first.text, "earlier error") != 0)
        fail_msg("%s: an earlier error was overwritten (%d, %s: %s)", c->name,
                 (int)st, first.locator, first.text);
    cap_free(&cap);
}

struct scalar_case {
    const char *name;
    const char *json; /* decoded with JSON_DECODE_ANY */
    size_t out_len;
    int want_n; /* -1: refused */
    const char *want;
};

static const struct scalar_case scalars[] = {
    {"scalar: zero", "0", 32, 1, "0"},
    {"scalar: negative", "-17", 32, 3, "-17"},
    {"scalar: int64 max", "9223372036854775807", 32, 19, "9223372036854775807"},
    {"scalar: int64 min", "-9223372036854775808", 32, 20,
     "-9223372036854775808"},
    {"scalar: real 0.1", "0.1", 32, 3, "0.1"},
    {"scalar: real 1e5", "1e5", 32, 6, "100000"},
    {"scalar: real 100001", "100001.0", 32, 6, "100001"},
    {"scalar: real -2.5", "-2.5", 32, 4, "-2.5"},
    {"scalar: real 5.0", "5.0", 32, 1, "5"},
    {"scalar: real 1e300", "1e300", 32, 6, "1e+300"},
    {"scalar: real 2^53", "9007199254740992.0", 32, 16, "9007199254740992"},
    {"scalar: true", "true", 32, 4, "true"},
    {"scalar: false", "false", 32, 5, "false"},
    {"scalar: null", "null", 32, 0, ""},
    {"scalar: string", "\"h\\u00e9llo\"", 32, 6, "héllo"},
    {"scalar: empty string", "\"\"", 1, 0, ""},
    {"scalar: string fits exactly", "\"abc\"", 4, 3, "abc"},
    {"scalar: string one byte short", "\"abc\"", 3, -1, ""},
    {"scalar: integer fits exactly", "12345", 6, 5, "12345"},
    {"scalar: integer one byte short", "12345", 5, -1, ""},
    {"scalar: real fits exactly", "1234.5", 7, 6, "1234.5"},
    {"scalar: real one byte short", "1234.5", 6, -1, ""},
    {"scalar: true one byte short", "true", 4, -1, ""},
    {"scalar: string with NUL", "\"a\\u0000b\"", 32, -1, ""},
    {"scalar: object refused", "{\"a\": 1}", 32, -1, ""},
    {"scalar: array refused", "[1]", 32, -1, ""},
};

static void run_scalar(void **state)
{
    const struct scalar_case *c = *state;
    json_error_t je;
    json_t *j = json_loads(c->json, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (j == NULL)
        fail_msg("%s: test JSON does not parse: %s", c->name, je.text);
    char out[64];
    memset(out, 'X', sizeof(out));
    int n = ei_jsonflat_scalar(j, out, c->out_len);
    json_decref(j);
    if (n != c->want_n)
        fail_msg("%s: returned %d, want %d", c->name, n, c->want_n);
    if (n >= 0 && strcmp(out, c->want) != 0)
        fail_msg("%s: wrote \"%s\", want \"%s\"", c->name, out, c->want);
    if (n < 0 && out[0] != '\0')
        fail_msg("%s: refused but left text in the buffer", c->name);
    if (c->out_len < sizeof(out) && out[c->out_len] != 'X')
        fail_msg("%s: wrote past out_len", c->name);
}

/* Deep nesting, generated: objects put segments on the path, arrays
   nest inside a value; both count against the same limit. */
struct depth_case {
    const char *name;
    int objects; /* nested objects, each one path segment */
    int arrays;  /* nested arrays inside the last member */
    enum ei_status status;
};

static const struct depth_case depths[] = {
    {"depth: 64 nested members", 64, 0, EI_OK},
    {"depth: 65 nested members", 65, 0, EI_BADDATA},
    {"depth: 300 nested members", 300, 0, EI_BADDATA},
    {"depth: 63 nested arrays below one member", 1, 63, EI_OK},
    {"depth: 64 nested arrays below one member", 1, 64, EI_BADDATA},
    {"depth: 32 members and 32 arrays", 32, 32, EI_OK},
    {"depth: 32 members and 33 arrays", 32, 33, EI_BADDATA},
    {"depth: 3000 nested arrays (jansson's own limit)", 1, 3000, EI_BADDATA},
};

static char *depth_doc(const struct depth_case *c, char **want_path,
                       char **want_value)
{
    size_t doc_cap = (size_t)(c->objects * 8 + c->arrays * 2 + 16);
    size_t path_cap = (size_t)c->objects * 2 + 1;
    size_t value_cap = (size_t)c->arrays * 2 + 2;
    char *doc = calloc(1, doc_cap);
    *want_path = calloc(1, path_cap);
    *want_value = calloc(1, value_cap);
    assert_non_null(doc);
    assert_non_null(*want_path);
    assert_non_null(*want_value);
    size_t o = 0;
    for (int i = 0; i < c->objects; i++) {
        o += (size_t)snprintf(doc + o, doc_cap - o, "{\"k\":");
        append(*want_path, path_cap, i > 0 ? "/k" : "k");
    }
    for (int i = 0; i < c->arrays; i++)
        doc[o++] = '[';
    doc[o++] = '1';
    for (int i = 0; i < c->arrays; i++)
        doc[o++] = ']';
    for (int i = 0; i < c->objects; i++)
        doc[o++] = '}';
    /* One level of array around a scalar is a joined list. */
    if (c->arrays <= 1)
        append(*want_value, value_cap, "1");
    else {
        for (int i = 0; i < c->arrays; i++)
            append(*want_value, value_cap, "[");
        append(*want_value, value_cap, "1");
        for (int i = 0; i < c->arrays; i++)
            append(*want_value, value_cap, "]");
    }
    return doc;
}

static void run_depth(void **state)
{
    const struct depth_case *c = *state;
    char *want_path;
    char *want_value;
    char *doc = depth_doc(c, &want_path, &want_value);
    depth_bufs[0] = doc;
    depth_bufs[1] = want_path;
    depth_bufs[2] = want_value;
    cap_reset(0, EI_OK);
    struct ei_error err = {0};
    enum ei_status st =
        ei_jsonflat_parse(doc, strlen(doc), "t.json", cap_emit, &cap, &err);
    if (st != c->status)
        fail_msg("%s: status %d, want %d (%s: %s)", c->name, (int)st,
                 (int)c->status, err.locator, err.text);
    if (st == EI_OK) {
        struct want w[2] = {{want_path, want_value}, {NULL, NULL}};
        check_entries(c->name, &cap, w);
    } else if (c->arrays < 2048) {
        if (strcmp(err.text, "nesting deeper than 64 levels") != 0 ||
            strcmp(err.locator, "t.json") != 0)
            fail_msg("%s: error %s: %s", c->name, err.locator, err.text);
    } else if (strstr(err.text, "maximum parsing depth") == NULL)
        fail_msg("%s: error %s: %s", c->name, err.locator, err.text);
    teardown(NULL);
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
    "{\"a\": 1, \"b\": {\"c\": [1, 2], \"d\": [[1]]}, \"e\": \"x\"}";

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
    enum ei_status st = ei_jsonflat_parse(stop_doc, strlen(stop_doc), "t.json",
                                          cap_emit, &cap, &err);
    if (st != c->want || cap.calls != c->want_calls)
        fail_msg("%s: status %d after %zu calls, want %d after %zu", c->name,
                 (int)st, cap.calls, (int)c->want, c->want_calls);
    if (c->fail_status != EI_OK && strcmp(err.text, "refused by the test"))
        fail_msg("%s: the callback's error was replaced by \"%s\"", c->name,
                 err.text);
    cap_free(&cap);
}

/* The walk on a tree from elsewhere: base segments come first, and the
   base counts against the depth limit. */
struct walk_case {
    const char *name;
    const char *json;
    size_t base_n;
    enum ei_status status;
    const char *text;
    struct want want[4];
};

static const char *const walk_base[MAX_DEPTH + 1] = {
    "app", "db", "s", "s", "s", "s", "s", "s", "s", "s", "s", "s", "s",
    "s",   "s",  "s", "s", "s", "s", "s", "s", "s", "s", "s", "s", "s",
    "s",   "s",  "s", "s", "s", "s", "s", "s", "s", "s", "s", "s", "s",
    "s",   "s",  "s", "s", "s", "s", "s", "s", "s", "s", "s", "s", "s",
    "s",   "s",  "s", "s", "s", "s", "s", "s", "s", "s", "s", "s", "s"};

static const struct walk_case walks[] = {
    {"walk: base segments come first",
     "{\"host\": \"h\", \"p\": {\"q\": [1, 2]}}",
     2,
     EI_OK,
     NULL,
     {{"app/db/host", "h"}, {"app/db/p/q", "1,2"}}},
    {"walk: no base", "{\"k\": 1}", 0, EI_OK, NULL, {{"k", "1"}}},
    {"walk: base of 63 and one member",
     "{\"k\": 1}",
     63,
     EI_OK,
     NULL,
     {{"*/k", "1"}}},
    {"walk: base of 63 and a nested member",
     "{\"k\": {\"j\": 1}}",
     63,
     EI_BADDATA,
     "nesting deeper than 64 levels",
     {{NULL, NULL}}},
    {"walk: base of 64",
     "{\"k\": 1}",
     64,
     EI_BADDATA,
     "nesting deeper than 64 levels",
     {{NULL, NULL}}},
    {"walk: base of 64 and an empty object",
     "{}",
     64,
     EI_OK,
     NULL,
     {{NULL, NULL}}},
    {"walk: array root",
     "[{\"k\": 1}]",
     1,
     EI_BADDATA,
     "top level is an array, expected an object",
     {{NULL, NULL}}},
    {"walk: real root",
     "2.5",
     0,
     EI_BADDATA,
     "top level is a number, expected an object",
     {{NULL, NULL}}},
};

static void run_walk(void **state)
{
    const struct walk_case *c = *state;
    json_error_t je;
    json_t *j = json_loads(c->json, JSON_DECODE_ANY, &je);
    if (j == NULL)
        fail_msg("%s: test JSON does not parse: %s", c->name, je.text);
    cap_reset(0, EI_OK);
    struct ei_error err = {0};
    enum ei_status st =
        ei_jsonflat_walk(j, walk_base, c->base_n, "src", cap_emit, &cap, &err);
    json_decref(j);
    if (st != c->status)
        fail_msg("%s: status %d, want %d (%s: %s)", c->name, (int)st,
                 (int)c->status, err.locator, err.text);
    if (st != EI_OK) {
        if (strcmp(err.text, c->text) != 0 || strcmp(err.locator, "src") != 0)
            fail_msg("%s: error %s: %s", c->name, err.locator, err.text);
    } else if (c->want[0].path != NULL && c->want[0].path[0] == '*') {
        /* "*" stands for the base segments, too many to spell out. */
        char path[1024] = "";
        for (size_t i = 0; i < c->base_n; i++) {
            if (i > 0)
                append(path, sizeof(path), "/");
            append(path, sizeof(path), walk_base[i]);
        }
        append(path, sizeof(path), c->want[0].path + 1);
        struct want w[2] = {{path, c->want[0].value}, {NULL, NULL}};
        check_entries(c->name, &cap, w);
    } else
        check_entries(c->name, &cap, c->want);
    cap_free(&cap);
}

/* A key with a NUL can only come from a tree built in code. */
static void test_walk_key_with_nul(void **state)
{
    (void)state;
    json_t *j = json_object();
    assert_non_null(j);
    assert_int_equal(json_object_setn_new(j, "a\0b", 3, json_integer(1)), 0);
    cap_reset(0, EI_OK);
    struct ei_error err = {0};
    enum ei_status st =
        ei_jsonflat_walk(j, NULL, 0, "src", cap_emit, &cap, &err);
    json_decref(j);
    assert_int_equal(st, EI_BADDATA);
    assert_string_equal(err.text, "member name holds a NUL byte");
    assert_int_equal(cap.n, 0);
}

/* A name with a newline must not break the one-line error. */
static void test_walk_name_control_chars(void **state)
{
    (void)state;
    json_t *j =
        json_loads("{\"a\\nb\": {\"c\": \"x\\u0000\"}}", JSON_ALLOW_NUL, NULL);
    assert_non_null(j);
    struct ei_error err = {0};
    cap_reset(0, EI_OK);
    enum ei_status st =
        ei_jsonflat_walk(j, NULL, 0, NULL, cap_emit, &cap, &err);
    json_decref(j);
    assert_int_equal(st, EI_BADDATA);
    assert_string_equal(err.text, "a?b.c: string holds a NUL byte");
    assert_string_equal(err.locator, "json");
}

/* Random finite doubles: the text reads back exactly, and one digit less
   would not. */
static void test_real_shortest_roundtrip(void **state)
{
    (void)state;
    uint64_t x = 0x9E3779B97F4A7C15u;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double d;
        if (i % 2 == 0)
            memcpy(&d, &x, sizeof(d));
        else
            d = (double)(int64_t)(x % 2000001) / 1000.0 - 1000.0;
        if (!isfinite(d))
            continue;
        json_t *j = json_real(d);
        assert_non_null(j);
        char out[64];
        int n = ei_jsonflat_scalar(j, out, sizeof(out));
        json_decref(j);
        if (n <= 0 || strtod(out, NULL) != d)
            fail_msg("%.17g written as \"%s\"", d, out);
        if (strchr(out, 'e') == NULL && strchr(out, '.') == NULL &&
            (double)strtoll(out, NULL, 10) != d)
            fail_msg("%.17g written as \"%s\"", d, out);
        /* the digits of the mantissa, as %g counts them */
        int digits = 0;
        for (const char *p = out; *p != '\0' && *p != 'e'; p++)
            if (isdigit((unsigned char)*p))
                digits++;
        char shorter[64];
        if (digits > 1 && digits <= 17) {
            int w = snprintf(shorter, sizeof(shorter), "%.*g", digits - 1, d);
            if (w > 0 && (size_t)w < sizeof(shorter) &&
                strtod(shorter, NULL) == d && strlen(shorter) < strlen(out))
                fail_msg("%.17g: \"%s\" is shorter than \"%s\"", d, shorter,
                         out);
        }
    }
}

static void test_bad_arguments(void **state)
{
    (void)state;
    cap_reset(0, EI_OK);
    struct ei_error err = {0};
    assert_int_equal(ei_jsonflat_parse(NULL, 3, "t", cap_emit, &cap, &err),
                     EI_INTERNAL);
    struct ei_error err2 = {0};
    assert_int_equal(
        ei_jsonflat_walk(NULL, NULL, 0, "t", cap_emit, &cap, &err2),
        EI_INTERNAL);
    char out[4];
    assert_int_equal(ei_jsonflat_scalar(NULL, out, sizeof(out)), -1);
    assert_int_equal(cap.calls, 0);
}

/* Numbers as JavaScript's Number::toString writes them (what node's
   String(x) printed for each, checked by hand against ECMA-262). */
static void test_js_numbers(void **state)
{
    (void)state;
    static const struct {
        double d;
        const char *want;
    } t[] = {
        {0.1, "0.1"},
        {0.1 + 0.2, "0.30000000000000004"},
        {-0.0, "0"},
        {0, "0"},
        {1, "1"},
        {-42, "-42"},
        {100, "100"},
        {1.5, "1.5"},
        {123.456, "123.456"},
        {1e20, "100000000000000000000"},
        {123456789012345680000.0, "123456789012345680000"},
        {1e21, "1e+21"},
        {1.5e21, "1.5e+21"},
        {-1e21, "-1e+21"},
        {0.000001, "0.000001"},
        {0.0000015, "0.0000015"},
        {1e-7, "1e-7"},
        {1.5e-7, "1.5e-7"},
        {-2.5e-10, "-2.5e-10"},
        {5e-324, "5e-324"},
        {1.7976931348623157e308, "1.7976931348623157e+308"},
        {9007199254740993.0, "9007199254740992"},
        {2e-6, "0.000002"},
        {1234.5e10, "12345000000000"},
    };
    for (size_t i = 0; i < ARRAY_LEN(t); i++) {
        char out[64];
        int n = ei_json_js_number(t[i].d, out, sizeof(out));
        if (n < 0 || strcmp(out, t[i].want) != 0)
            fail_msg("%zu: %.17g gave '%s', want '%s'", i, t[i].d,
                     n < 0 ? "(error)" : out, t[i].want);
        assert_int_equal((size_t)n, strlen(t[i].want));
    }
    char small[4];
    assert_int_equal(ei_json_js_number(0.125, small, sizeof(small)), -1);
    assert_int_equal(ei_json_js_number(NAN, small, sizeof(small)), -1);
    assert_int_equal(ei_json_js_number(INFINITY, small, sizeof(small)), -1);
}

/* Flag values: what JSON.stringify or String() gives for each kind. */
static void test_flag_text(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        const char *want;
    } t[] = {
        {"true", "true"},
        {"false", "false"},
        {"null", ""},
        {"\"on\"", "on"},
        {"\"\"", ""},
        {"0.1", "0.1"},
        {"1.0", "1"},
        {"10", "10"},
        {"1e21", "1e+21"},
        {"9007199254740993", "9007199254740992"},
        {"-9007199254740992", "-9007199254740992"},
        {"{\"a\":0.10,\"b\":[1,true,null,\"x\\\"y\"],\"c\":{}}",
         "{\"a\":0.1,\"b\":[1,true,null,\"x\\\"y\"],\"c\":{}}"},
        {"[1e-7, 2.50]", "[1e-7,2.5]"},
        {"{\"z\":1,\"a\":2}", "{\"z\":1,\"a\":2}"},
        {"\"caf\\u00e9 /\"", "caf\xc3\xa9 /"},
    };
    for (size_t i = 0; i < ARRAY_LEN(t); i++) {
        json_error_t je;
        json_t *j = json_loads(t[i].json, JSON_DECODE_ANY, &je);
        assert_non_null(j);
        size_t len = 99;
        char *out = ei_json_flag_text(j, &len);
        if (out == NULL || strcmp(out, t[i].want) != 0)
            fail_msg("%zu: %s gave '%s', want '%s'", i, t[i].json,
                     out == NULL ? "(NULL)" : out, t[i].want);
        assert_int_equal(len, strlen(t[i].want));
        free(out);
        json_decref(j);
    }
    /* a string with a NUL is no value */
    json_t *nul = json_stringn("a\0b", 3);
    assert_null(ei_json_flag_text(nul, NULL));
    json_decref(nul);
    assert_null(ei_json_flag_text(NULL, NULL));
}

int main(void)
{
    static struct CMUnitTest tests[ARRAY_LEN(good) + ARRAY_LEN(bad) +
                                   ARRAY_LEN(scalars) + ARRAY_LEN(depths) +
                                   ARRAY_LEN(stops) + ARRAY_LEN(walks) + 6];
    size_t k = 0;
    for (size_t i = 0; i < ARRAY_LEN(good); i++)
        tests[k++] = (struct CMUnitTest){good[i].name, run_good, NULL, teardown,
                                         (void *)&good[i]};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++)
        tests[k++] = (struct CMUnitTest){bad[i].name, run_bad, NULL, teardown,
                                         (void *)&bad[i]};
    for (size_t i = 0; i < ARRAY_LEN(scalars); i++)
        tests[k++] = (struct CMUnitTest){scalars[i].name, run_scalar, NULL,
                                         teardown, (void *)&scalars[i]};
    for (size_t i = 0; i < ARRAY_LEN(depths); i++)
        tests[k++] = (struct CMUnitTest){depths[i].name, run_depth, NULL,
                                         teardown, (void *)&depths[i]};
    for (size_t i = 0; i < ARRAY_LEN(stops); i++)
        tests[k++] = (struct CMUnitTest){stops[i].name, run_stop, NULL,
                                         teardown, (void *)&stops[i]};
    for (size_t i = 0; i < ARRAY_LEN(walks); i++)
        tests[k++] = (struct CMUnitTest){walks[i].name, run_walk, NULL,
                                         teardown, (void *)&walks[i]};
    tests[k++] = (struct CMUnitTest)cmocka_unit_test_teardown(
        test_walk_key_with_nul, teardown);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test_teardown(
        test_walk_name_control_chars, teardown);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test_teardown(
        test_real_shortest_roundtrip, teardown);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test_teardown(
        test_bad_arguments, teardown);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test_teardown(test_js_numbers,
                                                              teardown);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test_teardown(test_flag_text,
                                                              teardown);
    assert_int_equal(k, ARRAY_LEN(tests));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
