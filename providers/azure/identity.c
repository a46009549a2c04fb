/* SPDX-License-Identifier: MIT */
/* Entra ID access tokens: the credential chain of azure-identity's
   DefaultAzureCredential (client secret, workload identity, managed
   identity through App Service or IMDS) and the token answers' parser. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <envinject/provider.h>
#include <jansson.h>
#include <sodium.h>

#include "../common/parse_error.h"
#include "identity.h"

#define AZ_AUTHORITY_DEFAULT "https://login.microsoftonline.com"
#define AZ_IMDS_DEFAULT      "http://169.254.169.254"
#define AZ_IMDS_PATH         "/metadata/identity/oauth2/token"
#define AZ_IMDS_API          "2018-02-01"
#define AZ_APPSVC_API        "2019-08-01"
#define AZ_TOKEN_PATH        "/oauth2/v2.0/token"
#define AZ_BEARER            "Authorization: Bearer "
#define AZ_FORM_TYPE         "Content-Type: application/x-www-form-urlencoded"
#define AZ_ASSERTION_TYPE                                                      \
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
/* Go's azidentity gives managed identity's first request 1 s, so that a
   machine without IMDS fails fast instead of waiting out the timeout */
#define AZ_IMDS_PROBE_MS 1000
#define AZ_URL_MAX       2048
/* bytes of a server's error code kept for messages */
#define AZ_CODE_MAX 64

#define HTTP_OK 200

struct ei_azure_identity {
    const struct ei_host *host;
    enum ei_azure_source source;
    const char *describe;
    const char *tenant;      /* configured tenant, or NULL */
    const char *client_id;   /* NULL for a system-assigned managed identity */
    const char *secret_file; /* client_secret_file, or NULL */
    const char *secret_env;  /* AZURE_CLIENT_SECRET, or NULL */
    const char *token_file;  /* AZURE_FEDERATED_TOKEN_FILE */
    const char *mi_header;   /* IDENTITY_HEADER */
    char *mi_path;           /* path of IDENTITY_ENDPOINT or IMDS */
    struct ei_http *http;    /* the token endpoint or the managed identity */
    const char *cacert;      /* the CA bundle without a cacert option */
    bool probed;             /* IMDS answered once */
};

/* ---- parsers ---- */

static bool az_header_safe(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f)
            return false;
    }
    return n > 0;
}

/* Seconds in a JSON number or a string of digits; -1 when neither. */
static long long az_seconds(const json_t *v)
{
    if (json_is_integer(v))
        return json_integer_value(v) >= 0 ? json_integer_value(v) : -1;
    if (json_is_real(v))
        return json_real_value(v) >= 0 && json_real_value(v) < 1e15
                   ? (long long)json_real_value(v)
                   : -1;
    if (!json_is_string(v))
        return -1;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n == 0 || n > 15)
        return -1;
    long long r = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        r = r * 10 + (s[i] - '0');
    }
    return r;
}

enum ei_status ei_azure_parse_token(const char *body, size_t len, int64_t now,
                                    const char *what, char *tok, size_t cap,
                                    size_t *tok_len, int64_t *expires_on,
                                    struct ei_error *err)
{
    *tok_len = 0;
    *expires_on = 0;
    json_error_t je;
    json_t *root =
        json_loadb(body != NULL ? body : "", body != NULL ? len : 0, 0, &je);
    /* jansson's text may quote the input, which holds the token */
    sodium_memzero(&je, sizeof(je));
    if (root == NULL)
        return ei_parse_error(err, EI_BADDATA, what,
                              "token answer: malformed JSON (%zu bytes)", len);
    enum ei_status st = EI_OK;
    const json_t *at = json_object_get(root, "access_token");
    if (!json_is_object(root) || !json_is_string(at)) {
        st = ei_parse_error(err, EI_BADDATA, what,
                            "token answer: no access_token string");
        goto out;
    }
    size_t n = json_string_length(at);
    if (n >= cap || !az_header_safe(json_string_value(at), n)) {
        st = ei_parse_error(err, EI_BADDATA, what,
                            "token answer: access_token is not a token "
                            "(%zu bytes)",
                            n);
        goto out;
    }
    const json_t *type = json_object_get(root, "token_type");
    if (type != NULL && !(json_is_string(type) &&
                          strcasecmp(json_string_value(type), "Bearer") == 0)) {
        st = ei_parse_error(err, EI_BADDATA, what,
                            "token answer: token_type is not Bearer");
        goto out;
    }
    const json_t *on = json_object_get(root, "expires_on");
    const json_t *in = json_object_get(root, "expires_in");
    long long exp = on != NULL ? az_seconds(on) : -1;
    long long lifetime = in != NULL ? az_seconds(in) : -1;
    if (in != NULL && lifetime < 0) {
        st = ei_parse_error(err, EI_BADDATA, what,
                            "token answer: expires_in is not a number of "
                            "seconds");
        goto out;
    }
    /* expires_on may also be a date text (Service Fabric, the 2017 App
       Service API): the token is valid now, and that is all a run needs */
    if (exp < 0 && lifetime >= 0)
        exp = now + lifetime;
    if (exp >= 0 && exp <= now) {
        st = ei_parse_error(err, EI_BADDATA, what,
                            "token answer: the token has expired already");
        goto out;
    }
    memcpy(tok, json_string_value(at), n);
    tok[n] = '\0';
    *tok_len = n;
    *expires_on = exp > 0 ? exp : 0;
out:
    json_decref(root);
    return st;
}

