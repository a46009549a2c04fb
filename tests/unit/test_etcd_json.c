/* SPDX-License-Identifier: MIT */
/* Unit tests of the etcd JSON range scanner (providers/etcd/json.c): every
   body it accepts, and every truncation and mutation of one, is read again
   with jansson as wire_json.c reads it, and must give the same page. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "etcd/json.h"
#include "etcd_ref.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define BODY(s)      s, sizeof(s) - 1
#define MAX_KVS      4
/* rows longer than this are truncated but not mutated byte by byte */
#define MUTATE_MAX 1024
/* KeyValues of the generated page in test_many, and of the first realloc */
#define MANY_N        10000
#define KVS_FIRST     64
#define DEEP          3000
#define B64_LINE_SIZE 96
#define KEY_SIZE      64
#define VALUE_SIZE    64

/* --- allocation failure through ld --wrap=realloc --- */

void *__real_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n);

/* realloc calls that succeed before one fails; -1: never fail */
static long chaos_countdown = -1;

void *__wrap_realloc(void *p, size_t n)
{
    if (chaos_countdown == 0)
        return NULL;
    if (chaos_countdown > 0)
        chaos_countdown--;
    return __real_realloc(p, n);
}

/* The page must be what wire_json.c would take from jansson's tree. */
static void check_same(const char *name, const char *body, size_t len,
                       const struct etcd_json_page *page)
{
    char why[160];
    if (etcd_ref_compare(body, len, page, why, sizeof(why)) != 0)
        fail_msg("%s: %s (%zu bytes)", name, why, len);
}

/* An accepted row and the page it must give. */
struct want_kv {
    const char *key;
    const char *value; /* NULL: absent or null */
    long long mod_revision;
};

struct good_case {
    const char *name;
    const char *body;
    size_t len;
    long long revision;
    bool more;
    size_t n;
    struct want_kv kv[MAX_KVS];
};

static void check_want(const struct good_case *c,
                       const struct etcd_json_page *page)
{
    assert_int_equal(page->revision, c->revision);
    assert_int_equal(page->more, c->more);
    assert_int_equal(page->n, c->n);
    for (size_t i = 0; i < c->n; i++) {
        const struct etcd_json_kv *kv = &page->kvs[i];
        const struct want_kv *w = &c->kv[i];
        assert_int_equal(kv->key_len, strlen(w->key));
        assert_memory_equal(kv->key, w->key, kv->key_len);
        assert_int_equal(kv->mod_revision, w->mod_revision);
        if (w->value == NULL) {
            assert_null(kv->value);
            assert_int_equal(kv->value_len, 0);
        } else {
            assert_non_null(kv->value);
            assert_int_equal(kv->value_len, strlen(w->value));
            assert_memory_equal(kv->value, w->value, kv->value_len);
        }
    }
}

/* The scanner on an exact-size copy (ASan sees any read past len), and
   whatever it accepts compared with jansson, and with want if given, while
   the copy lives.  Returns what the scanner returned. */
static int scan_check(const char *name, const char *body, size_t len,
                      struct etcd_json_page *page, const struct good_case *want)
{
    char *copy = malloc(len != 0 ? len : 1);
    assert_non_null(copy);
    if (len != 0)
        memcpy(copy, body, len);
    int r = etcd_json_scan(copy, len, page);
    if (r == 1) {
        check_same(name, copy, len, page);
        if (want != NULL)
            check_want(want, page);
    } else {
        assert_int_equal(r, 0);
        assert_int_equal(page->n, 0);
        assert_int_equal(page->revision, 0);
        assert_false(page->more);
    }
    free(copy);
    return r;
}

/* Every strict prefix is declined unless it still holds the final '}',
   which only blanks can follow; every one is differential-checked. */
static void check_truncations(const char *name, const char *body, size_t len,
                              bool good, struct etcd_json_page *page)
{
    size_t close = len;
    while (close > 0 && body[close - 1] != '}')
        close--;
    for (size_t cut = 0; cut < len; cut++) {
        int r = scan_check(name, body, cut, page, NULL);
        if (good && cut < close && r != 0)
            fail_msg("%s: accepted the first %zu of %zu bytes", name, cut, len);
    }
}

/* bytes put in at, and in place of, every offset */
static const char mutation_bytes[] = "\"{}[],:\\ \t\r\n\f\v0129-+.eEaAz=/"
                                     "ntfulrsx\x01\x1f\x7f\x80\xc3\xff";

