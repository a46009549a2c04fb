/* SPDX-License-Identifier: MIT */
/* Building request paths for HTTP providers: percent-encoding of names. */
#ifndef EI_PROVIDERS_URLPATH_H
#define EI_PROVIDERS_URLPATH_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Append s to url (cap bytes, *len used, kept NUL-terminated).  With
 * encode, every byte but the RFC 3986 unreserved characters and '/' is
 * written as %XX; without, s goes in as it is.  -1 when it does not fit
 * (url then holds a cut prefix the caller discards).
 */
int ei_url_append(char *url, size_t cap, size_t *len, const char *s,
                  bool encode);

#endif
