/* SPDX-License-Identifier: MIT */
/* The etcd provider's JSON wire format: requests and responses of the v3
   gRPC gateway (/v3/kv/range, /v3/auth/authenticate, /v3/watch), keys and
   values in base64. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <envinject/provider.h>
#include <jansson.h>
#include <sodium.h>

#include "../common/jsonflat.h"
#include "etcd.h"
#include "json.h"

/* about a megabyte of JSON with config-sized values: most prefixes fit
   in the first page */
#define ETCD_PAGE_DEFAULT 5000
#define ETCD_PAGE_MAX     10000
/*
 * Without page_size, a page twice as large follows a response smaller
 * than this: etcd 3.4 walks the whole rest of the range for every page
 * (mvcc rangeKeys collects every revision before it applies the limit),
 * so 100,000 keys in pages of 1000 would cost the server several times
 * the one large read, while responses stay near a megabyte.
 */
#define ETCD_GROW_BELOW (1024 * 1024)
#define ETCD_RANGE_PATH "/v3/kv/range"
#define ETCD_AUTH_PATH  "/v3/auth/authenticate"
#define ETCD_WATCH_PATH "/v3/watch"
/* "limit", "revision" and punctuation around the two base64 keys */
#define ETCD_RANGE_EXTRA 128

/* Parse an int64 that etcd sends as a JSON string (or, from a proxy that
   re-encodes, a number); absent means 0.  -1 when malformed. */
static int etcd_int64(const json_t *j, long long *out)
{
    *out = 0;
    if (j == NULL || json_is_null(j))
        return 0;
    if (json_is_integer(j)) {
        *out = json_integer_value(j);
        return *out >= 0 ? 0 : -1;
    }
    if (!json_is_string(j))
        return -1;
    const char *s = json_string_value(j);
    size_t len = json_string_length(j);
    if (len == 0 || len > 19)
        return -1;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return -1;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end != s + len)
        return -1;
    *out = v;
    return 0;
}

/* The gateway's error body: a message only with etcd's error shape. */
static void etcd_json_fault(const struct etcd_run *run,
                            const struct ei_http_response *resp,
                            struct etcd_fault *f)
{
    if (resp->body == NULL || resp->body_len == 0)
        return;
    json_t *root = json_loadb(resp->body, resp->body_len, 0, NULL);
    if (root == NULL)
        return;
    json_t *code = json_object_get(root, "code");
    json_t *msg = json_object_get(root, "message");
    if (msg == NULL)
        msg = json_object_get(root, "error");
    if (json_is_integer(code) && json_is_string(msg)) {
        f->code = json_integer_value(code);
        etcd_fault_text(run, f, json_string_value(msg),
                        json_string_length(msg));
    }
    json_decref(root);
}

/* {"name":..,"password":..}, NUL-terminated. */
static enum ei_status etcd_json_auth_body(struct etcd_run *run, const char *pw,
                                          size_t pw_len, char **body,
                                          size_t *body_size,
                                          struct ei_error *err)
{
    const struct ei_host *h = run->host;
    const char *user = run->st->username;
    /* both are UTF-8 by now: a failure is one of memory */
    json_t *o = json_pack("{s:s%,s:s%}", "name", user, strlen(user), "password",
                          pw, pw_len);
    size_t len = o != NULL ? json_dumpb(o, NULL, 0, JSON_COMPACT) : 0;
    *body = len > 0 ? h->secret_alloc(h, len + 1) : NULL;
    enum ei_status status = EI_OK;
    if (*body == NULL) {
        status = h->error(h, err, EI_NOMEM, 0, NULL, "out of memory");
    } else {
        *body_size = len + 1;
        if (json_dumpb(o, *body, len, JSON_COMPACT) != len) {
            h->secret_free(h, *body, *body_size);
            *body = NULL;
            status = h->error(h, err, EI_NOMEM, 0, NULL, "out of memory");
        } else {
            (*body)[len] = '\0';
        }
    }
    json_decref(o);
    return status;
}

/* The token of the gateway's {"token":..}. */
static enum ei_status etcd_json_token(struct etcd_run *run,
                                      const struct ei_http_response *resp,
                                      struct ei_error *err)
{
    const struct ei_host *h = run->host;
    const char *member = etcd_member(resp);
    /* jansson leaves it unset when its first allocation fails */
    json_error_t je = {0};
    json_t *root =
        json_loadb(resp->body, resp->body_len, JSON_REJECT_DUPLICATES, &je);
    json_t *tok = json_object_get(root, "token");
    enum ei_status status;
    if (root == NULL && json_error_code(&je) == json_error_out_of_memory)
        status = h->error(h, err, EI_NOMEM, 0, NULL, "out of memory");
    else if (!json_is_object(root))
        status = h->error(h, err, EI_BADDATA, 0, member,
                          "authenticate: the response is not a JSON "
                          "object (%zu bytes)",
                          resp->body_len);
    else if (!json_is_string(tok))
        status = h->error(h, err, EI_BADDATA, 0, member,
                          "authenticate: the response has no token");
    else
        status = etcd_keep_token(run, resp, json_string_value(tok),
                                 json_string_length(tok), err);
    json_decref(root);
    return status;
}

