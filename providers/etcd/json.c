/* SPDX-License-Identifier: MIT */
/* The etcd gateway's range response read in one pass without a parse tree,
   declining every shape on which jansson and wire_json.c could see
   otherwise. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define EJ_OK      1
#define EJ_DECLINE 0
#define EJ_NOMEM   (-1)

/* classes of ej_class */
#define EJ_B64 1 /* [A-Za-z0-9+/=] */
#define EJ_WS  2 /* the blanks of JSON, and the only ones jansson skips */

/* the longest member name ej_same can compare */
#define EJ_NAME_MAX 16
/* digits of INT64_MAX and UINT64_MAX */
#define EJ_INT64_DIGITS  19
#define EJ_UINT64_DIGITS 20
/* KeyValues of the first allocation */
#define EJ_KVS_FIRST 64

/* Bytes 0x80 and up are in no class: nothing accepted is outside ASCII, so
   jansson's UTF-8 checks can never fail on an accepted body. */
static const unsigned char ej_class[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 0, 0, 2, 0, 0, /* \t \n \r */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* control bytes */
    2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, /* ' ' + / */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, /* 0-9 = */
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* A-O */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, /* P-Z */
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* a-o */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, /* p-z */
};

struct ej_scan {
    const unsigned char *p;
    const unsigned char *end;
};

struct ej_name {
    const char *text;
    size_t len;
};

/* The members of the object being read: those seen, as bits of their index
   in the names, and the index of the one expected next. */
struct ej_object {
    unsigned seen;
    int hint;
};

#define EJ_NAME(s)                                                             \
    {                                                                          \
        s, sizeof(s) - 1                                                       \
    }

enum { EJ_TOP_HEADER, EJ_TOP_KVS, EJ_TOP_MORE, EJ_TOP_COUNT, EJ_TOP_N };
static const struct ej_name ej_top_names[EJ_TOP_N] = {
    EJ_NAME("header"), EJ_NAME("kvs"), EJ_NAME("more"), EJ_NAME("count")};

enum { EJ_HDR_CLUSTER, EJ_HDR_MEMBER, EJ_HDR_REVISION, EJ_HDR_TERM, EJ_HDR_N };
static const struct ej_name ej_hdr_names[EJ_HDR_N] = {
    EJ_NAME("cluster_id"), EJ_NAME("member_id"), EJ_NAME("revision"),
    EJ_NAME("raft_term")};

enum {
    EJ_KV_KEY,
    EJ_KV_CREATE,
    EJ_KV_MOD,
    EJ_KV_VERSION,
    EJ_KV_VALUE,
    EJ_KV_LEASE,
    EJ_KV_N
};
static const struct ej_name ej_kv_names[EJ_KV_N] = {
    EJ_NAME("key"),     EJ_NAME("create_revision"), EJ_NAME("mod_revision"),
    EJ_NAME("version"), EJ_NAME("value"),           EJ_NAME("lease")};
_Static_assert(sizeof("create_revision") - 1 <= EJ_NAME_MAX,
               "the longest name must fit ej_same");

static bool ej_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static void ej_ws(struct ej_scan *s)
{
    while (s->p < s->end && (ej_class[*s->p] & EJ_WS) != 0)
        s->p++;
}

/* Blanks, then c: whether c came. */
static bool ej_take(struct ej_scan *s, unsigned char c)
{
    ej_ws(s);
    if (s->p == s->end || *s->p != c)
        return false;
    s->p++;
    return true;
}

/* Blanks, then a literal.  What follows it is checked by the caller, which
   wants ',', '}' or a blank: so "nullx", which jansson reads as one bad
   token, is declined too. */
static bool ej_word(struct ej_scan *s, const char *word, size_t len)
{
    ej_ws(s);
    if ((size_t)(s->end - s->p) < len || memcmp(s->p, word, len) != 0)
        return false;
    s->p += len;
    return true;
}

static bool ej_null(struct ej_scan *s)
{
    return ej_word(s, "null", 4);
}

/* After a value: 1 at a ',' (another one follows), 0 at close, -1 else. */
static int ej_next(struct ej_scan *s, unsigned char close)
{
    ej_ws(s);
    if (s->p == s->end)
        return -1;
    unsigned char c = *s->p++;
    if (c == ',')
        return 1;
    return c == close ? 0 : -1;
}

/* Whether the n bytes at p are those of name, n at most EJ_NAME_MAX: two
   overlapping loads from each side instead of a loop or a call. */
