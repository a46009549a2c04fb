/* SPDX-License-Identifier: MIT */
/* The env provider: the process environment as a layer, with the optional
   VAR_FILE convention of the official Docker images. */
#include <fnmatch.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <envinject/provider.h>

#include "common/keyglob.h"

/* How much of an invalid variable name a debug line shows. */
#define ENV_LOG_NAME_MAX 64

/*
 * Variables that hold credentials by convention, secret unless plain_keys
 * names them: first those that envinject's providers and the tools next
 * to it read themselves, then the usual name patterns.  An inherited
 * environment is what CI logs print, so the list errs on the secret side;
 * the patterns are whole-name globs, so *_AUTH leaves OAUTH_AUTH_URL
 * alone.  Every list is matched without regard to case: Terraform's
 * TF_VAR_db_password keeps the case of the variable it sets.
 */
static const char *const env_secret_default[] = {
    "VAULT_TOKEN",
    "CONSUL_HTTP_TOKEN",
    "CONSUL_HTTP_AUTH",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AZURE_CLIENT_SECRET",
    "LD_SDK_KEY",
    "DOTENV_PRIVATE_KEY",
    "DOTENV_PRIVATE_KEY_*",
    "ENVINJECT_CACHE_KEY",
    "ENVINJECT_AUDIT_KEY",
    "PGPASSWORD",
    "MYSQL_PWD",
    "SECRET_KEY",
    "SECRET_KEY_BASE",
    "DATABASE_URL",
    "TOKEN",
    "PASSWORD",
    "SECRET",
    "API_KEY",
    "*_TOKEN",
    "*_SECRET",
    "*_SECRET_KEY",
    "*_SECRET_ACCESS_KEY",
    "*_PASSWORD",
    "*_PASSWD",
    "*_PASS",
    "*_PWD",
    "*_API_KEY",
    "*_PRIVATE_KEY",
    "*_JWT",
    "*_CREDENTIALS",
    "*_AUTH",
    "*_DSN",
    NULL,
};

struct env_state {
    const struct ei_host *host;
    const char *file_suffix; /* NULL when the option is not set */
    size_t suffix_len;
    /* the globs of secret_keys, of env_secret_default and of plain_keys,
       one after the other in one allocation, read once */
    struct ei_keyglob *globs;
    struct ei_keyglob_set secret, defaults, plain;
};

static size_t env_list_len(const char *const *list)
{
    size_t n = 0;
    while (list != NULL && list[n] != NULL)
        n++;
    return n;
}

/* The globs of st from the lists; -1 when out of memory. */
static int env_compile_globs(struct env_state *st,
                             const char *const *secret_keys,
                             const char *const *plain_keys)
{
    const char *const *lists[] = {secret_keys, env_secret_default, plain_keys};
    struct ei_keyglob_set *sets[] = {&st->secret, &st->defaults, &st->plain};
    size_t n = 0;
    for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++)
        n += env_list_len(lists[l]);
    st->globs = calloc(n, sizeof(*st->globs));
    if (st->globs == NULL)
        return -1;
    struct ei_keyglob *g = st->globs;
    for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
        size_t list_n = env_list_len(lists[l]);
        for (size_t i = 0; i < list_n; i++)
            ei_keyglob_compile(&g[i], lists[l][i]);
        ei_keyglob_set_init(sets[l], g, list_n, FNM_CASEFOLD);
        g += list_n;
    }
    return 0;
}

