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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include <envinject/provider.h>

#include "aws/creds.h"
#include "aws/sts.h"
#include "host.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define OPTS_N       4
#define ENV_N        12
#define FILES_N      3
#define REPLIES_N    6
#define REQS_N       6
#define HDRS_N       4
#define BODY_N       5
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

#define ROLE     "arn:aws:iam::123456789012:role/app"
#define ROLE_ENC "arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fapp"
#define FAR      "2099-01-01T00:00:00Z"
#define FORM     "Content-Type: application/x-www-form-urlencoded; charset=utf-8"
#define STS_OK(op, akid, sk, tok, exp)                                         \
    "<" op "Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"   \
    "  <" op "Result>\n    <Credentials>\n      <AccessKeyId>" akid            \
    "</AccessKeyId>\n      <SecretAccessKey>" sk                               \
    "</SecretAccessKey>\n      <SessionToken>" tok                             \
    "</SessionToken>\n      <Expiration>" exp "</Expiration>\n"                \
    "    </Credentials>\n  </" op "Result>\n  <ResponseMetadata><RequestId>"   \
    "r-1</RequestId></ResponseMetadata>\n</" op "Response>\n"
#define STS_ERR(code, msg)                                                     \
    "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"    \
    "  <Error>\n    <Type>Sender</Type>\n    <Code>" code                      \
    "</Code>\n    <Message>" msg "</Message>\n  </Error>\n"                    \
    "  <RequestId>r-2</RequestId>\n</ErrorResponse>\n"
