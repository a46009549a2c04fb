/* SPDX-License-Identifier: MIT */
/* Unit tests of execprog: the program's environment, the size limits and
   the PATH search with its 126/127 statuses, exec'd in forked children. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "envset.h"
#include "execprog.h"
#include "expand.h"
#include "layer.h"
#include "resolve.h"
#include "secmem.h"
#include "supervise.h"

#define MAXV 12

/* snprintf that fails the test instead of truncating. */
static void tfmt(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void tfmt(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < len);
}

/* ---- ei_exec_envp ---- */

struct res_row {
    const char *key;
    const char *value;
    unsigned flags;
};

struct envp_case {
    const char *name;
    const char *environ[MAXV]; /* NULL-terminated */
    bool no_environ;           /* pass environ == NULL */
    struct res_row res[MAXV];  /* up to a NULL key */
    const char *cfg_unset[MAXV];
    const char *opt_unset[MAXV];
    bool pristine;
    const char *want[MAXV];
};

static const struct envp_case envp_cases[] = {
    {"inherited sorted, strings without '=' or key dropped",
     {"B=2", "A=1", "NOEQ", "=x", "C=", NULL},
     false,
     {{NULL, NULL, 0}},
     {NULL},
     {NULL},
     false,
     {"A=1", "B=2", "C=", NULL}},
    {"keys sharing the 16 bytes compared first, and bytes above 0x7f",
     {"A_VERY_LONG_NAME_B=2", "\xc3\xa9T=e", "A_VERY_LONG_NAME_AB=3",
      "A_VERY_LONG_NAME=0", "A_VERY_LONG_NAME_B=dup", "A_VERY_LONG_NAMEZ=z",
      "A_VERY_LONG_NAME_A=1", "A=1", NULL},
     false,
     {{"A_VERY_LONG_NAME_C", "c", 0},
      {"A_VERY_LONG_NAME_A", "r", 0},
      {"A_VERY_LONG_NAME_", "_", 0},
      {NULL, NULL, 0}},
     {NULL},
     {NULL},
     false,
     {"A=1", "A_VERY_LONG_NAME=0", "A_VERY_LONG_NAMEZ=z", "A_VERY_LONG_NAME_=_",
      "A_VERY_LONG_NAME_A=r", "A_VERY_LONG_NAME_AB=3", "A_VERY_LONG_NAME_B=2",
      "A_VERY_LONG_NAME_C=c", "\xc3\xa9T=e", NULL}},
    {"resolved replaces inherited",
     {"A=old", "Z=z", NULL},
     false,
     {{"A", "new", 0}, {"M", "m", EI_ENTRY_SECRET}, {NULL, NULL, 0}},
     {NULL},
     {NULL},
     false,
     {"A=new", "M=m", "Z=z", NULL}},
    {"pristine keeps only resolved keys",
     {"A=1", "B=2", NULL},
     false,
     {{"C", "3", 0}, {"A", "x", 0}, {NULL, NULL, 0}},
     {NULL},
     {NULL},
     true,
     {"A=x", "C=3", NULL}},
    {"config unset removes inherited and resolved",
     {"VAULT_TOKEN=t", "X=1", NULL},
     false,
     {{"Y", "2", 0}, {"VAULT_TOKEN", "r", 0}, {NULL, NULL, 0}},
     {"VAULT_TOKEN", NULL},
     {NULL},
     false,
     {"X=1", "Y=2", NULL}},
    {"--unset removes, an exact key only",
     {"A=1", "AB=2", "B=3", NULL},
     false,
     {{"C", "4", 0}, {NULL, NULL, 0}},
     {NULL},
     {"A", "C", "NOT_THERE", NULL},
     false,
     {"AB=2", "B=3", NULL}},
    {"private key is never passed on",
     {"ENVINJECT_PRIVATE_KEY=k", "A=1", NULL},
     false,
     {{"ENVINJECT_PRIVATE_KEY", "r", 0}, {NULL, NULL, 0}},
     {NULL},
     {NULL},
     false,
     {"A=1", NULL}},
    {"private key is dropped in pristine mode too",
     {"ENVINJECT_PRIVATE_KEY=k", NULL},
     false,
     {{"ENVINJECT_PRIVATE_KEY", "r", 0}, {"K", "v", 0}, {NULL, NULL, 0}},
     {NULL},
     {NULL},
     true,
     {"K=v", NULL}},
    {"an UNSET entry removes the inherited variable",
     {"A=1", "B=2", NULL},
     false,
     {{"A", "", EI_ENTRY_UNSET}, {"C", "3", 0}, {NULL, NULL, 0}},
     {NULL},
     {NULL},
     false,
     {"B=2", "C=3", NULL}},
    {"UNSET entries remove every inherited duplicate, in any order",
     {"C=3", "A=1", "B=2", "A=dup", "E=5", NULL},
     false,
     {{"E", "", EI_ENTRY_UNSET},
      {"D", "4", 0},
      {"A", "", EI_ENTRY_UNSET},
      {"C", "", EI_ENTRY_UNSET},
      {NULL, NULL, 0}},
     {NULL},
     {NULL},
     false,
     {"B=2", "D=4", NULL}},
    {"the first of duplicate inherited strings wins",
     {"A=first", "B=b", "A=second", NULL},
     false,
     {{NULL, NULL, 0}},
     {NULL},
     {NULL},
     false,
     {"A=first", "B=b", NULL}},
    {"a resolved key replaces every inherited duplicate",
     {"A=first", "B=b", "A=second", "AA=x", NULL},
     false,
     {{"A", "new", 0}, {"A_LONGER_THAN_SIXTEEN", "r", 0}, {NULL, NULL, 0}},
     {NULL},
     {NULL},
     false,
     {"A=new", "AA=x", "A_LONGER_THAN_SIXTEEN=r", "B=b", NULL}},
    {"sorted by key, not by the whole string",
     {"A0=x", "A=y", "A_=z", "AB=w", NULL},
     false,
     {{"A1", "r", 0}, {NULL, NULL, 0}},
     {NULL},
     {NULL},
     false,
     {"A=y", "A0=x", "A1=r", "AB=w", "A_=z", NULL}},
    {"values keep '=' and newlines, empty values stay",
     {"E=a=b", NULL},
     false,
     {{"M", "l1\nl2=3", 0}, {"N", "", 0}, {NULL, NULL, 0}},
     {NULL},
     {NULL},
     false,
     {"E=a=b", "M=l1\nl2=3", "N=", NULL}},
    {"no environ at all",
     {NULL},
     true,
     {{"K", "v", 0}, {NULL, NULL, 0}},
     {NULL},
     {NULL},
     false,
     {"K=v", NULL}},
    {"nothing in, nothing out",
     {NULL},
     false,
     {{NULL, NULL, 0}},
     {"A", NULL},
     {"A", NULL},
     false,
     {NULL}},
};

