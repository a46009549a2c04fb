/* SPDX-License-Identifier: MIT */
/* Unit tests of the etcd gRPC/protobuf codec (providers/etcd/pb.c):
   Range, Authenticate and Watch. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "etcd/pb.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_OPS      32
#define MAX_KVS      6
#define BUF_MAX      4096
#define SEEN_MAX     300
#define REQ_MAX      1024
/* a word that must never show up in an error text */
#define CANARY "EI_CANARY_5e1f"
/* KeyValues of the generated message in test_many */
#define MANY_N 5000

/*
 * The responses are written by this little encoder, which shares nothing
 * with the code under test: a list of operations, where BEGIN/END wrap an
 * embedded message whose length is filled in, and RAW adds bytes as they
 * are (for the malformed shapes).
 */
enum op_kind {
    OP_NONE,
    OP_RAW,
    OP_VARINT,
    OP_I64,
    OP_I32,
    OP_BYTES,
    OP_BEGIN,
    OP_END
};

struct op {
    enum op_kind kind;
    unsigned field;
    uint64_t v;
    const void *data;
    size_t len;
};

#define RAW(s)                                                                 \
    {                                                                          \
        OP_RAW, 0, 0, s, sizeof(s) - 1                                         \
    }
#define VAR(f, x)                                                              \
    {                                                                          \
        OP_VARINT, f, (uint64_t)(x), NULL, 0                                   \
    }
#define FIX64(f, x)                                                            \
    {                                                                          \
        OP_I64, f, (uint64_t)(x), NULL, 0                                      \
    }
#define FIX32(f, x)                                                            \
    {                                                                          \
        OP_I32, f, (uint64_t)(x), NULL, 0                                      \
    }
#define STR(f, s)                                                              \
    {                                                                          \
        OP_BYTES, f, 0, s, sizeof(s) - 1                                       \
    }
#define MEM(f, p, n)                                                           \
    {                                                                          \
        OP_BYTES, f, 0, p, n                                                   \
    }
#define BEGIN(f)                                                               \
    {                                                                          \
        OP_BEGIN, f, 0, NULL, 0                                                \
    }
#define END                                                                    \
    {                                                                          \
        OP_END, 0, 0, NULL, 0                                                  \
    }

/* wire types, spelled out here rather than taken from the code under test */
#define WT_VARINT 0
#define WT_I64    1
#define WT_LEN    2
#define WT_I32    5

/* field numbers of RangeResponse, ResponseHeader, KeyValue */
#define F_HEADER    1
#define F_KVS       2
#define F_MORE      3
#define F_COUNT     4
#define F_H_CLUSTER 1
#define F_H_MEMBER  2
#define F_H_REV     3
#define F_H_TERM    4
#define F_KEY       1
#define F_CREATE    2
#define F_MOD       3
#define F_VERSION   4
#define F_VALUE     5
#define F_LEASE     6
#define F_TOKEN     2
/* WatchResponse and mvccpb.Event */
#define F_W_ID     2
#define F_CREATED  3
#define F_CANCELED 4
#define F_COMPACT  5
#define F_REASON   6
#define F_FRAGMENT 7
#define F_EVENTS   11
#define F_EV_TYPE  1
#define F_EV_KV    2
#define F_EV_PREV  3

#define B4(x)  (x), (x) + 1, (x) + 2, (x) + 3
#define B16(x) B4(x), B4((x) + 4), B4((x) + 8), B4((x) + 12)
#define B64(x) B16(x), B16((x) + 16), B16((x) + 32), B16((x) + 48)
#define D4(x)  255 - (x), 254 - (x), 253 - (x), 252 - (x)
#define D16(x) D4(x), D4((x) + 4), D4((x) + 8), D4((x) + 12)
#define D64(x) D16(x), D16((x) + 16), D16((x) + 32), D16((x) + 48)

static const unsigned char all256[256] = {B64(0), B64(64), B64(128), B64(192)};
static const unsigned char down256[256] = {D64(0), D64(64), D64(128), D64(192)};
static const unsigned char pad200[200];

struct wbuf {
    unsigned char b[BUF_MAX];
    size_t n;
};

static void w_byte(struct wbuf *w, unsigned char c)
{
    assert_true(w->n < BUF_MAX);
    w->b[w->n++] = c;
}

static void w_mem(struct wbuf *w, const void *p, size_t n)
{
    assert_true(n <= BUF_MAX - w->n);
    if (n > 0)
        memcpy(w->b + w->n, p, n);
    w->n += n;
}

static void w_varint(struct wbuf *w, uint64_t v)
{
    do {
        unsigned char low = v & 0x7f;
        v >>= 7;
        w_byte(w, v != 0 ? (unsigned char)(low | 0x80) : low);
    } while (v != 0);
}

static void w_fixed(struct wbuf *w, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        w_byte(w, (unsigned char)(v >> (8 * i)));
}

/* Writes ops from *i up to a matching END or the end of the list. */
static void build_ops(const struct op *ops, size_t *i, struct wbuf *w)
{
    for (; *i < MAX_OPS && ops[*i].kind != OP_NONE; (*i)++) {
        const struct op *o = &ops[*i];
        switch (o->kind) {
        case OP_RAW:
            w_mem(w, o->data, o->len);
            break;
        case OP_VARINT:
            w_varint(w, (uint64_t)o->field << 3 | WT_VARINT);
            w_varint(w, o->v);
            break;
        case OP_I64:
            w_varint(w, (uint64_t)o->field << 3 | WT_I64);
            w_fixed(w, o->v, 8);
            break;
        case OP_I32:
            w_varint(w, (uint64_t)o->field << 3 | WT_I32);
            w_fixed(w, o->v, 4);
            break;
        case OP_BYTES:
            w_varint(w, (uint64_t)o->field << 3 | WT_LEN);
            w_varint(w, o->len);
            w_mem(w, o->data, o->len);
            break;
        case OP_BEGIN: {
            struct wbuf *sub = calloc(1, sizeof(*sub));
            assert_non_null(sub);
            (*i)++;
            build_ops(ops, i, sub);
            w_varint(w, (uint64_t)o->field << 3 | WT_LEN);
            w_varint(w, sub->n);
            w_mem(w, sub->b, sub->n);
            free(sub);
            break;
        }
        case OP_END:
            return;
        case OP_NONE:
            break;
        }
    }
}

static void build(const struct op *ops, struct wbuf *w)
{
    size_t i = 0;
    w->n = 0;
    build_ops(ops, &i, w);
    assert_true(i == MAX_OPS || ops[i].kind == OP_NONE);
}

/* ---- what the kv callback saw ---- */

struct seen {
    unsigned char key[SEEN_MAX];
    size_t key_len;
    unsigned char value[SEEN_MAX];
    size_t value_len;
    long long mod, create, version, lease;
};

struct cap {
    const unsigned char *msg; /* the bytes handed over must lie in here */
    size_t len;
    struct seen s[MAX_KVS];
    size_t calls;
    size_t stop_at; /* 1-based call that returns stop_ret; 0: none */
    int stop_ret;
    const char *broken;
};

static bool inside(const struct cap *c, const unsigned char *p, size_t n)
{
    uintptr_t lo = (uintptr_t)c->msg, hi = lo + c->len, at = (uintptr_t)p;
    return p != NULL && at >= lo && at <= hi && n <= hi - at;
}

static int cap_kv(void *ctx, const struct etcd_pb_kv *kv, size_t idx)
{
    struct cap *c = ctx;
    if (c->broken == NULL) {
        if (idx != c->calls)
            c->broken = "idx does not count from 0";
        else if (!inside(c, kv->key, kv->key_len))
            c->broken = "key outside the message";
        else if (!inside(c, kv->value, kv->value_len))
            c->broken = "value outside the message";
        else if (kv->key_len > SEEN_MAX || kv->value_len > SEEN_MAX)
            c->broken = "too long for the test";
        else if (c->calls == MAX_KVS)
            c->broken = "too many KeyValues";
    }
    c->calls++;
    if (c->broken == NULL) {
        struct seen *s = &c->s[idx];
        memcpy(s->key, kv->key, kv->key_len);
        s->key_len = kv->key_len;
        memcpy(s->value, kv->value, kv->value_len);
        s->value_len = kv->value_len;
        s->mod = kv->mod_revision;
        s->create = kv->create_revision;
        s->version = kv->version;
        s->lease = kv->lease;
    }
    if (c->stop_at != 0 && c->calls == c->stop_at)
        return c->stop_ret;
    return 0;
}

/* ---- well-formed RangeResponses ---- */

struct want_kv {
    const void *key;
    size_t key_len;
    const void *value;
    size_t value_len;
    long long mod, create, version, lease;
};

#define WKV(k, v, m)                                                           \
    {                                                                          \
        k, sizeof(k) - 1, v, sizeof(v) - 1, m, 0, 0, 0                         \
    }

struct good_case {
    const char *name;
    struct op ops[MAX_OPS];
    long long revision;
    bool more;
    long long count;
    size_t kvs_n;
    struct want_kv kv[MAX_KVS];
};

/* the ResponseHeader that etcd 3.4.23 sent: revision 11, raft_term 2 */
#define REAL_HEADER                                                            \
    "\x0a\x18\x08\x87\xd5\xed\xba\x8f\xd5\x9d\xc1\x04\x10\xc0\xc0\xca\xaf"     \
    "\xc1\xba\x96\x89\x2e\x18\x0b\x20\x02"
