/* SPDX-License-Identifier: MIT */
/* Unit tests of the exec provider (providers/exec.c) through the fake
   host: option checks, and real runs of /bin/sh scripts. */

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include <envinject/provider.h>

#include "host.h"

extern const struct ei_provider ei_provider_exec;

#define CANARY    "EI_CANARY_3x3c"
#define OPTS_N    8
#define ENV_N     8
#define WANT_N    6
#define DL_LONG   20000 /* a deadline no working case comes near */
#define SH        "command=/bin/sh", "command=-c"

struct want_entry {
    const char *name; /* NULL ends the list */
    const char *value;
};

struct exec_case {
    const char *name;
    const char *opts[OPTS_N];
    const char *environ[ENV_N];
    const char *dir;      /* the configuration's folder, NULL: none */
    size_t host_size;     /* 0: the whole table */
    int64_t deadline_ms;  /* 0: DL_LONG */
    enum ei_status want_configure;
    enum ei_status want;
    const char *want_text;    /* a part of the error text */
    const char *unwanted;     /* never in the error text */
    const char *want_locator; /* the whole locator */
    struct want_entry entries[WANT_N];
    const char *absent; /* no entry of that name */
};

static const struct exec_case cases[] = {
    /* --- configure --- */
    {.name = "command-required",
     .want_configure = EI_BADCONFIG,
     .want_text = "command is required"},
    {.name = "command-empty-name",
     .opts = {"command="},
     .want_configure = EI_BADCONFIG,
     .want_text = "the program name is empty"},
    {.name = "format-unknown",
     .opts = {"command=/bin/true", "format=yaml"},
     .want_configure = EI_BADCONFIG,
     .want_text = "unknown format 'yaml'"},
    {.name = "keys-without-summon",
     .opts = {"command=/bin/true", "keys.A=x"},
     .want_configure = EI_BADCONFIG,
     .want_text = "keys applies to format = \"summon\" only"},
    {.name = "summon-without-keys",
     .opts = {"command=/bin/true", "format=summon"},
     .want_configure = EI_BADCONFIG,
     .want_text = "needs keys"},
    {.name = "summon-key-not-a-name",
     .opts = {"command=/bin/true", "format=summon", "keys.1A=x"},
     .want_configure = EI_BADCONFIG,
     .want_text = "'1A' is not a variable name"},
    {.name = "summon-empty-path",
     .opts = {"command=/bin/true", "format=summon", "keys.A="},
     .want_configure = EI_BADCONFIG,
     .want_text = "keys.A must be a path"},
    {.name = "env-bad-name",
     .opts = {"command=/bin/true", "env=1X=y"},
     .want_configure = EI_BADCONFIG,
     .want_text = "'1X' is not a variable name"},
    {.name = "env-bad-item",
     .opts = {"command=/bin/true", "env=A B"},
     .want_configure = EI_BADCONFIG,
     .want_text = "neither a variable name"},
    {.name = "relative-path-on-an-old-host",
     .opts = {"command=bin/tool"},
     .dir = "/cfg",
     .host_size = offsetof(struct ei_host, abs_path),
     .want_configure = EI_BADCONFIG,
     .want_text = "'bin/tool' is a relative path"},
    /* --- runs --- */
    {.name = "relative-path-from-the-configuration",
     .opts = {"command=bin/tool"},
     .dir = "/nonexistent-cfg",
     .want = EI_UNAVAILABLE,
     .want_text = "no such program",
     .want_locator = "bin/tool"},
    {.name = "dotenv-output",
     .opts = {SH, "command=printf 'A=1\\nB=\"" CANARY "\"\\n'"},
     .entries = {{"A", "1"}, {"B", CANARY}}},
    {.name = "json-output",
     .opts = {SH, "command=echo '{\"db\": {\"port\": 5432}}'", "format=json"},
     .entries = {{"db/port", "5432"}}},
    {.name = "minimal-environment",
     .opts = {SH, "command=env", "env=EXTRA_*", "env=FIXED=x y",
              "env=ENVINJECT_NAMED"},
     .environ = {"HOME=/home/u", "SECRET=" CANARY, "EXTRA_A=a",
                 "ENVINJECT_GLOBBED=no", "ENVINJECT_NAMED=yes", "LC_TIME=C"},
     .entries = {{"HOME", "/home/u"},
                 {"EXTRA_A", "a"},
                 {"FIXED", "x y"},
                 {"ENVINJECT_NAMED", "yes"},
                 {"LC_TIME", "C"},
                 {"PATH", "/usr/local/bin:/usr/bin:/bin"}},
     .absent = "SECRET"},
    {.name = "env-glob-skips-own-inputs",
     .opts = {SH, "command=env", "env=ENVINJECT_*"},
     .environ = {"ENVINJECT_PRIVATE_KEY=" CANARY},
     .absent = "ENVINJECT_PRIVATE_KEY"},
    {.name = "summon-trims-unicode-space",
     .opts = {SH, "command=printf '\\342\\200\\203 %s\\302\\240\\n\\n' \"$0\"",
              "format=summon", "keys.A=prod/a b"},
     .entries = {{"A", "prod/a b"}}},
    {.name = "summon-keeps-inner-space",
     .opts = {SH, "command=printf 'a  b\\n'", "format=summon", "keys.A=p"},
     .entries = {{"A", "a  b"}}},
    {.name = "summon-nul-byte",
     .opts = {SH, "command=printf 'a\\000b'", "format=summon", "keys.A=p"},
     .want = EI_BADDATA,
     .want_text = "NUL byte"},
    {.name = "exit-status-and-stderr",
     .opts = {SH, "command=echo; echo '  boom  ' >&2; echo two >&2; exit 3"},
     .want = EI_UNAVAILABLE,
     .want_text = "the program exited with status 3: boom",
     .unwanted = "two",
     .want_locator = "/bin/sh"},
    {.name = "stderr-withheld",
     .opts = {SH, "command=echo A=" CANARY "; echo bad " CANARY " >&2; "
                  "exit 1"},
     .want = EI_UNAVAILABLE,
     .want_text = "not shown",
     .unwanted = CANARY},
    {.name = "stderr-withheld-other-key",
     .opts = {SH, "command=case $0 in a) echo " CANARY ";; *) echo no "
                  CANARY " >&2; exit 1;; esac",
              "format=summon", "keys.B=b", "keys.A=a"},
     .want = EI_UNAVAILABLE,
     .want_text = "not shown",
     .unwanted = CANARY,
     .want_locator = "/bin/sh b"},
    {.name = "first-key-reported",
     .opts = {SH, "command=echo \"no $0\" >&2; exit 1", "format=summon",
              "keys.C=c", "keys.A=a", "keys.B=b"},
     .want = EI_UNAVAILABLE,
     .want_text = "no c",
     .want_locator = "/bin/sh c"},
    {.name = "killed-by-signal",
     .opts = {SH, "command=kill -KILL $$"},
     .want = EI_UNAVAILABLE,
     .want_text = "killed by signal 9"},
    {.name = "timeout",
     .opts = {SH, "command=echo waiting >&2; sleep 30"},
     .deadline_ms = 200,
     .want = EI_UNAVAILABLE,
     .want_text = "did not finish within the layer's timeout (200 ms): "
                  "waiting"},
    {.name = "deadline-passed-before",
     .opts = {"command=/bin/true"},
     .deadline_ms = -1,
     .want = EI_UNAVAILABLE,
     .want_text = "passed before the program could run"},
    {.name = "too-much-output",
     .opts = {SH, "command=head -c 1048577 /dev/zero"},
     .want = EI_BADDATA,
     .want_text = "more than 1048576 bytes"},
    {.name = "not-found",
     .opts = {"command=no-such-program-here", "env=PATH=/nonexistent"},
     .want = EI_UNAVAILABLE,
     .want_text = "no such program in PATH (/nonexistent)"},
    {.name = "summon-not-found-says-summon-dir",
     .opts = {"command=no-such-program-here", "env=PATH=/nonexistent",
              "format=summon", "keys.A=a"},
     .want = EI_UNAVAILABLE,
     .want_text = "nor /usr/local/lib/summon"},
};

