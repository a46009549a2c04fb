/* SPDX-License-Identifier: MIT */
/* Unit tests of the ejson format module: test vectors, token grammar,
   JSON decoding, ejson's encryptability quirks and encryption in place. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "ejson.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static size_t unhex(const char *hex, unsigned char *out, size_t cap)
{
    size_t n = strlen(hex) / 2, got = 0;
    assert_true(n <= cap);
    assert_int_equal(
        sodium_hex2bin(out, cap, hex, strlen(hex), NULL, &got, NULL), 0);
    assert_int_equal(got, n);
    return got;
}

/* Section 8 of the format page, verbatim. */
struct vector {
    const char *recipient_pk, *recipient_sk;
    const char *plaintext_json, *plaintext_hex;
    const char *eph_pk, *eph_sk, *nonce, *box;
    const char *ej, *tampered;
    size_t ej_len;
};

static const struct vector vectors[] = {
    {"6dd901ace1015ac25d86173b4bc35142cf305623535be1533f1464afa3730d73",
     "38b9774fe56060b37aff05e2550ff4a322d6e1e5787c1aca3af2efeb861970e1",
     "\"hunter2\"", "68756e74657232",
     "d0f36f36e15ae036645920bab9485e8bd1a68d60fb9d83559b2adbc63478c71c",
     "49c6feeb57a4c78ae6b32377aa2c9eee22dcc31a65438e0bda7c5937fed23713",
     "d7e0cdb55a06bb03ee5d364dac95eccb269e8c3a9bfcedf5",
     "5832b6aba33d5c590a8eed054a16a43259a76942dbe537",
     "EJ[1:0PNvNuFa4DZkWSC6uUhei9GmjWD7nYNVmyrbxjR4xxw=:1+DNtVoGuwPuXTZNrJXsyy"
     "aejDqb/O31:WDK2q6M9XFkKju0FShakMlmnaULb5Tc=]",
     "EJ[1:0PNvNuFa4DZkWSC6uUhei9GmjWD7nYNVmyrbxjR4xxw=:1+DNtVoGuwPuXTZNrJXsyy"
     "aejDqb/O31:WDK2q6M9XFkKju0FShakMlmnaULb5TY=]",
     116},
    {"063c0d1d9a612da770f7db427f6734a86f89c753b105bd3ca0eaa8d691b39551",
     "29af0c812d785728969b3777ca4ee489103f1a2f9eda1d901e272e9247890446",
     "\"p@ss \\\"w0rd\\\" \\\\ tab\\there\\nline2 caf\\u00e9 \\u20ac\"",
     "7040737320227730726422205c2074616209686572650a6c696e653220636166c3a920e2"
     "82ac",
     "1bf35c48ff26bc7840b24c849e4596cd9e162d9dcf6912e454cb19fd3e0ef840",
     "a64e11a043c7ec7c514113a9b805cc913884de75e23e4b194e95f2ea7f34cace",
     "8ab29260b7eb227913019c060fb5e774160d9412685975df",
     "5af7b926effe4f0c7046e24a4b17c305f831ebb432abbf5eac5018301baa06c2dc704bed"
     "1cd1b00fb3a26dd4d4a51388c71180bc1e87",
     "EJ[1:G/NcSP8mvHhAskyEnkWWzZ4WLZ3PaRLkVMsZ/T4O+EA=:irKSYLfrInkTAZwGD7XndB"
     "YNlBJoWXXf:Wve5Ju/+TwxwRuJKSxfDBfgx67Qyq79erFAYMBuqBsLccEvtHNGwD7OibdTU"
     "pROIxxGAvB6H]",
     "EJ[1:G/NcSP8mvHhAskyEnkWWzZ4WLZ3PaRLkVMsZ/T4O+EA=:irKSYLfrInkTAZwGD7XndB"
     "YNlBJoWXXf:Wve5Ju/+TwxwRuJKSxfDBfgx67Qyq79erFAYMBuqBsLccEvtHNGwD7OibdTU"
     "pROIxxGAvB6G]",
     156},
    {"2e5b9809e889e66bac20522d802403f239afda685402bed3a023570ebd8d5f0b",
     "891ddd37c48fb2b4cbd092d8eda1e3bcb4ecd1db50d781fdcb02cb75c6698a55", "\"\"",
     "", "cf759e2cf58a76d5dfdd0d50a2912afffcddafa085c7b404952b2d13dd313425",
     "6650a47f2034312437e81cc0a34118b1703e229a4bb61ca561741153db8462ae",
     "4e81becffc50604e974e15a0d51ba52cf12f6d9675da34c5",
     "8e872352ff044ffe4b3956bf3d723e74",
     "EJ[1:z3WeLPWKdtXf3Q1QopEq//zdr6CFx7QElSstE90xNCU=:ToG+z/xQYE6XThWg1RulLP"
     "EvbZZ12jTF:jocjUv8ET/5LOVa/PXI+dA==]",
     "EJ[1:z3WeLPWKdtXf3Q1QopEq//zdr6CFx7QElSstE90xNCU=:ToG+z/xQYE6XThWg1RulLP"
     "EvbZZ12jTF:jocjUv8ET/5LOVa/PXI+dQ==]",
     108},
};

static void test_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ELEMS(vectors); i++) {
        const struct vector *v = &vectors[i];
        unsigned char rpk[32], rsk[32], epk[32], esk[32], nonce[24], pt[64];
        unsigned char box[128], derived[32];
        unhex(v->recipient_pk, rpk, sizeof(rpk));
        unhex(v->recipient_sk, rsk, sizeof(rsk));
        unhex(v->eph_pk, epk, sizeof(epk));
        unhex(v->eph_sk, esk, sizeof(esk));
        unhex(v->nonce, nonce, sizeof(nonce));
        size_t pt_len = unhex(v->plaintext_hex, pt, sizeof(pt));
        size_t box_len = unhex(v->box, box, sizeof(box));
        assert_int_equal(box_len, pt_len + 16);
        assert_int_equal(strlen(v->ej), v->ej_len);

        crypto_scalarmult_base(derived, rsk);
        assert_memory_equal(derived, rpk, 32);

        /* the JSON text decodes to exactly the bytes that are encrypted */
        char dec[256];
        size_t dec_len;
        assert_int_equal(ei_ejson_unquote(v->plaintext_json,
                                          strlen(v->plaintext_json), false, dec,
                                          sizeof(dec), &dec_len),
                         0);
        assert_int_equal(dec_len, pt_len);
        assert_memory_equal(dec, pt, pt_len);

        /* deterministic encryption gives the documented token */
        struct ei_ejson_sealer s;
        assert_int_equal(ei_ejson_sealer_init(&s, rpk, esk), 0);
        assert_memory_equal(s.eph_pk, epk, 32);
        assert_int_equal(ei_ejson_token_len(pt_len), v->ej_len);
        char tok[256];
        assert_int_equal(ei_ejson_seal(&s, pt, pt_len, nonce, tok, sizeof(tok)),
                         0);
        assert_string_equal(tok, v->ej);
        /* one byte too small is refused, not cut */
        assert_int_equal(ei_ejson_seal(&s, pt, pt_len, nonce, tok, v->ej_len),
                         -1);
        ei_ejson_sealer_wipe(&s);

        struct ei_ejson_token t;
        assert_int_equal(ei_ejson_token_parse(v->ej, v->ej_len, &t),
                         EI_EJSON_TOK_OK);
        assert_memory_equal(t.pk, epk, 32);
        assert_memory_equal(t.nonce, nonce, 24);
        assert_int_equal(t.box_len, box_len);
        assert_memory_equal(t.box, box, box_len);
        ei_ejson_token_fini(&t);

        unsigned char out[256];
        size_t out_len = 99;
        assert_true(ei_ejson_plain_max(v->ej_len) <= sizeof(out));
        assert_int_equal(ei_ejson_decrypt(v->ej, v->ej_len, rsk, out,
                                          ei_ejson_plain_max(v->ej_len),
                                          &out_len),
                         EI_EJSON_TOK_OK);
        assert_int_equal(out_len, pt_len);
        assert_memory_equal(out, pt, pt_len);
        assert_int_equal(out[out_len], 0);

        assert_int_equal(ei_ejson_decrypt(v->tampered, strlen(v->tampered), rsk,
                                          out, sizeof(out), &out_len),
                         EI_EJSON_TOK_DECRYPT);
        assert_int_equal(out_len, 0);
        /* the key of another vector does not open it either */
        unsigned char other[32];
        unhex(vectors[(i + 1) % N_ELEMS(vectors)].recipient_sk, other, 32);
        assert_int_equal(ei_ejson_decrypt(v->ej, v->ej_len, other, out,
                                          sizeof(out), &out_len),
                         EI_EJSON_TOK_DECRYPT);
        assert_int_equal(
            ei_ejson_decrypt(v->ej, v->ej_len, rsk, out, pt_len, &out_len),
            EI_EJSON_TOK_TOOSMALL);
    }
}

