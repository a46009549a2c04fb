/* SPDX-License-Identifier: MIT */
/* The parser of the consul provider (providers/consul.c): Consul's KV
   replies, exposed for unit tests and fuzzing. */
#ifndef EI_PROVIDERS_CONSUL_PARSE_H
#define EI_PROVIDERS_CONSUL_PARSE_H

#include <stddef.h>

#include <envinject/provider.h>

/*
 * One key of a reply.  key is the whole Consul key (for locators), name
 * the segments of the key below the prefix (empty segments dropped), value
 * the decoded bytes (value_len, NUL-terminated, no NUL inside; wiped after
 * the call), modify_index its ModifyIndex (0 when absent).  Returns 0 to
 * go on, -1 to stop with err filled.
 */
typedef int (*ei_consul_entry_fn)(void *ctx, const char *key,
                                  const char *const *name, size_t name_n,
                                  const char *value, size_t value_len,
                                  long long modify_index, struct ei_error *err);

/*
 * Parse the 200 reply of GET /v1/kv/PREFIX?recurse: a JSON array of
 * objects with Key (a string starting with prefix) and Value (standard
 * base64 with padding, or null for an empty value).  Folder keys (ending
 * in '/') and keys with nothing but '/' below the prefix are skipped.
 * fn is called once per other key, in the reply's order; *keys counts
 * them.  what is the locator of errors.  EI_BADDATA for malformed JSON, a
 * wrong shape, a key outside the prefix, bad base64 or a NUL in a value
 * (err names the key, never the value), EI_NOMEM, or err's status when fn
 * failed.  h gives safe_text, for the keys that errors name.
 */
enum ei_status ei_consul_parse_kv(const struct ei_host *h, const char *body,
                                  size_t len, const char *prefix,
                                  const char *what, ei_consul_entry_fn fn,
                                  void *ctx, size_t *keys,
                                  struct ei_error *err);

#endif
