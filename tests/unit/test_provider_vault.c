/* SPDX-License-Identifier: MIT */
/* Unit tests of the vault provider (providers/vault.c): its parsers with
   good, malformed, truncated, oversized and hostile replies, and every
   request it makes, through the fake host's canned HTTP. */

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

#include <envinject/provider.h>
#include <jansson.h>

#include "host.h"
#include "vault_parse.h"
#include "expand.h"

extern const struct ei_provider ei_provider_vault;

#define CANARY       "EI_CANARY_v4u17c4n4ry"
#define TOKEN        "hvs.tok-" CANARY
#define TOKEN2       "hvs.again-" CANARY
#define PATH_SIZE    512
#define OPTS_N       10
#define ENV_N        5
#define FILES_N      4
#define REPLIES_N    10
#define REQS_N       10
#define HDRS_N       4
#define WANT_N       8
#define DL_DEFAULT   5000
#define BIG_VALUE    (4u * 1024u * 1024u)
#define DEEP_FIELD   100
#define JANSSON_DEEP 5000
/* --- the parsers: one table --- */

enum parse_kind {
    P_SECRET1 = 0, /* ei_vault_parse_secret, KV v1 */
    P_SECRET2,     /* ei_vault_parse_secret, KV v2 */
    P_MOUNT,       /* ei_vault_parse_mount: "MOUNT vKV" */
    P_LOGIN,       /* ei_vault_parse_login: "TOKEN ttl=N" */
    P_ERROR,       /* ei_vault_parse_error: the flags in decimal */
    P_REF,         /* ei_vault_parse_ref: "PATH|FIELD" */
    P_FIELD,       /* ei_vault_field_text of member "f" of the input */
    P_PATH         /* ei_vault_path_norm */
};

struct parse_case {
    const char *name;
    enum parse_kind kind;
    const char *in;
    size_t in_len; /* 0: strlen(in) */
    enum ei_status want;
    const char *want_out;  /* what the parser gave, as text (see above) */
    const char *want_text; /* a substring of err.text */
    long long want_version;
};

#define V2(fields, version)                                                    \
    "{\"request_id\":\"r\",\"lease_id\":\"\",\"renewable\":false,"             \
    "\"lease_duration\":0,\"data\":{\"data\":" fields ",\"metadata\":{"        \
    "\"created_time\":\"2018-03-22T02:24:06.945319214Z\","                     \
    "\"custom_metadata\":null,\"deletion_time\":\"\",\"destroyed\":false,"     \
    "\"version\":" version "}},\"wrap_info\":null,\"warnings\":null,"          \
    "\"auth\":null}"

