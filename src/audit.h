/* SPDX-License-Identifier: MIT */
/* The audit record (issue 19): a key of its own, read as the cache's is,
   and keyed hashes of the values, so that two records can say "same
   value" or "different value" without revealing either. */
#ifndef EI_AUDIT_H
#define EI_AUDIT_H

#include <stddef.h>

#include "envinject/provider.h"

#define EI_AUDIT_KEY_ENV "ENVINJECT_AUDIT_KEY"
#define EI_AUDIT_HASH_HEX 65 /* 64 hex digits + NUL */
#define EI_AUDIT_ID_HEX 17   /* 16 hex digits + NUL */

struct ei_audit_key; /* sodium_malloc'd subkeys */

/*
 * The audit key: $ENVINJECT_AUDIT_KEY of envp when it is set (the variable
 * wins), else key_file (NULL: none), read by ei_master_key_read("audit",
 * ...): 78 when neither is given or the text is not 64 hex digits, 77 with
 * the chmod when the file is readable by others.  where locates the
 * configuration's audit group for the message.  NULL with err on failure.
 */
struct ei_audit_key *ei_audit_key_read(const char *key_file, const char *where,
                                       const char *const *envp,
                                       struct ei_error *err);
void ei_audit_key_free(struct ei_audit_key *k);

/* The key's id: 8 bytes of BLAKE2b keyed with subkey 2, over "envinject
   audit key id", as 16 hex digits. */
void ei_audit_key_id(const struct ei_audit_key *k, char out[EI_AUDIT_ID_HEX]);

/* A value's hash: BLAKE2b-256 keyed with subkey 1 (crypto_kdf context
   "eiaudit1"), over name, one NUL byte and value (len bytes), as 64 hex
   digits. */
void ei_audit_value_hash(const struct ei_audit_key *k, const char *name,
                         const char *value, size_t len,
                         char out[EI_AUDIT_HASH_HEX]);

#endif
