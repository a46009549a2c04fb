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
#include <dirent.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
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

/* The descriptors above 2 envinject was started with, ascending. */
static int *inherited_fds;
static size_t inherited_n;
static bool inherited_known;

static int int_cmp(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return x < y ? -1 : x > y;
}

void ei_sup_note_inherited(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return;
    size_t cap = 0;
    int *v = NULL;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char *end;
        long fd = strtol(de->d_name, &end, 10);
        if (*end != '\0' || end == de->d_name || fd < 3 || fd > INT_MAX ||
            fd == dirfd(d))
            continue;
        if (inherited_n == cap) {
            cap = cap != 0 ? cap * 2 : 16;
            int *g = realloc(v, cap * sizeof(*v));
            if (g == NULL) {
                free(v);
                closedir(d);
                inherited_n = 0;
                return;
            }
            v = g;
        }
        v[inherited_n++] = (int)fd;
    }
    closedir(d);
    if (v != NULL)
        qsort(v, inherited_n, sizeof(*v), int_cmp);
    inherited_fds = v;
    inherited_known = true;
}

/* Close the descriptors from a to b (b: UINT_MAX for all) but keep. */
static void close_span(unsigned a, unsigned b, unsigned keep)
{
    if (a > b)
        return;
    if (keep >= a && keep <= b) {
        if (keep > a)
            close_span(a, keep - 1, UINT_MAX);
        if (keep < b)
            close_span(keep + 1, b, UINT_MAX);
        return;
    }
#ifdef SYS_close_range
    if (syscall(SYS_close_range, a, b, 0) == 0)
        return;
#endif
    long max = sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 65536)
        max = 65536;
    for (unsigned fd = a; fd <= b && fd < (unsigned long)max; fd++)
        (void)close((int)fd);
}

/* In the child: every descriptor but the inherited ones and keep. */
static void close_not_inherited(int keep)
{
    if (!inherited_known)
        return;
    unsigned lo = 3;
    for (size_t i = 0; i < inherited_n; i++) {
        unsigned fd = (unsigned)inherited_fds[i];
        if (fd > lo)
            close_span(lo, fd - 1, (unsigned)keep);
        if (fd + 1 > lo)
            lo = fd + 1;
    }
    close_span(lo, UINT_MAX, (unsigned)keep);
}

/*
 * The child's side: its own process group, the terminal's foreground if
 * envinject had it, the signal state envinject started with, then exec.
 * A failure goes to the parent through fd (close-on-exec: an exec that
 * works closes it unwritten).
 */
static void child_exec(char *const *argv, char **envp,
                       const struct ei_sig_state *old, bool take_tty,
                       int fd)
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
    close_not_inherited(fd);
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

static void reap(struct ei_sup *s)
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

void ei_sup_signals(struct ei_sup *s, int wait_ms, bool forward)
{
    struct pollfd p = {.fd = s->sfd, .events = POLLIN};
    if (poll(&p, 1, wait_ms) > 0) {
        struct signalfd_siginfo si[16];
        ssize_t n;
        while ((n = read(s->sfd, si, sizeof(si))) > 0) {
            for (size_t i = 0; i < (size_t)n / sizeof(si[0]); i++) {
                int sig = (int)si[i].ssi_signo;
                if (sig == SIGCHLD || !forward || s->pid <= 0)
                    continue;
                /* one that envinject brought on itself (SIGPIPE when its
                   log pipe went away, SIGXFSZ) is not the program's: not
                   logged either, which would only bring another */
                if (si[i].ssi_code == SI_USER &&
                    si[i].ssi_pid == (uint32_t)getpid())
                    continue;
                ei_diag_msg(EI_LOG_INFO, NULL, NULL,
                            "passing signal %d (%s) on", sig, strsignal(sig));
                /* the group may be gone already: ESRCH is no news.  Once
                   the program was reaped its pid may be anyone's: the
                   group only */
                if (kill(-s->pid, sig) < 0 && errno == ESRCH && !s->done)
                    (void)kill(s->pid, sig);
            }
        }
    }
    /* SIGCHLDs merge: reap whatever ended, signal or not */
    reap(s);
}

/* Whether a process of the program's group is left (zombies count until
   reaped: they are all ours by then). */
static bool group_left(const struct ei_sup *s)
{
    return s->pid > 0 && kill(-s->pid, 0) == 0;
}

/* Wait until the group is gone or end_ms, taking signals meanwhile
   (forwarded while the program itself still runs). */
static void wait_group(struct ei_sup *s, int64_t end_ms, bool forward)
{
    while (group_left(s)) {
        int64_t left = end_ms - mono_ms();
        if (left <= 0)
            return;
        ei_sup_signals(s, left > 100 ? 100 : (int)left, forward);
    }
}

/* SIGKILL what is left of the group and wait for it to be gone: SIGKILL
   cannot be refused, but dying takes a moment. */
static void kill_group(struct ei_sup *s)
{
    (void)kill(-s->pid, SIGKILL);
    wait_group(s, mono_ms() + KILL_GRACE_MS, false);
}

void ei_sup_end_group(struct ei_sup *s)
{
    if (!group_left(s))
        return;
    ei_diag_msg(EI_LOG_INFO, NULL, NULL,
                "the program ended; stopping the rest of its process group");
    (void)kill(-s->pid, SIGTERM);
    /* signals still reach what is left, as envinject(1) says */
    wait_group(s, mono_ms() + s->kill_timeout_ms, true);
    if (group_left(s)) {
        ei_diag_msg(EI_LOG_WARN, NULL, NULL,
                    "processes of the program's group still ran after "
                    "%lld ms: killed",
                    (long long)s->kill_timeout_ms);
        kill_group(s);
    }
}