static void check_mutations(const char *name, const char *body, size_t len,
                            struct etcd_json_page *page)
{
    if (len > MUTATE_MAX)
        return;
    char *buf = malloc(len + 2);
    assert_non_null(buf);
    /* sizeof covers the terminating NUL: a NUL byte is one of them */
    size_t nb = sizeof(mutation_bytes);
    for (size_t i = 0; i <= len; i++) {
        for (size_t b = 0; b < nb; b++) {
            memcpy(buf, body, i);
            buf[i] = mutation_bytes[b];
            memcpy(buf + i + 1, body + i, len - i);
            scan_check(name, buf, len + 1, page, NULL);
            if (i < len) {
                buf[i] = mutation_bytes[b];
                memcpy(buf + i + 1, body + i + 1, len - i - 1);
                scan_check(name, buf, len, page, NULL);
            }
        }
        if (i == len)
            break;
        memcpy(buf, body, i);
        memcpy(buf + i, body + i + 1, len - i - 1);
        scan_check(name, buf, len - 1, page, NULL);
        memcpy(buf, body, len);
        if (i + 1 < len) {
            buf[i] = body[i + 1];
            buf[i + 1] = body[i];
            scan_check(name, buf, len, page, NULL);
        }
    }
    free(buf);
}

/* --- accepted shapes --- */

/* captured from etcd 3.4.23's gateway: a single node's IDs are both above
   LLONG_MAX */
#define GW_HEADER                                                              \
    "{\"header\":{\"cluster_id\":\"14841639068965178418\",\"member_id\":"      \
    "\"10276657743932975437\",\"revision\":\"6\",\"raft_term\":\"2\"}"

static const struct good_case good[] = {
    {"gateway: a page with more",
     BODY(GW_HEADER ",\"kvs\":[{\"key\":\"L2FwcC9h\",\"create_revision\":"
                    "\"2\",\"mod_revision\":\"2\",\"version\":\"1\",\"value\":"
                    "\"aGVsbG8=\"},{\"key\":\"L2FwcC9i\",\"create_revision\":"
                    "\"3\",\"mod_revision\":\"3\",\"version\":\"1\"}],"
                    "\"more\":true,\"count\":\"4\"}"),
     6,
     true,
     2,
     {{"L2FwcC9h", "aGVsbG8=", 2}, {"L2FwcC9i", NULL, 3}}},
    {"gateway: the last page, with a lease",
     BODY(GW_HEADER
          ",\"kvs\":[{\"key\":\"L2FwcC9j\",\"create_revision\":\"4\","
          "\"mod_revision\":\"5\",\"version\":\"2\",\"value\":\"eCB5eg==\"},"
          "{\"key\":\"L2FwcC9k\",\"create_revision\":\"6\",\"mod_revision\":"
          "\"6\",\"version\":\"1\",\"value\":\"bGVhc2Vk\",\"lease\":"
          "\"7587899173884488713\"}],\"count\":\"4\"}"),
     6,
     false,
     2,
     {{"L2FwcC9j", "eCB5eg==", 5}, {"L2FwcC9k", "bGVhc2Vk", 6}}},
    {"gateway: nothing in the range", BODY(GW_HEADER "}"), 6, false, 0, {{0}}},
    {"empty object", BODY("{}"), 0, false, 0, {{0}}},
    {"blanks between every token",
     BODY(" \t\r\n{ \"header\" :\t{ \"revision\" :\n\"7\" } ,\r\"kvs\" : [ "
          "{ \"key\" : \"YQ==\" , \"value\" : \"Yg==\" } , { \"key\":\"Yw==\" "
          "} ] , \"more\" : false } \r\n\t "),
     7,
     false,
     2,
     {{"YQ==", "Yg==", 0}, {"Yw==", NULL, 0}}},
    {"null header, empty kvs",
     BODY("{\"header\":null,\"kvs\":[]}"),
     0,
     false,
     0,
     {{0}}},
    {"null kvs and more",
     BODY("{\"kvs\":null,\"more\":null}"),
     0,
     false,
     0,
     {{0}}},
    {"more true without kvs", BODY("{\"more\":true}"), 0, true, 0, {{0}}},
    {"empty header and kvs",
     BODY("{\"header\":{},\"kvs\":[ ]}"),
     0,
     false,
     0,
     {{0}}},
    {"null and empty values",
     BODY("{\"kvs\":[{\"key\":\"YQ==\",\"value\":null},{\"key\":\"Yg==\","
          "\"value\":\"\"}]}"),
     0,
     false,
     2,
     {{"YQ==", NULL, 0}, {"Yg==", "", 0}}},
    {"plain integers",
     BODY("{\"header\":{\"revision\":42,\"cluster_id\":0,\"member_id\":"
          "9223372036854775807,\"raft_term\":3},\"kvs\":[{\"key\":\"YQ==\","
          "\"mod_revision\":0,\"create_revision\":1,\"version\":9,\"lease\":"
          "0},{\"key\":\"Yg==\",\"mod_revision\":9223372036854775807}],"
          "\"count\":10}"),
     42,
     false,
     2,
     {{"YQ==", NULL, 0}, {"Yg==", NULL, LLONG_MAX}}},
    {"digit strings with leading zeros",
     BODY("{\"header\":{\"revision\":\"0042\"},\"kvs\":[{\"key\":\"YQ==\","
          "\"mod_revision\":\"0000000000000000007\",\"version\":\"0\"}],"
          "\"count\":\"0000000000000000000\"}"),
     42,
     false,
     1,
     {{"YQ==", NULL, 7}}},
    {"the largest int64 as a string",
     BODY("{\"header\":{\"revision\":\"9223372036854775807\"},\"kvs\":[{"
          "\"key\":\"YQ==\",\"mod_revision\":\"9223372036854775807\"}]}"),
     LLONG_MAX,
     false,
     1,
     {{"YQ==", NULL, LLONG_MAX}}},
    {"uint64 IDs up to 20 digits",
     BODY("{\"header\":{\"cluster_id\":\"18446744073709551615\",\"member_id\":"
          "\"00000000000000000001\",\"raft_term\":\"18446744073709551615\"}}"),
     0,
     false,
     0,
     {{0}}},
    {"members in another order",
     BODY("{\"count\":\"1\",\"more\":false,\"kvs\":[{\"value\":\"dg==\","
          "\"lease\":\"3\",\"mod_revision\":\"5\",\"key\":\"aw==\"}],"
          "\"header\":{\"raft_term\":\"1\",\"revision\":\"9\"}}"),
     9,
     false,
     1,
     {{"aw==", "dg==", 5}}},
    {"the base64 alphabet, padding unchecked",
     BODY("{\"kvs\":[{\"key\":\"+/==\",\"value\":\"====\"},{\"key\":"
          "\"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
          "\"}]}"),
     0,
     false,
     2,
     {{"+/==", "====", 0},
      {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", NULL,
       0}}},
    {"a one-byte key",
     BODY("{\"kvs\":[{\"key\":\"a\"}]}"),
     0,
     false,
     1,
     {{"a", NULL, 0}}},
    {"only blanks after the object", BODY("{}\n\n\n"), 0, false, 0, {{0}}},
};

