/* SPDX-License-Identifier: MIT */
/* Unit tests of dotenvx's encrypted values (providers/common/dotenvx.c and
   ecies.c) against files the real dotenvx encrypted (tests/fixtures/dotenvx)
   and through the fake host. */

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include <envinject/provider.h>

#include "dotenvx.h"
#include "ecies.h"
#include "host.h"
#include "libcrypto.h"

#define PATH_SIZE 4096
#define TEXT_SIZE 8192
#define KEY_HEX   (2 * EI_ECIES_KEY_LEN)
/* secp256k1's order n: not a private key, nor is 0 */
#define ORDER_HEX                                                              \
    "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"

static void fixture_path(const char *name, char *out, size_t out_len)
{
    const char *top = getenv("top_srcdir");
    if (top != NULL)
        snprintf(out, out_len, "%s/tests/fixtures/dotenvx/%s", top, name);
    else
        snprintf(out, out_len, "%.*s/../fixtures/dotenvx/%s",
                 (int)(strrchr(__FILE__, '/') - __FILE__), __FILE__, name);
}

/* A whole file, NUL-terminated; the caller frees. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    char *buf = malloc(TEXT_SIZE);
    assert_non_null(buf);
    *len = fread(buf, 1, TEXT_SIZE - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static json_t *fixture_json(const char *name)
{
    char path[PATH_SIZE];
    fixture_path(name, path, sizeof(path));
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (j == NULL)
        fail_msg("%s: %s", path, je.text);
    return j;
}

/* The value of name in the fixtures' .env.keys (a static buffer, which
   the next call overwrites). */
static const char *fixture_key(const char *name)
{
    static char hex[KEY_HEX + 1];
    char path[PATH_SIZE];
    fixture_path(".env.keys", path, sizeof(path));
    size_t len;
    char *text = slurp(path, &len);
    char prefix[EI_DOTENVX_NAME_MAX];
    snprintf(prefix, sizeof(prefix), "\n%s=", name);
    const char *at = strstr(text, prefix);
    assert_non_null(at);
    memcpy(hex, at + strlen(prefix), KEY_HEX);
    hex[KEY_HEX] = '\0';
    free(text);
    return hex;
}

static void key_bytes(const char *hex, unsigned char *out)
{
    size_t n = 0;
    assert_int_equal(
        sodium_hex2bin(out, EI_ECIES_KEY_LEN, hex, strlen(hex), NULL, &n, NULL),
        0);
    assert_int_equal(n, EI_ECIES_KEY_LEN);
}

/* The emit callback of the parser, into a fake sink. */
static int to_sink(void *ctx, const char *const *name, size_t name_n,
                   const char *value, size_t value_len, int line,
                   unsigned flags, struct ei_error *err)
{
    struct fake_sink *fs = ctx;
    (void)line;
    return fs->sink.emit(&fs->sink, name, name_n, value, value_len, NULL, flags,
                         err);
}

/* Parse fixture file name (read from dir, else the fixtures' folder) with
   the environment env; the status, entries in fs, err filled. */
static enum ei_status run_file(const char *name, const char *dir,
                               const char *const *env, struct fake_sink *fs,
                               bool *keys_file, struct ei_error *err)
{
    char src[PATH_SIZE], path[PATH_SIZE];
    fixture_path(name, src, sizeof(src));
    size_t len;
    char *buf = slurp(src, &len);
    if (dir != NULL)
        snprintf(path, sizeof(path), "%s/%s", dir, name);
    else
        snprintf(path, sizeof(path), "%s", src);
    struct fake_host *fh = fake_host_new(NULL, env, NULL);
    assert_non_null(fh);
    memset(err, 0, sizeof(*err));
    fake_sink_init(fs);
    enum ei_status st = ei_dotenvx_parse(fake_host_host(fh), path, name, buf,
                                         len, to_sink, fs, keys_file, err);
    fake_host_free(fh);
    free(buf);
    return st;
}

