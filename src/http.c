/* SPDX-License-Identifier: MIT */
/* The HTTP engine of remote layers: libcurl requests with endpoint
   fail-over, back-off inside the deadline and secret-safe buffers. */
#include <arpa/inet.h>
#include <pthread.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* curl's type-checking macros would shadow the loaded functions below */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <sodium.h>
#ifdef EI_HAVE_DLOPEN
#include <dlfcn.h>
#endif

#include "../providers/common/urlpath.h"
#include "diag.h"
#include "http.h"
#include "secmem.h"

/*
 * libcurl is loaded on first use, not linked: it pulls in some thirty
 * libraries (TLS, Kerberos, LDAP, SSH...) whose loading and symbol binding
 * cost a container start about ten milliseconds, while most starts read
 * files only.  Builds without dlopen link it as usual.
 */
#define CURL_API(X)                                                            \
    X(CURLcode, global_init_mem,                                               \
      (long, curl_malloc_callback, curl_free_callback, curl_realloc_callback,  \
       curl_strdup_callback, curl_calloc_callback))                            \
    X(curl_version_info_data *, version_info, (CURLversion))                   \
    X(CURL *, easy_init, (void))                                               \
    X(void, easy_cleanup, (CURL *))                                            \
    X(void, easy_reset, (CURL *))                                              \
    X(CURLcode, easy_perform, (CURL *))                                        \
    X(CURLcode, easy_setopt, (CURL *, CURLoption, ...))                        \
    X(CURLcode, easy_getinfo, (CURL *, CURLINFO, ...))                         \
    X(const char *, easy_strerror, (CURLcode))                                 \
    X(struct curl_slist *, slist_append, (struct curl_slist *, const char *))  \
    X(void, slist_free_all, (struct curl_slist *))                             \
    X(time_t, getdate, (const char *, const time_t *))                         \
    X(CURLU *, url, (void))                                                    \
    X(void, url_cleanup, (CURLU *))                                            \
    X(CURLUcode, url_set, (CURLU *, CURLUPart, const char *, unsigned int))    \
    X(CURLUcode, url_get, (const CURLU *, CURLUPart, char **, unsigned int))   \
    X(void, free, (void *))                                                    \
    X(CURLM *, multi_init, (void))                                             \
    X(CURLMcode, multi_cleanup, (CURLM *))                                     \
    X(CURLMcode, multi_add_handle, (CURLM *, CURL *))                          \
    X(CURLMcode, multi_remove_handle, (CURLM *, CURL *))                       \
    X(CURLMcode, multi_perform, (CURLM *, int *))                              \
    X(CURLMcode, multi_poll,                                                   \
      (CURLM *, struct curl_waitfd *, unsigned int, int, int *))               \
    X(CURLMsg *, multi_info_read, (CURLM *, int *))

/*
 * curl_easy_header came with libcurl 7.83 (built in by default from
 * 7.84); configure takes 7.74.  Without it http_header finds no header
 * and every other request works: it is loaded apart, allowed to be
 * missing, never a reason to refuse libcurl.
 */
#if LIBCURL_VERSION_NUM >= 0x075300
#define EI_CURL_HEADER_API 1
#endif

#ifdef EI_HAVE_DLOPEN
#define CURL_SONAMES                                                           \
    {                                                                          \
        "libcurl.so.4", "libcurl-gnutls.so.4", NULL                            \
    }
#define API_MEMBER(ret, name, args) ret(*name) args;
static struct {
    CURL_API(API_MEMBER)
#ifdef EI_CURL_HEADER_API
    CURLHcode (*easy_header)(CURL *, const char *, size_t, unsigned int, int,
                             struct curl_header **); /* NULL: too old */
#endif
} curl_api;
#undef API_MEMBER
#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_global_init_mem     (*curl_api.global_init_mem)
#define curl_version_info        (*curl_api.version_info)
#define curl_easy_init           (*curl_api.easy_init)
#define curl_easy_cleanup        (*curl_api.easy_cleanup)
#define curl_easy_reset          (*curl_api.easy_reset)
#define curl_easy_perform        (*curl_api.easy_perform)
#define curl_easy_setopt         (*curl_api.easy_setopt)
#define curl_easy_getinfo        (*curl_api.easy_getinfo)
#define curl_easy_strerror       (*curl_api.easy_strerror)
#define curl_slist_append        (*curl_api.slist_append)
#define curl_slist_free_all      (*curl_api.slist_free_all)
#define curl_getdate             (*curl_api.getdate)
#define curl_url                 (*curl_api.url)
#define curl_url_cleanup         (*curl_api.url_cleanup)
#define curl_url_set             (*curl_api.url_set)
#define curl_url_get             (*curl_api.url_get)
#define curl_free                (*curl_api.free)
#define curl_multi_init          (*curl_api.multi_init)
#define curl_multi_cleanup       (*curl_api.multi_cleanup)
#define curl_multi_add_handle    (*curl_api.multi_add_handle)
#define curl_multi_remove_handle (*curl_api.multi_remove_handle)
#define curl_multi_perform       (*curl_api.multi_perform)
#define curl_multi_poll          (*curl_api.multi_poll)
#define curl_multi_info_read     (*curl_api.multi_info_read)
#define curl_easy_header         (*curl_api.easy_header)
#define EI_CURL_HEADER_LOADED    (curl_api.easy_header != NULL)
#endif
#ifndef EI_CURL_HEADER_LOADED
#define EI_CURL_HEADER_LOADED 1
#endif

/*
 * Load (where needed) and initialise libcurl once.  Called from the main
 * thread while layers are configured, before any fetch thread exists, as
 * curl_global_init requires; the process execs or exits after the
 * resolution, so there is no cleanup.  The one flag is process state in
 * the style of the registry's table of loaded objects.
 */
static int curl_ready;

static pthread_mutex_t curl_lock = PTHREAD_MUTEX_INITIALIZER;

static int global_init_locked(struct ei_error *err);

int ei_http_global_init(struct ei_error *err)
{
    /* the core calls this before any layer thread starts; the lock makes
       a provider that opens a client late from its thread safe too */
    pthread_mutex_lock(&curl_lock);
    int rc = curl_ready ? 0 : global_init_locked(err);
    pthread_mutex_unlock(&curl_lock);
    return rc;
}

static int global_init_locked(struct ei_error *err)
{
#ifdef EI_HAVE_DLOPEN
    static const char *const sonames[] = CURL_SONAMES;
    void *h = NULL;
    for (size_t i = 0; sonames[i] != NULL && h == NULL; i++)
        h = dlopen(sonames[i], RTLD_NOW | RTLD_LOCAL);
    if (h == NULL)
        return ei_error_set(err, EI_INTERNAL, 0, NULL, NULL,
                            "cannot load libcurl (%.200s): install the "
                            "Debian package libcurl4",
                            dlerror()),
               -1;
#define API_LOAD(ret, name, args)                                              \
    *(void **)&curl_api.name = dlsym(h, "curl_" #name);                        \
    if (curl_api.name == NULL)                                                 \
        return ei_error_set(err, EI_INTERNAL, 0, NULL, NULL,                   \
                            "libcurl lacks curl_" #name),                      \
               -1;
    CURL_API(API_LOAD)
#undef API_LOAD
#ifdef EI_CURL_HEADER_API
    *(void **)&curl_api.easy_header = dlsym(h, "curl_easy_header");
#endif
#endif
    /* curl's buffers hold response and request bodies, secrets among
       them: its blocks are wiped when it frees them (OpenSSL's and
       nghttp2's have allocators of their own) */
    if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, ei_wipe_malloc, ei_wipe_free,
                             ei_wipe_realloc, ei_wipe_strdup,
                             ei_wipe_calloc) != CURLE_OK)
        return ei_error_set(err, EI_INTERNAL, 0, NULL, NULL,
                            "cannot initialise libcurl"),
               -1;
    curl_ready = 1;
    return 0;
}

