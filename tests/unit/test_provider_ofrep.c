/* SPDX-License-Identifier: MIT */
/* Unit tests of the ofrep provider (providers/ofrep.c): its bulk reply
   parser, every option and every answer of the server through the fake
   host's canned HTTP, the ETag and 304 over two fetches, and the values
   flagd's own evaluator gave for 50 contexts (tests/fixtures/ofrep). */

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

#include "expand.h"
#include "host.h"
#include "ofrep_parse.h"
#include "safetext.h"

extern const struct ei_provider ei_provider_ofrep;

/* The parser needs only the host's safe_text. */
static const struct ei_host text_host = {
    .abi = EI_HOST_ABI,
    .size = sizeof(struct ei_host),
    .safe_text = ei_host_safe_text,
};

#define CANARY     "EI_CANARY_0f4e9c4n4ry"
#define TOKEN      "tok-" CANARY
#define PATH_SIZE  512
#define OUT_SIZE   4096
#define OPTS_N     8
#define ENV_N      3
#define FILES_N    2
#define REPLIES_N  4
#define REQS_N     4
#define HDRS_N     4
#define WANT_N     6
#define DL_DEFAULT 5000
#define EP         "http://flagd:8016"
#define BULK       "POST /ofrep/v1/evaluate/flags"

/* --- the parser: one table --- */

struct collect {
    char out[OUT_SIZE];
    size_t len;
    size_t fail_at, calls;
};

__attribute__((format(printf, 2, 3))) static void put(struct collect *c,
                                                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(c->out + c->len, sizeof c->out - c->len, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof c->out - c->len);
    c->len += (size_t)n;
}

static int collect_flag(void *ctx, const char *key, const char *value,
                        size_t value_len, const char *variant,
                        struct ei_error *err)
{
    struct collect *c = ctx;
    assert_int_equal(strlen(value), value_len);
    if (++c->calls == c->fail_at) {
        err->status = EI_DENIED;
        snprintf(err->text, sizeof err->text, "stopped");
        return -1;
    }
    put(c, "%s=%s|%s;", key, value, variant != NULL ? variant : "-");
    return 0;
}

static void collect_skip(void *ctx, const char *key, const char *code,
                         const char *details)
{
    put(ctx, "%s!%s(%s);", key, code != NULL ? code : "-",
        details != NULL ? details : "-");
}

static const struct ei_ofrep_cb collect_cb = {.flag = collect_flag,
                                              .skip = collect_skip};

struct parse_case {
    const char *name;
    const char *in;
    enum ei_status want;
    const char *want_out;
    const char *want_text;
    size_t fail_at;
};

#define F(key, rest) "{\"key\":\"" key "\"" rest "}"
#define OPEN10       "[[[[[[[[[["
#define CLOSE10      "]]]]]]]]]]"
#define OPEN70       OPEN10 OPEN10 OPEN10 OPEN10 OPEN10 OPEN10 OPEN10
#define CLOSE70      CLOSE10 CLOSE10 CLOSE10 CLOSE10 CLOSE10 CLOSE10 CLOSE10
#define FLAGS(...)   "{\"flags\":[" __VA_ARGS__ "]}"

