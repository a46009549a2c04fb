/* SPDX-License-Identifier: MIT */
/* Unit tests of output.c: every print format, origins, redaction, explain,
   check, diff, and the dotenv round trip through the real reader. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "dotenv.h"
#include "envset.h"
#include "layer.h"
#include "output.h"
#include "resolve.h"
#include "schema.h"
#include "secmem.h"

#define CANARY "EI_CANARY_3b9e04d1"

static const struct ei_provider prov_file = {.name = "file"};
static const struct ei_provider prov_vault = {.name = "vault"};
static const struct ei_provider prov_env = {.name = "env"};

enum { L_DEFAULTS, L_PER_ENV, L_VAULT, L_RUNTIME, L_N };

/* A resolution built by hand. */
struct fx {
    struct ei_layer layers[L_N];
    struct ei_resolution r;
};

static void fx_init(struct fx *f)
{
    memset(f, 0, sizeof(*f));
    f->layers[L_DEFAULTS] =
        (struct ei_layer){.name = "defaults", .prov = &prov_file};
    f->layers[L_PER_ENV] =
        (struct ei_layer){.name = "per-env", .prov = &prov_file};
    f->layers[L_VAULT] =
        (struct ei_layer){.name = "vault", .prov = &prov_vault};
    f->layers[L_RUNTIME] =
        (struct ei_layer){.name = "runtime", .prov = &prov_env};
    f->r.layers = f->layers;
    f->r.layers_n = L_N;
    f->r.plain = ei_store_new(false);
    f->r.secrets = ei_store_new(true);
    assert_non_null(f->r.plain);
    assert_non_null(f->r.secrets);
    f->r.final = ei_envset_new(f->r.plain);
    assert_non_null(f->r.final);
}

static void fx_fini(struct fx *f)
{
    ei_problems_clear(&f->r.problems);
    ei_envset_free(f->r.final);
    ei_store_free(f->r.plain);
    ei_store_free(f->r.secrets);
}

/* key=value (len bytes) from layer, on top of what the key had. */
static struct ei_entry *fx_putn(struct fx *f, const char *key,
                                const char *value, size_t len, int layer,
                                const char *locator, unsigned flags)
{
    struct ei_store *st = (flags & EI_ENTRY_SECRET) ? f->r.secrets : f->r.plain;
    struct ei_entry e = {
        .key = ei_store_strdup(f->r.plain, key),
        .value = ei_store_strndup(st, value, len),
        .value_len = len,
        .flags = flags,
        .locator =
            locator != NULL ? ei_store_strdup(f->r.plain, locator) : NULL,
        .layer = layer,
        .below = ei_envset_get(f->r.final, key),
    };
    assert_non_null(e.key);
    assert_non_null(e.value);
    struct ei_entry *in = ei_envset_put(f->r.final, &e, NULL);
    assert_non_null(in);
    return in;
}

static struct ei_entry *fx_put(struct fx *f, const char *key, const char *value,
                               int layer, const char *locator, unsigned flags)
{
    return fx_putn(f, key, value, strlen(value), layer, locator, flags);
}

/* The origin fixture: an override chain, a secret, a schema default with
   interpolation, and a key that a layer unset. */
static void fx_origin(struct fx *f)
{
    fx_init(f);
    fx_put(f, "DB_HOST", "localhost", L_DEFAULTS, "defaults.cfg:3", 0);
    fx_put(f, "DB_HOST", "db.dev", L_PER_ENV, "dev.env:1", 0);
    fx_put(f, "DB_HOST", "db.override", L_RUNTIME, NULL, 0);
    struct ei_entry *key = fx_put(f, "API_KEY", "sk_live_1", L_VAULT,
                                  "secret/app v3", EI_ENTRY_SECRET);
    key->raw = ei_store_strdup(f->r.secrets, "sk_${SUFFIX}");
    key->raw_len = strlen(key->raw);
    struct ei_entry *port =
        fx_put(f, "PORT", "5432", EI_LAYER_SCHEMA, "envinject.conf:12", 0);
    port->raw = ei_store_strdup(f->r.plain, "${P}");
    port->raw_len = 4;
    fx_put(f, "GONE", "x", L_DEFAULTS, "defaults.cfg:9", 0);
    fx_put(f, "GONE", "", L_RUNTIME, NULL, EI_ENTRY_UNSET);
}

/* What a writer produced: its output, return code and error. */
struct run {
    char *out;
    size_t len;
    long rc;
    struct ei_error err;
};

static FILE *run_open(struct run *run)
{
    memset(run, 0, sizeof(*run));
    FILE *f = open_memstream(&run->out, &run->len);
    assert_non_null(f);
    return f;
}

static void run_close(struct run *run, FILE *f)
{
    assert_int_equal(fclose(f), 0);
}

static void run_free(struct run *run)
{
    free(run->out);
    run->out = NULL;
}

static void do_print(struct run *run, const struct ei_resolution *r,
                     const struct ei_print_opts *o)
{
    FILE *f = run_open(run);
    run->rc = ei_output_print(f, r, o, &run->err);
    run_close(run, f);
}

static void expect_output(const struct run *run, const char *want,
                          const char *what)
{
    if (run->rc < 0)
        fail_msg("%s: failed: %s", what, run->err.text);
    if (run->len != strlen(want) || memcmp(run->out, want, run->len) != 0)
        fail_msg("%s:\n--- got ---\n%s--- want ---\n%s", what, run->out, want);
}

static void expect_failure(const struct run *run, enum ei_status status,
                           const char *text, const char *what)
{
    if (run->rc != -1)
        fail_msg("%s: succeeded, printed:\n%s", what, run->out);
    assert_int_equal(run->err.status, status);
    if (text != NULL && strcmp(run->err.text, text) != 0)
        fail_msg("%s: error \"%s\", want \"%s\"", what, run->err.text, text);
    if (run->len != 0)
        fail_msg("%s: printed on failure:\n%s", what, run->out);
}

static char *concat(const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    char *s = malloc(la + lb + lc + 1);
    assert_non_null(s);
    memcpy(s, a, la);
    memcpy(s + la, b, lb);
    memcpy(s + la + lb, c, lc + 1);
    return s;
}

/* What dotenv and shell write for a secret without --reveal. */
#define LEFT_OUT_K "# K is secret: left out (--reveal writes it)\n"

/* One value through every format.  Each column is what follows "K=" (or
   the format's own prefix); NULL means the format refuses the value.  A
   secret is left out of every format but table. */

struct value_case {
    const char *name;
    const char *value;
    unsigned flags;
    const char *dotenv;
    const char *env;
    const char *shell;
    const char *json;
    bool gh_multi; /* github needs the delimiter form */
    const char *table;
};