/* Base64 (standard, padded) of len bytes into a new string. */
static char *etcd_b64(const char *p, size_t len)
{
    size_t size =
        sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *out = malloc(size);
    if (out != NULL)
        sodium_bin2base64(out, size, (const unsigned char *)p, len,
                          sodium_base64_VARIANT_ORIGINAL);
    return out;
}

/* {"key":..,"range_end":..,"limit":..}, keys in base64. */
static enum ei_status etcd_json_range_body(struct etcd_run *run,
                                           const char *start, size_t start_len,
                                           char **body, size_t *body_len,
                                           struct ei_error *err)
{
    const struct ei_host *h = run->host;
    const struct etcd_state *st = run->st;
    char *k = etcd_b64(start, start_len);
    char *e = etcd_b64(st->range_end, st->range_end_len);
    size_t size = (k != NULL ? strlen(k) : 0) + (e != NULL ? strlen(e) : 0) +
                  ETCD_RANGE_EXTRA;
    char *b = k != NULL && e != NULL ? malloc(size) : NULL;
    if (b == NULL) {
        free(k);
        free(e);
        return h->error(h, err, EI_NOMEM, 0, NULL, "out of memory");
    }
    char rev[48] = "";
    if (run->revision > 0)
        snprintf(rev, sizeof(rev), ",\"revision\":%lld", run->revision);
    int n = snprintf(
        b, size, "{\"key\":\"%s\",\"range_end\":\"%s\",\"limit\":%lld%s%s}", k,
        e, run->limit, rev, st->serializable ? ",\"serializable\":true" : "");
    free(k);
    free(e);
    if (n < 0 || (size_t)n >= size) {
        free(b);
        return h->error(h, err, EI_INTERNAL, 0, NULL,
                        "range request does not fit");
    }
    *body = b;
    *body_len = (size_t)n;
    return EI_OK;
}

static size_t etcd_b64_max(size_t len)
{
    return len / 4 * 3 + 3;
}

/*
 * One key-value of a JSON page from the base64 texts of its key and value
 * (vb NULL: no value), whichever parser found them: decoded, checked and
 * emitted.  value_not_string says that the value was there but no
 * string; mod_rev is -1 when it was no revision.
 */
static enum ei_status etcd_one_b64(struct etcd_run *run, const char *kb,
                                   size_t kb_len, const char *vb, size_t vb_len,
                                   bool value_not_string, long long mod_rev,
                                   size_t idx, const char *member,
                                   struct ei_error *err)
{
    const struct ei_host *h = run->host;
    size_t klen = 0;
    if (etcd_grow(&run->key, &run->key_cap, etcd_b64_max(kb_len) + 1) < 0)
        return h->error(h, err, EI_NOMEM, 0, NULL, "out of memory");
    if (etcd_b64_decode(kb, kb_len, run->key, run->key_cap - 1, &klen) < 0)
        return h->error(h, err, EI_BADDATA, 0, member,
                        "range: kvs[%zu].key is not valid base64 (%zu bytes)",
                        idx, kb_len);
    run->key[klen] = '\0';
    /* the key is judged first, as over gRPC; a skipped key's value is not
       looked at */
    size_t seg_n = 0;
    enum ei_status status =
        etcd_kv_key(run, run->key, klen, mod_rev, idx, member, &seg_n, err);
    if (status != EI_OK || seg_n == 0)
        return status;
    if (value_not_string)
        return h->error(h, err, EI_BADDATA, 0, run->loc,
                        "range: the value is not a string");
    if (vb == NULL)
        vb_len = 0;
    if (etcd_grow_secret(run, etcd_b64_max(vb_len) + 1) < 0)
        return h->error(h, err, EI_NOMEM, 0, NULL, "out of memory");
    size_t vlen = 0;
    if (etcd_b64_decode(vb, vb_len, run->val, run->val_cap - 1, &vlen) < 0) {
        sodium_memzero(run->val, run->val_cap);
        return h->error(h, err, EI_BADDATA, 0, run->loc,
                        "range: the value is not valid base64 (%zu bytes)",
                        vb_len);
    }
    run->val[vlen] = '\0';
    status = etcd_kv_emit(run, seg_n, run->val, vlen, err);
    sodium_memzero(run->val, vlen);
    return status;
}

