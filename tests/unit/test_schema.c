/* SPDX-License-Identifier: MIT */
/* Unit tests of schema.c: reading rules, types, bounds, require, defaults,
   secret marking, rule preparation and the problem list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "diag.h"
#include "envset.h"
#include "schema.h"
#include "secmem.h"

#define CANARY "EI_CANARY_7d41c09e"

/* A rule as a test writes it; schema_add turns it into the malloc'd form
   that ei_schema_clear frees. */
struct rule_spec {
    const char *key;
    enum ei_type type;
    const char *pattern;
    const char *const *values; /* NULL-terminated */
    bool has_min;
    long long min;
    bool has_max;
    long long max;
    const char *def;
    bool secret;
    bool required;
    bool allow_empty;
};

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    assert_non_null(d);
    return d;
}

static char *where_of(size_t line)
{
    char buf[64];
    int n = snprintf(buf, sizeof(buf), "envinject.conf:%zu", line);
    assert_true(n > 0 && (size_t)n < sizeof(buf));
    return xstrdup(buf);
}

static void schema_add(struct ei_schema *s, const struct rule_spec *spec)
{
    struct ei_rule *rules =
        realloc(s->rules, (s->rules_n + 1) * sizeof(*rules));
    assert_non_null(rules);
    s->rules = rules;
    struct ei_rule *r = &s->rules[s->rules_n];
    memset(r, 0, sizeof(*r));
    r->key = xstrdup(spec->key);
    r->type = spec->type;
    r->pattern = spec->pattern != NULL ? xstrdup(spec->pattern) : NULL;
    if (spec->values != NULL) {
        size_t n = 0;
        while (spec->values[n] != NULL)
            n++;
        r->values = calloc(n + 1, sizeof(*r->values));
        assert_non_null(r->values);
        for (size_t i = 0; i < n; i++)
            r->values[i] = xstrdup(spec->values[i]);
        r->values_n = n;
    }
    r->has_min = spec->has_min;
    r->min = spec->min;
    r->has_max = spec->has_max;
    r->max = spec->max;
    r->def = spec->def != NULL ? xstrdup(spec->def) : NULL;
    r->secret = spec->secret;
    r->required = spec->required;
    r->allow_empty = spec->allow_empty;
    r->where = where_of(10 + s->rules_n);
    s->rules_n++;
}

static void schema_require(struct ei_schema *s, const char *const *keys)
{
    size_t n = 0;
    while (keys[n] != NULL)
        n++;
    s->require = calloc(n + 1, sizeof(*s->require));
    assert_non_null(s->require);
    for (size_t i = 0; i < n; i++)
        s->require[i] = xstrdup(keys[i]);
    s->require_n = n;
    s->require_where = xstrdup("envinject.conf:40");
}

/* A resolved set with its stores. */
struct fx {
    struct ei_store *plain;
    struct ei_store *secrets;
    struct ei_envset *set;
};

static void fx_init(struct fx *f)
{
    f->plain = ei_store_new(false);
    f->secrets = ei_store_new(true);
    assert_non_null(f->plain);
    assert_non_null(f->secrets);
    f->set = ei_envset_new(f->plain);
    assert_non_null(f->set);
}

static void fx_fini(struct fx *f)
{
    ei_envset_free(f->set);
    ei_store_free(f->plain);
    ei_store_free(f->secrets);
}

/* Put key=value from layer, on top of what the key had. */
static struct ei_entry *fx_put(struct fx *f, const char *key, const char *value,
                               int layer, unsigned flags)
{
    struct ei_store *st = (flags & EI_ENTRY_SECRET) ? f->secrets : f->plain;
    struct ei_entry e = {
        .key = ei_store_strdup(f->plain, key),
        .value = ei_store_strdup(st, value),
        .value_len = strlen(value),
        .flags = flags,
        .locator = "layer.env:1",
        .layer = layer,
        .below = ei_envset_get(f->set, key),
    };
    assert_non_null(e.key);
    assert_non_null(e.value);
    struct ei_entry *in = ei_envset_put(f->set, &e, NULL);
    assert_non_null(in);
    return in;
}

static void prepare_ok(struct ei_schema *s)
{
    struct ei_error err = {0};
    int rc = ei_schema_prepare(s, &err);
    if (rc != 0)
        fail_msg("prepare failed: %s", err.text);
    assert_int_equal(err.status, EI_OK);
}

static const char *const levels[] = {"DEBUG", "INFO", "WARN", "ERROR", NULL};

/* One value against one rule: NULL rule name means it must pass. */
struct type_case {
    const char *name;
    struct rule_spec rule;
    const char *value;
    const char *want_rule;
};

#define INT_RULE                                                               \
    {                                                                          \
        .key = "K", .type = EI_TYPE_INT                                        \
    }
#define RANGE_RULE                                                             \
    {                                                                          \
        .key = "K", .type = EI_TYPE_INT, .has_min = true, .min = 1,            \
        .has_max = true, .max = 100                                            \
    }
#define BOOL_RULE                                                              \
    {                                                                          \
        .key = "K", .type = EI_TYPE_BOOL                                       \
    }
#define ENUM_RULE                                                              \
    {                                                                          \
        .key = "K", .type = EI_TYPE_ENUM, .values = levels                     \
    }
#define URL_RULE                                                               \
    {                                                                          \
        .key = "K", .type = EI_TYPE_URL                                        \
    }
#define STR_RULE                                                               \
    {                                                                          \
        .key = "K", .type = EI_TYPE_STRING                                     \
    }
