/* SPDX-License-Identifier: MIT */
/* The ejson file format: token grammar and crypto, key parsing, the
   streaming JSON walk with ejson's encryptability rule, and encryption in
   place (see /work/shared/ejson-format.md for the rules reproduced here). */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "parse_error.h"
#include "urlpath.h"
#include "ejson.h"

#define TOK_PREFIX_LEN   3  /* "EJ[" */
#define TOK_P_OFF        5  /* after "EJ[1:" */
#define TOK_P_LEN        44 /* base64 of 32 bytes */
#define TOK_N_OFF        (TOK_P_OFF + TOK_P_LEN + 1)
#define TOK_N_LEN        32 /* base64 of 24 bytes */
#define TOK_B_OFF        (TOK_N_OFF + TOK_N_LEN + 1)
#define TOK_MIN_LEN      (TOK_B_OFF + 2) /* one box byte and ']' */
#define UTF8_REPLACEMENT "\xef\xbf\xbd"

static bool is_ascii_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
}

static bool is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
           (c >= 'A' && c <= 'F');
}

int ei_ejson_key_from_hex(const char *s, size_t len, bool trim,
                          unsigned char key[EI_EJSON_KEY_LEN])
{
    if (trim) {
        while (len > 0 && is_ascii_space((unsigned char)s[0])) {
            s++;
            len--;
        }
        while (len > 0 && is_ascii_space((unsigned char)s[len - 1]))
            len--;
    }
    if (len != EI_EJSON_KEY_HEX_LEN)
        return -1;
    for (size_t i = 0; i < len; i++)
        if (!is_hex((unsigned char)s[i]))
            return -1;
    unsigned char tmp[EI_EJSON_KEY_LEN];
    size_t bin_len = 0;
    int rc = sodium_hex2bin(tmp, sizeof(tmp), s, len, NULL, &bin_len, NULL);
    if (rc == 0 && bin_len == EI_EJSON_KEY_LEN)
        memcpy(key, tmp, EI_EJSON_KEY_LEN);
    else
        rc = -1;
    sodium_memzero(tmp, sizeof(tmp));
    return rc;
}

void ei_ejson_key_to_hex(const unsigned char key[EI_EJSON_KEY_LEN],
                         char hex[EI_EJSON_KEY_HEX_LEN + 1])
{
    sodium_bin2hex(hex, EI_EJSON_KEY_HEX_LEN + 1, key, EI_EJSON_KEY_LEN);
}

static bool is_b64_class(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '+' || c == '=' || c == '/';
}

bool ei_ejson_token_shape(const char *s, size_t len)
{
    if (len < TOK_MIN_LEN || memcmp(s, "EJ[", TOK_PREFIX_LEN) != 0)
        return false;
    if (s[3] < '0' || s[3] > '9' || s[4] != ':')
        return false;
    for (size_t i = 0; i < TOK_P_LEN; i++)
        if (!is_b64_class((unsigned char)s[TOK_P_OFF + i]))
            return false;
    if (s[TOK_N_OFF - 1] != ':')
        return false;
    for (size_t i = 0; i < TOK_N_LEN; i++)
        if (!is_b64_class((unsigned char)s[TOK_N_OFF + i]))
            return false;
    if (s[TOK_B_OFF - 1] != ':' || s[len - 1] != ']')
        return false;
    /* Go's "." is any character but LF; the box runs to the last byte */
    return memchr(s + TOK_B_OFF, '\n', len - 1 - TOK_B_OFF) == NULL;
}

const char *ei_ejson_tok_text(enum ei_ejson_tok r)
{
    switch (r) {
    case EI_EJSON_TOK_OK:
        return "valid";
    case EI_EJSON_TOK_PLAIN:
        return "not encrypted";
    case EI_EJSON_TOK_SHAPE:
        return "not of the form EJ[1:key:nonce:box]";
    case EI_EJSON_TOK_VERSION:
        return "unsupported schema version";
    case EI_EJSON_TOK_PUBKEY:
        return "bad encrypter public key";
    case EI_EJSON_TOK_NONCE:
        return "bad nonce";
    case EI_EJSON_TOK_BOX:
        return "bad ciphertext";
    case EI_EJSON_TOK_NOMEM:
        return "out of memory";
    case EI_EJSON_TOK_TOOSMALL:
        return "output buffer too small";
    case EI_EJSON_TOK_DECRYPT:
        return "authentication failed";
    }
    return "unknown";
}

/* Standard padded base64 covering all n bytes, into exactly want bytes
   (want 0: any length up to cap). */
