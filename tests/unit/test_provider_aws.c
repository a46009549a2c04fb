/* SPDX-License-Identifier: MIT */
/* Unit tests of the aws-secrets and aws-ssm providers (providers/
   aws_secrets.c, providers/aws_ssm.c) through the fake host's canned HTTP:
   option checks, requests and their signatures, answers, errors,
   throttling and pagination. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include <envinject/provider.h>

#include "aws/sigv4.h"
#include "host.h"

extern const struct ei_provider ei_provider_aws_secrets;
extern const struct ei_provider ei_provider_aws_ssm;

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define OPTS_N       7
#define ENV_N        4
#define REPLIES_N    6
#define ENTRIES_N    6
#define REQS_N       3
#define HAS_N        4
#define DL_MS        5000
#define BIG_BODY     (64 * 1024)

#define AKID     "AKIDEXAMPLE"
#define SK       "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define TOKEN    "FQoGZXIvYXdzEXAMPLETOKEN"
#define CANARY   "EI_CANARY_a3b5"
#define ENDPOINT "endpoint=http://127.0.0.1:4566"
#define HOSTHDR  "127.0.0.1:4566"
#define ENV_KEYS "AWS_ACCESS_KEY_ID=" AKID, "AWS_SECRET_ACCESS_KEY=" SK
#define OPTS     "region=us-east-1", ENDPOINT
#define SM       &ei_provider_aws_secrets
#define SSM      &ei_provider_aws_ssm
#define ARN      "arn:aws:secretsmanager:us-east-1:123456789012:secret:"

#define THROTTLE                                                               \
    {                                                                          \
        400,                                                                   \
            "{\"__type\":\"ThrottlingException\",\"message\":\"Rate "          \
            "exceeded\"}",                                                     \
            0                                                                  \
    }
#define SECRET_JSON(name, ver, string)                                         \
    "{\"ARN\":\"" ARN name "-AbCdEf\",\"Name\":\"" name                        \
    "\",\"VersionId\":\"" ver "\",\"SecretString\":\"" string                  \
    "\",\"VersionStages\":[\"AWSCURRENT\"],\"CreatedDate\":1523477145.713}"
#define AWS_ERROR(code, msg)                                                   \
    "{\"__type\":\"com.amazonaws.secretsmanager#" code "\",\"message\":\"" msg \
    "\"}"

struct reply {
    long status; /* 0 ends */
    const char *body;
    unsigned flags;
};

struct want_entry {
    const char *name; /* NULL ends */
    const char *value;
    const char *locator;
    unsigned flags;
};

struct want_req {
    const char *target; /* NULL ends */
    const char *has[HAS_N];
    const char *lacks;
};

struct prov_case {
    const char *name;
    const struct ei_provider *prov;
    const char *opts[OPTS_N];
    const char *environ[ENV_N];
    const char *arg;
    struct reply replies[REPLIES_N];
    int deadline_ms; /* 0: DL_MS */
    enum ei_status want_configure;
    enum ei_status want;
    const char *want_text;
    const char *want_locator;
    struct want_entry entries[ENTRIES_N];
    struct want_req reqs[REQS_N];
    size_t want_requests; /* 0: not checked */
};