static void run_good(void **state)
{
    const struct good_case *c = *state;
    struct etcd_json_page page = {0};
    if (scan_check(c->name, c->body, c->len, &page, c) != 1)
        fail_msg("%s: declined", c->name);
    check_truncations(c->name, c->body, c->len, true, &page);
    check_mutations(c->name, c->body, c->len, &page);
    free(page.kvs);
}

/* --- declined shapes --- */

struct bad_case {
    const char *name;
    const char *body;
    size_t len;
};

static char deep_arrays[DEEP + 16];
static char deep_objects[DEEP * 8 + 16];

static struct bad_case bad[] = {
    /* the top level */
    {"empty body", BODY("")},
    {"only blanks", BODY(" \n")},
    {"top-level array", BODY("[]")},
    {"top-level array of a page", BODY("[{\"kvs\":[]}]")},
    {"top-level string", BODY("\"{}\"")},
    {"top-level null", BODY("null")},
    {"top-level number", BODY("1")},
    {"byte order mark", BODY("\xef\xbb\xbf{}")},
    {"unterminated object", BODY("{")},
    {"unterminated member", BODY("{\"more\":true")},
    {"trailing garbage", BODY("{}x")},
    {"two objects", BODY("{}{}")},
    {"trailing comma after the object", BODY("{} ,")},
    {"NUL after the object", BODY("{}\0")},
    {"NUL before the object", BODY("\0{}")},
    {"NUL between tokens", BODY("{\"more\":\0true}")},
    {"NUL in a value", BODY("{\"kvs\":[{\"key\":\"YQ\0=\"}]}")},
    {"NUL in a name", BODY("{\"mo\0re\":true}")},
    {"form feed as a blank", BODY("{\f}")},
    {"vertical tab as a blank", BODY("{\v}")},
    {"no-break space as a blank", BODY("{\xc2\xa0}")},
    {"comment", BODY("{/**/}")},
    {"single quotes", BODY("{'more':true}")},
    {"trailing comma in the object", BODY("{\"more\":true,}")},
    {"missing colon", BODY("{\"more\" true}")},
    {"missing comma", BODY("{\"more\":true \"count\":\"1\"}")},
    {"name not a string", BODY("{more:true}")},
    {"unterminated name", BODY("{\"more")},
    /* names */
    {"duplicate header", BODY("{\"header\":null,\"header\":null}")},
    {"duplicate kvs", BODY("{\"kvs\":[],\"kvs\":[]}")},
    {"duplicate more", BODY("{\"more\":false,\"more\":false}")},
    {"duplicate count", BODY("{\"count\":\"1\",\"count\":\"1\"}")},
    {"duplicate header.revision",
     BODY("{\"header\":{\"revision\":\"1\",\"revision\":\"1\"}}")},
    {"duplicate header.cluster_id",
     BODY("{\"header\":{\"cluster_id\":\"1\",\"cluster_id\":\"2\"}}")},
    {"duplicate key", BODY("{\"kvs\":[{\"key\":\"YQ==\",\"key\":\"YQ==\"}]}")},
    {"duplicate value",
     BODY("{\"kvs\":[{\"key\":\"YQ==\",\"value\":\"\",\"value\":\"\"}]}")},
    {"duplicate mod_revision",
     BODY("{\"kvs\":[{\"key\":\"YQ==\",\"mod_revision\":\"1\","
          "\"mod_revision\":\"1\"}]}")},
    {"duplicate lease",
     BODY("{\"kvs\":[{\"key\":\"YQ==\",\"lease\":\"1\",\"lease\":\"1\"}]}")},
    {"unknown top-level member", BODY("{\"error\":\"x\"}")},
    {"unknown member after known ones", BODY("{\"header\":null,\"foo\":1}")},
    {"name in another case", BODY("{\"Header\":null}")},
    {"empty name", BODY("{\"\":null}")},
    {"prefix of a name", BODY("{\"kv\":null}")},
    {"name with a suffix", BODY("{\"kvss\":null}")},
    {"long name", BODY("{\"create_revision_and_more\":null}")},
    {"unknown header member", BODY("{\"header\":{\"term\":\"1\"}}")},
    {"unknown KeyValue member",
     BODY("{\"kvs\":[{\"key\":\"YQ==\",\"extra\":1}]}")},
    {"KeyValue member at the top", BODY("{\"key\":\"YQ==\"}")},
    {"header member in a KeyValue",
     BODY("{\"kvs\":[{\"key\":\"YQ==\",\"revision\":\"1\"}]}")},
    /* escapes (jansson would read them; the scanner does not) */
    {"escape in a top-level name", BODY("{\"he\\u0061der\":null}")},
    {"escape in a KeyValue name", BODY("{\"kvs\":[{\"k\\u0065y\":\"YQ==\"}]}")},
    {"escaped quote in a name", BODY("{\"kvs\\\"\":null}")},
    {"escaped slash in a key", BODY("{\"kvs\":[{\"key\":\"YS\\/Y\"}]}")},
    {"unicode escape in a key", BODY("{\"kvs\":[{\"key\":\"\\u0059Q==\"}]}")},
    {"escape in a value",
     BODY("{\"kvs\":[{\"key\":\"YQ==\",\"value\":\"Y\\u0067==\"}]}")},
    {"escape in a revision string",
     BODY("{\"header\":{\"revision\":\"\\u0031\"}}")},
    /* keys and values */
    {"'-' in a key", BODY("{\"kvs\":[{\"key\":\"a-b\"}]}")},
    {"'_' in a key", BODY("{\"kvs\":[{\"key\":\"a_b\"}]}")},
    {"blank in a key", BODY("{\"kvs\":[{\"key\":\"a b\"}]}")},
    {"non-ASCII in a key", BODY("{\"kvs\":[{\"key\":\"\xc3\xa9\"}]}")},
    {"control byte in a key", BODY("{\"kvs\":[{\"key\":\"a\x01\"}]}")},
    {"DEL in a value",
     BODY("{\"kvs\":[{\"key\":\"YQ==\",\"value\":\"\x7f\"}]}")},
    {"'.' in a value",
     BODY("{\"kvs\":[{\"key\":\"YQ==\",\"value\":\"a.b\"}]}")},
    {"newline in a value",
     BODY("{\"kvs\":[{\"key\":\"YQ==\",\"value\":\"YQ\n==\"}]}")},
    {"empty key", BODY("{\"kvs\":[{\"key\":\"\"}]}")},
    {"no key", BODY("{\"kvs\":[{\"value\":\"YQ==\"}]}")},
    {"empty KeyValue", BODY("{\"kvs\":[{}]}")},
    {"key null", BODY("{\"kvs\":[{\"key\":null}]}")},
    {"key a number", BODY("{\"kvs\":[{\"key\":1}]}")},
    {"key an array", BODY("{\"kvs\":[{\"key\":[\"YQ==\"]}]}")},
    {"key true", BODY("{\"kvs\":[{\"key\":true}]}")},
    {"value a number", BODY("{\"kvs\":[{\"key\":\"YQ==\",\"value\":1}]}")},
    {"value an object", BODY("{\"kvs\":[{\"key\":\"YQ==\",\"value\":{}}]}")},
    {"value an array", BODY("{\"kvs\":[{\"key\":\"YQ==\",\"value\":[]}]}")},
    {"value false", BODY("{\"kvs\":[{\"key\":\"YQ==\",\"value\":false}]}")},
    {"unterminated value", BODY("{\"kvs\":[{\"key\":\"YQ==\",\"value\":\"YQ")},
    /* structure */
    {"kvs an object", BODY("{\"kvs\":{}}")},
    {"kvs a string", BODY("{\"kvs\":\"\"}")},
    {"kvs true", BODY("{\"kvs\":true}")},
    {"kvs element null", BODY("{\"kvs\":[null]}")},
    {"kvs element a number", BODY("{\"kvs\":[1]}")},
    {"kvs element a string", BODY("{\"kvs\":[\"YQ==\"]}")},
    {"kvs element an array", BODY("{\"kvs\":[[]]}")},
    {"trailing comma in kvs", BODY("{\"kvs\":[{\"key\":\"YQ==\"},]}")},
    {"leading comma in kvs", BODY("{\"kvs\":[,{\"key\":\"YQ==\"}]}")},
    {"missing comma in kvs",
     BODY("{\"kvs\":[{\"key\":\"YQ==\"}{\"key\":\"Yg==\"}]}")},
    {"trailing comma in a KeyValue", BODY("{\"kvs\":[{\"key\":\"YQ==\",}]}")},
    {"unterminated kvs", BODY("{\"kvs\":[{\"key\":\"YQ==\"}}")},
    {"header an array", BODY("{\"header\":[]}")},
    {"header a string", BODY("{\"header\":\"\"}")},
    {"header true", BODY("{\"header\":true}")},
    {"trailing comma in the header",
     BODY("{\"header\":{\"revision\":\"1\",}}")},
    /* numbers */
    {"revision null", BODY("{\"header\":{\"revision\":null}}")},
    {"revision an object", BODY("{\"header\":{\"revision\":{}}}")},
    {"revision negative", BODY("{\"header\":{\"revision\":-1}}")},
    {"revision minus zero", BODY("{\"header\":{\"revision\":-0}}")},
    {"revision with a plus", BODY("{\"header\":{\"revision\":+1}}")},
    {"revision a fraction", BODY("{\"header\":{\"revision\":1.0}}")},
    {"revision with an exponent", BODY("{\"header\":{\"revision\":1e3}}")},
    {"revision with an Exponent", BODY("{\"header\":{\"revision\":1E3}}")},
    {"revision with a leading zero", BODY("{\"header\":{\"revision\":01}}")},
    {"revision 00", BODY("{\"header\":{\"revision\":00}}")},
    {"revision beyond int64", BODY("{\"header\":{\"revision\":"
                                   "9223372036854775808}}")},
    {"revision of 20 digits", BODY("{\"header\":{\"revision\":"
                                   "10000000000000000000}}")},
    {"revision of 30 digits", BODY("{\"header\":{\"revision\":"
                                   "100000000000000000000000000000}}")},
    {"revision string beyond int64",
     BODY("{\"header\":{\"revision\":\"9223372036854775808\"}}")},
    {"revision string of 20 digits",
     BODY("{\"header\":{\"revision\":\"00000000000000000001\"}}")},
    {"revision string empty", BODY("{\"header\":{\"revision\":\"\"}}")},
    {"revision string negative", BODY("{\"header\":{\"revision\":\"-1\"}}")},
    {"revision string with a plus", BODY("{\"header\":{\"revision\":\"+1\"}}")},
    {"revision string with a blank",
     BODY("{\"header\":{\"revision\":\" 1\"}}")},
    {"revision string with a trailing blank",
     BODY("{\"header\":{\"revision\":\"1 \"}}")},
    {"revision string hex", BODY("{\"header\":{\"revision\":\"0x1\"}}")},
    {"revision string a fraction", BODY("{\"header\":{\"revision\":\"1.0\"}}")},
    {"revision followed by a letter", BODY("{\"header\":{\"revision\":1x}}")},
    {"revision NaN", BODY("{\"header\":{\"revision\":NaN}}")},
    {"cluster_id string beyond uint64",
     BODY("{\"header\":{\"cluster_id\":\"18446744073709551616\"}}")},
    {"cluster_id string of 21 digits",
     BODY("{\"header\":{\"cluster_id\":\"000000000000000000001\"}}")},
    {"cluster_id beyond int64 unquoted",
     BODY("{\"header\":{\"cluster_id\":14841639068965178418}}")},
    {"member_id negative", BODY("{\"header\":{\"member_id\":-5}}")},
    {"raft_term a fraction", BODY("{\"header\":{\"raft_term\":\"2.5\"}}")},
    {"mod_revision null",
     BODY("{\"kvs\":[{\"key\":\"YQ==\",\"mod_revision\":null}]}")},
    {"mod_revision negative",
     BODY("{\"kvs\":[{\"key\":\"YQ==\",\"mod_revision\":\"-1\"}]}")},
    {"mod_revision beyond int64",
     BODY("{\"kvs\":[{\"key\":\"YQ==\",\"mod_revision\":"
          "\"9999999999999999999\"}]}")},
    {"create_revision an exponent",
     BODY("{\"kvs\":[{\"key\":\"YQ==\",\"create_revision\":1e1}]}")},
    {"version a fraction",
     BODY("{\"kvs\":[{\"key\":\"YQ==\",\"version\":\"1.5\"}]}")},
    {"lease beyond int64",
     BODY("{\"kvs\":[{\"key\":\"YQ==\",\"lease\":\"18446744073709551615\"}]}")},
    {"count negative", BODY("{\"count\":-1}")},
    {"count true", BODY("{\"count\":true}")},
    {"count null", BODY("{\"count\":null}")},
    {"count leading zero", BODY("{\"count\":007}")},
    {"unterminated number string", BODY("{\"count\":\"12")},
    /* more */
    {"more a string", BODY("{\"more\":\"true\"}")},
    {"more a number", BODY("{\"more\":1}")},
    {"more True", BODY("{\"more\":True}")},
    {"more truncated literal", BODY("{\"more\":tru}")},
    {"more literal with a suffix", BODY("{\"more\":truex}")},
    {"more null with a suffix", BODY("{\"more\":nullx}")},
    {"more false with a digit", BODY("{\"more\":false1}")},
    {"more an object", BODY("{\"more\":{}}")},
    /* nesting */
    {"deep arrays", deep_arrays, 0},
    {"deep objects in kvs", deep_objects, 0},
};

