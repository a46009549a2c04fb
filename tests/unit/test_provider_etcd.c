/* SPDX-License-Identifier: MIT */
/* Unit tests of the etcd provider (providers/etcd.c) through the fake
   host's canned HTTP replies; link with -Wl,--wrap=malloc for the
   allocation-failure test. */

#include <errno.h>
#include <fcntl.h>
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
#include <jansson.h>
#include <sodium.h>

#include <envinject/provider.h>

#include "common/urlpath.h"
#include "etcd/etcd.h"
#include "expand.h"
#include "host.h"

extern const struct ei_provider ei_provider_etcd;

#define CANARY    "EI_CANARY_e7cd"
#define PATH_SIZE 512
#define OPTS_N    12
#define ENV_N     4
#define REPLIES_N 8
#define REQS_N    8
#define WANT_N    8
#define DL_MS     5000 /* the deadline of a case that sets none */
#define EP1       "http://e1:2379"
#define EP2       "http://e2:2379"
#define OPT_EP    "endpoints=" EP1
#define OPT_PFX   "prefix=/app/"
/* a response header as etcd 3.4 sends it */
#define HDR(rev)                                                               \
    "\"header\":{\"cluster_id\":\"14841639068965178418\",\"member_id\":"       \
    "\"10276657743932975437\",\"revision\":\"" rev "\",\"raft_term\":\"2\"}"
/* the gateway's interim 100 tells a slow member from a frozen one */
#define RANGE_FLAGS (EI_HTTP_SECRET | EI_HTTP_CONTINUE)
#define AUTH_FLAGS                                                             \
    (EI_HTTP_SECRET | EI_HTTP_SECRET_BODY | EI_HTTP_NORETRY | EI_HTTP_CONTINUE)
#define AUTH_PATH  "/v3/auth/authenticate"
#define RANGE_PATH "/v3/kv/range"
#define AUTH_FAILED                                                            \
    "{\"error\":\"etcdserver: authentication failed, invalid user ID or "      \
    "password\",\"message\":\"etcdserver: authentication failed, invalid "     \
    "user ID or password\",\"code\":3}"
#define TOKEN_BAD                                                              \
    "{\"error\":\"etcdserver: invalid auth token\",\"message\":\"etcdserver: " \
    "invalid auth token\",\"code\":16}"
#define OK_ONE                                                                 \
    "{" HDR("9") ",\"kvs\":[{\"key\":\"<</app/a>>\",\"mod_revision\":\"4\","   \
                 "\"value\":\"<<1>>\"}],\"count\":\"1\"}"
#define LOC1(ep)       "/app/a@4 (" ep ")"
#define MANY_PAGES_N   8
#define MANY_VALUE_MAX 1200

/* The same calls over etcd's native gRPC API (api = "grpc"). */
#define OPT_GRPC     "api=grpc"
#define GRANGE_PATH  "/etcdserverpb.KV/Range"
#define GAUTH_PATH   "/etcdserverpb.Auth/Authenticate"
#define GRANGE_FLAGS (EI_HTTP_SECRET | EI_HTTP_GRPC)
#define GAUTH_FLAGS                                                            \
    (EI_HTTP_SECRET | EI_HTTP_SECRET_BODY | EI_HTTP_NORETRY | EI_HTTP_GRPC)
/* bytes of the gRPC message prefix: a compressed flag, a 32-bit length */
#define GRPC_PREFIX 5
/* Protobuf bodies are written in the notation of pb_items (below).  A
   ResponseHeader as etcd 3.4 sends it, as field 1 of a response: */
#define PB_HDR(rev)                                                            \
    "1{1:14841639068965178418 2:10276657743932975437 3:" rev " 4:2}"
/* OK_ONE over gRPC */
#define PB_ONE PB_HDR("9") " 2{1:'/app/a' 3:4 5:'1'} 4:1"
/* A gRPC reply: HTTP 200, grpc-status code (-1: none), grpc-message msg
   and the framed protobuf pb (NULL: an empty body, as with most errors). */
#define GRPC(code_, msg, pb)                                                   \
    {                                                                          \
        .status = 200, .body = (pb), .grpc = true, .code = (code_),            \
        .message = (msg)                                                       \
    }
#define GRPC_OK(pb) GRPC(0, NULL, pb)
#define GRPC_AUTH_FAILED                                                       \
    GRPC(3, "etcdserver: authentication failed, invalid user ID or password",  \
         NULL)
#define GRPC_TOKEN_BAD GRPC(16, "etcdserver: invalid auth token", NULL)
#define GRPC_OPTS_AUTH                                                         \
    OPT_EP, OPT_PFX, OPT_GRPC, "username=reader", "password_file=pw"

/* --- allocation failure through ld --wrap=malloc and jansson's hooks --- */

void *__real_malloc(size_t n);
void *__wrap_malloc(size_t n);

/* allocations that succeed before one fails; -1: never fail */
static long chaos_countdown = -1;

static bool chaos_fail(void)
{
    if (chaos_countdown == 0)
        return true;
    if (chaos_countdown > 0)
        chaos_countdown--;
    return false;
}

void *__wrap_malloc(size_t n)
{
    return chaos_fail() ? NULL : __real_malloc(n);
}

/* jansson reports most allocation failures as syntax errors */
static bool chaos_json_hit;

static void *chaos_json_malloc(size_t n)
{
    if (!chaos_fail())
        return __real_malloc(n);
    chaos_json_hit = true;
    return NULL;
}

/* --- the table --- */

struct reply {
    long status; /* 0 ends the list */
    const char *body;
    unsigned flags; /* FAKE_HTTP_* */
    /* a gRPC reply (fake_host_grpc_push): body is protobuf notation */
    bool grpc;
    int code; /* grpc-status, -1: none */
    const char *message;
};

/*
 * A request the provider must have made.  Range requests are compared
 * field by field after parsing the body as etcd would (JSON, or protobuf
 * over gRPC); key and range_end are bytes with %XX escapes.  The
 * authenticate body is compared as text, or over gRPC with the encoding
 * of body in protobuf notation.
 */
struct want_req {
    const char *path; /* NULL ends the list */
    const char *endpoint;
    const char *key;
    const char *range_end;
    long long limit;
    long long revision; /* 0: the field must be absent */
    bool serializable;
    const char *auth; /* the Authorization header; NULL: none */
    const char *body; /* the exact authenticate body */
    unsigned flags;
};

struct want_entry {
    const char *name; /* NULL ends the list */
    const char *value;
    const char *locator;
};

struct pwfile {
    const char *content; /* NULL: no file */
    int mode;
};

struct etcd_case {
    const char *name;
    const char *opts[OPTS_N]; /* "%D" stands for the case's folder */
    const char *environ[ENV_N];
    const char *arg;
    struct pwfile pw; /* written to %D/pw */
    struct reply replies[REPLIES_N];
    int deadline_ms; /* 0: DL_MS */
    size_t fail_at;
    enum ei_status want_configure;
    enum ei_status want;
    const char *want_text;    /* a part of err.text */
    const char *want_locator; /* a part of err.locator */
    const char *never; /* in neither err nor the log (a value, a password) */
    struct want_req reqs[REQS_N];      /* checked, all of them, when given */
    struct want_entry entries[WANT_N]; /* all of them, when want is EI_OK */
    const char *log_has;
};

#define RANGE1(lim)                                                            \
    {                                                                          \
        .path = RANGE_PATH, .key = "/app/", .range_end = "/app0",              \
        .limit = (lim), .flags = RANGE_FLAGS                                   \
    }