/* A resolution holding rows; the test owns every piece of it. */
struct fake_res {
    struct ei_resolution r;
    struct ei_config cfg;
    struct ei_store *store;
    char *unset[MAXV];
};

static void fake_res_init(struct fake_res *f, const struct res_row *rows,
                          const char *const *cfg_unset)
{
    memset(f, 0, sizeof(*f));
    f->store = ei_store_new(false);
    assert_non_null(f->store);
    f->r.final = ei_envset_new(f->store);
    assert_non_null(f->r.final);
    for (size_t i = 0; rows != NULL && rows[i].key != NULL; i++) {
        struct ei_entry e;
        memset(&e, 0, sizeof(e));
        e.key = ei_store_strdup(f->store, rows[i].key);
        e.value = ei_store_strdup(f->store, rows[i].value);
        assert_non_null(e.key);
        assert_non_null(e.value);
        e.value_len = strlen(rows[i].value);
        e.flags = rows[i].flags;
        assert_non_null(ei_envset_put(f->r.final, &e, NULL));
    }
    size_t n = 0;
    for (; cfg_unset != NULL && cfg_unset[n] != NULL; n++)
        f->unset[n] = (char *)cfg_unset[n];
    f->unset[n] = NULL;
    f->cfg.unset = f->unset;
    f->cfg.unset_n = n;
    f->r.cfg = &f->cfg;
}

static void fake_res_free(struct fake_res *f)
{
    ei_envset_free(f->r.final);
    ei_store_free(f->store);
}

static void test_envp_table(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(envp_cases) / sizeof(envp_cases[0]); c++) {
        const struct envp_case *tc = &envp_cases[c];
        struct fake_res f;
        fake_res_init(&f, tc->res, tc->cfg_unset);
        struct ei_exec_opts o = {tc->pristine, tc->opt_unset, NULL};
        struct ei_error err;
        memset(&err, 0, sizeof(err));

        char **envp =
            ei_exec_envp(&f.r, tc->no_environ ? NULL : tc->environ, &o, &err);
        if (envp == NULL)
            fail_msg("%s: failed: %s", tc->name, err.text);
        size_t i = 0;
        for (; tc->want[i] != NULL; i++) {
            if (envp[i] == NULL)
                fail_msg("%s: entry %zu missing, want '%s'", tc->name, i,
                         tc->want[i]);
            if (strcmp(envp[i], tc->want[i]) != 0)
                fail_msg("%s: entry %zu is '%s', want '%s'", tc->name, i,
                         envp[i], tc->want[i]);
        }
        if (envp[i] != NULL)
            fail_msg("%s: extra entry '%s'", tc->name, envp[i]);
        assert_int_equal(err.status, EI_OK);
        ei_exec_envp_free(envp);
        fake_res_free(&f);
    }
}

static void test_envp_null_resolution(void **state)
{
    (void)state;
    const char *environ_[] = {"B=1", "ENVINJECT_PRIVATE_KEY=x", "A=2", NULL};
    struct ei_error err;
    memset(&err, 0, sizeof(err));
    char **envp = ei_exec_envp(NULL, environ_, NULL, &err);
    assert_non_null(envp);
    assert_string_equal(envp[0], "A=2");
    assert_string_equal(envp[1], "B=1");
    assert_null(envp[2]);
    ei_exec_envp_free(envp);
    ei_exec_envp_free(NULL);
}

