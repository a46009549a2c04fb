/* SPDX-License-Identifier: MIT */
/* Reads whole files for providers: regular files only, capped in size, into
   secret memory when asked, with the permission checks of key files. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "diag.h"
#include "readfile.h"
#include "secmem.h"

/* First buffer size when st_size says nothing (procfs, sysfs report 0). */
#define READFILE_MIN_CHUNK 4096

/* Characters that need no shell quoting in the chmod hint. */
#define READFILE_SHELL_SAFE                                                    \
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"           \
    "/._-+,:@%="

static char *readfile_alloc(size_t size, bool secret)
{
    return secret ? ei_sodium_malloc(size) : malloc(size);
}

/* used: how many bytes were ever written into p. */
static void readfile_release(char *p, size_t used, bool secret)
{
    if (p == NULL)
        return;
    if (secret) {
        /* sodium_free wipes the whole allocation itself */
        sodium_free(p);
        return;
    }
    sodium_memzero(p, used);
    free(p);
}

/*
 * The path as the user would type it after "chmod 600": single-quoted when
 * it holds anything a shell would interpret, "./" in front of a leading '-'
 * so chmod does not take it for an option.  Falls back to the bare path when
 * the quoted form does not fit (the error text is truncated anyway).
 */
const char *ei_readfile_shell_path(const char *path, char *out,
                                   size_t out_len)
{
    const char *lead = path[0] == '-' ? "./" : "";
    if (path[strspn(path, READFILE_SHELL_SAFE)] == '\0') {
        int n = snprintf(out, out_len, "%s%s", lead, path);
        return n >= 0 && (size_t)n < out_len ? out : path;
    }
    size_t o = 0;
    const char *parts[] = {lead, "'"};
    for (size_t i = 0; i < 2; i++) {
        size_t l = strlen(parts[i]);
        if (o + l >= out_len)
            return path;
        memcpy(out + o, parts[i], l);
        o += l;
    }
    for (const char *p = path; *p != '\0'; p++) {
        /* a quote ends the quoted run, adds an escaped one, reopens */
        const char *piece = *p == '\'' ? "'\\''" : NULL;
        size_t l = piece != NULL ? strlen(piece) : 1;
        if (o + l >= out_len)
            return path;
        if (piece != NULL)
            memcpy(out + o, piece, l);
        else
            out[o] = *p;
        o += l;
    }
    if (o + 1 >= out_len)
        return path;
    out[o++] = '\'';
    out[o] = '\0';
    return out;
}

static enum ei_status readfile_open_error(const char *path, bool private_,
                                          int errnum, struct ei_error *err)
{
    switch (errnum) {
    case ENOENT:
    case ENOTDIR:
        /* the text is the reason: no strerror after it to say it twice */
        return ei_error_set(err, EI_NOTFOUND, 0, NULL, path, "no such file");
    case ELOOP:
        if (private_)
            return ei_error_set(err, EI_DENIED, 0, NULL, path,
                                "is a symbolic link; give the path of the "
                                "file itself");
        break;
    case ENOMEM:
        return ei_error_set(err, EI_NOMEM, errnum, NULL, path, "cannot open");
    default:
        break;
    }
    return ei_error_set(err, EI_IOERROR, errnum, NULL, path, "cannot open");
}

static ssize_t readfile_read(int fd, char *p, size_t n)
{
    ssize_t r;
    do
        r = read(fd, p, n);
    while (r < 0 && errno == EINTR);
    return r;
}

/*
 * Read fd to the end.  st_size is only a hint: files in /proc say 0, and a
 * file may grow while we read, so the buffer grows (never past max_len)
 * and a one-byte probe tells a full buffer from the end of the file.
 */
