/* SPDX-License-Identifier: MIT */
/* The launchdarkly evaluator judged by the real one: every context x flag
   that LaunchDarkly's Node server-side SDK answered (tests/fixtures/
   launchdarkly, made by generate.js there) must come out the same; then
   the bucketing vectors of the reference and the cases the evaluator
   must refuse rather than guess. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include <sodium.h>

#include "common/sha1.h"
#include "launchdarkly/eval.h"

static json_t *load_fixture(const char *name)
{
    const char *top = getenv("top_srcdir");
    char path[4096];
    snprintf(path, sizeof(path), "%s/tests/fixtures/launchdarkly/%s",
             top != NULL ? top : ".", name);
    json_error_t je;
    json_t *j = json_load_file(path, JSON_DECODE_INT_AS_REAL, &je);
    if (j == NULL)
        fail_msg("%s: %s (line %d)", path, je.text, je.line);
    return j;
}

/* A fixture's text as it is, through the provider's own reader. */
static struct ld_data *load_data(const char *name)
{
    const char *top = getenv("top_srcdir");
    char path[4096];
    snprintf(path, sizeof(path), "%s/tests/fixtures/launchdarkly/%s",
             top != NULL ? top : ".", name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("%s: cannot open", path);
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap != 0 ? cap * 2 : 65536;
            text = realloc(text, cap + 1);
            assert_non_null(text);
        }
        size_t got = fread(text + len, 1, cap - len, f);
        if (got == 0)
            break;
        len += got;
    }
    fclose(f);
    text[len] = '\0';
    char why[LD_WHY_LEN];
    bool nomem;
    struct ld_data *data = ld_data_load(text, len, why, sizeof(why), &nomem);
    if (data == NULL)
        fail_msg("%s: %s", name, why);
    free(text);
    return data;
}

/* Every answer of the SDK, in the order the generator wrote them. */
static void test_sdk_answers(void **state)
{
    (void)state;
    struct ld_data *data = load_data("data.json");
    json_t *contexts = load_fixture("contexts.json");
    json_t *results = load_fixture("results.json");
    assert_int_equal(json_array_size(contexts), json_array_size(results));
    size_t matched = 0, total = 0, values = 0, novalues = 0, errors = 0;
    size_t ci;
    json_t *ctx;
    json_array_foreach(contexts, ci, ctx)
    {
        char why[LD_WHY_LEN];
        bool nomem;
        struct ld_eval *ev = ld_eval_new(data, ctx, why, sizeof(why), &nomem);
        if (ev == NULL)
            fail_msg("context %zu: %s", ci, why);
        const char *flag;
        json_t *want;
        json_object_foreach(json_array_get(results, ci), flag, want)
        {
            struct ld_result res;
            ld_eval_flag(ev, flag, &res);
            total++;
            bool ok;
            if (json_is_string(want)) {
                ok = res.outcome == LD_ERROR;
                errors += ok;
            } else if (json_is_null(want)) {
                ok = res.outcome == LD_NOVALUE;
                novalues += ok;
            } else {
                ok = res.outcome == LD_VALUE &&
                     (double)res.variation ==
                         json_number_value(json_array_get(want, 0)) &&
                     json_equal((json_t *)res.value, json_array_get(want, 1));
                values += ok;
            }
            if (ok) {
                matched++;
            } else {
                char *c = json_dumps(ctx, JSON_COMPACT | JSON_SORT_KEYS);
                char *w = json_dumps(want, JSON_COMPACT | JSON_ENCODE_ANY);
                print_error("context %zu %s, flag %s: the SDK says %s, the "
                            "evaluator %d/%ld (%s)\n",
                            ci, c, flag, w, (int)res.outcome, res.variation,
                            res.why);
                free(c);
                free(w);
            }
        }
        ld_eval_free(ev);
    }
    print_message("%zu of %zu contexts x flags match the SDK (%zu values, "
                  "%zu without a value, %zu errors)\n",
                  matched, total, values, novalues, errors);
    ld_data_free(data);
    json_decref(contexts);
    json_decref(results);
    assert_int_equal(matched, total);
    assert_true(total > 30000);
}

