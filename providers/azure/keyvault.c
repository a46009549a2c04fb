/* SPDX-License-Identifier: MIT */
/* The azure-keyvault provider: secrets of an Azure Key Vault (REST API
   7.5), named or every enabled one, with Entra ID tokens learnt through
   the vault's 401 challenge (identity.c). */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <envinject/provider.h>
#include <jansson.h>
#include <sodium.h>

#include "../common/parse_error.h"
#include "../common/revision.h"
#include "identity.h"
#include "keyvault.h"

#define KV_API       "api-version=7.5"
#define KV_ACCEPT    "Accept: application/json"
#define KV_LOCALHOST ".localhost"
#define KV_DEFAULT   "/.default"
/* azure-identity refreshes a token this long before it expires (its
   DEFAULT_REFRESH_OFFSET): a watched layer polls with the same state */
#define KV_REFRESH_S 300
/* a vault of 25,000 secrets: list pages hold up to 25 */
#define KV_PAGES_MAX 1000
#define KV_LOC_MAX   (EI_AZURE_BASE_MAX + EI_AZURE_NAME_MAX + 80)
#define KV_PATH_MAX  (EI_AZURE_NAME_MAX + 64)
#define KV_CHALLENGE 1024
/* the vaults one layer's references may name besides its own */
#define KV_REF_VAULTS_MAX 16
/* a secret version: 32 hex digits in Key Vault; room for more */
#define KV_VERSION_MAX 64

#define HTTP_OK           200
#define HTTP_UNAUTHORIZED 401
#define HTTP_FORBIDDEN    403
#define HTTP_NOT_FOUND    404

struct kv_state {
    const struct ei_host *host;
    struct ei_http *http;
    struct ei_azure_identity *id;
    char base[EI_AZURE_BASE_MAX];
    char vhost[EI_AZURE_BASE_MAX];
    char vname[EI_AZURE_BASE_MAX];
    const char *const *secrets; /* the core's; NULL: list the vault */
    size_t secrets_n;
    const char *cacert; /* the CA bundle without a cacert option, or NULL */
    /* the vaults that references name besides the layer's own */
    struct kv_state *vaults[KV_REF_VAULTS_MAX];
    size_t vaults_n;

    /* what the run learnt; fetches never overlap */
    char tenant[EI_AZURE_TENANT_MAX];
    char scope[EI_AZURE_SCOPE_MAX];
    bool challenged;
    char *auth; /* secret memory: "Authorization: Bearer ..." */
    size_t auth_size;
    int64_t expires_on;
    /* during fetch: "name=version" of every secret read, for the revision;
       NULL when one had no version */
    struct kv_names *revs;
};

/* ---- parsers (keyvault.h) ---- */

static bool kv_label_char(int c)
{
    return isalnum(c) || c == '-';
}

int ei_azure_vault_url(const char *url, char *base, char *host, char *name,
                       const char **why)
{
    static const char https[] = "https://";
    if (strncasecmp(url, https, strlen(https)) != 0) {
        *why = "vault must be an https:// URL (a bearer token goes to it)";
        return -1;
    }
    const char *h = url + strlen(https);
    size_t hl = strcspn(h, ":/?#@");
    if (h[hl] == '@' || strchr(h, '@') != NULL) {
        *why = "vault must not hold a user name";
        return -1;
    }
    if (hl == 0 || hl >= EI_AZURE_BASE_MAX - 16) {
        *why = "vault has no host name (https://NAME.vault.azure.net)";
        return -1;
    }
    const char *p = h + hl;
    long port = 443;
    if (*p == ':') {
        char *end = NULL;
        errno = 0;
        port = strtol(p + 1, &end, 10);
        if (end == p + 1 || errno != 0 || port < 1 || port > 65535 ||
            !isdigit((unsigned char)p[1])) {
            *why = "vault has a bad port";
            return -1;
        }
        p = end;
    }
    if (!(*p == '\0' || (p[0] == '/' && p[1] == '\0'))) {
        *why = "vault must be https://NAME.vault.azure.net, without a path "
               "or query";
        return -1;
    }
    for (size_t i = 0; i < hl; i++) {
        if (!kv_label_char((unsigned char)h[i]) && h[i] != '.') {
            *why = "vault has a character not allowed in a host name";
            return -1;
        }
        host[i] = (char)tolower((unsigned char)h[i]);
    }
    host[hl] = '\0';
    size_t nl = strcspn(host, ".");
    if (host[nl] != '.' || host[nl + 1] == '\0') {
        *why = "vault must be https://NAME.vault.azure.net (or the DNS suffix "
               "of another cloud)";
        return -1;
    }
    /* Key Vault's rule for vault names */
    if (nl < 3 || nl > 24 || !isalpha((unsigned char)host[0]) ||
        host[nl - 1] == '-' ||
        (strstr(host, "--") != NULL &&
         (size_t)(strstr(host, "--") - host) < nl)) {
        *why = "the vault name must be 3 to 24 letters, digits and '-', "
               "starting with a letter, without \"--\" or a final '-'";
        return -1;
    }
    memcpy(name, host, nl);
    name[nl] = '\0';
    if (port != 443)
        snprintf(base, EI_AZURE_BASE_MAX, "https://%s:%ld", host, port);
    else
        snprintf(base, EI_AZURE_BASE_MAX, "https://%s", host);
    return 0;
}

