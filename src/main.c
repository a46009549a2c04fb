/* SPDX-License-Identifier: MIT */
/* argv to subcommand to exit code: the only file that calls exit(). */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libconfig.h>
#include <sodium.h>

#include "audit.h"
#include "auditread.h"
#include "cli.h"
#include "complete.h"
#include "config.h"
#include "diag.h"
#include "envset.h"
#include "execprog.h"
#include "supervise.h"
#include "watch.h"
#include "http.h"
#include "output.h"
#include "parity.h"
#include "registry.h"
#include "resolve.h"
#include "schemaout.h"
#include "seal.h"
#include "secmem.h"
#include "splay.h"

extern char **environ;

/*
 * A command other than run, never inlined into main: its locals would
 * widen main's frame, which lies under every frame of run's start-up,
 * and each page of stack deeper costs a fault at every start (main's
 * frame: 3.6 KB with them, 1.8 KB without).
 */
#define EI_OWN_FRAME __attribute__((noinline))

static int fail(const struct ei_error *err)
{
    ei_diag_error(err);
    return ei_exit_code(err->status);
}

static int usage_error(const struct ei_error *err, const struct ei_cli_cmd *cmd)
{
    ei_diag_error(err);
    ei_cli_usage(stderr, cmd);
    return ei_exit_code(EI_USAGE);
}

static int operands(const struct ei_args *a, int min, int max)
{
    if (a->rest_n < min || (max >= 0 && a->rest_n > max)) {
        struct ei_error err = {0};
        ei_error_set(&err, EI_USAGE, 0, NULL, a->cmd_def->name,
                     a->rest_n < min ? "missing operand" : "too many operands");
        return usage_error(&err, a->cmd_def);
    }
    return 0;
}

static struct ei_config *load_config(const struct ei_args *a, const char *env,
                                     struct ei_error *err)
{
    struct ei_config_args ca = {0};
    const char *path = a->config;
    if (path == NULL)
        path = getenv("ENVINJECT_CONFIG");
    if (path != NULL && path[0] == '\0')
        path = NULL;
    ca.path = path;
    ca.path_given = path != NULL;
    ca.environment = env;
    if (ca.environment == NULL) {
        ca.environment = getenv("ENVINJECT_ENV");
        if (ca.environment != NULL && ca.environment[0] == '\0')
            ca.environment = NULL;
    }
    ca.layer_specs = a->layers;
    ca.layer_specs_n = a->layers_n;
    ca.overload = a->overload;
    return ei_config_load(&ca, err);
}

/*
 * run: a random delay before the first resolution (--start-splay, else
 * the file's start_splay), so that a fleet started at once does not reach
 * its services at once.  The option was checked by run_opts.
 */
static void start_splay(const struct ei_args *a, const struct ei_config *cfg)
{
    int64_t max = cfg->start_splay_ms;
    if (a->start_splay != NULL)
        max = ei_parse_duration_ms(a->start_splay, EI_START_SPLAY_MAX_MS);
    if (max <= 0)
        return;
    int64_t ms = ei_splay_draw(max);
    ei_diag_msg(EI_LOG_INFO, NULL, NULL,
                "start splay: waiting %lld ms (drawn from 0 to %lld)",
                (long long)ms, (long long)max);
    ei_splay_sleep(ms);
}

/*
 * Resolve the loaded cfg (adding the keys of --require); -1 with err on
 * failure, *out as ei_resolve leaves it.
 */
static int resolve_loaded(const struct ei_args *a, struct ei_config *cfg,
                          unsigned flags, struct ei_resolution **out,
                          struct ei_error *err)
{
    *out = NULL;
    for (size_t i = 0; i < a->require_n; i++)
        if (ei_schema_require_option(&cfg->schema, a->require[i]) < 0)
            return ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL,
                                "out of memory"),
                   -1;
    if (a->cmd == EI_CMD_RUN)
        start_splay(a, cfg);
    /* only an audit record shows revisions: run without one needs none */
    if (a->cmd == EI_CMD_RUN && a->audit == NULL && cfg->audit.where == NULL)
        flags |= EI_RESOLVE_NO_REVISION;
    return ei_resolve(cfg, (const char *const *)environ, flags, out, err);
}

/*
 * Load the configuration and resolve it; -1 with err on failure, *out as
 * ei_resolve leaves it.
 */
static int resolve_quiet(const struct ei_args *a, const char *env,
                         unsigned flags, struct ei_config **cfgp,
                         struct ei_resolution **out, struct ei_error *err)
{
    *out = NULL;
    *cfgp = load_config(a, env, err);
    if (*cfgp == NULL)
        return -1;
    return resolve_loaded(a, *cfgp, flags, out, err);
}

/*
 * One validation problem on stderr, at the place that set the value, then
 * the rule's place:
 *   envinject: per-env (dev.env:2): POOL: 500 is above the maximum 100
 *   (rule max, envinject.conf:8)
 * A missing key is reported at the rule's place (or --require).
 */
static void report_problem(const struct ei_resolution *r,
                           const struct ei_problem *p)
{
    struct ei_error pe = {0};
    const char *layer = p->layer != EI_LAYER_NONE
                            ? ei_resolution_layer_name(r, p->layer)
                            : NULL;
    if (p->locator != NULL && p->where != NULL &&
        strcmp(p->locator, p->where) != 0)
        ei_error_set(&pe, EI_BADCONFIG, 0, layer, p->locator,
                     "%s (rule %s, %s)", p->message, p->rule, p->where);
    else
        ei_error_set(&pe, EI_BADCONFIG, 0, layer,
                     p->locator != NULL ? p->locator : p->where, "%s",
                     p->message);
    ei_diag_error(&pe);
}

/*
 * What resolve_quiet's failure err means to the user: the error (after
 * every validation problem when *out is set) on stderr, and the exit
 * code.  label names the environment in the summary (diff).
 */
