/* SPDX-License-Identifier: MIT */
/* Unit tests of the consul provider (providers/consul.c): its KV reply
   parser with good, malformed, truncated, oversized and hostile replies,
   and every request it makes, through the fake host's canned HTTP. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <envinject/provider.h>
#include <jansson.h>
#include <sodium.h>

#include "consul_parse.h"
#include "expand.h"
#include "safetext.h"

/* The parser needs only the host's safe_text. */
static const struct ei_host text_host = {
    .abi = EI_HOST_ABI,
    .size = sizeof(struct ei_host),
    .safe_text = ei_host_safe_text,
};
#include "host.h"

extern const struct ei_provider ei_provider_consul;

#define CANARY "EI_CANARY_c0n5u1c4n4ry"
/* base64 of CANARY */
#define CANARY_B64 "RUlfQ0FOQVJZX2MwbjV1MWM0bjRyeQ=="
#define TOKEN      "tok-" CANARY
#define PATH_SIZE  512
#define OUT_SIZE   4096
#define OPTS_N     8
#define ENV_N      5
#define FILES_N    2
#define REPLIES_N  6
#define REQS_N     6
#define HDRS_N     3
#define WANT_N     6
#define DL_DEFAULT 5000
#define MANY_KEYS  2000
#define BIG_VALUE  (3u * 1024u * 1024u)
#define PREFIX     "config/app/"

/* --- the parser: one table --- */

struct parse_case {
    const char *name;
    const char *in;
    size_t in_len; /* 0: strlen(in) */
    const char *prefix;
    enum ei_status want;
    const char *want_out; /* "name=value@index" per key, ';' after each */
    const char *want_text;
    size_t fail_at; /* the callback refuses entry N (1-based) */
};

#define E(key, b64, idx)                                                       \
    "{\"LockIndex\":0,\"Key\":\"" key "\",\"Flags\":0,\"Value\":" b64          \
    ",\"CreateIndex\":1,\"ModifyIndex\":" idx "}"

