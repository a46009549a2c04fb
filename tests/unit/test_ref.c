/* SPDX-License-Identifier: MIT */
/* Unit tests of ref: finding references with vals's syntax (its README's
   examples), query parameters, malformed references, and the pick of a
   fragment out of JSON and YAML. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ref.h"

struct find_case {
    const char *name;
    const char *in;
    int want;               /* what ei_ref_next returns */
    const char *want_parts; /* "start-end|scheme|path|query|fragment" */
    const char *why;        /* part of the reason when malformed */
};

/* "-" marks an absent query or fragment */
static const struct find_case finds[] = {
    /* vals's README examples */
    {"vault", "ref+vault://secret/data/foo?proto=http#/mykey", 1,
     "0-45|vault|secret/data/foo|proto=http|/mykey", NULL},
    {"vault address",
     "ref+vault://mykv/foo?address=https://vault1.example.com:8200#/bar", 1,
     "0-65|vault|mykv/foo|address=https://vault1.example.com:8200|/bar", NULL},
    {"awsssm", "ref+awsssm://myteam/mykey", 1, "0-25|awsssm|myteam/mykey|-|-",
     NULL},
    {"awsssm region", "ref+awsssm://myteam/mykey?region=us-west-2", 1,
     "0-42|awsssm|myteam/mykey|region=us-west-2|-", NULL},
    {"awsssm doc", "ref+awsssm://myteam/mydoc#/foo/bar", 1,
     "0-34|awsssm|myteam/mydoc|-|/foo/bar", NULL},
    {"awssecrets", "ref+awssecrets://myteam/mydoc#/foo/bar", 1,
     "0-38|awssecrets|myteam/mydoc|-|/foo/bar", NULL},
    {"azurekeyvault", "ref+azurekeyvault://my-vault/secret-a", 1,
     "0-37|azurekeyvault|my-vault/secret-a|-|-", NULL},
    {"file yaml", "ref+file://some.yaml#/foo/bar", 1,
     "0-29|file|some.yaml|-|/foo/bar", NULL},
    {"file absolute", "ref+file:///home/foo/bar", 1,
     "0-24|file|/home/foo/bar|-|-", NULL},
    {"secretref", "secretref+awssecrets://mysecret/value", 1,
     "0-37|awssecrets|mysecret/value|-|-", NULL},
    /* the explicit end: "foo ref+SECRET1+ ref+SECRET2+ bar" */
    {"embedded with +", "postgres://u:ref+vault://db#/password+@host", 1,
     "13-38|vault|db|-|/password", NULL},
    {"ends at a blank", "foo ref+echo://a/b bar", 1, "4-18|echo|a/b|-|-", NULL},
    {"trailing quote and comma are not part of it", "x=\"ref+echo://a\",", 1,
     "3-15|echo|a|-|-", NULL},
    {"no reference", "plain text", 0, NULL, NULL},
    {"ref+ without ://", "ref+vault:secret", 0, NULL, NULL},
    {"no scheme", "ref+://x", 0, NULL, NULL},
    {"ref alone", "ref+", 0, NULL, NULL},
    {"scheme with a blank", "ref+my scheme://x", 0, NULL, NULL},
    /* malformed */
    {"empty path", "ref+vault://#/x", -1, NULL, "empty path"},
    {"empty fragment", "ref+vault://a#", -1, NULL, "empty fragment"},
    {"fragment only /", "ref+vault://a#/", -1, NULL, "empty fragment"},
    {"query without =", "ref+vault://a?version#/x", -1, NULL, "NAME=VALUE"},
    {"query with empty name", "ref+vault://a?=1", -1, NULL, "NAME=VALUE"},
    {"trailing &", "ref+vault://a?x=1&", -1, NULL, "NAME=VALUE"},
    {"control character",
     "ref+vault://a\x01"
     "b",
     -1, NULL, "control"},
};

static void test_find(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(finds) / sizeof(finds[0]); i++) {
        const struct find_case *c = &finds[i];
        struct ei_ref ref;
        const char *why = NULL;
        int got = ei_ref_next(c->in, strlen(c->in), 0, &ref, &why);
        if (got != c->want)
            fail_msg("%s: got %d, want %d", c->name, got, c->want);
        if (got < 0) {
            assert_non_null(why);
            if (strstr(why, c->why) == NULL)
                fail_msg("%s: reason '%s' lacks '%s'", c->name, why, c->why);
            continue;
        }
        if (got == 0)
            continue;
        char parts[256];
        snprintf(parts, sizeof(parts), "%zu-%zu|%.*s|%.*s|%.*s|%.*s", ref.start,
                 ref.end, (int)ref.scheme_len, ref.scheme, (int)ref.path_len,
                 ref.path, ref.query != NULL ? (int)ref.query_len : 1,
                 ref.query != NULL ? ref.query : "-",
                 ref.fragment != NULL ? (int)ref.fragment_len : 1,
                 ref.fragment != NULL ? ref.fragment : "-");
        if (strcmp(parts, c->want_parts) != 0)
            fail_msg("%s: got %s, want %s", c->name, parts, c->want_parts);
    }
}

/* "foo ref+SECRET1+ ref+SECRET2+ bar": two references, one after the
   other, and the text between them kept. */
