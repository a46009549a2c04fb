/* SPDX-License-Identifier: MIT */
/* The exec provider: what a program prints as configuration (dotenv or
   JSON), or a summon provider run once per key (envinject-providers(7)). */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include <envinject/provider.h>

#include "common/dotenv.h"
#include "common/jsonflat.h"
#include "common/parse_error.h"

/* The most a program may print on stdout: configuration, not a dump. */
#define EXEC_OUTPUT_MAX ((size_t)1024 * 1024)
/* The first size of the stdout buffer, doubled as needed. */
#define EXEC_OUTPUT_FIRST 4096
/* Bytes of stderr kept to find its first line; the rest is counted. */
#define EXEC_ERR_KEEP 1024
/* Bytes of that line shown in a message. */
#define EXEC_ERR_SHOWN 160
/* Bytes of a program name or a summon path shown in a locator. */
#define EXEC_NAME_SHOWN 120
/* Summon runs at once: a secret store's CLI takes a round trip or more
   per key, and a handful in flight keeps a dozen keys inside 5 s without
   flooding the store. */
#define EXEC_PARALLEL 4
/* More keys or arguments than this is a mistake, not configuration. */
#define EXEC_KEYS_MAX 1000
#define EXEC_ARGS_MAX 1000
/* A value shorter than this is not looked for in stderr: "1" or "on"
   would withhold every message. */
#define EXEC_WITHHOLD_MIN 4
/* How often an exit is looked for while a program runs: its pipes wake
   the loop as it prints and when it ends, but a process it left behind
   may hold them open after it exited.  (A pidfd would say at once, but
   valgrind does not know pidfd_open.) */
#define EXEC_REAP_POLL_MS 10
/* The status given a program whose end was reaped by someone else. */
#define EXEC_STATUS_LOST 255
/* Where summon looks for a provider named without a '/'. */
#define EXEC_SUMMON_DIR "/usr/local/lib/summon"
/* PATH of the program when envinject has none (confstr's _CS_PATH and
   /usr/local/bin, where tools are installed by hand). */
#define EXEC_DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

/* What the program gets of envinject's environment unless env says
   otherwise: enough to find tools, its home, and speak the user's
   language; never a variable that holds a credential. */
static const char *const exec_env_default[] = {
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_*", "TZ", "TMPDIR", NULL};

enum exec_format { EXEC_DOTENV, EXEC_JSON, EXEC_SUMMON };

static const struct {
    const char *name;
    enum exec_format format;
} exec_formats[] = {
    {"dotenv", EXEC_DOTENV},
    {"json", EXEC_JSON},
    {"summon", EXEC_SUMMON},
};

struct exec_key {
    char *name; /* the variable */
    char *path; /* the summon path: the program's last argument */
};

struct exec_state {
    const struct ei_host *host;
    enum exec_format format;
    const char *const *command; /* the core's, NULL-terminated */
    const char *prog; /* command[0], made absolute when relative */
    size_t command_n;
    char **envp; /* the program's environment, NULL-terminated */
    size_t envp_n;
    const char *path_var; /* PATH inside envp, for the look-up */
    struct exec_key *keys;
    size_t keys_n;
    char shown[EXEC_NAME_SHOWN + EI_TEXT_EXTRA]; /* command[0] */
};

/* One run of the program. */
struct exec_run {
    pid_t pid;      /* 0 once reaped */
    int out;        /* read ends, -1 once closed */
    int err;
    size_t key;     /* summon: the key's index */
    char *buf;      /* stdout, secret memory of cap bytes */
    size_t len;
    size_t cap;
    bool too_big;
    int wstatus;    /* from waitpid */
    char errbuf[EXEC_ERR_KEEP]; /* the start of stderr */
    size_t err_len;
    size_t err_total;
};

/* Values read in this fetch, for withholding a stderr line. */
struct exec_known {
    const struct ei_host *host;
    char **v;
    size_t *len;
    size_t n;
    size_t cap;
};

/* ---- configure ---- */

static void exec_state_free(struct exec_state *st)
{
    if (st == NULL)
        return;
    for (size_t i = 0; st->envp != NULL && i < st->envp_n; i++) {
        sodium_memzero(st->envp[i], strlen(st->envp[i]));
        free(st->envp[i]);
    }
    free(st->envp);
    for (size_t i = 0; i < st->keys_n; i++) {
        free(st->keys[i].name);
        free(st->keys[i].path);
    }
    free(st->keys);
    free(st);
}

static bool exec_name_char(char c, bool first)
{
    return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (!first && c >= '0' && c <= '9');
}

static bool exec_name_valid(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!exec_name_char(s[i], i == 0))
            return false;
    return true;
}

/* A glob of names: name characters and fnmatch's * ? [ ] !. */
static bool exec_glob_valid(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++)
        if (!exec_name_char(*s, false) && strchr("*?[]!-", *s) == NULL)
            return false;
    return true;
}