static const struct prov_case cases[] = {
    /* --- aws-secrets: options --- */
    {.name = "sm: secret_id is required",
     .prov = SM,
     .opts = {OPTS},
     .environ = {ENV_KEYS},
     .want_configure = EI_BADCONFIG,
     .want_text = "option secret_id is required"},
    {.name = "sm: empty secret_id",
     .prov = SM,
     .opts = {OPTS, "secret_id="},
     .want_configure = EI_BADCONFIG,
     .want_text = "secret_id 1 is empty"},
    {.name = "sm: secret_id with a control character",
     .prov = SM,
     .opts = {OPTS, "secret_id=a\tb"},
     .want_configure = EI_BADCONFIG},
    {.name = "sm: secret listed twice",
     .prov = SM,
     .opts = {OPTS, "secret_id=a", "secret_id=b", "secret_id=a"},
     .want_configure = EI_BADCONFIG,
     .want_text = "secret_id lists this secret twice",
     .want_locator = "a"},
    {.name = "sm: key_name not a variable name",
     .prov = SM,
     .opts = {OPTS, "secret_id=a", "key_name=1ABC"},
     .want_configure = EI_BADCONFIG,
     .want_locator = "key_name"},
    {.name = "sm: key_name with a dash",
     .prov = SM,
     .opts = {OPTS, "secret_id=a", "key_name=DB-PASS"},
     .want_configure = EI_BADCONFIG},
    {.name = "sm: binary neither refuse nor base64",
     .prov = SM,
     .opts = {OPTS, "secret_id=a", "binary=hex"},
     .want_configure = EI_BADCONFIG,
     .want_text = "binary must be \"refuse\" or \"base64\""},
    {.name = "sm: empty version_stage",
     .prov = SM,
     .opts = {OPTS, "secret_id=a", "version_stage="},
     .want_configure = EI_BADCONFIG,
     .want_locator = "version_stage"},
    {.name = "sm: malformed endpoint",
     .prov = SM,
     .opts = {"region=us-east-1", "secret_id=a", "endpoint=http://h/x"},
     .want_configure = EI_BADCONFIG,
     .want_locator = "endpoint"},
    /* --- aws-secrets: answers --- */
    {.name = "sm: JSON secret flattened",
     .prov = SM,
     .opts = {OPTS, "secret_id=prod/app/db"},
     .environ = {ENV_KEYS},
     .replies = {{200, SECRET_JSON(
                           "prod/app/db", "v1",
                           "{\\\"username\\\":\\\"david\\\",\\\"password\\\":"
                           "\\\"" CANARY "\\\",\\\"port\\\":5432,"
                           "\\\"opts\\\":{\\\"tls\\\":true}}")}},
     .entries = {{"username", "david", "prod/app/db@v1", 0},
                 {"password", CANARY, "prod/app/db@v1", 0},
                 {"port", "5432", "prod/app/db@v1", 0},
                 {"opts/tls", "true", "prod/app/db@v1", 0}},
     .reqs = {{"secretsmanager.GetSecretValue",
               {"{\"SecretId\":\"prod/app/db\"}"},
               "VersionStage"}},
     .want_requests = 1},
    {.name = "sm: JSON after blanks",
     .prov = SM,
     .opts = {OPTS, "secret_id=s"},
     .environ = {ENV_KEYS},
     .replies = {{200, SECRET_JSON("s", "v", " \\n\\t{\\\"a\\\":\\\"1\\\"}")}},
     .entries = {{"a", "1", "s@v", 0}}},
    {.name = "sm: ARG as the secret id",
     .prov = SM,
     .opts = {OPTS},
     .environ = {ENV_KEYS},
     .arg = "prod/api-key",
     .replies = {{200, SECRET_JSON("prod/api-key", "v9", CANARY)}},
     .entries = {{"api-key", CANARY, "prod/api-key@v9", 0}},
     .reqs = {{"secretsmanager.GetSecretValue",
               {"\"SecretId\":\"prod/api-key\""}}}},
    {.name = "sm: plain string named by key_name",
     .prov = SM,
     .opts = {OPTS, "secret_id=prod/db", "key_name=DB_PASSWORD"},
     .environ = {ENV_KEYS},
     .replies = {{200, SECRET_JSON("prod/db", "v", CANARY)}},
     .entries = {{"DB_PASSWORD", CANARY, "prod/db@v", EI_ENTRY_VERBATIM}}},
    {.name = "sm: JSON that is not an object is a string",
     .prov = SM,
     .opts = {OPTS, "secret_id=list"},
     .environ = {ENV_KEYS},
     .replies = {{200, SECRET_JSON("list", "v", "[1,2]")}},
     .entries = {{"list", "[1,2]", "list@v", 0}}},
    {.name = "sm: no VersionId",
     .prov = SM,
     .opts = {OPTS, "secret_id=s"},
     .environ = {ENV_KEYS},
     .replies = {{200, "{\"Name\":\"s\",\"SecretString\":\"x\"}"}},
     .entries = {{"s", "x", "s", 0}}},
    {.name = "sm: name ending in '/' needs key_name",
     .prov = SM,
     .opts = {OPTS, "secret_id=dir/"},
     .environ = {ENV_KEYS},
     .replies = {{200, "{\"Name\":\"dir/\",\"SecretString\":\"x\"}"}},
     .want = EI_BADCONFIG,
     .want_text = "the secret's name ends with '/'"},
    {.name = "sm: malformed JSON object",
     .prov = SM,
     .opts = {OPTS, "secret_id=s"},
     .environ = {ENV_KEYS},
     .replies = {{200, SECRET_JSON("s", "v", "{\\\"a\\\": \\\"" CANARY)}},
     .want = EI_BADDATA},
    {.name = "sm: a line break in the answer's name stays out of messages",
     .prov = SM,
     .opts = {OPTS, "secret_id=s"},
     .environ = {ENV_KEYS},
     .replies = {{200, "{\"Name\":\"a\\nb\",\"SecretString\":\"{bad\"}"}},
     .want = EI_BADDATA,
     .want_locator = "a?b:1"},
    {.name = "sm: duplicate key in the JSON",
     .prov = SM,
     .opts = {OPTS, "secret_id=s"},
     .environ = {ENV_KEYS},
     .replies = {{200, SECRET_JSON("s", "v",
                                   "{\\\"a\\\":\\\"" CANARY
                                   "\\\",\\\"a\\\":\\\"" CANARY "\\\"}")}},
     .want = EI_BADDATA},
    {.name = "sm: binary refused",
     .prov = SM,
     .opts = {OPTS, "secret_id=bin"},
     .environ = {ENV_KEYS},
     .replies = {{200, "{\"Name\":\"bin\",\"SecretBinary\":\"AAEC\"}"}},
     .want = EI_BADCONFIG,
     .want_text = "the secret is binary: set binary = \"base64\"",
     .want_locator = "bin"},
    {.name = "sm: binary as base64",
     .prov = SM,
     .opts = {OPTS, "secret_id=certs/key.der", "binary=base64"},
     .environ = {ENV_KEYS},
     .replies = {{200, "{\"Name\":\"certs/key.der\",\"VersionId\":\"b\","
                       "\"SecretBinary\":\"AAECAw==\"}"}},
     .entries = {{"key.der", "AAECAw==", "certs/key.der@b", 0}}},
    {.name = "sm: binary not base64",
     .prov = SM,
     .opts = {OPTS, "secret_id=bin", "binary=base64"},
     .environ = {ENV_KEYS},
     .replies = {{200, "{\"Name\":\"bin\",\"SecretBinary\":\"A*==\"}"}},
     .want = EI_BADDATA,
     .want_text = "malformed SecretBinary (4 bytes, not base64)"},
    {.name = "sm: neither string nor binary",
     .prov = SM,
     .opts = {OPTS, "secret_id=s"},
     .environ = {ENV_KEYS},
     .replies = {{200, "{\"Name\":\"s\"}"}},
     .want = EI_BADDATA,
     .want_text = "the answer holds neither SecretString nor SecretBinary"},
    {.name = "sm: answer not JSON",
     .prov = SM,
     .opts = {OPTS, "secret_id=s"},
     .environ = {ENV_KEYS},
     .replies = {{200, "<html>" CANARY}},
     .want = EI_BADDATA,
     .want_text = "malformed GetSecretValue answer (JSON error at line 1"},
    {.name = "sm: answer not an object",
     .prov = SM,
     .opts = {OPTS, "secret_id=s"},
     .environ = {ENV_KEYS},
     .replies = {{200, "[\"" CANARY "\"]"}},
     .want = EI_BADDATA,
     .want_text = "malformed GetSecretValue answer (not a JSON object)"},
    {.name = "sm: version_stage sent",
     .prov = SM,
     .opts = {OPTS, "secret_id=s", "version_stage=AWSPREVIOUS"},
     .environ = {ENV_KEYS},
     .replies = {{200, SECRET_JSON("s", "old", "x")}},
     .entries = {{"s", "x", "s@old", 0}},
     .reqs = {{"secretsmanager.GetSecretValue",
               {"\"SecretId\":\"s\"", "\"VersionStage\":\"AWSPREVIOUS\""}}}},
    {.name = "sm: session token sent and signed",
     .prov = SM,
     .opts = {OPTS, "secret_id=s"},
     .environ = {ENV_KEYS, "AWS_SESSION_TOKEN=" TOKEN},
     .replies = {{200, SECRET_JSON("s", "v", "x")}},
     .entries = {{"s", "x", "s@v", 0}}},
    /* --- aws-secrets: errors --- */
    {.name = "sm: not found",
     .prov = SM,
     .opts = {OPTS, "secret_id=prod/missing"},
     .environ = {ENV_KEYS},
     .replies = {{400, AWS_ERROR("ResourceNotFoundException",
                                 "Secrets Manager can't find the specified "
                                 "secret.")}},
     .want = EI_NOTFOUND,
     .want_text = "not found (ResourceNotFoundException, HTTP 400)",
     .want_locator = "prod/missing"},
    {.name = "sm: access denied names the source",
     .prov = SM,
     .opts = {OPTS, "secret_id=s"},
     .environ = {ENV_KEYS},
     .replies = {{400, AWS_ERROR("AccessDeniedException",
                                 "User: arn:aws:iam::1:user/t is not "
                                 "authorized\\n")}},
     .want = EI_DENIED,
     .want_text = "access denied (AccessDeniedException, HTTP 400): User: "
                  "arn:aws:iam::1:user/t is not authorized?; credentials "
                  "from the environment (AWS_ACCESS_KEY_ID)",
     .want_locator = "s"},
    {.name = "sm: expired session token",
     .prov = SM,
     .opts = {OPTS, "secret_id=s"},
     .environ = {ENV_KEYS, "AWS_SESSION_TOKEN=" TOKEN},
     .replies = {{400, "{\"__type\":\"ExpiredTokenException\",\"message\":"
                       "\"The security token included in the request is "
                       "expired\"}"}},
     .want = EI_DENIED,
     .want_text = "session token expired (ExpiredTokenException, HTTP 400); "
                  "credentials from the environment (AWS_ACCESS_KEY_ID, "
                  "AWS_SESSION_TOKEN)"},
    {.name = "sm: signature rejected, message not shown",
     .prov = SM,
     .opts = {OPTS, "secret_id=s"},
     .environ = {ENV_KEYS},
     .replies = {{400, "{\"__type\":\"InvalidSignatureException\","
                       "\"message\":\"Authorization=" CANARY "\"}"}},
     .want = EI_DENIED,
     .want_text = "signature rejected (InvalidSignatureException, HTTP 400); "
                  "credentials from"},
    {.name = "sm: unknown access key",
     .prov = SM,
     .opts = {OPTS, "secret_id=s"},
     .environ = {ENV_KEYS},
     .replies = {{400, "{\"__type\":\"UnrecognizedClientException\"}"}},
     .want = EI_DENIED,
     .want_text = "access key or session token unknown"},
    {.name = "sm: validation error",
     .prov = SM,
     .opts = {OPTS, "secret_id=s"},
     .environ = {ENV_KEYS},
     .replies = {{400, "{\"__type\":\"ValidationException\",\"Message\":"
                       "\"bad id\"}"}},
     .want = EI_BADCONFIG,
     .want_text = "request refused as invalid (ValidationException, HTTP "
                  "400): bad id"},
    {.name = "sm: unknown error code",
     .prov = SM,
     .opts = {OPTS, "secret_id=s"},
     .environ = {ENV_KEYS},
     .replies = {{400, "{\"__type\":\"WeirdException\"}"}},
     .want = EI_BADDATA,
     .want_text = "unexpected error (WeirdException, HTTP 400)"},
    {.name = "sm: 403 without a code",
     .prov = SM,
     .opts = {OPTS, "secret_id=s"},
     .environ = {ENV_KEYS},
     .replies = {{403, "Forbidden"}},
     .want = EI_DENIED,
     .want_text = "request refused (HTTP 403); credentials from"},
    {.name = "sm: 5xx until the engine gives up",
     .prov = SM,
     .opts = {OPTS, "secret_id=s"},
     .environ = {ENV_KEYS},
     .replies = {{500, "{\"__type\":\"InternalServiceError\"}"}, {503, ""}},
     .want = EI_UNAVAILABLE,
     .want_text = "HTTP 503 after 2 attempts"},
    {.name = "sm: throttled, then answered",
     .prov = SM,
     .opts = {OPTS, "secret_id=s"},
     .environ = {ENV_KEYS},
     .replies = {THROTTLE, THROTTLE, {200, SECRET_JSON("s", "v", "x")}},
     .entries = {{"s", "x", "s@v", 0}},
     .want_requests = 3},
    {.name = "sm: no credentials at all",
     .prov = SM,
     .opts = {OPTS, "secret_id=s"},
     .environ = {"AWS_EC2_METADATA_DISABLED=true", "HOME=/nonexistent"},
     .want = EI_DENIED,
     .want_text = "no AWS credentials",
     .want_requests = 0},
    /* --- aws-secrets: several ids --- */
    {.name = "sm: batch answered out of order",
     .prov = SM,
     .opts = {OPTS, "secret_id=a", "secret_id=b", "secret_id=" ARN "c"},
     .environ = {ENV_KEYS},
     .replies =
         {{200,
           "{\"SecretValues\":[" SECRET_JSON("c", "vc", "{\\\"k\\\":\\\"from-c\\\"}") "," SECRET_JSON(
               "b", "vb",
               "{\\\"k\\\":\\\"from-b\\\"}") "," SECRET_JSON("a", "va",
                                                             "plain-a") "],"
                                                                        "\"Erro"
                                                                        "rs\":["
                                                                        "]}"}},
     .entries = {{"a", "plain-a", "a@va", 0},
                 {"k", "from-b", "b@vb", 0},
                 {"k", "from-c", "c@vc", 0}},
     .reqs = {{"secretsmanager.BatchGetSecretValue",
               {"\"SecretIdList\":[\"a\",\"b\",\"" ARN "c\"]"},
               "NextToken"}},
     .want_requests = 1},
    {.name = "sm: batch over two pages",
     .prov = SM,
     .opts = {OPTS, "secret_id=a", "secret_id=b"},
     .environ = {ENV_KEYS},
     .replies = {{200, "{\"SecretValues\":[" SECRET_JSON(
                           "a", "1", "x") "],\"NextToken\":\"page-2\"}"},
                 {200, "{\"SecretValues\":[],\"NextToken\":\"page-3\"}"},
                 {200, "{\"SecretValues\":[" SECRET_JSON("b", "2", "y") "]}"}},
     .entries = {{"a", "x", "a@1", 0}, {"b", "y", "b@2", 0}},
     .reqs = {{"secretsmanager.BatchGetSecretValue",
               {"\"SecretIdList\""},
               "NextToken"},
              {"secretsmanager.BatchGetSecretValue",
               {"\"NextToken\":\"page-2\""}},
              {"secretsmanager.BatchGetSecretValue",
               {"\"NextToken\":\"page-3\""}}},
     .want_requests = 3},
    {.name = "sm: batch with a missing secret",
     .prov = SM,
     .opts = {OPTS, "secret_id=a", "secret_id=gone"},
     .environ = {ENV_KEYS},
     .replies = {{200, "{\"SecretValues\":[" SECRET_JSON(
                           "a", "1", "x") "],\"Errors\":[{\"SecretId\":"
                                          "\"gone\",\"ErrorCode\":"
                                          "\"ResourceNotFoundException\","
                                          "\"Message\":\"no\"}]}"}},
     .want = EI_NOTFOUND,
     .want_text = "not found (ResourceNotFoundException)",
     .want_locator = "gone"},
    {.name = "sm: batch with a denied secret",
     .prov = SM,
     .opts = {OPTS, "secret_id=a", "secret_id=b"},
     .environ = {ENV_KEYS},
     .replies = {{200, "{\"SecretValues\":[],\"Errors\":[{\"SecretId\":\"b\","
                       "\"ErrorCode\":\"AccessDeniedException\",\"Message\":"
                       "\"not for you\"},{\"SecretId\":\"a\",\"ErrorCode\":"
                       "\"ResourceNotFoundException\"}]}"}},
     .want = EI_NOTFOUND,
     .want_locator = "a"},
    {.name = "sm: batch error code cleaned",
     .prov = SM,
     .opts = {OPTS, "secret_id=a", "secret_id=b"},
     .environ = {ENV_KEYS},
     .replies = {{200, "{\"Errors\":[{\"SecretId\":\"a\",\"ErrorCode\":"
                       "\"Bad Code\\n\"}]}"}},
     .want = EI_BADDATA,
     .want_text = "unexpected error (unknown error)",
     .want_locator = "a"},
    {.name = "sm: batch answers nothing for a secret",
     .prov = SM,
     .opts = {OPTS, "secret_id=a", "secret_id=b"},
     .environ = {ENV_KEYS},
     .replies = {{200, "{\"SecretValues\":[" SECRET_JSON("a", "1", "x") "]}"}},
     .want = EI_BADDATA,
     .want_text = "BatchGetSecretValue answered nothing for this secret",
     .want_locator = "b"},
    {.name = "sm: batch answer of the wrong shape",
     .prov = SM,
     .opts = {OPTS, "secret_id=a", "secret_id=b"},
     .environ = {ENV_KEYS},
     .replies = {{200, "{\"SecretValues\":{}}"}},
     .want = EI_BADDATA,
     .want_text = "malformed BatchGetSecretValue answer"},
    {.name = "sm: batch call refused",
     .prov = SM,
     .opts = {OPTS, "secret_id=a", "secret_id=b"},
     .environ = {ENV_KEYS},
     .replies = {{400, AWS_ERROR("AccessDeniedException", "no batch")}},
     .want = EI_DENIED,
     .want_locator = "a and 1 more"},
    {.name = "sm: version_stage asks one by one",
     .prov = SM,
     .opts = {OPTS, "secret_id=a", "secret_id=b", "version_stage=AWSPENDING"},
     .environ = {ENV_KEYS},
     .replies = {{200, SECRET_JSON("a", "1", "x")},
                 {200, SECRET_JSON("b", "2", "y")}},
     .entries = {{"a", "x", "a@1", 0}, {"b", "y", "b@2", 0}},
     .reqs = {{"secretsmanager.GetSecretValue",
               {"\"SecretId\":\"a\"", "\"VersionStage\":\"AWSPENDING\""}},
              {"secretsmanager.GetSecretValue", {"\"SecretId\":\"b\""}}},
     .want_requests = 2},
    {.name = "sm: key_name cannot name two plain secrets",
     .prov = SM,
     .opts = {OPTS, "secret_id=a", "secret_id=b", "key_name=K"},
     .environ = {ENV_KEYS},
     .replies = {{200, "{\"SecretValues\":[" SECRET_JSON(
                           "a", "1", "x") "," SECRET_JSON("b", "2", "y") "]}"}},
     .want = EI_BADCONFIG,
     .want_text = "key_name names one variable, but this secret and a both are "
                  "plain strings",
     .want_locator = "b"},
    /* --- aws-ssm: options --- */
    {.name = "ssm: path is required",
     .prov = SSM,
     .opts = {OPTS},
     .want_configure = EI_BADCONFIG,
     .want_text = "option path is required"},
    {.name = "ssm: path must start with '/'",
     .prov = SSM,
     .opts = {OPTS, "path=prod/app"},
     .want_configure = EI_BADCONFIG,
     .want_locator = "path"},
    {.name = "ssm: path with '//'",
     .prov = SSM,
     .opts = {OPTS, "path=/prod//app"},
     .want_configure = EI_BADCONFIG},
    {.name = "ssm: path with a blank",
     .prov = SSM,
     .opts = {OPTS, "path=/prod app"},
     .want_configure = EI_BADCONFIG},
    {.name = "ssm: recursive not a boolean",
     .prov = SSM,
     .opts = {OPTS, "path=/p", "recursive=sometimes"},
     .want_configure = EI_BADCONFIG},
    /* --- aws-ssm: answers --- */
    {.name = "ssm: types and names",
     .prov = SSM,
     .opts = {OPTS, "path=/prod/app/"},
     .environ = {ENV_KEYS},
     .replies = {{200, "{\"Parameters\":[{\"Name\":\"/prod/app/db-host\","
                       "\"Type\":\"String\",\"Value\":\"db\",\"Version\":1},"
                       "{\"Name\":\"/prod/app/db.password\",\"Type\":"
                       "\"SecureString\",\"Value\":\"" CANARY
                       "\",\"Version\":7},{\"Name\":\"/prod/app/hosts\","
                       "\"Type\":\"StringList\",\"Value\":\"a,b\","
                       "\"Version\":3},{\"Name\":\"/prod/app/odd\","
                       "\"Type\":\"Future\",\"Value\":\"o\"}]}"}},
     .entries = {{"db-host", "db", "/prod/app/db-host:1", EI_ENTRY_PLAIN},
                 {"db.password", CANARY, "/prod/app/db.password:7",
                  EI_ENTRY_SECRET},
                 {"hosts", "a,b", "/prod/app/hosts:3", EI_ENTRY_PLAIN},
                 {"odd", "o", "/prod/app/odd", 0}},
     .reqs = {{"AmazonSSM.GetParametersByPath",
               {"\"Path\":\"/prod/app\"", "\"Recursive\":false",
                "\"WithDecryption\":true", "\"MaxResults\":10"},
               "NextToken"}},
     .want_requests = 1},
    {.name = "ssm: recursive, no decryption, nested names",
     .prov = SSM,
     .opts = {OPTS, "path=/p", "recursive=true", "with_decryption=false"},
     .environ = {ENV_KEYS},
     .replies = {{200, "{\"Parameters\":[{\"Name\":\"/p/db/main/host\","
                       "\"Type\":\"String\",\"Value\":\"h\",\"Version\":2}]}"}},
     .entries = {{"db/main/host", "h", "/p/db/main/host:2", EI_ENTRY_PLAIN}},
     .reqs = {{"AmazonSSM.GetParametersByPath",
               {"\"Recursive\":true", "\"WithDecryption\":false"}}}},
    {.name = "ssm: ARG as the path",
     .prov = SSM,
     .opts = {OPTS},
     .environ = {ENV_KEYS},
     .arg = "/from/arg",
     .replies = {{200, "{\"Parameters\":[]}"}},
     .reqs = {{"AmazonSSM.GetParametersByPath", {"\"Path\":\"/from/arg\""}}}},
    {.name = "ssm: root path",
     .prov = SSM,
     .opts = {OPTS, "path=/", "recursive=yes"},
     .environ = {ENV_KEYS},
     .replies = {{200, "{\"Parameters\":[{\"Name\":\"/a/b\",\"Type\":"
                       "\"String\",\"Value\":\"1\"},{\"Name\":\"top\","
                       "\"Type\":\"String\",\"Value\":\"2\"}]}"}},
     .entries = {{"a/b", "1", "/a/b", EI_ENTRY_PLAIN},
                 {"top", "2", "top", EI_ENTRY_PLAIN}},
     .reqs = {{"AmazonSSM.GetParametersByPath", {"\"Path\":\"/\""}}}},
    {.name = "ssm: pages, empty ones included",
     .prov = SSM,
     .opts = {OPTS, "path=/p"},
     .environ = {ENV_KEYS},
     .replies = {{200, "{\"Parameters\":[],\"NextToken\":\"t1\"}"},
                 {200, "{\"Parameters\":[{\"Name\":\"/p/a\",\"Type\":"
                       "\"String\",\"Value\":\"1\"}],\"NextToken\":\"t2\"}"},
                 {200, "{\"Parameters\":[{\"Name\":\"/p/b\",\"Type\":"
                       "\"String\",\"Value\":\"2\"}],\"NextToken\":null}"}},
     .entries = {{"a", "1", "/p/a", EI_ENTRY_PLAIN},
                 {"b", "2", "/p/b", EI_ENTRY_PLAIN}},
     .reqs = {{"AmazonSSM.GetParametersByPath",
               {"\"Path\":\"/p\""},
               "NextToken"},
              {"AmazonSSM.GetParametersByPath", {"\"NextToken\":\"t1\""}},
              {"AmazonSSM.GetParametersByPath", {"\"NextToken\":\"t2\""}}},
     .want_requests = 3},
    {.name = "ssm: nothing under the path",
     .prov = SSM,
     .opts = {OPTS, "path=/empty"},
     .environ = {ENV_KEYS},
     .replies = {{200, "{}"}},
     .want_requests = 1},
    {.name = "ssm: parameter outside the path",
     .prov = SSM,
     .opts = {OPTS, "path=/p"},
     .environ = {ENV_KEYS},
     .replies = {{200, "{\"Parameters\":[{\"Name\":\"/px/a\",\"Type\":"
                       "\"SecureString\",\"Value\":\"" CANARY "\"}]}"}},
     .want = EI_BADDATA,
     .want_text = "the answer holds a parameter outside the path (/px/a)"},
    /* found by the fuzzer: a server's control bytes never reach a message */
    {.name = "ssm: parameter outside the path, with a newline",
     .prov = SSM,
     .opts = {OPTS, "path=/p"},
     .environ = {ENV_KEYS},
     .replies = {{200, "{\"Parameters\":[{\"Name\":\"/px\\nx/a\",\"Type\":"
                       "\"String\",\"Value\":\"v\"}]}"}},
     .want = EI_BADDATA,
     .want_text = "the answer holds a parameter outside the path (/px?x/a)"},
    {.name = "ssm: the same NextToken twice",
     .prov = SSM,
     .opts = {OPTS, "path=/p"},
     .environ = {ENV_KEYS},
     .replies = {{200, "{\"Parameters\":[],\"NextToken\":\"t\"}"},
                 {200, "{\"Parameters\":[],\"NextToken\":\"t\"}"}},
     .want = EI_BADDATA,
     .want_text = "GetParametersByPath answered the same NextToken twice"},
    {.name = "ssm: parameter without a value",
     .prov = SSM,
     .opts = {OPTS, "path=/p"},
     .environ = {ENV_KEYS},
     .replies = {{200, "{\"Parameters\":[{\"Name\":\"/p/a\"}]}"}},
     .want = EI_BADDATA,
     .want_text = "a parameter without Name or Value"},
    {.name = "ssm: Parameters not a list",
     .prov = SSM,
     .opts = {OPTS, "path=/p"},
     .environ = {ENV_KEYS},
     .replies = {{200, "{\"Parameters\":\"" CANARY "\"}"}},
     .want = EI_BADDATA,
     .want_text = "Parameters or NextToken of the wrong type"},
    {.name = "ssm: too deep",
     .prov = SSM,
     .opts = {OPTS, "path=/p", "recursive=true"},
     .environ = {ENV_KEYS},
     .replies = {{200, "{\"Parameters\":[{\"Name\":\"/p/1/2/3/4/5/6/7/8/9/a/"
                       "b/c/d/e/f/g\",\"Value\":\"x\"}]}"}},
     .want = EI_BADDATA,
     .want_text = "parameter name deeper than 15 levels"},
    {.name = "ssm: access denied names the path",
     .prov = SSM,
     .opts = {OPTS, "path=/secret/area"},
     .environ = {ENV_KEYS},
     .replies = {{400, "{\"__type\":\"AccessDeniedException\",\"message\":"
                       "\"denied\"}"}},
     .want = EI_DENIED,
     .want_text = "access denied (AccessDeniedException, HTTP 400): denied; "
                  "credentials from the environment",
     .want_locator = "/secret/area"},
    {.name = "ssm: throttled, then answered",
     .prov = SSM,
     .opts = {OPTS, "path=/p"},
     .environ = {ENV_KEYS},
     .replies = {THROTTLE,
                 {200, "{\"Parameters\":[{\"Name\":\"/p/a\","
                       "\"Type\":\"String\",\"Value\":\"1\"}]}"}},
     .entries = {{"a", "1", "/p/a", EI_ENTRY_PLAIN}},
     .want_requests = 2},
    {.name = "ssm: invalid next token",
     .prov = SSM,
     .opts = {OPTS, "path=/p"},
     .environ = {ENV_KEYS},
     .replies = {{200, "{\"Parameters\":[],\"NextToken\":\"t\"}"},
                 {400, "{\"__type\":\"InvalidNextToken\"}"}},
     .want = EI_BADDATA,
     .want_text = "unexpected error (InvalidNextToken, HTTP 400)"},
};

