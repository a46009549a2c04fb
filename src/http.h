/* SPDX-License-Identifier: MIT */
/* The HTTP engine offered to providers through the host table: libcurl,
   one connection-reusing handle per layer, endpoint fail-over, retries with
   back-off inside the layer's deadline, TLS always verified. */
#ifndef EI_HTTP_H
#define EI_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "envinject/provider.h"

/* Defaults of the network options. */
#define EI_HTTP_MAX_RESPONSE_DEFAULT (16 * 1024 * 1024)
#define EI_HTTP_BACKOFF_BASE_MS      50
#define EI_HTTP_BACKOFF_CAP_MS       2000
/* A retry is only worth it with this much time left before the deadline. */
#define EI_HTTP_RETRY_MIN_MS 100

struct ei_http_config {
    const char *layer;            /* for messages */
    const char *const *endpoints; /* base URLs, tried in order */
    size_t endpoints_n;
    const char *cacert;     /* CA bundle, or NULL: the system's */
    const char *cert, *key; /* client certificate and key, or NULL */
    bool insecure;          /* no TLS verification; plain http
                               allowed for secret layers */
    bool secret_layer;      /* refuse plain http:// to non-loopback */
    size_t max_response;    /* bytes; 0: the default */
};

/*
 * The clock and the randomness, injectable for tests.  now_ms is
 * CLOCK_MONOTONIC in milliseconds; sleep_ms sleeps; random returns a
 * uniformly distributed 32-bit value.  NULL members use the real ones.
 */
struct ei_http_env {
    int64_t (*now_ms)(void *ctx);
    void (*sleep_ms)(void *ctx, int64_t ms);
    uint32_t (*random)(void *ctx);
    void *ctx;
};

/*
 * A new client: validates the endpoints (http or https URLs with a host,
 * no user:password@, no query or fragment; one trailing '/' is dropped)
 * and refuses plain http:// to a host other than loopback (127.0.0.0/8,
 * ::1, localhost) for a secret layer unless insecure; EI_BADCONFIG with
 * err (err's locator is left empty: the caller knows the configuration
 * line).  The TLS files' presence is NOT checked here (no I/O), and no
 * connection is made: the curl handle is created by the first request,
 * so curl_global_init must have been called before that.  Everything in
 * cfg is copied.
 */
struct ei_http *ei_http_new(const struct ei_http_config *cfg,
                            struct ei_error *err);
void ei_http_free(struct ei_http *c);

/* Replace the clock and randomness (tests). */
void ei_http_set_env(struct ei_http *c, const struct ei_http_env *env);

/*
 * As ei_host.http_request and http_response_free (provider.h).  The
 * client is used by one thread at a time.  Log lines go through diag.c
 * under the layer's name: at -v one per attempt ("GET host /path -> 200
 * (3 ms)", the path without its query), at -vv the retry decisions;
 * never a header or a body.  With several endpoints, an attempt that
 * neither connects nor receives the first byte of the answer within its
 * share of the deadline (see ATTEMPT_SHARE_MIN_MS in http.c) moves on to
 * the next endpoint, and the error of a request that failed says what
 * each endpoint did.  A TLS certificate that does not verify is EI_DENIED
 * at once (no retry, no other endpoint); a missing CA bundle or an
 * unusable client certificate is EI_BADCONFIG.  With EI_HTTP_NORETRY
 * an answer of any status is returned as it is, and a connection failure
 * moves on to the next endpoint only when nothing was sent.
 */
enum ei_status ei_http_request(struct ei_http *c,
                               const struct ei_http_request *req,
                               const struct ei_deadline *dl,
                               struct ei_http_response *resp,
                               struct ei_error *err);
void ei_http_response_free(struct ei_http *c, struct ei_http_response *resp);

/* As ei_host.http_header (provider.h), through curl_easy_header. */
int ei_http_header(struct ei_http *c, const char *name, char *out,
                   size_t out_len);

/*
 * The back-off before retry number attempt (0-based): a uniformly random
 * delay in [0, min(cap_ms, base_ms * 2^attempt)] ("full jitter", random
 * mapped onto the range: 0 gives 0, UINT32_MAX the top), cut to
 * left_ms - EI_HTTP_RETRY_MIN_MS; or exactly retry_after_ms when the
 * server gave one (>= 0).  -1 when no retry fits: less than
 * EI_HTTP_RETRY_MIN_MS left, or a Retry-After beyond that point (waiting
 * less than the server asked is not honouring it).
 */
int64_t ei_http_backoff(unsigned attempt, int64_t base_ms, int64_t cap_ms,
                        int64_t retry_after_ms, int64_t left_ms,
                        uint32_t random);

/*
 * Load and initialise libcurl (once; ei_http_new does it too).  Must run
 * before any thread uses the engine.  -1 with err when libcurl cannot be
 * loaded.
 */
int ei_http_global_init(struct ei_error *err);

/* For --version: with load, "libcurl 7.88.1 (OpenSSL/3.0.22)", the
   library loaded, and -1 (with the reason in out) when it cannot be;
   without, the version of the headers envinject was built with, as
   loading libcurl and its TLS library takes milliseconds. */
int ei_http_version(char *out, size_t out_len, bool load);

/* Whether a status is retried (408, 429 and 5xx but 501 and 505, unless
   EI_HTTP_NORETRY). */
bool ei_http_retryable(long status);

/* The code of a grpc-status value, 0 to 99; -1 when malformed. */
int ei_http_grpc_status(const char *value);

/* The HTTP status that grpc-gateway gives a gRPC code (500 when unknown). */
long ei_http_grpc_to_http(int code);

/* Decode a percent-encoded grpc-message into out, blanks at either end
   dropped and bytes outside printable ASCII as '?'; truncated to fit. */
void ei_http_grpc_message(const char *raw, char *out, size_t out_size);

/* Parse a Retry-After value (delta-seconds or an HTTP date relative to
   now_epoch, in seconds since the epoch) into milliseconds, 0 for a date
   in the past; -1 when malformed. */
int64_t ei_http_retry_after(const char *value, int64_t now_epoch);

#endif
