/* SPDX-License-Identifier: MIT */
/* run --watch (watch.h).  One thread: poll(2) on the supervisor's signalfd
   and one inotify descriptor, with a timeout for the next poll of a layer,
   the end of the quiescence, the splay or a retry.  What is kept between
   two resolutions is no value: the program's environment is remembered as
   keyed hashes (BLAKE2b under a key made at start), enough to tell
   whether it changed and which names did. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "audit.h"
#include "diag.h"
#include "envset.h"
#include "layer.h"
#include "resolve.h"
#include "secmem.h"
#include "splay.h"
#include "watch.h"

/* Retries of a failed resolution: from this, doubling, up to the poll
   period (or this cap without polled layers). */
#define RETRY_FIRST_MS 1000
#define RETRY_CAP_MS   60000
/* A blocking watch: the deadline of one wait, the back-off after an
   error, and the rate of the changes it reports (Consul's advice: a token
   bucket with a burst of about 2): BLOCK_BURST at once, then one every
   BLOCK_REFILL_MS. */
#define BLOCK_WAIT_MS      (10 * 60 * 1000)
#define BLOCK_RETRY_MS     1000
#define BLOCK_RETRY_CAP_MS 30000
#define BLOCK_BURST        2
#define BLOCK_REFILL_MS    1000
/* How many changed names a restart's log line lists. */
#define NAMES_SHOWN 10
#define HASH_LEN    16

/* ---- arguments ---- */

static const struct {
    const char *name;
    int sig;
} signals[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},     {"QUIT", SIGQUIT},
    {"KILL", SIGKILL}, {"USR1", SIGUSR1},   {"USR2", SIGUSR2},
    {"TERM", SIGTERM}, {"WINCH", SIGWINCH}, {"ALRM", SIGALRM},
    {"CONT", SIGCONT}, {"STOP", SIGSTOP},   {"TSTP", SIGTSTP},
    {"PWR", SIGPWR},
};

int ei_signal_parse(const char *s)
{
    if (s == NULL || *s == '\0')
        return -1;
    if (*s >= '0' && *s <= '9') {
        char *end;
        errno = 0;
        long n = strtol(s, &end, 10);
        if (errno != 0 || *end != '\0' || n < 1 || n >= NSIG)
            return -1;
        return (int)n;
    }
    if (strncasecmp(s, "SIG", 3) == 0)
        s += 3;
    for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
        if (strcasecmp(s, signals[i].name) == 0)
            return signals[i].sig;
    return -1;
}

int ei_wait_parse(const char *s, int64_t *min_ms, int64_t *max_ms)
{
    char buf[64];
    if (s == NULL || strlen(s) >= sizeof(buf))
        return -1;
    memcpy(buf, s, strlen(s) + 1);
    char *colon = strchr(buf, ':');
    if (colon != NULL)
        *colon = '\0';
    int64_t lo = ei_parse_duration_ms(buf, EI_KILL_TIMEOUT_MAX_MS);
    if (lo < 0)
        return -1;
    int64_t hi = lo * 4;
    if (colon != NULL) {
        hi = ei_parse_duration_ms(colon + 1, EI_KILL_TIMEOUT_MAX_MS);
        if (hi < 0 || hi < lo)
            return -1;
    }
    *min_ms = lo;
    *max_ms = hi;
    return 0;
}

/* ---- the program's environment, as names and keyed hashes ---- */

struct fp_item {
    char *name;
    unsigned char hash[HASH_LEN];
    const char *layer; /* static or the configuration's, not owned */
};

struct fingerprint {
    struct fp_item *v; /* sorted by name, as envp is */
    size_t n;
};

static void fp_free(struct fingerprint *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->v[i].name);
    free(f->v);
    f->v = NULL;
    f->n = 0;
}

/* The layer a key's value came from, for the restart's log line. */
static const char *key_layer(const struct ei_resolution *r, const char *key)
{
    const struct ei_entry *e = ei_envset_get(r->final, key);
    if (e == NULL)
        return "environment";
    return ei_resolution_layer_name(r, e->layer);
}

