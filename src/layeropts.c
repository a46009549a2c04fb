/* SPDX-License-Identifier: MIT */
/* The options the core reads itself: those common to every layer, and
   the network options of a layer that opens HTTP clients. */
#include <string.h>

#include "http.h"
#include "layeropts.h"

/* The longest timeout a layer may set: an hour. */
#define TIMEOUT_MAX_MS (3600 * 1000)
/* The largest max_response_size a layer may ask for. */
#define HTTP_MAX_RESPONSE_LIMIT (1024LL * 1024 * 1024)

int ei_layeropts_read(struct ei_layeropts *o, const struct ei_host *h,
                      const struct ei_provider *p, const char *where,
                      struct ei_error *err)
{
    bool b;
    long long n;
    const char *s;
    int rc;

    memset(o, 0, sizeof(*o));
    o->secret = (p->flags & EI_PROV_SECRET) != 0;
    o->interpolate = (p->flags & EI_PROV_INTERP) != 0;
    o->timeout_ms = EI_TIMEOUT_DEFAULT_MS;
    if ((rc = h->opt_bool(h, "optional", &b, err)) < 0)
        return -1;
    if (rc > 0)
        o->optional = b;
    bool optional_given = rc > 0;
    if ((rc = h->opt_string(h, "on_error", &s, err)) < 0)
        return -1;
    if (rc > 0) {
        if (strcmp(s, "cache") == 0)
            o->on_error = EI_ON_ERROR_CACHE;
        else if (strcmp(s, "skip") == 0)
            o->on_error = EI_ON_ERROR_SKIP;
        else if (strcmp(s, "fail") != 0)
            return h->error(h, err, EI_BADCONFIG, 0, where,
                            "on_error must be \"fail\", \"cache\" or "
                            "\"skip\""),
                   -1;
        /* skip is optional's other name; cache may be optional too:
           the cache when it can, else the layer is left out */
        if (optional_given &&
            ((o->on_error == EI_ON_ERROR_FAIL && o->optional) ||
             (o->on_error == EI_ON_ERROR_SKIP && !o->optional)))
            return h->error(h, err, EI_BADCONFIG, 0, where,
                            "optional = %s contradicts on_error = \"%s\"",
                            o->optional ? "true" : "false", s),
                   -1;
        if (o->on_error == EI_ON_ERROR_SKIP)
            o->optional = true;
    }
    if ((rc = h->opt_bool(h, "secret", &b, err)) < 0)
        return -1;
    if (rc > 0) {
        o->secret = b;
        o->secret_given = true;
    }
    if ((rc = h->opt_bool(h, "interpolate", &b, err)) < 0)
        return -1;
    if (rc > 0)
        o->interpolate = b;
    if ((rc = h->opt_bool(h, "strip_prefix", &b, err)) < 0)
        return -1;
    if (rc > 0)
        o->strip_prefix = b;
    if ((rc = h->opt_int(h, "timeout", &n, err)) < 0)
        return -1;
    if (rc > 0) {
        if (n < 1 || n > TIMEOUT_MAX_MS)
            return h->error(h, err, EI_BADCONFIG, 0, where,
                            "timeout must be from 1 to %d ms", TIMEOUT_MAX_MS),
                   -1;
        o->timeout_ms = n;
    }
    o->poll_interval_ms = EI_POLL_INTERVAL_DEFAULT_MS;
    if ((rc = h->opt_int(h, "poll_interval", &n, err)) < 0)
        return -1;
    if (rc > 0) {
        if (n < EI_POLL_INTERVAL_MIN_MS || n > EI_POLL_INTERVAL_MAX_MS)
            return h->error(h, err, EI_BADCONFIG, 0, where,
                            "poll_interval must be from %d to %d ms",
                            EI_POLL_INTERVAL_MIN_MS, EI_POLL_INTERVAL_MAX_MS),
                   -1;
        o->poll_interval_ms = n;
    }
    if ((rc = h->opt_string(h, "case", &s, err)) < 0)
        return -1;
    if (rc > 0) {
        if (strcmp(s, "preserve") == 0)
            o->case_preserve = true;
        else if (strcmp(s, "upper") != 0)
            return h->error(h, err, EI_BADCONFIG, 0, where,
                            "case must be \"upper\" or \"preserve\""),
                   -1;
    }
    if (!(p->flags & EI_PROV_OWN_PREFIX)) {
        if (h->opt_string(h, "prefix", &o->prefix, err) < 0)
            return -1;
    }
    if (o->strip_prefix && (p->flags & EI_PROV_OWN_PREFIX))
        return h->error(h, err, EI_BADCONFIG, 0, where,
                        "strip_prefix does not apply to provider %s: "
                        "its prefix is never part of the keys",
                        p->name),
               -1;
    if (o->strip_prefix && o->prefix == NULL)
        return h->error(h, err, EI_BADCONFIG, 0, where,
                        "strip_prefix needs prefix"),
               -1;
    const char *const *v = NULL;
    if (h->opt_list(h, "include", &v, NULL, err) < 0)
        return -1;
    o->include = v;
    v = NULL;
    if (h->opt_list(h, "exclude", &v, NULL, err) < 0)
        return -1;
    o->exclude = v;
    return 0;
}

int ei_layeropts_net(struct ei_netopts *n, const struct ei_host *h,
                     struct ei_error *err)
{
    if (n->read)
        return 0;
    struct ei_netopts got = {.read = true};
    int rc;
    if (h->opt_path(h, "cacert", &got.cacert, err) < 0 ||
        h->opt_path(h, "cert", &got.cert, err) < 0 ||
        h->opt_path(h, "key", &got.key, err) < 0 ||
        h->opt_bool(h, "insecure", &got.insecure, err) < 0 ||
        (rc = h->opt_int(h, "max_response_size", &got.max_response, err)) < 0)
        return -1;
    got.max_response_given = rc > 0;
    *n = got;
    return 0;
}

int ei_layeropts_http(const struct ei_netopts *n, const struct ei_host *h,
                      const char *where, const char *default_cacert,
                      struct ei_http_config *cfg, struct ei_error *err)
{
    if (n->max_response_given) {
        if (n->max_response < 1 || n->max_response > HTTP_MAX_RESPONSE_LIMIT)
            return h->error(h, err, EI_BADCONFIG, 0, where,
                            "max_response_size must be from 1 to %lld bytes",
                            HTTP_MAX_RESPONSE_LIMIT),
                   -1;
        cfg->max_response = (size_t)n->max_response;
    }
    cfg->cacert = n->cacert;
    if (cfg->cacert == NULL && default_cacert != NULL &&
        default_cacert[0] != '\0')
        cfg->cacert = default_cacert;
    cfg->cert = n->cert;
    cfg->key = n->key;
    cfg->insecure = n->insecure;
    if (cfg->key != NULL && cfg->cert == NULL)
        return h->error(h, err, EI_BADCONFIG, 0, where, "key needs cert"), -1;
    return 0;
}