void ei_azure_code_word(const char *s, size_t n, char *out, size_t out_len)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < out_len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && c != '_' && c != '-')
            break;
        out[k++] = (char)c;
    }
    out[k] = '\0';
}

void ei_azure_parse_token_error(const char *body, size_t len, char *code,
                                size_t code_len, char *aadsts,
                                size_t aadsts_len)
{
    code[0] = '\0';
    aadsts[0] = '\0';
    if (body == NULL || len == 0)
        return;
    json_t *root = json_loadb(body, len, 0, NULL);
    if (root == NULL)
        return;
    const json_t *e = json_object_get(root, "error");
    if (json_is_object(e))
        e = json_object_get(e, "code");
    if (json_is_string(e))
        ei_azure_code_word(json_string_value(e), json_string_length(e), code,
                           code_len);
    const json_t *d = json_object_get(root, "error_description");
    if (json_is_string(d)) {
        const char *p = strstr(json_string_value(d), "AADSTS");
        if (p != NULL)
            ei_azure_code_word(p, strlen(p), aadsts, aadsts_len);
    }
    json_decref(root);
}

/* ---- configure ---- */

static const char *az_env(const struct ei_host *h, const char *name)
{
    const char *v = h->env_get(h, name);
    return v != NULL && v[0] != '\0' ? v : NULL;
}

/* Split an absolute http(s) URL into its base (scheme and authority) and
   the rest; -1 when it is none. */
static int az_url_split(const char *url, char *base, size_t base_len,
                        const char **rest)
{
    size_t skip = 0;
    if (strncasecmp(url, "https://", 8) == 0)
        skip = 8;
    else if (strncasecmp(url, "http://", 7) == 0)
        skip = 7;
    else
        return -1;
    size_t n = skip + strcspn(url + skip, "/?#");
    if (n == skip || n >= base_len || strchr(url, '#') != NULL)
        return -1;
    /* a user name in the authority would be sent to every request */
    if (memchr(url + skip, '@', n - skip) != NULL)
        return -1;
    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f)
            return -1;
    memcpy(base, url, n);
    base[n] = '\0';
    *rest = url + n;
    return 0;
}

static bool az_tenant_ok(const char *t)
{
    /* azure-identity's validate_tenant_id */
    size_t n = strlen(t);
    if (n == 0 || n >= EI_AZURE_TENANT_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)t[i]) && t[i] != '-' && t[i] != '.')
            return false;
    return true;
}

static enum ei_status az_open(struct ei_azure_identity *id, const char *base,
                              struct ei_error *err)
{
    const struct ei_host *h = id->host;
    const char *eps[] = {base, NULL};
    enum ei_status s =
        id->cacert != NULL && EI_HOST_HAS(h, http_open_ca)
            ? h->http_open_ca(h, eps, 1, id->cacert, &id->http, err)
            : h->http_open(h, eps, 1, &id->http, err);
    if (s != EI_OK)
        id->http = NULL;
    return s;
}