/* The entries of fs are exactly those of expected.json for file. */
static void check_values(const struct fake_sink *fs, const char *file,
                         const char *encrypted_src)
{
    json_t *all = fixture_json("expected.json");
    json_t *want = json_object_get(all, file);
    assert_non_null(want);
    assert_int_equal(fs->n, json_object_size(want));
    const char *k;
    json_t *v;
    json_object_foreach(want, k, v)
    {
        const struct fake_entry *e = fake_sink_find(fs, k);
        if (e == NULL)
            fail_msg("%s: %s missing", file, k);
        assert_int_equal(e->value_len, json_string_length(v));
        assert_memory_equal(e->value, json_string_value(v), e->value_len);
        /* decrypted values are secret and never interpolated */
        char needle[EI_DOTENVX_NAME_MAX];
        snprintf(needle, sizeof(needle), "\n%s=", k);
        const char *line = strstr(encrypted_src, needle);
        assert_non_null(line);
        bool enc = strstr(line + strlen(needle), EI_DOTENVX_PREFIX) ==
                   line + strlen(needle) + 1;
        unsigned both = EI_ENTRY_SECRET | EI_ENTRY_LITERAL;
        if (enc)
            assert_int_equal(e->flags & both, both);
        else
            assert_int_equal(e->flags & EI_ENTRY_SECRET, 0);
    }
    json_decref(all);
}

/* A private copy of the fixtures' .env.keys in a new folder (git keeps
   no modes but the executable bit: the fixture itself is 0644 in a
   checkout, and a keys file that others may read is refused). */
