/* SPDX-License-Identifier: MIT */
/* Encoding and checked decoding of the protobuf messages the etcd provider
   exchanges over gRPC (RangeRequest/Response, AuthenticateRequest/Response,
   WatchRequest/Response). */
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pb.h"

#if LLONG_MAX != INT64_MAX || LLONG_MIN != INT64_MIN
#error "etcd_pb needs a 64-bit long long"
#endif

/* wire types (protobuf encoding guide) */
#define PB_VARINT 0
#define PB_I64    1
#define PB_LEN    2
#define PB_SGROUP 3
#define PB_EGROUP 4
#define PB_I32    5

#define PB_VARINT_MAX 10
/* the largest field number protoc accepts */
#define PB_FIELD_MAX 536870911u
/* "kvs[18446744073709551615].create_revision" and then some */
#define PB_PATH_MAX 64

/* field numbers of the requests; all below 16, so each tag is one byte */
#define PB_RANGE_KEY          1
#define PB_RANGE_END          2
#define PB_RANGE_LIMIT        3
#define PB_RANGE_REVISION     4
#define PB_RANGE_SERIALIZABLE 7
#define PB_AUTH_NAME          1
#define PB_AUTH_PASSWORD      2
#define PB_WATCH_CREATE       1
#define PB_WATCH_KEY          1
#define PB_WATCH_END          2
#define PB_WATCH_START        3

#define PB_TAG(field, wt) ((unsigned char)((field) << 3 | (wt)))

/* field numbers of the responses */
#define PB_RESP_HEADER      1
#define PB_RESP_KVS         2
#define PB_RESP_MORE        3
#define PB_RESP_COUNT       4
#define PB_HEADER_CLUSTER   1
#define PB_HEADER_MEMBER    2
#define PB_HEADER_REVISION  3
#define PB_HEADER_TERM      4
#define PB_KV_KEY           1
#define PB_KV_CREATE        2
#define PB_KV_MOD           3
#define PB_KV_VERSION       4
#define PB_KV_VALUE         5
#define PB_KV_LEASE         6
#define PB_AUTH_RESP_HEADER 1
#define PB_AUTH_RESP_TOKEN  2
#define PB_WR_HEADER        1
#define PB_WR_WATCH_ID      2
#define PB_WR_CREATED       3
#define PB_WR_CANCELED      4
#define PB_WR_COMPACT       5
#define PB_WR_REASON        6
#define PB_WR_FRAGMENT      7
#define PB_WR_EVENTS        11
#define PB_EVENT_TYPE       1
#define PB_EVENT_KV         2
#define PB_EVENT_PREV_KV    3
/* mvccpb.Event.EventType */
#define PB_EVENT_DELETE 1

/* One known field of a message: its name in messages and its wire type. */
struct pb_fdesc {
    const char *name; /* NULL: not a known field */
    unsigned char wt;
};

/* Indexed by field number; what is not listed is unknown and skipped. */
static const struct pb_fdesc pb_range_resp_fields[] = {
    [PB_RESP_HEADER] = {"header", PB_LEN},
    [PB_RESP_KVS] = {"kvs", PB_LEN},
    [PB_RESP_MORE] = {"more", PB_VARINT},
    [PB_RESP_COUNT] = {"count", PB_VARINT},
};
static const struct pb_fdesc pb_header_fields[] = {
    [PB_HEADER_CLUSTER] = {"cluster_id", PB_VARINT},
    [PB_HEADER_MEMBER] = {"member_id", PB_VARINT},
    [PB_HEADER_REVISION] = {"revision", PB_VARINT},
    [PB_HEADER_TERM] = {"raft_term", PB_VARINT},
};
static const struct pb_fdesc pb_kv_fields[] = {
    [PB_KV_KEY] = {"key", PB_LEN},
    [PB_KV_CREATE] = {"create_revision", PB_VARINT},
    [PB_KV_MOD] = {"mod_revision", PB_VARINT},
    [PB_KV_VERSION] = {"version", PB_VARINT},
    [PB_KV_VALUE] = {"value", PB_LEN},
    [PB_KV_LEASE] = {"lease", PB_VARINT},
};
static const struct pb_fdesc pb_auth_resp_fields[] = {
    [PB_AUTH_RESP_HEADER] = {"header", PB_LEN},
    [PB_AUTH_RESP_TOKEN] = {"token", PB_LEN},
};
static const struct pb_fdesc pb_watch_resp_fields[] = {
    [PB_WR_HEADER] = {"header", PB_LEN},
    [PB_WR_WATCH_ID] = {"watch_id", PB_VARINT},
    [PB_WR_CREATED] = {"created", PB_VARINT},
    [PB_WR_CANCELED] = {"canceled", PB_VARINT},
    [PB_WR_COMPACT] = {"compact_revision", PB_VARINT},
    [PB_WR_REASON] = {"cancel_reason", PB_LEN},
    [PB_WR_FRAGMENT] = {"fragment", PB_VARINT},
    [PB_WR_EVENTS] = {"events", PB_LEN},
};
static const struct pb_fdesc pb_event_fields[] = {
    [PB_EVENT_TYPE] = {"type", PB_VARINT},
    [PB_EVENT_KV] = {"kv", PB_LEN},
    [PB_EVENT_PREV_KV] = {"prev_kv", PB_LEN},
};

