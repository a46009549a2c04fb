/* SPDX-License-Identifier: MIT */
/* The aws-secrets provider: AWS Secrets Manager secrets by id, a JSON
   SecretString flattened into keys, any other secret one key. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include <envinject/provider.h>
#include <jansson.h>
#include <sodium.h>

#include "creds.h"
#include "../common/jsonflat.h"
#include "../common/revision.h"

#define SM_BATCH_MAX   20   /* BatchGetSecretValue's SecretIdList limit */
#define SM_IDS_MAX     1000 /* secret ids in one layer */
#define SM_ID_MAX      2048 /* bytes of a name or ARN */
#define SM_STAGE_MAX   256
#define SM_KEY_MAX     1024
#define SM_PAGES_MAX   1000 /* pages of one batch: a loop, not data */
#define SM_LOCATOR_MAX 256
#define SM_ARN_SUFFIX  7 /* "-" and six random characters */

static const struct ei_aws_service sm_service = {
    "secretsmanager", "secretsmanager.", "AWS_ENDPOINT_URL_SECRETS_MANAGER"};

struct sm_state {
    const struct ei_host *host;
    struct ei_aws *aws;
    const char *const *ids;
    size_t ids_n;
    const char *arg_ids[2];
    const char *key;   /* key_name: the key of a plain or binary secret */
    const char *stage; /* VersionStage, or NULL */
    bool binary_base64;
};

/* What jsonflat's callback forwards to the sink. */
struct sm_emit {
    struct ei_sink *sink;
    const char *locator;
};

static bool sm_text_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < ' ' || s[i] == 0x7f)
            return false;
    return true;
}

static bool sm_key_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > SM_KEY_MAX || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static void sm_destroy(void *state)
{
    struct sm_state *st = state;
    if (st == NULL)
        return;
    ei_aws_close(st->aws);
    free(st);
}

