/* SPDX-License-Identifier: MIT */
/* Writers for print, explain, check and diff: the one place where values
   become text for people, and so the one redaction point. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "audit.h"
#include "auditread.h"
#include "diag.h"
#include "envset.h"
#include "execprog.h"
#include "obuf.h"
#include "output.h"
#include "parity.h"
#include "place.h"
#include "resolve.h"
#include "safetext.h"
#include "schema.h"
#include "secmem.h"
#include "targets.h"

/* GitHub's own examples use this prefix; the random part makes a
   delimiter that a value cannot guess. */
#define GH_DELIM_PREFIX    "ghadelimiter_"
#define GH_DELIM_RAND_LEN  16 /* bytes, 32 hex digits */
#define COLUMN_GAP         "  "
#define SCHEMA_LAYER_NAME  "schema"
#define UNKNOWN_LAYER_NAME "?"
#define NO_LOCATOR         "-"
#define UNSET_TEXT         "(unset)"

static const char *const format_names[] = {
    [EI_FMT_DOTENV] = "dotenv",   [EI_FMT_ENV] = "env",
    [EI_FMT_SHELL] = "shell",     [EI_FMT_JSON] = "json",
    [EI_FMT_GITHUB] = "github",   [EI_FMT_TABLE] = "table",
    [EI_FMT_TEXT] = "text",       [EI_FMT_DOCKER] = "docker",
    [EI_FMT_SYSTEMD] = "systemd", [EI_FMT_K8S] = "k8s",
    [EI_FMT_YAML] = "yaml",       [EI_FMT_AUDIT] = "audit",
};
#define FORMAT_N (sizeof(format_names) / sizeof(format_names[0]))

int ei_format_parse(const char *name)
{
    if (name == NULL)
        return -1;
    for (size_t i = 0; i < FORMAT_N; i++)
        if (strcmp(name, format_names[i]) == 0)
            return (int)i;
    return -1;
}

const char *ei_format_name(enum ei_format fmt)
{
    if ((unsigned)fmt >= FORMAT_N)
        return "unknown";
    return format_names[fmt];
}

const char *ei_output_value(const struct ei_entry *e, bool reveal, size_t *len)
{
    if ((e->flags & EI_ENTRY_SECRET) && !reveal) {
        *len = sizeof(EI_REDACTED) - 1;
        return EI_REDACTED;
    }
    if (e->value == NULL) {
        *len = 0;
        return "";
    }
    *len = e->value_len;
    return e->value;
}

/* The text before interpolation, redacted as the value would be. */
static const char *raw_value(const struct ei_entry *e, bool reveal, size_t *len)
{
    struct ei_entry tmp = *e;
    tmp.value = e->raw;
    tmp.value_len = e->raw_len;
    return ei_output_value(&tmp, reveal, len);
}

static const char *layer_name(const struct ei_resolution *r, int layer)
{
    if (layer == EI_LAYER_SCHEMA)
        return SCHEMA_LAYER_NAME;
    if (layer == EI_LAYER_CONFIG)
        return "config";
    if (layer < 0 || (size_t)layer >= r->layers_n ||
        r->layers[layer].name == NULL)
        return UNKNOWN_LAYER_NAME;
    return r->layers[layer].name;
}

static const char *provider_name(const struct ei_resolution *r, int layer)
{
    if (layer == EI_LAYER_SCHEMA)
        return SCHEMA_LAYER_NAME;
    if (layer == EI_LAYER_CONFIG)
        return "config";
    if (layer < 0 || (size_t)layer >= r->layers_n ||
        r->layers[layer].prov == NULL || r->layers[layer].prov->name == NULL)
        return UNKNOWN_LAYER_NAME;
    return r->layers[layer].prov->name;
}

/*
 * Write s escaped onto one line (b may be NULL to measure only) and return
 * its width in columns, counting a UTF-8 character as one.  Backslashes
 * are doubled so that "\n" is never ambiguous; control characters, C1
 * controls (a terminal may act on them) and bytes that are not UTF-8
 * become \xHH.
 */
static size_t put_oneline(struct obuf *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t width = 0;
    size_t i = 0;
    while (i < n) {
        unsigned char c = u[i];
        const char *esc = NULL;
        switch (c) {
        case '\\':
            esc = "\\\\";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\t':
            esc = "\\t";
            break;
        case '\r':
            esc = "\\r";
            break;
        default:
            break;
        }
        if (esc != NULL) {
            if (b != NULL)
                ob_puts(b, esc);
            width += 2;
            i++;
            continue;
        }
        size_t len = ei_utf8_seq(u + i, n - i);
        bool c1 = len == 2 && c == 0xC2 && u[i + 1] < 0xA0;
        if (len == 0 || c1 || c < 0x20 || c == 0x7f) {
            size_t bad = len == 0 ? 1 : len;
            for (size_t k = 0; k < bad; k++) {
                if (b != NULL)
                    ob_printf(b, "\\x%02x", u[i + k]);
                width += 4;
            }
            i += bad;
            continue;
        }
        if (b != NULL)
            ob_put(b, s + i, len);
        width++;
        i += len;
    }
    return width;
}

static size_t put_oneline_str(struct obuf *b, const char *s)
{
    return put_oneline(b, s, strlen(s));
}

/* The names of the layers e overrode, lowest first, as "a,b". */
static void put_overrides(struct obuf *b, const struct ei_resolution *r,
                          const struct ei_entry *e, const char *sep)
{
    size_t n = 0;
    for (const struct ei_entry *x = e->below; x != NULL; x = x->below)
        n++;
    /* a chain is a few layers long: walk it again for each position
       rather than allocate */
    for (size_t pos = n; pos > 0; pos--) {
        const struct ei_entry *x = e->below;
        for (size_t k = 1; k < pos; k++)
            x = x->below;
        if (pos != n)
            ob_puts(b, sep);
        put_oneline_str(b, layer_name(r, x->layer));
    }
}

