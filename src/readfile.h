/* SPDX-License-Identifier: MIT */
/* Reading a whole file into memory, with the checks that key and token
   files need; the implementation behind ei_host.read_file. */
#ifndef EI_READFILE_H
#define EI_READFILE_H

#include <stddef.h>

#include "envinject/provider.h"

/*
 * Read the regular file at path into out.  flags: EI_READ_SECRET puts the
 * content in sodium_malloc'd memory (out->secret set); EI_READ_PRIVATE
 * refuses a symbolic link and a file that group or others may read.
 * max_len is the largest size accepted, in bytes.
 *
 * On success out->data holds out->len bytes plus a NUL (the content may
 * hold NUL bytes of its own); release it with ei_readfile_free.  On
 * failure out is zeroed and err filled (locator: the path, no layer):
 * EI_NOTFOUND (no such file: errnum 0, the text says it), EI_DENIED (PRIVATE checks), EI_BADDATA (over
 * max_len), EI_IOERROR (not a regular file, unreadable; errnum set),
 * EI_NOMEM.  The content never appears in err.  Thread-safe.
 */
enum ei_status ei_readfile(const char *path, unsigned flags, size_t max_len,
                           struct ei_buf *out, struct ei_error *err);

/*
 * The path as a user would type it after "chmod 600": single-quoted when a
 * shell would interpret any of it, "./" before a leading '-'.  Written to
 * out; returns out, or path itself when the quoted form does not fit.
 */
const char *ei_readfile_shell_path(const char *path, char *out,
                                   size_t out_len);

/* Wipe and free what ei_readfile returned, then zero buf; a zeroed buf or
   NULL is fine. */
void ei_readfile_free(struct ei_buf *buf);

#endif
