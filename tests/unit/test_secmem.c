/* SPDX-License-Identifier: MIT */
/* Unit tests of the memory stores, the jansson allocator and ei_secmem_cmp. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <jansson.h>
#include <sodium.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#endif

#include "secmem.h"

static bool aligned(const void *p)
{
    return ((uintptr_t)p % alignof(max_align_t)) == 0;
}

static bool all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != 0)
            return false;
    }
    return true;
}

static const size_t alloc_sizes[] = {
    0,     1,      7,     15,   16,    17,    100,
    1000,  8191,   8192,  8193, 16384, 32768, 32769,
    65536, 100000, 70000, 15,   3,     1,     2u * 1024 * 1024,
    5,     12345,
};

/* Every allocation is aligned, zeroed and disjoint from the others. */
static void check_alloc_table(bool secret)
{
    size_t n = sizeof(alloc_sizes) / sizeof(alloc_sizes[0]);
    for (int round = 0; round < 2; round++) {
        struct ei_store *st = ei_store_new(secret);
        assert_non_null(st);
        assert_int_equal(ei_store_secret(st), secret);
        unsigned char *ptrs[sizeof(alloc_sizes) / sizeof(alloc_sizes[0])];
        for (size_t i = 0; i < n; i++) {
            ptrs[i] = ei_store_alloc(st, alloc_sizes[i]);
            assert_non_null(ptrs[i]);
            assert_true(aligned(ptrs[i]));
            assert_true(all_zero(ptrs[i], alloc_sizes[i]));
            /* dirty it: a later round reusing the memory must see zeros */
            memset(ptrs[i], (int)(0xa0 + i), alloc_sizes[i]);
        }
        for (size_t i = 0; i < n; i++) {
            for (size_t k = 0; k < alloc_sizes[i]; k++)
                assert_int_equal(ptrs[i][k], (unsigned char)(0xa0 + i));
            for (size_t j = i + 1; j < n; j++) {
                uintptr_t a = (uintptr_t)ptrs[i], b = (uintptr_t)ptrs[j];
                size_t la = alloc_sizes[i] ? alloc_sizes[i] : 1;
                size_t lb = alloc_sizes[j] ? alloc_sizes[j] : 1;
                assert_true(a + la <= b || b + lb <= a);
            }
        }
        ei_store_free(st);
    }
}

static void test_alloc_plain(void **state)
{
    (void)state;
    check_alloc_table(false);
}

static void test_alloc_secret(void **state)
{
    (void)state;
    check_alloc_table(true);
}

/* Many small allocations spanning many chunks keep their contents. */
static void check_many_small(bool secret)
{
    enum { COUNT = 60000 };
    struct ei_store *st = ei_store_new(secret);
    assert_non_null(st);
    unsigned char **p = calloc(COUNT, sizeof(*p));
    assert_non_null(p);
    for (size_t i = 0; i < COUNT; i++) {
        size_t len = 1 + i % 61;
        p[i] = ei_store_alloc(st, len);
        assert_non_null(p[i]);
        assert_true(aligned(p[i]));
        assert_true(all_zero(p[i], len));
        memset(p[i], (int)(i & 0xff), len);
    }
    for (size_t i = 0; i < COUNT; i++) {
        size_t len = 1 + i % 61;
        for (size_t k = 0; k < len; k++)
            assert_int_equal(p[i][k], (unsigned char)(i & 0xff));
    }
    free(p);
    ei_store_free(st);
}

static void test_many_small_plain(void **state)
{
    (void)state;
    check_many_small(false);
}

static void test_many_small_secret(void **state)
{
    (void)state;
    check_many_small(true);
}

/* A big request between small ones does not lose the small ones' chunk. */
static void test_large_between_small(void **state)
{
    (void)state;
    for (int secret = 0; secret < 2; secret++) {
        struct ei_store *st = ei_store_new(secret);
        assert_non_null(st);
        char *a = ei_store_strdup(st, "before");
        unsigned char *big = ei_store_alloc(st, 3u * 1024 * 1024);
        char *b = ei_store_strdup(st, "after");
        assert_non_null(a);
        assert_non_null(big);
        assert_non_null(b);
        assert_true(all_zero(big, 3u * 1024 * 1024));
        memset(big, 0x5a, 3u * 1024 * 1024);
        assert_string_equal(a, "before");
        assert_string_equal(b, "after");
        /* "after" went into the first chunk, right behind "before" */
        assert_true((uintptr_t)b > (uintptr_t)a &&
                    (uintptr_t)b - (uintptr_t)a < 64);
        assert_int_equal(big[3u * 1024 * 1024 - 1], 0x5a);
        ei_store_free(st);
    }
}

