/* SPDX-License-Identifier: MIT */
/* Flattens libconfig text (defaults files) into named entries (see
   cfgflat.h). */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <envinject/provider.h>
#include <jansson.h>
#include <libconfig.h>
#include <sodium.h>

#include "parse_error.h"
#include "cfgflat.h"
#include "cfgscan.h"
#include "emit.h"
#include "jsonflat.h"

/* Same limit as jsonflat.c, which applies it again to what is handed on:
   path segments plus nesting inside lists. */
#define CF_MAX_DEPTH 64
/* The locator when the caller gave no name. */
#define CF_NO_NAME "config"
#define CF_INCLUDE "@include"
/* ':' and the digits of the largest unsigned line number. */
#define CF_LINE_LEN 12
/* The decimal text of a 64-bit integer, its sign and the NUL. */
#define CF_NUM_LEN 24

struct cf_walk {
    const char *path[CF_MAX_DEPTH];
    size_t n;
    const char *file;
    const char *include_dir;
    ei_emit_fn emit;
    void *ctx;
    struct ei_error *err;
};

/* Puts the setting's line on what jsonflat emits (it knows none). */
struct cf_forward {
    ei_emit_fn emit;
    void *ctx;
    int line;
};

static int cf_forward_emit(void *ctx, const char *const *name, size_t name_n,
                           const char *value, size_t value_len, int line,
                           unsigned flags, struct ei_error *err)
{
    const struct cf_forward *f = ctx;
    return f->emit(f->ctx, name, name_n, value, value_len, f->line, flags, err);
}

/* libconfig reports the name an @include gave; 1.5 opens it as
   include_dir/NAME, absolute NAME included. */
static void cf_file_name(const struct cf_walk *w, const char *src, char *out,
                         size_t out_len)
{
    if (src == NULL)
        snprintf(out, out_len, "%s", w->file);
    else if (w->include_dir != NULL)
        snprintf(out, out_len, "%s/%s", w->include_dir, src);
    else
        snprintf(out, out_len, "%s", src);
}

static void cf_locator(const struct cf_walk *w, const char *src, unsigned line,
                       char *out, size_t out_len)
{
    /* Leaves room for ":LINE" after the longest name. */
    char name[EI_ERR_LOCATOR_LEN - CF_LINE_LEN];
    cf_file_name(w, src, name, sizeof(name));
    if (line > 0)
        snprintf(out, out_len, "%s:%u", name, line);
    else
        snprintf(out, out_len, "%s", name);
}

static void cf_setting_locator(const struct cf_walk *w,
                               const config_setting_t *s, char *out,
                               size_t out_len)
{
    cf_locator(w, config_setting_source_file(s), config_setting_source_line(s),
               out, out_len);
}

static void cf_path_text(const struct cf_walk *w, char *out, size_t out_len)
{
    size_t o = 0;
    for (size_t i = 0; i < w->n && o + 1 < out_len; i++) {
        if (i > 0)
            out[o++] = '.';
        for (const char *p = w->path[i]; *p != '\0' && o + 1 < out_len; p++)
            out[o++] = *p;
    }
    out[o] = '\0';
}

static enum ei_status cf_too_deep(const struct cf_walk *w, const char *loc)
{
    return ei_parse_error(w->err, EI_BADDATA, loc,
                          "nesting deeper than %d levels", CF_MAX_DEPTH);
}

/* Strict UTF-8 (no overlong forms, no surrogates, nothing above
   U+10FFFF), as jansson requires of strings in JSON text. */
static bool cf_utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t more;
        unsigned long cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            more = 1;
            cp = c & 0x1fu;
        } else if (c >= 0xe0 && c <= 0xef) {
            more = 2;
            cp = c & 0x0fu;
        } else if (c >= 0xf0 && c <= 0xf4) {
            more = 3;
            cp = c & 0x07u;
        } else
            return false;
        if (len - i <= more)
            return false;
        for (size_t k = 1; k <= more; k++) {
            if ((s[i + k] & 0xc0u) != 0x80u)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3fu);
        }
        if ((more == 2 && cp < 0x800) || (more == 3 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
            return false;
        i += more + 1;
    }
    return true;
}

/*
 * The value of s as a jansson tree, for jsonflat to format.  level is the
 * nesting level of s (path segments first).  in_json: s ends up in JSON
 * text, whose strings must be UTF-8; joined scalars are copied byte for
 * byte.  NULL with *st set on failure.
 */
