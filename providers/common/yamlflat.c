/* SPDX-License-Identifier: MIT */
/* Placeholder until the libyaml reader lands: every call says so. */
#include <envinject/provider.h>

#include "parse_error.h"
#include "yamlflat.h"

enum ei_status ei_yamlflat_parse(const char *buf, size_t len, const char *what,
                                 const char *profile, ei_emit_fn emit,
                                 void *ctx, struct ei_error *err)
{
    (void)buf;
    (void)len;
    (void)profile;
    (void)emit;
    (void)ctx;
    return ei_parse_error(err, EI_BADCONFIG, what, "YAML is not supported yet");
}

enum ei_status ei_yaml_to_json(const char *buf, size_t len, const char *what,
                               const char *profile, json_t **out,
                               struct ei_error *err)
{
    (void)buf;
    (void)len;
    (void)profile;
    *out = NULL;
    return ei_parse_error(err, EI_BADCONFIG, what, "YAML is not supported yet");
}
