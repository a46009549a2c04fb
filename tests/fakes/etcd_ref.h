/* SPDX-License-Identifier: MIT */
/* The reference for the fast scanner of etcd JSON pages: the page read with
   jansson the way providers/etcd.c reads it, for the unit test and the fuzz
   target alike. */
#ifndef EI_TEST_ETCD_REF_H
#define EI_TEST_ETCD_REF_H

#include <stddef.h>

#include <jansson.h>

#include "etcd/json.h"

/* etcd_int64 of providers/etcd.c, as it is there: absent or null is 0. */
int etcd_ref_int64(const json_t *j, long long *out);

/*
 * The body loaded with json_loadb(JSON_REJECT_DUPLICATES), or NULL where
 * etcd.c would report an error before the base64 decoding: not JSON, or
 * a header, revision, kvs, more, key, mod_revision or value of the wrong
 * type.  The caller drops the tree.
 */
json_t *etcd_ref_load(const char *body, size_t len);

/*
 * Whether the page the scanner gave for body is what etcd.c would take
 * from jansson's tree: 0, or -1 with the first difference in why (one
 * line, no bytes of the body).
 */
int etcd_ref_compare(const char *body, size_t len,
                     const struct etcd_json_page *page, char *why,
                     size_t why_size);

#endif
