/* SPDX-License-Identifier: MIT */
/*
 * YAML streams read with libyaml's event parser into a JSON tree of
 * strings (see yamlflat.h), flattened by jsonflat so that YAML and JSON
 * files give the same names and values.  libyaml only parses: anchors,
 * aliases, merge keys, duplicate keys, tags and the Spring Boot rules for
 * several documents are done here.  The event API rather than libyaml's
 * document API: the latter keeps some 300 bytes per key and value, which
 * puts a 5 MB file past 64 MiB, and it refuses anchors defined twice,
 * which YAML allows.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <envinject/provider.h>
#include <jansson.h>
#include <sodium.h>

#include "emit.h"
#include "jsonflat.h"
#include "parse_error.h"
#include "yamlflat.h"

#ifdef EI_HAVE_LIBYAML
#include <yaml.h>

/* Deepest nesting of mappings and sequences, as jsonflat's limit: it also
   bounds the recursion of the copies and merges below. */
#define YF_MAX_DEPTH 64
/* Most nodes that aliases may copy in one stream (merge keys count, they
   copy through aliases).  A "billion laughs" file of 272 bytes asks for
   six million; real files repeat a few blocks of a few dozen nodes. */
#define YF_MAX_ALIAS_NODES 100000
/* Most bytes of text (keys and scalars) that aliases may copy in one
   stream: 100,000 aliases of one long string are as bad as a bomb. */
#define YF_MAX_ALIAS_BYTES (16u * 1024 * 1024)
/* A position (1-based line and column) kept in one JSON integer. */
#define YF_COLS    ((json_int_t)1 << 20)
#define YF_NO_NAME "yaml"
#define YF_TAG     "tag:yaml.org,2002:"
/* The Spring Boot properties that select documents. */
#define YF_ON_PROFILE "spring.config.activate.on-profile"
#define YF_ON_CLOUD   "spring.config.activate.on-cloud-platform"
#define YF_LEGACY     "spring.profiles"
/* Spring's profile when none is active. */
#define YF_DEFAULT_PROFILE "default"

/*
 * Where each string and array of the tree was written (for a mapping's
 * member, where its key was), by the address of its JSON value: an open
 * addressing table beside the tree rather than a second tree of the same
 * shape, which took as much memory and time again as the tree itself.
 * Every string and array gets its entry when it is made, so that an
 * address that jansson reuses is written over before it is read.
 */
struct yf_places {
    const json_t **keys;
    json_int_t *pos;
    size_t cap; /* a power of two, 0 before the first */
    size_t n;
};

/* A node once read: its value (string, object or array), its size in
   nodes and its height in levels of mappings and sequences (0 for a
   scalar). */
struct yf_node {
    json_t *value;
    size_t count;
    size_t bytes; /* text of its keys and scalars */
    size_t height;
    yaml_mark_t mark;
    bool merge_key;  /* a plain '<<' or a !!merge scalar */
    bool null_plain; /* plain untagged '', '~' or 'null': an empty document */
};

/* A mapping or sequence being read. */
struct yf_frame {
    json_t *value;
    json_t *merges; /* the mappings to merge at its end, in order */
    char *anchor;
    yaml_mark_t mark;
    size_t count;
    size_t bytes;
    size_t height;
    bool is_map;
    bool have_key;
    bool key_merge;
    bool had_merge;
    json_t *key; /* the pending key (a string) */
    json_int_t key_pos;
};

struct yf_read {
    const char *what;
    const char *buf;
    size_t len;
    const char *profile;
    struct ei_error *err;
    struct yf_frame stack[YF_MAX_DEPTH];
    size_t depth;
    json_t *anchors; /* name -> [value, count, height, bytes] */
    size_t alias_nodes;
    size_t alias_bytes;
    struct yf_node root;
    bool have_root;
    yaml_mark_t doc_mark;
    json_t *out; /* the documents that apply, merged */
    struct yf_places places;
    ei_emit_fn emit; /* the caller's, for the walk */
    void *emit_ctx;
};

static json_int_t yf_pos(yaml_mark_t m)
{
    json_int_t col = (json_int_t)m.column + 1;
    if (col >= YF_COLS)
        col = YF_COLS - 1;
    return ((json_int_t)m.line + 1) * YF_COLS + col;
}

static size_t yf_slot(const struct yf_places *t, const json_t *v)
{
    uint64_t h = (uint64_t)(uintptr_t)v * UINT64_C(0x9e3779b97f4a7c15);
    size_t i = (size_t)(h >> 32) & (t->cap - 1);
    while (t->keys[i] != NULL && t->keys[i] != v)
        i = (i + 1) & (t->cap - 1);
    return i;
}

