/* SPDX-License-Identifier: MIT */
/* The last-known-good cache: a layer's entries sealed with
   XChaCha20-Poly1305 into one file per configuration, layer and
   environment, read back when the layer's source is down. */
#ifndef EI_CACHE_H
#define EI_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "envinject/provider.h"

struct ei_envset;
struct ei_store;
struct ei_cache_conf;
struct ei_layer_conf;

/* Bytes of the cache key: 64 hex digits in the key file or variable. */
#define EI_CACHE_KEY_LEN 32
/* The largest cache file written or read. */
#define EI_CACHE_FILE_MAX (64 * 1024 * 1024)
/* A write time this far ahead of the clock is refused (ms): a cache
   written under a clock set wrong would otherwise never grow old. */
#define EI_CACHE_FUTURE_MS (5 * 60 * 1000)
/* File layout: magic, version, flags, write time, key id, options id. */
#define EI_CACHE_MAGIC      "EICACHE\n"
#define EI_CACHE_VERSION    1
#define EI_CACHE_HEADER_LEN (8 + 4 + 4 + 8 + 16 + 32)
#define EI_CACHE_ID_LEN     32

/* The keys: the one given, and the subkeys derived from it. */
struct ei_cache_key;

/*
 * Parse a key: exactly 64 hex digits, one final "\n" (or "\r\n")
 * allowed; the result lives in secret memory.  what names the source
 * for the message ("$ENVINJECT_CACHE_KEY", the key file).  NULL with err
 * EI_BADCONFIG (the text gives the length found, never the digits), or
 * EI_NOMEM.
 */
struct ei_cache_key *ei_cache_key_parse(const char *text, size_t len,
                                        const char *what, struct ei_error *err);
void ei_cache_key_free(struct ei_cache_key *k);

/* What a cache file is bound to (the associated data). */
struct ei_cache_ident {
    const char *config;      /* the configuration file's absolute path */
    const char *layer;       /* the layer's name */
    const char *provider;    /* its provider */
    const char *environment; /* the environment, or "" */
    unsigned char options[EI_CACHE_ID_LEN]; /* ei_cache_options_id */
};

/*
 * The identity of a layer's options: a keyed BLAKE2b of its provider,
 * its --layer ARG and every option except those that change how, not
 * what, it fetches (timeout, poll_interval, optional, on_error).  Keyed,
 * so that an option holding a credential cannot be guessed from a file.
 */
void ei_cache_options_id(const struct ei_cache_key *k,
                         const struct ei_layer_conf *lc,
                         unsigned char out[EI_CACHE_ID_LEN]);

/* The file name of a layer's cache: 32 hex digits of an unkeyed hash of
   configuration, layer and environment, then ".cache"; out holds 40. */
#define EI_CACHE_NAME_LEN 40
void ei_cache_file_name(const struct ei_cache_ident *id,
                        char out[EI_CACHE_NAME_LEN]);

/*
 * Serialise the entries of set (insertion order: key, value, flags,
 * locator, source name), then revision (the source's, host.revision;
 * NULL or "": none) and seal them: a new file image in *out (malloc'd,
 * free with free(); it holds no plain value), *out_len bytes.  written_ms:
 * the write time, in ms since the epoch.  -1 with err (EI_NOMEM, or
 * EI_BADDATA when the image would pass EI_CACHE_FILE_MAX).
 */
int ei_cache_seal(const struct ei_cache_key *k, const struct ei_cache_ident *id,
                  int64_t written_ms, const struct ei_envset *set,
                  const char *revision, unsigned char **out, size_t *out_len,
                  struct ei_error *err);

/* Why a file image was not used. */
enum ei_cache_result {
    EI_CACHE_OK = 0,
    EI_CACHE_ABSENT,        /* no file */
    EI_CACHE_BAD,           /* malformed, tampered: failed authentication */
    EI_CACHE_OTHER_KEY,     /* sealed with another key */
    EI_CACHE_OTHER_VERSION, /* another format version */
    EI_CACHE_OTHER_OPTIONS, /* written for other options of the layer */
    EI_CACHE_FUTURE,        /* written in the future (clock changed) */
    EI_CACHE_TOO_OLD,       /* older than max_age */
    EI_CACHE_UNREADABLE,    /* the file could not be read */
    EI_CACHE_NOMEM
};

