/* SPDX-License-Identifier: MIT */
/* ECIES as eciesjs 0.4 does it with its defaults (dotenvx's values):
   secp256k1, ephemeral key uncompressed, HKDF-SHA256 over (ephemeral key
   || shared point, both uncompressed) without salt or info, AES-256-GCM
   with a 16-byte nonce; libcrypto's functions from libcrypto.c. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/obj_mac.h>

#include <sodium.h>

#include "ecies.h"
#include "libcrypto.h"

/* The shared secret that HKDF reads: ephemeral key, then shared point. */
#define ECIES_IKM_LEN     (2 * EI_ECIES_POINT_LEN)
#define ECIES_AES_KEY_LEN 32

struct ei_ecies {
    const struct ei_crypto *api;
    EC_GROUP *group;
    BN_CTX *bn;
    EVP_KDF *kdf;
    EVP_CIPHER *gcm;
};

struct ei_ecies *ei_ecies_new(char *why, size_t why_len)
{
    const struct ei_crypto *a = ei_crypto_get(why, why_len);
    if (a == NULL)
        return NULL;
    struct ei_ecies *e = calloc(1, sizeof(*e));
    if (e == NULL) {
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    e->api = a;
    e->group = a->EC_GROUP_new_by_curve_name(NID_secp256k1);
    e->bn = a->BN_CTX_new();
    e->kdf = a->EVP_KDF_fetch(NULL, "HKDF", NULL);
    e->gcm = a->EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    if (e->group == NULL || e->bn == NULL || e->kdf == NULL || e->gcm == NULL) {
        snprintf(why, why_len,
                 "libcrypto has no secp256k1, HKDF or AES-256-GCM (or out "
                 "of memory)");
        ei_ecies_free(e);
        return NULL;
    }
    return e;
}

void ei_ecies_free(struct ei_ecies *e)
{
    if (e == NULL)
        return;
    const struct ei_crypto *a = e->api;
    if (e->gcm != NULL)
        a->EVP_CIPHER_free(e->gcm);
    if (e->kdf != NULL)
        a->EVP_KDF_free(e->kdf);
    if (e->bn != NULL)
        a->BN_CTX_free(e->bn);
    if (e->group != NULL)
        a->EC_GROUP_free(e->group);
    free(e);
}

/* The scalar of sk, or NULL (*res says why). */
static BIGNUM *ecies_scalar(struct ei_ecies *e, const unsigned char *sk,
                            enum ei_ecies_result *res)
{
    const struct ei_crypto *a = e->api;
    BIGNUM *k = a->BN_bin2bn(sk, EI_ECIES_KEY_LEN, NULL);
    if (k == NULL) {
        *res = EI_ECIES_FAILED;
        return NULL;
    }
    if (a->BN_is_zero(k) ||
        a->BN_cmp(k, a->EC_GROUP_get0_order(e->group)) >= 0) {
        a->BN_clear_free(k);
        *res = EI_ECIES_BADKEY;
        return NULL;
    }
    return k;
}

/* k times point (the generator when point is NULL), written in form. */
static enum ei_ecies_result ecies_mul(struct ei_ecies *e, const BIGNUM *k,
                                      const EC_POINT *point,
                                      point_conversion_form_t form,
                                      unsigned char *out, size_t out_len)
{
    const struct ei_crypto *a = e->api;
    EC_POINT *r = a->EC_POINT_new(e->group);
    if (r == NULL)
        return EI_ECIES_FAILED;
    int ok = point == NULL
                 ? a->EC_POINT_mul(e->group, r, k, NULL, NULL, e->bn)
                 : a->EC_POINT_mul(e->group, r, NULL, point, k, e->bn);
    ok = ok == 1 && !a->EC_POINT_is_at_infinity(e->group, r) &&
         a->EC_POINT_point2oct(e->group, r, form, out, out_len, e->bn) ==
             out_len;
    a->EC_POINT_clear_free(r);
    return ok ? EI_ECIES_OK : EI_ECIES_FAILED;
}

/* A point from its octets (either form), checked to be on the curve. */
static enum ei_ecies_result ecies_point(struct ei_ecies *e,
                                        const unsigned char *p, size_t len,
                                        EC_POINT **out)
{
    const struct ei_crypto *a = e->api;
    EC_POINT *pt = a->EC_POINT_new(e->group);
    if (pt == NULL)
        return EI_ECIES_FAILED;
    if (a->EC_POINT_oct2point(e->group, pt, p, len, e->bn) != 1 ||
        a->EC_POINT_is_on_curve(e->group, pt, e->bn) != 1 ||
        a->EC_POINT_is_at_infinity(e->group, pt)) {
        a->EC_POINT_clear_free(pt);
        return EI_ECIES_MALFORMED;
    }
    *out = pt;
    return EI_ECIES_OK;
}

/* The AES key: HKDF-SHA256(ephemeral || k * peer), no salt, no info. */
static enum ei_ecies_result
ecies_derive(struct ei_ecies *e, const BIGNUM *k, const EC_POINT *peer,
             const unsigned char ephemeral[EI_ECIES_POINT_LEN],
             unsigned char key[ECIES_AES_KEY_LEN])
{
    const struct ei_crypto *a = e->api;
    unsigned char ikm[ECIES_IKM_LEN];
    memcpy(ikm, ephemeral, EI_ECIES_POINT_LEN);
    enum ei_ecies_result res =
        ecies_mul(e, k, peer, POINT_CONVERSION_UNCOMPRESSED,
                  ikm + EI_ECIES_POINT_LEN, EI_ECIES_POINT_LEN);
    if (res == EI_ECIES_OK) {
        char digest[] = "SHA256";
        OSSL_PARAM params[] = {
            a->OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest,
                                                0),
            a->OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ikm,
                                                 sizeof(ikm)),
            a->OSSL_PARAM_construct_end(),
        };
        EVP_KDF_CTX *kctx = a->EVP_KDF_CTX_new(e->kdf);
        if (kctx == NULL ||
            a->EVP_KDF_derive(kctx, key, ECIES_AES_KEY_LEN, params) != 1)
            res = EI_ECIES_FAILED;
        if (kctx != NULL)
            a->EVP_KDF_CTX_free(kctx);
    }
    sodium_memzero(ikm, sizeof(ikm));
    return res;
}

