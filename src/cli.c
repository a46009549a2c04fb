/* SPDX-License-Identifier: MIT */
/* The command line: option tables (one per subcommand), parsing, usage and
   help printed from the tables. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "diag.h"

#define OPTS_MAX 24

/* Tables are sorted by long name; lint/options.sh checks the man page. */
static const struct ei_cli_opt global_opts[] = {
    {"config", 'c', "FILE", EI_CLI_ARG,
     "configuration file (default: $ENVINJECT_CONFIG, ./envinject.conf)", NULL},
    {"env", 'e', "ENV", EI_CLI_ARG,
     "environment (default: $ENVINJECT_ENV, the file's environment)", NULL},
    {"help", 'h', NULL, 0, "show this help and exit", NULL},
    {"layer", 0, "SPEC", EI_CLI_ARG | EI_CLI_REPEAT,
     "add a layer PROVIDER[:ARG][,OPTION=VALUE]... after the file's", NULL},
    {"overload", 0, NULL, 0,
     "without a configuration file: the files win over the process "
     "environment", NULL},
    {"quiet", 'q', NULL, 0, "print errors only", NULL},
    {"verbose", 'v', NULL, EI_CLI_REPEAT,
     "more messages on stderr (-vv: also requests)", NULL},
    {"version", 'V', NULL, 0, "show versions and built-in providers", NULL},
    {NULL, 0, NULL, 0, NULL, NULL}};

static const struct ei_cli_opt run_opts[] = {
    {"audit", 0, "PATH", EI_CLI_ARG,
     "append the audit record of each start to PATH (default: the file's "
     "audit.path)", NULL},
    {"help", 'h', NULL, 0, "show this help and exit", NULL},
    {"init", 0, NULL, 0,
     "stay as the program's parent: pass signals on, reap zombies", NULL},
    {"kill-signal", 0, "SIG", EI_CLI_ARG,
     "with --watch: the signal that stops the program for a restart "
     "(default TERM)", NULL},
    {"kill-timeout", 0, "MS", EI_CLI_ARG,
     "with --init or --watch: SIGKILL this long after the stop signal "
     "(default 10s)", NULL},
    {"pristine", 0, NULL, 0,
     "give the program only the resolved keys, not the inherited ones", NULL},
    {"splay", 0, "MS", EI_CLI_ARG,
     "with --watch: wait a random time up to MS before a restart", NULL},
    {"start-splay", 0, "MS", EI_CLI_ARG,
     "wait a random time up to MS before the first resolution (default: "
     "the file's start_splay)",
     NULL},
    {"unset", 'u', "KEY", EI_CLI_ARG | EI_CLI_REPEAT,
     "remove KEY from the program's environment", NULL},
    {"wait", 0, "MIN[:MAX]", EI_CLI_ARG,
     "with --watch: act MIN after the last change, at most MAX after the "
     "first", NULL},
    {"watch", 'w', NULL, 0,
     "keep watching every layer; restart the program when its environment "
     "changes (implies --init)", NULL},
    {NULL, 0, NULL, 0, NULL, NULL}};

static const struct ei_cli_opt print_opts[] = {
    {"format", 'f', "FORMAT", EI_CLI_ARG,
     "dotenv, env, shell, json, github, table, docker, systemd, k8s, yaml "
     "or audit (default: table on a terminal, else dotenv)",
     "dotenv env shell json github table docker systemd k8s yaml audit"},
    {"help", 'h', NULL, 0, "show this help and exit", NULL},
    {"name", 0, "NAME", EI_CLI_ARG,
     "k8s: name of the ConfigMap and Secret (default: the environment)", NULL},
    {"origin", 'o', NULL, 0, "show where each value came from", NULL},
    {"reveal", 0, NULL, 0,
     "write secret values too (else left out, or <secret> in a table)", NULL},
    {NULL, 0, NULL, 0, NULL, NULL}};

static const struct ei_cli_opt help_only[] = {
    {"help", 'h', NULL, 0, "show this help and exit", NULL},
    {NULL, 0, NULL, 0, NULL, NULL}};

static const struct ei_cli_opt explain_opts[] = {
    {"help", 'h', NULL, 0, "show this help and exit", NULL},
    {"reveal", 0, NULL, 0, "show secret values instead of <secret>", NULL},
    {NULL, 0, NULL, 0, NULL, NULL}};

