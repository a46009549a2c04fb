/* SPDX-License-Identifier: MIT */
/* envinject.conf: libconfig loading, --layer specs, the choice of the
   environment, ${env} substitution, and the option tree of each layer. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>
#include <sodium.h>

#include "../providers/common/cfgscan.h"
#include "config.h"
#include "diag.h"
#include "envset.h"
#include "readfile.h"

#define DEFAULT_CONFIG "envinject.conf"
/* The largest envinject.conf read; a real one is a few kilobytes. */
#define CONFIG_FILE_MAX (16 * 1024 * 1024)
#define ENV_NAME_MAX    64
#define ENV_TOKEN       "${env}"

/* Settings allowed at the top level of envinject.conf. */
static const char *const top_settings[] = {
    "audit",  "cache",          "environment",   "environments",
    "layers", "max_value_size", "provider_path", "require",
    "schema", "start_splay",    "unset",         NULL};

static bool key_ok(const char *s)
{
    return ei_key_valid(s, strlen(s));
}

static bool in_list(const char *const *list, const char *s)
{
    for (; *list != NULL; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

static void strv_free(char **v)
{
    if (v == NULL)
        return;
    for (char **p = v; *p != NULL; p++)
        free(*p);
    free(v);
}

void ei_config_free(struct ei_config *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < cfg->layers_n; i++) {
        struct ei_layer_conf *l = &cfg->layers[i];
        free(l->name);
        free(l->provider);
        free(l->arg);
        free(l->where);
        ei_opt_clear(&l->opts);
    }
    free(cfg->layers);
    free(cfg->cache.dir);
    free(cfg->cache.key_file);
    free(cfg->cache.where);
    free(cfg->audit.path);
    free(cfg->audit.key_file);
    free(cfg->audit.where);
    ei_schema_clear(&cfg->schema);
    strv_free(cfg->environments);
    strv_free(cfg->unset);
    strv_free(cfg->provider_path);
    free(cfg->environment);
    free(cfg->path);
    free(cfg->dir);
    free(cfg->cwd);
    ei_readfile_free(&cfg->text);
    free(cfg);
}

bool ei_config_sha256(const struct ei_config *cfg,
                      char hex[EI_CONFIG_SHA256_HEX])
{
    hex[0] = '\0';
    if (cfg->text.data == NULL)
        return false;
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, (const unsigned char *)cfg->text.data,
                       cfg->text.len);
    sodium_bin2hex(hex, EI_CONFIG_SHA256_HEX, digest, sizeof(digest));
    return true;
}

bool ei_config_env_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > ENV_NAME_MAX)
        return false;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    for (const char *p = name; *p != '\0'; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

/* The configuration's name as messages show it. */
static const char *file_base(const struct ei_config *cfg)
{
    const char *file = cfg->path != NULL ? cfg->path : DEFAULT_CONFIG;
    const char *base = strrchr(file, '/');
    return base != NULL ? base + 1 : file;
}

static char *where_of(const struct ei_config *cfg, int line)
{
    return ei_opt_where(file_base(cfg), line);
}

/* ---- libconfig → option tree ---- */

/* The shortest text that reads back, plain digits for moderate
   magnitudes: what jsonflat prints for file layers. */
static void float_text(double d, char *buf, size_t len)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    double mag = d < 0 ? -d : d;
    if (strchr(buf, 'e') == NULL || mag < 1e-5 || mag >= 1e17)
        return;
    char tmp[64];
    for (int dec = 0; dec <= 22; dec++) {
        int n = snprintf(tmp, sizeof(tmp), "%.*f", dec, d);
        if (n > 0 && (size_t)n < len && strtod(tmp, NULL) == d) {
            memcpy(buf, tmp, (size_t)n + 1);
            return;
        }
    }
}

static int scalar_text(const config_setting_t *s, struct ei_opt *o)
{
    char buf[64];
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT:
        o->type = EI_OPT_INT;
        o->num = config_setting_get_int(s);
        snprintf(buf, sizeof(buf), "%lld", o->num);
        break;
    case CONFIG_TYPE_INT64:
        o->type = EI_OPT_INT;
        o->num = config_setting_get_int64(s);
        snprintf(buf, sizeof(buf), "%lld", o->num);
        break;
    case CONFIG_TYPE_FLOAT:
        o->type = EI_OPT_FLOAT;
        float_text(config_setting_get_float(s), buf, sizeof(buf));
        break;
    case CONFIG_TYPE_BOOL:
        o->type = EI_OPT_BOOL;
        o->b = config_setting_get_bool(s) != 0;
        snprintf(buf, sizeof(buf), "%s", o->b ? "true" : "false");
        break;
    case CONFIG_TYPE_STRING:
        o->type = EI_OPT_STRING;
        o->str = strdup(config_setting_get_string(s));
        return o->str != NULL ? 0 : -1;
    default:
        return -1;
    }
    o->str = strdup(buf);
    return o->str != NULL ? 0 : -1;
}