static const struct value_case value_cases[] = {
    {"plain", "localhost", 0, "localhost", "localhost", "'localhost'",
     "\"localhost\"", false, "localhost"},
    {"empty", "", 0, "", "", "''", "\"\"", false, ""},
    {"bare punctuation", "a_b./:@%+,=-1", 0, "a_b./:@%+,=-1", "a_b./:@%+,=-1",
     "'a_b./:@%+,=-1'", "\"a_b./:@%+,=-1\"", false, "a_b./:@%+,=-1"},
    {"spaces", " a b ", 0, "' a b '", " a b ", "' a b '", "\" a b \"", false,
     " a b "},
    {"hash", "a#b", 0, "'a#b'", "a#b", "'a#b'", "\"a#b\"", false, "a#b"},
    {"single quote", "it's", 0, "\"it's\"", "it's", "'it'\\''s'", "\"it's\"",
     false, "it's"},
    {"double quote", "say \"hi\"", 0, "'say \"hi\"'", "say \"hi\"",
     "'say \"hi\"'", "\"say \\\"hi\\\"\"", false, "say \"hi\""},
    {"both quotes", "it's \"x\"", 0, "\"it's \\\"x\\\"\"", "it's \"x\"",
     "'it'\\''s \"x\"'", "\"it's \\\"x\\\"\"", false, "it's \"x\""},
    {"dollar", "$HOME/x", 0, "'$HOME/x'", "$HOME/x", "'$HOME/x'", "\"$HOME/x\"",
     false, "$HOME/x"},
    {"dollar and quote", "'$x'", 0, NULL, "'$x'", "''\\''$x'\\'''",
     "\"'$x'\"", false, "'$x'"},
    {"backslash", "C:\\path", 0, "'C:\\path'", "C:\\path", "'C:\\path'",
     "\"C:\\\\path\"", false, "C:\\\\path"},
    {"backslash and quote", "a\\'b", 0, "\"a\\\\'b\"", "a\\'b", "'a\\'\\''b'",
     "\"a\\\\'b\"", false, "a\\\\'b"},
    {"newline", "l1\nl2", 0, "'l1\nl2'", NULL, "'l1\nl2'", "\"l1\\nl2\"", true,
     "l1\\nl2"},
    {"carriage return", "a\rb", 0, NULL, "a\rb", "'a\rb'", "\"a\\rb\"",
     true, "a\\rb"},
    {"tab", "a\tb", 0, "'a\tb'", "a\tb", "'a\tb'", "\"a\\tb\"", false, "a\\tb"},
    {"control byte", "a\x01z", 0, "'a\x01z'", "a\x01z", "'a\x01z'",
     "\"a\\u0001z\"", false, "a\\x01z"},
    {"utf-8", "h\xc3\xa9llo \xe2\x9c\x93", 0, "'h\xc3\xa9llo \xe2\x9c\x93'",
     "h\xc3\xa9llo \xe2\x9c\x93", "'h\xc3\xa9llo \xe2\x9c\x93'",
     "\"h\xc3\xa9llo \xe2\x9c\x93\"", false, "h\xc3\xa9llo \xe2\x9c\x93"},
    {"C1 control", "a\xc2\x9bz", 0, "'a\xc2\x9bz'", "a\xc2\x9bz",
     "'a\xc2\x9bz'", "\"a\xc2\x9bz\"", false, "a\\xc2\\x9bz"},
    {"invalid utf-8", "a\xff\xfe", 0, "'a\xff\xfe'", "a\xff\xfe", "'a\xff\xfe'",
     NULL, false, "a\\xff\\xfe"},
    {"overlong utf-8", "\xc0\xaf", 0, "'\xc0\xaf'", "\xc0\xaf", "'\xc0\xaf'",
     NULL, false, "\\xc0\\xaf"},
    {"backtick", "`id`", 0, "'`id`'", "`id`", "'`id`'", "\"`id`\"", false,
     "`id`"},
    {"quote and backtick", "it's `id`", 0, NULL, "it's `id`",
     "'it'\\''s `id`'", "\"it's `id`\"", false, "it's `id`"},
    {"quote and newline", "it's\nx", 0, "\"it's\nx\"", NULL, "'it'\\''s\nx'",
     "\"it's\\nx\"", true, "it's\\nx"},
    {"quote and tab", "it's\tx", 0, "\"it's\tx\"", "it's\tx", "'it'\\''s\tx'",
     "\"it's\\tx\"", false, "it's\\tx"},
    /* double quotes escape with a backslash, which bash in a GBK or Big5
       locale reads as the second byte of a character after a byte above
       0x7f: refused there, accepted elsewhere */
    {"quote, GBK lead byte before a quote", "it's \x81\";x", 0, NULL,
     "it's \x81\";x", "'it'\\''s \x81\";x'", NULL, false,
     "it's \\x81\";x"},
    {"quote, high byte at the end", "it's \xc3\xa9", 0, NULL,
     "it's \xc3\xa9", "'it'\\''s \xc3\xa9'", "\"it's \xc3\xa9\"", false,
     "it's \xc3\xa9"},
    {"quote, utf-8 inside", "it's h\xc3\xa9llo", 0, "\"it's h\xc3\xa9llo\"",
     "it's h\xc3\xa9llo", "'it'\\''s h\xc3\xa9llo'", "\"it's h\xc3\xa9llo\"",
     false, "it's h\xc3\xa9llo"},
    /* single-quoted: python-dotenv needs interpolate=False (documented) */
    {"brace", "${X}", 0, "'${X}'", "${X}", "'${X}'", "\"${X}\"", false,
     "${X}"},
    {"two backslashes", "a\\\\b", 0, "\"a\\\\\\\\b\"", "a\\\\b", "'a\\\\b'",
     "\"a\\\\\\\\b\"", false, "a\\\\\\\\b"},
    {"trailing backslash", "a\\", 0, NULL, "a\\", "'a\\'", "\"a\\\\\"", false,
     "a\\\\"},
    {"two backslashes and dollar", "\\\\$", 0, NULL, "\\\\$", "'\\\\$'",
     "\"\\\\\\\\$\"", false, "\\\\\\\\$"},
    {"secret", "s3cr3t-value", EI_ENTRY_SECRET, "'<secret>'", "<secret>",
     "'<secret>'", "\"<secret>\"", false, "<secret>"},
    {"secret not utf-8", "\xff", EI_ENTRY_SECRET, "'<secret>'", "<secret>",
     "'<secret>'", "\"<secret>\"", false, "<secret>"},
    {"secret newline", "x\ny", EI_ENTRY_SECRET, "'<secret>'", "<secret>",
     "'<secret>'", "\"<secret>\"", false, "<secret>"},
};

static bool is_hex_lower(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strchr("0123456789abcdef", s[i]) == NULL || s[i] == '\0')
            return false;
    return true;
}

/* KEY<<ghadelimiter_HEX32 \n value \n ghadelimiter_HEX32 \n */
static void expect_github_multi(const struct run *run, const char *value,
                                const char *what)
{
    static const char head[] = "K<<ghadelimiter_";
    size_t hl = sizeof(head) - 1, vl = strlen(value);
    size_t dl = sizeof("ghadelimiter_") - 1 + 32;
    if (run->rc < 0)
        fail_msg("%s: %s", what, run->err.text);
    if (run->len != 3 + dl + 1 + vl + 1 + dl + 1 ||
        memcmp(run->out, head, hl) != 0 || !is_hex_lower(run->out + hl, 32) ||
        run->out[3 + dl] != '\n')
        fail_msg("%s: bad github output:\n%s", what, run->out);
    const char *delim = run->out + 3;
    const char *body = delim + dl + 1;
    assert_memory_equal(body, value, vl);
    assert_int_equal(body[vl], '\n');
    assert_memory_equal(body + vl + 1, delim, dl);
    assert_int_equal(run->out[run->len - 1], '\n');
}

static void test_print_values(void **state)
{
    static const enum ei_format formats[] = {
        EI_FMT_DOTENV, EI_FMT_ENV,    EI_FMT_SHELL,
        EI_FMT_JSON,   EI_FMT_GITHUB, EI_FMT_TABLE,
    };
    for (size_t i = 0; i < sizeof(value_cases) / sizeof(value_cases[0]); i++) {
        const struct value_case *vc = &value_cases[i];
        bool secret = vc->flags & EI_ENTRY_SECRET;
        const char *shown = secret ? EI_REDACTED : vc->value;
        for (size_t k = 0; k < sizeof(formats) / sizeof(formats[0]); k++) {
            struct fx f;
            fx_init(&f);
            fx_put(&f, "K", vc->value, L_DEFAULTS, "d.env:1", vc->flags);
            struct ei_print_opts o = {.format = formats[k]};
            struct run run;
            do_print(&run, &f.r, &o);
            char what[128];
            snprintf(what, sizeof(what), "%s as %s", vc->name,
                     ei_format_name(formats[k]));
            char *want = NULL;
            switch (formats[k]) {
            case EI_FMT_DOTENV:
                if (secret)
                    want = concat(LEFT_OUT_K, "", "");
                else if (vc->dotenv != NULL)
                    want = concat("K=", vc->dotenv, "\n");
                else
                    expect_failure(&run, EI_BADDATA, NULL, what);
                break;
            case EI_FMT_ENV:
                if (secret)
                    want = concat("", "", "");
                else if (vc->env != NULL)
                    want = concat("K=", vc->env, "\n");
                else
                    expect_failure(&run, EI_BADDATA,
                                   "K: value contains a newline; use "
                                   "--format=dotenv or json",
                                   what);
                break;
            case EI_FMT_SHELL:
                if (secret)
                    want = concat(LEFT_OUT_K, "", "");
                else
                    want = concat("export K=", vc->shell, "\n");
                break;
            case EI_FMT_JSON:
                if (secret)
                    want = concat("{}\n", "", "");
                else if (vc->json != NULL)
                    want = concat("{\n  \"K\": ", vc->json, "\n}\n");
                else
                    expect_failure(&run, EI_BADDATA,
                                   "K: value is not valid UTF-8; use "
                                   "--format=dotenv",
                                   what);
                break;
            case EI_FMT_GITHUB:
                if (secret)
                    want = concat("", "", "");
                else if (vc->gh_multi)
                    expect_github_multi(&run, shown, what);
                else
                    want = concat("K=", shown, "\n");
                break;
            case EI_FMT_TABLE:
                want = concat("KEY  VALUE\nK    ", vc->table, "\n");
                break;
            default:
                fail();
            }
            if (want != NULL) {
                expect_output(&run, want, what);
                /* the machine formats leave the secret out, and count it */
                if (run.rc != (secret && formats[k] != EI_FMT_TABLE))
                    fail_msg("%s: %ld left out", what, run.rc);
            }
            free(want);
            run_free(&run);
            fx_fini(&f);
        }
    }
}

