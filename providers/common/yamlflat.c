/* SPDX-License-Identifier: MIT */
/*
 * YAML streams read with libyaml's event parser into a compact tree (see
 * yamlflat.h), then flattened as jsonflat flattens JSON, so that YAML and
 * JSON files give the same names and values.  libyaml only parses:
 * anchors, aliases, merge keys, duplicate keys, tags and the Spring Boot
 * rules for several documents are done here.  The event API rather than
 * libyaml's document API: the latter keeps some 300 bytes per key and
 * value, and it refuses anchors defined twice, which YAML allows.  The
 * tree is one array of 32-byte nodes and one buffer of text rather than
 * a JSON tree: a jansson object costs an allocation per member, string and
 * hash table, which put a 5 MB file past 64 MiB and took as long as
 * libyaml's own parsing.
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
/* Deepest tree handed out by ei_yaml_to_json: dotted keys of later
   documents nest without a mapping per level in the file ("a.b.c: 1"),
   and the conversion recurses; flattening stops at YF_MAX_DEPTH anyway. */
#define YF_MAX_TREE_DEPTH 1024
/* Most nodes that aliases may copy in one stream (merge keys count, they
   copy through aliases).  A "billion laughs" file of 272 bytes asks for
   six million; real files repeat a few blocks of a few dozen nodes. */
#define YF_MAX_ALIAS_NODES 100000
/* Most bytes of text (keys and scalars) that aliases may copy in one
   stream: 100,000 aliases of one long string are as bad as a bomb. */
#define YF_MAX_ALIAS_BYTES (16u * 1024 * 1024)
/* A position (1-based line and column) kept in one integer. */
#define YF_COLS    ((json_int_t)1 << 20)
#define YF_NO_NAME "yaml"
#define YF_TAG     "tag:yaml.org,2002:"
/* The Spring Boot properties that select documents. */
#define YF_ON_PROFILE "spring.config.activate.on-profile"
#define YF_ON_CLOUD   "spring.config.activate.on-cloud-platform"
#define YF_LEGACY     "spring.profiles"
/* Spring's profile when none is active. */
#define YF_DEFAULT_PROFILE "default"
/* No node, no text: node numbers and text offsets are 32 bits. */
#define YF_NONE UINT32_MAX
/* The member index starts with this many slots (a power of two). */
#define YF_MIN_SLOTS 1024u

enum yf_kind { YF_SCALAR, YF_MAP, YF_SEQ, YF_GONE };

/*
 * One node: a scalar (its text), a mapping or a sequence (its children,
 * linked by next).  A mapping's member carries its key and the place of
 * the key, where the entries it gives start; other nodes their own place.
 * Texts are offsets into the tree's text buffer, NUL-terminated there.
 * A member removed (a selector, or a value a later document replaced) is
 * YF_GONE and skipped by every reader.
 */
struct yf_node {
    uint32_t key; /* text offset of the member's name, or YF_NONE */
    union {
        struct {
            uint32_t text, len;
        } s;
        struct {
            uint32_t first, last;
        } c;
    } u;
    uint32_t next;
    uint32_t line, col; /* 1-based */
    uint32_t kind;
};

/* The members of every mapping, by (mapping, name): open addressing with
   a keyed hash, since the names may come from a remote service. */
struct yf_slot {
    uint32_t map;
    uint32_t node; /* YF_NONE: empty */
    uint32_t hash;
};

struct yf_tree {
    struct yf_node *nodes;
    size_t n, cap;
    char *text; /* scalars may be secrets: wiped when it moves or goes */
    size_t text_len, text_cap;
    struct yf_slot *slots;
    size_t slots_n, used; /* slots_n a power of two, 0 before the first */
    unsigned char hash_key[crypto_shorthash_KEYBYTES];
};

/* A node once read, with what the limits of aliases need: its size in
   nodes, its text and its height in levels of mappings and sequences
   (0 for a scalar). */
struct yf_item {
    uint32_t node;
    size_t count;
    size_t bytes;
    size_t height;
    yaml_mark_t mark;
    bool merge_key;  /* a plain '<<' or a !!merge scalar */
    bool null_plain; /* plain untagged '', '~' or 'null': an empty document */
    bool anchored;
};

/* A mapping or sequence being read. */
struct yf_frame {
    uint32_t node;
    uint32_t *merges; /* the mappings to merge at its end, in order */
    size_t merges_n, merges_cap;
    char *anchor;
    yaml_mark_t mark;
    size_t count;
    size_t bytes;
    size_t height;
    bool is_map;
    bool have_key;
    bool key_merge;
    bool had_merge;
    uint32_t key; /* the pending key's text */
    uint32_t key_len;
    yaml_mark_t key_mark;
};

struct yf_read {
    const char *what;
    const char *buf;
    size_t len;
    const char *profile;
    struct ei_error *err;
    struct yf_frame stack[YF_MAX_DEPTH];
    size_t depth;
    json_t *anchors; /* name -> [node, count, height, bytes] */
    size_t alias_nodes;
    size_t alias_bytes;
    struct yf_item root;
    bool have_root;
    yaml_mark_t doc_mark;
    uint32_t out; /* the documents that apply, merged: a mapping */
    struct yf_tree t;
};

