/* SPDX-License-Identifier: MIT */
/* References in values, with the syntax of vals:
   ref+SCHEME://PATH[?PARAMS][#FRAGMENT][+], and the pick of a fragment
   out of a JSON or YAML answer. */
#ifndef EI_REF_H
#define EI_REF_H

#include <stdbool.h>
#include <stddef.h>

#include "envinject/provider.h"

/* The longest scheme name, and the most query parameters, accepted. */
#define EI_REF_SCHEME_MAX 32
#define EI_REF_PARAMS_MAX 8

/*
 * One reference found in a value.  Every pointer points into the value
 * searched; nothing is decoded (ei_ref_param decodes a parameter).
 */
struct ei_ref {
    size_t start;   /* offset of "ref+" (or "secretref+") */
    size_t end;     /* offset just past the reference and its '+' */
    bool secretref; /* written secretref+ */
    const char *scheme;
    size_t scheme_len;
    const char *path; /* between "://" and '?', '#' or the end */
    size_t path_len;
    const char *query; /* after '?', without it; NULL when none */
    size_t query_len;
    const char *fragment; /* after '#', without it; NULL when none */
    size_t fragment_len;
};

/*
 * Find the first reference in len bytes of s at or after offset from, as
 * vals finds them: "ref+" or "secretref+", a scheme of letters, digits,
 * '.', '_' and '-', "://", then a body that runs to the first '+' or
 * blank (space, tab, CR, LF) and does not end with '"' or ','; a '+' right
 * after it belongs to the reference (the explicit end, for a reference
 * inside longer text).  Text that does not have this shape is no
 * reference.  Returns 1 with *out filled, 0 when there is none, -1 when a
 * reference is malformed (*why says how: a static string; out->start and
 * out->end are set): an empty path, an empty fragment, a control
 * character, a query that is not NAME=VALUE pairs.
 */
int ei_ref_next(const char *s, size_t len, size_t from, struct ei_ref *out,
                const char **why);

/*
 * Call fn for each NAME=VALUE pair of ref's query, in order: name is
 * name_len bytes, pair the whole pair (pair_len bytes, not decoded).  fn
 * returns 0 to go on; anything else stops the walk and is returned.
 */
typedef int (*ei_ref_param_fn)(void *ctx, const char *name, size_t name_len,
                               const char *pair, size_t pair_len);
int ei_ref_each_param(const struct ei_ref *ref, ei_ref_param_fn fn, void *ctx);

/*
 * The value of query parameter name in ref (percent-decoded into out,
 * out_len bytes with the NUL): 1 found, 0 absent, -1 too long or badly
 * encoded.
 */
int ei_ref_param(const struct ei_ref *ref, const char *name, char *out,
                 size_t out_len);

/*
 * Whether every query parameter of ref is one of names (NULL-terminated);
 * when not, *bad points at the first unknown name and *bad_len is its
 * length.
 */
bool ei_ref_params_known(const struct ei_ref *ref, const char *const *names,
                         const char **bad, size_t *bad_len);

/*
 * Pick the fragment of ref (segments split on '/', a leading '/'
 * optional, each percent-decoded) out of the answer, len bytes of JSON,
 * or of YAML when it is no JSON (and envinject has libyaml): an object's
 * member, an array's element by decimal index.  The result goes to
 * *out (malloc'd, NUL-terminated, *out_len bytes; the caller wipes and
 * frees it): a string as it is, a number or boolean as its text, null as
 * "", an object or array as compact JSON.  EI_NOTFOUND when a segment
 * names nothing (err names the segment's position, not the data),
 * EI_BADDATA when the answer is neither JSON nor YAML, EI_NOMEM.  Every
 * copy of the answer is wiped.
 */
enum ei_status ei_ref_pick(const struct ei_ref *ref, const char *answer,
                           size_t len, char **out, size_t *out_len,
                           struct ei_error *err);

#endif
