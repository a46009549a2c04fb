/* SPDX-License-Identifier: MIT */
/* The aws-appconfig provider: one AWS AppConfig configuration profile, read
   through the AppConfig Data API (a session, then GetLatestConfiguration,
   signed as "appconfig") or through the AppConfig Agent, as JSON, YAML,
   dotenv text or a feature-flag document. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <envinject/provider.h>
#include <jansson.h>
#include <sodium.h>

#include "creds.h"
#include "sigv4.h"
#include "../common/dotenv.h"
#include "../common/jsonflat.h"
#include "../common/revision.h"
#include "../common/yamlflat.h"

#define AC_ID_MAX       128  /* an application, environment or profile */
#define AC_TOKEN_MAX    8192 /* a configuration token: \S{1,8192} */
#define AC_TYPE_MAX     256  /* a Content-Type header */
#define AC_LABEL_MAX    64   /* a Version-Label shown in locators */
#define AC_PREFIX_MAX   64   /* flag_prefix */
#define AC_URL_MAX      2048
#define AC_LOCATOR_MAX  (3 * AC_ID_MAX + AC_LABEL_MAX + 16)
#define AC_MESSAGE_SHOW 160   /* bytes of an Agent's error text shown */
#define AC_INTERVAL_MAX 86400 /* the service's largest poll interval */
#define AC_JSON_TYPE    "Content-Type: application/json"
#define AC_SESSIONS     "/configurationsessions"
#define AC_LATEST       "/configuration"
#define AC_DEFAULT_FLAG "FF_"

/* The SDKs' variable for this service: AWS_ENDPOINT_URL_ + its id. */
static const struct ei_aws_service ac_service = {
    "appconfig", "", "AWS_ENDPOINT_URL_APPCONFIGDATA"};

enum ac_type { AC_AUTO, AC_FLAGS, AC_CONFIG };

struct ac_state {
    const struct ei_host *host;
    const char *app, *env, *profile;
    enum ac_type type;
    const char *flag_prefix;
    struct ei_aws *aws;            /* the data API, or NULL with the Agent */
    struct ei_http *agent;         /* the Agent's client */
    char *agent_path;              /* /applications/A/environments/E/... */
    char where[3 * AC_ID_MAX + 3]; /* APP/ENV/PROFILE, shown */
    /* the session (data API): what the next fetch polls with */
    char *token; /* secret memory, NUL-terminated, or NULL */
    size_t token_cap;
    long long poll_s; /* Next-Poll-Interval-In-Seconds, -1 unknown */
    /* the configuration last read, for an answer that says "unchanged" */
    char *kept; /* secret memory, kept_len bytes and a NUL */
    size_t kept_len;
    bool have_kept;
    char kept_type[AC_TYPE_MAX];
    char kept_label[AC_LABEL_MAX + EI_TEXT_EXTRA];
};

/* What the parsers' callback forwards to the sink. */
struct ac_emit {
    struct ei_sink *sink;
    const char *locator;
};

static int ac_forward(void *ctx, const char *const *name, size_t name_n,
                      const char *value, size_t value_len, int line,
                      unsigned flags, struct ei_error *err)
{
    (void)line;
    struct ac_emit *e = ctx;
    return e->sink->emit(e->sink, name, name_n, value, value_len, e->locator,
                         flags, err);
}

static void ac_drop(const struct ei_host *h, char **p, size_t cap)
{
    if (*p != NULL) {
        sodium_memzero(*p, cap);
        h->secret_free(h, *p, cap);
        *p = NULL;
    }
}

static void ac_forget_token(struct ac_state *st)
{
    ac_drop(st->host, &st->token, st->token_cap);
    st->token_cap = 0;
}

static void ac_forget_kept(struct ac_state *st)
{
    ac_drop(st->host, &st->kept, st->kept_len + 1);
    st->kept_len = 0;
    st->have_kept = false;
}

