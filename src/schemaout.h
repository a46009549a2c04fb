/* SPDX-License-Identifier: MIT */
/* envinject schema: the required keys and the schema rules of a
   configuration as JSON Schema or as a commented .env.example. */
#ifndef EI_SCHEMAOUT_H
#define EI_SCHEMAOUT_H

#include <stdio.h>

#include "config.h"

enum ei_schema_format { EI_SCHEMA_JSON = 0, EI_SCHEMA_ENV_EXAMPLE };

/* Write cfg's schema in fmt to out, whole or not at all; -1 with err. */
int ei_schemaout_write(FILE *out, const struct ei_config *cfg,
                       enum ei_schema_format fmt, struct ei_error *err);

#endif
