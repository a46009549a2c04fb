/* SPDX-License-Identifier: MIT */
/* Unit tests of the YAML reader (providers/common/yamlflat.c), from tables:
   what each file gives, entry by entry with its line, and each error with
   its locator (FILE:LINE:COLUMN, 1-based) and text. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "yamlflat.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#ifdef EI_HAVE_LIBYAML
#define OUT_LEN 4096

/* Entries as "a/b=value@line\n", in the order they came. */
struct cap {
    char out[OUT_LEN];
    size_t calls;
    size_t fail_at; /* 1-based call that returns -1; 0: none */
};

static int cap_emit(void *ctx, const char *const *name, size_t name_n,
                    const char *value, size_t value_len, int line,
                    unsigned flags, struct ei_error *err)
{
    struct cap *c = ctx;
    c->calls++;
    if (c->fail_at != 0 && c->calls == c->fail_at) {
        err->status = EI_DENIED;
        snprintf(err->text, sizeof(err->text), "refused by the test");
        return -1;
    }
    assert_int_equal(flags, 0);
    assert_int_equal(strlen(value), value_len);
    size_t o = strlen(c->out);
    for (size_t i = 0; i < name_n; i++)
        o += (size_t)snprintf(c->out + o, OUT_LEN - o, "%s%s", i ? "/" : "",
                              name[i]);
    snprintf(c->out + o, OUT_LEN - o, "=%s@%d\n", value, line);
    return 0;
}

struct row {
    const char *name;
    const char *yaml;
    const char *profile;
    /* success: the entries; error: the locator and the text (a prefix) */
    const char *want;
    enum ei_status status;
    const char *locator;
};

#define OK(n, y, w)                                                            \
    {                                                                          \
        n, y, NULL, w, EI_OK, NULL                                             \
    }
#define OKP(n, y, p, w)                                                        \
    {                                                                          \
        n, y, p, w, EI_OK, NULL                                                \
    }
#define BAD(n, y, loc, text)                                                   \
    {                                                                          \
        n, y, NULL, text, EI_BADDATA, "f.yaml:" loc                            \
    }
#define BADP(n, y, p, loc, text)                                               \
    {                                                                          \
        n, y, p, text, EI_BADDATA, "f.yaml:" loc                               \
    }

