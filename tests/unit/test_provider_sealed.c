/* SPDX-License-Identifier: MIT */
/* Unit tests of the sealed provider through the fake host: key sources,
   fail-closed decryption, ejson2env's export rules, secret hygiene. */
#include <fcntl.h>
#include <ftw.h>
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

#include "../fakes/host.h"
#include "ejson.h"
#include "expand.h"

extern const struct ei_provider ei_provider_sealed;

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* The key pair of section 9 of the format page. */
#define PK9    "9f600586854785eae611421c8dc8958c8565c304a20765468863d1b20817087d"
#define SK9    "837ed67bd50b291980191462d05f348f15aef99fd21b27fa9bb194f677224a65"
#define CANARY "EI_CANARY_5f1d0c"

static const char example_sealed[] =
    "{\n"
    "  \"_public_key\": \"" PK9 "\",\n"
    "  \"environment\": {\n"
    "    \"_APP_ENV\": \"production\",\n"
    "    \"DATABASE_URL\": "
    "\"EJ[1:1wQNARGkTn2T5HlCh8IDuX7P2h3JLO+V4aTolp6xnxw=:P8vQdolnPf49u88UJKuy"
    "Qsf3bl/tnZSN:rG+LfsCtDSEFkvLuK6mTgcgd0ghwtZGjGi5SfnFwmC9yo6KeMQORhNW4W/"
    "vbll5Qe0tImvZUDtVlAw==]\",\n"
    "    \"API_TOKEN\": "
    "\"EJ[1:1wQNARGkTn2T5HlCh8IDuX7P2h3JLO+V4aTolp6xnxw=:q04ZM0km302hD8xB690j"
    "SLQQDYVkEqE9:IZisHI3rJKHyQo4nRwFjo511e48T98IImt5qvBIhOLLYXcU=]\",\n"
    "    \"SESSION_SECRET\": "
    "\"EJ[1:1wQNARGkTn2T5HlCh8IDuX7P2h3JLO+V4aTolp6xnxw=:NKOGxosP9ohxgXWx0UZN"
    "XUGESS1mQLMs:vgIII8DiHZ2QQI0xQ5hRRS0hrHO9VEimzkNcPMoFY2+Fga+RHhsG3EeFtA="
    "=]\"\n"
    "  }\n"
    "}\n";

/* ejson2env's output for the example, as sink entries (S: secret). */
#define EXAMPLE_ENTRIES                                                        \
    "S:API_TOKEN=tok_live_8f3a9c2d71|"                                         \
    "S:DATABASE_URL=postgres://app:s3cr3t@db.internal:5432/app|"               \
    "S:SESSION_SECRET=it's a \"secret\" with spaces|"                          \
    "P:_APP_ENV=production"

struct fixture {
    char dir[64];
    char wrong_sk_hex[65];
    unsigned char wrong_pk[32];
};

static struct fixture fx;

static void write_file(const char *rel, const char *data, size_t len,
                       mode_t mode)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", fx.dir, rel);
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static void make_dir(const char *rel)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", fx.dir, rel);
    assert_int_equal(mkdir(path, 0700), 0);
}

static int setup(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    snprintf(fx.dir, sizeof(fx.dir), "/tmp/ei-sealed-XXXXXX");
    if (mkdtemp(fx.dir) == NULL)
        return -1;
    unsigned char sk[32];
    crypto_box_keypair(fx.wrong_pk, sk);
    ei_ejson_key_to_hex(sk, fx.wrong_sk_hex);
    sodium_memzero(sk, sizeof(sk));
    static const char good[] = SK9 "\n";
    make_dir("keys");
    write_file("keys/" PK9, good, strlen(good), 0600);
    make_dir("keys644");
    write_file("keys644/" PK9, good, strlen(good), 0644);
    make_dir("keyswrong");
    char wrong[80];
    snprintf(wrong, sizeof(wrong), "%s\n", fx.wrong_sk_hex);
    write_file("keyswrong/" PK9, wrong, strlen(wrong), 0600);
    make_dir("empty");
    write_file("k600.key", good, strlen(good), 0600);
    write_file("k644.key", good, strlen(good), 0644);
    write_file("bad.key", "not a key\n", 10, 0600);
    return 0;
}