#define WEB_ENV                                                                \
    {                                                                          \
        "HOME=%D", "AWS_ROLE_ARN=" ROLE,                                       \
            "AWS_WEB_IDENTITY_TOKEN_FILE=%D/token"                             \
    }

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
    const char *body[BODY_N]; /* parts the body holds ("!PART": not) */
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
    bool reqs_exact; /* no request beyond those of reqs */
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
    /* ---- web identity (AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE) ---- */
    {.name = "web identity: IRSA variables",
     .opts = {"region=eu-west-1"},
     .environ = {"HOME=%D", "AWS_ROLE_ARN=" ROLE,
                 "AWS_WEB_IDENTITY_TOKEN_FILE=%D/token",
                 "AWS_ROLE_SESSION_NAME=pod-1"},
     .files = {{"token", CANARY "\n"}},
     .replies = {{200, STS_OK("AssumeRoleWithWebIdentity", "ASIAWEB",
                              "webSecret", "webToken", FAR)}},
     .want_akid = "ASIAWEB",
     .want_sk = "webSecret",
     .want_token = "webToken",
     .want_source = "web identity (AWS_ROLE_ARN, role " ROLE
                    ") through STS https://sts.eu-west-1.amazonaws.com",
     .reqs = {{"POST",
               "https://sts.eu-west-1.amazonaws.com",
               "/",
               {FORM, "!Authorization", "!X-Amz-Security-Token", "!X-Amz-Date"},
               {"Action=AssumeRoleWithWebIdentity&RoleArn=" ROLE_ENC
                "&RoleSessionName=pod-1&Version=2011-06-15&"
                "WebIdentityToken=" CANARY,
                "!%0A"}}},
     .reqs_exact = true},
    {.name = "web identity: default session name",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_ROLE_ARN=" ROLE,
                 "AWS_WEB_IDENTITY_TOKEN_FILE=%D/token"},
     .files = {{"token", "tok"}},
     .replies = {{200, STS_OK("AssumeRoleWithWebIdentity", "ASIAWEB", "s", "t",
                              FAR)}},
     .want_akid = "ASIAWEB",
     .reqs = {{"POST",
               "https://sts.us-east-1.amazonaws.com",
               "/",
               {FORM},
               {"RoleSessionName=envinject-", "WebIdentityToken=tok"}}}},
    {.name = "web identity: AWS_ENDPOINT_URL_STS",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_ROLE_ARN=" ROLE,
                 "AWS_WEB_IDENTITY_TOKEN_FILE=%D/token",
                 "AWS_ENDPOINT_URL_STS=http://127.0.0.1:4566/",
                 "AWS_ENDPOINT_URL=http://127.0.0.1:9"},
     .files = {{"token", "tok"}},
     .replies = {{200, STS_OK("AssumeRoleWithWebIdentity", "ASIAWEB", "s", "t",
                              FAR)}},
     .want_akid = "ASIAWEB",
     .want_endpoint = "http://127.0.0.1:9",
     .reqs = {{"POST", "http://127.0.0.1:4566", "/", {FORM}}}},
    {.name = "web identity: AWS_ENDPOINT_URL",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_ROLE_ARN=" ROLE,
                 "AWS_WEB_IDENTITY_TOKEN_FILE=%D/token",
                 "AWS_ENDPOINT_URL=http://127.0.0.1:9"},
     .files = {{"token", "tok"}},
     .replies = {{200, STS_OK("AssumeRoleWithWebIdentity", "ASIAWEB", "s", "t",
                              FAR)}},
     .want_akid = "ASIAWEB",
     .reqs = {{"POST", "http://127.0.0.1:9", "/", {FORM}}}},
    {.name = "web identity: China partition",
     .opts = {"region=cn-north-1"},
     .environ = {"HOME=%D", "AWS_ROLE_ARN=arn:aws-cn:iam::1:role/r",
                 "AWS_WEB_IDENTITY_TOKEN_FILE=%D/token"},
     .files = {{"token", "tok"}},
     .replies = {{200, STS_OK("AssumeRoleWithWebIdentity", "ASIAWEB", "s", "t",
                              FAR)}},
     .want_akid = "ASIAWEB",
     .reqs = {{"POST", "https://sts.cn-north-1.amazonaws.com.cn", "/"}}},
    {.name = "web identity: malformed STS endpoint",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_ROLE_ARN=" ROLE,
                 "AWS_WEB_IDENTITY_TOKEN_FILE=%D/token",
                 "AWS_ENDPOINT_URL_STS=http://127.0.0.1:1/path"},
     .files = {{"token", "tok"}},
     .want = EI_BADCONFIG,
     .want_text = "endpoint must be http(s)://HOST[:PORT]",
     .want_locator = "AWS_ENDPOINT_URL_STS"},
    {.name = "web identity: environment keys come first",
     .opts = {"region=us-east-1"},
     .environ = {"AWS_ACCESS_KEY_ID=" AKID, "AWS_SECRET_ACCESS_KEY=" SK,
                 "AWS_ROLE_ARN=" ROLE,
                 "AWS_WEB_IDENTITY_TOKEN_FILE=/nonexistent"},
     .want_akid = AKID,
     .want_source = "the environment"},
    {.name = "web identity: before the shared files",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_ROLE_ARN=" ROLE,
                 "AWS_WEB_IDENTITY_TOKEN_FILE=%D/token"},
     .files = {{"token", "tok"},
               {".aws/credentials", "[default]\naws_access_key_id=" AKID2
                                    "\naws_secret_access_key=" SK2 "\n"}},
     .replies = {{200, STS_OK("AssumeRoleWithWebIdentity", "ASIAWEB", "s", "t",
                              FAR)}},
     .want_akid = "ASIAWEB"},
    {.name = "web identity: skipped with a profile option",
     .opts = {"region=us-east-1", "profile=dev"},
     .environ = {"HOME=%D", "AWS_ROLE_ARN=" ROLE,
                 "AWS_WEB_IDENTITY_TOKEN_FILE=%D/token"},
     .files = {{".aws/credentials", "[dev]\naws_access_key_id=" AKID2
                                    "\naws_secret_access_key=" SK2 "\n"}},
     .want_akid = AKID2},
    {.name = "web identity: role without token file",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_ROLE_ARN=" ROLE},
     .want = EI_BADCONFIG,
     .want_text = "AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not",
     .want_locator = "AWS_WEB_IDENTITY_TOKEN_FILE"},
    {.name = "web identity: token file without role",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_WEB_IDENTITY_TOKEN_FILE=%D/token"},
     .want = EI_BADCONFIG,
     .want_text = "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not"},
    {.name = "web identity: no token file",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_ROLE_ARN=" ROLE,
                 "AWS_WEB_IDENTITY_TOKEN_FILE=%D/missing"},
     .want = EI_DENIED,
     .want_text = "the web identity token file does not exist",
     .want_locator = "%D/missing"},
    {.name = "web identity: empty token file",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_ROLE_ARN=" ROLE,
                 "AWS_WEB_IDENTITY_TOKEN_FILE=%D/token"},
     .files = {{"token", "\n"}},
     .want = EI_DENIED,
     .want_text = "the web identity token file is empty"},
    {.name = "web identity: token with a blank",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_ROLE_ARN=" ROLE,
                 "AWS_WEB_IDENTITY_TOKEN_FILE=%D/token"},
     .files = {{"token", "two " CANARY}},
     .want = EI_DENIED,
     .want_text = "holds blanks or control characters"},
    {.name = "web identity: role is no ARN",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_ROLE_ARN=my-role",
                 "AWS_WEB_IDENTITY_TOKEN_FILE=%D/token"},
     .files = {{"token", "tok"}},
     .want = EI_BADCONFIG,
     .want_text = "the role must be an ARN"},
    {.name = "web identity: bad session name",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_ROLE_ARN=" ROLE,
                 "AWS_WEB_IDENTITY_TOKEN_FILE=%D/token",
                 "AWS_ROLE_SESSION_NAME=a b"},
     .files = {{"token", "tok"}},
     .want = EI_BADCONFIG,
     .want_text = "role session name must be 2 to 64"},
    /* ---- STS errors ---- */
    {.name = "sts: AccessDenied",
     .opts = {"region=us-east-1"},
     .environ = WEB_ENV,
     .files = {{"token", CANARY}},
     .replies = {{403,
                  STS_ERR("AccessDenied", "Not authorized to perform "
                                          "sts:AssumeRoleWithWebIdentity")}},
     .want = EI_DENIED,
     .want_text = "STS AssumeRoleWithWebIdentity of " ROLE
                  ": access denied (AccessDenied, HTTP 403): Not authorized "
                  "to perform sts:AssumeRoleWithWebIdentity",
     .want_locator = "https://sts.us-east-1.amazonaws.com"},
    {.name = "sts: InvalidIdentityToken",
     .opts = {"region=us-east-1"},
     .environ = WEB_ENV,
     .files = {{"token", CANARY}},
     .replies = {{400, STS_ERR("InvalidIdentityToken",
                               "No OpenIDConnect provider found in your "
                               "account for https://oidc.example")}},
     .want = EI_DENIED,
     .want_text = "web identity token refused (InvalidIdentityToken, HTTP "
                  "400): No OpenIDConnect provider"},
    {.name = "sts: ExpiredTokenException",
     .opts = {"region=us-east-1"},
     .environ = WEB_ENV,
     .files = {{"token", CANARY}},
     .replies = {{400, STS_ERR("ExpiredTokenException",
                               "Token expired: current date/time "
                               "1700000000 must be before the expiration "
                               "date/time 1690000000")}},
     .want = EI_DENIED,
     .want_text = "session token expired (ExpiredTokenException, HTTP 400): "
                  "Token expired"},
    {.name = "sts: RegionDisabledException",
     .opts = {"region=ap-east-1"},
     .environ = WEB_ENV,
     .files = {{"token", CANARY}},
     .replies = {{403, STS_ERR("RegionDisabledException",
                               "STS is not activated in this region for "
                               "account:1. Your account administrator can "
                               "activate STS in this region using the IAM "
                               "Console.")}},
     .want = EI_BADCONFIG,
     .want_text = "STS is not activated in this region (RegionDisabled"},
    {.name = "sts: ValidationError",
     .opts = {"region=us-east-1"},
     .environ = WEB_ENV,
     .files = {{"token", "tok"}},
     .replies = {{400, STS_ERR("ValidationError",
                               "1 validation error detected: Value at "
                               "'roleArn' failed to satisfy constraint")}},
     .want = EI_BADCONFIG,
     .want_text = "request refused as invalid (ValidationError"},
    {.name = "sts: IDPCommunicationError retried",
     .opts = {"region=us-east-1"},
     .environ = WEB_ENV,
     .files = {{"token", "tok"}},
     .replies = {{400, STS_ERR("IDPCommunicationError", "try again")},
                 {200, STS_OK("AssumeRoleWithWebIdentity", "ASIAWEB", "s", "t",
                              FAR)}},
     .want_akid = "ASIAWEB"},
    {.name = "sts: throttled until the deadline",
     .opts = {"region=us-east-1"},
     .environ = WEB_ENV,
     .files = {{"token", "tok"}},
     .replies = {{400, STS_ERR("Throttling", "Rate exceeded"),
                  FAKE_HTTP_DELAY_MS(DL_MS - 5)}},
     .want = EI_UNAVAILABLE,
     .want_text = "STS AssumeRoleWithWebIdentity of " ROLE
                  ": throttled (Throttling, HTTP 400) until the timeout, 1 "
                  "attempt"},
    {.name = "sts: Throttling retried",
     .opts = {"region=us-east-1"},
     .environ = WEB_ENV,
     .files = {{"token", "tok"}},
     .replies = {{400, STS_ERR("Throttling", "Rate exceeded")},
                 {200, STS_OK("AssumeRoleWithWebIdentity", "ASIAWEB", "s", "t",
                              FAR)}},
     .want_akid = "ASIAWEB"},
    {.name = "sts: 503 until the end",
     .opts = {"region=us-east-1"},
     .environ = WEB_ENV,
     .files = {{"token", "tok"}},
     .replies = {{503, ""}},
     .want = EI_UNAVAILABLE},
    {.name = "sts: unknown error code with HTML",
     .opts = {"region=us-east-1"},
     .environ = WEB_ENV,
     .files = {{"token", "tok"}},
     .replies = {{404, "<html><body>not here</body></html>"}},
     .want = EI_BADDATA,
     .want_text = "unexpected error (HTTP 404)"},
    {.name = "sts: malformed answer",
     .opts = {"region=us-east-1"},
     .environ = WEB_ENV,
     .files = {{"token", "tok"}},
     .replies = {{200, "<AssumeRoleWithWebIdentityResponse>"}},
     .want = EI_BADDATA,
     .want_text = "malformed STS AssumeRoleWithWebIdentity answer (not "
                  "well-formed XML)"},
    {.name = "sts: answer without SessionToken",
     .opts = {"region=us-east-1"},
     .environ = WEB_ENV,
     .files = {{"token", "tok"}},
     .replies = {{200, "<AssumeRoleWithWebIdentityResponse>"
                       "<AssumeRoleWithWebIdentityResult><Credentials>"
                       "<AccessKeyId>ASIA</AccessKeyId><SecretAccessKey>" CANARY
                       "</SecretAccessKey><Expiration>" FAR
                       "</Expiration></Credentials>"
                       "</AssumeRoleWithWebIdentityResult>"
                       "</AssumeRoleWithWebIdentityResponse>"}},
     .want = EI_BADDATA,
     .want_text = "answer without Credentials/SessionToken"},
    /* ---- profiles with role_arn ---- */
    {.name = "role: source_profile with static keys",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_PROFILE=app"},
     .files = {{".aws/config",
                "[profile app]\nrole_arn=" ROLE "\nsource_profile=base\n"
                "role_session_name=ci\nexternal_id=ext-1\n"
                "duration_seconds=900\n"},
               {".aws/credentials", "[base]\naws_access_key_id=" AKID2
                                    "\naws_secret_access_key=" SK2 "\n"}},
     .replies = {{200, STS_OK("AssumeRole", "ASIAROLE", "roleSecret",
                              "roleToken", FAR)}},
     .want_akid = "ASIAROLE",
     .want_sk = "roleSecret",
     .want_token = "roleToken",
     .want_source = "role " ROLE " of profile app (source: the shared "
                    "credentials file %D/.aws/credentials (profile base))",
     .reqs = {{"POST",
               "https://sts.us-east-1.amazonaws.com",
               "/",
               {FORM, "Host: sts.us-east-1.amazonaws.com",
                "!X-Amz-Security-Token"},
               {"Action=AssumeRole&DurationSeconds=900&ExternalId=ext-1&"
                "RoleArn=" ROLE_ENC "&RoleSessionName=ci&Version=2011-06-15"}}},
     .reqs_exact = true},
    {.name = "role: chain of two roles",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_PROFILE=top"},
     .files = {{".aws/config",
                "[profile top]\nrole_arn=arn:aws:iam::1:role/top\n"
                "source_profile=mid\n"
                "[profile mid]\nrole_arn=arn:aws:iam::1:role/mid\n"
                "source_profile=base\n"
                "[profile base]\naws_access_key_id=" AKID2
                "\naws_secret_access_key=" SK2 "\n"}},
     .replies =
         {{200, STS_OK("AssumeRole", "ASIAMID", "midSecret", "midToken", FAR)},
          {200, STS_OK("AssumeRole", "ASIATOP", "topSecret", "topToken", FAR)}},
     .want_akid = "ASIATOP",
     .want_token = "topToken",
     .want_source = "of profile top (source: role arn:aws:iam::1:role/mid",
     .reqs = {{"POST",
               NULL,
               "/",
               {"!X-Amz-Security-Token"},
               {"RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fmid"}},
              {"POST",
               NULL,
               "/",
               {"X-Amz-Security-Token: midToken"},
               {"RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Ftop"}}},
     .reqs_exact = true},
    {.name = "role: source_profile loop",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_PROFILE=a"},
     .files = {{".aws/config",
                "[profile a]\nrole_arn=" ROLE "\nsource_profile=b\n"
                "[profile b]\nrole_arn=" ROLE "\nsource_profile=c\n"
                "[profile c]\nrole_arn=" ROLE "\nsource_profile=a\n"}},
     .want = EI_BADCONFIG,
     .want_text = "source_profile loop: a -> b -> c -> a",
     .reqs_exact = true},
    {.name = "role: own source_profile uses its keys",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_PROFILE=self"},
     .files = {{".aws/config",
                "[profile self]\nrole_arn=" ROLE "\nsource_profile=self\n"
                "aws_access_key_id=" AKID2 "\naws_secret_access_key=" SK2
                "\n"}},
     .replies = {{200, STS_OK("AssumeRole", "ASIAROLE", "s", "t", FAR)}},
     .want_akid = "ASIAROLE"},
    {.name = "role: own source_profile without keys",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_PROFILE=self"},
     .files = {{".aws/config",
                "[profile self]\nrole_arn=" ROLE "\nsource_profile=self\n"}},
     .want = EI_DENIED,
     .want_text = "profile self is its own source_profile but has no "
                  "aws_access_key_id"},
    {.name = "role: source_profile missing",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_PROFILE=app"},
     .files = {{".aws/config",
                "[profile app]\nrole_arn=" ROLE "\nsource_profile=gone\n"}},
     .want = EI_BADCONFIG,
     .want_text = "source_profile gone of profile app is in neither"},
    {.name = "role: source profile without credentials",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_PROFILE=app"},
     .files = {{".aws/config",
                "[profile app]\nrole_arn=" ROLE "\nsource_profile=base\n"
                "[profile base]\nregion=us-east-1\n"}},
     .want = EI_DENIED,
     .want_text = "source_profile base of profile app gives no credentials"},
    {.name = "role: two sources",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_PROFILE=app"},
     .files = {{".aws/config",
                "[profile app]\nrole_arn=" ROLE "\nsource_profile=base\n"
                "credential_source=Environment\n"}},
     .want = EI_BADCONFIG,
     .want_text = "role_arn needs exactly one of source_profile, "
                  "credential_source and web_identity_token_file"},
    {.name = "role: no source",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_PROFILE=app"},
     .files = {{".aws/config", "[profile app]\nrole_arn=" ROLE "\n"}},
     .want = EI_BADCONFIG,
     .want_text = "role_arn needs exactly one of"},
    {.name = "role: credential_source Environment",
     .opts = {"region=us-east-1", "profile=app"},
     .environ = {"HOME=%D", "AWS_ACCESS_KEY_ID=" AKID,
                 "AWS_SECRET_ACCESS_KEY=" SK, "AWS_SESSION_TOKEN=envToken"},
     .files = {{".aws/config", "[profile app]\nrole_arn=" ROLE
                               "\ncredential_source=Environment\n"}},
     .replies = {{200, STS_OK("AssumeRole", "ASIAROLE", "s", "t", FAR)}},
     .want_akid = "ASIAROLE",
     .want_source = "(source: the environment (AWS_ACCESS_KEY_ID, "
                    "AWS_SESSION_TOKEN))",
     .reqs = {{"POST", NULL, "/", {"X-Amz-Security-Token: envToken"}}}},
    {.name = "role: credential_source EcsContainer",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_PROFILE=app",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:9/c"},
     .files = {{".aws/config", "[profile app]\nrole_arn=" ROLE
                               "\ncredential_source=EcsContainer\n"}},
     .replies = {{200, ECS_DOC},
                 {200, STS_OK("AssumeRole", "ASIAROLE", "s", "t", FAR)}},
     .want_akid = "ASIAROLE",
     .reqs = {{"GET", "http://127.0.0.1:9", "/c"},
              {"POST",
               "https://sts.us-east-1.amazonaws.com",
               "/",
               {"X-Amz-Security-Token: ecsToken"}}}},
    {.name = "role: credential_source Ec2InstanceMetadata disabled",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_PROFILE=app",
                 "AWS_EC2_METADATA_DISABLED=true"},
     .files = {{".aws/config", "[profile app]\nrole_arn=" ROLE
                               "\ncredential_source=Ec2InstanceMetadata\n"}},
     .want = EI_DENIED,
     .want_text = "credential_source Ec2InstanceMetadata gives no "
                  "credentials"},
    {.name = "role: credential_source unknown",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_PROFILE=app"},
     .files = {{".aws/config", "[profile app]\nrole_arn=" ROLE
                               "\ncredential_source=Lambda\n"}},
     .want = EI_BADCONFIG,
     .want_text = "credential_source must be Environment, EcsContainer or "
                  "Ec2InstanceMetadata"},
    {.name = "role: web_identity_token_file in the profile",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_PROFILE=app"},
     .files = {{".aws/config", "[profile app]\nrole_arn=" ROLE
                               "\nweb_identity_token_file=%D/token\n"},
               {"token", "tok"}},
     .replies = {{200, STS_OK("AssumeRoleWithWebIdentity", "ASIAWEB", "s", "t",
                              FAR)}},
     .want_akid = "ASIAWEB",
     .want_source = "web identity (profile app, role",
     .reqs =
         {{"POST", NULL, "/", {"!Authorization"}, {"WebIdentityToken=tok"}}}},
    {.name = "role: mfa_serial",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_PROFILE=app"},
     .files = {{".aws/config", "[profile app]\nrole_arn=" ROLE
                               "\nsource_profile=app\nmfa_serial=arn:aws:"
                               "iam::1:mfa/me\n"}},
     .want = EI_BADCONFIG,
     .want_text = "mfa_serial needs a code typed in"},
    {.name = "role: duration_seconds out of range",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_PROFILE=app"},
     .files = {{".aws/config", "[profile app]\nrole_arn=" ROLE
                               "\nsource_profile=app\nduration_seconds=60\n"}},
     .want = EI_BADCONFIG,
     .want_text = "duration_seconds must be a number from 900 to 43200"},
    {.name = "role: role_arn is no ARN",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_PROFILE=app"},
     .files = {{".aws/config", "[profile app]\nrole_arn=admin\n"
                               "source_profile=app\n"}},
     .want = EI_BADCONFIG,
     .want_text = "role_arn must be an ARN"},
    {.name = "role: AssumeRole refused names the source",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_PROFILE=app"},
     .files = {{".aws/config",
                "[profile app]\nrole_arn=" ROLE "\nsource_profile=base\n"},
               {".aws/credentials", "[base]\naws_access_key_id=" AKID2
                                    "\naws_secret_access_key=" SK2 "\n"}},
     .replies = {{403, STS_ERR("AccessDenied",
                               "User: arn:aws:iam::1:user/u is not "
                               "authorized to perform: sts:AssumeRole")}},
     .want = EI_DENIED,
     .want_text = "STS AssumeRole of " ROLE ": access denied (AccessDenied, "
                  "HTTP 403): User: arn:aws:iam::1:user/u is not authorized "
                  "to perform: sts:AssumeRole; source credentials from the "
                  "shared credentials file"},
    {.name = "role: static keys in the same profile lose",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_PROFILE=app"},
     .files = {{".aws/credentials",
                "[app]\naws_access_key_id=" AKID2 "\naws_secret_access_key=" SK2
                "\nrole_arn=" ROLE "\nsource_profile=app\n"}},
     .replies = {{200, STS_OK("AssumeRole", "ASIAROLE", "s", "t", FAR)}},
     .want_akid = "ASIAROLE"},
    /* ---- credential_process ---- */
    {.name = "process: credentials with expiry",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_PROFILE=p", "PATH=/usr/bin:/bin",
                 "PROC_OUT={\"Version\":1,\"AccessKeyId\":\"ASIAPROC\","
                 "\"SecretAccessKey\":\"" CANARY "\",\"SessionToken\":"
                 "\"procToken\",\"Expiration\":\"" FAR "\"}"},
     .files = {{".aws/config", "[profile p]\ncredential_process = "
                               "printf '%s' \"$PROC_OUT\"\n"}},
     .want_akid = "ASIAPROC",
     .want_sk = CANARY,
     .want_token = "procToken",
     .want_source = "the credential_process of profile p (%D/.aws/config)"},
    {.name = "process: long-term keys, a quoted argument",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_PROFILE=p", "PATH=/usr/bin:/bin"},
     .files = {{".aws/credentials",
                "[p]\ncredential_process = printf '%s' '{\"Version\": 1, "
                "\"AccessKeyId\": \"AKIAPROC\", \"SecretAccessKey\": \"s\"}'"
                "\n"}},
     .want_akid = "AKIAPROC",
     .want_source = "(%D/.aws/credentials)"},
    {.name = "process: static keys come first",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_PROFILE=p"},
     .files = {{".aws/credentials",
                "[p]\naws_access_key_id=" AKID2 "\naws_secret_access_key=" SK2
                "\ncredential_process = false\n"}},
     .want_akid = AKID2},
    {.name = "process: exit status and stderr",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_PROFILE=p", "PATH=/usr/bin:/bin"},
     .files = {{".aws/config",
                "[profile p]\ncredential_process = echo " CANARY
                "; echo first >&2; echo 'SSO session expired' >&2; exit 3\n"}},
     .want = EI_DENIED,
     .want_text = "credential_process exited with status 3: SSO session "
                  "expired",
     .want_locator = "%D/.aws/config, profile p"},
    {.name = "process: exit status, silent",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_PROFILE=p", "PATH=/usr/bin:/bin"},
     .files = {{".aws/config", "[profile p]\ncredential_process = false\n"}},
     .want = EI_DENIED,
     .want_text = "credential_process exited with status 1 (and wrote "
                  "nothing to stderr)"},
    {.name = "process: command not found",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_PROFILE=p", "PATH=/usr/bin:/bin"},
     .files = {{".aws/config",
                "[profile p]\ncredential_process = /nonexistent/helper\n"}},
     .want = EI_DENIED,
     .want_text = "credential_process exited with status 127: "},
    {.name = "process: killed by a signal",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_PROFILE=p", "PATH=/usr/bin:/bin"},
     .files = {{".aws/config",
                "[profile p]\ncredential_process = kill -9 $$\n"}},
     .want = EI_DENIED,
     .want_text = "credential_process was killed by signal 9"},
    {.name = "process: Version 2",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_PROFILE=p", "PATH=/usr/bin:/bin",
                 "PROC_OUT={\"Version\":2,\"AccessKeyId\":\"A\","
                 "\"SecretAccessKey\":\"" CANARY "\"}"},
     .files = {{".aws/config", "[profile p]\ncredential_process = "
                               "printf '%s' \"$PROC_OUT\"\n"}},
     .want = EI_BADDATA,
     .want_text = "credential_process output must have \"Version\": 1"},
    {.name = "process: not JSON",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_PROFILE=p", "PATH=/usr/bin:/bin"},
     .files = {{".aws/config", "[profile p]\ncredential_process = echo "
                               "AccessKeyId=" CANARY "\n"}},
     .want = EI_BADDATA,
     .want_text = "credential_process output is not JSON"},
    {.name = "process: malformed secret key",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_PROFILE=p", "PATH=/usr/bin:/bin",
                 "PROC_OUT={\"Version\":1,\"AccessKeyId\":\"A\","
                 "\"SecretAccessKey\":\"two " CANARY "\"}"},
     .files = {{".aws/config", "[profile p]\ncredential_process = "
                               "printf '%s' \"$PROC_OUT\"\n"}},
     .want = EI_BADDATA,
     .want_text = "malformed credentials in the credential_process output"},
    {.name = "process: expired already",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_PROFILE=p", "PATH=/usr/bin:/bin",
                 "PROC_OUT={\"Version\":1,\"AccessKeyId\":\"A\","
                 "\"SecretAccessKey\":\"" CANARY "\",\"Expiration\":"
                 "\"2001-01-01T00:00:00Z\"}"},
     .files = {{".aws/config", "[profile p]\ncredential_process = "
                               "printf '%s' \"$PROC_OUT\"\n"}},
     .want = EI_DENIED,
     .want_text = "credential_process gave credentials that have expired"},
    {.name = "process: bad Expiration",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_PROFILE=p", "PATH=/usr/bin:/bin",
                 "PROC_OUT={\"Version\":1,\"AccessKeyId\":\"A\","
                 "\"SecretAccessKey\":\"s\",\"Expiration\":\"tomorrow\"}"},
     .files = {{".aws/config", "[profile p]\ncredential_process = "
                               "printf '%s' \"$PROC_OUT\"\n"}},
     .want = EI_BADDATA,
     .want_text = "Expiration is not an ISO 8601 time"},
    {.name = "process: as a role's source",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_PROFILE=app", "PATH=/usr/bin:/bin"},
     .files = {{".aws/config",
                "[profile app]\nrole_arn=" ROLE "\nsource_profile=proc\n"
                "[profile proc]\ncredential_process = printf '%s' "
                "'{\"Version\":1,\"AccessKeyId\":\"AKIAPROC\","
                "\"SecretAccessKey\":\"s\",\"SessionToken\":\"pt\"}'\n"}},
     .replies = {{200, STS_OK("AssumeRole", "ASIAROLE", "s", "t", FAR)}},
     .want_akid = "ASIAROLE",
     .reqs = {{"POST", NULL, "/", {"X-Amz-Security-Token: pt"}}}},
    {.name = "file: sso is not supported",
     .opts = {"region=us-east-1"},
     .environ = {"HOME=%D", "AWS_PROFILE=sso"},
     .files = {{".aws/config", "[profile sso]\nsso_session=corp\n"}},
     .want = EI_DENIED,
     .want_text = "profile sso uses sso_session, which envinject does not "
                  "support",
     .want_locator = "%D/.aws/config"},
    {.name = "env: AWS_CREDENTIAL_EXPIRATION malformed",
     .opts = {"region=us-east-1"},
     .environ = {"AWS_ACCESS_KEY_ID=" AKID, "AWS_SECRET_ACCESS_KEY=" SK,
                 "AWS_CREDENTIAL_EXPIRATION=soon"},
     .want = EI_BADCONFIG,
     .want_text = "not an ISO 8601 time"},
    {.name = "env: AWS_CREDENTIAL_EXPIRATION far away",
     .opts = {"region=us-east-1"},
     .environ = {"AWS_ACCESS_KEY_ID=" AKID, "AWS_SECRET_ACCESS_KEY=" SK,
                 "AWS_CREDENTIAL_EXPIRATION=" FAR},
     .want_akid = AKID},
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
    char text[2048];
    subst(content, dir, text, sizeof(text));
    fputs(text, f);
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
        for (size_t k = 0; k < BODY_N && w->body[k] != NULL; k++) {
            const char *b = w->body[k];
            bool absent = b[0] == '!';
            bool has = r[i].body != NULL && strstr(r[i].body, b + absent);
            if (has == absent)
                fail_msg("%s: request %zu body \"%s\" %s \"%s\"", c->name,
                         i + 1, r[i].body != NULL ? r[i].body : "",
                         absent ? "holds" : "lacks", b + absent);
        }
        if (i + 1 < REQS_N && c->reqs[i + 1].method == NULL && n > i + 1 &&
            c->reqs_exact)
            fail_msg("%s: %zu requests, want %zu", c->name, n, i + 1);
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

