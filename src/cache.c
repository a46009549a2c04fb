/* SPDX-License-Identifier: MIT */
/* The last-known-good cache (cache.h): the file format, its sealing with
   libsodium's XChaCha20-Poly1305, and the atomic writes of the folder. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cache.h"
#include "config.h"
#include "diag.h"
#include "envset.h"
#include "masterkey.h"
#include "readfile.h"
#include "secmem.h"
#include "sink.h"

/*
 * A file is
 *
 *   header (EI_CACHE_HEADER_LEN bytes, little-endian):
 *     magic "EICACHE\n", version u32, flags u32 (0), write time i64 (ms
 *     since the epoch), key id (16 bytes), options id (32 bytes)
 *   nonce (24 bytes, random)
 *   ciphertext of the payload, with its 16-byte tag
 *
 * and the associated data is the header followed by the length-prefixed
 * configuration path, layer name, provider and environment: a file copied
 * to another layer's, environment's or configuration's name fails to
 * authenticate, and so does one whose write time was changed.  The
 * payload is a count (u32) and as many records: flags u8, then key,
 * value, locator and source each as u32 length and bytes (locator and
 * source absent when their flag bit says so).  The last record may be
 * the revision of what the layer's source served (for the audit record):
 * flags REC_REVISION alone, then the revision as u32 length and bytes,
 * at most EI_REVISION_MAX of printable ASCII.
 */
#define NONCE_LEN  crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN    crypto_aead_xchacha20poly1305_ietf_ABYTES
#define KEY_ID_LEN 16
/* the subkeys' context (crypto_kdf_CONTEXTBYTES characters) and ids */
#define KDF_CONTEXT  "eicache1"
#define SUBKEY_SEAL  1
#define SUBKEY_ID    2
#define SUBKEY_CHECK 3
/* a record's flags: the file's own bits, whatever provider.h's are */
#define REC_SECRET  0x01u
#define REC_LITERAL 0x02u
#define REC_UNSET   0x04u
#define REC_LOCATOR 0x40u /* a locator follows */
#define REC_SOURCE  0x80u /* a source name follows */
#define REC_REVISION 0x10u /* not an entry: the source's revision */
#define REC_ALL                                                                \
    (REC_SECRET | REC_LITERAL | REC_UNSET | REC_LOCATOR | REC_SOURCE)
/* the records' own limits: what the sink would accept */
#define RECORD_KEY_MAX EI_KEY_MAX
/* options that change how a layer fetches, not what: not in its identity */
static const char *const ignored_options[] = {"timeout", "poll_interval",
                                              "optional", "on_error", NULL};