static int rm_one(const char *path, const struct stat *sb, int flag,
                  struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    (void)state;
    return nftw(fx.dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* How a @{...} rule seals its text. */
struct seal_how {
    const struct ei_ejson_sealer *sealer;
    bool tamper; /* change the last box character */
};

/* TEXT (a JSON string body) sealed as ctx, a struct seal_how, says. */
static void seal_rule(struct expand_buf *b, const char *text, size_t len,
                      void *ctx)
{
    const struct seal_how *how = ctx;
    char raw[512], plain[1536];
    size_t pl;
    snprintf(raw, sizeof(raw), "\"%.*s\"", (int)len, text);
    assert_int_equal(
        ei_ejson_unquote(raw, strlen(raw), false, plain, sizeof(plain), &pl),
        0);
    size_t tl = ei_ejson_token_len(pl);
    char *token = malloc(tl + 1);
    assert_non_null(token);
    assert_int_equal(ei_ejson_seal(how->sealer, (unsigned char *)plain, pl,
                                   NULL, token, tl + 1),
                     0);
    if (how->tamper)
        token[tl - 2] = token[tl - 2] == 'A' ? 'B' : 'A';
    expand_put(b, token, tl);
    free(token);
}

/*
 * Expand a file template: @{TEXT} becomes a token of TEXT (a JSON string
 * body, so \u0000 and \n work) sealed to PK9, @!{TEXT} one sealed to
 * another key, @~{TEXT} one with the last box character changed.
 */
static char *expand_sealed(const char *tpl)
{
    unsigned char pk[32];
    assert_int_equal(ei_ejson_key_from_hex(PK9, 64, false, pk), 0);
    struct ei_ejson_sealer good, other;
    assert_int_equal(ei_ejson_sealer_init(&good, pk, NULL), 0);
    assert_int_equal(ei_ejson_sealer_init(&other, fx.wrong_pk, NULL), 0);
    struct seal_how as_is = {&good, false}, wrong = {&other, false},
                    tampered = {&good, true};
    const struct expand_rule rules[] = {
        {.open = "@{", .close = "}", .fn = seal_rule, .ctx = &as_is},
        {.open = "@!{", .close = "}", .fn = seal_rule, .ctx = &wrong},
        {.open = "@~{", .close = "}", .fn = seal_rule, .ctx = &tampered},
    };
    char *out = expand(tpl, rules, sizeof rules / sizeof rules[0]);
    ei_ejson_sealer_wipe(&good);
    ei_ejson_sealer_wipe(&other);
    return out;
}

/* %D: the fixture folder; %S: the good private key; %W: a wrong one. */
static char *subst(const char *s)
{
    const struct expand_rule rules[] = {
        {.open = "%D", .sub = fx.dir},
        {.open = "%S", .sub = SK9},
        {.open = "%W", .sub = fx.wrong_sk_hex},
    };
    return expand(s, rules, sizeof rules / sizeof rules[0]);
}

struct sealed_case {
    const char *what;
    const char *file; /* template; NULL: no file at all */
    const char *opts[4];
    const char *env[4];
    enum ei_status want;
    const char *entries; /* S:/P: NAME=value, '|'-joined, in emit order */
    const char *text;    /* substring of the error text (after %D) */
    const char *log;     /* substring of the log, or NULL */
};

#define ENV_KEY    "ENVINJECT_PRIVATE_KEY=%S"
#define ENV_NOKEYS "EJSON_KEYDIR=%D/empty"
#define HDR        "{\"_public_key\": \"" PK9 "\", "

static const struct sealed_case cases[] = {
    {"example, key from the environment",
     example_sealed,
     {NULL},
     {ENV_KEY, NULL},
     EI_OK,
     EXAMPLE_ENTRIES,
     NULL,
     NULL},
    {"example, key with surrounding white space",
     example_sealed,
     {NULL},
     {"ENVINJECT_PRIVATE_KEY= %S\n", ENV_NOKEYS, NULL},
     EI_OK,
     EXAMPLE_ENTRIES,
     NULL,
     NULL},
    {"example, trim_underscore",
     example_sealed,
     {"trim_underscore=true"},
     {ENV_KEY, NULL},
     EI_OK,
     "S:API_TOKEN=tok_live_8f3a9c2d71|P:APP_ENV=production|"
     "S:DATABASE_URL=postgres://app:s3cr3t@db.internal:5432/app|"
     "S:SESSION_SECRET=it's a \"secret\" with spaces",
     NULL,
     NULL},
    {"example, key_file 0600",
     example_sealed,
     {"key_file=k600.key"},
     {ENV_NOKEYS, NULL},
     EI_OK,
     EXAMPLE_ENTRIES,
     NULL,
     NULL},
    {"example, key_file 0644 refused",
     example_sealed,
     {"key_file=k644.key"},
     {ENV_NOKEYS, NULL},
     EI_DENIED,
     NULL,
     "chmod 600 %D/k644.key",
     NULL},
    {"example, key_file missing",
     example_sealed,
     {"key_file=nope.key"},
     {NULL},
     EI_DENIED,
     NULL,
     "key_file does not exist",
     NULL},
    {"example, key_file not hex",
     example_sealed,
     {"key_file=bad.key"},
     {NULL},
     EI_DENIED,
     NULL,
     "key_file is not a private key: expected 64 hex digits, got 10 bytes",
     NULL},
    {"example, keydir option",
     example_sealed,
     {"keydir=keys"},
     {ENV_NOKEYS, NULL},
     EI_OK,
     EXAMPLE_ENTRIES,
     NULL,
     NULL},
    {"example, EJSON_KEYDIR",
     example_sealed,
     {NULL},
     {"EJSON_KEYDIR=%D/keys", NULL},
     EI_OK,
     EXAMPLE_ENTRIES,
     NULL,
     NULL},
    {"example, keydir file 0644 refused",
     example_sealed,
     {"keydir=keys644"},
     {NULL},
     EI_DENIED,
     NULL,
     "chmod 600 %D/keys644/" PK9,
     NULL},
    {"example, no key anywhere",
     example_sealed,
     {NULL},
     {ENV_NOKEYS, NULL},
     EI_DENIED,
     NULL,
     "no private key for public key " PK9 ": set ENVINJECT_PRIVATE_KEY, "
     "key_file or put it in %D/empty",
     NULL},
    {"example, empty ENVINJECT_PRIVATE_KEY is unset",
     example_sealed,
     {NULL},
     {"ENVINJECT_PRIVATE_KEY=", "EJSON_KEYDIR=%D/keys", NULL},
     EI_OK,
     EXAMPLE_ENTRIES,
     NULL,
     NULL},
    {"example, wrong key in the environment",
     example_sealed,
     {NULL},
     {"ENVINJECT_PRIVATE_KEY=%W", ENV_NOKEYS, NULL},
     EI_DENIED,
     NULL,
     "cannot decrypt environment.DATABASE_URL: wrong private key "
     "(ENVINJECT_PRIVATE_KEY is not the key of _public_key)",
     NULL},
    {"example, wrong key in the key folder",
     example_sealed,
     {"keydir=keyswrong"},
     {NULL},
     EI_DENIED,
     NULL,
     "cannot decrypt environment.DATABASE_URL: wrong private key (the "
     "key-folder file",
     NULL},
    {"example, wrong env key, right key folder",
     example_sealed,
     {"keydir=keys"},
     {"ENVINJECT_PRIVATE_KEY=%W", NULL},
     EI_OK,
     EXAMPLE_ENTRIES,
     NULL,
     NULL},
    {"example, wrong env key, right key_file",
     example_sealed,
     {"key_file=k600.key"},
     {"ENVINJECT_PRIVATE_KEY=%W", ENV_NOKEYS, NULL},
     EI_OK,
     EXAMPLE_ENTRIES,
     NULL,
     NULL},
    {"malformed ENVINJECT_PRIVATE_KEY",
     example_sealed,
     {NULL},
     {"ENVINJECT_PRIVATE_KEY=" CANARY, NULL},
     EI_DENIED,
     NULL,
     "ENVINJECT_PRIVATE_KEY is not a private key: expected 64 hex digits, "
     "got 16 bytes",
     NULL},
    {"missing file",
     NULL,
     {NULL},
     {ENV_KEY, NULL},
     EI_NOTFOUND,
     NULL,
     "no such file",
     NULL},
    {"tampered value",
     HDR "\"environment\": {\"A\": \"@~{" CANARY "}\"}}",
     {NULL},
     {ENV_KEY, NULL},
     EI_DENIED,
     NULL,
     "cannot decrypt environment.A: wrong private key (the value was "
     "encrypted to another key, or altered)",
     NULL},
    {"value sealed to another key",
     HDR "\"environment\": {\"A\": \"@{a}\", \"B\": \"@!{" CANARY "}\"}}",
     {NULL},
     {ENV_KEY, NULL},
     EI_DENIED,
     NULL,
     "cannot decrypt environment.B: wrong private key",
     NULL},
    {"undecryptable value outside environment still fails",
     HDR "\"environment\": {\"A\": \"@{a}\"}, \"other\": {\"B\": \"@!{" CANARY
         "}\"}}",
     {NULL},
     {ENV_KEY, NULL},
     EI_DENIED,
     NULL,
     "cannot decrypt other.B: wrong private key",
     NULL},
    {"undecryptable value hidden by a duplicate still fails",
     HDR "\"environment\": {\"A\": \"@~{x}\", \"A\": \"@{a}\"}}",
     {NULL},
     {ENV_KEY, NULL},
     EI_DENIED,
     NULL,
     "cannot decrypt environment.A: wrong private key",
     NULL},
    {"NUL in a later value: no partial output",
     HDR "\"environment\": {\"A\": \"@{a}\", \"Z\": \"@{\\u0000}\"}}",
     {NULL},
     {ENV_KEY, NULL},
     EI_BADDATA,
     NULL,
     "environment.Z holds a NUL byte",
     NULL},
    {"plaintext value",
     HDR "\"environment\": {\"A\": \"@{a}\", \"DB\": \"" CANARY "\"}}",
     {NULL},
     {ENV_KEY, NULL},
     EI_BADDATA,
     NULL,
     "environment.DB is not encrypted: run envinject seal encrypt %D/s.ejson",
     NULL},
    {"plaintext value outside environment still fails",
     HDR "\"environment\": {\"A\": \"@{a}\"}, \"x\": [{\"y\": \"" CANARY
         "\"}]}",
     {NULL},
     {ENV_KEY, NULL},
     EI_BADDATA,
     NULL,
     "x[0].y is not encrypted",
     NULL},
    {"malformed token: bad nonce",
     HDR "\"environment\": {\"A\": \"EJ[1:0PNvNuFa4DZkWSC6uUhei9GmjWD7nYNVmyr"
         "bxjR4xxw=:1+DNtVoGuwPuXTZNrJXsyyaejDq=/O31:WDK2q6M9XFkKju0FShakMl"
         "mnaULb5Tc=]\"}}",
     {NULL},
     {ENV_KEY, NULL},
     EI_BADDATA,
     NULL,
     "environment.A: malformed encrypted value (bad nonce)",
     NULL},
    {"malformed token: version 2",
     HDR "\"environment\": {\"A\": \"EJ[2:0PNvNuFa4DZkWSC6uUhei9GmjWD7nYNVmyr"
         "bxjR4xxw=:1+DNtVoGuwPuXTZNrJXsyyaejDqb/O31:WDK2q6M9XFkKju0FShakMl"
         "mnaULb5Tc=]\"}}",
     {NULL},
     {ENV_KEY, NULL},
     EI_BADDATA,
     NULL,
     "environment.A: malformed encrypted value (unsupported schema version)",
     NULL},
    {"malformed token: broken shape",
     HDR "\"environment\": {\"A\": \"EJ[1:" CANARY "]\"}}",
     {NULL},
     {ENV_KEY, NULL},
     EI_BADDATA,
     NULL,
     "environment.A: malformed encrypted value (not of the form",
     NULL},
    {"malformed JSON",
     HDR "\"environment\": {\"A\": \"@{a}\",}}",
     {NULL},
     {ENV_KEY, NULL},
     EI_BADDATA,
     NULL,
     "invalid JSON at column",
     NULL},
    {"raw line break",
     HDR "\"environment\": {\"_A\": \"a\nb\"}}",
     {NULL},
     {ENV_KEY, NULL},
     EI_BADDATA,
     NULL,
     "line break inside a string",
     NULL},
    {"no _public_key",
     "{\"environment\": {\"A\": \"@{a}\"}}",
     {NULL},
     {ENV_KEY, NULL},
     EI_BADDATA,
     NULL,
     "no _public_key",
     NULL},
    {"not an object at the top",
     "[\"@{a}\"]",
     {NULL},
     {ENV_KEY, NULL},
     EI_BADDATA,
     NULL,
     "not an object",
     NULL},
    {"upper-case _public_key finds the lower-case key file",
     "{\"_public_key\": "
     "\"9F600586854785EAE611421C8DC8958C8565C304A20765468863D1B20817087D\", "
     "\"environment\": {\"A\": \"@{x}\"}}",
     {"keydir=keys"},
     {NULL},
     EI_OK,
     "S:A=x",
     NULL,
     NULL},
    {"no environment: top-level strings",
     HDR "\"A\": \"@{x}\", \"N\": 5, \"O\": {\"B\": \"@{y}\"}, \"_note\": "
         "\"hi\", \"L\": [\"@{z}\"]}",
     {NULL},
     {ENV_KEY, NULL},
     EI_OK,
     "S:A=x|P:_note=hi",
     NULL,
     NULL},
    {"no environment: trim_underscore",
     HDR "\"_note\": \"hi\", \"B\": \"@{y}\"}",
     {"trim_underscore=yes"},
     {ENV_KEY, NULL},
     EI_OK,
     "S:B=y|P:note=hi",
     NULL,
     NULL},
    {"no environment: bad name",
     HDR "\"a-b\": \"@{x}\"}",
     {NULL},
     {ENV_KEY, NULL},
     EI_BADDATA,
     NULL,
     "\"a-b\" is not a valid variable name",
     NULL},
    {"environment is a string: nothing exported",
     HDR "\"environment\": \"@{x}\", \"A\": \"@{y}\"}",
     {NULL},
     {ENV_KEY, NULL},
     EI_OK,
     "",
     NULL,
     "\"environment\" is not an object"},
    {"environment is a string and plaintext: still fails",
     HDR "\"environment\": \"" CANARY "\"}",
     {NULL},
     {ENV_KEY, NULL},
     EI_BADDATA,
     NULL,
     "environment is not encrypted",
     NULL},
    {"non-string members are skipped",
     HDR "\"environment\": {\"N\": 5, \"B\": true, \"Z\": null, \"O\": "
         "{\"X\": \"@{x}\"}, \"L\": [\"@{l}\"], \"S\": \"@{ok}\"}}",
     {NULL},
     {ENV_KEY, NULL},
     EI_OK,
     "S:S=ok",
     NULL,
     NULL},
    {"empty environment",
     HDR "\"environment\": {}}",
     {NULL},
     {ENV_KEY, NULL},
     EI_OK,
     "",
     NULL,
     NULL},
    {"invalid name A-B",
     HDR "\"environment\": {\"A-B\": \"@{x}\"}}",
     {NULL},
     {ENV_KEY, NULL},
     EI_BADDATA,
     NULL,
     "environment: \"A-B\" is not a valid variable name",
     NULL},
    {"invalid name on a non-string member",
     HDR "\"environment\": {\"1A\": 5, \"B\": \"@{b}\"}}",
     {NULL},
     {ENV_KEY, NULL},
     EI_BADDATA,
     NULL,
     "\"1A\" is not a valid variable name",
     NULL},
    {"invalid name with a space",
     HDR "\"environment\": {\"a b\": \"@{x}\"}}",
     {NULL},
     {ENV_KEY, NULL},
     EI_BADDATA,
     NULL,
     "\"a b\" is not a valid variable name",
     NULL},
    {"empty name",
     HDR "\"environment\": {\"\": \"@{x}\"}}",
     {NULL},
     {ENV_KEY, NULL},
     EI_BADDATA,
     NULL,
     "\"\" is not a valid variable name",
     NULL},
    {"control character in a name is not printed",
     HDR "\"environment\": {\"A\\u0007\": \"@{x}\"}}",
     {NULL},
     {ENV_KEY, NULL},
     EI_BADDATA,
     NULL,
     "\"A?\" is not a valid",
     NULL},
    {"duplicate name: the last wins",
     HDR "\"environment\": {\"A\": \"@{one}\", \"B\": \"@{b}\", \"A\": "
         "\"@{two}\"}}",
     {NULL},
     {ENV_KEY, NULL},
     EI_OK,
     "S:A=two|S:B=b",
     NULL,
     NULL},
    {"duplicate name: a later number hides the string",
     HDR "\"environment\": {\"A\": \"@{one}\", \"A\": 5}}",
     {NULL},
     {ENV_KEY, NULL},
     EI_OK,
     "",
     NULL,
     NULL},
    {"duplicate environment: the last wins",
     HDR "\"environment\": {\"A\": \"@{a}\"}, \"environment\": {\"B\": "
         "\"@{b}\"}}",
     {NULL},
     {ENV_KEY, NULL},
     EI_OK,
     "S:B=b",
     NULL,
     NULL},
    {"trim_underscore collision",
     HDR "\"environment\": {\"_A\": \"x\", \"A\": \"@{y}\"}}",
     {"trim_underscore=true"},
     {ENV_KEY, NULL},
     EI_BADDATA,
     NULL,
     "_A and A both become A with trim_underscore",
     NULL},
    {"no collision without trim_underscore",
     HDR "\"environment\": {\"_A\": \"x\", \"A\": \"@{y}\"}}",
     {NULL},
     {ENV_KEY, NULL},
     EI_OK,
     "S:A=y|P:_A=x",
     NULL,
     NULL},
    {"only underscores with trim_underscore",
     HDR "\"environment\": {\"__\": \"x\"}}",
     {"trim_underscore=true"},
     {ENV_KEY, NULL},
     EI_BADDATA,
     NULL,
     "environment.__: the name is empty after trim_underscore",
     NULL},
    {"only underscores without trim",
     HDR "\"environment\": {\"__\": \"x\"}}",
     {NULL},
     {ENV_KEY, NULL},
     EI_OK,
     "P:__=x",
     NULL,
     NULL},
    {"all leading underscores are trimmed",
     HDR "\"environment\": {\"__A_\": \"x\"}}",
     {"trim_underscore=true"},
     {ENV_KEY, NULL},
     EI_OK,
     "P:A_=x",
     NULL,
     NULL},
    {"encrypted NUL refused",
     HDR "\"environment\": {\"A\": \"@{a\\u0000" CANARY "}\"}}",
     {NULL},
     {ENV_KEY, NULL},
     EI_BADDATA,
     NULL,
     "environment.A holds a NUL byte",
     NULL},
    {"plain NUL refused",
     HDR "\"environment\": {\"_A\": \"a\\u0000" CANARY "\"}}",
     {NULL},
     {ENV_KEY, NULL},
     EI_BADDATA,
     NULL,
     "environment._A holds a NUL byte",
     NULL},
    {"values kept verbatim",
     HDR "\"environment\": {\"U\": \"@{caf\\u00e9 \\ud83d\\ude00}\", \"M\": "
         "\"@{a\\nb\\tc\\rd}\", \"E\": \"@{}\", \"Q\": \"@{'\\\"$x`}\"}}",
     {NULL},
     {ENV_KEY, NULL},
     EI_OK,
     "S:E=|S:M=a\nb\tc\rd|S:Q='\"$x`|S:U=caf\xc3\xa9 \xf0\x9f\x98\x80",
     NULL,
     NULL},
    {"escaped underscore is not underscored (quirk)",
     HDR "\"environment\": {\"\\u005fX\": \"@{v}\"}}",
     {NULL},
     {ENV_KEY, NULL},
     EI_OK,
     "S:_X=v",
     NULL,
     NULL},
    {"underscored member holding a token stays as it is",
     HDR "\"environment\": {\"_T\": \"EJ[1:" CANARY "]\"}}",
     {NULL},
     {ENV_KEY, NULL},
     EI_OK,
     "P:_T=EJ[1:" CANARY "]",
     NULL,
     NULL},
    {"governing key quirk: plaintext after a nested _key",
     HDR "\"environment\": {\"A\": \"@{a}\"}, \"k\": [{\"_x\": \"1\"}, "
         "\"y\"]}",
     {NULL},
     {ENV_KEY, NULL},
     EI_OK,
     "S:A=a",
     NULL,
     NULL},
};

static void join_entries(const struct fake_sink *fs, char *out, size_t cap)
{
    size_t w = 0;
    out[0] = '\0';
    for (size_t i = 0; i < fs->n; i++) {
        const struct fake_entry *e = &fs->entries[i];
        assert_int_equal(e->name_n, 1);
        assert_true((e->flags & EI_ENTRY_VERBATIM) != 0);
        bool secret = (e->flags & EI_ENTRY_SECRET) != 0;
        assert_true(secret != ((e->flags & EI_ENTRY_PLAIN) != 0));
        int n =
            snprintf(out + w, cap - w, "%s%c:%s=%.*s", i > 0 ? "|" : "",
                     secret ? 'S' : 'P', e->name, (int)e->value_len, e->value);
        assert_true(n > 0 && (size_t)n < cap - w);
        w += (size_t)n;
    }
}

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        const struct sealed_case *c = &cases[i];
        char path[256];
        snprintf(path, sizeof(path), "%s/s.ejson", fx.dir);
        unlink(path);
        if (c->file != NULL) {
            char *data = expand_sealed(c->file);
            write_file("s.ejson", data, strlen(data), 0644);
            free(data);
        }
        const char *opts[8] = {"path=s.ejson"};
        size_t on = 1;
        for (size_t k = 0; k < N_ELEMS(c->opts) && c->opts[k] != NULL; k++)
            opts[on++] = c->opts[k];
        char *env[8] = {NULL};
        size_t en = 0;
        for (size_t k = 0; k < N_ELEMS(c->env) && c->env[k] != NULL; k++)
            env[en++] = subst(c->env[k]);
        struct fake_host *fh =
            fake_host_new(opts, (const char *const *)env, fx.dir);
        assert_non_null(fh);
        const struct ei_host *h = fake_host_host(fh);

        struct ei_error err;
        memset(&err, 0, sizeof(err));
        void *st = NULL;
        assert_int_equal(ei_provider_sealed.configure(h, &st, &err), EI_OK);
        assert_int_equal(fake_host_reads(fh), 0);
        assert_null(fake_host_unused(fh));
        struct fake_sink fs;
        fake_sink_init(&fs);
        struct ei_deadline dl;
        fake_deadline(&dl, 5000);
        enum ei_status got = ei_provider_sealed.fetch(st, &fs.sink, &dl, &err);
        if (got != c->want)
            fail_msg("case \"%s\": status %d, want %d (%s: %s)", c->what,
                     (int)got, (int)c->want, err.locator, err.text);
        assert_false(fs.abi_violation);
        if (got == EI_OK) {
            assert_int_equal(err.status, EI_OK);
            char joined[2048];
            join_entries(&fs, joined, sizeof(joined));
            if (strcmp(joined, c->entries) != 0)
                fail_msg("case \"%s\": entries\n%s\nwant\n%s", c->what, joined,
                         c->entries);
            for (size_t k = 0; k < fs.n; k++) {
                /* FILE:environment.NAME, or FILE:NAME at the top level,
                   with FILE as the configuration wrote it */
                static const char shown[] = "s.ejson";
                assert_non_null(fs.entries[k].locator);
                assert_true(strncmp(fs.entries[k].locator, shown,
                                    sizeof(shown) - 1) == 0);
                assert_int_equal(fs.entries[k].locator[sizeof(shown) - 1], ':');
            }
        } else {
            assert_int_equal(err.status, c->want);
            char *want = subst(c->text);
            if (strstr(err.text, want) == NULL)
                fail_msg("case \"%s\": text \"%s\" lacks \"%s\"", c->what,
                         err.text, want);
            free(want);
            assert_true(err.locator[0] != '\0');
            /* fail closed: nothing reached the sink */
            assert_int_equal(fs.n, 0);
        }
        /* no value ever reaches an error or the log */
        assert_null(strstr(err.text, CANARY));
        assert_null(strstr(err.locator, CANARY));
        assert_null(strstr(err.text, "s3cr3t"));
        assert_null(strstr(fake_host_log(fh), CANARY));
        assert_null(strstr(err.text, SK9));
        assert_null(strstr(fake_host_log(fh), SK9));
        if (c->log != NULL && strstr(fake_host_log(fh), c->log) == NULL)
            fail_msg("case \"%s\": log \"%s\"", c->what, fake_host_log(fh));
        ei_provider_sealed.destroy(st);
        fake_sink_free(&fs);
        fake_host_free(fh);
        for (size_t k = 0; k < en; k++)
            free(env[k]);
    }
}