static const struct etcd_case cases[] = {
    /* --- configure --- */
    {.name = "configure-minimal",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200, "{" HDR("1") "}"}},
     .reqs = {RANGE1(5000)}},
    {.name = "configure-every-option",
     .opts = {OPT_EP, OPT_PFX, "cacert=ca.pem", "cert=c.pem", "key=c.key",
              "insecure=false", "max_response_size=100000",
              "serializable=false", "page_size=10000", "username=u",
              "password_file=pw"},
     .pw = {"pw\n", 0600},
     .replies = {{200, "{\"token\":\"t.1\"}"}, {200, "{}"}}},
    {.name = "configure-arg-sets-endpoints",
     .arg = EP2,
     .opts = {"prefix=/p/"},
     .replies = {{200, "{}"}},
     .reqs = {{.path = RANGE_PATH,
               .endpoint = EP2,
               .key = "/p/",
               .range_end = "/p0",
               .limit = 5000,
               .flags = RANGE_FLAGS}}},
    {.name = "configure-no-endpoints",
     .opts = {OPT_PFX},
     .want_configure = EI_BADCONFIG,
     .want_text = "endpoints is required"},
    {.name = "configure-empty-endpoint-in-list",
     .opts = {"endpoints=" EP1 ",," EP2, OPT_PFX},
     .want_configure = EI_BADCONFIG,
     .want_text = "an endpoint is empty"},
    {.name = "configure-blank-endpoint",
     .opts = {"endpoints= \t", OPT_PFX},
     .want_configure = EI_BADCONFIG,
     .want_text = "an endpoint is empty"},
    {.name = "configure-endpoint-without-scheme",
     .opts = {"endpoints=127.0.0.1:2379", OPT_PFX},
     .want_configure = EI_BADCONFIG,
     .want_text = "endpoint '127.0.0.1:2379' needs a scheme"},
    {.name = "configure-no-prefix",
     .opts = {OPT_EP},
     .want_configure = EI_BADCONFIG,
     .want_text = "prefix is required"},
    {.name = "configure-empty-prefix",
     .opts = {OPT_EP, "prefix="},
     .want_configure = EI_BADCONFIG,
     .want_text = "prefix is required"},
    {.name = "configure-page-size-zero",
     .opts = {OPT_EP, OPT_PFX, "page_size=0"},
     .want_configure = EI_BADCONFIG,
     .want_text = "page_size must be from 1 to 10000"},
    {.name = "configure-page-size-too-big",
     .opts = {OPT_EP, OPT_PFX, "page_size=10001"},
     .want_configure = EI_BADCONFIG,
     .want_text = "page_size must be from 1 to 10000"},
    {.name = "configure-grpc-page-size-too-big",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC, "page_size=100001"},
     .want_configure = EI_BADCONFIG,
     .want_text = "page_size must be from 1 to 100000"},
    {.name = "configure-page-size-not-a-number",
     .opts = {OPT_EP, OPT_PFX, "page_size=many"},
     .want_configure = EI_BADCONFIG,
     .want_text = "page_size"},
    {.name = "configure-serializable-not-a-boolean",
     .opts = {OPT_EP, OPT_PFX, "serializable=maybe"},
     .want_configure = EI_BADCONFIG,
     .want_text = "serializable"},
    {.name = "configure-password-in-clear-refused",
     .opts = {OPT_EP, OPT_PFX, "username=u", "password=" CANARY},
     .want_configure = EI_BADCONFIG,
     .want_text = "use password_file or password_env",
     .never = CANARY},
    {.name = "configure-password-alone-refused",
     .opts = {OPT_EP, OPT_PFX, "password=" CANARY},
     .want_configure = EI_BADCONFIG,
     .want_text = "a password in the configuration is refused",
     .never = CANARY},
    {.name = "configure-username-without-password",
     .opts = {OPT_EP, OPT_PFX, "username=u"},
     .want_configure = EI_BADCONFIG,
     .want_text = "exactly one of password_file and password_env"},
    {.name = "configure-username-with-both-sources",
     .opts = {OPT_EP, OPT_PFX, "username=u", "password_file=pw",
              "password_env=PW"},
     .environ = {"PW=x"},
     .want_configure = EI_BADCONFIG,
     .want_text = "exactly one of password_file and password_env"},
    {.name = "configure-password-file-without-username",
     .opts = {OPT_EP, OPT_PFX, "password_file=pw"},
     .want_configure = EI_BADCONFIG,
     .want_text = "password_file needs username"},
    {.name = "configure-password-env-without-username",
     .opts = {OPT_EP, OPT_PFX, "password_env=PW"},
     .environ = {"PW=x"},
     .want_configure = EI_BADCONFIG,
     .want_text = "password_env needs username"},
    {.name = "configure-password-env-bad-name",
     .opts = {OPT_EP, OPT_PFX, "username=u", "password_env=1PW"},
     .want_configure = EI_BADCONFIG,
     .want_text = "password_env must be a variable name"},
    {.name = "configure-password-env-unset",
     .opts = {OPT_EP, OPT_PFX, "username=u", "password_env=PW"},
     .environ = {"PWX=x"},
     .want_configure = EI_BADCONFIG,
     .want_text = "password_env names PW, which is not set"},
    {.name = "configure-password-env-empty",
     .opts = {OPT_EP, OPT_PFX, "username=u", "password_env=PW"},
     .environ = {"PW="},
     .want_configure = EI_BADCONFIG,
     .want_text = "which is not set"},
    {.name = "configure-username-control-character",
     .opts = {OPT_EP, OPT_PFX, "username=a\nb", "password_env=PW"},
     .environ = {"PW=x"},
     .want_configure = EI_BADCONFIG,
     .want_text = "username must be 1 to 256 bytes"},
    {.name = "configure-username-not-utf8",
     .opts = {OPT_EP, OPT_PFX, "username=a\xff", "password_env=PW"},
     .environ = {"PW=x"},
     .want_configure = EI_BADCONFIG,
     .want_text = "username is not valid UTF-8"},
    {.name = "configure-network-option-checked-by-host",
     .opts = {OPT_EP, OPT_PFX, "max_response_size=0"},
     .want_configure = EI_BADCONFIG,
     .want_text = "max_response_size"},

    /* --- reading --- */
    /* shapes the fast scanner leaves to jansson give the same result: an
       escaped character, a member etcd may add one day, a null revision */
    {.name = "one-page-read-by-jansson",
     .opts = {OPT_EP, OPT_PFX},
     .replies =
         {{200,
           "{" HDR(
               "9") ",\"kvs\":[{\"key\":\"<</app/db/host>>\","
                    "\"create_revision\":\"3\",\"mod_revision\":\"5\","
                    "\"version\":\"1\",\"value\":\"<<db.local>>\","
                    "\"future\":{\"a\":[1,2]}},"
                    "{\"k\\u0065y\":\"<</app/db/port>>\",\"create_revision\":"
                    "\"4\",\"mod_revision\":\"6\",\"version\":null,"
                    "\"value\":\"<<5432>>\"}],\"count\":\"2\"}"}},
     .reqs = {RANGE1(5000)},
     .entries = {{"db/host", "db.local", "/app/db/host@5 (" EP1 ")"},
                 {"db/port", "5432", "/app/db/port@6 (" EP1 ")"}}},
    {.name = "one-page",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200,
                  "{" HDR(
                      "9") ",\"kvs\":[{\"key\":\"<</app/db/host>>\","
                           "\"create_revision\":\"3\",\"mod_revision\":\"5\","
                           "\"version\":\"1\",\"value\":\"<<db.local>>\"},"
                           "{\"key\":\"<</app/db/port>>\",\"create_revision\":"
                           "\"4\",\"mod_revision\":\"6\",\"version\":\"1\","
                           "\"value\":\"<<5432>>\"}],\"count\":\"2\"}"}},
     .reqs = {RANGE1(5000)},
     .entries = {{"db/host", "db.local", "/app/db/host@5 (" EP1 ")"},
                 {"db/port", "5432", "/app/db/port@6 (" EP1 ")"}}},
    {.name = "empty-range-is-no-error",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200, "{" HDR("9") "}"}},
     .reqs = {RANGE1(5000)}},
    {.name = "missing-fields-are-defaults",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200, "{\"kvs\":[{\"key\":\"<</app/empty>>\"},"
                       "{\"key\":\"<</app/nullv>>\",\"value\":null}]}"}},
     .entries = {{"empty", "", "/app/empty@0 (" EP1 ")"},
                 {"nullv", "", "/app/nullv@0 (" EP1 ")"}}},
    {.name = "revision-as-number-accepted",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200, "{\"header\":{\"revision\":9},\"kvs\":[{\"key\":"
                       "\"<</app/a>>\",\"mod_revision\":42,\"value\":"
                       "\"<<x>>\"}]}"}},
     .entries = {{"a", "x", "/app/a@42 (" EP1 ")"}}},
    {.name = "prefix-itself-and-empty-segments-skipped",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200, "{\"kvs\":[{\"key\":\"<</app/>>\",\"value\":\"<<"
                       "p>>\"},{\"key\":\"<</app//>>\",\"value\":\"<<s>>\"},"
                       "{\"key\":\"<</app//a//b/>>\",\"value\":\"<<v>>\"}]}"}},
     .entries = {{"a/b", "v", "/app//a//b/@0 (" EP1 ")"}},
     .log_has = "/app//@0 (" EP1 "): skipped: no name below the prefix"},
    {.name = "utf8-and-multi-line-values",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200, "{\"kvs\":[{\"key\":\"<</app/ключ/名前>>\",\"value\":"
                       "\"<<värde ✓%0aline 2%0d%0a%0a>>\"}]}"}},
     .entries = {{"ключ/名前", "värde ✓\nline 2\r\n\n",
                  "/app/ключ/名前@0 (" EP1 ")"}}},
    {.name = "control-bytes-in-locator-shown-as-question-marks",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200, "{\"kvs\":[{\"key\":\"<</app/a%0a%1bb>>\",\"value\":"
                       "\"<<v>>\"}]}"}},
     .entries = {{"a\n\x1b"
                  "b",
                  "v", "/app/a??b@0 (" EP1 ")"}}},
    {.name = "pages-follow-last-key-at-first-revision",
     .opts = {OPT_EP, OPT_PFX, "page_size=2"},
     .replies =
         {{200, "{" HDR(
                    "7") ",\"kvs\":[{\"key\":\"<</app/a>>\","
                         "\"mod_revision\":\"2\",\"value\":\"<<1>>\"},{\"key\":"
                         "\"<</app/b>>\",\"mod_revision\":\"3\",\"value\":"
                         "\"<<2>>\"}],\"more\":true,\"count\":\"5\"}"},
          {200, "{" HDR(
                    "8") ",\"kvs\":[{\"key\":\"<</app/c>>\","
                         "\"mod_revision\":\"4\",\"value\":\"<<3>>\"},{\"key\":"
                         "\"<</app/d>>\",\"mod_revision\":\"5\",\"value\":"
                         "\"<<4>>\"}],\"more\":true,\"count\":\"3\"}"},
          {200, "{" HDR("8") ",\"kvs\":[{\"key\":\"<</app/e>>\","
                             "\"mod_revision\":\"6\",\"value\":\"<<5>>\"}],"
                             "\"count\":\"1\"}"}},
     .reqs = {RANGE1(2),
              {.path = RANGE_PATH,
               .key = "/app/b%00",
               .range_end = "/app0",
               .limit = 2,
               .revision = 7,
               .flags = RANGE_FLAGS},
              {.path = RANGE_PATH,
               .key = "/app/d%00",
               .range_end = "/app0",
               .limit = 2,
               .revision = 7,
               .flags = RANGE_FLAGS}},
     .entries = {{"a", "1", "/app/a@2 (" EP1 ")"},
                 {"b", "2", "/app/b@3 (" EP1 ")"},
                 {"c", "3", "/app/c@4 (" EP1 ")"},
                 {"d", "4", "/app/d@5 (" EP1 ")"},
                 {"e", "5", "/app/e@6 (" EP1 ")"}}},
    {.name = "range-end-increments-last-byte",
     .opts = {OPT_EP, "prefix=config/myapp/"},
     .replies = {{200, "{}"}},
     .reqs = {{.path = RANGE_PATH,
               .key = "config/myapp/",
               .range_end = "config/myapp0",
               .limit = 5000,
               .flags = RANGE_FLAGS}}},
    {.name = "range-end-carries-over-0xff",
     .opts = {OPT_EP, "prefix=a\xff"},
     .replies = {{200, "{\"kvs\":[{\"key\":\"<<a%ffx>>\",\"value\":"
                       "\"<<v>>\"}]}"}},
     .reqs = {{.path = RANGE_PATH,
               .key = "a%ff",
               .range_end = "b",
               .limit = 5000,
               .flags = RANGE_FLAGS}},
     .entries = {{"x", "v", "a\xffx@0 (" EP1 ")"}}},
    {.name = "range-end-carries-over-two-0xff",
     .opts = {OPT_EP, "prefix=/a\xff\xff"},
     .replies = {{200, "{}"}},
     .reqs = {{.path = RANGE_PATH,
               .key = "/a%ff%ff",
               .range_end = "/b",
               .limit = 5000,
               .flags = RANGE_FLAGS}}},
    {.name = "range-end-of-0xff-only-is-nul",
     .opts = {OPT_EP, "prefix=\xff\xff"},
     .replies = {{200, "{\"kvs\":[{\"key\":\"<<%ff%ffk>>\",\"value\":"
                       "\"<<v>>\"}]}"}},
     .reqs = {{.path = RANGE_PATH,
               .key = "%ff%ff",
               .range_end = "%00",
               .limit = 5000,
               .flags = RANGE_FLAGS}},
     .entries = {{"k", "v", NULL}}},
    {.name = "serializable-and-page-size-in-request",
     .opts = {OPT_EP, OPT_PFX, "serializable=true", "page_size=10000"},
     .replies = {{200, "{}"}},
     .reqs = {{.path = RANGE_PATH,
               .key = "/app/",
               .range_end = "/app0",
               .limit = 10000,
               .serializable = true,
               .flags = RANGE_FLAGS}}},
    {.name = "endpoints-split-on-commas-trailing-slash-dropped",
     .opts = {"endpoints= " EP1 " , " EP2 "/", OPT_PFX},
     .replies = {{200, NULL, FAKE_HTTP_CLOSE}, {200, OK_ONE}},
     .reqs = {{.path = RANGE_PATH, .endpoint = EP1, .flags = RANGE_FLAGS},
              {.path = RANGE_PATH, .endpoint = EP2, .flags = RANGE_FLAGS}},
     .entries = {{"a", "1", LOC1(EP2)}}},
    {.name = "failover-names-the-member-that-answered",
     .opts = {OPT_EP, "endpoints=" EP2, OPT_PFX},
     .replies = {{200, NULL, FAKE_HTTP_CLOSE}, {200, OK_ONE}},
     .entries = {{"a", "1", LOC1(EP2)}}},
    {.name = "all-members-unreachable",
     .opts = {OPT_EP, "endpoints=" EP2, OPT_PFX},
     .replies = {{200, NULL, FAKE_HTTP_CLOSE}, {200, NULL, FAKE_HTTP_CLOSE}},
     .want = EI_UNAVAILABLE,
     .want_text = "no endpoint answered",
     .want_locator = EP1 ", " EP2},
    {.name = "server-error-retried-by-the-engine",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{503, "{\"code\":14}"}, {200, OK_ONE}},
     .entries = {{"a", "1", LOC1(EP1)}}},
    {.name = "server-errors-until-the-engine-gives-up",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{503, "{\"code\":14}"}, {503, "{\"code\":14}"}},
     .want = EI_UNAVAILABLE,
     .want_text = "HTTP 503 after 2 attempts"},
    {.name = "timeout-on-a-later-page",
     .opts = {OPT_EP, OPT_PFX, "page_size=1"},
     .deadline_ms = 1000,
     .replies = {{200, "{\"kvs\":[{\"key\":\"<</app/a>>\"}],\"more\":true}"},
                 {200, OK_ONE, FAKE_HTTP_DELAY_MS(5000)}},
     .want = EI_UNAVAILABLE,
     .want_text = "(last: timeout)"},
    {.name = "sink-failure-stops-the-layer",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200, OK_ONE}},
     .fail_at = 1,
     .want = EI_INTERNAL,
     .want_text = "failing emit 1"},

    /* --- malformed and hostile responses --- */
    {.name = "truncated-json",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200,
                  "{\"kvs\":[{\"key\":\"<</app/a>>\",\"value\":\"" CANARY}},
     .want = EI_BADDATA,
     .want_text = "range: malformed JSON at byte",
     .want_locator = EP1,
     .never = CANARY},
    {.name = "not-json-at-all",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200, "<html>" CANARY "</html>"}},
     .want = EI_BADDATA,
     .want_text = "malformed JSON",
     .never = CANARY},
    {.name = "empty-body",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200, ""}},
     .want = EI_BADDATA,
     .want_text = "malformed JSON"},
    {.name = "top-level-array",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200, "[]"}},
     .want = EI_BADDATA,
     .want_text = "the response is not a JSON object"},
    {.name = "duplicate-member",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200, "{\"kvs\":[],\"kvs\":[{\"key\":\"<</app/x>>\"}]}"}},
     .want = EI_BADDATA,
     .want_text = "duplicate object key"},
    {.name = "header-not-an-object",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200, "{\"header\":\"x\"}"}},
     .want = EI_BADDATA,
     .want_text = "header is not an object"},
    {.name = "header-revision-not-a-number",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200, "{\"header\":{\"revision\":\"7x\"}}"}},
     .want = EI_BADDATA,
     .want_text = "header.revision is not a revision"},
    {.name = "kvs-not-an-array",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200, "{\"kvs\":{}}"}},
     .want = EI_BADDATA,
     .want_text = "kvs is not an array"},
    {.name = "kv-not-an-object",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200, "{\"kvs\":[{\"key\":\"<</app/a>>\"},7]}"}},
     .want = EI_BADDATA,
     .want_text = "kvs[1] is not an object"},
    {.name = "key-missing",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200, "{\"kvs\":[{\"value\":\"<<" CANARY ">>\"}]}"}},
     .want = EI_BADDATA,
     .want_text = "kvs[0] has no key"},
    {.name = "key-empty",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200, "{\"kvs\":[{\"key\":\"\"}]}"}},
     .want = EI_BADDATA,
     .want_text = "kvs[0] has no key"},
    {.name = "key-not-a-string",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200, "{\"kvs\":[{\"key\":5}]}"}},
     .want = EI_BADDATA,
     .want_text = "kvs[0] has no key"},
    {.name = "key-bad-base64",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200, "{\"kvs\":[{\"key\":\"@@@@\"}]}"}},
     .want = EI_BADDATA,
     .want_text = "kvs[0].key is not valid base64 (4 bytes)"},
    {.name = "key-base64-without-padding",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200, "{\"kvs\":[{\"key\":\"L2FwcC9hYg\"}]}"}},
     .want = EI_BADDATA,
     .want_text = "kvs[0].key is not valid base64 (10 bytes)"},
    {.name = "key-base64-with-trailing-newline",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200, "{\"kvs\":[{\"key\":\"L2FwcC9hYg==\\n\"}]}"}},
     .want = EI_BADDATA,
     .want_text = "kvs[0].key is not valid base64"},
    {.name = "key-base64-url-variant",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200, "{\"kvs\":[{\"key\":\"L2FwcC9-_w==\"}]}"}},
     .want = EI_BADDATA,
     .want_text = "kvs[0].key is not valid base64"},
    {.name = "value-bad-base64",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200, "{\"kvs\":[{\"key\":\"<</app/a>>\",\"value\":\"" CANARY
                       "\"}]}"}},
     .want = EI_BADDATA,
     .want_text = "range: the value is not valid base64 (14 bytes)",
     .want_locator = "/app/a@0 (" EP1 ")",
     .never = CANARY},
    {.name = "value-not-a-string",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200, "{\"kvs\":[{\"key\":\"<</app/a>>\",\"value\":12}]}"}},
     .want = EI_BADDATA,
     .want_text = "the value is not a string"},
    {.name = "value-with-nul",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200, "{\"kvs\":[{\"key\":\"<</app/a>>\",\"value\":\"<<ab%00"
                       "cd>>\"}]}"}},
     .want = EI_BADDATA,
     .want_text = "the value holds a NUL byte at offset 2 (5 bytes)"},
    {.name = "mod-revision-garbage",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200, "{\"kvs\":[{\"key\":\"<</app/a>>\",\"mod_revision\":"
                       "\"12a\"}]}"}},
     .want = EI_BADDATA,
     .want_text = "kvs[0].mod_revision is not a revision"},
    {.name = "mod-revision-negative",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200, "{\"kvs\":[{\"key\":\"<</app/a>>\",\"mod_revision\":"
                       "\"-1\"}]}"}},
     .want = EI_BADDATA,
     .want_text = "mod_revision is not a revision"},
    {.name = "mod-revision-overflow",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200, "{\"kvs\":[{\"key\":\"<</app/a>>\",\"mod_revision\":"
                       "\"99999999999999999999\"}]}"}},
     .want = EI_BADDATA,
     .want_text = "mod_revision is not a revision"},
    {.name = "mod-revision-real",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200, "{\"kvs\":[{\"key\":\"<</app/a>>\",\"mod_revision\":"
                       "1.5}]}"}},
     .want = EI_BADDATA,
     .want_text = "mod_revision is not a revision"},
    {.name = "more-not-a-boolean",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200, "{\"more\":\"true\"}"}},
     .want = EI_BADDATA,
     .want_text = "more is not a boolean"},
    {.name = "more-without-keys-would-loop",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200, "{\"more\":true,\"kvs\":[]}"}},
     .want = EI_BADDATA,
     .want_text = "more is true but the page has no keys"},
    /* the key is judged before its value: a key outside the prefix is
       reported as such, and the prefix itself is skipped, whatever their
       values hold */
    {.name = "key-outside-the-prefix-before-a-bad-value",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200, "{\"kvs\":[{\"key\":\"<</apple>>\",\"value\":7}]}"}},
     .want = EI_BADDATA,
     .want_text = "range: key outside the prefix /app/"},
    {.name = "prefix-key-skipped-whatever-its-value",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200, "{\"kvs\":[{\"key\":\"<</app/>>\",\"value\":\"!!\"},"
                       "{\"key\":\"<</app/a>>\",\"mod_revision\":\"4\","
                       "\"value\":\"<<1>>\"}]}"}},
     .entries = {{"a", "1", LOC1(EP1)}}},
    /* a page larger than max_response_size: asked for again, half as
       large, and the pages grow no more than that */
    {.name = "page-halved-when-larger-than-max-response-size",
     .opts = {OPT_EP, OPT_PFX, "max_response_size=100"},
     .replies = {{200, "{\"kvs\":[{\"key\":\"<</app/a>>\",\"value\":"
                       "\"<<0123456789012345678901234567890123456789>>\"},"
                       "{\"key\":\"<</app/b>>\",\"value\":\"<<2>>\"}]}"},
                 {200, "{\"kvs\":[{\"key\":\"<</app/a>>\",\"value\":"
                       "\"<<1>>\"}],\"more\":true}"},
                 {200, "{\"kvs\":[{\"key\":\"<</app/b>>\",\"value\":"
                       "\"<<2>>\"}]}"}},
     .reqs = {{.path = RANGE_PATH, .limit = 5000, .flags = RANGE_FLAGS},
              {.path = RANGE_PATH,
               .key = "/app/",
               .range_end = "/app0",
               .limit = 2500,
               .flags = RANGE_FLAGS},
              {.path = RANGE_PATH,
               .key = "/app/a%00",
               .range_end = "/app0",
               .limit = 2500,
               .flags = RANGE_FLAGS}},
     .entries = {{"a", "1", "/app/a@0 (" EP1 ")"},
                 {"b", "2", "/app/b@0 (" EP1 ")"}}},
    {.name = "fixed-page-larger-than-max-response-size-fails",
     .opts = {OPT_EP, OPT_PFX, "max_response_size=60", "page_size=10"},
     .replies = {{200, "{\"kvs\":[{\"key\":\"<</app/a>>\",\"value\":"
                       "\"<<0123456789012345678901234567890123456789>>\"}]}"}},
     .want = EI_BADDATA,
     .want_text = "response larger than 60 bytes"},
    {.name = "key-outside-the-prefix",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200, "{\"kvs\":[{\"key\":\"<</apple>>\"}]}"}},
     .want = EI_BADDATA,
     .want_text = "range: key outside the prefix /app/",
     .want_locator = "/apple@0"},
    {.name = "keys-out-of-order",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200, "{\"kvs\":[{\"key\":\"<</app/b>>\"},{\"key\":"
                       "\"<</app/a>>\"}]}"}},
     .want = EI_BADDATA,
     .want_text = "keys out of order or repeated",
     .want_locator = "/app/a@0"},
    {.name = "key-repeated-on-the-next-page",
     .opts = {OPT_EP, OPT_PFX, "page_size=1"},
     .replies = {{200, "{\"kvs\":[{\"key\":\"<</app/a>>\"}],\"more\":true}"},
                 {200, "{\"kvs\":[{\"key\":\"<</app/a>>\"}],\"more\":true}"}},
     .want = EI_BADDATA,
     .want_text = "keys out of order or repeated"},
    {.name = "key-with-nul",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{200, "{\"kvs\":[{\"key\":\"<</app/a%00b>>\"}]}"}},
     .want = EI_BADDATA,
     .want_text = "the key holds a NUL byte at offset 6",
     .want_locator = "/app/a?b@0"},
    {.name = "response-larger-than-max-response-size",
     .opts = {OPT_EP, OPT_PFX, "max_response_size=16", "page_size=1"},
     .replies = {{200, OK_ONE}},
     .want = EI_BADDATA,
     .want_text = "response larger than 16 bytes"},

    /* --- statuses --- */
    {.name = "status-501-is-no-gateway",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{501, "not implemented"}},
     .want = EI_BADDATA,
     .want_text = "not an etcd v3 JSON gateway (HTTP 501 for /v3/kv/range)"},
    {.name = "status-401-without-username",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{401, TOKEN_BAD}},
     .want = EI_DENIED,
     .want_text = "the server requires authentication (HTTP 401)",
     .want_locator = EP1},
    {.name = "status-400-user-name-is-empty",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{400, "{\"error\":\"etcdserver: user name is empty\","
                       "\"message\":\"etcdserver: user name is empty\","
                       "\"code\":3}"}},
     .want = EI_DENIED,
     .want_text = "set username and password_file or password_env"},
    {.name = "status-403",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{403, "{\"error\":\"etcdserver: permission denied\","
                       "\"message\":\"etcdserver: permission denied\","
                       "\"code\":7}"}},
     .want = EI_DENIED,
     .want_text = "permission denied reading prefix /app/ (HTTP 403)"},
    {.name = "status-400-compacted",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{400, "{\"error\":\"etcdserver: mvcc: required revision has "
                       "been compacted\",\"message\":\"etcdserver: mvcc: "
                       "required revision has been compacted\",\"code\":11}"}},
     .want = EI_UNAVAILABLE,
     .want_text = "is not readable on this member (HTTP 400): etcdserver: "
                  "mvcc: required revision has been compacted"},
    {.name = "status-400-invalid-argument",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{400, "{\"error\":\"etcdserver: key is not provided\","
                       "\"message\":\"etcdserver: key is not provided\","
                       "\"code\":3}"}},
     .want = EI_BADDATA,
     .want_text = "request rejected (HTTP 400, gRPC code 3): etcdserver: "
                  "key is not provided"},
    {.name = "status-400-message-sanitised",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{400, "{\"message\":\"bad\\nnews 'x'\",\"code\":3}"}},
     .want = EI_BADDATA,
     .want_text = "gRPC code 3): bad?news ?x?"},
    {.name = "status-400-common-name-refused",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{400, "CommonName of client sending a request against "
                       "gateway will be ignored and not used as expected\n"}},
     .want = EI_DENIED,
     .want_text = "refuses client certificates that have a Common Name"},
    {.name = "status-404-no-gateway",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{404, "404 page not found\n"}},
     .want = EI_BADDATA,
     .want_text = "not an etcd v3 JSON gateway (HTTP 404 for /v3/kv/range)"},
    {.name = "status-405-no-gateway",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{405, "Method Not Allowed\n"}},
     .want = EI_BADDATA,
     .want_text = "not an etcd v3 JSON gateway (HTTP 405"},
    /* the gateway while its member shuts down: the engine retries it */
    {.name = "status-408-retried-by-the-engine",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{408, "{\"code\":1,\"message\":\"grpc: the client "
                       "connection is closing\"}"},
                 {200, OK_ONE}},
     .entries = {{"a", "1", LOC1(EP1)}}},
    {.name = "status-408-until-the-engine-gives-up",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{408, "{\"code\":1,\"message\":\"context canceled\"}"},
                 {408, "{\"code\":1,\"message\":\"context canceled\"}"}},
     .want = EI_UNAVAILABLE,
     .want_text = "HTTP 408 after 2 attempts"},
    {.name = "status-302-not-followed",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{302, ""}},
     .want = EI_BADDATA,
     .want_text = "unexpected response (HTTP 302, 0 bytes) to /v3/kv/range"},
    {.name = "status-204",
     .opts = {OPT_EP, OPT_PFX},
     .replies = {{204, ""}},
     .want = EI_BADDATA,
     .want_text = "unexpected response (HTTP 204"},

    /* --- authentication --- */
    {.name = "auth-password-file",
     .opts = {OPT_EP, OPT_PFX, "username=reader", "password_file=pw"},
     .pw = {CANARY "\n", 0600},
     .replies = {{200, "{" HDR("3") ",\"token\":\"sssvIpwfnLAcWAQH.9\"}"},
                 {200, OK_ONE}},
     .reqs = {{.path = AUTH_PATH,
               .body = "{\"name\":\"reader\",\"password\":\"" CANARY "\"}",
               .flags = AUTH_FLAGS},
              {.path = RANGE_PATH,
               .key = "/app/",
               .range_end = "/app0",
               .limit = 5000,
               .auth = "sssvIpwfnLAcWAQH.9",
               .flags = RANGE_FLAGS}},
     .entries = {{"a", "1", LOC1(EP1)}}},
    {.name = "auth-password-env",
     .opts = {OPT_EP, OPT_PFX, "username=reader", "password_env=ETCD_PW"},
     .environ = {"ETCD_PW=" CANARY},
     .replies = {{200, "{\"token\":\"t.1\"}"}, {200, OK_ONE}},
     .reqs = {{.path = AUTH_PATH,
               .body = "{\"name\":\"reader\",\"password\":\"" CANARY "\"}",
               .flags = AUTH_FLAGS},
              {.path = RANGE_PATH, .auth = "t.1", .flags = RANGE_FLAGS}},
     .entries = {{"a", "1", LOC1(EP1)}}},
    {.name = "auth-password-line-ends-trimmed",
     .opts = {OPT_EP, OPT_PFX, "username=reader", "password_file=pw"},
     .pw = {"pa ss\r\n\n", 0600},
     .replies = {{200, "{\"token\":\"t.1\"}"}, {200, "{}"}},
     .reqs = {{.path = AUTH_PATH,
               .body = "{\"name\":\"reader\",\"password\":\"pa ss\"}",
               .flags = AUTH_FLAGS},
              {.path = RANGE_PATH, .auth = "t.1", .flags = RANGE_FLAGS}}},
    {.name = "auth-json-escaping",
     .opts = {OPT_EP, OPT_PFX, "username=r\"é", "password_file=pw"},
     .pw = {"a\"b\\c\td ✓", 0600},
     .replies = {{200, "{\"token\":\"t.1\"}"}, {200, "{}"}},
     .reqs = {{.path = AUTH_PATH,
               .body = "{\"name\":\"r\\\"é\",\"password\":\"a\\\"b\\\\c\\td "
                       "✓\"}",
               .flags = AUTH_FLAGS},
              {.path = RANGE_PATH, .auth = "t.1", .flags = RANGE_FLAGS}}},
    {.name = "auth-wrong-password",
     .opts = {OPT_EP, OPT_PFX, "username=reader", "password_file=pw"},
     .pw = {CANARY, 0600},
     .replies = {{400, AUTH_FAILED}},
     .want = EI_DENIED,
     .want_text = "authentication failed for user 'reader' (HTTP 400): "
                  "wrong user name or password",
     .want_locator = EP1,
     .never = CANARY,
     .reqs = {{.path = AUTH_PATH, .flags = AUTH_FLAGS}}},
    {.name = "auth-not-enabled-reads-without-token",
     .opts = {OPT_EP, OPT_PFX, "username=reader", "password_file=pw"},
     .pw = {"pw", 0600},
     .replies = {{400, "{\"error\":\"etcdserver: authentication is not "
                       "enabled\",\"message\":\"etcdserver: authentication is "
                       "not enabled\",\"code\":9}"},
                 {200, OK_ONE}},
     .reqs = {{.path = AUTH_PATH, .flags = AUTH_FLAGS},
              {.path = RANGE_PATH, .flags = RANGE_FLAGS}},
     .entries = {{"a", "1", LOC1(EP1)}},
     .log_has = EP1 ": authentication is not enabled; reading without a "
                    "token"},
    {.name = "auth-expired-token-renewed-once",
     .opts = {OPT_EP, OPT_PFX, "username=reader", "password_file=pw",
              "page_size=1"},
     .pw = {"pw", 0600},
     .replies = {{200, "{\"token\":\"t.1\"}"},
                 {200, "{" HDR("5") ",\"kvs\":[{\"key\":\"<</app/a>>\","
                                    "\"value\":\"<<1>>\"}],\"more\":true}"},
                 {401, TOKEN_BAD},
                 {200, "{\"token\":\"t.2\"}"},
                 {200, "{\"kvs\":[{\"key\":\"<</app/b>>\",\"value\":"
                       "\"<<2>>\"}]}"}},
     .reqs = {{.path = AUTH_PATH, .flags = AUTH_FLAGS},
              {.path = RANGE_PATH, .auth = "t.1", .flags = RANGE_FLAGS},
              {.path = RANGE_PATH,
               .key = "/app/a%00",
               .range_end = "/app0",
               .limit = 1,
               .revision = 5,
               .auth = "t.1",
               .flags = RANGE_FLAGS},
              {.path = AUTH_PATH,
               .body = "{\"name\":\"reader\",\"password\":\"pw\"}",
               .flags = AUTH_FLAGS},
              {.path = RANGE_PATH,
               .key = "/app/a%00",
               .range_end = "/app0",
               .limit = 1,
               .revision = 5,
               .auth = "t.2",
               .flags = RANGE_FLAGS}},
     .entries = {{"a", "1", "/app/a@0 (" EP1 ")"},
                 {"b", "2", "/app/b@0 (" EP1 ")"}}},
    /* a change of users or roles makes older tokens stale (code 3) */
    {.name = "auth-stale-store-revision-renews-the-token",
     .opts = {OPT_EP, OPT_PFX, "username=reader", "password_file=pw"},
     .pw = {"pw", 0600},
     .replies = {{200, "{\"token\":\"t.1\"}"},
                 {400, "{\"error\":\"etcdserver: revision of auth store is "
                       "old\",\"message\":\"etcdserver: revision of auth "
                       "store is old\",\"code\":3}"},
                 {200, "{\"token\":\"t.2\"}"},
                 {200, OK_ONE}},
     .reqs = {{.path = AUTH_PATH, .flags = AUTH_FLAGS},
              {.path = RANGE_PATH, .auth = "t.1", .flags = RANGE_FLAGS},
              {.path = AUTH_PATH, .flags = AUTH_FLAGS},
              {.path = RANGE_PATH, .auth = "t.2", .flags = RANGE_FLAGS}},
     .entries = {{"a", "1", LOC1(EP1)}}},
    {.name = "grpc-auth-stale-store-revision-renews-the-token",
     .opts = {GRPC_OPTS_AUTH},
     .pw = {"pw", 0600},
     .replies = {GRPC_OK("2:'t.1'"),
                 GRPC(3, "etcdserver: revision of auth store is old", NULL),
                 GRPC_OK("2:'t.2'"),
                 GRPC_OK(PB_HDR("5") " 2{1:'/app/a' 3:4 5:'1'}")},
     .reqs = {{.path = GAUTH_PATH, .flags = GAUTH_FLAGS},
              {.path = GRANGE_PATH, .auth = "t.1", .flags = GRANGE_FLAGS},
              {.path = GAUTH_PATH, .flags = GAUTH_FLAGS},
              {.path = GRANGE_PATH, .auth = "t.2", .flags = GRANGE_FLAGS}},
     .entries = {{"a", "1", LOC1(EP1)}}},
    {.name = "auth-other-bad-request-is-not-renewed",
     .opts = {OPT_EP, OPT_PFX, "username=reader", "password_file=pw"},
     .pw = {"pw", 0600},
     .replies = {{200, "{\"token\":\"t.1\"}"},
                 {400, "{\"error\":\"etcdserver: key is not provided\","
                       "\"message\":\"etcdserver: key is not provided\","
                       "\"code\":3}"}},
     .want = EI_BADDATA,
     .want_text = "request rejected (HTTP 400, gRPC code 3): etcdserver: key "
                  "is not provided"},
    {.name = "auth-token-rejected-twice",
     .opts = {OPT_EP, OPT_PFX, "username=reader", "password_file=pw"},
     .pw = {"pw", 0600},
     .replies = {{200, "{\"token\":\"t.1\"}"},
                 {401, TOKEN_BAD},
                 {200, "{\"token\":\"t.2\"}"},
                 {401, TOKEN_BAD}},
     .want = EI_DENIED,
     .want_text = "token of user 'reader' rejected again after "
                  "re-authenticating (HTTP 401): etcdserver: invalid auth "
                  "token"},
    {.name = "auth-403-names-the-user",
     .opts = {OPT_EP, OPT_PFX, "username=reader", "password_file=pw"},
     .pw = {"pw", 0600},
     .replies = {{200, "{\"token\":\"t.1\"}"},
                 {403, "{\"message\":\"etcdserver: permission denied\","
                       "\"code\":7}"}},
     .want = EI_DENIED,
     .want_text = "permission denied to user 'reader' reading prefix /app/"},
    {.name = "auth-echoed-token-not-shown",
     .opts = {OPT_EP, OPT_PFX, "username=reader", "password_file=pw"},
     .pw = {"pw", 0600},
     .replies = {{200, "{\"token\":\"" CANARY "\"}"},
                 {400, "{\"message\":\"bad header " CANARY "\",\"code\":3}"}},
     .want = EI_BADDATA,
     .want_text = "request rejected (HTTP 400, gRPC code 3)",
     .never = CANARY},
    {.name = "auth-no-token",
     .opts = {OPT_EP, OPT_PFX, "username=reader", "password_file=pw"},
     .pw = {"pw", 0600},
     .replies = {{200, "{" HDR("3") "}"}},
     .want = EI_BADDATA,
     .want_text = "authenticate: the response has no token"},
    {.name = "auth-token-not-a-string",
     .opts = {OPT_EP, OPT_PFX, "username=reader", "password_file=pw"},
     .pw = {"pw", 0600},
     .replies = {{200, "{\"token\":[\"t\"]}"}},
     .want = EI_BADDATA,
     .want_text = "authenticate: the response has no token"},
    {.name = "auth-token-with-line-break",
     .opts = {OPT_EP, OPT_PFX, "username=reader", "password_file=pw"},
     .pw = {"pw", 0600},
     .replies = {{200, "{\"token\":\"t\\r\\nX-Evil: 1\"}"}},
     .want = EI_BADDATA,
     .want_text = "the token is not 1 to 8192 printable characters (12 "
                  "bytes)"},
    {.name = "auth-token-empty",
     .opts = {OPT_EP, OPT_PFX, "username=reader", "password_file=pw"},
     .pw = {"pw", 0600},
     .replies = {{200, "{\"token\":\"\"}"}},
     .want = EI_BADDATA,
     .want_text = "printable characters (0 bytes)"},
    {.name = "auth-response-not-json",
     .opts = {OPT_EP, OPT_PFX, "username=reader", "password_file=pw"},
     .pw = {"pw", 0600},
     .replies = {{200, "token"}},
     .want = EI_BADDATA,
     .want_text = "authenticate: the response is not a JSON object (5 "
                  "bytes)"},
    {.name = "auth-server-error-not-retried",
     .opts = {OPT_EP, OPT_PFX, "username=reader", "password_file=pw"},
     .pw = {"pw", 0600},
     .replies = {{503, "{\"code\":14,\"message\":\"etcdserver: no leader\"}"},
                 {200, "{\"token\":\"t.1\"}"}},
     .want = EI_UNAVAILABLE,
     .want_text = "server error (HTTP 503)",
     .reqs = {{.path = AUTH_PATH, .flags = AUTH_FLAGS}}},
    {.name = "auth-connection-closed",
     .opts = {OPT_EP, OPT_PFX, "username=reader", "password_file=pw"},
     .pw = {"pw", 0600},
     .replies = {{200, NULL, FAKE_HTTP_CLOSE}, {200, "{\"token\":\"t.1\"}"}},
     .want = EI_UNAVAILABLE,
     .want_text = "no endpoint answered",
     .reqs = {{.path = AUTH_PATH, .flags = AUTH_FLAGS}}},
    {.name = "auth-password-file-readable-by-others",
     .opts = {OPT_EP, OPT_PFX, "username=reader", "password_file=pw"},
     .pw = {CANARY, 0644},
     .want = EI_DENIED,
     .want_text = "password_file: ",
     .want_locator = "%D/pw",
     .never = CANARY},
    {.name = "auth-password-file-missing",
     .opts = {OPT_EP, OPT_PFX, "username=reader", "password_file=nope"},
     .want = EI_IOERROR,
     .want_text = "password_file: ",
     .want_locator = "%D/nope"},
    {.name = "auth-password-file-empty",
     .opts = {OPT_EP, OPT_PFX, "username=reader", "password_file=pw"},
     .pw = {"\r\n\n", 0600},
     .want = EI_BADCONFIG,
     .want_text = "password_file is empty"},
    {.name = "auth-password-not-utf8",
     .opts = {OPT_EP, OPT_PFX, "username=reader", "password_file=pw"},
     .pw = {"\xff\xfe", 0600},
     .want = EI_BADCONFIG,
     .want_text = "the password is not valid UTF-8 (2 bytes)"},

    /* --- gRPC (api = "grpc"): the same reads over etcd's native API --- */
    {.name = "configure-api-json-is-the-gateway",
     .opts = {OPT_EP, OPT_PFX, "api=json"},
     .replies = {{200, OK_ONE}},
     .reqs = {RANGE1(5000)},
     .entries = {{"a", "1", LOC1(EP1)}}},
    {.name = "configure-api-unknown",
     .opts = {OPT_EP, OPT_PFX, "api=xml"},
     .want_configure = EI_BADCONFIG,
     .want_text = "api must be \"json\" or \"grpc\", not 'xml'"},
    {.name = "configure-api-shown-sanitised",
     .opts = {OPT_EP, OPT_PFX, "api=g'rpc\n"},
     .want_configure = EI_BADCONFIG,
     .want_text = "not 'g?rpc?'"},
    {.name = "grpc-one-page",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC_OK(PB_HDR("9") " 2{1:'/app/db/host' 2:3 3:5 4:1 "
                                     "5:'db.local'} 2{1:'/app/db/port' 2:4 "
                                     "3:6 4:1 5:'5432'} 4:2")},
     .reqs = {{.path = GRANGE_PATH,
               .key = "/app/",
               .range_end = "/app0",
               .limit = 10000,
               .flags = GRANGE_FLAGS}},
     .entries = {{"db/host", "db.local", "/app/db/host@5 (" EP1 ")"},
                 {"db/port", "5432", "/app/db/port@6 (" EP1 ")"}}},
    {.name = "grpc-empty-range-is-no-error",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC_OK(PB_HDR("9"))}},
    {.name = "grpc-empty-message-is-no-error",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC_OK("")}},
    {.name = "grpc-missing-fields-are-defaults",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC_OK("2{1:'/app/empty'} 2{1:'/app/zero' 3:0 5:''}")},
     .entries = {{"empty", "", "/app/empty@0 (" EP1 ")"},
                 {"zero", "", "/app/zero@0 (" EP1 ")"}}},
    {.name = "grpc-unknown-fields-skipped",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     /* varint, bytes, group-free message, fixed32 (10) and fixed64 (11) */
     .replies = {GRPC_OK(
         PB_HDR("9") " 9:1 20{1:2} %55%01%02%03%04 2{1:'/app/a' "
                     "3:4 15:'x' 7:1 5:'1' %59%01%02%03%04%05"
                     "%06%07%08} 4:1")},
     .entries = {{"a", "1", LOC1(EP1)}}},
    {.name = "grpc-last-of-repeated-scalar-fields-wins",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC_OK("2{1:'/app/x' 3:2 5:'old' 1:'/app/a' 3:4 5:'1'}")},
     .entries = {{"a", "1", LOC1(EP1)}}},
    {.name = "grpc-utf8-and-multi-line-values",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC_OK(
         "2{1:'/app/ключ/名前' 5:'värde ✓%0aline 2%0d%0a%0a'}")},
     .entries = {{"ключ/名前", "värde ✓\nline 2\r\n\n",
                  "/app/ключ/名前@0 (" EP1 ")"}}},
    {.name = "grpc-binary-value-bytes-kept",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC_OK("2{1:'/app/bin' 5:'%01%7f%ff%fe%c3%27 %09'}")},
     .entries = {{"bin", "\x01\x7f\xff\xfe\xc3' \t", "/app/bin@0 (" EP1 ")"}}},
    {.name = "grpc-control-bytes-in-locator-shown-as-question-marks",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC_OK("2{1:'/app/a%0a%1bb' 5:'v'}")},
     .entries = {{"a\n\x1b"
                  "b",
                  "v", "/app/a??b@0 (" EP1 ")"}}},
    {.name = "grpc-prefix-itself-and-empty-segments-skipped",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC_OK("2{1:'/app/' 5:'p'} 2{1:'/app//' 5:'s'} "
                         "2{1:'/app//a//b/' 5:'v'}")},
     .entries = {{"a/b", "v", "/app//a//b/@0 (" EP1 ")"}},
     .log_has = "/app//@0 (" EP1 "): skipped: no name below the prefix"},
    {.name = "grpc-range-end-carries-over-0xff",
     .opts = {OPT_EP, "prefix=a\xff", OPT_GRPC},
     .replies = {GRPC_OK("2{1:'a%ffx' 5:'v'}")},
     .reqs = {{.path = GRANGE_PATH,
               .key = "a%ff",
               .range_end = "b",
               .limit = 10000,
               .flags = GRANGE_FLAGS}},
     .entries = {{"x", "v", "a\xffx@0 (" EP1 ")"}}},
    {.name = "grpc-range-end-of-0xff-only-is-nul",
     .opts = {OPT_EP, "prefix=\xff\xff", OPT_GRPC},
     .replies = {GRPC_OK("")},
     .reqs = {{.path = GRANGE_PATH,
               .key = "%ff%ff",
               .range_end = "%00",
               .limit = 10000,
               .flags = GRANGE_FLAGS}}},
    {.name = "grpc-pages-follow-last-key-at-first-revision",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC, "page_size=2", "serializable=true"},
     .replies = {GRPC_OK(PB_HDR("7") " 2{1:'/app/a' 3:2 5:'1'} 2{1:'/app/b' "
                                     "3:3 5:'2'} 3:1 4:5"),
                 GRPC_OK(PB_HDR("8") " 2{1:'/app/c' 3:4 5:'3'} 2{1:'/app/d' "
                                     "3:5 5:'4'} 3:1 4:3"),
                 GRPC_OK(PB_HDR("8") " 2{1:'/app/e' 3:6 5:'5'} 4:1")},
     .reqs = {{.path = GRANGE_PATH,
               .key = "/app/",
               .range_end = "/app0",
               .limit = 2,
               .serializable = true,
               .flags = GRANGE_FLAGS},
              {.path = GRANGE_PATH,
               .key = "/app/b%00",
               .range_end = "/app0",
               .limit = 2,
               .revision = 7,
               .serializable = true,
               .flags = GRANGE_FLAGS},
              {.path = GRANGE_PATH,
               .key = "/app/d%00",
               .range_end = "/app0",
               .limit = 2,
               .revision = 7,
               .serializable = true,
               .flags = GRANGE_FLAGS}},
     .entries = {{"a", "1", "/app/a@2 (" EP1 ")"},
                 {"b", "2", "/app/b@3 (" EP1 ")"},
                 {"c", "3", "/app/c@4 (" EP1 ")"},
                 {"d", "4", "/app/d@5 (" EP1 ")"},
                 {"e", "5", "/app/e@6 (" EP1 ")"}}},
    {.name = "grpc-page-grows-after-a-small-response",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC_OK(PB_HDR("7") " 2{1:'/app/a' 3:2 5:'1'} 3:1"),
                 GRPC_OK(PB_HDR("7") " 2{1:'/app/b' 3:3 5:'2'}")},
     .reqs = {{.path = GRANGE_PATH,
               .key = "/app/",
               .range_end = "/app0",
               .limit = 10000,
               .flags = GRANGE_FLAGS},
              {.path = GRANGE_PATH,
               .key = "/app/a%00",
               .range_end = "/app0",
               .limit = 20000,
               .revision = 7,
               .flags = GRANGE_FLAGS}},
     .entries = {{"a", "1", "/app/a@2 (" EP1 ")"},
                 {"b", "2", "/app/b@3 (" EP1 ")"}}},
    /* small responses: the pages double from 10,000 up to 100,000 keys */
    {.name = "grpc-page-growth-stops-at-100000",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC_OK(PB_HDR("7") " 2{1:'/app/a' 3:2 5:'1'} 3:1"),
                 GRPC_OK(PB_HDR("7") " 2{1:'/app/b' 3:2 5:'2'} 3:1"),
                 GRPC_OK(PB_HDR("7") " 2{1:'/app/c' 3:2 5:'3'} 3:1"),
                 GRPC_OK(PB_HDR("7") " 2{1:'/app/d' 3:2 5:'4'} 3:1"),
                 GRPC_OK(PB_HDR("7") " 2{1:'/app/e' 3:2 5:'5'} 3:1"),
                 GRPC_OK(PB_HDR("7") " 2{1:'/app/f' 3:2 5:'6'}")},
     .reqs = {{.path = GRANGE_PATH, .limit = 10000, .flags = GRANGE_FLAGS},
              {.path = GRANGE_PATH, .limit = 20000, .flags = GRANGE_FLAGS},
              {.path = GRANGE_PATH, .limit = 40000, .flags = GRANGE_FLAGS},
              {.path = GRANGE_PATH, .limit = 80000, .flags = GRANGE_FLAGS},
              {.path = GRANGE_PATH, .limit = 100000, .flags = GRANGE_FLAGS},
              {.path = GRANGE_PATH, .limit = 100000, .flags = GRANGE_FLAGS}},
     .entries = {{"a", "1", "/app/a@2 (" EP1 ")"},
                 {"b", "2", "/app/b@2 (" EP1 ")"},
                 {"c", "3", "/app/c@2 (" EP1 ")"},
                 {"d", "4", "/app/d@2 (" EP1 ")"},
                 {"e", "5", "/app/e@2 (" EP1 ")"},
                 {"f", "6", "/app/f@2 (" EP1 ")"}}},
    {.name = "grpc-page-size-above-10000-is-fixed",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC, "page_size=50000"},
     .replies = {GRPC_OK(PB_HDR("7") " 2{1:'/app/a' 3:2 5:'1'} 3:1"),
                 GRPC_OK(PB_HDR("7") " 2{1:'/app/b' 3:2 5:'2'}")},
     .reqs = {{.path = GRANGE_PATH, .limit = 50000, .flags = GRANGE_FLAGS},
              {.path = GRANGE_PATH, .limit = 50000, .flags = GRANGE_FLAGS}},
     .entries = {{"a", "1", "/app/a@2 (" EP1 ")"},
                 {"b", "2", "/app/b@2 (" EP1 ")"}}},
    {.name = "grpc-failover-names-the-member-that-answered",
     .opts = {OPT_EP, "endpoints=" EP2, OPT_PFX, OPT_GRPC},
     .replies = {{200, NULL, FAKE_HTTP_CLOSE}, GRPC_OK(PB_ONE)},
     .reqs = {{.path = GRANGE_PATH, .endpoint = EP1, .flags = GRANGE_FLAGS},
              {.path = GRANGE_PATH, .endpoint = EP2, .flags = GRANGE_FLAGS}},
     .entries = {{"a", "1", LOC1(EP2)}}},
    {.name = "grpc-unavailable-retried-by-the-engine",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC(14, "etcdserver: leader changed", NULL), GRPC_OK(PB_ONE)},
     .reqs = {{.path = GRANGE_PATH, .flags = GRANGE_FLAGS},
              {.path = GRANGE_PATH, .flags = GRANGE_FLAGS}},
     .entries = {{"a", "1", LOC1(EP1)}}},
    {.name = "grpc-unavailable-until-the-engine-gives-up",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC(14, "etcdserver: no leader", NULL),
                 GRPC(14, "etcdserver: no leader", NULL)},
     .want = EI_UNAVAILABLE,
     .want_text = "HTTP 503 (gRPC 14) after 2 attempts"},
    {.name = "grpc-sink-failure-stops-the-layer",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC_OK(PB_ONE)},
     .fail_at = 1,
     .want = EI_INTERNAL,
     .want_text = "failing emit 1"},

    /* --- gRPC statuses --- */
    {.name = "grpc-without-grpc-status",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC(-1, NULL, PB_ONE)},
     .want = EI_BADDATA,
     .want_text = "range: the response has no gRPC status",
     .want_locator = EP1},
    {.name = "grpc-plain-http-404",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {{404, "404 page not found\n"}},
     .want = EI_BADDATA,
     .want_text = "not an etcd v3 gRPC server (HTTP 404 for "
                  "/etcdserverpb.KV/Range)"},
    {.name = "grpc-unimplemented-on-authenticate",
     .opts = {GRPC_OPTS_AUTH},
     .pw = {"pw", 0600},
     .replies = {GRPC(12, "unknown service etcdserverpb.Auth", NULL)},
     .want = EI_BADDATA,
     .want_text = "not an etcd v3 gRPC server (gRPC 12 for "
                  "/etcdserverpb.Auth/Authenticate)",
     .reqs = {{.path = GAUTH_PATH, .flags = GAUTH_FLAGS}}},
    /* Unimplemented is HTTP 501, which no retry cures */
    {.name = "grpc-unimplemented-on-range",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC(12, "unknown service etcdserverpb.KV", NULL)},
     .want = EI_BADDATA,
     .want_text = "not an etcd v3 gRPC server (gRPC 12 for "
                  "/etcdserverpb.KV/Range)"},
    {.name = "grpc-unauthenticated-without-username",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC_TOKEN_BAD},
     .want = EI_DENIED,
     .want_text = "the server requires authentication (gRPC 16)",
     .want_locator = EP1},
    {.name = "grpc-user-name-is-empty",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC(3, "etcdserver: user name is empty", NULL)},
     .want = EI_DENIED,
     .want_text = "the server requires authentication (gRPC 3): set username"},
    {.name = "grpc-permission-denied",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC(7, "etcdserver: permission denied", NULL)},
     .want = EI_DENIED,
     .want_text = "permission denied reading prefix /app/ (gRPC 7)"},
    {.name = "grpc-compacted-between-pages",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC, "page_size=1"},
     .replies = {GRPC_OK(PB_HDR("7") " 2{1:'/app/a' 3:2 5:'1'} 3:1"),
                 GRPC(11,
                      "etcdserver: mvcc: required revision has been compacted",
                      NULL)},
     .want = EI_UNAVAILABLE,
     .want_text = "revision 7 is not readable on this member (gRPC 11): "
                  "etcdserver: mvcc: required revision has been compacted"},
    {.name = "grpc-invalid-argument",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC(3, "etcdserver: key is not provided", NULL)},
     .want = EI_BADDATA,
     .want_text = "request rejected (gRPC 3): etcdserver: key is not "
                  "provided"},
    {.name = "grpc-message-sanitised",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC(3, "bad\nnews 'x'", NULL)},
     .want = EI_BADDATA,
     .want_text = "request rejected (gRPC 3): bad?news ?x?"},
    {.name = "grpc-canceled-retried-by-the-engine",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC(1, "grpc: the client connection is closing", NULL),
                 GRPC_OK(PB_ONE)},
     .entries = {{"a", "1", LOC1(EP1)}}},
    {.name = "grpc-canceled-until-the-engine-gives-up",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC(1, "context canceled", NULL),
                 GRPC(1, "context canceled", NULL)},
     .want = EI_UNAVAILABLE,
     .want_text = "HTTP 408 (gRPC 1) after 2 attempts"},

    /* --- gRPC authentication --- */
    {.name = "grpc-auth-password-file",
     .opts = {GRPC_OPTS_AUTH},
     .pw = {CANARY "\n", 0600},
     .replies = {GRPC_OK(PB_HDR("3") " 2:'sssvIpwfnLAcWAQH.9'"),
                 GRPC_OK(PB_ONE)},
     .never = CANARY,
     .reqs = {{.path = GAUTH_PATH,
               .body = "1:'reader' 2:'" CANARY "'",
               .flags = GAUTH_FLAGS},
              {.path = GRANGE_PATH,
               .key = "/app/",
               .range_end = "/app0",
               .limit = 10000,
               .auth = "sssvIpwfnLAcWAQH.9",
               .flags = GRANGE_FLAGS}},
     .entries = {{"a", "1", LOC1(EP1)}}},
    {.name = "grpc-auth-password-env-bytes-as-they-are",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC, "username=r\"é",
              "password_env=ETCD_PW"},
     .environ = {"ETCD_PW=a\"b\\c\td ✓'"},
     .replies = {GRPC_OK("2:'t.1'"), GRPC_OK("")},
     .reqs = {{.path = GAUTH_PATH,
               .body = "1:'r\"é' 2:'a\"b\\c%09d ✓%27'",
               .flags = GAUTH_FLAGS},
              {.path = GRANGE_PATH, .auth = "t.1", .flags = GRANGE_FLAGS}}},
    {.name = "grpc-auth-wrong-password",
     .opts = {GRPC_OPTS_AUTH},
     .pw = {CANARY, 0600},
     .replies = {GRPC_AUTH_FAILED},
     .want = EI_DENIED,
     .want_text = "authentication failed for user 'reader' (gRPC 3): "
                  "wrong user name or password",
     .want_locator = EP1,
     .never = CANARY,
     .reqs = {{.path = GAUTH_PATH,
               .body = "1:'reader' 2:'" CANARY "'",
               .flags = GAUTH_FLAGS}}},
    {.name = "grpc-auth-not-enabled-reads-without-token",
     .opts = {GRPC_OPTS_AUTH},
     .pw = {"pw", 0600},
     .replies = {GRPC(9, "etcdserver: authentication is not enabled", NULL),
                 GRPC_OK(PB_ONE)},
     .reqs = {{.path = GAUTH_PATH, .flags = GAUTH_FLAGS},
              {.path = GRANGE_PATH, .flags = GRANGE_FLAGS}},
     .entries = {{"a", "1", LOC1(EP1)}},
     .log_has = EP1 ": authentication is not enabled; reading without a "
                    "token"},
    {.name = "grpc-auth-expired-token-renewed-once",
     .opts = {GRPC_OPTS_AUTH, "page_size=1"},
     .pw = {"pw", 0600},
     .replies = {GRPC_OK("2:'t.1'"),
                 GRPC_OK(PB_HDR("5") " 2{1:'/app/a' 3:2 5:'1'} 3:1"),
                 GRPC_TOKEN_BAD, GRPC_OK("2:'t.2'"),
                 GRPC_OK("2{1:'/app/b' 3:3 5:'2'}")},
     .reqs = {{.path = GAUTH_PATH,
               .body = "1:'reader' 2:'pw'",
               .flags = GAUTH_FLAGS},
              {.path = GRANGE_PATH,
               .key = "/app/",
               .range_end = "/app0",
               .limit = 1,
               .auth = "t.1",
               .flags = GRANGE_FLAGS},
              {.path = GRANGE_PATH,
               .key = "/app/a%00",
               .range_end = "/app0",
               .limit = 1,
               .revision = 5,
               .auth = "t.1",
               .flags = GRANGE_FLAGS},
              {.path = GAUTH_PATH,
               .body = "1:'reader' 2:'pw'",
               .flags = GAUTH_FLAGS},
              {.path = GRANGE_PATH,
               .key = "/app/a%00",
               .range_end = "/app0",
               .limit = 1,
               .revision = 5,
               .auth = "t.2",
               .flags = GRANGE_FLAGS}},
     .entries = {{"a", "1", "/app/a@2 (" EP1 ")"},
                 {"b", "2", "/app/b@3 (" EP1 ")"}}},
    {.name = "grpc-auth-token-rejected-twice",
     .opts = {GRPC_OPTS_AUTH},
     .pw = {"pw", 0600},
     .replies = {GRPC_OK("2:'t.1'"), GRPC_TOKEN_BAD, GRPC_OK("2:'t.2'"),
                 GRPC_TOKEN_BAD},
     .want = EI_DENIED,
     .want_text = "token of user 'reader' rejected again after "
                  "re-authenticating (gRPC 16): etcdserver: invalid auth "
                  "token"},
    {.name = "grpc-auth-permission-denied-names-the-user",
     .opts = {GRPC_OPTS_AUTH},
     .pw = {"pw", 0600},
     .replies = {GRPC_OK("2:'t.1'"),
                 GRPC(7, "etcdserver: permission denied", NULL)},
     .want = EI_DENIED,
     .want_text = "permission denied to user 'reader' reading prefix /app/ "
                  "(gRPC 7)"},
    {.name = "grpc-auth-echoed-token-not-shown",
     .opts = {GRPC_OPTS_AUTH},
     .pw = {"pw", 0600},
     .replies = {GRPC_OK("2:'" CANARY "'"),
                 GRPC(3, "bad header " CANARY, NULL)},
     .want = EI_BADDATA,
     .want_text = "request rejected (gRPC 3)",
     .never = CANARY},
    {.name = "grpc-auth-without-grpc-status",
     .opts = {GRPC_OPTS_AUTH},
     .pw = {"pw", 0600},
     .replies = {GRPC(-1, NULL, "2:'t.1'")},
     .want = EI_BADDATA,
     .want_text = "authenticate: the response has no gRPC status"},
    {.name = "grpc-auth-no-token",
     .opts = {GRPC_OPTS_AUTH},
     .pw = {"pw", 0600},
     .replies = {GRPC_OK(PB_HDR("3"))},
     .want = EI_BADDATA,
     .want_text = "authenticate: the response has no token"},
    {.name = "grpc-auth-token-with-line-break",
     .opts = {GRPC_OPTS_AUTH},
     .pw = {"pw", 0600},
     .replies = {GRPC_OK("2:'t%0d%0aX-Evil: 1'")},
     .want = EI_BADDATA,
     .want_text = "the token is not 1 to 8192 printable characters (12 "
                  "bytes)"},
    {.name = "grpc-auth-response-malformed",
     .opts = {GRPC_OPTS_AUTH},
     .pw = {"pw", 0600},
     .replies = {GRPC_OK("2:'t' %ff")},
     .want = EI_BADDATA,
     .want_text = "authenticate: malformed response: AuthenticateResponse: "
                  "tag at byte 3 is cut short"},
    {.name = "grpc-auth-server-error-not-retried",
     .opts = {GRPC_OPTS_AUTH},
     .pw = {"pw", 0600},
     .replies = {GRPC(14, "etcdserver: no leader", NULL), GRPC_OK("2:'t.1'")},
     .want = EI_UNAVAILABLE,
     .want_text = "server error (gRPC 14)",
     .reqs = {{.path = GAUTH_PATH, .flags = GAUTH_FLAGS}}},

    /* --- malformed gRPC responses --- */
    {.name = "grpc-empty-body",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC_OK("raw:")},
     .want = EI_BADDATA,
     .want_text = "range: malformed response: gRPC: empty response body",
     .want_locator = EP1},
    {.name = "grpc-frame-prefix-cut-short",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC_OK("raw:%00%00%00")},
     .want = EI_BADDATA,
     .want_text = "range: malformed response: gRPC: a 3-byte body is shorter "
                  "than the 5-byte message prefix"},
    {.name = "grpc-message-cut-short",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC_OK("raw:%00%00%00%00%09%18%01")},
     .want = EI_BADDATA,
     .want_text = "gRPC: message length 9 goes past the end of the 7-byte "
                  "body"},
    {.name = "grpc-compressed-flag",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC_OK("raw:%01%00%00%00%00")},
     .want = EI_BADDATA,
     .want_text = "gRPC: the message is compressed, which was not asked for"},
    {.name = "grpc-compressed-flag-unknown",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC_OK("raw:%80%00%00%00%00")},
     .want = EI_BADDATA,
     .want_text = "gRPC: the compressed flag is neither 0 nor 1"},
    {.name = "grpc-trailing-bytes",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC_OK("raw:%00%00%00%00%02%18%01%00%00%00%00%00")},
     .want = EI_BADDATA,
     .want_text = "gRPC: the 12-byte body goes on after the 7-byte framed "
                  "message"},
    {.name = "grpc-varint-longer-than-10-bytes",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC_OK("1{%18%ff%ff%ff%ff%ff%ff%ff%ff%ff%ff%01}")},
     .want = EI_BADDATA,
     .want_text = "range: malformed response: header.revision: varint at "
                  "byte 3 is longer than 10 bytes"},
    {.name = "grpc-varint-cut-short",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC_OK("2{1:'/app/a' %18%ff}")},
     .want = EI_BADDATA,
     .want_text = "kvs[0].mod_revision: varint at byte 11 is cut short"},
    {.name = "grpc-length-past-the-end",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC_OK("2{1:'/app/a'} %12%7f%00")},
     .want = EI_BADDATA,
     .want_text = "kvs: length 127 at byte 11 goes past the end at byte 13"},
    {.name = "grpc-wrong-wire-type",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC_OK("2:7")},
     .want = EI_BADDATA,
     .want_text = "kvs: wire type 0 at byte 0, expected 2"},
    {.name = "grpc-group-wire-type",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC_OK("%0b%0c")},
     .want = EI_BADDATA,
     .want_text = "header: group wire type 3 at byte 0 is not allowed"},
    {.name = "grpc-key-missing",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC_OK("2{5:'" CANARY "'}")},
     .want = EI_BADDATA,
     .want_text = "range: kvs[0] has no key",
     .never = CANARY},
    {.name = "grpc-key-outside-the-prefix",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC_OK("2{1:'/apple' 3:3}")},
     .want = EI_BADDATA,
     .want_text = "range: key outside the prefix /app/",
     .want_locator = "/apple@3 (" EP1 ")"},
    {.name = "grpc-keys-out-of-order",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC_OK("2{1:'/app/b'} 2{1:'/app/a'}")},
     .want = EI_BADDATA,
     .want_text = "keys out of order or repeated",
     .want_locator = "/app/a@0"},
    {.name = "grpc-key-repeated-on-the-next-page",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC, "page_size=1"},
     .replies = {GRPC_OK("2{1:'/app/a'} 3:1"), GRPC_OK("2{1:'/app/a'} 3:1")},
     .want = EI_BADDATA,
     .want_text = "keys out of order or repeated"},
    {.name = "grpc-more-without-keys-would-loop",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC_OK(PB_HDR("9") " 3:1")},
     .want = EI_BADDATA,
     .want_text = "range: more is true but the page has no keys"},
    {.name = "grpc-header-revision-negative",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC_OK(PB_HDR("-5"))},
     .want = EI_BADDATA,
     .want_text = "range: header.revision is not a revision"},
    {.name = "grpc-mod-revision-negative",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC_OK("2{1:'/app/a' 3:-1 5:'v'}")},
     .want = EI_BADDATA,
     .want_text = "range: kvs[0].mod_revision is not a revision",
     .want_locator = "/app/a@0 (" EP1 ")"},
    {.name = "grpc-key-with-nul",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC_OK("2{1:'/app/a%00b'}")},
     .want = EI_BADDATA,
     .want_text = "the key holds a NUL byte at offset 6",
     .want_locator = "/app/a?b@0"},
    {.name = "grpc-response-larger-than-max-response-size",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC, "max_response_size=16", "page_size=1"},
     .replies = {GRPC_OK(PB_ONE)},
     .want = EI_BADDATA,
     .want_text = "response larger than 16 bytes"},

    /* --- the canary: a value never reaches an error or the log --- */
    {.name = "grpc-canary-value-with-nul",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC_OK("2{1:'/app/a' 5:'" CANARY "%00x'}")},
     .want = EI_BADDATA,
     .want_text = "the value holds a NUL byte at offset 14 (16 bytes)",
     .never = CANARY},
    {.name = "grpc-canary-value-before-a-bad-key",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC_OK("2{1:'/app/b' 5:'" CANARY "'} 2{1:'/app/a' 5:'" CANARY
                         "'}")},
     .want = EI_BADDATA,
     .want_text = "keys out of order or repeated",
     .never = CANARY},
    {.name = "grpc-canary-value-before-malformed-bytes",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC_OK("2{1:'/app/a' 5:'" CANARY "'} %ff")},
     .want = EI_BADDATA,
     .want_text = "range: malformed response: RangeResponse: tag at byte 26 "
                  "is cut short",
     .never = CANARY},
    {.name = "grpc-canary-value-of-a-key-outside-the-prefix",
     .opts = {OPT_EP, OPT_PFX, OPT_GRPC},
     .replies = {GRPC_OK("2{1:'/other' 5:'" CANARY "'}")},
     .want = EI_BADDATA,
     .want_text = "key outside the prefix",
     .never = CANARY},
};