struct ei_cache_key {
    unsigned char seal[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
    unsigned char id[crypto_generichash_KEYBYTES];
    unsigned char check[KEY_ID_LEN];
};

struct ei_cache {
    struct ei_cache_key *key;
    int dirfd; /* -1: no folder, nothing read or written */
    char *dir;
    int64_t max_age_ms;
};

/* The subkeys of a master key (EI_CACHE_KEY_LEN bytes), in secret memory. */
static struct ei_cache_key *cache_key_derive(const unsigned char *master,
                                             struct ei_error *err)
{
    struct ei_cache_key *k = ei_sodium_malloc(sizeof(*k));
    if (k == NULL) {
        ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory");
        return NULL;
    }
    /* one subkey per use: the key that seals never meets the hashes */
    crypto_kdf_derive_from_key(k->seal, sizeof(k->seal), SUBKEY_SEAL,
                               KDF_CONTEXT, master);
    crypto_kdf_derive_from_key(k->id, sizeof(k->id), SUBKEY_ID, KDF_CONTEXT,
                               master);
    crypto_kdf_derive_from_key(k->check, sizeof(k->check), SUBKEY_CHECK,
                               KDF_CONTEXT, master);
    return k;
}

struct ei_cache_key *ei_cache_key_parse(const char *text, size_t len,
                                        const char *what, struct ei_error *err)
{
    unsigned char *master = ei_sodium_malloc(EI_CACHE_KEY_LEN);
    if (master == NULL) {
        ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory");
        return NULL;
    }
    if (ei_master_key_parse(text, len, "cache", what, master, err) != 0) {
        sodium_free(master);
        return NULL;
    }
    struct ei_cache_key *k = cache_key_derive(master, err);
    sodium_free(master);
    return k;
}

void ei_cache_key_free(struct ei_cache_key *k)
{
    if (k != NULL)
        sodium_free(k);
}

/* ---- identities ---- */

static void hash_str(crypto_generichash_state *st, const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;
    unsigned char len[4] = {(unsigned char)n, (unsigned char)(n >> 8),
                            (unsigned char)(n >> 16), (unsigned char)(n >> 24)};
    crypto_generichash_update(st, len, sizeof(len));
    if (n > 0)
        crypto_generichash_update(st, (const unsigned char *)s, n);
}

static bool ignored(const char *name)
{
    for (const char *const *p = ignored_options; *p != NULL; p++)
        if (name != NULL && strcmp(name, *p) == 0)
            return true;
    return false;
}

/* type, name, text and children, in the order written */
static void hash_opt(crypto_generichash_state *st, const struct ei_opt *o,
                     bool top)
{
    for (size_t i = 0; i < o->kids_n; i++) {
        const struct ei_opt *k = &o->kids[i];
        if (top && ignored(k->name))
            continue;
        unsigned char t = (unsigned char)k->type;
        crypto_generichash_update(st, &t, 1);
        hash_str(st, k->name);
        hash_str(st, k->str);
        hash_opt(st, k, false);
        t = 0xff; /* the end of the children */
        crypto_generichash_update(st, &t, 1);
    }
}

void ei_cache_options_id(const struct ei_cache_key *k,
                         const struct ei_layer_conf *lc,
                         unsigned char out[EI_CACHE_ID_LEN])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, k->id, sizeof(k->id), EI_CACHE_ID_LEN);
    hash_str(&st, "options");
    hash_str(&st, lc->provider);
    hash_str(&st, lc->arg);
    hash_opt(&st, &lc->opts, true);
    crypto_generichash_final(&st, out, EI_CACHE_ID_LEN);
}

void ei_cache_file_name(const struct ei_cache_ident *id,
                        char out[EI_CACHE_NAME_LEN])
{
    unsigned char h[16];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof(h));
    hash_str(&st, "envinject cache file");
    hash_str(&st, id->config);
    hash_str(&st, id->layer);
    hash_str(&st, id->environment);
    crypto_generichash_final(&st, h, sizeof(h));
    sodium_bin2hex(out, 33, h, sizeof(h));
    memcpy(out + 32, ".cache", 7);
}

/* ---- bytes ---- */

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* The associated data: the header, then the identity's strings. */
static unsigned char *make_ad(const unsigned char *header,
                              const struct ei_cache_ident *id, size_t *len)
{
    const char *parts[] = {id->config, id->layer, id->provider,
                           id->environment};
    size_t n = EI_CACHE_HEADER_LEN;
    for (size_t i = 0; i < 4; i++)
        n += 4 + strlen(parts[i]);
    unsigned char *ad = malloc(n), *p = ad;
    if (ad == NULL)
        return NULL;
    memcpy(p, header, EI_CACHE_HEADER_LEN);
    p += EI_CACHE_HEADER_LEN;
    for (size_t i = 0; i < 4; i++) {
        size_t l = strlen(parts[i]);
        put_u32(p, (uint32_t)l);
        memcpy(p + 4, parts[i], l);
        p += 4 + l;
    }
    *len = n;
    return ad;
}

static void make_header(const struct ei_cache_key *k,
                        const struct ei_cache_ident *id, int64_t written_ms,
                        unsigned char *h)
{
    memcpy(h, EI_CACHE_MAGIC, 8);
    put_u32(h + 8, EI_CACHE_VERSION);
    put_u32(h + 12, 0);
    put_u64(h + 16, (uint64_t)written_ms);
    memcpy(h + 24, k->check, KEY_ID_LEN);
    memcpy(h + 24 + KEY_ID_LEN, id->options, EI_CACHE_ID_LEN);
}