/* ---- helpers ---- */

static void fail_if_canary(const char *cname, const char *what, const char *s)
{
    if (s != NULL && strstr(s, CANARY) != NULL)
        fail_msg("%s: the canary shows in %s", cname, what);
}

/* The value of the env entry name in environ, or NULL. */
static const char *env_of(const char *const *environ, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < ENV_N && environ[i] != NULL; i++)
        if (strncmp(environ[i], name, n) == 0 && environ[i][n] == '=')
            return environ[i] + n + 1;
    return NULL;
}

/* Every service request carries a signature that a second run of the
   signer, on the recorded request, agrees with (the vectors test the
   signer itself, and the fake server checks with its own code). */
static void check_signature(const char *cname,
                            const struct fake_http_request *r,
                            const char *token)
{
    const char *target = fake_http_header(r, "X-Amz-Target");
    const char *date = fake_http_header(r, "X-Amz-Date");
    const char *auth = fake_http_header(r, "Authorization");
    if (target == NULL || date == NULL || auth == NULL)
        fail_msg("%s: request without X-Amz-Target, X-Amz-Date or "
                 "Authorization",
                 cname);
    const char *host = fake_http_header(r, "Host");
    if (host == NULL || strcmp(host, HOSTHDR) != 0)
        fail_msg("%s: Host header %s", cname, host ? host : "(none)");
    const char *ct = fake_http_header(r, "Content-Type");
    if (ct == NULL || strcmp(ct, "application/x-amz-json-1.1") != 0)
        fail_msg("%s: Content-Type %s", cname, ct ? ct : "(none)");
    const char *tok = fake_http_header(r, "X-Amz-Security-Token");
    if ((token == NULL) != (tok == NULL) ||
        (token != NULL && strcmp(token, tok) != 0))
        fail_msg("%s: X-Amz-Security-Token %s", cname, tok ? tok : "(none)");
    const char *signed_lines[16];
    size_t n = 0;
    for (size_t i = 0; i < r->headers_n && n < 16; i++)
        if (strncasecmp(r->headers[i], "Authorization:", 14) != 0)
            signed_lines[n++] = r->headers[i];
    struct ei_sigv4_request req = {"POST", r->path, NULL,       signed_lines,
                                   n,      r->body, r->body_len};
    struct ei_sigv4_creds creds = {AKID, SK, token};
    const char *service =
        strncmp(target, "AmazonSSM.", 10) == 0 ? "ssm" : "secretsmanager";
    struct ei_sigv4 s;
    if (ei_sigv4_sign(&req, date, "us-east-1", service, &creds, &s) != 0)
        fail_msg("%s: cannot re-sign the request", cname);
    bool same = strcmp(s.authorization, auth) == 0;
    ei_sigv4_free(&s);
    if (!same)
        fail_msg("%s: Authorization differs from a fresh signature: %s", cname,
                 auth);
    if (strstr(auth, "SignedHeaders=content-type;host;x-amz-date;") == NULL ||
        (token != NULL && strstr(auth, "x-amz-security-token") == NULL))
        fail_msg("%s: unexpected signed headers in %s", cname, auth);
}

