/* SPDX-License-Identifier: MIT */
/* Unit tests of the last-known-good cache: the key, the file format (round
   trip, every byte region tampered with, truncation, another key, layer,
   environment, configuration or options), expiry on an injected clock,
   and the folder's writes and checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "cache.h"
#include "config.h"
#include "envset.h"
#include "secmem.h"

#define KEY_A  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define KEY_B  "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define T0     1765000000000LL /* a write time, ms since the epoch */
#define HOUR   (3600LL * 1000)
#define CANARY "EI_CANARY_cache_unit_value"

/* ---- the key ---- */

struct key_case {
    const char *text;
    bool ok;
};

static const struct key_case key_cases[] = {
    {KEY_A, true},
    {KEY_A "\n", true},
    {KEY_A "\r\n", true},
    {"000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", true},
    {KEY_A "\n\n", false},
    {KEY_A " ", false},
    {KEY_A "00", false},
    {"0102", false},
    {"", false},
    {"\n", false},
    {"g00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1", false},
    {"00 102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", false},
};

static void test_key_parse(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(key_cases) / sizeof(key_cases[0]); i++) {
        const struct key_case *c = &key_cases[i];
        struct ei_error err = {0};
        struct ei_cache_key *k =
            ei_cache_key_parse(c->text, strlen(c->text), "test", &err);
        if ((k != NULL) != c->ok)
            fail_msg("case %zu: %s", i, k != NULL ? "accepted" : err.text);
        if (k == NULL) {
            assert_int_equal(err.status, EI_BADCONFIG);
            /* the length, never the digits */
            assert_null(strstr(err.text, "0102"));
            assert_non_null(strstr(err.text, "64 hex digits"));
        }
        ei_cache_key_free(k);
    }
}

/* ---- a layer's entries ---- */

struct fixture {
    struct ei_store *store;
    struct ei_envset *set;
    struct ei_cache_key *ka, *kb;
    struct ei_cache_ident id;
};

static void add(struct fixture *fx, const char *key, const char *value,
                unsigned flags, const char *locator, const char *source)
{
    struct ei_entry e = {.key = key,
                         .value = value,
                         .value_len = strlen(value),
                         .flags = flags,
                         .locator = locator,
                         .source = source};
    assert_non_null(ei_envset_put(fx->set, &e, NULL));
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    fx->store = ei_store_new(false);
    fx->set = ei_envset_new(fx->store);
    fx->ka = ei_cache_key_parse(KEY_A, 64, "a", NULL);
    fx->kb = ei_cache_key_parse(KEY_B, 64, "b", NULL);
    assert_non_null(fx->set);
    assert_non_null(fx->ka);
    assert_non_null(fx->kb);
    add(fx, "DB_HOST", "db.prod", 0, "etcd /app/prod/DB_HOST@rev 42",
        "DB_HOST");
    add(fx, "TOKEN", CANARY, EI_ENTRY_SECRET, "etcd /app/prod/TOKEN@rev 42",
        NULL);
    add(fx, "RAW", "a $B", EI_ENTRY_LITERAL, NULL, "raw");
    add(fx, "GONE", "", EI_ENTRY_UNSET, NULL, NULL);
    add(fx, "MULTI", "line 1\nline 2", 0, "x:1", "multi/line");
    fx->id = (struct ei_cache_ident){.config = "/etc/app/envinject.conf",
                                     .layer = "service",
                                     .provider = "etcd",
                                     .environment = "prod"};
    memset(fx->id.options, 7, sizeof(fx->id.options));
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    ei_envset_free(fx->set);
    ei_store_free(fx->store);
    ei_cache_key_free(fx->ka);
    ei_cache_key_free(fx->kb);
    free(fx);
    return 0;
}

/* What a walk of an opened file saw. */
struct seen {
    size_t n;
    char text[1024]; /* "KEY=VALUE|flags|locator|source;" ... */
};

