/* SPDX-License-Identifier: MIT */
/* The vault provider: the fields of HashiCorp Vault KV v1 and v2 secrets,
   with token, AppRole, Kubernetes and JWT logins, and ref+vault:// lookups. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <envinject/provider.h>
#include <jansson.h>
#include <sodium.h>

#include "common/parse_error.h"
#include "common/revision.h"
#include "common/urlpath.h"
#include "common/jsonflat.h"
#include "vault_parse.h"

#define VAULT_ADDR_DEFAULT "https://127.0.0.1:8200"
#define VAULT_SA_TOKEN     "/var/run/secrets/kubernetes.io/serviceaccount/token"
#define VAULT_TOKEN_HEADER "X-Vault-Token: "
#define VAULT_NS_HEADER    "X-Vault-Namespace: "
#define VAULT_REQ_HEADER   "X-Vault-Request: true"
#define VAULT_REF_PREFIX   "ref+vault://"
#define VAULT_PREFLIGHT    "sys/internal/ui/mounts/"
#define VAULT_REVOKE_PATH  "/v1/auth/token/revoke-self"
#define VAULT_RENEW_PATH   "/v1/auth/token/renew-self"
#define VAULT_HOME_TOKEN   ".vault-token"
#define VAULT_NS_MAX       256
#define VAULT_MOUNT_MAX    EI_VAULT_PATH_MAX
/* the revoke in destroy must not hold up the exec for long */
#define VAULT_REVOKE_MS 1000
/* logins per run after a 403: a token that expired mid-run, not a loop */
#define VAULT_RELOGIN_MAX 3
/* a login is sent with EI_HTTP_NORETRY (it may consume a secret_id use);
   408, 429 and 503 mean it never reached the auth method, so those are
   retried here */
#define VAULT_LOGIN_BASE_MS  50
#define VAULT_LOGIN_CAP_MS   2000
#define VAULT_RETRY_MIN_MS   100
#define VAULT_LOGIN_ATTEMPTS 10
/* bytes of a name shown in messages and locators */
#define VAULT_SHOW_MAX 120
/* "vault " + path + " v" + version + " #" + field */
#define VAULT_LOC_MAX (EI_VAULT_PATH_MAX + VAULT_SHOW_MAX + 48)
/* room for "/v1/", a percent-encoded path and "data/" */
#define VAULT_URL_MAX (3 * EI_VAULT_PATH_MAX + 3 * VAULT_MOUNT_MAX + 32)
/* nesting allowed when traversing a reference's field */
#define VAULT_FIELD_DEPTH 32

#define HTTP_OK           200
#define HTTP_NO_CONTENT   204
#define HTTP_BAD_REQUEST  400
#define HTTP_FORBIDDEN    403
#define HTTP_NOT_FOUND    404
#define HTTP_BAD_METHOD   405
#define HTTP_TIMEOUT      408
#define HTTP_PRECONDITION 412
#define HTTP_TOO_MANY     429
#define HTTP_SERVER_ERROR 500
#define HTTP_UNAVAILABLE  503
#define HTTP_STATUS_END   600

enum vault_method {
    VAULT_AUTH_TOKEN = 0,
    VAULT_AUTH_APPROLE,
    VAULT_AUTH_KUBERNETES,
    VAULT_AUTH_JWT
};

static const char *const vault_method_names[] = {"token", "approle",
                                                 "kubernetes", "jwt"};

/* A mount found by the preflight request, ending in '/'. */
struct vault_mount {
    char *path;
    int kv;
};

/* A secret read during this run: each path is read once. */
struct vault_secret {
    char *path; /* normalised */
    json_t *fields;
    long long version; /* KV v2 metadata.version, 0 for v1 */
    int kv;
};

struct vault_state {
    const struct ei_host *host;
    struct ei_http *http;
    char **paths; /* normalised */
    size_t paths_n;
    const char *field;
    long long kv_forced; /* 0: detect */
    char *mount_opt;     /* normalised, ending in '/', or NULL */
    char *ns_header;     /* "X-Vault-Namespace: ns/" or NULL */
    enum vault_method method;
    char *auth_mount; /* normalised, for auth/<mount>/login */
    const char *token_file;
    const char *role_id_file;
    const char *secret_id_file;
    const char *role;
    const char *jwt_file;
    bool revoke;

    /* what the run found; fetch and lookups never overlap */
    char *token_header; /* secret memory: "X-Vault-Token: ..." */
    size_t token_header_size;
    const char *token_source; /* for messages */
    bool logged_in;           /* the token came from a login: revoke it */
    long long token_ttl_s;    /* its lease at the login or renewal, 0: none */
    int64_t token_since_ms;   /* when that was (CLOCK_MONOTONIC) */
    unsigned relogins;
    bool no_preflight; /* an old Vault without sys/internal/ui/mounts */
    struct vault_mount *mounts;
    size_t mounts_n;
    struct vault_secret *secrets;
    size_t secrets_n;
};

/* ---- parsers (vault_parse.h) ---- */

static bool vault_errors_say(const json_t *errors, const char *phrase)
{
    size_t i;
    const json_t *e;
    json_array_foreach(errors, i, e)
    {
        if (json_is_string(e) && strstr(json_string_value(e), phrase) != NULL)
            return true;
    }
    return false;
}

unsigned ei_vault_parse_error(const char *body, size_t len)
{
    if (body == NULL || len == 0)
        return 0;
    json_t *root = json_loadb(body, len, 0, NULL);
    if (root == NULL)
        return 0;
    unsigned says = 0;
    const json_t *errors = json_object_get(root, "errors");
    if (json_is_array(errors)) {
        if (vault_errors_say(errors, "Vault is sealed"))
            says |= EI_VAULT_SAYS_SEALED;
        if (vault_errors_say(errors, "invalid token"))
            says |= EI_VAULT_SAYS_INVALID_TOKEN;
    }
    const json_t *warnings = json_object_get(root, "warnings");
    if (json_is_array(warnings) &&
        vault_errors_say(warnings, "Invalid path for a versioned K/V"))
        says |= EI_VAULT_SAYS_KV2_PATH;
    const json_t *data = json_object_get(root, "data");
    const json_t *meta = json_object_get(data, "metadata");
    if (json_is_object(meta) && json_is_null(json_object_get(data, "data"))) {
        const json_t *dt = json_object_get(meta, "deletion_time");
        if (json_is_string(dt) && json_string_length(dt) > 0)
            says |= EI_VAULT_SAYS_DELETED;
        if (json_is_true(json_object_get(meta, "destroyed")))
            says |= EI_VAULT_SAYS_DESTROYED;
    }
    json_decref(root);
    return says;
}

enum ei_status ei_vault_parse_mount(const char *body, size_t len,
                                    const char *what, char *mount,
                                    size_t mount_len, int *kv,
                                    struct ei_error *err)
{
    static const char reply[] = "mount lookup";
    json_t *root = ei_json_load_reply(body, len, what, reply, err);
    if (root == NULL)
        return ei_error_status(err, EI_BADDATA);
    enum ei_status st = EI_OK;
    const json_t *data = json_object_get(root, "data");
    const json_t *path = json_object_get(data, "path");
    const json_t *opts = json_object_get(data, "options");
    const json_t *ver = json_object_get(opts, "version");
    if (!json_is_object(root) || !json_is_object(data)) {
        st = ei_parse_error(err, EI_BADDATA, what, "%s: no data object", reply);
        goto out;
    }
    if (!json_is_string(path) || json_string_length(path) == 0 ||
        json_string_length(path) >= mount_len ||
        json_string_value(path)[json_string_length(path) - 1] != '/') {
        st = ei_parse_error(err, EI_BADDATA, what,
                            "%s: data.path is not a mount path ending in '/'",
                            reply);
        goto out;
    }
    if (opts != NULL && !json_is_null(opts) && !json_is_object(opts)) {
        st = ei_parse_error(err, EI_BADDATA, what,
                            "%s: data.options is not an object", reply);
        goto out;
    }
    if (ver == NULL || json_is_null(ver) ||
        (json_is_string(ver) && (strcmp(json_string_value(ver), "") == 0 ||
                                 strcmp(json_string_value(ver), "1") == 0)))
        *kv = 1;
    else if (json_is_string(ver) && strcmp(json_string_value(ver), "2") == 0)
        *kv = 2;
    else {
        /* the Vault CLI refuses versions it does not know, and so do we:
           reading a KV v3 as v1 would emit its envelope as fields */
        st = ei_parse_error(err, EI_BADDATA, what,
                            "%s: unknown KV version in data.options.version",
                            reply);
        goto out;
    }
    memcpy(mount, json_string_value(path), json_string_length(path) + 1);
    if (memchr(mount, '\0', json_string_length(path)) != NULL)
        st = ei_parse_error(err, EI_BADDATA, what, "%s: data.path holds a NUL",
                            reply);
out:
    json_decref(root);
    return st;
}