#define CASES_N (sizeof cases / sizeof cases[0])

static char tmpdir[PATH_SIZE];

/* --- helpers --- */

/* Decode %XX escapes; returns the length written to out. */
static size_t unescape(const char *s, size_t len, char *out)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int b = ei_pct_byte(s + i, len - i);
        if (b >= 0) {
            out[n++] = (char)b;
            i += 2;
        } else {
            out[n++] = s[i];
        }
    }
    return n;
}

static void sb_puts(struct expand_buf *b, const char *s)
{
    expand_put(b, s, strlen(s));
}

static void sb_b64(struct expand_buf *b, const char *bytes, size_t n)
{
    size_t size = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
    char *out = malloc(size);
    assert_non_null(out);
    sodium_bin2base64(out, size, (const unsigned char *)bytes, n,
                      sodium_base64_VARIANT_ORIGINAL);
    sb_puts(b, out);
    free(out);
}

/* "<<text>>" becomes the base64 of text (with %XX escapes). */
static void b64_rule(struct expand_buf *b, const char *text, size_t len,
                     void *ctx)
{
    (void)ctx;
    char *raw = malloc(len + 1);
    assert_non_null(raw);
    sb_b64(b, raw, unescape(text, len, raw));
    free(raw);
}

/* The template with "<<text>>" in base64 and "%D" the case's folder; the
   caller frees. */