#define PB_DESC(a) (a), (sizeof(a) / sizeof((a)[0]))

/* The message being read: its known fields and the names in error texts. */
struct pb_msgdesc {
    const char *name; /* "RangeResponse", "header", "kvs" */
    bool top;         /* its fields are named without a prefix */
    bool indexed;     /* an element of a repeated field: name[idx] */
    const struct pb_fdesc *fields;
    size_t fields_n;
    /* a message inside an element of a repeated field: name[idx].sub */
    const char *sub;
};

static const struct pb_msgdesc pb_range_resp_desc = {
    "RangeResponse", true, false, PB_DESC(pb_range_resp_fields), NULL};
static const struct pb_msgdesc pb_header_desc = {
    "header", false, false, PB_DESC(pb_header_fields), NULL};
static const struct pb_msgdesc pb_kv_desc = {"kvs", false, true,
                                             PB_DESC(pb_kv_fields), NULL};
static const struct pb_msgdesc pb_auth_resp_desc = {
    "AuthenticateResponse", true, false, PB_DESC(pb_auth_resp_fields), NULL};
static const struct pb_msgdesc pb_watch_resp_desc = {
    "WatchResponse", true, false, PB_DESC(pb_watch_resp_fields), NULL};
static const struct pb_msgdesc pb_event_desc = {"events", false, true,
                                                PB_DESC(pb_event_fields), NULL};
static const struct pb_msgdesc pb_event_kv_desc = {"events", false, true,
                                                   PB_DESC(pb_kv_fields), "kv"};
static const struct pb_msgdesc pb_event_prev_desc = {
    "events", false, true, PB_DESC(pb_kv_fields), "prev_kv"};

/* A reader over one (possibly embedded) message; offsets count from base,
   the start of the outermost message, so that errors point into it. */
struct pb_cur {
    const unsigned char *base;
    size_t pos, end;
    const struct pb_msgdesc *desc;
    size_t idx;
    char *why;
    size_t why_size;
};

struct pb_field {
    uint32_t num;
    unsigned wt;
    uint64_t v;      /* PB_VARINT, PB_I64, PB_I32 */
    size_t off, len; /* PB_LEN: the data, at base + off */
};

enum pb_varint_status { PB_V_OK, PB_V_SHORT, PB_V_LONG, PB_V_OVERFLOW };

static const char *const pb_varint_text[] = {
    [PB_V_SHORT] = "is cut short",
    [PB_V_LONG] = "is longer than 10 bytes",
    [PB_V_OVERFLOW] = "overflows 64 bits",
};

/* The error texts are diagnostics: a text cut short is still useful, so
   truncation is marked rather than treated as a failure. */
