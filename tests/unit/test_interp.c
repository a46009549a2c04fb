/* SPDX-License-Identifier: MIT */
/* Unit tests of interpolation: every syntax form, literal cases, layers,
   secret taint, chains, cycles, syntax errors and size limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "diag.h"
#include "envset.h"
#include "interp.h"
#include "secmem.h"

#define MAXE   12
#define CANARY "EI_CANARY_5eb1c0de"

/* Layer 0 interpolates, layer 1 does not, layer 2 is a secret layer that
   interpolates; layer 3 is out of range (layers_n is 3). */
static const bool interp_layers[] = {true, false, true};

static const char *layer_name(void *ctx, int layer)
{
    (void)ctx;
    switch (layer) {
    case EI_LAYER_SCHEMA:
        return "schema";
    case 0:
        return "defaults";
    case 1:
        return "env";
    case 2:
        return "secrets";
    default:
        return "other";
    }
}

struct ent {
    const char *key;
    const char *value;
    unsigned flags;
    int layer;
};

struct want {
    const char *key;
    const char *value;
    bool secret;
};

struct icase {
    const char *name;
    struct ent in[MAXE];
    struct want out[MAXE]; /* for success */
    const char *err;       /* expected error text, or NULL */
    const char *err_key;   /* the entry the error is located at */
};

#define E(k, v)                                                                \
    {                                                                          \
        k, v, 0, 0                                                             \
    }
#define EF(k, v, f)                                                            \
    {                                                                          \
        k, v, f, 0                                                             \
    }
#define EL(k, v, l)                                                            \
    {                                                                          \
        k, v, 0, l                                                             \
    }
#define ES(k, v)                                                               \
    {                                                                          \
        k, v, EI_ENTRY_SECRET, 2                                               \
    }
#define EU(k)                                                                  \
    {                                                                          \
        k, NULL, EI_ENTRY_UNSET, 0                                             \
    }
#define W(k, v)                                                                \
    {                                                                          \
        k, v, false                                                            \
    }
#define WS(k, v)                                                               \
    {                                                                          \
        k, v, true                                                             \
    }

