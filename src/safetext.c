/* SPDX-License-Identifier: MIT */
/* Text made fit for one line of a message, for the core and, through the
   host table, for every provider: nothing a source or a server sends may
   forge a line, a quote or an escape sequence, or run on without end. */
#include "safetext.h"

#include <string.h>

/* The marker of a cut, which EI_TEXT_EXTRA makes room for with the NUL. */
#define SAFETEXT_CUT "..."

static char safe_byte(unsigned char c, unsigned flags)
{
    if (c < 0x20 || c == 0x7f)
        return '?';
    if ((flags & EI_TEXT_ASCII) != 0 && c > 0x7e)
        return '?';
    if ((flags & EI_TEXT_QUOTE) != 0 && c == '\'')
        return '?';
    return (char)c;
}

const char *ei_safe_text(char *out, size_t out_len, const char *s, size_t len,
                         unsigned flags)
{
    if (out == NULL || out_len == 0)
        return out;
    if (out_len < EI_TEXT_EXTRA || s == NULL) {
        out[0] = '\0';
        return out;
    }
    size_t max = out_len - EI_TEXT_EXTRA;
    size_t n = len < max ? len : max;
    for (size_t i = 0; i < n; i++)
        out[i] = safe_byte((unsigned char)s[i], flags);
    if (n < len)
        memcpy(out + n, SAFETEXT_CUT, sizeof(SAFETEXT_CUT));
    else
        out[n] = '\0';
    return out;
}

const char *ei_host_safe_text(const struct ei_host *h, char *out,
                              size_t out_len, const char *s, size_t len,
                              unsigned flags)
{
    (void)h;
    return ei_safe_text(out, out_len, s, len, flags);
}
