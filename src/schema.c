/* SPDX-License-Identifier: MIT */
/* The schema and require rules: reading and checking rules, defaults,
   secret marking and the problem list that check reports and run refuses
   to start with. */
#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "diag.h"
#include "envset.h"
#include "opt.h"
#include "schema.h"
#include "secmem.h"

/* Room for the regerror text of an invalid pattern. */
#define SCHEMA_REGERR_LEN 128

static const char *const type_names[] = {
    [EI_TYPE_STRING] = "string", [EI_TYPE_INT] = "int",
    [EI_TYPE_BOOL] = "bool",     [EI_TYPE_ENUM] = "enum",
    [EI_TYPE_URL] = "url",       [EI_TYPE_REGEX] = "regex",
};
#define TYPE_N (sizeof(type_names) / sizeof(type_names[0]))

static const char *const bool_words[] = {"true", "false", "yes", "no",
                                         "on",   "off",   "1",   "0"};
#define BOOL_WORDS_N (sizeof(bool_words) / sizeof(bool_words[0]))

int ei_schema_type(const char *name)
{
    if (name == NULL)
        return -1;
    for (size_t i = 0; i < TYPE_N; i++)
        if (strcmp(name, type_names[i]) == 0)
            return (int)i;
    return -1;
}

const char *ei_schema_type_name(enum ei_type type)
{
    if ((unsigned)type >= TYPE_N)
        return "unknown";
    return type_names[type];
}

const struct ei_rule *ei_schema_rule(const struct ei_schema *schema,
                                     const char *key)
{
    if (schema == NULL || key == NULL)
        return NULL;
    for (size_t i = 0; i < schema->rules_n; i++)
        if (schema->rules[i].key != NULL &&
            strcmp(schema->rules[i].key, key) == 0)
            return &schema->rules[i];
    return NULL;
}

static void free_strv(char **v, size_t n)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void ei_schema_clear(struct ei_schema *schema)
{
    if (schema == NULL)
        return;
    for (size_t i = 0; i < schema->rules_n; i++) {
        struct ei_rule *rule = &schema->rules[i];
        free(rule->key);
        free_strv(rule->values, rule->values_n);
        free(rule->pattern);
        if (rule->re_ok)
            regfree(&rule->re);
        /* a default may be the value of a secret key */
        if (rule->def != NULL) {
            sodium_memzero(rule->def, strlen(rule->def));
            free(rule->def);
        }
        free(rule->where);
    }
    free(schema->rules);
    free_strv(schema->require, schema->require_n);
    free(schema->require_where);
    memset(schema, 0, sizeof(*schema));
}

/* Fields of a schema rule. */
static const char *const rule_fields[] = {
    "allow_empty", "default", "max",  "min",    "pattern",
    "required",    "secret",  "type", "values", NULL};

static bool rule_field(const char *name)
{
    for (const char *const *f = rule_fields; *f != NULL; f++)
        if (strcmp(*f, name) == 0)
            return true;
    return false;
}

/* A configuration error located at FILE:LINE, for tail calls. */
static int read_error(struct ei_error *err, const char *file, int line,
                      const char *text)
{
    char where[PATH_MAX + 32];
    snprintf(where, sizeof(where), "%s:%d", file, line);
    ei_error_set(err, EI_BADCONFIG, 0, NULL, where, "%s", text);
    return -1;
}

static int read_nomem(struct ei_error *err)
{
    ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory");
    return -1;
}

/* A field of a rule, or NULL when the rule does not have it. */
static const struct ei_opt *rule_member(const struct ei_opt *rule,
                                        const char *name)
{
    for (size_t i = 0; i < rule->kids_n; i++)
        if (strcmp(rule->kids[i].name, name) == 0)
            return &rule->kids[i];
    return NULL;
}

