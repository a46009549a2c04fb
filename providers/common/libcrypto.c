/* SPDX-License-Identifier: MIT */
/* The one loader of libcrypto (OpenSSL 3): see libcrypto.h. */
#include <pthread.h>
#include <stdio.h>

#ifdef EI_HAVE_DLOPEN
#include <dlfcn.h>
#endif

#include "libcrypto.h"

/*
 * Linking libcrypto makes every start load and bind it (a few
 * milliseconds on a busy machine) although only some layers decrypt or
 * hash; libcurl, which remote layers load anyway, brings the same library
 * in, so loading it here when asked costs nothing more (as src/http.c
 * loads libcurl).  Process state in the style of src/http.c's: filled
 * once, under pthread_once.
 */
static struct ei_crypto crypto;
static const char *crypto_error;
static pthread_once_t crypto_once = PTHREAD_ONCE_INIT;

static void crypto_load(void)
{
#ifdef EI_HAVE_DLOPEN
    void *h = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        crypto_error = "cannot load libcrypto.so.3 (OpenSSL 3): install the "
                       "Debian package libssl3";
        return;
    }
#define CRYPTO_LOAD(ret, name, args)                                           \
    *(void **)&crypto.name = dlsym(h, #name);                                  \
    if (crypto.name == NULL) {                                                 \
        crypto_error = "libcrypto.so.3 lacks " #name;                          \
        return;                                                                \
    }
    EI_CRYPTO_API(CRYPTO_LOAD)
#undef CRYPTO_LOAD
#else
#define CRYPTO_LINK(ret, name, args) crypto.name = name;
    EI_CRYPTO_API(CRYPTO_LINK)
#undef CRYPTO_LINK
#endif
}

const struct ei_crypto *ei_crypto_get(char *why, size_t why_len)
{
    pthread_once(&crypto_once, crypto_load);
    if (crypto_error != NULL) {
        snprintf(why, why_len, "%s", crypto_error);
        return NULL;
    }
    return &crypto;
}