static const struct parse_case parse_cases[] = {
    {"kv-entries",
     "[" E(PREFIX "DB_HOST", "\"ZGIubG9jYWw=\"",
           "200") "," E(PREFIX "db/port", "\"NTQzMg==\"", "7") "]",
     0, PREFIX, EI_OK, "DB_HOST=db.local@200;db/port=5432@7;", NULL, 0},
    {"kv-canary-value", "[" E(PREFIX "s", "\"" CANARY_B64 "\"", "1") "]", 0,
     PREFIX, EI_OK, "s=" CANARY "@1;", NULL, 0},
    {"kv-null-value-is-empty", "[" E(PREFIX "EMPTY", "null", "3") "]", 0,
     PREFIX, EI_OK, "EMPTY=@3;", NULL, 0},
    {"kv-missing-value-is-empty", "[{\"Key\":\"" PREFIX "A\"}]", 0, PREFIX,
     EI_OK, "A=@0;", NULL, 0},
    {"kv-folders-skipped",
     "[" E(PREFIX, "null", "1") "," E(PREFIX "dir/", "null", "2") "," E(
         PREFIX "dir/x", "\"eA==\"", "3") "]",
     0, PREFIX, EI_OK, "dir/x=x@3;", NULL, 0},
    {"kv-empty-segments-dropped",
     "[" E(PREFIX "a//b", "\"eA==\"", "1") "," E(PREFIX "/", "\"eA==\"",
                                                 "2") "]",
     0, PREFIX, EI_OK, "a/b=x@1;", NULL, 0},
    {"kv-root-prefix",
     "[" E("top", "\"eA==\"", "1") "," E("a/b", "\"eQ==\"", "2") "]", 0, "",
     EI_OK, "top=x@1;a/b=y@2;", NULL, 0},
    {"kv-binary-value-with-newlines",
     "[" E(PREFIX "pem", "\"LS0tCngKLS0tCg==\"", "4") "]", 0, PREFIX, EI_OK,
     "pem=---\nx\n---\n@4;", NULL, 0},
    {"kv-empty-array", "[]", 0, PREFIX, EI_OK, "", NULL, 0},
    {"kv-unknown-members-ignored",
     "[{\"Key\":\"" PREFIX "a\",\"Value\":\"eA==\",\"Session\":\"s\","
     "\"Namespace\":\"default\",\"Partition\":\"default\",\"New\":[1]}]",
     0, PREFIX, EI_OK, "a=x@0;", NULL, 0},
    {"kv-callback-stops",
     "[" E(PREFIX "a", "\"eA==\"", "1") "," E(PREFIX "b", "\"eA==\"", "2") "]",
     0, PREFIX, EI_DENIED, NULL, "stopped", 2},
    {"kv-object-not-array", "{\"Key\":\"" PREFIX "a\"}", 0, PREFIX, EI_BADDATA,
     NULL, "KV reply: not a JSON array", 0},
    {"kv-entry-not-object", "[\"" CANARY "\"]", 0, PREFIX, EI_BADDATA, NULL,
     "entry 0 is not an object", 0},
    {"kv-key-missing", "[{\"Value\":\"" CANARY_B64 "\"}]", 0, PREFIX,
     EI_BADDATA, NULL, "entry 0 has no Key", 0},
    {"kv-key-empty", "[{\"Key\":\"\"}]", 0, PREFIX, EI_BADDATA, NULL,
     "entry 0 has no Key", 0},
    {"kv-key-number", "[{\"Key\":12}]", 0, PREFIX, EI_BADDATA, NULL,
     "entry 0 has no Key", 0},
    {"kv-key-outside-prefix", "[" E("config/apple", "\"eA==\"", "1") "]", 0,
     PREFIX, EI_BADDATA, NULL, "key outside the prefix config/app/", 0},
    {"kv-value-not-base64", "[" E(PREFIX "a", "\"" CANARY "!\"", "1") "]", 0,
     PREFIX, EI_BADDATA, NULL, "Value is not valid base64", 0},
    {"kv-value-without-padding", "[" E(PREFIX "a", "\"ZGI\"", "1") "]", 0,
     PREFIX, EI_BADDATA, NULL, "Value is not valid base64 (3 bytes)", 0},
    {"kv-value-url-alphabet", "[" E(PREFIX "a", "\"_-8=\"", "1") "]", 0, PREFIX,
     EI_BADDATA, NULL, "Value is not valid base64", 0},
    {"kv-value-number", "[" E(PREFIX "a", "42", "1") "]", 0, PREFIX, EI_BADDATA,
     NULL, "Value is not a base64 string", 0},
    {"kv-value-holds-nul", "[" E(PREFIX "a", "\"eAB5\"", "1") "]", 0, PREFIX,
     EI_BADDATA, NULL, "the value holds a NUL byte at offset 1", 0},
    {"kv-index-string", "[" E(PREFIX "a", "\"eA==\"", "\"5\"") "]", 0, PREFIX,
     EI_BADDATA, NULL, "ModifyIndex is not an index", 0},
    {"kv-index-negative", "[" E(PREFIX "a", "\"eA==\"", "-1") "]", 0, PREFIX,
     EI_BADDATA, NULL, "ModifyIndex is not an index", 0},
    {"kv-truncated", "[" E(PREFIX "a", "\"" CANARY_B64 "\"", "1"), 0, PREFIX,
     EI_BADDATA, NULL, "KV reply: malformed JSON", 0},
    {"kv-cut-in-value", "[{\"Key\":\"" PREFIX "a\",\"Value\":\"" CANARY, 0,
     PREFIX, EI_BADDATA, NULL, "KV reply: malformed JSON", 0},
    {"kv-bare-canary", "[" CANARY "]", 0, PREFIX, EI_BADDATA, NULL,
     "malformed JSON", 0},
    {"kv-duplicate-member",
     "[{\"Key\":\"" PREFIX "a\",\"Key\":\"" PREFIX "b\"}]", 0, PREFIX,
     EI_BADDATA, NULL, "malformed JSON", 0},
    {"kv-nul-in-key", "[{\"Key\":\"" PREFIX "a\\u0000b\"}]", 0, PREFIX,
     EI_BADDATA, NULL, "malformed JSON", 0},
    {"kv-empty-body", "", 0, PREFIX, EI_BADDATA, NULL,
     "malformed JSON at byte 0 of 0", 0},
    {"kv-html", "<html>502 Bad Gateway</html>", 0, PREFIX, EI_BADDATA, NULL,
     "malformed JSON", 0},
};

#define PARSE_CASES_N (sizeof parse_cases / sizeof parse_cases[0])

struct collect {
    char out[OUT_SIZE];
    size_t calls;
    size_t fail_at;
};

static int collect_entry(void *ctx, const char *key, const char *const *name,
                         size_t name_n, const char *value, size_t value_len,
                         long long modify_index, struct ei_error *err)
{
    struct collect *c = ctx;
    c->calls++;
    if (c->fail_at != 0 && c->calls == c->fail_at) {
        if (err->status == EI_OK) {
            err->status = EI_DENIED;
            snprintf(err->text, sizeof err->text, "stopped");
        }
        return -1;
    }
    assert_int_equal(strlen(value), value_len);
    size_t o = strlen(c->out);
    for (size_t i = 0; i < name_n; i++) {
        assert_null(strchr(name[i], '/'));
        assert_true(name[i][0] != '\0');
        o += (size_t)snprintf(c->out + o, sizeof c->out - o, "%s%s",
                              i > 0 ? "/" : "", name[i]);
    }
    snprintf(c->out + o, sizeof c->out - o, "=%s@%lld;", value, modify_index);
    return 0;
}

static void check_no_leak(const struct ei_error *err)
{
    assert_null(strstr(err->text, CANARY));
    assert_null(strstr(err->locator, CANARY));
    assert_null(strchr(err->text, '\n'));
}

static void test_parse(void **state)
{
    const struct parse_case *c = *state;
    struct collect col = {.fail_at = c->fail_at};
    struct ei_error err = {0};
    size_t keys = 99;
    enum ei_status got = ei_consul_parse_kv(
        &text_host, c->in, c->in_len != 0 ? c->in_len : strlen(c->in),
        c->prefix, "http://a:8500", collect_entry, &col, &keys, &err);
    assert_int_equal(got, c->want);
    assert_int_equal(err.status, got);
    if (got == EI_OK) {
        assert_string_equal(col.out, c->want_out);
        size_t n = 0;
        for (const char *p = col.out; (p = strchr(p, ';')) != NULL; p++)
            n++;
        assert_int_equal(keys, n);
    } else if (strstr(err.text, c->want_text) == NULL) {
        fail_msg("error text '%s' lacks '%s'", err.text, c->want_text);
    }
    check_no_leak(&err);
}

