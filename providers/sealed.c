/* SPDX-License-Identifier: MIT */
/* The sealed provider: reads an ejson file, decrypts every value, and
   emits what ejson2env would export. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <envinject/provider.h>
#include <sodium.h>

#include "common/ejson.h"
#include "common/revision.h"

#define SEALED_KEYDIR_ENV  "EJSON_KEYDIR"
#define SEALED_KEYDIR      "/opt/ejson/keys"
#define SEALED_ENVIRONMENT "environment"
#define SEALED_PUBLIC_KEY  "_public_key"
#define SEALED_SHOW_MAX    64 /* bytes of a member name shown in errors */

struct sealed_state {
    const struct ei_host *host;
    const char *path;     /* to open */
    const char *display;  /* as written, for locators */
    const char *key_file; /* NULL: not configured */
    const char *keydir;   /* NULL: EJSON_KEYDIR, else the default */
    bool trim_underscore;
    const char *watched[3]; /* path and key_file, for watch */
};

/* A member of the top-level object or of a nested object. */
struct sealed_member {
    size_t key_start, key_len; /* raw name token */
    size_t start, end;         /* raw value */
    size_t depth;
    size_t ordinal; /* file order */
    enum ei_ejson_type type;
    bool encryptable;
    char *name; /* decoded name (export candidates only) */
    size_t name_len;
    const char *final; /* name as exported (after trim_underscore) */
};

/* A growing buffer in secret memory. */
struct sealed_sbuf {
    const struct ei_host *host;
    char *p;
    size_t cap;
};

struct sealed_run {
    struct sealed_state *st;
    const struct ei_host *host;
    const char *buf;
    size_t len;
    struct sealed_member *m;
    size_t m_n, m_cap;
    struct sealed_sbuf text;  /* a decoded string */
    struct sealed_sbuf plain; /* a decrypted value */
    unsigned char *sk;        /* secret memory, EI_EJSON_KEY_LEN */
    bool sk_matches;          /* derived public key is _public_key */
    const char *sk_source;
};

static int sbuf_need(struct sealed_sbuf *b, size_t n)
{
    if (n <= b->cap)
        return 0;
    size_t cap = b->cap == 0 ? 256 : b->cap;
    while (cap < n)
        cap *= 2;
    char *p = b->host->secret_alloc(b->host, cap);
    if (p == NULL)
        return -1;
    if (b->p != NULL)
        b->host->secret_free(b->host, b->p, b->cap);
    b->p = p;
    b->cap = cap;
    return 0;
}

static void sbuf_free(struct sealed_sbuf *b)
{
    if (b->p != NULL)
        b->host->secret_free(b->host, b->p, b->cap);
    b->p = NULL;
    b->cap = 0;
}

static enum ei_status sealed_configure(const struct ei_host *host,
                                       void **statep, struct ei_error *err)
{
    *statep = NULL;
    struct sealed_state *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return host->error(host, err, EI_NOMEM, 0, NULL, "out of memory");
    st->host = host;
    int rc = host->opt_path(host, "path", &st->path, err);
    if (rc == 0)
        st->path = host->arg != NULL ? host->arg(host) : NULL;
    st->display = st->path;
    if (rc > 0 && host->opt_string(host, "path", &st->display, err) <= 0)
        st->display = st->path;
    if (rc >= 0 && (st->path == NULL || st->path[0] == '\0')) {
        free(st);
        return host->error(host, err, EI_BADCONFIG, 0, NULL,
                           "option path is required");
    }
    if (rc < 0 || host->opt_path(host, "key_file", &st->key_file, err) < 0 ||
        host->opt_path(host, "keydir", &st->keydir, err) < 0 ||
        host->opt_bool(host, "trim_underscore", &st->trim_underscore, err) <
            0) {
        free(st);
        return ei_error_status(err, EI_BADCONFIG);
    }
    enum ei_status host_ok = EI_HOST_REQUIRE(host, safe_text, err);
    if (host_ok != EI_OK) {
        free(st);
        return host_ok;
    }
    *statep = st;
    return EI_OK;
}

static enum ei_status sealed_nomem(struct sealed_run *r, struct ei_error *err)
{
    return r->host->error(r->host, err, EI_NOMEM, 0, r->st->display,
                          "out of memory");
}

