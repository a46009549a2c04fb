/* SPDX-License-Identifier: MIT */
/* Unit tests of the audit record reader (src/auditread.c): one case per
   kind of malformed record, each a one-line error naming the line; the
   last line kept, keys sorted, members this version does not know
   ignored; files and standard input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "auditread.h"
#include "diag.h"

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define H63 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde"
#define HEAD_NO_TIME                                                           \
    "\"version\":1,\"environment\":\"prod\",\"host\":\"h\","                   \
    "\"program\":null,\"config_sha256\":null,"
#define HEAD HEAD_NO_TIME "\"time\":\"2026-12-07T03:04:05Z\","
#define ID     "\"key_id\":\"0123456789abcdef\","
#define LAYERS "\"layers\":[{\"name\":\"d\",\"provider\":\"file\",\"revision\":null}],"
#define KEY(n, h) "{\"name\":\"" n "\",\"layer\":\"d\",\"hash\":\"" h "\"}"
#define KEYS(k)   "\"keys\":[" k "]"
/* a record whose members are given; REC_KEYS: a valid one but its keys */
#define REC(members)  "{" members "}"
#define REC_KEYS(k)   REC(HEAD ID LAYERS KEYS(k))
#define GOOD          REC_KEYS(KEY("A", H64))

struct bad_case {
    const char *text;
    size_t len; /* 0: strlen */
    const char *locator;
    const char *why; /* the text after "not an audit record: ", or the
                        whole text when it does not start so */
};

static const struct bad_case bad_cases[] = {
    /* not JSON, or not an object */
    {"{\"version\":1", 0, "f:1", "not JSON (column 12)"},
    {"[1]", 0, "f:1", "not a JSON object"},
    {"{\"version\":1,\"version\":1}", 0, "f:1", "not JSON (column 22)"},
    {"{\"version\":1}\0{", 15, "f:1", "a NUL byte"},
    /* the version */
    {REC("\"time\":\"t\""), 0, "f:1", "no \"version\""},
    {REC("\"version\":2"), 0, "f:1",
     "\"version\" is not 1 (this envinject reads version 1 records)"},
    {REC("\"version\":\"1\""), 0, "f:1",
     "\"version\" is not 1 (this envinject reads version 1 records)"},
    /* missing fields, and fields of another type */
    {REC(HEAD_NO_TIME ID LAYERS KEYS("")), 0, "f:1", "no \"time\""},
    {REC(HEAD ID LAYERS "\"x\":1"), 0, "f:1", "no \"keys\""},
    {REC(HEAD ID KEYS("")), 0, "f:1", "no \"layers\""},
    {REC(HEAD LAYERS KEYS("")), 0, "f:1", "no \"key_id\""},
    {REC("\"version\":1,\"time\":\"t\",\"environment\":\"e\","
         "\"program\":null,\"config_sha256\":null," ID LAYERS KEYS("")),
     0, "f:1", "no \"host\""},
    {REC("\"version\":1,\"time\":\"t\",\"environment\":\"e\",\"host\":\"h\","
         "\"program\":5,\"config_sha256\":null," ID LAYERS KEYS("")),
     0, "f:1", "\"program\" is not a string or null"},
    {REC("\"version\":1,\"time\":\"\",\"environment\":\"e\",\"host\":\"h\","
         "\"program\":null,\"config_sha256\":null," ID LAYERS KEYS("")),
     0, "f:1", "\"time\" is empty"},
    {REC("\"version\":1,\"time\":\"t\",\"environment\":null,\"host\":\"h\","
         "\"program\":null,\"config_sha256\":null," ID LAYERS KEYS("")),
     0, "f:1", "\"environment\" is not a string"},
    {REC(HEAD ID "\"layers\":{}," KEYS("")), 0, "f:1",
     "\"layers\" is not an array"},
    {REC(HEAD ID "\"layers\":[1]," KEYS("")), 0, "f:1",
     "\"layers[0]\" is not an object"},
    {REC(HEAD ID "\"layers\":[{\"name\":\"d\",\"provider\":\"file\","
                 "\"revision\":7}]," KEYS("")),
     0, "f:1", "\"layers[0].revision\" is not a string or null"},
    {REC(HEAD ID "\"layers\":[{\"name\":\"d\",\"revision\":null}]," KEYS("")),
     0, "f:1", "no \"layers[0].provider\""},
    {REC_KEYS("1"), 0, "f:1", "\"keys[0]\" is not an object"},
    {REC_KEYS(KEY("A", H64) ",{\"name\":\"B\",\"hash\":\"" H64 "\"}"), 0,
     "f:1", "no \"keys[1].layer\""},
    {REC_KEYS("{\"name\":\"B\",\"layer\":\"d\",\"hash\":null}"), 0, "f:1",
     "\"keys[0].hash\" is not a string"},
    /* bad hex, bad names */
    {REC(HEAD "\"key_id\":\"0123456789ABCDEF\"," LAYERS KEYS("")), 0, "f:1",
     "\"key_id\" is not 16 lowercase hex digits"},
    {REC(HEAD "\"key_id\":\"0123\"," LAYERS KEYS("")), 0, "f:1",
     "\"key_id\" is not 16 lowercase hex digits"},
    {REC("\"version\":1,\"time\":\"t\",\"environment\":\"e\",\"host\":\"h\","
         "\"program\":null,\"config_sha256\":\"abc\"," ID LAYERS KEYS("")),
     0, "f:1", "\"config_sha256\" is not 64 lowercase hex digits or null"},
    {REC_KEYS(KEY("A", H63)), 0, "f:1",
     "\"keys[0].hash\" is not 64 lowercase hex digits"},
    {REC_KEYS(KEY("A", "0123456789ABCDEF0123456789abcdef0123456789abcdef"
                       "0123456789abcdef")),
     0, "f:1", "\"keys[0].hash\" is not 64 lowercase hex digits"},
    {REC_KEYS(KEY("A", H64) "," KEY("1X", H64)), 0, "f:1",
     "\"keys[1].name\" is not a key name"},
    {REC_KEYS(KEY("A-B", H64)), 0, "f:1", "\"keys[0].name\" is not a key name"},
    /* a key twice */
    {REC_KEYS(KEY("B", H64) "," KEY("A", H64) "," KEY("B", H64)), 0, "f:1",
     "key B appears twice"},
    /* the last line is the record, and is named */
    {GOOD "\n" GOOD "\n[]\n", 0, "f:3", "not a JSON object"},
    {GOOD "\n" GOOD "\n\n", 0, "f:3", "empty line"},
    {"", 0, "f", "no audit record (the file is empty)"},
    {"\n", 0, "f", "no audit record (the file is empty)"},
};