static void check_entries(const struct prov_case *c, const struct fake_sink *fs)
{
    size_t want_n = 0;
    while (want_n < ENTRIES_N && c->entries[want_n].name != NULL)
        want_n++;
    if (fs->n != want_n)
        fail_msg("%s: %zu entries, want %zu", c->name, fs->n, want_n);
    for (size_t i = 0; i < want_n; i++) {
        const struct want_entry *w = &c->entries[i];
        const struct fake_entry *e = &fs->entries[i];
        if (strcmp(e->name, w->name) != 0 || strcmp(e->value, w->value) != 0 ||
            e->locator == NULL || strcmp(e->locator, w->locator) != 0 ||
            e->flags != w->flags)
            fail_msg("%s: entry %zu is %s=%s (%s, flags %u), want %s=%s (%s, "
                     "flags %u)",
                     c->name, i + 1, e->name, e->value,
                     e->locator ? e->locator : "-", e->flags, w->name, w->value,
                     w->locator, w->flags);
    }
}

static void check_requests(const struct prov_case *c, struct fake_host *fh)
{
    size_t n = 0;
    const struct fake_http_request *r = fake_host_http_requests(fh, &n);
    if (c->want_requests != 0 && n != c->want_requests)
        fail_msg("%s: %zu requests, want %zu", c->name, n, c->want_requests);
    const char *token = env_of(c->environ, "AWS_SESSION_TOKEN");
    for (size_t i = 0; i < n; i++) {
        if (strcmp(r[i].method, "POST") != 0 || strcmp(r[i].path, "/") != 0 ||
            strcmp(r[i].endpoint, "http://127.0.0.1:4566") != 0)
            fail_msg("%s: request %zu is %s %s%s", c->name, i + 1, r[i].method,
                     r[i].endpoint, r[i].path);
        check_signature(c->name, &r[i], token);
    }
    for (size_t i = 0; i < REQS_N && c->reqs[i].target != NULL; i++) {
        const struct want_req *w = &c->reqs[i];
        if (i >= n)
            fail_msg("%s: request %zu not made", c->name, i + 1);
        const char *t = fake_http_header(&r[i], "X-Amz-Target");
        if (t == NULL || strcmp(t, w->target) != 0)
            fail_msg("%s: request %zu targets %s", c->name, i + 1,
                     t ? t : "(none)");
        for (size_t k = 0; k < HAS_N && w->has[k] != NULL; k++)
            if (r[i].body == NULL || strstr(r[i].body, w->has[k]) == NULL)
                fail_msg("%s: request %zu body %s lacks %s", c->name, i + 1,
                         r[i].body ? r[i].body : "(none)", w->has[k]);
        if (w->lacks != NULL && r[i].body != NULL &&
            strstr(r[i].body, w->lacks) != NULL)
            fail_msg("%s: request %zu body %s has %s", c->name, i + 1,
                     r[i].body, w->lacks);
    }
}

