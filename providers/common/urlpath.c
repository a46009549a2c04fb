/* SPDX-License-Identifier: MIT */
/* Building request paths for HTTP providers: percent-encoding of names,
   and the one decoder of hex digits and percent escapes. */
#include <string.h>

#include "urlpath.h"

int ei_url_append(char *url, size_t cap, size_t *len, const char *s,
                  bool encode)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        bool plain = !encode || (*p >= 'a' && *p <= 'z') ||
                     (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                     strchr("-._~/", *p) != NULL;
        if (*len + (plain ? 1 : 3) >= cap)
            return -1;
        if (plain) {
            url[(*len)++] = (char)*p;
        } else {
            url[(*len)++] = '%';
            url[(*len)++] = hex[*p >> 4];
            url[(*len)++] = hex[*p & 0xf];
        }
    }
    url[*len] = '\0';
    return 0;
}

int ei_hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int ei_pct_byte(const char *s, size_t n)
{
    if (n < 3 || s[0] != '%')
        return -1;
    int hi = ei_hex_digit((unsigned char)s[1]);
    int lo = ei_hex_digit((unsigned char)s[2]);
    return hi < 0 || lo < 0 ? -1 : hi << 4 | lo;
}