/* ---- the STS, process and time parsers ---- */

struct time_case {
    const char *text;
    int64_t want; /* -1: malformed */
};

static const struct time_case times[] = {
    {"2024-01-01T00:00:00Z", 1704067200},
    {"2024-01-01T00:00:00.123Z", 1704067200},
    {"2024-01-01T01:00:00+01:00", 1704067200},
    {"2023-12-31T23:00:00-01:00", 1704067200},
    {"2024-02-29T00:00:00Z", 1709164800},
    {"2099-01-01T00:00:00Z", 4070908800},
    {"2023-02-29T00:00:00Z", -1},
    {"2024-13-01T00:00:00Z", -1},
    {"2024-01-01 00:00:00Z", -1},
    {"2024-01-01T00:00:00", -1},
    {"2024-01-01T00:00:00.Z", -1},
    {"2024-01-01T00:00:00Zx", -1},
    {"2024-1-01T00:00:00Z", -1},
    {"1969-12-31T23:59:59Z", -1},
    {"", -1},
};

static void test_times(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(times); i++) {
        int64_t t = -1;
        int rc = ei_aws_parse_time(times[i].text, strlen(times[i].text), &t);
        if (times[i].want < 0 ? rc == 0 : rc != 0 || t != times[i].want)
            fail_msg("time %s: rc %d, %lld", times[i].text, rc, (long long)t);
    }
}

