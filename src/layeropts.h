/* SPDX-License-Identifier: MIT */
/* The options the core reads itself: those common to every layer, and
   the network options of a layer that opens HTTP clients. */
#ifndef EI_LAYEROPTS_H
#define EI_LAYEROPTS_H

#include <stdbool.h>
#include <stddef.h>

#include "envinject/provider.h"

struct ei_http_config;

/* What a layer does when its source fails (on_error). */
enum ei_on_error {
    EI_ON_ERROR_FAIL = 0, /* the resolution fails */
    EI_ON_ERROR_CACHE,    /* the last known good values, if young enough */
    EI_ON_ERROR_SKIP      /* left out with a warning: optional = true */
};

/* The options common to every layer, as envinject.conf(5) lists them. */
struct ei_layeropts {
    bool optional;
    enum ei_on_error on_error;
    bool secret;
    bool secret_given; /* secret was set by the user, not by default */
    bool interpolate;
    bool case_preserve;
    const char *prefix; /* key filter, or NULL */
    bool strip_prefix;
    const char *const *include; /* NULL-terminated globs, or NULL */
    const char *const *exclude;
    long long timeout_ms;
    long long poll_interval_ms; /* run --watch: how often to fetch again */
};

/* A layer's network options, read once, on first use. */
struct ei_netopts {
    bool read;                       /* the fields below are filled */
    const char *cacert, *cert, *key; /* absolute paths, or NULL */
    bool insecure;
    bool max_response_given;
    long long max_response; /* max_response_size, not yet range-checked */
};

/* Default of the common option timeout, in milliseconds. */
#define EI_TIMEOUT_DEFAULT_MS 5000

/* The common option poll_interval: its default and range, in ms. */
#define EI_POLL_INTERVAL_DEFAULT_MS 60000
#define EI_POLL_INTERVAL_MIN_MS     100
#define EI_POLL_INTERVAL_MAX_MS     86400000

/*
 * Read the common options of a layer through its host table h, with the
 * defaults of provider p (secret, interpolate; prefix is p's own option
 * when p has EI_PROV_OWN_PREFIX).  Marks them read; strings point into
 * what h's getters return.  No I/O.  -1 with err (EI_BADCONFIG, located
 * at where, the layer's place in the configuration) when one has the
 * wrong type or value, or they contradict each other.
 */
int ei_layeropts_read(struct ei_layeropts *o, const struct ei_host *h,
                      const struct ei_provider *p, const char *where,
                      struct ei_error *err);

/*
 * Read the network options (cacert, cert, key, insecure,
 * max_response_size) through h into n, unless n->read says that is
 * done: each is read once however many clients the layer opens.  Type
 * errors only; ei_layeropts_http judges the values.  -1 with err.
 */
int ei_layeropts_net(struct ei_netopts *n, const struct ei_host *h,
                     struct ei_error *err);

/*
 * Set the TLS and size fields of an HTTP client's configuration from n
 * (read): max_response_size from 1 to 1 GiB, key only with cert, and
 * default_cacert (may be NULL or "") when the layer sets no cacert.
 * -1 with err (EI_BADCONFIG, located at where) on a bad value.
 */
int ei_layeropts_http(const struct ei_netopts *n, const struct ei_host *h,
                      const char *where, const char *default_cacert,
                      struct ei_http_config *cfg, struct ei_error *err);

#endif