static int see(void *ctx, const struct ei_cache_entry *e)
{
    struct seen *s = ctx;
    size_t used = strlen(s->text);
    snprintf(s->text + used, sizeof(s->text) - used, "%s=%.*s|%u|%s|%s;",
             e->key, (int)e->value_len, e->value, e->flags,
             e->locator != NULL ? e->locator : "-",
             e->source != NULL ? e->source : "-");
    s->n++;
    return 0;
}

static unsigned char *seal(struct fixture *fx, const struct ei_cache_key *k,
                           int64_t written, size_t *len)
{
    unsigned char *file = NULL;
    struct ei_error err = {0};
    assert_int_equal(
        ei_cache_seal(k, &fx->id, written, fx->set, NULL, &file, len, &err), 0);
    return file;
}

static enum ei_cache_result open_at(struct fixture *fx,
                                    const struct ei_cache_key *k,
                                    const unsigned char *file, size_t len,
                                    int64_t now, struct seen *s)
{
    memset(s, 0, sizeof(*s));
    int64_t age = -1;
    return ei_cache_open(k, &fx->id, file, len, now, 24 * HOUR, &age, see, s,
                         NULL);
}

static const char expect_all[] =
    "DB_HOST=db.prod|0|etcd /app/prod/DB_HOST@rev 42|DB_HOST;"
    "TOKEN=" CANARY "|1|etcd /app/prod/TOKEN@rev 42|-;"
    "RAW=a $B|4|-|raw;"
    "GONE=|16|-|-;"
    "MULTI=line 1\nline 2|0|x:1|multi/line;";

static void test_round_trip(void **state)
{
    struct fixture *fx = *state;
    size_t len;
    unsigned char *file = seal(fx, fx->ka, T0, &len);
    /* the value never appears in the file's bytes */
    assert_null(memmem(file, len, CANARY, strlen(CANARY)));
    assert_null(memmem(file, len, "db.prod", 7));
    struct seen s;
    int64_t age = -1;
    memset(&s, 0, sizeof(s));
    assert_int_equal(ei_cache_open(fx->ka, &fx->id, file, len, T0 + 192000,
                                   24 * HOUR, &age, see, &s, NULL),
                     EI_CACHE_OK);
    assert_int_equal(age, 192000);
    assert_int_equal(s.n, 5);
    assert_string_equal(s.text, expect_all);
    /* two seals of the same entries differ: a fresh nonce each */
    size_t len2;
    unsigned char *again = seal(fx, fx->ka, T0, &len2);
    assert_int_equal(len, len2);
    assert_memory_not_equal(file, again, len);
    free(again);
    free(file);
}

static void test_empty_layer(void **state)
{
    struct fixture *fx = *state;
    struct ei_envset *empty = ei_envset_new(fx->store);
    struct ei_envset *full = fx->set;
    fx->set = empty;
    size_t len;
    unsigned char *file = seal(fx, fx->ka, T0, &len);
    fx->set = full;
    struct seen s;
    assert_int_equal(open_at(fx, fx->ka, file, len, T0, &s), EI_CACHE_OK);
    assert_int_equal(s.n, 0);
    free(file);
    ei_envset_free(empty);
}

/*
 * Every bit of every byte flipped, one at a time: never used, and the
 * reason is the one of the byte's region.
 */
static enum ei_cache_result region_of(size_t i, size_t len)
{
    if (i < 8)
        return EI_CACHE_BAD; /* magic */
    if (i < 12)
        return EI_CACHE_OTHER_VERSION;
    if (i < 24)
        return EI_CACHE_BAD; /* flags, write time (in the AD) */
    if (i < 40)
        return EI_CACHE_OTHER_KEY;
    if (i < 72)
        return EI_CACHE_OTHER_OPTIONS;
    (void)len;
    return EI_CACHE_BAD; /* nonce, ciphertext, tag */
}