#define REAL_KEY "/bench/big/secret/00000000000000001"

static const struct good_case good[] = {
    {.name = "empty message", .ops = {{0}}},
    {.name = "etcd 3.4.23 header and one KeyValue",
     .ops = {RAW(REAL_HEADER), BEGIN(F_KVS), STR(F_KEY, REAL_KEY),
             VAR(F_CREATE, 5), VAR(F_MOD, 6), VAR(F_VERSION, 1),
             STR(F_VALUE, "0123456789012345678901234567890123456789"
                          "012345678901234567"),
             END, VAR(F_COUNT, 1)},
     .revision = 11,
     .count = 1,
     .kvs_n = 1,
     .kv = {{REAL_KEY, sizeof(REAL_KEY) - 1,
             "0123456789012345678901234567890123456789012345678901234567", 58,
             6, 5, 1, 0}}},
    {.name = "all 256 byte values in key and value",
     .ops = {BEGIN(F_HEADER), VAR(F_H_REV, 3), END, BEGIN(F_KVS),
             MEM(F_KEY, all256, 256), MEM(F_VALUE, down256, 256), VAR(F_MOD, 9),
             END},
     .revision = 3,
     .kvs_n = 1,
     .kv = {{all256, 256, down256, 256, 9, 0, 0, 0}}},
    {.name = "absent and empty values",
     .ops = {BEGIN(F_KVS), STR(F_KEY, "a"), VAR(F_MOD, 4), END, BEGIN(F_KVS),
             STR(F_KEY, "b"), STR(F_VALUE, ""), END, BEGIN(F_KVS), END},
     .kvs_n = 3,
     .kv = {WKV("a", "", 4), WKV("b", "", 0), WKV("", "", 0)}},
    {.name = "negative int64 values",
     .ops = {BEGIN(F_HEADER), VAR(F_H_REV, -1), END, VAR(F_COUNT, -5),
             BEGIN(F_KVS), STR(F_KEY, "k"), VAR(F_MOD, INT64_MIN),
             VAR(F_CREATE, -2), VAR(F_VERSION, -3), VAR(F_LEASE, -1), END},
     .revision = -1,
     .count = -5,
     .kvs_n = 1,
     .kv = {{"k", 1, "", 0, INT64_MIN, -2, -3, -1}}},
    {.name = "largest int64 and uint64 values",
     .ops = {BEGIN(F_HEADER), VAR(F_H_CLUSTER, UINT64_MAX),
             VAR(F_H_MEMBER, UINT64_MAX), VAR(F_H_REV, INT64_MAX),
             VAR(F_H_TERM, UINT64_MAX), END, VAR(F_COUNT, INT64_MAX),
             BEGIN(F_KVS), STR(F_KEY, "k"), VAR(F_MOD, INT64_MAX),
             VAR(F_LEASE, INT64_MAX), END},
     .revision = INT64_MAX,
     .count = INT64_MAX,
     .kvs_n = 1,
     .kv = {{"k", 1, "", 0, INT64_MAX, 0, 0, INT64_MAX}}},
    {.name = "unknown fields of every wire type are skipped",
     .ops = {VAR(5, 1),
             FIX64(6, UINT64_MAX),
             STR(7, CANARY),
             FIX32(8, 7),
             VAR(536870911, 2),
             BEGIN(F_HEADER),
             VAR(5, 1),
             FIX64(6, 1),
             STR(7, "x"),
             FIX32(8, 1),
             VAR(F_H_REV, 12),
             END,
             BEGIN(F_KVS),
             FIX32(15, 0),
             STR(F_KEY, "k"),
             STR(100, "\x12\x05zz"),
             FIX64(7, 0),
             VAR(F_MOD, 8),
             BEGIN(9),
             STR(F_KEY, "deep"),
             END,
             STR(F_VALUE, "v"),
             END,
             BEGIN(9),
             VAR(3, 1),
             END},
     .revision = 12,
     .kvs_n = 1,
     .kv = {WKV("k", "v", 8)}},
    {.name = "fields out of order, header last",
     .ops = {VAR(F_COUNT, 7), VAR(F_MORE, 1), BEGIN(F_KVS), VAR(F_LEASE, 4),
             STR(F_VALUE, "v1"), VAR(F_VERSION, 3), VAR(F_MOD, 2),
             VAR(F_CREATE, 1), STR(F_KEY, "k1"), END, BEGIN(F_KVS),
             STR(F_VALUE, "v2"), STR(F_KEY, "k2"), END, BEGIN(F_HEADER),
             VAR(F_H_TERM, 2), VAR(F_H_REV, 40), VAR(F_H_CLUSTER, 1), END},
     .revision = 40,
     .more = true,
     .count = 7,
     .kvs_n = 2,
     .kv = {{"k1", 2, "v1", 2, 2, 1, 3, 4}, WKV("k2", "v2", 0)}},
    {.name = "a second header merges: revision kept",
     .ops = {BEGIN(F_HEADER), VAR(F_H_REV, 5), VAR(F_H_TERM, 2), END,
             BEGIN(F_HEADER), VAR(F_H_MEMBER, 3), END},
     .revision = 5},
    {.name = "a second header merges: its revision wins",
     .ops = {BEGIN(F_HEADER), VAR(F_H_REV, 5), END, BEGIN(F_KVS),
             STR(F_KEY, "k"), END, BEGIN(F_HEADER), VAR(F_H_REV, 7), END},
     .revision = 7,
     .kvs_n = 1,
     .kv = {WKV("k", "", 0)}},
    {.name = "more and count absent",
     .ops = {BEGIN(F_HEADER), VAR(F_H_REV, 1), END, BEGIN(F_KVS),
             STR(F_KEY, "k"), END},
     .revision = 1,
     .kvs_n = 1,
     .kv = {WKV("k", "", 0)}},
    {.name = "more as a long varint, count zero",
     .ops = {RAW("\x18\x80\x01"), VAR(F_COUNT, 0)},
     .more = true},
    {.name = "the last scalar wins",
     .ops = {VAR(F_MORE, 1), VAR(F_MORE, 0), VAR(F_COUNT, 9), VAR(F_COUNT, 2),
             BEGIN(F_KVS), STR(F_KEY, "first"), STR(F_VALUE, "old"),
             VAR(F_MOD, 1), STR(F_KEY, "second"), VAR(F_MOD, 3),
             STR(F_VALUE, "new"), END},
     .count = 2,
     .kvs_n = 1,
     .kv = {WKV("second", "new", 3)}},
    {.name = "non-minimal varints",
     .ops = {BEGIN(F_KVS),
             RAW("\x0a\x81\x00"
                 "x"),
             RAW("\x18\x85\x80\x80\x00"), END, RAW("\xa0\x80\x00\x01")},
     .count = 1,
     .kvs_n = 1,
     .kv = {WKV("x", "", 5)}},
    {.name = "fixed values that end where their message ends",
     .ops = {BEGIN(F_KVS), STR(F_KEY, "k"), FIX32(9, 1), END,
             FIX64(6, UINT64_MAX)},
     .kvs_n = 1,
     .kv = {WKV("k", "", 0)}},
    {.name = "NUL bytes in key and value",
     .ops = {BEGIN(F_KVS), STR(F_KEY, "a\0b"), STR(F_VALUE, "\0\0"), END},
     .kvs_n = 1,
     .kv = {WKV("a\0b", "\0\0", 0)}},
};

static void check_seen(const char *name, size_t i, const struct seen *s,
                       const struct want_kv *w)
{
    if (s->key_len != w->key_len ||
        (w->key_len > 0 && memcmp(s->key, w->key, w->key_len) != 0))
        fail_msg("%s: kvs[%zu].key differs (%zu bytes, want %zu)", name, i,
                 s->key_len, w->key_len);
    if (s->value_len != w->value_len ||
        (w->value_len > 0 && memcmp(s->value, w->value, w->value_len) != 0))
        fail_msg("%s: kvs[%zu].value differs (%zu bytes, want %zu)", name, i,
                 s->value_len, w->value_len);
    if (s->mod != w->mod || s->create != w->create ||
        s->version != w->version || s->lease != w->lease)
        fail_msg("%s: kvs[%zu] numbers %lld %lld %lld %lld, want %lld %lld "
                 "%lld %lld",
                 name, i, s->mod, s->create, s->version, s->lease, w->mod,
                 w->create, w->version, w->lease);
}

static void check_resp(const char *name, const struct etcd_pb_range_resp *o,
                       const struct good_case *c)
{
    if (o->revision != c->revision || o->more != c->more ||
        o->count != c->count || o->kvs != c->kvs_n)
        fail_msg("%s: revision %lld more %d count %lld kvs %zu, want %lld %d "
                 "%lld %zu",
                 name, o->revision, o->more, o->count, o->kvs, c->revision,
                 c->more, c->count, c->kvs_n);
}