static void ac_destroy(void *state)
{
    struct ac_state *st = state;
    if (st == NULL)
        return;
    ac_forget_token(st);
    ac_forget_kept(st);
    ei_aws_close(st->aws);
    if (st->agent != NULL)
        st->host->http_close(st->agent);
    free(st->agent_path);
    free(st);
}

/* ---- configure ---- */

static bool ac_id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > AC_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < ' ' || s[i] == 0x7f)
            return false;
    return true;
}

/* An identifier option: 1 (set), 0 (absent), -1 (err filled). */
static int ac_id_opt(const struct ei_host *h, const char *name,
                     const char **out, struct ei_error *err)
{
    int rc = h->opt_string(h, name, out, err);
    if (rc > 0 && !ac_id_ok(*out)) {
        h->error(h, err, EI_BADCONFIG, 0, name,
                 "%s must be a name or id of 1 to %d bytes without control "
                 "characters",
                 name, AC_ID_MAX);
        return -1;
    }
    return rc;
}

/* The Agent's path of the profile: every identifier percent-encoded, '/'
   included (a name may hold one). */
static char *ac_agent_path(const struct ac_state *st)
{
    char *a = ei_sigv4_uri_encode(st->app, strlen(st->app), false);
    char *e = ei_sigv4_uri_encode(st->env, strlen(st->env), false);
    char *p = ei_sigv4_uri_encode(st->profile, strlen(st->profile), false);
    char *out = NULL;
    if (a != NULL && e != NULL && p != NULL) {
        size_t n = strlen(a) + strlen(e) + strlen(p) + 64;
        out = malloc(n);
        if (out != NULL)
            snprintf(out, n,
                     "/applications/%s/environments/%s/configurations/%s", a, e,
                     p);
    }
    free(a);
    free(e);
    free(p);
    return out;
}

/* agent = "http://localhost:2772": a base URL, a final '/' allowed. */
static enum ei_status ac_open_agent(struct ac_state *st, const char *url,
                                    struct ei_error *err)
{
    const struct ei_host *h = st->host;
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        n--;
    size_t skip = strncasecmp(url, "http://", 7) == 0    ? 7
                  : strncasecmp(url, "https://", 8) == 0 ? 8
                                                         : 0;
    bool ok = skip > 0 && n > skip && n <= AC_URL_MAX;
    for (size_t i = skip; ok && i < n; i++)
        ok = (unsigned char)url[i] > ' ' && (unsigned char)url[i] < 0x7f &&
             url[i] != '/' && url[i] != '?' && url[i] != '#' && url[i] != '@';
    if (!ok)
        return h->error(h, err, EI_BADCONFIG, 0, "agent",
                        "agent must be http(s)://HOST[:PORT], such as "
                        "http://localhost:2772, with no path, query or user "
                        "name");
    char base[AC_URL_MAX + 1];
    memcpy(base, url, n);
    base[n] = '\0';
    st->agent_path = ac_agent_path(st);
    if (st->agent_path == NULL)
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    const char *eps[] = {base, NULL};
    return h->http_open(h, eps, 1, &st->agent, err);
}