bool ei_azure_name_ok(const char *s, size_t len)
{
    if (len == 0 || len > EI_AZURE_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!kv_label_char((unsigned char)s[i]))
            return false;
    return true;
}

/* The host of an absolute URL, lower case, into out; -1 if none. */
static int kv_url_host(const char *url, char *out, size_t out_len)
{
    const char *sep = strstr(url, "://");
    if (sep == NULL)
        return -1;
    const char *h = sep + 3;
    size_t hl = strcspn(h, ":/?#");
    if (hl == 0 || hl >= out_len)
        return -1;
    for (size_t i = 0; i < hl; i++) {
        if (!kv_label_char((unsigned char)h[i]) && h[i] != '.')
            return -1;
        out[i] = (char)tolower((unsigned char)h[i]);
    }
    out[hl] = '\0';
    return 0;
}

/* The value of parameter key in a challenge, into out; -1 if absent. */
static int kv_param(const char *hdr, const char *key, char *out, size_t out_len)
{
    size_t kl = strlen(key);
    const char *p = hdr;
    while (*p != '\0') {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        const char *start = p;
        size_t nl = strcspn(p, "= ,\t");
        const char *v = p + nl;
        if (*v != '=') {
            p = v;
            continue;
        }
        v++;
        size_t vl;
        const char *vs = v;
        if (*v == '"') {
            vs = v + 1;
            const char *q = strchr(vs, '"');
            if (q == NULL)
                return -1;
            vl = (size_t)(q - vs);
            p = q + 1;
        } else {
            vl = strcspn(v, " ,\t");
            p = v + vl;
        }
        if (nl == kl && strncasecmp(start, key, kl) == 0) {
            if (vl >= out_len)
                return -1;
            memcpy(out, vs, vl);
            out[vl] = '\0';
            return 0;
        }
    }
    return -1;
}

int ei_azure_parse_challenge(const char *header, const char *vault_host,
                             char *tenant, char *scope, const char **why)
{
    tenant[0] = '\0';
    scope[0] = '\0';
    if (strncasecmp(header, "Bearer", 6) != 0 ||
        (header[6] != ' ' && header[6] != '\0')) {
        *why = "the challenge is not a Bearer challenge";
        return -1;
    }
    const char *params = header + 6;
    char auth[EI_AZURE_SCOPE_MAX];
    if (kv_param(params, "authorization", auth, sizeof(auth)) == 0 ||
        kv_param(params, "authorization_uri", auth, sizeof(auth)) == 0) {
        /* the tenant is the first path segment of the authority */
        const char *sep = strstr(auth, "://");
        const char *path = sep != NULL ? strchr(sep + 3, '/') : NULL;
        if (path != NULL) {
            size_t tl = strcspn(path + 1, "/?#");
            if (tl >= EI_AZURE_TENANT_MAX) {
                *why = "the challenge's tenant is too long";
                return -1;
            }
            for (size_t i = 0; i < tl; i++) {
                unsigned char c = (unsigned char)path[1 + i];
                if (!isalnum(c) && c != '-' && c != '.') {
                    *why = "the challenge's tenant is not a tenant id";
                    return -1;
                }
            }
            memcpy(tenant, path + 1, tl);
            tenant[tl] = '\0';
        }
    }
    if (kv_param(params, "scope", scope, EI_AZURE_SCOPE_MAX) < 0) {
        if (kv_param(params, "resource", scope, EI_AZURE_SCOPE_MAX) < 0 &&
            kv_param(params, "resource_id", scope, EI_AZURE_SCOPE_MAX) < 0) {
            *why = "the challenge names no resource or scope";
            return -1;
        }
        size_t sl = strlen(scope);
        while (sl > 0 && scope[sl - 1] == '/')
            scope[--sl] = '\0';
        if (sl + strlen(KV_DEFAULT) >= EI_AZURE_SCOPE_MAX) {
            *why = "the challenge's resource is too long";
            return -1;
        }
        memcpy(scope + sl, KV_DEFAULT, strlen(KV_DEFAULT) + 1);
    }
    for (const unsigned char *c = (const unsigned char *)scope; *c; c++)
        if (*c <= 0x20 || *c >= 0x7f) {
            *why = "the challenge's scope has a control character";
            return -1;
        }
    /* the SDKs' check: a vault must not obtain a token for another
       audience (a hostile endpoint could harvest it) */
    char sh[EI_AZURE_BASE_MAX];
    if (strncasecmp(scope, "https://", 8) != 0 ||
        kv_url_host(scope, sh, sizeof(sh)) < 0) {
        *why = "the challenge's scope is not an https URL";
        return -1;
    }
    char vh[EI_AZURE_BASE_MAX];
    snprintf(vh, sizeof(vh), "%s", vault_host);
    size_t vl = strlen(vh), ll = strlen(KV_LOCALHOST);
    if (vl > ll && strcmp(vh + vl - ll, KV_LOCALHOST) == 0)
        vh[vl -= ll] = '\0';
    size_t shl = strlen(sh);
    if (vl <= shl + 1 || strcmp(vh + vl - shl, sh) != 0 ||
        vh[vl - shl - 1] != '.') {
        *why = "the challenge's resource does not match the vault's domain "
               "(a token for it will not be sent there)";
        return -1;
    }
    return 0;
}

