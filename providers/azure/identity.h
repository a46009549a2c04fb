/* SPDX-License-Identifier: MIT */
/* Microsoft Entra ID access tokens for the azure-keyvault provider: the
   credential chain of azure-identity's DefaultAzureCredential, without the
   developer tools (client secret, workload identity, managed identity). */
#ifndef EI_PROVIDERS_AZURE_IDENTITY_H
#define EI_PROVIDERS_AZURE_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include <envinject/provider.h>

/* The longest access token accepted (Entra tokens are 1-3 KiB; group
   claims can make them larger). */
#define EI_AZURE_TOKEN_MAX 16384
/* Tenant ids: a GUID or a domain name. */
#define EI_AZURE_TENANT_MAX 256
/* A scope ("https://vault.azure.net/.default") or resource. */
#define EI_AZURE_SCOPE_MAX 512

/* The credential chosen from the options and the environment. */
enum ei_azure_source {
    EI_AZURE_CLIENT_SECRET = 0, /* AZURE_CLIENT_SECRET or client_secret_file */
    EI_AZURE_WORKLOAD,          /* AZURE_FEDERATED_TOKEN_FILE */
    EI_AZURE_APP_SERVICE,       /* IDENTITY_ENDPOINT + IDENTITY_HEADER */
    EI_AZURE_IMDS               /* the instance metadata service */
};

struct ei_azure_identity;

/*
 * Choose the credential as DefaultAzureCredential does, in order: the
 * environment credential (tenant and client id from the layer's tenant and
 * client_id options or AZURE_TENANT_ID and AZURE_CLIENT_ID, the secret from
 * client_secret_file or AZURE_CLIENT_SECRET), workload identity
 * (AZURE_FEDERATED_TOKEN_FILE), managed identity (IDENTITY_ENDPOINT with
 * IDENTITY_HEADER, else IMDS at AZURE_POD_IDENTITY_AUTHORITY_HOST or
 * 169.254.169.254).  Reads the options tenant, client_id and
 * client_secret_file, opens the HTTP clients it needs and does no I/O.
 * EI_BADCONFIG for bad options or variables, EI_DENIED for a managed
 * identity this provider cannot use (Service Fabric, Azure Arc, Cloud
 * Shell).  *out is freed with ei_azure_identity_free.
 */
enum ei_status ei_azure_identity_new(const struct ei_host *h,
                                     struct ei_azure_identity **out,
                                     struct ei_error *err);

/* As ei_azure_identity_new, its connections trusting the CA bundle
   cacert when the layer sets no cacert option (cacert may be NULL). */
enum ei_status ei_azure_identity_new_ca(const struct ei_host *h,
                                        const char *cacert,
                                        struct ei_azure_identity **out,
                                        struct ei_error *err);

/* The source chosen, and words for it in messages ("managed identity
   (IMDS)"). */
enum ei_azure_source
ei_azure_identity_source(const struct ei_azure_identity *id);
const char *ei_azure_identity_describe(const struct ei_azure_identity *id);

/*
 * An access token for scope (a resource followed by "/.default"), from
 * tenant (the vault's, learnt from its challenge; NULL: the configured
 * one).  The credentials that name a tenant refuse another one, as
 * azure-identity does without additionally_allowed_tenants.  *header
 * receives "Authorization: Bearer TOKEN" in secret memory, *size its
 * allocation (free with h->secret_free); *expires_on the token's expiry
 * in Unix seconds, 0 when the answer did not say.  EI_DENIED when the
 * token endpoint refused, EI_UNAVAILABLE when it did not answer,
 * EI_BADDATA for a malformed answer.
 */
enum ei_status ei_azure_identity_token(struct ei_azure_identity *id,
                                       const char *tenant, const char *scope,
                                       const struct ei_deadline *dl,
                                       char **header, size_t *size,
                                       int64_t *expires_on,
                                       struct ei_error *err);

/* Close the clients and free; NULL is fine. */
void ei_azure_identity_free(struct ei_azure_identity *id);

/*
 * Parse a token answer (Entra v2, IMDS or App Service): access_token (a
 * string of header-safe bytes, copied to tok, cap bytes with the NUL),
 * expires_on (Unix seconds as a number or a string of digits) or else
 * expires_in (seconds, number or string) added to now.  *expires_on is 0
 * when neither is there or expires_on is a date text.  EI_BADDATA (err
 * filled, what as locator) for malformed JSON, a missing token or an
 * expired one; the token never appears in err.
 */
enum ei_status ei_azure_parse_token(const char *body, size_t len, int64_t now,
                                    const char *what, char *tok, size_t cap,
                                    size_t *tok_len, int64_t *expires_on,
                                    struct ei_error *err);

/*
 * What an error answer of a token endpoint says: its "error" code (OAuth
 * 2.0, IMDS) or error.code, and the first AADSTSnnnnn code of
 * error_description, into code and aadsts (each NUL-terminated, "" when
 * absent); only letters, digits, '_' and '-' are kept.
 */
void ei_azure_parse_token_error(const char *body, size_t len, char *code,
                                size_t code_len, char *aadsts,
                                size_t aadsts_len);

/*
 * The letters, digits, '_' and '-' at the start of s (n bytes) into out
 * (out_len >= 1, NUL-terminated): the part of a server's error code that
 * is fit for a message.
 */
void ei_azure_code_word(const char *s, size_t n, char *out, size_t out_len);

#endif