static json_t *cf_to_json(const struct cf_walk *w, const config_setting_t *s,
                          size_t level, bool in_json, const char *loc,
                          enum ei_status *st)
{
    char path[EI_ERR_TEXT_LEN];
    if (level > CF_MAX_DEPTH) {
        *st = cf_too_deep(w, loc);
        return NULL;
    }
    json_t *j = NULL;
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT:
        j = json_integer(config_setting_get_int(s));
        break;
    case CONFIG_TYPE_INT64:
        j = json_integer(config_setting_get_int64(s));
        break;
    case CONFIG_TYPE_FLOAT: {
        double d = config_setting_get_float(s);
        /* libconfig turns 1e999 into infinity; no text of it would read
           back as what the file says. */
        if (!isfinite(d)) {
            cf_path_text(w, path, sizeof(path));
            *st = ei_parse_error(w->err, EI_BADDATA, loc,
                                 "%s: float out of range", path);
            return NULL;
        }
        j = json_real(d);
        break;
    }
    case CONFIG_TYPE_STRING: {
        const char *v = config_setting_get_string(s);
        size_t len = strlen(v);
        if (in_json && !cf_utf8_valid((const unsigned char *)v, len)) {
            cf_path_text(w, path, sizeof(path));
            *st = ei_parse_error(w->err, EI_BADDATA, loc,
                                 "%s: string in JSON text is not valid UTF-8 "
                                 "(%zu bytes)",
                                 path, len);
            return NULL;
        }
        j = json_stringn_nocheck(v, len);
        break;
    }
    case CONFIG_TYPE_BOOL:
        j = json_boolean(config_setting_get_bool(s));
        break;
    case CONFIG_TYPE_ARRAY:
    case CONFIG_TYPE_LIST:
    case CONFIG_TYPE_GROUP: {
        bool group = config_setting_type(s) == CONFIG_TYPE_GROUP;
        j = group ? json_object() : json_array();
        if (j == NULL)
            break;
        int count = config_setting_length(s);
        for (int i = 0; i < count; i++) {
            const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
            json_t *c = cf_to_json(w, e, level + 1, in_json, loc, st);
            if (c == NULL) {
                json_decref(j);
                return NULL;
            }
            /* Both steal c, even when they fail. */
            int rc = group ? json_object_set_new(j, config_setting_name(e), c)
                           : json_array_append_new(j, c);
            if (rc != 0) {
                json_decref(j);
                j = NULL;
                break;
            }
        }
        break;
    }
    default:
        *st =
            ei_parse_error(w->err, EI_INTERNAL, loc,
                           "unknown libconfig type %d", config_setting_type(s));
        return NULL;
    }
    if (j == NULL)
        *st = ei_parse_error(w->err, EI_NOMEM, loc, "out of memory");
    return j;
}

static bool cf_holds_aggregate(const config_setting_t *s)
{
    if (config_setting_type(s) != CONFIG_TYPE_LIST)
        return false;
    int count = config_setting_length(s);
    for (int i = 0; i < count; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (config_setting_is_aggregate(e))
            return true;
    }
    return false;
}

/* The line an entry carries: the emit callback knows only the main file,
   and a line of an included file would point into the wrong one, so those
   go out as unknown. */
static int cf_entry_line(const config_setting_t *s)
{
    return config_setting_source_file(s) != NULL
               ? 0
               : (int)config_setting_source_line(s);
}

/*
 * A string, integer or boolean, written as jsonflat writes it (strings as
 * they are, integers in decimal, true/false) without a JSON value built
 * for it: most settings of a defaults file are such, and the detour cost
 * two thirds of the flattening.  1 when emitted (or failed: *st says),
 * 0 when s is of another type.
 */
static int cf_plain_scalar(struct cf_walk *w, const config_setting_t *s,
                           enum ei_status *st)
{
    char num[CF_NUM_LEN];
    const char *v = num;
    size_t len;
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_STRING:
        v = config_setting_get_string(s);
        len = strlen(v);
        break;
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        len = (size_t)snprintf(num, sizeof(num), "%lld",
                               config_setting_get_int64(s));
        break;
    case CONFIG_TYPE_BOOL:
        v = config_setting_get_bool(s) ? "true" : "false";
        len = strlen(v);
        break;
    default:
        return 0;
    }
    *st = EI_OK;
    if (w->emit(w->ctx, w->path, w->n, v, len, cf_entry_line(s), 0, w->err) !=
        0)
        *st = ei_error_status(w->err, EI_INTERNAL);
    if (v == num) /* only an integer's digits were written there */
        sodium_memzero(num, sizeof(num));
    return 1;
}

/* One scalar, array or list: jsonflat formats it, so that both formats
   write numbers, joined lists and JSON text the same way. */
static enum ei_status cf_value(struct cf_walk *w, const config_setting_t *s)
{
    enum ei_status st = EI_OK;
    if (cf_plain_scalar(w, s, &st))
        return st;
    char loc[EI_ERR_LOCATOR_LEN];
    cf_setting_locator(w, s, loc, sizeof(loc));
    json_t *v = cf_to_json(w, s, w->n, cf_holds_aggregate(s), loc, &st);
    if (v == NULL)
        return st;
    json_t *wrap = json_object();
    if (wrap == NULL || json_object_set_new(wrap, w->path[w->n - 1], v) != 0) {
        if (wrap == NULL)
            json_decref(v);
        json_decref(wrap);
        return ei_parse_error(w->err, EI_NOMEM, loc, "out of memory");
    }
    struct cf_forward fwd = {w->emit, w->ctx, cf_entry_line(s)};
    st = ei_jsonflat_walk(wrap, w->path, w->n - 1, loc, cf_forward_emit, &fwd,
                          w->err);
    json_decref(wrap);
    return st;
}

