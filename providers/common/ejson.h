/* SPDX-License-Identifier: MIT */
/* The ejson file format (Shopify ejson 1.x): tokens, keys, the streaming
   JSON walk with ejson's encryptability rule, and the in-place encryption
   rewrite; shared by the sealed provider and the seal commands. */
#ifndef EI_PROVIDERS_EJSON_H
#define EI_PROVIDERS_EJSON_H

#include <stdbool.h>
#include <stddef.h>

#include <envinject/provider.h>

#define EI_EJSON_KEY_LEN     32 /* Curve25519 public and private keys */
#define EI_EJSON_KEY_HEX_LEN 64
#define EI_EJSON_NONCE_LEN   24
#define EI_EJSON_MAC_LEN     16
#define EI_EJSON_MAX_DEPTH   512 /* objects and arrays nested deeper: refused */
#define EI_EJSON_PATH_MAX    160 /* JSON paths in messages, NUL included */

/*
 * Parse a key written as 64 hex digits (either case) into key.  With trim,
 * surrounding ASCII white space is ignored first (key files end in a
 * newline).  Returns 0, or -1 (key untouched) when s is not exactly 64 hex
 * digits.  s and key may hold secrets: nothing is copied elsewhere.
 */
int ei_ejson_key_from_hex(const char *s, size_t len, bool trim,
                          unsigned char key[EI_EJSON_KEY_LEN]);

/* Write key as 64 lower-case hex digits and a NUL. */
void ei_ejson_key_to_hex(const unsigned char key[EI_EJSON_KEY_LEN],
                         char hex[EI_EJSON_KEY_HEX_LEN + 1]);

/*
 * Whether s (a JSON-decoded string) has ejson's token shape, anchored:
 * "EJ[" DIGIT ":" 44 of [A-Za-z0-9+=/] ":" 32 of the same ":" one or more
 * bytes but LF "]".  This is ejson's own test, which decides what encrypt
 * leaves alone; it does not check the version or the base64.
 */
bool ei_ejson_token_shape(const char *s, size_t len);

/* Why a string is not a usable token, or why it did not decrypt. */
enum ei_ejson_tok {
    EI_EJSON_TOK_OK = 0,
    EI_EJSON_TOK_PLAIN,   /* does not even start with "EJ[" */
    EI_EJSON_TOK_SHAPE,   /* starts with "EJ[" but has not the token shape */
    EI_EJSON_TOK_VERSION, /* schema version other than 1 */
    EI_EJSON_TOK_PUBKEY,  /* encrypter key: bad base64 or not 32 bytes */
    EI_EJSON_TOK_NONCE,   /* nonce: bad base64 or not 24 bytes */
    EI_EJSON_TOK_BOX,     /* box: bad base64 or shorter than the MAC */
    EI_EJSON_TOK_NOMEM,
    EI_EJSON_TOK_TOOSMALL, /* out_cap below ei_ejson_plain_max */
    EI_EJSON_TOK_DECRYPT   /* authentication failed: wrong key or altered */
};

/* A short lowercase description of a result ("bad nonce"). */
const char *ei_ejson_tok_text(enum ei_ejson_tok r);

/*
 * A parsed token.  box is malloc'd (ciphertext, not secret); release it
 * with ei_ejson_token_fini.
 */
struct ei_ejson_token {
    unsigned char pk[EI_EJSON_KEY_LEN]; /* the encrypter's public key */
    unsigned char nonce[EI_EJSON_NONCE_LEN];
    unsigned char *box; /* MAC then ciphertext */
    size_t box_len;     /* at least EI_EJSON_MAC_LEN */
};

/*
 * Parse s (len bytes, JSON-decoded) with envinject's strict reading of
 * ejson's grammar: the shape above with version 1, and standard padded
 * base64 (no stray padding, no non-zero trailing bits) giving 32, 24 and
 * at least 16 bytes.  On EI_EJSON_TOK_OK tok is filled; otherwise tok is
 * zeroed.
 */
enum ei_ejson_tok ei_ejson_token_parse(const char *s, size_t len,
                                       struct ei_ejson_token *tok);
void ei_ejson_token_fini(struct ei_ejson_token *tok);