static void run_good(void **state)
{
    const struct good_case *c = *state;
    static struct wbuf w;
    build(c->ops, &w);

    struct cap cp = {.msg = w.b, .len = w.n};
    struct etcd_pb_range_resp out;
    memset(&out, 0x5a, sizeof(out));
    char why[ETCD_PB_WHY] = "unset";
    int r =
        etcd_pb_range_resp_parse(w.b, w.n, &out, cap_kv, &cp, why, sizeof(why));
    if (r != 0)
        fail_msg("%s: returned %d: %s", c->name, r, why);
    assert_string_equal(why, "");
    if (cp.broken != NULL)
        fail_msg("%s: %s", c->name, cp.broken);
    check_resp(c->name, &out, c);
    assert_int_equal(cp.calls, c->kvs_n);
    for (size_t i = 0; i < c->kvs_n; i++)
        check_seen(c->name, i, &cp.s[i], &c->kv[i]);

    /* checking alone gives the same summary */
    memset(&out, 0x5a, sizeof(out));
    assert_int_equal(
        etcd_pb_range_resp_parse(w.b, w.n, &out, NULL, NULL, NULL, 0), 0);
    check_resp(c->name, &out, c);
}

/* ---- malformed RangeResponses ---- */

struct bad_case {
    const char *name;
    struct op ops[MAX_OPS];
    const char *why; /* exact */
};

static const struct bad_case bad[] = {
    {"tag cut short",
     {RAW("\x80")},
     "RangeResponse: tag at byte 0 is cut short"},
    {"tag longer than 10 bytes",
     {RAW("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01")},
     "RangeResponse: tag at byte 0 is longer than 10 bytes"},
    {"tag over 64 bits",
     {VAR(F_COUNT, 1), RAW("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02")},
     "RangeResponse: tag at byte 2 overflows 64 bits"},
    {"field number 0, varint",
     {RAW("\x00\x00")},
     "RangeResponse: field number 0 at byte 0"},
    {"field number 0, bytes",
     {RAW("\x02\x00")},
     "RangeResponse: field number 0 at byte 0"},
    {"field number 0 in a KeyValue",
     {BEGIN(F_KVS), STR(F_KEY, CANARY), RAW("\x00\x01"), END},
     "kvs[0]: field number 0 at byte 18"},
    {"field number 0 in the header",
     {BEGIN(F_HEADER), RAW("\x00\x01"), END},
     "header: field number 0 at byte 2"},
    {"field number above 2^29-1",
     {RAW("\x80\x80\x80\x80\x10\x00")},
     "RangeResponse: field number 536870912 at byte 0 is too large"},
    {"start group",
     {RAW("\x4b")},
     "field 9: group wire type 3 at byte 0 is not allowed"},
    {"end group",
     {VAR(F_MORE, 1), RAW("\x4c")},
     "field 9: group wire type 4 at byte 2 is not allowed"},
    {"group for kvs",
     {RAW("\x13")},
     "kvs: group wire type 3 at byte 0 is not allowed"},
    {"group in a KeyValue",
     {BEGIN(F_KVS), RAW("\x0b"), END},
     "kvs[0].key: group wire type 3 at byte 2 is not allowed"},
    {"wire type 6",
     {RAW("\x4e\x00")},
     "field 9: invalid wire type 6 at byte 0"},
    {"wire type 7 in the header",
     {BEGIN(F_HEADER), RAW("\x1f"), END},
     "header.revision: invalid wire type 7 at byte 2"},
    {"header as a varint",
     {RAW("\x08\x01")},
     "header: wire type 0 at byte 0, expected 2"},
    {"kvs as a varint",
     {RAW("\x10\x01")},
     "kvs: wire type 0 at byte 0, expected 2"},
    {"more as bytes",
     {STR(F_MORE, "")},
     "more: wire type 2 at byte 0, expected 0"},
    {"count as fixed64",
     {FIX64(F_COUNT, 1)},
     "count: wire type 1 at byte 0, expected 0"},
    {"count as fixed32",
     {FIX32(F_COUNT, 1)},
     "count: wire type 5 at byte 0, expected 0"},
    {"key as a varint",
     {BEGIN(F_KVS), VAR(F_KEY, 5), END},
     "kvs[0].key: wire type 0 at byte 2, expected 2"},
    {"mod_revision as bytes",
     {BEGIN(F_KVS), STR(F_MOD, CANARY), END},
     "kvs[0].mod_revision: wire type 2 at byte 2, expected 0"},
    {"header.revision as fixed32",
     {BEGIN(F_HEADER), FIX32(F_H_REV, 1), END},
     "header.revision: wire type 5 at byte 2, expected 0"},
    {"value as a varint in the second KeyValue",
     {BEGIN(F_KVS), STR(F_KEY, "a"), END, BEGIN(F_KVS), STR(F_KEY, "b"),
      VAR(F_VALUE, 1), END},
     "kvs[1].value: wire type 0 at byte 10, expected 2"},
    {"count cut short",
     {RAW("\x20\x80")},
     "count: varint at byte 1 is cut short"},
    {"header.revision cut short at the header's end",
     {BEGIN(F_HEADER), RAW("\x18\xff"), END, VAR(F_MORE, 1)},
     "header.revision: varint at byte 3 is cut short"},
    {"lease over 64 bits",
     {BEGIN(F_KVS), RAW("\x30\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02"), END},
     "kvs[0].lease: varint at byte 3 overflows 64 bits"},
    {"more longer than 10 bytes",
     {RAW("\x18\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00")},
     "more: varint at byte 1 is longer than 10 bytes"},
    {"kvs length past the end",
     {RAW("\x12\x05\x0a\x01")},
     "kvs: length 5 at byte 1 goes past the end at byte 4"},
    {"value length past the KeyValue's end",
     {BEGIN(F_KVS), STR(F_KEY, "k"),
      RAW("\x2a\x7f"
          "ab"),
      END, MEM(7, pad200, 200)},
     "kvs[0].value: length 127 at byte 6 goes past the end at byte 9"},
    {"key length 2^64-1",
     {BEGIN(F_KVS), RAW("\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"), END},
     "kvs[0].key: length 18446744073709551615 at byte 3 goes past the end "
     "at byte 13"},
    {"kvs length over 64 bits",
     {RAW("\x12\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02")},
     "kvs: length at byte 1 overflows 64 bits"},
    {"kvs length cut short",
     {RAW("\x12\x80")},
     "kvs: length at byte 1 is cut short"},
    {"unknown fixed64 cut short",
     {RAW("\x31\x01\x02\x03")},
     "field 6: 8-byte value at byte 1 goes past the end at byte 4"},
    {"unknown fixed32 cut short",
     {RAW("\x35\x01")},
     "field 6: 4-byte value at byte 1 goes past the end at byte 2"},
    {"unknown fixed64 past the KeyValue's end",
     {BEGIN(F_KVS), RAW("\x49\x01\x02"), END, VAR(F_COUNT, 1)},
     "kvs[0].field 9: 8-byte value at byte 3 goes past the end at byte 5"},
    {"unknown fixed64 one byte short",
     {RAW("\x31\x01\x02\x03\x04\x05\x06\x07")},
     "field 6: 8-byte value at byte 1 goes past the end at byte 8"},
    {"unknown fixed32 one byte short in a KeyValue",
     {BEGIN(F_KVS), RAW("\x3d\x01\x02\x03"), END, VAR(F_COUNT, 1)},
     "kvs[0].field 7: 4-byte value at byte 3 goes past the end at byte 6"},
    {"unknown bytes past the end",
     {RAW("\x3a\x03"
          "ab")},
     "field 7: length 3 at byte 1 goes past the end at byte 4"},
    {"count broken after good KeyValues",
     {BEGIN(F_KVS), STR(F_KEY, "a"), END, BEGIN(F_KVS), STR(F_KEY, "b"), END,
      RAW("\x20")},
     "count: varint at byte 11 is cut short"},
    {"header broken after good KeyValues",
     {BEGIN(F_KVS), STR(F_KEY, CANARY), STR(F_VALUE, CANARY), END,
      BEGIN(F_HEADER), RAW("\x00"), END},
     "header: field number 0 at byte 36"},
    {"third KeyValue broken",
     {BEGIN(F_KVS), END, BEGIN(F_KVS), END, BEGIN(F_KVS), STR(F_VALUE, CANARY),
      RAW("\x2a"), END},
     "kvs[2].value: length at byte 23 is cut short"},
};

static void run_bad(void **state)
{
    const struct bad_case *c = *state;
    static struct wbuf w;
    build(c->ops, &w);
    struct cap cp = {.msg = w.b, .len = w.n};
    struct etcd_pb_range_resp out;
    memset(&out, 0x5a, sizeof(out));
    char why[ETCD_PB_WHY] = "unset";
    int r =
        etcd_pb_range_resp_parse(w.b, w.n, &out, cap_kv, &cp, why, sizeof(why));
    if (r != -1)
        fail_msg("%s: returned %d, want -1", c->name, r);
    if (strcmp(why, c->why) != 0)
        fail_msg("%s: why is \"%s\", want \"%s\"", c->name, why, c->why);
    if (strstr(why, CANARY) != NULL || strchr(why, '\n') != NULL)
        fail_msg("%s: why holds data or a newline", c->name);
    if (cp.calls != 0)
        fail_msg("%s: kv was called %zu times", c->name, cp.calls);
    if (out.revision != 0 || out.more || out.count != 0 || out.kvs != 0)
        fail_msg("%s: out is not zeroed", c->name);
    /* without a why buffer, the verdict is the same */
    assert_int_equal(
        etcd_pb_range_resp_parse(w.b, w.n, NULL, NULL, NULL, NULL, 0), -1);

    /* whatever an AuthenticateResponse makes of these bytes, a failure
       leaves no token behind */
    const unsigned char *tok = NULL;
    size_t tok_len = 1;
    if (etcd_pb_auth_resp_parse(w.b, w.n, &tok, &tok_len, why, sizeof(why)) < 0)
        assert_int_equal(tok_len, 0);
}

