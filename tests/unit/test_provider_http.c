/* SPDX-License-Identifier: MIT */
/* Unit tests of the http provider (providers/http.c): RFC 6901 JSON
   Pointers with the RFC's own examples, the flattening of Spring Cloud
   Config Environments, every option and error through the fake host's
   canned HTTP, and the ETag / 304 path over several fetches. */

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
#include "http_parse.h"
#include "safetext.h"
#include "yamlflat.h"

/* The parsers need only the host's safe_text. */
static const struct ei_host text_host = {
    .abi = EI_HOST_ABI,
    .size = sizeof(struct ei_host),
    .safe_text = ei_host_safe_text,
};
#include "host.h"

extern const struct ei_provider ei_provider_http;

#define CANARY     "EI_CANARY_h77pc4n4ry"
#define TOKEN      "tok-" CANARY
#define PATH_SIZE  512
#define OUT_SIZE   4096
#define OPTS_N     10
#define FILES_N    2
#define REPLIES_N  4
#define REQS_N     4
#define HDRS_N     5
#define WANT_N     6
#define DL_DEFAULT 5000
/* longer than the provider keeps (HTTP_ETAG_MAX in http.c) */
#define HTTP_ETAG_MAX_TEST 1100

static void check_no_leak(const struct ei_error *err)
{
    assert_null(strstr(err->text, CANARY));
    assert_null(strstr(err->locator, CANARY));
    assert_null(strchr(err->text, '\n'));
}

static void want_text(const struct ei_error *err, const char *want)
{
    if (want != NULL && strstr(err->text, want) == NULL)
        fail_msg("error text '%s' lacks '%s'", err->text, want);
}

/* --- JSON Pointer: RFC 6901 section 5, then the errors --- */

/* The document of RFC 6901 section 5. */
#define RFC_DOC                                                                \
    "{\"foo\": [\"bar\", \"baz\"], \"\": 0, \"a/b\": 1, \"c%d\": 2, "          \
    "\"e^f\": 3, \"g|h\": 4, \"i\\\\j\": 5, \"k\\\"l\": 6, \" \": 7, "         \
    "\"m~n\": 8}"

struct ptr_case {
    const char *name;
    const char *doc;
    const char *ptr;
    const char *want; /* compact JSON of the result; NULL: an error */
    const char *want_text;
};

static const struct ptr_case ptr_cases[] = {
    {"rfc-whole-document", RFC_DOC, "", RFC_DOC, NULL},
    {"rfc-foo", RFC_DOC, "/foo", "[\"bar\", \"baz\"]", NULL},
    {"rfc-foo-0", RFC_DOC, "/foo/0", "\"bar\"", NULL},
    {"rfc-empty-key", RFC_DOC, "/", "0", NULL},
    {"rfc-slash-escaped", RFC_DOC, "/a~1b", "1", NULL},
    {"rfc-percent", RFC_DOC, "/c%d", "2", NULL},
    {"rfc-caret", RFC_DOC, "/e^f", "3", NULL},
    {"rfc-bar", RFC_DOC, "/g|h", "4", NULL},
    {"rfc-backslash", RFC_DOC, "/i\\j", "5", NULL},
    {"rfc-quote", RFC_DOC, "/k\"l", "6", NULL},
    {"rfc-space", RFC_DOC, "/ ", "7", NULL},
    {"rfc-tilde-escaped", RFC_DOC, "/m~0n", "8", NULL},
    {"tilde-01-is-tilde-1", "{\"~1\": 9, \"/\": 10}", "/~01", "9", NULL},
    {"tilde-10-is-slash-0", "{\"/0\": 11}", "/~10", "11", NULL},
    {"nested", "{\"a\": {\"b\": {\"c\": true}}}", "/a/b", "{\"c\": true}",
     NULL},
    {"array-then-object", "{\"l\": [{\"x\": 1}, {\"y\": 2}]}", "/l/1",
     "{\"y\": 2}", NULL},
    {"digits-on-object-are-names", "{\"01\": 1, \"-\": 2}", "/-", "2", NULL},
    {"dash-is-past-the-end", RFC_DOC, "/foo/-", NULL,
     "\"-\" at \"/foo\" names the element after the last"},
    {"leading-zero-refused", RFC_DOC, "/foo/01", NULL,
     "an array index is 0 or digits without a leading zero"},
    {"index-past-end", RFC_DOC, "/foo/2", NULL,
     "the array at \"/foo\" has 2 elements"},
    {"huge-index", RFC_DOC, "/foo/99999999999999999999999", NULL,
     "the array at \"/foo\" has 2 elements"},
    {"name-on-array", RFC_DOC, "/foo/x", NULL, "an array index is"},
    {"missing-member", RFC_DOC, "/nope", NULL,
     "the object at \"\" has no member \"nope\""},
    {"missing-nested-member", "{\"a\": {\"b\": 1}}", "/a/c", NULL,
     "the object at \"/a\" has no member \"c\""},
    {"into-a-string", RFC_DOC, "/foo/0/x", NULL,
     "\"/foo/0\" is a string, not an object or array"},
    {"into-a-number", RFC_DOC, "/a~1b/x", NULL,
     "\"/a~1b\" is a number, not an object or array"},
    {"into-null", "{\"n\": null}", "/n/x", NULL, "\"/n\" is null"},
};

#define PTR_CASES_N (sizeof ptr_cases / sizeof ptr_cases[0])

static void test_pointer(void **state)
{
    const struct ptr_case *c = *state;
    size_t bad = 99;
    assert_int_equal(ei_jsonptr_check(c->ptr, &bad), 0);
    json_t *doc = json_loads(c->doc, 0, NULL);
    assert_non_null(doc);
    const json_t *got = NULL;
    struct ei_error err = {0};
    enum ei_status st = ei_jsonptr_eval(doc, c->ptr, "u", &got, &err);
    if (c->want == NULL) {
        assert_int_equal(st, EI_BADDATA);
        assert_null(got);
        assert_string_equal(err.locator, "u");
        want_text(&err, c->want_text);
    } else {
        assert_int_equal(st, EI_OK);
        json_t *want = json_loads(c->want, JSON_DECODE_ANY, NULL);
        assert_non_null(want);
        assert_true(json_equal(got, want));
        json_decref(want);
    }
    json_decref(doc);
}

struct syntax_case {
    const char *ptr;
    int want;
    size_t bad_at;
};