/* ---- sealing ---- */

static size_t record_len(const struct ei_entry *e)
{
    return 1 + 4 + strlen(e->key) + 4 + e->value_len +
           (e->locator != NULL ? 4 + strlen(e->locator) : 0) +
           (e->source != NULL ? 4 + strlen(e->source) : 0);
}

static unsigned char *put_bytes(unsigned char *p, const void *s, size_t n)
{
    put_u32(p, (uint32_t)n);
    memcpy(p + 4, s, n);
    return p + 4 + n;
}

int ei_cache_seal(const struct ei_cache_key *k, const struct ei_cache_ident *id,
                  int64_t written_ms, const struct ei_envset *set,
                  const char *revision, unsigned char **out, size_t *out_len,
                  struct ei_error *err)
{
    *out = NULL;
    *out_len = 0;
    size_t n = ei_envset_count(set);
    size_t rev_len = revision != NULL ? strlen(revision) : 0;
    if (rev_len > EI_REVISION_MAX)
        rev_len = 0; /* the core keeps no longer one */
    size_t plain_len = 4 + (rev_len > 0 ? 1 + 4 + rev_len : 0);
    for (size_t i = 0; i < n && plain_len <= EI_CACHE_FILE_MAX; i++)
        plain_len += record_len(ei_envset_at(set, i));
    size_t file_len = EI_CACHE_HEADER_LEN + NONCE_LEN + plain_len + TAG_LEN;
    if (plain_len > EI_CACHE_FILE_MAX || file_len > EI_CACHE_FILE_MAX)
        return ei_error_set(err, EI_BADDATA, 0, NULL, NULL,
                            "the layer's values are larger than the cache's "
                            "limit (%d bytes)",
                            EI_CACHE_FILE_MAX),
               -1;
    /* the payload holds every value: secret memory, wiped when freed */
    unsigned char *plain = ei_sodium_malloc(plain_len);
    unsigned char *file = malloc(file_len);
    unsigned char header[EI_CACHE_HEADER_LEN];
    make_header(k, id, written_ms, header);
    size_t ad_len = 0;
    unsigned char *ad = make_ad(header, id, &ad_len);
    if (plain == NULL || file == NULL || ad == NULL) {
        if (plain != NULL)
            sodium_free(plain);
        free(file);
        free(ad);
        return ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory"),
               -1;
    }
    unsigned char *p = plain;
    put_u32(p, (uint32_t)(n + (rev_len > 0 ? 1 : 0)));
    p += 4;
    for (size_t i = 0; i < n; i++) {
        const struct ei_entry *e = ei_envset_at(set, i);
        *p++ =
            (unsigned char)(((e->flags & EI_ENTRY_SECRET) ? REC_SECRET : 0) |
                            ((e->flags & EI_ENTRY_LITERAL) ? REC_LITERAL : 0) |
                            ((e->flags & EI_ENTRY_UNSET) ? REC_UNSET : 0) |
                            (e->locator != NULL ? REC_LOCATOR : 0) |
                            (e->source != NULL ? REC_SOURCE : 0));
        p = put_bytes(p, e->key, strlen(e->key));
        p = put_bytes(p, e->value, e->value_len);
        if (e->locator != NULL)
            p = put_bytes(p, e->locator, strlen(e->locator));
        if (e->source != NULL)
            p = put_bytes(p, e->source, strlen(e->source));
    }
    if (rev_len > 0) {
        *p++ = REC_REVISION;
        p = put_bytes(p, revision, rev_len);
    }
    memcpy(file, header, EI_CACHE_HEADER_LEN);
    unsigned char *nonce = file + EI_CACHE_HEADER_LEN;
    randombytes_buf(nonce, NONCE_LEN);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + NONCE_LEN, &clen, plain,
                                               plain_len, ad, ad_len, NULL,
                                               nonce, k->seal);
    sodium_free(plain);
    free(ad);
    *out = file;
    *out_len = EI_CACHE_HEADER_LEN + NONCE_LEN + (size_t)clen;
    return 0;
}