static bool exec_is_glob(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

/* envinject's own inputs, never matched by a glob (named exactly, they
   are the user's choice). */
static bool exec_own_variable(const char *name, size_t len)
{
    static const char *const own[] = {"ENVINJECT_", "DOTENV_PRIVATE_KEY"};
    for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
        if (len >= strlen(own[i]) && memcmp(name, own[i], strlen(own[i])) == 0)
            return true;
    return false;
}

/* Set name=value in the program's environment (replacing). */
static enum ei_status exec_env_set(struct exec_state *st, const char *name,
                                   size_t name_len, const char *value,
                                   struct ei_error *err)
{
    const struct ei_host *h = st->host;
    size_t vlen = strlen(value);
    char *item = malloc(name_len + vlen + 2);
    if (item == NULL)
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    memcpy(item, name, name_len);
    item[name_len] = '=';
    memcpy(item + name_len + 1, value, vlen + 1);
    for (size_t i = 0; i < st->envp_n; i++) {
        if (strncmp(st->envp[i], name, name_len) == 0 &&
            st->envp[i][name_len] == '=') {
            sodium_memzero(st->envp[i], strlen(st->envp[i]));
            free(st->envp[i]);
            st->envp[i] = item;
            return EI_OK;
        }
    }
    char **grown = realloc(st->envp, (st->envp_n + 2) * sizeof(*grown));
    if (grown == NULL) {
        sodium_memzero(item, strlen(item));
        free(item);
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    }
    st->envp = grown;
    st->envp[st->envp_n++] = item;
    st->envp[st->envp_n] = NULL;
    return EI_OK;
}

/* One entry of the env list (or of the defaults): NAME, a glob of names,
   or NAME=value. */
static enum ei_status exec_env_item(struct exec_state *st, const char *item,
                                    struct ei_error *err)
{
    const struct ei_host *h = st->host;
    const char *eq = strchr(item, '=');
    if (eq != NULL) {
        if (!exec_name_valid(item, (size_t)(eq - item))) {
            char shown[64];
            h->safe_text(h, shown, sizeof(shown), item, (size_t)(eq - item),
                         EI_TEXT_QUOTE);
            return h->error(h, err, EI_BADCONFIG, 0, "env",
                            "env: '%s' is not a variable name", shown);
        }
        return exec_env_set(st, item, (size_t)(eq - item), eq + 1, err);
    }
    if (!exec_glob_valid(item)) {
        char shown[64];
        h->safe_text(h, shown, sizeof(shown), item, strlen(item),
                     EI_TEXT_QUOTE);
        return h->error(h, err, EI_BADCONFIG, 0, "env",
                        "env: '%s' is neither a variable name, a glob of "
                        "names nor NAME=value",
                        shown);
    }
    bool glob = exec_is_glob(item);
    for (const char *const *e = h->env_list(h); *e != NULL; e++) {
        const char *sep = strchr(*e, '=');
        if (sep == NULL || sep == *e)
            continue;
        size_t nlen = (size_t)(sep - *e);
        char name[256];
        if (nlen >= sizeof(name))
            continue;
        memcpy(name, *e, nlen);
        name[nlen] = '\0';
        bool hit = glob ? fnmatch(item, name, 0) == 0 &&
                              !exec_own_variable(name, nlen)
                        : strcmp(item, name) == 0;
        if (!hit)
            continue;
        enum ei_status s = exec_env_set(st, name, nlen, sep + 1, err);
        if (s != EI_OK)
            return s;
    }
    return EI_OK;
}

static enum ei_status exec_env_build(struct exec_state *st,
                                     struct ei_error *err)
{
    const struct ei_host *h = st->host;
    st->envp = calloc(1, sizeof(*st->envp));
    if (st->envp == NULL)
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    for (size_t i = 0; exec_env_default[i] != NULL; i++) {
        enum ei_status s = exec_env_item(st, exec_env_default[i], err);
        if (s != EI_OK)
            return s;
    }
    const char *const *list = NULL;
    size_t n = 0;
    if (h->opt_list(h, "env", &list, &n, err) < 0)
        return ei_error_status(err, EI_BADCONFIG);
    for (size_t i = 0; i < n; i++) {
        enum ei_status s = exec_env_item(st, list[i], err);
        if (s != EI_OK)
            return s;
    }
    for (size_t i = 0; i < st->envp_n; i++)
        if (strncmp(st->envp[i], "PATH=", 5) == 0)
            st->path_var = st->envp[i] + 5;
    if (st->path_var == NULL) {
        enum ei_status s = exec_env_set(st, "PATH", 4, EXEC_DEFAULT_PATH, err);
        if (s != EI_OK)
            return s;
        st->path_var = st->envp[st->envp_n - 1] + 5;
    }
    return EI_OK;
}

static enum ei_status exec_command(struct exec_state *st, struct ei_error *err)
{
    const struct ei_host *h = st->host;
    if (h->opt_list(h, "command", &st->command, &st->command_n, err) < 0)
        return ei_error_status(err, EI_BADCONFIG);
    if (st->command == NULL || st->command_n == 0)
        return h->error(h, err, EI_BADCONFIG, 0, "command",
                        "command is required: the program and its "
                        "arguments, as a list");
    if (st->command_n > EXEC_ARGS_MAX)
        return h->error(h, err, EI_BADCONFIG, 0, "command",
                        "command has more than %d arguments", EXEC_ARGS_MAX);
    const char *prog = st->command[0];
    h->safe_text(h, st->shown, sizeof(st->shown), prog, strlen(prog), 0);
    if (prog[0] == '\0')
        return h->error(h, err, EI_BADCONFIG, 0, "command",
                        "command: the program name is empty");
    st->prog = prog;
    if (prog[0] == '/' || strchr(prog, '/') == NULL)
        return EI_OK;
    /* a relative path is relative to the configuration's folder, as
       every path of a layer is; a host too old to say where that is
       cannot run it from the right place */
    if (!EI_HOST_HAS(h, abs_path))
        return h->error(h, err, EI_BADCONFIG, 0, "command",
                        "command: '%s' is a relative path: give an absolute "
                        "path, or a name found in PATH",
                        st->shown);
    st->prog = h->abs_path(h, prog, err);
    return st->prog != NULL ? EI_OK : ei_error_status(err, EI_NOMEM);
}

static enum ei_status exec_keys(struct exec_state *st, struct ei_error *err)
{
    const struct ei_host *h = st->host;
    const char *text = NULL;
    int r = h->opt_json(h, "keys", &text, err);
    if (r < 0)
        return ei_error_status(err, EI_BADCONFIG);
    if (st->format != EXEC_SUMMON) {
        if (r > 0)
            return h->error(h, err, EI_BADCONFIG, 0, "keys",
                            "keys applies to format = \"summon\" only");
        return EI_OK;
    }
    if (r == 0)
        return h->error(h, err, EI_BADCONFIG, 0, "keys",
                        "format \"summon\" needs keys: a group of VARIABLE "
                        "= \"path\"");
    json_error_t jerr;
    json_t *obj = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    enum ei_status s = EI_OK;
    if (obj == NULL || !json_is_object(obj) || json_object_size(obj) == 0) {
        s = h->error(h, err, EI_BADCONFIG, 0, "keys",
                     "keys must be a group of VARIABLE = \"path\", not "
                     "empty");
        goto out;
    }
    if (json_object_size(obj) > EXEC_KEYS_MAX) {
        s = h->error(h, err, EI_BADCONFIG, 0, "keys",
                     "keys has more than %d members", EXEC_KEYS_MAX);
        goto out;
    }
    st->keys = calloc(json_object_size(obj), sizeof(*st->keys));
    if (st->keys == NULL) {
        s = h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
        goto out;
    }
    const char *name;
    json_t *v;
    json_object_foreach(obj, name, v)
    {
        char shown[80];
        h->safe_text(h, shown, sizeof(shown), name, strlen(name),
                     EI_TEXT_QUOTE);
        if (!exec_name_valid(name, strlen(name))) {
            s = h->error(h, err, EI_BADCONFIG, 0, "keys",
                         "keys: '%s' is not a variable name", shown);
            goto out;
        }
        if (!json_is_string(v) || json_string_length(v) == 0 ||
            strlen(json_string_value(v)) != json_string_length(v)) {
            s = h->error(h, err, EI_BADCONFIG, 0, "keys",
                         "keys.%s must be a path: a string, not empty",
                         shown);
            goto out;
        }
        struct exec_key *k = &st->keys[st->keys_n];
        k->name = strdup(name);
        k->path = strdup(json_string_value(v));
        st->keys_n++;
        if (k->name == NULL || k->path == NULL) {
            s = h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
            goto out;
        }
    }
out:
    json_decref(obj);
    return s;
}

static enum ei_status exec_configure(const struct ei_host *host, void **statep,
                                     struct ei_error *err)
{
    *statep = NULL;
    enum ei_status s = EI_HOST_REQUIRE(host, safe_text, err);
    if (s == EI_OK)
        s = EI_HOST_REQUIRE(host, opt_json, err);
    if (s != EI_OK)
        return s;
    struct exec_state *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return host->error(host, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    st->host = host;
    const char *fmt = NULL;
    if (host->opt_string(host, "format", &fmt, err) < 0) {
        s = ei_error_status(err, EI_BADCONFIG);
        goto fail;
    }
    if (fmt != NULL) {
        size_t i, nf = sizeof(exec_formats) / sizeof(exec_formats[0]);
        for (i = 0; i < nf; i++)
            if (strcmp(fmt, exec_formats[i].name) == 0)
                break;
        if (i == nf) {
            char shown[64];
            host->safe_text(host, shown, sizeof(shown), fmt, strlen(fmt),
                            EI_TEXT_QUOTE);
            s = host->error(host, err, EI_BADCONFIG, 0, "format",
                            "unknown format '%s' (expected dotenv, json or "
                            "summon)",
                            shown);
            goto fail;
        }
        st->format = exec_formats[i].format;
    }
    s = exec_command(st, err);
    if (s == EI_OK)
        s = exec_keys(st, err);
    if (s == EI_OK)
        s = exec_env_build(st, err);
    if (s != EI_OK)
        goto fail;
    *statep = st;
    return EI_OK;
fail:
    exec_state_free(st);
    return s;
}

/* ---- finding the program ---- */

/* dir/name into a new string; NULL when out of memory. */
static char *exec_join(const char *dir, size_t dir_len, const char *name)
{
    size_t n = strlen(name);
    char *p = malloc(dir_len + n + 2);
    if (p == NULL)
        return NULL;
    memcpy(p, dir, dir_len);
    p[dir_len] = '/';
    memcpy(p + dir_len + 1, name, n + 1);
    return p;
}

/* 0: path is an executable file; else the errno that says why not. */
static int exec_usable(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return errno;
    if (!S_ISREG(sb.st_mode))
        return EACCES;
    return access(path, X_OK) == 0 ? 0 : errno;
}

/*
 * The program to run: command[0] as it is when it is a path, else the first
 * executable file of that name in the PATH the program gets (an empty
 * element is the working directory, as for execvp), and for a summon
 * provider then in summon's own folder.
 */
static enum ei_status exec_find(struct exec_state *st, char **out,
                                struct ei_error *err)
{
    const struct ei_host *h = st->host;
    const char *prog = st->prog;
    *out = NULL;
    if (strchr(prog, '/') != NULL) {
        int e = exec_usable(prog);
        /* the text is the reason: no strerror after it to say it twice */
        if (e == ENOENT)
            return h->error(h, err, EI_UNAVAILABLE, 0, st->shown,
                            "no such program");
        if (e != 0)
            return h->error(h, err, EI_UNAVAILABLE, e, st->shown,
                            "cannot run the program");
        *out = strdup(prog);
        return *out != NULL ? EI_OK
                            : h->error(h, err, EI_NOMEM, ENOMEM, NULL,
                                       "out of memory");
    }
    int seen = ENOENT;
    const char *p = st->path_var;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            if (st->format != EXEC_SUMMON)
                break;
            p = EXEC_SUMMON_DIR;
        }
        for (;;) {
            size_t n = strcspn(p, ":");
            char *cand = n == 0 ? exec_join(".", 1, prog) : exec_join(p, n, prog);
            if (cand == NULL)
                return h->error(h, err, EI_NOMEM, ENOMEM, NULL,
                                "out of memory");
            int e = exec_usable(cand);
            if (e == 0) {
                *out = cand;
                return EI_OK;
            }
            free(cand);
            if (e != ENOENT && e != ENOTDIR)
                seen = e;
            if (p[n] == '\0')
                break;
            p += n + 1;
        }
    }
    char path_shown[EXEC_NAME_SHOWN + EI_TEXT_EXTRA];
    h->safe_text(h, path_shown, sizeof(path_shown), st->path_var,
                 strlen(st->path_var), 0);
    if (seen != ENOENT)
        return h->error(h, err, EI_UNAVAILABLE, seen, st->shown,
                        "found in PATH but cannot be run");
    return h->error(h, err, EI_UNAVAILABLE, 0, st->shown,
                    "no such program in PATH (%s%s)", path_shown,
                    st->format == EXEC_SUMMON ? " nor " EXEC_SUMMON_DIR : "");
}

