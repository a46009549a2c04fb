/* SPDX-License-Identifier: MIT */
/* Exec target of the tests: reports what a program started by envinject
   inherits (pid, argv, environment, descriptors, signals, dumpable). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

/*
 * The report has one item per line, in this order:
 *   pid N / ppid N / argc N / argv[I] TEXT / env KEY=VALUE (sorted by key)
 *   fd N / blocked SIG / ignored SIG / dumpable N
 * Backslash, newline, tab and other control bytes in argv and env are
 * escaped (\\, \n, \t, \xHH) so that every item stays on one line.
 * It goes to the file named by PROBE_OUT, else to stdout.
 * With "--exit N" as the first arguments the exit status is N.
 */

#define PROBE_MAX_FDS  1024
#define PROBE_EXIT_MAX 255
#define PROBE_USAGE    2

extern char **environ;

static void put_escaped(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p == '\\')
            fputs("\\\\", f);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p == '\t')
            fputs("\\t", f);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(f, "\\x%02x", *p);
        else
            fputc(*p, f);
    }
}

static int env_cmp(const void *pa, const void *pb)
{
    const char *a = *(const char *const *)pa, *b = *(const char *const *)pb;
    size_t a_len = strcspn(a, "="), b_len = strcspn(b, "=");
    int c = memcmp(a, b, a_len < b_len ? a_len : b_len);
    if (c != 0)
        return c;
    if (a_len != b_len)
        return a_len < b_len ? -1 : 1;
    return strcmp(a, b);
}

static int int_cmp(const void *pa, const void *pb)
{
    int a = *(const int *)pa, b = *(const int *)pb;
    return (a > b) - (a < b);
}

/* The open descriptors, read before the probe opens anything itself. */
static size_t list_fds(int *fds, size_t max)
{
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return 0;
    int own = dirfd(d);
    size_t n = 0;
    for (struct dirent *de = readdir(d); de != NULL; de = readdir(d)) {
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        long v = 0;
        for (const char *p = de->d_name; *p >= '0' && *p <= '9'; p++)
            v = v * 10 + (*p - '0');
        if (v == own || n == max)
            continue;
        fds[n++] = (int)v;
    }
    closedir(d);
    qsort(fds, n, sizeof(*fds), int_cmp);
    return n;
}

/* "--exit N": N in 0..255, digits only; -1 when malformed. */
static int parse_exit(const char *s)
{
    int v = 0;
    if (*s == '\0')
        return -1;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (*s - '0');
        if (v > PROBE_EXIT_MAX)
            return -1;
    }
    return v;
}

int main(int argc, char **argv)
{
    int status = 0;
    if (argc > 1 && strcmp(argv[1], "--exit") == 0) {
        status = argc > 2 ? parse_exit(argv[2]) : -1;
        if (status < 0) {
            fputs("probe: --exit needs a number from 0 to 255\n", stderr);
            return PROBE_USAGE;
        }
    }

    int fds[PROBE_MAX_FDS];
    size_t fds_n = list_fds(fds, PROBE_MAX_FDS);

    char *buf = NULL;
    size_t buf_len = 0;
    FILE *f = open_memstream(&buf, &buf_len);
    if (f == NULL) {
        perror("probe: open_memstream");
        return 1;
    }

    fprintf(f, "pid %ld\nppid %ld\nargc %d\n", (long)getpid(), (long)getppid(),
            argc);
    for (int i = 0; i < argc; i++) {
        fprintf(f, "argv[%d] ", i);
        put_escaped(f, argv[i]);
        fputc('\n', f);
    }

    size_t env_n = 0;
    while (environ != NULL && environ[env_n] != NULL)
        env_n++;
    char **env = calloc(env_n + 1, sizeof(*env));
    if (env == NULL) {
        perror("probe: calloc");
        return 1;
    }
    memcpy(env, environ, env_n * sizeof(*env));
    qsort(env, env_n, sizeof(*env), env_cmp);
    for (size_t i = 0; i < env_n; i++) {
        fputs("env ", f);
        put_escaped(f, env[i]);
        fputc('\n', f);
    }
    free(env);

    for (size_t i = 0; i < fds_n; i++)
        fprintf(f, "fd %d\n", fds[i]);

    sigset_t mask;
    sigemptyset(&mask);
    sigprocmask(SIG_BLOCK, NULL, &mask);
    for (int sig = 1; sig < NSIG; sig++)
        if (sigismember(&mask, sig) == 1)
            fprintf(f, "blocked %d\n", sig);
    for (int sig = 1; sig < NSIG; sig++) {
        struct sigaction sa;
        /* glibc refuses the signals it reserves for threads: skipped */
        if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
            fprintf(f, "ignored %d\n", sig);
    }
    fprintf(f, "dumpable %d\n", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
    if (fclose(f) != 0) {
        perror("probe: report");
        return 1;
    }

    const char *out = getenv("PROBE_OUT");
    int fd = STDOUT_FILENO;
    if (out != NULL && out[0] != '\0') {
        fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            perror("probe: PROBE_OUT");
            return 1;
        }
    }
    for (size_t off = 0; off < buf_len;) {
        ssize_t w = write(fd, buf + off, buf_len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            perror("probe: write");
            return 1;
        }
        off += (size_t)w;
    }
    if (fd != STDOUT_FILENO && close(fd) != 0) {
        perror("probe: close");
        return 1;
    }
    free(buf);
    return status;
}
