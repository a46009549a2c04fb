/* SPDX-License-Identifier: MIT */
/* Errors and diagnostics: the status to exit-code table and the only code
   that writes messages to stderr. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"

static const struct {
    int code;
    const char *text;
} status_table[EI_STATUS_MAX] = {
    [EI_OK] = {0, "success"},
    [EI_NOTFOUND] = {66, "missing input"},
    [EI_UNAVAILABLE] = {69, "service unavailable"},
    [EI_BADDATA] = {65, "malformed data"},
    [EI_DENIED] = {77, "permission denied"},
    [EI_BADCONFIG] = {78, "configuration error"},
    [EI_IOERROR] = {66, "input unreadable"},
    [EI_NOMEM] = {70, "out of memory"},
    [EI_INTERNAL] = {70, "internal error"},
    [EI_OSERR] = {71, "operating-system error"},
    [EI_USAGE] = {64, "usage error"},
    [EI_FINDINGS] = {1, "problems found"},
    [EI_CANTEXEC] = {126, "cannot execute"},
    [EI_NOPROG] = {127, "program not found"},
    [EI_CANTCREAT] = {73, "cannot create output"},
};

/*
 * Set once by main before any thread starts, then only read: the one piece
 * of process-wide state outside main.c, kept here so that every message
 * goes through one filter.
 */
static int diag_level;

int ei_exit_code(enum ei_status status)
{
    if ((unsigned)status >= EI_STATUS_MAX)
        return 70;
    return status_table[status].code;
}

const char *ei_status_text(enum ei_status status)
{
    if ((unsigned)status >= EI_STATUS_MAX)
        return "unknown status";
    return status_table[status].text;
}

static void copy_field(char *dst, size_t dst_len, const char *src)
{
    if (src == NULL)
        return;
    size_t n = strlen(src);
    if (n >= dst_len) {
        /* keep the start; mark the cut so nobody mistakes it for whole */
        n = dst_len - 4;
        memcpy(dst, src, n);
        memcpy(dst + n, "...", 4);
        return;
    }
    memcpy(dst, src, n + 1);
}

enum ei_status ei_error_vset(struct ei_error *err, enum ei_status status,
                             int errnum, const char *layer, const char *locator,
                             const char *fmt, va_list ap)
{
    if (err == NULL || err->status != EI_OK)
        return status;
    err->status = status;
    err->errnum = errnum;
    err->layer[0] = err->locator[0] = err->text[0] = '\0';
    copy_field(err->layer, sizeof(err->layer), layer);
    copy_field(err->locator, sizeof(err->locator), locator);
    int n = vsnprintf(err->text, sizeof(err->text), fmt, ap);
    if (n >= (int)sizeof(err->text))
        memcpy(err->text + sizeof(err->text) - 4, "...", 4);
    return status;
}

enum ei_status ei_error_set(struct ei_error *err, enum ei_status status,
                            int errnum, const char *layer, const char *locator,
                            const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ei_error_vset(err, status, errnum, layer, locator, fmt, ap);
    va_end(ap);
    return status;
}

void ei_error_describe(const struct ei_error *err, char *buf, size_t len)
{
    const char *text =
        err->text[0] != '\0' ? err->text : ei_status_text(err->status);
    int n = err->errnum != 0
                ? snprintf(buf, len, "%s: %s", text, strerror(err->errnum))
                : snprintf(buf, len, "%s", text);
    if (n >= 0 && (size_t)n >= len && len >= 4)
        memcpy(buf + len - 4, "...", 4);
}

void ei_error_layer(struct ei_error *err, const char *layer)
{
    if (err != NULL && err->layer[0] == '\0')
        copy_field(err->layer, sizeof(err->layer), layer);
}

void ei_error_clear(struct ei_error *err)
{
    if (err != NULL)
        memset(err, 0, sizeof(*err));
}

void ei_diag_set_level(int level)
{
    diag_level = level;
}

int ei_diag_level(void)
{
    return diag_level;
}

/*
 * One line, written with a single fputs so that lines of concurrent
 * layers never interleave.
 */
static void emit_line(const char *severity, const char *layer,
                      const char *locator, const char *text, int errnum)
{
    char line[1024];
    size_t off = 0;
    int n = snprintf(line, sizeof(line), "envinject: %s", severity);
    off = n > 0 ? (size_t)n : 0;
    /* cut like the error record, so that the text always has room */
    int ln = EI_ERR_LAYER_LEN - 1, lc = EI_ERR_LOCATOR_LEN - 1;
    if (layer != NULL && layer[0] != '\0') {
        if (locator != NULL && locator[0] != '\0')
            n = snprintf(line + off, sizeof(line) - off, "%.*s (%.*s): ", ln,
                         layer, lc, locator);
        else
            n = snprintf(line + off, sizeof(line) - off, "%.*s: ", ln, layer);
    } else if (locator != NULL && locator[0] != '\0') {
        n = snprintf(line + off, sizeof(line) - off, "%.*s: ", lc, locator);
    } else {
        n = 0;
    }
    if (n > 0 && (size_t)n < sizeof(line) - off)
        off += (size_t)n;
    if (errnum != 0)
        n = snprintf(line + off, sizeof(line) - off, "%s: %s\n", text,
                     strerror(errnum));
    else
        n = snprintf(line + off, sizeof(line) - off, "%s\n", text);
    if (n < 0 || (size_t)n >= sizeof(line) - off)
        memcpy(line + sizeof(line) - 5, "...\n", 5);
    /* names and texts may come from files: one message stays one line */
    for (char *p = line; p[1] != '\0'; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    fputs(line, stderr);
}

void ei_diag_error(const struct ei_error *err)
{
    if (err == NULL || err->status == EI_OK)
        return;
    const char *text =
        err->text[0] != '\0' ? err->text : ei_status_text(err->status);
    emit_line("", err->layer, err->locator, text, err->errnum);
}

void ei_diag_vmsg(enum ei_log_level level, const char *layer,
                  const char *locator, const char *fmt, va_list ap)
{
    if ((int)level > diag_level)
        return;
    char text[EI_ERR_TEXT_LEN * 2];
    int n = vsnprintf(text, sizeof(text), fmt, ap);
    if (n >= (int)sizeof(text))
        memcpy(text + sizeof(text) - 4, "...", 4);
    emit_line(level == EI_LOG_WARN ? "warning: " : "", layer, locator, text, 0);
}

void ei_diag_msg(enum ei_log_level level, const char *layer,
                 const char *locator, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ei_diag_vmsg(level, layer, locator, fmt, ap);
    va_end(ap);
}

void ei_diag_notice(const char *fmt, ...)
{
    if (diag_level < 0)
        return;
    char text[EI_ERR_TEXT_LEN * 2];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof(text))
        memcpy(text + sizeof(text) - 4, "...", 4);
    emit_line("", NULL, NULL, text, 0);
}