static json_int_t yf_pos(yaml_mark_t m)
{
    json_int_t col = (json_int_t)m.column + 1;
    if (col >= YF_COLS)
        col = YF_COLS - 1;
    return ((json_int_t)m.line + 1) * YF_COLS + col;
}

/* The place of a node as yf_error takes it. */
static json_int_t yf_node_pos(const struct yf_node *n)
{
    json_int_t col = n->col < YF_COLS ? n->col : YF_COLS - 1;
    return (json_int_t)n->line * YF_COLS + col;
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

/* --- the tree --- */

static void yf_tree_free(struct yf_tree *t)
{
    free(t->nodes);
    if (t->text != NULL)
        sodium_memzero(t->text, t->text_len);
    free(t->text);
    free(t->slots);
    memset(t, 0, sizeof(*t));
}

static struct yf_node *yf_at(const struct yf_tree *t, uint32_t i)
{
    return &t->nodes[i];
}

static const char *yf_text(const struct yf_tree *t, uint32_t off)
{
    return t->text + off;
}

/* A new node of kind, placed at mark; YF_NONE when memory is short. */
static uint32_t yf_new(struct yf_tree *t, enum yf_kind kind, size_t line,
                       size_t col)
{
    if (t->n == t->cap) {
        size_t cap = t->cap != 0 ? t->cap * 2 : 1024;
        if (cap >= YF_NONE || cap > SIZE_MAX / sizeof(*t->nodes))
            return YF_NONE;
        struct yf_node *nodes = realloc(t->nodes, cap * sizeof(*nodes));
        if (nodes == NULL)
            return YF_NONE;
        t->nodes = nodes;
        t->cap = cap;
    }
    struct yf_node *n = &t->nodes[t->n];
    n->key = YF_NONE;
    n->u.c.first = n->u.c.last = YF_NONE;
    n->next = YF_NONE;
    n->line = line < UINT32_MAX ? (uint32_t)line : UINT32_MAX;
    n->col = col < UINT32_MAX ? (uint32_t)col : UINT32_MAX;
    n->kind = kind;
    return (uint32_t)t->n++;
}

/* len bytes of text and a NUL into the buffer: its offset, or YF_NONE.
   The buffer grows by copying, so that no copy of a value is left behind
   unwiped by realloc. */
static uint32_t yf_put_text(struct yf_tree *t, const char *s, size_t len)
{
    if (len >= YF_NONE - 1 - t->text_len)
        return YF_NONE;
    /* s may be a part of the buffer itself (the head of a dotted name) */
    size_t inside = YF_NONE;
    if (t->text != NULL && s >= t->text && s < t->text + t->text_len)
        inside = (size_t)(s - t->text);
    if (t->text_len + len + 1 > t->text_cap) {
        size_t cap = t->text_cap != 0 ? t->text_cap : 4096;
        while (cap < t->text_len + len + 1)
            cap *= 2;
        if (cap >= YF_NONE)
            cap = YF_NONE - 1;
        char *text = malloc(cap);
        if (text == NULL)
            return YF_NONE;
        if (t->text != NULL) {
            memcpy(text, t->text, t->text_len);
            sodium_memzero(t->text, t->text_len);
            free(t->text);
        }
        t->text = text;
        t->text_cap = cap;
        if (inside != YF_NONE)
            s = text + inside;
    }
    uint32_t off = (uint32_t)t->text_len;
    memcpy(t->text + off, s, len);
    t->text[off + len] = '\0';
    t->text_len += len + 1;
    return off;
}

static uint32_t yf_hash(const struct yf_tree *t, uint32_t map, const char *k,
                        size_t k_len)
{
    unsigned char out[crypto_shorthash_BYTES];
    crypto_shorthash(out, (const unsigned char *)k, k_len, t->hash_key);
    uint32_t h = map * UINT32_C(0x9e3779b9);
    for (size_t i = 0; i < 4; i++)
        h ^= (uint32_t)out[i] << (8 * i);
    return h;
}

/* The slot of member k of map, or the empty slot where it would go. */
static struct yf_slot *yf_slot_find(const struct yf_tree *t, uint32_t map,
                                    const char *k, size_t k_len, uint32_t h)
{
    size_t mask = t->slots_n - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct yf_slot *s = &t->slots[i];
        if (s->node == YF_NONE)
            return s;
        if (s->hash == h && s->map == map) {
            const char *sk = yf_text(t, yf_at(t, s->node)->key);
            if (strlen(sk) == k_len && memcmp(sk, k, k_len) == 0)
                return s;
        }
    }
}