static const struct icase cases[] = {
    {"braced",
     {E("A", "x"), E("B", "<${A}>")},
     {W("A", "x"), W("B", "<x>")},
     NULL,
     NULL},
    {"bare, longest name",
     {E("AB", "1"), E("A", "2"), E("X", "$AB-$A.$A/$A")},
     {W("X", "1-2.2/2")},
     NULL,
     NULL},
    {"bare name with digits and underscore",
     {E("A_1", "v"), E("X", "$A_1$A_1")},
     {W("X", "vv")},
     NULL,
     NULL},
    {"later definitions are seen",
     {E("X", "$Y"), E("Y", "${Z}z"), E("Z", "1")},
     {W("X", "1z"), W("Y", "1z"), W("Z", "1")},
     NULL,
     NULL},
    {":- on absent, empty, set",
     {E("E", ""), E("S", "v"), E("X", "${N:-w}|${E:-w}|${S:-w}")},
     {W("X", "w|w|v")},
     NULL,
     NULL},
    {"- on absent, empty, set",
     {E("E", ""), E("S", "v"), E("X", "${N-w}|${E-w}|${S-w}")},
     {W("X", "w||v")},
     NULL,
     NULL},
    {":+ on absent, empty, set",
     {E("E", ""), E("S", "v"), E("X", "${N:+w}|${E:+w}|${S:+w}")},
     {W("X", "||w")},
     NULL,
     NULL},
    {"+ on absent, empty, set",
     {E("E", ""), E("S", "v"), E("X", "${N+w}|${E+w}|${S+w}")},
     {W("X", "|w|w")},
     NULL,
     NULL},
    {"an unset entry is unset",
     {EU("U"), E("X", "${U-a}${U:-b}${U+c}${U:+d}")},
     {W("X", "ab")},
     NULL,
     NULL},
    {"empty words",
     {E("X", "${N:-}${N-}x${N+}${N:+}")},
     {W("X", "x")},
     NULL,
     NULL},
    {"nested defaults",
     {E("C", "c"), E("X", "${A:-${B:-$C}}"), E("Y", "${A:-x${C}y}")},
     {W("X", "c"), W("Y", "xcy")},
     NULL,
     NULL},
    {"references inside alternatives",
     {E("C", "c"), E("S", "s"), E("X", "${S:+[$C]}${S+${C}}")},
     {W("X", "[c]c")},
     NULL,
     NULL},
    {"braces in a word pair up",
     {E("X", "${A:-{\"k\":{\"j\":1}}}"), E("Y", "${A:-a}b}"),
      E("Z", "{${A:-}}")},
     {W("X", "{\"k\":{\"j\":1}}"), W("Y", "ab}"), W("Z", "{}")},
     NULL,
     NULL},
    {"escapes",
     {E("A", "a"), E("X", "\\$A"), E("Y", "$$A"), E("Z", "x\\\\$A"),
      E("V", "${N:-\\$A$$}"), E("T", "$$$A")},
     {W("X", "$A"), W("Y", "$A"), W("Z", "x\\$A"), W("V", "$A$"), W("T", "$a")},
     NULL,
     NULL},
    {"literal dollars and backslashes",
     {E("A", "a"), E("P", "$(cmd)"), E("Q", "$1$2"), E("R", "a $ b"),
      E("S", "cost 5$"), E("T", "\\x\\"), E("U", "$-$.$/"), E("V", "$"),
      E("W", "\\"), E("X", "${N:-$}"), E("Y", "$A$")},
     {W("P", "$(cmd)"), W("Q", "$1$2"), W("R", "a $ b"), W("S", "cost 5$"),
      W("T", "\\x\\"), W("U", "$-$.$/"), W("V", "$"), W("W", "\\"), W("X", "$"),
      W("Y", "a$")},
     NULL,
     NULL},
    {"skipped words are not expanded",
     {E("A", "v"), E("E", ""),
      E("X", "${A:-$UNDEF}${N+${UNDEF}}${E:+$UNDEF}${A-${U:-$UNDEF}}")},
     {W("X", "vv")},
     NULL,
     NULL},
    {"non-interpolated layer kept and used as is",
     {EL("L", "$A", 1), E("A", "a"), E("X", "${L}")},
     {W("L", "$A"), W("X", "$A")},
     NULL,
     NULL},
    {"literal entry kept and used as is",
     {EF("L", "${A}", EI_ENTRY_LITERAL), E("A", "a"), E("X", "[$L]")},
     {W("L", "${A}"), W("X", "[${A}]")},
     NULL,
     NULL},
    {"schema defaults are expanded",
     {EL("D", "${A}/d", EI_LAYER_SCHEMA), E("A", "a"), E("X", "$D")},
     {W("D", "a/d"), W("X", "a/d")},
     NULL,
     NULL},
    {"unknown layer index is not expanded",
     {EL("L", "${A}", 3), EL("M", "${A}", -7), E("A", "a")},
     {W("L", "${A}"), W("M", "${A}")},
     NULL,
     NULL},
    {"chain",
     {E("A1", "$A2"), E("A2", "$A3"), E("A3", "$A4"), E("A4", "${A5}!"),
      E("A5", "end")},
     {W("A1", "end!"), W("A2", "end!"), W("A3", "end!"), W("A4", "end!")},
     NULL,
     NULL},
    {"diamond",
     {E("A", "$B$C"), E("B", "$D"), E("C", "$D"), E("D", "d")},
     {W("A", "dd"), W("B", "d"), W("C", "d")},
     NULL,
     NULL},
    {"self reference that only asks whether it is set",
     {E("A", "${A+set}")},
     {W("A", "set")},
     NULL,
     NULL},
    {"taint",
     {ES("S", "pw"), E("X", "u:${S}"), E("Y", "<$X>"), E("Z", "${S+yes}"),
      E("C", "${S:+yes}"), E("P", "$Q"), E("Q", "q"), ES("T", "plain text"),
      E("N", "${NOPE-$S}"), E("M", "${S-no}")},
     {WS("S", "pw"), WS("X", "u:pw"), WS("Y", "<u:pw>"), W("Z", "yes"),
      WS("C", "yes"), W("P", "q"), W("Q", "q"), WS("T", "plain text"),
      WS("N", "pw"), WS("M", "pw")},
     NULL,
     NULL},
    {"secret entry with references",
     {ES("S", "${A}:${B:-x}"), E("A", "a")},
     {WS("S", "a:x"), W("A", "a")},
     NULL,
     NULL},
    {"taint of a literal secret, text unchanged",
     {{"L", "${L}", EI_ENTRY_LITERAL | EI_ENTRY_SECRET, 0}, E("X", "${L}")},
     {WS("L", "${L}"), WS("X", "${L}")},
     NULL,
     NULL},
    {"taint through a non-interpolated secret",
     {{"L", "$x", EI_ENTRY_SECRET, 1}, E("X", "=${L}=")},
     {WS("L", "$x"), WS("X", "=$x=")},
     NULL,
     NULL},
    {"empty value and plain values",
     {E("A", ""), E("B", "no dollar here"), E("C", "{}\\")},
     {W("A", ""), W("B", "no dollar here"), W("C", "{}\\")},
     NULL,
     NULL},

    /* errors */
    {"undefined braced",
     {E("A", "${B}"), E("K", CANARY)},
     {{NULL, NULL, false}},
     "undefined variable B referenced by A",
     "A"},
    {"undefined bare",
     {E("K", CANARY), E("A", "x$B")},
     {{NULL, NULL, false}},
     "undefined variable B referenced by A",
     "A"},
    {"undefined in an unset entry",
     {EU("B"), E("A", "${B}")},
     {{NULL, NULL, false}},
     "undefined variable B referenced by A",
     "A"},
    {"undefined in a used word",
     {E("K", CANARY), E("A", "${X:-${Y:-$B}}")},
     {{NULL, NULL, false}},
     "undefined variable B referenced by A",
     "A"},
    {"undefined from a schema default",
     {EL("D", "$NOPE", EI_LAYER_SCHEMA)},
     {{NULL, NULL, false}},
     "undefined variable NOPE referenced by D",
     "D"},
    {"undefined deeper in a chain",
     {E("A", "$B"), E("B", "${C}"), E("C", "$D")},
     {{NULL, NULL, false}},
     "undefined variable D referenced by C",
     "C"},
    {"undefined name in a secret is not shown",
     {ES("S", "p@ss$" CANARY "!")},
     {{NULL, NULL, false}},
     "undefined variable at offset 4 referenced by S",
     "S"},
    {"cycle of one",
     {E("A", "x$A")},
     {{NULL, NULL, false}},
     "interpolation cycle: A -> A",
     "A"},
    {"cycle of one with default",
     {E("A", "${A:-x}")},
     {{NULL, NULL, false}},
     "interpolation cycle: A -> A",
     "A"},
    {"cycle of two",
     {E("A", "${B}"), E("B", CANARY "$A")},
     {{NULL, NULL, false}},
     "interpolation cycle: A -> B -> A",
     "B"},
    {"cycle of three",
     {E("A", "$B"), E("B", "$C"), E("C", "$A")},
     {{NULL, NULL, false}},
     "interpolation cycle: A -> B -> C -> A",
     "C"},
    {"cycle reached from outside",
     {E("X", "$A"), E("A", "$B"), E("B", "${A}")},
     {{NULL, NULL, false}},
     "interpolation cycle: A -> B -> A",
     "B"},
    {"cycle through a default",
     {E("A", "${U:-$B}"), E("B", "${A-}")},
     {{NULL, NULL, false}},
     "interpolation cycle: A -> B -> A",
     "B"},
    {"cycle through a secret",
     {E("A", "$S"), ES("S", "${A}")},
     {{NULL, NULL, false}},
     "interpolation cycle: A -> S -> A",
     "S"},
    {"unterminated",
     {E("A", "${B")},
     {{NULL, NULL, false}},
     "unterminated ${ at offset 0",
     "A"},
    {"unterminated at end",
     {E("A", "ab${")},
     {{NULL, NULL, false}},
     "unterminated ${ at offset 2",
     "A"},
    {"unterminated word",
     {E("K", CANARY), E("A", "${B:-x")},
     {{NULL, NULL, false}},
     "unterminated ${ at offset 0",
     "A"},
    {"unterminated outer word",
     {E("A", "${B:-${C}")},
     {{NULL, NULL, false}},
     "unterminated ${ at offset 0",
     "A"},
    {"unterminated inner",
     {E("A", "${B:-${C")},
     {{NULL, NULL, false}},
     "unterminated ${ at offset 5",
     "A"},
    {"unterminated operator",
     {E("A", "x${B:")},
     {{NULL, NULL, false}},
     "unterminated ${ at offset 1",
     "A"},
    {"unterminated word after text",
     {E("A", "ab${B:-x${C}")},
     {{NULL, NULL, false}},
     "unterminated ${ at offset 2",
     "A"},
    {"unterminated inner word",
     {E("A", "x${B:-${C:-y")},
     {{NULL, NULL, false}},
     "unterminated ${ at offset 6",
     "A"},
    {"unterminated by a plain brace",
     {E("A", "${B:-{}")},
     {{NULL, NULL, false}},
     "unterminated ${ at offset 0",
     "A"},
    {"bad: empty",
     {E("A", "${}")},
     {{NULL, NULL, false}},
     "bad substitution at offset 0",
     "A"},
    {"bad: digit",
     {E("A", "a${1X}")},
     {{NULL, NULL, false}},
     "bad substitution at offset 1",
     "A"},
    {"bad: :?",
     {E("A", "${B:?x}")},
     {{NULL, NULL, false}},
     "bad substitution at offset 0",
     "A"},
    {"bad: =",
     {E("A", "${B=x}")},
     {{NULL, NULL, false}},
     "bad substitution at offset 0",
     "A"},
    {"bad: :=",
     {E("A", "${B:=x}")},
     {{NULL, NULL, false}},
     "bad substitution at offset 0",
     "A"},
    {"bad: length",
     {E("A", "${#B}")},
     {{NULL, NULL, false}},
     "bad substitution at offset 0",
     "A"},
    {"bad: pattern",
     {E("A", "${B/x/y}")},
     {{NULL, NULL, false}},
     "bad substitution at offset 0",
     "A"},
    {"bad: suffix",
     {E("A", "${B%x}")},
     {{NULL, NULL, false}},
     "bad substitution at offset 0",
     "A"},
    {"bad: space",
     {E("A", "${ B}")},
     {{NULL, NULL, false}},
     "bad substitution at offset 0",
     "A"},
    {"bad: name then space",
     {E("A", "${B C}")},
     {{NULL, NULL, false}},
     "bad substitution at offset 0",
     "A"},
    {"bad: colon",
     {E("A", "${B:x}")},
     {{NULL, NULL, false}},
     "bad substitution at offset 0",
     "A"},
    {"bad in a skipped word",
     {E("B", "v"), E("A", CANARY "${B:-${}}")},
     {{NULL, NULL, false}},
     "bad substitution at offset 23",
     "A"},
    {"bad from a secret",
     {ES("S", CANARY "${!x}")},
     {{NULL, NULL, false}},
     "bad substitution at offset 18",
     "S"},
    {"bad in a schema default",
     {EL("D", "${A:?}", EI_LAYER_SCHEMA)},
     {{NULL, NULL, false}},
     "bad substitution at offset 0",
     "D"},
};

