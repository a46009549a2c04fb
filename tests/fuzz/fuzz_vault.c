/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the parsers of Vault replies and ref+vault://
   references (providers/vault_parse.h) on arbitrary bytes, checking what
   every result and every error must look like. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <envinject/provider.h>
#include <jansson.h>

#include "vault_parse.h"

#define FUZZ_WHAT  "fuzz/path"
#define FUZZ_TOKEN 64 /* small, so that long tokens take the error path */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An error is one line, says where, and its status is the one returned. */
static void fuzz_check_err(enum ei_status st, const struct ei_error *err)
{
    if (st != err->status)
        abort();
    if (st == EI_OK)
        return;
    if (err->text[0] == '\0' || strchr(err->text, '\n') != NULL ||
        strchr(err->locator, '\n') != NULL)
        abort();
}

static int fuzz_text(void *ctx, const char *text, size_t len,
                     struct ei_error *err)
{
    size_t *total = ctx;
    if (text == NULL || memchr(text, '\0', len) != NULL)
        abort();
    *total += len;
    return 0;
}

static void fuzz_secret(const char *buf, size_t len, int kv)
{
    struct ei_error err = {0};
    json_t *fields = NULL;
    long long version = -1;
    enum ei_status st =
        ei_vault_parse_secret(buf, len, kv, FUZZ_WHAT, &fields, &version, &err);
    fuzz_check_err(st, &err);
    if (st != EI_OK) {
        if (fields != NULL)
            abort();
        return;
    }
    if (!json_is_object(fields) || version < 0)
        abort();
    const char *key;
    json_t *v;
    json_object_foreach(fields, key, v)
    {
        struct ei_error ferr = {0};
        size_t total = 0;
        enum ei_status fs =
            ei_vault_field_text(v, FUZZ_WHAT, fuzz_text, &total, &ferr);
        fuzz_check_err(fs, &ferr);
    }
    json_decref(fields);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    (void)ei_vault_parse_error(buf, size);
    fuzz_secret(buf, size, 1);
    fuzz_secret(buf, size, 2);

    struct ei_error err = {0};
    char mount[EI_VAULT_PATH_MAX];
    int kv = 0;
    enum ei_status st = ei_vault_parse_mount(buf, size, FUZZ_WHAT, mount,
                                             sizeof(mount), &kv, &err);
    fuzz_check_err(st, &err);
    if (st == EI_OK) {
        size_t n = strlen(mount);
        if (n == 0 || mount[n - 1] != '/' || (kv != 1 && kv != 2))
            abort();
    }

    memset(&err, 0, sizeof(err));
    char token[FUZZ_TOKEN];
    size_t token_len = 0;
    long long ttl = 0;
    st = ei_vault_parse_login(buf, size, FUZZ_WHAT, token, sizeof(token),
                              &token_len, &ttl, &err);
    fuzz_check_err(st, &err);
    if (st == EI_OK) {
        if (token_len == 0 || token_len >= sizeof(token) ||
            strlen(token) != token_len)
            abort();
        for (size_t i = 0; i < token_len; i++)
            if ((unsigned char)token[i] <= 0x20 ||
                (unsigned char)token[i] >= 0x7f)
                abort();
    }

    /* the same bytes as a reference */
    char *ref = malloc(size + 1);
    if (ref == NULL)
        return 0;
    memcpy(ref, data, size);
    ref[size] = '\0';
    memset(&err, 0, sizeof(err));
    char path[EI_VAULT_PATH_MAX], field[EI_VAULT_FIELD_MAX];
    st =
        ei_vault_parse_ref(ref, path, sizeof(path), field, sizeof(field), &err);
    fuzz_check_err(st, &err);
    if (st == EI_OK) {
        size_t pl = strlen(path), fl = strlen(field);
        /* no field: the whole secret (references follow vals) */
        if (pl == 0 || path[0] == '/' || path[pl - 1] == '/' ||
            (fl > 0 && (field[0] == '/' || field[fl - 1] == '/')) ||
            strstr(path, "//") != NULL || strchr(path, '?') != NULL)
            abort();
    }
    free(ref);
    return 0;
}
