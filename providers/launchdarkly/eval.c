/* SPDX-License-Identifier: MIT */
/* LaunchDarkly's evaluation algorithm (the Go and Node server-side SDKs):
   prerequisites, targets, rules and their clauses, segments, rollouts with
   SHA-1 bucketing.  Where the SDKs could answer differently, or this code
   cannot follow them exactly (RE2/JavaScript regular expressions beyond
   what POSIX reads alike, big segments, unknown operators), the answer is
   an error that says so, never a guess.

   The document is compiled once, at load, into the structures below:
   operators as an enum, clause values read as what their operator wants
   (numbers, dates, semantic versions, compiled regular expressions,
   segments by index), target lists sorted for a binary search, attribute
   references parsed and shared.  A malformed part becomes the error it
   gives when an evaluation reaches it, in the order the SDKs check, so
   a flag that never reaches it still has its value. */
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/sha1.h"
#include "eval.h"
#include "scan.h"

/* kinds of one multi-kind context */
#define LD_KINDS_MAX 64
/* prerequisite chains and segment references, deeper is an error */
#define LD_DEPTH_MAX 100
/* components of an attribute reference, and its length */
#define LD_REF_MAX     32
#define LD_REF_LEN_MAX 1024
/* the longest bucketing input: key, salt and value */
#define LD_HASH_INPUT_MAX 4096
/* semantic versions: node's semver refuses longer ones */
#define LD_SEMVER_LEN_MAX 256
#define LD_SEMVER_IDS_MAX 64
/* 0xFFFFFFFFFFFFFFF: 15 hex digits of SHA-1 */
#define LD_LONG_SCALE    1152921504606846975.0
#define LD_BUCKET_DIGITS 15
/* weights are in 1/1000 % */
#define LD_WEIGHT_SCALE 100000.0
/* integers past 2^53 are written differently by Go and JavaScript */
#define LD_SAFE_INT   9007199254740991.0
#define LD_MS_PER_DAY 86400000.0
/* the compiled document's blocks: a 2 MB document needs some 3 MB */
#define LD_ARENA_BLOCK (256 * 1024)
/* the first size of a name table (a power of two) */
#define LD_MAP_FIRST 64

/* What a step found: a match, none, or an error (why filled). */
enum { LD_ERR = -1, LD_NO = 0, LD_YES = 1 };

/* ---- the compiled document ---- */

/* Blocks that the compiled document lives in, freed together. */
struct ld_block {
    struct ld_block *next;
    size_t used;
    size_t size;
    max_align_t data[];
};

/* A table from names (bytes) to indexes: open addressing, at most half
   full. */
struct ld_slot {
    const char *key; /* NULL: empty */
    size_t len;
    uint32_t hash;
    uint32_t value;
};

struct ld_map {
    struct ld_slot *slot;
    size_t cap;
    size_t n;
};

/* A list of strings, sorted for bsearch. */
struct ld_set {
    const char **v;
    size_t n;
};

/* An attribute reference, parsed once, and the context kind it reads. */
enum { LD_REF_PLAIN, LD_REF_KIND, LD_REF_ANONYMOUS };
struct ld_ref {
    const char *kind;
    unsigned char special;
    size_t n;
    const char **comp;
};

/* SemVer as node's semver (strict) reads it, after LaunchDarkly's padding
   of a missing minor or patch: pre is the pre-release, ids_n its
   identifiers. */
struct ld_semver {
    uint64_t main[3];
    const char *pre;
    size_t pre_len;
    size_t ids_n;
};

/* a regular expression's state: portable and compiled, refused (why says
   why), portable but not compiled */
enum { LD_RX_READY = 1, LD_RX_REFUSED, LD_RX_BROKEN };

/* A regular expression, one for every clause value with its pattern. */
struct ld_regex {
    const char *pattern;
    size_t index; /* in the document's regular expressions */
    unsigned char state;
    bool dot;        /* has '.' */
    bool wide;       /* has '.' or a bracket list */
    const char *why; /* LD_RX_REFUSED */
    regex_t re;      /* LD_RX_READY */
};

/* A clause operator. */
enum ld_opk {
    LD_OP_UNKNOWN,
    LD_OP_IN,
    LD_OP_STARTS,
    LD_OP_ENDS,
    LD_OP_CONTAINS,
    LD_OP_MATCHES,
    LD_OP_LT,
    LD_OP_LE,
    LD_OP_GT,
    LD_OP_GE,
    LD_OP_BEFORE,
    LD_OP_AFTER,
    LD_OP_SEMVER_EQ,
    LD_OP_SEMVER_LT,
    LD_OP_SEMVER_GT,
    LD_OP_SEGMENT,
    LD_OP_BROKEN /* a malformed clause: why */
};

enum { LD_CV_OTHER, LD_CV_STR, LD_CV_NUM, LD_CV_TRUE, LD_CV_FALSE };

/* A clause value, read as its operator wants it. */
struct ld_cval {
    unsigned char type;
    signed char pre; /* dates, versions: LD_YES read, LD_NO not one, LD_ERR
                        the SDKs read it differently (why) */
    const char *s;   /* LD_CV_STR */
    size_t len;
    double num; /* LD_CV_NUM; a date's milliseconds */
    const char *why;
    const struct ld_semver *sv;
    const struct ld_regex *rx;
    long seg; /* segmentMatch: the segment's index, or -1 */
};

struct ld_clause {
    unsigned char op; /* enum ld_opk */
    bool negate;
    uint32_t ref;    /* the attribute, in the document's references */
    const char *why; /* LD_OP_BROKEN; LD_OP_UNKNOWN: the operator's name */
    const struct ld_cval *v;
    size_t n;
};

/* A rule's clauses: why (a malformed list), none (no list: no match). */
struct ld_clauses {
    const char *why;
    bool none;
    const struct ld_clause *c;
    size_t n;
};

/* The hash input of a rollout: the prefix ("key.salt." or "seed."), then
   the value the reference ref names in the context. */
struct ld_bucketing {
    uint32_t ref;
    const char *prefix;
    size_t prefix_len;
};

enum { LD_W_OK, LD_W_NOT_OBJECT, LD_W_NO_WEIGHT };
struct ld_weight {
    unsigned char status;
    double weight;
    double variation; /* -1 when not a number */
};

/* A rule's or the fallthrough's outcome: a variation, a rollout, or the
   error reaching it gives. */
enum { LD_VR_FAIL, LD_VR_VARIATION, LD_VR_ROLLOUT };
struct ld_vr {
    unsigned char kind;
    const char *why;
    double variation;
    struct ld_bucketing bk;
    const struct ld_weight *w;
    size_t w_n;
};

struct ld_rule {
    bool bad; /* not an object */
    struct ld_clauses cl;
    struct ld_vr vr;
};

/* A target: the keys of one context kind (NULL: "user"). */
struct ld_target {
    bool bad;
    const char *kind;
    struct ld_set keys;
    double variation;
};

/* A context target: its own, or (user) the user target of its
   variation. */
struct ld_ctarget {
    bool bad;
    bool user;
    long target; /* user: the index in the flag's targets, or -1 */
    struct ld_target own;
};

struct ld_prereq {
    bool bad; /* no key */
    const char *key;
    long flag; /* -1: no such flag */
    bool want_num;
    double want;
};

struct ld_flag {
    const char *key;
    bool object;
    bool deleted;
    bool migration;
    bool on;
    bool has_version;
    double version;
    const char *vars_why;
    json_t **vars;
    size_t vars_n;
    bool has_off;
    double off;
    const char *pre_why;
    const struct ld_prereq *pre;
    size_t pre_n;
    const char *targets_why;
    const struct ld_target *t;
    size_t t_n;
    const struct ld_ctarget *ct;
    size_t ct_n;
    const char *rules_why;
    const struct ld_rule *r;
    size_t r_n;
    struct ld_vr fall;
};

/* A segment's included or excluded lists. */
struct ld_tlist {
    const char *why;
    const char *entry_why;
    const struct ld_target *t;
    size_t n;
    bool has_users;
    struct ld_set users;
};

struct ld_srule {
    bool bad;
    struct ld_clauses cl;
    bool has_weight;
    const char *why; /* after a match: a malformed weight or rollout */
    double weight;
    struct ld_bucketing bk;
};

struct ld_segment {
    const char *key;
    bool object;
    bool deleted;
    bool unbounded;
    struct ld_tlist inc;
    struct ld_tlist exc;
    const char *rules_why;
    const struct ld_srule *r;
    size_t r_n;
};

struct ld_data {
    struct ld_scan scan;
    struct ld_block *blocks;
    struct ld_flag *flags;
    size_t flags_n;
    struct ld_map flag_map;
    struct ld_segment *segs;
    size_t segs_n;
    struct ld_map seg_map;
    struct ld_ref **refs;
    size_t refs_n;
    size_t refs_cap;
    struct ld_map ref_map;
    struct ld_regex **rxs;
    size_t rxs_n;
    size_t rxs_cap;
    struct ld_map rx_map;
    bool nomem;
    const char *text; /* while compiling: the document's text */
};

/* Past 2^52 every double is a whole number. */
#define LD_ALL_WHOLE 4503599627370496.0

/* Whether d is a whole number: what d == floor(d) says, without libm,
   which envinject links for nothing else (a library less to load at
   every start). */
static bool ld_is_whole(double d)
{
    return isfinite(d) &&
           (fabs(d) >= LD_ALL_WHOLE || d == (double)(long long)d);
}

struct ld_kind {
    const char *kind;
    const json_t *obj;
};

/* An evaluation state: the data, one context, and what does not change
   for it (the value of each reference, each segment's answer). */
struct ld_eval {
    const struct ld_data *d;
    struct ld_kind kinds[LD_KINDS_MAX];
    size_t kinds_n;
    json_t *kind_list; /* the value of the "kind" attribute */
    long flag_visited[LD_DEPTH_MAX];
    size_t flag_depth;
    long seg_visited[LD_DEPTH_MAX];
    size_t seg_depth;
    const json_t **ref_val;
    unsigned char *ref_known;
    unsigned char *seg_known; /* LD_YES + 1 or LD_NO + 1 once known */
    /* each regular expression's last subject (a context value) and its
       verdict: clauses of many flags test one attribute alike */
    const json_t **rx_subject;
    unsigned char *rx_verdict;
    /* the last context value read as a semantic version, and how */
    const json_t *sv_subject;
    int sv_status;
    const char *sv_why;
    struct ld_semver sv;
    char sv_pad[LD_SEMVER_LEN_MAX + 8];
    char *why; /* of the evaluation under way */
    /* SHA-1 fetched once: an implicit fetch per digest costs more than
       the digest of a short input */
    struct ei_sha1 *sha1;
};

__attribute__((format(printf, 2, 3))) static int ld_fail(struct ld_eval *ev,
                                                         const char *fmt, ...)
{
    if (ev->why[0] == '\0') {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ev->why, LD_WHY_LEN, fmt, ap);
        va_end(ap);
    }
    return LD_ERR;
}

/* ---- blocks and tables ---- */