static const struct row rows[] = {
    /* scalars keep their text: no YAML 1.1 (or 1.2) typing */
    OK("text as written",
       "on: on\nyes: yes\nno: NO\noctal: 0777\nsexa: 1:30\nhex: 0x1F\n"
       "float: 1e3\nbool: True\ndate: 2001-12-14\nunder: 1_000\n",
       "on=on@1\nyes=yes@2\nno=NO@3\noctal=0777@4\nsexa=1:30@5\nhex=0x1F@6\n"
       "float=1e3@7\nbool=True@8\ndate=2001-12-14@9\nunder=1_000@10\n"),
    OK("nulls stay as written, empty is empty",
       "tilde: ~\nnull: null\nempty:\nquoted: ''\n",
       "tilde=~@1\nnull=null@2\nempty=@3\nquoted=@4\n"),
    OK("quoted scalars give their value",
       "a: 'it''s'\nb: \"tab\\there\"\nc: \"\\u00e9\"\nd: '  x  '\n",
       "a=it's@1\nb=tab\there@2\nc=\xc3\xa9@3\nd=  x  @4\n"),
    OK("literal and folded blocks",
       "lit: |\n  one\n  two\nfold: >\n  one\n  two\nstrip: |-\n  x\n",
       "lit=one\ntwo\n@1\nfold=one two\n@4\nstrip=x@7\n"),
    OK("plain multi-line folds", "a: one\n  two\n", "a=one two@1\n"),
    OK("tags of YAML's own types keep the text",
       "a: !!int 012\nb: !!str yes\nc: !!bool on\nd: ! 5\ne: !!null ''\n"
       "f: !!map {x: 1}\ng: !!seq [1]\n",
       "a=012@1\nb=yes@2\nc=on@3\nd=5@4\ne=@5\nf/x=1@6\ng=1@7\n"),
    /* nesting as jsonflat shapes JSON */
    OK("nested mappings",
       "db:\n  primary:\n    host: a\n    port: 5432\n  replica: {host: b}\n"
       "x: y\n",
       "db/primary/host=a@3\ndb/primary/port=5432@4\ndb/replica/host=b@5\n"
       "x=y@6\n"),
    OK("sequence of scalars joined with commas",
       "tags: [a, b, ' c']\nblock:\n  - x\n  - y\nempty: []\n",
       "tags=a,b, c@1\nblock=x,y@2\nempty=@5\n"),
    OK("sequence holding mappings as compact JSON",
       "s:\n  - name: x\n    port: 1\n  - [a, \"q\\\"\"]\n",
       "s=[{\"name\":\"x\",\"port\":\"1\"},[\"a\",\"q\\\"\"]]@1\n"),
    OK("empty mapping gives nothing", "a: {}\nb: 1\n", "b=1@2\n"),
    OK("empty stream", "", ""),
    OK("comments only", "# nothing\n", ""),
    OK("empty documents", "---\n---\n...\n", ""),
    OK("null document", "--- ~\n", ""),
    OK("flow mapping at the top", "{a: 1, b: [x]}", "a=1@1\nb=x@1\n"),
    OK("dotted keys split as Spring's properties do", "a.b: 1\n", "a/b=1@1\n"),
    OK("keys keep their text", "'on': 1\n0777: 2\n", "on=1@1\n0777=2@2\n"),
    OK("crlf line ends", "a: 1\r\nb: 2\r\n", "a=1@1\nb=2@2\n"),
    OK("byte order mark",
       "\xef\xbb\xbf"
       "a: 1\n",
       "a=1@1\n"),
    /* anchors, aliases, merge keys */
    OK("alias of a scalar", "a: &x 1\nb: *x\n", "a=1@1\nb=1@2\n"),
    OK("alias of a mapping", "a: &m {x: 1, y: 2}\nb: *m\n",
       "a/x=1@1\na/y=2@1\nb/x=1@1\nb/y=2@1\n"),
    OK("alias of a sequence", "a: &s [1, 2]\nb: *s\n", "a=1,2@1\nb=1,2@2\n"),
    OK("anchor redefined: the latest wins", "a: &x 1\nb: &x 2\nc: *x\n",
       "a=1@1\nb=2@2\nc=2@3\n"),
    OK("merge key: explicit keys win wherever they are",
       "base: &b\n  host: h\n  port: 1\nsvc:\n  port: 2\n  <<: *b\n",
       "base/host=h@2\nbase/port=1@3\nsvc/port=2@5\nsvc/host=h@2\n"),
    OK("merge list: earlier maps win",
       "a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\n"
       "c: {<<: [*a, *b], z: 3}\n",
       "a/x=1@1\na/y=1@1\nb/y=2@2\nb/z=2@2\nc/z=3@3\nc/x=1@1\nc/y=1@1\n"),
    OK("merge of an inline mapping", "c:\n  <<: {x: 1}\n  y: 2\n",
       "c/y=2@3\nc/x=1@2\n"),
    OK("merge tag", "c:\n  !!merge <<: {x: 1}\n", "c/x=1@2\n"),
    OK("merges nest", "a: &a {x: 1}\nb: &b {<<: *a, y: 2}\nc: {<<: *b}\n",
       "a/x=1@1\nb/y=2@2\nb/x=1@1\nc/y=2@2\nc/x=1@1\n"),
    OK("quoted << is an ordinary key", "'<<': 1\n", "<<=1@1\n"),
    OK("anchors do not cross documents, documents merge",
       "a: &x 1\n---\nb: 2\n", "a=1@1\nb=2@3\n"),
    /* Spring Boot documents */
    OK("later documents win key by key, lists whole",
       "a: {x: 1, y: 1}\nl: [1, 2]\n---\na: {y: 2}\nl: [3]\n",
       "a/x=1@1\na/y=2@4\nl=3@5\n"),
    OK("dotted keys are the same property as nested ones",
       "db: {url: a, user: u}\n---\ndb.url: b\n", "db/url=b@3\ndb/user=u@1\n"),
    OK("a dotted key over a scalar stays as written", "a: 1\n---\na.b: 2\n",
       "a=1@1\na.b=2@3\n"),
    OKP("on-profile selects",
        "a: 1\n---\nspring.config.activate.on-profile: prod\na: 2\n", "prod",
        "a=2@4\n"),
    OKP("on-profile skips",
        "a: 1\n---\nspring.config.activate.on-profile: prod\na: 2\n", "dev",
        "a=1@1\n"),
    OKP("on-profile nested form",
        "a: 1\n---\nspring:\n  config:\n    activate:\n      on-profile: prod\n"
        "  other: x\na: 2\n",
        "prod", "a=2@8\nspring/other=x@7\n"),
    OKP("no environment is Spring's default profile",
        "a: 1\n---\nspring.config.activate.on-profile: default\na: 2\n", NULL,
        "a=2@4\n"),
    OKP("not", "spring.config.activate.on-profile: '!prod'\na: 1\n", "dev",
        "a=1@2\n"),
    OKP("not, skipped", "spring.config.activate.on-profile: '!prod'\na: 1\n",
        "prod", ""),
    OKP("or", "spring.config.activate.on-profile: prod | staging\na: 1\n",
        "staging", "a=1@2\n"),
    OKP("and", "spring.config.activate.on-profile: prod & eu\na: 1\n", "prod",
        ""),
    OKP("parentheses",
        "spring.config.activate.on-profile: (prod | dev) & !eu\na: 1\n", "dev",
        "a=1@2\n"),
    OKP("comma list", "spring.config.activate.on-profile: qa, dev\na: 1\n",
        "dev", "a=1@2\n"),
    OKP("yaml list", "spring.config.activate.on-profile: [qa, '!prod']\na: 1\n",
        "prod", ""),
    OKP("cloud platform documents never apply",
        "a: 1\n---\nspring.config.activate.on-cloud-platform: kubernetes\n"
        "a: 2\n",
        "prod", "a=1@1\n"),
    OKP("spring.profiles.active is no selector",
        "spring:\n  profiles:\n    active: prod\n", "prod",
        "spring/profiles/active=prod@3\n"),
    /* errors: FILE:LINE:COLUMN and a one-line text */
    BAD("scanner error", "a: 1\n b: 2\n", "2:3",
        "mapping values are not allowed in this context"),
    BAD("tab indentation", "a:\n\t- x\n", "2:1",
        "found character that cannot start any token (while scanning for "
        "the next token at line 2, column 1)"),
    BAD("unterminated quote", "a: \"x\n", "2:1",
        "found unexpected end of stream (while scanning a quoted scalar at "
        "line 1, column 4)"),
    BAD("parser error", "a: [1, 2\n", "2:1",
        "did not find expected ',' or ']'"),
    BAD("bad utf-8", "a: 1\nb: \xc3\x28\n", "2:5",
        "invalid trailing UTF-8 octet (byte 10)"),
    BAD("control character", "a: 1\x01\n", "1:5",
        "control characters are not allowed"),
    BAD("undefined alias", "a: *nope\n", "1:4", "undefined alias '*nope'"),
    BAD("alias before its anchor's node ends", "a: &x [*x]\n", "1:8",
        "undefined alias '*x'"),
    BAD("duplicate key", "a: 1\nb: 2\na: 3\n", "3:1", "duplicate key 'a'"),
    BAD("duplicate key in a nested mapping", "m:\n  k: 1\n  k: 2\n", "3:3",
        "duplicate key 'k'"),
    BAD("two merge keys", "a: &a {x: 1}\nb:\n  <<: *a\n  <<: *a\n", "4:3",
        "duplicate merge key '<<'"),
    BAD("sequence as a key", "? [a, b]\n: 1\n", "1:3",
        "a mapping key must be a scalar, not a sequence"),
    BAD("mapping as a key", "? {a: 1}\n: 1\n", "1:3",
        "a mapping key must be a scalar, not a mapping"),
    BAD("empty key", "'': 1\n", "1:1", "empty key"),
    BAD("key with a NUL", "\"a\\0b\": 1\n", "1:1", "a key holds a NUL byte"),
    BAD("unknown local tag", "a: !Ref x\n", "1:4",
        "unsupported tag '!Ref' (envinject reads every value as text: "
        "remove the tag)"),
    BAD("binary tag", "a: !!binary aGk=\n", "1:4",
        "unsupported tag 'tag:yaml.org,2002:binary'"),
    BAD("unknown collection tag", "a: !!set {x}\n", "1:4",
        "unsupported tag 'tag:yaml.org,2002:set'"),
    BAD("merge of a scalar", "a:\n  <<: 1\n", "2:7",
        "the merge key '<<' takes a mapping or a list of mappings"),
    BAD("merge of a list holding a scalar", "a: &a {x: 1}\nb: {<<: [*a, 1]}\n",
        "2:9", "the merge key '<<' takes a mapping or a list of mappings"),
    BAD("top level sequence", "- a\n", "1:1",
        "top level is a sequence, expected a mapping"),
    BAD("top level scalar", "just text\n", "1:1",
        "top level is a scalar, expected a mapping"),
    BAD("second document malformed", "a: 1\n---\n- x\n", "3:1",
        "top level is a sequence"),
    BAD("legacy spring.profiles", "a: 1\n---\nspring:\n  profiles: prod\n",
        "4:3",
        "spring.profiles was removed in Spring Boot 3: use "
        "spring.config.activate.on-profile"),
    BAD("legacy spring.profiles, dotted", "spring.profiles: [prod]\n", "1:1",
        "spring.profiles was removed"),
    BADP("profiles chosen in a profile's document",
         "a: 1\n---\nspring.config.activate.on-profile: prod\n"
         "spring.profiles.active: eu\n",
         "prod", "4:1",
         "spring.profiles.active is invalid in a document with "
         "spring.config.activate.on-profile (as in Spring Boot): set it in "
         "one without"),
    OKP("... but only where the document applies",
        "a: 1\n---\nspring.config.activate.on-profile: prod\n"
        "spring:\n  profiles:\n    include: [x]\n",
        "dev", "a=1@1\n"),
    BADP("spring.profiles.include, nested",
         "spring.config.activate.on-profile: prod\n"
         "spring:\n  profiles:\n    include: [x]\n",
         "prod", "4:5", "spring.profiles.include is invalid"),
    BADP("mixed & and |", "spring.config.activate.on-profile: a & b | c\n", "a",
         "1:1",
         "spring.config.activate.on-profile: invalid profile "
         "expression"),
    BADP("unbalanced parenthesis",
         "spring.config.activate.on-profile: (a | b\n", "a", "1:1",
         "spring.config.activate.on-profile: invalid"),
    BADP("empty expression", "spring.config.activate.on-profile: ''\n", "a",
         "1:1", "spring.config.activate.on-profile: invalid"),
    BADP("empty list item", "spring.config.activate.on-profile: 'a,'\n", "a",
         "1:1", "spring.config.activate.on-profile: invalid"),
    BADP("mapping as a profile", "spring.config.activate.on-profile: {a: 1}\n",
         "a", "1:1", "spring.config.activate.on-profile: invalid"),
    BAD("NUL in a value (jsonflat's rule)", "a: \"x\\0y\"\n", "",
        "a: string holds a NUL byte"),
};