static void run_case(void **state)
{
    const struct prov_case *c = *state;
    struct fake_host *fh = fake_host_new(c->opts, c->environ, NULL);
    assert_non_null(fh);
    if (c->arg != NULL)
        fake_host_set_arg(fh, c->arg);
    for (size_t i = 0; i < REPLIES_N && c->replies[i].status != 0; i++)
        assert_int_equal(fake_host_http_push(fh, c->replies[i].status,
                                             c->replies[i].body,
                                             c->replies[i].flags),
                         0);
    const struct ei_host *h = fake_host_host(fh);
    struct ei_error err = {0};
    void *state_p = NULL;
    enum ei_status st = c->prov->configure(h, &state_p, &err);
    size_t n_req = 0;
    fake_host_http_requests(fh, &n_req);
    if (fake_host_reads(fh) != 0 || n_req != 0)
        fail_msg("%s: configure did I/O", c->name);
    if (st != c->want_configure)
        fail_msg("%s: configure gave %d, want %d (%s: %s)", c->name, (int)st,
                 (int)c->want_configure, err.locator, err.text);
    struct fake_sink fs;
    fake_sink_init(&fs);
    if (st == EI_OK) {
        if (fake_host_unused(fh) != NULL)
            fail_msg("%s: option %s not read", c->name, fake_host_unused(fh));
        struct ei_deadline dl;
        fake_deadline(&dl, c->deadline_ms != 0 ? c->deadline_ms : DL_MS);
        st = c->prov->fetch(state_p, &fs.sink, &dl, &err);
        if (st != c->want)
            fail_msg("%s: fetch gave %d, want %d (%s: %s)", c->name, (int)st,
                     (int)c->want, err.locator, err.text);
    } else if (state_p != NULL) {
        fail_msg("%s: state left after a failed configure", c->name);
    }
    if (st == EI_OK) {
        check_entries(c, &fs);
    } else {
        if (err.status != st)
            fail_msg("%s: err.status %d, returned %d", c->name, (int)err.status,
                     (int)st);
        if (c->want_text != NULL && strstr(err.text, c->want_text) == NULL)
            fail_msg("%s: error text \"%s\" lacks \"%s\"", c->name, err.text,
                     c->want_text);
        if (c->want_locator != NULL && strcmp(err.locator, c->want_locator))
            fail_msg("%s: locator \"%s\", want \"%s\"", c->name, err.locator,
                     c->want_locator);
    }
    fail_if_canary(c->name, "the error text", err.text);
    fail_if_canary(c->name, "the locator", err.locator);
    fail_if_canary(c->name, "the log", fake_host_log(fh));
    check_requests(c, fh);
    fake_sink_free(&fs);
    c->prov->destroy(state_p);
    fake_host_free(fh);
}

