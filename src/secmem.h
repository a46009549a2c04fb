/* SPDX-License-Identifier: MIT */
/* Memory stores: bump allocators for the strings of one resolution, and the
   secret store (sodium_malloc'd chunks, locked, wiped when freed). */
#ifndef EI_SECMEM_H
#define EI_SECMEM_H

#include <stdbool.h>
#include <stddef.h>

struct ei_store;

/*
 * Make the process non-dumpable and install the wipe-on-free allocator in
 * jansson.  Call once from main before any thread starts.  Returns 0.
 * libsodium is initialised later, by the first ei_sodium_malloc: its
 * sodium_init costs tens of microseconds (CPU feature probes trap under
 * a hypervisor), and a run without a secret needs none of it.
 */
int ei_secmem_init(void);

/*
 * sodium_malloc after sodium_init, which it calls (once, thread-safe):
 * sodium_malloc needs the page size and canary that sodium_init sets.
 * NULL on failure.  Release with sodium_free.
 */
void *ei_sodium_malloc(size_t size);

/*
 * A new store.  A secret store takes its memory from sodium_malloc in large
 * chunks (guard pages, locked against swapping, excluded from core dumps
 * where the system allows), and wipes everything when freed.  A plain store
 * uses malloc.  NULL when out of memory.
 */
struct ei_store *ei_store_new(bool secret);

/* Wipe (secret stores) and release everything; NULL is fine. */
void ei_store_free(struct ei_store *st);

/* len bytes, aligned for any object, zeroed; NULL when out of memory. */
void *ei_store_alloc(struct ei_store *st, size_t len);

/* len bytes for characters, with no alignment, zeroed; NULL when out of
   memory. */
char *ei_store_alloc_chars(struct ei_store *st, size_t len);

/* A NUL-terminated copy of len bytes of s; NULL when out of memory. */
char *ei_store_strndup(struct ei_store *st, const char *s, size_t len);
char *ei_store_strdup(struct ei_store *st, const char *s);

/* Whether the store is secret. */
bool ei_store_secret(const struct ei_store *st);

/* Number of secret chunks that could not be locked (reported at -v). */
size_t ei_store_unlocked(const struct ei_store *st);

/*
 * malloc, free, realloc, calloc and strdup whose blocks are wiped when
 * freed (realloc copies and wipes): for libraries whose buffers may hold
 * secrets, jansson's and libcurl's.  ei_wipe_free and ei_wipe_realloc take
 * only blocks of these functions.
 */
void *ei_wipe_malloc(size_t size);
void ei_wipe_free(void *p);
void *ei_wipe_realloc(void *p, size_t size);
void *ei_wipe_calloc(size_t n, size_t size);
char *ei_wipe_strdup(const char *s);

/* Compare secrets in constant time: 0 when equal. */
int ei_secmem_cmp(const void *a, size_t a_len, const void *b, size_t b_len);

#endif