static const struct parse_case parse_cases[] = {
    /* KV v1 */
    {"v1-fields", P_SECRET1,
     "{\"auth\":null,\"data\":{\"foo\":\"bar\",\"ttl\":\"1h\"},"
     "\"lease_duration\":3600,\"lease_id\":\"\",\"renewable\":false}",
     0, EI_OK, "{\"foo\": \"bar\", \"ttl\": \"1h\"}", NULL, 0},
    {"v1-unknown-top-level-members-ignored", P_SECRET1,
     "{\"data\":{\"a\":1},\"mount_type\":\"kv\",\"new_field\":[1,2]}", 0, EI_OK,
     "{\"a\": 1}", NULL, 0},
    {"v1-empty-data", P_SECRET1, "{\"data\":{}}", 0, EI_OK, "{}", NULL, 0},
    {"v1-data-null", P_SECRET1, "{\"data\":null}", 0, EI_BADDATA, NULL,
     "secret: no data object", 0},
    {"v1-data-array", P_SECRET1, "{\"data\":[\"" CANARY "\"]}", 0, EI_BADDATA,
     NULL, "no data object", 0},
    {"v1-top-level-array", P_SECRET1, "[{\"data\":{}}]", 0, EI_BADDATA, NULL,
     "no data object", 0},
    {"v1-empty-body", P_SECRET1, "", 0, EI_BADDATA, NULL,
     "secret: malformed JSON at byte 0 of 0", 0},
    {"v1-truncated", P_SECRET1, "{\"data\":{\"password\":\"" CANARY, 0,
     EI_BADDATA, NULL, "secret: malformed JSON", 0},
    {"v1-garbage-quoted-not-echoed", P_SECRET1,
     "{\"data\":{\"password\":" CANARY "}}", 0, EI_BADDATA, NULL,
     "malformed JSON", 0},
    {"v1-duplicate-member", P_SECRET1,
     "{\"data\":{\"a\":\"" CANARY "\",\"a\":\"2\"}}", 0, EI_BADDATA, NULL,
     "malformed JSON", 0},
    {"v1-nul-escape-refused", P_SECRET1,
     "{\"data\":{\"a\":\"x\\u0000" CANARY "\"}}", 0, EI_BADDATA, NULL,
     "malformed JSON", 0},
    {"v1-nul-byte-in-body", P_SECRET1, "{\"data\":{\"a\":\"x\0y\"}}", 20,
     EI_BADDATA, NULL, "malformed JSON", 0},
    {"v1-invalid-utf8", P_SECRET1, "{\"data\":{\"a\":\"\xff\xfe\"}}", 0,
     EI_BADDATA, NULL, "malformed JSON", 0},
    {"v1-trailing-garbage", P_SECRET1, "{\"data\":{}} {}", 0, EI_BADDATA, NULL,
     "malformed JSON", 0},
    /* KV v2 */
    {"v2-fields-and-version", P_SECRET2,
     V2("{\"foo\":\"bar\",\"n\":5432}", "3"), 0, EI_OK,
     "{\"foo\": \"bar\", \"n\": 5432}", NULL, 3},
    {"v2-nested-values-kept", P_SECRET2,
     V2("{\"db\":{\"host\":\"h\",\"port\":1},\"l\":[1,\"a\"]}", "1"), 0, EI_OK,
     "{\"db\": {\"host\": \"h\", \"port\": 1}, \"l\": [1, \"a\"]}", NULL, 1},
    {"v2-without-metadata", P_SECRET2, "{\"data\":{\"data\":{\"a\":\"b\"}}}", 0,
     EI_OK, "{\"a\": \"b\"}", NULL, 0},
    {"v2-metadata-null", P_SECRET2,
     "{\"data\":{\"data\":{\"a\":\"b\"},\"metadata\":null}}", 0, EI_OK,
     "{\"a\": \"b\"}", NULL, 0},
    {"v2-read-as-v1-gives-envelope", P_SECRET1, V2("{\"a\":\"b\"}", "2"), 0,
     EI_OK,
     "{\"data\": {\"a\": \"b\"}, \"metadata\": {\"created_time\": "
     "\"2018-03-22T02:24:06.945319214Z\", \"custom_metadata\": null, "
     "\"deletion_time\": \"\", \"destroyed\": false, \"version\": 2}}",
     NULL, 0},
    {"v2-data-data-null-is-deleted", P_SECRET2,
     "{\"data\":{\"data\":null,\"metadata\":{\"deletion_time\":"
     "\"2024-01-02T00:00:00Z\",\"destroyed\":false,\"version\":4}}}",
     0, EI_NOTFOUND, NULL, "deleted or destroyed", 4},
    {"v2-data-data-missing", P_SECRET2, "{\"data\":{\"metadata\":{}}}", 0,
     EI_NOTFOUND, NULL, "deleted or destroyed", 0},
    {"v2-data-data-string", P_SECRET2, "{\"data\":{\"data\":\"" CANARY "\"}}",
     0, EI_BADDATA, NULL, "data.data is not an object", 0},
    {"v2-version-string", P_SECRET2,
     "{\"data\":{\"data\":{},\"metadata\":{\"version\":\"3\"}}}", 0, EI_BADDATA,
     NULL, "metadata.version is not a version", 0},
    {"v2-version-negative", P_SECRET2,
     "{\"data\":{\"data\":{},\"metadata\":{\"version\":-1}}}", 0, EI_BADDATA,
     NULL, "metadata.version is not a version", 0},
    {"v2-version-real", P_SECRET2,
     "{\"data\":{\"data\":{},\"metadata\":{\"version\":2.5}}}", 0, EI_BADDATA,
     NULL, "metadata.version is not a version", 0},
    {"v2-metadata-array", P_SECRET2, "{\"data\":{\"data\":{},\"metadata\":[]}}",
     0, EI_BADDATA, NULL, "data.metadata is not an object", 0},
    {"v2-errors-body-on-200", P_SECRET2, "{\"errors\":[]}", 0, EI_BADDATA, NULL,
     "no data object", 0},
    /* the mount preflight */
    {"mount-kv2", P_MOUNT,
     "{\"data\":{\"path\":\"secret/\",\"type\":\"kv\",\"options\":{"
     "\"version\":\"2\"}}}",
     0, EI_OK, "secret/ v2", NULL, 0},
    {"mount-kv1-version-1", P_MOUNT,
     "{\"data\":{\"path\":\"kv/\",\"options\":{\"version\":\"1\"}}}", 0, EI_OK,
     "kv/ v1", NULL, 0},
    {"mount-kv1-options-null", P_MOUNT,
     "{\"data\":{\"path\":\"kv/\",\"options\":null}}", 0, EI_OK, "kv/ v1", NULL,
     0},
    {"mount-kv1-version-empty", P_MOUNT,
     "{\"data\":{\"path\":\"kv/\",\"options\":{\"version\":\"\"}}}", 0, EI_OK,
     "kv/ v1", NULL, 0},
    {"mount-other-engine", P_MOUNT,
     "{\"data\":{\"path\":\"database/\",\"type\":\"database\"}}", 0, EI_OK,
     "database/ v1", NULL, 0},
    {"mount-namespace-prefixed", P_MOUNT,
     "{\"data\":{\"path\":\"team-a/secret/\",\"options\":{\"version\":\"2\"}}}",
     0, EI_OK, "team-a/secret/ v2", NULL, 0},
    {"mount-version-3", P_MOUNT,
     "{\"data\":{\"path\":\"kv/\",\"options\":{\"version\":\"3\"}}}", 0,
     EI_BADDATA, NULL, "unknown KV version", 0},
    {"mount-version-number", P_MOUNT,
     "{\"data\":{\"path\":\"kv/\",\"options\":{\"version\":2}}}", 0, EI_BADDATA,
     NULL, "unknown KV version", 0},
    {"mount-path-without-slash", P_MOUNT, "{\"data\":{\"path\":\"secret\"}}", 0,
     EI_BADDATA, NULL, "data.path is not a mount path", 0},
    {"mount-path-empty", P_MOUNT, "{\"data\":{\"path\":\"\"}}", 0, EI_BADDATA,
     NULL, "data.path is not a mount path", 0},
    {"mount-path-missing", P_MOUNT, "{\"data\":{\"type\":\"kv\"}}", 0,
     EI_BADDATA, NULL, "data.path is not a mount path", 0},
    {"mount-options-string", P_MOUNT,
     "{\"data\":{\"path\":\"kv/\",\"options\":\"2\"}}", 0, EI_BADDATA, NULL,
     "data.options is not an object", 0},
    {"mount-no-data", P_MOUNT, "{\"errors\":[\"x\"]}", 0, EI_BADDATA, NULL,
     "mount lookup: no data object", 0},
    {"mount-truncated", P_MOUNT, "{\"data\":{\"path\":\"sec", 0, EI_BADDATA,
     NULL, "mount lookup: malformed JSON", 0},
    /* logins */
    {"login-approle", P_LOGIN,
     "{\"auth\":{\"client_token\":\"hvs." CANARY "\",\"accessor\":\"a\","
     "\"policies\":[\"default\"],\"lease_duration\":1200,\"renewable\":true},"
     "\"data\":null,\"lease_duration\":0,\"warnings\":null}",
     0, EI_OK, "hvs." CANARY " ttl=1200", NULL, 0},
    {"login-no-lease", P_LOGIN, "{\"auth\":{\"client_token\":\"s.x\"}}", 0,
     EI_OK, "s.x ttl=0", NULL, 0},
    {"login-auth-null", P_LOGIN, "{\"auth\":null,\"data\":{}}", 0, EI_BADDATA,
     NULL, "login: no auth object", 0},
    {"login-token-number", P_LOGIN, "{\"auth\":{\"client_token\":12}}", 0,
     EI_BADDATA, NULL, "auth.client_token is not a string", 0},
    {"login-token-empty", P_LOGIN, "{\"auth\":{\"client_token\":\"\"}}", 0,
     EI_BADDATA, NULL, "auth.client_token has 0 bytes", 0},
    {"login-token-header-injection", P_LOGIN,
     "{\"auth\":{\"client_token\":\"s.x\\r\\nX-Evil: " CANARY "\"}}", 0,
     EI_BADDATA, NULL, "not allowed in a header at offset 3", 0},
    {"login-token-space", P_LOGIN,
     "{\"auth\":{\"client_token\":\"s. " CANARY "\"}}", 0, EI_BADDATA, NULL,
     "not allowed in a header at offset 2", 0},
    {"login-token-non-ascii", P_LOGIN,
     "{\"auth\":{\"client_token\":\"s.\xc3\xa9\"}}", 0, EI_BADDATA, NULL,
     "not allowed in a header at offset 2", 0},
    {"login-lease-string", P_LOGIN,
     "{\"auth\":{\"client_token\":\"s.x\",\"lease_duration\":\"1h\"}}", 0,
     EI_BADDATA, NULL, "auth.lease_duration is not a number", 0},
    {"login-truncated", P_LOGIN, "{\"auth\":{\"client_token\":\"hvs." CANARY, 0,
     EI_BADDATA, NULL, "login: malformed JSON", 0},
    /* error bodies */
    {"error-sealed", P_ERROR, "{\"errors\":[\"Vault is sealed\"]}", 0, EI_OK,
     "1", NULL, 0},
    {"error-invalid-token", P_ERROR,
     "{\"errors\":[\"permission denied\",\"invalid token\"]}", 0, EI_OK, "2",
     NULL, 0},
    {"error-permission-denied-only", P_ERROR,
     "{\"errors\":[\"1 error occurred:\\n\\t* permission denied\\n\\n\"]}", 0,
     EI_OK, "0", NULL, 0},
    {"error-deleted-version", P_ERROR,
     "{\"data\":{\"data\":null,\"metadata\":{\"deletion_time\":"
     "\"2024-01-02T00:00:00Z\",\"destroyed\":false,\"version\":2}}}",
     0, EI_OK, "4", NULL, 0},
    {"error-destroyed-version", P_ERROR,
     "{\"data\":{\"data\":null,\"metadata\":{\"deletion_time\":\"\","
     "\"destroyed\":true,\"version\":2}}}",
     0, EI_OK, "8", NULL, 0},
    {"error-kv2-path-warning", P_ERROR,
     "{\"errors\":[],\"warnings\":[\"Invalid path for a versioned K/V "
     "secrets engine. See the API docs.\"]}",
     0, EI_OK, "16", NULL, 0},
    {"error-empty-errors", P_ERROR, "{\"errors\":[]}", 0, EI_OK, "0", NULL, 0},
    {"error-not-json", P_ERROR, "<html>Vault is sealed</html>", 0, EI_OK, "0",
     NULL, 0},
    {"error-empty", P_ERROR, "", 0, EI_OK, "0", NULL, 0},
    {"error-errors-not-array", P_ERROR, "{\"errors\":\"Vault is sealed\"}", 0,
     EI_OK, "0", NULL, 0},
    {"error-errors-of-numbers", P_ERROR, "{\"errors\":[1,null,{}]}", 0, EI_OK,
     "0", NULL, 0},
    /* references */
    {"ref-hash", P_REF, "ref+vault://secret/app/prod#password", 0, EI_OK,
     "secret/app/prod|password", NULL, 0},
    {"ref-hash-slash-vals", P_REF, "ref+vault://secret/app/prod#/password", 0,
     EI_OK, "secret/app/prod|password", NULL, 0},
    {"ref-nested-field", P_REF, "ref+vault://secret/app#/db/password", 0, EI_OK,
     "secret/app|db/password", NULL, 0},
    {"ref-slashes-around-path", P_REF, "ref+vault:///secret/app/#f", 0, EI_OK,
     "secret/app|f", NULL, 0},
    {"ref-other-scheme", P_REF, "ref+awssecrets://x#y", 0, EI_BADDATA, NULL,
     "not a ref+vault:// reference", 0},
    {"ref-no-field-is-the-whole-secret", P_REF, "ref+vault://secret/app", 0,
     EI_OK, "secret/app|", NULL, 0},
    {"ref-empty-field", P_REF, "ref+vault://secret/app#", 0, EI_BADDATA, NULL,
     "names no field", 0},
    {"ref-slash-only-field", P_REF, "ref+vault://secret/app#/", 0, EI_BADDATA,
     NULL, "names no field", 0},
    {"ref-query", P_REF,
     "ref+vault://secret/app?address=http://evil:8200#password", 0, EI_BADDATA,
     NULL, "not supported in a reference", 0},
    {"ref-query-in-field-is-a-name", P_REF, "ref+vault://secret/app#a?b", 0,
     EI_OK, "secret/app|a?b", NULL, 0},
    {"ref-empty-path", P_REF, "ref+vault://#password", 0, EI_BADDATA, NULL,
     "empty path", 0},
    {"ref-dotdot", P_REF, "ref+vault://secret/../sys/raw#x", 0, EI_BADDATA,
     NULL, "'..' segment", 0},
    {"ref-double-slash-in-field", P_REF, "ref+vault://secret/app#/a//b", 0,
     EI_BADDATA, NULL, "empty segment in the field", 0},
    {"ref-trailing-slash-in-field", P_REF, "ref+vault://secret/app#a/", 0,
     EI_BADDATA, NULL, "empty segment in the field", 0},
    {"ref-control-in-field", P_REF, "ref+vault://secret/app#a\nb", 0,
     EI_BADDATA, NULL, "control character in the field", 0},
    {"ref-percent-in-path", P_REF, "ref+vault://secret/a%2e%2e#x", 0,
     EI_BADDATA, NULL, "'%' in the path", 0},
    /* the text of a field value */
    {"field-string", P_FIELD, "{\"f\":\"" CANARY "\"}", 0, EI_OK, CANARY, NULL,
     0},
    {"field-integer", P_FIELD, "{\"f\":5432}", 0, EI_OK, "5432", NULL, 0},
    {"field-real", P_FIELD, "{\"f\":0.1}", 0, EI_OK, "0.1", NULL, 0},
    {"field-real-plain-digits", P_FIELD, "{\"f\":1000.0}", 0, EI_OK, "1000",
     NULL, 0},
    {"field-true", P_FIELD, "{\"f\":true}", 0, EI_OK, "true", NULL, 0},
    {"field-null", P_FIELD, "{\"f\":null}", 0, EI_OK, "", NULL, 0},
    {"field-object-as-json", P_FIELD,
     "{\"f\":{\"host\":\"db\",\"port\":5432,\"tls\":{\"on\":true}}}", 0, EI_OK,
     "{\"host\":\"db\",\"port\":5432,\"tls\":{\"on\":true}}", NULL, 0},
    {"field-array-of-scalars-as-json", P_FIELD, "{\"f\":[\"a\",1,null]}", 0,
     EI_OK, "[\"a\",1,null]", NULL, 0},
    {"field-empty-object", P_FIELD, "{\"f\":{}}", 0, EI_OK, "{}", NULL, 0},
    {"field-empty-array", P_FIELD, "{\"f\":[]}", 0, EI_OK, "[]", NULL, 0},
    {"field-escapes-in-json", P_FIELD, "{\"f\":{\"k\":\"a\\\"b\\n\"}}", 0,
     EI_OK, "{\"k\":\"a\\\"b\\n\"}", NULL, 0},
    {"field-multiline-string-as-is", P_FIELD, "{\"f\":\"-----BEGIN\\nx\\n\"}",
     0, EI_OK, "-----BEGIN\nx\n", NULL, 0},
    /* paths */
    {"path-plain", P_PATH, "secret/app/prod", 0, EI_OK, "secret/app/prod", NULL,
     0},
    {"path-slashes-trimmed", P_PATH, "//secret/app//", 0, EI_OK, "secret/app",
     NULL, 0},
    {"path-empty-segment", P_PATH, "secret//app", 0, EI_BADDATA, NULL,
     "empty, '.' or '..' segment", 0},
    {"path-edges-trimmed", P_PATH, "/secret/app/", 0, EI_OK, "secret/app", NULL,
     0},
    {"path-space-allowed", P_PATH, "secret/my app", 0, EI_OK, "secret/my app",
     NULL, 0},
    {"path-empty", P_PATH, "///", 0, EI_BADDATA, NULL, "empty path", 0},
    {"path-dot", P_PATH, "secret/./x", 0, EI_BADDATA, NULL, "'.' or '..'", 0},
    {"path-hash", P_PATH, "secret/x#y", 0, EI_BADDATA, NULL, "'#'", 0},
    {"path-question", P_PATH, "secret/x?list=true", 0, EI_BADDATA, NULL, "'?'",
     0},
    {"path-control", P_PATH, "secret/x\ty", 0, EI_BADDATA, NULL,
     "control character", 0},
};

#define PARSE_CASES_N (sizeof parse_cases / sizeof parse_cases[0])

