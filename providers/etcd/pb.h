/* SPDX-License-Identifier: MIT */
/* The protobuf bytes and gRPC framing of etcd v3's Range, Authenticate
   and Watch calls, for the etcd provider; libc only, no state, no I/O. */
#ifndef ETCD_PB_H
#define ETCD_PB_H

#include <stdbool.h>
#include <stddef.h>

/* bytes of the gRPC message prefix: a compressed flag, a big-endian length */
#define ETCD_PB_FRAME 5
/* a why buffer this large holds every message of this module unshortened */
#define ETCD_PB_WHY 192

/*
 * A RangeRequest (etcdserverpb/rpc.proto).  Empty key or range_end and
 * zero limit or revision are left out, as proto3 does; the pointers may be
 * NULL when their length is 0.  A negative limit or revision is encoded
 * as the 10-byte varint etcd would decode back to it.
 */
struct etcd_pb_range_req {
    const char *key;
    size_t key_len;
    const char *range_end;
    size_t range_end_len;
    long long limit;    /* 0: none */
    long long revision; /* 0: newest */
    bool serializable;
};

/*
 * etcd_pb_range_req_size - bytes of the framed RangeRequest r: the
 * ETCD_PB_FRAME prefix plus the message.  Returns 0 when it cannot be
 * encoded: the message would exceed UINT32_MAX bytes, the most a gRPC
 * frame can announce, or the total would not fit in size_t.  Reads only
 * the lengths in r, never the bytes.
 *
 * etcd_pb_range_req_write - writes exactly that many bytes to out, which
 * must have room for them.  Returns the bytes written, which equal
 * etcd_pb_range_req_size(r); 0, with nothing written, when that is 0.
 */
size_t etcd_pb_range_req_size(const struct etcd_pb_range_req *r);
size_t etcd_pb_range_req_write(const struct etcd_pb_range_req *r,
                               unsigned char *out);

/*
 * The same for an AuthenticateRequest{name, password}.  An empty name or
 * password is left out (proto3).  The output holds the password: the
 * caller puts out in secret memory and wipes it after use; nothing of it
 * is copied anywhere else.
 */
size_t etcd_pb_auth_req_size(const char *name, size_t name_len, const char *pw,
                             size_t pw_len);
size_t etcd_pb_auth_req_write(const char *name, size_t name_len, const char *pw,
                              size_t pw_len, unsigned char *out);

/*
 * One KeyValue (mvccpb/kv.proto).  key and value point into the message
 * given to etcd_pb_range_resp_parse and are valid as long as it is; they
 * are never NULL, with length 0 when the field is absent or empty.
 */
struct etcd_pb_kv {
    const unsigned char *key;
    size_t key_len;
    const unsigned char *value;
    size_t value_len;
    long long mod_revision;
    long long create_revision;
    long long version;
    long long lease;
};

/* What a RangeResponse says besides its KeyValues. */
struct etcd_pb_range_resp {
    long long revision; /* header.revision; 0 when absent */
    bool more;
    long long count;
    size_t kvs; /* number of KeyValues */
};

/* Called for each KeyValue, idx counting from 0; nonzero stops the walk. */
typedef int (*etcd_pb_kv_fn)(void *ctx, const struct etcd_pb_kv *kv,
                             size_t idx);

/*
 * etcd_pb_unframe - the one message of a unary gRPC response body.  On
 * success *msg points into body and *msg_len is its length (0 is valid:
 * an empty message).  Returns -1, with a one-line reason in why, when the
 * body is empty, shorter than the prefix, compressed (never asked for),
 * or not exactly one framed message.  Error texts hold lengths only,
 * never bytes of the body.  why may be NULL or why_size 0; a why shorter
 * than ETCD_PB_WHY may end in "...".
 */
int etcd_pb_unframe(const unsigned char *body, size_t len,
                    const unsigned char **msg, size_t *msg_len, char *why,
                    size_t why_size);