static const struct ei_cli_opt check_opts[] = {
    {"format", 'f', "FORMAT", EI_CLI_ARG, "text, json or github",
     "text json github"},
    {"help", 'h', NULL, 0, "show this help and exit", NULL},
    {"require", 'r', "KEY", EI_CLI_ARG | EI_CLI_REPEAT,
     "KEY must be set and not empty (in addition to the file's require)", NULL},
    {NULL, 0, NULL, 0, NULL, NULL}};

static const struct ei_cli_opt diff_opts[] = {
    {"against", 0, "FILE", EI_CLI_ARG,
     "compare one environment with the last audit record in FILE (- for "
     "standard input)", NULL},
    {"exit-code", 0, NULL, 0,
     "exit 1 when the environments differ (outside --expect-differ)", NULL},
    {"expect-differ", 0, "KEYS", EI_CLI_ARG | EI_CLI_REPEAT,
     "keys whose values may differ: names or globs, comma-separated "
     "(shown, marked expected)",
     NULL},
    {"format", 'f', "FORMAT", EI_CLI_ARG, "text or json", "text json"},
    {"help", 'h', NULL, 0, "show this help and exit", NULL},
    {"reveal", 0, NULL, 0, "show secret values instead of <secret>", NULL},
    {NULL, 0, NULL, 0, NULL, NULL}};

static const struct ei_cli_opt init_opts[] = {
    {"force", 0, NULL, 0, "overwrite an existing file", NULL},
    {"help", 'h', NULL, 0, "show this help and exit", NULL},
    {NULL, 0, NULL, 0, NULL, NULL}};

static const struct ei_cli_opt seal_opts[] = {
    {"help", 'h', NULL, 0, "show this help and exit", NULL},
    {"keydir", 'k', "DIR", EI_CLI_ARG,
     "keygen: key folder (default: $EJSON_KEYDIR, /opt/ejson/keys)", NULL},
    {"out", 'o', "FILE", EI_CLI_ARG,
     "keygen: write the private key to FILE (mode 0600)", NULL},
    {"print-private", 0, NULL, 0,
     "keygen: print the private key on stdout instead of writing a file", NULL},
    {NULL, 0, NULL, 0, NULL, NULL}};

static const struct ei_cli_opt completion_opts[] = {
    {"environments", 0, NULL, 0,
     "print the configuration's environments, one per line (for the "
     "scripts)", NULL},
    {"help", 'h', NULL, 0, "show this help and exit", NULL},
    {"keys", 0, NULL, 0,
     "print the keys the configuration names, one per line (for the "
     "scripts)", NULL},
    {NULL, 0, NULL, 0, NULL, NULL}};

static const struct ei_cli_opt schema_opts[] = {
    {"format", 'f', "FORMAT", EI_CLI_ARG,
     "json-schema (default) or env-example", "json-schema env-example"},
    {"help", 'h', NULL, 0, "show this help and exit", NULL},
    {NULL, 0, NULL, 0, NULL, NULL}};

static const struct ei_cli_cmd commands[] = {
    {EI_CMD_RUN, "run", "[--] PROGRAM [ARG]...",
     "resolve, then execute PROGRAM with the result (same PID)", run_opts},
    {EI_CMD_PRINT, "print", "[KEY]...", "print the resolved configuration",
     print_opts},
    {EI_CMD_GET, "get", "KEY", "print the raw value of one key", help_only},
    {EI_CMD_EXPLAIN, "explain", "KEY...",
     "show every layer that set KEY and which one won", explain_opts},
    {EI_CMD_CHECK, "check", "",
     "validate required keys and the schema, report every problem", check_opts},
    {EI_CMD_DIFF, "diff", "ENV_A ENV_B | --against FILE [ENV]",
     "compare the resolved configuration of two environments, or of one "
     "with an audit record",
     diff_opts},
    {EI_CMD_INIT, "init", "", "write a commented starter envinject.conf",
     init_opts},
    {EI_CMD_SEAL, "seal", "keygen | encrypt FILE | set FILE KEY",
     "manage sealed (ejson) secrets files; set reads the value from stdin",
     seal_opts},
    {EI_CMD_PROVIDERS, "providers", "", "list providers, built in and loadable",
     help_only},
    {EI_CMD_COMPLETION, "completion", "bash | zsh | fish",
     "print a completion script for the shell", completion_opts},
    {EI_CMD_SCHEMA, "schema", "",
     "write the required keys and the schema as JSON Schema or .env.example",
     schema_opts},
    {EI_CMD_NONE, NULL, NULL, NULL, NULL}};

const struct ei_cli_opt *ei_cli_globals(void)
{
    return global_opts;
}