static int count_entry(void *ctx, const char *key, const char *const *name,
                       size_t name_n, const char *value, size_t value_len,
                       long long modify_index, struct ei_error *err)
{
    size_t *total = ctx;
    *total += value_len;
    return 0;
}

/* Many keys, and one value of several MiB, go through whole. */
static void test_parse_big(void **state)
{
    size_t cap = MANY_KEYS * 96 + 2 * BIG_VALUE;
    char *body = malloc(cap);
    assert_non_null(body);
    size_t o = 0;
    body[o++] = '[';
    for (int i = 0; i < MANY_KEYS; i++)
        o += (size_t)snprintf(body + o, cap - o,
                              "{\"Key\":\"" PREFIX "k%d\",\"Value\":"
                              "\"eHl6\",\"ModifyIndex\":%d},",
                              i, i);
    o += (size_t)snprintf(body + o, cap - o,
                          "{\"Key\":\"" PREFIX "big\",\"Value\":\"");
    unsigned char *raw = malloc(BIG_VALUE);
    assert_non_null(raw);
    memset(raw, 'v', BIG_VALUE);
    sodium_bin2base64(body + o, cap - o, raw, BIG_VALUE,
                      sodium_base64_VARIANT_ORIGINAL);
    o += strlen(body + o);
    o += (size_t)snprintf(body + o, cap - o, "\"}]");
    free(raw);
    struct ei_error err = {0};
    size_t total = 0, keys = 0;
    assert_int_equal(ei_consul_parse_kv(&text_host, body, o, PREFIX, "e",
                                        count_entry, &total, &keys, &err),
                     EI_OK);
    assert_int_equal(keys, MANY_KEYS + 1);
    assert_int_equal(total, 3u * MANY_KEYS + BIG_VALUE);
    free(body);
}

static long chaos_countdown = -1;

static void *chaos_malloc(size_t n)
{
    if (chaos_countdown == 0)
        return NULL;
    if (chaos_countdown > 0)
        chaos_countdown--;
    return malloc(n);
}

/* jansson running out of memory at every allocation in turn: a clean
   status each time (jansson reports some failed allocations of its lexer
   as syntax errors), no leak, and the full result once it fits. */
static void test_parse_out_of_memory(void **state)
{
    static const char body[] = "[" E(PREFIX "a/b", "\"" CANARY_B64 "\"",
                                     "1") "," E(PREFIX "c", "null", "2") "]";
    bool done = false;
    for (long n = 0; !done && n < 1000; n++) {
        struct collect col = {0};
        struct ei_error err = {0};
        size_t keys = 0;
        json_set_alloc_funcs(chaos_malloc, free);
        chaos_countdown = n;
        enum ei_status st =
            ei_consul_parse_kv(&text_host, body, sizeof body - 1, PREFIX, "e",
                               collect_entry, &col, &keys, &err);
        json_set_alloc_funcs(malloc, free);
        chaos_countdown = -1;
        if (st != EI_OK && st != EI_NOMEM && st != EI_BADDATA)
            fail_msg("allocation %ld: status %d: %s", n, st, err.text);
        assert_int_equal(err.status, st);
        if (st == EI_OK) {
            assert_string_equal(col.out, "a/b=" CANARY "@1;c=@2;");
            done = true;
        }
        check_no_leak(&err);
    }
    assert_true(done);
}

/* --- the provider through the fake host --- */

#define KV_REPLY                                                               \
    "[" E(PREFIX "DB_HOST", "\"ZGIubG9jYWw=\"",                                \
          "12") "," E(PREFIX "db/", "null",                                    \
                      "3") "," E(PREFIX "db/password", "\"" CANARY_B64 "\"",   \
                                 "14") "," E(PREFIX "EMPTY", "null", "9") "]"
#define LOC(key, idx, ep) PREFIX key "@" idx " (" ep ")"
#define LOCAL             "http://127.0.0.1:8500"
#define KV_ENTRIES(ep)                                                         \
    {"DB_HOST", 1, "db.local", LOC("DB_HOST", "12", ep)},                      \
        {"db/password", 2, CANARY, LOC("db/password", "14", ep)},              \
    {                                                                          \
        "EMPTY", 1, "", LOC("EMPTY", "9", ep)                                  \
    }
#define GET_KV "GET /v1/kv/config/app/?recurse"

struct cfile {
    const char *name;
    const char *content;
    int mode;
};

struct reply {
    long status;
    const char *body;
    unsigned flags;
};

struct want_req {
    const char *line;         /* "METHOD PATH" */
    const char *hdrs[HDRS_N]; /* "Name: value", or "-Name": absent */
    const char *endpoint;     /* NULL: not checked */
};

struct want_entry {
    const char *name; /* segments joined with '/' */
    size_t name_n;
    const char *value;
    const char *locator;
};