int ei_azure_next_link(const char *link, const char *base, char *path,
                       const char **why)
{
    char want[EI_AZURE_BASE_MAX], host[EI_AZURE_BASE_MAX];
    if (strncasecmp(link, "https://", 8) != 0 ||
        kv_url_host(link, host, sizeof(host)) < 0) {
        *why = "nextLink is not an https URL";
        return -1;
    }
    const char *p = link + 8 + strlen(host);
    long port = 443;
    if (*p == ':') {
        char *end = NULL;
        port = strtol(p + 1, &end, 10);
        if (end == p + 1 || port < 1 || port > 65535) {
            *why = "nextLink has a bad port";
            return -1;
        }
        p = end;
    }
    if (port != 443)
        snprintf(want, sizeof(want), "https://%s:%ld", host, port);
    else
        snprintf(want, sizeof(want), "https://%s", host);
    if (strcmp(want, base) != 0) {
        *why = "nextLink leaves the vault (another host or port)";
        return -1;
    }
    size_t n = strlen(p);
    if (p[0] != '/' || n >= EI_AZURE_LINK_MAX) {
        *why = "nextLink has no path, or too long a one";
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c <= 0x20 || c >= 0x7f || c == '#' || c == '\\') {
            *why = "nextLink has a character not allowed in a URL";
            return -1;
        }
    }
    memcpy(path, p, n + 1);
    /* verbatim, as the SDKs follow it (an older api-version inside stays);
       only a link without one gets ours, as the SDKs' pipeline adds it */
    const char *q = strchr(path, '?');
    bool has_api = false;
    /* the parameter's name as URLSearchParams decodes it, in its case */
    for (const char *a = q; a != NULL; a = strchr(a + 1, '&'))
        if (strncmp(a + 1, "api-version=", 12) == 0 ||
            strncmp(a + 1, "api%2Dversion=", 14) == 0 ||
            strncmp(a + 1, "api%2dversion=", 14) == 0)
            has_api = true;
    if (!has_api) {
        if (n + 1 + strlen(KV_API) >= EI_AZURE_LINK_MAX) {
            *why = "nextLink is too long";
            return -1;
        }
        snprintf(path + n, EI_AZURE_LINK_MAX - n, "%c%s", q != NULL ? '&' : '?',
                 KV_API);
    }
    return 0;
}

/* A Key Vault answer as JSON; the parse error never quotes the body. */
static json_t *kv_load(const char *body, size_t len, const char *what,
                       const char *reply, struct ei_error *err)
{
    json_error_t je;
    json_t *root =
        json_loadb(body != NULL ? body : "", body != NULL ? len : 0, 0, &je);
    if (root == NULL) {
        int pos = je.position;
        sodium_memzero(&je, sizeof(je));
        ei_parse_error(err, EI_BADDATA, what,
                       "%s: malformed JSON at byte %d of %zu", reply, pos, len);
    }
    return root;
}

enum ei_status ei_azure_parse_list(const char *body, size_t len,
                                   const char *what, ei_azure_name_fn name_fn,
                                   void *ctx, size_t *disabled, char **next,
                                   struct ei_error *err)
{
    static const char reply[] = "secret list";
    *next = NULL;
    json_t *root = kv_load(body, len, what, reply, err);
    if (root == NULL)
        return ei_error_status(err, EI_BADDATA);
    enum ei_status st = EI_OK;
    const json_t *items = json_object_get(root, "value");
    const json_t *link = json_object_get(root, "nextLink");
    if (!json_is_object(root) ||
        (items != NULL && !json_is_null(items) && !json_is_array(items))) {
        st = ei_parse_error(err, EI_BADDATA, what, "%s: no value array", reply);
        goto out;
    }
    if (link != NULL && !json_is_null(link) && !json_is_string(link)) {
        st = ei_parse_error(err, EI_BADDATA, what,
                            "%s: nextLink is not a string", reply);
        goto out;
    }
    size_t i;
    const json_t *it;
    json_array_foreach(items, i, it)
    {
        const json_t *id = json_object_get(it, "id");
        const json_t *attrs = json_object_get(it, "attributes");
        if (!json_is_string(id)) {
            st = ei_parse_error(err, EI_BADDATA, what, "%s: item %zu has no id",
                                reply, i);
            goto out;
        }
        const char *s = json_string_value(id);
        const char *seg = strstr(s, "/secrets/");
        const char *nm = seg != NULL ? seg + strlen("/secrets/") : NULL;
        if (nm == NULL || !ei_azure_name_ok(nm, strlen(nm))) {
            st = ei_parse_error(err, EI_BADDATA, what,
                                "%s: item %zu: id does not end in "
                                "/secrets/NAME",
                                reply, i);
            goto out;
        }
        if (attrs != NULL && !json_is_null(attrs) && !json_is_object(attrs)) {
            st = ei_parse_error(err, EI_BADDATA, what,
                                "%s: item %zu: attributes is not an object",
                                reply, i);
            goto out;
        }
        const json_t *en = json_object_get(attrs, "enabled");
        if (json_is_false(en)) {
            (*disabled)++;
            continue;
        }
        if (name_fn(ctx, nm, err) < 0) {
            st = ei_error_status(err, EI_INTERNAL);
            goto out;
        }
    }
    if (json_is_string(link) && json_string_length(link) > 0) {
        *next = strdup(json_string_value(link));
        if (*next == NULL)
            st = ei_parse_error(err, EI_NOMEM, what, "out of memory");
    }
out:
    json_decref(root);
    return st;
}

