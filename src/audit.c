/* SPDX-License-Identifier: MIT */
/* The audit record (audit.h): its key's subkeys and the values' keyed
   hashes. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "audit.h"
#include "config.h"
#include "diag.h"
#include "envset.h"
#include "execprog.h"
#include "masterkey.h"
#include "resolve.h"
#include "secmem.h"

/* the record's format version */
#define RECORD_VERSION 1
#define RECORD_FLAGS   (JSON_COMPACT | JSON_PRESERVE_ORDER)

/* the subkeys' context (crypto_kdf_CONTEXTBYTES characters) and ids */
#define KDF_CONTEXT  "eiaudit1"
#define SUBKEY_VALUE 1
#define SUBKEY_ID    2
#define SUBKEY_REV   3
#define KEY_ID_LEN   8
#define KEY_ID_TEXT  "envinject audit key id"

struct ei_audit_key {
    unsigned char value[crypto_generichash_KEYBYTES];
    unsigned char id[crypto_generichash_KEYBYTES];
    unsigned char rev[crypto_generichash_KEYBYTES];
};

struct ei_audit_key *ei_audit_key_read(const char *key_file, const char *where,
                                       const char *const *envp,
                                       struct ei_error *err)
{
    unsigned char *master = ei_sodium_malloc(EI_MASTER_KEY_LEN);
    struct ei_audit_key *k = ei_sodium_malloc(sizeof(*k));
    if (master == NULL || k == NULL) {
        ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory");
        goto fail;
    }
    if (ei_master_key_read("audit", EI_AUDIT_KEY_ENV, key_file, where, envp,
                           master, err) != 0)
        goto fail;
    /* one subkey per use: the id says nothing about the values' hashes */
    crypto_kdf_derive_from_key(k->value, sizeof(k->value), SUBKEY_VALUE,
                               KDF_CONTEXT, master);
    crypto_kdf_derive_from_key(k->id, sizeof(k->id), SUBKEY_ID, KDF_CONTEXT,
                               master);
    crypto_kdf_derive_from_key(k->rev, sizeof(k->rev), SUBKEY_REV, KDF_CONTEXT,
                               master);
    sodium_free(master);
    return k;
fail:
    if (master != NULL)
        sodium_free(master);
    if (k != NULL)
        sodium_free(k);
    return NULL;
}

void ei_audit_key_free(struct ei_audit_key *k)
{
    if (k != NULL)
        sodium_free(k);
}

void ei_audit_key_id(const struct ei_audit_key *k, char out[EI_AUDIT_ID_HEX])
{
    unsigned char id[KEY_ID_LEN];
    crypto_generichash(id, sizeof(id), (const unsigned char *)KEY_ID_TEXT,
                       strlen(KEY_ID_TEXT), k->id, sizeof(k->id));
    sodium_bin2hex(out, EI_AUDIT_ID_HEX, id, sizeof(id));
}

void ei_audit_value_hash(const struct ei_audit_key *k, const char *name,
                         const char *value, size_t len,
                         char out[EI_AUDIT_HASH_HEX])
{
    unsigned char h[32];
    crypto_generichash_state st;
    crypto_generichash_init(&st, k->value, sizeof(k->value), sizeof(h));
    crypto_generichash_update(&st, (const unsigned char *)name,
                              strlen(name) + 1); /* with its NUL */
    if (len > 0)
        crypto_generichash_update(&st, (const unsigned char *)value, len);
    crypto_generichash_final(&st, h, sizeof(h));
    sodium_memzero(&st, sizeof(st));
    sodium_bin2hex(out, EI_AUDIT_HASH_HEX, h, sizeof(h));
}

/* ---- the record ---- */

struct ei_audit {
    struct ei_audit_key *key;
    char *path; /* NULL: print --format audit */
    bool required;
};

int ei_audit_open(const struct ei_config *cfg, const char *path, bool need_path,
                  const char *const *envp, struct ei_audit **out,
                  struct ei_error *err)
{
    const struct ei_audit_conf *c = &cfg->audit;
    *out = NULL;
    if (need_path && path == NULL && c->where == NULL)
        return 0;
    if (need_path && path == NULL && c->path == NULL)
        return ei_error_set(err, EI_BADCONFIG, 0, NULL, c->where,
                            "audit: path is required (or run --audit PATH)"),
               -1;
    struct ei_audit *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory"),
               -1;
    a->required = c->where == NULL || c->required;
    const char *p = path != NULL ? path : c->path;
    if (p != NULL && (a->path = strdup(p)) == NULL) {
        ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory");
        ei_audit_free(a);
        return -1;
    }
    a->key = ei_audit_key_read(c->key_file, c->where, envp, err);
    if (a->key == NULL) {
        ei_audit_free(a);
        return -1;
    }
    *out = a;
    return 0;
}