static enum ei_status ac_configure(const struct ei_host *host, void **statep,
                                   struct ei_error *err)
{
    *statep = NULL;
    enum ei_status status = EI_HOST_REQUIRE_HTTP(host, err);
    if (status == EI_OK)
        status = EI_HOST_REQUIRE(host, safe_text, err);
    if (status == EI_OK)
        status = EI_HOST_REQUIRE(host, http_header, err);
    if (status == EI_OK)
        status = EI_HOST_REQUIRE(host, environment, err);
    if (status != EI_OK)
        return status;
    struct ac_state *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return host->error(host, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    st->host = host;
    st->poll_s = -1;
    st->flag_prefix = AC_DEFAULT_FLAG;

    int rc = ac_id_opt(host, "application", &st->app, err);
    if (rc == 0 && host->arg(host) != NULL) {
        /* a host that does not serve the ARG of --layer
           aws-appconfig:APP through the getters */
        st->app = host->arg(host);
        rc = ac_id_ok(st->app) ? 1 : -1;
        if (rc < 0)
            host->error(host, err, EI_BADCONFIG, 0, "application",
                        "application must be a name or id of 1 to %d bytes "
                        "without control characters",
                        AC_ID_MAX);
    }
    if (rc == 0)
        host->error(host, err, EI_BADCONFIG, 0, "application",
                    "option application is required");
    if (rc <= 0)
        goto fail;
    rc = ac_id_opt(host, "profile", &st->profile, err);
    if (rc == 0)
        host->error(host, err, EI_BADCONFIG, 0, "profile",
                    "option profile (the configuration profile) is required");
    if (rc <= 0)
        goto fail;
    rc = ac_id_opt(host, "environment", &st->env, err);
    if (rc < 0)
        goto fail;
    if (rc == 0) {
        st->env = host->environment(host);
        if (st->env == NULL) {
            host->error(host, err, EI_BADCONFIG, 0, "environment",
                        "option environment is required when no environment "
                        "is chosen (-e, ENVINJECT_ENV or the configuration's "
                        "environment)");
            goto fail;
        }
        if (!ac_id_ok(st->env)) {
            host->error(host, err, EI_BADCONFIG, 0, "environment",
                        "the chosen environment is not an AppConfig "
                        "environment name (1 to %d bytes): set environment",
                        AC_ID_MAX);
            goto fail;
        }
    }
    snprintf(st->where, sizeof(st->where), "%s/%s/%s", st->app, st->env,
             st->profile);

    const char *type = NULL;
    rc = host->opt_string(host, "profile_type", &type, err);
    if (rc < 0)
        goto fail;
    if (rc > 0) {
        if (strcmp(type, "flags") == 0)
            st->type = AC_FLAGS;
        else if (strcmp(type, "config") == 0)
            st->type = AC_CONFIG;
        else if (strcmp(type, "auto") != 0) {
            host->error(host, err, EI_BADCONFIG, 0, "profile_type",
                        "profile_type must be \"auto\", \"flags\" or "
                        "\"config\"");
            goto fail;
        }
    }
    rc = host->opt_string(host, "flag_prefix", &st->flag_prefix, err);
    if (rc < 0)
        goto fail;
    if (rc > 0) {
        size_t n = strlen(st->flag_prefix);
        bool ok = n <= AC_PREFIX_MAX;
        for (size_t i = 0; ok && i < n; i++) {
            char c = st->flag_prefix[i];
            ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                 (c >= '0' && c <= '9') || c == '_';
        }
        if (!ok) {
            host->error(host, err, EI_BADCONFIG, 0, "flag_prefix",
                        "flag_prefix must be letters, digits and '_' (at "
                        "most %d)",
                        AC_PREFIX_MAX);
            goto fail;
        }
    }

    const char *agent = NULL;
    rc = host->opt_string(host, "agent", &agent, err);
    if (rc < 0)
        goto fail;
    if (rc > 0) {
        /* the Agent signs for us: options of the data API would be
           silently ignored, which hides a mistake */
        static const char *const api_only[] = {"region", "endpoint",
                                               "aws_profile"};
        for (size_t i = 0; i < sizeof(api_only) / sizeof(api_only[0]); i++) {
            const char *v = NULL;
            int r = host->opt_string(host, api_only[i], &v, err);
            if (r < 0)
                goto fail;
            if (r > 0) {
                host->error(host, err, EI_BADCONFIG, 0, api_only[i],
                            "%s is for the AppConfig Data API: the Agent "
                            "(agent) needs none",
                            api_only[i]);
                goto fail;
            }
        }
        if (ac_open_agent(st, agent, err) != EI_OK)
            goto fail;
    } else if (ei_aws_open_as(host, &ac_service, "appconfigdata", "aws_profile",
                              &st->aws, err) != EI_OK) {
        goto fail;
    }
    *statep = st;
    return EI_OK;
fail:
    status = ei_error_status(err, EI_BADCONFIG);
    ac_destroy(st);
    return status;
}

/* ---- content ---- */

/* Whether doc is a feature-flag document: an object whose every member
   is an object with a boolean "enabled" (the data plane's retrieval-time
   shape).  With why, the first member that is not, for a message. */
static bool ac_is_flags(const json_t *doc, const char **why)
{
    if (!json_is_object(doc) || json_object_size(doc) == 0) {
        *why = NULL;
        return false;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)doc, k, v)
    {
        if (!json_is_object(v) ||
            !json_is_boolean(json_object_get(v, "enabled"))) {
            *why = k;
            return false;
        }
    }
    return true;
}

