/* SPDX-License-Identifier: MIT */
/* Unit tests of the HTTP engine (src/http.c): back-off, Retry-After and
   endpoint validation tables, requests against a loopback server, and the
   fake host's canned HTTP (tests/fakes/host.c) held to the same outcomes. */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <sodium.h>

#include "diag.h"
#include "host.h"
#include "http.h"

#if defined(__SANITIZE_ADDRESS__)
/* from ASan's allocator interface: whether malloc handed out p */
int __sanitizer_get_ownership(const volatile void *p);
#define HAVE_OWNERSHIP 1
#endif

#define LAYER         "net"
#define CANARY        "EI_CANARY_51d0c"
#define SRV_MAX_REQS  64
#define SRV_BUF       (256 * 1024)
#define SRV_MAX_CONNS 32
#define RND_MAX       UINT32_MAX

/* ---- a loopback HTTP/1.1 server answering from a script ---- */

enum srv_action {
    ANSWER, /* status, headers, body */
    CLOSE,  /* read the request, close without answering */
    HANG,   /* read the request, never answer */
    LIVE,   /* "100 Continue" to a request that asks for it, then HANG */
};

struct srv_reply {
    int status;
    const char *headers; /* extra lines, each ending in "\r\n" */
    const char *body;
    int delay_ms; /* before answering */
    enum srv_action action;
    bool close_after; /* "Connection: close" */
};

struct srv_req {
    char method[16];
    char path[512];
    char head[8192]; /* the request line and the header lines */
    char *body;
    size_t body_len;
};

struct srv {
    int lfd;
    int port;
    char url[64];
    pthread_t tid;
    atomic_bool stop;
    const struct srv_reply *script; /* past the end, the last one repeats */
    size_t script_n;
    pthread_mutex_t mu;
    size_t next;
    size_t accepts;
    pthread_t conns[SRV_MAX_CONNS];
    size_t reqs_n;
    struct srv_req reqs[SRV_MAX_REQS];
};

static bool srv_wait(struct srv *s, int fd)
{
    while (!atomic_load(&s->stop)) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, 10);
        if (r > 0)
            return true;
        if (r < 0 && errno != EINTR)
            return false;
    }
    return false;
}

/* ms of real time, not the sum of steps (each of which a loaded machine
   may stretch), looking at stop every 10 ms */