/* One key-value of a JSON page parsed by jansson. */
static enum ei_status etcd_one(struct etcd_run *run, const json_t *kv,
                               size_t idx, const char *member,
                               struct ei_error *err)
{
    const struct ei_host *h = run->host;
    if (!json_is_object(kv))
        return h->error(h, err, EI_BADDATA, 0, member,
                        "range: kvs[%zu] is not an object", idx);
    const json_t *jk = json_object_get(kv, "key");
    const json_t *jv = json_object_get(kv, "value");
    if (!json_is_string(jk) || json_string_length(jk) == 0)
        return h->error(h, err, EI_BADDATA, 0, member,
                        "range: kvs[%zu] has no key", idx);
    long long mod_rev = 0;
    if (etcd_int64(json_object_get(kv, "mod_revision"), &mod_rev) < 0)
        mod_rev = -1;
    bool is_string = json_is_string(jv);
    return etcd_one_b64(run, json_string_value(jk), json_string_length(jk),
                        is_string ? json_string_value(jv) : NULL,
                        is_string ? json_string_length(jv) : 0,
                        jv != NULL && !json_is_null(jv) && !is_string, mod_rev,
                        idx, member, err);
}

/* Drop jansson's quote of the input: it may be part of a value. */
static void etcd_json_why(const struct ei_host *h, char *out, size_t size,
                          const char *text)
{
    const char *near = strstr(text, " near ");
    size_t len = near != NULL ? (size_t)(near - text) : strlen(text);
    etcd_show(h, out, size, text, len);
}

static enum ei_status etcd_json_page(struct etcd_run *run,
                                     const struct ei_http_response *resp,
                                     bool *more, struct ei_error *err)
{
    const struct ei_host *h = run->host;
    const char *member = etcd_member(resp);
    /*
     * The gateway's own shape is read by a scanner several times faster
     * than jansson, which spends some 15 ms on a 400 KB page here; any
     * other shape, valid or not, goes to jansson, whose view and errors
     * stay the reference.
     */
    int fast = etcd_json_scan(resp->body, resp->body_len, &run->page);
    if (fast < 0)
        return h->error(h, err, EI_NOMEM, 0, NULL, "out of memory");
    if (fast > 0) {
        const struct etcd_json_page *pg = &run->page;
        *more = pg->more;
        if (pg->more && pg->n == 0)
            return h->error(h, err, EI_BADDATA, 0, member,
                            "range: more is true but the page has no keys");
        if (run->revision == 0)
            run->revision = pg->revision;
        enum ei_status status = EI_OK;
        for (size_t i = 0; status == EI_OK && i < pg->n; i++) {
            const struct etcd_json_kv *kv = &pg->kvs[i];
            status = etcd_one_b64(run, kv->key, kv->key_len, kv->value,
                                  kv->value_len, false, kv->mod_revision, i,
                                  member, err);
        }
        return status;
    }
    /* jansson leaves it unset when its first allocation fails */
    json_error_t je = {0};
    json_t *root =
        json_loadb(resp->body, resp->body_len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL && json_error_code(&je) == json_error_out_of_memory)
        return h->error(h, err, EI_NOMEM, 0, NULL, "out of memory");
    if (root == NULL) {
        char why[ETCD_SHOW_MAX + EI_TEXT_EXTRA];
        etcd_json_why(h, why, sizeof(why), je.text);
        return h->error(h, err, EI_BADDATA, 0, member,
                        "range: malformed JSON at byte %d of %zu: %s",
                        je.position, resp->body_len, why);
    }
    enum ei_status status = EI_OK;
    const json_t *header = json_object_get(root, "header");
    const json_t *kvs = json_object_get(root, "kvs");
    const json_t *jmore = json_object_get(root, "more");
    long long rev = 0;
    if (!json_is_object(root))
        status = h->error(h, err, EI_BADDATA, 0, member,
                          "range: the response is not a JSON object");
    else if (header != NULL && !json_is_null(header) && !json_is_object(header))
        status = h->error(h, err, EI_BADDATA, 0, member,
                          "range: header is not an object");
    else if (etcd_int64(json_object_get(header, "revision"), &rev) < 0)
        status = h->error(h, err, EI_BADDATA, 0, member,
                          "range: header.revision is not a revision");
    else if (kvs != NULL && !json_is_null(kvs) && !json_is_array(kvs))
        status = h->error(h, err, EI_BADDATA, 0, member,
                          "range: kvs is not an array");
    else if (jmore != NULL && !json_is_null(jmore) && !json_is_boolean(jmore))
        status = h->error(h, err, EI_BADDATA, 0, member,
                          "range: more is not a boolean");
    *more = json_is_true(jmore);
    size_t n = json_is_array(kvs) ? json_array_size(kvs) : 0;
    if (status == EI_OK && *more && n == 0)
        status = h->error(h, err, EI_BADDATA, 0, member,
                          "range: more is true but the page has no keys");
    if (status == EI_OK && run->revision == 0)
        run->revision = rev;
    for (size_t i = 0; status == EI_OK && i < n; i++)
        status = etcd_one(run, json_array_get(kvs, i), i, member, err);
    json_decref(root);
    return status;
}