__attribute__((format(printf, 3, 4))) static void
pb_why(char *why, size_t why_size, const char *fmt, ...)
{
    if (why == NULL || why_size == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(why, why_size, fmt, ap);
    va_end(ap);
    if (n < 0) {
        why[0] = '\0';
        return;
    }
    if ((size_t)n >= why_size && why_size >= 4)
        memcpy(why + why_size - 4, "...", 4);
}

/* The path of field num of the current message, or of the message itself
   when num is 0. */
static void pb_path(const struct pb_cur *c, uint32_t num, char *out,
                    size_t size)
{
    const struct pb_msgdesc *d = c->desc;
    const char *fname = num < d->fields_n ? d->fields[num].name : NULL;
    char field[32];
    if (fname != NULL)
        snprintf(field, sizeof(field), "%s", fname);
    else
        snprintf(field, sizeof(field), "field %" PRIu32, num);
    int n;
    if (d->sub != NULL && num == 0)
        n = snprintf(out, size, "%s[%zu].%s", d->name, c->idx, d->sub);
    else if (d->sub != NULL)
        n = snprintf(out, size, "%s[%zu].%s.%s", d->name, c->idx, d->sub,
                     field);
    else if (num == 0 && d->indexed)
        n = snprintf(out, size, "%s[%zu]", d->name, c->idx);
    else if (num == 0 || d->top)
        n = snprintf(out, size, "%s", num == 0 ? d->name : field);
    else if (d->indexed)
        n = snprintf(out, size, "%s[%zu].%s", d->name, c->idx, field);
    else
        n = snprintf(out, size, "%s.%s", d->name, field);
    if (n < 0 || (size_t)n >= size)
        snprintf(out, size, "%s", d->name);
}

/* Records why the message is malformed, prefixed by the path of field num
   (0: the message); always returns -1. */
__attribute__((format(printf, 3, 4), cold)) static int
pb_fail(const struct pb_cur *c, uint32_t num, const char *fmt, ...)
{
    if (c->why == NULL || c->why_size == 0)
        return -1;
    char path[PB_PATH_MAX];
    pb_path(c, num, path, sizeof(path));
    char detail[ETCD_PB_WHY];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    if (n < 0)
        detail[0] = '\0';
    pb_why(c->why, c->why_size, "%s: %s", path, detail);
    return -1;
}

/* Any varint, with the reason when it is not one; the fast path of
   pb_next reads the common ones itself. */
static enum pb_varint_status pb_varint(const unsigned char *b, size_t *pos,
                                       size_t end, uint64_t *out)
{
    size_t p = *pos;
    uint64_t v = 0;
    for (unsigned i = 0; i < PB_VARINT_MAX; i++) {
        if (p == end)
            return PB_V_SHORT;
        unsigned char byte = b[p++];
        /* the 10th byte holds bit 63 only; protobuf refuses more */
        if (i == PB_VARINT_MAX - 1 && byte > 1)
            return byte & 0x80 ? PB_V_LONG : PB_V_OVERFLOW;
        v |= (uint64_t)(byte & 0x7f) << (7 * i);
        if (byte < 0x80) {
            *out = v;
            *pos = p;
            return PB_V_OK;
        }
    }
    return PB_V_LONG;
}

/* int64 fields travel as the two's complement in a uint64 varint; this
   conversion avoids the implementation-defined cast. */
static long long pb_int64(uint64_t v)
{
    if (v <= (uint64_t)INT64_MAX)
        return (long long)v;
    return -(long long)(~v) - 1;
}

static uint64_t pb_le(const unsigned char *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = n; i > 0; i--)
        v = v << 8 | p[i - 1];
    return v;
}

/* pb_next for every field that is not plain: it checks everything and
   says what is wrong. */
__attribute__((noinline)) static int pb_next_slow(struct pb_cur *c,
                                                  struct pb_field *f)
{
    if (c->pos == c->end)
        return 0;
    size_t at = c->pos;
    uint64_t tag;
    enum pb_varint_status vs = pb_varint(c->base, &c->pos, c->end, &tag);
    if (vs != PB_V_OK)
        return pb_fail(c, 0, "tag at byte %zu %s", at, pb_varint_text[vs]);
    uint64_t num = tag >> 3;
    unsigned wt = (unsigned)(tag & 7);
    if (num == 0)
        return pb_fail(c, 0, "field number 0 at byte %zu", at);
    if (num > PB_FIELD_MAX)
        return pb_fail(
            c, 0, "field number %" PRIu64 " at byte %zu is too large", num, at);
    f->num = (uint32_t)num;
    f->wt = wt;
    if (wt == PB_SGROUP || wt == PB_EGROUP)
        return pb_fail(c, f->num,
                       "group wire type %u at byte %zu is not allowed", wt, at);
    if (wt != PB_VARINT && wt != PB_I64 && wt != PB_LEN && wt != PB_I32)
        return pb_fail(c, f->num, "invalid wire type %u at byte %zu", wt, at);
    const struct pb_fdesc *d =
        f->num < c->desc->fields_n ? &c->desc->fields[f->num] : NULL;
    if (d != NULL && d->name != NULL && d->wt != wt)
        return pb_fail(c, f->num, "wire type %u at byte %zu, expected %u", wt,
                       at, (unsigned)d->wt);
    size_t vat = c->pos;
    switch (wt) {
    case PB_VARINT:
        vs = pb_varint(c->base, &c->pos, c->end, &f->v);
        if (vs != PB_V_OK)
            return pb_fail(c, f->num, "varint at byte %zu %s", vat,
                           pb_varint_text[vs]);
        return 1;
    case PB_I64:
    case PB_I32: {
        unsigned n = wt == PB_I64 ? 8 : 4;
        if (c->end - c->pos < n)
            return pb_fail(c, f->num,
                           "%u-byte value at byte %zu goes past the end at "
                           "byte %zu",
                           n, vat, c->end);
        f->v = pb_le(c->base + c->pos, n);
        c->pos += n;
        return 1;
    }
    default: {
        uint64_t len;
        vs = pb_varint(c->base, &c->pos, c->end, &len);
        if (vs != PB_V_OK)
            return pb_fail(c, f->num, "length at byte %zu %s", vat,
                           pb_varint_text[vs]);
        /* compared as uint64_t: a length varint may be up to 2^64-1 */
        if (len > (uint64_t)(c->end - c->pos))
            return pb_fail(c, f->num,
                           "length %" PRIu64 " at byte %zu goes past the end "
                           "at byte %zu",
                           len, vat, c->end);
        f->off = c->pos;
        f->len = (size_t)len;
        c->pos += f->len;
        return 1;
    }
    }
}