static void run_bad(void **state)
{
    const struct bad_case *c = *state;
    struct etcd_json_page page = {0};
    if (scan_check(c->name, c->body, c->len, &page, NULL) != 0)
        fail_msg("%s: accepted", c->name);
    check_truncations(c->name, c->body, c->len, false, &page);
    check_mutations(c->name, c->body, c->len, &page);
    free(page.kvs);
}

static void make_deep(void)
{
    size_t n = 0;
    n += (size_t)snprintf(deep_arrays, sizeof(deep_arrays), "{\"kvs\":");
    memset(deep_arrays + n, '[', DEEP);
    n += DEEP;
    bad[ARRAY_LEN(bad) - 2].len = n;

    n = (size_t)snprintf(deep_objects, sizeof(deep_objects), "{\"kvs\":[");
    for (size_t i = 0; i < DEEP; i++) {
        memcpy(deep_objects + n, "{\"kvs\":", 7);
        n += 7;
    }
    bad[ARRAY_LEN(bad) - 1].len = n;
}

/* --- a page as etcd writes it --- */

static size_t b64(const unsigned char *in, size_t len, char *out)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = i + 1 < len ? alphabet[v >> 6 & 63] : '=';
        out[o++] = i + 2 < len ? alphabet[v & 63] : '=';
    }
    out[o] = '\0';
    return o;
}