#define STRP_RULE                                                              \
    {                                                                          \
        .key = "K", .type = EI_TYPE_STRING, .pattern = "[a-z]+"                \
    }
#define RE_RULE(p)                                                             \
    {                                                                          \
        .key = "K", .type = EI_TYPE_REGEX, .pattern = p                        \
    }

static const struct type_case type_cases[] = {
    {"int plain", INT_RULE, "5", NULL},
    {"int negative", INT_RULE, "-3", NULL},
    {"int plus sign", INT_RULE, "+7", NULL},
    {"int leading zeros", INT_RULE, "007", NULL},
    {"int max", INT_RULE, "9223372036854775807", NULL},
    {"int min", INT_RULE, "-9223372036854775808", NULL},
    {"int overflow", INT_RULE, "9223372036854775808", "type"},
    {"int underflow", INT_RULE, "-9223372036854775809", "type"},
    {"int empty", INT_RULE, "", "type"},
    {"int leading blank", INT_RULE, " 5", "type"},
    {"int trailing blank", INT_RULE, "5 ", "type"},
    {"int trailing junk", INT_RULE, "5a", "type"},
    {"int hex", INT_RULE, "0x10", "type"},
    {"int sign only", INT_RULE, "-", "type"},
    {"int double sign", INT_RULE, "+-1", "type"},
    {"int decimal point", INT_RULE, "1.5", "type"},
    {"int newline", INT_RULE, "1\n", "type"},
    {"range low edge", RANGE_RULE, "1", NULL},
    {"range high edge", RANGE_RULE, "100", NULL},
    {"range below", RANGE_RULE, "0", "min"},
    {"range far below", RANGE_RULE, "-5", "min"},
    {"range above", RANGE_RULE, "101", "max"},
    {"range not a number", RANGE_RULE, "lots", "type"},
    {"bool true", BOOL_RULE, "true", NULL},
    {"bool FALSE", BOOL_RULE, "FALSE", NULL},
    {"bool Yes", BOOL_RULE, "Yes", NULL},
    {"bool no", BOOL_RULE, "no", NULL},
    {"bool ON", BOOL_RULE, "ON", NULL},
    {"bool off", BOOL_RULE, "off", NULL},
    {"bool 1", BOOL_RULE, "1", NULL},
    {"bool 0", BOOL_RULE, "0", NULL},
    {"bool empty", BOOL_RULE, "", "type"},
    {"bool 2", BOOL_RULE, "2", "type"},
    {"bool t", BOOL_RULE, "t", "type"},
    {"bool truee", BOOL_RULE, "truee", "type"},
    {"bool blank", BOOL_RULE, "\ttrue", "type"},
    {"enum member", ENUM_RULE, "INFO", NULL},
    {"enum last member", ENUM_RULE, "ERROR", NULL},
    {"enum wrong case", ENUM_RULE, "info", "enum"},
    {"enum trailing blank", ENUM_RULE, "INFO ", "enum"},
    {"enum prefix", ENUM_RULE, "INF", "enum"},
    {"enum empty", ENUM_RULE, "", "enum"},
    {"url https", URL_RULE, "https://example.com", NULL},
    {"url with user and port", URL_RULE, "postgres://u:p@db:5432/app", NULL},
    {"url ipv6", URL_RULE, "http://[::1]:8080/x", NULL},
    {"url odd scheme", URL_RULE, "a+b.c-d://h", NULL},
    {"url query only after host", URL_RULE, "http://h?x=1", NULL},
    {"url utf-8 host", URL_RULE,
     "http://b\xc3\xbc"
     "cher.example",
     NULL},
    {"url no scheme", URL_RULE, "example.com", "type"},
    {"url no colon", URL_RULE, "https//x", "type"},
    {"url single slash", URL_RULE, "http:/x", "type"},
    {"url empty scheme", URL_RULE, "://example", "type"},
    {"url digit scheme", URL_RULE, "1http://x", "type"},
    {"url bad scheme char", URL_RULE, "ht_tp://x", "type"},
    {"url empty host", URL_RULE, "http://", "type"},
    {"url empty host and path", URL_RULE, "http:///path", "type"},
    {"url user but no host", URL_RULE, "http://user@/x", "type"},
    {"url port only", URL_RULE, "http://:80", "type"},
    {"url space", URL_RULE, "http://exa mple.com", "type"},
    {"url newline", URL_RULE, "http://x\n", "type"},
    {"url tab", URL_RULE, "http://x\t", "type"},
    {"url DEL", URL_RULE, "http://x\x7f", "type"},
    {"url empty", URL_RULE, "", "type"},
    {"string anything", STR_RULE, "any thing \x01", NULL},
    {"string empty", STR_RULE, "", NULL},
    {"string pattern ok", STRP_RULE, "abc", NULL},
    {"string pattern suffix", STRP_RULE, "abc1", "pattern"},
    {"string pattern prefix", STRP_RULE, "1abc", "pattern"},
    {"string pattern empty", STRP_RULE, "", "pattern"},
    {"string pattern newline", STRP_RULE, "abc\ndef", "pattern"},
    {"regex alternative a", RE_RULE("a|b"), "a", NULL},
    {"regex alternative b", RE_RULE("a|b"), "b", NULL},
    {"regex alternative anchored", RE_RULE("a|b"), "ab", "pattern"},
    {"regex version", RE_RULE("v[0-9]+\\.[0-9]+"), "v1.22", NULL},
    {"regex version prefix", RE_RULE("v[0-9]+\\.[0-9]+"), "xv1.2", "pattern"},
    {"regex version suffix", RE_RULE("v[0-9]+\\.[0-9]+"), "v1.2x", "pattern"},
    /* glibc takes a lone ')' as a literal, so "^(a)|(b))$" is not
       anchored at both ends: the match extent must still be whole */
    {"regex stray paren rejects prefix", RE_RULE("a)|(b)"), "abc", "pattern"},
    {"regex stray paren whole", RE_RULE("a)|(b)"), "b)", NULL},
    {"regex empty pattern", RE_RULE(""), "", NULL},
    {"regex empty pattern value", RE_RULE(""), "x", "pattern"},
};