/* Decode the string token at [start, end) into r->text. */
static int sealed_decode(struct sealed_run *r, size_t start, size_t end,
                         size_t *out_len)
{
    size_t raw_len = end - start;
    if (sbuf_need(&r->text, ei_ejson_unquote_max(raw_len)) != 0)
        return -2;
    return ei_ejson_unquote(r->buf + start, raw_len, false, r->text.p,
                            r->text.cap, out_len);
}

static int sealed_keep(struct sealed_run *r, const struct ei_ejson_node *n)
{
    if (r->m_n == r->m_cap) {
        size_t cap = r->m_cap == 0 ? 16 : r->m_cap * 2;
        struct sealed_member *m = realloc(r->m, cap * sizeof(*m));
        if (m == NULL)
            return -1;
        r->m = m;
        r->m_cap = cap;
    }
    struct sealed_member *m = &r->m[r->m_n];
    memset(m, 0, sizeof(*m));
    m->key_start = n->key_start;
    m->key_len = n->key_len;
    m->start = n->start;
    m->end = n->end;
    m->depth = n->depth;
    m->ordinal = r->m_n++;
    m->type = n->type;
    m->encryptable = n->encryptable;
    return 0;
}

/* First walk: remember the members that may be exported and check that
   every value ejson would decrypt is a well-formed token. */
static int sealed_scan(void *ctx, const struct ei_ejson_node *n,
                       struct ei_error *err)
{
    struct sealed_run *r = ctx;
    if ((n->depth == 1 || n->depth == 2) && n->key_len > 0 &&
        sealed_keep(r, n) != 0) {
        sealed_nomem(r, err);
        return -1;
    }
    if (n->type != EI_EJSON_STRING || !n->encryptable)
        return 0;
    size_t len;
    int rc = sealed_decode(r, n->start, n->end, &len);
    if (rc != 0) {
        if (rc == -2)
            sealed_nomem(r, err);
        else
            r->host->error(r->host, err, EI_INTERNAL, 0, r->st->display,
                           "string decoding failed");
        return -1;
    }
    struct ei_ejson_token tok;
    enum ei_ejson_tok t = ei_ejson_token_parse(r->text.p, len, &tok);
    sodium_memzero(r->text.p, len);
    ei_ejson_token_fini(&tok);
    if (t == EI_EJSON_TOK_OK)
        return 0;
    char path[EI_EJSON_PATH_MAX];
    ei_ejson_path(n, path, sizeof(path));
    if (t == EI_EJSON_TOK_NOMEM)
        sealed_nomem(r, err);
    else if (t == EI_EJSON_TOK_PLAIN)
        r->host->error(r->host, err, EI_BADDATA, 0, r->st->display,
                       "%s is not encrypted: run envinject seal encrypt %s",
                       path, r->st->path);
    else
        r->host->error(r->host, err, EI_BADDATA, 0, r->st->display,
                       "%s: malformed encrypted value (%s)", path,
                       ei_ejson_tok_text(t));
    return -1;
}

/* Decrypt the token at [start, end) into r->plain. */
static enum ei_ejson_tok sealed_open(struct sealed_run *r, size_t start,
                                     size_t end, size_t *plain_len)
{
    size_t len;
    int rc = sealed_decode(r, start, end, &len);
    if (rc == -2)
        return EI_EJSON_TOK_NOMEM;
    if (rc != 0)
        return EI_EJSON_TOK_SHAPE;
    if (sbuf_need(&r->plain, ei_ejson_plain_max(len)) != 0)
        return EI_EJSON_TOK_NOMEM;
    enum ei_ejson_tok t =
        ei_ejson_decrypt(r->text.p, len, r->sk, (unsigned char *)r->plain.p,
                         r->plain.cap, plain_len);
    sodium_memzero(r->text.p, len);
    return t;
}

