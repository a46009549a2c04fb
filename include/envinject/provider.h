/* SPDX-License-Identifier: MIT */
/*
 * The envinject provider ABI: the only header a provider needs, built in or
 * loaded from a shared object.  See envinject-provider(3).
 */
#ifndef ENVINJECT_PROVIDER_H
#define ENVINJECT_PROVIDER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bump on any incompatible change; the exported symbol changes with it. */
#define EI_PROVIDER_ABI 2
/* Version of struct ei_host; fields are only ever appended. */
#define EI_HOST_ABI 1

/*
 * What a provider (or the core) reports.  Each status maps to one exit code
 * (envinject(1), EXIT STATUS).  Providers return only the first block.
 */
enum ei_status {
    EI_OK = 0,
    EI_NOTFOUND,    /* source absent: optional layer skipped, else 66 */
    EI_UNAVAILABLE, /* refused, timeout, 5xx after retries: 69 */
    EI_BADDATA,     /* malformed file or response: 65 */
    EI_DENIED,      /* auth failed, 403, wrong or missing key: 77 */
    EI_BADCONFIG,   /* invalid layer options: 78 */
    EI_IOERROR,     /* local file unreadable: 66 */
    EI_NOMEM,       /* out of memory: 70 */
    EI_INTERNAL,    /* a bug or a library failure: 70 */
    EI_OSERR,       /* fork, pipe, thread, clock: 71 */
    /* core only */
    EI_USAGE,     /* bad command line: 64 */
    EI_FINDINGS,  /* check found problems, diff found differences: 1 */
    EI_CANTEXEC,  /* program found but not executable: 126 */
    EI_NOPROG,    /* program not found: 127 */
    EI_CANTCREAT, /* an output file (the audit record) not written: 73 */
    EI_STATUS_MAX
};

/*
 * Error details, modelled on jansson's json_error_t: fixed size, never
 * allocated, may be NULL, and the first error recorded wins.  The text
 * describes the shape of a bad value, never the value itself.
 */
#define EI_ERR_LAYER_LEN   64
#define EI_ERR_LOCATOR_LEN 320
#define EI_ERR_TEXT_LEN    320

struct ei_error {
    enum ei_status status; /* EI_OK while nothing was recorded */
    int errnum;            /* saved errno, 0 if none */
    char layer[EI_ERR_LAYER_LEN];
    char locator[EI_ERR_LOCATOR_LEN];
    char text[EI_ERR_TEXT_LEN];
};

/*
 * The status recorded in err, or fallback when nothing was recorded (err
 * NULL, or status EI_OK): what a provider returns after a host function or
 * a sink refused with -1.  Inline rather than in the host table: it needs
 * no host state, and it works the same with every host version.
 */
static inline enum ei_status ei_error_status(const struct ei_error *err,
                                             enum ei_status fallback)
{
    return err != NULL && err->status != EI_OK ? err->status : fallback;
}

/*
 * The variable that holds the private key of sealed files: envinject
 * consumes it and never passes it to the program (envinject(1), run).
 */
#define EI_PRIVATE_KEY_ENV "ENVINJECT_PRIVATE_KEY"
/* The same for the key of the last-known-good cache (envinject.conf(5)). */
#define EI_CACHE_KEY_ENV "ENVINJECT_CACHE_KEY"
/* And for the key of the audit record (envinject.conf(5)). */
#define EI_AUDIT_KEY_ENV "ENVINJECT_AUDIT_KEY"

/* A point in CLOCK_MONOTONIC time by which a layer must be done. */
struct ei_deadline {
    int64_t start_ms; /* when the layer started */
    int64_t end_ms;   /* start_ms + the layer's timeout */
};

/* An HTTP client of one layer, opaque to providers. */
struct ei_http;
struct ei_http_request;
struct ei_http_response;

/* Flags of sink entries. */
#define EI_ENTRY_SECRET   0x1u /* the value is secret, whatever the layer */
#define EI_ENTRY_PLAIN    0x2u /* not secret, unless the layer says secret */
#define EI_ENTRY_LITERAL  0x4u /* never interpolated (single-quoted dotenv) */
#define EI_ENTRY_VERBATIM 0x8u /* name[0] is the final key: no key mapping */
#define EI_ENTRY_UNSET                                                         \
    0x10u /* remove the key from the program's environment                     \
           */

