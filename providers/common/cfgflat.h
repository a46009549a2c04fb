/* SPDX-License-Identifier: MIT */
/* Flattening of libconfig files (defaults files) into entries. */
#ifndef EI_PROVIDERS_CFGFLAT_H
#define EI_PROVIDERS_CFGFLAT_H

#include <stddef.h>

#include <envinject/provider.h>

#include "cfgscan.h"
#include "emit.h"

/*
 * Parse len bytes of libconfig text and emit one entry per scalar setting:
 * the name is the path of group and setting names; integers in decimal
 * (64-bit ones too), floats in the shortest form that reads back exactly,
 * booleans true/false, strings as they are; an array or list of scalars is
 * joined with ','; a list holding a group or list becomes compact JSON
 * text.  line is the setting's line.  file names the source in locators
 * ("FILE:LINE").  @include "NAME" is resolved against inc->dir (the
 * folder of the file, absolute names inside it too, as libconfig 1.5
 * does; inc NULL: refused with EI_BADDATA), and every included file is
 * checked first as ei_cfgscan_with_includes says (inc->absolute_in_dir is
 * taken as true); locators of included settings name the included file.
 * Returns EI_OK, EI_BADDATA (with libconfig's line and message), what
 * inc->read returned for an included file, EI_NOMEM, or what the callback
 * set.
 */
enum ei_status ei_cfgflat_parse(const char *buf, size_t len, const char *file,
                                const struct ei_cfgscan_includes *inc,
                                ei_emit_fn emit, void *ctx,
                                struct ei_error *err);

#endif