/* The value must never appear in a message, except the number of a
   non-secret int in a bounds message. */
static void check_message(const struct ei_problem *p, const char *value,
                          bool secret)
{
    assert_non_null(p->message);
    assert_int_equal(strncmp(p->message, "K: ", 3), 0);
    assert_null(strchr(p->message, '\n'));
    bool bounds = strcmp(p->rule, "min") == 0 || strcmp(p->rule, "max") == 0;
    if (bounds && !secret) {
        assert_non_null(strstr(p->message, value));
        return;
    }
    /* an enum message lists the allowed values, which may contain the
       wrong one ("INF" in "INFO") */
    if (strcmp(p->rule, "enum") == 0 &&
        strstr("DEBUG, INFO, WARN, ERROR", value) != NULL)
        return;
    if (strlen(value) >= 3 && strstr(p->message, value) != NULL)
        fail_msg("message \"%s\" quotes the value", p->message);
}

static void test_types(void **state)
{
    for (size_t i = 0; i < sizeof(type_cases) / sizeof(type_cases[0]); i++) {
        const struct type_case *tc = &type_cases[i];
        for (int secret = 0; secret < 2; secret++) {
            struct ei_schema s = {0};
            struct rule_spec spec = tc->rule;
            spec.secret = secret;
            schema_add(&s, &spec);
            prepare_ok(&s);
            struct fx f;
            fx_init(&f);
            fx_put(&f, "K", tc->value, 2, secret ? EI_ENTRY_SECRET : 0);
            struct ei_problems ps = {0};
            long n = ei_schema_check(&s, f.set, &ps);
            if (n != (tc->want_rule == NULL ? 0 : 1))
                fail_msg("%s (secret=%d): %ld problems, first: %s", tc->name,
                         secret, n, ps.n > 0 ? ps.v[0].message : "-");
            assert_int_equal(ps.n, (size_t)n);
            if (n == 1) {
                if (strcmp(ps.v[0].rule, tc->want_rule) != 0)
                    fail_msg("%s: rule %s, want %s", tc->name, ps.v[0].rule,
                             tc->want_rule);
                assert_string_equal(ps.v[0].key, "K");
                assert_int_equal(ps.v[0].layer, 2);
                assert_ptr_equal(ps.v[0].where, s.rules[0].where);
                check_message(&ps.v[0], tc->value, secret);
            }
            ei_problems_clear(&ps);
            assert_null(ps.v);
            assert_int_equal(ps.n, 0);
            fx_fini(&f);
            ei_schema_clear(&s);
        }
    }
}

/* Exact messages, secret and not. */
struct message_case {
    struct rule_spec rule;
    const char *value;
    unsigned flags;
    const char *want;
};

static const struct message_case message_cases[] = {
    {INT_RULE, "abcdefg", 0, "K: not an integer (7 bytes)"},
    {INT_RULE, "99999999999999999999", 0, "K: integer out of range (20 bytes)"},
    {RANGE_RULE, "0", 0, "K: 0 is below the minimum 1"},
    {RANGE_RULE, "0", EI_ENTRY_SECRET, "K: below the minimum 1"},
    {RANGE_RULE, "250", 0, "K: 250 is above the maximum 100"},
    {RANGE_RULE, "250", EI_ENTRY_SECRET, "K: above the maximum 100"},
    {ENUM_RULE, "TRACE", 0, "K: not one of DEBUG, INFO, WARN, ERROR"},
    {BOOL_RULE, "maybe", 0,
     "K: not a boolean (5 bytes); expected true, false, yes, no, on, off, 1 "
     "or 0"},
    {URL_RULE, "nope", 0, "K: not a URL of the form scheme://host (4 bytes)"},
    {STRP_RULE, "A1", 0, "K: does not match the pattern [a-z]+ (2 bytes)"},
    /* a control byte of the configuration's pattern is shown, not sent */
    {{.key = "K", .type = EI_TYPE_STRING, .pattern = "[a-z]+\t\\.x"},
     "A1",
     0,
     "K: does not match the pattern [a-z]+\\x09\\.x (2 bytes)"},
};

static void test_messages(void **state)
{
    for (size_t i = 0; i < sizeof(message_cases) / sizeof(message_cases[0]);
         i++) {
        const struct message_case *mc = &message_cases[i];
        struct ei_schema s = {0};
        schema_add(&s, &mc->rule);
        prepare_ok(&s);
        struct fx f;
        fx_init(&f);
        fx_put(&f, "K", mc->value, 0, mc->flags);
        struct ei_problems ps = {0};
        assert_int_equal(ei_schema_check(&s, f.set, &ps), 1);
        assert_string_equal(ps.v[0].message, mc->want);
        ei_problems_clear(&ps);
        fx_fini(&f);
        ei_schema_clear(&s);
    }
}

/* A rule declared secret describes the value as a secret even when the
   entry came from a plain layer. */