/*
 * AES-256-GCM with a 16-byte nonce over in (len bytes) into out; enc 1
 * encrypts and writes the tag, 0 decrypts and checks it (EI_ECIES_AUTH
 * when it does not match).
 */
static enum ei_ecies_result
ecies_gcm(struct ei_ecies *e, int enc, const unsigned char *key,
          const unsigned char *nonce, unsigned char tag[EI_ECIES_TAG_LEN],
          const unsigned char *in, size_t len, unsigned char *out)
{
    const struct ei_crypto *a = e->api;
    if (len > INT_MAX)
        return EI_ECIES_FAILED;
    EVP_CIPHER_CTX *c = a->EVP_CIPHER_CTX_new();
    if (c == NULL)
        return EI_ECIES_FAILED;
    int n = 0, m = 0;
    enum ei_ecies_result res = EI_ECIES_FAILED;
    if (a->EVP_CipherInit_ex(c, e->gcm, NULL, NULL, NULL, enc) != 1 ||
        a->EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, EI_ECIES_NONCE_LEN,
                               NULL) != 1 ||
        a->EVP_CipherInit_ex(c, NULL, NULL, key, nonce, enc) != 1 ||
        (len > 0 && a->EVP_CipherUpdate(c, out, &n, in, (int)len) != 1))
        goto done;
    if (!enc && a->EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG,
                                       EI_ECIES_TAG_LEN, tag) != 1)
        goto done;
    if (a->EVP_CipherFinal_ex(c, out + n, &m) != 1) {
        res = enc ? EI_ECIES_FAILED : EI_ECIES_AUTH;
        goto done;
    }
    if (enc && a->EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, EI_ECIES_TAG_LEN,
                                      tag) != 1)
        goto done;
    res = (size_t)n + (size_t)m == len ? EI_ECIES_OK : EI_ECIES_FAILED;
done:
    a->EVP_CIPHER_CTX_free(c);
    return res;
}