/* A provider of a layer that declares what it consumes, as a loaded
   shared object would; destroy is all the envp code never calls. */
static const char *const consuming_vars[] = {"FAKE_TOKEN", "FAKE_SECRET_*",
                                             NULL};
static enum ei_status consuming_configure(const struct ei_host *h, void **sp,
                                          struct ei_error *err)
{
    (void)h, (void)sp, (void)err;
    return EI_OK;
}

static const struct ei_provider consuming = {
    .abi = EI_PROVIDER_ABI,
    .size = sizeof(struct ei_provider),
    .name = "consuming",
    .configure = consuming_configure,
    .env_consumed = consuming_vars,
};

static void test_envp_consumed(void **state)
{
    (void)state;
    const char *environ_[] = {
        "FAKE_SECRET_A=1", "FAKE_SECRET_=7", "FAKE_SECRET=2", "FAKE_TOKEN=3",
        "FAKE_TOKENS=4",   "KEEP=5",         "VAULT_TOKEN=6", NULL};
    static const char *const want[] = {"FAKE_SECRET=2", "FAKE_TOKENS=4",
                                       "KEEP=5",        "R=r",
                                       "VAULT_TOKEN=6", NULL};
    /* an older descriptor ends before env_consumed: nothing is dropped */
    struct ei_provider older = consuming;
    older.size = (uint32_t)offsetof(struct ei_provider, env_consumed);

    const struct res_row res[] = {
        {"FAKE_SECRET_B", "resolved", 0}, {"R", "r", 0}, {NULL, NULL, 0}};
    const char *none[] = {NULL};
    for (int round = 0; round < 2; round++) {
        struct fake_res f;
        fake_res_init(&f, res, none);
        struct ei_layer layers[2];
        memset(layers, 0, sizeof(layers));
        layers[0].prov = &older;
        layers[1].prov = &consuming;
        f.r.layers = layers;
        f.r.layers_n = round == 0 ? 1 : 2;
        struct ei_exec_opts o = {false, none, NULL};
        struct ei_error err = {0};
        char **envp = ei_exec_envp(&f.r, environ_, &o, &err);
        assert_non_null(envp);
        if (round == 0) {
            /* only the older provider: every variable stays */
            size_t n = 0;
            while (envp[n] != NULL)
                n++;
            assert_int_equal(n, 9);
        } else {
            /* consumed: inherited or resolved, as unset keys are */
            size_t i = 0;
            for (; want[i] != NULL; i++) {
                assert_non_null(envp[i]);
                assert_string_equal(envp[i], want[i]);
            }
            assert_null(envp[i]);
        }
        ei_exec_envp_free(envp);
        fake_res_free(&f);
    }
}

/* One consumed glob against names about as long as its literal bytes:
   a name shorter than those cannot match (the removal's shortcut), one as
   long may; fnmatch's globs (F*X, A?) are always asked. */
struct glob_len_case {
    const char *glob;
    const char *name;
    int removed;
};

static const struct glob_len_case glob_len_cases[] = {
    {"FAKE_SECRET_*", "FAKE_SECRET_", 1},
    {"FAKE_SECRET_*", "FAKE_SECRET", 0},
    {"FAKE_SECRET_*", "FAKE_SECRET_X", 1},
    {"*_TOKEN", "_TOKEN", 1},
    {"*_TOKEN", "TOKEN", 0},
    {"*KEY*", "KEY", 1},
    {"*KEY*", "KE", 0},
    {"F*X", "FX", 1},
    {"F*X", "F", 0},
    {"A?", "AB", 1},
    {"A?", "A", 0},
    {"*", "A", 1},
};

static void test_filter_glob_len(void **state)
{
    (void)state;
    const char *none[] = {NULL};
    for (size_t c = 0; c < sizeof(glob_len_cases) / sizeof(glob_len_cases[0]);
         c++) {
        const struct glob_len_case *tc = &glob_len_cases[c];
        const char *vars[] = {tc->glob, NULL};
        struct ei_provider p = consuming;
        p.env_consumed = vars;
        struct fake_res f;
        fake_res_init(&f, NULL, none);
        struct ei_layer layer;
        memset(&layer, 0, sizeof(layer));
        layer.prov = &p;
        f.r.layers = &layer;
        f.r.layers_n = 1;
        struct ei_exec_filter *fl = ei_exec_filter_new(&f.r, none);
        assert_non_null(fl);
        int got = ei_exec_filter_removes(fl, tc->name);
        if (got != tc->removed)
            fail_msg("%s against %s: %d, want %d", tc->glob, tc->name, got,
                     tc->removed);
        ei_exec_filter_free(fl);
        fake_res_free(&f);
    }
}

#define BIG_N 100000

/* 100k inherited and 100k resolved keys, half of them shared, the
   inherited ones in reverse order: every key once, sorted, the resolved
   value winning.  (No clock: a test must not depend on the machine's
   load; a quadratic merge would show as this test running for minutes,
   and in the start-up benchmark's instruction count.) */