static void test_rule_secret_hides_bounds(void **state)
{
    struct ei_schema s = {0};
    struct rule_spec spec = RANGE_RULE;
    spec.secret = true;
    schema_add(&s, &spec);
    prepare_ok(&s);
    struct fx f;
    fx_init(&f);
    fx_put(&f, "K", "4242", 0, 0);
    struct ei_problems ps = {0};
    assert_int_equal(ei_schema_check(&s, f.set, &ps), 1);
    assert_string_equal(ps.v[0].message, "K: above the maximum 100");
    ei_problems_clear(&ps);
    fx_fini(&f);
    ei_schema_clear(&s);
}

static void test_require(void **state)
{
    struct ei_schema s = {0};
    static const char *const req[] = {"A", "B", "A", "E", "F", "H", NULL};
    schema_require(&s, req);
    schema_add(&s, &(struct rule_spec){.key = "C", .required = true});
    schema_add(&s, &(struct rule_spec){.key = "A", .required = true});
    schema_add(&s, &(struct rule_spec){
                       .key = "D", .type = EI_TYPE_INT, .required = true});
    schema_add(&s, &(struct rule_spec){.key = "G",
                                       .type = EI_TYPE_INT,
                                       .required = true,
                                       .allow_empty = true});
    schema_add(&s, &(struct rule_spec){.key = "H", .allow_empty = true});
    schema_add(&s, &(struct rule_spec){.key = "I", .type = EI_TYPE_INT});
    prepare_ok(&s);
    struct fx f;
    fx_init(&f);
    fx_put(&f, "B", "x", 0, 0);
    fx_put(&f, "D", "", 2, 0); /* empty and required: missing */
    fx_put(&f, "E", "x", 0, 0);
    fx_put(&f, "E", "", 1, EI_ENTRY_UNSET); /* unset counts as absent */
    fx_put(&f, "F", "", 1, 0);
    fx_put(&f, "G", "", 0, 0); /* allow_empty: set, and no type problem */
    fx_put(&f, "H", "", 0, 0);
    fx_put(&f, "I", "", 0, 0); /* not required: the type judges it */

    struct ei_problems ps = {0};
    assert_int_equal(ei_schema_check(&s, f.set, &ps), 6);
    static const struct {
        const char *key;
        const char *rule;
        const char *message;
        int layer;
        size_t rule_where; /* index + 1 in rules, 0: require_where */
    } want[] = {
        {"A", "require", "A is required but not set", EI_LAYER_NONE, 0},
        {"E", "require", "E is required but not set", EI_LAYER_NONE, 0},
        {"F", "require", "F is required but empty", 1, 0},
        {"C", "require", "C is required but not set", EI_LAYER_NONE, 1},
        {"D", "require", "D is required but empty", 2, 3},
        {"I", "type", "I: not an integer (0 bytes)", 0, 6},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        assert_string_equal(ps.v[i].key, want[i].key);
        assert_string_equal(ps.v[i].rule, want[i].rule);
        assert_int_equal(ps.v[i].layer, want[i].layer);
        assert_string_equal(ps.v[i].message, want[i].message);
        const char *where = want[i].rule_where == 0
                                ? s.require_where
                                : s.rules[want[i].rule_where - 1].where;
        assert_ptr_equal(ps.v[i].where, where);
    }
    ei_problems_clear(&ps);
    fx_fini(&f);
    ei_schema_clear(&s);
}

static void test_defaults(void **state)
{
    struct ei_schema s = {0};
    schema_add(&s, &(struct rule_spec){
                       .key = "ABSENT", .type = EI_TYPE_INT, .def = "5"});
    schema_add(&s, &(struct rule_spec){
                       .key = "PRESENT", .type = EI_TYPE_INT, .def = "5"});
    schema_add(&s, &(struct rule_spec){
                       .key = "UNSET", .type = EI_TYPE_STRING, .def = "d"});
    schema_add(
        &s, &(struct rule_spec){.key = "SECRET", .def = "pw", .secret = true});
    schema_add(&s, &(struct rule_spec){.key = "NODEF", .type = EI_TYPE_INT});
    schema_add(&s, &(struct rule_spec){.key = "EMPTY", .def = ""});
    prepare_ok(&s);
    struct fx f;
    fx_init(&f);
    struct ei_entry *present = fx_put(&f, "PRESENT", "9", 1, 0);
    fx_put(&f, "UNSET", "x", 0, 0);
    struct ei_entry *unset = fx_put(&f, "UNSET", "", 1, EI_ENTRY_UNSET);

    struct ei_error err = {0};
    assert_int_equal(ei_schema_apply(&s, f.set, f.plain, f.secrets, &err), 0);
    assert_int_equal(err.status, EI_OK);

    static const struct {
        const char *key;
        const char *value;
        int layer;
        size_t rule;
        unsigned flags;
    } want[] = {
        {"ABSENT", "5", EI_LAYER_SCHEMA, 0, 0},
        {"PRESENT", "9", 1, 1, 0},
        {"UNSET", "d", EI_LAYER_SCHEMA, 2, 0},
        {"SECRET", "pw", EI_LAYER_SCHEMA, 3, EI_ENTRY_SECRET},
        {"EMPTY", "", EI_LAYER_SCHEMA, 5, 0},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const struct ei_entry *e = ei_envset_get(f.set, want[i].key);
        assert_non_null(e);
        assert_string_equal(e->value, want[i].value);
        assert_int_equal(e->value_len, strlen(want[i].value));
        assert_int_equal(e->layer, want[i].layer);
        assert_int_equal(e->flags, want[i].flags);
        if (e->layer == EI_LAYER_SCHEMA) {
            assert_string_equal(e->locator, s.rules[want[i].rule].where);
            assert_null(e->raw);
        }
    }
    assert_ptr_equal(ei_envset_get(f.set, "PRESENT"), present);
    assert_ptr_equal(ei_envset_get(f.set, "UNSET")->below, unset);
    assert_null(ei_envset_get(f.set, "ABSENT")->below);
    assert_null(ei_envset_get(f.set, "NODEF"));
    assert_int_equal(ei_envset_count(f.set), 5);

    /* applying again changes nothing */
    assert_int_equal(ei_schema_apply(&s, f.set, f.plain, f.secrets, &err), 0);
    assert_int_equal(ei_envset_count(f.set), 5);
    assert_string_equal(ei_envset_get(f.set, "ABSENT")->value, "5");
    fx_fini(&f);
    ei_schema_clear(&s);
}