static void test_pointer_syntax(void **state)
{
    (void)state;
    static const struct syntax_case cases[] = {
        {"", 0, 0},      {"/", 0, 0},     {"/a/b", 0, 0}, {"//", 0, 0},
        {"/~0~1", 0, 0}, {"a", -1, 0},    {"a/b", -1, 0}, {"/a~", -1, 2},
        {"/a~2", -1, 2}, {"/~/x", -1, 1}, {"#/a", -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t bad = 99;
        assert_int_equal(ei_jsonptr_check(cases[i].ptr, &bad), cases[i].want);
        if (cases[i].want < 0)
            assert_int_equal(bad, cases[i].bad_at);
    }
    char longp[EI_JSONPTR_MAX + 2];
    memset(longp, 'a', sizeof longp);
    longp[0] = '/';
    longp[sizeof longp - 1] = '\0';
    size_t bad = 0;
    assert_int_equal(ei_jsonptr_check(longp, &bad), -1);
    assert_int_equal(bad, EI_JSONPTR_MAX + 1);
}

/* --- Spring Cloud Config: one table --- */

#define ENV_OPEN                                                               \
    "{\"name\": \"myapp\", \"profiles\": [\"prod\"], \"label\": null, "        \
    "\"version\": \"3f2a\", \"state\": null, \"propertySources\": ["
#define ENV_CLOSE     "]}"
#define PS(name, src) "{\"name\": \"" name "\", \"source\": {" src "}}"

struct spring_case {
    const char *name;
    const char *in;
    enum ei_status want;
    const char *want_out; /* "seg/seg=value@source;" per property */
    const char *want_text;
    size_t fail_at;
};

static const struct spring_case spring_cases[] = {
    /* protocols-config-services.md 2.2, the Vault example */
    {"reference-example",
     ENV_OPEN PS("vault:myapp", "\"foo\": \"myappsbar\"") ", " PS(
         "vault:application", "\"baz\": \"bam\", \"foo\": \"bar\"") ENV_CLOSE,
     EI_OK, "foo=myappsbar@vault:myapp;baz=bam@vault:application;", NULL, 0},
    {"dotted-names-split",
     ENV_OPEN PS("git:app-prod.yml",
                 "\"spring.datasource.url\": \"jdbc:pg://db/app\"") ENV_CLOSE,
     EI_OK, "spring/datasource/url=jdbc:pg://db/app@git:app-prod.yml;", NULL,
     0},
    {"dashes-dropped-relaxed-binding",
     ENV_OPEN PS("s", "\"spring.main.log-startup-info\": \"false\"") ENV_CLOSE,
     EI_OK, "spring/main/logstartupinfo=false@s;", NULL, 0},
    {"list-index-own-segment",
     ENV_OPEN PS("s", "\"my.service[0].other\": \"x\", \"list[1]\": \"b\", "
                      "\"list[0]\": \"a\"") ENV_CLOSE,
     EI_OK, "my/service/0/other=x@s;list/1=b@s;list/0=a@s;", NULL, 0},
    {"nested-list-indexes", ENV_OPEN PS("s", "\"m[0][1]\": \"x\"") ENV_CLOSE,
     EI_OK, "m/0/1=x@s;", NULL, 0},
    {"higher-source-gives-the-whole-list",
     ENV_OPEN PS("hi", "\"servers[0]\": \"a\"") ", " PS(
         "lo", "\"servers[0]\": \"x\", \"servers[1]\": \"y\", \"other\": "
               "\"o\"") ENV_CLOSE,
     EI_OK, "servers/0=a@hi;other=o@lo;", NULL, 0},
    {"list-of-objects-replaced-whole",
     ENV_OPEN PS("hi", "\"db.hosts[0].name\": \"a\"") ", " PS(
         "lo", "\"db.hosts[0].port\": \"1\", \"db.hosts[1].name\": "
               "\"b\"") ENV_CLOSE,
     EI_OK, "db/hosts/0/name=a@hi;", NULL, 0},
    {"first-wins-across-spellings",
     ENV_OPEN PS("hi", "\"a.b-c\": \"1\", \"Foo.Bar\": \"2\"") ", " PS(
         "lo", "\"a.bc\": \"3\", \"foo.bar\": \"4\"") ENV_CLOSE,
     EI_OK, "a/bc=1@hi;Foo/Bar=2@hi;", NULL, 0},
    {"two-spellings-in-one-source-both-go-on",
     ENV_OPEN PS("s", "\"a.b-c\": \"1\", \"a.bc\": \"2\"") ENV_CLOSE, EI_OK,
     "a/bc=1@s;a/bc=2@s;", NULL, 0},
    {"spring-profiles-dropped",
     ENV_OPEN PS("s", "\"spring.profiles\": \"prod\", \"x\": \"1\"") ENV_CLOSE,
     EI_OK, "x=1@s;", NULL, 0},
    {"scalars-as-text",
     ENV_OPEN PS("s", "\"i\": 5432, \"r\": 0.5, \"t\": true, \"f\": false, "
                      "\"n\": null") ENV_CLOSE,
     EI_OK, "i=5432@s;r=0.5@s;t=true@s;f=false@s;n=@s;", NULL, 0},
    {"value-origin-unwrapped",
     ENV_OPEN PS("s", "\"a\": {\"value\": \"v\", \"origin\": \"app.yml:3:5\"}, "
                      "\"b\": {\"value\": 7, \"origin\": \"x\"}") ENV_CLOSE,
     EI_OK, "a=v@s;b=7@s;", NULL, 0},
    {"aggregate-as-json-text",
     ENV_OPEN PS("s", "\"o\": {\"k\": [1, 0.1]}") ENV_CLOSE, EI_OK,
     "o={\"k\":[1,0.1]}@s;", NULL, 0},
    {"bracketed-map-key", ENV_OPEN PS("s", "\"map[key.x]\": \"v\"") ENV_CLOSE,
     EI_OK, "map/key.x=v@s;", NULL, 0},
    {"no-sources-no-keys", ENV_OPEN ENV_CLOSE, EI_OK, "", NULL, 0},
    {"empty-source", ENV_OPEN PS("s", "") ENV_CLOSE, EI_OK, "", NULL, 0},
    {"nameless-source", ENV_OPEN "{\"source\": {\"x\": \"1\"}}" ENV_CLOSE,
     EI_OK, "x=1@propertySources[0];", NULL, 0},
    {"invalid-key-is-an-error",
     ENV_OPEN PS("vault:myapp", "\"invalid.db.password\": \"" CANARY "\"")
         ENV_CLOSE,
     EI_BADDATA, NULL,
     "property db.password of vault:myapp: the server could not decrypt its "
     "value (it sent invalid.db.password)",
     0},
    {"invalid-key-even-when-a-plain-one-follows",
     ENV_OPEN PS("a", "\"invalid.pw\": \"<n/a>\"") ", " PS(
         "b", "\"pw\": \"" CANARY "\"") ENV_CLOSE,
     EI_BADDATA, NULL, "property pw of a: the server could not decrypt", 0},
    {"cipher-value-is-an-error",
     ENV_OPEN PS("git", "\"db.password\": \"{cipher}" CANARY "\"") ENV_CLOSE,
     EI_BADDATA, NULL,
     "property db.password of git is still encrypted ({cipher}...)", 0},
    {"nul-in-value",
     ENV_OPEN PS("s", "\"pw\": \"a\\u0000" CANARY "\"") ENV_CLOSE, EI_BADDATA,
     NULL, "property pw of s holds a NUL byte", 0},
    {"name-without-segments", ENV_OPEN PS("s", "\"-.[]\": \"x\"") ENV_CLOSE,
     EI_BADDATA, NULL, "has no name to map", 0},
    {"not-an-environment", "{\"db\": {\"host\": \"x\"}}", EI_BADDATA, NULL,
     "not a Spring Cloud Config Environment (no propertySources list)", 0},
    {"array-top-level", "[]", EI_BADDATA, NULL,
     "not a Spring Cloud Config Environment", 0},
    {"source-not-object",
     ENV_OPEN "{\"name\": \"a\", \"source\": []}" ENV_CLOSE, EI_BADDATA, NULL,
     "propertySources[0] is not {\"name\"", 0},
    {"source-name-number",
     ENV_OPEN PS("a", "") ", {\"name\": 3, \"source\": {}}" ENV_CLOSE,
     EI_BADDATA, NULL, "propertySources[1] is not", 0},
    {"malformed-json", ENV_OPEN PS("s", "\"pw\": \"" CANARY), EI_BADDATA, NULL,
     "premature end of input", 0},
    {"html-login-page", "<html><body>" CANARY "</body></html>", EI_BADDATA,
     NULL, "invalid token at column 1", 0},
    {"callback-stops", ENV_OPEN PS("s", "\"a\": \"1\", \"b\": \"2\"") ENV_CLOSE,
     EI_DENIED, NULL, "stopped", 2},
};

#define SPRING_CASES_N (sizeof spring_cases / sizeof spring_cases[0])

struct collect {
    char out[OUT_SIZE];
    size_t calls;
    size_t fail_at;
};

static int collect_spring(void *ctx, const char *const *name, size_t name_n,
                          const char *value, size_t value_len, const char *key,
                          const char *source, struct ei_error *err)
{
    struct collect *c = ctx;
    c->calls++;
    assert_non_null(key);
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
        assert_true(name[i][0] != '\0');
        o += (size_t)snprintf(c->out + o, sizeof c->out - o, "%s%s",
                              i > 0 ? "/" : "", name[i]);
    }
    snprintf(c->out + o, sizeof c->out - o, "=%s@%s;", value, source);
    return 0;
}