static int fp_make(struct fingerprint *f, char *const *envp,
                   const struct ei_resolution *r, const unsigned char *key)
{
    size_t n = 0;
    while (envp[n] != NULL)
        n++;
    f->v = calloc(n + 1, sizeof(*f->v));
    f->n = 0;
    if (f->v == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(envp[i], '=');
        size_t nl = eq != NULL ? (size_t)(eq - envp[i]) : strlen(envp[i]);
        struct fp_item *it = &f->v[f->n];
        it->name = strndup(envp[i], nl);
        if (it->name == NULL)
            return fp_free(f), -1;
        const char *val = eq != NULL ? eq + 1 : "";
        crypto_generichash(it->hash, sizeof(it->hash),
                           (const unsigned char *)val, strlen(val), key,
                           crypto_generichash_KEYBYTES);
        it->layer = key_layer(r, it->name);
        f->n++;
    }
    return 0;
}

/* Append "NAME (layer)" to out; false once out is full. */
static bool note_name(char *out, size_t size, size_t *shown, size_t *more,
                      const char *name, const char *layer, const char *what)
{
    if (*shown >= NAMES_SHOWN) {
        (*more)++;
        return false;
    }
    size_t len = strlen(out);
    snprintf(out + len, size - len, "%s%s (%s%s)", *shown > 0 ? ", " : "",
             name, layer, what);
    (*shown)++;
    return true;
}

/* Whether two fingerprints differ; the changed names (never values) go
   to out. */
static bool fp_diff(const struct fingerprint *a, const struct fingerprint *b,
                    char *out, size_t size)
{
    size_t i = 0, j = 0, shown = 0, more = 0;
    out[0] = '\0';
    bool differ = false;
    while (i < a->n || j < b->n) {
        int c = i == a->n   ? 1
                : j == b->n ? -1
                            : strcmp(a->v[i].name, b->v[j].name);
        if (c < 0) {
            note_name(out, size, &shown, &more, a->v[i].name, a->v[i].layer,
                      ", removed");
            i++;
        } else if (c > 0) {
            note_name(out, size, &shown, &more, b->v[j].name, b->v[j].layer,
                      ", new");
            j++;
        } else {
            if (sodium_memcmp(a->v[i].hash, b->v[j].hash, HASH_LEN) != 0) {
                note_name(out, size, &shown, &more, b->v[j].name,
                          b->v[j].layer, "");
                differ = true;
            }
            i++;
            j++;
            continue;
        }
        differ = true;
    }
    if (more > 0) {
        size_t len = strlen(out);
        snprintf(out + len, size - len, " and %zu more", more);
    }
    return differ;
}

/* ---- what tells of a change ---- */

struct watched {
    int wd;
    char *name; /* the file's name in the folder, NULL: any entry */
};

/* A thread that waits in a layer's wait_change. */
struct blocker {
    struct ei_layer *l;
    int fd; /* the write end of the watch's pipe */
    pthread_t tid;
};

struct watcher {
    int ifd;
    int pipe[2];            /* blockers tell of changes here */
    struct blocker *blocks; /* one per layer that asked, started once */
    size_t blocks_n;
    struct watched *w;
    size_t n;
    char *sig;            /* the watched paths, '\n'-joined */
    int64_t unwatched_ms; /* poll period of files inotify cannot watch */
    bool late; /* a file newly watched changed since the resolution began */
    int64_t poll_ms;      /* the shortest poll period, 0: nothing polled */
};

static void watcher_clear(struct watcher *wt)
{
    for (size_t i = 0; i < wt->n; i++) {
        if (wt->ifd >= 0)
            inotify_rm_watch(wt->ifd, wt->w[i].wd);
        free(wt->w[i].name);
    }
    free(wt->w);
    wt->w = NULL;
    wt->n = 0;
}

/* A file counts once it was closed after writing, moved, removed or
   chmod'ed; not while it is being written (a truncation, then writes,
   would show a half-written file). */
#define IN_EVENTS                                                              \
    (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB |   \
     IN_DELETE_SELF | IN_MOVE_SELF)

/*
 * A file is watched through its folder, so that an editor that writes a
 * new file and renames it over the old one is seen, and so is a file
 * that does not exist yet; a folder is watched itself.
 */
