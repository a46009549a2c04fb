/* SPDX-License-Identifier: MIT */
/* The audit record (audit.h): its key's subkeys and the values' keyed
   hashes. */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "audit.h"
#include "diag.h"
#include "masterkey.h"

/* the subkeys' context (crypto_kdf_CONTEXTBYTES characters) and ids */
#define KDF_CONTEXT  "eiaudit1"
#define SUBKEY_VALUE 1
#define SUBKEY_ID    2
#define KEY_ID_LEN   8
#define KEY_ID_TEXT  "envinject audit key id"

struct ei_audit_key {
    unsigned char value[crypto_generichash_KEYBYTES];
    unsigned char id[crypto_generichash_KEYBYTES];
};

struct ei_audit_key *ei_audit_key_read(const char *key_file, const char *where,
                                       const char *const *envp,
                                       struct ei_error *err)
{
    unsigned char *master = sodium_malloc(EI_MASTER_KEY_LEN);
    struct ei_audit_key *k = sodium_malloc(sizeof(*k));
    if (master == NULL || k == NULL) {
        ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory");
        goto fail;
    }
    if (ei_master_key_read("audit", EI_AUDIT_KEY_ENV, key_file, where, envp,
                           master, err) != 0)
        goto fail;
    /* one subkey per use: the id says nothing about the values' hashes */
    crypto_kdf_derive_from_key(k->value, sizeof(k->value), SUBKEY_VALUE,
                               KDF_CONTEXT, master);
    crypto_kdf_derive_from_key(k->id, sizeof(k->id), SUBKEY_ID, KDF_CONTEXT,
                               master);
    sodium_free(master);
    return k;
fail:
    if (master != NULL)
        sodium_free(master);
    if (k != NULL)
        sodium_free(k);
    return NULL;
}

void ei_audit_key_free(struct ei_audit_key *k)
{
    if (k != NULL)
        sodium_free(k);
}

void ei_audit_key_id(const struct ei_audit_key *k, char out[EI_AUDIT_ID_HEX])
{
    unsigned char id[KEY_ID_LEN];
    crypto_generichash(id, sizeof(id), (const unsigned char *)KEY_ID_TEXT,
                       strlen(KEY_ID_TEXT), k->id, sizeof(k->id));
    sodium_bin2hex(out, EI_AUDIT_ID_HEX, id, sizeof(id));
}

void ei_audit_value_hash(const struct ei_audit_key *k, const char *name,
                         const char *value, size_t len,
                         char out[EI_AUDIT_HASH_HEX])
{
    unsigned char h[32];
    crypto_generichash_state st;
    crypto_generichash_init(&st, k->value, sizeof(k->value), sizeof(h));
    crypto_generichash_update(&st, (const unsigned char *)name,
                              strlen(name) + 1); /* with its NUL */
    if (len > 0)
        crypto_generichash_update(&st, (const unsigned char *)value, len);
    crypto_generichash_final(&st, h, sizeof(h));
    sodium_memzero(&st, sizeof(st));
    sodium_bin2hex(out, EI_AUDIT_HASH_HEX, h, sizeof(h));
}
