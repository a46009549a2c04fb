/* SPDX-License-Identifier: MIT */
/* Unit tests of the env provider (providers/env.c) through the fake host;
   link with -Wl,--wrap=malloc for the allocation-failure test. */

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

#include <envinject/provider.h>

#include "expand.h"
#include "host.h"

extern const struct ei_provider ei_provider_env;

#define V         EI_ENTRY_VERBATIM
#define S         (EI_ENTRY_VERBATIM | EI_ENTRY_SECRET)
#define U         (EI_ENTRY_VERBATIM | EI_ENTRY_UNSET)
#define CANARY    "EI_CANARY_c0ffee"
#define PATH_SIZE 512
#define OPTS_N    5
#define ENV_N     24
#define FILES_N   3
#define WANT_N    24
#define DL_NONE   0  /* no deadline given to fetch */
#define DL_PASSED -1 /* a deadline already passed */
#define DL_LATER  60000

/* a valid name of 300 bytes */
#define NAME_10 "N123456789"
#define NAME_100                                                               \
    NAME_10 NAME_10 NAME_10 NAME_10 NAME_10 NAME_10 NAME_10 NAME_10 NAME_10    \
        NAME_10
#define LONG_NAME NAME_100 NAME_100 NAME_100

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

/* --- the table --- */

struct file_spec {
    const char *name; /* in the temp dir; NULL ends the list */
    const char *content;
    size_t len; /* 0: strlen(content) */
    bool is_dir;
};

struct want_entry {
    const char *name; /* NULL ends the list */
    const char *value;
    size_t len; /* 0: strlen(value) */
    unsigned flags;
    const char *locator; /* "%D" stands for the temp dir */
};

struct env_case {
    const char *name;
    const char *opts[OPTS_N];
    const char *environ[ENV_N]; /* "%D" stands for the temp dir */
    struct file_spec files[FILES_N];
    size_t max_value_len; /* 0: the fake's default */
    int deadline;         /* DL_* or milliseconds */
    size_t fail_at;       /* the sink fails at this emit */
    enum ei_status want_configure;
    enum ei_status want;
    const char *want_text;    /* substring of err.text */
    const char *want_locator; /* err.locator, "%D" expanded */
    struct want_entry entries[WANT_N];
    size_t want_reads; /* read_file calls */
    const char *log_has;
};

