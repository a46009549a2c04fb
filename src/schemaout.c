/* SPDX-License-Identifier: MIT */
/*
 * The schema for other tools.  Values in a process environment are
 * strings, so the JSON Schema describes the object that print
 * --format=json writes: every property a string, its rule as a pattern
 * or an enum.  What JSON Schema cannot say of a string (an int's minimum
 * and maximum) is in the description.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "diag.h"
#include "obuf.h"
#include "output.h"
#include "schemaout.h"

#define JSON_SCHEMA_DRAFT "https://json-schema.org/draft/2020-12/schema"

/* strtoll's reading of a whole value: leading space, a sign, digits. */
#define INT_PATTERN "^[\\t\\n\\v\\f\\r ]*[+-]?[0-9]+$"
/* schema.c's URL check: a scheme, "://", a host that is not empty once
   any user-info is set aside and is no bare port, no blank or control */
#define URL_PATTERN                                                         \
    "^[A-Za-z][A-Za-z0-9+.-]*://([^\\x00-\\x20\\x7f/?#]*@)?"                \
    "[^\\x00-\\x20\\x7f/?#@:][^\\x00-\\x20\\x7f/?#@]*([/?#][^\\x00-\\x20\\x7f]*)?$"

/* POSIX bracket classes, which ECMA-262 patterns do not have. */
static const struct {
    const char *posix;
    const char *ecma;
} classes[] = {
    {"[:alpha:]", "A-Za-z"},     {"[:digit:]", "0-9"},
    {"[:alnum:]", "A-Za-z0-9"},  {"[:upper:]", "A-Z"},
    {"[:lower:]", "a-z"},        {"[:space:]", " \\t\\n\\r\\f\\v"},
    {"[:xdigit:]", "0-9A-Fa-f"}, {"[:blank:]", " \\t"},
    {"[:punct:]", "!-/:-@\\[-`{-~"},
};

static int nomem(struct ei_error *err)
{
    ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory");
    return -1;
}

/* ^(?:PATTERN)$ with the POSIX classes spelt out: schema.c matches the
   whole value. */
static char *ecma_pattern(const char *p)
{
    size_t cap = strlen(p) * 4 + 16;
    char *s = malloc(cap);
    if (s == NULL)
        return NULL;
    size_t n = 0;
    memcpy(s, "^(?:", 4);
    n = 4;
    while (*p != '\0') {
        bool done = false;
        for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
            size_t len = strlen(classes[i].posix);
            if (strncmp(p, classes[i].posix, len) == 0) {
                size_t e = strlen(classes[i].ecma);
                memcpy(s + n, classes[i].ecma, e);
                n += e;
                p += len;
                done = true;
                break;
            }
        }
        if (!done)
            s[n++] = *p++;
    }
    memcpy(s + n, ")$", 3);
    return s;
}

/* The bool words in any case: [Tt][Rr][Uu][Ee]|... */
static char *bool_pattern(void)
{
    size_t nw;
    const char *const *w = ei_schema_bool_words(&nw);
    size_t cap = 8;
    for (size_t i = 0; i < nw; i++)
        cap += strlen(w[i]) * 4 + 1;
    char *s = malloc(cap);
    if (s == NULL)
        return NULL;
    size_t n = 0;
    s[n++] = '^';
    s[n++] = '(';
    for (size_t i = 0; i < nw; i++) {
        if (i > 0)
            s[n++] = '|';
        for (const char *c = w[i]; *c != '\0'; c++) {
            if (*c >= 'a' && *c <= 'z') {
                s[n++] = '[';
                s[n++] = (char)(*c - 'a' + 'A');
                s[n++] = *c;
                s[n++] = ']';
            } else {
                s[n++] = *c;
            }
        }
    }
    s[n++] = ')';
    s[n++] = '$';
    s[n] = '\0';
    return s;
}

static bool required(const struct ei_schema *s, const char *key)
{
    for (size_t i = 0; i < s->require_n; i++)
        if (strcmp(s->require[i], key) == 0)
            return true;
    const struct ei_rule *r = ei_schema_rule(s, key);
    return r != NULL && r->required;
}