static void *ld_alloc(struct ld_data *d, size_t size)
{
    size = (size + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
    struct ld_block *b = d->blocks;
    if (b == NULL || b->size - b->used < size) {
        size_t want = size > LD_ARENA_BLOCK ? size : LD_ARENA_BLOCK;
        b = malloc(sizeof(*b) + want);
        if (b == NULL) {
            d->nomem = true;
            return NULL;
        }
        b->next = d->blocks;
        b->used = 0;
        b->size = want;
        d->blocks = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += size;
    return p;
}

static void *ld_array(struct ld_data *d, size_t n, size_t size)
{
    if (n == 0)
        return NULL;
    if (n > SIZE_MAX / size) {
        d->nomem = true;
        return NULL;
    }
    void *p = ld_alloc(d, n * size);
    if (p != NULL)
        memset(p, 0, n * size);
    return p;
}

static char *ld_strdup(struct ld_data *d, const char *s, size_t len)
{
    char *p = ld_alloc(d, len + 1);
    if (p != NULL) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

static uint32_t ld_hash(const char *key, size_t len)
{
    /* FNV-1a */
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)key[i]) * 16777619u;
    return h;
}

/*
 * The index of key in m; when absent, value is added under it (key is
 * borrowed) and *added set.  -1 when memory ran out.
 */
static long ld_map_put(struct ld_map *m, const char *key, size_t len,
                       uint32_t value, bool *added)
{
    *added = false;
    if ((m->n + 1) * 2 > m->cap) {
        size_t cap = m->cap != 0 ? m->cap * 2 : LD_MAP_FIRST;
        struct ld_slot *fresh = calloc(cap, sizeof(*fresh));
        if (fresh == NULL)
            return -1;
        for (size_t i = 0; i < m->cap; i++) {
            if (m->slot[i].key == NULL)
                continue;
            size_t h = m->slot[i].hash & (cap - 1);
            while (fresh[h].key != NULL)
                h = (h + 1) & (cap - 1);
            fresh[h] = m->slot[i];
        }
        free(m->slot);
        m->slot = fresh;
        m->cap = cap;
    }
    uint32_t hash = ld_hash(key, len);
    size_t h = hash & (m->cap - 1);
    for (;; h = (h + 1) & (m->cap - 1)) {
        struct ld_slot *s = &m->slot[h];
        if (s->key == NULL)
            break;
        if (s->hash == hash && s->len == len && memcmp(s->key, key, len) == 0)
            return s->value;
    }
    m->slot[h] = (struct ld_slot){key, len, hash, value};
    m->n++;
    *added = true;
    return value;
}

/* The index of key in m, or -1. */
static long ld_map_get(const struct ld_map *m, const char *key, size_t len)
{
    if (m->cap == 0)
        return -1;
    uint32_t hash = ld_hash(key, len);
    for (size_t h = hash & (m->cap - 1);; h = (h + 1) & (m->cap - 1)) {
        const struct ld_slot *s = &m->slot[h];
        if (s->key == NULL)
            return -1;
        if (s->hash == hash && s->len == len && memcmp(s->key, key, len) == 0)
            return s->value;
    }
}

static int ld_strcmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool ld_set_has(const struct ld_set *set, const char *key)
{
    return set->n != 0 &&
           bsearch(&key, set->v, set->n, sizeof(set->v[0]), ld_strcmp) != NULL;
}

/* An error of the document found while compiling: the text for why
   (LD_WHY_LEN bytes). */
__attribute__((format(printf, 2, 3))) static int ld_whyf(char *why,
                                                         const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, LD_WHY_LEN, fmt, ap);
    va_end(ap);
    return LD_ERR;
}

/* ---- attribute references ---- */

struct ld_refbuf {
    size_t n;
    const char *comp[LD_REF_MAX];
    char buf[LD_REF_LEN_MAX + 1];
};

/*
 * Parse attr as the SDKs do: a literal name when the clause has no
 * contextKind (old data), else a reference ("/a/b", "~1" for '/', "~0"
 * for '~').  LD_NO: not a valid reference (the SDKs call the flag
 * malformed, so does this); LD_ERR where Go and Node read it differently.
 */
static int ld_ref_parse(char *why, const char *attr, bool literal,
                        struct ld_refbuf *r)
{
    size_t len = strlen(attr);
    r->n = 0;
    if (len > LD_REF_LEN_MAX)
        return ld_whyf(why, "an attribute reference is longer than %d bytes",
                       LD_REF_LEN_MAX);
    memcpy(r->buf, attr, len + 1);
    if (literal) {
        if (len == 0)
            return LD_NO;
        r->comp[r->n++] = r->buf;
        return LD_YES;
    }
    if (len == 0 || strcmp(attr, "/") == 0 || strstr(attr, "//") != NULL ||
        attr[len - 1] == '~')
        return LD_NO;
    if (attr[0] != '/') {
        r->comp[r->n++] = r->buf;
        return strcmp(r->buf, "_meta") == 0 ? LD_NO : LD_YES;
    }
    for (size_t i = 1; i < len; i++)
        if (attr[i] == '~' && attr[i + 1] != '0' && attr[i + 1] != '1') {
            /* Node lets "~|" and "~^" through (a bracket typo in its
               check); Go refuses them */
            if (attr[i + 1] == '|' || attr[i + 1] == '^')
                return ld_whyf(why,
                               "attribute reference with '~%c': the "
                               "SDKs read it differently",
                               attr[i + 1]);
            return LD_NO;
        }
    char *p = r->buf + 1;
    for (;;) {
        if (r->n == LD_REF_MAX)
            return ld_whyf(why,
                           "an attribute reference has more than %d "
                           "components",
                           LD_REF_MAX);
        char *slash = strchr(p, '/');
        if (slash != NULL)
            *slash = '\0';
        /* Node leaves a component that starts with '~' as it is; Go
           unescapes it */
        if (p[0] == '~')
            return ld_whyf(why, "attribute reference component starting "
                                "with '~': the SDKs read it differently");
        /* unescape in place: "~1" is '/', "~0" is '~' */
        char *w = p;
        for (char *s = p; *s != '\0'; s++) {
            if (s[0] == '~' && (s[1] == '0' || s[1] == '1')) {
                *w++ = s[1] == '1' ? '/' : '~';
                s++;
            } else {
                *w++ = *s;
            }
        }
        *w = '\0';
        r->comp[r->n++] = p;
        if (slash == NULL)
            break;
        p = slash + 1;
    }
    return strcmp(r->comp[0], "_meta") == 0 ? LD_NO : LD_YES;
}

/*
 * The index of the reference attr (literal or not) into the context of
 * kind (NULL: "user"), shared by every clause and rollout that says the
 * same: LD_YES with *index, LD_NO not a valid reference, LD_ERR (why).
 */
static int ld_ref_compile(struct ld_data *d, const char *attr, bool literal,
                          const char *kind, uint32_t *index, char *why)
{
    if (kind == NULL)
        kind = "user";
    size_t al = strlen(attr), kl = strlen(kind);
    char stack[256];
    char *key = al + kl + 3 <= sizeof(stack) ? stack : malloc(al + kl + 3);
    if (key == NULL) {
        d->nomem = true;
        return ld_whyf(why, "out of memory");
    }
    /* kind, NUL, attribute, NUL, how it is read */
    memcpy(key, kind, kl + 1);
    memcpy(key + kl + 1, attr, al + 1);
    key[kl + al + 2] = literal ? 'L' : 'R';
    size_t klen = kl + al + 3;
    long found = ld_map_get(&d->ref_map, key, klen);
    int r = LD_YES;
    if (found >= 0) {
        *index = (uint32_t)found;
        goto out;
    }
    struct ld_refbuf rb;
    r = ld_ref_parse(why, attr, literal, &rb);
    if (r != LD_YES)
        goto out;
    r = LD_ERR;
    if (d->refs_n == d->refs_cap) {
        size_t cap = d->refs_cap != 0 ? d->refs_cap * 2 : 16;
        struct ld_ref **grown = realloc(d->refs, cap * sizeof(*grown));
        if (grown == NULL)
            goto nomem;
        d->refs = grown;
        d->refs_cap = cap;
    }
    struct ld_ref *ref = ld_alloc(d, sizeof(*ref));
    char *kept = ld_strdup(d, key, klen);
    const char **comp = ld_array(d, rb.n, sizeof(*comp));
    if (ref == NULL || kept == NULL || comp == NULL)
        goto nomem;
    for (size_t i = 0; i < rb.n; i++) {
        comp[i] = ld_strdup(d, rb.comp[i], strlen(rb.comp[i]));
        if (comp[i] == NULL)
            goto nomem;
    }
    ref->kind = kept;
    ref->n = rb.n;
    ref->comp = comp;
    ref->special = LD_REF_PLAIN;
    if (rb.n == 1 && strcmp(rb.comp[0], "kind") == 0)
        ref->special = LD_REF_KIND;
    else if (rb.n == 1 && strcmp(rb.comp[0], "anonymous") == 0)
        ref->special = LD_REF_ANONYMOUS;
    bool added;
    if (ld_map_put(&d->ref_map, kept, klen, (uint32_t)d->refs_n, &added) < 0)
        goto nomem;
    d->refs[d->refs_n] = ref;
    *index = (uint32_t)d->refs_n++;
    r = LD_YES;
    goto out;
nomem:
    d->nomem = true;
    ld_whyf(why, "out of memory");
out:
    if (key != stack)
        free(key);
    return r;
}
/* ---- operators ---- */

static bool ld_ascii_only(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80)
            return false;
    return true;
}

/*
 * Whether POSIX extended syntax reads pattern as RE2 and JavaScript do:
 * literals, '.', bracket lists without escapes or classes, groups,
 * alternation, greedy '*' '+' '?' and bounds, anchors, escaped
 * punctuation.  why names what is refused.
 */
static bool ld_regex_portable(const char *p, size_t len, const char **why)
{
    size_t depth = 0;
    bool atom = false;        /* something a quantifier may follow */
    bool branch_empty = true; /* the current alternative is empty */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x80) {
            *why = "a non-ASCII character";
            return false;
        }
        switch (c) {
        case '\\':
            if (i + 1 >= len || !(p[i + 1] >= 0x21 && p[i + 1] <= 0x7e) ||
                (p[i + 1] >= '0' && p[i + 1] <= '9') ||
                (p[i + 1] >= 'a' && p[i + 1] <= 'z') ||
                (p[i + 1] >= 'A' && p[i + 1] <= 'Z')) {
                *why = "an escape other than of punctuation (\\d, \\w, \\s, "
                       "\\b, back-references...)";
                return false;
            }
            i++;
            atom = true;
            break;
        case '[': {
            size_t j = i + 1;
            if (j < len && p[j] == '^')
                j++;
            if (j < len && p[j] == ']') {
                *why = "a bracket list starting with ']'";
                return false;
            }
            while (j < len && p[j] != ']') {
                if (p[j] == '\\' || p[j] == '[' ||
                    (unsigned char)p[j] >= 0x80) {
                    *why = "an escape, '[' or non-ASCII character in a "
                           "bracket list";
                    return false;
                }
                j++;
            }
            if (j >= len) {
                *why = "an unterminated bracket list";
                return false;
            }
            i = j;
            atom = true;
            break;
        }
        case '(':
            if (i + 1 < len && (p[i + 1] == '?' || p[i + 1] == ')')) {
                *why = "a group with (? syntax or an empty group";
                return false;
            }
            depth++;
            atom = false;
            branch_empty = true;
            continue;
        case ')':
            if (depth == 0 || branch_empty) {
                *why = "an unbalanced ')' or an empty alternative";
                return false;
            }
            depth--;
            atom = true;
            break;
        case '|':
            if (branch_empty) {
                *why = "an empty alternative";
                return false;
            }
            atom = false;
            branch_empty = true;
            continue;
        case '*':
        case '+':
        case '?':
        case '{': {
            if (!atom) {
                *why = "a quantifier with nothing to repeat";
                return false;
            }
            size_t j = i;
            if (c == '{') {
                unsigned long lo = 0, hi = 0;
                size_t d = 0;
                j++;
                while (j < len && p[j] >= '0' && p[j] <= '9' && d < 4) {
                    lo = lo * 10 + (unsigned long)(p[j++] - '0');
                    d++;
                }
                hi = lo;
                bool ok = d > 0 && d < 4 && j < len;
                if (ok && p[j] == ',') {
                    j++;
                    size_t e = 0;
                    hi = 255;
                    if (j < len && p[j] >= '0' && p[j] <= '9') {
                        hi = 0;
                        while (j < len && p[j] >= '0' && p[j] <= '9' && e < 4) {
                            hi = hi * 10 + (unsigned long)(p[j++] - '0');
                            e++;
                        }
                        ok = e < 4;
                    }
                }
                ok = ok && j < len && p[j] == '}' && lo <= hi && hi <= 255;
                if (!ok) {
                    *why = "a '{' that is not a bound {m}, {m,} or {m,n} "
                           "up to 255";
                    return false;
                }
            }
            if (j + 1 < len && (p[j + 1] == '?' || p[j + 1] == '*' ||
                                p[j + 1] == '+' || p[j + 1] == '{')) {
                *why = "a lazy or repeated quantifier";
                return false;
            }
            i = j;
            atom = false;
            branch_empty = false;
            continue;
        }
        case '}':
            *why = "a lone '}'";
            return false;
        case '^':
        case '$':
            atom = false;
            branch_empty = false;
            continue;
        default:
            atom = true;
            break;
        }
        branch_empty = false;
    }
    if (depth != 0 || (branch_empty && memchr(p, '|', len) != NULL)) {
        *why = "an unbalanced '(' or an empty alternative";
        return false;
    }
    return true;
}