static const struct env_case cases[] = {
    {.name = "plain-variables",
     .environ = {"A=1", "B=two words", "EMPTY=", "PATH=/usr/bin:/bin",
                 "lower_case=x", "EQ=a=b"},
     .entries = {{"A", "1", 0, V, "$A"},
                 {"B", "two words", 0, V, "$B"},
                 {"EMPTY", "", 0, V, "$EMPTY"},
                 {"PATH", "/usr/bin:/bin", 0, V, "$PATH"},
                 {"lower_case", "x", 0, V, "$lower_case"},
                 {"EQ", "a=b", 0, V, "$EQ"}}},
    {.name = "empty-environment", .environ = {NULL}},
    {.name = "invalid-names-skipped",
     .environ = {"1ABC=x", "my-var=" CANARY, "=" CANARY, "no equals " CANARY,
                 "OK_1=y", "a.b=" CANARY, "BAD\001NAME=" CANARY, "_U=z"},
     .entries = {{"OK_1", "y", 0, V, "$OK_1"}, {"_U", "z", 0, V, "$_U"}},
     .log_has = "skipped variable my-var: not a valid key\n"
                "skipped variable : not a valid key\n"
                "skipped environment entry 3: no '='\n"},
    {.name = "non-printable-name-logged-safely",
     .environ = {"BAD\001NAME=" CANARY},
     .log_has = "skipped variable BAD?NAME: not a valid key"},
    {.name = "private-key-never-emitted",
     .environ = {"ENVINJECT_PRIVATE_KEY=" CANARY, "X=1"},
     .entries = {{"X", "1", 0, V, "$X"}},
     .log_has = "ENVINJECT_PRIVATE_KEY: never passed on"},
    {.name = "dotenvx-private-keys-never-emitted",
     .environ = {"DOTENV_PRIVATE_KEY=" CANARY,
                 "DOTENV_PRIVATE_KEY_PRODUCTION=" CANARY,
                 "DOTENV_PRIVATE_KEYS=x", "X=1"},
     .entries = {{"DOTENV_PRIVATE_KEYS", "x", 0, V, "$DOTENV_PRIVATE_KEYS"},
                 {"X", "1", 0, V, "$X"}},
     .log_has = "DOTENV_PRIVATE_KEY: never passed on\n"
                "skipped variable DOTENV_PRIVATE_KEY_PRODUCTION: never passed "
                "on"},
    {.name = "private-key-file-not-read",
     .opts = {"file_suffix=_FILE", "include=*"},
     .environ = {"ENVINJECT_PRIVATE_KEY_FILE=%D/key", "X=1"},
     .files = {{"key", CANARY}},
     .entries = {{"ENVINJECT_PRIVATE_KEY_FILE", "%D/key", 0, V,
                  "$ENVINJECT_PRIVATE_KEY_FILE"},
                 {"X", "1", 0, V, "$X"}}},
    {.name = "empty-private-key-not-given-its-file",
     .opts = {"file_suffix=_FILE", "include=*"},
     .environ = {"ENVINJECT_PRIVATE_KEY=", "ENVINJECT_PRIVATE_KEY_FILE=%D/key"},
     .files = {{"key", CANARY}},
     .entries = {{"ENVINJECT_PRIVATE_KEY_FILE", "%D/key", 0, V,
                  "$ENVINJECT_PRIVATE_KEY_FILE"}},
     .log_has = "ENVINJECT_PRIVATE_KEY: never passed on"},
    {.name = "repeated-name-first-wins",
     .environ = {"A=first", "A=second", "B=b"},
     .entries = {{"A", "first", 0, V, "$A"}, {"B", "b", 0, V, "$B"}},
     .log_has = "skipped variable A: repeated"},
    /* a name too long for env_plain's stack buffer (256 bytes) */
    {.name = "long-name-off-the-stack",
     .environ = {"A=1", LONG_NAME "=long", "B=2"},
     .entries = {{"A", "1", 0, V, "$A"},
                 {LONG_NAME, "long", 0, V, "$" LONG_NAME},
                 {"B", "2", 0, V, "$B"}}},
    /* names of one FNV-1a hash (costarring, liquid) are told apart, and
       a name is not its own prefix */
    {.name = "repeated-names-same-hash-and-prefix",
     .environ = {"costarring=1", "liquid=2", "AB=3", "A=4", "liquid=5", "A=6",
                 "AB=7", "costarring=8"},
     .entries = {{"costarring", "1", 0, V, "$costarring"},
                 {"liquid", "2", 0, V, "$liquid"},
                 {"AB", "3", 0, V, "$AB"},
                 {"A", "4", 0, V, "$A"}},
     .log_has = "skipped variable costarring: repeated"},
    /* W3, W10 and W29 all hash to the last of the index's 16 slots (FNV-1a
       & 15 == 15): W10 and W29 are placed past the end, at slots 0 and 1,
       and their repeats are found only by a probe that wraps around */
    {.name = "repeated-names-wrap-around",
     .environ = {"W3=a", "W10=b", "W29=c", "W10=x", "W29=y"},
     .entries = {{"W3", "a", 0, V, "$W3"},
                 {"W10", "b", 0, V, "$W10"},
                 {"W29", "c", 0, V, "$W29"}},
     .log_has = "skipped variable W29: repeated"},
    /* 20 names: an index of 64 slots, sized for the list at the start */
    {.name = "repeated-names-many",
     .environ = {"V0=a",  "V1=b",  "V2=c",  "V3=d",  "V4=e",  "V5=f",  "V6=g",
                 "V7=h",  "V8=i",  "V9=j",  "V10=k", "V11=l", "V12=m", "V13=n",
                 "V14=o", "V15=p", "V16=q", "V17=r", "V0=x",  "V17=y"},
     .entries = {{"V0", "a", 0, V, "$V0"},
                 {"V1", "b", 0, V, "$V1"},
                 {"V2", "c", 0, V, "$V2"},
                 {"V3", "d", 0, V, "$V3"},
                 {"V4", "e", 0, V, "$V4"},
                 {"V5", "f", 0, V, "$V5"},
                 {"V6", "g", 0, V, "$V6"},
                 {"V7", "h", 0, V, "$V7"},
                 {"V8", "i", 0, V, "$V8"},
                 {"V9", "j", 0, V, "$V9"},
                 {"V10", "k", 0, V, "$V10"},
                 {"V11", "l", 0, V, "$V11"},
                 {"V12", "m", 0, V, "$V12"},
                 {"V13", "n", 0, V, "$V13"},
                 {"V14", "o", 0, V, "$V14"},
                 {"V15", "p", 0, V, "$V15"},
                 {"V16", "q", 0, V, "$V16"},
                 {"V17", "r", 0, V, "$V17"}},
     .log_has = "skipped variable V17: repeated"},
    {.name = "file-suffix-happy-path",
     .opts = {"file_suffix=_FILE", "include=DB_PASSWORD"},
     .environ = {"DB_PASSWORD_FILE=%D/pw", "OTHER=1"},
     .files = {{"pw", CANARY "\r\n\n\n"}},
     .entries = {{"DB_PASSWORD", CANARY "\r", 0, S, "DB_PASSWORD_FILE=%D/pw"},
                 {"DB_PASSWORD_FILE", "", 0, U, "$DB_PASSWORD_FILE"},
                 {"OTHER", "1", 0, V, "$OTHER"}},
     .want_reads = 1},
    {.name = "file-suffix-inner-newlines-kept",
     .opts = {"file_suffix=_FILE", "include=*"},
     .environ = {"CERT_FILE=%D/cert"},
     .files = {{"cert", "line1\n\nline3\n"}},
     .entries = {{"CERT", "line1\n\nline3", 0, S, "CERT_FILE=%D/cert"},
                 {"CERT_FILE", "", 0, U, "$CERT_FILE"}},
     .want_reads = 1},
    {.name = "file-suffix-only-newlines",
     .opts = {"file_suffix=_FILE", "include=*"},
     .environ = {"T_FILE=%D/nl"},
     .files = {{"nl", "\n\n"}},
     .entries = {{"T", "", 0, S, "T_FILE=%D/nl"},
                 {"T_FILE", "", 0, U, "$T_FILE"}},
     .want_reads = 1},
    {.name = "file-suffix-empty-name-before",
     .opts = {"file_suffix=_FILE", "include=*"},
     .environ = {"DB_PASSWORD=", "DB_PASSWORD_FILE=%D/pw"},
     .files = {{"pw", CANARY}},
     .entries = {{"DB_PASSWORD", CANARY, 0, S, "DB_PASSWORD_FILE=%D/pw"},
                 {"DB_PASSWORD_FILE", "", 0, U, "$DB_PASSWORD_FILE"}},
     .want_reads = 1},
    {.name = "file-suffix-empty-name-after",
     .opts = {"file_suffix=_FILE", "include=*"},
     .environ = {"DB_PASSWORD_FILE=%D/pw", "DB_PASSWORD="},
     .files = {{"pw", CANARY}},
     .entries = {{"DB_PASSWORD", CANARY, 0, S, "DB_PASSWORD_FILE=%D/pw"},
                 {"DB_PASSWORD_FILE", "", 0, U, "$DB_PASSWORD_FILE"}},
     .want_reads = 1},
    {.name = "file-suffix-both-set",
     .opts = {"file_suffix=_FILE", "include=*"},
     .environ = {"DB_PASSWORD=" CANARY, "DB_PASSWORD_FILE=%D/pw"},
     .files = {{"pw", CANARY}},
     .want = EI_BADDATA,
     .want_text = "both DB_PASSWORD and DB_PASSWORD_FILE are set (but are "
                  "exclusive)",
     .want_locator = "DB_PASSWORD_FILE=%D/pw"},
    {.name = "file-suffix-missing-file",
     .opts = {"file_suffix=_FILE", "include=*"},
     .environ = {"TOKEN_FILE=%D/nope"},
     .want = EI_NOTFOUND,
     .want_text = "TOKEN_FILE: no such file",
     .want_locator = "TOKEN_FILE=%D/nope",
     .want_reads = 1},
    {.name = "file-suffix-directory",
     .opts = {"file_suffix=_FILE", "include=*"},
     .environ = {"TOKEN_FILE=%D/sub"},
     .files = {{"sub", NULL, 0, true}},
     .want = EI_IOERROR,
     .want_text = "TOKEN_FILE: not a regular file",
     .want_locator = "TOKEN_FILE=%D/sub",
     .want_reads = 1},
    {.name = "file-suffix-too-large",
     .opts = {"file_suffix=_FILE", "include=*"},
     .environ = {"TOKEN_FILE=%D/big"},
     .files = {{"big", CANARY}},
     .max_value_len = 4,
     .want = EI_BADDATA,
     .want_text = "TOKEN_FILE: larger than 4 bytes",
     .want_locator = "TOKEN_FILE=%D/big",
     .want_reads = 1},
    {.name = "file-suffix-nul-byte",
     .opts = {"file_suffix=_FILE", "include=*"},
     .environ = {"TOKEN_FILE=%D/nul"},
     .files = {{"nul", CANARY "\0x\n", sizeof CANARY + 2}},
     .want = EI_BADDATA,
     .want_text = "TOKEN_FILE: the file holds a NUL byte at offset 16",
     .want_locator = "TOKEN_FILE=%D/nul",
     .want_reads = 1},
    {.name = "file-suffix-empty-var-ignored",
     .opts = {"file_suffix=_FILE", "include=*"},
     .environ = {"TOKEN_FILE=", "TOKEN=t"},
     .entries = {{"TOKEN_FILE", "", 0, V, "$TOKEN_FILE"},
                 {"TOKEN", "t", 0, S, "$TOKEN"}}},
    {.name = "file-suffix-bare-suffix-is-plain",
     .opts = {"file_suffix=_FILE", "include=*"},
     .environ = {"_FILE=%D/pw"},
     .files = {{"pw", CANARY}},
     .entries = {{"_FILE", "%D/pw", 0, V, "$_FILE"}}},
    {.name = "file-suffix-custom",
     .opts = {"file_suffix=_PATH", "include=*"},
     .environ = {"KEY_PATH=%D/pw", "KEY_FILE=%D/pw"},
     .files = {{"pw", CANARY "\n"}},
     .entries = {{"KEY", CANARY, 0, S, "KEY_PATH=%D/pw"},
                 {"KEY_PATH", "", 0, U, "$KEY_PATH"},
                 {"KEY_FILE", "%D/pw", 0, V, "$KEY_FILE"}},
     .want_reads = 1},
    {.name = "no-file-suffix-no-read",
     .environ = {"KEY_FILE=%D/pw"},
     .files = {{"pw", CANARY}},
     .entries = {{"KEY_FILE", "%D/pw", 0, V, "$KEY_FILE"}}},
    {.name = "file-suffix-deadline-passed",
     .opts = {"file_suffix=_FILE", "include=*"},
     .environ = {"KEY_FILE=%D/pw"},
     .files = {{"pw", CANARY}},
     .deadline = DL_PASSED,
     .want = EI_UNAVAILABLE,
     .want_text = "KEY_FILE: timed out"},
    {.name = "file-suffix-deadline-ahead",
     .opts = {"file_suffix=_FILE", "include=*"},
     .environ = {"KEY_FILE=%D/pw"},
     .files = {{"pw", CANARY}},
     .deadline = DL_LATER,
     .entries = {{"KEY", CANARY, 0, S, "KEY_FILE=%D/pw"},
                 {"KEY_FILE", "", 0, U, "$KEY_FILE"}},
     .want_reads = 1},
    {.name = "sink-fails-first-emit",
     .environ = {"A=1", "B=2"},
     .fail_at = 1,
     .want = EI_INTERNAL,
     .want_text = "failing emit 1"},
    {.name = "sink-fails-later-emit",
     .environ = {"A=1", "B=2", "C=3"},
     .fail_at = 2,
     .want = EI_INTERNAL,
     .want_text = "failing emit 2"},
    {.name = "sink-fails-on-secret",
     .opts = {"file_suffix=_FILE", "include=*"},
     .environ = {"KEY_FILE=%D/pw"},
     .files = {{"pw", CANARY}},
     .fail_at = 1,
     .want = EI_INTERNAL,
     .want_text = "failing emit 1",
     .want_reads = 1},
    {.name = "sink-fails-on-unset",
     .opts = {"file_suffix=_FILE", "include=*"},
     .environ = {"KEY_FILE=%D/pw"},
     .files = {{"pw", CANARY}},
     .fail_at = 2,
     .want = EI_INTERNAL,
     .want_text = "failing emit 2",
     .want_reads = 1},
    {.name = "bad-option-empty-suffix",
     .opts = {"file_suffix="},
     .want_configure = EI_BADCONFIG,
     .want_text = "file_suffix must be one or more of"},
    {.name = "bad-option-dash-suffix",
     .opts = {"file_suffix=-FILE"},
     .want_configure = EI_BADCONFIG,
     .want_text = "file_suffix must be one or more of"},
    {.name = "bad-option-space-suffix",
     .opts = {"file_suffix=_FILE "},
     .want_configure = EI_BADCONFIG,
     .want_text = "(6 bytes given)"},
    {.name = "bad-option-suffix-without-filter",
     .opts = {"file_suffix=_FILE"},
     .want_configure = EI_BADCONFIG,
     .want_text = "file_suffix needs include or prefix"},
    /* an empty prefix starts every name: it selects nothing */
    {.name = "bad-option-suffix-empty-prefix-is-no-filter",
     .opts = {"file_suffix=_FILE", "prefix="},
     .want_configure = EI_BADCONFIG,
     .want_text = "file_suffix needs include or prefix"},
    {.name = "bad-option-suffix-exclude-is-no-filter",
     .opts = {"file_suffix=_FILE", "exclude=SSL_*"},
     .want_configure = EI_BADCONFIG,
     .want_text = "file_suffix needs include or prefix"},
    /* issue 10, item 17: only what the layer selects is read */
    {.name = "file-suffix-include-leaves-others-alone",
     .opts = {"file_suffix=_FILE", "include=DB_PASSWORD"},
     .environ = {"AWS_WEB_IDENTITY_TOKEN_FILE=%D/tok", "DB_PASSWORD_FILE=%D/pw",
                 "SSL_CERT_FILE=%D/nope"},
     .files = {{"pw", CANARY}, {"tok", "jwt"}},
     .entries = {{"AWS_WEB_IDENTITY_TOKEN_FILE", "%D/tok", 0, V,
                  "$AWS_WEB_IDENTITY_TOKEN_FILE"},
                 {"DB_PASSWORD", CANARY, 0, S, "DB_PASSWORD_FILE=%D/pw"},
                 {"DB_PASSWORD_FILE", "", 0, U, "$DB_PASSWORD_FILE"},
                 {"SSL_CERT_FILE", "%D/nope", 0, V, "$SSL_CERT_FILE"}},
     .want_reads = 1,
     .log_has = "SSL_CERT_FILE left as it is: the layer does not select "
                "SSL_CERT"},
    {.name = "file-suffix-prefix-leaves-others-alone",
     .opts = {"file_suffix=_FILE", "prefix=APP_"},
     .environ = {"SSL_CERT_FILE=%D/nope", "COMPOSE_FILE=/nonexistent",
                 "APP_KEY_FILE=%D/pw"},
     .files = {{"pw", CANARY}},
     .entries = {{"SSL_CERT_FILE", "%D/nope", 0, V, "$SSL_CERT_FILE"},
                 {"COMPOSE_FILE", "/nonexistent", 0, V, "$COMPOSE_FILE"},
                 {"APP_KEY", CANARY, 0, S, "APP_KEY_FILE=%D/pw"},
                 {"APP_KEY_FILE", "", 0, U, "$APP_KEY_FILE"}},
     .want_reads = 1},
    {.name = "file-suffix-excluded-target-not-read",
     .opts = {"file_suffix=_FILE", "include=*_PASSWORD", "exclude=ROOT_*"},
     .environ = {"ROOT_PASSWORD_FILE=/etc/shadow", "ROOT_PASSWORD="},
     .entries = {{"ROOT_PASSWORD_FILE", "/etc/shadow", 0, V,
                  "$ROOT_PASSWORD_FILE"},
                 {"ROOT_PASSWORD", "", 0, S, "$ROOT_PASSWORD"}}},
    {.name = "file-suffix-strip-prefix-selects-stripped",
     .opts = {"file_suffix=_FILE", "prefix=APP_", "strip_prefix=true",
              "include=DB"},
     .environ = {"APP_DB_FILE=%D/pw", "APP_OTHER_FILE=%D/pw"},
     .files = {{"pw", CANARY}},
     .entries = {{"APP_DB", CANARY, 0, S, "APP_DB_FILE=%D/pw"},
                 {"APP_DB_FILE", "", 0, U, "$APP_DB_FILE"},
                 {"APP_OTHER_FILE", "%D/pw", 0, V, "$APP_OTHER_FILE"}},
     .want_reads = 1},
    /* issue 10, item 30: credentials by convention are secret */
    {.name = "secret-by-convention",
     .environ = {"VAULT_TOKEN=hvs." CANARY, "GITHUB_TOKEN=ghp_" CANARY,
                 "AWS_SECRET_ACCESS_KEY=" CANARY, "AWS_ACCESS_KEY_ID=AKIA",
                 "DOTENV_PRIVATE_KEY_PRODUCTION=" CANARY,
                 "STRIPE_API_KEY=" CANARY, "DB_PASSWORD=" CANARY, "HOME=/root",
                 "TOKEN_FILE=/x", "LD_SDK_KEY=" CANARY,
                 "AZURE_CLIENT_SECRET=" CANARY, "MY_PRIVATE_KEY=" CANARY},
     .entries = {{"VAULT_TOKEN", "hvs." CANARY, 0, S, "$VAULT_TOKEN"},
                 {"GITHUB_TOKEN", "ghp_" CANARY, 0, S, "$GITHUB_TOKEN"},
                 {"AWS_SECRET_ACCESS_KEY", CANARY, 0, S,
                  "$AWS_SECRET_ACCESS_KEY"},
                 {"AWS_ACCESS_KEY_ID", "AKIA", 0, V, "$AWS_ACCESS_KEY_ID"},
                 {"STRIPE_API_KEY", CANARY, 0, S, "$STRIPE_API_KEY"},
                 {"DB_PASSWORD", CANARY, 0, S, "$DB_PASSWORD"},
                 {"HOME", "/root", 0, V, "$HOME"},
                 {"TOKEN_FILE", "/x", 0, V, "$TOKEN_FILE"},
                 {"LD_SDK_KEY", CANARY, 0, S, "$LD_SDK_KEY"},
                 {"AZURE_CLIENT_SECRET", CANARY, 0, S, "$AZURE_CLIENT_SECRET"},
                 {"MY_PRIVATE_KEY", CANARY, 0, S, "$MY_PRIVATE_KEY"}}},
    /* whatever the case, and the usual names without a prefix too */
    {.name = "secret-by-convention-more-names",
     .environ = {"TF_VAR_db_password=" CANARY,
                 "token=" CANARY,
                 "PASSWORD=" CANARY,
                 "SECRET=" CANARY,
                 "API_KEY=" CANARY,
                 "MINIO_SECRET_ACCESS_KEY=" CANARY,
                 "SECRET_KEY_BASE=" CANARY,
                 "FTP_PASSWD=" CANARY,
                 "SMTP_PASS=" CANARY,
                 "DB_PWD=" CANARY,
                 "SESSION_JWT=" CANARY,
                 "GOOGLE_CREDENTIALS=" CANARY,
                 "NPM_AUTH=" CANARY,
                 "SENTRY_DSN=" CANARY,
                 "DATABASE_URL=" CANARY,
                 "OAUTH_AUTH_URL=https://a",
                 "PWD=/srv",
                 "PASSWORD_FILE=/x",
                 "BYPASS=1",
                 "TOKEN_TTL=60",
                 "AUTH_MODE=oidc"},
     .entries = {{"TF_VAR_db_password", CANARY, 0, S, "$TF_VAR_db_password"},
                 {"token", CANARY, 0, S, "$token"},
                 {"PASSWORD", CANARY, 0, S, "$PASSWORD"},
                 {"SECRET", CANARY, 0, S, "$SECRET"},
                 {"API_KEY", CANARY, 0, S, "$API_KEY"},
                 {"MINIO_SECRET_ACCESS_KEY", CANARY, 0, S,
                  "$MINIO_SECRET_ACCESS_KEY"},
                 {"SECRET_KEY_BASE", CANARY, 0, S, "$SECRET_KEY_BASE"},
                 {"FTP_PASSWD", CANARY, 0, S, "$FTP_PASSWD"},
                 {"SMTP_PASS", CANARY, 0, S, "$SMTP_PASS"},
                 {"DB_PWD", CANARY, 0, S, "$DB_PWD"},
                 {"SESSION_JWT", CANARY, 0, S, "$SESSION_JWT"},
                 {"GOOGLE_CREDENTIALS", CANARY, 0, S, "$GOOGLE_CREDENTIALS"},
                 {"NPM_AUTH", CANARY, 0, S, "$NPM_AUTH"},
                 {"SENTRY_DSN", CANARY, 0, S, "$SENTRY_DSN"},
                 {"DATABASE_URL", CANARY, 0, S, "$DATABASE_URL"},
                 {"OAUTH_AUTH_URL", "https://a", 0, V, "$OAUTH_AUTH_URL"},
                 {"PWD", "/srv", 0, V, "$PWD"},
                 {"PASSWORD_FILE", "/x", 0, V, "$PASSWORD_FILE"},
                 {"BYPASS", "1", 0, V, "$BYPASS"},
                 {"TOKEN_TTL", "60", 0, V, "$TOKEN_TTL"},
                 {"AUTH_MODE", "oidc", 0, V, "$AUTH_MODE"}}},
    {.name = "plain-keys-match-whatever-the-case",
     .opts = {"plain_keys=tf_var_*", "secret_keys=session_*"},
     .environ = {"TF_VAR_db_password=x", "SESSION_ID=" CANARY},
     .entries = {{"TF_VAR_db_password", "x", 0, V, "$TF_VAR_db_password"},
                 {"SESSION_ID", CANARY, 0, S, "$SESSION_ID"}}},
    {.name = "secret-keys-adds-plain-keys-removes",
     .opts = {"secret_keys=SESSION_*", "plain_keys=CI_*", "plain_keys=X_*"},
     .environ = {"SESSION_ID=" CANARY, "CI_JOB_TOKEN=job", "X_TOKEN=x",
                 "Y_TOKEN=" CANARY, "HOME=/root"},
     .entries = {{"SESSION_ID", CANARY, 0, S, "$SESSION_ID"},
                 {"CI_JOB_TOKEN", "job", 0, V, "$CI_JOB_TOKEN"},
                 {"X_TOKEN", "x", 0, V, "$X_TOKEN"},
                 {"Y_TOKEN", CANARY, 0, S, "$Y_TOKEN"},
                 {"HOME", "/root", 0, V, "$HOME"}}},
    {.name = "secret-keys-win-over-plain-keys",
     .opts = {"plain_keys=*", "secret_keys=MINE"},
     .environ = {"VAULT_TOKEN=hvs.x", "MINE=" CANARY},
     .entries = {{"VAULT_TOKEN", "hvs.x", 0, V, "$VAULT_TOKEN"},
                 {"MINE", CANARY, 0, S, "$MINE"}}},
};