static int yf_place_set(struct yf_places *t, const json_t *v, json_int_t pos)
{
    if ((t->n + 1) * 2 > t->cap) {
        struct yf_places old = *t;
        size_t cap = old.cap != 0 ? old.cap * 2 : 1024;
        t->keys = calloc(cap, sizeof(*t->keys));
        t->pos = malloc(cap * sizeof(*t->pos));
        if (t->keys == NULL || t->pos == NULL) {
            free(t->keys);
            free(t->pos);
            *t = old;
            return -1;
        }
        t->cap = cap;
        t->n = 0;
        for (size_t i = 0; i < old.cap; i++)
            if (old.keys[i] != NULL) {
                size_t j = yf_slot(t, old.keys[i]);
                t->keys[j] = old.keys[i];
                t->pos[j] = old.pos[i];
                t->n++;
            }
        free(old.keys);
        free(old.pos);
    }
    size_t i = yf_slot(t, v);
    if (t->keys[i] == NULL) {
        t->keys[i] = v;
        t->n++;
    }
    t->pos[i] = pos;
    return 0;
}

static json_int_t yf_place(const struct yf_places *t, const json_t *v)
{
    if (t->cap == 0 || v == NULL)
        return 0;
    size_t i = yf_slot(t, v);
    return t->keys[i] != NULL ? t->pos[i] : 0;
}

