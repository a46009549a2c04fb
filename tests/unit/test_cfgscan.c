/* SPDX-License-Identifier: MIT */
/* Unit tests of the check of libconfig text (providers/cfgscan.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cfgscan.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct scan_case {
    const char *name;
    const char *text;
    const char *want; /* the copy; NULL: the text as it is */
    enum ei_status status;
    const char *locator;
    const char *err_text; /* a substring of the error text */
};

static const struct scan_case cases[] = {
    {"empty", "", NULL, EI_OK, NULL, NULL},
    {"32-bit integers unchanged",
     "a = 1; b = -2147483648; c = 2147483647; h = 0x7FFFFFFF;\n", NULL, EI_OK,
     NULL, NULL},
    {"wider integers get an L", "a = 2147483648;\nb = -2147483649;\n",
     "a = 2147483648L;\nb = -2147483649L;\n", EI_OK, NULL, NULL},
    {"wide hex gets an L", "h = 0x80000000;\nw = 0xFFFFFFFFFFFF;\n",
     "h = 0x80000000L;\nw = 0xFFFFFFFFFFFFL;\n", EI_OK, NULL, NULL},
    {"an L or LL given stays", "a = 5000000000L; b = 5000000000LL;\n", NULL,
     EI_OK, NULL, NULL},
    {"in lists and arrays", "l = (1, 3000000000, [4000000000]);\n",
     "l = (1, 3000000000L, [4000000000L]);\n", EI_OK, NULL, NULL},
    {"floats are not integers",
     "f = 1e999; g = 3000000000.5; h = -.5e-3; i = 1.; j = 99999999999e1;\n",
     NULL, EI_OK, NULL, NULL},
    {"digits in names, strings and comments are not integers",
     "k3000000000 = \"3000000000\"; # 99999999999999999999999\n"
     "a-3000000000 = 1; // 3000000000\n/* 3000000000\n*/ z = 2;\n",
     NULL, EI_OK, NULL, NULL},
    {"escapes in strings",
     "a = \"q\\\"3000000000\"; b = \"\\\\x00\"; c = \"\\x01\\xff\";\n", NULL,
     EI_OK, NULL, NULL},
    /* where a string ends: after escaped quotes and backslashes, at the
       end of the text; integers after it are scanned again */
    {"the string's end after escapes",
     "a = \"x\\\"\"; b = 3000000000; c = \"\\\\\"; d = 3000000000;\n"
     "e = \"\\\\\\\\\\\\\\\"\"; f = 3000000000;\n",
     "a = \"x\\\"\"; b = 3000000000L; c = \"\\\\\"; d = 3000000000L;\n"
     "e = \"\\\\\\\\\\\\\\\"\"; f = 3000000000L;\n",
     EI_OK, NULL, NULL},
    {"a backslash at the end of the text", "a = \"x\\", NULL, EI_OK, NULL,
     NULL},
    {"a byte libconfig judges before an integer", "a = %3000000000;\n",
     "a = %3000000000L;\n", EI_OK, NULL, NULL},
    {"the 64-bit limits",
     "a = 9223372036854775807; b = -9223372036854775808;\n",
     "a = 9223372036854775807L; b = -9223372036854775808L;\n", EI_OK, NULL,
     NULL},
    {"an unterminated string or comment is left to libconfig",
     "a = \"open\n/* never closed", NULL, EI_OK, NULL, NULL},
    {"NUL byte", "a = 1;\n\nb = 2;\0", NULL, EI_BADDATA, "t.cfg:3",
     "text holds a NUL byte"},
    {"\\x00 in a string", "a = 1;\nb = \"x\\x00y\";\n", NULL, EI_BADDATA,
     "t.cfg:2", "a string holds \\x00"},
    {"\\x00 after an escaped quote", "a = \"\\\"\\x00\";\n", NULL, EI_BADDATA,
     "t.cfg:1", "a string holds \\x00"},
    {"\\X00 in a string", "b = \"\n\\X00\";\n", NULL, EI_BADDATA, "t.cfg:2",
     "a string holds \\x00"},
    {"saturating 64-bit integer", "a = 99999999999999999999999999L;\n", NULL,
     EI_BADDATA, "t.cfg:1", "an integer of 26 characters is out of the 64-bit"},
    {"plain integer past 64 bits", "\na = 9223372036854775808;\n", NULL,
     EI_BADDATA, "t.cfg:2", "out of the 64-bit range"},
    {"negative past 64 bits", "a = -9223372036854775809L;\n", NULL, EI_BADDATA,
     "t.cfg:1", "out of the 64-bit range"},
    {"hex past 63 bits", "a = 0x8000000000000000;\n", NULL, EI_BADDATA,
     "t.cfg:1", "out of the 64-bit range"},
    {"hex past 64 bits", "a = 0x1FFFFFFFFFFFFFFFF;\n", NULL, EI_BADDATA,
     "t.cfg:1", "out of the 64-bit range"},
    /* libconfig reads 0010 as 10: leading zeros are not digits that count */
    {"leading zeros are not out of range",
     "a = "
     "0000000000000000000000000000000000000000000000000000000000000000001;\n"
     "h = 0x000000000000000000000000000000000000000000000000000000000000001;\n",
     NULL, EI_OK, NULL, NULL},
    {"leading zeros before a wide integer",
     "a = "
     "-00000000000000000000000000000000000000000000000000000000002147483649;"
     "\n",
     "a = "
     "-00000000000000000000000000000000000000000000000000000000002147483649L;"
     "\n",
     EI_OK, NULL, NULL},
    {"leading zeros before an integer past 64 bits",
     "a = "
     "000000000000000000000000000000000000000000000009223372036854775808;\n",
     NULL, EI_BADDATA, "t.cfg:1", "out of the 64-bit range"},
    {"a literal longer than any number",
     "a = "
     "1000000000000000000000000000000000000000000000000000000000000000000;\n",
     NULL, EI_BADDATA, "t.cfg:1", "out of the 64-bit range"},
    /* libconfig wants one type in an array: one wide integer widens all */
    {"an array with one wide integer widens every one",
     "a = [2147483648, 1, -2];\nb = [1, 0x1, 2147483648L];\nc = [1, 2];\n",
     "a = [2147483648L, 1L, -2L];\nb = [1L, 0x1L, 2147483648L];\n"
     "c = [1, 2];\n",
     EI_OK, NULL, NULL},
    {"an array read again keeps its lines, comments and strings",
     "a = [1, # [9] x = 1\n 2, 3000000000];\nb = \"]\";\nc = [1];\n",
     "a = [1L, # [9] x = 1\n 2L, 3000000000L];\nb = \"]\";\nc = [1];\n", EI_OK,
     NULL, NULL},
    {"an error after an array read again is on its line",
     "a = [1,\n 3000000000];\nb = 1e;\nc = \"x\\x00\";\n", NULL, EI_BADDATA,
     "t.cfg:4", "a string holds \\x00"},
    {"many arrays of small integers with a wide one",
     "a = [1,1,1,1,1,1,1,1,1,1,1,1,1,1,2147483648];\nb = [1,1,1,2147483648];\n",
     "a = [1L,1L,1L,1L,1L,1L,1L,1L,1L,1L,1L,1L,1L,1L,2147483648L];\n"
     "b = [1L,1L,1L,2147483648L];\n",
     EI_OK, NULL, NULL},
};