/* The worked values of the reference, section 5.5. */
static void test_bucket_vectors(void **state)
{
    (void)state;
    static const struct {
        const char *input;
        double bucket;
    } rows[] = {
        {"hashKey.saltyA.userKeyA", 0.42157587},
        {"hashKey.saltyA.userKeyB", 0.6708485},
        {"hashKey.saltyA.userKeyC", 0.10343106},
        {"hashKey.saltyA.33333", 0.54771423},
        {"hashKey.saltyA.99999", 0.7309658},
        {"61.userKeyA", 0.09801207},
        {"61.userKeyB", 0.14483777},
        {"61.userKeyC", 0.9242641},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        double b = -1;
        assert_int_equal(ld_bucket_of(rows[i].input, strlen(rows[i].input), &b),
                         0);
        assert_true(b > rows[i].bucket - 1e-7 && b < rows[i].bucket + 1e-7);
    }
}

/* One flag over one context: the outcome and the reason's words. */
struct refuse_row {
    const char *name;
    const char *data;    /* latest-all */
    const char *context; /* JSON */
    enum ld_outcome outcome;
    long variation;  /* LD_VALUE */
    const char *why; /* a part of the reason, LD_ERROR and LD_NOVALUE */
};

#define FLAG(rest)                                                             \
    "{\"flags\":{\"f\":{\"key\":\"f\",\"on\":true,\"salt\":\"s\","             \
    "\"variations\":[\"a\",\"b\",\"c\"],\"offVariation\":0," rest "}},"        \
    "\"segments\":{\"big\":{\"key\":\"big\",\"unbounded\":true},"              \
    "\"loop\":{\"key\":\"loop\",\"rules\":[{\"clauses\":[{\"op\":"             \
    "\"segmentMatch\",\"values\":[\"loop\"]}]}]}}}"
#define RULE(clause)                                                           \
    "\"rules\":[{\"id\":\"r\",\"variation\":1,\"clauses\":[" clause "]}],"     \
    "\"fallthrough\":{\"variation\":2}"
#define USER "{\"kind\":\"user\",\"key\":\"u\",\"s\":\"text\",\"n\":3}"

