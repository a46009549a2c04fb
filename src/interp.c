/* SPDX-License-Identifier: MIT */
/* Interpolation of references between resolved values, done iteratively
   with an explicit stack so that long chains cannot overflow the C stack. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "diag.h"
#include "envset.h"
#include "interp.h"
#include "secmem.h"

/* A value may not grow beyond this (or beyond its own length if longer). */
#define EI_INTERP_MAX_LEN (1024u * 1024u)
/*
 * Bytes all values together may take in from references.  Without it a
 * small file of many "Kn=$BIG" lines could ask for gigabytes, each value
 * staying under the limit above.
 */
#define EI_INTERP_MAX_GROWTH (64u * 1024u * 1024u)
#define EI_INTERP_MIN_OUT    64u
#define EI_INTERP_MIN_SLOTS  16u

enum ist_state { IST_NEW = 0, IST_VISITING, IST_DONE };

/* What interpolation knows of one entry; committed only on success. */
struct ist {
    struct ei_entry *e; /* NULL: empty slot */
    enum ist_state state;
    bool secret;       /* secret itself, or took in a secret */
    bool changed;      /* value differs from the entry's text */
    const char *value; /* new text in a store, or NULL to keep the old */
    size_t value_len;
};

/* One open ${NAME op word} inside the value being expanded. */
struct wctx {
    size_t dollar; /* offset of its '$', for messages */
    size_t braces; /* plain '{' still open inside the word */
    bool skip;     /* the word is not used: parse it, expand nothing */
};

/* One entry being expanded; suspended while a reference is expanded. */
struct frame {
    struct ist *st;
    size_t pos;
    size_t limit;
    bool checking; /* first pass: syntax only */
    bool tainted;
    char *out;
    size_t out_len;
    size_t out_cap;
    struct wctx *ctx;
    size_t ctx_n;
    size_t ctx_cap;
};

struct interp {
    struct ei_envset *set;
    const bool *interp_layer;
    size_t layers_n;
    const char *(*layer_name)(void *ctx, int layer);
    void *lctx;
    struct ei_store *plain;
    struct ei_store *secret;
    struct ei_error *err;
    struct ist *map; /* open addressing on the entry's address */
    size_t map_n;
    struct frame *frames;
    size_t frames_n;
    size_t frames_cap;
    size_t growth;
    char *name; /* NUL-terminated copy of a reference's name */
    size_t name_cap;
};

enum step_result { STEP_OK, STEP_DONE, STEP_NEED, STEP_FAIL };

enum op { OP_NONE, OP_MINUS, OP_CMINUS, OP_PLUS, OP_CPLUS };

/* A referenced entry as seen from the referring one. */
struct ref {
    bool set;
    const char *value;
    size_t len;
    bool secret;
};

