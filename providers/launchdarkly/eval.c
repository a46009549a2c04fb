/* SPDX-License-Identifier: MIT */
/* LaunchDarkly's evaluation algorithm (the Go and Node server-side SDKs):
   prerequisites, targets, rules and their clauses, segments, rollouts with
   SHA-1 bucketing.  Where the SDKs could answer differently, or this code
   cannot follow them exactly (RE2/JavaScript regular expressions beyond
   what POSIX reads alike, big segments, unknown operators), the answer is
   an error that says so, never a guess. */
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/sha1.h"
#include "eval.h"

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

/* What one evaluator remembers, by text, of what does not change for its
   context: a regular expression's verdict and compiled form (compiled
   once for every clause that has the same pattern), a segment's answer,
   the value an attribute reference names in the context. */
enum ld_memo_kind { LD_MEMO_REGEX = 1, LD_MEMO_SEGMENT, LD_MEMO_ATTR };

/* a regular expression's state: not looked at, portable (not compiled
   yet), compiled, refused (why says why), portable but not compiled */
enum {
    LD_RX_NEW = 0,
    LD_RX_PORTABLE,
    LD_RX_READY,
    LD_RX_REFUSED,
    LD_RX_BROKEN
};

struct ld_memo {
    const char *key; /* borrowed from the data; NULL: an empty slot */
    size_t len;
    const char *key2; /* an attribute's contextKind, or NULL */
    uint32_t hash;
    unsigned char kind;
    /* 0: nothing known yet; else a regular expression's LD_RX_*, a
       segment's LD_YES + 1 or LD_NO + 1, 1 for an attribute's value */
    unsigned char state;
    const char *why;     /* LD_RX_REFUSED: what the pattern has */
    const json_t *value; /* an attribute's value (NULL: absent) */
    regex_t re;          /* LD_RX_READY */
};

struct ld_eval {
    const json_t *flags;
    const json_t *segments;
    struct ld_kind kinds[LD_KINDS_MAX];
    size_t kinds_n;
    json_t *kind_list; /* the value of the "kind" attribute */
    const char *flag_visited[LD_DEPTH_MAX];
    size_t flag_depth;
    const char *seg_visited[LD_DEPTH_MAX];
    size_t seg_depth;
    /* open addressing, cap a power of two, at most half full */
    struct ld_memo *memo;
    size_t memo_cap;
    size_t memo_n;
    char *why; /* of the evaluation under way */
    /* SHA-1 fetched once: an implicit fetch per digest costs more than
       the digest of a short input */
    struct ei_sha1 *sha1;
};

/* What a step found: a match, none, or an error (why filled). */
enum { LD_ERR = -1, LD_NO = 0, LD_YES = 1 };

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

/* ---- data ---- */

json_t *ld_data_load(const char *buf, size_t len, char *why, size_t why_len,
                     bool *nomem)
{
    *nomem = false;
    json_error_t je;
    /* JavaScript reads every number as a double: so does the evaluator,
       and integers too large for a long long are no error */
    json_t *root = json_loadb(buf != NULL ? buf : "", buf != NULL ? len : 0,
                              JSON_DECODE_INT_AS_REAL, &je);
    if (root == NULL) {
        *nomem = json_error_code(&je) == json_error_out_of_memory;
        /* jansson's text may quote the input: keep the position only */
        snprintf(why, why_len, "malformed JSON at line %d, column %d", je.line,
                 je.column);
        return NULL;
    }
    const json_t *flags = json_object_get(root, "flags");
    const json_t *segs = json_object_get(root, "segments");
    const char *bad = NULL;
    if (!json_is_object(root))
        bad = "the document is not a JSON object";
    else if (!json_is_object(flags))
        bad = "\"flags\" is missing or not an object";
    else if (segs != NULL && !json_is_null(segs) && !json_is_object(segs))
        bad = "\"segments\" is not an object";
    if (bad != NULL) {
        snprintf(why, why_len, "%s", bad);
        json_decref(root);
        return NULL;
    }
    return root;
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

struct ld_eval *ld_eval_new(const json_t *data, const json_t *context,
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
    ev->flags = json_object_get(data, "flags");
    ev->segments = json_object_get(data, "segments");
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
    ev->kind_list = json_array();
    for (size_t i = 0; ev->kind_list != NULL && i < ev->kinds_n; i++)
        if (json_array_append_new(ev->kind_list,
                                  json_string(ev->kinds[i].kind)) != 0) {
            json_decref(ev->kind_list);
            ev->kind_list = NULL;
        }
    if (ev->kind_list == NULL) {
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
    for (size_t i = 0; i < ev->memo_cap; i++)
        if (ev->memo[i].key != NULL && ev->memo[i].kind == LD_MEMO_REGEX &&
            ev->memo[i].state == LD_RX_READY)
            regfree(&ev->memo[i].re);
    free(ev->memo);
    json_decref(ev->kind_list);
    ei_sha1_free(ev->sha1);
    free(ev);
}

/* ---- memo ---- */

static uint32_t ld_memo_hash(unsigned kind, const char *key, size_t len,
                             const char *key2)
{
    /* FNV-1a */
    uint32_t h = 2166136261u ^ kind;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)key[i]) * 16777619u;
    if (key2 != NULL)
        for (const char *p = key2; *p != '\0'; p++)
            h = (h ^ (unsigned char)*p) * 16777619u;
    return h;
}