static void test_known_answers(void **state)
{
    (void)state;
    static const struct {
        const char *sk, *pk, *tok, *plain;
    } kat[] = {
        {"c5caa31a5b8cb2be0074b37c56775f533b368b81d8fd33b94181f79bd6e47f87",
         "8d8647e2eeb6d2e31228e6df7da3df921ec3b799c3f66a171cd37a1ed3004e7d",
         "EJ[1:KR1IxNZnTZQMP3OR1NdOpDQ1IcLD83FSuE7iVNzINDk=:XnYW1HOxMthBFMnxW"
         "ULHlnY4scj5mNmX:ls1+kvwwu2ETz5C6apgWE7Q=]",
         "b"},
        {"2ed65dd6a16eab833cc4d2a860baa60042da34a58ac43855e8554ca87a5e557d",
         "795e671066eef17025c816b6d7c4f5c658b191cfaa31baca69963d761606415c",
         "EJ[1:dgKp4cmFm42z8pfH/FJD8KRpaum5ZB6zACbuYvNFrGA=:wwS8w2C2Ihrg62M6E"
         "8H/G1Tt5gXocugo:Rv1qmluaq4HZHfr1lVtvAXxHrHsZSYio2wI=]",
         "test value"},
    };
    for (size_t i = 0; i < N_ELEMS(kat); i++) {
        unsigned char sk[32], pk[32], derived[32];
        assert_int_equal(
            ei_ejson_key_from_hex(kat[i].sk, strlen(kat[i].sk), false, sk), 0);
        assert_int_equal(
            ei_ejson_key_from_hex(kat[i].pk, strlen(kat[i].pk), false, pk), 0);
        crypto_scalarmult_base(derived, sk);
        assert_memory_equal(derived, pk, 32);
        unsigned char out[128];
        size_t n;
        assert_int_equal(ei_ejson_decrypt(kat[i].tok, strlen(kat[i].tok), sk,
                                          out, sizeof(out), &n),
                         EI_EJSON_TOK_OK);
        assert_int_equal(n, strlen(kat[i].plain));
        assert_memory_equal(out, kat[i].plain, n);
    }
}

#define V1_P "0PNvNuFa4DZkWSC6uUhei9GmjWD7nYNVmyrbxjR4xxw="
#define V1_N "1+DNtVoGuwPuXTZNrJXsyyaejDqb/O31"
#define V1_B "WDK2q6M9XFkKju0FShakMlmnaULb5Tc="

static void test_token_grammar(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        bool shape;
        enum ei_ejson_tok parse;
    } rows[] = {
        {"EJ[1:" V1_P ":" V1_N ":" V1_B "]", true, EI_EJSON_TOK_OK},
        /* ejson reads any digit; envinject only 1 */
        {"EJ[7:" V1_P ":" V1_N ":" V1_B "]", true, EI_EJSON_TOK_VERSION},
        {"EJ[0:" V1_P ":" V1_N ":" V1_B "]", true, EI_EJSON_TOK_VERSION},
        {"EJ[a:" V1_P ":" V1_N ":" V1_B "]", false, EI_EJSON_TOK_SHAPE},
        {"EJ[12:" V1_P ":" V1_N ":" V1_B "]", false, EI_EJSON_TOK_SHAPE},
        /* URL-safe alphabet */
        {"EJ[1:0PNvNuFa4DZkWSC6uUhei9GmjWD7nYNVmyrbxjR4xxw=:1-DNtVoGuwPuXTZNr"
         "JXsyyaejDqb_O31:WDK2q6M9XFkKju0FShakMlmnaULb5Tc=]",
         false, EI_EJSON_TOK_SHAPE},
        /* '=' dropped from P: 43 characters */
        {"EJ[1:0PNvNuFa4DZkWSC6uUhei9GmjWD7nYNVmyrbxjR4xxw:" V1_N ":" V1_B "]",
         false, EI_EJSON_TOK_SHAPE},
        /* unpadded box: the shape allows it, the base64 does not */
        {"EJ[1:" V1_P ":" V1_N ":WDK2q6M9XFkKju0FShakMlmnaULb5Tc]", true,
         EI_EJSON_TOK_BOX},
        {"EJ[1:" V1_P ":" V1_N ": " V1_B "]", true, EI_EJSON_TOK_BOX},
        {"EJ[1:" V1_P ":" V1_N ":" V1_B "\n]", false, EI_EJSON_TOK_SHAPE},
        {"EJ[1:" V1_P ":" V1_N ":" V1_B "\r]", true, EI_EJSON_TOK_BOX},
        {"EJ[1:" V1_P " :" V1_N ":" V1_B "]", false, EI_EJSON_TOK_SHAPE},
        {" EJ[1:" V1_P ":" V1_N ":" V1_B "]", false, EI_EJSON_TOK_PLAIN},
        {"EJ[1:" V1_P ":" V1_N ":" V1_B "] ", false, EI_EJSON_TOK_SHAPE},
        {"EJ[1:" V1_P ":" V1_N ":" V1_B, false, EI_EJSON_TOK_SHAPE},
        {"EJ[1:" V1_P ":" V1_N ":]", false, EI_EJSON_TOK_SHAPE},
        {"ej[1:" V1_P ":" V1_N ":" V1_B "]", false, EI_EJSON_TOK_PLAIN},
        /* ']' inside the box is allowed by the shape */
        {"EJ[1:" V1_P ":" V1_N ":WDK2]q6M9]", true, EI_EJSON_TOK_BOX},
        /* the box must hold at least the 16-byte MAC */
        {"EJ[1:" V1_P ":" V1_N ":AAAAAAAAAAAAAAAAAAAA]", true,
         EI_EJSON_TOK_BOX},
        {"EJ[1:" V1_P ":" V1_N ":AAAAAAAAAAAAAAAAAAAAAA==]", true,
         EI_EJSON_TOK_OK},
        /* non-zero trailing bits in P ('x' instead of 'w') */
        {"EJ[1:0PNvNuFa4DZkWSC6uUhei9GmjWD7nYNVmyrbxjR4xxx=:" V1_N ":" V1_B "]",
         true, EI_EJSON_TOK_PUBKEY},
        /* P of 44 characters that decode to 31 bytes */
        {"EJ[1:0PNvNuFa4DZkWSC6uUhei9GmjWD7nYNVmyrbxjR4xA==:" V1_N ":" V1_B "]",
         true, EI_EJSON_TOK_PUBKEY},
        /* P of 44 characters without padding: 33 bytes */
        {"EJ[1:0PNvNuFa4DZkWSC6uUhei9GmjWD7nYNVmyrbxjR4xxwA:" V1_N ":" V1_B "]",
         true, EI_EJSON_TOK_PUBKEY},
        /* padding inside the nonce */
        {"EJ[1:" V1_P ":1+DNtVoGuwPuXTZNrJXsyyaejDq=/O31:" V1_B "]", true,
         EI_EJSON_TOK_NONCE},
        {"EJ[1:" V1_P ":1+DNtVoGuwPuXTZNrJXsyyaejDqb/O==:" V1_B "]", true,
         EI_EJSON_TOK_NONCE},
        {"hunter2", false, EI_EJSON_TOK_PLAIN},
        {"", false, EI_EJSON_TOK_PLAIN},
        {"EJ[", false, EI_EJSON_TOK_SHAPE},
        {"EJ", false, EI_EJSON_TOK_PLAIN},
    };
    for (size_t i = 0; i < N_ELEMS(rows); i++) {
        size_t len = strlen(rows[i].s);
        assert_int_equal(ei_ejson_token_shape(rows[i].s, len), rows[i].shape);
        struct ei_ejson_token t;
        enum ei_ejson_tok r = ei_ejson_token_parse(rows[i].s, len, &t);
        if (r != rows[i].parse)
            fail_msg("row %zu: parse gave %s, want %s", i, ei_ejson_tok_text(r),
                     ei_ejson_tok_text(rows[i].parse));
        if (r == EI_EJSON_TOK_OK)
            assert_true(t.box != NULL && t.box_len >= 16);
        else
            assert_null(t.box);
        ei_ejson_token_fini(&t);
    }
    /* a NUL inside the box is a byte like any other */
    static const char nul_tok[] = "EJ[1:" V1_P ":" V1_N ":WDK\0q6M9]";
    assert_true(ei_ejson_token_shape(nul_tok, sizeof(nul_tok) - 1));
    struct ei_ejson_token t;
    assert_int_equal(ei_ejson_token_parse(nul_tok, sizeof(nul_tok) - 1, &t),
                     EI_EJSON_TOK_BOX);
}

