/* SPDX-License-Identifier: MIT */
/* Unit tests of the command line: every command and option, operands,
   usage errors, help printed from the tables, and the tables' own rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"
#include "diag.h"

#define ARGV_MAX 16
/* Rows a table may have: cli.c builds getopt's tables in arrays this big. */
#define OPTS_MAX 16
#define JOIN_LEN 512

/* argv as main gets it: writable strings, NULL at argv[argc]. */
struct argvec {
    char store[ARGV_MAX][64];
    char *v[ARGV_MAX + 1];
    int n;
};

static void argvec_set(struct argvec *av, const char *const *words)
{
    memset(av, 0, sizeof(*av));
    for (; av->n < ARGV_MAX && words[av->n] != NULL; av->n++) {
        int w = snprintf(av->store[av->n], sizeof(av->store[av->n]), "%s",
                         words[av->n]);
        assert_true(w >= 0 && (size_t)w < sizeof(av->store[av->n]));
        av->v[av->n] = av->store[av->n];
    }
    assert_null(words[av->n]);
    av->v[av->n] = NULL;
}

/* "a|b|c", or "" for none. */
static const char *join(char *buf, const char *const *v, size_t n)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int w =
            snprintf(buf + off, JOIN_LEN - off, "%s%s", i > 0 ? "|" : "", v[i]);
        assert_true(w >= 0 && (size_t)w < JOIN_LEN - off);
        off += (size_t)w;
    }
    return buf;
}

/* --- successful parses --- */