/*
 * The slot of (kind, key, key2): an empty one (state 0) when new.  NULL
 * when memory ran out: the caller works without it.  A slot moves when
 * the table grows: look it up again after anything that may add one.
 */
static struct ld_memo *ld_memo_get(struct ld_eval *ev, unsigned kind,
                                   const char *key, size_t len,
                                   const char *key2)
{
    if ((ev->memo_n + 1) * 2 > ev->memo_cap) {
        size_t cap = ev->memo_cap != 0 ? ev->memo_cap * 2 : 64;
        struct ld_memo *fresh = calloc(cap, sizeof(*fresh));
        if (fresh == NULL)
            return NULL;
        for (size_t i = 0; i < ev->memo_cap; i++) {
            if (ev->memo[i].key == NULL)
                continue;
            size_t h = ev->memo[i].hash & (cap - 1);
            while (fresh[h].key != NULL)
                h = (h + 1) & (cap - 1);
            fresh[h] = ev->memo[i];
        }
        free(ev->memo);
        ev->memo = fresh;
        ev->memo_cap = cap;
    }
    uint32_t hash = ld_memo_hash(kind, key, len, key2);
    size_t h = hash & (ev->memo_cap - 1);
    for (;; h = (h + 1) & (ev->memo_cap - 1)) {
        struct ld_memo *m = &ev->memo[h];
        if (m->key == NULL)
            break;
        if (m->hash == hash && m->kind == kind && m->len == len &&
            memcmp(m->key, key, len) == 0 &&
            (m->key2 == NULL ? key2 == NULL
                             : key2 != NULL && strcmp(m->key2, key2) == 0))
            return m;
    }
    struct ld_memo *m = &ev->memo[h];
    m->key = key;
    m->len = len;
    m->key2 = key2;
    m->hash = hash;
    m->kind = (unsigned char)kind;
    ev->memo_n++;
    return m;
}

/* ---- attribute references ---- */