/* ---- opening ---- */

/* A length-prefixed field at *p of the len bytes left; NULL if short. */
static const unsigned char *take(const unsigned char **p, size_t *left,
                                 uint32_t *n)
{
    if (*left < 4)
        return NULL;
    *n = get_u32(*p);
    if (*left - 4 < *n)
        return NULL;
    const unsigned char *s = *p + 4;
    *p += 4 + *n;
    *left -= 4 + (size_t)*n;
    return s;
}

/*
 * Each field is copied NUL-terminated into one scratch buffer in secret
 * memory (values are secret), reused from record to record.
 */
/* The revision record (after its flags) at *p, the last one: into rev
   (EI_REVISION_MAX + 1 bytes, may be NULL).  0, or -1 when malformed. */
static int parse_revision(const unsigned char **p, size_t *left, char *rev)
{
    uint32_t n = 0;
    const unsigned char *f = take(p, left, &n);
    if (f == NULL || n == 0 || n > EI_REVISION_MAX)
        return -1;
    for (uint32_t i = 0; i < n; i++)
        if (f[i] < 0x20 || f[i] > 0x7e)
            return -1;
    if (rev != NULL) {
        memcpy(rev, f, n);
        rev[n] = '\0';
    }
    return 0;
}

int ei_cache_parse(const unsigned char *plain, size_t len, ei_cache_entry_fn fn,
                   void *ctx, char *revision)
{
    if (revision != NULL)
        revision[0] = '\0';
    if (len < 4)
        return -1;
    uint32_t count = get_u32(plain);
    const unsigned char *p = plain + 4;
    size_t left = len - 4;
    /* each record takes at least 9 bytes, the revision's 6 */
    if (count > (left + 3) / 9)
        return -1;
    unsigned char *scratch = len > 0 ? ei_sodium_malloc(len + 4) : NULL;
    if (scratch == NULL)
        return -1;
    int rc = 0;
    for (uint32_t i = 0; i < count && rc == 0; i++) {
        if (left < 1) {
            rc = -1;
            break;
        }
        unsigned flags = *p++;
        left--;
        if (flags == REC_REVISION && i + 1 == count) {
            rc = parse_revision(&p, &left, revision);
            break;
        }
        if (flags & ~REC_ALL) {
            rc = -1;
            break;
        }
        const unsigned char *f[4] = {NULL, NULL, NULL, NULL};
        uint32_t fl[4] = {0, 0, 0, 0};
        bool want[4] = {true, true, (flags & REC_LOCATOR) != 0,
                        (flags & REC_SOURCE) != 0};
        char *s = (char *)scratch;
        const char *str[4] = {NULL, NULL, NULL, NULL};
        for (int j = 0; j < 4 && rc == 0; j++) {
            if (!want[j])
                continue;
            f[j] = take(&p, &left, &fl[j]);
            if (f[j] == NULL) {
                rc = -1;
                break;
            }
            memcpy(s, f[j], fl[j]);
            s[fl[j]] = '\0';
            /* names and locators are text without NUL; a value too */
            if (memchr(s, '\0', fl[j]) != NULL)
                rc = -1;
            str[j] = s;
            s += fl[j] + 1;
        }
        if (rc != 0)
            break;
        if (fl[0] == 0 || fl[0] > RECORD_KEY_MAX ||
            !ei_key_valid(str[0], fl[0])) {
            rc = -1;
            break;
        }
        struct ei_cache_entry e = {
            .key = str[0],
            .value = str[1],
            .value_len = fl[1],
            .flags = ((flags & REC_SECRET) ? EI_ENTRY_SECRET : 0) |
                     ((flags & REC_LITERAL) ? EI_ENTRY_LITERAL : 0) |
                     ((flags & REC_UNSET) ? EI_ENTRY_UNSET : 0),
            .locator = str[2],
            .source = str[3]};
        rc = fn(ctx, &e);
        sodium_memzero(scratch, (size_t)(s - (char *)scratch));
    }
    if (rc == 0 && left != 0)
        rc = -1; /* bytes after the last record */
    sodium_free(scratch);
    return rc;
}

