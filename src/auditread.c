/* SPDX-License-Identifier: MIT */
/* Audit record files (auditread.h): JSON Lines parsed with jansson, each
   record checked field by field. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "auditread.h"
#include "diag.h"
#include "envset.h"
#include "readfile.h"

#define READ_CHUNK 65536

/* Why a line is not a record; the first failure wins. */
struct why {
    char text[EI_ERR_TEXT_LEN];
    bool set;
};

static void why_set(struct why *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void why_set(struct why *w, const char *fmt, ...)
{
    if (w->set)
        return;
    w->set = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->text, sizeof(w->text), fmt, ap);
    va_end(ap);
}

/* Whether s is exactly n lowercase hex digits: the case matters, since
   hashes are compared as text. */
static bool hex_n(const char *s, size_t n)
{
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* Member field of o as a string, shown as "shown" in messages: NULL (and
   why) when it is missing or of another type; null_ok takes a JSON null
   (then "" is returned). */
static const char *str_at(json_t *o, const char *field, const char *shown,
                          bool null_ok, struct why *w)
{
    json_t *v = json_object_get(o, field);
    if (v == NULL) {
        why_set(w, "no \"%s\"", shown);
        return NULL;
    }
    if (null_ok && json_is_null(v))
        return "";
    if (!json_is_string(v)) {
        why_set(w, "\"%s\" is not a string%s", shown,
                null_ok ? " or null" : "");
        return NULL;
    }
    return json_string_value(v);
}

static const char *member_str(json_t *o, const char *field, bool null_ok,
                              struct why *w)
{
    return str_at(o, field, field, null_ok, w);
}

/* The same for a member of the i-th object of an array: shown as
   "array[i].field". */
static const char *item_str(json_t *o, const char *array, size_t i,
                            const char *field, bool null_ok, struct why *w)
{
    char path[96];
    snprintf(path, sizeof(path), "%s[%zu].%s", array, i, field);
    return str_at(o, field, path, null_ok, w);
}

static json_t *member_array(json_t *o, const char *field, struct why *w)
{
    json_t *v = json_object_get(o, field);
    if (v == NULL)
        why_set(w, "no \"%s\"", field);
    else if (!json_is_array(v))
        why_set(w, "\"%s\" is not an array", field);
    else
        return v;
    return NULL;
}

static void record_clear(struct ei_audit_record *r)
{
    for (size_t i = 0; i < r->keys_n; i++) {
        free(r->keys[i].name);
        free(r->keys[i].layer);
    }
    free(r->keys);
    for (size_t i = 0; r->unset != NULL && r->unset[i] != NULL; i++)
        free(r->unset[i]);
    free(r->unset);
    free(r->environment);
    free(r->time);
    memset(r, 0, sizeof(*r));
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const struct ei_audit_entry *)a)->name,
                  ((const struct ei_audit_entry *)b)->name);
}

/* The layers: each an object with a name, a provider and a revision
   (string or null); only checked, diff --against does not use them. */
static void check_layers(json_t *root, struct why *w)
{
    json_t *layers = member_array(root, "layers", w);
    size_t i;
    json_t *l;
    json_array_foreach(layers, i, l)
    {
        if (!json_is_object(l)) {
            why_set(w, "\"layers[%zu]\" is not an object", i);
            return;
        }
        item_str(l, "layers", i, "name", false, w);
        item_str(l, "layers", i, "provider", false, w);
        item_str(l, "layers", i, "revision", true, w);
    }
}

/* The keys into r (sorted, each name once); -1 on a bad key (why) or
   when memory runs out (why not set). */