static void test_spring(void **state)
{
    const struct spring_case *c = *state;
    struct collect col = {.fail_at = c->fail_at};
    struct ei_error err = {0};
    size_t keys = 99;
    enum ei_status got =
        ei_spring_parse(&text_host, c->in, strlen(c->in), "http://cfg/app/prod",
                        collect_spring, &col, &keys, &err);
    assert_int_equal(got, c->want);
    assert_int_equal(err.status, got);
    if (got == EI_OK) {
        assert_string_equal(col.out, c->want_out);
        size_t n = 0;
        for (const char *p = col.out; (p = strchr(p, ';')) != NULL; p++)
            n++;
        assert_int_equal(keys, n);
    } else {
        want_text(&err, c->want_text);
        if (c->fail_at == 0)
            assert_true(strncmp(err.locator, "http://cfg/app/prod", 19) == 0);
    }
    check_no_leak(&err);
}

/* --- the provider through the fake host --- */

#define URL      "http://cfg:8080/myapp/prod/settings.json"
#define ORIGIN   "http://cfg:8080"
#define GET_JSON "GET /myapp/prod/settings.json"
#define SETTINGS                                                               \
    "{\"db\": {\"host\": \"db.prod\", \"port\": 5432}, \"log_level\": "        \
    "\"info\", \"data\": {\"pw\": \"" CANARY "\"}}"
#define SETTINGS_ENTRIES(loc)                                                  \
    {"db/host", 2, "db.prod", loc}, {"db/port", 2, "5432", loc},               \
        {"log_level", 1, "info", loc},                                         \
    {                                                                          \
        "data/pw", 2, CANARY, loc                                              \
    }
#define SPRING_BODY                                                            \
    ENV_OPEN PS("vault:myapp", "\"spring.datasource.url\": \"" CANARY          \
                               "\"") ", " PS("git:application.yml",            \
                                             "\"list[0]\": \"a\"") ENV_CLOSE
#define JSON_CT "Content-Type: application/json\n"

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
    const char *hdrs[HDRS_N]; /* "Name: value", or "-Name": absent */
    const char *endpoint;     /* NULL: not checked */
};

struct want_entry {
    const char *name; /* segments joined with '/' */
    size_t name_n;
    const char *value;
    const char *locator;
    unsigned flags;
};