/* A callback that only counts: the payload is checked whole before any
   entry is handed on, so that a bad record at the end stages nothing. */
static int count_entry(void *ctx, const struct ei_cache_entry *e)
{
    (void)e;
    ++*(size_t *)ctx;
    return 0;
}

enum ei_cache_result ei_cache_open(const struct ei_cache_key *k,
                                   const struct ei_cache_ident *id,
                                   const unsigned char *data, size_t len,
                                   int64_t now_ms, int64_t max_age_ms,
                                   int64_t *age_ms, ei_cache_entry_fn fn,
                                   void *ctx, char *revision)
{
    if (revision != NULL)
        revision[0] = '\0';
    if (len < EI_CACHE_HEADER_LEN + NONCE_LEN + TAG_LEN + 4 ||
        len > EI_CACHE_FILE_MAX || memcmp(data, EI_CACHE_MAGIC, 8) != 0)
        return EI_CACHE_BAD;
    if (get_u32(data + 8) != EI_CACHE_VERSION)
        return EI_CACHE_OTHER_VERSION;
    if (get_u32(data + 12) != 0)
        return EI_CACHE_BAD;
    int64_t written = (int64_t)get_u64(data + 16);
    if (sodium_memcmp(data + 24, k->check, KEY_ID_LEN) != 0)
        return EI_CACHE_OTHER_KEY;
    if (sodium_memcmp(data + 24 + KEY_ID_LEN, id->options, EI_CACHE_ID_LEN) !=
        0)
        return EI_CACHE_OTHER_OPTIONS;
    /* the AD is the expected header with the file's write time: any
       other difference fails the tag */
    unsigned char header[EI_CACHE_HEADER_LEN];
    make_header(k, id, written, header);
    size_t ad_len = 0;
    unsigned char *ad = make_ad(header, id, &ad_len);
    size_t clen = len - EI_CACHE_HEADER_LEN - NONCE_LEN;
    unsigned char *plain = ei_sodium_malloc(clen);
    if (ad == NULL || plain == NULL) {
        free(ad);
        if (plain != NULL)
            sodium_free(plain);
        return EI_CACHE_NOMEM;
    }
    const unsigned char *nonce = data + EI_CACHE_HEADER_LEN;
    unsigned long long plen = 0;
    int bad = crypto_aead_xchacha20poly1305_ietf_decrypt(
        plain, &plen, NULL, nonce + NONCE_LEN, clen, ad, ad_len, nonce,
        k->seal);
    free(ad);
    enum ei_cache_result res = EI_CACHE_OK;
    size_t n = 0;
    /* the age is told only of a file that authenticates */
    if (bad != 0)
        res = EI_CACHE_BAD;
    else if (age_ms != NULL)
        *age_ms = now_ms - written;
    if (res == EI_CACHE_OK && written - now_ms > EI_CACHE_FUTURE_MS)
        res = EI_CACHE_FUTURE;
    else if (res == EI_CACHE_OK && now_ms - written > max_age_ms)
        res = EI_CACHE_TOO_OLD;
    else if (res == EI_CACHE_OK &&
             ei_cache_parse(plain, (size_t)plen, count_entry, &n, NULL) != 0)
        res = EI_CACHE_BAD;
    else if (res == EI_CACHE_OK &&
             ei_cache_parse(plain, (size_t)plen, fn, ctx, revision) != 0)
        res = EI_CACHE_NOMEM;
    sodium_free(plain);
    return res;
}