static char *expand_tpl(const char *tpl)
{
    const struct expand_rule rules[] = {
        {.open = "<<", .close = ">>", .fn = b64_rule},
        {.open = "%D", .sub = tmpdir},
    };
    return expand(tpl, rules, sizeof rules / sizeof rules[0]);
}

/*
 * Protobuf for the tables, encoded here rather than by etcd/pb.c, so that
 * a mistake shared by the provider's encoder and decoder cannot hide.
 * Items, separated by blanks:
 *   N:V     varint field N; V decimal, a negative V as its 64-bit two's
 *           complement (10 bytes), as int64 fields travel
 *   N:'s'   length-delimited field N; s with %XX escapes (%27 for ')
 *   N{...}  embedded message field N
 *   %XX     one raw byte, for malformed messages
 */
static void pb_varint(struct expand_buf *b, uint64_t v)
{
    while (v >= 0x80) {
        char c = (char)(unsigned char)(v | 0x80);
        expand_put(b, &c, 1);
        v >>= 7;
    }
    char c = (char)(unsigned char)v;
    expand_put(b, &c, 1);
}

static void pb_bytes_field(struct expand_buf *b, unsigned long num,
                           const char *p, size_t n)
{
    pb_varint(b, (uint64_t)num << 3 | 2);
    pb_varint(b, n);
    expand_put(b, p, n);
}