int ei_http_version(char *out, size_t out_len, bool load)
{
    if (!load) {
        snprintf(out, out_len,
                 "libcurl %s (built with; -v loads it for its version)",
                 LIBCURL_VERSION);
        return 0;
    }
    struct ei_error err = {0};
    if (ei_http_global_init(&err) < 0) {
        snprintf(out, out_len, "libcurl not loaded: %s", err.text);
        return -1;
    }
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    snprintf(out, out_len, "libcurl %s (%s)", v->version,
             v->ssl_version != NULL ? v->ssl_version : "no TLS");
    return 0;
}

/* A Retry-After value is a number or a date: anything longer is junk. */
#define RETRY_AFTER_LEN 64
/* The longest method token accepted ("OPTIONS" is 7). */
#define METHOD_MAX 16
/*
 * With several endpoints, an attempt has a share of the layer's timeout,
 * timeout / (endpoints + 1), to connect and to receive the first byte of
 * the answer.  A member that accepts connections and never answers (a
 * frozen process: its kernel still completes the handshake) or drops
 * packets must not eat the whole deadline: the share leaves time for
 * every other member and for one more round.  It is never less than
 * this, so that a member merely slow to shake hands or to start its
 * answer still gets a fair chance; and the last member not yet tried in a
 * round gets what is left, as nobody else could use it.
 */
#define ATTEMPT_SHARE_MIN_MS 500
/* Larger than any reasonable wait, small enough for ms arithmetic. */
#define RETRY_AFTER_MAX_S ((int64_t)1 << 40)
#define FIRST_BUFFER      1024
/* The socket wait of a gRPC call after the socket had something to read
   (see perform). */
#define POLL_MAX_MS 5
/* The longest socket wait: curl wakes up earlier for its own timers, and
   a first-byte limit shortens it. */
#define POLL_IDLE_MS 1000
/* "127.0.0.1:2379: no answer within 1666 ms" and the like, per member */
#define NOTE_LEN 64

struct ei_http {
    char *layer;
    char **endpoints; /* as given, one trailing '/' removed */
    char **hosts;     /* "host" or "host:port", for log lines */
    size_t endpoints_n;
    char *locator; /* the endpoints joined with ", ", for errors */
    char *cacert, *cert, *key;
    bool insecure;
    size_t max_response;
    size_t current; /* the endpoint that answered last */
    /* what each endpoint did last in the current request ("" while it was
       not tried), for the message when every one failed */
    char (*notes)[NOTE_LEN];
    CURL *curl;   /* created by the first request, then reused */
    CURLM *multi; /* every transfer runs in it (see perform) */
    struct ei_http_env env;
    bool answered; /* the last request returned an answer (http_header) */
};

/* grpc-status is a small number; longer is junk. */
#define GRPC_STATUS_LEN 16
/* grpc-message as sent: percent-encoded, so up to three bytes a byte. */
#define GRPC_MESSAGE_RAW (3 * EI_HTTP_GRPC_MESSAGE_MAX)

/* The response of one attempt. */
struct rbuf {
    char *data;
    size_t len, cap;
    size_t max;
    bool secret;
    bool too_big;
    bool nomem;
    bool grpc;     /* keep grpc-status and grpc-message */
    bool answered; /* a byte of the answer came (a header line will do) */
    bool live;     /* an interim answer came (100 Continue): the server
                      took the request in hand */
    bool interim;  /* the header lines being read are an interim answer's */
    /* EI_HTTP_STREAM: where a 2xx body goes, and how far it got */
    const struct ei_http_request *stream;
    CURL *h;
    bool streamed; /* a piece went to on_data */
    bool stopped;  /* on_data asked to end */
    char retry_after[RETRY_AFTER_LEN];
    char grpc_status[GRPC_STATUS_LEN];
    char grpc_message[GRPC_MESSAGE_RAW];
};

static char *dup_str(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p != NULL)
        memcpy(p, s, n);
    return p;
}

static int64_t real_now_ms(void *ctx)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void real_sleep_ms(void *ctx, int64_t ms)
{
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000),
                          .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static uint32_t real_random(void *ctx)
{
    return randombytes_random();
}

static int64_t now_ms(const struct ei_http *c)
{
    return c->env.now_ms(c->env.ctx);
}

void ei_http_set_env(struct ei_http *c, const struct ei_http_env *env)
{
    c->env.now_ms =
        env != NULL && env->now_ms != NULL ? env->now_ms : real_now_ms;
    c->env.sleep_ms =
        env != NULL && env->sleep_ms != NULL ? env->sleep_ms : real_sleep_ms;
    c->env.random =
        env != NULL && env->random != NULL ? env->random : real_random;
    c->env.ctx = env != NULL ? env->ctx : NULL;
}

/* ---- pure helpers ---- */

int64_t ei_http_backoff(unsigned attempt, int64_t base_ms, int64_t cap_ms,
                        int64_t retry_after_ms, int64_t left_ms,
                        uint32_t random)
{
    int64_t room = left_ms - EI_HTTP_RETRY_MIN_MS;
    if (room <= 0)
        return -1;
    if (retry_after_ms >= 0)
        /* the server said when: earlier is rude, later is past the
           deadline, so either it fits or we stop */
        return retry_after_ms <= room ? retry_after_ms : -1;
    if (base_ms < 0)
        base_ms = 0;
    if (cap_ms < 0)
        cap_ms = 0;
    int64_t ceiling = cap_ms;
    if (attempt < 32 && base_ms <= (cap_ms >> attempt))
        ceiling = base_ms << attempt;
    if (ceiling > INT32_MAX)
        ceiling = INT32_MAX; /* 24 days: far past any deadline */
    /* multiply-shift maps the 32-bit value onto [0, ceiling] without the
       bias of a modulo */
    int64_t delay =
        (int64_t)(((uint64_t)random * ((uint64_t)ceiling + 1u)) >> 32);
    return delay < room ? delay : room;
}

bool ei_http_retryable(long status)
{
    /* 501 (a method the server does not have, gRPC Unimplemented) and 505
       (an HTTP version it does not speak) will not heal by waiting; 408 is
       a server that gave up waiting for the request, or etcd's gateway
       whose member is shutting down ("the client connection is closing"):
       sent again, elsewhere if need be, it is answered */
    return status == 408 || status == 429 ||
           (status >= 500 && status <= 599 && status != 501 && status != 505);
}

int64_t ei_http_retry_after(const char *value, int64_t now_epoch)
{
    if (value == NULL)
        return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    size_t n = strlen(value);
    while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t' ||
                     value[n - 1] == '\r' || value[n - 1] == '\n'))
        n--;
    if (n == 0 || n >= RETRY_AFTER_LEN)
        return -1;
    char v[RETRY_AFTER_LEN];
    memcpy(v, value, n);
    v[n] = '\0';
    if (v[0] >= '0' && v[0] <= '9') {
        int64_t s = 0;
        for (const char *p = v; *p != '\0'; p++) {
            if (*p < '0' || *p > '9')
                return -1;
            if (s < RETRY_AFTER_MAX_S)
                s = s * 10 + (*p - '0');
        }
        if (s > RETRY_AFTER_MAX_S)
            s = RETRY_AFTER_MAX_S;
        return s * 1000;
    }
    /* curl_getdate knows the three date forms of RFC 9110 and does not
       depend on the locale; it wants a weekday or month name first */
    if (!((v[0] >= 'A' && v[0] <= 'Z') || (v[0] >= 'a' && v[0] <= 'z')))
        return -1;
    time_t t = curl_getdate(v, NULL);
    if (t == (time_t)-1)
        return -1;
    int64_t d = (int64_t)t - now_epoch;
    if (d <= 0)
        return 0;
    if (d > RETRY_AFTER_MAX_S)
        d = RETRY_AFTER_MAX_S;
    return d * 1000;
}

