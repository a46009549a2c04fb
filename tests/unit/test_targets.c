/* SPDX-License-Identifier: MIT */
/* Unit tests of the writers for other programs' readers: what each one
   writes, and what it refuses, byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "targets.h"

/* The buffer's bytes as one string (the caller frees it). */
static char *text(struct obuf *b)
{
    size_t n = 0;
    for (const struct ob_block *t = b->head; t != NULL; t = t->next)
        n += t->len;
    char *s = malloc(n + 1);
    assert_non_null(s);
    n = 0;
    for (const struct ob_block *t = b->head; t != NULL; t = t->next) {
        memcpy(s + n, t->data, t->len);
        n += t->len;
    }
    s[n] = '\0';
    return s;
}

typedef int (*writer)(struct obuf *, const char *, const char *, size_t,
                      struct ei_error *);

static int yaml_writer(struct obuf *b, const char *key, const char *v,
                       size_t n, struct ei_error *err)
{
    return ei_target_yaml_string(b, key, v, n, err);
}

struct wcase {
    const char *name;
    writer w;
    const char *key;
    const char *in;
    const char *want;    /* NULL: refused */
    const char *message; /* refused: the error message */
};

static const struct wcase wcases[] = {
    {"docker: verbatim, quotes and spaces kept", ei_target_docker, "K",
     " 'a' \"b\" $c \\d ", "K= 'a' \"b\" $c \\d \n", NULL},
    {"docker: = in the value", ei_target_docker, "K", "a=b", "K=a=b\n", NULL},
    {"docker: a CR inside is kept", ei_target_docker, "K", "a\rb", "K=a\rb\n",
     NULL},
    {"docker: newline refused", ei_target_docker, "K", "a\nb", NULL,
     "K: value holds a newline, which an env-file cannot hold; use "
     "--format=json"},
    {"docker: final CR refused", ei_target_docker, "K", "a\r", NULL,
     "K: value holds a final carriage return, which Docker drops; use "
     "--format=json"},
    {"docker: not UTF-8 refused", ei_target_docker, "K", "caf\xe9", NULL,
     "K: value holds bytes that are not UTF-8, which Docker refuses; use "
     "--format=shell"},
    {"docker: a key with a space refused", ei_target_docker, "A B", "x", NULL,
     "key 'A B' is not a name that docker reads ([A-Za-z_][A-Za-z0-9_]*)"},
    {"systemd: the four escapes", ei_target_systemd, "K", "\"\\`$",
     "K=\"\\\"\\\\\\`\\$\"\n", NULL},
    {"systemd: newline, tab and ' raw", ei_target_systemd, "K", "a\nb\tc'",
     "K=\"a\nb\tc'\"\n", NULL},
    {"systemd: trailing spaces kept inside quotes", ei_target_systemd, "K",
     "x  ", "K=\"x  \"\n", NULL},
    {"systemd: not UTF-8 refused", ei_target_systemd, "K", "\xff", NULL,
     "K: value holds bytes that are not UTF-8, which systemd refuses; use "
     "--format=shell"},
    {"systemd: a key starting with a digit refused", ei_target_systemd, "1K",
     "x", NULL,
     "key '1K' is not a name that systemd reads ([A-Za-z_][A-Za-z0-9_]*)"},
    {"yaml: quote and backslash escaped", yaml_writer, "K", "a\"b\\c",
     "\"a\\\"b\\\\c\"", NULL},
    {"yaml: controls", yaml_writer, "K", "\n\t\r\x01\x7f",
     "\"\\n\\t\\r\\x01\\x7F\"", NULL},
    {"yaml: NEL and C1", yaml_writer, "K", "\xc2\x85\xc2\x9f\xc2\xa0",
     "\"\\x85\\x9F\xc2\xa0\"", NULL},
    {"yaml: line and paragraph separators", yaml_writer, "K",
     "\xe2\x80\xa8\xe2\x80\xa9", "\"\\u2028\\u2029\"", NULL},
    {"yaml: BOM and non-characters", yaml_writer, "K",
     "\xef\xbb\xbf\xef\xbf\xbe\xef\xbf\xbf\xef\xbf\xbd",
     "\"\\uFEFF\\uFFFE\\uFFFF\xef\xbf\xbd\"", NULL},
    {"yaml: 4-byte UTF-8 raw", yaml_writer, "K", "\xf0\x9f\x98\x80",
     "\"\xf0\x9f\x98\x80\"", NULL},
    {"yaml: YAML 1.1 words stay strings", yaml_writer, "K", "yes",
     "\"yes\"", NULL},
    {"yaml: a surrogate is not UTF-8", yaml_writer, "K", "\xed\xa0\x80", NULL,
     "K: value holds bytes that are not UTF-8, which YAML cannot hold; use "
     "--format=shell"},
};

