/* SPDX-License-Identifier: MIT */
/* Unit tests of the SigV4 module (providers/aws/sigv4.c): the AWS test-suite
   vectors of protocols.md 4.7 byte for byte at every step, and bad input;
   link with -Wl,--wrap=malloc for the allocation-failure test. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "aws/sigv4.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define HEADERS_N    8

/* --- allocation failure through ld --wrap=malloc --- */

void *__real_malloc(size_t n);
void *__wrap_malloc(size_t n);

/* malloc calls that succeed before one fails; -1: never fail */
static long chaos_countdown = -1;

void *__wrap_malloc(size_t n)
{
    if (chaos_countdown == 0)
        return NULL;
    if (chaos_countdown > 0)
        chaos_countdown--;
    return __real_malloc(n);
}

/* --- the suite's common inputs --- */

#define AKID    "AKIDEXAMPLE"
#define SECRET  "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define DATE    "20150830T123600Z"
#define REGION  "us-east-1"
#define EMPTY   "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define STS_PRE "AWS4-HMAC-SHA256\n" DATE "\n20150830/us-east-1/"
#define SUITE_TOKEN                                                            \
    "AQoDYXdzEPT//////////"                                                    \
    "wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPf" \
    "IeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/"                                     \
    "kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU" \
    "9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+"                                         \
    "xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+"                                     \
    "scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr"                                    \
    "4rvx3iSIlTJabIQwj2ICCR/oLxBA=="
#define SM_BODY "{\"SecretId\":\"prod/app/db\"}"
#define SSM_BODY                                                               \
    "{\"Path\":\"/prod/app/\",\"Recursive\":true,\"WithDecryption\":true}"
#define SM_HOST "secretsmanager.us-east-1.amazonaws.com"
#define SM_CREQ_HEAD                                                           \
    "POST\n/\n\ncontent-type:application/x-amz-json-1.1\nhost:" SM_HOST        \
    "\nx-amz-date:" DATE "\n"

/* The keys of the date/region/"service" derivation (protocols.md 4.7). */
#define K_DATE                                                                 \
    "0138c7a6cbd60aa727b2f653a522567439dfb9f3e72b21f9b25941a42f04a7cd"
#define K_REGION                                                               \
    "f33d5808504bf34812e5fade63308b424b244c59189be2a591dd2282c7cb563f"
#define K_SERVICE                                                              \
    "f7fd819348e53789a8474fb1aebea778f5af85c40612e0f064eecd5642c81bc1"
#define K_SIGNING                                                              \
    "938127b5336810ddb6a5d6af445fcac9e371f9ed418ed386b022aed82901be75"

struct vector {
    const char *name;
    const char *method, *path, *query;
    const char *headers[HEADERS_N];
    const char *payload;
    const char *service;
    const char *token; /* NULL: long-term credentials */
    /* expected; NULL: not published for this vector */
    const char *creq;
    const char *signed_headers;
    const char *payload_hash;
    const char *request_hash;
    const char *sts;
    const char *k_date, *k_region, *k_service, *k_signing;
    const char *signature;
    const char *authorization;
};