/* {"create_request":{"key":..,"range_end":..,"start_revision":..}}. */
static enum ei_status etcd_json_watch_body(struct etcd_run *run, long long rev,
                                           char **body, size_t *body_len,
                                           struct ei_error *err)
{
    const struct ei_host *h = run->host;
    const struct etcd_state *st = run->st;
    char *k = etcd_b64(st->prefix, st->prefix_len);
    char *e = etcd_b64(st->range_end, st->range_end_len);
    json_t *j =
        k != NULL && e != NULL
            ? json_pack("{s:{s:s,s:s,s:I}}", "create_request", "key", k,
                        "range_end", e, "start_revision", (json_int_t)rev)
            : NULL;
    *body = ei_json_dumps(j, JSON_COMPACT, NULL);
    json_decref(j);
    free(k);
    free(e);
    if (*body == NULL)
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    *body_len = strlen(*body);
    return EI_OK;
}

/* {"result":<WatchResponse>} or {"error":{..,"message":..}}: its
   meaning, from etcd_watch_judge. */
static bool etcd_json_watch_message(struct etcd_watching *w, const char *text,
                                    size_t len)
{
    json_error_t je;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    json_t *e = json_object_get(j, "error");
    json_t *r = json_object_get(j, "result");
    struct etcd_watch_msg m = {0};
    if (!json_is_object(j)) {
        json_decref(j);
        etcd_watch_fail(w, "a watch message is not JSON");
        return true;
    }
    if (e != NULL) {
        json_t *msg = json_object_get(e, "message");
        m.error = true;
        m.reason = json_is_string(msg) ? json_string_value(msg) : "?";
        m.reason_len = strlen(m.reason);
    } else if (json_is_object(r)) {
        json_t *cr = json_object_get(r, "cancel_reason");
        m.canceled = json_is_true(json_object_get(r, "canceled"));
        if (etcd_int64(json_object_get(r, "compact_revision"),
                       &m.compact_revision) < 0)
            m.compact_revision = -1;
        if (json_is_string(cr)) {
            m.reason = json_string_value(cr);
            m.reason_len = json_string_length(cr);
        }
        json_t *ev = json_object_get(r, "events");
        size_t i;
        json_t *x;
        json_array_foreach(ev, i, x)
        {
            long long mod = 0;
            if (etcd_int64(
                    json_object_get(json_object_get(x, "kv"), "mod_revision"),
                    &mod) < 0)
                mod = -1;
            if (i == 0 || mod < m.min_mod)
                m.min_mod = mod;
            if (i == 0 || mod > m.max_mod)
                m.max_mod = mod;
            m.events++;
        }
    }
    bool stop = etcd_watch_judge(w, &m);
    json_decref(j);
    return stop;
}

/* The stream's bytes, split into its messages: one JSON object a line. */
static int etcd_json_watch_data(void *ctx, const char *data, size_t len)
{
    struct etcd_watching *w = ctx;
    for (size_t i = 0; i < len; i++) {
        if (data[i] != '\n') {
            if (w->len + 1 > ETCD_WATCH_MSG_MAX) {
                etcd_watch_fail(w, "a watch message larger than %d bytes",
                                ETCD_WATCH_MSG_MAX);
                return 1;
            }
            if (etcd_watch_reserve(w, w->len + 1) < 0) {
                etcd_watch_fail(w, "out of memory");
                return 1;
            }
            w->buf[w->len++] = data[i];
            continue;
        }
        bool stop = w->len > 0 && etcd_json_watch_message(w, w->buf, w->len);
        if (w->buf != NULL)
            sodium_memzero(w->buf, w->len);
        w->len = 0;
        if (stop)
            return 1;
    }
    return 0;
}

const struct etcd_wire etcd_wire_json = {
    .api = "json",
    .server = "JSON gateway",
    .range_path = ETCD_RANGE_PATH,
    .auth_path = ETCD_AUTH_PATH,
    /* the gateway sends its 100 as its handler starts: a member slow
       under load is told from a frozen one */
    .http_flags = EI_HTTP_CONTINUE,
    .code_is_status = false,
    .page_default = ETCD_PAGE_DEFAULT,
    .page_max = ETCD_PAGE_MAX,
    .grow_below = ETCD_GROW_BELOW,
    .range_body = etcd_json_range_body,
    .auth_body = etcd_json_auth_body,
    .page = etcd_json_page,
    .token = etcd_json_token,
    .fault = etcd_json_fault,
    .watch_path = ETCD_WATCH_PATH,
    .watch_body = etcd_json_watch_body,
    .watch_data = etcd_json_watch_data,
};