/* n KeyValues "/app/prod/kNNNNNN" = "value-NNNNNN-...", every fifth with an
   empty value (left out, as etcd does); mod_revision is 1000 + i. */
static char *make_page(size_t n, size_t *len)
{
    size_t size = 256 + n * 256;
    char *body = malloc(size);
    assert_non_null(body);
    size_t o = (size_t)snprintf(
        body, size,
        "{\"header\":{\"cluster_id\":\"14841639068965178418\",\"member_id\":"
        "\"10276657743932975437\",\"revision\":\"%zu\",\"raft_term\":\"2\"},"
        "\"kvs\":[",
        n + 1000);
    for (size_t i = 0; i < n; i++) {
        char key[KEY_SIZE], value[VALUE_SIZE];
        char kb[B64_LINE_SIZE], vb[B64_LINE_SIZE];
        int kl = snprintf(key, sizeof(key), "/app/prod/k%06zu", i);
        int vl = snprintf(value, sizeof(value), "value-%06zu-%.*s", i,
                          (int)(i % 23), "abcdefghijklmnopqrstuvw");
        b64((const unsigned char *)key, (size_t)kl, kb);
        b64((const unsigned char *)value, (size_t)vl, vb);
        o += (size_t)snprintf(
            body + o, size - o,
            "%s{\"key\":\"%s\",\"create_revision\":\"%zu\",\"mod_revision\":"
            "\"%zu\",\"version\":\"1\"%s%s%s}",
            i > 0 ? "," : "", kb, i + 2, i + 1000,
            i % 5 == 4 ? "" : ",\"value\":\"", i % 5 == 4 ? "" : vb,
            i % 5 == 4 ? "" : "\"");
    }
    o += (size_t)snprintf(body + o, size - o,
                          "],\"more\":true,\"count\":\"%zu\"}", n * 2);
    assert_true(o < size);
    *len = o;
    return body;
}

