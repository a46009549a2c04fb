/* SPDX-License-Identifier: MIT */
/* Values written for other programs' readers.  What each reader does,
   and so what each writer must avoid, is written beside the writer. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "diag.h"
#include "safetext.h"
#include "targets.h"

/* bufio.Scanner's default limit: Docker fails on a longer line. */
#define DOCKER_LINE_MAX (64 * 1024 - 1)
#define K8S_NAME_MAX    253

static int refuse(struct ei_error *err, const char *key, const char *why,
                  const char *instead)
{
    ei_error_set(err, EI_BADDATA, 0, NULL, NULL,
                 "%s: value holds %s; use --format=%s", key, why, instead);
    return -1;
}

static bool utf8_valid(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t len = ei_utf8_seq(u + i, n - i);
        if (len == 0)
            return false;
        i += len;
    }
    return true;
}

static bool env_name(const char *key)
{
    if (!((key[0] >= 'A' && key[0] <= 'Z') ||
          (key[0] >= 'a' && key[0] <= 'z') || key[0] == '_'))
        return false;
    for (const char *p = key + 1; *p != '\0'; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
              (*p >= '0' && *p <= '9') || *p == '_'))
            return false;
    return true;
}

static int bad_key(struct ei_error *err, const char *key, const char *target)
{
    char shown[128];
    ei_error_set(err, EI_BADDATA, 0, NULL, NULL,
                 "key '%s' is not a name that %s reads "
                 "([A-Za-z_][A-Za-z0-9_]*)",
                 ei_safe_text(shown, sizeof(shown), key, strlen(key),
                              EI_TEXT_QUOTE),
                 target);
    return -1;
}

/*
 * Docker (opts.ParseEnvFile) reads the file line by line with Go's
 * bufio.Scanner, which ends a line at LF and drops one CR before it, and
 * fails on a line of 64 KiB or more; it fails on bytes that are not UTF-8,
 * drops the whitespace that starts a line, skips a line starting with
 * '#', and takes the rest verbatim after the first '='.  So no quoting:
 * a value with a newline, a final CR or other than UTF-8 is refused.
 */
int ei_target_docker(struct obuf *b, const char *key, const char *val,
                     size_t len, struct ei_error *err)
{
    if (!env_name(key))
        return bad_key(err, key, "docker");
    if (memchr(val, '\n', len) != NULL)
        return refuse(err, key, "a newline, which an env-file cannot hold",
                      "json");
    if (len > 0 && val[len - 1] == '\r')
        return refuse(err, key,
                      "a final carriage return, which Docker drops", "json");
    if (!utf8_valid(val, len))
        return refuse(err, key, "bytes that are not UTF-8, which Docker "
                      "refuses", "shell");
    if (strlen(key) + 1 + len > DOCKER_LINE_MAX)
        return refuse(err, key, "more than Docker reads on one line (64 KiB)",
                      "json");
    ob_puts(b, key);
    ob_putc(b, '=');
    ob_put(b, val, len);
    ob_putc(b, '\n');
    return 0;
}

/*
 * systemd (load_env_file) reads a double-quoted value up to the next
 * unescaped '"', newlines included; a backslash there escapes '"', '\\',
 * '`' and '$' (and removes a newline after it), and stays before any
 * other byte.  It refuses, with the whole file, a value that is not
 * UTF-8, and ignores a name that is not one of [A-Za-z_][A-Za-z0-9_]*.
 */
int ei_target_systemd(struct obuf *b, const char *key, const char *val,
                      size_t len, struct ei_error *err)
{
    if (!env_name(key))
        return bad_key(err, key, "systemd");
    if (!utf8_valid(val, len))
        return refuse(err, key, "bytes that are not UTF-8, which systemd "
                      "refuses", "shell");
    ob_puts(b, key);
    ob_puts(b, "=\"");
    for (size_t i = 0; i < len; i++) {
        char c = val[i];
        if (c == '"' || c == '\\' || c == '`' || c == '$')
            ob_putc(b, '\\');
        ob_putc(b, val[i]);
    }
    ob_puts(b, "\"\n");
    return 0;
}

/* Plain scalars that YAML 1.1 readers (PyYAML, go-yaml v2, Kubernetes'
   own sigs.k8s.io/yaml) take for a boolean or a null. */