static int opt_from_setting(const config_setting_t *s, struct ei_opt *o)
{
    memset(o, 0, sizeof(*o));
    o->line = (int)config_setting_source_line(s);
    const char *name = config_setting_name(s);
    if (name != NULL) {
        o->name = strdup(name);
        if (o->name == NULL)
            return -1;
    }
    if (!config_setting_is_aggregate(s))
        return scalar_text(s, o);
    o->type = config_setting_is_group(s) ? EI_OPT_GROUP : EI_OPT_LIST;
    int n = config_setting_length(s);
    if (n == 0)
        return 0;
    o->kids = calloc((size_t)n, sizeof(*o->kids));
    if (o->kids == NULL)
        return -1;
    for (int i = 0; i < n; i++) {
        o->kids_n = (size_t)i + 1;
        if (opt_from_setting(config_setting_get_elem(s, (unsigned)i),
                             &o->kids[i]) < 0)
            return -1;
    }
    return 0;
}

/* ---- small readers for the top level ---- */

static enum ei_status nomem(struct ei_error *err)
{
    return ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory");
}

/* A list (or array) of strings, or a single string, as a vector. */
static int read_strv(const struct ei_config *cfg, const config_setting_t *s,
                     const char *what, char ***out, size_t *out_n,
                     struct ei_error *err)
{
    char *w = where_of(cfg, (int)config_setting_source_line(s));
    /* a group is not a list: its members would be taken without names */
    bool many = config_setting_is_list(s) || config_setting_is_array(s);
    size_t n = many ? (size_t)config_setting_length(s) : 1;
    char **v = calloc(n + 1, sizeof(*v));
    if (w == NULL || v == NULL) {
        free(w);
        free(v);
        return nomem(err), -1;
    }
    for (size_t i = 0; i < n; i++) {
        const config_setting_t *e =
            many ? config_setting_get_elem(s, (unsigned)i) : s;
        if (config_setting_type(e) != CONFIG_TYPE_STRING) {
            ei_error_set(err, EI_BADCONFIG, 0, NULL, w,
                         "%s must be a list of strings", what);
            goto fail;
        }
        v[i] = strdup(config_setting_get_string(e));
        if (v[i] == NULL) {
            nomem(err);
            goto fail;
        }
    }
    free(w);
    *out = v;
    if (out_n != NULL)
        *out_n = n;
    return 0;
fail:
    free(w);
    strv_free(v);
    return -1;
}

static int check_keys(const struct ei_config *cfg, const config_setting_t *s,
                      char **keys, const char *what, struct ei_error *err)
{
    for (char **k = keys; *k != NULL; k++) {
        if (!key_ok(*k)) {
            char *w = where_of(cfg, (int)config_setting_source_line(s));
            ei_error_set(err, EI_BADCONFIG, 0, NULL, w,
                         "%s: '%s' is not a valid variable name", what, *k);
            free(w);
            return -1;
        }
    }
    return 0;
}

/* ---- schema ---- */

/* The rules are schema.c's to read; it gets them as an option tree. */
static int read_schema(struct ei_config *cfg, const config_setting_t *s,
                       struct ei_error *err)
{
    struct ei_opt group;
    int rc = opt_from_setting(s, &group) < 0
                 ? (nomem(err), -1)
                 : ei_schema_read(&cfg->schema, &group, file_base(cfg), err);
    ei_opt_clear(&group);
    return rc;
}

/* ---- layers ---- */

static const char *opt_str(struct ei_opt *group, const char *name)
{
    struct ei_opt *o = ei_opt_find(group, name);
    return o != NULL && o->type == EI_OPT_STRING ? o->str : NULL;
}

static int grow_layers(struct ei_config *cfg, size_t more, struct ei_error *err)
{
    struct ei_layer_conf *v =
        realloc(cfg->layers, (cfg->layers_n + more) * sizeof(*v));
    if (v == NULL)
        return nomem(err), -1;
    memset(v + cfg->layers_n, 0, more * sizeof(*v));
    cfg->layers = v;
    return 0;
}

