/* SPDX-License-Identifier: MIT */
/* run --init: the program as a child in its own process group, signals
   forwarded to that group, every zombie reaped (as PID 1 or as a
   subreaper), and envinject's exit status the program's. */
#ifndef EI_SUPERVISE_H
#define EI_SUPERVISE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "envinject/provider.h"

/* The default of --kill-timeout: how long the rest of the program's
   process group has after a SIGTERM before SIGKILL. */
#define EI_KILL_TIMEOUT_DEFAULT_MS 10000
/* The largest --kill-timeout: an hour. */
#define EI_KILL_TIMEOUT_MAX_MS 3600000

struct ei_supervise_opts {
    int64_t kill_timeout_ms; /* 0: the default */
};

/* What the program gets back of envinject's signal state. */
struct ei_sig_state {
    sigset_t mask;
    struct sigaction ttin, ttou, chld;
};

/* A supervisor: the signal set-up, and the one program it runs. */
struct ei_sup {
    int sfd; /* signalfd of every signal taken, non-blocking */
    struct ei_sig_state old;
    bool take_tty;
    int64_t kill_timeout_ms;
    pid_t pid;  /* the program (and its process group), 0: none */
    int status; /* its wait status once done */
    bool done;  /* it ended and was reaped */
};

/*
 * The steps of ei_supervise, for run --watch, which starts the program
 * again and again: begin blocks the signals into a signalfd and becomes
 * a subreaper; start runs a program (envp freed as in ei_supervise);
 * signals takes the signals that come within wait_ms (-1: until one
 * does), passing them on when forward, and reaps (done is set when the
 * program ended); stop sends sig to the program's group and waits for
 * the program, SIGKILL to the group after the kill timeout; end_group
 * deals with what is left of the group after the program ended by
 * itself; status is the exit status the program's end gives; finish
 * gives the terminal back (signals stay blocked: envinject exits next).
 */
int ei_sup_begin(struct ei_sup *s, const struct ei_supervise_opts *o,
                 struct ei_error *err);

/*
 * Note the descriptors envinject was started with, first thing in main:
 * a supervised program gets these (and 0, 1, 2) and no other.  The
 * libraries' own (libcurl's connections, its socketpairs, a blocking
 * watch's stream) are not all close-on-exec, and under run --watch some
 * are open whenever the program starts again.  Without /proc nothing is
 * noted and nothing is closed.
 */
void ei_sup_note_inherited(void);
int ei_sup_start(struct ei_sup *s, char *const *argv, char **envp,
                 struct ei_error *err);
void ei_sup_signals(struct ei_sup *s, int wait_ms, bool forward);
void ei_sup_stop(struct ei_sup *s, int sig);
void ei_sup_end_group(struct ei_sup *s);
int ei_sup_status(const struct ei_sup *s);
void ei_sup_finish(struct ei_sup *s);

/*
 * Start argv (searched in envp's PATH as ei_exec does) as a child in a
 * process group of its own, with the terminal's foreground when
 * envinject has it, wipe and free envp (ei_exec_envp_free) as soon as
 * the child is started, then supervise it until it exits: every signal
 * envinject receives but SIGCHLD and the synchronous ones is sent on to
 * the child's process group, every child that ends is reaped (envinject
 * becomes a subreaper when it is not PID 1, so orphans come to it).
 * When the program ends, what is left of its group gets SIGTERM, then
 * SIGKILL after the kill timeout.  Returns the status to exit with: the
 * program's, or 128 + N when signal N killed it; or -1 with err when the
 * program could not be started (EI_NOPROG 127, EI_CANTEXEC 126, as env(1),
 * or EI_OSERR 71 when fork or a pipe failed).
 */
int ei_supervise(char *const *argv, char **envp,
                 const struct ei_supervise_opts *o, struct ei_error *err);

/*
 * Parse a duration: digits in milliseconds, or followed by a unit: ms, s
 * or m.  -1 when malformed or above max_ms.
 */
int64_t ei_parse_duration_ms(const char *s, int64_t max_ms);

#endif
