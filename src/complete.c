/* SPDX-License-Identifier: MIT */
/*
 * Completion scripts for bash, zsh and fish.  Every option, its letter,
 * its argument and the words that argument may be come from the tables
 * of cli.c, the ones --help prints; what a command's operands are (keys,
 * environments, a program) is said once here, in operand_kinds.  The
 * scripts ask envinject itself for the environments and the keys of the
 * configuration (completion --environments, --keys), which reads the
 * configuration file and nothing else.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "complete.h"

enum operand {
    OP_NONE = 0,
    OP_KEYS,         /* print, get, explain */
    OP_ENVIRONMENTS, /* diff */
    OP_PROGRAM,      /* run: a command, then its arguments */
    OP_WORDS         /* the words of operand_words */
};

static const struct {
    enum ei_cmd cmd;
    enum operand kind;
    const char *words;
} operand_kinds[] = {
    {EI_CMD_RUN, OP_PROGRAM, NULL},
    {EI_CMD_PRINT, OP_KEYS, NULL},
    {EI_CMD_GET, OP_KEYS, NULL},
    {EI_CMD_EXPLAIN, OP_KEYS, NULL},
    {EI_CMD_DIFF, OP_ENVIRONMENTS, NULL},
    {EI_CMD_SEAL, OP_WORDS, "keygen encrypt set"},
    {EI_CMD_COMPLETION, OP_WORDS, "bash zsh fish"},
};

static enum operand operand_of(enum ei_cmd cmd, const char **words)
{
    for (size_t i = 0; i < sizeof(operand_kinds) / sizeof(operand_kinds[0]);
         i++)
        if (operand_kinds[i].cmd == cmd) {
            *words = operand_kinds[i].words;
            return operand_kinds[i].kind;
        }
    *words = NULL;
    return OP_NONE;
}

/* s in single quotes for sh and zsh. */
static void put_sq(FILE *out, const char *s)
{
    fputc('\'', out);
    for (; *s != '\0'; s++) {
        if (*s == '\'')
            fputs("'\\''", out);
        else
            fputc(*s, out);
    }
    fputc('\'', out);
}

/* s in single quotes for fish, where a backslash escapes ' and \. */
static void put_fish_sq(FILE *out, const char *s)
{
    fputc('\'', out);
    for (; *s != '\0'; s++) {
        if (*s == '\'' || *s == '\\')
            fputc('\\', out);
        fputc(*s, out);
    }
    fputc('\'', out);
}

/* "-l --long" for each row of t, space-separated. */
static void put_option_words(FILE *out, const struct ei_cli_opt *t)
{
    for (; t->name != NULL; t++) {
        if (t->letter != 0)
            fprintf(out, " -%c", t->letter);
        fprintf(out, " --%s", t->name);
    }
}

static bool path_arg(const struct ei_cli_opt *o);

/* "-l|--long" for each row of t with an argument (a case pattern); only
   those whose argument is a path (paths 1), is not (0), or all (-1). */
static void put_arg_patterns(FILE *out, const struct ei_cli_opt *t,
                             const char *prefix, bool *first, int paths)
{
    for (; t->name != NULL; t++) {
        if (!(t->flags & EI_CLI_ARG) ||
            (paths >= 0 && path_arg(t) != (paths == 1)))
            continue;
        if (t->letter != 0) {
            fprintf(out, "%s%s-%c", *first ? "" : "|", prefix, t->letter);
            *first = false;
        }
        fprintf(out, "%s%s--%s", *first ? "" : "|", prefix, t->name);
        *first = false;
    }
}