/* ---- kv stopping the walk ---- */

struct stop_case {
    const char *name;
    size_t stop_at;
    int ret;
    int want;
    size_t calls;
};

static const struct stop_case stops[] = {
    {"no stop", 0, 0, 0, 3},
    {"stop at the first with 1", 1, 1, 1, 1},
    {"stop at the second with 42", 2, 42, 42, 2},
    {"stop at the last with INT_MAX", 3, INT_MAX, INT_MAX, 3},
    {"a negative return passes through", 2, -7, -7, 2},
};

static void run_stop(void **state)
{
    const struct stop_case *c = *state;
    static const struct op ops[MAX_OPS] = {BEGIN(F_KVS),
                                           STR(F_KEY, "a"),
                                           END,
                                           BEGIN(F_HEADER),
                                           VAR(F_H_REV, 4),
                                           END,
                                           BEGIN(F_KVS),
                                           STR(F_KEY, "b"),
                                           END,
                                           VAR(F_MORE, 1),
                                           BEGIN(F_KVS),
                                           STR(F_KEY, "c"),
                                           END};
    static struct wbuf w;
    build(ops, &w);
    struct cap cp = {
        .msg = w.b, .len = w.n, .stop_at = c->stop_at, .stop_ret = c->ret};
    struct etcd_pb_range_resp out;
    char why[ETCD_PB_WHY];
    int r =
        etcd_pb_range_resp_parse(w.b, w.n, &out, cap_kv, &cp, why, sizeof(why));
    if (r != c->want || cp.calls != c->calls)
        fail_msg("%s: returned %d after %zu calls, want %d after %zu", c->name,
                 r, cp.calls, c->want, c->calls);
    assert_null(cp.broken);
    /* out is known before the first KeyValue is handed over */
    assert_int_equal(out.kvs, 3);
    assert_int_equal(out.revision, 4);
    assert_true(out.more);
    static const char names[] = "abc";
    for (size_t i = 0; i < cp.calls; i++) {
        assert_int_equal(cp.s[i].key_len, 1);
        assert_int_equal(cp.s[i].key[0], names[i]);
    }
}

/* ---- AuthenticateResponse ---- */

struct auth_case {
    const char *name;
    struct op ops[MAX_OPS];
    int want;
    const char *token;
    size_t token_len;
    const char *why; /* want -1: exact */
};

static const struct auth_case auths[] = {
    {"token after the header",
     {BEGIN(F_HEADER), VAR(F_H_REV, 9), VAR(F_H_TERM, 2), END,
      STR(F_TOKEN, "tok.en.42")},
     0,
     "tok.en.42",
     9,
     NULL},
    {"token before the header",
     {STR(F_TOKEN, "abc"), BEGIN(F_HEADER), VAR(F_H_REV, 9), END},
     0,
     "abc",
     3,
     NULL},
    {"token absent", {BEGIN(F_HEADER), VAR(F_H_REV, 9), END}, 0, "", 0, NULL},
    {"empty message", {{0}}, 0, "", 0, NULL},
    {"the last token wins",
     {STR(F_TOKEN, "old"), STR(F_TOKEN, "newer")},
     0,
     "newer",
     5,
     NULL},
    {"unknown fields of every wire type are skipped",
     {VAR(3, 1), FIX64(4, 2), STR(5, "x"), FIX32(6, 3), STR(F_TOKEN, "t"),
      BEGIN(F_HEADER), VAR(9, 1), FIX32(10, 1), END},
     0,
     "t",
     1,
     NULL},
    {"all 256 byte values",
     {MEM(F_TOKEN, all256, 256)},
     0,
     (const char *)all256,
     256,
     NULL},
    {"token as a varint",
     {RAW("\x10\x01")},
     -1,
     NULL,
     0,
     "token: wire type 0 at byte 0, expected 2"},
    {"token past the end",
     {RAW("\x12\x09"
          "ab")},
     -1,
     NULL,
     0,
     "token: length 9 at byte 1 goes past the end at byte 4"},
    {"header as fixed64",
     {FIX64(F_HEADER, 1)},
     -1,
     NULL,
     0,
     "header: wire type 1 at byte 0, expected 2"},
    {"header.revision cut short",
     {STR(F_TOKEN, CANARY), BEGIN(F_HEADER), RAW("\x18"), END},
     -1,
     NULL,
     0,
     "header.revision: varint at byte 19 is cut short"},
    {"tag cut short after a token",
     {STR(F_TOKEN, CANARY), RAW("\xff")},
     -1,
     NULL,
     0,
     "AuthenticateResponse: tag at byte 16 is cut short"},
    {"group",
     {RAW("\x13")},
     -1,
     NULL,
     0,
     "token: group wire type 3 at byte 0 is not allowed"},
    {"field number 0",
     {RAW("\x00")},
     -1,
     NULL,
     0,
     "AuthenticateResponse: field number 0 at byte 0"},
};

static void run_auth(void **state)
{
    const struct auth_case *c = *state;
    static struct wbuf w;
    build(c->ops, &w);
    const unsigned char *tok = NULL;
    size_t tok_len = 12345;
    char why[ETCD_PB_WHY] = "unset";
    int r = etcd_pb_auth_resp_parse(w.b, w.n, &tok, &tok_len, why, sizeof(why));
    if (r != c->want)
        fail_msg("%s: returned %d (%s), want %d", c->name, r, why, c->want);
    assert_non_null(tok);
    if (r == 0) {
        assert_string_equal(why, "");
        if (tok_len != c->token_len ||
            (tok_len > 0 && memcmp(tok, c->token, tok_len) != 0))
            fail_msg("%s: token of %zu bytes differs, want %zu", c->name,
                     tok_len, c->token_len);
        if (tok_len > 0 && (tok < w.b || tok + tok_len > w.b + w.n))
            fail_msg("%s: token outside the message", c->name);
        return;
    }
    assert_int_equal(tok_len, 0);
    if (strcmp(why, c->why) != 0)
        fail_msg("%s: why is \"%s\", want \"%s\"", c->name, why, c->why);
    assert_null(strstr(why, CANARY));
}

/* ---- gRPC framing ---- */

struct frame_case {
    const char *name;
    const char *body;
    size_t len;
    int want;
    const char *why; /* want -1: exact */
};

#define BODY(s) s, sizeof(s) - 1

static const struct frame_case frames[] = {
    {"one message",
     BODY("\0\0\0\0\x03"
          "abc"),
     0, NULL},
    {"one empty message", BODY("\0\0\0\0\0"), 0, NULL},
    {"empty body", "", 0, -1, "gRPC: empty response body"},
    {"one byte", BODY("\0"), -1,
     "gRPC: a 1-byte body is shorter than the 5-byte message prefix"},
    {"four bytes", BODY("\0\0\0\0"), -1,
     "gRPC: a 4-byte body is shorter than the 5-byte message prefix"},
    {"compressed", BODY("\x01\0\0\0\x06" CANARY), -1,
     "gRPC: the message is compressed, which was not asked for"},
    {"flag 2",
     BODY("\x02\0\0\0\x01"
          "a"),
     -1, "gRPC: the compressed flag is neither 0 nor 1"},
    {"flag 0x80", BODY("\x80\0\0\0\0"), -1,
     "gRPC: the compressed flag is neither 0 nor 1"},
    {"length past the end",
     BODY("\0\0\0\0\x05"
          "ab"),
     -1, "gRPC: message length 5 goes past the end of the 7-byte body"},
    {"length 2^32-1", BODY("\0\xff\xff\xff\xff"), -1,
     "gRPC: message length 4294967295 goes past the end of the 5-byte body"},
    {"real prefix, short body",
     BODY("\0\0\xac\x15\xf2"
          "\x0a\x18\x08"),
     -1, "gRPC: message length 11277810 goes past the end of the 8-byte body"},
    {"a byte after the message",
     BODY("\0\0\0\0\x01"
          "a"
          "b"),
     -1, "gRPC: the 7-byte body goes on after the 6-byte framed message"},
    {"two messages",
     BODY("\0\0\0\0\x01"
          "a"
          "\0\0\0\0\x0e" CANARY),
     -1, "gRPC: the 25-byte body goes on after the 6-byte framed message"},
};

static void run_frame(void **state)
{
    const struct frame_case *c = *state;
    const unsigned char *body = (const unsigned char *)c->body;
    const unsigned char *msg = body;
    size_t msg_len = 99;
    char why[ETCD_PB_WHY] = "unset";
    int r = etcd_pb_unframe(body, c->len, &msg, &msg_len, why, sizeof(why));
    if (r != c->want)
        fail_msg("%s: returned %d (%s), want %d", c->name, r, why, c->want);
    if (r == 0) {
        assert_string_equal(why, "");
        assert_ptr_equal(msg, body + ETCD_PB_FRAME);
        assert_int_equal(msg_len, c->len - ETCD_PB_FRAME);
        return;
    }
    assert_null(msg);
    assert_int_equal(msg_len, 0);
    if (strcmp(why, c->why) != 0)
        fail_msg("%s: why is \"%s\", want \"%s\"", c->name, why, c->why);
    assert_null(strstr(why, CANARY));
}

/* ---- requests ---- */

/* A reader of what the encoders write, independent of the decoder under
   test: fields must come in ascending order, defaults left out. */