void ei_sup_stop(struct ei_sup *s, int sig)
{
    if (s->pid <= 0)
        return;
    if (!s->done) {
        (void)kill(-s->pid, sig);
        int64_t end = mono_ms() + s->kill_timeout_ms;
        while (!s->done && mono_ms() < end) {
            int64_t left = end - mono_ms();
            ei_sup_signals(s, left > 100 ? 100 : (int)left, false);
        }
        if (!s->done)
            ei_diag_msg(EI_LOG_WARN, NULL, NULL,
                        "the program still ran %lld ms after signal %d: "
                        "killed",
                        (long long)s->kill_timeout_ms, sig);
    }
    if (group_left(s))
        kill_group(s);
    while (!s->done)
        ei_sup_signals(s, 100, false);
}

int ei_sup_begin(struct ei_sup *s, const struct ei_supervise_opts *o,
                 struct ei_error *err)
{
    memset(s, 0, sizeof(*s));
    s->sfd = -1;
    s->kill_timeout_ms = o != NULL && o->kill_timeout_ms > 0
                             ? o->kill_timeout_ms
                             : EI_KILL_TIMEOUT_DEFAULT_MS;
    sigset_t all;
    taken_set(&all);
    if (sigprocmask(SIG_BLOCK, &all, &s->old.mask) < 0)
        return ei_error_set(err, EI_OSERR, errno, NULL, NULL,
                            "cannot block signals"),
               -1;
    /* the caller's dispositions go to the program as they were */
    struct sigaction ign = {.sa_handler = SIG_IGN};
    sigemptyset(&ign.sa_mask);
    sigaction(SIGTTIN, &ign, &s->old.ttin);
    sigaction(SIGTTOU, &ign, &s->old.ttou);
    /* a SIGCHLD that the caller ignored (or SA_NOCLDWAIT) would have the
       kernel reap the program itself: its status lost, envinject waiting
       for it forever */
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigemptyset(&dfl.sa_mask);
    sigaction(SIGCHLD, &dfl, &s->old.chld);
    s->sfd = signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
    if (s->sfd < 0) {
        ei_error_set(err, EI_OSERR, errno, NULL, NULL,
                     "cannot create a signalfd");
        ei_sup_finish(s);
        return -1;
    }
    if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
        ei_diag_msg(EI_LOG_WARN, NULL, NULL,
                    "cannot become a subreaper (%s): orphans of the "
                    "program are not reaped",
                    strerror(errno));
    s->take_tty =
        isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp();
    return 0;
}

int ei_sup_start(struct ei_sup *s, char *const *argv, char **envp,
                 struct ei_error *err)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        ei_exec_envp_free(envp);
        return ei_error_set(err, EI_OSERR, errno, NULL, NULL,
                            "cannot create a pipe"),
               -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        ei_exec_envp_free(envp);
        close(pfd[0]);
        close(pfd[1]);
        return ei_error_set(err, EI_OSERR, e, NULL, NULL, "cannot fork"), -1;
    }
    if (pid == 0) {
        close(pfd[0]);
        child_exec(argv, envp, &s->old, s->take_tty, pfd[1]);
    }
    /* the child has its own copy: ours goes now */
    ei_exec_envp_free(envp);
    (void)setpgid(pid, pid); /* either side may win the race */
    close(pfd[1]);
    s->pid = pid;
    s->done = false;
    s->status = 0;
    int failed = exec_report(pfd[0], err);
    close(pfd[0]);
    if (failed) {
        while (!s->done)
            ei_sup_signals(s, 100, false);
        s->pid = 0;
        return -1;
    }
    ei_diag_msg(EI_LOG_INFO, NULL, NULL, "started %s as process %ld",
                argv[0], (long)pid);
    return 0;
}

int ei_sup_status(const struct ei_sup *s)
{
    if (WIFSIGNALED(s->status))
        return 128 + WTERMSIG(s->status);
    return WEXITSTATUS(s->status);
}

/*
 * The signals stay blocked: envinject exits right after, with the
 * program's status, and a signal still queued (a SIGPIPE it brought on
 * itself, a late SIGTERM) must not kill it on the way out.
 */
void ei_sup_finish(struct ei_sup *s)
{
    if (s->take_tty)
        (void)tcsetpgrp(STDIN_FILENO, getpgrp());
    if (s->sfd >= 0)
        close(s->sfd);
    s->sfd = -1;
}

int ei_supervise(char *const *argv, char **envp,
                 const struct ei_supervise_opts *o, struct ei_error *err)
{
    struct ei_sup s;
    if (ei_sup_begin(&s, o, err) < 0) {
        ei_exec_envp_free(envp);
        return -1;
    }
    if (ei_sup_start(&s, argv, envp, err) < 0) {
        ei_sup_finish(&s);
        return -1;
    }
    while (!s.done)
        ei_sup_signals(&s, -1, true);
    ei_sup_end_group(&s);
    int rc = ei_sup_status(&s);
    ei_diag_msg(EI_LOG_INFO, NULL, NULL, "the program ended with status %d",
                rc);
    ei_sup_finish(&s);
    return rc;
}