static const struct {
    const char *s;
    size_t len;
    const char *want;
    size_t want_len;
} dup_cases[] = {
    {"", 0, "", 0},         {"abc", 3, "abc", 3}, {"abcdef", 3, "abc", 3},
    {"a\0b", 3, "a\0b", 3}, {"x", 0, "", 0},
};

static void test_strndup(void **state)
{
    (void)state;
    for (int secret = 0; secret < 2; secret++) {
        struct ei_store *st = ei_store_new(secret);
        assert_non_null(st);
        for (size_t i = 0; i < sizeof(dup_cases) / sizeof(dup_cases[0]); i++) {
            char *p = ei_store_strndup(st, dup_cases[i].s, dup_cases[i].len);
            assert_non_null(p);
            assert_memory_equal(p, dup_cases[i].want, dup_cases[i].want_len);
            assert_int_equal(p[dup_cases[i].want_len], '\0');
            assert_ptr_not_equal(p, dup_cases[i].s);
        }
        char *d = ei_store_strdup(st, "hello world");
        assert_non_null(d);
        assert_string_equal(d, "hello world");
        assert_null(ei_store_strdup(st, NULL));
        assert_null(ei_store_strndup(st, NULL, 3));
        ei_store_free(st);
    }
}

static const size_t huge_sizes[] = {
    SIZE_MAX,
    SIZE_MAX - 1,
    SIZE_MAX - 15,
    SIZE_MAX - 64,
    SIZE_MAX / 2 + 1,
    (size_t)PTRDIFF_MAX,
    (size_t)PTRDIFF_MAX / 2 + 1,
};

static void test_overflow(void **state)
{
    (void)state;
    for (int secret = 0; secret < 2; secret++) {
        struct ei_store *st = ei_store_new(secret);
        assert_non_null(st);
        for (size_t i = 0; i < sizeof(huge_sizes) / sizeof(huge_sizes[0]);
             i++) {
            assert_null(ei_store_alloc(st, huge_sizes[i]));
            /* only the length is looked at before the refusal */
            assert_null(ei_store_strndup(st, "x", huge_sizes[i]));
        }
        /* the store is still usable afterwards */
        char *p = ei_store_strdup(st, "ok");
        assert_non_null(p);
        assert_string_equal(p, "ok");
        /* and refuses them as well with a current chunk, whose room is
           tested first */
        for (size_t i = 0; i < sizeof(huge_sizes) / sizeof(huge_sizes[0]);
             i++) {
            errno = 0;
            assert_null(ei_store_alloc(st, huge_sizes[i]));
            assert_int_equal(errno, ENOMEM);
        }
        assert_string_equal(p, "ok");
        assert_non_null(ei_store_alloc(st, 0));
        ei_store_free(st);
    }
    assert_null(ei_store_alloc(NULL, 1));
    ei_store_free(NULL);
    assert_false(ei_store_secret(NULL));
    assert_int_equal(ei_store_unlocked(NULL), 0);
}

#ifdef __linux__
/*
 * Lower or raise CAP_IPC_LOCK in the effective set, so that root obeys
 * RLIMIT_MEMLOCK; it stays in the permitted set, so it can come back.
 */
static void ipc_lock_effective(bool on)
{
    struct __user_cap_header_struct hdr = {.version =
                                               _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof(data));
    if (syscall(SYS_capget, &hdr, data) != 0)
        return;
    if ((data[CAP_TO_INDEX(CAP_IPC_LOCK)].permitted &
         CAP_TO_MASK(CAP_IPC_LOCK)) == 0)
        return;
    if (on)
        data[CAP_TO_INDEX(CAP_IPC_LOCK)].effective |= CAP_TO_MASK(CAP_IPC_LOCK);
    else
        data[CAP_TO_INDEX(CAP_IPC_LOCK)].effective &=
            ~CAP_TO_MASK(CAP_IPC_LOCK);
    (void)syscall(SYS_capset, &hdr, data);
}
#endif

