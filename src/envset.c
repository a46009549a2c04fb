/* SPDX-License-Identifier: MIT */
/* The set of resolved entries: an open-addressing index over a vector kept
   in insertion order, with entries allocated from a store. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "envset.h"
#include "secmem.h"

/*
 * The first index holds 89 entries (70% of 128 slots) and the first
 * vector 64: an inherited environment has about a hundred variables (a
 * CI runner's more), a file tens.  From 16 slots and 8 entries, a layer
 * of 100 keys grew its set four times, each growth a calloc, two
 * reallocs and a move of every slot (19 K instructions to execve on the
 * bench, for 1.8 KiB a set; 64 and 32 gave 13 K of them).
 */
#define EI_ENVSET_MIN_SLOTS 128u
#define EI_ENVSET_MIN_VEC   64u

/*
 * One index slot: the position in the vector plus one (0 = empty) and the
 * low 32 bits of the key's hash, which place the slot and spare most key
 * comparisons.  Eight bytes, so that the index of 100,000 keys is 2 MiB.
 */
struct ei_slot {
    uint32_t idx;
    uint32_t hash;
};

/* Entries are numbered by uint32_t in the index. */
#define EI_ENVSET_MAX_ENTRIES (UINT32_MAX - 1u)

struct ei_envset {
    struct ei_store *store;
    struct ei_slot *slots;
    size_t slots_n; /* a power of two */
    struct ei_entry **vec;
    uint32_t *hashes; /* of vec's keys, by position */
    size_t vec_n;
    size_t vec_cap;
};

/*
 * Keys may come from remote sources; a keyed hash keeps anyone who picks
 * keys from making every lookup walk a long probe run.  One key for the
 * process, drawn when the first set is made: a set each (four or more a
 * start) cost a getrandom call each and protected nothing more, since no
 * hash ever leaves the process.
 */
static unsigned char hash_key[crypto_shorthash_KEYBYTES];
static pthread_once_t hash_key_once = PTHREAD_ONCE_INIT;

static void hash_key_draw(void)
{
    /* randombytes needs no sodium_init */
    crypto_shorthash_keygen(hash_key);
}

static uint32_t key_hash(const char *key)
{
    unsigned char out[crypto_shorthash_BYTES];
    crypto_shorthash(out, (const unsigned char *)key, strlen(key), hash_key);
    /* any 32 bits of the hash will do, in the machine's byte order: the
       hash never leaves the process (a load, not a loop of shifts) */
    uint32_t h;
    memcpy(&h, out, sizeof(h));
    return h;
}

struct ei_envset *ei_envset_new(struct ei_store *store)
{
    if (store == NULL || pthread_once(&hash_key_once, hash_key_draw) != 0)
        return NULL;
    struct ei_envset *set = calloc(1, sizeof(*set));
    if (set == NULL)
        return NULL;
    set->store = store;
    return set;
}

void ei_envset_free(struct ei_envset *set)
{
    if (set == NULL)
        return;
    free(set->slots);
    free(set->vec);
    free(set->hashes);
    free(set);
}

/* The slot holding key, or the empty slot where it would go.  Inline, as
   slot_for is: every lookup and adoption goes through both, and as calls
   they cost 16 K instructions to execve on the bench (540 adoptions). */
static inline struct ei_slot *find_slot(const struct ei_envset *set,
                                        const char *key, uint32_t h)
{
    size_t mask = set->slots_n - 1;
    size_t i = (size_t)h & mask;
    for (;;) {
        struct ei_slot *s = &set->slots[i];
        if (s->idx == 0)
            return s;
        if (s->hash == h && strcmp(set->vec[s->idx - 1]->key, key) == 0)
            return s;
        i = (i + 1) & mask;
    }
}

struct ei_entry *ei_envset_get(const struct ei_envset *set, const char *key)
{
    if (set == NULL || key == NULL || set->slots_n == 0)
        return NULL;
    struct ei_slot *s = find_slot(set, key, key_hash(key));
    return s->idx == 0 ? NULL : set->vec[s->idx - 1];
}

/* The vector's room to at least cap entries; -1 (the set as it was) on
   failure. */
static int grow_vec(struct ei_envset *set, size_t want)
{
    size_t cap = set->vec_cap ? set->vec_cap : EI_ENVSET_MIN_VEC;
    while (cap < want) {
        if (cap > SIZE_MAX / 2 / sizeof(*set->vec)) {
            errno = ENOMEM;
            return -1;
        }
        cap *= 2;
    }
    if (cap == set->vec_cap)
        return 0;
    struct ei_entry **vec = realloc(set->vec, cap * sizeof(*vec));
    if (vec == NULL)
        return -1;
    set->vec = vec;
    /* vec_cap counts for both: a larger vec alone is harmless */
    uint32_t *hashes = realloc(set->hashes, cap * sizeof(*hashes));
    if (hashes == NULL)
        return -1;
    set->hashes = hashes;
    set->vec_cap = cap;
    return 0;
}

/* Room for want entries in all: 1 when the index moved, 0 when not, -1
   (the set as it was) on failure. */