/*
 * Where a layer's entries go.  The core copies everything it is given (into
 * the secret store for secret entries): the provider keeps ownership of its
 * buffers and wipes them.
 *
 * name/name_n is the source name split into segments (a libconfig path, a
 * JSON path, an etcd key below the prefix).  Unless EI_ENTRY_VERBATIM is
 * set, the core maps it to a key: segments joined with '_', upper-cased
 * unless the layer says case = "preserve", other characters become '_', a
 * leading digit gets a '_' in front.  Two different names that map to the
 * same key are an error naming both; the same VERBATIM key emitted twice
 * keeps the later value (a dotenv file that repeats a key).
 *
 * value is value_len bytes, no NUL inside.  locator says where the value
 * came from ("defaults.cfg:12", "/app/prod/DB_HOST@42"); it may be NULL.
 * Returns 0, or -1 with err filled.
 */
struct ei_sink {
    void *ctx;
    int (*emit)(struct ei_sink *sink, const char *const *name, size_t name_n,
                const char *value, size_t value_len, const char *locator,
                unsigned flags, struct ei_error *err);
};

/* A buffer filled by ei_host.read_file; always NUL-terminated. */
struct ei_buf {
    char *data;
    size_t len;
    bool secret; /* lives in the secret store; freed with buf_free */
};

/* Flags of ei_host.read_file. */
#define EI_READ_SECRET 0x1u /* the content goes to the secret store */
#define EI_READ_PRIVATE                                                        \
    0x2u /* a key or token: O_NOFOLLOW, and refused                            \
(EI_DENIED) when group or others may read it */

/* Log levels of ei_host.log. */
enum ei_log_level {
    EI_LOG_WARN = 0, /* shown unless -q */
    EI_LOG_INFO = 1, /* -v */
    EI_LOG_DEBUG = 2 /* -vv */
};

/*
 * The host table: everything a provider may ask of the core.  One table per
 * layer, valid from configure until destroy.  Fields are only appended; a
 * provider reads a field only if size covers it.
 *
 * Option getters return 1 when the option is present and has the right
 * type, 0 when it is absent (out untouched), -1 when it has the wrong type
 * (err filled, EI_BADCONFIG).  A name may be a dotted path into a group
 * ("auth.method").  Every option a provider reads is marked used; after
 * configure the core rejects options nobody used.  Strings belong to the
 * core and live until destroy.  ${env} is already substituted.
 */
struct ei_host {
    uint32_t abi;  /* EI_HOST_ABI */
    uint32_t size; /* sizeof(struct ei_host) */
    void *core;    /* the core's own; providers never touch it */

    int (*opt_string)(const struct ei_host *h, const char *name,
                      const char **out, struct ei_error *err);
    /* a string option naming a file, made absolute against the folder of
       the configuration file (or the working directory for --layer) */
    int (*opt_path)(const struct ei_host *h, const char *name, const char **out,
                    struct ei_error *err);
    int (*opt_bool)(const struct ei_host *h, const char *name, bool *out,
                    struct ei_error *err);
    int (*opt_int)(const struct ei_host *h, const char *name, long long *out,
                   struct ei_error *err);
    /* a list of strings (a single string counts as a list of one);
     *out is NULL-terminated */
    int (*opt_list)(const struct ei_host *h, const char *name,
                    const char *const **out, size_t *n, struct ei_error *err);
    /* the option given as ARG in --layer PROVIDER:ARG, or NULL */
    const char *(*arg)(const struct ei_host *h);

    /* the process environment as the core sees it: getenv and environ */
    const char *(*env_get)(const struct ei_host *h, const char *name);
    const char *const *(*env_list)(const struct ei_host *h);

    /* read a whole file: EI_NOTFOUND when it does not exist, EI_IOERROR
       when unreadable, EI_DENIED for EI_READ_PRIVATE files that others
       may read, EI_BADDATA when larger than 64 MiB (values emitted from it
       are held to max_value_len by the sink) */
    enum ei_status (*read_file)(const struct ei_host *h, const char *path,
                                unsigned flags, struct ei_buf *out,
                                struct ei_error *err);
    void (*buf_free)(const struct ei_host *h, struct ei_buf *buf);

    /* secret memory: locked, wiped on free; NULL on failure */
    void *(*secret_alloc)(const struct ei_host *h, size_t len);
    void (*secret_free)(const struct ei_host *h, void *p, size_t len);

