/* SPDX-License-Identifier: MIT */
/* The dir provider: a folder of files (/run/secrets, a Kubernetes secret
   volume, $CREDENTIALS_DIRECTORY), file name -> key, content -> value. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <envinject/provider.h>

#include "common/revision.h"

/* More files than this is a mistake (the wrong folder), not configuration. */
#define DIR_MAX_FILES 10000

/* Where systemd puts a service's credentials (systemd.exec(5)). */
#define DIR_CREDENTIALS_VAR "CREDENTIALS_DIRECTORY"

struct dir_state {
    const struct ei_host *host;
    char *path; /* without trailing '/', except for "/" itself */
    const char *watched[2]; /* path, for watch */
    bool trim_newline;
    /* the revision: name, NUL, length (8 bytes little-endian) and bytes
       of every file read, in the sorted order of fetch */
    crypto_hash_sha256_state rev;
    bool want_rev; /* a revision is kept (host.revision_wanted) */
};

struct dir_names {
    char **v;
    size_t n;
    size_t cap;
};

static void dir_names_free(struct dir_names *names)
{
    for (size_t i = 0; i < names->n; i++)
        free(names->v[i]);
    free(names->v);
    names->v = NULL;
    names->n = names->cap = 0;
}

static enum ei_status dir_configure(const struct ei_host *host, void **statep,
                                    struct ei_error *err)
{
    const char *path = NULL;
    int r = host->opt_path(host, "path", &path, err);
    if (r < 0)
        return ei_error_status(err, EI_BADCONFIG);
    if (r == 0) {
        path = host->env_get(host, DIR_CREDENTIALS_VAR);
        if (path == NULL || path[0] == '\0')
            return host->error(host, err, EI_BADCONFIG, 0, "path",
                               "path is required (or set "
                               "CREDENTIALS_DIRECTORY)");
    } else if (path[0] == '\0') {
        return host->error(host, err, EI_BADCONFIG, 0, "path",
                           "path must not be empty");
    }
    bool trim = true;
    if (host->opt_bool(host, "trim_newline", &trim, err) < 0)
        return ei_error_status(err, EI_BADCONFIG);

    struct dir_state *st = calloc(1, sizeof *st);
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        len--;
    char *copy = malloc(len + 1);
    if (st == NULL || copy == NULL) {
        free(st);
        free(copy);
        return host->error(host, err, EI_NOMEM, 0, NULL, "out of memory");
    }
    memcpy(copy, path, len);
    copy[len] = '\0';
    st->host = host;
    st->path = copy;
    st->trim_newline = trim;
    *statep = st;
    return EI_OK;
}

static int dir_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static enum ei_status dir_open_error(const struct dir_state *st, int errnum,
                                     struct ei_error *err)
{
    const struct ei_host *h = st->host;
    struct stat sb;
    switch (errnum) {
    case ENOENT:
        /* the text is the reason: no strerror after it to say it twice */
        return h->error(h, err, EI_NOTFOUND, 0, st->path, "no such folder");
    case ENOTDIR:
        /* either the path itself or one of its parents is no folder */
        if (stat(st->path, &sb) == 0)
            return h->error(h, err, EI_IOERROR, 0, st->path, "not a folder");
        return h->error(h, err, EI_NOTFOUND, 0, st->path, "no such folder");
    case ENOMEM:
        return h->error(h, err, EI_NOMEM, errnum, st->path,
                        "cannot open the folder");
    default:
        return h->error(h, err, EI_IOERROR, errnum, st->path,
                        "cannot open the folder");
    }
}

/*
 * The names worth a look, sorted so that fetch is deterministic.  Names
 * starting with '.' are left out: Kubernetes keeps its "..data" symlink
 * and "..2024_01_01_..." timestamped folders next to the key files.
 */
static enum ei_status dir_list(const struct dir_state *st, DIR *d,
                               struct dir_names *names, struct ei_error *err)
{
    const struct ei_host *h = st->host;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (de == NULL) {
            if (errno != 0)
                return h->error(h, err, EI_IOERROR, errno, st->path,
                                "cannot read the folder");
            break;
        }
        if (de->d_name[0] == '.')
            continue;
        if (names->n == DIR_MAX_FILES)
            return h->error(h, err, EI_BADDATA, 0, st->path,
                            "more than %d files", DIR_MAX_FILES);
        if (names->n == names->cap) {
            size_t cap = names->cap != 0 ? names->cap * 2 : 32;
            char **grown = realloc(names->v, cap * sizeof *grown);
            if (grown == NULL)
                return h->error(h, err, EI_NOMEM, 0, st->path, "out of memory");
            names->v = grown;
            names->cap = cap;
        }
        size_t len = strlen(de->d_name) + 1;
        char *copy = malloc(len);
        if (copy == NULL)
            return h->error(h, err, EI_NOMEM, 0, st->path, "out of memory");
        memcpy(copy, de->d_name, len);
        names->v[names->n++] = copy;
    }
    if (names->n > 1)
        qsort(names->v, names->n, sizeof *names->v, dir_name_cmp);
    return EI_OK;
}