static const struct refuse_row refuse_rows[] = {
    {"unknown operator",
     FLAG(RULE("{\"attribute\":\"s\",\"op\":\"fuzzy\","
               "\"values\":[\"x\"]}")),
     USER, LD_ERROR, -1, "unknown clause operator \"fuzzy\""},
    {"unknown operator not reached",
     FLAG(RULE("{\"attribute\":\"s\",\"op\":\"in\",\"values\":[\"x\"]},"
               "{\"attribute\":\"s\",\"op\":\"fuzzy\",\"values\":[\"x\"]}")),
     USER, LD_VALUE, 2, NULL},
    {"regex with \\d",
     FLAG(RULE("{\"attribute\":\"s\",\"op\":\"matches\","
               "\"values\":[\"\\\\d+\"]}")),
     USER, LD_ERROR, -1, "POSIX cannot read it"},
    {"regex lazy",
     FLAG(RULE("{\"attribute\":\"s\",\"op\":\"matches\","
               "\"values\":[\"t.*?t\"]}")),
     USER, LD_ERROR, -1, "lazy"},
    {"regex (?i)",
     FLAG(RULE("{\"attribute\":\"s\",\"op\":\"matches\","
               "\"values\":[\"(?i)TEXT\"]}")),
     USER, LD_ERROR, -1, "(? syntax"},
    {"regex class",
     FLAG(RULE("{\"attribute\":\"s\",\"op\":\"matches\","
               "\"values\":[\"[[:alpha:]]\"]}")),
     USER, LD_ERROR, -1, "bracket list"},
    {"regex portable",
     FLAG(RULE("{\"attribute\":\"s\",\"op\":\"matches\","
               "\"values\":[\"^te(x|y)t{1,2}$\"]}")),
     USER, LD_VALUE, 1, NULL},
    {"regex over non-ASCII",
     FLAG(RULE("{\"attribute\":\"s\",\"op\":\"matches\",\"values\":[\"t.t\"]"
               "}")),
     "{\"kind\":\"user\",\"key\":\"u\",\"s\":\"t\\u00e9t\"}", LD_ERROR, -1,
     "non-ASCII"},
    {"big segment",
     FLAG(RULE("{\"op\":\"segmentMatch\",\"values\":[\"big\"]}")), USER,
     LD_ERROR, -1, "big segment"},
    {"segment cycle",
     FLAG(RULE("{\"op\":\"segmentMatch\",\"values\":[\"loop\"]}")), USER,
     LD_ERROR, -1, "refers to itself"},
    {"variation out of range", FLAG("\"fallthrough\":{\"variation\":3}"), USER,
     LD_ERROR, -1, "out of range"},
    {"empty rollout", FLAG("\"fallthrough\":{\"rollout\":{\"variations\":[]}}"),
     USER, LD_ERROR, -1, "neither a variation nor a rollout"},
    {"no fallthrough", FLAG("\"rules\":[]"), USER, LD_ERROR, -1,
     "no fallthrough"},
    {"prerequisite cycle",
     FLAG("\"prerequisites\":[{\"key\":\"f\",\"variation\":1}],"
          "\"fallthrough\":{\"variation\":1}"),
     USER, LD_ERROR, -1, "prerequisite cycle"},
    {"off without offVariation",
     "{\"flags\":{\"f\":{\"key\":\"f\",\"on\":false,\"variations\":[1]}}}",
     USER, LD_NOVALUE, -1, "off, and no offVariation"},
    {"migration flag",
     FLAG("\"migration\":{\"checkRatio\":1},\"fallthrough\":{\"variation\":1}"),
     USER, LD_ERROR, -1, "migration"},
    {"ambiguous date",
     FLAG(RULE("{\"attribute\":\"s\",\"op\":\"before\",\"values\":"
               "[\"2020-01-01T00:00:00+0100\"]}")),
     "{\"kind\":\"user\",\"key\":\"u\",\"s\":\"2019-01-01T00:00:00Z\"}",
     LD_ERROR, -1, "not plain RFC 3339"},
    {"not a date at all",
     FLAG(RULE("{\"attribute\":\"s\",\"op\":\"before\",\"values\":"
               "[\"2020-01-01T00:00:00Z\"]}")),
     USER, LD_VALUE, 2, NULL},
    {"semver with blanks",
     FLAG(RULE("{\"attribute\":\"s\",\"op\":\"semVerEqual\",\"values\":"
               "[\"1.0.0\"]}")),
     "{\"kind\":\"user\",\"key\":\"u\",\"s\":\" 1.0.0\"}", LD_ERROR, -1,
     "blanks"},
    {"seed 0",
     FLAG("\"fallthrough\":{\"rollout\":{\"seed\":0,"
          "\"variations\":[{\"variation\":0,\"weight\":100000}]}}"),
     USER, LD_ERROR, -1, "seed"},
    {"reference ~ start",
     FLAG(RULE("{\"contextKind\":\"user\",\"attribute\":\"/~1a\",\"op\":"
               "\"in\",\"values\":[\"x\"]}")),
     USER, LD_ERROR, -1, "starting with '~'"},
    {"invalid reference",
     FLAG(RULE("{\"contextKind\":\"user\",\"attribute\":"
               "\"a//b\",\"op\":\"in\",\"values\":[1]}")),
     USER, LD_ERROR, -1, "invalid attribute reference"},
    {"no such flag", "{\"flags\":{}}", USER, LD_ERROR, -1, "no such flag"},
    {"deleted flag", "{\"flags\":{\"f\":{\"deleted\":true}}}", USER, LD_ERROR,
     -1, "no such flag"},
};