/* Encode items up to the end of spec or a '}'; returns where it stopped. */
static const char *pb_items(const char *p, struct expand_buf *out)
{
    for (;;) {
        while (*p == ' ')
            p++;
        if (*p == '\0' || *p == '}')
            return p;
        if (*p == '%') {
            char raw;
            assert_int_equal(unescape(p, 3, &raw), 1);
            expand_put(out, &raw, 1);
            p += 3;
            continue;
        }
        char *end = NULL;
        unsigned long num = strtoul(p, &end, 10);
        assert_true(end != p && num > 0);
        p = end;
        if (*p == '{') {
            struct expand_buf sub = {0};
            expand_put(&sub, "", 0);
            p = pb_items(p + 1, &sub);
            assert_true(*p == '}');
            p++;
            pb_bytes_field(out, num, sub.p, sub.len);
            free(sub.p);
        } else if (p[0] == ':' && p[1] == '\'') {
            const char *q = strchr(p + 2, '\'');
            assert_non_null(q);
            char *raw = malloc((size_t)(q - p));
            assert_non_null(raw);
            pb_bytes_field(out, num, raw,
                           unescape(p + 2, (size_t)(q - p - 2), raw));
            free(raw);
            p = q + 1;
        } else {
            assert_true(*p == ':');
            p++;
            errno = 0;
            /* the cast is the two's complement for negative values */
            uint64_t v = *p == '-' ? (uint64_t)strtoll(p, &end, 10)
                                   : strtoull(p, &end, 10);
            assert_true(end != p && errno == 0);
            p = end;
            pb_varint(out, (uint64_t)num << 3);
            pb_varint(out, v);
        }
    }
}

/* A gRPC body: the message of spec behind the 5-byte prefix, or, for
   "raw:" and %XX-escaped bytes, those bytes as they are.  The caller
   frees; *len gets the length. */
static char *pb_body(const char *spec, size_t *len)
{
    struct expand_buf b = {0};
    expand_put(&b, "", 0);
    if (strncmp(spec, "raw:", 4) == 0) {
        char *raw = malloc(strlen(spec) + 1);
        assert_non_null(raw);
        expand_put(&b, raw, unescape(spec + 4, strlen(spec + 4), raw));
        free(raw);
    } else {
        struct expand_buf msg = {0};
        expand_put(&msg, "", 0);
        assert_true(*pb_items(spec, &msg) == '\0');
        uint32_t n = (uint32_t)msg.len;
        const char prefix[GRPC_PREFIX] = {
            0, (char)(unsigned char)(n >> 24), (char)(unsigned char)(n >> 16),
            (char)(unsigned char)(n >> 8), (char)(unsigned char)n};
        expand_put(&b, prefix, sizeof prefix);
        expand_put(&b, msg.p, msg.len);
        free(msg.p);
    }
    *len = b.len;
    return b.p;
}

/* A reader of the one framed message of a recorded gRPC request. */
struct pb_reader {
    const unsigned char *p;
    size_t len, pos;
};

struct pb_field {
    unsigned num, wt;
    uint64_t v;        /* wire type 0 */
    const char *bytes; /* wire type 2: len bytes */
    size_t len;
};

static struct pb_reader pb_unframe(const struct fake_http_request *r)
{
    const unsigned char *b = (const unsigned char *)r->body;
    assert_non_null(b);
    assert_true(r->body_len >= GRPC_PREFIX);
    assert_int_equal(b[0], 0); /* not compressed */
    size_t n = (size_t)b[1] << 24 | (size_t)b[2] << 16 | (size_t)b[3] << 8 |
               (size_t)b[4];
    assert_int_equal(n, r->body_len - GRPC_PREFIX);
    return (struct pb_reader){b + GRPC_PREFIX, n, 0};
}

static uint64_t pb_read_varint(struct pb_reader *rd)
{
    uint64_t v = 0;
    for (unsigned shift = 0;; shift += 7) {
        assert_true(rd->pos < rd->len && shift < 64);
        unsigned char c = rd->p[rd->pos++];
        v |= (uint64_t)(c & 0x7f) << shift;
        if (c < 0x80)
            return v;
    }
}

/* The next field into f; false at the end.  Only wire types 0 and 2 are
   expected in a request. */
static bool pb_read_field(struct pb_reader *rd, struct pb_field *f)
{
    if (rd->pos == rd->len)
        return false;
    uint64_t tag = pb_read_varint(rd);
    *f = (struct pb_field){.num = (unsigned)(tag >> 3),
                           .wt = (unsigned)(tag & 7)};
    if (f->wt == 0) {
        f->v = pb_read_varint(rd);
    } else if (f->wt == 2) {
        uint64_t n = pb_read_varint(rd);
        assert_true(n <= rd->len - rd->pos);
        f->bytes = (const char *)rd->p + rd->pos;
        f->len = (size_t)n;
        rd->pos += f->len;
    } else {
        fail_msg("field %u: wire type %u in a request", f->num, f->wt);
    }
    return true;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
}

static void write_file(const char *path, const char *content, int mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    size_t len = strlen(content);
    assert_int_equal(write(fd, content, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, (mode_t)mode), 0);
    close(fd);
}

static bool has(const char *hay, const char *needle)
{
    return hay != NULL && needle != NULL && strstr(hay, needle) != NULL;
}

static void check_never(const char *what, const char *s, const char *never)
{
    if (never != NULL && has(s, never))
        fail_msg("%s holds '%s': %s", what, never, s);
}