void ei_cache_age_text(int64_t age_ms, char *buf, size_t len)
{
    /* the two largest units, the second left out when it is zero */
    static const struct {
        int64_t s;
        char name;
    } units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
    int64_t s = age_ms < 0 ? 0 : age_ms / 1000;
    size_t u = 0;
    while (u + 1 < sizeof(units) / sizeof(units[0]) && s < units[u].s)
        u++;
    int64_t lo = u + 1 < sizeof(units) / sizeof(units[0])
                     ? s % units[u].s / units[u + 1].s
                     : 0;
    if (lo == 0)
        snprintf(buf, len, "%lld%c", (long long)(s / units[u].s),
                 units[u].name);
    else
        snprintf(buf, len, "%lld%c%lld%c", (long long)(s / units[u].s),
                 units[u].name, (long long)lo, units[u + 1].name);
}

/* ---- the folder ---- */

int64_t ei_cache_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const struct ei_cache_key *ei_cache_key(const struct ei_cache *c)
{
    return c->key;
}

int64_t ei_cache_max_age_ms(const struct ei_cache *c)
{
    return c->max_age_ms;
}

void ei_cache_free(struct ei_cache *c)
{
    if (c == NULL)
        return;
    ei_cache_key_free(c->key);
    if (c->dirfd >= 0)
        close(c->dirfd);
    free(c->dir);
    free(c);
}

static struct ei_cache_key *read_key(const struct ei_cache_conf *conf,
                                     const char *const *envp,
                                     struct ei_error *err)
{
    unsigned char *master = ei_sodium_malloc(EI_CACHE_KEY_LEN);
    if (master == NULL) {
        ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory");
        return NULL;
    }
    struct ei_cache_key *k = NULL;
    if (ei_master_key_read("cache", EI_CACHE_KEY_ENV, conf->key_file,
                           conf->where, envp, master, err) == 0)
        k = cache_key_derive(master, err);
    sodium_free(master);
    return k;
}

/* The folder, created 0700 when missing; -1 with err when it is refused,
   -2 (warned) when it can neither be opened nor created. */
static int open_dir(const char *dir, struct ei_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            ei_diag_msg(EI_LOG_WARN, NULL, dir,
                        "cache: cannot create the folder (%s); nothing is "
                        "cached",
                        strerror(errno));
            return -2;
        }
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    if (fd < 0 && errno == ENOTDIR)
        return ei_error_set(err, EI_BADCONFIG, 0, NULL, dir,
                            "cache: dir is not a folder"),
               -1;
    if (fd < 0) {
        ei_diag_msg(EI_LOG_WARN, NULL, dir,
                    "cache: cannot open the folder (%s); nothing is cached",
                    strerror(errno));
        return -2;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return ei_error_set(err, EI_IOERROR, e, NULL, dir,
                            "cache: cannot stat the folder"),
               -1;
    }
    char quoted[EI_ERR_TEXT_LEN / 2];
    /* whoever else may write here could put back an older file of ours,
       or remove the one that would save the next start */
    if (st.st_uid != geteuid()) {
        close(fd);
        return ei_error_set(err, EI_DENIED, 0, NULL, dir,
                            "cache: the folder belongs to uid %u, not to "
                            "uid %u, which envinject runs as",
                            (unsigned)st.st_uid, (unsigned)geteuid()),
               -1;
    }
    if ((st.st_mode & 077) != 0) {
        close(fd);
        return ei_error_set(
                   err, EI_DENIED, 0, NULL, dir,
                   "cache: the folder is open to group or others "
                   "(mode %04o); run: chmod 700 %s",
                   (unsigned)(st.st_mode & 07777),
                   ei_readfile_shell_path(dir, quoted, sizeof(quoted))),
               -1;
    }
    return fd;
}

