/* SPDX-License-Identifier: MIT */
/* The aws-ssm provider: every parameter of an SSM Parameter Store path,
   named by its name below the path; SecureString values secret. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <envinject/provider.h>
#include <jansson.h>
#include <sodium.h>

#include "creds.h"
#include "../common/jsonflat.h"
#include "../common/revision.h"

#define SSM_PATH_MAX  2048
#define SSM_DEPTH_MAX 15 /* levels SSM allows in a name */
#define SSM_PAGE_SIZE 10 /* GetParametersByPath's largest MaxResults */
#define SSM_PAGES_MAX 100000
/* how much of a parameter name messages and origins show */
#define SSM_NAME_SHOWN  2048
#define SSM_LOCATOR_MAX 2100

static const struct ei_aws_service ssm_service = {"ssm", "AmazonSSM.",
                                                  "AWS_ENDPOINT_URL_SSM"};

struct ssm_state {
    long long max_version; /* the highest Version of a fetch: its revision */
    const struct ei_host *host;
    struct ei_aws *aws;
    char *path; /* without a trailing '/', except "/" itself */
    bool recursive;
    bool decrypt;
};

static void ssm_destroy(void *state)
{
    struct ssm_state *st = state;
    if (st == NULL)
        return;
    ei_aws_close(st->aws);
    free(st->path);
    free(st);
}