/* ---- running it ---- */

static void exec_run_init(struct exec_run *r)
{
    memset(r, 0, sizeof(*r));
    r->out = r->err = -1;
}

static void exec_close(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Whether the run's process is still to be reaped. */
static bool exec_alive(const struct exec_run *r)
{
    return r->pid > 0;
}

static void exec_reap(struct exec_run *r, int flags)
{
    if (r->pid <= 0)
        return;
    int ws = 0;
    pid_t p;
    do
        p = waitpid(r->pid, &ws, flags);
    while (p < 0 && errno == EINTR);
    if (p == r->pid || (p < 0 && errno == ECHILD)) {
        /* ECHILD: the kernel reaped it (SIGCHLD ignored after all), and
           how it ended is lost: not a success */
        r->wstatus = p == r->pid ? ws : W_EXITCODE(EXEC_STATUS_LOST, 0);
        r->pid = 0;
    }
}

/* Kill the run's process group (the program and what it started) and
   reap the program.  The group id is safe to use until then: the
   program, a zombie at worst, holds it. */
static void exec_kill(struct exec_run *r)
{
    if (r->pid <= 0)
        return;
    (void)kill(-r->pid, SIGKILL);
    exec_reap(r, 0);
}

static void exec_run_free(const struct ei_host *h, struct exec_run *r)
{
    exec_kill(r);
    exec_close(&r->out);
    exec_close(&r->err);
    if (r->buf != NULL)
        h->secret_free(h, r->buf, r->cap);
    r->buf = NULL;
    r->len = r->cap = 0;
    sodium_memzero(r->errbuf, sizeof(r->errbuf));
    r->err_len = 0;
}

/*
 * Start the program with argv: stdin from /dev/null, stdout and stderr
 * to pipes, no other descriptor, default signal handling and an empty
 * mask (envinject blocks signals under run --watch), in a process group
 * of its own so that the deadline kills what it started as well.
 */
static enum ei_status exec_spawn(struct exec_state *st, const char *path,
                                 char *const *argv, struct exec_run *r,
                                 struct ei_error *err)
{
    const struct ei_host *h = st->host;
    int out[2] = {-1, -1}, errp[2] = {-1, -1};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    bool fa_ok = false, at_ok = false;
    enum ei_status s = EI_OK;
    int e = 0;
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
        e = errno;
        goto oserr;
    }
    if ((e = posix_spawn_file_actions_init(&fa)) != 0)
        goto oserr;
    fa_ok = true;
    if ((e = posix_spawnattr_init(&at)) != 0)
        goto oserr;
    at_ok = true;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    if ((e = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY,
                                              0)) != 0 ||
        (e = posix_spawn_file_actions_adddup2(&fa, out[1], 1)) != 0 ||
        (e = posix_spawn_file_actions_adddup2(&fa, errp[1], 2)) != 0 ||
#if defined(__GLIBC__) &&                                                      \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
        /* descriptors the caller gave envinject (without O_CLOEXEC) are
           the application's, not the helper's */
        (e = posix_spawn_file_actions_addclosefrom_np(&fa, 3)) != 0 ||
#endif
        (e = posix_spawnattr_setpgroup(&at, 0)) != 0 ||
        (e = posix_spawnattr_setsigmask(&at, &none)) != 0 ||
        (e = posix_spawnattr_setsigdefault(&at, &all)) != 0 ||
        (e = posix_spawnattr_setflags(
             &at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                      POSIX_SPAWN_SETSIGDEF)) != 0)
        goto oserr;
    pid_t pid;
    e = posix_spawn(&pid, path, &fa, &at, argv, st->envp);
    if (e != 0) {
        /* the program's fault (or the file's): unavailable; the
           system's (no memory, no process left): an OS error */
        bool prog = e == ENOENT || e == EACCES || e == ENOEXEC ||
                    e == ENOTDIR || e == ELOOP || e == ETXTBSY || e == EPERM;
        s = h->error(h, err, prog ? EI_UNAVAILABLE : EI_OSERR, e, st->shown,
                     "cannot run the program");
        goto out;
    }
    r->pid = pid;
    r->out = out[0];
    r->err = errp[0];
    out[0] = errp[0] = -1;
    (void)fcntl(r->out, F_SETFL, O_NONBLOCK);
    (void)fcntl(r->err, F_SETFL, O_NONBLOCK);
    goto out;