static int read_keys(json_t *root, struct ei_audit_record *r, struct why *w)
{
    json_t *keys = member_array(root, "keys", w);
    if (keys == NULL)
        return -1;
    size_t n = json_array_size(keys);
    r->keys = calloc(n + 1, sizeof(*r->keys));
    if (r->keys == NULL)
        return -1;
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k)
    {
        if (!json_is_object(k)) {
            why_set(w, "\"keys[%zu]\" is not an object", i);
            return -1;
        }
        const char *name = item_str(k, "keys", i, "name", false, w);
        const char *layer = item_str(k, "keys", i, "layer", false, w);
        const char *hash = item_str(k, "keys", i, "hash", false, w);
        if (name == NULL || layer == NULL || hash == NULL)
            return -1;
        if (!ei_key_valid(name, strlen(name))) {
            why_set(w, "\"keys[%zu].name\" is not a key name", i);
            return -1;
        }
        if (!hex_n(hash, EI_AUDIT_HASH_HEX - 1)) {
            why_set(w, "\"keys[%zu].hash\" is not 64 lowercase hex digits", i);
            return -1;
        }
        struct ei_audit_entry *e = &r->keys[r->keys_n];
        e->name = strdup(name);
        e->layer = strdup(layer);
        memcpy(e->hash, hash, EI_AUDIT_HASH_HEX);
        r->keys_n++;
        if (e->name == NULL || e->layer == NULL)
            return -1;
    }
    qsort(r->keys, r->keys_n, sizeof(*r->keys), entry_cmp);
    for (i = 1; i < r->keys_n; i++)
        if (strcmp(r->keys[i - 1].name, r->keys[i].name) == 0) {
            /* a valid key name: safe to say */
            why_set(w, "key %s appears twice", r->keys[i].name);
            return -1;
        }
    return 0;
}

/* The optional "unset": the key names run -u took out (a record without
   it took out none). */
static int read_unset(json_t *root, struct ei_audit_record *r, struct why *w)
{
    json_t *u = json_object_get(root, "unset");
    size_t n = json_is_array(u) ? json_array_size(u) : 0;
    if (u != NULL && !json_is_array(u)) {
        why_set(w, "\"%s\" is not an array", "unset");
        return -1;
    }
    r->unset = calloc(n + 1, sizeof(*r->unset));
    if (r->unset == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *name = json_string_value(json_array_get(u, i));
        if (name == NULL || !ei_key_valid(name, strlen(name))) {
            why_set(w, "\"unset[%zu]\" is not a key name", i);
            return -1;
        }
        if ((r->unset[i] = strdup(name)) == NULL)
            return -1;
    }
    return 0;
}

/* One line (len bytes) into r: 0, or -1 with why set (malformed) or not
   (out of memory). */
static int parse_line(const char *text, size_t len, struct ei_audit_record *r,
                      struct why *w)
{
    /* jansson stops reading at a NUL byte: what follows would go unseen */
    if (memchr(text, '\0', len) != NULL) {
        why_set(w, "a NUL byte");
        return -1;
    }
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        /* jansson's own text may quote the line: only the column */
        why_set(w, "not JSON (column %d)", jerr.column);
        return -1;
    }
    int rc = -1;
    if (!json_is_object(root)) {
        why_set(w, "not a JSON object");
        goto out;
    }
    json_t *v = json_object_get(root, "version");
    if (v == NULL) {
        why_set(w, "no \"%s\"", "version");
        goto out;
    }
    if (!json_is_integer(v) ||
        json_integer_value(v) != EI_AUDIT_RECORD_VERSION) {
        why_set(w, "\"%s\" is not 1 (this envinject reads version 1 records)",
                "version");
        goto out;
    }
    const char *time = member_str(root, "time", false, w);
    const char *env = member_str(root, "environment", false, w);
    member_str(root, "host", false, w);
    member_str(root, "program", true, w);
    const char *conf = member_str(root, "config_sha256", true, w);
    if (conf != NULL && conf[0] != '\0' && !hex_n(conf, 64))
        why_set(w, "\"%s\" is not 64 lowercase hex digits or null",
                "config_sha256");
    const char *id = member_str(root, "key_id", false, w);
    if (id != NULL && !hex_n(id, EI_AUDIT_ID_HEX - 1))
        why_set(w, "\"%s\" is not 16 lowercase hex digits", "key_id");
    if (time != NULL && time[0] == '\0')
        why_set(w, "\"%s\" is empty", "time");
    check_layers(root, w);
    if (w->set)
        goto out;
    memcpy(r->key_id, id, EI_AUDIT_ID_HEX);
    r->time = strdup(time);
    r->environment = strdup(env);
    if (r->time == NULL || r->environment == NULL)
        goto out;
    rc = read_keys(root, r, w);
    if (rc == 0)
        rc = read_unset(root, r, w);
out:
    json_decref(root);
    return rc;
}