static int read_layers(struct ei_config *cfg, const config_setting_t *s,
                       struct ei_error *err)
{
    if (!config_setting_is_list(s) && !config_setting_is_array(s)) {
        char *w = where_of(cfg, (int)config_setting_source_line(s));
        ei_error_set(err, EI_BADCONFIG, 0, NULL, w,
                     "layers must be a list: layers = ( { ... }, ... );");
        free(w);
        return -1;
    }
    size_t n = (size_t)config_setting_length(s);
    if (n == 0)
        return 0;
    if (grow_layers(cfg, n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        struct ei_layer_conf *l = &cfg->layers[cfg->layers_n++];
        l->dir = cfg->dir;
        l->where = where_of(cfg, (int)config_setting_source_line(e));
        if (l->where == NULL)
            return nomem(err), -1;
        if (!config_setting_is_group(e))
            return ei_error_set(err, EI_BADCONFIG, 0, NULL, l->where,
                                "layer %zu must be a group { provider = ...; }",
                                i + 1),
                   -1;
        if (opt_from_setting(e, &l->opts) < 0)
            return nomem(err), -1;
        const char *prov = opt_str(&l->opts, "provider");
        if (prov == NULL)
            return ei_error_set(err, EI_BADCONFIG, 0, NULL, l->where,
                                "layer %zu has no provider (a string)", i + 1),
                   -1;
        l->provider = strdup(prov);
        if (l->provider == NULL)
            return nomem(err), -1;
        ei_opt_find(&l->opts, "provider")->used = true;
    }
    return 0;
}

/*
 * One --layer spec: PROVIDER[:ARG][,NAME=VALUE]...  A comma inside a value
 * is written "\,".  Options given twice make a list.
 */
static char *spec_token(const char **pp, const char *stops)
{
    const char *p = *pp;
    size_t cap = strlen(p) + 1, n = 0;
    char *out = malloc(cap);
    if (out == NULL)
        return NULL;
    while (*p != '\0' && strchr(stops, *p) == NULL) {
        if (*p == '\\' && p[1] == ',')
            p++;
        out[n++] = *p++;
    }
    out[n] = '\0';
    *pp = p;
    return out;
}

static int spec_add_opt(struct ei_opt *group, const char *name,
                        const char *value, struct ei_error *err)
{
    /* a repeated name turns the option into a list */
    struct ei_opt *o = NULL;
    for (size_t i = 0; i < group->kids_n; i++)
        if (strcmp(group->kids[i].name, name) == 0)
            o = &group->kids[i];
    if (o != NULL) {
        if (o->type != EI_OPT_LIST) {
            struct ei_opt first = *o;
            memset(o, 0, sizeof(*o));
            o->type = EI_OPT_LIST;
            o->name = first.name;
            first.name = NULL;
            o->kids = calloc(1, sizeof(*o->kids));
            if (o->kids == NULL) {
                ei_opt_clear(&first);
                return nomem(err), -1;
            }
            o->kids[0] = first;
            o->kids_n = 1;
        }
        struct ei_opt *k = realloc(o->kids, (o->kids_n + 1) * sizeof(*o->kids));
        if (k == NULL)
            return nomem(err), -1;
        o->kids = k;
        memset(&k[o->kids_n], 0, sizeof(*k));
        k[o->kids_n].type = EI_OPT_STRING;
        k[o->kids_n].str = strdup(value);
        if (k[o->kids_n++].str == NULL)
            return nomem(err), -1;
        return 0;
    }
    struct ei_opt *k =
        realloc(group->kids, (group->kids_n + 1) * sizeof(*group->kids));
    if (k == NULL)
        return nomem(err), -1;
    group->kids = k;
    o = &k[group->kids_n++];
    memset(o, 0, sizeof(*o));
    o->type = EI_OPT_STRING;
    o->name = strdup(name);
    o->str = strdup(value);
    if (o->name == NULL || o->str == NULL)
        return nomem(err), -1;
    return 0;
}

/* "auth.method=x" is member method of group auth, as in the file. */
static int spec_add_path(struct ei_opt *group, const char *name,
                         const char *value, const char *where,
                         struct ei_error *err)
{
    const char *dot = strchr(name, '.');
    if (dot == NULL)
        return spec_add_opt(group, name, value, err);
    size_t n = (size_t)(dot - name);
    if (n == 0 || dot[1] == '\0')
        return ei_error_set(err, EI_USAGE, 0, NULL, where,
                            "option '%s' has an empty name part", name),
               -1;
    struct ei_opt *g = NULL;
    for (size_t i = 0; i < group->kids_n; i++)
        if (strlen(group->kids[i].name) == n &&
            memcmp(group->kids[i].name, name, n) == 0)
            g = &group->kids[i];
    if (g == NULL) {
        struct ei_opt *k =
            realloc(group->kids, (group->kids_n + 1) * sizeof(*group->kids));
        if (k == NULL)
            return nomem(err), -1;
        group->kids = k;
        g = &k[group->kids_n++];
        memset(g, 0, sizeof(*g));
        g->type = EI_OPT_GROUP;
        g->name = strndup(name, n);
        if (g->name == NULL)
            return nomem(err), -1;
    } else if (g->type != EI_OPT_GROUP) {
        return ei_error_set(err, EI_USAGE, 0, NULL, where,
                            "option '%.*s' is both a value and a group", (int)n,
                            name),
               -1;
    }
    return spec_add_path(g, dot + 1, value, where, err);
}

static int read_spec(struct ei_config *cfg, const char *spec, size_t index,
                     struct ei_error *err)
{
    char where[32];
    snprintf(where, sizeof(where), "--layer #%zu", index + 1);
    if (grow_layers(cfg, 1, err) < 0)
        return -1;
    struct ei_layer_conf *l = &cfg->layers[cfg->layers_n++];
    l->adhoc = true;
    l->dir = cfg->cwd;
    l->opts.type = EI_OPT_GROUP;
    l->where = strdup(where);
    if (l->where == NULL)
        return nomem(err), -1;
    const char *p = spec;
    l->provider = spec_token(&p, ":,");
    if (l->provider == NULL)
        return nomem(err), -1;
    if (l->provider[0] == '\0')
        return ei_error_set(err, EI_USAGE, 0, NULL, where,
                            "expected PROVIDER[:ARG][,OPTION=VALUE]..."),
               -1;
    if (*p == ':') {
        p++;
        l->arg = spec_token(&p, ",");
        if (l->arg == NULL)
            return nomem(err), -1;
    }
    while (*p == ',') {
        p++;
        char *name = spec_token(&p, "=,");
        if (name == NULL)
            return nomem(err), -1;
        if (*p != '=' || name[0] == '\0') {
            ei_error_set(err, EI_USAGE, 0, NULL, where,
                         "option '%s' has no value (expected NAME=VALUE)",
                         name);
            free(name);
            return -1;
        }
        p++;
        char *value = spec_token(&p, ",");
        int rc = value != NULL
                     ? spec_add_path(&l->opts, name, value, where, err)
                     : (nomem(err), -1);
        free(name);
        free(value);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/*
 * Ad-hoc use (no configuration file, layers from --layer): the dotenv
 * convention, where what is already set wins.  The process environment
 * becomes the layer "environment", above the --layer ones, or below them
 * with --overload (dotenvx's flag).  An env layer among the specs is the
 * user's own placement and replaces it.
 */
static int add_implicit_env(struct ei_config *cfg, bool overload,
                            struct ei_error *err)
{
    for (size_t i = 0; i < cfg->layers_n; i++)
        if (strcmp(cfg->layers[i].provider, "env") == 0) {
            if (overload)
                ei_diag_msg(EI_LOG_WARN, NULL, NULL,
                            "--overload has no effect: %s places the "
                            "environment itself",
                            cfg->layers[i].where);
            return 0;
        }
    if (grow_layers(cfg, 1, err) < 0)
        return -1;
    size_t at = overload ? 0 : cfg->layers_n;
    memmove(&cfg->layers[at + 1], &cfg->layers[at],
            (cfg->layers_n - at) * sizeof(*cfg->layers));
    cfg->layers_n++;
    struct ei_layer_conf *l = &cfg->layers[at];
    memset(l, 0, sizeof(*l));
    l->adhoc = true;
    l->implicit = true;
    l->dir = cfg->cwd;
    l->opts.type = EI_OPT_GROUP;
    l->where = strdup("the process environment");
    l->provider = strdup("env");
    if (l->where == NULL || l->provider == NULL)
        return nomem(err), -1;
    return spec_add_opt(&l->opts, "name", "environment", err);
}

/* ---- ${env} ---- */

static int subst_env(char **s, const char *env, const char *where,
                     struct ei_error *err)
{
    if (*s == NULL || strstr(*s, ENV_TOKEN) == NULL)
        return 0;
    if (env == NULL)
        return ei_error_set(err, EI_BADCONFIG, 0, NULL, where,
                            "${env} is used but no environment is chosen (use "
                            "-e, ENVINJECT_ENV or environment =)"),
               -1;
    size_t tok = strlen(ENV_TOKEN), envlen = strlen(env), n = 0;
    for (const char *p = strstr(*s, ENV_TOKEN); p != NULL;
         p = strstr(p + tok, ENV_TOKEN))
        n++;
    size_t len = strlen(*s) + n * envlen + 1;
    char *out = malloc(len), *o = out;
    if (out == NULL)
        return nomem(err), -1;
    const char *p = *s;
    for (const char *q = strstr(p, ENV_TOKEN); q != NULL;
         q = strstr(p, ENV_TOKEN)) {
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        memcpy(o, env, envlen);
        o += envlen;
        p = q + tok;
    }
    memcpy(o, p, strlen(p) + 1);
    free(*s);
    *s = out;
    return 0;
}

static int subst_opt(struct ei_opt *o, const char *env, const char *where,
                     struct ei_error *err)
{
    if (o->type == EI_OPT_STRING && subst_env(&o->str, env, where, err) < 0)
        return -1;
    for (size_t i = 0; i < o->kids_n; i++)
        if (subst_opt(&o->kids[i], env, where, err) < 0)
            return -1;
    return 0;
}

/* Keep the layer if its `when` list names the environment. */
static int layer_applies(struct ei_layer_conf *l, const char *env, bool *keep,
                         struct ei_error *err)
{
    struct ei_opt *w = ei_opt_find(&l->opts, "when");
    *keep = true;
    if (w == NULL)
        return 0;
    w->used = true;
    if (w->type == EI_OPT_STRING) {
        *keep = env != NULL && strcmp(w->str, env) == 0;
        return 0;
    }
    if (w->type != EI_OPT_LIST)
        return ei_error_set(err, EI_BADCONFIG, 0, NULL, l->where,
                            "when must be a list of environments"),
               -1;
    *keep = false;
    for (size_t i = 0; i < w->kids_n; i++) {
        if (w->kids[i].type != EI_OPT_STRING)
            return ei_error_set(err, EI_BADCONFIG, 0, NULL, l->where,
                                "when must be a list of environments"),
                   -1;
        if (env != NULL && strcmp(w->kids[i].str, env) == 0)
            *keep = true;
    }
    return 0;
}

/* Names: explicit ones must be unique; default ones get "#N". */
static int name_layers(struct ei_config *cfg, struct ei_error *err)
{
    for (size_t i = 0; i < cfg->layers_n; i++) {
        struct ei_layer_conf *l = &cfg->layers[i];
        struct ei_opt *o = ei_opt_find(&l->opts, "name");
        if (o != NULL) {
            o->used = true;
            if (o->type != EI_OPT_STRING || o->str[0] == '\0')
                return ei_error_set(err, EI_BADCONFIG, 0, NULL, l->where,
                                    "name must be a non-empty string"),
                       -1;
            l->name = strdup(o->str);
        } else if (l->adhoc && l->arg != NULL) {
            size_t n = strlen(l->provider) + strlen(l->arg) + 2;
            l->name = malloc(n);
            if (l->name != NULL)
                snprintf(l->name, n, "%s:%s", l->provider, l->arg);
        } else {
            l->name = strdup(l->provider);
        }
        if (l->name == NULL)
            return nomem(err), -1;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(cfg->layers[j].name, l->name) != 0)
                continue;
            if (o != NULL)
                return ei_error_set(err, EI_BADCONFIG, 0, NULL, l->where,
                                    "duplicate layer name '%s' (also at %s)",
                                    l->name, cfg->layers[j].where),
                       -1;
            size_t n = strlen(l->name) + 16;
            char *renamed = malloc(n);
            if (renamed == NULL)
                return nomem(err), -1;
            snprintf(renamed, n, "%s#%zu", l->name, i + 1);
            free(l->name);
            l->name = renamed;
            j = (size_t)-1; /* check the new name against all again */
        }
    }
    return 0;
}

static int choose_environment(struct ei_config *cfg, const char *wanted,
                              struct ei_error *err)
{
    if (wanted != NULL) {
        free(cfg->environment);
        cfg->environment = strdup(wanted);
        if (cfg->environment == NULL)
            return nomem(err), -1;
    }
    if (cfg->environment == NULL)
        return 0;
    if (!ei_config_env_valid(cfg->environment))
        return ei_error_set(err, EI_USAGE, 0, NULL, NULL,
                            "invalid environment name (expected letters, "
                            "digits, '_', '.', '-', at most %d bytes)",
                            ENV_NAME_MAX),
               -1;
    if (cfg->environments == NULL)
        return 0;
    for (char **e = cfg->environments; *e != NULL; e++)
        if (strcmp(*e, cfg->environment) == 0)
            return 0;
    return ei_error_set(err, EI_BADCONFIG, 0, NULL, cfg->path,
                        "environment '%s' is not listed in environments",
                        cfg->environment),
           -1;
}

/* ---- durations, the cache group, start_splay ---- */

long long ei_config_duration(const struct ei_opt *o, long long max_ms)
{
    if (o->type == EI_OPT_INT)
        return o->num >= 0 && o->num <= max_ms ? o->num : -1;
    if (o->type != EI_OPT_STRING || o->str[0] < '0' || o->str[0] > '9')
        return -1;
    static const struct {
        const char *name;
        long long ms;
    } units[] = {{"", 1},          {"ms", 1},           {"s", 1000},
                 {"m", 60 * 1000}, {"h", 3600 * 1000}, {"d", 86400 * 1000}};
    errno = 0;
    char *end;
    unsigned long long n = strtoull(o->str, &end, 10);
    if (errno != 0)
        return -1;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strcmp(end, units[i].name) == 0)
            return n <= (unsigned long long)(max_ms / units[i].ms)
                       ? (long long)n * units[i].ms
                       : -1;
    return -1;
}