static const struct {
    const char *argv[ARGV_MAX + 1];
    enum ei_cmd cmd;
    const char *config, *environment, *layers;
    int verbosity;
    bool help, version, pristine, origin, reveal, exit_code, force,
        print_private;
    const char *unset, *require, *format, *out, *keydir;
    const char *rest;
} good_cases[] = {
    {.argv = {"envinject", "run", "prog", NULL},
     .cmd = EI_CMD_RUN,
     .rest = "prog"},
    /* run stops at the program: its options are the program's */
    {.argv = {"envinject", "run", "-u", "A", "--unset", "B", "--pristine",
              "prog", "-u", "C", "--pristine", "--help", NULL},
     .cmd = EI_CMD_RUN,
     .unset = "A|B",
     .pristine = true,
     .rest = "prog|-u|C|--pristine|--help"},
    {.argv = {"envinject", "run", "--unset=A", "-uB", "--", "-prog", "-u",
              NULL},
     .cmd = EI_CMD_RUN,
     .unset = "A|B",
     .rest = "-prog|-u"},
    {.argv = {"envinject", "run", "--", "--", NULL},
     .cmd = EI_CMD_RUN,
     .rest = "--"},
    /* envinject -- PROG ARGS is run */
    {.argv = {"envinject", "--", "prog", "a", "-u", "--help", NULL},
     .cmd = EI_CMD_RUN,
     .rest = "prog|a|-u|--help"},
    {.argv = {"envinject", "-e", "prod", "-v", "--", "print", NULL},
     .cmd = EI_CMD_RUN,
     .environment = "prod",
     .verbosity = 1,
     .rest = "print"},
    /* the global options may also follow the command */
    {.argv = {"envinject", "print", "-c", "f.conf", "A", "--env=prod", "-q",
              NULL},
     .cmd = EI_CMD_PRINT,
     .config = "f.conf",
     .environment = "prod",
     .verbosity = -1,
     .rest = "A"},
    {.argv = {"envinject", "run", "-e", "prod", "--layer", "env", "--", "prog",
              "-e", "x", NULL},
     .cmd = EI_CMD_RUN,
     .environment = "prod",
     .layers = "env",
     .rest = "prog|-e|x"},
    {.argv = {"envinject", "-c", "f.conf", "-e", "prod", "--layer", "env",
              "--layer=file:a.env", "-v", "-v", "print", NULL},
     .cmd = EI_CMD_PRINT,
     .config = "f.conf",
     .environment = "prod",
     .layers = "env|file:a.env",
     .verbosity = 2},
    {.argv = {"envinject", "--config=x.conf", "--env=dev", "-q", "get", "KEY",
              NULL},
     .cmd = EI_CMD_GET,
     .config = "x.conf",
     .environment = "dev",
     .verbosity = -1,
     .rest = "KEY"},
    {.argv = {"envinject", "-cA", "-eB", "--verbose", "providers", NULL},
     .cmd = EI_CMD_PROVIDERS,
     .config = "A",
     .environment = "B",
     .verbosity = 1},
    {.argv = {"envinject", "-vvv", "-v", "check", NULL},
     .cmd = EI_CMD_CHECK,
     .verbosity = 2},
    {.argv = {"envinject", "-v", "-v", "-v", "check", NULL},
     .cmd = EI_CMD_CHECK,
     .verbosity = 2},
    {.argv = {"envinject", "-v", "--quiet", "check", NULL},
     .cmd = EI_CMD_CHECK,
     .verbosity = -1},
    /* the last -c wins */
    {.argv = {"envinject", "-c", "one", "-c", "two", "init", NULL},
     .cmd = EI_CMD_INIT,
     .config = "two"},
    {.argv = {"envinject", "--layer", "", "providers", NULL},
     .cmd = EI_CMD_PROVIDERS,
     .layers = ""},
    /* operands between options for print and explain */
    {.argv = {"envinject", "print", "A", "-o", "B", "--format", "json",
              "--reveal", "C", NULL},
     .cmd = EI_CMD_PRINT,
     .origin = true,
     .reveal = true,
     .format = "json",
     .rest = "A|B|C"},
    {.argv = {"envinject", "print", "-fenv", "--origin", "--", "-o", "B", NULL},
     .cmd = EI_CMD_PRINT,
     .origin = true,
     .format = "env",
     .rest = "-o|B"},
    {.argv = {"envinject", "print", "--format=table", "-f", "shell", NULL},
     .cmd = EI_CMD_PRINT,
     .format = "shell"},
    {.argv = {"envinject", "explain", "A", "--reveal", "B", NULL},
     .cmd = EI_CMD_EXPLAIN,
     .reveal = true,
     .rest = "A|B"},
    {.argv = {"envinject", "check", "-r", "A", "--require", "B", "-rC", "-f",
              "github", NULL},
     .cmd = EI_CMD_CHECK,
     .require = "A|B|C",
     .format = "github"},
    {.argv = {"envinject", "diff", "dev", "--exit-code", "prod", "-f", "json",
              "--reveal", NULL},
     .cmd = EI_CMD_DIFF,
     .exit_code = true,
     .reveal = true,
     .format = "json",
     .rest = "dev|prod"},
    {.argv = {"envinject", "init", "--force", NULL},
     .cmd = EI_CMD_INIT,
     .force = true},
    {.argv = {"envinject", "seal", "keygen", "-k", "/keys", "--out", "k.key",
              "--print-private", NULL},
     .cmd = EI_CMD_SEAL,
     .keydir = "/keys",
     .out = "k.key",
     .print_private = true,
     .rest = "keygen"},
    {.argv = {"envinject", "seal", "set", "f.json", "KEY", "--keydir=/k", "-oX",
              NULL},
     .cmd = EI_CMD_SEAL,
     .keydir = "/k",
     .out = "X",
     .rest = "set|f.json|KEY"},
    {.argv = {"envinject", "seal", "encrypt", "f.json", NULL},
     .cmd = EI_CMD_SEAL,
     .rest = "encrypt|f.json"},
    /* --help and --version wherever they are accepted */
    {.argv = {"envinject", "-h", NULL}, .help = true},
    {.argv = {"envinject", "--help", NULL}, .help = true},
    {.argv = {"envinject", "-c", "x", "--help", NULL},
     .config = "x",
     .help = true},
    {.argv = {"envinject", "--help", "print", NULL},
     .cmd = EI_CMD_PRINT,
     .help = true},
    {.argv = {"envinject", "print", "--help", NULL},
     .cmd = EI_CMD_PRINT,
     .help = true},
    {.argv = {"envinject", "print", "A", "-h", NULL},
     .cmd = EI_CMD_PRINT,
     .help = true,
     .rest = "A"},
    {.argv = {"envinject", "run", "--help", NULL},
     .cmd = EI_CMD_RUN,
     .help = true},
    {.argv = {"envinject", "run", "-u", "A", "-h", "prog", NULL},
     .cmd = EI_CMD_RUN,
     .unset = "A",
     .help = true},
    {.argv = {"envinject", "get", "-h", NULL}, .cmd = EI_CMD_GET, .help = true},
    {.argv = {"envinject", "seal", "-h", NULL},
     .cmd = EI_CMD_SEAL,
     .help = true},
    {.argv = {"envinject", "providers", "--help", NULL},
     .cmd = EI_CMD_PROVIDERS,
     .help = true},
    {.argv = {"envinject", "-V", NULL}, .version = true},
    {.argv = {"envinject", "--version", "print", "--bogus", NULL},
     .version = true},
    {.argv = {"envinject", "-q", "--version", NULL},
     .verbosity = -1,
     .version = true},
};