static void test_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad_case *c = &bad_cases[i];
        size_t len = c->len != 0 ? c->len : strlen(c->text);
        struct ei_error err = {0};
        struct ei_audit_record *r =
            ei_audit_record_parse(c->text, len, "f", &err);
        char want[EI_ERR_TEXT_LEN];
        if (strncmp(c->why, "no audit", 8) == 0)
            snprintf(want, sizeof(want), "%s", c->why);
        else
            snprintf(want, sizeof(want), "not an audit record: %s", c->why);
        if (r != NULL || strcmp(err.text, want) != 0 ||
            strcmp(err.locator, c->locator) != 0)
            print_message("# case %zu: %s: %s\n", i, err.locator, err.text);
        assert_null(r);
        assert_int_equal(err.status, EI_BADDATA);
        assert_int_equal(ei_exit_code(err.status), 65);
        assert_string_equal(err.locator, c->locator);
        assert_string_equal(err.text, want);
    }
}

static void test_good(void **state)
{
    (void)state;
    /* the keys out of order, a member of a later version, a revision */
    static const char one[] =
        "{\"version\":1,\"time\":\"2026-12-07T03:04:05Z\",\"environment\":"
        "\"\",\"host\":\"h\",\"program\":\"app\",\"config_sha256\":\"" H64
        "\"," ID "\"layers\":[{\"name\":\"kv\",\"provider\":\"etcd\","
        "\"revision\":\"42\"}],\"keys\":[" KEY("ZED", H64) "," KEY("A_1", H64)
        "," KEY("M", H64) "],\"later\":{\"x\":[1]}}";
    struct ei_error err = {0};
    struct ei_audit_record *r =
        ei_audit_record_parse(one, sizeof(one) - 1, "f", &err);
    assert_non_null(r);
    assert_int_equal(r->line, 1);
    assert_string_equal(r->key_id, "0123456789abcdef");
    assert_string_equal(r->environment, "");
    assert_string_equal(r->time, "2026-12-07T03:04:05Z");
    assert_int_equal(r->keys_n, 3);
    assert_string_equal(r->keys[0].name, "A_1");
    assert_string_equal(r->keys[1].name, "M");
    assert_string_equal(r->keys[2].name, "ZED");
    assert_string_equal(r->keys[2].layer, "d");
    assert_string_equal(r->keys[2].hash, H64);
    assert_ptr_equal(ei_audit_record_get(r, "M"), &r->keys[1]);
    assert_null(ei_audit_record_get(r, "N"));
    ei_audit_record_free(r);

    /* a log: the last line, CRLF and all; no keys at all */
    static const char log[] = GOOD "\r\n" REC_KEYS("") "\r\n";
    r = ei_audit_record_parse(log, sizeof(log) - 1, "f", &err);
    assert_non_null(r);
    assert_int_equal(r->line, 2);
    assert_int_equal(r->keys_n, 0);
    assert_string_equal(r->environment, "prod");
    assert_null(ei_audit_record_get(r, "A"));
    ei_audit_record_free(r);

    /* earlier lines are not read: one torn by a full disk (cut short,
       then the next record on a line of its own), an empty one */
    static const char torn[] = "{\"version\":1,\"ti\n\n[]\n" GOOD "\n";
    r = ei_audit_record_parse(torn, sizeof(torn) - 1, "f", &err);
    assert_non_null(r);
    assert_int_equal(r->line, 4);
    assert_string_equal(r->environment, "prod");
    ei_audit_record_free(r);
    ei_audit_record_free(NULL);
}

static void test_read(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_auditread.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[sizeof(dir) + 16];
    snprintf(path, sizeof(path), "%s/rec.jsonl", dir);

    struct ei_error err = {0};
    assert_null(ei_audit_record_read(path, &err));
    assert_int_equal(ei_exit_code(err.status), 66);

    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(GOOD "\n" REC_KEYS(KEY("B", H64)) "\n", f);
    fclose(f);
    struct ei_error err2 = {0};
    struct ei_audit_record *r = ei_audit_record_read(path, &err2);
    assert_non_null(r);
    assert_int_equal(r->line, 2);
    assert_string_equal(r->keys[0].name, "B");
    ei_audit_record_free(r);

    /* "-": standard input, named so in messages */
    int saved = dup(STDIN_FILENO);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(GOOD "\n{\n", f);
    fclose(f);
    assert_non_null(freopen(path, "r", stdin));
    struct ei_error err3 = {0};
    assert_null(ei_audit_record_read("-", &err3));
    assert_string_equal(err3.locator, "standard input:2");
    assert_int_equal(err3.status, EI_BADDATA);
    dup2(saved, STDIN_FILENO);
    close(saved);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