static void test_envp_many_keys(void **state)
{
    (void)state;
    char **inherited = calloc(BIG_N + 1, sizeof(char *));
    assert_non_null(inherited);
    struct fake_res f;
    fake_res_init(&f, NULL, NULL);
    char buf[64];
    for (size_t i = 0; i < BIG_N; i++) {
        /* reverse order, so the sort has work to do */
        int n = snprintf(buf, sizeof(buf), "K%06zu=inherited",
                         (size_t)(BIG_N - 1 - i) * 2);
        assert_true(n > 0 && (size_t)n < sizeof(buf));
        inherited[i] = strdup(buf);
        assert_non_null(inherited[i]);

        n = snprintf(buf, sizeof(buf), "K%06zu", i);
        assert_true(n > 0 && (size_t)n < sizeof(buf));
        struct ei_entry e;
        memset(&e, 0, sizeof(e));
        e.key = ei_store_strdup(f.store, buf);
        e.value = "resolved";
        e.value_len = strlen(e.value);
        assert_non_null(ei_envset_put(f.r.final, &e, NULL));
    }
    struct ei_exec_opts o = {false, NULL, NULL};
    struct ei_error err;
    memset(&err, 0, sizeof(err));

    char **envp = ei_exec_envp(&f.r, (const char *const *)inherited, &o, &err);
    assert_non_null(envp);

    /* keys 0..99999 resolved, plus the even keys 100000..199998 inherited */
    size_t n = 0;
    for (; envp[n] != NULL; n++) {
        unsigned long k = strtoul(envp[n] + 1, NULL, 10);
        const char *want = k < BIG_N ? "=resolved" : "=inherited";
        assert_non_null(strstr(envp[n], want));
        if (n > 0)
            assert_true(strcmp(envp[n - 1], envp[n]) < 0);
    }
    assert_int_equal(n, BIG_N + BIG_N / 2);

    ei_exec_envp_free(envp);
    for (size_t i = 0; i < BIG_N; i++)
        free(inherited[i]);
    free(inherited);
    fake_res_free(&f);
}

/* ---- ei_exec_check_size ---- */

static size_t per_string_limit(void)
{
    return (size_t)sysconf(_SC_PAGESIZE) * 32;
}

static size_t arg_max_limit(void)
{
    long max = sysconf(_SC_ARG_MAX);
    long cap = 6L * 1024 * 1024;
    return (size_t)(max < 0 || max > cap ? cap : max);
}

/* "KEY=" followed by filler up to size bytes with the NUL. */
static char *make_var(const char *key, size_t size, char fill)
{
    char *s = malloc(size);
    assert_non_null(s);
    size_t key_len = strlen(key);
    assert_true(size > key_len + 1);
    memcpy(s, key, key_len);
    s[key_len] = '=';
    memset(s + key_len + 1, fill, size - key_len - 2);
    s[size - 1] = '\0';
    return s;
}

/* ei_exec_envp's array of the "KEY=value" strings strs, resolved keys
   in a pristine run. */
static char **envp_of_strings(char *const *strs)
{
    struct fake_res f;
    fake_res_init(&f, NULL, NULL);
    for (size_t i = 0; strs[i] != NULL; i++) {
        const char *eq = strchr(strs[i], '=');
        assert_non_null(eq);
        struct ei_entry e;
        memset(&e, 0, sizeof(e));
        e.key = ei_store_strndup(f.store, strs[i], (size_t)(eq - strs[i]));
        assert_non_null(e.key);
        e.value = eq + 1;
        e.value_len = strlen(eq + 1);
        assert_non_null(ei_envset_put(f.r.final, &e, NULL));
    }
    struct ei_exec_opts o = {true, NULL, NULL};
    struct ei_error err;
    memset(&err, 0, sizeof(err));
    char **envp = ei_exec_envp(&f.r, NULL, &o, &err);
    assert_non_null(envp);
    fake_res_free(&f);
    return envp;
}

enum size_kind { SIZE_OK, SIZE_ONE_VAR, SIZE_ONE_ARG, SIZE_TOTAL };

struct size_case {
    const char *name;
    enum size_kind kind;
    long delta; /* bytes beyond (or below, when negative) the limit */
    int want;   /* 0 or EI_CANTEXEC */
};

static const struct size_case size_cases[] = {
    {"small", SIZE_OK, 0, 0},
    {"variable exactly at the per-string limit", SIZE_ONE_VAR, 0, 0},
    {"variable one byte over", SIZE_ONE_VAR, 1, EI_CANTEXEC},
    {"argument exactly at the limit", SIZE_ONE_ARG, 0, 0},
    {"argument one byte over", SIZE_ONE_ARG, 1, EI_CANTEXEC},
    {"total just under ARG_MAX", SIZE_TOTAL, -1, 0},
    {"total exactly ARG_MAX", SIZE_TOTAL, 0, 0},
    {"total just over ARG_MAX", SIZE_TOTAL, 1, EI_CANTEXEC},
};

#define CANARY_CHAR 'Q'