static void check_no_leak(const struct ei_error *err)
{
    assert_null(strstr(err->text, CANARY));
    assert_null(strstr(err->locator, CANARY));
    assert_null(strchr(err->text, '\n'));
}

static int collect_text(void *ctx, const char *text, size_t len,
                        struct ei_error *err)
{
    char **out = ctx;
    assert_null(*out);
    *out = malloc(len + 1);
    assert_non_null(*out);
    memcpy(*out, text, len);
    (*out)[len] = '\0';
    return 0;
}

static void test_parse(void **state)
{
    const struct parse_case *c = *state;
    size_t len = c->in_len != 0 ? c->in_len : strlen(c->in);
    struct ei_error err = {0};
    enum ei_status got = EI_OK;
    char out[EI_VAULT_TOKEN_MAX + 2 * EI_VAULT_PATH_MAX + 64] = "";
    char *text = NULL;
    json_t *fields = NULL;
    long long version = -1;

    switch (c->kind) {
    case P_SECRET1:
    case P_SECRET2:
        got = ei_vault_parse_secret(c->in, len, c->kind == P_SECRET1 ? 1 : 2,
                                    "p/x", &fields, &version, &err);
        if (got == EI_OK) {
            text = json_dumps(fields, JSON_SORT_KEYS);
            assert_non_null(text);
            snprintf(out, sizeof out, "%s", text);
            free(text);
            text = NULL;
            json_decref(fields);
        } else {
            assert_null(fields);
        }
        if (got == EI_OK || got == EI_NOTFOUND)
            assert_int_equal(version, c->want_version);
        break;
    case P_MOUNT: {
        char mount[64];
        int kv = 0;
        got = ei_vault_parse_mount(c->in, len, "p/x", mount, sizeof mount, &kv,
                                   &err);
        if (got == EI_OK)
            snprintf(out, sizeof out, "%s v%d", mount, kv);
        break;
    }
    case P_LOGIN: {
        char tok[EI_VAULT_TOKEN_MAX];
        size_t tok_len = 99;
        long long ttl = -1;
        got = ei_vault_parse_login(c->in, len, "auth/x/login", tok, sizeof tok,
                                   &tok_len, &ttl, &err);
        if (got == EI_OK) {
            assert_int_equal(tok_len, strlen(tok));
            snprintf(out, sizeof out, "%s ttl=%lld", tok, ttl);
        } else {
            assert_int_equal(tok_len, 0);
        }
        break;
    }
    case P_ERROR:
        snprintf(out, sizeof out, "%u", ei_vault_parse_error(c->in, len));
        break;
    case P_REF: {
        char path[EI_VAULT_PATH_MAX], field[EI_VAULT_FIELD_MAX];
        got = ei_vault_parse_ref(c->in, path, sizeof path, field, sizeof field,
                                 &err);
        if (got == EI_OK)
            snprintf(out, sizeof out, "%s|%s", path, field);
        break;
    }
    case P_FIELD: {
        json_t *root = json_loads(c->in, 0, NULL);
        assert_non_null(root);
        got = ei_vault_field_text(json_object_get(root, "f"), "p/x",
                                  collect_text, &text, &err);
        json_decref(root);
        if (got == EI_OK) {
            assert_non_null(text);
            snprintf(out, sizeof out, "%s", text);
        }
        free(text);
        break;
    }
    case P_PATH: {
        const char *why = NULL;
        char path[64];
        if (ei_vault_path_norm(c->in, len, path, sizeof path, &why) < 0) {
            got = EI_BADDATA;
            assert_non_null(why);
            if (c->want_text != NULL)
                assert_non_null(strstr(why, c->want_text));
        } else {
            assert_null(why);
            snprintf(out, sizeof out, "%s", path);
        }
        break;
    }
    }
    assert_int_equal(got, c->want);
    if (c->kind != P_PATH)
        assert_int_equal(err.status, got);
    if (got == EI_OK) {
        assert_string_equal(out, c->want_out);
    } else if (c->kind != P_PATH) {
        assert_non_null(c->want_text);
        if (strstr(err.text, c->want_text) == NULL)
            fail_msg("error text '%s' lacks '%s'", err.text, c->want_text);
    }
    check_no_leak(&err);
}

/* A field of 4 MiB goes through whole; nesting is bounded both by jansson
   and by the flattener. */
static void test_parse_big_and_deep(void **state)
{
    static const char head[] = "{\"data\":{\"data\":{\"big\":\"";
    static const char tail[] = "\"}}}";
    size_t len = sizeof head - 1 + BIG_VALUE + sizeof tail - 1;
    char *body = malloc(len + 1);
    assert_non_null(body);
    memcpy(body, head, sizeof head - 1);
    memset(body + sizeof head - 1, 'x', BIG_VALUE);
    memcpy(body + sizeof head - 1 + BIG_VALUE, tail, sizeof tail);
    struct ei_error err = {0};
    json_t *fields = NULL;
    long long version = -1;
    assert_int_equal(
        ei_vault_parse_secret(body, len, 2, "p", &fields, &version, &err),
        EI_OK);
    char *text = NULL;
    assert_int_equal(ei_vault_field_text(json_object_get(fields, "big"), "p",
                                         collect_text, &text, &err),
                     EI_OK);
    assert_int_equal(strlen(text), BIG_VALUE);
    free(text);
    json_decref(fields);
    free(body);

    /* a field nested DEEP_FIELD levels: parsed, but refused as a value */
    size_t dlen = 16 + 2 * DEEP_FIELD + 8;
    char *deep = malloc(dlen);
    assert_non_null(deep);
    size_t o = (size_t)snprintf(deep, dlen, "{\"data\":{\"f\":");
    for (int i = 0; i < DEEP_FIELD; i++)
        deep[o++] = '[';
    for (int i = 0; i < DEEP_FIELD; i++)
        deep[o++] = ']';
    memcpy(deep + o, "}}", 3);
    memset(&err, 0, sizeof err);
    assert_int_equal(ei_vault_parse_secret(deep, strlen(deep), 1, "p", &fields,
                                           &version, &err),
                     EI_OK);
    text = NULL;
    assert_int_equal(ei_vault_field_text(json_object_get(fields, "f"), "p",
                                         collect_text, &text, &err),
                     EI_BADDATA);
    assert_null(text);
    assert_non_null(strstr(err.text, "nesting deeper than"));
    json_decref(fields);
    free(deep);

    /* deeper than jansson parses: a clean error, no crash */
    char *deeper = malloc(JANSSON_DEEP + 16);
    assert_non_null(deeper);
    memcpy(deeper, "{\"data\":", 8);
    memset(deeper + 8, '[', JANSSON_DEEP);
    deeper[8 + JANSSON_DEEP] = '\0';
    memset(&err, 0, sizeof err);
    assert_int_equal(ei_vault_parse_secret(deeper, strlen(deeper), 1, "p",
                                           &fields, &version, &err),
                     EI_BADDATA);
    assert_non_null(strstr(err.text, "malformed JSON"));
    free(deeper);
}

/* The longest token that fits is taken, one more byte is refused. */
static void test_parse_token_limit(void **state)
{
    char tok[EI_VAULT_TOKEN_MAX + 1];
    char body[EI_VAULT_TOKEN_MAX + 64];
    for (size_t n = EI_VAULT_TOKEN_MAX - 1; n <= EI_VAULT_TOKEN_MAX; n++) {
        memset(tok, 'a', n);
        tok[n] = '\0';
        snprintf(body, sizeof body, "{\"auth\":{\"client_token\":\"%s\"}}",
                 tok);
        char out[EI_VAULT_TOKEN_MAX];
        size_t out_len = 0;
        long long ttl = 0;
        struct ei_error err = {0};
        enum ei_status st = ei_vault_parse_login(
            body, strlen(body), "l", out, sizeof out, &out_len, &ttl, &err);
        if (n < EI_VAULT_TOKEN_MAX) {
            assert_int_equal(st, EI_OK);
            assert_int_equal(out_len, n);
        } else {
            assert_int_equal(st, EI_BADDATA);
            assert_non_null(strstr(err.text, "expected 1 to 4095"));
        }
    }
}

static void test_field_get(void **state)
{
    json_t *f = json_loads("{\"a\":{\"b\":{\"c\":\"x\"},\"s\":\"y\"},"
                           "\"a/b\":\"whole\"}",
                           0, NULL);
    assert_non_null(f);
    assert_string_equal(json_string_value(ei_vault_field_get(f, "a/b/c")), "x");
    assert_string_equal(json_string_value(ei_vault_field_get(f, "a/s")), "y");
    assert_true(json_is_object(ei_vault_field_get(f, "a/b")));
    assert_null(ei_vault_field_get(f, "a/s/t"));
    assert_null(ei_vault_field_get(f, "a/nope"));
    assert_null(ei_vault_field_get(f, "nope"));
    json_decref(f);
}

/* --- jansson running out of memory, allocation by allocation --- */

static long chaos_countdown = -1;

static void *chaos_malloc(size_t n)
{
    if (chaos_countdown == 0)
        return NULL;
    if (chaos_countdown > 0)
        chaos_countdown--;
    return malloc(n);
}

static void test_parse_out_of_memory(void **state)
{
    static const char body[] =
        "{\"data\":{\"data\":{\"a\":\"" CANARY "\",\"o\":{\"k\":[1,2.5,true]}},"
        "\"metadata\":{\"version\":7}}}";
    bool done = false;
    for (long n = 0; !done && n < 1000; n++) {
        json_set_alloc_funcs(chaos_malloc, free);
        chaos_countdown = n;
        struct ei_error err = {0};
        json_t *fields = NULL;
        long long version = 0;
        enum ei_status st = ei_vault_parse_secret(body, sizeof body - 1, 2, "p",
                                                  &fields, &version, &err);
        char *text = NULL;
        if (st == EI_OK) {
            st = ei_vault_field_text(json_object_get(fields, "o"), "p",
                                     collect_text, &text, &err);
            json_decref(fields);
        }
        json_set_alloc_funcs(malloc, free);
        chaos_countdown = -1;
        /* jansson reports some failed allocations of its lexer as a
           syntax error, so BADDATA is fair too; what matters is no
           crash, no leak, and a status that err agrees with */
        if (st != EI_OK && st != EI_NOMEM && st != EI_BADDATA)
            fail_msg("allocation %ld: status %d: %s", n, st, err.text);
        assert_int_equal(err.status, st);
        if (st == EI_OK) {
            assert_string_equal(text, "{\"k\":[1,2.5,true]}");
            done = true;
        }
        free(text);
        check_no_leak(&err);
    }
    assert_true(done);
}

/* --- the provider through the fake host --- */

#define MOUNT2                                                                 \
    "{\"data\":{\"path\":\"secret/\",\"type\":\"kv\",\"options\":{"            \
    "\"version\":\"2\"}}}"
