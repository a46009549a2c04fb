/* SPDX-License-Identifier: MIT */
/* Text made fit for one line of a message: the host's safe_text. */
#ifndef EI_SAFETEXT_H
#define EI_SAFETEXT_H

#include <stddef.h>

#include "envinject/provider.h"

/*
 * Copy len bytes of s (no NUL needed) to out for a message, a log line or
 * a locator: control bytes (below 0x20, and 0x7f) as '?', with
 * EI_TEXT_ASCII every byte above 0x7e too, with EI_TEXT_QUOTE '\'' too;
 * cut to out_len - EI_TEXT_EXTRA bytes with "..." after the cut.  out is
 * always NUL-terminated (an out_len below EI_TEXT_EXTRA keeps no text);
 * returns out.  Never give it a value: a value may be a secret.
 */
const char *ei_safe_text(char *out, size_t out_len, const char *s, size_t len,
                         unsigned flags);

/* ei_safe_text as the host table's safe_text (h is not used). */
const char *ei_host_safe_text(const struct ei_host *h, char *out,
                              size_t out_len, const char *s, size_t len,
                              unsigned flags);

#endif
