/* SPDX-License-Identifier: MIT */
/* dotenvx-encrypted dotenv files: "encrypted:BASE64" values decrypted with
   the key dotenvx names after the file (envinject-providers(7), file). */
#ifndef EI_PROVIDERS_DOTENVX_H
#define EI_PROVIDERS_DOTENVX_H

#include <stdbool.h>
#include <stddef.h>

#include <envinject/provider.h>

#include "ecies.h"
#include "emit.h"

#define EI_DOTENVX_PREFIX  "encrypted:"
#define EI_DOTENVX_PRIVATE "DOTENV_PRIVATE_KEY"
#define EI_DOTENVX_PUBLIC  "DOTENV_PUBLIC_KEY"
/* The keys one variable may list, separated by commas (as dotenvx). */
#define EI_DOTENVX_MAX_KEYS 16
/* The longest key variable name kept. */
#define EI_DOTENVX_NAME_MAX 128
/* The file beside the dotenv file that holds the private keys. */
#define EI_DOTENVX_KEYS_FILE ".env.keys"

/* Whether key is DOTENV_PUBLIC_KEY or DOTENV_PUBLIC_KEY_...: the file's
   public key, which is not passed on. */
bool ei_dotenvx_is_public_name(const char *key);

/*
 * The name of the private key of the file path, as dotenvx 2.x names it:
 * from public_name (the file's first DOTENV_PUBLIC_KEY... entry, may be
 * NULL) when there is one, else from the file's name: ".env" gives
 * DOTENV_PRIVATE_KEY, ".env.production" DOTENV_PRIVATE_KEY_PRODUCTION,
 * ".env.ci.local" DOTENV_PRIVATE_KEY_CI_LOCAL (two parts at most), ".env1"
 * DOTENV_PRIVATE_KEY_DEVELOPMENT1; case ignored, a final ".txt" dropped.
 * 0, or -1 when it does not fit in out.
 */
int ei_dotenvx_key_name(const char *path, const char *public_name, char *out,
                        size_t out_len);

/*
 * Private keys from text ("HEX[,HEX]...", 64 hex digits each) into keys
 * (EI_DOTENVX_MAX_KEYS rows).  The number of keys, or -1 when the text is
 * not such a list.
 */
int ei_dotenvx_parse_keys(const char *text, size_t len,
                          unsigned char (*keys)[EI_ECIES_KEY_LEN]);

enum ei_dotenvx_result {
    EI_DOTENVX_OK = 0,
    EI_DOTENVX_NOT_BASE64, /* after the prefix: not base64 */
    EI_DOTENVX_MALFORMED,  /* too short, or no curve point */
    EI_DOTENVX_WRONG_KEY,  /* no key opens it: wrong key or altered */
    EI_DOTENVX_BAD_KEY,    /* a key is out of the curve's range */
    EI_DOTENVX_NOMEM       /* or libcrypto failed */
};

/* The most bytes a value of value_len bytes decrypts to. */
size_t ei_dotenvx_plain_max(size_t value_len);

/*
 * Decrypt value ("encrypted:BASE64", value_len bytes) with the first of
 * keys[0..keys_n) that opens it, into out (ei_dotenvx_plain_max bytes);
 * *out_len gets the length.  out is wiped on failure.
 */
enum ei_dotenvx_result
ei_dotenvx_decrypt(struct ei_ecies *e,
                   const unsigned char (*keys)[EI_ECIES_KEY_LEN], size_t keys_n,
                   const char *value, size_t value_len, unsigned char *out,
                   size_t *out_len);

/*
 * Parse dotenv text (as ei_dotenv_parse) read from path (display in
 * locators) and call emit for each entry, with dotenvx's values handled:
 * DOTENV_PUBLIC_KEY... entries are left out, "encrypted:" values are
 * decrypted and emitted SECRET and LITERAL.  The key comes from the
 * process environment (h->env_get), else from .env.keys beside path;
 * *keys_file is set when that file was read.  EI_DENIED when no key, a
 * wrong key, or libcrypto missing; EI_BADDATA for a malformed value; or
 * what the parser or emit returned.  Nothing is emitted before every
 * encrypted value was checked to have a key.
 */
enum ei_status ei_dotenvx_parse(const struct ei_host *h, const char *path,
                                const char *display, const char *buf,
                                size_t len, ei_emit_fn emit, void *ctx,
                                bool *keys_file, struct ei_error *err);

#endif
