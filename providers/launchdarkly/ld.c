/* SPDX-License-Identifier: MIT */
/* The launchdarkly provider: LaunchDarkly's server-side data (GET
   /sdk/latest-all with the SDK key), every flag evaluated here for the
   context the layer describes, as the SDKs would, one key per flag. */
#include <errno.h>
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
#include "../common/sha1.h"
#include "eval.h"

#define LD_BASE_DEFAULT   "https://sdk.launchdarkly.com"
#define LD_PATH           "/sdk/latest-all"
#define LD_PREFIX_DEFAULT "FF_"
#define LD_AUTH_HEADER    "Authorization: "
#define LD_INM_HEADER     "If-None-Match: "
#define LD_KEY_MAX        1024
#define LD_PREFIX_MAX     128
/* an ETag kept for the next read, as the SDKs' HTTP cache does */
#define LD_ETAG_MAX 512
/* bytes of a flag key shown in messages and locators */
#define LD_SHOW_MAX 128

#define HTTP_OK           200
#define HTTP_NOT_MODIFIED 304
#define HTTP_UNAUTHORIZED 401
#define HTTP_FORBIDDEN    403
#define HTTP_NOT_FOUND    404

struct ld_state {
    /* the SHA-256 of the last latest-all answer read in full */
    char revision[EI_REVISION_SHA256_LEN];
    const struct ei_host *host;
    struct ei_http *http;
    const char *base;
    const char *key_file; /* the option, or NULL: LD_SDK_KEY */
    const char *prefix;
    bool optional;
    json_t *context;
    /* the last answer, for a later read that gets 304 Not Modified */
    struct ld_data *data;
    char etag[LD_ETAG_MAX];
};

/* ---- the context option ---- */

/* The context: the group's members as attributes (opt_json gives them
   with their types), kind "user" unless it says otherwise; "multi" takes
   a group per kind. */
static enum ei_status ld_context(struct ld_state *st, struct ei_error *err)
{
    const struct ei_host *h = st->host;
    const char *text = NULL;
    int r = h->opt_json(h, "context", &text, err);
    if (r < 0)
        return ei_error_status(err, EI_NOMEM);
    if (r == 0)
        return h->error(h, err, EI_BADCONFIG, 0, "context",
                        "context is required: a group with at least a key "
                        "(context = { key = \"user-1\"; };)");
    json_error_t je;
    st->context =
        json_loads(text, JSON_DECODE_INT_AS_REAL | JSON_DECODE_ANY, &je);
    if (st->context == NULL)
        return h->error(h, err, EI_NOMEM, ENOMEM, "context",
                        "cannot read the context option");
    if (!json_is_object(st->context))
        return h->error(h, err, EI_BADCONFIG, 0, "context",
                        "context must be a group (context = { key = "
                        "\"user-1\"; };)");
    if (json_object_get(st->context, "kind") == NULL &&
        json_object_set_new(st->context, "kind", json_string("user")) != 0)
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    /* the evaluator's own check: no I/O, no library loaded yet */
    char why[LD_WHY_LEN];
    if (ld_context_check(st->context, why, sizeof(why)) < 0)
        return h->error(h, err, EI_BADCONFIG, 0, "context", "%s", why);
    return EI_OK;
}

/* ---- options ---- */

static void ld_state_free(struct ld_state *st)
{
    if (st == NULL)
        return;
    if (st->http != NULL)
        st->host->http_close(st->http);
    json_decref(st->context);
    ld_data_free(st->data);
    free(st);
}