void ei_audit_free(struct ei_audit *a)
{
    if (a == NULL)
        return;
    ei_audit_key_free(a->key);
    free(a->path);
    free(a);
}

/* A string member, or null for NULL; a text that is not UTF-8 (a host
   name could be) with every byte outside printable ASCII as '?'.  -1
   when out of memory. */
static int set_text(json_t *o, const char *name, const char *text)
{
    json_t *v = text != NULL ? json_string(text) : json_null();
    if (v == NULL && text != NULL) {
        char *clean = strdup(text);
        for (char *c = clean; c != NULL && *c != '\0'; c++)
            if (*c < 0x20 || *c > 0x7e)
                *c = '?';
        v = clean != NULL ? json_string(clean) : NULL;
        free(clean);
    }
    return json_object_set_new(o, name, v);
}

/*
 * Whether a revision is derived from the content it names: a SHA-256 of
 * the bytes read, or an ETag (often a hash of the body).  Of a secret
 * layer, such a revision would let someone with the record alone test a
 * guess of a whole secret file: it is keyed instead.  Numbers and version
 * ids that a service assigns say nothing of the content and stay.
 */
static bool content_revision(const char *rev)
{
    if (strncmp(rev, "cached:", 7) == 0)
        rev += 7;
    return strncmp(rev, "sha256:", 7) == 0 || rev[0] == '"' ||
           strncmp(rev, "W/\"", 3) == 0;
}

/* "keyed:" and 64 hex digits of the revision text's keyed BLAKE2b, after
   the "cached:" of a layer served from the cache, so that a cached
   revision still reads as the fresh one behind "cached:". */
#define KEYED_REV_MAX (7 + 6 + EI_AUDIT_HASH_HEX)
static void keyed_revision(const struct ei_audit_key *k, const char *rev,
                           char out[KEYED_REV_MAX])
{
    char *p = out;
    if (strncmp(rev, "cached:", 7) == 0) {
        memcpy(p, "cached:", 7);
        p += 7;
        rev += 7;
    }
    unsigned char h[32];
    crypto_generichash(h, sizeof(h), (const unsigned char *)rev, strlen(rev),
                       k->rev, sizeof(k->rev));
    memcpy(p, "keyed:", 6);
    sodium_bin2hex(p + 6, EI_AUDIT_HASH_HEX, h, sizeof(h));
}