/* Fail naming the case, so that a table row is easy to find. */
#define EXPECT(i, cond)                                                        \
    do {                                                                       \
        if (!(cond))                                                           \
            fail_msg("case %zu (%s %s): %s", (i), good_cases[i].argv[1],       \
                     good_cases[i].argv[2] != NULL ? good_cases[i].argv[2]     \
                                                   : "",                       \
                     #cond);                                                   \
    } while (0)

static bool same(const char *got, const char *want)
{
    if (want == NULL)
        return got == NULL;
    return got != NULL && strcmp(got, want) == 0;
}

static size_t words_in(const char *joined)
{
    if (joined == NULL)
        return 0;
    size_t n = 1;
    for (; *joined != '\0'; joined++)
        n += *joined == '|';
    return n;
}

static void check_good(size_t i, const struct ei_args *a)
{
    char buf[JOIN_LEN];
    EXPECT(i, a->cmd == good_cases[i].cmd);
    if (good_cases[i].cmd == EI_CMD_NONE)
        EXPECT(i, a->cmd_def == NULL);
    else
        EXPECT(i, a->cmd_def != NULL && a->cmd_def->cmd == good_cases[i].cmd);
    EXPECT(i, same(a->config, good_cases[i].config));
    EXPECT(i, same(a->environment, good_cases[i].environment));
    EXPECT(i, a->layers_n == words_in(good_cases[i].layers));
    EXPECT(i, a->layers_n == 0 || a->layers[a->layers_n] == NULL);
    if (a->layers_n > 0)
        EXPECT(i,
               same(join(buf, a->layers, a->layers_n), good_cases[i].layers));
    EXPECT(i, a->verbosity == good_cases[i].verbosity);
    EXPECT(i, a->help == good_cases[i].help);
    EXPECT(i, a->version == good_cases[i].version);
    EXPECT(i, a->pristine == good_cases[i].pristine);
    EXPECT(i, a->origin == good_cases[i].origin);
    EXPECT(i, a->reveal == good_cases[i].reveal);
    EXPECT(i, a->exit_code == good_cases[i].exit_code);
    EXPECT(i, a->force == good_cases[i].force);
    EXPECT(i, a->print_private == good_cases[i].print_private);
    EXPECT(i, a->unset_n == words_in(good_cases[i].unset));
    EXPECT(i, a->unset_n == 0 || a->unset[a->unset_n] == NULL);
    if (a->unset_n > 0)
        EXPECT(i, same(join(buf, a->unset, a->unset_n), good_cases[i].unset));
    EXPECT(i, a->require_n == words_in(good_cases[i].require));
    EXPECT(i, a->require_n == 0 || a->require[a->require_n] == NULL);
    if (a->require_n > 0)
        EXPECT(i, same(join(buf, a->require, a->require_n),
                       good_cases[i].require));
    EXPECT(i, same(a->format, good_cases[i].format));
    EXPECT(i, same(a->out, good_cases[i].out));
    EXPECT(i, same(a->keydir, good_cases[i].keydir));
    EXPECT(i,
           a->rest_n >= 0 && (size_t)a->rest_n == words_in(good_cases[i].rest));
    if (a->rest_n > 0)
        EXPECT(i,
               same(join(buf, (const char *const *)a->rest, (size_t)a->rest_n),
                    good_cases[i].rest));
}

static void test_good(void **state)
{
    for (size_t i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++) {
        struct argvec av;
        argvec_set(&av, good_cases[i].argv);
        struct ei_args a;
        struct ei_error err = {0};
        int rc = ei_cli_parse(av.n, av.v, &a, &err);
        EXPECT(i, rc == 0);
        EXPECT(i, err.status == EI_OK);
        check_good(i, &a);
        /* the program's argv is argv itself: exec gets the same strings */
        if (good_cases[i].cmd == EI_CMD_RUN && a.rest_n > 0)
            assert_ptr_equal(a.rest[a.rest_n], NULL);
        ei_cli_args_free(&a);
        assert_null(a.layers);
        assert_null(a.rest);
    }
}

/* --- usage errors --- */

static const struct {
    const char *argv[ARGV_MAX + 1];
    const char *text;    /* exact */
    const char *locator; /* exact; "" for none */
} bad_cases[] = {
    {{"envinject", NULL}, "no command given", ""},
    {{"envinject", "-v", "-c", "x", NULL}, "no command given", ""},
    {{"envinject", "--", NULL}, "no command given", ""},
    {{"envinject", "bogus", NULL}, "unknown command 'bogus'", ""},
    {{"envinject", "Print", NULL}, "unknown command 'Print'", ""},
    {{"envinject", "-h", "bogus", NULL}, "unknown command 'bogus'", ""},
    {{"envinject", "-x", "print", NULL}, "unknown option -x", ""},
    {{"envinject", "-vx", "print", NULL}, "unknown option -x", ""},
    {{"envinject", "--bogus", "print", NULL}, "unknown option --bogus", ""},
    {{"envinject", "--bogus=1", "print", NULL}, "unknown option --bogus=1", ""},
    {{"envinject", "-u", "A", "run", "p", NULL}, "unknown option -u", ""},
    {{"envinject", "-c", NULL}, "option -c needs an argument", ""},
    {{"envinject", "-v", "-e", NULL}, "option -e needs an argument", ""},
    {{"envinject", "--layer", NULL}, "option --layer needs an argument", ""},
    {{"envinject", "print", "-f", NULL},
     "option -f needs an argument",
     "print"},
    {{"envinject", "check", "A", "-r", NULL},
     "option -r needs an argument",
     "check"},
    {{"envinject", "seal", "keygen", "-k", NULL},
     "option -k needs an argument",
     "seal"},
    {{"envinject", "print", "--nope", NULL}, "unknown option --nope", "print"},
    {{"envinject", "print", "A", "-u", "B", NULL},
     "unknown option -u",
     "print"},
    /* global options after the command still need their argument */
    {{"envinject", "print", "-c", NULL}, "option -c needs an argument", "print"},
    {{"envinject", "get", "K", "--layer", NULL},
     "option --layer needs an argument",
     "get"},
    {{"envinject", "get", "--format", "x", NULL},
     "unknown option --format",
     "get"},
    {{"envinject", "diff", "-o", NULL}, "unknown option -o", "diff"},
    {{"envinject", "init", "-f", NULL}, "unknown option -f", "init"},
    {{"envinject", "explain", "--origin", NULL},
     "unknown option --origin",
     "explain"},
    {{"envinject", "providers", "x", "--reveal", NULL},
     "unknown option --reveal",
     "providers"},
    {{"envinject", "run", NULL}, "no program given", "run"},
    {{"envinject", "run", "--", NULL}, "no program given", "run"},
    {{"envinject", "run", "-u", "A", "--pristine", NULL},
     "no program given",
     "run"},
    {{"envinject", "run", "--bogus", "prog", NULL},
     "unknown option --bogus",
     "run"},
    {{"envinject", "run", "-u", NULL}, "option -u needs an argument", "run"},
};

static void test_bad(void **state)
{
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        struct argvec av;
        argvec_set(&av, bad_cases[i].argv);
        struct ei_args a;
        struct ei_error err = {0};
        int rc = ei_cli_parse(av.n, av.v, &a, &err);
        /* main frees whatever the parse left, error or not */
        ei_cli_args_free(&a);
        if (rc != -1 || strcmp(err.text, bad_cases[i].text) != 0 ||
            strcmp(err.locator, bad_cases[i].locator) != 0)
            fail_msg("case %zu: rc %d, text \"%s\", locator \"%s\"", i, rc,
                     err.text, err.locator);
        assert_int_equal(err.status, EI_USAGE);
        assert_int_equal(ei_exit_code(err.status), 64);
        assert_int_equal(err.errnum, 0);
        assert_string_equal(err.layer, "");
        assert_string_equal(err.text, bad_cases[i].text);
        assert_string_equal(err.locator, bad_cases[i].locator);
    }
}