static void test_check_size_table(void **state)
{
    (void)state;
    size_t per = per_string_limit();
    for (size_t c = 0; c < sizeof(size_cases) / sizeof(size_cases[0]); c++) {
        const struct size_case *tc = &size_cases[c];
        char *argv[4] = {"prog", "arg", NULL, NULL};
        char **envp = calloc(200, sizeof(char *));
        assert_non_null(envp);
        char *big_arg = NULL;
        size_t envp_n = 0;
        char want[EI_ERR_TEXT_LEN] = "";

        switch (tc->kind) {
        case SIZE_OK:
            envp[envp_n++] = strdup("A=1");
            break;
        case SIZE_ONE_VAR:
            envp[envp_n++] = strdup("A=1");
            envp[envp_n++] =
                make_var("BIG", per + (size_t)tc->delta, CANARY_CHAR);
            tfmt(want, sizeof(want),
                 "value of BIG (%zu bytes) exceeds the system limit of "
                 "%zu bytes per variable",
                 per + (size_t)tc->delta, per);
            break;
        case SIZE_ONE_ARG:
            big_arg = malloc(per + (size_t)tc->delta);
            assert_non_null(big_arg);
            memset(big_arg, CANARY_CHAR, per + (size_t)tc->delta - 1);
            big_arg[per + (size_t)tc->delta - 1] = '\0';
            argv[2] = big_arg;
            tfmt(want, sizeof(want),
                 "argument 2 (%zu bytes) exceeds the system limit of "
                 "%zu bytes per argument",
                 per + (size_t)tc->delta, per);
            break;
        case SIZE_TOTAL: {
            /* fill to the limit with variables of one size, then make
               three of them bigger so that they are the ones named */
            size_t limit = arg_max_limit();
            size_t args =
                strlen("prog") + 1 + strlen("arg") + 1 + 2 * sizeof(char *);
            size_t chunk = per / 2;
            size_t left = limit - args;
            const char *bigs[] = {"BIG_B", "BIG_A", "BIG_C"};
            size_t extra[] = {300, 200, 100};
            for (size_t k = 0; k < 3; k++) {
                envp[envp_n++] =
                    make_var(bigs[k], chunk + extra[k], CANARY_CHAR);
                left -= chunk + extra[k] + sizeof(char *);
            }
            while (left > chunk + sizeof(char *) + 64) {
                char key[32];
                assert_true(envp_n < 190);
                int kn = snprintf(key, sizeof(key), "V%zu", envp_n);
                assert_true(kn > 0 && (size_t)kn < sizeof(key));
                envp[envp_n++] = make_var(key, chunk, CANARY_CHAR);
                left -= chunk + sizeof(char *);
            }
            /* the last one lands exactly on limit + delta */
            size_t last = left - sizeof(char *) + (size_t)tc->delta;
            envp[envp_n++] = make_var("LAST", last, CANARY_CHAR);
            tfmt(want, sizeof(want),
                 "environment and arguments (%zu bytes) exceed ARG_MAX "
                 "(%zu); largest: BIG_B (%zu bytes), BIG_A (%zu bytes), "
                 "BIG_C (%zu bytes)",
                 limit + (size_t)tc->delta, limit, chunk + 300, chunk + 200,
                 chunk + 100);
            break;
        }
        }
        envp[envp_n] = NULL;

        /* the same strings as ei_exec_envp makes them, for the check
           that takes their sizes from it instead of measuring them */
        char **made = envp_of_strings(envp);
        for (int fast = 0; fast < 2; fast++) {
            struct ei_error err;
            memset(&err, 0, sizeof(err));
            int rc = fast ? ei_exec_check_envp(argv, made, &err)
                          : ei_exec_check_size(argv, envp, &err);
            if (tc->want == 0) {
                if (rc != 0)
                    fail_msg("%s (%d): unexpected error: %s", tc->name, fast,
                             err.text);
                assert_int_equal(err.status, EI_OK);
            } else {
                if (rc != tc->want)
                    fail_msg("%s (%d): got %d, want %d", tc->name, fast, rc,
                             tc->want);
                assert_int_equal(err.status, tc->want);
                if (strcmp(err.text, want) != 0)
                    fail_msg("%s (%d): text '%s', want '%s'", tc->name, fast,
                             err.text, want);
                assert_null(strchr(err.text, CANARY_CHAR));
            }
        }
        ei_exec_envp_free(made);
        for (size_t k = 0; k < envp_n; k++)
            free(envp[k]);
        free(envp);
        free(big_arg);
    }
}

static void test_check_size_null(void **state)
{
    (void)state;
    struct ei_error err;
    memset(&err, 0, sizeof(err));
    assert_int_equal(ei_exec_check_size(NULL, NULL, &err), 0);
    assert_int_equal(err.status, EI_OK);
}

/* ---- ei_exec ---- */

struct tmpdir {
    char path[64];
};