static int ld_matches(struct ld_eval *ev, const json_t *subject,
                      const struct ld_regex *rx)
{
    const char *s = json_string_value(subject);
    size_t slen = json_string_length(subject);
    if (strlen(s) != slen)
        return ld_fail(ev, "regular expression over text with a NUL byte");
    if (rx->state == LD_RX_REFUSED)
        return ld_fail(ev,
                       "regular expression with %s: POSIX cannot read "
                       "it as RE2 and JavaScript do",
                       rx->why);
    /* '.' and bracket lists match one UTF-16 unit in JavaScript, one byte
       here; '.' skips line ends in JavaScript and RE2, not here */
    if (rx->wide && !ld_ascii_only(s, slen))
        return ld_fail(ev, "regular expression with '.' or a bracket list "
                           "over non-ASCII text");
    if (rx->dot &&
        (memchr(s, '\n', slen) != NULL || memchr(s, '\r', slen) != NULL))
        return ld_fail(ev, "regular expression with '.' over text with a "
                           "line end");
    if (rx->state != LD_RX_READY)
        return ld_fail(ev, "regular expression POSIX cannot compile");
    if (ev->rx_subject[rx->index] != subject) {
        ev->rx_verdict[rx->index] =
            regexec(&rx->re, s, 0, NULL, 0) == 0 ? LD_YES : LD_NO;
        ev->rx_subject[rx->index] = subject;
    }
    return ev->rx_verdict[rx->index];
}

static bool ld_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool ld_is_ident(char c)
{
    return ld_is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           c == '-';
}

/* A numeric identifier: "0" or no leading zero, below 2^53. */
static bool ld_semver_num(const char *s, size_t len, uint64_t *out)
{
    if (len == 0 || len > 16 || (len > 1 && s[0] == '0'))
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!ld_is_digit(s[i]))
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > (uint64_t)LD_SAFE_INT)
        return false;
    *out = v;
    return true;
}

/* Strict SemVer 2.0 of s (len bytes), into v with ids pointing into s. */

/* Strict SemVer 2.0 of s (len bytes), into v with pre pointing into s. */
static bool ld_semver_strict(const char *s, size_t len, struct ld_semver *v)
{
    size_t i = 0;
    v->pre = NULL;
    v->pre_len = 0;
    v->ids_n = 0;
    for (int k = 0; k < 3; k++) {
        size_t at = i;
        while (i < len && ld_is_digit(s[i]))
            i++;
        if (!ld_semver_num(s + at, i - at, &v->main[k]))
            return false;
        if (k < 2) {
            if (i >= len || s[i] != '.')
                return false;
            i++;
        }
    }
    if (i < len && s[i] == '-') {
        size_t pre = i + 1;
        do {
            i++;
            size_t at = i;
            bool alpha = false;
            while (i < len && ld_is_ident(s[i])) {
                alpha = alpha || !ld_is_digit(s[i]);
                i++;
            }
            uint64_t ignored;
            if (i == at || (!alpha && !ld_semver_num(s + at, i - at, &ignored)))
                return false;
            if (v->ids_n == LD_SEMVER_IDS_MAX)
                return false;
            v->ids_n++;
        } while (i < len && s[i] == '.');
        v->pre = s + pre;
        v->pre_len = i - pre;
    }
    if (i < len && s[i] == '+') {
        do {
            i++;
            size_t at = i;
            while (i < len && ld_is_ident(s[i]))
                i++;
            if (i == at)
                return false;
        } while (i < len && s[i] == '.');
    }
    return i == len;
}

/* The semantic version in s (len bytes; pad has room for its padded
   form): LD_YES read, LD_NO not a version, LD_ERR where the SDKs differ
   (why). */
static int ld_semver_read(const char *s, size_t len, struct ld_semver *v,
                          char *pad, size_t pad_len, const char **why)
{
    if (len == 0 || s[0] == 'v' || len > LD_SEMVER_LEN_MAX || strlen(s) != len)
        return LD_NO;
    const char *ws = " \t\n\v\f\r";
    if (strchr(ws, s[0]) != NULL || strchr(ws, s[len - 1]) != NULL ||
        (unsigned char)s[0] >= 0x80 || (unsigned char)s[len - 1] >= 0x80) {
        *why = "semantic version with blanks around it: the SDKs read it "
               "differently";
        return LD_ERR;
    }
    if (ld_semver_strict(s, len, v))
        return LD_YES;
    /* "2" is "2.0.0", "2.1-rc" is "2.1.0-rc" */
    size_t i = 0, parts = 0;
    while (parts < 3 && i < len && ld_is_digit(s[i])) {
        while (i < len && ld_is_digit(s[i]))
            i++;
        parts++;
        if (parts < 3 && i + 1 < len && s[i] == '.' && ld_is_digit(s[i + 1]))
            i++;
        else
            break;
    }
    if (parts == 0 || parts == 3)
        return LD_NO;
    int n = snprintf(pad, pad_len, "%.*s%s%s", (int)i, s, parts < 2 ? ".0" : "",
                     ".0");
    if (n < 0 || (size_t)n + (len - i) >= pad_len)
        return LD_NO;
    memcpy(pad + n, s + i, len - i);
    pad[(size_t)n + len - i] = '\0';
    return ld_semver_strict(pad, (size_t)n + len - i, v) ? LD_YES : LD_NO;
}

/* The next identifier of a pre-release at *p (before end). */
static size_t ld_semver_id(const char **p, const char *end, const char **id)
{
    const char *dot = memchr(*p, '.', (size_t)(end - *p));
    const char *stop = dot != NULL ? dot : end;
    *id = *p;
    *p = dot != NULL ? dot + 1 : end;
    return (size_t)(stop - *id);
}

static int ld_semver_cmp(const struct ld_semver *a, const struct ld_semver *b)
{
    for (int k = 0; k < 3; k++)
        if (a->main[k] != b->main[k])
            return a->main[k] < b->main[k] ? -1 : 1;
    /* a release ranks above its pre-releases */
    if (a->ids_n == 0 || b->ids_n == 0)
        return a->ids_n == b->ids_n ? 0 : a->ids_n == 0 ? 1 : -1;
    const char *pa = a->pre, *ea = a->pre + a->pre_len;
    const char *pb = b->pre, *eb = b->pre + b->pre_len;
    for (size_t i = 0; i < a->ids_n && i < b->ids_n; i++) {
        const char *x, *y;
        size_t xl = ld_semver_id(&pa, ea, &x);
        size_t yl = ld_semver_id(&pb, eb, &y);
        bool xn = true, yn = true;
        for (size_t k = 0; k < xl; k++)
            xn = xn && ld_is_digit(x[k]);
        for (size_t k = 0; k < yl; k++)
            yn = yn && ld_is_digit(y[k]);
        if (xn && yn) {
            /* no leading zeros: the longer number is the larger */
            if (xl != yl)
                return xl < yl ? -1 : 1;
            int c = memcmp(x, y, xl);
            if (c != 0)
                return c < 0 ? -1 : 1;
        } else if (xn != yn) {
            return xn ? -1 : 1;
        } else {
            int c = memcmp(x, y, xl < yl ? xl : yl);
            if (c != 0)
                return c < 0 ? -1 : 1;
            if (xl != yl)
                return xl < yl ? -1 : 1;
        }
    }
    return a->ids_n == b->ids_n ? 0 : a->ids_n < b->ids_n ? -1 : 1;
}

static int ld_digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!ld_is_digit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static double ld_days(int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (double)era * 146097 + doe - 719468;
}

/* A date as both SDKs read it: a number is Unix milliseconds; a string
   is RFC 3339 with 'T' and an offset.  LD_NO: not a date to either. */

/* A date string as both SDKs read it: RFC 3339 with 'T' and an offset.
   LD_NO: not a date to either; LD_ERR (why) where they differ. */
static int ld_date_text(const char *s, size_t len, double *ms, const char **why)
{
    /* Node's own check: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d, then anything */
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    size_t sl = sizeof(shape) - 1;
    if (len < sl)
        return LD_NO;
    for (size_t i = 0; i < sl; i++)
        if (shape[i] == 'd' ? !ld_is_digit(s[i]) : s[i] != shape[i])
            return LD_NO;
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    ld_digits(s, 4, &y);
    ld_digits(s + 5, 2, &mo);
    ld_digits(s + 8, 2, &d);
    ld_digits(s + 11, 2, &h);
    ld_digits(s + 14, 2, &mi);
    ld_digits(s + 17, 2, &sec);
    /* the rest of Node's check: (\.\d+)?(Z|[-+]\d\d(:\d\d)?) */
    size_t i = sl;
    size_t fr = i;
    if (fr + 1 < len && s[fr] == '.' && ld_is_digit(s[fr + 1])) {
        fr += 2;
        while (fr < len && ld_is_digit(s[fr]))
            fr++;
    }
    bool tail =
        fr < len &&
        (s[fr] == 'Z' || ((s[fr] == '+' || s[fr] == '-') && fr + 2 < len &&
                          ld_is_digit(s[fr + 1]) && ld_is_digit(s[fr + 2])));
    if (!tail)
        return LD_NO;
    double frac = 0;
    if (fr > i) {
        /* milliseconds: digits past the third are cut, as both do */
        double scale = 100;
        for (size_t k = i + 1; k < fr && k < i + 4; k++, scale /= 10)
            frac += (s[k] - '0') * scale;
        i = fr;
    }
    int off = 0;
    if (s[i] == 'Z') {
        i++;
    } else if (i + 6 == len && s[i + 3] == ':') {
        int oh, om;
        if (ld_digits(s + i + 1, 2, &oh) < 0 ||
            ld_digits(s + i + 4, 2, &om) < 0 || oh > 23 || om > 59)
            goto ambiguous;
        off = (s[i] == '-' ? -1 : 1) * (oh * 60 + om);
        i += 6;
    } else {
        goto ambiguous;
    }
    if (i != len)
        goto ambiguous;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
        (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || sec > 59)
        goto ambiguous;
    *ms = ld_days(y, mo, d) * LD_MS_PER_DAY +
          ((h * 60.0 + mi - off) * 60.0 + sec) * 1000.0 + frac;
    return LD_YES;
ambiguous:
    *why = "a date string that is not plain RFC 3339: the SDKs read it "
           "differently";
    return LD_ERR;
}

/* A context value as a date: a number is Unix milliseconds. */
static int ld_date(struct ld_eval *ev, const json_t *j, double *ms)
{
    if (json_is_number(j)) {
        *ms = json_number_value(j);
        return LD_YES;
    }
    if (!json_is_string(j))
        return LD_NO;
    const char *why = NULL;
    int r = ld_date_text(json_string_value(j), json_string_length(j), ms, &why);
    return r == LD_ERR ? ld_fail(ev, "%s", why) : r;
}

static enum ld_opk ld_opk_of(const char *op)
{
    static const struct {
        const char *name;
        enum ld_opk k;
    } ops[] = {
        {"in", LD_OP_IN},
        {"startsWith", LD_OP_STARTS},
        {"endsWith", LD_OP_ENDS},
        {"contains", LD_OP_CONTAINS},
        {"matches", LD_OP_MATCHES},
        {"lessThan", LD_OP_LT},
        {"lessThanOrEqual", LD_OP_LE},
        {"greaterThan", LD_OP_GT},
        {"greaterThanOrEqual", LD_OP_GE},
        {"before", LD_OP_BEFORE},
        {"after", LD_OP_AFTER},
        {"semVerEqual", LD_OP_SEMVER_EQ},
        {"semVerLessThan", LD_OP_SEMVER_LT},
        {"semVerGreaterThan", LD_OP_SEMVER_GT},
        {"segmentMatch", LD_OP_SEGMENT},
    };
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (op[0] == ops[i].name[0] && strcmp(op, ops[i].name) == 0)
            return ops[i].k;
    return LD_OP_UNKNOWN;
}

/* ---- compiling the document ---- */

/* A member name and its length. */
struct ld_name {
    const char *s;
    uint32_t len;
};
#define LD_NAME(s)                                                             \
    {                                                                          \
        s, sizeof(s) - 1                                                       \
    }

static const struct ld_tok *ld_tok(const struct ld_data *d, uint32_t i)
{
    return &d->scan.tok[i];
}

/* Whether the value at i (0: absent) is of type. */
static bool ld_is(const struct ld_data *d, uint32_t i, unsigned char type)
{
    return i != 0 && d->scan.tok[i].type == type;
}

static const char *ld_text(const struct ld_data *d, uint32_t i)
{
    return d->scan.buf + d->scan.tok[i].off;
}

