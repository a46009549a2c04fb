/* SPDX-License-Identifier: MIT */
/* run --watch: the program runs as a child; every layer is watched (files
   by inotify, the rest polled), and the program is restarted only when
   the environment it would get changed. */
#ifndef EI_WATCH_H
#define EI_WATCH_H

#include <stdint.h>

#include "envinject/provider.h"
#include "execprog.h"
#include "supervise.h"

struct ei_audit;
struct ei_resolution;

struct ei_watch_opts {
    struct ei_supervise_opts sup; /* kill timeout */
    int kill_signal;              /* 0: SIGTERM */
    int64_t wait_min_ms, wait_max_ms; /* quiescence; 0: act at once */
    int64_t splay_ms;                 /* random delay before a restart */
    int64_t resolved_since_ns; /* CLOCK_REALTIME when the first
                                  resolution began, 0: unknown */
    /* where the record of every start and restart goes, or NULL; a
       restart whose record cannot be written does not happen (the
       program keeps running), unless the record is not required */
    const struct ei_audit *audit;
};

/*
 * Run the program with the environment of r (a resolution that
 * succeeded, made by ei_resolve: its layers are kept and read again) and
 * watch: on a change of a watched file, or when a layer's poll is due,
 * resolve again; when the program's environment would differ, restart
 * it (kill_signal to its group, SIGKILL after the kill timeout), after
 * the quiescence and the splay.  A resolution that fails keeps the
 * running program and is tried again with back-off.  Signals go to the
 * program as with --init.  Returns the program's exit status once it
 * ends by itself (128 + N for signal N), or -1 with err when it could
 * not be started.  Frees r.
 */
int ei_watch(struct ei_resolution *r, const struct ei_exec_opts *xo,
             const char *const *inherited, const struct ei_watch_opts *wo,
             struct ei_error *err);

/* A signal by name (TERM, SIGTERM, term) or number; -1 if unknown. */
int ei_signal_parse(const char *s);

/* --wait MIN[:MAX] (durations as ei_parse_duration_ms); MAX defaults to
   4 * MIN and must not be below MIN.  -1 when malformed. */
int ei_wait_parse(const char *s, int64_t *min_ms, int64_t *max_ms);

#endif
