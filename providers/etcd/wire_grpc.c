/* SPDX-License-Identifier: MIT */
/* The etcd provider's gRPC wire format: Range and Authenticate as framed
   protobuf over HTTP/2, errors in grpc-status; Watch as a stream of framed
   WatchResponses. */
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <envinject/provider.h>
#include <sodium.h>

#include "etcd.h"
#include "pb.h"

/*
 * Over gRPC every page costs etcd some 70 ms of walking whatever its size,
 * and no parse tree is built here: the first page asks for 10,000 keys
 * (about a megabyte), and a page twice as large follows a response under
 * 4 MiB, up to 100,000 keys, so that 100,000 keys take 4 pages rather
 * than 11.
 */
#define ETCD_GRPC_PAGE_DEFAULT 10000
#define ETCD_GRPC_PAGE_MAX     100000
#define ETCD_GRPC_GROW_BELOW   (4 * 1024 * 1024)
/* Range and Authenticate: service and method of etcdserverpb */
#define ETCD_GRPC_RANGE_PATH "/etcdserverpb.KV/Range"
#define ETCD_GRPC_AUTH_PATH  "/etcdserverpb.Auth/Authenticate"
#define ETCD_GRPC_WATCH_PATH "/etcdserverpb.Watch/Watch"

/* gRPC's status and message, which the engine decoded and made
   printable. */
static void etcd_grpc_fault(const struct etcd_run *run,
                            const struct ei_http_response *resp,
                            struct etcd_fault *f)
{
    const char *m = resp->grpc_message;
    size_t mlen = strlen(m);
    f->code = resp->grpc_status > 0 ? resp->grpc_status : -1;
    if (f->code > 0 && mlen > 0)
        etcd_fault_text(run, f, m, mlen);
}

/* The AuthenticateRequest message, framed. */
static enum ei_status etcd_grpc_auth_body(struct etcd_run *run, const char *pw,
                                          size_t pw_len, char **body,
                                          size_t *body_size,
                                          struct ei_error *err)
{
    const struct ei_host *h = run->host;
    const struct etcd_state *st = run->st;
    size_t ulen = strlen(st->username);
    size_t n = etcd_pb_auth_req_size(st->username, ulen, pw, pw_len);
    if (n == 0)
        return h->error(h, err, EI_BADCONFIG, 0,
                        st->password_file != NULL ? st->password_file
                                                  : st->password_env,
                        "the password is too long (%zu bytes)", pw_len);
    *body = h->secret_alloc(h, n + 1);
    if (*body == NULL)
        return h->error(h, err, EI_NOMEM, 0, NULL, "out of memory");
    *body_size = n + 1;
    etcd_pb_auth_req_write(st->username, ulen, pw, pw_len,
                           (unsigned char *)*body);
    return EI_OK;
}

/* The token of a gRPC AuthenticateResponse. */
static enum ei_status etcd_grpc_token(struct etcd_run *run,
                                      const struct ei_http_response *resp,
                                      struct ei_error *err)
{
    const struct ei_host *h = run->host;
    const char *member = etcd_member(resp);
    const unsigned char *msg = NULL, *tok = NULL;
    size_t msg_len = 0, len = 0;
    char why[ETCD_PB_WHY];
    if (resp->grpc_status != 0)
        return h->error(h, err, EI_BADDATA, 0, member,
                        "authenticate: the response has no gRPC status");
    if (etcd_pb_unframe((const unsigned char *)resp->body, resp->body_len, &msg,
                        &msg_len, why, sizeof(why)) < 0 ||
        etcd_pb_auth_resp_parse(msg, msg_len, &tok, &len, why, sizeof(why)) < 0)
        return h->error(h, err, EI_BADDATA, 0, member,
                        "authenticate: malformed response: %s", why);
    if (len == 0)
        return h->error(h, err, EI_BADDATA, 0, member,
                        "authenticate: the response has no token");
    return etcd_keep_token(run, resp, (const char *)tok, len, err);
}