struct ei_cache *ei_cache_new(const struct ei_cache_conf *conf,
                              const char *const *envp, struct ei_error *err)
{
    struct ei_cache *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory"),
               NULL;
    c->dirfd = -1;
    c->max_age_ms = conf->max_age_ms;
    c->dir = strdup(conf->dir);
    if (c->dir == NULL) {
        free(c);
        return ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory"),
               NULL;
    }
    c->key = read_key(conf, envp, err);
    if (c->key == NULL) {
        ei_cache_free(c);
        return NULL;
    }
    int fd = open_dir(conf->dir, err);
    if (fd == -1) {
        ei_cache_free(c);
        return NULL;
    }
    c->dirfd = fd >= 0 ? fd : -1;
    return c;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = ENOSPC;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int ei_cache_write(struct ei_cache *c, const struct ei_cache_ident *id,
                   const struct ei_envset *set, const char *revision,
                   struct ei_error *err)
{
    if (c->dirfd < 0)
        return 0;
    unsigned char *file;
    size_t len;
    if (ei_cache_seal(c->key, id, ei_cache_now_ms(), set, revision, &file, &len,
                      err) < 0)
        return -1;
    char name[EI_CACHE_NAME_LEN], tmp[EI_CACHE_NAME_LEN + 24];
    ei_cache_file_name(id, name);
    /* several starts may write the same layer at once: each its own
       temporary file, and the last rename wins whole */
    unsigned char rnd[8];
    char rhex[2 * sizeof(rnd) + 1];
    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex(rhex, sizeof(rhex), rnd, sizeof(rnd));
    snprintf(tmp, sizeof(tmp), ".%.32s.%s.tmp", name, rhex);
    int fd = openat(c->dirfd, tmp,
                    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    const char *step = "cannot create a temporary file";
    int rc = -1;
    if (fd >= 0) {
        step = "cannot write";
        if (write_all(fd, file, len) == 0 &&
            (step = "cannot sync", fsync(fd) == 0)) {
            step = "cannot close";
            if (close(fd) == 0) {
                fd = -1;
                step = "cannot rename the temporary file";
                if (renameat(c->dirfd, tmp, c->dirfd, name) == 0) {
                    /* the rename itself reaches the disk with the folder */
                    step = "cannot sync the folder";
                    rc = fsync(c->dirfd);
                }
            }
        }
    }
    int e = errno;
    if (fd >= 0)
        close(fd);
    if (rc != 0) {
        unlinkat(c->dirfd, tmp, 0);
        ei_error_set(err, EI_IOERROR, e, NULL, c->dir, "cache: %s", step);
    }
    free(file);
    return rc;
}

enum ei_cache_result ei_cache_read(struct ei_cache *c,
                                   const struct ei_cache_ident *id,
                                   int64_t *age_ms, ei_cache_entry_fn fn,
                                   void *ctx, char *revision,
                                   struct ei_error *err)
{
    if (revision != NULL)
        revision[0] = '\0';
    if (c->dirfd < 0)
        return EI_CACHE_ABSENT;
    char name[EI_CACHE_NAME_LEN];
    ei_cache_file_name(id, name);
    int fd = openat(c->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return EI_CACHE_ABSENT;
    struct stat st;
    unsigned char *data = NULL;
    size_t len = 0;
    int e = 0;
    if (fd < 0 || fstat(fd, &st) != 0)
        e = errno;
    else if (!S_ISREG(st.st_mode) || st.st_size > EI_CACHE_FILE_MAX)
        e = EINVAL;
    else if ((data = malloc((size_t)st.st_size + 1)) == NULL)
        e = ENOMEM;
    while (e == 0 && len < (size_t)st.st_size) {
        ssize_t r = read(fd, data + len, (size_t)st.st_size - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            e = r < 0 ? errno : EIO;
            break;
        }
        len += (size_t)r;
    }
    if (fd >= 0)
        close(fd);
    if (e != 0) {
        free(data);
        ei_error_set(err, EI_IOERROR, e, NULL, name, "cannot read the cache");
        return e == ENOMEM ? EI_CACHE_NOMEM : EI_CACHE_UNREADABLE;
    }
    enum ei_cache_result res =
        ei_cache_open(c->key, id, data, len, ei_cache_now_ms(), c->max_age_ms,
                      age_ms, fn, ctx, revision);
    free(data);
    return res;
}