static int b64_decode(const char *s, size_t n, unsigned char *out, size_t cap,
                      size_t want, size_t *out_len)
{
    size_t got = 0;
    if (sodium_base642bin(out, cap, s, n, NULL, &got, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return -1;
    if (want != 0 && got != want)
        return -1;
    *out_len = got;
    return 0;
}

enum ei_ejson_tok ei_ejson_token_parse(const char *s, size_t len,
                                       struct ei_ejson_token *tok)
{
    memset(tok, 0, sizeof(*tok));
    if (!ei_ejson_token_shape(s, len))
        return len >= TOK_PREFIX_LEN && memcmp(s, "EJ[", TOK_PREFIX_LEN) == 0
                   ? EI_EJSON_TOK_SHAPE
                   : EI_EJSON_TOK_PLAIN;
    /* ejson never checks the digit; only version 1 was ever written */
    if (s[3] != '1')
        return EI_EJSON_TOK_VERSION;
    /* one spare byte so that a longer decoding is seen, not cut */
    unsigned char key[EI_EJSON_KEY_LEN + 1];
    unsigned char nonce[EI_EJSON_NONCE_LEN + 1];
    size_t got;
    if (b64_decode(s + TOK_P_OFF, TOK_P_LEN, key, sizeof(key), EI_EJSON_KEY_LEN,
                   &got) != 0)
        return EI_EJSON_TOK_PUBKEY;
    if (b64_decode(s + TOK_N_OFF, TOK_N_LEN, nonce, sizeof(nonce),
                   EI_EJSON_NONCE_LEN, &got) != 0)
        return EI_EJSON_TOK_NONCE;
    size_t b_len = len - 1 - TOK_B_OFF;
    size_t cap = b_len / 4 * 3 + 3;
    unsigned char *box = malloc(cap);
    if (box == NULL)
        return EI_EJSON_TOK_NOMEM;
    if (b64_decode(s + TOK_B_OFF, b_len, box, cap, 0, &got) != 0 ||
        got < EI_EJSON_MAC_LEN) {
        free(box);
        return EI_EJSON_TOK_BOX;
    }
    memcpy(tok->pk, key, EI_EJSON_KEY_LEN);
    memcpy(tok->nonce, nonce, EI_EJSON_NONCE_LEN);
    tok->box = box;
    tok->box_len = got;
    return EI_EJSON_TOK_OK;
}

void ei_ejson_token_fini(struct ei_ejson_token *tok)
{
    if (tok == NULL)
        return;
    free(tok->box);
    memset(tok, 0, sizeof(*tok));
}

size_t ei_ejson_plain_max(size_t token_len)
{
    /* the box is at most 3/4 of the token, the plaintext 16 bytes less */
    return token_len / 4 * 3 + 4;
}

enum ei_ejson_tok ei_ejson_decrypt(const char *s, size_t len,
                                   const unsigned char sk[EI_EJSON_KEY_LEN],
                                   unsigned char *out, size_t out_cap,
                                   size_t *out_len)
{
    *out_len = 0;
    struct ei_ejson_token tok;
    enum ei_ejson_tok r = ei_ejson_token_parse(s, len, &tok);
    if (r != EI_EJSON_TOK_OK)
        return r;
    size_t plain_len = tok.box_len - EI_EJSON_MAC_LEN;
    if (out_cap < plain_len + 1) {
        ei_ejson_token_fini(&tok);
        return EI_EJSON_TOK_TOOSMALL;
    }
    /* libsodium also fails here for a low-order encrypter key, where Go
       would carry on with an all-zero secret: refusing is the safe side */
    if (crypto_box_open_easy(out, tok.box, tok.box_len, tok.nonce, tok.pk,
                             sk) != 0) {
        sodium_memzero(out, out_cap);
        ei_ejson_token_fini(&tok);
        return EI_EJSON_TOK_DECRYPT;
    }
    out[plain_len] = '\0';
    *out_len = plain_len;
    ei_ejson_token_fini(&tok);
    return EI_EJSON_TOK_OK;
}

int ei_ejson_sealer_init(struct ei_ejson_sealer *s,
                         const unsigned char recipient[EI_EJSON_KEY_LEN],
                         const unsigned char *eph_sk)
{
    unsigned char sk[EI_EJSON_KEY_LEN];
    if (eph_sk != NULL) {
        memcpy(sk, eph_sk, sizeof(sk));
        crypto_scalarmult_base(s->eph_pk, sk);
    } else {
        crypto_box_keypair(s->eph_pk, sk);
    }
    int rc = crypto_box_beforenm(s->shared, recipient, sk);
    sodium_memzero(sk, sizeof(sk));
    if (rc != 0)
        ei_ejson_sealer_wipe(s);
    return rc == 0 ? 0 : -1;
}

void ei_ejson_sealer_wipe(struct ei_ejson_sealer *s)
{
    if (s != NULL)
        sodium_memzero(s, sizeof(*s));
}

static size_t b64_len(size_t n)
{
    return (n + 2) / 3 * 4;
}

size_t ei_ejson_token_len(size_t plain_len)
{
    return TOK_B_OFF + b64_len(plain_len + EI_EJSON_MAC_LEN) + 1;
}

int ei_ejson_seal(const struct ei_ejson_sealer *s, const unsigned char *m,
                  size_t mlen, const unsigned char *nonce, char *out,
                  size_t out_cap)
{
    if (mlen > SIZE_MAX / 2 || out_cap < ei_ejson_token_len(mlen) + 1)
        return -1;
    unsigned char n[EI_EJSON_NONCE_LEN];
    if (nonce != NULL)
        memcpy(n, nonce, sizeof(n));
    else
        randombytes_buf(n, sizeof(n));
    size_t box_len = mlen + EI_EJSON_MAC_LEN;
    unsigned char *box = malloc(box_len);
    if (box == NULL)
        return -1;
    if (crypto_box_easy_afternm(box, m, mlen, n, s->shared) != 0) {
        free(box);
        return -1;
    }
    char *p = out;
    memcpy(p, "EJ[1:", 5);
    p += 5;
    sodium_bin2base64(p, b64_len(EI_EJSON_KEY_LEN) + 1, s->eph_pk,
                      EI_EJSON_KEY_LEN, sodium_base64_VARIANT_ORIGINAL);
    p += TOK_P_LEN;
    *p++ = ':';
    sodium_bin2base64(p, b64_len(EI_EJSON_NONCE_LEN) + 1, n, sizeof(n),
                      sodium_base64_VARIANT_ORIGINAL);
    p += TOK_N_LEN;
    *p++ = ':';
    sodium_bin2base64(p, b64_len(box_len) + 1, box, box_len,
                      sodium_base64_VARIANT_ORIGINAL);
    p += b64_len(box_len);
    *p++ = ']';
    *p = '\0';
    free(box);
    return 0;
}

/*
 * Go's utf8.DecodeRune: the length of the valid sequence at s, or 0 when
 * the first byte starts no valid sequence (Go then yields U+FFFD for that
 * one byte).  Overlong forms, surrogates and values over U+10FFFF are
 * invalid.
 */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        need = 2;
    else if (c >= 0xe0 && c <= 0xef)
        need = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        need = 4;
    else
        return 0;
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (n < need || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < need; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return need;
}

bool ei_ejson_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        size_t n = utf8_seq(p + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

static size_t utf8_put(uint32_t r, unsigned char out[4])
{
    if (r < 0x80) {
        out[0] = (unsigned char)r;
        return 1;
    }
    if (r < 0x800) {
        out[0] = (unsigned char)(0xc0 | (r >> 6));
        out[1] = (unsigned char)(0x80 | (r & 0x3f));
        return 2;
    }
    if (r < 0x10000) {
        out[0] = (unsigned char)(0xe0 | (r >> 12));
        out[1] = (unsigned char)(0x80 | ((r >> 6) & 0x3f));
        out[2] = (unsigned char)(0x80 | (r & 0x3f));
        return 3;
    }
    out[0] = (unsigned char)(0xf0 | (r >> 18));
    out[1] = (unsigned char)(0x80 | ((r >> 12) & 0x3f));
    out[2] = (unsigned char)(0x80 | ((r >> 6) & 0x3f));
    out[3] = (unsigned char)(0x80 | (r & 0x3f));
    return 4;
}

/* Go's getu4: the value of "\uXXXX" at s, or -1. */
static long get_u4(const char *s, size_t n)
{
    if (n < 6 || s[0] != '\\' || s[1] != 'u')
        return -1;
    long r = 0;
    for (size_t i = 2; i < 6; i++) {
        int v = ei_hex_digit((unsigned char)s[i]);
        if (v < 0)
            return -1;
        r = r * 16 + v;
    }
    return r;
}

#define UNIT_ERROR SIZE_MAX

/*
 * Decode the unit at s[*pos] (the contents of a string, quotes excluded)
 * into out; returns its byte count (1 to 4) and advances *pos, or
 * UNIT_ERROR for what is not valid inside a JSON string.
 */
static size_t decode_unit(const char *s, size_t n, size_t *pos, bool multiline,
                          unsigned char out[4])
{
    size_t i = *pos;
    unsigned char c = (unsigned char)s[i];
    if (c == '\\') {
        if (i + 1 >= n)
            return UNIT_ERROR;
        unsigned char e = (unsigned char)s[i + 1];
        const char *from = "\"\\/bfnrt";
        const char *to = "\"\\/\b\f\n\r\t";
        const char *hit = e != '\0' ? strchr(from, e) : NULL;
        if (hit != NULL) {
            out[0] = (unsigned char)to[hit - from];
            *pos = i + 2;
            return 1;
        }
        long r = get_u4(s + i, n - i);
        if (r < 0)
            return UNIT_ERROR;
        i += 6;
        if (r >= 0xd800 && r < 0xe000) {
            long r2 = get_u4(s + i, n - i);
            if (r < 0xdc00 && r2 >= 0xdc00 && r2 < 0xe000) {
                r = 0x10000 + ((r - 0xd800) << 10) + (r2 - 0xdc00);
                i += 6;
            } else {
                r = 0xfffd;
            }
        }
        *pos = i;
        return utf8_put((uint32_t)r, out);
    }
    if (c < 0x20) {
        if (multiline && (c == '\n' || c == '\r')) {
            out[0] = c;
            *pos = i + 1;
            return 1;
        }
        return UNIT_ERROR;
    }
    if (c == '"')
        return UNIT_ERROR;
    size_t len = utf8_seq((const unsigned char *)s + i, n - i);
    if (len == 0) {
        memcpy(out, UTF8_REPLACEMENT, 3);
        *pos = i + 1;
        return 3;
    }
    memcpy(out, s + i, len);
    *pos = i + len;
    return len;
}

size_t ei_ejson_unquote_max(size_t raw_len)
{
    /* an invalid byte grows to U+FFFD, 3 bytes; nothing grows more */
    return raw_len * 3 + 1;
}

int ei_ejson_unquote(const char *raw, size_t raw_len, bool multiline, char *out,
                     size_t out_cap, size_t *out_len)
{
    *out_len = 0;
    if (raw_len < 2 || raw[0] != '"' || raw[raw_len - 1] != '"' ||
        out_cap < ei_ejson_unquote_max(raw_len))
        return -1;
    const char *s = raw + 1;
    size_t n = raw_len - 2;
    size_t pos = 0, w = 0;
    while (pos < n) {
        unsigned char u[4];
        size_t k = decode_unit(s, n, &pos, multiline, u);
        if (k == UNIT_ERROR) {
            sodium_memzero(out, w);
            return -1;
        }
        memcpy(out + w, u, k);
        w += k;
    }
    out[w] = '\0';
    *out_len = w;
    return 0;
}

size_t ei_ejson_quote(const char *s, size_t len, char *out, size_t out_cap)
{
    size_t w = 0;
#define PUT(ch)                                                                \
    do {                                                                       \
        if (w + 1 < out_cap)                                                   \
            out[w] = (ch);                                                     \
        w++;                                                                   \
    } while (0)
    PUT('"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
        case '\\':
            PUT('\\');
            PUT((char)c);
            break;
        case '\n':
            PUT('\\');
            PUT('n');
            break;
        case '\r':
            PUT('\\');
            PUT('r');
            break;
        case '\t':
            PUT('\\');
            PUT('t');
            break;
        default:
            if (c < 0x20) {
                static const char digits[] = "0123456789abcdef";
                PUT('\\');
                PUT('u');
                PUT('0');
                PUT('0');
                PUT(digits[c >> 4]);
                PUT(digits[c & 0xf]);
            } else {
                PUT((char)c);
            }
        }
    }
    PUT('"');
#undef PUT
    if (out_cap > 0)
        out[w < out_cap ? w : out_cap - 1] = '\0';
    return w;
}

struct ejson_frame {
    bool object;
    size_t start;     /* offset of '{' or '[' */
    size_t key_start; /* current member name token (objects) */
    size_t key_len;
    size_t index; /* position of the current member or element */
};

struct ei_ejson_walk_state {
    const char *buf;
    size_t len;
    size_t pos;
    bool multiline;
    struct ejson_frame *frames;
    size_t depth;
    size_t cap;
    bool underscore; /* the governing key began with '_' */
    const char *problem;
};

static void ws_skip(struct ei_ejson_walk_state *w)
{
    while (w->pos < w->len) {
        char c = w->buf[w->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        w->pos++;
    }
}

/* Step over the string token at pos (an opening quote); sets *multiline
   when it holds raw LF/CR.  -1 with w->problem set. */
static int scan_string(struct ei_ejson_walk_state *w, bool *multiline)
{
    const char *s = w->buf;
    size_t i = w->pos + 1;
    *multiline = false;
    while (i < w->len) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"') {
            w->pos = i + 1;
            return 0;
        }
        if (c == '\\') {
            if (i + 1 >= w->len)
                break;
            unsigned char e = (unsigned char)s[i + 1];
            if (e == 'u') {
                if (get_u4(s + i, w->len - i) < 0) {
                    w->pos = i;
                    w->problem = "invalid \\u escape in a string";
                    return -1;
                }
                i += 6;
                continue;
            }
            if (e == '\0' || strchr("\"\\/bfnrt", e) == NULL) {
                w->pos = i;
                w->problem = "invalid escape in a string";
                return -1;
            }
            i += 2;
            continue;
        }
        if (c < 0x20) {
            if (w->multiline && (c == '\n' || c == '\r')) {
                *multiline = true;
                i++;
                continue;
            }
            w->pos = i;
            w->problem = c == '\n' || c == '\r'
                             ? "line break inside a string (write it as \\n, "
                               "or let envinject seal encrypt do it)"
                             : "control character inside a string";
            return -1;
        }
        i++;
    }
    w->pos = w->len;
    w->problem = "unexpected end of file inside a string";
    return -1;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int scan_number(struct ei_ejson_walk_state *w)
{
    const char *s = w->buf;
    size_t i = w->pos, n = w->len;
    if (i < n && s[i] == '-')
        i++;
    if (i < n && s[i] == '0') {
        i++;
    } else if (i < n && is_digit(s[i])) {
        while (i < n && is_digit(s[i]))
            i++;
    } else {
        goto bad;
    }
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n || !is_digit(s[i]))
            goto bad;
        while (i < n && is_digit(s[i]))
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= n || !is_digit(s[i]))
            goto bad;
        while (i < n && is_digit(s[i]))
            i++;
    }
    w->pos = i;
    return 0;