/* Text from the file (names, tags, anchors) shown on one line. */
static void yf_safe(const char *s, size_t len, char *out, size_t out_len)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 4 < out_len; i++) {
        unsigned char c = (unsigned char)s[i];
        out[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (o + 4 >= out_len && o < len)
        memcpy(out + o, "...", 3), o += 3;
    out[o] = '\0';
}

__attribute__((format(printf, 4, 5))) static enum ei_status
yf_error(struct yf_read *r, enum ei_status st, json_int_t pos, const char *fmt,
         ...)
{
    char loc[EI_ERR_LOCATOR_LEN];
    char text[EI_ERR_TEXT_LEN];
    if (pos > 0)
        snprintf(loc, sizeof(loc), "%s:%lld:%lld", r->what,
                 (long long)(pos / YF_COLS), (long long)(pos % YF_COLS));
    else
        snprintf(loc, sizeof(loc), "%s", r->what);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    return ei_parse_error(r->err, st, loc, "%s", text);
}

static enum ei_status yf_nomem(struct yf_read *r)
{
    return ei_parse_error(r->err, EI_NOMEM, r->what,
                          "out of memory reading YAML");
}

/* libyaml's messages are fixed texts: they never quote the input. */
static enum ei_status yf_syntax(struct yf_read *r, const yaml_parser_t *p)
{
    if (p->error == YAML_MEMORY_ERROR)
        return yf_nomem(r);
    const char *problem = p->problem != NULL ? p->problem : "malformed YAML";
    if (p->error == YAML_READER_ERROR) {
        /* the reader gives a byte offset, not a mark */
        size_t off = p->problem_offset < r->len ? p->problem_offset : r->len;
        yaml_mark_t m = {off, 0, 0};
        for (size_t i = 0; i < off; i++) {
            if (r->buf[i] == '\n') {
                m.line++;
                m.column = 0;
            } else if (((unsigned char)r->buf[i] & 0xc0) != 0x80)
                m.column++;
        }
        return yf_error(r, EI_BADDATA, yf_pos(m), "%s (byte %zu)", problem,
                        off + 1);
    }
    if (p->context != NULL)
        return yf_error(r, EI_BADDATA, yf_pos(p->problem_mark),
                        "%s (%s at line %zu, column %zu)", problem, p->context,
                        p->context_mark.line + 1, p->context_mark.column + 1);
    return yf_error(r, EI_BADDATA, yf_pos(p->problem_mark), "%s", problem);
}

/* Tags: YAML's own scalar types are taken as text (no conversion: the
   value is what was written); any other tag asks for a meaning envinject
   does not give, so it is an error rather than a silent literal. */
static enum ei_status yf_check_tag(struct yf_read *r, const yaml_char_t *tag,
                                   yaml_mark_t mark, bool scalar, bool *merge)
{
    static const char *const scalars[] = {"str",  "int",       "float", "bool",
                                          "null", "timestamp", "merge"};
    if (tag == NULL || strcmp((const char *)tag, "!") == 0)
        return EI_OK;
    const char *t = (const char *)tag;
    if (strncmp(t, YF_TAG, strlen(YF_TAG)) == 0) {
        const char *name = t + strlen(YF_TAG);
        if (scalar) {
            for (size_t i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++)
                if (strcmp(name, scalars[i]) == 0) {
                    if (merge != NULL)
                        *merge = strcmp(name, "merge") == 0;
                    return EI_OK;
                }
        } else if (strcmp(name, "map") == 0 || strcmp(name, "seq") == 0)
            return EI_OK;
    }
    char safe[80];
    yf_safe(t, strlen(t), safe, sizeof(safe));
    return yf_error(r, EI_BADDATA, yf_pos(mark),
                    "unsupported tag '%s' (envinject reads every value as "
                    "text: remove the tag)",
                    safe);
}

static void yf_node_drop(struct yf_node *n)
{
    json_decref(n->value);
    n->value = NULL;
}

static void yf_frame_drop(struct yf_frame *f)
{
    json_decref(f->value);
    json_decref(f->merges);
    json_decref(f->key);
    free(f->anchor);
    memset(f, 0, sizeof(*f));
}

static enum ei_status yf_register(struct yf_read *r, const char *anchor,
                                  const struct yf_node *n)
{
    if (anchor == NULL)
        return EI_OK;
    json_t *a = json_pack("[OIII]", n->value, (json_int_t)n->count,
                          (json_int_t)n->height, (json_int_t)n->bytes);
    /* a later anchor of the same name hides the earlier (YAML 1.2 §3.2.2.2) */
    if (a == NULL || json_object_set_new(r->anchors, anchor, a) != 0)
        return yf_nomem(r);
    return EI_OK;
}

/* The position a member gets: its key's, where the entry starts. */
static int yf_at_key(struct yf_read *r, const json_t *v, json_int_t pos)
{
    if (json_is_object(v))
        return 0;
    return yf_place_set(&r->places, v, pos);
}

static enum ei_status yf_merge_source(struct yf_read *r, struct yf_frame *f,
                                      json_t *value, yaml_mark_t mark)
{
    if (!json_is_object(value))
        return yf_error(r, EI_BADDATA, yf_pos(mark),
                        "the merge key '<<' takes a mapping or a list of "
                        "mappings");
    if (f->merges == NULL && (f->merges = json_array()) == NULL)
        return yf_nomem(r);
    if (json_array_append(f->merges, value) != 0)
        return yf_nomem(r);
    return EI_OK;
}

/* A node read: the document's root, an element, a key or a value. */
static enum ei_status yf_add(struct yf_read *r, struct yf_node *n)
{
    if (r->depth == 0) {
        r->root = *n;
        r->have_root = true;
        n->value = NULL;
        return EI_OK;
    }
    struct yf_frame *f = &r->stack[r->depth - 1];
    if (n->height + 1 > f->height)
        f->height = n->height + 1;
    f->count += n->count;
    f->bytes += n->bytes;
    enum ei_status st = EI_OK;
    if (!f->is_map) {
        if (json_array_append(f->value, n->value) != 0)
            st = yf_nomem(r);
    } else if (!f->have_key) {
        if (!json_is_string(n->value))
            st = yf_error(r, EI_BADDATA, yf_pos(n->mark),
                          "a mapping key must be a scalar, not a %s",
                          json_is_object(n->value) ? "mapping" : "sequence");
        else if (json_string_length(n->value) == 0)
            st = yf_error(r, EI_BADDATA, yf_pos(n->mark), "empty key");
        else if (memchr(json_string_value(n->value), '\0',
                        json_string_length(n->value)) != NULL)
            st = yf_error(r, EI_BADDATA, yf_pos(n->mark),
                          "a key holds a NUL byte");
        else if (n->merge_key && f->had_merge)
            st = yf_error(r, EI_BADDATA, yf_pos(n->mark),
                          "duplicate merge key '<<'");
        else {
            f->have_key = true;
            f->key_merge = n->merge_key;
            f->had_merge |= n->merge_key;
            f->key = json_incref(n->value);
            f->key_pos = yf_pos(n->mark);
        }
    } else if (f->key_merge) {
        if (json_is_array(n->value)) {
            size_t i;
            json_t *v;
            json_array_foreach(n->value, i, v)
            {
                st = yf_merge_source(r, f, v, n->mark);
                if (st != EI_OK)
                    break;
            }
        } else
            st = yf_merge_source(r, f, n->value, n->mark);
        f->have_key = false;
        json_decref(f->key);
        f->key = NULL;
    } else {
        const char *k = json_string_value(f->key);
        size_t k_len = json_string_length(f->key);
        if (json_object_getn(f->value, k, k_len) != NULL) {
            char safe[128];
            yf_safe(k, k_len, safe, sizeof(safe));
            /* as Spring (SnakeYAML) and envinject's JSON reader do */
            st =
                yf_error(r, EI_BADDATA, f->key_pos, "duplicate key '%s'", safe);
        } else if (yf_at_key(r, n->value, f->key_pos) != 0 ||
                   json_object_setn_nocheck(f->value, k, k_len, n->value) != 0)
            st = yf_nomem(r);
        f->have_key = false;
        json_decref(f->key);
        f->key = NULL;
    }
    yf_node_drop(n);
    return st;
}

static enum ei_status yf_push(struct yf_read *r, bool is_map,
                              const yaml_char_t *anchor, const yaml_char_t *tag,
                              yaml_mark_t mark)
{
    enum ei_status st = yf_check_tag(r, tag, mark, false, NULL);
    if (st != EI_OK)
        return st;
    if (r->depth >= YF_MAX_DEPTH)
        return yf_error(r, EI_BADDATA, yf_pos(mark),
                        "nesting deeper than %d levels", YF_MAX_DEPTH);
    struct yf_frame *f = &r->stack[r->depth];
    memset(f, 0, sizeof(*f));
    f->is_map = is_map;
    f->mark = mark;
    f->count = 1;
    f->height = 1;
    f->value = is_map ? json_object() : json_array();
    f->anchor = anchor != NULL ? strdup((const char *)anchor) : NULL;
    r->depth++;
    if (f->value == NULL || (anchor != NULL && f->anchor == NULL) ||
        (!is_map && yf_place_set(&r->places, f->value, yf_pos(mark)) != 0))
        return yf_nomem(r);
    return EI_OK;
}

/* Merge keys: explicit keys win, then earlier sources over later ones
   (yaml.org/type/merge.html), so each source fills only what is absent. */
static enum ei_status yf_apply_merges(struct yf_read *r, struct yf_frame *f)
{
    size_t i;
    json_t *value;
    json_array_foreach(f->merges, i, value)
    {
        const char *k;
        size_t k_len;
        json_t *v;
        json_object_keylen_foreach(value, k, k_len, v)
        {
            if (json_object_getn(f->value, k, k_len) != NULL)
                continue;
            if (json_object_setn_nocheck(f->value, k, k_len, v) != 0)
                return yf_nomem(r);
        }
    }
    return EI_OK;
}

static enum ei_status yf_pop(struct yf_read *r)
{
    struct yf_frame *f = &r->stack[--r->depth];
    enum ei_status st = f->merges != NULL ? yf_apply_merges(r, f) : EI_OK;
    struct yf_node n = {.value = f->value,
                        .count = f->count,
                        .bytes = f->bytes,
                        .height = f->height,
                        .mark = f->mark};
    f->value = NULL;
    if (st == EI_OK)
        st = yf_register(r, f->anchor, &n);
    yf_frame_drop(f);
    if (st != EI_OK) {
        yf_node_drop(&n);
        return st;
    }
    return yf_add(r, &n);
}

static enum ei_status yf_scalar(struct yf_read *r, yaml_event_t *ev)
{
    bool merge = false;
    enum ei_status st =
        yf_check_tag(r, ev->data.scalar.tag, ev->start_mark, true, &merge);
    if (st != EI_OK)
        return st;
    const char *v = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                 ev->data.scalar.tag == NULL;
    struct yf_node n = {
        .value = json_stringn_nocheck(v, len),
        .count = 1,
        .bytes = len,
        .mark = ev->start_mark,
        .merge_key = merge || (plain && len == 2 && memcmp(v, "<<", 2) == 0),
        .null_plain = plain && (len == 0 || strcmp(v, "~") == 0 ||
                                strcmp(v, "null") == 0),
    };
    if (n.value == NULL ||
        yf_place_set(&r->places, n.value, yf_pos(ev->start_mark)) != 0) {
        yf_node_drop(&n);
        return yf_nomem(r);
    }
    st = yf_register(r, (const char *)ev->data.scalar.anchor, &n);
    if (st != EI_OK) {
        yf_node_drop(&n);
        return st;
    }
    return yf_add(r, &n);
}

/* A deep copy whose strings and arrays keep the places of the original
   (a merged key's line is where the anchored mapping wrote it).  The
   height was checked: the recursion is bounded. */
static json_t *yf_copy(struct yf_read *r, json_t *v)
{
    json_t *c = NULL;
    if (json_is_string(v))
        c = json_stringn_nocheck(json_string_value(v), json_string_length(v));
    else if (json_is_array(v)) {
        c = json_array();
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            if (c != NULL && json_array_append_new(c, yf_copy(r, e)) != 0) {
                json_decref(c);
                c = NULL;
            }
        }
    } else if (json_is_object(v)) {
        c = json_object();
        const char *k;
        size_t k_len;
        json_t *e;
        json_object_keylen_foreach(v, k, k_len, e)
        {
            if (c != NULL &&
                json_object_setn_new_nocheck(c, k, k_len, yf_copy(r, e)) != 0) {
                json_decref(c);
                c = NULL;
            }
        }
        return c;
    }
    if (c != NULL &&
        yf_place_set(&r->places, c, yf_place(&r->places, v)) != 0) {
        json_decref(c);
        c = NULL;
    }
    return c;
}

