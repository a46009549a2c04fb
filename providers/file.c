/* SPDX-License-Identifier: MIT */
/* Provider "file": a defaults file in libconfig, JSON, dotenv or YAML. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <envinject/provider.h>

#include "common/cfgflat.h"
#include "common/dotenv.h"
#include "common/dotenvx.h"
#include "common/jsonflat.h"
#include "common/revision.h"
#include "common/yamlflat.h"

enum file_format { FILE_LIBCONFIG, FILE_JSON, FILE_DOTENV, FILE_YAML };

struct file_state {
    const struct ei_host *host;
    const char *path;       /* to open: absolute */
    const char *watched[3]; /* path and the keys file, for watch */
    char *keys_path;        /* .env.keys beside a dotenv file */
    bool keys_read;         /* the last fetch read keys_path */
    const char *display;    /* as the user wrote it, for locators */
    char *dir;              /* folder of the file, for @include */
    enum file_format format;
};

struct file_emit {
    struct file_state *st;
    struct ei_sink *sink;
    /* the locator of the last entry: "FILE:LINE", cut as snprintf cuts,
       rewritten only from the line on (a file of 100,000 keys spent a
       twentieth of its time in snprintf) */
    char locator[EI_ERR_LOCATOR_LEN];
    size_t name_len; /* of FILE in it, as it fits */
    int line;        /* of locator; -1 before the first entry */
};

static const struct {
    const char *name;
    enum file_format format;
} file_formats[] = {
    {"libconfig", FILE_LIBCONFIG},
    {"json", FILE_JSON},
    {"dotenv", FILE_DOTENV},
    {"yaml", FILE_YAML},
};

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* .cfg .conf: libconfig; .json: JSON; .env, NAME.env, .env.NAME: dotenv;
   .yaml .yml: YAML */
static int file_guess(const char *path, enum file_format *out)
{
    const char *base = strrchr(path, '/');
    base = base != NULL ? base + 1 : path;
    if (ends_with(base, ".cfg") || ends_with(base, ".conf"))
        *out = FILE_LIBCONFIG;
    else if (ends_with(base, ".json"))
        *out = FILE_JSON;
    else if (ends_with(base, ".env") || strncmp(base, ".env.", 5) == 0)
        *out = FILE_DOTENV;
    else if (ends_with(base, ".yaml") || ends_with(base, ".yml"))
        *out = FILE_YAML;
    else
        return -1;
    return 0;
}

static enum ei_status file_configure(const struct ei_host *h, void **statep,
                                     struct ei_error *err)
{
    const char *display = NULL, *path = NULL, *fmt = NULL;
    if (h->opt_string(h, "path", &display, err) < 0 ||
        h->opt_path(h, "path", &path, err) < 0 ||
        h->opt_string(h, "format", &fmt, err) < 0)
        return EI_BADCONFIG;
    if (path == NULL || path[0] == '\0')
        return h->error(h, err, EI_BADCONFIG, 0, NULL,
                        "path is required (the file to read)");
    struct file_state *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return h->error(h, err, EI_NOMEM, 0, NULL, "out of memory");
    st->host = h;
    st->path = path;
    st->display = display;
    if (fmt != NULL) {
        size_t i;
        for (i = 0; i < sizeof(file_formats) / sizeof(file_formats[0]); i++)
            if (strcmp(fmt, file_formats[i].name) == 0)
                break;
        if (i == sizeof(file_formats) / sizeof(file_formats[0])) {
            free(st);
            return h->error(h, err, EI_BADCONFIG, 0, NULL,
                            "unknown format '%s' (expected libconfig, json, "
                            "dotenv or yaml)",
                            fmt);
        }
        st->format = file_formats[i].format;
    } else if (file_guess(path, &st->format) < 0) {
        free(st);
        return h->error(h, err, EI_BADCONFIG, 0, NULL,
                        "cannot tell the format of %s from its name: set "
                        "format to libconfig, json, dotenv or yaml",
                        display);
    }
    if (st->format == FILE_YAML) {
        /* at configure, so that check and a dry run say it too */
        enum ei_status rc = EI_OK;
        if (!ei_yamlflat_available())
            rc = h->error(h, err, EI_BADCONFIG, 0, NULL,
                          "cannot read %s: this envinject was built without "
                          "YAML support (rebuild it with libyaml, Debian "
                          "package libyaml-dev)",
                          display);
        else
            rc = EI_HOST_REQUIRE(h, environment, err);
        if (rc != EI_OK) {
            free(st);
            return rc;
        }
    }
    const char *slash = strrchr(path, '/');
    if (slash != NULL) {
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        st->dir = malloc(n + 1);
        if (st->dir == NULL) {
            free(st);
            return h->error(h, err, EI_NOMEM, 0, NULL, "out of memory");
        }
        memcpy(st->dir, path, n);
        st->dir[n] = '\0';
    }
    if (st->format == FILE_DOTENV && st->dir != NULL) {
        /* "DIR/.env.keys" ("/.env.keys" in the root), joined without
           snprintf: its code would be libc pages touched for this alone */
        size_t d = strcmp(st->dir, "/") == 0 ? 0 : strlen(st->dir);
        st->keys_path = malloc(d + 1 + sizeof EI_DOTENVX_KEYS_FILE);
        if (st->keys_path == NULL) {
            free(st->dir);
            free(st);
            return h->error(h, err, EI_NOMEM, 0, NULL, "out of memory");
        }
        memcpy(st->keys_path, st->dir, d);
        st->keys_path[d] = '/';
        memcpy(st->keys_path + d + 1, EI_DOTENVX_KEYS_FILE,
               sizeof EI_DOTENVX_KEYS_FILE);
    }
    *statep = st;
    return EI_OK;
}