enum ei_status ei_azure_parse_secret(const char *body, size_t len,
                                     const char *what,
                                     ei_azure_value_fn value_fn, void *ctx,
                                     struct ei_error *err)
{
    static const char reply[] = "secret";
    json_t *root = kv_load(body, len, what, reply, err);
    if (root == NULL)
        return ei_error_status(err, EI_BADDATA);
    enum ei_status st = EI_OK;
    const json_t *v = json_object_get(root, "value");
    const json_t *id = json_object_get(root, "id");
    const json_t *attrs = json_object_get(root, "attributes");
    if (!json_is_object(root) || !json_is_string(v)) {
        st =
            ei_parse_error(err, EI_BADDATA, what, "%s: no value string", reply);
        goto out;
    }
    if (json_is_false(json_object_get(attrs, "enabled"))) {
        st = ei_parse_error(err, EI_DENIED, what, "the secret is disabled");
        goto out;
    }
    char version[EI_AZURE_VERSION_MAX] = "";
    if (json_is_string(id)) {
        /* https://VAULT/secrets/NAME/VERSION */
        const char *s = strstr(json_string_value(id), "/secrets/");
        const char *slash = s != NULL ? strchr(s + 9, '/') : NULL;
        if (slash != NULL) {
            size_t vl = strlen(slash + 1);
            if (vl >= sizeof(version) || !ei_azure_name_ok(slash + 1, vl)) {
                st = ei_parse_error(err, EI_BADDATA, what,
                                    "%s: id has a malformed version", reply);
                goto out;
            }
            memcpy(version, slash + 1, vl + 1);
        }
    }
    if (value_fn(ctx, json_string_value(v), json_string_length(v), version,
                 err) < 0)
        st = ei_error_status(err, EI_INTERNAL);
out:
    json_decref(root);
    return st;
}

static void kv_word(const json_t *j, char *out)
{
    out[0] = '\0';
    if (json_is_string(j))
        ei_azure_code_word(json_string_value(j), json_string_length(j), out,
                           EI_AZURE_CODE_MAX);
}

void ei_azure_parse_kv_error(const char *body, size_t len, char *code,
                             char *inner, bool *disabled)
{
    code[0] = '\0';
    inner[0] = '\0';
    *disabled = false;
    if (body == NULL || len == 0)
        return;
    json_t *root = json_loadb(body, len, 0, NULL);
    if (root == NULL)
        return;
    const json_t *e = json_object_get(root, "error");
    kv_word(json_object_get(e, "code"), code);
    kv_word(json_object_get(json_object_get(e, "innererror"), "code"), inner);
    const json_t *msg = json_object_get(e, "message");
    *disabled = strcmp(inner, "SecretDisabled") == 0 ||
                (json_is_string(msg) &&
                 strstr(json_string_value(msg), "disabled") != NULL);
    json_decref(root);
}

/* ---- configure ---- */

static void kv_drop_token(struct kv_state *st)
{
    if (st->auth != NULL)
        st->host->secret_free(st->host, st->auth, st->auth_size);
    st->auth = NULL;
    st->auth_size = 0;
    st->expires_on = 0;
}

static void kv_state_free(struct kv_state *st)
{
    if (st == NULL)
        return;
    for (size_t i = 0; i < st->vaults_n; i++)
        kv_state_free(st->vaults[i]);
    kv_drop_token(st);
    if (st->http != NULL)
        st->host->http_close(st->http);
    ei_azure_identity_free(st->id);
    free(st);
}

/* The identity and the vault's client of a state whose vault is set. */
static enum ei_status kv_open(struct kv_state *st, struct ei_error *err)
{
    const struct ei_host *h = st->host;
    enum ei_status s = ei_azure_identity_new_ca(h, st->cacert, &st->id, err);
    if (s != EI_OK) {
        st->id = NULL;
        return s;
    }
    const char *eps[] = {st->base, NULL};
    s = st->cacert != NULL && EI_HOST_HAS(h, http_open_ca)
            ? h->http_open_ca(h, eps, 1, st->cacert, &st->http, err)
            : h->http_open(h, eps, 1, &st->http, err);
    if (s != EI_OK)
        st->http = NULL;
    return s;
}

