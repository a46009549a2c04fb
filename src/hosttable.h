/* SPDX-License-Identifier: MIT */
/* The host table the core hands to each layer's provider: option
   getters, the environment, files, secret memory, messages, deadlines,
   the HTTP engine and the key filter, all answering for one layer. */
#ifndef EI_HOSTTABLE_H
#define EI_HOSTTABLE_H

#include <stddef.h>

#include "envinject/provider.h"

struct ei_layer;

/*
 * Fill h with the core's host table for layer l (h->core = l): every
 * function of the table, abi and size, and max_value_len.  The table
 * reads l's configuration, environment and folder, allocates from l's
 * stores and keeps the HTTP clients it opens in l->http; l must outlive
 * h.  Never fails.
 */
void ei_hosttable_init(struct ei_host *h, struct ei_layer *l,
                       size_t max_value_len);

#endif