/* Locking failures are counted, and a store with enough room has none. */
static void test_unlocked(void **state)
{
    (void)state;
    struct ei_store *st = ei_store_new(true);
    assert_non_null(st);
    assert_non_null(ei_store_alloc(st, 100));
    size_t before = ei_store_unlocked(st);
    ei_store_free(st);
    struct rlimit rl;
    assert_int_equal(getrlimit(RLIMIT_MEMLOCK, &rl), 0);
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= 1024 * 1024)
        assert_int_equal(before, 0);

#if defined(__SANITIZE_ADDRESS__)
    /*
     * AddressSanitizer turns mlock into a no-op that always succeeds.  Not
     * cmocka's skip(): its TAP line "not ok # SKIP" counts as a failure in
     * Automake's tap-driver.
     */
    print_message("# mlock is not checked under AddressSanitizer\n");
    return;
#endif
#ifdef __linux__
    ipc_lock_effective(false);
#endif
    struct rlimit zero = {0, rl.rlim_max};
    int set = setrlimit(RLIMIT_MEMLOCK, &zero);
    struct ei_store *s = ei_store_new(true);
    char *a = s ? ei_store_strdup(s, "locked?") : NULL;
    void *b = s ? ei_store_alloc(s, 200000) : NULL; /* a chunk of its own */
    size_t unlocked = ei_store_unlocked(s);
    ei_store_free(s);
    /* restore before asserting, so that a failure leaves nothing behind */
    int reset = setrlimit(RLIMIT_MEMLOCK, &rl);
#ifdef __linux__
    ipc_lock_effective(true);
#endif
    assert_int_equal(set, 0);
    assert_int_equal(reset, 0);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(unlocked, 2);
}

static void test_jansson_funcs(void **state)
{
    (void)state;
    assert_int_equal(ei_secmem_init(), 0);
    json_malloc_t m1 = NULL;
    json_free_t f1 = NULL;
    json_get_alloc_funcs(&m1, &f1);
    assert_non_null(m1);
    assert_non_null(f1);
    assert_ptr_not_equal(m1, malloc);
    assert_ptr_not_equal(f1, free);
    /* idempotent */
    assert_int_equal(ei_secmem_init(), 0);
    json_malloc_t m2 = NULL;
    json_free_t f2 = NULL;
    json_get_alloc_funcs(&m2, &f2);
    assert_ptr_equal(m1, m2);
    assert_ptr_equal(f1, f2);

    static const size_t sizes[] = {0, 1, 13, 4096, 1000000};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        unsigned char *p = m1(sizes[i]);
        assert_non_null(p);
        assert_true(aligned(p));
        memset(p, 0x77, sizes[i]);
        f1(p);
    }
    f1(NULL);
    assert_null(m1(SIZE_MAX));
    assert_null(m1(SIZE_MAX - 8));

    json_error_t jerr;
    json_t *j =
        json_loads("{\"k\": \"v\", \"n\": [1, 2, {\"x\": true}]}", 0, &jerr);
    assert_non_null(j);
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    assert_non_null(s);
    assert_string_equal(s, "{\"k\":\"v\",\"n\":[1,2,{\"x\":true}]}");
    f1(s);
    json_decref(j);

#ifdef __linux__
    assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
#endif
}

/*
 * Run first, after main's ei_secmem_init alone: libsodium is left to the
 * first secret allocation (a start with no secret skips sodium_init and
 * its CPU probes), and that allocation sets it up (a child tries it, with
 * this process's libsodium still untouched) while the process is already
 * non-dumpable.
 */
static void test_sodium_on_first_use(void **state)
{
    (void)state;
#ifdef __linux__
    assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
#endif
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        unsigned char *p = ei_sodium_malloc(64);
        if (p == NULL)
            _exit(2);
        memset(p, 0x5a, 64);
        sodium_free(p);
        /* 1: already initialised */
        _exit(sodium_init() == 1 ? 0 : 3);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* 0: this call is the first */
    assert_int_equal(sodium_init(), 0);
}