/* BUG: --help followed by another option is read as the command name
   ("unknown command '-v'"), so `envinject --help -v` fails with 64. */
static void test_bug_help_then_option(void **state)
{
    static const char *const words[][ARGV_MAX + 1] = {
        {"envinject", "--help", "-v", NULL},
        {"envinject", "-h", "--layer", "env", NULL},
        {"envinject", "-h", "--", "prog", NULL},
    };
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        struct argvec av;
        argvec_set(&av, words[i]);
        struct ei_args a;
        struct ei_error err = {0};
        int rc = ei_cli_parse(av.n, av.v, &a, &err);
        ei_cli_args_free(&a);
        if (rc != 0)
            fail_msg("%s %s: %s", words[i][1], words[i][2], err.text);
        assert_int_equal(err.status, EI_OK);
    }
}

/* BUG: a missing argument of a long option is reported under its letter
   ("option -e needs an argument" after --env). */
static void test_bug_missing_arg_long_name(void **state)
{
    static const struct {
        const char *argv[ARGV_MAX + 1];
        const char *text, *locator;
    } cases[] = {
        {{"envinject", "--env", NULL}, "option --env needs an argument", ""},
        {{"envinject", "--config", NULL},
         "option --config needs an argument",
         ""},
        {{"envinject", "check", "--format", NULL},
         "option --format needs an argument",
         "check"},
        {{"envinject", "run", "--unset", NULL},
         "option --unset needs an argument",
         "run"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct argvec av;
        argvec_set(&av, cases[i].argv);
        struct ei_args a;
        struct ei_error err = {0};
        int rc = ei_cli_parse(av.n, av.v, &a, &err);
        ei_cli_args_free(&a);
        assert_int_equal(rc, -1);
        assert_int_equal(err.status, EI_USAGE);
        assert_string_equal(err.text, cases[i].text);
        assert_string_equal(err.locator, cases[i].locator);
    }
}

/* --- every row of every table --- */

/* Whether option name (given arg) left its mark in a. */
static bool took_effect(const struct ei_args *a, const char *name,
                        const char *arg)
{
    static const struct {
        const char *name;
        size_t off;
    } strs[] = {
        {"against", offsetof(struct ei_args, against)},
        {"audit", offsetof(struct ei_args, audit)},
        {"config", offsetof(struct ei_args, config)},
        {"env", offsetof(struct ei_args, environment)},
        {"format", offsetof(struct ei_args, format)},
        {"name", offsetof(struct ei_args, name)},
        {"keydir", offsetof(struct ei_args, keydir)},
        {"kill-signal", offsetof(struct ei_args, kill_signal)},
        {"kill-timeout", offsetof(struct ei_args, kill_timeout)},
        {"splay", offsetof(struct ei_args, splay)},
        {"start-splay", offsetof(struct ei_args, start_splay)},
        {"wait", offsetof(struct ei_args, wait)},
        {"out", offsetof(struct ei_args, out)},
    };
    static const struct {
        const char *name;
        size_t off;
    } flags[] = {
        {"environments", offsetof(struct ei_args, list_environments)},
        {"exit-code", offsetof(struct ei_args, exit_code)},
        {"force", offsetof(struct ei_args, force)},
        {"keys", offsetof(struct ei_args, list_keys)},
        {"help", offsetof(struct ei_args, help)},
        {"init", offsetof(struct ei_args, init)},
        {"watch", offsetof(struct ei_args, watch)},
        {"origin", offsetof(struct ei_args, origin)},
        {"overload", offsetof(struct ei_args, overload)},
        {"print-private", offsetof(struct ei_args, print_private)},
        {"pristine", offsetof(struct ei_args, pristine)},
        {"reveal", offsetof(struct ei_args, reveal)},
        {"version", offsetof(struct ei_args, version)},
    };
    const char *base = (const char *)a;
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        if (strcmp(name, strs[i].name) == 0) {
            const char *got;
            memcpy(&got, base + strs[i].off, sizeof(got));
            return got != NULL && strcmp(got, arg) == 0;
        }
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
        if (strcmp(name, flags[i].name) == 0) {
            bool got;
            memcpy(&got, base + flags[i].off, sizeof(got));
            return got;
        }
    if (strcmp(name, "layer") == 0)
        return a->layers_n == 1 && strcmp(a->layers[0], arg) == 0;
    if (strcmp(name, "unset") == 0)
        return a->unset_n == 1 && strcmp(a->unset[0], arg) == 0;
    if (strcmp(name, "expect-differ") == 0)
        return a->expect_differ_n == 1 &&
               strcmp(a->expect_differ[0], arg) == 0;
    if (strcmp(name, "require") == 0)
        return a->require_n == 1 && strcmp(a->require[0], arg) == 0;
    if (strcmp(name, "verbose") == 0)
        return a->verbosity == 1;
    if (strcmp(name, "quiet") == 0)
        return a->verbosity == -1;
    /* a row this test does not know: teach it the new option */
    fail_msg("option --%s is not covered by took_effect()", name);
    return false;
}

/* One spelling of an option: 0 "--name ARG", 1 "--name=ARG", 2 "-x ARG". */
static void parse_row(const struct ei_cli_cmd *c, const struct ei_cli_opt *o,
                      int spelling)
{
    const char *words[ARGV_MAX + 1] = {"envinject"};
    int n = 1;
    char opt[64];
    static const char arg[] = "ARGV4L";
    const char *cmd_operand = c == NULL ? "providers" : NULL;
    if (spelling == 1)
        snprintf(opt, sizeof(opt), "--%s%s%s", o->name,
                 (o->flags & EI_CLI_ARG) ? "=" : "",
                 (o->flags & EI_CLI_ARG) ? arg : "");
    else if (spelling == 0)
        snprintf(opt, sizeof(opt), "--%s", o->name);
    else
        snprintf(opt, sizeof(opt), "-%c", o->letter);
    if (c != NULL)
        words[n++] = c->name;
    words[n++] = opt;
    if ((o->flags & EI_CLI_ARG) && spelling != 1)
        words[n++] = arg;
    if (cmd_operand != NULL)
        words[n++] = cmd_operand;
    if (c != NULL && c->cmd == EI_CMD_RUN)
        words[n++] = "prog";
    words[n] = NULL;

    struct argvec av;
    argvec_set(&av, words);
    struct ei_args a;
    struct ei_error err = {0};
    int rc = ei_cli_parse(av.n, av.v, &a, &err);
    if (rc != 0)
        print_message("# %s %s: %s\n", c != NULL ? c->name : "(global)", opt,
                      err.text);
    assert_int_equal(rc, 0);
    assert_true(took_effect(&a, o->name, arg));
    if (c != NULL)
        assert_ptr_equal(a.cmd_def, c);
    ei_cli_args_free(&a);
}

static void test_every_row(void **state)
{
    for (const struct ei_cli_opt *o = ei_cli_globals(); o->name != NULL; o++)
        for (int sp = 0; sp < 3; sp++)
            if (sp < 2 || o->letter != 0)
                parse_row(NULL, o, sp);
    for (const struct ei_cli_cmd *c = ei_cli_commands(); c->name != NULL; c++)
        for (const struct ei_cli_opt *o = c->opts; o->name != NULL; o++)
            for (int sp = 0; sp < 3; sp++)
                if (sp < 2 || o->letter != 0)
                    parse_row(c, o, sp);
}

static void test_every_command(void **state)
{
    size_t n = 0;
    for (const struct ei_cli_cmd *c = ei_cli_commands(); c->name != NULL;
         c++, n++) {
        const char *words[] = {"envinject", c->name, "x", NULL};
        struct argvec av;
        argvec_set(&av, words);
        struct ei_args a;
        struct ei_error err = {0};
        assert_int_equal(ei_cli_parse(av.n, av.v, &a, &err), 0);
        assert_int_equal(a.cmd, c->cmd);
        assert_ptr_equal(a.cmd_def, c);
        assert_int_equal(a.rest_n, 1);
        assert_string_equal(a.rest[0], "x");
        ei_cli_args_free(&a);
    }
    /* every command of enum ei_cmd has a row */
    assert_int_equal(n, EI_CMD_SCHEMA);
}

static void test_repeat(void **state)
{
    static const struct {
        const char *argv[ARGV_MAX + 1];
        size_t n;
    } cases[] = {
        {{"envinject", "--layer", "a", "--layer", "b", "--layer", "c", "print",
          NULL},
         3},
        {{"envinject", "run", "-u", "a", "-u", "b", "--unset", "c", "p", NULL},
         3},
        {{"envinject", "check", "-r", "a", "--require=b", "-rc", NULL}, 3},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct argvec av;
        argvec_set(&av, cases[i].argv);
        struct ei_args a;
        struct ei_error err = {0};
        assert_int_equal(ei_cli_parse(av.n, av.v, &a, &err), 0);
        const char **v = i == 0 ? a.layers : i == 1 ? a.unset : a.require;
        size_t got = i == 0 ? a.layers_n : i == 1 ? a.unset_n : a.require_n;
        assert_int_equal(got, cases[i].n);
        assert_string_equal(v[0], "a");
        assert_string_equal(v[1], "b");
        assert_string_equal(v[2], "c");
        assert_null(v[3]);
        ei_cli_args_free(&a);
    }
}

/* --- the tables --- */

static size_t rows(const struct ei_cli_opt *t)
{
    size_t n = 0;
    while (t[n].name != NULL)
        n++;
    return n;
}

static void check_table(const struct ei_cli_opt *t, const char *what)
{
    size_t n = rows(t);
    assert_true(n > 0);
    assert_true(n <= OPTS_MAX);
    for (size_t i = 0; i < n; i++) {
        assert_true(t[i].name[0] != '\0' && t[i].name[0] != '-');
        assert_non_null(t[i].help);
        assert_true(t[i].help[0] != '\0');
        /* an argument is named in help exactly when the option takes one */
        assert_int_equal(t[i].arg != NULL, (t[i].flags & EI_CLI_ARG) != 0);
        if (i > 0 && strcmp(t[i - 1].name, t[i].name) >= 0)
            fail_msg("%s: --%s is not sorted after --%s", what, t[i].name,
                     t[i - 1].name);
    }
}

static void test_tables(void **state)
{
    const struct ei_cli_opt *g = ei_cli_globals();
    check_table(g, "global options");
    for (const struct ei_cli_cmd *c = ei_cli_commands(); c->name != NULL; c++) {
        check_table(c->opts, c->name);
        assert_non_null(c->args);
        assert_non_null(c->summary);
        bool has_help = false;
        for (const struct ei_cli_opt *o = c->opts; o->name != NULL; o++) {
            has_help |= strcmp(o->name, "help") == 0 && o->letter == 'h';
            if (o->letter == 0)
                continue;
            for (const struct ei_cli_opt *p = o + 1; p->name != NULL; p++)
                if (p->letter == o->letter)
                    fail_msg("%s: -%c is both --%s and --%s", c->name,
                             o->letter, o->name, p->name);
            /* a letter shared with a global must mean the same option */
            for (const struct ei_cli_opt *p = g; p->name != NULL; p++)
                if (p->letter == o->letter && strcmp(p->name, o->name) != 0)
                    fail_msg("%s: -%c is --%s here but --%s globally", c->name,
                             o->letter, o->name, p->name);
        }
        /* COMMAND --help prints that command's options */
        assert_true(has_help);
        for (const struct ei_cli_cmd *d = c + 1; d->name != NULL; d++)
            assert_string_not_equal(c->name, d->name);
    }
    for (const struct ei_cli_opt *o = g; o->name != NULL; o++)
        for (const struct ei_cli_opt *p = o + 1; p->name != NULL; p++)
            assert_true(o->letter == 0 || p->letter != o->letter);
}

/* --- help and usage --- */

struct text {
    char *buf;
    size_t len;
};

static FILE *text_open(struct text *t)
{
    memset(t, 0, sizeof(*t));
    FILE *f = open_memstream(&t->buf, &t->len);
    assert_non_null(f);
    return f;
}

static void text_close(struct text *t, FILE *f)
{
    assert_int_equal(fclose(f), 0);
    assert_non_null(t->buf);
}

/* "-x, --name ARG" or "--name ARG": how a row must read in help. */
static void row_text(const struct ei_cli_opt *o, char *buf, size_t len)
{
    int n;
    if (o->letter != 0)
        n = snprintf(buf, len, "-%c, --%s%s%s", o->letter, o->name,
                     o->arg != NULL ? " " : "", o->arg != NULL ? o->arg : "");
    else
        n = snprintf(buf, len, "--%s%s%s", o->name, o->arg != NULL ? " " : "",
                     o->arg != NULL ? o->arg : "");
    assert_true(n > 0 && (size_t)n < len);
}

static void check_lines(const char *s)
{
    /* every line ends with a newline and none with a blank */
    size_t len = strlen(s);
    assert_true(len > 0);
    assert_int_equal(s[len - 1], '\n');
    for (const char *p = strchr(s, '\n'); p != NULL; p = strchr(p + 1, '\n'))
        if (p > s)
            assert_true(p[-1] != ' ');
}

static void check_help(const struct ei_cli_cmd *c)
{
    struct text usage, help;
    FILE *f = text_open(&usage);
    ei_cli_usage(f, c);
    text_close(&usage, f);
    f = text_open(&help);
    ei_cli_help(f, c);
    text_close(&help, f);

    check_lines(usage.buf);
    check_lines(help.buf);
    assert_memory_equal(usage.buf, "usage: envinject ", 17);
    /* help starts with the usage */
    assert_true(help.len > usage.len);
    assert_memory_equal(help.buf, usage.buf, usage.len);
    assert_non_null(strstr(help.buf, "See envinject(1)"));
    const struct ei_cli_opt *t = c != NULL ? c->opts : ei_cli_globals();
    for (const struct ei_cli_opt *o = t; o->name != NULL; o++) {
        char want[128];
        row_text(o, want, sizeof(want));
        if (strstr(help.buf, want) == NULL)
            fail_msg("help of %s lacks \"%s\"", c != NULL ? c->name : "-",
                     want);
        assert_non_null(strstr(help.buf, o->help));
    }
    if (c != NULL) {
        /* one line: usage: envinject [OPTIONS] NAME [OPTIONS] ARGS */
        assert_int_equal(strchr(usage.buf, '\n') + 1, usage.buf + usage.len);
        assert_non_null(strstr(usage.buf, c->name));
        assert_non_null(strstr(usage.buf, c->args));
        assert_non_null(strstr(help.buf, c->summary));
    } else {
        for (const struct ei_cli_cmd *d = ei_cli_commands(); d->name != NULL;
             d++) {
            assert_non_null(strstr(help.buf, d->name));
            assert_non_null(strstr(help.buf, d->summary));
        }
        assert_non_null(strstr(usage.buf, "COMMAND"));
        assert_non_null(strstr(usage.buf, "-- PROGRAM"));
    }
    free(usage.buf);
    free(help.buf);
}

static void test_help(void **state)
{
    check_help(NULL);
    for (const struct ei_cli_cmd *c = ei_cli_commands(); c->name != NULL; c++)
        check_help(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_bug_help_then_option),
        cmocka_unit_test(test_bug_missing_arg_long_name),
        cmocka_unit_test(test_every_row),
        cmocka_unit_test(test_every_command),
        cmocka_unit_test(test_repeat),
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_help),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
