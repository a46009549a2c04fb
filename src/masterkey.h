/* SPDX-License-Identifier: MIT */
/* A 32-byte master key given as 64 hex digits, in a variable of the
   process environment or in a private key file: the cache's key, the
   audit record's key. */
#ifndef EI_MASTERKEY_H
#define EI_MASTERKEY_H

#include <stddef.h>

#include "envinject/provider.h"

/* Bytes of a master key (64 hex digits in its file or variable). */
#define EI_MASTER_KEY_LEN 32

/*
 * Parse text (len bytes): exactly 64 hex digits, one final "\n" (or
 * "\r\n") allowed, into key (EI_MASTER_KEY_LEN bytes, the caller's, best
 * in secret memory).  what names the source for the message (the
 * variable, the key file), use what the key is for ("cache", "audit").
 * 0, or -1 with err EI_BADCONFIG: the text gives the length found, never
 * the digits.
 */
int ei_master_key_parse(const char *text, size_t len, const char *use,
                        const char *what, unsigned char *key,
                        struct ei_error *err);

/*
 * The key of use: from the variable var of envp when it is set (it wins
 * over the file), else from key_file (NULL: none) read as a secret that
 * must be private to its owner (77 with the chmod that fixes it).  where
 * locates the configuration's group for the message when neither is
 * given.  0, or -1 with err.
 */
int ei_master_key_read(const char *use, const char *var, const char *key_file,
                       const char *where, const char *const *envp,
                       unsigned char *key, struct ei_error *err);

#endif