struct req_seen {
    const unsigned char *f[3]; /* key, range_end / name, password */
    size_t f_len[3];
    long long limit, revision;
    bool serializable;
};

static uint64_t r_varint(const unsigned char *b, size_t *pos, size_t end)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        assert_true(*pos < end);
        unsigned char c = b[(*pos)++];
        v |= (uint64_t)(c & 0x7f) << shift;
        if (c < 0x80)
            return v;
    }
    fail_msg("varint too long");
    return 0;
}

static long long as_int64(uint64_t v)
{
    if (v > (uint64_t)INT64_MAX)
        return -(long long)(UINT64_MAX - v) - 1;
    return (long long)v;
}

/* The fields of a request message from pos to len; a WatchCreateRequest
   reads as a RangeRequest (its start_revision as limit). */
static void read_fields(const unsigned char *b, size_t pos, size_t len,
                        bool auth, struct req_seen *s)
{
    memset(s, 0, sizeof(*s));
    uint64_t last = 0;
    while (pos < len) {
        uint64_t tag = r_varint(b, &pos, len);
        uint64_t field = tag >> 3, wt = tag & 7;
        assert_true(field > last);
        last = field;
        if (field <= 2) {
            assert_int_equal(wt, WT_LEN);
            uint64_t l = r_varint(b, &pos, len);
            assert_true(l > 0 && l <= len - pos);
            s->f[field] = b + pos;
            s->f_len[field] = (size_t)l;
            pos += (size_t)l;
            continue;
        }
        assert_false(auth);
        assert_int_equal(wt, WT_VARINT);
        uint64_t v = r_varint(b, &pos, len);
        assert_true(v != 0);
        if (field == 3)
            s->limit = as_int64(v);
        else if (field == 4)
            s->revision = as_int64(v);
        else if (field == 7 && v == 1)
            s->serializable = true;
        else
            fail_msg("unexpected field %llu = %llu", (unsigned long long)field,
                     (unsigned long long)v);
    }
}

/* The gRPC prefix of the framed message at b, len bytes in all: the
   offset of the message. */
static size_t read_frame(const unsigned char *b, size_t len)
{
    assert_true(len >= 5);
    assert_int_equal(b[0], 0);
    size_t n =
        (size_t)b[1] << 24 | (size_t)b[2] << 16 | (size_t)b[3] << 8 | b[4];
    assert_int_equal(n, len - 5);
    return 5;
}

static void read_req(const unsigned char *b, size_t len, bool auth,
                     struct req_seen *s)
{
    read_fields(b, read_frame(b, len), len, auth, s);
}

static void same_bytes(const char *name, const char *what,
                       const unsigned char *got, size_t got_len,
                       const char *want, size_t want_len)
{
    if (got_len != want_len ||
        (want_len > 0 && memcmp(got, want, want_len) != 0))
        fail_msg("%s: %s differs (%zu bytes, want %zu)", name, what, got_len,
                 want_len);
}

static char key200[200];
static char pw130[130];

struct range_req_case {
    const char *name;
    struct etcd_pb_range_req r;
    const char *bytes; /* NULL: round trip only */
    size_t len;
};

#define REQ(k, e) k, sizeof(k) - 1, e, sizeof(e) - 1

static const struct range_req_case range_reqs[] = {
    {"the request etcd answered",
     {REQ("/bench/big/", "/bench/big0"), 0, 0, false},
     BODY("\x00\x00\x00\x00\x1a\x0a\x0b\x2f\x62\x65\x6e\x63\x68\x2f\x62\x69"
          "\x67\x2f\x12\x0b\x2f\x62\x65\x6e\x63\x68\x2f\x62\x69\x67\x30")},
    {"limit, revision, serializable",
     {REQ("/a/", "/a0"), 1000, 42, true},
     BODY("\0\0\0\0\x11\x0a\x03/a/\x12\x03/a0\x18\xe8\x07\x20\x2a\x38\x01")},
    {"negative limit, largest revision, no range_end",
     {REQ("k", ""), -1, INT64_MAX, false},
     BODY("\0\0\0\0\x18\x0a\x01k\x18\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"
          "\x20\xff\xff\xff\xff\xff\xff\xff\xff\x7f")},
    {"NUL key and range_end",
     {REQ("\0", "\0"), 0, 0, false},
     BODY("\0\0\0\0\x06\x0a\x01\0\x12\x01\0")},
    {"nothing at all", {NULL, 0, NULL, 0, 0, 0, false}, BODY("\0\0\0\0\0")},
    {"smallest revision", {REQ("k", "l"), 1, INT64_MIN, true}, NULL, 0},
    {"200-byte key", {key200, sizeof(key200), "z", 1, 500, 7, false}, NULL, 0},
};

static void run_range_req(void **state)
{
    const struct range_req_case *c = *state;
    unsigned char out[REQ_MAX + 1];
    size_t n = etcd_pb_range_req_size(&c->r);
    assert_true(n >= ETCD_PB_FRAME && n <= REQ_MAX);
    out[n] = 0xa5;
    assert_int_equal(etcd_pb_range_req_write(&c->r, out), n);
    assert_int_equal(out[n], 0xa5);
    if (c->bytes != NULL)
        same_bytes(c->name, "frame", out, n, c->bytes, c->len);
    struct req_seen s;
    read_req(out, n, false, &s);
    same_bytes(c->name, "key", s.f[1], s.f_len[1], c->r.key, c->r.key_len);
    same_bytes(c->name, "range_end", s.f[2], s.f_len[2], c->r.range_end,
               c->r.range_end_len);
    assert_int_equal(s.limit, c->r.limit);
    assert_int_equal(s.revision, c->r.revision);
    assert_int_equal(s.serializable, c->r.serializable);
}

struct auth_req_case {
    const char *name;
    const char *user;
    size_t user_len;
    const char *pw;
    size_t pw_len;
    const char *bytes;
    size_t len;
};

static const struct auth_req_case auth_reqs[] = {
    {"root and pw", REQ("root", "pw"),
     BODY("\0\0\0\0\x0a\x0a\x04root\x12\x02pw")},
    {"empty password left out", REQ("root", ""),
     BODY("\0\0\0\0\x06\x0a\x04root")},
    {"130-byte password", "u", 1, pw130, sizeof(pw130), NULL, 0},
};

static void run_auth_req(void **state)
{
    const struct auth_req_case *c = *state;
    unsigned char out[REQ_MAX + 1];
    size_t n = etcd_pb_auth_req_size(c->user, c->user_len, c->pw, c->pw_len);
    assert_true(n >= ETCD_PB_FRAME && n <= REQ_MAX);
    out[n] = 0xa5;
    assert_int_equal(
        etcd_pb_auth_req_write(c->user, c->user_len, c->pw, c->pw_len, out), n);
    assert_int_equal(out[n], 0xa5);
    if (c->bytes != NULL)
        same_bytes(c->name, "frame", out, n, c->bytes, c->len);
    struct req_seen s;
    read_req(out, n, true, &s);
    same_bytes(c->name, "name", s.f[1], s.f_len[1], c->user, c->user_len);
    same_bytes(c->name, "password", s.f[2], s.f_len[2], c->pw, c->pw_len);
}

/* Sizes only: the bytes are never read when the size is refused, and
   only the size is asked of the lengths that would not fit in memory. */
struct size_case {
    const char *name;
    bool auth;
    size_t a_len, b_len;
    size_t want; /* 0: cannot encode */
};

static const struct size_case sizes[] = {
    {"key of SIZE_MAX bytes", false, SIZE_MAX, 0, 0},
    {"key of SIZE_MAX-3 bytes", false, SIZE_MAX - 3, 0, 0},
    {"key and range_end of SIZE_MAX/2 bytes", false, SIZE_MAX / 2, SIZE_MAX / 2,
     0},
#if SIZE_MAX > UINT32_MAX
    /* 1 tag byte + 5 length bytes + the key: exactly UINT32_MAX */
    {"message of UINT32_MAX bytes", false, (size_t)UINT32_MAX - 6, 0,
     (size_t)UINT32_MAX + 5},
    {"message of UINT32_MAX+1 bytes", false, (size_t)UINT32_MAX - 5, 0, 0},
    {"key and range_end of 2^31 bytes", false, (size_t)1 << 31, (size_t)1 << 31,
     0},
    {"auth message of UINT32_MAX bytes", true, (size_t)UINT32_MAX - 6, 0,
     (size_t)UINT32_MAX + 5},
    {"auth message of UINT32_MAX bytes with a password", true,
     (size_t)UINT32_MAX - 9, 1, (size_t)UINT32_MAX + 5},
    {"auth message of UINT32_MAX+1 bytes", true, (size_t)UINT32_MAX - 8, 1, 0},
#endif
    {"name of SIZE_MAX bytes", true, SIZE_MAX, 1, 0},
    {"password of SIZE_MAX-2 bytes", true, 0, SIZE_MAX - 2, 0},
    {"small request", false, 3, 3, 15},
    {"small auth request", true, 4, 2, 15},
};

