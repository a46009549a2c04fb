/* SPDX-License-Identifier: MIT */
/* Flattening of JSON documents into entries, for every provider that reads
   JSON (file, vault, aws-secrets, http). */
#ifndef EI_PROVIDERS_JSONFLAT_H
#define EI_PROVIDERS_JSONFLAT_H

#include <stddef.h>

#include <envinject/provider.h>
#include <jansson.h>

#include "emit.h"

/*
 * Walk an object and emit one entry per scalar leaf: the name is the path
 * of member names; strings as they are, integers in decimal, reals in the
 * shortest form that reads back exactly, booleans true/false, null as the
 * empty string; an array of scalars is joined with ',' (strings as they
 * are); an array holding an object or array becomes compact JSON text.
 * An empty object emits nothing.  line is 0.  base (may be NULL, base_n 0)
 * is prepended to every name.  Returns EI_OK, EI_BADDATA when root is not
 * an object (text says what it is), EI_NOMEM, or what the callback set.
 */
enum ei_status ei_jsonflat_walk(const json_t *root, const char *const *base,
                                size_t base_n, const char *what,
                                ei_emit_fn emit, void *ctx,
                                struct ei_error *err);

/*
 * Parse a JSON document (len bytes, need not be NUL-terminated) and walk
 * it.  what names the source in error locators: "FILE:LINE" for syntax
 * errors (jansson's line), "FILE" otherwise.  Returns EI_BADDATA for
 * malformed JSON, duplicate keys or a non-object top level.
 */
enum ei_status ei_jsonflat_parse(const char *buf, size_t len, const char *what,
                                 ei_emit_fn emit, void *ctx,
                                 struct ei_error *err);

/*
 * Parse a JSON document (len bytes, need not be NUL-terminated) as
 * ei_jsonflat_parse does, without walking it: *out is a new reference
 * to any JSON value (json_decref it).  Errors as for ei_jsonflat_parse,
 * never quoting the input.
 */
enum ei_status ei_jsonflat_load(const char *buf, size_t len, const char *what,
                                json_t **out, struct ei_error *err);

/*
 * Parse a server's reply (len bytes of body, NULL for none) with
 * duplicate member names refused.  NULL on failure, err filled: EI_NOMEM,
 * or EI_BADDATA "REPLY: malformed JSON at byte N of LEN: jansson's words"
 * with what as the locator; the words never quote the input, which may
 * hold a secret.  The caller json_decref's the result.
 */
json_t *ei_json_load_reply(const char *body, size_t len, const char *what,
                           const char *reply, struct ei_error *err);

/* A path of member names as error texts show it: joined with '.',
   control characters as '?', cut to fit out (NUL-terminated). */
void ei_jsonflat_path_text(const char *const *path, size_t n, char *out,
                           size_t out_len);

/* s (len bytes, NULs allowed) as a JSON string, quotes included, as
   ei_jsonflat_walk writes strings inside JSON text: into out when out is
   not NULL (room for the length that a call with NULL returns). */
size_t ei_json_quoted(const char *s, size_t len, char *out);

/* The text of a scalar as ei_jsonflat_walk writes it, into out (NUL-
   terminated); -1 when it does not fit or j is not a scalar. */
int ei_jsonflat_scalar(const json_t *j, char *out, size_t out_len);

/*
 * json_dumps(j, flags) into memory of malloc: jansson's own buffer comes
 * from the allocator the core installs (not malloc), and is wiped and
 * freed here, so that the caller frees the text with free().  *len (may
 * be NULL) gets its length.  NULL when out of memory or j cannot be
 * written (a string that is not UTF-8).
 */
char *ei_json_dumps(const json_t *j, size_t flags, size_t *len);

/*
 * A number as JavaScript writes it (the contract's flag values): the
 * shortest text that reads back to d, integers without ".0", exponent
 * form below 1e-6 and from 1e21 ("1e-7", "1.5e+21"); -0 is "0".  Returns
 * the length, or -1 for NaN, infinities or too small an out.
 */
int ei_json_js_number(double d, char *out, size_t out_len);

/*
 * A flag value as text (design.md, "More providers"): booleans
 * true/false, numbers as ei_json_js_number writes them (integers past
 * 2^53 as the double JavaScript holds), strings as they are, null as
 * the empty string, objects and arrays as compact JSON with such
 * numbers.  malloc'd, NUL-terminated, *len (may be NULL) its length;
 * NULL when out of memory, nested past 64 levels or a string holds a
 * NUL.  The caller wipes and frees it.
 */
char *ei_json_flag_text(const json_t *j, size_t *len);

#endif
