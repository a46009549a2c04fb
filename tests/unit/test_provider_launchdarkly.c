/* SPDX-License-Identifier: MIT */
/* The launchdarkly provider through the fake host: options, the request,
   the context built from the context group, every answer of the service,
   ETag on a second read, and what cannot be evaluated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "host.h"

extern const struct ei_provider ei_provider_launchdarkly;
#define PROV (&ei_provider_launchdarkly)

#define KEY     "sdk-11111111-2222-3333-4444-555555555555"
#define DL_MS   5000
#define MAX_OPT 12
#define MAX_REP 4
#define MAX_OUT 8

/* a flag that is on, variations a/b/c, a rule on country, a fallthrough */
#define F(key, rest)                                                           \
    "\"" key "\":{\"key\":\"" key "\",\"version\":4,\"on\":true,"              \
    "\"salt\":\"s\",\"variations\":[\"a\",\"b\",\"c\"],"                       \
    "\"offVariation\":0" rest "}"
#define FALL(n)     ",\"fallthrough\":{\"variation\":" #n "}"
#define DATA(flags) "{\"flags\":{" flags "},\"segments\":{}}"

static const char basic[] = DATA(
    F("new-checkout",
      ",\"rules\":[{\"id\":\"r\",\"variation\":1,"
      "\"clauses\":[{\"attribute\":\"country\",\"op\":\"in\","
      "\"values\":[\"de\"]}]}]" FALL(
          2)) ","
              "\"dark-mode\":{\"key\":\"dark-mode\",\"on\":true,\"variations\":"
              "[true,"
              "false,0.1,{\"a\":[1]}],\"fallthrough\":{\"variation\":0}},"
              "\"old\":{\"key\":\"old\",\"deleted\":true},"
              "\"quiet\":{\"key\":\"quiet\",\"on\":false,\"variations\":[1]},"
              "\"nothing\":{\"key\":\"nothing\",\"on\":true,\"variations\":["
              "null],"
              "\"fallthrough\":{\"variation\":0}}");

struct reply {
    long status;
    const char *headers;
    const char *body;
};

struct lcase {
    const char *name;
    const char *opts[MAX_OPT];
    const char *env[3];
    struct reply replies[MAX_REP];
    int fetches; /* 0: 1 */
    enum ei_status configure;
    enum ei_status fetch;     /* of the last fetch */
    const char *text;         /* part of the error text */
    const char *out[MAX_OUT]; /* "NAME=value" after the last fetch */
    const char *log;          /* part of the log */
    const char *inm;          /* If-None-Match of the last request */
};

#define CTX_DE "context.key=u1", "context.country=de"
#define ENV_KEY                                                                \
    {                                                                          \
        "LD_SDK_KEY=" KEY, NULL                                                \
    }
#define OK_REPLY                                                               \
    {                                                                          \
        200, "ETag: \"v1\"\n", basic                                           \
    }