/* "int, from 1 to 65535, required, secret" (malloc'd). */
static char *describe(const struct ei_schema *s, const char *key)
{
    const struct ei_rule *r = ei_schema_rule(s, key);
    char buf[256];
    int n = snprintf(buf, sizeof(buf), "%s",
                     r != NULL ? ei_schema_type_name(r->type) : "string");
    if (r != NULL && r->type == EI_TYPE_INT) {
        if (r->has_min && r->has_max)
            n += snprintf(buf + n, sizeof(buf) - (size_t)n,
                          ", from %lld to %lld", r->min, r->max);
        else if (r->has_min)
            n += snprintf(buf + n, sizeof(buf) - (size_t)n, ", at least %lld",
                          r->min);
        else if (r->has_max)
            n += snprintf(buf + n, sizeof(buf) - (size_t)n, ", at most %lld",
                          r->max);
    }
    if (required(s, key))
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, ", required");
    if (r != NULL && r->allow_empty)
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, ", may be empty");
    if (r != NULL && r->secret)
        snprintf(buf + n, sizeof(buf) - (size_t)n, ", secret");
    return strdup(buf);
}

static int set_str(json_t *o, const char *name, const char *v)
{
    return json_object_set_new(o, name, json_string(v));
}

static json_t *property(const struct ei_schema *s, const char *key)
{
    const struct ei_rule *r = ei_schema_rule(s, key);
    json_t *p = json_object();
    char *desc = describe(s, key);
    if (p == NULL || desc == NULL || set_str(p, "type", "string") < 0 ||
        set_str(p, "description", desc) < 0) {
        free(desc);
        json_decref(p);
        return NULL;
    }
    free(desc);
    int rc = 0;
    if (required(s, key) && (r == NULL || !r->allow_empty))
        rc |= json_object_set_new(p, "minLength", json_integer(1));
    if (r != NULL) {
        char *pat = NULL;
        if (r->type == EI_TYPE_INT)
            pat = strdup(INT_PATTERN);
        else if (r->type == EI_TYPE_URL)
            pat = strdup(URL_PATTERN);
        else if (r->type == EI_TYPE_BOOL)
            pat = bool_pattern();
        else if (r->pattern != NULL &&
                 (r->type == EI_TYPE_STRING || r->type == EI_TYPE_REGEX))
            pat = ecma_pattern(r->pattern);
        if (pat == NULL && (r->type == EI_TYPE_INT ||
                            r->type == EI_TYPE_URL ||
                            r->type == EI_TYPE_BOOL || r->pattern != NULL))
            rc = -1;
        if (pat != NULL) {
            /* an empty value that the rule allows passes whatever the type */
            if (r->allow_empty) {
                size_t len = strlen(pat) + 8;
                char *p2 = malloc(len);
                if (p2 != NULL)
                    snprintf(p2, len, "^$|%s", pat);
                free(pat);
                pat = p2;
            }
            rc |= pat == NULL ? -1 : set_str(p, "pattern", pat);
            free(pat);
        }
        if (r->type == EI_TYPE_ENUM) {
            json_t *e = json_array();
            for (size_t i = 0; e != NULL && i < r->values_n; i++)
                rc |= json_array_append_new(e, json_string(r->values[i]));
            if (e != NULL && r->allow_empty)
                rc |= json_array_append_new(e, json_string(""));
            rc |= json_object_set_new(p, "enum", e);
        }
        if (r->def != NULL && !r->secret)
            rc |= set_str(p, "default", r->def);
        if (r->secret)
            rc |= json_object_set_new(p, "writeOnly", json_true());
    }
    if (rc != 0) {
        json_decref(p);
        return NULL;
    }
    return p;
}