#define CASES_N (sizeof cases / sizeof cases[0])

static char tmpdir[PATH_SIZE];

static void make_files(const struct env_case *c, const char *dir)
{
    assert_int_equal(mkdir(dir, 0700), 0);
    for (size_t i = 0; i < FILES_N && c->files[i].name != NULL; i++) {
        const struct file_spec *f = &c->files[i];
        char path[PATH_SIZE];
        int n = snprintf(path, sizeof path, "%s/%s", dir, f->name);
        assert_true(n > 0 && (size_t)n < sizeof path);
        if (f->is_dir) {
            assert_int_equal(mkdir(path, 0700), 0);
            continue;
        }
        size_t len = f->len != 0 ? f->len : strlen(f->content);
        FILE *fp = fopen(path, "wb");
        assert_non_null(fp);
        assert_int_equal(fwrite(f->content, 1, len, fp), len);
        assert_int_equal(fclose(fp), 0);
    }
}

static void check_entries(const struct env_case *c, const struct fake_sink *fs,
                          const char *dir)
{
    size_t want_n = 0;
    while (want_n < WANT_N && c->entries[want_n].name != NULL)
        want_n++;
    assert_int_equal(fs->n, want_n);
    for (size_t i = 0; i < want_n; i++) {
        const struct want_entry *w = &c->entries[i];
        const struct fake_entry *e = &fs->entries[i];
        char *value = expand_dir(w->value, dir);
        char *locator = expand_dir(w->locator, dir);
        size_t len = w->len != 0 ? w->len : strlen(value);
        assert_string_equal(e->name, w->name);
        assert_int_equal(e->name_n, 1);
        assert_int_equal(e->value_len, len);
        assert_memory_equal(e->value, value, len);
        assert_int_equal(e->flags, w->flags);
        assert_non_null(e->locator);
        assert_string_equal(e->locator, locator);
        free(value);
        free(locator);
    }
}