enum ei_status ei_vault_parse_secret(const char *body, size_t len, int kv,
                                     const char *what, json_t **fields,
                                     long long *version, struct ei_error *err)
{
    static const char reply[] = "secret";
    *fields = NULL;
    *version = 0;
    json_t *root = ei_json_load_reply(body, len, what, reply, err);
    if (root == NULL)
        return ei_error_status(err, EI_BADDATA);
    enum ei_status st = EI_OK;
    json_t *data = json_object_get(root, "data");
    json_t *f = data;
    if (!json_is_object(root) || !json_is_object(data)) {
        st = ei_parse_error(err, EI_BADDATA, what, "%s: no data object", reply);
        goto out;
    }
    if (kv == 2) {
        f = json_object_get(data, "data");
        const json_t *meta = json_object_get(data, "metadata");
        const json_t *v = json_object_get(meta, "version");
        if (meta != NULL && !json_is_null(meta) && !json_is_object(meta)) {
            st = ei_parse_error(err, EI_BADDATA, what,
                                "%s: data.metadata is not an object", reply);
            goto out;
        }
        if (v != NULL && !json_is_null(v) &&
            (!json_is_integer(v) || json_integer_value(v) < 0)) {
            st = ei_parse_error(err, EI_BADDATA, what,
                                "%s: data.metadata.version is not a version",
                                reply);
            goto out;
        }
        if (json_is_integer(v))
            *version = json_integer_value(v);
        if (f == NULL || json_is_null(f)) {
            st = ei_parse_error(err, EI_NOTFOUND, what,
                                "the latest version is deleted or destroyed");
            goto out;
        }
        if (!json_is_object(f)) {
            st =
                ei_parse_error(err, EI_BADDATA, what,
                               "%s: data.data is not an object (KV v2)", reply);
            goto out;
        }
    }
    *fields = json_incref(f);
out:
    json_decref(root);
    return st;
}

enum ei_status ei_vault_parse_login(const char *body, size_t len,
                                    const char *what, char *token,
                                    size_t token_cap, size_t *token_len,
                                    long long *ttl, struct ei_error *err)
{
    static const char reply[] = "login";
    *token_len = 0;
    *ttl = 0;
    json_t *root = ei_json_load_reply(body, len, what, reply, err);
    if (root == NULL)
        return ei_error_status(err, EI_BADDATA);
    enum ei_status st = EI_OK;
    const json_t *auth = json_object_get(root, "auth");
    const json_t *tok = json_object_get(auth, "client_token");
    const json_t *lease = json_object_get(auth, "lease_duration");
    if (!json_is_object(root) || !json_is_object(auth)) {
        st = ei_parse_error(err, EI_BADDATA, what, "%s: no auth object", reply);
        goto out;
    }
    if (!json_is_string(tok)) {
        st = ei_parse_error(err, EI_BADDATA, what,
                            "%s: auth.client_token is not a string", reply);
        goto out;
    }
    size_t n = json_string_length(tok);
    const char *s = json_string_value(tok);
    if (n == 0 || n >= token_cap) {
        st =
            ei_parse_error(err, EI_BADDATA, what,
                           "%s: auth.client_token has %zu bytes (expected 1 to "
                           "%zu)",
                           reply, n, token_cap > 0 ? token_cap - 1 : 0);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f) {
            st = ei_parse_error(err, EI_BADDATA, what,
                                "%s: auth.client_token has a character not "
                                "allowed in a header at offset %zu",
                                reply, i);
            goto out;
        }
    }
    if (lease != NULL && !json_is_null(lease) && !json_is_integer(lease)) {
        st = ei_parse_error(err, EI_BADDATA, what,
                            "%s: auth.lease_duration is not a number", reply);
        goto out;
    }
    memcpy(token, s, n);
    token[n] = '\0';
    *token_len = n;
    if (json_is_integer(lease))
        *ttl = json_integer_value(lease);
out:
    json_decref(root);
    return st;
}

int ei_vault_path_norm(const char *path, size_t len, char *out, size_t out_len,
                       const char **why)
{
    while (len > 0 && path[0] == '/') {
        path++;
        len--;
    }
    while (len > 0 && path[len - 1] == '/')
        len--;
    if (len == 0) {
        *why = "empty path";
        return -1;
    }
    if (len >= out_len) {
        *why = "path too long";
        return -1;
    }
    size_t seg = 0; /* start of the current segment */
    for (size_t i = 0; i <= len; i++) {
        if (i == len || path[i] == '/') {
            size_t n = i - seg;
            if (n == 0 || (n == 1 && path[seg] == '.') ||
                (n == 2 && path[seg] == '.' && path[seg + 1] == '.')) {
                *why = "empty, '.' or '..' segment in the path";
                return -1;
            }
            seg = i + 1;
            continue;
        }
        unsigned char c = (unsigned char)path[i];
        if (c < 0x20 || c == 0x7f || c == '?' || c == '#' || c == '%') {
            *why = "control character, '?', '#' or '%' in the path";
            return -1;
        }
    }
    memcpy(out, path, len);
    out[len] = '\0';
    return 0;
}

enum ei_status ei_vault_parse_ref(const char *ref, char *path, size_t path_len,
                                  char *field, size_t field_len,
                                  struct ei_error *err)
{
    static const char loc[] = "reference";
    size_t plen = strlen(VAULT_REF_PREFIX);
    if (ref == NULL || strncmp(ref, VAULT_REF_PREFIX, plen) != 0)
        return ei_parse_error(err, EI_BADDATA, loc,
                              "not a ref+vault:// reference");
    const char *p = ref + plen;
    const char *hash = strchr(p, '#');
    const char *query = strchr(p, '?');
    if (query != NULL && (hash == NULL || query < hash))
        return ei_parse_error(
            err, EI_BADDATA, loc,
            "query parameters other than address and namespace are not "
            "supported in a reference (version is not, yet)");
    const char *why = NULL;
    if (hash == NULL) {
        /* the whole secret: the core picks a vals fragment out of it */
        if (ei_vault_path_norm(p, strlen(p), path, path_len, &why) < 0)
            return ei_parse_error(err, EI_BADDATA, loc, "%s", why);
        field[0] = '\0';
        return EI_OK;
    }
    if (ei_vault_path_norm(p, (size_t)(hash - p), path, path_len, &why) < 0)
        return ei_parse_error(err, EI_BADDATA, loc, "%s", why);
    const char *f = hash + 1;
    if (*f == '/')
        f++;
    size_t flen = strlen(f);
    if (flen == 0)
        return ei_parse_error(err, EI_BADDATA, loc,
                              "the reference names no field (add #FIELD)");
    if (flen >= field_len)
        return ei_parse_error(err, EI_BADDATA, loc, "field too long");
    for (size_t i = 0; i < flen; i++) {
        unsigned char c = (unsigned char)f[i];
        if (c < 0x20 || c == 0x7f)
            return ei_parse_error(err, EI_BADDATA, loc,
                                  "control character in the field");
        if (c == '/' && (i == 0 || i + 1 == flen || f[i + 1] == '/'))
            return ei_parse_error(err, EI_BADDATA, loc,
                                  "empty segment in the field");
    }
    memcpy(field, f, flen + 1);
    return EI_OK;
}

json_t *ei_vault_field_get(json_t *fields, const char *field)
{
    json_t *cur = fields;
    const char *p = field;
    for (int depth = 0; depth < VAULT_FIELD_DEPTH; depth++) {
        if (!json_is_object(cur))
            return NULL;
        const char *slash = strchr(p, '/');
        size_t n = slash != NULL ? (size_t)(slash - p) : strlen(p);
        cur = json_object_getn(cur, p, n);
        if (cur == NULL || slash == NULL)
            return cur;
        p = slash + 1;
    }
    return NULL;
}

