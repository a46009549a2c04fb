/* SPDX-License-Identifier: MIT */
/* Unit tests of the audit record's key and hashes: a fixed key gives the
   fixed id and hashes computed independently (python3's hashlib.blake2b
   with the KDF as libsodium documents it: salt = the subkey's id as 8
   little-endian bytes + zeros, personal = the context + zeros); another
   name, value or key gives another hash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "audit.h"

#define KEY_A "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define KEY_B "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define ENV_A "ENVINJECT_AUDIT_KEY=" KEY_A
#define ENV_B "ENVINJECT_AUDIT_KEY=" KEY_B

static struct ei_audit_key *key_of(const char *assignment)
{
    const char *envp[] = {"OTHER=1", assignment, NULL};
    struct ei_error err = {0};
    struct ei_audit_key *k = ei_audit_key_read(NULL, "test", envp, &err);
    assert_non_null(k);
    return k;
}

struct hash_case {
    const char *key;
    const char *name;
    const char *value;
    const char *want;
};

static const struct hash_case hash_cases[] = {
    {ENV_A, "DB_URL", "postgres://x",
     "cb1e0c45e8506f46cead5d47e761546ac4f86be77ec7b1bc7b65547b871736bf"},
    /* another name, the same value */
    {ENV_A, "DB_URM", "postgres://x",
     "fc21c87ae401e166e7d4d96bc537db2c09e0540587001819e8e1a1b4d1935827"},
    {ENV_A, "EMPTY", "",
     "2b5d263e792958fadeae7f614781d724f4339545d299f6ca697614973355bedc"},
    /* another key, the same name and value */
    {ENV_B, "DB_URL", "postgres://x",
     "afedf57b88cc33129ec73e851d1780ef373aa28b12fac6c91fb5f65bb1967eea"},
};

static void test_hash_fixed(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(hash_cases) / sizeof(hash_cases[0]); i++) {
        const struct hash_case *c = &hash_cases[i];
        struct ei_audit_key *k = key_of(c->key);
        char out[EI_AUDIT_HASH_HEX];
        ei_audit_value_hash(k, c->name, c->value, strlen(c->value), out);
        assert_string_equal(out, c->want);
        ei_audit_key_free(k);
    }
}

static void test_hash_differs(void **state)
{
    (void)state;
    struct ei_audit_key *k = key_of(ENV_A);
    char a[EI_AUDIT_HASH_HEX], b[EI_AUDIT_HASH_HEX];
    /* the NUL between name and value: "AB"+"C" is not "A"+"BC" */
    ei_audit_value_hash(k, "AB", "C", 1, a);
    ei_audit_value_hash(k, "A", "BC", 2, b);
    assert_string_not_equal(a, b);
    /* len bytes, not up to a NUL */
    ei_audit_value_hash(k, "A", "x\0y", 3, a);
    ei_audit_value_hash(k, "A", "x\0z", 3, b);
    assert_string_not_equal(a, b);
    ei_audit_value_hash(k, "A", "v", 1, a);
    ei_audit_value_hash(k, "A", "v", 1, b);
    assert_string_equal(a, b);
    ei_audit_key_free(k);
}

static void test_key_id(void **state)
{
    (void)state;
    struct ei_audit_key *a = key_of(ENV_A), *b = key_of(ENV_B);
    char ia[EI_AUDIT_ID_HEX], ib[EI_AUDIT_ID_HEX];
    ei_audit_key_id(a, ia);
    ei_audit_key_id(b, ib);
    assert_string_equal(ia, "ed7bcfb7e9469c8f");
    assert_string_equal(ib, "45225e09e3ca5704");
    ei_audit_key_free(a);
    ei_audit_key_free(b);
}

static void test_key_errors(void **state)
{
    (void)state;
    struct ei_error err = {0};
    const char *none[] = {NULL};
    assert_null(ei_audit_key_read(NULL, "conf:3: audit", none, &err));
    assert_int_equal(err.status, EI_BADCONFIG);
    assert_non_null(strstr(err.text, "ENVINJECT_AUDIT_KEY"));
    struct ei_error err2 = {0};
    const char *bad[] = {"ENVINJECT_AUDIT_KEY=0102", NULL};
    assert_null(ei_audit_key_read(NULL, "x", bad, &err2));
    assert_int_equal(err2.status, EI_BADCONFIG);
    assert_null(strstr(err2.text, "0102"));
    ei_audit_key_free(NULL);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_fixed),
        cmocka_unit_test(test_hash_differs),
        cmocka_unit_test(test_key_id),
        cmocka_unit_test(test_key_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