const struct ei_cli_cmd *ei_cli_commands(void)
{
    return commands;
}

/* The operands are char ** with an int count: no casts to push's types
   (an int written through a size_t pointer is undefined, and wrong on
   big-endian machines). */
static int push_rest(struct ei_args *a, char *s)
{
    char **nv = realloc(a->rest, ((size_t)a->rest_n + 2) * sizeof(*nv));
    if (nv == NULL)
        return -1;
    nv[a->rest_n++] = s;
    nv[a->rest_n] = NULL;
    a->rest = nv;
    return 0;
}

static int push(const char ***v, size_t *n, const char *s)
{
    const char **nv = realloc(*v, (*n + 2) * sizeof(**v));
    if (nv == NULL)
        return -1;
    nv[(*n)++] = s;
    nv[*n] = NULL;
    *v = nv;
    return 0;
}

/* Build getopt's tables from ours; the index of a row is its val - 256. */
static void build(const struct ei_cli_opt *t, struct option *lo, char *so,
                  bool stop_at_operand)
{
    size_t s = 0, i = 0;
    so[s++] = stop_at_operand ? '+' : '-';
    so[s++] = ':';
    for (; t[i].name != NULL; i++) {
        lo[i].name = t[i].name;
        lo[i].has_arg =
            (t[i].flags & EI_CLI_ARG) ? required_argument : no_argument;
        lo[i].flag = NULL;
        lo[i].val = t[i].letter != 0 ? t[i].letter : 256 + (int)i;
        if (t[i].letter != 0) {
            so[s++] = t[i].letter;
            if (t[i].flags & EI_CLI_ARG)
                so[s++] = ':';
        }
    }
    memset(&lo[i], 0, sizeof(lo[i]));
    so[s] = '\0';
}

static const struct ei_cli_opt *row_of(const struct ei_cli_opt *t, int val)
{
    if (val >= 256)
        return &t[val - 256];
    for (; t->name != NULL; t++)
        if (t->letter == val)
            return t;
    return NULL;
}

static int bad_option(int c, const char *arg, const char *cmd,
                      struct ei_error *err)
{
    const char *where = cmd != NULL ? cmd : NULL;
    if (c == ':')
        return ei_error_set(err, EI_USAGE, 0, NULL, where,
                            "option %s needs an argument", arg),
               -1;
    return ei_error_set(err, EI_USAGE, 0, NULL, where, "unknown option %s",
                        arg),
           -1;
}

static const char *opt_text(char **argv, int optind_before)
{
    return argv[optind_before > 0 ? optind_before : 1];
}

static int set_global(struct ei_args *a, const struct ei_cli_opt *r,
                      const char *arg)
{
    if (strcmp(r->name, "config") == 0)
        a->config = arg;
    else if (strcmp(r->name, "env") == 0)
        a->environment = arg;
    else if (strcmp(r->name, "help") == 0)
        a->help = true;
    else if (strcmp(r->name, "layer") == 0)
        return push(&a->layers, &a->layers_n, arg);
    else if (strcmp(r->name, "overload") == 0)
        a->overload = true;
    else if (strcmp(r->name, "quiet") == 0)
        a->verbosity = -1;
    else if (strcmp(r->name, "verbose") == 0)
        a->verbosity = a->verbosity < 2 ? a->verbosity + 1 : 2;
    else if (strcmp(r->name, "version") == 0)
        a->version = true;
    return 0;
}