/* An upper bound of the plaintext length of a token of token_len bytes,
   plus one for the NUL ei_ejson_decrypt appends. */
size_t ei_ejson_plain_max(size_t token_len);

/*
 * Decrypt the token s with the recipient's private key sk into out
 * (out_cap >= ei_ejson_plain_max(len)); *out_len gets the plaintext length
 * and out[*out_len] a NUL.  The caller owns out (secret memory) and wipes
 * it.  On failure out is wiped and *out_len is 0.  Thread-safe.
 */
enum ei_ejson_tok ei_ejson_decrypt(const char *s, size_t len,
                                   const unsigned char sk[EI_EJSON_KEY_LEN],
                                   unsigned char *out, size_t out_cap,
                                   size_t *out_len);

/*
 * One encryption run: an ephemeral key pair shared by every value sealed
 * with it, as ejson does per file and run.  Only the precomputed shared
 * key is kept; the ephemeral private key is wiped inside
 * ei_ejson_sealer_init.  Keep the struct in secret memory and call
 * ei_ejson_sealer_wipe when done.
 */
struct ei_ejson_sealer {
    unsigned char eph_pk[EI_EJSON_KEY_LEN];
    unsigned char shared[EI_EJSON_KEY_LEN]; /* crypto_box_beforenm */
};

/*
 * Start a run for the recipient public key.  eph_sk NULL draws a fresh
 * ephemeral key pair (the normal case); tests pass a fixed one.  Returns 0,
 * or -1 when the recipient key is a low-order point (unusable).
 */
int ei_ejson_sealer_init(struct ei_ejson_sealer *s,
                         const unsigned char recipient[EI_EJSON_KEY_LEN],
                         const unsigned char *eph_sk);
void ei_ejson_sealer_wipe(struct ei_ejson_sealer *s);

/* The length of the token for a plaintext of plain_len bytes, NUL not
   included. */
size_t ei_ejson_token_len(size_t plain_len);

/*
 * Encrypt m (mlen bytes) into out as "EJ[1:P:N:B]" plus a NUL; out_cap must
 * be at least ei_ejson_token_len(mlen) + 1.  nonce NULL draws a fresh one
 * (the normal case).  Returns 0, or -1 when out_cap is too small or memory
 * ran out.
 */
int ei_ejson_seal(const struct ei_ejson_sealer *s, const unsigned char *m,
                  size_t mlen, const unsigned char *nonce, char *out,
                  size_t out_cap);

/*
 * Decode the JSON string token raw (raw_len bytes, quotes included) the way
 * Go's encoding/json does, which is what ejson encrypts: escapes resolved,
 * a valid surrogate pair combined, a lone surrogate and every byte of
 * invalid UTF-8 replaced by U+FFFD.  With multiline, raw LF and CR inside
 * the string stand for themselves (ejson encrypt's pre-pass).  out_cap must
 * be at least ei_ejson_unquote_max(raw_len); a NUL is appended.  Returns
 * 0, or -1 when raw is not a valid string token.
 */
size_t ei_ejson_unquote_max(size_t raw_len);
int ei_ejson_unquote(const char *raw, size_t raw_len, bool multiline, char *out,
                     size_t out_cap, size_t *out_len);

/*
 * Quote s as a JSON string the way ejson main writes decrypted text: '"',
 * '\\', LF, CR and TAB as \" \\ \n \r \t, other bytes below 0x20 as
 * \u00xx, everything else raw.  Writes at most out_cap bytes (NUL
 * included) and returns the full length without the NUL, like snprintf.
 */
size_t ei_ejson_quote(const char *s, size_t len, char *out, size_t out_cap);

/* Whether s is well-formed UTF-8 (what Go would decode unchanged). */
bool ei_ejson_utf8_valid(const char *s, size_t len);

/* Kinds of JSON values. */
enum ei_ejson_type {
    EI_EJSON_OBJECT,
    EI_EJSON_ARRAY,
    EI_EJSON_STRING,
    EI_EJSON_NUMBER,
    EI_EJSON_TRUE,
    EI_EJSON_FALSE,
    EI_EJSON_NULL
};

/* Flags of ei_ejson_walk. */
#define EI_EJSON_MULTILINE 0x1u /* accept raw LF/CR inside strings */