static json_t *json_overrides(const struct ei_resolution *r,
                              const struct ei_entry *e)
{
    json_t *a = json_array();
    if (a == NULL)
        return NULL;
    for (const struct ei_entry *x = e->below; x != NULL; x = x->below) {
        json_t *s = json_string(layer_name(r, x->layer));
        if (s == NULL || json_array_insert_new(a, 0, s) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* "# layer=per-env provider=file locator=dev.env:1 overrides=defaults" */
static void put_origin_comment(struct obuf *b, const struct ei_resolution *r,
                               const struct ei_entry *e)
{
    ob_puts(b, "# layer=");
    put_oneline_str(b, layer_name(r, e->layer));
    ob_puts(b, " provider=");
    put_oneline_str(b, provider_name(r, e->layer));
    if (e->locator != NULL) {
        ob_puts(b, " locator=");
        put_oneline_str(b, e->locator);
    }
    if (e->below != NULL) {
        ob_puts(b, " overrides=");
        put_overrides(b, r, e, ",");
    }
    if (e->flags & EI_ENTRY_SECRET)
        ob_puts(b, " secret");
    ob_putc(b, '\n');
}

static bool dotenv_bare_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || strchr("_./:@%+,=-", c) != NULL;
}

/*
 * The dotenv output is read by POSIX sh and bash (set -a; . FILE), by the
 * file provider and by python-dotenv; each form below is used only where
 * all of them read the same bytes back:
 *   bare      letters, digits and _./:@%+,=- (nothing sh or a reader acts on)
 *   '...'     no ' (none of them can escape it inside), and no "\\"
 *             (python-dotenv decodes \\ and \' there)
 *   "..."     only \\ and \" escaped, which all of them decode; so no '$'
 *             and no '`' (sh expands them, and the file provider and
 *             python-dotenv disagree with sh on "\$")
 * Some values fit none: a raw CR is a line end to every dotenv reader
 * (python-dotenv reads in text mode), and python-dotenv takes a backslash
 * before the closing quote, of either kind, for an escaped quote.  Such a
 * value is refused rather than written so that one reader gets other
 * bytes: the shell format takes every value.  One exception is made for
 * python-dotenv, and documented: it expands "${" even inside single
 * quotes, where sh, bash, dotenvx and the file provider do not.  A value
 * holding "${" (a template, a literal from a single-quoted file) is too
 * common to refuse, so it is single-quoted, and python-dotenv reads it
 * back the same with interpolate=False.
 */
static const char *dotenv_unfit(const char *s, size_t n, bool *single,
                                bool *dbl)
{
    if (memchr(s, '\r', n) != NULL)
        return "a carriage return, which dotenv readers take for a line end";
    if (n > 0 && s[n - 1] == '\\')
        return "a trailing backslash, which python-dotenv takes for an "
               "escaped closing quote";
    *single = memchr(s, '\'', n) == NULL && memmem(s, n, "\\\\", 2) == NULL;
    *dbl = memchr(s, '$', n) == NULL && memchr(s, '`', n) == NULL;
    if (!*single && !*dbl)
        return "a quote or backslash with a '$' or '`', which no dotenv "
               "quoting keeps alike for sh and dotenv readers";
    /* In GBK, Big5 and Shift JIS a byte above 0x7f and the byte after it
       can be one character, and that second byte can be 0x5c: bash in
       such a locale then takes the backslash of an escape, or the closing
       quote, as part of the character, and the rest of the file as code.
       Only the double-quoted form escapes, so only it is at risk. */
    for (size_t i = 0; !*single && i < n; i++)
        if ((unsigned char)s[i] > 0x7f &&
            (i + 1 == n || s[i + 1] == '"' || s[i + 1] == '\\'))
            return "a byte above 0x7f before a double quote, a backslash or "
                   "the end, which shells misread inside double quotes in "
                   "GBK or Big5 locales";
    return NULL;
}

int ei_output_dotenv_value(struct obuf *b, const char *key, const char *s,
                           size_t n, struct ei_error *err)
{
    bool bare = true;
    for (size_t i = 0; i < n && bare; i++)
        bare = dotenv_bare_char((unsigned char)s[i]);
    if (bare) {
        ob_put(b, s, n);
        return 0;
    }
    bool single = false, dbl = false;
    const char *why = dotenv_unfit(s, n, &single, &dbl);
    if (why != NULL) {
        ei_error_set(err, EI_BADDATA, 0, NULL, NULL,
                     "%s: value holds %s; use --format=shell or json", key,
                     why);
        return -1;
    }
    if (single) {
        ob_putc(b, '\'');
        ob_put(b, s, n);
        ob_putc(b, '\'');
        return 0;
    }
    ob_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' || s[i] == '"')
            ob_putc(b, '\\');
        ob_putc(b, s[i]);
    }
    ob_putc(b, '"');
    return 0;
}

/* GitHub workflow commands: %, CR and LF are escaped, and in a property
   (file=, line=) ':' and ',' too. */
static void put_github_escaped(struct obuf *b, const char *s, size_t n,
                               bool property)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%')
            ob_puts(b, "%25");
        else if (s[i] == '\r')
            ob_puts(b, "%0D");
        else if (s[i] == '\n')
            ob_puts(b, "%0A");
        else if (property && s[i] == ':')
            ob_puts(b, "%3A");
        else if (property && s[i] == ',')
            ob_puts(b, "%2C");
        else
            ob_putc(b, s[i]);
    }
}

static void put_github_datan(struct obuf *b, const char *s, size_t n)
{
    put_github_escaped(b, s, n, false);
}

static void put_shell_value(struct obuf *b, const char *s, size_t n)
{
    ob_putc(b, '\'');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\'')
            ob_puts(b, "'\\''");
        else
            ob_putc(b, s[i]);
    }
    ob_putc(b, '\'');
}

static int put_github(struct obuf *b, const struct ei_entry *e, const char *val,
                      size_t len, struct ei_error *err)
{
    if (memchr(val, '\n', len) == NULL && memchr(val, '\r', len) == NULL) {
        ob_puts(b, e->key);
        ob_putc(b, '=');
        ob_put(b, val, len);
        ob_putc(b, '\n');
        return 0;
    }
    char delim[sizeof(GH_DELIM_PREFIX) + 2 * GH_DELIM_RAND_LEN];
    unsigned char rnd[GH_DELIM_RAND_LEN];
    /* a 128-bit random delimiter inside a value means a broken RNG, but
       looping forever would be worse than failing */
    for (int tries = 0;; tries++) {
        if (tries == 8) {
            ei_error_set(err, EI_INTERNAL, 0, NULL, NULL,
                         "%s: cannot find a delimiter for the value", e->key);
            return -1;
        }
        randombytes_buf(rnd, sizeof(rnd));
        memcpy(delim, GH_DELIM_PREFIX, sizeof(GH_DELIM_PREFIX) - 1);
        sodium_bin2hex(delim + sizeof(GH_DELIM_PREFIX) - 1,
                       sizeof(delim) - (sizeof(GH_DELIM_PREFIX) - 1), rnd,
                       sizeof(rnd));
        if (memmem(val, len, delim, strlen(delim)) == NULL)
            break;
    }
    ob_puts(b, e->key);
    ob_puts(b, "<<");
    ob_puts(b, delim);
    ob_putc(b, '\n');
    ob_put(b, val, len);
    ob_putc(b, '\n');
    ob_puts(b, delim);
    ob_putc(b, '\n');
    return 0;
}

