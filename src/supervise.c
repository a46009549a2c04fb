/* SPDX-License-Identifier: MIT */
/* run --init (supervise.h).  One thread, signals taken from a signalfd:
   no handler runs at an odd moment, and a later watch mode can poll the
   same descriptor beside its own. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "execprog.h"
#include "supervise.h"

/*
 * Signals never taken from the queue: those the kernel sends for a fault
 * of envinject's own (blocking them would not stop the kernel and would
 * hide the fault), and the terminal's stop signals for background
 * reads and writes, which envinject ignores as tini does.
 */
static const int unblocked[] = {SIGFPE,  SIGILL,  SIGSEGV, SIGBUS, SIGABRT,
                                SIGTRAP, SIGSYS,  SIGTTIN, SIGTTOU};

/* How long processes killed with SIGKILL get to be gone. */
#define KILL_GRACE_MS 2000

#define ARRAY_N(a) (sizeof(a) / sizeof((a)[0]))

static void taken_set(sigset_t *set)
{
    sigfillset(set);
    for (size_t i = 0; i < ARRAY_N(unblocked); i++)
        sigdelset(set, unblocked[i]);
}

int64_t ei_parse_duration_ms(const char *s, int64_t max_ms)
{
    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    char *end;
    unsigned long long n = strtoull(s, &end, 10);
    if (errno != 0 || n > (unsigned long long)max_ms)
        return -1;
    int64_t unit;
    if (*end == '\0' || strcmp(end, "ms") == 0)
        unit = 1;
    else if (strcmp(end, "s") == 0)
        unit = 1000;
    else if (strcmp(end, "m") == 0)
        unit = 60000;
    else
        return -1;
    if ((int64_t)n > max_ms / unit)
        return -1;
    return (int64_t)n * unit;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The child's side: its own process group, the terminal's foreground if
 * envinject had it, the signal state envinject started with, then exec.
 * A failure goes to the parent through fd (close-on-exec: an exec that
 * works closes it unwritten).
 */
struct sig_state {
    sigset_t mask;
    struct sigaction ttin, ttou, chld;
};

static void child_exec(char *const *argv, char **envp,
                       const struct sig_state *old, bool take_tty, int fd)
{
    struct ei_error err = {0};
    (void)setpgid(0, 0);
    /* SIGTTOU is still ignored here, so a background group may do this */
    if (take_tty)
        (void)tcsetpgrp(STDIN_FILENO, getpgrp());
    sigaction(SIGTTIN, &old->ttin, NULL);
    sigaction(SIGTTOU, &old->ttou, NULL);
    sigaction(SIGCHLD, &old->chld, NULL);
    sigprocmask(SIG_SETMASK, &old->mask, NULL);
    ei_exec(argv, envp, &err);
    ssize_t w;
    do
        w = write(fd, &err, sizeof(err));
    while (w < 0 && errno == EINTR);
    _exit(ei_exit_code(err.status));
}

/* Read what child_exec reported: 0 when the exec worked (end of file), 1
   with err when it did not. */
static int exec_report(int fd, struct ei_error *err)
{
    struct ei_error got;
    size_t have = 0;
    while (have < sizeof(got)) {
        ssize_t r = read(fd, (char *)&got + have, sizeof(got) - have);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        have += (size_t)r;
    }
    if (have == 0)
        return 0;
    if (have < sizeof(got) || got.status == EI_OK)
        ei_error_set(err, EI_CANTEXEC, 0, NULL, NULL,
                     "the program could not be started");
    else
        *err = got;
    return 1;
}

static int exit_status(int st)
{
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return WEXITSTATUS(st);
}

struct sup {
    pid_t pid;  /* the program, also its process group */
    int status; /* its wait status, once done */
    bool done;
    int sfd; /* signalfd of taken_set */
};

/* Reap every child that has ended: the program, and orphans handed to
   envinject as PID 1 or subreaper. */
static void reap(struct sup *s)
{
    for (;;) {
        int st;
        pid_t p = waitpid(-1, &st, WNOHANG);
        if (p <= 0)
            return;
        if (p == s->pid) {
            s->status = st;
            s->done = true;
        } else {
            ei_diag_msg(EI_LOG_DEBUG, NULL, NULL, "reaped process %ld",
                        (long)p);
        }
    }
}

/* Take the signals queued within wait_ms (-1: until one comes): reap on
   SIGCHLD, pass the others on to the program's group. */
static void take_signals(struct sup *s, int wait_ms, bool forward)
{
    struct pollfd p = {.fd = s->sfd, .events = POLLIN};
    int r = poll(&p, 1, wait_ms);
    if (r <= 0)
        return;
    struct signalfd_siginfo si[16];
    ssize_t n = read(s->sfd, si, sizeof(si));
    if (n <= 0)
        return;
    for (size_t i = 0; i < (size_t)n / sizeof(si[0]); i++) {
        int sig = (int)si[i].ssi_signo;
        if (sig == SIGCHLD) {
            reap(s);
            continue;
        }
        if (!forward)
            continue;
        /* one that envinject brought on itself (SIGPIPE when its log
           pipe went away, SIGXFSZ) is not the program's: not logged
           either, which would only bring another */
        if (si[i].ssi_code == SI_USER && si[i].ssi_pid == (uint32_t)getpid())
            continue;
        ei_diag_msg(EI_LOG_INFO, NULL, NULL, "passing signal %d (%s) on",
                    sig, strsignal(sig));
        /* the group may be gone already: ESRCH is no news.  Once the
           program was reaped its pid may be anyone's: the group only */
        if (kill(-s->pid, sig) < 0 && errno == ESRCH && !s->done)
            (void)kill(s->pid, sig);
    }
    /* a SIGCHLD may merge with one already taken: look once more */
    reap(s);
}

/* What is left of the program's group after it ended: SIGTERM, and
   SIGKILL after the timeout.  Processes that left the group are not
   signalled, but are reaped while waiting. */
static void end_group(struct sup *s, int64_t timeout_ms)
{
    if (kill(-s->pid, 0) < 0)
        return;
    ei_diag_msg(EI_LOG_INFO, NULL, NULL,
                "the program ended; stopping the rest of its process group");
    (void)kill(-s->pid, SIGTERM);
    int64_t end = mono_ms() + timeout_ms;
    while (kill(-s->pid, 0) == 0) {
        int64_t left = end - mono_ms();
        if (left <= 0) {
            ei_diag_msg(EI_LOG_WARN, NULL, NULL,
                        "processes of the program's group still ran after "
                        "%lld ms: killed",
                        (long long)timeout_ms);
            (void)kill(-s->pid, SIGKILL);
            break;
        }
        /* signals still reach what is left, as envinject(1) says */
        take_signals(s, left > 100 ? 100 : (int)left, true);
    }
    /* SIGKILL cannot be refused, but dying takes a moment; the group is
       gone once its last zombie was reaped (they are all ours by then) */
    end = mono_ms() + KILL_GRACE_MS;
    while (kill(-s->pid, 0) == 0 && mono_ms() < end)
        take_signals(s, 10, false);
}

int ei_supervise(char *const *argv, char **envp,
                 const struct ei_supervise_opts *o, struct ei_error *err)
{
    int64_t kill_timeout = o != NULL && o->kill_timeout_ms > 0
                               ? o->kill_timeout_ms
                               : EI_KILL_TIMEOUT_DEFAULT_MS;
    sigset_t all;
    struct sig_state old;
    bool take_tty = false; /* the child takes the terminal's foreground */
    taken_set(&all);
    if (sigprocmask(SIG_BLOCK, &all, &old.mask) < 0) {
        ei_exec_envp_free(envp);
        return ei_error_set(err, EI_OSERR, errno, NULL, NULL,
                            "cannot block signals"),
               -1;
    }
    /* the caller's dispositions go to the program as they were */
    struct sigaction ign = {.sa_handler = SIG_IGN};
    sigemptyset(&ign.sa_mask);
    sigaction(SIGTTIN, &ign, &old.ttin);
    sigaction(SIGTTOU, &ign, &old.ttou);
    /* a SIGCHLD that the caller ignored (or SA_NOCLDWAIT) would have the
       kernel reap the program itself: its status lost, envinject waiting
       for it forever */
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigemptyset(&dfl.sa_mask);
    sigaction(SIGCHLD, &dfl, &old.chld);

    if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
        ei_diag_msg(EI_LOG_WARN, NULL, NULL,
                    "cannot become a subreaper (%s): orphans of the "
                    "program are not reaped",
                    strerror(errno));

    struct sup s = {.sfd = signalfd(-1, &all, SFD_CLOEXEC)};
    int pfd[2] = {-1, -1};
    if (s.sfd < 0 || pipe2(pfd, O_CLOEXEC) < 0) {
        ei_error_set(err, EI_OSERR, errno, NULL, NULL,
                     s.sfd < 0 ? "cannot create a signalfd"
                               : "cannot create a pipe");
        goto fail;
    }
    take_tty = isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp();
    fflush(NULL);
    s.pid = fork();
    if (s.pid < 0) {
        ei_error_set(err, EI_OSERR, errno, NULL, NULL, "cannot fork");
        goto fail;
    }
    if (s.pid == 0) {
        close(pfd[0]);
        child_exec(argv, envp, &old, take_tty, pfd[1]);
    }
    /* the child has its own copy: ours goes now */
    ei_exec_envp_free(envp);
    envp = NULL;
    (void)setpgid(s.pid, s.pid); /* either side may win the race */
    close(pfd[1]);
    pfd[1] = -1;
    int failed = exec_report(pfd[0], err);
    close(pfd[0]);
    pfd[0] = -1;
    if (failed) {
        while (waitpid(s.pid, NULL, 0) < 0 && errno == EINTR)
            ;
        goto fail;
    }
    ei_diag_msg(EI_LOG_INFO, NULL, NULL, "started %s as process %ld",
                argv[0], (long)s.pid);

    while (!s.done)
        take_signals(&s, -1, true);
    end_group(&s, kill_timeout);
    if (take_tty)
        (void)tcsetpgrp(STDIN_FILENO, getpgrp());
    close(s.sfd);
    int rc = exit_status(s.status);
    ei_diag_msg(EI_LOG_INFO, NULL, NULL, "the program ended with status %d",
                rc);
    return rc;

fail:
    if (envp != NULL)
        ei_exec_envp_free(envp);
    if (pfd[0] >= 0)
        close(pfd[0]);
    if (pfd[1] >= 0)
        close(pfd[1]);
    if (s.sfd >= 0)
        close(s.sfd);
    /* the child may have taken the terminal before its exec failed;
       SIGTTOU is still ignored here */
    if (take_tty)
        (void)tcsetpgrp(STDIN_FILENO, getpgrp());
    sigaction(SIGTTIN, &old.ttin, NULL);
    sigaction(SIGTTOU, &old.ttou, NULL);
    sigaction(SIGCHLD, &old.chld, NULL);
    sigprocmask(SIG_SETMASK, &old.mask, NULL);
    return -1;
}