static size_t ld_count(const struct ld_data *d, uint32_t arr)
{
    size_t n = 0;
    for (uint32_t e = arr + 1; e < ld_tok(d, arr)->next; e = ld_tok(d, e)->next)
        n++;
    return n;
}

/*
 * The members names[0..n) of the object at obj in one walk over its
 * members, into out (0 when absent or null, as the SDKs drop nulls on
 * load; the last of repeated names, as jansson keeps it).
 */
static void ld_fields(const struct ld_data *d, uint32_t obj,
                      const struct ld_name *names, size_t n, uint32_t *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = 0;
    if (!ld_is(d, obj, LD_TOK_OBJ))
        return;
    for (uint32_t m = obj + 1; m < ld_tok(d, obj)->next;
         m = ld_tok(d, m + 1)->next) {
        const char *k = ld_text(d, m);
        uint32_t len = ld_tok(d, m)->len;
        for (size_t i = 0; i < n; i++) {
            if (len != names[i].len || memcmp(k, names[i].s, len) != 0)
                continue;
            out[i] = ld_is(d, m + 1, LD_TOK_NULL) ? 0 : m + 1;
            break;
        }
    }
}

static uint32_t ld_field(const struct ld_data *d, uint32_t obj,
                         const char *name)
{
    struct ld_name one = {name, (uint32_t)strlen(name)};
    uint32_t v;
    ld_fields(d, obj, &one, 1, &v);
    return v;
}

/* A number member as a variation index: -1 when it is not a number. */
static double ld_index(const struct ld_data *d, uint32_t i)
{
    return ld_is(d, i, LD_TOK_NUM) ? ld_tok(d, i)->num : -1;
}

/* The value at i as jansson would hold it: a variation, kept for the
   results that borrow it. */
static json_t *ld_json_at(struct ld_data *d, uint32_t i)
{
    const struct ld_tok *t = ld_tok(d, i);
    json_t *j;
    switch (t->type) {
    case LD_TOK_NULL:
        return json_null();
    case LD_TOK_TRUE:
        return json_true();
    case LD_TOK_FALSE:
        return json_false();
    case LD_TOK_NUM:
        j = json_real(t->num);
        break;
    case LD_TOK_STR:
        j = json_stringn(ld_text(d, i), t->len);
        break;
    default:
        /* the scanner took the text as jansson does: only memory fails */
        j = json_loadb(d->text + t->off, t->len, JSON_DECODE_INT_AS_REAL, NULL);
        break;
    }
    if (j == NULL)
        d->nomem = true;
    return j;
}

/* The why of an error found while compiling, kept with the document. */
static const char *ld_keep_why(struct ld_data *d, const char *why)
{
    const char *kept = ld_strdup(d, why, strlen(why));
    return kept != NULL ? kept : "out of memory";
}

/* The strings of the list at arr, sorted (others are left out, as the
   SDKs never match them). */
static void ld_set_compile(struct ld_data *d, uint32_t arr, struct ld_set *set)
{
    set->n = 0;
    set->v = NULL;
    if (!ld_is(d, arr, LD_TOK_ARR))
        return;
    size_t n = 0;
    for (uint32_t e = arr + 1; e < ld_tok(d, arr)->next; e = ld_tok(d, e)->next)
        n += ld_is(d, e, LD_TOK_STR);
    const char **v = ld_array(d, n, sizeof(*v));
    if (v == NULL)
        return;
    for (uint32_t e = arr + 1; e < ld_tok(d, arr)->next; e = ld_tok(d, e)->next)
        if (ld_is(d, e, LD_TOK_STR))
            v[set->n++] = ld_text(d, e);
    qsort(v, set->n, sizeof(v[0]), ld_strcmp);
    set->v = v;
}

/* The regular expression of pattern, one for every clause that has it. */
static const struct ld_regex *ld_regex_compile(struct ld_data *d,
                                               const char *pattern, size_t len)
{
    long found = ld_map_get(&d->rx_map, pattern, len);
    if (found >= 0)
        return d->rxs[found];
    if (d->rxs_n == d->rxs_cap) {
        size_t cap = d->rxs_cap != 0 ? d->rxs_cap * 2 : 16;
        struct ld_regex **grown = realloc(d->rxs, cap * sizeof(*grown));
        if (grown == NULL) {
            d->nomem = true;
            return NULL;
        }
        d->rxs = grown;
        d->rxs_cap = cap;
    }
    struct ld_regex *rx = ld_array(d, 1, sizeof(*rx));
    bool added;
    if (rx == NULL ||
        ld_map_put(&d->rx_map, pattern, len, (uint32_t)d->rxs_n, &added) < 0) {
        d->nomem = true;
        return NULL;
    }
    rx->pattern = pattern;
    rx->index = d->rxs_n;
    rx->dot = memchr(pattern, '.', len) != NULL;
    rx->wide = rx->dot || memchr(pattern, '[', len) != NULL;
    if (!ld_regex_portable(pattern, len, &rx->why))
        rx->state = LD_RX_REFUSED;
    else if (regcomp(&rx->re, pattern, REG_EXTENDED | REG_NOSUB) == 0)
        rx->state = LD_RX_READY;
    else
        rx->state = LD_RX_BROKEN;
    d->rxs[d->rxs_n++] = rx;
    return rx;
}

/* A clause value at i, read for op. */
static void ld_cval_compile(struct ld_data *d, enum ld_opk op, uint32_t i,
                            struct ld_cval *cv)
{
    const struct ld_tok *t = ld_tok(d, i);
    cv->seg = -1;
    cv->pre = LD_NO;
    switch (t->type) {
    case LD_TOK_STR:
        cv->type = LD_CV_STR;
        cv->s = ld_text(d, i);
        cv->len = t->len;
        break;
    case LD_TOK_NUM:
        cv->type = LD_CV_NUM;
        cv->num = t->num;
        break;
    case LD_TOK_TRUE:
        cv->type = LD_CV_TRUE;
        break;
    case LD_TOK_FALSE:
        cv->type = LD_CV_FALSE;
        break;
    default:
        cv->type = LD_CV_OTHER;
        break;
    }
    switch (op) {
    case LD_OP_BEFORE:
    case LD_OP_AFTER:
        if (cv->type == LD_CV_NUM)
            cv->pre = LD_YES;
        else if (cv->type == LD_CV_STR)
            cv->pre =
                (signed char)ld_date_text(cv->s, cv->len, &cv->num, &cv->why);
        break;
    case LD_OP_SEMVER_EQ:
    case LD_OP_SEMVER_LT:
    case LD_OP_SEMVER_GT: {
        if (cv->type != LD_CV_STR)
            break;
        struct ld_semver *sv = ld_alloc(d, sizeof(*sv));
        char *pad = ld_alloc(d, LD_SEMVER_LEN_MAX + 8);
        if (sv == NULL || pad == NULL)
            break;
        cv->pre = (signed char)ld_semver_read(cv->s, cv->len, sv, pad,
                                              LD_SEMVER_LEN_MAX + 8, &cv->why);
        cv->sv = sv;
        break;
    }
    case LD_OP_MATCHES:
        if (cv->type == LD_CV_STR)
            cv->rx = ld_regex_compile(d, cv->s, cv->len);
        break;
    case LD_OP_SEGMENT:
        if (cv->type == LD_CV_STR)
            cv->seg = ld_map_get(&d->seg_map, cv->s, cv->len);
        break;
    default:
        break;
    }
}

static void ld_clause_compile(struct ld_data *d, uint32_t c,
                              struct ld_clause *out)
{
    static const struct ld_name names[] = {
        LD_NAME("op"), LD_NAME("values"), LD_NAME("negate"),
        LD_NAME("attribute"), LD_NAME("contextKind")};
    uint32_t f[5];
    out->op = LD_OP_BROKEN;
    if (!ld_is(d, c, LD_TOK_OBJ)) {
        out->why = "a clause is not an object";
        return;
    }
    ld_fields(d, c, names, 5, f);
    uint32_t op = f[0], values = f[1], attr = f[3], ck = f[4];
    if (!ld_is(d, op, LD_TOK_STR)) {
        out->why = "a clause has no operator";
        return;
    }
    if (!ld_is(d, values, LD_TOK_ARR)) {
        out->why = "a clause has no list of values";
        return;
    }
    enum ld_opk k = ld_opk_of(ld_text(d, op));
    if (k != LD_OP_SEGMENT) {
        if (attr != 0 && !ld_is(d, attr, LD_TOK_STR)) {
            out->why = "a clause attribute is not a string";
            return;
        }
        if (ck != 0 && !ld_is(d, ck, LD_TOK_STR)) {
            out->why = "a clause contextKind is not a string";
            return;
        }
        if (attr == 0) {
            out->why = "a clause has an invalid attribute reference";
            return;
        }
        char why[LD_WHY_LEN];
        int r = ld_ref_compile(d, ld_text(d, attr), ck == 0,
                               ck != 0 ? ld_text(d, ck) : NULL, &out->ref, why);
        if (r == LD_ERR) {
            out->why = ld_keep_why(d, why);
            return;
        }
        if (r == LD_NO) {
            out->why = "a clause has an invalid attribute reference";
            return;
        }
    }
    size_t n = ld_count(d, values);
    struct ld_cval *v = ld_array(d, n, sizeof(*v));
    if (n != 0 && v == NULL)
        return;
    size_t i = 0;
    for (uint32_t e = values + 1; e < ld_tok(d, values)->next;
         e = ld_tok(d, e)->next)
        ld_cval_compile(d, k, e, &v[i++]);
    out->op = (unsigned char)k;
    out->why = k == LD_OP_UNKNOWN ? ld_text(d, op) : NULL;
    out->negate = ld_is(d, f[2], LD_TOK_TRUE);
    out->v = v;
    out->n = n;
}

/* The clauses of the rule at rule (an object). */
static void ld_clauses_compile(struct ld_data *d, uint32_t rule,
                               struct ld_clauses *out)
{
    uint32_t clauses = ld_field(d, rule, "clauses");
    if (clauses == 0) {
        out->none = true;
        return;
    }
    if (!ld_is(d, clauses, LD_TOK_ARR)) {
        out->why = "a rule's clauses are not a list";
        return;
    }
    size_t n = ld_count(d, clauses);
    struct ld_clause *c = ld_array(d, n, sizeof(*c));
    if (n != 0 && c == NULL)
        return;
    size_t i = 0;
    for (uint32_t e = clauses + 1; e < ld_tok(d, clauses)->next;
         e = ld_tok(d, e)->next)
        ld_clause_compile(d, e, &c[i++]);
    out->c = c;
    out->n = n;
}

/*
 * What a rollout hashes: the context of kind (NULL: "user") by attribute
 * by (NULL: the key; a literal name when literal), after key.salt. or
 * seed. (seed when has_seed).  LD_YES, or LD_ERR with why; what names the
 * rollout in errors.
 */
static int ld_bucketing_compile(struct ld_data *d, const char *key,
                                const char *salt, bool has_seed, double seed,
                                const char *by, bool literal, const char *kind,
                                const char *what, struct ld_bucketing *bk,
                                char *why)
{
    int r = ld_ref_compile(d, by != NULL ? by : "key", by != NULL && literal,
                           kind, &bk->ref, why);
    if (r == LD_ERR)
        return r;
    if (r == LD_NO)
        return ld_whyf(why, "%s has an invalid bucketBy", what);
    char seeded[64];
    if (has_seed) {
        int w = snprintf(seeded, sizeof(seeded), "%.0f.", seed);
        bk->prefix = ld_strdup(d, seeded, w > 0 ? (size_t)w : 0);
        bk->prefix_len = w > 0 ? (size_t)w : 0;
    } else {
        size_t kl = strlen(key), sl = salt != NULL ? strlen(salt) : 0;
        char *p = ld_alloc(d, kl + sl + 3);
        if (p != NULL) {
            memcpy(p, key, kl);
            p[kl] = '.';
            memcpy(p + kl + 1, salt != NULL ? salt : "", sl);
            p[kl + 1 + sl] = '.';
            p[kl + sl + 2] = '\0';
        }
        bk->prefix = p;
        bk->prefix_len = kl + sl + 2;
    }
    if (bk->prefix == NULL)
        return ld_whyf(why, "out of memory");
    return LD_YES;
}

/* A rule's or the fallthrough's outcome at vr, of the flag whose "key"
   and "salt" members are at fkey and salt. */