/* path, or cfg->dir/path when relative; NULL when out of memory. */
static char *config_path(const struct ei_config *cfg, const char *path)
{
    if (path[0] == '/')
        return strdup(path);
    size_t n = strlen(cfg->dir) + strlen(path) + 2;
    char *p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s/%s", cfg->dir, path);
    return p;
}

/*
 * The start of a top-level group (cache, audit): its place in *where (the
 * configuration's, for its messages) and its settings in *g (cleared with
 * ei_opt_clear by the caller once it returned 0).  -1 with err when it is
 * not a group (78, showing form, the way to write it) or out of memory.
 */
static int read_group(struct ei_config *cfg, const config_setting_t *s,
                      const char *form, char **where, struct ei_opt *g,
                      struct ei_error *err)
{
    *where = where_of(cfg, (int)config_setting_source_line(s));
    if (*where == NULL)
        return nomem(err), -1;
    if (!config_setting_is_group(s))
        return ei_error_set(err, EI_BADCONFIG, 0, NULL, *where,
                            "%s must be a group: %s", config_setting_name(s),
                            form),
               -1;
    if (opt_from_setting(s, g) < 0) {
        ei_opt_clear(g);
        return nomem(err), -1;
    }
    return 0;
}

/* cache = { dir = "..."; key_file = "..."; max_age = "24h"; }; */
static int read_cache(struct ei_config *cfg, const config_setting_t *s,
                      struct ei_error *err)
{
    struct ei_cache_conf *c = &cfg->cache;
    struct ei_opt g;
    if (read_group(cfg, s, "cache = { dir = ...; max_age = ...; };",
                   &c->where, &g, err) < 0)
        return -1;
    int rc = -1;
    for (size_t i = 0; i < g.kids_n; i++) {
        const char *n = g.kids[i].name;
        if (strcmp(n, "dir") != 0 && strcmp(n, "key_file") != 0 &&
            strcmp(n, "max_age") != 0) {
            char *w = where_of(cfg, g.kids[i].line);
            ei_error_set(err, EI_BADCONFIG, 0, NULL, w != NULL ? w : c->where,
                         "unknown cache setting '%s' (expected dir, key_file, "
                         "max_age)",
                         n);
            free(w);
            goto out;
        }
        if (strcmp(n, "max_age") != 0 &&
            (g.kids[i].type != EI_OPT_STRING || g.kids[i].str[0] == '\0')) {
            ei_error_set(err, EI_BADCONFIG, 0, NULL, c->where,
                         "cache: %s must be a non-empty string (a path)", n);
            goto out;
        }
    }
    const struct ei_opt *dir = ei_opt_find(&g, "dir");
    const struct ei_opt *key = ei_opt_find(&g, "key_file");
    const struct ei_opt *age = ei_opt_find(&g, "max_age");
    if (dir == NULL || age == NULL) {
        ei_error_set(err, EI_BADCONFIG, 0, NULL, c->where,
                     "cache: %s is required%s", dir == NULL ? "dir" : "max_age",
                     dir == NULL ? " (the folder of the cache files)"
                                 : " (how old a cached value may be, such as "
                                   "\"24h\")");
        goto out;
    }
    c->max_age_ms = ei_config_duration(age, EI_MAX_AGE_MAX_MS);
    if (c->max_age_ms < EI_MAX_AGE_MIN_MS) {
        ei_error_set(err, EI_BADCONFIG, 0, NULL, c->where,
                     "cache: max_age must be a duration from 1s to 366d "
                     "(milliseconds, or a number with ms, s, m, h or d)");
        goto out;
    }
    c->dir = config_path(cfg, dir->str);
    c->key_file = key != NULL ? config_path(cfg, key->str) : NULL;
    if (c->dir == NULL || (key != NULL && c->key_file == NULL)) {
        nomem(err);
        goto out;
    }
    rc = 0;
out:
    ei_opt_clear(&g);
    return rc;
}