struct vault_text {
    ei_vault_text_fn fn;
    void *ctx;
    bool strip; /* drop the '[' and ']' of the wrapping array */
};

static int vault_text_emit(void *ctx, const char *const *name, size_t name_n,
                           const char *value, size_t value_len, int line,
                           unsigned flags, struct ei_error *err)
{
    struct vault_text *t = ctx;
    if (t->strip) {
        if (value_len < 2)
            return ei_parse_error(err, EI_INTERNAL, NULL,
                                  "unexpected JSON text of a field"),
                   -1;
        value++;
        value_len -= 2;
    }
    return t->fn(t->ctx, value, value_len, err);
}

enum ei_status ei_vault_field_text(json_t *v, const char *what,
                                   ei_vault_text_fn fn, void *ctx,
                                   struct ei_error *err)
{
    /* The flattener writes a scalar as every provider does, and an array
       that holds an aggregate as compact JSON text: wrapping an object or
       array in an array of one gives its JSON text, bounded in depth and
       with the same number formatting, between two brackets. */
    struct vault_text t = {fn, ctx, json_is_object(v) || json_is_array(v)};
    json_t *wrap = json_object();
    json_t *inner = t.strip ? json_array() : json_incref(v);
    if (wrap == NULL || inner == NULL ||
        (t.strip && json_array_append(inner, v) < 0) ||
        json_object_set_new(wrap, "v", inner) < 0) {
        json_decref(wrap);
        return ei_parse_error(err, EI_NOMEM, what, "out of memory");
    }
    enum ei_status st =
        ei_jsonflat_walk(wrap, NULL, 0, what, vault_text_emit, &t, err);
    json_decref(wrap);
    return st;
}

/* ---- options ---- */

/* The secrets read so far: kept for the references of one resolution,
   forgotten when a new one starts (run --watch reads again). */
static void vault_forget_secrets(struct vault_state *st)
{
    for (size_t i = 0; i < st->secrets_n; i++) {
        free(st->secrets[i].path);
        json_decref(st->secrets[i].fields);
    }
    free(st->secrets);
    st->secrets = NULL;
    st->secrets_n = 0;
}

static void vault_state_free(struct vault_state *st)
{
    if (st == NULL)
        return;
    const struct ei_host *h = st->host;
    if (st->http != NULL)
        h->http_close(st->http);
    for (size_t i = 0; i < st->paths_n; i++)
        free(st->paths[i]);
    free(st->paths);
    free(st->mount_opt);
    free(st->ns_header);
    free(st->auth_mount);
    if (st->token_header != NULL)
        h->secret_free(h, st->token_header, st->token_header_size);
    for (size_t i = 0; i < st->mounts_n; i++)
        free(st->mounts[i].path);
    free(st->mounts);
    vault_forget_secrets(st);
    free(st);
}

/* A normalised copy of a path option, with a trailing '/' when asked. */
static enum ei_status vault_path_opt(struct vault_state *st, const char *name,
                                     const char *value, bool slash, char **out,
                                     struct ei_error *err)
{
    const struct ei_host *h = st->host;
    char buf[EI_VAULT_PATH_MAX];
    const char *why = NULL;
    if (ei_vault_path_norm(value, strlen(value), buf, sizeof(buf) - 1, &why) <
        0)
        return h->error(h, err, EI_BADCONFIG, 0, name, "%s: %s", name, why);
    size_t n = strlen(buf);
    *out = malloc(n + 2);
    if (*out == NULL)
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    memcpy(*out, buf, n);
    if (slash)
        (*out)[n++] = '/';
    (*out)[n] = '\0';
    return EI_OK;
}

static enum ei_status vault_paths(struct vault_state *st, struct ei_error *err)
{
    const struct ei_host *h = st->host;
    const char *const *one = NULL, *const *many = NULL;
    size_t one_n = 0, many_n = 0;
    int r1 = h->opt_list(h, "path", &one, &one_n, err);
    if (r1 < 0)
        return ei_error_status(err, EI_BADCONFIG);
    int r2 = h->opt_list(h, "paths", &many, &many_n, err);
    if (r2 < 0)
        return ei_error_status(err, EI_BADCONFIG);
    if (r1 > 0 && r2 > 0)
        return h->error(h, err, EI_BADCONFIG, 0, "paths",
                        "give path or paths, not both");
    const char *const *list = r1 > 0 ? one : many;
    size_t n = r1 > 0 ? one_n : many_n;
    /* the core serves ARG through opt_list already; a host that does not
       still offers it here */
    const char *arg[2] = {h->arg != NULL ? h->arg(h) : NULL, NULL};
    if (r1 == 0 && r2 == 0 && arg[0] != NULL) {
        list = arg;
        n = 1;
        r1 = 1;
    }
    if (n == 0)
        return EI_OK; /* a layer that only answers references */
    st->paths = calloc(n, sizeof(*st->paths));
    if (st->paths == NULL)
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        enum ei_status s = vault_path_opt(st, r1 > 0 ? "path" : "paths",
                                          list[i], false, &st->paths[i], err);
        if (s != EI_OK)
            return s;
        st->paths_n++;
    }
    return EI_OK;
}

static enum ei_status vault_namespace(struct vault_state *st,
                                      struct ei_error *err)
{
    const struct ei_host *h = st->host;
    const char *ns = NULL;
    if (h->opt_string(h, "namespace", &ns, err) < 0)
        return ei_error_status(err, EI_BADCONFIG);
    if (ns == NULL)
        ns = h->env_get(h, "VAULT_NAMESPACE");
    if (ns == NULL || ns[0] == '\0')
        return EI_OK;
    char *norm = NULL;
    enum ei_status s = vault_path_opt(st, "namespace", ns, true, &norm, err);
    if (s != EI_OK)
        return s;
    size_t n = strlen(VAULT_NS_HEADER) + strlen(norm) + 1;
    if (n > VAULT_NS_MAX + sizeof(VAULT_NS_HEADER)) {
        free(norm);
        return h->error(h, err, EI_BADCONFIG, 0, "namespace",
                        "namespace longer than %d bytes", VAULT_NS_MAX);
    }
    st->ns_header = malloc(n);
    if (st->ns_header == NULL) {
        free(norm);
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    }
    snprintf(st->ns_header, n, "%s%s", VAULT_NS_HEADER, norm);
    free(norm);
    return EI_OK;
}

/* Options of one auth method that another method does not take. */
static enum ei_status vault_auth_misfit(struct vault_state *st,
                                        const char *name, const char *value,
                                        struct ei_error *err)
{
    const struct ei_host *h = st->host;
    if (value == NULL)
        return EI_OK;
    return h->error(h, err, EI_BADCONFIG, 0, name,
                    "%s does not apply to auth method %s", name,
                    vault_method_names[st->method]);
}

