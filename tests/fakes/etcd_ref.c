/* SPDX-License-Identifier: MIT */
/* The jansson reading of an etcd JSON page that the fast scanner must match
   (see etcd_ref.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcd_ref.h"

int etcd_ref_int64(const json_t *j, long long *out)
{
    *out = 0;
    if (j == NULL || json_is_null(j))
        return 0;
    if (json_is_integer(j)) {
        *out = json_integer_value(j);
        return *out >= 0 ? 0 : -1;
    }
    if (!json_is_string(j))
        return -1;
    const char *s = json_string_value(j);
    size_t len = json_string_length(j);
    if (len == 0 || len > 19)
        return -1;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return -1;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end != s + len)
        return -1;
    *out = v;
    return 0;
}

json_t *etcd_ref_load(const char *body, size_t len)
{
    json_error_t je;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL)
        return NULL;
    const json_t *header = json_object_get(root, "header");
    const json_t *kvs = json_object_get(root, "kvs");
    const json_t *jmore = json_object_get(root, "more");
    long long rev = 0;
    bool ok =
        json_is_object(root) &&
        (header == NULL || json_is_null(header) || json_is_object(header)) &&
        etcd_ref_int64(json_object_get(header, "revision"), &rev) == 0 &&
        (kvs == NULL || json_is_null(kvs) || json_is_array(kvs)) &&
        (jmore == NULL || json_is_null(jmore) || json_is_boolean(jmore));
    size_t n = json_is_array(kvs) ? json_array_size(kvs) : 0;
    for (size_t i = 0; ok && i < n; i++) {
        const json_t *kv = json_array_get(kvs, i);
        const json_t *jk = json_object_get(kv, "key");
        const json_t *jv = json_object_get(kv, "value");
        long long mod = 0;
        ok = json_is_object(kv) && json_is_string(jk) &&
             json_string_length(jk) > 0 &&
             etcd_ref_int64(json_object_get(kv, "mod_revision"), &mod) == 0 &&
             (jv == NULL || json_is_null(jv) || json_is_string(jv));
    }
    if (!ok) {
        json_decref(root);
        return NULL;
    }
    return root;
}

static bool inside(const char *body, size_t len, const char *p, size_t n)
{
    return p >= body && p <= body + len && n <= (size_t)(body + len - p);
}

/* Whether the span p, n of body is exactly the text of the string j. */
static bool same_text(const char *body, size_t len, const json_t *j,
                      const char *p, size_t n)
{
    return p != NULL && inside(body, len, p, n) && json_is_string(j) &&
           json_string_length(j) == n &&
           memcmp(json_string_value(j), p, n) == 0;
}

int etcd_ref_compare(const char *body, size_t len,
                     const struct etcd_json_page *page, char *why,
                     size_t why_size)
{
    json_t *root = etcd_ref_load(body, len);
    if (root == NULL) {
        snprintf(why, why_size, "accepted, but etcd.c fails on it");
        return -1;
    }
    const json_t *kvs = json_object_get(root, "kvs");
    long long rev = 0;
    (void)etcd_ref_int64(
        json_object_get(json_object_get(root, "header"), "revision"), &rev);
    size_t n = json_is_array(kvs) ? json_array_size(kvs) : 0;
    int rc = -1;
    if (page->revision != rev)
        snprintf(why, why_size, "revision %lld, jansson %lld", page->revision,
                 rev);
    else if (page->more != json_is_true(json_object_get(root, "more")))
        snprintf(why, why_size, "more differs");
    else if (page->n != n || page->n > page->cap)
        snprintf(why, why_size, "%zu KeyValues (cap %zu), jansson %zu", page->n,
                 page->cap, n);
    else
        rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct etcd_json_kv *kv = &page->kvs[i];
        const json_t *jkv = json_array_get(kvs, i);
        const json_t *jv = json_object_get(jkv, "value");
        long long mod = 0;
        (void)etcd_ref_int64(json_object_get(jkv, "mod_revision"), &mod);
        bool no_value = jv == NULL || json_is_null(jv);
        if (kv->key_len == 0 ||
            !same_text(body, len, json_object_get(jkv, "key"), kv->key,
                       kv->key_len))
            snprintf(why, why_size, "kvs[%zu].key differs", i), rc = -1;
        else if (kv->mod_revision != mod)
            snprintf(why, why_size, "kvs[%zu].mod_revision %lld, jansson %lld",
                     i, kv->mod_revision, mod),
                rc = -1;
        else if (no_value ? kv->value != NULL || kv->value_len != 0
                          : !same_text(body, len, jv, kv->value, kv->value_len))
            snprintf(why, why_size, "kvs[%zu].value differs", i), rc = -1;
    }
    json_decref(root);
    return rc;
}