/* audit = { path = "..."; key_file = "..."; required = true; }; */
static int read_audit(struct ei_config *cfg, const config_setting_t *s,
                      struct ei_error *err)
{
    struct ei_audit_conf *a = &cfg->audit;
    a->required = true;
    struct ei_opt g;
    if (read_group(cfg, s, "audit = { path = ...; key_file = ...; };",
                   &a->where, &g, err) < 0)
        return -1;
    int rc = -1;
    for (size_t i = 0; i < g.kids_n; i++) {
        const struct ei_opt *o = &g.kids[i];
        char *w = where_of(cfg, o->line);
        const char *at = w != NULL ? w : a->where;
        bool path =
            strcmp(o->name, "path") == 0 || strcmp(o->name, "key_file") == 0;
        if (!path && strcmp(o->name, "required") != 0)
            ei_error_set(err, EI_BADCONFIG, 0, NULL, at,
                         "unknown audit setting '%s' (expected path, "
                         "key_file, required)",
                         o->name);
        else if (path && (o->type != EI_OPT_STRING || o->str[0] == '\0'))
            ei_error_set(err, EI_BADCONFIG, 0, NULL, at,
                         "audit: %s must be a non-empty string (a path)",
                         o->name);
        else if (!path && o->type != EI_OPT_BOOL)
            ei_error_set(err, EI_BADCONFIG, 0, NULL, at,
                         "audit: required must be true or false");
        free(w);
        if (err != NULL && err->status != EI_OK)
            goto out;
        if (!path)
            a->required = o->b;
    }
    const struct ei_opt *p = ei_opt_find(&g, "path");
    const struct ei_opt *key = ei_opt_find(&g, "key_file");
    a->path = p != NULL ? config_path(cfg, p->str) : NULL;
    a->key_file = key != NULL ? config_path(cfg, key->str) : NULL;
    if ((p != NULL && a->path == NULL) ||
        (key != NULL && a->key_file == NULL)) {
        nomem(err);
        goto out;
    }
    rc = 0;
out:
    ei_opt_clear(&g);
    return rc;
}