/* The token endpoint's client: AZURE_AUTHORITY_HOST, https only. */
static enum ei_status az_open_authority(struct ei_azure_identity *id,
                                        struct ei_error *err)
{
    const struct ei_host *h = id->host;
    const char *auth = az_env(h, "AZURE_AUTHORITY_HOST");
    if (auth == NULL)
        return az_open(id, AZ_AUTHORITY_DEFAULT, err);
    char url[AZ_URL_MAX];
    /* azure-identity's normalize_authority: a bare host means https */
    if (strstr(auth, "://") == NULL)
        snprintf(url, sizeof(url), "https://%s", auth);
    else
        snprintf(url, sizeof(url), "%s", auth);
    char base[AZ_URL_MAX];
    const char *rest = NULL;
    if (strncasecmp(url, "https://", 8) != 0)
        return h->error(h, err, EI_BADCONFIG, 0, "AZURE_AUTHORITY_HOST",
                        "AZURE_AUTHORITY_HOST must be an https URL (the "
                        "client credential is sent to it)");
    if (strlen(url) >= sizeof(url) - 1 ||
        az_url_split(url, base, sizeof(base), &rest) < 0 ||
        (rest[0] != '\0' && strcmp(rest, "/") != 0))
        return h->error(h, err, EI_BADCONFIG, 0, "AZURE_AUTHORITY_HOST",
                        "AZURE_AUTHORITY_HOST must be https://HOST[:PORT] "
                        "with no path, query or user name");
    return az_open(id, base, err);
}

/* The managed identity endpoint: App Service's IDENTITY_ENDPOINT, or
   IMDS. */
static enum ei_status az_open_mi(struct ei_azure_identity *id, const char *url,
                                 const char *what, const char *default_path,
                                 struct ei_error *err)
{
    const struct ei_host *h = id->host;
    char base[AZ_URL_MAX];
    const char *rest = NULL;
    if (strlen(url) >= AZ_URL_MAX ||
        az_url_split(url, base, sizeof(base), &rest) < 0)
        return h->error(h, err, EI_BADCONFIG, 0, what,
                        "%s is not an http(s) URL without a user name", what);
    if (rest[0] == '\0' || rest[0] == '?' ||
        (default_path != NULL && strcmp(rest, "/") == 0))
        rest = default_path != NULL ? default_path : "/";
    else if (default_path != NULL)
        return h->error(h, err, EI_BADCONFIG, 0, what,
                        "%s must be http://HOST[:PORT], without a path", what);
    id->mi_path = strdup(rest);
    if (id->mi_path == NULL)
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    return az_open(id, base, err);
}

/* The tenant and client id: options first, then the environment. */
static enum ei_status az_ids(struct ei_azure_identity *id, struct ei_error *err)
{
    const struct ei_host *h = id->host;
    const char *tenant = NULL, *client_id = NULL;
    if (h->opt_string(h, "tenant", &tenant, err) < 0 ||
        h->opt_string(h, "client_id", &client_id, err) < 0 ||
        h->opt_path(h, "client_secret_file", &id->secret_file, err) < 0)
        return ei_error_status(err, EI_BADCONFIG);
    const char *tenant_from = "tenant", *client_from = "client_id";
    if (tenant == NULL) {
        tenant = az_env(h, "AZURE_TENANT_ID");
        tenant_from = "AZURE_TENANT_ID";
    }
    if (client_id == NULL) {
        client_id = az_env(h, "AZURE_CLIENT_ID");
        client_from = "AZURE_CLIENT_ID";
    }
    if (tenant != NULL && !az_tenant_ok(tenant))
        return h->error(h, err, EI_BADCONFIG, 0, tenant_from,
                        "%s must be a tenant id or domain (letters, digits, "
                        "'-' and '.')",
                        tenant_from);
    if (client_id != NULL && !az_header_safe(client_id, strlen(client_id)))
        return h->error(h, err, EI_BADCONFIG, 0, client_from,
                        "%s must be an application (client) id", client_from);
    id->tenant = tenant;
    id->client_id = client_id;
    return EI_OK;
}