/* ---- endpoints ---- */

/*
 * The link-local endpoints where cloud platforms hand out credentials
 * (ECS task credentials, EC2 instance metadata) speak plain http only, and
 * their traffic never leaves the host's link.
 */
static bool host_is_platform(const char *h)
{
    static const char *const v4[] = {"169.254.169.254", "169.254.170.2",
                                     "169.254.170.23", NULL};
    static const char *const v6[] = {"fd00:ec2::254", "fd00:ec2::23", NULL};
    struct in_addr a4, b4;
    struct in6_addr a6, b6;
    if (inet_pton(AF_INET, h, &a4) == 1) {
        for (size_t i = 0; v4[i] != NULL; i++)
            if (inet_pton(AF_INET, v4[i], &b4) == 1 && a4.s_addr == b4.s_addr)
                return true;
    } else if (inet_pton(AF_INET6, h, &a6) == 1) {
        for (size_t i = 0; v6[i] != NULL; i++)
            if (inet_pton(AF_INET6, v6[i], &b6) == 1 &&
                memcmp(&a6, &b6, sizeof(a6)) == 0)
                return true;
    }
    return false;
}

static bool host_is_loopback(const char *host)
{
    char h[INET6_ADDRSTRLEN + 8];
    size_t n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        host++;
        n -= 2;
    }
    if (n >= sizeof(h))
        return false;
    memcpy(h, host, n);
    h[n] = '\0';
    if (strcasecmp(h, "localhost") == 0 || strcasecmp(h, "localhost.") == 0 ||
        host_is_platform(h))
        return true;
    struct in_addr a4;
    if (inet_pton(AF_INET, h, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    struct in6_addr a6;
    if (inet_pton(AF_INET6, h, &a6) == 1) {
        if (IN6_IS_ADDR_LOOPBACK(&a6))
            return true;
        return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
    }
    return false;
}

/*
 * The characters a base URL may hold.  Checking them before curl parses
 * the URL keeps curl's lenient parser ("http:/h", backslashes) from
 * reading a different host than the one the user meant, and rules out
 * '@' (userinfo), '?' and '#' outright.
 */
static bool url_char_ok(unsigned char ch)
{
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
        (ch >= '0' && ch <= '9'))
        return true;
    return strchr("-._~!$&'()*+,;=:/[]%", ch) != NULL && ch != '\0';
}

/* Validate one endpoint; fills the normalised copy and the log label. */
static enum ei_status check_endpoint(const struct ei_http_config *cfg, size_t i,
                                     char **out, char **label,
                                     struct ei_error *err)
{
    const char *url = cfg->endpoints[i];
    size_t num = i + 1;
    if (url == NULL || url[0] == '\0')
        return ei_error_set(err, EI_BADCONFIG, 0, cfg->layer, NULL,
                            "endpoint %zu is empty", num);
    if (strchr(url, '@') != NULL)
        return ei_error_set(err, EI_BADCONFIG, 0, cfg->layer, NULL,
                            "credentials in URLs are not allowed "
                            "(endpoint %zu)",
                            num);
    size_t skip = 0;
    if (strncasecmp(url, "http://", 7) == 0)
        skip = 7;
    else if (strncasecmp(url, "https://", 8) == 0)
        skip = 8;
    else
        return ei_error_set(err, EI_BADCONFIG, 0, cfg->layer, NULL,
                            "endpoint %zu is not an http:// or https:// URL",
                            num);
    if (strchr(url, '?') != NULL || strchr(url, '#') != NULL)
        return ei_error_set(err, EI_BADCONFIG, 0, cfg->layer, NULL,
                            "endpoint %zu has a query or fragment "
                            "(give a base URL)",
                            num);
    for (const unsigned char *p = (const unsigned char *)url; *p != '\0'; p++)
        if (!url_char_ok(*p))
            return ei_error_set(err, EI_BADCONFIG, 0, cfg->layer, NULL,
                                "endpoint %zu has a character not allowed "
                                "in a URL at offset %zu",
                                num, (size_t)(p - (const unsigned char *)url));
    if (url[skip] == '/' || url[skip] == ':' || url[skip] == '\0')
        return ei_error_set(err, EI_BADCONFIG, 0, cfg->layer, NULL,
                            "endpoint %zu has no host", num);

    CURLU *u = curl_url();
    if (u == NULL)
        return ei_error_set(err, EI_NOMEM, ENOMEM, cfg->layer, NULL,
                            "out of memory");
    enum ei_status st = EI_OK;
    char *host = NULL, *port = NULL, *scheme = NULL;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
        st = ei_error_set(err, EI_BADCONFIG, 0, cfg->layer, NULL,
                          "endpoint %zu is not a valid URL", num);
        goto out;
    }
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        host[0] == '\0') {
        st = ei_error_set(err, EI_BADCONFIG, 0, cfg->layer, NULL,
                          "endpoint %zu has no host", num);
        goto out;
    }
    if (curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK)
        port = NULL;
    if (cfg->secret_layer && !cfg->insecure && strcmp(scheme, "http") == 0 &&
        !host_is_loopback(host)) {
        st = ei_error_set(err, EI_BADCONFIG, 0, cfg->layer, NULL,
                          "refusing to send a secret layer over plain http "
                          "to %s (use https, or insecure = true)",
                          host);
        goto out;
    }
    size_t n = strlen(url);
    if (n > skip + 1 && url[n - 1] == '/')
        n--;
    *out = malloc(n + 1);
    size_t ll = strlen(host) + (port != NULL ? strlen(port) + 1 : 0) + 1;
    *label = malloc(ll);
    if (*out == NULL || *label == NULL) {
        st = ei_error_set(err, EI_NOMEM, ENOMEM, cfg->layer, NULL,
                          "out of memory");
        goto out;
    }
    memcpy(*out, url, n);
    (*out)[n] = '\0';
    if (port != NULL)
        snprintf(*label, ll, "%s:%s", host, port);
    else
        snprintf(*label, ll, "%s", host);
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return st;
}