/* A request body of n framed bytes (0: cannot be encoded), malloc'd. */
static enum ei_status etcd_grpc_body(struct etcd_run *run, size_t n,
                                     const char *what, unsigned char **body,
                                     struct ei_error *err)
{
    const struct ei_host *h = run->host;
    if (n == 0)
        return h->error(h, err, EI_INTERNAL, 0, NULL, "%s request does not fit",
                        what);
    *body = malloc(n);
    if (*body == NULL)
        return h->error(h, err, EI_NOMEM, 0, NULL, "out of memory");
    return EI_OK;
}

/* The RangeRequest message, framed. */
static enum ei_status etcd_grpc_range_body(struct etcd_run *run,
                                           const char *start, size_t start_len,
                                           char **body, size_t *body_len,
                                           struct ei_error *err)
{
    const struct etcd_state *st = run->st;
    struct etcd_pb_range_req rq = {
        .key = start,
        .key_len = start_len,
        .range_end = st->range_end,
        .range_end_len = st->range_end_len,
        .limit = run->limit,
        .revision = run->revision > 0 ? run->revision : 0,
        .serializable = st->serializable,
    };
    unsigned char *pb = NULL;
    enum ei_status status =
        etcd_grpc_body(run, etcd_pb_range_req_size(&rq), "range", &pb, err);
    if (status != EI_OK)
        return status;
    *body_len = etcd_pb_range_req_write(&rq, pb);
    *body = (char *)pb;
    return EI_OK;
}

/* The walk over the KeyValues of a gRPC page. */
struct etcd_pb_walk {
    struct etcd_run *run;
    const char *member;
    struct ei_error *err;
    enum ei_status status;
};

static int etcd_pb_one(void *ctx, const struct etcd_pb_kv *kv, size_t idx)
{
    struct etcd_pb_walk *w = ctx;
    /* a value points into the response body, which is in secret memory */
    w->status = etcd_kv(w->run, (const char *)kv->key, kv->key_len,
                        (const char *)kv->value, kv->value_len,
                        kv->mod_revision, idx, w->member, w->err);
    return w->status == EI_OK ? 0 : 1;
}

static enum ei_status etcd_grpc_page(struct etcd_run *run,
                                     const struct ei_http_response *resp,
                                     bool *more, struct ei_error *err)
{
    const struct ei_host *h = run->host;
    const char *member = etcd_member(resp);
    const unsigned char *msg = NULL;
    size_t msg_len = 0;
    char why[ETCD_PB_WHY];
    struct etcd_pb_range_resp rr = {0};
    struct etcd_pb_walk w = {run, member, err, EI_OK};
    *more = false;
    if (resp->grpc_status != 0)
        return h->error(h, err, EI_BADDATA, 0, member,
                        "range: the response has no gRPC status");
    if (etcd_pb_unframe((const unsigned char *)resp->body, resp->body_len, &msg,
                        &msg_len, why, sizeof(why)) < 0)
        return h->error(h, err, EI_BADDATA, 0, member,
                        "range: malformed response: %s", why);
    /* checked and counted first, so that the header is judged before any
       key, as in JSON; the walk costs milliseconds for 100,000 keys */
    if (etcd_pb_range_resp_parse(msg, msg_len, &rr, NULL, NULL, why,
                                 sizeof(why)) < 0)
        return h->error(h, err, EI_BADDATA, 0, member,
                        "range: malformed response: %s", why);
    if (rr.revision < 0)
        return h->error(h, err, EI_BADDATA, 0, member,
                        "range: header.revision is not a revision");
    if (rr.more && rr.kvs == 0)
        return h->error(h, err, EI_BADDATA, 0, member,
                        "range: more is true but the page has no keys");
    if (run->revision == 0)
        run->revision = rr.revision;
    int r = etcd_pb_range_resp_parse(msg, msg_len, &rr, etcd_pb_one, &w, why,
                                     sizeof(why));
    if (r != 0)
        return r > 0 ? w.status
                     : h->error(h, err, EI_INTERNAL, 0, member,
                                "range: a checked response failed: %s", why);
    *more = rr.more;
    return EI_OK;
}