struct ccase {
    const char *name;
    const char *opts[OPTS_N]; /* "%D" is the case's folder */
    const char *arg;
    const char *environment;
    bool yaml; /* skipped until the YAML reader is in */
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
    {.name = "json-settings",
     .opts = {"url=" URL},
     .replies = {{200, JSON_CT, SETTINGS}},
     .entries = {SETTINGS_ENTRIES(URL)},
     .reqs = {{GET_JSON,
               {"Accept: application/json", "-Authorization", "-If-None-Match"},
               ORIGIN}}},
    {.name = "url-from-arg",
     .arg = URL,
     .replies = {{200, NULL, "{\"a\": 1}"}},
     .entries = {{"a", 1, "1", URL}},
     .reqs = {{GET_JSON, {NULL}, ORIGIN}}},
    {.name = "query-sent-never-shown",
     .opts = {"url=https://cfg/s.json?app=x&key=" CANARY},
     .replies = {{200, NULL, "{\"a\": 1}"}},
     .entries = {{"a", 1, "1", "https://cfg/s.json"}},
     .reqs = {{"GET /s.json?app=x&key=" CANARY, {NULL}, "https://cfg"}}},
    {.name = "bare-origin-asks-for-root",
     .opts = {"url=http://cfg:8080"},
     .replies = {{404, NULL, ""}},
     .want = EI_NOTFOUND,
     .want_text = "not found (HTTP 404)",
     .want_locator = "http://cfg:8080/",
     .reqs = {{"GET /", {NULL}, ORIGIN}}},
    {.name = "query-on-origin",
     .opts = {"url=http://cfg?x=1"},
     .replies = {{200, NULL, "{}"}},
     .reqs = {{"GET /?x=1", {NULL}, "http://cfg"}}},
    {.name = "select-member",
     .opts = {"url=" URL, "select=/data"},
     .replies = {{200, NULL, SETTINGS}},
     .entries = {{"pw", 1, CANARY, URL}},
     .reqs = {{GET_JSON}}},
    {.name = "select-root",
     .opts = {"url=" URL, "select="},
     .replies = {{200, NULL, "{\"a\": 1}"}},
     .entries = {{"a", 1, "1", URL}},
     .reqs = {{GET_JSON}}},
    {.name = "select-array-element",
     .opts = {"url=" URL, "select=/items/1"},
     .replies = {{200, NULL, "{\"items\": [{\"a\": 1}, {\"b\": 2}]}"}},
     .entries = {{"b", 1, "2", URL}},
     .reqs = {{GET_JSON}}},
    {.name = "select-nothing",
     .opts = {"url=" URL, "select=/config"},
     .replies = {{200, NULL, SETTINGS}},
     .want = EI_BADDATA,
     .want_text = "select \"/config\": the object at \"\" has no member "
                  "\"config\"",
     .want_locator = URL,
     .reqs = {{GET_JSON}}},
    {.name = "select-not-an-object",
     .opts = {"url=" URL, "select=/log_level"},
     .replies = {{200, NULL, SETTINGS}},
     .want = EI_BADDATA,
     .want_text = "select \"/log_level\" is a string, not an object",
     .reqs = {{GET_JSON}}},
    {.name = "top-level-array",
     .opts = {"url=" URL},
     .replies = {{200, NULL, "[1, 2]"}},
     .want = EI_BADDATA,
     .want_text = "top level is an array, expected an object",
     .reqs = {{GET_JSON}}},
    {.name = "malformed-json-names-url",
     .opts = {"url=" URL},
     .replies = {{200, JSON_CT, "{\"pw\": \"" CANARY}},
     .want = EI_BADDATA,
     .want_text = "premature end of input",
     .want_locator = URL ":1",
     .reqs = {{GET_JSON}}},
    {.name = "html-login-page",
     .opts = {"url=" URL},
     .replies = {{200, "Content-Type: text/html; charset=utf-8\n",
                  "<html>" CANARY "</html>"}},
     .want = EI_BADDATA,
     .want_text = "the server sent an HTML page (Content-Type text/html, 33 "
                  "bytes), not json: a login page or a proxy's error page?",
     .want_locator = URL,
     .reqs = {{GET_JSON}}},
    {.name = "html-refused-for-dotenv-too",
     .opts = {"url=" URL, "format=dotenv"},
     .replies = {{200, "Content-Type: application/xhtml+xml\n", "A=1"}},
     .want = EI_BADDATA,
     .want_text = "not dotenv",
     .reqs = {{GET_JSON}}},
    {.name = "text-plain-json-accepted",
     .opts = {"url=" URL},
     .replies = {{200, "Content-Type: text/plain\n", "{\"a\": true}"}},
     .entries = {{"a", 1, "true", URL}},
     .reqs = {{GET_JSON}}},
    {.name = "dotenv-format",
     .opts = {"url=http://cfg/app.env", "format=dotenv"},
     .replies = {{200, NULL, "A=1\nexport B='x y'\n# c\nC=\"" CANARY "\"\n"}},
     .entries = {{"A", 1, "1", "http://cfg/app.env:1", EI_ENTRY_VERBATIM},
                 {"B", 1, "x y", "http://cfg/app.env:2",
                  EI_ENTRY_VERBATIM | EI_ENTRY_LITERAL},
                 {"C", 1, CANARY, "http://cfg/app.env:4", EI_ENTRY_VERBATIM}},
     .reqs = {{"GET /app.env", {"-Accept"}}}},
    {.name = "dotenv-malformed",
     .opts = {"url=http://cfg/app.env", "format=dotenv"},
     .replies = {{200, NULL, "A=1\nB=\"" CANARY "\n"}},
     .want = EI_BADDATA,
     .want_locator = "http://cfg/app.env:2",
     .reqs = {{"GET /app.env"}}},
    {.name = "headers-sent",
     .opts = {"url=" URL, "headers=X-Config-Token: " TOKEN,
              "headers=Accept: application/vnd.cfg+json"},
     .replies = {{200, NULL, "{}"}},
     .reqs = {{GET_JSON,
               {"X-Config-Token: " TOKEN,
                "Accept: application/vnd.cfg+json"}}}},
    {.name = "bearer-token-file",
     .opts = {"url=" URL, "token_file=tok"},
     .files = {{"tok", TOKEN "\r\n", 0600}},
     .replies = {{200, NULL, "{}"}},
     .reqs = {{GET_JSON, {"Authorization: Bearer " TOKEN}}}},
    {.name = "token-file-readable-by-others",
     .opts = {"url=" URL, "token_file=tok"},
     .files = {{"tok", TOKEN, 0644}},
     .want = EI_DENIED,
     .want_text = "chmod"},
    {.name = "token-file-missing-is-denied",
     .opts = {"url=" URL, "token_file=nope", "optional=true"},
     .want = EI_DENIED,
     .want_text = "token_file: "},
    {.name = "token-file-empty",
     .opts = {"url=" URL, "token_file=tok"},
     .files = {{"tok", " \n", 0600}},
     .want = EI_DENIED,
     .want_text = "token_file: the token is empty"},
    {.name = "token-header-injection",
     .opts = {"url=" URL, "token_file=tok"},
     .files = {{"tok", "a\r\nX-Evil: " CANARY, 0600}},
     .want = EI_DENIED,
     .want_text = "not allowed in a header at offset 1"},
    {.name = "basic-auth",
     .opts = {"url=" URL, "username=app", "password_file=pw"},
     .files = {{"pw", "s3:cr et\n", 0400}},
     .replies = {{200, NULL, "{}"}},
     /* base64 of "app:s3:cr et" */
     .reqs = {{GET_JSON, {"Authorization: Basic YXBwOnMzOmNyIGV0"}}}},
    {.name = "basic-auth-empty-password",
     .opts = {"url=" URL, "username=app", "password_file=pw"},
     .files = {{"pw", "", 0600}},
     .replies = {{200, NULL, "{}"}},
     .reqs = {{GET_JSON, {"Authorization: Basic YXBwOg=="}}}},
    {.name = "password-file-readable-by-others",
     .opts = {"url=" URL, "username=app", "password_file=pw"},
     .files = {{"pw", CANARY, 0640}},
     .want = EI_DENIED,
     .want_text = "password_file: readable by group or others"},
    {.name = "unauthorized-shows-challenge",
     .opts = {"url=" URL, "token_file=tok"},
     .files = {{"tok", TOKEN, 0600}},
     .replies = {{401,
                  "WWW-Authenticate: Bearer realm=\"cfg\", "
                  "error=\"invalid_token\"\n",
                  CANARY}},
     .want = EI_DENIED,
     .want_text = "authentication failed (HTTP 401, the bearer token of "
                  "token_file sent; the server asks for: Bearer realm=\"cfg\", "
                  "error=\"invalid_token\")",
     .reqs = {{GET_JSON}}},
    {.name = "unauthorized-without-credentials",
     .opts = {"url=" URL},
     .replies = {{401, NULL, ""}},
     .want = EI_DENIED,
     .want_text = "authentication failed (HTTP 401, no credentials sent)",
     .reqs = {{GET_JSON}}},
    {.name = "forbidden",
     .opts = {"url=" URL, "username=app", "password_file=pw"},
     .files = {{"pw", "x", 0600}},
     .replies = {{403, NULL, CANARY}},
     .want = EI_DENIED,
     .want_text = "permission denied (HTTP 403, basic authentication sent)",
     .reqs = {{GET_JSON}}},
    {.name = "gone-is-not-found",
     .opts = {"url=" URL},
     .replies = {{410, NULL, ""}},
     .want = EI_NOTFOUND,
     .want_text = "not found (HTTP 410)",
     .reqs = {{GET_JSON}}},
    {.name = "no-content-is-not-found",
     .opts = {"url=" URL},
     .replies = {{204, NULL, NULL}},
     .want = EI_NOTFOUND,
     .want_text = "no content (HTTP 204)",
     .reqs = {{GET_JSON}}},
    {.name = "redirect-to-login-hides-query",
     .opts = {"url=" URL},
     .replies = {{302, "Location: https://sso.example/login?t=" CANARY "\n",
                  ""}},
     .want = EI_BADDATA,
     .want_text = "the server redirects (HTTP 302) to "
                  "https://sso.example/login; envinject follows no redirect",
     .reqs = {{GET_JSON}}},
    {.name = "not-acceptable",
     .opts = {"url=" URL},
     .replies = {{406, NULL, ""}},
     .want = EI_BADDATA,
     .want_text = "(HTTP 406): set an Accept header",
     .reqs = {{GET_JSON}}},
    {.name = "teapot-unexpected",
     .opts = {"url=" URL},
     .replies = {{418, NULL, CANARY}},
     .want = EI_BADDATA,
     .want_text = "unexpected response (HTTP 418, 20 bytes)",
     .reqs = {{GET_JSON}}},
    {.name = "not-modified-unasked",
     .opts = {"url=" URL},
     .replies = {{304, NULL, NULL}},
     .want = EI_BADDATA,
     .want_text = "304 Not Modified to a request without If-None-Match",
     .reqs = {{GET_JSON}}},
    {.name = "rate-limited-then-served",
     .opts = {"url=" URL},
     .replies = {{429, "Retry-After: 1\n", ""}, {200, NULL, "{\"a\": 1}"}},
     .entries = {{"a", 1, "1", URL}},
     .reqs = {{GET_JSON}, {GET_JSON}}},
    {.name = "server-errors-until-given-up",
     .opts = {"url=" URL},
     .replies = {{500, NULL, ""}, {503, NULL, ""}},
     .want = EI_UNAVAILABLE,
     .want_text = "HTTP 503 after 2 attempts",
     .reqs = {{GET_JSON}, {GET_JSON}}},
    {.name = "slow-reply-hits-deadline",
     .opts = {"url=" URL},
     .replies = {{200, NULL, "{}", FAKE_HTTP_DELAY_MS(6000)}},
     .want = EI_UNAVAILABLE,
     .want_text = "(last: timeout)",
     .reqs = {{GET_JSON}}},
    {.name = "tls-options-go-to-the-engine",
     .opts = {"url=https://cfg/s.json", "cacert=%D/ca.pem", "insecure=false"},
     .replies = {{200, NULL, "{\"a\": 1}"}},
     .entries = {{"a", 1, "1", "https://cfg/s.json"}},
     .reqs = {{"GET /s.json", {NULL}, "https://cfg"}}},
    {.name = "response-too-large",
     .opts = {"url=" URL, "max_response_size=10"},
     .replies = {{200, NULL, SETTINGS}},
     .want = EI_BADDATA,
     .want_text = "response larger than 10 bytes",
     .reqs = {{GET_JSON}}},
    {.name = "sink-fails",
     .opts = {"url=" URL},
     .replies = {{200, NULL, SETTINGS}},
     .fail_at = 2,
     .want = EI_INTERNAL,
     .want_text = "failing emit 2",
     .reqs = {{GET_JSON}}},
    /* Spring Cloud Config */
    {.name = "spring-application-profile-label",
     .opts = {"url=http://cfg:8888/config/", "format=spring",
              "application=my app", "profile=prod,mysql", "label=feature/x"},
     .replies = {{200, JSON_CT, SPRING_BODY}},
     .entries = {{"spring/datasource/url", 3, CANARY,
                  "http://cfg:8888/config/my%20app/prod%2Cmysql/feature(_)x "
                  "(vault:myapp)",
                  EI_ENTRY_LITERAL},
                 {"list/0", 2, "a",
                  "http://cfg:8888/config/my%20app/prod%2Cmysql/feature(_)x "
                  "(git:application.yml)",
                  EI_ENTRY_LITERAL}},
     .reqs = {{"GET /config/my%20app/prod%2Cmysql/feature(_)x",
               {"Accept: application/json"},
               "http://cfg:8888"}}},
    {.name = "spring-profile-is-the-environment",
     .opts = {"url=http://cfg:8888", "format=spring", "application=myapp"},
     .environment = "staging",
     .replies = {{200, NULL, ENV_OPEN ENV_CLOSE}},
     .reqs = {{"GET /myapp/staging", {"Accept: application/json"}}}},
    {.name = "spring-profile-default",
     .opts = {"url=http://cfg:8888/?useLocal=1", "format=spring",
              "application=myapp"},
     .replies = {{200, NULL, ENV_OPEN ENV_CLOSE}},
     .reqs = {{"GET /myapp/default?useLocal=1"}}},
    {.name = "spring-whole-path-in-url",
     .opts = {"url=http://cfg:8888/myapp/prod", "format=spring"},
     .replies = {{200, NULL, SPRING_BODY}},
     .entries = {{"spring/datasource/url", 3, CANARY,
                  "http://cfg:8888/myapp/prod (vault:myapp)", EI_ENTRY_LITERAL},
                 {"list/0", 2, "a",
                  "http://cfg:8888/myapp/prod (git:application.yml)",
                  EI_ENTRY_LITERAL}},
     .reqs = {{"GET /myapp/prod"}}},
    {.name = "spring-invalid-property",
     .opts = {"url=http://cfg:8888/myapp/prod", "format=spring"},
     .replies = {{200, NULL,
                  ENV_OPEN PS("vault:myapp",
                              "\"invalid.db.password\": \"<n/a>\"") ENV_CLOSE}},
     .want = EI_BADDATA,
     .want_text = "property db.password of vault:myapp: the server could not "
                  "decrypt",
     .want_locator = "http://cfg:8888/myapp/prod",
     .reqs = {{"GET /myapp/prod"}}},
    {.name = "spring-application-not-found",
     .opts = {"url=http://cfg:8888/nope/prod", "format=spring"},
     .replies = {{404, JSON_CT, "{\"status\":404,\"error\":\"Not Found\"}"}},
     .want = EI_NOTFOUND,
     .reqs = {{"GET /nope/prod"}}},
    /* YAML: run once the libyaml reader is in */
    {.name = "yaml-format",
     .opts = {"url=http://cfg/app.yaml", "format=yaml"},
     .yaml = true,
     .replies = {{200, "Content-Type: application/yaml\n",
                  "db:\n  host: db.prod\n  port: 0777\nflag: on\n"}},
     .entries = {{"db/host", 2, "db.prod", "http://cfg/app.yaml"},
                 {"db/port", 2, "0777", "http://cfg/app.yaml"},
                 {"flag", 1, "on", "http://cfg/app.yaml"}},
     .reqs = {{"GET /app.yaml",
               {"Accept: application/yaml, "
                "application/x-yaml, text/yaml, "
                "text/plain;q=0.9, */*;q=0.8"}}}},
    {.name = "yaml-select",
     .opts = {"url=http://cfg/app.yaml", "format=yaml", "select=/spring/db"},
     .yaml = true,
     .replies = {{200, NULL, "spring:\n  db:\n    url: jdbc:x\n"}},
     .entries = {{"url", 1, "jdbc:x", "http://cfg/app.yaml"}},
     .reqs = {{"GET /app.yaml"}}},
    {.name = "yaml-profile-documents",
     .opts = {"url=http://cfg/app.yaml", "format=yaml"},
     .environment = "prod",
     .yaml = true,
     .replies = {{200, NULL,
                  "a: 1\n---\nspring:\n  config:\n    activate:\n"
                  "      on-profile: prod\na: 2\n---\nspring:\n  config:\n"
                  "    activate:\n      on-profile: dev\na: 3\n"}},
     .entries = {{"a", 1, "2", "http://cfg/app.yaml"}},
     .reqs = {{"GET /app.yaml"}}},
    {.name = "yaml-malformed",
     .opts = {"url=http://cfg/app.yaml", "format=yaml"},
     .yaml = true,
     .replies = {{200, NULL, "a: [1, 2\nb: " CANARY "\n"}},
     .want = EI_BADDATA,
     .want_locator = "http://cfg/app.yaml",
     .reqs = {{"GET /app.yaml"}}},
    /* configuration */
    {.name = "url-required",
     .opts = {"format=json"},
     .want_configure = EI_BADCONFIG,
     .want_text = "url is required"},
    {.name = "url-not-http",
     .opts = {"url=ftp://cfg/x.json"},
     .want_configure = EI_BADCONFIG,
     .want_text = "url is not an http:// or https:// URL"},
    {.name = "url-with-credentials",
     .opts = {"url=https://app:" CANARY "@cfg/x.json"},
     .want_configure = EI_BADCONFIG,
     .want_text = "credentials in URLs are not allowed"},
    {.name = "at-in-path-is-fine",
     .opts = {"url=http://cfg/users/@me.json"},
     .replies = {{200, NULL, "{}"}},
     .reqs = {{"GET /users/@me.json"}}},
    {.name = "url-with-fragment",
     .opts = {"url=http://cfg/x.json#top"},
     .want_configure = EI_BADCONFIG,
     .want_text = "url has a fragment"},
    {.name = "url-with-space",
     .opts = {"url=http://cfg/my app.json"},
     .want_configure = EI_BADCONFIG,
     .want_text = "url has a character not allowed in a URL at offset 13"},
    {.name = "url-without-host",
     .opts = {"url=http:///x.json"},
     .want_configure = EI_BADCONFIG,
     .want_text = "url has no host"},
    {.name = "format-unknown",
     .opts = {"url=" URL, "format=toml"},
     .want_configure = EI_BADCONFIG,
     .want_text = "unknown format 'toml' (expected json, dotenv, yaml or "
                  "spring)"},
    {.name = "select-with-dotenv",
     .opts = {"url=" URL, "format=dotenv", "select=/a"},
     .want_configure = EI_BADCONFIG,
     .want_text = "select applies to format json and yaml only"},
    {.name = "select-without-slash",
     .opts = {"url=" URL, "select=data"},
     .want_configure = EI_BADCONFIG,
     .want_text = "select is a JSON Pointer (RFC 6901)"},
    {.name = "select-bad-escape",
     .opts = {"url=" URL, "select=/a~2"},
     .want_configure = EI_BADCONFIG,
     .want_text = "'~' must be followed by 0 or 1"},
    {.name = "token-file-and-basic",
     .opts = {"url=" URL, "token_file=t", "username=u", "password_file=p"},
     .want_configure = EI_BADCONFIG,
     .want_text = "give token_file (Bearer) or username and password_file "
                  "(Basic), not both"},
    {.name = "username-without-password-file",
     .opts = {"url=" URL, "username=u"},
     .want_configure = EI_BADCONFIG,
     .want_text = "username and password_file go together"},
    {.name = "password-file-without-username",
     .opts = {"url=" URL, "password_file=p"},
     .want_configure = EI_BADCONFIG,
     .want_text = "username and password_file go together"},
    {.name = "username-with-colon",
     .opts = {"url=" URL, "username=a:b", "password_file=p"},
     .want_configure = EI_BADCONFIG,
     .want_text = "username must not be empty nor hold ':'"},
    {.name = "header-without-colon",
     .opts = {"url=" URL, "headers=X-Token " CANARY},
     .want_configure = EI_BADCONFIG,
     .want_text = "header 1 is not \"Name: value\""},
    {.name = "header-bad-name",
     .opts = {"url=" URL, "headers=X Token: a"},
     .want_configure = EI_BADCONFIG,
     .want_text = "header 1 is not \"Name: value\""},
    {.name = "header-injection",
     .opts = {"url=" URL, "headers=X-A: b", "headers=X-B: c\r\nX-Evil: d"},
     .want_configure = EI_BADCONFIG,
     .want_text = "header 2 has a control character (CR, LF, ...)"},
    {.name = "header-empty-value",
     .opts = {"url=" URL, "headers=X-A:  "},
     .want_configure = EI_BADCONFIG,
     .want_text = "header 1 has no value"},
    {.name = "header-owned-by-envinject",
     .opts = {"url=" URL, "headers=if-none-match: \"x\""},
     .want_configure = EI_BADCONFIG,
     .want_text = "header 1: envinject sets If-None-Match itself"},
    {.name = "authorization-header-and-token-file",
     .opts = {"url=" URL, "token_file=t", "headers=Authorization: Bearer x"},
     .want_configure = EI_BADCONFIG,
     .want_text = "header 1 is an Authorization header, and token_file or "
                  "username gives one too"},
    {.name = "authorization-header-alone",
     .opts = {"url=" URL, "headers=Authorization: Bearer " TOKEN},
     .replies = {{200, NULL, "{}"}},
     .reqs = {{GET_JSON, {"Authorization: Bearer " TOKEN}}}},
    {.name = "unauthorized-with-own-authorization-header",
     .opts = {"url=" URL, "headers=Authorization: Bearer " TOKEN},
     .replies = {{401, NULL, ""}},
     .want = EI_DENIED,
     .want_text = "(HTTP 401, the Authorization header of headers sent)",
     .reqs = {{GET_JSON}}},
    {.name = "spring-options-need-spring",
     .opts = {"url=" URL, "application=myapp"},
     .want_configure = EI_BADCONFIG,
     .want_text = "application, profile and label are options of format = "
                  "\"spring\""},
    {.name = "spring-profile-needs-application",
     .opts = {"url=" URL, "format=spring", "profile=prod"},
     .want_configure = EI_BADCONFIG,
     .want_text = "profile needs application"},
    {.name = "spring-profile-with-slash",
     .opts = {"url=" URL, "format=spring", "application=a", "profile=a/b"},
     .want_configure = EI_BADCONFIG,
     .want_text = "a profile has no '/'"},
    {.name = "spring-empty-label",
     .opts = {"url=" URL, "format=spring", "application=a", "label="},
     .want_configure = EI_BADCONFIG,
     .want_text = "label must be 1 to 1024 bytes"},
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

static void check_entries(const struct want_entry *want,
                          const struct fake_sink *fs, bool loose)
{
    size_t want_n = 0;
    while (want_n < WANT_N && want[want_n].name != NULL)
        want_n++;
    assert_int_equal(fs->n, want_n);
    for (size_t i = 0; i < want_n; i++) {
        const struct want_entry *w = &want[i];
        const struct fake_entry *e = &fs->entries[i];
        assert_string_equal(e->name, w->name);
        assert_int_equal(e->name_n, w->name_n);
        assert_string_equal(e->value, w->value);
        assert_non_null(e->locator);
        /* the YAML reader may add ":LINE" */
        if (loose)
            assert_true(strncmp(e->locator, w->locator, strlen(w->locator)) ==
                        0);
        else
            assert_string_equal(e->locator, w->locator);
        assert_int_equal(e->flags, w->flags);
    }
}

/* Whether the YAML reader is in yet (a placeholder says it is not). */
static bool yaml_ready(void)
{
    struct ei_error err = {0};
    json_t *out = NULL;
    enum ei_status st = ei_yaml_to_json("a: 1\n", 5, "t", NULL, &out, &err);
    json_decref(out);
    return !(st == EI_BADCONFIG && strstr(err.text, "not supported") != NULL);
}

static void test_ccase(void **state)
{
    const struct ccase *c = *state;
    if (c->yaml && !yaml_ready())
        skip();
    char dir[PATH_SIZE];
    int n = snprintf(dir, sizeof dir, "%s/%s", tmpdir, c->name);
    assert_true(n > 0 && (size_t)n < sizeof dir);
    make_files(c->files, dir);
    char **opts = expand_dir_list(c->opts, OPTS_N, dir);
    struct fake_host *fh = fake_host_new((const char *const *)opts, NULL, dir);
    assert_non_null(fh);
    if (c->arg != NULL)
        fake_host_set_arg(fh, c->arg);
    if (c->environment != NULL)
        assert_int_equal(fake_host_set_environment(fh, c->environment), 0);
    for (size_t i = 0; i < REPLIES_N &&
                       (c->replies[i].status != 0 || c->replies[i].flags != 0);
         i++)
        assert_int_equal(fake_host_http_push_headers(
                             fh, c->replies[i].status, c->replies[i].headers,
                             c->replies[i].body, c->replies[i].flags),
                         0);
    const struct ei_host *h = fake_host_host(fh);

    struct ei_error err = {0};
    void *st = NULL;
    enum ei_status got = ei_provider_http.configure(h, &st, &err);
    assert_int_equal(fake_host_reads(fh), 0);
    assert_int_equal(got, c->want_configure);
    assert_int_equal(err.status, got);
    if (got != EI_OK) {
        assert_null(st);
        want_text(&err, c->want_text);
        assert_int_equal(fake_host_http_clients(fh), 0);
        goto done;
    }
    /* optional is the core's: the fake host counts it as unused */
    const char *unused = fake_host_unused(fh);
    if (unused != NULL && strcmp(unused, "optional") != 0 &&
        strcmp(unused, "max_response_size") != 0)
        fail_msg("option %s not read", unused);
    struct fake_sink fs;
    fake_sink_init(&fs);
    fs.fail_at = c->fail_at;
    struct ei_deadline dl;
    fake_deadline(&dl, DL_DEFAULT);
    got = ei_provider_http.fetch(st, &fs.sink, &dl, &err);
    assert_int_equal(got, c->want);
    assert_int_equal(err.status, got);
    assert_false(fs.abi_violation);
    if (got == EI_OK) {
        check_entries(c->entries, &fs, c->yaml);
    } else {
        want_text(&err, c->want_text);
        if (c->want_locator != NULL &&
            strstr(err.locator, c->want_locator) == NULL)
            fail_msg("locator '%s' lacks '%s'", err.locator, c->want_locator);
    }
    fake_sink_free(&fs);
    check_requests(c->reqs, fh);
    assert_int_equal(fake_host_http_pending(fh), 0);
    ei_provider_http.destroy(st);
    assert_int_equal(fake_host_http_clients(fh), 0);
done:
    check_no_leak(&err);
    assert_null(strstr(fake_host_log(fh), CANARY));
    fake_host_free(fh);
    expand_list_free(opts);
}

/* --- ETag and 304: one state fetched again and again --- */

struct etag_step {
    struct reply reply;
    const char *want_inm; /* If-None-Match sent, NULL: none */
    enum ei_status want;
    struct want_entry entries[WANT_N];
};

/* Queue reply and fetch it into fs (initialised here, the caller's to
   free), err cleared first. */
static enum ei_status fetch_reply(struct fake_host *fh, void *st,
                                  const struct reply *reply,
                                  struct fake_sink *fs, struct ei_error *err)
{
    assert_int_equal(fake_host_http_push_headers(
                         fh, reply->status, reply->headers, reply->body, 0),
                     0);
    fake_sink_init(fs);
    struct ei_deadline dl;
    fake_deadline(&dl, DL_DEFAULT);
    memset(err, 0, sizeof(*err));
    return ei_provider_http.fetch(st, &fs->sink, &dl, err);
}

/* The revision for the audit record: the ETag as sent, kept for a 304;
   without one the body's SHA-256 (not computed when the host keeps no
   revision); nothing after a failure; nothing asked of a host too old to
   take revisions. */
static void test_revision(void **state)
{
    (void)state;
    static const struct {
        struct reply reply;
        enum ei_status want;
        const char *rev; /* NULL: none reported */
    } steps[] = {
        {{200, "ETag: W/\"v1\"\n", "{\"a\": \"" CANARY "\"}", 0},
         EI_OK,
         "W/\"v1\""},
        {{304, NULL, NULL, 0}, EI_OK, "W/\"v1\""},
        {{200, NULL, "{\"c\": 3}", 0},
         EI_OK,
         "sha256:"
         "67e2e87c01983e4a5fa011e64437723a6778a733ac54ed2ef2ca4bd7b7afee2b"},
        /* an ETag sent without HTTP's quotes is reported quoted */
        {{200, "ETag: 5d41402abc4b2a76\n", "{\"d\": 4}", 0},
         EI_OK,
         "\"5d41402abc4b2a76\""},
        {{404, NULL, "", 0}, EI_NOTFOUND, NULL},
    };
    const char *opts[] = {"url=" URL, NULL};
    struct fake_host *fh = fake_host_new(opts, NULL, NULL);
    assert_non_null(fh);
    struct ei_error err = {0};
    void *st = NULL;
    assert_int_equal(ei_provider_http.configure(fake_host_host(fh), &st, &err),
                     EI_OK);
    for (size_t i = 0; i <= sizeof steps / sizeof steps[0]; i++) {
        /* the last round again, on a host without host.revision */
        size_t k = i < sizeof steps / sizeof steps[0] ? i : 0;
        if (k != i)
            fake_host_set_size(fh, offsetof(struct ei_host, revision));
        struct fake_sink fs;
        fake_host_revision_clear(fh);
        assert_int_equal(fetch_reply(fh, st, &steps[k].reply, &fs, &err),
                         steps[k].want);
        const char *rev = fake_host_revision(fh);
        if (k != i || steps[k].rev == NULL)
            assert_null(rev);
        else
            assert_string_equal(rev, steps[k].rev);
        fake_sink_free(&fs);
    }
    /* a host that keeps no revision: no hash of the body, the ETag still
       reported (it costs nothing) */
    fake_host_set_size(fh, sizeof(struct ei_host));
    fake_host_set_revision_wanted(fh, false);
    for (size_t i = 0; i < 2; i++) {
        struct fake_sink fs;
        fake_host_revision_clear(fh);
        assert_int_equal(fetch_reply(fh, st, &steps[2 * i].reply, &fs, &err),
                         EI_OK);
        const char *rev = fake_host_revision(fh);
        if (i == 0)
            assert_string_equal(rev, steps[0].rev);
        else
            assert_null(rev);
        fake_sink_free(&fs);
    }
    ei_provider_http.destroy(st);
    fake_host_free(fh);
}

static void test_etag(void **state)
{
    (void)state;
#define R(status, hdrs, body)                                                  \
    {                                                                          \
        status, hdrs, body, 0                                                  \
    }
#define ONE(n, v)                                                              \
    {                                                                          \
        {                                                                      \
            n, 1, v, URL, 0                                                    \
        }                                                                      \
    }
#define NONE                                                                   \
    {                                                                          \
        {                                                                      \
            NULL, 0, NULL, NULL, 0                                             \
        }                                                                      \
    }
    static const struct etag_step steps[] = {
        /* the first read is unconditional and keeps the weak ETag */
        {R(200, "ETag: W/\"v1\"\n", "{\"a\": \"" CANARY "\"}"), NULL, EI_OK,
         ONE("a", CANARY)},
        /* sent back byte for byte; 304: the kept answer again */
        {R(304, "ETag: W/\"v1\"\n", NULL), "W/\"v1\"", EI_OK, ONE("a", CANARY)},
        {R(304, NULL, NULL), "W/\"v1\"", EI_OK, ONE("a", CANARY)},
        /* a new version replaces what was kept */
        {R(200, "ETag: \"v2\"\n", "{\"b\": 2}"), "W/\"v1\"", EI_OK,
         ONE("b", "2")},
        /* an answer that does not parse keeps the last good one */
        {R(200, "ETag: \"v3\"\n", "{\"b\": "), "\"v2\"", EI_BADDATA, NONE},
        {R(304, NULL, NULL), "\"v2\"", EI_OK, ONE("b", "2")},
        /* an answer without ETag: nothing kept, the next is unconditional */
        {R(200, NULL, "{\"c\": 3}"), "\"v2\"", EI_OK, ONE("c", "3")},
        {R(200, "ETag: \"v4\"\n", "{\"d\": 4}"), NULL, EI_OK, ONE("d", "4")},
        /* after a failed request the ETag stays */
        {R(404, NULL, ""), "\"v4\"", EI_NOTFOUND, NONE},
        {R(304, NULL, NULL), "\"v4\"", EI_OK, ONE("d", "4")},
    };
#undef R
#undef ONE
#undef NONE
    const char *opts[] = {"url=" URL, NULL};
    struct fake_host *fh = fake_host_new(opts, NULL, NULL);
    assert_non_null(fh);
    const struct ei_host *h = fake_host_host(fh);
    struct ei_error err = {0};
    void *st = NULL;
    assert_int_equal(ei_provider_http.configure(h, &st, &err), EI_OK);
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        const struct etag_step *s = &steps[i];
        struct fake_sink fs;
        enum ei_status got = fetch_reply(fh, st, &s->reply, &fs, &err);
        if (got != s->want)
            fail_msg("step %zu: status %d, want %d (%s)", i + 1, got, s->want,
                     err.text);
        if (got == EI_OK)
            check_entries(s->entries, &fs, false);
        check_no_leak(&err);
        fake_sink_free(&fs);
        size_t n = 0;
        const struct fake_http_request *r = fake_host_http_requests(fh, &n);
        assert_int_equal(n, i + 1);
        const char *inm = fake_http_header(&r[i], "If-None-Match");
        if (s->want_inm == NULL && inm != NULL)
            fail_msg("step %zu: If-None-Match %s sent", i + 1, inm);
        if (s->want_inm != NULL) {
            assert_non_null(inm);
            assert_string_equal(inm, s->want_inm);
        }
    }
    ei_provider_http.destroy(st);
    assert_null(strstr(fake_host_log(fh), CANARY));
    fake_host_free(fh);
}