static void test_case(void **state)
{
    const struct env_case *c = *state;
    char dir[PATH_SIZE];
    int n = snprintf(dir, sizeof dir, "%s/%s", tmpdir, c->name);
    assert_true(n > 0 && (size_t)n < sizeof dir);
    make_files(c, dir);

    char *environ_x[ENV_N + 1] = {NULL};
    for (size_t i = 0; i < ENV_N && c->environ[i] != NULL; i++)
        environ_x[i] = expand_dir(c->environ[i], dir);
    struct fake_host *fh =
        fake_host_new(c->opts, (const char *const *)environ_x, dir);
    assert_non_null(fh);
    if (c->max_value_len != 0)
        fake_host_set_max_value_len(fh, c->max_value_len);
    const struct ei_host *h = fake_host_host(fh);

    struct ei_error err = {0};
    void *st = NULL;
    enum ei_status got = ei_provider_env.configure(h, &st, &err);
    assert_int_equal(got, c->want_configure);
    assert_int_equal(err.status, c->want_configure);
    assert_int_equal(fake_host_reads(fh), 0);
    if (got != EI_OK) {
        assert_null(st);
        assert_non_null(strstr(err.text, c->want_text));
        goto done;
    }

    struct fake_sink fs;
    fake_sink_init(&fs);
    fs.fail_at = c->fail_at;
    struct ei_deadline dl;
    fake_deadline(&dl, c->deadline == DL_PASSED ? -1000 : c->deadline);
    got = ei_provider_env.fetch(st, &fs.sink,
                                c->deadline == DL_NONE ? NULL : &dl, &err);
    assert_int_equal(got, c->want);
    assert_int_equal(err.status, c->want);
    assert_false(fs.abi_violation);
    assert_int_equal(fake_host_reads(fh), c->want_reads);
    /* after fetch: the filter options of the core (strip_prefix, exclude)
       are read through key_selected */
    assert_null(fake_host_unused(fh));
    if (got == EI_OK) {
        check_entries(c, &fs, dir);
    } else {
        assert_non_null(strstr(err.text, c->want_text));
        if (c->want_locator != NULL) {
            char *loc = expand_dir(c->want_locator, dir);
            assert_string_equal(err.locator, loc);
            free(loc);
        }
    }
    assert_null(fake_sink_find(&fs, "ENVINJECT_PRIVATE_KEY"));
    if (c->log_has != NULL)
        assert_non_null(strstr(fake_host_log(fh), c->log_has));
    fake_sink_free(&fs);
    ei_provider_env.destroy(st);
done:
    /* no value ever reaches an error text or a log line */
    assert_null(strstr(err.text, CANARY));
    assert_null(strstr(err.locator, CANARY));
    assert_null(strstr(fake_host_log(fh), CANARY));
    fake_host_free(fh);
    for (size_t i = 0; environ_x[i] != NULL; i++)
        free(environ_x[i]);
}