static bool env_is_key_head(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool env_is_key_char(char c)
{
    return env_is_key_head(c) || (c >= '0' && c <= '9');
}

static bool env_valid_name(const char *s, size_t len)
{
    if (len == 0 || !env_is_key_head(s[0]))
        return false;
    for (size_t i = 1; i < len; i++) {
        if (!env_is_key_char(s[i]))
            return false;
    }
    return true;
}

/* dotenvx's private keys: DOTENV_PRIVATE_KEY and DOTENV_PRIVATE_KEY_*. */
#define ENV_DOTENVX_KEY     "DOTENV_PRIVATE_KEY"
#define ENV_DOTENVX_KEY_LEN (sizeof ENV_DOTENVX_KEY - 1)

/* Whether var[0..len) names a private key that envinject consumes, the
   sealed files' or dotenvx's, which this layer never passes on nor reads
   from a file. */
static bool env_is_private_key(const char *var, size_t len)
{
    if ((len == sizeof EI_PRIVATE_KEY_ENV - 1 &&
         memcmp(var, EI_PRIVATE_KEY_ENV, len) == 0) ||
        (len == sizeof EI_CACHE_KEY_ENV - 1 &&
         memcmp(var, EI_CACHE_KEY_ENV, len) == 0) ||
        (len == sizeof EI_AUDIT_KEY_ENV - 1 &&
         memcmp(var, EI_AUDIT_KEY_ENV, len) == 0))
        return true;
    return len >= ENV_DOTENVX_KEY_LEN &&
           memcmp(var, ENV_DOTENVX_KEY, ENV_DOTENVX_KEY_LEN) == 0 &&
           (len == ENV_DOTENVX_KEY_LEN || var[ENV_DOTENVX_KEY_LEN] == '_');
}

/* Whether the host can say which keys the layer's filter keeps (an
   older host cannot: then no file is read at all). */
static bool env_host_filters(const struct ei_host *h)
{
    return EI_HOST_HAS(h, key_selected);
}

static enum ei_status env_configure_suffix(const struct ei_host *host,
                                           const char *suffix,
                                           struct ei_error *err)
{
    size_t suffix_len = strlen(suffix);
    bool ok = suffix_len > 0;
    for (size_t i = 0; ok && i < suffix_len; i++)
        ok = env_is_key_char(suffix[i]);
    if (!ok)
        return host->error(host, err, EI_BADCONFIG, 0, "file_suffix",
                           "file_suffix must be one or more of A-Z, a-z, "
                           "0-9 and _ (%zu bytes given)",
                           suffix_len);
    if (!env_host_filters(host))
        return host->error(host, err, EI_BADCONFIG, 0, "file_suffix",
                           "file_suffix needs a newer envinject (host "
                           "without key_selected)");
    /* Only the names the layer selects may be read from files.  In an
       unfiltered environment, SSL_CERT_FILE, COMPOSE_FILE and the like
       name files that are no values; reading them would turn a
       certificate bundle into a variable, fail on a path that does not
       exist, and read any file for whoever sets a variable. */
    const char *const *include = NULL;
    const char *prefix = NULL;
    if (host->opt_list(host, "include", &include, NULL, err) < 0 ||
        host->opt_string(host, "prefix", &prefix, err) < 0)
        return ei_error_status(err, EI_BADCONFIG);
    /* "" starts every name, so it selects nothing */
    if (include == NULL && (prefix == NULL || prefix[0] == '\0'))
        return host->error(host, err, EI_BADCONFIG, 0, "file_suffix",
                           "file_suffix needs include or prefix, which "
                           "select the variables that may be read from "
                           "files (such as include = [\"DB_PASSWORD\"])");
    return EI_OK;
}

static enum ei_status env_configure(const struct ei_host *host, void **statep,
                                    struct ei_error *err)
{
    const char *suffix = NULL;
    const char *const *secret_keys = NULL, *const *plain_keys = NULL;
    if (host->opt_string(host, "file_suffix", &suffix, err) < 0 ||
        host->opt_list(host, "secret_keys", &secret_keys, NULL, err) < 0 ||
        host->opt_list(host, "plain_keys", &plain_keys, NULL, err) < 0)
        /* a wrong type, or the host ran out of memory: err says which */
        return ei_error_status(err, EI_BADCONFIG);
    enum ei_status host_ok = EI_HOST_REQUIRE(host, safe_text, err);
    if (host_ok != EI_OK)
        return host_ok;
    if (suffix != NULL) {
        enum ei_status status = env_configure_suffix(host, suffix, err);
        if (status != EI_OK)
            return status;
    }
    struct env_state *st = calloc(1, sizeof *st);
    if (st == NULL)
        return host->error(host, err, EI_NOMEM, 0, NULL, "out of memory");
    st->host = host;
    st->file_suffix = suffix;
    st->suffix_len = suffix != NULL ? strlen(suffix) : 0;
    if (env_compile_globs(st, secret_keys, plain_keys) < 0) {
        free(st);
        return host->error(host, err, EI_NOMEM, 0, NULL, "out of memory");
    }
    *statep = st;
    return EI_OK;
}

/* secret_keys adds to the default list, plain_keys takes from it: 1
   secret, 0 plain, -1 out of memory. */
static int env_secret_name(const struct env_state *st, const char *name,
                           size_t len)
{
    int hit = ei_keyglob_set_any(&st->secret, name, len);
    if (hit != 0)
        return hit;
    hit = ei_keyglob_set_any(&st->defaults, name, len);
    if (hit <= 0)
        return hit;
    int plain = ei_keyglob_set_any(&st->plain, name, len);
    return plain < 0 ? -1 : !plain;
}

/* 1 when the layer keeps the key var[0..len), 0 when it drops it, -1
   when out of memory. */
static int env_selected(const struct env_state *st, const char *var, size_t len)
{
    char *name = strndup(var, len);
    if (name == NULL)
        return -1;
    int kept = st->host->key_selected(st->host, name) ? 1 : 0;
    free(name);
    return kept;
}

/* Log a skipped name without control characters or a runaway length;
   only ASCII, since a name that is no key may be any bytes at all. */
static void env_log_skip(const struct env_state *st, const char *name,
                         size_t len, const char *why)
{
    char shown[ENV_LOG_NAME_MAX + EI_TEXT_EXTRA];
    st->host->log(st->host, EI_LOG_DEBUG, "skipped variable %s: %s",
                  st->host->safe_text(st->host, shown, sizeof shown, name, len,
                                      EI_TEXT_ASCII),
                  why);
}

/*
 * The names of the list seen so far, for the rule that a duplicated name
 * keeps its first value (as getenv does): an open-addressing index of
 * list positions by the names' FNV-1a hashes, so that an environment of
 * n variables costs n lookups, not the n * n / 2 comparisons of a walk
 * back through the list (30 K instructions for 100 variables).  The
 * hash is not keyed: whoever sets the environment can make the probe
 * runs long, but only for their own run, and no longer than that walk.
 */
struct env_names {
    uint32_t *hash;  /* of list[i]'s name, by position */
    uint32_t *slots; /* a position plus one; 0 is empty */
    size_t mask;     /* slots' count less one, a power of two less one */
};

/* The names of a list of n variables; -1 when out of memory. */
static int env_names_init(struct env_names *names, size_t n)
{
    size_t slots_n = 16;
    while (slots_n < 2 * n)
        slots_n *= 2;
    if (n > SIZE_MAX / sizeof(uint32_t) - slots_n)
        return -1;
    names->hash = malloc((n + slots_n) * sizeof(uint32_t));
    if (names->hash == NULL)
        return -1;
    names->slots = names->hash + n;
    memset(names->slots, 0, slots_n * sizeof(uint32_t));
    names->mask = slots_n - 1;
    return 0;
}

/* FNV-1a of a name. */
static uint32_t env_name_hash(const char *name, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)name[i]) * 16777619u;
    return h;
}

