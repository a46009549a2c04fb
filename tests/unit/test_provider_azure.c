/* SPDX-License-Identifier: MIT */
/* Unit tests of the azure-keyvault provider (providers/azure): its parsers
   (vault URL, challenge, nextLink, list pages, secret bundles, token
   answers, error bodies), the token chain's choice of credential, and
   every request of a fetch, through the fake host's canned HTTP. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <envinject/provider.h>

#include "expand.h"
#include "host.h"
#include "azure/identity.h"
#include "azure/keyvault.h"

extern const struct ei_provider ei_provider_azure_keyvault;

#define CANARY     "EI_CANARY_4zur3c4n4ry"
#define TOKEN      "eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJ2YXVsdCJ9.sig-" CANARY
#define TOKEN2     "eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJ2YXVsdCJ9.new-" CANARY
#define SECRET     "cs~" CANARY "&=+/%"
#define TENANT     "72f988bf-86f1-41af-91ab-2d7cd011db47"
#define CLIENT     "0f4d5e6a-app"
#define VAULT      "https://myvault.vault.azure.net"
#define KV_VERSION "4387e9f3d6e14c459867679a90fd0f79"
#define PATH_SIZE  512
#define OPTS_N     6
#define ENV_N      8
#define FILES_N    2
#define REPLIES_N  10
#define REQS_N     10
#define WANT_N     4
#define CHECKS_N   4
#define DL_MS      30000
#define ANY_FLAGS  0xffffu /* want_req: flags not checked */

/* --- the parsers --- */

struct url_case {
    const char *in;
    int want;
    const char *base, *host, *name, *why;
};

static const struct url_case url_cases[] = {
    {VAULT, 0, VAULT, "myvault.vault.azure.net", "myvault", NULL},
    {"https://MyVault.Vault.Azure.NET/", 0, VAULT, "myvault.vault.azure.net",
     "myvault", NULL},
    {"https://myvault.vault.azure.net:443", 0, VAULT, "myvault.vault.azure.net",
     "myvault", NULL},
    {"https://kv-1.vault.azure.cn", 0, "https://kv-1.vault.azure.cn",
     "kv-1.vault.azure.cn", "kv-1", NULL},
    {"https://myvault.vault.azure.net.localhost:8443", 0,
     "https://myvault.vault.azure.net.localhost:8443",
     "myvault.vault.azure.net.localhost", "myvault", NULL},
    {"http://myvault.vault.azure.net", -1, NULL, NULL, NULL, "https://"},
    {"myvault.vault.azure.net", -1, NULL, NULL, NULL, "https://"},
    {"https://myvault.vault.azure.net/secrets", -1, NULL, NULL, NULL,
     "without a path"},
    {"https://myvault.vault.azure.net?x=1", -1, NULL, NULL, NULL,
     "without a path"},
    {"https://u:p@myvault.vault.azure.net", -1, NULL, NULL, NULL, "user name"},
    {"https://myvault.vault.azure.net:0", -1, NULL, NULL, NULL, "bad port"},
    {"https://myvault.vault.azure.net:99999", -1, NULL, NULL, NULL, "bad port"},
    {"https://myvault.vault.azure.net:x", -1, NULL, NULL, NULL, "bad port"},
    {"https://", -1, NULL, NULL, NULL, "no host name"},
    {"https://myvault", -1, NULL, NULL, NULL, "NAME.vault.azure.net"},
    {"https://kv.vault.azure.net", -1, NULL, NULL, NULL, "3 to 24"},
    {"https://a234567890123456789012345.vault.azure.net", -1, NULL, NULL, NULL,
     "3 to 24"},
    {"https://1vault.vault.azure.net", -1, NULL, NULL, NULL, "letter"},
    {"https://my--vault.vault.azure.net", -1, NULL, NULL, NULL, "--"},
    {"https://myvault-.vault.azure.net", -1, NULL, NULL, NULL, "final"},
    {"https://my_vault.vault.azure.net", -1, NULL, NULL, NULL, "character"},
};

static void test_vault_url(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof url_cases / sizeof url_cases[0]; i++) {
        const struct url_case *c = &url_cases[i];
        char base[EI_AZURE_BASE_MAX], host[EI_AZURE_BASE_MAX],
            name[EI_AZURE_BASE_MAX];
        const char *why = NULL;
        int r = ei_azure_vault_url(c->in, base, host, name, &why);
        if (r != c->want)
            fail_msg("%s: %d, want %d (%s)", c->in, r, c->want,
                     why != NULL ? why : "");
        if (r == 0) {
            assert_string_equal(base, c->base);
            assert_string_equal(host, c->host);
            assert_string_equal(name, c->name);
        } else if (strstr(why, c->why) == NULL) {
            fail_msg("%s: '%s' lacks '%s'", c->in, why, c->why);
        }
    }
}

struct challenge_case {
    const char *hdr, *vault_host;
    int want;
    const char *tenant, *scope, *why;
};

#define AUTH_URI "authorization=\"https://login.windows.net/" TENANT "\""

static const struct challenge_case challenge_cases[] = {
    /* the recorded one (protocol reference 1.6) */
    {"Bearer " AUTH_URI ", resource=\"https://vault.azure.net\"",
     "myvault.vault.azure.net", 0, TENANT, "https://vault.azure.net/.default",
     NULL},
    {"Bearer authorization_uri=\"https://login.microsoftonline.com/" TENANT
     "/\", resource=\"https://vault.azure.net/\"",
     "myvault.vault.azure.net", 0, TENANT, "https://vault.azure.net/.default",
     NULL},
    {"bearer " AUTH_URI " scope=\"https://vault.azure.net/.default\"",
     "myvault.vault.azure.net", 0, TENANT, "https://vault.azure.net/.default",
     NULL},
    {"Bearer resource_id=\"https://vault.azure.cn\"", "kv.vault.azure.cn", 0,
     "", "https://vault.azure.cn/.default", NULL},
    {"Bearer " AUTH_URI ", resource=\"https://vault.azure.net\"",
     "myvault.vault.azure.net.localhost", 0, TENANT,
     "https://vault.azure.net/.default", NULL},
    /* a token for another audience is never asked for */
    {"Bearer " AUTH_URI ", resource=\"https://evil.example\"",
     "myvault.vault.azure.net", -1, NULL, NULL, "does not match"},
    {"Bearer " AUTH_URI ", resource=\"https://management.azure.com\"",
     "myvault.vault.azure.net", -1, NULL, NULL, "does not match"},
    {"Bearer " AUTH_URI ", resource=\"https://vault.azure.net\"",
     "myvault.vault.azure.net.evil.example", -1, NULL, NULL, "does not match"},
    {"Bearer " AUTH_URI ", resource=\"https://azure.net\"", "myvaultazure.net",
     -1, NULL, NULL, "does not match"},
    {"Bearer " AUTH_URI ", resource=\"https://vault.azure.net\"",
     "vault.azure.net", -1, NULL, NULL, "does not match"},
    {"Bearer " AUTH_URI ", resource=\"http://vault.azure.net\"",
     "myvault.vault.azure.net", -1, NULL, NULL, "not an https URL"},
    {"Bearer " AUTH_URI, "myvault.vault.azure.net", -1, NULL, NULL,
     "no resource or scope"},
    {"Basic realm=\"x\"", "myvault.vault.azure.net", -1, NULL, NULL,
     "not a Bearer"},
    {"Bearer authorization=\"https://login.windows.net/a/b%2f\", "
     "resource=\"https://vault.azure.net\"",
     "myvault.vault.azure.net", 0, "a", "https://vault.azure.net/.default",
     NULL},
    {"Bearer authorization=\"https://login.windows.net/t$x\", "
     "resource=\"https://vault.azure.net\"",
     "myvault.vault.azure.net", -1, NULL, NULL, "not a tenant id"},
    {"Bearer resource=\"https://vault.azure.net", "myvault.vault.azure.net", -1,
     NULL, NULL, "no resource or scope"},
};

static void test_challenge(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof challenge_cases / sizeof challenge_cases[0];
         i++) {
        const struct challenge_case *c = &challenge_cases[i];
        char tenant[EI_AZURE_TENANT_MAX], scope[EI_AZURE_SCOPE_MAX];
        const char *why = NULL;
        int r = ei_azure_parse_challenge(c->hdr, c->vault_host, tenant, scope,
                                         &why);
        if (r != c->want)
            fail_msg("%s: %d, want %d (%s)", c->hdr, r, c->want,
                     why != NULL ? why : "");
        if (r == 0) {
            assert_string_equal(tenant, c->tenant);
            assert_string_equal(scope, c->scope);
        } else if (strstr(why, c->why) == NULL) {
            fail_msg("%s: '%s' lacks '%s'", c->hdr, why, c->why);
        }
    }
}

struct link_case {
    const char *link, *base;
    int want;
    const char *path;
};