static int set_cmd(struct ei_args *a, const struct ei_cli_opt *r,
                   const char *arg)
{
    const char *n = r->name;
    if (strcmp(n, "help") == 0)
        a->help = true;
    else if (strcmp(n, "audit") == 0)
        a->audit = arg;
    else if (strcmp(n, "pristine") == 0)
        a->pristine = true;
    else if (strcmp(n, "init") == 0)
        a->init = true;
    else if (strcmp(n, "kill-timeout") == 0)
        a->kill_timeout = arg;
    else if (strcmp(n, "kill-signal") == 0)
        a->kill_signal = arg;
    else if (strcmp(n, "wait") == 0)
        a->wait = arg;
    else if (strcmp(n, "splay") == 0)
        a->splay = arg;
    else if (strcmp(n, "start-splay") == 0)
        a->start_splay = arg;
    else if (strcmp(n, "watch") == 0)
        a->watch = true;
    else if (strcmp(n, "unset") == 0)
        return push(&a->unset, &a->unset_n, arg);
    else if (strcmp(n, "require") == 0)
        return push(&a->require, &a->require_n, arg);
    else if (strcmp(n, "format") == 0)
        a->format = arg;
    else if (strcmp(n, "name") == 0)
        a->name = arg;
    else if (strcmp(n, "environments") == 0)
        a->list_environments = true;
    else if (strcmp(n, "keys") == 0)
        a->list_keys = true;
    else if (strcmp(n, "origin") == 0)
        a->origin = true;
    else if (strcmp(n, "reveal") == 0)
        a->reveal = true;
    else if (strcmp(n, "exit-code") == 0)
        a->exit_code = true;
    else if (strcmp(n, "against") == 0)
        a->against = arg;
    else if (strcmp(n, "expect-differ") == 0)
        return push(&a->expect_differ, &a->expect_differ_n, arg);
    else if (strcmp(n, "force") == 0)
        a->force = true;
    else if (strcmp(n, "keydir") == 0)
        a->keydir = arg;
    else if (strcmp(n, "out") == 0)
        a->out = arg;
    else if (strcmp(n, "print-private") == 0)
        a->print_private = true;
    return 0;
}

/* A command's table followed by the global rows it does not have itself:
   "envinject check -e prod" means what "envinject -e prod check" does.
   Returns the number of the command's own rows. */
static size_t merge_globals(const struct ei_cli_opt *t,
                            struct ei_cli_opt *out)
{
    size_t n = 0;
    for (; t[n].name != NULL; n++)
        out[n] = t[n];
    size_t own = n;
    for (const struct ei_cli_opt *g = global_opts; g->name != NULL; g++) {
        bool shadowed = false;
        for (size_t i = 0; i < own; i++)
            if (strcmp(out[i].name, g->name) == 0 ||
                (g->letter != 0 && out[i].letter == g->letter))
                shadowed = true;
        if (!shadowed && n < OPTS_MAX)
            out[n++] = *g;
    }
    memset(&out[n], 0, sizeof(out[n]));
    return own;
}

/* One getopt pass over argv from *ind with table t (a command's table
   also takes the global options). */
static int pass(int argc, char **argv, int *ind, const struct ei_cli_opt *t,
                bool global, bool stop, struct ei_args *a, const char *cmd,
                struct ei_error *err)
{
    struct ei_cli_opt merged[OPTS_MAX + 1];
    size_t own = OPTS_MAX + 1;
    if (!global) {
        own = merge_globals(t, merged);
        t = merged;
    }
    struct option lo[OPTS_MAX + 1];
    char so[OPTS_MAX * 3 + 3];
    build(t, lo, so, stop);
    opterr = 0;
    optind = 0; /* glibc: start over */
    /* getopt sees argv[*ind - 1] as the program name */
    int sub_argc = argc - *ind + 1;
    char **sub_argv = argv + *ind - 1;
    for (;;) {
        int before = optind;
        int c = getopt_long(sub_argc, sub_argv, so, lo, NULL);
        if (c == -1)
            break;
        if (c == 1) {
            /* an operand between options ("-" mode): keep it for later */
            if (push_rest(a, optarg) < 0)
                return ei_error_set(err, EI_NOMEM, 0, NULL, NULL,
                                    "out of memory"),
                       -1;
            continue;
        }
        if (c == '?' || c == ':') {
            /* name the option as typed: --env, not its letter */
            const char *typed = opt_text(sub_argv, before);
            const char *text = strncmp(typed, "--", 2) == 0 ? typed : NULL;
            char shortopt[3] = {'-', (char)optopt, '\0'};
            return bad_option(c, text != NULL ? text : shortopt, cmd, err);
        }
        const struct ei_cli_opt *r = row_of(t, c);
        if (r == NULL)
            return bad_option('?', opt_text(sub_argv, before), cmd, err);
        bool is_global = global || (size_t)(r - t) >= own;
        int rc = is_global ? set_global(a, r, optarg) : set_cmd(a, r, optarg);
        if (rc < 0)
            return ei_error_set(err, EI_NOMEM, 0, NULL, NULL, "out of memory"),
                   -1;
        if (a->help || a->version)
            break;
    }
    *ind += optind - 1;
    return 0;
}