static void test_writers(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(wcases) / sizeof(wcases[0]); i++) {
        const struct wcase *c = &wcases[i];
        struct obuf b = {0};
        struct ei_error err = {0};
        int rc = c->w(&b, c->key, c->in, strlen(c->in), &err);
        char *got = text(&b);
        if (c->want != NULL) {
            if (rc != 0 || strcmp(got, c->want) != 0)
                fail_msg("%s: rc %d, got [%s] want [%s] (%s)", c->name, rc,
                         got, c->want, err.text);
        } else {
            if (rc != -1 || err.status != EI_BADDATA ||
                strcmp(err.text, c->message) != 0)
                fail_msg("%s: rc %d, status %d, message [%s]", c->name, rc,
                         err.status, err.text);
        }
        free(got);
        ob_free(&b);
    }
}

static void test_yaml_keys(void **state)
{
    (void)state;
    static const char *const rows[][2] = {
        {"DB_HOST", "DB_HOST: "}, {"ON", "\"ON\": "},   {"y", "\"y\": "},
        {"Null", "\"Null\": "},   {"No", "\"No\": "},   {"_x", "_x: "},
        {"a.b", "\"a.b\": "},     {"YESS", "YESS: "}, {"a:b", "\"a:b\": "},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct obuf b = {0};
        struct ei_error err = {0};
        assert_int_equal(ei_target_yaml_key(&b, rows[i][0], &err), 0);
        char *got = text(&b);
        assert_string_equal(got, rows[i][1]);
        free(got);
        ob_free(&b);
    }
}

static void test_base64(void **state)
{
    (void)state;
    static const char *const rows[][2] = {
        {"", "\"\""},         {"f", "\"Zg==\""},         {"fo", "\"Zm8=\""},
        {"foo", "\"Zm9v\""}, {"foob", "\"Zm9vYg==\""}, {"foobar", "\"Zm9vYmFy\""},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct obuf b = {0};
        assert_int_equal(ei_target_base64(&b, rows[i][0], strlen(rows[i][0])),
                         0);
        char *got = text(&b);
        assert_string_equal(got, rows[i][1]);
        free(got);
        ob_free(&b);
    }
}

static void test_k8s_names(void **state)
{
    (void)state;
    char long_name[255];
    memset(long_name, 'a', 253);
    long_name[253] = '\0';
    assert_true(ei_target_k8s_name_ok("prod"));
    assert_true(ei_target_k8s_name_ok("my-app.prod-1"));
    assert_true(ei_target_k8s_name_ok("1"));
    assert_true(ei_target_k8s_name_ok(long_name));
    long_name[253] = 'a';
    long_name[254] = '\0';
    assert_false(ei_target_k8s_name_ok(long_name));
    assert_false(ei_target_k8s_name_ok(""));
    assert_false(ei_target_k8s_name_ok("Prod"));
    assert_false(ei_target_k8s_name_ok("my_app"));
    assert_false(ei_target_k8s_name_ok("-app"));
    assert_false(ei_target_k8s_name_ok("app-"));
    assert_false(ei_target_k8s_name_ok("a..b"));
    assert_false(ei_target_k8s_name_ok("a.-b"));
    assert_false(ei_target_k8s_name_ok(".a"));

    assert_true(ei_target_k8s_key_ok("DB_HOST"));
    assert_true(ei_target_k8s_key_ok("a-b.c_d"));
    assert_true(ei_target_k8s_key_ok(".hidden"));
    assert_false(ei_target_k8s_key_ok("."));
    assert_false(ei_target_k8s_key_ok(".."));
    assert_false(ei_target_k8s_key_ok("..x"));
    assert_false(ei_target_k8s_key_ok("a/b"));
    assert_false(ei_target_k8s_key_ok("a b"));
    assert_false(ei_target_k8s_key_ok(""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writers),
        cmocka_unit_test(test_yaml_keys),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_k8s_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