oserr:
    s = h->error(h, err, EI_OSERR, e, st->shown,
                 "cannot set up the program's pipes");
out:
    if (fa_ok)
        posix_spawn_file_actions_destroy(&fa);
    if (at_ok)
        posix_spawnattr_destroy(&at);
    for (int i = 0; i < 2; i++) {
        exec_close(&out[i]);
        exec_close(&errp[i]);
    }
    return s;
}

/* Read what is there on the run's stdout; false when the output grew
   past the limit (the run is then killed). */
static enum ei_status exec_read_out(const struct ei_host *h, struct exec_run *r,
                                    struct ei_error *err)
{
    for (;;) {
        if (r->len == r->cap) {
            size_t cap = r->cap != 0 ? r->cap * 2 : EXEC_OUTPUT_FIRST;
            if (cap > EXEC_OUTPUT_MAX + 1)
                cap = EXEC_OUTPUT_MAX + 1;
            if (cap == r->cap) {
                r->too_big = true;
                exec_close(&r->out);
                exec_kill(r);
                return EI_OK;
            }
            char *grown = h->secret_alloc(h, cap);
            if (grown == NULL)
                return h->error(h, err, EI_NOMEM, ENOMEM, NULL,
                                "out of memory");
            if (r->buf != NULL) {
                memcpy(grown, r->buf, r->len);
                h->secret_free(h, r->buf, r->cap);
            }
            r->buf = grown;
            r->cap = cap;
        }
        ssize_t n = read(r->out, r->buf + r->len, r->cap - r->len);
        if (n > 0) {
            r->len += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            exec_close(&r->out);
        return EI_OK;
    }
}

static void exec_read_err(struct exec_run *r)
{
    for (;;) {
        char scratch[512];
        char *dst = r->err_len < sizeof(r->errbuf) ? r->errbuf + r->err_len
                                                   : scratch;
        size_t room = r->err_len < sizeof(r->errbuf)
                          ? sizeof(r->errbuf) - r->err_len
                          : sizeof(scratch);
        ssize_t n = read(r->err, dst, room);
        if (n > 0) {
            if (dst != scratch)
                r->err_len += (size_t)n;
            r->err_total += (size_t)n;
            sodium_memzero(scratch, sizeof(scratch));
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            exec_close(&r->err);
        return;
    }
}

/* ---- what a run gave ---- */

/* Length of the white space (Unicode White_Space, UTF-8) at s, or 0. */
static size_t exec_space_at(const unsigned char *s, size_t n)
{
    if (n >= 1 && (s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r')))
        return 1;
    if (n >= 2 && s[0] == 0xc2 && (s[1] == 0x85 || s[1] == 0xa0))
        return 2;
    if (n < 3)
        return 0;
    if (s[0] == 0xe1 && s[1] == 0x9a && s[2] == 0x80)
        return 3;
    if (s[0] == 0xe2 && s[1] == 0x80 &&
        (s[2] <= 0x8a || s[2] == 0xa8 || s[2] == 0xa9 || s[2] == 0xaf))
        return s[2] >= 0x80 ? 3 : 0;
    if (s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0x9f)
        return 3;
    if (s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80)
        return 3;
    return 0;
}

/*
 * The value of a summon run: stdout with white space dropped at both
 * ends, as summon does (Go's strings.TrimSpace), so that the final
 * newline of `echo` is not part of it.
 */
static void exec_trim(const char *buf, size_t len, size_t *start,
                      size_t *out_len)
{
    const unsigned char *s = (const unsigned char *)buf;
    size_t a = 0, b = len;
    for (size_t k; a < b && (k = exec_space_at(s + a, b - a)) > 0;)
        a += k;
    while (a < b) {
        size_t k = 0;
        for (size_t back = 1; back <= 3 && back <= b - a; back++)
            if (exec_space_at(s + b - back, back) == back) {
                k = back;
                break;
            }
        if (k == 0)
            break;
        b -= k;
    }
    *start = a;
    *out_len = b - a;
}

static void exec_known_free(struct exec_known *k)
{
    for (size_t i = 0; i < k->n; i++)
        k->host->secret_free(k->host, k->v[i], k->len[i] + 1);
    free(k->v);
    free(k->len);
    k->v = NULL;
    k->len = NULL;
    k->n = k->cap = 0;
}

/* Keep a copy of a value read (secret memory); -1 out of memory. */
static int exec_known_add(struct exec_known *k, const char *v, size_t len)
{
    if (len < EXEC_WITHHOLD_MIN)
        return 0;
    if (k->n == k->cap) {
        size_t cap = k->cap != 0 ? k->cap * 2 : 16;
        char **gv = realloc(k->v, cap * sizeof(*gv));
        if (gv == NULL)
            return -1;
        k->v = gv;
        size_t *gl = realloc(k->len, cap * sizeof(*gl));
        if (gl == NULL)
            return -1;
        k->len = gl;
        k->cap = cap;
    }
    char *copy = k->host->secret_alloc(k->host, len + 1);
    if (copy == NULL)
        return -1;
    memcpy(copy, v, len);
    copy[len] = '\0';
    k->v[k->n] = copy;
    k->len[k->n++] = len;
    return 0;
}

static int exec_known_emit(void *ctx, const char *const *name, size_t name_n,
                           const char *value, size_t value_len, int line,
                           unsigned flags, struct ei_error *err)
{
    (void)name;
    (void)name_n;
    (void)line;
    (void)flags;
    (void)err;
    exec_known_add(ctx, value, value_len);
    return 0;
}

/* What a failed run printed on stdout, as the values it would have
   given, and as it is. */
static void exec_known_output(struct exec_state *st, struct exec_known *k,
                              const struct exec_run *r)
{
    if (r->len == 0)
        return;
    struct ei_error scratch = {0};
    size_t a, n;
    exec_trim(r->buf, r->len, &a, &n);
    exec_known_add(k, r->buf + a, n);
    if (st->format == EXEC_DOTENV)
        ei_dotenv_parse(r->buf, r->len, "", exec_known_emit, k, &scratch);
    else if (st->format == EXEC_JSON)
        ei_jsonflat_parse(r->buf, r->len, "", exec_known_emit, k, &scratch);
}

/*
 * The first line of the run's stderr, fit for a message, into out:
 * "" when there is none, and a note instead of the line when it holds a
 * value read in this fetch (the program printed its secret on stderr).
 */
static void exec_err_line(struct exec_state *st, const struct exec_run *r,
                          const struct exec_known *k, char *out,
                          size_t out_len)
{
    const struct ei_host *h = st->host;
    size_t a = 0, n = r->err_len;
    /* the first line that says something */
    while (a < n) {
        size_t e = a;
        while (e < n && r->errbuf[e] != '\n')
            e++;
        size_t s, l;
        exec_trim(r->errbuf + a, e - a, &s, &l);
        if (l > 0) {
            a += s;
            n = l;
            break;
        }
        a = e + 1;
    }
    if (a >= r->err_len) {
        out[0] = '\0';
        return;
    }
    for (size_t i = 0; i < k->n; i++)
        if (memmem(r->errbuf + a, n, k->v[i], k->len[i]) != NULL) {
            snprintf(out, out_len,
                     ": its error output is not shown (it holds a value "
                     "the program printed)");
            return;
        }
    char line[EXEC_ERR_SHOWN + EI_TEXT_EXTRA];
    h->safe_text(h, line, sizeof(line), r->errbuf + a, n, 0);
    snprintf(out, out_len, ": %s", line);
}

/* The run's locator: the program, and the summon path. */
static void exec_locator(struct exec_state *st, const struct exec_run *r,
                         char *out, size_t out_len)
{
    const struct ei_host *h = st->host;
    if (st->format != EXEC_SUMMON) {
        snprintf(out, out_len, "%s", st->shown);
        return;
    }
    char path[EXEC_NAME_SHOWN + EI_TEXT_EXTRA];
    const char *p = st->keys[r->key].path;
    h->safe_text(h, path, sizeof(path), p, strlen(p), 0);
    snprintf(out, out_len, "%s %s", st->shown, path);
}

/* How a failed run came to its end. */
enum exec_end { EXEC_ENDED, EXEC_TIMEOUT, EXEC_STOPPED };

/*
 * Whether the program is stopped (not reaped): a program of a background
 * process group that reads the terminal gets SIGTTIN, and an interactive
 * sign-in waits there until the deadline.
 */
static bool exec_stopped(const struct exec_run *r)
{
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    return r->pid > 0 &&
           waitid(P_PID, (id_t)r->pid, &si, WSTOPPED | WNOHANG | WNOWAIT) ==
               0 &&
           si.si_pid == r->pid && si.si_code == CLD_STOPPED;
}

/* The failure of a run that ended (or was killed at the deadline). */
static enum ei_status exec_failed(struct exec_state *st, struct exec_run *r,
                                  enum exec_end end, int64_t timeout_ms,
                                  const struct exec_known *known,
                                  struct ei_error *err)
{
    const struct ei_host *h = st->host;
    char loc[2 * EXEC_NAME_SHOWN + 16];
    exec_locator(st, r, loc, sizeof(loc));
    char line[EXEC_ERR_SHOWN + 96];
    exec_err_line(st, r, known, line, sizeof(line));
    if (end == EXEC_STOPPED)
        return h->error(h, err, EI_UNAVAILABLE, 0, loc,
                        "killed: the program was stopped waiting for the "
                        "terminal when the layer's timeout (%lld ms) "
                        "passed: it runs without one, sign in beforehand%s",
                        (long long)timeout_ms, line);
    if (end == EXEC_TIMEOUT)
        return h->error(h, err, EI_UNAVAILABLE, 0, loc,
                        "killed: the program did not finish within the "
                        "layer's timeout (%lld ms)%s",
                        (long long)timeout_ms, line);
    if (r->too_big)
        return h->error(h, err, EI_BADDATA, EFBIG, loc,
                        "the program printed more than %zu bytes",
                        EXEC_OUTPUT_MAX);
    if (WIFSIGNALED(r->wstatus))
        return h->error(h, err, EI_UNAVAILABLE, 0, loc,
                        "the program was killed by signal %d (%s)%s",
                        WTERMSIG(r->wstatus), strsignal(WTERMSIG(r->wstatus)),
                        line);
    return h->error(h, err, EI_UNAVAILABLE, 0, loc,
                    "the program exited with status %d%s",
                    WEXITSTATUS(r->wstatus), line);
}

struct exec_emit {
    struct exec_state *st;
    struct ei_sink *sink;
    char loc[EXEC_NAME_SHOWN + 32];
};

static int exec_forward(void *ctx, const char *const *name, size_t name_n,
                        const char *value, size_t value_len, int line,
                        unsigned flags, struct ei_error *err)
{
    struct exec_emit *em = ctx;
    char loc[sizeof(em->loc) + 16];
    if (line > 0)
        snprintf(loc, sizeof(loc), "%s:%d", em->loc, line);
    else
        snprintf(loc, sizeof(loc), "%s", em->loc);
    return em->sink->emit(em->sink, name, name_n, value, value_len, loc, flags,
                          err);
}

/* A run that exited with 0: its output into the sink (only known, when
   another run failed already: the layer fails, its values go nowhere). */
static enum ei_status exec_output(struct exec_state *st, struct exec_run *r,
                                  struct ei_sink *sink, struct exec_known *k,
                                  bool failed, struct ei_error *err)
{
    const struct ei_host *h = st->host;
    struct exec_emit em = {.st = st, .sink = sink};
    const char *buf = r->buf != NULL ? r->buf : "";
    if (st->format != EXEC_SUMMON) {
        snprintf(em.loc, sizeof(em.loc), "%s (stdout)", st->shown);
        if (st->format == EXEC_DOTENV)
            return ei_dotenv_parse(buf, r->len, em.loc, exec_forward, &em,
                                   err);
        return ei_jsonflat_parse(buf, r->len, em.loc, exec_forward, &em, err);
    }
    size_t a, n;
    exec_trim(buf, r->len, &a, &n);
    if (exec_known_add(k, buf + a, n) < 0)
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    if (failed)
        return EI_OK;
    char loc[2 * EXEC_NAME_SHOWN + 16];
    exec_locator(st, r, loc, sizeof(loc));
    if (memchr(buf + a, '\0', n) != NULL)
        return h->error(h, err, EI_BADDATA, 0, loc,
                        "the value holds a NUL byte (%zu bytes)", n);
    const char *seg[1] = {st->keys[r->key].name};
    if (sink->emit(sink, seg, 1, buf + a, n, loc, EI_ENTRY_VERBATIM, err) != 0)
        return ei_error_status(err, EI_INTERNAL);
    return EI_OK;
}

/* The argv of a run: command, and the summon path of key. */
static char **exec_argv(struct exec_state *st, size_t key)
{
    char **argv = calloc(st->command_n + 2, sizeof(*argv));
    if (argv == NULL)
        return NULL;
    /* argv[0] as a shell would pass it: a name as it is, a path that
       works from the program's working directory */
    argv[0] = (char *)st->prog;
    for (size_t i = 1; i < st->command_n; i++)
        argv[i] = (char *)st->command[i];
    if (st->format == EXEC_SUMMON)
        argv[st->command_n] = st->keys[key].path;
    return argv;
}

/*
 * The runs of one fetch: one, or one per summon key, EXEC_PARALLEL at a
 * time.  A run that fails does not stop the others: the failure reported
 * is that of the first key in the list (whatever the timing), once every
 * value of the layer is known, so that its stderr line is withheld when
 * it holds any of them.
 */
struct exec_batch {
    struct exec_state *st;
    struct ei_sink *sink;
    const struct ei_deadline *dl;
    const char *path;
    struct exec_run runs[EXEC_PARALLEL];
    size_t total;
    size_t started;
    struct exec_known known;
    bool failed;
    struct exec_run fail; /* what is needed of the failed run */
    enum exec_end fail_end;
};

static enum ei_status exec_start(struct exec_batch *b, struct exec_run *r,
                                 struct ei_error *err)
{
    struct exec_state *st = b->st;
    exec_run_init(r);
    r->key = b->started++;
    char **argv = exec_argv(st, r->key);
    if (argv == NULL)
        return st->host->error(st->host, err, EI_NOMEM, ENOMEM, NULL,
                               "out of memory");
    enum ei_status s = exec_spawn(st, b->path, argv, r, err);
    free(argv);
    return s;
}

/* Note a failed run (ended, or killed at the deadline). */
static void exec_note_fail(struct exec_batch *b, const struct exec_run *r,
                           enum exec_end end)
{
    exec_known_output(b->st, &b->known, r);
    if (b->failed && b->fail.key < r->key)
        return;
    b->failed = true;
    b->fail = *r;
    b->fail.buf = NULL;
    b->fail.len = b->fail.cap = 0;
    b->fail.out = b->fail.err = -1;
    b->fail.pid = 0;
    b->fail_end = end;
}

/* A run whose program was reaped: pipes drained, then judged. */
static enum ei_status exec_finish(struct exec_batch *b, struct exec_run *r,
                                  struct ei_error *err)
{
    struct exec_state *st = b->st;
    const struct ei_host *h = st->host;
    enum ei_status s = EI_OK;
    /* what the program wrote before it ended is in the pipes; a process
       it left behind may hold them open, and is not waited for */
    if (r->out >= 0)
        s = exec_read_out(h, r, err);
    if (r->err >= 0)
        exec_read_err(r);
    exec_close(&r->out);
    exec_close(&r->err);
    if (s != EI_OK)
        return s;
    if (r->too_big || !WIFEXITED(r->wstatus) || WEXITSTATUS(r->wstatus) != 0) {
        exec_note_fail(b, r, EXEC_ENDED);
        return EI_OK;
    }
    if (r->err_total > 0)
        h->log(h, EI_LOG_DEBUG, "%s wrote %zu bytes on stderr (not shown)",
               st->shown, r->err_total);
    return exec_output(st, r, b->sink, &b->known, b->failed, err);
}

/* The deadline: every run still going is killed, and failed. */
static void exec_deadline(struct exec_batch *b, struct exec_run *r)
{
    bool stopped = exec_stopped(r);
    exec_kill(r);
    if (r->out >= 0)
        (void)exec_read_out(b->st->host, r, NULL);
    if (r->err >= 0)
        exec_read_err(r);
    exec_note_fail(b, r, stopped ? EXEC_STOPPED : EXEC_TIMEOUT);
}

static enum ei_status exec_batch_run(struct exec_batch *b, struct ei_error *err)
{
    struct exec_state *st = b->st;
    const struct ei_host *h = st->host;
    enum ei_status s = EI_OK;
    size_t slots = b->total < EXEC_PARALLEL ? b->total : EXEC_PARALLEL;
    bool busy[EXEC_PARALLEL] = {false};
    size_t active = 0;
    for (;;) {
        int64_t left = h->remaining_ms(h, b->dl);
        for (size_t i = 0; i < slots && s == EI_OK && left > 0; i++) {
            if (busy[i] || b->started == b->total)
                continue;
            s = exec_start(b, &b->runs[i], err);
            busy[i] = true;
            active++;
        }
        if (s != EI_OK || active == 0)
            break;
        if (left == 0) {
            for (size_t i = 0; i < slots; i++)
                if (busy[i])
                    exec_deadline(b, &b->runs[i]);
            break;
        }
        struct pollfd pf[2 * EXEC_PARALLEL];
        size_t pn = 0;
        for (size_t i = 0; i < slots; i++) {
            if (!busy[i])
                continue;
            struct exec_run *r = &b->runs[i];
            pf[pn++] = (struct pollfd){.fd = r->out, .events = POLLIN};
            pf[pn++] = (struct pollfd){.fd = r->err, .events = POLLIN};
        }
        int wait = left < EXEC_REAP_POLL_MS ? (int)left : EXEC_REAP_POLL_MS;
        if (poll(pf, pn, wait) < 0 && errno != EINTR) {
            s = h->error(h, err, EI_OSERR, errno, st->shown, "poll failed");
            break;
        }
        for (size_t i = 0; i < slots && s == EI_OK; i++) {
            if (!busy[i])
                continue;
            struct exec_run *r = &b->runs[i];
            if (r->out >= 0)
                s = exec_read_out(h, r, err);
            if (r->err >= 0)
                exec_read_err(r);
            if (s != EI_OK)
                break;
            /* an output past the limit killed the run already */
            exec_reap(r, WNOHANG);
            if (exec_alive(r))
                continue;
            s = exec_finish(b, r, err);
            exec_run_free(h, r);
            busy[i] = false;
            active--;
        }
        if (s != EI_OK)
            break;
    }
    for (size_t i = 0; i < slots; i++)
        if (busy[i])
            exec_run_free(h, &b->runs[i]);
    if (s == EI_OK && b->failed)
        s = exec_failed(st, &b->fail, b->fail_end,
                        b->dl->end_ms - b->dl->start_ms, &b->known, err);
    else if (s == EI_OK && b->started < b->total)
        s = h->error(h, err, EI_UNAVAILABLE, 0, st->shown,
                     "the layer's timeout (%lld ms) passed before the "
                     "program could run (%zu of %zu runs started)",
                     (long long)(b->dl->end_ms - b->dl->start_ms), b->started,
                     b->total);
    sodium_memzero(&b->fail, sizeof(b->fail));
    return s;
}

static enum ei_status exec_fetch(void *state, struct ei_sink *sink,
                                 const struct ei_deadline *dl,
                                 struct ei_error *err)
{
    struct exec_state *st = state;
    const struct ei_host *h = st->host;
    char *path = NULL;
    enum ei_status s = exec_find(st, &path, err);
    if (s != EI_OK)
        return s;
    /*
     * A caller may have started envinject with SIGCHLD ignored (kept
     * across exec): the kernel would then reap the program itself and
     * its exit status would be lost.  SIGCHLD goes back to its default
     * for the runs, and to what it was afterwards, so that the program
     * envinject executes finds it as the caller left it.  Layers of this
     * provider are read in the main thread, one after the other, and no
     * other thread of envinject starts processes.
     */
    struct sigaction chld, dfl;
    bool restore = false;
    if (sigaction(SIGCHLD, NULL, &chld) == 0 &&
        (chld.sa_handler == SIG_IGN || (chld.sa_flags & SA_NOCLDWAIT))) {
        memset(&dfl, 0, sizeof(dfl));
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        restore = sigaction(SIGCHLD, &dfl, NULL) == 0;
    }
    struct exec_batch b = {
        .st = st,
        .sink = sink,
        .dl = dl,
        .path = path,
        .total = st->format == EXEC_SUMMON ? st->keys_n : 1,
        .known = {.host = h},
    };
    s = exec_batch_run(&b, err);
    if (restore)
        (void)sigaction(SIGCHLD, &chld, NULL);
    exec_known_free(&b.known);
    free(path);
    return s;
}

static void exec_destroy(void *state)
{
    exec_state_free(state);
}

/* A program's output can change at any time: polled (poll_interval). */
static enum ei_watch_kind exec_watch(void *state, const char *const **paths,
                                     int64_t *poll_ms)
{
    (void)state;
    (void)paths;
    (void)poll_ms;
    return EI_WATCH_POLL;
}

EI_PROVIDER_DEFINE(exec) = {
    .abi = EI_PROVIDER_ABI,
    .size = sizeof(struct ei_provider),
    .name = "exec",
    .summary = "a program's output: dotenv, JSON, or a summon provider per "
               "key",
    .arg_option = "command",
    .flags = EI_PROV_SECRET,
    .configure = exec_configure,
    .fetch = exec_fetch,
    .lookup = NULL,
    .destroy = exec_destroy,
    .env_consumed = NULL,
    .watch = exec_watch,
};