static void test_refusals(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(refuse_rows) / sizeof(refuse_rows[0]); i++) {
        const struct refuse_row *r = &refuse_rows[i];
        char why[LD_WHY_LEN];
        bool nomem;
        struct ld_data *data =
            ld_data_load(r->data, strlen(r->data), why, sizeof(why), &nomem);
        if (data == NULL)
            fail_msg("%s: %s", r->name, why);
        json_t *ctx = json_loads(r->context, 0, NULL);
        assert_non_null(ctx);
        struct ld_eval *ev = ld_eval_new(data, ctx, why, sizeof(why), &nomem);
        if (ev == NULL)
            fail_msg("%s: %s", r->name, why);
        struct ld_result res;
        ld_eval_flag(ev, "f", &res);
        if (res.outcome != r->outcome ||
            (r->outcome == LD_VALUE && res.variation != r->variation) ||
            (r->why != NULL && strstr(res.why, r->why) == NULL))
            fail_msg("%s: outcome %d variation %ld why \"%s\"", r->name,
                     (int)res.outcome, res.variation, res.why);
        ld_eval_free(ev);
        json_decref(ctx);
        ld_data_free(data);
    }
}

/*
 * One evaluator remembers, for its context, a regular expression's verdict
 * and compiled form, an attribute's value and a segment's answer: the
 * flags evaluated after the first that shares them get the answers and the
 * errors they would get alone.
 */
#define MEMO_RX(attr, pattern)                                                 \
    "{\"attribute\":\"" attr "\",\"op\":\"matches\",\"values\":[\"" pattern    \
    "\"]}"
#define MEMO_SEG(seg, negate)                                                  \
    "{\"op\":\"segmentMatch\",\"values\":[\"" seg "\"],\"negate\":" negate "}"
#define MEMO_IN(kind, attr)                                                    \
    "{" kind "\"attribute\":\"" attr "\",\"op\":\"in\",\"values\":[\"text\"]}"

static const struct {
    const char *flag;
    const char *clause; /* its one rule's one clause */
    enum ld_outcome outcome;
    long variation;
    const char *why;
} memo_rows[] = {
    /* the pattern compiled for rx1 answers for another subject */
    {"rx1", MEMO_RX("s", "^te(x|y)t$"), LD_VALUE, 1, NULL},
    {"rx2", MEMO_RX("t", "^te(x|y)t$"), LD_VALUE, 2, NULL},
    /* a refused pattern is refused each time */
    {"rxbad1", MEMO_RX("s", "\\\\d+"), LD_ERROR, -1, "POSIX cannot read it"},
    {"rxbad2", MEMO_RX("t", "\\\\d+"), LD_ERROR, -1, "POSIX cannot read it"},
    /* the subject is checked each time */
    {"dot1", MEMO_RX("s", "t.xt"), LD_VALUE, 1, NULL},
    {"dot2", MEMO_RX("w", "t.xt"), LD_ERROR, -1, "non-ASCII"},
    /* the same attribute of another kind is another value */
    {"attr1", MEMO_IN("", "s"), LD_VALUE, 1, NULL},
    {"attr2", MEMO_IN("\"contextKind\":\"org\",", "s"), LD_VALUE, 2, NULL},
    {"attr3", MEMO_IN("\"contextKind\":\"user\",", "s"), LD_VALUE, 1, NULL},
    /* an invalid reference is an error each time */
    {"ref1", MEMO_IN("\"contextKind\":\"user\",", "a//b"), LD_ERROR, -1,
     "invalid attribute reference"},
    {"ref2", MEMO_IN("\"contextKind\":\"user\",", "a//b"), LD_ERROR, -1,
     "invalid attribute reference"},
    /* a segment reached through another, then from flags */
    {"nest", MEMO_SEG("outer", "false"), LD_VALUE, 1, NULL},
    {"inner", MEMO_SEG("inner", "false"), LD_VALUE, 1, NULL},
    {"seg1", MEMO_SEG("inner", "false"), LD_VALUE, 1, NULL},
    {"segneg", MEMO_SEG("inner", "true"), LD_VALUE, 2, NULL},
    /* a cycle is an error each time */
    {"loop1", MEMO_SEG("loop", "false"), LD_ERROR, -1, "refers to itself"},
    {"loop2", MEMO_SEG("loop", "false"), LD_ERROR, -1, "refers to itself"},
    {"none", MEMO_SEG("other", "false"), LD_VALUE, 2, NULL},
};

