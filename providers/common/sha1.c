/* SPDX-License-Identifier: MIT */
/* SHA-1 through libcrypto's EVP interface, libcrypto loaded on first use
   (as src/http.c loads libcurl) where dlopen is available. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>
#ifdef EI_HAVE_DLOPEN
#include <dlfcn.h>
#endif

#include "sha1.h"

/*
 * Linking libcrypto makes every start load and bind it (a few
 * milliseconds on a busy machine) although only some layers hash;
 * libcurl, which remote layers load anyway, brings the same library in,
 * so loading it here when asked costs nothing more.
 */
#define SHA1_API(X)                                                            \
    X(EVP_MD *, EVP_MD_fetch, (OSSL_LIB_CTX *, const char *, const char *))    \
    X(void, EVP_MD_free, (EVP_MD *))                                           \
    X(EVP_MD_CTX *, EVP_MD_CTX_new, (void))                                    \
    X(void, EVP_MD_CTX_free, (EVP_MD_CTX *))                                   \
    X(int, EVP_DigestInit_ex, (EVP_MD_CTX *, const EVP_MD *, ENGINE *))        \
    X(int, EVP_DigestUpdate, (EVP_MD_CTX *, const void *, size_t))             \
    X(int, EVP_DigestFinal_ex, (EVP_MD_CTX *, unsigned char *, unsigned int *))

#define API_MEMBER(ret, name, args) ret(*name) args;
struct sha1_api {
    SHA1_API(API_MEMBER)
};
#undef API_MEMBER

struct ei_sha1 {
    const struct sha1_api *api;
    EVP_MD *md;
    EVP_MD_CTX *ctx;
};

/* Process state in the style of src/http.c's: loaded once, never
   unloaded (the process execs or exits after the resolution). */
static struct sha1_api sha1_api;
static const char *sha1_error;
static pthread_once_t sha1_once = PTHREAD_ONCE_INIT;

static void sha1_load(void)
{
#ifdef EI_HAVE_DLOPEN
    void *h = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        sha1_error = "cannot load libcrypto.so.3: install the Debian "
                     "package libssl3";
        return;
    }
#define API_LOAD(ret, name, args)                                              \
    *(void **)&sha1_api.name = dlsym(h, #name);                                \
    if (sha1_api.name == NULL) {                                               \
        sha1_error = "libcrypto lacks " #name;                                 \
        return;                                                                \
    }
    SHA1_API(API_LOAD)
#undef API_LOAD
#else
#define API_LINK(ret, name, args) sha1_api.name = name;
    SHA1_API(API_LINK)
#undef API_LINK
#endif
}

struct ei_sha1 *ei_sha1_new(char *why, size_t why_len)
{
    pthread_once(&sha1_once, sha1_load);
    if (sha1_error != NULL) {
        snprintf(why, why_len, "%s", sha1_error);
        return NULL;
    }
    struct ei_sha1 *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    s->api = &sha1_api;
    s->md = sha1_api.EVP_MD_fetch(NULL, "SHA1", NULL);
    s->ctx = sha1_api.EVP_MD_CTX_new();
    if (s->md == NULL || s->ctx == NULL) {
        snprintf(why, why_len, "libcrypto has no SHA-1 (or out of memory)");
        ei_sha1_free(s);
        return NULL;
    }
    return s;
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

int ei_sha1_digest(struct ei_sha1 *s, const void *in, size_t len,
                   unsigned char out[EI_SHA1_LEN])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (s->api->EVP_DigestInit_ex(s->ctx, s->md, NULL) != 1 ||
        s->api->EVP_DigestUpdate(s->ctx, in, len) != 1 ||
        s->api->EVP_DigestFinal_ex(s->ctx, md, &md_len) != 1 ||
        md_len != EI_SHA1_LEN)
        return -1;
    for (size_t i = 0; i < EI_SHA1_LEN; i++)
        out[i] = md[i];
    return 0;
}