/* The base64 field member of a request body, decoded; -1 when absent. */
static long b64_field(json_t *body, const char *member, char *out, size_t cap)
{
    json_t *j = json_object_get(body, member);
    if (!json_is_string(j))
        return -1;
    size_t len = 0;
    const char *end = NULL;
    if (sodium_base642bin((unsigned char *)out, cap, json_string_value(j),
                          json_string_length(j), NULL, &len, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return -1;
    return (long)len;
}

static void check_bytes(const char *what, const char *got, long got_len,
                        const char *want_escaped)
{
    char want[PATH_SIZE];
    size_t n = unescape(want_escaped, strlen(want_escaped), want);
    if (got_len != (long)n || memcmp(got, want, n) != 0)
        fail_msg("%s: got %ld bytes, want %zu bytes of '%s'", what, got_len, n,
                 want_escaped);
}

static void check_range_body(const struct fake_http_request *r,
                             const struct want_req *w, size_t i)
{
    json_error_t je;
    json_t *body =
        json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &je);
    if (body == NULL)
        fail_msg("request %zu: body is not JSON: %s", i, je.text);
    char got[PATH_SIZE];
    size_t members = 0;
    if (w->key != NULL) {
        check_bytes("key", got, b64_field(body, "key", got, sizeof got),
                    w->key);
        members++;
    }
    if (w->range_end != NULL) {
        check_bytes("range_end", got,
                    b64_field(body, "range_end", got, sizeof got),
                    w->range_end);
        members++;
    }
    if (w->limit != 0) {
        json_t *l = json_object_get(body, "limit");
        assert_true(json_is_integer(l));
        assert_int_equal(json_integer_value(l), w->limit);
        members++;
    }
    json_t *rev = json_object_get(body, "revision");
    if (w->revision != 0) {
        assert_true(json_is_integer(rev));
        assert_int_equal(json_integer_value(rev), w->revision);
        members++;
    } else if (w->key != NULL) {
        assert_null(rev);
    }
    json_t *ser = json_object_get(body, "serializable");
    if (w->serializable) {
        assert_true(json_is_true(ser));
        members++;
    } else if (w->key != NULL) {
        assert_null(ser);
    }
    /* nothing else: no count_only, keys_only, sort order */
    if (w->key != NULL)
        assert_int_equal(json_object_size(body), members);
    json_decref(body);
}

/* RangeRequest field numbers (etcdserverpb/rpc.proto) */
#define PB_RANGE_KEY          1
#define PB_RANGE_END          2
#define PB_RANGE_LIMIT        3
#define PB_RANGE_REVISION     4
#define PB_RANGE_SERIALIZABLE 7

/* The RangeRequest protobuf of a gRPC request, checked as check_range_body
   checks the JSON one: a zero or empty field is absent (proto3), so a
   revision or serializable not wanted must not be there. */
static void check_range_pb(const struct fake_http_request *r,
                           const struct want_req *w, size_t i)
{
    struct pb_reader rd = pb_unframe(r);
    struct pb_field f, key = {.bytes = ""}, end = {.bytes = ""};
    long long limit = 0, revision = 0;
    bool serializable = false;
    unsigned seen = 0;
    while (pb_read_field(&rd, &f)) {
        unsigned wt = f.num == PB_RANGE_KEY || f.num == PB_RANGE_END ? 2 : 0;
        if (f.num >= 32 || (seen & 1u << f.num) != 0 || f.wt != wt)
            fail_msg("request %zu: field %u (wire type %u) unexpected or "
                     "repeated",
                     i, f.num, f.wt);
        seen |= 1u << f.num;
        switch (f.num) {
        case PB_RANGE_KEY:
            key = f;
            break;
        case PB_RANGE_END:
            end = f;
            break;
        case PB_RANGE_LIMIT:
            limit = (long long)f.v;
            break;
        case PB_RANGE_REVISION:
            revision = (long long)f.v;
            break;
        case PB_RANGE_SERIALIZABLE:
            assert_int_equal(f.v, 1);
            serializable = true;
            break;
        default:
            /* nothing else: no count_only, keys_only, sort order */
            fail_msg("request %zu: unexpected field %u", i, f.num);
        }
    }
    if (w->key != NULL)
        check_bytes("key", key.bytes, (long)key.len, w->key);
    if (w->range_end != NULL)
        check_bytes("range_end", end.bytes, (long)end.len, w->range_end);
    if (w->limit != 0)
        assert_int_equal(limit, w->limit);
    if (w->revision != 0 || w->key != NULL)
        assert_int_equal(revision, w->revision);
    if (w->serializable || w->key != NULL)
        assert_int_equal(serializable, w->serializable);
}

static void check_requests(struct fake_host *fh, const struct etcd_case *c)
{
    size_t want_n = 0;
    while (want_n < REQS_N && c->reqs[want_n].path != NULL)
        want_n++;
    if (want_n == 0)
        return;
    size_t n = 0;
    const struct fake_http_request *r = fake_host_http_requests(fh, &n);
    assert_int_equal(n, want_n);
    for (size_t i = 0; i < n; i++) {
        const struct want_req *w = &c->reqs[i];
        assert_string_equal(r[i].method, "POST");
        assert_string_equal(r[i].path, w->path);
        assert_int_equal(r[i].flags, w->flags);
        assert_non_null(r[i].body);
        if (w->endpoint != NULL)
            assert_string_equal(r[i].endpoint, w->endpoint);
        const char *auth = fake_http_header(&r[i], "Authorization");
        if (w->auth != NULL) {
            assert_non_null(auth);
            assert_string_equal(auth, w->auth);
        } else {
            assert_null(auth);
        }
        if (w->body != NULL && strcmp(w->path, GAUTH_PATH) == 0) {
            size_t len = 0;
            char *want = pb_body(w->body, &len);
            assert_int_equal(r[i].body_len, len);
            assert_memory_equal(r[i].body, want, len);
            free(want);
        } else if (w->body != NULL) {
            assert_int_equal(r[i].body_len, strlen(w->body));
            assert_string_equal(r[i].body, w->body);
        }
        if (strcmp(w->path, RANGE_PATH) == 0)
            check_range_body(&r[i], w, i);
        else if (strcmp(w->path, GRANGE_PATH) == 0)
            check_range_pb(&r[i], w, i);
    }
}

static void check_entries(const struct fake_sink *fs, const struct etcd_case *c)
{
    size_t want_n = 0;
    while (want_n < WANT_N && c->entries[want_n].name != NULL)
        want_n++;
    if (fs->n != want_n) {
        for (size_t i = 0; i < fs->n; i++)
            print_message("# got %s\n", fs->entries[i].name);
        fail_msg("%zu entries, want %zu", fs->n, want_n);
    }
    for (size_t i = 0; i < want_n; i++) {
        const struct want_entry *w = &c->entries[i];
        const struct fake_entry *e = &fs->entries[i];
        assert_string_equal(e->name, w->name);
        assert_int_equal(e->value_len, strlen(w->value));
        assert_memory_equal(e->value, w->value, e->value_len);
        if (w->locator != NULL) {
            assert_non_null(e->locator);
            assert_string_equal(e->locator, w->locator);
        }
        /* the layer decides about secrecy */
        assert_int_equal(e->flags, 0);
    }
    assert_false(fs->abi_violation);
}

/* Queue the replies of a table row: JSON with expand, gRPC with pb_body. */
static void push_replies(struct fake_host *fh, const struct reply *replies)
{
    for (size_t i = 0; i < REPLIES_N && replies[i].status != 0; i++) {
        const struct reply *r = &replies[i];
        if (r->grpc) {
            size_t len = 0;
            char *pb = r->body != NULL ? pb_body(r->body, &len) : NULL;
            assert_int_equal(
                fake_host_grpc_push(fh, r->code, r->message, pb, len, r->flags),
                0);
            free(pb);
            continue;
        }
        char *body = r->body != NULL ? expand_tpl(r->body) : NULL;
        assert_int_equal(fake_host_http_push(fh, r->status, body, r->flags), 0);
        free(body);
    }
}

/* --- the cases --- */

static void test_case(void **state)
{
    const struct etcd_case *c = *state;
    char *opts[OPTS_N + 1] = {0};
    char *env[ENV_N + 1] = {0};
    size_t opts_n = 0, env_n = 0;
    for (; opts_n < OPTS_N && c->opts[opts_n] != NULL; opts_n++)
        opts[opts_n] = expand_tpl(c->opts[opts_n]);
    for (; env_n < ENV_N && c->environ[env_n] != NULL; env_n++)
        env[env_n] = expand_tpl(c->environ[env_n]);
    char pw[PATH_SIZE + 8];
    int pn = snprintf(pw, sizeof pw, "%s/pw", tmpdir);
    assert_true(pn > 0 && (size_t)pn < sizeof pw);
    unlink(pw);
    if (c->pw.content != NULL)
        write_file(pw, c->pw.content, c->pw.mode);

    struct fake_host *fh = fake_host_new((const char *const *)opts,
                                         (const char *const *)env, tmpdir);
    assert_non_null(fh);
    if (c->arg != NULL)
        fake_host_set_arg(fh, c->arg);
    push_replies(fh, c->replies);
    const struct ei_host *h = fake_host_host(fh);
    struct ei_error err = {0};
    void *st = NULL;
    enum ei_status s = ei_provider_etcd.configure(h, &st, &err);
    /* configure does no I/O, whatever the options */
    assert_int_equal(fake_host_reads(fh), 0);
    size_t sent = 0;
    fake_host_http_requests(fh, &sent);
    assert_int_equal(sent, 0);
    char *want_text = c->want_text != NULL ? expand_tpl(c->want_text) : NULL;
    char *want_loc =
        c->want_locator != NULL ? expand_tpl(c->want_locator) : NULL;

    if (c->want_configure != EI_OK) {
        assert_int_equal(s, c->want_configure);
        assert_int_equal(err.status, c->want_configure);
        assert_null(st);
        assert_int_equal(fake_host_http_clients(fh), 0);
        if (!has(err.text, want_text))
            fail_msg("error text '%s' lacks '%s'", err.text, want_text);
        check_never("error text", err.text, c->never);
        check_never("error locator", err.locator, c->never);
    } else {
        if (s != EI_OK)
            fail_msg("configure: %s (%s)", err.text, err.locator);
        assert_null(fake_host_unused(fh));
        /* either API also opens the watch mode's client */
        assert_int_equal(fake_host_http_clients(fh), 2);

        struct fake_sink fs;
        fake_sink_init(&fs);
        fs.fail_at = c->fail_at;
        struct ei_deadline dl;
        fake_deadline(&dl, c->deadline_ms != 0 ? c->deadline_ms : DL_MS);
        s = ei_provider_etcd.fetch(st, &fs.sink, &dl, &err);
        if (s != c->want)
            fail_msg("fetch returned %d, want %d: %s (%s)", s, c->want,
                     err.text, err.locator);
        if (c->want == EI_OK) {
            assert_int_equal(err.status, EI_OK);
            check_entries(&fs, c);
            assert_int_equal(fake_host_http_pending(fh), 0);
        } else {
            assert_int_equal(err.status, c->want);
            if (!has(err.text, want_text))
                fail_msg("error text '%s' lacks '%s'", err.text, want_text);
            if (want_loc != NULL && !has(err.locator, want_loc))
                fail_msg("locator '%s' lacks '%s'", err.locator, want_loc);
        }
        check_never("error text", err.text, c->never);
        check_never("error locator", err.locator, c->never);
        check_never("log", fake_host_log(fh), c->never);
        if (c->log_has != NULL && !has(fake_host_log(fh), c->log_has))
            fail_msg("log '%s' lacks '%s'", fake_host_log(fh), c->log_has);
        check_requests(fh, c);
        ei_provider_etcd.destroy(st);
        assert_int_equal(fake_host_http_clients(fh), 0);
        fake_sink_free(&fs);
    }
    free(want_text);
    free(want_loc);
    fake_host_free(fh);
    free_list(opts, opts_n);
    free_list(env, env_n);
}

/* --- tests beyond the table --- */

static void test_descriptor(void **state)
{
    (void)state;
    const struct ei_provider *p = &ei_provider_etcd;
    assert_int_equal(p->abi, EI_PROVIDER_ABI);
    assert_int_equal(p->size, sizeof(struct ei_provider));
    assert_string_equal(p->name, "etcd");
    assert_string_equal(p->arg_option, "endpoints");
    assert_int_equal(p->flags,
                     EI_PROV_REMOTE | EI_PROV_INTERP | EI_PROV_OWN_PREFIX);
    assert_non_null(p->configure);
    assert_non_null(p->fetch);
    assert_non_null(p->lookup);
    p->destroy(NULL);
}

/* ref+etcd:///refs/pw: a Range of that key alone, [key, key "\0"), one
   key asked for, its value emitted; no key is EI_NOTFOUND; a query is
   refused before any request. */
static void test_lookup(void **state)
{
    (void)state;
    const char *opts[] = {OPT_EP, OPT_PFX, NULL};
    struct fake_host *fh = fake_host_new(opts, NULL, tmpdir);
    assert_non_null(fh);
    assert_int_equal(
        fake_host_http_push(fh, 200,
                            "{" HDR("9") ",\"kvs\":[{\"key\":\"L3JlZnMvcHc=\","
                                         "\"mod_revision\":\"7\",\"value\":"
                                         "\"czNjcmV0\"}],\"count\":\"1\"}",
                            0),
        0);
    assert_int_equal(fake_host_http_push(fh, 200, "{" HDR("9") "}", 0), 0);
    struct ei_error err = {0};
    void *st = NULL;
    assert_int_equal(ei_provider_etcd.configure(fake_host_host(fh), &st, &err),
                     EI_OK);
    struct fake_sink fs;
    fake_sink_init(&fs);
    struct ei_deadline dl;
    fake_deadline(&dl, DL_MS);
    assert_int_equal(
        ei_provider_etcd.lookup(st, "ref+etcd:///refs/pw", &fs.sink, &dl, &err),
        EI_OK);
    assert_int_equal(fs.n, 1);
    assert_string_equal(fs.entries[0].name, "value");
    assert_string_equal(fs.entries[0].value, "s3cret");
    assert_string_equal(fs.entries[0].locator, "/refs/pw@7 (" EP1 ")");
    size_t n = 0;
    const struct fake_http_request *r = fake_host_http_requests(fh, &n);
    assert_int_equal(n, 1);
    assert_string_equal(r[0].path, RANGE_PATH);
    assert_string_equal(r[0].body, "{\"key\":\"L3JlZnMvcHc=\",\"range_end\":"
                                   "\"L3JlZnMvcHcA\",\"limit\":1}");
    assert_int_equal(ei_provider_etcd.lookup(st, "ref+etcd:///refs/none",
                                             &fs.sink, &dl, &err),
                     EI_NOTFOUND);
    assert_string_equal(err.text, "no key /refs/none");
    assert_int_equal(ei_provider_etcd.lookup(st, "ref+etcd:///refs/pw?x=1",
                                             &fs.sink, &dl, &err),
                     EI_BADDATA);
    assert_int_equal(
        ei_provider_etcd.lookup(st, "ref+etcd://", &fs.sink, &dl, &err),
        EI_BADDATA);
    fake_host_http_requests(fh, &n);
    assert_int_equal(n, 2);
    assert_int_equal(fs.n, 1);
    fake_sink_free(&fs);
    ei_provider_etcd.destroy(st);
    fake_host_free(fh);
}

/* A layer made for references (ref+etcd://) finds etcd as etcdctl does
   ($ETCDCTL_ENDPOINTS, else http://127.0.0.1:2379) and reads single
   keys, so it needs neither endpoints nor prefix; any other layer needs
   both. */
static void test_references_only(void **state)
{
    (void)state;
    static const struct fake_configure_row rows[] = {
        {"refs-only-without-options", true, {NULL}, {NULL}, EI_OK, NULL},
        {"refs-only-endpoint-from-env",
         true,
         {NULL},
         {"ETCDCTL_ENDPOINTS=" EP2, NULL},
         EI_OK,
         NULL},
        {"refs-only-endpoints-without-prefix",
         true,
         {OPT_EP, NULL},
         {NULL},
         EI_OK,
         NULL},
        {"endpoints-required-otherwise",
         false,
         {OPT_PFX, NULL},
         {NULL},
         EI_BADCONFIG,
         "endpoints is required"},
        {"prefix-required-otherwise",
         false,
         {OPT_EP, NULL},
         {NULL},
         EI_BADCONFIG,
         "prefix is required"},
    };
    char why[512];
    const char *bad = fake_configure_rows(
        &ei_provider_etcd, rows, sizeof rows / sizeof rows[0], why, sizeof why);
    if (bad != NULL)
        fail_msg("%s", bad);

    /* the reference goes to $ETCDCTL_ENDPOINTS */
    const char *env[] = {"ETCDCTL_ENDPOINTS=" EP2, NULL};
    struct fake_host *fh = fake_host_new(NULL, env, tmpdir);
    assert_non_null(fh);
    fake_host_set_references_only(fh, true);
    assert_int_equal(fake_host_http_push(fh, 200, "{" HDR("9") "}", 0), 0);
    struct ei_error err = {0};
    void *st = NULL;
    assert_int_equal(ei_provider_etcd.configure(fake_host_host(fh), &st, &err),
                     EI_OK);
    struct fake_sink fs;
    fake_sink_init(&fs);
    struct ei_deadline dl;
    fake_deadline(&dl, DL_MS);
    assert_int_equal(ei_provider_etcd.lookup(st, "ref+etcd:///refs/none",
                                             &fs.sink, &dl, &err),
                     EI_NOTFOUND);
    size_t n = 0;
    const struct fake_http_request *r = fake_host_http_requests(fh, &n);
    assert_int_equal(n, 1);
    assert_string_equal(r[0].endpoint, EP2);
    fake_sink_free(&fs);
    ei_provider_etcd.destroy(st);
    fake_host_free(fh);
}

/* The value of key i of a page test, pad bytes longer than the plain one. */
static void many_value(char *out, size_t size, size_t i, size_t pad)
{
    int n = snprintf(out, size, "value %zu ✓", i);
    assert_true(n > 0 && (size_t)n + pad < size);
    memset(out + n, 'p', pad);
    out[(size_t)n + pad] = '\0';
}

/* A page of keys /app/kNNNNN from..to-1 (to < n: more follows). */
static char *many_page(size_t from, size_t to, size_t n, size_t pad)
{
    struct expand_buf b = {0};
    sb_puts(&b, "{" HDR("77") ",\"kvs\":[");
    for (size_t i = from; i < to; i++) {
        char key[32], val[MANY_VALUE_MAX];
        snprintf(key, sizeof key, "/app/k%05zu", i);
        many_value(val, sizeof val, i, pad);
        sb_puts(&b, i > from ? ",{\"key\":\"" : "{\"key\":\"");
        sb_b64(&b, key, strlen(key));
        sb_puts(&b, "\",\"mod_revision\":\"3\",\"value\":\"");
        sb_b64(&b, val, strlen(val));
        sb_puts(&b, "\"}");
    }
    sb_puts(&b, to < n ? "],\"more\":true}" : "]}");
    return b.p;
}

/* How the pages of a large prefix are asked for. */
struct many_case {
    const char *page_opt; /* NULL: page_size not given */
    size_t keys;
    size_t pad;                     /* bytes added to every value */
    long long limits[MANY_PAGES_N]; /* the limit of each request, 0 ends */
};

static const struct many_case many_cases[] = {
    /* small responses: the page doubles up to 10000 keys */
    {NULL, 26000, 0, {5000, 10000, 10000, 10000}},
    /* page_size given: every page the same */
    {"page_size=1000", 2500, 0, {1000, 1000, 1000}},
    /* a response of a megabyte or more: no growth */
    {NULL, 11000, 1100, {5000, 5000, 5000}},
};

/* Thousands of keys over several pages, the fake answering each request
   with as many keys as it asked for: every key once, in order, and every
   page starts right after the last key of the one before. */
static void test_many_pages(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof many_cases / sizeof many_cases[0]; c++) {
        const struct many_case *mc = &many_cases[c];
        const char *opts[] = {OPT_EP, OPT_PFX, mc->page_opt, NULL};
        struct fake_host *fh = fake_host_new(opts, NULL, tmpdir);
        assert_non_null(fh);
        size_t pages = 0;
        for (size_t from = 0; from < mc->keys; pages++) {
            assert_true(pages < MANY_PAGES_N && mc->limits[pages] != 0);
            size_t to = from + (size_t)mc->limits[pages];
            if (to > mc->keys)
                to = mc->keys;
            char *page = many_page(from, to, mc->keys, mc->pad);
            assert_int_equal(fake_host_http_push(fh, 200, page, 0), 0);
            free(page);
            from = to;
        }
        struct ei_error err = {0};
        void *st = NULL;
        assert_int_equal(
            ei_provider_etcd.configure(fake_host_host(fh), &st, &err), EI_OK);
        struct fake_sink fs;
        fake_sink_init(&fs);
        struct ei_deadline dl;
        fake_deadline(&dl, DL_MS);
        assert_int_equal(ei_provider_etcd.fetch(st, &fs.sink, &dl, &err),
                         EI_OK);
        assert_int_equal(fs.n, mc->keys);
        for (size_t i = 0; i < mc->keys; i++) {
            char name[32], val[MANY_VALUE_MAX];
            snprintf(name, sizeof name, "k%05zu", i);
            many_value(val, sizeof val, i, mc->pad);
            assert_string_equal(fs.entries[i].name, name);
            assert_string_equal(fs.entries[i].value, val);
        }
        size_t n = 0;
        const struct fake_http_request *r = fake_host_http_requests(fh, &n);
        assert_int_equal(n, pages);
        size_t last = 0;
        for (size_t i = 0; i < n; i++) {
            char want[32];
            if (i == 0)
                snprintf(want, sizeof want, "/app/");
            else
                snprintf(want, sizeof want, "/app/k%05zu%%00", last - 1);
            struct want_req w = {.key = want,
                                 .range_end = "/app0",
                                 .limit = mc->limits[i],
                                 .revision = i > 0 ? 77 : 0};
            check_range_body(&r[i], &w, i);
            last += (size_t)mc->limits[i];
        }
        ei_provider_etcd.destroy(st);
        fake_sink_free(&fs);
        fake_host_free(fh);
    }
}