static void bash_script(FILE *out)
{
    const struct ei_cli_opt *g = ei_cli_globals();
    const struct ei_cli_cmd *cmds = ei_cli_commands();
    bool first = true;

    fputs("# bash completion for envinject, made by 'envinject completion "
          "bash'\n# from the option tables of envinject " PACKAGE_VERSION
          ".\n# Load it with: source <(envinject completion bash)\n"
          "_envinject_words() {\n"
          "    command envinject \"${_envinject_cfg[@]}\" completion \"$@\" "
          "2>/dev/null\n}\n"
          "_envinject() {\n"
          "    local cur=${COMP_WORDS[COMP_CWORD]} "
          "prev=${COMP_WORDS[COMP_CWORD-1]}\n"
          "    local cmd= i w prog= words=\n"
          "    _envinject_cfg=()\n"
          "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
          "        w=${COMP_WORDS[i]}\n"
          "        case $w in\n"
          "        -c|--config) _envinject_cfg=(-c \"${COMP_WORDS[i+1]}\"); "
          "i=$((i + 1)) ;;\n"
          "        --config=*) _envinject_cfg=(-c \"${w#--config=}\") ;;\n"
          "        ",
          out);
    put_arg_patterns(out, g, "", &first, -1);
    for (const struct ei_cli_cmd *c = cmds; c->name != NULL; c++)
        put_arg_patterns(out, c->opts, "", &first, -1);
    fputs(") i=$((i + 1)) ;;\n"
          "        --) [ -z \"$cmd\" ] && cmd=run; prog=$((i + 1)); break ;;\n"
          "        -*) ;;\n"
          "        *) if [ -z \"$cmd\" ]; then cmd=$w; "
          "elif [ \"$cmd\" = run ]; then prog=$i; break; fi ;;\n"
          "        esac\n"
          "    done\n"
          "    if [ -n \"$prog\" ]; then\n"
          "        if [ \"$COMP_CWORD\" -eq \"$prog\" ]; then\n"
          "            COMPREPLY=($(compgen -c -- \"$cur\"))\n"
          "        else\n"
          "            COMPREPLY=($(compgen -f -- \"$cur\"))\n"
          "        fi\n"
          "        return\n"
          "    fi\n"
          "    case $cmd:$prev in\n"
          "    *:-e|*:--env) COMPREPLY=($(compgen -W \"$(_envinject_words "
          "--environments)\" -- \"$cur\")); return ;;\n",
          out);
    for (const struct ei_cli_cmd *c = cmds; c->name != NULL; c++)
        for (const struct ei_cli_opt *o = c->opts; o->name != NULL; o++) {
            if (o->values == NULL)
                continue;
            fputs("    ", out);
            if (o->letter != 0)
                fprintf(out, "%s:-%c|", c->name, o->letter);
            fprintf(out, "%s:--%s) words='%s' ;;\n", c->name, o->name,
                    o->values);
        }
    fputs("    ", out);
    first = true;
    put_arg_patterns(out, g, "*:", &first, 1);
    for (const struct ei_cli_cmd *c = cmds; c->name != NULL; c++)
        put_arg_patterns(out, c->opts, "*:", &first, 1);
    fputs(") COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n    ", out);
    first = true;
    put_arg_patterns(out, g, "*:", &first, 0);
    for (const struct ei_cli_cmd *c = cmds; c->name != NULL; c++)
        put_arg_patterns(out, c->opts, "*:", &first, 0);
    fputs(") COMPREPLY=(); return ;;\n"
          "    esac\n"
          "    if [ -z \"$words\" ]; then\n"
          "        case $cmd in\n"
          "        '') if [[ $cur == -* ]]; then words='",
          out);
    put_option_words(out, g);
    fputs("'; else words='", out);
    for (const struct ei_cli_cmd *c = cmds; c->name != NULL; c++)
        fprintf(out, "%s%s", c == cmds ? "" : " ", c->name);
    fputs("'; fi ;;\n", out);
    for (const struct ei_cli_cmd *c = cmds; c->name != NULL; c++) {
        const char *opwords;
        enum operand kind = operand_of(c->cmd, &opwords);
        fprintf(out, "        %s) if [[ $cur == -* ]]; then words='", c->name);
        put_option_words(out, c->opts);
        put_option_words(out, g);
        fputs("'; ", out);
        switch (kind) {
        case OP_KEYS:
            fputs("else words=$(_envinject_words --keys); ", out);
            break;
        case OP_ENVIRONMENTS:
            fputs("else words=$(_envinject_words --environments); ", out);
            break;
        case OP_PROGRAM:
            fputs("else COMPREPLY=($(compgen -c -- \"$cur\")); return; ", out);
            break;
        case OP_WORDS:
            fprintf(out, "else words='%s'; ", opwords);
            break;
        case OP_NONE:
            break;
        }
        fputs("fi ;;\n", out);
    }
    fputs("        esac\n"
          "    fi\n"
          "    COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
          "}\n"
          "complete -F _envinject envinject\n",
          out);
}

/* Whether an option's argument is a path. */
static bool path_arg(const struct ei_cli_opt *o)
{
    return o->arg != NULL &&
           (strcmp(o->arg, "FILE") == 0 || strcmp(o->arg, "DIR") == 0);
}

