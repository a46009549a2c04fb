/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the parsers of the azure-keyvault provider
   (providers/azure/keyvault.h and identity.h) on arbitrary bytes: Key
   Vault list pages, secret bundles and error bodies, Entra ID token
   answers, and, as text, challenges, nextLinks and vault URLs; checking
   what every result and every error must look like. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <envinject/provider.h>

#include "azure/identity.h"
#include "azure/keyvault.h"

#define FUZZ_WHAT  "fuzz"
#define FUZZ_TOKEN 64 /* small, so that long tokens take the error path */
#define FUZZ_NOW   1700000000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An error is one line, and its status is the one returned. */
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

static int fuzz_name(void *ctx, const char *name, struct ei_error *err)
{
    (void)err;
    size_t *n = ctx;
    if (!ei_azure_name_ok(name, strlen(name)))
        abort();
    (*n)++;
    return 0;
}

static int fuzz_value(void *ctx, const char *value, size_t len,
                      const char *version, struct ei_error *err)
{
    (void)err;
    size_t *n = ctx;
    if (value == NULL || memchr(value, '\0', len) != NULL ||
        (version[0] != '\0' && !ei_azure_name_ok(version, strlen(version))))
        abort();
    *n += len;
    return 0;
}

static bool fuzz_printable(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
            return false;
    return true;
}

static void fuzz_text(const char *s)
{
    char tenant[EI_AZURE_TENANT_MAX], scope[EI_AZURE_SCOPE_MAX];
    const char *why = NULL;
    if (ei_azure_parse_challenge(s, "myvault.vault.azure.net", tenant, scope,
                                 &why) == 0) {
        size_t n = strlen(scope);
        /* the scheme in any case, as URLs allow */
        if (strncasecmp(scope, "https://", 8) != 0 || !fuzz_printable(scope) ||
            n >= EI_AZURE_SCOPE_MAX || strlen(tenant) >= EI_AZURE_TENANT_MAX)
            abort();
    } else if (why == NULL) {
        abort();
    }
    char path[EI_AZURE_LINK_MAX];
    why = NULL;
    if (ei_azure_next_link(s, "https://myvault.vault.azure.net", path, &why) ==
        0) {
        if (path[0] != '/' || !fuzz_printable(path) ||
            (strstr(path, "api-version=") == NULL &&
             strstr(path, "api%2Dversion=") == NULL &&
             strstr(path, "api%2dversion=") == NULL))
            abort();
    } else if (why == NULL) {
        abort();
    }
    char base[EI_AZURE_BASE_MAX], host[EI_AZURE_BASE_MAX],
        name[EI_AZURE_BASE_MAX];
    why = NULL;
    if (ei_azure_vault_url(s, base, host, name, &why) == 0) {
        if (strncmp(base, "https://", 8) != 0 || strchr(host, '/') != NULL ||
            strlen(name) < 3 || strlen(name) > 24)
            abort();
    } else if (why == NULL) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct ei_error err = {0};
    size_t names = 0, disabled = 0;
    char *next = NULL;
    enum ei_status st = ei_azure_parse_list(buf, size, FUZZ_WHAT, fuzz_name,
                                            &names, &disabled, &next, &err);
    fuzz_check_err(st, &err);
    if (st != EI_OK && next != NULL)
        abort();
    free(next);

    memset(&err, 0, sizeof(err));
    size_t total = 0;
    st = ei_azure_parse_secret(buf, size, FUZZ_WHAT, fuzz_value, &total, &err);
    fuzz_check_err(st, &err);

    memset(&err, 0, sizeof(err));
    char tok[FUZZ_TOKEN];
    size_t tok_len = 0;
    int64_t exp = 0;
    st = ei_azure_parse_token(buf, size, FUZZ_NOW, FUZZ_WHAT, tok, sizeof(tok),
                              &tok_len, &exp, &err);
    fuzz_check_err(st, &err);
    if (st == EI_OK &&
        (tok_len == 0 || tok_len >= sizeof(tok) || strlen(tok) != tok_len ||
         !fuzz_printable(tok) || (exp != 0 && exp <= FUZZ_NOW)))
        abort();

    char code[EI_AZURE_CODE_MAX], inner[EI_AZURE_CODE_MAX];
    bool dis = false;
    ei_azure_parse_kv_error(buf, size, code, inner, &dis);
    if (!fuzz_printable(code) || !fuzz_printable(inner))
        abort();
    ei_azure_parse_token_error(buf, size, code, sizeof(code), inner,
                               sizeof(inner));
    if (!fuzz_printable(code) || !fuzz_printable(inner))
        abort();

    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    fuzz_text(text);
    free(text);
    return 0;
}
