/* SPDX-License-Identifier: MIT */
/* libcrypto (OpenSSL 3) for what libsodium lacks: secp256k1, HKDF and
   AES-GCM with 16-byte nonces (ecies.c), SHA-1 (sha1.c).  One table of
   the functions they call, filled on first use: by dlopen where the build
   can load libraries, with the linked functions under --disable-dlopen. */
#ifndef EI_PROVIDERS_LIBCRYPTO_H
#define EI_PROVIDERS_LIBCRYPTO_H

#include <stddef.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

/*
 * Only the calls of OpenSSL 3 that are not deprecated: EC_POINT_mul and
 * the octet conversions do the curve without the EC_KEY interface, which
 * would give the x coordinate of the shared point only, where eciesjs
 * hashes the whole point.
 */
#define EI_CRYPTO_API(X)                                                       \
    X(EC_GROUP *, EC_GROUP_new_by_curve_name, (int))                           \
    X(void, EC_GROUP_free, (EC_GROUP *))                                       \
    X(const BIGNUM *, EC_GROUP_get0_order, (const EC_GROUP *))                 \
    X(EC_POINT *, EC_POINT_new, (const EC_GROUP *))                            \
    X(void, EC_POINT_clear_free, (EC_POINT *))                                 \
    X(int, EC_POINT_oct2point,                                                 \
      (const EC_GROUP *, EC_POINT *, const unsigned char *, size_t, BN_CTX *)) \
    X(size_t, EC_POINT_point2oct,                                              \
      (const EC_GROUP *, const EC_POINT *, point_conversion_form_t,            \
       unsigned char *, size_t, BN_CTX *))                                     \
    X(int, EC_POINT_mul,                                                       \
      (const EC_GROUP *, EC_POINT *, const BIGNUM *, const EC_POINT *,         \
       const BIGNUM *, BN_CTX *))                                              \
    X(int, EC_POINT_is_on_curve,                                               \
      (const EC_GROUP *, const EC_POINT *, BN_CTX *))                          \
    X(int, EC_POINT_is_at_infinity, (const EC_GROUP *, const EC_POINT *))      \
    X(BN_CTX *, BN_CTX_new, (void))                                            \
    X(void, BN_CTX_free, (BN_CTX *))                                           \
    X(BIGNUM *, BN_bin2bn, (const unsigned char *, int, BIGNUM *))             \
    X(void, BN_clear_free, (BIGNUM *))                                         \
    X(int, BN_is_zero, (const BIGNUM *))                                       \
    X(int, BN_cmp, (const BIGNUM *, const BIGNUM *))                           \
    X(EVP_KDF *, EVP_KDF_fetch, (OSSL_LIB_CTX *, const char *, const char *))  \
    X(void, EVP_KDF_free, (EVP_KDF *))                                         \
    X(EVP_KDF_CTX *, EVP_KDF_CTX_new, (EVP_KDF *))                             \
    X(void, EVP_KDF_CTX_free, (EVP_KDF_CTX *))                                 \
    X(int, EVP_KDF_derive,                                                     \
      (EVP_KDF_CTX *, unsigned char *, size_t, const OSSL_PARAM *))            \
    X(OSSL_PARAM, OSSL_PARAM_construct_utf8_string,                            \
      (const char *, char *, size_t))                                          \
    X(OSSL_PARAM, OSSL_PARAM_construct_octet_string,                           \
      (const char *, void *, size_t))                                          \
    X(OSSL_PARAM, OSSL_PARAM_construct_end, (void))                            \
    X(EVP_CIPHER *, EVP_CIPHER_fetch,                                          \
      (OSSL_LIB_CTX *, const char *, const char *))                            \
    X(void, EVP_CIPHER_free, (EVP_CIPHER *))                                   \
    X(EVP_CIPHER_CTX *, EVP_CIPHER_CTX_new, (void))                            \
    X(void, EVP_CIPHER_CTX_free, (EVP_CIPHER_CTX *))                           \
    X(int, EVP_CIPHER_CTX_ctrl, (EVP_CIPHER_CTX *, int, int, void *))          \
    X(int, EVP_CipherInit_ex,                                                  \
      (EVP_CIPHER_CTX *, const EVP_CIPHER *, ENGINE *, const unsigned char *,  \
       const unsigned char *, int))                                            \
    X(int, EVP_CipherUpdate,                                                   \
      (EVP_CIPHER_CTX *, unsigned char *, int *, const unsigned char *, int))  \
    X(int, EVP_CipherFinal_ex, (EVP_CIPHER_CTX *, unsigned char *, int *))     \
    X(EVP_MD *, EVP_MD_fetch, (OSSL_LIB_CTX *, const char *, const char *))    \
    X(void, EVP_MD_free, (EVP_MD *))                                           \
    X(EVP_MD_CTX *, EVP_MD_CTX_new, (void))                                    \
    X(void, EVP_MD_CTX_free, (EVP_MD_CTX *))                                   \
    X(int, EVP_DigestInit_ex, (EVP_MD_CTX *, const EVP_MD *, ENGINE *))        \
    X(int, EVP_DigestUpdate, (EVP_MD_CTX *, const void *, size_t))             \
    X(int, EVP_DigestFinal_ex, (EVP_MD_CTX *, unsigned char *, unsigned int *))

#define EI_CRYPTO_MEMBER(ret, name, args) ret(*name) args;
struct ei_crypto {
    EI_CRYPTO_API(EI_CRYPTO_MEMBER)
};
#undef EI_CRYPTO_MEMBER

/*
 * The table, libcrypto.so.3 loaded the first time (thread-safe; never
 * unloaded: the process execs or exits after the resolution).  NULL with
 * why filled (why_len bytes) when it cannot be loaded or lacks one of the
 * functions; every later call gives the same answer.
 */
const struct ei_crypto *ei_crypto_get(char *why, size_t why_len);

#endif