static bool yaml11_special(const char *s)
{
    static const char *const words[] = {"y",   "n",    "yes",   "no", "on",
                                        "off", "true", "false", "null"};
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strcasecmp(s, words[i]) == 0)
            return true;
    return false;
}

int ei_target_yaml_key(struct obuf *b, const char *key, struct ei_error *err)
{
    if (env_name(key) && !yaml11_special(key))
        ob_puts(b, key);
    else if (ei_target_yaml_string(b, key, key, strlen(key), err) < 0)
        return -1;
    ob_puts(b, ": ");
    return 0;
}

/*
 * A double-quoted scalar reads back exactly when everything that is not
 * printable in YAML's sense, or is a line break (which folds), is an
 * escape: C0 and C1 controls, DEL, U+2028 and U+2029, and U+FEFF (a byte
 * order mark) and U+FFFE/U+FFFF.  Bytes that are not UTF-8 have no YAML
 * form at all.
 */
int ei_target_yaml_string(struct obuf *b, const char *key, const char *s,
                          size_t n, struct ei_error *err)
{
    const unsigned char *u = (const unsigned char *)s;
    ob_putc(b, '"');
    size_t i = 0;
    while (i < n) {
        unsigned char c = u[i];
        size_t len = ei_utf8_seq(u + i, n - i);
        if (len == 0)
            return refuse(err, key, "bytes that are not UTF-8, which YAML "
                          "cannot hold", "shell");
        if (c == '"' || c == '\\') {
            ob_putc(b, '\\');
            ob_putc(b, (char)c);
        } else if (c == '\n') {
            ob_puts(b, "\\n");
        } else if (c == '\t') {
            ob_puts(b, "\\t");
        } else if (c == '\r') {
            ob_puts(b, "\\r");
        } else if (c < 0x20 || c == 0x7f) {
            ob_printf(b, "\\x%02X", c);
        } else if (len == 2 && c == 0xC2 && u[i + 1] < 0xA0) {
            ob_printf(b, "\\x%02X", u[i + 1]);
        } else if (len == 3 && c == 0xE2 && u[i + 1] == 0x80 &&
                   (u[i + 2] == 0xA8 || u[i + 2] == 0xA9)) {
            ob_printf(b, "\\u%04X", 0x2000u + (u[i + 2] - 0x80u));
        } else if (len == 3 && c == 0xEF && u[i + 1] == 0xBB &&
                   u[i + 2] == 0xBF) {
            ob_puts(b, "\\uFEFF");
        } else if (len == 3 && c == 0xEF && u[i + 1] == 0xBF &&
                   u[i + 2] >= 0xBE) {
            ob_printf(b, "\\u%04X", 0xFFC0u + (u[i + 2] - 0x80u));
        } else {
            ob_put(b, s + i, len);
        }
        i += len;
    }
    ob_putc(b, '"');
    return 0;
}

int ei_target_base64(struct obuf *b, const char *s, size_t n)
{
    size_t len = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
    ob_putc(b, '"');
    if (!ob_reserve(b, len))
        return -1;
    /* straight into the buffer, which is wiped: no copy of a secret */
    sodium_bin2base64(b->tail->data + b->tail->len, len,
                      (const unsigned char *)s, n,
                      sodium_base64_VARIANT_ORIGINAL);
    b->tail->len += len - 1;
    ob_putc(b, '"');
    return 0;
}

static bool lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool ei_target_k8s_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > K8S_NAME_MAX)
        return false;
    /* each dot-separated label starts and ends alphanumeric */
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool edge = i == 0 || i + 1 == n || name[i - 1] == '.' ||
                    name[i + 1] == '.';
        if (lower_alnum(c))
            continue;
        if ((c == '-' || c == '.') && !edge)
            continue;
        return false;
    }
    return true;
}

bool ei_target_k8s_key_ok(const char *key)
{
    size_t n = strlen(key);
    if (n == 0 || n > K8S_NAME_MAX)
        return false;
    /* "." and ".." would be path names in a mounted volume */
    if (strcmp(key, ".") == 0 || strncmp(key, "..", 2) == 0)
        return false;
    for (const char *p = key; *p != '\0'; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
              (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
              *p == '_'))
            return false;
    return true;
}