static enum ei_status vault_auth(struct vault_state *st, struct ei_error *err)
{
    const struct ei_host *h = st->host;
    const char *method = NULL, *mount = NULL;
    st->revoke = true;
    /* auth = "approle" would otherwise be read as no auth group at all */
    const char *scalar = NULL;
    struct ei_error scratch = {0};
    if (h->opt_string(h, "auth", &scalar, &scratch) > 0)
        return h->error(h, err, EI_BADCONFIG, 0, "auth",
                        "auth must be a group, such as auth = { method = "
                        "\"approle\"; ... }");
    if (h->opt_string(h, "auth.method", &method, err) < 0 ||
        h->opt_string(h, "auth.mount", &mount, err) < 0 ||
        h->opt_path(h, "auth.token_file", &st->token_file, err) < 0 ||
        h->opt_path(h, "auth.role_id_file", &st->role_id_file, err) < 0 ||
        h->opt_path(h, "auth.secret_id_file", &st->secret_id_file, err) < 0 ||
        h->opt_string(h, "auth.role", &st->role, err) < 0 ||
        h->opt_path(h, "auth.jwt_file", &st->jwt_file, err) < 0 ||
        h->opt_bool(h, "auth.revoke", &st->revoke, err) < 0)
        return ei_error_status(err, EI_BADCONFIG);
    st->method = VAULT_AUTH_TOKEN;
    if (method != NULL) {
        size_t i = 0;
        while (i < sizeof(vault_method_names) / sizeof(vault_method_names[0]) &&
               strcmp(method, vault_method_names[i]) != 0)
            i++;
        if (i == sizeof(vault_method_names) / sizeof(vault_method_names[0]))
            return h->error(h, err, EI_BADCONFIG, 0, "auth.method",
                            "auth.method must be token, approle, kubernetes "
                            "or jwt");
        st->method = (enum vault_method)i;
    }
    enum ei_status s = EI_OK;
    switch (st->method) {
    case VAULT_AUTH_TOKEN:
        if (mount != NULL)
            return vault_auth_misfit(st, "auth.mount", mount, err);
        s = vault_auth_misfit(st, "auth.role_id_file", st->role_id_file, err);
        if (s == EI_OK)
            s = vault_auth_misfit(st, "auth.secret_id_file", st->secret_id_file,
                                  err);
        if (s == EI_OK)
            s = vault_auth_misfit(st, "auth.role", st->role, err);
        if (s == EI_OK)
            s = vault_auth_misfit(st, "auth.jwt_file", st->jwt_file, err);
        return s;
    case VAULT_AUTH_APPROLE:
        if (st->role_id_file == NULL)
            return h->error(h, err, EI_BADCONFIG, 0, "auth.role_id_file",
                            "auth method approle needs auth.role_id_file");
        s = vault_auth_misfit(st, "auth.role", st->role, err);
        if (s == EI_OK)
            s = vault_auth_misfit(st, "auth.jwt_file", st->jwt_file, err);
        break;
    case VAULT_AUTH_KUBERNETES:
        if (st->role == NULL || st->role[0] == '\0')
            return h->error(h, err, EI_BADCONFIG, 0, "auth.role",
                            "auth method kubernetes needs auth.role");
        if (st->jwt_file == NULL)
            st->jwt_file = VAULT_SA_TOKEN;
        /* fall through */
    case VAULT_AUTH_JWT:
        if (st->jwt_file == NULL)
            return h->error(h, err, EI_BADCONFIG, 0, "auth.jwt_file",
                            "auth method jwt needs auth.jwt_file");
        s = vault_auth_misfit(st, "auth.role_id_file", st->role_id_file, err);
        if (s == EI_OK)
            s = vault_auth_misfit(st, "auth.secret_id_file", st->secret_id_file,
                                  err);
        break;
    }
    if (s == EI_OK)
        s = vault_auth_misfit(st, "auth.token_file", st->token_file, err);
    if (s != EI_OK)
        return s;
    return vault_path_opt(st, "auth.mount",
                          mount != NULL ? mount
                                        : vault_method_names[st->method],
                          false, &st->auth_mount, err);
}

static enum ei_status vault_configure(const struct ei_host *host, void **statep,
                                      struct ei_error *err)
{
    *statep = NULL;
    enum ei_status host_ok = EI_HOST_REQUIRE_HTTP(host, err);
    if (host_ok == EI_OK)
        host_ok = EI_HOST_REQUIRE(host, safe_text, err);
    if (host_ok != EI_OK)
        return host_ok;
    struct vault_state *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return host->error(host, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    st->host = host;
    enum ei_status s = vault_paths(st, err);
    const char *addr = NULL, *mount = NULL;
    if (s == EI_OK &&
        (host->opt_string(host, "field", &st->field, err) < 0 ||
         host->opt_int(host, "kv_version", &st->kv_forced, err) < 0 ||
         host->opt_string(host, "mount", &mount, err) < 0 ||
         host->opt_string(host, "address", &addr, err) < 0))
        s = ei_error_status(err, EI_BADCONFIG);
    if (s == EI_OK && st->field != NULL && st->field[0] == '\0')
        s = host->error(host, err, EI_BADCONFIG, 0, "field",
                        "field must not be empty");
    if (s == EI_OK && st->kv_forced != 0 && st->kv_forced != 1 &&
        st->kv_forced != 2)
        s = host->error(host, err, EI_BADCONFIG, 0, "kv_version",
                        "kv_version must be 1 or 2");
    if (s == EI_OK && mount != NULL && st->kv_forced == 0)
        s = host->error(host, err, EI_BADCONFIG, 0, "mount",
                        "mount needs kv_version (without it, the mount is "
                        "detected)");
    if (s == EI_OK && mount != NULL)
        s = vault_path_opt(st, "mount", mount, true, &st->mount_opt, err);
    for (size_t i = 0; s == EI_OK && st->mount_opt != NULL && i < st->paths_n;
         i++) {
        size_t ml = strlen(st->mount_opt);
        if (strncmp(st->paths[i], st->mount_opt, ml) != 0 ||
            st->paths[i][ml] == '\0')
            s = host->error(host, err, EI_BADCONFIG, 0, "mount",
                            "path %s is not below mount %s", st->paths[i],
                            st->mount_opt);
    }
    if (s == EI_OK)
        s = vault_namespace(st, err);
    if (s == EI_OK)
        s = vault_auth(st, err);
    if (s == EI_OK) {
        if (addr == NULL)
            addr = host->env_get(host, "VAULT_ADDR");
        if (addr == NULL || addr[0] == '\0')
            addr = VAULT_ADDR_DEFAULT;
        const char *eps[] = {addr, NULL};
        /* VAULT_CACERT, as the vault CLI, unless the layer sets cacert */
        if (EI_HOST_HAS(host, http_open_ca))
            s = host->http_open_ca(host, eps, 1,
                                   host->env_get(host, "VAULT_CACERT"),
                                   &st->http, err);
        else
            s = host->http_open(host, eps, 1, &st->http, err);
        if (s != EI_OK)
            st->http = NULL;
    }
    if (s != EI_OK) {
        vault_state_free(st);
        return s;
    }
    *statep = st;
    return EI_OK;
}

/* ---- requests ---- */

static int64_t vault_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void vault_sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000),
                          .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* "/v1/" + parts, encoded; NULL parts end the list. */
static int vault_url(char *url, size_t cap, const char *a, const char *b,
                     const char *c)
{
    size_t len = 0;
    if (ei_url_append(url, cap, &len, "/v1/", false) < 0)
        return -1;
    const char *parts[] = {a, b, c};
    for (size_t i = 0; i < 3 && parts[i] != NULL; i++)
        if (ei_url_append(url, cap, &len, parts[i], true) < 0)
            return -1;
    return 0;
}

static enum ei_status vault_send(struct vault_state *st, const char *method,
                                 const char *url, const char *body,
                                 size_t body_len, unsigned flags,
                                 bool with_token, const struct ei_deadline *dl,
                                 struct ei_http_response *resp,
                                 struct ei_error *err)
{
    const char *headers[4];
    size_t n = 0;
    if (with_token)
        headers[n++] = st->token_header;
    if (st->ns_header != NULL)
        headers[n++] = st->ns_header;
    /* needed by Vault Agent and Proxy with require_request_header */
    headers[n++] = VAULT_REQ_HEADER;
    headers[n] = NULL;
    struct ei_http_request req = {
        .method = method,
        .path = url,
        .headers = headers,
        .body = body,
        .body_len = body_len,
        .flags = flags,
    };
    memset(resp, 0, sizeof(*resp));
    return st->host->http_request(st->http, &req, dl, resp, err);
}

/* Trim white space around a credential read from a file: files written by
   editors and echo end in a newline, and the Vault CLI trims them too. */
static void vault_trim(const char **s, size_t *len)
{
    while (*len > 0 && ((*s)[0] == ' ' || (*s)[0] == '\t' || (*s)[0] == '\n' ||
                        (*s)[0] == '\r')) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t' ||
                        (*s)[*len - 1] == '\n' || (*s)[*len - 1] == '\r'))
        (*len)--;
}

