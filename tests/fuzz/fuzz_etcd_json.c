/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the etcd JSON range scanner (providers/etcd/json.h) on
   arbitrary bytes; whatever it accepts must read the same through jansson
   as etcd.c reads it, and every span it reports is read to the last byte.
   The same bytes as base64 text: etcd_b64_decode must agree with
   libsodium. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "etcd/json.h"
#include "etcd_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool fuzz_inside(const char *body, size_t len, const char *p, size_t n)
{
    return p >= body && p <= body + len && n <= (size_t)(body + len - p);
}

static bool fuzz_b64(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '='))
            return false;
    }
    return true;
}

/* etcd_page's and etcd_one's reading of the body, up to the base64
   decoding, compared with the page; aborts on any difference. */
static void fuzz_compare(const char *body, size_t len,
                         const struct etcd_json_page *page)
{
    char why[160];
    if (etcd_ref_compare(body, len, page, why, sizeof(why)) != 0) {
        fprintf(stderr, "scanner and jansson differ: %s\n", why);
        abort();
    }
}

/* The decoder against libsodium, which reads bytes from 0x80 up as '/'
   (1.0.18): the decoder refuses them. */
static void fuzz_b64_decode(const char *s, size_t n)
{
    char got[256];
    unsigned char want[256];
    size_t got_len = 1, want_len = 0;
    const char *end = NULL;
    if (n > sizeof(got) / 3 * 4)
        return;
    int g = etcd_b64_decode(s, n, got, sizeof(got), &got_len);
    bool high = false;
    for (size_t i = 0; i < n; i++)
        high |= (unsigned char)s[i] >= 0x80;
    int w = -1;
    if (!high) {
        w = sodium_base642bin(want, sizeof(want), s, n, NULL, &want_len, &end,
                              sodium_base64_VARIANT_ORIGINAL);
        if (w == 0 && end != s + n)
            w = -1;
    }
    if (g != w || (g != 0 && got_len != 0) ||
        (g == 0 && (got_len != want_len || memcmp(got, want, got_len) != 0)))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    fuzz_b64_decode(body, size);
    struct etcd_json_page page = {0};
    int r = etcd_json_scan(body, size, &page);
    if (r == 0 || r == -1) {
        if (page.n != 0 || page.revision != 0 || page.more)
            abort();
        free(page.kvs);
        return 0;
    }
    if (r != 1)
        abort();
    /* fuzz_b64 reads every byte of every span: ASan sees any outside */
    for (size_t i = 0; i < page.n; i++) {
        const struct etcd_json_kv *kv = &page.kvs[i];
        if (kv->key == NULL || !fuzz_inside(body, size, kv->key, kv->key_len) ||
            !fuzz_b64(kv->key, kv->key_len) ||
            (kv->value == NULL && kv->value_len != 0) ||
            (kv->value != NULL &&
             (!fuzz_inside(body, size, kv->value, kv->value_len) ||
              !fuzz_b64(kv->value, kv->value_len))))
            abort();
    }
    fuzz_compare(body, size, &page);

    /* the same page struct again: the result must not change */
    struct etcd_json_kv *kvs = page.kvs;
    size_t n = page.n;
    if (etcd_json_scan(body, size, &page) != 1 || page.n != n ||
        page.kvs != kvs)
        abort();
    free(page.kvs);
    return 0;
}