static void test_key_hex(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        bool trim;
        int rc;
    } rows[] = {
        {"9f600586854785eae611421c8dc8958c8565c304a20765468863d1b20817087d",
         false, 0},
        {"9F600586854785EAE611421C8DC8958C8565C304A20765468863D1B20817087D",
         false, 0},
        {"9f600586854785EAE611421c8dc8958c8565c304a20765468863d1b20817087D",
         false, 0},
        {"9f600586854785eae611421c8dc8958c8565c304a20765468863d1b20817087d\n",
         false, -1},
        {"9f600586854785eae611421c8dc8958c8565c304a20765468863d1b20817087d\n",
         true, 0},
        {" \t9f600586854785eae611421c8dc8958c8565c304a20765468863d1b20817087d"
         "\r\n\n",
         true, 0},
        {"9f600586854785eae611421c8dc8958c8565c304a20765468863d1b20817087",
         true, -1},
        {"9f600586854785eae611421c8dc8958c8565c304a20765468863d1b20817087d0",
         true, -1},
        {"9g600586854785eae611421c8dc8958c8565c304a20765468863d1b20817087d",
         true, -1},
        {"9f600586854785eae611421c8dc8958c 565c304a20765468863d1b20817087d",
         true, -1},
        {"0x600586854785eae611421c8dc8958c8565c304a20765468863d1b20817087d",
         true, -1},
        {"", true, -1},
        {"\n", true, -1},
    };
    static const unsigned char want[32] = {
        0x9f, 0x60, 0x05, 0x86, 0x85, 0x47, 0x85, 0xea, 0xe6, 0x11, 0x42,
        0x1c, 0x8d, 0xc8, 0x95, 0x8c, 0x85, 0x65, 0xc3, 0x04, 0xa2, 0x07,
        0x65, 0x46, 0x88, 0x63, 0xd1, 0xb2, 0x08, 0x17, 0x08, 0x7d};
    for (size_t i = 0; i < N_ELEMS(rows); i++) {
        unsigned char k[32];
        memset(k, 0xaa, sizeof(k));
        int rc = ei_ejson_key_from_hex(rows[i].s, strlen(rows[i].s),
                                       rows[i].trim, k);
        if (rc != rows[i].rc)
            fail_msg("row %zu: rc %d", i, rc);
        if (rc == 0) {
            assert_memory_equal(k, want, 32);
            char hex[65];
            ei_ejson_key_to_hex(k, hex);
            assert_string_equal(hex, "9f600586854785eae611421c8dc8958c8565c304a"
                                     "20765468863d1b20817087d");
        } else {
            for (size_t j = 0; j < 32; j++)
                assert_int_equal(k[j], 0xaa);
        }
    }
}

static void test_unquote(void **state)
{
    (void)state;
    static const struct {
        const char *raw;
        bool multiline;
        int rc;
        const char *hex; /* expected bytes */
    } rows[] = {
        {"\"\"", false, 0, ""},
        {"\"abc\"", false, 0, "616263"},
        {"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", false, 0, "225c2f080c0a0d09"},
        {"\"\\u0041\\u00e9\\u20AC\"", false, 0, "41c3a9e282ac"},
        {"\"\\u0000\"", false, 0, "00"},
        {"\"\\ud83d\\ude00\"", false, 0, "f09f9880"},
        {"\"\\uD83D\\uDE00\"", false, 0, "f09f9880"},
        {"\"\\ud800\"", false, 0, "efbfbd"},
        {"\"\\udc00\"", false, 0, "efbfbd"},
        {"\"\\ud800\\u0041\"", false, 0, "efbfbd41"},
        {"\"\\ud800\\ud800\\udc00\"", false, 0, "efbfbdf0908080"},
        {"\"\\ude00\\ud83d\"", false, 0, "efbfbdefbfbd"},
        {"\"\\ud800x\"", false, 0, "efbfbd78"},
        {"\"caf\xc3\xa9\"", false, 0, "636166c3a9"},
        {"\"\xef\xbf\xbd\"", false, 0, "efbfbd"},
        {"\"\xf0\x9f\x98\x80\"", false, 0, "f09f9880"},
        {"\"\xff\"", false, 0, "efbfbd"},
        {"\"\xe2\x82\"", false, 0, "efbfbdefbfbd"},
        {"\"\xe2\x82"
         "A\"",
         false, 0, "efbfbdefbfbd41"},
        {"\"\xc0\xaf\"", false, 0, "efbfbdefbfbd"},
        {"\"\xe0\x80\xaf\"", false, 0, "efbfbdefbfbdefbfbd"},
        {"\"\xe0\xa0\x80\"", false, 0, "e0a080"},
        {"\"\xf0\x8f\xbf\xbf\"", false, 0, "efbfbdefbfbdefbfbdefbfbd"},
        {"\"\xf4\x8f\xbf\xbf\"", false, 0, "f48fbfbf"},
        {"\"\xed\x9f\xbf\"", false, 0, "ed9fbf"},
        {"\"\xed\xa0\x80\"", false, 0, "efbfbdefbfbdefbfbd"},
        {"\"\xf4\x90\x80\x80\"", false, 0, "efbfbdefbfbdefbfbdefbfbd"},
        {"\"\x7f\"", false, 0, "7f"},
        {"\"a\nb\"", true, 0, "610a62"},
        {"\"a\r\nb\"", true, 0, "610d0a62"},
        {"\"a\nb\"", false, -1, NULL},
        {"\"a\tb\"", true, -1, NULL},
        {"\"\\x\"", false, -1, NULL},
        {"\"\\u12\"", false, -1, NULL},
        {"\"\\u12g4\"", false, -1, NULL},
        {"\"\\\"", false, -1, NULL},
        {"\"a\"b\"", false, -1, NULL},
        {"\"abc", false, -1, NULL},
        {"abc\"", false, -1, NULL},
        {"\"", false, -1, NULL},
        {"", false, -1, NULL},
    };
    for (size_t i = 0; i < N_ELEMS(rows); i++) {
        size_t rl = strlen(rows[i].raw);
        size_t cap = ei_ejson_unquote_max(rl);
        char *out = malloc(cap);
        assert_non_null(out);
        size_t n = 77;
        int rc =
            ei_ejson_unquote(rows[i].raw, rl, rows[i].multiline, out, cap, &n);
        if (rc != rows[i].rc)
            fail_msg("row %zu: rc %d", i, rc);
        if (rc == 0) {
            unsigned char want[64];
            size_t wl = unhex(rows[i].hex, want, sizeof(want));
            if (n != wl || memcmp(out, want, wl) != 0)
                fail_msg("row %zu: wrong bytes", i);
            assert_int_equal(out[n], '\0');
        } else {
            assert_int_equal(n, 0);
        }
        /* a buffer below the bound is refused */
        if (rl > 0)
            assert_int_equal(ei_ejson_unquote(rows[i].raw, rl,
                                              rows[i].multiline, out, cap - 1,
                                              &n),
                             -1);
        free(out);
    }
}