struct env {
    struct ei_store *plain;
    struct ei_store *secret;
    struct ei_envset *set;
};

static void env_open(struct env *env)
{
    env->plain = ei_store_new(false);
    env->secret = ei_store_new(true);
    assert_non_null(env->plain);
    assert_non_null(env->secret);
    env->set = ei_envset_new(env->plain);
    assert_non_null(env->set);
}

static void env_close(struct env *env)
{
    ei_envset_free(env->set);
    ei_store_free(env->plain);
    ei_store_free(env->secret);
}

static void put(struct env *env, const char *key, const char *value,
                unsigned flags, int layer, int line)
{
    char loc[32];
    snprintf(loc, sizeof(loc), "test.env:%d", line);
    struct ei_entry e = {
        .key = key,
        .value = value,
        .value_len = value ? strlen(value) : 0,
        .flags = flags,
        .layer = layer,
        .locator = ei_store_strdup(env->plain, loc),
    };
    assert_non_null(ei_envset_put(env->set, &e, NULL));
}

static int expand(struct env *env, struct ei_error *err)
{
    return ei_interp_expand(env->set, interp_layers, 3, layer_name, NULL,
                            env->plain, env->secret, err);
}

/* Nothing may change when expansion fails. */
static void assert_untouched(const struct env *env, const struct icase *c)
{
    for (size_t i = 0; i < MAXE && c->in[i].key; i++) {
        const struct ei_entry *e = ei_envset_get(env->set, c->in[i].key);
        assert_non_null(e);
        assert_ptr_equal(e->value, c->in[i].value);
        assert_null(e->raw);
        assert_int_equal(e->flags, c->in[i].flags);
    }
}