struct ccase {
    const char *name;
    const char *opts[OPTS_N]; /* "%D" is the case's folder */
    const char *environ[ENV_N];
    const char *arg;
    struct cfile files[FILES_N];
    struct reply replies[REPLIES_N];
    size_t fail_at;
    enum ei_status want_configure;
    enum ei_status want;
    const char *want_text;
    const char *want_locator;
    struct want_entry entries[WANT_N];
    struct want_req reqs[REQS_N];
};

static const struct ccase ccases[] = {
    {.name = "recurse-read",
     .opts = {"prefix=config/app/"},
     .replies = {{200, KV_REPLY}},
     .entries = {KV_ENTRIES(LOCAL)},
     .reqs = {{GET_KV, {"-X-Consul-Token", "-Authorization"}, LOCAL}}},
    {.name = "prefix-from-arg-gets-slash",
     .arg = "/config/app",
     .replies = {{200, KV_REPLY}},
     .entries = {KV_ENTRIES(LOCAL)},
     .reqs = {{GET_KV}}},
    {.name = "prefix-encoded-and-datacenter",
     .opts = {"prefix=my app/x+y", "datacenter=dc-2"},
     .replies = {{404, ""}},
     .reqs = {{"GET /v1/kv/my%20app/x%2By/?recurse&dc=dc-2"}}},
    {.name = "whole-store",
     .opts = {"prefix="},
     .replies = {{200, "[" E("a", "\"eA==\"", "5") "]"}},
     .entries = {{"a", 1, "x", "a@5 (" LOCAL ")"}},
     .reqs = {{"GET /v1/kv/?recurse"}}},
    {.name = "no-keys-empty-layer",
     .opts = {"prefix=config/app/"},
     .replies = {{404, ""}},
     .reqs = {{GET_KV}}},
    {.name = "consul-http-addr-without-scheme",
     .opts = {"prefix=config/app/"},
     .environ = {"CONSUL_HTTP_ADDR=10.0.0.5:8500"},
     .replies = {{200, KV_REPLY}},
     .entries = {KV_ENTRIES("http://10.0.0.5:8500")},
     .reqs = {{GET_KV, {NULL}, "http://10.0.0.5:8500"}}},
    {.name = "consul-http-ssl",
     .opts = {"prefix=config/app/"},
     .environ = {"CONSUL_HTTP_ADDR=consul:8501", "CONSUL_HTTP_SSL=true"},
     .replies = {{404, ""}},
     .reqs = {{GET_KV, {NULL}, "https://consul:8501"}}},
    {.name = "endpoints-fail-over",
     .opts = {"prefix=config/app/", "endpoints=http://a:8500,http://b:8500"},
     .environ = {"CONSUL_HTTP_ADDR=http://not-used:8500"},
     .replies = {{0, NULL, FAKE_HTTP_CLOSE}, {200, KV_REPLY}},
     .entries = {KV_ENTRIES("http://b:8500")},
     .reqs = {{GET_KV, {NULL}, "http://a:8500"},
              {GET_KV, {NULL}, "http://b:8500"}}},
    {.name = "token-option",
     .opts = {"prefix=config/app/", "token=" TOKEN},
     .environ = {"CONSUL_HTTP_TOKEN=not-this"},
     .replies = {{200, KV_REPLY}},
     .entries = {KV_ENTRIES(LOCAL)},
     .reqs = {{GET_KV, {"X-Consul-Token: " TOKEN}}}},
    {.name = "token-file-trimmed",
     .opts = {"prefix=config/app/", "token_file=tok"},
     .files = {{"tok", TOKEN "\n", 0600}},
     .replies = {{200, KV_REPLY}},
     .entries = {KV_ENTRIES(LOCAL)},
     .reqs = {{GET_KV, {"X-Consul-Token: " TOKEN}}}},
    {.name = "token-file-env-beats-token-env",
     .opts = {"prefix=config/app/"},
     .environ = {"CONSUL_HTTP_TOKEN=not-this", "CONSUL_HTTP_TOKEN_FILE=%D/tok"},
     .files = {{"tok", TOKEN, 0400}},
     .replies = {{404, ""}},
     .reqs = {{GET_KV, {"X-Consul-Token: " TOKEN}}}},
    {.name = "token-env",
     .opts = {"prefix=config/app/"},
     .environ = {"CONSUL_HTTP_TOKEN=" TOKEN},
     .replies = {{404, ""}},
     .reqs = {{GET_KV, {"X-Consul-Token: " TOKEN}}}},
    {.name = "token-file-readable-by-others",
     .opts = {"prefix=config/app/", "token_file=tok"},
     .files = {{"tok", TOKEN, 0644}},
     .want = EI_DENIED,
     .want_text = "chmod"},
    {.name = "token-file-missing",
     .opts = {"prefix=config/app/", "token_file=nope"},
     .want = EI_DENIED,
     .want_text = "token_file: "},
    {.name = "token-file-empty",
     .opts = {"prefix=config/app/", "token_file=tok"},
     .files = {{"tok", "\n", 0600}},
     .want = EI_DENIED,
     .want_text = "the token is empty"},
    {.name = "token-header-injection",
     .opts = {"prefix=config/app/"},
     .environ = {"CONSUL_HTTP_TOKEN=a\r\nX-Evil: " CANARY},
     .want = EI_DENIED,
     .want_text = "not allowed in a header at offset 1",
     .want_locator = "CONSUL_HTTP_TOKEN"},
    {.name = "acl-not-found-names-token-source",
     .opts = {"prefix=config/app/"},
     .environ = {"CONSUL_HTTP_TOKEN=" TOKEN},
     .replies = {{403, "ACL not found"}},
     .want = EI_DENIED,
     .want_text = "permission denied reading prefix config/app/ (HTTP 403, "
                  "token from CONSUL_HTTP_TOKEN)",
     .reqs = {{GET_KV}}},
    {.name = "forbidden-without-token",
     .opts = {"prefix=config/app/"},
     .replies = {{403, "Permission denied: " CANARY}},
     .want = EI_DENIED,
     .want_text = "no token: set token, token_file or CONSUL_HTTP_TOKEN",
     .reqs = {{GET_KV}}},
    {.name = "server-errors-until-given-up",
     .opts = {"prefix=config/app/"},
     .replies = {{500, "No path to datacenter"}, {503, ""}},
     .want = EI_UNAVAILABLE,
     .want_text = "HTTP 503 after 2 attempts",
     .reqs = {{GET_KV}, {GET_KV}}},
    {.name = "rate-limited-then-served",
     .opts = {"prefix=config/app/"},
     .replies = {{429, ""}, {200, KV_REPLY}},
     .entries = {KV_ENTRIES(LOCAL)},
     .reqs = {{GET_KV}, {GET_KV}}},
    {.name = "request-timeout-then-served",
     .opts = {"prefix=config/app/"},
     .replies = {{408, ""}, {200, KV_REPLY}},
     .entries = {KV_ENTRIES(LOCAL)},
     .reqs = {{GET_KV}, {GET_KV}}},
    {.name = "slow-reply-hits-deadline",
     .opts = {"prefix=config/app/"},
     .replies = {{200, KV_REPLY, FAKE_HTTP_DELAY_MS(6000)}},
     .want = EI_UNAVAILABLE,
     .want_text = "(last: timeout)",
     .reqs = {{GET_KV}}},
    {.name = "bad-request",
     .opts = {"prefix=config/app/"},
     .replies = {{400, "Invalid wait time"}},
     .want = EI_BADDATA,
     .want_text = "request refused for prefix config/app/ (HTTP 400)",
     .reqs = {{GET_KV}}},
    {.name = "not-consul",
     .opts = {"prefix=config/app/"},
     .replies = {{404, "Invalid URL path: not a recognized HTTP API"}},
     .want = EI_BADDATA,
     .want_text = "not a Consul KV endpoint (HTTP 404)",
     .reqs = {{GET_KV}}},
    {.name = "method-not-allowed",
     .opts = {"prefix=config/app/"},
     .replies = {{405, "method GET not allowed"}},
     .want = EI_BADDATA,
     .want_text = "not a Consul KV endpoint (HTTP 405)",
     .reqs = {{GET_KV}}},
    {.name = "malformed-reply",
     .opts = {"prefix=config/app/"},
     .replies = {{200, "[{\"Key\":\"config/app/a\",\"Value\":\"" CANARY}},
     .want = EI_BADDATA,
     .want_text = "KV reply: malformed JSON",
     .want_locator = LOCAL,
     .reqs = {{GET_KV}}},
    {.name = "bad-base64-names-key",
     .opts = {"prefix=config/app/"},
     .replies = {{200, "[" E(PREFIX "pw", "\"" CANARY "\"", "1") "]"}},
     .want = EI_BADDATA,
     .want_text = "Value is not valid base64",
     .want_locator = "config/app/pw",
     .reqs = {{GET_KV}}},
    {.name = "response-too-large",
     .opts = {"prefix=config/app/", "max_response_size=10"},
     .replies = {{200, KV_REPLY}},
     .want = EI_BADDATA,
     .want_text = "response larger than 10 bytes",
     .reqs = {{GET_KV}}},
    {.name = "sink-fails",
     .opts = {"prefix=config/app/"},
     .replies = {{200, KV_REPLY}},
     .fail_at = 2,
     .want = EI_INTERNAL,
     .want_text = "failing emit 2",
     .reqs = {{GET_KV}}},
    /* configuration */
    {.name = "prefix-required",
     .opts = {"token=x"},
     .want_configure = EI_BADCONFIG,
     .want_text = "prefix is required"},
    {.name = "endpoint-needs-scheme",
     .opts = {"prefix=a/", "endpoints=consul:8500"},
     .want_configure = EI_BADCONFIG,
     .want_text = "endpoint 1 needs a scheme"},
    {.name = "unix-socket-refused",
     .opts = {"prefix=a/"},
     .environ = {"CONSUL_HTTP_ADDR=unix:///var/run/consul.sock"},
     .want_configure = EI_BADCONFIG,
     .want_text = "unix sockets are not supported"},
    {.name = "token-and-token-file",
     .opts = {"prefix=a/", "token=x", "token_file=y"},
     .want_configure = EI_BADCONFIG,
     .want_text = "give token or token_file, not both"},
    {.name = "bad-datacenter",
     .opts = {"prefix=a/", "datacenter=dc1&token=x"},
     .want_configure = EI_BADCONFIG,
     .want_text = "datacenter must be 1 to 127 letters"},
    {.name = "control-character-in-prefix",
     .opts = {"prefix=a\nb"},
     .want_configure = EI_BADCONFIG,
     .want_text = "prefix has a control character at offset 1"},
};

