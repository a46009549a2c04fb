/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the etcd gRPC framing and protobuf parsers
   (providers/etcd/pb.h) on arbitrary bytes, framed and raw, checking every
   KeyValue they hand over, every WatchResponse summary, the split of a
   watch stream into messages, and every error text. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "etcd/pb.h"

/* A callback that stops the walk now and then, to exercise the stop. */
#define FUZZ_STOP_EVERY 7
#define FUZZ_STOP_VALUE 3

struct fuzz_ctx {
    const uint8_t *msg;
    size_t len;
    size_t calls;
    bool stop;
    volatile unsigned sum; /* every byte handed over is read into this */
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool fuzz_inside(const struct fuzz_ctx *f, const unsigned char *p,
                        size_t n)
{
    uintptr_t lo = (uintptr_t)f->msg, hi = lo + f->len, at = (uintptr_t)p;
    return p != NULL && at >= lo && at <= hi && n <= hi - at;
}

static int fuzz_kv(void *ctx, const struct etcd_pb_kv *kv, size_t idx)
{
    struct fuzz_ctx *f = ctx;
    if (idx != f->calls++ || !fuzz_inside(f, kv->key, kv->key_len) ||
        !fuzz_inside(f, kv->value, kv->value_len))
        abort();
    for (size_t i = 0; i < kv->key_len; i++)
        f->sum += kv->key[i];
    for (size_t i = 0; i < kv->value_len; i++)
        f->sum += kv->value[i];
    if (f->stop && f->calls % FUZZ_STOP_EVERY == 0)
        return FUZZ_STOP_VALUE;
    return 0;
}

static void fuzz_check_why(int r, const char *why)
{
    if (r == -1 && (why[0] == '\0' || strchr(why, '\n') != NULL))
        abort();
    if (r == 0 && why[0] != '\0')
        abort();
}

static void fuzz_message(const uint8_t *msg, size_t len)
{
    char why[ETCD_PB_WHY];
    struct etcd_pb_range_resp out;
    struct fuzz_ctx f = {msg, len, 0, len > 0 && msg[len - 1] & 1, 0};
    int r =
        etcd_pb_range_resp_parse(msg, len, &out, fuzz_kv, &f, why, sizeof(why));
    if (r != 0 && r != -1 && r != FUZZ_STOP_VALUE)
        abort();
    fuzz_check_why(r, why);
    if (r == -1 && (f.calls != 0 || out.kvs != 0 || out.revision != 0))
        abort();
    if (r == 0 && (f.calls != out.kvs || out.kvs > len / 2))
        abort();
    if (r == FUZZ_STOP_VALUE && (!f.stop || f.calls > out.kvs))
        abort();

    struct etcd_pb_range_resp again;
    int r2 = etcd_pb_range_resp_parse(msg, len, &again, NULL, NULL, NULL, 0);
    if ((r2 == -1) != (r == -1) || (r2 == 0 && again.kvs != out.kvs))
        abort();

    const unsigned char *tok = NULL;
    size_t tok_len = 1;
    r = etcd_pb_auth_resp_parse(msg, len, &tok, &tok_len, why, sizeof(why));
    if (r != 0 && r != -1)
        abort();
    fuzz_check_why(r, why);
    struct fuzz_ctx t = {msg, len, 0, false, 0};
    if (!fuzz_inside(&t, tok, tok_len) || (r == -1 && tok_len != 0))
        abort();
    for (size_t i = 0; i < tok_len; i++)
        t.sum += tok[i];

    struct etcd_pb_watch_resp w;
    r = etcd_pb_watch_resp_parse(msg, len, &w, why, sizeof(why));
    if (r != 0 && r != -1)
        abort();
    fuzz_check_why(r, why);
    if (!fuzz_inside(&t, w.cancel_reason, w.cancel_reason_len))
        abort();
    if (r == -1 && (w.events != 0 || w.cancel_reason_len != 0 || w.canceled ||
                    w.compact_revision != 0))
        abort();
    /* every event is at least its two bytes of tag and length */
    if (r == 0 && (w.deletes > w.events || w.events > len / 2 ||
                   (w.events == 0 && (w.min_mod != 0 || w.max_mod != 0)) ||
                   w.min_mod > w.max_mod))
        abort();
    for (size_t i = 0; i < w.cancel_reason_len; i++)
        t.sum += w.cancel_reason[i];
}

/* The input as a watch stream: split into messages as they would come,
   each one parsed; the pieces must tile the input up to what is left. */
static void fuzz_stream(const uint8_t *data, size_t size)
{
    size_t max = size > 0 ? data[0] * 7u : 0, at = 0;
    for (;;) {
        size_t len = 1;
        char why[ETCD_PB_WHY] = "";
        int r = etcd_pb_frame_next(data + at, size - at, max, &len, why,
                                   sizeof(why));
        /* only a refusal has something to say */
        if (r < -1 || r > 1 || (r == -1 && len != 0) || (r >= 0 && why[0]))
            abort();
        fuzz_check_why(r, why);
        if (r != 1) {
            if (r == 0 && size - at >= ETCD_PB_FRAME &&
                (len > max || size - at - ETCD_PB_FRAME >= len))
                abort();
            return;
        }
        if (len > max || len > size - at - ETCD_PB_FRAME)
            abort();
        struct etcd_pb_watch_resp w;
        if (etcd_pb_watch_resp_parse(data + at + ETCD_PB_FRAME, len, &w, why,
                                     sizeof(why)) == 0 &&
            why[0] != '\0')
            abort();
        at += ETCD_PB_FRAME + len;
    }
}

/* The encoders on lengths and numbers taken from the input: the size must
   match what is written, and the frame must announce the message. */
static void fuzz_encode(const uint8_t *data, size_t size)
{
    if (size < 2)
        return;
    size_t split = data[0] % size;
    long long nums[2] = {0, 0};
    memcpy(nums, data, size < sizeof(nums) ? size : sizeof(nums));
    struct etcd_pb_range_req r = {
        (const char *)data, split,   (const char *)data + split,
        size - split,       nums[0], nums[1],
        (data[1] & 1) != 0};
    size_t n = etcd_pb_range_req_size(&r);
    unsigned char *out = malloc(n + 1);
    if (out == NULL)
        abort();
    if (n < ETCD_PB_FRAME || etcd_pb_range_req_write(&r, out) != n ||
        out[0] != 0 ||
        ((size_t)out[1] << 24 | (size_t)out[2] << 16 | (size_t)out[3] << 8 |
         out[4]) != n - ETCD_PB_FRAME)
        abort();
    free(out);

    n = etcd_pb_auth_req_size((const char *)data, split,
                              (const char *)data + split, size - split);
    out = malloc(n);
    if (out == NULL || n < ETCD_PB_FRAME ||
        etcd_pb_auth_req_write((const char *)data, split,
                               (const char *)data + split, size - split,
                               out) != n)
        abort();
    free(out);

    struct etcd_pb_watch_req w = {(const char *)data, split,
                                  (const char *)data + split, size - split,
                                  nums[1]};
    n = etcd_pb_watch_req_size(&w);
    out = malloc(n);
    if (out == NULL || n < ETCD_PB_FRAME + 2 ||
        etcd_pb_watch_req_write(&w, out) != n || out[ETCD_PB_FRAME] != 0x0a)
        abort();
    /* what was written is one framed message of one field */
    const unsigned char *msg = NULL;
    size_t msg_len = 0;
    if (etcd_pb_unframe(out, n, &msg, &msg_len, NULL, 0) != 0 ||
        msg_len != n - ETCD_PB_FRAME)
        abort();
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const unsigned char *msg = NULL;
    size_t msg_len = 0;
    char why[ETCD_PB_WHY];
    int r = etcd_pb_unframe(data, size, &msg, &msg_len, why, sizeof(why));
    fuzz_check_why(r, why);
    if (r == 0) {
        if (msg != data + ETCD_PB_FRAME || msg_len != size - ETCD_PB_FRAME)
            abort();
        fuzz_message(msg, msg_len);
    } else if (r != -1 || msg != NULL || msg_len != 0) {
        abort();
    }
    fuzz_message(data, size);
    fuzz_stream(data, size);
    fuzz_encode(data, size);
    return 0;
}
