/* SPDX-License-Identifier: MIT */
/* A fake ei_host and a collecting ei_sink, so provider unit tests can run a
   provider without the core's configuration and merge. */
#ifndef EI_FAKE_HOST_H
#define EI_FAKE_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "envinject/provider.h"

struct fake_host;

/*
 * A new fake host.  opts: NULL-terminated "name=value" strings (a name
 * given several times makes a list; dotted names are plain names); environ:
 * the NULL-terminated environment env_get/env_list serve; dir: the base of
 * relative opt_path values (NULL: returned as given).  Everything is copied.
 * Every option is a string: opt_bool accepts true/false/yes/no/1/0, opt_int
 * decimal.  max_value_len is 1 MiB.  Calls sodium_init.  NULL on failure.
 */
struct fake_host *fake_host_new(const char *const *opts,
                                const char *const *environ, const char *dir);

/* The host table to hand to configure; valid until fake_host_free. */
const struct ei_host *fake_host_host(struct fake_host *fh);

/* Set (copy) the ARG of --layer PROVIDER:ARG; NULL clears it. */
void fake_host_set_arg(struct fake_host *fh, const char *arg);

/* Change max_value_len (read_file's size limit). */
void fake_host_set_max_value_len(struct fake_host *fh, size_t len);

/* Change the table's size field, as an older envinject's shorter table
   (offsetof(struct ei_host, safe_text): a host without safe_text). */
void fake_host_set_size(struct fake_host *fh, size_t size);

/* The name of the first option no getter has read, or NULL. */
const char *fake_host_unused(struct fake_host *fh);

/* All log lines so far, joined with '\n' ("" when none). */
const char *fake_host_log(struct fake_host *fh);
/* The lines logged at EI_LOG_WARN alone, the same way. */
const char *fake_host_warnings(struct fake_host *fh);
/* The default CA bundle the provider passed to http_open_ca ("" if none). */
const char *fake_host_default_cacert(struct fake_host *fh);

/* Number of read_file calls so far (to check that configure does no I/O). */
size_t fake_host_reads(struct fake_host *fh);

/*
 * Frees the host, with any HTTP client the provider did not close and
 * every recorded request (wiped: headers and bodies carry fake tokens).
 */
void fake_host_free(struct fake_host *fh);

/*
 * Canned HTTP.  The host's http_open, http_request, http_response_free and
 * http_close serve replies queued with fake_host_http_push (and
 * fake_host_grpc_push) instead of going to the network, and record every
 * attempt (with its flags, EI_HTTP_GRPC among them).  They mimic the engine
 * (src/http.c) closely enough for provider tests:
 *
 * - http_open reads the same options as the core (cacert, cert, key,
 *   insecure, max_response_size from 1 to 1 GiB; key needs cert) and
 *   copies the endpoints; it validates no URL (test_http.c covers that).
 *   No endpoint: EI_BADCONFIG.
 * - http_request takes one reply per attempt.  A 408, 429 or 5xx, or a
 *   reply flagged FAKE_HTTP_CLOSE, is retried with the next queued reply, as
 *   the engine's back-off would; when none is left the request fails as the
 *   engine gives up: EI_UNAVAILABLE "HTTP 503 after N attempts" or "no
 *   endpoint answered within N ms (last: connection closed without a
 *   response)".  A CLOSE moves on to the next endpoint.  With
 *   EI_HTTP_NORETRY a status is returned as it is and a CLOSE fails at once.
 * - FAKE_HTTP_DELAY_MS(ms) makes the reply take ms of simulated time: the
 *   time counts in remaining_ms and in later deadline checks, nobody
 *   sleeps; a reply that comes after the deadline is a timeout
 *   (EI_UNAVAILABLE "... (last: timeout)").
 * - A body larger than max_response_size is EI_BADDATA, errnum EFBIG,
 *   "response larger than N bytes"; with EI_HTTP_SECRET the body is in
 *   sodium_malloc'd memory and resp->secret is set; resp->retry_after_ms
 *   is always -1.
 * - resp->grpc_status is -1 and grpc_message "" in every response (and
 *   after http_response_free) unless a gRPC reply set them; a plain reply
 *   to an EI_HTTP_GRPC request is a server that sent no grpc-status.
 * - With EI_HTTP_STREAM, a 2xx reply's body goes to on_data in two
 *   pieces split mid-way (the second not sent when the first made it
 *   stop), and resp->body is "".
 * - An empty queue is EI_INTERNAL "fake host: no canned HTTP reply left",
 *   so a test that forgot a reply fails loudly.
 */
#define FAKE_HTTP_CLOSE 0x1u /* the connection closes without an answer */
/* the reply takes ms of simulated time (at most 16777215) */
#define FAKE_HTTP_DELAY_MS(ms) ((((unsigned)(ms)) & 0xffffffu) << 8)

/* Queue a reply; body is copied (NULL: empty).  0, or -1 out of memory. */
int fake_host_http_push(struct fake_host *fh, long status, const char *body,
                        unsigned flags);

/* The last revision the provider reported through host.revision, as the
   core keeps it, or NULL when it reported none since the host was made
   or fake_host_revision_clear was called. */
const char *fake_host_revision(const struct fake_host *fh);
void fake_host_revision_clear(struct fake_host *fh);

/* What host.environment returns from now on (NULL: none). 0, or -1 out
   of memory. */
int fake_host_set_environment(struct fake_host *fh, const char *name);

/* What host.references_only returns from now on (false at first: a
   layer of the configuration, fetched as usual). */
void fake_host_set_references_only(struct fake_host *fh, bool on);

/* What host.layer_secret returns from now on (false at first), and
   host.revision_wanted (true at first). */