static void run_row(void **state)
{
    const struct row *r = *state;
    struct cap *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    struct ei_error err = {0};
    enum ei_status st = ei_yamlflat_parse(r->yaml, strlen(r->yaml), "f.yaml",
                                          r->profile, cap_emit, c, &err);
    if (r->status == EI_OK) {
        if (st != EI_OK)
            fail_msg("%s: status %d (%s: %s)", r->name, st, err.locator,
                     err.text);
        if (strcmp(c->out, r->want) != 0)
            fail_msg("%s: got\n%s\nwant\n%s", r->name, c->out, r->want);
    } else {
        assert_int_equal(st, r->status);
        assert_int_equal(err.status, r->status);
        const char *loc =
            r->locator[strlen("f.yaml:")] == '\0' ? "f.yaml" : r->locator;
        if (strcmp(err.locator, loc) != 0)
            fail_msg("%s: locator %s, want %s (%s)", r->name, err.locator, loc,
                     err.text);
        if (strncmp(err.text, r->want, strlen(r->want)) != 0)
            fail_msg("%s: text \"%s\", want \"%s...\"", r->name, err.text,
                     r->want);
        assert_null(strchr(err.text, '\n'));
        assert_false(isupper((unsigned char)err.text[0]));
    }
    free(c);
}