static bool ej_same(const unsigned char *p, const char *name, size_t n)
{
    if (n >= sizeof(uint64_t)) {
        uint64_t a[2], b[2];
        memcpy(&a[0], p, sizeof(uint64_t));
        memcpy(&b[0], name, sizeof(uint64_t));
        memcpy(&a[1], p + n - sizeof(uint64_t), sizeof(uint64_t));
        memcpy(&b[1], name + n - sizeof(uint64_t), sizeof(uint64_t));
        return a[0] == b[0] && a[1] == b[1];
    }
    if (n >= sizeof(uint32_t)) {
        uint32_t a[2], b[2];
        memcpy(&a[0], p, sizeof(uint32_t));
        memcpy(&b[0], name, sizeof(uint32_t));
        memcpy(&a[1], p + n - sizeof(uint32_t), sizeof(uint32_t));
        memcpy(&b[1], name + n - sizeof(uint32_t), sizeof(uint32_t));
        return a[0] == b[0] && a[1] == b[1];
    }
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)name[i])
            return false;
    return true;
}

/*
 * A member name and its ':': its index in names, or -1 when it is none of
 * them or was seen before in this object.  A name with an escape never
 * matches (no name has a backslash or a quote), so names compare as
 * jansson's unescaped keys would, and a repeat is exactly what
 * JSON_REJECT_DUPLICATES refuses.  The name after the last one found is
 * tried first: etcd writes the members in the order of the tables.
 */
static int ej_member(struct ej_scan *s, const struct ej_name *names, int n,
                     struct ej_object *o)
{
    if (!ej_take(s, '"'))
        return -1;
    size_t room = (size_t)(s->end - s->p);
    for (int k = 0; k < n; k++) {
        int i = o->hint + k < n ? o->hint + k : o->hint + k - n;
        size_t len = names[i].len;
        if (room <= len || s->p[len] != '"' ||
            !ej_same(s->p, names[i].text, len))
            continue;
        if ((o->seen & (1u << i)) != 0)
            return -1;
        o->seen |= 1u << i;
        o->hint = i + 1 < n ? i + 1 : 0;
        s->p += len + 1;
        return ej_take(s, ':') ? i : -1;
    }
    return -1;
}

/*
 * A 64-bit integer as etcd's gateway writes it, a string of digits, or as
 * a proxy may re-encode it, a plain JSON integer.  A string has 1 to
 * EJ_INT64_DIGITS digits and is at most LLONG_MAX, as etcd_int64
 * (wire_json.c) takes it; for uint64 fields, which the provider never
 * reads, up to UINT64_MAX (cluster and member IDs are random 64-bit
 * numbers, over LLONG_MAX half of the time).  A plain integer has no sign,
 * fraction, exponent or leading zero, and is at most LLONG_MAX, beyond which
 * jansson fails.
 */
static bool ej_int(struct ej_scan *s, bool uint64, uint64_t *out)
{
    ej_ws(s);
    const unsigned char *p = s->p;
    const unsigned char *end = s->end;
    bool quoted = p < end && *p == '"';
    if (quoted)
        p++;
    const unsigned char *start = p;
    uint64_t v = 0;
    /* 19 digits fit in a uint64 */
    while (p < end && p - start < EJ_INT64_DIGITS && ej_digit(*p))
        v = v * 10 + (unsigned)(*p++ - '0');
    if (p < end && ej_digit(*p)) {
        unsigned d = (unsigned)(*p++ - '0');
        if (v > (UINT64_MAX - d) / 10 || (p < end && ej_digit(*p)))
            return false;
        v = v * 10 + d;
    }
    size_t digits = (size_t)(p - start);
    uint64_t max = LLONG_MAX;
    if (digits == 0)
        return false;
    if (quoted) {
        if (uint64)
            max = UINT64_MAX;
        else if (digits > EJ_INT64_DIGITS)
            return false;
        if (p == end || *p != '"')
            return false;
        p++;
    } else if (*start == '0' && digits > 1) {
        return false;
    }
    if (v > max)
        return false;
    s->p = p;
    *out = v;
    return true;
}

/* A string of base64 bytes; no escape, control or non-ASCII byte can be in
   it, so the span is what json_string_value would return. */
static bool ej_b64(struct ej_scan *s, const char **text, size_t *len)
{
    if (!ej_take(s, '"'))
        return false;
    const unsigned char *start = s->p;
    const unsigned char *p = s->p;
    const unsigned char *end = s->end;
    /* the loop that counts: most of a page is base64 */
    while (end - p >= 8 && (ej_class[p[0]] & ej_class[p[1]] & ej_class[p[2]] &
                            ej_class[p[3]] & ej_class[p[4]] & ej_class[p[5]] &
                            ej_class[p[6]] & ej_class[p[7]] & EJ_B64) != 0)
        p += 8;
    while (p < end && (ej_class[*p] & EJ_B64) != 0)
        p++;
    if (p == end || *p != '"')
        return false;
    *text = (const char *)start;
    *len = (size_t)(p - start);
    s->p = p + 1;
    return true;
}

