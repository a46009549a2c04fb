/* SPDX-License-Identifier: MIT */
/* The last step of run: build the program's environment, find the program
   in the resulting PATH, and execve in place. */
#ifndef EI_EXECPROG_H
#define EI_EXECPROG_H

#include <stdbool.h>
#include <stddef.h>

#include "envinject/provider.h"

struct ei_resolution;

struct ei_exec_opts {
    bool pristine;            /* only resolved keys */
    const char *const *unset; /* --unset keys, NULL-terminated */
    char *const *argv;        /* program and arguments */
};

/*
 * Build the environment of the program: inherited (unless pristine) with
 * every resolved key set, minus unset keys (config and --unset), minus
 * EI_PRIVATE_KEY_ENV, EI_CACHE_KEY_ENV and the variables that providers consume
 * (ei_registry_each_consumed over the resolution's layers).  A
 * NULL-terminated array of "KEY=value" strings, sorted by key, in one
 * malloc'd block with its strings (free it with ei_exec_envp_free only);
 * NULL with err.
 */
char **ei_exec_envp(const struct ei_resolution *r, const char *const *inherited,
                    const struct ei_exec_opts *o, struct ei_error *err);

/*
 * What run removes from the resolved keys (the unset keys of the
 * configuration and of unset, the private and cache and audit keys, what
 * providers consume), for those that must list the program's keys without
 * building its environment (the audit record).  NULL when out of memory.
 */
struct ei_exec_filter;
struct ei_exec_filter *ei_exec_filter_new(const struct ei_resolution *r,
                                          const char *const *unset);
/* Whether key is removed: 1, 0, or -1 when out of memory. */
int ei_exec_filter_removes(const struct ei_exec_filter *f, const char *key);
void ei_exec_filter_free(struct ei_exec_filter *f);

/* Free an array from ei_exec_envp, wiping the strings. */
void ei_exec_envp_free(char **envp);

/*
 * Wipe, in place, the value of every variable of env (the process's own
 * environment) that envp does not pass on: the private key, what the
 * providers consumed, unset keys.  For run --init, where envinject stays
 * beside the program with its environment, which /proc/PID/environ shows.
 * The strings keep their length ("KEY=" and NULs); getenv then finds "".
 */
void ei_exec_wipe_dropped(char **env, char *const *envp);

/*
 * Check sizes against the system's limits (each string against the
 * kernel's per-string limit, the total against ARG_MAX): 0 when they fit,
 * else EI_CANTEXEC (a positive status, not -1), naming the largest keys.
 */
int ei_exec_check_size(char *const *argv, char *const *envp,
                       struct ei_error *err);

/*
 * ei_exec_check_size of an envp made by ei_exec_envp (and only of such a
 * one), with the same result: the sizes of its strings were noted when
 * they were written, so only argv is measured when everything fits.
 */
int ei_exec_check_envp(char *const *argv, char *const *envp,
                       struct ei_error *err);

/*
 * Search argv[0] in envp's PATH (a name with a '/' is used as it is;
 * without PATH, the system's default path) and execve it.  Returns only on
 * failure: EI_NOPROG (127) or EI_CANTEXEC (126) with err, as env(1).
 */
int ei_exec(char *const *argv, char *const *envp, struct ei_error *err);

#endif