static int read_start_splay(struct ei_config *cfg, const config_setting_t *s,
                            struct ei_error *err)
{
    struct ei_opt o;
    if (opt_from_setting(s, &o) < 0) {
        ei_opt_clear(&o);
        return nomem(err), -1;
    }
    cfg->start_splay_ms = ei_config_duration(&o, EI_START_SPLAY_MAX_MS);
    ei_opt_clear(&o);
    if (cfg->start_splay_ms >= 0)
        return 0;
    char *w = where_of(cfg, (int)config_setting_source_line(s));
    ei_error_set(err, EI_BADCONFIG, 0, NULL, w,
                 "start_splay must be a duration from 0 to 1h (milliseconds, "
                 "or a number with ms, s, m or h)");
    free(w);
    return -1;
}

static int read_top(struct ei_config *cfg, config_t *lc, struct ei_error *err)
{
    config_setting_t *root = config_root_setting(lc);
    for (int i = 0; i < config_setting_length(root); i++) {
        const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
        if (!in_list(top_settings, config_setting_name(s))) {
            char *w = where_of(cfg, (int)config_setting_source_line(s));
            ei_error_set(err, EI_BADCONFIG, 0, NULL, w, "unknown setting '%s'",
                         config_setting_name(s));
            free(w);
            return -1;
        }
    }
    const config_setting_t *s;
    if ((s = config_setting_get_member(root, "environment")) != NULL) {
        if (config_setting_type(s) != CONFIG_TYPE_STRING) {
            char *w = where_of(cfg, (int)config_setting_source_line(s));
            ei_error_set(err, EI_BADCONFIG, 0, NULL, w,
                         "environment must be a string");
            free(w);
            return -1;
        }
        cfg->environment = strdup(config_setting_get_string(s));
        if (cfg->environment == NULL)
            return nomem(err), -1;
    }
    if ((s = config_setting_get_member(root, "environments")) != NULL) {
        if (read_strv(cfg, s, "environments", &cfg->environments, NULL, err) <
            0)
            return -1;
        for (char **e = cfg->environments; *e != NULL; e++) {
            if (!ei_config_env_valid(*e)) {
                char *w = where_of(cfg, (int)config_setting_source_line(s));
                ei_error_set(err, EI_BADCONFIG, 0, NULL, w,
                             "environments: '%s' is not a valid name", *e);
                free(w);
                return -1;
            }
        }
    }
    if ((s = config_setting_get_member(root, "require")) != NULL) {
        if (read_strv(cfg, s, "require", &cfg->schema.require,
                      &cfg->schema.require_n, err) < 0 ||
            check_keys(cfg, s, cfg->schema.require, "require", err) < 0)
            return -1;
        cfg->schema.require_where =
            where_of(cfg, (int)config_setting_source_line(s));
        if (cfg->schema.require_where == NULL)
            return nomem(err), -1;
    }
    if ((s = config_setting_get_member(root, "unset")) != NULL)
        if (read_strv(cfg, s, "unset", &cfg->unset, &cfg->unset_n, err) < 0 ||
            check_keys(cfg, s, cfg->unset, "unset", err) < 0)
            return -1;
    if ((s = config_setting_get_member(root, "provider_path")) != NULL)
        if (read_strv(cfg, s, "provider_path", &cfg->provider_path, NULL, err) <
            0)
            return -1;
    if ((s = config_setting_get_member(root, "max_value_size")) != NULL) {
        int t = config_setting_type(s);
        long long v = config_setting_get_int64(s);
        if ((t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) || v < 1 ||
            v > (long long)1 << 30) {
            char *w = where_of(cfg, (int)config_setting_source_line(s));
            ei_error_set(err, EI_BADCONFIG, 0, NULL, w,
                         "max_value_size must be an integer from 1 to "
                         "1073741824");
            free(w);
            return -1;
        }
        cfg->max_value_len = (size_t)v;
    }
    if ((s = config_setting_get_member(root, "schema")) != NULL &&
        read_schema(cfg, s, err) < 0)
        return -1;
    if ((s = config_setting_get_member(root, "cache")) != NULL &&
        read_cache(cfg, s, err) < 0)
        return -1;
    if ((s = config_setting_get_member(root, "audit")) != NULL &&
        read_audit(cfg, s, err) < 0)
        return -1;
    if ((s = config_setting_get_member(root, "start_splay")) != NULL &&
        read_start_splay(cfg, s, err) < 0)
        return -1;
    if ((s = config_setting_get_member(root, "layers")) != NULL &&
        read_layers(cfg, s, err) < 0)
        return -1;
    return 0;
}