static void private_keys_dir(char *dir, size_t len)
{
    snprintf(dir, len, "%s/ei-dotenvx.XXXXXX",
             getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(dir));
    char src[PATH_SIZE], dst[PATH_SIZE];
    fixture_path(".env.keys", src, sizeof(src));
    size_t n;
    char *text = slurp(src, &n);
    assert_true(strlen(dir) + sizeof("/.env.keys") <= sizeof(dst));
    memcpy(dst, dir, strlen(dir));
    memcpy(dst + strlen(dir), "/.env.keys", sizeof("/.env.keys"));
    int fd = open(dst, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
    free(text);
}

static void test_fixtures_keys_file(void **state)
{
    (void)state;
    static const char *const files[] = {".env", ".env.production"};
    char dir[PATH_SIZE / 2], keys[PATH_SIZE];
    private_keys_dir(dir, sizeof(dir));
    snprintf(keys, sizeof(keys), "%s/.env.keys", dir);
    for (size_t i = 0; i < 2; i++) {
        struct fake_sink fs;
        struct ei_error err;
        bool keys_file = false;
        assert_int_equal(run_file(files[i], dir, NULL, &fs, &keys_file, &err),
                         EI_OK);
        assert_true(keys_file);
        char src[PATH_SIZE];
        fixture_path(files[i], src, sizeof(src));
        size_t len;
        char *text = slurp(src, &len);
        check_values(&fs, files[i], text);
        assert_null(fake_sink_find(&fs, "DOTENV_PUBLIC_KEY"));
        assert_null(fake_sink_find(&fs, "DOTENV_PUBLIC_KEY_PRODUCTION"));
        free(text);
        fake_sink_free(&fs);
    }
    unlink(keys);
    rmdir(dir);
}

/* The key from the environment; no .env.keys where the file is. */
static void test_key_from_env(void **state)
{
    (void)state;
    char var[EI_DOTENVX_NAME_MAX + KEY_HEX + 2];
    snprintf(var, sizeof(var), "DOTENV_PRIVATE_KEY_PRODUCTION=%s",
             fixture_key("DOTENV_PRIVATE_KEY_PRODUCTION"));
    const char *env[] = {var, NULL};
    struct fake_sink fs;
    struct ei_error err;
    bool keys_file = true;
    assert_int_equal(
        run_file(".env.production", "/nonexistent", env, &fs, &keys_file, &err),
        EI_OK);
    assert_false(keys_file);
    char src[PATH_SIZE];
    fixture_path(".env.production", src, sizeof(src));
    size_t len;
    char *text = slurp(src, &len);
    check_values(&fs, ".env.production", text);
    free(text);
    fake_sink_free(&fs);
}

static void test_no_key(void **state)
{
    (void)state;
    struct fake_sink fs;
    struct ei_error err;
    bool keys_file;
    assert_int_equal(run_file(".env.production", "/nonexistent", NULL, &fs,
                              &keys_file, &err),
                     EI_DENIED);
    assert_non_null(strstr(err.text, "DOTENV_PRIVATE_KEY_PRODUCTION"));
    assert_non_null(strstr(err.text, "/nonexistent/.env.keys"));
    assert_int_equal(fs.n, 0);
    fake_sink_free(&fs);
}

/* The key of another file: named, never shown. */
static void test_wrong_key(void **state)
{
    (void)state;
    const char *other = fixture_key("DOTENV_PRIVATE_KEY");
    char var[EI_DOTENVX_NAME_MAX + KEY_HEX + 2];
    snprintf(var, sizeof(var), "DOTENV_PRIVATE_KEY_PRODUCTION=%s", other);
    const char *env[] = {var, NULL};
    struct fake_sink fs;
    struct ei_error err;
    bool keys_file;
    assert_int_equal(
        run_file(".env.production", "/nonexistent", env, &fs, &keys_file, &err),
        EI_DENIED);
    assert_non_null(strstr(err.text, "DOTENV_PRIVATE_KEY_PRODUCTION"));
    assert_non_null(strstr(err.text, "not the private key of "
                                     "DOTENV_PUBLIC_KEY_PRODUCTION"));
    assert_null(strstr(err.text, other));
    assert_null(strstr(err.locator, other));
    fake_sink_free(&fs);

    /* a key list: the wrong one first, then the right one */
    snprintf(var, sizeof(var), "DOTENV_PRIVATE_KEY_PRODUCTION=%s,", other);
    char list[sizeof(var) + KEY_HEX];
    snprintf(list, sizeof(list), "%s%s", var,
             fixture_key("DOTENV_PRIVATE_KEY_PRODUCTION"));
    env[0] = list;
    assert_int_equal(
        run_file(".env.production", "/nonexistent", env, &fs, &keys_file, &err),
        EI_OK);
    assert_int_equal(fs.n, 4);
    fake_sink_free(&fs);

    /* not hex */
    env[0] = "DOTENV_PRIVATE_KEY_PRODUCTION=not-a-key";
    assert_int_equal(
        run_file(".env.production", "/nonexistent", env, &fs, &keys_file, &err),
        EI_DENIED);
    assert_non_null(strstr(err.text, "expected 64 hex digits"));
    fake_sink_free(&fs);
}

/* The names dotenvx's own convention code gives (names.json). */
static void test_key_names(void **state)
{
    (void)state;
    json_t *names = fixture_json("names.json");
    const char *file;
    json_t *want;
    size_t n = 0;
    json_object_foreach(names, file, want)
    {
        char got[EI_DOTENVX_NAME_MAX];
        const char *pub = NULL;
        char path[PATH_SIZE];
        snprintf(path, sizeof(path), "%s", file);
        char *paren = strstr(path, " (");
        if (paren != NULL) {
            *paren = '\0';
            pub = "DOTENV_PUBLIC_KEY_CUSTOM";
        }
        assert_int_equal(ei_dotenvx_key_name(path, pub, got, sizeof(got)), 0);
        if (strcmp(got, json_string_value(want)) != 0)
            fail_msg("%s: got %s, dotenvx names it %s", file, got,
                     json_string_value(want));
        n++;
    }
    assert_true(n >= 10);
    json_decref(names);
    char small[8];
    assert_int_equal(
        ei_dotenvx_key_name(".env.production", NULL, small, sizeof(small)), -1);
}

static void test_parse_keys(void **state)
{
    (void)state;
    unsigned char keys[EI_DOTENVX_MAX_KEYS][EI_ECIES_KEY_LEN];
    const char *k = fixture_key("DOTENV_PRIVATE_KEY");
    char text[(KEY_HEX + 2) * (EI_DOTENVX_MAX_KEYS + 1) + 1];
    assert_int_equal(ei_dotenvx_parse_keys(k, strlen(k), keys), 1);
    snprintf(text, sizeof(text), " %s , %s", k, k);
    assert_int_equal(ei_dotenvx_parse_keys(text, strlen(text), keys), 2);
    static const char *const bad[] = {
        "", ",", "abc", "zz" ORDER_HEX, ORDER_HEX "00", ORDER_HEX ","};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(ei_dotenvx_parse_keys(bad[i], strlen(bad[i]), keys),
                         -1);
    /* more keys than a list may hold */
    size_t pos = 0;
    for (int i = 0; i <= EI_DOTENVX_MAX_KEYS; i++)
        pos += (size_t)snprintf(text + pos, sizeof(text) - pos, "%s%s",
                                i > 0 ? "," : "", k);
    assert_int_equal(ei_dotenvx_parse_keys(text, pos, keys), -1);
}

/* The fixture's encrypted DB_PASSWORD of .env, decoded. */
static size_t fixture_blob(unsigned char *blob, size_t cap)
{
    char src[PATH_SIZE];
    fixture_path(".env", src, sizeof(src));
    size_t len;
    char *text = slurp(src, &len);
    const char *at = strstr(text, "\nDB_PASSWORD=\"encrypted:");
    assert_non_null(at);
    at += strlen("\nDB_PASSWORD=\"encrypted:");
    size_t b64_len = strcspn(at, "\"");
    size_t blob_len = 0;
    assert_int_equal(sodium_base642bin(blob, cap, at, b64_len, NULL, &blob_len,
                                       NULL, sodium_base64_VARIANT_ORIGINAL),
                     0);
    free(text);
    return blob_len;
}

enum mutation {
    M_NONE,
    M_EPH_FORM,
    M_EPH_Y,
    M_NONCE,
    M_TAG,
    M_CIPHER,
    M_SHORT
};

/* One value through ei_dotenvx_decrypt, mutated, with key hex. */
static enum ei_dotenvx_result decrypt_mutated(struct ei_ecies *e,
                                              enum mutation m, const char *hex,
                                              char *plain, size_t *plain_len)
{
    unsigned char blob[256];
    size_t n = fixture_blob(blob, sizeof(blob));
    switch (m) {
    case M_NONE:
        break;
    case M_EPH_FORM: /* not the uncompressed form eciesjs writes */
        blob[0] = 0x02;
        break;
    case M_EPH_Y: /* (x, y^1): no point of the curve */
        blob[EI_ECIES_POINT_LEN - 1] ^= 1;
        break;
    case M_NONCE:
        blob[EI_ECIES_POINT_LEN] ^= 0x80;
        break;
    case M_TAG:
        blob[EI_ECIES_POINT_LEN + EI_ECIES_NONCE_LEN + 3] ^= 1;
        break;
    case M_CIPHER:
        blob[n - 1] ^= 1;
        break;
    case M_SHORT:
        n = EI_ECIES_OVERHEAD - 1;
        break;
    }
    char value[512];
    memcpy(value, EI_DOTENVX_PREFIX, sizeof EI_DOTENVX_PREFIX - 1);
    sodium_bin2base64(value + sizeof EI_DOTENVX_PREFIX - 1,
                      sizeof(value) - sizeof EI_DOTENVX_PREFIX, blob, n,
                      sodium_base64_VARIANT_ORIGINAL);
    unsigned char keys[2][EI_ECIES_KEY_LEN];
    key_bytes(hex, keys[0]);
    return ei_dotenvx_decrypt(e, (const unsigned char(*)[EI_ECIES_KEY_LEN])keys,
                              1, value, strlen(value), (unsigned char *)plain,
                              plain_len);
}

static void test_decrypt_vectors(void **state)
{
    (void)state;
    char why[160];
    struct ei_ecies *e = ei_ecies_new(why, sizeof(why));
    if (e == NULL)
        fail_msg("%s", why);
    char right[KEY_HEX + 1], wrong[KEY_HEX + 1];
    snprintf(right, sizeof(right), "%s", fixture_key("DOTENV_PRIVATE_KEY"));
    snprintf(wrong, sizeof(wrong), "%s",
             fixture_key("DOTENV_PRIVATE_KEY_PRODUCTION"));
    static const char zero[] =
        "0000000000000000000000000000000000000000000000000000000000000000";
    const struct {
        enum mutation m;
        const char *key;
        enum ei_dotenvx_result want;
    } rows[] = {
        {M_NONE, right, EI_DOTENVX_OK},
        {M_NONE, wrong, EI_DOTENVX_WRONG_KEY},
        {M_NONE, zero, EI_DOTENVX_BAD_KEY},
        {M_NONE, ORDER_HEX, EI_DOTENVX_BAD_KEY},
        {M_EPH_FORM, right, EI_DOTENVX_MALFORMED},
        {M_EPH_Y, right, EI_DOTENVX_MALFORMED},
        {M_NONCE, right, EI_DOTENVX_WRONG_KEY},
        {M_TAG, right, EI_DOTENVX_WRONG_KEY},
        {M_CIPHER, right, EI_DOTENVX_WRONG_KEY},
        {M_SHORT, right, EI_DOTENVX_MALFORMED},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char plain[256];
        memset(plain, 'x', sizeof(plain));
        size_t plain_len = 99;
        enum ei_dotenvx_result got =
            decrypt_mutated(e, rows[i].m, rows[i].key, plain, &plain_len);
        if (got != rows[i].want)
            fail_msg("row %zu: got %d, want %d", i, got, rows[i].want);
        if (got == EI_DOTENVX_OK) {
            assert_int_equal(plain_len, strlen("s3cr3t-p@ss"));
            assert_memory_equal(plain, "s3cr3t-p@ss", plain_len);
        } else {
            assert_int_equal(plain_len, 0);
        }
    }

    /* not base64, or nothing after the prefix */
    static const char *const bad[] = {"encrypted:", "encrypted:@@@@",
                                      "encrypted:QUJD\n", "encrypted:QQ=x",
                                      "plain"};
    unsigned char keys[1][EI_ECIES_KEY_LEN];
    key_bytes(right, keys[0]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        unsigned char out[64];
        size_t out_len;
        assert_int_equal(ei_dotenvx_decrypt(
                             e, (const unsigned char(*)[EI_ECIES_KEY_LEN])keys,
                             1, bad[i], strlen(bad[i]), out, &out_len),
                         EI_DOTENVX_NOT_BASE64);
    }
    /* valid base64, too short for a blob */
    unsigned char out[64];
    size_t out_len;
    assert_int_equal(
        ei_dotenvx_decrypt(e, (const unsigned char(*)[EI_ECIES_KEY_LEN])keys, 1,
                           "encrypted:QUJD", 14, out, &out_len),
        EI_DOTENVX_MALFORMED);
    ei_ecies_free(e);
}

/* The public key of the fixture's private key is the file's; a value
   encrypted here opens with the private key (an empty one too). */
static void test_public_key_and_round_trip(void **state)
{
    (void)state;
    char why[160];
    struct ei_ecies *e = ei_ecies_new(why, sizeof(why));
    assert_non_null(e);
    unsigned char sk[EI_ECIES_KEY_LEN], pub[EI_ECIES_PUB_LEN];
    key_bytes(fixture_key("DOTENV_PRIVATE_KEY"), sk);
    assert_int_equal(ei_ecies_public_key(e, sk, pub), EI_ECIES_OK);
    char hex[2 * EI_ECIES_PUB_LEN + 1];
    sodium_bin2hex(hex, sizeof(hex), pub, sizeof(pub));
    char src[PATH_SIZE];
    fixture_path(".env", src, sizeof(src));
    size_t len;
    char *text = slurp(src, &len);
    char want[sizeof(hex) + 32];
    snprintf(want, sizeof(want), "DOTENV_PUBLIC_KEY=\"%s\"", hex);
    assert_non_null(strstr(text, want));
    free(text);

    static const char *const plains[] = {"", "a", "EI_CANARY_round\ntrip"};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(plains[i]);
        unsigned char blob[128], out[128];
        assert_int_equal(ei_ecies_encrypt(e, pub, sizeof(pub),
                                          (const unsigned char *)plains[i], n,
                                          blob),
                         EI_ECIES_OK);
        size_t out_len;
        assert_int_equal(
            ei_ecies_decrypt(e, sk, blob, n + EI_ECIES_OVERHEAD, out, &out_len),
            EI_ECIES_OK);
        assert_int_equal(out_len, n);
        assert_memory_equal(out, plains[i], n);
    }
    /* not a point: encrypt refuses */
    unsigned char junk[EI_ECIES_PUB_LEN] = {0x02};
    unsigned char blob[128];
    assert_int_equal(ei_ecies_encrypt(e, junk, sizeof(junk),
                                      (const unsigned char *)"x", 1, blob),
                     EI_ECIES_MALFORMED);
    ei_ecies_free(e);
}