static const struct link_case link_cases[] = {
    /* verbatim, an older api-version inside included */
    {"https://myvault.vault.azure.net:443/secrets?api-version=7.2&$skiptoken="
     "eyJOZXh0&maxresults=25",
     VAULT, 0, "/secrets?api-version=7.2&$skiptoken=eyJOZXh0&maxresults=25"},
    {"https://MYVAULT.vault.azure.net/secrets?$skiptoken=a", VAULT, 0,
     "/secrets?$skiptoken=a&api-version=7.5"},
    /* parameter names are case-sensitive, as URLSearchParams reads them */
    {"https://myvault.vault.azure.net/secrets?API-Version=7.2", VAULT, 0,
     "/secrets?API-Version=7.2&api-version=7.5"},
    {"https://myvault.vault.azure.net/secrets?api%2Dversion=7.2", VAULT, 0,
     "/secrets?api%2Dversion=7.2"},
    {"https://myvault.vault.azure.net/secrets/x/versions", VAULT, 0,
     "/secrets/x/versions?api-version=7.5"},
    {"https://myvault.vault.azure.net.localhost:8443/secrets?api-version=7.5",
     "https://myvault.vault.azure.net.localhost:8443", 0,
     "/secrets?api-version=7.5"},
    {"https://evil.example/secrets?api-version=7.5", VAULT, -1, NULL},
    {"https://myvault.vault.azure.net.evil.example/secrets", VAULT, -1, NULL},
    {"https://myvault.vault.azure.net:8443/secrets", VAULT, -1, NULL},
    {"http://myvault.vault.azure.net/secrets", VAULT, -1, NULL},
    {"/secrets?api-version=7.5", VAULT, -1, NULL},
    {"https://myvault.vault.azure.net", VAULT, -1, NULL},
    {"https://myvault.vault.azure.net/secrets?a=b c", VAULT, -1, NULL},
    {"https://myvault.vault.azure.net/secrets#frag", VAULT, -1, NULL},
    {"https://user@myvault.vault.azure.net/secrets", VAULT, -1, NULL},
};

static void test_next_link(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof link_cases / sizeof link_cases[0]; i++) {
        const struct link_case *c = &link_cases[i];
        char path[EI_AZURE_LINK_MAX];
        const char *why = NULL;
        int r = ei_azure_next_link(c->link, c->base, path, &why);
        if (r != c->want)
            fail_msg("%s: %d, want %d (%s)", c->link, r, c->want,
                     why != NULL ? why : "");
        if (r == 0)
            assert_string_equal(path, c->path);
        else
            assert_non_null(why);
    }
}

/* What a list page gave: "name,name|disabled=N|next" */
struct list_out {
    char names[256];
};

static int list_name(void *ctx, const char *name, struct ei_error *err)
{
    (void)err;
    struct list_out *o = ctx;
    size_t n = strlen(o->names);
    snprintf(o->names + n, sizeof o->names - n, "%s%s", n > 0 ? "," : "", name);
    return 0;
}

struct list_case {
    const char *body;
    enum ei_status want;
    const char *names;
    size_t disabled;
    const char *next, *text;
};

static const struct list_case list_cases[] = {
    {"{\"value\":[{\"id\":\"" VAULT "/secrets/a\",\"attributes\":{\"enabled\":"
     "true}},{\"id\":\"" VAULT "/secrets/b\",\"attributes\":{\"enabled\":"
     "false}},{\"id\":\"" VAULT "/secrets/c\",\"contentType\":\"x\"}],"
     "\"nextLink\":\"" VAULT "/secrets?$skiptoken=x\"}",
     EI_OK, "a,c", 1, VAULT "/secrets?$skiptoken=x", NULL},
    {"{\"value\":[],\"nextLink\":null}", EI_OK, "", 0, NULL, NULL},
    {"{\"value\":[]}", EI_OK, "", 0, NULL, NULL},
    {"{\"nextLink\":\"\"}", EI_OK, "", 0, NULL, NULL},
    {"{\"value\":{}}", EI_BADDATA, NULL, 0, NULL, "no value array"},
    {"[]", EI_BADDATA, NULL, 0, NULL, "no value array"},
    {"{\"value\":[],\"nextLink\":5}", EI_BADDATA, NULL, 0, NULL,
     "nextLink is not a string"},
    {"{\"value\":[{\"attributes\":{}}]}", EI_BADDATA, NULL, 0, NULL,
     "item 0 has no id"},
    {"{\"value\":[{\"id\":\"" VAULT "/keys/a\"}]}", EI_BADDATA, NULL, 0, NULL,
     "does not end in /secrets/NAME"},
    {"{\"value\":[{\"id\":\"" VAULT "/secrets/a_b\"}]}", EI_BADDATA, NULL, 0,
     NULL, "does not end in /secrets/NAME"},
    {"{\"value\":[{\"id\":\"" VAULT "/secrets/a\",\"attributes\":[]}]}",
     EI_BADDATA, NULL, 0, NULL, "attributes is not an object"},
    {"{\"value\":[" CANARY, EI_BADDATA, NULL, 0, NULL, "malformed JSON"},
};

static void test_parse_list(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof list_cases / sizeof list_cases[0]; i++) {
        const struct list_case *c = &list_cases[i];
        struct list_out o = {""};
        size_t disabled = 0;
        char *next = NULL;
        struct ei_error err = {0};
        enum ei_status st =
            ei_azure_parse_list(c->body, strlen(c->body), "v", list_name, &o,
                                &disabled, &next, &err);
        if (st != c->want)
            fail_msg("case %zu: status %d, want %d (%s)", i, st, c->want,
                     err.text);
        if (st == EI_OK) {
            assert_string_equal(o.names, c->names);
            assert_int_equal(disabled, c->disabled);
            if (c->next == NULL)
                assert_null(next);
            else
                assert_string_equal(next, c->next);
        } else {
            assert_non_null(strstr(err.text, c->text));
            assert_null(strstr(err.text, CANARY));
            assert_null(next);
        }
        free(next);
    }
}

struct value_out {
    char value[128];
    char version[EI_AZURE_VERSION_MAX];
};

static int secret_value(void *ctx, const char *value, size_t len,
                        const char *version, struct ei_error *err)
{
    (void)err;
    struct value_out *o = ctx;
    snprintf(o->value, sizeof o->value, "%.*s", (int)len, value);
    snprintf(o->version, sizeof o->version, "%s", version);
    return 0;
}

struct secret_case {
    const char *body;
    enum ei_status want;
    const char *value, *version, *text;
};

static const struct secret_case secret_cases[] = {
    {"{\"value\":\"" CANARY "\",\"id\":\"" VAULT "/secrets/db/" KV_VERSION "\","
     "\"attributes\":{\"enabled\":true,\"created\":1493938410}}",
     EI_OK, CANARY, KV_VERSION, NULL},
    {"{\"value\":\"\",\"id\":\"" VAULT "/secrets/db\"}", EI_OK, "", "", NULL},
    {"{\"value\":\"a\\nb\",\"tags\":{\"x\":\"y\"},\"kid\":\"k\"}", EI_OK,
     "a\nb", "", NULL},
    {"{\"value\":\"" CANARY "\",\"attributes\":{\"enabled\":false}}", EI_DENIED,
     NULL, NULL, "disabled"},
    {"{\"value\":5}", EI_BADDATA, NULL, NULL, "no value string"},
    {"{\"id\":\"x\"}", EI_BADDATA, NULL, NULL, "no value string"},
    {"{\"value\":\"" CANARY "\",\"id\":\"" VAULT "/secrets/db/v$1\"}",
     EI_BADDATA, NULL, NULL, "malformed version"},
    {"{\"value\":\"x\\u0000" CANARY "\"}", EI_BADDATA, NULL, NULL,
     "malformed JSON"},
    {"{\"value\":\"" CANARY, EI_BADDATA, NULL, NULL, "malformed JSON"},
    {"", EI_BADDATA, NULL, NULL, "malformed JSON at byte 0 of 0"},
};

static void test_parse_secret(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof secret_cases / sizeof secret_cases[0]; i++) {
        const struct secret_case *c = &secret_cases[i];
        struct value_out o = {"", ""};
        struct ei_error err = {0};
        enum ei_status st = ei_azure_parse_secret(c->body, strlen(c->body), "v",
                                                  secret_value, &o, &err);
        if (st != c->want)
            fail_msg("case %zu: status %d, want %d (%s)", i, st, c->want,
                     err.text);
        if (st == EI_OK) {
            assert_string_equal(o.value, c->value);
            assert_string_equal(o.version, c->version);
        } else {
            assert_non_null(strstr(err.text, c->text));
            assert_null(strstr(err.text, CANARY));
        }
    }
}

struct token_case {
    const char *body;
    enum ei_status want;
    int64_t expires_on; /* with now = 1000000 */
    const char *text;
};

#define NOW 1000000

static const struct token_case token_cases[] = {
    /* Entra v2 */
    {"{\"token_type\":\"Bearer\",\"expires_in\":3599,\"ext_expires_in\":3599,"
     "\"access_token\":\"" TOKEN "\"}",
     EI_OK, NOW + 3599, NULL},
    /* IMDS: numbers as strings */
    {"{\"access_token\":\"" TOKEN "\",\"refresh_token\":\"\",\"expires_in\":"
     "\"3599\",\"expires_on\":\"1003599\",\"not_before\":\"999000\","
     "\"resource\":\"https://vault.azure.net\",\"token_type\":\"Bearer\"}",
     EI_OK, 1003599, NULL},
    /* App Service: expires_on only */
    {"{\"access_token\":\"" TOKEN "\",\"expires_on\":\"1086400\",\"resource\":"
     "\"https://vault.azure.net\",\"token_type\":\"Bearer\"}",
     EI_OK, 1086400, NULL},
    {"{\"access_token\":\"" TOKEN "\",\"expires_on\":1086400}", EI_OK, 1086400,
     NULL},
    {"{\"access_token\":\"" TOKEN "\",\"expires_in\":60.0}", EI_OK, NOW + 60,
     NULL},
    /* a date text (legacy App Service): valid now, expiry unknown */
    {"{\"access_token\":\"" TOKEN "\",\"expires_on\":\"01/02/2099 15:04:05 "
     "+00:00\"}",
     EI_OK, 0, NULL},
    {"{\"access_token\":\"" TOKEN "\",\"token_type\":\"bearer\"}", EI_OK, 0,
     NULL},
    {"{\"access_token\":\"" TOKEN "\",\"expires_on\":\"999999\"}", EI_BADDATA,
     0, "expired"},
    {"{\"access_token\":\"" TOKEN "\",\"expires_in\":0}", EI_BADDATA, 0,
     "expired"},
    {"{\"access_token\":\"" TOKEN "\",\"expires_in\":\"soon\"}", EI_BADDATA, 0,
     "expires_in is not a number"},
    {"{\"access_token\":\"" TOKEN "\",\"expires_in\":-5}", EI_BADDATA, 0,
     "expires_in is not a number"},
    {"{\"access_token\":\"" TOKEN "\",\"token_type\":\"pop\"}", EI_BADDATA, 0,
     "not Bearer"},
    {"{\"access_token\":\"" CANARY " x\"}", EI_BADDATA, 0, "not a token"},
    {"{\"access_token\":\"\"}", EI_BADDATA, 0, "not a token"},
    {"{\"access_token\":5}", EI_BADDATA, 0, "no access_token string"},
    {"{\"token_type\":\"Bearer\"}", EI_BADDATA, 0, "no access_token string"},
    {"[\"" CANARY "\"]", EI_BADDATA, 0, "no access_token string"},
    {"{\"access_token\":\"" CANARY, EI_BADDATA, 0, "malformed JSON"},
};