static void ld_vr_compile(struct ld_data *d, uint32_t vr, uint32_t fkey,
                          uint32_t salt, struct ld_vr *out)
{
    static const struct ld_name vr_names[] = {LD_NAME("variation"),
                                              LD_NAME("rollout")};
    static const struct ld_name ro_names[] = {
        LD_NAME("variations"), LD_NAME("kind"), LD_NAME("bucketBy"),
        LD_NAME("contextKind"), LD_NAME("seed")};
    uint32_t v[2], f[5];
    out->kind = LD_VR_FAIL;
    if (!ld_is(d, vr, LD_TOK_OBJ)) {
        out->why = "no fallthrough";
        return;
    }
    ld_fields(d, vr, vr_names, 2, v);
    if (v[0] != 0) {
        out->kind = LD_VR_VARIATION;
        out->variation = ld_index(d, v[0]);
        return;
    }
    uint32_t ro = v[1];
    out->why = "neither a variation nor a rollout with variations";
    if (!ld_is(d, ro, LD_TOK_OBJ))
        return;
    ld_fields(d, ro, ro_names, 5, f);
    uint32_t list = f[0], kind = f[1], by = f[2], ck = f[3], seed = f[4];
    if (!ld_is(d, list, LD_TOK_ARR) || ld_count(d, list) == 0)
        return;
    out->why = "a rollout is malformed";
    if ((kind != 0 && !ld_is(d, kind, LD_TOK_STR)) ||
        (by != 0 && !ld_is(d, by, LD_TOK_STR)) ||
        (ck != 0 && !ld_is(d, ck, LD_TOK_STR)) || !ld_is(d, fkey, LD_TOK_STR) ||
        (salt != 0 && !ld_is(d, salt, LD_TOK_STR)) ||
        (seed != 0 && !ld_is(d, seed, LD_TOK_NUM)))
        return;
    bool experiment = kind != 0 && strcmp(ld_text(d, kind), "experiment") == 0;
    double sd = seed != 0 ? ld_tok(d, seed)->num : 0;
    /* Node takes a seed of 0 for none, Go does not */
    if (seed != 0 && (sd == 0 || !ld_is_whole(sd) || fabs(sd) > LD_SAFE_INT)) {
        out->why = "a rollout seed that is not a non-zero integer: the SDKs "
                   "read it differently";
        return;
    }
    char why[LD_WHY_LEN];
    if (ld_bucketing_compile(d, ld_text(d, fkey),
                             salt != 0 ? ld_text(d, salt) : NULL, seed != 0, sd,
                             by != 0 && !experiment ? ld_text(d, by) : NULL,
                             ck == 0, ck != 0 ? ld_text(d, ck) : NULL,
                             "a rollout", &out->bk, why) != LD_YES) {
        out->why = ld_keep_why(d, why);
        return;
    }
    size_t n = ld_count(d, list);
    struct ld_weight *w = ld_array(d, n, sizeof(*w));
    if (w == NULL)
        return;
    size_t i = 0;
    for (uint32_t e = list + 1; e < ld_tok(d, list)->next;
         e = ld_tok(d, e)->next, i++) {
        static const struct ld_name wv_names[] = {LD_NAME("weight"),
                                                  LD_NAME("variation")};
        uint32_t wf[2];
        ld_fields(d, e, wv_names, 2, wf);
        w[i].variation = ld_index(d, wf[1]);
        if (!ld_is(d, e, LD_TOK_OBJ))
            w[i].status = LD_W_NOT_OBJECT;
        else if (!ld_is(d, wf[0], LD_TOK_NUM))
            w[i].status = LD_W_NO_WEIGHT;
        else
            w[i].weight = ld_tok(d, wf[0])->num;
    }
    out->kind = LD_VR_ROLLOUT;
    out->why = NULL;
    out->w = w;
    out->w_n = n;
}

static void ld_target_compile(struct ld_data *d, uint32_t t,
                              struct ld_target *out)
{
    static const struct ld_name names[] = {
        LD_NAME("contextKind"), LD_NAME("values"), LD_NAME("variation")};
    uint32_t f[3];
    ld_fields(d, t, names, 3, f);
    if (!ld_is(d, t, LD_TOK_OBJ) ||
        (f[0] != 0 && !ld_is(d, f[0], LD_TOK_STR)) ||
        !ld_is(d, f[1], LD_TOK_ARR)) {
        out->bad = true;
        return;
    }
    out->kind = f[0] != 0 ? ld_text(d, f[0]) : NULL;
    ld_set_compile(d, f[1], &out->keys);
    out->variation = ld_index(d, f[2]);
}

static void ld_targets_compile(struct ld_data *d, uint32_t targets,
                               uint32_t ctargets, struct ld_flag *flag)
{
    if ((targets != 0 && !ld_is(d, targets, LD_TOK_ARR)) ||
        (ctargets != 0 && !ld_is(d, ctargets, LD_TOK_ARR))) {
        flag->targets_why = "targets are not a list";
        return;
    }
    size_t n = targets != 0 ? ld_count(d, targets) : 0;
    struct ld_target *t = ld_array(d, n, sizeof(*t));
    if (n != 0 && t == NULL)
        return;
    size_t i = 0;
    for (uint32_t e = targets + 1; targets != 0 && e < ld_tok(d, targets)->next;
         e = ld_tok(d, e)->next)
        ld_target_compile(d, e, &t[i++]);
    flag->t = t;
    flag->t_n = n;
    n = ctargets != 0 ? ld_count(d, ctargets) : 0;
    struct ld_ctarget *ct = ld_array(d, n, sizeof(*ct));
    if (n != 0 && ct == NULL)
        return;
    i = 0;
    for (uint32_t e = ctargets + 1;
         ctargets != 0 && e < ld_tok(d, ctargets)->next;
         e = ld_tok(d, e)->next, i++) {
        uint32_t ck = ld_field(d, e, "contextKind");
        if (!ld_is(d, e, LD_TOK_OBJ) ||
            (ck != 0 && !ld_is(d, ck, LD_TOK_STR))) {
            ct[i].bad = true;
            continue;
        }
        if (ck != 0 && strcmp(ld_text(d, ck), "user") != 0) {
            ld_target_compile(d, e, &ct[i].own);
            continue;
        }
        /* a placeholder: the user targets of the same variation */
        ct[i].user = true;
        ct[i].target = -1;
        uint32_t var = ld_field(d, e, "variation");
        size_t k = 0;
        for (uint32_t u = targets + 1;
             ld_is(d, var, LD_TOK_NUM) && targets != 0 &&
             u < ld_tok(d, targets)->next;
             u = ld_tok(d, u)->next, k++) {
            uint32_t uv = ld_field(d, u, "variation");
            if (ld_is(d, uv, LD_TOK_NUM) &&
                ld_tok(d, uv)->num == ld_tok(d, var)->num) {
                ct[i].target = (long)k;
                break;
            }
        }
    }
    flag->ct = ct;
    flag->ct_n = n;
}

static void ld_prereqs_compile(struct ld_data *d, uint32_t pre,
                               struct ld_flag *flag)
{
    if (pre == 0)
        return;
    if (!ld_is(d, pre, LD_TOK_ARR)) {
        flag->pre_why = "prerequisites are not a list";
        return;
    }
    size_t n = ld_count(d, pre);
    struct ld_prereq *p = ld_array(d, n, sizeof(*p));
    if (n != 0 && p == NULL)
        return;
    size_t i = 0;
    for (uint32_t e = pre + 1; e < ld_tok(d, pre)->next;
         e = ld_tok(d, e)->next, i++) {
        static const struct ld_name names[] = {LD_NAME("key"),
                                               LD_NAME("variation")};
        uint32_t f[2];
        ld_fields(d, e, names, 2, f);
        if (!ld_is(d, e, LD_TOK_OBJ) || !ld_is(d, f[0], LD_TOK_STR)) {
            p[i].bad = true;
            continue;
        }
        p[i].key = ld_text(d, f[0]);
        p[i].flag = ld_map_get(&d->flag_map, p[i].key, ld_tok(d, f[0])->len);
        p[i].want_num = ld_is(d, f[1], LD_TOK_NUM);
        p[i].want = p[i].want_num ? ld_tok(d, f[1])->num : 0;
    }
    flag->pre = p;
    flag->pre_n = n;
}

static void ld_flag_compile(struct ld_data *d, uint32_t at,
                            struct ld_flag *flag)
{
    enum {
        F_KEY,
        F_ON,
        F_DELETED,
        F_MIGRATION,
        F_VERSION,
        F_VARIATIONS,
        F_OFF,
        F_PRE,
        F_TARGETS,
        F_CTARGETS,
        F_RULES,
        F_FALL,
        F_SALT,
        F_N
    };
    static const struct ld_name names[F_N] = {
        LD_NAME("key"),          LD_NAME("on"),
        LD_NAME("deleted"),      LD_NAME("migration"),
        LD_NAME("version"),      LD_NAME("variations"),
        LD_NAME("offVariation"), LD_NAME("prerequisites"),
        LD_NAME("targets"),      LD_NAME("contextTargets"),
        LD_NAME("rules"),        LD_NAME("fallthrough"),
        LD_NAME("salt")};
    uint32_t f[F_N];
    flag->object = ld_is(d, at, LD_TOK_OBJ);
    if (!flag->object)
        return;
    ld_fields(d, at, names, F_N, f);
    flag->deleted = ld_is(d, f[F_DELETED], LD_TOK_TRUE);
    flag->migration = ld_is(d, f[F_MIGRATION], LD_TOK_TRUE) ||
                      ld_is(d, f[F_MIGRATION], LD_TOK_OBJ);
    flag->on = ld_is(d, f[F_ON], LD_TOK_TRUE);
    flag->has_version = ld_is(d, f[F_VERSION], LD_TOK_NUM);
    flag->version = flag->has_version ? ld_tok(d, f[F_VERSION])->num : 0;
    uint32_t vars = f[F_VARIATIONS];
    if (!ld_is(d, vars, LD_TOK_ARR)) {
        flag->vars_why = "the flag has no list of variations";
    } else {
        size_t n = ld_count(d, vars);
        /* malloc'd, not in a block: freed with the values */
        flag->vars = n != 0 ? calloc(n, sizeof(*flag->vars)) : NULL;
        if (n != 0 && flag->vars == NULL)
            d->nomem = true;
        for (uint32_t e = vars + 1;
             flag->vars != NULL && e < ld_tok(d, vars)->next;
             e = ld_tok(d, e)->next)
            flag->vars[flag->vars_n++] = ld_json_at(d, e);
    }
    flag->has_off = ld_is(d, f[F_OFF], LD_TOK_NUM);
    flag->off = flag->has_off ? ld_tok(d, f[F_OFF])->num : 0;
    ld_prereqs_compile(d, f[F_PRE], flag);
    ld_targets_compile(d, f[F_TARGETS], f[F_CTARGETS], flag);
    uint32_t rules = f[F_RULES];
    if (rules != 0 && !ld_is(d, rules, LD_TOK_ARR)) {
        flag->rules_why = "rules are not a list";
    } else if (rules != 0) {
        size_t n = ld_count(d, rules);
        struct ld_rule *r = ld_array(d, n, sizeof(*r));
        size_t i = 0;
        for (uint32_t e = rules + 1; r != NULL && e < ld_tok(d, rules)->next;
             e = ld_tok(d, e)->next, i++) {
            if (!ld_is(d, e, LD_TOK_OBJ)) {
                r[i].bad = true;
                continue;
            }
            ld_clauses_compile(d, e, &r[i].cl);
            ld_vr_compile(d, e, f[F_KEY], f[F_SALT], &r[i].vr);
        }
        flag->r = r;
        flag->r_n = r != NULL ? n : 0;
    }
    ld_vr_compile(d, f[F_FALL], f[F_KEY], f[F_SALT], &flag->fall);
}

/* includedContexts and included (or the excluded pair) of a segment. */
static void ld_tlist_compile(struct ld_data *d, uint32_t targets,
                             uint32_t users, bool included,
                             struct ld_tlist *out)
{
    out->entry_why = included ? "a segment includedContexts entry is "
                                "malformed"
                              : "a segment excludedContexts entry is "
                                "malformed";
    if ((targets != 0 && !ld_is(d, targets, LD_TOK_ARR)) ||
        (users != 0 && !ld_is(d, users, LD_TOK_ARR))) {
        out->why = included ? "segment includedContexts or included is not "
                              "a list"
                            : "segment excludedContexts or excluded is not "
                              "a list";
        return;
    }
    size_t n = targets != 0 ? ld_count(d, targets) : 0;
    struct ld_target *t = ld_array(d, n, sizeof(*t));
    size_t i = 0;
    for (uint32_t e = targets + 1; t != NULL && e < ld_tok(d, targets)->next;
         e = ld_tok(d, e)->next)
        ld_target_compile(d, e, &t[i++]);
    out->t = t;
    out->n = t != NULL ? n : 0;
    out->has_users = users != 0;
    ld_set_compile(d, users, &out->users);
}