static void test_many(void **state)
{
    size_t len = 0;
    char *body = make_page(MANY_N, &len);
    struct etcd_json_page page = {0};
    assert_int_equal(scan_check("many", body, len, &page, NULL), 1);
    assert_int_equal(page.n, MANY_N);
    assert_int_equal(page.revision, MANY_N + 1000);
    assert_true(page.more);
    for (size_t i = 0; i < MANY_N; i++) {
        assert_int_equal(page.kvs[i].mod_revision, (long long)i + 1000);
        assert_int_equal(page.kvs[i].value == NULL, i % 5 == 4);
    }
    free(page.kvs);
    free(body);
}

/* One page struct across calls: a decline keeps kvs and empties the rest. */
static void test_reuse(void **state)
{
    size_t len = 0;
    char *body = make_page(KVS_FIRST * 3, &len);
    struct etcd_json_page page = {0};
    assert_int_equal(etcd_json_scan(body, len, &page), 1);
    assert_int_equal(page.n, KVS_FIRST * 3);
    struct etcd_json_kv *kvs = page.kvs;
    size_t cap = page.cap;
    assert_true(cap >= page.n);

    assert_int_equal(etcd_json_scan(BODY("{\"more\":1}"), &page), 0);
    assert_int_equal(page.n, 0);
    assert_int_equal(page.revision, 0);
    assert_false(page.more);
    assert_ptr_equal(page.kvs, kvs);
    assert_int_equal(page.cap, cap);

    /* declined late, after KeyValues and the revision were taken */
    body[len - 1] = ']';
    assert_int_equal(etcd_json_scan(body, len, &page), 0);
    assert_int_equal(page.n, 0);
    assert_int_equal(page.revision, 0);
    assert_false(page.more);
    body[len - 1] = '}';

    assert_int_equal(etcd_json_scan(BODY("{\"kvs\":[{\"key\":\"YQ==\"}],"
                                         "\"more\":true}"),
                                    &page),
                     1);
    assert_int_equal(page.n, 1);
    assert_true(page.more);
    assert_ptr_equal(page.kvs, kvs);
    free(page.kvs);
    free(body);
}