struct xml_case {
    const char *name;
    const char *text;
    int want_rc;        /* of ei_aws_xml_walk */
    const char *leaves; /* "path=text;" for each leaf */
};

static const struct xml_case xmls[] = {
    {"xml: leaves and paths", "<a><b>1</b><c><d>2</d></c></a>", 0,
     "a/b=1;a/c/d=2;"},
    {"xml: declaration, comments, blanks",
     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- x -->\n<a>\n <b>x</b>"
     "<!-- <c>no</c> -->\n</a>\n<!-- end -->\n",
     0, "a/b=x;"},
    {"xml: entities",
     "<a>&lt;&gt;&amp;&quot;&apos;&#65;&#x42;&#xe9;&#x20AC;"
     "&#x1F600;</a>",
     0, "a=<>&\"'AB\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80;"},
    {"xml: prefixes dropped, attributes skipped",
     "<s:a xmlns:s=\"u\" k='v>'><s:b x=\"1\"/></s:a>", 0, "a/b=;"},
    {"xml: empty element", "<a></a>", 0, "a=;"},
    {"xml: unknown entity", "<a>&nbsp;</a>", -1, ""},
    {"xml: bare ampersand", "<a>R&D</a>", -1, ""},
    {"xml: NUL reference", "<a>&#0;</a>", -1, ""},
    {"xml: surrogate reference", "<a>&#xD800;</a>", -1, ""},
    {"xml: reference too large", "<a>&#x110000;</a>", -1, ""},
    {"xml: DOCTYPE", "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>", -1, ""},
    {"xml: CDATA", "<a><![CDATA[x]]></a>", -1, ""},
    {"xml: processing instruction", "<a><?pi x?></a>", -1, ""},
    {"xml: mismatched end tag", "<a><b>1</c></a>", -1, ""},
    {"xml: unclosed", "<a><b>1</b>", -1, ""},
    {"xml: two roots", "<a/><b/>", -1, ""},
    {"xml: text outside", "<a/>x", -1, ""},
    {"xml: mixed content", "<a>x<b/></a>", -1, ""},
    {"xml: text after child", "<a><b/>x</a>", -1, ""},
    {"xml: attribute without value", "<a b></a>", -1, ""},
    {"xml: attribute without blank", "<a b=\"1\"c=\"2\"></a>", -1, ""},
    {"xml: '<' in an attribute", "<a b=\"<\"></a>", -1, ""},
    {"xml: too deep",
     "<a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a>x</a></a></a></a>"
     "</a></a></a></a></a></a></a></a></a></a></a></a></a>",
     -1, ""},
    {"xml: sixteen levels",
     "<a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><b>x</b></a></a></a></a>"
     "</a></a></a></a></a></a></a></a></a></a></a>",
     0, "a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/b=x;"},
    {"xml: empty", "", -1, ""},
    {"xml: end tag first", "</a>", -1, ""},
    {"xml: unterminated comment", "<a/><!--", -1, ""},
};