static const struct parse_case parse_cases[] = {
    {"bulk-spec-example-whole",
     "{\"flags\":[" F(
         "discount-banner",
         ",\"value\":true,\"reason\":\"TARGETING_MATCH\","
         "\"variant\":\"enabled\"") "," F("theme-color",
                                          ",\"value\":\"blue\","
                                          "\"reason\":"
                                          "\"STATIC\","
                                          "\"variant\":"
                                          "\"default\"") "," F("non-existent-"
                                                               "flag",
                                                               ",\"errorCode\":"
                                                               "\"FLAG_NOT_"
                                                               "FOUND\","
                                                               "\"errorDetails"
                                                               "\":\"Flag "
                                                               "'non-existent-"
                                                               "flag' was not "
                                                               "found\"") "],"
                                                                          "\"ev"
                                                                          "entS"
                                                                          "trea"
                                                                          "ms\""
                                                                          ":[{"
                                                                          "\"ty"
                                                                          "pe\""
                                                                          ":\"s"
                                                                          "se\""
                                                                          ",\"u"
                                                                          "rl\""
                                                                          ":\"h"
                                                                          "ttps"
                                                                          "://"
                                                                          "sse."
                                                                          "exam"
                                                                          "ple."
                                                                          "com/"
                                                                          "x\","
                                                                          "\"in"
                                                                          "acti"
                                                                          "vity"
                                                                          "Dela"
                                                                          "ySec"
                                                                          "\":"
                                                                          "120}"
                                                                          "],"
                                                                          "\"me"
                                                                          "tada"
                                                                          "ta\""
                                                                          ":{"
                                                                          "\"ve"
                                                                          "rsio"
                                                                          "n\":"
                                                                          "\"v1"
                                                                          "2\"}"
                                                                          "}",
     EI_OK,
     "discount-banner=true|enabled;theme-color=blue|default;"
     "non-existent-flag!FLAG_NOT_FOUND(Flag 'non-existent-flag' was not "
     "found);",
     NULL, 0},
    {"value-types",
     FLAGS(F("b", ",\"value\":false") "," F("i", ",\"value\":42") "," F(
         "r",
         ","
         "\"value\":0.1") "," F("e",
                                ",\"value\":1e21") "," F("t",
                                                         ",\"value\":1.5e-"
                                                         "7") "," F("s",
                                                                    ",\"val"
                                                                    "ue\":"
                                                                    "\"a "
                                                                    "b\"") "," F("o",
                                                                                 ",\"v"
                                                                                 "alue"
                                                                                 "\":{"
                                                                                 "\"x"
                                                                                 "\":["
                                                                                 "1,2."
                                                                                 "50,"
                                                                                 "true"
                                                                                 ",nul"
                                                                                 "l],"
                                                                                 "\"y"
                                                                                 "\":"
                                                                                 "\"z"
                                                                                 "\"}") "," F("a",
                                                                                              ",\"value\":[\"p\",1]") "," F("z",
                                                                                                                            ",\"value\":\"\"")),
     EI_OK,
     "b=false|-;i=42|-;r=0.1|-;e=1e+21|-;t=1.5e-7|-;s=a b|-;"
     "o={\"x\":[1,2.5,true,null],\"y\":\"z\"}|-;a=[\"p\",1]|-;z=|-;",
     NULL, 0},
    {"no-value-is-the-default",
     FLAGS(F("d", ",\"reason\":\"DEFAULT\"") "," F("n", ",\"value\":null")),
     EI_OK, "d!-(-);n!-(-);", NULL, 0},
    {"error-without-details", FLAGS(F("x", ",\"errorCode\":\"GENERAL\"")),
     EI_OK, "x!GENERAL(-);", NULL, 0},
    {"error-wins-over-value",
     FLAGS(F("x", ",\"errorCode\":\"PARSE_ERROR\",\"value\":null")), EI_OK,
     "x!PARSE_ERROR(-);", NULL, 0},
    {"unknown-reason-and-members",
     FLAGS(F("x", ",\"value\":1,\"reason\":\"SOMETHING_NEW\",\"variant\":7,"
                  "\"metadata\":{\"a\":1},\"extra\":[]")),
     EI_OK, "x=1|-;", NULL, 0},
    {"empty-flags", "{\"flags\":[]}", EI_OK, "", NULL, 0},
    {"callback-stops", FLAGS(F("a", ",\"value\":1") "," F("b", ",\"value\":2")),
     EI_DENIED, NULL, "stopped", 2},
    {"not-an-object", "[]", EI_BADDATA, NULL, "bulk reply: not a JSON object",
     0},
    {"no-flags", "{\"metadata\":{}}", EI_BADDATA, NULL,
     "bulk reply: no flags array", 0},
    {"flags-not-array", "{\"flags\":{\"a\":1}}", EI_BADDATA, NULL,
     "bulk reply: no flags array", 0},
    {"item-not-object", FLAGS("\"" CANARY "\""), EI_BADDATA, NULL,
     "flags[0] is not an object", 0},
    {"key-missing", FLAGS("{\"value\":\"" CANARY "\"}"), EI_BADDATA, NULL,
     "flags[0] has no key", 0},
    {"key-empty", FLAGS(F("", ",\"value\":1")), EI_BADDATA, NULL,
     "flags[0] has no key", 0},
    {"key-number", FLAGS("{\"key\":3,\"value\":1}"), EI_BADDATA, NULL,
     "flags[0] has no key", 0},
    {"key-twice", FLAGS(F("a", ",\"value\":1") "," F("a", ",\"value\":2")),
     EI_BADDATA, NULL, "flag a appears twice", 0},
    {"error-code-number", FLAGS(F("a", ",\"errorCode\":5")), EI_BADDATA, NULL,
     "flag a: errorCode is not a string", 0},
    {"key-control-characters-shown-safely",
     FLAGS(F("a\\nb", ",\"value\":1") "," F("a\\nb", ",\"value\":2")),
     EI_BADDATA, NULL, "flag a?b appears twice", 0},
    {"value-too-deep", FLAGS(F("d", ",\"value\":" OPEN70 "1" CLOSE70)),
     EI_BADDATA, NULL, "flag d: value nested deeper than 64 levels", 0},
    {"truncated", "{\"flags\":[" F("a", ",\"value\":\"" CANARY "\""),
     EI_BADDATA, NULL, "bulk reply: malformed JSON", 0},
    {"duplicate-member", FLAGS("{\"key\":\"a\",\"key\":\"b\"}"), EI_BADDATA,
     NULL, "malformed JSON", 0},
    {"html-login-page", "<html>" CANARY "</html>", EI_BADDATA, NULL,
     "bulk reply: malformed JSON at byte", 0},
    {"empty-body", "", EI_BADDATA, NULL, "malformed JSON", 0},
};