struct ei_http *ei_http_new(const struct ei_http_config *cfg,
                            struct ei_error *err)
{
    const char *layer = cfg->layer;
    if (cfg->endpoints == NULL || cfg->endpoints_n == 0) {
        ei_error_set(err, EI_BADCONFIG, 0, layer, NULL, "no endpoints");
        return NULL;
    }
    if (ei_http_global_init(err) < 0) {
        ei_error_layer(err, layer);
        return NULL;
    }
    struct ei_http *c = calloc(1, sizeof(*c));
    if (c == NULL)
        goto oom;
    ei_http_set_env(c, NULL);
    c->insecure = cfg->insecure;
    c->max_response = cfg->max_response != 0 ? cfg->max_response
                                             : EI_HTTP_MAX_RESPONSE_DEFAULT;
    c->layer = dup_str(layer != NULL ? layer : "");
    c->endpoints = calloc(cfg->endpoints_n, sizeof(*c->endpoints));
    c->hosts = calloc(cfg->endpoints_n, sizeof(*c->hosts));
    c->notes = calloc(cfg->endpoints_n, sizeof(*c->notes));
    if (c->layer == NULL || c->endpoints == NULL || c->hosts == NULL ||
        c->notes == NULL)
        goto oom;
    c->endpoints_n = cfg->endpoints_n;
    if ((cfg->cacert != NULL && (c->cacert = dup_str(cfg->cacert)) == NULL) ||
        (cfg->cert != NULL && (c->cert = dup_str(cfg->cert)) == NULL) ||
        (cfg->key != NULL && (c->key = dup_str(cfg->key)) == NULL))
        goto oom;
    size_t loc_len = 1;
    for (size_t i = 0; i < cfg->endpoints_n; i++) {
        if (check_endpoint(cfg, i, &c->endpoints[i], &c->hosts[i], err) !=
            EI_OK) {
            ei_http_free(c);
            return NULL;
        }
        loc_len += strlen(c->endpoints[i]) + 2;
    }
    c->locator = malloc(loc_len);
    if (c->locator == NULL)
        goto oom;
    size_t off = 0;
    for (size_t i = 0; i < c->endpoints_n; i++) {
        size_t n = strlen(c->endpoints[i]);
        if (i > 0) {
            memcpy(c->locator + off, ", ", 2);
            off += 2;
        }
        memcpy(c->locator + off, c->endpoints[i], n);
        off += n;
    }
    c->locator[off] = '\0';
    return c;
oom:
    ei_http_free(c);
    ei_error_set(err, EI_NOMEM, ENOMEM, layer, NULL, "out of memory");
    return NULL;
}

void ei_http_free(struct ei_http *c)
{
    if (c == NULL)
        return;
    if (c->curl != NULL)
        curl_easy_cleanup(c->curl);
    if (c->multi != NULL)
        curl_multi_cleanup(c->multi);
    for (size_t i = 0; i < c->endpoints_n; i++) {
        free(c->endpoints[i]);
        free(c->hosts[i]);
    }
    free(c->endpoints);
    free(c->hosts);
    free(c->notes);
    free(c->locator);
    free(c->cacert);
    free(c->cert);
    free(c->key);
    free(c->layer);
    free(c);
}

/* ---- buffers ---- */

static void rbuf_release(struct rbuf *b)
{
    if (b->data == NULL)
        return;
    if (b->secret) {
        sodium_free(b->data); /* wipes */
    } else {
        sodium_memzero(b->data, b->cap);
        free(b->data);
    }
    b->data = NULL;
    b->len = b->cap = 0;
}

/* Forget what an earlier attempt received, keeping the memory. */
static void rbuf_reset(struct rbuf *b)
{
    if (b->data != NULL)
        sodium_memzero(b->data, b->len);
    b->len = 0;
    b->too_big = b->nomem = b->answered = false;
    b->live = b->interim = false;
    b->streamed = b->stopped = false;
    b->retry_after[0] = '\0';
    b->grpc_status[0] = '\0';
    b->grpc_message[0] = '\0';
}

/*
 * Grow to hold need bytes.  Never realloc: it may move the data and leave
 * the old copy behind unwiped, so copy into a fresh block and wipe the old
 * one (sodium_free wipes by itself).
 */
static bool rbuf_grow(struct rbuf *b, size_t need)
{
    if (need <= b->cap)
        return true;
    size_t cap = b->cap != 0 ? b->cap : FIRST_BUFFER;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (b->max < SIZE_MAX && cap > b->max + 1)
        cap = b->max + 1;
    char *p = b->secret ? ei_sodium_malloc(cap) : malloc(cap);
    if (p == NULL)
        return false;
    size_t len = b->len;
    if (len > 0)
        memcpy(p, b->data, len);
    rbuf_release(b);
    b->data = p;
    b->len = len;
    b->cap = cap;
    return true;
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct rbuf *b = ud;
    size_t n = size * nmemb;
    if (b->stream != NULL) {
        long code = 0;
        curl_easy_getinfo(b->h, CURLINFO_RESPONSE_CODE, &code);
        if (code >= 200 && code < 300) {
            b->streamed = true;
            if (b->stream->on_data(b->stream->on_data_ctx, ptr, n) != 0) {
                b->stopped = true;
                return 0; /* ends the transfer */
            }
            return n;
        }
    }
    if (n > b->max - b->len) {
        b->too_big = true;
        return 0; /* aborts the transfer */
    }
    if (!rbuf_grow(b, b->len + n + 1)) {
        b->nomem = true;
        return 0;
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

/* Keep the value of header line ptr (n bytes) when it is name, in out;
   one too long for out becomes "junk", which no parser accepts, or with
   cut, its start. */
static void keep_header(const char *ptr, size_t n, const char *name, char *out,
                        size_t out_size, bool cut)
{
    size_t nl = strlen(name);
    if (n <= nl || strncasecmp(ptr, name, nl) != 0)
        return;
    size_t v = n - nl;
    if (v >= out_size && cut)
        v = out_size - 1;
    if (v < out_size) {
        memcpy(out, ptr + nl, v);
        out[v] = '\0';
    } else {
        snprintf(out, out_size, "junk");
    }
}

/*
 * Only Retry-After and, for gRPC, grpc-status and grpc-message are kept:
 * other headers may carry cookies or tokens.  curl hands HTTP/2 trailers,
 * where gRPC puts its status, to this callback too.
 */
static size_t header_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct rbuf *b = ud;
    size_t n = size * nmemb;
    if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0) {
        /* a new response (after a 100): "HTTP/1.1 100 Continue" and the
           like are interim, and only show the server alive */
        const char *sp = memchr(ptr, ' ', n);
        b->interim = sp != NULL && (size_t)(sp - ptr) + 1 < n && sp[1] == '1';
        b->live = true;
        b->answered |= !b->interim;
        b->retry_after[0] = '\0';
        b->grpc_status[0] = '\0';
        b->grpc_message[0] = '\0';
        return n;
    }
    if (b->interim)
        return n;
    b->answered = true;
    keep_header(ptr, n, "retry-after:", b->retry_after, sizeof(b->retry_after),
                false);
    if (b->grpc) {
        keep_header(ptr, n, "grpc-status:", b->grpc_status,
                    sizeof(b->grpc_status), false);
        /* a message is shown shortened rather than not at all */
        keep_header(ptr, n, "grpc-message:", b->grpc_message,
                    sizeof(b->grpc_message), true);
    }
    return n;
}

int ei_http_grpc_status(const char *value)
{
    if (value == NULL)
        return -1;
    value += strspn(value, " \t");
    size_t n = strspn(value, "0123456789");
    if (n == 0 || n > 2 || value[n + strspn(value + n, " \t\r\n")] != '\0')
        return -1;
    return (int)strtol(value, NULL, 10);
}

long ei_http_grpc_to_http(int code)
{
    /* grpc-gateway's HTTPStatusFromCode, so that both APIs of a service
       give the same statuses */
    static const long map[] = {
        [0] = 200,  [1] = 408,  [2] = 500,  [3] = 400,  [4] = 504,  [5] = 404,
        [6] = 409,  [7] = 403,  [8] = 429,  [9] = 400,  [10] = 409, [11] = 400,
        [12] = 501, [13] = 500, [14] = 503, [15] = 500, [16] = 401,
    };
    if (code < 0 || (size_t)code >= sizeof(map) / sizeof(map[0]))
        return 500;
    return map[code];
}

