/* SPDX-License-Identifier: MIT */
/* Memory stores (bump allocators over large chunks, sodium_malloc'd for the
   secret store) and the wipe-on-free allocator handed to jansson. */
#include <errno.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <jansson.h>
#include <sodium.h>

#include "secmem.h"

#define EI_ALIGN             alignof(max_align_t)
/* A store's first chunk is small: most stores hold a path or a few dozen
   entries, and a page of a chunk costs a fault when first written; a
   chunk freed early leaves a hole that the next small chunk fits. */
#define EI_PLAIN_CHUNK_FIRST (2u * 1024u)
#define EI_PLAIN_CHUNK_MAX   (1024u * 1024u)
#define EI_SECRET_CHUNK      (64u * 1024u)

/*
 * The largest request a store takes: no object may exceed PTRDIFF_MAX, and
 * refusing early keeps the chunk arithmetic below free of overflow (and
 * keeps absurd sizes away from malloc, which sanitizers treat as a bug).
 */
#define EI_STORE_MAX_REQUEST ((size_t)PTRDIFF_MAX / 2)

/* The header of every chunk, at its start; the payload follows. */
struct ei_chunk {
    struct ei_chunk *next;
    size_t size; /* payload bytes */
    size_t used; /* payload bytes handed out, padding included */
};

struct ei_store {
    bool secret;
    struct ei_chunk *head; /* the chunk that new small requests go to */
    size_t next_size;      /* payload size of the next plain chunk */
    size_t unlocked;       /* secret chunks that could not be locked */
};

/* The header keeps the payload aligned like malloc's own result. */
union ei_wipe_hdr {
    size_t size;
    max_align_t align;
};

void *ei_wipe_malloc(size_t size)
{
    if (size > SIZE_MAX - sizeof(union ei_wipe_hdr))
        return NULL;
    union ei_wipe_hdr *h = malloc(sizeof(*h) + size);
    if (h == NULL)
        return NULL;
    h->size = size;
    return h + 1;
}

void ei_wipe_free(void *p)
{
    if (p == NULL)
        return;
    union ei_wipe_hdr *h = (union ei_wipe_hdr *)p - 1;
    sodium_memzero(h, sizeof(*h) + h->size);
    free(h);
}

void *ei_wipe_realloc(void *p, size_t size)
{
    if (p == NULL)
        return ei_wipe_malloc(size);
    /* never in place: the old block is copied, then wiped */
    void *q = ei_wipe_malloc(size);
    if (q == NULL)
        return NULL;
    size_t old = ((union ei_wipe_hdr *)p - 1)->size;
    memcpy(q, p, old < size ? old : size);
    ei_wipe_free(p);
    return q;
}

void *ei_wipe_calloc(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    void *p = ei_wipe_malloc(n * size);
    if (p != NULL)
        memset(p, 0, n * size);
    return p;
}

char *ei_wipe_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = ei_wipe_malloc(n);
    if (p != NULL)
        memcpy(p, s, n);
    return p;
}

void *ei_sodium_malloc(size_t size)
{
    /* after the first call, a lock and a flag */
    if (sodium_init() < 0)
        return NULL;
    return sodium_malloc(size);
}

