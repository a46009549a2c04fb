/* SPDX-License-Identifier: MIT */
/* The dotenv reader of the file provider (envinject.conf(5), DOTENV FILES). */
#ifndef EI_PROVIDERS_DOTENV_H
#define EI_PROVIDERS_DOTENV_H

#include <stddef.h>

#include <envinject/provider.h>

#include "emit.h"

/*
 * Parse len bytes of dotenv text and call emit once per assignment, in file
 * order, with a single VERBATIM segment for the key.  file names the source
 * in error locators ("FILE:LINE").  Values never appear in errors.
 * Returns EI_OK, EI_BADDATA (err: locator FILE:LINE, a one-line text),
 * EI_NOMEM, or the status the callback set.
 */
enum ei_status ei_dotenv_parse(const char *buf, size_t len, const char *file,
                               ei_emit_fn emit, void *ctx,
                               struct ei_error *err);

#endif