static void run_size(void **state)
{
    const struct size_case *c = *state;
    static const char dummy[1];
    unsigned char out[16];
    memset(out, 0x5a, sizeof(out));
    size_t got, wrote = 0;
    if (c->auth) {
        got = etcd_pb_auth_req_size(dummy, c->a_len, dummy, c->b_len);
        if (c->want == 0)
            wrote =
                etcd_pb_auth_req_write(dummy, c->a_len, dummy, c->b_len, out);
    } else {
        struct etcd_pb_range_req r = {dummy, c->a_len, dummy, c->b_len,
                                      0,     0,        false};
        got = etcd_pb_range_req_size(&r);
        if (c->want == 0)
            wrote = etcd_pb_range_req_write(&r, out);
    }
    if (got != c->want)
        fail_msg("%s: size %zu, want %zu", c->name, got, c->want);
    assert_int_equal(wrote, 0);
    for (size_t i = 0; i < sizeof(out); i++)
        assert_int_equal(out[i], 0x5a);
}

/* ---- why buffers of every size ---- */

struct why_case {
    const char *name;
    size_t size;
    const char *want;
};

static const struct why_case whys[] = {
    {"why of 1 byte", 1, ""},
    {"why of 4 bytes", 4, "..."},
    {"why of 12 bytes", 12, "kvs: len..."},
    {"why of 52 bytes", 52,
     "kvs: length 5 at byte 1 goes past the end at byte 4"},
    {"why of 51 bytes", 51,
     "kvs: length 5 at byte 1 goes past the end at by..."},
};

static void run_why(void **state)
{
    const struct why_case *c = *state;
    static const unsigned char msg[] = {0x12, 0x05, 0x0a, 0x01};
    char why[64];
    memset(why, 'x', sizeof(why));
    assert_int_equal(etcd_pb_range_resp_parse(msg, sizeof(msg), NULL, NULL,
                                              NULL, why, c->size),
                     -1);
    assert_string_equal(why, c->want);
    assert_int_equal(why[c->size], 'x');

    static const unsigned char body[] = {0, 0, 0, 0, 9};
    const unsigned char *m;
    size_t m_len;
    memset(why, 'x', sizeof(why));
    assert_int_equal(
        etcd_pb_unframe(body, sizeof(body), &m, &m_len, why, c->size), -1);
    assert_true(strlen(why) < c->size);
    assert_int_equal(why[c->size], 'x');
}

static void test_why_size_zero(void **state)
{
    (void)state;
    static const unsigned char msg[] = {0x12, 0x05, 0x0a, 0x01};
    char why[4] = "abc";
    assert_int_equal(
        etcd_pb_range_resp_parse(msg, sizeof(msg), NULL, NULL, NULL, why, 0),
        -1);
    assert_string_equal(why, "abc");
    const unsigned char *tok;
    size_t tok_len;
    assert_int_equal(
        etcd_pb_auth_resp_parse(msg, sizeof(msg), &tok, &tok_len, why, 0), -1);
    assert_string_equal(why, "abc");
    const unsigned char *m;
    size_t m_len;
    assert_int_equal(etcd_pb_unframe(msg, 0, &m, &m_len, why, 0), -1);
    assert_string_equal(why, "abc");
    /* an empty message is fine even without bytes behind it */
    struct etcd_pb_range_resp out;
    assert_int_equal(
        etcd_pb_range_resp_parse(NULL, 0, &out, NULL, NULL, why, sizeof(why)),
        0);
    assert_int_equal(out.kvs, 0);
    assert_int_equal(
        etcd_pb_auth_resp_parse(NULL, 0, &tok, &tok_len, why, sizeof(why)), 0);
    assert_non_null(tok);
    assert_int_equal(tok_len, 0);
}

/* ---- many KeyValues, framed as etcd sends them ---- */

static unsigned char *many_buf;

static int many_teardown(void **state)
{
    (void)state;
    free(many_buf);
    many_buf = NULL;
    return 0;
}

struct many_ctx {
    size_t calls;
    bool bad;
};

static int many_kv(void *ctx, const struct etcd_pb_kv *kv, size_t idx)
{
    struct many_ctx *m = ctx;
    char key[16];
    int n = snprintf(key, sizeof(key), "k%05zu", idx);
    if (idx != m->calls++ || n != 6 || kv->key_len != 6 ||
        memcmp(kv->key, key, 6) != 0 || kv->value_len != idx % 7 ||
        kv->mod_revision != (long long)idx + 1)
        m->bad = true;
    return 0;
}

static void test_many(void **state)
{
    (void)state;
    /* 5 frame + per KeyValue at most: 3 + 2+6 + 1+3 + 2+6 bytes */
    size_t cap = ETCD_PB_FRAME + (size_t)MANY_N * 23;
    many_buf = malloc(cap);
    assert_non_null(many_buf);
    size_t pos = ETCD_PB_FRAME;
    for (size_t i = 0; i < MANY_N; i++) {
        struct wbuf *kv = calloc(1, sizeof(*kv));
        assert_non_null(kv);
        char key[16];
        assert_int_equal(snprintf(key, sizeof(key), "k%05zu", i), 6);
        w_varint(kv, F_KEY << 3 | WT_LEN);
        w_varint(kv, 6);
        w_mem(kv, key, 6);
        w_varint(kv, F_MOD << 3 | WT_VARINT);
        w_varint(kv, i + 1);
        if (i % 7 != 0) {
            w_varint(kv, F_VALUE << 3 | WT_LEN);
            w_varint(kv, i % 7);
            w_mem(kv, "vvvvvvv", i % 7);
        }
        assert_true(kv->n < 0x80 && pos + 2 + kv->n <= cap);
        many_buf[pos++] = F_KVS << 3 | WT_LEN;
        many_buf[pos++] = (unsigned char)kv->n;
        memcpy(many_buf + pos, kv->b, kv->n);
        pos += kv->n;
        free(kv);
    }
    size_t len = pos - ETCD_PB_FRAME;
    many_buf[0] = 0;
    for (int i = 0; i < 4; i++)
        many_buf[1 + i] = (unsigned char)(len >> (8 * (3 - i)));
    const unsigned char *msg;
    size_t msg_len;
    char why[ETCD_PB_WHY];
    assert_int_equal(
        etcd_pb_unframe(many_buf, pos, &msg, &msg_len, why, sizeof(why)), 0);
    assert_int_equal(msg_len, len);
    struct etcd_pb_range_resp out;
    struct many_ctx m = {0};
    assert_int_equal(etcd_pb_range_resp_parse(msg, msg_len, &out, many_kv, &m,
                                              why, sizeof(why)),
                     0);
    assert_int_equal(out.kvs, MANY_N);
    assert_int_equal(m.calls, MANY_N);
    assert_false(m.bad);
    /* a cut anywhere in the last KeyValue is noticed before any call */
    m = (struct many_ctx){0};
    assert_int_equal(etcd_pb_range_resp_parse(msg, msg_len - 1, &out, many_kv,
                                              &m, why, sizeof(why)),
                     -1);
    assert_int_equal(m.calls, 0);
    assert_non_null(strstr(why, "goes past the end"));
}

/* ---- WatchResponse ---- */

struct watch_case {
    const char *name;
    struct op ops[MAX_OPS];
    int want;
    /* want 0: the summary */
    long long revision, watch_id;
    bool created, canceled, fragment;
    long long compact;
    const char *reason; /* NULL: absent */
    size_t events, deletes;
    long long min_mod, max_mod;
    const char *why; /* want -1: exact */
};

/* the ResponseHeader of the captures below: etcd 3.4.23, raft_term 2 */
#define W_HEADER(rev)                                                          \
    "\x0a\x1a\x08\x96\xf9\xaf\xe7\xe2\xc4\xe9\xb4\xc2\x01\x10\xc5\x8f\xbe"     \
    "\x81\xbd\xc7\xc7\xd0\x86\x01\x18" rev "\x20\x02"
#define W_CLUSTER 14008910798805269654u