#define CCASES_N (sizeof ccases / sizeof ccases[0])

static char tmpdir[PATH_SIZE];

static void make_files(const struct cfile *files, const char *dir)
{
    assert_int_equal(mkdir(dir, 0700), 0);
    for (size_t i = 0; i < FILES_N && files[i].name != NULL; i++) {
        char path[PATH_SIZE];
        int n = snprintf(path, sizeof path, "%s/%s", dir, files[i].name);
        assert_true(n > 0 && (size_t)n < sizeof path);
        FILE *fp = fopen(path, "wb");
        assert_non_null(fp);
        size_t len = strlen(files[i].content);
        assert_int_equal(fwrite(files[i].content, 1, len, fp), len);
        assert_int_equal(fclose(fp), 0);
        assert_int_equal(chmod(path, (mode_t)files[i].mode), 0);
    }
}

/* Before destroy: the endpoints belong to the client it closes. */
static void check_requests(const struct want_req *want, struct fake_host *fh)
{
    size_t n = 0;
    const struct fake_http_request *r = fake_host_http_requests(fh, &n);
    size_t want_n = 0;
    while (want_n < REQS_N && want[want_n].line != NULL)
        want_n++;
    assert_int_equal(n, want_n);
    for (size_t i = 0; i < n; i++) {
        char line[PATH_SIZE * 2];
        snprintf(line, sizeof line, "%s %s", r[i].method, r[i].path);
        assert_string_equal(line, want[i].line);
        assert_null(strstr(r[i].path, CANARY));
        assert_null(r[i].body);
        assert_int_equal(r[i].flags, EI_HTTP_SECRET);
        if (want[i].endpoint != NULL)
            assert_string_equal(r[i].endpoint, want[i].endpoint);
        for (size_t k = 0; k < HDRS_N && want[i].hdrs[k] != NULL; k++) {
            const char *h = want[i].hdrs[k];
            if (h[0] == '-') {
                assert_null(fake_http_header(&r[i], h + 1));
                continue;
            }
            const char *colon = strchr(h, ':');
            assert_non_null(colon);
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)(colon - h), h);
            const char *v = fake_http_header(&r[i], name);
            if (v == NULL)
                fail_msg("request %zu lacks header %s", i + 1, name);
            assert_string_equal(v, colon + 2);
        }
    }
}