/* The one WatchRequest of the stream, framed. */
static enum ei_status etcd_grpc_watch_body(struct etcd_run *run, long long rev,
                                           char **body, size_t *body_len,
                                           struct ei_error *err)
{
    const struct etcd_state *st = run->st;
    struct etcd_pb_watch_req rq = {
        .key = st->prefix,
        .key_len = st->prefix_len,
        .range_end = st->range_end,
        .range_end_len = st->range_end_len,
        .start_revision = rev,
    };
    unsigned char *pb = NULL;
    enum ei_status status =
        etcd_grpc_body(run, etcd_pb_watch_req_size(&rq), "watch", &pb, err);
    if (status != EI_OK)
        return status;
    *body_len = etcd_pb_watch_req_write(&rq, pb);
    *body = (char *)pb;
    return EI_OK;
}

/* One WatchResponse: its meaning, from etcd_watch_judge. */
static bool etcd_grpc_watch_message(struct etcd_watching *w,
                                    const unsigned char *msg, size_t len)
{
    struct etcd_pb_watch_resp r;
    char why[ETCD_PB_WHY];
    if (etcd_pb_watch_resp_parse(msg, len, &r, why, sizeof(why)) < 0) {
        char shown[ETCD_SHOW_MAX + EI_TEXT_EXTRA];
        etcd_show(w->st->host, shown, sizeof(shown), why, strlen(why));
        etcd_watch_fail(w, "malformed WatchResponse: %s", shown);
        return true;
    }
    struct etcd_watch_msg m = {
        .canceled = r.canceled,
        .compact_revision = r.compact_revision,
        .reason = (const char *)r.cancel_reason,
        .reason_len = r.cancel_reason_len,
        .events = r.events,
        .min_mod = r.min_mod,
        .max_mod = r.max_mod,
    };
    return etcd_watch_judge(w, &m);
}

/*
 * The stream's bytes, split into its framed messages.  A message is
 * judged as soon as it is whole; what follows it is moved to the front,
 * and the bytes it leaves behind are wiped (values may be among them).
 */
static int etcd_grpc_watch_data(void *ctx, const char *data, size_t len)
{
    struct etcd_watching *w = ctx;
    while (len > 0) {
        /* as much as the current message still needs, at least its
           prefix */
        size_t want = 0;
        char why[ETCD_PB_WHY];
        int r = etcd_pb_frame_next((const unsigned char *)w->buf, w->len,
                                   ETCD_WATCH_MSG_MAX, &want, why, sizeof(why));
        if (r < 0) {
            etcd_watch_fail(w, "%s", why);
            return 1;
        }
        size_t need =
            w->len < ETCD_PB_FRAME ? ETCD_PB_FRAME : ETCD_PB_FRAME + want;
        size_t take = need - w->len < len ? need - w->len : len;
        if (etcd_watch_reserve(w, need) < 0) {
            etcd_watch_fail(w, "out of memory");
            return 1;
        }
        memcpy(w->buf + w->len, data, take);
        w->len += take;
        data += take;
        len -= take;
        r = etcd_pb_frame_next((const unsigned char *)w->buf, w->len,
                               ETCD_WATCH_MSG_MAX, &want, why, sizeof(why));
        if (r < 0) {
            etcd_watch_fail(w, "%s", why);
            return 1;
        }
        if (r == 0)
            continue;
        bool stop = etcd_grpc_watch_message(
            w, (const unsigned char *)w->buf + ETCD_PB_FRAME, want);
        sodium_memzero(w->buf, w->len);
        w->len = 0;
        if (stop)
            return 1;
    }
    return 0;
}

const struct etcd_wire etcd_wire_grpc = {
    .api = "grpc",
    .server = "gRPC server",
    .range_path = ETCD_GRPC_RANGE_PATH,
    .auth_path = ETCD_GRPC_AUTH_PATH,
    .http_flags = EI_HTTP_GRPC,
    .code_is_status = true,
    .page_default = ETCD_GRPC_PAGE_DEFAULT,
    .page_max = ETCD_GRPC_PAGE_MAX,
    .grow_below = ETCD_GRPC_GROW_BELOW,
    .range_body = etcd_grpc_range_body,
    .auth_body = etcd_grpc_auth_body,
    .page = etcd_grpc_page,
    .token = etcd_grpc_token,
    .fault = etcd_grpc_fault,
    .watch_path = ETCD_GRPC_WATCH_PATH,
    .watch_body = etcd_grpc_watch_body,
    .watch_data = etcd_grpc_watch_data,
};