static const struct watch_case watches[] = {
    {.name = "empty message"},
    {.name = "etcd 3.4.23: created",
     .ops = {RAW(W_HEADER("\x07") "\x18\x01")},
     .revision = 7,
     .created = true},
    {.name = "etcd 3.4.23: a put",
     .ops = {RAW(
         W_HEADER("\x08") "\x5a\x1d\x12\x1b\x0a\x0c/w/app/level\x10\x02\x18"
                          "\x08\x20\x01\x2a\x05three")},
     .revision = 8,
     .events = 1,
     .min_mod = 8,
     .max_mod = 8},
    {.name = "etcd 3.4.23: a delete",
     .ops = {RAW(
         W_HEADER("\x09") "\x5a\x14\x08\x01\x12\x10\x0a\x0c/w/app/level\x18"
                          "\x09")},
     .revision = 9,
     .events = 1,
     .deletes = 1,
     .min_mod = 9,
     .max_mod = 9},
    {.name = "etcd 3.4.23: compacted (no header revision)",
     .ops = {RAW(
         "\x0a\x18\x08\x96\xf9\xaf\xe7\xe2\xc4\xe9\xb4\xc2\x01\x10\xc5\x8f"
         "\xbe\x81\xbd\xc7\xc7\xd0\x86\x01\x20\x02\x20\x01\x28\x09")},
     .canceled = true,
     .compact = 9},
    {.name = "cancelled with a reason",
     .ops = {VAR(F_W_ID, 3), VAR(F_CREATED, 1), VAR(F_CANCELED, 1),
             STR(F_REASON, "etcdserver: permission denied")},
     .watch_id = 3,
     .created = true,
     .canceled = true,
     .reason = "etcdserver: permission denied"},
    {.name = "progress report: watch_id -1, header only",
     .ops = {BEGIN(F_HEADER), VAR(F_H_REV, 40), END, VAR(F_W_ID, -1)},
     .revision = 40,
     .watch_id = -1},
    {.name = "events out of order, with prev_kv, and fragment",
     .ops = {VAR(F_FRAGMENT, 1),
             BEGIN(F_EVENTS),
             BEGIN(F_EV_KV),
             STR(F_KEY, "a"),
             VAR(F_MOD, 12),
             END,
             BEGIN(F_EV_PREV),
             STR(F_KEY, "a"),
             VAR(F_MOD, 3),
             STR(F_VALUE, CANARY),
             END,
             END,
             BEGIN(F_EVENTS),
             VAR(F_EV_TYPE, 1),
             BEGIN(F_EV_KV),
             VAR(F_MOD, 10),
             END,
             END,
             BEGIN(F_EVENTS),
             BEGIN(F_EV_KV),
             VAR(F_MOD, 11),
             END,
             END},
     .fragment = true,
     .events = 3,
     .deletes = 1,
     .min_mod = 10,
     .max_mod = 12},
    {.name = "an event without kv counts with revision 0",
     .ops = {BEGIN(F_EVENTS), BEGIN(F_EV_KV), VAR(F_MOD, 5), END, END,
             BEGIN(F_EVENTS), VAR(F_EV_TYPE, 0), END},
     .events = 2,
     .max_mod = 5},
    {.name = "negative and largest revisions",
     .ops = {VAR(F_COMPACT, -2), BEGIN(F_EVENTS), BEGIN(F_EV_KV),
             VAR(F_MOD, INT64_MIN), END, END, BEGIN(F_EVENTS), BEGIN(F_EV_KV),
             VAR(F_MOD, INT64_MAX), END, END},
     .compact = -2,
     .events = 2,
     .min_mod = INT64_MIN,
     .max_mod = INT64_MAX},
    {.name = "unknown event types and fields are skipped; the last kv wins",
     .ops = {VAR(8, 1), STR(9, CANARY), FIX32(10, 1), FIX64(12, 2),
             BEGIN(F_EVENTS), VAR(F_EV_TYPE, 7), STR(4, "x"), BEGIN(F_EV_KV),
             VAR(F_MOD, 1), END, BEGIN(F_EV_KV), VAR(F_MOD, 6), STR(9, "y"),
             END, END},
     .events = 1,
     .min_mod = 6,
     .max_mod = 6},
    {.name = "the last scalar wins",
     .ops = {VAR(F_CANCELED, 1), VAR(F_CANCELED, 0), STR(F_REASON, "first"),
             STR(F_REASON, "second"), VAR(F_COMPACT, 4), VAR(F_COMPACT, 0)},
     .reason = "second"},
    {.name = "events as a varint",
     .ops = {RAW("\x58\x01")},
     .want = -1,
     .why = "events: wire type 0 at byte 0, expected 2"},
    {.name = "cancel_reason as a varint",
     .ops = {VAR(F_REASON, 1)},
     .want = -1,
     .why = "cancel_reason: wire type 0 at byte 0, expected 2"},
    {.name = "canceled as bytes",
     .ops = {STR(F_CANCELED, "")},
     .want = -1,
     .why = "canceled: wire type 2 at byte 0, expected 0"},
    {.name = "compact_revision cut short",
     .ops = {VAR(F_CREATED, 1), RAW("\x28\xff")},
     .want = -1,
     .why = "compact_revision: varint at byte 3 is cut short"},
    {.name = "event type as bytes",
     .ops = {BEGIN(F_EVENTS), STR(F_EV_TYPE, "x"), END},
     .want = -1,
     .why = "events[0].type: wire type 2 at byte 2, expected 0"},
    {.name = "second event's kv as a varint",
     .ops = {BEGIN(F_EVENTS), END, BEGIN(F_EVENTS), VAR(F_EV_KV, 1), END},
     .want = -1,
     .why = "events[1].kv: wire type 0 at byte 4, expected 2"},
    {.name = "mod_revision of an event's kv as fixed64",
     .ops = {BEGIN(F_EVENTS), BEGIN(F_EV_KV), STR(F_KEY, CANARY),
             FIX64(F_MOD, 1), END, END},
     .want = -1,
     .why = "events[0].kv.mod_revision: wire type 1 at byte 20, expected 0"},
    {.name = "prev_kv's value past its end",
     .ops = {BEGIN(F_EVENTS), BEGIN(F_EV_PREV), RAW("\x2a\x20" CANARY), END,
             END},
     .want = -1,
     .why = "events[0].prev_kv.value: length 32 at byte 5 goes past the end at "
            "byte "
            "20"},
    {.name = "field number 0 in prev_kv",
     .ops = {BEGIN(F_EVENTS), BEGIN(F_EV_PREV), RAW("\x00"), END, END},
     .want = -1,
     .why = "events[0].prev_kv: field number 0 at byte 4"},
    {.name = "group in an event",
     .ops = {BEGIN(F_EVENTS), RAW("\x0b"), END},
     .want = -1,
     .why = "events[0].type: group wire type 3 at byte 2 is not allowed"},
    {.name = "header.revision as fixed32",
     .ops = {BEGIN(F_HEADER), FIX32(F_H_REV, 1), END},
     .want = -1,
     .why = "header.revision: wire type 5 at byte 2, expected 0"},
    {.name = "tag cut short after a reason",
     .ops = {STR(F_REASON, CANARY), RAW("\x80")},
     .want = -1,
     .why = "WatchResponse: tag at byte 16 is cut short"},
    {.name = "events past the end",
     .ops = {RAW("\x5a\x05\x08")},
     .want = -1,
     .why = "events: length 5 at byte 1 goes past the end at byte 3"},
};

static void run_watch(void **state)
{
    const struct watch_case *c = *state;
    static struct wbuf w;
    build(c->ops, &w);
    struct etcd_pb_watch_resp o;
    memset(&o, 0x5a, sizeof(o));
    char why[ETCD_PB_WHY] = "unset";
    int r = etcd_pb_watch_resp_parse(w.b, w.n, &o, why, sizeof(why));
    if (r != c->want)
        fail_msg("%s: returned %d (%s), want %d", c->name, r, why, c->want);
    assert_non_null(o.cancel_reason);
    if (r < 0) {
        if (strcmp(why, c->why) != 0)
            fail_msg("%s: why is \"%s\", want \"%s\"", c->name, why, c->why);
        assert_null(strstr(why, CANARY));
        assert_true(o.events == 0 && o.revision == 0 && !o.canceled &&
                    o.compact_revision == 0 && o.cancel_reason_len == 0);
        return;
    }
    assert_string_equal(why, "");
    if (o.revision != c->revision || o.watch_id != c->watch_id ||
        o.created != c->created || o.canceled != c->canceled ||
        o.fragment != c->fragment || o.compact_revision != c->compact)
        fail_msg("%s: revision %lld watch_id %lld created %d canceled %d "
                 "fragment %d compact %lld",
                 c->name, o.revision, o.watch_id, o.created, o.canceled,
                 o.fragment, o.compact_revision);
    if (o.events != c->events || o.deletes != c->deletes ||
        o.min_mod != c->min_mod || o.max_mod != c->max_mod)
        fail_msg("%s: events %zu deletes %zu mod %lld..%lld", c->name, o.events,
                 o.deletes, o.min_mod, o.max_mod);
    size_t rl = c->reason != NULL ? strlen(c->reason) : 0;
    same_bytes(c->name, "cancel_reason", o.cancel_reason, o.cancel_reason_len,
               c->reason, rl);
    if (rl > 0 && (o.cancel_reason < w.b || o.cancel_reason + rl > w.b + w.n))
        fail_msg("%s: cancel_reason outside the message", c->name);
}

/*
 * A Watch stream that etcd 3.4.23 sent (four messages: created at
 * revision 7; the history from revision 4, three puts and a delete; a
 * put at 8; a delete at 9), split by etcd_pb_frame_next however few of
 * its bytes have come.
 */
static const unsigned char stream_real[] = "\0\0\0\0\x1e" W_HEADER(
    "\x07") "\x18\x01"
            "\0\0\0\0\x8b" W_HEADER(
                "\x07") "\x5a\x1b\x12\x19\x0a\x0c/w/app/"
                        "level\x10\x02\x18\x04\x20\x02\x2a\x03one"
                        "\x5a\x1b\x12\x19\x0a\x0c/w/app/"
                        "level\x10\x02\x18\x05\x20\x03\x2a\x03two"
                        "\x5a\x1d\x12\x1b\x0a\x0c/w/app/"
                        "level\x10\x02\x18\x06\x20\x04\x2a\x05three"
                        "\x5a\x14\x08\x01\x12\x10\x0a\x0c/w/app/level\x18\x07"
                        "\0\0\0\0\x3b" W_HEADER(
                            "\x08") "\x5a\x1d\x12\x1b\x0a\x0c/w/app/"
                                    "level\x10\x08\x18\x08\x20\x01\x2a\x05three"
                                    "\0\0\0\0\x32" W_HEADER(
                                        "\x09") "\x5a\x14\x08\x01\x12\x10\x0a"
                                                "\x0c/w/app/level\x18\x09";

