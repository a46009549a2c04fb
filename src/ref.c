/* SPDX-License-Identifier: MIT */
/* References in values, with the syntax of vals:
   ref+SCHEME://PATH[?PARAMS][#FRAGMENT][+], and the pick of a fragment
   out of a JSON or YAML answer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "../providers/common/jsonflat.h"
#include "../providers/common/urlpath.h"
#include "../providers/common/yamlflat.h"
#include "diag.h"
#include "ref.h"

/* How deep a fragment may go, and the longest decoded segment. */
#define EI_REF_DEPTH_MAX   64
#define EI_REF_SEGMENT_MAX 256
/* The room a scalar's text takes at most (a number, true, false). */
#define EI_REF_SCALAR_MAX 64

static bool scheme_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* Where vals's expression ends: its body never holds these. */
static bool body_end(unsigned char c)
{
    return c == '+' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* "ref+SCHEME://" at s[i]: the offset of the body, or 0. */
static size_t ref_head(const char *s, size_t len, size_t i, bool *secretref,
                       size_t *scheme_at)
{
    static const char ref[] = "ref+", secret[] = "secretref+";
    size_t p;
    if (len - i >= sizeof(secret) - 1 &&
        memcmp(s + i, secret, sizeof(secret) - 1) == 0) {
        *secretref = true;
        p = i + sizeof(secret) - 1;
    } else if (len - i >= sizeof(ref) - 1 &&
               memcmp(s + i, ref, sizeof(ref) - 1) == 0) {
        *secretref = false;
        p = i + sizeof(ref) - 1;
    } else {
        return 0;
    }
    *scheme_at = p;
    while (p < len && p - *scheme_at <= EI_REF_SCHEME_MAX &&
           scheme_char((unsigned char)s[p]))
        p++;
    if (p == *scheme_at || p - *scheme_at > EI_REF_SCHEME_MAX || len - p < 3 ||
        memcmp(s + p, "://", 3) != 0)
        return 0;
    return p + 3;
}

static int malformed(const char **why, const char *text)
{
    *why = text;
    return -1;
}

/* PARAMS: NAME=VALUE pairs joined by '&', a NAME not empty. */
static bool query_ok(const char *q, size_t n)
{
    size_t i = 0, pairs = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && q[j] != '&')
            j++;
        const char *eq = memchr(q + i, '=', j - i);
        if (eq == NULL || eq == q + i)
            return false;
        if (++pairs > EI_REF_PARAMS_MAX)
            return false;
        i = j + 1;
        if (j + 1 == n)
            return false; /* a trailing '&' */
    }
    return true;
}

int ei_ref_next(const char *s, size_t len, size_t from, struct ei_ref *out,
                const char **why)
{
    memset(out, 0, sizeof(*out));
    *why = NULL;
    for (size_t i = from; i < len; i++) {
        if (s[i] != 'r' && s[i] != 's')
            continue;
        bool secretref = false;
        size_t scheme_at = 0;
        size_t body = ref_head(s, len, i, &secretref, &scheme_at);
        if (body == 0)
            continue;
        size_t end = body;
        while (end < len && !body_end((unsigned char)s[end]))
            end++;
        /* as vals's pattern: the last byte is neither '"' nor ',' */
        while (end > body && (s[end - 1] == '"' || s[end - 1] == ','))
            end--;
        out->start = i;
        out->secretref = secretref;
        out->scheme = s + scheme_at;
        out->scheme_len = body - 3 - scheme_at;
        out->end = end < len && s[end] == '+' ? end + 1 : end;
        for (size_t k = body; k < end; k++) {
            unsigned char c = (unsigned char)s[k];
            if (c < 0x20 || c == 0x7f)
                return malformed(why, "control character in a reference");
        }
        const char *p = s + body, *stop = s + end;
        const char *hash = memchr(p, '#', (size_t)(stop - p));
        const char *qend = hash != NULL ? hash : stop;
        const char *q = memchr(p, '?', (size_t)(qend - p));
        out->path = p;
        out->path_len = (size_t)((q != NULL ? q : qend) - p);
        if (q != NULL) {
            out->query = q + 1;
            out->query_len = (size_t)(qend - q - 1);
            if (!query_ok(out->query, out->query_len))
                return malformed(why, "query is not NAME=VALUE pairs "
                                      "joined by '&'");
        }
        if (hash != NULL) {
            out->fragment = hash + 1;
            out->fragment_len = (size_t)(stop - hash - 1);
            if (out->fragment_len == 0 ||
                (out->fragment_len == 1 && out->fragment[0] == '/'))
                return malformed(why, "empty fragment after '#'");
        }
        if (out->path_len == 0)
            return malformed(why, "empty path after ://");
        return 1;
    }
    return 0;
}

/* Percent-decode n bytes of in into out (out_len with the NUL); a decoded
   NUL is refused.  0, or -1. */
static int pct_decode(const char *in, size_t n, char *out, size_t out_len)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '%') {
            int b = ei_pct_byte(in + i, n - i);
            if (b <= 0)
                return -1;
            c = (unsigned char)b;
            i += 2;
        }
        if (o + 1 >= out_len)
            return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return 0;
}

int ei_ref_each_param(const struct ei_ref *ref, ei_ref_param_fn fn, void *ctx)
{
    const char *q = ref->query;
    size_t n = ref->query_len, i = 0;
    while (q != NULL && i < n) {
        size_t j = i;
        while (j < n && q[j] != '&')
            j++;
        const char *eq = memchr(q + i, '=', j - i);
        size_t k = eq != NULL ? (size_t)(eq - (q + i)) : j - i;
        int rc = fn(ctx, q + i, k, q + i, j - i);
        if (rc != 0)
            return rc;
        i = j + 1;
    }
    return 0;
}