static int json_bad_utf8(struct ei_error *err, const char *key)
{
    ei_error_set(err, EI_BADDATA, 0, NULL, NULL,
                 "%s: value is not valid UTF-8; use --format=dotenv", key);
    return -1;
}

static int json_nomem(struct ei_error *err)
{
    ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL,
                 "out of memory building JSON");
    return -1;
}

/* A JSON string of a value; NULL with err when it is not UTF-8.  jansson
   gives no other reason to refuse a string but memory. */
static json_t *json_value(const char *key, const char *val, size_t len,
                          struct ei_error *err)
{
    json_t *s = json_stringn(val, len);
    if (s == NULL)
        json_bad_utf8(err, key);
    return s;
}

/* The json_object_set_new calls take over their value even when they
   fail, so every one of them is made and the results are or-ed. */
static json_t *json_origin(const struct ei_resolution *r,
                           const struct ei_entry *e, json_t *value)
{
    json_t *o = json_object();
    int bad = value != NULL ? json_object_set_new(o, "value", value) : 0;
    bad |=
        json_object_set_new(o, "layer", json_string(layer_name(r, e->layer)));
    bad |= json_object_set_new(o, "provider",
                               json_string(provider_name(r, e->layer)));
    bad |= json_object_set_new(o, "locator",
                               e->locator != NULL ? json_string(e->locator)
                                                  : json_null());
    bad |= json_object_set_new(o, "secret",
                               json_boolean(e->flags & EI_ENTRY_SECRET));
    bad |= json_object_set_new(o, "overrides", json_overrides(r, e));
    /* the text formats say "cached, age 3m12s" in the locator */
    if (e->layer >= 0 && (size_t)e->layer < r->layers_n &&
        r->layers[e->layer].cached)
        bad |= json_object_set_new(
            o, "cached_age_ms", json_integer(r->layers[e->layer].cache_age_ms));
    if (bad != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/*
 * A secret printed without --reveal, in a format that a program reads
 * back: written as a value, even "<secret>", it would become the
 * program's password.  It is left out, as a comment where the format is
 * meant to have comments (dotenv and shell; env only has them with
 * --origin), so that the reader sees a gap, not a value.
 */
static bool left_out(const struct ei_entry *e, const struct ei_print_opts *o)
{
    return (e->flags & EI_ENTRY_SECRET) && !o->reveal &&
           o->format != EI_FMT_TABLE;
}

static int print_json(struct obuf *b, const struct ei_resolution *r,
                      struct ei_entry **v, size_t n,
                      const struct ei_print_opts *o, struct ei_error *err)
{
    json_t *root = json_object();
    if (root == NULL)
        return json_nomem(err);
    for (size_t i = 0; i < n; i++) {
        /* a secret left out keeps its origin, without a "value" member */
        bool hide = left_out(v[i], o);
        if (hide && !o->origin)
            continue;
        size_t len;
        const char *val = ei_output_value(v[i], o->reveal, &len);
        json_t *j = hide ? NULL : json_value(v[i]->key, val, len, err);
        if (j == NULL && !hide) {
            json_decref(root);
            return -1;
        }
        if (o->origin) {
            j = json_origin(r, v[i], j);
            if (j == NULL) {
                json_decref(root);
                return json_nomem(err);
            }
        }
        if (json_object_set_new(root, v[i]->key, j) != 0) {
            json_decref(root);
            return json_nomem(err);
        }
    }
    if (ob_json(b, root) < 0)
        return json_nomem(err);
    return 0;
}

/* One table cell: escaped text, measured first to align the columns. */
struct cell {
    const char *s;
    size_t len;
};

static void put_row(struct obuf *b, const struct cell *cells, size_t n,
                    const size_t *widths)
{
    for (size_t c = 0; c < n; c++) {
        size_t w = put_oneline(b, cells[c].s, cells[c].len);
        if (c + 1 < n) {
            ob_pad(b, widths[c] - w);
            ob_puts(b, COLUMN_GAP);
        }
    }
    ob_putc(b, '\n');
}

#define TABLE_COLS_MAX 4

/* Columns: KEY VALUE, or KEY LAYER LOCATOR VALUE with --origin; the value
   comes last, whole, so a long one does not push other columns away. */
static size_t table_row(const struct ei_resolution *r, const struct ei_entry *e,
                        bool origin, bool reveal, struct cell *cells)
{
    size_t n = 0;
    cells[n++] = (struct cell){e->key, strlen(e->key)};
    if (origin) {
        const char *layer = layer_name(r, e->layer);
        const char *loc = e->locator != NULL ? e->locator : NO_LOCATOR;
        cells[n++] = (struct cell){layer, strlen(layer)};
        cells[n++] = (struct cell){loc, strlen(loc)};
    }
    cells[n].s = ei_output_value(e, reveal, &cells[n].len);
    return n + 1;
}

static void print_table(struct obuf *b, const struct ei_resolution *r,
                        struct ei_entry **v, size_t n,
                        const struct ei_print_opts *o)
{
    static const struct cell head_plain[] = {{"KEY", 3}, {"VALUE", 5}};
    static const struct cell head_origin[] = {
        {"KEY", 3}, {"LAYER", 5}, {"LOCATOR", 7}, {"VALUE", 5}};
    const struct cell *head = o->origin ? head_origin : head_plain;
    size_t cols = o->origin ? 4 : 2;
    size_t widths[TABLE_COLS_MAX] = {0};
    struct cell cells[TABLE_COLS_MAX];

    for (size_t c = 0; c < cols; c++)
        widths[c] = head[c].len;
    for (size_t i = 0; i < n; i++) {
        table_row(r, v[i], o->origin, o->reveal, cells);
        for (size_t c = 0; c < cols; c++) {
            size_t w = put_oneline(NULL, cells[c].s, cells[c].len);
            if (w > widths[c])
                widths[c] = w;
        }
    }
    put_row(b, head, cols, widths);
    for (size_t i = 0; i < n; i++) {
        table_row(r, v[i], o->origin, o->reveal, cells);
        put_row(b, cells, cols, widths);
    }
}

static int print_one(struct obuf *b, const struct ei_resolution *r,
                     const struct ei_entry *e, const struct ei_print_opts *o,
                     struct ei_error *err)
{
    size_t len;
    const char *val = ei_output_value(e, o->reveal, &len);
    bool hide = left_out(e, o);
    bool comments = o->format != EI_FMT_ENV && o->format != EI_FMT_GITHUB;
    if (hide && !comments)
        return 0;
    if (o->origin && o->format != EI_FMT_GITHUB)
        put_origin_comment(b, r, e);
    if (hide) {
        ob_puts(b, "# ");
        ob_puts(b, e->key);
        ob_puts(b, " is secret: left out (--reveal writes it)\n");
        return 0;
    }
    switch (o->format) {
    case EI_FMT_DOTENV:
        ob_puts(b, e->key);
        ob_putc(b, '=');
        if (ei_output_dotenv_value(b, e->key, val, len, err) < 0)
            return -1;
        ob_putc(b, '\n');
        return 0;
    case EI_FMT_ENV:
        if (memchr(val, '\n', len) != NULL) {
            ei_error_set(err, EI_BADDATA, 0, NULL, NULL,
                         "%s: value contains a newline; use "
                         "--format=dotenv or json",
                         e->key);
            return -1;
        }
        ob_puts(b, e->key);
        ob_putc(b, '=');
        ob_put(b, val, len);
        ob_putc(b, '\n');
        return 0;
    case EI_FMT_SHELL:
        ob_puts(b, "export ");
        ob_puts(b, e->key);
        ob_putc(b, '=');
        put_shell_value(b, val, len);
        ob_putc(b, '\n');
        return 0;
    case EI_FMT_GITHUB:
        return put_github(b, e, val, len, err);
    case EI_FMT_DOCKER:
        return ei_target_docker(b, e->key, val, len, err);
    case EI_FMT_SYSTEMD:
        return ei_target_systemd(b, e->key, val, len, err);
    case EI_FMT_YAML:
        if (ei_target_yaml_key(b, e->key, err) < 0 ||
            ei_target_yaml_string(b, e->key, val, len, err) < 0)
            return -1;
        ob_putc(b, '\n');
        return 0;
    default:
        ei_error_set(err, EI_INTERNAL, 0, NULL, NULL, "unexpected format %s",
                     ei_format_name(o->format));
        return -1;
    }
}

/*
 * "::add-mask::" for each line of a secret value: the runner masks line
 * by line (a value across lines is never matched whole) and ignores an
 * empty mask.  The data is escaped as in every workflow command, so that
 * a literal "%0A" in the value stays what it is.
 */
static void put_github_masks(struct obuf *b, struct ei_entry *const *v,
                             size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!(v[i]->flags & EI_ENTRY_SECRET) || v[i]->value == NULL)
            continue;
        const char *s = v[i]->value, *end = s + v[i]->value_len;
        while (s < end) {
            const char *eol = s;
            while (eol < end && *eol != '\n' && *eol != '\r')
                eol++;
            if (eol > s) {
                ob_puts(b, "::add-mask::");
                put_github_datan(b, s, (size_t)(eol - s));
                ob_putc(b, '\n');
            }
            s = eol + 1;
        }
    }
}