#define CASES_N (sizeof(cases) / sizeof(cases[0]))

static void test_case(void **state)
{
    const struct exec_case *c = *state;
    struct fake_host *fh = fake_host_new(c->opts, c->environ, c->dir);
    assert_non_null(fh);
    if (c->host_size != 0)
        fake_host_set_size(fh, c->host_size);
    const struct ei_host *h = fake_host_host(fh);
    void *st = NULL;
    struct ei_error err = {0};
    enum ei_status s = ei_provider_exec.configure(h, &st, &err);
    if (c->want_configure != EI_OK) {
        assert_int_equal(s, c->want_configure);
        assert_null(st);
        assert_non_null(strstr(err.text, c->want_text));
        fake_host_free(fh);
        return;
    }
    assert_int_equal(s, EI_OK);
    assert_null(fake_host_unused(fh));
    assert_int_equal(fake_host_reads(fh), 0);
    struct fake_sink fs;
    fake_sink_init(&fs);
    struct ei_deadline dl;
    fake_deadline(&dl, c->deadline_ms != 0 ? c->deadline_ms : DL_LONG);
    s = ei_provider_exec.fetch(st, &fs.sink, &dl, &err);
    if (c->want != EI_OK) {
        assert_int_equal(s, c->want);
        assert_non_null(strstr(err.text, c->want_text));
        if (c->unwanted != NULL)
            assert_null(strstr(err.text, c->unwanted));
        if (c->want_locator != NULL)
            assert_string_equal(err.locator, c->want_locator);
    } else {
        if (s != EI_OK)
            fail_msg("fetch: %s (%s)", err.text, err.locator);
        for (size_t i = 0; i < WANT_N && c->entries[i].name != NULL; i++) {
            const struct fake_entry *e =
                fake_sink_find(&fs, c->entries[i].name);
            if (e == NULL)
                fail_msg("no entry %s", c->entries[i].name);
            assert_string_equal(e->value, c->entries[i].value);
        }
        if (c->absent != NULL)
            assert_null(fake_sink_find(&fs, c->absent));
    }
    assert_false(fs.abi_violation);
    fake_sink_free(&fs);
    ei_provider_exec.destroy(st);
    fake_host_free(fh);
}