static enum ei_status sealed_open_error(struct sealed_run *r,
                                        enum ei_ejson_tok t, const char *path,
                                        struct ei_error *err)
{
    if (t == EI_EJSON_TOK_NOMEM)
        return sealed_nomem(r, err);
    if (t != EI_EJSON_TOK_DECRYPT)
        return r->host->error(r->host, err, EI_BADDATA, 0, r->st->display,
                              "%s: malformed encrypted value (%s)", path,
                              ei_ejson_tok_text(t));
    if (!r->sk_matches)
        return r->host->error(r->host, err, EI_DENIED, 0, r->st->display,
                              "cannot decrypt %s: wrong private key (%s is "
                              "not the key of _public_key)",
                              path, r->sk_source);
    return r->host->error(r->host, err, EI_DENIED, 0, r->st->display,
                          "cannot decrypt %s: wrong private key (the value "
                          "was encrypted to another key, or altered)",
                          path);
}

/* Second walk: fail closed, as ejson does, if any value does not decrypt. */
static int sealed_verify(void *ctx, const struct ei_ejson_node *n,
                         struct ei_error *err)
{
    struct sealed_run *r = ctx;
    if (n->type != EI_EJSON_STRING || !n->encryptable)
        return 0;
    size_t plain_len;
    enum ei_ejson_tok t = sealed_open(r, n->start, n->end, &plain_len);
    if (t == EI_EJSON_TOK_OK) {
        sodium_memzero(r->plain.p, plain_len);
        return 0;
    }
    char path[EI_EJSON_PATH_MAX];
    ei_ejson_path(n, path, sizeof(path));
    sealed_open_error(r, t, path, err);
    return -1;
}

/*
 * Try one candidate private key (hex text).  The first whose public half
 * is the file's _public_key wins; else the first candidate is kept, since
 * ejson never checks the pair and decryption may still work.
 */
static enum ei_status sealed_try_key(struct sealed_run *r, const char *hex,
                                     size_t hex_len, const char *source,
                                     const char *locator,
                                     const unsigned char *pk, bool *done,
                                     struct ei_error *err)
{
    unsigned char *sk = r->host->secret_alloc(r->host, EI_EJSON_KEY_LEN);
    if (sk == NULL)
        return sealed_nomem(r, err);
    if (ei_ejson_key_from_hex(hex, hex_len, true, sk) != 0) {
        r->host->secret_free(r->host, sk, EI_EJSON_KEY_LEN);
        return r->host->error(
            r->host, err, EI_DENIED, 0, locator,
            "%s is not a private key: expected 64 hex digits, got %zu bytes",
            source, hex_len);
    }
    unsigned char pub[EI_EJSON_KEY_LEN];
    crypto_scalarmult_base(pub, sk);
    bool matches = memcmp(pub, pk, EI_EJSON_KEY_LEN) == 0;
    if (r->sk == NULL || (matches && !r->sk_matches)) {
        if (r->sk != NULL)
            r->host->secret_free(r->host, r->sk, EI_EJSON_KEY_LEN);
        r->sk = sk;
        r->sk_matches = matches;
        r->sk_source = source;
    } else {
        r->host->secret_free(r->host, sk, EI_EJSON_KEY_LEN);
    }
    *done = matches;
    return EI_OK;
}

/* Read a key file; *absent tells a missing file from a found one. */
static enum ei_status sealed_key_file(struct sealed_run *r, const char *path,
                                      const char *source,
                                      const unsigned char *pk, bool *done,
                                      bool *absent, struct ei_error *err)
{
    struct ei_buf kb;
    memset(&kb, 0, sizeof(kb));
    struct ei_error tmp;
    memset(&tmp, 0, sizeof(tmp));
    *absent = false;
    enum ei_status s = r->host->read_file(
        r->host, path, EI_READ_PRIVATE | EI_READ_SECRET, &kb, &tmp);
    if (s == EI_NOTFOUND) {
        *absent = true;
        return EI_OK;
    }
    if (s != EI_OK) {
        if (err != NULL && err->status == EI_OK)
            *err = tmp;
        return s;
    }
    s = sealed_try_key(r, kb.data, kb.len, source, path, pk, done, err);
    r->host->buf_free(r->host, &kb);
    return s;
}

static enum ei_status sealed_find_key(struct sealed_run *r,
                                      const unsigned char *pk,
                                      struct ei_error *err)
{
    const struct ei_host *h = r->host;
    bool done = false, absent;
    char pk_hex[EI_EJSON_KEY_HEX_LEN + 1];
    ei_ejson_key_to_hex(pk, pk_hex);