static const struct lcase cases[] = {
    {.name = "basic",
     .opts = {CTX_DE},
     .env = ENV_KEY,
     .replies = {OK_REPLY},
     .out = {"FF_new-checkout=b", "FF_dark-mode=true", NULL},
     .log = "flag quiet: off, and no offVariation: left out"},
    {.name = "fallthrough and prefix",
     .opts = {"context.key=u2", "context.country=fr", "flag_prefix=X_"},
     .env = ENV_KEY,
     .replies = {OK_REPLY},
     .out = {"X_new-checkout=c", "X_dark-mode=true", NULL}},
    {.name = "empty prefix",
     .opts = {CTX_DE, "flag_prefix="},
     .env = ENV_KEY,
     .replies = {OK_REPLY},
     .out = {"new-checkout=b", "dark-mode=true", NULL}},
    {.name = "304 keeps the last data",
     .opts = {CTX_DE},
     .env = ENV_KEY,
     .replies = {OK_REPLY, {304, "ETag: \"v1\"\n", NULL}},
     .fetches = 2,
     .out = {"FF_new-checkout=b", "FF_dark-mode=true", NULL},
     .inm = "\"v1\""},
    {.name = "new data on the second read",
     .opts = {CTX_DE},
     .env = ENV_KEY,
     .replies = {OK_REPLY, {200, NULL, DATA(F("solo", FALL(1)))}},
     .fetches = 2,
     .out = {"FF_solo=b", NULL},
     .inm = "\"v1\""},
    {.name = "multi-kind context",
     .opts = {"context={\"kind\":\"multi\",\"user\":{\"key\":\"u1\","
              "\"country\":\"de\"},\"org\":{\"key\":\"o1\"}}"},
     .env = ENV_KEY,
     .replies = {{200, NULL,
                  DATA(F("f",
                         ",\"rules\":[{\"variation\":1,"
                         "\"clauses\":[{\"contextKind\":"
                         "\"org\",\"attribute\":\"key\","
                         "\"op\":\"in\",\"values\":[\"o1\"]}]}]" FALL(2)))}},
     .out = {"FF_f=b", NULL}},
    {.name = "nested attribute",
     .opts = {"context={\"key\":\"u1\",\"address\":{\"city\":"
              "\"Berlin\"}}"},
     .env = ENV_KEY,
     .replies = {{200, NULL,
                  DATA(F("f", ",\"rules\":[{\"variation\":1,\"clauses\":["
                              "{\"contextKind\":\"user\",\"attribute\":"
                              "\"/address/city\",\"op\":\"in\",\"values\":"
                              "[\"Berlin\"]}]}]" FALL(2)))}},
     .out = {"FF_f=b", NULL}},
    {.name = "401",
     .opts = {CTX_DE},
     .env = ENV_KEY,
     .replies = {{401, NULL, "{\"message\":\"invalid key\"}"}},
     .fetch = EI_DENIED,
     .text = "the SDK key was refused (HTTP 401)"},
    {.name = "403",
     .opts = {CTX_DE},
     .env = ENV_KEY,
     .replies = {{403, NULL, ""}},
     .fetch = EI_DENIED,
     .text = "HTTP 403"},
    {.name = "404",
     .opts = {CTX_DE},
     .env = ENV_KEY,
     .replies = {{404, NULL, "404 page not found"}},
     .fetch = EI_BADDATA,
     .text = "check base_uri"},
    {.name = "other status",
     .opts = {CTX_DE},
     .env = ENV_KEY,
     .replies = {{400, NULL, "bad"}},
     .fetch = EI_BADDATA,
     .text = "unexpected response (HTTP 400, 3 bytes)"},
    {.name = "503 until the end",
     .opts = {CTX_DE},
     .env = ENV_KEY,
     .replies = {{503, NULL, ""}, {503, NULL, ""}},
     .fetch = EI_UNAVAILABLE},
    {.name = "503 then data",
     .opts = {CTX_DE},
     .env = ENV_KEY,
     .replies = {{503, NULL, ""}, OK_REPLY},
     .out = {"FF_new-checkout=b", "FF_dark-mode=true", NULL}},
    {.name = "malformed JSON",
     .opts = {CTX_DE},
     .env = ENV_KEY,
     .replies = {{200, NULL, "{\"flags\":{\"x\":" KEY}},
     .fetch = EI_BADDATA,
     .text = "latest-all: malformed JSON at line 1"},
    {.name = "no flags member",
     .opts = {CTX_DE},
     .env = ENV_KEY,
     .replies = {{200, NULL, "{\"segments\":{}}"}},
     .fetch = EI_BADDATA,
     .text = "\"flags\" is missing"},
    {.name = "304 without a previous answer",
     .opts = {CTX_DE},
     .env = ENV_KEY,
     .replies = {{304, NULL, NULL}},
     .fetch = EI_BADDATA,
     .text = "unexpected response (HTTP 304"},
    {.name = "cannot evaluate",
     .opts = {CTX_DE},
     .env = ENV_KEY,
     .replies = {{200, NULL,
                  DATA(F("odd", ",\"rules\":[{\"variation\":1,"
                                "\"clauses\":[{\"attribute\":"
                                "\"country\",\"op\":\"soundsLike\","
                                "\"values\":[\"x\"]}]}]" FALL(0)))}},
     .fetch = EI_BADDATA,
     .text = "flag odd cannot be evaluated faithfully: unknown clause "
             "operator \"soundsLike\""},
    {.name = "malformed data, optional",
     .opts = {CTX_DE, "optional=true"},
     .env = ENV_KEY,
     .replies = {{200, NULL,
                  DATA(F("big", ",\"rules\":[{\"variation\":1,"
                                "\"clauses\":[{\"op\":"
                                "\"segmentMatch\",\"values\":"
                                "[\"s\"]}]}]" FALL(0))) "x"}},
     .fetch = EI_BADDATA,
     .text = "malformed JSON"},
    {.name = "variation out of range, optional",
     .opts = {CTX_DE, "optional=true"},
     .env = ENV_KEY,
     .replies = {{200, NULL, DATA(F("far", FALL(9)))}},
     .fetch = EI_NOTFOUND,
     .text = "flag far cannot be evaluated faithfully: variation index out "
             "of range"},
    {.name = "key file",
     .opts = {CTX_DE, "sdk_key_file=@KEYFILE@"},
     .replies = {OK_REPLY},
     .out = {"FF_new-checkout=b", "FF_dark-mode=true", NULL}},
    {.name = "key file missing",
     .opts = {CTX_DE, "sdk_key_file=/nonexistent/ld-key"},
     .replies = {OK_REPLY},
     .fetch = EI_DENIED,
     .text = "sdk_key_file"},
    {.name = "empty key",
     .opts = {CTX_DE},
     .env = {"LD_SDK_KEY=  \n", NULL},
     .replies = {OK_REPLY},
     .fetch = EI_DENIED,
     .text = "the SDK key is empty"},
    {.name = "key with a control character",
     .opts = {CTX_DE},
     .env = {"LD_SDK_KEY=sdk-a\x01"
             "b",
             NULL},
     .replies = {OK_REPLY},
     .fetch = EI_DENIED,
     .text = "not allowed in a header at offset 5"},
    {.name = "no key",
     .opts = {CTX_DE},
     .configure = EI_BADCONFIG,
     .text = "no SDK key: set sdk_key_file or LD_SDK_KEY"},
    {.name = "no context",
     .env = ENV_KEY,
     .configure = EI_BADCONFIG,
     .text = "context is required"},
    {.name = "context without key",
     .opts = {"context.country=de"},
     .env = ENV_KEY,
     .configure = EI_BADCONFIG,
     .text = "the context needs a non-empty string key"},
    {.name = "bad kind",
     .opts = {"context.kind=a b", "context.key=k"},
     .env = ENV_KEY,
     .configure = EI_BADCONFIG,
     .text = "the context kind is not valid"},
    {.name = "multi without kinds",
     .opts = {"context.kind=multi", "context.user=u"},
     .env = ENV_KEY,
     .configure = EI_BADCONFIG,
     .text = "each kind of a multi-kind context needs an object"},
    {.name = "context is no group",
     .opts = {"context=\"u1\""},
     .env = ENV_KEY,
     .configure = EI_BADCONFIG,
     .text = "context must be a group"},
    {.name = "bad base_uri",
     .opts = {CTX_DE, "base_uri=ftp://x"},
     .env = ENV_KEY,
     .configure = EI_BADCONFIG,
     .text = "base_uri must start with https:// or http://"},
    {.name = "flag_prefix with a control character",
     .opts = {CTX_DE, "flag_prefix=F\tF"},
     .env = ENV_KEY,
     .configure = EI_BADCONFIG,
     .text = "flag_prefix has a control character"},
};