struct leaves {
    char buf[512];
    size_t n;
};

static int collect_leaf(void *ctx, const struct ei_aws_xml_name *path,
                        size_t depth, const char *text, size_t len)
{
    struct leaves *l = ctx;
    for (size_t i = 0; i < depth; i++)
        l->n += (size_t)snprintf(l->buf + l->n, sizeof(l->buf) - l->n, "%s%.*s",
                                 i ? "/" : "", (int)path[i].n, path[i].s);
    l->n += (size_t)snprintf(l->buf + l->n, sizeof(l->buf) - l->n, "=%.*s;",
                             (int)len, text);
    return 0;
}

static void run_xml(void **state)
{
    const struct xml_case *c = *state;
    size_t len = strlen(c->text);
    char *scratch = malloc(len + 1);
    assert_non_null(scratch);
    struct leaves l = {.n = 0};
    l.buf[0] = '\0';
    int rc = ei_aws_xml_walk(c->text, len, scratch, collect_leaf, &l);
    free(scratch);
    if (rc != c->want_rc)
        fail_msg("%s: rc %d, want %d", c->name, rc, c->want_rc);
    if (rc == 0 && strcmp(l.buf, c->leaves) != 0)
        fail_msg("%s: leaves \"%s\", want \"%s\"", c->name, l.buf, c->leaves);
}