    const char *env = h->env_get(h, EI_PRIVATE_KEY_ENV);
    if (env != NULL && env[0] != '\0') {
        enum ei_status s =
            sealed_try_key(r, env, strlen(env), EI_PRIVATE_KEY_ENV,
                           r->st->display, pk, &done, err);
        if (s != EI_OK || done)
            return s;
    }
    if (r->st->key_file != NULL) {
        enum ei_status s = sealed_key_file(r, r->st->key_file, "key_file", pk,
                                           &done, &absent, err);
        if (s != EI_OK || done)
            return s;
        if (absent)
            return h->error(h, err, EI_DENIED, 0, r->st->key_file,
                            "key_file does not exist (it should hold the "
                            "private key of %s)",
                            pk_hex);
    }
    const char *keydir = r->st->keydir;
    if (keydir == NULL) {
        keydir = h->env_get(h, SEALED_KEYDIR_ENV);
        if (keydir == NULL || keydir[0] == '\0')
            keydir = SEALED_KEYDIR;
    }
    size_t n = strlen(keydir) + 1 + EI_EJSON_KEY_HEX_LEN + 1;
    char *path = malloc(n);
    if (path == NULL)
        return sealed_nomem(r, err);
    snprintf(path, n, "%s/%s", keydir, pk_hex);
    enum ei_status s = sealed_key_file(r, path, "the key-folder file", pk,
                                       &done, &absent, err);
    free(path);
    if (s != EI_OK)
        return s;
    if (r->sk == NULL)
        return h->error(
            h, err, EI_DENIED, 0, r->st->display,
            "no private key for public key %s: set " EI_PRIVATE_KEY_ENV
            ", key_file or put it in %s",
            pk_hex, keydir);
    if (!r->sk_matches)
        h->log(h, EI_LOG_DEBUG,
               "%s: the private key from %s is not the key of _public_key",
               r->st->display, r->sk_source);
    return EI_OK;
}

static bool sealed_identifier(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool alpha =
            (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
        if (!alpha && (i == 0 || c < '0' || c > '9'))
            return false;
    }
    return true;
}

static int sealed_cmp_name(const void *a, const void *b)
{
    const struct sealed_member *x = *(struct sealed_member *const *)a;
    const struct sealed_member *y = *(struct sealed_member *const *)b;
    int c = strcmp(x->name, y->name);
    if (c != 0)
        return c;
    return x->ordinal < y->ordinal ? -1 : x->ordinal > y->ordinal;
}

static int sealed_cmp_final(const void *a, const void *b)
{
    const struct sealed_member *x = *(struct sealed_member *const *)a;
    const struct sealed_member *y = *(struct sealed_member *const *)b;
    int c = strcmp(x->final, y->final);
    if (c != 0)
        return c;
    return x->ordinal < y->ordinal ? -1 : x->ordinal > y->ordinal;
}

/*
 * Choose what to export, as ejson2env does: the members of the last
 * top-level "environment" when it is an object (none when it is something
 * else), else the top-level members but _public_key.  Every name must be a
 * shell identifier; a name given twice keeps its last value; only strings
 * are exported.  *out gets the chosen members sorted by exported name.
 */
static enum ei_status sealed_select(struct sealed_run *r, bool *in_env,
                                    struct sealed_member ***out, size_t *out_n,
                                    struct ei_error *err)
{
    const struct ei_host *h = r->host;
    const char *file = r->st->display;
    *out = NULL;
    *out_n = 0;
    *in_env = false;
    const struct sealed_member *env = NULL;
    for (size_t i = 0; i < r->m_n; i++)
        if (r->m[i].depth == 1 &&
            ei_ejson_key_is(r->buf + r->m[i].key_start, r->m[i].key_len,
                            SEALED_ENVIRONMENT))
            env = &r->m[i];
    if (env != NULL && env->type != EI_EJSON_OBJECT) {
        h->log(h, EI_LOG_WARN,
               "%s: \"environment\" is not an object: nothing exported", file);
        return EI_OK;
    }
    *in_env = env != NULL;