/* ei_yaml_to_json: the same reading, as a JSON tree of strings. */
struct json_row {
    const char *name;
    const char *yaml;
    const char *profile;
    const char *want; /* compact JSON, keys sorted */
};

static const struct json_row json_rows[] = {
    {"json: strings only", "a: 1\nb: true\nc: ~\nd:\n", NULL,
     "{\"a\":\"1\",\"b\":\"true\",\"c\":\"~\",\"d\":\"\"}"},
    {"json: nesting and lists", "a: {b: [1, {c: x}]}\n", NULL,
     "{\"a\":{\"b\":[\"1\",{\"c\":\"x\"}]}}"},
    {"json: empty stream is {}", "", NULL, "{}"},
    {"json: profiles and merges",
     "x: &x {k: 1}\n---\nspring.config.activate.on-profile: prod\n"
     "y: 1\n---\nz: {<<: [{k: 2}], j: 3}\n",
     "dev", "{\"x\":{\"k\":\"1\"},\"z\":{\"j\":\"3\",\"k\":\"2\"}}"},
};

static void run_json(void **state)
{
    const struct json_row *r = *state;
    struct ei_error err = {0};
    json_t *out = NULL;
    enum ei_status st =
        ei_yaml_to_json(r->yaml, strlen(r->yaml), "u", r->profile, &out, &err);
    if (st != EI_OK)
        fail_msg("%s: status %d (%s: %s)", r->name, st, err.locator, err.text);
    char *got = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
    assert_non_null(got);
    if (strcmp(got, r->want) != 0)
        fail_msg("%s: got %s, want %s", r->name, got, r->want);
    free(got);
    json_decref(out);
}