/* A decrypted NUL is no value; a plain file passes untouched. */
static void test_nul_and_plain(void **state)
{
    (void)state;
    char why[160];
    struct ei_ecies *e = ei_ecies_new(why, sizeof(why));
    assert_non_null(e);
    unsigned char sk[EI_ECIES_KEY_LEN], pub[EI_ECIES_PUB_LEN];
    const char *hex = fixture_key("DOTENV_PRIVATE_KEY");
    key_bytes(hex, sk);
    assert_int_equal(ei_ecies_public_key(e, sk, pub), EI_ECIES_OK);
    unsigned char blob[3 + EI_ECIES_OVERHEAD];
    assert_int_equal(ei_ecies_encrypt(e, pub, sizeof(pub),
                                      (const unsigned char *)"a\0b", 3, blob),
                     EI_ECIES_OK);
    char b64[256];
    sodium_bin2base64(b64, sizeof(b64), blob, 3 + EI_ECIES_OVERHEAD,
                      sodium_base64_VARIANT_ORIGINAL);
    char text[512];
    snprintf(text, sizeof(text), "X=encrypted:%s\n", b64);
    char var[EI_DOTENVX_NAME_MAX + KEY_HEX + 2];
    snprintf(var, sizeof(var), "DOTENV_PRIVATE_KEY=%s", hex);
    const char *env[] = {var, NULL};
    struct fake_host *fh = fake_host_new(NULL, env, NULL);
    struct fake_sink fs;
    fake_sink_init(&fs);
    struct ei_error err = {0};
    bool keys_file;
    assert_int_equal(ei_dotenvx_parse(fake_host_host(fh), "/x/.env", ".env",
                                      text, strlen(text), to_sink, &fs,
                                      &keys_file, &err),
                     EI_BADDATA);
    assert_non_null(strstr(err.text, "NUL"));
    assert_string_equal(err.locator, ".env:1");

    /* no dotenvx in it: one walk, no key looked for */
    static const char plain[] = "A=1\nB='encrypted' \n";
    memset(&err, 0, sizeof(err));
    fake_sink_free(&fs);
    assert_int_equal(ei_dotenvx_parse(fake_host_host(fh), "/x/.env", ".env",
                                      plain, strlen(plain), to_sink, &fs,
                                      &keys_file, &err),
                     EI_OK);
    assert_int_equal(fs.n, 2);
    assert_int_equal(fake_host_reads(fh), 0);
    fake_sink_free(&fs);
    fake_host_free(fh);
    ei_ecies_free(e);
}