    struct sealed_member **sel = calloc(r->m_n + 1, sizeof(*sel));
    if (sel == NULL)
        return sealed_nomem(r, err);
    size_t n = 0;
    for (size_t i = 0; i < r->m_n; i++) {
        struct sealed_member *m = &r->m[i];
        bool pick =
            env != NULL
                ? m->depth == 2 && m->start > env->start && m->end < env->end
                : m->depth == 1 &&
                      !ei_ejson_key_is(r->buf + m->key_start, m->key_len,
                                       SEALED_PUBLIC_KEY);
        if (!pick)
            continue;
        /* names are not secret: ordinary memory */
        m->name = malloc(ei_ejson_unquote_max(m->key_len));
        if (m->name == NULL) {
            free(sel);
            return sealed_nomem(r, err);
        }
        if (ei_ejson_unquote(r->buf + m->key_start, m->key_len, false, m->name,
                             ei_ejson_unquote_max(m->key_len),
                             &m->name_len) != 0) {
            free(sel);
            return h->error(h, err, EI_INTERNAL, 0, file,
                            "member name decoding failed");
        }
        if (!sealed_identifier(m->name, m->name_len)) {
            char show[SEALED_SHOW_MAX + EI_TEXT_EXTRA];
            h->safe_text(h, show, sizeof(show), m->name, m->name_len, 0);
            free(sel);
            return h->error(h, err, EI_BADDATA, 0, file,
                            "%s%s\"%s\" is not a valid variable name (it "
                            "must match [A-Za-z_][A-Za-z0-9_]*)",
                            env != NULL ? SEALED_ENVIRONMENT : "",
                            env != NULL ? ": " : "", show);
        }
        sel[n++] = m;
    }
    qsort(sel, n, sizeof(*sel), sealed_cmp_name);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && strcmp(sel[i]->name, sel[i + 1]->name) == 0)
            continue; /* a later member of the same name wins */
        if (sel[i]->type == EI_EJSON_STRING)
            sel[k++] = sel[i];
    }
    n = k;
    for (size_t i = 0; i < n; i++) {
        const char *f = sel[i]->name;
        if (r->st->trim_underscore)
            while (*f == '_')
                f++;
        if (*f == '\0') {
            enum ei_status s = h->error(h, err, EI_BADDATA, 0, file,
                                        "%s%s%s: the name is empty after "
                                        "trim_underscore",
                                        env != NULL ? SEALED_ENVIRONMENT : "",
                                        env != NULL ? "." : "", sel[i]->name);
            free(sel);
            return s;
        }
        sel[i]->final = f;
    }
    qsort(sel, n, sizeof(*sel), sealed_cmp_final);
    for (size_t i = 0; i + 1 < n; i++) {
        if (strcmp(sel[i]->final, sel[i + 1]->final) == 0) {
            enum ei_status s =
                h->error(h, err, EI_BADDATA, 0, file,
                         "%s and %s both become %s with trim_underscore",
                         sel[i]->name, sel[i + 1]->name, sel[i]->final);
            free(sel);
            return s;
        }
    }
    *out = sel;
    *out_n = n;
    return EI_OK;
}

/* Decrypt or decode one chosen member and emit it; sink NULL only checks. */
static enum ei_status sealed_emit(struct sealed_run *r, struct ei_sink *sink,
                                  struct sealed_member *m, bool in_env,
                                  struct ei_error *err)
{
    const struct ei_host *h = r->host;
    const char *file = r->st->display;
    size_t loc_len =
        strlen(file) + sizeof(SEALED_ENVIRONMENT) + m->name_len + 3;
    char *loc = malloc(loc_len);
    if (loc == NULL)
        return sealed_nomem(r, err);
    snprintf(loc, loc_len, "%s:%s%s%s", file, in_env ? SEALED_ENVIRONMENT : "",
             in_env ? "." : "", m->name);
    const char *path = loc + strlen(file) + 1;