/* An ETag that could not go back in a header is not kept. */
static void test_etag_unusable(void **state)
{
    (void)state;
    const char *opts[] = {"url=" URL, NULL};
    struct fake_host *fh = fake_host_new(opts, NULL, NULL);
    assert_non_null(fh);
    char big[HTTP_ETAG_MAX_TEST + 32];
    snprintf(big, sizeof big, "ETag: \"%0*d\"\n", HTTP_ETAG_MAX_TEST, 7);
    assert_int_equal(fake_host_http_push_headers(fh, 200, big, "{}", 0), 0);
    assert_int_equal(fake_host_http_push_headers(fh, 200, NULL, "{}", 0), 0);
    const struct ei_host *h = fake_host_host(fh);
    struct ei_error err = {0};
    void *st = NULL;
    assert_int_equal(ei_provider_http.configure(h, &st, &err), EI_OK);
    for (int i = 0; i < 2; i++) {
        struct fake_sink fs;
        fake_sink_init(&fs);
        struct ei_deadline dl;
        fake_deadline(&dl, DL_DEFAULT);
        assert_int_equal(ei_provider_http.fetch(st, &fs.sink, &dl, &err),
                         EI_OK);
        fake_sink_free(&fs);
    }
    size_t n = 0;
    const struct fake_http_request *r = fake_host_http_requests(fh, &n);
    assert_int_equal(n, 2);
    assert_null(fake_http_header(&r[1], "If-None-Match"));
    ei_provider_http.destroy(st);
    fake_host_free(fh);
}