static void test_quote(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t len;
        const char *want;
    } rows[] = {
        {"", 0, "\"\""},
        {"plain", 5, "\"plain\""},
        {"it's a \"secret\"", 15, "\"it's a \\\"secret\\\"\""},
        {"a\\b", 3, "\"a\\\\b\""},
        {"a\nb\rc\td", 7, "\"a\\nb\\rc\\td\""},
        {"\x01\x1f\x7f", 3, "\"\\u0001\\u001f\x7f\""},
        {"\0x", 2, "\"\\u0000x\""},
        {"<&>/", 4, "\"<&>/\""},
        {"caf\xc3\xa9", 5, "\"caf\xc3\xa9\""},
    };
    for (size_t i = 0; i < N_ELEMS(rows); i++) {
        char out[64];
        size_t n = ei_ejson_quote(rows[i].in, rows[i].len, out, sizeof(out));
        assert_int_equal(n, strlen(rows[i].want));
        assert_string_equal(out, rows[i].want);
        /* snprintf-like: a short buffer is cut and terminated */
        char small[4];
        assert_int_equal(
            ei_ejson_quote(rows[i].in, rows[i].len, small, sizeof(small)), n);
        assert_int_equal(small[n < 3 ? n : 3], '\0');
        assert_int_equal(ei_ejson_quote(rows[i].in, rows[i].len, NULL, 0), n);
    }
    /* every byte below 0x80 survives quote then unquote */
    char all[127];
    for (size_t i = 0; i < sizeof(all); i++)
        all[i] = (char)(i + 1);
    char q[1024], back[4096];
    size_t n = ei_ejson_quote(all, sizeof(all), q, sizeof(q)), bl;
    assert_true(n < sizeof(q));
    assert_int_equal(ei_ejson_unquote(q, n, false, back, sizeof(back), &bl), 0);
    assert_int_equal(bl, sizeof(all));
    assert_memory_equal(back, all, sizeof(all));
}

static void test_utf8_valid(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        bool ok;
    } rows[] = {
        {"", true},
        {"ascii", true},
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", true},
        {"\xc3", false},
        {"\xc0\xaf", false},
        {"\xe0\x80\xaf", false},
        {"\xf0\x8f\xbf\xbf", false},
        {"\xf4\x8f\xbf\xbf", true},
        {"\xed\xa0\x80", false},
        {"\xf4\x90\x80\x80", false},
        {"\xff", false},
        {"\xe2\x82"
         "A",
         false},
    };
    for (size_t i = 0; i < N_ELEMS(rows); i++)
        assert_int_equal(ei_ejson_utf8_valid(rows[i].s, strlen(rows[i].s)),
                         rows[i].ok);
}

/* "path=E" (encryptable) or "path=P" for every string value, comma-joined. */
struct collect {
    char out[1024];
};

static int collect_visit(void *ctx, const struct ei_ejson_node *n,
                         struct ei_error *err)
{
    (void)err;
    struct collect *c = ctx;
    if (n->type != EI_EJSON_STRING)
        return 0;
    char path[EI_EJSON_PATH_MAX];
    ei_ejson_path(n, path, sizeof(path));
    size_t l = strlen(c->out);
    snprintf(c->out + l, sizeof(c->out) - l, "%s%s=%c", l > 0 ? "," : "", path,
             n->encryptable ? 'E' : 'P');
    return 0;
}

static void test_quirks(void **state)
{
    (void)state;
    static const struct {
        const char *doc;
        const char *want;
    } rows[] = {
        {"{\"_a\": {\"b\": \"c\"}}", "_a.b=E"},
        {"{\"a\": [\"b\", \"c\"]}", "a[0]=E,a[1]=E"},
        {"{\"_a\": [\"b\", \"c\"]}", "_a[0]=P,_a[1]=P"},
        {"{\"\\u005fx\": \"v\"}", "_x=E"},
        {"{\"k\": [{\"_x\": \"1\"}, \"y\"]}", "k[0]._x=P,k[1]=P"},
        {"{\"_k\": [{\"a\": \"1\"}, \"y\"]}", "_k[0].a=E,_k[1]=E"},
        {"{\"_public_key\": \"ab\", \"a\": 1, \"b\": true, \"c\": null, "
         "\"d\": \"x\", \"e\": [false, 2.5]}",
         "_public_key=P,d=E"},
        {"{\"\": \"x\", \"_\": \"y\"}", "=E,_=P"},
        {"{\"a\": {\"_b\": {}}, \"c\": \"d\"}", "c=E"},
        {"{\"_a\": {\"b\": {}}, \"_c\": [\"d\"]}", "_c[0]=P"},
        {"{\"_a\": {\"b\": {}}, \"x\": [[\"d\"]]}", "x[0][0]=E"},
        {"{\"a\": {\"_b\": 1}, \"c\": [\"d\"]}", "c[0]=E"},
        {"{\"a\": [{\"_b\": 1}, [\"d\"]]}", "a[1][0]=P"},
        {"{\"a\":\"1\",\"a\":\"2\"}", "a=E,a=E"},
        {"{\"a\\nb\": \"v\", \"c\\u0001\": \"w\"}", "a?b=E,c?=E"},
    };
    for (size_t i = 0; i < N_ELEMS(rows); i++) {
        struct collect c;
        memset(&c, 0, sizeof(c));
        struct ei_error err;
        memset(&err, 0, sizeof(err));
        assert_int_equal(ei_ejson_walk(rows[i].doc, strlen(rows[i].doc), 0,
                                       "q.ejson", collect_visit, &c, &err),
                         EI_OK);
        if (strcmp(c.out, rows[i].want) != 0)
            fail_msg("row %zu: got %s, want %s", i, c.out, rows[i].want);
    }
}

