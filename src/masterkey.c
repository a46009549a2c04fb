/* SPDX-License-Identifier: MIT */
/* Master keys (masterkey.h): 64 hex digits from a variable or a private
   file, parsed with libsodium into the caller's secret memory. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "diag.h"
#include "masterkey.h"
#include "readfile.h"

int ei_master_key_parse(const char *text, size_t len, const char *use,
                        const char *what, unsigned char *key,
                        struct ei_error *err)
{
    if (len > 0 && text[len - 1] == '\n') {
        len--;
        if (len > 0 && text[len - 1] == '\r')
            len--;
    }
    size_t bin_len = 0;
    const char *end = NULL;
    if (len == 2 * EI_MASTER_KEY_LEN &&
        sodium_hex2bin(key, EI_MASTER_KEY_LEN, text, len, NULL, &bin_len,
                       &end) == 0 &&
        bin_len == EI_MASTER_KEY_LEN && end == text + len)
        return 0;
    sodium_memzero(key, EI_MASTER_KEY_LEN);
    /* the length is safe to say; the digits are not */
    ei_error_set(err, EI_BADCONFIG, 0, NULL, what,
                 "%s key must be %d hex digits (32 bytes), found %zu "
                 "characters%s",
                 use, 2 * EI_MASTER_KEY_LEN, len,
                 len == 2 * EI_MASTER_KEY_LEN ? " that are not all hex" : "");
    return -1;
}

int ei_master_key_read(const char *use, const char *var, const char *key_file,
                       const char *where, const char *const *envp,
                       unsigned char *key, struct ei_error *err)
{
    size_t var_len = strlen(var);
    for (const char *const *e = envp; e != NULL && *e != NULL; e++)
        if (strncmp(*e, var, var_len) == 0 && (*e)[var_len] == '=') {
            const char *v = *e + var_len + 1;
            char what[128];
            snprintf(what, sizeof(what), "$%s", var);
            return ei_master_key_parse(v, strlen(v), use, what, key, err);
        }
    if (key_file == NULL)
        return ei_error_set(err, EI_BADCONFIG, 0, NULL, where,
                            "%s: no key: set key_file or $%s (64 hex digits)",
                            use, var),
               -1;
    struct ei_buf buf;
    struct ei_error ferr = {0};
    if (ei_readfile(key_file, EI_READ_SECRET | EI_READ_PRIVATE, 4096, &buf,
                    &ferr) != EI_OK) {
        ei_error_set(err, ferr.status, ferr.errnum, NULL, ferr.locator,
                     "%s key_file: %s", use, ferr.text);
        return -1;
    }
    int rc = ei_master_key_parse(buf.data, buf.len, use, key_file, key, err);
    ei_readfile_free(&buf);
    return rc;
}