    /* record an error (first one wins); returns status, for tail calls */
    enum ei_status (*error)(const struct ei_host *h, struct ei_error *err,
                            enum ei_status status, int errnum,
                            const char *locator, const char *fmt, ...)
        __attribute__((format(printf, 6, 7)));
    void (*log)(const struct ei_host *h, enum ei_log_level level,
                const char *fmt, ...) __attribute__((format(printf, 3, 4)));
    /* milliseconds left before the deadline (0 once it has passed) */
    int64_t (*remaining_ms)(const struct ei_host *h,
                            const struct ei_deadline *dl);
    /* the largest value the core accepts, in bytes */
    size_t max_value_len;

    /* --- the HTTP engine (EI_HOST_ABI 1), for remote layers --- */

    /*
     * Open this layer's HTTP client during configure (no I/O happens):
     * endpoints are base URLs ("https://vault:8200"), tried in order; the
     * client also reads the layer's network options (cacert, cert, key,
     * insecure, max_response_size) and refuses a secret layer over plain
     * http:// unless the host is loopback or insecure = true.  One
     * connection-reusing client per layer; only the layer's thread uses
     * it.  EI_BADCONFIG with err on bad options.
     */
    enum ei_status (*http_open)(const struct ei_host *h,
                                const char *const *endpoints, size_t n,
                                struct ei_http **out, struct ei_error *err);
    /*
     * One request, with retries inside the deadline: connection errors
     * and timeouts move on to the next endpoint (with several, an attempt
     * has timeout / (endpoints + 1), at least 500 ms, to connect and to
     * receive the first byte of the answer); 408, 429 and 5xx (and a
     * connection error on the only endpoint) are retried with exponential
     * back-off and full jitter, honouring Retry-After, never past the
     * deadline.  Any other status is returned as it is (EI_OK, resp->status
     * set) for the provider to judge.  EI_UNAVAILABLE when every attempt
     * failed or the deadline passed (err names the layer and endpoints,
     * and with several, what each did), EI_BADDATA with errnum EFBIG when
     * the response is larger than max_response_size.
     * A later request starts with the endpoint that answered last.
     */
    enum ei_status (*http_request)(struct ei_http *c,
                                   const struct ei_http_request *req,
                                   const struct ei_deadline *dl,
                                   struct ei_http_response *resp,
                                   struct ei_error *err);
    /* wipe and free a response body (safe on a zeroed response) */
    void (*http_response_free)(struct ei_http *c,
                               struct ei_http_response *resp);
    /* close the client; NULL is fine (the layer closes any left open) */
    void (*http_close)(struct ei_http *c);
    /*
     * As http_open, with a CA bundle to use when the layer sets no cacert
     * option (the provider's own environment variable, such as
     * VAULT_CACERT); default_cacert may be NULL.  Appended: check size.
     */
    enum ei_status (*http_open_ca)(const struct ei_host *h,
                                   const char *const *endpoints, size_t n,
                                   const char *default_cacert,
                                   struct ei_http **out, struct ei_error *err);
    /*
     * Whether the layer's key filter (prefix, strip_prefix, include,
     * exclude) keeps key, a name as the provider would emit it
     * VERBATIM: lets a provider leave alone what the layer drops anyway,
     * such as a file it would otherwise read.  Appended: check size.
     */
    bool (*key_selected)(const struct ei_host *h, const char *key);
    /*
     * Make text fit for a message, a log line or a locator: len bytes of
     * s (no NUL needed), control bytes (below 0x20, and 0x7f) as '?',
     * with EI_TEXT_ASCII every byte above 0x7e too, with EI_TEXT_QUOTE
     * '\'' too; cut to out_len - 4 bytes, "..." marking the cut.  out
     * (out_len >= 4) is always NUL-terminated; returns out.  For names,
     * paths and server messages, never for a value: a value may be a
     * secret, and no message holds one.  Appended: check size.
     */
    const char *(*safe_text)(const struct ei_host *h, char *out, size_t out_len,
                             const char *s, size_t len, unsigned flags);
    /*
     * The value of response header name (any case; the first one when
     * the server sent several) of the last answer c received, the one
     * http_request returned with EI_OK: copied into out with a NUL,
     * blanks at either end dropped.  Returns its length, -1 when the
     * answer had no such header (or no answer came yet, or the libcurl
     * loaded is older than 7.83, which has no header API), -2 when the
     * value does not fit in out_len (out is then "").  For ETag,
     * Content-Type, WWW-Authenticate and the headers a protocol keeps
     * its tokens in: the value may be secret, and out is the caller's to
     * wipe.  Valid until the next http_request on c.  Appended: check
     * size.
     */
    int (*http_header)(struct ei_http *c, const char *name, char *out,
                       size_t out_len);
    /*
     * The chosen environment (-e, $ENVINJECT_ENV or the configuration's
     * default; what ${env} expands to), or NULL when none is chosen.  For
     * a default that names it (aws-appconfig's environment) and for
     * Spring profiles in YAML files.  Appended: check size.
     */
    const char *(*environment)(const struct ei_host *h);
    /*
     * Option name (a dotted path) as compact JSON text, for options whose
     * members the provider cannot know in advance (the context of a
     * feature-flag evaluation): a group as an object (members in the
     * order written), a list or an array as an array, a string as a
     * string (${env} substituted), an integer or a float as a number, a
     * boolean as true or false.  Options given as --layer
     * PROVIDER:group.member=value are strings.  The option and all its
     * members count as read.  Returns 1 (*out NUL-terminated, the core's,
     * valid until destroy), 0 when absent, -1 out of memory (err
     * filled).  Appended: check size.
     */
    int (*opt_json)(const struct ei_host *h, const char *name,
                    const char **out, struct ei_error *err);
    /*
     * path made absolute as opt_path makes an option's value: against
     * the folder of the configuration file (the working directory for
     * --layer); an absolute path comes back as it is.  For a path that
     * is not an option of its own, such as the program in a list of
     * arguments.  The result is the core's, valid until destroy; NULL
     * when out of memory (err filled).  Appended: check size.
     */
    const char *(*abs_path)(const struct ei_host *h, const char *path,
                            struct ei_error *err);
    /*
     * Whether the layer exists only to answer references (the core made
     * it for a ref+NAME:// value, with the provider's defaults, because
     * no layer of the provider is configured): it is never fetched, so
     * configure may do without the options that only a fetch needs (a
     * prefix, a list of secrets).  Appended: check size.
     */
    bool (*references_only)(const struct ei_host *h);
    /*
     * During fetch: the revision of what the layer read, for the audit
     * record (an etcd header revision, a Consul index, a secret's
     * version, "sha256:" and the hex digest of a file's bytes).  text
     * is NUL-terminated; the core keeps at most EI_REVISION_MAX bytes of
     * it, printable ASCII only (anything else makes it ignored: a
     * revision is never a value), and the last call of a fetch wins.  A
     * layer that never calls it has no revision (null in the record).
     * Appended: check size.
     */
    void (*revision)(const struct ei_host *h, const char *text);
    /*
     * Whether every value of the layer is secret (its secret option, else
     * the provider's default): a provider reading a whole file of values
     * asks read_file for secret memory only then.  Appended: check size;
     * without it, take the layer for secret.
     */
    bool (*layer_secret)(const struct ei_host *h);
    /*
     * During fetch: whether anything keeps the revision of this fetch
     * (an audit record, the layer's cache).  When false, a provider may
     * skip the work of computing one (hashing what it read) and not call
     * revision.  Appended: check size; without it, a revision is wanted.
     */
    bool (*revision_wanted)(const struct ei_host *h);
};