/* ---- generated cases ---- */

/* A provider configured with opts and the usual keys, or a failure. */
static void *configured(const struct ei_provider *p, struct fake_host *fh)
{
    void *st = NULL;
    struct ei_error err = {0};
    if (p->configure(fake_host_host(fh), &st, &err) != EI_OK)
        fail_msg("configure failed: %s", err.text);
    return st;
}

/* 1,000 parameters over 100 pages: every one arrives, in order, each
   page signed on its own. */
static void test_ssm_thousand(void **state)
{
    const char *opts[] = {OPTS, "path=/bulk", NULL};
    const char *env[] = {ENV_KEYS, NULL};
    struct fake_host *fh = fake_host_new(opts, env, NULL);
    assert_non_null(fh);
    char *body = malloc(BIG_BODY);
    assert_non_null(body);
    for (int page = 0; page < 100; page++) {
        size_t o = (size_t)snprintf(body, BIG_BODY, "{\"Parameters\":[");
        for (int i = 0; i < 10; i++) {
            int k = page * 10 + i;
            o += (size_t)snprintf(body + o, BIG_BODY - o,
                                  "%s{\"Name\":\"/bulk/p%04d\",\"Type\":"
                                  "\"%s\",\"Value\":\"v%d\",\"Version\":1}",
                                  i ? "," : "", k,
                                  k % 2 ? "SecureString" : "String", k);
        }
        if (page < 99)
            o += (size_t)snprintf(body + o, BIG_BODY - o,
                                  "],\"NextToken\":\"n%d\"}", page + 1);
        else
            o += (size_t)snprintf(body + o, BIG_BODY - o, "]}");
        assert_int_equal(fake_host_http_push(fh, 200, body, 0), 0);
    }
    free(body);
    void *st = configured(SSM, fh);
    struct fake_sink fs;
    fake_sink_init(&fs);
    struct ei_deadline dl;
    fake_deadline(&dl, DL_MS);
    struct ei_error err = {0};
    assert_int_equal(ei_provider_aws_ssm.fetch(st, &fs.sink, &dl, &err), EI_OK);
    assert_int_equal(fs.n, 1000);
    for (size_t k = 0; k < 1000; k++) {
        char name[16], value[16];
        snprintf(name, sizeof(name), "p%04zu", k);
        snprintf(value, sizeof(value), "v%zu", k);
        assert_string_equal(fs.entries[k].name, name);
        assert_string_equal(fs.entries[k].value, value);
        assert_int_equal(fs.entries[k].flags,
                         k % 2 ? EI_ENTRY_SECRET : EI_ENTRY_PLAIN);
    }
    size_t n = 0;
    const struct fake_http_request *r = fake_host_http_requests(fh, &n);
    assert_int_equal(n, 100);
    for (size_t i = 0; i < n; i++) {
        check_signature("ssm thousand", &r[i], NULL);
        char tok[48];
        snprintf(tok, sizeof(tok), "\"NextToken\":\"n%zu\"", i);
        if ((i > 0) != (strstr(r[i].body, tok) != NULL))
            fail_msg("page %zu: body %s", i + 1, r[i].body);
    }
    assert_int_equal(fake_host_http_pending(fh), 0);
    fake_sink_free(&fs);
    ei_provider_aws_ssm.destroy(st);
    fake_host_free(fh);
}