static void k8s_head(struct obuf *b, const char *kind, const char *name)
{
    struct ei_error ignored = {0};
    ob_puts(b, "apiVersion: v1\nkind: ");
    ob_puts(b, kind);
    ob_puts(b, "\nmetadata:\n  name: ");
    /* a checked name is ASCII: quoted, since "true" or "123" are names */
    (void)ei_target_yaml_string(b, name, name, strlen(name), &ignored);
    ob_putc(b, '\n');
}

/*
 * A ConfigMap with the values that are not secret and a Secret (Opaque,
 * base64 data) with the secrets, both named o->name, as documents of one
 * stream for kubectl apply -f -.  Without reveal the Secret is left out
 * whole, with a comment: an empty Secret applied would delete the keys
 * that the cluster's copy holds.  A document with no keys is not written,
 * except the ConfigMap when there is nothing at all.
 */
static int print_k8s(struct obuf *b, const struct ei_resolution *r,
                     struct ei_entry **v, size_t n,
                     const struct ei_print_opts *o, struct ei_error *err)
{
    if (o->name == NULL) {
        ei_error_set(err, EI_USAGE, 0, NULL, NULL,
                     "--format=k8s needs --name NAME (no environment to "
                     "name the objects after)");
        return -1;
    }
    if (!ei_target_k8s_name_ok(o->name)) {
        char shown[128];
        ei_error_set(err, EI_USAGE, 0, NULL, NULL,
                     "'%s' is not a Kubernetes name (lowercase letters, "
                     "digits, '-' and '.'); use --name NAME",
                     ei_safe_text(shown, sizeof(shown), o->name,
                                  strlen(o->name), EI_TEXT_QUOTE));
        return -1;
    }
    size_t plain = 0, secret = 0;
    for (size_t i = 0; i < n; i++) {
        if (!ei_target_k8s_key_ok(v[i]->key)) {
            ei_error_set(err, EI_BADDATA, 0, NULL, NULL,
                         "key '%s' is not a ConfigMap or Secret key "
                         "([-._a-zA-Z0-9]+)",
                         v[i]->key);
            return -1;
        }
        if (v[i]->flags & EI_ENTRY_SECRET)
            secret++;
        else
            plain++;
    }
    bool written = false;
    if (plain > 0 || secret == 0) {
        k8s_head(b, "ConfigMap", o->name);
        ob_puts(b, plain > 0 ? "data:\n" : "data: {}\n");
        for (size_t i = 0; i < n; i++) {
            const struct ei_entry *e = v[i];
            if (e->flags & EI_ENTRY_SECRET)
                continue;
            if (o->origin)
                put_origin_comment(b, r, e);
            ob_puts(b, "  ");
            if (ei_target_yaml_key(b, e->key, err) < 0 ||
                ei_target_yaml_string(b, e->key, e->value ? e->value : "",
                                      e->value_len, err) < 0)
                return -1;
            ob_putc(b, '\n');
        }
        written = true;
    }
    if (secret == 0)
        return 0;
    if (!o->reveal) {
        ob_printf(b, "# Secret %s left out: %zu secret key%s (--reveal "
                     "writes it)\n",
                  o->name, secret, secret == 1 ? "" : "s");
        return 0;
    }
    if (written)
        ob_puts(b, "---\n");
    k8s_head(b, "Secret", o->name);
    ob_puts(b, "type: Opaque\ndata:\n");
    for (size_t i = 0; i < n; i++) {
        const struct ei_entry *e = v[i];
        if (!(e->flags & EI_ENTRY_SECRET))
            continue;
        if (o->origin)
            put_origin_comment(b, r, e);
        ob_puts(b, "  ");
        if (ei_target_yaml_key(b, e->key, err) < 0 ||
            ei_target_base64(b, e->value ? e->value : "", e->value_len) < 0)
            return -1;
        ob_putc(b, '\n');
    }
    return 0;
}

