/* SPDX-License-Identifier: MIT */
/* SHA-1 from libcrypto (OpenSSL 3), loaded on first use where the build
   can load libraries: every envinject start would otherwise pay for
   libcrypto's loading, while few configurations need it. */
#ifndef EI_PROVIDERS_SHA1_H
#define EI_PROVIDERS_SHA1_H

#include <stddef.h>

#define EI_SHA1_LEN   20
#define EI_SHA256_LEN 32

struct ei_sha1;

/*
 * A SHA-1 hasher: loads libcrypto the first time (thread-safe), fetches
 * the digest once.  NULL with why filled (why_len bytes) when libcrypto
 * cannot be loaded or has no SHA-1.  Free with ei_sha1_free (NULL is
 * fine).
 */
struct ei_sha1 *ei_sha1_new(char *why, size_t why_len);
void ei_sha1_free(struct ei_sha1 *s);

/* The digest of len bytes of in into out: 0, or -1 when libcrypto failed. */
int ei_sha1_digest(struct ei_sha1 *s, const void *in, size_t len,
                   unsigned char out[EI_SHA1_LEN]);

/*
 * The same for SHA-256: libcrypto's, several times faster than libsodium's
 * portable code where the processor has SHA instructions (2 MB: 1.1 ms
 * against 7.4 ms here), for the provider that loads libcrypto anyway.  An
 * ei_sha256_new hasher, freed with ei_sha1_free.
 */
struct ei_sha1 *ei_sha256_new(char *why, size_t why_len);
int ei_sha256_digest(struct ei_sha1 *s, const void *in, size_t len,
                     unsigned char out[EI_SHA256_LEN]);

#endif