/* FF_<FLAG> = true/false, FF_<FLAG>_<ATTRIBUTE> = its value as the
   contract writes flag values. */
static enum ei_status ac_emit_flags(struct ac_state *st, const json_t *doc,
                                    struct ei_sink *sink, const char *locator,
                                    struct ei_error *err)
{
    const struct ei_host *h = st->host;
    const char *flag;
    json_t *f;
    json_object_foreach((json_t *)doc, flag, f)
    {
        size_t n = strlen(st->flag_prefix) + strlen(flag) + 1;
        char *seg = malloc(n);
        if (seg == NULL)
            return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
        snprintf(seg, n, "%s%s", st->flag_prefix, flag);
        if (seg[0] == '\0' || json_object_get(f, "") != NULL) {
            /* no key can come of an empty name */
            free(seg);
            return h->error(h, err, EI_BADDATA, 0, locator,
                            "a flag or attribute with an empty key");
        }
        const char *name[2] = {seg, NULL};
        bool on = json_is_true(json_object_get(f, "enabled"));
        int rc = sink->emit(sink, name, 1, on ? "true" : "false", on ? 4 : 5,
                            locator, 0, err);
        const char *attr;
        json_t *v;
        json_object_foreach(f, attr, v)
        {
            if (rc < 0 || strcmp(attr, "enabled") == 0)
                continue;
            size_t len = 0;
            char *text = ei_json_flag_text(v, &len);
            if (text == NULL) {
                char shown[AC_ID_MAX];
                h->safe_text(h, shown, sizeof(shown), flag, strlen(flag), 0);
                free(seg);
                return h->error(h, err, EI_BADDATA, 0, locator,
                                "flag %s: an attribute cannot be written as "
                                "text (a NUL, or nested past 64 levels)",
                                shown);
            }
            name[1] = attr;
            rc = sink->emit(sink, name, 2, text, len, locator, 0, err);
            sodium_memzero(text, len);
            free(text);
        }
        free(seg);
        if (rc < 0)
            return ei_error_status(err, EI_INTERNAL);
    }
    return EI_OK;
}

/* A JSON tree (parsed JSON, or YAML read into JSON): flags or flattened,
   as profile_type says. */
static enum ei_status ac_emit_tree(struct ac_state *st, const json_t *doc,
                                   bool json, struct ei_sink *sink,
                                   const char *locator, struct ei_error *err)
{
    const struct ei_host *h = st->host;
    const char *why = NULL;
    bool flags = json && st->type != AC_CONFIG && ac_is_flags(doc, &why);
    if (st->type == AC_FLAGS && !flags) {
        char shown[AC_ID_MAX];
        if (why != NULL)
            h->safe_text(h, shown, sizeof(shown), why, strlen(why), 0);
        if (!json)
            return h->error(h, err, EI_BADDATA, 0, locator,
                            "profile_type is \"flags\", but the profile is "
                            "YAML: flags come as JSON");
        return h->error(h, err, EI_BADDATA, 0, locator,
                        "profile_type is \"flags\", but this is no "
                        "feature-flag document (%s%s%s)",
                        why != NULL ? "member " : "not an object of flags",
                        why != NULL ? shown : "",
                        why != NULL ? " is not an object with a boolean "
                                      "\"enabled\""
                                    : "");
    }
    if (flags)
        return ac_emit_flags(st, doc, sink, locator, err);
    struct ac_emit e = {sink, locator};
    return ei_jsonflat_walk(doc, NULL, 0, locator, ac_forward, &e, err);
}