static void test_null_body(void **state)
{
    struct etcd_json_page page = {.revision = 5, .more = true, .n = 3};
    assert_int_equal(etcd_json_scan(NULL, 0, &page), 0);
    assert_int_equal(page.n, 0);
    assert_int_equal(page.revision, 0);
    assert_false(page.more);
    assert_null(page.kvs);
}

/* Each failing realloc gives -1 and ENOMEM, leaves kvs freeable, and an
   empty page. */
static void test_nomem(void **state)
{
    size_t len = 0;
    char *body = make_page(KVS_FIRST * 5, &len);
    bool failed = false;
    for (long n = 0;; n++) {
        struct etcd_json_page page = {0};
        errno = 0;
        chaos_countdown = n;
        int r = etcd_json_scan(body, len, &page);
        chaos_countdown = -1;
        if (r == 1) {
            assert_true(failed);
            assert_int_equal(page.n, KVS_FIRST * 5);
            free(page.kvs);
            break;
        }
        failed = true;
        assert_int_equal(r, -1);
        assert_int_equal(errno, ENOMEM);
        assert_int_equal(page.n, 0);
        assert_int_equal(page.revision, 0);
        assert_false(page.more);
        free(page.kvs);
    }
    /* a page without KeyValues needs no memory */
    struct etcd_json_page page = {0};
    chaos_countdown = 0;
    assert_int_equal(etcd_json_scan(BODY(GW_HEADER ",\"kvs\":[]}"), &page), 1);
    chaos_countdown = -1;
    assert_int_equal(page.revision, 6);
    assert_null(page.kvs);
    free(body);
}

