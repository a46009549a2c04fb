/* SPDX-License-Identifier: MIT */
/* The parser of the ofrep provider (providers/ofrep.c): the bulk
   evaluation reply of the OpenFeature Remote Evaluation Protocol, exposed
   for unit tests and fuzzing. */
#ifndef EI_PROVIDERS_OFREP_PARSE_H
#define EI_PROVIDERS_OFREP_PARSE_H

#include <stddef.h>

#include <envinject/provider.h>

/* What the parser hands over, one call per item of "flags", in order. */
struct ei_ofrep_cb {
    /*
     * A flag with a value: key (NUL-terminated, non-empty, no NUL inside),
     * value its text as the contract writes flag values (value_len bytes,
     * NUL-terminated, wiped after the call), variant the server's
     * variant name or NULL.  Returns 0 to go on, -1 to stop (err filled).
     */
    int (*flag)(void *ctx, const char *key, const char *value, size_t value_len,
                const char *variant, struct ei_error *err);
    /*
     * A flag left out: code is the errorCode the server reported and
     * details its errorDetails (NULL when absent), or code is NULL for a
     * flag without a value (the code default applies).  Both are the
     * server's text, not yet made safe for a message.
     */
    void (*skip)(void *ctx, const char *key, const char *code,
                 const char *details);
};

/*
 * Parse the 200 reply of POST /ofrep/v1/evaluate/flags: a JSON object
 * whose "flags" is an array of objects, each with a string "key" (unique
 * in the reply) and either a string "errorCode" or an optional "value" of
 * any JSON type (null counts as absent).  Other members (reason, variant,
 * metadata, eventStreams) are read only as far as the callbacks need.
 * what is the locator of errors.  EI_BADDATA for malformed JSON or a
 * shape that breaks the protocol (err names the flag, never a value),
 * EI_NOMEM, or err's status when cb->flag failed.  h gives safe_text for
 * the keys that errors name.
 */
enum ei_status ei_ofrep_parse_bulk(const struct ei_host *h, const char *body,
                                   size_t len, const char *what,
                                   const struct ei_ofrep_cb *cb, void *ctx,
                                   struct ei_error *err);

#endif