/* The member k of map, YF_NONE when it has none (or it is gone). */
static uint32_t yf_get(const struct yf_tree *t, uint32_t map, const char *k,
                       size_t k_len)
{
    if (t->slots_n == 0)
        return YF_NONE;
    const struct yf_slot *s =
        yf_slot_find(t, map, k, k_len, yf_hash(t, map, k, k_len));
    if (s->node == YF_NONE || yf_at(t, s->node)->kind == YF_GONE)
        return YF_NONE;
    return s->node;
}

static int yf_slots_grow(struct yf_tree *t)
{
    /* at most 70% full, as the core's envset: probe runs stay short */
    if ((t->used + 1) * 10 <= t->slots_n * 7)
        return 0;
    size_t n = t->slots_n != 0 ? t->slots_n * 2 : YF_MIN_SLOTS;
    if (n > SIZE_MAX / sizeof(struct yf_slot))
        return -1;
    struct yf_slot *slots = malloc(n * sizeof(*slots));
    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        slots[i].node = YF_NONE;
    for (size_t i = 0; i < t->slots_n; i++) {
        const struct yf_slot *s = &t->slots[i];
        if (s->node == YF_NONE)
            continue;
        size_t j = s->hash & (n - 1);
        while (slots[j].node != YF_NONE)
            j = (j + 1) & (n - 1);
        slots[j] = *s;
    }
    free(t->slots);
    t->slots = slots;
    t->slots_n = n;
    return 0;
}

/* Link child at the end of parent's children. */
static void yf_link(struct yf_tree *t, uint32_t parent, uint32_t child)
{
    struct yf_node *p = yf_at(t, parent);
    yf_at(t, child)->next = YF_NONE;
    if (p->u.c.last == YF_NONE)
        p->u.c.first = child;
    else
        yf_at(t, p->u.c.last)->next = child;
    p->u.c.last = child;
}

/* Make child, whose key is set, a member of map, unless map has a
   member of that name already: then 1, and nothing changes.  A gone
   member of the same name gives up its slot.  -1 when memory is short. */
static int yf_member_put(struct yf_tree *t, uint32_t map, uint32_t child)
{
    if (yf_slots_grow(t) != 0)
        return -1;
    const char *k = yf_text(t, yf_at(t, child)->key);
    size_t k_len = strlen(k);
    uint32_t h = yf_hash(t, map, k, k_len);
    struct yf_slot *s = yf_slot_find(t, map, k, k_len, h);
    if (s->node == YF_NONE)
        t->used++;
    else if (yf_at(t, s->node)->kind != YF_GONE)
        return 1;
    *s = (struct yf_slot){map, child, h};
    yf_link(t, map, child);
    return 0;
}

/* The same, for a name that map cannot have yet. */
static int yf_member_add(struct yf_tree *t, uint32_t map, uint32_t child)
{
    return yf_member_put(t, map, child) == 0 ? 0 : -1;
}

/* The children of a node, gone members skipped. */
static uint32_t yf_live(const struct yf_tree *t, uint32_t i)
{
    while (i != YF_NONE && yf_at(t, i)->kind == YF_GONE)
        i = yf_at(t, i)->next;
    return i;
}

#define yf_each(t, parent, i)                                                  \
    for (uint32_t i = yf_live((t), yf_at((t), (parent))->u.c.first);           \
         i != YF_NONE; i = yf_live((t), yf_at((t), i)->next))

/* A deep copy of node i, places kept (a merged key's line is where the
   anchored mapping wrote it), key as given.  The height was checked: the
   recursion is bounded.  YF_NONE when memory is short. */
static uint32_t yf_copy(struct yf_tree *t, uint32_t i, uint32_t key)
{
    const struct yf_node src = *yf_at(t, i);
    uint32_t c = yf_new(t, src.kind, src.line, src.col);
    if (c == YF_NONE)
        return YF_NONE;
    struct yf_node *n = yf_at(t, c);
    n->key = key;
    if (src.kind == YF_SCALAR) {
        n->u.s = src.u.s;
        return c;
    }
    yf_each(t, i, e)
    {
        uint32_t ce = yf_copy(t, e, yf_at(t, e)->key);
        if (ce == YF_NONE)
            return YF_NONE;
        if (src.kind == YF_SEQ)
            yf_link(t, c, ce);
        else if (yf_member_add(t, c, ce) != 0)
            return YF_NONE;
    }
    return c;
}

static void yf_frame_drop(struct yf_frame *f)
{
    free(f->merges);
    free(f->anchor);
    memset(f, 0, sizeof(*f));
}

static enum ei_status yf_register(struct yf_read *r, const char *anchor,
                                  struct yf_item *n)
{
    if (anchor == NULL)
        return EI_OK;
    json_t *a = json_pack("[IIII]", (json_int_t)n->node, (json_int_t)n->count,
                          (json_int_t)n->height, (json_int_t)n->bytes);
    /* a later anchor of the same name hides the earlier (YAML 1.2 §3.2.2.2) */
    if (a == NULL || json_object_set_new(r->anchors, anchor, a) != 0)
        return yf_nomem(r);
    n->anchored = true;
    return EI_OK;
}