/* values: a list of strings, or a single string. */
static int read_values(struct ei_rule *r, const struct ei_opt *f,
                       const char *file, struct ei_error *err)
{
    size_t n = f->type == EI_OPT_LIST ? f->kids_n : 1;
    const struct ei_opt *v = f->type == EI_OPT_LIST ? f->kids : f;
    for (size_t i = 0; i < n; i++) {
        if (v[i].type != EI_OPT_STRING) {
            return read_error(err, file, f->line,
                              "schema values must be a list of strings");
        }
    }
    r->values = calloc(n + 1, sizeof(*r->values));
    if (r->values == NULL)
        return read_nomem(err);
    r->values_n = n;
    for (size_t i = 0; i < n; i++) {
        r->values[i] = strdup(v[i].str);
        if (r->values[i] == NULL)
            return read_nomem(err);
    }
    return 0;
}

static int read_rule(struct ei_rule *r, const struct ei_opt *o,
                     const char *file, struct ei_error *err)
{
    const char *key = o->name;
    r->where = ei_opt_where(file, o->line);
    r->key = strdup(key);
    if (r->where == NULL || r->key == NULL)
        return read_nomem(err);
    if (!ei_key_valid(key, strlen(key)))
        return ei_error_set(err, EI_BADCONFIG, 0, NULL, r->where,
                            "'%s' is not a valid variable name (schema)", key),
               -1;
    if (o->type != EI_OPT_GROUP)
        return ei_error_set(err, EI_BADCONFIG, 0, NULL, r->where,
                            "schema: %s must be a group such as "
                            "{ type = \"string\"; }",
                            key),
               -1;
    for (size_t i = 0; i < o->kids_n; i++)
        if (!rule_field(o->kids[i].name))
            return ei_error_set(err, EI_BADCONFIG, 0, NULL, r->where,
                                "%s: unknown field '%s'", key, o->kids[i].name),
                   -1;
    const char *type = "string";
    const struct ei_opt *f = rule_member(o, "type");
    if (f != NULL) {
        if (f->type != EI_OPT_STRING)
            return ei_error_set(err, EI_BADCONFIG, 0, NULL, r->where,
                                "%s: type must be a string", key),
                   -1;
        type = f->str;
    }
    int t = ei_schema_type(type);
    if (t < 0)
        return ei_error_set(err, EI_BADCONFIG, 0, NULL, r->where,
                            "%s: unknown type '%s' (expected string, "
                            "int, bool, enum, url or regex)",
                            key, type),
               -1;
    r->type = (enum ei_type)t;
    static const char *const ints[] = {"min", "max"};
    bool *const has[] = {&r->has_min, &r->has_max};
    long long *const num[] = {&r->min, &r->max};
    for (size_t i = 0; i < 2; i++) {
        f = rule_member(o, ints[i]);
        if (f == NULL)
            continue;
        if (f->type != EI_OPT_INT)
            return ei_error_set(err, EI_BADCONFIG, 0, NULL, r->where,
                                "%s: %s must be an integer", key, ints[i]),
                   -1;
        *has[i] = true;
        *num[i] = f->num;
    }
    f = rule_member(o, "values");
    if (f != NULL && read_values(r, f, file, err) < 0)
        return -1;
    f = rule_member(o, "pattern");
    if (f != NULL) {
        if (f->type != EI_OPT_STRING)
            return ei_error_set(err, EI_BADCONFIG, 0, NULL, r->where,
                                "%s: pattern must be a string", key),
                   -1;
        r->pattern = strdup(f->str);
        if (r->pattern == NULL)
            return read_nomem(err);
    }
    f = rule_member(o, "default");
    if (f != NULL) {
        if (f->type == EI_OPT_LIST || f->type == EI_OPT_GROUP)
            return ei_error_set(err, EI_BADCONFIG, 0, NULL, r->where,
                                "%s: default must be a scalar", key),
                   -1;
        r->def = strdup(f->str);
        if (r->def == NULL)
            return read_nomem(err);
    }
    static const char *const bools[] = {"secret", "required", "allow_empty"};
    bool *const flags[] = {&r->secret, &r->required, &r->allow_empty};
    for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
        f = rule_member(o, bools[i]);
        if (f == NULL)
            continue;
        if (f->type != EI_OPT_BOOL)
            return ei_error_set(err, EI_BADCONFIG, 0, NULL, r->where,
                                "%s: %s must be true or false", key, bools[i]),
                   -1;
        *flags[i] = f->b;
    }
    return 0;
}