static json_t *record_layers(const struct ei_audit *au,
                             const struct ei_resolution *r)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < r->layers_n; i++) {
        const struct ei_layer *l = &r->layers[i];
        const char *rev =
            l->revision[0] != '\0' && !l->skipped ? l->revision : NULL;
        char keyed[KEYED_REV_MAX];
        if (rev != NULL && l->opts.secret && content_revision(rev)) {
            keyed_revision(au->key, rev, keyed);
            rev = keyed;
        }
        json_t *o = json_object();
        if (o == NULL || json_array_append_new(a, o) < 0 ||
            set_text(o, "name", l->name) < 0 ||
            set_text(o, "provider", l->prov->name) < 0 ||
            set_text(o, "revision", rev) < 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *record_keys(const struct ei_audit *au,
                           const struct ei_resolution *r,
                           const char *const *unset)
{
    size_t n = 0;
    struct ei_exec_filter *f = ei_exec_filter_new(r, unset);
    struct ei_entry **v = f != NULL ? ei_envset_sorted(r->final, &n) : NULL;
    json_t *a = v != NULL ? json_array() : NULL;
    for (size_t i = 0; a != NULL && i < n; i++) {
        const struct ei_entry *e = v[i];
        /* the keys the program gets: not those run takes out */
        int gone = ei_exec_filter_removes(f, e->key);
        if (gone != 0) {
            if (gone < 0) {
                json_decref(a);
                a = NULL;
            }
            continue;
        }
        char hash[EI_AUDIT_HASH_HEX];
        ei_audit_value_hash(au->key, e->key, e->value != NULL ? e->value : "",
                            e->value != NULL ? e->value_len : 0, hash);
        json_t *o = json_object();
        if (o == NULL || json_array_append_new(a, o) < 0 ||
            set_text(o, "name", e->key) < 0 ||
            set_text(o, "layer", ei_resolution_layer_name(r, e->layer)) < 0 ||
            set_text(o, "hash", hash) < 0) {
            json_decref(a);
            a = NULL;
        }
    }
    free(v);
    ei_exec_filter_free(f);
    return a;
}

/* The keys the command line unset (run -u): diff --against leaves them
   out of the environment it compares, as the start left them out. */
static json_t *record_unset(const char *const *unset)
{
    json_t *a = json_array();
    for (; a != NULL && unset != NULL && *unset != NULL; unset++)
        if (json_array_append_new(a, json_string(*unset)) < 0) {
            json_decref(a);
            a = NULL;
        }
    return a;
}

char *ei_audit_record(const struct ei_audit *a, const struct ei_resolution *r,
                      const char *program, const char *const *unset,
                      struct ei_error *err)
{
    char when[32] = "";
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm) != NULL)
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    char host[HOST_NAME_MAX + 1] = "";
    if (gethostname(host, sizeof(host)) < 0)
        host[0] = '\0';
    host[sizeof(host) - 1] = '\0';
    char id[EI_AUDIT_ID_HEX];
    ei_audit_key_id(a->key, id);
    const struct ei_config *cfg = r->cfg;
    char sha256[EI_CONFIG_SHA256_HEX];
    bool has_file = ei_config_sha256(cfg, sha256);
    json_t *o = json_object();
    char *line = NULL;
    if (o == NULL ||
        json_object_set_new(o, "version", json_integer(RECORD_VERSION)) < 0 ||
        set_text(o, "time", when) < 0 ||
        set_text(o, "environment",
                 cfg->environment != NULL ? cfg->environment : "") < 0 ||
        set_text(o, "host", host) < 0 || set_text(o, "program", program) < 0 ||
        set_text(o, "config_sha256", has_file ? sha256 : NULL) < 0 ||
        set_text(o, "key_id", id) < 0 ||
        json_object_set_new(o, "layers", record_layers(a, r)) < 0 ||
        json_object_set_new(o, "keys", record_keys(a, r, unset)) < 0 ||
        json_object_set_new(o, "unset", record_unset(unset)) < 0)
        goto out;
    /* into a buffer of our own: jansson's allocator is the core's */
    size_t n = json_dumpb(o, NULL, 0, RECORD_FLAGS);
    line = n > 0 ? malloc(n + 2) : NULL;
    if (line != NULL && json_dumpb(o, line, n, RECORD_FLAGS) == n) {
        memcpy(line + n, "\n", 2);
    } else {
        free(line);
        line = NULL;
    }
out:
    json_decref(o);
    if (line == NULL)
        ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL,
                     "out of memory making the audit record");
    return line;
}

int ei_audit_append(const struct ei_audit *a, const char *line, bool restart,
                    struct ei_error *err)
{
    size_t len = strlen(line);
    /* read access too, to see the file's last byte; a file that may only
       be written is appended to as it is */
    int fd = open(a->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
                  0600);
    if (fd < 0 && errno == EACCES)
        fd = open(a->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
                  0600);
    const char *what = "cannot open the audit record";
    ssize_t w = -1;
    int errnum = 0;
    char *torn = NULL;
    if (fd >= 0) {
        /* a line left without its newline (a write cut short by a full
           disk) gets one first, in the same write, so that this record
           starts a line of its own */
        struct stat st;
        char last = '\n';
        if (fstat(fd, &st) == 0 && st.st_size > 0 &&
            pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n' &&
            (torn = malloc(len + 2)) != NULL) {
            torn[0] = '\n';
            memcpy(torn + 1, line, len + 1);
            line = torn;
            len++;
        }
        /* one write: records of runs sharing the file never interleave */
        w = write(fd, line, len);
        errnum = w < 0 ? errno : ENOSPC; /* short: the disk is full */
        what = "cannot write the audit record";
        if (close(fd) < 0 && w == (ssize_t)len) {
            errnum = errno;
            w = -1;
        }
        free(torn);
    } else {
        errnum = errno;
    }
    if (w == (ssize_t)len)
        return 0;
    struct ei_error e = {0};
    ei_error_set(&e, EI_CANTCREAT, errnum, NULL, a->path, "%s%s", what,
                 !a->required ? " (audit.required = false: started anyway)"
                 : restart    ? "; the program is not restarted"
                              : "; the program is not started");
    if (a->required) {
        if (err != NULL)
            *err = e;
        return -1;
    }
    char text[EI_ERR_TEXT_LEN * 2];
    ei_error_describe(&e, text, sizeof(text));
    ei_diag_msg(EI_LOG_WARN, NULL, a->path, "%s", text);
    return 1;
}