static void check_entries(const struct ccase *c, const struct fake_sink *fs)
{
    size_t want_n = 0;
    while (want_n < WANT_N && c->entries[want_n].name != NULL)
        want_n++;
    assert_int_equal(fs->n, want_n);
    for (size_t i = 0; i < want_n; i++) {
        const struct want_entry *w = &c->entries[i];
        const struct fake_entry *e = &fs->entries[i];
        assert_string_equal(e->name, w->name);
        assert_int_equal(e->name_n, w->name_n);
        assert_string_equal(e->value, w->value);
        assert_non_null(e->locator);
        assert_string_equal(e->locator, w->locator);
        assert_int_equal(e->flags, 0);
    }
}

static void test_ccase(void **state)
{
    const struct ccase *c = *state;
    char dir[PATH_SIZE];
    int n = snprintf(dir, sizeof dir, "%s/%s", tmpdir, c->name);
    assert_true(n > 0 && (size_t)n < sizeof dir);
    make_files(c->files, dir);
    char **opts = expand_dir_list(c->opts, OPTS_N, dir);
    char **env = expand_dir_list(c->environ, ENV_N, dir);
    struct fake_host *fh =
        fake_host_new((const char *const *)opts, (const char *const *)env, dir);
    assert_non_null(fh);
    if (c->arg != NULL)
        fake_host_set_arg(fh, c->arg);
    for (size_t i = 0; i < REPLIES_N &&
                       (c->replies[i].status != 0 || c->replies[i].flags != 0);
         i++)
        assert_int_equal(fake_host_http_push(fh, c->replies[i].status,
                                             c->replies[i].body,
                                             c->replies[i].flags),
                         0);
    const struct ei_host *h = fake_host_host(fh);

    struct ei_error err = {0};
    void *st = NULL;
    enum ei_status got = ei_provider_consul.configure(h, &st, &err);
    assert_int_equal(fake_host_reads(fh), 0);
    assert_int_equal(got, c->want_configure);
    assert_int_equal(err.status, got);
    if (got != EI_OK) {
        assert_null(st);
        if (strstr(err.text, c->want_text) == NULL)
            fail_msg("error text '%s' lacks '%s'", err.text, c->want_text);
        assert_int_equal(fake_host_http_clients(fh), 0);
        goto done;
    }
    assert_null(fake_host_unused(fh));
    struct fake_sink fs;
    fake_sink_init(&fs);
    fs.fail_at = c->fail_at;
    struct ei_deadline dl;
    fake_deadline(&dl, DL_DEFAULT);
    got = ei_provider_consul.fetch(st, &fs.sink, &dl, &err);
    assert_int_equal(got, c->want);
    assert_int_equal(err.status, got);
    assert_false(fs.abi_violation);
    if (got == EI_OK) {
        check_entries(c, &fs);
    } else {
        if (strstr(err.text, c->want_text) == NULL)
            fail_msg("error text '%s' lacks '%s'", err.text, c->want_text);
        if (c->want_locator != NULL &&
            strstr(err.locator, c->want_locator) == NULL)
            fail_msg("locator '%s' lacks '%s'", err.locator, c->want_locator);
    }
    fake_sink_free(&fs);
    check_requests(c->reqs, fh);
    assert_int_equal(fake_host_http_pending(fh), 0);
    ei_provider_consul.destroy(st);
    assert_int_equal(fake_host_http_clients(fh), 0);
done:
    check_no_leak(&err);
    assert_null(strstr(fake_host_log(fh), CANARY));
    fake_host_free(fh);
    expand_list_free(opts);
    expand_list_free(env);
}