static enum ei_status kv_secrets_opt(struct kv_state *st, struct ei_error *err)
{
    const struct ei_host *h = st->host;
    const char *const *list = NULL;
    size_t n = 0;
    int r = h->opt_list(h, "secrets", &list, &n, err);
    if (r < 0)
        return ei_error_status(err, EI_BADCONFIG);
    if (r == 0)
        return EI_OK;
    if (n == 0)
        return h->error(h, err, EI_BADCONFIG, 0, "secrets",
                        "secrets is empty (leave it out to read every "
                        "enabled secret)");
    for (size_t i = 0; i < n; i++) {
        char shown[EI_AZURE_NAME_MAX + EI_TEXT_EXTRA];
        h->safe_text(h, shown, sizeof(shown), list[i], strlen(list[i]), 0);
        if (!ei_azure_name_ok(list[i], strlen(list[i])))
            return h->error(h, err, EI_BADCONFIG, 0, "secrets",
                            "secrets: %s is not a secret name (1 to 127 "
                            "letters, digits and '-')",
                            shown);
        for (size_t j = 0; j < i; j++)
            if (strcasecmp(list[i], list[j]) == 0)
                return h->error(h, err, EI_BADCONFIG, 0, "secrets",
                                "secrets: %s and %s are the same secret (Key "
                                "Vault names ignore case)",
                                list[j], shown);
    }
    st->secrets = list;
    st->secrets_n = n;
    return EI_OK;
}