static int watch_path(struct watcher *wt, const char *path)
{
    if (wt->ifd < 0)
        return 1; /* said once, at start */
    struct stat sb;
    bool is_dir = stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
    char *copy = strdup(path), *base = NULL;
    if (copy == NULL)
        return -1;
    const char *target = path;
    if (!is_dir) {
        base = strdup(basename(copy));
        free(copy);
        copy = strdup(path);
        if (base == NULL || copy == NULL) {
            free(base);
            free(copy);
            return -1;
        }
        target = dirname(copy);
    }
    int wd = inotify_add_watch(wt->ifd, target, IN_EVENTS);
    free(copy);
    if (wd < 0) {
        ei_diag_msg(EI_LOG_WARN, NULL, path,
                    "cannot watch (%s): changes are noticed on the next "
                    "poll only",
                    strerror(errno));
        free(base);
        return 1;
    }
    struct watched *grown = realloc(wt->w, (wt->n + 1) * sizeof(*grown));
    if (grown == NULL) {
        free(base);
        return -1;
    }
    wt->w = grown;
    wt->w[wt->n].wd = wd;
    wt->w[wt->n].name = base;
    wt->n++;
    return 0;
}

static int64_t clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* The thread of a blocking watch: it lives until envinject exits. */
static void *blocker_main(void *arg)
{
    struct blocker *b = arg;
    struct ei_layer *l = b->l;
    int64_t backoff = 0, quick = 0;
    /* the bucket: tokens in thousandths, refilled with time */
    int64_t tokens = BLOCK_BURST * 1000, filled_at = clock_ms();
    for (;;) {
        struct ei_deadline dl;
        dl.start_ms = clock_ms();
        dl.end_ms = dl.start_ms + BLOCK_WAIT_MS;
        struct ei_error err = {0};
        bool changed = false;
        enum ei_status s = l->prov->wait_change(l->state, &dl, &changed, &err);
        if (s != EI_OK) {
            backoff = backoff == 0 ? BLOCK_RETRY_MS : backoff * 2;
            if (backoff > BLOCK_RETRY_CAP_MS)
                backoff = BLOCK_RETRY_CAP_MS;
            ei_diag_msg(EI_LOG_INFO, l->name, NULL,
                        "watching: %s; asking again in %lld ms",
                        err.text[0] != '\0' ? err.text : ei_status_text(s),
                        (long long)backoff);
            sleep_ms(backoff);
            continue;
        }
        backoff = 0;
        if (!changed) {
            /* a wait that ended at once with nothing changed (a server
               or proxy that does not hold the query): ask again after a
               growing pause, not in a busy loop */
            if (clock_ms() - dl.start_ms < BLOCK_RETRY_MS) {
                quick = quick == 0 ? BLOCK_RETRY_MS : quick * 2;
                if (quick > BLOCK_RETRY_CAP_MS)
                    quick = BLOCK_RETRY_CAP_MS;
                sleep_ms(quick);
            } else {
                quick = 0;
            }
            continue;
        }
        quick = 0;
        int64_t now = clock_ms();
        tokens += (now - filled_at) * 1000 / BLOCK_REFILL_MS;
        if (tokens > BLOCK_BURST * 1000)
            tokens = BLOCK_BURST * 1000;
        filled_at = now;
        if (tokens < 1000) {
            /* changes come faster than the bucket refills: wait for a
               token, then report them all as one */
            sleep_ms((1000 - tokens) * BLOCK_REFILL_MS / 1000);
            tokens = 1000;
            filled_at = clock_ms();
        }
        tokens -= 1000;
        ei_diag_msg(EI_LOG_INFO, l->name, NULL, "the service reports a change");
        char c = 1;
        while (write(b->fd, &c, 1) < 0 && errno == EINTR)
            ;
    }
    return NULL;
}

/* Start the thread of layer l unless it runs; -1 when it cannot. */
static int blocker_start(struct watcher *wt, struct ei_layer *l)
{
    for (size_t i = 0; i < wt->blocks_n; i++)
        if (wt->blocks[i].l == l)
            return 0;
    if (wt->pipe[1] < 0)
        return -1;
    /* the threads are never joined, and their array never moves */
    struct blocker *b = calloc(1, sizeof(*b));
    struct blocker *grown =
        b != NULL ? realloc(wt->blocks, (wt->blocks_n + 1) * sizeof(*grown))
                  : NULL;
    if (grown == NULL) {
        free(b);
        return -1;
    }
    wt->blocks = grown;
    *b = (struct blocker){.l = l, .fd = wt->pipe[1]};
    if (pthread_create(&b->tid, NULL, blocker_main, b) != 0) {
        free(b);
        return -1;
    }
    wt->blocks[wt->blocks_n++] = *b;
    return 0;
}