#define MOUNT1 "{\"data\":{\"path\":\"kv/\",\"type\":\"kv\",\"options\":null}}"
#define PROD                                                                   \
    V2("{\"password\":\"" CANARY "\",\"port\":5432,\"db\":{\"host\":\"h\"}}",  \
       "3")
#define LOGIN(tok)                                                             \
    "{\"auth\":{\"client_token\":\"" tok "\",\"accessor\":\"a\","              \
    "\"policies\":[\"default\"],\"lease_duration\":1200,\"renewable\":true},"  \
    "\"data\":null}"
#define DENIED                                                                 \
    "{\"errors\":[\"1 error occurred:\\n\\t* permission denied\\n\\n\"]}"
#define EXPIRED     "{\"errors\":[\"permission denied\",\"invalid token\"]}"
#define NOT_FOUND   "{\"errors\":[]}"
#define SEALED      "{\"errors\":[\"Vault is sealed\"]}"
#define HDR_TOKEN   "X-Vault-Token: " TOKEN
#define HDR_TOKEN2  "X-Vault-Token: " TOKEN2
#define NO_TOKEN    "-X-Vault-Token"
#define HDR_REQUEST "X-Vault-Request: true"
#define GET_MOUNT   "GET /v1/sys/internal/ui/mounts/secret/app/prod"
#define GET_PROD    "GET /v1/secret/data/app/prod"
#define REVOKE      "POST /v1/auth/token/revoke-self"
#define LOC_PROD(f) "vault secret/app/prod v3 #" f
#define PROD_ENTRIES                                                           \
    {"password", CANARY, LOC_PROD("password"), 0},                             \
        {"port", "5432", LOC_PROD("port"), 0},                                 \
    {                                                                          \
        "db", "{\"host\":\"h\"}", LOC_PROD("db"), 0                            \
    }

struct cfile {
    const char *name; /* in the case's folder */
    const char *content;
    int mode;
};

struct reply {
    long status;
    const char *body;
    unsigned flags;
};

struct want_req {
    const char *line;         /* "METHOD PATH" */
    const char *hdrs[HDRS_N]; /* "Name: value", or "-Name": absent */
    const char *body;         /* exact, NULL: not checked */
};

struct want_entry {
    const char *name;
    const char *value;
    const char *locator;
    unsigned flags;
};

struct vcase {
    const char *name;
    const char *opts[OPTS_N]; /* "%D" is the case's folder */
    const char *environ[ENV_N];
    struct cfile files[FILES_N];
    struct reply replies[REPLIES_N];
    const char *ref; /* looked up after a successful fetch */
    bool no_fetch;   /* only the lookup */
    int deadline_ms; /* 0: DL_DEFAULT */
    enum ei_status want_configure;
    enum ei_status want;
    enum ei_status want_lookup;
    const char *want_text; /* of the failure */
    const char *want_locator;
    struct want_entry entries[WANT_N];
    struct want_req reqs[REQS_N];
    const char *log_has;
    const char *endpoint;       /* of every request; NULL: not checked */
    const char *skip_if_exists; /* a path that makes the case moot */
};

