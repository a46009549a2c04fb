/* SPDX-License-Identifier: MIT */
/* Unit tests of the options the core reads itself (src/layeropts.c): the
   common options and the network options, read through the fake host. */
#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "host.h"
#include "http.h"
#include "layeropts.h"
#include "testfs.h"

#define OPTS_N 6
#define WHERE  "envinject.conf:7"
#define DIR    "/conf"
#define OWN    EI_PROV_OWN_PREFIX

static bool str_eq(const char *a, const char *b)
{
    return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

/* The error a row expects: NULL text means success. */
static void check_result(const char *what, int rc, const struct ei_error *err,
                         const char *text)
{
    if (text == NULL) {
        if (rc != 0)
            testfs_row_fail(what, "rc %d, error \"%s\"", rc, err->text);
        return;
    }
    if (rc != -1 || err->status != EI_BADCONFIG)
        testfs_row_fail(what, "rc %d status %d, want -1 and EI_BADCONFIG", rc,
                        err->status);
    if (strstr(err->text, text) == NULL)
        testfs_row_fail(what, "text \"%s\" lacks \"%s\"", err->text, text);
}

struct common_case {
    const char *what;
    unsigned flags; /* of the provider */
    const char *opts[OPTS_N];
    const char *error;  /* expected text, or NULL */
    const char *where;  /* expected locator of the error, or NULL */
    const char *unused; /* the option left unread, or NULL */
    struct ei_layeropts want;
    const char *want_include[3];
    const char *want_exclude[3];
};

static const struct common_case common_cases[] = {
    {.what = "defaults of a plain provider",
     .want = {.timeout_ms = EI_TIMEOUT_DEFAULT_MS,
              .poll_interval_ms = EI_POLL_INTERVAL_DEFAULT_MS}},
    {.what = "poll_interval at its bounds",
     .opts = {"poll_interval=100"},
     .want = {.timeout_ms = EI_TIMEOUT_DEFAULT_MS, .poll_interval_ms = 100}},
    {.what = "poll_interval of a day",
     .opts = {"poll_interval=86400000"},
     .want = {.timeout_ms = EI_TIMEOUT_DEFAULT_MS,
              .poll_interval_ms = 86400000}},
    {.what = "poll_interval too short",
     .opts = {"poll_interval=99"},
     .error = "poll_interval must be from 100 to 86400000 ms",
     .where = WHERE},
    {.what = "poll_interval over a day",
     .opts = {"poll_interval=86400001"},
     .error = "poll_interval must be from 100 to 86400000 ms"},
    {.what = "poll_interval not a number",
     .opts = {"poll_interval=often"},
     .error = "poll_interval"},
    {.what = "defaults of a secret, interpolating provider",
     .flags = EI_PROV_SECRET | EI_PROV_INTERP,
     .want = {.secret = true,
              .interpolate = true,
              .timeout_ms = EI_TIMEOUT_DEFAULT_MS}},
    {.what = "secret given is marked as given",
     .flags = EI_PROV_SECRET,
     .opts = {"secret=false"},
     .want = {.secret_given = true, .timeout_ms = EI_TIMEOUT_DEFAULT_MS}},
    {.what = "every option",
     .opts = {"optional=yes", "interpolate=true", "timeout=250",
              "case=preserve", "prefix=APP_", "strip_prefix=1"},
     .want = {.optional = true,
              .interpolate = true,
              .timeout_ms = 250,
              .case_preserve = true,
              .prefix = "APP_",
              .strip_prefix = true}},
    {.what = "include and exclude as lists",
     .opts = {"include=A*", "include=B*", "exclude=*_TMP", "case=upper"},
     .want = {.timeout_ms = EI_TIMEOUT_DEFAULT_MS},
     .want_include = {"A*", "B*"},
     .want_exclude = {"*_TMP"}},
    {.what = "the longest timeout",
     .opts = {"timeout=3600000"},
     .want = {.timeout_ms = 3600000}},
    {.what = "a provider's own prefix is left to the provider",
     .flags = OWN,
     .opts = {"prefix=/app/"},
     .unused = "prefix",
     .want = {.timeout_ms = EI_TIMEOUT_DEFAULT_MS}},
    {.what = "timeout 0",
     .opts = {"timeout=0"},
     .error = "timeout must be from 1 to 3600000 ms",
     .where = WHERE},
    {.what = "timeout over an hour",
     .opts = {"timeout=3600001"},
     .error = "timeout must be from 1 to 3600000 ms"},
    {.what = "timeout not a number",
     .opts = {"timeout=soon"},
     .error = "timeout"},
    {.what = "optional not a boolean",
     .opts = {"optional=maybe"},
     .error = "optional"},
    {.what = "case lower",
     .opts = {"case=lower"},
     .error = "case must be \"upper\" or \"preserve\"",
     .where = WHERE},
    {.what = "strip_prefix without prefix",
     .opts = {"strip_prefix=true"},
     .error = "strip_prefix needs prefix",
     .where = WHERE},
    {.what = "strip_prefix with a provider's own prefix",
     .flags = OWN,
     .opts = {"prefix=/app/", "strip_prefix=true"},
     .error = "strip_prefix does not apply to provider tp"},
};

static void check_globs(const char *what, const char *name,
                        const char *const *got, const char *const *want)
{
    if (want[0] == NULL) {
        if (got != NULL)
            testfs_row_fail(what, "%s is set, want none", name);
        return;
    }
    size_t i = 0;
    for (; want[i] != NULL; i++)
        if (got == NULL || !str_eq(got[i], want[i]))
            testfs_row_fail(what, "%s[%zu] is not \"%s\"", name, i, want[i]);
    if (got[i] != NULL)
        testfs_row_fail(what, "%s has more than %zu globs", name, i);
}

static void check_common(const struct common_case *c,
                         const struct ei_layeropts *o)
{
    const struct ei_layeropts *w = &c->want;
    if (o->optional != w->optional || o->secret != w->secret ||
        o->secret_given != w->secret_given ||
        o->interpolate != w->interpolate ||
        o->case_preserve != w->case_preserve ||
        o->strip_prefix != w->strip_prefix)
        testfs_row_fail(c->what,
                        "optional %d secret %d given %d interpolate %d "
                        "preserve %d strip %d",
                        o->optional, o->secret, o->secret_given, o->interpolate,
                        o->case_preserve, o->strip_prefix);
    /* rows that say nothing of poll_interval leave it unchecked */
    if (w->poll_interval_ms != 0 && o->poll_interval_ms != w->poll_interval_ms)
        testfs_row_fail(c->what, "poll_interval %lld, want %lld",
                        o->poll_interval_ms, w->poll_interval_ms);
    if (o->timeout_ms != w->timeout_ms)
        testfs_row_fail(c->what, "timeout %lld, want %lld", o->timeout_ms,
                        w->timeout_ms);
    if (!str_eq(o->prefix, w->prefix))
        testfs_row_fail(c->what, "prefix \"%s\"",
                        o->prefix ? o->prefix : "(null)");
    check_globs(c->what, "include", o->include, c->want_include);
    check_globs(c->what, "exclude", o->exclude, c->want_exclude);
}

static void test_common(void **state)
{
    for (size_t i = 0; i < sizeof(common_cases) / sizeof(common_cases[0]);
         i++) {
        const struct common_case *c = &common_cases[i];
        struct ei_provider p = {.name = "tp", .flags = c->flags};
        struct fake_host *fh = fake_host_new(c->opts, NULL, DIR);
        assert_non_null(fh);
        struct ei_layeropts o;
        struct ei_error err = {0};
        int rc = ei_layeropts_read(&o, fake_host_host(fh), &p, WHERE, &err);
        check_result(c->what, rc, &err, c->error);
        if (c->where != NULL && strcmp(err.locator, c->where) != 0)
            testfs_row_fail(c->what, "locator \"%s\", want \"%s\"", err.locator,
                            c->where);
        if (c->error == NULL) {
            check_common(c, &o);
            if (!str_eq(fake_host_unused(fh), c->unused))
                testfs_row_fail(c->what, "unread option %s, want %s",
                                fake_host_unused(fh) ? fake_host_unused(fh)
                                                     : "none",
                                c->unused ? c->unused : "none");
        }
        fake_host_free(fh);
    }
    testfs_check_rows();
}

struct net_case {
    const char *what;
    const char *opts[OPTS_N];
    const char *default_cacert;
    const char *error; /* of ei_layeropts_net or _http, or NULL */
    const char *cacert, *cert, *key;
    bool insecure;
    size_t max_response;
};

static const struct net_case net_cases[] = {
    {.what = "none given"},
    {.what = "every one, paths made absolute",
     .opts = {"cacert=ca.pem", "cert=/tls/c.pem", "key=k.pem", "insecure=true",
              "max_response_size=1024"},
     .cacert = DIR "/ca.pem",
     .cert = "/tls/c.pem",
     .key = DIR "/k.pem",
     .insecure = true,
     .max_response = 1024},
    {.what = "the provider's CA bundle when the layer names none",
     .default_cacert = "/etc/vault-ca.pem",
     .cacert = "/etc/vault-ca.pem"},
    {.what = "the layer's CA bundle wins over the provider's",
     .opts = {"cacert=/mine.pem"},
     .default_cacert = "/etc/vault-ca.pem",
     .cacert = "/mine.pem"},
    {.what = "an empty CA bundle of the provider is none",
     .default_cacert = ""},
    {.what = "the largest response",
     .opts = {"max_response_size=1073741824"},
     .max_response = 1073741824},
    {.what = "key needs cert",
     .opts = {"key=/k.pem"},
     .error = "key needs cert"},
    {.what = "max_response_size 0",
     .opts = {"max_response_size=0"},
     .error = "max_response_size must be from 1 to 1073741824 bytes"},
    {.what = "max_response_size over 1 GiB",
     .opts = {"max_response_size=1073741825"},
     .error = "max_response_size must be from 1 to 1073741824 bytes"},
    {.what = "insecure not a boolean",
     .opts = {"insecure=perhaps"},
     .error = "insecure"},
    {.what = "max_response_size not a number",
     .opts = {"max_response_size=big"},
     .error = "max_response_size"},
};

static void test_net(void **state)
{
    for (size_t i = 0; i < sizeof(net_cases) / sizeof(net_cases[0]); i++) {
        const struct net_case *c = &net_cases[i];
        struct fake_host *fh = fake_host_new(c->opts, NULL, DIR);
        assert_non_null(fh);
        const struct ei_host *h = fake_host_host(fh);
        struct ei_netopts n = {0};
        struct ei_http_config cfg = {0};
        struct ei_error err = {0};
        int rc = ei_layeropts_net(&n, h, &err);
        if (rc == 0)
            rc = ei_layeropts_http(&n, h, WHERE, c->default_cacert, &cfg, &err);
        check_result(c->what, rc, &err, c->error);
        if (c->error == NULL) {
            if (!n.read)
                testfs_row_fail(c->what, "not marked read");
            if (!str_eq(cfg.cacert, c->cacert) || !str_eq(cfg.cert, c->cert) ||
                !str_eq(cfg.key, c->key))
                testfs_row_fail(c->what, "cacert %s cert %s key %s",
                                cfg.cacert ? cfg.cacert : "(null)",
                                cfg.cert ? cfg.cert : "(null)",
                                cfg.key ? cfg.key : "(null)");
            if (cfg.insecure != c->insecure ||
                cfg.max_response != c->max_response)
                testfs_row_fail(c->what, "insecure %d max_response %zu",
                                cfg.insecure, cfg.max_response);
            if (fake_host_unused(fh) != NULL)
                testfs_row_fail(c->what, "%s left unread",
                                fake_host_unused(fh));
        }
        fake_host_free(fh);
    }
    testfs_check_rows();
}

/* The fake host's opt_path, counted. */
static int (*real_opt_path)(const struct ei_host *, const char *, const char **,
                            struct ei_error *);
static int opt_path_calls;

static int counted_opt_path(const struct ei_host *h, const char *name,
                            const char **out, struct ei_error *err)
{
    opt_path_calls++;
    return real_opt_path(h, name, out, err);
}

/* A layer that opens several clients reads its network options once. */
static void test_net_read_once(void **state)
{
    const char *const opts[] = {"cacert=/ca.pem", NULL};
    struct fake_host *fh = fake_host_new(opts, NULL, NULL);
    assert_non_null(fh);
    struct ei_host h = *fake_host_host(fh);
    real_opt_path = h.opt_path;
    h.opt_path = counted_opt_path;
    opt_path_calls = 0;
    struct ei_netopts n = {0};
    struct ei_error err = {0};
    for (int i = 0; i < 3; i++) {
        struct ei_http_config cfg = {0};
        assert_int_equal(ei_layeropts_net(&n, &h, &err), 0);
        assert_int_equal(ei_layeropts_http(&n, &h, WHERE, NULL, &cfg, &err), 0);
        assert_string_equal(cfg.cacert, "/ca.pem");
    }
    assert_int_equal(opt_path_calls, 3); /* cacert, cert, key: once */
    fake_host_free(fh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_common),
        cmocka_unit_test(test_net),
        cmocka_unit_test(test_net_read_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