static void ld_srule_compile(struct ld_data *d, uint32_t rule, uint32_t key,
                             uint32_t salt, struct ld_srule *out)
{
    static const struct ld_name names[] = {
        LD_NAME("weight"), LD_NAME("bucketBy"), LD_NAME("rolloutContextKind")};
    uint32_t f[3];
    if (!ld_is(d, rule, LD_TOK_OBJ)) {
        out->bad = true;
        return;
    }
    ld_clauses_compile(d, rule, &out->cl);
    ld_fields(d, rule, names, 3, f);
    uint32_t weight = f[0], by = f[1], kind = f[2];
    if (weight == 0)
        return;
    out->has_weight = true;
    if (!ld_is(d, weight, LD_TOK_NUM)) {
        out->why = "a segment rule weight is not a number";
        return;
    }
    out->weight = ld_tok(d, weight)->num;
    if ((by != 0 && !ld_is(d, by, LD_TOK_STR)) ||
        (kind != 0 && !ld_is(d, kind, LD_TOK_STR)) ||
        !ld_is(d, key, LD_TOK_STR) ||
        (salt != 0 && !ld_is(d, salt, LD_TOK_STR))) {
        out->why = "a segment rule rollout is malformed";
        return;
    }
    char why[LD_WHY_LEN];
    if (ld_bucketing_compile(d, ld_text(d, key),
                             salt != 0 ? ld_text(d, salt) : NULL, false, 0,
                             by != 0 ? ld_text(d, by) : NULL, kind == 0,
                             kind != 0 ? ld_text(d, kind) : NULL,
                             "a segment rule", &out->bk, why) != LD_YES)
        out->why = ld_keep_why(d, why);
}

static void ld_segment_compile(struct ld_data *d, uint32_t at,
                               struct ld_segment *seg)
{
    enum {
        S_KEY,
        S_SALT,
        S_DELETED,
        S_UNBOUNDED,
        S_INCC,
        S_INC,
        S_EXCC,
        S_EXC,
        S_RULES,
        S_N
    };
    static const struct ld_name names[S_N] = {LD_NAME("key"),
                                              LD_NAME("salt"),
                                              LD_NAME("deleted"),
                                              LD_NAME("unbounded"),
                                              LD_NAME("includedContexts"),
                                              LD_NAME("included"),
                                              LD_NAME("excludedContexts"),
                                              LD_NAME("excluded"),
                                              LD_NAME("rules")};
    uint32_t f[S_N];
    seg->object = ld_is(d, at, LD_TOK_OBJ);
    if (!seg->object)
        return;
    ld_fields(d, at, names, S_N, f);
    seg->deleted = ld_is(d, f[S_DELETED], LD_TOK_TRUE);
    seg->unbounded = ld_is(d, f[S_UNBOUNDED], LD_TOK_TRUE);
    ld_tlist_compile(d, f[S_INCC], f[S_INC], true, &seg->inc);
    ld_tlist_compile(d, f[S_EXCC], f[S_EXC], false, &seg->exc);
    uint32_t rules = f[S_RULES];
    if (rules != 0 && !ld_is(d, rules, LD_TOK_ARR)) {
        seg->rules_why = "segment rules are not a list";
        return;
    }
    size_t n = rules != 0 ? ld_count(d, rules) : 0;
    struct ld_srule *r = ld_array(d, n, sizeof(*r));
    size_t i = 0;
    for (uint32_t e = rules + 1; r != NULL && e < ld_tok(d, rules)->next;
         e = ld_tok(d, e)->next)
        ld_srule_compile(d, e, f[S_KEY], f[S_SALT], &r[i++]);
    seg->r = r;
    seg->r_n = r != NULL ? n : 0;
}

/* The members of the object at obj by name, first place and last value
   (as jansson keeps repeated names): into map, their count into *n and
   the value of each into at (at least as many as members). */
static int ld_names(struct ld_data *d, uint32_t obj, struct ld_map *map,
                    uint32_t *at, size_t *n)
{
    *n = 0;
    if (obj == 0)
        return 0;
    for (uint32_t m = obj + 1; m < ld_tok(d, obj)->next;
         m = ld_tok(d, m + 1)->next) {
        bool added;
        long i = ld_map_put(map, ld_text(d, m), ld_tok(d, m)->len, (uint32_t)*n,
                            &added);
        if (i < 0)
            return -1;
        at[i] = m + 1;
        if (added)
            (*n)++;
    }
    return 0;
}

static void ld_data_release(struct ld_data *d)
{
    for (size_t i = 0; i < d->flags_n; i++) {
        for (size_t k = 0; k < d->flags[i].vars_n; k++)
            json_decref(d->flags[i].vars[k]);
        free(d->flags[i].vars);
    }
    for (size_t i = 0; i < d->rxs_n; i++)
        if (d->rxs[i]->state == LD_RX_READY)
            regfree(&d->rxs[i]->re);
    free(d->rxs);
    free(d->refs);
    free(d->flag_map.slot);
    free(d->seg_map.slot);
    free(d->ref_map.slot);
    free(d->rx_map.slot);
    free(d->flags);
    free(d->segs);
    while (d->blocks != NULL) {
        struct ld_block *b = d->blocks;
        d->blocks = b->next;
        /* copies of the document's text: a layer may be secret */
        explicit_bzero(b->data, b->used);
        free(b);
    }
    ld_scan_free(&d->scan);
}

void ld_data_free(struct ld_data *d)
{
    if (d == NULL)
        return;
    ld_data_release(d);
    free(d);
}

/* Why jansson, which reports exact errors, refuses what the scanner
   declined; or the shape of a document that is JSON but not latest-all. */
static const char *ld_shape(const json_t *root)
{
    const json_t *flags = json_object_get(root, "flags");
    const json_t *segs = json_object_get(root, "segments");
    if (!json_is_object(root))
        return "the document is not a JSON object";
    if (!json_is_object(flags))
        return "\"flags\" is missing or not an object";
    if (segs != NULL && !json_is_null(segs) && !json_is_object(segs))
        return "\"segments\" is not an object";
    return NULL;
}

static void ld_refused(const char *buf, size_t len, char *why, size_t why_len,
                       bool *nomem)
{
    json_error_t je;
    json_t *root = json_loadb(buf != NULL ? buf : "", buf != NULL ? len : 0,
                              JSON_DECODE_INT_AS_REAL, &je);
    if (root == NULL) {
        *nomem = json_error_code(&je) == json_error_out_of_memory;
        /* jansson's text may quote the input: keep the position only */
        snprintf(why, why_len, "malformed JSON at line %d, column %d", je.line,
                 je.column);
        return;
    }
    const char *bad = ld_shape(root);
    /* the scanner takes what jansson takes: only a bug gets here */
    snprintf(why, why_len, "%s",
             bad != NULL ? bad : "JSON that the scanner does not take");
    json_decref(root);
}

struct ld_data *ld_data_load(const char *buf, size_t len, char *why,
                             size_t why_len, bool *nomem)
{
    *nomem = false;
    struct ld_data *d = calloc(1, sizeof(*d));
    if (d == NULL)
        goto nomem;
    int r = ld_scan(buf, len, &d->scan);
    if (r < 0) {
        free(d);
        goto nomem;
    }
    if (r == 0) {
        free(d);
        ld_refused(buf, len, why, why_len, nomem);
        return NULL;
    }
    uint32_t flags = ld_scan_member(&d->scan, 0, "flags");
    uint32_t segs = ld_scan_member(&d->scan, 0, "segments");
    const char *bad = NULL;
    if (!ld_is(d, flags, LD_TOK_OBJ))
        bad = "\"flags\" is missing or not an object";
    else if (segs != 0 && !ld_is(d, segs, LD_TOK_NULL) &&
             !ld_is(d, segs, LD_TOK_OBJ))
        bad = "\"segments\" is not an object";
    if (bad != NULL) {
        snprintf(why, why_len, "%s", bad);
        ld_data_free(d);
        return NULL;
    }
    if (!ld_is(d, segs, LD_TOK_OBJ))
        segs = 0;
    d->text = buf;
    /* the names first: flags and segments refer to each other by name */
    size_t fn = ld_count(d, flags) / 2,
           sn = segs != 0 ? ld_count(d, segs) / 2 : 0;
    uint32_t *fat = calloc(fn + 1, sizeof(*fat));
    uint32_t *sat = calloc(sn + 1, sizeof(*sat));
    d->flags = calloc(fn + 1, sizeof(*d->flags));
    d->segs = calloc(sn + 1, sizeof(*d->segs));
    if (fat == NULL || sat == NULL || d->flags == NULL || d->segs == NULL ||
        ld_names(d, flags, &d->flag_map, fat, &d->flags_n) < 0 ||
        ld_names(d, segs, &d->seg_map, sat, &d->segs_n) < 0) {
        d->nomem = true;
    } else {
        for (size_t i = 0; i < d->segs_n; i++) {
            d->segs[i].key = ld_text(d, sat[i] - 1);
            ld_segment_compile(d, sat[i], &d->segs[i]);
        }
        for (size_t i = 0; i < d->flags_n; i++) {
            d->flags[i].key = ld_text(d, fat[i] - 1);
            ld_flag_compile(d, fat[i], &d->flags[i]);
        }
    }
    free(fat);
    free(sat);
    d->text = NULL;
    if (!d->nomem)
        return d;
    ld_data_free(d);
nomem:
    *nomem = true;
    snprintf(why, why_len, "out of memory");
    return NULL;
}

size_t ld_data_flag_count(const struct ld_data *d)
{
    return d->flags_n;
}

const char *ld_data_flag(const struct ld_data *d, size_t i, bool *deleted,
                         double *version)
{
    *deleted = d->flags[i].deleted;
    *version = d->flags[i].version;
    return d->flags[i].key;
}
/* ---- context ---- */

