/* SPDX-License-Identifier: MIT */
/* The command line: option tables (one per subcommand), parsing, usage and
   help printed from the tables. */
#ifndef EI_CLI_H
#define EI_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "envinject/provider.h"

enum ei_cmd {
    EI_CMD_NONE = 0,
    EI_CMD_RUN,
    EI_CMD_PRINT,
    EI_CMD_GET,
    EI_CMD_EXPLAIN,
    EI_CMD_CHECK,
    EI_CMD_DIFF,
    EI_CMD_INIT,
    EI_CMD_SEAL,
    EI_CMD_PROVIDERS,
    EI_CMD_COMPLETION,
    EI_CMD_SCHEMA
};

/* Option flags. */
#define EI_CLI_ARG    0x1u /* takes an argument */
#define EI_CLI_REPEAT 0x2u /* may be given more than once */

/* One row of an option table. */
struct ei_cli_opt {
    const char *name; /* long name, without "--" */
    char letter;      /* short letter, or 0 */
    const char *arg;  /* argument name for help, or NULL */
    unsigned flags;
    const char *help;
    const char *values; /* the words the argument may be (completion), or
                           NULL for any text */
};

/* One subcommand. */
struct ei_cli_cmd {
    enum ei_cmd cmd;
    const char *name;
    const char *args;              /* operands for the synopsis */
    const char *summary;           /* one line */
    const struct ei_cli_opt *opts; /* sorted by name, NULL-terminated */
};

/* Everything the command line said. Strings point into argv. */
struct ei_args {
    /* global */
    const char *config;
    const char *environment;
    const char **layers; /* malloc'd */
    size_t layers_n;
    int verbosity; /* -1 quiet, 0, 1 -v, 2 -vv */
    bool help, version;
    bool overload; /* --overload: the implicit environment layer lowest */
    enum ei_cmd cmd;
    const struct ei_cli_cmd *cmd_def;

    /* subcommand options */
    bool pristine, origin, reveal, exit_code, force, print_private;
    bool init;                /* run --init */
    bool watch;               /* run --watch */
    const char *kill_timeout; /* run --kill-timeout, or NULL */
    const char *kill_signal;  /* run --kill-signal, or NULL */
    const char *wait;         /* run --wait, or NULL */
    const char *splay;        /* run --splay, or NULL */
    const char *start_splay;  /* run --start-splay, or NULL */
    const char *audit;        /* run --audit, or NULL */
    const char **unset; /* --unset, malloc'd, NULL-terminated */
    size_t unset_n;
    const char **require; /* --require, malloc'd, NULL-terminated */
    size_t require_n;
    const char **expect_differ; /* diff --expect-differ, malloc'd,
                                   NULL-terminated */
    size_t expect_differ_n;
    const char *against; /* diff --against, or NULL */
    const char *format; /* --format, or NULL */
    const char *name;   /* print --name (k8s), or NULL */
    bool list_environments, list_keys; /* completion --environments, --keys */
    const char *out;    /* seal keygen --out */
    const char *keydir; /* seal keygen --keydir */

    /* operands after the options (for run: the program and its args) */
    char **rest;
    int rest_n;
};

/* The global options and the subcommands (for help and lint). */
const struct ei_cli_opt *ei_cli_globals(void);
const struct ei_cli_cmd *ei_cli_commands(void); /* ends with name NULL */

/*
 * Parse argv.  Returns 0, or -1 with err (EI_USAGE) naming the problem;
 * the caller prints it and the command's synopsis.  --help and --version
 * set the flags and stop parsing.
 */
int ei_cli_parse(int argc, char **argv, struct ei_args *a,
                 struct ei_error *err);
void ei_cli_args_free(struct ei_args *a);

/* Full help (cmd NULL: the tool's), printed from the tables. */
void ei_cli_help(FILE *out, const struct ei_cli_cmd *cmd);

/* One-line synopsis for a usage error. */
void ei_cli_usage(FILE *out, const struct ei_cli_cmd *cmd);

#endif
