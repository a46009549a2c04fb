/* SPDX-License-Identifier: MIT */
/* Unit tests of the entry set: lookup, replacement, order, sorted view and
   key validation. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "envset.h"
#include "secmem.h"

struct fixture {
    struct ei_store *store;
    struct ei_envset *set;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    if (fx == NULL)
        return -1;
    fx->store = ei_store_new(false);
    fx->set = ei_envset_new(fx->store);
    if (fx->store == NULL || fx->set == NULL)
        return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    ei_envset_free(fx->set);
    ei_store_free(fx->store);
    free(fx);
    return 0;
}

static struct ei_entry mk(const char *key, const char *value, unsigned flags,
                          int layer)
{
    struct ei_entry e = {
        .key = key,
        .value = value,
        .value_len = value ? strlen(value) : 0,
        .flags = flags,
        .layer = layer,
    };
    return e;
}

/* One operation on the set and what it must give. */
static const struct {
    const char *key;
    const char *value;
    unsigned flags;
    bool replaces; /* the key is in the set already */
    const char *old_value;
} put_cases[] = {
    {"PATH", "/bin", 0, false, NULL},
    {"HOME", "/root", 0, false, NULL},
    {"_X", "", 0, false, NULL},
    {"PATH", "/usr/bin", 0, true, "/bin"},
    {"a", "lower", EI_ENTRY_SECRET, false, NULL},
    {"A", "upper", 0, false, NULL},
    {"GONE", NULL, EI_ENTRY_UNSET, false, NULL},
    {"PATH", "/sbin", EI_ENTRY_SECRET, true, "/usr/bin"},
    {"HOME", NULL, EI_ENTRY_UNSET, true, "/root"},
    {"Z9", "z", 0, false, NULL},
};

/* The order of first insertion, and the sorted view without unset keys. */
static const char *const want_order[] = {"PATH", "HOME", "_X", "a",
                                         "A",    "GONE", "Z9"};
static const char *const want_sorted[] = {"A", "PATH", "Z9", "_X", "a"};

static void test_put_get(void **state)
{
    struct fixture *fx = *state;
    size_t ncases = sizeof(put_cases) / sizeof(put_cases[0]);
    for (size_t i = 0; i < ncases; i++) {
        struct ei_entry e = mk(put_cases[i].key, put_cases[i].value,
                               put_cases[i].flags, (int)i);
        struct ei_entry *before = ei_envset_get(fx->set, e.key);
        struct ei_entry *old = (struct ei_entry *)&old; /* must be reset */
        struct ei_entry *in = ei_envset_put(fx->set, &e, &old);
        assert_non_null(in);
        assert_ptr_not_equal(in, &e);
        assert_ptr_equal(ei_envset_get(fx->set, e.key), in);
        assert_int_equal(in->layer, (int)i);
        assert_int_equal(in->flags, put_cases[i].flags);
        if (put_cases[i].replaces) {
            assert_non_null(old);
            assert_ptr_equal(old, before);
            assert_ptr_not_equal(old, in);
            /* the replaced entry is intact */
            assert_string_equal(old->value, put_cases[i].old_value);
            assert_string_equal(old->key, e.key);
        } else {
            assert_null(before);
            assert_null(old);
        }
        /* changing the caller's struct does not touch the set's copy */
        e.layer = 999;
        assert_int_equal(in->layer, (int)i);
    }

    size_t norder = sizeof(want_order) / sizeof(want_order[0]);
    assert_int_equal(ei_envset_count(fx->set), norder);
    for (size_t i = 0; i < norder; i++) {
        struct ei_entry *e = ei_envset_at(fx->set, i);
        assert_non_null(e);
        assert_string_equal(e->key, want_order[i]);
    }
    assert_null(ei_envset_at(fx->set, norder));
    assert_null(ei_envset_at(fx->set, SIZE_MAX));

    /* lookups of keys that are not there, including near misses */
    static const char *const absent[] = {"",      "PAT", "PATHS", "path",
                                         "GONE2", "_",   "Z"};
    for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
        assert_null(ei_envset_get(fx->set, absent[i]));
    assert_null(ei_envset_get(fx->set, NULL));
    assert_string_equal(ei_envset_get(fx->set, "PATH")->value, "/sbin");

    size_t n = 99;
    struct ei_entry **sorted = ei_envset_sorted(fx->set, &n);
    assert_non_null(sorted);
    size_t nsorted = sizeof(want_sorted) / sizeof(want_sorted[0]);
    assert_int_equal(n, nsorted);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(sorted[i]->key, want_sorted[i]);
        assert_ptr_equal(sorted[i], ei_envset_get(fx->set, want_sorted[i]));
    }
    free(sorted);
}