static enum ei_status yf_alias(struct yf_read *r, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    json_t *a = json_object_get(r->anchors, name);
    char safe[80];
    yf_safe(name, strlen(name), safe, sizeof(safe));
    if (a == NULL)
        return yf_error(r, EI_BADDATA, yf_pos(ev->start_mark),
                        "undefined alias '*%s'", safe);
    size_t count = (size_t)json_integer_value(json_array_get(a, 1));
    size_t height = (size_t)json_integer_value(json_array_get(a, 2));
    size_t bytes = (size_t)json_integer_value(json_array_get(a, 3));
    if (bytes > YF_MAX_ALIAS_BYTES - r->alias_bytes)
        return yf_error(r, EI_BADDATA, yf_pos(ev->start_mark),
                        "aliases copy more than %u MiB of text (at '*%s'): "
                        "a file that expands this much is refused",
                        YF_MAX_ALIAS_BYTES >> 20, safe);
    if (count > YF_MAX_ALIAS_NODES - r->alias_nodes)
        return yf_error(r, EI_BADDATA, yf_pos(ev->start_mark),
                        "aliases expand past %d nodes (at '*%s'): a file "
                        "that expands this much is refused",
                        YF_MAX_ALIAS_NODES, safe);
    if (r->depth + height > YF_MAX_DEPTH)
        return yf_error(r, EI_BADDATA, yf_pos(ev->start_mark),
                        "nesting deeper than %d levels (through '*%s')",
                        YF_MAX_DEPTH, safe);
    r->alias_nodes += count;
    r->alias_bytes += bytes;
    /* a copy: merges and later documents change the tree in place */
    struct yf_node n = {.value = yf_copy(r, json_array_get(a, 0)),
                        .count = count,
                        .bytes = bytes,
                        .height = height,
                        .mark = ev->start_mark};
    if (n.value == NULL) {
        yf_node_drop(&n);
        return yf_nomem(r);
    }
    return yf_add(r, &n);
}