/* The descriptor: secret, polled, what --layer exec:ARG sets. */
static void test_descriptor(void **state)
{
    (void)state;
    assert_string_equal(ei_provider_exec.name, "exec");
    assert_string_equal(ei_provider_exec.arg_option, "command");
    assert_true(ei_provider_exec.flags & EI_PROV_SECRET);
    assert_false(ei_provider_exec.flags & EI_PROV_REMOTE);
    const char *const *paths = NULL;
    int64_t poll_ms = 0;
    assert_int_equal(ei_provider_exec.watch(NULL, &paths, &poll_ms),
                     EI_WATCH_POLL);
    ei_provider_exec.destroy(NULL);
}

/* A run leaves no child behind: every process is reaped. */
static void test_no_zombie(void **state)
{
    (void)state;
    static const char *const opts[] = {"command=/bin/echo", "command=A=1",
                                       NULL};
    struct fake_host *fh = fake_host_new(opts, NULL, NULL);
    assert_non_null(fh);
    void *st = NULL;
    struct ei_error err = {0};
    assert_int_equal(ei_provider_exec.configure(fake_host_host(fh), &st, &err),
                     EI_OK);
    for (int i = 0; i < 3; i++) {
        struct fake_sink fs;
        fake_sink_init(&fs);
        struct ei_deadline dl;
        fake_deadline(&dl, DL_LONG);
        assert_int_equal(ei_provider_exec.fetch(st, &fs.sink, &dl, &err),
                         EI_OK);
        fake_sink_free(&fs);
    }
    /* no child of this process is left, running or zombie */
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    ei_provider_exec.destroy(st);
    fake_host_free(fh);
}

int main(void)
{
    struct CMUnitTest tests[CASES_N + 2];
    for (size_t i = 0; i < CASES_N; i++) {
        tests[i] =
            (struct CMUnitTest)cmocka_unit_test_prestate(test_case, NULL);
        tests[i].name = cases[i].name;
        tests[i].initial_state = (void *)&cases[i];
    }
    tests[CASES_N] = (struct CMUnitTest)cmocka_unit_test(test_descriptor);
    tests[CASES_N + 1] = (struct CMUnitTest)cmocka_unit_test(test_no_zombie);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
