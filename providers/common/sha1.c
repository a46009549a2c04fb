/* SPDX-License-Identifier: MIT */
/* SHA-1 and SHA-256 through libcrypto's EVP interface, libcrypto's
   functions from libcrypto.c. */
#include <stdio.h>
#include <stdlib.h>

#include "libcrypto.h"
#include "sha1.h"

struct ei_sha1 {
    const struct ei_crypto *api;
    EVP_MD *md;
    EVP_MD_CTX *ctx;
    unsigned int len; /* the digest's length */
};

static struct ei_sha1 *digest_new(const char *name, unsigned int len,
                                  char *why, size_t why_len)
{
    const struct ei_crypto *a = ei_crypto_get(why, why_len);
    if (a == NULL)
        return NULL;
    struct ei_sha1 *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    s->api = a;
    s->len = len;
    s->md = a->EVP_MD_fetch(NULL, name, NULL);
    s->ctx = a->EVP_MD_CTX_new();
    if (s->md == NULL || s->ctx == NULL) {
        snprintf(why, why_len, "libcrypto has no %s (or out of memory)", name);
        ei_sha1_free(s);
        return NULL;
    }
    return s;
}

struct ei_sha1 *ei_sha1_new(char *why, size_t why_len)
{
    return digest_new("SHA1", EI_SHA1_LEN, why, why_len);
}

struct ei_sha1 *ei_sha256_new(char *why, size_t why_len)
{
    return digest_new("SHA256", EI_SHA256_LEN, why, why_len);
}

void ei_sha1_free(struct ei_sha1 *s)
{
    if (s == NULL)
        return;
    if (s->ctx != NULL)
        s->api->EVP_MD_CTX_free(s->ctx);
    if (s->md != NULL)
        s->api->EVP_MD_free(s->md);
    free(s);
}

/* The digest (s->len bytes) of len bytes of in into out. */
static int digest(struct ei_sha1 *s, const void *in, size_t len,
                  unsigned char *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (s->api->EVP_DigestInit_ex(s->ctx, s->md, NULL) != 1 ||
        s->api->EVP_DigestUpdate(s->ctx, in, len) != 1 ||
        s->api->EVP_DigestFinal_ex(s->ctx, md, &md_len) != 1 ||
        md_len != s->len)
        return -1;
    for (size_t i = 0; i < s->len; i++)
        out[i] = md[i];
    return 0;
}

int ei_sha1_digest(struct ei_sha1 *s, const void *in, size_t len,
                   unsigned char out[EI_SHA1_LEN])
{
    return s->len == EI_SHA1_LEN ? digest(s, in, len, out) : -1;
}

int ei_sha256_digest(struct ei_sha1 *s, const void *in, size_t len,
                     unsigned char out[EI_SHA256_LEN])
{
    return s->len == EI_SHA256_LEN ? digest(s, in, len, out) : -1;
}