/* The entries to print: all of them sorted, or the named ones in order. */
static struct ei_entry **print_select(const struct ei_resolution *r,
                                      const struct ei_print_opts *o, size_t *n,
                                      struct ei_error *err)
{
    if (o->keys == NULL) {
        struct ei_entry **v = ei_envset_sorted(r->final, n);
        if (v == NULL)
            ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory");
        return v;
    }
    struct ei_entry **v = calloc(o->keys_n + 1, sizeof(*v));
    if (v == NULL) {
        ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < o->keys_n; i++) {
        struct ei_entry *e = ei_envset_get(r->final, o->keys[i]);
        if (e == NULL || (e->flags & EI_ENTRY_UNSET)) {
            ei_error_set(err, EI_NOTFOUND, 0, NULL, NULL, "%s is not set",
                         o->keys[i]);
            free(v);
            return NULL;
        }
        v[i] = e;
    }
    *n = o->keys_n;
    return v;
}

long ei_output_print(FILE *out, const struct ei_resolution *r,
                     const struct ei_print_opts *o, struct ei_error *err)
{
    if (o->format == EI_FMT_TEXT || (unsigned)o->format >= FORMAT_N) {
        ei_error_set(err, EI_USAGE, 0, NULL, NULL,
                     "print does not support --format=%s",
                     ei_format_name(o->format));
        return -1;
    }
    /* $GITHUB_ENV has no comment syntax: the runner rejects such lines */
    if (o->format == EI_FMT_GITHUB && o->origin) {
        ei_error_set(err, EI_USAGE, 0, NULL, NULL,
                     "--origin cannot be used with --format=github");
        return -1;
    }
    size_t n = 0;
    struct ei_entry **v = print_select(r, o, &n, err);
    if (v == NULL)
        return -1;

    long omitted = 0;
    for (size_t i = 0; i < n; i++)
        if (left_out(v[i], o))
            omitted++;
    /* the masks come first, so that the runner knows them before any
       value can reach its log; into out, and the assignments into
       github_env when the caller gives that */
    struct obuf masks = {0};
    struct obuf b = {0};
    bool split = o->format == EI_FMT_GITHUB && o->github_env != NULL;
    if (o->format == EI_FMT_GITHUB && o->reveal)
        put_github_masks(split ? &masks : &b, v, n);
    int rc = 0;
    if (o->format == EI_FMT_JSON) {
        rc = print_json(&b, r, v, n, o, err);
    } else if (o->format == EI_FMT_TABLE) {
        print_table(&b, r, v, n, o);
    } else if (o->format == EI_FMT_K8S) {
        rc = print_k8s(&b, r, v, n, o, err);
    } else {
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = print_one(&b, r, v[i], o, err);
        /* an empty YAML document is null, not an empty mapping */
        if (o->format == EI_FMT_YAML && (size_t)omitted == n)
            ob_puts(&b, "{}\n");
    }
    free(v);
    if (rc < 0) {
        ob_free(&masks);
        ob_free(&b);
        return -1;
    }
    if (split) {
        if (ob_finish(&masks, out, err) < 0) {
            ob_free(&b);
            return -1;
        }
        out = o->github_env;
    }
    if (ob_finish(&b, out, err) < 0)
        return -1;
    return omitted;
}

#define EXPLAIN_COLS 3

/*
 * One block per key: every layer that had it, lowest first, the winner
 * marked with '*', then the text before interpolation (when it changed)
 * and the final value:
 *
 *   DB_HOST
 *     defaults  file  defaults.cfg:3  localhost
 *   * per-env   file  dev.env:1       db.dev
 *     final: db.dev
 */
static int explain_key(struct obuf *b, const struct ei_resolution *r,
                       const struct ei_entry *e, bool reveal)
{
    size_t depth = 0;
    for (const struct ei_entry *x = e; x != NULL; x = x->below)
        depth++;
    const struct ei_entry **chain = calloc(depth, sizeof(*chain));
    if (chain == NULL) {
        b->failed = true;
        return -1;
    }
    size_t k = depth;
    for (const struct ei_entry *x = e; x != NULL; x = x->below)
        chain[--k] = x;

    size_t widths[EXPLAIN_COLS] = {0};
    for (size_t i = 0; i < depth; i++) {
        const struct ei_entry *x = chain[i];
        const char *cols[EXPLAIN_COLS] = {
            layer_name(r, x->layer), provider_name(r, x->layer),
            x->locator != NULL ? x->locator : NO_LOCATOR};
        for (size_t c = 0; c < EXPLAIN_COLS; c++) {
            size_t w = put_oneline(NULL, cols[c], strlen(cols[c]));
            if (w > widths[c])
                widths[c] = w;
        }
    }

    ob_puts(b, e->key);
    ob_putc(b, '\n');
    for (size_t i = 0; i < depth; i++) {
        const struct ei_entry *x = chain[i];
        const char *cols[EXPLAIN_COLS] = {
            layer_name(r, x->layer), provider_name(r, x->layer),
            x->locator != NULL ? x->locator : NO_LOCATOR};
        ob_puts(b, x == e ? "* " : "  ");
        for (size_t c = 0; c < EXPLAIN_COLS; c++) {
            ob_pad(b, widths[c] - put_oneline(b, cols[c], strlen(cols[c])));
            ob_puts(b, COLUMN_GAP);
        }
        if (x->flags & EI_ENTRY_UNSET) {
            ob_puts(b, UNSET_TEXT);
        } else {
            size_t len;
            const char *val = ei_output_value(x, reveal, &len);
            put_oneline(b, val, len);
        }
        ob_putc(b, '\n');
    }
    free(chain);

    if (e->flags & EI_ENTRY_UNSET) {
        ob_puts(b, "  final: not set (unset by ");
        put_oneline_str(b, layer_name(r, e->layer));
        ob_puts(b, ")\n");
        return 0;
    }
    size_t len;
    if (e->raw != NULL) {
        const char *raw = raw_value(e, reveal, &len);
        ob_puts(b, "  raw:   ");
        put_oneline(b, raw, len);
        ob_putc(b, '\n');
    }
    const char *val = ei_output_value(e, reveal, &len);
    ob_puts(b, "  final: ");
    put_oneline(b, val, len);
    ob_putc(b, '\n');
    return 0;
}

/*
 * A key that no layer had gets the line "KEY is not set in any layer" and
 * the other keys are still explained; the function then fails with
 * EI_FINDINGS naming the first such key, so that a script sees it in the
 * exit status (1, as get and print).  A key that a layer unset is
 * explained, not an error.
 */
