/* SPDX-License-Identifier: MIT */
/* A fast scanner for the canonical shape of the etcd v3 JSON gateway's range
   response, tried before jansson by the etcd provider; libc only, no state. */
#ifndef ETCD_JSON_H
#define ETCD_JSON_H

#include <stdbool.h>
#include <stddef.h>

/*
 * One KeyValue.  key and value are the base64 texts between the quotes,
 * pointing into the body given to etcd_json_scan and valid as long as it
 * is; they hold only [A-Za-z0-9+/=], so they are exactly what jansson's
 * json_string_value would return.  key is never NULL and key_len never 0;
 * value is NULL when the member is absent or null, and a pointer with
 * value_len 0 when it is "".
 */
struct etcd_json_kv {
    const char *key;
    size_t key_len;
    const char *value;
    size_t value_len;
    long long mod_revision; /* 0 when absent */
};

/*
 * What a range response says.  Start from {0}; kvs is grown with realloc
 * by the scanner and may be reused by later calls, and the caller frees it
 * (also after a call that returned 0 or -1).  cap counts the slots of kvs.
 */
struct etcd_json_page {
    long long revision; /* header.revision; 0 when absent */
    bool more;          /* false when absent or null */
    size_t n;           /* KeyValues found */
    struct etcd_json_kv *kvs;
    size_t cap;
};

/*
 * etcd_json_scan - reads the len bytes at body (no NUL terminator needed,
 * nothing past len is read) as a range response of the shape etcd's
 * gateway writes: an object of header, kvs, more and count, KeyValues of
 * key, create_revision, mod_revision, version, value and lease, every
 * member at most once, strings without escapes, key and value of base64
 * bytes, 64-bit numbers as strings of digits (up to LLONG_MAX, or
 * UINT64_MAX for the uint64 cluster_id, member_id and raft_term) or as
 * plain JSON integers from 0 to LLONG_MAX.
 *
 * Returns 1 when the body has that shape: *page describes it, and
 * json_loadb(JSON_REJECT_DUPLICATES) would load the same body into the
 * same revision, more, KeyValue texts and mod_revisions.  Returns 0 when
 * the body has any other shape, valid JSON or not (the caller parses it
 * with jansson, which reports the exact error), and -1 when kvs could not
 * grow (errno ENOMEM).  After 0 or -1, revision, more and n are 0; kvs and
 * cap stay valid.
 */
int etcd_json_scan(const char *body, size_t len, struct etcd_json_page *page);

/*
 * etcd_b64_decode - decodes the n bytes of standard, padded base64 at s
 * into out (cap bytes), its length in *len.  Accepts and refuses exactly
 * what libsodium's sodium_base642bin (sodium_base64_VARIANT_ORIGINAL, no
 * characters ignored, the whole text) does: the padding the text calls
 * for and nothing after it, no bits set past the last byte.  libsodium
 * decodes in constant time, some 70 instructions a character, which made
 * it half the CPU of a start that reads 2,000 keys; this one looks each
 * character up in a table, as the scanner did before it (the text of a
 * secret value has passed through ej_class already).  Returns 0, or -1
 * when the text is no such base64 or out is too small (*len is 0 then).
 */
int etcd_b64_decode(const char *s, size_t n, char *out, size_t cap,
                    size_t *len);

#endif