/* --- Spring Boot's rules for several documents --- */

/* A property by its dotted name, written nested ("spring: {config: ...}"),
   dotted ("spring.config.activate.on-profile:") or both; parent and key
   (the member's name in parent) let the caller remove it. */
struct yf_found {
    json_t *value;
    json_t *parent;
    const char *key;
    size_t key_len;
};

static bool yf_find(json_t *obj, const char *name, struct yf_found *f)
{
    size_t n_len = strlen(name);
    const char *k;
    size_t k_len;
    json_t *val;
    json_object_keylen_foreach(obj, k, k_len, val)
    {
        if (k_len > n_len || memcmp(k, name, k_len) != 0)
            continue;
        if (k_len == n_len) {
            *f = (struct yf_found){val, obj, k, k_len};
            return true;
        }
        if (name[k_len] == '.' && json_is_object(val) &&
            yf_find(val, name + k_len + 1, f))
            return true;
    }
    return false;
}

/* Spring's profile expressions (org.springframework.core.env.
   ProfilesParser): names, '!', '(' ')', and '&' or '|', which do not mix
   without parentheses. */
struct yf_expr {
    const char *p, *end;
    const char *profile;
    bool bad;
};

static bool yf_expr_seq(struct yf_expr *e);

static void yf_expr_space(struct yf_expr *e)
{
    while (e->p < e->end && (*e->p == ' ' || *e->p == '\t'))
        e->p++;
}

static bool yf_expr_operand(struct yf_expr *e)
{
    yf_expr_space(e);
    if (e->p == e->end) {
        e->bad = true;
        return false;
    }
    if (*e->p == '!') {
        e->p++;
        return !yf_expr_operand(e);
    }
    if (*e->p == '(') {
        e->p++;
        bool v = yf_expr_seq(e);
        yf_expr_space(e);
        if (e->p == e->end || *e->p != ')')
            e->bad = true;
        else
            e->p++;
        return v;
    }
    const char *start = e->p;
    while (e->p < e->end && strchr("()&|!", *e->p) == NULL)
        e->p++;
    const char *stop = e->p;
    while (stop > start && (stop[-1] == ' ' || stop[-1] == '\t'))
        stop--;
    if (stop == start) {
        e->bad = true;
        return false;
    }
    return strlen(e->profile) == (size_t)(stop - start) &&
           memcmp(e->profile, start, (size_t)(stop - start)) == 0;
}