static void test_empty_and_bad(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(ei_envset_count(fx->set), 0);
    assert_null(ei_envset_get(fx->set, "A"));
    assert_null(ei_envset_at(fx->set, 0));
    size_t n = 42;
    struct ei_entry **s = ei_envset_sorted(fx->set, &n);
    assert_non_null(s);
    assert_int_equal(n, 0);
    free(s);

    struct ei_entry bad = mk(NULL, "v", 0, 0);
    struct ei_entry *old = (struct ei_entry *)&old;
    assert_null(ei_envset_put(fx->set, &bad, &old));
    assert_null(old);
    assert_null(ei_envset_put(fx->set, NULL, NULL));
    assert_int_equal(ei_envset_count(fx->set), 0);

    /* only unset entries: the sorted view is empty but valid */
    struct ei_entry u = mk("U", NULL, EI_ENTRY_UNSET, 0);
    assert_non_null(ei_envset_put(fx->set, &u, NULL));
    n = 42;
    s = ei_envset_sorted(fx->set, &n);
    assert_non_null(s);
    assert_int_equal(n, 0);
    free(s);
    assert_int_equal(ei_envset_count(fx->set), 1);

    assert_null(ei_envset_new(NULL));
    ei_envset_free(NULL);
    assert_int_equal(ei_envset_count(NULL), 0);
}

/* Many keys, inserted in a scrambled order, replaced and looked up. */
static void test_many_keys(void **state)
{
    struct fixture *fx = *state;
    enum { N = 120000 };
    char **keys = calloc(N, sizeof(*keys));
    size_t *perm = calloc(N, sizeof(*perm));
    assert_non_null(keys);
    assert_non_null(perm);
    for (size_t i = 0; i < N; i++) {
        char buf[32];
        snprintf(buf, sizeof(buf), "KEY_%06zu", i);
        keys[i] = ei_store_strdup(fx->store, buf);
        assert_non_null(keys[i]);
        perm[i] = i;
    }
    /* a fixed scramble: multiplying by an odd number coprime to N */
    for (size_t i = 0; i < N; i++)
        perm[i] = (i * 7919u) % N;
    for (size_t i = 0; i < N; i++) {
        struct ei_entry e = mk(keys[perm[i]], keys[perm[i]],
                               perm[i] % 10 == 0 ? EI_ENTRY_UNSET : 0, 0);
        assert_non_null(ei_envset_put(fx->set, &e, NULL));
    }
    assert_int_equal(ei_envset_count(fx->set), N);
    /* replace every third key; order and count stay */
    for (size_t i = 0; i < N; i += 3) {
        struct ei_entry e = mk(keys[i], "new", 0, 1);
        struct ei_entry *old = NULL;
        assert_non_null(ei_envset_put(fx->set, &e, &old));
        assert_non_null(old);
        assert_string_equal(old->value, keys[i]);
    }
    assert_int_equal(ei_envset_count(fx->set), N);
    for (size_t i = 0; i < N; i++) {
        struct ei_entry *e = ei_envset_get(fx->set, keys[i]);
        assert_non_null(e);
        assert_string_equal(e->value, i % 3 == 0 ? "new" : keys[i]);
        assert_ptr_equal(ei_envset_at(fx->set, i)->key, keys[perm[i]]);
    }
    assert_null(ei_envset_get(fx->set, "KEY_999999"));
    size_t n = 0;
    struct ei_entry **sorted = ei_envset_sorted(fx->set, &n);
    assert_non_null(sorted);
    size_t want_n = 0;
    for (size_t i = 0; i < N; i++) {
        bool unset = i % 10 == 0 && i % 3 != 0;
        if (!unset) {
            assert_ptr_equal(sorted[want_n]->key, keys[i]);
            want_n++;
        }
    }
    assert_int_equal(n, want_n);
    free(sorted);
    free(perm);
    free(keys);
}