static void run_case(const struct icase *c)
{
    struct env env;
    env_open(&env);
    for (size_t i = 0; i < MAXE && c->in[i].key; i++)
        put(&env, c->in[i].key, c->in[i].value, c->in[i].flags, c->in[i].layer,
            (int)i + 1);
    struct ei_error err = {0};
    int rc = expand(&env, &err);

    if (c->err != NULL) {
        assert_int_equal(rc, -1);
        assert_int_equal(err.status, EI_BADCONFIG);
        assert_string_equal(err.text, c->err);
        size_t at = 0;
        while (strcmp(c->in[at].key, c->err_key) != 0)
            at++;
        char loc[32];
        snprintf(loc, sizeof(loc), "test.env:%zu", at + 1);
        assert_string_equal(err.locator, loc);
        assert_string_equal(err.layer, layer_name(NULL, c->in[at].layer));
        assert_null(strstr(err.text, "CANARY"));
        assert_null(strstr(err.locator, "CANARY"));
        assert_untouched(&env, c);
        env_close(&env);
        return;
    }

    if (rc != 0)
        fail_msg("unexpected error: %s", err.text);
    assert_int_equal(err.status, EI_OK);
    for (size_t i = 0; i < MAXE && c->out[i].key; i++) {
        const struct ei_entry *e = ei_envset_get(env.set, c->out[i].key);
        assert_non_null(e);
        const struct ent *in = NULL;
        for (size_t k = 0; k < MAXE && c->in[k].key; k++) {
            if (strcmp(c->in[k].key, c->out[i].key) == 0)
                in = &c->in[k];
        }
        assert_non_null(in);
        size_t want_len = strlen(c->out[i].value);
        if (e->value_len != want_len ||
            memcmp(e->value, c->out[i].value, want_len) != 0)
            fail_msg("%s: want [%s], got [%.*s]", c->out[i].key,
                     c->out[i].value, (int)e->value_len, e->value);
        assert_int_equal(e->value[e->value_len], '\0');
        if (((e->flags & EI_ENTRY_SECRET) != 0) != c->out[i].secret)
            fail_msg("%s: secret flag %s", c->out[i].key,
                     c->out[i].secret ? "missing" : "set");
        if (strcmp(in->value, c->out[i].value) != 0) {
            /* changed: the original text is kept */
            assert_ptr_equal(e->raw, in->value);
            assert_int_equal(e->raw_len, strlen(in->value));
        } else {
            assert_null(e->raw);
            /* untouched values are not even copied, unless tainted */
            if (!c->out[i].secret || (in->flags & EI_ENTRY_SECRET))
                assert_ptr_equal(e->value, in->value);
        }
    }

    /* a second pass changes nothing */
    size_t n = ei_envset_count(env.set);
    const char **before = calloc(n + 1, sizeof(*before));
    assert_non_null(before);
    for (size_t i = 0; i < n; i++)
        before[i] = ei_envset_at(env.set, i)->value;
    assert_int_equal(expand(&env, &err), 0);
    for (size_t i = 0; i < n; i++)
        assert_ptr_equal(ei_envset_at(env.set, i)->value, before[i]);
    free(before);
    env_close(&env);
}

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("# %s\n", cases[i].name);
        run_case(&cases[i]);
    }
}

