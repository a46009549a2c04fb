/* SPDX-License-Identifier: MIT */
/* libFuzzer target for audit record files (src/auditread.c): whatever the
   input, a failure is EI_BADDATA with a locator, and a record that parses
   has what diff --against relies on: valid key names, sorted, each once,
   hashes of 64 lowercase hex digits, a key id of 16. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auditread.h"
#include "envset.h"
#include "secmem.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (ei_secmem_init() < 0)
        abort();
    return 0;
}

static bool lower_hex(const char *s, size_t n)
{
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (strchr("0123456789abcdef", s[i]) == NULL)
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ei_error err = {0};
    struct ei_audit_record *r =
        ei_audit_record_parse((const char *)data, size, "fuzz", &err);
    if (r == NULL) {
        if ((err.status != EI_BADDATA && err.status != EI_NOMEM) ||
            strncmp(err.locator, "fuzz", 4) != 0)
            abort();
        return 0;
    }
    if (r->line == 0 || !lower_hex(r->key_id, EI_AUDIT_ID_HEX - 1) ||
        r->environment == NULL || r->time == NULL || r->time[0] == '\0')
        abort();
    for (size_t i = 0; i < r->keys_n; i++) {
        const struct ei_audit_entry *e = &r->keys[i];
        if (!ei_key_valid(e->name, strlen(e->name)) || e->layer == NULL ||
            !lower_hex(e->hash, EI_AUDIT_HASH_HEX - 1) ||
            (i > 0 && strcmp(r->keys[i - 1].name, e->name) >= 0) ||
            ei_audit_record_get(r, e->name) != e)
            abort();
    }
    ei_audit_record_free(r);
    return 0;
}