#define PARSE_CASES_N (sizeof parse_cases / sizeof parse_cases[0])

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
    enum ei_status st = ei_ofrep_parse_bulk(&text_host, c->in, strlen(c->in),
                                            "e", &collect_cb, &col, &err);
    assert_int_equal(st, c->want);
    assert_int_equal(err.status, st);
    if (st == EI_OK) {
        assert_string_equal(col.out, c->want_out);
    } else {
        if (strstr(err.text, c->want_text) == NULL)
            fail_msg("error text '%s' lacks '%s'", err.text, c->want_text);
        if (c->fail_at == 0)
            assert_string_equal(err.locator, "e");
    }
    check_no_leak(&err);
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
   status each time, no leak, and the full result once it fits. */
static void test_parse_out_of_memory(void **state)
{
    static const char body[] =
        FLAGS(F("a", ",\"value\":{\"k\":[1,\"" CANARY
                     "\"]}") "," F("b", ",\"errorCode\":\"GENERAL\""));
    bool done = false;
    for (long n = 0; !done && n < 1000; n++) {
        struct collect col = {0};
        struct ei_error err = {0};
        json_set_alloc_funcs(chaos_malloc, free);
        chaos_countdown = n;
        enum ei_status st = ei_ofrep_parse_bulk(
            &text_host, body, sizeof body - 1, "e", &collect_cb, &col, &err);
        json_set_alloc_funcs(malloc, free);
        chaos_countdown = -1;
        if (st != EI_OK && st != EI_NOMEM && st != EI_BADDATA)
            fail_msg("allocation %ld: status %d: %s", n, st, err.text);
        assert_int_equal(err.status, st);
        if (st == EI_OK) {
            assert_string_equal(col.out,
                                "a={\"k\":[1,\"" CANARY "\"]}|-;b!GENERAL(-);");
            done = true;
        }
        check_no_leak(&err);
    }
    assert_true(done);
}

/* --- the provider through the fake host --- */

#define REPLY                                                                                   \
    FLAGS(F(                                                                                    \
        "new-checkout",                                                                         \
        ",\"value\":true,\"reason\":\"SPLIT\","                                                 \
        "\"variant\":\"on\"") "," F("max-items",                                                \
                                    ",\"value\":100") "," F("legacy-api",                       \
                                                            ",\"errorCode\":"                   \
                                                            "\"FLAG_"                           \
                                                            "DISABLED\","                       \
                                                            "\"errorDetails\""                  \
                                                            ":\"flag "                          \
                                                            "`legacy-api` is "                  \
                                                            "disabled\"") "," F("code-default", \
                                                                                ",\"reason\":\"DEFAULT\""))
#define ENTRIES(ep)                                                            \
    {"FF_new-checkout", "true", "flag new-checkout, variant on (" ep ")"},     \
    {                                                                          \
        "FF_max-items", "100", "flag max-items (" ep ")"                       \
    }
#define WARN_DISABLED                                                          \
    "flag legacy-api left out: the server reports FLAG_DISABLED (flag "        \
    "`legacy-api` is disabled)"

struct cfile {
    const char *name;
    const char *content;
    int mode;
};

struct reply {
    long status;
    const char *headers;
    const char *body;
    unsigned flags;
};

struct want_req {
    const char *line;         /* "METHOD PATH" */
    const char *body;         /* NULL: {"context":{}} */
    const char *hdrs[HDRS_N]; /* "Name: value", or "-Name": absent */
};

struct want_entry {
    const char *name;
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
    int fetches; /* 0: one */
    enum ei_status want_configure;
    enum ei_status want;
    const char *want_text;
    const char *want_locator;
    struct want_entry entries[WANT_N]; /* of the last fetch */
    const char *want_log;              /* the warnings, exactly */
    const char *want_not_log;          /* in no log line */
    struct want_req reqs[REQS_N];
};