/* adopt puts the caller's entry itself into the set, not a copy */
static void test_adopt(void **state)
{
    struct fixture *fx = *state;
    struct ei_entry a = mk("DB_HOST", "one", 0, 0);
    struct ei_entry b = mk("DB_HOST", "two", 0, 1);
    struct ei_entry c = mk("PORT", "5432", 0, 1);
    struct ei_entry *old = &a; /* must be reset */

    assert_int_equal(ei_envset_adopt(fx->set, &a, &old), 0);
    assert_null(old);
    assert_ptr_equal(ei_envset_get(fx->set, "DB_HOST"), &a);
    /* a later change to the adopted entry shows through the set */
    a.flags = EI_ENTRY_SECRET;
    assert_int_equal(ei_envset_get(fx->set, "DB_HOST")->flags, EI_ENTRY_SECRET);

    /* replacing reports the entry it replaced and keeps the key's place */
    assert_int_equal(ei_envset_adopt(fx->set, &c, NULL), 0);
    assert_int_equal(ei_envset_adopt(fx->set, &b, &b.below), 0);
    assert_ptr_equal(b.below, &a);
    assert_ptr_equal(ei_envset_get(fx->set, "DB_HOST"), &b);
    assert_int_equal(ei_envset_count(fx->set), 2);
    assert_ptr_equal(ei_envset_at(fx->set, 0), &b);
    assert_ptr_equal(ei_envset_at(fx->set, 1), &c);

    /* put after adopt still copies, and replaces the adopted entry */
    struct ei_entry d = mk("PORT", "6543", 0, 2);
    struct ei_entry *in = ei_envset_put(fx->set, &d, &old);
    assert_non_null(in);
    assert_ptr_not_equal(in, &d);
    assert_ptr_equal(old, &c);
    assert_string_equal(c.value, "5432");

    struct ei_entry nokey = mk(NULL, "x", 0, 0);
    old = &a;
    assert_int_equal(ei_envset_adopt(fx->set, &nokey, &old), -1);
    assert_null(old);
    assert_int_equal(ei_envset_adopt(fx->set, NULL, NULL), -1);
    assert_int_equal(ei_envset_adopt(NULL, &a, NULL), -1);
    assert_int_equal(ei_envset_count(fx->set), 2);
}

static const struct {
    const char *s;
    size_t len; /* SIZE_MAX: strlen */
    bool valid;
} key_cases[] = {
    {"A", SIZE_MAX, true},
    {"_", SIZE_MAX, true},
    {"a1_B2", SIZE_MAX, true},
    {"__9", SIZE_MAX, true},
    {"DB_HOST", SIZE_MAX, true},
    {"", SIZE_MAX, false},
    {"1A", SIZE_MAX, false},
    {"A-B", SIZE_MAX, false},
    {"A.B", SIZE_MAX, false},
    {"A B", SIZE_MAX, false},
    {"A=B", SIZE_MAX, false},
    {"\xc3\xa9t\xc3\xa9", SIZE_MAX, false},
    {"A\n", SIZE_MAX, false},
    {"$A", SIZE_MAX, false},
    {"AB-", 2, true},   /* only the first len bytes count */
    {"A\0B", 3, false}, /* a NUL inside is not a key character */
    {"ABC", 0, false},
    {"9", 0, false},
    {NULL, 0, false},
    {NULL, 3, false},
};

/* adopt_at moves entries from set to set with the hash the source keeps:
   the merge of layers; lookups find them, replacement is as adopt's. */