/* 25 secret ids: two BatchGetSecretValue calls of 20 and 5. */
static void test_sm_batches_of_twenty(void **state)
{
    const char *opts[OPTS_N + 25 + 1] = {OPTS};
    char ids[25][16];
    for (int i = 0; i < 25; i++) {
        snprintf(ids[i], sizeof(ids[i]), "secret_id=s%02d", i);
        opts[2 + i] = ids[i];
    }
    const char *env[] = {ENV_KEYS, NULL};
    struct fake_host *fh = fake_host_new(opts, env, NULL);
    assert_non_null(fh);
    char *body = malloc(BIG_BODY);
    assert_non_null(body);
    for (int part = 0; part < 2; part++) {
        size_t o = (size_t)snprintf(body, BIG_BODY, "{\"SecretValues\":[");
        int from = part * 20, to = part ? 25 : 20;
        /* answered backwards, as AWS may */
        for (int i = to - 1; i >= from; i--)
            o += (size_t)snprintf(body + o, BIG_BODY - o,
                                  "%s{\"Name\":\"s%02d\",\"SecretString\":"
                                  "\"{\\\"K%02d\\\":\\\"%d\\\"}\"}",
                                  i == to - 1 ? "" : ",", i, i, i);
        snprintf(body + o, BIG_BODY - o, "]}");
        assert_int_equal(fake_host_http_push(fh, 200, body, 0), 0);
    }
    free(body);
    void *st = configured(SM, fh);
    struct fake_sink fs;
    fake_sink_init(&fs);
    struct ei_deadline dl;
    fake_deadline(&dl, DL_MS);
    struct ei_error err = {0};
    assert_int_equal(ei_provider_aws_secrets.fetch(st, &fs.sink, &dl, &err),
                     EI_OK);
    assert_int_equal(fs.n, 25);
    for (int i = 0; i < 25; i++) {
        char name[8];
        snprintf(name, sizeof(name), "K%02d", i);
        assert_string_equal(fs.entries[i].name, name);
    }
    size_t n = 0;
    const struct fake_http_request *r = fake_host_http_requests(fh, &n);
    assert_int_equal(n, 2);
    assert_non_null(strstr(r[0].body, "\"s00\""));
    assert_non_null(strstr(r[0].body, "\"s19\""));
    assert_null(strstr(r[0].body, "\"s20\""));
    assert_non_null(strstr(r[1].body, "[\"s20\",\"s21\",\"s22\",\"s23\","
                                      "\"s24\"]"));
    fake_sink_free(&fs);
    ei_provider_aws_secrets.destroy(st);
    fake_host_free(fh);
}

/* Throttled until the deadline: 69, after some back-off, never a reply
   past the deadline, and nothing emitted. */
static void test_throttled_until_deadline(void **state)
{
    const char *opts[] = {OPTS, "secret_id=s", NULL};
    const char *env[] = {ENV_KEYS, NULL};
    struct fake_host *fh = fake_host_new(opts, env, NULL);
    assert_non_null(fh);
    const struct reply t = THROTTLE;
    for (int i = 0; i < 200; i++)
        assert_int_equal(fake_host_http_push(fh, t.status, t.body, 0), 0);
    void *st = configured(SM, fh);
    struct fake_sink fs;
    fake_sink_init(&fs);
    struct ei_deadline dl;
    fake_deadline(&dl, 400);
    struct ei_error err = {0};
    assert_int_equal(ei_provider_aws_secrets.fetch(st, &fs.sink, &dl, &err),
                     EI_UNAVAILABLE);
    assert_non_null(
        strstr(err.text, "throttled (ThrottlingException) until the timeout"));
    assert_string_equal(err.locator, "s");
    size_t n = 0;
    fake_host_http_requests(fh, &n);
    /* back-off: far fewer attempts than replies, but more than one */
    if (n < 2 || n > 60)
        fail_msg("%zu attempts in 400 ms", n);
    assert_int_equal(fs.n, 0);
    fake_sink_free(&fs);
    ei_provider_aws_secrets.destroy(st);
    fake_host_free(fh);
}

