/* SPDX-License-Identifier: MIT */
/* Errors from provider code that has no host at hand (format parsers). */
#ifndef EI_PROVIDERS_PARSE_ERROR_H
#define EI_PROVIDERS_PARSE_ERROR_H

#include <envinject/provider.h>

/*
 * Record an error as the core's ei_error_set does: only when err is not
 * NULL and holds no error yet (the first one wins), errnum 0, no layer (the
 * core adds it), a cut locator or text ending in "...".  Returns status.
 */
enum ei_status ei_parse_error(struct ei_error *err, enum ei_status status,
                              const char *locator, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
