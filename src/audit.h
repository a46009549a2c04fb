/* SPDX-License-Identifier: MIT */
/* The audit record (issue 19): a key of its own, read as the cache's is,
   and keyed hashes of the values, so that two records can say "same
   value" or "different value" without revealing either. */
#ifndef EI_AUDIT_H
#define EI_AUDIT_H

#include <stdbool.h>
#include <stddef.h>

#include "envinject/provider.h"

#define EI_AUDIT_KEY_ENV  "ENVINJECT_AUDIT_KEY"
#define EI_AUDIT_HASH_HEX 65 /* 64 hex digits + NUL */
#define EI_AUDIT_ID_HEX   17 /* 16 hex digits + NUL */

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

/* ---- the record ---- */

struct ei_config;
struct ei_resolution;

/* Where the records of one run go, and their key. */
struct ei_audit;

/*
 * The audit of cfg: path (run --audit) wins over the group's path; the key
 * from $ENVINJECT_AUDIT_KEY of envp or the group's key_file.  need_path
 * (run): *out stays NULL when neither path nor the group is given (no
 * audit), and a group without a path is an error (78); print --format
 * audit passes false and needs only the key.  No file is opened here.
 * 0, or -1 with err (the key's: 78, 77 with the chmod, 66).
 */
int ei_audit_open(const struct ei_config *cfg, const char *path, bool need_path,
                  const char *const *envp, struct ei_audit **out,
                  struct ei_error *err);
void ei_audit_free(struct ei_audit *a);

/*
 * The record of resolution r as one JSON line with its "\n" (malloc'd,
 * free with free(); it holds no value): time, environment, host, program
 * (NULL: null), the configuration's SHA-256, the key's id, every layer
 * with its provider and revision, and every key of r that the program
 * gets (sorted, less those of unset, NULL-terminated or NULL) with its
 * layer and keyed hash.  NULL with err when out of memory.
 */
char *ei_audit_record(const struct ei_audit *a, const struct ei_resolution *r,
                      const char *program, const char *const *unset,
                      struct ei_error *err);

/*
 * Append line (as ei_audit_record made it) to the audit file in one
 * write(2), the file opened O_APPEND|O_CREAT with mode 0600.  0 when
 * written; when it cannot be, -1 with err (EI_CANTCREAT: exit 73), or, when
 * the group says required = false, a warning and 1.  restart: the line is
 * a watch's restart (what the message says is not done).  A file whose
 * last line has no newline (a write cut short) gets one first, in the
 * same write.
 */
int ei_audit_append(const struct ei_audit *a, const char *line, bool restart,
                    struct ei_error *err);

#endif