int ei_schema_read(struct ei_schema *schema, const struct ei_opt *group,
                   const char *file, struct ei_error *err)
{
    if (group->type != EI_OPT_GROUP) {
        return read_error(err, file, group->line,
                          "schema must be a group of rules");
    }
    if (group->kids_n == 0)
        return 0;
    schema->rules = calloc(group->kids_n, sizeof(*schema->rules));
    if (schema->rules == NULL)
        return read_nomem(err);
    for (size_t i = 0; i < group->kids_n; i++) {
        schema->rules_n = i + 1;
        if (read_rule(&schema->rules[i], &group->kids[i], file, err) < 0)
            return -1;
    }
    return 0;
}

/* An entry that counts as set: present and not unset by a layer. */
static const struct ei_entry *entry_set(const struct ei_envset *set,
                                        const char *key)
{
    struct ei_entry *e = ei_envset_get(set, key);
    if (e == NULL || (e->flags & EI_ENTRY_UNSET))
        return NULL;
    return e;
}

/*
 * Decimal integer with an optional sign, nothing else (no blanks, no
 * "0x"): strtoll alone would accept leading blanks and stop at junk.
 * Returns 0, -1 when not a number, -2 when out of range.
 */
static int parse_int(const char *s, size_t len, long long *out)
{
    size_t i = 0;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        i++;
    if (i == len)
        return -1;
    for (size_t j = i; j < len; j++)
        if (s[j] < '0' || s[j] > '9')
            return -1;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno == ERANGE)
        return -2;
    if (end != s + len)
        return -1;
    *out = v;
    return 0;
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **ei_schema_keys(const struct ei_schema *s, size_t *n)
{
    const char **v = calloc(s->rules_n + s->require_n + 1, sizeof(*v));
    if (v == NULL)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < s->rules_n; i++)
        v[k++] = s->rules[i].key;
    for (size_t i = 0; i < s->require_n; i++)
        v[k++] = s->require[i];
    qsort(v, k, sizeof(*v), cmp_key);
    size_t m = 0;
    for (size_t i = 0; i < k; i++)
        if (m == 0 || strcmp(v[i], v[m - 1]) != 0)
            v[m++] = v[i];
    *n = m;
    return v;
}

const char *const *ei_schema_bool_words(size_t *n)
{
    *n = BOOL_WORDS_N;
    return bool_words;
}

static bool valid_bool(const char *s)
{
    for (size_t i = 0; i < BOOL_WORDS_N; i++)
        if (strcasecmp(s, bool_words[i]) == 0)
            return true;
    return false;
}

static bool is_alpha(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/*
 * scheme://host...: a scheme as RFC 3986 spells it, then a host that is
 * not empty once any user-info is set aside and that is not a bare port.
 * No blank or control byte anywhere, since such a value is nearly always a
 * paste accident and breaks the clients that read it.
 */
static bool valid_url(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c == 0x7f)
            return false;
    }
    if (len == 0 || !is_alpha((unsigned char)s[0]))
        return false;
    size_t i = 1;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (!(is_alpha(c) || is_digit(c) || c == '+' || c == '.' || c == '-'))
            break;
        i++;
    }
    if (len - i < 3 || memcmp(s + i, "://", 3) != 0)
        return false;
    size_t auth = i + 3;
    size_t end = auth;
    while (end < len && s[end] != '/' && s[end] != '?' && s[end] != '#')
        end++;
    size_t host = auth;
    for (size_t j = auth; j < end; j++)
        if (s[j] == '@')
            host = j + 1;
    return host < end && s[host] != ':';
}

/* Whole-value match.  The pattern is compiled as ^(PATTERN)$, but an
   unbalanced ')' (which glibc takes as a literal) could still break the
   anchoring, so the extent of the match is checked too. */
