/* SPDX-License-Identifier: MIT */
/* Unit tests of the AWS region, endpoint and credential chain
   (providers/aws/creds.c) through the fake host and its canned HTTP, and
   of the parsers it uses: shared files, error codes, credential
   documents. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include <envinject/provider.h>

#include "aws/creds.h"
#include "host.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define OPTS_N       4
#define ENV_N        10
#define FILES_N      3
#define REPLIES_N    4
#define REQS_N       4
#define HDRS_N       3
#define PATH_SIZE    512
#define DL_MS        5000

#define AKID   "AKIDEXAMPLE"
#define SK     "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define AKID2  "AKIDFROMFILE"
#define SK2    "fileSecretKey/EXAMPLE+KEY"
#define CANARY "EI_CANARY_c4ed5"
#define REGION "REGION=us-east-1"
#define ECS_DOC                                                                \
    "{\"AccessKeyId\":\"ASIAECS\",\"SecretAccessKey\":\"ecsSecret\","          \
    "\"Token\":\"ecsToken\",\"Expiration\":\"2099-01-01T00:00:00Z\"}"
#define IMDS_DOC                                                               \
    "{\"Code\":\"Success\",\"LastUpdated\":\"2024-01-01T00:00:00Z\","          \
    "\"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"ASIAIMDS\","                      \
    "\"SecretAccessKey\":\"imdsSecret\",\"Token\":\"imdsToken\","              \
    "\"Expiration\":\"2099-01-01T00:00:00Z\"}"

static const struct ei_aws_service svc = {"secretsmanager", "secretsmanager.",
                                          "AWS_ENDPOINT_URL_SECRETS_MANAGER"};

struct file {
    const char *path; /* relative to the case's folder; NULL ends */
    const char *content;
};

struct reply {
    long status; /* 0 ends the list */
    const char *body;
    unsigned flags;
};

/* One expected request: header lines "Name: value" must be there exactly,
   "!Name" must be absent. */
struct want_req {
    const char *method; /* NULL ends the list */
    const char *endpoint;
    const char *path;
    const char *headers[HDRS_N];
};

struct creds_case {
    const char *name;
    const char *opts[OPTS_N];
    const char *environ[ENV_N]; /* "%D" stands for the case's folder */
    struct file files[FILES_N];
    struct reply replies[REPLIES_N];
    enum ei_status want_open; /* of ei_aws_open */
    enum ei_status want;      /* of ei_aws_resolve */
    const char *want_akid, *want_sk, *want_token;
    const char *want_source; /* a part of the source text */
    const char *want_region;
    const char *want_endpoint;
    const char *want_text; /* a part of the error text */
    const char *want_locator;
    struct want_req reqs[REQS_N];
};