static void test_descriptor(void **state)
{
    const struct ei_provider *p = &ei_provider_env;
    assert_int_equal(p->abi, EI_PROVIDER_ABI);
    assert_int_equal(p->size, sizeof(struct ei_provider));
    assert_string_equal(p->name, "env");
    assert_string_equal(p->summary, "the process environment");
    assert_string_equal(p->arg_option, "prefix");
    assert_int_equal(p->flags, 0);
    assert_non_null(p->configure);
    assert_non_null(p->fetch);
    assert_non_null(p->destroy);
    p->destroy(NULL);
}

/* On an older envinject, whose host table ends before safe_text, the
   provider refuses in configure instead of calling past the table. */
static void test_older_host(void **state)
{
    (void)state;
    struct fake_host *fh = fake_host_new(NULL, NULL, NULL);
    assert_non_null(fh);
    fake_host_set_size(fh, offsetof(struct ei_host, safe_text));
    void *st = NULL;
    struct ei_error err = {0};
    assert_int_equal(ei_provider_env.configure(fake_host_host(fh), &st, &err),
                     EI_BADCONFIG);
    assert_null(st);
    assert_string_equal(err.text, "this provider needs a newer envinject "
                                  "(the host has no safe_text)");
    fake_host_free(fh);
}

/* An option the provider does not know is left unread for the core to
   reject; prefix is the core's, not the provider's. */