static enum ei_status cf_group(struct cf_walk *w, const config_setting_t *g)
{
    int count = config_setting_length(g);
    for (int i = 0; i < count; i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        char loc[EI_ERR_LOCATOR_LEN];
        /* The text was checked for @include before parsing; this catches
           any other way libconfig might have read a file. */
        if (w->include_dir == NULL && config_setting_source_file(s) != NULL) {
            cf_setting_locator(w, s, loc, sizeof(loc));
            return ei_parse_error(w->err, EI_BADDATA, loc,
                                  CF_INCLUDE " is not allowed here");
        }
        if (w->n >= CF_MAX_DEPTH) {
            cf_setting_locator(w, s, loc, sizeof(loc));
            return cf_too_deep(w, loc);
        }
        w->path[w->n++] = config_setting_name(s);
        enum ei_status st =
            config_setting_is_group(s) ? cf_group(w, s) : cf_value(w, s);
        w->n--;
        if (st != EI_OK)
            return st;
    }
    return EI_OK;
}

static bool cf_is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* The 1-based line of the first line whose first non-blank text is
   @include, 0 if none.  libconfig ignores such a line inside a comment or
   a multi-line string, but refusing those too keeps this check simple
   enough to trust. */
static unsigned cf_find_include(const char *buf, size_t len)
{
    const size_t kw_len = sizeof(CF_INCLUDE) - 1;
    unsigned line = 1;
    size_t i = 0;
    while (i < len) {
        while (i < len && cf_is_blank(buf[i]))
            i++;
        if (len - i >= kw_len && memcmp(buf + i, CF_INCLUDE, kw_len) == 0)
            return line;
        const char *nl = memchr(buf + i, '\n', len - i);
        if (nl == NULL)
            break;
        i = (size_t)(nl - buf) + 1;
        line++;
    }
    return 0;
}

enum ei_status ei_cfgflat_parse(const char *buf, size_t len, const char *file,
                                const struct ei_cfgscan_includes *inc,
                                ei_emit_fn emit, void *ctx,
                                struct ei_error *err)
{
    const char *include_dir = inc != NULL ? inc->dir : NULL;
    struct cf_walk w = {.file = file != NULL ? file : CF_NO_NAME,
                        .include_dir = include_dir,
                        .emit = emit,
                        .ctx = ctx,
                        .err = err};
    char loc[EI_ERR_LOCATOR_LEN];
    if ((buf == NULL && len > 0) || emit == NULL)
        return ei_parse_error(err, EI_INTERNAL, w.file,
                              "bad arguments to the parser");
    if (len == 0)
        return EI_OK;
    char *text = NULL;
    size_t text_len = 0;
    /* libconfig 1.5 puts include_dir in front of absolute names too */
    struct ei_cfgscan_includes in_dir = {0};
    if (include_dir != NULL) {
        in_dir = *inc;
        in_dir.absolute_in_dir = true;
    }
    enum ei_status scanned = ei_cfgscan_with_includes(
        buf, len, w.file, include_dir != NULL ? &in_dir : NULL, &text,
        &text_len, err);
    if (scanned != EI_OK)
        return scanned;
    if (include_dir == NULL) {
        unsigned line = cf_find_include(buf, len);
        if (line > 0) {
            ei_cfgscan_free(text, text_len);
            cf_locator(&w, NULL, line, loc, sizeof(loc));
            return ei_parse_error(err, EI_BADDATA, loc,
                                  CF_INCLUDE " is not allowed here");
        }
    }

    config_t cfg;
    config_init(&cfg);
    if (include_dir != NULL)
        config_set_include_dir(&cfg, include_dir);
    int ok = config_read_string(&cfg, text);
    /* libconfig keeps its own copies; it cannot be asked to wipe them. */
    if (inc != NULL && inc->plain)
        ei_cfgscan_free_plain(text);
    else
        ei_cfgscan_free(text, text_len);

    enum ei_status st;
    if (ok != CONFIG_TRUE) {
        int line = config_error_line(&cfg);
        const char *what = config_error_text(&cfg);
        cf_locator(&w, config_error_file(&cfg), line > 0 ? (unsigned)line : 0,
                   loc, sizeof(loc));
        st = ei_parse_error(err, EI_BADDATA, loc, "%s",
                            what != NULL ? what : "malformed configuration");
    } else
        st = cf_group(&w, config_root_setting(&cfg));
    config_destroy(&cfg);
    return st;
}
