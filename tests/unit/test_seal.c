/* SPDX-License-Identifier: MIT */
/* Unit tests of the seal commands: keygen, encrypt in place, set from a
   file descriptor, and a round trip through the sealed provider. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "../fakes/host.h"
#include "ejson.h"
#include "expand.h"
#include "seal.h"

extern const struct ei_provider ei_provider_sealed;

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define PK9        "9f600586854785eae611421c8dc8958c8565c304a20765468863d1b20817087d"
#define SK9        "837ed67bd50b291980191462d05f348f15aef99fd21b27fa9bb194f677224a65"
#define CANARY     "EI_CANARY_9e71aa"

static char dir[64];

static int rm_one(const char *path, const struct stat *sb, int flag,
                  struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* A fresh, empty folder for each test. */
static int fresh(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    umask(022);
    snprintf(dir, sizeof(dir), "/tmp/ei-seal-XXXXXX");
    return mkdtemp(dir) != NULL ? 0 : -1;
}

static int cleanup(void **state)
{
    (void)state;
    unsetenv("EJSON_KEYDIR");
    return nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static char *at(const char *rel)
{
    static char paths[4][512];
    static size_t next;
    char *p = paths[next++ % 4];
    snprintf(p, 512, "%s/%s", dir, rel);
    return p;
}

static void put(const char *rel, const char *data, mode_t mode)
{
    const char *path = at(rel);
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    assert_true(fd >= 0);
    size_t len = strlen(data);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static char *get(const char *rel, size_t *len)
{
    FILE *f = fopen(at(rel), "rb");
    assert_non_null(f);
    char *buf = malloc(1 << 20);
    assert_non_null(buf);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    fclose(f);
    buf[n] = '\0';
    if (len != NULL)
        *len = n;
    return buf;
}

/* What a FILE* printed: an in-memory stream. */
struct capture {
    FILE *f;
    char *buf;
    size_t len;
};

static void cap_open(struct capture *c)
{
    memset(c, 0, sizeof(*c));
    c->f = open_memstream(&c->buf, &c->len);
    assert_non_null(c->f);
}

static void cap_close(struct capture *c)
{
    fclose(c->f);
    free(c->buf);
}

static const char *cap_text(struct capture *c)
{
    fflush(c->f);
    return c->buf;
}

/* ejson decrypt: tokens replaced by their quoted plaintext. */
struct dec_ctx {
    const unsigned char *sk;
    const char *buf;
    char *out;
    size_t w, at;
};

static int dec_visit(void *ctx, const struct ei_ejson_node *n,
                     struct ei_error *err)
{
    struct dec_ctx *d = ctx;
    (void)err;
    if (n->type != EI_EJSON_STRING || !n->encryptable)
        return 0;
    char tok[4096];
    size_t tl, pl;
    assert_int_equal(ei_ejson_unquote(d->buf + n->start, n->end - n->start,
                                      false, tok, sizeof(tok), &tl),
                     0);
    unsigned char plain[4096];
    if (ei_ejson_decrypt(tok, tl, d->sk, plain, sizeof(plain), &pl) !=
        EI_EJSON_TOK_OK)
        fail_msg("a value at offset %zu does not decrypt", n->start);
    memcpy(d->out + d->w, d->buf + d->at, n->start - d->at);
    d->w += n->start - d->at;
    d->w += ei_ejson_quote((const char *)plain, pl, d->out + d->w, 8192);
    d->at = n->end;
    return 0;
}

static char *decrypt_text(const char *buf, size_t len)
{
    unsigned char sk[32];
    assert_int_equal(ei_ejson_key_from_hex(SK9, 64, false, sk), 0);
    struct dec_ctx d;
    memset(&d, 0, sizeof(d));
    d.sk = sk;
    d.buf = buf;
    d.out = malloc(len * 2 + 16384);
    assert_non_null(d.out);
    struct ei_error err;
    memset(&err, 0, sizeof(err));
    if (ei_ejson_walk(buf, len, 0, "x", dec_visit, &d, &err) != EI_OK)
        fail_msg("not valid: %s", err.text);
    memcpy(d.out + d.w, buf + d.at, len - d.at);
    d.out[d.w + len - d.at] = '\0';
    return d.out;
}

/* @{TEXT}: a token of TEXT sealed by the sealer ctx. */
static void seal_rule(struct expand_buf *b, const char *text, size_t len,
                      void *ctx)
{
    size_t tl = ei_ejson_token_len(len);
    char *token = malloc(tl + 1);
    assert_non_null(token);
    assert_int_equal(ei_ejson_seal(ctx, (const unsigned char *)text, len, NULL,
                                   token, tl + 1),
                     0);
    expand_put(b, token, tl);
    free(token);
}

/* Expand @{TEXT} into a token of TEXT sealed to PK9 (see
   test_provider_sealed.c). */
static char *expand_sealed(const char *tpl)
{
    unsigned char pk[32];
    assert_int_equal(ei_ejson_key_from_hex(PK9, 64, false, pk), 0);
    struct ei_ejson_sealer s;
    assert_int_equal(ei_ejson_sealer_init(&s, pk, NULL), 0);
    const struct expand_rule rule = {
        .open = "@{", .close = "}", .fn = seal_rule, .ctx = &s};
    char *out = expand(tpl, &rule, 1);
    ei_ejson_sealer_wipe(&s);
    return out;
}

static bool is_hex64(const char *s)
{
    for (size_t i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static void check_pair(const char *pub, const char *priv)
{
    unsigned char pk[32], sk[32], derived[32];
    assert_int_equal(ei_ejson_key_from_hex(pub, 64, false, pk), 0);
    assert_int_equal(ei_ejson_key_from_hex(priv, 64, false, sk), 0);
    crypto_scalarmult_base(derived, sk);
    assert_memory_equal(derived, pk, 32);
}

static void test_keygen_keydir(void **state)
{
    (void)state;
    struct capture c;
    cap_open(&c);
    struct ei_error err;
    memset(&err, 0, sizeof(err));
    assert_int_equal(ei_seal_keygen(dir, NULL, false, c.f, &err), 0);
    const char *out = cap_text(&c);
    assert_int_equal(strlen(out), 65);
    assert_true(is_hex64(out));
    assert_int_equal(out[64], '\n');
    char pub[65];
    memcpy(pub, out, 64);
    pub[64] = '\0';

    struct stat st;
    assert_int_equal(lstat(at(pub), &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
    size_t len;
    char *priv = get(pub, &len);
    assert_int_equal(len, 65);
    assert_true(is_hex64(priv));
    assert_int_equal(priv[64], '\n');
    check_pair(pub, priv);

    /* an existing private key file is never overwritten */
    memset(&err, 0, sizeof(err));
    assert_int_equal(ei_seal_keygen(NULL, at(pub), false, c.f, &err), -1);
    assert_int_equal(err.status, EI_IOERROR);
    assert_int_equal(err.errnum, EEXIST);
    assert_non_null(strstr(err.text, "never overwritten"));
    char *again = get(pub, NULL);
    assert_string_equal(again, priv);
    assert_null(strstr(err.text, priv));
    assert_int_equal(strlen(cap_text(&c)), 65);
    free(again);
    free(priv);
    cap_close(&c);
}

/* The user that permission checks are made for while root runs the
   test: root passes them all, and the test is about a refusal. */
#define NOBODY_UID 65534

/* Permission denied on the key folder is one exit code (66, a file that
   seal cannot create), whether the folder is missing or not writable. */
static void test_keygen_keydir_denied(void **state)
{
    (void)state;
    assert_int_equal(mkdir(at("ro"), 0500), 0);
    static const char *const keydirs[] = {"ro/keys", "ro"};
    for (size_t i = 0; i < sizeof keydirs / sizeof keydirs[0]; i++) {
        struct capture c;
        cap_open(&c);
        struct ei_error err;
        memset(&err, 0, sizeof(err));
        char kd[512];
        snprintf(kd, sizeof(kd), "%s", at(keydirs[i]));
        bool root = geteuid() == 0;
        if (root)
            setfsuid(NOBODY_UID);
        int rc = ei_seal_keygen(kd, NULL, false, c.f, &err);
        if (root)
            setfsuid(0);
        assert_int_equal(rc, -1);
        if (err.status != EI_IOERROR || err.errnum != EACCES)
            fail_msg("%s: status %d, errno %d: %s", keydirs[i], err.status,
                     err.errnum, err.text);
        assert_int_equal(c.len, 0);
        cap_close(&c);
    }
}

static void test_keygen_variants(void **state)
{
    (void)state;
    /* --out: exactly that file, 0600 whatever the umask (0277 alone
       would give 0400) */
    umask(0277);
    struct capture c;
    cap_open(&c);
    struct ei_error err;
    memset(&err, 0, sizeof(err));
    assert_int_equal(
        ei_seal_keygen("/nonexistent", at("my.key"), false, c.f, &err), 0);
    umask(022);
    struct stat st;
    assert_int_equal(stat(at("my.key"), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    char *priv = get("my.key", NULL);
    char pub[65];
    memcpy(pub, cap_text(&c), 64);
    pub[64] = '\0';
    check_pair(pub, priv);
    free(priv);
    cap_close(&c);

    /* --print-private: ejson's layout, nothing on disk */
    cap_open(&c);
    assert_int_equal(ei_seal_keygen(dir, NULL, true, c.f, &err), 0);
    const char *out = cap_text(&c);
    assert_int_equal(strlen(out), 12 + 65 + 13 + 65);
    assert_memory_equal(out, "Public Key:\n", 12);
    assert_memory_equal(out + 77, "Private Key:\n", 13);
    assert_int_equal(out[76], '\n');
    assert_int_equal(out[154], '\n');
    char pub2[65], priv2[65];
    memcpy(pub2, out + 12, 64);
    pub2[64] = '\0';
    memcpy(priv2, out + 90, 64);
    priv2[64] = '\0';
    check_pair(pub2, priv2);
    assert_int_equal(access(at(pub2), F_OK), -1);
    cap_close(&c);

    /* EJSON_KEYDIR when no folder is given */
    assert_int_equal(mkdir(at("kd"), 0700), 0);
    setenv("EJSON_KEYDIR", at("kd"), 1);
    cap_open(&c);
    assert_int_equal(ei_seal_keygen(NULL, NULL, false, c.f, &err), 0);
    char rel[80];
    snprintf(rel, sizeof(rel), "kd/%.64s", cap_text(&c));
    assert_int_equal(stat(at(rel), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    cap_close(&c);
    unsetenv("EJSON_KEYDIR");

    /* a missing key folder is created with its parents, 0700 each */
    cap_open(&c);
    assert_int_equal(
        ei_seal_keygen(at("new/ejson/keys"), NULL, false, c.f, &err), 0);
    static const char *const made[] = {"new", "new/ejson", "new/ejson/keys"};
    for (size_t i = 0; i < N_ELEMS(made); i++) {
        assert_int_equal(stat(at(made[i]), &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700);
    }
    snprintf(rel, sizeof(rel), "new/ejson/keys/%.64s", cap_text(&c));
    assert_int_equal(stat(at(rel), &st), 0);
    cap_close(&c);

    static const struct {
        const char *keydir, *out_file;
        bool print;
        enum ei_status want;
        int errnum;
        const char *text;
    } bad[] = {
        {NULL, "x.key", true, EI_USAGE, 0, "exclude each other"},
        {"afile/keys", NULL, false, EI_IOERROR, ENOTDIR, "-k DIR or EJSON"},
        {NULL, "missing/x.key", false, EI_IOERROR, ENOENT, "cannot create"},
        {NULL, "link.key", false, EI_IOERROR, EEXIST, "never overwritten"},
    };
    assert_int_equal(symlink(at("nowhere"), at("link.key")), 0);
    int afd = open(at("afile"), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    assert_true(afd >= 0);
    close(afd);
    for (size_t i = 0; i < N_ELEMS(bad); i++) {
        cap_open(&c);
        memset(&err, 0, sizeof(err));
        char kd[512], of[512];
        if (bad[i].keydir != NULL)
            snprintf(kd, sizeof(kd), "%s", at(bad[i].keydir));
        if (bad[i].out_file != NULL)
            snprintf(of, sizeof(of), "%s", at(bad[i].out_file));
        assert_int_equal(ei_seal_keygen(bad[i].keydir ? kd : NULL,
                                        bad[i].out_file ? of : NULL,
                                        bad[i].print, c.f, &err),
                         -1);
        assert_int_equal(err.status, bad[i].want);
        assert_int_equal(err.errnum, bad[i].errnum);
        if (strstr(err.text, bad[i].text) == NULL)
            fail_msg("row %zu: %s", i, err.text);
        /* nothing printed, nothing left behind */
        assert_int_equal(c.len, 0);
        assert_int_equal(access(at("nowhere"), F_OK), -1);
        cap_close(&c);
    }
}

static const char example_source[] =
    "{\n"
    "  \"_public_key\": \"" PK9 "\",\n"
    "  \"environment\": {\n"
    "    \"_APP_ENV\": \"production\",\n"
    "    \"DATABASE_URL\": \"postgres://app:" CANARY
    "@db.internal:5432/app\",\n"
    "    \"API_TOKEN\": \"tok_live_8f3a9c2d71\",\n"
    "    \"SESSION_SECRET\": \"it's a \\\"secret\\\" with spaces\"\n"
    "  }\n"
    "}\n";

static void test_encrypt_in_place(void **state)
{
    (void)state;
    put("s.ejson", example_source, 0640);
    assert_int_equal(symlink("s.ejson", at("link.ejson")), 0);
    struct stat before;
    assert_int_equal(stat(at("s.ejson"), &before), 0);

    struct capture c;
    cap_open(&c);
    struct ei_error err;
    memset(&err, 0, sizeof(err));
    /* through the link: the link stays, its target is replaced */
    assert_int_equal(ei_seal_encrypt(at("link.ejson"), c.f, &err), 0);
    assert_string_equal(cap_text(&c), "encrypted environment.DATABASE_URL\n"
                                      "encrypted environment.API_TOKEN\n"
                                      "encrypted environment.SESSION_SECRET\n");
    cap_close(&c);
    struct stat st;
    assert_int_equal(lstat(at("link.ejson"), &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(stat(at("s.ejson"), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    assert_true(st.st_ino != before.st_ino); /* a new file, renamed */

    size_t len;
    char *sealed = get("s.ejson", &len);
    assert_null(strstr(sealed, CANARY));
    assert_null(strstr(sealed, "tok_live"));
    assert_non_null(strstr(sealed, "\"_APP_ENV\": \"production\""));
    char *plain = decrypt_text(sealed, len);
    assert_string_equal(plain, example_source);
    free(plain);

    /* no temporary file is left next to it */
    char tmpname[600];
    snprintf(tmpname, sizeof(tmpname), "ls -a %s | grep -c '^\\.s\\.ejson'",
             dir);
    FILE *p = popen(tmpname, "r");
    assert_non_null(p);
    char count[16] = "";
    assert_non_null(fgets(count, sizeof(count), p));
    pclose(p);
    assert_string_equal(count, "0\n");

    /* a second run finds nothing: no output, the file is not rewritten */
    assert_int_equal(stat(at("s.ejson"), &before), 0);
    cap_open(&c);
    assert_int_equal(ei_seal_encrypt(at("s.ejson"), c.f, &err), 0);
    assert_int_equal(c.len, 0);
    assert_string_equal(cap_text(&c) == NULL ? "" : cap_text(&c), "");
    cap_close(&c);
    assert_int_equal(stat(at("s.ejson"), &st), 0);
    assert_int_equal(st.st_ino, before.st_ino);
    char *same = get("s.ejson", NULL);
    assert_string_equal(same, sealed);
    free(same);
    free(sealed);
}

static void test_encrypt_errors(void **state)
{
    (void)state;
    static const struct {
        const char *file; /* NULL: missing */
        enum ei_status want;
        const char *locator; /* relative to the folder */
        const char *text;
    } rows[] = {
        {NULL, EI_NOTFOUND, "s.ejson", "no such file"},
        {"{\"_public_key\": \"" PK9 "\",\n \"A\": \"" CANARY "\",\n}",
         EI_BADDATA, "s.ejson:3", "invalid JSON"},
        {"{\"A\": \"" CANARY "\"}", EI_BADDATA, "s.ejson", "no _public_key"},
        {"{\"_public_key\": \"" CANARY "\", \"A\": \"x\"}", EI_BADDATA,
         "s.ejson", "not 64 hex digits"},
        {"{\"_public_key\": \"00000000000000000000000000000000000000000000000"
         "00000000000000000\", \"A\": \"" CANARY "\"}",
         EI_BADDATA, "s.ejson", "not a usable public key"},
    };
    for (size_t i = 0; i < N_ELEMS(rows); i++) {
        unlink(at("s.ejson"));
        if (rows[i].file != NULL)
            put("s.ejson", rows[i].file, 0600);
        struct capture c;
        cap_open(&c);
        struct ei_error err;
        memset(&err, 0, sizeof(err));
        assert_int_equal(ei_seal_encrypt(at("s.ejson"), c.f, &err), -1);
        assert_int_equal(err.status, rows[i].want);
        assert_string_equal(err.locator, at(rows[i].locator));
        if (strstr(err.text, rows[i].text) == NULL)
            fail_msg("row %zu: %s", i, err.text);
        assert_null(strstr(err.text, CANARY));
        assert_int_equal(c.len, 0);
        cap_close(&c);
        if (rows[i].file != NULL) {
            char *now = get("s.ejson", NULL);
            assert_string_equal(now, rows[i].file);
            free(now);
        }
    }
}

struct set_case {
    const char *what;
    const char *file; /* template; NULL: missing */
    const char *key;
    const char *value; /* written to a pipe */
    size_t value_len;  /* 0: strlen */
    enum ei_status want;
    const char *result; /* the file afterwards, decrypted */
    const char *out;    /* printed */
    const char *text;   /* error text */
};

#define PKL "\"_public_key\": \"" PK9 "\""

static const struct set_case set_cases[] = {
    {"add to environment",
     "{\n  " PKL ",\n  \"environment\": {\n    \"A\": "
     "\"@{a}\"\n  }\n}\n",
     "B", CANARY "\n", 0, EI_OK,
     "{\n  " PKL
     ",\n  \"environment\": {\n    \"A\": \"a\",\n    \"B\": \"" CANARY
     "\"\n  }\n}\n",
     "set environment.B (encrypted)\n", NULL},
    {"replace in environment",
     "{\n  " PKL ",\n  \"environment\": {\n    "
     "\"A\": \"@{a}\",\n    \"C\": 5\n  }\n}\n",
     "A", "new", 0, EI_OK,
     "{\n  " PKL ",\n  \"environment\": {\n    \"A\": \"new\",\n    \"C\": 5\n"
     "  }\n}\n",
     "set environment.A (encrypted)\n", NULL},
    {"replace a non-string", "{" PKL ", \"environment\": {\"C\": [1, 2]}}", "C",
     "v", 0, EI_OK, "{" PKL ", \"environment\": {\"C\": \"v\"}}",
     "set environment.C (encrypted)\n", NULL},
    {"replace the last of a repeated name",
     "{" PKL ", \"environment\": {\"A\": \"@{1}\", \"A\": \"@{2}\"}}", "A", "3",
     0, EI_OK, "{" PKL ", \"environment\": {\"A\": \"1\", \"A\": \"3\"}}",
     "set environment.A (encrypted)\n", NULL},
    {"environment.NAME", "{" PKL ", \"environment\": {\"A\": \"@{a}\"}}",
     "environment.B", "b", 0, EI_OK,
     "{" PKL ", \"environment\": {\"A\": \"a\", \"B\": \"b\"}}",
     "set environment.B (encrypted)\n", NULL},
    {"top level when there is no environment", "{" PKL ", \"A\": \"@{a}\"}",
     "B", "b\n\n", 0, EI_OK, "{" PKL ", \"A\": \"a\", \"B\": \"b\\n\"}",
     "set B (encrypted)\n", NULL},
    {"compact layout", "{" PKL ",\"environment\":{\"A\":\"@{a}\"}}", "B", "", 0,
     EI_OK, "{" PKL ",\"environment\":{\"A\":\"a\",\"B\":\"\"}}",
     "set environment.B (encrypted)\n", NULL},
    {"empty environment, lines", "{\n  " PKL ",\n  \"environment\": {}\n}\n",
     "X", "x", 0, EI_OK,
     "{\n  " PKL ",\n  \"environment\": {\n    \"X\": \"x\"\n  }\n}\n",
     "set environment.X (encrypted)\n", NULL},
    {"empty environment, tabs and CRLF",
     "{\r\n\t" PKL ",\r\n\t\"environment\": { }\r\n}\r\n", "X", "x", 0, EI_OK,
     "{\r\n\t" PKL ",\r\n\t\"environment\": {\r\n\t\t\"X\": \"x\"\r\n\t}\r\n}"
     "\r\n",
     "set environment.X (encrypted)\n", NULL},
    {"empty environment, compact", "{" PKL ",\"environment\":{}}", "X", "x", 0,
     EI_OK, "{" PKL ",\"environment\":{\"X\":\"x\"}}",
     "set environment.X (encrypted)\n", NULL},
    {"CRLF lines",
     "{\r\n  " PKL ",\r\n  \"environment\": {\r\n    \"A\": \"@{a}\"\r\n  }"
     "\r\n}\r\n",
     "B", "b\r\n", 0, EI_OK,
     "{\r\n  " PKL ",\r\n  \"environment\": {\r\n    \"A\": \"a\",\r\n    "
     "\"B\": \"b\\r\"\r\n  }\r\n}\r\n",
     "set environment.B (encrypted)\n", NULL},
    {"underscored name is stored in plain text",
     "{" PKL ", \"environment\": {\"A\": \"@{a}\"}}", "_NOTE",
     "say \"hi\"\\\tnow\n", 0, EI_OK,
     "{" PKL ", \"environment\": {\"A\": \"a\", \"_NOTE\": \"say \\\"hi\\\"\\\\"
     "\\tnow\"}}",
     "set environment._NOTE (plaintext)\n", NULL},
    {"multi-line value, raw line breaks elsewhere collapsed",
     "{" PKL ", \"environment\": {\"_C\": \"x\ny\"}}", "K",
     "-----BEGIN-----\nAAAA\n-----END-----\n", 0, EI_OK,
     "{" PKL ", \"environment\": {\"_C\": \"x\\ny\", \"K\": \"-----BEGIN-----"
     "\\nAAAA\\n-----END-----\"}}",
     "set environment.K (encrypted)\n", NULL},
    {"missing file", NULL, "A", "a", 0, EI_NOTFOUND, NULL, NULL, "seal keygen"},
    {"bad name", "{" PKL "}", "1A", "a", 0, EI_USAGE, NULL, NULL,
     "'1A' is not a variable name"},
    {"bad name with a dash", "{" PKL "}", "A-B", "a", 0, EI_USAGE, NULL, NULL,
     "not a variable name"},
    {"empty name after environment.", "{" PKL "}", "environment.", "a", 0,
     EI_USAGE, NULL, NULL, "not a variable name"},
    {"nested path refused", "{" PKL "}", "environment.A.B", "a", 0, EI_USAGE,
     NULL, NULL, "not a variable name"},
    {"environment.NAME without environment", "{" PKL "}", "environment.A", "a",
     0, EI_USAGE, NULL, NULL, "no top-level environment object"},
    {"_public_key at the top level", "{" PKL "}", "_public_key", "a", 0,
     EI_USAGE, NULL, NULL, "_public_key cannot be set"},
    {"environment at the top level", "{" PKL "}", "environment", "a", 0,
     EI_USAGE, NULL, NULL, "environment cannot be set"},
    {"environment is not an object", "{" PKL ", \"environment\": 5}", "A", "a",
     0, EI_BADDATA, NULL, NULL, "\"environment\" is not an object"},
    {"NUL in the value", "{" PKL ", \"environment\": {}}", "A", CANARY "\0x",
     sizeof(CANARY) + 1, EI_BADDATA, NULL, NULL, "NUL byte"},
    {"plain value must be UTF-8", "{" PKL ", \"environment\": {}}", "_A",
     "caf\xe9", 0, EI_BADDATA, NULL, NULL, "must be UTF-8"},
    {"malformed file", "{" PKL ", \"environment\": {},}", "A", "a", 0,
     EI_BADDATA, NULL, NULL, "invalid JSON"},
};

static void test_set(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ELEMS(set_cases); i++) {
        const struct set_case *sc = &set_cases[i];
        unlink(at("s.ejson"));
        char *orig = NULL;
        if (sc->file != NULL) {
            orig = expand_sealed(sc->file);
            put("s.ejson", orig, 0604);
        }
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        size_t vl = sc->value_len != 0 ? sc->value_len : strlen(sc->value);
        assert_int_equal(write(fds[1], sc->value, vl), (ssize_t)vl);
        close(fds[1]);
        struct capture c;
        cap_open(&c);
        struct ei_error err;
        memset(&err, 0, sizeof(err));
        int rc = ei_seal_set(at("s.ejson"), sc->key, fds[0], c.f, &err);
        close(fds[0]);
        if (rc != (sc->want == EI_OK ? 0 : -1) || err.status != sc->want)
            fail_msg("case \"%s\": rc %d status %d (%s)", sc->what, rc,
                     (int)err.status, err.text);
        assert_null(strstr(err.text, CANARY));
        if (sc->want == EI_OK) {
            assert_string_equal(cap_text(&c), sc->out);
            size_t len;
            char *now = get("s.ejson", &len);
            if (sc->key[sc->key[0] == 'e' ? 12 : 0] != '_')
                assert_null(strstr(now, CANARY));
            char *plain = decrypt_text(now, len);
            if (strcmp(plain, sc->result) != 0)
                fail_msg("case \"%s\": got\n%s\nwant\n%s", sc->what, plain,
                         sc->result);
            struct stat st;
            assert_int_equal(stat(at("s.ejson"), &st), 0);
            assert_int_equal(st.st_mode & 07777, 0604);
            free(plain);
            free(now);
        } else {
            if (strstr(err.text, sc->text) == NULL)
                fail_msg("case \"%s\": text \"%s\"", sc->what, err.text);
            assert_int_equal(c.len, 0);
            if (orig != NULL) {
                char *now = get("s.ejson", NULL);
                assert_string_equal(now, orig);
                free(now);
            }
        }
        cap_close(&c);
        free(orig);
    }
}

static void test_set_large(void **state)
{
    (void)state;
    put("s.ejson", "{" PKL ", \"environment\": {}}", 0600);
    /* EI_SEAL_VALUE_MAX is fine, one more byte is not; a file, since a
       pipe would block */
    for (size_t extra = 0; extra < 2; extra++) {
        size_t n = EI_SEAL_VALUE_MAX + extra;
        char *big = malloc(n);
        assert_non_null(big);
        memset(big, 'v', n);
        int fd =
            open(at("value"), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, big, n), (ssize_t)n);
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        free(big);
        struct capture c;
        cap_open(&c);
        struct ei_error err;
        memset(&err, 0, sizeof(err));
        int rc = ei_seal_set(at("s.ejson"), "BIG", fd, c.f, &err);
        close(fd);
        cap_close(&c);
        if (extra == 0) {
            assert_int_equal(rc, 0);
        } else {
            assert_int_equal(rc, -1);
            assert_int_equal(err.status, EI_BADDATA);
            assert_non_null(strstr(err.text, "larger than"));
        }
    }
}

/* keygen, then set and encrypt, then the provider reads it back. */
static void test_round_trip(void **state)
{
    (void)state;
    assert_int_equal(mkdir(at("keys"), 0700), 0);
    struct capture c;
    cap_open(&c);
    struct ei_error err;
    memset(&err, 0, sizeof(err));
    assert_int_equal(ei_seal_keygen(at("keys"), NULL, false, c.f, &err), 0);
    char pub[65];
    memcpy(pub, cap_text(&c), 64);
    pub[64] = '\0';
    cap_close(&c);

    char doc[512];
    snprintf(doc, sizeof(doc),
             "{\n  \"_public_key\": \"%s\",\n  \"_comment\": \"demo\",\n"
             "  \"environment\": {\n    \"API_KEY\": \"" CANARY "\"\n  }\n}\n",
             pub);
    put("s.ejson", doc, 0644);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], "pa ss\n", 6), 6);
    close(fds[1]);
    cap_open(&c);
    assert_int_equal(
        ei_seal_set(at("s.ejson"), "DB_PASSWORD", fds[0], c.f, &err), 0);
    close(fds[0]);
    /* set seals only its own value */
    char *mid = get("s.ejson", NULL);
    assert_non_null(strstr(mid, CANARY));
    free(mid);
    assert_int_equal(ei_seal_encrypt(at("s.ejson"), c.f, &err), 0);
    assert_string_equal(cap_text(&c),
                        "set environment.DB_PASSWORD (encrypted)\n"
                        "encrypted environment.API_KEY\n");
    cap_close(&c);
    char *sealed = get("s.ejson", NULL);
    assert_null(strstr(sealed, CANARY));
    assert_null(strstr(sealed, "pa ss"));
    free(sealed);

    char keydir[600];
    snprintf(keydir, sizeof(keydir), "EJSON_KEYDIR=%s", at("keys"));
    const char *env[] = {keydir, NULL};
    const char *opts[] = {"path=s.ejson", NULL};
    struct fake_host *fh = fake_host_new(opts, env, dir);
    assert_non_null(fh);
    void *st = NULL;
    assert_int_equal(
        ei_provider_sealed.configure(fake_host_host(fh), &st, &err), EI_OK);
    struct fake_sink fs;
    fake_sink_init(&fs);
    assert_int_equal(ei_provider_sealed.fetch(st, &fs.sink, NULL, &err), EI_OK);
    assert_int_equal(fs.n, 2);
    const struct fake_entry *e = fake_sink_find(&fs, "API_KEY");
    assert_non_null(e);
    assert_string_equal(e->value, CANARY);
    e = fake_sink_find(&fs, "DB_PASSWORD");
    assert_non_null(e);
    assert_string_equal(e->value, "pa ss");
    assert_true((e->flags & EI_ENTRY_SECRET) != 0);
    ei_provider_sealed.destroy(st);
    fake_sink_free(&fs);
    fake_host_free(fh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keygen_keydir, fresh, cleanup),
        cmocka_unit_test_setup_teardown(test_keygen_keydir_denied, fresh,
                                        cleanup),
        cmocka_unit_test_setup_teardown(test_keygen_variants, fresh, cleanup),
        cmocka_unit_test_setup_teardown(test_encrypt_in_place, fresh, cleanup),
        cmocka_unit_test_setup_teardown(test_encrypt_errors, fresh, cleanup),
        cmocka_unit_test_setup_teardown(test_set, fresh, cleanup),
        cmocka_unit_test_setup_teardown(test_set_large, fresh, cleanup),
        cmocka_unit_test_setup_teardown(test_round_trip, fresh, cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