static bool yf_expr_seq(struct yf_expr *e)
{
    bool v = yf_expr_operand(e);
    char op = 0;
    for (;;) {
        yf_expr_space(e);
        if (e->bad || e->p == e->end || *e->p == ')')
            return v;
        if (*e->p != '&' && *e->p != '|') {
            e->bad = true;
            return v;
        }
        if (op != 0 && *e->p != op) {
            e->bad = true; /* "a & b | c": Spring asks for parentheses */
            return v;
        }
        op = *e->p++;
        bool w = yf_expr_operand(e);
        v = op == '&' ? (v && w) : (v || w);
    }
}

/* 1: the expression matches, 0: it does not, -1: malformed. */
static int yf_expr_match(const char *s, size_t len, const char *profile)
{
    struct yf_expr e = {s, s + len, profile, false};
    bool v = yf_expr_seq(&e);
    yf_expr_space(&e);
    if (e.bad || e.p != e.end)
        return -1;
    return v ? 1 : 0;
}

/* A list (YAML sequence, or a scalar with commas, as Spring binds a
   String[]) matches when one of its expressions does. */
static int yf_on_profile(struct yf_read *r, json_t *v, json_int_t pos)
{
    const char *profile = r->profile != NULL && r->profile[0] != '\0'
                              ? r->profile
                              : YF_DEFAULT_PROFILE;
    bool list = json_is_array(v);
    size_t n = list ? json_array_size(v) : 1;
    int any = 0, count = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *it = list ? json_array_get(v, i) : v;
        if (!json_is_string(it))
            goto bad;
        const char *s = json_string_value(it);
        size_t len = json_string_length(it);
        while (len > 0) {
            const char *comma = memchr(s, ',', len);
            size_t part = comma != NULL ? (size_t)(comma - s) : len;
            int m = yf_expr_match(s, part, profile);
            if (m < 0)
                goto bad;
            any |= m;
            count++;
            s += part + (comma != NULL ? 1 : 0);
            len -= part + (comma != NULL ? 1 : 0);
            if (comma != NULL && len == 0)
                goto bad;
        }
    }
    if (count == 0)
        goto bad;
    return any;
bad:
    yf_error(r, EI_BADDATA, pos,
             "%s: invalid profile expression (names with !, &, | and "
             "parentheses, or a list of them)",
             YF_ON_PROFILE);
    return -1;
}

/* The object under member k of dst, made when absent; NULL when k
   holds something else or memory is short. */
static json_t *yf_child(json_t *dst, const char *k, size_t k_len)
{
    json_t *c = json_object_getn(dst, k, k_len);
    if (c == NULL) {
        if (json_object_setn_new_nocheck(dst, k, k_len, json_object()) != 0)
            return NULL;
        c = json_object_getn(dst, k, k_len);
    }
    return json_is_object(c) ? c : NULL;
}

/*
 * Later documents win key by key, as Spring merges its flattened
 * properties: maps merge, anything else (lists included) is replaced
 * whole, and a dotted key ("db.url") is the same property as the nested
 * one (db: {url: ...}).  A dotted key whose head holds a scalar stays
 * as written, as both properties exist for Spring.
 */
static int yf_merge_docs(json_t *dst, json_t *src)
{
    const char *k;
    size_t k_len;
    json_t *v;
    json_object_keylen_foreach(src, k, k_len, v)
    {
        json_t *into = dst;
        const char *seg = k;
        size_t seg_len = k_len;
        for (;;) {
            const char *dot = memchr(seg, '.', seg_len);
            size_t head = dot != NULL ? (size_t)(dot - seg) : seg_len;
            if (dot == NULL || head == 0 || head + 1 == seg_len)
                break;
            json_t *held = json_object_getn(into, seg, head);
            if (held != NULL && !json_is_object(held))
                break;
            if ((into = yf_child(into, seg, head)) == NULL)
                return -1;
            seg += head + 1;
            seg_len -= head + 1;
        }
        json_t *d = json_object_getn(into, seg, seg_len);
        if (json_is_object(d) && json_is_object(v)) {
            if (yf_merge_docs(d, v) != 0)
                return -1;
        } else if (json_is_object(v)) {
            /* into an empty map, so that its dotted keys split too */
            if (d != NULL && json_object_deln(into, seg, seg_len) != 0)
                return -1;
            json_t *child = yf_child(into, seg, seg_len);
            if (child == NULL || yf_merge_docs(child, v) != 0)
                return -1;
        } else if (json_object_setn_nocheck(into, seg, seg_len, v) != 0)
            return -1;
    }
    return 0;
}

/* The selectors are read here and dropped: they say where a document
   applies, and are no setting of the program (an environment variable
   SPRING_PROFILES even stops Spring Boot 3 from starting). */
static void yf_drop(struct yf_found *f)
{
    json_object_deln(f->parent, f->key, f->key_len);
}

/* Whether a mapping, or one it holds, has a dotted key: when none has,
   the first document that applies is taken as it is, not merged into an
   empty one (which would build every mapping twice). */