void fake_host_set_layer_secret(struct fake_host *fh, bool on);
void fake_host_set_revision_wanted(struct fake_host *fh, bool on);

/* The flags of the last host.read_file call (0 before any). */
unsigned fake_host_read_flags(const struct fake_host *fh);

/*
 * Configure p through a fake host made of opts and environ (as for
 * fake_host_new, no folder) whose references_only answers refs_only, then
 * destroy the state: the status configure returned, with err as it left
 * it.  A configure that succeeds without a state or after reading a file
 * is EI_INTERNAL.
 */
enum ei_status fake_configure(const struct ei_provider *p,
                              const char *const *opts,
                              const char *const *environ, bool refs_only,
                              struct ei_error *err);

/* One configure to try with fake_configure. */
struct fake_configure_row {
    const char *name;
    bool refs_only;      /* what host.references_only answers */
    const char *opts[4]; /* NULL-terminated */
    const char *environ[4];
    enum ei_status want;
    const char *want_text; /* in err.text when want is not EI_OK */
};

/*
 * Each of the n rows through fake_configure: NULL when every row got its
 * status and text, else buf (size bytes) holding a line that names the
 * first row that did not and what it got.
 */
const char *fake_configure_rows(const struct ei_provider *p,
                                const struct fake_configure_row *rows, size_t n,
                                char *buf, size_t size);

/*
 * As fake_host_http_push, with response headers: "Name: value" lines,
 * each ending in '\n' (NULL: none), which http_header reads once the
 * reply was returned with EI_OK.
 */
int fake_host_http_push_headers(struct fake_host *fh, long status,
                                const char *headers, const char *body,
                                unsigned flags);

/*
 * Queue the reply of a gRPC server to a unary call, as the engine hands it
 * over: HTTP status 200 and body_len bytes of body, copied byte for byte
 * (body may be NULL when body_len is 0).  grpc_status is the code the
 * server sent, 0 to 99, or -1 for a response without grpc-status.  A code
 * above 0 sets resp->status to ei_http_grpc_to_http(code) (14: 503, 16:
 * 401, ...), which decides about retries as for fake_host_http_push
 * replies (a give-up says "HTTP 503 (gRPC 14) after N attempts"), and
 * resp->grpc_message to grpc_message (NULL: ""), bytes outside printable
 * ASCII as '?', cut to EI_HTTP_GRPC_MESSAGE_MAX - 1 bytes; with code 0 or
 * -1 the message stays "", as the engine keeps none.  Taken by a request
 * without EI_HTTP_GRPC, the reply fails it with EI_INTERNAL, so a provider
 * that forgot the flag fails loudly.  flags as for fake_host_http_push.
 * 0, or -1 when out of memory or an argument is out of range.
 */
int fake_host_grpc_push(struct fake_host *fh, int grpc_status,
                        const char *grpc_message, const void *body,
                        size_t body_len, unsigned flags);

/* One recorded attempt; strings are copies owned by the host. */
struct fake_http_request {
    char *method;
    char *path;     /* with its query */
    char **headers; /* NULL-terminated "Name: value" lines */
    size_t headers_n;
    char *body; /* body_len bytes and a NUL; NULL when there was none */
    size_t body_len;
    unsigned flags;       /* EI_HTTP_*, EI_HTTP_GRPC included */
    const char *endpoint; /* the endpoint it went to */
};

/* The attempts so far, in order; *n gets their number (n may be NULL). */
const struct fake_http_request *fake_host_http_requests(struct fake_host *fh,
                                                        size_t *n);

/* The value of a header of a recorded attempt (name in any case), or
   NULL. */
const char *fake_http_header(const struct fake_http_request *r,
                             const char *name);

/* Queued replies nobody used yet. */
size_t fake_host_http_pending(struct fake_host *fh);

/* Clients opened through http_open and not closed yet. */
size_t fake_host_http_clients(struct fake_host *fh);

/* Milliseconds of simulated time spent in delayed replies so far. */
int64_t fake_host_http_elapsed(struct fake_host *fh);

/* A deadline ms milliseconds from now (negative: already passed). */
void fake_deadline(struct ei_deadline *dl, int64_t ms);

/* One recorded emit; strings are copies owned by the sink. */
struct fake_entry {
    char *name;    /* the segments joined with '/' */
    size_t name_n; /* number of segments */
    char *value;   /* value_len bytes plus a NUL */
    size_t value_len;
    char *locator; /* NULL when the provider gave none */
    unsigned flags;
};

/*
 * A sink that records what it is given, in order, without key mapping.
 * Set fail_at to N to make the Nth emit (1-based) fail with EI_INTERNAL;
 * 0 never fails.  An emit that breaks the ABI (no segment, a NULL or empty
 * segment, a NULL value, a NUL inside the value) fails with EI_INTERNAL
 * too, and sets abi_violation.
 */
struct fake_sink {
    struct ei_sink sink; /* hand &fs.sink to fetch */
    struct fake_entry *entries;
    size_t n;
    size_t cap;
    size_t emits; /* calls, failed ones included */
    size_t fail_at;
    bool abi_violation;
};

void fake_sink_init(struct fake_sink *fs);

/* The emit function fake_sink_init installs. */
int fake_sink_emit(struct ei_sink *sink, const char *const *name, size_t name_n,
                   const char *value, size_t value_len, const char *locator,
                   unsigned flags, struct ei_error *err);

/* The last entry recorded under name (segments joined with '/'), or NULL. */
const struct fake_entry *fake_sink_find(const struct fake_sink *fs,
                                        const char *name);

/* Wipe and free the entries; the sink can be used again afterwards. */
void fake_sink_free(struct fake_sink *fs);

#endif