/* The first error wins, and err may be NULL. */
static void test_error_handling(void **state)
{
    (void)state;
    struct env env;
    env_open(&env);
    put(&env, "A", "$B", 0, 0, 1);
    struct ei_error err = {0};
    ei_error_set(&err, EI_DENIED, 0, "earlier", "x:1", "earlier error");
    assert_int_equal(expand(&env, &err), -1);
    assert_int_equal(err.status, EI_DENIED);
    assert_string_equal(err.text, "earlier error");
    assert_int_equal(expand(&env, NULL), -1);
    env_close(&env);

    /* an empty set, and no layers at all: only schema defaults expand */
    env_open(&env);
    struct ei_error err2 = {0};
    assert_int_equal(ei_interp_expand(env.set, NULL, 0, NULL, NULL, env.plain,
                                      env.secret, &err2),
                     0);
    put(&env, "A", "$B", 0, 0, 1);
    put(&env, "S", "${A}", 0, EI_LAYER_SCHEMA, 2);
    assert_int_equal(ei_interp_expand(env.set, NULL, 0, NULL, NULL, env.plain,
                                      env.secret, &err2),
                     0);
    assert_string_equal(ei_envset_get(env.set, "A")->value, "$B");
    assert_null(ei_envset_get(env.set, "A")->raw);
    assert_string_equal(ei_envset_get(env.set, "S")->value, "$B");
    put(&env, "T", "${Z}", 0, EI_LAYER_SCHEMA, 3);
    assert_int_equal(ei_interp_expand(env.set, NULL, 0, NULL, NULL, env.plain,
                                      env.secret, &err2),
                     -1);
    assert_string_equal(err2.text, "undefined variable Z referenced by T");
    assert_string_equal(err2.layer, "");
    assert_string_equal(err2.locator, "test.env:3");
    env_close(&env);

    /* only the first layers_n flags are looked at */
    static const bool all[] = {true, true, true};
    env_open(&env);
    put(&env, "A", "a", 0, 0, 1);
    put(&env, "L0", "$A", 0, 0, 2);
    put(&env, "L1", "$A", 0, 1, 3);
    memset(&err2, 0, sizeof(err2));
    assert_int_equal(ei_interp_expand(env.set, all, 1, NULL, NULL, env.plain,
                                      env.secret, &err2),
                     0);
    assert_string_equal(ei_envset_get(env.set, "L0")->value, "a");
    assert_string_equal(ei_envset_get(env.set, "L1")->value, "$A");
    env_close(&env);
}