struct ld_ref {
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
static int ld_ref_parse(struct ld_eval *ev, const char *attr, bool literal,
                        struct ld_ref *r)
{
    size_t len = strlen(attr);
    r->n = 0;
    if (len > LD_REF_LEN_MAX)
        return ld_fail(ev, "an attribute reference is longer than %d bytes",
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
                return ld_fail(ev,
                               "attribute reference with '~%c': the "
                               "SDKs read it differently",
                               attr[i + 1]);
            return LD_NO;
        }
    char *p = r->buf + 1;
    for (;;) {
        if (r->n == LD_REF_MAX)
            return ld_fail(ev,
                           "an attribute reference has more than %d "
                           "components",
                           LD_REF_MAX);
        char *slash = strchr(p, '/');
        if (slash != NULL)
            *slash = '\0';
        /* Node leaves a component that starts with '~' as it is; Go
           unescapes it */
        if (p[0] == '~')
            return ld_fail(ev, "attribute reference component starting with "
                               "'~': the SDKs read it differently");
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

static bool ld_ref_is(const struct ld_ref *r, const char *name)
{
    return r->n == 1 && strcmp(r->comp[0], name) == 0;
}

/* The value of r in the context of kind: NULL when absent or null. */
static const json_t *ld_ref_get(const struct ld_eval *ev,
                                const struct ld_ref *r, const char *kind)
{
    if (ld_ref_is(r, "kind"))
        return ev->kind_list;
    const json_t *cur = ld_ctx_of(ev, kind);
    if (cur == NULL)
        return NULL;
    if (ld_ref_is(r, "anonymous")) {
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

/* A member that is absent or null (the SDKs drop nulls on load). */
static const json_t *ld_get(const json_t *obj, const char *name)
{
    const json_t *v = json_object_get(obj, name);
    return json_is_null(v) ? NULL : v;
}

/*
 * The members names[0..n) of obj in one walk over its members, into out
 * (NULL when absent or null): cheaper than one hashed look-up each for
 * the small objects of flags, rules and clauses, and evaluation does
 * little else.
 */
static void ld_fields(const json_t *obj, const char *const *names, size_t n,
                      const json_t **out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = NULL;
    size_t found = 0;
    for (void *it = json_object_iter((json_t *)obj); it != NULL && found < n;
         it = json_object_iter_next((json_t *)obj, it)) {
        const char *k = json_object_iter_key(it);
        for (size_t i = 0; i < n; i++) {
            const char *m = names[i];
            /* the first two bytes tell almost every name apart */
            if (k[0] != m[0] || k[1] != m[1] || strcmp(k, m) != 0)
                continue;
            const json_t *v = json_object_iter_value(it);
            out[i] = json_is_null(v) ? NULL : v;
            found++;
            break;
        }
    }
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

/* A number as JavaScript's String() writes an integer below 2^53. */
static void ld_int_text(double d, char *out, size_t out_len)
{
    snprintf(out, out_len, "%.0f", d == 0 ? 0.0 : d);
}

/*
 * The bucket of the context of kind (NULL: "user") by attribute by (NULL:
 * the key; a literal name when literal), for key.salt, or for seed when it
 * is not NULL.  A value that is not a string or an integer gives bucket 0,
 * as a missing context does.  what names the rollout in errors.
 */
static int ld_bucket(struct ld_eval *ev, const char *key, const json_t *salt,
                     const json_t *seed, const json_t *by, bool literal,
                     const json_t *kind, const char *what, double *out)
{
    *out = 0;
    struct ld_ref ref;
    int r = ld_ref_parse(ev, by != NULL ? json_string_value(by) : "key",
                         by != NULL && literal, &ref);
    if (r == LD_ERR)
        return r;
    if (r == LD_NO)
        return ld_fail(ev, "%s has an invalid bucketBy", what);
    const json_t *v =
        ld_ref_get(ev, &ref, kind != NULL ? json_string_value(kind) : "user");
    char num[64];
    const char *val = NULL;
    size_t val_len = 0;
    if (json_is_string(v)) {
        val = json_string_value(v);
        val_len = json_string_length(v);
    } else if (json_is_number(v)) {
        double d = json_number_value(v);
        if (!ld_is_whole(d))
            return LD_YES;
        if (fabs(d) > LD_SAFE_INT)
            return ld_fail(ev, "bucketing by an integer beyond 2^53: the "
                               "SDKs write it differently");
        ld_int_text(d, num, sizeof(num));
        val = num;
        val_len = strlen(num);
    } else {
        return LD_YES;
    }
    char input[LD_HASH_INPUT_MAX];
    size_t n = 0;
    if (seed != NULL) {
        int w =
            snprintf(input, sizeof(input), "%.0f.", json_number_value(seed));
        n = w > 0 ? (size_t)w : 0;
    } else {
        /* memcpy, not snprintf: this runs once per flag with a rollout */
        const char *sv = salt != NULL ? json_string_value(salt) : "";
        size_t kl = strlen(key), sl = strlen(sv);
        if (kl + sl + 2 < sizeof(input)) {
            memcpy(input, key, kl);
            input[kl] = '.';
            memcpy(input + kl + 1, sv, sl);
            input[kl + 1 + sl] = '.';
        }
        n = kl + sl + 2;
    }
    if (n == 0 || n + val_len >= sizeof(input))
        return ld_fail(ev, "bucketing input longer than %d bytes",
                       LD_HASH_INPUT_MAX);
    memcpy(input + n, val, val_len);
    if (ld_bucket_with(ev->sha1, input, n + val_len, out) < 0)
        return ld_fail(ev, "SHA-1 failed (libcrypto)");
    return LD_YES;
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
                      const json_t *pattern)
{
    const char *p = json_string_value(pattern);
    size_t plen = json_string_length(pattern);
    const char *s = json_string_value(subject);
    size_t slen = json_string_length(subject);
    if (strlen(p) != plen || strlen(s) != slen)
        return ld_fail(ev, "regular expression over text with a NUL byte");
    struct ld_memo scratch = {0};
    struct ld_memo *m = ld_memo_get(ev, LD_MEMO_REGEX, p, plen, NULL);
    if (m == NULL)
        m = &scratch; /* out of memory: checked, and compiled for once */
    if (m->state == LD_RX_NEW)
        m->state = ld_regex_portable(p, plen, &m->why) ? LD_RX_PORTABLE
                                                       : LD_RX_REFUSED;
    if (m->state == LD_RX_REFUSED)
        return ld_fail(ev,
                       "regular expression with %s: POSIX cannot read "
                       "it as RE2 and JavaScript do",
                       m->why);
    bool wide = memchr(p, '.', plen) != NULL || memchr(p, '[', plen) != NULL;
    /* '.' and bracket lists match one UTF-16 unit in JavaScript, one byte
       here; '.' skips line ends in JavaScript and RE2, not here */
    if (wide && !ld_ascii_only(s, slen))
        return ld_fail(ev, "regular expression with '.' or a bracket list "
                           "over non-ASCII text");
    if (memchr(p, '.', plen) != NULL &&
        (memchr(s, '\n', slen) != NULL || memchr(s, '\r', slen) != NULL))
        return ld_fail(ev, "regular expression with '.' over text with a "
                           "line end");
    if (m->state == LD_RX_PORTABLE)
        m->state = regcomp(&m->re, p, REG_EXTENDED | REG_NOSUB) == 0
                       ? LD_RX_READY
                       : LD_RX_BROKEN;
    if (m->state != LD_RX_READY)
        return ld_fail(ev, "regular expression POSIX cannot compile");
    int r = regexec(&m->re, s, 0, NULL, 0) == 0 ? LD_YES : LD_NO;
    if (m == &scratch)
        regfree(&scratch.re);
    return r;
}

/* SemVer as node's semver (strict) reads it, after LaunchDarkly's padding
   of a missing minor or patch. */
struct ld_semver {
    const char *s;
    uint64_t main[3];
    size_t ids_n;
    size_t id_at[LD_SEMVER_IDS_MAX];
    size_t id_len[LD_SEMVER_IDS_MAX];
};

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
static bool ld_semver_strict(const char *s, size_t len, struct ld_semver *v)
{
    size_t i = 0;
    v->s = s;
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
            v->id_at[v->ids_n] = at;
            v->id_len[v->ids_n++] = i - at;
        } while (i < len && s[i] == '.');
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

/* LD_YES parsed, LD_NO not a version, LD_ERR where the SDKs differ. */
static int ld_semver_parse(struct ld_eval *ev, const json_t *j,
                           struct ld_semver *v, char *pad, size_t pad_len)
{
    if (!json_is_string(j))
        return LD_NO;
    const char *s = json_string_value(j);
    size_t len = json_string_length(j);
    if (len == 0 || s[0] == 'v' || len > LD_SEMVER_LEN_MAX || strlen(s) != len)
        return LD_NO;
    const char *ws = " \t\n\v\f\r";
    if (strchr(ws, s[0]) != NULL || strchr(ws, s[len - 1]) != NULL ||
        (unsigned char)s[0] >= 0x80 || (unsigned char)s[len - 1] >= 0x80)
        return ld_fail(ev, "semantic version with blanks around it: the "
                           "SDKs read it differently");
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

static int ld_semver_cmp(const struct ld_semver *a, const struct ld_semver *b)
{
    for (int k = 0; k < 3; k++)
        if (a->main[k] != b->main[k])
            return a->main[k] < b->main[k] ? -1 : 1;
    /* a release ranks above its pre-releases */
    if (a->ids_n == 0 || b->ids_n == 0)
        return a->ids_n == b->ids_n ? 0 : a->ids_n == 0 ? 1 : -1;
    for (size_t i = 0; i < a->ids_n && i < b->ids_n; i++) {
        const char *x = a->s + a->id_at[i], *y = b->s + b->id_at[i];
        size_t xl = a->id_len[i], yl = b->id_len[i];
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
static int ld_date(struct ld_eval *ev, const json_t *j, double *ms)
{
    if (json_is_number(j)) {
        *ms = json_number_value(j);
        return LD_YES;
    }
    if (!json_is_string(j))
        return LD_NO;
    const char *s = json_string_value(j);
    size_t len = json_string_length(j);
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
    return ld_fail(ev, "a date string that is not plain RFC 3339: the SDKs "
                       "read it differently");
}

/* A clause operator, read once per clause. */
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
    LD_OP_SEGMENT
};

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

/* Whether op (its name: opname) holds for the context value a and the
   clause value b. */
static int ld_op(struct ld_eval *ev, enum ld_opk op, const char *opname,
                 const json_t *a, const json_t *b)
{
    bool strs = json_is_string(a) && json_is_string(b);
    switch (op) {
    case LD_OP_IN:
        if (strs)
            return json_string_length(a) == json_string_length(b) &&
                           memcmp(json_string_value(a), json_string_value(b),
                                  json_string_length(a)) == 0
                       ? LD_YES
                       : LD_NO;
        if (json_is_number(a) && json_is_number(b))
            return json_number_value(a) == json_number_value(b) ? LD_YES
                                                                : LD_NO;
        if (json_is_boolean(a) && json_is_boolean(b))
            return json_is_true(a) == json_is_true(b) ? LD_YES : LD_NO;
        return LD_NO;
    case LD_OP_STARTS:
    case LD_OP_ENDS:
    case LD_OP_CONTAINS: {
        if (!strs)
            return LD_NO;
        const char *x = json_string_value(a), *y = json_string_value(b);
        size_t xl = json_string_length(a), yl = json_string_length(b);
        if (yl > xl)
            return LD_NO;
        if (op == LD_OP_STARTS)
            return memcmp(x, y, yl) == 0 ? LD_YES : LD_NO;
        if (op == LD_OP_ENDS)
            return memcmp(x + xl - yl, y, yl) == 0 ? LD_YES : LD_NO;
        if (yl == 0)
            return LD_YES;
        for (size_t i = 0; i + yl <= xl; i++)
            if (memcmp(x + i, y, yl) == 0)
                return LD_YES;
        return LD_NO;
    }
    case LD_OP_MATCHES:
        return strs ? ld_matches(ev, a, b) : LD_NO;
    case LD_OP_LT:
    case LD_OP_LE:
    case LD_OP_GT:
    case LD_OP_GE: {
        if (!json_is_number(a) || !json_is_number(b))
            return LD_NO;
        double x = json_number_value(a), y = json_number_value(b);
        bool r = op == LD_OP_LT   ? x < y
                 : op == LD_OP_LE ? x <= y
                 : op == LD_OP_GT ? x > y
                                  : x >= y;
        return r ? LD_YES : LD_NO;
    }
    case LD_OP_BEFORE:
    case LD_OP_AFTER: {
        double x, y;
        int ra = ld_date(ev, a, &x);
        if (ra != LD_YES)
            return ra;
        int rb = ld_date(ev, b, &y);
        if (rb != LD_YES)
            return rb;
        return (op == LD_OP_BEFORE ? x < y : x > y) ? LD_YES : LD_NO;
    }
    case LD_OP_SEMVER_EQ:
    case LD_OP_SEMVER_LT:
    case LD_OP_SEMVER_GT: {
        int which = op == LD_OP_SEMVER_EQ ? 0 : op == LD_OP_SEMVER_LT ? -1 : 1;
        struct ld_semver x, y;
        char px[LD_SEMVER_LEN_MAX + 8], py[LD_SEMVER_LEN_MAX + 8];
        int ra = ld_semver_parse(ev, a, &x, px, sizeof(px));
        if (ra != LD_YES)
            return ra;
        int rb = ld_semver_parse(ev, b, &y, py, sizeof(py));
        if (rb != LD_YES)
            return rb;
        return ld_semver_cmp(&x, &y) == which ? LD_YES : LD_NO;
    }
    default:
        /* segmentMatch is the clause's own */
        return ld_fail(ev, "unknown clause operator \"%.64s\"", opname);
    }
}

/* ---- clauses, segments, rules ---- */

static int ld_segment_match(struct ld_eval *ev, const char *key);

/* Whether op holds for value against any clause value. */
static int ld_any(struct ld_eval *ev, enum ld_opk op, const char *opname,
                  const json_t *value, const json_t *values)
{
    size_t i;
    const json_t *b;
    if (op == LD_OP_IN && json_is_string(value)) {
        /* the most common clause, "in" on a string: the subject once */
        const char *x = json_string_value(value);
        size_t xl = json_string_length(value);
        json_array_foreach(values, i, b)
        {
            if (json_is_string(b) && json_string_length(b) == xl &&
                memcmp(json_string_value(b), x, xl) == 0)
                return LD_YES;
        }
        return LD_NO;
    }
    json_array_foreach(values, i, b)
    {
        int r = ld_op(ev, op, opname, value, b);
        if (r != LD_NO)
            return r;
    }
    return LD_NO;
}

/*
 * The value a clause's attribute (with its contextKind, when it has one)
 * names in the context, NULL when absent: the same for every clause that
 * says the same, so parsed and looked up once.
 */
static int ld_clause_value(struct ld_eval *ev, const json_t *attr,
                           const json_t *ck, const json_t **value)
{
    *value = NULL;
    if (attr == NULL)
        return ld_fail(ev, "a clause has an invalid attribute reference");
    const char *a = json_string_value(attr);
    const char *k = ck != NULL ? json_string_value(ck) : NULL;
    struct ld_memo *m =
        ld_memo_get(ev, LD_MEMO_ATTR, a, json_string_length(attr), k);
    if (m != NULL && m->state != 0) {
        *value = m->value;
        return LD_YES;
    }
    struct ld_ref ref;
    int r = ld_ref_parse(ev, a, k == NULL, &ref);
    if (r == LD_ERR)
        return r;
    if (r == LD_NO)
        return ld_fail(ev, "a clause has an invalid attribute reference");
    *value = ld_ref_get(ev, &ref, k != NULL ? k : "user");
    if (m != NULL) {
        m->value = *value;
        m->state = 1;
    }
    return LD_YES;
}

static int ld_clause(struct ld_eval *ev, const json_t *clause)
{
    if (!json_is_object(clause))
        return ld_fail(ev, "a clause is not an object");
    static const char *const names[] = {"op", "values", "negate", "attribute",
                                        "contextKind"};
    const json_t *f[5];
    ld_fields(clause, names, 5, f);
    const json_t *op = f[0], *values = f[1], *attr = f[3], *ck = f[4];
    bool negate = json_is_true(f[2]);
    if (!json_is_string(op))
        return ld_fail(ev, "a clause has no operator");
    if (!json_is_array(values))
        return ld_fail(ev, "a clause has no list of values");
    const char *o = json_string_value(op);
    enum ld_opk k = ld_opk_of(o);
    if (k == LD_OP_SEGMENT) {
        size_t i;
        const json_t *v;
        json_array_foreach(values, i, v)
        {
            if (!json_is_string(v))
                continue;
            int r = ld_segment_match(ev, json_string_value(v));
            if (r == LD_ERR)
                return r;
            if (r == LD_YES)
                return negate ? LD_NO : LD_YES;
        }
        return negate ? LD_YES : LD_NO;
    }
    if (attr != NULL && !json_is_string(attr))
        return ld_fail(ev, "a clause attribute is not a string");
    if (ck != NULL && !json_is_string(ck))
        return ld_fail(ev, "a clause contextKind is not a string");
    const json_t *value;
    int r = ld_clause_value(ev, attr, ck, &value);
    if (r != LD_YES)
        return r;
    if (value == NULL)
        return LD_NO; /* whatever negate says */
    if (json_is_array(value)) {
        size_t i;
        const json_t *e;
        r = LD_NO;
        json_array_foreach(value, i, e)
        {
            r = ld_any(ev, k, o, e, values);
            if (r != LD_NO)
                break;
        }
    } else {
        r = ld_any(ev, k, o, value, values);
    }
    if (r == LD_ERR)
        return r;
    return (r == LD_YES) != negate ? LD_YES : LD_NO;
}

/* Whether every clause matches: LD_NO for a rule without a clause list. */
static int ld_clauses(struct ld_eval *ev, const json_t *rule)
{
    static const char *const names[] = {"clauses"};
    const json_t *clauses;
    ld_fields(rule, names, 1, &clauses);
    if (clauses == NULL)
        return LD_NO;
    if (!json_is_array(clauses))
        return ld_fail(ev, "a rule's clauses are not a list");
    size_t i;
    const json_t *c;
    json_array_foreach(clauses, i, c)
    {
        int r = ld_clause(ev, c);
        if (r != LD_YES)
            return r;
    }
    return LD_YES;
}

/* Whether list (of strings) holds key. */
static bool ld_list_has(const json_t *list, const char *key)
{
    size_t i;
    const json_t *v;
    json_array_foreach(list, i, v) if (json_is_string(v) &&
                                       strcmp(json_string_value(v), key) ==
                                           0) return true;
    return false;
}

/* includedContexts/included (or the excluded pair) as Node searches them. */
static int ld_segment_targets(struct ld_eval *ev, const json_t *seg,
                              const char *ctx_name, const char *user_name)
{
    const json_t *targets = ld_get(seg, ctx_name);
    const json_t *users = ld_get(seg, user_name);
    if ((targets != NULL && !json_is_array(targets)) ||
        (users != NULL && !json_is_array(users)))
        return ld_fail(ev, "segment %s or %s is not a list", ctx_name,
                       user_name);
    size_t i;
    const json_t *t;
    json_array_foreach(targets, i, t)
    {
        const json_t *ck = ld_get(t, "contextKind");
        const json_t *vals = ld_get(t, "values");
        if (!json_is_object(t) || (ck != NULL && !json_is_string(ck)) ||
            !json_is_array(vals))
            return ld_fail(ev, "a segment %s entry is malformed", ctx_name);
        const char *key =
            ld_ctx_key(ev, ck != NULL ? json_string_value(ck) : "user");
        if (key != NULL && ld_list_has(vals, key))
            return LD_YES;
    }
    const char *ukey = ld_ctx_key(ev, "user");
    return ukey != NULL && users != NULL && ld_list_has(users, ukey) ? LD_YES
                                                                     : LD_NO;
}

static int ld_segment_rule(struct ld_eval *ev, const json_t *seg,
                           const json_t *rule)
{
    if (!json_is_object(rule))
        return ld_fail(ev, "a segment rule is not an object");
    int r = ld_clauses(ev, rule);
    if (r != LD_YES)
        return r;
    const json_t *weight = ld_get(rule, "weight");
    if (weight == NULL)
        return LD_YES;
    if (!json_is_number(weight))
        return ld_fail(ev, "a segment rule weight is not a number");
    const json_t *by = ld_get(rule, "bucketBy");
    const json_t *kind = ld_get(rule, "rolloutContextKind");
    const json_t *key = ld_get(seg, "key");
    const json_t *salt = ld_get(seg, "salt");
    if ((by != NULL && !json_is_string(by)) ||
        (kind != NULL && !json_is_string(kind)) || !json_is_string(key) ||
        (salt != NULL && !json_is_string(salt)))
        return ld_fail(ev, "a segment rule rollout is malformed");
    double b;
    r = ld_bucket(ev, json_string_value(key), salt, NULL, by, kind == NULL,
                  kind, "a segment rule", &b);
    if (r != LD_YES)
        return r;
    return b < json_number_value(weight) / LD_WEIGHT_SCALE ? LD_YES : LD_NO;
}

static int ld_segment_eval(struct ld_eval *ev, const char *key)
{
    const json_t *seg = json_object_get(ev->segments, key);
    if (!json_is_object(seg) || json_is_true(json_object_get(seg, "deleted")))
        return LD_NO;
    for (size_t i = 0; i < ev->seg_depth; i++)
        if (strcmp(ev->seg_visited[i], key) == 0)
            return ld_fail(ev, "segment \"%.64s\" refers to itself", key);
    if (ev->seg_depth == LD_DEPTH_MAX)
        return ld_fail(ev, "segments nested deeper than %d", LD_DEPTH_MAX);
    if (json_is_true(ld_get(seg, "unbounded")))
        return ld_fail(ev,
                       "segment \"%.64s\" is a big segment, which needs "
                       "a segment store",
                       key);
    int r = ld_segment_targets(ev, seg, "includedContexts", "included");
    if (r != LD_NO)
        return r;
    r = ld_segment_targets(ev, seg, "excludedContexts", "excluded");
    if (r != LD_NO)
        return r == LD_YES ? LD_NO : r;
    const json_t *rules = ld_get(seg, "rules");
    if (rules != NULL && !json_is_array(rules))
        return ld_fail(ev, "segment rules are not a list");
    ev->seg_visited[ev->seg_depth++] = key;
    size_t i;
    const json_t *rule;
    r = LD_NO;
    json_array_foreach(rules, i, rule)
    {
        r = ld_segment_rule(ev, seg, rule);
        if (r != LD_NO)
            break;
    }
    ev->seg_depth--;
    return r;
}

/*
 * Whether the context is in the segment key.  The answer for a segment
 * reached from a flag's rule (not from another segment, whose chain a
 * cycle could run through) depends on nothing else: kept for the next.
 */
static int ld_segment_match(struct ld_eval *ev, const char *key)
{
    if (ev->seg_depth != 0)
        return ld_segment_eval(ev, key);
    size_t len = strlen(key);
    struct ld_memo *m = ld_memo_get(ev, LD_MEMO_SEGMENT, key, len, NULL);
    if (m != NULL && m->state != 0)
        return m->state - 1;
    int r = ld_segment_eval(ev, key);
    /* the evaluation may have moved the slot */
    m = r != LD_ERR ? ld_memo_get(ev, LD_MEMO_SEGMENT, key, len, NULL) : NULL;
    if (m != NULL)
        m->state = (unsigned char)(r + 1);
    return r;
}

/* ---- flags ---- */

static int ld_variation(struct ld_eval *ev, const json_t *flag,
                        const json_t *index, struct ld_result *res)
{
    const json_t *vars = ld_get(flag, "variations");
    if (!json_is_array(vars))
        return ld_fail(ev, "the flag has no list of variations");
    double d = json_is_number(index) ? json_number_value(index) : -1;
    if (d < 0 || !ld_is_whole(d) || d >= (double)json_array_size(vars))
        return ld_fail(ev, "variation index out of range");
    res->outcome = LD_VALUE;
    res->variation = (long)d;
    res->value = json_array_get(vars, (size_t)d);
    return LD_YES;
}

/* Off: offVariation, or no value when the flag has none. */
static int ld_off(struct ld_eval *ev, const json_t *flag, const char *why,
                  struct ld_result *res)
{
    const json_t *off = ld_get(flag, "offVariation");
    if (!json_is_number(off)) {
        res->outcome = LD_NOVALUE;
        res->variation = -1;
        res->value = NULL;
        snprintf(res->why, sizeof(res->why), "%s, and no offVariation", why);
        return LD_YES;
    }
    return ld_variation(ev, flag, off, res);
}

static int ld_rollout(struct ld_eval *ev, const json_t *flag, const json_t *vr,
                      struct ld_result *res)
{
    if (!json_is_object(vr))
        return ld_fail(ev, "no fallthrough");
    static const char *const vr_names[] = {"variation", "rollout"};
    static const char *const ro_names[] = {"variations", "kind", "bucketBy",
                                           "contextKind", "seed"};
    const json_t *v[2], *f[5];
    ld_fields(vr, vr_names, 2, v);
    if (v[0] != NULL)
        return ld_variation(ev, flag, v[0], res);
    const json_t *ro = v[1];
    if (!json_is_object(ro))
        return ld_fail(ev, "neither a variation nor a rollout with "
                           "variations");
    ld_fields(ro, ro_names, 5, f);
    const json_t *list = f[0], *kind = f[1], *by = f[2], *ck = f[3];
    const json_t *seed = f[4];
    if (!json_is_array(list) || json_array_size(list) == 0)
        return ld_fail(ev, "neither a variation nor a rollout with "
                           "variations");
    const json_t *fkey = ld_get(flag, "key");
    const json_t *salt = ld_get(flag, "salt");
    if ((kind != NULL && !json_is_string(kind)) ||
        (by != NULL && !json_is_string(by)) ||
        (ck != NULL && !json_is_string(ck)) || !json_is_string(fkey) ||
        (salt != NULL && !json_is_string(salt)) ||
        (seed != NULL && !json_is_number(seed)))
        return ld_fail(ev, "a rollout is malformed");
    bool experiment =
        kind != NULL && strcmp(json_string_value(kind), "experiment") == 0;
    if (seed != NULL) {
        double sd = json_number_value(seed);
        /* Node takes a seed of 0 for none, Go does not */
        if (sd == 0 || !ld_is_whole(sd) || fabs(sd) > LD_SAFE_INT)
            return ld_fail(ev, "a rollout seed that is not a non-zero "
                               "integer: the SDKs read it differently");
    }
    double b;
    int r = ld_bucket(ev, json_string_value(fkey), salt, seed,
                      experiment ? NULL : by, ck == NULL, ck, "a rollout", &b);
    if (r != LD_YES)
        return r;
    double sum = 0;
    size_t i;
    const json_t *wv;
    json_array_foreach(list, i, wv)
    {
        static const char *const wv_names[] = {"weight", "variation"};
        const json_t *w[2];
        if (!json_is_object(wv))
            return ld_fail(ev, "a rollout variation is not an object");
        ld_fields(wv, wv_names, 2, w);
        if (!json_is_number(w[0]))
            return ld_fail(ev, "a rollout variation has no weight");
        sum += json_number_value(w[0]) / LD_WEIGHT_SCALE;
        if (b < sum)
            return ld_variation(ev, flag, w[1], res);
    }
    /* weights that add up to less than 100%: the last one wins */
    return ld_variation(
        ev, flag,
        ld_get(json_array_get(list, json_array_size(list) - 1), "variation"),
        res);
}

/* The first target (of targets, with contextTargets as the SDKs walk
   them) that lists the context's key, or LD_NO. */
static int ld_target_one(struct ld_eval *ev, const json_t *flag,
                         const json_t *t, struct ld_result *res)
{
    const json_t *ck = ld_get(t, "contextKind");
    const json_t *vals = ld_get(t, "values");
    if (!json_is_object(t) || (ck != NULL && !json_is_string(ck)) ||
        !json_is_array(vals))
        return ld_fail(ev, "a target is malformed");
    const char *key =
        ld_ctx_key(ev, ck != NULL ? json_string_value(ck) : "user");
    if (key == NULL || !ld_list_has(vals, key))
        return LD_NO;
    return ld_variation(ev, flag, ld_get(t, "variation"), res);
}

static int ld_targets(struct ld_eval *ev, const json_t *flag,
                      struct ld_result *res)
{
    const json_t *targets = ld_get(flag, "targets");
    const json_t *ctargets = ld_get(flag, "contextTargets");
    if ((targets != NULL && !json_is_array(targets)) ||
        (ctargets != NULL && !json_is_array(ctargets)))
        return ld_fail(ev, "targets are not a list");
    size_t i;
    const json_t *t;
    if (json_array_size(ctargets) == 0) {
        json_array_foreach(targets, i, t)
        {
            int r = ld_target_one(ev, flag, t, res);
            if (r != LD_NO)
                return r;
        }
        return LD_NO;
    }
    json_array_foreach(ctargets, i, t)
    {
        const json_t *ck = ld_get(t, "contextKind");
        if (!json_is_object(t) || (ck != NULL && !json_is_string(ck)))
            return ld_fail(ev, "a context target is malformed");
        int r;
        if (ck == NULL || strcmp(json_string_value(ck), "user") == 0) {
            /* a placeholder: the user targets of the same variation */
            const json_t *var = ld_get(t, "variation");
            const json_t *ut = NULL;
            size_t k;
            const json_t *u;
            json_array_foreach(targets, k, u)
            {
                const json_t *uv = ld_get(u, "variation");
                if (json_is_number(var) && json_is_number(uv) &&
                    json_number_value(var) == json_number_value(uv)) {
                    ut = u;
                    break;
                }
            }
            r = ut != NULL ? ld_target_one(ev, flag, ut, res) : LD_NO;
        } else {
            r = ld_target_one(ev, flag, t, res);
        }
        if (r != LD_NO)
            return r;
    }
    return LD_NO;
}

static int ld_flag(struct ld_eval *ev, const char *key, struct ld_result *res);

/* LD_YES when every prerequisite holds; LD_NO with res set otherwise. */
static int ld_prereqs(struct ld_eval *ev, const json_t *flag,
                      struct ld_result *res)
{
    const json_t *pre = ld_get(flag, "prerequisites");
    if (pre == NULL)
        return LD_YES;
    if (!json_is_array(pre))
        return ld_fail(ev, "prerequisites are not a list");
    size_t i;
    const json_t *p;
    json_array_foreach(pre, i, p)
    {
        const json_t *pk = ld_get(p, "key");
        if (!json_is_object(p) || !json_is_string(pk))
            return ld_fail(ev, "a prerequisite has no key");
        const char *k = json_string_value(pk);
        for (size_t d = 0; d < ev->flag_depth; d++)
            if (strcmp(ev->flag_visited[d], k) == 0)
                return ld_fail(ev, "prerequisite cycle through \"%.64s\"", k);
        if (ev->flag_depth == LD_DEPTH_MAX)
            return ld_fail(ev, "prerequisites nested deeper than %d",
                           LD_DEPTH_MAX);
        const json_t *pf = json_object_get(ev->flags, k);
        char why[LD_WHY_LEN];
        snprintf(why, sizeof(why), "prerequisite \"%.64s\" failed", k);
        if (!json_is_object(pf) || json_is_true(json_object_get(pf, "deleted")))
            return ld_off(ev, flag, why, res) == LD_ERR ? LD_ERR : LD_NO;
        struct ld_result sub;
        memset(&sub, 0, sizeof(sub));
        ev->flag_visited[ev->flag_depth++] = k;
        int r = ld_flag(ev, k, &sub);
        ev->flag_depth--;
        if (r == LD_ERR)
            return r;
        const json_t *want = ld_get(p, "variation");
        if (!json_is_true(ld_get(pf, "on")) || sub.outcome != LD_VALUE ||
            !json_is_number(want) ||
            (double)sub.variation != json_number_value(want))
            return ld_off(ev, flag, why, res) == LD_ERR ? LD_ERR : LD_NO;
    }
    return LD_YES;
}

static int ld_flag(struct ld_eval *ev, const char *key, struct ld_result *res)
{
    static const char *const names[] = {"deleted", "migration", "on", "rules",
                                        "fallthrough"};
    const json_t *f[5];
    const json_t *flag = json_object_get(ev->flags, key);
    if (!json_is_object(flag))
        return ld_fail(ev, "no such flag");
    ld_fields(flag, names, 5, f);
    if (json_is_true(f[0]))
        return ld_fail(ev, "no such flag");
    if (json_is_true(f[1]) || json_is_object(f[1]))
        return ld_fail(ev, "a migration flag");
    if (!json_is_true(f[2]))
        return ld_off(ev, flag, "off", res);
    int r = ld_prereqs(ev, flag, res);
    if (r != LD_YES)
        return r == LD_NO ? LD_YES : r;
    r = ld_targets(ev, flag, res);
    if (r != LD_NO)
        return r;
    const json_t *rules = f[3];
    if (rules != NULL && !json_is_array(rules))
        return ld_fail(ev, "rules are not a list");
    size_t i;
    const json_t *rule;
    json_array_foreach(rules, i, rule)
    {
        if (!json_is_object(rule))
            return ld_fail(ev, "rule %zu is not an object", i);
        r = ld_clauses(ev, rule);
        if (r == LD_ERR)
            return r;
        if (r == LD_YES)
            return ld_rollout(ev, flag, rule, res);
    }
    return ld_rollout(ev, flag, f[4], res);
}

void ld_eval_flag(struct ld_eval *ev, const char *key, struct ld_result *res)
{
    memset(res, 0, sizeof(*res));
    res->variation = -1;
    ev->why = res->why;
    ev->flag_depth = 0;
    ev->seg_depth = 0;
    ev->flag_visited[ev->flag_depth++] = key;
    if (ld_flag(ev, key, res) == LD_ERR) {
        res->outcome = LD_ERROR;
        res->variation = -1;
        res->value = NULL;
    } else if (res->outcome == LD_VALUE) {
        res->why[0] = '\0';
    }
    ev->why = NULL;
}