static bool yf_has_dots(json_t *obj)
{
    const char *k;
    size_t k_len;
    json_t *v;
    json_object_keylen_foreach(obj, k, k_len, v)
    {
        if (memchr(k, '.', k_len) != NULL ||
            (json_is_object(v) && yf_has_dots(v)))
            return true;
    }
    return false;
}

static enum ei_status yf_document_end(struct yf_read *r)
{
    if (!r->have_root)
        return EI_OK;
    struct yf_node *root = &r->root;
    r->have_root = false;
    enum ei_status st = EI_OK;
    struct yf_found f;
    if (json_is_string(root->value)) {
        if (!root->null_plain)
            st = yf_error(r, EI_BADDATA, yf_pos(root->mark),
                          "top level is a scalar, expected a mapping");
    } else if (json_is_array(root->value))
        st = yf_error(r, EI_BADDATA, yf_pos(root->mark),
                      "top level is a sequence, expected a mapping");
    else if (yf_find(root->value, YF_LEGACY, &f) && !json_is_object(f.value))
        st = yf_error(r, EI_BADDATA, yf_place(&r->places, f.value),
                      "%s was removed in Spring Boot 3: use %s", YF_LEGACY,
                      YF_ON_PROFILE);
    else {
        bool applies = true;
        if (yf_find(root->value, YF_ON_PROFILE, &f)) {
            /* objects have no place (their address may be a freed
               string's): the document's start then */
            json_int_t pos =
                json_is_object(f.value) ? 0 : yf_place(&r->places, f.value);
            int m =
                yf_on_profile(r, f.value, pos > 0 ? pos : yf_pos(r->doc_mark));
            if (m < 0)
                st = EI_BADDATA;
            applies = m > 0;
            yf_drop(&f);
            /* Spring Boot refuses these in a profile's document: they
               would choose profiles from inside one */
            static const char *const chosen[] = {YF_LEGACY ".active",
                                                 YF_LEGACY ".include",
                                                 YF_LEGACY ".default"};
            for (size_t i = 0; st == EI_OK && applies && i < 3; i++)
                if (yf_find(root->value, chosen[i], &f))
                    st = yf_error(r, EI_BADDATA,
                                  json_is_object(f.value)
                                      ? 0
                                      : yf_place(&r->places, f.value),
                                  "%s is invalid in a document with %s (as "
                                  "in Spring Boot): set it in one without",
                                  chosen[i], YF_ON_PROFILE);
        }
        /* envinject detects no cloud platform: such documents do not
           apply, as in Spring when it runs on none */
        if (yf_find(root->value, YF_ON_CLOUD, &f))
            applies = false;
        if (st != EI_OK || !applies)
            ;
        else if (json_object_size(r->out) == 0 && !yf_has_dots(root->value)) {
            json_decref(r->out);
            r->out = json_incref(root->value);
        } else if (yf_merge_docs(r->out, root->value) != 0)
            st = yf_nomem(r);
    }
    yf_node_drop(root);
    return st;
}

static enum ei_status yf_event(struct yf_read *r, yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        /* anchors do not cross documents */
        json_object_clear(r->anchors);
        r->doc_mark = ev->start_mark;
        return EI_OK;
    case YAML_DOCUMENT_END_EVENT:
        return yf_document_end(r);
    case YAML_SCALAR_EVENT:
        return yf_scalar(r, ev);
    case YAML_ALIAS_EVENT:
        return yf_alias(r, ev);
    case YAML_SEQUENCE_START_EVENT:
        return yf_push(r, false, ev->data.sequence_start.anchor,
                       ev->data.sequence_start.tag, ev->start_mark);
    case YAML_MAPPING_START_EVENT:
        return yf_push(r, true, ev->data.mapping_start.anchor,
                       ev->data.mapping_start.tag, ev->start_mark);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return yf_pop(r);
    default:
        return EI_OK;
    }
}

/* libyaml frees without wiping: the values it read and its buffers may
   hold secrets. */
static void yf_event_wipe(yaml_event_t *ev)
{
    if (ev->type == YAML_SCALAR_EVENT && ev->data.scalar.value != NULL)
        sodium_memzero(ev->data.scalar.value, ev->data.scalar.length);
    yaml_event_delete(ev);
}

static void yf_parser_wipe(yaml_parser_t *p)
{
    if (p->buffer.start != NULL)
        sodium_memzero(p->buffer.start,
                       (size_t)(p->buffer.end - p->buffer.start));
    if (p->raw_buffer.start != NULL)
        sodium_memzero(p->raw_buffer.start,
                       (size_t)(p->raw_buffer.end - p->raw_buffer.start));
    yaml_parser_delete(p);
}