bad:
    w->pos = i;
    w->problem = "malformed number";
    return -1;
}

static int scan_word(struct ei_ejson_walk_state *w, enum ei_ejson_type *type)
{
    static const struct {
        const char *word;
        enum ei_ejson_type type;
    } words[] = {{"true", EI_EJSON_TRUE},
                 {"false", EI_EJSON_FALSE},
                 {"null", EI_EJSON_NULL}};
    for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++) {
        size_t wl = strlen(words[k].word);
        if (w->len - w->pos >= wl &&
            memcmp(w->buf + w->pos, words[k].word, wl) == 0) {
            w->pos += wl;
            *type = words[k].type;
            return 0;
        }
    }
    w->problem = "unexpected character";
    return -1;
}

static int push_frame(struct ei_ejson_walk_state *w, bool object)
{
    if (w->depth >= EI_EJSON_MAX_DEPTH) {
        w->problem = "nested too deeply";
        return -1;
    }
    if (w->depth == w->cap) {
        size_t cap = w->cap == 0 ? 16 : w->cap * 2;
        struct ejson_frame *f = realloc(w->frames, cap * sizeof(*f));
        if (f == NULL)
            return -2;
        w->frames = f;
        w->cap = cap;
    }
    struct ejson_frame *f = &w->frames[w->depth++];
    memset(f, 0, sizeof(*f));
    f->object = object;
    f->start = w->pos;
    return 0;
}