int ei_cli_parse(int argc, char **argv, struct ei_args *a, struct ei_error *err)
{
    memset(a, 0, sizeof(*a));
    int ind = 1;
    if (pass(argc, argv, &ind, global_opts, true, true, a, NULL, err) < 0)
        return -1;
    /* --help wins over what follows it unless that names a command */
    if (a->help && (ind >= argc || argv[ind][0] == '-'))
        return 0;
    if (a->version)
        return 0;
    if (ind >= argc) {
        if (a->help)
            return 0;
        return ei_error_set(err, EI_USAGE, 0, NULL, NULL, "no command given"),
               -1;
    }
    /* envinject -- PROG ARGS is envinject run -- PROG ARGS */
    if (ind > 1 && strcmp(argv[ind - 1], "--") == 0) {
        a->cmd = EI_CMD_RUN;
        a->cmd_def = &commands[0];
        a->rest = argv + ind;
        a->rest_n = argc - ind;
        return 0;
    }
    const char *name = argv[ind];
    for (const struct ei_cli_cmd *c = commands; c->name != NULL; c++)
        if (strcmp(c->name, name) == 0)
            a->cmd_def = c;
    if (a->cmd_def == NULL)
        return ei_error_set(err, EI_USAGE, 0, NULL, NULL,
                            "unknown command '%s'", name),
               -1;
    a->cmd = a->cmd_def->cmd;
    ind++;
    /* run stops at the program name; the others take options anywhere */
    bool stop = a->cmd == EI_CMD_RUN;
    if (ind < argc || a->cmd == EI_CMD_RUN) {
        if (stop) {
            if (pass(argc, argv, &ind, a->cmd_def->opts, false, true, a, name,
                     err) < 0)
                return -1;
        } else {
            if (pass(argc, argv, &ind, a->cmd_def->opts, false, false, a, name,
                     err) < 0)
                return -1;
        }
    }
    if (a->help)
        return 0;
    if (stop) {
        a->rest = argv + ind;
        a->rest_n = argc - ind;
        if (a->rest_n == 0)
            return ei_error_set(err, EI_USAGE, 0, NULL, name,
                                "no program given"),
                   -1;
    } else {
        /* operands after "--" or at the end */
        for (; ind < argc; ind++)
            if (push_rest(a, argv[ind]) < 0)
                return ei_error_set(err, EI_NOMEM, 0, NULL, NULL,
                                    "out of memory"),
                       -1;
    }
    return 0;
}

void ei_cli_args_free(struct ei_args *a)
{
    free(a->layers);
    free(a->unset);
    free(a->require);
    free(a->expect_differ);
    if (a->cmd != EI_CMD_RUN)
        free(a->rest);
    memset(a, 0, sizeof(*a));
}

static void help_rows(FILE *out, const struct ei_cli_opt *t)
{
    for (; t->name != NULL; t++) {
        char left[64];
        if (t->letter != 0)
            snprintf(left, sizeof(left), "-%c, --%s%s%s", t->letter, t->name,
                     t->arg != NULL ? " " : "", t->arg != NULL ? t->arg : "");
        else
            snprintf(left, sizeof(left), "    --%s%s%s", t->name,
                     t->arg != NULL ? " " : "", t->arg != NULL ? t->arg : "");
        fprintf(out, "  %-24s %s\n", left, t->help);
    }
}

void ei_cli_usage(FILE *out, const struct ei_cli_cmd *cmd)
{
    if (cmd == NULL)
        fputs("usage: envinject [-c FILE] [-e ENV] [--layer SPEC]... [-v|-q] "
              "COMMAND [ARGS]\n       envinject [OPTIONS] -- PROGRAM "
              "[ARG]...\n",
              out);
    else
        fprintf(out, "usage: envinject [OPTIONS] %s [OPTIONS]%s%s\n", cmd->name,
                cmd->args[0] != '\0' ? " " : "", cmd->args);
}

void ei_cli_help(FILE *out, const struct ei_cli_cmd *cmd)
{
    ei_cli_usage(out, cmd);
    if (cmd != NULL) {
        fprintf(out, "\n%s\n\nOptions:\n", cmd->summary);
        help_rows(out, cmd->opts);
        fputs("\nThe global options (envinject --help) may come before or "
              "after the command.\n",
              out);
    } else {
        fputs("\nResolve configuration and secrets from layers, then run a "
              "program with them.\n\nCommands:\n",
              out);
        for (const struct ei_cli_cmd *c = commands; c->name != NULL; c++)
            fprintf(out, "  %-10s %s\n", c->name, c->summary);
        fputs("\nOptions:\n", out);
        help_rows(out, global_opts);
        fputs("\nenvinject COMMAND --help shows the options of a command.\n",
              out);
    }
    fputs("See envinject(1), envinject.conf(5) and envinject-providers(7).\n",
          out);
}
