/* SPDX-License-Identifier: MIT */
/* The etcd provider: every key under a prefix, read page by page from one
   of several members, through the etcd v3 JSON gateway or native gRPC. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <envinject/provider.h>
#include <jansson.h>
#include <sodium.h>

#include "../common/jsonflat.h"
#include "../common/revision.h"
#include "etcd.h"

#define ETCD_AUTH_HEADER "Authorization: "
/* the text/plain 400 of grpc-gateway when auth and client certs meet */
#define ETCD_CN_REFUSED "CommonName of client sending a request against gateway"
/* longer than any simple or JWT token etcd hands out */
#define ETCD_TOKEN_MAX 8192
/* bytes of a key shown in a locator; the core caps keys at 1024 anyway */
#define ETCD_LOC_KEY_MAX 1024
/* room for "@" + a revision + " (" + ")" around the key and member */
#define ETCD_LOC_EXTRA 32
#define ETCD_NAME_MAX  256
/* a reference's key, and where a layer made for references finds etcd
   without ETCDCTL_ENDPOINTS (etcdctl's default) */
#define ETCD_REF_KEY_MAX      4096
#define ETCD_DEFAULT_ENDPOINT "http://127.0.0.1:2379"

/* gRPC status codes that etcd puts in its error bodies (grpc codes.Code) */
#define GRPC_INVALID_ARGUMENT    3
#define GRPC_PERMISSION_DENIED   7
#define GRPC_FAILED_PRECONDITION 9
#define GRPC_OUT_OF_RANGE        11
#define GRPC_UNIMPLEMENTED       12
#define GRPC_UNAUTHENTICATED     16

#define HTTP_OK                200
#define HTTP_BAD_REQUEST       400
#define HTTP_UNAUTHORIZED      401
#define HTTP_FORBIDDEN         403
#define HTTP_NOT_FOUND         404
#define HTTP_BAD_METHOD        405
#define HTTP_REQUEST_TIMEOUT   408
#define HTTP_TOO_MANY_REQUESTS 429
#define HTTP_SERVER_ERROR      500
#define HTTP_NOT_IMPLEMENTED   501
#define HTTP_STATUS_END        600

/* Text a server or the configuration gave, fit for a message: control
   bytes and '\'' become '?', so that nothing can forge lines or quoting. */
void etcd_show(const struct ei_host *h, char *out, size_t out_size,
               const char *s, size_t len)
{
    h->safe_text(h, out, out_size, s, len, EI_TEXT_QUOTE);
}

/*
 * The exclusive end of a prefix range, as clientv3's GetPrefixRangeEnd:
 * the last byte below 0xff is incremented and what follows it dropped; a
 * prefix of 0xff bytes only has no upper bound, which etcd spells "\0".
 */
static size_t etcd_prefix_end(const char *prefix, size_t len, char *out)
{
    memcpy(out, prefix, len);
    for (size_t i = len; i > 0; i--) {
        unsigned char c = (unsigned char)out[i - 1];
        if (c < 0xff) {
            out[i - 1] = (char)(c + 1);
            return i;
        }
    }
    out[0] = '\0';
    return 1;
}

static bool etcd_env_name_valid(const char *s)
{
    if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') ||
          s[0] == '_'))
        return false;
    for (const char *p = s + 1; *p != '\0'; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
              (*p >= '0' && *p <= '9') || *p == '_'))
            return false;
    return true;
}

/* A JSON string of s; NULL on failure, with *bad_utf8 telling whether s
   was no UTF-8 (etcd refuses it too) rather than memory short. */
static json_t *etcd_json_str(const char *s, size_t len, bool *bad_utf8)
{
    json_t *j = json_stringn(s, len);
    *bad_utf8 = false;
    if (j == NULL) {
        json_t *probe = json_stringn_nocheck(s, len);
        *bad_utf8 = probe != NULL;
        json_decref(probe);
    }
    return j;
}

static void etcd_state_free(struct etcd_state *st)
{
    if (st == NULL)
        return;
    if (st->http != NULL)
        st->host->http_close(st->http);
    if (st->wait_http != NULL)
        st->host->http_close(st->wait_http);
    pthread_mutex_destroy(&st->lock);
    for (size_t i = 0; i < st->endpoints_n; i++)
        free(st->endpoints[i]);
    free(st->endpoints);
    free(st->prefix);
    free(st->range_end);
    free(st);
}