static void test_memo(void **state)
{
    (void)state;
    enum { ROWS = sizeof(memo_rows) / sizeof(memo_rows[0]) };
    char doc[8192];
    size_t n = (size_t)snprintf(doc, sizeof(doc), "{\"flags\":{");
    for (size_t i = 0; i < ROWS; i++)
        n += (size_t)snprintf(
            doc + n, sizeof(doc) - n,
            "%s\"%s\":{\"key\":\"%s\",\"on\":true,\"variations\":[0,1,2],"
            "\"rules\":[{\"variation\":1,\"clauses\":[%s]}],"
            "\"fallthrough\":{\"variation\":2}}",
            i > 0 ? "," : "", memo_rows[i].flag, memo_rows[i].flag,
            memo_rows[i].clause);
    n += (size_t)snprintf(
        doc + n, sizeof(doc) - n,
        "},\"segments\":{"
        "\"inner\":{\"key\":\"inner\",\"included\":[\"u\"]},"
        "\"outer\":{\"key\":\"outer\",\"rules\":[{\"clauses\":[%s]}]},"
        "\"other\":{\"key\":\"other\",\"included\":[\"v\"]},"
        "\"loop\":{\"key\":\"loop\",\"rules\":[{\"clauses\":[%s]}]}}}",
        MEMO_SEG("inner", "false"), MEMO_SEG("loop", "false"));
    assert_true(n < sizeof(doc));
    char why[LD_WHY_LEN];
    bool nomem;
    struct ld_data *data = ld_data_load(doc, n, why, sizeof(why), &nomem);
    if (data == NULL)
        fail_msg("%s", why);
    json_t *ctx = json_loads("{\"kind\":\"user\",\"key\":\"u\",\"s\":\"text\","
                             "\"t\":\"toxt\",\"w\":\"t\\u00e9xt\"}",
                             0, NULL);
    assert_non_null(ctx);
    /* in order, then backwards: each flag after its first evaluation
       finds what it shares remembered */
    for (int pass = 0; pass < 2; pass++) {
        struct ld_eval *ev = ld_eval_new(data, ctx, why, sizeof(why), &nomem);
        if (ev == NULL)
            fail_msg("%s", why);
        for (size_t j = 0; j < 2 * ROWS; j++) {
            size_t k = j % ROWS;
            if (pass == 1)
                k = ROWS - 1 - k;
            struct ld_result res;
            ld_eval_flag(ev, memo_rows[k].flag, &res);
            if (res.outcome != memo_rows[k].outcome ||
                (res.outcome == LD_VALUE &&
                 res.variation != memo_rows[k].variation) ||
                (memo_rows[k].why != NULL &&
                 strstr(res.why, memo_rows[k].why) == NULL))
                fail_msg("%s (pass %d): outcome %d variation %ld why \"%s\"",
                         memo_rows[k].flag, pass, (int)res.outcome,
                         res.variation, res.why);
        }
        ld_eval_free(ev);
    }
    json_decref(ctx);
    ld_data_free(data);
}