/* A varint of at most 9 bytes, all before end; false leaves the rest,
   the 10-byte rule and the error texts, to pb_next_slow. */
static inline bool pb_varint9(const unsigned char *b, size_t *pos, size_t end,
                              uint64_t *out)
{
    size_t p = *pos;
    if (p < end && b[p] < 0x80) {
        *out = b[p];
        *pos = p + 1;
        return true;
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < PB_VARINT_MAX - 1 && p < end; i++) {
        unsigned char byte = b[p++];
        v |= (uint64_t)(byte & 0x7f) << (7 * i);
        if (byte < 0x80) {
            *out = v;
            *pos = p;
            return true;
        }
    }
    return false;
}

/*
 * The next field of c into f: 1, 0 at the end of the message, -1 when
 * malformed.  Unknown fields come back too, already checked.  Inlined for
 * what etcd sends: a one-byte tag of a known field with its wire type and
 * a short value, which pb_next_slow would accept just the same; anything
 * else, every error included, is read again from its tag by pb_next_slow.
 */
__attribute__((always_inline)) static inline int pb_next(struct pb_cur *c,
                                                         struct pb_field *f)
{
    const unsigned char *b = c->base;
    size_t pos = c->pos, end = c->end;
    if (pos == end)
        return 0;
    unsigned tag = b[pos];
    unsigned num = tag >> 3, wt = tag & 7;
    const struct pb_msgdesc *d = c->desc;
    if (tag >= 0x80 || num == 0 || num >= d->fields_n ||
        d->fields[num].name == NULL || d->fields[num].wt != wt)
        return pb_next_slow(c, f);
    pos++;
    if (wt == PB_VARINT) {
        if (!pb_varint9(b, &pos, end, &f->v))
            return pb_next_slow(c, f);
    } else {
        /* known fields are varints or length-delimited only */
        uint64_t len;
        if (!pb_varint9(b, &pos, end, &len) || len > end - pos)
            return pb_next_slow(c, f);
        f->off = pos;
        f->len = (size_t)len;
        pos += (size_t)len;
    }
    f->num = num;
    f->wt = wt;
    c->pos = pos;
    return 1;
}

/* A reader over the embedded message held by field f of parent. */
static struct pb_cur pb_sub(const struct pb_cur *parent,
                            const struct pb_field *f,
                            const struct pb_msgdesc *desc, size_t idx)
{
    return (struct pb_cur){.base = parent->base,
                           .pos = f->off,
                           .end = f->off + f->len,
                           .desc = desc,
                           .idx = idx,
                           .why = parent->why,
                           .why_size = parent->why_size};
}

/* Merges a ResponseHeader into *revision: only a revision it holds
   replaces the one known, as protobuf merges a message field that comes
   twice. */
static int pb_header(struct pb_cur *c, long long *revision)
{
    for (;;) {
        struct pb_field f;
        int r = pb_next(c, &f);
        if (r <= 0)
            return r;
        if (f.num == PB_HEADER_REVISION)
            *revision = pb_int64(f.v);
    }
}