struct sts_case {
    const char *name;
    const char *body;
    enum ei_status want;
    const char *want_akid; /* or a part of the error text */
    int64_t want_expires;
};

static const struct sts_case stss[] = {
    {"sts parse: entities in the token",
     "<AssumeRoleResponse><AssumeRoleResult><Credentials>"
     "<AccessKeyId>ASIA1</AccessKeyId><SecretAccessKey>a&amp;b"
     "</SecretAccessKey><SessionToken>t&#x2B;/=</SessionToken>"
     "<Expiration>2024-01-01T00:00:00Z</Expiration></Credentials>"
     "<AssumedRoleUser><Arn>x</Arn></AssumedRoleUser></AssumeRoleResult>"
     "</AssumeRoleResponse>",
     EI_OK, "ASIA1", 1704067200},
    {"sts parse: other operation",
     "<AssumeRoleWithSAMLResponse><AssumeRoleWithSAMLResult><Credentials>"
     "<AccessKeyId>ASIA1</AccessKeyId></Credentials>"
     "</AssumeRoleWithSAMLResult></AssumeRoleWithSAMLResponse>",
     EI_BADDATA, "(no AssumeRoleResponse)", 0},
    {"sts parse: credential twice",
     "<AssumeRoleResponse><AssumeRoleResult><Credentials>"
     "<AccessKeyId>A</AccessKeyId><AccessKeyId>B</AccessKeyId>"
     "</Credentials></AssumeRoleResult></AssumeRoleResponse>",
     EI_BADDATA, "a credential element twice", 0},
    {"sts parse: bad expiration",
     "<AssumeRoleResponse><AssumeRoleResult><Credentials>"
     "<AccessKeyId>A</AccessKeyId><SecretAccessKey>s</SecretAccessKey>"
     "<SessionToken>t</SessionToken><Expiration>never</Expiration>"
     "</Credentials></AssumeRoleResult></AssumeRoleResponse>",
     EI_BADDATA, "malformed Expiration", 0},
    {"sts parse: blank in the key",
     "<AssumeRoleResponse><AssumeRoleResult><Credentials>"
     "<AccessKeyId>A</AccessKeyId><SecretAccessKey>" CANARY
     " </SecretAccessKey><SessionToken>t</SessionToken><Expiration>" FAR
     "</Expiration></Credentials></AssumeRoleResult>"
     "</AssumeRoleResponse>",
     EI_BADDATA, "malformed credentials in the STS AssumeRole answer", 0},
    {"sts parse: an error document", STS_ERR("AccessDenied", "no"), EI_BADDATA,
     "(no AssumeRoleResponse)", 0},
};

static void run_sts(void **state)
{
    const struct sts_case *c = *state;
    struct fake_host *fh = fake_host_new(NULL, NULL, NULL);
    assert_non_null(fh);
    const struct ei_host *h = fake_host_host(fh);
    struct ei_aws_creds cr = {0};
    struct ei_error err = {0};
    enum ei_status st = ei_aws_sts_parse_creds(
        h, "AssumeRole", c->body, strlen(c->body), "here", &cr, &err);
    if (st != c->want)
        fail_msg("%s: got %d, want %d (%s)", c->name, (int)st, (int)c->want,
                 err.text);
    if (st == EI_OK) {
        expect_eq(c->name, "key id", cr.access_key_id, c->want_akid);
        expect_eq(c->name, "secret", cr.secret_access_key, "a&b");
        expect_eq(c->name, "token", cr.session_token, "t+/=");
        assert_int_equal(cr.expires, c->want_expires);
    } else {
        expect_part(c->name, "error text", err.text, c->want_akid, "");
        if (cr.access_key_id != NULL)
            fail_msg("%s: credentials left behind", c->name);
    }
    check_no_canary(c->name, "the error text", err.text);
    ei_aws_creds_clear(h, &cr);
    fake_host_free(fh);
}

static void test_sts_error(void **state)
{
    (void)state;
    char code[EI_AWS_CODE_LEN], msg[64];
    const char *e = STS_ERR("InvalidIdentityToken", "a &lt;b&gt; c");
    assert_int_equal(ei_aws_sts_error(e, strlen(e), 400, code, sizeof(code),
                                      msg, sizeof(msg)),
                     1);
    assert_string_equal(code, "InvalidIdentityToken");
    assert_string_equal(msg, "a <b> c");
    /* a message longer than the room is cut */
    const char *l = STS_ERR("X", "0123456789012345678901234567890123456789"
                                 "0123456789012345678901234567890123456789");
    assert_int_equal(ei_aws_sts_error(l, strlen(l), 400, code, sizeof(code),
                                      msg, sizeof(msg)),
                     1);
    assert_int_equal(strlen(msg), sizeof(msg) - 1);
    /* a code with a blank is no code */
    const char *b = STS_ERR("Access Denied", "m");
    assert_int_equal(ei_aws_sts_error(b, strlen(b), 403, code, sizeof(code),
                                      msg, sizeof(msg)),
                     0);
    assert_string_equal(code, "HTTP 403");
    assert_string_equal(msg, "");
    assert_int_equal(
        ei_aws_sts_error("{}", 2, 500, code, sizeof(code), msg, sizeof(msg)),
        0);
    assert_string_equal(code, "HTTP 500");
    assert_int_equal(
        ei_aws_sts_error(NULL, 0, 502, code, sizeof(code), msg, sizeof(msg)),
        0);
    assert_string_equal(code, "HTTP 502");
}

struct proc_case {
    const char *name;
    const char *body;
    enum ei_status want;
    const char *want_text; /* the key id, or a part of the error text */
    int64_t want_expires;
};

static const struct proc_case procs[] = {
    {"process parse: minimal",
     "{\"Version\":1,\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"s\"}", EI_OK,
     "AK", 0},
    {"process parse: null token and expiry",
     "{\"Version\":1,\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"s\","
     "\"SessionToken\":null,\"Expiration\":null}",
     EI_OK, "AK", 0},
    {"process parse: expiry with offset",
     "{\"Version\":1,\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"s\","
     "\"Expiration\":\"2024-01-01T02:00:00+02:00\"}",
     EI_OK, "AK", 1704067200},
    {"process parse: Version as a string",
     "{\"Version\":\"1\",\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"s\"}",
     EI_BADDATA, "\"Version\": 1", 0},
    {"process parse: no Version",
     "{\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"s\"}", EI_BADDATA,
     "\"Version\": 1", 0},
    {"process parse: no secret key", "{\"Version\":1,\"AccessKeyId\":\"AK\"}",
     EI_BADDATA, "without SecretAccessKey", 0},
    {"process parse: token a number",
     "{\"Version\":1,\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"s\","
     "\"SessionToken\":5}",
     EI_BADDATA, "SessionToken must be a string", 0},
    {"process parse: duplicate member",
     "{\"Version\":1,\"AccessKeyId\":\"AK\",\"AccessKeyId\":\"B\","
     "\"SecretAccessKey\":\"s\"}",
     EI_BADDATA, "not JSON", 0},
    {"process parse: an array", "[1]", EI_BADDATA, "not a JSON object", 0},
    {"process parse: NUL in the key",
     "{\"Version\":1,\"AccessKeyId\":\"AK\",\"SecretAccessKey\":"
     "\"a\\u0000" CANARY "\"}",
     EI_BADDATA, "not JSON", 0},
};

