/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the ejson module: the token parser, the JSON walk
   and the encryption rewrite, with the invariants they promise. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ejson.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char fuzz_sk[EI_EJSON_KEY_LEN];
static unsigned char fuzz_pk[EI_EJSON_KEY_LEN];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (sodium_init() < 0)
        abort();
    /* a fixed key pair keeps runs reproducible */
    memset(fuzz_sk, 0x5a, sizeof(fuzz_sk));
    crypto_scalarmult_base(fuzz_pk, fuzz_sk);
    return 0;
}

static void fuzz_token(const char *s, size_t n)
{
    bool shape = ei_ejson_token_shape(s, n);
    struct ei_ejson_token tok;
    enum ei_ejson_tok r = ei_ejson_token_parse(s, n, &tok);
    /* a token that parses has the shape, and the shape implies "EJ[" */
    if (r == EI_EJSON_TOK_OK && (!shape || tok.box_len < EI_EJSON_MAC_LEN))
        abort();
    if (shape && r == EI_EJSON_TOK_PLAIN)
        abort();
    ei_ejson_token_fini(&tok);
    size_t cap = ei_ejson_plain_max(n);
    unsigned char *out = malloc(cap);
    if (out == NULL)
        return;
    size_t len = 0;
    enum ei_ejson_tok d = ei_ejson_decrypt(s, n, fuzz_sk, out, cap, &len);
    if (d != EI_EJSON_TOK_OK && len != 0)
        abort();
    if (d == EI_EJSON_TOK_OK && len >= cap)
        abort();
    free(out);
}

static int fuzz_visit(void *ctx, const struct ei_ejson_node *node,
                      struct ei_error *err)
{
    (void)err;
    const char *buf = ctx;
    char path[EI_EJSON_PATH_MAX];
    ei_ejson_path(node, path, sizeof(path));
    if (strlen(path) >= sizeof(path))
        abort();
    if (node->key_len > 0)
        (void)ei_ejson_key_is(buf + node->key_start, node->key_len,
                              "_public_key");
    if (node->type != EI_EJSON_STRING)
        return 0;
    size_t raw_len = node->end - node->start;
    size_t cap = ei_ejson_unquote_max(raw_len);
    char *out = malloc(cap);
    if (out == NULL)
        return 0;
    size_t n;
    /* the walk accepted the string, so decoding must succeed */
    if (ei_ejson_unquote(buf + node->start, raw_len, node->multiline, out, cap,
                         &n) != 0)
        abort();
    fuzz_token(out, n);
    free(out);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    fuzz_token(s, size);

    /* every well-formed UTF-8 string survives quote then unquote */
    if (ei_ejson_utf8_valid(s, size)) {
        size_t qn = ei_ejson_quote(s, size, NULL, 0);
        char *q = malloc(qn + 1);
        char *back = malloc(ei_ejson_unquote_max(qn));
        size_t bn;
        if (q != NULL && back != NULL) {
            if (ei_ejson_quote(s, size, q, qn + 1) != qn ||
                ei_ejson_unquote(q, qn, false, back, ei_ejson_unquote_max(qn),
                                 &bn) != 0 ||
                bn != size || memcmp(back, s, size) != 0)
                abort();
        }
        free(q);
        free(back);
    }

    /* copy so that the walk sees exactly size bytes, NUL not included */
    char *buf = malloc(size + 1);
    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    struct ei_error err;
    memset(&err, 0, sizeof(err));
    enum ei_status plain =
        ei_ejson_walk(buf, size, 0, "f", fuzz_visit, buf, &err);
    memset(&err, 0, sizeof(err));
    enum ei_status multi = ei_ejson_walk(buf, size, EI_EJSON_MULTILINE, "f",
                                         fuzz_visit, buf, &err);
    /* MULTILINE only ever accepts more */
    if (plain == EI_OK && multi != EI_OK)
        abort();
    if (multi != EI_OK && err.status != multi)
        abort();
    unsigned char pk[EI_EJSON_KEY_LEN];
    memset(&err, 0, sizeof(err));
    (void)ei_ejson_public_key(buf, size, EI_EJSON_MULTILINE, "f", pk, &err);

    size_t cn = ei_ejson_collapse(buf, size, NULL);
    char *col = malloc(cn + 1);
    if (col != NULL && ei_ejson_collapse(buf, size, col) != cn)
        abort();
    free(col);

    if (multi == EI_OK) {
        struct ei_ejson_sealer sealer;
        if (ei_ejson_sealer_init(&sealer, fuzz_pk, NULL) != 0)
            abort();
        struct ei_ejson_result res;
        memset(&err, 0, sizeof(err));
        if (ei_ejson_encrypt(buf, size, "f", &sealer, &res, &err) == EI_OK) {
            /* the result is strict JSON, and encrypting it again is a
               no-op */
            memset(&err, 0, sizeof(err));
            if (ei_ejson_walk(res.data, res.len, 0, "f", NULL, NULL, &err) !=
                EI_OK)
                abort();
            struct ei_ejson_result again;
            if (ei_ejson_encrypt(res.data, res.len, "f", &sealer, &again,
                                 &err) != EI_OK ||
                again.changed || again.len != res.len ||
                memcmp(again.data, res.data, res.len) != 0)
                abort();
            if (!res.changed &&
                (res.len != size || memcmp(res.data, buf, size) != 0))
                abort();
            ei_ejson_result_fini(&again);
            ei_ejson_result_fini(&res);
        }
        ei_ejson_sealer_wipe(&sealer);
    }
    free(buf);
    return 0;
}