/* Read a credential file, trimmed; what names it in messages. */
static enum ei_status vault_read_cred(struct vault_state *st, const char *path,
                                      const char *what, bool private,
                                      struct ei_buf *buf, const char **val,
                                      size_t *len, struct ei_error *err)
{
    const struct ei_host *h = st->host;
    struct ei_error rerr = {0};
    unsigned flags = EI_READ_SECRET | (private ? EI_READ_PRIVATE : 0u);
    enum ei_status s = h->read_file(h, path, flags, buf, &rerr);
    if (s != EI_OK) {
        /* a missing credential is a failed login, not a missing source:
           an optional layer must not be skipped silently for it */
        if (s == EI_NOTFOUND)
            s = EI_DENIED;
        return h->error(h, err, s, rerr.errnum, path, "%s: %s", what,
                        rerr.text[0] != '\0' ? rerr.text : "cannot read");
    }
    *val = buf->data;
    *len = buf->len;
    vault_trim(val, len);
    if (*len == 0) {
        h->buf_free(h, buf);
        return h->error(h, err, EI_DENIED, 0, path, "%s is empty", what);
    }
    return EI_OK;
}

/* Keep "X-Vault-Token: TOKEN" in secret memory. */
static enum ei_status vault_set_token(struct vault_state *st, const char *tok,
                                      size_t len, const char *source,
                                      struct ei_error *err)
{
    const struct ei_host *h = st->host;
    if (len >= EI_VAULT_TOKEN_MAX)
        return h->error(h, err, EI_DENIED, 0, source,
                        "the token has %zu bytes, more than %d", len,
                        EI_VAULT_TOKEN_MAX - 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)tok[i];
        if (c <= 0x20 || c >= 0x7f)
            return h->error(h, err, EI_DENIED, 0, source,
                            "the token has a character not allowed in a "
                            "header at offset %zu",
                            i);
    }
    size_t size = strlen(VAULT_TOKEN_HEADER) + len + 1;
    char *hdr = h->secret_alloc(h, size);
    if (hdr == NULL)
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    memcpy(hdr, VAULT_TOKEN_HEADER, strlen(VAULT_TOKEN_HEADER));
    memcpy(hdr + strlen(VAULT_TOKEN_HEADER), tok, len);
    hdr[size - 1] = '\0';
    if (st->token_header != NULL)
        h->secret_free(h, st->token_header, st->token_header_size);
    st->token_header = hdr;
    st->token_header_size = size;
    st->token_source = source;
    return EI_OK;
}

static enum ei_status vault_token_load(struct vault_state *st,
                                       struct ei_error *err)
{
    const struct ei_host *h = st->host;
    struct ei_buf buf = {0};
    const char *tok = NULL;
    size_t len = 0;
    enum ei_status s;
    if (st->token_file != NULL) {
        s = vault_read_cred(st, st->token_file, "auth.token_file", true, &buf,
                            &tok, &len, err);
        if (s != EI_OK)
            return s;
        s = vault_set_token(st, tok, len, "auth.token_file", err);
        h->buf_free(h, &buf);
        return s;
    }
    const char *env = h->env_get(h, "VAULT_TOKEN");
    if (env != NULL && env[0] != '\0') {
        tok = env;
        len = strlen(env);
        vault_trim(&tok, &len);
        return vault_set_token(st, tok, len, "VAULT_TOKEN", err);
    }
    const char *home = h->env_get(h, "HOME");
    if (home != NULL && home[0] == '/') {
        size_t n = strlen(home) + sizeof(VAULT_HOME_TOKEN) + 1;
        char *path = malloc(n);
        if (path == NULL)
            return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
        snprintf(path, n, "%s/%s", home, VAULT_HOME_TOKEN);
        struct ei_error rerr = {0};
        s = h->read_file(h, path, EI_READ_SECRET | EI_READ_PRIVATE, &buf,
                         &rerr);
        if (s == EI_OK) {
            tok = buf.data;
            len = buf.len;
            vault_trim(&tok, &len);
            s = len > 0 ? vault_set_token(st, tok, len, "~/.vault-token", err)
                        : h->error(h, err, EI_DENIED, 0, path,
                                   "~/.vault-token is empty");
            h->buf_free(h, &buf);
            free(path);
            return s;
        }
        if (s != EI_NOTFOUND) {
            s = h->error(h, err, s, rerr.errnum, path, "%s",
                         rerr.text[0] != '\0' ? rerr.text : "cannot read");
            free(path);
            return s;
        }
        free(path);
    }
    return h->error(h, err, EI_DENIED, 0, NULL,
                    "no Vault token: set VAULT_TOKEN, give auth.token_file, "
                    "log in with the vault CLI (~/.vault-token), or choose "
                    "another auth.method");
}

/* The JSON body of a login, in secret memory. */
static enum ei_status vault_login_body(struct vault_state *st, const char *k1,
                                       const char *v1, size_t l1,
                                       const char *k2, const char *v2,
                                       size_t l2, char **body, size_t *size,
                                       struct ei_error *err)
{
    const struct ei_host *h = st->host;
    json_t *o = json_object();
    enum ei_status s = EI_OK;
    if (o == NULL)
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    const char *keys[] = {k1, k2};
    const char *vals[] = {v1, v2};
    size_t lens[] = {l1, l2};
    for (size_t i = 0; i < 2 && s == EI_OK; i++) {
        if (keys[i] == NULL)
            continue;
        json_t *v = json_stringn(vals[i], lens[i]);
        if (v == NULL)
            /* jansson refuses what is not UTF-8, as Vault would */
            s = h->error(h, err, EI_DENIED, 0, NULL,
                         "%s is not valid UTF-8 (%zu bytes)", keys[i], lens[i]);
        else if (json_object_set_new(o, keys[i], v) < 0)
            s = h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    }
    size_t len = s == EI_OK ? json_dumpb(o, NULL, 0, JSON_COMPACT) : 0;
    if (s == EI_OK) {
        *body = h->secret_alloc(h, len + 1);
        if (*body == NULL)
            s = h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    }
    if (s == EI_OK) {
        *size = len + 1;
        json_dumpb(o, *body, len, JSON_COMPACT);
        (*body)[len] = '\0';
    }
    json_decref(o);
    return s;
}

/* Read the credentials of the login method and build the body. */
static enum ei_status vault_login_creds(struct vault_state *st, char **body,
                                        size_t *size, struct ei_error *err)
{
    const struct ei_host *h = st->host;
    struct ei_buf b1 = {0}, b2 = {0};
    const char *v1 = NULL, *v2 = NULL;
    size_t l1 = 0, l2 = 0;
    enum ei_status s;
    if (st->method == VAULT_AUTH_APPROLE) {
        s = vault_read_cred(st, st->role_id_file, "auth.role_id_file", false,
                            &b1, &v1, &l1, err);
        if (s == EI_OK && st->secret_id_file != NULL)
            s = vault_read_cred(st, st->secret_id_file, "auth.secret_id_file",
                                true, &b2, &v2, &l2, err);
        if (s == EI_OK)
            s = vault_login_body(st, "role_id", v1, l1,
                                 st->secret_id_file != NULL ? "secret_id"
                                                            : NULL,
                                 v2, l2, body, size, err);
    } else {
        s = vault_read_cred(st, st->jwt_file, "auth.jwt_file", false, &b1, &v1,
                            &l1, err);
        if (s == EI_OK)
            s = vault_login_body(
                st, "jwt", v1, l1, st->role != NULL ? "role" : NULL, st->role,
                st->role != NULL ? strlen(st->role) : 0, body, size, err);
    }
    if (b1.data != NULL)
        h->buf_free(h, &b1);
    if (b2.data != NULL)
        h->buf_free(h, &b2);
    return s;
}