static void test_adopt_at(void **state)
{
    struct fixture *fx = *state;
    struct ei_envset *src = ei_envset_new(fx->store);
    assert_non_null(src);
    char keys[300][16];
    for (size_t i = 0; i < 300; i++) {
        snprintf(keys[i], sizeof keys[i], "KEY_%zu", i);
        struct ei_entry e = mk(keys[i], "v", 0, 0);
        assert_non_null(ei_envset_put(src, &e, NULL));
    }
    struct ei_entry first = mk("KEY_7", "below", 0, 0);
    assert_int_equal(ei_envset_adopt(fx->set, &first, NULL), 0);
    for (size_t i = 0; i < 300; i++) {
        struct ei_entry *e = ei_envset_at(src, i);
        assert_int_equal(ei_envset_adopt_at(fx->set, src, i, &e->below), 0);
        assert_ptr_equal(e->below, i == 7 ? &first : NULL);
    }
    assert_int_equal(ei_envset_count(fx->set), 300);
    for (size_t i = 0; i < 300; i++)
        assert_ptr_equal(ei_envset_get(fx->set, keys[i]),
                         ei_envset_at(src, i));
    assert_null(ei_envset_get(fx->set, "KEY_300"));

    struct ei_entry *old = &first; /* must be reset */
    errno = 0;
    assert_int_equal(ei_envset_adopt_at(fx->set, src, 300, &old), -1);
    assert_int_equal(errno, EINVAL);
    assert_null(old);
    assert_int_equal(ei_envset_adopt_at(fx->set, NULL, 0, NULL), -1);
    assert_int_equal(ei_envset_adopt_at(NULL, src, 0, NULL), -1);
    assert_int_equal(ei_envset_count(fx->set), 300);
    ei_envset_free(src);
}

/* adopt_all moves a whole set as adopt_at an entry at a time does, and
   sets each entry's below: the merge of a layer */
static void test_adopt_all(void **state)
{
    struct fixture *fx = *state;
    struct ei_envset *src = ei_envset_new(fx->store);
    assert_non_null(src);
    char keys[100][16];
    struct ei_entry stale = mk("STALE", "x", 0, 0);
    for (size_t i = 0; i < 100; i++) {
        snprintf(keys[i], sizeof keys[i], "KEY_%zu", i);
        struct ei_entry e = mk(keys[i], "v", 0, 1);
        e.below = &stale; /* overwritten */
        assert_non_null(ei_envset_put(src, &e, NULL));
    }
    struct ei_entry k3 = mk("KEY_3", "below", 0, 0);
    struct ei_entry first = mk("FIRST", "f", 0, 0);
    assert_int_equal(ei_envset_adopt(fx->set, &first, NULL), 0);
    assert_int_equal(ei_envset_adopt(fx->set, &k3, NULL), 0);

    assert_int_equal(ei_envset_adopt_all(fx->set, src), 0);
    assert_int_equal(ei_envset_count(fx->set), 101);
    /* a replaced key keeps its place; the new ones follow in order */
    assert_ptr_equal(ei_envset_at(fx->set, 0), &first);
    assert_ptr_equal(ei_envset_at(fx->set, 1), ei_envset_at(src, 3));
    for (size_t i = 0; i < 100; i++) {
        struct ei_entry *e = ei_envset_at(src, i);
        assert_ptr_equal(ei_envset_get(fx->set, keys[i]), e);
        assert_ptr_equal(e->below, i == 3 ? &k3 : NULL);
    }
    assert_ptr_equal(ei_envset_at(fx->set, 2), ei_envset_at(src, 0));
    assert_ptr_equal(ei_envset_at(fx->set, 100), ei_envset_at(src, 99));

    /* an empty source changes nothing */
    struct ei_envset *empty = ei_envset_new(fx->store);
    assert_non_null(empty);
    assert_int_equal(ei_envset_adopt_all(fx->set, empty), 0);
    assert_int_equal(ei_envset_count(fx->set), 101);
    ei_envset_free(empty);

    errno = 0;
    assert_int_equal(ei_envset_adopt_all(fx->set, NULL), -1);
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_int_equal(ei_envset_adopt_all(NULL, src), -1);
    assert_int_equal(errno, EINVAL);
    ei_envset_free(src);
}

