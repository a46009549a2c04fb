/* SPDX-License-Identifier: MIT */
/* Unit tests of keyglob: every glob and name of the table gets fnmatch's
   own answer, with and without case folding, and a name that is not
   NUL-terminated gets the answer for its first len bytes. */
#include <fnmatch.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "keyglob.h"

/* The shapes decided without fnmatch (whole names, '*' at either end or
   both, a lone '*'), the ones handed to it, and their edges. */
static const char *const globs[] = {
    "DB_PASSWORD",
    "db_password",
    "*_TOKEN",
    "*_token",
    "DOTENV_PRIVATE_KEY_*",
    "*KEY*",
    "*",
    "**",
    "",
    "_",
    "*_",
    "_*",
    "A*B",
    "A?C",
    "[AB]_X",
    "\\*",
    "*\\_TOKEN",
    "DB_*_URL",
    "*[_]TOKEN",
    "TOKEN*",
    "*TOKEN",
    "*OKE*",
    "GITHUB_TOKEN",
};

static const char *const names[] = {
    "DB_PASSWORD",
    "db_password",
    "Db_PassWord",
    "DB_PASSWORDS",
    "GITHUB_TOKEN",
    "github_token",
    "_TOKEN",
    "TOKEN",
    "XTOKEN",
    "DOTENV_PRIVATE_KEY",
    "DOTENV_PRIVATE_KEY_CI",
    "KEY",
    "MY_KEY_ID",
    "",
    "_",
    "AB",
    "AXB",
    "ABC",
    "A_X",
    "*",
    "DB_READ_URL",
    "ATOKEN_",
    "OKE",
};

static void test_as_fnmatch(void **state)
{
    (void)state;
    static const int flag_sets[] = {0, FNM_CASEFOLD};
    for (size_t f = 0; f < sizeof(flag_sets) / sizeof(flag_sets[0]); f++) {
        for (size_t g = 0; g < sizeof(globs) / sizeof(globs[0]); g++) {
            for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
                int want = fnmatch(globs[g], names[n], flag_sets[f]) == 0;
                int got = ei_keyglob_match(globs[g], names[n], strlen(names[n]),
                                           flag_sets[f]);
                if (got != want)
                    fail_msg("glob '%s', name '%s', flags %d: %d, fnmatch "
                             "says %d",
                             globs[g], names[n], flag_sets[f], got, want);
            }
        }
    }
}

/* "KEY=value" as execprog holds it: the name is the bytes before '='. */
static void test_not_terminated(void **state)
{
    (void)state;
    static const char var[] = "GITHUB_TOKEN=ghp_x";
    size_t len = strlen("GITHUB_TOKEN");
    for (size_t g = 0; g < sizeof(globs) / sizeof(globs[0]); g++) {
        int want = fnmatch(globs[g], "GITHUB_TOKEN", 0) == 0;
        assert_int_equal(ei_keyglob_match(globs[g], var, len, 0), want);
    }
    /* a prefix of the name is not the name */
    assert_int_equal(ei_keyglob_match("GITHUB", var, len, 0), 0);
    assert_int_equal(ei_keyglob_match("*_TOKEN=", var, len, 0), 0);
}

/* A set of the first g globs of the table (reordered by the set) gives
   the answer of fnmatch on each of them, for every name. */
static void test_set(void **state)
{
    (void)state;
    static const int flag_sets[] = {0, FNM_CASEFOLD};
    enum { GLOBS_N = sizeof(globs) / sizeof(globs[0]) };
    struct ei_keyglob compiled[GLOBS_N];
    for (size_t f = 0; f < sizeof(flag_sets) / sizeof(flag_sets[0]); f++) {
        for (size_t g = 0; g <= GLOBS_N; g++) {
            for (size_t i = 0; i < g; i++)
                ei_keyglob_compile(&compiled[i], globs[i]);
            struct ei_keyglob_set set;
            ei_keyglob_set_init(&set, compiled, g, flag_sets[f]);
            for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
                int want = 0;
                for (size_t i = 0; i < g && want == 0; i++)
                    want = fnmatch(globs[i], names[n], flag_sets[f]) == 0;
                int got = ei_keyglob_set_any(&set, names[n], strlen(names[n]));
                if (got != want)
                    fail_msg("the first %zu globs, name '%s', flags %d: %d, "
                             "fnmatch says %d",
                             g, names[n], flag_sets[f], got, want);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_as_fnmatch),
        cmocka_unit_test(test_not_terminated),
        cmocka_unit_test(test_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