static int grow(struct ei_envset *set, size_t want)
{
    if (want > EI_ENVSET_MAX_ENTRIES) {
        errno = ENOMEM;
        return -1;
    }
    if (want > set->vec_cap && grow_vec(set, want) < 0)
        return -1;
    /* keep the load at or below 70% so that probe runs stay short */
    if (want * 10 <= set->slots_n * 7)
        return 0;
    size_t n = set->slots_n ? set->slots_n : EI_ENVSET_MIN_SLOTS;
    while (want * 10 > n * 7)
        n *= 2; /* no overflow: want is below 2^32 */
    /* a slot's place comes from 32 bits of hash */
    if (n > (size_t)UINT32_MAX + 1u || n > SIZE_MAX / sizeof(struct ei_slot)) {
        errno = ENOMEM;
        return -1;
    }
    struct ei_slot *slots = calloc(n, sizeof(*slots));
    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < set->slots_n; i++) {
        const struct ei_slot *s = &set->slots[i];
        if (s->idx == 0)
            continue;
        size_t j = (size_t)s->hash & (n - 1);
        while (slots[j].idx != 0)
            j = (j + 1) & (n - 1);
        slots[j] = *s;
    }
    free(set->slots);
    set->slots = slots;
    set->slots_n = n;
    return 1;
}

int ei_envset_reserve(struct ei_envset *set, size_t n)
{
    if (set == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (n > EI_ENVSET_MAX_ENTRIES - set->vec_n) {
        errno = ENOMEM;
        return -1;
    }
    return grow(set, set->vec_n + n) < 0 ? -1 : 0;
}

/* Put e itself into the set: the shared part of put and adopt. */
static struct ei_entry *insert(struct ei_envset *set, struct ei_entry *e,
                               struct ei_slot *s, uint32_t h,
                               struct ei_entry **old)
{
    if (s->idx != 0) {
        if (old != NULL)
            *old = set->vec[s->idx - 1];
        set->vec[s->idx - 1] = e;
        return e;
    }
    set->hashes[set->vec_n] = h;
    set->vec[set->vec_n++] = e;
    s->hash = h;
    s->idx = (uint32_t)set->vec_n;
    return e;
}

/* The slot for key, with room reserved when the key is new. */
static inline struct ei_slot *slot_for(struct ei_envset *set, const char *key,
                                       uint32_t h)
{
    struct ei_slot *s = set->slots_n ? find_slot(set, key, h) : NULL;
    /* the test of grow's first lines here, without the call: a set
       with room (a reserved one) costs no call a key */
    bool room =
        set->vec_n < set->vec_cap && (set->vec_n + 1) * 10 <= set->slots_n * 7;
    if (s == NULL || (s->idx == 0 && !room)) {
        int moved = grow(set, set->vec_n + 1);
        if (moved < 0)
            return NULL;
        /* the free slot found is still the key's unless the index grew */
        if (moved > 0)
            s = find_slot(set, key, h);
    }
    return s;
}

struct ei_entry *ei_envset_put(struct ei_envset *set, const struct ei_entry *e,
                               struct ei_entry **old)
{
    if (old != NULL)
        *old = NULL;
    if (set == NULL || e == NULL || e->key == NULL) {
        errno = EINVAL;
        return NULL;
    }
    uint32_t h = key_hash(e->key);
    struct ei_slot *s = slot_for(set, e->key, h);
    if (s == NULL)
        return NULL;
    /*
     * A new struct even on replacement: whoever holds the old entry (the
     * caller's *old, an overriding entry's below) keeps a valid one.
     */
    struct ei_entry *copy = ei_store_alloc(set->store, sizeof(*copy));
    if (copy == NULL)
        return NULL;
    *copy = *e;
    return insert(set, copy, s, h, old);
}

/* adopt with the hash h of e->key */
static int adopt_hashed(struct ei_envset *set, struct ei_entry *e, uint32_t h,
                        struct ei_entry **old)
{
    struct ei_slot *s = slot_for(set, e->key, h);
    if (s == NULL)
        return -1;
    insert(set, e, s, h, old);
    return 0;
}

int ei_envset_adopt(struct ei_envset *set, struct ei_entry *e,
                    struct ei_entry **old)
{
    if (old != NULL)
        *old = NULL;
    if (set == NULL || e == NULL || e->key == NULL) {
        errno = EINVAL;
        return -1;
    }
    return adopt_hashed(set, e, key_hash(e->key), old);
}

int ei_envset_adopt_at(struct ei_envset *set, const struct ei_envset *src,
                       size_t i, struct ei_entry **old)
{
    if (old != NULL)
        *old = NULL;
    if (set == NULL || src == NULL || i >= src->vec_n) {
        errno = EINVAL;
        return -1;
    }
    return adopt_hashed(set, src->vec[i], src->hashes[i], old);
}

int ei_envset_adopt_all(struct ei_envset *set, const struct ei_envset *src)
{
    if (set == NULL || src == NULL) {
        errno = EINVAL;
        return -1;
    }
    for (size_t i = 0; i < src->vec_n; i++) {
        struct ei_entry *e = src->vec[i];
        e->below = NULL;
        if (adopt_hashed(set, e, src->hashes[i], &e->below) != 0)
            return -1;
    }
    return 0;
}

size_t ei_envset_count(const struct ei_envset *set)
{
    return set == NULL ? 0 : set->vec_n;
}

struct ei_entry *ei_envset_at(const struct ei_envset *set, size_t i)
{
    if (set == NULL || i >= set->vec_n)
        return NULL;
    return set->vec[i];
}

static int cmp_key(const void *a, const void *b)
{
    const struct ei_entry *const *x = a;
    const struct ei_entry *const *y = b;
    return strcmp((*x)->key, (*y)->key);
}

struct ei_entry **ei_envset_sorted(const struct ei_envset *set, size_t *n)
{
    *n = 0;
    size_t count = ei_envset_count(set);
    /* one spare slot so that an empty result is still a real pointer */
    if (count >= SIZE_MAX / sizeof(struct ei_entry *)) {
        errno = ENOMEM;
        return NULL;
    }
    struct ei_entry **out = malloc((count + 1) * sizeof(*out));
    if (out == NULL)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < count; i++) {
        if ((set->vec[i]->flags & EI_ENTRY_UNSET) == 0)
            out[k++] = set->vec[i];
    }
    qsort(out, k, sizeof(*out), cmp_key);
    *n = k;
    return out;
}