static enum ei_status dir_one(struct dir_state *st, int dfd, const char *name,
                              struct ei_sink *sink, struct ei_error *err)
{
    const struct ei_host *h = st->host;
    const char *sep = strcmp(st->path, "/") == 0 ? "" : "/";
    size_t plen = strlen(st->path) + strlen(sep) + strlen(name) + 1;
    char *path = malloc(plen);
    if (path == NULL)
        return h->error(h, err, EI_NOMEM, 0, st->path, "out of memory");
    memcpy(path, st->path, strlen(st->path));
    memcpy(path + strlen(st->path), sep, strlen(sep));
    memcpy(path + strlen(st->path) + strlen(sep), name, strlen(name) + 1);

    /* follow symlinks: Kubernetes key files are links into ..data */
    struct stat sb;
    enum ei_status status = EI_OK;
    if (fstatat(dfd, name, &sb, 0) != 0) {
        int e = errno;
        if (e == ENOENT || e == ELOOP) {
            h->log(h, EI_LOG_DEBUG,
                   "%s: skipped: dangling or looping symbolic link", path);
        } else {
            status = h->error(h, err, EI_IOERROR, e, path, "cannot stat");
        }
        free(path);
        return status;
    }
    if (!S_ISREG(sb.st_mode)) {
        h->log(h, EI_LOG_DEBUG, "%s: skipped: not a regular file", path);
        free(path);
        return EI_OK;
    }

    struct ei_buf buf = {0};
    struct ei_error rerr = {0};
    status = h->read_file(h, path, EI_READ_SECRET, &buf, &rerr);
    if (status == EI_NOTFOUND) {
        /* removed since readdir; a missing member is not a missing folder,
           which is what EI_NOTFOUND would tell an optional layer */
        h->log(h, EI_LOG_DEBUG, "%s: skipped: removed while reading", path);
        free(path);
        return EI_OK;
    }
    if (status != EI_OK) {
        h->error(h, err, status, rerr.errnum, path, "%s", rerr.text);
        free(path);
        return status;
    }
    size_t len = buf.len;
    const char *nul = memchr(buf.data, '\0', len);
    if (nul != NULL) {
        status = h->error(h, err, EI_BADDATA, 0, path,
                          "%s: the file holds a NUL byte at offset %zu "
                          "(%zu bytes)",
                          name, (size_t)(nul - buf.data), buf.len);
    } else {
        if (st->trim_newline && len > 0 && buf.data[len - 1] == '\n')
            len--;
        if (st->want_rev) {
            unsigned char n8[8];
            for (size_t i = 0; i < sizeof(n8); i++)
                n8[i] = (unsigned char)((uint64_t)buf.len >> (8 * i));
            crypto_hash_sha256_update(&st->rev, (const unsigned char *)name,
                                      strlen(name) + 1);
            crypto_hash_sha256_update(&st->rev, n8, sizeof(n8));
            crypto_hash_sha256_update(
                &st->rev, (const unsigned char *)buf.data, buf.len);
        }
        const char *seg[1] = {name};
        if (sink->emit(sink, seg, 1, buf.data, len, path, 0, err) != 0)
            status = ei_error_status(err, EI_INTERNAL);
    }
    h->buf_free(h, &buf);
    free(path);
    return status;
}

static enum ei_status dir_fetch(void *state, struct ei_sink *sink,
                                const struct ei_deadline *dl,
                                struct ei_error *err)
{
    struct dir_state *st = state;
    const struct ei_host *h = st->host;
    int fd;
    do
        fd = open(st->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return dir_open_error(st, errno, err);
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        int e = errno;
        close(fd);
        return dir_open_error(st, e, err);
    }
    struct dir_names names = {0};
    st->want_rev = ei_revision_wanted(h);
    crypto_hash_sha256_init(&st->rev);
    enum ei_status status = dir_list(st, d, &names, err);
    for (size_t i = 0; status == EI_OK && i < names.n; i++) {
        if (dl != NULL && h->remaining_ms(h, dl) == 0) {
            status = h->error(h, err, EI_UNAVAILABLE, 0, st->path,
                              "timed out after %zu of %zu files", i, names.n);
            break;
        }
        status = dir_one(st, dirfd(d), names.v[i], sink, err);
    }
    dir_names_free(&names);
    closedir(d);
    if (status == EI_OK && st->want_rev)
        ei_revision_report_sha256(h, &st->rev);
    sodium_memzero(&st->rev, sizeof(st->rev));
    return status;
}

static void dir_destroy(void *state)
{
    struct dir_state *st = state;
    if (st == NULL)
        return;
    free(st->path);
    free(st);
}

/* The folder: a file added, removed, replaced or written in it, and the
   "..data" link that Kubernetes swaps to update a volume at once. */
static enum ei_watch_kind dir_watch(void *state, const char *const **paths,
                                    int64_t *poll_ms)
{
    struct dir_state *st = state;
    (void)poll_ms;
    st->watched[0] = st->path;
    st->watched[1] = NULL;
    *paths = st->watched;
    return EI_WATCH_FILES;
}

EI_PROVIDER_DEFINE(dir) = {
    .abi = EI_PROVIDER_ABI,
    .size = sizeof(struct ei_provider),
    .name = "dir",
    .summary = "a folder of files: name -> key, content -> value",
    .arg_option = "path",
    .flags = EI_PROV_SECRET,
    .configure = dir_configure,
    .fetch = dir_fetch,
    .lookup = NULL,
    .destroy = dir_destroy,
    .env_consumed = NULL,
    .watch = dir_watch,
};