/* Now, to compare with file times: a file written before has an
   earlier time (from the same clock, or a coarse copy of it that lags;
   a write just after may then look older, never one before newer). */
static int64_t real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Whether path (or the link it is) changed after since_ns: a watch set
   up after the read missed that. */
static bool changed_since(const char *path, int64_t since_ns)
{
    struct stat sb;
    for (int follow = 0; follow < 2; follow++) {
        if ((follow ? stat(path, &sb) : lstat(path, &sb)) != 0)
            continue;
        int64_t c = (int64_t)sb.st_ctim.tv_sec * 1000000000 +
                    sb.st_ctim.tv_nsec;
        int64_t m = (int64_t)sb.st_mtim.tv_sec * 1000000000 +
                    sb.st_mtim.tv_nsec;
        if (c > since_ns || m > since_ns)
            return true;
    }
    return false;
}

/* The file path's links lead to when it is in another folder than
   path's own (malloc'd), else NULL.  A folder is watched itself. */
static char *linked_elsewhere(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0 || !S_ISLNK(sb.st_mode))
        return NULL;
    char *real = realpath(path, NULL);
    if (real == NULL || stat(real, &sb) != 0 || S_ISDIR(sb.st_mode))
        return free(real), NULL;
    char *a = strdup(path), *b = strdup(real);
    char *da = a != NULL ? realpath(dirname(a), NULL) : NULL;
    bool same = da != NULL && b != NULL && strcmp(da, dirname(b)) == 0;
    free(a);
    free(b);
    free(da);
    if (same)
        return free(real), NULL;
    return real;
}

static void poll_every(int64_t *poll_ms, int64_t period)
{
    if (*poll_ms == 0 || period < *poll_ms)
        *poll_ms = period;
}

/*
 * Ask every layer how it is watched.  The inotify watches are set up
 * again only when the files differ from last time: a watch removed and
 * added anew would miss what happens in between.  -1 when out of memory.
 */
static int watcher_arm(struct watcher *wt, struct ei_resolution *r,
                       int64_t since_ns)
{
    size_t cap = 256, len = 0;
    char *sig = malloc(cap);
    if (sig == NULL)
        return -1;
    sig[0] = '\0';
    int64_t poll_ms = 0, files_period = 0;
    for (int pass = 0; pass < 2; pass++) {
        bool same = pass == 1 && wt->sig != NULL && strcmp(wt->sig, sig) == 0;
        if (pass == 1 && !same) {
            watcher_clear(wt);
            wt->unwatched_ms = 0;
        }
        for (size_t i = 0; i < r->layers_n; i++) {
            struct ei_layer *l = &r->layers[i];
            const struct ei_provider *p = l->prov;
            const char *const *paths = NULL;
            int64_t hint = 0;
            enum ei_watch_kind kind = EI_WATCH_POLL;
            bool has = p->size >= offsetof(struct ei_provider, watch) +
                                      sizeof(p->watch) &&
                       p->watch != NULL;
            /* a layer answered by the cache has no read to watch from:
               it is polled until its source answers again */
            if (has && !l->skipped && !l->cached && l->status == EI_OK)
                kind = p->watch(l->state, &paths, &hint);
            int64_t period = hint > 0 ? hint : l->opts.poll_interval_ms;
            bool can_block = p->size >= offsetof(struct ei_provider,
                                                 wait_change) +
                                          sizeof(p->wait_change) &&
                             p->wait_change != NULL;
            if (kind == EI_WATCH_BLOCKING && pass == 0 &&
                (!can_block || blocker_start(wt, l) < 0))
                kind = EI_WATCH_POLL; /* no thread: poll it instead */
            if (kind == EI_WATCH_BLOCKING && pass == 0)
                ei_diag_msg(EI_LOG_DEBUG, l->name, NULL,
                            "watched: the service tells of changes");
            if (kind == EI_WATCH_POLL && pass == 0) {
                poll_every(&poll_ms, period);
                ei_diag_msg(EI_LOG_DEBUG, l->name, NULL,
                            "watched: polled every %lld ms",
                            (long long)period);
            }
            if (kind != EI_WATCH_FILES)
                continue;
            for (size_t k = 0; paths != NULL && paths[k] != NULL; k++) {
                /* a link to a file elsewhere: that file's folder too, and
                   where the link points is part of what is watched */
                char *real = linked_elsewhere(paths[k]);
                if (pass == 0) {
                    size_t n = strlen(paths[k]) +
                               (real != NULL ? strlen(real) + 1 : 0);
                    if (len + n + 2 > cap) {
                        cap = (len + n + 2) * 2;
                        char *g = realloc(sig, cap);
                        if (g == NULL)
                            return free(real), free(sig), -1;
                        sig = g;
                    }
                    len += (size_t)sprintf(sig + len, "%s%s%s\n", paths[k],
                                           real != NULL ? "\t" : "",
                                           real != NULL ? real : "");
                    poll_every(&files_period, period);
                    ei_diag_msg(EI_LOG_DEBUG, l->name, paths[k],
                                "watched: by inotify");
                } else if (!same) {
                    int rc = watch_path(wt, paths[k]);
                    if (rc == 0 && real != NULL)
                        rc = watch_path(wt, real);
                    if (rc < 0)
                        return free(real), free(sig), -1;
                    /* a file that cannot be watched is polled instead */
                    if (rc > 0)
                        poll_every(&wt->unwatched_ms, period);
                    else if (since_ns > 0 && changed_since(paths[k], since_ns))
                        wt->late = true;
                }
                free(real);
            }
        }
    }
    free(wt->sig);
    wt->sig = sig;
    if (wt->unwatched_ms > 0)
        poll_every(&poll_ms, wt->unwatched_ms);
    wt->poll_ms = poll_ms;
    return 0;
}