static void test_json_profiles(void **state)
{
    (void)state;
    const char *y = "a: 1\n---\nspring.config.activate.on-profile: prod\n"
                    "a: 2\nl: [x]\n";
    struct ei_error err = {0};
    json_t *out = NULL;
    assert_int_equal(ei_yaml_to_json(y, strlen(y), "u", "prod", &out, &err),
                     EI_OK);
    char *got = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(got, "{\"a\":\"2\",\"l\":[\"x\"]}");
    free(got);
    json_decref(out);
}

/* eemeli/yaml's readings (tests/fixtures/yaml/reference.json, written by
   gen.js there): every document it reads, this reader reads the same. */
static void test_reference(void **state)
{
    (void)state;
    const char *top = getenv("top_srcdir");
    char path[4096];
    snprintf(path, sizeof(path), "%s/tests/fixtures/yaml/reference.json",
             top != NULL ? top : ".");
    json_error_t je;
    json_t *ref = json_load_file(path, 0, &je);
    if (ref == NULL)
        fail_msg("%s: %s", path, je.text);
    assert_true(json_array_size(ref) >= 20);
    size_t i;
    json_t *row;
    json_array_foreach(ref, i, row)
    {
        const char *yaml = json_string_value(json_object_get(row, "yaml"));
        json_t *want = json_object_get(row, "json");
        struct ei_error err = {0};
        json_t *got = NULL;
        enum ei_status st =
            ei_yaml_to_json(yaml, strlen(yaml), "ref", NULL, &got, &err);
        if (want == NULL) {
            if (st == EI_OK)
                fail_msg("reference %zu: read, want an error", i);
            continue;
        }
        if (st != EI_OK)
            fail_msg("reference %zu: %s: %s", i, err.locator, err.text);
        if (!json_equal(got, want)) {
            char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
            char *w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS);
            fail_msg("reference %zu:\n%s\ngot  %s\nwant %s", i, yaml, g, w);
        }
        json_decref(got);
    }
    json_decref(ref);
}

/* "Billion laughs": 9^7 leaves from 272 bytes fail fast, without the
   memory they would take. */
static void test_billion_laughs(void **state)
{
    (void)state;
    char doc[2048] = "a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n";
    for (char l = 'b'; l <= 'i'; l++) {
        size_t o = strlen(doc);
        o += (size_t)snprintf(doc + o, sizeof(doc) - o, "%c: &%c [", l, l);
        for (int i = 0; i < 9; i++)
            o += (size_t)snprintf(doc + o, sizeof(doc) - o, "%s*%c",
                                  i ? "," : "", l - 1);
        snprintf(doc + o, sizeof(doc) - o, "]\n");
    }
    struct cap *c = calloc(1, sizeof(*c));
    struct ei_error err = {0};
    assert_int_equal(
        ei_yamlflat_parse(doc, strlen(doc), "f.yaml", NULL, cap_emit, c, &err),
        EI_BADDATA);
    assert_string_equal(err.locator, "f.yaml:6:8");
    assert_string_equal(err.text,
                        "aliases expand past 100000 nodes (at '*e'): a file "
                        "that expands this much is refused");
    assert_int_equal(c->calls, 0);
    free(c);
}