static void test_locators(void **state)
{
    (void)state;
    char *data =
        expand_sealed(HDR "\"environment\": {\"DB_PASSWORD\": \"@{p}\"}}");
    write_file("s.ejson", data, strlen(data), 0644);
    free(data);
    static const char *const env[] = {"ENVINJECT_PRIVATE_KEY=" SK9, NULL};
    static const char *const opts[] = {"path=s.ejson", NULL};
    struct fake_host *fh = fake_host_new(opts, env, fx.dir);
    assert_non_null(fh);
    void *st = NULL;
    struct ei_error err;
    memset(&err, 0, sizeof(err));
    assert_int_equal(
        ei_provider_sealed.configure(fake_host_host(fh), &st, &err), EI_OK);
    struct fake_sink fs;
    fake_sink_init(&fs);
    assert_int_equal(ei_provider_sealed.fetch(st, &fs.sink, NULL, &err), EI_OK);
    const struct fake_entry *e = fake_sink_find(&fs, "DB_PASSWORD");
    assert_non_null(e);
    /* the file as the configuration wrote it, not the opened path */
    assert_string_equal(e->locator, "s.ejson:environment.DB_PASSWORD");
    assert_true((e->flags & EI_ENTRY_SECRET) != 0);
    /* a failing sink stops the fetch with its status */
    fake_sink_free(&fs);
    fs.fail_at = 1;
    memset(&err, 0, sizeof(err));
    assert_int_equal(ei_provider_sealed.fetch(st, &fs.sink, NULL, &err),
                     EI_INTERNAL);
    assert_int_equal(err.status, EI_INTERNAL);
    ei_provider_sealed.destroy(st);
    fake_sink_free(&fs);
    fake_host_free(fh);
}