static void test_secret_marking(void **state)
{
    struct ei_schema s = {0};
    schema_add(&s, &(struct rule_spec){.key = "DATABASE_URL", .secret = true});
    schema_add(&s, &(struct rule_spec){.key = "PLAIN"});
    schema_add(&s, &(struct rule_spec){.key = "MISSING", .secret = true});
    prepare_ok(&s);
    struct fx f;
    fx_init(&f);
    struct ei_entry *low = fx_put(&f, "DATABASE_URL", "postgres://a", 0, 0);
    struct ei_entry *high = fx_put(&f, "DATABASE_URL", "postgres://b", 1, 0);
    struct ei_entry *plain = fx_put(&f, "PLAIN", "x", 0, 0);
    const char *value = high->value;

    struct ei_error err = {0};
    assert_int_equal(ei_schema_apply(&s, f.set, f.plain, f.secrets, &err), 0);
    assert_true(high->flags & EI_ENTRY_SECRET);
    assert_true(low->flags & EI_ENTRY_SECRET);
    assert_ptr_equal(high->value, value); /* only the flag changes */
    assert_ptr_equal(ei_envset_get(f.set, "DATABASE_URL"), high);
    assert_int_equal(plain->flags, 0);
    assert_null(ei_envset_get(f.set, "MISSING"));
    fx_fini(&f);
    ei_schema_clear(&s);
}

struct prepare_case {
    const char *name;
    struct rule_spec rule;
    const char *want; /* NULL: prepare succeeds */
};

static const struct prepare_case prepare_cases[] = {
    {"good int", RANGE_RULE, NULL},
    {"good regex", RE_RULE("[a-z]+"), NULL},
    {"good string pattern", STRP_RULE, NULL},
    {"good enum", ENUM_RULE, NULL},
    {"good default", {.key = "K", .type = EI_TYPE_BOOL, .def = "false"}, NULL},
    /* judged after expansion, by ei_schema_check */
    {"default with a reference",
     {.key = "K", .type = EI_TYPE_URL, .def = "${SCHEME}://h/"},
     NULL},
    {"default with a broken reference",
     {.key = "K", .type = EI_TYPE_INT, .def = "$N"},
     NULL},
    {"equal bounds",
     {.key = "K",
      .type = EI_TYPE_INT,
      .has_min = true,
      .min = 3,
      .has_max = true,
      .max = 3},
     NULL},
    {"bad pattern", RE_RULE("(a"), "K: invalid pattern: "},
    {"bad string pattern",
     {.key = "K", .type = EI_TYPE_STRING, .pattern = "[a"},
     "K: invalid pattern: "},
    {"min above max",
     {.key = "K",
      .type = EI_TYPE_INT,
      .has_min = true,
      .min = 10,
      .has_max = true,
      .max = 1},
     "K: min 10 is greater than max 1"},
    {"enum without values",
     {.key = "K", .type = EI_TYPE_ENUM},
     "K: type enum needs a list of values"},
    {"regex without pattern",
     {.key = "K", .type = EI_TYPE_REGEX},
     "K: type regex needs a pattern"},
    {"pattern on int",
     {.key = "K", .type = EI_TYPE_INT, .pattern = "[0-9]"},
     "K: a pattern needs type string or regex, not int"},
    {"pattern on url",
     {.key = "K", .type = EI_TYPE_URL, .pattern = "x"},
     "K: a pattern needs type string or regex, not url"},
    {"min on bool",
     {.key = "K", .type = EI_TYPE_BOOL, .has_min = true},
     "K: min and max need type int, not bool"},
    {"values on string",
     {.key = "K", .type = EI_TYPE_STRING, .values = levels},
     "K: values need type enum, not string"},
    {"default not an int",
     {.key = "K", .type = EI_TYPE_INT, .def = "abc"},
     "K: the default breaks rule type: not an integer (3 bytes)"},
    {"default below min",
     {.key = "K", .type = EI_TYPE_INT, .has_min = true, .min = 1, .def = "0"},
     "K: the default breaks rule min: below the minimum 1"},
    {"default not in enum",
     {.key = "K", .type = EI_TYPE_ENUM, .values = levels, .def = "TRACE"},
     "K: the default breaks rule enum: not one of DEBUG, INFO, WARN, ERROR"},
    {"default not a url",
     {.key = "K", .type = EI_TYPE_URL, .def = "x", .secret = true},
     "K: the default breaks rule type: not a URL of the form scheme://host "
     "(1 bytes)"},
    {"default breaks pattern",
     {.key = "K", .type = EI_TYPE_REGEX, .pattern = "[0-9]+", .def = "12a"},
     "K: the default breaks rule pattern: does not match the pattern [0-9]+ "
     "(3 bytes)"},
};