static void test_tamper_every_byte(void **state)
{
    struct fixture *fx = *state;
    size_t len;
    unsigned char *file = seal(fx, fx->ka, T0, &len);
    assert_true(len > EI_CACHE_HEADER_LEN + 24 + 16);
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            file[i] ^= (unsigned char)(1u << bit);
            struct seen s;
            enum ei_cache_result got =
                open_at(fx, fx->ka, file, len, T0 + 1000, &s);
            file[i] ^= (unsigned char)(1u << bit);
            if (got != region_of(i, len))
                fail_msg("byte %zu bit %d: result %d, want %d", i, bit,
                         (int)got, (int)region_of(i, len));
            /* nothing of a refused file reaches the caller */
            assert_int_equal(s.n, 0);
        }
    }
    struct seen s;
    assert_int_equal(open_at(fx, fx->ka, file, len, T0 + 1000, &s),
                     EI_CACHE_OK);
    free(file);
}

static void test_truncated(void **state)
{
    struct fixture *fx = *state;
    size_t len;
    unsigned char *file = seal(fx, fx->ka, T0, &len);
    for (size_t n = 0; n < len; n++) {
        struct seen s;
        enum ei_cache_result got = open_at(fx, fx->ka, file, n, T0, &s);
        if (got == EI_CACHE_OK)
            fail_msg("a file cut to %zu of %zu bytes was used", n, len);
        assert_int_equal(s.n, 0);
    }
    /* a byte too many fails too */
    unsigned char *longer = malloc(len + 1);
    memcpy(longer, file, len);
    longer[len] = 0;
    struct seen s;
    assert_int_equal(open_at(fx, fx->ka, longer, len + 1, T0, &s),
                     EI_CACHE_BAD);
    free(longer);
    free(file);
}

static void test_wrong_key(void **state)
{
    struct fixture *fx = *state;
    size_t len;
    unsigned char *file = seal(fx, fx->ka, T0, &len);
    struct seen s;
    assert_int_equal(open_at(fx, fx->kb, file, len, T0, &s),
                     EI_CACHE_OTHER_KEY);
    /* the key id forged to B's: the tag still fails */
    size_t lb;
    unsigned char *fb = seal(fx, fx->kb, T0, &lb);
    memcpy(file + 24, fb + 24, 16);
    assert_int_equal(open_at(fx, fx->kb, file, len, T0, &s), EI_CACHE_BAD);
    assert_int_equal(s.n, 0);
    free(fb);
    free(file);
}

/* The file of one identity opened as another. */
static void test_wrong_ident(void **state)
{
    struct fixture *fx = *state;
    size_t len;
    unsigned char *file = seal(fx, fx->ka, T0, &len);
    struct ei_cache_ident good = fx->id;
    struct {
        const char *what;
        struct ei_cache_ident id;
        enum ei_cache_result want;
    } cases[] = {
        {"layer", good, EI_CACHE_BAD},
        {"environment", good, EI_CACHE_BAD},
        {"configuration", good, EI_CACHE_BAD},
        {"provider", good, EI_CACHE_BAD},
        {"options", good, EI_CACHE_OTHER_OPTIONS},
        {"no environment", good, EI_CACHE_BAD},
    };
    cases[0].id.layer = "other";
    cases[1].id.environment = "staging";
    cases[2].id.config = "/etc/other/envinject.conf";
    cases[3].id.provider = "consul";
    cases[4].id.options[31] ^= 1;
    cases[5].id.environment = "";
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fx->id = cases[i].id;
        struct seen s;
        enum ei_cache_result got = open_at(fx, fx->ka, file, len, T0, &s);
        if (got != cases[i].want)
            fail_msg("another %s: result %d, want %d", cases[i].what, (int)got,
                     (int)cases[i].want);
        assert_int_equal(s.n, 0);
    }
    fx->id = good;
    free(file);
}