/* The first credential that applies, in DefaultAzureCredential's order. */
static enum ei_status az_choose(struct ei_azure_identity *id, const char *mi_ep,
                                struct ei_error *err)
{
    const struct ei_host *h = id->host;
    bool app = id->tenant != NULL && id->client_id != NULL;
    if (id->secret_file != NULL) {
        if (!app)
            return h->error(h, err, EI_BADCONFIG, 0, "client_secret_file",
                            "client_secret_file needs tenant and client_id "
                            "(or AZURE_TENANT_ID and AZURE_CLIENT_ID)");
        id->source = EI_AZURE_CLIENT_SECRET;
        id->describe = "client secret (client_secret_file)";
        id->secret_env = NULL;
    } else if (app && id->secret_env != NULL) {
        id->source = EI_AZURE_CLIENT_SECRET;
        id->describe = "client secret (AZURE_CLIENT_SECRET)";
    } else if (app && id->token_file != NULL) {
        id->source = EI_AZURE_WORKLOAD;
        id->describe = "workload identity (AZURE_FEDERATED_TOKEN_FILE)";
    } else if (mi_ep != NULL && id->mi_header != NULL) {
        if (az_env(h, "IDENTITY_SERVER_THUMBPRINT") != NULL)
            return h->error(h, err, EI_DENIED, 0, "IDENTITY_ENDPOINT",
                            "no Azure credentials: Service Fabric managed "
                            "identity is not supported (use a client secret "
                            "or workload identity)");
        id->source = EI_AZURE_APP_SERVICE;
        id->describe = "managed identity (IDENTITY_ENDPOINT)";
    } else if (mi_ep != NULL && az_env(h, "IMDS_ENDPOINT") != NULL) {
        return h->error(h, err, EI_DENIED, 0, "IDENTITY_ENDPOINT",
                        "no Azure credentials: Azure Arc managed identity is "
                        "not supported (use a client secret or workload "
                        "identity)");
    } else if (az_env(h, "MSI_ENDPOINT") != NULL) {
        return h->error(h, err, EI_DENIED, 0, "MSI_ENDPOINT",
                        "no Azure credentials: the MSI_ENDPOINT managed "
                        "identity (Cloud Shell, Azure ML) is not supported "
                        "(use a client secret or workload identity)");
    } else {
        id->source = EI_AZURE_IMDS;
        id->describe = "managed identity (IMDS)";
    }
    switch (id->source) {
    case EI_AZURE_CLIENT_SECRET:
    case EI_AZURE_WORKLOAD:
        return az_open_authority(id, err);
    case EI_AZURE_APP_SERVICE:
        return az_open_mi(id, mi_ep, "IDENTITY_ENDPOINT", NULL, err);
    case EI_AZURE_IMDS:
    default: {
        /* azure-identity's way to point IMDS elsewhere (pod identity,
           tests); nothing else changes */
        const char *base = az_env(h, "AZURE_POD_IDENTITY_AUTHORITY_HOST");
        return az_open_mi(id, base != NULL ? base : AZ_IMDS_DEFAULT,
                          "AZURE_POD_IDENTITY_AUTHORITY_HOST", AZ_IMDS_PATH,
                          err);
    }
    }
}

enum ei_status ei_azure_identity_new(const struct ei_host *h,
                                     struct ei_azure_identity **out,
                                     struct ei_error *err)
{
    return ei_azure_identity_new_ca(h, NULL, out, err);
}

enum ei_status ei_azure_identity_new_ca(const struct ei_host *h,
                                        const char *cacert,
                                        struct ei_azure_identity **out,
                                        struct ei_error *err)
{
    *out = NULL;
    struct ei_azure_identity *id = calloc(1, sizeof(*id));
    if (id == NULL)
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    id->host = h;
    id->cacert = cacert;
    id->secret_env = az_env(h, "AZURE_CLIENT_SECRET");
    id->token_file = az_env(h, "AZURE_FEDERATED_TOKEN_FILE");
    id->mi_header = az_env(h, "IDENTITY_HEADER");
    enum ei_status s = az_ids(id, err);
    if (s == EI_OK)
        s = az_choose(id, az_env(h, "IDENTITY_ENDPOINT"), err);
    if (s != EI_OK) {
        ei_azure_identity_free(id);
        return s;
    }
    *out = id;
    return EI_OK;
}

enum ei_azure_source
ei_azure_identity_source(const struct ei_azure_identity *id)
{
    return id->source;
}

const char *ei_azure_identity_describe(const struct ei_azure_identity *id)
{
    return id->describe;
}

void ei_azure_identity_free(struct ei_azure_identity *id)
{
    if (id == NULL)
        return;
    if (id->http != NULL)
        id->host->http_close(id->http);
    free(id->mi_path);
    free(id);
}