/* Whether the name of list[idx], var[0..len), appears earlier in the
   list; when not, it is noted for the variables after it. */
static bool env_seen_before(struct env_names *names, const char *const *list,
                            size_t idx, const char *var, size_t len)
{
    uint32_t h = env_name_hash(var, len);
    size_t j = h & names->mask;
    for (; names->slots[j] != 0; j = (j + 1) & names->mask) {
        size_t i = names->slots[j] - 1;
        if (names->hash[i] == h && strncmp(list[i], var, len) == 0 &&
            list[i][len] == '=')
            return true;
    }
    names->hash[idx] = h;
    names->slots[j] = (uint32_t)idx + 1;
    return false;
}

/*
 * NAME_FILE names a file whose content becomes NAME; NAME_FILE itself is
 * removed from the program's environment.  "Set" means non-empty, and
 * setting both is an error, as in the entrypoints of the official images.
 */
static enum ei_status env_from_file(struct env_state *st, struct ei_sink *sink,
                                    const char *var, size_t name_len,
                                    const char *path, struct ei_error *err)
{
    const struct ei_host *h = st->host;
    size_t var_len = name_len + st->suffix_len;
    /* "NAME\0" + "NAME_FILE=" + path + "\0" + "$NAME_FILE\0" */
    size_t need = name_len + 1 + var_len + 1 + strlen(path) + 1 + var_len + 2;
    char *mem = malloc(need);
    if (mem == NULL)
        return h->error(h, err, EI_NOMEM, 0, NULL, "out of memory");
    char *name = mem;
    char *locator = name + name_len + 1;
    memcpy(name, var, name_len);
    name[name_len] = '\0';
    size_t loc_len = var_len + 1 + strlen(path) + 1;
    memcpy(locator, var, var_len);
    locator[var_len] = '=';
    memcpy(locator + var_len + 1, path, strlen(path) + 1);
    char *var_locator = locator + loc_len;
    var_locator[0] = '$';
    memcpy(var_locator + 1, var, var_len);
    var_locator[var_len + 1] = '\0';
    char *var_name = var_locator + 1;

    enum ei_status status = EI_OK;
    const char *both = h->env_get(h, name);
    if (both != NULL && both[0] != '\0') {
        status = h->error(h, err, EI_BADDATA, 0, locator,
                          "both %s and %s are set (but are exclusive)", name,
                          var_name);
        free(mem);
        return status;
    }

    struct ei_buf buf = {0};
    struct ei_error rerr = {0};
    status = h->read_file(h, path, EI_READ_SECRET, &buf, &rerr);
    if (status != EI_OK) {
        h->error(h, err, status, rerr.errnum, locator, "%s: %s", var_name,
                 rerr.text[0] != '\0' ? rerr.text : "cannot read the file");
        free(mem);
        return status;
    }
    /* what bash's "$(< file)" does: every trailing newline goes, a
       trailing carriage return stays */
    size_t len = buf.len;
    while (len > 0 && buf.data[len - 1] == '\n')
        len--;
    const char *nul = memchr(buf.data, '\0', len);
    if (nul != NULL) {
        status = h->error(h, err, EI_BADDATA, 0, locator,
                          "%s: the file holds a NUL byte at offset %zu "
                          "(%zu bytes)",
                          var_name, (size_t)(nul - buf.data), buf.len);
    } else {
        const char *seg[1] = {name};
        if (sink->emit(sink, seg, 1, buf.data, len, locator,
                       EI_ENTRY_VERBATIM | EI_ENTRY_SECRET, err) != 0) {
            status = ei_error_status(err, EI_INTERNAL);
        } else {
            seg[0] = var_name;
            if (sink->emit(sink, seg, 1, "", 0, var_locator,
                           EI_ENTRY_VERBATIM | EI_ENTRY_UNSET, err) != 0)
                status = ei_error_status(err, EI_INTERNAL);
        }
    }
    h->buf_free(h, &buf);
    free(mem);
    return status;
}