static const struct ccase ccases[] = {
    {.name = "bulk-evaluation",
     .opts = {"endpoint=" EP},
     .replies = {{200, NULL, REPLY}},
     .entries = {ENTRIES(EP)},
     .want_log = WARN_DISABLED,
     .want_not_log = "code-default left out",
     .reqs = {{BULK,
               NULL,
               {"Content-Type: application/json", "Accept: application/json",
                "-Authorization", "-If-None-Match"}}}},
    {.name = "endpoint-from-arg-trailing-slash",
     .want_log = WARN_DISABLED,
     .arg = EP "/",
     .replies = {{200, NULL, REPLY}},
     .entries = {ENTRIES(EP)},
     .reqs = {{BULK}}},
    {.name = "endpoint-from-environment",
     .want_log = WARN_DISABLED,
     .environ = {"OFREP_ENDPOINT=http://env:8016"},
     .replies = {{200, NULL, REPLY}},
     .entries = {ENTRIES("http://env:8016")},
     .reqs = {{BULK}}},
    {.name = "endpoint-with-base-path",
     .opts = {"endpoint=https://flags.example/api/"},
     .replies = {{200, NULL, "{\"flags\":[]}"}},
     .reqs = {{BULK}}},
    {.name = "context-strings-from-layer-options",
     .opts = {"endpoint=" EP, "context.targetingKey=user-1",
              "context.plan=pro"},
     .replies = {{200, NULL, "{\"flags\":[]}"}},
     .reqs =
         {{BULK,
           "{\"context\":{\"targetingKey\":\"user-1\",\"plan\":\"pro\"}}"}}},
    {.name = "context-typed-group",
     .opts = {"endpoint=" EP,
              "context={\"targetingKey\":\"u\",\"seats\":500,\"beta\":true,"
              "\"ratio\":0.5,\"groups\":[\"a\",\"b\"],\"org\":{\"id\":7}}"},
     .replies = {{200, NULL, "{\"flags\":[]}"}},
     .reqs = {{BULK,
               "{\"context\":{\"targetingKey\":\"u\",\"seats\":500,\"beta\":"
               "true,\"ratio\":0.5,\"groups\":[\"a\",\"b\"],\"org\":{\"id\":"
               "7}}}"}}},
    {.name = "flag-prefix",
     .opts = {"endpoint=" EP, "flag_prefix=FEATURE_"},
     .replies = {{200, NULL, FLAGS(F("dark-mode", ",\"value\":false"))}},
     .entries = {{"FEATURE_dark-mode", "false", "flag dark-mode (" EP ")"}},
     .reqs = {{BULK}}},
    {.name = "flag-prefix-empty",
     .opts = {"endpoint=" EP, "flag_prefix="},
     .replies = {{200, NULL, FLAGS(F("dark-mode", ",\"value\":false"))}},
     .entries = {{"dark-mode", "false", "flag dark-mode (" EP ")"}},
     .reqs = {{BULK}}},
    {.name = "flags-filter",
     .opts = {"endpoint=" EP, "flags=max-items", "flags=legacy-api",
              "flags=gone"},
     .replies = {{200, NULL, REPLY}},
     .entries = {{"FF_max-items", "100", "flag max-items (" EP ")"}},
     .want_log = WARN_DISABLED "\nflag gone left out: not in the "
                               "server's answer",
     .want_not_log = "new-checkout",
     .reqs = {{BULK}}},
    {.name = "bearer-token-file",
     .want_log = WARN_DISABLED,
     .opts = {"endpoint=" EP, "token_file=tok"},
     .files = {{"tok", TOKEN "\r\n", 0600}},
     .replies = {{200, NULL, REPLY}},
     .entries = {ENTRIES(EP)},
     .reqs = {{BULK, NULL, {"Authorization: Bearer " TOKEN}}}},
    {.name = "headers",
     .want_log = WARN_DISABLED,
     .opts = {"endpoint=" EP, "headers=X-API-Key: " TOKEN,
              "headers=Flagd-Selector: flagSetId=shop"},
     .replies = {{200, NULL, REPLY}},
     .entries = {ENTRIES(EP)},
     .reqs = {{BULK,
               NULL,
               {"X-API-Key: " TOKEN, "Flagd-Selector: flagSetId=shop",
                "-Authorization"}}}},
    {.name = "token-file-readable-by-others",
     .opts = {"endpoint=" EP, "token_file=tok"},
     .files = {{"tok", TOKEN, 0644}},
     .want = EI_DENIED,
     .want_text = "chmod"},
    {.name = "token-file-missing",
     .opts = {"endpoint=" EP, "token_file=nope"},
     .want = EI_DENIED,
     .want_text = "token_file: "},
    {.name = "token-file-empty",
     .opts = {"endpoint=" EP, "token_file=tok"},
     .files = {{"tok", "\n", 0600}},
     .want = EI_DENIED,
     .want_text = "token_file: the token is empty"},
    {.name = "token-file-header-injection",
     .opts = {"endpoint=" EP, "token_file=tok"},
     .files = {{"tok", "a\nX-Evil: " CANARY, 0600}},
     .want = EI_DENIED,
     .want_text = "not allowed in a header at offset 1"},
    {.name = "unauthorized-names-token-file",
     .opts = {"endpoint=" EP, "token_file=tok"},
     .files = {{"tok", TOKEN, 0600}},
     .replies = {{401, NULL, ""}},
     .want = EI_DENIED,
     .want_text = "authentication failed (HTTP 401, bearer token from "
                  "token_file ",
     .want_locator = EP,
     .reqs = {{BULK}}},
    {.name = "forbidden-with-header-credentials",
     .opts = {"endpoint=" EP, "headers=Authorization: Bearer " TOKEN},
     .replies = {{403, NULL, CANARY}},
     .want = EI_DENIED,
     .want_text = "permission denied (HTTP 403, credentials from headers)",
     .reqs = {{BULK}}},
    {.name = "unauthorized-without-credentials",
     .opts = {"endpoint=" EP},
     .replies = {{401, NULL, ""}},
     .want = EI_DENIED,
     .want_text = "no credentials: set token_file or an Authorization "
                  "header",
     .reqs = {{BULK}}},
    {.name = "invalid-context-is-configuration",
     .opts = {"endpoint=" EP},
     .replies = {{400, NULL,
                  "{\"errorCode\":\"TARGETING_KEY_MISSING\",\"errorDetails\":"
                  "\"targetingKey\\nis required\"}"}},
     .want = EI_BADCONFIG,
     .want_text = "the server refused the context: TARGETING_KEY_MISSING: "
                  "targetingKey?is required (HTTP 400)",
     .reqs = {{BULK}}},
    {.name = "parse-error-is-bad-data",
     .opts = {"endpoint=" EP},
     .replies = {{400, NULL, "{\"errorCode\":\"PARSE_ERROR\"}"}},
     .want = EI_BADDATA,
     .want_text = "the server refused the request: PARSE_ERROR (HTTP 400)",
     .reqs = {{BULK}}},
    {.name = "bad-request-without-json",
     .opts = {"endpoint=" EP},
     .replies = {{400, NULL, "<html>" CANARY}},
     .want = EI_BADDATA,
     .want_text = "the server refused the request: no errorCode (HTTP 400)",
     .reqs = {{BULK}}},
    {.name = "not-found",
     .opts = {"endpoint=" EP},
     .replies = {{404, NULL, "404 page not found"}},
     .want = EI_NOTFOUND,
     .want_text = "no OFREP bulk evaluation at /ofrep/v1/evaluate/flags (HTTP "
                  "404)",
     .reqs = {{BULK}}},
    {.name = "server-errors-until-given-up",
     .opts = {"endpoint=" EP},
     .replies = {{500, NULL, "{\"errorDetails\":\"boom\"}"}, {503, NULL, ""}},
     .want = EI_UNAVAILABLE,
     .want_text = "HTTP 503 after 2 attempts",
     .reqs = {{BULK}, {BULK}}},
    {.name = "rate-limited-then-served",
     .want_log = WARN_DISABLED,
     .opts = {"endpoint=" EP},
     .replies = {{429, "Retry-After: 1\n", ""}, {200, NULL, REPLY}},
     .entries = {ENTRIES(EP)},
     .reqs = {{BULK}, {BULK}}},
    {.name = "slow-reply-hits-deadline",
     .opts = {"endpoint=" EP},
     .replies = {{200, NULL, REPLY, FAKE_HTTP_DELAY_MS(6000)}},
     .want = EI_UNAVAILABLE,
     .want_text = "(last: timeout)",
     .reqs = {{BULK}}},
    {.name = "unexpected-status",
     .opts = {"endpoint=" EP},
     .replies = {{302, "Location: /login\n", ""}},
     .want = EI_BADDATA,
     .want_text = "unexpected response (HTTP 302, 0 bytes)",
     .reqs = {{BULK}}},
    {.name = "malformed-reply",
     .opts = {"endpoint=" EP},
     .replies = {{200, NULL, "{\"flags\":[{\"key\":\"a\",\"value\":\"" CANARY}},
     .want = EI_BADDATA,
     .want_text = "bulk reply: malformed JSON",
     .want_locator = EP,
     .reqs = {{BULK}}},
    {.name = "304-to-unconditional-request",
     .opts = {"endpoint=" EP},
     .replies = {{304, "ETag: \"x\"\n", ""}},
     .want = EI_BADDATA,
     .want_text = "304 Not Modified to a request without If-None-Match",
     .reqs = {{BULK, NULL, {"-If-None-Match"}}}},
    {.name = "etag-then-304-keeps-values",
     .want_log = WARN_DISABLED,
     .opts = {"endpoint=" EP},
     .replies = {{200, "ETag: W/\"v1\"\n", REPLY},
                 {304, "ETag: W/\"v1\"\n", ""}},
     .fetches = 2,
     .entries = {ENTRIES(EP)},
     .reqs = {{BULK, NULL, {"-If-None-Match"}},
              {BULK, NULL, {"If-None-Match: W/\"v1\""}}}},
    {.name = "etag-changed-then-no-etag",
     .want_log = WARN_DISABLED,
     .opts = {"endpoint=" EP},
     .replies = {{200, "ETag: \"v1\"\n", REPLY},
                 {200, "ETag: \"v2\"\n", FLAGS(F("a", ",\"value\":\"x\""))},
                 {200, NULL, FLAGS(F("b", ",\"value\":\"y\""))},
                 {200, NULL, FLAGS(F("c", ",\"value\":\"z\""))}},
     .fetches = 4,
     .entries = {{"FF_c", "z", "flag c (" EP ")"}},
     .reqs = {{BULK, NULL, {"-If-None-Match"}},
              {BULK, NULL, {"If-None-Match: \"v1\""}},
              {BULK, NULL, {"If-None-Match: \"v2\""}},
              {BULK, NULL, {"-If-None-Match"}}}},
    {.name = "etag-with-control-character-not-kept",
     .want_log = WARN_DISABLED "\n" WARN_DISABLED,
     .opts = {"endpoint=" EP},
     .replies = {{200, "ETag: \"a\tb\"\n", REPLY}, {200, NULL, REPLY}},
     .fetches = 2,
     .entries = {ENTRIES(EP)},
     .reqs = {{BULK, NULL, {"-If-None-Match"}},
              {BULK, NULL, {"-If-None-Match"}}}},
    {.name = "no-endpoint",
     .want_configure = EI_BADCONFIG,
     .want_text = "endpoint is required"},
    {.name = "endpoint-with-ofrep-path",
     .opts = {"endpoint=" EP "/ofrep/v1/evaluate/flags"},
     .want_configure = EI_BADCONFIG,
     .want_text = "endpoint is the base URL, the part before /ofrep"},
    {.name = "endpoint-with-query",
     .opts = {"endpoint=" EP "?x=1"},
     .want_configure = EI_BADCONFIG,
     .want_text = "endpoint is a base URL: no query or fragment"},
    {.name = "header-without-colon",
     .opts = {"endpoint=" EP, "headers=X-API-Key " TOKEN},
     .want_configure = EI_BADCONFIG,
     .want_text = "header 1 is not \"Name: value\""},
    {.name = "header-bad-name",
     .opts = {"endpoint=" EP, "headers=X-A(b): c"},
     .want_configure = EI_BADCONFIG,
     .want_text = "header 1 is not \"Name: value\""},
    {.name = "header-line-break",
     .opts = {"endpoint=" EP, "headers=X-A: b", "headers=X-B: " CANARY "\r\nX"},
     .want_configure = EI_BADCONFIG,
     .want_text = "header 2 (X-B) has a control character in its value"},
    {.name = "header-the-provider-sends",
     .opts = {"endpoint=" EP, "headers=content-type: text/plain"},
     .want_configure = EI_BADCONFIG,
     .want_text = "header 1: Content-Type is the provider's own"},
    {.name = "token-file-and-authorization-header",
     .opts = {"endpoint=" EP, "token_file=tok",
              "headers=authorization: Bearer " TOKEN},
     .want_configure = EI_BADCONFIG,
     .want_text = "give token_file or an Authorization (or X-API-Key) header, "
                  "not both"},
    {.name = "empty-flags-item",
     .opts = {"endpoint=" EP, "flags=a", "flags="},
     .want_configure = EI_BADCONFIG,
     .want_text = "flags: item 2 is empty"},
    {.name = "context-not-a-group",
     .opts = {"endpoint=" EP, "context=\"user-1\""},
     .want_configure = EI_BADCONFIG,
     .want_text = "context must be a group"},
    {.name = "targeting-key-not-a-string",
     .opts = {"endpoint=" EP, "context={\"targetingKey\":42}"},
     .want_configure = EI_BADCONFIG,
     .want_text = "context.targetingKey must be a string"},
    {.name = "flag-prefix-too-long",
     .opts = {"endpoint=" EP,
              "flag_prefix=PPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPP"
              "PPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPP"
              "PPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPP"
              "PPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPP"
              "PPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPP"},
     .want_configure = EI_BADCONFIG,
     .want_text = "flag_prefix longer than 255 bytes"},
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
        assert_non_null(r[i].body);
        assert_string_equal(r[i].body, want[i].body != NULL
                                           ? want[i].body
                                           : "{\"context\":{}}");
        assert_int_equal(r[i].flags, EI_HTTP_SECRET);
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
        assert_int_equal(e->name_n, 1);
        assert_string_equal(e->value, w->value);
        assert_non_null(e->locator);
        assert_string_equal(e->locator, w->locator);
        assert_int_equal(e->flags, 0);
    }
}