/* ---- requests ---- */

/* A growing buffer in secret memory for form bodies and query strings. */
struct az_buf {
    const struct ei_host *h;
    char *p;
    size_t len, cap;
    bool failed;
};

static void az_buf_add(struct az_buf *b, const char *s, size_t n, bool encode)
{
    static const char hex[] = "0123456789ABCDEF";
    if (b->failed)
        return;
    size_t need = b->len + (encode ? 3 * n : n) + 1;
    if (need > b->cap) {
        size_t cap = b->cap > 0 ? b->cap : 256;
        while (cap < need)
            cap *= 2;
        char *np = b->h->secret_alloc(b->h, cap);
        if (np == NULL) {
            b->failed = true;
            return;
        }
        if (b->p != NULL) {
            memcpy(np, b->p, b->len);
            b->h->secret_free(b->h, b->p, b->cap);
        }
        b->p = np;
        b->cap = cap;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        /* form encoding as the SDKs write it: all but the unreserved
           characters of RFC 3986 as %XX */
        if (!encode || isalnum(c) || c == '-' || c == '.' || c == '_' ||
            c == '~') {
            b->p[b->len++] = (char)c;
        } else {
            b->p[b->len++] = '%';
            b->p[b->len++] = hex[c >> 4];
            b->p[b->len++] = hex[c & 15];
        }
    }
    b->p[b->len] = '\0';
}

static void az_buf_field(struct az_buf *b, const char *name, const char *v,
                         size_t n)
{
    if (b->len > 0)
        az_buf_add(b, "&", 1, false);
    az_buf_add(b, name, strlen(name), false);
    az_buf_add(b, "=", 1, false);
    az_buf_add(b, v, n, true);
}

static void az_buf_free(struct az_buf *b)
{
    if (b->p != NULL)
        b->h->secret_free(b->h, b->p, b->cap);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* Trim white space around a credential read from a file. */
static void az_trim(const char **s, size_t *len)
{
    while (*len > 0 && isspace((unsigned char)(*s)[0])) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && isspace((unsigned char)(*s)[*len - 1]))
        (*len)--;
}

static enum ei_status az_read_cred(struct ei_azure_identity *id,
                                   const char *path, const char *what,
                                   bool private, struct ei_buf *buf,
                                   const char **val, size_t *len,
                                   struct ei_error *err)
{
    const struct ei_host *h = id->host;
    struct ei_error rerr = {0};
    unsigned flags = EI_READ_SECRET | (private ? EI_READ_PRIVATE : 0u);
    enum ei_status s = h->read_file(h, path, flags, buf, &rerr);
    if (s != EI_OK) {
        /* a missing credential is a failed login, not a missing source */
        if (s == EI_NOTFOUND)
            s = EI_DENIED;
        return h->error(h, err, s, rerr.errnum, path, "%s: %s", what,
                        rerr.text[0] != '\0' ? rerr.text : "cannot read");
    }
    *val = buf->data;
    *len = buf->len;
    az_trim(val, len);
    if (*len == 0) {
        h->buf_free(h, buf);
        return h->error(h, err, EI_DENIED, 0, path, "%s is empty", what);
    }
    return EI_OK;
}

/* The resource of a scope, for the managed identity endpoints (MSAL trims
   "/.default" the same way). */
static size_t az_resource_len(const char *scope)
{
    size_t n = strlen(scope);
    size_t d = strlen("/.default");
    return n > d && strcmp(scope + n - d, "/.default") == 0 ? n - d : n;
}