/* Judge a reply that is not a success; what is the path (locator). */
static enum ei_status vault_http_fail(struct vault_state *st,
                                      const struct ei_http_response *resp,
                                      const char *what, const char *doing,
                                      struct ei_error *err)
{
    const struct ei_host *h = st->host;
    long s = resp->status;
    unsigned says = ei_vault_parse_error(resp->body, resp->body_len);
    const char *method = vault_method_names[st->method];
    if (s == HTTP_FORBIDDEN)
        return h->error(h, err, EI_DENIED, 0, what,
                        "permission denied %s (HTTP 403, auth method %s%s%s)",
                        doing, method,
                        st->method == VAULT_AUTH_TOKEN ? ", token from " : "",
                        st->method == VAULT_AUTH_TOKEN && st->token_source
                            ? st->token_source
                            : "");
    if (s == HTTP_NOT_FOUND) {
        if (says & EI_VAULT_SAYS_KV2_PATH)
            return h->error(h, err, EI_BADCONFIG, 0, what,
                            "the mount is KV v2 (set kv_version = 2, or "
                            "leave kv_version out to detect it)");
        if (says & (EI_VAULT_SAYS_DELETED | EI_VAULT_SAYS_DESTROYED))
            return h->error(h, err, EI_NOTFOUND, 0, what,
                            "the latest version is %s (HTTP 404)",
                            says & EI_VAULT_SAYS_DESTROYED ? "destroyed"
                                                           : "deleted");
        return h->error(h, err, EI_NOTFOUND, 0, what,
                        "secret not found (HTTP 404)");
    }
    if (s == HTTP_TIMEOUT || s == HTTP_PRECONDITION || s == HTTP_TOO_MANY ||
        (s >= HTTP_SERVER_ERROR && s < HTTP_STATUS_END))
        return h->error(h, err, EI_UNAVAILABLE, 0, what, "%s (HTTP %ld)",
                        says & EI_VAULT_SAYS_SEALED ? "Vault is sealed"
                                                    : "Vault is unavailable",
                        s);
    if (s == HTTP_BAD_REQUEST || s == HTTP_BAD_METHOD)
        return h->error(h, err, EI_BADDATA, 0, what,
                        "request refused %s (HTTP %ld)", doing, s);
    return h->error(h, err, EI_BADDATA, 0, what,
                    "unexpected response %s (HTTP %ld, %zu bytes)", doing, s,
                    resp->body_len);
}

/* Wait before a login is sent again, or say that no retry fits. */
static bool vault_login_wait(struct vault_state *st,
                             const struct ei_http_response *resp,
                             unsigned attempt, const struct ei_deadline *dl)
{
    const struct ei_host *h = st->host;
    if (resp->status != HTTP_TIMEOUT && resp->status != HTTP_TOO_MANY &&
        resp->status != HTTP_UNAVAILABLE)
        return false;
    if (attempt + 1 >= VAULT_LOGIN_ATTEMPTS)
        return false;
    int64_t room = h->remaining_ms(h, dl) - VAULT_RETRY_MIN_MS;
    int64_t wait;
    if (resp->retry_after_ms >= 0) {
        wait = resp->retry_after_ms;
    } else {
        int64_t ceiling = VAULT_LOGIN_BASE_MS << attempt;
        if (ceiling > VAULT_LOGIN_CAP_MS)
            ceiling = VAULT_LOGIN_CAP_MS;
        wait = (int64_t)randombytes_uniform((uint32_t)ceiling + 1);
    }
    if (room <= 0 || wait > room)
        return false;
    h->log(h, EI_LOG_DEBUG, "login: HTTP %ld, retrying in %lld ms",
           resp->status, (long long)wait);
    if (wait > 0)
        vault_sleep_ms(wait);
    return true;
}

static enum ei_status vault_login(struct vault_state *st,
                                  const struct ei_deadline *dl,
                                  struct ei_error *err)
{
    const struct ei_host *h = st->host;
    const char *method = vault_method_names[st->method];
    char url[VAULT_URL_MAX];
    char what[VAULT_MOUNT_MAX + 16];
    snprintf(what, sizeof(what), "auth/%s/login", st->auth_mount);
    if (vault_url(url, sizeof(url), "auth/", st->auth_mount, "/login") < 0)
        return h->error(h, err, EI_BADCONFIG, 0, "auth.mount",
                        "auth.mount too long");
    char *body = NULL;
    size_t body_size = 0;
    enum ei_status s = vault_login_creds(st, &body, &body_size, err);
    if (s != EI_OK)
        return s;
    struct ei_http_response resp;
    for (unsigned attempt = 0;; attempt++) {
        s = vault_send(st, "POST", url, body, body_size - 1,
                       EI_HTTP_SECRET | EI_HTTP_SECRET_BODY | EI_HTTP_NORETRY,
                       false, dl, &resp, err);
        if (s != EI_OK || !vault_login_wait(st, &resp, attempt, dl))
            break;
        h->http_response_free(st->http, &resp);
    }
    h->secret_free(h, body, body_size);
    if (s != EI_OK)
        return s;
    if (resp.status == HTTP_BAD_REQUEST || resp.status == HTTP_FORBIDDEN ||
        resp.status == 401) {
        s = h->error(h, err, EI_DENIED, 0, what,
                     "%s login refused (HTTP %ld): check the %s", method,
                     resp.status,
                     st->method == VAULT_AUTH_APPROLE ? "role_id and secret_id"
                     : st->role != NULL               ? "role and the JWT"
                                                      : "JWT");
    } else if (resp.status == HTTP_NOT_FOUND) {
        s = h->error(h, err, EI_DENIED, 0, what,
                     "no %s auth method at auth/%s (HTTP 404): set auth.mount",
                     method, st->auth_mount);
    } else if (resp.status != HTTP_OK) {
        s = vault_http_fail(st, &resp, what, "logging in", err);
    } else {
        char *tok = h->secret_alloc(h, EI_VAULT_TOKEN_MAX);
        size_t len = 0;
        long long ttl = 0;
        if (tok == NULL)
            s = h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
        else
            s = ei_vault_parse_login(resp.body, resp.body_len, what, tok,
                                     EI_VAULT_TOKEN_MAX, &len, &ttl, err);
        if (s == EI_OK)
            s = vault_set_token(st, tok, len, method, err);
        if (s == EI_OK) {
            st->logged_in = true;
            st->token_ttl_s = ttl;
            st->token_since_ms = vault_now_ms();
            h->log(h, EI_LOG_DEBUG,
                   "logged in with %s at auth/%s (token TTL %lld s)", method,
                   st->auth_mount, ttl);
        }
        if (tok != NULL)
            h->secret_free(h, tok, EI_VAULT_TOKEN_MAX);
    }
    h->http_response_free(st->http, &resp);
    return s;
}

static void vault_revoke(struct vault_state *st, const struct ei_deadline *dl,
                         enum ei_log_level level);

/*
 * run --watch reads the layer again and again with the token of one
 * login: past half its lease it is renewed (renew-self), as Vault's own
 * clients do, rather than left to expire; one that cannot be renewed (not
 * renewable, past its max TTL, revoked) is dropped, and the next request
 * logs in again.
 */
static void vault_renew(struct vault_state *st, const struct ei_deadline *dl)
{
    const struct ei_host *h = st->host;
    if (!st->logged_in || st->token_ttl_s <= 0 ||
        vault_now_ms() - st->token_since_ms < st->token_ttl_s * 1000 / 2)
        return;
    struct ei_http_response resp;
    struct ei_error rerr = {0};
    enum ei_status s = vault_send(st, "POST", VAULT_RENEW_PATH, "{}", 2,
                                  EI_HTTP_NORETRY | EI_HTTP_SECRET, true, dl,
                                  &resp, &rerr);
    bool renewed = false;
    if (s == EI_OK && resp.status == HTTP_OK) {
        char *tok = h->secret_alloc(h, EI_VAULT_TOKEN_MAX);
        size_t len = 0;
        long long ttl = 0;
        if (tok != NULL &&
            ei_vault_parse_login(resp.body, resp.body_len, VAULT_RENEW_PATH,
                                 tok, EI_VAULT_TOKEN_MAX, &len, &ttl,
                                 &rerr) == EI_OK &&
            ttl > 0) {
            st->token_ttl_s = ttl;
            st->token_since_ms = vault_now_ms();
            renewed = true;
            h->log(h, EI_LOG_INFO, "login token renewed (TTL %lld s)", ttl);
        }
        if (tok != NULL)
            h->secret_free(h, tok, EI_VAULT_TOKEN_MAX);
    }
    if (s == EI_OK)
        h->http_response_free(st->http, &resp);
    if (!renewed) {
        h->log(h, EI_LOG_INFO,
               "the login token could not be renewed: logging in again");
        vault_revoke(st, dl, EI_LOG_DEBUG);
    }
}

static enum ei_status vault_ensure_token(struct vault_state *st,
                                         const struct ei_deadline *dl,
                                         struct ei_error *err)
{
    if (st->token_header != NULL)
        return EI_OK;
    if (st->method == VAULT_AUTH_TOKEN)
        return vault_token_load(st, err);
    return vault_login(st, dl, err);
}