static bool ej_kv(struct ej_scan *s, struct etcd_json_kv *kv)
{
    *kv = (struct etcd_json_kv){0};
    if (!ej_take(s, '{'))
        return false;
    struct ej_object o = {0, 0};
    int r = 0;
    do {
        uint64_t v = 0;
        bool ok = false;
        switch (ej_member(s, ej_kv_names, EJ_KV_N, &o)) {
        case EJ_KV_KEY:
            /* an empty key is an error of etcd.c's own */
            ok = ej_b64(s, &kv->key, &kv->key_len) && kv->key_len > 0;
            break;
        case EJ_KV_VALUE:
            ok = ej_null(s) || ej_b64(s, &kv->value, &kv->value_len);
            break;
        case EJ_KV_MOD:
            ok = ej_int(s, false, &v);
            kv->mod_revision = (long long)v;
            break;
        case EJ_KV_CREATE:
        case EJ_KV_VERSION:
        case EJ_KV_LEASE:
            ok = ej_int(s, false, &v);
            break;
        default:
            return false;
        }
        if (!ok)
            return false;
        r = ej_next(s, '}');
    } while (r == 1);
    return r == 0 && (o.seen & (1u << EJ_KV_KEY)) != 0;
}

static bool ej_header(struct ej_scan *s, long long *revision)
{
    if (ej_null(s))
        return true;
    if (!ej_take(s, '{'))
        return false;
    if (ej_take(s, '}'))
        return true;
    struct ej_object o = {0, 0};
    int r = 0;
    do {
        uint64_t v = 0;
        int m = ej_member(s, ej_hdr_names, EJ_HDR_N, &o);
        if (m < 0 || !ej_int(s, m != EJ_HDR_REVISION, &v))
            return false;
        if (m == EJ_HDR_REVISION)
            *revision = (long long)v;
        r = ej_next(s, '}');
    } while (r == 1);
    return r == 0;
}

static int ej_grow(struct etcd_json_page *page)
{
    size_t cap = page->cap != 0 ? page->cap : EJ_KVS_FIRST / 2;
    if (cap > SIZE_MAX / 2 / sizeof *page->kvs)
        return EJ_NOMEM;
    cap *= 2;
    struct etcd_json_kv *grown = realloc(page->kvs, cap * sizeof *grown);
    if (grown == NULL)
        return EJ_NOMEM;
    page->kvs = grown;
    page->cap = cap;
    return EJ_OK;
}

static int ej_kvs(struct ej_scan *s, struct etcd_json_page *page)
{
    if (ej_null(s))
        return EJ_OK;
    if (!ej_take(s, '['))
        return EJ_DECLINE;
    if (ej_take(s, ']'))
        return EJ_OK;
    int r = 0;
    do {
        if (page->n == page->cap && ej_grow(page) != EJ_OK)
            return EJ_NOMEM;
        if (!ej_kv(s, &page->kvs[page->n]))
            return EJ_DECLINE;
        page->n++;
        r = ej_next(s, ']');
    } while (r == 1);
    return r == 0 ? EJ_OK : EJ_DECLINE;
}

static int ej_top(struct ej_scan *s, struct etcd_json_page *page)
{
    if (!ej_take(s, '{'))
        return EJ_DECLINE;
    if (ej_take(s, '}'))
        return EJ_OK;
    struct ej_object o = {0, 0};
    int r = 0;
    do {
        int status = EJ_DECLINE;
        uint64_t v = 0;
        switch (ej_member(s, ej_top_names, EJ_TOP_N, &o)) {
        case EJ_TOP_HEADER:
            status = ej_header(s, &page->revision) ? EJ_OK : EJ_DECLINE;
            break;
        case EJ_TOP_KVS:
            status = ej_kvs(s, page);
            break;
        case EJ_TOP_MORE:
            page->more = ej_word(s, "true", 4);
            status = page->more || ej_word(s, "false", 5) || ej_null(s)
                         ? EJ_OK
                         : EJ_DECLINE;
            break;
        case EJ_TOP_COUNT:
            status = ej_int(s, false, &v) ? EJ_OK : EJ_DECLINE;
            break;
        default:
            break;
        }
        if (status != EJ_OK)
            return status;
        r = ej_next(s, '}');
    } while (r == 1);
    return r == 0 ? EJ_OK : EJ_DECLINE;
}