/* The media type of a Content-Type value, lower case, without
   parameters. */
static void ac_media_type(const char *ctype, char *out, size_t out_len)
{
    size_t n = strcspn(ctype, ";");
    while (n > 0 && (ctype[n - 1] == ' ' || ctype[n - 1] == '\t'))
        n--;
    if (n >= out_len)
        n = out_len - 1;
    for (size_t i = 0; i < n; i++) {
        char c = ctype[i];
        out[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    out[n] = '\0';
}

static bool ac_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Emit a configuration by its Content-Type. */
static enum ei_status ac_emit_content(struct ac_state *st, const char *body,
                                      size_t len, const char *ctype,
                                      struct ei_sink *sink, const char *locator,
                                      struct ei_error *err)
{
    const struct ei_host *h = st->host;
    char type[AC_TYPE_MAX];
    ac_media_type(ctype, type, sizeof(type));
    struct ac_emit e = {sink, locator};
    if (strncmp(type, "application/x-amz-ion", 21) == 0 ||
        strncmp(type, "application/ion", 15) == 0)
        return h->error(h, err, EI_BADDATA, 0, locator,
                        "the profile came as Amazon Ion (multi-variant "
                        "feature flags), which only the AppConfig Agent "
                        "evaluates: read it through the Agent (agent = "
                        "\"http://localhost:2772\")");
    if (strcmp(type, "application/json") == 0 ||
        strcmp(type, "text/json") == 0 || ac_suffix(type, "+json")) {
        if (st->type == AC_CONFIG)
            return ei_jsonflat_parse(body, len, locator, ac_forward, &e, err);
        json_t *doc = json_loadb(
            body, len,
            JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        if (doc == NULL) /* the flattener's parse words the error */
            return ei_jsonflat_parse(body, len, locator, ac_forward, &e, err);
        enum ei_status s = ac_emit_tree(st, doc, true, sink, locator, err);
        json_decref(doc);
        return s;
    }
    if (strcmp(type, "application/x-yaml") == 0 ||
        strcmp(type, "application/yaml") == 0 ||
        strcmp(type, "text/yaml") == 0 || strcmp(type, "text/x-yaml") == 0 ||
        ac_suffix(type, "+yaml")) {
        json_t *doc = NULL;
        enum ei_status s = ei_yaml_to_json(body, len, locator, NULL, &doc, err);
        if (s == EI_OK)
            s = ac_emit_tree(st, doc, false, sink, locator, err);
        json_decref(doc);
        return s;
    }
    if (strcmp(type, "text/plain") == 0)
        return ei_dotenv_parse(body, len, locator, ac_forward, &e, err);
    char shown[AC_TYPE_MAX + EI_TEXT_EXTRA];
    h->safe_text(h, shown, sizeof(shown), type, strlen(type), 0);
    return h->error(h, err, EI_BADDATA, 0, locator,
                    "the configuration's Content-Type is %s%s%s: envinject "
                    "reads JSON, YAML and text/plain (dotenv)",
                    shown[0] != '\0' ? "\"" : "missing", shown,
                    shown[0] != '\0' ? "\"" : "");
}

/* ---- the Agent ---- */

static enum ei_status ac_fetch_agent(struct ac_state *st, struct ei_sink *sink,
                                     const struct ei_deadline *dl,
                                     struct ei_error *err)
{
    const struct ei_host *h = st->host;
    char locator[AC_LOCATOR_MAX];
    snprintf(locator, sizeof(locator), "agent %s", st->where);
    const char *const headers[] = {NULL};
    struct ei_http_request req = {.method = "GET",
                                  .path = st->agent_path,
                                  .headers = headers,
                                  .flags = EI_HTTP_SECRET};
    struct ei_http_response resp;
    memset(&resp, 0, sizeof(resp));
    enum ei_status s = h->http_request(st->agent, &req, dl, &resp, err);
    if (s != EI_OK) {
        h->http_response_free(st->agent, &resp);
        return s;
    }
    if (resp.status == 200) {
        char ctype[AC_TYPE_MAX] = "";
        if (h->http_header(st->agent, "Content-Type", ctype, sizeof(ctype)) < 0)
            ctype[0] = '\0';
        /* the revision: the version the Agent serves, else its label */
        char ver[EI_REVISION_MAX + 1];
        if (h->http_header(st->agent, "Configuration-Version", ver,
                           sizeof(ver)) > 0 ||
            h->http_header(st->agent, "Version-Label", ver, sizeof(ver)) > 0)
            ei_revision_report(h, ver);
        s = ac_emit_content(st, resp.body, resp.body_len, ctype, sink, locator,
                            err);
        h->http_response_free(st->agent, &resp);
        return s;
    }
    /* the Agent answers errors in plain text: its message says what is
       wrong (no such application, nothing deployed) */
    char msg[AC_MESSAGE_SHOW + EI_TEXT_EXTRA] = "";
    size_t mlen = strcspn(resp.body != NULL ? resp.body : "", "\r\n");
    if (mlen > 0)
        h->safe_text(h, msg, sizeof(msg), resp.body, mlen, 0);
    long code = resp.status;
    h->http_response_free(st->agent, &resp);
    enum ei_status es = code == 404                  ? EI_NOTFOUND
                        : code == 401 || code == 403 ? EI_DENIED
                                                     : EI_BADDATA;
    const char *what = code == 404   ? "not found"
                       : code == 400 ? "request refused"
                       : es == EI_DENIED
                           ? "access denied (does the Agent want a token?)"
                           : "unexpected answer";
    return h->error(h, err, es, 0, locator, "%s (Agent, HTTP %ld)%s%s", what,
                    code, msg[0] != '\0' ? ": " : "", msg);
}

/* ---- the data API ---- */

/* An error recorded on a poll, cleared before a new session tries again
   (the core's layer name stays). */
static void ac_clear_error(struct ei_error *err)
{
    if (err == NULL)
        return;
    err->status = EI_OK;
    err->errnum = 0;
    err->locator[0] = err->text[0] = '\0';
}

static enum ei_status ac_start_session(struct ac_state *st,
                                       const struct ei_deadline *dl,
                                       struct ei_error *err)
{
    const struct ei_host *h = st->host;
    json_t *req = json_pack("{s:s, s:s, s:s}", "ApplicationIdentifier", st->app,
                            "EnvironmentIdentifier", st->env,
                            "ConfigurationProfileIdentifier", st->profile);
    char *body = req != NULL ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (body == NULL)
        return h->error(h, err, EI_BADCONFIG, 0, st->where,
                        "cannot build the request (are the identifiers "
                        "UTF-8?)");
    const char *extra[] = {AC_JSON_TYPE};
    struct ei_http_response resp;
    enum ei_status s =
        ei_aws_request(st->aws, "POST", AC_SESSIONS, NULL, extra, 1, body,
                       strlen(body), 0, st->where, dl, &resp, err);
    json_free_t jfree = NULL;
    json_get_alloc_funcs(NULL, &jfree);
    jfree(body);
    if (s != EI_OK)
        return s;
    json_error_t je;
    json_t *doc = json_loadb(resp.body, resp.body_len, 0, &je);
    ei_aws_response_free(st->aws, &resp);
    json_t *tok = json_object_get(doc, "InitialConfigurationToken");
    size_t n = json_is_string(tok) ? json_string_length(tok) : 0;
    bool ok = n > 0 && n <= AC_TOKEN_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = (unsigned char)json_string_value(tok)[i] > ' ' &&
             json_string_value(tok)[i] != 0x7f;
    if (!ok) {
        json_decref(doc);
        return h->error(h, err, EI_BADDATA, 0, st->where,
                        "malformed StartConfigurationSession answer (%s)",
                        doc == NULL ? "not JSON"
                        : n == 0    ? "no InitialConfigurationToken"
                                    : "a token that is no 1 to 8192 "
                                      "printable characters");
    }
    ac_forget_token(st);
    st->token = h->secret_alloc(h, AC_TOKEN_MAX + 1);
    if (st->token == NULL) {
        json_decref(doc);
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    }
    st->token_cap = AC_TOKEN_MAX + 1;
    memcpy(st->token, json_string_value(tok), n + 1);
    json_decref(doc);
    return EI_OK;
}

/* One GetLatestConfiguration with the kept token; on EI_OK, *resp holds
   the answer (free it with ei_aws_response_free) and the token is the
   next one. */
static enum ei_status ac_poll(struct ac_state *st, const struct ei_deadline *dl,
                              struct ei_http_response *resp,
                              struct ei_error *err)
{
    const struct ei_host *h = st->host;
    char *enc = ei_sigv4_uri_encode(st->token, strlen(st->token), false);
    size_t qn = enc != NULL ? strlen(enc) + 32 : 0;
    char *query = enc != NULL ? malloc(qn) : NULL;
    if (query == NULL) {
        free(enc);
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    }
    snprintf(query, qn, "configuration_token=%s", enc);
    sodium_memzero(enc, strlen(enc));
    free(enc);
    enum ei_status s =
        ei_aws_request(st->aws, "GET", AC_LATEST, query, NULL, 0, NULL, 0,
                       EI_HTTP_SECRET, st->where, dl, resp, err);
    sodium_memzero(query, qn);
    free(query);
    if (s != EI_OK)
        return s;
    /* the token is used up: the answer names the next one */
    struct ei_http *c = ei_aws_http(st->aws);
    int tn = h->http_header(c, "Next-Poll-Configuration-Token", st->token,
                            st->token_cap);
    bool ok = tn > 0;
    for (int i = 0; ok && i < tn; i++)
        ok = (unsigned char)st->token[i] > ' ' && st->token[i] != 0x7f;
    if (!ok) {
        /* the next fetch starts a new session instead */
        ac_forget_token(st);
        h->log(h, EI_LOG_DEBUG,
               "%s: no usable Next-Poll-Configuration-Token: the next read "
               "starts a new session",
               st->where);
    }
    char num[24];
    st->poll_s = -1;
    if (h->http_header(c, "Next-Poll-Interval-In-Seconds", num, sizeof(num)) >
        0) {
        char *end = NULL;
        errno = 0;
        long long v = strtoll(num, &end, 10);
        if (errno == 0 && end != num && *end == '\0' && v >= 0 &&
            v <= AC_INTERVAL_MAX)
            st->poll_s = v;
    }
    return EI_OK;
}

static enum ei_status ac_keep(struct ac_state *st,
                              const struct ei_http_response *resp,
                              struct ei_error *err)
{
    const struct ei_host *h = st->host;
    struct ei_http *c = ei_aws_http(st->aws);
    ac_forget_kept(st);
    st->kept = h->secret_alloc(h, resp->body_len + 1);
    if (st->kept == NULL)
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    memcpy(st->kept, resp->body, resp->body_len);
    st->kept[resp->body_len] = '\0';
    st->kept_len = resp->body_len;
    st->have_kept = true;
    if (h->http_header(c, "Content-Type", st->kept_type,
                       sizeof(st->kept_type)) < 0)
        st->kept_type[0] = '\0';
    char label[AC_LABEL_MAX * 4];
    int ln = h->http_header(c, "Version-Label", label, sizeof(label));
    st->kept_label[0] = '\0';
    if (ln > 0)
        h->safe_text(h, st->kept_label, sizeof(st->kept_label), label,
                     (size_t)ln, 0);
    return EI_OK;
}

static enum ei_status ac_fetch_api(struct ac_state *st, struct ei_sink *sink,
                                   const struct ei_deadline *dl,
                                   struct ei_error *err)
{
    const struct ei_host *h = st->host;
    bool fresh = st->token == NULL;
    enum ei_status s = fresh ? ac_start_session(st, dl, err) : EI_OK;
    struct ei_http_response resp;
    memset(&resp, 0, sizeof(resp));
    if (s == EI_OK)
        s = ac_poll(st, dl, &resp, err);
    if (s == EI_BADDATA && !fresh) {
        /* a kept token the service refuses (expired after 24 hours,
           corrupted, polled too early): a new session reads afresh */
        h->log(h, EI_LOG_DEBUG,
               "%s: the kept token was refused (%s): new "
               "session",
               st->where, err != NULL ? err->text : "");
        ac_clear_error(err);
        ac_forget_token(st);
        fresh = true;
        s = ac_start_session(st, dl, err);
        if (s == EI_OK)
            s = ac_poll(st, dl, &resp, err);
    }
    if (s != EI_OK)
        return s;
    if (st->poll_s >= 0)
        h->log(h, EI_LOG_DEBUG, "%s: next poll in %lld s", st->where,
               st->poll_s);
    if (resp.body_len > 0) {
        s = ac_keep(st, &resp, err);
    } else if (fresh) {
        /* a new session holds no version yet: empty is not "unchanged"
           here, and never "no settings" */
        s = h->error(h, err, EI_BADDATA, 0, st->where,
                     "GetLatestConfiguration answered no configuration on a "
                     "new session");
    } else {
        h->log(h, EI_LOG_DEBUG, "%s: unchanged since the last read", st->where);
    }
    ei_aws_response_free(st->aws, &resp);
    if (s != EI_OK)
        return s;
    char locator[AC_LOCATOR_MAX];
    snprintf(locator, sizeof(locator), "%s%s%s", st->where,
             st->kept_label[0] != '\0' ? "@" : "", st->kept_label);
    if (st->kept_label[0] != '\0')
        ei_revision_report(h, st->kept_label); /* the kept version's */
    return ac_emit_content(st, st->kept, st->kept_len, st->kept_type, sink,
                           locator, err);
}

static enum ei_status ac_fetch(void *state, struct ei_sink *sink,
                               const struct ei_deadline *dl,
                               struct ei_error *err)
{
    struct ac_state *st = state;
    return st->agent != NULL ? ac_fetch_agent(st, sink, dl, err)
                             : ac_fetch_api(st, sink, dl, err);
}

/* run --watch: polled, as often as the service asked in its last answer
   (NextPollIntervalInSeconds wins over poll_interval, as the contract
   says); the Agent polls AppConfig itself and is asked at poll_interval. */
static enum ei_watch_kind ac_watch(void *state, const char *const **paths,
                                   int64_t *poll_ms)
{
    const struct ac_state *st = state;
    (void)paths;
    if (st->agent == NULL && st->poll_s > 0)
        *poll_ms = (int64_t)st->poll_s * 1000;
    return EI_WATCH_POLL;
}

EI_PROVIDER_DEFINE(aws_appconfig) = {
    .abi = EI_PROVIDER_ABI,
    .size = sizeof(struct ei_provider),
    .name = "aws-appconfig",
    .summary = "AWS AppConfig configuration and feature flags (data API or "
               "Agent)",
    .arg_option = "application",
    .flags = EI_PROV_REMOTE | EI_PROV_INTERP,
    .configure = ac_configure,
    .fetch = ac_fetch,
    .lookup = NULL,
    .destroy = ac_destroy,
    .env_consumed = NULL,
    .watch = ac_watch,
    .wait_change = NULL,
};