static void test_prepare(void **state)
{
    for (size_t i = 0; i < sizeof(prepare_cases) / sizeof(prepare_cases[0]);
         i++) {
        const struct prepare_case *pc = &prepare_cases[i];
        struct ei_schema s = {0};
        schema_add(&s, &(struct rule_spec){.key = "FIRST"});
        schema_add(&s, &pc->rule);
        struct ei_error err = {0};
        int rc = ei_schema_prepare(&s, &err);
        if (pc->want == NULL) {
            if (rc != 0)
                fail_msg("%s: %s", pc->name, err.text);
            assert_int_equal(err.status, EI_OK);
            /* preparing twice recompiles without leaking */
            assert_int_equal(ei_schema_prepare(&s, &err), 0);
        } else {
            assert_int_equal(rc, -1);
            assert_int_equal(err.status, EI_BADCONFIG);
            if (strncmp(err.text, pc->want, strlen(pc->want)) != 0)
                fail_msg("%s: got \"%s\"", pc->name, err.text);
            if (strstr(pc->want, "invalid pattern") == NULL)
                assert_string_equal(err.text, pc->want);
            else
                assert_true(strlen(err.text) > strlen(pc->want));
            assert_string_equal(err.locator, s.rules[1].where);
            assert_null(strchr(err.text, '\n'));
            if (pc->rule.def != NULL && strlen(pc->rule.def) >= 3)
                assert_null(strstr(err.text, pc->rule.def));
        }
        ei_schema_clear(&s);
        assert_null(s.rules);
        assert_int_equal(s.rules_n, 0);
    }
}

/* The first error recorded wins. */
static void test_prepare_keeps_first_error(void **state)
{
    struct ei_schema s = {0};
    schema_add(&s, &(struct rule_spec){.key = "K", .type = EI_TYPE_ENUM});
    struct ei_error err = {.status = EI_NOTFOUND};
    snprintf(err.text, sizeof(err.text), "earlier");
    assert_int_equal(ei_schema_prepare(&s, &err), -1);
    assert_int_equal(err.status, EI_NOTFOUND);
    assert_string_equal(err.text, "earlier");
    assert_int_equal(ei_schema_prepare(&s, NULL), -1);
    ei_schema_clear(&s);
}

/* Every kind of problem at once, in the documented order. */
static void test_many_problems(void **state)
{
    struct ei_schema s = {0};
    static const char *const req[] = {"R1", "R2", "R3", NULL};
    schema_require(&s, req);
    schema_add(&s, &(struct rule_spec){.key = "A", .type = EI_TYPE_INT});
    schema_add(&s, &(struct rule_spec){
                       .key = "B", .type = EI_TYPE_ENUM, .values = levels});
    schema_add(&s, &(struct rule_spec){.key = "C", .required = true});
    schema_add(&s, &(struct rule_spec){.key = "D", .type = EI_TYPE_URL});
    schema_add(&s, &(struct rule_spec){.key = "E", .type = EI_TYPE_BOOL});
    schema_add(&s,
               &(struct rule_spec){
                   .key = "F", .type = EI_TYPE_INT, .has_max = true, .max = 3});
    schema_add(&s, &(struct rule_spec){.key = "G", .type = EI_TYPE_INT});
    prepare_ok(&s);
    struct fx f;
    fx_init(&f);
    fx_put(&f, "R2", "x", 0, 0);
    fx_put(&f, "E", "perhaps", 1, 0);
    fx_put(&f, "B", "LOUD", 0, 0);
    fx_put(&f, "A", "many", 2, 0);
    fx_put(&f, "D", "https://ok.example", 0, 0);
    fx_put(&f, "F", "4", 3, 0);

    static const struct {
        const char *key;
        const char *rule;
        int layer;
        size_t where; /* rule index + 1, 0: require_where */
    } want[] = {
        {"R1", "require", EI_LAYER_NONE, 0},
        {"R3", "require", EI_LAYER_NONE, 0},
        {"C", "require", EI_LAYER_NONE, 3},
        {"A", "type", 2, 1},
        {"B", "enum", 0, 2},
        {"E", "type", 1, 5},
        {"F", "max", 3, 6},
    };
    size_t want_n = sizeof(want) / sizeof(want[0]);
    struct ei_problems ps = {0};
    assert_int_equal(ei_schema_check(&s, f.set, &ps), (long)want_n);
    /* a second run appends */
    assert_int_equal(ei_schema_check(&s, f.set, &ps), (long)want_n);
    assert_int_equal(ps.n, 2 * want_n);
    for (size_t i = 0; i < ps.n; i++) {
        const struct ei_problem *p = &ps.v[i];
        size_t w = i % want_n;
        assert_string_equal(p->key, want[w].key);
        assert_string_equal(p->rule, want[w].rule);
        assert_int_equal(p->layer, want[w].layer);
        const char *where = want[w].where == 0
                                ? s.require_where
                                : s.rules[want[w].where - 1].where;
        assert_ptr_equal(p->where, where);
    }
    ei_problems_clear(&ps);
    fx_fini(&f);
    ei_schema_clear(&s);
}