static int resolve_failed(const struct ei_resolution *r, const char *label,
                          const struct ei_error *err)
{
    if (r != NULL) {
        /* validation: every problem, then the summary */
        for (size_t i = 0; i < r->problems.n; i++)
            report_problem(r, &r->problems.v[i]);
        if (label != NULL) {
            struct ei_error le = {0};
            ei_error_set(&le, err->status, 0, NULL, NULL,
                         "%s in environment %s", err->text, label);
            return fail(&le);
        }
    }
    return fail(err);
}

/*
 * Resolve for a command; on failure print the error (and every validation
 * problem) and return the exit code, else 0 with *out set.  A validation
 * failure leaves *out set too, so that print, explain and diff can still
 * show what resolved; label names the environment in the summary (diff).
 */
static int resolve(const struct ei_args *a, const char *env, unsigned flags,
                   const char *label, struct ei_config **cfgp,
                   struct ei_resolution **out)
{
    struct ei_error err = {0};
    if (resolve_quiet(a, env, flags, cfgp, out, &err) == 0)
        return 0;
    return resolve_failed(*out, label, &err);
}

/* The first failure decides the exit status: a validation failure (78)
   stays even when a named key is also missing or output fails after. */
static int first_failure(int rc, int next)
{
    return rc != 0 ? rc : next;
}

/* The options of run --init and --watch, checked before any I/O. */
static int run_opts(const struct ei_args *a, struct ei_watch_opts *wo,
                    struct ei_error *e)
{
    static const char dur[] =
        "is not a duration (milliseconds, or a number with ms, s or m)";
    memset(wo, 0, sizeof(*wo));
    if (!a->watch && (a->kill_signal != NULL || a->wait != NULL ||
                      a->splay != NULL))
        return ei_error_set(e, EI_USAGE, 0, NULL, NULL, "--%s needs --watch",
                            a->kill_signal != NULL ? "kill-signal"
                            : a->wait != NULL      ? "wait"
                                                   : "splay"),
               -1;
    if (a->kill_timeout != NULL) {
        wo->sup.kill_timeout_ms =
            ei_parse_duration_ms(a->kill_timeout, EI_KILL_TIMEOUT_MAX_MS);
        if (wo->sup.kill_timeout_ms <= 0)
            return ei_error_set(e, EI_USAGE, 0, NULL, NULL,
                                "--kill-timeout: '%.40s' is not a duration "
                                "from 1 ms to 1 h (milliseconds, or a number "
                                "with ms, s or m)",
                                a->kill_timeout),
                   -1;
        if (!a->init && !a->watch)
            return ei_error_set(e, EI_USAGE, 0, NULL, NULL,
                                "--kill-timeout needs --init or --watch"),
                   -1;
    }
    if (a->kill_signal != NULL &&
        (wo->kill_signal = ei_signal_parse(a->kill_signal)) <= 0)
        return ei_error_set(e, EI_USAGE, 0, NULL, NULL,
                            "--kill-signal: '%.40s' is not a signal (a name "
                            "such as TERM or INT, or a number)",
                            a->kill_signal),
               -1;
    if (a->wait != NULL &&
        ei_wait_parse(a->wait, &wo->wait_min_ms, &wo->wait_max_ms) < 0)
        return ei_error_set(e, EI_USAGE, 0, NULL, NULL,
                            "--wait: '%.40s' is not MIN or MIN:MAX, "
                            "durations (milliseconds, or a number with ms, "
                            "s or m) with MAX not below MIN",
                            a->wait),
               -1;
    if (a->splay != NULL &&
        (wo->splay_ms = ei_parse_duration_ms(a->splay,
                                             EI_KILL_TIMEOUT_MAX_MS)) < 0)
        return ei_error_set(e, EI_USAGE, 0, NULL, NULL, "--splay: '%.40s' %s",
                            a->splay, dur),
               -1;
    if (a->start_splay != NULL &&
        ei_parse_duration_ms(a->start_splay, EI_START_SPLAY_MAX_MS) < 0)
        return ei_error_set(e, EI_USAGE, 0, NULL, NULL,
                            "--start-splay: '%.40s' %s up to 1 h",
                            a->start_splay, dur),
               -1;
    return 0;
}

static int cmd_run(struct ei_args *a)
{
    struct ei_watch_opts wo;
    struct ei_error err = {0};
    if (run_opts(a, &wo, &err) < 0)
        return fail(&err);
    struct ei_config *cfg;
    struct ei_resolution *r;
    struct timespec began;
    clock_gettime(CLOCK_REALTIME, &began);
    wo.resolved_since_ns =
        (int64_t)began.tv_sec * 1000000000 + began.tv_nsec;
    struct ei_audit *audit = NULL;
    char *record = NULL;
    int rc = 0;
    r = NULL;
    cfg = load_config(a, a->environment, &err);
    if (cfg == NULL) {
        rc = resolve_failed(NULL, NULL, &err);
        goto out;
    }
    /* the audit key and file before any layer is fetched: a start that
       cannot be recorded costs no request */
    if (ei_audit_open(cfg, a->audit, true, (const char *const *)environ, &audit,
                      &err) < 0) {
        rc = fail(&err);
        goto out;
    }
    if (resolve_loaded(a, cfg, 0, &r, &err) < 0) {
        rc = resolve_failed(r, NULL, &err);
        goto out;
    }
    struct ei_exec_opts o = {
        .pristine = a->pristine, .unset = a->unset, .argv = a->rest};
    if (a->watch) {
        /* the layers stay for the watch, which frees them */
        fflush(NULL);
        wo.audit = audit;
        rc = ei_watch(r, &o, (const char *const *)environ, &wo, &err);
        r = NULL;
        if (rc < 0)
            rc = fail(&err);
        goto out;
    }
    char **envp = ei_exec_envp(r, (const char *const *)environ, &o, &err);
    if (envp != NULL && audit != NULL &&
        (record = ei_audit_record(audit, r, a->rest[0], a->unset, &err)) ==
            NULL) {
        ei_exec_envp_free(envp);
        envp = NULL;
    }
    /* everything resolved now lives in envp: drop the rest before exec */
    ei_resolution_free(r);
    r = NULL;
    if (envp == NULL) {
        rc = fail(&err);
        goto out;
    }
    if (ei_exec_check_envp(a->rest, envp, &err) != 0 ||
        (record != NULL && ei_audit_append(audit, record, false, &err) < 0)) {
        ei_exec_envp_free(envp);
        rc = fail(&err);
        goto out;
    }
    free(record);
    record = NULL;
    ei_audit_free(audit);
    audit = NULL;
    fflush(NULL);
    if (a->init) {
        /* envinject stays: what the program is not given (the private
           key, the credentials the providers consumed) must not stay in
           its own environment either */
        ei_exec_wipe_dropped(environ, envp);
        /* envp is the supervisor's: it frees it once the child runs */
        rc = ei_supervise(a->rest, envp, &wo.sup, &err);
        if (rc < 0)
            rc = fail(&err);
        goto out;
    }
    ei_exec(a->rest, envp, &err);
    ei_exec_envp_free(envp);
    rc = fail(&err);
out:
    free(record);
    ei_audit_free(audit);
    ei_resolution_free(r);
    ei_config_free(cfg);
    return rc;
}