void ei_http_grpc_message(const char *raw, char *out, size_t out_size)
{
    if (out_size == 0)
        return;
    raw += strspn(raw, " \t");
    size_t end_len = strlen(raw);
    while (end_len > 0 && strchr(" \t\r\n", raw[end_len - 1]) != NULL)
        end_len--;
    size_t o = 0;
    for (size_t i = 0; i < end_len && o + 1 < out_size; i++) {
        unsigned char c = (unsigned char)raw[i];
        /* the value is percent-encoded; a broken escape stays as sent */
        int byte = ei_pct_byte(raw + i, end_len - i);
        if (byte >= 0) {
            c = (unsigned char)byte;
            i += 2;
        }
        /* it goes into one-line messages */
        out[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    out[o] = '\0';
}

/* ---- requests ---- */

static bool has_header(const char *const *headers, const char *name)
{
    size_t n = strlen(name);
    for (; headers != NULL && *headers != NULL; headers++)
        if (strncasecmp(*headers, name, n) == 0 && (*headers)[n] == ':')
            return true;
    return false;
}

/* Wipe curl's copies of the header lines: they may hold tokens. */
static void wipe_slist(struct curl_slist *l)
{
    for (struct curl_slist *p = l; p != NULL; p = p->next)
        if (p->data != NULL)
            sodium_memzero(p->data, strlen(p->data));
    curl_slist_free_all(l);
}

static struct curl_slist *build_headers(const struct ei_http_request *req,
                                        bool *ok)
{
    struct curl_slist *l = NULL, *t;
    *ok = false;
    for (const char *const *h = req->headers; h != NULL && *h != NULL; h++) {
        t = curl_slist_append(l, *h);
        if (t == NULL)
            goto fail;
        l = t;
    }
    bool grpc = (req->flags & EI_HTTP_GRPC) != 0;
    if (grpc) {
        /* gRPC requires it: servers refuse calls that cannot take trailers */
        t = curl_slist_append(l, "TE: trailers");
        if (t == NULL)
            goto fail;
        l = t;
    }
    if (req->body != NULL) {
        /* a body is JSON unless the provider says otherwise; and no
           "Expect: 100-continue", which stalls on servers that ignore it */
        if (!has_header(req->headers, "Content-Type")) {
            t = curl_slist_append(l, grpc ? "Content-Type: application/grpc"
                                          : "Content-Type: application/json");
            if (t == NULL)
                goto fail;
            l = t;
        }
        /* a request sent once waits for its answer until the deadline:
           the interim answer would tell it nothing */
        bool cont =
            (req->flags & EI_HTTP_CONTINUE) && !(req->flags & EI_HTTP_NORETRY);
        t = curl_slist_append(l, cont ? "Expect: 100-continue" : "Expect:");
        if (t == NULL)
            goto fail;
        l = t;
    }
    *ok = true;
    return l;
fail:
    wipe_slist(l);
    return NULL;
}

static enum ei_status check_request(const struct ei_http *c,
                                    const struct ei_http_request *req,
                                    struct ei_error *err)
{
    const char *m = req->method;
    size_t ml = m != NULL ? strlen(m) : 0;
    if (ml == 0 || ml > METHOD_MAX ||
        strspn(m, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != ml)
        return ei_error_set(err, EI_INTERNAL, 0, c->layer, NULL,
                            "HTTP request with an invalid method");
    if (req->path == NULL || req->path[0] != '/')
        return ei_error_set(err, EI_INTERNAL, 0, c->layer, NULL,
                            "HTTP request path does not start with '/'");
    for (const unsigned char *p = (const unsigned char *)req->path; *p; p++)
        if (*p <= ' ' || *p >= 0x7f || *p == '#' || *p == '\\')
            return ei_error_set(err, EI_INTERNAL, 0, c->layer, NULL,
                                "HTTP request path has a character not "
                                "allowed in a URL at offset %zu",
                                (size_t)(p - (const unsigned char *)req->path));
    size_t i = 0;
    for (const char *const *h = req->headers; h != NULL && *h != NULL;
         h++, i++) {
        const char *colon = strchr(*h, ':');
        if (colon == NULL || colon == *h || strpbrk(*h, "\r\n") != NULL)
            return ei_error_set(err, EI_INTERNAL, 0, c->layer, NULL,
                                "HTTP request header %zu is not one "
                                "\"Name: value\" line",
                                i + 1);
    }
    if (req->body == NULL && req->body_len != 0)
        return ei_error_set(err, EI_INTERNAL, 0, c->layer, NULL,
                            "HTTP request with a body length but no body");
    return EI_OK;
}

/* Every option of one attempt, set from scratch. */
static enum ei_status setup_handle(struct ei_http *c,
                                   const struct ei_http_request *req,
                                   struct curl_slist *headers, struct rbuf *b,
                                   const char *url)
{
    CURL *h = c->curl;
    CURLcode rc = CURLE_OK;
    /* curl_easy_reset keeps the live connections (keep-alive) and forgets
       every option of the previous request, so none leaks into this one */
    curl_easy_reset(h);
#define SET(opt, val)                                                          \
    do {                                                                       \
        if (rc == CURLE_OK)                                                    \
            rc = curl_easy_setopt(h, opt, val);                                \
    } while (0)
    SET(CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    SET(CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    /* a redirect could carry a token to another host */
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_SSL_VERIFYPEER, c->insecure ? 0L : 1L);
    SET(CURLOPT_SSL_VERIFYHOST, c->insecure ? 0L : 2L);
    if (c->cacert != NULL)
        SET(CURLOPT_CAINFO, c->cacert);
    if (c->cert != NULL)
        SET(CURLOPT_SSLCERT, c->cert);
    if (c->key != NULL)
        SET(CURLOPT_SSLKEY, c->key);
#ifdef PACKAGE_VERSION
    SET(CURLOPT_USERAGENT, "envinject/" PACKAGE_VERSION);
#else
    SET(CURLOPT_USERAGENT, "envinject");
#endif
    SET(CURLOPT_URL, url);
    SET(CURLOPT_HTTPHEADER, headers);
    SET(CURLOPT_WRITEFUNCTION, write_cb);
    SET(CURLOPT_WRITEDATA, b);
    SET(CURLOPT_HEADERFUNCTION, header_cb);
    SET(CURLOPT_HEADERDATA, b);
    /* curl silently sends a request again when a reused connection turns
       out dead; a request that must not be repeated gets a fresh one */
    if (req->flags & EI_HTTP_NORETRY)
        SET(CURLOPT_FRESH_CONNECT, 1L);
    /* over TLS, HTTP/2 is agreed in the handshake (ALPN); in the clear, a
       gRPC server speaks it from the first byte */
    if (req->flags & EI_HTTP_GRPC) {
        SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
        /* libcurl 7.88 (Debian 12) fails the second request on a reused
           HTTP/2 connection ("Error in the HTTP2 framing layer"): one
           connection a call costs a handshake but works */
        SET(CURLOPT_FORBID_REUSE, 1L);
        /* fewer reads of large pages; what curl's buffer held is not
           wiped, as with any buffer of curl's (see the man page) */
        SET(CURLOPT_BUFFERSIZE, 512L * 1024L);
    }
    const char *m = req->method;
    bool post = strcmp(m, "POST") == 0;
    if (req->body != NULL) {
        /* no copy: the caller's buffer outlives the request, and a
           credential in it is not duplicated into curl's heap */
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        SET(CURLOPT_POSTFIELDS, req->body);
        if (!post)
            SET(CURLOPT_CUSTOMREQUEST, m);
    } else if (strcmp(m, "HEAD") == 0) {
        SET(CURLOPT_NOBODY, 1L);
    } else if (post || strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0) {
        /* an empty body still gets its Content-Length: 0 */
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
        SET(CURLOPT_POSTFIELDS, "");
        if (!post)
            SET(CURLOPT_CUSTOMREQUEST, m);
    } else {
        SET(CURLOPT_HTTPGET, 1L);
        if (strcmp(m, "GET") != 0)
            SET(CURLOPT_CUSTOMREQUEST, m);
    }
#undef SET
    return rc == CURLE_OK ? EI_OK : EI_INTERNAL;
}

/* A short description of a failed attempt, for log and error; curl's own
   texts are constant strings, free of hosts and paths. */
static const char *fail_reason(CURL *h, CURLcode rc)
{
    long oserr = 0;
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
        curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &oserr);
        if (oserr == ECONNREFUSED)
            return "connection refused";
        if (oserr == ENETUNREACH || oserr == EHOSTUNREACH)
            return "host unreachable";
        return "cannot connect";
    case CURLE_COULDNT_RESOLVE_HOST:
        return "cannot resolve host";
    case CURLE_OPERATION_TIMEDOUT:
        return "timeout";
    case CURLE_SSL_CONNECT_ERROR:
        return "TLS handshake failed";
    case CURLE_PEER_FAILED_VERIFICATION:
        return "TLS certificate verification failed";
    case CURLE_GOT_NOTHING:
        return "connection closed without a response";
    case CURLE_SEND_ERROR:
        return "send failed";
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
        return "connection broken during the response";
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return "malformed HTTP response";
    default:
        return curl_easy_strerror(rc);
    }
}

/* The path without its query, for log lines: a query may carry anything. */
static int path_len(const char *path)
{
    size_t n = strcspn(path, "?");
    return n > INT_MAX ? INT_MAX : (int)n;
}

struct attempt_state {
    unsigned tries;          /* requests sent */
    unsigned backoffs;       /* back-off rounds so far */
    unsigned round_fails;    /* endpoints that failed in this round */
    unsigned status_here;    /* retryable answers in a row from idx */
    long last_status;        /* the last retryable status, 0 if none */
    int last_grpc;           /* its gRPC status, -1 if none */
    const char *last_reason; /* the last connection failure */
    bool retry_after_past;   /* Retry-After was beyond the deadline */
    int64_t retry_after_ms;
};

/*
 * What each endpoint did, " (host: what; host: what)", for a client of
 * several; "" for one, whose locator says it all.  Cut short when it does
 * not fit.
 */
static void member_notes(const struct ei_http *c, char *out, size_t size)
{
    out[0] = '\0';
    if (c->endpoints_n < 2)
        return;
    size_t off = 0;
    for (size_t i = 0; i < c->endpoints_n && off < size; i++) {
        int n = snprintf(out + off, size - off, "%s%s: %s%s",
                         i == 0 ? " (" : "; ", c->hosts[i],
                         c->notes[i][0] != '\0' ? c->notes[i] : "not tried",
                         i + 1 == c->endpoints_n ? ")" : "");
        if (n < 0)
            break;
        off += (size_t)n;
    }
}

static enum ei_status give_up(struct ei_http *c, const struct ei_deadline *dl,
                              const struct attempt_state *s,
                              struct ei_error *err)
{
    char members[EI_ERR_TEXT_LEN];
    member_notes(c, members, sizeof(members));
    if (s->last_status != 0) {
        char gtext[32] = "";
        if (s->last_grpc > 0)
            snprintf(gtext, sizeof(gtext), " (gRPC %d)", s->last_grpc);
        if (s->retry_after_past)
            return ei_error_set(err, EI_UNAVAILABLE, 0, c->layer, c->locator,
                                "HTTP %ld%s after %u attempt%s (retry after "
                                "%lld s is past the deadline)%s",
                                s->last_status, gtext, s->tries,
                                s->tries == 1 ? "" : "s",
                                (long long)(s->retry_after_ms / 1000), members);
        return ei_error_set(err, EI_UNAVAILABLE, 0, c->layer, c->locator,
                            "HTTP %ld%s after %u attempt%s%s", s->last_status,
                            gtext, s->tries, s->tries == 1 ? "" : "s", members);
    }
    if (c->endpoints_n > 1)
        return ei_error_set(err, EI_UNAVAILABLE, 0, c->layer, c->locator,
                            "no endpoint answered within %lld ms%s",
                            (long long)(dl->end_ms - dl->start_ms), members);
    return ei_error_set(err, EI_UNAVAILABLE, 0, c->layer, c->locator,
                        "no endpoint answered within %lld ms (last: %s)",
                        (long long)(dl->end_ms - dl->start_ms),
                        s->last_reason != NULL ? s->last_reason : "timeout");
}

/* A failure that no retry or other endpoint can fix. */
static enum ei_status fatal_curl(struct ei_http *c, size_t idx, CURLcode rc,
                                 const struct rbuf *b, struct ei_error *err)
{
    const char *host = c->hosts[idx];
    switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
        /* a wrong CA or a name mismatch fails closed: never retried,
           never sent to another member with the same problem */
        return ei_error_set(err, EI_DENIED, 0, c->layer, c->endpoints[idx],
                            "TLS certificate verification failed for %s", host);
    case CURLE_SSL_CACERT_BADFILE:
        return ei_error_set(err, EI_BADCONFIG, 0, c->layer, c->endpoints[idx],
                            "cannot use the CA bundle %s (cacert)",
                            c->cacert != NULL ? c->cacert : "of the system");
    case CURLE_SSL_CERTPROBLEM:
        return ei_error_set(err, EI_BADCONFIG, 0, c->layer, c->endpoints[idx],
                            "cannot use the client certificate or key "
                            "(cert, key)");
    case CURLE_OUT_OF_MEMORY:
        return ei_error_set(err, EI_NOMEM, ENOMEM, c->layer, NULL,
                            "out of memory");
    default:
        break;
    }
    /* EFBIG tells a provider that asks for pages to ask for less */
    if (rc == CURLE_WRITE_ERROR && b->too_big)
        return ei_error_set(err, EI_BADDATA, EFBIG, c->layer, c->endpoints[idx],
                            "response larger than %zu bytes", c->max_response);
    if (rc == CURLE_WRITE_ERROR && b->nomem)
        return ei_error_set(err, EI_NOMEM, ENOMEM, c->layer, NULL,
                            "out of memory");
    return ei_error_set(err, EI_INTERNAL, 0, c->layer, c->endpoints[idx],
                        "HTTP request failed: %s", curl_easy_strerror(rc));
}

static bool connection_level(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false;
    }
}