static enum ei_status ld_options(struct ld_state *st, struct ei_error *err)
{
    const struct ei_host *h = st->host;
    st->base = LD_BASE_DEFAULT;
    st->prefix = LD_PREFIX_DEFAULT;
    if (h->opt_string(h, "base_uri", &st->base, err) < 0 ||
        h->opt_string(h, "flag_prefix", &st->prefix, err) < 0 ||
        h->opt_path(h, "sdk_key_file", &st->key_file, err) < 0 ||
        h->opt_bool(h, "optional", &st->optional, err) < 0)
        return ei_error_status(err, EI_BADCONFIG);
    size_t plen = strlen(st->prefix);
    if (plen >= LD_PREFIX_MAX)
        return h->error(h, err, EI_BADCONFIG, 0, "flag_prefix",
                        "flag_prefix longer than %d bytes", LD_PREFIX_MAX - 1);
    for (size_t i = 0; i < plen; i++) {
        unsigned char c = (unsigned char)st->prefix[i];
        if (c < 0x20 || c == 0x7f)
            return h->error(h, err, EI_BADCONFIG, 0, "flag_prefix",
                            "flag_prefix has a control character");
    }
    if (strncmp(st->base, "https://", 8) != 0 &&
        strncmp(st->base, "http://", 7) != 0)
        return h->error(h, err, EI_BADCONFIG, 0, "base_uri",
                        "base_uri must start with https:// or http://");
    if (st->key_file == NULL) {
        const char *env = h->env_get(h, "LD_SDK_KEY");
        if (env == NULL || env[0] == '\0')
            return h->error(h, err, EI_BADCONFIG, 0, "sdk_key_file",
                            "no SDK key: set sdk_key_file or LD_SDK_KEY");
    }
    return EI_OK;
}

static enum ei_status ld_configure(const struct ei_host *host, void **statep,
                                   struct ei_error *err)
{
    *statep = NULL;
    enum ei_status s = EI_HOST_REQUIRE_HTTP(host, err);
    if (s == EI_OK)
        s = EI_HOST_REQUIRE(host, safe_text, err);
    if (s == EI_OK)
        s = EI_HOST_REQUIRE(host, http_header, err);
    if (s == EI_OK)
        s = EI_HOST_REQUIRE(host, opt_json, err);
    if (s != EI_OK)
        return s;
    struct ld_state *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return host->error(host, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    st->host = host;
    s = ld_options(st, err);
    if (s == EI_OK)
        s = ld_context(st, err);
    if (s == EI_OK) {
        s = host->http_open(host, &st->base, 1, &st->http, err);
        if (s != EI_OK)
            st->http = NULL;
    }
    if (s != EI_OK) {
        ld_state_free(st);
        return s;
    }
    *statep = st;
    return EI_OK;
}

/* ---- fetch ---- */

/* "Authorization: KEY" in secret memory: the key from the file or
   LD_SDK_KEY, a final line end and blanks dropped. */
static enum ei_status ld_auth_header(struct ld_state *st, char **out,
                                     size_t *out_size, struct ei_error *err)
{
    const struct ei_host *h = st->host;
    struct ei_buf buf = {0};
    const char *key;
    size_t len;
    const char *source = "LD_SDK_KEY";
    if (st->key_file != NULL) {
        struct ei_error rerr = {0};
        enum ei_status s = h->read_file(
            h, st->key_file, EI_READ_SECRET | EI_READ_PRIVATE, &buf, &rerr);
        if (s != EI_OK) {
            /* a missing key is no missing source: an optional layer
               must not be skipped silently for it */
            if (s == EI_NOTFOUND)
                s = EI_DENIED;
            return h->error(h, err, s, rerr.errnum, st->key_file,
                            "sdk_key_file: %s",
                            rerr.text[0] != '\0' ? rerr.text : "cannot read");
        }
        key = buf.data;
        len = buf.len;
        source = "sdk_key_file";
    } else {
        key = h->env_get(h, "LD_SDK_KEY");
        len = key != NULL ? strlen(key) : 0;
    }
    while (len > 0 && (key[len - 1] == '\n' || key[len - 1] == '\r' ||
                       key[len - 1] == ' ' || key[len - 1] == '\t'))
        len--;
    while (len > 0 && (key[0] == ' ' || key[0] == '\t')) {
        key++;
        len--;
    }
    enum ei_status s = EI_OK;
    if (len == 0)
        s = h->error(h, err, EI_DENIED, 0, source, "the SDK key is empty");
    else if (len >= LD_KEY_MAX)
        s = h->error(h, err, EI_DENIED, 0, source,
                     "the SDK key has %zu bytes, more than %d", len,
                     LD_KEY_MAX - 1);
    for (size_t i = 0; s == EI_OK && i < len; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c <= 0x20 || c >= 0x7f)
            s = h->error(h, err, EI_DENIED, 0, source,
                         "the SDK key has a character not allowed in a "
                         "header at offset %zu",
                         i);
    }
    if (s == EI_OK) {
        size_t size = strlen(LD_AUTH_HEADER) + len + 1;
        *out = h->secret_alloc(h, size);
        if (*out == NULL) {
            s = h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
        } else {
            *out_size = size;
            memcpy(*out, LD_AUTH_HEADER, strlen(LD_AUTH_HEADER));
            memcpy(*out + strlen(LD_AUTH_HEADER), key, len);
            (*out)[size - 1] = '\0';
        }
    }
    if (buf.data != NULL)
        h->buf_free(h, &buf);
    return s;
}