/* Merge keys copy through aliases as well: the bound holds for them. */
static void test_merge_bomb(void **state)
{
    (void)state;
    char doc[4096] = "a: &a {k0: 0, k1: 1, k2: 2, k3: 3, k4: 4, k5: 5, k6: "
                     "6, k7: 7, k8: 8, k9: 9}\n";
    for (char l = 'b'; l <= 'h'; l++) {
        size_t o = strlen(doc);
        o += (size_t)snprintf(doc + o, sizeof(doc) - o, "%c: &%c {", l, l);
        for (int i = 0; i < 10; i++)
            o += (size_t)snprintf(doc + o, sizeof(doc) - o, "%sm%d: *%c",
                                  i ? ", " : "", i, l - 1);
        snprintf(doc + o, sizeof(doc) - o, "}\n");
    }
    struct ei_error err = {0};
    json_t *out = NULL;
    assert_int_equal(ei_yaml_to_json(doc, strlen(doc), "f", NULL, &out, &err),
                     EI_BADDATA);
    assert_null(out);
    assert_non_null(strstr(err.text, "aliases expand past 100000 nodes"));
}

/* Entries of a large tree, counted and a few of them kept. */
struct big {
    size_t calls;
    size_t bad; /* entries that are not what the name says */
    char first[64];
    int first_line;
};

/* Names "m/kN" (or "hN/x"), values "vN" for odd N, "wN" for even N, and
   "z" for k1 (the prod document). */
static int big_emit(void *ctx, const char *const *name, size_t name_n,
                    const char *value, size_t value_len, int line,
                    unsigned flags, struct ei_error *err)
{
    (void)flags;
    (void)err;
    struct big *b = ctx;
    if (b->calls++ == 0) {
        snprintf(b->first, sizeof(b->first), "%s/%s=%s", name[0],
                 name_n > 1 ? name[1] : "", value);
        b->first_line = line;
    }
    char want[32];
    long n;
    if (name_n == 2 && strcmp(name[1], "x") == 0) {
        n = strtol(name[0] + 1, NULL, 10);
        snprintf(want, sizeof(want), "h%ld", n);
    } else {
        n = strtol(name[1] + 1, NULL, 10);
        snprintf(want, sizeof(want), "%s%ld", n % 2 ? "v" : "w", n);
        if (n == 1)
            snprintf(want, sizeof(want), "z");
    }
    if (name_n != 2 || strlen(want) != value_len || strcmp(want, value) != 0 ||
        line <= 0)
        b->bad++;
    return 0;
}

/*
 * One mapping of 5,000 members (the member index grows several times),
 * a second document that replaces half of them through dotted names and
 * adds 3,000 new heads (each a text copied from the buffer while it
 * grows), a third for prod only; and a duplicate found among thousands.
 */