static void test_path_limits(void **state)
{
    (void)state;
    char doc[600];
    char key[400];
    memset(key, 'k', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    snprintf(doc, sizeof(doc), "{\"%s\": \"v\"}", key);
    struct collect c;
    memset(&c, 0, sizeof(c));
    assert_int_equal(
        ei_ejson_walk(doc, strlen(doc), 0, "q", collect_visit, &c, NULL),
        EI_OK);
    /* cut to the path limit, marked, still terminated */
    assert_int_equal(strlen(c.out), EI_EJSON_PATH_MAX - 1 + 2);
    assert_non_null(strstr(c.out, "...=E"));
}

static void test_walk_syntax(void **state)
{
    (void)state;
    static const struct {
        const char *doc;
        size_t len; /* 0: strlen */
        unsigned flags;
        enum ei_status st;
        const char *locator;
        const char *text; /* substring of the error text */
    } rows[] = {
        {"{}", 0, 0, EI_OK, NULL, NULL},
        {" \r\n\t{ \"a\" : [ 1, -0.5e+3, 0, 1E9, true, false, null, {}, [] ], "
         "\"b\": {\"c\": \"\\u00e9\"} } \n\n ",
         0, 0, EI_OK, NULL, NULL},
        {"", 0, 0, EI_BADDATA, "f.ejson:1", "empty document"},
        {"  \n", 0, 0, EI_BADDATA, "f.ejson:2", "empty document"},
        {"[]", 0, 0, EI_BADDATA, "f.ejson:1", "not an object"},
        {"\"x\"", 0, 0, EI_BADDATA, "f.ejson:1", "not an object"},
        {"\xef\xbb\xbf{}", 0, 0, EI_BADDATA, "f.ejson:1", "not an object"},
        {"{", 0, 0, EI_BADDATA, "f.ejson:1", "end of file"},
        {"{\"a\"}", 0, 0, EI_BADDATA, "f.ejson:1", "expected ':'"},
        {"{\"a\":}", 0, 0, EI_BADDATA, "f.ejson:1", "unexpected character"},
        {"{\"a\":1,}", 0, 0, EI_BADDATA, "f.ejson:1", "member name"},
        {"{\"a\":1 \"b\":2}", 0, 0, EI_BADDATA, "f.ejson:1", "expected ','"},
        {"{\"a\":[1,]}", 0, 0, EI_BADDATA, "f.ejson:1", "unexpected"},
        {"{\"a\":[1}", 0, 0, EI_BADDATA, "f.ejson:1", "expected ',' or ']'"},
        {"{\"a\":01}", 0, 0, EI_BADDATA, "f.ejson:1", "expected ','"},
        {"{\"a\":-}", 0, 0, EI_BADDATA, "f.ejson:1", "malformed number"},
        {"{\"a\":1.}", 0, 0, EI_BADDATA, "f.ejson:1", "malformed number"},
        {"{\"a\":1e}", 0, 0, EI_BADDATA, "f.ejson:1", "malformed number"},
        {"{\"a\":+1}", 0, 0, EI_BADDATA, "f.ejson:1", "unexpected"},
        {"{\"a\":tru}", 0, 0, EI_BADDATA, "f.ejson:1", "unexpected"},
        {"{\"a\":truex}", 0, 0, EI_BADDATA, "f.ejson:1", "expected ','"},
        {"{\"a\":NaN}", 0, 0, EI_BADDATA, "f.ejson:1", "unexpected"},
        {"{a:1}", 0, 0, EI_BADDATA, "f.ejson:1", "member name"},
        {"{'a':1}", 0, 0, EI_BADDATA, "f.ejson:1", "member name"},
        {"{\n\"a\": \"x\ny\"\n}", 0, 0, EI_BADDATA, "f.ejson:2",
         "line break inside a string"},
        {"{\n\"a\": \"x\ny\"\n}", 0, EI_EJSON_MULTILINE, EI_OK, NULL, NULL},
        {"{\"a\": \"x\ry\"}", 0, EI_EJSON_MULTILINE, EI_OK, NULL, NULL},
        {"{\"a\": \"x\ty\"}", 0, EI_EJSON_MULTILINE, EI_BADDATA, "f.ejson:1",
         "control character"},
        {"{\"a\": \"x\\\ny\"}", 0, EI_EJSON_MULTILINE, EI_BADDATA, "f.ejson:1",
         "invalid escape"},
        {"{\"a\": \"\\x\"}", 0, 0, EI_BADDATA, "f.ejson:1", "invalid escape"},
        {"{\"a\": \"\\u12\"}", 0, 0, EI_BADDATA, "f.ejson:1", "\\u escape"},
        {"{\"a\": \"abc}", 0, 0, EI_BADDATA, "f.ejson:1", "inside a string"},
        {"{}}", 0, 0, EI_BADDATA, "f.ejson:1", "after the top-level"},
        {"{} x", 0, 0, EI_BADDATA, "f.ejson:1", "after the top-level"},
        {"{}\n{}", 0, 0, EI_BADDATA, "f.ejson:2", "after the top-level"},
        {"{\"a\":\0}", 6, 0, EI_BADDATA, "f.ejson:1", "unexpected"},
        {"{\"a\":\"\0\"}", 8, 0, EI_BADDATA, "f.ejson:1", "control"},
        {"{\"a\":1}\0", 8, 0, EI_BADDATA, "f.ejson:1", "after the top-level"},
        {"{\"a\": \"\xff\xfe\"}", 0, 0, EI_OK, NULL, NULL},
    };
    for (size_t i = 0; i < N_ELEMS(rows); i++) {
        struct ei_error err;
        memset(&err, 0, sizeof(err));
        size_t len = rows[i].len != 0 ? rows[i].len : strlen(rows[i].doc);
        enum ei_status st = ei_ejson_walk(rows[i].doc, len, rows[i].flags,
                                          "f.ejson", NULL, NULL, &err);
        if (st != rows[i].st)
            fail_msg("row %zu: status %d (%s)", i, (int)st, err.text);
        if (st == EI_OK) {
            assert_int_equal(err.status, EI_OK);
            continue;
        }
        assert_int_equal(err.status, rows[i].st);
        assert_string_equal(err.locator, rows[i].locator);
        if (strstr(err.text, rows[i].text) == NULL)
            fail_msg("row %zu: text \"%s\" lacks \"%s\"", i, err.text,
                     rows[i].text);
    }
}

static void test_walk_depth(void **state)
{
    (void)state;
    /* EI_EJSON_MAX_DEPTH levels are fine, one more is refused */
    for (size_t extra = 0; extra < 2; extra++) {
        size_t levels = EI_EJSON_MAX_DEPTH + extra; /* the top level counts */
        size_t len = 6 + 2 * (levels - 1) + 1;
        char *doc = malloc(len + 1);
        assert_non_null(doc);
        size_t w = 0;
        memcpy(doc, "{\"a\":", 5);
        w += 5;
        for (size_t i = 1; i < levels; i++)
            doc[w++] = '[';
        for (size_t i = 1; i < levels; i++)
            doc[w++] = ']';
        doc[w++] = '}';
        doc[w] = '\0';
        struct ei_error err;
        memset(&err, 0, sizeof(err));
        enum ei_status st = ei_ejson_walk(doc, w, 0, "d", NULL, NULL, &err);
        assert_int_equal(st, extra == 0 ? EI_OK : EI_BADDATA);
        if (extra == 1)
            assert_non_null(strstr(err.text, "nested too deeply"));
        free(doc);
    }
}

static int stop_visit(void *ctx, const struct ei_ejson_node *n,
                      struct ei_error *err)
{
    size_t *count = ctx;
    if (++*count == 2) {
        err->status = EI_DENIED;
        return -1;
    }
    return 0;
}

static void test_walk_stop(void **state)
{
    (void)state;
    static const char doc[] = "{\"a\": 1, \"b\": 2, \"c\": 3}";
    size_t count = 0;
    struct ei_error err;
    memset(&err, 0, sizeof(err));
    assert_int_equal(
        ei_ejson_walk(doc, strlen(doc), 0, "s", stop_visit, &count, &err),
        EI_DENIED);
    assert_int_equal(count, 2);
    /* first error wins */
    memset(&err, 0, sizeof(err));
    err.status = EI_NOMEM;
    assert_int_equal(ei_ejson_walk("{", 1, 0, "s", NULL, NULL, &err),
                     EI_BADDATA);
    assert_int_equal(err.status, EI_NOMEM);
    /* err may be NULL */
    assert_int_equal(ei_ejson_walk("{", 1, 0, "s", NULL, NULL, NULL),
                     EI_BADDATA);
}

static void test_public_key(void **state)
{
    (void)state;
#define PK9 "9f600586854785eae611421c8dc8958c8565c304a20765468863d1b20817087d"
    static const struct {
        const char *doc;
        enum ei_status st;
        const char *text;
    } rows[] = {
        {"{\"_public_key\": \"" PK9 "\"}", EI_OK, NULL},
        {"{\"a\": 1, \"_public_key\": \"9F600586854785EAE611421C8DC8958C8565C30"
         "4A20765468863D1B20817087D\"}",
         EI_OK, NULL},
        {"{\"\\u005fpublic_key\": \"" PK9 "\"}", EI_OK, NULL},
        {"{\"_public_key\": \"\\u0039f600586854785eae611421c8dc8958c8565c304a2"
         "0765468863d1b20817087d\"}",
         EI_OK, NULL},
        {"{\"_public_key\": 5, \"_public_key\": \"" PK9 "\"}", EI_OK, NULL},
        {"{\"_public_key\": \"" PK9 "\", \"_public_key\": 5}", EI_BADDATA,
         "not a string"},
        {"{}", EI_BADDATA, "no _public_key"},
        {"{\"a\": {\"_public_key\": \"" PK9 "\"}}", EI_BADDATA,
         "no _public_key"},
        {"{\"_public_key\": \"" PK9 "0\"}", EI_BADDATA, "64 hex"},
        {"{\"_public_key\": \"zz\"}", EI_BADDATA, "64 hex"},
        {"{\"_public_key\": \" " PK9 "\"}", EI_BADDATA, "64 hex"},
        {"{\"_public_key\": null}", EI_BADDATA, "not a string"},
        {"{\"_public_key\": \"" PK9 "\"", EI_BADDATA, "end of file"},
    };
    static const unsigned char want[32] = {
        0x9f, 0x60, 0x05, 0x86, 0x85, 0x47, 0x85, 0xea, 0xe6, 0x11, 0x42,
        0x1c, 0x8d, 0xc8, 0x95, 0x8c, 0x85, 0x65, 0xc3, 0x04, 0xa2, 0x07,
        0x65, 0x46, 0x88, 0x63, 0xd1, 0xb2, 0x08, 0x17, 0x08, 0x7d};
    for (size_t i = 0; i < N_ELEMS(rows); i++) {
        unsigned char pk[32];
        memset(pk, 0, sizeof(pk));
        struct ei_error err;
        memset(&err, 0, sizeof(err));
        enum ei_status st = ei_ejson_public_key(
            rows[i].doc, strlen(rows[i].doc), 0, "p.ejson", pk, &err);
        if (st != rows[i].st)
            fail_msg("row %zu: status %d (%s)", i, (int)st, err.text);
        if (st == EI_OK) {
            assert_memory_equal(pk, want, 32);
        } else if (strstr(err.text, rows[i].text) == NULL) {
            fail_msg("row %zu: text \"%s\"", i, err.text);
        }
    }
}

/* Section 9 of the format page. */
static const char example_sk[] =
    "837ed67bd50b291980191462d05f348f15aef99fd21b27fa9bb194f677224a65\n";
static const char example_source[] =
    "{\n"
    "  \"_public_key\": "
    "\"9f600586854785eae611421c8dc8958c8565c304a20765468863d1b20817087d\",\n"
    "  \"environment\": {\n"
    "    \"_APP_ENV\": \"production\",\n"
    "    \"DATABASE_URL\": \"postgres://app:s3cr3t@db.internal:5432/app\",\n"
    "    \"API_TOKEN\": \"tok_live_8f3a9c2d71\",\n"
    "    \"SESSION_SECRET\": \"it's a \\\"secret\\\" with spaces\"\n"
    "  }\n"
    "}\n";
static const char example_sealed[] =
    "{\n"
    "  \"_public_key\": "
    "\"9f600586854785eae611421c8dc8958c8565c304a20765468863d1b20817087d\",\n"
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

/* ejson decrypt: every encryptable string replaced by its plaintext, quoted
   the way ejson main does. */
struct dec_ctx {
    const unsigned char *sk;
    const char *buf;
    char out[4096];
    size_t w;
    size_t at;
    size_t n;
};

static int dec_visit(void *ctx, const struct ei_ejson_node *n,
                     struct ei_error *err)
{
    struct dec_ctx *d = ctx;
    (void)err;
    if (n->type != EI_EJSON_STRING || !n->encryptable)
        return 0;
    char tok[1024];
    size_t tl;
    assert_int_equal(ei_ejson_unquote(d->buf + n->start, n->end - n->start,
                                      false, tok, sizeof(tok), &tl),
                     0);
    unsigned char plain[1024];
    size_t pl;
    assert_int_equal(
        ei_ejson_decrypt(tok, tl, d->sk, plain, sizeof(plain), &pl),
        EI_EJSON_TOK_OK);
    memcpy(d->out + d->w, d->buf + d->at, n->start - d->at);
    d->w += n->start - d->at;
    d->w += ei_ejson_quote((const char *)plain, pl, d->out + d->w,
                           sizeof(d->out) - d->w);
    d->at = n->end;
    d->n++;
    return 0;
}

static size_t decrypt_file(const char *buf, size_t len, const unsigned char *sk,
                           char *out, size_t out_cap)
{
    struct dec_ctx d;
    memset(&d, 0, sizeof(d));
    d.sk = sk;
    d.buf = buf;
    assert_int_equal(ei_ejson_walk(buf, len, 0, "x", dec_visit, &d, NULL),
                     EI_OK);
    memcpy(d.out + d.w, buf + d.at, len - d.at);
    d.w += len - d.at;
    assert_true(d.w < out_cap);
    memcpy(out, d.out, d.w);
    out[d.w] = '\0';
    return d.n;
}

static void test_example_file(void **state)
{
    (void)state;
    unsigned char sk[32], pk[32], derived[32];
    assert_int_equal(
        ei_ejson_key_from_hex(example_sk, strlen(example_sk), true, sk), 0);
    struct ei_error err;
    memset(&err, 0, sizeof(err));
    assert_int_equal(ei_ejson_public_key(example_sealed, strlen(example_sealed),
                                         0, "ex", pk, &err),
                     EI_OK);
    crypto_scalarmult_base(derived, sk);
    assert_memory_equal(derived, pk, 32);
    /* ejson decrypt gives back the source byte for byte */
    char out[4096];
    assert_int_equal(decrypt_file(example_sealed, strlen(example_sealed), sk,
                                  out, sizeof(out)),
                     3);
    assert_string_equal(out, example_source);
    /* and encrypting the sealed file again changes nothing */
    struct ei_ejson_sealer s;
    assert_int_equal(ei_ejson_sealer_init(&s, pk, NULL), 0);
    struct ei_ejson_result res;
    assert_int_equal(ei_ejson_encrypt(example_sealed, strlen(example_sealed),
                                      "ex", &s, &res, &err),
                     EI_OK);
    assert_false(res.changed);
    assert_int_equal(res.paths_n, 0);
    assert_string_equal(res.data, example_sealed);
    ei_ejson_result_fini(&res);
    ei_ejson_sealer_wipe(&s);
}

/* The file with every encryptable string replaced by "#": what encrypt
   must leave alone. */
static int skel_visit(void *ctx, const struct ei_ejson_node *n,
                      struct ei_error *err)
{
    struct dec_ctx *d = ctx;
    (void)err;
    if (n->type != EI_EJSON_STRING || !n->encryptable)
        return 0;
    memcpy(d->out + d->w, d->buf + d->at, n->start - d->at);
    d->w += n->start - d->at;
    memcpy(d->out + d->w, "\"#\"", 3);
    d->w += 3;
    d->at = n->end;
    return 0;
}

static void skeleton(const char *buf, size_t len, char *out, size_t cap)
{
    struct dec_ctx *d = calloc(1, sizeof(*d));
    assert_non_null(d);
    d->buf = buf;
    assert_int_equal(ei_ejson_walk(buf, len, 0, "x", skel_visit, d, NULL),
                     EI_OK);
    memcpy(d->out + d->w, buf + d->at, len - d->at);
    d->w += len - d->at;
    assert_true(d->w < cap);
    memcpy(out, d->out, d->w);
    out[d->w] = '\0';
    free(d);
}

/* "path=plaintext" of every encryptable string, '|'-joined; a NUL byte
   shows as \\0. */
struct plain_ctx {
    const unsigned char *sk;
    const char *buf;
    char out[2048];
};

static int plain_visit(void *ctx, const struct ei_ejson_node *n,
                       struct ei_error *err)
{
    struct plain_ctx *pc = ctx;
    (void)err;
    if (n->type != EI_EJSON_STRING || !n->encryptable)
        return 0;
    char tok[1024], path[EI_EJSON_PATH_MAX];
    size_t tl, pl;
    unsigned char plain[1024];
    assert_int_equal(ei_ejson_unquote(pc->buf + n->start, n->end - n->start,
                                      false, tok, sizeof(tok), &tl),
                     0);
    assert_int_equal(
        ei_ejson_decrypt(tok, tl, pc->sk, plain, sizeof(plain), &pl),
        EI_EJSON_TOK_OK);
    ei_ejson_path(n, path, sizeof(path));
    size_t w = strlen(pc->out);
    w += (size_t)snprintf(pc->out + w, sizeof(pc->out) - w,
                          "%s%s=", w > 0 ? "|" : "", path);
    for (size_t i = 0; i < pl && w + 3 < sizeof(pc->out); i++) {
        if (plain[i] == 0) {
            pc->out[w++] = '\\';
            pc->out[w++] = '0';
        } else {
            pc->out[w++] = (char)plain[i];
        }
    }
    pc->out[w] = '\0';
    return 0;
}

static void test_encrypt_preserves(void **state)
{
    (void)state;
    static const struct {
        const char *doc;
        const char *paths; /* paths reported, comma-joined */
        const char *plain; /* "path=plaintext" after decryption, '|'-joined */
    } rows[] = {
        {example_source,
         "environment.DATABASE_URL,environment.API_TOKEN,"
         "environment.SESSION_SECRET",
         "environment.DATABASE_URL=postgres://app:s3cr3t@db.internal:5432/app|"
         "environment.API_TOKEN=tok_live_8f3a9c2d71|"
         "environment.SESSION_SECRET=it's a \"secret\" with spaces"},
        {"{\r\n\t\"_public_key\" :\t\"" PK9 "\" ,\r\n\t\"a\"   :  \"x\\u0041\","
         "\"n\":[1 , "
         "\"y\",{\"_c\":\"keep\"},\"z\"],\"dup\":\"1\",\"dup\":\"2\","
         "\"t\": true}\r\n\r\n",
         "a,n[1],dup,dup", "a=xA|n[1]=y|dup=1|dup=2"},
        {"{\"_public_key\":\"" PK9 "\",\"_comment\":\"two\nlines\","
         "\"pem\":\"-----BEGIN-----\nAAAA\r\n-----END-----\"}",
         "pem", "pem=-----BEGIN-----\nAAAA\r\n-----END-----"},
        {"{\"_public_key\":\"" PK9 "\",\"u\":\"caf\xc3\xa9 \\ud83d\\ude00 "
         "\xff\"}",
         "u", "u=caf\xc3\xa9 \xf0\x9f\x98\x80 \xef\xbf\xbd"},
        {"{\"_public_key\":\"" PK9 "\",\"e\":\"\",\"z\":\"\\u0000\"}", "e,z",
         "e=|z=\\0"},
    };
    unsigned char sk[32], pk[32];
    assert_int_equal(
        ei_ejson_key_from_hex(example_sk, strlen(example_sk), true, sk), 0);
    crypto_scalarmult_base(pk, sk);
    for (size_t i = 0; i < N_ELEMS(rows); i++) {
        const char *doc = rows[i].doc;
        size_t len = strlen(doc);
        struct ei_ejson_sealer s;
        assert_int_equal(ei_ejson_sealer_init(&s, pk, NULL), 0);
        struct ei_ejson_result res;
        struct ei_error err;
        memset(&err, 0, sizeof(err));
        assert_int_equal(ei_ejson_encrypt(doc, len, "e", &s, &res, &err),
                         EI_OK);
        assert_true(res.changed);
        char paths[512] = "";
        for (size_t k = 0; k < res.paths_n; k++) {
            size_t l = strlen(paths);
            snprintf(paths + l, sizeof(paths) - l, "%s%s", k ? "," : "",
                     res.paths[k]);
        }
        assert_string_equal(paths, rows[i].paths);

        /* outside the encrypted strings nothing moved (after the
           multi-line pre-pass) */
        size_t cl = ei_ejson_collapse(doc, len, NULL);
        char *col = malloc(cl + 1);
        assert_non_null(col);
        ei_ejson_collapse(doc, len, col);
        char sk_in[4096], sk_out[4096];
        skeleton(col, cl, sk_in, sizeof(sk_in));
        skeleton(res.data, res.len, sk_out, sizeof(sk_out));
        assert_string_equal(sk_in, sk_out);
        free(col);

        /* every token of the run has the run's encrypter key */
        const char *p = res.data;
        size_t seen = 0;
        while ((p = strstr(p, "EJ[1:")) != NULL) {
            unsigned char epk[33];
            size_t got;
            assert_int_equal(sodium_base642bin(epk, sizeof(epk), p + 5, 44,
                                               NULL, &got, NULL,
                                               sodium_base64_VARIANT_ORIGINAL),
                             0);
            assert_int_equal(got, 32);
            assert_memory_equal(epk, s.eph_pk, 32);
            p += 5;
            seen++;
        }
        assert_int_equal(seen, res.paths_n);

        /* and each decrypts to the decoded original, in file order */
        struct plain_ctx pc;
        memset(&pc, 0, sizeof(pc));
        pc.sk = sk;
        pc.buf = res.data;
        assert_int_equal(
            ei_ejson_walk(res.data, res.len, 0, "x", plain_visit, &pc, NULL),
            EI_OK);
        if (strcmp(pc.out, rows[i].plain) != 0)
            fail_msg("row %zu: decrypted to %s", i, pc.out);

        /* idempotence: a second run finds nothing to do */
        struct ei_ejson_result res2;
        assert_int_equal(
            ei_ejson_encrypt(res.data, res.len, "e", &s, &res2, &err), EI_OK);
        assert_false(res2.changed);
        assert_int_equal(res2.paths_n, 0);
        assert_int_equal(res2.len, res.len);
        assert_memory_equal(res2.data, res.data, res.len);
        ei_ejson_result_fini(&res2);
        ei_ejson_result_fini(&res);
        ei_ejson_sealer_wipe(&s);
    }
}

static void test_encrypt_untouched(void **state)
{
    (void)state;
    static const char *const docs[] = {
        "{\"_public_key\":\"" PK9 "\"}",
        "{\"_public_key\":\"" PK9 "\",\"_x\":[\"a\",{\"_y\":\"b\"}],\"n\":1}\n",
        /* token-shaped values are left alone, whatever they hold */
        "{\"_public_key\":\"" PK9 "\",\"v\":\"EJ[7:" V1_P ":" V1_N ":zz]\"}",
        "{\"_public_key\":\"" PK9 "\",\"k\":[{\"_x\":\"1\"},\"y\"]}",
        "{}",
    };
    unsigned char pk[32];
    assert_int_equal(ei_ejson_key_from_hex(PK9, 64, false, pk), 0);
    for (size_t i = 0; i < N_ELEMS(docs); i++) {
        struct ei_ejson_sealer s;
        assert_int_equal(ei_ejson_sealer_init(&s, pk, NULL), 0);
        struct ei_ejson_result res;
        assert_int_equal(
            ei_ejson_encrypt(docs[i], strlen(docs[i]), "u", &s, &res, NULL),
            EI_OK);
        assert_false(res.changed);
        assert_string_equal(res.data, docs[i]);
        ei_ejson_result_fini(&res);
        ei_ejson_sealer_wipe(&s);
    }
    /* the multi-line pre-pass alone is a change */
    static const char ml[] = "{\"_c\":\"a\nb\"}";
    struct ei_ejson_sealer s;
    assert_int_equal(ei_ejson_sealer_init(&s, pk, NULL), 0);
    struct ei_ejson_result res;
    assert_int_equal(ei_ejson_encrypt(ml, strlen(ml), "u", &s, &res, NULL),
                     EI_OK);
    assert_true(res.changed);
    assert_int_equal(res.paths_n, 0);
    assert_string_equal(res.data, "{\"_c\":\"a\\nb\"}");
    ei_ejson_result_fini(&res);
    /* malformed input: an error, no result */
    struct ei_error err;
    memset(&err, 0, sizeof(err));
    assert_int_equal(
        ei_ejson_encrypt("{\"a\":", 5, "bad.ejson", &s, &res, &err),
        EI_BADDATA);
    assert_null(res.data);
    assert_string_equal(err.locator, "bad.ejson:1");
    ei_ejson_sealer_wipe(&s);
}

static void test_collapse(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } rows[] = {
        {"{\"a\":\"x\ny\"}\n", "{\"a\":\"x\\ny\"}\n"},
        {"{\n\"a\\\"\n\":\"\r\"}", "{\n\"a\\\"\\n\":\"\\r\"}"},
        {"{\"a\\\\\":\"\n\"}", "{\"a\\\\\":\"\\n\"}"},
        {"{}", "{}"},
    };
    for (size_t i = 0; i < N_ELEMS(rows); i++) {
        size_t len = strlen(rows[i].in);
        size_t n = ei_ejson_collapse(rows[i].in, len, NULL);
        assert_int_equal(n, strlen(rows[i].out));
        char out[128];
        ei_ejson_collapse(rows[i].in, len, out);
        out[n] = '\0';
        assert_string_equal(out, rows[i].out);
    }
}