/* A sink that fails stops the fetch at once with its status. */
static void test_sink_failure(void **state)
{
    const char *opts[] = {OPTS, "path=/p", NULL};
    const char *env[] = {ENV_KEYS, NULL};
    struct fake_host *fh = fake_host_new(opts, env, NULL);
    assert_non_null(fh);
    assert_int_equal(
        fake_host_http_push(fh, 200,
                            "{\"Parameters\":[{\"Name\":\"/p/a\",\"Value\":"
                            "\"1\"},{\"Name\":\"/p/b\",\"Value\":\"2\"},"
                            "{\"Name\":\"/p/c\",\"Value\":\"3\"}],"
                            "\"NextToken\":\"more\"}",
                            0),
        0);
    void *st = configured(SSM, fh);
    struct fake_sink fs;
    fake_sink_init(&fs);
    fs.fail_at = 2;
    struct ei_deadline dl;
    fake_deadline(&dl, DL_MS);
    struct ei_error err = {0};
    assert_int_equal(ei_provider_aws_ssm.fetch(st, &fs.sink, &dl, &err),
                     EI_INTERNAL);
    assert_int_equal(fs.emits, 2);
    size_t n = 0;
    fake_host_http_requests(fh, &n);
    assert_int_equal(n, 1);
    fake_sink_free(&fs);
    ei_provider_aws_ssm.destroy(st);
    fake_host_free(fh);
}

/* ref+awsssm://prod/db/pw: GetParameter for "/prod/db/pw", decrypted,
   signed; the value secret whatever its type; an answer about another
   parameter and a missing one are refused. */
static void test_ssm_lookup(void **state)
{
    const char *opts[] = {OPTS, "path=/p", NULL};
    const char *env[] = {ENV_KEYS, NULL};
    struct fake_host *fh = fake_host_new(opts, env, NULL);
    assert_non_null(fh);
    assert_int_equal(
        fake_host_http_push(fh, 200,
                            "{\"Parameter\":{\"Name\":\"/prod/db/pw\","
                            "\"Type\":\"SecureString\",\"Value\":"
                            "\"s3cret\",\"Version\":4}}",
                            0),
        0);
    assert_int_equal(
        fake_host_http_push(fh, 200,
                            "{\"Parameter\":{\"Name\":\"/other\","
                            "\"Type\":\"String\",\"Value\":\"x\"}}",
                            0),
        0);
    assert_int_equal(
        fake_host_http_push(fh, 400,
                            "{\"__type\":\"ParameterNotFound\","
                            "\"message\":\"\"}",
                            0),
        0);
    void *st = configured(SSM, fh);
    struct fake_sink fs;
    fake_sink_init(&fs);
    struct ei_deadline dl;
    fake_deadline(&dl, DL_MS);
    struct ei_error err = {0};
    assert_int_equal(ei_provider_aws_ssm.lookup(st, "ref+aws-ssm://prod/db/pw",
                                                &fs.sink, &dl, &err),
                     EI_OK);
    assert_int_equal(fs.n, 1);
    assert_string_equal(fs.entries[0].value, "s3cret");
    assert_string_equal(fs.entries[0].locator, "/prod/db/pw:4");
    assert_int_equal(fs.entries[0].flags, EI_ENTRY_SECRET);
    size_t n = 0;
    const struct fake_http_request *r = fake_host_http_requests(fh, &n);
    assert_int_equal(n, 1);
    assert_string_equal(fake_http_header(&r[0], "X-Amz-Target"),
                        "AmazonSSM.GetParameter");
    assert_string_equal(r[0].body,
                        "{\"Name\":\"/prod/db/pw\",\"WithDecryption\":true}");
    check_signature("ssm lookup", &r[0], NULL);
    assert_int_equal(ei_provider_aws_ssm.lookup(st, "ref+aws-ssm:///prod/db/pw",
                                                &fs.sink, &dl, &err),
                     EI_BADDATA);
    assert_non_null(strstr(err.text, "answered another parameter"));
    assert_int_equal(ei_provider_aws_ssm.lookup(st, "ref+aws-ssm://nope",
                                                &fs.sink, &dl, &err),
                     EI_NOTFOUND);
    assert_int_equal(ei_provider_aws_ssm.lookup(st, "ref+aws-ssm://a//b",
                                                &fs.sink, &dl, &err),
                     EI_BADDATA);
    assert_int_equal(ei_provider_aws_ssm.lookup(st, "ref+aws-ssm://a?b=c",
                                                &fs.sink, &dl, &err),
                     EI_BADDATA);
    assert_int_equal(fs.n, 1);
    fake_host_http_requests(fh, &n);
    assert_int_equal(n, 3);
    fake_sink_free(&fs);
    ei_provider_aws_ssm.destroy(st);
    fake_host_free(fh);
}

static void test_descriptors(void **state)
{
    assert_string_equal(ei_provider_aws_secrets.name, "aws-secrets");
    assert_string_equal(ei_provider_aws_secrets.arg_option, "secret_id");
    assert_int_equal(ei_provider_aws_secrets.flags,
                     EI_PROV_REMOTE | EI_PROV_SECRET);
    assert_string_equal(ei_provider_aws_ssm.name, "aws-ssm");
    assert_string_equal(ei_provider_aws_ssm.arg_option, "path");
    assert_int_equal(ei_provider_aws_ssm.flags,
                     EI_PROV_REMOTE | EI_PROV_SECRET);
    ei_provider_aws_secrets.destroy(NULL);
    ei_provider_aws_ssm.destroy(NULL);
}

/* A layer made for references (ref+aws-secrets://, ref+aws-ssm://) names
   its secrets in them: no secret_id or path needed, a path given still
   checked; any other layer needs them. */
static void test_references_only(void **state)
{
    (void)state;
    static const struct fake_configure_row rows[] = {
        {"sm-refs-only-without-secret-id",
         true,
         {OPTS, NULL},
         {ENV_KEYS, NULL},
         EI_OK,
         NULL},
        {"sm-secret-id-required-otherwise",
         false,
         {OPTS, NULL},
         {ENV_KEYS, NULL},
         EI_BADCONFIG,
         "option secret_id is required"},
    };
    char why[512];
    const char *bad = fake_configure_rows(
        SM, rows, sizeof rows / sizeof rows[0], why, sizeof why);
    if (bad != NULL)
        fail_msg("%s", bad);
    static const struct fake_configure_row ssm_rows[] = {
        {"ssm-refs-only-without-path",
         true,
         {OPTS, NULL},
         {ENV_KEYS, NULL},
         EI_OK,
         NULL},
        {"ssm-refs-only-path-still-checked",
         true,
         {OPTS, "path=p"},
         {ENV_KEYS, NULL},
         EI_BADCONFIG,
         "path must start with '/'"},
        {"ssm-path-required-otherwise",
         false,
         {OPTS, NULL},
         {ENV_KEYS, NULL},
         EI_BADCONFIG,
         "option path is required"},
    };
    bad = fake_configure_rows(
        SSM, ssm_rows, sizeof ssm_rows / sizeof ssm_rows[0], why, sizeof why);
    if (bad != NULL)
        fail_msg("%s", bad);
}

int main(void)
{
    static struct CMUnitTest tests[ARRAY_LEN(cases) + 7];
    size_t k = 0;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        tests[k++] = (struct CMUnitTest){cases[i].name, run_case, NULL, NULL,
                                         (void *)&cases[i]};
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_ssm_thousand);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_sm_batches_of_twenty);
    tests[k++] =
        (struct CMUnitTest)cmocka_unit_test(test_throttled_until_deadline);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_sink_failure);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_ssm_lookup);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_descriptors);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_references_only);
    assert_int_equal(k, ARRAY_LEN(tests));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
