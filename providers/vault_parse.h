/* SPDX-License-Identifier: MIT */
/* The parsers of the vault provider (providers/vault.c): Vault's replies
   and ref+vault:// references, exposed for unit tests and fuzzing. */
#ifndef EI_PROVIDERS_VAULT_PARSE_H
#define EI_PROVIDERS_VAULT_PARSE_H

#include <stddef.h>

#include <envinject/provider.h>
#include <jansson.h>

/* The longest token accepted from a login, and from a token file. */
#define EI_VAULT_TOKEN_MAX 4096
/* The longest secret path, and the longest field of a reference. */
#define EI_VAULT_PATH_MAX  1024
#define EI_VAULT_FIELD_MAX 1024

/* What an error reply says, as flags (ei_vault_parse_error). */
#define EI_VAULT_SAYS_SEALED        0x1u /* "Vault is sealed" */
#define EI_VAULT_SAYS_INVALID_TOKEN 0x2u /* "invalid token" */
#define EI_VAULT_SAYS_DELETED       0x4u /* KV v2: the version is deleted */
#define EI_VAULT_SAYS_DESTROYED     0x8u /* KV v2: the version is destroyed */
#define EI_VAULT_SAYS_KV2_PATH                                                 \
    0x10u /* a KV v2 mount read without data/ in the path */

/*
 * Classify the body of a reply with status >= 400: {"errors": [...]}, or a
 * KV v2 404 that carries data.metadata of a deleted or destroyed version.
 * Only fixed phrases are looked for; nothing of the body is ever shown.
 * A body that is not JSON gives 0.
 */
unsigned ei_vault_parse_error(const char *body, size_t len);

/*
 * Parse the reply of GET sys/internal/ui/mounts/PATH: data.path (the mount,
 * ending in '/') into mount (mount_len bytes, NUL-terminated) and the KV
 * version into *kv: 2 when data.options.version is "2", 1 when options or
 * version are absent, null, "" or "1".  what is the locator of errors.
 * EI_BADDATA for anything else (err says what), EI_NOMEM.
 */
enum ei_status ei_vault_parse_mount(const char *body, size_t len,
                                    const char *what, char *mount,
                                    size_t mount_len, int *kv,
                                    struct ei_error *err);

/*
 * Parse the 200 reply of a KV read: for kv 1 the fields are data, for kv 2
 * data.data, and *version is data.metadata.version (0 for kv 1 or when
 * absent).  *fields is a new reference to a JSON object (json_decref it).
 * EI_NOTFOUND when a KV v2 reply has data.data null (a deleted version),
 * EI_BADDATA for anything malformed, EI_NOMEM.
 */
enum ei_status ei_vault_parse_secret(const char *body, size_t len, int kv,
                                     const char *what, json_t **fields,
                                     long long *version, struct ei_error *err);

/*
 * Parse a login reply: auth.client_token is copied into token (token_cap
 * bytes, NUL-terminated; the caller's secret memory), its length into
 * *token_len, and auth.lease_duration into *ttl (seconds, 0 if absent).
 * The token must be 1 to token_cap - 1 printable ASCII characters, as it
 * goes into a header.  EI_BADDATA otherwise, EI_NOMEM.
 */
enum ei_status ei_vault_parse_login(const char *body, size_t len,
                                    const char *what, char *token,
                                    size_t token_cap, size_t *token_len,
                                    long long *ttl, struct ei_error *err);

/*
 * Check and normalise a secret path: leading and trailing '/' dropped; no
 * empty, "." or ".." segment, no control character, no '?', '#' or '%'.
 * Writes the result to out (out_len bytes).  0, or -1 with a reason in
 * *why (a static string).
 */
int ei_vault_path_norm(const char *path, size_t len, char *out, size_t out_len,
                       const char **why);

/*
 * Split a reference "ref+vault://PATH#FIELD" (or "#/FIELD", vals' form)
 * into the normalised path and the field (without the leading '/'; a
 * field may be "a/b" for member b of the object in field a).  Without
 * '#' the field is "": the whole secret (the core hands lookup the
 * reference without its fragment, and picks the fragment itself).
 * EI_BADDATA with err when the reference is malformed: another scheme, no
 * path, an empty field after '#', a query ("?..."), an empty segment in
 * the field.
 */
enum ei_status ei_vault_parse_ref(const char *ref, char *path, size_t path_len,
                                  char *field, size_t field_len,
                                  struct ei_error *err);

/*
 * Follow a field of a reference ("a" or "a/b/c") into the fields of a
 * secret; NULL when a member is missing or a step is not an object.
 */
json_t *ei_vault_field_get(json_t *fields, const char *field);

/* Receives the text of a field value; returns 0, or -1 with err filled. */
typedef int (*ei_vault_text_fn)(void *ctx, const char *text, size_t len,
                                struct ei_error *err);

/*
 * The text of a field value, handed to fn once: strings as they are,
 * numbers and booleans as ei_jsonflat_scalar writes them, null as the
 * empty string, objects and arrays as compact JSON text.  The text is
 * wiped after fn returns.  EI_BADDATA when the value nests deeper than
 * the flattener allows, EI_NOMEM, or err's status when fn failed.
 */
enum ei_status ei_vault_field_text(json_t *v, const char *what,
                                   ei_vault_text_fn fn, void *ctx,
                                   struct ei_error *err);

#endif