static void test_configure(void **state)
{
    (void)state;
    static const struct {
        const char *opts[4];
        const char *arg;
        enum ei_status want;
        const char *text;
    } rows[] = {
        {{"path=s.ejson", NULL}, NULL, EI_OK, NULL},
        {{NULL}, "s.ejson", EI_OK, NULL},
        {{NULL}, NULL, EI_BADCONFIG, "option path is required"},
        {{"path=", NULL}, NULL, EI_BADCONFIG, "option path is required"},
        {{"path=s.ejson", "trim_underscore=maybe", NULL},
         NULL,
         EI_BADCONFIG,
         "trim_underscore"},
        {{"path=s.ejson", "key_file=k", "keydir=d", "trim_underscore=no"},
         NULL,
         EI_OK,
         NULL},
    };
    for (size_t i = 0; i < N_ELEMS(rows); i++) {
        struct fake_host *fh = fake_host_new(rows[i].opts, NULL, fx.dir);
        assert_non_null(fh);
        if (rows[i].arg != NULL)
            fake_host_set_arg(fh, rows[i].arg);
        void *st = (void *)1;
        struct ei_error err;
        memset(&err, 0, sizeof(err));
        enum ei_status got =
            ei_provider_sealed.configure(fake_host_host(fh), &st, &err);
        assert_int_equal(got, rows[i].want);
        assert_int_equal(fake_host_reads(fh), 0);
        if (got == EI_OK) {
            assert_non_null(st);
            assert_null(fake_host_unused(fh));
        } else {
            assert_null(st);
            assert_non_null(strstr(err.text, rows[i].text));
        }
        ei_provider_sealed.destroy(st);
        fake_host_free(fh);
    }
    ei_provider_sealed.destroy(NULL);
    assert_string_equal(ei_provider_sealed.name, "sealed");
    assert_string_equal(ei_provider_sealed.arg_option, "path");
    assert_int_equal(ei_provider_sealed.abi, EI_PROVIDER_ABI);
    assert_int_equal(ei_provider_sealed.size, sizeof(struct ei_provider));
    assert_true((ei_provider_sealed.flags & EI_PROV_SECRET) != 0);
    assert_false((ei_provider_sealed.flags & EI_PROV_REMOTE) != 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_locators),
        cmocka_unit_test(test_configure),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