/* One wait_change against a canned answer: its status, what it said,
   and the query it sent. */
static void wait_step(struct fake_host *fh, void *st, long status,
                      const char *index, enum ei_status want, bool want_changed,
                      const char *want_query)
{
    char hdr[64] = "";
    if (index != NULL)
        snprintf(hdr, sizeof hdr, "X-Consul-Index: %s\n", index);
    assert_int_equal(fake_host_http_push_headers(
                         fh, status, hdr, status == 200 ? "[]" : "", 0),
                     0);
    size_t before = 0;
    fake_host_http_requests(fh, &before);
    struct ei_deadline dl;
    fake_deadline(&dl, 600000);
    struct ei_error err = {0};
    bool changed = !want_changed;
    enum ei_status got =
        ei_provider_consul.wait_change(st, &dl, &changed, &err);
    assert_int_equal(got, want);
    if (got == EI_OK)
        assert_int_equal(changed, want_changed);
    size_t n = 0;
    const struct fake_http_request *r = fake_host_http_requests(fh, &n);
    assert_int_equal(n, before + 1);
    if (strstr(r[n - 1].path, want_query) == NULL)
        fail_msg("query '%s' lacks '%s'", r[n - 1].path, want_query);
    check_no_leak(&err);
}

/*
 * run --watch: the index of the last fetch starts blocking queries
 * (?index=N&wait=300s, the token sent as on a read); the answer's index
 * says whether anything changed; one lower than ours resets to 0 (the
 * next query asks from 1); 0 counts as 1; a new fetch's index wins.
 */
static void test_blocking_watch(void **state)
{
    (void)state;
    const char *opts[] = {"prefix=app/", "token=tok-" CANARY, NULL};
    const char *env[] = {NULL};
    struct fake_host *fh = fake_host_new(opts, env, tmpdir);
    assert_non_null(fh);
    const struct ei_host *h = fake_host_host(fh);
    struct ei_error err = {0};
    void *st = NULL;
    assert_int_equal(ei_provider_consul.configure(h, &st, &err), EI_OK);
    const char *paths = NULL;
    int64_t poll_ms = 0;
    const char *const *pp = &paths;
    /* before any fetch there is no index: polled */
    assert_int_equal(ei_provider_consul.watch(st, &pp, &poll_ms),
                     EI_WATCH_POLL);

    static const char body[] =
        "[{\"LockIndex\":0,\"Key\":\"app/A\",\"Flags\":0,\"Value\":\"MQ==\","
        "\"CreateIndex\":42,\"ModifyIndex\":42}]";
    assert_int_equal(
        fake_host_http_push_headers(fh, 200, "X-Consul-Index: 42\n", body, 0),
        0);
    struct fake_sink fs;
    fake_sink_init(&fs);
    struct ei_deadline dl;
    fake_deadline(&dl, DL_DEFAULT);
    assert_int_equal(ei_provider_consul.fetch(st, &fs.sink, &dl, &err), EI_OK);
    fake_sink_free(&fs);
    assert_int_equal(ei_provider_consul.watch(st, &pp, &poll_ms),
                     EI_WATCH_BLOCKING);

    wait_step(fh, st, 200, "42", EI_OK, false, "?recurse&index=42&wait=300s");
    size_t n = 0;
    const struct fake_http_request *r = fake_host_http_requests(fh, &n);
    assert_non_null(fake_http_header(&r[n - 1], "X-Consul-Token"));
    wait_step(fh, st, 200, "50", EI_OK, true, "&index=42&");
    wait_step(fh, st, 200, "50", EI_OK, false, "&index=50&");
    wait_step(fh, st, 200, "7", EI_OK, true, "&index=50&");
    wait_step(fh, st, 404, "0", EI_OK, false, "&index=1&");
    wait_step(fh, st, 404, "9", EI_OK, true, "&index=1&");
    wait_step(fh, st, 403, "9", EI_DENIED, false, "&index=9&");
    /* a fetch that saw more: its index is where the next query starts */
    assert_int_equal(
        fake_host_http_push_headers(fh, 200, "X-Consul-Index: 60\n", body, 0),
        0);
    fake_sink_init(&fs);
    fake_deadline(&dl, DL_DEFAULT);
    assert_int_equal(ei_provider_consul.fetch(st, &fs.sink, &dl, &err), EI_OK);
    fake_sink_free(&fs);
    assert_int_equal(ei_provider_consul.watch(st, &pp, &poll_ms),
                     EI_WATCH_BLOCKING);
    wait_step(fh, st, 200, "60", EI_OK, false, "&index=60&");

    /* too little time left for a wait worth asking: nothing is sent */
    fake_deadline(&dl, 2500);
    bool changed = true;
    assert_int_equal(ei_provider_consul.wait_change(st, &dl, &changed, &err),
                     EI_OK);
    assert_false(changed);
    assert_int_equal(fake_host_http_pending(fh), 0);
    assert_null(strstr(fake_host_log(fh), CANARY));
    ei_provider_consul.destroy(st);
    assert_int_equal(fake_host_http_clients(fh), 0);
    fake_host_free(fh);
}