/* An @include target of envinject.conf: a regular file, opened without
   blocking, as the file itself. */
static enum ei_status read_included(void *ctx, const char *path,
                                    struct ei_buf *out, struct ei_error *err)
{
    (void)ctx;
    return ei_readfile(path, 0, CONFIG_FILE_MAX, out, err);
}

static void release_included(void *ctx, struct ei_buf *buf)
{
    (void)ctx;
    ei_readfile_free(buf);
}

static int read_file(struct ei_config *cfg, struct ei_error *err)
{
    /* ei_readfile takes regular files only: libconfig's own fopen of a
       FIFO or a pipe given to -c would wait for a writer forever */
    /* kept until the configuration is freed, for ei_config_sha256 */
    struct ei_buf *buf = &cfg->text;
    if (ei_readfile(cfg->path, 0, CONFIG_FILE_MAX, buf, err) != EI_OK)
        return -1;
    char *text = NULL;
    size_t text_len = 0;
    struct ei_error serr = {0};
    /* libconfig opens included files itself: read_file's libconfig call
       below leaves include_dir unset and runs inside cfg->dir, so a
       relative name is taken in that folder, an absolute one as it is */
    const struct ei_cfgscan_includes inc = {.dir = cfg->dir,
                                            .absolute_in_dir = false,
                                            .max_len = CONFIG_FILE_MAX,
                                            .read = read_included,
                                            .release = release_included};
    enum ei_status scanned = ei_cfgscan_with_includes(
        buf->data, buf->len, cfg->path, &inc, &text, &text_len, &serr);
    if (scanned == EI_NOMEM)
        return nomem(err), -1;
    if (scanned != EI_OK) {
        if (err != NULL && err->status == EI_OK)
            *err = serr;
        return -1;
    }

    config_t lc;
    config_init(&lc);
    /*
     * @include resolves against the file's folder.  libconfig 1.5 puts
     * include_dir in front of every @include, absolute ones too, so read
     * from inside the folder instead (before any thread exists).
     */
    int here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (here < 0 || chdir(cfg->dir) != 0) {
        int e = errno;
        if (here >= 0)
            close(here);
        config_destroy(&lc);
        ei_cfgscan_free(text, text_len);
        return ei_error_set(err, EI_IOERROR, e, NULL, cfg->dir,
                            "cannot enter the folder of the configuration "
                            "file"),
               -1;
    }
    int ok = config_read_string(&lc, text);
    int saved = errno;
    if (fchdir(here) != 0)
        saved = errno;
    close(here);
    errno = saved;
    ei_cfgscan_free(text, text_len);
    if (ok != CONFIG_TRUE) {
        const char *file = config_error_file(&lc);
        char *w = ei_opt_where(file != NULL ? file : cfg->path,
                               config_error_line(&lc));
        if (w == NULL)
            nomem(err);
        else
            ei_error_set(err, EI_BADDATA, 0, NULL, w, "%s",
                         config_error_text(&lc));
        free(w);
        config_destroy(&lc);
        return -1;
    }
    int rc = read_top(cfg, &lc, err);
    config_destroy(&lc);
    return rc;
}

