/* SPDX-License-Identifier: MIT */
/* A fake ei_host and a collecting ei_sink, so provider unit tests can run a
   provider without the core's configuration and merge. */
#ifndef EI_FAKE_HOST_H
#define EI_FAKE_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "envinject/provider.h"

struct fake_host;

/*
 * A new fake host.  opts: NULL-terminated "name=value" strings (a name
 * given several times makes a list; dotted names are plain names); environ:
 * the NULL-terminated environment env_get/env_list serve; dir: the base of
 * relative opt_path values (NULL: returned as given).  Everything is copied.
 * Every option is a string: opt_bool accepts true/false/yes/no/1/0, opt_int
 * decimal.  max_value_len is 1 MiB.  Calls sodium_init.  NULL on failure.
 */
struct fake_host *fake_host_new(const char *const *opts,
                                const char *const *environ, const char *dir);

/* The host table to hand to configure; valid until fake_host_free. */
const struct ei_host *fake_host_host(struct fake_host *fh);

/* Set (copy) the ARG of --layer PROVIDER:ARG; NULL clears it. */
void fake_host_set_arg(struct fake_host *fh, const char *arg);

/* Change max_value_len (read_file's size limit). */
void fake_host_set_max_value_len(struct fake_host *fh, size_t len);

/* The name of the first option no getter has read, or NULL. */
const char *fake_host_unused(struct fake_host *fh);

/* All log lines so far, joined with '\n' ("" when none). */
const char *fake_host_log(struct fake_host *fh);

/* Number of read_file calls so far (to check that configure does no I/O). */
size_t fake_host_reads(struct fake_host *fh);

void fake_host_free(struct fake_host *fh);

/* A deadline ms milliseconds from now (negative: already passed). */
void fake_deadline(struct ei_deadline *dl, int64_t ms);

/* One recorded emit; strings are copies owned by the sink. */
struct fake_entry {
    char *name;    /* the segments joined with '/' */
    size_t name_n; /* number of segments */
    char *value;   /* value_len bytes plus a NUL */
    size_t value_len;
    char *locator; /* NULL when the provider gave none */
    unsigned flags;
};

/*
 * A sink that records what it is given, in order, without key mapping.
 * Set fail_at to N to make the Nth emit (1-based) fail with EI_INTERNAL;
 * 0 never fails.  An emit that breaks the ABI (no segment, a NULL or empty
 * segment, a NULL value, a NUL inside the value) fails with EI_INTERNAL
 * too, and sets abi_violation.
 */
struct fake_sink {
    struct ei_sink sink; /* hand &fs.sink to fetch */
    struct fake_entry *entries;
    size_t n;
    size_t cap;
    size_t emits; /* calls, failed ones included */
    size_t fail_at;
    bool abi_violation;
};

void fake_sink_init(struct fake_sink *fs);

/* The emit function fake_sink_init installs. */
int fake_sink_emit(struct ei_sink *sink, const char *const *name, size_t name_n,
                   const char *value, size_t value_len, const char *locator,
                   unsigned flags, struct ei_error *err);

/* The last entry recorded under name (segments joined with '/'), or NULL. */
const struct fake_entry *fake_sink_find(const struct fake_sink *fs,
                                        const char *name);

/* Wipe and free the entries; the sink can be used again afterwards. */
void fake_sink_free(struct fake_sink *fs);

#endif