/* The clock is injected: the age is now_ms - written, nothing sleeps. */
static void test_expiry(void **state)
{
    struct fixture *fx = *state;
    size_t len;
    unsigned char *file = seal(fx, fx->ka, T0, &len);
    struct {
        int64_t now;
        enum ei_cache_result want;
    } cases[] = {
        {T0, EI_CACHE_OK},
        {T0 + 24 * HOUR, EI_CACHE_OK},
        {T0 + 24 * HOUR + 1, EI_CACHE_TOO_OLD},
        {T0 + 400 * 24 * HOUR, EI_CACHE_TOO_OLD},
        /* a clock a little behind the writer's: fine */
        {T0 - EI_CACHE_FUTURE_MS, EI_CACHE_OK},
        /* far behind: the file would look young for too long */
        {T0 - EI_CACHE_FUTURE_MS - 1, EI_CACHE_FUTURE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct seen s;
        int64_t age = -1;
        memset(&s, 0, sizeof(s));
        enum ei_cache_result got =
            ei_cache_open(fx->ka, &fx->id, file, len, cases[i].now, 24 * HOUR,
                          &age, see, &s, NULL);
        if (got != cases[i].want)
            fail_msg("case %zu: result %d, want %d", i, (int)got,
                     (int)cases[i].want);
        assert_int_equal(age, cases[i].now - T0);
        assert_int_equal(s.n, got == EI_CACHE_OK ? 5 : 0);
    }
    free(file);
}

/* ---- the payload parser ---- */

static int refuse(void *ctx, const struct ei_cache_entry *e)
{
    (void)ctx;
    (void)e;
    return 1;
}

static void test_parse_malformed(void **state)
{
    (void)state;
    struct {
        const char *what;
        const char *bytes;
        size_t len;
    } cases[] = {
        {"empty", "", 0},
        {"short count", "\1\0\0", 3},
        {"count past the end", "\2\0\0\0\0\1\0\0\0A\0\0\0\0", 14},
        {"unknown flag", "\1\0\0\0\x08\1\0\0\0A\0\0\0\0", 14},
        {"empty key", "\1\0\0\0\0\0\0\0\0\0\0\0\0", 13},
        {"bad key", "\1\0\0\0\0\1\0\0\0-\0\0\0\0", 14},
        {"NUL in the value", "\1\0\0\0\0\1\0\0\0A\1\0\0\0\0", 15},
        {"value past the end", "\1\0\0\0\0\1\0\0\0A\5\0\0\0ab", 16},
        {"locator missing", "\1\0\0\0\x40\1\0\0\0A\0\0\0\0", 14},
        {"bytes after", "\1\0\0\0\0\1\0\0\0A\0\0\0\0x", 15},
        /* the revision: last, alone, printable, not empty */
        {"revision not last", "\2\0\0\0\x10\1\0\0\0r\0\1\0\0\0A\0\0\0\0", 20},
        {"revision with a flag", "\1\0\0\0\x11\1\0\0\0r", 10},
        {"revision control byte", "\1\0\0\0\x10\2\0\0\0r\n", 11},
        {"revision empty", "\1\0\0\0\x10\0\0\0\0", 9},
        {"revision past the end", "\1\0\0\0\x10\5\0\0\0r", 10},
        {"bytes after the revision", "\1\0\0\0\x10\1\0\0\0rx", 11},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct seen s = {0};
        if (ei_cache_parse((const unsigned char *)cases[i].bytes, cases[i].len,
                           see, &s, NULL) != -1)
            fail_msg("%s: accepted", cases[i].what);
    }
    /* a well-formed record, and a callback that stops the walk */
    struct seen s = {0};
    char rev[EI_REVISION_MAX + 1] = "stale";
    assert_int_equal(
        ei_cache_parse((const unsigned char *)"\1\0\0\0\0\1\0\0\0A\1\0\0\0v",
                       15, see, &s, rev),
        0);
    assert_string_equal(s.text, "A=v|0|-|-;");
    assert_string_equal(rev, "");
    assert_int_equal(
        ei_cache_parse((const unsigned char *)"\1\0\0\0\0\1\0\0\0A\1\0\0\0v",
                       15, refuse, NULL, NULL),
        1);
    /* with the revision: the entry as before, the revision apart */
    struct seen r = {0};
    assert_int_equal(
        ei_cache_parse((const unsigned char *)"\2\0\0\0\0\1\0\0\0A\1\0\0\0v"
                                              "\x10\2\0\0\0r7",
                       22, see, &r, rev),
        0);
    assert_string_equal(r.text, "A=v|0|-|-;");
    assert_string_equal(rev, "r7");
    /* the revision alone (an empty layer), as short as one byte */
    assert_int_equal(
        ei_cache_parse((const unsigned char *)"\1\0\0\0\x10\1\0\0\0"
                                              "5",
                       10, see, &r, rev),
        0);
    assert_string_equal(rev, "5");
}

static void test_age_text(void **state)
{
    (void)state;
    struct {
        int64_t ms;
        const char *text;
    } cases[] = {
        {-5, "0s"},         {999, "0s"},       {42000, "42s"},
        {60000, "1m"},      {192000, "3m12s"}, {3600000, "1h"},
        {18180000, "5h3m"}, {86400000, "1d"},  {187200000, "2d4h"},
        {90061000, "1d1h"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[32];
        ei_cache_age_text(cases[i].ms, buf, sizeof(buf));
        assert_string_equal(buf, cases[i].text);
    }
}

/* ---- identities ---- */

static void opt_str(struct ei_opt *o, const char *name, const char *value)
{
    memset(o, 0, sizeof(*o));
    o->type = EI_OPT_STRING;
    o->name = (char *)name;
    o->str = (char *)value;
}

static void options_id(const struct ei_cache_key *k, const char *url,
                       const char *timeout, unsigned char out[32])
{
    struct ei_opt kids[2];
    opt_str(&kids[0], "url", url);
    opt_str(&kids[1], "timeout", timeout);
    struct ei_layer_conf lc = {.name = (char *)"svc",
                               .provider = (char *)"http"};
    lc.opts.type = EI_OPT_GROUP;
    lc.opts.kids = kids;
    lc.opts.kids_n = 2;
    ei_cache_options_id(k, &lc, out);
}

static void test_options_id(void **state)
{
    struct fixture *fx = *state;
    unsigned char a[32], b[32], c[32], d[32];
    options_id(fx->ka, "http://x/a", "1000", a);
    options_id(fx->ka, "http://x/a", "9000", b);
    options_id(fx->ka, "http://x/b", "1000", c);
    options_id(fx->kb, "http://x/a", "1000", d);
    /* the timeout says how, not what: the same identity */
    assert_memory_equal(a, b, 32);
    assert_memory_not_equal(a, c, 32);
    /* keyed: another key, another identity */
    assert_memory_not_equal(a, d, 32);
}

static void test_file_name(void **state)
{
    struct fixture *fx = *state;
    char a[EI_CACHE_NAME_LEN], b[EI_CACHE_NAME_LEN];
    ei_cache_file_name(&fx->id, a);
    assert_int_equal(strlen(a), 38);
    assert_int_equal(strspn(a, "0123456789abcdef"), 32);
    assert_string_equal(a + 32, ".cache");
    /* the key plays no part: a file sealed with another key is found,
       and refused as such */
    struct ei_cache_ident other = fx->id;
    other.environment = "staging";
    ei_cache_file_name(&other, b);
    assert_string_not_equal(a, b);
}

/* ---- the folder ---- */

struct folder {
    char root[64];
    char dir[96];
    char keyfile[96];
};

static void folder_make(struct folder *f)
{
    snprintf(f->root, sizeof(f->root), "/tmp/ei-test-cache.XXXXXX");
    assert_non_null(mkdtemp(f->root));
    snprintf(f->dir, sizeof(f->dir), "%s/cache", f->root);
    snprintf(f->keyfile, sizeof(f->keyfile), "%s/key", f->root);
    FILE *fp = fopen(f->keyfile, "w");
    assert_non_null(fp);
    fputs(KEY_A "\n", fp);
    fclose(fp);
    chmod(f->keyfile, 0600);
}

static void folder_remove(struct folder *f)
{
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
    assert_int_equal(system(cmd), 0);
}

static void test_write_read(void **state)
{
    struct fixture *fx = *state;
    struct folder f;
    folder_make(&f);
    struct ei_cache_conf conf = {.dir = f.dir,
                                 .key_file = f.keyfile,
                                 .max_age_ms = HOUR,
                                 .where = (char *)"envinject.conf:1"};
    const char *env[] = {"PATH=/bin", NULL};
    struct ei_error err = {0};
    struct ei_cache *c = ei_cache_new(&conf, env, &err);
    assert_non_null(c);
    struct stat st;
    assert_int_equal(stat(f.dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);

    struct seen s = {0};
    int64_t age = -1;
    char rev[EI_REVISION_MAX + 1];
    assert_int_equal(ei_cache_read(c, &fx->id, &age, see, &s, rev, &err),
                     EI_CACHE_ABSENT);
    assert_string_equal(rev, "");
    assert_int_equal(ei_cache_write(c, &fx->id, fx->set, "sha256:ab", &err), 0);
    assert_int_equal(ei_cache_read(c, &fx->id, &age, see, &s, rev, &err),
                     EI_CACHE_OK);
    assert_string_equal(s.text, expect_all);
    assert_string_equal(rev, "sha256:ab");
    assert_true(age >= 0 && age < HOUR);

    char name[EI_CACHE_NAME_LEN], path[160];
    ei_cache_file_name(&fx->id, name);
    snprintf(path, sizeof(path), "%s/%s", f.dir, name);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* the only file: no temporary one left behind */
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 1", f.dir);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "! grep -qF '%s' '%s'", CANARY, path);
    assert_int_equal(system(cmd), 0);
    ei_cache_free(c);

    /* the key of the environment wins over key_file */
    const char *env_b[] = {"ENVINJECT_CACHE_KEY=" KEY_B, NULL};
    c = ei_cache_new(&conf, env_b, &err);
    assert_non_null(c);
    assert_int_equal(ei_cache_read(c, &fx->id, &age, see, &s, NULL, &err),
                     EI_CACHE_OTHER_KEY);
    ei_cache_free(c);
    folder_remove(&f);
}

static void test_refused(void **state)
{
    (void)state;
    struct folder f;
    folder_make(&f);
    struct ei_cache_conf conf = {.dir = f.dir,
                                 .key_file = f.keyfile,
                                 .max_age_ms = HOUR,
                                 .where = (char *)"envinject.conf:1"};
    const char *env[] = {NULL};
    struct ei_error err = {0};

    /* a folder open to others */
    assert_int_equal(mkdir(f.dir, 0755), 0);
    chmod(f.dir, 0755);
    assert_null(ei_cache_new(&conf, env, &err));
    assert_int_equal(err.status, EI_DENIED);
    assert_non_null(strstr(err.text, "chmod 700 "));
    chmod(f.dir, 0700);

    /* a key file others may read */
    chmod(f.keyfile, 0644);
    memset(&err, 0, sizeof(err));
    assert_null(ei_cache_new(&conf, env, &err));
    assert_int_equal(err.status, EI_DENIED);
    assert_non_null(strstr(err.text, "chmod 600 "));
    chmod(f.keyfile, 0600);

    /* no key at all */
    struct ei_cache_conf nokey = conf;
    nokey.key_file = NULL;
    memset(&err, 0, sizeof(err));
    assert_null(ei_cache_new(&nokey, env, &err));
    assert_int_equal(err.status, EI_BADCONFIG);

    /* a key of the wrong length in the environment */
    const char *env_short[] = {"ENVINJECT_CACHE_KEY=abcd", NULL};
    memset(&err, 0, sizeof(err));
    assert_null(ei_cache_new(&conf, env_short, &err));
    assert_int_equal(err.status, EI_BADCONFIG);
    assert_null(strstr(err.text, "abcd"));

    /* dir is a file */
    struct ei_cache_conf file_dir = conf;
    file_dir.dir = f.keyfile;
    memset(&err, 0, sizeof(err));
    assert_null(ei_cache_new(&file_dir, env, &err));
    assert_int_equal(err.status, EI_BADCONFIG);
    folder_remove(&f);
}

int main(void)
{
    if (ei_secmem_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_parse),
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_layer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tamper_every_byte, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_ident, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
        cmocka_unit_test(test_parse_malformed),
        cmocka_unit_test(test_age_text),
        cmocka_unit_test_setup_teardown(test_options_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