static char keyfile[256];

static void run_case(const struct lcase *c)
{
    const char *opts[MAX_OPT + 2] = {0};
    size_t n = 0;
    bool has_base = false;
    for (size_t i = 0; i < MAX_OPT && c->opts[i] != NULL; i++) {
        if (strcmp(c->opts[i], "sdk_key_file=@KEYFILE@") == 0) {
            static char kf[300];
            snprintf(kf, sizeof(kf), "sdk_key_file=%s", keyfile);
            opts[n++] = kf;
        } else {
            opts[n++] = c->opts[i];
        }
        has_base = has_base || strncmp(c->opts[i], "base_uri=", 9) == 0;
    }
    if (!has_base)
        opts[n++] = "base_uri=https://ld.test";
    struct fake_host *fh = fake_host_new(opts, c->env, NULL);
    assert_non_null(fh);
    const struct ei_host *h = fake_host_host(fh);
    struct ei_error err = {0};
    void *st = NULL;
    enum ei_status s = PROV->configure(h, &st, &err);
    if (s != c->configure)
        fail_msg("%s: configure %d (%s), want %d", c->name, s, err.text,
                 c->configure);
    assert_int_equal(fake_host_reads(fh), 0);
    if (s != EI_OK) {
        if (c->text != NULL && strstr(err.text, c->text) == NULL)
            fail_msg("%s: text \"%s\"", c->name, err.text);
        fake_host_free(fh);
        return;
    }
    assert_null(fake_host_unused(fh));
    for (size_t i = 0; i < MAX_REP && c->replies[i].status != 0; i++)
        assert_int_equal(fake_host_http_push_headers(fh, c->replies[i].status,
                                                     c->replies[i].headers,
                                                     c->replies[i].body, 0),
                         0);
    struct fake_sink fs;
    fake_sink_init(&fs);
    int fetches = c->fetches > 0 ? c->fetches : 1;
    for (int f = 0; f < fetches; f++) {
        fake_sink_free(&fs);
        fake_sink_init(&fs);
        memset(&err, 0, sizeof(err));
        struct ei_deadline dl;
        fake_deadline(&dl, DL_MS);
        s = PROV->fetch(st, &fs.sink, &dl, &err);
    }
    if (s != c->fetch)
        fail_msg("%s: fetch %d (%s), want %d", c->name, s, err.text, c->fetch);
    if (c->text != NULL && strstr(err.text, c->text) == NULL)
        fail_msg("%s: text \"%s\"", c->name, err.text);
    /* the key never in a message */
    assert_null(strstr(err.text, "sdk-11111111"));
    assert_null(strstr(err.locator, "sdk-11111111"));
    assert_null(strstr(fake_host_log(fh), "sdk-11111111"));
    size_t want_n = 0;
    for (; want_n < MAX_OUT && c->out[want_n] != NULL; want_n++) {
        const char *eq = strchr(c->out[want_n], '=');
        char name[128];
        snprintf(name, sizeof(name), "%.*s", (int)(eq - c->out[want_n]),
                 c->out[want_n]);
        const struct fake_entry *e = fake_sink_find(&fs, name);
        if (e == NULL || strcmp(e->value, eq + 1) != 0)
            fail_msg("%s: %s is %s", c->name, name,
                     e != NULL ? e->value : "missing");
    }
    if (s == EI_OK && fs.n != want_n)
        fail_msg("%s: %zu entries, want %zu", c->name, fs.n, want_n);
    if (c->log != NULL && strstr(fake_host_log(fh), c->log) == NULL)
        fail_msg("%s: log \"%s\"", c->name, fake_host_log(fh));
    size_t rn = 0;
    const struct fake_http_request *r = fake_host_http_requests(fh, &rn);
    /* only a key that cannot be read or sent makes no request */
    bool key_problem = s == EI_DENIED && strstr(err.text, "refused") == NULL;
    assert_true(key_problem ? rn == 0 : rn > 0);
    if (rn == 0)
        goto done;
    for (size_t i = 0; i < rn; i++) {
        assert_string_equal(r[i].method, "GET");
        assert_string_equal(r[i].path, "/sdk/latest-all");
        assert_string_equal(fake_http_header(&r[i], "Authorization"), KEY);
    }
    const char *inm = fake_http_header(&r[rn - 1], "If-None-Match");
    if (c->inm != NULL) {
        assert_non_null(inm);
        assert_string_equal(inm, c->inm);
    } else if (fetches == 1) {
        assert_null(inm);
    }
done:
    fake_sink_free(&fs);
    PROV->destroy(st);
    fake_host_free(fh);
}

static void test_cases(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(keyfile, sizeof(keyfile), "%s/ld-key-XXXXXX",
             tmp != NULL ? tmp : "/tmp");
    int fd = mkstemp(keyfile);
    assert_true(fd >= 0);
    const char body[] = KEY "\n";
    assert_int_equal(write(fd, body, sizeof(body) - 1), sizeof(body) - 1);
    close(fd);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run_case(&cases[i]);
    /* a key file others may read is refused */
    assert_int_equal(chmod(keyfile, 0644), 0);
    const struct lcase open_file = {.name = "key file readable by others",
                                    .opts = {CTX_DE, "sdk_key_file=@KEYFILE@"},
                                    .replies = {OK_REPLY},
                                    .fetch = EI_DENIED,
                                    .text = "chmod"};
    run_case(&open_file);
    unlink(keyfile);
}

static void test_descriptor(void **state)
{
    (void)state;
    assert_string_equal(PROV->name, "launchdarkly");
    assert_int_equal(PROV->flags & EI_PROV_SECRET, 0);
    assert_true(PROV->flags & EI_PROV_REMOTE);
    PROV->destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_descriptor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