/* Nothing in configure but options: no file read, no request. */
static void test_descriptor(void **state)
{
    (void)state;
    const struct ei_provider *p = &ei_provider_http;
    assert_int_equal(p->abi, EI_PROVIDER_ABI);
    assert_int_equal(p->size, sizeof(struct ei_provider));
    assert_string_equal(p->name, "http");
    assert_string_equal(p->arg_option, "url");
    assert_int_equal(p->flags, EI_PROV_REMOTE | EI_PROV_INTERP);
    assert_non_null(p->configure);
    assert_non_null(p->fetch);
    assert_null(p->lookup);
    assert_non_null(p->destroy);
    p->destroy(NULL);
}

/* An older host without http_header: a message, not a crash. */
static void test_old_host(void **state)
{
    (void)state;
    const char *opts[] = {"url=" URL, NULL};
    struct fake_host *fh = fake_host_new(opts, NULL, NULL);
    assert_non_null(fh);
    fake_host_set_size(fh, offsetof(struct ei_host, http_header));
    struct ei_error err = {0};
    void *st = NULL;
    assert_int_equal(ei_provider_http.configure(fake_host_host(fh), &st, &err),
                     EI_BADCONFIG);
    assert_null(st);
    want_text(&err, "the host has no http_header");
    fake_host_free(fh);
}