int etcd_json_scan(const char *body, size_t len, struct etcd_json_page *page)
{
    page->revision = 0;
    page->more = false;
    page->n = 0;
    if (body == NULL)
        return EJ_DECLINE;
    const unsigned char *start = (const unsigned char *)body;
    struct ej_scan s = {start, start + len};
    int status = ej_top(&s, page);
    if (status == EJ_OK) {
        /* jansson wants nothing but blanks after the value */
        ej_ws(&s);
        if (s.p != s.end)
            status = EJ_DECLINE;
    }
    if (status == EJ_OK)
        return EJ_OK;
    page->revision = 0;
    page->more = false;
    page->n = 0;
    if (status == EJ_NOMEM)
        errno = ENOMEM;
    return status;
}

/* 6-bit values of the standard base64 alphabet with EB_OK set; 0 (no
   EB_OK) for any other byte, '=' included: padding is counted apart */
#define EB_OK   0x40
#define EB(v)   ((v) | EB_OK)
#define EB_BITS 0x3f
static const unsigned char eb_value[256] = {
    ['A'] = EB(0),  ['B'] = EB(1),  ['C'] = EB(2),  ['D'] = EB(3),
    ['E'] = EB(4),  ['F'] = EB(5),  ['G'] = EB(6),  ['H'] = EB(7),
    ['I'] = EB(8),  ['J'] = EB(9),  ['K'] = EB(10), ['L'] = EB(11),
    ['M'] = EB(12), ['N'] = EB(13), ['O'] = EB(14), ['P'] = EB(15),
    ['Q'] = EB(16), ['R'] = EB(17), ['S'] = EB(18), ['T'] = EB(19),
    ['U'] = EB(20), ['V'] = EB(21), ['W'] = EB(22), ['X'] = EB(23),
    ['Y'] = EB(24), ['Z'] = EB(25), ['a'] = EB(26), ['b'] = EB(27),
    ['c'] = EB(28), ['d'] = EB(29), ['e'] = EB(30), ['f'] = EB(31),
    ['g'] = EB(32), ['h'] = EB(33), ['i'] = EB(34), ['j'] = EB(35),
    ['k'] = EB(36), ['l'] = EB(37), ['m'] = EB(38), ['n'] = EB(39),
    ['o'] = EB(40), ['p'] = EB(41), ['q'] = EB(42), ['r'] = EB(43),
    ['s'] = EB(44), ['t'] = EB(45), ['u'] = EB(46), ['v'] = EB(47),
    ['w'] = EB(48), ['x'] = EB(49), ['y'] = EB(50), ['z'] = EB(51),
    ['0'] = EB(52), ['1'] = EB(53), ['2'] = EB(54), ['3'] = EB(55),
    ['4'] = EB(56), ['5'] = EB(57), ['6'] = EB(58), ['7'] = EB(59),
    ['8'] = EB(60), ['9'] = EB(61), ['+'] = EB(62), ['/'] = EB(63),
};

int etcd_b64_decode(const char *s, size_t n, char *out, size_t cap, size_t *len)
{
    const unsigned char *p = (const unsigned char *)s;
    *len = 0;
    /* the padding that the characters before it call for, no more */
    size_t pad = 0;
    while (pad < 2 && n > pad && p[n - 1 - pad] == '=')
        pad++;
    size_t k = n - pad;
    size_t tail = k % 4;
    if (tail == 1 || pad != (tail == 0 ? 0 : 4 - tail))
        return -1;
    size_t need = k / 4 * 3 + (tail == 0 ? 0 : tail - 1);
    if (need > cap)
        return -1;
    unsigned char *o = (unsigned char *)out;
    size_t i = 0;
    for (; i + 4 <= k; i += 4) {
        unsigned a = eb_value[p[i]], b = eb_value[p[i + 1]];
        unsigned c = eb_value[p[i + 2]], d = eb_value[p[i + 3]];
        if ((a & b & c & d & EB_OK) == 0)
            return -1;
        unsigned v = (a & EB_BITS) << 18 | (b & EB_BITS) << 12 |
                     (c & EB_BITS) << 6 | (d & EB_BITS);
        *o++ = (unsigned char)(v >> 16);
        *o++ = (unsigned char)(v >> 8);
        *o++ = (unsigned char)v;
    }
    if (tail != 0) {
        unsigned a = eb_value[p[i]], b = eb_value[p[i + 1]];
        unsigned c = tail == 3 ? eb_value[p[i + 2]] : EB(0);
        if ((a & b & c & EB_OK) == 0)
            return -1;
        unsigned v =
            (a & EB_BITS) << 18 | (b & EB_BITS) << 12 | (c & EB_BITS) << 6;
        /* the bits past the last byte must be 0, as libsodium wants: one
           text for one byte string */
        if ((v & (tail == 2 ? 0xffffu : 0xffu)) != 0)
            return -1;
        *o++ = (unsigned char)(v >> 16);
        if (tail == 3)
            *o++ = (unsigned char)(v >> 8);
    }
    *len = need;
    return 0;
}