static bool name_start(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool name_char(unsigned char c)
{
    return name_start(c) || (c >= '0' && c <= '9');
}

static const char *lname(const struct interp *ip, const struct ei_entry *e)
{
    return ip->layer_name ? ip->layer_name(ip->lctx, e->layer) : NULL;
}

static bool expandable(const struct interp *ip, const struct ei_entry *e)
{
    if (e->value == NULL || (e->flags & (EI_ENTRY_LITERAL | EI_ENTRY_UNSET)))
        return false;
    /* raw is set only by an earlier pass: never expand a result again */
    if (e->raw != NULL)
        return false;
    if (e->layer == EI_LAYER_SCHEMA)
        return true;
    return e->layer >= 0 && (size_t)e->layer < ip->layers_n &&
           ip->interp_layer != NULL && ip->interp_layer[e->layer];
}

static bool has_dollar(const struct ei_entry *e)
{
    return e->value_len > 0 && memchr(e->value, '$', e->value_len) != NULL;
}

static int fail(struct interp *ip, const struct ei_entry *e,
                enum ei_status status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct interp *ip, const struct ei_entry *e,
                enum ei_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ei_error_vset(ip->err, status, 0, lname(ip, e), e->locator, fmt, ap);
    va_end(ap);
    return -1;
}

static int nomem(struct interp *ip, const struct ei_entry *e)
{
    return fail(ip, e, EI_NOMEM, "out of memory during interpolation");
}

static struct ist *map_get(struct interp *ip, struct ei_entry *e)
{
    uint64_t h = (uint64_t)(uintptr_t)e * UINT64_C(0x9e3779b97f4a7c15);
    size_t mask = ip->map_n - 1;
    size_t i = (size_t)(h >> 32) & mask;
    /* never full: only the set's entries go in, and it has twice as many
       slots */
    while (ip->map[i].e != NULL && ip->map[i].e != e)
        i = (i + 1) & mask;
    if (ip->map[i].e == NULL)
        ip->map[i].e = e;
    return &ip->map[i];
}

static int map_init(struct interp *ip, const struct ei_entry *first)
{
    size_t want = ei_envset_count(ip->set);
    size_t n = EI_INTERP_MIN_SLOTS;
    while (n / 2 < want) {
        if (n > SIZE_MAX / 2 / sizeof(struct ist))
            return nomem(ip, first);
        n *= 2;
    }
    ip->map = calloc(n, sizeof(*ip->map));
    if (ip->map == NULL)
        return nomem(ip, first);
    ip->map_n = n;
    return 0;
}

/* The text of an entry as references see it now. */
static void ist_text(const struct ist *st, const char **v, size_t *len)
{
    if (st->value != NULL) {
        *v = st->value;
        *len = st->value_len;
    } else {
        *v = st->e->value;
        *len = st->e->value_len;
    }
}

static int append(struct interp *ip, struct frame *f, const char *p, size_t n,
                  bool from_ref)
{
    if (n == 0)
        return 0;
    const struct ei_entry *e = f->st->e;
    if (n > f->limit - f->out_len)
        return fail(ip, e, EI_BADCONFIG,
                    "value of %s grows beyond %zu bytes during interpolation",
                    e->key, f->limit);
    if (from_ref) {
        if (n > EI_INTERP_MAX_GROWTH - ip->growth)
            return fail(ip, e, EI_BADCONFIG,
                        "interpolation grows values by more than %zu bytes "
                        "in total (at %s)",
                        (size_t)EI_INTERP_MAX_GROWTH, e->key);
        ip->growth += n;
    }
    if (n > f->out_cap - f->out_len) {
        size_t cap = f->out_cap ? f->out_cap : EI_INTERP_MIN_OUT;
        while (cap - f->out_len < n)
            cap = cap > f->limit / 2 ? f->limit : cap * 2;
        /* not realloc: the old block may hold a secret and must be wiped */
        char *out = malloc(cap);
        if (out == NULL)
            return nomem(ip, e);
        if (f->out_len)
            memcpy(out, f->out, f->out_len);
        if (f->out != NULL) {
            sodium_memzero(f->out, f->out_cap);
            free(f->out);
        }
        f->out = out;
        f->out_cap = cap;
    }
    memcpy(f->out + f->out_len, p, n);
    f->out_len += n;
    return 0;
}

static int push_frame(struct interp *ip, struct ist *st)
{
    if (ip->frames_n == ip->frames_cap) {
        size_t cap = ip->frames_cap ? ip->frames_cap * 2 : 8;
        if (cap > SIZE_MAX / sizeof(struct frame))
            return nomem(ip, st->e);
        struct frame *fr = realloc(ip->frames, cap * sizeof(*fr));
        if (fr == NULL)
            return nomem(ip, st->e);
        /* new slots start empty; old slots keep their buffers for reuse */
        memset(fr + ip->frames_cap, 0, (cap - ip->frames_cap) * sizeof(*fr));
        ip->frames = fr;
        ip->frames_cap = cap;
    }
    struct frame *f = &ip->frames[ip->frames_n++];
    f->st = st;
    f->pos = 0;
    f->limit = st->e->value_len > EI_INTERP_MAX_LEN ? st->e->value_len
                                                    : EI_INTERP_MAX_LEN;
    f->checking = true;
    f->tainted = false;
    f->out_len = 0;
    f->ctx_n = 0;
    st->state = IST_VISITING;
    return 0;
}

static int push_ctx(struct interp *ip, struct frame *f, size_t dollar,
                    bool skip)
{
    if (f->ctx_n == f->ctx_cap) {
        size_t cap = f->ctx_cap ? f->ctx_cap * 2 : 4;
        if (cap > SIZE_MAX / sizeof(struct wctx))
            return nomem(ip, f->st->e);
        struct wctx *c = realloc(f->ctx, cap * sizeof(*c));
        if (c == NULL)
            return nomem(ip, f->st->e);
        f->ctx = c;
        f->ctx_cap = cap;
    }
    f->ctx[f->ctx_n++] = (struct wctx){.dollar = dollar, .skip = skip};
    return 0;
}

/* The cycle is the part of the stack from target up, and target again. */
static int cycle_error(struct interp *ip, const struct ist *target)
{
    char path[EI_ERR_TEXT_LEN];
    size_t off = 0;
    size_t k = ip->frames_n;
    for (size_t i = 0; i < ip->frames_n; i++) {
        if (ip->frames[i].st == target) {
            k = i;
            break;
        }
    }
    path[0] = '\0';
    for (size_t i = k; i <= ip->frames_n && off < sizeof(path); i++) {
        const char *key =
            i < ip->frames_n ? ip->frames[i].st->e->key : target->e->key;
        int n = snprintf(path + off, sizeof(path) - off, "%s%s",
                         i == k ? "" : " -> ", key);
        if (n < 0)
            break;
        off += (size_t)n;
    }
    /* a long cycle is cut; say so rather than pass it off as whole */
    if (off >= sizeof(path))
        memcpy(path + sizeof(path) - 4, "...", 4);
    const struct ei_entry *e = ip->frames[ip->frames_n - 1].st->e;
    return fail(ip, e, EI_BADCONFIG, "interpolation cycle: %s", path);
}

/*
 * Look name up.  want_value: the caller needs the text, so a referenced
 * value that still has to be expanded makes this return STEP_NEED.
 */
static enum step_result resolve(struct interp *ip, const char *name, size_t len,
                                bool want_value, struct ref *r,
                                struct ist **need)
{
    const struct ei_entry *self = ip->frames[ip->frames_n - 1].st->e;
    if (len >= ip->name_cap) {
        size_t cap = len + 1 > 64 ? len + 1 : 64;
        char *p = malloc(cap);
        if (p == NULL) {
            nomem(ip, self);
            return STEP_FAIL;
        }
        if (ip->name != NULL) {
            sodium_memzero(ip->name, ip->name_cap);
            free(ip->name);
        }
        ip->name = p;
        ip->name_cap = cap;
    }
    memcpy(ip->name, name, len);
    ip->name[len] = '\0';
    struct ei_entry *e = ei_envset_get(ip->set, ip->name);
    *r = (struct ref){.set = false};
    if (e == NULL || (e->flags & EI_ENTRY_UNSET))
        return STEP_OK;
    r->set = true;
    if (!want_value)
        return STEP_OK;
    if (!expandable(ip, e)) {
        r->value = e->value ? e->value : "";
        r->len = e->value ? e->value_len : 0;
        r->secret = (e->flags & EI_ENTRY_SECRET) != 0;
        return STEP_OK;
    }
    struct ist *st = map_get(ip, e);
    if (st->state == IST_VISITING) {
        cycle_error(ip, st);
        return STEP_FAIL;
    }
    if (st->state == IST_NEW) {
        if (has_dollar(e)) {
            *need = st;
            return STEP_NEED;
        }
        st->state = IST_DONE;
        st->secret = (e->flags & EI_ENTRY_SECRET) != 0;
    }
    ist_text(st, &r->value, &r->len);
    r->secret = st->secret;
    return STEP_OK;
}

static enum step_result undefined(struct interp *ip, struct frame *f, size_t at)
{
    const struct ei_entry *e = f->st->e;
    /* the name comes out of the value: a secret one may be a password
       that happens to hold a '$' */
    if (e->flags & EI_ENTRY_SECRET)
        fail(ip, e, EI_BADCONFIG,
             "undefined variable at offset %zu referenced by %s", at, e->key);
    else
        fail(ip, e, EI_BADCONFIG, "undefined variable %s referenced by %s",
             ip->name, e->key);
    return STEP_FAIL;
}

static enum step_result syntax(struct interp *ip, struct frame *f,
                               const char *what, size_t at)
{
    fail(ip, f->st->e, EI_BADCONFIG, "%s at offset %zu", what, at);
    return STEP_FAIL;
}

/* A '$' at j; may leave f->pos at j to be retried once *need is done. */
static enum step_result dollar(struct interp *ip, struct frame *f, size_t j,
                               bool skip, struct ist **need)
{
    const char *s = f->st->e->value;
    size_t len = f->st->e->value_len;
    struct ref r;
    if (j + 1 >= len || s[j + 1] == '$' ||
        (s[j + 1] != '{' && !name_start((unsigned char)s[j + 1]))) {
        /* "$$" is one '$'; any other '$' that starts nothing is itself */
        if (!skip && append(ip, f, "$", 1, false) != 0)
            return STEP_FAIL;
        f->pos = j + 1 < len && s[j + 1] == '$' ? j + 2 : j + 1;
        return STEP_OK;
    }
    if (s[j + 1] != '{') {
        size_t k = j + 1;
        while (k < len && name_char((unsigned char)s[k]))
            k++;
        if (!skip) {
            enum step_result res =
                resolve(ip, s + j + 1, k - j - 1, true, &r, need);
            if (res != STEP_OK)
                return res;
            if (!r.set)
                return undefined(ip, f, j);
            if (append(ip, f, r.value, r.len, true) != 0)
                return STEP_FAIL;
            f->tainted |= r.secret;
        }
        f->pos = k;
        return STEP_OK;
    }

    size_t k = j + 2;
    if (k >= len)
        return syntax(ip, f, "unterminated ${", j);
    if (!name_start((unsigned char)s[k]))
        return syntax(ip, f, "bad substitution", j);
    size_t m = k;
    while (m < len && name_char((unsigned char)s[m]))
        m++;
    if (m >= len)
        return syntax(ip, f, "unterminated ${", j);
    enum op op;
    size_t word = m + 1;
    if (s[m] == '}') {
        op = OP_NONE;
    } else if (s[m] == '-') {
        op = OP_MINUS;
    } else if (s[m] == '+') {
        op = OP_PLUS;
    } else if (s[m] == ':') {
        if (m + 1 >= len)
            return syntax(ip, f, "unterminated ${", j);
        if (s[m + 1] == '-')
            op = OP_CMINUS;
        else if (s[m + 1] == '+')
            op = OP_CPLUS;
        else
            return syntax(ip, f, "bad substitution", j);
        word = m + 2;
    } else {
        return syntax(ip, f, "bad substitution", j);
    }

    if (skip) {
        if (op != OP_NONE && push_ctx(ip, f, j, true) != 0)
            return STEP_FAIL;
        f->pos = word;
        return STEP_OK;
    }
    /* ${NAME+word} asks only whether NAME is set, not what it holds */
    enum step_result res = resolve(ip, s + k, m - k, op != OP_PLUS, &r, need);
    if (res != STEP_OK)
        return res;
    bool nonempty = r.set && r.len > 0;
    bool use_value = false;
    bool word_skip = true;
    switch (op) {
    case OP_NONE:
        if (!r.set)
            return undefined(ip, f, j);
        use_value = true;
        break;
    case OP_MINUS:
        use_value = r.set;
        word_skip = r.set;
        break;
    case OP_CMINUS:
        use_value = nonempty;
        word_skip = nonempty;
        break;
    case OP_PLUS:
        word_skip = !r.set;
        break;
    case OP_CPLUS:
        word_skip = !nonempty;
        break;
    }
    f->tainted |= r.secret; /* false when only set-ness was asked */
    if (use_value && append(ip, f, r.value, r.len, true) != 0)
        return STEP_FAIL;
    if (op != OP_NONE && push_ctx(ip, f, j, word_skip) != 0)
        return STEP_FAIL;
    f->pos = word;
    return STEP_OK;
}

/* Go through the frame's text from f->pos to the end. */
static enum step_result scan(struct interp *ip, struct frame *f,
                             struct ist **need)
{
    const char *s = f->st->e->value;
    size_t len = f->st->e->value_len;
    while (f->pos < len) {
        size_t i = f->pos;
        bool skip = f->checking || (f->ctx_n > 0 && f->ctx[f->ctx_n - 1].skip);
        size_t j = i;
        if (f->ctx_n == 0) {
            const char *d = memchr(s + i, '$', len - i);
            j = d != NULL ? (size_t)(d - s) : len;
        } else {
            while (j < len && s[j] != '$' && s[j] != '{' && s[j] != '}')
                j++;
        }
        bool escaped = j < len && s[j] == '$' && j > i && s[j - 1] == '\\';
        size_t lit = (escaped ? j - 1 : j) - i;
        if (!skip && append(ip, f, s + i, lit, false) != 0)
            return STEP_FAIL;
        f->pos = j;
        if (j >= len)
            break;
        if (escaped) {
            if (!skip && append(ip, f, "$", 1, false) != 0)
                return STEP_FAIL;
            f->pos = j + 1;
            continue;
        }
        struct wctx *c = f->ctx_n > 0 ? &f->ctx[f->ctx_n - 1] : NULL;
        if (s[j] == '{' || (s[j] == '}' && c->braces > 0)) {
            /* braces inside a word pair up as in the shell, so that a
               default such as {"a":1} stays whole */
            if (s[j] == '{')
                c->braces++;
            else
                c->braces--;
            if (!skip && append(ip, f, s + j, 1, false) != 0)
                return STEP_FAIL;
            f->pos = j + 1;
            continue;
        }
        if (s[j] == '}') {
            f->ctx_n--;
            f->pos = j + 1;
            continue;
        }
        enum step_result r = dollar(ip, f, j, skip, need);
        if (r != STEP_OK)
            return r;
    }
    if (f->ctx_n > 0)
        return syntax(ip, f, "unterminated ${", f->ctx[f->ctx_n - 1].dollar);
    return STEP_DONE;
}

/*
 * Run the top frame until it is done, needs another entry, or fails.  The
 * first pass only checks the syntax, so that a malformed value fails the
 * same way whatever the values it refers to.
 */
static enum step_result step(struct interp *ip, struct ist **need)
{
    struct frame *f = &ip->frames[ip->frames_n - 1];
    if (f->checking) {
        enum step_result r = scan(ip, f, need);
        if (r != STEP_DONE)
            return r;
        f->checking = false;
        f->pos = 0;
    }
    return scan(ip, f, need);
}

/* Keep the top frame's result and pop it. */
static int finish(struct interp *ip)
{
    struct frame *f = &ip->frames[ip->frames_n - 1];
    struct ist *st = f->st;
    const struct ei_entry *e = st->e;
    bool was_secret = (e->flags & EI_ENTRY_SECRET) != 0;
    st->secret = was_secret || f->tainted;
    st->changed = f->out_len != e->value_len ||
                  (f->out_len > 0 && memcmp(f->out, e->value, f->out_len));
    /* an unchanged text that took in a secret must still move */
    if (st->changed || (st->secret && !was_secret)) {
        struct ei_store *store = st->secret ? ip->secret : ip->plain;
        const char *v =
            ei_store_strndup(store, f->out ? f->out : "", f->out_len);
        if (v == NULL)
            return nomem(ip, e);
        st->value = v;
        st->value_len = f->out_len;
    }
    st->state = IST_DONE;
    if (f->out_len > 0)
        sodium_memzero(f->out, f->out_len);
    f->out_len = 0;
    ip->frames_n--;
    return 0;
}

static int run(struct interp *ip, struct ist *first)
{
    if (push_frame(ip, first) != 0)
        return -1;
    while (ip->frames_n > 0) {
        struct ist *need = NULL;
        enum step_result r = step(ip, &need);
        if (r == STEP_FAIL)
            return -1;
        if (r == STEP_NEED) {
            if (push_frame(ip, need) != 0)
                return -1;
            continue;
        }
        if (finish(ip) != 0)
            return -1;
    }
    return 0;
}

static void commit(struct interp *ip)
{
    for (size_t i = 0; i < ip->map_n; i++) {
        struct ist *st = &ip->map[i];
        if (st->e == NULL || st->state != IST_DONE)
            continue;
        struct ei_entry *e = st->e;
        if (st->secret)
            e->flags |= EI_ENTRY_SECRET;
        if (st->value == NULL)
            continue;
        if (st->changed) {
            e->raw = e->value;
            e->raw_len = e->value_len;
        }
        e->value = st->value;
        e->value_len = st->value_len;
    }
}

static void cleanup(struct interp *ip)
{
    for (size_t i = 0; i < ip->frames_cap; i++) {
        struct frame *f = &ip->frames[i];
        if (f->out != NULL) {
            sodium_memzero(f->out, f->out_cap);
            free(f->out);
        }
        free(f->ctx);
    }
    free(ip->frames);
    free(ip->map);
    if (ip->name != NULL) {
        sodium_memzero(ip->name, ip->name_cap);
        free(ip->name);
    }
}

int ei_interp_expand(struct ei_envset *set, const bool *interp_layer,
                     size_t layers_n,
                     const char *(*layer_name)(void *ctx, int layer), void *ctx,
                     struct ei_store *plain, struct ei_store *secret,
                     struct ei_error *err)
{
    struct interp ip = {
        .set = set,
        .interp_layer = interp_layer,
        .layers_n = layers_n,
        .layer_name = layer_name,
        .lctx = ctx,
        .plain = plain,
        .secret = secret,
        .err = err,
    };
    int rc = 0;
    size_t n = ei_envset_count(set);
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct ei_entry *e = ei_envset_at(set, i);
        if (!expandable(&ip, e) || !has_dollar(e))
            continue;
        if (ip.map == NULL && map_init(&ip, e) != 0) {
            rc = -1;
            break;
        }
        struct ist *st = map_get(&ip, e);
        if (st->state == IST_DONE)
            continue;
        rc = run(&ip, st);
    }
    /* all or nothing: entries change only once everything expanded */
    if (rc == 0)
        commit(&ip);
    cleanup(&ip);
    return rc;
}