static enum ei_status yf_merge_source(struct yf_read *r, struct yf_frame *f,
                                      uint32_t value, yaml_mark_t mark)
{
    if (yf_at(&r->t, value)->kind != YF_MAP)
        return yf_error(r, EI_BADDATA, yf_pos(mark),
                        "the merge key '<<' takes a mapping or a list of "
                        "mappings");
    if (f->merges_n == f->merges_cap) {
        size_t cap = f->merges_cap != 0 ? f->merges_cap * 2 : 4;
        uint32_t *m = realloc(f->merges, cap * sizeof(*m));
        if (m == NULL)
            return yf_nomem(r);
        f->merges = m;
        f->merges_cap = cap;
    }
    f->merges[f->merges_n++] = value;
    return EI_OK;
}

static const char *yf_kind_name(const struct yf_node *n)
{
    return n->kind == YF_MAP ? "mapping" : "sequence";
}

/* A key read: checked, and kept as the frame's pending key. */
static enum ei_status yf_key(struct yf_read *r, struct yf_frame *f,
                             const struct yf_item *n)
{
    struct yf_tree *t = &r->t;
    const struct yf_node *k = yf_at(t, n->node);
    if (k->kind != YF_SCALAR)
        return yf_error(r, EI_BADDATA, yf_pos(n->mark),
                        "a mapping key must be a scalar, not a %s",
                        yf_kind_name(k));
    if (k->u.s.len == 0)
        return yf_error(r, EI_BADDATA, yf_pos(n->mark), "empty key");
    if (memchr(yf_text(t, k->u.s.text), '\0', k->u.s.len) != NULL)
        return yf_error(r, EI_BADDATA, yf_pos(n->mark),
                        "a key holds a NUL byte");
    if (n->merge_key && f->had_merge)
        return yf_error(r, EI_BADDATA, yf_pos(n->mark),
                        "duplicate merge key '<<'");
    f->have_key = true;
    f->key_merge = n->merge_key;
    f->had_merge |= n->merge_key;
    f->key = k->u.s.text;
    f->key_len = k->u.s.len;
    f->key_mark = n->mark;
    /* the key's node is not needed any more, unless an alias copies it */
    if (!n->anchored && n->node == t->n - 1)
        t->n--;
    return EI_OK;
}

/* A node read: the document's root, an element, a key or a value. */
static enum ei_status yf_add(struct yf_read *r, struct yf_item *n)
{
    if (r->depth == 0) {
        r->root = *n;
        r->have_root = true;
        return EI_OK;
    }
    struct yf_tree *t = &r->t;
    struct yf_frame *f = &r->stack[r->depth - 1];
    if (n->height + 1 > f->height)
        f->height = n->height + 1;
    f->count += n->count;
    f->bytes += n->bytes;
    if (!f->is_map) {
        yf_link(t, f->node, n->node);
        return EI_OK;
    }
    if (!f->have_key)
        return yf_key(r, f, n);
    f->have_key = false;
    if (f->key_merge) {
        if (yf_at(t, n->node)->kind != YF_SEQ)
            return yf_merge_source(r, f, n->node, n->mark);
        yf_each(t, n->node, v)
        {
            enum ei_status st = yf_merge_source(r, f, v, n->mark);
            if (st != EI_OK)
                return st;
        }
        return EI_OK;
    }
    /* the member's place is its key's, where its entries start */
    struct yf_node *v = yf_at(t, n->node);
    v->key = f->key;
    v->line = (uint32_t)f->key_mark.line + 1;
    v->col = (uint32_t)f->key_mark.column + 1;
    int put = yf_member_put(t, f->node, n->node);
    if (put > 0) {
        char safe[128];
        yf_safe(yf_text(t, f->key), f->key_len, safe, sizeof(safe));
        /* as Spring (SnakeYAML) and envinject's JSON reader do */
        return yf_error(r, EI_BADDATA, yf_pos(f->key_mark),
                        "duplicate key '%s'", safe);
    }
    if (put < 0)
        return yf_nomem(r);
    return EI_OK;
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
    f->node =
        yf_new(&r->t, is_map ? YF_MAP : YF_SEQ, mark.line + 1, mark.column + 1);
    f->anchor = anchor != NULL ? strdup((const char *)anchor) : NULL;
    r->depth++;
    if (f->node == YF_NONE || (anchor != NULL && f->anchor == NULL))
        return yf_nomem(r);
    return EI_OK;
}

/* Merge keys: explicit keys win, then earlier sources over later ones
   (yaml.org/type/merge.html), so each source fills only what is absent.
   The members are copied: a source may be anchored, and copied again. */
static enum ei_status yf_apply_merges(struct yf_read *r, struct yf_frame *f)
{
    struct yf_tree *t = &r->t;
    for (size_t i = 0; i < f->merges_n; i++) {
        yf_each(t, f->merges[i], m)
        {
            uint32_t key = yf_at(t, m)->key;
            const char *k = yf_text(t, key);
            if (yf_get(t, f->node, k, strlen(k)) != YF_NONE)
                continue;
            uint32_t c = yf_copy(t, m, key);
            if (c == YF_NONE || yf_member_add(t, f->node, c) != 0)
                return yf_nomem(r);
        }
    }
    return EI_OK;
}

