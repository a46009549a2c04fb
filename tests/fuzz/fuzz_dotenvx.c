/* SPDX-License-Identifier: MIT */
/* libFuzzer target for dotenvx's encrypted values: the value parser and
   decryption (base64, blob, curve point, tag), the key-list parser and the
   key naming, with invariants that hold whatever the input. */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "dotenvx.h"
#include "ecies.h"

/* The private key that the seeds (values of tests/fixtures/dotenvx/.env,
   copied) were encrypted to: with it the fuzzer reaches a decryption that
   succeeds, and tag checks that fail on one changed byte. */
#define FUZZ_KEY                                                               \
    "b61ed989361fdf92618a44552188eb17c87fd6cebb96590fcb648c64e2e9f902"
#define FUZZ_VALUE_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_dotenvx: invariant broken: %s\n", what);
        abort();
    }
}

static struct ei_ecies *fuzz_ecies(void)
{
    static struct ei_ecies *e;
    if (e == NULL) {
        char why[160];
        fuzz_check(sodium_init() >= 0, "sodium_init");
        e = ei_ecies_new(why, sizeof(why));
        if (e == NULL) {
            fprintf(stderr, "fuzz_dotenvx: %s\n", why);
            abort();
        }
    }
    return e;
}

static void fuzz_decrypt(const char *value, size_t len)
{
    unsigned char keys[2][EI_ECIES_KEY_LEN];
    size_t n = 0;
    fuzz_check(sodium_hex2bin(keys[1], EI_ECIES_KEY_LEN, FUZZ_KEY,
                              strlen(FUZZ_KEY), NULL, &n, NULL) == 0,
               "the key decodes");
    /* a wrong key first: the right one must still be tried */
    memset(keys[0], 0x11, EI_ECIES_KEY_LEN);
    size_t cap = ei_dotenvx_plain_max(len);
    unsigned char *out = malloc(cap);
    fuzz_check(out != NULL, "malloc");
    memset(out, 0xAA, cap);
    size_t out_len = 12345;
    enum ei_dotenvx_result r = ei_dotenvx_decrypt(
        fuzz_ecies(), (const unsigned char(*)[EI_ECIES_KEY_LEN])keys, 2, value,
        len, out, &out_len);
    fuzz_check(r >= EI_DOTENVX_OK && r <= EI_DOTENVX_NOMEM, "known result");
    fuzz_check(r != EI_DOTENVX_BAD_KEY, "both keys are in range");
    if (r == EI_DOTENVX_OK) {
        fuzz_check(out_len <= cap, "plaintext fits the bound");
        fuzz_check(len > strlen(EI_DOTENVX_PREFIX) &&
                       memcmp(value, EI_DOTENVX_PREFIX,
                              strlen(EI_DOTENVX_PREFIX)) == 0,
                   "only a prefixed value decrypts");
    } else {
        fuzz_check(out_len == 0, "no length on failure");
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_VALUE_MAX)
        return 0;
    char *text = malloc(size + 1);
    fuzz_check(text != NULL, "malloc");
    memcpy(text, data, size);
    text[size] = '\0';

    fuzz_decrypt(text, size);

    unsigned char keys[EI_DOTENVX_MAX_KEYS][EI_ECIES_KEY_LEN];
    int n = ei_dotenvx_parse_keys(text, size, keys);
    fuzz_check(n == -1 || (n >= 1 && n <= EI_DOTENVX_MAX_KEYS),
               "key count in range");
    if (n > 0)
        fuzz_check(size >= (size_t)n * 64 + (size_t)(n - 1), "64 digits a key");

    /* the input as a file name, and as the name after DOTENV_PUBLIC_KEY */
    char name[EI_DOTENVX_NAME_MAX];
    if (memchr(data, '\0', size) == NULL) {
        if (ei_dotenvx_key_name(text, NULL, name, sizeof(name)) == 0)
            fuzz_check(strncmp(name, EI_DOTENVX_PRIVATE,
                               strlen(EI_DOTENVX_PRIVATE)) == 0,
                       "a private key name");
        char pub[FUZZ_VALUE_MAX + 32];
        snprintf(pub, sizeof(pub), "%s%s", EI_DOTENVX_PUBLIC, text);
        if (ei_dotenvx_key_name(".env", pub, name, sizeof(name)) == 0)
            fuzz_check(strcmp(name + strlen(EI_DOTENVX_PRIVATE), text) == 0,
                       "the public key's suffix kept");
    }
    free(text);
    return 0;
}