static void test_round_trip(void **state)
{
    (void)state;
    unsigned char pk[32], sk[32], wrong_pk[32], wrong_sk[32];
    crypto_box_keypair(pk, sk);
    crypto_box_keypair(wrong_pk, wrong_sk);
    struct ei_ejson_sealer s;
    assert_int_equal(ei_ejson_sealer_init(&s, pk, NULL), 0);
    unsigned char m[300];
    for (size_t len = 0; len <= sizeof(m); len += (len < 40 ? 1 : 37)) {
        randombytes_buf(m, len);
        size_t tl = ei_ejson_token_len(len);
        char *tok = malloc(tl + 1);
        assert_non_null(tok);
        assert_int_equal(ei_ejson_seal(&s, m, len, NULL, tok, tl + 1), 0);
        assert_int_equal(strlen(tok), tl);
        assert_true(ei_ejson_token_shape(tok, tl));
        size_t cap = ei_ejson_plain_max(tl);
        unsigned char *out = malloc(cap);
        assert_non_null(out);
        size_t n;
        assert_int_equal(ei_ejson_decrypt(tok, tl, sk, out, cap, &n),
                         EI_EJSON_TOK_OK);
        assert_int_equal(n, len);
        assert_memory_equal(out, m, len);
        assert_int_equal(ei_ejson_decrypt(tok, tl, wrong_sk, out, cap, &n),
                         EI_EJSON_TOK_DECRYPT);
        /* every single-bit change of the box is detected */
        if (len == 7) {
            for (size_t bit = 0; bit < 8; bit++) {
                char saved = tok[tl - 3];
                tok[tl - 3] = (char)(tok[tl - 3] ^ (1 << (bit % 6)));
                enum ei_ejson_tok r =
                    ei_ejson_decrypt(tok, tl, sk, out, cap, &n);
                assert_true(r == EI_EJSON_TOK_DECRYPT ||
                            r == EI_EJSON_TOK_BOX || r == EI_EJSON_TOK_SHAPE);
                tok[tl - 3] = saved;
            }
        }
        free(out);
        free(tok);
    }
    /* two runs use different encrypter keys; two values different nonces */
    struct ei_ejson_sealer s2;
    assert_int_equal(ei_ejson_sealer_init(&s2, pk, NULL), 0);
    assert_memory_not_equal(s.eph_pk, s2.eph_pk, 32);
    char t1[200], t2[200];
    assert_int_equal(ei_ejson_seal(&s, m, 5, NULL, t1, sizeof(t1)), 0);
    assert_int_equal(ei_ejson_seal(&s, m, 5, NULL, t2, sizeof(t2)), 0);
    assert_memory_equal(t1, t2, 50);
    assert_memory_not_equal(t1 + 50, t2 + 50, 32);
    ei_ejson_sealer_wipe(&s);
    ei_ejson_sealer_wipe(&s2);
    /* an all-zero (low-order) recipient key is refused */
    unsigned char zero[32] = {0};
    assert_int_equal(ei_ejson_sealer_init(&s, zero, NULL), -1);
}

static int setup(void **state)
{
    (void)state;
    return sodium_init() < 0 ? -1 : 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_token_grammar),
        cmocka_unit_test(test_key_hex),
        cmocka_unit_test(test_unquote),
        cmocka_unit_test(test_quote),
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_quirks),
        cmocka_unit_test(test_path_limits),
        cmocka_unit_test(test_walk_syntax),
        cmocka_unit_test(test_walk_depth),
        cmocka_unit_test(test_walk_stop),
        cmocka_unit_test(test_public_key),
        cmocka_unit_test(test_example_file),
        cmocka_unit_test(test_encrypt_preserves),
        cmocka_unit_test(test_encrypt_untouched),
        cmocka_unit_test(test_collapse),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
