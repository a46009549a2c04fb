/* SPDX-License-Identifier: MIT */
/* Test helper: encrypts standard input for a dotenvx public key, as
   "dotenvx encrypt" does, and prints "encrypted:BASE64": the integration
   cases make values (the canary) at run time with it.
   Usage: dotenvx-seal PUBLIC_KEY_HEX < PLAINTEXT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ecies.h"

#define SEAL_MAX 65536

int main(int argc, char **argv)
{
    unsigned char pub[EI_ECIES_POINT_LEN];
    size_t pub_len = 0;
    if (argc != 2 || sodium_init() < 0 ||
        sodium_hex2bin(pub, sizeof(pub), argv[1], strlen(argv[1]), NULL,
                       &pub_len, NULL) != 0) {
        fprintf(stderr, "usage: dotenvx-seal PUBLIC_KEY_HEX < PLAINTEXT\n");
        return 64;
    }
    static unsigned char plain[SEAL_MAX], blob[SEAL_MAX + EI_ECIES_OVERHEAD];
    static char b64[(SEAL_MAX + EI_ECIES_OVERHEAD) / 3 * 4 + 8];
    size_t n = fread(plain, 1, sizeof(plain), stdin);
    char why[160];
    struct ei_ecies *e = ei_ecies_new(why, sizeof(why));
    if (e == NULL) {
        fprintf(stderr, "dotenvx-seal: %s\n", why);
        return 70;
    }
    enum ei_ecies_result r = ei_ecies_encrypt(e, pub, pub_len, plain, n, blob);
    ei_ecies_free(e);
    if (r != EI_ECIES_OK) {
        fprintf(stderr, "dotenvx-seal: cannot encrypt (%d)\n", (int)r);
        return 65;
    }
    sodium_bin2base64(b64, sizeof(b64), blob, n + EI_ECIES_OVERHEAD,
                      sodium_base64_VARIANT_ORIGINAL);
    printf("encrypted:%s\n", b64);
    return 0;
}