static void test_stream_real(void **state)
{
    (void)state;
    static const struct {
        size_t len;
        long long revision;
        bool created;
        size_t events, deletes;
        long long min_mod, max_mod;
    } want[] = {{30, 7, true, 0, 0, 0, 0},
                {139, 7, false, 4, 1, 4, 7},
                {59, 8, false, 1, 0, 8, 8},
                {50, 9, false, 1, 1, 9, 9}};
    const size_t total = sizeof(stream_real) - 1;
    size_t at = 0;
    for (size_t i = 0; i < ARRAY_LEN(want); i++) {
        const unsigned char *b = stream_real + at;
        size_t left = total - at, len = 99;
        char why[ETCD_PB_WHY];
        /* every shorter piece asks for more, announcing the length once
           the prefix is whole */
        for (size_t n = 0; n < ETCD_PB_FRAME + want[i].len; n++) {
            assert_int_equal(
                etcd_pb_frame_next(b, n, 1024, &len, why, sizeof(why)), 0);
            assert_int_equal(len, n < ETCD_PB_FRAME ? 0 : want[i].len);
        }
        assert_int_equal(
            etcd_pb_frame_next(b, left, 1024, &len, why, sizeof(why)), 1);
        assert_int_equal(len, want[i].len);
        struct etcd_pb_watch_resp o;
        assert_int_equal(etcd_pb_watch_resp_parse(b + ETCD_PB_FRAME, len, &o,
                                                  why, sizeof(why)),
                         0);
        assert_int_equal(o.revision, want[i].revision);
        assert_int_equal(o.created, want[i].created);
        assert_int_equal(o.events, want[i].events);
        assert_int_equal(o.deletes, want[i].deletes);
        assert_int_equal(o.min_mod, want[i].min_mod);
        assert_int_equal(o.max_mod, want[i].max_mod);
        assert_false(o.canceled);
        assert_int_equal(o.watch_id, 0);
        at += ETCD_PB_FRAME + len;
    }
    assert_int_equal(at, total);
    (void)W_CLUSTER;
}

struct frame_next_case {
    const char *name;
    const char *buf;
    size_t len;
    size_t max;
    int want;
    size_t msg_len;
    const char *why; /* want -1: exact */
};

static const struct frame_next_case frame_nexts[] = {
    {"nothing yet", "", 0, 10, 0, 0, NULL},
    {"four bytes of the prefix", BODY("\0\0\0\0"), 10, 0, 0, NULL},
    {"prefix only", BODY("\0\0\0\0\x03"), 10, 0, 3, NULL},
    {"an empty message", BODY("\0\0\0\0\0"), 10, 1, 0, NULL},
    {"a message and the next one's start",
     BODY("\0\0\0\0\x02"
          "ab\0\0"),
     10, 1, 2, NULL},
    {"as large as allowed",
     BODY("\0\0\0\0\x0a"
          "0123456789"),
     10, 1, 10, NULL},
    {"larger than allowed", BODY("\0\0\0\0\x0b"), 10, -1, 0,
     "gRPC: a message of 11 bytes is larger than 10"},
    {"length 2^32-1", BODY("\0\xff\xff\xff\xff"), 1 << 24, -1, 0,
     "gRPC: a message of 4294967295 bytes is larger than 16777216"},
    {"compressed", BODY("\x01\0\0\0\x06" CANARY), 100, -1, 0,
     "gRPC: a message is compressed, which was not asked for"},
    {"flag 0x80", BODY("\x80\0\0\0\0"), 100, -1, 0,
     "gRPC: the compressed flag is neither 0 nor 1"},
};

static void run_frame_next(void **state)
{
    const struct frame_next_case *c = *state;
    size_t len = 99;
    char why[ETCD_PB_WHY] = "";
    int r = etcd_pb_frame_next((const unsigned char *)c->buf, c->len, c->max,
                               &len, why, sizeof(why));
    if (r != c->want)
        fail_msg("%s: returned %d (%s), want %d", c->name, r, why, c->want);
    assert_int_equal(len, c->msg_len);
    if (r < 0 && strcmp(why, c->why) != 0)
        fail_msg("%s: why is \"%s\", want \"%s\"", c->name, why, c->why);
}

/* A reader of the encoded WatchRequest, independent of the encoder: one
   create_request, fields ascending, defaults left out. */
static void read_watch_req(const unsigned char *b, size_t len,
                           struct req_seen *s)
{
    size_t pos = read_frame(b, len);
    assert_int_equal(r_varint(b, &pos, len), 1 << 3 | WT_LEN);
    uint64_t inner = r_varint(b, &pos, len);
    assert_int_equal(inner, len - pos);
    read_fields(b, pos, len, false, s);
    /* fields 4 and 7 have other meanings in a WatchCreateRequest */
    assert_int_equal(s->revision, 0);
    assert_false(s->serializable);
    s->revision = s->limit;
}

struct watch_req_case {
    const char *name;
    struct etcd_pb_watch_req r;
    const char *bytes; /* NULL: round trip only */
    size_t len;
};

static const struct watch_req_case watch_reqs[] = {
    {"the request etcd 3.4.23 answered",
     {REQ("/w/app/", "/w/app0"), 4},
     BODY("\0\0\0\0\x16\x0a\x14\x0a\x07/w/app/\x12\x07/w/app0\x18\x04")},
    {"from the next revision on, all keys",
     {REQ("\0", "\0"), 0},
     BODY("\0\0\0\0\x08\x0a\x06\x0a\x01\0\x12\x01\0")},
    {"nothing at all: still a create_request",
     {NULL, 0, NULL, 0, 0},
     BODY("\0\0\0\0\x02\x0a\x00")},
    {"largest revision",
     {REQ("k", "l"), INT64_MAX},
     BODY("\0\0\0\0\x12\x0a\x10\x0a\x01k\x12\x01l"
          "\x18\xff\xff\xff\xff\xff\xff\xff\xff\x7f")},
    {"negative revision", {REQ("k", ""), -1}, NULL, 0},
    {"200-byte key: two-byte lengths",
     {key200, sizeof(key200), "z", 1, 7},
     NULL,
     0},
};

static void run_watch_req(void **state)
{
    const struct watch_req_case *c = *state;
    unsigned char out[REQ_MAX + 1];
    size_t n = etcd_pb_watch_req_size(&c->r);
    assert_true(n >= ETCD_PB_FRAME && n <= REQ_MAX);
    out[n] = 0xa5;
    assert_int_equal(etcd_pb_watch_req_write(&c->r, out), n);
    assert_int_equal(out[n], 0xa5);
    if (c->bytes != NULL)
        same_bytes(c->name, "frame", out, n, c->bytes, c->len);
    struct req_seen s;
    read_watch_req(out, n, &s);
    same_bytes(c->name, "key", s.f[1], s.f_len[1], c->r.key, c->r.key_len);
    same_bytes(c->name, "range_end", s.f[2], s.f_len[2], c->r.range_end,
               c->r.range_end_len);
    assert_int_equal(s.revision, c->r.start_revision);
}

static void test_watch_req_too_large(void **state)
{
    (void)state;
    static const char dummy[1];
    unsigned char out[8];
    memset(out, 0x5a, sizeof(out));
    struct etcd_pb_watch_req r = {dummy, SIZE_MAX - 3, dummy, 1, 1};
    assert_int_equal(etcd_pb_watch_req_size(&r), 0);
    assert_int_equal(etcd_pb_watch_req_write(&r, out), 0);
#if SIZE_MAX > UINT32_MAX
    /* the inner message fits a frame, the outer one does not */
    r = (struct etcd_pb_watch_req){dummy, (size_t)UINT32_MAX - 6, NULL, 0, 0};
    assert_int_equal(etcd_pb_watch_req_size(&r), 0);
    r.key_len = (size_t)UINT32_MAX - 12;
    assert_int_equal(etcd_pb_watch_req_size(&r), (size_t)UINT32_MAX + 5);
#endif
    for (size_t i = 0; i < sizeof(out); i++)
        assert_int_equal(out[i], 0x5a);
}

int main(void)
{
    for (size_t i = 0; i < sizeof(key200); i++)
        key200[i] = (char)(i * 7);
    for (size_t i = 0; i < sizeof(pw130); i++)
        pw130[i] = (char)(255 - i);

    static struct CMUnitTest
        tests[ARRAY_LEN(good) + ARRAY_LEN(bad) + ARRAY_LEN(stops) +
              ARRAY_LEN(auths) + ARRAY_LEN(frames) + ARRAY_LEN(range_reqs) +
              ARRAY_LEN(auth_reqs) + ARRAY_LEN(sizes) + ARRAY_LEN(whys) +
              ARRAY_LEN(watches) + ARRAY_LEN(frame_nexts) +
              ARRAY_LEN(watch_reqs) + 4];
    size_t k = 0;
#define ADD(table, fn)                                                         \
    for (size_t i = 0; i < ARRAY_LEN(table); i++)                              \
        tests[k++] = (struct CMUnitTest){table[i].name, fn, NULL, NULL,        \
                                         (void *)&table[i]};
    ADD(good, run_good)
    ADD(bad, run_bad)
    ADD(stops, run_stop)
    ADD(auths, run_auth)
    ADD(frames, run_frame)
    ADD(range_reqs, run_range_req)
    ADD(auth_reqs, run_auth_req)
    ADD(sizes, run_size)
    ADD(whys, run_why)
    ADD(watches, run_watch)
    ADD(frame_nexts, run_frame_next)
    ADD(watch_reqs, run_watch_req)
#undef ADD
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_why_size_zero);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_stream_real);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_watch_req_too_large);
    tests[k++] =
        (struct CMUnitTest)cmocka_unit_test_teardown(test_many, many_teardown);
    assert_int_equal(k, ARRAY_LEN(tests));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