/* "a, b or c": the formats that a command takes, for its error. */
static void format_list(const int *allowed, char *buf, size_t size)
{
    size_t n = 0, len = 0;
    while (allowed[n] >= 0)
        n++;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
        int w = snprintf(buf + len, size - len, "%s%s", sep,
                         ei_format_name((enum ei_format)allowed[i]));
        if (w < 0 || (size_t)w >= size - len)
            break;
        len += (size_t)w;
    }
}

static int parse_format(const struct ei_args *a, enum ei_format dflt,
                        const int *allowed, enum ei_format *out)
{
    if (a->format == NULL) {
        *out = dflt;
        return 0;
    }
    int f = ei_format_parse(a->format);
    for (const int *p = allowed; f >= 0 && *p >= 0; p++)
        if (*p == f) {
            *out = (enum ei_format)f;
            return 0;
        }
    char names[128];
    format_list(allowed, names, sizeof(names));
    struct ei_error err = {0};
    ei_error_set(&err, EI_USAGE, 0, NULL, a->cmd_def->name,
                 "unknown format '%s' (expected %s)", a->format, names);
    return usage_error(&err, a->cmd_def);
}

/*
 * print --reveal --format github in a workflow: the runner takes
 * ::add-mask:: only from the step's output, and a line of $GITHUB_ENV that
 * is not an assignment fails the step with the line, secret and all, in
 * the log.  So the masks go to standard output and the assignments
 * straight into $GITHUB_ENV, as @actions/core does; standard output
 * redirected into that file is refused before anything is resolved.
 */
static int open_github_env(const struct ei_args *a, FILE **fp)
{
    *fp = NULL;
    const char *path = getenv("GITHUB_ENV");
    if (path == NULL || path[0] == '\0')
        return 0;
    struct ei_error err = {0};
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        ei_error_set(&err, EI_OSERR, errno, NULL, path,
                     "cannot open $GITHUB_ENV");
        return fail(&err);
    }
    struct stat fs, os;
    if (fstat(fd, &fs) == 0 && fstat(STDOUT_FILENO, &os) == 0 &&
        fs.st_dev == os.st_dev && fs.st_ino == os.st_ino) {
        close(fd);
        ei_error_set(&err, EI_USAGE, 0, NULL, a->cmd_def->name,
                     "with --reveal, --format=github appends to $GITHUB_ENV "
                     "itself and writes ::add-mask:: on standard output: "
                     "do not redirect it to $GITHUB_ENV");
        return usage_error(&err, a->cmd_def);
    }
    *fp = fdopen(fd, "a");
    if (*fp == NULL) {
        ei_error_set(&err, EI_OSERR, errno, NULL, path,
                     "cannot open $GITHUB_ENV");
        close(fd);
        return fail(&err);
    }
    return 0;
}

/* The key as get, print and explain see it: set, and not unset. */
static const struct ei_entry *key_set(const struct ei_resolution *r,
                                      const char *key)
{
    const struct ei_entry *e = ei_envset_get(r->final, key);
    return e == NULL || (e->flags & EI_ENTRY_UNSET) ? NULL : e;
}

/*
 * A named key that is not set: reported, and exit 1 as printenv(1) does,
 * for get, print and explain alike; the keys that are set are still shown.
 */
static int not_set(const char *key)
{
    struct ei_error err = {0};
    ei_error_set(&err, EI_FINDINGS, 0, NULL, NULL, "%s is not set", key);
    return fail(&err);
}

/* print --format audit: the record run would write, program null. */
static int print_audit(const struct ei_config *cfg,
                       const struct ei_resolution *r)
{
    struct ei_error err = {0};
    struct ei_audit *audit = NULL;
    char *record = NULL;
    if (ei_audit_open(cfg, NULL, false, (const char *const *)environ, &audit,
                      &err) < 0 ||
        (record = ei_audit_record(audit, r, NULL, NULL, &err)) == NULL) {
        ei_audit_free(audit);
        return fail(&err);
    }
    ei_audit_free(audit);
    int rc = 0;
    if (fputs(record, stdout) == EOF || fflush(stdout) == EOF) {
        ei_error_set(&err, EI_OSERR, errno, NULL, NULL,
                     "cannot write to standard output");
        rc = fail(&err);
    }
    free(record);
    return rc;
}