enum ei_ecies_result ei_ecies_decrypt(struct ei_ecies *e,
                                      const unsigned char sk[EI_ECIES_KEY_LEN],
                                      const unsigned char *blob,
                                      size_t blob_len, unsigned char *out,
                                      size_t *out_len)
{
    *out_len = 0;
    /* eciesjs reads the ephemeral key as uncompressed: 65 bytes, 04 first */
    if (blob_len < EI_ECIES_OVERHEAD || blob[0] != 0x04)
        return EI_ECIES_MALFORMED;
    const struct ei_crypto *a = e->api;
    enum ei_ecies_result res;
    BIGNUM *k = ecies_scalar(e, sk, &res);
    if (k == NULL)
        return res;
    EC_POINT *eph = NULL;
    res = ecies_point(e, blob, EI_ECIES_POINT_LEN, &eph);
    unsigned char key[ECIES_AES_KEY_LEN];
    if (res == EI_ECIES_OK)
        res = ecies_derive(e, k, eph, blob, key);
    if (eph != NULL)
        a->EC_POINT_clear_free(eph);
    a->BN_clear_free(k);
    if (res != EI_ECIES_OK) {
        sodium_memzero(key, sizeof(key)); /* a derivation may stop half-way */
        return res;
    }

    const unsigned char *nonce = blob + EI_ECIES_POINT_LEN;
    unsigned char tag[EI_ECIES_TAG_LEN];
    memcpy(tag, nonce + EI_ECIES_NONCE_LEN, EI_ECIES_TAG_LEN);
    size_t len = blob_len - EI_ECIES_OVERHEAD;
    res = ecies_gcm(e, 0, key, nonce, tag, blob + EI_ECIES_OVERHEAD, len, out);
    sodium_memzero(key, sizeof(key));
    if (res != EI_ECIES_OK) {
        sodium_memzero(out, len);
        return res;
    }
    *out_len = len;
    return EI_ECIES_OK;
}

enum ei_ecies_result
ei_ecies_public_key(struct ei_ecies *e,
                    const unsigned char sk[EI_ECIES_KEY_LEN],
                    unsigned char pub[EI_ECIES_PUB_LEN])
{
    enum ei_ecies_result res;
    BIGNUM *k = ecies_scalar(e, sk, &res);
    if (k == NULL)
        return res;
    res = ecies_mul(e, k, NULL, POINT_CONVERSION_COMPRESSED, pub,
                    EI_ECIES_PUB_LEN);
    e->api->BN_clear_free(k);
    return res;
}

enum ei_ecies_result ei_ecies_encrypt(struct ei_ecies *e,
                                      const unsigned char *pub, size_t pub_len,
                                      const unsigned char *plain,
                                      size_t plain_len, unsigned char *out)
{
    const struct ei_crypto *a = e->api;
    EC_POINT *peer = NULL;
    enum ei_ecies_result res = ecies_point(e, pub, pub_len, &peer);
    if (res != EI_ECIES_OK)
        return res;
    unsigned char esk[EI_ECIES_KEY_LEN];
    BIGNUM *k = NULL;
    do {
        randombytes_buf(esk, sizeof(esk));
        k = ecies_scalar(e, esk, &res);
    } while (k == NULL && res == EI_ECIES_BADKEY);
    sodium_memzero(esk, sizeof(esk));
    unsigned char key[ECIES_AES_KEY_LEN];
    if (k != NULL) {
        res = ecies_mul(e, k, NULL, POINT_CONVERSION_UNCOMPRESSED, out,
                        EI_ECIES_POINT_LEN);
        if (res == EI_ECIES_OK)
            res = ecies_derive(e, k, peer, out, key);
        a->BN_clear_free(k);
    }
    a->EC_POINT_clear_free(peer);
    if (res != EI_ECIES_OK)
        return res;
    unsigned char *nonce = out + EI_ECIES_POINT_LEN;
    randombytes_buf(nonce, EI_ECIES_NONCE_LEN);
    res = ecies_gcm(e, 1, key, nonce, nonce + EI_ECIES_NONCE_LEN, plain,
                    plain_len, out + EI_ECIES_OVERHEAD);
    sodium_memzero(key, sizeof(key));
    return res;
}