static enum ei_status sm_configure(const struct ei_host *host, void **statep,
                                   struct ei_error *err)
{
    *statep = NULL;
    struct sm_state *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return host->error(host, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    st->host = host;
    enum ei_status status = EI_OK;
    int rc = host->opt_list(host, "secret_id", &st->ids, &st->ids_n, err);
    if (rc < 0) {
        status = ei_error_status(err, EI_BADCONFIG);
        goto fail;
    }
    if (rc == 0 && host->arg(host) != NULL) {
        /* a host that does not serve the ARG of --layer aws-secrets:ID
           through the getters */
        st->arg_ids[0] = host->arg(host);
        st->ids = st->arg_ids;
        st->ids_n = 1;
        rc = 1;
    }
    /* a layer made for references names its secrets in each of them */
    bool refs_only = rc == 0 && EI_HOST_HAS(host, references_only) &&
                     host->references_only(host);
    if (rc == 0 && !refs_only) {
        status = host->error(host, err, EI_BADCONFIG, 0, "secret_id",
                             "option secret_id is required");
        goto fail;
    }
    if (!refs_only && (st->ids_n == 0 || st->ids_n > SM_IDS_MAX)) {
        status = host->error(host, err, EI_BADCONFIG, 0, "secret_id",
                             "secret_id must list 1 to %d secrets", SM_IDS_MAX);
        goto fail;
    }
    for (size_t i = 0; i < st->ids_n; i++) {
        if (!sm_text_ok(st->ids[i], SM_ID_MAX)) {
            status = host->error(host, err, EI_BADCONFIG, 0, "secret_id",
                                 "secret_id %zu is empty, longer than %d "
                                 "bytes or holds a control character",
                                 i + 1, SM_ID_MAX);
            goto fail;
        }
        for (size_t k = 0; k < i; k++)
            if (strcmp(st->ids[i], st->ids[k]) == 0) {
                status = host->error(host, err, EI_BADCONFIG, 0, st->ids[i],
                                     "secret_id lists this secret twice");
                goto fail;
            }
    }
    rc = host->opt_string(host, "key_name", &st->key, err);
    if (rc < 0) {
        status = ei_error_status(err, EI_BADCONFIG);
        goto fail;
    }
    if (rc > 0 && !sm_key_ok(st->key)) {
        status = host->error(host, err, EI_BADCONFIG, 0, "key_name",
                             "key_name must be a variable name ([A-Za-z_]"
                             "[A-Za-z0-9_]*)");
        goto fail;
    }
    rc = host->opt_string(host, "version_stage", &st->stage, err);
    if (rc < 0) {
        status = ei_error_status(err, EI_BADCONFIG);
        goto fail;
    }
    if (rc > 0 && !sm_text_ok(st->stage, SM_STAGE_MAX)) {
        status = host->error(host, err, EI_BADCONFIG, 0, "version_stage",
                             "version_stage must be 1 to %d printable bytes",
                             SM_STAGE_MAX);
        goto fail;
    }
    const char *binary = NULL;
    rc = host->opt_string(host, "binary", &binary, err);
    if (rc < 0) {
        status = ei_error_status(err, EI_BADCONFIG);
        goto fail;
    }
    if (rc > 0) {
        if (strcmp(binary, "base64") == 0) {
            st->binary_base64 = true;
        } else if (strcmp(binary, "refuse") != 0) {
            status = host->error(host, err, EI_BADCONFIG, 0, "binary",
                                 "binary must be \"refuse\" or \"base64\"");
            goto fail;
        }
    }
    status = ei_aws_open(host, &sm_service, &st->aws, err);
    if (status != EI_OK)
        goto fail;
    *statep = st;
    return EI_OK;
fail:
    sm_destroy(st);
    return status;
}

/* One fetch. */
struct sm_run {
    struct sm_state *st;
    struct ei_sink *sink;
    const struct ei_deadline *dl;
    const char *plain_id; /* the secret that took key, or NULL */
    /* the revision: "VersionId/STAGE" of the one secret, or the SHA-256
       of "id=VersionId/STAGE" lines in the order of secret_id */
    crypto_hash_sha256_state rev;
    char rev_one[EI_REVISION_MAX + 1];
    size_t revs; /* secrets counted; SIZE_MAX once one had no VersionId */
};

static int sm_forward(void *ctx, const char *const *name, size_t name_n,
                      const char *value, size_t value_len, int line,
                      unsigned flags, struct ei_error *err)
{
    struct sm_emit *e = ctx;
    return e->sink->emit(e->sink, name, name_n, value, value_len, e->locator,
                         flags, err);
}

static const char *sm_json_str(const json_t *o, const char *name)
{
    json_t *v = json_object_get(o, name);
    return json_is_string(v) && json_string_value(v)[0] != '\0'
               ? json_string_value(v)
               : NULL;
}

/* A secret that is not a JSON object: one key, named by key_name or by
   the last part of the secret's name.  (Not "key", which the HTTP engine
   reads as the TLS client key of every remote layer.) */
static enum ei_status sm_emit_plain(struct sm_run *r, const char *id,
                                    const char *name, const char *value,
                                    size_t len, const char *locator,
                                    struct ei_error *err)
{
    struct sm_state *st = r->st;
    const struct ei_host *h = st->host;
    const char *seg;
    unsigned flags = 0;
    if (st->key != NULL) {
        if (r->plain_id != NULL)
            return h->error(h, err, EI_BADCONFIG, 0, id,
                            "key_name names one variable, but this secret and "
                            "%.100s both are plain strings (list them in "
                            "layers of their own)",
                            r->plain_id);
        r->plain_id = id;
        seg = st->key;
        flags = EI_ENTRY_VERBATIM;
    } else {
        const char *slash = strrchr(name, '/');
        seg = slash != NULL ? slash + 1 : name;
        if (seg[0] == '\0')
            return h->error(h, err, EI_BADCONFIG, 0, id,
                            "the secret's name ends with '/': set key_name "
                            "to name its variable");
    }
    const char *segs[] = {seg};
    if (r->sink->emit(r->sink, segs, 1, value, len, locator, flags, err) < 0)
        return ei_error_status(err, EI_INTERNAL);
    return EI_OK;
}

static enum ei_status sm_check_base64(const struct ei_host *h, const char *v,
                                      size_t n, const char *id,
                                      struct ei_error *err)
{
    size_t cap = n / 4 * 3 + 3;
    unsigned char *bin = h->secret_alloc(h, cap);
    if (bin == NULL)
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    size_t bin_len = 0;
    const char *end = NULL;
    int rc = sodium_base642bin(bin, cap, v, n, NULL, &bin_len, &end,
                               sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(bin, cap);
    h->secret_free(h, bin, cap);
    if (rc != 0 || end != v + n)
        return h->error(h, err, EI_BADDATA, 0, id,
                        "malformed SecretBinary (%zu bytes, not base64)", n);
    return EI_OK;
}

/* Count the version of one secret into the layer's revision. */
static void sm_revision_add(struct sm_run *r, const char *id,
                            const json_t *entry)
{
    const char *version = sm_json_str(entry, "VersionId");
    const json_t *stages = json_object_get(entry, "VersionStages");
    const char *stage = json_string_value(json_array_get(stages, 0));
    if (r->revs == SIZE_MAX)
        return;
    if (version == NULL) {
        r->revs = SIZE_MAX;
        return;
    }
    if (r->revs++ == 0)
        crypto_hash_sha256_init(&r->rev);
    snprintf(r->rev_one, sizeof(r->rev_one), "%s%s%s", version,
             stage != NULL ? "/" : "", stage != NULL ? stage : "");
    crypto_hash_sha256_update(&r->rev, (const unsigned char *)id, strlen(id));
    crypto_hash_sha256_update(&r->rev, (const unsigned char *)"=", 1);
    crypto_hash_sha256_update(&r->rev, (const unsigned char *)r->rev_one,
                              strlen(r->rev_one));
    crypto_hash_sha256_update(&r->rev, (const unsigned char *)"\n", 1);
}

/* Emit one secret of a GetSecretValue or BatchGetSecretValue answer. */
static enum ei_status sm_emit_entry(struct sm_run *r, const char *id,
                                    const json_t *entry, struct ei_error *err)
{
    const struct ei_host *h = r->st->host;
    const char *name = sm_json_str(entry, "Name");
    if (name == NULL)
        name = id;
    const char *version = sm_json_str(entry, "VersionId");
    sm_revision_add(r, id, entry);
    /* name and version come from the answer: made safe for messages */
    char raw[SM_LOCATOR_MAX], locator[SM_LOCATOR_MAX], what[SM_LOCATOR_MAX];
    h->safe_text(h, what, sizeof(what), name, strlen(name), 0);
    int rn = snprintf(raw, sizeof(raw), "%s%s%s", name, version ? "@" : "",
                      version ? version : "");
    h->safe_text(h, locator, sizeof(locator), raw,
                 rn < 0                     ? 0
                 : (size_t)rn < sizeof(raw) ? (size_t)rn
                                            : sizeof(raw) - 1,
                 0);
    json_t *ss = json_object_get(entry, "SecretString");
    json_t *sb = json_object_get(entry, "SecretBinary");
    if (json_is_string(ss)) {
        const char *v = json_string_value(ss);
        size_t n = json_string_length(ss), i = 0;
        while (i < n &&
               (v[i] == ' ' || v[i] == '\t' || v[i] == '\n' || v[i] == '\r'))
            i++;
        if (i < n && v[i] == '{') {
            struct sm_emit e = {r->sink, locator};
            return ei_jsonflat_parse(v, n, what, sm_forward, &e, err);
        }
        return sm_emit_plain(r, id, name, v, n, locator, err);
    }
    if (json_is_string(sb)) {
        const char *v = json_string_value(sb);
        size_t n = json_string_length(sb);
        if (!r->st->binary_base64)
            return h->error(h, err, EI_BADCONFIG, 0, id,
                            "the secret is binary: set binary = \"base64\" "
                            "to receive it base64-encoded");
        enum ei_status st = sm_check_base64(h, v, n, id, err);
        if (st != EI_OK)
            return st;
        return sm_emit_plain(r, id, name, v, n, locator, err);
    }
    return h->error(h, err, EI_BADDATA, 0, id,
                    "the answer holds neither SecretString nor SecretBinary");
}

/* A JSON request body; NULL when out of memory or the ids are not UTF-8. */
static char *sm_body(json_t *req)
{
    char *body = ei_json_dumps(req, JSON_COMPACT, NULL);
    json_decref(req);
    return body;
}

static enum ei_status sm_body_error(const struct ei_host *h, const char *id,
                                    struct ei_error *err)
{
    return h->error(h, err, EI_BADCONFIG, 0, id,
                    "cannot build the request (is the secret id UTF-8?)");
}

static json_t *sm_answer(const struct ei_host *h,
                         const struct ei_http_response *resp,
                         const char *operation, const char *locator,
                         struct ei_error *err)
{
    json_error_t je;
    json_t *doc = json_loadb(resp->body, resp->body_len, 0, &je);
    if (json_is_object(doc))
        return doc;
    if (doc == NULL)
        h->error(h, err, EI_BADDATA, 0, locator,
                 "malformed %s answer (JSON error at line %d, column %d)",
                 operation, je.line, je.column);
    else
        h->error(h, err, EI_BADDATA, 0, locator,
                 "malformed %s answer (not a JSON object)", operation);
    json_decref(doc);
    return NULL;
}

/* GetSecretValue of id (at stage, or version, when not NULL): the answer
   in *doc, the caller's to json_decref. */
static enum ei_status sm_call_get(struct sm_state *st, const char *id,
                                  const char *stage, const char *version,
                                  const struct ei_deadline *dl, json_t **doc,
                                  struct ei_error *err)
{
    const struct ei_host *h = st->host;
    *doc = NULL;
    json_t *req = json_object();
    if (req == NULL ||
        json_object_set_new(req, "SecretId", json_string(id)) != 0 ||
        (stage != NULL &&
         json_object_set_new(req, "VersionStage", json_string(stage)) != 0) ||
        (version != NULL &&
         json_object_set_new(req, "VersionId", json_string(version)) != 0)) {
        json_decref(req);
        return sm_body_error(h, id, err);
    }
    char *body = sm_body(req);
    if (body == NULL)
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    struct ei_http_response resp;
    enum ei_status s = ei_aws_call(st->aws, "GetSecretValue", body,
                                   strlen(body), true, id, dl, &resp, err);
    sodium_memzero(body, strlen(body)); /* as jansson's free did */
    free(body);
    if (s != EI_OK)
        return s;
    *doc = sm_answer(h, &resp, "GetSecretValue", id, err);
    ei_aws_response_free(st->aws, &resp);
    return *doc == NULL ? ei_error_status(err, EI_BADDATA) : EI_OK;
}

static enum ei_status sm_get_one(struct sm_run *r, const char *id,
                                 struct ei_error *err)
{
    json_t *doc = NULL;
    enum ei_status s =
        sm_call_get(r->st, id, r->st->stage, NULL, r->dl, &doc, err);
    if (s != EI_OK)
        return s;
    s = sm_emit_entry(r, id, doc, err);
    json_decref(doc);
    return s;
}

/* Whether an answer's Name or ARN is the secret id asked for: the name,
   the full ARN, or the ARN without the six random characters AWS adds. */
static bool sm_match(const char *id, const char *name, const char *arn)
{
    if ((name != NULL && strcmp(id, name) == 0) ||
        (arn != NULL && strcmp(id, arn) == 0))
        return true;
    size_t n = strlen(id);
    return arn != NULL && strncmp(id, "arn:", 4) == 0 &&
           strncmp(arn, id, n) == 0 && strlen(arn) == n + SM_ARN_SUFFIX &&
           arn[n] == '-';
}

struct sm_slot {
    json_t *value; /* a SecretValues entry */
    json_t *error; /* an Errors entry */
};

/* One BatchGetSecretValue page for ids [start, start + n). */
static enum ei_status sm_batch_page(struct sm_run *r, size_t start, size_t n,
                                    struct sm_slot *slots, char **token,
                                    const char *locator, struct ei_error *err)
{
    struct sm_state *st = r->st;
    const struct ei_host *h = st->host;
    json_t *req = json_object(), *list = json_array();
    bool ok = req != NULL && list != NULL &&
              json_object_set(req, "SecretIdList", list) == 0;
    for (size_t i = 0; ok && i < n; i++)
        ok = json_array_append_new(list, json_string(st->ids[start + i])) == 0;
    if (ok && *token != NULL)
        ok = json_object_set_new(req, "NextToken", json_string(*token)) == 0;
    json_decref(list);
    if (!ok) {
        json_decref(req);
        return sm_body_error(h, locator, err);
    }
    char *body = sm_body(req);
    free(*token);
    *token = NULL;
    if (body == NULL)
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    struct ei_http_response resp;
    enum ei_status s =
        ei_aws_call(st->aws, "BatchGetSecretValue", body, strlen(body), true,
                    locator, r->dl, &resp, err);
    sodium_memzero(body, strlen(body)); /* as jansson's free did */
    free(body);
    if (s != EI_OK)
        return s;
    json_t *doc = sm_answer(h, &resp, "BatchGetSecretValue", locator, err);
    ei_aws_response_free(st->aws, &resp);
    if (doc == NULL)
        return ei_error_status(err, EI_BADDATA);

    json_t *values = json_object_get(doc, "SecretValues");
    json_t *errors = json_object_get(doc, "Errors");
    json_t *next = json_object_get(doc, "NextToken");
    if ((values != NULL && !json_is_array(values)) ||
        (errors != NULL && !json_is_array(errors)) ||
        (next != NULL && !json_is_string(next) && !json_is_null(next))) {
        json_decref(doc);
        return h->error(h, err, EI_BADDATA, 0, locator,
                        "malformed BatchGetSecretValue answer (SecretValues, "
                        "Errors or NextToken of the wrong type)");
    }
    size_t i;
    json_t *e;
    json_array_foreach(values, i, e)
    {
        const char *name = sm_json_str(e, "Name");
        const char *arn = sm_json_str(e, "ARN");
        for (size_t k = 0; k < n; k++)
            if (slots[start + k].value == NULL &&
                sm_match(st->ids[start + k], name, arn)) {
                slots[start + k].value = json_incref(e);
                break;
            }
    }
    json_array_foreach(errors, i, e)
    {
        const char *sid = sm_json_str(e, "SecretId");
        for (size_t k = 0; sid != NULL && k < n; k++)
            if (slots[start + k].error == NULL &&
                sm_match(st->ids[start + k], sid, sid)) {
                slots[start + k].error = json_incref(e);
                break;
            }
    }
    if (json_is_string(next) && json_string_value(next)[0] != '\0') {
        *token = strdup(json_string_value(next));
        if (*token == NULL) {
            json_decref(doc);
            return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
        }
    }
    json_decref(doc);
    return EI_OK;
}

/* The error of one secret in a batch answer. */
static enum ei_status sm_slot_error(struct sm_run *r, const char *id,
                                    const json_t *e, struct ei_error *err)
{
    const char *code = sm_json_str(e, "ErrorCode");
    char clean[EI_AWS_CODE_LEN] = "unknown error";
    size_t n = code != NULL ? strlen(code) : 0;
    bool ok = n > 0 && n < sizeof(clean);
    for (size_t i = 0; ok && i < n; i++)
        ok = (code[i] >= 'A' && code[i] <= 'Z') ||
             (code[i] >= 'a' && code[i] <= 'z') ||
             (code[i] >= '0' && code[i] <= '9') || code[i] == '_' ||
             code[i] == '.' || code[i] == '-';
    if (ok)
        memcpy(clean, code, n + 1);
    return ei_aws_fail(r->st->aws, clean, 0, sm_json_str(e, "Message"), id,
                       err);
}

static enum ei_status sm_batch(struct sm_run *r, struct ei_error *err)
{
    struct sm_state *st = r->st;
    const struct ei_host *h = st->host;
    struct sm_slot *slots = calloc(st->ids_n, sizeof(*slots));
    if (slots == NULL)
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    enum ei_status s = EI_OK;
    char *token = NULL;
    for (size_t start = 0; s == EI_OK && start < st->ids_n;
         start += SM_BATCH_MAX) {
        size_t n = st->ids_n - start;
        if (n > SM_BATCH_MAX)
            n = SM_BATCH_MAX;
        char locator[SM_LOCATOR_MAX];
        if (n == 1)
            snprintf(locator, sizeof(locator), "%.200s", st->ids[start]);
        else
            snprintf(locator, sizeof(locator), "%.200s and %zu more",
                     st->ids[start], n - 1);
        for (size_t page = 0; s == EI_OK; page++) {
            if (page == SM_PAGES_MAX) {
                s = h->error(h, err, EI_BADDATA, 0, locator,
                             "BatchGetSecretValue pagination does not end "
                             "(%d pages)",
                             SM_PAGES_MAX);
                break;
            }
            s = sm_batch_page(r, start, n, slots, &token, locator, err);
            if (token == NULL)
                break;
        }
    }
    free(token);
    /* report in the order of secret_id, whatever order AWS answered in */
    for (size_t i = 0; s == EI_OK && i < st->ids_n; i++) {
        if (slots[i].value == NULL && slots[i].error != NULL)
            s = sm_slot_error(r, st->ids[i], slots[i].error, err);
        else if (slots[i].value == NULL)
            s = h->error(h, err, EI_BADDATA, 0, st->ids[i],
                         "BatchGetSecretValue answered nothing for this "
                         "secret");
    }
    for (size_t i = 0; s == EI_OK && i < st->ids_n; i++)
        s = sm_emit_entry(r, st->ids[i], slots[i].value, err);
    for (size_t i = 0; i < st->ids_n; i++) {
        json_decref(slots[i].value);
        json_decref(slots[i].error);
    }
    free(slots);
    return s;
}

/* Report the revision of a fetch that ended with s; returns s. */
static enum ei_status sm_revision_report(struct sm_run *r, enum ei_status s)
{
    const struct ei_host *h = r->st->host;
    if (s == EI_OK && r->revs == 1)
        ei_revision_report(h, r->rev_one);
    else if (s == EI_OK && r->revs > 1 && r->revs != SIZE_MAX)
        ei_revision_report_sha256(h, &r->rev);
    return s;
}

static enum ei_status sm_fetch(void *state, struct ei_sink *sink,
                               const struct ei_deadline *dl,
                               struct ei_error *err)
{
    struct sm_state *st = state;
    struct sm_run r = {.st = st, .sink = sink, .dl = dl};
    /* BatchGetSecretValue knows no VersionStage: with one, ask one by one */
    if (st->ids_n > 1 && st->stage == NULL)
        return sm_revision_report(&r, sm_batch(&r, err));
    enum ei_status s = EI_OK;
    for (size_t i = 0; s == EI_OK && i < st->ids_n; i++)
        s = sm_get_one(&r, st->ids[i], err);
    return sm_revision_report(&r, s);
}

/* ---- references: ref+awssecrets://ID[?version_stage=S&version_id=V] ---- */

/* One NAME=VALUE of a reference's query into out; -1 when it is not one
   of the two vals knows, or its value is empty, too long or encoded. */
static int sm_ref_param(const char *p, size_t n, const char **stage,
                        const char **version, char *buf, size_t buf_len)
{
    const char *eq = memchr(p, '=', n);
    if (eq == NULL || eq == p + n - 1 || (size_t)(p + n - eq) > buf_len ||
        memchr(p, '%', n) != NULL)
        return -1;
    size_t k = (size_t)(eq - p), vlen = (size_t)(p + n - eq - 1);
    memcpy(buf, eq + 1, vlen);
    buf[vlen] = '\0';
    if (k == strlen("version_stage") && memcmp(p, "version_stage", k) == 0)
        *stage = buf;
    else if (k == strlen("version_id") && memcmp(p, "version_id", k) == 0)
        *version = buf;
    else
        return -1;
    return 0;
}

/*
 * The SecretString of one secret, as it is (the core picks a #fragment
 * out of its JSON); a binary secret is refused, as the layer refuses it
 * without binary = "base64".
 */
static enum ei_status sm_lookup(void *state, const char *ref,
                                struct ei_sink *sink,
                                const struct ei_deadline *dl,
                                struct ei_error *err)
{
    static const char head[] = "ref+aws-secrets://";
    struct sm_state *st = state;
    const struct ei_host *h = st->host;
    if (strncmp(ref, head, sizeof(head) - 1) != 0)
        return h->error(h, err, EI_BADDATA, 0, "reference",
                        "not a ref+awssecrets:// reference");
    const char *p = ref + sizeof(head) - 1;
    const char *q = strchr(p, '?');
    size_t id_len = q != NULL ? (size_t)(q - p) : strlen(p);
    char id[SM_ID_MAX + 1];
    if (id_len == 0 || id_len > SM_ID_MAX)
        return h->error(h, err, EI_BADDATA, 0, "reference",
                        "the secret id is empty or longer than %d bytes",
                        SM_ID_MAX);
    memcpy(id, p, id_len);
    id[id_len] = '\0';
    const char *stage = st->stage, *version = NULL;
    char stage_buf[SM_STAGE_MAX + 1], version_buf[SM_ID_MAX + 1];
    for (const char *a = q != NULL ? q + 1 : NULL; a != NULL;) {
        const char *amp = strchr(a, '&');
        size_t n = amp != NULL ? (size_t)(amp - a) : strlen(a);
        bool is_stage = strncmp(a, "version_stage=", 14) == 0;
        if (sm_ref_param(a, n, &stage, &version,
                         is_stage ? stage_buf : version_buf,
                         is_stage ? sizeof(stage_buf)
                                  : sizeof(version_buf)) < 0)
            return h->error(h, err, EI_BADDATA, 0, "reference",
                            "query parameters: region, version_stage and "
                            "version_id, each with a plain value");
        a = amp != NULL ? amp + 1 : NULL;
    }
    json_t *doc = NULL;
    enum ei_status s = sm_call_get(st, id, stage, version, dl, &doc, err);
    if (s != EI_OK)
        return s;
    const char *name = sm_json_str(doc, "Name");
    const char *ver = sm_json_str(doc, "VersionId");
    char raw[SM_LOCATOR_MAX], locator[SM_LOCATOR_MAX];
    int rn = snprintf(raw, sizeof(raw), "%s%s%s", name != NULL ? name : id,
                      ver != NULL ? "@" : "", ver != NULL ? ver : "");
    h->safe_text(h, locator, sizeof(locator), raw,
                 rn < 0                     ? 0
                 : (size_t)rn < sizeof(raw) ? (size_t)rn
                                            : sizeof(raw) - 1,
                 0);
    json_t *ss = json_object_get(doc, "SecretString");
    if (json_is_string(ss)) {
        const char *segs[] = {"value"};
        s = sink->emit(sink, segs, 1, json_string_value(ss),
                       json_string_length(ss), locator, EI_ENTRY_SECRET, err) <
                    0
                ? ei_error_status(err, EI_INTERNAL)
                : EI_OK;
    } else {
        s = h->error(h, err, EI_BADDATA, 0, id,
                     "the secret is binary: a reference takes SecretString "
                     "secrets only");
    }
    json_decref(doc);
    return s;
}

EI_PROVIDER_DEFINE(aws_secrets) = {
    .abi = EI_PROVIDER_ABI,
    .size = sizeof(struct ei_provider),
    .name = "aws-secrets",
    .summary = "AWS Secrets Manager secrets (SecretString JSON as keys)",
    .arg_option = "secret_id",
    .flags = EI_PROV_REMOTE | EI_PROV_SECRET,
    .configure = sm_configure,
    .fetch = sm_fetch,
    .lookup = sm_lookup,
    .destroy = sm_destroy,
};
