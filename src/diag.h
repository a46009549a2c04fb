/* SPDX-License-Identifier: MIT */
/* Errors and diagnostics: the error struct, the status to exit-code table,
   and the only code that writes messages to stderr. */
#ifndef EI_DIAG_H
#define EI_DIAG_H

#include <stdarg.h>

#include "envinject/provider.h"

/* Exit code of a status (envinject(1), EXIT STATUS). */
int ei_exit_code(enum ei_status status);

/* Short lowercase name of a status ("bad data"), for reports. */
const char *ei_status_text(enum ei_status status);

/*
 * Record an error in err unless one is recorded already (first one wins).
 * layer and locator may be NULL.  err may be NULL.  Returns status.
 */
enum ei_status ei_error_set(struct ei_error *err, enum ei_status status,
                            int errnum, const char *layer, const char *locator,
                            const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
enum ei_status ei_error_vset(struct ei_error *err, enum ei_status status,
                             int errnum, const char *layer, const char *locator,
                             const char *fmt, va_list ap)
    __attribute__((format(printf, 6, 0)));

/* "TEXT: STRERROR" of err (the status's text when it has none), cut to
   len bytes with its NUL: the message part of ei_diag_error's line. */
void ei_error_describe(const struct ei_error *err, char *buf, size_t len);

/* Fill in the layer name of an error that has none yet. */
void ei_error_layer(struct ei_error *err, const char *layer);

/* Forget a recorded error. */
void ei_error_clear(struct ei_error *err);

/*
 * Verbosity: -1 quiet (errors only), 0 default (warnings), 1 -v, 2 -vv.
 * Set once by main before anything else runs.
 */
void ei_diag_set_level(int level);
int ei_diag_level(void);

/*
 * Print an error as one line on stderr:
 * "envinject: LAYER (LOCATOR): TEXT: STRERROR".
 */
void ei_diag_error(const struct ei_error *err);

/*
 * Print a message at a level (EI_LOG_WARN adds "warning: "); layer and
 * locator may be NULL.  Nothing is printed when the level is above the
 * verbosity.
 */
void ei_diag_msg(enum ei_log_level level, const char *layer,
                 const char *locator, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* An event worth a line at the default verbosity that is no warning
   (a restart in watch mode); nothing under -q. */
void ei_diag_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void ei_diag_vmsg(enum ei_log_level level, const char *layer,
                  const char *locator, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

#endif