static const struct creds_case cases[] = {
    {.name = "env: long-term keys",
     .opts = {"region=us-east-1"},
     .environ = {"AWS_ACCESS_KEY_ID=" AKID, "AWS_SECRET_ACCESS_KEY=" SK},
     .want_akid = AKID,
     .want_sk = SK,
     .want_source = "the environment (AWS_ACCESS_KEY_ID)",
     .want_region = "us-east-1",
     .want_endpoint = "https://secretsmanager.us-east-1.amazonaws.com"},
    {.name = "env: session token",
     .opts = {"region=us-east-1"},
     .environ = {"AWS_ACCESS_KEY_ID=" AKID, "AWS_SECRET_ACCESS_KEY=" SK,
                 "AWS_SESSION_TOKEN=" CANARY},
     .want_akid = AKID,
     .want_sk = SK,
     .want_token = CANARY,
     .want_source = "AWS_SESSION_TOKEN"},
    {.name = "env: legacy AWS_SECURITY_TOKEN",
     .opts = {"region=us-east-1"},
     .environ = {"AWS_ACCESS_KEY_ID=" AKID, "AWS_SECRET_ACCESS_KEY=" SK,
                 "AWS_SECURITY_TOKEN=legacy"},
     .want_akid = AKID,
     .want_token = "legacy"},
    {.name = "env: key id without secret key",
     .opts = {"region=us-east-1"},
     .environ = {"AWS_ACCESS_KEY_ID=" AKID, "AWS_EC2_METADATA_DISABLED=true"},
     .want = EI_DENIED,
     .want_text = "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"},
    {.name = "env: secret key without key id",
     .opts = {"region=us-east-1"},
     .environ = {"AWS_SECRET_ACCESS_KEY=" CANARY},
     .want = EI_DENIED,
     .want_text = "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"},
    {.name = "env: malformed key id",
     .opts = {"region=us-east-1"},
     .environ = {"AWS_ACCESS_KEY_ID=AKID/" CANARY,
                 "AWS_SECRET_ACCESS_KEY=" CANARY},
     .want = EI_DENIED,
     .want_text = "malformed credentials in the environment"},
    {.name = "env: secret key with a blank",
     .opts = {"region=us-east-1"},
     .environ = {"AWS_ACCESS_KEY_ID=" AKID,
                 "AWS_SECRET_ACCESS_KEY=two " CANARY},
     .want = EI_DENIED,
     .want_text = "malformed credentials in the environment"},
    {.name = "env: empty variables are unset",
     .opts = {"region=us-east-1"},
     .environ = {"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "HOME=%D",
                 "AWS_EC2_METADATA_DISABLED=TRUE"},
     .want = EI_DENIED,
     .want_text = "no AWS credentials"},
    {.name = "file: default profile",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D"},
     .files = {{".aws/credentials",
                "# comment\n[other]\naws_access_key_id = WRONG\n"
                "aws_secret_access_key = wrong\n\n[default]\n"
                "aws_access_key_id = " AKID2 "\n"
                "aws_secret_access_key=" SK2 "\r\n"}},
     .want_akid = AKID2,
     .want_sk = SK2,
     .want_source = "the shared credentials file %D/.aws/credentials "
                    "(profile default)"},
    {.name = "file: AWS_PROFILE, token, keys in any case",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_PROFILE=dev"},
     .files =
         {{".aws/credentials",
           "[default]\naws_access_key_id=WRONG\naws_secret_access_key="
           "wrong\n[ dev ]\n  ; indented comment\nAWS_Access_Key_Id : " AKID2
           "\naws_secret_access_key =\t" SK2 "\naws_session_token = tok\n"
           "aws_session_token = tok2\n"}},
     .want_akid = AKID2,
     .want_sk = SK2,
     .want_token = "tok2",
     .want_source = "(profile dev)"},
    {.name = "file: AWS_SHARED_CREDENTIALS_FILE with ~",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_SHARED_CREDENTIALS_FILE=~/creds.ini"},
     .files = {{"creds.ini", "[default]\naws_access_key_id=" AKID2
                             "\naws_secret_access_key=" SK2 "\n"}},
     .want_akid = AKID2,
     .want_source = "%D/creds.ini"},
    {.name = "file: config file profile",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_PROFILE=dev"},
     .files = {{".aws/config",
                "[dev]\naws_access_key_id=WRONG\naws_secret_access_key=x\n"
                "[profile   dev]\naws_access_key_id=" AKID2
                "\naws_secret_access_key=" SK2 "\ns3 =\n"
                "  aws_access_key_id = NESTED\n"}},
     .want_akid = AKID2,
     .want_sk = SK2,
     .want_source = "the shared config file %D/.aws/config (profile dev)"},
    {.name = "file: credentials file before config file",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D"},
     .files = {{".aws/config", "[default]\naws_access_key_id=CONFIG\n"
                               "aws_secret_access_key=x\n"},
               {".aws/credentials", "[default]\naws_access_key_id=" AKID2
                                    "\naws_secret_access_key=" SK2 "\n"}},
     .want_akid = AKID2},
    {.name = "file: region from the config file",
     .environ = {"HOME=%D", "AWS_ACCESS_KEY_ID=" AKID,
                 "AWS_SECRET_ACCESS_KEY=" SK, "AWS_PROFILE=dev"},
     .files = {{".aws/config", "[default]\nregion=us-west-2\n"
                               "[profile dev]\nregion = eu-west-1\n"}},
     .want_akid = AKID,
     .want_region = "eu-west-1",
     .want_endpoint = "https://secretsmanager.eu-west-1.amazonaws.com"},
    {.name = "file: malformed region in the config file",
     .environ = {"HOME=%D", "AWS_ACCESS_KEY_ID=" AKID,
                 "AWS_SECRET_ACCESS_KEY=" SK},
     .files = {{".aws/config", "[default]\nregion=Mars 1\n"}},
     .want = EI_BADCONFIG,
     .want_text = "profile default: region must be letters, digits and '-'"},
    {.name = "file: no region anywhere",
     .environ = {"HOME=%D", "AWS_ACCESS_KEY_ID=" AKID,
                 "AWS_SECRET_ACCESS_KEY=" SK},
     .want = EI_BADCONFIG,
     .want_text = "no region: set the layer's region, AWS_REGION or "
                  "AWS_DEFAULT_REGION"},
    {.name = "file: AWS_PROFILE names no profile",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_PROFILE=missing"},
     .files = {{".aws/credentials", "[default]\naws_access_key_id=" AKID2
                                    "\naws_secret_access_key=" SK2 "\n"}},
     .want = EI_BADCONFIG,
     .want_text = "profile missing is in neither %D/.aws/credentials nor "
                  "%D/.aws/config",
     .want_locator = "AWS_PROFILE"},
    {.name = "file: profile option passes over the environment",
     .opts = {"region=us-east-1", "profile=dev"},
     .environ = {"HOME=%D", "AWS_ACCESS_KEY_ID=" AKID,
                 "AWS_SECRET_ACCESS_KEY=" SK},
     .files = {{".aws/credentials", "[dev]\naws_access_key_id=" AKID2
                                    "\naws_secret_access_key=" SK2 "\n"}},
     .want_akid = AKID2,
     .want_source = "(profile dev)"},
    {.name = "file: profile option without credentials stops there",
     .opts = {"region=us-east-1", "profile=dev"},
     .environ = {"HOME=%D",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1/c"},
     .files = {{".aws/config", "[profile dev]\nregion=us-east-1\n"}},
     .want = EI_DENIED,
     .want_text = "no credentials in profile dev",
     .want_locator = "profile"},
    {.name = "file: role_arn is not supported",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_PROFILE=assume"},
     .files = {{".aws/config",
                "[profile assume]\nrole_arn=arn:aws:iam::1:role/r\n"
                "source_profile=default\n"}},
     .want = EI_DENIED,
     .want_text = "profile assume uses role_arn, which envinject does not "
                  "support",
     .want_locator = "%D/.aws/config"},
    {.name = "file: half a key pair",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D"},
     .files = {{".aws/credentials",
                "[default]\naws_access_key_id=" AKID2 "\n"}},
     .want = EI_DENIED,
     .want_text = "profile default has aws_access_key_id but not "
                  "aws_secret_access_key"},
    {.name = "file: malformed key id",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D"},
     .files = {{".aws/credentials", "[default]\naws_access_key_id=AK ID\n"
                                    "aws_secret_access_key=" CANARY "\n"}},
     .want = EI_DENIED,
     .want_text = "profile default: malformed credentials"},
    {.name = "file: a folder where the file should be",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_SHARED_CREDENTIALS_FILE=%D"},
     .want = EI_IOERROR},
    {.name = "ecs: relative URI",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/"
                 "abc-123"},
     .replies = {{200, ECS_DOC}},
     .want_akid = "ASIAECS",
     .want_sk = "ecsSecret",
     .want_token = "ecsToken",
     .want_source = "the container endpoint http://169.254.170.2 "
                    "(AWS_CONTAINER_CREDENTIALS_RELATIVE_URI)",
     .reqs = {{"GET",
               "http://169.254.170.2",
               "/v2/credentials/abc-123",
               {"Accept: application/json", "!Authorization"}}}},
    {.name = "ecs: full URI with a token",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:8080/"
                 "creds?id=1",
                 "AWS_CONTAINER_AUTHORIZATION_TOKEN=Basic " CANARY},
     .replies = {{200, ECS_DOC}},
     .want_akid = "ASIAECS",
     .want_source = "http://127.0.0.1:8080 "
                    "(AWS_CONTAINER_CREDENTIALS_FULL_URI)",
     .reqs = {{"GET",
               "http://127.0.0.1:8080",
               "/creds?id=1",
               {"Authorization: Basic " CANARY}}}},
    {.name = "ecs: token file before token variable, newline dropped",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://localhost/c",
                 "AWS_CONTAINER_AUTHORIZATION_TOKEN=from-variable",
                 "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=%D/token"},
     .files = {{"token", "from-file\n"}},
     .replies = {{200, ECS_DOC}},
     .want_akid = "ASIAECS",
     .reqs = {{"GET", "http://localhost", "/c", {"Authorization: from-file"}}}},
    {.name = "ecs: https to any host",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_CONTAINER_CREDENTIALS_FULL_URI=https://"
                            "creds.example.com/x"},
     .replies = {{200, ECS_DOC}},
     .want_akid = "ASIAECS",
     .reqs = {{"GET", "https://creds.example.com", "/x", {NULL}}}},
    {.name = "ecs: EKS pod identity address",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://"
                            "169.254.170.23/v1/credentials"},
     .replies = {{200, ECS_DOC}},
     .want_akid = "ASIAECS"},
    {.name = "ecs: plain http elsewhere refused",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://"
                            "10.0.0.1/creds"},
     .want = EI_BADCONFIG,
     .want_text = "plain http is only allowed to loopback",
     .want_locator = "AWS_CONTAINER_CREDENTIALS_FULL_URI"},
    {.name = "ecs: not a URL",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_CONTAINER_CREDENTIALS_FULL_URI=file:///x"},
     .want = EI_BADCONFIG,
     .want_text = "not an http:// or https:// URL"},
    {.name = "ecs: relative URI without '/'",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=v2/x"},
     .want = EI_BADCONFIG,
     .want_text = "the relative URI must start with '/'"},
    {.name = "ecs: relative URI with a blank",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/a b"},
     .want = EI_BADCONFIG,
     .want_text = "the URI has a blank, a control character, '#' or '\\' "
                  "at offset 5"},
    {.name = "ecs: token with a line break",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1/c",
                 "AWS_CONTAINER_AUTHORIZATION_TOKEN=a\nX-Evil: " CANARY},
     .want = EI_BADCONFIG,
     .want_text = "the container authorization token is empty or holds a "
                  "line break"},
    {.name = "ecs: token file missing",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1/c",
                 "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=%D/nothing"},
     .want = EI_NOTFOUND},
    {.name = "ecs: refused",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1/c"},
     .replies = {{403, "{\"message\":\"" CANARY "\"}"}},
     .want = EI_DENIED,
     .want_text = "the container credentials endpoint answered HTTP 403"},
    {.name = "ecs: malformed document",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1/c"},
     .replies = {{200, "{\"AccessKeyId\":\"" CANARY "\""}},
     .want = EI_BADDATA,
     .want_text = "malformed credentials document (JSON error at line 1"},
    {.name = "ecs: unreachable",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1/c"},
     .replies = {{200, ECS_DOC, FAKE_HTTP_CLOSE}},
     .want = EI_UNAVAILABLE},
    {.name = "ecs: before instance metadata",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1/c",
                 "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:1"},
     .replies = {{200, ECS_DOC}},
     .want_akid = "ASIAECS",
     .reqs = {{"GET", "http://127.0.0.1", "/c", {NULL}}}},
    {.name = "imds: token, role, credentials",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D",
                 "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:9/"},
     .replies = {{200, "imds-" CANARY "\n"},
                 {200, "my-role\n"},
                 {200, IMDS_DOC}},
     .want_akid = "ASIAIMDS",
     .want_sk = "imdsSecret",
     .want_token = "imdsToken",
     .want_source = "instance metadata http://127.0.0.1:9 (role my-role)",
     .reqs = {{"PUT",
               "http://127.0.0.1:9",
               "/latest/api/token",
               {"X-aws-ec2-metadata-token-ttl-seconds: 21600"}},
              {"GET",
               "http://127.0.0.1:9",
               "/latest/meta-data/iam/security-credentials/",
               {"X-aws-ec2-metadata-token: imds-" CANARY}},
              {"GET",
               "http://127.0.0.1:9",
               "/latest/meta-data/iam/security-credentials/my-role",
               {"X-aws-ec2-metadata-token: imds-" CANARY}}}},
    {.name = "imds: default endpoint (never contacted by the fake)",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D"},
     .replies = {{200, "t"}, {200, "r"}, {200, IMDS_DOC}},
     .want_akid = "ASIAIMDS",
     .reqs = {{"PUT", "http://169.254.169.254", "/latest/api/token", {NULL}}}},
    {.name = "imds: IPv6 endpoint mode",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6"},
     .replies = {{200, "t"}, {200, "r"}, {200, IMDS_DOC}},
     .want_akid = "ASIAIMDS",
     .reqs = {{"PUT", "http://[fd00:ec2::254]", "/latest/api/token", {NULL}}}},
    {.name = "imds: disabled",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_EC2_METADATA_DISABLED=true"},
     .want = EI_DENIED,
     .want_text = "no AWS credentials: none in the environment or "
                  "%D/.aws/credentials or %D/.aws/config (profile default), "
                  "no container endpoint, instance metadata disabled by "
                  "AWS_EC2_METADATA_DISABLED"},
    {.name = "imds: unreachable",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://"
                            "127.0.0.1:9"},
     .replies = {{200, "t", FAKE_HTTP_CLOSE}},
     .want = EI_DENIED,
     .want_text = "instance metadata unreachable"},
    {.name = "imds: slower than the probe",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://"
                            "127.0.0.1:9"},
     .replies = {{200, "t", FAKE_HTTP_DELAY_MS(1500)}},
     .want = EI_DENIED,
     .want_text = "instance metadata unreachable"},
    {.name = "imds: token refused",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://"
                            "127.0.0.1:9"},
     .replies = {{403, ""}},
     .want = EI_DENIED,
     .want_text = "instance metadata refused an IMDSv2 token (HTTP 403)"},
    {.name = "imds: no role attached",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://"
                            "127.0.0.1:9"},
     .replies = {{200, "t"}, {404, ""}},
     .want = EI_DENIED,
     .want_text = "no IAM role is attached to this instance"},
    {.name = "imds: malformed role name",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://"
                            "127.0.0.1:9"},
     .replies = {{200, "t"}, {200, "../etc/passwd"}},
     .want = EI_BADDATA,
     .want_text = "malformed role name in instance metadata (13 bytes)"},
    {.name = "imds: error document",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://"
                            "127.0.0.1:9"},
     .replies = {{200, "t"},
                 {200, "r"},
                 {200, "{\"Code\":\"AssumeRoleUnauthorizedAccess\","
                       "\"Message\":\"" CANARY "\"}"}},
     .want = EI_DENIED,
     .want_text = "instance metadata returned no credentials (Code "
                  "AssumeRoleUnauthorizedAccess)"},
    {.name = "imds: document without Token",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://"
                            "127.0.0.1:9"},
     .replies = {{200, "t"},
                 {200, "r"},
                 {200, "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\","
                       "\"Expiration\":\"x\"}"}},
     .want = EI_BADDATA,
     .want_text = "credentials document without Token"},
    {.name = "imds: endpoint with a path",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://"
                            "127.0.0.1:9/latest"},
     .want = EI_BADCONFIG,
     .want_locator = "AWS_EC2_METADATA_SERVICE_ENDPOINT"},
    {.name = "region: AWS_REGION before AWS_DEFAULT_REGION",
     .environ = {"AWS_REGION=eu-central-1", "AWS_DEFAULT_REGION=us-west-1",
                 "AWS_ACCESS_KEY_ID=" AKID, "AWS_SECRET_ACCESS_KEY=" SK},
     .want_region = "eu-central-1"},
    {.name = "region: AWS_DEFAULT_REGION",
     .environ = {"AWS_DEFAULT_REGION=us-west-1", "AWS_ACCESS_KEY_ID=" AKID,
                 "AWS_SECRET_ACCESS_KEY=" SK},
     .want_region = "us-west-1"},
    {.name = "region: the option before the environment",
     .opts = {"region=ap-south-1"},
     .environ = {"AWS_REGION=eu-central-1", "AWS_ACCESS_KEY_ID=" AKID,
                 "AWS_SECRET_ACCESS_KEY=" SK},
     .want_region = "ap-south-1"},
    {.name = "region: China partition domain",
     .opts = {"region=cn-north-1"},
     .environ = {"AWS_ACCESS_KEY_ID=" AKID, "AWS_SECRET_ACCESS_KEY=" SK},
     .want_endpoint = "https://secretsmanager.cn-north-1.amazonaws.com.cn"},
    {.name = "region: malformed option",
     .opts = {"region=US_EAST_1"},
     .want_open = EI_BADCONFIG,
     .want_text = "region must be letters, digits and '-'",
     .want_locator = "region"},
    {.name = "region: malformed variable",
     .environ = {"AWS_REGION=us east"},
     .want_open = EI_BADCONFIG,
     .want_locator = "AWS_REGION"},
    {.name = "endpoint: option",
     .opts = {"region=us-east-1", "endpoint=http://127.0.0.1:4566/"},
     .environ = {"AWS_ACCESS_KEY_ID=" AKID, "AWS_SECRET_ACCESS_KEY=" SK},
     .want_endpoint = "http://127.0.0.1:4566"},
    {.name = "endpoint: service variable before the general one",
     .opts = {"region=us-east-1"},
     .environ = {"AWS_ACCESS_KEY_ID=" AKID, "AWS_SECRET_ACCESS_KEY=" SK,
                 "AWS_ENDPOINT_URL=http://127.0.0.1:1",
                 "AWS_ENDPOINT_URL_SECRETS_MANAGER=http://127.0.0.1:2"},
     .want_endpoint = "http://127.0.0.1:2"},
    {.name = "endpoint: general variable",
     .opts = {"region=us-east-1"},
     .environ = {"AWS_ACCESS_KEY_ID=" AKID, "AWS_SECRET_ACCESS_KEY=" SK,
                 "AWS_ENDPOINT_URL=https://vpce.example.com:443"},
     .want_endpoint = "https://vpce.example.com:443"},
    {.name = "endpoint: with a path",
     .opts = {"region=us-east-1", "endpoint=http://127.0.0.1:4566/v1"},
     .want_open = EI_BADCONFIG,
     .want_text = "endpoint must be http(s)://HOST[:PORT] with no path",
     .want_locator = "endpoint"},
    {.name = "endpoint: with a user name",
     .opts = {"region=us-east-1", "endpoint=http://u:p@127.0.0.1"},
     .want_open = EI_BADCONFIG},
    {.name = "endpoint: not http",
     .opts = {"region=us-east-1", "endpoint=ftp://127.0.0.1"},
     .want_open = EI_BADCONFIG},
    {.name = "profile: malformed option",
     .opts = {"region=us-east-1", "profile=a]b"},
     .want_open = EI_BADCONFIG,
     .want_locator = "profile"},
};