    const char *value;
    size_t value_len;
    struct sealed_sbuf *held;
    enum ei_status s = EI_OK;
    if (m->encryptable) {
        enum ei_ejson_tok t = sealed_open(r, m->start, m->end, &value_len);
        if (t != EI_EJSON_TOK_OK) {
            s = sealed_open_error(r, t, path, err);
            free(loc);
            return s;
        }
        held = &r->plain;
    } else {
        int rc = sealed_decode(r, m->start, m->end, &value_len);
        if (rc != 0) {
            free(loc);
            return rc == -2 ? sealed_nomem(r, err)
                            : h->error(h, err, EI_INTERNAL, 0, file,
                                       "string decoding failed");
        }
        held = &r->text;
    }
    value = held->p;
    if (memchr(value, '\0', value_len) != NULL) {
        s = h->error(h, err, EI_BADDATA, 0, file,
                     "%s holds a NUL byte, which no environment variable can "
                     "hold",
                     path);
    } else if (sink != NULL) {
        const char *name[1] = {m->final};
        unsigned flags = EI_ENTRY_VERBATIM |
                         (m->encryptable ? EI_ENTRY_SECRET : EI_ENTRY_PLAIN);
        if (sink->emit(sink, name, 1, value, value_len, loc, flags, err) != 0)
            s = ei_error_status(err, EI_INTERNAL);
    }
    sodium_memzero(held->p, value_len);
    free(loc);
    return s;
}

static enum ei_status sealed_fetch(void *state, struct ei_sink *sink,
                                   const struct ei_deadline *dl,
                                   struct ei_error *err)
{
    struct sealed_state *st = state;
    const struct ei_host *h = st->host;
    struct sealed_run r;
    memset(&r, 0, sizeof(r));
    r.st = st;
    r.host = h;
    r.text.host = h;
    r.plain.host = h;
    struct ei_buf fb;
    memset(&fb, 0, sizeof(fb));
    struct sealed_member **sel = NULL;
    size_t sel_n = 0;
    bool in_env = false;
    unsigned char pk[EI_EJSON_KEY_LEN];

    /* plaintext left in the file by mistake is still a secret */
    enum ei_status s = h->read_file(h, st->path, EI_READ_SECRET, &fb, err);
    if (s != EI_OK)
        return s;
    ei_revision_sha256(h, fb.data, fb.len);
    r.buf = fb.data;
    r.len = fb.len;
    s = ei_ejson_public_key(r.buf, r.len, 0, st->display, pk, err);
    if (s == EI_OK)
        s = ei_ejson_walk(r.buf, r.len, 0, st->display, sealed_scan, &r, err);
    if (s == EI_OK)
        s = sealed_select(&r, &in_env, &sel, &sel_n, err);
    if (s == EI_OK)
        s = sealed_find_key(&r, pk, err);
    if (s == EI_OK)
        s = ei_ejson_walk(r.buf, r.len, 0, st->display, sealed_verify, &r, err);
    /* a dry run first, so that a bad value leaves no partial output */
    for (size_t i = 0; s == EI_OK && i < sel_n; i++)
        s = sealed_emit(&r, NULL, sel[i], in_env, err);
    for (size_t i = 0; s == EI_OK && i < sel_n; i++)
        s = sealed_emit(&r, sink, sel[i], in_env, err);

    if (r.sk != NULL)
        h->secret_free(h, r.sk, EI_EJSON_KEY_LEN);
    sbuf_free(&r.text);
    sbuf_free(&r.plain);
    for (size_t i = 0; i < r.m_n; i++)
        free(r.m[i].name);
    free(r.m);
    free(sel);
    h->buf_free(h, &fb);
    return s;
}

static void sealed_destroy(void *state)
{
    free(state);
}

/* The private key is envinject's alone: run never passes it on. */
static const char *const sealed_consumed[] = {EI_PRIVATE_KEY_ENV, NULL};

/* The file, and the key file when one is configured. */
static enum ei_watch_kind sealed_watch(void *state, const char *const **paths,
                                       int64_t *poll_ms)
{
    struct sealed_state *st = state;
    (void)poll_ms;
    st->watched[0] = st->path;
    st->watched[1] = st->key_file;
    st->watched[2] = NULL;
    *paths = st->watched;
    return EI_WATCH_FILES;
}

EI_PROVIDER_DEFINE(sealed) = {
    .abi = EI_PROVIDER_ABI,
    .size = sizeof(struct ei_provider),
    .name = "sealed",
    .summary = "ejson-compatible encrypted JSON file (libsodium crypto_box)",
    .arg_option = "path",
    .flags = EI_PROV_SECRET,
    .configure = sealed_configure,
    .fetch = sealed_fetch,
    .lookup = NULL,
    .destroy = sealed_destroy,
    .env_consumed = sealed_consumed,
    .watch = sealed_watch,
};
