/* SPDX-License-Identifier: MIT */
/* The parsers of the http provider (providers/http.c): RFC 6901 JSON
   Pointers and Spring Cloud Config Environment replies, exposed for unit
   tests and fuzzing. */
#ifndef EI_PROVIDERS_HTTP_PARSE_H
#define EI_PROVIDERS_HTTP_PARSE_H

#include <stddef.h>

#include <envinject/provider.h>
#include <jansson.h>

/* The longest JSON Pointer accepted (select). */
#define EI_JSONPTR_MAX 1024

/*
 * Check the syntax of a JSON Pointer (RFC 6901 section 3): "" or a
 * sequence of "/"-prefixed tokens where '~' is always followed by '0' or
 * '1'.  Returns 0, or -1 with *bad_at the offset of the offending byte
 * (0 for a pointer that does not start with '/', its length when it is
 * too long).
 */
int ei_jsonptr_check(const char *ptr, size_t *bad_at);

/*
 * Evaluate ptr (syntax already checked) on root as RFC 6901 section 4
 * says: "~1" is '/' and then "~0" is '~' in each token; on an object a
 * token is a member name, on an array "0" or a decimal without leading
 * zeros below the array's size ("-", the element after the last, never
 * exists here).  *out is borrowed from root.  EI_BADDATA when nothing is
 * there: err (locator what) names the pointer, the part that resolved
 * and the type found there, never a value; EI_NOMEM.
 */
enum ei_status ei_jsonptr_eval(const json_t *root, const char *ptr,
                               const char *what, const json_t **out,
                               struct ei_error *err);

/*
 * One property of a Spring Environment: the name in segments (the
 * property name split at '.' and at "[i]" indexes, dashes dropped, as
 * Spring's relaxed binding maps it to an environment variable), the
 * value (value_len bytes, NUL-terminated, wiped after the call), key the
 * property as the server named it and source the name of its property
 * source (both for locators).  Returns 0, or -1 with err filled.
 */
typedef int (*ei_spring_fn)(void *ctx, const char *const *name, size_t name_n,
                            const char *value, size_t value_len,
                            const char *key, const char *source,
                            struct ei_error *err);

/*
 * Parse a Spring Cloud Config Environment (GET /{application}/{profile}
 * [/{label}]) and hand over the properties that win: propertySources in
 * order, the first that has a property wins (names compared as Spring
 * binds them: case and dashes aside); a source that has any element of a
 * list (name[i]) gives the whole list; spring.profiles is dropped; a
 * {"value", "origin"} object counts as its value.  An invalid.NAME
 * property (a value the server could not decrypt) or a value that is
 * still "{cipher}..." is EI_BADDATA naming the property, never the value.
 * h is for safe_text; what is the locator of errors.  *keys counts the
 * properties handed over.  Returns EI_OK, EI_BADDATA, EI_NOMEM or what
 * the callback set.
 */
enum ei_status ei_spring_parse(const struct ei_host *h, const char *body,
                               size_t len, const char *what, ei_spring_fn fn,
                               void *ctx, size_t *keys, struct ei_error *err);

#endif
