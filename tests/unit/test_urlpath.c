/* SPDX-License-Identifier: MIT */
/* Unit tests of providers/common/urlpath: the hex digit and percent-escape
   decoder that ref.c, http.c, sigv4.c, sts.c and ejson.c share, and the
   encoder of request paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "urlpath.h"

/* Every byte: the 22 digits have their value, the 234 others are -1. */
static void test_hex_digit_every_byte(void **state)
{
    (void)state;
    static const char digits[] = "0123456789abcdef";
    for (int c = 0; c < 256; c++) {
        int want = -1;
        const char *d = c != 0 ? strchr(digits, c) : NULL;
        if (d == NULL && c >= 'A' && c <= 'F')
            d = strchr(digits, c - 'A' + 'a');
        if (d != NULL)
            want = (int)(d - digits);
        assert_int_equal(ei_hex_digit((unsigned char)c), want);
    }
}

struct pct_case {
    const char *name;
    const char *in;
    size_t n; /* bytes left from in on */
    int want;
};

static const struct pct_case pct_cases[] = {
    {"upper", "%2F", 3, 0x2f},
    {"lower", "%2f", 3, 0x2f},
    {"mixed-case", "%aB", 3, 0xab},
    {"nul", "%00", 3, 0},
    {"high-byte", "%FF", 3, 0xff},
    {"more-after", "%41BC", 5, 'A'},
    {"bad-first-digit", "%G1", 3, -1},
    {"bad-second-digit", "%1g", 3, -1},
    {"blank-digit", "% 1", 3, -1},
    {"sign-digit", "%+1", 3, -1},
    {"nul-digit", "%4\0", 3, -1},
    {"truncated-two", "%4", 2, -1},
    {"truncated-one", "%", 1, -1},
    {"truncated-by-n", "%41", 2, -1},
    {"empty", "", 0, -1},
    {"no-percent", "A41", 3, -1},
};

static void test_pct_byte(void **state)
{
    const struct pct_case *c = *state;
    assert_int_equal(ei_pct_byte(c->in, c->n), c->want);
}

/* Encoding keeps the unreserved characters and '/', writes the rest as
   upper-case %XX (which ei_pct_byte reads back), and refuses what does
   not fit. */
static void test_url_append(void **state)
{
    (void)state;
    char url[16] = "/v1/";
    size_t len = strlen(url);
    assert_int_equal(ei_url_append(url, sizeof url, &len, "a b/~\xff", true),
                     0);
    assert_string_equal(url, "/v1/a%20b/~%FF");
    assert_int_equal(len, strlen(url));
    assert_int_equal(ei_pct_byte(url + 5, len - 5), ' ');
    assert_int_equal(ei_pct_byte(url + 11, len - 11), 0xff);
    assert_int_equal(ei_url_append(url, sizeof url, &len, "!", true), -1);
    len = 0;
    assert_int_equal(ei_url_append(url, sizeof url, &len, "a b", false), 0);
    assert_string_equal(url, "a b");
}

#define PCT_N (sizeof pct_cases / sizeof pct_cases[0])

int main(void)
{
    struct CMUnitTest tests[PCT_N + 2];
    size_t t = 0;
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_hex_digit_every_byte);
    for (size_t i = 0; i < PCT_N; i++, t++) {
        tests[t] = (struct CMUnitTest)cmocka_unit_test(test_pct_byte);
        tests[t].name = pct_cases[i].name;
        tests[t].initial_state = (void *)&pct_cases[i];
    }
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_url_append);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