/*
 * One transfer, through the multi interface so that it can be given up
 * on when no byte of the answer came within first_byte_ms (measured from
 * now on the real clock, as curl's own limits are; -1: no such limit),
 * or within live_ms once the server sent an interim answer (the request
 * had EI_HTTP_CONTINUE; -1: no limit then).
 * curl limits the connection and the whole transfer, but not the wait
 * between the request and the first byte of the answer, which is where a
 * frozen member keeps a client: its kernel accepts the connection and
 * takes the request.  *hung says that this limit ended the transfer; the
 * connection is closed then, not reused.
 *
 * A gRPC call waits at most POLL_MAX_MS after its socket had something to
 * read: libcurl 7.88 (Debian 12) can leave the last HTTP/2 frames of a
 * response read but unprocessed until its socket wait times out, up to
 * a second per call.  Each wait with nothing to read doubles the next,
 * up to POLL_IDLE_MS, so that a stream that stays quiet for minutes (a
 * watch) costs a wake-up a second, not two hundred, while a frame that
 * comes is still handled within POLL_MAX_MS of its bytes.  Frames that
 * arrive after a wait ran out and before the next curl_multi_perform are
 * read and handled by that perform, trailers included, and the call ends
 * without another wait (case 930 makes them arrive at that moment).
 */