/* Expanded values go to the store their secrecy asks for: a missing store
   shows up as an allocation failure. */
static void test_store_routing(void **state)
{
    (void)state;
    static const struct {
        struct ent in[3];
        bool plain, secret; /* which stores are given */
        bool ok;
    } rows[] = {
        {{ES("S", "pw"), E("X", "${S}")}, false, true, true},
        {{ES("S", "pw"), E("X", "${S}")}, true, false, false},
        {{ES("S", "$P"), E("P", "p")}, false, true, true},
        {{ES("S", "$P"), E("P", "p")}, true, false, false},
        {{E("P", "p"), E("Y", "$P")}, true, false, true},
        {{E("P", "p"), E("Y", "$P")}, false, true, false},
        {{E("P", "p"), E("Y", "P")}, false, false, true},
        /* unchanged text that took in a secret still moves */
        {{{"L", "${L}", EI_ENTRY_LITERAL | EI_ENTRY_SECRET, 0}, E("X", "${L}")},
         true,
         false,
         false},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct env env;
        env_open(&env);
        for (size_t k = 0; k < 3 && rows[i].in[k].key; k++)
            put(&env, rows[i].in[k].key, rows[i].in[k].value,
                rows[i].in[k].flags, rows[i].in[k].layer, (int)k + 1);
        struct ei_error err = {0};
        int rc = ei_interp_expand(env.set, interp_layers, 3, layer_name, NULL,
                                  rows[i].plain ? env.plain : NULL,
                                  rows[i].secret ? env.secret : NULL, &err);
        if (rows[i].ok) {
            assert_int_equal(rc, 0);
        } else {
            assert_int_equal(rc, -1);
            assert_int_equal(err.status, EI_NOMEM);
            assert_string_equal(err.text, "out of memory during interpolation");
        }
        env_close(&env);
    }
}

