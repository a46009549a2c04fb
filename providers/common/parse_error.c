/* SPDX-License-Identifier: MIT */
/* Errors from provider code that has no host at hand (format parsers). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "parse_error.h"

enum ei_status ei_parse_error(struct ei_error *err, enum ei_status status,
                              const char *locator, const char *fmt, ...)
{
    if (err == NULL || err->status != EI_OK)
        return status;
    err->status = status;
    err->errnum = 0;
    err->layer[0] = '\0';
    int n = snprintf(err->locator, sizeof(err->locator), "%s",
                     locator != NULL ? locator : "");
    if (n >= (int)sizeof(err->locator))
        memcpy(err->locator + sizeof(err->locator) - 4, "...", 4);
    va_list ap;
    va_start(ap, fmt);
    n = vsnprintf(err->text, sizeof(err->text), fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof(err->text))
        memcpy(err->text + sizeof(err->text) - 4, "...", 4);
    return status;
}
