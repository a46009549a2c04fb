/* SPDX-License-Identifier: MIT */
/* Where a locator points in the working tree: the file and line that a
   check report and a CI annotation name. */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "place.h"

/* More digits than any line number of a file a layer can read. */
#define PLACE_LINE_DIGITS_MAX 9

/* path (len bytes) below dir as an existing regular file, canonical. */
static char *regular_file(const char *dir, const char *path, size_t len)
{
    char joined[PATH_MAX];
    int n =
        path[0] == '/'
            ? snprintf(joined, sizeof(joined), "%.*s", (int)len, path)
            : snprintf(joined, sizeof(joined), "%s/%.*s", dir, (int)len, path);
    if (n < 0 || (size_t)n >= sizeof(joined))
        return NULL;
    struct stat st;
    if (stat(joined, &st) != 0 || !S_ISREG(st.st_mode))
        return NULL;
    /* canonical, so that "config/./dev.env" and a cwd reached through a
       symbolic link still compare with the working directory */
    return realpath(joined, NULL);
}

/* abs relative to the working directory when below it, else abs itself;
   takes abs. */
static char *relative(char *abs)
{
    char *cwd = realpath(".", NULL);
    if (cwd == NULL)
        return abs;
    size_t n = strlen(cwd);
    char *out = abs;
    if (strncmp(abs, cwd, n) == 0 && (abs[n] == '/' || cwd[n - 1] == '/')) {
        const char *rest = abs + n + (abs[n] == '/');
        out = strdup(rest);
        free(abs);
    }
    free(cwd);
    return out;
}

char *ei_place_file(const char *locator, const char *dir, long *line)
{
    *line = 0;
    if (locator == NULL || locator[0] == '\0')
        return NULL;
    if (dir == NULL)
        dir = ".";
    size_t len = strlen(locator);
    /* "PATH:LINE" first: a file named "a:1" is rarer than a line */
    const char *colon = strrchr(locator, ':');
    size_t digits = colon != NULL ? len - (size_t)(colon - locator) - 1 : 0;
    bool all_digits = digits > 0 && digits <= PLACE_LINE_DIGITS_MAX &&
                      strspn(colon + 1, "0123456789") == digits;
    if (all_digits && colon > locator) {
        char *abs = regular_file(dir, locator, (size_t)(colon - locator));
        if (abs != NULL) {
            *line = strtol(colon + 1, NULL, 10);
            return relative(abs);
        }
    }
    char *abs = regular_file(dir, locator, len);
    return abs != NULL ? relative(abs) : NULL;
}