static CURLcode perform(struct ei_http *c, bool grpc, const struct rbuf *b,
                        int64_t first_byte_ms, int64_t live_ms, bool *hung)
{
    *hung = false;
    if (c->multi == NULL) {
        c->multi = curl_multi_init();
        if (c->multi == NULL)
            return CURLE_OUT_OF_MEMORY;
    }
    if (curl_multi_add_handle(c->multi, c->curl) != CURLM_OK)
        return CURLE_FAILED_INIT;
    int64_t began = real_now_ms(NULL);
    int64_t hang_at = began + first_byte_ms;
    CURLcode rc = CURLE_OK;
    bool done = false;
    int running = 1;
    int64_t quiet = grpc ? POLL_MAX_MS : POLL_IDLE_MS;
    while (running > 0) {
        CURLMcode mc = curl_multi_perform(c->multi, &running);
        if (mc == CURLM_OK && running > 0) {
            int64_t wait = quiet;
            if (first_byte_ms >= 0 && !b->answered &&
                !(b->live && live_ms < 0)) {
                int64_t until =
                    (b->live ? began + live_ms : hang_at) - real_now_ms(NULL);
                if (until <= 0) {
                    *hung = true;
                    rc = CURLE_OPERATION_TIMEDOUT;
                    done = true;
                    break;
                }
                if (until < wait)
                    wait = until;
            }
            int ready = 0;
            mc = curl_multi_poll(c->multi, NULL, 0, (int)wait, &ready);
            if (grpc && ready > 0)
                quiet = POLL_MAX_MS;
            else if (grpc && quiet < POLL_IDLE_MS)
                quiet = quiet * 2 < POLL_IDLE_MS ? quiet * 2 : POLL_IDLE_MS;
        }
        if (mc != CURLM_OK) {
            rc = mc == CURLM_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY
                                           : CURLE_RECV_ERROR;
            done = true;
            break;
        }
    }
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(c->multi, &left)) != NULL)
        if (!done && m->msg == CURLMSG_DONE && m->easy_handle == c->curl) {
            rc = m->data.result;
            done = true;
        }
    curl_multi_remove_handle(c->multi, c->curl);
    return rc;
}

/*
 * Why an attempt of a client of several endpoints ran out of time, naming
 * the limit it met (limit_ms, or the layer's deadline when -1) and how
 * far it got: not even the request out (the connection or the TLS
 * handshake), no byte of the answer, or part of it.
 */
static void timeout_note(char *out, size_t size, bool sent, bool answered,
                         int64_t limit_ms)
{
    const char *what = answered ? "whole answer"
                       : sent   ? "answer"
                                : "connection";
    if (limit_ms < 0)
        snprintf(out, size, "no %s before the deadline", what);
    else
        snprintf(out, size, "no %s within %lld ms", what, (long long)limit_ms);
}

/*
 * The time an attempt may take to connect and to receive the first byte
 * of the answer (see ATTEMPT_SHARE_MIN_MS): all that is left with one
 * endpoint, or for the last one of a round not yet tried.
 */
static int64_t attempt_budget(const struct ei_http *c,
                              const struct ei_deadline *dl,
                              const struct attempt_state *s, int64_t left)
{
    if (c->endpoints_n < 2 || s->round_fails + 1 >= c->endpoints_n)
        return left;
    int64_t share = (dl->end_ms - dl->start_ms) / (int64_t)(c->endpoints_n + 1);
    if (share < ATTEMPT_SHARE_MIN_MS)
        share = ATTEMPT_SHARE_MIN_MS;
    return share < left ? share : left;
}

/* Sleep before the next round, or say that no retry fits (-1). */
static int backoff(struct ei_http *c, const struct ei_deadline *dl,
                   struct attempt_state *s, const char *why)
{
    int64_t left = dl->end_ms - now_ms(c);
    int64_t d = ei_http_backoff(s->backoffs, EI_HTTP_BACKOFF_BASE_MS,
                                EI_HTTP_BACKOFF_CAP_MS, s->retry_after_ms, left,
                                c->env.random(c->env.ctx));
    if (d < 0) {
        s->retry_after_past = s->retry_after_ms >= 0 &&
                              left > EI_HTTP_RETRY_MIN_MS &&
                              s->retry_after_ms > left - EI_HTTP_RETRY_MIN_MS;
        return -1;
    }
    s->backoffs++;
    ei_diag_msg(EI_LOG_DEBUG, c->layer, NULL,
                "retrying in %lld ms after %s (attempt %u)", (long long)d, why,
                s->tries + 1);
    if (d > 0)
        c->env.sleep_ms(c->env.ctx, d);
    return 0;
}

enum ei_status ei_http_request(struct ei_http *c,
                               const struct ei_http_request *req,
                               const struct ei_deadline *dl,
                               struct ei_http_response *resp,
                               struct ei_error *err)
{
    memset(resp, 0, sizeof(*resp));
    resp->retry_after_ms = -1;
    resp->grpc_status = -1;
    c->answered = false;
    enum ei_status st = check_request(c, req, err);
    if (st != EI_OK)
        return st;
    bool grpc = (req->flags & EI_HTTP_GRPC) != 0;
    if (grpc &&
        !(curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_HTTP2))
        return ei_error_set(err, EI_BADCONFIG, 0, c->layer, NULL,
                            "gRPC needs HTTP/2, which this libcurl lacks "
                            "(built without nghttp2)");
    if (dl == NULL)
        return ei_error_set(err, EI_INTERNAL, 0, c->layer, NULL,
                            "HTTP request without a deadline");
    if (c->curl == NULL) {
        /* created here rather than in ei_http_new, so that configure
           stays free of libcurl's set-up cost */
        c->curl = curl_easy_init();
        if (c->curl == NULL)
            return ei_error_set(err, EI_NOMEM, ENOMEM, c->layer, NULL,
                                "cannot create an HTTP handle");
    }
    bool hdr_ok;
    struct curl_slist *headers = build_headers(req, &hdr_ok);
    if (!hdr_ok)
        return ei_error_set(err, EI_NOMEM, ENOMEM, c->layer, NULL,
                            "out of memory");
    struct rbuf b = {.max = c->max_response,
                     .secret = (req->flags & EI_HTTP_SECRET) != 0,
                     .grpc = grpc,
                     .h = c->curl};
    if (req->flags & EI_HTTP_STREAM) {
        if (req->on_data == NULL) {
            wipe_slist(headers);
            return ei_error_set(err, EI_INTERNAL, 0, c->layer, NULL,
                                "HTTP stream without on_data");
        }
        b.stream = req;
    }
    struct attempt_state s = {.retry_after_ms = -1, .last_grpc = -1};
    bool noretry = (req->flags & EI_HTTP_NORETRY) != 0;
    size_t idx = c->current < c->endpoints_n ? c->current : 0;
    char *url = NULL;
    size_t url_cap = 0;
    int plen = path_len(req->path);
    memset(c->notes, 0, c->endpoints_n * sizeof(*c->notes));