/* One row as a spec of zsh's _arguments, and a line continuation. */
static void zsh_spec(FILE *out, const struct ei_cli_opt *o)
{
    bool arg = (o->flags & EI_CLI_ARG) != 0;
    bool rep = (o->flags & EI_CLI_REPEAT) != 0;
    fputs("        ", out);
    if (o->letter != 0) {
        if (rep)
            fputs("'*'", out);
        else
            fprintf(out, "'(-%c --%s)'", o->letter, o->name);
        fprintf(out, "{-%c%s,--%s%s}'", o->letter, arg ? "+" : "", o->name,
                arg ? "=" : "");
    } else {
        fprintf(out, "'%s--%s%s", rep ? "*" : "", o->name, arg ? "=" : "");
    }
    fputc('[', out);
    for (const char *h = o->help; *h != '\0'; h++) {
        if (*h == '\'')
            fputs("'\\''", out);
        else if (*h == '[' || *h == ']')
            fprintf(out, "\\%c", *h);
        else
            fputc(*h, out);
    }
    fputc(']', out);
    if (arg) {
        fprintf(out, ":%s:", o->arg != NULL ? o->arg : "arg");
        if (o->values != NULL)
            fprintf(out, "(%s)", o->values);
        else if (strcmp(o->name, "env") == 0)
            fputs("_envinject_environments", out);
        else if (path_arg(o))
            fputs(strcmp(o->arg, "DIR") == 0 ? "_files -/" : "_files", out);
        else
            fputs(" ", out);
    }
    fputs("' \\\n", out);
}

static void zsh_script(FILE *out)
{
    const struct ei_cli_opt *g = ei_cli_globals();
    const struct ei_cli_cmd *cmds = ei_cli_commands();
    fputs("#compdef envinject\n# zsh completion for envinject, made by "
          "'envinject completion zsh'\n# from the option tables of "
          "envinject " PACKAGE_VERSION ".\n# Load it with: source "
          "<(envinject completion zsh), or save it as _envinject in "
          "$fpath.\n"
          "_envinject_ask() {\n"
          "    local -a cfg\n"
          "    local i\n"
          "    for ((i = 2; i < CURRENT; i++)); do\n"
          "        case ${words[i]} in\n"
          "        -c|--config) cfg=(-c \"${words[i+1]}\") ;;\n"
          "        --config=*) cfg=(-c \"${words[i]#--config=}\") ;;\n"
          "        esac\n"
          "    done\n"
          "    command envinject \"${cfg[@]}\" completion \"$@\" "
          "2>/dev/null\n}\n"
          "_envinject_environments() {\n"
          "    local -a envs\n"
          "    envs=(${(f)\"$(_envinject_ask --environments)\"})\n"
          "    compadd -a envs\n}\n"
          "_envinject_keys() {\n"
          "    local -a keys\n"
          "    keys=(${(f)\"$(_envinject_ask --keys)\"})\n"
          "    compadd -a keys\n}\n"
          "_envinject() {\n"
          "    local curcontext=$curcontext state line\n"
          "    local -A opt_args\n"
          "    local -a commands\n"
          "    commands=(\n",
          out);
    for (const struct ei_cli_cmd *c = cmds; c->name != NULL; c++) {
        char item[256];
        snprintf(item, sizeof(item), "%s:%s", c->name, c->summary);
        fputs("        ", out);
        put_sq(out, item);
        fputc('\n', out);
    }
    fputs("    )\n    _arguments -C \\\n", out);
    for (const struct ei_cli_opt *o = g; o->name != NULL; o++)
        zsh_spec(out, o);
    fputs("        '1: :->command' \\\n        '*:: :->args'\n"
          "    case $state in\n"
          "    command) _describe -t commands command commands ;;\n"
          "    args)\n"
          "        case ${line[1]} in\n",
          out);
    for (const struct ei_cli_cmd *c = cmds; c->name != NULL; c++) {
        const char *opwords;
        enum operand kind = operand_of(c->cmd, &opwords);
        fprintf(out, "        %s)\n            _arguments \\\n", c->name);
        for (const struct ei_cli_opt *o = c->opts; o->name != NULL; o++)
            zsh_spec(out, o);
        switch (kind) {
        case OP_KEYS:
            fputs("                '*: :_envinject_keys'\n", out);
            break;
        case OP_ENVIRONMENTS:
            fputs("                '*: :_envinject_environments'\n", out);
            break;
        case OP_PROGRAM:
            fputs("                '*:: :_normal'\n", out);
            break;
        case OP_WORDS:
            fprintf(out, "                '*: :(%s)'\n", opwords);
            break;
        case OP_NONE:
            fputs("                '*: :'\n", out);
            break;
        }
        fputs("            ;;\n", out);
    }
    fputs("        esac ;;\n    esac\n}\n"
          "if [ \"$funcstack[1]\" = _envinject ]; then\n"
          "    _envinject \"$@\"\nelse\n"
          "    compdef _envinject envinject\nfi\n",
          out);
}