static void test_unknown_option_unused(void **state)
{
    const char *opts[] = {"prefix=APP_", NULL};
    struct fake_host *fh = fake_host_new(opts, NULL, NULL);
    assert_non_null(fh);
    void *st = NULL;
    struct ei_error err = {0};
    assert_int_equal(ei_provider_env.configure(fake_host_host(fh), &st, &err),
                     EI_OK);
    const char *unused = fake_host_unused(fh);
    assert_non_null(unused);
    assert_string_equal(unused, "prefix");
    ei_provider_env.destroy(st);
    fake_host_free(fh);
}

/* Every allocation failure ends in EI_NOMEM, without leaks (ASan,
   valgrind), until there are enough allocations to succeed. */
static void test_out_of_memory(void **state)
{
    char dir[PATH_SIZE];
    int n = snprintf(dir, sizeof dir, "%s/oom", tmpdir);
    assert_true(n > 0 && (size_t)n < sizeof dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    char path[PATH_SIZE + 8];
    n = snprintf(path, sizeof path, "%s/pw", dir);
    assert_true(n > 0 && (size_t)n < sizeof path);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fputs(CANARY "\n", fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
    char var[PATH_SIZE + 32];
    n = snprintf(var, sizeof var, "KEY_FILE=%s", path);
    assert_true(n > 0 && (size_t)n < sizeof var);
    const char *env[] = {"A=1", var, "B=2", NULL};
    const char *opts[] = {"file_suffix=_FILE", "include=KEY", NULL};

    bool succeeded = false;
    long failures = 0;
    for (long k = 0; !succeeded && k < 200; k++) {
        struct fake_host *fh = fake_host_new(opts, env, dir);
        assert_non_null(fh);
        struct fake_sink fs;
        fake_sink_init(&fs);
        struct ei_error err = {0};
        void *st = NULL;
        chaos_countdown = k;
        enum ei_status got =
            ei_provider_env.configure(fake_host_host(fh), &st, &err);
        if (got == EI_OK)
            got = ei_provider_env.fetch(st, &fs.sink, NULL, &err);
        chaos_countdown = -1;
        if (got == EI_OK) {
            succeeded = true;
            assert_int_equal(fs.n, 4);
        } else {
            failures++;
            assert_int_equal(got, EI_NOMEM);
            assert_int_equal(err.status, EI_NOMEM);
        }
        fake_sink_free(&fs);
        ei_provider_env.destroy(st);
        fake_host_free(fh);
    }
    assert_true(succeeded);
    assert_true(failures > 0);
}

static int group_setup(void **state)
{
    const char *base = getenv("TMPDIR");
    int n = snprintf(tmpdir, sizeof tmpdir, "%s/test_provider_env.XXXXXX",
                     base != NULL && base[0] != '\0' ? base : "/tmp");
    if (n < 0 || (size_t)n >= sizeof tmpdir || mkdtemp(tmpdir) == NULL)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    char cmd[PATH_SIZE + 16];
    int n = snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (n < 0 || (size_t)n >= sizeof cmd)
        return -1;
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    struct CMUnitTest tests[CASES_N + 4];
    for (size_t i = 0; i < CASES_N; i++) {
        tests[i] =
            (struct CMUnitTest)cmocka_unit_test_prestate(test_case, NULL);
        tests[i].name = cases[i].name;
        tests[i].initial_state = (void *)&cases[i];
    }
    tests[CASES_N] = (struct CMUnitTest)cmocka_unit_test(test_descriptor);
    tests[CASES_N + 1] =
        (struct CMUnitTest)cmocka_unit_test(test_unknown_option_unused);
    tests[CASES_N + 2] =
        (struct CMUnitTest)cmocka_unit_test(test_out_of_memory);
    tests[CASES_N + 3] = (struct CMUnitTest)cmocka_unit_test(test_older_host);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