static enum ei_status kv_configure(const struct ei_host *host, void **statep,
                                   struct ei_error *err)
{
    *statep = NULL;
    enum ei_status s = EI_HOST_REQUIRE_HTTP(host, err);
    if (s == EI_OK)
        s = EI_HOST_REQUIRE(host, safe_text, err);
    if (s == EI_OK)
        s = EI_HOST_REQUIRE(host, http_header, err);
    if (s != EI_OK)
        return s;
    struct kv_state *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return host->error(host, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    st->host = host;
    const char *vault = NULL;
    if (host->opt_string(host, "vault", &vault, err) < 0)
        s = ei_error_status(err, EI_BADCONFIG);
    if (s == EI_OK && vault == NULL && host->arg != NULL)
        vault = host->arg(host);
    /* a layer made for references takes each vault from a reference,
       and, having no cacert option, trusts SSL_CERT_FILE as vals does */
    bool refs_only =
        EI_HOST_HAS(host, references_only) && host->references_only(host);
    if (refs_only) {
        const char *ca = host->env_get(host, "SSL_CERT_FILE");
        st->cacert = ca != NULL && ca[0] != '\0' ? ca : NULL;
    }
    const char *why = NULL;
    if (s == EI_OK && vault == NULL && !refs_only)
        s = host->error(host, err, EI_BADCONFIG, 0, "vault",
                        "vault is required (https://NAME.vault.azure.net)");
    if (s == EI_OK && vault != NULL &&
        ei_azure_vault_url(vault, st->base, st->vhost, st->vname, &why) < 0)
        s = host->error(host, err, EI_BADCONFIG, 0, "vault", "%s", why);
    if (s == EI_OK)
        s = kv_secrets_opt(st, err);
    if (s == EI_OK && vault != NULL)
        s = kv_open(st, err);
    if (s != EI_OK) {
        kv_state_free(st);
        return s;
    }
    *statep = st;
    return EI_OK;
}

/* ---- requests ---- */

/* Learn the tenant and scope from a 401's challenge, then get a token. */
static enum ei_status kv_authorize(struct kv_state *st,
                                   const struct ei_deadline *dl,
                                   struct ei_error *err)
{
    const struct ei_host *h = st->host;
    char hdr[KV_CHALLENGE];
    int r = h->http_header(st->http, "WWW-Authenticate", hdr, sizeof(hdr));
    const char *why = NULL;
    if (r < 0)
        return h->error(h, err, EI_DENIED, 0, st->vhost,
                        "Key Vault answered HTTP 401 without a %s "
                        "challenge",
                        r == -2 ? "usable" : "WWW-Authenticate");
    if (ei_azure_parse_challenge(hdr, st->vhost, st->tenant, st->scope, &why) <
        0)
        return h->error(h, err, EI_DENIED, 0, st->vhost, "%s", why);
    st->challenged = true;
    kv_drop_token(st);
    h->log(h, EI_LOG_DEBUG, "challenge: tenant %s, scope %s",
           st->tenant[0] != '\0' ? st->tenant : "(none)", st->scope);
    return ei_azure_identity_token(
        st->id, st->tenant[0] != '\0' ? st->tenant : NULL, st->scope, dl,
        &st->auth, &st->auth_size, &st->expires_on, err);
}

/*
 * A GET on the vault.  The first request goes without a token, as the
 * SDKs send it: the 401 names the tenant and audience (challenge-based
 * authentication).  A 401 with a token gets a new token once.
 */
static enum ei_status kv_get(struct kv_state *st, const char *path,
                             const struct ei_deadline *dl,
                             struct ei_http_response *resp,
                             struct ei_error *err)
{
    const struct ei_host *h = st->host;
    if (st->auth != NULL && st->expires_on > 0 &&
        st->expires_on - KV_REFRESH_S <= (int64_t)time(NULL)) {
        enum ei_status s = ei_azure_identity_token(
            st->id, st->tenant[0] != '\0' ? st->tenant : NULL, st->scope, dl,
            &st->auth, &st->auth_size, &st->expires_on, err);
        if (s != EI_OK)
            return s;
    }
    for (int tries = 0;; tries++) {
        const char *headers[] = {KV_ACCEPT, st->auth, NULL};
        struct ei_http_request req = {
            .method = "GET",
            .path = path,
            .headers = headers,
            .flags = EI_HTTP_SECRET,
        };
        memset(resp, 0, sizeof(*resp));
        enum ei_status s = h->http_request(st->http, &req, dl, resp, err);
        /* the second 401 is the caller's to report */
        if (s != EI_OK || resp->status != HTTP_UNAUTHORIZED || tries > 0)
            return s;
        if (st->auth != NULL)
            h->log(h, EI_LOG_INFO, "HTTP 401 with a token: getting a new one");
        s = kv_authorize(st, dl, err);
        h->http_response_free(st->http, resp);
        if (s != EI_OK)
            return s;
    }
}

/* The message of a refused request: status, code and inner code. */
static enum ei_status kv_fail(struct kv_state *st,
                              const struct ei_http_response *resp,
                              const char *loc, const char *doing,
                              struct ei_error *err)
{
    const struct ei_host *h = st->host;
    char code[EI_AZURE_CODE_MAX], inner[EI_AZURE_CODE_MAX];
    bool disabled = false;
    ei_azure_parse_kv_error(resp->body, resp->body_len, code, inner, &disabled);
    char what[2 * EI_AZURE_CODE_MAX + 4] = "";
    if (code[0] != '\0')
        snprintf(what, sizeof(what), " %s%s%s", code,
                 inner[0] != '\0' ? "/" : "", inner);
    switch (resp->status) {
    case HTTP_UNAUTHORIZED:
        return h->error(h, err, EI_DENIED, 0, loc,
                        "%s: Key Vault refused the token from %s (HTTP "
                        "401%s)",
                        doing, ei_azure_identity_describe(st->id), what);
    case HTTP_FORBIDDEN:
        if (disabled)
            return h->error(h, err, EI_DENIED, 0, loc,
                            "%s: the secret is disabled (HTTP 403%s)", doing,
                            what);
        return h->error(h, err, EI_DENIED, 0, loc,
                        "%s: permission denied (HTTP 403%s)", doing, what);
    case HTTP_NOT_FOUND:
        return h->error(h, err, EI_NOTFOUND, 0, loc,
                        "%s: not found (HTTP 404%s)", doing, what);
    default:
        return h->error(
            h, err, resp->status >= 500 ? EI_UNAVAILABLE : EI_BADDATA, 0, loc,
            "%s: unexpected answer (HTTP %ld%s)", doing, resp->status, what);
    }
}

/* The names of a list walk, in the order the pages gave them. */
struct kv_names {
    const struct ei_host *h;
    char **v;
    size_t n, cap;
};

static int kv_name_add(void *ctx, const char *name, struct ei_error *err)
{
    struct kv_names *ns = ctx;
    if (ns->n == ns->cap) {
        size_t cap = ns->cap > 0 ? 2 * ns->cap : 32;
        char **nv = realloc(ns->v, cap * sizeof(*nv));
        if (nv == NULL)
            return ns->h->error(ns->h, err, EI_NOMEM, ENOMEM, NULL,
                                "out of memory"),
                   -1;
        ns->v = nv;
        ns->cap = cap;
    }
    ns->v[ns->n] = strdup(name);
    if (ns->v[ns->n] == NULL)
        return ns->h->error(ns->h, err, EI_NOMEM, ENOMEM, NULL,
                            "out of memory"),
               -1;
    ns->n++;
    return 0;
}

static void kv_names_free(struct kv_names *ns)
{
    for (size_t i = 0; i < ns->n; i++)
        free(ns->v[i]);
    free(ns->v);
}

struct kv_emit {
    struct kv_state *st;
    struct ei_sink *sink;
    const char *name;
};

static int kv_emit_value(void *ctx, const char *value, size_t len,
                         const char *version, struct ei_error *err)
{
    struct kv_emit *e = ctx;
    char loc[KV_LOC_MAX];
    snprintf(loc, sizeof(loc), "%s/secrets/%s%s%s", e->st->vhost, e->name,
             version[0] != '\0' ? "/" : "", version);
    const char *name[] = {e->name};
    if (e->st->revs != NULL) {
        char rev[KV_LOC_MAX];
        snprintf(rev, sizeof(rev), "%s=%s", e->name, version);
        if (version[0] == '\0')
            e->st->revs = NULL; /* one without a version: none for all */
        else if (kv_name_add(e->st->revs, rev, err) < 0)
            return -1;
    }
    return e->sink->emit(e->sink, name, 1, value, len, loc, 0, err);
}

/* One secret, its current version unless version names one. */
static enum ei_status kv_secret(struct kv_state *st, struct ei_sink *sink,
                                const char *name, const char *version,
                                const struct ei_deadline *dl,
                                struct ei_error *err)
{
    const struct ei_host *h = st->host;
    const char *sep = version != NULL ? "/" : "";
    version = version != NULL ? version : "";
    char path[KV_PATH_MAX + KV_VERSION_MAX], loc[KV_LOC_MAX + KV_VERSION_MAX];
    snprintf(path, sizeof(path), "/secrets/%s%s%s?" KV_API, name, sep,
             version);
    snprintf(loc, sizeof(loc), "%s/secrets/%s%s%s", st->vhost, name, sep,
             version);
    struct ei_http_response resp;
    enum ei_status s = kv_get(st, path, dl, &resp, err);
    if (s != EI_OK)
        return s;
    if (resp.status == HTTP_OK) {
        struct kv_emit e = {st, sink, name};
        s = ei_azure_parse_secret(resp.body, resp.body_len, loc, kv_emit_value,
                                  &e, err);
    } else {
        s = kv_fail(st, &resp, loc, "reading the secret", err);
    }
    h->http_response_free(st->http, &resp);
    return s;
}

/* Every enabled secret's name, page by page along nextLink. */
static enum ei_status kv_list(struct kv_state *st, struct kv_names *ns,
                              const struct ei_deadline *dl,
                              struct ei_error *err)
{
    const struct ei_host *h = st->host;
    char *path = malloc(EI_AZURE_LINK_MAX);
    if (path == NULL)
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    snprintf(path, EI_AZURE_LINK_MAX, "/secrets?" KV_API);
    enum ei_status s = EI_OK;
    size_t disabled = 0, pages = 0;
    for (;;) {
        if (++pages > KV_PAGES_MAX) {
            s = h->error(h, err, EI_BADDATA, 0, st->vhost,
                         "secret list: more than %d pages", KV_PAGES_MAX);
            break;
        }
        struct ei_http_response resp;
        s = kv_get(st, path, dl, &resp, err);
        if (s != EI_OK)
            break;
        char *next = NULL;
        if (resp.status == HTTP_OK)
            s = ei_azure_parse_list(resp.body, resp.body_len, st->vhost,
                                    kv_name_add, ns, &disabled, &next, err);
        else
            s = kv_fail(st, &resp, st->vhost, "listing the secrets", err);
        h->http_response_free(st->http, &resp);
        if (s != EI_OK || next == NULL) {
            free(next);
            break;
        }
        const char *why = NULL;
        if (ei_azure_next_link(next, st->base, path, &why) < 0)
            s = h->error(h, err, EI_BADDATA, 0, st->vhost, "secret list: %s",
                         why);
        free(next);
        if (s != EI_OK)
            break;
    }
    free(path);
    if (s == EI_OK)
        h->log(h, EI_LOG_DEBUG,
               "%s: %zu enabled secrets, %zu disabled, %zu pages", st->vhost,
               ns->n, disabled, pages);
    return s;
}

static int kv_str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The revision: the version of the one secret, or the SHA-256 of the
   sorted "name=version" lines of several. */
static void kv_revision(const struct ei_host *h, struct kv_names *revs)
{
    if (revs->n == 1) {
        ei_revision_report(h, strchr(revs->v[0], '=') + 1);
        return;
    }
    if (revs->n == 0)
        return;
    qsort(revs->v, revs->n, sizeof(*revs->v), kv_str_cmp);
    crypto_hash_sha256_state rev;
    crypto_hash_sha256_init(&rev);
    for (size_t i = 0; i < revs->n; i++) {
        crypto_hash_sha256_update(&rev, (const unsigned char *)revs->v[i],
                                  strlen(revs->v[i]));
        crypto_hash_sha256_update(&rev, (const unsigned char *)"\n", 1);
    }
    ei_revision_report_sha256(h, &rev);
}

static enum ei_status kv_fetch(void *state, struct ei_sink *sink,
                               const struct ei_deadline *dl,
                               struct ei_error *err)
{
    struct kv_state *st = state;
    struct kv_names revs = {.h = st->host};
    st->revs = &revs;
    enum ei_status s = EI_OK;
    if (st->secrets != NULL) {
        for (size_t i = 0; s == EI_OK && i < st->secrets_n; i++)
            s = kv_secret(st, sink, st->secrets[i], NULL, dl, err);
    } else {
        struct kv_names ns = {.h = st->host};
        s = kv_list(st, &ns, dl, err);
        for (size_t i = 0; s == EI_OK && i < ns.n; i++)
            s = kv_secret(st, sink, ns.v[i], NULL, dl, err);
        kv_names_free(&ns);
    }
    if (s == EI_OK && st->revs != NULL)
        kv_revision(st->host, &revs);
    st->revs = NULL;
    kv_names_free(&revs);
    return s;
}

/* ---- references: ref+azurekeyvault://VAULT/SECRET[/VERSION] ---- */

/*
 * The state that reads the vault at base: the layer's own, the first
 * one a layer made for references is given, or one opened for it with
 * the layer's options (credentials, network) and kept for the run.
 */
static enum ei_status kv_vault(struct kv_state *st, const char *base,
                               const char *vhost, const char *vname,
                               struct kv_state **out, struct ei_error *err)
{
    const struct ei_host *h = st->host;
    *out = NULL;
    if (strcmp(st->base, base) == 0) {
        *out = st;
        return EI_OK;
    }
    for (size_t i = 0; i < st->vaults_n; i++)
        if (strcmp(st->vaults[i]->base, base) == 0) {
            *out = st->vaults[i];
            return EI_OK;
        }
    struct kv_state *v = st;
    if (st->base[0] != '\0') {
        if (st->vaults_n == KV_REF_VAULTS_MAX)
            return h->error(h, err, EI_BADCONFIG, 0, vhost,
                            "references name more than %d vaults",
                            KV_REF_VAULTS_MAX + 1);
        v = calloc(1, sizeof(*v));
        if (v == NULL)
            return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
        v->host = h;
        v->cacert = st->cacert;
    }
    snprintf(v->base, sizeof(v->base), "%s", base);
    snprintf(v->vhost, sizeof(v->vhost), "%s", vhost);
    snprintf(v->vname, sizeof(v->vname), "%s", vname);
    enum ei_status s = kv_open(v, err);
    if (s != EI_OK) {
        /* the layer's own state is left as configure left it */
        if (v != st) {
            kv_state_free(v);
        } else {
            ei_azure_identity_free(st->id);
            st->id = NULL;
            if (st->http != NULL)
                h->http_close(st->http);
            st->http = NULL;
            st->base[0] = '\0';
        }
        return s;
    }
    if (v != st)
        st->vaults[st->vaults_n++] = v;
    *out = v;
    return EI_OK;
}

/*
 * One secret, as vals names it: "ref+azurekeyvault://myvault/db-password"
 * is the current version of db-password in https://myvault.vault.azure.net;
 * a VAULT with a '.' is the vault's whole host name (another cloud's DNS
 * suffix, a port); a third segment names a version.  The value as it
 * is (the core picks a #fragment).
 */
static enum ei_status kv_lookup(void *state, const char *ref,
                                struct ei_sink *sink,
                                const struct ei_deadline *dl,
                                struct ei_error *err)
{
    static const char head[] = "ref+azure-keyvault://";
    struct kv_state *st = state;
    const struct ei_host *h = st->host;
    if (strncmp(ref, head, sizeof(head) - 1) != 0)
        return h->error(h, err, EI_BADDATA, 0, "reference",
                        "not a ref+azurekeyvault:// reference");
    const char *p = ref + sizeof(head) - 1;
    if (strchr(p, '?') != NULL)
        return h->error(h, err, EI_BADDATA, 0, "reference",
                        "azurekeyvault references take no query parameters");
    size_t vl = strcspn(p, "/");
    const char *name = p[vl] == '/' ? p + vl + 1 : "";
    size_t nl = strcspn(name, "/");
    const char *version = name[nl] == '/' ? name + nl + 1 : NULL;
    size_t verl = version != NULL ? strlen(version) : 0;
    bool ok = vl > 0 && vl < EI_AZURE_BASE_MAX - 32 &&
              ei_azure_name_ok(name, nl) &&
              (version == NULL || (verl > 0 && verl <= KV_VERSION_MAX));
    for (size_t i = 0; ok && i < verl; i++)
        ok = isalnum((unsigned char)version[i]);
    if (!ok)
        return h->error(h, err, EI_BADDATA, 0, "reference",
                        "an azurekeyvault reference is VAULT/SECRET[/VERSION]: "
                        "a secret name of 1 to %d letters, digits and '-', a "
                        "version of letters and digits",
                        EI_AZURE_NAME_MAX);
    char url[EI_AZURE_BASE_MAX];
    snprintf(url, sizeof(url), "https://%.*s%s", (int)vl, p,
             memchr(p, '.', vl) != NULL ? "" : ".vault.azure.net");
    char base[EI_AZURE_BASE_MAX], vhost[EI_AZURE_BASE_MAX],
        vname[EI_AZURE_BASE_MAX];
    const char *why = NULL;
    if (ei_azure_vault_url(url, base, vhost, vname, &why) < 0)
        return h->error(h, err, EI_BADDATA, 0, "reference",
                        "the vault of the reference: %s", why);
    char sname[EI_AZURE_NAME_MAX + 1], sversion[KV_VERSION_MAX + 1];
    memcpy(sname, name, nl);
    sname[nl] = '\0';
    if (version != NULL)
        memcpy(sversion, version, verl + 1);
    struct kv_state *v = NULL;
    enum ei_status s = kv_vault(st, base, vhost, vname, &v, err);
    if (s != EI_OK)
        return s;
    return kv_secret(v, sink, sname, version != NULL ? sversion : NULL, dl,
                     err);
}

static void kv_destroy(void *state)
{
    kv_state_free(state);
}

EI_PROVIDER_DEFINE(azure_keyvault) = {
    .abi = EI_PROVIDER_ABI,
    .size = sizeof(struct ei_provider),
    .name = "azure-keyvault",
    .summary = "Azure Key Vault secrets, with Entra ID tokens (client "
               "secret, workload or managed identity)",
    .arg_option = "vault",
    .flags = EI_PROV_REMOTE | EI_PROV_SECRET,
    .configure = kv_configure,
    .fetch = kv_fetch,
    .lookup = kv_lookup,
    .destroy = kv_destroy,
};