static void fish_option(FILE *out, const char *cond, const struct ei_cli_opt *o)
{
    fputs("complete -c envinject", out);
    if (cond != NULL)
        fprintf(out, " -n %s", cond);
    if (o->letter != 0)
        fprintf(out, " -s %c", o->letter);
    fprintf(out, " -l %s", o->name);
    if (o->flags & EI_CLI_ARG) {
        if (o->values != NULL) {
            fputs(" -x -a ", out);
            put_fish_sq(out, o->values);
        } else if (strcmp(o->name, "env") == 0) {
            fputs(" -x -a '(__envinject_ask --environments)'", out);
        } else {
            fputs(" -r -F", out);
        }
    }
    fputs(" -d ", out);
    put_fish_sq(out, o->help);
    fputc('\n', out);
}

static void fish_script(FILE *out)
{
    const struct ei_cli_opt *g = ei_cli_globals();
    const struct ei_cli_cmd *cmds = ei_cli_commands();
    fputs("# fish completion for envinject, made by 'envinject completion "
          "fish'\n# from the option tables of envinject " PACKAGE_VERSION
          ".\n# Load it with: envinject completion fish | source\n"
          "function __envinject_ask\n"
          "    set -l cfg\n"
          "    set -l words (commandline -opc)\n"
          "    for i in (seq (count $words))\n"
          "        switch $words[$i]\n"
          "            case -c --config\n"
          "                set cfg -c $words[(math $i + 1)]\n"
          "            case '--config=*'\n"
          "                set cfg -c (string replace -- --config= '' "
          "$words[$i])\n"
          "        end\n"
          "    end\n"
          "    command envinject $cfg completion $argv 2>/dev/null\n"
          "end\n"
          "complete -c envinject -f\n",
          out);
    for (const struct ei_cli_cmd *c = cmds; c->name != NULL; c++) {
        fprintf(out, "complete -c envinject -n __fish_use_subcommand -a %s -d ",
                c->name);
        put_fish_sq(out, c->summary);
        fputc('\n', out);
    }
    for (const struct ei_cli_opt *o = g; o->name != NULL; o++)
        fish_option(out, NULL, o);
    for (const struct ei_cli_cmd *c = cmds; c->name != NULL; c++) {
        char cond[64];
        snprintf(cond, sizeof(cond), "'__fish_seen_subcommand_from %s'",
                 c->name);
        for (const struct ei_cli_opt *o = c->opts; o->name != NULL; o++)
            fish_option(out, cond, o);
        const char *opwords;
        switch (operand_of(c->cmd, &opwords)) {
        case OP_KEYS:
            fprintf(out, "complete -c envinject -n %s -a "
                         "'(__envinject_ask --keys)'\n",
                    cond);
            break;
        case OP_ENVIRONMENTS:
            fprintf(out, "complete -c envinject -n %s -a "
                         "'(__envinject_ask --environments)'\n",
                    cond);
            break;
        case OP_PROGRAM:
            fprintf(out, "complete -c envinject -n %s -a "
                         "'(__fish_complete_command)'\n",
                    cond);
            break;
        case OP_WORDS:
            fprintf(out, "complete -c envinject -n %s -a ", cond);
            put_fish_sq(out, opwords);
            fputc('\n', out);
            break;
        case OP_NONE:
            break;
        }
    }
}

int ei_complete_script(FILE *out, const char *shell)
{
    if (strcmp(shell, "bash") == 0)
        bash_script(out);
    else if (strcmp(shell, "zsh") == 0)
        zsh_script(out);
    else if (strcmp(shell, "fish") == 0)
        fish_script(out);
    else
        return -1;
    return 0;
}

void ei_complete_environments(FILE *out, const struct ei_config *cfg)
{
    if (cfg->environments != NULL) {
        for (char **e = cfg->environments; *e != NULL; e++)
            fprintf(out, "%s\n", *e);
    } else if (cfg->environment != NULL) {
        fprintf(out, "%s\n", cfg->environment);
    }
}

int ei_complete_keys(FILE *out, const struct ei_config *cfg)
{
    size_t n;
    const char **v = ei_schema_keys(&cfg->schema, &n);
    if (v == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s\n", v[i]);
    free(v);
    return 0;
}