/* ---- helpers ---- */

struct fixture {
    char dir[PATH_SIZE];
    const void *c; /* the table row */
};

static void subst(const char *in, const char *dir, char *out, size_t out_len)
{
    size_t o = 0;
    for (const char *p = in; *p != '\0' && o + 1 < out_len; p++) {
        if (p[0] == '%' && p[1] == 'D') {
            int n = snprintf(out + o, out_len - o, "%s", dir);
            o += n > 0 ? (size_t)n : 0;
            p++;
            continue;
        }
        out[o++] = *p;
    }
    out[o < out_len ? o : out_len - 1] = '\0';
}

static void write_file(const char *dir, const char *rel, const char *content)
{
    char path[PATH_SIZE];
    int n = snprintf(path, sizeof(path), "%s/%s", dir, rel);
    assert_true(n > 0 && (size_t)n < sizeof(path));
    char *slash = strrchr(path, '/');
    if (strchr(rel, '/') != NULL) {
        *slash = '\0';
        mkdir(path, 0700);
        *slash = '/';
    }
    FILE *f = fopen(path, "w");
    if (f == NULL)
        fail_msg("cannot write %s: %s", path, strerror(errno));
    fputs(content, f);
    fclose(f);
}

static void rm_tree(const char *dir)
{
    char cmd[PATH_SIZE + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    f->c = *state;
    snprintf(f->dir, sizeof(f->dir), "/tmp/ei-aws-creds-XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    rm_tree(f->dir);
    free(f);
    return 0;
}

static void expect_part(const char *cname, const char *what, const char *got,
                        const char *want_raw, const char *dir)
{
    if (want_raw == NULL)
        return;
    char want[1024];
    subst(want_raw, dir, want, sizeof(want));
    if (got == NULL || strstr(got, want) == NULL)
        fail_msg("%s: %s is \"%s\", expected it to hold \"%s\"", cname, what,
                 got != NULL ? got : "(null)", want);
}

static void expect_eq(const char *cname, const char *what, const char *got,
                      const char *want)
{
    if (want == NULL)
        return;
    if (got == NULL || strcmp(got, want) != 0)
        fail_msg("%s: %s is \"%s\", expected \"%s\"", cname, what,
                 got != NULL ? got : "(null)", want);
}

static void check_requests(const struct creds_case *c, struct fake_host *fh)
{
    size_t n = 0;
    const struct fake_http_request *r = fake_host_http_requests(fh, &n);
    for (size_t i = 0; i < REQS_N && c->reqs[i].method != NULL; i++) {
        const struct want_req *w = &c->reqs[i];
        if (i >= n)
            fail_msg("%s: request %zu was not made", c->name, i + 1);
        expect_eq(c->name, "method", r[i].method, w->method);
        expect_eq(c->name, "endpoint", r[i].endpoint, w->endpoint);
        expect_eq(c->name, "path", r[i].path, w->path);
        for (size_t k = 0; k < HDRS_N && w->headers[k] != NULL; k++) {
            const char *h = w->headers[k];
            if (h[0] == '!') {
                if (fake_http_header(&r[i], h + 1) != NULL)
                    fail_msg("%s: request %zu has header %s", c->name, i + 1,
                             h + 1);
                continue;
            }
            const char *colon = strchr(h, ':');
            char name[64];
            snprintf(name, sizeof(name), "%.*s", (int)(colon - h), h);
            expect_eq(c->name, name, fake_http_header(&r[i], name), colon + 2);
        }
    }
}

static void check_no_canary(const char *cname, const char *what, const char *s)
{
    if (s != NULL && strstr(s, CANARY) != NULL)
        fail_msg("%s: the canary shows in %s: %s", cname, what, s);
}

static void run_case(void **state)
{
    struct fixture *f = *state;
    const struct creds_case *c = f->c;
    char envbuf[ENV_N][PATH_SIZE];
    const char *env[ENV_N + 1] = {NULL};
    for (size_t i = 0; i < ENV_N && c->environ[i] != NULL; i++) {
        subst(c->environ[i], f->dir, envbuf[i], sizeof(envbuf[i]));
        env[i] = envbuf[i];
    }
    for (size_t i = 0; i < FILES_N && c->files[i].path != NULL; i++)
        write_file(f->dir, c->files[i].path, c->files[i].content);
    struct fake_host *fh = fake_host_new(c->opts, env, f->dir);
    assert_non_null(fh);
    for (size_t i = 0; i < REPLIES_N && c->replies[i].status != 0; i++)
        assert_int_equal(fake_host_http_push(fh, c->replies[i].status,
                                             c->replies[i].body,
                                             c->replies[i].flags),
                         0);
    const struct ei_host *h = fake_host_host(fh);
    struct ei_error err = {0};
    struct ei_aws *a = NULL;
    enum ei_status st = ei_aws_open(h, &svc, &a, &err);
    size_t n_req = 0;
    fake_host_http_requests(fh, &n_req);
    if (fake_host_reads(fh) != 0 || n_req != 0)
        fail_msg("%s: ei_aws_open did I/O", c->name);
    if (st != c->want_open)
        fail_msg("%s: open gave %d, want %d (%s: %s)", c->name, (int)st,
                 (int)c->want_open, err.locator, err.text);
    if (st == EI_OK && fake_host_unused(fh) != NULL)
        fail_msg("%s: option %s not read", c->name, fake_host_unused(fh));
    if (st == EI_OK) {
        struct ei_deadline dl;
        fake_deadline(&dl, DL_MS);
        st = ei_aws_resolve(a, &dl, &err);
        if (st != c->want)
            fail_msg("%s: resolve gave %d, want %d (%s: %s)", c->name, (int)st,
                     (int)c->want, err.locator, err.text);
    }
    if (st == EI_OK) {
        const struct ei_aws_creds *cr = ei_aws_credentials(a);
        assert_non_null(cr);
        expect_eq(c->name, "access key id", cr->access_key_id, c->want_akid);
        expect_eq(c->name, "secret key", cr->secret_access_key, c->want_sk);
        expect_eq(c->name, "session token", cr->session_token, c->want_token);
        if (c->want_akid != NULL && c->want_token == NULL &&
            cr->session_token != NULL && strncmp(c->want_akid, "ASIA", 4))
            fail_msg("%s: unexpected session token", c->name);
        expect_part(c->name, "source", cr->source, c->want_source, f->dir);
        expect_eq(c->name, "region", ei_aws_region(a), c->want_region);
        expect_eq(c->name, "endpoint", ei_aws_endpoint(a), c->want_endpoint);
        check_no_canary(c->name, "the source", cr->source);
        /* resolved once: a second call asks nobody */
        size_t before = 0, after = 0;
        fake_host_http_requests(fh, &before);
        size_t reads = fake_host_reads(fh);
        struct ei_deadline dl;
        fake_deadline(&dl, DL_MS);
        assert_int_equal(ei_aws_resolve(a, &dl, &err), EI_OK);
        fake_host_http_requests(fh, &after);
        assert_int_equal(before, after);
        assert_int_equal(reads, fake_host_reads(fh));
    } else {
        if (err.status != st)
            fail_msg("%s: err.status %d but returned %d", c->name,
                     (int)err.status, (int)st);
        expect_part(c->name, "error text", err.text, c->want_text, f->dir);
        expect_part(c->name, "locator", err.locator, c->want_locator, f->dir);
        if (err.text[0] == '\0')
            fail_msg("%s: no error text", c->name);
    }
    check_no_canary(c->name, "the error text", err.text);
    check_no_canary(c->name, "the locator", err.locator);
    check_no_canary(c->name, "the log", fake_host_log(fh));
    check_requests(c, fh);
    ei_aws_close(a);
    fake_host_free(fh);
}

/* ---- the shared-file parser ---- */

struct ini_case {
    const char *name;
    const char *text;
    bool config;
    const char *profile, *key;
    const char *want; /* NULL: not found */
    size_t len;       /* of text and want when they hold a NUL; 0: strlen */
};

static const struct ini_case inis[] = {
    {"ini: plain", "[default]\nk=v\n", false, "default", "k", "v", 0},
    {"ini: blanks trimmed", "[default]\nk \t=  v w \t\r\n", false, "default",
     "k", "v w", 0},
    {"ini: key compared without case", "[default]\nAWS_KEY = v\n", false,
     "default", "aws_key", "v", 0},
    {"ini: colon as separator", "[default]\nk: v\n", false, "default", "k", "v",
     0},
    {"ini: last one wins", "[default]\nk=1\n[x]\nk=2\n[default]\nk=3\n", false,
     "default", "k", "3", 0},
    {"ini: other section", "[x]\nk=v\n", false, "default", "k", NULL, 0},
    {"ini: comments", "[default]\n#k=1\n;k=2\nk=3 # kept\n", false, "default",
     "k", "3 # kept", 0},
    {"ini: no final newline", "[default]\nk=v", false, "default", "k", "v", 0},
    {"ini: empty value", "[default]\nk=\n", false, "default", "k", "", 0},
    {"ini: line without separator", "[default]\nk\n", false, "default", "k",
     NULL, 0},
    {"ini: unterminated section", "[default\nk=v\n", false, "default", "k",
     NULL, 0},
    {"ini: empty section name", "[]\nk=v\n", false, "", "k", NULL, 0},
    {"ini: indented line is nested", "[default]\ns3 =\n  k = v\n", false,
     "default", "k", NULL, 0},
    {"ini: before any section", "k=v\n[default]\n", false, "default", "k", NULL,
     0},
    {"ini: config default", "[default]\nk=v\n", true, "default", "k", "v", 0},
    {"ini: config profile default", "[profile default]\nk=v\n", true, "default",
     "k", "v", 0},
    {"ini: config named profile", "[profile  dev ]\nk=v\n", true, "dev", "k",
     "v", 0},
    {"ini: config bare name is not a profile", "[dev]\nk=v\n", true, "dev", "k",
     NULL, 0},
    {"ini: config profile prefix needs a blank", "[profiledev]\nk=v\n", true,
     "dev", "k", NULL, 0},
    {"ini: credentials file profile word kept", "[profile dev]\nk=v\n", false,
     "dev", "k", NULL, 0},
    {"ini: NUL inside", "[default]\nk=v\0w\n", false, "default", "k", "v\0w",
     3},
    {"ini: empty text", "", false, "default", "k", NULL, 0},
};

static void run_ini(void **state)
{
    const struct ini_case *c = *state;
    /* with a NUL inside, len is the value's and the text has 13 bytes
       more ("[default]\nk=" and "\n") */
    size_t len = c->len != 0 ? c->len + 13 : strlen(c->text);
    const char *val = NULL;
    size_t val_len = 0;
    int found = ei_aws_ini_find(c->text, len, c->config, c->profile, c->key,
                                &val, &val_len);
    const char *want = c->want;
    if (want == NULL) {
        if (found)
            fail_msg("%s: found \"%.*s\"", c->name, (int)val_len, val);
        return;
    }
    size_t want_len = c->len != 0 ? c->len : strlen(want);
    if (!found || val_len != want_len || memcmp(val, want, want_len) != 0)
        fail_msg("%s: got %d \"%.*s\", want \"%s\"", c->name, found,
                 (int)val_len, val != NULL ? val : "", want);
}

static void test_ini_section_only(void **state)
{
    const char *t = "[a]\n[profile b]\n";
    assert_int_equal(
        ei_aws_ini_find(t, strlen(t), false, "a", NULL, NULL, NULL), 1);
    assert_int_equal(ei_aws_ini_find(t, strlen(t), true, "b", NULL, NULL, NULL),
                     1);
    assert_int_equal(
        ei_aws_ini_find(t, strlen(t), false, "b", NULL, NULL, NULL), 0);
    assert_int_equal(ei_aws_ini_find(t, strlen(t), true, "a", NULL, NULL, NULL),
                     0);
}

/* ---- error codes ---- */

struct code_case {
    const char *name;
    const char *body;
    long status;
    int want_rc;
    const char *want;
};

static const struct code_case codes[] = {
    {"code: bare", "{\"__type\":\"ThrottlingException\"}", 400, 1,
     "ThrottlingException"},
    {"code: namespaced",
     "{\"__type\":\"com.amazonaws.secretsmanager#"
     "ResourceNotFoundException\",\"message\":\"x\"}",
     400, 1, "ResourceNotFoundException"},
    {"code: with a colon part",
     "{\"__type\":\"InvalidSignatureException:http://internal.amazon."
     "com/coral/x/\"}",
     400, 1, "InvalidSignatureException"},
    {"code: code member", "{\"code\":\"AccessDenied\"}", 403, 1,
     "AccessDenied"},
    {"code: no body", NULL, 503, 0, "HTTP 503"},
    {"code: not JSON", "<html>", 502, 0, "HTTP 502"},
    {"code: not a string", "{\"__type\":42}", 400, 0, "HTTP 400"},
    {"code: empty", "{\"__type\":\"\"}", 400, 0, "HTTP 400"},
    {"code: only a namespace", "{\"__type\":\"a.b#\"}", 400, 0, "HTTP 400"},
    {"code: control characters", "{\"__type\":\"Bad\\nCode\"}", 400, 0,
     "HTTP 400"},
    {"code: too long",
     "{\"__type\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
     400, 0, "HTTP 400"},
    {"code: array", "[\"ThrottlingException\"]", 400, 0, "HTTP 400"},
};

static void run_code(void **state)
{
    const struct code_case *c = *state;
    char code[EI_AWS_CODE_LEN];
    int rc = ei_aws_error_code(c->body, c->body ? strlen(c->body) : 0,
                               c->status, code, sizeof(code));
    if (rc != c->want_rc || strcmp(code, c->want) != 0)
        fail_msg("%s: got %d \"%s\", want %d \"%s\"", c->name, rc, code,
                 c->want_rc, c->want);
}

/* ---- credential documents ---- */

struct doc_case {
    const char *name;
    const char *body;
    bool imds;
    enum ei_status want;
    const char *want_akid;
    const char *want_token; /* NULL: none */
    const char *want_text;
};

static const struct doc_case docs[] = {
    {"doc: ecs", ECS_DOC, false, EI_OK, "ASIAECS", "ecsToken", NULL},
    {"doc: imds", IMDS_DOC, true, EI_OK, "ASIAIMDS", "imdsToken", NULL},
    {"doc: ecs without token",
     "{\"AccessKeyId\":\"AKID\",\"SecretAccessKey\":\"s\"}", false, EI_OK,
     "AKID", NULL, NULL},
    {"doc: ecs empty token",
     "{\"AccessKeyId\":\"AKID\",\"SecretAccessKey\":\"s\","
     "\"Token\":\"\"}",
     false, EI_OK, "AKID", NULL, NULL},
    {"doc: imds without Expiration",
     "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\","
     "\"Token\":\"t\"}",
     true, EI_BADDATA, NULL, NULL, "credentials document without Expiration"},
    {"doc: without AccessKeyId", "{\"SecretAccessKey\":\"" CANARY "\"}", false,
     EI_BADDATA, NULL, NULL,
     "credentials document without "
     "AccessKeyId"},
    {"doc: without SecretAccessKey", "{\"AccessKeyId\":\"A\"}", false,
     EI_BADDATA, NULL, NULL, "credentials document without SecretAccessKey"},
    {"doc: key id not a string",
     "{\"AccessKeyId\":7,\"SecretAccessKey\":\"s\"}", false, EI_BADDATA, NULL,
     NULL, "without AccessKeyId"},
    {"doc: NUL in the secret",
     "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\\u0000" CANARY "\"}",
     false, EI_BADDATA, NULL, NULL, "malformed credentials document (JSON"},
    {"doc: blank in the token",
     "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\","
     "\"Token\":\"a " CANARY "\"}",
     false, EI_BADDATA, NULL, NULL, "malformed credentials"},
    {"doc: malformed key id",
     "{\"AccessKeyId\":\"A-B\",\"SecretAccessKey\":\"s\"}", false, EI_BADDATA,
     NULL, NULL, "malformed credentials"},
    {"doc: duplicate member",
     "{\"AccessKeyId\":\"A\",\"AccessKeyId\":\"B\","
     "\"SecretAccessKey\":\"s\"}",
     false, EI_BADDATA, NULL, NULL, "malformed credentials document (JSON"},
    {"doc: not an object", "[1]", false, EI_BADDATA, NULL, NULL,
     "not a JSON object"},
    {"doc: truncated", "{\"AccessKeyId\":\"" CANARY, false, EI_BADDATA, NULL,
     NULL, "JSON error at line 1"},
    {"doc: empty", "", false, EI_BADDATA, NULL, NULL, "JSON error"},
    {"doc: imds error code", "{\"Code\":\"Fail ure\"}", true, EI_DENIED, NULL,
     NULL, "(Code ?)"},
    {"doc: imds code ignored for ecs",
     "{\"Code\":\"Failure\",\"AccessKeyId\":\"A\","
     "\"SecretAccessKey\":\"s\"}",
     false, EI_OK, "A", NULL, NULL},
};

static void run_doc(void **state)
{
    const struct doc_case *c = *state;
    struct fake_host *fh = fake_host_new(NULL, NULL, NULL);
    assert_non_null(fh);
    const struct ei_host *h = fake_host_host(fh);
    struct ei_aws_creds cr = {0};
    struct ei_error err = {0};
    enum ei_status st = ei_aws_parse_creds(h, c->body, strlen(c->body), c->imds,
                                           "here", &cr, &err);
    if (st != c->want)
        fail_msg("%s: got %d, want %d (%s)", c->name, (int)st, (int)c->want,
                 err.text);
    if (st == EI_OK) {
        expect_eq(c->name, "key id", cr.access_key_id, c->want_akid);
        if (c->want_token == NULL
                ? cr.session_token != NULL
                : cr.session_token == NULL ||
                      strcmp(cr.session_token, c->want_token) != 0)
            fail_msg("%s: session token %s", c->name,
                     cr.session_token ? cr.session_token : "(none)");
    } else {
        expect_part(c->name, "error text", err.text, c->want_text, "");
        expect_eq(c->name, "locator", err.locator, "here");
        if (cr.access_key_id != NULL || cr.secret_access_key != NULL)
            fail_msg("%s: credentials left behind", c->name);
    }
    check_no_canary(c->name, "the error text", err.text);
    ei_aws_creds_clear(h, &cr);
    fake_host_free(fh);
}

int main(void)
{
    static struct CMUnitTest tests[ARRAY_LEN(cases) + ARRAY_LEN(inis) +
                                   ARRAY_LEN(codes) + ARRAY_LEN(docs) + 1];
    size_t k = 0;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        tests[k++] = (struct CMUnitTest){cases[i].name, run_case, setup,
                                         teardown, (void *)&cases[i]};
    for (size_t i = 0; i < ARRAY_LEN(inis); i++)
        tests[k++] = (struct CMUnitTest){inis[i].name, run_ini, NULL, NULL,
                                         (void *)&inis[i]};
    for (size_t i = 0; i < ARRAY_LEN(codes); i++)
        tests[k++] = (struct CMUnitTest){codes[i].name, run_code, NULL, NULL,
                                         (void *)&codes[i]};
    for (size_t i = 0; i < ARRAY_LEN(docs); i++)
        tests[k++] = (struct CMUnitTest){docs[i].name, run_doc, NULL, NULL,
                                         (void *)&docs[i]};
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_ini_section_only);
    assert_int_equal(k, ARRAY_LEN(tests));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