/* One entry read back, as the sink would have staged it. */
struct ei_cache_entry {
    const char *key;
    const char *value;
    size_t value_len;
    unsigned flags;      /* EI_ENTRY_SECRET, _LITERAL, _UNSET */
    const char *locator; /* may be NULL */
    const char *source;  /* may be NULL */
};

/* Called for every entry of an opened cache, in the order written;
   non-zero stops the walk and is returned. */
typedef int (*ei_cache_entry_fn)(void *ctx, const struct ei_cache_entry *e);

/*
 * Open a file image: check its header against k and id, authenticate and
 * decrypt it (into secret memory, wiped before return), check its age
 * against max_age_ms at now_ms (ms since the epoch), and hand each entry
 * to fn.  *age_ms (when not NULL) receives the age whenever the header
 * could be read.  Returns EI_CACHE_OK, or why the image is not used
 * (then fn was never called: an image is used whole or not at all),
 * or the non-zero value of fn as EI_CACHE_NOMEM.  revision (NULL, or
 * EI_REVISION_MAX + 1 bytes) receives the revision sealed with the
 * entries, "" when none.
 */
enum ei_cache_result ei_cache_open(const struct ei_cache_key *k,
                                   const struct ei_cache_ident *id,
                                   const unsigned char *data, size_t len,
                                   int64_t now_ms, int64_t max_age_ms,
                                   int64_t *age_ms, ei_cache_entry_fn fn,
                                   void *ctx, char *revision);

/*
 * Walk the records of a decrypted payload (the parser behind
 * ei_cache_open, exposed for the fuzz target): 0, or -1 when malformed,
 * or fn's non-zero value.
 */
int ei_cache_parse(const unsigned char *plain, size_t len, ei_cache_entry_fn fn,
                   void *ctx, char *revision);

/* "42s", "3m12s", "5h3m", "2d4h": an age as messages and origins show it. */
void ei_cache_age_text(int64_t age_ms, char *buf, size_t len);

/* The cache of one resolution: its folder and key. */
struct ei_cache;

/*
 * Open the cache of conf (a cache group was given): read the key
 * ($ENVINJECT_CACHE_KEY from envp first, else key_file, which must be
 * private), and open the folder, creating it (mode 0700) when missing.
 * NULL with err: EI_BADCONFIG (no key, a malformed key, dir not a
 * folder), EI_NOTFOUND / EI_DENIED / EI_IOERROR for the key file,
 * EI_DENIED for a folder that others may use or another user owns (the
 * chmod that fixes it in the text).  A folder that cannot be created is
 * no error: a warning says why, and the cache is opened without one
 * (nothing is read or written).
 */
struct ei_cache *ei_cache_new(const struct ei_cache_conf *conf,
                              const char *const *envp, struct ei_error *err);
void ei_cache_free(struct ei_cache *c);

/* The key of c (for identities). */
const struct ei_cache_key *ei_cache_key(const struct ei_cache *c);

/* Current time in ms since the epoch (CLOCK_REALTIME). */
int64_t ei_cache_now_ms(void);

/*
 * Write the entries of set as the cache of id, atomically (a temporary
 * file in the folder, fsync, rename, fsync of the folder), mode 0600.
 * -1 with err when it could not be written (the caller warns: a cache
 * that cannot be written never fails a resolution).
 */
int ei_cache_write(struct ei_cache *c, const struct ei_cache_ident *id,
                   const struct ei_envset *set, const char *revision,
                   struct ei_error *err);

/*
 * Read the cache of id as ei_cache_open does, with the file's
 * max_age; EI_CACHE_UNREADABLE sets err (the reason, errno).
 */
enum ei_cache_result ei_cache_read(struct ei_cache *c,
                                   const struct ei_cache_ident *id,
                                   int64_t *age_ms, ei_cache_entry_fn fn,
                                   void *ctx, char *revision,
                                   struct ei_error *err);

/* max_age of c, in ms. */
int64_t ei_cache_max_age_ms(const struct ei_cache *c);

#endif