/* Append one endpoint, trimmed of blanks and trailing '/'. */
static enum ei_status etcd_add_endpoint(struct etcd_state *st, const char *s,
                                        size_t len, size_t *cap,
                                        struct ei_error *err)
{
    const struct ei_host *h = st->host;
    while (len > 0 && (s[0] == ' ' || s[0] == '\t')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    while (len > 0 && s[len - 1] == '/')
        len--;
    char shown[ETCD_SHOW_MAX + EI_TEXT_EXTRA];
    etcd_show(h, shown, sizeof(shown), s, len);
    if (len == 0)
        return h->error(h, err, EI_BADCONFIG, 0, "endpoints",
                        "an endpoint is empty");
    /* etcdctl accepts HOST:PORT; here the scheme decides about TLS, so it
       must be said */
    const char *sep = memchr(s, ':', len);
    if (sep == NULL || (size_t)(s + len - sep) < 3 || sep[1] != '/' ||
        sep[2] != '/')
        return h->error(h, err, EI_BADCONFIG, 0, "endpoints",
                        "endpoint '%s' needs a scheme (http:// or https://)",
                        shown);
    if (st->endpoints_n == *cap) {
        size_t ncap = *cap != 0 ? *cap * 2 : 4;
        char **grown = realloc(st->endpoints, ncap * sizeof *grown);
        if (grown == NULL)
            return h->error(h, err, EI_NOMEM, 0, NULL, "out of memory");
        st->endpoints = grown;
        *cap = ncap;
    }
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return h->error(h, err, EI_NOMEM, 0, NULL, "out of memory");
    memcpy(copy, s, len);
    copy[len] = '\0';
    st->endpoints[st->endpoints_n++] = copy;
    return EI_OK;
}

/* Endpoints come as a list, and each item may itself be a comma-separated
   list as in ETCDCTL_ENDPOINTS ("--layer 'etcd:http://a\,http://b'"). */
static enum ei_status etcd_endpoints(struct etcd_state *st,
                                     struct ei_error *err)
{
    const struct ei_host *h = st->host;
    const char *const *list = NULL;
    size_t n = 0;
    int r = h->opt_list(h, "endpoints", &list, &n, err);
    if (r < 0)
        return ei_error_status(err, EI_BADCONFIG);
    /* a host may hand over --layer etcd:ARG only through arg() */
    const char *one[2] = {h->arg != NULL ? h->arg(h) : NULL, NULL};
    if (r == 0 && one[0] != NULL) {
        list = one;
        n = 1;
        r = 1;
    }
    /* a layer made for references finds etcd as etcdctl does */
    if (r == 0 && EI_HOST_HAS(h, references_only) && h->references_only(h)) {
        one[0] = h->env_get(h, "ETCDCTL_ENDPOINTS");
        if (one[0] == NULL || one[0][0] == '\0')
            one[0] = ETCD_DEFAULT_ENDPOINT;
        list = one;
        n = 1;
        r = 1;
    }
    if (r == 0 || n == 0)
        return h->error(h, err, EI_BADCONFIG, 0, "endpoints",
                        "endpoints is required (a list of URLs such as "
                        "\"http://127.0.0.1:2379\")");
    size_t cap = 0;
    for (size_t i = 0; i < n && list[i] != NULL; i++) {
        const char *s = list[i];
        for (;;) {
            const char *comma = strchr(s, ',');
            size_t len = comma != NULL ? (size_t)(comma - s) : strlen(s);
            enum ei_status status = etcd_add_endpoint(st, s, len, &cap, err);
            if (status != EI_OK)
                return status;
            if (comma == NULL)
                break;
            s = comma + 1;
        }
    }
    return EI_OK;
}

static enum ei_status etcd_auth_options(struct etcd_state *st,
                                        struct ei_error *err)
{
    const struct ei_host *h = st->host;
    /* read so that it counts as known, and refused with a better message
       than "unknown option"; the getter's own error would win otherwise */
    const char *pw = NULL;
    struct ei_error scratch = {0};
    if (h->opt_string(h, "password", &pw, &scratch) != 0)
        return h->error(h, err, EI_BADCONFIG, 0, "password",
                        "a password in the configuration is refused: use "
                        "password_file or password_env");
    if (h->opt_string(h, "username", &st->username, err) < 0 ||
        h->opt_path(h, "password_file", &st->password_file, err) < 0 ||
        h->opt_string(h, "password_env", &st->password_env, err) < 0)
        return ei_error_status(err, EI_BADCONFIG);
    if (st->username == NULL) {
        if (st->password_file != NULL || st->password_env != NULL)
            return h->error(
                h, err, EI_BADCONFIG, 0,
                st->password_file != NULL ? "password_file" : "password_env",
                "%s needs username",
                st->password_file != NULL ? "password_file" : "password_env");
        return EI_OK;
    }
    size_t ulen = strlen(st->username);
    bool ok = ulen > 0 && ulen <= ETCD_NAME_MAX, bad = false;
    for (size_t i = 0; ok && i < ulen; i++) {
        unsigned char c = (unsigned char)st->username[i];
        ok = c >= 0x20 && c != 0x7f;
    }
    if (!ok)
        return h->error(h, err, EI_BADCONFIG, 0, "username",
                        "username must be 1 to %d bytes without control "
                        "characters",
                        ETCD_NAME_MAX);
    json_t *probe = etcd_json_str(st->username, ulen, &bad);
    json_decref(probe);
    if (bad)
        return h->error(h, err, EI_BADCONFIG, 0, "username",
                        "username is not valid UTF-8");
    if ((st->password_file != NULL) == (st->password_env != NULL))
        return h->error(h, err, EI_BADCONFIG, 0, "username",
                        "username needs exactly one of password_file and "
                        "password_env");
    if (st->password_file != NULL && st->password_file[0] == '\0')
        return h->error(h, err, EI_BADCONFIG, 0, "password_file",
                        "password_file must not be empty");
    if (st->password_env != NULL) {
        if (!etcd_env_name_valid(st->password_env))
            return h->error(h, err, EI_BADCONFIG, 0, "password_env",
                            "password_env must be a variable name "
                            "([A-Za-z_][A-Za-z0-9_]*)");
        /* fail before any I/O; the value itself is read by fetch */
        const char *v = h->env_get(h, st->password_env);
        if (v == NULL || v[0] == '\0')
            return h->error(h, err, EI_BADCONFIG, 0, "password_env",
                            "password_env names %s, which is not set",
                            st->password_env);
    }
    return EI_OK;
}

static enum ei_status etcd_configure(const struct ei_host *host, void **statep,
                                     struct ei_error *err)
{
    enum ei_status host_ok = EI_HOST_REQUIRE_HTTP(host, err);
    if (host_ok == EI_OK)
        host_ok = EI_HOST_REQUIRE(host, safe_text, err);
    if (host_ok != EI_OK)
        return host_ok;
    struct etcd_state *st = calloc(1, sizeof *st);
    if (st == NULL)
        return host->error(host, err, EI_NOMEM, 0, NULL, "out of memory");
    st->host = host;
    pthread_mutex_init(&st->lock, NULL);

    enum ei_status status = etcd_endpoints(st, err);
    if (status != EI_OK)
        goto fail;
    const char *prefix = NULL;
    int r = host->opt_string(host, "prefix", &prefix, err);
    if (r < 0) {
        status = ei_error_status(err, EI_BADCONFIG);
        goto fail;
    }
    /* a layer made for references reads single keys: no prefix */
    if (r == 0 && EI_HOST_HAS(host, references_only) &&
        host->references_only(host)) {
        prefix = "";
        r = 1;
    } else if (r == 0 || prefix[0] == '\0') {
        status = host->error(host, err, EI_BADCONFIG, 0, "prefix",
                             "prefix is required (the etcd key prefix, such "
                             "as \"/app/${env}/\")");
        goto fail;
    }
    st->prefix_len = strlen(prefix);
    st->prefix = malloc(st->prefix_len + 1);
    st->range_end = malloc(st->prefix_len + 1);
    if (st->prefix == NULL || st->range_end == NULL) {
        status = host->error(host, err, EI_NOMEM, 0, NULL, "out of memory");
        goto fail;
    }
    memcpy(st->prefix, prefix, st->prefix_len + 1);
    st->range_end_len =
        etcd_prefix_end(st->prefix, st->prefix_len, st->range_end);