static void srv_sleep(struct srv *s, int ms)
{
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        long left = ms - ((now.tv_sec - t0.tv_sec) * 1000L +
                          (now.tv_nsec - t0.tv_nsec) / 1000000L);
        if (left <= 0 || atomic_load(&s->stop))
            return;
        struct timespec ts = {0, (left < 10 ? left : 10) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static size_t content_length(const char *head, size_t head_len)
{
    static const char name[] = "\r\ncontent-length:";
    for (size_t i = 0; i + sizeof(name) - 1 < head_len; i++)
        if (strncasecmp(head + i, name, sizeof(name) - 1) == 0)
            return strtoul(head + i + sizeof(name) - 1, NULL, 10);
    return 0;
}

/* Serve requests on one connection until it closes or the script ends it. */
static void srv_conn(struct srv *s, int fd, char *buf)
{
    size_t have = 0;
    for (;;) {
        char *end;
        while ((end = memmem(buf, have, "\r\n\r\n", 4)) == NULL) {
            if (have == SRV_BUF || !srv_wait(s, fd))
                return;
            ssize_t n = recv(fd, buf + have, SRV_BUF - have, 0);
            if (n <= 0)
                return;
            have += (size_t)n;
        }
        size_t head_len = (size_t)(end + 4 - buf);
        size_t clen = content_length(buf, head_len);
        if (clen > SRV_BUF - head_len)
            return;
        /* as Go's servers: the interim answer when the body is read, but
           none from a member that hangs (a frozen process) */
        if (memmem(buf, head_len, "Expect: 100-continue", 20) != NULL) {
            pthread_mutex_lock(&s->mu);
            size_t k = s->next < s->script_n ? s->next : s->script_n - 1;
            bool hangs = s->script[k].action == HANG;
            pthread_mutex_unlock(&s->mu);
            if (!hangs)
                send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n", 25);
        }
        while (have < head_len + clen) {
            if (!srv_wait(s, fd))
                return;
            ssize_t n = recv(fd, buf + have, SRV_BUF - have, 0);
            if (n <= 0)
                return;
            have += (size_t)n;
        }
        pthread_mutex_lock(&s->mu);
        if (s->reqs_n < SRV_MAX_REQS) {
            struct srv_req *r = &s->reqs[s->reqs_n++];
            sscanf(buf, "%15s %511s", r->method, r->path);
            size_t hl =
                head_len < sizeof(r->head) ? head_len : sizeof(r->head) - 1;
            memcpy(r->head, buf, hl);
            r->head[hl] = '\0';
            r->body = malloc(clen + 1);
            if (r->body != NULL) {
                memcpy(r->body, buf + head_len, clen);
                r->body[clen] = '\0';
                r->body_len = clen;
            }
        }
        size_t i = s->next < s->script_n ? s->next : s->script_n - 1;
        s->next++;
        const struct srv_reply *rep = &s->script[i];
        pthread_mutex_unlock(&s->mu);
        memmove(buf, buf + head_len + clen, have - head_len - clen);
        have -= head_len + clen;

        srv_sleep(s, rep->delay_ms);
        if (rep->action == CLOSE)
            return;
        if (rep->action == HANG || rep->action == LIVE) {
            char c;
            while (srv_wait(s, fd) && recv(fd, &c, 1, 0) > 0)
                ;
            return;
        }
        const char *body = rep->body != NULL ? rep->body : "";
        char head[1024];
        int n = snprintf(head, sizeof(head),
                         "HTTP/1.1 %d Scripted\r\nContent-Length: %zu\r\n"
                         "%s%s\r\n",
                         rep->status, strlen(body),
                         rep->headers != NULL ? rep->headers : "",
                         rep->close_after ? "Connection: close\r\n" : "");
        send_all(fd, head, (size_t)n);
        send_all(fd, body, strlen(body));
        if (rep->close_after)
            return;
    }
}

struct srv_conn_arg {
    struct srv *s;
    int fd;
};

static void *srv_conn_main(void *arg)
{
    struct srv_conn_arg *a = arg;
    char *buf = malloc(SRV_BUF);
    if (buf != NULL)
        srv_conn(a->s, a->fd, buf);
    free(buf);
    close(a->fd);
    free(a);
    return NULL;
}

/* One thread per connection, as a real server: an idle keep-alive
   connection must not hold up a new one. */
static void *srv_main(void *arg)
{
    struct srv *s = arg;
    while (srv_wait(s, s->lfd)) {
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        struct srv_conn_arg *a = malloc(sizeof(*a));
        pthread_mutex_lock(&s->mu);
        bool room = s->accepts < SRV_MAX_CONNS && a != NULL;
        if (room) {
            a->s = s;
            a->fd = fd;
            if (pthread_create(&s->conns[s->accepts], NULL, srv_conn_main, a) !=
                0)
                room = false;
            else
                s->accepts++;
        }
        pthread_mutex_unlock(&s->mu);
        if (!room) {
            free(a);
            close(fd);
        }
    }
    return NULL;
}

static int bound_socket(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    *port = ntohs(a.sin_port);
    return fd;
}

static struct srv *srv_start(const struct srv_reply *script, size_t n)
{
    struct srv *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    s->script = script;
    s->script_n = n;
    pthread_mutex_init(&s->mu, NULL);
    s->lfd = bound_socket(&s->port);
    assert_true(s->lfd >= 0);
    assert_int_equal(listen(s->lfd, 16), 0);
    snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%d", s->port);
    assert_int_equal(pthread_create(&s->tid, NULL, srv_main, s), 0);
    return s;
}

static size_t srv_reqs(struct srv *s)
{
    pthread_mutex_lock(&s->mu);
    size_t n = s->reqs_n;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static size_t srv_accepts(struct srv *s)
{
    pthread_mutex_lock(&s->mu);
    size_t n = s->accepts;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static void srv_stop(struct srv *s)
{
    atomic_store(&s->stop, true);
    pthread_join(s->tid, NULL);
    for (size_t i = 0; i < s->accepts; i++)
        pthread_join(s->conns[i], NULL);
    close(s->lfd);
    for (size_t i = 0; i < s->reqs_n; i++)
        free(s->reqs[i].body);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/*
 * A loopback URL where nothing listens: a socket bound but not listening
 * is refused at once, and holding it keeps the port from being handed to
 * another server (tests run in parallel).  Close the returned fd after.
 */
static int closed_url(char *out, size_t len)
{
    int port;
    int fd = bound_socket(&port);
    assert_true(fd >= 0);
    snprintf(out, len, "http://127.0.0.1:%d", port);
    return fd;
}

/* ---- helpers ---- */

/* A clock that moves only when slept on, and a fixed random value. */
struct fake_env {
    int64_t now;
    int64_t sleeps[64];
    size_t sleeps_n;
    uint32_t rnd;
};

static int64_t fe_now(void *ctx)
{
    return ((struct fake_env *)ctx)->now;
}

static void fe_sleep(void *ctx, int64_t ms)
{
    struct fake_env *fe = ctx;
    if (fe->sleeps_n < 64)
        fe->sleeps[fe->sleeps_n++] = ms;
    fe->now += ms;
}

static uint32_t fe_random(void *ctx)
{
    return ((struct fake_env *)ctx)->rnd;
}

static void use_fake_env(struct ei_http *c, struct fake_env *fe)
{
    struct ei_http_env env = {fe_now, fe_sleep, fe_random, fe};
    ei_http_set_env(c, &env);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void real_deadline(struct ei_deadline *dl, int64_t ms)
{
    dl->start_ms = mono_ms();
    dl->end_ms = dl->start_ms + ms;
}

static struct ei_http *client(const char *const *urls, size_t n, size_t max,
                              bool secret)
{
    struct ei_http_config cfg = {.layer = LAYER,
                                 .endpoints = urls,
                                 .endpoints_n = n,
                                 .secret_layer = secret,
                                 .max_response = max};
    struct ei_error err = {0};
    struct ei_http *c = ei_http_new(&cfg, &err);
    if (c == NULL)
        fail_msg("ei_http_new: %s", err.text);
    return c;
}

/* stderr into a temporary file, for checking log lines. */
struct capture {
    FILE *f;
    int saved;
};

static void capture_start(struct capture *cap, int level)
{
    fflush(stderr);
    cap->f = tmpfile();
    assert_non_null(cap->f);
    cap->saved = dup(2);
    assert_true(cap->saved >= 0);
    assert_true(dup2(fileno(cap->f), 2) >= 0);
    ei_diag_set_level(level);
}

static char *capture_end(struct capture *cap)
{
    fflush(stderr);
    dup2(cap->saved, 2);
    close(cap->saved);
    ei_diag_set_level(0);
    long n = ftell(cap->f);
    char *s = calloc(1, (size_t)(n > 0 ? n : 0) + 1);
    assert_non_null(s);
    rewind(cap->f);
    if (n > 0 && fread(s, 1, (size_t)n, cap->f) != (size_t)n)
        fail_msg("cannot read the captured stderr");
    fclose(cap->f);
    return s;
}

static size_t count_lines_with(const char *log, const char *needle)
{
    size_t n = 0;
    for (const char *p = log; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

/* ---- ei_http_backoff ---- */

struct backoff_case {
    const char *name;
    unsigned attempt;
    int64_t base, cap, retry_after, left;
    uint32_t rnd;
    int64_t expect;
};

static const struct backoff_case backoff_cases[] = {
    {"lowest jitter", 0, 50, 2000, -1, 5000, 0, 0},
    {"highest jitter, attempt 0", 0, 50, 2000, -1, 5000, RND_MAX, 50},
    {"middle jitter, attempt 0", 0, 50, 2000, -1, 5000, 0x80000000u, 25},
    {"highest jitter, attempt 3", 3, 50, 2000, -1, 5000, RND_MAX, 400},
    {"highest jitter, attempt 5", 5, 50, 2000, -1, 5000, RND_MAX, 1600},
    {"attempt 6 reaches the cap", 6, 50, 2000, -1, 5000, RND_MAX, 2000},
    {"attempt 31 stays at the cap", 31, 50, 2000, -1, 5000, RND_MAX, 2000},
    {"attempt 200 stays at the cap", 200, 50, 2000, -1, 5000, RND_MAX, 2000},
    {"cap below base", 0, 50, 10, -1, 5000, RND_MAX, 10},
    {"base 0", 4, 0, 2000, -1, 5000, RND_MAX, 0},
    {"huge cap clamped", 62, 1, INT64_MAX, -1, INT64_MAX, RND_MAX, INT32_MAX},
    {"jitter cut to the room left", 3, 50, 2000, -1, 300, RND_MAX, 200},
    {"one ms of room", 0, 50, 2000, -1, EI_HTTP_RETRY_MIN_MS + 1, RND_MAX, 1},
    {"no room", 0, 50, 2000, -1, EI_HTTP_RETRY_MIN_MS, 0, -1},
    {"deadline passed", 0, 50, 2000, -1, 0, 0, -1},
    {"deadline long passed", 0, 50, 2000, -1, -5000, 0, -1},
    {"retry-after wins over jitter", 0, 50, 2000, 1000, 5000, RND_MAX, 1000},
    {"retry-after 0", 5, 50, 2000, 0, 5000, RND_MAX, 0},
    {"retry-after above the cap", 0, 50, 2000, 3000, 5000, 0, 3000},
    {"retry-after just fits", 0, 50, 2000, 4900, 5000, 0, 4900},
    {"retry-after past the deadline", 0, 50, 2000, 4901, 5000, 0, -1},
    {"retry-after with no room", 0, 50, 2000, 0, 50, 0, -1},
};

static void test_backoff_table(void **state)
{
    for (size_t i = 0; i < sizeof(backoff_cases) / sizeof(backoff_cases[0]);
         i++) {
        const struct backoff_case *t = &backoff_cases[i];
        int64_t got = ei_http_backoff(t->attempt, t->base, t->cap,
                                      t->retry_after, t->left, t->rnd);
        if (got != t->expect)
            fail_msg("%s: got %lld, want %lld", t->name, (long long)got,
                     (long long)t->expect);
    }
}

/* xorshift32: seeded, so a failure reproduces */
static uint32_t xorshift(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void test_backoff_bounds_seeded(void **state)
{
    uint32_t seed = 0x2545f491u;
    for (unsigned attempt = 0; attempt < 12; attempt++) {
        int64_t top = 50LL << attempt;
        if (top > 2000)
            top = 2000;
        int64_t lo = INT64_MAX, hi = -1, sum = 0;
        const int rounds = 4000;
        for (int r = 0; r < rounds; r++) {
            int64_t d =
                ei_http_backoff(attempt, 50, 2000, -1, 100000, xorshift(&seed));
            if (d < 0 || d > top)
                fail_msg("attempt %u: %lld outside [0, %lld]", attempt,
                         (long long)d, (long long)top);
            lo = d < lo ? d : lo;
            hi = d > hi ? d : hi;
            sum += d;
        }
        /* full jitter: the whole range is used, centred on half the top */
        assert_true(lo <= top / 10);
        assert_true(hi >= top - top / 10);
        int64_t mean = sum / rounds;
        if (mean < top * 4 / 10 || mean > top * 6 / 10)
            fail_msg("attempt %u: mean %lld of [0, %lld]", attempt,
                     (long long)mean, (long long)top);
    }
}

/* ---- ei_http_retry_after and ei_http_retryable ---- */

#define DATE_EPOCH 784111777 /* Sun, 06 Nov 1994 08:49:37 GMT */

struct ra_case {
    const char *value;
    int64_t now;
    int64_t expect;
};

static const struct ra_case ra_cases[] = {
    {"0", 0, 0},
    {"1", 0, 1000},
    {"120", 0, 120000},
    {" 7\r\n", 0, 7000},
    {"\t3 ", 0, 3000},
    {"Sun, 06 Nov 1994 08:49:37 GMT", DATE_EPOCH - 30, 30000},
    {"Sunday, 06-Nov-94 08:49:37 GMT", DATE_EPOCH - 30, 30000},
    {"Sun Nov  6 08:49:37 1994", DATE_EPOCH - 30, 30000},
    {" Sun, 06 Nov 1994 08:49:37 GMT\r\n", DATE_EPOCH - 2, 2000},
    {"Sun, 06 Nov 1994 08:49:37 GMT", DATE_EPOCH, 0},
    {"Sun, 06 Nov 1994 08:49:37 GMT", DATE_EPOCH + 100, 0},
    {NULL, 0, -1},
    {"", 0, -1},
    {"   ", 0, -1},
    {"1.5", 0, -1},
    {"-1", 0, -1},
    {"+5", 0, -1},
    {"12abc", 0, -1},
    {"0x10", 0, -1},
    {"garbage", 0, -1},
    {"tomorrow", 0, -1},
    {"Sun, 32 Nov 1994 08:49:37 GMT", 0, -1},
    {"Sun, 06 Nov 1994 25:49:37 GMT", 0, -1},
    {"@784111777", 0, -1},
    {"11111111111111111111111111111111111111111111111111111111111111111111", 0,
     -1},
};

static void test_retry_after_table(void **state)
{
    for (size_t i = 0; i < sizeof(ra_cases) / sizeof(ra_cases[0]); i++) {
        const struct ra_case *t = &ra_cases[i];
        int64_t got = ei_http_retry_after(t->value, t->now);
        if (got != t->expect)
            fail_msg("case %zu (%s): got %lld, want %lld", i,
                     t->value != NULL ? t->value : "NULL", (long long)got,
                     (long long)t->expect);
    }
    /* an absurd delay is well formed: huge, not negative, no overflow */
    int64_t huge = ei_http_retry_after("99999999999999999999", 0);
    assert_true(huge > (int64_t)365 * 86400 * 1000);
}

/* grpc-status values, their HTTP statuses (grpc-gateway's table) and
   grpc-message decoding */
static void test_grpc_tables(void **state)
{
    static const struct {
        const char *value;
        int code;
    } status_cases[] = {
        {"0", 0},    {" 14", 14}, {"16\r\n", 16}, {"7 ", 7},
        {"99", 99},  {"", -1},    {" ", -1},      {"100", -1},
        {"-1", -1},  {"1x", -1},  {"x1", -1},     {"0x1", -1},
        {"1 2", -1}, {"+3", -1},  {NULL, -1},     {"junk", -1},
    };
    for (size_t i = 0; i < sizeof(status_cases) / sizeof(status_cases[0]); i++)
        if (ei_http_grpc_status(status_cases[i].value) != status_cases[i].code)
            fail_msg("grpc-status '%s': got %d, want %d",
                     status_cases[i].value ? status_cases[i].value : "NULL",
                     ei_http_grpc_status(status_cases[i].value),
                     status_cases[i].code);

    static const long want_http[] = {200, 408, 500, 400, 504, 404,
                                     409, 403, 429, 400, 409, 400,
                                     501, 500, 503, 500, 401};
    for (int code = 0; code < 17; code++)
        assert_int_equal(ei_http_grpc_to_http(code), want_http[code]);
    assert_int_equal(ei_http_grpc_to_http(17), 500);
    assert_int_equal(ei_http_grpc_to_http(-1), 500);
    assert_int_equal(ei_http_grpc_to_http(99), 500);
    /* what the engine retries follows: Unavailable and ResourceExhausted */
    assert_true(ei_http_retryable(ei_http_grpc_to_http(14)));
    assert_true(ei_http_retryable(ei_http_grpc_to_http(8)));
    assert_false(ei_http_retryable(ei_http_grpc_to_http(3)));
    assert_false(ei_http_retryable(ei_http_grpc_to_http(16)));
    assert_false(ei_http_retryable(ei_http_grpc_to_http(12)));

    static const struct {
        const char *raw;
        size_t out_size;
        const char *want;
    } msg_cases[] = {
        {"etcdserver: permission denied", 64, "etcdserver: permission denied"},
        {"  padded\r\n", 64, "padded"},
        {"100%25 sure", 64, "100% sure"},
        {"caf%C3%A9", 64, "caf??"},
        {"line%0Abreak%0d", 64, "line?break?"},
        {"broken %4", 64, "broken %4"},
        {"broken %zz", 64, "broken %zz"},
        {"%", 64, "%"},
        {"tab\there", 64, "tab?here"},
        {"truncated message", 6, "trunc"},
        {"x", 1, ""},
        {"", 64, ""},
    };
    for (size_t i = 0; i < sizeof(msg_cases) / sizeof(msg_cases[0]); i++) {
        char out[64];
        memset(out, 'Z', sizeof(out));
        ei_http_grpc_message(msg_cases[i].raw, out, msg_cases[i].out_size);
        if (strcmp(out, msg_cases[i].want) != 0)
            fail_msg("grpc-message '%s': got '%s', want '%s'", msg_cases[i].raw,
                     out, msg_cases[i].want);
    }
}

static void test_retryable_table(void **state)
{
    static const struct {
        long status;
        bool retry;
    } cases[] = {
        {0, false},   {-1, false},  {100, false}, {200, false}, {204, false},
        {301, false}, {304, false}, {400, false}, {401, false}, {403, false},
        {404, false}, {408, true},  {428, false}, {429, true},  {430, false},
        {499, false}, {500, true},  {501, false}, {502, true},  {503, true},
        {504, true},  {505, false}, {506, true},  {599, true},  {600, false},
        {999, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (ei_http_retryable(cases[i].status) != cases[i].retry)
            fail_msg("status %ld: want %s", cases[i].status,
                     cases[i].retry ? "retried" : "not retried");
}

/* ---- endpoint validation (no traffic) ---- */

struct ep_case {
    const char *url[3];
    bool secret;
    bool insecure;
    enum ei_status expect;
    const char *text; /* a part of the error text */
};

static const struct ep_case ep_cases[] = {
    {{"http://127.0.0.1:2379"}, false, false, EI_OK, NULL},
    {{"https://vault.example.com:8200/"}, true, false, EI_OK, NULL},
    {{"HTTPS://Vault.Example.com"}, true, false, EI_OK, NULL},
    {{"http://127.0.0.1:2379", "http://127.0.0.1:22379/"},
     true,
     false,
     EI_OK,
     NULL},
    {{"http://localhost:8500"}, true, false, EI_OK, NULL},
    {{"http://LOCALHOST:8500"}, true, false, EI_OK, NULL},
    {{"http://[::1]:8200"}, true, false, EI_OK, NULL},
    {{"http://127.0.0.2"}, true, false, EI_OK, NULL},
    {{"http://127.1"}, true, false, EI_OK, NULL},
    {{"http://[::ffff:127.0.0.1]"}, true, false, EI_OK, NULL},
    {{"https://10.0.0.1"}, true, false, EI_OK, NULL},
    {{"http://10.0.0.1:8200"}, true, true, EI_OK, NULL},
    {{"http://10.0.0.1:8200"}, false, false, EI_OK, NULL},
    {{"http://config.example.com/base/path/"}, false, false, EI_OK, NULL},
    {{"http://10.0.0.1:8200"},
     true,
     false,
     EI_BADCONFIG,
     "refusing to send a secret layer over plain http to 10.0.0.1 (use "
     "https, or insecure = true)"},
    {{"http://127.0.0.1:1", "http://vault.internal"},
     true,
     false,
     EI_BADCONFIG,
     "plain http to vault.internal"},
    {{"http://localhost.evil.example"},
     true,
     false,
     EI_BADCONFIG,
     "plain http to"},
    {{"http://127.0.0.1.nip.io"}, true, false, EI_BADCONFIG, "plain http to"},
    {{"http://[::ffff:10.0.0.1]"}, true, false, EI_BADCONFIG, "plain http"},
    {{"http://[::2]"}, true, false, EI_BADCONFIG, "plain http"},
    {{"http://user:" CANARY "@127.0.0.1"},
     false,
     false,
     EI_BADCONFIG,
     "credentials in URLs are not allowed (endpoint 1)"},
    {{"https://:" CANARY "@h.example"},
     false,
     false,
     EI_BADCONFIG,
     "credentials in URLs are not allowed"},
    {{"http://u@h.example"},
     false,
     false,
     EI_BADCONFIG,
     "credentials in URLs are not allowed"},
    {{"http://127.0.0.1:1", "https://x:" CANARY "@h.example"},
     false,
     false,
     EI_BADCONFIG,
     "credentials in URLs are not allowed (endpoint 2)"},
    {{"http://h.example?token=" CANARY},
     false,
     false,
     EI_BADCONFIG,
     "endpoint 1 has a query or fragment"},
    {{"http://h.example/?"}, false, false, EI_BADCONFIG, "query or fragment"},
    {{"http://h.example/#f"}, false, false, EI_BADCONFIG, "query or fragment"},
    {{"ftp://h.example"},
     false,
     false,
     EI_BADCONFIG,
     "endpoint 1 is not an http:// or https:// URL"},
    {{"h.example:80"}, false, false, EI_BADCONFIG, "not an http://"},
    {{"//h.example"}, false, false, EI_BADCONFIG, "not an http://"},
    {{"http:/h.example"}, false, false, EI_BADCONFIG, "not an http://"},
    {{"httpx://h.example"}, false, false, EI_BADCONFIG, "not an http://"},
    {{""}, false, false, EI_BADCONFIG, "endpoint 1 is empty"},
    {{"http://"}, false, false, EI_BADCONFIG, "endpoint 1 has no host"},
    {{"http:///x"}, false, false, EI_BADCONFIG, "has no host"},
    {{"http://:80"}, false, false, EI_BADCONFIG, "has no host"},
    {{"http://h.example/a b"},
     false,
     false,
     EI_BADCONFIG,
     "character not allowed in a URL at offset 18"},
    {{"http://h.example\\x"}, false, false, EI_BADCONFIG, "not allowed"},
    {{"http://h.example\n"}, false, false, EI_BADCONFIG, "not allowed"},
    {{"http://h.example:99999"},
     false,
     false,
     EI_BADCONFIG,
     "endpoint 1 is not a valid URL"},
    {{NULL}, false, false, EI_BADCONFIG, "no endpoints"},
};

static void test_endpoint_table(void **state)
{
    for (size_t i = 0; i < sizeof(ep_cases) / sizeof(ep_cases[0]); i++) {
        const struct ep_case *t = &ep_cases[i];
        size_t n = 0;
        while (n < 3 && t->url[n] != NULL)
            n++;
        struct ei_http_config cfg = {.layer = LAYER,
                                     .endpoints = t->url,
                                     .endpoints_n = n,
                                     .secret_layer = t->secret,
                                     .insecure = t->insecure};
        struct ei_error err = {0};
        struct ei_http *c = ei_http_new(&cfg, &err);
        if (t->expect == EI_OK) {
            if (c == NULL)
                fail_msg("case %zu: refused: %s", i, err.text);
            assert_int_equal(err.status, EI_OK);
            ei_http_free(c);
            continue;
        }
        if (c != NULL)
            fail_msg("case %zu (%s): accepted", i, t->url[0]);
        if (err.status != t->expect || strstr(err.text, t->text) == NULL)
            fail_msg("case %zu: status %d, text '%s', want '%s'", i, err.status,
                     err.text, t->text);
        assert_string_equal(err.layer, LAYER);
        /* the layer fills in the configuration line */
        assert_string_equal(err.locator, "");
        assert_null(strstr(err.text, CANARY));
    }
}

/* ---- requests ---- */

struct rq_case {
    const char *method;
    const char *path;
    const char *headers[4];
    const char *body;
    size_t body_len;
    const char *want_lines[3]; /* header lines the server must see */
    const char *absent;        /* a header line it must not see */
};

static const struct rq_case rq_cases[] = {
    {"GET",
     "/v3/kv/range?x=1",
     {"X-Test: a", "Authorization: Bearer " CANARY},
     NULL,
     0,
     {"\r\nX-Test: a\r\n", "\r\nAuthorization: Bearer " CANARY "\r\n"},
     "Content-Type:"},
    {"POST",
     "/v3/kv/range",
     {"X-Vault-Token: " CANARY},
     "{\"key\":\"YQ==\"}",
     14,
     {"\r\nContent-Type: application/json\r\n", "\r\nContent-Length: 14\r\n",
      "\r\nX-Vault-Token: " CANARY "\r\n"},
     "Expect:"},
    {"POST",
     "/login",
     {"Content-Type: application/x-www-form-urlencoded"},
     "a=1&b=2",
     7,
     {"\r\nContent-Type: application/x-www-form-urlencoded\r\n"},
     "application/json"},
    {"PUT",
     "/v1/kv/a%2Fb",
     {NULL},
     "bin\0ary",
     7,
     {"\r\nContent-Length: 7\r\n"},
     NULL},
    {"POST", "/empty", {NULL}, NULL, 0, {"\r\nContent-Length: 0\r\n"}, NULL},
    {"DELETE", "/v1/auth/token/revoke-self", {NULL}, NULL, 0, {NULL}, NULL},
};

static void test_requests_reach_server(void **state)
{
    static const struct srv_reply script[] = {
        {200, NULL, "hello", 0, ANSWER, false}};
    struct srv *s = srv_start(script, 1);
    const char *urls[] = {s->url};
    struct ei_http *c = client(urls, 1, 0, false);
    size_t n = sizeof(rq_cases) / sizeof(rq_cases[0]);
    for (size_t i = 0; i < n; i++) {
        const struct rq_case *t = &rq_cases[i];
        struct ei_http_request req = {t->method, t->path,     t->headers,
                                      t->body,   t->body_len, 0, NULL, NULL};
        struct ei_http_response resp;
        struct ei_error err = {0};
        struct ei_deadline dl;
        real_deadline(&dl, 5000);
        if (ei_http_request(c, &req, &dl, &resp, &err) != EI_OK)
            fail_msg("case %zu: %s", i, err.text);
        assert_int_equal(resp.status, 200);
        assert_int_equal(resp.body_len, 5);
        assert_memory_equal(resp.body, "hello", 6);
        assert_false(resp.secret);
        assert_string_equal(resp.endpoint, s->url);
        assert_int_equal(resp.retry_after_ms, -1);
        ei_http_response_free(c, &resp);
        assert_null(resp.body);

        assert_int_equal(srv_reqs(s), i + 1);
        const struct srv_req *r = &s->reqs[i];
        assert_string_equal(r->method, t->method);
        assert_string_equal(r->path, t->path);
        for (size_t k = 0; k < 3 && t->want_lines[k] != NULL; k++)
            if (strstr(r->head, t->want_lines[k]) == NULL)
                fail_msg("case %zu: no '%s' in:\n%s", i, t->want_lines[k],
                         r->head);
        if (t->absent != NULL && strstr(r->head, t->absent) != NULL)
            fail_msg("case %zu: '%s' in:\n%s", i, t->absent, r->head);
        assert_int_equal(r->body_len, t->body_len);
        if (t->body_len > 0)
            assert_memory_equal(r->body, t->body, t->body_len);
    }
    /* one connection for all of them */
    assert_int_equal(srv_accepts(s), 1);
    ei_http_free(c);
    srv_stop(s);
}

/* Response headers: those of the attempt that was returned (not of the
   503 before it), any case, blanks trimmed, the first of several; -1 when
   absent or before any answer, -2 when too long. */
static void test_response_headers(void **state)
{
    static const struct srv_reply script[] = {
        {503, "ETag: \"stale\"\r\nX-Only-On-503: 1\r\n", "busy", 0, ANSWER,
         false},
        {304, "ETag:   \"v2\"  \r\nX-Twice: one\r\nX-Twice: two\r\n", NULL,
         0, ANSWER, false},
        {200, NULL, "{}", 0, ANSWER, false},
    };
    struct srv *s = srv_start(script, 3);
    const char *urls[] = {s->url};
    struct ei_http *c = client(urls, 1, 0, false);
    struct fake_env fe = {.now = 1000, .rnd = RND_MAX};
    use_fake_env(c, &fe);
    char out[64];
    assert_int_equal(ei_http_header(c, "ETag", out, sizeof(out)), -1);
    const char *h[] = {"If-None-Match: \"v1\"", NULL};
    struct ei_http_request req = {"GET", "/cfg", h, NULL, 0, 0, NULL, NULL};
    struct ei_http_response resp;
    struct ei_error err = {0};
    struct ei_deadline dl = {1000, 6000};
    assert_int_equal(ei_http_request(c, &req, &dl, &resp, &err), EI_OK);
    assert_int_equal(resp.status, 304);
    assert_int_equal(resp.body_len, 0);
    assert_int_equal(ei_http_header(c, "etag", out, sizeof(out)), 4);
    assert_string_equal(out, "\"v2\"");
    assert_int_equal(ei_http_header(c, "X-Twice", out, sizeof(out)), 3);
    assert_string_equal(out, "one");
    assert_int_equal(ei_http_header(c, "X-Only-On-503", out, sizeof(out)), -1);
    assert_string_equal(out, "");
    assert_int_equal(ei_http_header(c, "ETag", out, 4), -2);
    assert_string_equal(out, "");
    assert_non_null(strstr(s->reqs[1].head, "If-None-Match: \"v1\""));
    ei_http_response_free(c, &resp);
    /* the next answer has none */
    assert_int_equal(ei_http_request(c, &req, &dl, &resp, &err), EI_OK);
    assert_int_equal(resp.status, 200);
    assert_int_equal(ei_http_header(c, "ETag", out, sizeof(out)), -1);
    ei_http_response_free(c, &resp);
    ei_http_free(c);
    srv_stop(s);
}

struct collected {
    char buf[256];
    size_t len;
    int calls;
    int stop_after; /* 0: never */
};

static int collect_cb(void *ctx, const char *data, size_t len)
{
    struct collected *c = ctx;
    if (c->len + len < sizeof(c->buf)) {
        memcpy(c->buf + c->len, data, len);
        c->len += len;
    }
    c->calls++;
    return c->stop_after != 0 && c->calls >= c->stop_after;
}

/* EI_HTTP_STREAM: a 2xx body goes to on_data, not to resp; on_data may
   end the transfer; a 503 before it is retried and its body is kept as
   usual; a 404 is returned with its body, on_data never called. */
static void test_stream(void **state)
{
    static const struct srv_reply script[] = {
        {503, NULL, "busy", 0, ANSWER, false},
        {200, NULL, "{\"a\":1}\n{\"b\":2}\n", 0, ANSWER, false},
        {200, NULL, "{\"c\":3}\n", 0, ANSWER, false},
        {404, NULL, "no such watch", 0, ANSWER, false},
    };
    struct srv *s = srv_start(script, 4);
    const char *urls[] = {s->url};
    struct ei_http *c = client(urls, 1, 0, false);
    struct fake_env fe = {.now = 1000, .rnd = RND_MAX};
    use_fake_env(c, &fe);
    struct collected got = {.stop_after = 0};
    struct ei_http_request req = {"POST", "/v3/watch", NULL, "{}", 2,
                                  EI_HTTP_STREAM, collect_cb, &got};
    struct ei_http_response resp;
    struct ei_error err = {0};
    struct ei_deadline dl = {1000, 6000};
    assert_int_equal(ei_http_request(c, &req, &dl, &resp, &err), EI_OK);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.body_len, 0);
    assert_int_equal(got.len, 16);
    assert_memory_equal(got.buf, "{\"a\":1}\n{\"b\":2}\n", 16);
    ei_http_response_free(c, &resp);
    struct collected stop = {.stop_after = 1};
    req.on_data_ctx = &stop;
    assert_int_equal(ei_http_request(c, &req, &dl, &resp, &err), EI_OK);
    assert_int_equal(resp.status, 200);
    assert_int_equal(stop.calls, 1);
    ei_http_response_free(c, &resp);
    struct collected none = {.stop_after = 0};
    req.on_data_ctx = &none;
    assert_int_equal(ei_http_request(c, &req, &dl, &resp, &err), EI_OK);
    assert_int_equal(resp.status, 404);
    assert_string_equal(resp.body, "no such watch");
    assert_int_equal(none.calls, 0);
    ei_http_response_free(c, &resp);
    /* a stream without a callback is the provider's bug */
    req.on_data = NULL;
    assert_int_equal(ei_http_request(c, &req, &dl, &resp, &err), EI_INTERNAL);
    ei_http_free(c);
    srv_stop(s);
}

static void test_keepalive_and_close(void **state)
{
    static const struct srv_reply script[] = {
        {200, NULL, "a", 0, ANSWER, false}, {200, NULL, "b", 0, ANSWER, false},
        {200, NULL, "c", 0, ANSWER, true}, /* then a new connection */
        {200, NULL, "d", 0, ANSWER, false}, {200, NULL, "e", 0, ANSWER, false},
    };
    struct srv *s = srv_start(script, 5);
    const char *urls[] = {s->url};
    struct ei_http *c = client(urls, 1, 0, false);
    for (int i = 0; i < 5; i++) {
        struct ei_http_request req = {"GET", "/k", NULL, NULL, 0, 0, NULL, NULL};
        struct ei_http_response resp;
        struct ei_error err = {0};
        struct ei_deadline dl;
        real_deadline(&dl, 5000);
        assert_int_equal(ei_http_request(c, &req, &dl, &resp, &err), EI_OK);
        char want[2] = {(char)('a' + i), '\0'};
        assert_string_equal(resp.body, want);
        ei_http_response_free(c, &resp);
    }
    assert_int_equal(srv_reqs(s), 5);
    assert_int_equal(srv_accepts(s), 2);
    ei_http_free(c);
    srv_stop(s);
}

static void test_503_then_200(void **state)
{
    static const struct srv_reply script[] = {
        {503, NULL, "sealed", 0, ANSWER, false},
        {200, NULL, "{}", 0, ANSWER, false},
    };
    struct srv *s = srv_start(script, 2);
    const char *urls[] = {s->url};
    struct ei_http *c = client(urls, 1, 0, false);
    struct fake_env fe = {.now = 1000, .rnd = RND_MAX};
    use_fake_env(c, &fe);
    struct ei_http_request req = {"GET", "/v1/x", NULL, NULL, 0, 0, NULL, NULL};
    struct ei_http_response resp;
    struct ei_error err = {0};
    struct ei_deadline dl = {1000, 6000};
    assert_int_equal(ei_http_request(c, &req, &dl, &resp, &err), EI_OK);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.body, "{}");
    assert_int_equal(srv_reqs(s), 2);
    /* one back-off: the top of attempt 0's range */
    assert_int_equal(fe.sleeps_n, 1);
    assert_int_equal(fe.sleeps[0], EI_HTTP_BACKOFF_BASE_MS);
    ei_http_response_free(c, &resp);
    ei_http_free(c);
    srv_stop(s);
}

/* A member that answers 503 (no leader) or 408 (etcd's gateway while its
   member shuts down) is asked once more, then the next one is. */
static void test_503_moves_on(void **state)
{
    static const struct srv_reply busy[] = {
        {503, NULL, "no leader", 0, ANSWER, false}};
    static const struct srv_reply closing[] = {
        {408, NULL, "{\"error\":\"grpc: the client connection is closing\"}", 0,
         ANSWER, false}};
    static const struct srv_reply fine[] = {{200, NULL, "b", 0, ANSWER, false}};
    const struct srv_reply *first[] = {busy, closing};
    for (size_t t = 0; t < sizeof(first) / sizeof(first[0]); t++) {
        struct srv *a = srv_start(first[t], 1);
        struct srv *b = srv_start(fine, 1);
        const char *urls[] = {a->url, b->url};
        struct ei_http *c = client(urls, 2, 0, false);
        struct fake_env fe = {.now = 0, .rnd = RND_MAX};
        use_fake_env(c, &fe);
        struct ei_http_request req = {"GET", "/v3/x", NULL, NULL, 0, 0, NULL, NULL};
        struct ei_http_response resp;
        struct ei_error err = {0};
        struct ei_deadline dl = {0, 5000};
        /* a once more, then b; and b first from then on */
        for (int round = 0; round < 2; round++) {
            if (ei_http_request(c, &req, &dl, &resp, &err) != EI_OK)
                fail_msg("HTTP %d first: %s", first[t]->status, err.text);
            assert_string_equal(resp.endpoint, b->url);
            assert_string_equal(resp.body, "b");
            ei_http_response_free(c, &resp);
            assert_int_equal(srv_reqs(a), 2);
            assert_int_equal(srv_reqs(b), (size_t)round + 1);
        }
        assert_int_equal(fe.sleeps_n, 2);
        ei_http_free(c);
        srv_stop(a);
        srv_stop(b);
    }
}

static void test_retry_after_honoured(void **state)
{
    static const struct srv_reply script[] = {
        {429, "Retry-After: 1\r\n", "slow down", 0, ANSWER, false},
        {200, NULL, "ok", 0, ANSWER, false},
        {429, "Retry-After: 3600\r\n", "", 0, ANSWER, false},
        {200, NULL, "never", 0, ANSWER, false},
    };
    struct srv *s = srv_start(script, 4);
    const char *urls[] = {s->url};
    struct ei_http *c = client(urls, 1, 0, false);
    struct fake_env fe = {.now = 0, .rnd = 0};
    use_fake_env(c, &fe);
    struct ei_http_request req = {"GET", "/v1/x", NULL, NULL, 0, 0, NULL, NULL};
    struct ei_http_response resp;
    struct ei_error err = {0};
    struct ei_deadline dl = {0, 5000};
    assert_int_equal(ei_http_request(c, &req, &dl, &resp, &err), EI_OK);
    assert_string_equal(resp.body, "ok");
    assert_int_equal(fe.sleeps_n, 1);
    assert_int_equal(fe.sleeps[0], 1000); /* not the jitter's 0 */
    ei_http_response_free(c, &resp);

    /* a wait past the deadline: give up at once, say why */
    dl = (struct ei_deadline){fe.now, fe.now + 5000};
    assert_int_equal(ei_http_request(c, &req, &dl, &resp, &err),
                     EI_UNAVAILABLE);
    assert_string_equal(err.text, "HTTP 429 after 1 attempt (retry after "
                                  "3600 s is past the deadline)");
    assert_string_equal(err.locator, s->url);
    assert_int_equal(fe.sleeps_n, 1);
    assert_int_equal(srv_reqs(s), 3);
    assert_null(resp.body);
    ei_http_free(c);
    srv_stop(s);
}

static void test_500_until_deadline(void **state)
{
    static const struct srv_reply script[] = {
        {500, NULL, "boom", 0, ANSWER, false}};
    struct srv *s = srv_start(script, 1);
    const char *urls[] = {s->url};
    struct ei_http *c = client(urls, 1, 0, false);
    struct fake_env fe = {.now = 10000, .rnd = RND_MAX};
    use_fake_env(c, &fe);
    struct ei_http_request req = {"GET", "/v1/x", NULL, NULL, 0, 0, NULL, NULL};
    struct ei_http_response resp;
    struct ei_error err = {0};
    struct ei_deadline dl = {10000, 11000};
    assert_int_equal(ei_http_request(c, &req, &dl, &resp, &err),
                     EI_UNAVAILABLE);
    /*
     * Highest jitter each time: 50, 100, 200, 400 (left 1000 -> 250),
     * then 800 cut to 250 - RETRY_MIN = 150 (left 100), then no room:
     * six attempts, five sleeps, never past the deadline.
     */
    static const int64_t want[] = {50, 100, 200, 400, 150};
    assert_int_equal(fe.sleeps_n, 5);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(fe.sleeps[i], want[i]);
    assert_int_equal(srv_reqs(s), 6);
    assert_true(fe.now <= dl.end_ms - EI_HTTP_RETRY_MIN_MS);
    assert_int_equal(err.status, EI_UNAVAILABLE);
    assert_string_equal(err.text, "HTTP 500 after 6 attempts");
    assert_string_equal(err.layer, LAYER);
    assert_string_equal(err.locator, s->url);
    ei_http_free(c);
    srv_stop(s);
}

static void test_failover(void **state)
{
    static const struct srv_reply script[] = {
        {200, NULL, "from b", 0, ANSWER, false}};
    struct srv *s = srv_start(script, 1);
    char a[64], b[80];
    int afd = closed_url(a, sizeof(a));
    snprintf(b, sizeof(b), "%s/", s->url); /* the '/' is dropped */
    const char *urls[] = {a, b};
    struct ei_http *c = client(urls, 2, 0, false);
    char a_host[64];
    snprintf(a_host, sizeof(a_host), " %s ", a + 7); /* "127.0.0.1:PORT" */

    for (int round = 0; round < 2; round++) {
        struct capture cap;
        struct ei_http_request req = {"GET", "/v3/x", NULL, NULL, 0, 0, NULL, NULL};
        struct ei_http_response resp;
        struct ei_error err = {0};
        struct ei_deadline dl;
        real_deadline(&dl, 5000);
        capture_start(&cap, 1);
        enum ei_status st = ei_http_request(c, &req, &dl, &resp, &err);
        char *log = capture_end(&cap);
        if (st != EI_OK)
            fail_msg("round %d: %s", round, err.text);
        assert_string_equal(resp.endpoint, s->url);
        assert_string_equal(resp.body, "from b");
        ei_http_response_free(c, &resp);
        /* the first request tried a, refused; the next starts with b */
        size_t a_lines = count_lines_with(log, a_host);
        if (round == 0 &&
            (a_lines != 1 || strstr(log, "-> connection refused") == NULL))
            fail_msg("round 0 log:\n%s", log);
        if (round == 1 && a_lines != 0)
            fail_msg("round 1 log:\n%s", log);
        assert_int_equal(count_lines_with(log, "-> 200 ("), 1);
        free(log);
    }
    assert_int_equal(srv_reqs(s), 2);
    ei_http_free(c);
    srv_stop(s);
    close(afd);
}

static void test_all_refused(void **state)
{
    char a[64], b[64];
    int afd = closed_url(a, sizeof(a));
    int bfd = closed_url(b, sizeof(b));
    const char *urls[] = {a, b};
    struct ei_http *c = client(urls, 2, 0, false);
    struct ei_http_request req = {"GET", "/x", NULL, NULL, 0, 0, NULL, NULL};
    struct ei_http_response resp;
    struct ei_error err = {0};
    struct ei_deadline dl;
    real_deadline(&dl, 600);
    assert_int_equal(ei_http_request(c, &req, &dl, &resp, &err),
                     EI_UNAVAILABLE);
    int64_t took = mono_ms() - dl.start_ms;
    if (took > 600 + 200 || took < 600 - EI_HTTP_RETRY_MIN_MS - 100)
        fail_msg("gave up after %lld ms", (long long)took);
    char want[256];
    snprintf(want, sizeof(want),
             "no endpoint answered within 600 ms (%s: connection refused; "
             "%s: connection refused)",
             a + 7, b + 7);
    assert_string_equal(err.text, want);
    char loc[160];
    snprintf(loc, sizeof(loc), "%s, %s", a, b);
    assert_string_equal(err.locator, loc);
    assert_null(resp.body);
    ei_http_free(c);
    close(afd);
    close(bfd);
}

static void test_never_answers(void **state)
{
    static const struct srv_reply script[] = {{0, NULL, NULL, 0, HANG, false}};
    struct srv *s = srv_start(script, 1);
    const char *urls[] = {s->url};
    struct ei_http *c = client(urls, 1, 0, false);
    struct ei_http_request req = {"GET", "/x", NULL, NULL, 0, 0, NULL, NULL};
    struct ei_http_response resp;
    struct ei_error err = {0};
    struct ei_deadline dl;
    real_deadline(&dl, 400);
    assert_int_equal(ei_http_request(c, &req, &dl, &resp, &err),
                     EI_UNAVAILABLE);
    int64_t took = mono_ms() - dl.start_ms;
    if (took < 380 || took > 400 + 200)
        fail_msg("gave up after %lld ms", (long long)took);
    assert_string_equal(err.text,
                        "no endpoint answered within 400 ms (last: timeout)");
    assert_int_equal(srv_reqs(s), 1);
    ei_http_free(c);
    srv_stop(s);
}

/* The attempt the deadline cuts short does not hide what came before. */
static void test_deadline_cut_keeps_reason(void **state)
{
    static const struct srv_reply busy_then_hang[] = {
        {503, NULL, "busy", 0, ANSWER, false},
        {0, NULL, NULL, 0, HANG, false},
    };
    static const struct srv_reply hang[] = {{0, NULL, NULL, 0, HANG, false}};
    struct srv *s = srv_start(busy_then_hang, 2);
    const char *urls[] = {s->url};
    struct ei_http *c = client(urls, 1, 0, false);
    struct ei_http_request req = {"GET", "/x", NULL, NULL, 0, 0, NULL, NULL};
    struct ei_http_response resp;
    struct ei_error err = {0};
    struct ei_deadline dl;
    real_deadline(&dl, 1000);
    assert_int_equal(ei_http_request(c, &req, &dl, &resp, &err),
                     EI_UNAVAILABLE);
    assert_string_equal(err.text, "HTTP 503 after 2 attempts");
    assert_int_equal(srv_reqs(s), 2);
    ei_http_free(c);
    srv_stop(s);

    s = srv_start(hang, 1);
    char dead[64];
    int dfd = closed_url(dead, sizeof(dead));
    const char *two[] = {dead, s->url};
    c = client(two, 2, 0, false);
    memset(&err, 0, sizeof(err));
    real_deadline(&dl, 1000);
    assert_int_equal(ei_http_request(c, &req, &dl, &resp, &err),
                     EI_UNAVAILABLE);
    /* the member that was given the rest of the time is not blamed for
       more than not answering before the deadline */
    char want[256];
    snprintf(want, sizeof(want),
             "no endpoint answered within 1000 ms (%s: connection refused; "
             "%s: no answer before the deadline)",
             dead + 7, s->url + 7);
    assert_string_equal(err.text, want);
    assert_int_equal(srv_reqs(s), 1);
    ei_http_free(c);
    srv_stop(s);
    close(dfd);
}

/*
 * A member that takes the connection and never answers (a frozen etcd:
 * its kernel still accepts) is given up on after its share of the
 * timeout, and the next member answers.  The fake clock does not move
 * while the engine waits on sockets, so the deadline never runs out
 * however slow the machine: what the test shows is the share alone.
 */
static void test_hung_member_skipped(void **state)
{
    static const struct srv_reply hang[] = {{0, NULL, NULL, 0, HANG, false}};
    static const struct srv_reply fine[] = {{200, NULL, "b", 0, ANSWER, false}};
    struct srv *a = srv_start(hang, 1);
    struct srv *b = srv_start(fine, 1);
    /* the TLS handshake with a member that never answers it is the
       connection's part of the same budget */
    char tls_a[80];
    snprintf(tls_a, sizeof(tls_a), "https://%s", a->url + 7);
    const struct {
        const char *first;
        const char *said;
    } cases[] = {
        {a->url, "-> no answer within 500 ms ("},
        {tls_a, "-> no connection within 500 ms ("},
    };
    for (size_t t = 0; t < sizeof(cases) / sizeof(cases[0]); t++) {
        const char *urls[] = {cases[t].first, b->url};
        struct ei_http *c = client(urls, 2, 0, false);
        struct fake_env fe = {.now = 0, .rnd = RND_MAX};
        use_fake_env(c, &fe);
        struct ei_http_request req = {"GET", "/v3/kv/range", NULL, NULL, 0, 0, NULL, NULL};
        struct ei_http_response resp;
        struct ei_error err = {0};
        /* a share of 1500 / 3 = 500 ms, the least there is */
        struct ei_deadline dl = {0, 1500};
        struct capture cap;
        capture_start(&cap, 1);
        enum ei_status st = ei_http_request(c, &req, &dl, &resp, &err);
        char *log = capture_end(&cap);
        if (st != EI_OK)
            fail_msg("%s first: %s", cases[t].first, err.text);
        assert_string_equal(resp.endpoint, b->url);
        assert_string_equal(resp.body, "b");
        ei_http_response_free(c, &resp);
        if (count_lines_with(log, cases[t].said) != 1)
            fail_msg("%s first, log:\n%s", cases[t].first, log);
        free(log);
        /* no back-off: the next member was tried at once */
        assert_int_equal(fe.sleeps_n, 0);
        /* and the next request starts with the member that answered */
        assert_int_equal(ei_http_request(c, &req, &dl, &resp, &err), EI_OK);
        assert_string_equal(resp.endpoint, b->url);
        ei_http_response_free(c, &resp);
        ei_http_free(c);
    }
    /* a received the plain request once; b both of each round */
    assert_int_equal(srv_reqs(a), 1);
    assert_int_equal(srv_reqs(b), 4);
    srv_stop(a);
    srv_stop(b);
}

/*
 * With EI_HTTP_CONTINUE, a member that sends its "100 Continue" is slow,
 * not hung: it keeps the request past its share of the timeout (1500 ms
 * of 4500), until one share is left (3000 ms), where without the flag it
 * is given up on at its share and the work goes to the next member.  One
 * that sends no 100 (frozen) is still given up on at its share.  The
 * fake clock stands still, so only the share's real-time limits count;
 * the slow member answers 750 ms away from either limit.
 */
static void test_live_member_kept(void **state)
{
    static const struct srv_reply slow[] = {
        {200, NULL, "a", 2250, ANSWER, false}};
    static const struct srv_reply hang[] = {{0, NULL, NULL, 0, HANG, false}};
    static const struct srv_reply live[] = {{0, NULL, NULL, 0, LIVE, false}};
    static const struct srv_reply fine[] = {{200, NULL, "b", 0, ANSWER, false}};
    struct srv *a = srv_start(slow, 1);
    struct srv *h = srv_start(hang, 1);
    struct srv *l = srv_start(live, 1);
    struct srv *b = srv_start(fine, 1);
    const struct {
        const char *first;
        unsigned flags;
        const char *answered_by;
        const char *said; /* in the log, of the first member */
    } cases[] = {
        {a->url, EI_HTTP_CONTINUE, a->url, "-> 200 ("},
        {a->url, 0, b->url, "-> no answer within 1500 ms ("},
        {h->url, EI_HTTP_CONTINUE, b->url, "-> no answer within 1500 ms ("},
        {l->url, EI_HTTP_CONTINUE, b->url, "-> no answer within 3000 ms ("},
    };
    for (size_t t = 0; t < sizeof(cases) / sizeof(cases[0]); t++) {
        const char *urls[] = {cases[t].first, b->url};
        struct ei_http *c = client(urls, 2, 0, false);
        struct fake_env fe = {.now = 0, .rnd = RND_MAX};
        use_fake_env(c, &fe);
        struct ei_http_request req = {"POST", "/v3/kv/range", NULL,
                                      "{}", 2, cases[t].flags, NULL, NULL};
        struct ei_http_response resp;
        struct ei_error err = {0};
        struct ei_deadline dl = {0, 4500};
        struct capture cap;
        capture_start(&cap, 1);
        enum ei_status st = ei_http_request(c, &req, &dl, &resp, &err);
        char *log = capture_end(&cap);
        if (st != EI_OK)
            fail_msg("case %zu: %s", t, err.text);
        if (strcmp(resp.endpoint, cases[t].answered_by) != 0 ||
            count_lines_with(log, cases[t].said) != 1)
            fail_msg("case %zu: answered by %s, log:\n%s", t, resp.endpoint,
                     log);
        free(log);
        ei_http_response_free(c, &resp);
        ei_http_free(c);
    }
    /* the flag asks for the interim answer; without it, none is asked */
    assert_non_null(strstr(a->reqs[0].head, "Expect: 100-continue\r\n"));
    assert_null(strstr(a->reqs[1].head, "100-continue"));
    assert_int_equal(srv_reqs(a), 2);
    assert_int_equal(srv_reqs(b), 3);
    srv_stop(a);
    srv_stop(h);
    srv_stop(l);
    srv_stop(b);
}

/*
 * When every member hangs, the message says what each did, so that the
 * one that hung is named; a request that must not be sent twice is not
 * sent to the next member after one took it and hung.
 */
static void test_hung_members_named(void **state)
{
    static const struct srv_reply hang[] = {{0, NULL, NULL, 0, HANG, false}};
    static const struct srv_reply fine[] = {{200, NULL, "b", 0, ANSWER, false}};
    struct srv *a = srv_start(hang, 1);
    struct srv *b = srv_start(hang, 1);
    struct srv *ok = srv_start(fine, 1);
    const char *urls[] = {a->url, b->url};
    struct ei_http *c = client(urls, 2, 0, false);
    struct ei_http_request req = {"GET", "/v3/kv/range", NULL, NULL, 0, 0, NULL, NULL};
    struct ei_http_response resp;
    struct ei_error err = {0};
    struct ei_deadline dl;
    real_deadline(&dl, 1500);
    assert_int_equal(ei_http_request(c, &req, &dl, &resp, &err),
                     EI_UNAVAILABLE);
    /* a had its share; b, the last of the round, the rest */
    char want[256];
    snprintf(want, sizeof(want),
             "no endpoint answered within 1500 ms (%s: no answer within "
             "500 ms; %s: no answer before the deadline)",
             a->url + 7, b->url + 7);
    assert_string_equal(err.text, want);
    assert_int_equal(srv_reqs(a), 1);
    assert_int_equal(srv_reqs(b), 1);
    ei_http_free(c);

    const char *aok[] = {a->url, ok->url};
    c = client(aok, 2, 0, false);
    struct fake_env fe = {.now = 0, .rnd = RND_MAX};
    use_fake_env(c, &fe);
    struct ei_http_request login = {"POST", "/login", NULL,
                                    "{}",   2,        EI_HTTP_NORETRY, NULL, NULL};
    dl = (struct ei_deadline){0, 1000};
    memset(&err, 0, sizeof(err));
    assert_int_equal(ei_http_request(c, &login, &dl, &resp, &err),
                     EI_UNAVAILABLE);
    snprintf(want, sizeof(want),
             "no endpoint answered within 1000 ms (%s: no answer before the "
             "deadline; %s: not tried)",
             a->url + 7, ok->url + 7);
    assert_string_equal(err.text, want);
    assert_int_equal(srv_reqs(a), 2);
    assert_int_equal(srv_reqs(ok), 0);
    ei_http_free(c);
    srv_stop(a);
    srv_stop(b);
    srv_stop(ok);
}

static void test_slow_answer_and_broken_connection(void **state)
{
    static const struct srv_reply script[] = {
        {200, NULL, "late", 150, ANSWER, false},
        {0, NULL, NULL, 0, CLOSE, false},
        {200, NULL, "again", 0, ANSWER, false},
    };
    struct srv *s = srv_start(script, 3);
    const char *urls[] = {s->url};
    struct ei_http *c = client(urls, 1, 0, false);
    struct ei_http_request req = {"GET", "/x", NULL, NULL, 0, 0, NULL, NULL};
    struct ei_http_response resp;
    struct ei_error err = {0};
    struct ei_deadline dl;
    real_deadline(&dl, 3000);
    assert_int_equal(ei_http_request(c, &req, &dl, &resp, &err), EI_OK);
    assert_string_equal(resp.body, "late");
    assert_true(mono_ms() - dl.start_ms >= 150);
    ei_http_response_free(c, &resp);
    /* closed without an answer: retried on a new connection */
    real_deadline(&dl, 3000);
    assert_int_equal(ei_http_request(c, &req, &dl, &resp, &err), EI_OK);
    assert_string_equal(resp.body, "again");
    ei_http_response_free(c, &resp);
    assert_int_equal(srv_reqs(s), 3);
    assert_int_equal(srv_accepts(s), 2);
    ei_http_free(c);
    srv_stop(s);
}

static char *repeat(char ch, size_t n)
{
    char *p = malloc(n + 1);
    assert_non_null(p);
    memset(p, ch, n);
    p[n] = '\0';
    return p;
}

static void test_response_size(void **state)
{
    static const struct {
        size_t body, max;
        unsigned flags;
        enum ei_status expect;
    } cases[] = {
        {99, 100, 0, EI_OK},
        {100, 100, 0, EI_OK},
        {101, 100, 0, EI_BADDATA},
        {5000, 100, EI_HTTP_SECRET, EI_BADDATA},
        {0, 100, 0, EI_OK},
        {0, 100, EI_HTTP_SECRET, EI_OK},
        {300000, 0, 0, EI_OK}, /* the default limit, buffer growth */
        {300000, 300000, EI_HTTP_SECRET, EI_OK},
        {300001, 300000, EI_HTTP_SECRET, EI_BADDATA},
    };
    size_t n = sizeof(cases) / sizeof(cases[0]);
    struct srv_reply *script = calloc(n, sizeof(*script));
    char **bodies = calloc(n, sizeof(*bodies));
    assert_non_null(script);
    assert_non_null(bodies);
    for (size_t i = 0; i < n; i++) {
        bodies[i] = repeat((char)('a' + i), cases[i].body);
        script[i] = (struct srv_reply){200, NULL, bodies[i], 0, ANSWER, false};
    }
    struct srv *s = srv_start(script, n);
    const char *urls[] = {s->url};
    for (size_t i = 0; i < n; i++) {
        struct ei_http *c = client(urls, 1, cases[i].max, false);
        struct ei_http_request req = {"GET", "/big", NULL,
                                      NULL,  0,      cases[i].flags, NULL, NULL};
        struct ei_http_response resp;
        struct ei_error err = {0};
        struct ei_deadline dl;
        real_deadline(&dl, 5000);
        enum ei_status st = ei_http_request(c, &req, &dl, &resp, &err);
        if (st != cases[i].expect)
            fail_msg("case %zu: status %d (%s)", i, st, err.text);
        if (st == EI_OK) {
            if (resp.body_len != cases[i].body)
                fail_msg("case %zu: %zu bytes, status %ld", i, resp.body_len,
                         resp.status);
            assert_memory_equal(resp.body, bodies[i], cases[i].body + 1);
            assert_int_equal(resp.secret,
                             (cases[i].flags & EI_HTTP_SECRET) != 0);
        } else {
            char want[64];
            snprintf(want, sizeof(want), "response larger than %zu bytes",
                     cases[i].max);
            assert_string_equal(err.text, want);
            /* so that a provider asking for pages can ask for less */
            assert_int_equal(err.errnum, EFBIG);
            assert_null(resp.body);
        }
        ei_http_response_free(c, &resp);
        ei_http_free(c);
    }
    assert_int_equal(srv_reqs(s), n); /* too big is not retried */
    srv_stop(s);
    for (size_t i = 0; i < n; i++)
        free(bodies[i]);
    free(bodies);
    free(script);
}

static void test_secret_response(void **state)
{
    static const struct srv_reply script[] = {
        {200, NULL, "{\"token\":\"" CANARY "\"}", 0, ANSWER, false}};
    struct srv *s = srv_start(script, 1);
    const char *urls[] = {s->url};
    struct ei_http *c = client(urls, 1, 0, true);
    for (unsigned flags = 0; flags <= EI_HTTP_SECRET; flags += EI_HTTP_SECRET) {
        struct ei_http_request req = {"GET", "/login", NULL, NULL, 0, flags, NULL, NULL};
        struct ei_http_response resp;
        struct ei_error err = {0};
        struct ei_deadline dl;
        real_deadline(&dl, 5000);
        assert_int_equal(ei_http_request(c, &req, &dl, &resp, &err), EI_OK);
        assert_string_equal(resp.body, script[0].body);
        bool secret = flags != 0;
        assert_int_equal(resp.secret, secret);
#ifdef HAVE_OWNERSHIP
        /* secret bodies come from sodium_malloc's own pages */
        assert_int_equal(__sanitizer_get_ownership(resp.body) != 0, !secret);
#endif
        if (secret) {
            /* only sodium_malloc'd memory can be protected this way */
            assert_int_equal(sodium_mprotect_readonly(resp.body), 0);
            assert_int_equal(sodium_mprotect_readwrite(resp.body), 0);
        }
        ei_http_response_free(c, &resp);
        assert_null(resp.body);
        assert_int_equal(resp.body_len, 0);
        assert_false(resp.secret);
        ei_http_response_free(c, &resp); /* a freed response is zeroed */
    }
    ei_http_free(c);
    srv_stop(s);
}

static void test_no_token_in_logs(void **state)
{
    static const struct srv_reply script[] = {
        {503, "Retry-After: 0\r\n", "{\"errors\":[\"" CANARY "\"]}", 0, ANSWER,
         false},
        {200, "Set-Cookie: s=" CANARY "\r\n", "{\"v\":\"" CANARY "\"}", 0,
         ANSWER, false},
    };
    struct srv *s = srv_start(script, 2);
    char dead[64];
    int dfd = closed_url(dead, sizeof(dead));
    const char *urls[] = {s->url};
    const char *dead_urls[] = {dead};
    struct ei_http *c = client(urls, 1, 0, true);
    struct ei_http *d = client(dead_urls, 1, 0, true);
    const char *headers[] = {"Authorization: Bearer " CANARY,
                             "X-Vault-Token: " CANARY, NULL};
    static const char body[] = "{\"password\":\"" CANARY "\"}";
    struct ei_http_request req = {
        "POST",           "/v1/auth/login?token=" CANARY,      headers, body,
        sizeof(body) - 1, EI_HTTP_SECRET | EI_HTTP_SECRET_BODY, NULL, NULL};
    struct ei_http_response resp;
    struct ei_error err = {0}, err2 = {0};
    struct ei_deadline dl;
    struct capture cap;
    capture_start(&cap, 2);
    real_deadline(&dl, 3000);
    enum ei_status st = ei_http_request(c, &req, &dl, &resp, &err);
    real_deadline(&dl, 300);
    enum ei_status st2 = ei_http_request(d, &req, &dl, &resp, &err2);
    char *log = capture_end(&cap);
    assert_int_equal(st, EI_OK);
    assert_int_equal(st2, EI_UNAVAILABLE);
    assert_null(strstr(log, CANARY));
    assert_null(strstr(log, "token="));
    assert_null(strstr(err2.text, CANARY));
    assert_null(strstr(err2.locator, CANARY));
    /* -v: one line per attempt, the path without its query */
    char line[160];
    snprintf(line, sizeof(line),
             "envinject: " LAYER ": POST 127.0.0.1:%d "
             "/v1/auth/login -> 503 (",
             s->port);
    if (count_lines_with(log, line) != 1)
        fail_msg("no '%s' in:\n%s", line, log);
    /* -vv: the decision */
    assert_non_null(strstr(log, "retrying in 0 ms after HTTP 503 (attempt 2)"));
    assert_int_equal(srv_reqs(s), 2);
    assert_memory_equal(s->reqs[1].body, body, sizeof(body));
    free(log);
    ei_http_free(c);
    ei_http_free(d);
    srv_stop(s);
    close(dfd);
}

static void test_noretry(void **state)
{
    static const struct srv_reply script_a[] = {
        {503, NULL, "sealed", 0, ANSWER, false},
        {0, NULL, NULL, 0, CLOSE, false},
    };
    static const struct srv_reply script_b[] = {
        {200, NULL, "from b", 0, ANSWER, false}};
    struct srv *a = srv_start(script_a, 2);
    struct srv *b = srv_start(script_b, 1);
    char dead[64], dead2[64];
    int dfd = closed_url(dead, sizeof(dead));
    int dfd2 = closed_url(dead2, sizeof(dead2));
    struct ei_http_request req = {"POST", "/login", NULL,
                                  "{}",   2,        EI_HTTP_NORETRY, NULL, NULL};
    struct ei_http_response resp;
    struct ei_error err = {0};
    struct ei_deadline dl;

    /* a 503 is handed back as it is: a login is not sent twice */
    const char *ab[] = {a->url, b->url};
    struct ei_http *c = client(ab, 2, 0, false);
    real_deadline(&dl, 3000);
    assert_int_equal(ei_http_request(c, &req, &dl, &resp, &err), EI_OK);
    assert_int_equal(resp.status, 503);
    assert_string_equal(resp.body, "sealed");
    assert_string_equal(resp.endpoint, a->url);
    ei_http_response_free(c, &resp);
    assert_int_equal(srv_reqs(a), 1);
    assert_int_equal(srv_reqs(b), 0);

    /* the request reached a, which closed: not sent to b */
    real_deadline(&dl, 3000);
    assert_int_equal(ei_http_request(c, &req, &dl, &resp, &err),
                     EI_UNAVAILABLE);
    char want[256];
    snprintf(want, sizeof(want),
             "no endpoint answered within 3000 ms (%s: connection closed "
             "without a response; %s: not tried)",
             a->url + 7, b->url + 7);
    assert_string_equal(err.text, want);
    assert_int_equal(srv_reqs(a), 2);
    assert_int_equal(srv_reqs(b), 0);
    ei_http_free(c);

    /* nothing reached the dead endpoint: b gets it, once */
    const char *db[] = {dead, b->url};
    c = client(db, 2, 0, false);
    real_deadline(&dl, 3000);
    memset(&err, 0, sizeof(err));
    assert_int_equal(ei_http_request(c, &req, &dl, &resp, &err), EI_OK);
    assert_string_equal(resp.body, "from b");
    ei_http_response_free(c, &resp);
    assert_int_equal(srv_reqs(b), 1);
    ei_http_free(c);

    /* every endpoint refused: one attempt each, no back-off */
    const char *dd[] = {dead, dead2};
    c = client(dd, 2, 0, false);
    struct fake_env fe = {.now = 0, .rnd = RND_MAX};
    use_fake_env(c, &fe);
    dl = (struct ei_deadline){0, 5000};
    assert_int_equal(ei_http_request(c, &req, &dl, &resp, &err),
                     EI_UNAVAILABLE);
    assert_int_equal(fe.sleeps_n, 0);
    snprintf(want, sizeof(want),
             "no endpoint answered within 5000 ms (%s: connection refused; "
             "%s: connection refused)",
             dead + 7, dead2 + 7);
    assert_string_equal(err.text, want);
    ei_http_free(c);
    srv_stop(a);
    srv_stop(b);
    close(dfd);
    close(dfd2);
}

static void test_bad_requests(void **state)
{
    static const struct srv_reply script[] = {
        {200, NULL, "x", 0, ANSWER, false}};
    struct srv *s = srv_start(script, 1);
    const char *urls[] = {s->url};
    struct ei_http *c = client(urls, 1, 0, false);
    static const char *const crlf[] = {"X-A: 1\r\nX-Injected: 2", NULL};
    static const char *const nocolon[] = {"X-A 1", NULL};
    static const char *const noname[] = {": 1", NULL};
    static const struct {
        struct ei_http_request req;
        const char *text;
    } cases[] = {
        {{"get", "/x", NULL, NULL, 0, 0, NULL, NULL}, "invalid method"},
        {{NULL, "/x", NULL, NULL, 0, 0, NULL, NULL}, "invalid method"},
        {{"", "/x", NULL, NULL, 0, 0, NULL, NULL}, "invalid method"},
        {{"G ET", "/x", NULL, NULL, 0, 0, NULL, NULL}, "invalid method"},
        {{"GET", "x", NULL, NULL, 0, 0, NULL, NULL}, "does not start with '/'"},
        {{"GET", NULL, NULL, NULL, 0, 0, NULL, NULL}, "does not start with '/'"},
        {{"GET", "", NULL, NULL, 0, 0, NULL, NULL}, "does not start with '/'"},
        {{"GET", "/a b", NULL, NULL, 0, 0, NULL, NULL}, "not allowed in a URL at offset 2"},
        {{"GET", "/a\r\nX: y", NULL, NULL, 0, 0, NULL, NULL}, "offset 2"},
        {{"GET", "/a#frag", NULL, NULL, 0, 0, NULL, NULL}, "offset 2"},
        {{"GET", "/x", crlf, NULL, 0, 0, NULL, NULL}, "header 1 is not one"},
        {{"GET", "/x", nocolon, NULL, 0, 0, NULL, NULL}, "header 1 is not one"},
        {{"GET", "/x", noname, NULL, 0, 0, NULL, NULL}, "header 1 is not one"},
        {{"POST", "/x", NULL, NULL, 5, 0, NULL, NULL}, "body length but no body"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ei_http_response resp;
        struct ei_error err = {0};
        struct ei_deadline dl;
        real_deadline(&dl, 1000);
        enum ei_status st = ei_http_request(c, &cases[i].req, &dl, &resp, &err);
        if (st != EI_INTERNAL || strstr(err.text, cases[i].text) == NULL)
            fail_msg("case %zu: status %d, text '%s'", i, st, err.text);
        assert_null(resp.body);
    }
    /* a deadline already passed: no traffic either */
    struct ei_http_request ok = {"GET", "/x", NULL, NULL, 0, 0, NULL, NULL};
    struct ei_http_response resp;
    struct ei_error err = {0};
    struct ei_deadline dl;
    real_deadline(&dl, -1);
    assert_int_equal(ei_http_request(c, &ok, &dl, &resp, &err), EI_UNAVAILABLE);
    assert_int_equal(srv_reqs(s), 0);
    ei_http_free(c);
    srv_stop(s);
}

/* ---- the fake host's canned HTTP behaves like the engine ---- */

struct parity_reply {
    long status; /* 0 with close */
    const char *body;
    bool close;
};

struct parity_case {
    const char *name;
    struct parity_reply replies[8]; /* the server repeats the last one */
    size_t replies_n;
    unsigned flags;
    const char *max; /* max_response_size, or NULL */
    enum ei_status expect;
    long status;      /* when EI_OK */
    const char *body; /* when EI_OK */
    const char *text; /* when not */
    size_t attempts;
};

#define R503                                                                   \
    {                                                                          \
        503, "busy", false                                                     \
    }
static const struct parity_case parity_cases[] = {
    {"503 then 200",
     {R503, {200, "ok", false}},
     2,
     0,
     NULL,
     EI_OK,
     200,
     "ok",
     NULL,
     2},
    {"closed then 200",
     {{0, NULL, true}, {200, "ok", false}},
     2,
     0,
     NULL,
     EI_OK,
     200,
     "ok",
     NULL,
     2},
    {"408 then 200",
     {{408, "closing", false}, {200, "ok", false}},
     2,
     0,
     NULL,
     EI_OK,
     200,
     "ok",
     NULL,
     2},
    {"404 as it is",
     {{404, "no", false}},
     1,
     0,
     NULL,
     EI_OK,
     404,
     "no",
     NULL,
     1},
    {"503 until the end",
     {R503, R503, R503, R503, R503, R503},
     6,
     0,
     NULL,
     EI_UNAVAILABLE,
     0,
     NULL,
     "HTTP 503 after 6 attempts",
     6},
    {"429 until the end",
     {{429, "", false},
      {429, "", false},
      {429, "", false},
      {429, "", false},
      {429, "", false},
      {429, "", false}},
     6,
     0,
     NULL,
     EI_UNAVAILABLE,
     0,
     NULL,
     "HTTP 429 after 6 attempts",
     6},
    {"noretry 503 as it is",
     {R503},
     1,
     EI_HTTP_NORETRY,
     NULL,
     EI_OK,
     503,
     "busy",
     NULL,
     1},
    {"noretry closed",
     {{0, NULL, true}},
     1,
     EI_HTTP_NORETRY,
     NULL,
     EI_UNAVAILABLE,
     0,
     NULL,
     "no endpoint answered within 1000 ms (last: connection closed without "
     "a response)",
     1},
    {"too big",
     {{200, "0123456789A", false}},
     1,
     0,
     "10",
     EI_BADDATA,
     0,
     NULL,
     "response larger than 10 bytes",
     1},
    {"just fits",
     {{200, "0123456789", false}},
     1,
     EI_HTTP_SECRET,
     "10",
     EI_OK,
     200,
     "0123456789",
     NULL,
     1},
};

static void parity_check(const struct parity_case *t, const char *who,
                         enum ei_status st, const struct ei_error *err,
                         const struct ei_http_response *resp, size_t attempts)
{
    if (st != t->expect)
        fail_msg("%s, %s: status %d (%s)", t->name, who, st, err->text);
    if (st == EI_OK) {
        assert_int_equal(resp->status, t->status);
        assert_string_equal(resp->body, t->body);
        assert_int_equal(resp->secret, (t->flags & EI_HTTP_SECRET) != 0);
    } else if (strcmp(err->text, t->text) != 0) {
        fail_msg("%s, %s: '%s'", t->name, who, err->text);
    }
    if (attempts != t->attempts)
        fail_msg("%s, %s: %zu attempts", t->name, who, attempts);
}

static void test_fake_host_parity(void **state)
{
    for (size_t i = 0; i < sizeof(parity_cases) / sizeof(parity_cases[0]);
         i++) {
        const struct parity_case *t = &parity_cases[i];
        struct ei_http_request req = {"GET", "/p", NULL, NULL, 0, t->flags, NULL, NULL};
        struct ei_http_response resp;

        /* the engine, against the loopback server, on a fake clock */
        struct srv_reply script[8];
        for (size_t k = 0; k < t->replies_n; k++)
            script[k] = (struct srv_reply){(int)t->replies[k].status,
                                           NULL,
                                           t->replies[k].body,
                                           0,
                                           t->replies[k].close ? CLOSE : ANSWER,
                                           false};
        struct srv *s = srv_start(script, t->replies_n);
        const char *urls[] = {s->url};
        size_t max = t->max != NULL ? strtoul(t->max, NULL, 10) : 0;
        struct ei_http *c = client(urls, 1, max, false);
        struct fake_env fe = {.now = 0, .rnd = RND_MAX};
        use_fake_env(c, &fe);
        struct ei_deadline dl = {0, 1000};
        struct ei_error err = {0};
        enum ei_status st = ei_http_request(c, &req, &dl, &resp, &err);
        parity_check(t, "engine", st, &err, &resp, srv_reqs(s));
        ei_http_response_free(c, &resp);
        ei_http_free(c);
        srv_stop(s);

        /* the fake host, with the same replies queued */
        char opt[64];
        snprintf(opt, sizeof(opt), "max_response_size=%s",
                 t->max != NULL ? t->max : "16777216");
        const char *opts[] = {opt, NULL};
        struct fake_host *fh = fake_host_new(opts, NULL, NULL);
        assert_non_null(fh);
        const struct ei_host *h = fake_host_host(fh);
        for (size_t k = 0; k < t->replies_n; k++)
            assert_int_equal(fake_host_http_push(
                                 fh, t->replies[k].status, t->replies[k].body,
                                 t->replies[k].close ? FAKE_HTTP_CLOSE : 0),
                             0);
        const char *furls[] = {"http://127.0.0.1:1"};
        struct ei_http *fc = NULL;
        memset(&err, 0, sizeof(err));
        assert_int_equal(h->http_open(h, furls, 1, &fc, &err), EI_OK);
        fake_deadline(&dl, 1000);
        st = h->http_request(fc, &req, &dl, &resp, &err);
        size_t n;
        fake_host_http_requests(fh, &n);
        parity_check(t, "fake host", st, &err, &resp, n);
        if (st != EI_OK && st != EI_BADDATA)
            assert_string_equal(err.locator, furls[0]);
        h->http_response_free(fc, &resp);
        h->http_close(fc);
        assert_int_equal(fake_host_http_clients(fh), 0);
        assert_int_equal(fake_host_http_pending(fh), 0);
        fake_host_free(fh);
    }
}

static void test_fake_host_http(void **state)
{
    const char *opts[] = {
        "cacert=ca.pem",  "cert=/abs/c.pem",       "key=k.pem",
        "insecure=false", "max_response_size=100", NULL};
    struct fake_host *fh = fake_host_new(opts, NULL, "/cfg");
    assert_non_null(fh);
    const struct ei_host *h = fake_host_host(fh);
    const char *urls[] = {"http://a:1", "http://b:2"};
    struct ei_http *c = NULL, *c2 = NULL;
    struct ei_error err = {0};
    assert_int_equal(h->http_open(h, urls, 2, &c, &err), EI_OK);
    assert_null(fake_host_unused(fh)); /* read as the core would */
    assert_int_equal(h->http_open(h, urls, 1, &c2, &err), EI_OK);
    assert_int_equal(fake_host_http_clients(fh), 2);
    h->http_close(c2);
    h->http_close(NULL);
    assert_int_equal(fake_host_http_clients(fh), 1);

    /* what the provider sent is recorded, one entry per attempt */
    assert_int_equal(fake_host_http_push(fh, 0, NULL, FAKE_HTTP_CLOSE), 0);
    assert_int_equal(fake_host_http_push(fh, 200, "{\"v\":1}", 0), 0);
    const char *hdrs[] = {"X-Consul-Token: " CANARY, "Accept: a/b", NULL};
    struct ei_http_request req = {"PUT", "/v1/kv/x?dc=a",
                                  hdrs,  "b\0dy",
                                  4,     EI_HTTP_SECRET | EI_HTTP_SECRET_BODY, NULL, NULL};
    struct ei_http_response resp;
    struct ei_deadline dl;
    fake_deadline(&dl, 1000);
    assert_int_equal(h->http_request(c, &req, &dl, &resp, &err), EI_OK);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.body, "{\"v\":1}");
    assert_true(resp.secret);
    assert_int_equal(sodium_mprotect_readonly(resp.body), 0);
    assert_int_equal(sodium_mprotect_readwrite(resp.body), 0);
    assert_string_equal(resp.endpoint, "http://b:2"); /* a closed */
    assert_int_equal(resp.retry_after_ms, -1);
    h->http_response_free(c, &resp);
    assert_null(resp.body);
    size_t n;
    const struct fake_http_request *r = fake_host_http_requests(fh, &n);
    assert_int_equal(n, 2);
    assert_string_equal(r[0].endpoint, "http://a:1");
    assert_string_equal(r[1].endpoint, "http://b:2");
    assert_string_equal(r[1].method, "PUT");
    assert_string_equal(r[1].path, "/v1/kv/x?dc=a");
    assert_int_equal(r[1].headers_n, 2);
    assert_string_equal(fake_http_header(&r[1], "x-consul-token"), CANARY);
    assert_string_equal(fake_http_header(&r[1], "Accept"), "a/b");
    assert_null(fake_http_header(&r[1], "Accep"));
    assert_int_equal(r[1].body_len, 4);
    assert_memory_equal(r[1].body, "b\0dy", 5);
    assert_int_equal(r[1].flags, EI_HTTP_SECRET | EI_HTTP_SECRET_BODY);

    /* simulated time: a slow reply uses up the deadline, nobody waits */
    assert_int_equal(fake_host_http_push(fh, 200, "x", FAKE_HTTP_DELAY_MS(300)),
                     0);
    assert_int_equal(fake_host_http_push(fh, 200, "y", FAKE_HTTP_DELAY_MS(800)),
                     0);
    struct ei_http_request get = {"GET", "/x", NULL, NULL, 0, 0, NULL, NULL};
    fake_deadline(&dl, 1000);
    int64_t t0 = mono_ms();
    assert_int_equal(h->http_request(c, &get, &dl, &resp, &err), EI_OK);
    assert_string_equal(resp.body, "x");
    h->http_response_free(c, &resp);
    int64_t left = h->remaining_ms(h, &dl);
    assert_true(left <= 700 && left > 500);
    assert_int_equal(h->http_request(c, &get, &dl, &resp, &err),
                     EI_UNAVAILABLE);
    assert_string_equal(err.text,
                        "no endpoint answered within 1000 ms (last: timeout)");
    assert_string_equal(err.locator, "http://a:1, http://b:2");
    assert_true(mono_ms() - t0 < 200);
    assert_int_equal(fake_host_http_elapsed(fh), 1100);

    /* a forgotten reply, a bad request */
    memset(&err, 0, sizeof(err));
    fake_deadline(&dl, 1000000);
    assert_int_equal(h->http_request(c, &get, &dl, &resp, &err), EI_INTERNAL);
    assert_string_equal(err.text, "fake host: no canned HTTP reply left");
    struct ei_http_request bad = {"GET", "x", NULL, NULL, 0, 0, NULL, NULL};
    memset(&err, 0, sizeof(err));
    assert_int_equal(h->http_request(c, &bad, &dl, &resp, &err), EI_INTERNAL);
    fake_host_free(fh); /* closes c */

    /* options checked as the core checks them */
    static const char *const bad_opts[][2] = {
        {"max_response_size=0", NULL},
        {"max_response_size=1073741825", NULL},
        {"max_response_size=ten", NULL},
        {"insecure=maybe", NULL},
        {"key=k.pem", NULL},
    };
    for (size_t i = 0; i < sizeof(bad_opts) / sizeof(bad_opts[0]); i++) {
        fh = fake_host_new(bad_opts[i], NULL, NULL);
        assert_non_null(fh);
        h = fake_host_host(fh);
        memset(&err, 0, sizeof(err));
        c = NULL;
        assert_int_equal(h->http_open(h, urls, 1, &c, &err), EI_BADCONFIG);
        assert_null(c);
        fake_host_free(fh);
    }
    fh = fake_host_new(NULL, NULL, NULL);
    h = fake_host_host(fh);
    memset(&err, 0, sizeof(err));
    assert_int_equal(h->http_open(h, urls, 0, &c, &err), EI_BADCONFIG);
    assert_string_equal(err.text, "no endpoints");
    fake_host_free(fh);
}

int main(void)
{
    /* the tests talk to loopback only, never through a proxy */
    static const char *const proxies[] = {
        "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
        "all_proxy",  "ALL_PROXY",  "no_proxy",    "NO_PROXY"};
    for (size_t i = 0; i < sizeof(proxies) / sizeof(proxies[0]); i++)
        unsetenv(proxies[i]);
    if (sodium_init() < 0 || ei_http_global_init(NULL) < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_table),
        cmocka_unit_test(test_backoff_bounds_seeded),
        cmocka_unit_test(test_retry_after_table),
        cmocka_unit_test(test_retryable_table),
        cmocka_unit_test(test_grpc_tables),
        cmocka_unit_test(test_endpoint_table),
        cmocka_unit_test(test_requests_reach_server),
        cmocka_unit_test(test_response_headers),
        cmocka_unit_test(test_stream),
        cmocka_unit_test(test_keepalive_and_close),
        cmocka_unit_test(test_503_then_200),
        cmocka_unit_test(test_503_moves_on),
        cmocka_unit_test(test_retry_after_honoured),
        cmocka_unit_test(test_500_until_deadline),
        cmocka_unit_test(test_failover),
        cmocka_unit_test(test_all_refused),
        cmocka_unit_test(test_never_answers),
        cmocka_unit_test(test_deadline_cut_keeps_reason),
        cmocka_unit_test(test_hung_member_skipped),
        cmocka_unit_test(test_live_member_kept),
        cmocka_unit_test(test_hung_members_named),
        cmocka_unit_test(test_slow_answer_and_broken_connection),
        cmocka_unit_test(test_response_size),
        cmocka_unit_test(test_secret_response),
        cmocka_unit_test(test_no_token_in_logs),
        cmocka_unit_test(test_noretry),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_fake_host_parity),
        cmocka_unit_test(test_fake_host_http),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    return rc;
}