/*
 * etcd_pb_range_resp_parse - parse a RangeResponse (without the gRPC
 * prefix).  The whole message is checked first; only when it is well
 * formed is *out filled and kv(ctx, &kv, idx) called for every KeyValue
 * in order.  kv may be NULL to only check and count.  A nonzero return of
 * kv stops the walk and is returned as is; kv should return positive
 * values so that they cannot be mistaken for -1.  Returns 0 when every
 * KeyValue was handed over, and -1 on malformed input, with *out zeroed
 * and why naming the field path and byte offset, counted from msg, e.g.
 * "kvs[3].value: length 900 at byte 57 goes past the end at byte 120".
 *
 * Protobuf rules followed: fields in any order; unknown fields of wire
 * types 0, 1, 2 and 5 skipped; a scalar or bytes field seen twice keeps
 * the last value; a second header is merged into the first (each field it
 * holds replaces the earlier one), so header.revision is the last one
 * seen.  Malformed: a varint longer than 10 bytes or above 2^64-1, field
 * number 0 or above 2^29-1, wire types 3, 4, 6 and 7, a known field with
 * the wrong wire type, and a length or fixed value that goes past the end
 * of the enclosing message.  Negative int64 values are accepted.
 * out may be NULL; why as for etcd_pb_unframe.
 */
int etcd_pb_range_resp_parse(const unsigned char *msg, size_t len,
                             struct etcd_pb_range_resp *out, etcd_pb_kv_fn kv,
                             void *ctx, char *why, size_t why_size);

/*
 * etcd_pb_auth_resp_parse - the token of an AuthenticateResponse, under
 * the rules of etcd_pb_range_resp_parse.  *token points into msg (never
 * NULL) and *token_len is 0 when the token is absent.  The token's bytes
 * are not checked: the caller vets them before it puts them in a header.
 * Returns 0, or -1 with why when msg is malformed (*token_len is then 0).
 */
int etcd_pb_auth_resp_parse(const unsigned char *msg, size_t len,
                            const unsigned char **token, size_t *token_len,
                            char *why, size_t why_size);

/*
 * A WatchRequest holding a WatchCreateRequest (etcdserverpb/rpc.proto):
 * the keys [key, range_end) from start_revision on.  As for a
 * RangeRequest, empty bytes and a zero revision are left out, and the
 * sizes are those of the framed message.
 */
struct etcd_pb_watch_req {
    const char *key;
    size_t key_len;
    const char *range_end;
    size_t range_end_len;
    long long start_revision; /* 0: from the next revision on */
};

size_t etcd_pb_watch_req_size(const struct etcd_pb_watch_req *r);
size_t etcd_pb_watch_req_write(const struct etcd_pb_watch_req *r,
                               unsigned char *out);

/*
 * etcd_pb_frame_next - the first message of a gRPC stream's bytes so far
 * (len bytes at buf).  Returns 1 when a whole framed message is there: it
 * is at buf + ETCD_PB_FRAME, *msg_len bytes long, and the next one starts
 * after it.  Returns 0 when more bytes are needed (*msg_len is then the
 * length announced, or 0 while the prefix itself is incomplete).  Returns
 * -1, with why, when the prefix announces a compressed message (never
 * asked for), has a compressed flag other than 0 and 1, or announces
 * more than max bytes.  why as for etcd_pb_unframe.
 */
int etcd_pb_frame_next(const unsigned char *buf, size_t len, size_t max,
                       size_t *msg_len, char *why, size_t why_size);

/*
 * What a WatchResponse says.  cancel_reason points into the message
 * given to etcd_pb_watch_resp_parse (never NULL, length 0 when absent);
 * its bytes are not checked.  The events are checked to the last byte
 * of their KeyValues but only counted: a watch here only needs to know
 * that something changed, and from which revision to watch next.
 */
struct etcd_pb_watch_resp {
    long long revision; /* header.revision; 0 when absent */
    long long watch_id;
    bool created;
    bool canceled;
    long long compact_revision;
    const unsigned char *cancel_reason;
    size_t cancel_reason_len;
    bool fragment;
    size_t events;     /* number of Events */
    size_t deletes;    /* of which type DELETE */
    long long min_mod; /* smallest kv.mod_revision of the events */
    long long max_mod; /* largest; both 0 without events */
};

/*
 * etcd_pb_watch_resp_parse - parse a WatchResponse (without the gRPC
 * prefix) under the rules of etcd_pb_range_resp_parse: an Event's kv and
 * prev_kv are KeyValues and checked as in a RangeResponse; an Event
 * without kv counts with mod_revision 0.  Returns 0 with *out filled, or
 * -1 with *out zeroed (cancel_reason pointing at msg) and why naming the
 * field path, e.g. "events[2].kv.mod_revision: varint at byte 40 is cut
 * short".  out may not be NULL.
 */
int etcd_pb_watch_resp_parse(const unsigned char *msg, size_t len,
                             struct etcd_pb_watch_resp *out, char *why,
                             size_t why_size);

#endif