static char *repeat(const char *s, size_t times, const char *tail)
{
    size_t len = strlen(s), tl = strlen(tail);
    char *p = malloc(len * times + tl + 1);
    assert_non_null(p);
    for (size_t i = 0; i < times; i++)
        memcpy(p + i * len, s, len);
    memcpy(p + len * times, tail, tl + 1);
    return p;
}

/* Doubling references stop at 1 MiB per value. */
static void test_size_limit(void **state)
{
    (void)state;
    enum { LEVELS = 12 };
    struct env env;
    env_open(&env);
    char keys[LEVELS][8];
    char vals[LEVELS][32];
    char *base = repeat("x", 1024, "");
    /* K11 first, so that expansion starts at the top */
    for (int i = LEVELS - 1; i >= 0; i--) {
        snprintf(keys[i], sizeof(keys[i]), "K%d", i);
        if (i == 0)
            put(&env, keys[i], base, 0, 0, i + 1);
        else {
            snprintf(vals[i], sizeof(vals[i]), "$K%d${K%d}", i - 1, i - 1);
            put(&env, keys[i], vals[i], 0, 0, i + 1);
        }
    }
    struct ei_error err = {0};
    assert_int_equal(expand(&env, &err), -1);
    assert_int_equal(err.status, EI_BADCONFIG);
    assert_string_equal(err.text, "value of K11 grows beyond 1048576 bytes "
                                  "during interpolation");
    assert_string_equal(err.locator, "test.env:12");
    env_close(&env);

    /* one level less fits exactly */
    memset(&err, 0, sizeof(err));
    env_open(&env);
    for (int i = LEVELS - 2; i >= 0; i--)
        put(&env, keys[i], i == 0 ? base : vals[i], 0, 0, i + 1);
    assert_int_equal(expand(&env, &err), 0);
    assert_int_equal(ei_envset_get(env.set, "K10")->value_len, 1048576);
    env_close(&env);

    /* a long text may stay as long as it was */
    char *big = repeat("x", 1200000, "$$");
    env_open(&env);
    put(&env, "BIG", big, 0, 0, 1);
    assert_int_equal(expand(&env, &err), 0);
    assert_int_equal(ei_envset_get(env.set, "BIG")->value_len, 1200001);
    env_close(&env);
    free(big);
    free(base);
}

/* Many values each taking in a big one stop at the overall budget. */
static void test_total_limit(void **state)
{
    (void)state;
    enum { N = 70 };
    char *big = repeat("y", 1048576, "");
    struct env env;
    env_open(&env);
    put(&env, "BIG", big, 0, 0, 1);
    char keys[N][8];
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof(keys[i]), "X%02d", i);
        put(&env, keys[i], "$BIG", 0, 0, i + 2);
    }
    struct ei_error err = {0};
    assert_int_equal(expand(&env, &err), -1);
    assert_string_equal(err.text, "interpolation grows values by more than "
                                  "67108864 bytes in total (at X64)");
    assert_string_equal(err.locator, "test.env:66");
    /* nothing was committed */
    assert_ptr_equal(ei_envset_get(env.set, "X00")->value, "$BIG");
    env_close(&env);
    free(big);
}

