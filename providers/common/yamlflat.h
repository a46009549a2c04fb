/* SPDX-License-Identifier: MIT */
/* YAML documents (libyaml) read into entries or into a JSON tree, for the
   file provider (.yaml, .yml) and for the remote providers whose services
   answer in YAML (http, aws-appconfig). */
#ifndef EI_PROVIDERS_YAMLFLAT_H
#define EI_PROVIDERS_YAMLFLAT_H

#include <stdbool.h>
#include <stddef.h>

#include <envinject/provider.h>
#include <jansson.h>

#include "emit.h"

/*
 * Read a YAML stream of len bytes (need not be NUL-terminated) and emit
 * one entry per scalar leaf, named and shaped as ei_jsonflat_walk would
 * for the same data, except that every scalar keeps the text it was
 * written with (no YAML 1.1 guessing).  Several documents merge as
 * Spring Boot merges them: a document with spring.config.activate.
 * on-profile applies only when profile (the chosen environment; NULL:
 * none, which Spring calls "default") matches its profile expression,
 * one with spring.config.activate.on-cloud-platform never applies, and
 * later documents win key by key (sequences are replaced whole); the
 * legacy spring.profiles selector is an error.  Anchors, aliases and
 * merge keys (<<) apply; aliases may copy 100,000 nodes and 16 MiB of
 * text at most, nesting
 * stops at 64 levels.  Duplicate keys, non-scalar keys and tags other
 * than YAML's own scalar, map and seq tags are errors.  Each entry
 * carries the line of its key.  what names the source
 * in locators ("FILE:LINE:COLUMN", 1-based, for errors).  Returns EI_OK,
 * EI_BADDATA for malformed YAML or a document past the limits,
 * EI_BADCONFIG when envinject was built without libyaml, EI_NOMEM, or
 * what the callback set.
 */
enum ei_status ei_yamlflat_parse(const char *buf, size_t len, const char *what,
                                 const char *profile, ei_emit_fn emit,
                                 void *ctx, struct ei_error *err);

/*
 * The same reading, into a JSON tree: mappings as objects, sequences as
 * arrays, scalars as strings with their text as written; documents merged
 * as above.  *out is a new reference (an object; an empty stream is {}).
 * Errors as for ei_yamlflat_parse.
 */
enum ei_status ei_yaml_to_json(const char *buf, size_t len, const char *what,
                               const char *profile, json_t **out,
                               struct ei_error *err);

/* Whether this envinject was built with libyaml: without it both
   functions fail with EI_BADCONFIG and a text naming the package. */
bool ei_yamlflat_available(void);

#endif