static int pb_kv(struct pb_cur *c, struct etcd_pb_kv *kv)
{
    /* absent bytes point at the KeyValue itself: valid, never NULL */
    const unsigned char *none = c->base + c->pos;
    *kv = (struct etcd_pb_kv){.key = none, .value = none};
    for (;;) {
        struct pb_field f;
        int r = pb_next(c, &f);
        if (r <= 0)
            return r;
        switch (f.num) {
        case PB_KV_KEY:
            kv->key = c->base + f.off;
            kv->key_len = f.len;
            break;
        case PB_KV_VALUE:
            kv->value = c->base + f.off;
            kv->value_len = f.len;
            break;
        case PB_KV_CREATE:
            kv->create_revision = pb_int64(f.v);
            break;
        case PB_KV_MOD:
            kv->mod_revision = pb_int64(f.v);
            break;
        case PB_KV_VERSION:
            kv->version = pb_int64(f.v);
            break;
        case PB_KV_LEASE:
            kv->lease = pb_int64(f.v);
            break;
        default:
            break;
        }
    }
}

int etcd_pb_range_resp_parse(const unsigned char *msg, size_t len,
                             struct etcd_pb_range_resp *out, etcd_pb_kv_fn kv,
                             void *ctx, char *why, size_t why_size)
{
    struct etcd_pb_range_resp res = {0};
    if (out != NULL)
        *out = res;
    if (msg == NULL && len > 0) {
        pb_why(why, why_size, "RangeResponse: no message");
        return -1;
    }
    if (why != NULL && why_size > 0)
        why[0] = '\0';
    const struct pb_cur top = {.base = msg,
                               .end = len,
                               .desc = &pb_range_resp_desc,
                               .why = why,
                               .why_size = why_size};
    /* first pass: everything is checked before the caller sees a key */
    struct pb_cur c = top;
    for (;;) {
        struct pb_field f;
        int r = pb_next(&c, &f);
        if (r == 0)
            break;
        if (r < 0)
            return -1;
        if (f.num == PB_RESP_HEADER) {
            struct pb_cur sub = pb_sub(&c, &f, &pb_header_desc, 0);
            if (pb_header(&sub, &res.revision) < 0)
                return -1;
        } else if (f.num == PB_RESP_KVS) {
            struct pb_cur sub = pb_sub(&c, &f, &pb_kv_desc, res.kvs);
            struct etcd_pb_kv one;
            if (pb_kv(&sub, &one) < 0)
                return -1;
            res.kvs++;
        } else if (f.num == PB_RESP_MORE) {
            res.more = f.v != 0;
        } else if (f.num == PB_RESP_COUNT) {
            res.count = pb_int64(f.v);
        }
    }
    if (out != NULL)
        *out = res;
    if (kv == NULL)
        return 0;
    c = top;
    for (size_t idx = 0;;) {
        struct pb_field f;
        int r = pb_next(&c, &f);
        if (r <= 0)
            return r;
        if (f.num != PB_RESP_KVS)
            continue;
        struct pb_cur sub = pb_sub(&c, &f, &pb_kv_desc, idx);
        struct etcd_pb_kv one;
        if (pb_kv(&sub, &one) < 0)
            return -1;
        int stop = kv(ctx, &one, idx++);
        if (stop != 0)
            return stop;
    }
}

int etcd_pb_auth_resp_parse(const unsigned char *msg, size_t len,
                            const unsigned char **token, size_t *token_len,
                            char *why, size_t why_size)
{
    static const unsigned char empty[1];
    *token = msg != NULL ? msg : empty;
    *token_len = 0;
    if (msg == NULL && len > 0) {
        pb_why(why, why_size, "AuthenticateResponse: no message");
        return -1;
    }
    if (why != NULL && why_size > 0)
        why[0] = '\0';
    struct pb_cur c = {.base = msg,
                       .end = len,
                       .desc = &pb_auth_resp_desc,
                       .why = why,
                       .why_size = why_size};
    const unsigned char *tok = *token;
    size_t tok_len = 0;
    long long revision = 0;
    for (;;) {
        struct pb_field f;
        int r = pb_next(&c, &f);
        if (r == 0)
            break;
        if (r < 0)
            return -1;
        if (f.num == PB_AUTH_RESP_HEADER) {
            struct pb_cur sub = pb_sub(&c, &f, &pb_header_desc, 0);
            if (pb_header(&sub, &revision) < 0)
                return -1;
        } else if (f.num == PB_AUTH_RESP_TOKEN) {
            tok = msg + f.off;
            tok_len = f.len;
        }
    }
    *token = tok;
    *token_len = tok_len;
    return 0;
}