static void yf_read_free(struct yf_read *r)
{
    if (r == NULL)
        return;
    while (r->depth > 0)
        yf_frame_drop(&r->stack[--r->depth]);
    yf_node_drop(&r->root);
    json_decref(r->anchors);
    json_decref(r->out);
    free(r->places.keys);
    free(r->places.pos);
    free(r);
}

/* The whole stream into r->out; *rp is the caller's to free with
   yf_read_free, whatever the status. */
static enum ei_status yf_read_all(const char *buf, size_t len, const char *what,
                                  const char *profile, struct yf_read **rp,
                                  struct ei_error *err)
{
    struct yf_read *r = *rp = calloc(1, sizeof(*r));
    if (r == NULL)
        return ei_parse_error(err, EI_NOMEM, what, "out of memory");
    r->what = what;
    r->buf = buf != NULL ? buf : "";
    r->len = len;
    r->profile = profile;
    r->err = err;
    r->anchors = json_object();
    r->out = json_object();
    yaml_parser_t p;
    if (r->anchors == NULL || r->out == NULL || !yaml_parser_initialize(&p))
        return yf_nomem(r);
    yaml_parser_set_input_string(&p, (const unsigned char *)r->buf, len);
    enum ei_status st = EI_OK;
    for (bool end = false; !end && st == EI_OK;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            st = yf_syntax(r, &p);
            break;
        }
        end = ev.type == YAML_STREAM_END_EVENT;
        st = yf_event(r, &ev);
        yf_event_wipe(&ev);
    }
    yf_parser_wipe(&p);
    /* the tree stays; what built it goes before the walk */
    json_decref(r->anchors);
    r->anchors = NULL;
    return st;
}

/* The walk's entries, each with the line of its key. */
static int yf_forward(void *ctx, const char *const *name, size_t name_n,
                      const char *value, size_t value_len, int line,
                      unsigned flags, struct ei_error *err)
{
    const struct yf_read *r = ctx;
    const json_t *v = r->out;
    for (size_t i = 0; i < name_n && v != NULL; i++)
        v = json_object_get(v, name[i]);
    json_int_t pos = yf_place(&r->places, v);
    if (pos > 0)
        line = (int)(pos / YF_COLS);
    return r->emit(r->emit_ctx, name, name_n, value, value_len, line, flags,
                   err);
}

bool ei_yamlflat_available(void)
{
    return true;
}

enum ei_status ei_yamlflat_parse(const char *buf, size_t len, const char *what,
                                 const char *profile, ei_emit_fn emit,
                                 void *ctx, struct ei_error *err)
{
    if (what == NULL)
        what = YF_NO_NAME;
    if ((buf == NULL && len > 0) || emit == NULL)
        return ei_parse_error(err, EI_INTERNAL, what,
                              "bad arguments to the parser");
    struct yf_read *r;
    enum ei_status st = yf_read_all(buf, len, what, profile, &r, err);
    if (st == EI_OK) {
        r->emit = emit;
        r->emit_ctx = ctx;
        st = ei_jsonflat_walk(r->out, NULL, 0, what, yf_forward, r, err);
    }
    yf_read_free(r);
    return st;
}

enum ei_status ei_yaml_to_json(const char *buf, size_t len, const char *what,
                               const char *profile, json_t **out,
                               struct ei_error *err)
{
    if (what == NULL)
        what = YF_NO_NAME;
    if (out == NULL || (buf == NULL && len > 0))
        return ei_parse_error(err, EI_INTERNAL, what,
                              "bad arguments to the parser");
    *out = NULL;
    struct yf_read *r;
    enum ei_status st = yf_read_all(buf, len, what, profile, &r, err);
    if (st == EI_OK) {
        *out = r->out;
        r->out = NULL;
    }
    yf_read_free(r);
    return st;
}

#else /* !EI_HAVE_LIBYAML */

#define YF_MISSING                                                             \
    "YAML support is not built in: rebuild envinject with libyaml "            \
    "(Debian package libyaml-dev)"

bool ei_yamlflat_available(void)
{
    return false;
}

enum ei_status ei_yamlflat_parse(const char *buf, size_t len, const char *what,
                                 const char *profile, ei_emit_fn emit,
                                 void *ctx, struct ei_error *err)
{
    (void)buf;
    (void)len;
    (void)profile;
    (void)emit;
    (void)ctx;
    return ei_parse_error(err, EI_BADCONFIG, what, "%s", YF_MISSING);
}

enum ei_status ei_yaml_to_json(const char *buf, size_t len, const char *what,
                               const char *profile, json_t **out,
                               struct ei_error *err)
{
    (void)buf;
    (void)len;
    (void)profile;
    if (out != NULL)
        *out = NULL;
    return ei_parse_error(err, EI_BADCONFIG, what, "%s", YF_MISSING);
}

#endif