static void push_replies(struct fake_host *fh, const struct reply *replies)
{
    for (size_t i = 0;
         i < REPLIES_N && (replies[i].status != 0 || replies[i].flags != 0);
         i++)
        assert_int_equal(fake_host_http_push_headers(
                             fh, replies[i].status, replies[i].headers,
                             replies[i].body, replies[i].flags),
                         0);
}

/* How often text occurs in log. */
static size_t log_count(const char *log, const char *text)
{
    size_t n = 0;
    for (const char *p = log; (p = strstr(p, text)) != NULL; p++)
        n++;
    return n;
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
    push_replies(fh, c->replies);
    const struct ei_host *h = fake_host_host(fh);

    struct ei_error err = {0};
    void *st = NULL;
    enum ei_status got = ei_provider_ofrep.configure(h, &st, &err);
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
    int fetches = c->fetches > 0 ? c->fetches : 1;
    for (int f = 0; f < fetches; f++) {
        struct fake_sink fs;
        fake_sink_init(&fs);
        struct ei_deadline dl;
        fake_deadline(&dl, DL_DEFAULT);
        got = ei_provider_ofrep.fetch(st, &fs.sink, &dl, &err);
        assert_false(fs.abi_violation);
        if (f + 1 < fetches) {
            assert_int_equal(got, EI_OK);
            fake_sink_free(&fs);
            continue;
        }
        assert_int_equal(got, c->want);
        assert_int_equal(err.status, got);
        if (got == EI_OK) {
            check_entries(c, &fs);
        } else {
            if (strstr(err.text, c->want_text) == NULL)
                fail_msg("error text '%s' lacks '%s'", err.text, c->want_text);
            if (c->want_locator != NULL &&
                strstr(err.locator, c->want_locator) == NULL)
                fail_msg("locator '%s' lacks '%s'", err.locator,
                         c->want_locator);
        }
        fake_sink_free(&fs);
    }
    /* a warning is given once, not again for the kept answer of a 304 */
    assert_string_equal(fake_host_warnings(fh),
                        c->want_log != NULL ? c->want_log : "");
    if (c->want_not_log != NULL)
        assert_null(strstr(fake_host_log(fh), c->want_not_log));
    check_requests(c->reqs, fh);
    assert_int_equal(fake_host_http_pending(fh), 0);
    ei_provider_ofrep.destroy(st);
    assert_int_equal(fake_host_http_clients(fh), 0);
done:
    check_no_leak(&err);
    assert_null(strstr(fake_host_log(fh), CANARY));
    fake_host_free(fh);
    expand_list_free(opts);
    expand_list_free(env);
}