/* --- base64 --- */

/*
 * libsodium's verdict and bytes on s, the decoder's to be the same; but a
 * byte from 0x80 up is refused, which libsodium 1.0.18 reads as '/' (its
 * comparisons take a signed char for one of 0 to 255), and jansson's
 * reading of a body could hand it over.
 */
static void b64_same(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80) {
            char out[64];
            size_t len = 99;
            if (etcd_b64_decode(s, n, out, sizeof(out), &len) != -1 || len != 0)
                fail_msg("byte 0x%02x at %zu taken", (unsigned char)s[i], i);
            return;
        }
    unsigned char want[64];
    char got[64];
    size_t want_len = 0, got_len = 99;
    const char *end = NULL;
    int w = sodium_base642bin(want, sizeof(want), s, n, NULL, &want_len, &end,
                              sodium_base64_VARIANT_ORIGINAL);
    if (w == 0 && end != s + n)
        w = -1;
    int g = etcd_b64_decode(s, n, got, sizeof(got), &got_len);
    if (g != w ||
        (g == 0 && (got_len != want_len || memcmp(got, want, want_len) != 0)) ||
        (g != 0 && got_len != 0))
        fail_msg("'%.*s': libsodium %d (%zu bytes), etcd_b64_decode %d "
                 "(%zu bytes)",
                 (int)n, s, w, want_len, g, got_len);
}

/*
 * The decoder accepts and refuses what libsodium does: every text of up to
 * 5 characters over an alphabet of the edge cases (letters whose low bits
 * are 0 or not, '+', '/', '=', a byte outside), every byte value in every
 * position of a quad, and a few long texts.
 */
static void test_b64(void **state)
{
    (void)state;
    static const char alpha[] = "AQBgw+/=!a9";
    const size_t an = sizeof(alpha) - 1;
    char s[8];
    for (size_t len = 0; len <= 5; len++) {
        size_t total = 1;
        for (size_t i = 0; i < len; i++)
            total *= an;
        for (size_t x = 0; x < total; x++) {
            size_t v = x;
            for (size_t i = 0; i < len; i++, v /= an)
                s[i] = alpha[v % an];
            b64_same(s, len);
        }
    }
    for (int c = 0; c < 256; c++)
        for (size_t pos = 0; pos < 4; pos++) {
            memcpy(s, "QUJDREVG", 8);
            s[pos] = (char)c;
            b64_same(s, 8);
            memcpy(s, "QUI=", 4);
            s[pos] = (char)c;
            b64_same(s, 4);
        }
    static const char *const long_ok[] = {
        "L2JlbmNoL3NtYWxsL3NlcnZpY2UwMDAvc2V0dGluZzAwMDAwMA==",
        "dmFsdWUgMDogcG9zdGdyZXM6Ly9kYi0wLmludGVybmFsOjU0MzIvYXBw",
        "////++++AAAAzzzz",
    };
    for (size_t i = 0; i < ARRAY_LEN(long_ok); i++) {
        b64_same(long_ok[i], strlen(long_ok[i]));
        size_t len = 0;
        char out[64];
        assert_int_equal(etcd_b64_decode(long_ok[i], strlen(long_ok[i]), out,
                                         sizeof(out), &len),
                         0);
    }
    /* no room: refused, as libsodium refuses it (ERANGE) */
    char small[2];
    size_t len = 9;
    assert_int_equal(etcd_b64_decode("QUJD", 4, small, sizeof(small), &len),
                     -1);
    assert_int_equal(len, 0);
    assert_int_equal(etcd_b64_decode("QUI=", 4, small, sizeof(small), &len), 0);
    assert_int_equal(len, 2);
    assert_memory_equal(small, "AB", 2);
}

int main(void)
{
    make_deep();
    static struct CMUnitTest tests[ARRAY_LEN(good) + ARRAY_LEN(bad) + 5];
    size_t k = 0;
    for (size_t i = 0; i < ARRAY_LEN(good); i++)
        tests[k++] = (struct CMUnitTest){good[i].name, run_good, NULL, NULL,
                                         (void *)&good[i]};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++)
        tests[k++] = (struct CMUnitTest){bad[i].name, run_bad, NULL, NULL,
                                         (void *)&bad[i]};
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_many);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_reuse);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_null_body);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_nomem);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_b64);
    assert_int_equal(k, ARRAY_LEN(tests));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