static void run_case(void **state)
{
    const struct scan_case *c = *state;
    size_t len = strlen(c->text);
    if (c->status == EI_BADDATA && strstr(c->name, "NUL") == c->name)
        len += 1; /* the text's own NUL is the one to find */
    char *out = NULL;
    size_t out_len = 0;
    struct ei_error err = {0};
    enum ei_status st = ei_cfgscan(c->text, len, "t.cfg", &out, &out_len, &err);
    if (st != c->status)
        fail_msg("%s: status %d, want %d (%s)", c->name, (int)st,
                 (int)c->status, err.text);
    if (st != EI_OK) {
        assert_null(out);
        assert_string_equal(err.locator, c->locator);
        if (strstr(err.text, c->err_text) == NULL)
            fail_msg("%s: text \"%s\" lacks \"%s\"", c->name, err.text,
                     c->err_text);
        return;
    }
    const char *want = c->want != NULL ? c->want : c->text;
    assert_int_equal(out_len, strlen(want));
    assert_string_equal(out, want);
    ei_cfgscan_free(out, out_len);
}

/* Write n named settings: groups of at most 100, so that libconfig would
   read them fast; the limit counts settings, not their layout.  Every
   '=' and ':' inside strings and comments must not count. */
static char *settings_text(size_t n)
{
    size_t cap = n * 64 + 64, o = 0;
    char *t = malloc(cap);
    assert_non_null(t);
    size_t written = 0, group = 0;
    while (written < n) {
        o += (size_t)snprintf(t + o, cap - o, "g%zu = {\n", group++);
        written++;
        for (size_t k = 0; k < 99 && written < n; k++, written++)
            o += (size_t)snprintf(t + o, cap - o,
                                  "  k%zu : \"a=b:c\"; # x = y\n", k);
        o += (size_t)snprintf(t + o, cap - o, "};\n");
        assert_true(o < cap);
    }
    return t;
}

static void test_settings_limit(void **state)
{
    (void)state;
    char *ok = settings_text(EI_CFGSCAN_MAX_SETTINGS);
    char *out = NULL;
    size_t out_len = 0;
    struct ei_error err = {0};
    assert_int_equal(
        ei_cfgscan(ok, strlen(ok), "big.cfg", &out, &out_len, &err), EI_OK);
    assert_string_equal(out, ok);
    ei_cfgscan_free(out, out_len);
    free(ok);

    char *big = settings_text(EI_CFGSCAN_MAX_SETTINGS + 1);
    out = NULL;
    assert_int_equal(
        ei_cfgscan(big, strlen(big), "big.cfg", &out, &out_len, &err),
        EI_BADDATA);
    assert_null(out);
    /* the 10,001st setting opens group 101; a group of 100 settings
       takes 101 lines (its opening line is a setting, "};" is not) */
    char want_loc[32];
    snprintf(want_loc, sizeof want_loc, "big.cfg:%d", 100 * 101 + 1);
    assert_string_equal(err.locator, want_loc);
    assert_non_null(strstr(err.text, "more than 10000 settings"));
    assert_non_null(strstr(err.text, "use JSON or dotenv"));
    free(big);
}

static void test_no_file_name(void **state)
{
    (void)state;
    char *out = NULL;
    size_t out_len = 0;
    struct ei_error err = {0};
    assert_int_equal(
        ei_cfgscan("a = \"\\x00\";", 11, NULL, &out, &out_len, &err),
        EI_BADDATA);
    assert_string_equal(err.locator, "config:1");
    ei_cfgscan_free(NULL, 0);
}

int main(void)
{
    static struct CMUnitTest tests[ARRAY_LEN(cases) + 2];
    size_t k = 0;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        tests[k++] = (struct CMUnitTest){cases[i].name, run_case, NULL, NULL,
                                         (void *)&cases[i]};
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_settings_limit);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_no_file_name);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