static const struct vcase vcases[] = {
    /* tokens */
    {.name = "token-env-kv2",
     .opts = {"path=secret/app/prod"},
     .environ = {"VAULT_TOKEN=" TOKEN "\n", "VAULT_ADDR=http://127.0.0.1:8200"},
     .replies = {{200, MOUNT2}, {200, PROD}},
     .entries = {PROD_ENTRIES},
     .reqs = {{GET_MOUNT, {HDR_TOKEN, HDR_REQUEST, "-X-Vault-Namespace"}},
              {GET_PROD, {HDR_TOKEN, HDR_REQUEST}}},
     .endpoint = "http://127.0.0.1:8200"},
    {.name = "address-default",
     .opts = {"path=secret/app/prod"},
     .environ = {"VAULT_TOKEN=" TOKEN},
     .replies = {{200, MOUNT2}, {200, PROD}},
     .entries = {PROD_ENTRIES},
     .reqs = {{GET_MOUNT}, {GET_PROD}},
     .endpoint = "https://127.0.0.1:8200"},
    {.name = "address-option-beats-env",
     .opts = {"path=secret/app/prod", "address=https://vault.example:8200"},
     .environ = {"VAULT_TOKEN=" TOKEN, "VAULT_ADDR=https://other:8200"},
     .replies = {{200, MOUNT2}, {200, PROD}},
     .entries = {PROD_ENTRIES},
     .reqs = {{GET_MOUNT}, {GET_PROD}},
     .endpoint = "https://vault.example:8200"},
    {.name = "token-file-beats-env",
     .opts = {"path=secret/app/prod", "auth.token_file=tok"},
     .environ = {"VAULT_TOKEN=hvs.not-this-one"},
     .files = {{"tok", TOKEN "\r\n", 0600}},
     .replies = {{200, MOUNT2}, {200, PROD}},
     .entries = {PROD_ENTRIES},
     .reqs = {{GET_MOUNT, {HDR_TOKEN}}, {GET_PROD, {HDR_TOKEN}}}},
    {.name = "home-vault-token",
     .opts = {"path=secret/app/prod"},
     .environ = {"HOME=%D"},
     .files = {{".vault-token", TOKEN "\n", 0600}},
     .replies = {{200, MOUNT2}, {200, PROD}},
     .entries = {PROD_ENTRIES},
     .reqs = {{GET_MOUNT, {HDR_TOKEN}}, {GET_PROD, {HDR_TOKEN}}}},
    {.name = "home-vault-token-readable-by-others",
     .opts = {"path=secret/app/prod"},
     .environ = {"HOME=%D"},
     .files = {{".vault-token", TOKEN "\n", 0644}},
     .want = EI_DENIED,
     .want_text = "chmod"},
    {.name = "token-file-missing",
     .opts = {"path=secret/app/prod", "auth.token_file=nope"},
     .want = EI_DENIED,
     .want_text = "auth.token_file: ",
     .want_locator = "/nope"},
    {.name = "token-file-empty",
     .opts = {"path=secret/app/prod", "auth.token_file=tok"},
     .files = {{"tok", "\n\n", 0600}},
     .want = EI_DENIED,
     .want_text = "auth.token_file is empty"},
    {.name = "no-token-anywhere",
     .opts = {"path=secret/app/prod"},
     .environ = {"HOME=%D"},
     .want = EI_DENIED,
     .want_text = "no Vault token: set VAULT_TOKEN"},
    {.name = "token-with-header-injection",
     .opts = {"path=secret/app/prod"},
     .environ = {"VAULT_TOKEN=s.x\r\nX-Evil: " CANARY},
     .want = EI_DENIED,
     .want_text = "not allowed in a header at offset 3",
     .want_locator = "VAULT_TOKEN"},
    /* KV versions and mounts */
    {.name = "kv1-detected",
     .opts = {"path=kv/app"},
     .environ = {"VAULT_TOKEN=" TOKEN},
     .replies = {{200, MOUNT1},
                 {200, "{\"data\":{\"user\":\"u\",\"pass\":\"" CANARY "\"},"
                       "\"lease_duration\":2764800}"}},
     .entries = {{"user", "u", "vault kv/app #user", 0},
                 {"pass", CANARY, "vault kv/app #pass", 0}},
     .reqs = {{"GET /v1/sys/internal/ui/mounts/kv/app"},
              {"GET /v1/kv/app", {HDR_TOKEN}}}},
    {.name = "kv2-forced-no-preflight",
     .opts = {"path=secret/app/prod", "kv_version=2"},
     .environ = {"VAULT_TOKEN=" TOKEN},
     .replies = {{200, PROD}},
     .entries = {PROD_ENTRIES},
     .reqs = {{GET_PROD}}},
    {.name = "kv2-forced-with-mount",
     .opts = {"path=kv/team-a/app", "kv_version=2", "mount=/kv/team-a/"},
     .environ = {"VAULT_TOKEN=" TOKEN},
     .replies = {{200, V2("{\"a\":\"b\"}", "1")}},
     .entries = {{"a", "b", "vault kv/team-a/app v1 #a", 0}},
     .reqs = {{"GET /v1/kv/team-a/data/app"}}},
    {.name = "kv1-forced",
     .opts = {"path=secret/app/prod", "kv_version=1"},
     .environ = {"VAULT_TOKEN=" TOKEN},
     .replies = {{200, "{\"data\":{\"a\":\"b\"}}"}},
     .entries = {{"a", "b", "vault secret/app/prod #a", 0}},
     .reqs = {{"GET /v1/secret/app/prod"}}},
    {.name = "kv1-forced-on-kv2-mount",
     .opts = {"path=secret/app/prod", "kv_version=1"},
     .environ = {"VAULT_TOKEN=" TOKEN},
     .replies = {{404, "{\"errors\":[],\"warnings\":[\"Invalid path for a "
                       "versioned K/V secrets engine. See the API docs.\"]}"}},
     .want = EI_BADCONFIG,
     .want_text = "the mount is KV v2",
     .reqs = {{"GET /v1/secret/app/prod"}}},
    {.name = "old-vault-without-preflight",
     .opts = {"path=secret/app/prod"},
     .environ = {"VAULT_TOKEN=" TOKEN},
     .replies = {{404, "{\"errors\":[\"no handler for route\"]}"},
                 {200, "{\"data\":{\"a\":\"b\"}}"}},
     .entries = {{"a", "b", "vault secret/app/prod #a", 0}},
     .reqs = {{GET_MOUNT}, {"GET /v1/secret/app/prod"}}},
    {.name = "preflight-mount-elsewhere",
     .opts = {"path=secret/app/prod"},
     .environ = {"VAULT_TOKEN=" TOKEN},
     .replies = {{200, "{\"data\":{\"path\":\"sys/\",\"options\":null}}"}},
     .want = EI_BADDATA,
     .want_text = "mount sys/ does not hold this path",
     .want_locator = "secret/app/prod",
     .reqs = {{GET_MOUNT}}},
    {.name = "path-is-the-kv2-mount",
     .opts = {"path=secret"},
     .environ = {"VAULT_TOKEN=" TOKEN},
     .replies = {{200, MOUNT2}},
     .want = EI_BADCONFIG,
     .want_text = "names the KV v2 mount itself",
     .reqs = {{"GET /v1/sys/internal/ui/mounts/secret"}}},
    {.name = "path-percent-encoded",
     .opts = {"path=secret/my app/x+y"},
     .environ = {"VAULT_TOKEN=" TOKEN},
     .replies = {{200, MOUNT2}, {200, V2("{\"a\":\"b\"}", "2")}},
     .entries = {{"a", "b", "vault secret/my app/x+y v2 #a", 0}},
     .reqs = {{"GET /v1/sys/internal/ui/mounts/secret/my%20app/x%2By"},
              {"GET /v1/secret/data/my%20app/x%2By"}}},
    {.name = "paths-later-wins-one-preflight",
     .opts = {"paths=secret/a", "paths=secret/b"},
     .environ = {"VAULT_TOKEN=" TOKEN},
     .replies = {{200, MOUNT2},
                 {200, V2("{\"x\":\"1\",\"y\":\"a\"}", "1")},
                 {200, V2("{\"x\":\"2\"}", "5")}},
     .entries = {{"x", "1", "vault secret/a v1 #x", 0},
                 {"y", "a", "vault secret/a v1 #y", 0},
                 {"x", "2", "vault secret/b v5 #x", 0}},
     .reqs = {{"GET /v1/sys/internal/ui/mounts/secret/a"},
              {"GET /v1/secret/data/a"},
              {"GET /v1/secret/data/b"}}},
    {.name = "field-picks-one",
     .opts = {"path=secret/app/prod", "field=port"},
     .environ = {"VAULT_TOKEN=" TOKEN},
     .replies = {{200, MOUNT2}, {200, PROD}},
     .entries = {{"port", "5432", LOC_PROD("port"), 0}},
     .reqs = {{GET_MOUNT}, {GET_PROD}}},
    {.name = "field-missing",
     .opts = {"path=secret/app/prod", "field=nope"},
     .environ = {"VAULT_TOKEN=" TOKEN},
     .replies = {{200, MOUNT2}, {200, PROD}},
     .want = EI_NOTFOUND,
     .want_text = "no field nope in the secret",
     .want_locator = "secret/app/prod",
     .reqs = {{GET_MOUNT}, {GET_PROD}}},
    {.name = "empty-field-name",
     .opts = {"path=secret/app/prod", "kv_version=2"},
     .environ = {"VAULT_TOKEN=" TOKEN},
     .replies = {{200, V2("{\"\":\"" CANARY "\"}", "1")}},
     .want = EI_BADDATA,
     .want_text = "a field has an empty name",
     .reqs = {{GET_PROD}}},
    {.name = "no-content-is-empty",
     .opts = {"path=secret/app/prod", "kv_version=2"},
     .environ = {"VAULT_TOKEN=" TOKEN},
     .replies = {{204, ""}},
     .reqs = {{GET_PROD}}},
    {.name = "namespace-option",
     .opts = {"path=secret/app/prod", "namespace=team-a"},
     .environ = {"VAULT_TOKEN=" TOKEN, "VAULT_NAMESPACE=other"},
     .replies = {{200, MOUNT2}, {200, PROD}},
     .entries = {PROD_ENTRIES},
     .reqs = {{GET_MOUNT, {"X-Vault-Namespace: team-a/"}},
              {GET_PROD, {"X-Vault-Namespace: team-a/"}}}},
    {.name = "namespace-env",
     .opts = {"path=secret/app/prod", "kv_version=2"},
     .environ = {"VAULT_TOKEN=" TOKEN, "VAULT_NAMESPACE=/a/b/"},
     .replies = {{200, PROD}},
     .entries = {PROD_ENTRIES},
     .reqs = {{GET_PROD, {"X-Vault-Namespace: a/b/"}}}},
    /* HTTP failures */
    {.name = "not-found",
     .opts = {"path=secret/app/prod"},
     .environ = {"VAULT_TOKEN=" TOKEN},
     .replies = {{200, MOUNT2}, {404, NOT_FOUND}},
     .want = EI_NOTFOUND,
     .want_text = "secret not found (HTTP 404)",
     .want_locator = "secret/app/prod",
     .reqs = {{GET_MOUNT}, {GET_PROD}}},
    {.name = "deleted-version",
     .opts = {"path=secret/app/prod", "kv_version=2"},
     .environ = {"VAULT_TOKEN=" TOKEN},
     .replies = {{404, "{\"data\":{\"data\":null,\"metadata\":{"
                       "\"deletion_time\":\"2024-01-02T00:00:00Z\","
                       "\"destroyed\":false,\"version\":4}}}"}},
     .want = EI_NOTFOUND,
     .want_text = "the latest version is deleted (HTTP 404)",
     .reqs = {{GET_PROD}}},
    {.name = "forbidden-names-path-and-method",
     .opts = {"path=secret/app/prod"},
     .environ = {"VAULT_TOKEN=" TOKEN},
     .replies = {{200, MOUNT2}, {403, DENIED}},
     .want = EI_DENIED,
     .want_text = "permission denied reading the secret (HTTP 403, auth "
                  "method token, token from VAULT_TOKEN)",
     .want_locator = "secret/app/prod",
     .reqs = {{GET_MOUNT}, {GET_PROD}}},
    {.name = "preflight-forbidden",
     .opts = {"path=secret/app/prod"},
     .environ = {"VAULT_TOKEN=" TOKEN},
     .replies = {{403, "{\"errors\":[\"preflight capability check returned "
                       "403, please ensure client's policies grant access "
                       "to path \\\"secret/\\\"\"]}"}},
     .want = EI_DENIED,
     .want_text = "permission denied looking up the mount (HTTP 403",
     .reqs = {{GET_MOUNT}}},
    {.name = "sealed-after-retries",
     .opts = {"path=secret/app/prod", "kv_version=2"},
     .environ = {"VAULT_TOKEN=" TOKEN},
     .replies = {{503, SEALED}, {503, SEALED}, {503, SEALED}},
     .want = EI_UNAVAILABLE,
     .want_text = "HTTP 503 after 3 attempts",
     .reqs = {{GET_PROD}, {GET_PROD}, {GET_PROD}}},
    {.name = "retried-then-served",
     .opts = {"path=secret/app/prod", "kv_version=2"},
     .environ = {"VAULT_TOKEN=" TOKEN},
     .replies = {{429, NOT_FOUND}, {500, NOT_FOUND}, {200, PROD}},
     .entries = {PROD_ENTRIES},
     .reqs = {{GET_PROD}, {GET_PROD}, {GET_PROD}}},
    {.name = "request-timeout-retried-then-served",
     .opts = {"path=secret/app/prod", "kv_version=2"},
     .environ = {"VAULT_TOKEN=" TOKEN},
     .replies = {{408, ""}, {200, PROD}},
     .entries = {PROD_ENTRIES},
     .reqs = {{GET_PROD}, {GET_PROD}}},
    {.name = "slow-reply-hits-deadline",
     .opts = {"path=secret/app/prod", "kv_version=2"},
     .environ = {"VAULT_TOKEN=" TOKEN},
     .replies = {{200, PROD, FAKE_HTTP_DELAY_MS(6000)}},
     .want = EI_UNAVAILABLE,
     .want_text = "(last: timeout)",
     .reqs = {{GET_PROD}}},
    {.name = "bad-request",
     .opts = {"path=secret/app/prod", "kv_version=2"},
     .environ = {"VAULT_TOKEN=" TOKEN},
     .replies = {{400, "{\"errors\":[\"" CANARY "\"]}"}},
     .want = EI_BADDATA,
     .want_text = "request refused reading the secret (HTTP 400)",
     .reqs = {{GET_PROD}}},
    {.name = "teapot",
     .opts = {"path=secret/app/prod", "kv_version=2"},
     .environ = {"VAULT_TOKEN=" TOKEN},
     .replies = {{418, CANARY}},
     .want = EI_BADDATA,
     .want_text = "unexpected response reading the secret (HTTP 418",
     .reqs = {{GET_PROD}}},
    {.name = "malformed-secret",
     .opts = {"path=secret/app/prod", "kv_version=2"},
     .environ = {"VAULT_TOKEN=" TOKEN},
     .replies = {{200, "{\"data\":{\"data\":{\"password\":\"" CANARY}},
     .want = EI_BADDATA,
     .want_text = "secret: malformed JSON",
     .want_locator = "secret/app/prod",
     .reqs = {{GET_PROD}}},
    {.name = "response-too-large",
     .opts = {"path=secret/app/prod", "kv_version=2", "max_response_size=16"},
     .environ = {"VAULT_TOKEN=" TOKEN},
     .replies = {{200, PROD}},
     .want = EI_BADDATA,
     .want_text = "response larger than 16 bytes",
     .reqs = {{GET_PROD}}},
    /* logins */
    {.name = "approle-login-and-revoke",
     .opts = {"path=secret/app/prod", "auth.method=approle",
              "auth.role_id_file=role_id", "auth.secret_id_file=%D/secret_id"},
     .files = {{"role_id", "my-role\n", 0644},
               {"secret_id", "  s3cr3t-" CANARY "\n", 0600}},
     .replies = {{200, LOGIN(TOKEN)}, {200, MOUNT2}, {200, PROD}, {204, ""}},
     .entries = {PROD_ENTRIES},
     .reqs = {{"POST /v1/auth/approle/login",
               {NO_TOKEN, HDR_REQUEST},
               "{\"role_id\":\"my-role\",\"secret_id\":\"s3cr3t-" CANARY "\"}"},
              {GET_MOUNT, {HDR_TOKEN}},
              {GET_PROD, {HDR_TOKEN}},
              {REVOKE, {HDR_TOKEN}}},
     .log_has = "login token revoked"},
    {.name = "approle-no-revoke",
     .opts = {"path=secret/app/prod", "auth.method=approle",
              "auth.role_id_file=role_id", "auth.revoke=false",
              "auth.mount=approle-ci"},
     .files = {{"role_id", "r", 0644}},
     .replies = {{200, LOGIN(TOKEN)}, {200, MOUNT2}, {200, PROD}},
     .entries = {PROD_ENTRIES},
     .reqs = {{"POST /v1/auth/approle-ci/login",
               {NO_TOKEN},
               "{\"role_id\":\"r\"}"},
              {GET_MOUNT, {HDR_TOKEN}},
              {GET_PROD, {HDR_TOKEN}}}},
    {.name = "approle-refused",
     .opts = {"path=secret/app/prod", "auth.method=approle",
              "auth.role_id_file=role_id", "auth.secret_id_file=secret_id"},
     .files = {{"role_id", "r", 0644}, {"secret_id", "wrong", 0600}},
     .replies = {{400, "{\"errors\":[\"invalid role or secret ID\"]}"}},
     .want = EI_DENIED,
     .want_text = "approle login refused (HTTP 400): check the role_id and "
                  "secret_id",
     .want_locator = "auth/approle/login",
     .reqs = {{"POST /v1/auth/approle/login"}}},
    {.name = "approle-secret-id-readable-by-others",
     .opts = {"path=secret/app/prod", "auth.method=approle",
              "auth.role_id_file=role_id", "auth.secret_id_file=secret_id"},
     .files = {{"role_id", "r", 0644}, {"secret_id", CANARY, 0640}},
     .want = EI_DENIED,
     .want_text = "chmod"},
    {.name = "approle-role-id-missing",
     .opts = {"path=secret/app/prod", "auth.method=approle",
              "auth.role_id_file=role_id"},
     .want = EI_DENIED,
     .want_text = "auth.role_id_file: "},
    {.name = "approle-no-such-mount",
     .opts = {"path=secret/app/prod", "auth.method=approle",
              "auth.role_id_file=role_id"},
     .files = {{"role_id", "r", 0644}},
     .replies = {{404, "{\"errors\":[\"no handler for route\"]}"}},
     .want = EI_DENIED,
     .want_text = "no approle auth method at auth/approle (HTTP 404)",
     .reqs = {{"POST /v1/auth/approle/login"}}},
    {.name = "approle-login-sealed-retried-here",
     .opts = {"path=secret/app/prod", "kv_version=2", "auth.method=approle",
              "auth.role_id_file=role_id", "auth.revoke=no"},
     .files = {{"role_id", "r", 0644}},
     .replies =
         {{503, SEALED}, {429, NOT_FOUND}, {200, LOGIN(TOKEN)}, {200, PROD}},
     .entries = {PROD_ENTRIES},
     .reqs = {{"POST /v1/auth/approle/login"},
              {"POST /v1/auth/approle/login"},
              {"POST /v1/auth/approle/login"},
              {GET_PROD, {HDR_TOKEN}}}},
    {.name = "approle-login-request-timeout-retried-here",
     .opts = {"path=secret/app/prod", "kv_version=2", "auth.method=approle",
              "auth.role_id_file=role_id", "auth.revoke=no"},
     .files = {{"role_id", "r", 0644}},
     .replies = {{408, ""}, {200, LOGIN(TOKEN)}, {200, PROD}},
     .entries = {PROD_ENTRIES},
     .reqs = {{"POST /v1/auth/approle/login"},
              {"POST /v1/auth/approle/login"},
              {GET_PROD, {HDR_TOKEN}}}},
    {.name = "approle-login-server-error-not-retried",
     .opts = {"path=secret/app/prod", "auth.method=approle",
              "auth.role_id_file=role_id"},
     .files = {{"role_id", "r", 0644}},
     .replies = {{500, "{\"errors\":[\"internal error\"]}"}},
     .want = EI_UNAVAILABLE,
     .want_text = "Vault is unavailable (HTTP 500)",
     .reqs = {{"POST /v1/auth/approle/login"}}},
    {.name = "approle-login-malformed",
     .opts = {"path=secret/app/prod", "auth.method=approle",
              "auth.role_id_file=role_id"},
     .files = {{"role_id", "r", 0644}},
     .replies = {{200, "{\"auth\":{\"client_token\":\"" CANARY "\"x}}"}},
     .want = EI_BADDATA,
     .want_text = "login: malformed JSON",
     .reqs = {{"POST /v1/auth/approle/login"}}},
    {.name = "token-expires-mid-run",
     .opts = {"path=secret/app/prod", "auth.method=approle",
              "auth.role_id_file=role_id"},
     .files = {{"role_id", "r", 0644}},
     .replies = {{200, LOGIN(TOKEN)},
                 {200, MOUNT2},
                 {403, EXPIRED},
                 {403, EXPIRED},
                 {200, LOGIN(TOKEN2)},
                 {200, PROD},
                 {204, ""}},
     .entries = {PROD_ENTRIES},
     .reqs = {{"POST /v1/auth/approle/login"},
              {GET_MOUNT, {HDR_TOKEN}},
              {GET_PROD, {HDR_TOKEN}},
              {REVOKE, {HDR_TOKEN}},
              {"POST /v1/auth/approle/login", {NO_TOKEN}},
              {GET_PROD, {HDR_TOKEN2}},
              {REVOKE, {HDR_TOKEN2}}},
     .log_has = "HTTP 403: logging in again"},
    {.name = "forbidden-after-new-login",
     .opts = {"path=secret/app/prod", "kv_version=2", "auth.method=approle",
              "auth.role_id_file=role_id"},
     .files = {{"role_id", "r", 0644}},
     .replies = {{200, LOGIN(TOKEN)},
                 {403, DENIED},
                 {204, ""},
                 {200, LOGIN(TOKEN2)},
                 {403, DENIED},
                 {403, EXPIRED}},
     .want = EI_DENIED,
     .want_text = "permission denied reading the secret (HTTP 403, auth "
                  "method approle)",
     .reqs = {{"POST /v1/auth/approle/login"},
              {GET_PROD, {HDR_TOKEN}},
              {REVOKE, {HDR_TOKEN}},
              {"POST /v1/auth/approle/login"},
              {GET_PROD, {HDR_TOKEN2}},
              {REVOKE, {HDR_TOKEN2}}},
     .log_has = "could not revoke the login token (HTTP 403)"},
    {.name = "kubernetes-login",
     .opts = {"path=secret/app/prod", "kv_version=2", "auth.method=kubernetes",
              "auth.role=app", "auth.jwt_file=sa-token"},
     .files = {{"sa-token", "eyJhbGciOiJSUzI1NiJ9.e30.sig\n", 0644}},
     .replies = {{200, LOGIN(TOKEN)}, {200, PROD}, {204, ""}},
     .entries = {PROD_ENTRIES},
     .reqs = {{"POST /v1/auth/kubernetes/login",
               {NO_TOKEN},
               "{\"jwt\":\"eyJhbGciOiJSUzI1NiJ9.e30.sig\",\"role\":\"app\"}"},
              {GET_PROD, {HDR_TOKEN}},
              {REVOKE, {HDR_TOKEN}}}},
    {.name = "kubernetes-default-token-path",
     .skip_if_exists = "/var/run/secrets/kubernetes.io/serviceaccount/token",
     .opts = {"path=secret/app/prod", "auth.method=kubernetes",
              "auth.role=app"},
     .want = EI_DENIED,
     .want_text = "auth.jwt_file: ",
     .want_locator = "/var/run/secrets/kubernetes.io/serviceaccount/token"},
    {.name = "jwt-login-custom-mount-with-namespace",
     .opts = {"path=secret/app/prod", "kv_version=2", "auth.method=jwt",
              "auth.jwt_file=id-token", "auth.mount=jwt-ci",
              "namespace=team-a"},
     .files = {{"id-token", "header.payload.sig", 0600}},
     .replies = {{200, LOGIN(TOKEN)}, {200, PROD}, {204, ""}},
     .entries = {PROD_ENTRIES},
     .reqs = {{"POST /v1/auth/jwt-ci/login",
               {NO_TOKEN, "X-Vault-Namespace: team-a/"},
               "{\"jwt\":\"header.payload.sig\"}"},
              {GET_PROD, {HDR_TOKEN, "X-Vault-Namespace: team-a/"}},
              {REVOKE, {HDR_TOKEN, "X-Vault-Namespace: team-a/"}}}},
    {.name = "jwt-refused",
     .opts = {"path=secret/app/prod", "auth.method=jwt",
              "auth.jwt_file=id-token", "auth.role=deploy"},
     .files = {{"id-token", "h.p.s", 0600}},
     .replies = {{400, "{\"errors\":[\"error validating token\"]}"}},
     .want = EI_DENIED,
     .want_text = "jwt login refused (HTTP 400): check the role and the JWT",
     .reqs = {{"POST /v1/auth/jwt/login",
               {NULL},
               "{\"jwt\":\"h.p.s\",\"role\":\"deploy\"}"}}},
    {.name = "revoke-fails-is-a-warning",
     .opts = {"path=secret/app/prod", "kv_version=2", "auth.method=approle",
              "auth.role_id_file=role_id"},
     .files = {{"role_id", "r", 0644}},
     .replies = {{200, LOGIN(TOKEN)}, {200, PROD}, {503, SEALED}},
     .entries = {PROD_ENTRIES},
     .reqs = {{"POST /v1/auth/approle/login"},
              {GET_PROD},
              {REVOKE, {HDR_TOKEN}}},
     .log_has = "could not revoke the login token (HTTP 503)"},
    /* references */
    {.name = "lookup-from-cache",
     .opts = {"path=secret/app/prod"},
     .environ = {"VAULT_TOKEN=" TOKEN},
     .replies = {{200, MOUNT2}, {200, PROD}},
     .ref = "ref+vault://secret/app/prod#password",
     .entries = {PROD_ENTRIES,
                 {"password", CANARY, LOC_PROD("password"), EI_ENTRY_SECRET}},
     .reqs = {{GET_MOUNT}, {GET_PROD}}},
    {.name = "lookup-new-path-same-mount",
     .opts = {"path=secret/app/prod"},
     .environ = {"VAULT_TOKEN=" TOKEN},
     .replies = {{200, MOUNT2},
                 {200, PROD},
                 {200, V2("{\"db\":{\"password\":\"" CANARY "\"}}", "9")}},
     .ref = "ref+vault://secret/shared#/db/password",
     .entries = {PROD_ENTRIES,
                 {"password", CANARY, "vault secret/shared v9 #db/password",
                  EI_ENTRY_SECRET}},
     .reqs = {{GET_MOUNT}, {GET_PROD}, {"GET /v1/secret/data/shared"}}},
    {.name = "lookup-only-layer",
     .environ = {"VAULT_TOKEN=" TOKEN},
     .no_fetch = true,
     .replies = {{200, MOUNT2}, {200, PROD}},
     .ref = "ref+vault://secret/app/prod#/port",
     .entries = {{"port", "5432", LOC_PROD("port"), EI_ENTRY_SECRET}},
     .reqs = {{GET_MOUNT}, {GET_PROD}}},
    {.name = "fetch-without-paths-sends-nothing",
     .environ = {"VAULT_TOKEN=" TOKEN}},
    {.name = "lookup-missing-field",
     .opts = {"path=secret/app/prod"},
     .environ = {"VAULT_TOKEN=" TOKEN},
     .replies = {{200, MOUNT2}, {200, PROD}},
     .ref = "ref+vault://secret/app/prod#nope",
     .want_lookup = EI_NOTFOUND,
     .want_text = "no field nope in secret/app/prod",
     .entries = {PROD_ENTRIES},
     .reqs = {{GET_MOUNT}, {GET_PROD}}},
    {.name = "lookup-missing-secret",
     .environ = {"VAULT_TOKEN=" TOKEN},
     .no_fetch = true,
     .replies = {{200, MOUNT2}, {404, NOT_FOUND}},
     .ref = "ref+vault://secret/gone#x",
     .want_lookup = EI_NOTFOUND,
     .want_text = "secret not found (HTTP 404)",
     .reqs = {{"GET /v1/sys/internal/ui/mounts/secret/gone"},
              {"GET /v1/secret/data/gone"}}},
    {.name = "lookup-malformed",
     .environ = {"VAULT_TOKEN=" TOKEN},
     .no_fetch = true,
     .ref = "ref+vault://secret/app?version=2#x",
     .want_lookup = EI_BADDATA,
     .want_text = "not supported in a reference"},
    {.name = "lookup-denied",
     .environ = {"VAULT_TOKEN=" TOKEN},
     .no_fetch = true,
     .replies = {{200, MOUNT2}, {403, DENIED}},
     .ref = "ref+vault://secret/app/prod#password",
     .want_lookup = EI_DENIED,
     .want_text = "permission denied reading the secret (HTTP 403, auth "
                  "method token",
     .reqs = {{GET_MOUNT}, {GET_PROD}}},
    /* configuration */
    {.name = "auth-not-a-group",
     .opts = {"path=x/y", "auth=approle"},
     .want_configure = EI_BADCONFIG,
     .want_text = "auth must be a group"},
    {.name = "bad-method",
     .opts = {"path=x/y", "auth.method=ldap"},
     .want_configure = EI_BADCONFIG,
     .want_text = "auth.method must be token, approle, kubernetes or jwt"},
    {.name = "approle-needs-role-id",
     .opts = {"path=x/y", "auth.method=approle"},
     .want_configure = EI_BADCONFIG,
     .want_text = "auth method approle needs auth.role_id_file"},
    {.name = "kubernetes-needs-role",
     .opts = {"path=x/y", "auth.method=kubernetes"},
     .want_configure = EI_BADCONFIG,
     .want_text = "auth method kubernetes needs auth.role"},
    {.name = "jwt-needs-file",
     .opts = {"path=x/y", "auth.method=jwt", "auth.role=r"},
     .want_configure = EI_BADCONFIG,
     .want_text = "auth method jwt needs auth.jwt_file"},
    {.name = "misfit-option-of-other-method",
     .opts = {"path=x/y", "auth.role_id_file=f"},
     .want_configure = EI_BADCONFIG,
     .want_text = "auth.role_id_file does not apply to auth method token"},
    {.name = "misfit-token-file-with-approle",
     .opts = {"path=x/y", "auth.method=approle", "auth.role_id_file=r",
              "auth.token_file=t"},
     .want_configure = EI_BADCONFIG,
     .want_text = "auth.token_file does not apply to auth method approle"},
    {.name = "path-and-paths",
     .opts = {"path=x/y", "paths=x/z"},
     .want_configure = EI_BADCONFIG,
     .want_text = "give path or paths, not both"},
    {.name = "bad-path",
     .opts = {"path=secret/../sys"},
     .want_configure = EI_BADCONFIG,
     .want_text = "path: empty, '.' or '..' segment in the path"},
    {.name = "kv-version-3",
     .opts = {"path=x/y", "kv_version=3"},
     .want_configure = EI_BADCONFIG,
     .want_text = "kv_version must be 1 or 2"},
    {.name = "mount-needs-kv-version",
     .opts = {"path=x/y", "mount=x"},
     .want_configure = EI_BADCONFIG,
     .want_text = "mount needs kv_version"},
    {.name = "mount-not-above-path",
     .opts = {"path=x/y", "kv_version=2", "mount=z"},
     .want_configure = EI_BADCONFIG,
     .want_text = "path x/y is not below mount z/"},
    {.name = "empty-field-option",
     .opts = {"path=x/y", "field="},
     .want_configure = EI_BADCONFIG,
     .want_text = "field must not be empty"},
    {.name = "bad-namespace",
     .opts = {"path=x/y", "namespace=a#b"},
     .want_configure = EI_BADCONFIG,
     .want_text = "namespace: control character, '?', '#' or '%'"},
};

