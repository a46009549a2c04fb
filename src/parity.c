/* SPDX-License-Identifier: MIT */
/* The keys that may differ (parity.h). */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "parity.h"
#include "safetext.h"

#define GLOB_CHARS                                                             \
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_*?[]!^-"

static int nomem(char **v, struct ei_error *err)
{
    ei_parity_globs_free(v);
    return ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory"), -1;
}

int ei_parity_globs(const char *const *args, size_t args_n, char ***out,
                    struct ei_error *err)
{
    *out = NULL;
    size_t n = 0;
    /* one glob more than commas in each argument */
    for (size_t i = 0; i < args_n; i++) {
        n++;
        for (const char *p = strchr(args[i], ','); p != NULL;
             p = strchr(p + 1, ','))
            n++;
    }
    char **v = calloc(n + 1, sizeof(*v));
    if (v == NULL)
        return nomem(NULL, err);
    n = 0;
    for (size_t i = 0; i < args_n; i++) {
        const char *p = args[i];
        for (;;) {
            size_t len = strcspn(p, ",");
            if (len == 0) {
                ei_parity_globs_free(v);
                return ei_error_set(err, EI_USAGE, 0, NULL, NULL,
                                    "--expect-differ: an empty glob (two "
                                    "commas, or a comma at an end)"),
                       -1;
            }
            if (strspn(p, GLOB_CHARS) < len) {
                char shown[64];
                ei_safe_text(shown, sizeof(shown), p, len, 0);
                ei_parity_globs_free(v);
                return ei_error_set(
                           err, EI_USAGE, 0, NULL, NULL,
                           "--expect-differ: '%s' is not a key name or a glob "
                           "of key names (letters, digits, _, * ? [...])",
                           shown),
                       -1;
            }
            v[n] = strndup(p, len);
            if (v[n++] == NULL)
                return nomem(v, err);
            if (p[len] == '\0')
                break;
            p += len + 1;
        }
    }
    *out = v;
    return 0;
}

void ei_parity_globs_free(char **globs)
{
    if (globs == NULL)
        return;
    for (char **g = globs; *g != NULL; g++)
        free(*g);
    free(globs);
}

bool ei_parity_expected(const char *const *globs, const char *key)
{
    for (; globs != NULL && *globs != NULL; globs++)
        if (fnmatch(*globs, key, 0) == 0)
            return true;
    return false;
}