/* The room for a name and its locator without a malloc. */
#define ENV_SMALL_NAMES 256

static enum ei_status env_plain(struct env_state *st, struct ei_sink *sink,
                                const char *var, size_t name_len,
                                const char *value, struct ei_error *err)
{
    const struct ei_host *h = st->host;
    /* "$NAME\0", on the stack for most names: the locator, and past its
       '$' the name (one copy, not two) */
    char small[ENV_SMALL_NAMES];
    size_t size = name_len + 2;
    char *mem = size <= sizeof small ? small : malloc(size);
    if (mem == NULL)
        return h->error(h, err, EI_NOMEM, 0, NULL, "out of memory");
    char *locator = mem;
    locator[0] = '$';
    memcpy(locator + 1, var, name_len);
    locator[name_len + 1] = '\0';
    const char *name = locator + 1;
    const char *seg[1] = {name};
    enum ei_status status = EI_OK;
    unsigned flags = EI_ENTRY_VERBATIM;
    int secret = env_secret_name(st, name, name_len);
    if (secret < 0) {
        if (mem != small)
            free(mem);
        return h->error(h, err, EI_NOMEM, 0, NULL, "out of memory");
    }
    if (secret)
        flags |= EI_ENTRY_SECRET;
    if (sink->emit(sink, seg, 1, value, strlen(value), locator, flags, err) !=
        0)
        status = ei_error_status(err, EI_INTERNAL);
    if (mem != small)
        free(mem);
    return status;
}

/* Whether NAME (var[0..name_len)) has a non-empty NAME<suffix> in the
   list: then NAME, if set at all, is empty, and comes from the file. */
static bool env_has_file_var(const struct env_state *st,
                             const char *const *list, const char *var,
                             size_t name_len)
{
    if (st->file_suffix == NULL)
        return false;
    for (size_t i = 0; list[i] != NULL; i++) {
        const char *e = list[i];
        if (strncmp(e, var, name_len) == 0 &&
            strncmp(e + name_len, st->file_suffix, st->suffix_len) == 0 &&
            e[name_len + st->suffix_len] == '=')
            return e[name_len + st->suffix_len + 1] != '\0';
    }
    return false;
}