/* The search for dotenvx's marks before the parse: found at the start
   and at the end of the text and after bytes that begin a mark but do not
   complete one (a mark missed would pass ciphertext or the public key on
   as a value); a mark cut by the end is none. */
static void test_marks(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        enum ei_status status;
        size_t emitted; /* when EI_OK */
    } rows[] = {
        {"DOTENV_PUBLIC_KEY=abc\nA=1\n", EI_OK, 1},
        {"A=1\nDOTENV_PUBLIC_KEY_X=abc", EI_OK, 1},
        {"BB=B\nAB=DOTENV_PUBLIC\nDOTENV_PUBLIC_KEY=x\n", EI_OK, 2},
        {"A=encrypted:", EI_DENIED, 0},
        {"B=a:b\nC=:encrypted\nD=encrypted:QUJD\n", EI_DENIED, 0},
        {"A=DOTENV_PUB", EI_OK, 1},
        {"A=x:encrypted", EI_OK, 1},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        print_message("# marks: %s\n", rows[i].text);
        struct fake_host *fh = fake_host_new(NULL, NULL, NULL);
        assert_non_null(fh);
        struct fake_sink fs;
        fake_sink_init(&fs);
        struct ei_error err = {0};
        bool keys_file;
        assert_int_equal(ei_dotenvx_parse(fake_host_host(fh), "/x/.env", ".env",
                                          rows[i].text, strlen(rows[i].text),
                                          to_sink, &fs, &keys_file, &err),
                         rows[i].status);
        if (rows[i].status == EI_OK)
            assert_int_equal(fs.n, rows[i].emitted);
        else
            assert_non_null(strstr(err.text, "no private key"));
        fake_sink_free(&fs);
        fake_host_free(fh);
    }
}

/* ecies.c and sha1.c share one table: the same one every time, every
   function of it found (dlopened, or linked under --disable-dlopen). */
static void test_crypto_table(void **state)
{
    (void)state;
    char why[128] = "";
    const struct ei_crypto *a = ei_crypto_get(why, sizeof why);
    if (a == NULL)
        fail_msg("%s", why);
    assert_ptr_equal(ei_crypto_get(why, sizeof why), a);
#define CHECK_FOUND(ret, name, args) assert_true(a->name != NULL);
    EI_CRYPTO_API(CHECK_FOUND)
#undef CHECK_FOUND
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures_keys_file),
        cmocka_unit_test(test_key_from_env),
        cmocka_unit_test(test_no_key),
        cmocka_unit_test(test_wrong_key),
        cmocka_unit_test(test_key_names),
        cmocka_unit_test(test_parse_keys),
        cmocka_unit_test(test_decrypt_vectors),
        cmocka_unit_test(test_public_key_and_round_trip),
        cmocka_unit_test(test_nul_and_plain),
        cmocka_unit_test(test_marks),
        cmocka_unit_test(test_crypto_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