/* No message of any rule ever carries a secret. */
static void test_canary(void **state)
{
    struct ei_schema s = {0};
    static const char *const req[] = {"MISSING_KEY", NULL};
    schema_require(&s, req);
    static const struct rule_spec rules[] = {
        {.key = "S_INT", .type = EI_TYPE_INT},
        {.key = "S_BIG",
         .type = EI_TYPE_INT,
         .has_max = true,
         .max = 10,
         .secret = true},
        {.key = "S_BOOL", .type = EI_TYPE_BOOL},
        {.key = "S_ENUM", .type = EI_TYPE_ENUM, .values = levels},
        {.key = "S_URL", .type = EI_TYPE_URL},
        {.key = "S_RE", .type = EI_TYPE_REGEX, .pattern = "[0-9]+"},
        {.key = "S_STR", .type = EI_TYPE_STRING, .pattern = "x"},
    };
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
        schema_add(&s, &rules[i]);
    prepare_ok(&s);
    struct fx f;
    fx_init(&f);
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        const char *v =
            strcmp(rules[i].key, "S_BIG") == 0 ? "987654321" : CANARY "://?";
        fx_put(&f, rules[i].key, v, 0, EI_ENTRY_SECRET);
    }
    struct ei_problems ps = {0};
    long n = ei_schema_check(&s, f.set, &ps);
    assert_int_equal(n, 1 + (long)(sizeof(rules) / sizeof(rules[0])));
    for (size_t i = 0; i < ps.n; i++) {
        if (strstr(ps.v[i].message, "EI_CANARY") != NULL ||
            strstr(ps.v[i].message, "987654321") != NULL)
            fail_msg("secret in \"%s\"", ps.v[i].message);
    }
    ei_problems_clear(&ps);

    /* the same int, not secret, is quoted: the check above can fail */
    struct fx g;
    fx_init(&g);
    struct ei_schema t = {0};
    schema_add(&t, &(struct rule_spec){.key = "S_BIG",
                                       .type = EI_TYPE_INT,
                                       .has_max = true,
                                       .max = 10});
    prepare_ok(&t);
    fx_put(&g, "S_BIG", "987654321", 0, 0);
    assert_int_equal(ei_schema_check(&t, g.set, &ps), 1);
    assert_non_null(strstr(ps.v[0].message, "987654321"));
    ei_problems_clear(&ps);
    fx_fini(&g);
    ei_schema_clear(&t);
    fx_fini(&f);
    ei_schema_clear(&s);
}