static bool match_whole(const regex_t *re, const char *s, size_t len)
{
    regmatch_t m[1];
    if (regexec(re, s, 1, m, 0) != 0)
        return false;
    return m[0].rm_so == 0 && m[0].rm_eo >= 0 && (size_t)m[0].rm_eo == len;
}

/* One violation found by check_value: the rule's name and a malloc'd
   message without the "KEY: " prefix. */
struct violation {
    const char *rule;
    char *text;
};

static char *format_text(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static char *format_text(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    return n < 0 ? NULL : s;
}

/* "DEBUG, INFO, WARN, ERROR": enum values come from the configuration,
   never from a layer, so they may be shown. */
static char *join_values(const struct ei_rule *rule)
{
    size_t total = 1;
    for (size_t i = 0; i < rule->values_n; i++)
        total += strlen(rule->values[i]) + 2;
    char *s = malloc(total);
    if (s == NULL)
        return NULL;
    size_t off = 0;
    for (size_t i = 0; i < rule->values_n; i++) {
        size_t n = strlen(rule->values[i]);
        if (i > 0) {
            memcpy(s + off, ", ", 2);
            off += 2;
        }
        memcpy(s + off, rule->values[i], n);
        off += n;
    }
    s[off] = '\0';
    return s;
}

/*
 * Check one value against its rule.  Returns 0 when it passes, 1 with *v
 * filled when it breaks the rule, -1 when out of memory.  The message
 * never quotes the string: only its length, and the parsed number for the
 * bounds of a non-secret int.
 */
static int check_value(const struct ei_rule *rule, const char *value,
                       size_t len, bool secret, struct violation *v)
{
    v->rule = NULL;
    v->text = NULL;
    switch (rule->type) {
    case EI_TYPE_INT: {
        long long n = 0;
        int rc = parse_int(value, len, &n);
        if (rc < 0) {
            v->rule = "type";
            v->text = format_text(rc == -2 ? "integer out of range (%zu bytes)"
                                           : "not an integer (%zu bytes)",
                                  len);
            break;
        }
        if (rule->has_min && n < rule->min) {
            v->rule = "min";
            v->text = secret ? format_text("below the minimum %lld", rule->min)
                             : format_text("%lld is below the minimum %lld", n,
                                           rule->min);
        } else if (rule->has_max && n > rule->max) {
            v->rule = "max";
            v->text = secret ? format_text("above the maximum %lld", rule->max)
                             : format_text("%lld is above the maximum %lld", n,
                                           rule->max);
        }
        break;
    }
    case EI_TYPE_BOOL:
        if (!valid_bool(value)) {
            v->rule = "type";
            v->text = format_text("not a boolean (%zu bytes); expected "
                                  "true, false, yes, no, on, off, 1 or 0",
                                  len);
        }
        break;
    case EI_TYPE_ENUM: {
        bool found = false;
        for (size_t i = 0; i < rule->values_n && !found; i++)
            found = strcmp(value, rule->values[i]) == 0;
        if (!found) {
            v->rule = "enum";
            char *list = join_values(rule);
            if (list != NULL)
                v->text = format_text("not one of %s", list);
            free(list);
        }
        break;
    }
    case EI_TYPE_URL:
        if (!valid_url(value, len)) {
            v->rule = "type";
            v->text = format_text("not a URL of the form scheme://host "
                                  "(%zu bytes)",
                                  len);
        }
        break;
    case EI_TYPE_STRING:
    case EI_TYPE_REGEX:
        if (rule->re_ok && !match_whole(&rule->re, value, len)) {
            v->rule = "pattern";
            v->text = format_text("does not match the pattern %s (%zu bytes)",
                                  rule->pattern, len);
        }
        break;
    }
    if (v->rule == NULL)
        return 0;
    return v->text == NULL ? -1 : 1;
}

static int prepare_fail(struct ei_error *err, const struct ei_rule *rule,
                        const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int prepare_fail(struct ei_error *err, const struct ei_rule *rule,
                        const char *fmt, ...)
{
    char text[EI_ERR_TEXT_LEN];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (n < 0)
        text[0] = '\0';
    /* a cut text is still useful: ei_error_set marks the cut itself */
    ei_error_set(err, EI_BADCONFIG, 0, NULL, rule->where, "%s: %s", rule->key,
                 text);
    return -1;
}

static int prepare_rule(struct ei_rule *rule, struct ei_error *err)
{
    if (rule->re_ok) {
        regfree(&rule->re);
        rule->re_ok = false;
    }
    if (rule->has_min && rule->has_max && rule->min > rule->max)
        return prepare_fail(err, rule, "min %lld is greater than max %lld",
                            rule->min, rule->max);
    if ((rule->has_min || rule->has_max) && rule->type != EI_TYPE_INT)
        return prepare_fail(err, rule, "min and max need type int, not %s",
                            ei_schema_type_name(rule->type));
    if (rule->type == EI_TYPE_ENUM && rule->values_n == 0)
        return prepare_fail(err, rule, "type enum needs a list of values");
    if (rule->type != EI_TYPE_ENUM && rule->values_n > 0)
        return prepare_fail(err, rule, "values need type enum, not %s",
                            ei_schema_type_name(rule->type));
    if (rule->type == EI_TYPE_REGEX && rule->pattern == NULL)
        return prepare_fail(err, rule, "type regex needs a pattern");
    if (rule->pattern != NULL && rule->type != EI_TYPE_STRING &&
        rule->type != EI_TYPE_REGEX)
        return prepare_fail(err, rule,
                            "a pattern needs type string or regex, not %s",
                            ei_schema_type_name(rule->type));

    if (rule->pattern != NULL) {
        char *wrapped = format_text("^(%s)$", rule->pattern);
        if (wrapped == NULL) {
            ei_error_set(err, EI_NOMEM, ENOMEM, NULL, rule->where,
                         "out of memory");
            return -1;
        }
        int rc = regcomp(&rule->re, wrapped, REG_EXTENDED);
        free(wrapped);
        if (rc != 0) {
            char msg[SCHEMA_REGERR_LEN];
            regerror(rc, &rule->re, msg, sizeof(msg));
            return prepare_fail(err, rule, "invalid pattern: %s", msg);
        }
        rule->re_ok = true;
    }

    /* a default that refers to other keys is known only once expanded:
       ei_schema_check judges it then, as the value of layer "schema" */
    if (rule->def != NULL && strchr(rule->def, '$') == NULL) {
        struct violation v;
        /* describe the default by its shape only, as for a secret: the
           user has the configuration at hand */
        int rc = check_value(rule, rule->def, strlen(rule->def), true, &v);
        if (rc < 0) {
            ei_error_set(err, EI_NOMEM, ENOMEM, NULL, rule->where,
                         "out of memory");
            return -1;
        }
        if (rc > 0) {
            prepare_fail(err, rule, "the default breaks rule %s: %s", v.rule,
                         v.text);
            free(v.text);
            return -1;
        }
    }
    return 0;
}

int ei_schema_prepare(struct ei_schema *schema, struct ei_error *err)
{
    for (size_t i = 0; i < schema->rules_n; i++)
        if (prepare_rule(&schema->rules[i], err) < 0)
            return -1;
    return 0;
}

int ei_schema_apply(const struct ei_schema *schema, struct ei_envset *set,
                    struct ei_store *plain, struct ei_store *secret,
                    struct ei_error *err)
{
    for (size_t i = 0; i < schema->rules_n; i++) {
        const struct ei_rule *rule = &schema->rules[i];
        if (rule->def == NULL || entry_set(set, rule->key) != NULL)
            continue;
        struct ei_store *st = rule->secret ? secret : plain;
        size_t len = strlen(rule->def);
        struct ei_entry e = {
            .key = ei_store_strdup(plain, rule->key),
            .value = ei_store_strndup(st, rule->def, len),
            .value_len = len,
            .flags = rule->secret ? EI_ENTRY_SECRET : 0,
            .locator = rule->where != NULL ? ei_store_strdup(plain, rule->where)
                                           : NULL,
            .layer = EI_LAYER_SCHEMA,
            /* a layer that unset the key stays visible to explain */
            .below = ei_envset_get(set, rule->key),
        };
        if (e.key == NULL || e.value == NULL ||
            (rule->where != NULL && e.locator == NULL) ||
            ei_envset_put(set, &e, NULL) == NULL) {
            ei_error_set(err, EI_NOMEM, ENOMEM, NULL, rule->where,
                         "%s: out of memory applying the default", rule->key);
            return -1;
        }
    }

    for (size_t i = 0; i < schema->rules_n; i++) {
        const struct ei_rule *rule = &schema->rules[i];
        if (!rule->secret)
            continue;
        /*
         * A non-secret layer already copied this value to plain memory; the
         * flag cannot undo that and only affects redaction.  The values
         * the key had in lower layers are marked too, or explain would show
         * them.
         */
        for (struct ei_entry *e = ei_envset_get(set, rule->key); e != NULL;
             e = e->below)
            e->flags |= EI_ENTRY_SECRET;
    }
    return 0;
}

/*
 * Control bytes of a message (a pattern or an enum value can hold them)
 * become \xHH, so that the message reads the same on stderr, in check's
 * text and in its JSON.  Takes message; NULL when out of memory.
 */
static char *visible(char *message)
{
    if (message == NULL)
        return NULL;
    size_t ctl = 0, len = 0;
    for (; message[len] != '\0'; len++)
        ctl += (unsigned char)message[len] < 0x20 || message[len] == 0x7f;
    if (ctl == 0)
        return message;
    char *v = malloc(len + 3 * ctl + 1);
    if (v != NULL) {
        char *o = v;
        for (const char *p = message; *p != '\0'; p++) {
            unsigned char c = (unsigned char)*p;
            if (c < 0x20 || c == 0x7f) {
                static const char hex[] = "0123456789abcdef";
                *o++ = '\\';
                *o++ = 'x';
                *o++ = hex[c >> 4];
                *o++ = hex[c & 0xf];
            } else {
                *o++ = *p;
            }
        }
        *o = '\0';
    }
    free(message);
    return v;
}

/* Append a problem, taking message; key may be NULL. */
static int push_problem(struct ei_problems *out, const char *key,
                        const char *rule, char *message, int layer,
                        const char *locator, const char *where)
{
    message = visible(message);
    if (message == NULL)
        return -1;
    struct ei_problem *v = realloc(out->v, (out->n + 1) * sizeof(*v));
    if (v == NULL) {
        free(message);
        return -1;
    }
    out->v = v;
    struct ei_problem *p = &out->v[out->n];
    p->key = key != NULL ? strdup(key) : NULL;
    p->rule = strdup(rule);
    p->message = message;
    p->layer = layer;
    p->locator = locator;
    p->where = where;
    if ((key != NULL && p->key == NULL) || p->rule == NULL) {
        free(p->key);
        free(p->rule);
        free(message);
        return -1;
    }
    out->n++;
    return 0;
}

/* A problem of the value e (NULL: a key that is not set). */
static int add_problem(struct ei_problems *out, const char *key,
                       const char *rule, char *message,
                       const struct ei_entry *e, const char *where)
{
    return push_problem(out, key, rule, message,
                        e != NULL ? e->layer : EI_LAYER_NONE,
                        e != NULL ? e->locator : NULL, where);
}

int ei_problems_add(struct ei_problems *ps, const char *key, const char *rule,
                    const char *message, int layer, const char *locator,
                    const char *where)
{
    char *m = strdup(message);
    return m != NULL ? push_problem(ps, key, rule, m, layer, locator, where)
                     : -1;
}

static bool listed_before(char *const *list, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], key) == 0)
            return true;
    return false;
}