/*
 * The class of each byte in a key: a table, since ei_key_valid runs on
 * every key a provider emits (a lookup a byte instead of three range
 * tests; about 70 instructions less for a key of 15 bytes).
 */
enum { KEY_CHAR = 1, KEY_START = 2 };
#define KEY_LETTER (KEY_CHAR | KEY_START)
static const unsigned char key_class[256] = {
    ['0'] = KEY_CHAR,   ['1'] = KEY_CHAR,   ['2'] = KEY_CHAR,
    ['3'] = KEY_CHAR,   ['4'] = KEY_CHAR,   ['5'] = KEY_CHAR,
    ['6'] = KEY_CHAR,   ['7'] = KEY_CHAR,   ['8'] = KEY_CHAR,
    ['9'] = KEY_CHAR,   ['_'] = KEY_LETTER, ['A'] = KEY_LETTER,
    ['B'] = KEY_LETTER, ['C'] = KEY_LETTER, ['D'] = KEY_LETTER,
    ['E'] = KEY_LETTER, ['F'] = KEY_LETTER, ['G'] = KEY_LETTER,
    ['H'] = KEY_LETTER, ['I'] = KEY_LETTER, ['J'] = KEY_LETTER,
    ['K'] = KEY_LETTER, ['L'] = KEY_LETTER, ['M'] = KEY_LETTER,
    ['N'] = KEY_LETTER, ['O'] = KEY_LETTER, ['P'] = KEY_LETTER,
    ['Q'] = KEY_LETTER, ['R'] = KEY_LETTER, ['S'] = KEY_LETTER,
    ['T'] = KEY_LETTER, ['U'] = KEY_LETTER, ['V'] = KEY_LETTER,
    ['W'] = KEY_LETTER, ['X'] = KEY_LETTER, ['Y'] = KEY_LETTER,
    ['Z'] = KEY_LETTER, ['a'] = KEY_LETTER, ['b'] = KEY_LETTER,
    ['c'] = KEY_LETTER, ['d'] = KEY_LETTER, ['e'] = KEY_LETTER,
    ['f'] = KEY_LETTER, ['g'] = KEY_LETTER, ['h'] = KEY_LETTER,
    ['i'] = KEY_LETTER, ['j'] = KEY_LETTER, ['k'] = KEY_LETTER,
    ['l'] = KEY_LETTER, ['m'] = KEY_LETTER, ['n'] = KEY_LETTER,
    ['o'] = KEY_LETTER, ['p'] = KEY_LETTER, ['q'] = KEY_LETTER,
    ['r'] = KEY_LETTER, ['s'] = KEY_LETTER, ['t'] = KEY_LETTER,
    ['u'] = KEY_LETTER, ['v'] = KEY_LETTER, ['w'] = KEY_LETTER,
    ['x'] = KEY_LETTER, ['y'] = KEY_LETTER, ['z'] = KEY_LETTER,
};

bool ei_key_valid(const char *s, size_t len)
{
    if (s == NULL || len == 0 || !(key_class[(unsigned char)s[0]] & KEY_START))
        return false;
    for (size_t i = 1; i < len; i++) {
        if (!(key_class[(unsigned char)s[i]] & KEY_CHAR))
            return false;
    }
    return true;
}

size_t ei_key_len(const char *s, size_t max)
{
    if (s == NULL || max == 0 || !(key_class[(unsigned char)s[0]] & KEY_START))
        return 0;
    size_t i = 1;
    while (key_class[(unsigned char)s[i]] & KEY_CHAR)
        i++;
    return s[i] == '\0' && i <= max ? i : 0;
}