/* One Event: its type and the mod_revision of its kv (0 without one);
   kv and prev_kv are checked as KeyValues. */
static int pb_event(struct pb_cur *c, bool *is_delete, long long *mod)
{
    *is_delete = false;
    *mod = 0;
    for (;;) {
        struct pb_field f;
        int r = pb_next(c, &f);
        if (r <= 0)
            return r;
        struct etcd_pb_kv kv;
        if (f.num == PB_EVENT_TYPE) {
            *is_delete = f.v == PB_EVENT_DELETE;
        } else if (f.num == PB_EVENT_KV) {
            struct pb_cur sub = pb_sub(c, &f, &pb_event_kv_desc, c->idx);
            if (pb_kv(&sub, &kv) < 0)
                return -1;
            *mod = kv.mod_revision;
        } else if (f.num == PB_EVENT_PREV_KV) {
            struct pb_cur sub = pb_sub(c, &f, &pb_event_prev_desc, c->idx);
            if (pb_kv(&sub, &kv) < 0)
                return -1;
        }
    }
}

int etcd_pb_watch_resp_parse(const unsigned char *msg, size_t len,
                             struct etcd_pb_watch_resp *out, char *why,
                             size_t why_size)
{
    static const unsigned char empty[1];
    struct etcd_pb_watch_resp res = {.cancel_reason =
                                         msg != NULL ? msg : empty};
    *out = res;
    if (msg == NULL && len > 0) {
        pb_why(why, why_size, "WatchResponse: no message");
        return -1;
    }
    if (why != NULL && why_size > 0)
        why[0] = '\0';
    struct pb_cur c = {.base = msg,
                       .end = len,
                       .desc = &pb_watch_resp_desc,
                       .why = why,
                       .why_size = why_size};
    for (;;) {
        struct pb_field f;
        int r = pb_next(&c, &f);
        if (r == 0)
            break;
        if (r < 0)
            return -1;
        switch (f.num) {
        case PB_WR_HEADER: {
            struct pb_cur sub = pb_sub(&c, &f, &pb_header_desc, 0);
            if (pb_header(&sub, &res.revision) < 0)
                return -1;
            break;
        }
        case PB_WR_WATCH_ID:
            res.watch_id = pb_int64(f.v);
            break;
        case PB_WR_CREATED:
            res.created = f.v != 0;
            break;
        case PB_WR_CANCELED:
            res.canceled = f.v != 0;
            break;
        case PB_WR_COMPACT:
            res.compact_revision = pb_int64(f.v);
            break;
        case PB_WR_REASON:
            res.cancel_reason = msg + f.off;
            res.cancel_reason_len = f.len;
            break;
        case PB_WR_FRAGMENT:
            res.fragment = f.v != 0;
            break;
        case PB_WR_EVENTS: {
            struct pb_cur sub = pb_sub(&c, &f, &pb_event_desc, res.events);
            bool is_delete;
            long long mod;
            if (pb_event(&sub, &is_delete, &mod) < 0)
                return -1;
            if (res.events == 0 || mod < res.min_mod)
                res.min_mod = mod;
            if (res.events == 0 || mod > res.max_mod)
                res.max_mod = mod;
            res.events++;
            res.deletes += is_delete;
            break;
        }
        default:
            break;
        }
    }
    *out = res;
    return 0;
}

int etcd_pb_frame_next(const unsigned char *buf, size_t len, size_t max,
                       size_t *msg_len, char *why, size_t why_size)
{
    *msg_len = 0;
    if (len < ETCD_PB_FRAME)
        return 0;
    if (buf[0] == 1) {
        pb_why(why, why_size,
               "gRPC: a message is compressed, which was not asked for");
        return -1;
    }
    if (buf[0] != 0) {
        pb_why(why, why_size, "gRPC: the compressed flag is neither 0 nor 1");
        return -1;
    }
    uint32_t n = (uint32_t)buf[1] << 24 | (uint32_t)buf[2] << 16 |
                 (uint32_t)buf[3] << 8 | (uint32_t)buf[4];
    if ((uint64_t)n > (uint64_t)max) {
        pb_why(why, why_size,
               "gRPC: a message of %" PRIu32 " bytes is larger than %zu", n,
               max);
        return -1;
    }
    *msg_len = n;
    return len - ETCD_PB_FRAME >= n ? 1 : 0;
}