/* A fetch of st that succeeds on the reply queued last, then what
   watch says of the layer: kind. */
static void fetch_then_watch(void *st, enum ei_watch_kind kind)
{
    struct ei_error err = {0};
    struct fake_sink fs;
    fake_sink_init(&fs);
    struct ei_deadline dl;
    fake_deadline(&dl, DL_MS);
    assert_int_equal(ei_provider_etcd.fetch(st, &fs.sink, &dl, &err), EI_OK);
    fake_sink_free(&fs);
    const char *const *paths = NULL;
    int64_t poll_ms = 0;
    assert_int_equal(ei_provider_etcd.watch(st, &paths, &poll_ms), kind);
}

/* One wait_change against the reply queued last, which it must have
   asked for with one request, returned: what it returned, and what its
   err says (want_text NULL: anything). */
static const struct fake_http_request *wait_once(struct fake_host *fh, void *st,
                                                 enum ei_status want,
                                                 bool want_changed,
                                                 const char *want_text)
{
    size_t before = 0;
    fake_host_http_requests(fh, &before);
    struct ei_deadline dl;
    fake_deadline(&dl, 600000);
    struct ei_error err = {0};
    bool changed = !want_changed;
    enum ei_status got =
        ei_provider_etcd.wait_change(st, &dl, &changed, &err);
    if (got != want)
        fail_msg("status %d (%s), want %d", got, err.text, want);
    if (got == EI_OK)
        assert_int_equal(changed, want_changed);
    if (want_text != NULL && strstr(err.text, want_text) == NULL)
        fail_msg("error '%s' lacks '%s'", err.text, want_text);
    size_t n = 0;
    const struct fake_http_request *r = fake_host_http_requests(fh, &n);
    assert_int_equal(n, before + 1);
    return &r[n - 1];
}

/* One wait_change against a canned stream: status, what it said, the
   start_revision it asked for. */
static void watch_step(struct fake_host *fh, void *st, long status,
                       const char *stream, enum ei_status want,
                       bool want_changed, const char *want_in_body)
{
    assert_int_equal(fake_host_http_push(fh, status, stream, 0), 0);
    const struct fake_http_request *r =
        wait_once(fh, st, want, want_changed, NULL);
    assert_string_equal(r->path, "/v3/watch");
    assert_true(r->flags & EI_HTTP_STREAM);
    if (strstr(r->body, want_in_body) == NULL)
        fail_msg("body '%s' lacks '%s'", r->body, want_in_body);
}

#define CREATED "{\"result\":{" HDR("9") ",\"created\":true}}\n"

/*
 * run --watch over the JSON gateway: after a read at revision 9 the
 * stream starts at 10 over the prefix; events move the start past their
 * mod_revision; a compaction cancels the watch (read again, start from
 * the compact revision); an error message, a message that is not JSON
 * and an error status fail the wait; a later read's revision wins.
 */
static void test_watch_stream(void **state)
{
    (void)state;
    const char *opts[] = {OPT_EP, OPT_PFX, NULL};
    struct fake_host *fh = fake_host_new(opts, NULL, tmpdir);
    assert_non_null(fh);
    struct ei_error err = {0};
    void *st = NULL;
    assert_int_equal(ei_provider_etcd.configure(fake_host_host(fh), &st, &err),
                     EI_OK);
    const char *const *paths = NULL;
    int64_t poll_ms = 0;
    assert_int_equal(ei_provider_etcd.watch(st, &paths, &poll_ms),
                     EI_WATCH_POLL);
    static const char page9[] =
        "{" HDR("9") ",\"kvs\":[{\"key\":\"L2FwcC9h\",\"mod_revision\":\"4\","
        "\"value\":\"MQ==\"}],\"count\":\"1\"}";
    assert_int_equal(fake_host_http_push(fh, 200, page9, 0), 0);
    fetch_then_watch(st, EI_WATCH_BLOCKING);

    /* only "created" before the deadline: nothing changed */
    watch_step(fh, st, 200, CREATED, EI_OK, false,
               "{\"create_request\":{\"key\":\"L2FwcC8=\","
               "\"range_end\":\"L2FwcDA=\",\"start_revision\":10}}");
    watch_step(fh, st, 200,
               CREATED "{\"result\":{" HDR("12") ",\"events\":[{\"kv\":{"
                       "\"key\":\"L2FwcC9h\",\"mod_revision\":\"12\","
                       "\"value\":\"Mg==\"}},{\"type\":\"DELETE\",\"kv\":{"
                       "\"key\":\"L2FwcC9i\",\"mod_revision\":\"11\"}}]}}\n",
               EI_OK, true, "\"start_revision\":10");
    watch_step(fh, st, 200,
               CREATED "{\"result\":{\"header\":{},\"canceled\":true,"
                       "\"compact_revision\":\"20\"}}\n",
               EI_OK, true, "\"start_revision\":13");
    /* cancelled without a compaction: a failure, not a change */
    watch_step(fh, st, 200,
               CREATED "{\"result\":{\"header\":{},\"canceled\":true,"
                       "\"cancel_reason\":\"permission denied\"}}\n",
               EI_UNAVAILABLE, false, "\"start_revision\":20");
    watch_step(fh, st, 200,
               "{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":"
               "\"transport is closing\",\"http_status\":\"Service "
               "Unavailable\"}}\n",
               EI_UNAVAILABLE, false, "\"start_revision\":20");
    watch_step(fh, st, 200, "not json at all\n", EI_UNAVAILABLE, false,
               "\"start_revision\":20");
    watch_step(fh, st, 404, "404 page not found", EI_BADDATA, false,
               "\"start_revision\":20");
    /* a read at a later revision: the stream starts after it */
    static const char page30[] =
        "{" HDR("30") ",\"kvs\":[{\"key\":\"L2FwcC9h\",\"mod_revision\":\"25\","
        "\"value\":\"Mw==\"}],\"count\":\"1\"}";
    assert_int_equal(fake_host_http_push(fh, 200, page30, 0), 0);
    fetch_then_watch(st, EI_WATCH_BLOCKING);
    watch_step(fh, st, 200, CREATED, EI_OK, false, "\"start_revision\":31");
    assert_int_equal(fake_host_http_pending(fh), 0);
    ei_provider_etcd.destroy(st);
    assert_int_equal(fake_host_http_clients(fh), 0);
    fake_host_free(fh);
}

#define GWATCH_PATH  "/etcdserverpb.Watch/Watch"
#define GWATCH_FLAGS (EI_HTTP_STREAM | EI_HTTP_NORETRY | EI_HTTP_GRPC)
/* WatchResponses in protobuf notation: created, and a progress report */
#define PB_CREATED  PB_HDR("9") " 3:1"
#define PB_PROGRESS PB_HDR("9") " 2:-1"

/* The framed messages of specs (NULL-terminated) one after another, as
   a gRPC stream brings them; the caller frees. */
static char *pb_stream(const char *const *specs, size_t *len)
{
    struct expand_buf b = {0};
    expand_put(&b, "", 0);
    for (size_t i = 0; specs[i] != NULL; i++) {
        size_t n = 0;
        char *one = pb_body(specs[i], &n);
        expand_put(&b, one, n);
        free(one);
    }
    *len = b.len;
    return b.p;
}

/*
 * One wait_change over gRPC against a canned stream of messages (or a
 * grpc-status code other than 0 and no message): what it returned, what
 * its err says, and that it asked for the watch of the prefix from
 * start_rev on, as etcd would read the request.
 */
static void gwatch_step(struct fake_host *fh, void *st, int code,
                        const char *const *specs, enum ei_status want,
                        bool want_changed, const char *want_text,
                        long long start_rev)
{
    size_t len = 0;
    char *body = specs != NULL ? pb_stream(specs, &len) : NULL;
    assert_int_equal(fake_host_grpc_push(fh, code,
                                         code > 0 ? "the status message" : NULL,
                                         body, len, 0),
                     0);
    free(body);
    const struct fake_http_request *r =
        wait_once(fh, st, want, want_changed, want_text);
    assert_string_equal(r->path, GWATCH_PATH);
    assert_int_equal(r->flags, GWATCH_FLAGS);
    char spec[96];
    snprintf(spec, sizeof spec, "1{1:'/app/' 2:'/app0' 3:%lld}", start_rev);
    size_t want_len = 0;
    char *want_body = pb_body(spec, &want_len);
    assert_int_equal(r->body_len, want_len);
    assert_memory_equal(r->body, want_body, want_len);
    free(want_body);
}

/* A gRPC layer of fh's options, configured. */
static void *gwatch_configured(struct fake_host *fh)
{
    struct ei_error err = {0};
    void *st = NULL;
    assert_int_equal(ei_provider_etcd.configure(fake_host_host(fh), &st, &err),
                     EI_OK);
    return st;
}

/* A configured gRPC layer that read revision rev, watched as kind. */
static void *gwatch_layer_on(struct fake_host *fh, const char *rev,
                             enum ei_watch_kind kind)
{
    void *st = gwatch_configured(fh);
    char page[160];
    snprintf(page, sizeof page, PB_HDR("%s") " 2{1:'/app/a' 3:4 5:'1'} 4:1",
             rev);
    size_t len = 0;
    char *pb = pb_body(page, &len);
    assert_int_equal(fake_host_grpc_push(fh, 0, NULL, pb, len, 0), 0);
    free(pb);
    fetch_then_watch(st, kind);
    return st;
}

static void *gwatch_layer(struct fake_host *fh, const char *rev)
{
    return gwatch_layer_on(fh, rev, EI_WATCH_BLOCKING);
}

/*
 * run --watch over gRPC: after a read at revision 9 the Watch stream
 * starts at 10 over the prefix (one framed WatchRequest as the request
 * body); events move the start past their mod_revision; a compaction
 * cancels the watch (read again, start from the compact revision); a
 * cancellation for another reason, a gRPC status, a malformed or
 * compressed message and an event without a revision fail the wait;
 * Unimplemented is no etcd; a later read's revision wins.
 */
static void test_watch_grpc_stream(void **state)
{
    (void)state;
    const char *opts[] = {OPT_EP, OPT_PFX, OPT_GRPC, NULL};
    /* a host without streams (as old as its missing http_header):
       polled, with no client opened for a watch */
    struct fake_host *fh = fake_host_new(opts, NULL, tmpdir);
    assert_non_null(fh);
    fake_host_set_size(fh, offsetof(struct ei_host, http_header));
    void *st = gwatch_layer_on(fh, "9", EI_WATCH_POLL);
    assert_int_equal(fake_host_http_clients(fh), 1);
    ei_provider_etcd.destroy(st);
    fake_host_free(fh);

    fh = fake_host_new(opts, NULL, tmpdir);
    assert_non_null(fh);
    st = gwatch_configured(fh);
    const char *const *paths = NULL;
    int64_t poll_ms = 0;
    /* nothing read yet: no revision to watch from */
    assert_int_equal(ei_provider_etcd.watch(st, &paths, &poll_ms),
                     EI_WATCH_POLL);
    ei_provider_etcd.destroy(st);
    st = gwatch_layer(fh, "9");

    /* only "created" and a progress report before the end: no change */
    const char *quiet[] = {PB_CREATED, PB_PROGRESS, NULL};
    gwatch_step(fh, st, 0, quiet, EI_OK, false, NULL, 10);
    /* two events, the later one first: the next watch starts after it */
    const char *events[] = {
        PB_CREATED,
        PB_HDR("12") " 11{2{1:'/app/a' 3:12 5:'2'}} 11{1:1 2{1:'/app/b' 3:11}}",
        PB_HDR("13") " 11{2{1:'/app/a' 3:13 5:'3'}}", NULL};
    gwatch_step(fh, st, 0, events, EI_OK, true, NULL, 10);
    const char *compacted[] = {PB_CREATED, "1{1:1} 4:1 5:20", NULL};
    gwatch_step(fh, st, 0, compacted, EI_OK, true, NULL, 13);
    assert_non_null(
        strstr(fake_host_log(fh), "compacted to revision 20): reading again"));
    const char *refused[] = {
        PB_CREATED " 4:1 6:'etcdserver: permission denied'", NULL};
    gwatch_step(fh, st, 0, refused, EI_UNAVAILABLE, false,
                "watch: the watch was cancelled (etcdserver: permission "
                "denied)",
                20);
    gwatch_step(fh, st, 14, NULL, EI_UNAVAILABLE, false,
                "server error (gRPC 14): the status message", 20);
    const char *malformed[] = {PB_CREATED, PB_HDR("21") " 11:1", NULL};
    gwatch_step(fh, st, 0, malformed, EI_UNAVAILABLE, false,
                "watch: malformed WatchResponse: events: wire type 0 at "
                "byte 28, expected 2",
                20);
    const char *compressed[] = {"raw:%01%00%00%00%01x", NULL};
    gwatch_step(fh, st, 0, compressed, EI_UNAVAILABLE, false,
                "watch: gRPC: a message is compressed", 20);
    const char *no_rev[] = {PB_HDR("22") " 11{2{1:'/app/a' 5:'4'}}", NULL};
    gwatch_step(fh, st, 0, no_rev, EI_UNAVAILABLE, false,
                "watch: a watch event has no valid mod_revision", 20);
    gwatch_step(fh, st, 12, NULL, EI_BADDATA, false,
                "not an etcd v3 gRPC server (gRPC 12 for " GWATCH_PATH ")", 20);
    /* a stream that ends inside a message: nothing came, ask again */
    const char *cut[] = {"raw:%00%00%00%00%20%0a%02", NULL};
    gwatch_step(fh, st, 0, cut, EI_OK, false, NULL, 20);
    ei_provider_etcd.destroy(st);

    /* a read at a later revision: the stream starts after it */
    st = gwatch_layer(fh, "30");
    gwatch_step(fh, st, 0, quiet, EI_OK, false, NULL, 31);
    assert_int_equal(fake_host_http_pending(fh), 0);
    ei_provider_etcd.destroy(st);
    assert_int_equal(fake_host_http_clients(fh), 0);
    fake_host_free(fh);
}

/*
 * The gRPC stream split into messages whatever pieces it comes in: a
 * created response, a progress report and an event, fed in pieces of
 * every size from one byte to the whole, end the stream at the event's
 * last byte, never before, with the next revision after it.
 */