static void test_two_in_a_row(void **state)
{
    (void)state;
    const char *s = "foo ref+echo://one+ ref+echo://two+ bar";
    struct ei_ref a, b;
    const char *why;
    assert_int_equal(ei_ref_next(s, strlen(s), 0, &a, &why), 1);
    assert_int_equal(ei_ref_next(s, strlen(s), a.end, &b, &why), 1);
    assert_int_equal(a.start, 4);
    assert_int_equal(a.end, 19);
    assert_int_equal(b.start, 20);
    assert_int_equal(b.end, 35);
    assert_int_equal(ei_ref_next(s, strlen(s), b.end, &b, &why), 0);
}

static void test_params(void **state)
{
    (void)state;
    const char *s = "ref+awssecrets://x?region=us-west-2&version_stage=A%20B";
    struct ei_ref ref;
    const char *why;
    char out[32];
    assert_int_equal(ei_ref_next(s, strlen(s), 0, &ref, &why), 1);
    assert_int_equal(ei_ref_param(&ref, "region", out, sizeof(out)), 1);
    assert_string_equal(out, "us-west-2");
    assert_int_equal(ei_ref_param(&ref, "version_stage", out, sizeof(out)), 1);
    assert_string_equal(out, "A B");
    assert_int_equal(ei_ref_param(&ref, "version_id", out, sizeof(out)), 0);
    assert_int_equal(ei_ref_param(&ref, "region", out, 4), -1);
    static const char *const known[] = {"region", NULL};
    const char *bad = NULL;
    size_t bad_len = 0;
    assert_false(ei_ref_params_known(&ref, known, &bad, &bad_len));
    assert_int_equal(bad_len, strlen("version_stage"));
    assert_memory_equal(bad, "version_stage", bad_len);
    const char *enc = "ref+x://p?a=%4";
    assert_int_equal(ei_ref_next(enc, strlen(enc), 0, &ref, &why), 1);
    assert_int_equal(ei_ref_param(&ref, "a", out, sizeof(out)), -1);
    const char *nul = "ref+x://p?a=%00";
    assert_int_equal(ei_ref_next(nul, strlen(nul), 0, &ref, &why), 1);
    assert_int_equal(ei_ref_param(&ref, "a", out, sizeof(out)), -1);
}

struct pick_case {
    const char *name;
    const char *ref;
    const char *answer;
    enum ei_status want_status;
    const char *want;
};

static const struct pick_case picks[] = {
    /* vals: {"foo":{"bar":"BAR"}} and #/foo/bar give BAR */
    {"json member", "ref+file://some.json#/foo/bar",
     "{\"foo\":{\"bar\":\"BAR\"}}", EI_OK, "BAR"},
    {"without the leading /", "ref+vault://s#foo/bar",
     "{\"foo\":{\"bar\":\"BAR\"}}", EI_OK, "BAR"},
    {"object as compact JSON", "ref+vault://s#/foo",
     "{\"foo\": {\"bar\": \"BAR\"}}", EI_OK, "{\"bar\":\"BAR\"}"},
    {"number", "ref+vault://s#/n", "{\"n\":5432}", EI_OK, "5432"},
    {"boolean", "ref+vault://s#/b", "{\"b\":true}", EI_OK, "true"},
    {"null", "ref+vault://s#/z", "{\"z\":null}", EI_OK, ""},
    {"array index", "ref+vault://s#/l/1", "{\"l\":[\"a\",\"b\"]}", EI_OK, "b"},
    {"percent-encoded member", "ref+vault://s#/a%2Fb", "{\"a/b\":\"x\"}", EI_OK,
     "x"},
    {"yaml", "ref+file://some.yaml#/foo/bar", "foo:\n  bar: BAR\n", EI_OK,
     "BAR"},
    {"missing member", "ref+vault://s#/nope", "{\"a\":1}", EI_NOTFOUND, NULL},
    {"index past the end", "ref+vault://s#/l/2", "{\"l\":[1,2]}", EI_NOTFOUND,
     NULL},
    {"index with a leading zero", "ref+vault://s#/l/01", "{\"l\":[1,2]}",
     EI_NOTFOUND, NULL},
    {"into a string", "ref+vault://s#/a/b", "{\"a\":\"x\"}", EI_NOTFOUND, NULL},
    {"empty segment", "ref+vault://s#/a//b", "{\"a\":{}}", EI_BADCONFIG, NULL},
    {"trailing slash", "ref+vault://s#/a/", "{\"a\":{}}", EI_BADCONFIG, NULL},
    {"not a document", "ref+vault://s#/a", "just: [text", EI_BADDATA, NULL},
};

static void test_pick(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(picks) / sizeof(picks[0]); i++) {
        const struct pick_case *c = &picks[i];
        struct ei_ref ref;
        const char *why;
        assert_int_equal(ei_ref_next(c->ref, strlen(c->ref), 0, &ref, &why), 1);
        char *out = NULL;
        size_t out_len = 0;
        struct ei_error err = {0};
        enum ei_status st = ei_ref_pick(&ref, c->answer, strlen(c->answer),
                                        &out, &out_len, &err);
        if (st != c->want_status)
            fail_msg("%s: status %d, want %d (%s)", c->name, st, c->want_status,
                     err.text);
        if (st == EI_OK) {
            assert_non_null(out);
            if (strcmp(out, c->want) != 0 || out_len != strlen(c->want))
                fail_msg("%s: got '%s', want '%s'", c->name, out, c->want);
        } else {
            assert_null(out);
            /* the message never quotes the data */
            assert_null(strstr(err.text, "BAR"));
        }
        free(out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_two_in_a_row),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_pick),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
