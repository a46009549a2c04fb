/* SPDX-License-Identifier: MIT */
/* A check of libconfig text before libconfig reads it: what libconfig
   would take too slowly or change without a word. */
#ifndef EI_PROVIDERS_CFGSCAN_H
#define EI_PROVIDERS_CFGSCAN_H

#include <stddef.h>

#include <envinject/provider.h>

/*
 * The most named settings (name = value) one libconfig text may hold.
 * libconfig looks for a duplicate name on every insert into a group, so a
 * group of n settings costs n * n / 2 comparisons: 10,000 take about half
 * a second, 40,000 some 10 seconds, and no deadline can stop the parse.
 */
#define EI_CFGSCAN_MAX_SETTINGS 10000

/*
 * Check len bytes of libconfig text and copy them for config_read_string.
 * Refused with EI_BADDATA and a locator "FILE:LINE" (file NULL: "config"):
 * a NUL byte in the text; "\x00" in a string (libconfig would drop it);
 * an integer outside the signed 64-bit range (libconfig would saturate
 * it); more than EI_CFGSCAN_MAX_SETTINGS named settings (the text says to
 * use JSON or dotenv).  An integer without the L suffix outside the
 * 32-bit range gets one in the copy: libconfig 1.5 would cut it to 32
 * bits, later versions read it as 64-bit themselves.  Error texts never
 * hold a value.
 *
 * On EI_OK, *out is a NUL-terminated copy of *out_len bytes that the
 * caller releases with ei_cfgscan_free (it may hold secrets).  Otherwise
 * EI_BADDATA or EI_NOMEM with err filled, *out NULL.  @include lines are
 * copied as they are: libconfig reads those files itself.
 */
enum ei_status ei_cfgscan(const char *buf, size_t len, const char *file,
                          char **out, size_t *out_len, struct ei_error *err);

/* Wipe and free what ei_cfgscan returned; NULL is fine. */
void ei_cfgscan_free(char *text, size_t len);

#endif