static int setup_tree(void **state)
{
    struct tmpdir *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return -1;
    tfmt(t->path, sizeof(t->path), "/tmp/ei-test-execprog.XXXXXX");
    if (mkdtemp(t->path) == NULL)
        return -1;
    static const struct {
        const char *name;
        const char *body; /* NULL for a directory */
        mode_t mode;
    } files[] = {
        {"bin1", NULL, 0755},
        {"bin2", NULL, 0755},
        {"bin1/adir", NULL, 0755},
        {"bin1/ok42", "#!/bin/sh\nexit 42\n", 0755},
        {"bin1/noperm", "#!/bin/sh\nexit 1\n", 0644},
        {"bin2/noperm", "#!/bin/sh\nexit 43\n", 0755},
        {"bin1/noshebang", "exit \"$1\"\n", 0755},
        {"bin1/envcheck",
         "#!/bin/sh\n[ \"$EI_T\" = yes ] && [ -z \"$EI_GONE\" ] && exit 0\n"
         "exit 1\n",
         0755},
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char p[PATH_MAX];
        tfmt(p, sizeof(p), "%s/%s", t->path, files[i].name);
        if (files[i].body == NULL) {
            if (mkdir(p, files[i].mode) != 0)
                return -1;
            continue;
        }
        int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
            return -1;
        size_t len = strlen(files[i].body);
        if (write(fd, files[i].body, len) != (ssize_t)len)
            return -1;
        close(fd);
        if (chmod(p, files[i].mode) != 0)
            return -1;
    }
    *state = t;
    return 0;
}

static int teardown_tree(void **state)
{
    struct tmpdir *t = *state;
    if (t == NULL)
        return 0;
    const char *rm[] = {"bin1/ok42",      "bin1/noperm",   "bin2/noperm",
                        "bin1/noshebang", "bin1/envcheck", NULL};
    char p[PATH_MAX];
    for (size_t i = 0; rm[i] != NULL; i++) {
        tfmt(p, sizeof(p), "%s/%s", t->path, rm[i]);
        unlink(p);
    }
    const char *dirs[] = {"bin1/adir", "bin1", "bin2", "", NULL};
    for (size_t i = 0; dirs[i] != NULL; i++) {
        tfmt(p, sizeof(p), "%s/%s", t->path, dirs[i]);
        rmdir(p);
    }
    free(t);
    return 0;
}

#define T_PLACEHOLDER "@T@"
#define NO_PATH       ((const char *)-1) /* envp without PATH */
#define LONG_NAME     "@LONG@"
#define CANARY_VAR    "EI_SECRET=EI_CANARY_0123456789abcdef"

struct exec_case {
    const char *name;
    const char *argv[5];
    const char *path;      /* PATH in envp, NO_PATH for none */
    const char *proc_path; /* envinject's own PATH, or NULL */
    const char *cwd;       /* below the tree, or NULL */
    const char *extra_env; /* one more envp string, or NULL */
    bool null_envp;
    int want_exit;   /* the program's exit status when it runs */
    int want_status; /* EI_NOPROG / EI_CANTEXEC when it does not */
    const char *want_text;
    int want_errnum;
};