/*
 * A required key must be set and, unless its rule says allow_empty, not
 * empty: CI users know require from dotenv-safe, where an empty value
 * fails, and an empty DATABASE_URL is as useless as none.  The empty one
 * is reported where it was set.
 */
static int check_required(const struct ei_schema *schema,
                          const struct ei_envset *set, const char *key,
                          const char *where, struct ei_problems *out)
{
    const struct ei_entry *e = entry_set(set, key);
    if (e == NULL)
        return add_problem(out, key, "require",
                           format_text("%s is required but not set", key), NULL,
                           where);
    const struct ei_rule *rule = ei_schema_rule(schema, key);
    if (e->value_len > 0 || (rule != NULL && rule->allow_empty))
        return 0;
    return add_problem(out, key, "require",
                       format_text("%s is required but empty", key), e, where);
}

/* The key is required somewhere, by the list or by its rule. */
static bool is_required(const struct ei_schema *schema,
                        const struct ei_rule *rule)
{
    return rule->required ||
           listed_before(schema->require, schema->require_n, rule->key);
}

/* Drop what this call appended, so that out-of-memory leaves out as it
   was on entry. */
static long check_fail(struct ei_problems *out, size_t start)
{
    for (size_t i = start; i < out->n; i++) {
        free(out->v[i].key);
        free(out->v[i].rule);
        free(out->v[i].message);
    }
    out->n = start;
    return -1;
}