static enum ei_status ld_http_fail(struct ld_state *st,
                                   const struct ei_http_response *resp,
                                   struct ei_error *err)
{
    const struct ei_host *h = st->host;
    const char *where = resp->endpoint != NULL ? resp->endpoint : st->base;
    long code = resp->status;
    if (code == HTTP_UNAUTHORIZED || code == HTTP_FORBIDDEN)
        return h->error(h, err, EI_DENIED, 0, where,
                        "the SDK key was refused (HTTP %ld): check that it "
                        "is a server-side SDK key of this environment",
                        code);
    if (code == HTTP_NOT_FOUND)
        return h->error(h, err, EI_BADDATA, 0, where,
                        "no LaunchDarkly polling endpoint at %s (HTTP 404): "
                        "check base_uri",
                        LD_PATH);
    return h->error(h, err, EI_BADDATA, 0, where,
                    "unexpected response (HTTP %ld, %zu bytes)", code,
                    resp->body_len);
}

/* GET latest-all into st->data: a 304 keeps the data of the last read. */
static enum ei_status ld_poll(struct ld_state *st, const struct ei_deadline *dl,
                              struct ei_error *err)
{
    const struct ei_host *h = st->host;
    char *auth = NULL;
    size_t auth_size = 0;
    enum ei_status s = ld_auth_header(st, &auth, &auth_size, err);
    if (s != EI_OK)
        return s;
    char inm[sizeof(LD_INM_HEADER) + LD_ETAG_MAX];
    const char *headers[3] = {auth, NULL, NULL};
    if (st->data != NULL && st->etag[0] != '\0') {
        snprintf(inm, sizeof(inm), "%s%s", LD_INM_HEADER, st->etag);
        headers[1] = inm;
    }
    struct ei_http_request req = {
        .method = "GET",
        .path = LD_PATH,
        .headers = headers,
    };
    struct ei_http_response resp;
    memset(&resp, 0, sizeof(resp));
    s = h->http_request(st->http, &req, dl, &resp, err);
    h->secret_free(h, auth, auth_size);
    if (s != EI_OK)
        return s;
    const char *where = resp.endpoint != NULL ? resp.endpoint : st->base;
    if (resp.status == HTTP_NOT_MODIFIED && headers[1] != NULL) {
        h->log(h, EI_LOG_DEBUG, "flags unchanged since ETag %s", st->etag);
    } else if (resp.status != HTTP_OK) {
        s = ld_http_fail(st, &resp, err);
    } else {
        char why[LD_WHY_LEN];
        bool nomem = false;
        struct ld_data *data =
            ld_data_load(resp.body, resp.body_len, why, sizeof(why), &nomem);
        if (data == NULL) {
            s = nomem ? h->error(h, err, EI_NOMEM, ENOMEM, where,
                                 "out of memory reading the flags")
                      : h->error(h, err, EI_BADDATA, 0, where, "latest-all: %s",
                                 why);
        } else {
            ld_data_free(st->data);
            st->data = data;
            /* the revision: libcrypto's SHA-256, loaded for the SHA-1 of
               the rollouts anyway and much faster on 2 MB; libsodium's
               when libcrypto cannot be loaded */
            st->revision[0] = '\0';
            if (ei_revision_wanted(h)) {
                unsigned char d[crypto_hash_sha256_BYTES];
                char no_sha[128];
                struct ei_sha1 *sha = ei_sha256_new(no_sha, sizeof(no_sha));
                if (sha == NULL ||
                    ei_sha256_digest(sha, resp.body, resp.body_len, d) < 0)
                    crypto_hash_sha256(d, (const unsigned char *)resp.body,
                                       resp.body_len);
                ei_sha1_free(sha);
                memcpy(st->revision, "sha256:", 7);
                sodium_bin2hex(st->revision + 7, sizeof(st->revision) - 7, d,
                               sizeof(d));
            }
            if (h->http_header(st->http, "ETag", st->etag, sizeof(st->etag)) <
                0)
                st->etag[0] = '\0';
        }
    }
    h->http_response_free(st->http, &resp);
    return s;
}