    const char *api = NULL;
    if (host->opt_string(host, "api", &api, err) < 0) {
        status = ei_error_status(err, EI_BADCONFIG);
        goto fail;
    }
    st->wire = &etcd_wire_json;
    if (api != NULL && strcmp(api, etcd_wire_grpc.api) == 0)
        st->wire = &etcd_wire_grpc;
    else if (api != NULL && strcmp(api, etcd_wire_json.api) != 0) {
        char shown[ETCD_SHOW_MAX + EI_TEXT_EXTRA];
        etcd_show(host, shown, sizeof(shown), api, strlen(api));
        status =
            host->error(host, err, EI_BADCONFIG, 0, "api",
                        "api must be \"json\" or \"grpc\", not '%s'", shown);
        goto fail;
    }
    if (host->opt_bool(host, "serializable", &st->serializable, err) < 0 ||
        (r = host->opt_int(host, "page_size", &st->page_size, err)) < 0) {
        status = ei_error_status(err, EI_BADCONFIG);
        goto fail;
    }
    st->page_fixed = r > 0;
    if (!st->page_fixed)
        st->page_size = st->wire->page_default;
    long long page_max = st->wire->page_max;
    if (st->page_size < 1 || st->page_size > page_max) {
        status = host->error(host, err, EI_BADCONFIG, 0, "page_size",
                             "page_size must be from 1 to %lld", page_max);
        goto fail;
    }
    status = etcd_auth_options(st, err);
    if (status != EI_OK)
        goto fail;
    status = host->http_open(host, (const char *const *)st->endpoints,
                             st->endpoints_n, &st->http, err);
    if (status != EI_OK) {
        st->http = NULL;
        goto fail;
    }
    /* the watch mode's stream runs in a thread of its own, with a client
       of its own, opened now (no I/O; the layer's list of clients is not
       for threads); a host as old as its missing http_header has no
       streams either, and the layer is polled there */
    if (EI_HOST_HAS(host, http_header)) {
        status = host->http_open(host, (const char *const *)st->endpoints,
                                 st->endpoints_n, &st->wait_http, err);
        if (status != EI_OK) {
            st->wait_http = NULL;
            goto fail;
        }
    }
    *statep = st;
    return EI_OK;
fail:
    etcd_state_free(st);
    return status;
}

/* --- fetch --- */

/* Grow a plain buffer to at least need bytes. */
int etcd_grow(char **p, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap != 0 ? *cap : 64;
    while (ncap < need)
        ncap *= 2;
    char *grown = realloc(*p, ncap);
    if (grown == NULL)
        return -1;
    *p = grown;
    *cap = ncap;
    return 0;
}

/* Grow the secret value buffer; its old content is not kept. */
int etcd_grow_secret(struct etcd_run *run, size_t need)
{
    if (need <= run->val_cap)
        return 0;
    size_t ncap = run->val_cap != 0 ? run->val_cap : 256;
    while (ncap < need)
        ncap *= 2;
    if (run->val != NULL)
        run->host->secret_free(run->host, run->val, run->val_cap);
    run->val_cap = 0;
    run->val = run->host->secret_alloc(run->host, ncap);
    if (run->val == NULL)
        return -1;
    run->val_cap = ncap;
    return 0;
}

static void etcd_drop_auth(struct etcd_run *run)
{
    if (run->auth != NULL)
        run->host->secret_free(run->host, run->auth, run->auth_size);
    run->auth = NULL;
    run->auth_size = 0;
}

static void etcd_run_fini(struct etcd_run *run)
{
    etcd_drop_auth(run);
    if (run->val != NULL)
        run->host->secret_free(run->host, run->val, run->val_cap);
    /* keys are not secret, but a key's neighbour in a buffer may be */
    free(run->start);
    free(run->key);
    free(run->segbuf);
    free(run->seg);
    free(run->loc);
    free(run->page.kvs);
}

const char *etcd_member(const struct ei_http_response *resp)
{
    return resp->endpoint != NULL ? resp->endpoint : "?";
}

/*
 * A message is shown only when it does not carry the token back: a server
 * (or a proxy) that echoes the request would otherwise put a credential
 * into the error line.
 */
void etcd_fault_text(const struct etcd_run *run, struct etcd_fault *f,
                     const char *m, size_t mlen)
{
    const char *tok =
        run->auth != NULL ? run->auth + strlen(ETCD_AUTH_HEADER) : NULL;
    if (tok != NULL && memmem(m, mlen, tok, strlen(tok)) != NULL)
        return;
    etcd_show(run->host, f->msg, sizeof(f->msg), m, mlen);
    f->has_msg = true;
}

static void etcd_fault_parse(const struct etcd_run *run,
                             const struct ei_http_response *resp,
                             struct etcd_fault *f)
{
    f->code = -1;
    f->msg[0] = '\0';
    f->has_msg = false;
    run->st->wire->fault(run, resp, f);
}

static bool etcd_fault_says(const struct etcd_fault *f, const char *what)
{
    return f->has_msg && strstr(f->msg, what) != NULL;
}

/* Whether a read failed for want of a fresh token (as clientv3 judges). */
static bool etcd_token_stale(const struct etcd_run *run,
                             const struct ei_http_response *resp)
{
    if (resp->status == HTTP_UNAUTHORIZED)
        return true;
    if (resp->status != HTTP_BAD_REQUEST)
        return false;
    struct etcd_fault f;
    etcd_fault_parse(run, resp, &f);
    return f.code == GRPC_INVALID_ARGUMENT &&
           etcd_fault_says(&f, "revision of auth store is old");
}

/* Judge a response other than 200 to a range or authenticate request. */
static enum ei_status etcd_http_fail(struct etcd_run *run,
                                     const struct ei_http_response *resp,
                                     const char *path, struct ei_error *err)
{
    const struct ei_host *h = run->host;
    const struct etcd_state *st = run->st;
    const char *member = etcd_member(resp);
    const struct etcd_wire *w = st->wire;
    bool auth_req = strcmp(path, w->auth_path) == 0;
    struct etcd_fault f;
    etcd_fault_parse(run, resp, &f);
    char user[ETCD_SHOW_MAX + EI_TEXT_EXTRA] = "";
    if (st->username != NULL)
        etcd_show(h, user, sizeof(user), st->username,
                  strlen(st->username));
    char why[ETCD_SHOW_MAX + 32] = "";
    if (f.has_msg && !auth_req)
        snprintf(why, sizeof(why), ": %s", f.msg);
    long s = resp->status;
    /* what the server said, in its own terms */
    char said[32];
    if (w->code_is_status && resp->grpc_status > 0)
        snprintf(said, sizeof(said), "gRPC %d", resp->grpc_status);
    else
        snprintf(said, sizeof(said), "HTTP %ld", s);

    if (s == HTTP_BAD_REQUEST && f.code < 0 && resp->body != NULL &&
        memmem(resp->body, resp->body_len, ETCD_CN_REFUSED,
               strlen(ETCD_CN_REFUSED)) != NULL)
        return h->error(h, err, EI_DENIED, 0, member,
                        "with authentication on, the gateway refuses client "
                        "certificates that have a Common Name: use one "
                        "with an empty subject and the name in the SAN");
    if (auth_req && (s == HTTP_UNAUTHORIZED || s == HTTP_FORBIDDEN ||
                     (s == HTTP_BAD_REQUEST &&
                      (f.code == GRPC_INVALID_ARGUMENT ||
                       etcd_fault_says(&f, "authentication failed")))))
        return h->error(h, err, EI_DENIED, 0, member,
                        "authentication failed for user '%s' (%s): "
                        "wrong user name or password",
                        user, said);
    if (s == HTTP_UNAUTHORIZED || f.code == GRPC_UNAUTHENTICATED) {
        if (st->username != NULL)
            return h->error(h, err, EI_DENIED, 0, member,
                            "token of user '%s' rejected again after "
                            "re-authenticating (%s)%s",
                            user, said, why);
        return h->error(h, err, EI_DENIED, 0, member,
                        "the server requires authentication (%s): set "
                        "username and password_file or password_env",
                        said);
    }
    if (s == HTTP_FORBIDDEN || f.code == GRPC_PERMISSION_DENIED)
        return h->error(h, err, EI_DENIED, 0, member,
                        "permission denied%s%s%s reading prefix %s (%s)",
                        st->username != NULL ? " to user '" : "", user,
                        st->username != NULL ? "'" : "", st->prefix, said);
    if (s == HTTP_BAD_REQUEST && etcd_fault_says(&f, "user name is empty"))
        return h->error(h, err, EI_DENIED, 0, member,
                        "the server requires authentication (%s): set "
                        "username and password_file or password_env",
                        said);
    if (s == HTTP_BAD_REQUEST && f.code == GRPC_OUT_OF_RANGE)
        /* compacted between two pages, or a lagging member asked for a
           revision it has not reached: a later run will do */
        return h->error(h, err, EI_UNAVAILABLE, 0, member,
                        "revision %lld is not readable on this member "
                        "(%s)%s",
                        run->revision, said, why);
    /* a 501 or Unimplemented will not heal: the engine does not retry it */
    if (s == HTTP_NOT_FOUND || s == HTTP_BAD_METHOD ||
        s == HTTP_NOT_IMPLEMENTED ||
        (w->code_is_status && f.code == GRPC_UNIMPLEMENTED))
        return h->error(h, err, EI_BADDATA, 0, member,
                        "not an etcd v3 %s (%s for %s)", w->server, said, path);
    if (s == HTTP_REQUEST_TIMEOUT || s == HTTP_TOO_MANY_REQUESTS ||
        (s >= HTTP_SERVER_ERROR && s < HTTP_STATUS_END))
        return h->error(h, err, EI_UNAVAILABLE, 0, member,
                        "server error (%s)%s", said, why);
    /* over gRPC, said already names the code */
    if (w->code_is_status && f.code >= 0)
        return h->error(h, err, EI_BADDATA, 0, member,
                        "request rejected (%s)%s", said, why);
    if (f.code >= 0)
        return h->error(h, err, EI_BADDATA, 0, member,
                        "request rejected (%s, gRPC code %lld)%s", said, f.code,
                        why);
    return h->error(h, err, EI_BADDATA, 0, member,
                    "unexpected response (%s, %zu bytes) to %s", said,
                    resp->body_len, path);
}

/* One POST with the token, if any. */
/* The client of a run: the layer's, or the watch thread's own. */
static struct ei_http *etcd_client(const struct etcd_run *run)
{
    return run->http != NULL ? run->http : run->st->http;
}

static enum ei_status etcd_post(struct etcd_run *run, const char *path,
                                const char *body, size_t body_len,
                                unsigned flags, struct ei_http_response *resp,
                                struct ei_error *err)
{
    const char *headers[2];
    size_t n = 0;
    if (run->auth != NULL)
        headers[n++] = run->auth;
    headers[n] = NULL;
    struct ei_http_request req = {
        .method = "POST",
        .path = path,
        .headers = headers,
        .body = body,
        .body_len = body_len,
        .flags = flags | run->st->wire->http_flags,
    };
    memset(resp, 0, sizeof(*resp));
    return run->host->http_request(etcd_client(run), &req, run->dl, resp,
                                   err);
}

/* The password from its file or variable, in secret memory. */
static enum ei_status etcd_password(struct etcd_run *run, struct ei_buf *buf,
                                    const char **pw, size_t *pw_len,
                                    struct ei_error *err)
{
    const struct ei_host *h = run->host;
    const struct etcd_state *st = run->st;
    if (st->password_env != NULL) {
        const char *v = h->env_get(h, st->password_env);
        if (v == NULL || v[0] == '\0')
            return h->error(h, err, EI_BADCONFIG, 0, "password_env",
                            "password_env names %s, which is not set",
                            st->password_env);
        *pw = v;
        *pw_len = strlen(v);
        return EI_OK;
    }
    struct ei_error rerr = {0};
    enum ei_status status = h->read_file(
        h, st->password_file, EI_READ_PRIVATE | EI_READ_SECRET, buf, &rerr);
    if (status != EI_OK) {
        /* a missing password file is no missing source: an optional
           layer must not be skipped silently for it */
        if (status == EI_NOTFOUND)
            status = EI_IOERROR;
        return h->error(h, err, status, rerr.errnum, st->password_file,
                        "password_file: %s",
                        rerr.text[0] != '\0' ? rerr.text : "cannot read");
    }
    size_t len = buf->len;
    while (len > 0 &&
           (buf->data[len - 1] == '\n' || buf->data[len - 1] == '\r'))
        len--;
    if (len == 0) {
        h->buf_free(h, buf);
        return h->error(h, err, EI_BADCONFIG, 0, st->password_file,
                        "password_file is empty");
    }
    *pw = buf->data;
    *pw_len = len;
    return EI_OK;
}

/*
 * The request body in secret memory.  Both wires refuse a password that
 * is no UTF-8, as etcd's JSON decoder would; the user name was checked by
 * configure.
 */
static enum ei_status etcd_auth_body(struct etcd_run *run, const char *pw,
                                     size_t pw_len, char **body,
                                     size_t *body_size, struct ei_error *err)
{
    const struct ei_host *h = run->host;
    const struct etcd_state *st = run->st;
    bool bad = false;
    json_t *probe = etcd_json_str(pw, pw_len, &bad);
    json_decref(probe);
    if (bad)
        return h->error(h, err, EI_BADCONFIG, 0,
                        st->password_file != NULL ? st->password_file
                                                  : st->password_env,
                        "the password is not valid UTF-8 (%zu bytes)", pw_len);
    if (probe == NULL)
        return h->error(h, err, EI_NOMEM, 0, NULL, "out of memory");
    return st->wire->auth_body(run, pw, pw_len, body, body_size, err);
}

/* Keep the token of an authenticate response as the header to send. */
enum ei_status etcd_keep_token(struct etcd_run *run,
                               const struct ei_http_response *resp,
                               const char *t, size_t len, struct ei_error *err)
{
    const struct ei_host *h = run->host;
    bool ok = len > 0 && len <= ETCD_TOKEN_MAX;
    for (size_t i = 0; ok && i < len; i++)
        ok = t[i] > 0x20 && t[i] < 0x7f;
    if (!ok)
        /* it goes into a header line: no blanks, no line breaks */
        return h->error(h, err, EI_BADDATA, 0, etcd_member(resp),
                        "authenticate: the token is not 1 to %d printable "
                        "characters (%zu bytes)",
                        ETCD_TOKEN_MAX, len);
    etcd_drop_auth(run);
    size_t size = strlen(ETCD_AUTH_HEADER) + len + 1;
    run->auth = h->secret_alloc(h, size);
    if (run->auth == NULL)
        return h->error(h, err, EI_NOMEM, 0, NULL, "out of memory");
    run->auth_size = size;
    memcpy(run->auth, ETCD_AUTH_HEADER, strlen(ETCD_AUTH_HEADER));
    memcpy(run->auth + strlen(ETCD_AUTH_HEADER), t, len);
    run->auth[size - 1] = '\0';
    return EI_OK;
}

static enum ei_status etcd_authenticate(struct etcd_run *run,
                                        struct ei_error *err)
{
    const struct ei_host *h = run->host;
    struct ei_buf buf = {0};
    const char *pw = NULL;
    size_t pw_len = 0;
    enum ei_status status = etcd_password(run, &buf, &pw, &pw_len, err);
    if (status != EI_OK)
        return status;
    char *body = NULL;
    size_t body_size = 0;
    status = etcd_auth_body(run, pw, pw_len, &body, &body_size, err);
    if (buf.data != NULL)
        h->buf_free(h, &buf);
    if (status != EI_OK)
        return status;
    /* a login is not retried blindly, and no old token goes with it */
    etcd_drop_auth(run);
    struct ei_http_response resp;
    const char *path = run->st->wire->auth_path;
    status = etcd_post(run, path, body, body_size - 1,
                       EI_HTTP_SECRET | EI_HTTP_SECRET_BODY | EI_HTTP_NORETRY,
                       &resp, err);
    h->secret_free(h, body, body_size);
    if (status != EI_OK) {
        h->http_response_free(etcd_client(run), &resp);
        return status;
    }
    if (resp.status == HTTP_OK) {
        status = run->st->wire->token(run, &resp, err);
    } else {
        struct etcd_fault f;
        etcd_fault_parse(run, &resp, &f);
        if (resp.status == HTTP_BAD_REQUEST &&
            f.code == GRPC_FAILED_PRECONDITION &&
            etcd_fault_says(&f, "authentication is not enabled"))
            /* as clientv3 does: the cluster does not check users, so
               reading without a token is what it expects */
            h->log(h, EI_LOG_INFO,
                   "%s: authentication is not enabled; reading without a "
                   "token",
                   etcd_member(&resp));
        else
            status = etcd_http_fail(run, &resp, path, err);
    }
    h->http_response_free(etcd_client(run), &resp);
    return status;
}

/* The request of the next page: from the prefix, then after the last key
   seen, at the revision of the first page. */
static enum ei_status etcd_range_body(struct etcd_run *run, char **body,
                                      size_t *body_len, struct ei_error *err)
{
    const struct etcd_state *st = run->st;
    const char *start = run->have_prev ? run->start : st->prefix;
    size_t start_len = run->have_prev ? run->start_len : st->prefix_len;
    return st->wire->range_body(run, start, start_len, body, body_len, err);
}

/* Whether a is before b in etcd's order (bytewise, shorter first). */
static bool etcd_key_less(const char *a, size_t alen, const char *b,
                          size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = memcmp(a, b, n);
    return c < 0 || (c == 0 && alen < blen);
}

/* "/app/prod/db/host@42 (http://10.0.0.1:2379)", control bytes as '?'. */
static int etcd_locator(struct etcd_run *run, const char *key, size_t len,
                        long long mod_rev, const char *member)
{
    size_t shown = len < ETCD_LOC_KEY_MAX ? len : ETCD_LOC_KEY_MAX;
    size_t need = shown + EI_TEXT_EXTRA + strlen(member) + ETCD_LOC_EXTRA;
    if (etcd_grow(&run->loc, &run->loc_cap, need) < 0)
        return -1;
    run->host->safe_text(run->host, run->loc, ETCD_LOC_KEY_MAX + EI_TEXT_EXTRA,
                         key, len, 0);
    size_t used = strlen(run->loc);
    snprintf(run->loc + used, run->loc_cap - used, "@%lld (%s)", mod_rev,
             member);
    return 0;
}

/* Split the key below the prefix on '/'; 0 segments when nothing is left. */
static int etcd_segments(struct etcd_run *run, const char *rest, size_t len,
                         size_t *n)
{
    *n = 0;
    if (etcd_grow(&run->segbuf, &run->segbuf_cap, len + 1) < 0)
        return -1;
    memcpy(run->segbuf, rest, len);
    run->segbuf[len] = '\0';
    size_t i = 0;
    while (i < len) {
        if (run->segbuf[i] == '/') {
            run->segbuf[i++] = '\0';
            continue;
        }
        if (*n == run->seg_cap) {
            size_t cap = run->seg_cap != 0 ? run->seg_cap * 2 : 8;
            const char **grown = realloc(run->seg, cap * sizeof *grown);
            if (grown == NULL)
                return -1;
            run->seg = grown;
            run->seg_cap = cap;
        }
        run->seg[(*n)++] = run->segbuf + i;
        while (i < len && run->segbuf[i] != '/')
            i++;
    }
    return 0;
}

/*
 * The checks of one key, from either API, before its value is looked at:
 * *seg_n gets its name's segments (in run->seg; 0: no name below the
 * prefix, skipped) and run->loc its locator.  mod_rev is -1 when the
 * response had no valid revision for it.
 */
enum ei_status etcd_kv_key(struct etcd_run *run, const char *key, size_t klen,
                           long long mod_rev, size_t idx, const char *member,
                           size_t *seg_n, struct ei_error *err)
{
    const struct ei_host *h = run->host;
    const struct etcd_state *st = run->st;
    *seg_n = 0;
    if (klen == 0)
        return h->error(h, err, EI_BADDATA, 0, member,
                        "range: kvs[%zu] has no key", idx);
    if (etcd_locator(run, key, klen, mod_rev < 0 ? 0 : mod_rev, member) < 0)
        return h->error(h, err, EI_NOMEM, 0, NULL, "out of memory");
    if (mod_rev < 0)
        return h->error(h, err, EI_BADDATA, 0, run->loc,
                        "range: kvs[%zu].mod_revision is not a revision", idx);

    /* a server that repeats or goes back could make pagination endless */
    if (klen < st->prefix_len || memcmp(key, st->prefix, st->prefix_len) != 0)
        return h->error(h, err, EI_BADDATA, 0, run->loc,
                        "range: key outside the prefix %s", st->prefix);
    if (run->have_prev && etcd_key_less(key, klen, run->start, run->start_len))
        return h->error(h, err, EI_BADDATA, 0, run->loc,
                        "range: keys out of order or repeated");
    if (etcd_grow(&run->start, &run->start_cap, klen + 1) < 0)
        return h->error(h, err, EI_NOMEM, 0, NULL, "out of memory");
    memcpy(run->start, key, klen);
    run->start[klen] = '\0';
    run->start_len = klen + 1;
    run->have_prev = true;

    const char *nul = memchr(key, '\0', klen);
    if (nul != NULL)
        return h->error(h, err, EI_BADDATA, 0, run->loc,
                        "the key holds a NUL byte at offset %zu",
                        (size_t)(nul - key));
    if (etcd_segments(run, key + st->prefix_len, klen - st->prefix_len, seg_n) <
        0)
        return h->error(h, err, EI_NOMEM, 0, NULL, "out of memory");
    /* the key of a reference is the whole "prefix" */
    if (*seg_n == 0 && run->whole_key &&
        etcd_segments(run, "value", strlen("value"), seg_n) < 0)
        return h->error(h, err, EI_NOMEM, 0, NULL, "out of memory");
    if (*seg_n == 0)
        h->log(h, EI_LOG_DEBUG, "%s: skipped: no name below the prefix",
               run->loc);
    return EI_OK;
}

/* Emit the value of the key that etcd_kv_key has just checked. */
enum ei_status etcd_kv_emit(struct etcd_run *run, size_t seg_n, const char *val,
                            size_t vlen, struct ei_error *err)
{
    const struct ei_host *h = run->host;
    const char *vnul = memchr(val, '\0', vlen);
    if (vnul != NULL)
        return h->error(h, err, EI_BADDATA, 0, run->loc,
                        "the value holds a NUL byte at offset %zu (%zu bytes)",
                        (size_t)(vnul - val), vlen);
    if (run->sink->emit(run->sink, run->seg, seg_n, val, vlen, run->loc, 0,
                        err) != 0)
        return ei_error_status(err, EI_INTERNAL);
    run->keys++;
    return EI_OK;
}

/* One decoded key-value, from either API: checked and emitted. */
enum ei_status etcd_kv(struct etcd_run *run, const char *key, size_t klen,
                       const char *val, size_t vlen, long long mod_rev,
                       size_t idx, const char *member, struct ei_error *err)
{
    size_t seg_n = 0;
    enum ei_status status =
        etcd_kv_key(run, key, klen, mod_rev, idx, member, &seg_n, err);
    if (status != EI_OK || seg_n == 0)
        return status;
    return etcd_kv_emit(run, seg_n, val, vlen, err);
}

/* Request and read one page; a token that expired is renewed once. */
static enum ei_status etcd_range(struct etcd_run *run, bool *more,
                                 const char **member, struct ei_error *err)
{
    const struct ei_host *h = run->host;
    char *body = NULL;
    size_t body_len = 0;
    const char *path = run->st->wire->range_path;
    enum ei_status status = etcd_range_body(run, &body, &body_len, err);
    if (status != EI_OK)
        return status;
    struct ei_http_response resp;
    for (;;) {
        status =
            etcd_post(run, path, body, body_len, EI_HTTP_SECRET, &resp, err);
        /* a page larger than max_response_size is asked for again, half
           as large, unless the user chose page_size */
        if (status == EI_BADDATA && err != NULL && err->errnum == EFBIG &&
            !run->st->page_fixed && run->limit > 1) {
            run->limit_cap = run->limit / 2;
            run->limit = run->limit_cap;
            h->log(h, EI_LOG_DEBUG,
                   "%s: page larger than max_response_size; asking for "
                   "%lld keys",
                   run->st->prefix, run->limit);
            memset(err, 0, sizeof(*err));
            free(body);
            body = NULL;
            status = etcd_range_body(run, &body, &body_len, err);
            if (status != EI_OK)
                return status;
            continue;
        }
        if (status != EI_OK)
            break;
        /* simple tokens expire after --auth-token-ttl without use, and a
           token older than a change of users or roles is refused */
        if (etcd_token_stale(run, &resp) && run->st->username != NULL &&
            !run->reauthed) {
            run->reauthed = true;
            h->log(h, EI_LOG_DEBUG, "%s: token rejected; authenticating again",
                   etcd_member(&resp));
            h->http_response_free(etcd_client(run), &resp);
            status = etcd_authenticate(run, err);
            if (status != EI_OK) {
                free(body);
                return status;
            }
            continue;
        }
        break;
    }
    if (status == EI_OK) {
        *member = etcd_member(&resp);
        if (resp.status != HTTP_OK)
            status = etcd_http_fail(run, &resp, path, err);
        else
            status = run->st->wire->page(run, &resp, more, err);
    }
    const struct etcd_wire *w = run->st->wire;
    long long max = w->page_max;
    if (run->limit_cap > 0 && run->limit_cap < max)
        max = run->limit_cap;
    if (status == EI_OK && *more && !run->st->page_fixed &&
        resp.body_len < w->grow_below)
        run->limit = run->limit * 2 < max ? run->limit * 2 : max;
    h->http_response_free(etcd_client(run), &resp);
    free(body);
    return status;
}

static enum ei_status etcd_fetch(void *state, struct ei_sink *sink,
                                 const struct ei_deadline *dl,
                                 struct ei_error *err)
{
    struct etcd_state *st = state;
    const struct ei_host *h = st->host;
    struct etcd_run run = {
        .st = st, .host = h, .dl = dl, .sink = sink, .limit = st->page_size};
    enum ei_status status = EI_OK;
    if (st->username != NULL)
        status = etcd_authenticate(&run, err);
    bool more = true;
    const char *member = NULL;
    while (status == EI_OK && more) {
        if (run.pages > 0 && dl != NULL && h->remaining_ms(h, dl) == 0) {
            status = h->error(h, err, EI_UNAVAILABLE, 0, st->prefix,
                              "timed out after %zu keys in %zu pages", run.keys,
                              run.pages);
            break;
        }
        more = false;
        status = etcd_range(&run, &more, &member, err);
        run.pages++;
    }
    if (status == EI_OK) {
        char text[32];
        st->revision = run.revision;
        /* the header revision of the first page: every page is read at it */
        snprintf(text, sizeof(text), "%lld", run.revision);
        ei_revision_report(h, text);
    }
    if (status == EI_OK)
        h->log(h, EI_LOG_DEBUG,
               "%s: %zu keys in %zu pages at revision %lld from %s", st->prefix,
               run.keys, run.pages, run.revision,
               member != NULL ? member : "?");
    etcd_run_fini(&run);
    return status;
}

/* --- references: ref+etcd://KEY --- */

/*
 * One key, named as it is stored: the text after "://" is the key, so
 * "ref+etcd:///app/prod/db/password" is "/app/prod/db/password".  A Range
 * of that key alone, [KEY, KEY "\0"), through the layer's wire, endpoints
 * and authentication; the value as it is (the core picks a #fragment).
 * The lookup reads a copy of the state with the key as its prefix, so
 * that the state, which a watching thread may read, never changes.
 */
static enum ei_status etcd_lookup(void *state, const char *ref,
                                  struct ei_sink *sink,
                                  const struct ei_deadline *dl,
                                  struct ei_error *err)
{
    static const char head[] = "ref+etcd://";
    struct etcd_state *st = state;
    const struct ei_host *h = st->host;
    if (strncmp(ref, head, sizeof(head) - 1) != 0)
        return h->error(h, err, EI_BADDATA, 0, "reference",
                        "not a ref+etcd:// reference");
    const char *key = ref + sizeof(head) - 1;
    size_t klen = strlen(key);
    if (memchr(key, '?', klen) != NULL)
        return h->error(h, err, EI_BADDATA, 0, "reference",
                        "etcd references take no query parameters");
    if (klen == 0 || klen > ETCD_REF_KEY_MAX)
        return h->error(h, err, EI_BADDATA, 0, "reference",
                        "an etcd reference names one key (not empty, at "
                        "most %d bytes)",
                        ETCD_REF_KEY_MAX);
    char shown[ETCD_SHOW_MAX + EI_TEXT_EXTRA];
    etcd_show(h, shown, sizeof(shown), key, klen);
    char *end = malloc(klen + 1);
    char *prefix = strndup(key, klen);
    if (end == NULL || prefix == NULL) {
        free(end);
        free(prefix);
        return h->error(h, err, EI_NOMEM, 0, NULL, "out of memory");
    }
    memcpy(end, key, klen);
    end[klen] = '\0';
    struct etcd_state one = *st; /* its lock is never taken */
    one.prefix = prefix;
    one.prefix_len = klen;
    one.range_end = end;
    one.range_end_len = klen + 1;
    struct etcd_run run = {.st = &one,
                           .host = h,
                           .dl = dl,
                           .sink = sink,
                           .limit = 1,
                           .whole_key = true};
    enum ei_status status = EI_OK;
    if (st->username != NULL)
        status = etcd_authenticate(&run, err);
    bool more = false;
    const char *member = NULL;
    if (status == EI_OK)
        status = etcd_range(&run, &more, &member, err);
    if (status == EI_OK && run.keys == 0)
        status = h->error(h, err, EI_NOTFOUND, 0, shown, "no key %s", shown);
    etcd_run_fini(&run);
    free(end);
    free(prefix);
    return status;
}

static void etcd_destroy(void *state)
{
    etcd_state_free(state);
}

/* --- run --watch --- */

/* A watch stream from the revision of the last read on, through either
   wire: the JSON gateway's chunked lines or a gRPC stream of framed
   WatchResponses (protocols-azure-yaml-watch.md 5.2). */
static enum ei_watch_kind etcd_watch(void *state, const char *const **paths,
                                     int64_t *poll_ms)
{
    struct etcd_state *st = state;
    (void)paths;
    (void)poll_ms;
    if (st->wait_http == NULL || st->revision <= 0)
        return EI_WATCH_POLL;
    pthread_mutex_lock(&st->lock);
    st->watch_rev = st->revision;
    st->watch_gen++;
    pthread_mutex_unlock(&st->lock);
    return EI_WATCH_BLOCKING;
}

void etcd_watch_fail(struct etcd_watching *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(w->why, sizeof(w->why), fmt, ap);
    va_end(ap);
    if (n < 0)
        w->why[0] = '\0';
    w->failed = true;
}

/*
 * What a message means for the wait, whichever wire brought it: true to
 * end the stream (a change, or a failure).  A change is what etcd says
 * changed under the prefix: a key written again with the same value
 * counts (the core's comparison then finds nothing to do), a key
 * outside does not.
 */
bool etcd_watch_judge(struct etcd_watching *w, const struct etcd_watch_msg *m)
{
    const struct ei_host *h = w->st->host;
    char reason[sizeof(w->why)] = "no reason given";
    if (m->reason != NULL && m->reason_len > 0)
        h->safe_text(h, reason, sizeof(reason), m->reason, m->reason_len, 0);
    if (m->error) {
        etcd_watch_fail(w, "%s", reason);
        return true;
    }
    if (m->compact_revision > 0) {
        /* compacted past where the watch starts: read everything again,
           and watch from what is left */
        w->changed = true;
        if (m->compact_revision > w->next_rev)
            w->next_rev = m->compact_revision;
        h->log(h, EI_LOG_INFO,
               "the watch was cancelled (compacted to revision %lld): "
               "reading again",
               m->compact_revision);
        return true;
    }
    if (m->canceled) {
        /* cancelled for another reason (permission denied, a watch the
           server refused): a failure, retried with back-off, not a change
           to read again at once, again and again */
        etcd_watch_fail(w, "the watch was cancelled (%s)", reason);
        return true;
    }
    if (m->events == 0)
        return false; /* created, or a progress report */
    /* the next watch starts after the last event: one without a valid
       revision would have it start anywhere */
    if (m->min_mod <= 0 || m->max_mod == LLONG_MAX) {
        etcd_watch_fail(w, "a watch event has no valid mod_revision");
        return true;
    }
    if (m->max_mod >= w->next_rev)
        w->next_rev = m->max_mod + 1;
    w->changed = true;
    return true;
}

/* Room for need bytes; the old buffer is wiped, not left to realloc (a
   message holds the values of the keys that changed). */
int etcd_watch_reserve(struct etcd_watching *w, size_t need)
{
    if (need <= w->cap)
        return 0;
    size_t ncap = w->cap != 0 ? w->cap : ETCD_WATCH_BUF_FIRST;
    while (ncap < need)
        ncap *= 2;
    char *p = malloc(ncap);
    if (p == NULL)
        return -1;
    if (w->buf != NULL) {
        memcpy(p, w->buf, w->len);
        sodium_memzero(w->buf, w->cap);
        free(w->buf);
    }
    w->buf = p;
    w->cap = ncap;
    return 0;
}

/*
 * One watch stream, until it reports a change or the deadline is near.
 * The request is sent whole, the watch's one WatchRequest, and the
 * answer read as it comes: etcd keeps a watch of a stream whose client
 * has said all it had to say (3.4's recvLoop ends quietly there), so a
 * bidirectional gRPC call needs no more than a request body here.
 */
static enum ei_status etcd_wait_change(void *state,
                                       const struct ei_deadline *dl,
                                       bool *changed, struct ei_error *err)
{
    struct etcd_state *st = state;
    const struct ei_host *h = st->host;
    const struct etcd_wire *wire = st->wire;
    *changed = false;
    pthread_mutex_lock(&st->lock);
    if (st->wait_gen != st->watch_gen) {
        st->wait_gen = st->watch_gen;
        if (st->watch_rev + 1 > st->wait_rev)
            st->wait_rev = st->watch_rev + 1;
    }
    pthread_mutex_unlock(&st->lock);
    struct etcd_run run = {
        .st = st, .host = h, .dl = dl, .http = st->wait_http};
    enum ei_status status = EI_OK;
    if (st->username != NULL)
        status = etcd_authenticate(&run, err);
    char *body = NULL;
    size_t body_len = 0;
    if (status == EI_OK)
        status = wire->watch_body(&run, st->wait_rev, &body, &body_len, err);
    struct etcd_watching w = {.st = st, .next_rev = st->wait_rev};
    if (status == EI_OK) {
        const char *headers[2] = {run.auth, NULL};
        struct ei_http_request req = {
            .method = "POST",
            .path = wire->watch_path,
            .headers = headers,
            .body = body,
            .body_len = body_len,
            .flags = EI_HTTP_STREAM | EI_HTTP_NORETRY | wire->http_flags,
            .on_data = wire->watch_data,
            .on_data_ctx = &w,
        };
        struct ei_http_response resp;
        memset(&resp, 0, sizeof(resp));
        status = h->http_request(st->wait_http, &req, dl, &resp, err);
        /* a change ends the stream before any status that could follow
           it (gRPC's comes last, in the trailers) */
        if (status == EI_OK && !w.changed && resp.status != HTTP_OK)
            status = etcd_http_fail(&run, &resp, wire->watch_path, err);
        else if (status == EI_OK && w.failed)
            status = h->error(h, err, EI_UNAVAILABLE, 0, etcd_member(&resp),
                              "watch: %s", w.why);
        h->http_response_free(st->wait_http, &resp);
    }
    if (status == EI_OK) {
        st->wait_rev = w.next_rev;
        *changed = w.changed;
    }
    free(body);
    if (w.buf != NULL) {
        sodium_memzero(w.buf, w.cap);
        free(w.buf);
    }
    etcd_run_fini(&run);
    return status;
}

EI_PROVIDER_DEFINE(etcd) = {
    .abi = EI_PROVIDER_ABI,
    .size = sizeof(struct ei_provider),
    .name = "etcd",
    .summary = "etcd v3 keys under a prefix, through the JSON gateway or gRPC",
    .arg_option = "endpoints",
    .flags = EI_PROV_REMOTE | EI_PROV_INTERP | EI_PROV_OWN_PREFIX,
    .configure = etcd_configure,
    .fetch = etcd_fetch,
    .lookup = etcd_lookup,
    .destroy = etcd_destroy,
    .env_consumed = NULL,
    .watch = etcd_watch,
    .wait_change = etcd_wait_change,
};