static const struct exec_case exec_cases[] = {
    {"found in PATH",
     {"ok42", NULL},
     "@T@/bin1",
     NULL,
     NULL,
     NULL,
     false,
     42,
     0,
     NULL,
     0},
    {"later PATH element",
     {"ok42", NULL},
     "/nonexistent:@T@/bin1",
     NULL,
     NULL,
     NULL,
     false,
     42,
     0,
     NULL,
     0},
    {"empty PATH is the current directory",
     {"ok42", NULL},
     "",
     NULL,
     "bin1",
     NULL,
     false,
     42,
     0,
     NULL,
     0},
    {"leading empty element",
     {"ok42", NULL},
     ":/nonexistent",
     NULL,
     "bin1",
     NULL,
     false,
     42,
     0,
     NULL,
     0},
    {"trailing empty element",
     {"ok42", NULL},
     "/nonexistent:",
     NULL,
     "bin1",
     NULL,
     false,
     42,
     0,
     NULL,
     0},
    {"middle empty element",
     {"ok42", NULL},
     "/nonexistent::/x",
     NULL,
     "bin1",
     NULL,
     false,
     42,
     0,
     NULL,
     0},
    {"not in PATH",
     {"ok42", NULL},
     "/nonexistent:@T@/bin2",
     NULL,
     NULL,
     NULL,
     false,
     0,
     EI_NOPROG,
     "ok42: not found",
     0},
    {"PATH comes from envp, not the process",
     {"ok42", NULL},
     "/nonexistent",
     "@T@/bin1",
     NULL,
     NULL,
     false,
     0,
     EI_NOPROG,
     "ok42: not found",
     0},
    {"envp PATH wins over the process",
     {"ok42", NULL},
     "@T@/bin1",
     "/nonexistent",
     NULL,
     NULL,
     false,
     42,
     0,
     NULL,
     0},
    {"no PATH: the system default",
     {"sh", "-c", "exit 7", NULL},
     NO_PATH,
     "/nonexistent",
     NULL,
     NULL,
     false,
     7,
     0,
     NULL,
     0},
    {"NULL envp: the system default",
     {"sh", "-c", "exit 8", NULL},
     NULL,
     "/nonexistent",
     NULL,
     NULL,
     true,
     8,
     0,
     NULL,
     0},
    {"not executable",
     {"noperm", NULL},
     "@T@/bin1",
     NULL,
     NULL,
     NULL,
     false,
     0,
     EI_CANTEXEC,
     "noperm: permission denied",
     0},
    {"not executable, then found",
     {"noperm", NULL},
     "@T@/bin1:@T@/bin2",
     NULL,
     NULL,
     NULL,
     false,
     43,
     0,
     NULL,
     0},
    {"a directory",
     {"adir", NULL},
     "@T@/bin1",
     NULL,
     NULL,
     NULL,
     false,
     0,
     EI_CANTEXEC,
     "adir: permission denied",
     0},
    {"no shebang: run by the shell",
     {"noshebang", "9", NULL},
     "@T@/bin1",
     NULL,
     NULL,
     NULL,
     false,
     9,
     0,
     NULL,
     0},
    {"no shebang with a slash",
     {"./noshebang", "11", NULL},
     NO_PATH,
     NULL,
     "bin1",
     NULL,
     false,
     11,
     0,
     NULL,
     0},
    {"envp reaches the program",
     {"envcheck", NULL},
     "@T@/bin1",
     NULL,
     NULL,
     "EI_T=yes",
     false,
     0,
     0,
     NULL,
     0},
    {"only envp reaches the program",
     {"envcheck", NULL},
     "@T@/bin1",
     NULL,
     NULL,
     NULL,
     false,
     1,
     0,
     NULL,
     0},
    {"absolute path, no PATH",
     {"@T@/bin1/ok42", NULL},
     NO_PATH,
     NULL,
     NULL,
     NULL,
     false,
     42,
     0,
     NULL,
     0},
    {"relative path",
     {"./ok42", NULL},
     "/nonexistent",
     NULL,
     "bin1",
     NULL,
     false,
     42,
     0,
     NULL,
     0},
    {"relative path is not searched",
     {"bin1/ok42", NULL},
     "@T@",
     NULL,
     "bin2",
     NULL,
     false,
     0,
     EI_NOPROG,
     "bin1/ok42: not found",
     0},
    {"missing file with a slash",
     {"./missing", NULL},
     "@T@/bin1",
     NULL,
     NULL,
     NULL,
     false,
     0,
     EI_NOPROG,
     "./missing: not found",
     0},
    {"not executable with a slash",
     {"./noperm", NULL},
     NO_PATH,
     NULL,
     "bin1",
     NULL,
     false,
     0,
     EI_CANTEXEC,
     "./noperm: permission denied",
     0},
    {"a file used as a directory",
     {"./ok42/x", NULL},
     NO_PATH,
     NULL,
     "bin1",
     NULL,
     false,
     0,
     EI_CANTEXEC,
     "./ok42/x: cannot execute",
     ENOTDIR},
    {"empty name",
     {"", NULL},
     "@T@/bin1",
     NULL,
     NULL,
     NULL,
     false,
     0,
     EI_NOPROG,
     "empty program name",
     0},
    {"name too long",
     {LONG_NAME, NULL},
     "@T@/bin1",
     NULL,
     NULL,
     NULL,
     false,
     0,
     EI_CANTEXEC,
     NULL,
     ENAMETOOLONG},
};

/* s with @T@ replaced by the tree's path, LONG_NAME by a name one byte
   too long; malloc'd. */
static char *expand_tree(const char *s, const char *tree)
{
    if (s != NULL && strcmp(s, LONG_NAME) == 0) {
        char *l = malloc(NAME_MAX + 2);
        assert_non_null(l);
        memset(l, 'x', NAME_MAX + 1);
        l[NAME_MAX + 1] = '\0';
        return l;
    }
    const struct expand_rule rule = {.open = T_PLACEHOLDER, .sub = tree};
    return expand(s, &rule, 1);
}

struct exec_report {
    int status; /* from ei_exec, 0 when the program ran */
    int errnum;
    char text[EI_ERR_TEXT_LEN];
};