static void test_type_names(void **state)
{
    static const struct {
        const char *name;
        int type;
    } cases[] = {
        {"string", EI_TYPE_STRING},
        {"int", EI_TYPE_INT},
        {"bool", EI_TYPE_BOOL},
        {"enum", EI_TYPE_ENUM},
        {"url", EI_TYPE_URL},
        {"regex", EI_TYPE_REGEX},
        {"INT", -1},
        {"integer", -1},
        {"", -1},
        {"str", -1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(ei_schema_type(cases[i].name), cases[i].type);
        if (cases[i].type >= 0)
            assert_string_equal(
                ei_schema_type_name((enum ei_type)cases[i].type),
                cases[i].name);
    }
    assert_int_equal(ei_schema_type(NULL), -1);
    assert_string_equal(ei_schema_type_name((enum ei_type)99), "unknown");
}

static void test_rule_lookup(void **state)
{
    struct ei_schema s = {0};
    schema_add(&s, &(struct rule_spec){.key = "ONE"});
    schema_add(&s, &(struct rule_spec){.key = "TWO", .type = EI_TYPE_BOOL});
    static const struct {
        const char *key;
        ptrdiff_t index; /* -1: none */
    } cases[] = {{"ONE", 0}, {"TWO", 1}, {"two", -1}, {"ON", -1}, {"", -1}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct ei_rule *r = ei_schema_rule(&s, cases[i].key);
        if (cases[i].index < 0)
            assert_null(r);
        else
            assert_ptr_equal(r, &s.rules[cases[i].index]);
    }
    assert_null(ei_schema_rule(&s, NULL));
    ei_schema_clear(&s);
    assert_null(ei_schema_rule(&s, "ONE"));
    ei_schema_clear(&s); /* twice is harmless */
}

/* Option trees as config.c builds them from envinject.conf's schema. */
#define STR(n, v, l)                                                           \
    {                                                                          \
        .name = (n), .type = EI_OPT_STRING, .str = (v), .line = (l)            \
    }
#define INT(n, v, l)                                                           \
    {                                                                          \
        .name = (n), .type = EI_OPT_INT, .num = (v), .str = #v, .line = (l)    \
    }
#define BOOL(n, v, l)                                                          \
    {                                                                          \
        .name = (n), .type = EI_OPT_BOOL, .b = (v), .str = #v, .line = (l)     \
    }
#define KIDS(a) .kids = (a), .kids_n = sizeof(a) / sizeof((a)[0])

static struct ei_opt level_values[] = {STR(NULL, "DEBUG", 4),
                                       STR(NULL, "INFO", 4)};
static struct ei_opt level_fields[] = {
    STR("type", "enum", 3),
    {.name = "values", .type = EI_OPT_LIST, KIDS(level_values), .line = 4},
    STR("default", "INFO", 5),
};
static struct ei_opt pool_fields[] = {
    STR("type", "int", 7),     INT("min", 1, 7),
    INT("max", 100, 7),        BOOL("secret", true, 8),
    BOOL("required", true, 8), BOOL("allow_empty", true, 8),
};
static struct ei_opt good_rules[] = {
    {.name = "LOG_LEVEL", .type = EI_OPT_GROUP, KIDS(level_fields), .line = 2},
    {.name = "POOL", .type = EI_OPT_GROUP, KIDS(pool_fields), .line = 6},
};
static struct ei_opt bad_values_kids[] = {STR(NULL, "A", 12), INT(NULL, 2, 12)};
static struct ei_opt bad_values_fields[] = {
    STR("type", "enum", 11),
    {.name = "values", .type = EI_OPT_LIST, KIDS(bad_values_kids), .line = 12},
};
static struct ei_opt bad_values[] = {
    {.name = "E", .type = EI_OPT_GROUP, KIDS(bad_values_fields), .line = 10}};
static struct ei_opt unknown_field_fields[] = {STR("typo", "int", 21)};
static struct ei_opt unknown_field[] = {{.name = "N",
                                         .type = EI_OPT_GROUP,
                                         KIDS(unknown_field_fields),
                                         .line = 20}};
static struct ei_opt list_default_kids[] = {STR(NULL, "a", 31)};
static struct ei_opt list_default_fields[] = {{.name = "default",
                                               .type = EI_OPT_LIST,
                                               KIDS(list_default_kids),
                                               .line = 31}};
static struct ei_opt list_default[] = {
    {.name = "D", .type = EI_OPT_GROUP, KIDS(list_default_fields), .line = 30}};
static struct ei_opt string_min_fields[] = {STR("min", "1", 41)};
static struct ei_opt string_min[] = {
    {.name = "M", .type = EI_OPT_GROUP, KIDS(string_min_fields), .line = 40}};
static struct ei_opt not_group[] = {STR("S", "int", 50)};
static struct ei_opt bad_key[] = {
    {.name = "1BAD", .type = EI_OPT_GROUP, .line = 60}};

static const struct {
    const char *what;
    struct ei_opt group;
    const char *text;    /* expected error text, or NULL */
    const char *locator; /* expected error locator */
} read_cases[] = {
    {"two rules",
     {.type = EI_OPT_GROUP, KIDS(good_rules), .line = 1},
     NULL,
     NULL},
    {"empty schema", {.type = EI_OPT_GROUP, .line = 1}, NULL, NULL},
    {"schema not a group",
     {.name = "schema", .type = EI_OPT_STRING, .str = "x", .line = 9},
     "schema must be a group of rules",
     "app.conf:9"},
    {"values not strings",
     {.type = EI_OPT_GROUP, KIDS(bad_values), .line = 1},
     "schema values must be a list of strings",
     "app.conf:12"},
    {"unknown field",
     {.type = EI_OPT_GROUP, KIDS(unknown_field), .line = 1},
     "N: unknown field 'typo'",
     "app.conf:20"},
    {"default a list",
     {.type = EI_OPT_GROUP, KIDS(list_default), .line = 1},
     "D: default must be a scalar",
     "app.conf:30"},
    {"min a string",
     {.type = EI_OPT_GROUP, KIDS(string_min), .line = 1},
     "M: min must be an integer",
     "app.conf:40"},
    {"rule not a group",
     {.type = EI_OPT_GROUP, KIDS(not_group), .line = 1},
     "schema: S must be a group",
     "app.conf:50"},
    {"invalid key",
     {.type = EI_OPT_GROUP, KIDS(bad_key), .line = 1},
     "'1BAD' is not a valid variable name (schema)",
     "app.conf:60"},
};

static void test_read(void **state)
{
    for (size_t i = 0; i < sizeof(read_cases) / sizeof(read_cases[0]); i++) {
        struct ei_schema schema = {0};
        struct ei_error err = {0};
        int rc =
            ei_schema_read(&schema, &read_cases[i].group, "app.conf", &err);
        if (read_cases[i].text == NULL) {
            if (rc != 0)
                fail_msg("%s: %s", read_cases[i].what, err.text);
        } else {
            if (rc != -1 || err.status != EI_BADCONFIG ||
                strstr(err.text, read_cases[i].text) == NULL ||
                strcmp(err.locator, read_cases[i].locator) != 0)
                fail_msg("%s: rc %d status %d \"%s\" at %s", read_cases[i].what,
                         rc, err.status, err.text, err.locator);
        }
        ei_schema_clear(&schema);
    }

    /* the rules of the first row, field by field */
    struct ei_schema schema = {0};
    struct ei_error err = {0};
    assert_int_equal(
        ei_schema_read(&schema, &read_cases[0].group, "app.conf", &err), 0);
    assert_int_equal(schema.rules_n, 2);
    const struct ei_rule *r = ei_schema_rule(&schema, "LOG_LEVEL");
    assert_non_null(r);
    assert_int_equal(r->type, EI_TYPE_ENUM);
    assert_int_equal(r->values_n, 2);
    assert_string_equal(r->values[0], "DEBUG");
    assert_string_equal(r->values[1], "INFO");
    assert_null(r->values[2]);
    assert_string_equal(r->def, "INFO");
    assert_string_equal(r->where, "app.conf:2");
    assert_false(r->secret || r->required || r->allow_empty || r->has_min);
    r = ei_schema_rule(&schema, "POOL");
    assert_non_null(r);
    assert_int_equal(r->type, EI_TYPE_INT);
    assert_true(r->has_min && r->has_max);
    assert_int_equal(r->min, 1);
    assert_int_equal(r->max, 100);
    assert_true(r->secret && r->required && r->allow_empty);
    assert_null(r->def);
    assert_string_equal(r->where, "app.conf:6");
    ei_schema_clear(&schema);
}

int main(void)
{
    if (ei_secmem_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read),
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_messages),
        cmocka_unit_test(test_rule_secret_hides_bounds),
        cmocka_unit_test(test_require),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_secret_marking),
        cmocka_unit_test(test_prepare),
        cmocka_unit_test(test_prepare_keeps_first_error),
        cmocka_unit_test(test_many_problems),
        cmocka_unit_test(test_canary),
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_rule_lookup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