/* Fill the parts of a node that come from its parent frame. */
static void node_place(const struct ei_ejson_walk_state *w,
                       struct ei_ejson_node *node)
{
    node->depth = w->depth;
    node->walk = w;
    if (w->depth == 0)
        return;
    const struct ejson_frame *p = &w->frames[w->depth - 1];
    node->index = p->index;
    if (p->object) {
        node->key_start = p->key_start;
        node->key_len = p->key_len;
    }
}

static enum ei_status syntax_error(const struct ei_ejson_walk_state *w,
                                   const char *what, struct ei_error *err)
{
    size_t line = 1, col = 1;
    size_t end = w->pos < w->len ? w->pos : w->len;
    for (size_t i = 0; i < end; i++) {
        if (w->buf[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    char loc[EI_ERR_LOCATOR_LEN];
    int n =
        snprintf(loc, sizeof(loc), "%s:%zu", what != NULL ? what : "-", line);
    if (n < 0 || (size_t)n >= sizeof(loc))
        snprintf(loc, sizeof(loc), "%s", what != NULL ? what : "-");
    return ei_parse_error(err, EI_BADDATA, loc,
                          "invalid JSON at column %zu: %s", col,
                          w->problem != NULL ? w->problem : "syntax error");
}

enum walk_state { WS_VALUE, WS_VALUE_OR_END, WS_KEY, WS_KEY_OR_END, WS_AFTER };

static enum ei_status walk_run(struct ei_ejson_walk_state *w,
                               ei_ejson_visit_fn visit, void *ctx,
                               const char *what, struct ei_error *err)
{
    ws_skip(w);
    if (w->pos >= w->len) {
        w->problem = "empty document";
        return syntax_error(w, what, err);
    }
    if (w->buf[w->pos] != '{') {
        w->problem = "the top level is not an object";
        return syntax_error(w, what, err);
    }
    int rc = push_frame(w, true);
    if (rc == -2)
        return ei_parse_error(err, EI_NOMEM, what, "out of memory");
    w->pos++;
    enum walk_state st = WS_KEY_OR_END;
    for (;;) {
        ws_skip(w);
        if (w->pos >= w->len) {
            w->problem = "unexpected end of file";
            return syntax_error(w, what, err);
        }
        char c = w->buf[w->pos];
        struct ejson_frame *top = &w->frames[w->depth - 1];
        bool closing = false;
        struct ei_ejson_node node;
        memset(&node, 0, sizeof(node));
        node.start = w->pos;

        if (st == WS_AFTER) {
            if (c == ',') {
                w->pos++;
                top->index++;
                st = top->object ? WS_KEY : WS_VALUE;
                continue;
            }
            if (c != (top->object ? '}' : ']')) {
                w->problem =
                    top->object ? "expected ',' or '}'" : "expected ',' or ']'";
                return syntax_error(w, what, err);
            }
            closing = true;
        } else if ((st == WS_KEY_OR_END && c == '}') ||
                   (st == WS_VALUE_OR_END && c == ']')) {
            closing = true;
        }

        if (closing) {
            w->pos++;
            struct ejson_frame f = w->frames[--w->depth];
            node.type = f.object ? EI_EJSON_OBJECT : EI_EJSON_ARRAY;
            node.start = f.start;
            node.end = w->pos;
            node_place(w, &node);
            if (visit != NULL && visit(ctx, &node, err) != 0)
                return ei_error_status(err, EI_INTERNAL);
            if (w->depth == 0) {
                ws_skip(w);
                if (w->pos != w->len) {
                    w->problem = "data after the top-level object";
                    return syntax_error(w, what, err);
                }
                return EI_OK;
            }
            st = WS_AFTER;
            continue;
        }

        if (st == WS_KEY || st == WS_KEY_OR_END) {
            if (c != '"') {
                w->problem = "expected a member name";
                return syntax_error(w, what, err);
            }
            size_t k = w->pos;
            bool ml;
            if (scan_string(w, &ml) != 0)
                return syntax_error(w, what, err);
            top->key_start = k;
            top->key_len = w->pos - k;
            /* ejson looks at the raw byte: "\u005f..." is not underscored */
            w->underscore = w->buf[k + 1] == '_';
            ws_skip(w);
            if (w->pos >= w->len || w->buf[w->pos] != ':') {
                w->problem = "expected ':'";
                return syntax_error(w, what, err);
            }
            w->pos++;
            st = WS_VALUE;
            continue;
        }

        /* a value */
        if (c == '{' || c == '[') {
            rc = push_frame(w, c == '{');
            if (rc == -2)
                return ei_parse_error(err, EI_NOMEM, what, "out of memory");
            if (rc != 0)
                return syntax_error(w, what, err);
            w->pos++;
            st = c == '{' ? WS_KEY_OR_END : WS_VALUE_OR_END;
            continue;
        }
        if (c == '"') {
            if (scan_string(w, &node.multiline) != 0)
                return syntax_error(w, what, err);
            node.type = EI_EJSON_STRING;
            node.encryptable = !w->underscore;
        } else if (c == '-' || is_digit(c)) {
            if (scan_number(w) != 0)
                return syntax_error(w, what, err);
            node.type = EI_EJSON_NUMBER;
        } else if (scan_word(w, &node.type) != 0) {
            return syntax_error(w, what, err);
        }
        node.end = w->pos;
        node_place(w, &node);
        if (visit != NULL && visit(ctx, &node, err) != 0)
            return ei_error_status(err, EI_INTERNAL);
        st = WS_AFTER;
    }
}

enum ei_status ei_ejson_walk(const char *buf, size_t len, unsigned flags,
                             const char *what, ei_ejson_visit_fn visit,
                             void *ctx, struct ei_error *err)
{
    struct ei_ejson_walk_state w;
    memset(&w, 0, sizeof(w));
    w.buf = buf;
    w.len = len;
    w.multiline = (flags & EI_EJSON_MULTILINE) != 0;
    enum ei_status st = walk_run(&w, visit, ctx, what, err);
    free(w.frames);
    return st;
}

/* Append s to out[*w..], keeping room for "..." and the NUL; false once
   it no longer fits. */
static bool path_put(char *out, size_t out_len, size_t *w, const char *s,
                     size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (*w + 4 >= out_len) {
            if (out_len >= 4) {
                memcpy(out + out_len - 4, "...", 4);
                *w = out_len - 1;
            }
            return false;
        }
        unsigned char c = (unsigned char)s[i];
        out[(*w)++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    out[*w] = '\0';
    return true;
}

static bool path_put_key(char *out, size_t out_len, size_t *w, const char *raw,
                         size_t raw_len)
{
    const char *s = raw + 1;
    size_t n = raw_len - 2;
    size_t pos = 0;
    while (pos < n) {
        unsigned char u[4];
        size_t k = decode_unit(s, n, &pos, true, u);
        if (k == UNIT_ERROR)
            return path_put(out, out_len, w, "?", 1);
        if (!path_put(out, out_len, w, (const char *)u, k))
            return false;
    }
    return true;
}

void ei_ejson_path(const struct ei_ejson_node *node, char *out, size_t out_len)
{
    if (out_len == 0)
        return;
    out[0] = '\0';
    const struct ei_ejson_walk_state *ws = node->walk;
    size_t w = 0;
    for (size_t i = 0; i < node->depth && ws != NULL; i++) {
        const struct ejson_frame *f = &ws->frames[i];
        bool ok;
        if (f->object) {
            ok = (i == 0 || path_put(out, out_len, &w, ".", 1)) &&
                 path_put_key(out, out_len, &w, ws->buf + f->key_start,
                              f->key_len);
        } else {
            char idx[32];
            int n = snprintf(idx, sizeof(idx), "[%zu]", f->index);
            ok = n > 0 && path_put(out, out_len, &w, idx, (size_t)n);
        }
        if (!ok)
            return;
    }
}

bool ei_ejson_key_is(const char *raw, size_t raw_len, const char *name)
{
    if (raw_len < 2)
        return false;
    const char *s = raw + 1;
    size_t n = raw_len - 2, pos = 0, at = 0, want = strlen(name);
    while (pos < n) {
        unsigned char u[4];
        size_t k = decode_unit(s, n, &pos, true, u);
        if (k == UNIT_ERROR || at + k > want || memcmp(name + at, u, k) != 0)
            return false;
        at += k;
    }
    return at == want;
}

struct pk_find {
    bool found;
    enum ei_ejson_type type;
    size_t start, end;
};

static int pk_visit(void *ctx, const struct ei_ejson_node *node,
                    struct ei_error *err)
{
    struct pk_find *pf = ctx;
    (void)err;
    if (node->depth == 1 && ei_ejson_key_is(node->walk->buf + node->key_start,
                                            node->key_len, "_public_key")) {
        pf->found = true;
        pf->type = node->type;
        pf->start = node->start;
        pf->end = node->end;
    }
    return 0;
}

enum ei_status ei_ejson_public_key(const char *buf, size_t len, unsigned flags,
                                   const char *what,
                                   unsigned char pk[EI_EJSON_KEY_LEN],
                                   struct ei_error *err)
{
    struct pk_find pf;
    memset(&pf, 0, sizeof(pf));
    enum ei_status st =
        ei_ejson_walk(buf, len, flags, what, pk_visit, &pf, err);
    if (st != EI_OK)
        return st;
    if (!pf.found)
        return ei_parse_error(err, EI_BADDATA, what,
                              "no _public_key member at the top level");
    if (pf.type != EI_EJSON_STRING)
        return ei_parse_error(err, EI_BADDATA, what,
                              "_public_key is not a string");
    /* 64 hex digits can only be written raw or as \u escapes: decode */
    size_t raw_len = pf.end - pf.start;
    char hex[EI_EJSON_KEY_HEX_LEN + 1];
    if (raw_len > (EI_EJSON_KEY_HEX_LEN * 6) + 2)
        return ei_parse_error(err, EI_BADDATA, what,
                              "_public_key is not 64 hex digits");
    char *dec = malloc(ei_ejson_unquote_max(raw_len));
    if (dec == NULL)
        return ei_parse_error(err, EI_NOMEM, what, "out of memory");
    size_t dec_len;
    int rc = ei_ejson_unquote(buf + pf.start, raw_len,
                              (flags & EI_EJSON_MULTILINE) != 0, dec,
                              ei_ejson_unquote_max(raw_len), &dec_len);
    if (rc == 0 && dec_len == EI_EJSON_KEY_HEX_LEN) {
        memcpy(hex, dec, EI_EJSON_KEY_HEX_LEN);
        hex[EI_EJSON_KEY_HEX_LEN] = '\0';
    } else {
        rc = -1;
    }
    free(dec);
    if (rc != 0 ||
        ei_ejson_key_from_hex(hex, EI_EJSON_KEY_HEX_LEN, false, pk) != 0)
        return ei_parse_error(err, EI_BADDATA, what,
                              "_public_key is not 64 hex digits");
    return EI_OK;
}

size_t ei_ejson_collapse(const char *buf, size_t len, char *out)
{
    bool in_string = false, esc = false;
    size_t w = 0;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (in_string && !esc && (c == '\n' || c == '\r')) {
            if (out != NULL) {
                out[w] = '\\';
                out[w + 1] = c == '\n' ? 'n' : 'r';
            }
            w += 2;
            continue;
        }
        if (out != NULL)
            out[w] = c;
        w++;
        if (!in_string) {
            in_string = c == '"';
            esc = false;
        } else if (esc) {
            esc = false;
        } else if (c == '\\') {
            esc = true;
        } else if (c == '"') {
            in_string = false;
        }
    }
    return w;
}

struct enc_edit {
    size_t start, end; /* the string token replaced */
    char *token;       /* its replacement, quotes excluded */
    size_t token_len;
    char *path;
};

struct enc_ctx {
    const struct ei_ejson_sealer *sealer;
    const char *what;
    struct enc_edit *edits;
    size_t n, cap;
    unsigned char *scratch; /* sodium_malloc'd: decoded plaintext */
    size_t scratch_cap;
};

static int enc_scratch(struct enc_ctx *ec, size_t need)
{
    if (need <= ec->scratch_cap)
        return 0;
    size_t cap = ec->scratch_cap == 0 ? 256 : ec->scratch_cap;
    while (cap < need)
        cap *= 2;
    /* the core leaves sodium_init to the first secret allocation: a
       built-in provider's own sodium_malloc needs it too (once: cheap) */
    unsigned char *p = sodium_init() < 0 ? NULL : sodium_malloc(cap);
    if (p == NULL)
        return -1;
    sodium_free(ec->scratch);
    ec->scratch = p;
    ec->scratch_cap = cap;
    return 0;
}

static int enc_visit(void *ctx, const struct ei_ejson_node *node,
                     struct ei_error *err)
{
    struct enc_ctx *ec = ctx;
    if (node->type != EI_EJSON_STRING || !node->encryptable)
        return 0;
    const char *raw = node->walk->buf + node->start;
    size_t raw_len = node->end - node->start;
    size_t plain_len;
    if (enc_scratch(ec, ei_ejson_unquote_max(raw_len)) != 0) {
        ei_parse_error(err, EI_NOMEM, ec->what, "out of memory");
        return -1;
    }
    /* the walk validated the string already */
    if (ei_ejson_unquote(raw, raw_len, true, (char *)ec->scratch,
                         ec->scratch_cap, &plain_len) != 0) {
        ei_parse_error(err, EI_INTERNAL, ec->what, "string decoding failed");
        return -1;
    }
    if (ei_ejson_token_shape((const char *)ec->scratch, plain_len)) {
        sodium_memzero(ec->scratch, plain_len);
        return 0;
    }
    if (ec->n == ec->cap) {
        size_t cap = ec->cap == 0 ? 8 : ec->cap * 2;
        struct enc_edit *e = realloc(ec->edits, cap * sizeof(*e));
        if (e == NULL)
            goto nomem;
        ec->edits = e;
        ec->cap = cap;
    }
    struct enc_edit *e = &ec->edits[ec->n];
    memset(e, 0, sizeof(*e));
    e->start = node->start;
    e->end = node->end;
    e->token_len = ei_ejson_token_len(plain_len);
    e->token = malloc(e->token_len + 1);
    e->path = malloc(EI_EJSON_PATH_MAX);
    if (e->token == NULL || e->path == NULL) {
        free(e->token);
        free(e->path);
        goto nomem;
    }
    ei_ejson_path(node, e->path, EI_EJSON_PATH_MAX);
    if (ei_ejson_seal(ec->sealer, ec->scratch, plain_len, NULL, e->token,
                      e->token_len + 1) != 0) {
        free(e->token);
        free(e->path);
        goto nomem;
    }
    ec->n++;
    sodium_memzero(ec->scratch, plain_len);
    return 0;
nomem:
    sodium_memzero(ec->scratch, plain_len);
    ei_parse_error(err, EI_NOMEM, ec->what, "out of memory");
    return -1;
}

static void enc_free(struct enc_ctx *ec)
{
    for (size_t i = 0; i < ec->n; i++) {
        free(ec->edits[i].token);
        free(ec->edits[i].path);
    }
    free(ec->edits);
    sodium_free(ec->scratch);
}

enum ei_status ei_ejson_encrypt(const char *in, size_t in_len, const char *what,
                                const struct ei_ejson_sealer *s,
                                struct ei_ejson_result *res,
                                struct ei_error *err)
{
    memset(res, 0, sizeof(*res));
    struct enc_ctx ec;
    memset(&ec, 0, sizeof(ec));
    ec.sealer = s;
    ec.what = what;
    enum ei_status st = ei_ejson_walk(in, in_len, EI_EJSON_MULTILINE, what,
                                      enc_visit, &ec, err);
    if (st != EI_OK) {
        enc_free(&ec);
        return st;
    }
    /* gaps between replaced strings start and end outside any string, so
       the collapse scanner can run on each gap on its own */
    size_t total = 0, at = 0;
    for (size_t i = 0; i < ec.n; i++) {
        total += ei_ejson_collapse(in + at, ec.edits[i].start - at, NULL);
        total += ec.edits[i].token_len + 2;
        at = ec.edits[i].end;
    }
    total += ei_ejson_collapse(in + at, in_len - at, NULL);
    res->data = malloc(total + 1);
    res->paths = calloc(ec.n + 1, sizeof(char *));
    if (res->data == NULL || res->paths == NULL) {
        free(res->data);
        free(res->paths);
        memset(res, 0, sizeof(*res));
        enc_free(&ec);
        return ei_parse_error(err, EI_NOMEM, what, "out of memory");
    }
    size_t w = 0;
    at = 0;
    for (size_t i = 0; i < ec.n; i++) {
        struct enc_edit *e = &ec.edits[i];
        w += ei_ejson_collapse(in + at, e->start - at, res->data + w);
        res->data[w++] = '"';
        memcpy(res->data + w, e->token, e->token_len);
        w += e->token_len;
        res->data[w++] = '"';
        at = e->end;
        res->paths[i] = e->path;
        e->path = NULL;
    }
    w += ei_ejson_collapse(in + at, in_len - at, res->data + w);
    res->data[w] = '\0';
    res->len = w;
    res->paths_n = ec.n;
    res->changed = ec.n > 0 || w != in_len;
    enc_free(&ec);
    return EI_OK;
}

void ei_ejson_result_fini(struct ei_ejson_result *res)
{
    if (res == NULL)
        return;
    if (res->data != NULL) {
        /* the untouched parts may hold values that were never encrypted */
        sodium_memzero(res->data, res->len);
        free(res->data);
    }
    for (size_t i = 0; i < res->paths_n; i++)
        free(res->paths[i]);
    free(res->paths);
    memset(res, 0, sizeof(*res));
}