/* Revoke the login token (best effort) and forget it. */
static void vault_revoke(struct vault_state *st, const struct ei_deadline *dl,
                         enum ei_log_level level)
{
    const struct ei_host *h = st->host;
    if (st->token_header == NULL || !st->logged_in)
        return;
    if (st->revoke) {
        struct ei_http_response resp;
        struct ei_error rerr = {0};
        enum ei_status s = vault_send(st, "POST", VAULT_REVOKE_PATH, NULL, 0,
                                      EI_HTTP_NORETRY, true, dl, &resp, &rerr);
        if (s != EI_OK)
            h->log(h, level, "could not revoke the login token: %s",
                   rerr.text[0] != '\0' ? rerr.text : "request failed");
        else if (resp.status != HTTP_NO_CONTENT && resp.status != HTTP_OK)
            h->log(h, level, "could not revoke the login token (HTTP %ld)",
                   resp.status);
        else
            h->log(h, EI_LOG_DEBUG, "login token revoked");
        if (s == EI_OK)
            h->http_response_free(st->http, &resp);
    }
    h->secret_free(h, st->token_header, st->token_header_size);
    st->token_header = NULL;
    st->token_header_size = 0;
    st->logged_in = false;
}

/*
 * A GET with the token.  A 403 with a login method may mean that the
 * token expired during the run: log in again, once per request.
 */
static enum ei_status vault_get(struct vault_state *st, const char *url,
                                const struct ei_deadline *dl,
                                struct ei_http_response *resp,
                                struct ei_error *err)
{
    const struct ei_host *h = st->host;
    for (bool again = false;; again = true) {
        enum ei_status s = vault_ensure_token(st, dl, err);
        if (s != EI_OK)
            return s;
        s = vault_send(st, "GET", url, NULL, 0, EI_HTTP_SECRET, true, dl, resp,
                       err);
        if (s != EI_OK || resp->status != HTTP_FORBIDDEN ||
            st->method == VAULT_AUTH_TOKEN || again ||
            st->relogins >= VAULT_RELOGIN_MAX)
            return s;
        h->http_response_free(st->http, resp);
        h->log(h, EI_LOG_INFO, "HTTP 403: logging in again");
        st->relogins++;
        /* the old token may still be valid (a policy refused the path):
           it must not outlive the run */
        vault_revoke(st, dl, EI_LOG_DEBUG);
    }
}

/* ---- secrets ---- */

/* The mount and KV version of a path, from the cache or the preflight. */
static enum ei_status vault_mount_of(struct vault_state *st, const char *path,
                                     const struct ei_deadline *dl, int *kv,
                                     size_t *mount_len, struct ei_error *err)
{
    const struct ei_host *h = st->host;
    *kv = 1;
    *mount_len = 0;
    if (st->kv_forced != 0) {
        *kv = (int)st->kv_forced;
        if (st->mount_opt != NULL) {
            size_t ml = strlen(st->mount_opt);
            if (strncmp(path, st->mount_opt, ml) != 0 || path[ml] == '\0')
                return h->error(h, err, EI_BADCONFIG, 0, path,
                                "not below mount %s", st->mount_opt);
            *mount_len = ml;
        } else {
            const char *slash = strchr(path, '/');
            if (slash == NULL && *kv == 2)
                return h->error(h, err, EI_BADCONFIG, 0, path,
                                "a KV v2 path needs a secret below the mount");
            *mount_len = slash != NULL ? (size_t)(slash - path) + 1 : 0;
        }
        return EI_OK;
    }
    for (size_t i = 0; i < st->mounts_n; i++) {
        size_t ml = strlen(st->mounts[i].path);
        if (strncmp(path, st->mounts[i].path, ml) == 0) {
            *kv = st->mounts[i].kv;
            *mount_len = ml;
            return EI_OK;
        }
    }
    if (st->no_preflight)
        return EI_OK;

    char url[VAULT_URL_MAX];
    if (vault_url(url, sizeof(url), VAULT_PREFLIGHT, path, NULL) < 0)
        return h->error(h, err, EI_BADCONFIG, 0, path, "path too long");
    struct ei_http_response resp;
    enum ei_status s = vault_get(st, url, dl, &resp, err);
    if (s != EI_OK)
        return s;
    if (resp.status == HTTP_NOT_FOUND) {
        /* Vault before 1.0 has no such endpoint, and only KV v1 */
        h->log(h, EI_LOG_DEBUG, "no mount preflight endpoint: KV v1 assumed");
        st->no_preflight = true;
        h->http_response_free(st->http, &resp);
        return EI_OK;
    }
    if (resp.status != HTTP_OK) {
        s = vault_http_fail(st, &resp, path, "looking up the mount", err);
        h->http_response_free(st->http, &resp);
        return s;
    }
    char mount[VAULT_MOUNT_MAX];
    s = ei_vault_parse_mount(resp.body, resp.body_len, path, mount,
                             sizeof(mount), kv, err);
    h->http_response_free(st->http, &resp);
    if (s != EI_OK)
        return s;
    size_t ml = strlen(mount);
    /* data.path is relative to the namespace of the request, as the path */
    if (strncmp(path, mount, ml - 1) != 0 ||
        (path[ml - 1] != '/' && path[ml - 1] != '\0')) {
        char shown[VAULT_SHOW_MAX + EI_TEXT_EXTRA];
        h->safe_text(h, shown, sizeof(shown), mount, strlen(mount), 0);
        return h->error(h, err, EI_BADDATA, 0, path,
                        "mount lookup: mount %s does not hold this path",
                        shown);
    }
    if (path[ml - 1] == '\0' && *kv == 2)
        return h->error(h, err, EI_BADCONFIG, 0, path,
                        "the path names the KV v2 mount itself, not a secret");
    struct vault_mount *grown =
        realloc(st->mounts, (st->mounts_n + 1) * sizeof(*grown));
    char *copy = malloc(ml + 1);
    if (grown != NULL)
        st->mounts = grown;
    if (grown == NULL || copy == NULL) {
        free(copy);
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    }
    memcpy(copy, mount, ml + 1);
    st->mounts[st->mounts_n].path = copy;
    st->mounts[st->mounts_n].kv = *kv;
    st->mounts_n++;
    *mount_len = path[ml - 1] == '\0' ? ml - 1 : ml;
    h->log(h, EI_LOG_DEBUG, "mount %s is KV v%d", copy, *kv);
    return EI_OK;
}

/* A secret by its normalised path, read once per run. */
static enum ei_status vault_secret(struct vault_state *st, const char *path,
                                   const struct ei_deadline *dl,
                                   const struct vault_secret **out,
                                   struct ei_error *err)
{
    const struct ei_host *h = st->host;
    for (size_t i = 0; i < st->secrets_n; i++) {
        if (strcmp(st->secrets[i].path, path) == 0) {
            *out = &st->secrets[i];
            return EI_OK;
        }
    }
    int kv;
    size_t ml;
    enum ei_status s = vault_mount_of(st, path, dl, &kv, &ml, err);
    if (s != EI_OK)
        return s;
    char url[VAULT_URL_MAX];
    char mount[VAULT_MOUNT_MAX];
    if (ml >= sizeof(mount))
        return h->error(h, err, EI_BADCONFIG, 0, path, "path too long");
    memcpy(mount, path, ml);
    mount[ml] = '\0';
    int r = kv == 2 ? vault_url(url, sizeof(url), mount, "data/", path + ml)
                    : vault_url(url, sizeof(url), path, NULL, NULL);
    if (r < 0)
        return h->error(h, err, EI_BADCONFIG, 0, path, "path too long");
    struct ei_http_response resp;
    s = vault_get(st, url, dl, &resp, err);
    if (s != EI_OK)
        return s;
    json_t *fields = NULL;
    long long version = 0;
    if (resp.status == HTTP_NO_CONTENT)
        fields = json_object();
    else if (resp.status == HTTP_OK)
        s = ei_vault_parse_secret(resp.body, resp.body_len, kv, path, &fields,
                                  &version, err);
    else
        s = vault_http_fail(st, &resp, path, "reading the secret", err);
    h->http_response_free(st->http, &resp);
    if (s != EI_OK)
        return s;
    struct vault_secret *grown =
        realloc(st->secrets, (st->secrets_n + 1) * sizeof(*grown));
    char *copy = strdup(path);
    if (grown != NULL)
        st->secrets = grown;
    if (fields == NULL || grown == NULL || copy == NULL) {
        free(copy);
        json_decref(fields);
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    }
    struct vault_secret *sec = &st->secrets[st->secrets_n++];
    sec->path = copy;
    sec->fields = fields;
    sec->version = version;
    sec->kv = kv;
    *out = sec;
    return EI_OK;
}