static void test_parse_token(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof token_cases / sizeof token_cases[0]; i++) {
        const struct token_case *c = &token_cases[i];
        char tok[EI_AZURE_TOKEN_MAX];
        size_t len = 99;
        int64_t exp = 99;
        struct ei_error err = {0};
        enum ei_status st =
            ei_azure_parse_token(c->body, strlen(c->body), NOW, "t", tok,
                                 sizeof tok, &len, &exp, &err);
        if (st != c->want)
            fail_msg("case %zu: status %d, want %d (%s)", i, st, c->want,
                     err.text);
        if (st == EI_OK) {
            assert_string_equal(tok, TOKEN);
            assert_int_equal(len, strlen(TOKEN));
            assert_int_equal(exp, c->expires_on);
        } else {
            assert_non_null(strstr(err.text, c->text));
            assert_null(strstr(err.text, CANARY));
            assert_int_equal(len, 0);
        }
    }
    /* a token longer than the room for it */
    char small[8];
    size_t len = 0;
    int64_t exp = 0;
    struct ei_error err = {0};
    const char *body = "{\"access_token\":\"" TOKEN "\"}";
    assert_int_equal(ei_azure_parse_token(body, strlen(body), NOW, "t", small,
                                          sizeof small, &len, &exp, &err),
                     EI_BADDATA);
}

static void test_parse_errors(void **state)
{
    (void)state;
    char code[EI_AZURE_CODE_MAX], inner[EI_AZURE_CODE_MAX];
    bool disabled = true;
    const char *b =
        "{\"error\":{\"code\":\"Forbidden\",\"message\":\"Operation get is not "
        "allowed on a disabled secret.\",\"innererror\":{\"code\":"
        "\"SecretDisabled\"}}}";
    ei_azure_parse_kv_error(b, strlen(b), code, inner, &disabled);
    assert_string_equal(code, "Forbidden");
    assert_string_equal(inner, "SecretDisabled");
    assert_true(disabled);
    /* the SDK tests' text, without the inner code */
    b = "{\"error\":{\"code\":\"Forbidden\",\"message\":\"Operation get is not "
        "allowed on a disabled secret.\"}}";
    ei_azure_parse_kv_error(b, strlen(b), code, inner, &disabled);
    assert_string_equal(inner, "");
    assert_true(disabled);
    b = "{\"error\":{\"code\":\"Forbidden\",\"message\":\"Client address is "
        "not authorized\",\"innererror\":{\"code\":\"ForbiddenByFirewall\"}}}";
    ei_azure_parse_kv_error(b, strlen(b), code, inner, &disabled);
    assert_string_equal(inner, "ForbiddenByFirewall");
    assert_false(disabled);
    b = "{\"error\":{\"code\":\"Bad code\\n" CANARY "\"}}";
    ei_azure_parse_kv_error(b, strlen(b), code, inner, &disabled);
    assert_string_equal(code, "Bad");
    ei_azure_parse_kv_error("not json", 8, code, inner, &disabled);
    assert_string_equal(code, "");
    assert_false(disabled);
    ei_azure_parse_kv_error(NULL, 0, code, inner, &disabled);
    assert_string_equal(code, "");

    char aad[64];
    b = "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215: "
        "Invalid client secret provided. " CANARY "\",\"error_codes\":"
        "[7000215]}";
    ei_azure_parse_token_error(b, strlen(b), code, sizeof code, aad,
                               sizeof aad);
    assert_string_equal(code, "invalid_client");
    assert_string_equal(aad, "AADSTS7000215");
    b = "{\"error\":{\"code\":\"BadRequest\",\"message\":\"x\"}}";
    ei_azure_parse_token_error(b, strlen(b), code, sizeof code, aad,
                               sizeof aad);
    assert_string_equal(code, "BadRequest");
    assert_string_equal(aad, "");
    ei_azure_parse_token_error("{", 1, code, sizeof code, aad, sizeof aad);
    assert_string_equal(code, "");
}

/* --- the token chain's choice: configure only, no I/O --- */

struct chain_case {
    const char *name;
    const char *opts[OPTS_N];
    const char *environ[ENV_N];
    enum ei_status want;
    enum ei_azure_source source;
    const char *describe; /* or a substring of the error */
};

#define VOPT       "vault=" VAULT
#define ENV_TENANT "AZURE_TENANT_ID=" TENANT
#define ENV_CLIENT "AZURE_CLIENT_ID=" CLIENT
#define ENV_SECRET "AZURE_CLIENT_SECRET=" SECRET

static const struct chain_case chain_cases[] = {
    {"chain-env-secret",
     {VOPT},
     {ENV_TENANT, ENV_CLIENT, ENV_SECRET},
     EI_OK,
     EI_AZURE_CLIENT_SECRET,
     "client secret (AZURE_CLIENT_SECRET)"},
    {"chain-secret-file-wins",
     {VOPT, "client_secret_file=/nonexistent"},
     {ENV_TENANT, ENV_CLIENT, ENV_SECRET},
     EI_OK,
     EI_AZURE_CLIENT_SECRET,
     "client secret (client_secret_file)"},
    {"chain-options-name-the-app",
     {VOPT, "tenant=contoso.onmicrosoft.com", "client_id=app",
      "client_secret_file=/x"},
     {NULL},
     EI_OK,
     EI_AZURE_CLIENT_SECRET,
     "client secret (client_secret_file)"},
    {"chain-secret-before-workload",
     {VOPT},
     {ENV_TENANT, ENV_CLIENT, ENV_SECRET, "AZURE_FEDERATED_TOKEN_FILE=/t"},
     EI_OK,
     EI_AZURE_CLIENT_SECRET,
     "AZURE_CLIENT_SECRET"},
    {"chain-workload",
     {VOPT},
     {ENV_TENANT, ENV_CLIENT, "AZURE_FEDERATED_TOKEN_FILE=/t",
      "IDENTITY_ENDPOINT=http://localhost:1/msi/token", "IDENTITY_HEADER=h"},
     EI_OK,
     EI_AZURE_WORKLOAD,
     "workload identity"},
    {"chain-workload-needs-tenant",
     {VOPT},
     {ENV_CLIENT, "AZURE_FEDERATED_TOKEN_FILE=/t"},
     EI_OK,
     EI_AZURE_IMDS,
     "managed identity (IMDS)"},
    {"chain-empty-secret-is-unset",
     {VOPT},
     {ENV_TENANT, ENV_CLIENT, "AZURE_CLIENT_SECRET="},
     EI_OK,
     EI_AZURE_IMDS,
     "IMDS"},
    {"chain-app-service",
     {VOPT},
     {"IDENTITY_ENDPOINT=http://localhost:42356/msi/token",
      "IDENTITY_HEADER=h"},
     EI_OK,
     EI_AZURE_APP_SERVICE,
     "managed identity (IDENTITY_ENDPOINT)"},
    {"chain-endpoint-without-header-is-imds",
     {VOPT},
     {"IDENTITY_ENDPOINT=http://localhost:42356/msi/token"},
     EI_OK,
     EI_AZURE_IMDS,
     "IMDS"},
    {"chain-imds",
     {VOPT},
     {NULL},
     EI_OK,
     EI_AZURE_IMDS,
     "managed identity (IMDS)"},
    {"chain-service-fabric",
     {VOPT},
     {"IDENTITY_ENDPOINT=https://localhost:2377/metadata/identity/oauth2/token",
      "IDENTITY_HEADER=h", "IDENTITY_SERVER_THUMBPRINT=ab"},
     EI_DENIED,
     0,
     "Service Fabric"},
    {"chain-arc",
     {VOPT},
     {"IDENTITY_ENDPOINT=http://localhost:40342/metadata/identity/oauth2/token",
      "IMDS_ENDPOINT=http://localhost:40342"},
     EI_DENIED,
     0,
     "Azure Arc"},
    {"chain-cloud-shell",
     {VOPT},
     {"MSI_ENDPOINT=http://localhost:50342"},
     EI_DENIED,
     0,
     "MSI_ENDPOINT"},
    {"chain-secret-file-needs-tenant",
     {VOPT, "client_secret_file=/x"},
     {ENV_CLIENT},
     EI_BADCONFIG,
     0,
     "needs tenant and client_id"},
    {"chain-bad-tenant-option",
     {VOPT, "tenant=a/b"},
     {NULL},
     EI_BADCONFIG,
     0,
     "tenant must be"},
    {"chain-bad-tenant-env",
     {VOPT},
     {"AZURE_TENANT_ID=a b"},
     EI_BADCONFIG,
     0,
     "AZURE_TENANT_ID must be"},
    {"chain-bad-client-id",
     {VOPT, "client_id=a b"},
     {NULL},
     EI_BADCONFIG,
     0,
     "client_id must be"},
    {"chain-authority-http",
     {VOPT},
     {ENV_TENANT, ENV_CLIENT, ENV_SECRET,
      "AZURE_AUTHORITY_HOST=http://login.microsoftonline.com"},
     EI_BADCONFIG,
     0,
     "must be an https URL"},
    {"chain-authority-path",
     {VOPT},
     {ENV_TENANT, ENV_CLIENT, ENV_SECRET,
      "AZURE_AUTHORITY_HOST=https://login.microsoftonline.com/x"},
     EI_BADCONFIG,
     0,
     "with no path"},
    {"chain-identity-endpoint-not-url",
     {VOPT},
     {"IDENTITY_ENDPOINT=localhost:1", "IDENTITY_HEADER=h"},
     EI_BADCONFIG,
     0,
     "not an http(s) URL"},
    {"chain-pod-identity-path",
     {VOPT},
     {"AZURE_POD_IDENTITY_AUTHORITY_HOST=http://127.0.0.1:1/x"},
     EI_BADCONFIG,
     0,
     "without a path"},
    {"chain-no-vault",
     {NULL},
     {ENV_TENANT},
     EI_BADCONFIG,
     0,
     "vault is required"},
    {"chain-bad-vault",
     {"vault=http://myvault.vault.azure.net"},
     {NULL},
     EI_BADCONFIG,
     0,
     "https://"},
    {"chain-bad-secret-name",
     {VOPT, "secrets=db_password"},
     {NULL},
     EI_BADCONFIG,
     0,
     "db_password is not a secret name"},
    {"chain-long-secret-name",
     {VOPT, "secrets=a234567890123456789012345678901"
            "2345678901234567890123456789012345678"
            "9012345678901234567890123456789012345"
            "678901234567890123456789"},
     {NULL},
     EI_BADCONFIG,
     0,
     "is not a secret name"},
    {"chain-same-secret-twice",
     {VOPT, "secrets=db-password", "secrets=DB-PASSWORD"},
     {NULL},
     EI_BADCONFIG,
     0,
     "db-password and DB-PASSWORD are the same secret"},
};