/* The most bytes that the files a libconfig file includes may hold
   together, as much as one file the host reads. */
#define FILE_INCLUDED_MAX (64u * 1024 * 1024)

/* EI_READ_SECRET when the layer is secret, or the host does not say. */
static unsigned file_read_flags(const struct ei_host *h)
{
    return EI_HOST_HAS(h, layer_secret) && !h->layer_secret(h)
               ? 0
               : EI_READ_SECRET;
}

/* An included file is read as the file that includes it. */
static enum ei_status file_read_included(void *ctx, const char *path,
                                         struct ei_buf *out,
                                         struct ei_error *err)
{
    const struct file_state *st = ctx;
    return st->host->read_file(st->host, path, file_read_flags(st->host), out,
                               err);
}

static void file_release_included(void *ctx, struct ei_buf *buf)
{
    const struct file_state *st = ctx;
    st->host->buf_free(st->host, buf);
}

/* The locator of an entry at line (0: none) into fe->locator: what
   snprintf "%s:%d" (or "%s") would write there. */
static void file_locator(struct file_emit *fe, int line)
{
    if (line == fe->line)
        return;
    const size_t room = sizeof(fe->locator) - 1;
    if (fe->line < 0) {
        size_t n = strlen(fe->st->display);
        fe->name_len = n < room ? n : room;
        memcpy(fe->locator, fe->st->display, fe->name_len);
    }
    fe->line = line;
    size_t o = fe->name_len;
    if (line > 0 && o < room) {
        char digits[16];
        size_t d = sizeof(digits);
        for (unsigned v = (unsigned)line; v > 0; v /= 10)
            digits[--d] = (char)('0' + v % 10);
        fe->locator[o++] = ':';
        size_t n = sizeof(digits) - d;
        n = n < room - o ? n : room - o;
        memcpy(fe->locator + o, digits + d, n);
        o += n;
    }
    fe->locator[o] = '\0';
}

static int file_forward(void *ctx, const char *const *name, size_t name_n,
                        const char *value, size_t value_len, int line,
                        unsigned flags, struct ei_error *err)
{
    struct file_emit *fe = ctx;
    file_locator(fe, line);
    return fe->sink->emit(fe->sink, name, name_n, value, value_len, fe->locator,
                          flags, err);
}

static enum ei_status file_fetch(void *state, struct ei_sink *sink,
                                 const struct ei_deadline *dl,
                                 struct ei_error *err)
{
    struct file_state *st = state;
    const struct ei_host *h = st->host;
    struct ei_buf buf = {0};
    /* the file of a secret layer goes to secret memory; another one to
       ordinary memory, wiped when freed (sodium_malloc costs ten system
       calls) */
    enum ei_status rc =
        h->read_file(h, st->path, file_read_flags(h), &buf, err);
    if (rc != EI_OK)
        return rc;
    ei_revision_sha256(h, buf.data, buf.len);
    struct file_emit fe = {.st = st, .sink = sink, .line = -1};
    switch (st->format) {
    case FILE_LIBCONFIG: {
        const struct ei_cfgscan_includes inc = {
            .dir = st->dir,
            .absolute_in_dir = true,
            .max_len = FILE_INCLUDED_MAX,
            .read = file_read_included,
            .release = file_release_included,
            .ctx = st,
            .plain = !buf.secret,
        };
        rc = ei_cfgflat_parse(buf.data, buf.len, st->display, &inc,
                              file_forward, &fe, err);
        break;
    }
    case FILE_JSON:
        rc = ei_jsonflat_parse(buf.data, buf.len, st->display, file_forward,
                               &fe, err);
        break;
    case FILE_DOTENV:
        /* dotenvx's encrypted values decrypted, its public key left out */
        rc = ei_dotenvx_parse(h, st->path, st->display, buf.data, buf.len,
                              file_forward, &fe, &st->keys_read, err);
        break;
    case FILE_YAML:
        /* Spring profiles: the chosen environment selects documents */
        rc = ei_yamlflat_parse(buf.data, buf.len, st->display,
                               h->environment(h), file_forward, &fe, err);
        break;
    }
    h->buf_free(h, &buf);
    return rc;
}

static void file_destroy(void *state)
{
    struct file_state *st = state;
    if (st == NULL)
        return;
    free(st->dir);
    free(st->keys_path);
    free(st);
}

/* The file itself, and the .env.keys file that gave the last fetch its
   dotenvx key; a libconfig @include below it is read again whenever the
   file is, but only the file's own changes are noticed. */
static enum ei_watch_kind file_watch(void *state, const char *const **paths,
                                     int64_t *poll_ms)
{
    struct file_state *st = state;
    (void)poll_ms;
    size_t n = 0;
    st->watched[n++] = st->path;
    if (st->keys_read && st->keys_path != NULL)
        st->watched[n++] = st->keys_path;
    st->watched[n] = NULL;
    *paths = st->watched;
    return EI_WATCH_FILES;
}

/* dotenvx's private keys: the program never gets them (as dotenvx run
   leaves them in its own environment, envinject consumes them). */
static const char *const file_consumed[] = {EI_DOTENVX_PRIVATE,
                                            EI_DOTENVX_PRIVATE "_*", NULL};

EI_PROVIDER_DEFINE(file) = {
    .abi = EI_PROVIDER_ABI,
    .size = sizeof(struct ei_provider),
    .name = "file",
    .summary = "a defaults file: libconfig (.cfg, .conf), JSON (.json), "
               "dotenv (.env) or YAML (.yaml, .yml)",
    .arg_option = "path",
    .flags = EI_PROV_INTERP,
    .configure = file_configure,
    .fetch = file_fetch,
    .lookup = NULL,
    .destroy = file_destroy,
    .env_consumed = file_consumed,
    .watch = file_watch,
};