/* --- flagd's own evaluator as the judge --- */

/*
 * tests/fixtures/ofrep/evaluations.json holds, for 50 contexts, the bulk
 * reply an OFREP server built on @openfeature/flagd-core gives for
 * flags.json, and the text JavaScript writes for each value.  For each
 * context the provider sends that context (given as a typed group) and
 * must emit exactly the expected flags, with exactly those texts.
 */
static void test_flagd_fixture(void **state)
{
    const char *top = getenv("top_srcdir");
    char path[PATH_SIZE];
    snprintf(path, sizeof path, "%s/tests/fixtures/ofrep/evaluations.json",
             top != NULL ? top : ".");
    json_error_t je;
    json_t *fx = json_load_file(path, 0, &je);
    if (fx == NULL)
        fail_msg("%s: %s", path, je.text);
    const json_t *contexts = json_object_get(fx, "contexts");
    assert_true(json_array_size(contexts) >= 50);
    size_t matched = 0, flags_n = json_array_size(json_object_get(fx, "flags"));
    size_t i;
    const json_t *c;
    json_array_foreach(contexts, i, c)
    {
        const json_t *ctx = json_object_get(c, "context");
        char *ctx_text = json_dumps(ctx, JSON_COMPACT | JSON_PRESERVE_ORDER);
        char *reply = json_dumps(json_object_get(c, "response"), JSON_COMPACT);
        size_t opt_len = strlen(ctx_text) + 16;
        char *opt = malloc(opt_len);
        assert_non_null(opt);
        snprintf(opt, opt_len, "context=%s", ctx_text);
        const char *opts[] = {"endpoint=" EP, opt, NULL};
        struct fake_host *fh = fake_host_new(opts, NULL, NULL);
        assert_non_null(fh);
        assert_int_equal(fake_host_http_push(fh, 200, reply, 0), 0);
        const struct ei_host *h = fake_host_host(fh);
        struct ei_error err = {0};
        void *st = NULL;
        assert_int_equal(ei_provider_ofrep.configure(h, &st, &err), EI_OK);
        struct fake_sink fs;
        fake_sink_init(&fs);
        struct ei_deadline dl;
        fake_deadline(&dl, DL_DEFAULT);
        assert_int_equal(ei_provider_ofrep.fetch(st, &fs.sink, &dl, &err),
                         EI_OK);
        /* the request carried the context as the evaluator saw it */
        const struct fake_http_request *r = fake_host_http_requests(fh, NULL);
        json_t *sent = json_loads(r[0].body, 0, NULL);
        assert_true(json_equal(json_object_get(sent, "context"), ctx));
        json_decref(sent);
        const json_t *expected = json_object_get(c, "expected");
        assert_int_equal(fs.n, json_object_size(expected));
        const char *key;
        const json_t *want;
        json_object_foreach((json_t *)expected, key, want)
        {
            char name[PATH_SIZE];
            snprintf(name, sizeof name, "FF_%s", key);
            const struct fake_entry *e = fake_sink_find(&fs, name);
            if (e == NULL)
                fail_msg("context %zu: %s not emitted", i, name);
            if (strcmp(e->value, json_string_value(want)) != 0)
                fail_msg("context %zu: %s is '%s', flagd-core says '%s'", i,
                         name, e->value, json_string_value(want));
            matched++;
        }
        /* each left-out flag with an error warns once; defaults do not */
        size_t errors = 0;
        const json_t *item;
        size_t k;
        json_array_foreach(
            json_object_get(json_object_get(c, "response"), "flags"), k, item)
        {
            errors += json_object_get(item, "errorCode") != NULL;
        }
        assert_int_equal(log_count(fake_host_warnings(fh), "left out"), errors);
        fake_sink_free(&fs);
        ei_provider_ofrep.destroy(st);
        fake_host_free(fh);
        free(opt);
        free(reply);
        free(ctx_text);
    }
    print_message("# flagd-core fixture: %zu contexts x %zu flags, %zu "
                  "values matched\n",
                  json_array_size(contexts), flags_n, matched);
    assert_true(matched >= 400);
    json_decref(fx);
}