/* Read the queued events; true when one concerns a watched name. */
static bool watcher_events(struct watcher *wt)
{
    bool hit = false;
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t n = read(wt->ifd, buf, sizeof(buf));
        if (n <= 0)
            break;
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *ev = (struct inotify_event *)(void *)p;
            for (size_t i = 0; i < wt->n; i++) {
                if (wt->w[i].wd != ev->wd)
                    continue;
                /* a folder counts whole; in a file's folder, the file,
                   and the "..data" link Kubernetes swaps over a volume */
                if (wt->w[i].name == NULL || ev->len == 0 ||
                    strcmp(ev->name, wt->w[i].name) == 0 ||
                    strcmp(ev->name, "..data") == 0)
                    hit = true;
                /* the folder itself went away or moved: its watch is gone
                   or follows it elsewhere, so the next arming sets the
                   watches up again, on what the paths name then */
                if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
                    free(wt->sig);
                    wt->sig = NULL;
                    hit = true;
                }
            }
            if (ev->mask & IN_Q_OVERFLOW)
                hit = true;
            p += sizeof(*ev) + ev->len;
        }
    }
    return hit;
}

/* ---- the loop ---- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct watch {
    struct ei_resolution *r;
    const struct ei_exec_opts *xo;
    const char *const *inherited;
    const struct ei_watch_opts *wo;
    unsigned char *key; /* the fingerprints' key, in secret memory */
    struct fingerprint running;
    struct watcher wt;
    struct ei_sup sup;
    int64_t next_poll; /* 0: none */
    int64_t quiet_at;  /* 0: nothing pending */
    int64_t quiet_max; /* the latest the quiescence may end */
    int64_t retry_ms;  /* back-off of failed resolutions */
    char **pending;    /* an environment waiting for its splay */
    struct fingerprint pending_fp;
    int64_t restart_at;
    char pending_names[1024]; /* what changed, for the restart's line */
    char *pending_record;     /* its audit record, or NULL */
    int64_t record_retry_ms;  /* back-off of a record that failed */
};

/* Resolve again: the new environment in *envp when it differs from the
   running program's, NULL when it is the same or the resolution failed
   (then 1, with the reason logged). */