static enum ei_status readfile_loop(int fd, const char *path, size_t hint,
                                    size_t max_len, bool secret,
                                    struct ei_buf *out, struct ei_error *err)
{
    size_t cap = hint;
    if (cap == 0)
        cap = max_len < READFILE_MIN_CHUNK ? max_len : READFILE_MIN_CHUNK;
    char *data = readfile_alloc(cap + 1, secret);
    if (data == NULL)
        return ei_error_set(err, EI_NOMEM, ENOMEM, NULL, path,
                            "out of memory for %zu bytes", cap + 1);
    size_t len = 0;
    for (;;) {
        if (len < cap) {
            ssize_t n = readfile_read(fd, data + len, cap - len);
            if (n < 0) {
                int e = errno;
                readfile_release(data, len, secret);
                return ei_error_set(err, EI_IOERROR, e, NULL, path,
                                    "cannot read");
            }
            if (n == 0)
                break;
            len += (size_t)n;
            continue;
        }
        char probe = 0;
        ssize_t n = readfile_read(fd, &probe, 1);
        if (n < 0) {
            int e = errno;
            readfile_release(data, len, secret);
            return ei_error_set(err, EI_IOERROR, e, NULL, path, "cannot read");
        }
        if (n == 0)
            break;
        if (len >= max_len) {
            sodium_memzero(&probe, sizeof probe);
            readfile_release(data, len, secret);
            return ei_error_set(err, EI_BADDATA, 0, NULL, path,
                                "larger than %zu bytes", max_len);
        }
        /* len == cap < max_len here, so grown > cap */
        size_t grown = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
        if (grown < READFILE_MIN_CHUNK)
            grown = READFILE_MIN_CHUNK;
        if (grown > max_len)
            grown = max_len;
        char *bigger = readfile_alloc(grown + 1, secret);
        if (bigger == NULL) {
            sodium_memzero(&probe, sizeof probe);
            readfile_release(data, len, secret);
            return ei_error_set(err, EI_NOMEM, ENOMEM, NULL, path,
                                "out of memory for %zu bytes", grown + 1);
        }
        memcpy(bigger, data, len);
        readfile_release(data, len, secret);
        bigger[len++] = probe;
        sodium_memzero(&probe, sizeof probe);
        data = bigger;
        cap = grown;
    }
    data[len] = '\0';
    out->data = data;
    out->len = len;
    out->secret = secret;
    return EI_OK;
}

enum ei_status ei_readfile(const char *path, unsigned flags, size_t max_len,
                           struct ei_buf *out, struct ei_error *err)
{
    bool secret = (flags & EI_READ_SECRET) != 0;
    bool private_ = (flags & EI_READ_PRIVATE) != 0;
    memset(out, 0, sizeof *out);
    /* the buffer holds max_len bytes and a NUL */
    if (max_len == SIZE_MAX)
        max_len--;

    /* O_NONBLOCK: a FIFO planted where a file should be must not hang us
       in open(); it is refused right after the fstat */
    int oflags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    if (private_)
        oflags |= O_NOFOLLOW;
    int fd;
    do
        fd = open(path, oflags);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return readfile_open_error(path, private_, errno, err);

    enum ei_status status = EI_OK;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        status =
            ei_error_set(err, EI_IOERROR, errno, NULL, path, "cannot stat");
    } else if (!S_ISREG(st.st_mode)) {
        status =
            ei_error_set(err, EI_IOERROR, 0, NULL, path, "not a regular file");
    } else if (private_ && (st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
        char quoted[EI_ERR_TEXT_LEN];
        status = ei_error_set(
            err, EI_DENIED, 0, NULL, path,
            "readable by group or others (mode %04o); run: chmod 600 %s",
            (unsigned)(st.st_mode & 07777),
            ei_readfile_shell_path(path, quoted, sizeof quoted));
    } else if (st.st_size < 0 || (uintmax_t)st.st_size > max_len) {
        status = ei_error_set(err, EI_BADDATA, 0, NULL, path,
                              "larger than %zu bytes", max_len);
    } else {
        /* regular files ignore O_NONBLOCK on Linux; not every system or
           network filesystem promises that.  The status flags are those
           of the open but O_NONBLOCK (F_SETFL ignores the access mode and
           the creation flags), so there is no need to ask with F_GETFL */
        if (fcntl(fd, F_SETFL, oflags & ~O_NONBLOCK) != 0)
            status =
                ei_error_set(err, EI_IOERROR, errno, NULL, path, "cannot open");
        else
            status = readfile_loop(fd, path, (size_t)st.st_size, max_len,
                                   secret, out, err);
    }
    close(fd);
    return status;
}

void ei_readfile_free(struct ei_buf *buf)
{
    if (buf == NULL)
        return;
    if (buf->data != NULL)
        readfile_release(buf->data, buf->len + 1, buf->secret);
    memset(buf, 0, sizeof *buf);
}
