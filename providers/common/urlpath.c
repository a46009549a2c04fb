/* SPDX-License-Identifier: MIT */
/* Building request paths for HTTP providers: percent-encoding of names. */
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