/* Chains and cycles far longer than any stack would allow recursion for. */
static void test_long_chain(void **state)
{
    (void)state;
    enum { N = 20000 };
    static char keys[N][8];
    static char vals[N][12];
    struct env env;
    env_open(&env);
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof(keys[i]), "A%d", i);
        if (i == N - 1)
            snprintf(vals[i], sizeof(vals[i]), "end");
        else
            snprintf(vals[i], sizeof(vals[i]), "$A%d", i + 1);
        put(&env, keys[i], vals[i], 0, 0, i + 1);
    }
    struct ei_error err = {0};
    assert_int_equal(expand(&env, &err), 0);
    for (int i = 0; i < N; i++)
        assert_string_equal(ei_envset_get(env.set, keys[i])->value, "end");
    env_close(&env);

    /* the same, closed into a cycle: the text is cut, not overflowed */
    env_open(&env);
    snprintf(vals[N - 1], sizeof(vals[N - 1]), "${A0}");
    for (int i = 0; i < N; i++)
        put(&env, keys[i], vals[i], 0, 0, i + 1);
    assert_int_equal(expand(&env, &err), -1);
    assert_int_equal(err.status, EI_BADCONFIG);
    assert_non_null(strstr(err.text, "interpolation cycle: A0 -> A1 -> A2"));
    assert_int_equal(strlen(err.text), EI_ERR_TEXT_LEN - 1);
    assert_string_equal(err.text + EI_ERR_TEXT_LEN - 4, "...");
    char loc[32];
    snprintf(loc, sizeof(loc), "test.env:%d", N);
    assert_string_equal(err.locator, loc);
    env_close(&env);
}

/* Deep nesting inside one value. */
static void test_deep_nesting(void **state)
{
    (void)state;
    enum { DEPTH = 100000 };
    char *open = repeat("${U:-", DEPTH, "x");
    char *close = repeat("}", DEPTH, "");
    size_t lo = strlen(open), lc = strlen(close);
    char *v = malloc(lo + lc + 1);
    assert_non_null(v);
    memcpy(v, open, lo);
    memcpy(v + lo, close, lc + 1);
    struct env env;
    env_open(&env);
    put(&env, "A", v, 0, 0, 1);
    struct ei_error err = {0};
    assert_int_equal(expand(&env, &err), 0);
    assert_string_equal(ei_envset_get(env.set, "A")->value, "x");
    env_close(&env);

    /* one brace short */
    v[lo + lc - 1] = '\0';
    env_open(&env);
    put(&env, "A", v, 0, 0, 1);
    assert_int_equal(expand(&env, &err), -1);
    assert_string_equal(err.text, "unterminated ${ at offset 0");
    env_close(&env);
    free(v);
    free(open);
    free(close);
}

/* Many keys with a few references each. */
static void test_many_keys(void **state)
{
    (void)state;
    enum { N = 100000 };
    char(*keys)[12] = calloc(N, sizeof(*keys));
    char(*vals)[40] = calloc(N, sizeof(*vals));
    char(*want)[40] = calloc(N, sizeof(*want));
    assert_non_null(keys);
    assert_non_null(vals);
    assert_non_null(want);
    struct env env;
    env_open(&env);
    /* even keys are plain, 1 mod 4 refer to two of them, 3 mod 4 to the
       1 mod 4 key before them */
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof(keys[i]), "K%d", i);
        int j = (int)(((long)i * 7919) % N) & ~1;
        switch (i % 4) {
        case 0:
        case 2:
            snprintf(vals[i], sizeof(vals[i]), "v%d", i);
            snprintf(want[i], sizeof(want[i]), "v%d", i);
            break;
        case 1:
            snprintf(vals[i], sizeof(vals[i]), "${K%d}-$K%d", j, i - 1);
            snprintf(want[i], sizeof(want[i]), "v%d-v%d", j, i - 1);
            break;
        default:
            snprintf(vals[i], sizeof(vals[i]), "<$K%d>", i - 2);
            snprintf(want[i], sizeof(want[i]), "<v%d-v%d>",
                     (int)(((long)(i - 2) * 7919) % N) & ~1, i - 3);
            break;
        }
    }
    /* insert in reverse so that references point backwards and forwards */
    for (int i = N - 1; i >= 0; i--)
        put(&env, keys[i], vals[i], 0, 0, i + 1);
    struct ei_error err = {0};
    assert_int_equal(expand(&env, &err), 0);
    for (int i = 0; i < N; i++)
        assert_string_equal(ei_envset_get(env.set, keys[i])->value, want[i]);
    env_close(&env);
    free(keys);
    free(vals);
    free(want);
}

int main(void)
{
    if (ei_secmem_init() != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_error_handling),
        cmocka_unit_test(test_store_routing),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_total_limit),
        cmocka_unit_test(test_long_chain),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_many_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