static enum ei_status yf_pop(struct yf_read *r)
{
    struct yf_frame *f = &r->stack[--r->depth];
    enum ei_status st = f->merges_n > 0 ? yf_apply_merges(r, f) : EI_OK;
    struct yf_item n = {.node = f->node,
                        .count = f->count,
                        .bytes = f->bytes,
                        .height = f->height,
                        .mark = f->mark};
    if (st == EI_OK)
        st = yf_register(r, f->anchor, &n);
    yf_frame_drop(f);
    if (st != EI_OK)
        return st;
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
    struct yf_item n = {
        .node = yf_new(&r->t, YF_SCALAR, ev->start_mark.line + 1,
                       ev->start_mark.column + 1),
        .count = 1,
        .bytes = len,
        .mark = ev->start_mark,
        .merge_key = merge || (plain && len == 2 && memcmp(v, "<<", 2) == 0),
        .null_plain = plain && (len == 0 || strcmp(v, "~") == 0 ||
                                strcmp(v, "null") == 0),
    };
    if (n.node == YF_NONE || len >= YF_NONE)
        return yf_nomem(r);
    uint32_t text = yf_put_text(&r->t, v, len);
    if (text == YF_NONE)
        return yf_nomem(r);
    struct yf_node *s = yf_at(&r->t, n.node);
    s->u.s.text = text;
    s->u.s.len = (uint32_t)len;
    st = yf_register(r, (const char *)ev->data.scalar.anchor, &n);
    if (st != EI_OK)
        return st;
    return yf_add(r, &n);
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
    uint32_t node = (uint32_t)json_integer_value(json_array_get(a, 0));
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
    /* a copy: merges and later documents change the tree in place; the
       text is shared, it never changes */
    struct yf_item n = {.node = yf_copy(&r->t, node, YF_NONE),
                        .count = count,
                        .bytes = bytes,
                        .height = height,
                        .mark = ev->start_mark};
    if (n.node == YF_NONE)
        return yf_nomem(r);
    return yf_add(r, &n);
}

/* --- Spring Boot's rules for several documents --- */

/* A property by its dotted name, written nested ("spring: {config: ...}"),
   dotted ("spring.config.activate.on-profile:") or both: the member. */
