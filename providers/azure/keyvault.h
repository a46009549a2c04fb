/* SPDX-License-Identifier: MIT */
/* The parsers of the azure-keyvault provider, apart so that unit tests and
   the fuzz target reach them: the vault URL, the 401 challenge, list pages,
   secret bundles and error bodies of Key Vault's REST API. */
#ifndef EI_PROVIDERS_AZURE_KEYVAULT_H
#define EI_PROVIDERS_AZURE_KEYVAULT_H

#include <stdbool.h>
#include <stddef.h>

#include <envinject/provider.h>

/* Key Vault's limits: secret names 1-127 characters. */
#define EI_AZURE_NAME_MAX 127
/* "https://" + a host name + ":65535" */
#define EI_AZURE_BASE_MAX 300
/* a nextLink's path and query */
#define EI_AZURE_LINK_MAX 4096
/* a secret version: 32 hex digits */
#define EI_AZURE_VERSION_MAX 64

/*
 * Check a vault URL, https://NAME.SUFFIX[:PORT][/]: NAME a vault name
 * (3-24 letters, digits and '-', starting with a letter, no "--", not
 * ending in '-'), no user name, path, query or fragment.  base gets
 * "https://host[:port]" in lower case without ":443", host the host alone
 * and name the vault name (buffers of EI_AZURE_BASE_MAX bytes).  Returns
 * 0, or -1 with *why set.
 */
int ei_azure_vault_url(const char *url, char *base, char *host, char *name,
                       const char **why);

/* Whether s (len bytes) is a secret name: 1-127 of 0-9 a-z A-Z '-'. */
bool ei_azure_name_ok(const char *s, size_t len);

/*
 * Parse a WWW-Authenticate challenge of Key Vault ("Bearer
 * authorization=\"https://login.windows.net/TENANT\",
 * resource=\"https://vault.azure.net\""), as the SDKs do: the tenant is
 * the first path segment of authorization (or authorization_uri), the
 * scope is scope, else resource (or resource_id) with "/.default" added.
 * Then check, as the SDKs do before sending a token, that the scope's
 * host is a DNS suffix of vault_host (a host under ".localhost" counts
 * without that label).  tenant and scope are EI_AZURE_TENANT_MAX and
 * EI_AZURE_SCOPE_MAX bytes; tenant is "" when the challenge names none.
 * Returns 0, or -1 with *why set.
 */
int ei_azure_parse_challenge(const char *header, const char *vault_host,
                             char *tenant, char *scope, const char **why);

/*
 * The path and query of a nextLink, when it is an https URL on the vault
 * (base as ei_azure_vault_url writes it; host compared in any case, ":443"
 * the same as none), into path (EI_AZURE_LINK_MAX bytes), taken as it is:
 * the SDKs follow nextLink verbatim, and add api-version=7.5 only to a
 * link without one.  -1 with *why otherwise.
 */
int ei_azure_next_link(const char *link, const char *base, char *path,
                       const char **why);

/* Called with each enabled secret of a list page; 0 to go on, -1 to stop
   (err filled). */
typedef int (*ei_azure_name_fn)(void *ctx, const char *name,
                                struct ei_error *err);

/*
 * Parse a page of GET /secrets: name_fn gets the name (the last segment
 * of id) of every item whose attributes.enabled is not false; disabled
 * ones are counted in *disabled.  *next gets the nextLink as a malloc'd
 * string, NULL when it is absent or null.  EI_BADDATA (what as locator)
 * for malformed pages, or what name_fn set.
 */
enum ei_status ei_azure_parse_list(const char *body, size_t len,
                                   const char *what, ei_azure_name_fn name_fn,
                                   void *ctx, size_t *disabled, char **next,
                                   struct ei_error *err);

/* Called with a secret's value (its bytes stay the parser's, wiped after
   the call) and version ("" when the id has none). */
typedef int (*ei_azure_value_fn)(void *ctx, const char *value, size_t len,
                                 const char *version, struct ei_error *err);

/*
 * Parse a SecretBundle: value (a string) and the version, the segment of
 * id after the name.  EI_BADDATA for malformed answers, EI_DENIED when
 * attributes.enabled is false, or what value_fn set.
 */
enum ei_status ei_azure_parse_secret(const char *body, size_t len,
                                     const char *what,
                                     ei_azure_value_fn value_fn, void *ctx,
                                     struct ei_error *err);

/*
 * What an error body says: error.code and error.innererror.code (letters,
 * digits, '_' and '-' kept, "" when absent; EI_AZURE_CODE_MAX bytes), and
 * whether it is about a disabled secret (inner code SecretDisabled, or a
 * message that says "disabled").
 */
#define EI_AZURE_CODE_MAX 64
void ei_azure_parse_kv_error(const char *body, size_t len, char *code,
                             char *inner, bool *disabled);

#endif