#define VCASES_N (sizeof vcases / sizeof vcases[0])

static char tmpdir[PATH_SIZE];

static void make_files(const struct cfile *files, const char *dir)
{
    assert_int_equal(mkdir(dir, 0700), 0);
    for (size_t i = 0; i < FILES_N && files[i].name != NULL; i++) {
        char path[PATH_SIZE];
        int n = snprintf(path, sizeof path, "%s/%s", dir, files[i].name);
        assert_true(n > 0 && (size_t)n < sizeof path);
        FILE *fp = fopen(path, "wb");
        assert_non_null(fp);
        size_t len = strlen(files[i].content);
        assert_int_equal(fwrite(files[i].content, 1, len, fp), len);
        assert_int_equal(fclose(fp), 0);
        assert_int_equal(chmod(path, (mode_t)files[i].mode), 0);
    }
}

/* Before destroy: the endpoints belong to the client it closes. */
static void check_endpoints(struct fake_host *fh, const char *endpoint)
{
    size_t n = 0;
    const struct fake_http_request *r = fake_host_http_requests(fh, &n);
    for (size_t i = 0; endpoint != NULL && i < n; i++)
        assert_string_equal(r[i].endpoint, endpoint);
}

static void check_requests(const struct want_req *want, struct fake_host *fh)
{
    size_t n = 0;
    const struct fake_http_request *r = fake_host_http_requests(fh, &n);
    size_t want_n = 0;
    while (want_n < REQS_N && want[want_n].line != NULL)
        want_n++;
    if (n != want_n) {
        for (size_t i = 0; i < n; i++)
            print_message("# request %zu: %s %s\n", i + 1, r[i].method,
                          r[i].path);
        fail_msg("%zu requests, expected %zu", n, want_n);
    }
    for (size_t i = 0; i < n; i++) {
        char line[PATH_SIZE * 2];
        snprintf(line, sizeof line, "%s %s", r[i].method, r[i].path);
        assert_string_equal(line, want[i].line);
        /* the token only ever travels in its header */
        assert_null(strstr(r[i].path, CANARY));
        for (size_t k = 0; k < HDRS_N && want[i].hdrs[k] != NULL; k++) {
            const char *h = want[i].hdrs[k];
            if (h[0] == '-') {
                assert_null(fake_http_header(&r[i], h + 1));
                continue;
            }
            const char *colon = strchr(h, ':');
            assert_non_null(colon);
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)(colon - h), h);
            const char *v = fake_http_header(&r[i], name);
            if (v == NULL)
                fail_msg("request %zu lacks header %s", i + 1, name);
            assert_string_equal(v, colon + 2);
        }
        if (want[i].body != NULL) {
            assert_non_null(r[i].body);
            assert_string_equal(r[i].body, want[i].body);
        }
        bool login = strstr(r[i].path, "/login") != NULL;
        bool revoke = strstr(r[i].path, "revoke-self") != NULL;
        if (login)
            assert_int_equal(r[i].flags, EI_HTTP_SECRET | EI_HTTP_SECRET_BODY |
                                             EI_HTTP_NORETRY);
        else if (revoke)
            assert_int_equal(r[i].flags, EI_HTTP_NORETRY);
        else
            assert_int_equal(r[i].flags, EI_HTTP_SECRET);
    }
}