static uint32_t yf_find(const struct yf_tree *t, uint32_t map, const char *name)
{
    size_t n_len = strlen(name);
    yf_each(t, map, m)
    {
        const struct yf_node *v = yf_at(t, m);
        const char *k = yf_text(t, v->key);
        size_t k_len = strlen(k);
        if (k_len > n_len || memcmp(k, name, k_len) != 0)
            continue;
        if (k_len == n_len)
            return m;
        if (name[k_len] == '.' && v->kind == YF_MAP) {
            uint32_t f = yf_find(t, m, name + k_len + 1);
            if (f != YF_NONE)
                return f;
        }
    }
    return YF_NONE;
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
static int yf_on_profile(struct yf_read *r, uint32_t v, json_int_t pos)
{
    const struct yf_tree *t = &r->t;
    const char *profile = r->profile != NULL && r->profile[0] != '\0'
                              ? r->profile
                              : YF_DEFAULT_PROFILE;
    bool list = yf_at(t, v)->kind == YF_SEQ;
    uint32_t it = list ? yf_live(t, yf_at(t, v)->u.c.first) : v;
    int any = 0, count = 0;
    for (; it != YF_NONE;
         it = list ? yf_live(t, yf_at(t, it)->next) : YF_NONE) {
        const struct yf_node *n = yf_at(t, it);
        if (n->kind != YF_SCALAR)
            goto bad;
        const char *s = yf_text(t, n->u.s.text);
        size_t len = n->u.s.len;
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

/* The mapping under member k of dst, made when absent; YF_NONE when k
   holds something else or memory is short.  k is a text offset, its
   first k_len bytes the name. */
static uint32_t yf_child(struct yf_tree *t, uint32_t dst, uint32_t k,
                         size_t k_len)
{
    uint32_t c = yf_get(t, dst, yf_text(t, k), k_len);
    if (c != YF_NONE)
        return yf_at(t, c)->kind == YF_MAP ? c : YF_NONE;
    /* a head of a dotted name needs a text of its own, NUL-terminated */
    if (yf_text(t, k)[k_len] != '\0' &&
        (k = yf_put_text(t, yf_text(t, k), k_len)) == YF_NONE)
        return YF_NONE;
    c = yf_new(t, YF_MAP, 0, 0);
    if (c == YF_NONE)
        return YF_NONE;
    yf_at(t, c)->key = k;
    return yf_member_add(t, dst, c) == 0 ? c : YF_NONE;
}

/*
 * Later documents win key by key, as Spring merges its flattened
 * properties: maps merge, anything else (lists included) is replaced
 * whole, and a dotted key ("db.url") is the same property as the nested
 * one (db: {url: ...}).  A dotted key whose head holds a scalar stays
 * as written, as both properties exist for Spring.  A replaced member
 * keeps its place in the order, a new one goes last.
 */
static int yf_merge_docs(struct yf_tree *t, uint32_t dst, uint32_t src)
{
    yf_each(t, src, m)
    {
        uint32_t into = dst;
        uint32_t seg = yf_at(t, m)->key;
        size_t seg_len = strlen(yf_text(t, seg));
        for (;;) {
            const char *s = yf_text(t, seg);
            const char *dot = memchr(s, '.', seg_len);
            size_t head = dot != NULL ? (size_t)(dot - s) : seg_len;
            if (dot == NULL || head == 0 || head + 1 == seg_len)
                break;
            uint32_t held = yf_get(t, into, s, head);
            if (held != YF_NONE && yf_at(t, held)->kind != YF_MAP)
                break;
            if ((into = yf_child(t, into, seg, head)) == YF_NONE)
                return -1;
            seg += (uint32_t)head + 1;
            seg_len -= head + 1;
        }
        uint32_t d = yf_get(t, into, yf_text(t, seg), seg_len);
        enum yf_kind dk = d != YF_NONE ? yf_at(t, d)->kind : YF_GONE;
        enum yf_kind vk = yf_at(t, m)->kind;
        if (dk == YF_MAP && vk == YF_MAP) {
            if (yf_merge_docs(t, d, m) != 0)
                return -1;
        } else if (vk == YF_MAP) {
            /* into an empty map, so that its dotted keys split too */
            if (d != YF_NONE)
                yf_at(t, d)->kind = YF_GONE;
            uint32_t child = yf_child(t, into, seg, seg_len);
            if (child == YF_NONE || yf_merge_docs(t, child, m) != 0)
                return -1;
        } else if (d != YF_NONE) {
            struct yf_node *dn = yf_at(t, d);
            const struct yf_node *mn = yf_at(t, m);
            dn->kind = mn->kind;
            dn->u = mn->u;
            dn->line = mn->line;
            dn->col = mn->col;
        } else {
            uint32_t c = yf_new(t, vk, 0, 0);
            if (c == YF_NONE)
                return -1;
            struct yf_node *cn = yf_at(t, c);
            const struct yf_node *mn = yf_at(t, m);
            *cn = *mn;
            cn->key = seg;
            if (yf_member_add(t, into, c) != 0)
                return -1;
        }
    }
    return 0;
}

/* Whether a mapping, or one it holds, has a dotted key: when none has,
   the first document that applies is taken as it is, not merged into an
   empty one (which would build every mapping twice). */
static bool yf_has_dots(const struct yf_tree *t, uint32_t map)
{
    yf_each(t, map, m)
    {
        const struct yf_node *v = yf_at(t, m);
        if (strchr(yf_text(t, v->key), '.') != NULL ||
            (v->kind == YF_MAP && yf_has_dots(t, m)))
            return true;
    }
    return false;
}

/* The place of a property for an error: a mapping's is none (0). */
static json_int_t yf_found_pos(const struct yf_tree *t, uint32_t m)
{
    const struct yf_node *n = yf_at(t, m);
    return n->kind == YF_MAP ? 0 : yf_node_pos(n);
}

static enum ei_status yf_document_end(struct yf_read *r)
{
    if (!r->have_root)
        return EI_OK;
    struct yf_tree *t = &r->t;
    struct yf_item *root = &r->root;
    r->have_root = false;
    uint32_t rn = root->node;
    enum yf_kind kind = yf_at(t, rn)->kind;
    uint32_t f;
    if (kind == YF_SCALAR) {
        if (!root->null_plain)
            return yf_error(r, EI_BADDATA, yf_pos(root->mark),
                            "top level is a scalar, expected a mapping");
        return EI_OK;
    }
    if (kind == YF_SEQ)
        return yf_error(r, EI_BADDATA, yf_pos(root->mark),
                        "top level is a sequence, expected a mapping");
    f = yf_find(t, rn, YF_LEGACY);
    if (f != YF_NONE && yf_at(t, f)->kind != YF_MAP)
        return yf_error(r, EI_BADDATA, yf_node_pos(yf_at(t, f)),
                        "%s was removed in Spring Boot 3: use %s", YF_LEGACY,
                        YF_ON_PROFILE);
    bool applies = true;
    f = yf_find(t, rn, YF_ON_PROFILE);
    if (f != YF_NONE) {
        /* a mapping has no place: the document's start then */
        json_int_t pos = yf_found_pos(t, f);
        int m = yf_on_profile(r, f, pos > 0 ? pos : yf_pos(r->doc_mark));
        if (m < 0)
            return EI_BADDATA;
        applies = m > 0;
        yf_at(t, f)->kind = YF_GONE;
        /* Spring Boot refuses these in a profile's document: they
           would choose profiles from inside one */
        static const char *const chosen[] = {
            YF_LEGACY ".active", YF_LEGACY ".include", YF_LEGACY ".default"};
        for (size_t i = 0; applies && i < 3; i++) {
            f = yf_find(t, rn, chosen[i]);
            if (f != YF_NONE)
                return yf_error(r, EI_BADDATA, yf_found_pos(t, f),
                                "%s is invalid in a document with %s (as "
                                "in Spring Boot): set it in one without",
                                chosen[i], YF_ON_PROFILE);
        }
    }
    /* envinject detects no cloud platform: such documents do not apply,
       as in Spring when it runs on none */
    if (yf_find(t, rn, YF_ON_CLOUD) != YF_NONE || !applies)
        return EI_OK;
    if (r->out == YF_NONE && !yf_has_dots(t, rn)) {
        r->out = rn;
        return EI_OK;
    }
    if (r->out == YF_NONE && (r->out = yf_new(t, YF_MAP, 0, 0)) == YF_NONE)
        return yf_nomem(r);
    if (yf_merge_docs(t, r->out, rn) != 0)
        return yf_nomem(r);
    return EI_OK;
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

/* --- flattening --- */

struct yf_walk {
    const struct yf_tree *t;
    const char *what;
    const char *path[YF_MAX_DEPTH];
    size_t n;
    ei_emit_fn emit;
    void *ctx;
    struct ei_error *err;
};

static enum ei_status yf_too_deep(struct yf_walk *w)
{
    return ei_parse_error(w->err, EI_BADDATA, w->what,
                          "nesting deeper than %d levels", YF_MAX_DEPTH);
}

static enum ei_status yf_emit(struct yf_walk *w, const char *value,
                              size_t value_len, int line)
{
    if (w->emit(w->ctx, w->path, w->n, value, value_len, line, 0, w->err) != 0)
        return ei_error_status(w->err, EI_INTERNAL);
    return EI_OK;
}

static enum ei_status yf_nul_in_string(struct yf_walk *w)
{
    char path[EI_ERR_TEXT_LEN];
    ei_jsonflat_path_text(w->path, w->n, path, sizeof(path));
    return ei_parse_error(w->err, EI_BADDATA, w->what,
                          "%s: string holds a NUL byte", path);
}

/* A node as JSON (strings, arrays, objects); NULL when memory is short or
   (*deep set) the tree is deeper than YF_MAX_TREE_DEPTH - level. */
static json_t *yf_json(const struct yf_tree *t, uint32_t i, size_t level,
                       bool *deep)
{
    const struct yf_node *n = yf_at(t, i);
    if (n->kind == YF_SCALAR)
        return json_stringn_nocheck(yf_text(t, n->u.s.text), n->u.s.len);
    if (level > YF_MAX_TREE_DEPTH) {
        *deep = true;
        return NULL;
    }
    json_t *j = n->kind == YF_MAP ? json_object() : json_array();
    yf_each(t, i, e)
    {
        json_t *c = yf_json(t, e, level + 1, deep);
        int rc = c == NULL           ? -1
                 : n->kind == YF_MAP ? json_object_set_new_nocheck(
                                           j, yf_text(t, yf_at(t, e)->key), c)
                                     : json_array_append_new(j, c);
        if (j == NULL || rc != 0) {
            json_decref(j);
            return NULL;
        }
    }
    return j;
}

/* Whether every node under i, i at level, sits at level YF_MAX_DEPTH or
   less, as jsonflat checks a list before writing it as JSON. */
static bool yf_depth_ok(const struct yf_tree *t, uint32_t i, size_t level)
{
    if (level > YF_MAX_DEPTH)
        return false;
    if (yf_at(t, i)->kind == YF_SCALAR)
        return true;
    yf_each(t, i, e)
    {
        if (!yf_depth_ok(t, e, level + 1))
            return false;
    }
    return true;
}

/* Compact JSON text of node i, as jsonflat writes a list that holds
   mappings or lists, at out + *o (out NULL: only counted).  The depth was
   checked. */
static void yf_put_json(const struct yf_tree *t, uint32_t i, char *out,
                        size_t *o)
{
    const struct yf_node *n = yf_at(t, i);
    if (n->kind == YF_SCALAR) {
        *o += ei_json_quoted(yf_text(t, n->u.s.text), n->u.s.len,
                             out != NULL ? out + *o : NULL);
        return;
    }
    bool map = n->kind == YF_MAP;
    if (out != NULL)
        out[*o] = map ? '{' : '[';
    ++*o;
    bool first = true;
    yf_each(t, i, e)
    {
        if (!first) {
            if (out != NULL)
                out[*o] = ',';
            ++*o;
        }
        first = false;
        if (map) {
            const char *k = yf_text(t, yf_at(t, e)->key);
            *o += ei_json_quoted(k, strlen(k), out != NULL ? out + *o : NULL);
            if (out != NULL)
                out[*o] = ':';
            ++*o;
        }
        yf_put_json(t, e, out, o);
    }
    if (out != NULL)
        out[*o] = map ? '}' : ']';
    ++*o;
}

/* The scalars of a sequence joined with ',' at out + *o (out NULL: only
   counted). */
static void yf_put_joined(const struct yf_tree *t, uint32_t seq, char *out,
                          size_t *o)
{
    bool first = true;
    yf_each(t, seq, e)
    {
        const struct yf_node *v = yf_at(t, e);
        if (!first) {
            if (out != NULL)
                out[*o] = ',';
            ++*o;
        }
        first = false;
        if (out != NULL)
            memcpy(out + *o, yf_text(t, v->u.s.text), v->u.s.len);
        *o += v->u.s.len;
    }
}

/*
 * A sequence as jsonflat writes a list: its scalars joined with ',', or,
 * when it holds a mapping or a sequence, compact JSON text; the text is
 * measured first and written into a buffer of its size, wiped after.
 */
static enum ei_status yf_walk_seq(struct yf_walk *w, uint32_t seq, int line)
{
    const struct yf_tree *t = w->t;
    bool nested = false, nul = false;
    yf_each(t, seq, e)
    {
        const struct yf_node *v = yf_at(t, e);
        if (v->kind != YF_SCALAR)
            nested = true;
        else
            nul |= memchr(yf_text(t, v->u.s.text), '\0', v->u.s.len) != NULL;
    }
    if (nested && !yf_depth_ok(t, seq, w->n))
        return yf_too_deep(w);
    /* JSON text escapes a NUL, so only joined text refuses it */
    if (!nested && nul)
        return yf_nul_in_string(w);
    void (*put)(const struct yf_tree *, uint32_t, char *, size_t *) =
        nested ? yf_put_json : yf_put_joined;
    size_t len = 0;
    put(t, seq, NULL, &len);
    char *buf = malloc(len + 1);
    if (buf == NULL)
        return ei_parse_error(w->err, EI_NOMEM, w->what, "out of memory");
    size_t o = 0;
    put(t, seq, buf, &o);
    buf[o] = '\0';
    enum ei_status st = yf_emit(w, buf, o, line);
    sodium_memzero(buf, len + 1);
    free(buf);
    return st;
}

/* Every member of a mapping, as jsonflat walks an object; each entry
   carries the line of its member's key. */
static enum ei_status yf_walk_map(struct yf_walk *w, uint32_t map)
{
    const struct yf_tree *t = w->t;
    yf_each(t, map, m)
    {
        const struct yf_node *v = yf_at(t, m);
        if (w->n >= YF_MAX_DEPTH)
            return yf_too_deep(w);
        w->path[w->n++] = yf_text(t, v->key);
        int line = v->line < INT32_MAX ? (int)v->line : 0;
        enum ei_status st;
        if (v->kind == YF_MAP)
            st = yf_walk_map(w, m);
        else if (v->kind == YF_SEQ)
            st = yf_walk_seq(w, m, line);
        else if (memchr(yf_text(t, v->u.s.text), '\0', v->u.s.len) != NULL)
            st = yf_nul_in_string(w);
        else
            st = yf_emit(w, yf_text(t, v->u.s.text), v->u.s.len, line);
        w->n--;
        if (st != EI_OK)
            return st;
    }
    return EI_OK;
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
    json_decref(r->anchors);
    yf_tree_free(&r->t);
    free(r);
}

/* The whole stream into r->out; *rp is the caller's to free with
   yf_read_free, whatever the status. */
static enum ei_status yf_read_all(const char *buf, size_t len, const char *what,
                                  const char *profile, struct yf_read **rp,
                                  struct ei_error *err)
{
    struct yf_read *r = *rp = calloc(1, sizeof(*r));
    if (r == NULL || sodium_init() < 0)
        return ei_parse_error(err, EI_NOMEM, what, "out of memory");
    r->what = what;
    r->buf = buf != NULL ? buf : "";
    r->len = len;
    r->profile = profile;
    r->err = err;
    r->out = YF_NONE;
    crypto_shorthash_keygen(r->t.hash_key);
    /* the text of a stream is about as long as the stream: room for it
       at once, so that the buffer seldom moves (pages never written
       cost no memory) */
    if (len < YF_NONE / 2 && (r->t.text = malloc(len + len / 4 + 1)) != NULL)
        r->t.text_cap = len + len / 4 + 1;
    r->anchors = json_object();
    yaml_parser_t p;
    if (r->anchors == NULL || !yaml_parser_initialize(&p))
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
    json_decref(r->anchors);
    r->anchors = NULL;
    return st;
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
    if (st == EI_OK && r->out != YF_NONE) {
        struct yf_walk w = {
            .t = &r->t, .what = what, .emit = emit, .ctx = ctx, .err = err};
        st = yf_walk_map(&w, r->out);
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
        bool deep = false;
        *out = r->out != YF_NONE ? yf_json(&r->t, r->out, 0, &deep)
                                 : json_object();
        if (*out == NULL && deep)
            st = ei_parse_error(err, EI_BADDATA, what,
                                "nesting deeper than %d levels",
                                YF_MAX_TREE_DEPTH);
        else if (*out == NULL)
            st = yf_nomem(r);
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