static int refresh(struct watch *w, char ***envp, struct fingerprint *fp,
                   char **record)
{
    struct ei_error err = {0};
    *envp = NULL;
    *record = NULL;
    memset(fp, 0, sizeof(*fp));
    int64_t began = real_ns();
    int rc = -1;
    if (ei_resolution_reset(w->r) < 0)
        ei_error_set(&err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory");
    else
        /* the program keeps its values rather than take the cache's,
           which are no newer than the values it has */
        rc = ei_resolution_run(w->r, EI_RESOLVE_NO_CACHE, &err);
    char **env = NULL;
    if (rc == 0)
        env = ei_exec_envp(w->r, w->inherited, w->xo, &err);
    if (env != NULL && ei_exec_check_envp(w->xo->argv, env, &err) != 0) {
        ei_exec_envp_free(env);
        env = NULL;
    }
    /* a failed validation says which key, as run would */
    if (rc < 0 && w->r->problems.n > 0) {
        const struct ei_problem *pb = &w->r->problems.v[0];
        ei_error_clear(&err);
        ei_error_set(&err, EI_BADCONFIG, 0, NULL, NULL, "%s%s",
                     pb->message != NULL ? pb->message : "validation failed",
                     w->r->problems.n > 1 ? " (and more)" : "");
    }
    if (env != NULL && fp_make(fp, env, w->r, w->key) < 0) {
        ei_exec_envp_free(env);
        env = NULL;
        ei_error_set(&err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory");
    }
    if (env != NULL && watcher_arm(&w->wt, w->r, began) < 0) {
        fp_free(fp);
        ei_exec_envp_free(env);
        env = NULL;
        ei_error_set(&err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory");
    }
    if (env != NULL && w->wo->audit != NULL &&
        (*record = ei_audit_record(w->wo->audit, w->r, w->xo->argv[0],
                                   w->xo->unset, &err)) == NULL) {
        fp_free(fp);
        ei_exec_envp_free(env);
        env = NULL;
    }
    /* the values are in env now, or nowhere */
    ei_resolution_reset(w->r);
    if (env == NULL) {
        char text[EI_ERR_TEXT_LEN * 2];
        ei_error_describe(&err, text, sizeof(text));
        ei_diag_msg(EI_LOG_WARN, err.layer[0] ? err.layer : NULL,
                    err.locator[0] ? err.locator : NULL,
                    "the program keeps running with its environment: %s",
                    text);
        return 1;
    }
    char names[1024];
    if (!fp_diff(&w->running, fp, names, sizeof(names))) {
        ei_diag_msg(EI_LOG_INFO, NULL, NULL,
                    "resolved again: the program's environment is the same");
        ei_exec_envp_free(env);
        fp_free(fp);
        free(*record);
        *record = NULL;
        return 0;
    }
    ei_diag_msg(EI_LOG_INFO, NULL, NULL, "changed: %s", names);
    snprintf(w->pending_names, sizeof(w->pending_names), "%s", names);
    *envp = env;
    return 0;
}

static int64_t min_time(int64_t a, int64_t b)
{
    if (a == 0)
        return b;
    if (b == 0)
        return a;
    return a < b ? a : b;
}

/* Something may have changed: resolve once things are quiet. */
static void mark_dirty(struct watch *w, int64_t now)
{
    if (w->quiet_at == 0) {
        w->quiet_max = now + w->wo->wait_max_ms;
        w->quiet_at = now + w->wo->wait_min_ms;
    } else {
        int64_t at = now + w->wo->wait_min_ms;
        w->quiet_at = at < w->quiet_max ? at : w->quiet_max;
    }
}

/* Drop the environment waiting for its restart. */
static void pending_drop(struct watch *w)
{
    ei_exec_envp_free(w->pending);
    w->pending = NULL;
    fp_free(&w->pending_fp);
    free(w->pending_record);
    w->pending_record = NULL;
}

static int restart(struct watch *w, struct ei_error *err)
{
    int sig = w->wo->kill_signal > 0 ? w->wo->kill_signal : SIGTERM;
    if (w->pending_record != NULL) {
        /* a restart that cannot be recorded does not happen yet: it is
           tried again with back-off, as a failed resolution is */
        struct ei_error ae = {0};
        if (ei_audit_append(w->wo->audit, w->pending_record, true, &ae) < 0) {
            char text[EI_ERR_TEXT_LEN * 2];
            ei_error_describe(&ae, text, sizeof(text));
            w->record_retry_ms = w->record_retry_ms == 0
                                     ? RETRY_FIRST_MS
                                     : w->record_retry_ms * 2;
            if (w->record_retry_ms > RETRY_CAP_MS)
                w->record_retry_ms = RETRY_CAP_MS;
            w->restart_at = now_ms() + w->record_retry_ms;
            ei_diag_msg(EI_LOG_WARN, NULL, NULL,
                        "the program keeps running with its environment: "
                        "%s; trying again in %lld ms",
                        text, (long long)w->record_retry_ms);
            return 0;
        }
        w->record_retry_ms = 0;
        free(w->pending_record);
        w->pending_record = NULL;
    }
    ei_diag_notice("restarting the program: changed %s", w->pending_names);
    ei_sup_stop(&w->sup, sig);
    char **env = w->pending;
    w->pending = NULL;
    if (ei_sup_start(&w->sup, w->xo->argv, env, err) < 0) {
        fp_free(&w->pending_fp);
        return -1;
    }
    fp_free(&w->running);
    w->running = w->pending_fp;
    memset(&w->pending_fp, 0, sizeof(w->pending_fp));
    return 0;
}

/*
 * The end of the watch.  Threads of blocking watches may be inside a long
 * poll with the layers' state: nothing they use may be freed, so with
 * any of them envinject leaves here, as the process ends anyway (no
 * value is held by then: only the providers' credentials).
 */
static void watch_free(struct watch *w);

static _Noreturn void leave_now(int rc, const struct ei_error *err)
{
    if (rc < 0) {
        ei_diag_error(err);
        rc = ei_exit_code(err->status);
    }
    fflush(NULL);
    _exit(rc);
}

static int watch_end(struct watch *w, int rc, const struct ei_error *err)
{
    if (w->wt.blocks_n > 0)
        leave_now(rc, err);
    watch_free(w);
    return rc;
}

static void watch_free(struct watch *w)
{
    watcher_clear(&w->wt);
    if (w->wt.pipe[0] >= 0)
        close(w->wt.pipe[0]);
    if (w->wt.pipe[1] >= 0)
        close(w->wt.pipe[1]);
    free(w->wt.blocks);
    free(w->wt.sig);
    if (w->wt.ifd >= 0)
        close(w->wt.ifd);
    fp_free(&w->running);
    fp_free(&w->pending_fp);
    if (w->pending != NULL)
        ei_exec_envp_free(w->pending);
    free(w->pending_record);
    if (w->key != NULL)
        sodium_free(w->key);
    ei_resolution_free(w->r);
}

int ei_watch(struct ei_resolution *r, const struct ei_exec_opts *xo,
             const char *const *inherited, const struct ei_watch_opts *wo,
             struct ei_error *err)
{
    struct watch w = {.r = r, .xo = xo, .inherited = inherited, .wo = wo};
    /* signals are blocked first: the threads of blocking watches inherit
       the mask, so that every signal comes to the signalfd */
    if (ei_sup_begin(&w.sup, &wo->sup, err) < 0) {
        ei_resolution_free(r);
        return -1;
    }
    w.wt.ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (pipe2(w.wt.pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        w.wt.pipe[0] = w.wt.pipe[1] = -1;
    w.key = ei_sodium_malloc(crypto_generichash_KEYBYTES);
    char **env = NULL;
    if (w.key == NULL) {
        ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory");
        goto fail;
    }
    randombytes_buf(w.key, crypto_generichash_KEYBYTES);
    if (w.wt.ifd < 0)
        ei_diag_msg(EI_LOG_WARN, NULL, NULL,
                    "inotify is not available (%s): files are polled",
                    strerror(errno));

    env = ei_exec_envp(r, inherited, xo, err);
    if (env == NULL)
        goto fail;
    char *record = NULL;
    if (ei_exec_check_envp(xo->argv, env, err) != 0 ||
        fp_make(&w.running, env, r, w.key) < 0 ||
        watcher_arm(&w.wt, r, wo->resolved_since_ns) < 0 ||
        (wo->audit != NULL &&
         (record = ei_audit_record(wo->audit, r, xo->argv[0], xo->unset,
                                   err)) == NULL)) {
        if (err->status == EI_OK)
            ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL, "out of memory");
        goto fail;
    }
    ei_resolution_reset(r);
    int wrote = record != NULL ? ei_audit_append(wo->audit, record, false, err) : 0;
    free(record);
    if (wrote < 0)
        goto fail;
    int started = ei_sup_start(&w.sup, xo->argv, env, err);
    env = NULL;
    if (started < 0)
        goto fail;
    if (w.wt.poll_ms > 0)
        w.next_poll = now_ms() + w.wt.poll_ms;

    for (;;) {
        int64_t now = now_ms();
        int64_t next = min_time(min_time(w.next_poll, w.quiet_at),
                                w.pending != NULL ? w.restart_at : 0);
        int timeout = -1;
        if (next != 0)
            timeout = next <= now ? 0 : next - now > INT_MAX ? INT_MAX
                                                            : (int)(next - now);
        struct pollfd p[3] = {{.fd = w.sup.sfd, .events = POLLIN},
                              {.fd = w.wt.ifd, .events = POLLIN},
                              {.fd = w.wt.pipe[0], .events = POLLIN}};
        /* a negative descriptor is skipped by poll */
        int pr = poll(p, 3, timeout);
        if (pr < 0 && errno != EINTR) {
            ei_error_set(err, EI_OSERR, errno, NULL, NULL, "poll failed");
            ei_sup_stop(&w.sup, SIGTERM);
            goto fail;
        }
        ei_sup_signals(&w.sup, 0, true);
        if (w.sup.done) {
            ei_sup_end_group(&w.sup);
            int rc = ei_sup_status(&w.sup);
            ei_diag_msg(EI_LOG_INFO, NULL, NULL,
                        "the program ended with status %d", rc);
            ei_sup_finish(&w.sup);
            return watch_end(&w, rc, err);
        }
        now = now_ms();
        if (w.wt.late) {
            /* a watch set up after its file was read: read it again */
            w.wt.late = false;
            ei_diag_msg(EI_LOG_INFO, NULL, NULL,
                        "a watched file changed while it was being read");
            mark_dirty(&w, now);
        }
        if (pr > 0 && (p[2].revents & POLLIN)) {
            char drain[64];
            while (read(w.wt.pipe[0], drain, sizeof(drain)) > 0)
                ;
            mark_dirty(&w, now);
        }
        if (w.wt.ifd >= 0 && pr > 0 && (p[1].revents & POLLIN) &&
            watcher_events(&w.wt)) {
            ei_diag_msg(EI_LOG_INFO, NULL, NULL, "a watched file changed");
            mark_dirty(&w, now);
        }
        if (w.next_poll != 0 && now >= w.next_poll) {
            w.next_poll = 0;
            mark_dirty(&w, now);
        }
        if (w.quiet_at != 0 && now >= w.quiet_at) {
            w.quiet_at = 0;
            char **fresh;
            struct fingerprint fp;
            char *rec;
            if (refresh(&w, &fresh, &fp, &rec) > 0) {
                /* try again with back-off, whatever the poll period */
                int64_t cap = w.wt.poll_ms > 0 ? w.wt.poll_ms : RETRY_CAP_MS;
                w.retry_ms = w.retry_ms == 0 ? RETRY_FIRST_MS : w.retry_ms * 2;
                if (w.retry_ms > cap)
                    w.retry_ms = cap;
                w.next_poll = now_ms() + w.retry_ms;
                continue;
            }
            w.retry_ms = 0;
            if (w.wt.poll_ms > 0)
                w.next_poll = now_ms() + w.wt.poll_ms;
            if (fresh == NULL && w.pending != NULL) {
                /* back to the running program's environment: the change
                   waiting for its splay is no change any more */
                ei_diag_msg(EI_LOG_INFO, NULL, NULL,
                            "the pending restart is dropped: the change was "
                            "undone");
                pending_drop(&w);
            }
            if (fresh != NULL) {
                /* a newer change replaces one still waiting for its
                   splay; the splay is not drawn again */
                if (w.pending != NULL)
                    pending_drop(&w);
                else
                    w.restart_at = now_ms() + ei_splay_draw(w.wo->splay_ms);
                w.pending = fresh;
                w.pending_fp = fp;
                w.pending_record = rec;
            }
        }
        if (w.pending != NULL && now_ms() >= w.restart_at) {
            if (restart(&w, err) < 0)
                goto fail;
        }
    }

fail:
    ei_sup_finish(&w.sup);
    if (env != NULL)
        ei_exec_envp_free(env);
    w.r = r;
    return watch_end(&w, -1, err);
}