/* The form of a client credentials grant: client secret or assertion. */
static enum ei_status az_form(struct ei_azure_identity *id, const char *scope,
                              struct az_buf *form, struct ei_error *err)
{
    const struct ei_host *h = id->host;
    struct ei_buf buf = {0};
    const char *cred = NULL;
    size_t cred_len = 0;
    enum ei_status s = EI_OK;
    if (id->source == EI_AZURE_WORKLOAD) {
        /* read at each request: the kubelet rotates the projected token.
           Not a private file: Kubernetes mounts projected tokens readable
           by all, behind a ..data symbolic link */
        s = az_read_cred(id, id->token_file, "AZURE_FEDERATED_TOKEN_FILE",
                         false, &buf, &cred, &cred_len, err);
    } else if (id->secret_file != NULL) {
        s = az_read_cred(id, id->secret_file, "client_secret_file", true, &buf,
                         &cred, &cred_len, err);
    } else {
        cred = id->secret_env;
        cred_len = strlen(cred);
    }
    if (s != EI_OK)
        return s;
    az_buf_field(form, "client_id", id->client_id, strlen(id->client_id));
    if (id->source == EI_AZURE_WORKLOAD) {
        az_buf_field(form, "client_assertion_type", AZ_ASSERTION_TYPE,
                     strlen(AZ_ASSERTION_TYPE));
        az_buf_field(form, "client_assertion", cred, cred_len);
    } else {
        az_buf_field(form, "client_secret", cred, cred_len);
    }
    az_buf_field(form, "scope", scope, strlen(scope));
    az_buf_field(form, "grant_type", "client_credentials",
                 strlen("client_credentials"));
    if (buf.data != NULL)
        h->buf_free(h, &buf);
    if (form->failed)
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    return EI_OK;
}

/* A managed identity request's path and query. */
static enum ei_status az_mi_path(struct ei_azure_identity *id,
                                 const char *scope, struct az_buf *path,
                                 struct ei_error *err)
{
    const char *api = id->source == EI_AZURE_IMDS ? AZ_IMDS_API : AZ_APPSVC_API;
    az_buf_add(path, id->mi_path, strlen(id->mi_path), false);
    az_buf_add(path, strchr(id->mi_path, '?') != NULL ? "&" : "?", 1, false);
    az_buf_add(path, "api-version=", strlen("api-version="), false);
    az_buf_add(path, api, strlen(api), true);
    az_buf_add(path, "&resource=", strlen("&resource="), false);
    az_buf_add(path, scope, az_resource_len(scope), true);
    if (id->client_id != NULL) {
        az_buf_add(path, "&client_id=", strlen("&client_id="), false);
        az_buf_add(path, id->client_id, strlen(id->client_id), true);
    }
    if (path->failed)
        return id->host->error(id->host, err, EI_NOMEM, ENOMEM, NULL,
                               "out of memory");
    return EI_OK;
}

/* What a refusal of the token endpoint says, without its description
   (which may quote the request). */
static enum ei_status az_refused(struct ei_azure_identity *id,
                                 const struct ei_http_response *resp,
                                 struct ei_error *err)
{
    const struct ei_host *h = id->host;
    char code[AZ_CODE_MAX], aadsts[AZ_CODE_MAX];
    ei_azure_parse_token_error(resp->body, resp->body_len, code, sizeof(code),
                               aadsts, sizeof(aadsts));
    enum ei_status s = EI_DENIED;
    /* IMDS and App Service answer 5xx and 404/410 while they start or
       update; after the engine's retries that is an outage */
    if (resp->status >= 500 || (id->source == EI_AZURE_IMDS &&
                                (resp->status == 404 || resp->status == 410)))
        s = EI_UNAVAILABLE;
    return h->error(h, err, s, 0, NULL,
                    "%s: the token endpoint refused (HTTP %ld%s%s%s%s)",
                    id->describe, resp->status, code[0] != '\0' ? ": " : "",
                    code, aadsts[0] != '\0' ? ", " : "", aadsts);
}