int etcd_pb_unframe(const unsigned char *body, size_t len,
                    const unsigned char **msg, size_t *msg_len, char *why,
                    size_t why_size)
{
    *msg = NULL;
    *msg_len = 0;
    if (len == 0 || body == NULL) {
        pb_why(why, why_size, "gRPC: empty response body");
        return -1;
    }
    if (len < ETCD_PB_FRAME) {
        pb_why(why, why_size,
               "gRPC: a %zu-byte body is shorter than the %d-byte message "
               "prefix",
               len, ETCD_PB_FRAME);
        return -1;
    }
    if (body[0] == 1) {
        pb_why(why, why_size,
               "gRPC: the message is compressed, which was not asked for");
        return -1;
    }
    if (body[0] != 0) {
        pb_why(why, why_size, "gRPC: the compressed flag is neither 0 nor 1");
        return -1;
    }
    uint32_t n = (uint32_t)body[1] << 24 | (uint32_t)body[2] << 16 |
                 (uint32_t)body[3] << 8 | (uint32_t)body[4];
    size_t room = len - ETCD_PB_FRAME;
    if (n > room) {
        pb_why(why, why_size,
               "gRPC: message length %" PRIu32 " goes past the end of the "
               "%zu-byte body",
               n, len);
        return -1;
    }
    if (n < room) {
        pb_why(why, why_size,
               "gRPC: the %zu-byte body goes on after the %zu-byte framed "
               "message",
               len, (size_t)n + ETCD_PB_FRAME);
        return -1;
    }
    if (why != NULL && why_size > 0)
        why[0] = '\0';
    *msg = body + ETCD_PB_FRAME;
    *msg_len = n;
    return 0;
}

static size_t pb_varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static bool pb_add(size_t *acc, size_t n)
{
    if (n > SIZE_MAX - *acc)
        return false;
    *acc += n;
    return true;
}

/* A length-delimited field (one-byte tag) of len bytes, when not empty. */
static bool pb_add_len_field(size_t *acc, size_t len)
{
    if (len == 0)
        return true;
    return pb_add(acc, 1) && pb_add(acc, pb_varint_len(len)) &&
           pb_add(acc, len);
}

static bool pb_add_varint_field(size_t *acc, uint64_t v)
{
    if (v == 0)
        return true;
    return pb_add(acc, 1) && pb_add(acc, pb_varint_len(v));
}

/* The framed size of a message of msg_len bytes; 0 when it cannot be
   framed (the gRPC length is 32 bits) or the sum overflowed (ok false). */
static size_t pb_framed(bool ok, size_t msg_len)
{
    if (!ok || (uint64_t)msg_len > UINT32_MAX ||
        msg_len > SIZE_MAX - ETCD_PB_FRAME)
        return 0;
    return msg_len + ETCD_PB_FRAME;
}

static unsigned char *pb_put_varint(unsigned char *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *p++ = (unsigned char)v;
    return p;
}

static unsigned char *pb_put_frame(unsigned char *p, size_t msg_len)
{
    uint32_t n = (uint32_t)msg_len;
    p[0] = 0;
    p[1] = (unsigned char)(n >> 24);
    p[2] = (unsigned char)(n >> 16);
    p[3] = (unsigned char)(n >> 8);
    p[4] = (unsigned char)n;
    return p + ETCD_PB_FRAME;
}

static unsigned char *pb_put_len_field(unsigned char *p, unsigned field,
                                       const char *s, size_t len)
{
    if (len == 0)
        return p;
    *p++ = PB_TAG(field, PB_LEN);
    p = pb_put_varint(p, len);
    memcpy(p, s, len);
    return p + len;
}

static unsigned char *pb_put_varint_field(unsigned char *p, unsigned field,
                                          uint64_t v)
{
    if (v == 0)
        return p;
    *p++ = PB_TAG(field, PB_VARINT);
    return pb_put_varint(p, v);
}

/* int64 is sent as the uint64 of the same two's complement bits; this
   conversion is defined for every value, unlike the reverse. */
static uint64_t pb_uint64(long long v)
{
    return (uint64_t)v;
}