EI_OWN_FRAME static int cmd_print(struct ei_args *a)
{
    static const int allowed[] = {EI_FMT_DOTENV, EI_FMT_ENV,     EI_FMT_SHELL,
                                  EI_FMT_JSON,   EI_FMT_GITHUB,  EI_FMT_TABLE,
                                  EI_FMT_DOCKER, EI_FMT_SYSTEMD, EI_FMT_K8S,
                                  EI_FMT_YAML,   EI_FMT_AUDIT,   -1};
    enum ei_format fmt;
    int rc = parse_format(
        a, isatty(STDOUT_FILENO) ? EI_FMT_TABLE : EI_FMT_DOTENV, allowed, &fmt);
    if (rc != 0)
        return rc;
    if (fmt == EI_FMT_AUDIT && (a->origin || a->reveal || a->rest_n > 0)) {
        struct ei_error err = {0};
        ei_error_set(&err, EI_USAGE, 0, NULL, a->cmd_def->name,
                     "--format=audit prints the whole record: no KEY, "
                     "--origin or --reveal");
        return usage_error(&err, a->cmd_def);
    }
    if (a->name != NULL && fmt != EI_FMT_K8S) {
        struct ei_error err = {0};
        ei_error_set(&err, EI_USAGE, 0, NULL, a->cmd_def->name,
                     "--name is for --format=k8s");
        return usage_error(&err, a->cmd_def);
    }
    FILE *github_env = NULL;
    if (fmt == EI_FMT_GITHUB && a->reveal && !a->origin) {
        rc = open_github_env(a, &github_env);
        if (rc != 0)
            return rc;
    }
    struct ei_config *cfg;
    struct ei_resolution *r;
    rc = resolve(a, a->environment, 0, NULL, &cfg, &r);
    /* a validation failure still shows what resolved, and exits 78 */
    bool resolved = r != NULL;
    const char **keys = NULL;
    size_t keys_n = 0;
    if (resolved && a->rest_n > 0) {
        keys = calloc((size_t)a->rest_n, sizeof(*keys));
        if (keys == NULL) {
            struct ei_error err = {0};
            ei_error_set(&err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory");
            rc = first_failure(rc, fail(&err));
            resolved = false;
        }
        for (int i = 0; keys != NULL && i < a->rest_n; i++) {
            if (key_set(r, a->rest[i]) != NULL)
                keys[keys_n++] = a->rest[i];
            else
                rc = first_failure(rc, not_set(a->rest[i]));
        }
    }
    if (resolved && rc == 0 && fmt == EI_FMT_AUDIT) {
        rc = print_audit(cfg, r);
        resolved = false;
    }
    /* named keys of which none is set: nothing to print (keys NULL would
       mean all of them) */
    if (resolved && (a->rest_n == 0 || keys_n > 0)) {
        struct ei_error err = {0};
        struct ei_print_opts o = {.format = fmt,
                                  .origin = a->origin,
                                  .reveal = a->reveal,
                                  .keys = keys,
                                  .keys_n = keys_n,
                                  .github_env = github_env,
                                  .name = a->name != NULL ? a->name
                                                          : cfg->environment};
        long omitted = ei_output_print(stdout, r, &o, &err);
        if (omitted < 0)
            rc = first_failure(rc, fail(&err));
        else if (omitted > 0)
            ei_diag_msg(EI_LOG_WARN, NULL, NULL,
                        "%ld secret value%s left out; --reveal writes %s",
                        omitted, omitted == 1 ? "" : "s",
                        omitted == 1 ? "it" : "them");
    }
    if (github_env != NULL)
        fclose(github_env);
    free(keys);
    ei_resolution_free(r);
    ei_config_free(cfg);
    return rc;
}

EI_OWN_FRAME static int cmd_get(struct ei_args *a)
{
    int rc = operands(a, 1, 1);
    if (rc != 0)
        return rc;
    struct ei_config *cfg;
    struct ei_resolution *r;
    rc = resolve(a, a->environment, 0, NULL, &cfg, &r);
    if (rc == 0) {
        const struct ei_entry *e = key_set(r, a->rest[0]);
        if (e == NULL) {
            rc = not_set(a->rest[0]);
        } else {
            /* the user named the key: the raw value, secret or not */
            if (fwrite(e->value, 1, e->value_len, stdout) != e->value_len ||
                fputc('\n', stdout) == EOF) {
                struct ei_error err = {0};
                ei_error_set(&err, EI_OSERR, errno, NULL, NULL,
                             "cannot write the output");
                rc = fail(&err);
            }
        }
    }
    ei_resolution_free(r);
    ei_config_free(cfg);
    return rc;
}

EI_OWN_FRAME static int cmd_explain(struct ei_args *a)
{
    int rc = operands(a, 1, -1);
    if (rc != 0)
        return rc;
    struct ei_config *cfg;
    struct ei_resolution *r;
    rc = resolve(a, a->environment, 0, NULL, &cfg, &r);
    if (r != NULL) {
        struct ei_error err = {0};
        if (ei_output_explain(stdout, r, (const char *const *)a->rest,
                              (size_t)a->rest_n, a->reveal, &err) < 0)
            rc = first_failure(rc, fail(&err));
    }
    ei_resolution_free(r);
    ei_config_free(cfg);
    return rc;
}

/* The folder of the configuration that load_config would read, for a
   report when loading it failed: "." when it has no folder part. */
static char *config_dir_of(const struct ei_args *a)
{
    const char *path = a->config;
    if (path == NULL || path[0] == '\0')
        path = getenv("ENVINJECT_CONFIG");
    if (path == NULL || path[0] == '\0')
        return strdup(".");
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return strdup(".");
    return strndup(path, slash == path ? 1 : (size_t)(slash - path));
}

/*
 * check writes its report whatever stopped it, so that a CI job reading
 * JSON or annotations sees a failed layer or a broken configuration as
 * well as a missing key; the exit status is then the failure's own (66
 * for a missing file), 1 for findings only.  With a format for programs,
 * the failure also goes to stderr, where a person reads the log.
 */
EI_OWN_FRAME static int cmd_check(struct ei_args *a)
{
    static const int allowed[] = {EI_FMT_TEXT, EI_FMT_JSON, EI_FMT_GITHUB, -1};
    enum ei_format fmt;
    int rc = operands(a, 0, 0);
    if (rc == 0)
        rc = parse_format(a, EI_FMT_TEXT, allowed, &fmt);
    if (rc != 0)
        return rc;
    struct ei_config *cfg;
    struct ei_resolution *r;
    struct ei_error failure = {0};
    bool failed = resolve_quiet(a, a->environment, EI_RESOLVE_KEEP_GOING, &cfg,
                                &r, &failure) < 0;
    if (failed && (failure.status == EI_NOMEM || failure.status == EI_USAGE)) {
        rc = fail(&failure);
        goto out;
    }
    struct ei_error err = {0};
    int written;
    if (r != NULL) {
        written = ei_output_check(stdout, r, fmt, &err);
    } else {
        char *dir = cfg != NULL && cfg->dir != NULL ? strdup(cfg->dir)
                                                    : config_dir_of(a);
        written = ei_output_check_failure(stdout, &failure, dir, fmt, &err);
        free(dir);
    }
    if (failed) {
        if (fmt != EI_FMT_TEXT)
            ei_diag_error(&failure);
        rc = ei_exit_code(failure.status);
    } else if (r->problems.n > 0) {
        rc = ei_exit_code(EI_FINDINGS);
    }
    if (written < 0)
        rc = fail(&err);
out:
    ei_resolution_free(r);
    ei_config_free(cfg);
    return rc;
}

/* The status of a diff that resolved (rc: what resolving said) and
   wrote n failing differences (-1: err). */
static int diff_status(const struct ei_args *a, int rc, long n,
                       const struct ei_error *err)
{
    if (n < 0)
        return first_failure(rc, fail(err));
    if (n > 0 && a->exit_code)
        return first_failure(rc, ei_exit_code(EI_FINDINGS));
    return rc;
}

/* diff ENV_A ENV_B */
static int diff_envs(struct ei_args *a, const struct ei_diff_opts *o)
{
    struct ei_config *cfg_a = NULL, *cfg_b = NULL;
    struct ei_resolution *ra = NULL, *rb = NULL;
    /* validation failures of either side are reported, and the diff of
       what resolved is still shown */
    int rc = resolve(a, a->rest[0], 0, a->rest[0], &cfg_a, &ra);
    if (ra != NULL)
        rc = first_failure(rc,
                           resolve(a, a->rest[1], 0, a->rest[1], &cfg_b, &rb));
    if (ra != NULL && rb != NULL) {
        struct ei_error err = {0};
        long n = ei_output_diff(stdout, ra, a->rest[0], rb, a->rest[1], o,
                                &err);
        rc = diff_status(a, rc, n, &err);
    }
    ei_resolution_free(ra);
    ei_resolution_free(rb);
    ei_config_free(cfg_a);
    ei_config_free(cfg_b);
    return rc;
}

/* A usage error of diff --against. */
static int against_usage(const struct ei_args *a, const char *text)
{
    struct ei_error err = {0};
    ei_error_set(&err, EI_USAGE, 0, NULL, a->cmd_def->name, "%s", text);
    return usage_error(&err, a->cmd_def);
}

/*
 * The audit key of cfg, and whether it made the record: a record made
 * with another key has hashes that match nothing, which would pass for
 * "every value differs"; it is refused as a wrong key is (77).
 */
static struct ei_audit_key *against_key(const struct ei_config *cfg,
                                        const struct ei_audit_record *rec,
                                        const char *record,
                                        struct ei_error *err)
{
    struct ei_audit_key *k =
        ei_audit_key_read(cfg->audit.key_file, cfg->audit.where,
                          (const char *const *)environ, err);
    if (k == NULL)
        return NULL;
    char id[EI_AUDIT_ID_HEX];
    ei_audit_key_id(k, id);
    if (strcmp(id, rec->key_id) == 0)
        return k;
    ei_audit_key_free(k);
    char where[EI_ERR_LOCATOR_LEN];
    snprintf(where, sizeof(where), "%s:%zu",
             strcmp(record, "-") == 0 ? EI_AUDIT_STDIN_NAME : record,
             rec->line);
    ei_error_set(err, EI_DENIED, 0, NULL, where,
                 "the record was made with the audit key %s, not with this "
                 "one (%s): its hashes cannot be compared",
                 rec->key_id, id);
    return NULL;
}

/*
 * diff --against RECORD [ENV]: the record is read and the key checked
 * before any layer is, so that a wrong file or key costs no request.
 */
static int diff_against(struct ei_args *a, const struct ei_diff_opts *o)
{
    int rc = operands(a, 0, 1);
    if (rc != 0)
        return rc;
    if (a->rest_n == 1 && a->environment != NULL)
        return against_usage(a, "the environment is -e ENV or the operand "
                                "ENV, not both");
    if (a->reveal)
        return against_usage(a, "--reveal: diff --against shows no values "
                                "(the record holds none)");
    const char *env = a->rest_n == 1 ? a->rest[0] : a->environment;
    struct ei_error err = {0};
    struct ei_audit_record *rec = ei_audit_record_read(a->against, &err);
    if (rec == NULL)
        return fail(&err);
    struct ei_audit_key *k = NULL;
    struct ei_resolution *r = NULL;
    struct ei_config *cfg = load_config(a, env, &err);
    if (cfg == NULL || (k = against_key(cfg, rec, a->against, &err)) == NULL) {
        rc = fail(&err);
        goto out;
    }
    /* validation failures are reported, and the comparison still shown */
    if (resolve_loaded(a, cfg, 0, &r, &err) < 0)
        rc = resolve_failed(r, NULL, &err);
    if (r != NULL) {
        struct ei_error oe = {0};
        long n = ei_output_against(stdout, r, cfg->environment, rec, k, o, &oe);
        rc = diff_status(a, rc, n, &oe);
    }
out:
    ei_resolution_free(r);
    ei_audit_key_free(k);
    ei_config_free(cfg);
    ei_audit_record_free(rec);
    return rc;
}

EI_OWN_FRAME static int cmd_diff(struct ei_args *a)
{
    static const int allowed[] = {EI_FMT_TEXT, EI_FMT_JSON, -1};
    struct ei_diff_opts o = {.reveal = a->reveal};
    int rc = a->against != NULL ? 0 : operands(a, 2, 2);
    if (rc == 0)
        rc = parse_format(a, EI_FMT_TEXT, allowed, &o.format);
    if (rc != 0)
        return rc;
    struct ei_error err = {0};
    char **globs = NULL;
    if (ei_parity_globs(a->expect_differ, a->expect_differ_n, &globs, &err) <
        0)
        return err.status == EI_USAGE ? usage_error(&err, a->cmd_def)
                                      : fail(&err);
    o.expect = (const char *const *)globs;
    rc = a->against != NULL ? diff_against(a, &o) : diff_envs(a, &o);
    ei_parity_globs_free(globs);
    return rc;
}

static const char starter[] =
    "# envinject.conf: layers are listed lowest priority first; a later\n"
    "# layer wins, key by key.  See envinject.conf(5).\n"
    "environment = \"dev\";\n"
    "environments = [\"dev\", \"staging\", \"prod\"];\n"
    "\n"
    "layers = (\n"
    "  # defaults shared by every environment (libconfig, JSON or dotenv)\n"
    "  { name = \"defaults\"; provider = \"file\"; path = "
    "\"config/defaults.cfg\"; },\n"
    "  # per-environment overrides\n"
    "  { name = \"per-env\"; provider = \"file\"; path = "
    "\"config/${env}.env\";\n"
    "    optional = true; },\n"
    "  # a config service, e.g.:\n"
    "  # { name = \"service\"; provider = \"etcd\"; endpoints = "
    "[\"http://127.0.0.1:2379\"];\n"
    "  #   prefix = \"/myapp/${env}/\"; },\n"
    "  # secrets sealed to a public key (envinject seal keygen)\n"
    "  { name = \"sealed\"; provider = \"sealed\"; path = "
    "\"config/secrets.${env}.ejson\";\n"
    "    optional = true; },\n"
    "  # the process environment has the last word\n"
    "  { name = \"runtime\"; provider = \"env\"; }\n"
    ");\n"
    "\n"
    "# keys that must be set\n"
    "require = [];\n"
    "\n"
    "# types and defaults, e.g.:\n"
    "# schema = {\n"
    "#   DB_POOL_SIZE = { type = \"int\"; min = 1; max = 100; default = "
    "\"5\"; };\n"
    "#   LOG_LEVEL = { type = \"enum\"; values = [\"DEBUG\", \"INFO\", "
    "\"WARN\", \"ERROR\"]; };\n"
    "# };\n"
    "\n"
    "# variables the program never sees\n"
    "unset = [];\n";

/* What init puts in the defaults file the starter names, when there is
   none yet: the first print after init then works instead of failing on
   a missing file. */
static const char starter_defaults[] =
    "# Defaults shared by every environment (libconfig syntax; JSON or\n"
    "# dotenv work too, named by their extension).  Groups flatten to keys:\n"
    "# app = { port = 8080; }; gives APP_PORT=8080.  See envinject.conf(5).\n";

static int init_write(int fd, const char *text, size_t len, const char *path,
                      struct ei_error *err)
{
    while (len > 0) {
        ssize_t n = write(fd, text, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return ei_error_set(err, EI_OSERR, n < 0 ? errno : ENOSPC, NULL,
                                path, "cannot write"),
                   -1;
        text += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Remove what init_defaults created (either may be ""): a failed init
   leaves the folder as it found it. */
static void init_undo(const char *made, const char *made_dir)
{
    if (made[0] != '\0')
        unlink(made);
    if (made_dir[0] != '\0')
        rmdir(made_dir);
}

/* Create DIR/config/defaults.cfg unless it exists (never overwritten, not
   even by --force).  *made names the file when this call created it, and
   *made_dir the folder when this call created that: a failed init removes
   them again (init_undo). */
static int init_defaults(const char *conf_path, int dir_len, char *made,
                         char *made_dir, size_t made_size, struct ei_error *err)
{
    made[0] = '\0';
    made_dir[0] = '\0';
    char dir[PATH_MAX], file[PATH_MAX];
    if (snprintf(dir, sizeof(dir), "%.*sconfig", dir_len, conf_path) >=
            (int)sizeof(dir) ||
        snprintf(file, sizeof(file), "%s/defaults.cfg", dir) >=
            (int)sizeof(file) ||
        strlen(file) >= made_size)
        return ei_error_set(err, EI_USAGE, 0, NULL, NULL, "path too long"), -1;
    if (mkdir(dir, 0755) == 0)
        snprintf(made_dir, made_size, "%s", dir);
    else if (errno != EEXIST)
        return ei_error_set(err, EI_OSERR, errno, NULL, dir, "cannot create"),
               -1;
    int fd =
        open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        if (errno == EEXIST)
            return 0;
        ei_error_set(err, EI_OSERR, errno, NULL, file, "cannot create");
        init_undo(made, made_dir);
        return -1;
    }
    int rc = init_write(fd, starter_defaults, sizeof(starter_defaults) - 1,
                        file, err);
    if (close(fd) != 0 && rc == 0) {
        ei_error_set(err, EI_OSERR, errno, NULL, file, "cannot write");
        rc = -1;
    }
    if (rc != 0) {
        unlink(file);
        init_undo(made, made_dir);
    } else
        snprintf(made, made_size, "%s", file);
    return rc;
}

/*
 * init writes a temporary file beside the target and moves it into place
 * only once it is complete: a full disk or a size limit never leaves a
 * half-written configuration behind, and --force replaces the old file in
 * one step.  Without --force, link() refuses an existing file atomically.
 * The defaults file the starter names (and its config/ folder) is created
 * first when missing, and removed again when the configuration cannot be
 * written.
 */
static int cmd_init(struct ei_args *a)
{
    int rc = operands(a, 0, 0);
    if (rc != 0)
        return rc;
    const char *path = a->config != NULL ? a->config : "envinject.conf";
    struct ei_error err = {0};
    char tmp[PATH_MAX], made[PATH_MAX], made_dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    int dir_len = slash != NULL ? (int)(slash - path + 1) : 0;
    if (snprintf(tmp, sizeof(tmp), "%.*s.envinject.conf.XXXXXX", dir_len,
                 path) >= (int)sizeof(tmp)) {
        ei_error_set(&err, EI_USAGE, 0, NULL, NULL, "path too long");
        return fail(&err);
    }
    /* an existing configuration is refused before anything is created */
    if (!a->force && access(path, F_OK) == 0) {
        ei_error_set(&err, EI_BADCONFIG, 0, NULL, path,
                     "already exists (use init --force to overwrite)");
        return fail(&err);
    }
    if (init_defaults(path, dir_len, made, made_dir, sizeof(made), &err) != 0)
        return fail(&err);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        ei_error_set(&err, EI_OSERR, errno, NULL, path, "cannot create");
    } else {
        init_write(fd, starter, sizeof(starter) - 1, path, &err);
        if (fchmod(fd, 0644) != 0 && err.status == EI_OK)
            ei_error_set(&err, EI_OSERR, errno, NULL, path, "cannot write");
        if (close(fd) != 0 && err.status == EI_OK)
            ei_error_set(&err, EI_OSERR, errno, NULL, path, "cannot write");
        if (err.status == EI_OK) {
            int r = a->force ? rename(tmp, path) : link(tmp, path);
            if (r != 0) {
                if (errno == EEXIST)
                    ei_error_set(&err, EI_BADCONFIG, 0, NULL, path,
                                 "already exists (use init --force to "
                                 "overwrite)");
                else
                    ei_error_set(&err, EI_OSERR, errno, NULL, path,
                                 "cannot create");
            }
        }
        unlink(tmp); /* after link, or after a failure; gone after rename */
    }
    if (err.status != EI_OK) {
        init_undo(made, made_dir);
        return fail(&err);
    }
    if (made[0] != '\0')
        ei_diag_msg(EI_LOG_INFO, NULL, made, "written");
    ei_diag_msg(EI_LOG_INFO, NULL, path, "written");
    return 0;
}

EI_OWN_FRAME static int cmd_seal(struct ei_args *a)
{
    struct ei_error err = {0};
    if (a->rest_n < 1)
        return operands(a, 1, -1);
    const char *sub = a->rest[0];
    int rc;
    if (strcmp(sub, "keygen") == 0) {
        if ((rc = operands(a, 1, 1)) != 0)
            return rc;
        if (ei_seal_keygen(a->keydir, a->out, a->print_private, stdout, &err) <
            0)
            return fail(&err);
    } else if (strcmp(sub, "encrypt") == 0) {
        if ((rc = operands(a, 2, 2)) != 0)
            return rc;
        if (ei_seal_encrypt(a->rest[1], stdout, &err) < 0)
            return fail(&err);
    } else if (strcmp(sub, "set") == 0) {
        if ((rc = operands(a, 3, 3)) != 0)
            return rc;
        if (ei_seal_set(a->rest[1], a->rest[2], STDIN_FILENO, stdout, &err) < 0)
            return fail(&err);
    } else {
        ei_error_set(&err, EI_USAGE, 0, NULL, "seal",
                     "unknown seal command '%s'", sub);
        return usage_error(&err, a->cmd_def);
    }
    return 0;
}

static void list_provider(const struct ei_provider *p, const char *file,
                          const struct ei_error *refused, void *ctx)
{
    (void)ctx;
    if (p == NULL) {
        /* the loader's own texts may already say why it refused */
        const char *why = refused->text;
        if (strncmp(why, "refused: ", 9) == 0)
            why += 9;
        printf("%-12s refused: %s (%s)\n", "-", why, refused->locator);
        return;
    }
    printf("%-12s %-8s %-7s %s\n", p->name, file == NULL ? "built-in" : file,
           (p->flags & EI_PROV_SECRET) ? "secret" : "-", p->summary);
}

EI_OWN_FRAME static int cmd_providers(struct ei_args *a)
{
    int rc = operands(a, 0, 0);
    if (rc != 0)
        return rc;
    struct ei_error err = {0};
    struct ei_config *cfg = NULL;
    /* a configuration file may add to the provider path */
    const char *env_config = getenv("ENVINJECT_CONFIG");
    if (a->config != NULL || (env_config != NULL && env_config[0] != '\0') ||
        access("envinject.conf", F_OK) == 0) {
        cfg = load_config(a, a->environment, &err);
        if (cfg == NULL)
            return fail(&err);
    }
    ei_registry_each(cfg != NULL ? (const char *const *)cfg->provider_path
                                 : NULL,
                     list_provider, NULL);
    if (!ei_registry_can_load())
        printf("(this build cannot load providers from shared objects)\n");
    ei_config_free(cfg);
    return 0;
}

/*
 * completion SHELL: the script; completion --environments / --keys: the
 * words the scripts ask for, from the configuration file alone (no layer
 * is read, so nothing is resolved and no service is asked).
 */
EI_OWN_FRAME static int cmd_completion(struct ei_args *a)
{
    bool list = a->list_environments || a->list_keys;
    int rc = operands(a, list ? 0 : 1, list ? 0 : 1);
    if (rc != 0)
        return rc;
    struct ei_error err = {0};
    if (a->list_environments && a->list_keys) {
        ei_error_set(&err, EI_USAGE, 0, NULL, a->cmd_def->name,
                     "--environments and --keys cannot be combined");
        return usage_error(&err, a->cmd_def);
    }
    if (!list) {
        if (ei_complete_script(stdout, a->rest[0]) == 0)
            return 0;
        ei_error_set(&err, EI_USAGE, 0, NULL, a->cmd_def->name,
                     "unknown shell '%s' (expected bash, zsh or fish)",
                     a->rest[0]);
        return usage_error(&err, a->cmd_def);
    }
    struct ei_config *cfg = load_config(a, a->environment, &err);
    if (cfg == NULL)
        return fail(&err);
    if (a->list_environments)
        ei_complete_environments(stdout, cfg);
    else if (ei_complete_keys(stdout, cfg) < 0)
        rc = fail(&err);
    ei_config_free(cfg);
    return rc;
}

/* schema: the configuration's rules for other tools; nothing resolved. */
EI_OWN_FRAME static int cmd_schema(struct ei_args *a)
{
    int rc = operands(a, 0, 0);
    if (rc != 0)
        return rc;
    struct ei_error err = {0};
    enum ei_schema_format fmt = EI_SCHEMA_JSON;
    if (a->format != NULL && strcmp(a->format, "env-example") == 0) {
        fmt = EI_SCHEMA_ENV_EXAMPLE;
    } else if (a->format != NULL && strcmp(a->format, "json-schema") != 0) {
        ei_error_set(&err, EI_USAGE, 0, NULL, a->cmd_def->name,
                     "unknown format '%s' (expected json-schema or "
                     "env-example)",
                     a->format);
        return usage_error(&err, a->cmd_def);
    }
    struct ei_config *cfg = load_config(a, a->environment, &err);
    if (cfg == NULL)
        return fail(&err);
    if (ei_schemaout_write(stdout, cfg, fmt, &err) < 0)
        rc = fail(&err);
    ei_config_free(cfg);
    return rc;
}

/* libcurl is loaded only with -v: it costs most of the time. */
EI_OWN_FRAME static int version(bool load_curl)
{
    char curl[160];
    ei_http_version(curl, sizeof(curl), load_curl);
    printf("envinject %s\n", PACKAGE_VERSION);
    printf("providers:");
    for (const struct ei_provider *const *p = ei_registry_builtin(); *p != NULL;
         p++)
        printf(" %s", (*p)->name);
    if (ei_registry_can_load())
        printf("\nloadable providers: yes (%s)\n", ei_registry_default_path());
    else
        printf("\nloadable providers: no (built with --disable-dlopen)\n");
    printf("%s, jansson %s, libconfig %d.%d.%d, libsodium %s\n", curl,
           jansson_version_str(), LIBCONFIG_VER_MAJOR, LIBCONFIG_VER_MINOR,
           LIBCONFIG_VER_REVISION, sodium_version_string());
    printf("provider ABI %d\n", EI_PROVIDER_ABI);
    return 0;
}

int main(int argc, char **argv)
{
    struct ei_error err = {0};
    /* values reach stdout only in whole, wiped buffers of output.c: no
       stdio copy of a revealed secret stays in a buffer of its own */
    setvbuf(stdout, NULL, _IONBF, 0);
    struct ei_args a;
    if (ei_cli_parse(argc, argv, &a, &err) < 0) {
        int rc = usage_error(&err, a.cmd_def);
        ei_cli_args_free(&a);
        return rc;
    }
    /* before any descriptor of envinject's own is open (parsing opens
       none; libsodium may open /dev/urandom later), and only for a
       program that is supervised: reading /proc/self/fd costs every
       other start four system calls */
    if (a.cmd == EI_CMD_RUN && (a.watch || a.init))
        ei_sup_note_inherited();
    /* not dumpable before any value is read (libsodium: on first use) */
    (void)ei_secmem_init();
    ei_diag_set_level(a.verbosity);
    int rc = 0;
    if (a.version) {
        rc = version(a.verbosity > 0);
    } else if (a.help) {
        ei_cli_help(stdout, a.cmd_def);
    } else {
        switch (a.cmd) {
        case EI_CMD_RUN:
            rc = cmd_run(&a);
            break;
        case EI_CMD_PRINT:
            rc = cmd_print(&a);
            break;
        case EI_CMD_GET:
            rc = cmd_get(&a);
            break;
        case EI_CMD_EXPLAIN:
            rc = cmd_explain(&a);
            break;
        case EI_CMD_CHECK:
            rc = cmd_check(&a);
            break;
        case EI_CMD_DIFF:
            rc = cmd_diff(&a);
            break;
        case EI_CMD_INIT:
            rc = cmd_init(&a);
            break;
        case EI_CMD_SEAL:
            rc = cmd_seal(&a);
            break;
        case EI_CMD_PROVIDERS:
            rc = cmd_providers(&a);
            break;
        case EI_CMD_COMPLETION:
            rc = cmd_completion(&a);
            break;
        case EI_CMD_SCHEMA:
            rc = cmd_schema(&a);
            break;
        case EI_CMD_NONE:
            break;
        }
    }
    ei_cli_args_free(&a);
    ei_registry_unload();
    /* stdout is unbuffered: a failed write shows in ferror, not fflush */
    int flush_errno = fflush(stdout) != 0 ? errno : 0;
    if ((flush_errno != 0 || ferror(stdout)) && rc == 0) {
        ei_error_set(&err, EI_OSERR, flush_errno, NULL, NULL,
                     "cannot write the output");
        rc = fail(&err);
    }
    return rc;
}