int ei_secmem_init(void)
{
#ifdef __linux__
    /* execve resets this for ordinary programs, so the program we run
       keeps its own dumpability */
    (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
    /* jansson frees decoded strings through it: they may be secrets */
    json_set_alloc_funcs(ei_wipe_malloc, ei_wipe_free);
    return 0;
}

static size_t chunk_header_len(void)
{
    return (sizeof(struct ei_chunk) + EI_ALIGN - 1) & ~(EI_ALIGN - 1);
}

static unsigned char *chunk_payload(struct ei_chunk *c)
{
    return (unsigned char *)c + chunk_header_len();
}

/* The payload offset where an object may start, aligned in memory to
   align, a power of two. */
static size_t chunk_aligned_used(struct ei_chunk *c, size_t align)
{
    uintptr_t base = (uintptr_t)chunk_payload(c);
    uintptr_t at = base + c->used;
    uintptr_t aligned = (at + align - 1) & ~(uintptr_t)(align - 1);
    return c->used + (size_t)(aligned - at);
}

static struct ei_chunk *chunk_new(struct ei_store *st, size_t payload)
{
    /*
     * sodium_malloc puts the block right before a guard page, so its
     * start is only as aligned as its size is a multiple of EI_ALIGN.
     */
    payload = (payload + EI_ALIGN - 1) & ~(EI_ALIGN - 1);
    size_t total = chunk_header_len() + payload;
    struct ei_chunk *c;
    if (st->secret) {
        c = ei_sodium_malloc(total);
        if (c == NULL)
            return NULL;
        /*
         * sodium_malloc locks the pages itself but ignores a failure;
         * locking again is harmless (locks do not stack) and tells us
         * whether the pages are really kept out of swap.
         */
        if (sodium_mlock(c, total) != 0)
            st->unlocked++;
    } else {
        c = malloc(total);
        if (c == NULL)
            return NULL;
    }
    c->next = NULL;
    c->size = payload;
    c->used = 0;
    return c;
}

static void chunk_release(const struct ei_store *st, struct ei_chunk *c)
{
    if (st->secret)
        sodium_free(c); /* wipes, unlocks and unmaps */
    else
        free(c);
}

struct ei_store *ei_store_new(bool secret)
{
    struct ei_store *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return NULL;
    st->secret = secret;
    st->next_size = secret ? EI_SECRET_CHUNK : EI_PLAIN_CHUNK_FIRST;
    return st;
}

void ei_store_free(struct ei_store *st)
{
    if (st == NULL)
        return;
    struct ei_chunk *c = st->head;
    while (c != NULL) {
        struct ei_chunk *next = c->next;
        chunk_release(st, c);
        c = next;
    }
    free(st);
}

static inline void *chunk_take(struct ei_chunk *c, size_t len, size_t align)
{
    size_t at = chunk_aligned_used(c, align);
    if (at > c->size || c->size - at < len)
        return NULL;
    c->used = at + len;
    unsigned char *p = chunk_payload(c) + at;
    /* secret chunks come filled with a pattern, plain ones with junk */
    memset(p, 0, len);
    return p;
}

/* store_take when the current chunk has no room: a chunk of its own for
   a big request, else a new current chunk. */
static void *store_take_new(struct ei_store *st, size_t len, size_t align)
{
    if (st == NULL)
        return NULL;
    if (len > EI_STORE_MAX_REQUEST) {
        errno = ENOMEM;
        return NULL;
    }
    size_t chunk_size = st->next_size;
    if (len > chunk_size / 2) {
        /*
         * A big request gets a chunk of its own, linked behind the current
         * one so that the current one's free space is not lost.
         */
        struct ei_chunk *c = chunk_new(st, len);
        if (c == NULL)
            return NULL;
        if (st->head != NULL) {
            c->next = st->head->next;
            st->head->next = c;
        } else {
            st->head = c;
        }
        return chunk_take(c, len, align);
    }
    struct ei_chunk *c = chunk_new(st, chunk_size);
    if (c == NULL)
        return NULL;
    c->next = st->head;
    st->head = c;
    if (!st->secret && st->next_size < EI_PLAIN_CHUNK_MAX)
        st->next_size *= 2;
    return chunk_take(c, len, align);
}

/*
 * len bytes aligned to align.  Strings ask for no alignment: with a
 * hundred thousand keys from a config service, rounding each of the four
 * strings of an entry up to 16 bytes would cost megabytes.  The request
 * that fits the current chunk, nearly all of them, is tested first and
 * taken inline; the rest goes to store_take_new.
 */
static inline void *store_take(struct ei_store *st, size_t len, size_t align)
{
    if (len == 0)
        len = 1; /* every allocation gets its own address */
    if (st != NULL && st->head != NULL && len <= EI_STORE_MAX_REQUEST) {
        void *p = chunk_take(st->head, len, align);
        if (p != NULL)
            return p;
    }
    return store_take_new(st, len, align);
}

void *ei_store_alloc(struct ei_store *st, size_t len)
{
    return store_take(st, len, EI_ALIGN);
}

char *ei_store_alloc_chars(struct ei_store *st, size_t len)
{
    return store_take(st, len, 1);
}

char *ei_store_strndup(struct ei_store *st, const char *s, size_t len)
{
    if (s == NULL || len >= EI_STORE_MAX_REQUEST) {
        errno = s == NULL ? EINVAL : ENOMEM;
        return NULL;
    }
    char *p = store_take(st, len + 1, 1);
    if (p == NULL)
        return NULL;
    memcpy(p, s, len);
    return p; /* already NUL-terminated: the store zeroes */
}

char *ei_store_strdup(struct ei_store *st, const char *s)
{
    if (s == NULL) {
        errno = EINVAL;
        return NULL;
    }
    return ei_store_strndup(st, s, strlen(s));
}

bool ei_store_secret(const struct ei_store *st)
{
    return st != NULL && st->secret;
}

size_t ei_store_unlocked(const struct ei_store *st)
{
    return st == NULL ? 0 : st->unlocked;
}

int ei_secmem_cmp(const void *a, size_t a_len, const void *b, size_t b_len)
{
    if (a_len != b_len)
        return 1;
    if (a_len == 0)
        return 0;
    return sodium_memcmp(a, b, a_len) == 0 ? 0 : 1;
}