/* The wiping allocator that jansson and libcurl get: realloc keeps the
   contents (up to the smaller size), calloc zeroes and refuses overflow. */
static void test_wipe_funcs(void **state)
{
    (void)state;
    static const struct {
        size_t from, to;
    } rs[] = {{0, 1}, {1, 0}, {5, 5}, {13, 4096}, {4096, 13}, {100, 1000000}};
    for (size_t i = 0; i < sizeof(rs) / sizeof(rs[0]); i++) {
        unsigned char *p = ei_wipe_malloc(rs[i].from);
        assert_non_null(p);
        for (size_t k = 0; k < rs[i].from; k++)
            p[k] = (unsigned char)(k * 7 + 1);
        unsigned char *q = ei_wipe_realloc(p, rs[i].to);
        assert_non_null(q);
        assert_true(aligned(q));
        size_t keep = rs[i].from < rs[i].to ? rs[i].from : rs[i].to;
        for (size_t k = 0; k < keep; k++)
            assert_int_equal(q[k], (unsigned char)(k * 7 + 1));
        /* the whole new size is usable (ASan checks) */
        memset(q, 0x55, rs[i].to);
        ei_wipe_free(q);
    }
    unsigned char *r = ei_wipe_realloc(NULL, 32);
    assert_non_null(r);
    memset(r, 1, 32);
    assert_null(ei_wipe_realloc(r, SIZE_MAX)); /* r is kept on failure */
    assert_int_equal(r[31], 1);
    ei_wipe_free(r);

    unsigned char *c = ei_wipe_calloc(100, 3);
    assert_non_null(c);
    for (size_t k = 0; k < 300; k++)
        assert_int_equal(c[k], 0);
    ei_wipe_free(c);
    assert_null(ei_wipe_calloc(SIZE_MAX / 2, 3));
    assert_null(ei_wipe_calloc(SIZE_MAX, SIZE_MAX));
    c = ei_wipe_calloc(0, 7);
    assert_non_null(c);
    ei_wipe_free(c);

    char *d = ei_wipe_strdup("token-abc");
    assert_non_null(d);
    assert_string_equal(d, "token-abc");
    ei_wipe_free(d);
    d = ei_wipe_strdup("");
    assert_non_null(d);
    assert_string_equal(d, "");
    ei_wipe_free(d);
    ei_wipe_free(NULL);
}

static const struct {
    const char *a;
    size_t a_len;
    const char *b;
    size_t b_len;
    bool equal;
} cmp_cases[] = {
    {"secret", 6, "secret", 6, true},
    {"secret", 6, "secreT", 6, false},
    {"secret", 6, "Secret", 6, false},
    {"secret", 6, "secret!", 7, false},
    {"secret!", 7, "secret", 6, false},
    {"", 0, "", 0, true},
    {"", 0, "x", 1, false},
    {"a\0b", 3, "a\0c", 3, false},
    {"a\0b", 3, "a\0b", 3, true},
};

static void test_cmp(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cmp_cases) / sizeof(cmp_cases[0]); i++) {
        int r = ei_secmem_cmp(cmp_cases[i].a, cmp_cases[i].a_len,
                              cmp_cases[i].b, cmp_cases[i].b_len);
        if (cmp_cases[i].equal)
            assert_int_equal(r, 0);
        else
            assert_int_not_equal(r, 0);
    }
}

int main(void)
{
    if (ei_secmem_init() != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sodium_on_first_use),
        cmocka_unit_test(test_alloc_plain),
        cmocka_unit_test(test_alloc_secret),
        cmocka_unit_test(test_many_small_plain),
        cmocka_unit_test(test_many_small_secret),
        cmocka_unit_test(test_large_between_small),
        cmocka_unit_test(test_strndup),
        cmocka_unit_test(test_overflow),
        cmocka_unit_test(test_unlocked),
        cmocka_unit_test(test_jansson_funcs),
        cmocka_unit_test(test_wipe_funcs),
        cmocka_unit_test(test_cmp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