/* The most bytes of a revision the core keeps (host.revision). */
#define EI_REVISION_MAX 128

/* Flags of ei_host.safe_text. */
#define EI_TEXT_ASCII 0x1u /* bytes above 0x7e as '?' as well */
#define EI_TEXT_QUOTE 0x2u /* '\'' as '?' (text shown between quotes) */

/* The room safe_text needs besides the text it keeps: "..." and NUL. */
#define EI_TEXT_EXTRA 4

/*
 * Whether the host table h holds the function field (appended fields:
 * an older envinject hands a shorter table).
 */
#define EI_HOST_HAS(h, field)                                                  \
    ((h)->size >= offsetof(struct ei_host, field) + sizeof((h)->field) &&      \
     (h)->field != NULL)

/*
 * In configure: EI_OK when the host table holds field, else EI_BADCONFIG
 * with err, so that a provider built against this header fails with a
 * message on an older envinject instead of calling past its table.
 */
#define EI_HOST_REQUIRE(h, field, err)                                         \
    (EI_HOST_HAS(h, field)                                                     \
         ? EI_OK                                                               \
         : (h)->error((h), (err), EI_BADCONFIG, 0, NULL,                       \
                      "this provider needs a newer envinject (the host "       \
                      "has no " #field ")"))

/*
 * In configure of a provider that speaks HTTP: EI_OK when the host table
 * offers the HTTP engine (http_open, http_request, http_response_free,
 * http_close), else EI_INTERNAL with err.
 */
#define EI_HOST_REQUIRE_HTTP(h, err)                                           \
    (EI_HOST_HAS(h, http_open) && EI_HOST_HAS(h, http_request) &&              \
             EI_HOST_HAS(h, http_response_free) && EI_HOST_HAS(h, http_close)  \
         ? EI_OK                                                               \
         : (h)->error((h), (err), EI_INTERNAL, 0, NULL,                        \
                      "this envinject has no HTTP engine"))

/*
 * An HTTP request.  path starts with '/' and may carry a query; it must
 * hold no credential.  headers are "Name: value" lines, NULL-terminated;
 * they may carry tokens: the engine never logs them and wipes its copies.
 * body may be NULL.
 */
struct ei_http_request {
    const char *method; /* "GET", "POST", "PUT", "DELETE" */
    const char *path;
    const char *const *headers;
    const char *body;
    size_t body_len;
    unsigned flags; /* EI_HTTP_* */
    /*
     * Read by the engine only with EI_HTTP_STREAM (appended: a provider
     * built before them never sets the flag): the body of a 2xx answer
     * is handed to on_data as it arrives, in pieces of any size, instead
     * of being kept in resp->body.  on_data returns 0 to go on, 1 to end
     * the transfer (the request then returns EI_OK).  The answer may
     * also end by itself, or at the deadline: both EI_OK too, once a
     * 2xx status came.  Nothing is retried once a piece was handed
     * over.  Any other status is returned as usual, its body in resp.
     */
    int (*on_data)(void *ctx, const char *data, size_t len);
    void *on_data_ctx;
};

#define EI_HTTP_SECRET      0x1u /* the response body goes to secret memory */
#define EI_HTTP_NORETRY     0x2u /* no status is retried (a login, a revoke) */
#define EI_HTTP_SECRET_BODY 0x4u /* the request body holds a credential */
/*
 * A unary gRPC call: body is one framed message.  The engine speaks HTTP/2
 * (prior knowledge on http://, ALPN on https://), sends the gRPC content
 * type and "TE: trailers", and reads grpc-status and grpc-message.  A gRPC
 * status other than 0 sets status to the HTTP status the grpc-gateway
 * gives that code (14 Unavailable: 503, and so on), so that retries and
 * status checks work as for JSON.
 */
#define EI_HTTP_GRPC 0x8u
/* A long answer read as it comes (a watch stream): see on_data. */
#define EI_HTTP_STREAM 0x10u
/*
 * For a server that answers "Expect: 100-continue" as soon as it takes a
 * request in hand, long before its answer (etcd's gateway: when its
 * handler reads the body), a request with a body is sent with it.  The
 * interim 100 then tells a member that works on the request, however
 * slowly, from one that took the connection and never will (a frozen
 * process, whose kernel still accepts): the first is no longer held to
 * its share of the timeout for the first byte of its answer but may use
 * all that is left save one share (for one more member when it fails).
 * Costs one round trip a request.
 */
#define EI_HTTP_CONTINUE 0x20u

/* The bytes of grpc-message kept, decoded, control bytes as '?'. */
#define EI_HTTP_GRPC_MESSAGE_MAX 256

/* An HTTP response: body is NUL-terminated, body_len bytes. */
struct ei_http_response {
    long status;
    char *body;
    size_t body_len;
    bool secret;            /* body lives in secret memory */
    const char *endpoint;   /* the base URL that answered (owned by c) */
    int64_t retry_after_ms; /* from Retry-After, -1 if none */
    /* EI_HTTP_GRPC only: the gRPC status, -1 when the server sent none
       (then status is the plain HTTP status), and its message */
    int grpc_status;
    char grpc_message[EI_HTTP_GRPC_MESSAGE_MAX];
};

/* What ei_provider.watch answers. */
enum ei_watch_kind {
    EI_WATCH_POLL = 0,
    EI_WATCH_FILES,
    EI_WATCH_NEVER,
    EI_WATCH_BLOCKING /* ei_provider.wait_change asks the service */
};

/* Flags of struct ei_provider. */
#define EI_PROV_SECRET 0x1u /* values are secret by default */
#define EI_PROV_REMOTE 0x2u /* fetched concurrently with the others */
#define EI_PROV_INTERP 0x4u /* values are interpolated by default */
#define EI_PROV_OWN_PREFIX                                                     \
    0x8u /* "prefix" is the provider's own option,                             \
not the common key filter */

/*
 * One provider.  configure validates the options and allocates state; it
 * does no I/O.  fetch emits entries, honouring the deadline; it keeps all
 * mutable state in *state and calls only thread-safe functions.  lookup
 * answers one "ref+NAME://" reference (may be NULL).  destroy frees and
 * wipes; destroy(NULL) is safe.
 */
struct ei_provider {
    uint32_t abi;  /* EI_PROVIDER_ABI */
    uint32_t size; /* sizeof(struct ei_provider) */
    const char *name;
    const char *summary;    /* one line for "envinject providers" */
    const char *arg_option; /* the option ARG of --layer PROVIDER:ARG sets */
    uint32_t flags;
    enum ei_status (*configure)(const struct ei_host *host, void **statep,
                                struct ei_error *err);
    enum ei_status (*fetch)(void *state, struct ei_sink *sink,
                            const struct ei_deadline *dl, struct ei_error *err);
    enum ei_status (*lookup)(void *state, const char *ref, struct ei_sink *sink,
                             const struct ei_deadline *dl,
                             struct ei_error *err);
    void (*destroy)(void *state);
    /*
     * The environment variables the provider consumes and that must never
     * reach the program: names or fnmatch(3) globs, NULL-terminated, or
     * NULL.  run removes them from the program's environment, inherited
     * or resolved, as the configuration's unset list does, whether or not
     * a layer uses the provider.  Declare only what is envinject's own
     * input, such as the private key of sealed files; a variable that the
     * program may read as well (VAULT_TOKEN, AWS_*) is not declared.
     * Appended: the core reads it only when size covers it.
     */
    const char *const *env_consumed;
    /*
     * run --watch: how the core learns that the layer may have changed
     * since its last fetch (NULL: EI_WATCH_POLL).  Called after a fetch
     * that succeeded, from the main thread.  EI_WATCH_FILES: *paths
     * (NULL-terminated, owned by the state, valid until the next fetch or
     * destroy) are the files and folders the layer read, watched for
     * changes (renames by editors included); EI_WATCH_NEVER: the source
     * cannot change while envinject runs (the process environment);
     * EI_WATCH_POLL: fetch again every poll_interval, or every *poll_ms
     * when the provider sets it (the service said how often to ask);
     * EI_WATCH_BLOCKING: the service tells of changes (Consul's blocking
     * queries), through wait_change.  Appended: the core reads it only
     * when size covers it.
     */
    enum ei_watch_kind (*watch)(void *state, const char *const **paths,
                                int64_t *poll_ms);
    /*
     * run --watch, for a layer whose watch answered EI_WATCH_BLOCKING:
     * wait until the source may have changed since what watch last saw
     * (*changed true), or until dl is near (*changed false), with the
     * service's own long poll.  The core calls it again and again from a
     * thread of its own, while the main thread may fetch: it uses an HTTP
     * client of its own, and what watch hands it only under the
     * provider's own lock.  An error (the service down) is logged and the
     * core calls again after a back-off; it is never a layer failure.
     * Appended: the core reads it only when size covers it.
     */
    enum ei_status (*wait_change)(void *state, const struct ei_deadline *dl,
                                  bool *changed, struct ei_error *err);
};

/*
 * EI_PROVIDER_DEFINE(ident, ...) defines the descriptor: as
 * ei_provider_<ident> when built in, as the exported ei_provider_v2 when
 * built as a shared object (EI_PROVIDER_SHARED defined).
 */
#define EI_PROVIDER_SYMBOL "ei_provider_v2"
#ifdef EI_PROVIDER_SHARED
#define EI_PROVIDER_DEFINE(ident)                                              \
    __attribute__((visibility("default")))                                     \
    const struct ei_provider ei_provider_v2
#else
#define EI_PROVIDER_DEFINE(ident) const struct ei_provider ei_provider_##ident
#endif

#ifdef __cplusplus
}
#endif

#endif