int ei_output_explain(FILE *out, const struct ei_resolution *r,
                      const char *const *keys, size_t keys_n, bool reveal,
                      struct ei_error *err)
{
    struct obuf b = {0};
    const char *missing = NULL;
    for (size_t i = 0; i < keys_n; i++) {
        if (i > 0)
            ob_putc(&b, '\n');
        const struct ei_entry *e = ei_envset_get(r->final, keys[i]);
        if (e == NULL) {
            put_oneline_str(&b, keys[i]);
            ob_puts(&b, " is not set in any layer\n");
            if (missing == NULL)
                missing = keys[i];
            continue;
        }
        explain_key(&b, r, e, reveal);
    }
    if (ob_finish(&b, out, err) < 0)
        return -1;
    if (missing != NULL) {
        ei_error_set(err, EI_FINDINGS, 0, NULL, NULL,
                     "%s is not set in any layer", missing);
        return -1;
    }
    return 0;
}

/*
 * A message of check: its own words, so backslashes stay single (a pattern
 * such as v[0-9]+\.[0-9]+ reads as on stderr and in the configuration);
 * what put_oneline escapes otherwise (controls, bytes that are not UTF-8)
 * it still escapes, so one problem stays one line.
 */
static void put_message(struct obuf *b, const char *s)
{
    for (const char *bs = strchr(s, '\\'); bs != NULL;
         s = bs + 1, bs = strchr(s, '\\')) {
        put_oneline(b, s, (size_t)(bs - s));
        ob_putc(b, '\\');
    }
    put_oneline_str(b, s);
}

static void put_github_data(struct obuf *b, const char *s)
{
    put_github_datan(b, s, strlen(s));
}

static size_t keys_checked(const struct ei_resolution *r)
{
    size_t n = 0;
    size_t total = ei_envset_count(r->final);
    for (size_t i = 0; i < total; i++)
        if (!(ei_envset_at(r->final, i)->flags & EI_ENTRY_UNSET))
            n++;
    return n;
}

/* One problem as check reports it, with the place a reader should look. */
struct check_item {
    const char *key; /* NULL for a failure */
    const char *rule;
    const char *message;
    const char *layer;   /* the value's layer, or the failed one; NULL */
    const char *locator; /* the value's origin, or the failed source */
    const char *where;   /* the rule's place (a layer's, for a failure) */
    char *file;          /* relative to the working directory, or NULL */
    long line;           /* in file, 0 when none */
};

static bool is_failure(const char *rule)
{
    return strcmp(rule, EI_RULE_LAYER) == 0 || strcmp(rule, EI_RULE_ERROR) == 0;
}

/*
 * The place of an annotation: where the value was set, when that is a
 * file (a file layer's line, a default's rule); else the rule's place in
 * the configuration; nothing for a key required on the command line.
 */
static void item_place(struct check_item *it, const char *value_dir,
                       const char *config_dir)
{
    it->file = ei_place_file(it->locator, value_dir, &it->line);
    if (it->file == NULL && it->where != NULL &&
        strcmp(it->where, EI_WHERE_REQUIRE_OPTION) != 0)
        it->file = ei_place_file(it->where, config_dir, &it->line);
}

static void item_from_problem(struct check_item *it,
                              const struct ei_resolution *r,
                              const struct ei_problem *p)
{
    const char *config_dir = r->cfg != NULL ? r->cfg->dir : NULL;
    bool layer = p->layer >= 0 && (size_t)p->layer < r->layers_n;
    *it = (struct check_item){
        .key = p->key,
        .rule = p->rule,
        .message = p->message,
        .layer = p->layer != EI_LAYER_NONE ? layer_name(r, p->layer) : NULL,
        .locator = p->locator,
        .where = p->where,
    };
    /* a layer's locator is relative to its folder; a default's (the
       rule's place) to the configuration's */
    item_place(it, layer ? r->layers[p->layer].dir : config_dir, config_dir);
}

/*
 * One line of text (put is put_message) or the message of an annotation
 * (put_github_data):
 *   POOL: 500 is above the maximum 100 (rule max, envinject.conf:8;
 *   value from per-env, dev.env:1)
 *   layer per-env: no such file (/srv/config/prod.env; envinject.conf:4)
 */
static void put_item(struct obuf *b, const struct check_item *it,
                     void (*put)(struct obuf *, const char *))
{
    put(b, it->message);
    bool failure = is_failure(it->rule);
    const char *sep = " (";
    if (!failure) {
        ob_puts(b, sep);
        ob_puts(b, "rule ");
        put(b, it->rule);
        sep = ", ";
    }
    if (!failure && it->where != NULL) {
        ob_puts(b, sep);
        put(b, it->where);
        sep = "; ";
    }
    if (!failure && it->layer != NULL) {
        ob_puts(b, "; value from ");
        put(b, it->layer);
        sep = ", ";
    }
    /* a default's origin is its rule's place: said once */
    if (it->locator != NULL &&
        (it->where == NULL || strcmp(it->locator, it->where) != 0)) {
        ob_puts(b, sep);
        put(b, it->locator);
        sep = "; ";
    }
    if (failure && it->where != NULL) {
        ob_puts(b, sep);
        put(b, it->where);
        sep = "; ";
    }
    if (strcmp(sep, " (") != 0)
        ob_putc(b, ')');
}