/*
 * Missing keys come first (require list, then rules with required = true
 * that the list does not name, each once), then rule violations in rule
 * order: a user fixes missing keys before wrong ones.
 */
long ei_schema_check(const struct ei_schema *schema,
                     const struct ei_envset *set, struct ei_problems *out)
{
    size_t start = out->n;

    size_t options_from = schema->require_n - schema->require_option_n;
    for (size_t i = 0; i < schema->require_n; i++) {
        const char *key = schema->require[i];
        if (listed_before(schema->require, i, key))
            continue;
        const char *where =
            i >= options_from ? EI_WHERE_REQUIRE_OPTION : schema->require_where;
        if (check_required(schema, set, key, where, out) < 0)
            return check_fail(out, start);
    }
    for (size_t i = 0; i < schema->rules_n; i++) {
        const struct ei_rule *rule = &schema->rules[i];
        if (!rule->required ||
            listed_before(schema->require, schema->require_n, rule->key))
            continue;
        if (check_required(schema, set, rule->key, rule->where, out) < 0)
            return check_fail(out, start);
    }

    for (size_t i = 0; i < schema->rules_n; i++) {
        const struct ei_rule *rule = &schema->rules[i];
        const struct ei_entry *e = entry_set(set, rule->key);
        if (e == NULL)
            continue;
        /* an empty value is either reported as missing above or allowed:
           either way its type says nothing more */
        if (e->value_len == 0 &&
            (rule->allow_empty || is_required(schema, rule)))
            continue;
        bool secret = (e->flags & EI_ENTRY_SECRET) || rule->secret;
        struct violation v;
        int rc = check_value(rule, e->value, e->value_len, secret, &v);
        if (rc < 0)
            return check_fail(out, start);
        if (rc == 0)
            continue;
        char *message = format_text("%s: %s", rule->key, v.text);
        free(v.text);
        if (add_problem(out, rule->key, v.rule, message, e, rule->where) < 0)
            return check_fail(out, start);
    }
    return (long)(out->n - start);
}

int ei_schema_require_option(struct ei_schema *schema, const char *key)
{
    char **v = realloc(schema->require, (schema->require_n + 2) * sizeof(*v));
    if (v == NULL)
        return -1;
    schema->require = v;
    v[schema->require_n] = strdup(key);
    if (v[schema->require_n] == NULL)
        return -1;
    v[++schema->require_n] = NULL;
    schema->require_option_n++;
    return 0;
}

void ei_problems_clear(struct ei_problems *p)
{
    if (p == NULL)
        return;
    check_fail(p, 0);
    free(p->v);
    p->v = NULL;
    p->n = 0;
}