struct vault_emit {
    struct ei_sink *sink;
    const char *name;
    const char *locator;
    unsigned flags;
};

static int vault_emit_text(void *ctx, const char *text, size_t len,
                           struct ei_error *err)
{
    struct vault_emit *e = ctx;
    const char *name[] = {e->name};
    return e->sink->emit(e->sink, name, 1, text, len, e->locator, e->flags,
                         err);
}

/* "vault secret/app/prod v3 #password": the path, version and field. */
static void vault_locator(const struct ei_host *h,
                          const struct vault_secret *sec, const char *field,
                          char *out, size_t out_len)
{
    char shown[VAULT_SHOW_MAX + EI_TEXT_EXTRA];
    h->safe_text(h, shown, sizeof(shown), field, strlen(field), 0);
    if (sec->kv == 2)
        snprintf(out, out_len, "vault %s v%lld #%s", sec->path, sec->version,
                 shown);
    else
        snprintf(out, out_len, "vault %s #%s", sec->path, shown);
}

static enum ei_status vault_emit_field(struct vault_state *st,
                                       struct ei_sink *sink,
                                       const struct vault_secret *sec,
                                       const char *name, const char *field,
                                       json_t *v, unsigned flags,
                                       struct ei_error *err)
{
    const struct ei_host *h = st->host;
    if (name[0] == '\0')
        return h->error(h, err, EI_BADDATA, 0, sec->path,
                        "a field has an empty name");
    char loc[VAULT_LOC_MAX];
    vault_locator(st->host, sec, field, loc, sizeof(loc));
    struct vault_emit e = {sink, name, loc, flags};
    enum ei_status s = ei_vault_field_text(v, loc, vault_emit_text, &e, err);
    if (s != EI_OK && err != NULL && err->status == EI_OK)
        s = h->error(h, err, s, 0, loc, "cannot emit the field");
    return s;
}

static enum ei_status vault_fetch(void *state, struct ei_sink *sink,
                                  const struct ei_deadline *dl,
                                  struct ei_error *err)
{
    struct vault_state *st = state;
    const struct ei_host *h = st->host;
    /* a fetch starts a resolution: what an earlier one read is stale, and
       its logins again allowed */
    vault_forget_secrets(st);
    st->relogins = 0;
    vault_renew(st, dl);
    /* the revision: the KV v2 version of the one secret, or the SHA-256
       of "path=version" lines in the order of paths; none with KV v1 */
    crypto_hash_sha256_state rev;
    crypto_hash_sha256_init(&rev);
    bool versioned = st->paths_n > 0;
    long long version = 0;
    for (size_t i = 0; i < st->paths_n; i++) {
        const struct vault_secret *sec = NULL;
        enum ei_status s = vault_secret(st, st->paths[i], dl, &sec, err);
        if (s != EI_OK)
            return s;
        versioned = versioned && sec->kv == 2;
        version = sec->version;
        char line[32];
        snprintf(line, sizeof(line), "=%lld\n", sec->version);
        crypto_hash_sha256_update(&rev, (const unsigned char *)sec->path,
                                  strlen(sec->path));
        crypto_hash_sha256_update(&rev, (const unsigned char *)line,
                                  strlen(line));
        if (st->field != NULL) {
            json_t *v = json_object_get(sec->fields, st->field);
            if (v == NULL) {
                char shown[VAULT_SHOW_MAX + EI_TEXT_EXTRA];
                h->safe_text(h, shown, sizeof(shown), st->field,
                             strlen(st->field), 0);
                return h->error(h, err, EI_NOTFOUND, 0, sec->path,
                                "no field %s in the secret", shown);
            }
            s = vault_emit_field(st, sink, sec, st->field, st->field, v, 0,
                                 err);
            if (s != EI_OK)
                return s;
            continue;
        }
        const char *key;
        json_t *v;
        json_object_foreach(sec->fields, key, v)
        {
            s = vault_emit_field(st, sink, sec, key, key, v, 0, err);
            if (s != EI_OK)
                return s;
        }
        h->log(h, EI_LOG_DEBUG, "%s: %zu fields", sec->path,
               json_object_size(sec->fields));
    }
    if (versioned && st->paths_n > 1) {
        ei_revision_report_sha256(h, &rev);
    } else if (versioned) {
        char text[24];
        snprintf(text, sizeof(text), "%lld", version);
        ei_revision_report(h, text);
    }
    return EI_OK;
}

static enum ei_status vault_lookup(void *state, const char *ref,
                                   struct ei_sink *sink,
                                   const struct ei_deadline *dl,
                                   struct ei_error *err)
{
    struct vault_state *st = state;
    const struct ei_host *h = st->host;
    char path[EI_VAULT_PATH_MAX];
    char field[EI_VAULT_FIELD_MAX];
    enum ei_status s =
        ei_vault_parse_ref(ref, path, sizeof(path), field, sizeof(field), err);
    if (s != EI_OK)
        return s;
    const struct vault_secret *sec = NULL;
    s = vault_secret(st, path, dl, &sec, err);
    if (s != EI_OK)
        return s;
    if (field[0] == '\0') {
        char loc[VAULT_LOC_MAX];
        if (sec->kv == 2)
            snprintf(loc, sizeof(loc), "vault %s v%lld", sec->path,
                     sec->version);
        else
            snprintf(loc, sizeof(loc), "vault %s", sec->path);
        struct vault_emit e = {sink, "", loc, EI_ENTRY_SECRET};
        return ei_vault_field_text(sec->fields, loc, vault_emit_text, &e,
                                   err);
    }
    json_t *v = ei_vault_field_get(sec->fields, field);
    if (v == NULL) {
        char shown[VAULT_SHOW_MAX + EI_TEXT_EXTRA];
        h->safe_text(h, shown, sizeof(shown), field, strlen(field), 0);
        return h->error(h, err, EI_NOTFOUND, 0, sec->path, "no field %s in %s",
                        shown, sec->path);
    }
    const char *last = strrchr(field, '/');
    last = last != NULL ? last + 1 : field;
    return vault_emit_field(st, sink, sec, last, field, v, EI_ENTRY_SECRET,
                            err);
}

static void vault_destroy(void *state)
{
    struct vault_state *st = state;
    if (st == NULL)
        return;
    /* destroy has no deadline of its own: the revoke gets a short one, so
       that an unreachable Vault delays the exec by a second at most */
    struct ei_deadline dl;
    dl.start_ms = vault_now_ms();
    dl.end_ms = dl.start_ms + VAULT_REVOKE_MS;
    vault_revoke(st, &dl, EI_LOG_WARN);
    vault_state_free(st);
}

/*
 * run --watch: polled (Vault tells nobody of changes).  watch comes after
 * the resolution's references were looked up: the secrets read for them
 * are forgotten (wiped) now rather than held until the next poll.
 */
static enum ei_watch_kind vault_watch(void *state, const char *const **paths,
                                      int64_t *poll_ms)
{
    (void)paths;
    (void)poll_ms;
    vault_forget_secrets(state);
    return EI_WATCH_POLL;
}

EI_PROVIDER_DEFINE(vault) = {
    .abi = EI_PROVIDER_ABI,
    .size = sizeof(struct ei_provider),
    .name = "vault",
    .summary = "HashiCorp Vault KV v1 and v2 secrets; ref+vault:// references",
    .arg_option = "path",
    .flags = EI_PROV_REMOTE | EI_PROV_SECRET,
    .configure = vault_configure,
    .fetch = vault_fetch,
    .lookup = vault_lookup,
    .destroy = vault_destroy,
    .env_consumed = NULL,
    .watch = vault_watch,
    .wait_change = NULL,
};