static void test_exec_table(void **state)
{
    struct tmpdir *t = *state;
    for (size_t c = 0; c < sizeof(exec_cases) / sizeof(exec_cases[0]); c++) {
        const struct exec_case *tc = &exec_cases[c];
        char *argv[5] = {NULL};
        for (size_t i = 0; tc->argv[i] != NULL; i++)
            argv[i] = expand_tree(tc->argv[i], t->path);
        char *envp[4] = {NULL};
        size_t envp_n = 0;
        char *pathvar = NULL;
        if (tc->path != NO_PATH && !tc->null_envp) {
            char *p = expand_tree(tc->path, t->path);
            size_t len = strlen(p) + 6;
            pathvar = malloc(len);
            assert_non_null(pathvar);
            tfmt(pathvar, len, "PATH=%s", p);
            free(p);
            envp[envp_n++] = pathvar;
        }
        envp[envp_n++] = (char *)CANARY_VAR;
        if (tc->extra_env != NULL)
            envp[envp_n++] = (char *)tc->extra_env;
        envp[envp_n] = NULL;
        char *proc_path = expand_tree(tc->proc_path, t->path);
        char *want_text = expand_tree(tc->want_text, t->path);

        int fds[2];
        assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            struct exec_report rep;
            memset(&rep, 0, sizeof(rep));
            if (tc->cwd != NULL) {
                char dir[PATH_MAX];
                int dn = snprintf(dir, sizeof(dir), "%s/%s", t->path, tc->cwd);
                if (dn < 0 || (size_t)dn >= sizeof(dir) || chdir(dir) != 0)
                    _exit(120);
            }
            /* only the child's PATH may differ from the envp one */
            setenv("EI_GONE", "1", 1);
            if (proc_path != NULL)
                setenv("PATH", proc_path, 1);
            struct ei_error err;
            memset(&err, 0, sizeof(err));
            rep.status = ei_exec(argv, tc->null_envp ? NULL : envp, &err);
            rep.errnum = err.errnum;
            memcpy(rep.text, err.text, sizeof(rep.text));
            if (rep.status == 0 || rep.status != (int)err.status)
                rep.status = -1;
            ssize_t w = write(fds[1], &rep, sizeof(rep));
            _exit(w == (ssize_t)sizeof(rep) ? 121 : 122);
        }
        close(fds[1]);
        struct exec_report rep;
        memset(&rep, 0, sizeof(rep));
        ssize_t got = read(fds[0], &rep, sizeof(rep));
        close(fds[0]);
        int ws;
        assert_int_equal(waitpid(pid, &ws, 0), pid);
        assert_true(WIFEXITED(ws));

        if (tc->want_status == 0) {
            if (got != 0)
                fail_msg("%s: exec failed (%d): %s", tc->name, rep.status,
                         rep.text);
            if (WEXITSTATUS(ws) != tc->want_exit)
                fail_msg("%s: exit %d, want %d", tc->name, WEXITSTATUS(ws),
                         tc->want_exit);
        } else {
            if (got != (ssize_t)sizeof(rep))
                fail_msg("%s: the program ran (exit %d)", tc->name,
                         WEXITSTATUS(ws));
            if (rep.status != tc->want_status)
                fail_msg("%s: status %d, want %d", tc->name, rep.status,
                         tc->want_status);
            if (want_text != NULL && strcmp(rep.text, want_text) != 0)
                fail_msg("%s: text '%s', want '%s'", tc->name, rep.text,
                         want_text);
            if (rep.errnum != tc->want_errnum)
                fail_msg("%s: errnum %d, want %d", tc->name, rep.errnum,
                         tc->want_errnum);
            assert_null(strstr(rep.text, "EI_CANARY"));
        }
        for (size_t i = 0; argv[i] != NULL; i++)
            free(argv[i]);
        free(pathvar);
        free(proc_path);
        free(want_text);
    }
}

/* --kill-timeout's durations: milliseconds, or a number with ms, s or m. */
static void test_duration_table(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int64_t max, want;
    } t[] = {
        {"0", 1000, 0},
        {"250", 1000, 250},
        {"250ms", 1000, 250},
        {"2s", 5000, 2000},
        {"1m", 60000, 60000},
        {"1m", 59999, -1},
        {"1001", 1000, -1},
        {"3600s", 3600000, 3600000},
        {"3601s", 3600000, -1},
        {"99999999999999999999", 3600000, -1},
        {"", 1000, -1},
        {"-5", 1000, -1},
        {"+5", 1000, -1},
        {" 5", 1000, -1},
        {"5 s", 1000, -1},
        {"5h", 1000000000, -1},
        {"5S", 1000, -1},
        {"s", 1000, -1},
        {"1.5s", 5000, -1},
        {NULL, 1000, -1},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        int64_t got = ei_parse_duration_ms(t[i].in, t[i].max);
        if (got != t[i].want)
            fail_msg("'%s' (max %lld): %lld, want %lld",
                     t[i].in ? t[i].in : "(null)", (long long)t[i].max,
                     (long long)got, (long long)t[i].want);
    }
}

/* run --init: values the program is not given are wiped in envinject's
   own environment, in place; a prefix of another key is no match. */
static void test_wipe_dropped(void **state)
{
    (void)state;
    char a[] = "A=1", k[] = "KEY=secret", kk[] = "KEYS=kept", b[] = "B=2",
         odd[] = "NOEQUALS";
    char *env[] = {a, k, kk, b, odd, NULL};
    char *envp[] = {(char *)"A=1", (char *)"B=override", (char *)"KEYS=kept",
                    NULL};
    ei_exec_wipe_dropped(env, envp);
    assert_string_equal(env[0], "A=1");
    assert_string_equal(env[1], "KEY=");
    assert_memory_equal(k, "KEY=\0\0\0\0\0\0", sizeof(k));
    assert_string_equal(env[2], "KEYS=kept");
    assert_string_equal(env[3], "B=2");
    assert_string_equal(env[4], "NOEQUALS");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wipe_dropped),
        cmocka_unit_test(test_duration_table),
        cmocka_unit_test(test_envp_table),
        cmocka_unit_test(test_envp_null_resolution),
        cmocka_unit_test(test_envp_consumed),
        cmocka_unit_test(test_filter_glob_len),
        cmocka_unit_test(test_envp_many_keys),
        cmocka_unit_test(test_check_size_table),
        cmocka_unit_test(test_check_size_null),
        cmocka_unit_test_setup_teardown(test_exec_table, setup_tree,
                                        teardown_tree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