enum ei_status ei_azure_identity_token(struct ei_azure_identity *id,
                                       const char *tenant, const char *scope,
                                       const struct ei_deadline *dl,
                                       char **header, size_t *size,
                                       int64_t *expires_on,
                                       struct ei_error *err)
{
    const struct ei_host *h = id->host;
    *header = NULL;
    *size = 0;
    *expires_on = 0;
    const char *use_tenant = id->tenant;
    bool confidential =
        id->source == EI_AZURE_CLIENT_SECRET || id->source == EI_AZURE_WORKLOAD;
    if (confidential && tenant != NULL && strcasecmp(tenant, id->tenant) != 0) {
        char shown[EI_AZURE_TENANT_MAX + EI_TEXT_EXTRA];
        h->safe_text(h, shown, sizeof(shown), tenant, strlen(tenant), 0);
        return h->error(h, err, EI_DENIED, 0, NULL,
                        "the vault belongs to tenant %s, not to the "
                        "configured tenant %s",
                        shown, id->tenant);
    }
    struct az_buf path = {.h = h}, form = {.h = h};
    enum ei_status s = EI_OK;
    const char *headers[3] = {NULL, NULL, NULL};
    char *mi_hdr = NULL;
    size_t mi_hdr_size = 0;
    struct ei_http_request req = {.method = "GET", .flags = EI_HTTP_SECRET};
    struct ei_deadline probe = *dl;
    if (confidential) {
        az_buf_add(&path, "/", 1, false);
        az_buf_add(&path, use_tenant, strlen(use_tenant), true);
        az_buf_add(&path, AZ_TOKEN_PATH, strlen(AZ_TOKEN_PATH), false);
        if (path.failed)
            s = h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
        if (s == EI_OK)
            s = az_form(id, scope, &form, err);
        headers[0] = AZ_FORM_TYPE;
        req.method = "POST";
        req.body = form.p;
        req.body_len = form.len;
        req.flags |= EI_HTTP_SECRET_BODY;
    } else {
        s = az_mi_path(id, scope, &path, err);
        if (id->source == EI_AZURE_IMDS) {
            /* IMDS refuses requests without it (a defence against SSRF) */
            headers[0] = "Metadata: true";
            if (!id->probed) {
                int64_t left = h->remaining_ms(h, dl);
                if (left > AZ_IMDS_PROBE_MS)
                    probe.end_ms = dl->end_ms - left + AZ_IMDS_PROBE_MS;
            }
        } else if (s == EI_OK) {
            /* read when used: the platform rotates it */
            mi_hdr_size =
                strlen("X-IDENTITY-HEADER: ") + strlen(id->mi_header) + 1;
            mi_hdr = h->secret_alloc(h, mi_hdr_size);
            if (mi_hdr == NULL)
                s = h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
            else
                snprintf(mi_hdr, mi_hdr_size, "X-IDENTITY-HEADER: %s",
                         id->mi_header);
            headers[0] = mi_hdr;
        }
    }
    struct ei_http_response resp = {0};
    bool have_resp = false;
    if (s == EI_OK) {
        req.path = path.p;
        req.headers = headers;
        struct ei_error rerr = {0};
        s = h->http_request(id->http, &req, &probe, &resp, &rerr);
        have_resp = s == EI_OK;
        if (s != EI_OK && id->source == EI_AZURE_IMDS && !id->probed &&
            s == EI_UNAVAILABLE)
            s = h->error(h, err, EI_DENIED, 0, NULL,
                         "no Azure credentials: set AZURE_TENANT_ID, "
                         "AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or give "
                         "client_secret_file), use workload identity, or run "
                         "with a managed identity (IMDS did not answer: %s)",
                         rerr.text);
        else if (s != EI_OK)
            s = h->error(h, err, s, rerr.errnum, rerr.locator, "%s: %s",
                         id->describe, rerr.text);
    }
    if (s == EI_OK && id->source == EI_AZURE_IMDS)
        id->probed = true;
    if (s == EI_OK && resp.status != HTTP_OK)
        s = az_refused(id, &resp, err);
    char *tok = NULL;
    if (s == EI_OK) {
        tok = h->secret_alloc(h, EI_AZURE_TOKEN_MAX);
        if (tok == NULL)
            s = h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    }
    size_t tok_len = 0;
    if (s == EI_OK)
        s = ei_azure_parse_token(resp.body, resp.body_len, (int64_t)time(NULL),
                                 id->describe, tok, EI_AZURE_TOKEN_MAX,
                                 &tok_len, expires_on, err);
    if (s == EI_OK) {
        *size = strlen(AZ_BEARER) + tok_len + 1;
        *header = h->secret_alloc(h, *size);
        if (*header == NULL) {
            *size = 0;
            s = h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
        } else {
            memcpy(*header, AZ_BEARER, strlen(AZ_BEARER));
            memcpy(*header + strlen(AZ_BEARER), tok, tok_len + 1);
            h->log(h, EI_LOG_DEBUG, "token from %s%s", id->describe,
                   *expires_on > 0 ? "" : " (no expiry given)");
        }
    }
    if (tok != NULL)
        h->secret_free(h, tok, EI_AZURE_TOKEN_MAX);
    if (have_resp)
        h->http_response_free(id->http, &resp);
    if (mi_hdr != NULL)
        h->secret_free(h, mi_hdr, mi_hdr_size);
    az_buf_free(&path);
    az_buf_free(&form);
    return s;
}