static void test_large_tree(void **state)
{
    (void)state;
    enum { N = 5000, HEADS = 3000 };
    size_t cap = 64 * (N + HEADS) + 256, o = 0;
    char *doc = malloc(cap);
    assert_non_null(doc);
    o += (size_t)snprintf(doc + o, cap - o, "m:\n");
    for (int i = 0; i < N; i++)
        o += (size_t)snprintf(doc + o, cap - o, "  k%d: %s%d\n", i,
                              i % 2 ? "v" : "x", i);
    o += (size_t)snprintf(doc + o, cap - o, "---\n");
    for (int i = 0; i < N; i += 2)
        o += (size_t)snprintf(doc + o, cap - o, "m.k%d: w%d\n", i, i);
    for (int i = 0; i < HEADS; i++)
        o += (size_t)snprintf(doc + o, cap - o, "h%d.x: h%d\n", i, i);
    o += (size_t)snprintf(doc + o, cap - o,
                          "---\nspring.config.activate.on-profile: prod\n"
                          "m.k1: z\n");
    struct big b = {0};
    struct ei_error err = {0};
    assert_int_equal(
        ei_yamlflat_parse(doc, o, "f.yaml", "prod", big_emit, &b, &err), EI_OK);
    assert_int_equal(b.calls, N + HEADS);
    assert_int_equal(b.bad, 0);
    /* a replaced member keeps its place in the order, with its new line */
    assert_string_equal(b.first, "m/k0=w0");
    assert_int_equal(b.first_line, N + 3);

    o = (size_t)snprintf(doc, cap, "m:\n");
    for (int i = 0; i < N; i++)
        o += (size_t)snprintf(doc + o, cap - o, "  k%d: v\n", i);
    o += (size_t)snprintf(doc + o, cap - o, "  k4321: again\n");
    b = (struct big){0};
    assert_int_equal(
        ei_yamlflat_parse(doc, o, "f.yaml", NULL, big_emit, &b, &err),
        EI_BADDATA);
    assert_string_equal(err.locator, "f.yaml:5002:3");
    assert_string_equal(err.text, "duplicate key 'k4321'");
    assert_int_equal(b.calls, 0);
    free(doc);
}

/* 100,000 aliases of one long string: few nodes, much text. */
static void test_long_string_bomb(void **state)
{
    (void)state;
    size_t big = 200 * 1024, n = 200, cap = big + n * 4 + 64;
    char *doc = malloc(cap);
    assert_non_null(doc);
    size_t o = (size_t)snprintf(doc, cap, "a: &s ");
    memset(doc + o, 'x', big);
    o += big;
    o += (size_t)snprintf(doc + o, cap - o, "\nb: [");
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(doc + o, cap - o, "%s*s", i ? "," : "");
    o += (size_t)snprintf(doc + o, cap - o, "]\n");
    struct ei_error err = {0};
    json_t *out = NULL;
    assert_int_equal(ei_yaml_to_json(doc, o, "f", NULL, &out, &err),
                     EI_BADDATA);
    /* 16 MiB / 200 KiB: the 82nd alias is one too many */
    assert_string_equal(err.locator, "f:2:248");
    assert_string_equal(err.text,
                        "aliases copy more than 16 MiB of text (at '*s'): a "
                        "file that expands this much is refused");
    free(doc);
}

/* 64 levels are read, 65 are not, written or through an alias. */
static void test_depth(void **state)
{
    (void)state;
    char doc[512];
    for (int levels = 64; levels <= 65; levels++) {
        size_t o = 0;
        for (int i = 0; i < levels; i++)
            doc[o++] = '[';
        for (int i = 0; i < levels; i++)
            doc[o++] = ']';
        doc[o] = '\0';
        char full[600];
        snprintf(full, sizeof(full), "a: %s\n", doc);
        struct ei_error err = {0};
        json_t *out = NULL;
        enum ei_status st =
            ei_yaml_to_json(full, strlen(full), "f", NULL, &out, &err);
        if (levels == 64) {
            /* the mapping and 63 sequences */
            assert_int_equal(st, EI_BADDATA);
            assert_string_equal(err.locator, "f:1:67");
        } else
            assert_int_equal(st, EI_BADDATA);
        assert_string_equal(err.text, "nesting deeper than 64 levels");
        json_decref(out);
    }
    /* 63 sequences in the mapping: 64 levels, read */
    char ok[200] = "a: ";
    for (int i = 0; i < 63; i++)
        strcat(ok, "[");
    for (int i = 0; i < 63; i++)
        strcat(ok, "]");
    struct ei_error err = {0};
    json_t *out = NULL;
    assert_int_equal(ei_yaml_to_json(ok, strlen(ok), "f", NULL, &out, &err),
                     EI_OK);
    json_decref(out);
    /* an alias that would reach 65 */
    char deep[300] = "x: &d ";
    for (int i = 0; i < 62; i++)
        strcat(deep, "[");
    for (int i = 0; i < 62; i++)
        strcat(deep, "]");
    strcat(deep, "\ny: [[*d]]\n");
    err = (struct ei_error){0};
    assert_int_equal(ei_yaml_to_json(deep, strlen(deep), "f", NULL, &out, &err),
                     EI_BADDATA);
    assert_string_equal(err.text,
                        "nesting deeper than 64 levels (through '*d')");
}