static char *dir_of(const char *path, const char *cwd)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return strdup(cwd);
    if (slash == path)
        return strdup("/");
    size_t n = (size_t)(slash - path);
    if (path[0] == '/') {
        char *d = malloc(n + 1);
        if (d != NULL) {
            memcpy(d, path, n);
            d[n] = '\0';
        }
        return d;
    }
    size_t len = strlen(cwd) + 1 + n + 1;
    char *d = malloc(len);
    if (d != NULL)
        snprintf(d, len, "%s/%.*s", cwd, (int)n, path);
    return d;
}

struct ei_config *ei_config_load(const struct ei_config_args *args,
                                 struct ei_error *err)
{
    struct ei_config *cfg = calloc(1, sizeof(*cfg));
    if (cfg == NULL)
        return nomem(err), NULL;
    cfg->max_value_len = EI_MAX_VALUE_LEN_DEFAULT;
    /* on the heap, not the stack: this frame is under the parser's, and
       each page deeper is one more fault at start-up */
    char *buf = malloc(PATH_MAX);
    if (buf == NULL)
        goto oom;
    if (getcwd(buf, PATH_MAX) == NULL) {
        ei_error_set(err, EI_OSERR, errno, NULL, NULL,
                     "cannot get the working directory");
        free(buf);
        goto fail;
    }
    cfg->cwd = strdup(buf);
    free(buf);
    if (cfg->cwd == NULL)
        goto oom;

    const char *path = args->path != NULL ? args->path : DEFAULT_CONFIG;
    bool use_file = true;
    if (args->path == NULL && args->layer_specs_n > 0 &&
        access(DEFAULT_CONFIG, F_OK) != 0)
        use_file = false; /* --layer alone needs no configuration file */
    if (use_file) {
        cfg->path = strdup(path);
        cfg->dir = dir_of(path, cfg->cwd);
        if (cfg->path == NULL || cfg->dir == NULL)
            goto oom;
        if (read_file(cfg, err) < 0) {
            if (err != NULL && err->status == EI_NOTFOUND &&
                !args->path_given) {
                err->errnum = 0;
                snprintf(err->text, sizeof(err->text),
                         "no configuration: %s not found and no --layer "
                         "given (see envinject init)",
                         DEFAULT_CONFIG);
            }
            goto fail;
        }
    }
    for (size_t i = 0; i < args->layer_specs_n; i++)
        if (read_spec(cfg, args->layer_specs[i], i, err) < 0)
            goto fail;
    if (!use_file && add_implicit_env(cfg, args->overload, err) < 0)
        goto fail;
    if (use_file && args->overload)
        ei_diag_msg(EI_LOG_WARN, NULL, NULL,
                    "--overload has no effect with a configuration file "
                    "(its list of layers is the whole order)");

    if (choose_environment(cfg, args->environment, err) < 0)
        goto fail;

    /* ${env}, then `when`, then names */
    size_t kept = 0;
    for (size_t i = 0; i < cfg->layers_n; i++) {
        struct ei_layer_conf *l = &cfg->layers[i];
        bool keep;
        if (layer_applies(l, cfg->environment, &keep, err) < 0 ||
            (keep &&
             (subst_opt(&l->opts, cfg->environment, l->where, err) < 0 ||
              subst_env(&l->arg, cfg->environment, l->where, err) < 0)))
            goto fail;
        if (!keep) {
            free(l->provider);
            free(l->arg);
            free(l->where);
            ei_opt_clear(&l->opts);
            memset(l, 0, sizeof(*l));
            continue;
        }
        if (kept != i) {
            cfg->layers[kept] = *l;
            memset(l, 0, sizeof(*l));
        }
        kept++;
    }
    cfg->layers_n = kept;
    if (name_layers(cfg, err) < 0)
        goto fail;
    if (ei_schema_prepare(&cfg->schema, err) < 0)
        goto fail;
    return cfg;
oom:
    nomem(err);
fail:
    ei_config_free(cfg);
    return NULL;
}