static void test_chain(void **state)
{
    const struct chain_case *c = *state;
    struct fake_host *fh = fake_host_new(c->opts, c->environ, NULL);
    assert_non_null(fh);
    struct ei_error err = {0};
    void *st = NULL;
    enum ei_status got =
        ei_provider_azure_keyvault.configure(fake_host_host(fh), &st, &err);
    assert_int_equal(fake_host_reads(fh), 0);
    size_t sent = 0;
    fake_host_http_requests(fh, &sent);
    assert_int_equal(sent, 0);
    if (got != c->want)
        fail_msg("status %d, want %d (%s)", got, c->want, err.text);
    if (got == EI_OK) {
        assert_null(fake_host_unused(fh));
        /* the identity is the state's third member: reach it through a
           second, bare identity built from the same host */
        struct ei_azure_identity *id = NULL;
        assert_int_equal(ei_azure_identity_new(fake_host_host(fh), &id, &err),
                         EI_OK);
        assert_int_equal(ei_azure_identity_source(id), c->source);
        if (strstr(ei_azure_identity_describe(id), c->describe) == NULL)
            fail_msg("'%s' lacks '%s'", ei_azure_identity_describe(id),
                     c->describe);
        ei_azure_identity_free(id);
        ei_provider_azure_keyvault.destroy(st);
    } else {
        assert_null(st);
        assert_int_equal(err.status, got);
        if (strstr(err.text, c->describe) == NULL)
            fail_msg("'%s' lacks '%s'", err.text, c->describe);
        assert_null(strstr(err.text, CANARY));
    }
    assert_int_equal(fake_host_http_clients(fh), 0);
    fake_host_free(fh);
}

/* --- fetch through the fake host --- */

struct reply {
    long status;
    const char *headers; /* "Name: value\n" lines */
    const char *body;
    unsigned flags;
};

struct want_req {
    const char *method;
    const char *endpoint; /* the base URL it went to */
    const char *path;
    const char *checks[CHECKS_N]; /* "H:Name: value" header present,
                                     "!Name" header absent, "B:text" in the
                                     body */
    unsigned flags;
};

struct want_entry {
    const char *name, *value, *locator;
};

struct cfile {
    const char *name, *content;
    unsigned mode;
};

struct fcase {
    const char *name;
    const char *opts[OPTS_N];
    const char *environ[ENV_N];
    struct cfile files[FILES_N];
    struct reply replies[REPLIES_N];
    enum ei_status want;
    const char *want_text;
    struct want_entry entries[WANT_N];
    struct want_req reqs[REQS_N];
    const char *log_has;
};

#define CHALLENGE_HDR                                                          \
    "WWW-Authenticate: Bearer authorization=\"https://login.microsoftonline."  \
    "com/" TENANT "\", resource=\"https://vault.azure.net\"\n"
#define R401                                                                   \
    {                                                                          \
        401, CHALLENGE_HDR,                                                    \
            "{\"error\":{\"code\":\"Unauthorized\",\"message\":\"AKV10000: "   \
            "Request "                                                         \
            "is missing a Bearer or PoP token.\"}}",                           \
            0                                                                  \
    }
#define TOKEN_BODY(tok, exp)                                                   \
    "{\"token_type\":\"Bearer\",\"expires_in\":" exp ",\"ext_expires_in\":"    \
    "3599,\"access_token\":\"" tok "\"}"
#define RTOKEN                                                                 \
    {                                                                          \
        200, NULL, TOKEN_BODY(TOKEN, "3599"), 0                                \
    }
#define BUNDLE(name, value)                                                    \
    "{\"value\":\"" value "\",\"id\":\"" VAULT "/secrets/" name "/" KV_VERSION \
    "\",\"attributes\":{\"enabled\":true,\"created\":1493938410,\"updated\":"  \
    "1493938410,\"recoveryLevel\":\"Recoverable+Purgeable\"}}"
#define RSECRET(name, value)                                                   \
    {                                                                          \
        200, NULL, BUNDLE(name, value), 0                                      \
    }
#define LOC(name)  "myvault.vault.azure.net/secrets/" name "/" KV_VERSION
#define LOGIN      "https://login.microsoftonline.com"
#define TOKEN_PATH "/" TENANT "/oauth2/v2.0/token"
#define GET_DB     "/secrets/db-password?api-version=7.5"
#define REQ_PROBE(path)                                                        \
    {                                                                          \
        "GET", VAULT, path, {"!Authorization", "H:Accept: application/json"},  \
            EI_HTTP_SECRET                                                     \
    }
#define REQ_AUTH(path, tok)                                                    \
    {                                                                          \
        "GET", VAULT, path, {"H:Authorization: Bearer " tok}, EI_HTTP_SECRET   \
    }
#define REQ_TOKEN(field)                                                       \
    {                                                                          \
        "POST", LOGIN, TOKEN_PATH,                                             \
            {"H:Content-Type: application/x-www-form-urlencoded",              \
             "B:client_id=" CLIENT "&", field,                                 \
             "B:&scope=https%3A%2F%2Fvault.azure.net%2F.default&grant_type="   \
             "client_credentials"},                                            \
            EI_HTTP_SECRET | EI_HTTP_SECRET_BODY                               \
    }
#define SECRET_FIELD "B:&client_secret=cs~" CANARY "%26%3D%2B%2F%25&"
#define ENV_CS                                                                 \
    {                                                                          \
        ENV_TENANT, ENV_CLIENT, ENV_SECRET                                     \
    }
#define SECRETS_DB                                                             \
    {                                                                          \
        VOPT, "secrets=db-password"                                            \
    }
#define ONE_DB                                                                 \
    {                                                                          \
        {                                                                      \
            "db-password", CANARY, LOC("db-password")                          \
        }                                                                      \
    }
#define IMDS_PATH                                                              \
    "/metadata/identity/oauth2/token?api-version=2018-02-01&resource="         \
    "https%3A%2F%2Fvault.azure.net"
#define IMDS_BODY                                                              \
    "{\"access_token\":\"" TOKEN "\",\"refresh_token\":\"\",\"expires_in\":"   \
    "\"3599\",\"expires_on\":\"9999999999\",\"not_before\":\"1506480273\","    \
    "\"resource\":\"https://vault.azure.net\",\"token_type\":\"Bearer\"}"
#define OAUTH_ERR(code, aad)                                                   \
    "{\"error\":\"" code "\",\"error_description\":\"" aad ": the request "    \
    "said " CANARY "\",\"error_codes\":[1]}"