/* One variable of the list, list[i]; names holds those before it. */
static enum ei_status env_fetch_var(struct env_state *st, struct ei_sink *sink,
                                    const struct ei_deadline *dl,
                                    const char *const *list, size_t i,
                                    struct env_names *names,
                                    struct ei_error *err)
{
    const struct ei_host *h = st->host;
    const char *var = list[i];
    const char *eq = strchr(var, '=');
    if (eq == NULL) {
        /* the entry may be a stray value: say nothing about it */
        h->log(h, EI_LOG_DEBUG, "skipped environment entry %zu: no '='", i);
        return EI_OK;
    }
    size_t len = (size_t)(eq - var);
    const char *value = eq + 1;
    if (!env_valid_name(var, len)) {
        env_log_skip(st, var, len, "not a valid key");
        return EI_OK;
    }
    if (env_is_private_key(var, len)) {
        env_log_skip(st, var, len, "never passed on");
        return EI_OK;
    }
    if (env_seen_before(names, list, i, var, len)) {
        env_log_skip(st, var, len, "repeated; the first value counts");
        return EI_OK;
    }
    size_t base_len = len - st->suffix_len;
    bool from_file =
        st->file_suffix != NULL && len > st->suffix_len && value[0] != '\0' &&
        memcmp(var + base_len, st->file_suffix, st->suffix_len) == 0 &&
        env_valid_name(var, base_len) && !env_is_private_key(var, base_len);
    /* NAME= alongside NAME_FILE: the file gives NAME its value */
    bool by_file =
        !from_file && value[0] == '\0' && env_has_file_var(st, list, var, len);
    if (from_file || by_file) {
        /* what the layer drops is left alone: its file is not read */
        int kept = env_selected(st, var, from_file ? base_len : len);
        if (kept < 0)
            return h->error(h, err, EI_NOMEM, 0, NULL, "out of memory");
        if (kept == 0 && from_file)
            h->log(h, EI_LOG_DEBUG,
                   "%.*s left as it is: the layer does not select %.*s",
                   (int)len, var, (int)base_len, var);
        from_file = from_file && kept;
        by_file = by_file && kept;
    }
    if (by_file)
        return EI_OK;
    if (!from_file)
        return env_plain(st, sink, var, len, value, err);
    if (dl != NULL && h->remaining_ms(h, dl) == 0)
        return h->error(h, err, EI_UNAVAILABLE, 0, NULL,
                        "%.*s: timed out before reading the file", (int)len,
                        var);
    return env_from_file(st, sink, var, base_len, value, err);
}

static enum ei_status env_fetch(void *state, struct ei_sink *sink,
                                const struct ei_deadline *dl,
                                struct ei_error *err)
{
    struct env_state *st = state;
    const struct ei_host *h = st->host;
    const char *const *list = h->env_list(h);
    if (list == NULL)
        return EI_OK;
    size_t n = 0;
    while (list[n] != NULL)
        n++;
    struct env_names names;
    if (n > UINT32_MAX - 1 || env_names_init(&names, n) < 0)
        return h->error(h, err, EI_NOMEM, 0, NULL, "out of memory");
    enum ei_status status = EI_OK;
    for (size_t i = 0; i < n && status == EI_OK; i++)
        status = env_fetch_var(st, sink, dl, list, i, &names, err);
    free(names.hash);
    return status;
}

static void env_destroy(void *state)
{
    struct env_state *st = state;
    if (st == NULL)
        return;
    free(st->globs);
    free(st);
}

/* The process environment never changes under envinject; the files of
   file_suffix may (a rotated Docker secret): those are polled. */
static enum ei_watch_kind env_watch(void *state, const char *const **paths,
                                    int64_t *poll_ms)
{
    const struct env_state *st = state;
    (void)paths;
    (void)poll_ms;
    return st->file_suffix != NULL ? EI_WATCH_POLL : EI_WATCH_NEVER;
}

EI_PROVIDER_DEFINE(env) = {
    .abi = EI_PROVIDER_ABI,
    .size = sizeof(struct ei_provider),
    .name = "env",
    .summary = "the process environment",
    .arg_option = "prefix",
    .flags = 0,
    .configure = env_configure,
    .fetch = env_fetch,
    .lookup = NULL,
    .destroy = env_destroy,
    .env_consumed = NULL,
    .watch = env_watch,
};