static enum ei_status ssm_configure(const struct ei_host *host, void **statep,
                                    struct ei_error *err)
{
    *statep = NULL;
    struct ssm_state *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return host->error(host, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    st->host = host;
    st->decrypt = true;
    enum ei_status status = EI_OK;
    const char *path = NULL;
    int rc = host->opt_string(host, "path", &path, err);
    if (rc < 0) {
        status = ei_error_status(err, EI_BADCONFIG);
        goto fail;
    }
    if (rc == 0)
        path = host->arg(host);
    /* a layer made for references names its parameters in each of them */
    bool refs_only = path == NULL && EI_HOST_HAS(host, references_only) &&
                     host->references_only(host);
    if (path == NULL && !refs_only) {
        status = host->error(host, err, EI_BADCONFIG, 0, "path",
                             "option path is required");
        goto fail;
    }
    size_t n = refs_only ? 1 : strlen(path);
    if (refs_only)
        path = "/";
    bool ok = n > 0 && n <= SSM_PATH_MAX && path[0] == '/';
    for (size_t i = 0; ok && i < n; i++)
        ok = (unsigned char)path[i] > ' ' && path[i] != 0x7f &&
             !(path[i] == '/' && i > 0 && path[i - 1] == '/');
    if (!ok) {
        status = host->error(host, err, EI_BADCONFIG, 0, "path",
                             "path must start with '/', hold no blank, "
                             "control character or \"//\", and have at most "
                             "%d bytes",
                             SSM_PATH_MAX);
        goto fail;
    }
    while (n > 1 && path[n - 1] == '/')
        n--;
    st->path = strndup(path, n);
    if (st->path == NULL) {
        status =
            host->error(host, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
        goto fail;
    }
    if (host->opt_bool(host, "recursive", &st->recursive, err) < 0 ||
        host->opt_bool(host, "with_decryption", &st->decrypt, err) < 0) {
        status = ei_error_status(err, EI_BADCONFIG);
        goto fail;
    }
    status = ei_aws_open(host, &ssm_service, &st->aws, err);
    if (status != EI_OK)
        goto fail;
    *statep = st;
    return EI_OK;
fail:
    ssm_destroy(st);
    return status;
}

/* "NAME:VERSION" of a parameter whose name is shown, or NAME alone. */
static void ssm_locator(char *out, size_t size, const char *shown,
                        const json_t *jversion)
{
    if (json_is_integer(jversion))
        snprintf(out, size, "%s:%lld", shown,
                 (long long)json_integer_value(jversion));
    else
        snprintf(out, size, "%s", shown);
}

/* A String is plain unless the layer says secret = true; a type we do
   not know keeps the layer's default, which is secret. */
static unsigned ssm_flags(const json_t *jtype)
{
    const char *type = jtype != NULL ? json_string_value(jtype) : "";
    return strcmp(type, "SecureString") == 0 ? EI_ENTRY_SECRET
           : strcmp(type, "String") == 0 || strcmp(type, "StringList") == 0
               ? EI_ENTRY_PLAIN
               : 0;
}

/*
 * One call of the SSM API: req (taken) as its body, wiped once sent,
 * the answer as JSON in *doc.  what names the text of req in the error
 * of a request that cannot be written.
 */
static enum ei_status ssm_call(struct ssm_state *st, const char *op,
                               json_t *req, const char *what,
                               const char *subject,
                               const struct ei_deadline *dl, json_t **doc,
                               struct ei_error *err)
{
    const struct ei_host *h = st->host;
    *doc = NULL;
    char *body = ei_json_dumps(req, JSON_COMPACT, NULL);
    json_decref(req);
    if (body == NULL)
        return h->error(h, err, EI_BADCONFIG, 0, subject,
                        "cannot build the request (is the %s UTF-8?)", what);
    struct ei_http_response resp;
    enum ei_status s = ei_aws_call(st->aws, op, body, strlen(body), true,
                                   subject, dl, &resp, err);
    sodium_memzero(body, strlen(body)); /* as jansson's free did */
    free(body);
    if (s != EI_OK)
        return s;
    json_error_t je;
    *doc = json_loadb(resp.body, resp.body_len, 0, &je);
    ei_aws_response_free(st->aws, &resp);
    if (*doc == NULL)
        return h->error(h, err, EI_BADDATA, 0, subject,
                        "malformed %s answer (JSON error at line %d, column "
                        "%d)",
                        op, je.line, je.column);
    return EI_OK;
}

/* Emit one parameter, named by the part of its name below the path. */
static enum ei_status ssm_emit(struct ssm_state *st, struct ei_sink *sink,
                               const json_t *p, struct ei_error *err)
{
    const struct ei_host *h = st->host;
    json_t *jname = json_object_get(p, "Name");
    json_t *jtype = json_object_get(p, "Type");
    json_t *jvalue = json_object_get(p, "Value");
    json_t *jversion = json_object_get(p, "Version");
    if (json_is_integer(jversion) &&
        json_integer_value(jversion) > st->max_version)
        st->max_version = json_integer_value(jversion);
    if (!json_is_string(jname) || !json_is_string(jvalue) ||
        (jtype != NULL && !json_is_string(jtype)))
        return h->error(h, err, EI_BADDATA, 0, st->path,
                        "malformed GetParametersByPath answer (a parameter "
                        "without Name or Value)");
    const char *name = json_string_value(jname);
    size_t plen = strlen(st->path);
    const char *rel;
    if (strcmp(st->path, "/") == 0)
        rel = name[0] == '/' ? name + 1 : name;
    else if (strncmp(name, st->path, plen) == 0 && name[plen] == '/')
        rel = name + plen + 1;
    else
        rel = NULL;
    /* the name as messages and origins show it: a server's text, so
       control bytes become '?' (a newline would forge a line) */
    char shown[SSM_NAME_SHOWN + EI_TEXT_EXTRA];
    h->safe_text(h, shown, sizeof(shown), name, strlen(name), 0);
    if (rel == NULL)
        return h->error(h, err, EI_BADDATA, 0, st->path,
                        "the answer holds a parameter outside the path "
                        "(%.100s)",
                        shown);

    char locator[SSM_LOCATOR_MAX];
    ssm_locator(locator, sizeof(locator), shown, jversion);

    size_t rlen = strlen(rel);
    char *copy = malloc(rlen + 1);
    if (copy == NULL)
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    memcpy(copy, rel, rlen + 1);
    const char *segs[SSM_DEPTH_MAX];
    size_t segs_n = 0;
    enum ei_status s = EI_OK;
    for (char *q = copy, *slash; q != NULL; q = slash) {
        slash = strchr(q, '/');
        if (slash != NULL)
            *slash++ = '\0';
        if (q[0] == '\0')
            continue;
        if (segs_n == SSM_DEPTH_MAX) {
            s = h->error(h, err, EI_BADDATA, 0, locator,
                         "parameter name deeper than %d levels", SSM_DEPTH_MAX);
            break;
        }
        segs[segs_n++] = q;
    }
    if (s == EI_OK && segs_n == 0)
        s = h->error(h, err, EI_BADDATA, 0, locator,
                     "parameter name is the path itself");
    if (s == EI_OK &&
        sink->emit(sink, segs, segs_n, json_string_value(jvalue),
                   json_string_length(jvalue), locator, ssm_flags(jtype),
                   err) < 0)
        s = ei_error_status(err, EI_INTERNAL);
    free(copy);
    return s;
}

static enum ei_status ssm_page(struct ssm_state *st, struct ei_sink *sink,
                               const struct ei_deadline *dl, char **token,
                               struct ei_error *err)
{
    const struct ei_host *h = st->host;
    json_t *req = json_pack("{s:s, s:b, s:b, s:i}", "Path", st->path,
                            "Recursive", (int)st->recursive, "WithDecryption",
                            (int)st->decrypt, "MaxResults", SSM_PAGE_SIZE);
    if (req != NULL && *token != NULL &&
        json_object_set_new(req, "NextToken", json_string(*token)) != 0) {
        json_decref(req);
        req = NULL;
    }
    json_t *doc = NULL;
    enum ei_status s = ssm_call(st, "GetParametersByPath", req, "path",
                                st->path, dl, &doc, err);
    if (s != EI_OK)
        return s;
    json_t *params = json_object_get(doc, "Parameters");
    json_t *next = json_object_get(doc, "NextToken");
    if (!json_is_object(doc) || (params != NULL && !json_is_array(params)) ||
        (next != NULL && !json_is_string(next) && !json_is_null(next))) {
        s = h->error(h, err, EI_BADDATA, 0, st->path,
                     "malformed GetParametersByPath answer (Parameters or "
                     "NextToken of the wrong type)");
        json_decref(doc);
        return s;
    }
    size_t i;
    json_t *p;
    json_array_foreach(params, i, p)
    {
        s = ssm_emit(st, sink, p, err);
        if (s != EI_OK)
            break;
    }
    char *old = *token;
    *token = NULL;
    if (s == EI_OK && json_is_string(next) &&
        json_string_value(next)[0] != '\0') {
        /* a token that does not move on would loop until the deadline */
        if (old != NULL && strcmp(old, json_string_value(next)) == 0)
            s = h->error(h, err, EI_BADDATA, 0, st->path,
                         "GetParametersByPath answered the same NextToken "
                         "twice");
        else if ((*token = strdup(json_string_value(next))) == NULL)
            s = h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    }
    free(old);
    json_decref(doc);
    return s;
}

static enum ei_status ssm_fetch(void *state, struct ei_sink *sink,
                                const struct ei_deadline *dl,
                                struct ei_error *err)
{
    struct ssm_state *st = state;
    const struct ei_host *h = st->host;
    char *token = NULL;
    enum ei_status s = EI_OK;
    st->max_version = 0;
    for (size_t page = 0;; page++) {
        if (page == SSM_PAGES_MAX) {
            s = h->error(h, err, EI_BADDATA, 0, st->path,
                         "GetParametersByPath pagination does not end (%d "
                         "pages)",
                         SSM_PAGES_MAX);
            break;
        }
        s = ssm_page(st, sink, dl, &token, err);
        if (s != EI_OK || token == NULL)
            break;
    }
    free(token);
    if (s == EI_OK && st->max_version > 0) {
        char text[24];
        snprintf(text, sizeof(text), "%lld", st->max_version);
        ei_revision_report(h, text);
    }
    return s;
}

/* ---- references: ref+awsssm://PATH/TO/PARAM ---- */

/*
 * One parameter by its name, as vals names it: "ref+awsssm://prod/db/pw"
 * is the parameter "/prod/db/pw" (a name given with its leading '/'
 * stays as it is); GetParameter with the layer's with_decryption, so a
 * SecureString comes decrypted.  The value as it is: a #fragment is the
 * core's to pick.  The only query parameter, region, is the layer's.
 */
static enum ei_status ssm_lookup(void *state, const char *ref,
                                 struct ei_sink *sink,
                                 const struct ei_deadline *dl,
                                 struct ei_error *err)
{
    static const char head[] = "ref+aws-ssm://";
    struct ssm_state *st = state;
    const struct ei_host *h = st->host;
    if (strncmp(ref, head, sizeof(head) - 1) != 0)
        return h->error(h, err, EI_BADDATA, 0, "reference",
                        "not a ref+awsssm:// reference");
    const char *p = ref + sizeof(head) - 1;
    if (strchr(p, '?') != NULL)
        return h->error(h, err, EI_BADDATA, 0, "reference",
                        "query parameters: region only");
    char name[SSM_PATH_MAX + 2];
    size_t n = strlen(p);
    bool ok = n > 0 && n < SSM_PATH_MAX && p[n - 1] != '/';
    for (size_t i = 0; ok && i < n; i++)
        ok = (unsigned char)p[i] > ' ' && p[i] != 0x7f &&
             !(p[i] == '/' && i > 0 && p[i - 1] == '/');
    if (!ok)
        return h->error(h, err, EI_BADDATA, 0, "reference",
                        "a reference names one parameter (no blank, control "
                        "character, \"//\" or final '/', under %d bytes)",
                        SSM_PATH_MAX);
    snprintf(name, sizeof(name), "%s%s", p[0] == '/' ? "" : "/", p);
    char shown[SSM_NAME_SHOWN + EI_TEXT_EXTRA];
    h->safe_text(h, shown, sizeof(shown), name, strlen(name), 0);
    json_t *req = json_pack("{s:s, s:b}", "Name", name, "WithDecryption",
                            (int)st->decrypt);
    json_t *doc = NULL;
    enum ei_status s =
        ssm_call(st, "GetParameter", req, "name", shown, dl, &doc, err);
    if (s != EI_OK)
        return s;
    json_t *param = json_object_get(doc, "Parameter");
    json_t *jname = json_object_get(param, "Name");
    json_t *jtype = json_object_get(param, "Type");
    json_t *jvalue = json_object_get(param, "Value");
    json_t *jversion = json_object_get(param, "Version");
    if (!json_is_string(jname) || !json_is_string(jvalue) ||
        (jtype != NULL && !json_is_string(jtype))) {
        json_decref(doc);
        return h->error(h, err, EI_BADDATA, 0, shown,
                        "malformed GetParameter answer (no Parameter with "
                        "Name and Value)");
    }
    if (strcmp(json_string_value(jname), name) != 0) {
        json_decref(doc);
        return h->error(h, err, EI_BADDATA, 0, shown,
                        "GetParameter answered another parameter");
    }
    char locator[SSM_LOCATOR_MAX];
    ssm_locator(locator, sizeof(locator), shown, jversion);
    const char *segs[] = {"value"};
    s = sink->emit(sink, segs, 1, json_string_value(jvalue),
                   json_string_length(jvalue), locator, ssm_flags(jtype),
                   err) < 0
            ? ei_error_status(err, EI_INTERNAL)
            : EI_OK;
    json_decref(doc);
    return s;
}

EI_PROVIDER_DEFINE(aws_ssm) = {
    .abi = EI_PROVIDER_ABI,
    .size = sizeof(struct ei_provider),
    .name = "aws-ssm",
    .summary = "AWS SSM Parameter Store parameters under a path",
    .arg_option = "path",
    .flags = EI_PROV_REMOTE | EI_PROV_SECRET,
    .configure = ssm_configure,
    .fetch = ssm_fetch,
    .lookup = ssm_lookup,
    .destroy = ssm_destroy,
};
