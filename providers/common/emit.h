/* SPDX-License-Identifier: MIT */
/* The callback through which the format parsers of providers hand over
   what they read; the provider forwards it to its sink. */
#ifndef EI_PROVIDERS_EMIT_H
#define EI_PROVIDERS_EMIT_H

#include <stddef.h>

#include <envinject/provider.h>

/*
 * One entry read by a parser.  name/name_n: the source name in segments
 * (a dotenv key is one segment, and comes with EI_ENTRY_VERBATIM).  value
 * is value_len bytes (NUL-terminated for convenience); the parser owns it
 * and wipes it after the call.  line is the 1-based line where the entry
 * starts, 0 when unknown.  flags: EI_ENTRY_* (EI_ENTRY_LITERAL for values
 * never to be interpolated).  Returns 0 to go on, -1 to stop (err filled
 * by the callee; the parser then returns err->status).
 */
typedef int (*ei_emit_fn)(void *ctx, const char *const *name, size_t name_n,
                          const char *value, size_t value_len, int line,
                          unsigned flags, struct ei_error *err);

#endif