static void check_entries(const struct vcase *c, const struct fake_sink *fs)
{
    size_t want_n = 0;
    while (want_n < WANT_N && c->entries[want_n].name != NULL)
        want_n++;
    assert_int_equal(fs->n, want_n);
    for (size_t i = 0; i < want_n; i++) {
        const struct want_entry *w = &c->entries[i];
        const struct fake_entry *e = &fs->entries[i];
        assert_string_equal(e->name, w->name);
        assert_int_equal(e->name_n, 1);
        assert_string_equal(e->value, w->value);
        assert_int_equal(e->value_len, strlen(w->value));
        assert_non_null(e->locator);
        assert_string_equal(e->locator, w->locator);
        assert_int_equal(e->flags, w->flags);
    }
}

static void test_vcase(void **state)
{
    const struct vcase *c = *state;
    if (c->skip_if_exists != NULL && access(c->skip_if_exists, F_OK) == 0)
        skip();
    char dir[PATH_SIZE];
    int n = snprintf(dir, sizeof dir, "%s/%s", tmpdir, c->name);
    assert_true(n > 0 && (size_t)n < sizeof dir);
    make_files(c->files, dir);
    char **opts = expand_dir_list(c->opts, OPTS_N, dir);
    char **env = expand_dir_list(c->environ, ENV_N, dir);
    struct fake_host *fh =
        fake_host_new((const char *const *)opts, (const char *const *)env, dir);
    assert_non_null(fh);
    for (size_t i = 0; i < REPLIES_N && c->replies[i].status != 0; i++)
        assert_int_equal(fake_host_http_push(fh, c->replies[i].status,
                                             c->replies[i].body,
                                             c->replies[i].flags),
                         0);
    const struct ei_host *h = fake_host_host(fh);

    struct ei_error err = {0};
    void *st = NULL;
    enum ei_status got = ei_provider_vault.configure(h, &st, &err);
    assert_int_equal(fake_host_reads(fh), 0);
    assert_int_equal(got, c->want_configure);
    assert_int_equal(err.status, got);
    if (got != EI_OK) {
        assert_null(st);
        assert_non_null(strstr(err.text, c->want_text));
        assert_int_equal(fake_host_http_clients(fh), 0);
        goto done;
    }
    assert_null(fake_host_unused(fh));

    struct fake_sink fs;
    fake_sink_init(&fs);
    struct ei_deadline dl;
    fake_deadline(&dl, c->deadline_ms != 0 ? c->deadline_ms : DL_DEFAULT);
    got = EI_OK;
    if (!c->no_fetch) {
        got = ei_provider_vault.fetch(st, &fs.sink, &dl, &err);
        assert_int_equal(got, c->want);
        assert_int_equal(err.status, got);
    }
    if (got == EI_OK && c->ref != NULL) {
        got = ei_provider_vault.lookup(st, c->ref, &fs.sink, &dl, &err);
        assert_int_equal(got, c->want_lookup);
        assert_int_equal(err.status, got);
    }
    assert_false(fs.abi_violation);
    if (got == EI_OK) {
        check_entries(c, &fs);
    } else {
        if (strstr(err.text, c->want_text) == NULL)
            fail_msg("error text '%s' lacks '%s'", err.text, c->want_text);
        if (c->want_locator != NULL &&
            strstr(err.locator, c->want_locator) == NULL)
            fail_msg("locator '%s' lacks '%s'", err.locator, c->want_locator);
        if (c->want != EI_OK)
            assert_int_equal(fs.n, 0);
        else
            check_entries(c, &fs);
    }
    fake_sink_free(&fs);
    check_endpoints(fh, c->endpoint);
    ei_provider_vault.destroy(st);
    assert_int_equal(fake_host_http_clients(fh), 0);
    assert_int_equal(fake_host_http_pending(fh), 0);
    check_requests(c->reqs, fh);
    if (c->log_has != NULL && strstr(fake_host_log(fh), c->log_has) == NULL)
        fail_msg("log '%s' lacks '%s'", fake_host_log(fh), c->log_has);
done:
    check_no_leak(&err);
    assert_null(strstr(fake_host_log(fh), CANARY));
    fake_host_free(fh);
    expand_list_free(opts);
    expand_list_free(env);
}