struct ei_audit_record *ei_audit_record_parse(const char *text, size_t len,
                                              const char *name,
                                              struct ei_error *err)
{
    struct ei_audit_record *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory");
        return NULL;
    }
    /* JSON Lines: the last line separator is optional */
    if (len > 0 && text[len - 1] == '\n')
        len--;
    if (len == 0) {
        ei_error_set(err, EI_BADDATA, 0, NULL, name,
                     "no audit record (the file is empty)");
        free(r);
        return NULL;
    }
    /* the last line is the record: an audit log's earlier lines are not
       read, so one torn by a full disk does not spoil the ones after it */
    size_t line = 1, at = 0;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n') {
            line++;
            at = i + 1;
        }
    struct why w = {{0}, false};
    int rc = -1;
    if (len == at || (len == at + 1 && text[at] == '\r'))
        why_set(&w, "empty line");
    else
        rc = parse_line(text + at, len - at, r, &w);
    if (rc < 0) {
        char where[EI_ERR_LOCATOR_LEN];
        snprintf(where, sizeof(where), "%s:%zu", name, line);
        if (w.set)
            ei_error_set(err, EI_BADDATA, 0, NULL, where,
                         "not an audit record: %s", w.text);
        else
            ei_error_set(err, EI_NOMEM, ENOMEM, NULL, where, "out of memory");
        ei_audit_record_free(r);
        return NULL;
    }
    r->line = line;
    return r;
}

/* All of standard input, up to EI_AUDIT_FILE_MAX bytes (one more is
   read to tell a file of that size from a larger one). */
static int read_stdin(struct ei_buf *buf, struct ei_error *err)
{
    memset(buf, 0, sizeof(*buf));
    size_t cap = 0;
    for (;;) {
        if (buf->len == cap) {
            if (cap > EI_AUDIT_FILE_MAX)
                return ei_error_set(err, EI_BADDATA, 0, NULL,
                                    EI_AUDIT_STDIN_NAME,
                                    "larger than %zu bytes", EI_AUDIT_FILE_MAX),
                       -1;
            size_t ncap = cap == 0 ? READ_CHUNK : cap * 2;
            if (ncap > EI_AUDIT_FILE_MAX + 1)
                ncap = EI_AUDIT_FILE_MAX + 1;
            char *nd = realloc(buf->data, ncap + 1);
            if (nd == NULL)
                return ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL,
                                    "out of memory"),
                       -1;
            buf->data = nd;
            cap = ncap;
        }
        ssize_t n = read(STDIN_FILENO, buf->data + buf->len, cap - buf->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return ei_error_set(err, EI_IOERROR, errno, NULL,
                                EI_AUDIT_STDIN_NAME, "cannot read"),
                   -1;
        if (n == 0)
            break;
        buf->len += (size_t)n;
    }
    if (buf->len > EI_AUDIT_FILE_MAX)
        return ei_error_set(err, EI_BADDATA, 0, NULL, EI_AUDIT_STDIN_NAME,
                            "larger than %zu bytes", EI_AUDIT_FILE_MAX),
               -1;
    if (buf->data != NULL)
        buf->data[buf->len] = '\0';
    return 0;
}

struct ei_audit_record *ei_audit_record_read(const char *path,
                                             struct ei_error *err)
{
    struct ei_buf buf = {0};
    bool from_stdin = strcmp(path, "-") == 0;
    if (from_stdin) {
        if (read_stdin(&buf, err) < 0) {
            free(buf.data);
            return NULL;
        }
    } else if (ei_readfile(path, 0, EI_AUDIT_FILE_MAX, &buf, err) != EI_OK) {
        return NULL;
    }
    struct ei_audit_record *r = ei_audit_record_parse(
        buf.data, buf.len, from_stdin ? EI_AUDIT_STDIN_NAME : path, err);
    if (from_stdin)
        free(buf.data);
    else
        ei_readfile_free(&buf);
    return r;
}

const struct ei_audit_entry *
ei_audit_record_get(const struct ei_audit_record *r, const char *name)
{
    struct ei_audit_entry probe = {.name = (char *)name};
    return bsearch(&probe, r->keys, r->keys_n, sizeof(*r->keys), entry_cmp);
}

void ei_audit_record_free(struct ei_audit_record *r)
{
    if (r == NULL)
        return;
    record_clear(r);
    free(r);
}