static void test_descriptor(void **state)
{
    const struct ei_provider *p = &ei_provider_ofrep;
    assert_int_equal(p->abi, EI_PROVIDER_ABI);
    assert_int_equal(p->size, sizeof(struct ei_provider));
    assert_string_equal(p->name, "ofrep");
    assert_string_equal(p->arg_option, "endpoint");
    assert_int_equal(p->flags, EI_PROV_REMOTE);
    assert_non_null(p->configure);
    assert_non_null(p->fetch);
    assert_null(p->lookup);
    assert_non_null(p->destroy);
    p->destroy(NULL);
}

/* An older envinject, whose host table ends before opt_json. */
static void test_old_host(void **state)
{
    const char *opts[] = {"endpoint=" EP, NULL};
    struct fake_host *fh = fake_host_new(opts, NULL, NULL);
    assert_non_null(fh);
    fake_host_set_size(fh, offsetof(struct ei_host, opt_json));
    struct ei_error err = {0};
    void *st = NULL;
    assert_int_equal(ei_provider_ofrep.configure(fake_host_host(fh), &st, &err),
                     EI_BADCONFIG);
    assert_null(st);
    assert_non_null(strstr(err.text, "the host has no opt_json"));
    fake_host_free(fh);
}

static int group_setup(void **state)
{
    const char *base = getenv("TMPDIR");
    int n = snprintf(tmpdir, sizeof tmpdir, "%s/test_ofrep.XXXXXX",
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

#define EXTRA_N 4

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
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_parse_out_of_memory);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_flagd_fixture);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_descriptor);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_old_host);
    if (t != sizeof tests / sizeof tests[0])
        return 1;
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