static int write_json(struct obuf *b, const struct ei_config *cfg,
                      struct ei_error *err)
{
    const struct ei_schema *s = &cfg->schema;
    size_t n;
    const char **keys = ei_schema_keys(s, &n);
    json_t *root = json_object();
    json_t *props = json_object();
    json_t *req = json_array();
    if (keys == NULL || root == NULL || props == NULL || req == NULL)
        goto oom;
    char title[512];
    snprintf(title, sizeof(title), "envinject: %s%s%s",
             cfg->path != NULL ? cfg->path : "--layer",
             cfg->environment != NULL ? ", environment " : "",
             cfg->environment != NULL ? cfg->environment : "");
    if (set_str(root, "$schema", JSON_SCHEMA_DRAFT) < 0 ||
        set_str(root, "title", title) < 0 ||
        set_str(root, "description",
                "The resolved configuration as envinject print "
                "--format=json writes it: every value a string.") < 0 ||
        set_str(root, "type", "object") < 0)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        json_t *p = property(s, keys[i]);
        if (p == NULL || json_object_set_new(props, keys[i], p) < 0)
            goto oom;
        if (required(s, keys[i]) &&
            json_array_append_new(req, json_string(keys[i])) < 0)
            goto oom;
    }
    json_t *more = json_pack("{s:s}", "type", "string");
    if (json_object_set_new(root, "properties", props) < 0 ||
        json_object_set_new(root, "required", req) < 0 ||
        json_object_set_new(root, "additionalProperties", more) < 0) {
        props = req = NULL;
        goto oom;
    }
    free(keys);
    return ob_json(b, root);
oom:
    free(keys);
    json_decref(root);
    json_decref(props);
    json_decref(req);
    return nomem(err);
}

/* text on one comment line: line breaks as '?' */
static void put_comment_text(struct obuf *b, const char *s)
{
    for (; *s != '\0'; s++)
        ob_putc(b, *s == '\n' || *s == '\r' ? '?' : *s);
}

static int write_env_example(struct obuf *b, const struct ei_config *cfg,
                             struct ei_error *err)
{
    const struct ei_schema *s = &cfg->schema;
    size_t n;
    const char **keys = ei_schema_keys(s, &n);
    if (keys == NULL)
        return nomem(err);
    ob_puts(b, "# Written by envinject schema from ");
    put_comment_text(b, cfg->path != NULL ? cfg->path : "--layer");
    ob_puts(b, ".\n# Every key the configuration requires or describes, "
               "with its rule.\n# A required key has no value here: give it "
               "one. An optional key is\n# commented out unless it has a "
               "default.\n");
    for (size_t i = 0; i < n; i++) {
        const struct ei_rule *r = ei_schema_rule(s, keys[i]);
        char *desc = describe(s, keys[i]);
        if (desc == NULL) {
            free(keys);
            return nomem(err);
        }
        ob_puts(b, "\n# ");
        ob_puts(b, keys[i]);
        ob_puts(b, ": ");
        ob_puts(b, desc);
        free(desc);
        if (r != NULL && r->type == EI_TYPE_ENUM) {
            ob_puts(b, "; one of ");
            for (size_t k = 0; k < r->values_n; k++) {
                ob_puts(b, k > 0 ? ", " : "");
                put_comment_text(b, r->values[k]);
            }
        }
        if (r != NULL && r->pattern != NULL) {
            ob_puts(b, "; matching ");
            put_comment_text(b, r->pattern);
        }
        ob_putc(b, '\n');
        bool has_def = r != NULL && r->def != NULL && !r->secret;
        if (!has_def && !required(s, keys[i]))
            ob_puts(b, "# ");
        ob_puts(b, keys[i]);
        ob_putc(b, '=');
        if (has_def && ei_output_dotenv_value(b, keys[i], r->def,
                                              strlen(r->def), err) < 0) {
            free(keys);
            return -1;
        }
        ob_putc(b, '\n');
    }
    free(keys);
    return 0;
}

int ei_schemaout_write(FILE *out, const struct ei_config *cfg,
                       enum ei_schema_format fmt, struct ei_error *err)
{
    struct obuf b = {0};
    int rc = fmt == EI_SCHEMA_JSON ? write_json(&b, cfg, err)
                                   : write_env_example(&b, cfg, err);
    if (rc < 0) {
        ob_free(&b);
        return -1;
    }
    return ob_finish(&b, out, err);
}
