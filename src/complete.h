/* SPDX-License-Identifier: MIT */
/* Shell completion scripts, made from the option tables of cli.c, and the
   words they ask envinject for (environments, keys). */
#ifndef EI_COMPLETE_H
#define EI_COMPLETE_H

#include <stdio.h>

#include "config.h"

/* Write the completion script for shell ("bash", "zsh" or "fish");
   -1 when shell is none of them. */
int ei_complete_script(FILE *out, const char *shell);

/* The configuration's environments, one per line. */
void ei_complete_environments(FILE *out, const struct ei_config *cfg);

/* The keys the configuration names (require and schema), sorted, one per
   line: no layer is read, so nothing is resolved. */
int ei_complete_keys(FILE *out, const struct ei_config *cfg);

#endif