struct param_find {
    const char *name;
    char *out;
    size_t out_len;
};

static int param_find(void *ctx, const char *name, size_t name_len,
                      const char *pair, size_t pair_len)
{
    struct param_find *f = ctx;
    if (strlen(f->name) != name_len || memcmp(f->name, name, name_len) != 0)
        return 0;
    const char *v = pair + name_len + 1;
    return pct_decode(v, pair_len - name_len - 1, f->out, f->out_len) < 0 ? -1
                                                                          : 1;
}

int ei_ref_param(const struct ei_ref *ref, const char *name, char *out,
                 size_t out_len)
{
    struct param_find f = {name, out, out_len};
    return ei_ref_each_param(ref, param_find, &f);
}

struct param_check {
    const char *const *names;
    const char *bad;
    size_t bad_len;
};

static int param_check(void *ctx, const char *name, size_t name_len,
                       const char *pair, size_t pair_len)
{
    (void)pair;
    (void)pair_len;
    struct param_check *c = ctx;
    for (size_t m = 0; c->names != NULL && c->names[m] != NULL; m++)
        if (strlen(c->names[m]) == name_len &&
            memcmp(c->names[m], name, name_len) == 0)
            return 0;
    c->bad = name;
    c->bad_len = name_len;
    return 1;
}

bool ei_ref_params_known(const struct ei_ref *ref, const char *const *names,
                         const char **bad, size_t *bad_len)
{
    struct param_check c = {.names = names};
    if (ei_ref_each_param(ref, param_check, &c) == 0)
        return true;
    *bad = c.bad;
    *bad_len = c.bad_len;
    return false;
}

/* Parse the answer: JSON first, else YAML when built with libyaml. */
static json_t *load_answer(const char *answer, size_t len, struct ei_error *err)
{
    json_t *root = json_loadb(answer, len, JSON_DECODE_ANY, NULL);
    if (root != NULL)
        return root;
    if (ei_yamlflat_available()) {
        struct ei_error yerr = {0};
        if (ei_yaml_to_json(answer, len, "reference", NULL, &root, &yerr) ==
            EI_OK)
            return root;
    }
    ei_error_set(err, EI_BADDATA, 0, NULL, NULL,
                 "the fragment needs a JSON or YAML document, and the value "
                 "is neither");
    return NULL;
}

/* Step into one segment: an object's member, an array's index. */
static json_t *step(json_t *cur, const char *seg)
{
    if (json_is_object(cur))
        return json_object_get(cur, seg);
    if (!json_is_array(cur) || seg[0] < '0' || seg[0] > '9' ||
        (seg[0] == '0' && seg[1] != '\0'))
        return NULL;
    size_t idx = 0;
    for (const char *p = seg; *p != '\0'; p++) {
        if (*p < '0' || *p > '9' || idx > (size_t)1 << 40)
            return NULL;
        idx = idx * 10 + (size_t)(*p - '0');
    }
    return json_array_get(cur, idx);
}

static char *dup_text(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p != NULL) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

enum ei_status ei_ref_pick(const struct ei_ref *ref, const char *answer,
                           size_t len, char **out, size_t *out_len,
                           struct ei_error *err)
{
    *out = NULL;
    *out_len = 0;
    json_t *root = load_answer(answer, len, err);
    if (root == NULL)
        return ei_error_status(err, EI_BADDATA);
    const char *f = ref->fragment;
    size_t n = ref->fragment_len;
    if (n > 0 && f[0] == '/') {
        f++;
        n--;
    }
    json_t *cur = root;
    size_t depth = 0;
    enum ei_status st = EI_OK;
    while (n > 0 || depth == 0) {
        const char *slash = memchr(f, '/', n);
        size_t k = slash != NULL ? (size_t)(slash - f) : n;
        char seg[EI_REF_SEGMENT_MAX];
        if (++depth > EI_REF_DEPTH_MAX || k == 0 ||
            pct_decode(f, k, seg, sizeof(seg)) < 0) {
            st = ei_error_set(err, EI_BADCONFIG, 0, NULL, NULL,
                              "fragment segment %zu is empty, too long or "
                              "badly encoded",
                              depth);
            break;
        }
        cur = step(cur, seg);
        sodium_memzero(seg, sizeof(seg));
        if (cur == NULL) {
            st = ei_error_set(err, EI_NOTFOUND, 0, NULL, NULL,
                              "fragment segment %zu names nothing in the "
                              "value",
                              depth);
            break;
        }
        if (slash == NULL)
            break;
        n -= k + 1;
        f = slash + 1;
        if (n == 0) {
            st = ei_error_set(err, EI_BADCONFIG, 0, NULL, NULL,
                              "fragment ends with '/'");
            break;
        }
    }
    if (st == EI_OK) {
        char scalar[EI_REF_SCALAR_MAX];
        if (json_is_string(cur)) {
            *out_len = json_string_length(cur);
            *out = dup_text(json_string_value(cur), *out_len);
        } else if (json_is_null(cur)) {
            *out = dup_text("", 0);
        } else if (!json_is_object(cur) && !json_is_array(cur) &&
                   ei_jsonflat_scalar(cur, scalar, sizeof(scalar)) >= 0) {
            *out_len = strlen(scalar);
            *out = dup_text(scalar, *out_len);
            sodium_memzero(scalar, sizeof(scalar)); /* part of an answer */
        } else {
            *out = ei_json_dumps(cur, JSON_COMPACT | JSON_ENCODE_ANY, out_len);
        }
        if (*out == NULL)
            st = ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL,
                              "out of memory");
    }
    json_decref(root);
    return st;
}