/* The callback's refusal stops the walk with its status. */
static void test_callback_stops(void **state)
{
    (void)state;
    struct cap *c = calloc(1, sizeof(*c));
    c->fail_at = 2;
    struct ei_error err = {0};
    const char *y = "a: 1\nb: 2\nc: 3\n";
    assert_int_equal(
        ei_yamlflat_parse(y, strlen(y), "f.yaml", NULL, cap_emit, c, &err),
        EI_DENIED);
    assert_int_equal(c->calls, 2);
    free(c);
}

/* Values never reach error texts. */
static void test_no_value_in_errors(void **state)
{
    (void)state;
    static const char *const docs[] = {
        "a: \"CANARY\n",        "a: CANARY\n b: CANARY\n",
        "a: [CANARY, CANARY\n", "CANARY: 1\n- CANARY\n",
        "a: CANARY\x01\n",      "a: &CANARYx 1\nb: *CANARYy\n",
    };
    for (size_t i = 0; i < ARRAY_LEN(docs); i++) {
        struct cap *c = calloc(1, sizeof(*c));
        struct ei_error err = {0};
        assert_int_not_equal(ei_yamlflat_parse(docs[i], strlen(docs[i]), "f",
                                               NULL, cap_emit, c, &err),
                             EI_OK);
        /* an anchor name is a name, quoted in the error; values never are */
        if (i != 5)
            assert_null(strstr(err.text, "CANARY"));
        free(c);
    }
}

static void test_arguments(void **state)
{
    (void)state;
    struct ei_error err = {0};
    json_t *out = NULL;
    assert_true(ei_yamlflat_available());
    assert_int_equal(
        ei_yamlflat_parse(NULL, 3, "f", NULL, cap_emit, NULL, &err),
        EI_INTERNAL);
    err = (struct ei_error){0};
    assert_int_equal(ei_yaml_to_json("a: 1", 4, NULL, NULL, NULL, &err),
                     EI_INTERNAL);
    err = (struct ei_error){0};
    /* not NUL-terminated: len is the end */
    assert_int_equal(ei_yaml_to_json("a: 1xyz", 4, NULL, NULL, &out, &err),
                     EI_OK);
    char *got = json_dumps(out, JSON_COMPACT);
    assert_string_equal(got, "{\"a\":\"1\"}");
    free(got);
    json_decref(out);
}

#else /* built without libyaml: both functions say so, naming the package */

static void test_not_built_in(void **state)
{
    (void)state;
    struct ei_error err = {0};
    json_t *out = (json_t *)&err;
    assert_false(ei_yamlflat_available());
    assert_int_equal(
        ei_yamlflat_parse("a: 1", 4, "f.yaml", NULL, NULL, NULL, &err),
        EI_BADCONFIG);
    assert_string_equal(err.locator, "f.yaml");
    assert_non_null(strstr(err.text, "libyaml-dev"));
    err = (struct ei_error){0};
    assert_int_equal(ei_yaml_to_json("a: 1", 4, "u", NULL, &out, &err),
                     EI_BADCONFIG);
    assert_null(out);
    assert_non_null(strstr(err.text, "libyaml-dev"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_not_built_in)};
    return cmocka_run_group_tests_name("yamlflat", tests, NULL, NULL);
}
#endif

#ifdef EI_HAVE_LIBYAML
int main(void)
{
    static struct CMUnitTest tests[ARRAY_LEN(rows) + ARRAY_LEN(json_rows) + 12];
    size_t k = 0;
    for (size_t i = 0; i < ARRAY_LEN(rows); i++)
        tests[k++] = (struct CMUnitTest){rows[i].name, run_row, NULL, NULL,
                                         (void *)&rows[i]};
    for (size_t i = 0; i < ARRAY_LEN(json_rows); i++)
        tests[k++] = (struct CMUnitTest){json_rows[i].name, run_json, NULL,
                                         NULL, (void *)&json_rows[i]};
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_json_profiles);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_reference);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_billion_laughs);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_merge_bomb);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_long_string_bomb);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_large_tree);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_depth);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_callback_stops);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_no_value_in_errors);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_arguments);
    return _cmocka_run_group_tests("yamlflat", tests, k, NULL, NULL);
}
#endif