static void test_descriptor(void **state)
{
    const struct ei_provider *p = &ei_provider_vault;
    assert_int_equal(p->abi, EI_PROVIDER_ABI);
    assert_int_equal(p->size, sizeof(struct ei_provider));
    assert_string_equal(p->name, "vault");
    assert_string_equal(p->arg_option, "path");
    assert_int_equal(p->flags, EI_PROV_REMOTE | EI_PROV_SECRET);
    assert_non_null(p->configure);
    assert_non_null(p->fetch);
    assert_non_null(p->lookup);
    assert_non_null(p->destroy);
    p->destroy(NULL);
}

/* The ARG of --layer vault:PATH is the path. */
static void test_arg_is_path(void **state)
{
    static const char *const env[] = {"VAULT_TOKEN=" TOKEN, NULL};
    struct fake_host *fh = fake_host_new(NULL, env, NULL);
    assert_non_null(fh);
    fake_host_set_arg(fh, "kv/app");
    assert_int_equal(fake_host_http_push(fh, 200, MOUNT1, 0), 0);
    assert_int_equal(
        fake_host_http_push(fh, 200, "{\"data\":{\"k\":\"v\"}}", 0), 0);
    struct ei_error err = {0};
    void *st = NULL;
    assert_int_equal(ei_provider_vault.configure(fake_host_host(fh), &st, &err),
                     EI_OK);
    struct fake_sink fs;
    fake_sink_init(&fs);
    struct ei_deadline dl;
    fake_deadline(&dl, DL_DEFAULT);
    assert_int_equal(ei_provider_vault.fetch(st, &fs.sink, &dl, &err), EI_OK);
    assert_int_equal(fs.n, 1);
    assert_string_equal(fs.entries[0].value, "v");
    size_t n = 0;
    const struct fake_http_request *r = fake_host_http_requests(fh, &n);
    assert_int_equal(n, 2);
    assert_string_equal(r[1].path, "/v1/kv/app");
    fake_sink_free(&fs);
    ei_provider_vault.destroy(st);
    fake_host_free(fh);
}

/* run --watch fetches the same state again: the secret is read anew (the
   mount stays known), never answered from the last resolution. */
static void test_fetch_again(void **state)
{
    static const char *const env[] = {"VAULT_TOKEN=" TOKEN, NULL};
    struct fake_host *fh = fake_host_new(NULL, env, NULL);
    assert_non_null(fh);
    fake_host_set_arg(fh, "kv/app");
    assert_int_equal(fake_host_http_push(fh, 200, MOUNT1, 0), 0);
    assert_int_equal(
        fake_host_http_push(fh, 200, "{\"data\":{\"k\":\"v1\"}}", 0), 0);
    assert_int_equal(
        fake_host_http_push(fh, 200, "{\"data\":{\"k\":\"v2\"}}", 0), 0);
    struct ei_error err = {0};
    void *st = NULL;
    assert_int_equal(ei_provider_vault.configure(fake_host_host(fh), &st, &err),
                     EI_OK);
    const char *want[] = {"v1", "v2"};
    for (int i = 0; i < 2; i++) {
        struct fake_sink fs;
        fake_sink_init(&fs);
        struct ei_deadline dl;
        fake_deadline(&dl, DL_DEFAULT);
        assert_int_equal(ei_provider_vault.fetch(st, &fs.sink, &dl, &err),
                         EI_OK);
        assert_int_equal(fs.n, 1);
        assert_string_equal(fs.entries[0].value, want[i]);
        fake_sink_free(&fs);
    }
    size_t n = 0;
    const struct fake_http_request *r = fake_host_http_requests(fh, &n);
    assert_int_equal(n, 3);
    assert_string_equal(r[2].path, "/v1/kv/app");
    /* once the resolution is over (watch), nothing read is kept: a
       reference would read the secret again */
    const char *const *paths = NULL;
    int64_t poll_ms = 0;
    assert_int_equal(ei_provider_vault.watch(st, &paths, &poll_ms),
                     EI_WATCH_POLL);
    assert_int_equal(
        fake_host_http_push(fh, 200, "{\"data\":{\"k\":\"v3\"}}", 0), 0);
    struct fake_sink fs;
    fake_sink_init(&fs);
    struct ei_deadline dl;
    fake_deadline(&dl, DL_DEFAULT);
    assert_int_equal(ei_provider_vault.lookup(st, "ref+vault://kv/app#k",
                                              &fs.sink, &dl, &err),
                     EI_OK);
    assert_int_equal(fs.n, 1);
    assert_string_equal(fs.entries[0].value, "v3");
    fake_sink_free(&fs);
    fake_host_http_requests(fh, &n);
    assert_int_equal(n, 4);
    ei_provider_vault.destroy(st);
    fake_host_free(fh);
}

static void put_file(const char *dir, const char *name, const char *text)
{
    char path[PATH_SIZE + 64];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, 0600), 0);
}

static void fetch_value(void *st, const char *want)
{
    struct fake_sink fs;
    fake_sink_init(&fs);
    struct ei_deadline dl;
    fake_deadline(&dl, DL_DEFAULT);
    struct ei_error err = {0};
    enum ei_status got = ei_provider_vault.fetch(st, &fs.sink, &dl, &err);
    if (got != EI_OK)
        fail_msg("fetch: %s", err.text);
    assert_int_equal(fs.n, 1);
    assert_string_equal(fs.entries[0].value, want);
    fake_sink_free(&fs);
}

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

#define LOGIN_TTL1(tok)                                                        \
    "{\"auth\":{\"client_token\":\"" tok "\",\"lease_duration\":1,"            \
    "\"renewable\":true},\"data\":null}"

/*
 * run --watch reads with the token of one login: past half its lease a
 * fetch renews it first (renew-self); a renewal refused means a revoke
 * and a new login.  (The waits only need to be long enough: half a lease
 * of one second.)
 */
static void test_login_token_renewed(void **state)
{
    (void)state;
    char dir[PATH_SIZE + 16];
    snprintf(dir, sizeof dir, "%s/renew", tmpdir);
    assert_int_equal(mkdir(dir, 0700), 0);
    put_file(dir, "role_id", "my-role\n");
    put_file(dir, "secret_id", "s3cr3t\n");
    const char *opts[] = {"path=kv/app", "auth.method=approle",
                          "auth.role_id_file=role_id",
                          "auth.secret_id_file=secret_id", NULL};
    struct fake_host *fh = fake_host_new(opts, NULL, dir);
    assert_non_null(fh);
    struct ei_error err = {0};
    void *st = NULL;
    assert_int_equal(ei_provider_vault.configure(fake_host_host(fh), &st, &err),
                     EI_OK);
    assert_int_equal(fake_host_http_push(fh, 200, LOGIN_TTL1(TOKEN), 0), 0);
    assert_int_equal(fake_host_http_push(fh, 200, MOUNT1, 0), 0);
    assert_int_equal(
        fake_host_http_push(fh, 200, "{\"data\":{\"k\":\"v1\"}}", 0), 0);
    fetch_value(st, "v1");
    nap_ms(600);
    assert_int_equal(fake_host_http_push(fh, 200, LOGIN_TTL1(TOKEN), 0), 0);
    assert_int_equal(
        fake_host_http_push(fh, 200, "{\"data\":{\"k\":\"v2\"}}", 0), 0);
    fetch_value(st, "v2");
    nap_ms(600);
    assert_int_equal(fake_host_http_push(
                         fh, 400, "{\"errors\":[\"lease is not renewable\"]}",
                         0),
                     0);
    assert_int_equal(fake_host_http_push(fh, 204, "", 0), 0);
    assert_int_equal(fake_host_http_push(fh, 200, LOGIN_TTL1(TOKEN2), 0), 0);
    assert_int_equal(
        fake_host_http_push(fh, 200, "{\"data\":{\"k\":\"v3\"}}", 0), 0);
    fetch_value(st, "v3");
    size_t n = 0;
    const struct fake_http_request *r = fake_host_http_requests(fh, &n);
    static const char *const want[] = {
        "/v1/auth/approle/login",    "/v1/sys/internal/ui/mounts/kv/app",
        "/v1/kv/app",                "/v1/auth/token/renew-self",
        "/v1/kv/app",                "/v1/auth/token/renew-self",
        "/v1/auth/token/revoke-self", "/v1/auth/approle/login",
        "/v1/kv/app"};
    assert_int_equal(n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < n; i++)
        if (strcmp(r[i].path, want[i]) != 0)
            fail_msg("request %zu: %s, want %s", i, r[i].path, want[i]);
    assert_string_equal(fake_http_header(&r[3], "X-Vault-Token"), TOKEN);
    assert_string_equal(fake_http_header(&r[8], "X-Vault-Token"), TOKEN2);
    assert_int_equal(fake_host_http_push(fh, 204, "", 0), 0);
    ei_provider_vault.destroy(st);
    assert_null(strstr(fake_host_log(fh), CANARY));
    fake_host_free(fh);
}

static int group_setup(void **state)
{
    const char *base = getenv("TMPDIR");
    int n = snprintf(tmpdir, sizeof tmpdir, "%s/test_vault.XXXXXX",
                     base != NULL && base[0] != '\0' ? base : "/tmp");
    if (n < 0 || (size_t)n >= sizeof tmpdir || mkdtemp(tmpdir) == NULL)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    char cmd[PATH_SIZE + 32];
    int n = snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (n < 0 || (size_t)n >= sizeof cmd)
        return -1;
    return system(cmd) == 0 ? 0 : -1;
}

#define EXTRA_N 8

int main(void)
{
    struct CMUnitTest tests[PARSE_CASES_N + VCASES_N + EXTRA_N];
    size_t t = 0;
    for (size_t i = 0; i < PARSE_CASES_N; i++, t++) {
        tests[t] = (struct CMUnitTest)cmocka_unit_test(test_parse);
        tests[t].name = parse_cases[i].name;
        tests[t].initial_state = (void *)&parse_cases[i];
    }
    for (size_t i = 0; i < VCASES_N; i++, t++) {
        tests[t] = (struct CMUnitTest)cmocka_unit_test(test_vcase);
        tests[t].name = vcases[i].name;
        tests[t].initial_state = (void *)&vcases[i];
    }
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_parse_big_and_deep);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_parse_token_limit);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_field_get);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_parse_out_of_memory);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_descriptor);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_arg_is_path);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_fetch_again);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_login_token_renewed);
    if (t != sizeof tests / sizeof tests[0])
        return 1;
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