/* One flag's key and value into the sink; LD_ERROR is the caller's. */
static enum ei_status ld_emit(struct ld_state *st, struct ei_sink *sink,
                              const char *flag, double version,
                              const struct ld_result *res, struct ei_error *err)
{
    const struct ei_host *h = st->host;
    char shown[LD_SHOW_MAX + EI_TEXT_EXTRA];
    h->safe_text(h, shown, sizeof(shown), flag, strlen(flag), 0);
    if (res->outcome == LD_NOVALUE || json_is_null(res->value)) {
        h->log(h, EI_LOG_INFO, "flag %s: %s: left out", shown,
               res->outcome == LD_NOVALUE ? res->why : "a null value");
        return EI_OK;
    }
    size_t len = 0;
    char *text = ei_json_flag_text(res->value, &len);
    if (text == NULL)
        return h->error(h, err, EI_BADDATA, 0, shown,
                        "flag value nested too deep, holding a NUL, or out "
                        "of memory");
    size_t nlen = strlen(st->prefix) + strlen(flag) + 1;
    char *name = malloc(nlen);
    char loc[LD_SHOW_MAX + EI_TEXT_EXTRA + 64];
    snprintf(loc, sizeof(loc), "%s v%.0f variation %ld", shown, version,
             res->variation);
    enum ei_status s = EI_OK;
    if (name == NULL) {
        s = h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    } else {
        snprintf(name, nlen, "%s%s", st->prefix, flag);
        const char *segs[1] = {name};
        if (sink->emit(sink, segs, 1, text, len, loc, 0, err) != 0)
            s = ei_error_status(err, EI_INTERNAL);
    }
    sodium_memzero(text, len);
    free(text);
    free(name);
    return s;
}

static enum ei_status ld_fetch(void *state, struct ei_sink *sink,
                               const struct ei_deadline *dl,
                               struct ei_error *err)
{
    struct ld_state *st = state;
    const struct ei_host *h = st->host;
    enum ei_status s = ld_poll(st, dl, err);
    if (s != EI_OK)
        return s;
    char why[LD_WHY_LEN];
    bool nomem = false;
    struct ld_eval *ev =
        ld_eval_new(st->data, st->context, why, sizeof(why), &nomem);
    /* the context was checked in configure: memory or libcrypto */
    if (ev == NULL)
        return h->error(h, err, nomem ? EI_NOMEM : EI_INTERNAL, 0, NULL, "%s",
                        why);
    size_t n = 0;
    for (size_t i = 0; i < ld_data_flag_count(st->data); i++) {
        bool deleted;
        double version;
        const char *key = ld_data_flag(st->data, i, &deleted, &version);
        if (deleted)
            continue;
        struct ld_result res;
        ld_eval_flag(ev, key, &res);
        if (res.outcome == LD_ERROR) {
            char shown[LD_SHOW_MAX + EI_TEXT_EXTRA];
            h->safe_text(h, shown, sizeof(shown), key, strlen(key), 0);
            /* optional: the layer is skipped, as an unreachable one */
            s = h->error(h, err, st->optional ? EI_NOTFOUND : EI_BADDATA, 0,
                         shown, "flag %s cannot be evaluated faithfully: %s",
                         shown, res.why);
            break;
        }
        s = ld_emit(st, sink, key, version, &res, err);
        if (s != EI_OK)
            break;
        n++;
    }
    ld_eval_free(ev);
    if (s == EI_OK)
        h->log(h, EI_LOG_DEBUG, "%zu flags evaluated", n);
    if (s == EI_OK && st->revision[0] != '\0')
        ei_revision_report(h, st->revision);
    return s;
}

static void ld_destroy(void *state)
{
    ld_state_free(state);
}

EI_PROVIDER_DEFINE(launchdarkly) = {
    .abi = EI_PROVIDER_ABI,
    .size = sizeof(struct ei_provider),
    .name = "launchdarkly",
    .summary = "LaunchDarkly flags evaluated for one context",
    .arg_option = "base_uri",
    .flags = EI_PROV_REMOTE,
    .configure = ld_configure,
    .fetch = ld_fetch,
    .lookup = NULL,
    .destroy = ld_destroy,
};
