/* SPDX-License-Identifier: MIT */
/* envinject.conf: libconfig loading, --layer specs, the choice of the
   environment, ${env} substitution, and the option tree of each layer. */
#ifndef EI_CONFIG_H
#define EI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "envinject/provider.h"
#include "opt.h"
#include "schema.h"

/* One configured layer, before its provider is looked up. */
struct ei_layer_conf {
    char *name;
    char *provider;
    char *arg;          /* ARG of --layer PROVIDER:ARG, or NULL */
    struct ei_opt opts; /* a group holding every option */
    char *where;        /* "envinject.conf:12" or "--layer #2" */
    const char *dir;    /* base of relative paths (cfg->dir or cwd) */
    bool adhoc;         /* from --layer */
    bool implicit;      /* the process environment added in ad-hoc use */
    bool references_only; /* made for references: never fetched */
};

/* The cache group: where a layer's last known good values are kept. */
struct ei_cache_conf {
    char *dir;          /* absolute; NULL when there is no cache group */
    char *key_file;     /* absolute, or NULL */
    long long max_age_ms;
    char *where;        /* "envinject.conf:12", for messages */
};

/* The audit group: where the record of every start goes, and its key. */
struct ei_audit_conf {
    char *path;     /* absolute; NULL when not given */
    char *key_file; /* absolute, or NULL */
    bool required;  /* a record not written stops the start (default) */
    char *where;    /* "envinject.conf:12"; NULL when there is no group */
};

struct ei_config {
    char *path;          /* the configuration file, NULL when none */
    char *dir;           /* relative paths are relative to this */
    char *environment;   /* the chosen environment, or NULL */
    char **environments; /* allowed ones, NULL-terminated, or NULL */
    struct ei_layer_conf *layers;
    size_t layers_n;
    struct ei_schema schema;
    char **unset; /* NULL-terminated */
    size_t unset_n;
    char **provider_path; /* NULL-terminated */
    size_t max_value_len;
    char *cwd; /* the working directory, base of --layer paths */
    struct ei_cache_conf cache;
    struct ei_audit_conf audit;
    struct ei_buf text;       /* the configuration file as read (data NULL
                                 without one), for ei_config_sha256 */
    long long start_splay_ms; /* run: random delay before the first
                                 resolution, 0 for none */
};

/* The longest start_splay, and the range of the cache's max_age (ms). */
#define EI_START_SPLAY_MAX_MS (3600LL * 1000)
#define EI_MAX_AGE_MIN_MS     1000LL
#define EI_MAX_AGE_MAX_MS     (366LL * 86400 * 1000)

/*
 * A duration of envinject.conf: an integer in milliseconds, or a string
 * of digits followed by a unit: ms, s, m, h or d ("90s", "24h").  The
 * value in ms, or -1 when malformed or above max_ms.
 */
long long ei_config_duration(const struct ei_opt *o, long long max_ms);

/* The largest value accepted unless max_value_size says otherwise. */
#define EI_MAX_VALUE_LEN_DEFAULT (1024 * 1024)

struct ei_config_args {
    const char *path;               /* -c, $ENVINJECT_CONFIG, or NULL */
    bool path_given;                /* path came from -c or the environment: a
                               missing file is an error */
    const char *environment;        /* -e or $ENVINJECT_ENV, or NULL */
    const char *const *layer_specs; /* --layer, in order */
    size_t layer_specs_n;
    bool overload;                  /* --overload: the implicit env layer
                                       goes lowest */
};

/*
 * Load the configuration: read the file (./envinject.conf when args->path
 * is NULL, skipped if it does not exist and --layer was given), append the
 * --layer specs (without a file and without an env layer among them, the
 * process environment is added as the layer "environment": highest, or
 * lowest with args->overload), pick the environment, check it against environments,
 * substitute ${env} in every string option, drop layers whose `when`
 * excludes it, and parse require, schema, unset.  No I/O other than
 * reading the file.  Returns a new config or NULL with err (EI_NOTFOUND /
 * EI_IOERROR for the file, EI_BADDATA for syntax, EI_BADCONFIG for
 * content, EI_USAGE for a bad --layer spec).
 */
struct ei_config *ei_config_load(const struct ei_config_args *args,
                                 struct ei_error *err);
void ei_config_free(struct ei_config *cfg);

/* The length of ei_config_sha256's text, with its NUL. */
#define EI_CONFIG_SHA256_HEX 65

/*
 * The SHA-256 of the configuration file, of the bytes ei_config_load read,
 * in lowercase hex into hex; false, hex "", when there was no file.  Only
 * an audit record asks for it, so a start without one does not pay for
 * it (some 15 K instructions for a 200-byte file).
 */
bool ei_config_sha256(const struct ei_config *cfg,
                      char hex[EI_CONFIG_SHA256_HEX]);

/* Whether an environment name is acceptable: [A-Za-z0-9_.-]+, not "." or
   "..", at most 64 bytes (it is substituted into paths). */
bool ei_config_env_valid(const char *name);


#endif