static const struct fcase fcases[] = {
    /* credentials */
    {"client-secret-env",
     SECRETS_DB,
     ENV_CS,
     {{NULL}},
     {R401, RTOKEN, RSECRET("db-password", CANARY)},
     EI_OK,
     NULL,
     ONE_DB,
     {REQ_PROBE(GET_DB), REQ_TOKEN(SECRET_FIELD), REQ_AUTH(GET_DB, TOKEN)},
     "token from client secret (AZURE_CLIENT_SECRET)"},
    {"client-secret-file",
     {VOPT, "secrets=db-password", "tenant=" TENANT, "client_id=" CLIENT,
      "client_secret_file=%D/cs"},
     {"AZURE_CLIENT_SECRET=wrong"},
     {{"cs", "\n file-" CANARY " \n", 0600}},
     {R401, RTOKEN, RSECRET("db-password", CANARY)},
     EI_OK,
     NULL,
     ONE_DB,
     {REQ_PROBE(GET_DB), REQ_TOKEN("B:&client_secret=file-" CANARY "&"),
      REQ_AUTH(GET_DB, TOKEN)},
     "client_secret_file"},
    {"client-secret-file-readable-by-others",
     {VOPT, "secrets=db-password", "tenant=" TENANT, "client_id=" CLIENT,
      "client_secret_file=%D/cs"},
     {NULL},
     {{"cs", "file-" CANARY, 0644}},
     {R401},
     EI_DENIED,
     "client_secret_file",
     {{NULL}},
     {REQ_PROBE(GET_DB)},
     NULL},
    {"client-secret-file-missing",
     {VOPT, "secrets=db-password", "tenant=" TENANT, "client_id=" CLIENT,
      "client_secret_file=%D/none"},
     {NULL},
     {{NULL}},
     {R401},
     EI_DENIED,
     "client_secret_file",
     {{NULL}},
     {REQ_PROBE(GET_DB)},
     NULL},
    {"client-secret-file-empty",
     {VOPT, "secrets=db-password", "tenant=" TENANT, "client_id=" CLIENT,
      "client_secret_file=%D/cs"},
     {NULL},
     {{"cs", " \n", 0600}},
     {R401},
     EI_DENIED,
     "client_secret_file is empty",
     {{NULL}},
     {REQ_PROBE(GET_DB)},
     NULL},
    {"workload-identity",
     SECRETS_DB,
     {ENV_TENANT, ENV_CLIENT, "AZURE_FEDERATED_TOKEN_FILE=%D/jwt",
      "AZURE_AUTHORITY_HOST=https://login.microsoftonline.com/"},
     /* projected tokens are readable by all on Kubernetes */
     {{"jwt", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzIn0." CANARY "\n", 0644}},
     {R401, RTOKEN, RSECRET("db-password", CANARY)},
     EI_OK,
     NULL,
     ONE_DB,
     {REQ_PROBE(GET_DB),
      REQ_TOKEN("B:&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3A"
                "client-assertion-type%3Ajwt-bearer&client_assertion="
                "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzIn0." CANARY "&"),
      REQ_AUTH(GET_DB, TOKEN)},
     "workload identity"},
    {"workload-identity-token-file-missing",
     SECRETS_DB,
     {ENV_TENANT, ENV_CLIENT, "AZURE_FEDERATED_TOKEN_FILE=%D/none"},
     {{NULL}},
     {R401},
     EI_DENIED,
     "AZURE_FEDERATED_TOKEN_FILE",
     {{NULL}},
     {REQ_PROBE(GET_DB)},
     NULL},
    {"authority-host-sovereign",
     SECRETS_DB,
     {ENV_TENANT, ENV_CLIENT, ENV_SECRET,
      "AZURE_AUTHORITY_HOST=login.microsoftonline.us"},
     {{NULL}},
     {R401, RTOKEN, RSECRET("db-password", CANARY)},
     EI_OK,
     NULL,
     ONE_DB,
     {REQ_PROBE(GET_DB),
      {"POST",
       "https://login.microsoftonline.us",
       TOKEN_PATH,
       {SECRET_FIELD},
       EI_HTTP_SECRET | EI_HTTP_SECRET_BODY},
      REQ_AUTH(GET_DB, TOKEN)},
     NULL},
    {"app-service",
     SECRETS_DB,
     {"IDENTITY_ENDPOINT=http://localhost:42356/msi/token",
      "IDENTITY_HEADER=ih-" CANARY},
     {{NULL}},
     {R401,
      {200, NULL,
       "{\"access_token\":\"" TOKEN "\",\"expires_on\":\"9999999999\","
       "\"resource\":\"https://vault.azure.net\",\"token_type\":\"Bearer\","
       "\"client_id\":\"5E29463D\"}",
       0},
      RSECRET("db-password", CANARY)},
     EI_OK,
     NULL,
     ONE_DB,
     {REQ_PROBE(GET_DB),
      {"GET",
       "http://localhost:42356",
       "/msi/token?api-version=2019-08-01&resource=https%3A%2F%2Fvault.azure."
       "net",
       {"H:X-IDENTITY-HEADER: ih-" CANARY, "!Metadata"},
       EI_HTTP_SECRET},
      REQ_AUTH(GET_DB, TOKEN)},
     "managed identity (IDENTITY_ENDPOINT)"},
    {"app-service-user-assigned",
     SECRETS_DB,
     {"IDENTITY_ENDPOINT=http://localhost:42356/msi/token?x=1",
      "IDENTITY_HEADER=ih", "AZURE_CLIENT_ID=uami-9b2f"},
     {{NULL}},
     {R401, {200, NULL, IMDS_BODY, 0}, RSECRET("db-password", CANARY)},
     EI_OK,
     NULL,
     ONE_DB,
     {REQ_PROBE(GET_DB),
      {"GET",
       "http://localhost:42356",
       "/msi/token?x=1&api-version=2019-08-01&resource=https%3A%2F%2Fvault."
       "azure.net&client_id=uami-9b2f",
       {NULL},
       EI_HTTP_SECRET},
      REQ_AUTH(GET_DB, TOKEN)},
     NULL},
    {"app-service-refused",
     SECRETS_DB,
     {"IDENTITY_ENDPOINT=http://localhost:42356/msi/token",
      "IDENTITY_HEADER=ih"},
     {{NULL}},
     {R401, {401, NULL, "{\"statusCode\":401,\"message\":\"" CANARY "\"}", 0}},
     EI_DENIED,
     "managed identity (IDENTITY_ENDPOINT): the token endpoint refused (HTTP "
     "401)",
     {{NULL}},
     {REQ_PROBE(GET_DB),
      {"GET", "http://localhost:42356", NULL, {NULL}, ANY_FLAGS}},
     NULL},
    {"imds",
     SECRETS_DB,
     {NULL},
     {{NULL}},
     {R401, {200, NULL, IMDS_BODY, 0}, RSECRET("db-password", CANARY)},
     EI_OK,
     NULL,
     ONE_DB,
     {REQ_PROBE(GET_DB),
      {"GET",
       "http://169.254.169.254",
       IMDS_PATH,
       {"H:Metadata: true"},
       EI_HTTP_SECRET},
      REQ_AUTH(GET_DB, TOKEN)},
     "managed identity (IMDS)"},
    {"imds-user-assigned-from-client-id",
     SECRETS_DB,
     {"AZURE_CLIENT_ID=uami-9b2f",
      "AZURE_POD_IDENTITY_AUTHORITY_HOST=http://127.0.0.1:2/"},
     {{NULL}},
     {R401, {200, NULL, IMDS_BODY, 0}, RSECRET("db-password", CANARY)},
     EI_OK,
     NULL,
     ONE_DB,
     {REQ_PROBE(GET_DB),
      {"GET",
       "http://127.0.0.1:2",
       IMDS_PATH "&client_id=uami-9b2f",
       {"H:Metadata: true"},
       EI_HTTP_SECRET},
      REQ_AUTH(GET_DB, TOKEN)},
     NULL},
    {"imds-absent",
     SECRETS_DB,
     {NULL},
     {{NULL}},
     {R401, {0, NULL, NULL, FAKE_HTTP_CLOSE}},
     EI_DENIED,
     "no Azure credentials: set AZURE_TENANT_ID",
     {{NULL}},
     {REQ_PROBE(GET_DB),
      {"GET", "http://169.254.169.254", NULL, {NULL}, ANY_FLAGS}},
     NULL},
    {"imds-slow-is-absent",
     SECRETS_DB,
     {NULL},
     {{NULL}},
     {R401, {200, NULL, IMDS_BODY, FAKE_HTTP_DELAY_MS(1500)}},
     EI_DENIED,
     "IMDS did not answer",
     {{NULL}},
     {REQ_PROBE(GET_DB),
      {"GET", "http://169.254.169.254", NULL, {NULL}, ANY_FLAGS}},
     NULL},
    {"imds-no-identity",
     SECRETS_DB,
     {NULL},
     {{NULL}},
     {R401,
      {400, NULL,
       "{\"error\":\"invalid_request\",\"error_description\":\"Identity not "
       "found\"}",
       0}},
     EI_DENIED,
     "the token endpoint refused (HTTP 400: invalid_request)",
     {{NULL}},
     {REQ_PROBE(GET_DB),
      {"GET", "http://169.254.169.254", NULL, {NULL}, ANY_FLAGS}},
     NULL},
    {"imds-updating",
     SECRETS_DB,
     {NULL},
     {{NULL}},
     {R401, {410, NULL, "", 0}},
     EI_UNAVAILABLE,
     "(HTTP 410)",
     {{NULL}},
     {REQ_PROBE(GET_DB),
      {"GET", "http://169.254.169.254", NULL, {NULL}, ANY_FLAGS}},
     NULL},
    {"token-invalid-client",
     SECRETS_DB,
     ENV_CS,
     {{NULL}},
     {R401, {401, NULL, OAUTH_ERR("invalid_client", "AADSTS7000215"), 0}},
     EI_DENIED,
     "client secret (AZURE_CLIENT_SECRET): the token endpoint refused (HTTP "
     "401: invalid_client, AADSTS7000215)",
     {{NULL}},
     {REQ_PROBE(GET_DB), REQ_TOKEN(SECRET_FIELD)},
     NULL},
    {"token-answer-malformed",
     SECRETS_DB,
     ENV_CS,
     {{NULL}},
     {R401, {200, NULL, "{\"access_token\":\"" CANARY, 0}},
     EI_BADDATA,
     "token answer: malformed JSON",
     {{NULL}},
     {REQ_PROBE(GET_DB), REQ_TOKEN(SECRET_FIELD)},
     NULL},
    {"token-expires-in-string",
     SECRETS_DB,
     ENV_CS,
     {{NULL}},
     {R401,
      {200, NULL, TOKEN_BODY(TOKEN, "\"3599\""), 0},
      RSECRET("db-password", CANARY)},
     EI_OK,
     NULL,
     ONE_DB,
     {REQ_PROBE(GET_DB), REQ_TOKEN(SECRET_FIELD), REQ_AUTH(GET_DB, TOKEN)},
     NULL},
    {"token-already-expired",
     SECRETS_DB,
     ENV_CS,
     {{NULL}},
     {R401,
      {200, NULL, "{\"access_token\":\"" TOKEN "\",\"expires_on\":\"1000\"}",
       0}},
     EI_BADDATA,
     "expired",
     {{NULL}},
     {REQ_PROBE(GET_DB), REQ_TOKEN(SECRET_FIELD)},
     NULL},
    /* the challenge */
    {"challenge-other-tenant",
     SECRETS_DB,
     {"AZURE_TENANT_ID=contoso.onmicrosoft.com", ENV_CLIENT, ENV_SECRET},
     {{NULL}},
     {R401},
     EI_DENIED,
     "the vault belongs to tenant " TENANT ", not to the configured tenant "
     "contoso.onmicrosoft.com",
     {{NULL}},
     {REQ_PROBE(GET_DB)},
     NULL},
    {"challenge-other-tenant-managed-identity-asks-anyway",
     SECRETS_DB,
     {"AZURE_TENANT_ID=contoso.onmicrosoft.com"},
     {{NULL}},
     {R401, {200, NULL, IMDS_BODY, 0}, RSECRET("db-password", CANARY)},
     EI_OK,
     NULL,
     ONE_DB,
     {REQ_PROBE(GET_DB),
      {"GET", "http://169.254.169.254", NULL, {NULL}, ANY_FLAGS},
      REQ_AUTH(GET_DB, TOKEN)},
     NULL},
    {"challenge-hostile-resource",
     SECRETS_DB,
     ENV_CS,
     {{NULL}},
     {{401,
       "WWW-Authenticate: Bearer authorization=\"https://login.microsoftonline"
       ".com/" TENANT "\", resource=\"https://evil.example\"\n",
       "{}", 0}},
     EI_DENIED,
     "does not match the vault's domain",
     {{NULL}},
     {REQ_PROBE(GET_DB)},
     NULL},
    {"challenge-scope",
     SECRETS_DB,
     ENV_CS,
     {{NULL}},
     {{401,
       "WWW-Authenticate: Bearer authorization=\"https://login.microsoftonline"
       ".com/" TENANT "\", scope=\"https://vault.azure.net/.default\"\n",
       "{}", 0},
      RTOKEN,
      RSECRET("db-password", CANARY)},
     EI_OK,
     NULL,
     ONE_DB,
     {REQ_PROBE(GET_DB), REQ_TOKEN(SECRET_FIELD), REQ_AUTH(GET_DB, TOKEN)},
     NULL},
    {"challenge-missing",
     SECRETS_DB,
     ENV_CS,
     {{NULL}},
     {{401, NULL, "{}", 0}},
     EI_DENIED,
     "HTTP 401 without a WWW-Authenticate challenge",
     {{NULL}},
     {REQ_PROBE(GET_DB)},
     NULL},
    {"token-refused-by-vault",
     SECRETS_DB,
     ENV_CS,
     {{NULL}},
     {R401,
      RTOKEN,
      {401, CHALLENGE_HDR,
       "{\"error\":{\"code\":\"Unauthorized\",\"message\":\"AKV10032: Invalid "
       "issuer.\"}}",
       0}},
     EI_DENIED,
     "reading the secret: Key Vault refused the token from client secret "
     "(AZURE_CLIENT_SECRET) (HTTP 401 Unauthorized)",
     {{NULL}},
     {REQ_PROBE(GET_DB), REQ_TOKEN(SECRET_FIELD), REQ_AUTH(GET_DB, TOKEN)},
     NULL},
    {"token-renewed-once-on-401",
     {VOPT, "secrets=db-password", "secrets=api-key"},
     ENV_CS,
     {{NULL}},
     {R401,
      RTOKEN,
      RSECRET("db-password", CANARY),
      R401,
      {200, NULL, TOKEN_BODY(TOKEN2, "3599"), 0},
      RSECRET("api-key", "k-" CANARY)},
     EI_OK,
     NULL,
     {{"db-password", CANARY, LOC("db-password")},
      {"api-key", "k-" CANARY, LOC("api-key")}},
     {REQ_PROBE(GET_DB), REQ_TOKEN(SECRET_FIELD), REQ_AUTH(GET_DB, TOKEN),
      REQ_AUTH("/secrets/api-key?api-version=7.5", TOKEN),
      REQ_TOKEN(SECRET_FIELD),
      REQ_AUTH("/secrets/api-key?api-version=7.5", TOKEN2)},
     "HTTP 401 with a token"},
    {"token-refreshed-before-expiry",
     {VOPT, "secrets=db-password", "secrets=api-key"},
     ENV_CS,
     {{NULL}},
     {R401,
      {200, NULL, TOKEN_BODY(TOKEN, "299"), 0},
      RSECRET("db-password", CANARY),
      {200, NULL, TOKEN_BODY(TOKEN2, "3599"), 0},
      RSECRET("api-key", "k-" CANARY)},
     EI_OK,
     NULL,
     {{"db-password", CANARY, LOC("db-password")},
      {"api-key", "k-" CANARY, LOC("api-key")}},
     {REQ_PROBE(GET_DB), REQ_TOKEN(SECRET_FIELD), REQ_AUTH(GET_DB, TOKEN),
      REQ_TOKEN(SECRET_FIELD),
      REQ_AUTH("/secrets/api-key?api-version=7.5", TOKEN2)},
     NULL},
    {"sovereign-cloud",
     {"vault=https://kv-cn.vault.azure.cn", "secrets=db-password"},
     ENV_CS,
     {{NULL}},
     {{401,
       "WWW-Authenticate: Bearer authorization=\"https://login.chinacloudapi."
       "cn/" TENANT "\", resource=\"https://vault.azure.cn\"\n",
       "{}", 0},
      RTOKEN,
      RSECRET("db-password", CANARY)},
     EI_OK,
     NULL,
     {{"db-password", CANARY,
       "kv-cn.vault.azure.cn/secrets/db-password/" KV_VERSION}},
     {{"GET", "https://kv-cn.vault.azure.cn", GET_DB, {NULL}, EI_HTTP_SECRET},
      {"POST",
       LOGIN,
       TOKEN_PATH,
       {"B:&scope=https%3A%2F%2Fvault.azure.cn%2F.default&"},
       EI_HTTP_SECRET | EI_HTTP_SECRET_BODY},
      {"GET", "https://kv-cn.vault.azure.cn", GET_DB, {NULL}, EI_HTTP_SECRET}},
     NULL},
    /* Key Vault's answers */
    {"secret-not-found",
     {VOPT, "secrets=missing"},
     ENV_CS,
     {{NULL}},
     {R401,
      RTOKEN,
      {404, NULL,
       "{\"error\":{\"code\":\"SecretNotFound\",\"message\":\"A secret with "
       "(name/id) missing was not found in this key vault.\"}}",
       0}},
     EI_NOTFOUND,
     "reading the secret: not found (HTTP 404 SecretNotFound)",
     {{NULL}},
     {REQ_PROBE("/secrets/missing?api-version=7.5"), REQ_TOKEN(SECRET_FIELD),
      REQ_AUTH("/secrets/missing?api-version=7.5", TOKEN)},
     NULL},
    {"secret-disabled",
     {VOPT, "secrets=old-token"},
     ENV_CS,
     {{NULL}},
     {R401,
      RTOKEN,
      {403, NULL,
       "{\"error\":{\"code\":\"Forbidden\",\"message\":\"Operation get is not "
       "allowed on a disabled secret.\",\"innererror\":{\"code\":"
       "\"SecretDisabled\"}}}",
       0}},
     EI_DENIED,
     "the secret is disabled (HTTP 403 Forbidden/SecretDisabled)",
     {{NULL}},
     {REQ_PROBE("/secrets/old-token?api-version=7.5"), REQ_TOKEN(SECRET_FIELD),
      REQ_AUTH("/secrets/old-token?api-version=7.5", TOKEN)},
     NULL},
    {"secret-forbidden",
     SECRETS_DB,
     ENV_CS,
     {{NULL}},
     {R401,
      RTOKEN,
      {403, NULL,
       "{\"error\":{\"code\":\"Forbidden\",\"message\":\"Caller is not "
       "authorized\",\"innererror\":{\"code\":\"ForbiddenByRbac\"}}}",
       0}},
     EI_DENIED,
     "reading the secret: permission denied (HTTP 403 "
     "Forbidden/ForbiddenByRbac)",
     {{NULL}},
     {REQ_PROBE(GET_DB), REQ_TOKEN(SECRET_FIELD), REQ_AUTH(GET_DB, TOKEN)},
     NULL},
    {"secret-malformed",
     SECRETS_DB,
     ENV_CS,
     {{NULL}},
     {R401, RTOKEN, {200, NULL, "{\"value\":\"" CANARY, 0}},
     EI_BADDATA,
     "secret: malformed JSON",
     {{NULL}},
     {REQ_PROBE(GET_DB), REQ_TOKEN(SECRET_FIELD), REQ_AUTH(GET_DB, TOKEN)},
     NULL},
    {"secret-throttled-then-served",
     SECRETS_DB,
     ENV_CS,
     {{NULL}},
     {R401,
      RTOKEN,
      {429, "Retry-After: 1\n", "{}", 0},
      RSECRET("db-password", CANARY)},
     EI_OK,
     NULL,
     ONE_DB,
     {REQ_PROBE(GET_DB), REQ_TOKEN(SECRET_FIELD), REQ_AUTH(GET_DB, TOKEN),
      REQ_AUTH(GET_DB, TOKEN)},
     NULL},
    {"secret-bad-request",
     SECRETS_DB,
     ENV_CS,
     {{NULL}},
     {R401,
      RTOKEN,
      {400, NULL, "{\"error\":{\"code\":\"BadParameter\",\"message\":\"x\"}}",
       0}},
     EI_BADDATA,
     "unexpected answer (HTTP 400 BadParameter)",
     {{NULL}},
     {REQ_PROBE(GET_DB), REQ_TOKEN(SECRET_FIELD), REQ_AUTH(GET_DB, TOKEN)},
     NULL},
    /* listing */
    {"list-pages",
     {VOPT},
     ENV_CS,
     {{NULL}},
     {R401,
      RTOKEN,
      {200, NULL,
       "{\"value\":[{\"id\":\"" VAULT "/secrets/db-password\",\"attributes\":"
       "{\"enabled\":true}},{\"id\":\"" VAULT "/secrets/old-token\","
       "\"attributes\":{\"enabled\":false}}],\"nextLink\":\"https://myvault."
       "vault.azure.net:443/secrets?api-version=7.2&$skiptoken=eyJ2&"
       "maxresults=2\"}",
       0},
      {200, NULL,
       "{\"value\":[{\"id\":\"" VAULT "/secrets/api-key\"}],\"nextLink\":"
       "null}",
       0},
      RSECRET("db-password", CANARY),
      RSECRET("api-key", "k-" CANARY)},
     EI_OK,
     NULL,
     {{"db-password", CANARY, LOC("db-password")},
      {"api-key", "k-" CANARY, LOC("api-key")}},
     {REQ_PROBE("/secrets?api-version=7.5"), REQ_TOKEN(SECRET_FIELD),
      REQ_AUTH("/secrets?api-version=7.5", TOKEN),
      REQ_AUTH("/secrets?api-version=7.2&$skiptoken=eyJ2&maxresults=2", TOKEN),
      REQ_AUTH(GET_DB, TOKEN),
      REQ_AUTH("/secrets/api-key?api-version=7.5", TOKEN)},
     "2 enabled secrets, 1 disabled, 2 pages"},
    {"list-empty-vault",
     {VOPT},
     ENV_CS,
     {{NULL}},
     {R401, RTOKEN, {200, NULL, "{\"value\":[],\"nextLink\":null}", 0}},
     EI_OK,
     NULL,
     {{NULL}},
     {REQ_PROBE("/secrets?api-version=7.5"), REQ_TOKEN(SECRET_FIELD),
      REQ_AUTH("/secrets?api-version=7.5", TOKEN)},
     NULL},
    {"list-next-link-off-vault",
     {VOPT},
     ENV_CS,
     {{NULL}},
     {R401,
      RTOKEN,
      {200, NULL,
       "{\"value\":[],\"nextLink\":\"https://evil.example/secrets?x=1\"}", 0}},
     EI_BADDATA,
     "secret list: nextLink leaves the vault",
     {{NULL}},
     {REQ_PROBE("/secrets?api-version=7.5"), REQ_TOKEN(SECRET_FIELD),
      REQ_AUTH("/secrets?api-version=7.5", TOKEN)},
     NULL},
    {"list-forbidden",
     {VOPT},
     ENV_CS,
     {{NULL}},
     {R401,
      RTOKEN,
      {403, NULL,
       "{\"error\":{\"code\":\"Forbidden\",\"message\":\"no list\","
       "\"innererror\":{\"code\":\"AccessDenied\"}}}",
       0}},
     EI_DENIED,
     "listing the secrets: permission denied (HTTP 403 Forbidden/AccessDenied)",
     {{NULL}},
     {REQ_PROBE("/secrets?api-version=7.5"), REQ_TOKEN(SECRET_FIELD),
      REQ_AUTH("/secrets?api-version=7.5", TOKEN)},
     NULL},
    {"list-not-a-vault",
     {VOPT},
     ENV_CS,
     {{NULL}},
     {{404, NULL, "", 0}},
     EI_NOTFOUND,
     "listing the secrets: not found (HTTP 404)",
     {{NULL}},
     {REQ_PROBE("/secrets?api-version=7.5")},
     NULL},
    {"list-secret-gone-meanwhile",
     {VOPT},
     ENV_CS,
     {{NULL}},
     {R401,
      RTOKEN,
      {200, NULL,
       "{\"value\":[{\"id\":\"" VAULT "/secrets/gone\"}],\"nextLink\":null}",
       0},
      {404, NULL, "{\"error\":{\"code\":\"SecretNotFound\"}}", 0}},
     EI_NOTFOUND,
     "SecretNotFound",
     {{NULL}},
     {REQ_PROBE("/secrets?api-version=7.5"), REQ_TOKEN(SECRET_FIELD),
      REQ_AUTH("/secrets?api-version=7.5", TOKEN),
      REQ_AUTH("/secrets/gone?api-version=7.5", TOKEN)},
     NULL},
};

static char tmpdir[PATH_SIZE];

static void make_files(const struct cfile *files, const char *dir)
{
    assert_int_equal(mkdir(dir, 0700), 0);
    for (size_t i = 0; i < FILES_N && files[i].name != NULL; i++) {
        char path[PATH_SIZE];
        int n = snprintf(path, sizeof path, "%s/%s", dir, files[i].name);
        assert_true(n > 0 && (size_t)n < sizeof path);
        FILE *fp = fopen(path, "wb");
        assert_non_null(fp);
        size_t len = strlen(files[i].content);
        assert_int_equal(fwrite(files[i].content, 1, len, fp), len);
        assert_int_equal(fclose(fp), 0);
        assert_int_equal(chmod(path, (mode_t)files[i].mode), 0);
    }
}

static void check_requests(const struct fcase *c, struct fake_host *fh)
{
    size_t n = 0;
    const struct fake_http_request *r = fake_host_http_requests(fh, &n);
    size_t want_n = 0;
    while (want_n < REQS_N && c->reqs[want_n].method != NULL)
        want_n++;
    if (n != want_n)
        fail_msg("%zu requests, want %zu", n, want_n);
    for (size_t i = 0; i < n; i++) {
        const struct want_req *w = &c->reqs[i];
        assert_string_equal(r[i].method, w->method);
        assert_string_equal(r[i].endpoint, w->endpoint);
        if (w->path != NULL)
            assert_string_equal(r[i].path, w->path);
        if (w->flags != ANY_FLAGS)
            assert_int_equal(r[i].flags, w->flags);
        for (size_t k = 0; k < CHECKS_N && w->checks[k] != NULL; k++) {
            const char *ck = w->checks[k];
            if (ck[0] == '!') {
                if (fake_http_header(&r[i], ck + 1) != NULL)
                    fail_msg("request %zu has header %s", i, ck + 1);
            } else if (strncmp(ck, "H:", 2) == 0) {
                const char *colon = strchr(ck + 2, ':');
                char name[64];
                snprintf(name, sizeof name, "%.*s", (int)(colon - ck - 2),
                         ck + 2);
                const char *v = fake_http_header(&r[i], name);
                if (v == NULL || strcmp(v, colon + 2) != 0)
                    fail_msg("request %zu: header %s is '%s', want '%s'", i,
                             name, v != NULL ? v : "(none)", colon + 2);
            } else if (strncmp(ck, "B:", 2) == 0) {
                if (r[i].body == NULL || strstr(r[i].body, ck + 2) == NULL)
                    fail_msg("request %zu: body '%s' lacks '%s'", i,
                             r[i].body != NULL ? r[i].body : "(none)", ck + 2);
            }
        }
        /* nothing secret in a URL */
        assert_null(strstr(r[i].path, CANARY));
        assert_null(strstr(r[i].path, TOKEN));
    }
}

static void test_fetch(void **state)
{
    const struct fcase *c = *state;
    char dir[PATH_SIZE];
    int n = snprintf(dir, sizeof dir, "%s/%s", tmpdir, c->name);
    assert_true(n > 0 && (size_t)n < sizeof dir);
    make_files(c->files, dir);
    char **opts = expand_dir_list(c->opts, OPTS_N, dir);
    char **env = expand_dir_list(c->environ, ENV_N, dir);
    struct fake_host *fh =
        fake_host_new((const char *const *)opts, (const char *const *)env, dir);
    assert_non_null(fh);
    for (size_t i = 0; i < REPLIES_N &&
                       (c->replies[i].status != 0 || c->replies[i].flags != 0);
         i++)
        assert_int_equal(fake_host_http_push_headers(
                             fh, c->replies[i].status, c->replies[i].headers,
                             c->replies[i].body, c->replies[i].flags),
                         0);
    const struct ei_host *h = fake_host_host(fh);
    struct ei_error err = {0};
    void *st = NULL;
    assert_int_equal(ei_provider_azure_keyvault.configure(h, &st, &err), EI_OK);
    assert_int_equal(fake_host_reads(fh), 0);
    assert_null(fake_host_unused(fh));

    struct fake_sink fs;
    fake_sink_init(&fs);
    struct ei_deadline dl;
    fake_deadline(&dl, DL_MS);
    enum ei_status got =
        ei_provider_azure_keyvault.fetch(st, &fs.sink, &dl, &err);
    if (got != c->want)
        fail_msg("status %d, want %d (%s)", got, c->want, err.text);
    assert_false(fs.abi_violation);
    if (got == EI_OK) {
        size_t want_n = 0;
        while (want_n < WANT_N && c->entries[want_n].name != NULL)
            want_n++;
        assert_int_equal(fs.n, want_n);
        for (size_t i = 0; i < want_n; i++) {
            assert_string_equal(fs.entries[i].name, c->entries[i].name);
            assert_int_equal(fs.entries[i].name_n, 1);
            assert_string_equal(fs.entries[i].value, c->entries[i].value);
            assert_string_equal(fs.entries[i].locator, c->entries[i].locator);
            /* secret by default: the layer's flag, not the entry's */
            assert_int_equal(fs.entries[i].flags, 0);
        }
    } else {
        assert_int_equal(err.status, got);
        if (strstr(err.text, c->want_text) == NULL)
            fail_msg("error text '%s' lacks '%s'", err.text, c->want_text);
    }
    assert_null(strstr(err.text, CANARY));
    assert_null(strstr(err.locator, CANARY));
    assert_null(strstr(err.text, "cs~"));
    assert_null(strchr(err.text, '\n'));
    fake_sink_free(&fs);
    /* the endpoints belong to the clients, which destroy closes */
    check_requests(c, fh);
    ei_provider_azure_keyvault.destroy(st);
    assert_int_equal(fake_host_http_clients(fh), 0);
    assert_int_equal(fake_host_http_pending(fh), 0);
    if (c->log_has != NULL && strstr(fake_host_log(fh), c->log_has) == NULL)
        fail_msg("log '%s' lacks '%s'", fake_host_log(fh), c->log_has);
    /* tokens, client secrets and values never reach a log line */
    assert_null(strstr(fake_host_log(fh), CANARY));
    fake_host_free(fh);
    expand_list_free(opts);
    expand_list_free(env);
}

static void test_descriptor(void **state)
{
    (void)state;
    const struct ei_provider *p = &ei_provider_azure_keyvault;
    assert_int_equal(p->abi, EI_PROVIDER_ABI);
    assert_int_equal(p->size, sizeof(struct ei_provider));
    assert_string_equal(p->name, "azure-keyvault");
    assert_string_equal(p->arg_option, "vault");
    assert_int_equal(p->flags, EI_PROV_REMOTE | EI_PROV_SECRET);
    assert_non_null(p->configure);
    assert_non_null(p->fetch);
    assert_non_null(p->lookup);
    assert_non_null(p->destroy);
    p->destroy(NULL);
    ei_azure_identity_free(NULL);
}

/* Push the three replies of one secret read: the challenge, a token,
   the secret. */
static void push_read(struct fake_host *fh, const char *bundle)
{
    assert_int_equal(
        fake_host_http_push_headers(
            fh, 401, CHALLENGE_HDR,
            "{\"error\":{\"code\":\"Unauthorized\",\"message\":\"AKV10000\"}}",
            0),
        0);
    assert_int_equal(
        fake_host_http_push(fh, 200, TOKEN_BODY(TOKEN, "3599"), 0), 0);
    assert_int_equal(fake_host_http_push(fh, 200, bundle, 0), 0);
}

/*
 * ref+azurekeyvault://myvault/db-password/VERSION reads that version from
 * the layer's own vault; ref+azurekeyvault://other/api-key opens a second
 * vault, https://other.vault.azure.net, with the layer's credentials; a
 * malformed reference sends nothing.
 */
static void test_lookup(void **state)
{
    (void)state;
    static const char *const opts[] = {VOPT, NULL};
    static const char *const env[] = {ENV_TENANT, ENV_CLIENT, ENV_SECRET, NULL};
    struct fake_host *fh = fake_host_new(opts, env, NULL);
    assert_non_null(fh);
    push_read(fh, BUNDLE("db-password", CANARY));
    push_read(fh, BUNDLE("api-key", "key-" CANARY));
    struct ei_error err = {0};
    void *st = NULL;
    assert_int_equal(
        ei_provider_azure_keyvault.configure(fake_host_host(fh), &st, &err),
        EI_OK);
    struct fake_sink fs;
    fake_sink_init(&fs);
    struct ei_deadline dl;
    fake_deadline(&dl, DL_MS);
    const struct ei_provider *p = &ei_provider_azure_keyvault;
    assert_int_equal(p->lookup(st,
                               "ref+azure-keyvault://myvault/db-password/" KV_VERSION,
                               &fs.sink, &dl, &err),
                     EI_OK);
    assert_int_equal(p->lookup(st, "ref+azure-keyvault://other/api-key",
                               &fs.sink, &dl, &err),
                     EI_OK);
    assert_int_equal(fs.n, 2);
    assert_string_equal(fs.entries[0].value, CANARY);
    assert_string_equal(fs.entries[0].locator, LOC("db-password"));
    assert_string_equal(fs.entries[1].value, "key-" CANARY);
    assert_string_equal(fs.entries[1].locator,
                        "other.vault.azure.net/secrets/api-key/" KV_VERSION);
    size_t n = 0;
    const struct fake_http_request *r = fake_host_http_requests(fh, &n);
    assert_int_equal(n, 6);
    assert_string_equal(r[2].endpoint, VAULT);
    assert_string_equal(r[2].path,
                        "/secrets/db-password/" KV_VERSION "?api-version=7.5");
    assert_string_equal(r[4].endpoint, LOGIN);
    assert_string_equal(r[5].endpoint, "https://other.vault.azure.net");
    assert_string_equal(r[5].path, "/secrets/api-key?api-version=7.5");
    static const char *const bad[] = {
        "ref+azure-keyvault://myvault",
        "ref+azure-keyvault://myvault/",
        "ref+azure-keyvault://myvault/bad_name",
        "ref+azure-keyvault://myvault/db-password/v/w",
        "ref+azure-keyvault://myvault/db-password/",
        "ref+azure-keyvault://myvault/db-password?x=1",
        "ref+azure-keyvault:///db-password",
        "ref+azure-keyvault://my_vault/db-password",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (p->lookup(st, bad[i], &fs.sink, &dl, &err) != EI_BADDATA)
            fail_msg("%s: not refused", bad[i]);
    fake_host_http_requests(fh, &n);
    assert_int_equal(n, 6);
    assert_int_equal(fs.n, 2);
    fake_sink_free(&fs);
    p->destroy(st);
    assert_int_equal(fake_host_http_clients(fh), 0);
    fake_host_free(fh);
}

/* The ARG of --layer azure-keyvault:URL is the vault. */
static void test_arg_is_vault(void **state)
{
    (void)state;
    static const char *const env[] = {ENV_TENANT, ENV_CLIENT, ENV_SECRET, NULL};
    struct fake_host *fh = fake_host_new(NULL, env, NULL);
    assert_non_null(fh);
    fake_host_set_arg(fh, VAULT "/");
    struct ei_error err = {0};
    void *st = NULL;
    assert_int_equal(
        ei_provider_azure_keyvault.configure(fake_host_host(fh), &st, &err),
        EI_OK);
    ei_provider_azure_keyvault.destroy(st);
    fake_host_free(fh);
}

/* An older envinject without http_header: a clear refusal. */
static void test_old_host(void **state)
{
    (void)state;
    static const char *const opts[] = {VOPT, NULL};
    struct fake_host *fh = fake_host_new(opts, NULL, NULL);
    assert_non_null(fh);
    fake_host_set_size(fh, offsetof(struct ei_host, http_header));
    struct ei_error err = {0};
    void *st = NULL;
    assert_int_equal(
        ei_provider_azure_keyvault.configure(fake_host_host(fh), &st, &err),
        EI_BADCONFIG);
    assert_non_null(strstr(err.text, "http_header"));
    fake_host_free(fh);
}

static int group_setup(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    int n = snprintf(tmpdir, sizeof tmpdir, "%s/test_azure.XXXXXX",
                     base != NULL && base[0] != '\0' ? base : "/tmp");
    if (n < 0 || (size_t)n >= sizeof tmpdir || mkdtemp(tmpdir) == NULL)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    char cmd[PATH_SIZE + 32];
    int n = snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (n < 0 || (size_t)n >= sizeof cmd)
        return -1;
    return system(cmd) == 0 ? 0 : -1;
}

#define CHAIN_N  (sizeof chain_cases / sizeof chain_cases[0])
#define FCASES_N (sizeof fcases / sizeof fcases[0])
/* A layer made for references (ref+azure-keyvault://) takes its vault
   from each reference: no vault option needed, one given still checked;
   any other layer needs it. */
static void test_references_only(void **state)
{
    (void)state;
    static const struct fake_configure_row rows[] = {
        {"refs-only-without-vault", true, {NULL}, {NULL}, EI_OK, NULL},
        {"refs-only-with-ca",
         true,
         {NULL},
         {"SSL_CERT_FILE=/etc/ca.pem", NULL},
         EI_OK,
         NULL},
        {"refs-only-vault-still-checked",
         true,
         {"vault=http://x", NULL},
         {NULL},
         EI_BADCONFIG,
         "vault"},
        {"vault-required-otherwise",
         false,
         {NULL},
         {NULL},
         EI_BADCONFIG,
         "vault is required (https://NAME.vault.azure.net)"},
    };
    char why[512];
    const char *bad =
        fake_configure_rows(&ei_provider_azure_keyvault, rows,
                            sizeof rows / sizeof rows[0], why, sizeof why);
    if (bad != NULL)
        fail_msg("%s", bad);
}

#define EXTRA_N 12

int main(void)
{
    struct CMUnitTest tests[CHAIN_N + FCASES_N + EXTRA_N];
    size_t t = 0;
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_vault_url);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_challenge);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_next_link);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_parse_list);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_parse_secret);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_parse_token);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_parse_errors);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_descriptor);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_arg_is_vault);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_old_host);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_lookup);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_references_only);
    for (size_t i = 0; i < CHAIN_N; i++, t++) {
        tests[t] = (struct CMUnitTest)cmocka_unit_test(test_chain);
        tests[t].name = chain_cases[i].name;
        tests[t].initial_state = (void *)&chain_cases[i];
    }
    for (size_t i = 0; i < FCASES_N; i++, t++) {
        tests[t] = (struct CMUnitTest)cmocka_unit_test(test_fetch);
        tests[t].name = fcases[i].name;
        tests[t].initial_state = (void *)&fcases[i];
    }
    if (t != sizeof tests / sizeof tests[0])
        return 1;
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