static const struct vector vectors[] = {
    {.name = "get-vanilla",
     .method = "GET",
     .path = "/",
     .headers = {"Host:example.amazonaws.com", "X-Amz-Date:" DATE},
     .service = "service",
     .creq = "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:" DATE
             "\n\nhost;x-amz-date\n" EMPTY,
     .signed_headers = "host;x-amz-date",
     .payload_hash = EMPTY,
     .request_hash =
         "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
     .sts = STS_PRE "service/aws4_request\n"
                    "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292"
                    "927e63",
     .k_date = K_DATE,
     .k_region = K_REGION,
     .k_service = K_SERVICE,
     .k_signing = K_SIGNING,
     .signature =
         "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
     .authorization =
         "AWS4-HMAC-SHA256 "
         "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
         "SignedHeaders=host;x-amz-date, "
         "Signature="
         "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
    {.name = "post-vanilla",
     .method = "POST",
     .path = "/",
     .headers = {"Host:example.amazonaws.com", "X-Amz-Date:" DATE},
     .service = "service",
     .creq = "POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:" DATE
             "\n\nhost;x-amz-date\n" EMPTY,
     .signed_headers = "host;x-amz-date",
     .payload_hash = EMPTY,
     .request_hash =
         "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
     .sts = STS_PRE "service/aws4_request\n"
                    "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae6"
                    "22fc87",
     .k_date = K_DATE,
     .k_region = K_REGION,
     .k_service = K_SERVICE,
     .k_signing = K_SIGNING,
     .signature =
         "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
    {.name = "get-vanilla-query-order-key-case",
     .method = "GET",
     .path = "/",
     .query = "Param2=value2&Param1=value1",
     .headers = {"Host:example.amazonaws.com", "X-Amz-Date:" DATE},
     .service = "service",
     .creq = "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\n"
             "x-amz-date:" DATE "\n\nhost;x-amz-date\n" EMPTY,
     .signed_headers = "host;x-amz-date",
     .request_hash =
         "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
     .sts = STS_PRE "service/aws4_request\n"
                    "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2"
                    "cf19e0",
     .k_signing = K_SIGNING,
     .signature =
         "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
    {.name = "post-header-key-sort",
     .method = "POST",
     .path = "/",
     .headers = {"Host:example.amazonaws.com", "My-Header1:value1",
                 "X-Amz-Date:" DATE},
     .service = "service",
     .creq = "POST\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\n"
             "x-amz-date:" DATE "\n\nhost;my-header1;x-amz-date\n" EMPTY,
     .signed_headers = "host;my-header1;x-amz-date",
     .request_hash =
         "9368318c2967cf6de74404b30c65a91e8f6253e0a8659d6d5319f1a812f87d65",
     .sts = STS_PRE "service/aws4_request\n"
                    "9368318c2967cf6de74404b30c65a91e8f6253e0a8659d6d5319f1a812"
                    "f87d65",
     .signature =
         "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"},
    {.name = "post-sts-header-before",
     .method = "POST",
     .path = "/",
     .headers = {"Host:example.amazonaws.com", "X-Amz-Date:" DATE,
                 "X-Amz-Security-Token:" SUITE_TOKEN},
     .service = "service",
     .token = SUITE_TOKEN,
     .creq = "POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:" DATE
             "\nx-amz-security-token:" SUITE_TOKEN
             "\n\nhost;x-amz-date;x-amz-security-token\n" EMPTY,
     .signed_headers = "host;x-amz-date;x-amz-security-token",
     .request_hash =
         "c237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6",
     .sts = STS_PRE "service/aws4_request\n"
                    "c237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1"
                    "a882f6",
     .signature =
         "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"},
    {.name = "post-sts-header-after (token not signed)",
     .method = "POST",
     .path = "/",
     .headers = {"Host:example.amazonaws.com", "X-Amz-Date:" DATE},
     .service = "service",
     .token = SUITE_TOKEN,
     .request_hash =
         "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
     .signature =
         "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
    {.name = "iam-documentation-example",
     .method = "GET",
     .path = "/",
     .query = "Action=ListUsers&Version=2010-05-08",
     .headers = {"Content-Type:application/x-www-form-urlencoded; "
                 "charset=utf-8",
                 "Host:iam.amazonaws.com", "X-Amz-Date:" DATE},
     .service = "iam",
     .creq = "GET\n/\nAction=ListUsers&Version=2010-05-08\n"
             "content-type:application/x-www-form-urlencoded; charset=utf-8\n"
             "host:iam.amazonaws.com\nx-amz-date:" DATE
             "\n\ncontent-type;host;x-amz-date\n" EMPTY,
     .signed_headers = "content-type;host;x-amz-date",
     .request_hash =
         "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59",
     .sts = STS_PRE "iam/aws4_request\n"
                    "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b"
                    "7e1a59",
     .k_signing =
         "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9",
     .signature =
         "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"},
    {.name = "secretsmanager-GetSecretValue",
     .method = "POST",
     .path = "/",
     .headers = {"Content-Type: application/x-amz-json-1.1", "Host: " SM_HOST,
                 "X-Amz-Date: " DATE,
                 "X-Amz-Target: secretsmanager.GetSecretValue"},
     .payload = SM_BODY,
     .service = "secretsmanager",
     .creq = SM_CREQ_HEAD
     "x-amz-target:secretsmanager.GetSecretValue\n\n"
     "content-type;host;x-amz-date;x-amz-target\n"
     "01c52a2cc3193e90ffe77680538efc9badd4b8dff5f870c44c4c8ab646a46487",
     .signed_headers = "content-type;host;x-amz-date;x-amz-target",
     .payload_hash =
         "01c52a2cc3193e90ffe77680538efc9badd4b8dff5f870c44c4c8ab646a46487",
     .request_hash =
         "b963781571eaed964a4db148547b0640746e483900e29b9d718d7ce7d4dba36f",
     .sts = STS_PRE "secretsmanager/aws4_request\n"
                    "b963781571eaed964a4db148547b0640746e483900e29b9d718d7ce7d4"
                    "dba36f",
     .k_signing =
         "a8647fdf0a842ccff61df909a34525b9a41242ab8562e430eb0421d125466a37",
     .signature =
         "cd62a923040ad20fa45467945e8d8a4d774372932a1cd3b167ff6ebf18dc762d"},
    {.name = "secretsmanager-GetSecretValue-session-token",
     .method = "POST",
     .path = "/",
     .headers = {"Content-Type: application/x-amz-json-1.1", "Host: " SM_HOST,
                 "X-Amz-Date: " DATE,
                 "X-Amz-Security-Token: FQoGZXIvYXdzEXAMPLETOKEN",
                 "X-Amz-Target: secretsmanager.GetSecretValue"},
     .payload = SM_BODY,
     .service = "secretsmanager",
     .token = "FQoGZXIvYXdzEXAMPLETOKEN",
     .creq = SM_CREQ_HEAD
     "x-amz-security-token:FQoGZXIvYXdzEXAMPLETOKEN\n"
     "x-amz-target:secretsmanager.GetSecretValue\n\n"
     "content-type;host;x-amz-date;x-amz-security-token;x-amz-target\n"
     "01c52a2cc3193e90ffe77680538efc9badd4b8dff5f870c44c4c8ab646a46487",
     .signed_headers =
         "content-type;host;x-amz-date;x-amz-security-token;x-amz-target",
     .request_hash =
         "ea232175c818a4d72f530b9ef7060725d71b98749fef41e6f5862ebc14fc4779",
     .sts = STS_PRE "secretsmanager/aws4_request\n"
                    "ea232175c818a4d72f530b9ef7060725d71b98749fef41e6f5862ebc14"
                    "fc4779",
     .k_signing =
         "a8647fdf0a842ccff61df909a34525b9a41242ab8562e430eb0421d125466a37",
     .signature =
         "6348708e759497048a56b7346f86b6b44900f3b2cea2591021614f6eaddcafe8"},
    {.name = "ssm-GetParametersByPath",
     .method = "POST",
     .path = "/",
     .headers = {"Content-Type: application/x-amz-json-1.1",
                 "Host: ssm.us-east-1.amazonaws.com", "X-Amz-Date: " DATE,
                 "X-Amz-Target: AmazonSSM.GetParametersByPath"},
     .payload = SSM_BODY,
     .service = "ssm",
     .creq = "POST\n/\n\ncontent-type:application/x-amz-json-1.1\n"
             "host:ssm.us-east-1.amazonaws.com\nx-amz-date:" DATE "\n"
             "x-amz-target:AmazonSSM.GetParametersByPath\n\n"
             "content-type;host;x-amz-date;x-amz-target\n"
             "1c7a50e50fb642c4c9ac84267673803862343b10056e74122ad0ee84dcaaefa3",
     .payload_hash =
         "1c7a50e50fb642c4c9ac84267673803862343b10056e74122ad0ee84dcaaefa3",
     .request_hash =
         "47a826acedaa81242d4b3385cb4421e0608fef8b65f40dc2e38eda29cf00411f",
     .sts = STS_PRE "ssm/aws4_request\n"
                    "47a826acedaa81242d4b3385cb4421e0608fef8b65f40dc2e38eda29cf"
                    "00411f",
     .signature =
         "6881aeb32eaff2e61582b286a1f7072599ee1756eb167d5f46c023b3595c699c"},
};

static size_t headers_count(const char *const *h)
{
    size_t n = 0;
    while (n < HEADERS_N && h[n] != NULL)
        n++;
    return n;
}

static void expect_str(const char *vec, const char *step, const char *got,
                       const char *want)
{
    if (want == NULL)
        return;
    if (got == NULL || strcmp(got, want) != 0)
        fail_msg("%s: %s differs:\n got: %s\nwant: %s", vec, step,
                 got != NULL ? got : "(null)", want);
}

static void expect_key(const char *vec, const char *step,
                       const unsigned char *got, const char *want)
{
    if (want == NULL)
        return;
    char hex[EI_SIGV4_HEX_LEN + 1];
    sodium_bin2hex(hex, sizeof(hex), got, EI_SIGV4_KEY_LEN);
    expect_str(vec, step, hex, want);
}

static void run_vector(void **state)
{
    const struct vector *v = *state;
    struct ei_sigv4_request req = {
        .method = v->method,
        .path = v->path,
        .query = v->query,
        .headers = v->headers,
        .headers_n = headers_count(v->headers),
        .payload = v->payload,
        .payload_len = v->payload != NULL ? strlen(v->payload) : 0,
    };
    struct ei_sigv4_creds creds = {AKID, SECRET, v->token};

    /* step 1 on its own */
    char *creq = NULL, *sh = NULL;
    if (ei_sigv4_canonical_request(&req, &creq, &sh) != 0)
        fail_msg("%s: canonical request failed (errno %d)", v->name, errno);
    expect_str(v->name, "canonical request", creq, v->creq);
    expect_str(v->name, "signed headers", sh, v->signed_headers);
    free(creq);
    free(sh);

    /* step 4 on its own */
    struct ei_sigv4_keys keys;
    ei_sigv4_signing_key(SECRET, strlen(SECRET), "20150830", REGION, v->service,
                         &keys);
    expect_key(v->name, "kDate", keys.date, v->k_date);
    expect_key(v->name, "kRegion", keys.region, v->k_region);
    expect_key(v->name, "kService", keys.service, v->k_service);
    expect_key(v->name, "kSigning", keys.signing, v->k_signing);

    /* every step together */
    struct ei_sigv4 s;
    if (ei_sigv4_sign(&req, DATE, REGION, v->service, &creds, &s) != 0)
        fail_msg("%s: sign failed (errno %d)", v->name, errno);
    expect_str(v->name, "canonical request (sign)", s.canonical_request,
               v->creq);
    expect_str(v->name, "signed headers (sign)", s.signed_headers,
               v->signed_headers);
    expect_str(v->name, "payload hash", s.payload_hash,
               v->payload_hash != NULL ? v->payload_hash
               : v->payload == NULL    ? EMPTY
                                       : NULL);
    expect_str(v->name, "canonical request hash", s.request_hash,
               v->request_hash);
    expect_str(v->name, "string to sign", s.string_to_sign, v->sts);
    if (memcmp(&s.keys, &keys, sizeof(keys)) != 0)
        fail_msg("%s: sign derived other keys than signing_key", v->name);
    expect_key(v->name, "kSigning (sign)", s.keys.signing, v->k_signing);
    expect_str(v->name, "signature", s.signature, v->signature);
    expect_str(v->name, "authorization", s.authorization, v->authorization);
    /* the header is always the documented shape around the signature */
    char auth[1024];
    snprintf(auth, sizeof(auth),
             "AWS4-HMAC-SHA256 Credential=" AKID "/20150830/" REGION
             "/%s/aws4_request, SignedHeaders=%s, Signature=%s",
             v->service, s.signed_headers, v->signature);
    expect_str(v->name, "authorization shape", s.authorization, auth);
    ei_sigv4_free(&s);
    sodium_memzero(&keys, sizeof(keys));
}

/* The header builder adds Host, X-Amz-Date and the token itself, and must
   land on the derived vectors' signatures. */
struct build_case {
    const char *name;
    const char *host;
    const char *target;
    const char *body;
    const char *service;
    const char *token;
    const char *want[8]; /* the lines, in order */
};

static const struct build_case builds[] = {
    {"headers: GetSecretValue",
     SM_HOST,
     "X-Amz-Target: secretsmanager.GetSecretValue",
     SM_BODY,
     "secretsmanager",
     NULL,
     {"Host: " SM_HOST, "X-Amz-Date: " DATE,
      "Content-Type: application/x-amz-json-1.1",
      "X-Amz-Target: secretsmanager.GetSecretValue",
      "Authorization: AWS4-HMAC-SHA256 Credential=" AKID
      "/20150830/us-east-1/secretsmanager/aws4_request, "
      "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
      "Signature="
      "cd62a923040ad20fa45467945e8d8a4d774372932a1cd3b167ff6ebf18dc762d"}},
    {"headers: GetSecretValue with a session token",
     SM_HOST,
     "X-Amz-Target: secretsmanager.GetSecretValue",
     SM_BODY,
     "secretsmanager",
     "FQoGZXIvYXdzEXAMPLETOKEN",
     {"Host: " SM_HOST, "X-Amz-Date: " DATE,
      "X-Amz-Security-Token: FQoGZXIvYXdzEXAMPLETOKEN",
      "Content-Type: application/x-amz-json-1.1",
      "X-Amz-Target: secretsmanager.GetSecretValue",
      "Authorization: AWS4-HMAC-SHA256 Credential=" AKID
      "/20150830/us-east-1/secretsmanager/aws4_request, "
      "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;"
      "x-amz-target, "
      "Signature="
      "6348708e759497048a56b7346f86b6b44900f3b2cea2591021614f6eaddcafe8"}},
    {"headers: an empty token is no token",
     SM_HOST,
     "X-Amz-Target: secretsmanager.GetSecretValue",
     SM_BODY,
     "secretsmanager",
     "",
     {"Host: " SM_HOST, "X-Amz-Date: " DATE,
      "Content-Type: application/x-amz-json-1.1",
      "X-Amz-Target: secretsmanager.GetSecretValue",
      "Authorization: AWS4-HMAC-SHA256 Credential=" AKID
      "/20150830/us-east-1/secretsmanager/aws4_request, "
      "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
      "Signature="
      "cd62a923040ad20fa45467945e8d8a4d774372932a1cd3b167ff6ebf18dc762d"}},
    {"headers: GetParametersByPath",
     "ssm.us-east-1.amazonaws.com",
     "X-Amz-Target: AmazonSSM.GetParametersByPath",
     SSM_BODY,
     "ssm",
     NULL,
     {"Host: ssm.us-east-1.amazonaws.com", "X-Amz-Date: " DATE,
      "Content-Type: application/x-amz-json-1.1",
      "X-Amz-Target: AmazonSSM.GetParametersByPath",
      "Authorization: AWS4-HMAC-SHA256 Credential=" AKID
      "/20150830/us-east-1/ssm/aws4_request, "
      "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
      "Signature="
      "6881aeb32eaff2e61582b286a1f7072599ee1756eb167d5f46c023b3595c699c"}},
};

static void run_build(void **state)
{
    const struct build_case *c = *state;
    const char *extra[] = {"Content-Type: application/x-amz-json-1.1",
                           c->target};
    struct ei_sigv4_creds creds = {AKID, SECRET, c->token};
    char **h =
        ei_sigv4_headers("POST", c->host, "/", NULL, extra, 2, c->body,
                         strlen(c->body), DATE, REGION, c->service, &creds);
    if (h == NULL)
        fail_msg("%s: failed (errno %d)", c->name, errno);
    size_t i = 0;
    for (; c->want[i] != NULL; i++)
        expect_str(c->name, "header line", h[i], c->want[i]);
    if (h[i] != NULL)
        fail_msg("%s: extra header line %s", c->name, h[i]);
    ei_sigv4_headers_free(h);
}

/* Percent-encoding. */
struct encode_case {
    const char *name;
    const char *in;
    size_t len; /* 0: strlen */
    bool keep_slash;
    const char *want;
};

static const struct encode_case encodes[] = {
    {"encode: unreserved kept", "AZaz09-_.~", 0, false, "AZaz09-_.~"},
    {"encode: space is %20", "a b", 0, false, "a%20b"},
    {"encode: plus, equals, ampersand", "+=&", 0, false, "%2B%3D%26"},
    {"encode: slash kept in paths", "/a/b", 0, true, "/a/b"},
    {"encode: slash encoded elsewhere", "/a/b", 0, false, "%2Fa%2Fb"},
    {"encode: utf-8 bytes, upper-case hex", "\xc3\xa9", 0, false, "%C3%A9"},
    {"encode: percent itself", "%41", 0, false, "%2541"},
    {"encode: control and NUL", "\x01\x00\x7f", 3, false, "%01%00%7F"},
    {"encode: empty", "", 0, false, ""},
};

static void run_encode(void **state)
{
    const struct encode_case *c = *state;
    size_t len = c->len != 0 ? c->len : strlen(c->in);
    char *got = ei_sigv4_uri_encode(c->in, len, c->keep_slash);
    if (got == NULL)
        fail_msg("%s: out of memory", c->name);
    expect_str(c->name, "encoding", got, c->want);
    free(got);
}

/* Canonical query, path and headers: the lines of the canonical request
   up to the signed-header list. */
struct canon_case {
    const char *name;
    const char *method, *path, *query;
    const char *headers[HEADERS_N];
    const char *want_head; /* the canonical request up to the blank line */
    const char *want_signed;
};

static const struct canon_case canons[] = {
    {"canon: query sorted by name then value",
     "GET",
     "/",
     "b=2&a=2&a=1",
     {"Host:h"},
     "GET\n/\na=1&a=2&b=2\nhost:h\n",
     "host"},
    {"canon: query name without value keeps '='",
     "GET",
     "/",
     "flag&x=",
     {"Host:h"},
     "GET\n/\nflag=&x=\nhost:h\n",
     "host"},
    {"canon: query decoded and encoded again",
     "GET",
     "/",
     "a%20b=c+d&t=%7e&u=%2f",
     {"Host:h"},
     "GET\n/\na%20b=c%2Bd&t=~&u=%2F\nhost:h\n",
     "host"},
    {"canon: empty query parts dropped",
     "GET",
     "/",
     "&&a=1&",
     {"Host:h"},
     "GET\n/\na=1\nhost:h\n",
     "host"},
    {"canon: sorted on encoded names",
     "GET",
     "/",
     "~=1&A=2&a=3&_=4",
     {"Host:h"},
     "GET\n/\nA=2&_=4&a=3&~=1\nhost:h\n",
     "host"},
    {"canon: empty path is /",
     "GET",
     "",
     NULL,
     {"Host:h"},
     "GET\n/\n\nhost:h\n",
     "host"},
    {"canon: path encoded once more",
     "GET",
     "/a b/%41/c~",
     NULL,
     {"Host:h"},
     "GET\n/a%20b/%2541/c~\n\nhost:h\n",
     "host"},
    {"canon: values trimmed and blanks collapsed",
     "POST",
     "/",
     NULL,
     {"Host:h", "My-Header1:    a   b \t c  ", "X:\t"},
     "POST\n/\n\nhost:h\nmy-header1:a b c\nx:\n",
     "host;my-header1;x"},
    {"canon: repeated header joined in order",
     "POST",
     "/",
     NULL,
     {"Host:h", "My-Header1:value4", "my-header1:value1", "MY-HEADER1: value3"},
     "POST\n/\n\nhost:h\nmy-header1:value4,value1,value3\n",
     "host;my-header1"},
    {"canon: names lower-cased and sorted",
     "POST",
     "/",
     NULL,
     {"ZZ:1", "X-Amz-Date:d", "Content-Type:t", "Host:h"},
     "POST\n/\n\ncontent-type:t\nhost:h\nx-amz-date:d\nzz:1\n",
     "content-type;host;x-amz-date;zz"},
    {"canon: no header at all", "GET", "/", NULL, {NULL}, "GET\n/\n\n", ""},
};

static void run_canon(void **state)
{
    const struct canon_case *c = *state;
    struct ei_sigv4_request req = {.method = c->method,
                                   .path = c->path,
                                   .query = c->query,
                                   .headers = c->headers,
                                   .headers_n = headers_count(c->headers)};
    char *creq = NULL, *sh = NULL;
    if (ei_sigv4_canonical_request(&req, &creq, &sh) != 0)
        fail_msg("%s: failed (errno %d)", c->name, errno);
    char want[1024];
    snprintf(want, sizeof(want), "%s\n%s\n" EMPTY, c->want_head,
             c->want_signed);
    expect_str(c->name, "canonical request", creq, want);
    expect_str(c->name, "signed headers", sh, c->want_signed);
    free(creq);
    free(sh);
}

/* Bad input: every one is EINVAL and leaves nothing allocated. */
struct bad_case {
    const char *name;
    const char *method, *path, *query;
    const char *headers[HEADERS_N];
    const char *date, *region, *service;
    const char *akid, *secret;
    bool null_payload_with_len;
};

#define GOOD_HEADERS                                                           \
    {                                                                          \
        "Host:h", "X-Amz-Date:" DATE                                           \
    }

static const struct bad_case bads[] = {
    {"bad: no method", NULL, "/", NULL, GOOD_HEADERS, DATE, REGION, "s", AKID,
     SECRET, false},
    {"bad: empty method", "", "/", NULL, GOOD_HEADERS, DATE, REGION, "s", AKID,
     SECRET, false},
    {"bad: method with a space", "GE T", "/", NULL, GOOD_HEADERS, DATE, REGION,
     "s", AKID, SECRET, false},
    {"bad: relative path", "GET", "a/b", NULL, GOOD_HEADERS, DATE, REGION, "s",
     AKID, SECRET, false},
    {"bad: header without colon",
     "GET",
     "/",
     NULL,
     {"Host h"},
     DATE,
     REGION,
     "s",
     AKID,
     SECRET,
     false},
    {"bad: header with empty name",
     "GET",
     "/",
     NULL,
     {":v"},
     DATE,
     REGION,
     "s",
     AKID,
     SECRET,
     false},
    {"bad: header name with a space",
     "GET",
     "/",
     NULL,
     {"Ho st:h"},
     DATE,
     REGION,
     "s",
     AKID,
     SECRET,
     false},
    {"bad: header value with LF",
     "GET",
     "/",
     NULL,
     {"Host:h\nX:y"},
     DATE,
     REGION,
     "s",
     AKID,
     SECRET,
     false},
    {"bad: header value with CR",
     "GET",
     "/",
     NULL,
     {"Host:h\r"},
     DATE,
     REGION,
     "s",
     AKID,
     SECRET,
     false},
    {"bad: query escape cut short", "GET", "/", "a=%4", GOOD_HEADERS, DATE,
     REGION, "s", AKID, SECRET, false},
    {"bad: query escape not hex", "GET", "/", "a=%zz", GOOD_HEADERS, DATE,
     REGION, "s", AKID, SECRET, false},
    {"bad: query escape at the end", "GET", "/", "a%", GOOD_HEADERS, DATE,
     REGION, "s", AKID, SECRET, false},
    {"bad: date without Z", "GET", "/", NULL, GOOD_HEADERS, "20150830T123600",
     REGION, "s", AKID, SECRET, false},
    {"bad: date with a dash", "GET", "/", NULL, GOOD_HEADERS,
     "2015-0830T123600Z", REGION, "s", AKID, SECRET, false},
    {"bad: date without T", "GET", "/", NULL, GOOD_HEADERS, "20150830X123600Z",
     REGION, "s", AKID, SECRET, false},
    {"bad: no date", "GET", "/", NULL, GOOD_HEADERS, NULL, REGION, "s", AKID,
     SECRET, false},
    {"bad: region with a slash", "GET", "/", NULL, GOOD_HEADERS, DATE,
     "us/east", "s", AKID, SECRET, false},
    {"bad: empty region", "GET", "/", NULL, GOOD_HEADERS, DATE, "", "s", AKID,
     SECRET, false},
    {"bad: upper-case service", "GET", "/", NULL, GOOD_HEADERS, DATE, REGION,
     "SSM", AKID, SECRET, false},
    {"bad: access key with a comma", "GET", "/", NULL, GOOD_HEADERS, DATE,
     REGION, "s", "AKID,X", SECRET, false},
    {"bad: access key with a newline", "GET", "/", NULL, GOOD_HEADERS, DATE,
     REGION, "s", "AKID\n", SECRET, false},
    {"bad: empty access key", "GET", "/", NULL, GOOD_HEADERS, DATE, REGION, "s",
     "", SECRET, false},
    {"bad: no secret key", "GET", "/", NULL, GOOD_HEADERS, DATE, REGION, "s",
     AKID, NULL, false},
    {"bad: payload length without payload", "POST", "/", NULL, GOOD_HEADERS,
     DATE, REGION, "s", AKID, SECRET, true},
};

static void run_bad(void **state)
{
    const struct bad_case *c = *state;
    struct ei_sigv4_request req = {.method = c->method,
                                   .path = c->path,
                                   .query = c->query,
                                   .headers = c->headers,
                                   .headers_n = headers_count(c->headers),
                                   .payload_len =
                                       c->null_payload_with_len ? 3 : 0};
    struct ei_sigv4_creds creds = {c->akid, c->secret, NULL};
    struct ei_sigv4 s;
    memset(&s, 0x5a, sizeof(s));
    errno = 0;
    if (ei_sigv4_sign(&req, c->date, c->region, c->service, &creds, &s) != -1)
        fail_msg("%s: accepted", c->name);
    if (errno != EINVAL)
        fail_msg("%s: errno %d, want EINVAL", c->name, errno);
    if (s.canonical_request != NULL || s.authorization != NULL ||
        s.string_to_sign != NULL || s.signature[0] != '\0')
        fail_msg("%s: output not cleared", c->name);
    ei_sigv4_free(&s);
}

/* The header builder refuses what would break the request. */
struct bad_build_case {
    const char *name;
    const char *host;
    const char *token;
    const char *extra;
    const char *date;
};

static const struct bad_build_case bad_builds[] = {
    {"bad headers: empty host", "", NULL, "X-A: 1", DATE},
    {"bad headers: host with CRLF", "h\r\nX-Evil: 1", NULL, "X-A: 1", DATE},
    {"bad headers: token with LF", "h", "tok\nX-Evil: 1", "X-A: 1", DATE},
    {"bad headers: extra line without colon", "h", NULL, "X-A 1", DATE},
    {"bad headers: extra line with CR", "h", NULL, "X-A: 1\r", DATE},
    {"bad headers: malformed date", "h", NULL, "X-A: 1", "yesterday"},
};

static void run_bad_build(void **state)
{
    const struct bad_build_case *c = *state;
    const char *extra[] = {c->extra};
    struct ei_sigv4_creds creds = {AKID, SECRET, c->token};
    errno = 0;
    char **h = ei_sigv4_headers("POST", c->host, "/", NULL, extra, 1, "{}", 2,
                                c->date, REGION, "ssm", &creds);
    if (h != NULL) {
        ei_sigv4_headers_free(h);
        fail_msg("%s: accepted", c->name);
    }
    if (errno != EINVAL)
        fail_msg("%s: errno %d, want EINVAL", c->name, errno);
}

/* X-Amz-Date from a time. */
struct date_case {
    const char *name;
    time_t t;
    const char *want; /* NULL: refused */
};

static const struct date_case dates[] = {
    {"date: the suite's time", 1440938160, DATE},
    {"date: the epoch", 0, "19700101T000000Z"},
    {"date: leap day", 951782400, "20000229T000000Z"},
    {"date: last second of a year", 1704067199, "20231231T235959Z"},
    {"date: negative refused", -1, NULL},
    {"date: year 10000 refused", (time_t)253402300800LL, NULL},
};

static void run_date(void **state)
{
    const struct date_case *c = *state;
    char out[EI_SIGV4_DATE_LEN + 1] = "";
    int rc = ei_sigv4_amz_date(c->t, out);
    if (c->want == NULL) {
        if (rc != -1)
            fail_msg("%s: accepted (%s)", c->name, out);
        return;
    }
    if (rc != 0)
        fail_msg("%s: refused", c->name);
    expect_str(c->name, "date", out, c->want);
}

/* A secret longer than the HMAC block takes the hashed-key path. */
static void test_long_secret(void **state)
{
    char secret[200];
    memset(secret, 'k', sizeof(secret) - 1);
    secret[sizeof(secret) - 1] = '\0';
    struct ei_sigv4_keys keys;
    ei_sigv4_signing_key(secret, strlen(secret), "20150830", REGION, "service",
                         &keys);
    /* recompute kDate with the plain HMAC of the whole key */
    size_t klen = 4 + strlen(secret);
    unsigned char *k = malloc(klen);
    assert_non_null(k);
    memcpy(k, "AWS4", 4);
    memcpy(k + 4, secret, strlen(secret));
    crypto_auth_hmacsha256_state st;
    unsigned char want[32];
    crypto_auth_hmacsha256_init(&st, k, klen);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)"20150830", 8);
    crypto_auth_hmacsha256_final(&st, want);
    free(k);
    assert_memory_equal(keys.date, want, sizeof(want));
    /* and a different secret gives a different key */
    secret[0] = 'j';
    struct ei_sigv4_keys other;
    ei_sigv4_signing_key(secret, strlen(secret), "20150830", REGION, "service",
                         &other);
    assert_memory_not_equal(keys.date, other.date, sizeof(want));
}

/* Running out of memory at any allocation: -1 with ENOMEM, no leak
   (ASan or valgrind tell), and success once memory suffices. */
static void test_out_of_memory(void **state)
{
    const char *extra[] = {"Content-Type: application/x-amz-json-1.1",
                           "X-Amz-Target: secretsmanager.GetSecretValue"};
    struct ei_sigv4_creds creds = {AKID, SECRET, "FQoGZXIvYXdzEXAMPLETOKEN"};
    long fails = 0;
    for (long n = 0;; n++) {
        chaos_countdown = n;
        errno = 0;
        char **h = ei_sigv4_headers("POST", SM_HOST, "/", "b=1&a=2", extra, 2,
                                    SM_BODY, strlen(SM_BODY), DATE, REGION,
                                    "secretsmanager", &creds);
        chaos_countdown = -1;
        if (h != NULL) {
            ei_sigv4_headers_free(h);
            break;
        }
        if (errno != ENOMEM)
            fail_msg("allocation %ld failed with errno %d", n, errno);
        fails++;
        if (n > 1000)
            fail_msg("never succeeds");
    }
    if (fails < 5)
        fail_msg("only %ld allocations tried", fails);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    static struct CMUnitTest tests[ARRAY_LEN(vectors) + ARRAY_LEN(builds) +
                                   ARRAY_LEN(encodes) + ARRAY_LEN(canons) +
                                   ARRAY_LEN(bads) + ARRAY_LEN(bad_builds) +
                                   ARRAY_LEN(dates) + 2];
    size_t k = 0;
    for (size_t i = 0; i < ARRAY_LEN(vectors); i++)
        tests[k++] = (struct CMUnitTest){vectors[i].name, run_vector, NULL,
                                         NULL, (void *)&vectors[i]};
    for (size_t i = 0; i < ARRAY_LEN(builds); i++)
        tests[k++] = (struct CMUnitTest){builds[i].name, run_build, NULL, NULL,
                                         (void *)&builds[i]};
    for (size_t i = 0; i < ARRAY_LEN(encodes); i++)
        tests[k++] = (struct CMUnitTest){encodes[i].name, run_encode, NULL,
                                         NULL, (void *)&encodes[i]};
    for (size_t i = 0; i < ARRAY_LEN(canons); i++)
        tests[k++] = (struct CMUnitTest){canons[i].name, run_canon, NULL, NULL,
                                         (void *)&canons[i]};
    for (size_t i = 0; i < ARRAY_LEN(bads); i++)
        tests[k++] = (struct CMUnitTest){bads[i].name, run_bad, NULL, NULL,
                                         (void *)&bads[i]};
    for (size_t i = 0; i < ARRAY_LEN(bad_builds); i++)
        tests[k++] = (struct CMUnitTest){bad_builds[i].name, run_bad_build,
                                         NULL, NULL, (void *)&bad_builds[i]};
    for (size_t i = 0; i < ARRAY_LEN(dates); i++)
        tests[k++] = (struct CMUnitTest){dates[i].name, run_date, NULL, NULL,
                                         (void *)&dates[i]};
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_long_secret);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_out_of_memory);
    assert_int_equal(k, ARRAY_LEN(tests));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