static json_t *json_string_or_null(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

static int check_json(struct obuf *b, const struct check_item *items, size_t n,
                      struct ei_error *err)
{
    json_t *root = json_object();
    json_t *arr = json_array();
    int bad = json_object_set_new(root, "ok", json_boolean(n == 0));
    bad |= json_object_set(root, "problems", arr);
    for (size_t i = 0; i < n && bad == 0; i++) {
        const struct check_item *it = &items[i];
        json_t *o = json_object();
        bad |= json_array_append_new(arr, o);
        bad |= json_object_set_new(o, "key", json_string_or_null(it->key));
        bad |= json_object_set_new(o, "rule", json_string(it->rule));
        bad |= json_object_set_new(o, "message", json_string(it->message));
        bad |= json_object_set_new(o, "layer", json_string_or_null(it->layer));
        bad |=
            json_object_set_new(o, "locator", json_string_or_null(it->locator));
        bad |= json_object_set_new(o, "where", json_string_or_null(it->where));
        bad |= json_object_set_new(o, "file", json_string_or_null(it->file));
        bad |= json_object_set_new(
            o, "line", it->line > 0 ? json_integer(it->line) : json_null());
    }
    json_decref(arr);
    if (bad != 0) {
        json_decref(root);
        return json_nomem(err);
    }
    if (ob_json(b, root) < 0)
        return json_nomem(err);
    return 0;
}

/* The report of items; keys is the number of keys checked (text's "ok"
   line), failed says that nothing could be validated. */
static int check_report(FILE *out, const struct check_item *items, size_t n,
                        size_t keys, bool failed, enum ei_format fmt,
                        struct ei_error *err)
{
    struct obuf b = {0};
    switch (fmt) {
    case EI_FMT_TEXT:
        for (size_t i = 0; i < n; i++) {
            put_item(&b, &items[i], put_message);
            ob_putc(&b, '\n');
        }
        if (failed)
            ob_printf(&b,
                      "%zu problem%s; nothing validated, since the "
                      "configuration did not resolve\n",
                      n, n == 1 ? "" : "s");
        else if (n > 0)
            ob_printf(&b, "%zu problem%s\n", n, n == 1 ? "" : "s");
        else
            ob_printf(&b, "ok: %zu key%s checked\n", keys,
                      keys == 1 ? "" : "s");
        break;
    case EI_FMT_JSON:
        if (check_json(&b, items, n, err) < 0) {
            ob_free(&b);
            return -1;
        }
        break;
    case EI_FMT_GITHUB:
        for (size_t i = 0; i < n; i++) {
            ob_puts(&b, "::error ");
            if (items[i].file != NULL) {
                ob_puts(&b, "file=");
                put_github_escaped(&b, items[i].file, strlen(items[i].file), true);
                if (items[i].line > 0)
                    ob_printf(&b, ",line=%ld", items[i].line);
                ob_putc(&b, ',');
            }
            ob_puts(&b, "title=envinject check::");
            put_item(&b, &items[i], put_github_data);
            ob_putc(&b, '\n');
        }
        break;
    default:
        ei_error_set(err, EI_USAGE, 0, NULL, NULL,
                     "check does not support --format=%s", ei_format_name(fmt));
        return -1;
    }
    return ob_finish(&b, out, err);
}

static void free_items(struct check_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(items[i].file);
    free(items);
}

/*
 * Returns 0 once the report is written, problems or not: the caller turns
 * r->problems into the exit status.
 */
int ei_output_check(FILE *out, const struct ei_resolution *r,
                    enum ei_format fmt, struct ei_error *err)
{
    const struct ei_problems *ps = &r->problems;
    struct check_item *items = calloc(ps->n + 1, sizeof(*items));
    if (items == NULL)
        return json_nomem(err);
    bool failed = false;
    for (size_t i = 0; i < ps->n; i++) {
        item_from_problem(&items[i], r, &ps->v[i]);
        failed |= is_failure(ps->v[i].rule);
    }
    int rc = check_report(out, items, ps->n, keys_checked(r), failed, fmt, err);
    free_items(items, ps->n);
    return rc;
}

int ei_output_check_failure(FILE *out, const struct ei_error *failure,
                            const char *config_dir, enum ei_format fmt,
                            struct ei_error *err)
{
    char message[EI_ERR_TEXT_LEN * 2];
    char text[sizeof(message) - EI_ERR_LAYER_LEN - 16];
    ei_error_describe(failure, text, sizeof(text));
    if (failure->layer[0] != '\0')
        snprintf(message, sizeof(message), "layer %s: %s", failure->layer,
                 text);
    else
        snprintf(message, sizeof(message), "%s", text);
    struct check_item it = {
        .rule = EI_RULE_ERROR,
        .message = message,
        .layer = failure->layer[0] != '\0' ? failure->layer : NULL,
        .locator = failure->locator[0] != '\0' ? failure->locator : NULL,
    };
    /* a file layer's locator is relative to the configuration's folder,
       a --layer's to the working directory */
    item_place(&it, config_dir, config_dir);
    if (it.file == NULL && config_dir != NULL)
        it.file = ei_place_file(it.locator, NULL, &it.line);
    int rc = check_report(out, &it, 1, 0, true, fmt, err);
    free(it.file);
    return rc;
}

/* The value of one side of a diff: hidden when the key is secret on
   either side, so that the plain side does not give the secret away. */
static const char *diff_value(const struct ei_entry *e, bool hide, bool reveal,
                              size_t *len)
{
    struct ei_entry tmp = *e;
    if (hide)
        tmp.flags |= EI_ENTRY_SECRET;
    return ei_output_value(&tmp, reveal, len);
}

static int json_push_key(json_t *arr, const char *key)
{
    return json_array_append_new(arr, json_string(key));
}

/* How a diff names its sides: diff's two environments, or --against's
   record and environment. */
struct diff_labels {
    const char *name_a, *name_b; /* "(only in NAME)" */
    const char *only_a, *only_b; /* the JSON arrays */
    const char *a, *b;           /* the members of a "different" object */
    bool layers;                 /* a and b are layer names, not values */
};

/* A diff being written: text into ob, or JSON into root. */
struct diff_out {
    const struct diff_labels *l;
    enum ei_format fmt;
    struct obuf ob;
    json_t *root, *only_a, *only_b, *diff;
    long failing; /* differences that fail --exit-code */
};

static int diff_out_open(struct diff_out *d, const struct diff_labels *l,
                         enum ei_format fmt, struct ei_error *err)
{
    memset(d, 0, sizeof(*d));
    d->l = l;
    d->fmt = fmt;
    if (fmt != EI_FMT_TEXT && fmt != EI_FMT_JSON) {
        ei_error_set(err, EI_USAGE, 0, NULL, NULL,
                     "diff does not support --format=%s", ei_format_name(fmt));
        return -1;
    }
    if (fmt == EI_FMT_TEXT)
        return 0;
    d->root = json_object();
    d->only_a = json_array();
    d->only_b = json_array();
    d->diff = json_array();
    if (d->root == NULL || d->only_a == NULL || d->only_b == NULL ||
        d->diff == NULL)
        return json_nomem(err);
    int bad = json_object_set(d->root, l->only_a, d->only_a);
    bad |= json_object_set(d->root, l->only_b, d->only_b);
    bad |= json_object_set(d->root, "different", d->diff);
    return bad != 0 ? json_nomem(err) : 0;
}

/* A key in one side only (a_side: side a's); it fails --exit-code
   whether it may differ or not. */
static int diff_only(struct diff_out *d, bool a_side, const char *key,
                     struct ei_error *err)
{
    d->failing++;
    if (d->fmt == EI_FMT_JSON)
        return json_push_key(a_side ? d->only_a : d->only_b, key) != 0
                   ? json_nomem(err)
                   : 0;
    ob_puts(&d->ob, a_side ? "- " : "+ ");
    ob_puts(&d->ob, key);
    ob_puts(&d->ob, "  (only in ");
    put_oneline_str(&d->ob, a_side ? d->l->name_a : d->l->name_b);
    ob_puts(&d->ob, ")\n");
    return 0;
}

/* A key whose values differ: sa and sb are what to show of each side
   (redacted values, or layer names). */
static int diff_changed(struct diff_out *d, const char *key, bool expected,
                        const char *sa, size_t la, const char *sb, size_t lb,
                        struct ei_error *err)
{
    if (!expected)
        d->failing++;
    if (d->fmt == EI_FMT_JSON) {
        json_t *ja = json_value(key, sa, la, err);
        json_t *jb = ja != NULL ? json_value(key, sb, lb, err) : NULL;
        if (jb == NULL) {
            json_decref(ja);
            return -1;
        }
        json_t *o = json_object();
        int bad = json_array_append_new(d->diff, o);
        bad |= json_object_set_new(o, "key", json_string(key));
        bad |= json_object_set_new(o, d->l->a, ja);
        bad |= json_object_set_new(o, d->l->b, jb);
        bad |= json_object_set_new(o, "expected", json_boolean(expected));
        return bad != 0 ? json_nomem(err) : 0;
    }
    ob_puts(&d->ob, "~ ");
    ob_puts(&d->ob, key);
    ob_puts(&d->ob, d->l->layers ? ": differs (layer " : ": ");
    put_oneline(&d->ob, sa, la);
    /* layers: "(layer vault)" when the same layer gave both */
    if (!d->l->layers || la != lb || memcmp(sa, sb, la) != 0) {
        ob_puts(&d->ob, " -> ");
        put_oneline(&d->ob, sb, lb);
    }
    ob_puts(&d->ob, d->l->layers ? ")" : "");
    ob_puts(&d->ob, expected ? " (expected)\n" : "\n");
    return 0;
}

/* Write the diff (rc 0) or drop it; the count of failing differences,
   or -1. */
static long diff_out_close(struct diff_out *d, FILE *out, int rc,
                           struct ei_error *err)
{
    if (rc == 0 && d->fmt == EI_FMT_JSON) {
        rc = ob_json(&d->ob, d->root);
        d->root = NULL;
        if (rc < 0)
            json_nomem(err);
    }
    json_decref(d->root);
    json_decref(d->only_a);
    json_decref(d->only_b);
    json_decref(d->diff);
    if (rc < 0) {
        ob_free(&d->ob);
        return -1;
    }
    if (ob_finish(&d->ob, out, err) < 0)
        return -1;
    return d->failing;
}

long ei_output_diff(FILE *out, const struct ei_resolution *a,
                    const char *name_a, const struct ei_resolution *b,
                    const char *name_b, const struct ei_diff_opts *o,
                    struct ei_error *err)
{
    const struct diff_labels labels = {
        .name_a = name_a != NULL ? name_a : "A",
        .name_b = name_b != NULL ? name_b : "B",
        .only_a = "only_in_a",
        .only_b = "only_in_b",
        .a = "a",
        .b = "b",
    };
    struct diff_out d;
    size_t na = 0, nb = 0;
    struct ei_entry **va = NULL, **vb = NULL;
    int rc = diff_out_open(&d, &labels, o->format, err);
    if (rc == 0) {
        va = ei_envset_sorted(a->final, &na);
        vb = ei_envset_sorted(b->final, &nb);
        if (va == NULL || vb == NULL)
            rc = json_nomem(err);
    }
    size_t i = 0, j = 0;
    while (rc == 0 && (i < na || j < nb)) {
        int c = i == na ? 1 : j == nb ? -1 : strcmp(va[i]->key, vb[j]->key);
        if (c != 0) {
            rc = diff_only(&d, c < 0, c < 0 ? va[i++]->key : vb[j++]->key,
                           err);
            continue;
        }
        const struct ei_entry *ea = va[i++], *eb = vb[j++];
        if (ei_secmem_cmp(ea->value, ea->value_len, eb->value, eb->value_len) ==
            0)
            continue;
        bool hide = (ea->flags | eb->flags) & EI_ENTRY_SECRET;
        size_t la, lb;
        const char *sa = diff_value(ea, hide, o->reveal, &la);
        const char *sb = diff_value(eb, hide, o->reveal, &lb);
        rc = diff_changed(&d, ea->key, ei_parity_expected(o->expect, ea->key),
                          sa, la, sb, lb, err);
    }
    free(va);
    free(vb);
    return diff_out_close(&d, out, rc, err);
}

long ei_output_against(FILE *out, const struct ei_resolution *r,
                       const char *name, const struct ei_audit_record *rec,
                       const struct ei_audit_key *k,
                       const struct ei_diff_opts *o, struct ei_error *err)
{
    const struct diff_labels labels = {
        .name_a = "the record",
        .name_b = name != NULL && name[0] != '\0' ? name
                                                  : "the current environment",
        .only_a = "only_in_record",
        .only_b = "only_in_environment",
        .a = "record_layer",
        .b = "layer",
        .layers = true,
    };
    struct diff_out d;
    size_t n = 0;
    struct ei_entry **v = NULL;
    int rc = diff_out_open(&d, &labels, o->format, err);
    /* the keys a start would give the program, as the record lists them:
       without those run takes out, and without the record's run -u keys */
    struct ei_exec_filter *f =
        rc == 0 ? ei_exec_filter_new(r, (const char *const *)rec->unset)
                : NULL;
    if (rc == 0 && (f == NULL || (v = ei_envset_sorted(r->final, &n)) == NULL))
        rc = json_nomem(err);
    size_t kept = 0;
    for (size_t x = 0; rc == 0 && x < n; x++) {
        int gone = ei_exec_filter_removes(f, v[x]->key);
        if (gone < 0)
            rc = json_nomem(err);
        else if (gone == 0)
            v[kept++] = v[x];
    }
    n = kept;
    ei_exec_filter_free(f);
    /* which record was compared: a log holds many */
    if (rc == 0 && o->format == EI_FMT_JSON &&
        json_object_set_new(d.root, "record",
                            json_pack("{s:I,s:s,s:s}", "line",
                                      (json_int_t)rec->line, "environment",
                                      rec->environment, "time",
                                      rec->time)) != 0)
        rc = json_nomem(err);
    size_t i = 0, j = 0;
    while (rc == 0 && (i < rec->keys_n || j < n)) {
        int c = i == rec->keys_n ? 1
                : j == n         ? -1
                                 : strcmp(rec->keys[i].name, v[j]->key);
        if (c != 0) {
            rc = diff_only(&d, c < 0,
                           c < 0 ? rec->keys[i++].name : v[j++]->key, err);
            continue;
        }
        const struct ei_audit_entry *ra = &rec->keys[i++];
        const struct ei_entry *e = v[j++];
        char hash[EI_AUDIT_HASH_HEX];
        ei_audit_value_hash(k, e->key, e->value, e->value_len, hash);
        if (sodium_memcmp(hash, ra->hash, sizeof(hash)) == 0)
            continue;
        const char *layer = layer_name(r, e->layer);
        rc = diff_changed(&d, e->key, ei_parity_expected(o->expect, e->key),
                          ra->layer, strlen(ra->layer), layer, strlen(layer),
                          err);
    }
    free(v);
    return diff_out_close(&d, out, rc, err);
}
