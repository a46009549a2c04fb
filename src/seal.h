/* SPDX-License-Identifier: MIT */
/* The seal commands: make a key pair, encrypt an ejson file in place, set
   one value; files stay readable by ejson and ejson2env. */
#ifndef EI_SEAL_H
#define EI_SEAL_H

#include <stdbool.h>
#include <stdio.h>

#include "envinject/provider.h"

/* The largest file the seal commands read, and the largest value set. */
#define EI_SEAL_FILE_MAX  (16u * 1024 * 1024)
#define EI_SEAL_VALUE_MAX (1024u * 1024)

/* The key folder when neither --keydir nor EJSON_KEYDIR says otherwise. */
#define EI_SEAL_KEYDIR "/opt/ejson/keys"

/*
 * Make a Curve25519 key pair (crypto_box_keypair).  Unless write_stdout,
 * the private key (64 lower-case hex digits and a newline) goes to a new
 * file, out_file if given, else keydir/<public key hex> (keydir NULL:
 * $EJSON_KEYDIR, else EI_SEAL_KEYDIR; the folder and its missing parents
 * are created 0700, EI_DENIED when that is not allowed), created
 * with O_EXCL|O_NOFOLLOW and mode 0600 (an existing file is never
 * overwritten), and the public key hex and a newline are printed on out.
 * With write_stdout, nothing is written to disk and out gets ejson's
 * keygen layout: "Public Key:", the public key, "Private Key:", the private
 * key, one per line.  The private key is wiped from memory afterwards.
 * Returns 0, or -1 with err: EI_USAGE (out_file with write_stdout),
 * EI_IOERROR (cannot create or write the file, errnum set; EEXIST when it
 * exists), EI_OSERR (out cannot be written), EI_NOMEM, EI_INTERNAL
 * (sodium_init failed).
 */
int ei_seal_keygen(const char *keydir, const char *out_file, bool write_stdout,
                   FILE *out, struct ei_error *err);

/*
 * Encrypt file in place the way "ejson encrypt" does: every string ejson
 * would encrypt that is not already a token is sealed to the file's
 * _public_key (one ephemeral key pair for the run, a fresh nonce per
 * value); raw line breaks inside strings become \n and \r; every other byte
 * is kept.  The new content goes to a temporary file in the same folder
 * with the same mode, is fsync'd and renamed over the file (a symbolic link
 * is followed, and the file it names is replaced).  A file that would not
 * change is not rewritten.  Prints "encrypted PATH" on out for each value
 * sealed (PATH as in environment.DB_PASSWORD).  Returns 0, or -1 with err:
 * EI_NOTFOUND, EI_IOERROR (errnum set), EI_BADDATA (malformed JSON, no
 * usable _public_key; locator FILE or FILE:LINE), EI_NOMEM.
 */
int ei_seal_encrypt(const char *file, FILE *out, struct ei_error *err);

/*
 * Set one value: read it from value_fd to the end (at most
 * EI_SEAL_VALUE_MAX bytes; one trailing newline is dropped; a NUL byte is
 * refused), seal it to the file's _public_key, and store it under key in
 * the top-level "environment" object when the file has one, else at the
 * top level.  key is a variable name ([A-Za-z_][A-Za-z0-9_]*), or
 * "environment.NAME" to insist on the environment object.  A name starting
 * with '_' is stored as plain JSON text (ejson never encrypts it; it must
 * be UTF-8).  An existing member of that name (the last one, when the name
 * repeats) gets the new value in place; otherwise the member is added
 * after the last one, in the layout of its neighbours.  Nothing else is
 * encrypted.  Written like ei_seal_encrypt; prints "set PATH (encrypted)"
 * or "set PATH (plaintext)" on out.  The value never appears in err.
 * Returns 0, or -1 with err: EI_USAGE (bad key, no environment object for
 * "environment.NAME", _public_key or environment at the top level),
 * EI_NOTFOUND (file missing: the text points to seal keygen), EI_BADDATA
 * (malformed file, value with NUL or not UTF-8 for a '_' name, value too
 * large), EI_IOERROR, EI_NOMEM.
 */
int ei_seal_set(const char *file, const char *key, int value_fd, FILE *out,
                struct ei_error *err);

#endif