static void run_proc(void **state)
{
    const struct proc_case *c = *state;
    struct fake_host *fh = fake_host_new(NULL, NULL, NULL);
    assert_non_null(fh);
    const struct ei_host *h = fake_host_host(fh);
    struct ei_aws_creds cr = {0};
    struct ei_error err = {0};
    enum ei_status st =
        ei_aws_parse_process(h, c->body, strlen(c->body), "here", &cr, &err);
    if (st != c->want)
        fail_msg("%s: got %d, want %d (%s)", c->name, (int)st, (int)c->want,
                 err.text);
    if (st == EI_OK) {
        expect_eq(c->name, "key id", cr.access_key_id, c->want_text);
        assert_null(cr.session_token);
        assert_int_equal(cr.expires, c->want_expires);
    } else {
        expect_part(c->name, "error text", err.text, c->want_text, "");
        expect_eq(c->name, "locator", err.locator, "here");
    }
    check_no_canary(c->name, "the error text", err.text);
    ei_aws_creds_clear(h, &cr);
    fake_host_free(fh);
}

/* ---- reuse and refresh of temporary credentials ---- */

/* Web identity credentials expiring at exp: the first resolve asks STS,
   the second one asks again only when want_refresh. */
static void refresh_case(const char *exp, bool want_refresh)
{
    char dir[] = "/tmp/ei-aws-refresh-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char tok[PATH_SIZE], env_tok[PATH_SIZE + 32];
    snprintf(tok, sizeof(tok), "%s/token", dir);
    snprintf(env_tok, sizeof(env_tok), "AWS_WEB_IDENTITY_TOKEN_FILE=%s", tok);
    write_file(dir, "token", "first");
    const char *opts[] = {"region=us-east-1", NULL};
    const char *env[] = {"AWS_ROLE_ARN=" ROLE, env_tok, NULL};
    struct fake_host *fh = fake_host_new(opts, env, dir);
    assert_non_null(fh);
    char body[2048];
    snprintf(body, sizeof(body), "%s",
             STS_OK("AssumeRoleWithWebIdentity", "ASIAONE", "s1", "t1", "@"));
    char *at = strchr(body, '@');
    char full[2048];
    snprintf(full, sizeof(full), "%.*s%s%s", (int)(at - body), body, exp,
             at + 1);
    assert_int_equal(fake_host_http_push(fh, 200, full, 0), 0);
    assert_int_equal(fake_host_http_push(fh, 200,
                                         STS_OK("AssumeRoleWithWebIdentity",
                                                "ASIATWO", "s2", "t2", FAR),
                                         0),
                     0);
    const struct ei_host *h = fake_host_host(fh);
    struct ei_error err = {0};
    struct ei_aws *a = NULL;
    assert_int_equal(ei_aws_open(h, &svc, &a, &err), EI_OK);
    struct ei_deadline dl;
    fake_deadline(&dl, DL_MS);
    assert_int_equal(ei_aws_resolve(a, &dl, &err), EI_OK);
    assert_string_equal(ei_aws_credentials(a)->access_key_id, "ASIAONE");
    /* Kubernetes rotated the token meanwhile */
    write_file(dir, "token", "second");
    assert_int_equal(ei_aws_resolve(a, &dl, &err), EI_OK);
    size_t n = 0;
    const struct fake_http_request *r = fake_host_http_requests(fh, &n);
    if (want_refresh) {
        assert_int_equal(n, 2);
        assert_string_equal(ei_aws_credentials(a)->access_key_id, "ASIATWO");
        assert_non_null(strstr(r[1].body, "WebIdentityToken=second"));
        assert_non_null(strstr(fake_host_log(fh), "fetching new ones"));
        /* the new ones are good: no third call */
        assert_int_equal(ei_aws_resolve(a, &dl, &err), EI_OK);
        fake_host_http_requests(fh, &n);
        assert_int_equal(n, 2);
    } else {
        assert_int_equal(n, 1);
        assert_string_equal(ei_aws_credentials(a)->access_key_id, "ASIAONE");
        assert_int_equal(fake_host_http_pending(fh), 1);
    }
    ei_aws_close(a);
    fake_host_free(fh);
    rm_tree(dir);
}

static void test_refresh_expired(void **state)
{
    (void)state;
    refresh_case("2001-01-01T00:00:00Z", true);
}

static void test_refresh_within_margin(void **state)
{
    (void)state;
    /* a minute left, less than the margin */
    char exp[32];
    time_t soon = time(NULL) + 60;
    struct tm tm;
    gmtime_r(&soon, &tm);
    strftime(exp, sizeof(exp), "%Y-%m-%dT%H:%M:%SZ", &tm);
    refresh_case(exp, true);
}

static void test_reuse_while_good(void **state)
{
    (void)state;
    /* an hour left: kept */
    char exp[32];
    time_t later = time(NULL) + 3600;
    struct tm tm;
    gmtime_r(&later, &tm);
    strftime(exp, sizeof(exp), "%Y-%m-%dT%H:%M:%SZ", &tm);
    refresh_case(exp, false);
}

/* A credential_process that outlives the layer's deadline is killed. */
static void test_process_timeout(void **state)
{
    (void)state;
    char dir[] = "/tmp/ei-aws-proc-XXXXXX";
    assert_non_null(mkdtemp(dir));
    write_file(dir, ".aws/config",
               "[default]\ncredential_process = exec sleep 30\n");
    char home[PATH_SIZE + 8];
    snprintf(home, sizeof(home), "HOME=%s", dir);
    const char *opts[] = {"region=us-east-1", NULL};
    const char *env[] = {home, "PATH=/usr/bin:/bin", NULL};
    struct fake_host *fh = fake_host_new(opts, env, dir);
    assert_non_null(fh);
    const struct ei_host *h = fake_host_host(fh);
    struct ei_error err = {0};
    struct ei_aws *a = NULL;
    assert_int_equal(ei_aws_open(h, &svc, &a, &err), EI_OK);
    struct ei_deadline dl;
    fake_deadline(&dl, 200);
    assert_int_equal(ei_aws_resolve(a, &dl, &err), EI_UNAVAILABLE);
    assert_non_null(strstr(err.text, "did not finish before the layer's "
                                     "timeout (killed)"));
    ei_aws_close(a);
    fake_host_free(fh);
    rm_tree(dir);
}

/* ---- against the AWS SDK for JavaScript (tests/fixtures/aws-sts) ---- */

/* The form body of a request as a JSON object of decoded values. */
static json_t *form_of(const char *body)
{
    json_t *o = json_object();
    char *copy = strdup(body != NULL ? body : "");
    assert_non_null(copy);
    char *save = NULL;
    for (char *p = strtok_r(copy, "&", &save); p != NULL;
         p = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(p, '=');
        assert_non_null(eq);
        *eq = '\0';
        char *v = eq + 1, *w = v;
        for (char *r = v; *r != '\0'; r++) {
            unsigned x;
            if (*r == '%' && sscanf(r + 1, "%2x", &x) == 1) {
                *w++ = (char)x;
                r += 2;
            } else {
                *w++ = *r == '+' ? ' ' : *r;
            }
        }
        *w = '\0';
        json_object_set_new(o, p, json_string(v));
    }
    free(copy);
    return o;
}