static size_t pb_range_req_len(const struct etcd_pb_range_req *r, bool *ok)
{
    size_t n = 0;
    *ok = pb_add_len_field(&n, r->key_len) &&
          pb_add_len_field(&n, r->range_end_len) &&
          pb_add_varint_field(&n, pb_uint64(r->limit)) &&
          pb_add_varint_field(&n, pb_uint64(r->revision)) &&
          pb_add_varint_field(&n, r->serializable);
    return n;
}

size_t etcd_pb_range_req_size(const struct etcd_pb_range_req *r)
{
    bool ok;
    size_t n = pb_range_req_len(r, &ok);
    return pb_framed(ok, n);
}

size_t etcd_pb_range_req_write(const struct etcd_pb_range_req *r,
                               unsigned char *out)
{
    bool ok;
    size_t n = pb_range_req_len(r, &ok);
    if (pb_framed(ok, n) == 0)
        return 0;
    unsigned char *p = pb_put_frame(out, n);
    p = pb_put_len_field(p, PB_RANGE_KEY, r->key, r->key_len);
    p = pb_put_len_field(p, PB_RANGE_END, r->range_end, r->range_end_len);
    p = pb_put_varint_field(p, PB_RANGE_LIMIT, pb_uint64(r->limit));
    p = pb_put_varint_field(p, PB_RANGE_REVISION, pb_uint64(r->revision));
    p = pb_put_varint_field(p, PB_RANGE_SERIALIZABLE, r->serializable);
    return (size_t)(p - out);
}

static size_t pb_auth_req_len(size_t name_len, size_t pw_len, bool *ok)
{
    size_t n = 0;
    *ok = pb_add_len_field(&n, name_len) && pb_add_len_field(&n, pw_len);
    return n;
}

size_t etcd_pb_auth_req_size(const char *name, size_t name_len, const char *pw,
                             size_t pw_len)
{
    bool ok;
    size_t n = pb_auth_req_len(name_len, pw_len, &ok);
    return pb_framed(ok, n);
}

size_t etcd_pb_auth_req_write(const char *name, size_t name_len, const char *pw,
                              size_t pw_len, unsigned char *out)
{
    bool ok;
    size_t n = pb_auth_req_len(name_len, pw_len, &ok);
    if (pb_framed(ok, n) == 0)
        return 0;
    unsigned char *p = pb_put_frame(out, n);
    p = pb_put_len_field(p, PB_AUTH_NAME, name, name_len);
    p = pb_put_len_field(p, PB_AUTH_PASSWORD, pw, pw_len);
    return (size_t)(p - out);
}

/* The WatchCreateRequest, and the WatchRequest that holds it. */
static size_t pb_watch_create_len(const struct etcd_pb_watch_req *r, bool *ok)
{
    size_t n = 0;
    *ok = pb_add_len_field(&n, r->key_len) &&
          pb_add_len_field(&n, r->range_end_len) &&
          pb_add_varint_field(&n, pb_uint64(r->start_revision));
    return n;
}

static size_t pb_watch_req_len(const struct etcd_pb_watch_req *r, bool *ok,
                               size_t *inner)
{
    *inner = pb_watch_create_len(r, ok);
    size_t n = 0;
    /* an empty create_request is still sent: it is what says "create" */
    *ok = *ok && pb_add(&n, 1) && pb_add(&n, pb_varint_len(*inner)) &&
          pb_add(&n, *inner);
    return n;
}

size_t etcd_pb_watch_req_size(const struct etcd_pb_watch_req *r)
{
    bool ok;
    size_t inner;
    size_t n = pb_watch_req_len(r, &ok, &inner);
    return pb_framed(ok, n);
}

size_t etcd_pb_watch_req_write(const struct etcd_pb_watch_req *r,
                               unsigned char *out)
{
    bool ok;
    size_t inner;
    size_t n = pb_watch_req_len(r, &ok, &inner);
    if (pb_framed(ok, n) == 0)
        return 0;
    unsigned char *p = pb_put_frame(out, n);
    *p++ = PB_TAG(PB_WATCH_CREATE, PB_LEN);
    p = pb_put_varint(p, inner);
    p = pb_put_len_field(p, PB_WATCH_KEY, r->key, r->key_len);
    p = pb_put_len_field(p, PB_WATCH_END, r->range_end, r->range_end_len);
    p = pb_put_varint_field(p, PB_WATCH_START, pb_uint64(r->start_revision));
    return (size_t)(p - out);
}