/* --reveal shows the secret in every format, and github masks it. */
static void test_print_reveal(void **state)
{
    static const struct {
        enum ei_format format;
        const char *want;
    } cases[] = {
        {EI_FMT_DOTENV, "A=\"pw'1\"\nB='$x and y'\n"},
        {EI_FMT_ENV, "A=pw'1\nB=$x and y\n"},
        {EI_FMT_SHELL, "export A='pw'\\''1'\nexport B='$x and y'\n"},
        {EI_FMT_JSON, "{\n  \"A\": \"pw'1\",\n  \"B\": \"$x and y\"\n}\n"},
        /* the masks first */
        {EI_FMT_GITHUB, "::add-mask::pw'1\n::add-mask::$x and y\n"
                        "A=pw'1\nB=$x and y\n"},
        {EI_FMT_TABLE, "KEY  VALUE\nA    pw'1\nB    $x and y\n"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fx f;
        fx_init(&f);
        fx_put(&f, "B", "$x and y", L_VAULT, NULL, EI_ENTRY_SECRET);
        fx_put(&f, "A", "pw'1", L_VAULT, NULL, EI_ENTRY_SECRET);
        struct ei_print_opts o = {.format = cases[i].format, .reveal = true};
        struct run run;
        do_print(&run, &f.r, &o);
        const char *want = cases[i].want;
        expect_output(&run, want, ei_format_name(cases[i].format));
        run_free(&run);
        fx_fini(&f);
    }
}

/*
 * github with --reveal: an ::add-mask:: per non-empty line of every
 * secret (escaped as workflow data), before any assignment; with
 * github_env, the masks alone to out and the assignments to that file.
 */
static void test_print_github_masks(void **state)
{
    struct fx f;
    fx_init(&f);
    fx_put(&f, "S1", "a\n\nb\r%0A", L_VAULT, NULL, EI_ENTRY_SECRET);
    fx_put(&f, "S2", "x", L_VAULT, NULL, EI_ENTRY_SECRET);
    fx_put(&f, "P", "p", L_DEFAULTS, NULL, 0);
    static const char masks[] = "::add-mask::a\n::add-mask::b\n"
                                "::add-mask::%250A\n::add-mask::x\n";

    char *env = NULL;
    size_t env_len = 0;
    FILE *envf = open_memstream(&env, &env_len);
    assert_non_null(envf);
    struct ei_print_opts o = {
        .format = EI_FMT_GITHUB, .reveal = true, .github_env = envf};
    struct run run;
    do_print(&run, &f.r, &o);
    assert_int_equal(fclose(envf), 0);
    expect_output(&run, masks, "masks alone on out");
    assert_int_equal(run.rc, 0);
    assert_non_null(env);
    assert_true(strncmp(env, "P=p\nS1<<ghadelimiter_", 21) == 0);
    assert_non_null(strstr(env, "\na\n\nb\r%0A\nghadelimiter_"));
    assert_true(env_len > 5 && strcmp(env + env_len - 5, "S2=x\n") == 0);
    assert_null(strstr(env, "::add-mask::"));
    run_free(&run);
    free(env);

    /* no file: the masks first, then the assignments, on out */
    o.github_env = NULL;
    do_print(&run, &f.r, &o);
    assert_int_equal(run.rc, 0);
    assert_true(run.len > strlen(masks) &&
                memcmp(run.out, masks, strlen(masks)) == 0);
    assert_true(strncmp(run.out + strlen(masks), "P=p\nS1<<", 8) == 0);
    run_free(&run);

    /* without --reveal: no mask, no secret, both counted */
    o.reveal = false;
    do_print(&run, &f.r, &o);
    expect_output(&run, "P=p\n", "github without reveal");
    assert_int_equal(run.rc, 2);
    run_free(&run);
    fx_fini(&f);
}

static void test_print_origin(void **state)
{
    static const struct {
        enum ei_format format;
        bool reveal;
        const char *want;
    } cases[] = {
        {EI_FMT_DOTENV, false,
         "# layer=vault provider=vault locator=secret/app v3 secret\n"
         "# API_KEY is secret: left out (--reveal writes it)\n"
         "# layer=runtime provider=env overrides=defaults,per-env\n"
         "DB_HOST=db.override\n"
         "# layer=schema provider=schema locator=envinject.conf:12\n"
         "PORT=5432\n"},
        {EI_FMT_DOTENV, true,
         "# layer=vault provider=vault locator=secret/app v3 secret\n"
         "API_KEY=sk_live_1\n"
         "# layer=runtime provider=env overrides=defaults,per-env\n"
         "DB_HOST=db.override\n"
         "# layer=schema provider=schema locator=envinject.conf:12\n"
         "PORT=5432\n"},
        {EI_FMT_ENV, false,
         "# layer=runtime provider=env overrides=defaults,per-env\n"
         "DB_HOST=db.override\n"
         "# layer=schema provider=schema locator=envinject.conf:12\n"
         "PORT=5432\n"},
        {EI_FMT_SHELL, false,
         "# layer=vault provider=vault locator=secret/app v3 secret\n"
         "# API_KEY is secret: left out (--reveal writes it)\n"
         "# layer=runtime provider=env overrides=defaults,per-env\n"
         "export DB_HOST='db.override'\n"
         "# layer=schema provider=schema locator=envinject.conf:12\n"
         "export PORT='5432'\n"},
        {EI_FMT_JSON, false,
         "{\n"
         "  \"API_KEY\": {\n"
         "    \"layer\": \"vault\",\n"
         "    \"provider\": \"vault\",\n"
         "    \"locator\": \"secret/app v3\",\n"
         "    \"secret\": true,\n"
         "    \"overrides\": []\n"
         "  },\n"
         "  \"DB_HOST\": {\n"
         "    \"value\": \"db.override\",\n"
         "    \"layer\": \"runtime\",\n"
         "    \"provider\": \"env\",\n"
         "    \"locator\": null,\n"
         "    \"secret\": false,\n"
         "    \"overrides\": [\n"
         "      \"defaults\",\n"
         "      \"per-env\"\n"
         "    ]\n"
         "  },\n"
         "  \"PORT\": {\n"
         "    \"value\": \"5432\",\n"
         "    \"layer\": \"schema\",\n"
         "    \"provider\": \"schema\",\n"
         "    \"locator\": \"envinject.conf:12\",\n"
         "    \"secret\": false,\n"
         "    \"overrides\": []\n"
         "  }\n"
         "}\n"},
        {EI_FMT_TABLE, false,
         "KEY      LAYER    LOCATOR            VALUE\n"
         "API_KEY  vault    secret/app v3      <secret>\n"
         "DB_HOST  runtime  -                  db.override\n"
         "PORT     schema   envinject.conf:12  5432\n"},
        {EI_FMT_TABLE, true,
         "KEY      LAYER    LOCATOR            VALUE\n"
         "API_KEY  vault    secret/app v3      sk_live_1\n"
         "DB_HOST  runtime  -                  db.override\n"
         "PORT     schema   envinject.conf:12  5432\n"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fx f;
        fx_origin(&f);
        struct ei_print_opts o = {.format = cases[i].format,
                                  .origin = true,
                                  .reveal = cases[i].reveal};
        struct run run;
        do_print(&run, &f.r, &o);
        char what[64];
        snprintf(what, sizeof(what), "origin %s reveal=%d",
                 ei_format_name(cases[i].format), cases[i].reveal);
        expect_output(&run, cases[i].want, what);
        run_free(&run);
        fx_fini(&f);
    }
}

/* Table columns line up on the widest cell, in characters, not bytes. */
static void test_print_table_alignment(void **state)
{
    struct fx f;
    fx_init(&f);
    fx_put(&f, "A", "\xc3\xa9\xc3\xa9", L_DEFAULTS, "\xc3\xa9.env:1", 0);
    fx_put(&f, "LONG_KEY_NAME", "v", L_PER_ENV, "x\ty", 0);
    struct ei_print_opts o = {.format = EI_FMT_TABLE, .origin = true};
    struct run run;
    do_print(&run, &f.r, &o);
    expect_output(&run,
                  "KEY            LAYER     LOCATOR  VALUE\n"
                  "A              defaults  \xc3\xa9.env:1  \xc3\xa9\xc3\xa9\n"
                  "LONG_KEY_NAME  per-env   x\\ty     v\n",
                  "aligned table");
    run_free(&run);

    /* no keys: the header alone */
    struct fx g;
    fx_init(&g);
    o.origin = false;
    do_print(&run, &g.r, &o);
    expect_output(&run, "KEY  VALUE\n", "empty table");
    run_free(&run);
    fx_fini(&g);
    fx_fini(&f);
}

static void test_print_named_keys(void **state)
{
    static const char *const order[] = {"PORT", "DB_HOST", "PORT"};
    static const char *const missing[] = {"DB_HOST", "NOPE"};
    static const char *const unset[] = {"PORT", "GONE"};
    static const struct {
        const char *const *keys;
        size_t keys_n;
        enum ei_format format;
        const char *want;      /* NULL: fails */
        const char *want_text; /* the error */
    } cases[] = {
        {order, 3, EI_FMT_ENV, "PORT=5432\nDB_HOST=db.override\nPORT=5432\n",
         NULL},
        {order, 2, EI_FMT_JSON,
         "{\n  \"PORT\": \"5432\",\n  \"DB_HOST\": \"db.override\"\n}\n", NULL},
        {missing, 2, EI_FMT_DOTENV, NULL, "NOPE is not set"},
        {missing, 2, EI_FMT_JSON, NULL, "NOPE is not set"},
        {unset, 2, EI_FMT_TABLE, NULL, "GONE is not set"},
        {order, 0, EI_FMT_ENV, "", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fx f;
        fx_origin(&f);
        struct ei_print_opts o = {.format = cases[i].format,
                                  .keys = cases[i].keys,
                                  .keys_n = cases[i].keys_n};
        struct run run;
        do_print(&run, &f.r, &o);
        if (cases[i].want != NULL)
            expect_output(&run, cases[i].want, "named keys");
        else
            expect_failure(&run, EI_NOTFOUND, cases[i].want_text,
                           "missing named key");
        run_free(&run);
        fx_fini(&f);
    }
}

/* A refused value late in the list leaves the output empty. */
static void test_print_all_or_nothing(void **state)
{
    static const struct {
        enum ei_format format;
        bool origin;
        const char *value;
        enum ei_status status;
        const char *text;
    } cases[] = {
        {EI_FMT_ENV, false, "x\ny", EI_BADDATA,
         "Z: value contains a newline; use --format=dotenv or json"},
        {EI_FMT_ENV, true, "x\ny", EI_BADDATA,
         "Z: value contains a newline; use --format=dotenv or json"},
        {EI_FMT_JSON, false, "\xe2\x82", EI_BADDATA,
         "Z: value is not valid UTF-8; use --format=dotenv"},
        {EI_FMT_JSON, true, "\xed\xa0\x80", EI_BADDATA,
         "Z: value is not valid UTF-8; use --format=dotenv"},
        {EI_FMT_GITHUB, true, "x", EI_USAGE,
         "--origin cannot be used with --format=github"},
        {EI_FMT_TEXT, false, "x", EI_USAGE,
         "print does not support --format=text"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fx f;
        fx_init(&f);
        fx_put(&f, "A", "fine", L_DEFAULTS, NULL, 0);
        fx_put(&f, "Z", cases[i].value, L_DEFAULTS, NULL, 0);
        struct ei_print_opts o = {.format = cases[i].format,
                                  .origin = cases[i].origin};
        struct run run;
        do_print(&run, &f.r, &o);
        expect_failure(&run, cases[i].status, cases[i].text, "all or nothing");
        run_free(&run);
        fx_fini(&f);
    }
}

/*
 * Output larger than the writer's buffer blocks: thousands of keys, and
 * values of exactly and more than one block, come out whole and in order;
 * a bad value after all of them still prints nothing.
 */
static void test_print_large(void **state)
{
    enum { KEYS = 5000, BIG = 64 * 1024 };
    static const size_t big_lens[] = {BIG - 1, BIG, BIG + 1, 3 * BIG + 7};
    struct fx f;
    fx_init(&f);
    char *big = malloc(3 * BIG + 8);
    assert_non_null(big);
    memset(big, 'v', 3 * BIG + 8);
    size_t cap = (size_t)KEYS * 64 + 7 * BIG, len = 0;
    char *want = malloc(cap);
    assert_non_null(want);
    /* every key is printed bare as KEY=value, sorted by key */
    for (size_t i = 0; i < sizeof(big_lens) / sizeof(big_lens[0]); i++) {
        char key[32];
        snprintf(key, sizeof(key), "BIG_%zu", i);
        fx_putn(&f, key, big, big_lens[i], L_DEFAULTS, NULL, 0);
        len += (size_t)snprintf(want + len, cap - len, "%s=%.*s\n", key,
                                (int)big_lens[i], big);
    }
    for (size_t i = 0; i < KEYS; i++) {
        char key[32], value[48];
        snprintf(key, sizeof(key), "KEY_%05zu", i);
        snprintf(value, sizeof(value), "value-%zu-of-a-config-service", i);
        fx_put(&f, key, value, L_PER_ENV, NULL, 0);
        len += (size_t)snprintf(want + len, cap - len, "%s=%s\n", key, value);
    }
    struct ei_print_opts o = {.format = EI_FMT_DOTENV};
    struct run run;
    do_print(&run, &f.r, &o);
    expect_output(&run, want, "large output");
    run_free(&run);

    o.format = EI_FMT_ENV;
    fx_put(&f, "ZZZ", "a\nb", L_RUNTIME, NULL, 0);
    do_print(&run, &f.r, &o);
    expect_failure(&run, EI_BADDATA,
                   "ZZZ: value contains a newline; use --format=dotenv or json",
                   "bad value after a large output");
    run_free(&run);
    free(want);
    free(big);
    fx_fini(&f);
}

/* A write error is reported, not ignored. */
static void test_print_write_error(void **state)
{
    FILE *full = fopen("/dev/full", "w");
    if (full == NULL)
        skip();
    struct fx f;
    fx_origin(&f);
    struct ei_print_opts o = {.format = EI_FMT_DOTENV};
    struct ei_error err = {0};
    assert_int_equal(ei_output_print(full, &f.r, &o, &err), -1);
    assert_int_equal(err.status, EI_OSERR);
    assert_int_not_equal(err.errnum, 0);
    fclose(full);
    fx_fini(&f);
}


struct read_back {
    char keys[64][16];
    char *values[64];
    size_t lens[64];
    size_t n;
};

static int collect(void *ctx, const char *const *name, size_t name_n,
                   const char *value, size_t value_len, int line,
                   unsigned flags, struct ei_error *err)
{
    struct read_back *rb = ctx;
    assert_int_equal(name_n, 1);
    assert_true(rb->n < 64);
    snprintf(rb->keys[rb->n], sizeof(rb->keys[0]), "%s", name[0]);
    char *v = malloc(value_len + 1);
    assert_non_null(v);
    memcpy(v, value, value_len);
    /* a value the reader interpolates has no '$' to interpolate: the
       writer quotes those in single quotes, which are literal */
    assert_true((flags & EI_ENTRY_LITERAL) ||
                memchr(value, '$', value_len) == NULL);
    rb->values[rb->n] = v;
    rb->lens[rb->n] = value_len;
    rb->n++;
    return 0;
}

static void test_dotenv_round_trip(void **state)
{
    static const char *const values[] = {
        "plain",
        "",
        " lead",
        "trail ",
        "#not-a-comment",
        "x # y",
        "=",
        "a=b",
        "it's",
        "\"",
        "'",
        "'\"",
        "both ' and \"",
        "$HOME",
        "$HOME:-x}",
        "$$",
        "\\$x",
        "a\\nb'",
        "a\\\\b'",
        "\\\"'",
        "\\'",
        "l1\nl2",
        "l1\nl2'",
        "it's\ttab",
        "tab\there",

        "`tick`",
        "`",
        "export",
        "h\xc3\xa9llo",
        "bytes \xff\xfe",
        "\x01\x02\x7f",
        "  multi\n  line\n  ",
    };
    size_t n = sizeof(values) / sizeof(values[0]);
    struct fx f;
    fx_init(&f);
    for (size_t i = 0; i < n; i++) {
        char key[16];
        snprintf(key, sizeof(key), "K%02zu", i);
        fx_put(&f, key, values[i], L_DEFAULTS, NULL, EI_ENTRY_SECRET);
    }
    struct ei_print_opts o = {.format = EI_FMT_DOTENV, .reveal = true};
    struct run run;
    do_print(&run, &f.r, &o);
    assert_int_equal(run.rc, 0);

    struct read_back rb = {0};
    struct ei_error err = {0};
    enum ei_status st =
        ei_dotenv_parse(run.out, run.len, "printed.env", collect, &rb, &err);
    if (st != EI_OK)
        fail_msg("reader refused the output: %s: %s", err.locator, err.text);
    assert_int_equal(rb.n, n);
    for (size_t i = 0; i < n; i++) {
        char key[16];
        snprintf(key, sizeof(key), "K%02zu", i);
        assert_string_equal(rb.keys[i], key);
        if (rb.lens[i] != strlen(values[i]) ||
            memcmp(rb.values[i], values[i], rb.lens[i]) != 0)
            fail_msg("%s does not read back identically", key);
        free(rb.values[i]);
    }
    run_free(&run);
    fx_fini(&f);
}

static void do_explain(struct run *run, const struct ei_resolution *r,
                       const char *const *keys, size_t n, bool reveal)
{
    FILE *f = run_open(run);
    run->rc = ei_output_explain(f, r, keys, n, reveal, &run->err);
    run_close(run, f);
}

static void test_explain(void **state)
{
    static const char *const db[] = {"DB_HOST"};
    static const char *const secret[] = {"API_KEY"};
    static const char *const port[] = {"PORT"};
    static const char *const gone[] = {"GONE"};
    static const char *const mixed[] = {"PORT", "NOPE", "DB_HOST", "ALSO_NOT"};
    static const struct {
        const char *const *keys;
        size_t n;
        bool reveal;
        const char *want;
        const char *error; /* NULL: succeeds */
    } cases[] = {
        {db, 1, false,
         "DB_HOST\n"
         "  defaults  file  defaults.cfg:3  localhost\n"
         "  per-env   file  dev.env:1       db.dev\n"
         "* runtime   env   -               db.override\n"
         "  final: db.override\n",
         NULL},
        {secret, 1, false,
         "API_KEY\n"
         "* vault  vault  secret/app v3  <secret>\n"
         "  raw:   <secret>\n"
         "  final: <secret>\n",
         NULL},
        {secret, 1, true,
         "API_KEY\n"
         "* vault  vault  secret/app v3  sk_live_1\n"
         "  raw:   sk_${SUFFIX}\n"
         "  final: sk_live_1\n",
         NULL},
        {port, 1, false,
         "PORT\n"
         "* schema  schema  envinject.conf:12  5432\n"
         "  raw:   ${P}\n"
         "  final: 5432\n",
         NULL},
        {gone, 1, false,
         "GONE\n"
         "  defaults  file  defaults.cfg:9  x\n"
         "* runtime   env   -               (unset)\n"
         "  final: not set (unset by runtime)\n",
         NULL},
        {mixed, 4, false,
         "PORT\n"
         "* schema  schema  envinject.conf:12  5432\n"
         "  raw:   ${P}\n"
         "  final: 5432\n"
         "\n"
         "NOPE is not set in any layer\n"
         "\n"
         "DB_HOST\n"
         "  defaults  file  defaults.cfg:3  localhost\n"
         "  per-env   file  dev.env:1       db.dev\n"
         "* runtime   env   -               db.override\n"
         "  final: db.override\n"
         "\n"
         "ALSO_NOT is not set in any layer\n",
         "NOPE is not set in any layer"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fx f;
        fx_origin(&f);
        struct run run;
        do_explain(&run, &f.r, cases[i].keys, cases[i].n, cases[i].reveal);
        if (cases[i].error == NULL) {
            expect_output(&run, cases[i].want, cases[i].keys[0]);
        } else {
            assert_int_equal(run.rc, -1);
            assert_int_equal(run.err.status, EI_FINDINGS);
            assert_string_equal(run.err.text, cases[i].error);
            assert_int_equal(run.len, strlen(cases[i].want));
            assert_memory_equal(run.out, cases[i].want, run.len);
        }
        run_free(&run);
        fx_fini(&f);
    }
}

/* A secret of a lower layer stays hidden under a plain winner, and a value
   with a newline stays on one line. */
static void test_explain_mixed_chain(void **state)
{
    struct fx f;
    fx_init(&f);
    fx_put(&f, "K", "hidden", L_VAULT, "v", EI_ENTRY_SECRET);
    fx_put(&f, "K", "a\nb", L_RUNTIME, NULL, 0);
    static const char *const keys[] = {"K"};
    struct run run;
    do_explain(&run, &f.r, keys, 1, false);
    expect_output(&run,
                  "K\n"
                  "  vault    vault  v  <secret>\n"
                  "* runtime  env    -  a\\nb\n"
                  "  final: a\\nb\n",
                  "mixed chain");
    run_free(&run);
    fx_fini(&f);
}

/* A problem as the schema or a failed layer records it. */
static void add_problem(struct ei_problems *ps, const char *key,
                        const char *rule, const char *message, int layer,
                        const char *locator, const char *where)
{
    assert_int_equal(
        ei_problems_add(ps, key, rule, message, layer, locator, where), 0);
}

static void do_check(struct run *run, const struct ei_resolution *r,
                     enum ei_format fmt)
{
    FILE *f = run_open(run);
    run->rc = ei_output_check(f, r, fmt, &run->err);
    run_close(run, f);
}

/*
 * A scratch working directory for the places of check: config/ holds the
 * configuration and dev.env, as a file layer would read them.
 */
struct tree {
    char old[PATH_MAX];
    char dir[32];
};

static void touch(const char *path)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fclose(f), 0);
}

static void tree_enter(struct tree *t)
{
    assert_non_null(getcwd(t->old, sizeof(t->old)));
    snprintf(t->dir, sizeof(t->dir), "/tmp/ei-check.XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    assert_int_equal(chdir(t->dir), 0);
    assert_int_equal(mkdir("config", 0700), 0);
    touch("config/envinject.conf");
    touch("config/dev.env");
    touch("config/a,b:c.env");
}

static void tree_leave(struct tree *t)
{
    unlink("config/envinject.conf");
    unlink("config/dev.env");
    unlink("config/a,b:c.env");
    rmdir("config");
    assert_int_equal(chdir(t->old), 0);
    rmdir(t->dir);
}

/* The problems of test_check, in a resolution whose configuration and
   per-env layer live in config/. */
static void check_fixture(struct fx *f, struct ei_config *cfg)
{
    fx_origin(f);
    *cfg = (struct ei_config){.dir = "config"};
    f->r.cfg = cfg;
    f->layers[L_PER_ENV].dir = "config";
    add_problem(&f->r.problems, "DATABASE_URL", "require",
                "DATABASE_URL is required but not set", EI_LAYER_NONE, NULL,
                "envinject.conf:40");
    add_problem(&f->r.problems, "DB_POOL_SIZE", "type",
                "DB_POOL_SIZE: not an integer (7 bytes)", L_PER_ENV,
                "dev.env:2", "envinject.conf:12");
    add_problem(&f->r.problems, "LOG_LEVEL", "pattern",
                "LOG_LEVEL: pattern v[0-9]+\\.[0-9]+, 100% odd\r\nx",
                EI_LAYER_SCHEMA, NULL, NULL);
    add_problem(&f->r.problems, "EXTRA", "require",
                "EXTRA is required but not set", EI_LAYER_NONE, NULL,
                EI_WHERE_REQUIRE_OPTION);
    add_problem(&f->r.problems, "API_KEY", "pattern",
                "API_KEY: does not match the pattern sk_.* (9 bytes)", L_VAULT,
                "secret/app v3", "envinject.conf:13");
}

/*
 * Each problem points at the value's origin when that is a file (file=,
 * line=), else at the rule's place in the configuration; a key required
 * with --require points nowhere.  Backslashes of a message stay single;
 * its control bytes are shown as \xHH in every format.
 */
static void test_check(void **state)
{
    static const struct {
        bool problems;
        enum ei_format format;
        const char *want;
    } cases[] = {
        {true, EI_FMT_TEXT,
         "DATABASE_URL is required but not set (rule require, "
         "envinject.conf:40)\n"
         "DB_POOL_SIZE: not an integer (7 bytes) (rule type, "
         "envinject.conf:12; value from per-env, dev.env:2)\n"
         "LOG_LEVEL: pattern v[0-9]+\\.[0-9]+, 100% odd\\x0d\\x0ax (rule "
         "pattern; "
         "value from schema)\n"
         "EXTRA is required but not set (rule require, --require on the "
         "command line)\n"
         "API_KEY: does not match the pattern sk_.* (9 bytes) (rule pattern, "
         "envinject.conf:13; value from vault, secret/app v3)\n"
         "5 problems\n"},
        {false, EI_FMT_TEXT, "ok: 3 keys checked\n"},
        {true, EI_FMT_GITHUB,
         "::error file=config/envinject.conf,line=40,title=envinject "
         "check::DATABASE_URL is required but not set (rule require, "
         "envinject.conf:40)\n"
         "::error file=config/dev.env,line=2,title=envinject "
         "check::DB_POOL_SIZE: not an integer (7 bytes) (rule type, "
         "envinject.conf:12; value from per-env, dev.env:2)\n"
         "::error title=envinject check::LOG_LEVEL: pattern v[0-9]+\\.[0-9]+, "
         "100%25 odd\\x0d\\x0ax (rule pattern; value from schema)\n"
         "::error title=envinject check::EXTRA is required but not set (rule "
         "require, --require on the command line)\n"
         "::error file=config/envinject.conf,line=13,title=envinject "
         "check::API_KEY: does not match the pattern sk_.* (9 bytes) (rule "
         "pattern, envinject.conf:13; value from vault, secret/app v3)\n"},
        {false, EI_FMT_GITHUB, ""},
        {true, EI_FMT_JSON,
         "{\n"
         "  \"ok\": false,\n"
         "  \"problems\": [\n"
         "    {\n"
         "      \"key\": \"DATABASE_URL\",\n"
         "      \"rule\": \"require\",\n"
         "      \"message\": \"DATABASE_URL is required but not set\",\n"
         "      \"layer\": null,\n"
         "      \"locator\": null,\n"
         "      \"where\": \"envinject.conf:40\",\n"
         "      \"file\": \"config/envinject.conf\",\n"
         "      \"line\": 40\n"
         "    },\n"
         "    {\n"
         "      \"key\": \"DB_POOL_SIZE\",\n"
         "      \"rule\": \"type\",\n"
         "      \"message\": \"DB_POOL_SIZE: not an integer (7 bytes)\",\n"
         "      \"layer\": \"per-env\",\n"
         "      \"locator\": \"dev.env:2\",\n"
         "      \"where\": \"envinject.conf:12\",\n"
         "      \"file\": \"config/dev.env\",\n"
         "      \"line\": 2\n"
         "    },\n"
         "    {\n"
         "      \"key\": \"LOG_LEVEL\",\n"
         "      \"rule\": \"pattern\",\n"
         "      \"message\": \"LOG_LEVEL: pattern v[0-9]+\\\\.[0-9]+, 100% "
         "odd\\\\x0d\\\\x0ax\",\n"
         "      \"layer\": \"schema\",\n"
         "      \"locator\": null,\n"
         "      \"where\": null,\n"
         "      \"file\": null,\n"
         "      \"line\": null\n"
         "    },\n"
         "    {\n"
         "      \"key\": \"EXTRA\",\n"
         "      \"rule\": \"require\",\n"
         "      \"message\": \"EXTRA is required but not set\",\n"
         "      \"layer\": null,\n"
         "      \"locator\": null,\n"
         "      \"where\": \"--require on the command line\",\n"
         "      \"file\": null,\n"
         "      \"line\": null\n"
         "    },\n"
         "    {\n"
         "      \"key\": \"API_KEY\",\n"
         "      \"rule\": \"pattern\",\n"
         "      \"message\": \"API_KEY: does not match the pattern sk_.* (9 "
         "bytes)\",\n"
         "      \"layer\": \"vault\",\n"
         "      \"locator\": \"secret/app v3\",\n"
         "      \"where\": \"envinject.conf:13\",\n"
         "      \"file\": \"config/envinject.conf\",\n"
         "      \"line\": 13\n"
         "    }\n"
         "  ]\n"
         "}\n"},
        {false, EI_FMT_JSON, "{\n  \"ok\": true,\n  \"problems\": []\n}\n"},
    };
    struct tree t;
    tree_enter(&t);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fx f;
        struct ei_config cfg;
        check_fixture(&f, &cfg);
        if (!cases[i].problems)
            ei_problems_clear(&f.r.problems);
        struct run run;
        do_check(&run, &f.r, cases[i].format);
        char what[64];
        snprintf(what, sizeof(what), "check %s problems=%d",
                 ei_format_name(cases[i].format), cases[i].problems);
        expect_output(&run, cases[i].want, what);
        assert_int_equal(run.rc, 0);
        run_free(&run);
        fx_fini(&f);
    }
    tree_leave(&t);
}

/*
 * Failures in the report: every layer that failed (a resolution with
 * nothing validated), or the one error that stopped resolution; each at
 * its source when that is a file, else where the configuration defines
 * the layer.
 */
static void test_check_failures(void **state)
{
    struct tree t;
    tree_enter(&t);
    struct fx f;
    struct ei_config cfg = {.dir = "config"};
    fx_init(&f);
    f.r.cfg = &cfg;
    f.layers[L_PER_ENV].dir = "config";
    add_problem(&f.r.problems, NULL, EI_RULE_LAYER,
                "layer per-env: expected KEY=VALUE", L_PER_ENV, "dev.env:3",
                "envinject.conf:4");
    add_problem(&f.r.problems, NULL, EI_RULE_LAYER,
                "layer vault: permission denied", L_VAULT, "secret/app",
                "envinject.conf:6");
    struct run run;
    do_check(&run, &f.r, EI_FMT_TEXT);
    expect_output(&run,
                  "layer per-env: expected KEY=VALUE (dev.env:3; "
                  "envinject.conf:4)\n"
                  "layer vault: permission denied (secret/app; "
                  "envinject.conf:6)\n"
                  "2 problems; nothing validated, since the configuration "
                  "did not resolve\n",
                  "failed layers, text");
    run_free(&run);
    do_check(&run, &f.r, EI_FMT_GITHUB);
    expect_output(&run,
                  "::error file=config/dev.env,line=3,title=envinject "
                  "check::layer per-env: expected KEY=VALUE (dev.env:3; "
                  "envinject.conf:4)\n"
                  "::error file=config/envinject.conf,line=6,title=envinject "
                  "check::layer vault: permission denied (secret/app; "
                  "envinject.conf:6)\n",
                  "failed layers, github");
    run_free(&run);
    do_check(&run, &f.r, EI_FMT_JSON);
    expect_output(&run,
                  "{\n  \"ok\": false,\n  \"problems\": [\n    {\n"
                  "      \"key\": null,\n"
                  "      \"rule\": \"layer\",\n"
                  "      \"message\": \"layer per-env: expected KEY=VALUE\",\n"
                  "      \"layer\": \"per-env\",\n"
                  "      \"locator\": \"dev.env:3\",\n"
                  "      \"where\": \"envinject.conf:4\",\n"
                  "      \"file\": \"config/dev.env\",\n"
                  "      \"line\": 3\n    },\n    {\n"
                  "      \"key\": null,\n"
                  "      \"rule\": \"layer\",\n"
                  "      \"message\": \"layer vault: permission denied\",\n"
                  "      \"layer\": \"vault\",\n"
                  "      \"locator\": \"secret/app\",\n"
                  "      \"where\": \"envinject.conf:6\",\n"
                  "      \"file\": \"config/envinject.conf\",\n"
                  "      \"line\": 6\n    }\n  ]\n}\n",
                  "failed layers, json");
    run_free(&run);
    fx_fini(&f);

    /* no resolution: the error itself, with its file when it names one */
    static const struct {
        struct ei_error failure;
        enum ei_format format;
        const char *want;
    } rows[] = {
        {{.status = EI_BADDATA,
          .locator = "envinject.conf:3",
          .text = "syntax error"},
         EI_FMT_GITHUB,
         "::error file=config/envinject.conf,line=3,title=envinject "
         "check::syntax error (envinject.conf:3)\n"},
        /* a property escapes what would end it */
        {{.status = EI_BADDATA, .locator = "a,b:c.env:1", .text = "odd 100%"},
         EI_FMT_GITHUB,
         "::error file=config/a%2Cb%3Ac.env,line=1,title=envinject "
         "check::odd 100%25 (a,b:c.env:1)\n"},
        {{.status = EI_BADCONFIG,
          .layer = "per-env",
          .locator = "dev.env:1",
          .text = "undefined variable B referenced by A"},
         EI_FMT_TEXT,
         "layer per-env: undefined variable B referenced by A (dev.env:1)\n"
         "1 problem; nothing validated, since the configuration did not "
         "resolve\n"},
        {{.status = EI_NOTFOUND,
          .errnum = 2,
          .locator = "missing.conf",
          .text = "cannot read the configuration file"},
         EI_FMT_JSON,
         "{\n  \"ok\": false,\n  \"problems\": [\n    {\n"
         "      \"key\": null,\n"
         "      \"rule\": \"error\",\n"
         "      \"message\": \"cannot read the configuration file: No such "
         "file or directory\",\n"
         "      \"layer\": null,\n"
         "      \"locator\": \"missing.conf\",\n"
         "      \"where\": null,\n"
         "      \"file\": null,\n"
         "      \"line\": null\n    }\n  ]\n}\n"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        FILE *out = run_open(&run);
        run.rc = ei_output_check_failure(out, &rows[i].failure, "config",
                                         rows[i].format, &run.err);
        run_close(&run, out);
        expect_output(&run, rows[i].want, rows[i].failure.text);
        run_free(&run);
    }
    tree_leave(&t);
}

static void test_check_singular_and_formats(void **state)
{
    struct fx f;
    fx_init(&f);
    fx_put(&f, "ONLY", "x", L_DEFAULTS, NULL, 0);
    struct run run;
    do_check(&run, &f.r, EI_FMT_TEXT);
    expect_output(&run, "ok: 1 key checked\n", "one key");
    run_free(&run);
    add_problem(&f.r.problems, "ONLY", "enum", "ONLY: not one of A", 0, NULL,
                NULL);
    do_check(&run, &f.r, EI_FMT_TEXT);
    expect_output(&run,
                  "ONLY: not one of A (rule enum; value from defaults)\n"
                  "1 problem\n",
                  "one problem");
    run_free(&run);
    static const enum ei_format bad[] = {EI_FMT_DOTENV, EI_FMT_TABLE,
                                         EI_FMT_ENV};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        do_check(&run, &f.r, bad[i]);
        expect_failure(&run, EI_USAGE, NULL, "check format");
        run_free(&run);
    }
    fx_fini(&f);
}

static void do_diff_expect(struct run *run, const struct ei_resolution *a,
                           const struct ei_resolution *b, enum ei_format fmt,
                           bool reveal, const char *const *expect)
{
    FILE *f = run_open(run);
    const struct ei_diff_opts o = {
        .format = fmt, .reveal = reveal, .expect = expect};
    run->rc = ei_output_diff(f, a, "dev", b, "prod", &o, &run->err);
    run_close(run, f);
}

static void do_diff(struct run *run, const struct ei_resolution *a,
                    const struct ei_resolution *b, enum ei_format fmt,
                    bool reveal)
{
    do_diff_expect(run, a, b, fmt, reveal, NULL);
}

static void diff_fixture(struct fx *a, struct fx *b)
{
    fx_init(a);
    fx_init(b);
    fx_put(a, "ONLY_A", "1", L_DEFAULTS, NULL, 0);
    fx_put(b, "ONLY_B", "2", L_DEFAULTS, NULL, 0);
    fx_put(a, "SAME", "x", L_DEFAULTS, NULL, 0);
    fx_put(b, "SAME", "x", L_PER_ENV, NULL, 0);
    fx_put(a, "DIFF", "a1", L_DEFAULTS, NULL, 0);
    fx_put(b, "DIFF", "b1", L_DEFAULTS, NULL, 0);
    fx_put(a, "SEC_A", "s1", L_VAULT, NULL, EI_ENTRY_SECRET);
    fx_put(b, "SEC_A", "s2", L_DEFAULTS, NULL, 0);
    fx_put(a, "SEC_EQ", "same", L_VAULT, NULL, EI_ENTRY_SECRET);
    fx_put(b, "SEC_EQ", "same", L_VAULT, NULL, EI_ENTRY_SECRET);
    fx_put(a, "MULTI", "l1\nl2", L_DEFAULTS, NULL, 0);
    fx_put(b, "MULTI", "l1", L_DEFAULTS, NULL, 0);
    fx_put(a, "PREFIX", "ab", L_DEFAULTS, NULL, 0);
    fx_put(b, "PREFIX", "abc", L_DEFAULTS, NULL, 0);
    fx_put(a, "UNSET_A", "", L_RUNTIME, NULL, EI_ENTRY_UNSET);
    fx_put(b, "UNSET_A", "here", L_DEFAULTS, NULL, 0);
}

static void test_diff(void **state)
{
    static const struct {
        enum ei_format format;
        bool reveal;
        const char *want;
    } cases[] = {
        {EI_FMT_TEXT, false,
         "~ DIFF: a1 -> b1\n"
         "~ MULTI: l1\\nl2 -> l1\n"
         "- ONLY_A  (only in dev)\n"
         "+ ONLY_B  (only in prod)\n"
         "~ PREFIX: ab -> abc\n"
         "~ SEC_A: <secret> -> <secret>\n"
         "+ UNSET_A  (only in prod)\n"},
        {EI_FMT_TEXT, true,
         "~ DIFF: a1 -> b1\n"
         "~ MULTI: l1\\nl2 -> l1\n"
         "- ONLY_A  (only in dev)\n"
         "+ ONLY_B  (only in prod)\n"
         "~ PREFIX: ab -> abc\n"
         "~ SEC_A: s1 -> s2\n"
         "+ UNSET_A  (only in prod)\n"},
        {EI_FMT_JSON, false,
         "{\n"
         "  \"only_in_a\": [\n"
         "    \"ONLY_A\"\n"
         "  ],\n"
         "  \"only_in_b\": [\n"
         "    \"ONLY_B\",\n"
         "    \"UNSET_A\"\n"
         "  ],\n"
         "  \"different\": [\n"
         "    {\n"
         "      \"key\": \"DIFF\",\n"
         "      \"a\": \"a1\",\n"
         "      \"b\": \"b1\",\n"
         "      \"expected\": false\n"
         "    },\n"
         "    {\n"
         "      \"key\": \"MULTI\",\n"
         "      \"a\": \"l1\\nl2\",\n"
         "      \"b\": \"l1\",\n"
         "      \"expected\": false\n"
         "    },\n"
         "    {\n"
         "      \"key\": \"PREFIX\",\n"
         "      \"a\": \"ab\",\n"
         "      \"b\": \"abc\",\n"
         "      \"expected\": false\n"
         "    },\n"
         "    {\n"
         "      \"key\": \"SEC_A\",\n"
         "      \"a\": \"<secret>\",\n"
         "      \"b\": \"<secret>\",\n"
         "      \"expected\": false\n"
         "    }\n"
         "  ]\n"
         "}\n"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fx a, b;
        diff_fixture(&a, &b);
        struct run run;
        do_diff(&run, &a.r, &b.r, cases[i].format, cases[i].reveal);
        expect_output(&run, cases[i].want, "diff");
        assert_int_equal(run.rc, 7);
        run_free(&run);
        fx_fini(&a);
        fx_fini(&b);
    }
}

/* --expect-differ: the differences it names are marked and not counted;
   a key in one environment only counts whatever the list says */
static void test_diff_expect(void **state)
{
    (void)state;
    static const char *const expect[] = {"D?FF", "SEC_*", "ONLY_[AB]", NULL};
    struct fx a, b;
    diff_fixture(&a, &b);
    struct run run;
    do_diff_expect(&run, &a.r, &b.r, EI_FMT_TEXT, false, expect);
    expect_output(&run,
                  "~ DIFF: a1 -> b1 (expected)\n"
                  "~ MULTI: l1\\nl2 -> l1\n"
                  "- ONLY_A  (only in dev)\n"
                  "+ ONLY_B  (only in prod)\n"
                  "~ PREFIX: ab -> abc\n"
                  "~ SEC_A: <secret> -> <secret> (expected)\n"
                  "+ UNSET_A  (only in prod)\n",
                  "diff expect");
    assert_int_equal(run.rc, 5);
    run_free(&run);
    fx_fini(&a);
    fx_fini(&b);
}

static void test_diff_edges(void **state)
{
    struct fx a, b;
    diff_fixture(&a, &b);
    struct run run;
    /* a resolution against itself */
    do_diff(&run, &a.r, &a.r, EI_FMT_TEXT, false);
    expect_output(&run, "", "same");
    assert_int_equal(run.rc, 0);
    run_free(&run);
    do_diff(&run, &b.r, &b.r, EI_FMT_JSON, false);
    expect_output(&run,
                  "{\n  \"only_in_a\": [],\n  \"only_in_b\": [],\n"
                  "  \"different\": []\n}\n",
                  "same json");
    assert_int_equal(run.rc, 0);
    run_free(&run);
    /* revealed values that are not UTF-8 cannot go into JSON */
    fx_put(&a, "DIFF", "\xff", L_PER_ENV, NULL, 0);
    do_diff(&run, &a.r, &b.r, EI_FMT_JSON, false);
    expect_failure(&run, EI_BADDATA,
                   "DIFF: value is not valid UTF-8; use --format=dotenv",
                   "diff json utf-8");
    run_free(&run);
    do_diff(&run, &a.r, &b.r, EI_FMT_TABLE, false);
    expect_failure(&run, EI_USAGE, "diff does not support --format=table",
                   "diff table");
    run_free(&run);
    fx_fini(&a);
    fx_fini(&b);
}

static void test_formats(void **state)
{
    static const struct {
        const char *name;
        int fmt;
    } cases[] = {
        {"dotenv", EI_FMT_DOTENV},
        {"env", EI_FMT_ENV},
        {"shell", EI_FMT_SHELL},
        {"json", EI_FMT_JSON},
        {"github", EI_FMT_GITHUB},
        {"table", EI_FMT_TABLE},
        {"text", EI_FMT_TEXT},
        {"docker", EI_FMT_DOCKER},
        {"systemd", EI_FMT_SYSTEMD},
        {"k8s", EI_FMT_K8S},
        {"yaml", EI_FMT_YAML},
        {"JSON", -1},
        {"", -1},
        {"yml", -1},
        {"dotenv ", -1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(ei_format_parse(cases[i].name), cases[i].fmt);
        if (cases[i].fmt >= 0)
            assert_string_equal(ei_format_name((enum ei_format)cases[i].fmt),
                                cases[i].name);
    }
    assert_int_equal(ei_format_parse(NULL), -1);
    assert_string_equal(ei_format_name((enum ei_format)42), "unknown");
}

static void test_output_value(void **state)
{
    static const struct {
        unsigned flags;
        bool reveal;
        const char *want;
    } cases[] = {
        {0, false, "v\nx"},
        {0, true, "v\nx"},
        {EI_ENTRY_SECRET, false, EI_REDACTED},
        {EI_ENTRY_SECRET, true, "v\nx"},
        {EI_ENTRY_SECRET | EI_ENTRY_LITERAL, false, EI_REDACTED},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ei_entry e = {.key = "K",
                             .value = "v\nx",
                             .value_len = 3,
                             .flags = cases[i].flags};
        size_t len = 99;
        const char *v = ei_output_value(&e, cases[i].reveal, &len);
        assert_int_equal(len, strlen(cases[i].want));
        assert_memory_equal(v, cases[i].want, len);
    }
}

/* The canary of a secret appears in no output unless revealed, and does
   with --reveal, which shows that the search works. */
static void test_canary(void **state)
{
    struct fx f;
    fx_init(&f);
    fx_put(&f, "PLAIN", "hello", L_DEFAULTS, "d.env:1", 0);
    fx_put(&f, "TOKEN", "low " CANARY, L_DEFAULTS, "d.env:2", EI_ENTRY_SECRET);
    struct ei_entry *t =
        fx_put(&f, "TOKEN", CANARY, L_VAULT, "v", EI_ENTRY_SECRET);
    t->raw = ei_store_strdup(f.r.secrets, "${X}" CANARY);
    t->raw_len = strlen(t->raw);
    fx_put(&f, "MULTI", CANARY "\nline 2", L_VAULT, "v", EI_ENTRY_SECRET);
    struct fx g;
    fx_init(&g);
    fx_put(&g, "TOKEN", "other", L_DEFAULTS, NULL, 0);
    fx_put(&g, "MULTI", "plain but hidden: " CANARY, L_DEFAULTS, NULL, 0);

    static const enum ei_format formats[] = {
        EI_FMT_DOTENV, EI_FMT_ENV,    EI_FMT_SHELL,
        EI_FMT_JSON,   EI_FMT_GITHUB, EI_FMT_TABLE,
    };
    static const char *const keys[] = {"PLAIN", "TOKEN", "MULTI"};
    for (int reveal = 0; reveal < 2; reveal++) {
        for (size_t k = 0; k < sizeof(formats) / sizeof(formats[0]); k++) {
            for (int origin = 0; origin < 2; origin++) {
                if (origin && formats[k] == EI_FMT_GITHUB)
                    continue;
                struct ei_print_opts o = {
                    .format = formats[k], .origin = origin, .reveal = reveal};
                struct run run;
                do_print(&run, &f.r, &o);
                if (formats[k] == EI_FMT_ENV && reveal) {
                    expect_failure(&run, EI_BADDATA, NULL, "env reveal");
                    run_free(&run);
                    continue;
                }
                /* the machine formats leave out the two secrets */
                assert_int_equal(run.rc, reveal || formats[k] == EI_FMT_TABLE
                                             ? 0
                                             : 2);
                bool found =
                    memmem(run.out, run.len, CANARY, strlen(CANARY)) != NULL;
                if (found != (bool)reveal)
                    fail_msg("%s origin=%d reveal=%d: canary %s",
                             ei_format_name(formats[k]), origin, reveal,
                             found ? "leaked" : "missing");
                run_free(&run);
            }
        }
        struct run run;
        do_explain(&run, &f.r, keys, 3, reveal);
        assert_int_equal(run.rc, 0);
        assert_int_equal(strstr(run.out, CANARY) != NULL, reveal);
        run_free(&run);
        for (int json = 0; json < 2; json++) {
            do_diff(&run, &f.r, &g.r, json ? EI_FMT_JSON : EI_FMT_TEXT, reveal);
            assert_int_equal(run.rc, 3);
            assert_int_equal(strstr(run.out, CANARY) != NULL, reveal);
            run_free(&run);
        }
    }
    fx_fini(&g);
    fx_fini(&f);
}

/* Problems found by the schema, written by check: no secret either. */
static void test_check_from_schema(void **state)
{
    struct fx f;
    fx_init(&f);
    fx_put(&f, "DB_POOL_SIZE", CANARY, L_VAULT, "v", EI_ENTRY_SECRET);
    struct ei_schema s = {0};
    s.rules = calloc(1, sizeof(*s.rules));
    assert_non_null(s.rules);
    s.rules_n = 1;
    s.rules[0].key = strdup("DB_POOL_SIZE");
    s.rules[0].type = EI_TYPE_INT;
    s.rules[0].where = strdup("envinject.conf:7");
    struct ei_error err = {0};
    assert_int_equal(ei_schema_prepare(&s, &err), 0);
    assert_int_equal(ei_schema_check(&s, f.r.final, &f.r.problems), 1);
    static const enum ei_format formats[] = {EI_FMT_TEXT, EI_FMT_JSON,
                                             EI_FMT_GITHUB};
    static const char *const want[] = {
        "DB_POOL_SIZE: not an integer (18 bytes) (rule type, "
        "envinject.conf:7; value from vault, v)\n1 problem\n",
        "{\n  \"ok\": false,\n  \"problems\": [\n    {\n"
        "      \"key\": \"DB_POOL_SIZE\",\n      \"rule\": \"type\",\n"
        "      \"message\": \"DB_POOL_SIZE: not an integer (18 bytes)\",\n"
        "      \"layer\": \"vault\",\n"
        "      \"locator\": \"v\",\n"
        "      \"where\": \"envinject.conf:7\",\n"
        "      \"file\": null,\n"
        "      \"line\": null\n    }\n  ]\n}\n",
        "::error title=envinject check::DB_POOL_SIZE: not an integer (18 "
        "bytes) (rule type, envinject.conf:7; value from vault, v)\n",
    };
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        struct run run;
        do_check(&run, &f.r, formats[i]);
        expect_output(&run, want[i], ei_format_name(formats[i]));
        assert_null(strstr(run.out, CANARY));
        run_free(&run);
    }
    ei_schema_clear(&s);
    fx_fini(&f);
}

int main(void)
{
    /* also installs the wiping jansson allocator, as main does */
    if (ei_secmem_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_print_values),
        cmocka_unit_test(test_print_reveal),
        cmocka_unit_test(test_print_github_masks),

        cmocka_unit_test(test_print_origin),
        cmocka_unit_test(test_print_table_alignment),
        cmocka_unit_test(test_print_named_keys),
        cmocka_unit_test(test_print_all_or_nothing),
        cmocka_unit_test(test_print_write_error),
        cmocka_unit_test(test_print_large),
        cmocka_unit_test(test_dotenv_round_trip),
        cmocka_unit_test(test_explain),
        cmocka_unit_test(test_explain_mixed_chain),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_check_failures),
        cmocka_unit_test(test_check_singular_and_formats),
        cmocka_unit_test(test_diff),
        cmocka_unit_test(test_diff_expect),
        cmocka_unit_test(test_diff_edges),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_output_value),
        cmocka_unit_test(test_canary),
        cmocka_unit_test(test_check_from_schema),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
