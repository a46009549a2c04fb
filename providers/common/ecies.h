/* SPDX-License-Identifier: MIT */
/* ECIES on secp256k1 in the format of eciesjs, the one dotenvx writes:
   libcrypto (OpenSSL 3) does the curve, HKDF and AES-256-GCM. */
#ifndef EI_PROVIDERS_ECIES_H
#define EI_PROVIDERS_ECIES_H

#include <stddef.h>

/* A private key: a secp256k1 scalar, big-endian. */
#define EI_ECIES_KEY_LEN 32
/* A public key in compressed form (02/03 and x), as DOTENV_PUBLIC_KEY. */
#define EI_ECIES_PUB_LEN 33
/* An encrypted blob: ephemeral public key (uncompressed: 04, x, y), the
   16-byte nonce, the 16-byte GCM tag, then the ciphertext. */
#define EI_ECIES_POINT_LEN 65
#define EI_ECIES_NONCE_LEN 16
#define EI_ECIES_TAG_LEN   16
#define EI_ECIES_OVERHEAD                                                      \
    (EI_ECIES_POINT_LEN + EI_ECIES_NONCE_LEN + EI_ECIES_TAG_LEN)

enum ei_ecies_result {
    EI_ECIES_OK = 0,
    EI_ECIES_BADKEY,    /* the private key is 0 or not below the order */
    EI_ECIES_MALFORMED, /* too short, or the ephemeral key is no point */
    EI_ECIES_AUTH,      /* the tag does not match: wrong key or altered */
    EI_ECIES_FAILED     /* libcrypto failed (out of memory) */
};

struct ei_ecies;

/*
 * Load libcrypto (once per process, thread-safe) and set up the curve,
 * HKDF-SHA256 and AES-256-GCM.  NULL with why filled (why_len bytes) when
 * libcrypto cannot be loaded, lacks a function, or out of memory.  One
 * object per thread at a time.  Free with ei_ecies_free (NULL is fine).
 */
struct ei_ecies *ei_ecies_new(char *why, size_t why_len);
void ei_ecies_free(struct ei_ecies *e);

/*
 * Decrypt blob (blob_len bytes) with the private key sk into out, which
 * has room for blob_len - EI_ECIES_OVERHEAD bytes (*out_len gets that).
 * Keys and shared secrets are wiped before return; on failure out is
 * wiped too.
 */
enum ei_ecies_result ei_ecies_decrypt(struct ei_ecies *e,
                                      const unsigned char sk[EI_ECIES_KEY_LEN],
                                      const unsigned char *blob,
                                      size_t blob_len, unsigned char *out,
                                      size_t *out_len);

/* The compressed public key of sk. */
enum ei_ecies_result
ei_ecies_public_key(struct ei_ecies *e,
                    const unsigned char sk[EI_ECIES_KEY_LEN],
                    unsigned char pub[EI_ECIES_PUB_LEN]);

/*
 * Encrypt plain (plain_len bytes) to the public key pub (pub_len bytes,
 * compressed or uncompressed) with a fresh ephemeral key, as eciesjs
 * does: out has room for plain_len + EI_ECIES_OVERHEAD bytes.  For the
 * tests (values made at run time) and a writer to come.
 */
enum ei_ecies_result ei_ecies_encrypt(struct ei_ecies *e,
                                      const unsigned char *pub, size_t pub_len,
                                      const unsigned char *plain,
                                      size_t plain_len, unsigned char *out);

#endif