    for (;;) {
        int64_t start = now_ms(c);
        int64_t left = dl->end_ms - start;
        if (left <= 0) {
            st = give_up(c, dl, &s, err);
            break;
        }
        size_t need = strlen(c->endpoints[idx]) + strlen(req->path) + 1;
        if (need > url_cap) {
            free(url);
            url = malloc(need);
            url_cap = need;
            if (url == NULL) {
                st = ei_error_set(err, EI_NOMEM, ENOMEM, c->layer, NULL,
                                  "out of memory");
                break;
            }
        }
        snprintf(url, need, "%s%s", c->endpoints[idx], req->path);
        rbuf_reset(&b);
        if (setup_handle(c, req, headers, &b, url) != EI_OK) {
            st = ei_error_set(err, EI_INTERNAL, 0, c->layer, NULL,
                              "cannot set up the HTTP request");
            break;
        }
        /* the same budget bounds the connection and the first byte; a
           request that must not be sent twice waits for its answer until
           the deadline once it went out */
        int64_t conn = attempt_budget(c, dl, &s, left);
        int64_t first_byte = conn < left && !noretry ? conn : -1;
        /* a member that showed it took the request in hand is slow, not
           frozen: it keeps it until one share is left for the next */
        int64_t live = first_byte;
        if (first_byte >= 0 && (req->flags & EI_HTTP_CONTINUE))
            live = left - conn > conn ? left - conn : conn;
        curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, (long)left);
        curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)conn);
        bool hung;
        CURLcode rc = perform(c, grpc, &b, first_byte, live, &hung);
        s.tries++;
        /* a stream that ran ended well however it ended: on_data's
           wish, the deadline, or the server closing it */
        if (b.streamed)
            rc = CURLE_OK;
        int64_t took = now_ms(c) - start;

        if (rc == CURLE_OK) {
            long status = 0;
            curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
            int gs = -1;
            char gtext[32] = "";
            if (grpc && status == 200) {
                gs = ei_http_grpc_status(b.grpc_status);
                if (gs > 0)
                    status = ei_http_grpc_to_http(gs);
                snprintf(gtext, sizeof(gtext),
                         gs < 0 ? " (no gRPC status)" : " (gRPC %d)", gs);
            }
            ei_diag_msg(EI_LOG_INFO, c->layer, NULL,
                        "%s %s %.*s -> %ld%s (%lld ms)", req->method,
                        c->hosts[idx], plen, req->path, status, gtext,
                        (long long)took);
            int64_t ra = -1;
            if (b.retry_after[0] != '\0')
                ra = ei_http_retry_after(b.retry_after, (int64_t)time(NULL));
            if (noretry || !ei_http_retryable(status)) {
                c->current = idx;
                if (!rbuf_grow(&b, b.len + 1)) {
                    st = ei_error_set(err, EI_NOMEM, ENOMEM, c->layer, NULL,
                                      "out of memory");
                    break;
                }
                c->answered = true; /* only an EI_OK has headers to read */
                b.data[b.len] = '\0';
                resp->status = status;
                resp->body = b.data;
                resp->body_len = b.len;
                resp->secret = b.secret;
                resp->endpoint = c->endpoints[idx];
                resp->retry_after_ms = ra;
                resp->grpc_status = gs;
                if (gs > 0)
                    ei_http_grpc_message(b.grpc_message, resp->grpc_message,
                                         sizeof(resp->grpc_message));
                b.data = NULL;
                st = EI_OK;
                break;
            }
            s.last_status = status;
            s.last_grpc = gs;
            s.last_reason = NULL;
            s.round_fails = 0;
            s.retry_after_ms = ra;
            char why[48];
            snprintf(why, sizeof(why), "HTTP %ld%s", status, gtext);
            snprintf(c->notes[idx], sizeof(c->notes[idx]), "%s", why);
            /* the same member once more, then the next one: a 503 from a
               member that lost its quorum will not heal in a few ms */
            if (++s.status_here >= 2 && c->endpoints_n > 1) {
                idx = (idx + 1) % c->endpoints_n;
                s.status_here = 0;
            }
            if (backoff(c, dl, &s, why) < 0) {
                st = give_up(c, dl, &s, err);
                break;
            }
            continue;
        }

        if (!connection_level(rc)) {
            ei_diag_msg(
                EI_LOG_INFO, c->layer, NULL, "%s %s %.*s -> %s (%lld ms)",
                req->method, c->hosts[idx], plen, req->path,
                b.too_big ? "response too large" : fail_reason(c->curl, rc),
                (long long)took);
            st = fatal_curl(c, idx, rc, &b, err);
            break;
        }
        const char *reason = fail_reason(c->curl, rc);
        long sent = 0;
        curl_easy_getinfo(c->curl, CURLINFO_REQUEST_SIZE, &sent);
        bool timed_out = rc == CURLE_OPERATION_TIMEDOUT;
        /* which limit ended it: the attempt's own budget says that this
           member did not answer in time; the layer's deadline, nothing */
        bool by_deadline = timed_out && !hung && (sent > 0 || conn >= left);
        char what[NOTE_LEN];
        if (timed_out && c->endpoints_n > 1)
            timeout_note(what, sizeof(what), sent > 0, b.answered,
                         hung          ? (b.live ? live : first_byte)
                         : by_deadline ? -1
                                       : conn);
        else
            snprintf(what, sizeof(what), "%s", reason);
        ei_diag_msg(EI_LOG_INFO, c->layer, NULL, "%s %s %.*s -> %s (%lld ms)",
                    req->method, c->hosts[idx], plen, req->path, what,
                    (long long)took);
        /* an attempt the deadline cut short says nothing about the
           endpoint: the error keeps naming what the one before met */
        if (!by_deadline || c->notes[idx][0] == '\0')
            snprintf(c->notes[idx], sizeof(c->notes[idx]), "%s", what);
        if (!by_deadline || (s.last_reason == NULL && s.last_status == 0)) {
            s.last_reason = reason;
            s.last_status = 0;
            s.retry_after_ms = -1;
        }
        s.status_here = 0;
        if (noretry) {
            /* a login or a revoke goes elsewhere only when nothing of it
               reached this server; sent twice, it could act twice */
            if (sent > 0 || s.tries >= c->endpoints_n) {
                st = give_up(c, dl, &s, err);
                break;
            }
            idx = (idx + 1) % c->endpoints_n;
            s.round_fails++;
            continue;
        }
        idx = (idx + 1) % c->endpoints_n;
        if (++s.round_fails < c->endpoints_n) {
            ei_diag_msg(EI_LOG_DEBUG, c->layer, NULL, "trying %s after %s",
                        c->hosts[idx], what);
            continue;
        }
        s.round_fails = 0;
        char why[96];
        snprintf(why, sizeof(why), "%s%s", reason,
                 c->endpoints_n > 1 ? " on every endpoint" : "");
        if (backoff(c, dl, &s, why) < 0) {
            st = give_up(c, dl, &s, err);
            break;
        }
    }
    free(url);
    rbuf_release(&b);
    wipe_slist(headers);
    /* the handle points at the header list just freed, the caller's body
       and this stack frame: forget them, keep the connections */
    if (c->curl != NULL)
        curl_easy_reset(c->curl);
    return st;
}

void ei_http_response_free(struct ei_http *c, struct ei_http_response *resp)
{
    if (resp == NULL)
        return;
    if (resp->body != NULL) {
        if (resp->secret) {
            sodium_free(resp->body);
        } else {
            sodium_memzero(resp->body, resp->body_len);
            free(resp->body);
        }
    }
    memset(resp, 0, sizeof(*resp));
    resp->retry_after_ms = -1;
    resp->grpc_status = -1;
}

int ei_http_header(struct ei_http *c, const char *name, char *out,
                   size_t out_len)
{
    if (out_len > 0)
        out[0] = '\0';
    if (c == NULL || c->curl == NULL || !c->answered || name == NULL ||
        out_len == 0)
        return -1;
#ifndef EI_CURL_HEADER_API
    return -1; /* libcurl before 7.83: no header API */
#else
    if (!EI_CURL_HEADER_LOADED)
        return -1;
    struct curl_header *h = NULL;
    /* request -1: the last response of the last transfer, which is the
       attempt http_request returned */
    if (curl_easy_header(c->curl, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK ||
        h == NULL || h->value == NULL)
        return -1;
    const char *v = h->value;
    size_t n = strlen(v);
    while (n > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r' ||
                     v[n - 1] == '\n'))
        n--;
    if (n >= out_len || n > INT_MAX)
        return -2;
    memcpy(out, v, n);
    out[n] = '\0';
    return (int)n;
#endif
}