/* The body with @EXPIRATION@ made FAR, malloc'd. */
static char *with_expiry(const char *body)
{
    const char *at = strstr(body, "@EXPIRATION@");
    assert_non_null(at);
    size_t n = strlen(body) + strlen(FAR);
    char *out = malloc(n + 1);
    assert_non_null(out);
    snprintf(out, n + 1, "%.*s%s%s", (int)(at - body), body, FAR,
             at + strlen("@EXPIRATION@"));
    return out;
}

static void sdk_exchange(json_t *ex, json_t *result, bool web)
{
    char dir[] = "/tmp/ei-aws-sdk-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char home[PATH_SIZE + 8], tokvar[PATH_SIZE + 40];
    snprintf(home, sizeof(home), "HOME=%s", dir);
    snprintf(tokvar, sizeof(tokvar), "AWS_WEB_IDENTITY_TOKEN_FILE=%s/token",
             dir);
    write_file(dir, "token", "sdk-web-identity-token");
    /* what generate.mjs gave the SDK */
    write_file(dir, ".aws/credentials",
               "[base]\naws_access_key_id = AKIDBASE\n"
               "aws_secret_access_key = base/Secret+Key0\n");
    write_file(dir, ".aws/config",
               "[profile app]\nregion = eu-west-1\n"
               "role_arn = arn:aws:iam::123456789012:role/sdk-assume\n"
               "source_profile = base\nexternal_id = ext-sdk\n"
               "role_session_name = sdk-session\n");
    const char *opts[] = {"region=eu-west-1", NULL};
    const char *env_web[] = {home,
                             "AWS_ROLE_ARN=arn:aws:iam::123456789012:"
                             "role/sdk",
                             tokvar, "AWS_ROLE_SESSION_NAME=sdk-session", NULL};
    const char *env_ini[] = {home, "AWS_PROFILE=app", NULL};
    struct fake_host *fh = fake_host_new(opts, web ? env_web : env_ini, dir);
    assert_non_null(fh);
    json_t *resp = json_object_get(ex, "response");
    char *body = with_expiry(json_string_value(json_object_get(resp, "body")));
    assert_int_equal(
        fake_host_http_push(
            fh, (long)json_integer_value(json_object_get(resp, "status")), body,
            0),
        0);
    free(body);
    const struct ei_host *h = fake_host_host(fh);
    struct ei_error err = {0};
    struct ei_aws *a = NULL;
    assert_int_equal(ei_aws_open(h, &svc, &a, &err), EI_OK);
    struct ei_deadline dl;
    fake_deadline(&dl, DL_MS);
    if (ei_aws_resolve(a, &dl, &err) != EI_OK)
        fail_msg("%s: %s", web ? "web identity" : "profile", err.text);
    /* the answer the SDK took, read the same way */
    const struct ei_aws_creds *cr = ei_aws_credentials(a);
    assert_string_equal(cr->access_key_id, json_string_value(json_object_get(
                                               result, "accessKeyId")));
    assert_string_equal(
        cr->secret_access_key,
        json_string_value(json_object_get(result, "secretAccessKey")));
    assert_string_equal(cr->session_token, json_string_value(json_object_get(
                                               result, "sessionToken")));
    assert_int_equal(cr->expires, 4070908800);
    /* the request the SDK sent, parameter for parameter; the SDK spells
       out STS's default duration, which envinject leaves to STS */
    size_t n = 0;
    const struct fake_http_request *r = fake_host_http_requests(fh, &n);
    assert_int_equal(n, 1);
    json_t *req = json_object_get(ex, "request");
    json_t *sdk_form = json_object_get(req, "form");
    json_t *ours = form_of(r[0].body);
    const char *k;
    json_t *v;
    json_object_foreach(sdk_form, k, v)
    {
        json_t *o = json_object_get(ours, k);
        if (o == NULL && strcmp(k, "DurationSeconds") == 0 &&
            strcmp(json_string_value(v), "3600") == 0)
            continue;
        if (o == NULL || !json_equal(o, v))
            fail_msg("parameter %s: SDK \"%s\", envinject \"%s\"", k,
                     json_string_value(v),
                     o != NULL ? json_string_value(o) : "(none)");
    }
    json_object_foreach(ours, k, v)
    {
        if (json_object_get(sdk_form, k) == NULL)
            fail_msg("parameter %s: the SDK does not send it", k);
    }
    json_decref(ours);
    json_t *sdk_hdrs = json_object_get(req, "headers");
    const char *ctype = fake_http_header(&r[0], "Content-Type");
    const char *sdk_ctype =
        json_string_value(json_object_get(sdk_hdrs, "content-type"));
    assert_non_null(ctype);
    assert_int_equal(strncmp(ctype, sdk_ctype, strlen(sdk_ctype)), 0);
    assert_true(ctype[strlen(sdk_ctype)] == '\0' ||
                ctype[strlen(sdk_ctype)] == ';');
    assert_string_equal(r[0].method,
                        json_string_value(json_object_get(req, "method")));
    assert_string_equal(r[0].path,
                        json_string_value(json_object_get(req, "path")));
    /* signed exactly when the SDK signs */
    assert_int_equal(fake_http_header(&r[0], "Authorization") != NULL,
                     json_object_get(sdk_hdrs, "authorization") != NULL);
    ei_aws_close(a);
    fake_host_free(fh);
    rm_tree(dir);
}

static void test_sdk_fixtures(void **state)
{
    (void)state;
    /* make check names the source tree; run by hand, this file's */
    const char *top = getenv("top_srcdir");
    char path[PATH_SIZE];
    if (top != NULL)
        snprintf(path, sizeof(path), "%s/tests/fixtures/aws-sts/exchanges.json",
                 top);
    else
        snprintf(path, sizeof(path), "%.*s/../fixtures/aws-sts/exchanges.json",
                 (int)(strrchr(__FILE__, '/') - __FILE__), __FILE__);
    json_error_t je;
    json_t *doc = json_load_file(path, 0, &je);
    if (doc == NULL)
        fail_msg("%s: %s", path, je.text);
    json_t *ex = json_object_get(doc, "exchanges");
    json_t *res = json_object_get(doc, "results");
    assert_int_equal(json_array_size(ex), 2);
    assert_int_equal(json_array_size(res), 2);
    for (size_t i = 0; i < 2; i++) {
        const char *sdk =
            json_string_value(json_object_get(json_array_get(res, i), "sdk"));
        sdk_exchange(json_array_get(ex, i), json_array_get(res, i),
                     strcmp(sdk, "fromTokenFile") == 0);
    }
    json_decref(doc);
}

int main(void)
{
    static struct CMUnitTest tests[ARRAY_LEN(cases) + ARRAY_LEN(inis) +
                                   ARRAY_LEN(codes) + ARRAY_LEN(docs) +
                                   ARRAY_LEN(xmls) + ARRAY_LEN(stss) +
                                   ARRAY_LEN(procs) + 8];
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
    for (size_t i = 0; i < ARRAY_LEN(xmls); i++)
        tests[k++] = (struct CMUnitTest){xmls[i].name, run_xml, NULL, NULL,
                                         (void *)&xmls[i]};
    for (size_t i = 0; i < ARRAY_LEN(stss); i++)
        tests[k++] = (struct CMUnitTest){stss[i].name, run_sts, NULL, NULL,
                                         (void *)&stss[i]};
    for (size_t i = 0; i < ARRAY_LEN(procs); i++)
        tests[k++] = (struct CMUnitTest){procs[i].name, run_proc, NULL, NULL,
                                         (void *)&procs[i]};
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_ini_section_only);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_times);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_sts_error);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_refresh_expired);
    tests[k++] =
        (struct CMUnitTest)cmocka_unit_test(test_refresh_within_margin);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_reuse_while_good);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_process_timeout);
    tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_sdk_fixtures);
    assert_int_equal(k, ARRAY_LEN(tests));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