static void test_bad_documents(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        const char *why;
    } rows[] = {
        {"", "malformed JSON"},
        {"[]", "not a JSON object"},
        {"{}", "\"flags\" is missing"},
        {"{\"flags\":[]}", "\"flags\" is missing or not an object"},
        {"{\"flags\":{},\"segments\":1}", "\"segments\" is not"},
        {"{\"flags\":{\"k\":\"EI_SECRET_VALUE\"", "malformed JSON"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char why[LD_WHY_LEN];
        bool nomem = true;
        struct ld_data *d = ld_data_load(rows[i].body, strlen(rows[i].body),
                                         why, sizeof(why), &nomem);
        assert_null(d);
        assert_false(nomem);
        if (strstr(why, rows[i].why) == NULL || strstr(why, "EI_SECRET"))
            fail_msg("row %zu: %s", i, why);
    }
    static const char *const bad_ctx[] = {"[]",
                                          "{\"key\":\"u\"}",
                                          "{\"kind\":\"user\"}",
                                          "{\"kind\":\"user\",\"key\":\"\"}",
                                          "{\"kind\":\"kind\",\"key\":\"u\"}",
                                          "{\"kind\":\"multi\"}",
                                          "{\"kind\":\"multi\",\"user\":{}}",
                                          "{\"kind\":\"us er\",\"key\":\"u\"}"};
    char why[LD_WHY_LEN];
    bool nomem;
    struct ld_data *data =
        ld_data_load("{\"flags\":{}}", 12, why, sizeof(why), &nomem);
    for (size_t i = 0; i < sizeof(bad_ctx) / sizeof(bad_ctx[0]); i++) {
        json_t *ctx = json_loads(bad_ctx[i], 0, NULL);
        assert_null(ld_eval_new(data, ctx, why, sizeof(why), &nomem));
        assert_true(why[0] != '\0');
        json_decref(ctx);
    }
    ld_data_free(data);
}

/*
 * The reader takes exactly what jansson takes, and reads strings and
 * numbers as it does: each body, with a flag whose variation is the value
 * under test, against jansson's own parse of it.
 */