/* reserve makes room for many keys at once; the set works as before */
static void test_reserve(void **state)
{
    struct fixture *fx = *state;
    struct ei_entry first = mk("K_0", "first", 0, 0);
    assert_non_null(ei_envset_put(fx->set, &first, NULL));
    assert_int_equal(ei_envset_reserve(fx->set, 0), 0);
    assert_int_equal(ei_envset_reserve(fx->set, 1000), 0);
    /* a reserve smaller than what the set holds is no shrink */
    assert_int_equal(ei_envset_reserve(fx->set, 3), 0);
    char keys[1000][8];
    for (size_t i = 0; i < 1000; i++) {
        snprintf(keys[i], sizeof keys[i], "K_%zu", i);
        struct ei_entry e = mk(keys[i], keys[i], 0, 1);
        struct ei_entry *old = NULL;
        assert_non_null(ei_envset_put(fx->set, &e, &old));
        if (i == 0)
            assert_string_equal(old->value, "first");
        else
            assert_null(old);
    }
    assert_int_equal(ei_envset_count(fx->set), 1000);
    for (size_t i = 0; i < 1000; i++)
        assert_string_equal(ei_envset_get(fx->set, keys[i])->value, keys[i]);

    /* more than a set can number: refused, and the set is as it was */
    errno = 0;
    assert_int_equal(ei_envset_reserve(fx->set, SIZE_MAX), -1);
    assert_int_equal(errno, ENOMEM);
    errno = 0;
    assert_int_equal(ei_envset_reserve(fx->set, (size_t)UINT32_MAX - 1000), -1);
    assert_int_equal(errno, ENOMEM);
    assert_int_equal(ei_envset_count(fx->set), 1000);
    assert_string_equal(ei_envset_get(fx->set, "K_999")->value, "K_999");
    errno = 0;
    assert_int_equal(ei_envset_reserve(NULL, 1), -1);
    assert_int_equal(errno, EINVAL);

    /* reserving in an empty set, before its first key */
    struct ei_envset *empty = ei_envset_new(fx->store);
    assert_non_null(empty);
    assert_int_equal(ei_envset_reserve(empty, 20), 0);
    assert_null(ei_envset_get(empty, "K_1"));
    struct ei_entry e = mk("K_1", "one", 0, 0);
    assert_non_null(ei_envset_put(empty, &e, NULL));
    assert_string_equal(ei_envset_get(empty, "K_1")->value, "one");
    ei_envset_free(empty);
}

/* every byte, as the first of a key and after a letter, against the
   rule spelled out in ranges (the table must agree) */
static void test_key_valid_bytes(void **state)
{
    (void)state;
    for (unsigned c = 0; c < 256; c++) {
        bool letter =
            (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
        bool digit = c >= '0' && c <= '9';
        char head[1] = {(char)c};
        char tail[2] = {'A', (char)c};
        if (ei_key_valid(head, 1) != letter)
            fail_msg("byte %u as the first of a key", c);
        if (ei_key_valid(tail, 2) != (letter || digit))
            fail_msg("byte %u after a letter", c);
    }
}

/* ei_key_len agrees with strlen and ei_key_valid on every key case, and
   holds to max on both sides */
static void test_key_len(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(key_cases) / sizeof(key_cases[0]); i++) {
        const char *s = key_cases[i].s;
        if (s == NULL || key_cases[i].len != SIZE_MAX)
            continue; /* a length of its own: not a whole string */
        size_t want = ei_key_valid(s, strlen(s)) ? strlen(s) : 0;
        if (ei_key_len(s, 64) != want)
            fail_msg("case %zu: %zu, want %zu", i, ei_key_len(s, 64), want);
    }
    assert_int_equal(ei_key_len(NULL, 64), 0);
    assert_int_equal(ei_key_len("ABC", 3), 3);
    assert_int_equal(ei_key_len("ABC", 2), 0);
    assert_int_equal(ei_key_len("A", 1), 1);
    assert_int_equal(ei_key_len("A", 0), 0);
    assert_int_equal(ei_key_len("AB-", 64), 0);
    assert_int_equal(ei_key_len("A_9z", 4), 4);
}

static void test_key_valid(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(key_cases) / sizeof(key_cases[0]); i++) {
        size_t len = key_cases[i].len;
        if (len == SIZE_MAX)
            len = strlen(key_cases[i].s);
        if (ei_key_valid(key_cases[i].s, len) != key_cases[i].valid)
            fail_msg("case %zu: want %s", i,
                     key_cases[i].valid ? "valid" : "invalid");
    }
}

int main(void)
{
    if (ei_secmem_init() != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_and_bad, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_adopt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_adopt_at, setup, teardown),
        cmocka_unit_test_setup_teardown(test_adopt_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reserve, setup, teardown),
        cmocka_unit_test(test_key_valid),
        cmocka_unit_test(test_key_valid_bytes),
        cmocka_unit_test(test_key_len),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