/* A kind as the SDKs accept it: [A-Za-z0-9_.-]+, not "kind". */
static bool ld_kind_valid(const char *k)
{
    if (k == NULL || k[0] == '\0' || strcmp(k, "kind") == 0)
        return false;
    for (const char *p = k; *p != '\0'; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

static bool ld_key_valid(const json_t *obj)
{
    const json_t *k = json_object_get(obj, "key");
    return json_is_string(k) && json_string_length(k) > 0;
}

static int ld_context(struct ld_eval *ev, const json_t *ctx)
{
    if (!json_is_object(ctx))
        return ld_fail(ev, "the context is not an object");
    const json_t *kind = json_object_get(ctx, "kind");
    if (!json_is_string(kind))
        return ld_fail(ev, "the context has no kind");
    const char *k = json_string_value(kind);
    if (strcmp(k, "multi") != 0) {
        if (!ld_kind_valid(k))
            return ld_fail(ev, "the context kind is not valid");
        if (!ld_key_valid(ctx))
            return ld_fail(ev, "the context needs a non-empty string key");
        ev->kinds[0].kind = k;
        ev->kinds[0].obj = ctx;
        ev->kinds_n = 1;
        return LD_YES;
    }
    const char *name;
    const json_t *sub;
    json_object_foreach((json_t *)ctx, name, sub)
    {
        if (strcmp(name, "kind") == 0)
            continue;
        if (!ld_kind_valid(name))
            return ld_fail(ev, "a context kind of the multi-kind context is "
                               "not valid");
        if (!json_is_object(sub) || !ld_key_valid(sub))
            return ld_fail(ev, "each kind of a multi-kind context needs an "
                               "object with a non-empty string key");
        if (ev->kinds_n == LD_KINDS_MAX)
            return ld_fail(ev, "more than %d context kinds", LD_KINDS_MAX);
        ev->kinds[ev->kinds_n].kind = name;
        ev->kinds[ev->kinds_n].obj = sub;
        ev->kinds_n++;
    }
    if (ev->kinds_n == 0)
        return ld_fail(ev, "a multi-kind context needs at least one kind");
    return LD_YES;
}

static const json_t *ld_ctx_of(const struct ld_eval *ev, const char *kind)
{
    for (size_t i = 0; i < ev->kinds_n; i++)
        if (strcmp(ev->kinds[i].kind, kind) == 0)
            return ev->kinds[i].obj;
    return NULL;
}

/* The key of the context of kind, or NULL. */
static const char *ld_ctx_key(const struct ld_eval *ev, const char *kind)
{
    const json_t *c = ld_ctx_of(ev, kind);
    return c != NULL ? json_string_value(json_object_get(c, "key")) : NULL;
}

int ld_context_check(const json_t *context, char *why, size_t why_len)
{
    struct ld_eval *ev = calloc(1, sizeof(*ev));
    char scratch[LD_WHY_LEN] = "";
    if (ev == NULL) {
        snprintf(why, why_len, "out of memory");
        return -1;
    }
    ev->why = scratch;
    int r = ld_context(ev, context);
    free(ev);
    if (r != LD_YES) {
        snprintf(why, why_len, "%s", scratch);
        return -1;
    }
    return 0;
}

struct ld_eval *ld_eval_new(const struct ld_data *data, const json_t *context,
                            char *why, size_t why_len, bool *nomem)
{
    *nomem = false;
    why[0] = '\0';
    struct ld_eval *ev = calloc(1, sizeof(*ev));
    char scratch[LD_WHY_LEN] = "";
    if (ev == NULL) {
        *nomem = true;
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    ev->why = scratch;
    ev->d = data;
    if (ld_context(ev, context) != LD_YES) {
        snprintf(why, why_len, "%s", scratch);
        free(ev);
        return NULL;
    }
    ev->sha1 = ei_sha1_new(why, why_len);
    if (ev->sha1 == NULL) {
        ld_eval_free(ev);
        return NULL;
    }
    /* what each reference names and each segment answers, once known */
    ev->ref_val = calloc(data->refs_n + 1, sizeof(*ev->ref_val));
    ev->ref_known = calloc(data->refs_n + 1, 1);
    ev->seg_known = calloc(data->segs_n + 1, 1);
    ev->rx_subject = calloc(data->rxs_n + 1, sizeof(*ev->rx_subject));
    ev->rx_verdict = calloc(data->rxs_n + 1, 1);
    ev->kind_list = json_array();
    for (size_t i = 0; ev->kind_list != NULL && i < ev->kinds_n; i++)
        if (json_array_append_new(ev->kind_list,
                                  json_string(ev->kinds[i].kind)) != 0) {
            json_decref(ev->kind_list);
            ev->kind_list = NULL;
        }
    if (ev->kind_list == NULL || ev->ref_val == NULL || ev->ref_known == NULL ||
        ev->seg_known == NULL || ev->rx_subject == NULL ||
        ev->rx_verdict == NULL) {
        *nomem = true;
        snprintf(why, why_len, "out of memory");
        ld_eval_free(ev);
        return NULL;
    }
    ev->why = NULL;
    return ev;
}

void ld_eval_free(struct ld_eval *ev)
{
    if (ev == NULL)
        return;
    free(ev->ref_val);
    free(ev->ref_known);
    free(ev->seg_known);
    free(ev->rx_subject);
    free(ev->rx_verdict);
    json_decref(ev->kind_list);
    ei_sha1_free(ev->sha1);
    free(ev);
}

/* ---- attribute values ---- */

/* The value of r in the context: NULL when absent or null. */
static const json_t *ld_ref_get(const struct ld_eval *ev,
                                const struct ld_ref *r)
{
    if (r->special == LD_REF_KIND)
        return ev->kind_list;
    const json_t *cur = ld_ctx_of(ev, r->kind);
    if (cur == NULL)
        return NULL;
    if (r->special == LD_REF_ANONYMOUS) {
        /* the SDKs read a missing anonymous as false */
        const json_t *a = json_object_get(cur, "anonymous");
        bool truthy = json_is_true(a) || json_is_object(a) ||
                      json_is_array(a) ||
                      (json_is_string(a) && json_string_length(a) > 0) ||
                      (json_is_number(a) && json_number_value(a) != 0 &&
                       !isnan(json_number_value(a)));
        return truthy ? json_true() : json_false();
    }
    for (size_t i = 0; i < r->n && cur != NULL; i++)
        cur = json_is_object(cur) ? json_object_get(cur, r->comp[i]) : NULL;
    return json_is_null(cur) ? NULL : cur;
}

/* The value reference i names in the context, looked up once. */
static const json_t *ld_ref_value(struct ld_eval *ev, uint32_t i)
{
    if (!ev->ref_known[i]) {
        ev->ref_val[i] = ld_ref_get(ev, ev->d->refs[i]);
        ev->ref_known[i] = 1;
    }
    return ev->ref_val[i];
}

/* ---- bucketing ---- */

/* The bucket of input: the first 15 hex digits of its SHA-1 are the first
   60 bits of the digest. */
static int ld_bucket_with(struct ei_sha1 *sha1, const char *input, size_t len,
                          double *out)
{
    unsigned char md[EI_SHA1_LEN];
    if (ei_sha1_digest(sha1, input, len, md) < 0)
        return -1;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | md[i];
    v >>= 64 - 4 * LD_BUCKET_DIGITS;
    *out = (double)v / LD_LONG_SCALE;
    return 0;
}

int ld_bucket_of(const char *input, size_t len, double *out)
{
    char why[LD_WHY_LEN];
    struct ei_sha1 *sha1 = ei_sha1_new(why, sizeof(why));
    int r = sha1 != NULL ? ld_bucket_with(sha1, input, len, out) : -1;
    ei_sha1_free(sha1);
    return r;
}

/*
 * The bucket of the context for bk.  A value that is not a string or an
 * integer gives bucket 0, as a missing context does.
 */
static int ld_bucket(struct ld_eval *ev, const struct ld_bucketing *bk,
                     double *out)
{
    *out = 0;
    const json_t *v = ld_ref_value(ev, bk->ref);
    char num[64];
    const char *val = NULL;
    size_t val_len = 0;
    if (json_is_string(v)) {
        val = json_string_value(v);
        val_len = json_string_length(v);
    } else if (json_is_number(v)) {
        double d = json_number_value(v);
        if (!isfinite(d) || !ld_is_whole(d))
            return LD_YES;
        if (fabs(d) > LD_SAFE_INT)
            return ld_fail(ev, "bucketing by an integer beyond 2^53: the "
                               "SDKs write it differently");
        /* as JavaScript's String() writes an integer below 2^53 */
        snprintf(num, sizeof(num), "%.0f", d == 0 ? 0.0 : d);
        val = num;
        val_len = strlen(num);
    } else {
        return LD_YES;
    }
    char input[LD_HASH_INPUT_MAX];
    size_t n = bk->prefix_len;
    if (n == 0 || n + val_len >= sizeof(input))
        return ld_fail(ev, "bucketing input longer than %d bytes",
                       LD_HASH_INPUT_MAX);
    memcpy(input, bk->prefix, n);
    memcpy(input + n, val, val_len);
    if (ld_bucket_with(ev->sha1, input, n + val_len, out) < 0)
        return ld_fail(ev, "SHA-1 failed (libcrypto)");
    return LD_YES;
}

/* ---- operators ---- */

static bool ld_same(const json_t *a, const struct ld_cval *b)
{
    switch (b->type) {
    case LD_CV_STR:
        return json_is_string(a) && json_string_length(a) == b->len &&
               memcmp(json_string_value(a), b->s, b->len) == 0;
    case LD_CV_NUM:
        return json_is_number(a) && json_number_value(a) == b->num;
    case LD_CV_TRUE:
        return json_is_true(a);
    case LD_CV_FALSE:
        return json_is_false(a);
    default:
        return false;
    }
}

/* Whether op holds for the context value a and the clause value b. */
static int ld_op(struct ld_eval *ev, const struct ld_clause *c, const json_t *a,
                 const struct ld_cval *b)
{
    bool strs = json_is_string(a) && b->type == LD_CV_STR;
    switch ((enum ld_opk)c->op) {
    case LD_OP_IN:
        return ld_same(a, b) ? LD_YES : LD_NO;
    case LD_OP_STARTS:
    case LD_OP_ENDS:
    case LD_OP_CONTAINS: {
        if (!strs)
            return LD_NO;
        const char *x = json_string_value(a), *y = b->s;
        size_t xl = json_string_length(a), yl = b->len;
        if (yl > xl)
            return LD_NO;
        if (c->op == LD_OP_STARTS)
            return memcmp(x, y, yl) == 0 ? LD_YES : LD_NO;
        if (c->op == LD_OP_ENDS)
            return memcmp(x + xl - yl, y, yl) == 0 ? LD_YES : LD_NO;
        if (yl == 0)
            return LD_YES;
        for (size_t i = 0; i + yl <= xl; i++)
            if (memcmp(x + i, y, yl) == 0)
                return LD_YES;
        return LD_NO;
    }
    case LD_OP_MATCHES:
        if (!strs)
            return LD_NO;
        if (b->rx == NULL)
            return ld_fail(ev, "out of memory");
        return ld_matches(ev, a, b->rx);
    case LD_OP_LT:
    case LD_OP_LE:
    case LD_OP_GT:
    case LD_OP_GE: {
        if (!json_is_number(a) || b->type != LD_CV_NUM)
            return LD_NO;
        double x = json_number_value(a), y = b->num;
        bool r = c->op == LD_OP_LT   ? x < y
                 : c->op == LD_OP_LE ? x <= y
                 : c->op == LD_OP_GT ? x > y
                                     : x >= y;
        return r ? LD_YES : LD_NO;
    }
    case LD_OP_BEFORE:
    case LD_OP_AFTER: {
        double x;
        int ra = ld_date(ev, a, &x);
        if (ra != LD_YES)
            return ra;
        if (b->pre == LD_ERR)
            return ld_fail(ev, "%s", b->why);
        if (b->pre != LD_YES)
            return LD_NO;
        return (c->op == LD_OP_BEFORE ? x < b->num : x > b->num) ? LD_YES
                                                                 : LD_NO;
    }
    case LD_OP_SEMVER_EQ:
    case LD_OP_SEMVER_LT:
    case LD_OP_SEMVER_GT: {
        int which = c->op == LD_OP_SEMVER_EQ   ? 0
                    : c->op == LD_OP_SEMVER_LT ? -1
                                               : 1;
        if (ev->sv_subject != a) {
            ev->sv_why = NULL;
            ev->sv_status =
                json_is_string(a)
                    ? ld_semver_read(json_string_value(a),
                                     json_string_length(a), &ev->sv, ev->sv_pad,
                                     sizeof(ev->sv_pad), &ev->sv_why)
                    : LD_NO;
            ev->sv_subject = a;
        }
        int ra = ev->sv_status;
        if (ra == LD_ERR)
            return ld_fail(ev, "%s", ev->sv_why);
        if (ra != LD_YES)
            return ra;
        if (b->pre == LD_ERR)
            return ld_fail(ev, "%s", b->why);
        if (b->pre != LD_YES)
            return LD_NO;
        return ld_semver_cmp(&ev->sv, b->sv) == which ? LD_YES : LD_NO;
    }
    default:
        /* segmentMatch is the clause's own */
        return ld_fail(ev, "unknown clause operator \"%.64s\"", c->why);
    }
}

/* ---- clauses, segments, rules ---- */

static int ld_segment_match(struct ld_eval *ev, long seg);

/* Whether the clause's operator holds for value against any clause
   value. */
static int ld_any(struct ld_eval *ev, const struct ld_clause *c,
                  const json_t *value)
{
    if (c->op == LD_OP_IN && json_is_string(value)) {
        /* the most common clause, "in" on a string: the subject once */
        const char *x = json_string_value(value);
        size_t xl = json_string_length(value);
        for (size_t i = 0; i < c->n; i++)
            if (c->v[i].type == LD_CV_STR && c->v[i].len == xl &&
                memcmp(c->v[i].s, x, xl) == 0)
                return LD_YES;
        return LD_NO;
    }
    for (size_t i = 0; i < c->n; i++) {
        int r = ld_op(ev, c, value, &c->v[i]);
        if (r != LD_NO)
            return r;
    }
    return LD_NO;
}

static int ld_clause(struct ld_eval *ev, const struct ld_clause *c)
{
    if (c->op == LD_OP_BROKEN)
        return ld_fail(ev, "%s", c->why);
    if (c->op == LD_OP_SEGMENT) {
        for (size_t i = 0; i < c->n; i++) {
            if (c->v[i].type != LD_CV_STR)
                continue;
            int r = ld_segment_match(ev, c->v[i].seg);
            if (r == LD_ERR)
                return r;
            if (r == LD_YES)
                return c->negate ? LD_NO : LD_YES;
        }
        return c->negate ? LD_YES : LD_NO;
    }
    const json_t *value = ld_ref_value(ev, c->ref);
    if (value == NULL)
        return LD_NO; /* whatever negate says */
    int r;
    if (json_is_array(value)) {
        size_t i;
        const json_t *e;
        r = LD_NO;
        json_array_foreach(value, i, e)
        {
            r = ld_any(ev, c, e);
            if (r != LD_NO)
                break;
        }
    } else {
        r = ld_any(ev, c, value);
    }
    if (r == LD_ERR)
        return r;
    return (r == LD_YES) != c->negate ? LD_YES : LD_NO;
}

/* Whether every clause matches: LD_NO for a rule without a clause list. */
static int ld_clauses(struct ld_eval *ev, const struct ld_clauses *cl)
{
    if (cl->none)
        return LD_NO;
    if (cl->why != NULL)
        return ld_fail(ev, "%s", cl->why);
    for (size_t i = 0; i < cl->n; i++) {
        int r = ld_clause(ev, &cl->c[i]);
        if (r != LD_YES)
            return r;
    }
    return LD_YES;
}

/* The key of the context of kind (NULL: "user") in t's keys: LD_YES,
   LD_NO, or LD_ERR (why) when t is malformed. */
static int ld_target_has(struct ld_eval *ev, const struct ld_target *t,
                         const char *why)
{
    if (t->bad)
        return ld_fail(ev, "%s", why);
    const char *key = ld_ctx_key(ev, t->kind != NULL ? t->kind : "user");
    return key != NULL && ld_set_has(&t->keys, key) ? LD_YES : LD_NO;
}

/* includedContexts/included (or the excluded pair) as Node searches them. */
static int ld_segment_targets(struct ld_eval *ev, const struct ld_tlist *l)
{
    if (l->why != NULL)
        return ld_fail(ev, "%s", l->why);
    for (size_t i = 0; i < l->n; i++) {
        int r = ld_target_has(ev, &l->t[i], l->entry_why);
        if (r != LD_NO)
            return r;
    }
    const char *ukey = ld_ctx_key(ev, "user");
    return ukey != NULL && l->has_users && ld_set_has(&l->users, ukey) ? LD_YES
                                                                       : LD_NO;
}

static int ld_segment_rule(struct ld_eval *ev, const struct ld_srule *rule)
{
    if (rule->bad)
        return ld_fail(ev, "a segment rule is not an object");
    int r = ld_clauses(ev, &rule->cl);
    if (r != LD_YES)
        return r;
    if (!rule->has_weight)
        return LD_YES;
    if (rule->why != NULL)
        return ld_fail(ev, "%s", rule->why);
    double b;
    r = ld_bucket(ev, &rule->bk, &b);
    if (r != LD_YES)
        return r;
    return b < rule->weight / LD_WEIGHT_SCALE ? LD_YES : LD_NO;
}

static int ld_segment_eval(struct ld_eval *ev, long i)
{
    if (i < 0)
        return LD_NO;
    const struct ld_segment *seg = &ev->d->segs[i];
    if (!seg->object || seg->deleted)
        return LD_NO;
    for (size_t k = 0; k < ev->seg_depth; k++)
        if (ev->seg_visited[k] == i)
            return ld_fail(ev, "segment \"%.64s\" refers to itself", seg->key);
    if (ev->seg_depth == LD_DEPTH_MAX)
        return ld_fail(ev, "segments nested deeper than %d", LD_DEPTH_MAX);
    if (seg->unbounded)
        return ld_fail(ev,
                       "segment \"%.64s\" is a big segment, which needs "
                       "a segment store",
                       seg->key);
    int r = ld_segment_targets(ev, &seg->inc);
    if (r != LD_NO)
        return r;
    r = ld_segment_targets(ev, &seg->exc);
    if (r != LD_NO)
        return r == LD_YES ? LD_NO : r;
    if (seg->rules_why != NULL)
        return ld_fail(ev, "%s", seg->rules_why);
    ev->seg_visited[ev->seg_depth++] = i;
    r = LD_NO;
    for (size_t k = 0; k < seg->r_n && r == LD_NO; k++)
        r = ld_segment_rule(ev, &seg->r[k]);
    ev->seg_depth--;
    return r;
}

/*
 * Whether the context is in segment i.  The answer for a segment reached
 * from a flag's rule (not from another segment, whose chain a cycle could
 * run through) depends on nothing else: kept for the next.
 */
static int ld_segment_match(struct ld_eval *ev, long i)
{
    if (ev->seg_depth != 0 || i < 0)
        return ld_segment_eval(ev, i);
    if (ev->seg_known[i] != 0)
        return ev->seg_known[i] - 1;
    int r = ld_segment_eval(ev, i);
    if (r != LD_ERR)
        ev->seg_known[i] = (unsigned char)(r + 1);
    return r;
}

/* ---- flags ---- */

static int ld_variation(struct ld_eval *ev, const struct ld_flag *flag,
                        double d, struct ld_result *res)
{
    if (flag->vars_why != NULL)
        return ld_fail(ev, "%s", flag->vars_why);
    if (d < 0 || !ld_is_whole(d) || d >= (double)flag->vars_n)
        return ld_fail(ev, "variation index out of range");
    res->outcome = LD_VALUE;
    res->variation = (long)d;
    res->value = flag->vars[(size_t)d];
    return LD_YES;
}

/* Off: offVariation, or no value when the flag has none. */
static int ld_off(struct ld_eval *ev, const struct ld_flag *flag,
                  const char *why, struct ld_result *res)
{
    if (!flag->has_off) {
        res->outcome = LD_NOVALUE;
        res->variation = -1;
        res->value = NULL;
        snprintf(res->why, sizeof(res->why), "%s, and no offVariation", why);
        return LD_YES;
    }
    return ld_variation(ev, flag, flag->off, res);
}

static int ld_rollout(struct ld_eval *ev, const struct ld_flag *flag,
                      const struct ld_vr *vr, struct ld_result *res)
{
    if (vr->kind == LD_VR_FAIL)
        return ld_fail(ev, "%s", vr->why);
    if (vr->kind == LD_VR_VARIATION)
        return ld_variation(ev, flag, vr->variation, res);
    double b;
    int r = ld_bucket(ev, &vr->bk, &b);
    if (r != LD_YES)
        return r;
    double sum = 0;
    for (size_t i = 0; i < vr->w_n; i++) {
        const struct ld_weight *w = &vr->w[i];
        if (w->status == LD_W_NOT_OBJECT)
            return ld_fail(ev, "a rollout variation is not an object");
        if (w->status == LD_W_NO_WEIGHT)
            return ld_fail(ev, "a rollout variation has no weight");
        sum += w->weight / LD_WEIGHT_SCALE;
        if (b < sum)
            return ld_variation(ev, flag, w->variation, res);
    }
    /* weights that add up to less than 100%: the last one wins */
    return ld_variation(ev, flag, vr->w[vr->w_n - 1].variation, res);
}

/* The first target (of targets, with contextTargets as the SDKs walk
   them) that lists the context's key, or LD_NO. */
static int ld_target_one(struct ld_eval *ev, const struct ld_flag *flag,
                         const struct ld_target *t, struct ld_result *res)
{
    int r = ld_target_has(ev, t, "a target is malformed");
    return r == LD_YES ? ld_variation(ev, flag, t->variation, res) : r;
}

static int ld_targets(struct ld_eval *ev, const struct ld_flag *flag,
                      struct ld_result *res)
{
    if (flag->targets_why != NULL)
        return ld_fail(ev, "%s", flag->targets_why);
    if (flag->ct_n == 0) {
        for (size_t i = 0; i < flag->t_n; i++) {
            int r = ld_target_one(ev, flag, &flag->t[i], res);
            if (r != LD_NO)
                return r;
        }
        return LD_NO;
    }
    for (size_t i = 0; i < flag->ct_n; i++) {
        const struct ld_ctarget *ct = &flag->ct[i];
        if (ct->bad)
            return ld_fail(ev, "a context target is malformed");
        int r;
        if (ct->user)
            r = ct->target >= 0
                    ? ld_target_one(ev, flag, &flag->t[ct->target], res)
                    : LD_NO;
        else
            r = ld_target_one(ev, flag, &ct->own, res);
        if (r != LD_NO)
            return r;
    }
    return LD_NO;
}

static int ld_flag(struct ld_eval *ev, long i, struct ld_result *res);

/* LD_YES when every prerequisite holds; LD_NO with res set otherwise. */
static int ld_prereqs(struct ld_eval *ev, const struct ld_flag *flag,
                      struct ld_result *res)
{
    if (flag->pre_why != NULL)
        return ld_fail(ev, "%s", flag->pre_why);
    for (size_t i = 0; i < flag->pre_n; i++) {
        const struct ld_prereq *p = &flag->pre[i];
        if (p->bad)
            return ld_fail(ev, "a prerequisite has no key");
        for (size_t d = 0; p->flag >= 0 && d < ev->flag_depth; d++)
            if (ev->flag_visited[d] == p->flag)
                return ld_fail(ev, "prerequisite cycle through \"%.64s\"",
                               p->key);
        if (ev->flag_depth == LD_DEPTH_MAX)
            return ld_fail(ev, "prerequisites nested deeper than %d",
                           LD_DEPTH_MAX);
        const struct ld_flag *pf = p->flag >= 0 ? &ev->d->flags[p->flag] : NULL;
        /* room for the name cut at 64 bytes */
        char why[LD_WHY_LEN / 2];
        snprintf(why, sizeof(why), "prerequisite \"%.64s\" failed", p->key);
        if (pf == NULL || !pf->object || pf->deleted)
            return ld_off(ev, flag, why, res) == LD_ERR ? LD_ERR : LD_NO;
        struct ld_result sub;
        memset(&sub, 0, sizeof(sub));
        ev->flag_visited[ev->flag_depth++] = p->flag;
        int r = ld_flag(ev, p->flag, &sub);
        ev->flag_depth--;
        if (r == LD_ERR)
            return r;
        if (!pf->on || sub.outcome != LD_VALUE || !p->want_num ||
            (double)sub.variation != p->want)
            return ld_off(ev, flag, why, res) == LD_ERR ? LD_ERR : LD_NO;
    }
    return LD_YES;
}

static int ld_flag(struct ld_eval *ev, long i, struct ld_result *res)
{
    const struct ld_flag *flag = i >= 0 ? &ev->d->flags[i] : NULL;
    if (flag == NULL || !flag->object || flag->deleted)
        return ld_fail(ev, "no such flag");
    if (flag->migration)
        return ld_fail(ev, "a migration flag");
    if (!flag->on)
        return ld_off(ev, flag, "off", res);
    int r = ld_prereqs(ev, flag, res);
    if (r != LD_YES)
        return r == LD_NO ? LD_YES : r;
    r = ld_targets(ev, flag, res);
    if (r != LD_NO)
        return r;
    if (flag->rules_why != NULL)
        return ld_fail(ev, "%s", flag->rules_why);
    for (size_t k = 0; k < flag->r_n; k++) {
        const struct ld_rule *rule = &flag->r[k];
        if (rule->bad)
            return ld_fail(ev, "rule %zu is not an object", k);
        r = ld_clauses(ev, &rule->cl);
        if (r == LD_ERR)
            return r;
        if (r == LD_YES)
            return ld_rollout(ev, flag, &rule->vr, res);
    }
    return ld_rollout(ev, flag, &flag->fall, res);
}

void ld_eval_flag(struct ld_eval *ev, const char *key, struct ld_result *res)
{
    memset(res, 0, sizeof(*res));
    res->variation = -1;
    ev->why = res->why;
    ev->flag_depth = 0;
    ev->seg_depth = 0;
    long i = ld_map_get(&ev->d->flag_map, key, strlen(key));
    ev->flag_visited[ev->flag_depth++] = i;
    if (ld_flag(ev, i, res) == LD_ERR) {
        res->outcome = LD_ERROR;
        res->variation = -1;
        res->value = NULL;
    } else if (res->outcome == LD_VALUE) {
        res->why[0] = '\0';
    }
    ev->why = NULL;
}