static int group_setup(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    int n = snprintf(tmpdir, sizeof tmpdir, "%s/test_http.XXXXXX",
                     base != NULL && base[0] != '\0' ? base : "/tmp");
    if (n < 0 || (size_t)n >= sizeof tmpdir || mkdtemp(tmpdir) == NULL)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    char cmd[PATH_SIZE + 32];
    int n = snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (n < 0 || (size_t)n >= sizeof cmd)
        return -1;
    return system(cmd) == 0 ? 0 : -1;
}

#define EXTRA_N 6

int main(void)
{
    struct CMUnitTest tests[PTR_CASES_N + SPRING_CASES_N + CCASES_N + EXTRA_N];
    size_t t = 0;
    for (size_t i = 0; i < PTR_CASES_N; i++, t++) {
        tests[t] = (struct CMUnitTest)cmocka_unit_test(test_pointer);
        tests[t].name = ptr_cases[i].name;
        tests[t].initial_state = (void *)&ptr_cases[i];
    }
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_pointer_syntax);
    for (size_t i = 0; i < SPRING_CASES_N; i++, t++) {
        tests[t] = (struct CMUnitTest)cmocka_unit_test(test_spring);
        tests[t].name = spring_cases[i].name;
        tests[t].initial_state = (void *)&spring_cases[i];
    }
    for (size_t i = 0; i < CCASES_N; i++, t++) {
        tests[t] = (struct CMUnitTest)cmocka_unit_test(test_ccase);
        tests[t].name = ccases[i].name;
        tests[t].initial_state = (void *)&ccases[i];
    }
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_etag);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_revision);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_etag_unusable);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_descriptor);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_old_host);
    if (t != sizeof tests / sizeof tests[0])
        return 1;
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
