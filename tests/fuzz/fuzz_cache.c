/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the cache file: the first byte picks the part.
   0: a whole file image opened with a fixed key (header checks, then the
   tag: nothing that fails may reach the callback); 1: the payload parser
   alone, whose entries must be what the sink would accept; 2: a payload
   that parses is staged, sealed and opened again, and must come back the
   same. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cache.h"
#include "envset.h"
#include "secmem.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ei_cache_key *fuzz_key;
static struct ei_cache_ident fuzz_id = {.config = "/etc/envinject.conf",
                                        .layer = "service",
                                        .provider = "etcd",
                                        .environment = "prod"};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (ei_secmem_init() < 0)
        abort();
    /* a fixed key keeps runs reproducible */
    static const char hex[] =
        "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";
    fuzz_key = ei_cache_key_parse(hex, sizeof(hex) - 1, "fuzz", NULL);
    if (fuzz_key == NULL)
        abort();
    memset(fuzz_id.options, 0x33, sizeof(fuzz_id.options));
    return 0;
}

/* Every entry handed on is what the sink would have staged. */
static int check_entry(void *ctx, const struct ei_cache_entry *e)
{
    (void)ctx;
    if (!ei_key_valid(e->key, strlen(e->key)) ||
        memchr(e->value, '\0', e->value_len) != NULL ||
        e->value[e->value_len] != '\0' ||
        (e->flags &
         ~(unsigned)(EI_ENTRY_SECRET | EI_ENTRY_LITERAL | EI_ENTRY_UNSET)) != 0)
        abort();
    return 0;
}

static int never(void *ctx, const struct ei_cache_entry *e)
{
    (void)ctx;
    (void)e;
    abort();
}

/* A digest of the entries walked, to compare two walks. */
static int digest(void *ctx, const struct ei_cache_entry *e)
{
    crypto_generichash_state *st = ctx;
    const char *parts[] = {e->key, e->locator != NULL ? e->locator : "\x01",
                           e->source != NULL ? e->source : "\x01"};
    for (size_t i = 0; i < 3; i++)
        crypto_generichash_update(st, (const unsigned char *)parts[i],
                                  strlen(parts[i]) + 1);
    crypto_generichash_update(st, (const unsigned char *)e->value,
                              e->value_len);
    unsigned char f = (unsigned char)e->flags;
    crypto_generichash_update(st, &f, 1);
    return 0;
}

struct stage {
    struct ei_envset *set;
    struct ei_store *store;
};

static int stage(void *ctx, const struct ei_cache_entry *e)
{
    struct stage *s = ctx;
    struct ei_entry x = {0};
    x.key = ei_store_strdup(s->store, e->key);
    x.value = ei_store_strndup(s->store, e->value, e->value_len);
    x.value_len = e->value_len;
    x.flags = e->flags;
    x.locator =
        e->locator != NULL ? ei_store_strdup(s->store, e->locator) : NULL;
    x.source = e->source != NULL ? ei_store_strdup(s->store, e->source) : NULL;
    /* a key twice: the set keeps the last, so compare that way round */
    return x.key != NULL && x.value != NULL &&
                   ei_envset_put(s->set, &x, NULL) != NULL
               ? 0
               : -1;
}

static void round_trip(const uint8_t *data, size_t size)
{
    struct stage s = {.store = ei_store_new(false)};
    s.set = s.store != NULL ? ei_envset_new(s.store) : NULL;
    char rev[EI_REVISION_MAX + 1], rev_back[EI_REVISION_MAX + 1];
    if (s.set == NULL || ei_cache_parse(data, size, stage, &s, rev) != 0)
        goto out;
    unsigned char *file = NULL;
    size_t len = 0;
    if (ei_cache_seal(fuzz_key, &fuzz_id, 1000, s.set, rev, &file, &len,
                      NULL) != 0)
        goto out;
    crypto_generichash_state a, b;
    crypto_generichash_init(&a, NULL, 0, 32);
    crypto_generichash_init(&b, NULL, 0, 32);
    for (size_t i = 0; i < ei_envset_count(s.set); i++) {
        const struct ei_entry *e = ei_envset_at(s.set, i);
        struct ei_cache_entry c = {e->key,   e->value,   e->value_len,
                                   e->flags, e->locator, e->source};
        digest(&a, &c);
    }
    if (ei_cache_open(fuzz_key, &fuzz_id, file, len, 2000, 60000, NULL, digest,
                      &b, rev_back) != EI_CACHE_OK ||
        strcmp(rev, rev_back) != 0)
        abort();
    unsigned char da[32], db[32];
    crypto_generichash_final(&a, da, sizeof(da));
    crypto_generichash_final(&b, db, sizeof(db));
    if (memcmp(da, db, sizeof(da)) != 0)
        abort();
    free(file);
out:
    ei_envset_free(s.set);
    ei_store_free(s.store);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *rest = data + 1;
    size_t n = size - 1;
    switch (data[0] % 3) {
    case 0: {
        /* a file that fails is never walked */
        enum ei_cache_result r = ei_cache_open(
            fuzz_key, &fuzz_id, rest, n, 1000, 60000, NULL, never, NULL, NULL);
        /* only the key makes a file that opens: a forgery */
        if (r == EI_CACHE_OK)
            abort();
        break;
    }
    case 1:
        ei_cache_parse(rest, n, check_entry, NULL, NULL);
        break;
    default:
        round_trip(rest, n);
        break;
    }
    return 0;
}