/* A host without http_header (an older envinject): polled, as before. */
static void test_blocking_needs_headers(void **state)
{
    (void)state;
    const char *opts[] = {"prefix=app/", NULL};
    const char *env[] = {NULL};
    struct fake_host *fh = fake_host_new(opts, env, tmpdir);
    assert_non_null(fh);
    fake_host_set_size(fh, offsetof(struct ei_host, http_header));
    struct ei_error err = {0};
    void *st = NULL;
    assert_int_equal(
        ei_provider_consul.configure(fake_host_host(fh), &st, &err), EI_OK);
    assert_int_equal(fake_host_http_push(fh, 200, "[]", 0), 0);
    struct fake_sink fs;
    fake_sink_init(&fs);
    struct ei_deadline dl;
    fake_deadline(&dl, DL_DEFAULT);
    assert_int_equal(ei_provider_consul.fetch(st, &fs.sink, &dl, &err), EI_OK);
    fake_sink_free(&fs);
    const char *const *pp = NULL;
    int64_t poll_ms = 0;
    assert_int_equal(ei_provider_consul.watch(st, &pp, &poll_ms),
                     EI_WATCH_POLL);
    ei_provider_consul.destroy(st);
    fake_host_free(fh);
}

static void test_descriptor(void **state)
{
    const struct ei_provider *p = &ei_provider_consul;
    assert_int_equal(p->abi, EI_PROVIDER_ABI);
    assert_int_equal(p->size, sizeof(struct ei_provider));
    assert_string_equal(p->name, "consul");
    assert_string_equal(p->arg_option, "prefix");
    assert_int_equal(p->flags,
                     EI_PROV_REMOTE | EI_PROV_INTERP | EI_PROV_OWN_PREFIX);
    assert_non_null(p->configure);
    assert_non_null(p->fetch);
    assert_non_null(p->lookup);
    assert_non_null(p->destroy);
    p->destroy(NULL);
}

/* A layer made for references (ref+consul://) needs no prefix: it reads
   single keys; any other layer does, and a prefix given is still checked. */
static void test_references_only(void **state)
{
    (void)state;
    static const struct fake_configure_row rows[] = {
        {"refs-only-without-prefix", true, {NULL}, {NULL}, EI_OK, NULL},
        {"refs-only-with-token", true, {"token=x", NULL}, {NULL}, EI_OK, NULL},
        {"refs-only-prefix-still-checked",
         true,
         {"prefix=a\nb", NULL},
         {NULL},
         EI_BADCONFIG,
         "prefix has a control character at offset 1"},
        {"prefix-required-otherwise",
         false,
         {"token=x", NULL},
         {NULL},
         EI_BADCONFIG,
         "prefix is required"},
    };
    char why[512];
    const char *bad =
        fake_configure_rows(&ei_provider_consul, rows,
                            sizeof rows / sizeof rows[0], why, sizeof why);
    if (bad != NULL)
        fail_msg("%s", bad);
}

static int group_setup(void **state)
{
    const char *base = getenv("TMPDIR");
    int n = snprintf(tmpdir, sizeof tmpdir, "%s/test_consul.XXXXXX",
                     base != NULL && base[0] != '\0' ? base : "/tmp");
    if (n < 0 || (size_t)n >= sizeof tmpdir || mkdtemp(tmpdir) == NULL)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    char cmd[PATH_SIZE + 32];
    int n = snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (n < 0 || (size_t)n >= sizeof cmd)
        return -1;
    return system(cmd) == 0 ? 0 : -1;
}

#define EXTRA_N 6

int main(void)
{
    struct CMUnitTest tests[PARSE_CASES_N + CCASES_N + EXTRA_N];
    size_t t = 0;
    for (size_t i = 0; i < PARSE_CASES_N; i++, t++) {
        tests[t] = (struct CMUnitTest)cmocka_unit_test(test_parse);
        tests[t].name = parse_cases[i].name;
        tests[t].initial_state = (void *)&parse_cases[i];
    }
    for (size_t i = 0; i < CCASES_N; i++, t++) {
        tests[t] = (struct CMUnitTest)cmocka_unit_test(test_ccase);
        tests[t].name = ccases[i].name;
        tests[t].initial_state = (void *)&ccases[i];
    }
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_parse_big);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_parse_out_of_memory);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_descriptor);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_blocking_watch);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_blocking_needs_headers);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_references_only);
    if (t != sizeof tests / sizeof tests[0])
        return 1;
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
