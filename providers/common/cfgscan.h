/* SPDX-License-Identifier: MIT */
/* A check of libconfig text before libconfig reads it: what libconfig
   would take too slowly or change without a word. */
#ifndef EI_PROVIDERS_CFGSCAN_H
#define EI_PROVIDERS_CFGSCAN_H

#include <stdbool.h>
#include <stddef.h>

#include <envinject/provider.h>

/*
 * The most named settings (name = value) one libconfig text may hold.
 * libconfig looks for a duplicate name on every insert into a group, so a
 * group of n settings costs n * n / 2 comparisons: 10,000 take about half
 * a second, 40,000 some 10 seconds, and no deadline can stop the parse.
 */
#define EI_CFGSCAN_MAX_SETTINGS 10000

/*
 * The deepest @include nesting followed, libconfig 1.5's own limit
 * (MAX_INCLUDE_DEPTH): the top file and ten levels of included files.
 */
#define EI_CFGSCAN_MAX_DEPTH 10
/*
 * The most @include directives one text and the files it includes may
 * hold together.  Each is a file that libconfig opens and reads again;
 * a file that includes an empty file a million times would cost seconds
 * without a single setting.
 */
#define EI_CFGSCAN_MAX_INCLUDES 256

/* Reads the file at path (an @include target) into out, or fails with
   err filled; EI_NOTFOUND leaves the missing file to libconfig. */
typedef enum ei_status (*ei_cfgscan_read_fn)(void *ctx, const char *path,
                                             struct ei_buf *out,
                                             struct ei_error *err);
/* Releases (and wipes) what the read function filled. */
typedef void (*ei_cfgscan_release_fn)(void *ctx, struct ei_buf *buf);

/*
 * How the files that @include names are found and read.  libconfig opens
 * them itself, with no hook in 1.5, so they are checked before it parses:
 * dir is the folder names are resolved against; absolute_in_dir says that
 * an absolute name is resolved inside dir too (libconfig 1.5 with
 * config_set_include_dir; without it, and with dir the working folder,
 * an absolute name is used as it is).  read should refuse anything but a
 * regular file without blocking (a FIFO would hang libconfig's fopen).
 * max_len bounds the bytes of all included files together.
 */
struct ei_cfgscan_includes {
    const char *dir;
    bool absolute_in_dir;
    size_t max_len;
    ei_cfgscan_read_fn read;
    ei_cfgscan_release_fn release;
    void *ctx;
    /* the text is not secret (its layer is not): ei_cfgflat_parse frees
       its scanned copy without a wipe */
    bool plain;
};

/*
 * Check len bytes of libconfig text and copy them for config_read_string.
 * Refused with EI_BADDATA and a locator "FILE:LINE" (file NULL: "config"):
 * a NUL byte in the text; "\x00" in a string (libconfig would drop it);
 * an integer outside the signed 64-bit range (libconfig would saturate
 * it); more than EI_CFGSCAN_MAX_SETTINGS named settings (the text says to
 * use JSON or dotenv).  An integer without the L suffix outside the
 * 32-bit range gets one in the copy: libconfig 1.5 would cut it to 32
 * bits, later versions read it as 64-bit themselves.  Inside an array,
 * where libconfig wants every element of one type, every integer gets an
 * L when one needs it.  Leading zeros do not count towards the range
 * (libconfig reads 0010 as 10).  Error texts never hold a value.
 *
 * On EI_OK, *out is a NUL-terminated copy of *out_len bytes that the
 * caller releases with ei_cfgscan_free (it may hold secrets).  Otherwise
 * EI_BADDATA or EI_NOMEM with err filled, *out NULL.  @include lines are
 * copied as they are: libconfig reads those files itself.
 */
enum ei_status ei_cfgscan(const char *buf, size_t len, const char *file,
                          char **out, size_t *out_len, struct ei_error *err);

/*
 * ei_cfgscan, and the same checks of every file that an @include line
 * names, recursively (inc NULL: ei_cfgscan): the target must be a regular
 * file (inc->read says why not), the settings limit counts the settings
 * of every file together, at most EI_CFGSCAN_MAX_DEPTH levels and
 * EI_CFGSCAN_MAX_INCLUDES directives are followed, and included files
 * hold at most inc->max_len bytes together.  libconfig reads an included
 * file itself, so nothing can be added to it: an integer there that
 * needs the L suffix is refused.  Errors in an included file are located
 * at its path and line; a missing file is left to libconfig, which
 * reports it at the @include line.  Only *out (the top text) is returned.
 */
enum ei_status ei_cfgscan_with_includes(const char *buf, size_t len,
                                        const char *file,
                                        const struct ei_cfgscan_includes *inc,
                                        char **out, size_t *out_len,
                                        struct ei_error *err);

/* Wipe and free what ei_cfgscan returned; NULL is fine. */
void ei_cfgscan_free(char *text, size_t len);

/* Free what ei_cfgscan returned from text that is not secret, without the
   wipe (an instruction a byte); NULL is fine. */
void ei_cfgscan_free_plain(char *text);

#endif
