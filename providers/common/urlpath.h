/* SPDX-License-Identifier: MIT */
/* Building request paths for HTTP providers: percent-encoding of names,
   and the one decoder of hex digits and percent escapes. */
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

/* The value of the hex digit c (0-9, a-f, A-F), or -1 for any other
   byte.  For whole hex strings use sodium_hex2bin. */
int ei_hex_digit(unsigned char c);

/*
 * The byte that the percent escape at s encodes ("%2F": 0x2f; either
 * case): s[0] is '%' and n counts the bytes left from s on.  -1 when
 * fewer than three are left (a truncated escape) or s[1] or s[2] is not
 * a hex digit.  0 is a decoded NUL, which the caller may refuse.
 */
int ei_pct_byte(const char *s, size_t n);

#endif