static void test_reader_like_jansson(void **state)
{
    (void)state;
    static const struct {
        const char *value; /* the variation, as text */
        size_t len;        /* 0: strlen */
        bool taken;        /* by jansson, so by the reader */
    } rows[] = {
        {"\"plain\"", 0, true},
        {"\"esc \\\" \\\\ \\/ \\b \\f \\n \\r \\t\"", 0, true},
        {"\"\\u00e9 \\u20AC \\ud83d\\ude00\"", 0, true},
        {"\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"", 0, true},
        {"\"\\ud83d\"", 0, false},          /* a lone high surrogate */
        {"\"\\ude00\"", 0, false},          /* a lone low surrogate */
        {"\"\\u0000\"", 0, false},          /* NUL */
        {"\"\\x\"", 0, false},              /* no such escape */
        {"\"\\u12G4\"", 0, false},          /* not hex */
        {"\"\xc0\xaf\"", 0, false},         /* overlong */
        {"\"\xed\xa0\x80\"", 0, false},     /* a surrogate in UTF-8 */
        {"\"\xf4\x90\x80\x80\"", 0, false}, /* past U+10FFFF */
        {"\"\xe2\x82\"", 0, false},         /* cut short */
        {"\"tab\there\"", 0, false},        /* a control byte */
        {"-0.5e+3", 0, true},
        {"1E400", 0, false}, /* overflows */
        {"1e-400", 0, true},
        {"012", 0, false},
        {"1.", 0, false},
        {"-", 0, false},
        {"+1", 0, false},
        {".5", 0, false},
        {"9007199254740993", 0, true},
        {"true", 0, true},
        {"truex", 0, false},
        {"nul", 0, false},
        {"true\0", 5, true}, /* jansson skips one NUL after a word */
        {"1\0", 2, true},
        {"1\0\0", 3, false},
        {"\"s\"\0", 4, false},
        {"[1,2,]", 0, false},
        {"{\"a\":1,\"a\":2}", 0, true},
        {"{\"a\" 1}", 0, false},
        {"[ 1 , { } , [ ] ]", 0, true},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        size_t vlen = rows[i].len != 0 ? rows[i].len : strlen(rows[i].value);
        char doc[512];
        int n = snprintf(doc, sizeof(doc),
                         "{\"flags\":{\"f\":{\"on\":false,"
                         "\"offVariation\":0,\"variations\":[");
        memcpy(doc + n, rows[i].value, vlen);
        n += (int)vlen;
        n += snprintf(doc + n, sizeof(doc) - (size_t)n, "]}}}");
        json_t *ref = json_loadb(doc, (size_t)n, JSON_DECODE_INT_AS_REAL, NULL);
        char why[LD_WHY_LEN];
        bool nomem;
        struct ld_data *data =
            ld_data_load(doc, (size_t)n, why, sizeof(why), &nomem);
        if ((data != NULL) != (ref != NULL) || (ref != NULL) != rows[i].taken)
            fail_msg("row %zu: the reader %s, jansson %s", i,
                     data != NULL ? "takes it" : why,
                     ref != NULL ? "takes it" : "does not");
        if (data != NULL) {
            json_t *ctx =
                json_loads("{\"kind\":\"user\",\"key\":\"u\"}", 0, NULL);
            struct ld_eval *ev =
                ld_eval_new(data, ctx, why, sizeof(why), &nomem);
            assert_non_null(ev);
            struct ld_result res;
            ld_eval_flag(ev, "f", &res);
            json_t *want = json_array_get(
                json_object_get(
                    json_object_get(json_object_get(ref, "flags"), "f"),
                    "variations"),
                0);
            if (res.outcome != LD_VALUE ||
                !json_equal((json_t *)res.value, want))
                fail_msg("row %zu: another value than jansson's", i);
            ld_eval_free(ev);
            json_decref(ctx);
        }
        ld_data_free(data);
        json_decref(ref);
    }
    /* jansson's depth limit, around the variation's own depth */
    size_t taken = 0, refused = 0;
    for (size_t k = 2040; k < 2048; k++) {
        static char doc[8192];
        size_t n = (size_t)snprintf(doc, sizeof(doc),
                                    "{\"flags\":{\"f\":{\"variations\":[");
        memset(doc + n, '[', k);
        n += k;
        doc[n++] = '1';
        memset(doc + n, ']', k);
        n += k;
        n += (size_t)snprintf(doc + n, sizeof(doc) - n, "]}}}");
        json_t *ref = json_loadb(doc, n, JSON_DECODE_INT_AS_REAL, NULL);
        char why[LD_WHY_LEN];
        bool nomem;
        struct ld_data *data = ld_data_load(doc, n, why, sizeof(why), &nomem);
        assert_true((data != NULL) == (ref != NULL));
        taken += ref != NULL;
        refused += ref == NULL;
        ld_data_free(data);
        json_decref(ref);
    }
    assert_true(taken > 0 && refused > 0);
}

/* libcrypto's SHA-256 (the launchdarkly layer's revision) against FIPS
   180-2's "abc" example and libsodium's digest of 2 MB */
static void test_sha256(void **state)
{
    (void)state;
    char why[128] = "";
    struct ei_sha1 *s = ei_sha256_new(why, sizeof(why));
    if (s == NULL)
        fail_msg("%s", why);
    unsigned char d[EI_SHA256_LEN], e[EI_SHA256_LEN], one[EI_SHA1_LEN];
    char hex[2 * EI_SHA256_LEN + 1];
    assert_int_equal(ei_sha256_digest(s, "abc", 3, d), 0);
    sodium_bin2hex(hex, sizeof(hex), d, sizeof(d));
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
                             "b00361a396177a9cb410ff61f20015ad");
    size_t n = 2 * 1024 * 1024;
    unsigned char *big = malloc(n);
    assert_non_null(big);
    for (size_t i = 0; i < n; i++)
        big[i] = (unsigned char)(i * 31 + 7);
    assert_int_equal(ei_sha256_digest(s, big, n, d), 0);
    crypto_hash_sha256(e, big, n);
    assert_memory_equal(d, e, sizeof(d));
    /* a SHA-256 hasher is no SHA-1 hasher */
    assert_int_equal(ei_sha1_digest(s, "abc", 3, one), -1);
    free(big);
    ei_sha1_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sdk_answers),
        cmocka_unit_test(test_bucket_vectors),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_memo),
        cmocka_unit_test(test_bad_documents),
        cmocka_unit_test(test_reader_like_jansson),
        cmocka_unit_test(test_sha256),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