static void test_watch_grpc_pieces(void **state)
{
    (void)state;
    const char *opts[] = {OPT_EP, OPT_PFX, OPT_GRPC, NULL};
    struct fake_host *fh = fake_host_new(opts, NULL, tmpdir);
    assert_non_null(fh);
    void *st = gwatch_configured(fh);
#define EVENT15 PB_HDR("15") " 11{2{1:'/app/a' 3:15 5:'" CANARY "'}}"
    const char *specs[] = {PB_CREATED, PB_PROGRESS, EVENT15, PB_CREATED, NULL};
    size_t len = 0;
    char *stream = pb_stream(specs, &len);
    size_t created_n = 0, event_n = 0;
    free(pb_body(PB_CREATED, &created_n));
    free(pb_body(EVENT15, &event_n));
#undef EVENT15
    size_t event_end = len - created_n;
    for (size_t piece = 1; piece <= len; piece++) {
        struct etcd_watching w = {.st = st, .next_rev = 10};
        size_t at = 0;
        int stop = 0;
        while (at < len && stop == 0) {
            size_t n = len - at < piece ? len - at : piece;
            stop = etcd_wire_grpc.watch_data(&w, stream + at, n);
            at += n;
        }
        assert_int_equal(stop, 1);
        /* the piece that held the event's last byte ended it */
        assert_true(at >= event_end && at - piece < event_end);
        assert_true(w.changed);
        assert_false(w.failed);
        assert_int_equal(w.next_rev, 16);
        /* the event, with its value, is the longest message the buffer
           held: wiped */
        assert_non_null(w.buf);
        assert_true(w.cap >= event_n);
        for (size_t i = 0; i < event_n; i++)
            assert_int_equal(w.buf[i], 0);
        free(w.buf);
    }
    free(stream);
    ei_provider_etcd.destroy(st);
    fake_host_free(fh);
}

/* Nesting deeper than jansson parses is malformed, not a crash. */
static void test_deep_nesting(void **state)
{
    (void)state;
    const size_t depth = 100000;
    char *body = malloc(depth + 16);
    assert_non_null(body);
    memcpy(body, "{\"kvs\":", 7);
    memset(body + 7, '[', depth);
    body[7 + depth] = '\0';
    const char *opts[] = {OPT_EP, OPT_PFX, NULL};
    struct fake_host *fh = fake_host_new(opts, NULL, tmpdir);
    assert_non_null(fh);
    assert_int_equal(fake_host_http_push(fh, 200, body, 0), 0);
    free(body);
    struct ei_error err = {0};
    void *st = NULL;
    assert_int_equal(ei_provider_etcd.configure(fake_host_host(fh), &st, &err),
                     EI_OK);
    struct fake_sink fs;
    fake_sink_init(&fs);
    struct ei_deadline dl;
    fake_deadline(&dl, DL_MS);
    assert_int_equal(ei_provider_etcd.fetch(st, &fs.sink, &dl, &err),
                     EI_BADDATA);
    assert_true(has(err.text, "malformed JSON"));
    assert_int_equal(fs.n, 0);
    ei_provider_etcd.destroy(st);
    fake_sink_free(&fs);
    fake_host_free(fh);
}

/* A read with a login, two pages and a renewed token, over each API. */
struct oom_case {
    const char *opts[OPTS_N];
    struct reply replies[REPLIES_N];
};

static const struct oom_case oom_cases[] = {
    {.opts = {OPT_EP, OPT_PFX, "username=u", "password_file=pw", "page_size=1"},
     .replies = {{200, "{\"token\":\"t\"}"},
                 {200,
                  "{" HDR("5") ",\"kvs\":[{\"key\":\"<</app/a/b>>\",\"value\":"
                               "\"<<1>>\"}],\"more\":true}"},
                 {401, TOKEN_BAD},
                 {200, "{\"token\":\"t2\"}"},
                 {200,
                  "{\"kvs\":[{\"key\":\"<</app/c>>\",\"value\":\"<<2>>\"}]}"}}},
    {.opts = {OPT_EP, OPT_PFX, OPT_GRPC, "username=u", "password_file=pw",
              "page_size=1"},
     .replies = {GRPC_OK("2:'t'"),
                 GRPC_OK(PB_HDR("5") " 2{1:'/app/a/b' 5:'1'} 3:1"),
                 GRPC_TOKEN_BAD, GRPC_OK("2:'t2'"),
                 GRPC_OK("2{1:'/app/c' 5:'2'}")}},
};

/*
 * Every allocation of configure and fetch (the provider's, the fake's and
 * jansson's) fails in turn: the result is EI_OK or out of memory, never a
 * crash or a leak (ASan, valgrind), and never a misleading status.
 */
static void test_out_of_memory(void **state)
{
    (void)state;
    char pw[PATH_SIZE + 8];
    int pn = snprintf(pw, sizeof pw, "%s/pw", tmpdir);
    assert_true(pn > 0 && (size_t)pn < sizeof pw);
    write_file(pw, "pw\n", 0600);
    for (size_t c = 0; c < sizeof oom_cases / sizeof oom_cases[0]; c++) {
        const struct oom_case *oc = &oom_cases[c];
        bool passed = false;
        for (long n = 0; !passed; n++) {
            struct fake_host *fh = fake_host_new(oc->opts, NULL, tmpdir);
            assert_non_null(fh);
            push_replies(fh, oc->replies);
            struct fake_sink fs;
            fake_sink_init(&fs);
            struct ei_error err = {0};
            void *st = NULL;
            struct ei_deadline dl;
            fake_deadline(&dl, DL_MS);
            chaos_countdown = n;
            chaos_json_hit = false;
            enum ei_status s =
                ei_provider_etcd.configure(fake_host_host(fh), &st, &err);
            if (s == EI_OK)
                s = ei_provider_etcd.fetch(st, &fs.sink, &dl, &err);
            bool failed_one = chaos_countdown == 0;
            chaos_countdown = -1;
            if (s == EI_OK) {
                assert_int_equal(fs.n, 2);
                passed = !failed_one;
            } else if (s != EI_NOMEM) {
                /* the fake sink reports its own allocation failures, and
                   jansson calls most of its own malformed input */
                if (!(s == EI_INTERNAL && has(err.text, "fake sink")) &&
                    !(s == EI_BADDATA && chaos_json_hit))
                    fail_msg("case %zu: allocation %ld failed: status %d: %s",
                             c, n, s, err.text);
            }
            ei_provider_etcd.destroy(st);
            fake_sink_free(&fs);
            fake_host_free(fh);
            assert_true(n < 100000);
        }
    }
}

/* One reply for test_fake_grpc: gRPC unless plain is an HTTP status. */
struct fake_grpc_reply {
    long plain;
    int code;
    const char *message;
    const char *body;
    size_t body_len;
};

/* What the fake host makes of gRPC replies, as the engine would. */
struct fake_grpc_case {
    const char *name;
    unsigned flags; /* of the request */
    struct fake_grpc_reply replies[2];
    size_t replies_n;
    enum ei_status want;
    long status; /* resp.status */
    int grpc_status;
    const char *message; /* resp.grpc_message */
    const char *body;    /* NULL: "" */
    size_t body_len;
    const char *text; /* err.text */
    size_t attempts;
};

#define FG (EI_HTTP_GRPC | EI_HTTP_SECRET)
/* a framed message holding NUL bytes: RangeResponse{more: true} */
#define FG_BODY     "\0\0\0\0\2\x18\1"
#define FG_BODY_LEN 7
#define FG_OK                                                                  \
    {                                                                          \
        .body = FG_BODY, .body_len = FG_BODY_LEN                               \
    }

static const struct fake_grpc_case fake_grpc_cases[] = {
    {.name = "ok: body byte for byte, message dropped",
     .flags = FG,
     .replies = {{.message = "dropped", .body = FG_BODY, .body_len = 7}},
     .replies_n = 1,
     .status = 200,
     .message = "",
     .body = FG_BODY,
     .body_len = FG_BODY_LEN,
     .attempts = 1},
    {.name = "no grpc-status",
     .flags = FG,
     .replies = {{.code = -1, .message = "dropped"}},
     .replies_n = 1,
     .status = 200,
     .grpc_status = -1,
     .message = "",
     .attempts = 1},
    {.name = "14 is 503, retried",
     .flags = FG,
     .replies = {{.code = 14, .message = "leader changed"}, FG_OK},
     .replies_n = 2,
     .status = 200,
     .message = "",
     .body = FG_BODY,
     .body_len = FG_BODY_LEN,
     .attempts = 2},
    {.name = "14 until the engine gives up",
     .flags = FG,
     .replies = {{.code = 14, .message = "leader changed"}},
     .replies_n = 1,
     .want = EI_UNAVAILABLE,
     .grpc_status = -1,
     .message = "",
     .text = "HTTP 503 (gRPC 14) after 1 attempt",
     .attempts = 1},
    {.name = "14 with NORETRY returned as it is",
     .flags = FG | EI_HTTP_NORETRY,
     .replies = {{.code = 14, .message = "leader changed"}},
     .replies_n = 1,
     .status = 503,
     .grpc_status = 14,
     .message = "leader changed",
     .attempts = 1},
    {.name = "8 is 429, retried",
     .flags = FG,
     .replies = {{.code = 8, .message = "too many requests"}, FG_OK},
     .replies_n = 2,
     .status = 200,
     .message = "",
     .body = FG_BODY,
     .body_len = FG_BODY_LEN,
     .attempts = 2},
    {.name = "12 is 501, not retried",
     .flags = FG,
     .replies = {{.code = 12, .message = "unknown service"}},
     .replies_n = 1,
     .status = 501,
     .grpc_status = 12,
     .message = "unknown service",
     .attempts = 1},
    {.name = "3 is 400, message made printable",
     .flags = FG,
     .replies = {{.code = 3, .message = "bad\nnews\x7f\xc3\xa9"}},
     .replies_n = 1,
     .status = 400,
     .grpc_status = 3,
     .message = "bad?news???",
     .attempts = 1},
    {.name = "16 is 401",
     .flags = FG,
     .replies = {{.code = 16, .message = "etcdserver: invalid auth token"}},
     .replies_n = 1,
     .status = 401,
     .grpc_status = 16,
     .message = "etcdserver: invalid auth token",
     .attempts = 1},
    {.name = "an unknown code is 500",
     .flags = FG | EI_HTTP_NORETRY,
     .replies = {{.code = 99}},
     .replies_n = 1,
     .status = 500,
     .grpc_status = 99,
     .message = "",
     .attempts = 1},
    {.name = "a plain 200 to a gRPC call has no grpc-status",
     .flags = FG,
     .replies = {{.plain = 200, .body = "{}", .body_len = 2}},
     .replies_n = 1,
     .status = 200,
     .grpc_status = -1,
     .message = "",
     .body = "{}",
     .body_len = 2,
     .attempts = 1},
    {.name = "a plain 200 to a plain call has none either",
     .flags = EI_HTTP_SECRET,
     .replies = {{.plain = 200, .body = "{}", .body_len = 2}},
     .replies_n = 1,
     .status = 200,
     .grpc_status = -1,
     .message = "",
     .body = "{}",
     .body_len = 2,
     .attempts = 1},
    {.name = "a gRPC reply to a plain call fails loudly",
     .flags = EI_HTTP_SECRET,
     .replies = {FG_OK},
     .replies_n = 1,
     .want = EI_INTERNAL,
     .grpc_status = -1,
     .message = "",
     .text = "fake host: gRPC reply to a request without EI_HTTP_GRPC",
     .attempts = 1},
};

static void test_fake_grpc(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof fake_grpc_cases / sizeof fake_grpc_cases[0];
         c++) {
        const struct fake_grpc_case *t = &fake_grpc_cases[c];
        struct fake_host *fh = fake_host_new(NULL, NULL, NULL);
        assert_non_null(fh);
        const struct ei_host *h = fake_host_host(fh);
        for (size_t i = 0; i < t->replies_n; i++) {
            const struct fake_grpc_reply *r = &t->replies[i];
            int rc = r->plain != 0
                         ? fake_host_http_push(fh, r->plain, r->body, 0)
                         : fake_host_grpc_push(fh, r->code, r->message, r->body,
                                               r->body_len, 0);
            assert_int_equal(rc, 0);
        }
        const char *urls[] = {EP1};
        struct ei_http *hc = NULL;
        struct ei_error err = {0};
        assert_int_equal(h->http_open(h, urls, 1, &hc, &err), EI_OK);
        struct ei_http_request req = {"POST",       GRANGE_PATH, NULL,
                                      "\0\0\0\0\0", GRPC_PREFIX, t->flags, NULL, NULL};
        struct ei_http_response resp;
        struct ei_deadline dl;
        fake_deadline(&dl, DL_MS);
        enum ei_status s = h->http_request(hc, &req, &dl, &resp, &err);
        if (s != t->want)
            fail_msg("%s: status %d (%s)", t->name, s, err.text);
        assert_int_equal(resp.grpc_status, t->grpc_status);
        assert_string_equal(resp.grpc_message, t->message);
        if (s == EI_OK) {
            assert_int_equal(resp.status, t->status);
            assert_int_equal(resp.body_len, t->body_len);
            assert_non_null(resp.body);
            assert_memory_equal(resp.body, t->body != NULL ? t->body : "",
                                t->body_len);
            assert_int_equal(resp.body[resp.body_len], '\0');
            assert_true(resp.secret);
        } else {
            assert_string_equal(err.text, t->text);
        }
        size_t n = 0;
        const struct fake_http_request *rec = fake_host_http_requests(fh, &n);
        assert_int_equal(n, t->attempts);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(rec[i].flags, t->flags);
            assert_int_equal(rec[i].body_len, GRPC_PREFIX);
            assert_memory_equal(rec[i].body, "\0\0\0\0\0", GRPC_PREFIX);
        }
        assert_int_equal(fake_host_http_pending(fh), 0);
        /* the engine resets a freed response to "no gRPC status" */
        h->http_response_free(hc, &resp);
        assert_int_equal(resp.grpc_status, -1);
        assert_string_equal(resp.grpc_message, "");
        h->http_close(hc);
        fake_host_free(fh);
    }
}

/* The message is cut to what the engine keeps; odd arguments refused. */
static void test_fake_grpc_limits(void **state)
{
    (void)state;
    char long_msg[2 * EI_HTTP_GRPC_MESSAGE_MAX];
    memset(long_msg, 'm', sizeof long_msg - 1);
    long_msg[sizeof long_msg - 1] = '\0';
    struct fake_host *fh = fake_host_new(NULL, NULL, NULL);
    assert_non_null(fh);
    assert_int_equal(fake_host_grpc_push(fh, 100, NULL, NULL, 0, 0), -1);
    assert_int_equal(fake_host_grpc_push(fh, -2, NULL, NULL, 0, 0), -1);
    assert_int_equal(fake_host_grpc_push(fh, 0, NULL, NULL, 1, 0), -1);
    assert_int_equal(fake_host_http_pending(fh), 0);
    assert_int_equal(fake_host_grpc_push(fh, 3, long_msg, NULL, 0, 0), 0);
    const struct ei_host *h = fake_host_host(fh);
    const char *urls[] = {EP1};
    struct ei_http *hc = NULL;
    struct ei_error err = {0};
    assert_int_equal(h->http_open(h, urls, 1, &hc, &err), EI_OK);
    struct ei_http_request req = {"POST", GRANGE_PATH, NULL,
                                  NULL,   0,           EI_HTTP_GRPC, NULL, NULL};
    struct ei_http_response resp;
    struct ei_deadline dl;
    fake_deadline(&dl, DL_MS);
    assert_int_equal(h->http_request(hc, &req, &dl, &resp, &err), EI_OK);
    assert_int_equal(resp.status, 400);
    assert_int_equal(strlen(resp.grpc_message), EI_HTTP_GRPC_MESSAGE_MAX - 1);
    assert_memory_equal(resp.grpc_message, long_msg,
                        EI_HTTP_GRPC_MESSAGE_MAX - 1);
    assert_false(resp.secret);
    h->http_response_free(hc, &resp);
    fake_host_free(fh);
}

static int group_setup(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    int n = snprintf(tmpdir, sizeof tmpdir, "%s/ei-etcd-test.XXXXXX",
                     base != NULL && base[0] != '\0' ? base : "/tmp");
    if (n < 0 || (size_t)n >= sizeof tmpdir || mkdtemp(tmpdir) == NULL)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    char cmd[PATH_SIZE + 32];
    int n = snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (n < 0 || (size_t)n >= sizeof cmd)
        return -1;
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    json_set_alloc_funcs(chaos_json_malloc, free);
    struct CMUnitTest tests[CASES_N + 11];
    for (size_t i = 0; i < CASES_N; i++) {
        tests[i] =
            (struct CMUnitTest)cmocka_unit_test_prestate(test_case, NULL);
        tests[i].name = cases[i].name;
        tests[i].initial_state = (void *)&cases[i];
    }
    tests[CASES_N] = (struct CMUnitTest)cmocka_unit_test(test_descriptor);
    tests[CASES_N + 1] = (struct CMUnitTest)cmocka_unit_test(test_many_pages);
    tests[CASES_N + 2] = (struct CMUnitTest)cmocka_unit_test(test_deep_nesting);
    tests[CASES_N + 3] =
        (struct CMUnitTest)cmocka_unit_test(test_out_of_memory);
    tests[CASES_N + 4] = (struct CMUnitTest)cmocka_unit_test(test_fake_grpc);
    tests[CASES_N + 5] =
        (struct CMUnitTest)cmocka_unit_test(test_fake_grpc_limits);
    tests[CASES_N + 6] = (struct CMUnitTest)cmocka_unit_test(test_watch_stream);
    tests[CASES_N + 7] =
        (struct CMUnitTest)cmocka_unit_test(test_watch_grpc_stream);
    tests[CASES_N + 8] =
        (struct CMUnitTest)cmocka_unit_test(test_watch_grpc_pieces);
    tests[CASES_N + 9] = (struct CMUnitTest)cmocka_unit_test(test_lookup);
    tests[CASES_N + 10] =
        (struct CMUnitTest)cmocka_unit_test(test_references_only);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