struct ei_ejson_walk_state;

/*
 * One value met by the walk, reported when it is complete (an object or
 * array after its members).  The pointers index the walked buffer.
 */
struct ei_ejson_node {
    enum ei_ejson_type type;
    size_t start; /* offset of the first byte ('"', '{', '-', ...) */
    size_t end;   /* offset just past the last byte */
    size_t depth; /* 0 for the top-level object, 1 for its members */
    size_t index; /* position among the parent's members or elements */
    /* the member name token (quotes included) when the parent is an
       object; key_len is 0 for array elements and the top level */
    size_t key_start;
    size_t key_len;
    /*
     * A string that ejson encrypts: its governing key, the most recently
     * seen member name anywhere before it (not necessarily its parent's),
     * does not have '_' as the first raw byte after its quote.
     */
    bool encryptable;
    bool multiline; /* the string holds raw LF or CR (EI_EJSON_MULTILINE) */
    const struct ei_ejson_walk_state *walk;
};

/* Called for every value; returns 0 to go on, -1 to stop (err filled). */
typedef int (*ei_ejson_visit_fn)(void *ctx, const struct ei_ejson_node *node,
                                 struct ei_error *err);

/*
 * Walk the JSON document buf (len bytes, need not be NUL-terminated), which
 * must be one object, and call visit (may be NULL) for every value in
 * document order, children before their container.  what names the file
 * in error locators ("FILE:LINE").  Returns EI_OK, EI_BADDATA for
 * malformed JSON (the text gives line, column and the problem, never the
 * bytes), EI_NOMEM, or the status visit recorded.
 */
enum ei_status ei_ejson_walk(const char *buf, size_t len, unsigned flags,
                             const char *what, ei_ejson_visit_fn visit,
                             void *ctx, struct ei_error *err);

/*
 * The JSON path of node ("environment.DB_PASSWORD", "hosts[2].name"), for
 * messages: member names decoded, control characters shown as '?', cut
 * with "..." to fit out_len.  Valid only inside the visit call.
 */
void ei_ejson_path(const struct ei_ejson_node *node, char *out, size_t out_len);

/* Whether the member name token raw (quotes included) decodes to name. */
bool ei_ejson_key_is(const char *raw, size_t raw_len, const char *name);

/*
 * Find the top-level "_public_key" (the last one, as Go's decoder keeps)
 * and parse it.  Walks the whole document, so it also validates it.
 * Returns EI_OK, EI_BADDATA (malformed JSON, no _public_key, not 64 hex
 * digits), EI_NOMEM.
 */
enum ei_status ei_ejson_public_key(const char *buf, size_t len, unsigned flags,
                                   const char *what,
                                   unsigned char pk[EI_EJSON_KEY_LEN],
                                   struct ei_error *err);

/*
 * Copy buf to out with every raw LF and CR inside a string literal
 * replaced by \n and \r (ejson's multi-line pre-pass).  out NULL only
 * counts.  Returns the output length.  Strings are found with a quote and
 * backslash scanner, so buf should be JSON that ei_ejson_walk accepted
 * with EI_EJSON_MULTILINE.
 */
size_t ei_ejson_collapse(const char *buf, size_t len, char *out);

/* What ei_ejson_encrypt produced. */
struct ei_ejson_result {
    char *data; /* the new file, NUL-terminated; malloc'd */
    size_t len;
    char **paths; /* JSON paths of the values encrypted, in file order */
    size_t paths_n;
    bool changed; /* data differs from the input */
};

/*
 * ejson's encrypt of a whole file: every encryptable string that has not
 * the token shape is decoded and replaced by a token from s; raw LF/CR in
 * string literals become escapes; every other byte stays as it is.  in may
 * hold plaintext secrets; decoded plaintext only ever sits in sodium_malloc
 * memory.  Returns EI_OK with res filled (release with
 * ei_ejson_result_fini), EI_BADDATA for malformed JSON, EI_NOMEM.
 */
enum ei_status ei_ejson_encrypt(const char *in, size_t in_len, const char *what,
                                const struct ei_ejson_sealer *s,
                                struct ei_ejson_result *res,
                                struct ei_error *err);
void ei_ejson_result_fini(struct ei_ejson_result *res);

#endif
