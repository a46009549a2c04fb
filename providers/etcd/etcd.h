/* SPDX-License-Identifier: MIT */
/* What the etcd provider (etcd.c) shares with its two wire formats,
   wire_json.c (the v3 JSON gateway) and wire_grpc.c (native gRPC): the
   state, one fetch's run, one watch stream, the table of a wire format,
   and the helpers etcd.c lends the wires.  Private to providers/etcd/. */
#ifndef ETCD_ETCD_H
#define ETCD_ETCD_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <envinject/provider.h>

#include "json.h"

/* bytes of a server message, a user name or a key shown in messages */
#define ETCD_SHOW_MAX 120
/* the longest message of a watch stream kept while it is incomplete */
#define ETCD_WATCH_MSG_MAX (16 * 1024 * 1024)
/* the first buffer of a watch stream: a message without values fits */
#define ETCD_WATCH_BUF_FIRST 4096

struct etcd_state {
    const struct ei_host *host;
    struct ei_http *http;
    char **endpoints; /* split on ',' and without trailing '/' */
    size_t endpoints_n;
    char *prefix; /* bytes, NUL-terminated for messages */
    size_t prefix_len;
    char *range_end;
    size_t range_end_len;
    const char *username;      /* NULL: no authentication */
    const char *password_file; /* absolute; NULL when password_env is used */
    const char *password_env;
    bool serializable;
    const struct etcd_wire *wire; /* api: the JSON gateway or native gRPC */
    long long page_size;
    bool page_fixed; /* page_size was given: no growth */

    /* run --watch: a watch stream from the revision of the last read on
       (protocols-azure-yaml-watch.md 5.2) */
    long long revision;        /* of the last fetch, 0: none */
    struct ei_http *wait_http; /* the waiting thread's own client */
    pthread_mutex_t lock;      /* guards watch_rev and watch_gen */
    long long watch_rev;       /* what watch saw last */
    unsigned watch_gen;
    long long wait_rev; /* the waiting thread's: where it watches from */
    unsigned wait_gen;
};

/* Everything one fetch changes, so that fetch never writes to the state. */
struct etcd_run {
    struct etcd_state *st;
    struct ei_http *http; /* the client to use: st->http unless set */
    const struct ei_host *host;
    const struct ei_deadline *dl;
    struct ei_sink *sink;
    char *auth; /* "Authorization: TOKEN" in secret memory, or NULL */
    size_t auth_size;
    bool reauthed;
    long long revision;  /* of the first page; 0 until it is known */
    long long limit;     /* keys asked for by the next page */
    long long limit_cap; /* after a page too large: the most since, or 0 */
    size_t pages, keys;
    char *start; /* first key of the next page */
    size_t start_len, start_cap;
    char *key; /* a decoded key, NUL-terminated */
    size_t key_cap;
    char *segbuf; /* the key below the prefix, '/' replaced by NUL */
    size_t segbuf_cap;
    const char **seg;
    size_t seg_cap;
    char *val; /* a decoded value, in secret memory */
    size_t val_cap;
    char *loc;
    size_t loc_cap;
    bool have_prev;             /* start holds the last key seen, plus "\0" */
    bool whole_key; /* a reference's: the key is the prefix, named "value" */
    struct etcd_json_page page; /* the fast scanner's view of a JSON page */
};

/* What one message of a watch stream says, in either wire format. */
struct etcd_watch_msg {
    bool error; /* the stream reports an error, which reason names */
    bool canceled;
    long long compact_revision; /* above 0: compacted past the start */
    const char *reason;         /* cancel_reason or error text, or NULL */
    size_t reason_len;
    size_t events;
    long long min_mod, max_mod; /* of the events' kv.mod_revision; -1 or 0
                                   when one has none */
};

/* One watch stream while it is read: the on_data context of a wire's
   watch_data. */
struct etcd_watching {
    struct etcd_state *st;
    char *buf; /* a message not yet complete: it may hold values */
    size_t len, cap;
    bool changed;
    long long next_rev; /* where a later watch starts */
    bool failed;        /* an error message, or one that makes no sense */
    char why[ETCD_SHOW_MAX + EI_TEXT_EXTRA];
};

/* The gRPC code and message of an etcd error, when the response is one. */
struct etcd_fault {
    long long code; /* -1 when the response is no etcd error */
    char msg[ETCD_SHOW_MAX + EI_TEXT_EXTRA];
    bool has_msg;
};

/*
 * What differs between the JSON gateway and native gRPC: the paths, the
 * bodies and how responses are read.  One instance per wire format,
 * chosen by configure from api, so that fetch, paging, token renewal and
 * the judgement of errors are written once for both.
 */
struct etcd_wire {
    const char *api;    /* the value of the api option */
    const char *server; /* for messages: "JSON gateway" */
    const char *range_path;
    const char *auth_path;
    unsigned http_flags; /* added to the flags of every request */
    /* the gRPC code of an error is the response's grpc-status, which the
       messages name instead of the HTTP status; the gateway puts it in
       the body beside an HTTP status */
    bool code_is_status;
    long long page_default; /* keys asked for first, without page_size */
    long long page_max;     /* the most keys one page may ask for */
    size_t grow_below;      /* a smaller response doubles the next page */
    /* the RangeRequest from the key start on, in malloc'd memory */
    enum ei_status (*range_body)(struct etcd_run *run, const char *start,
                                 size_t start_len, char **body,
                                 size_t *body_len, struct ei_error *err);
    /* the AuthenticateRequest in secret memory of *body_size bytes, the
       last one past the body; pw is known to be UTF-8 */
    enum ei_status (*auth_body)(struct etcd_run *run, const char *pw,
                                size_t pw_len, char **body, size_t *body_size,
                                struct ei_error *err);
    /* a 200 range response: its keys emitted, *more set */
    enum ei_status (*page)(struct etcd_run *run,
                           const struct ei_http_response *resp, bool *more,
                           struct ei_error *err);
    /* a 200 authenticate response: its token handed to etcd_keep_token */
    enum ei_status (*token)(struct etcd_run *run,
                            const struct ei_http_response *resp,
                            struct ei_error *err);
    /* the code and message of any other response, when it has them */
    void (*fault)(const struct etcd_run *run,
                  const struct ei_http_response *resp, struct etcd_fault *f);
    /* run --watch: the Watch call's path, the request that creates a
       watch over the prefix from revision rev on (malloc'd), and the
       on_data of the answer, ctx a struct etcd_watching, which hands
       each whole message to etcd_watch_judge */
    const char *watch_path;
    enum ei_status (*watch_body)(struct etcd_run *run, long long rev,
                                 char **body, size_t *body_len,
                                 struct ei_error *err);
    int (*watch_data)(void *ctx, const char *data, size_t len);
};

/* The two wire formats, defined in wire_json.c and wire_grpc.c. */
extern const struct etcd_wire etcd_wire_json;
extern const struct etcd_wire etcd_wire_grpc;

/*
 * etcd_show - at most out_size - 4 bytes of the len bytes at s, for a
 * message (the host's safe_text with EI_TEXT_QUOTE),
 * NUL-terminated in out, with "..." when cut; control bytes and
 * '\'' become '?'.
 */
void etcd_show(const struct ei_host *h, char *out, size_t out_size,
               const char *s, size_t len);

/* The member that answered, or "?"; owned by the HTTP client. */
const char *etcd_member(const struct ei_http_response *resp);

/* Grow the malloc'd buffer *p of *cap bytes to at least need bytes,
   keeping its content.  Returns 0, or -1 when out of memory. */
int etcd_grow(char **p, size_t *cap, size_t need);

/* Make run->val, in secret memory, at least need bytes; its old content
   is wiped, not kept.  Returns 0, or -1 when out of memory. */
int etcd_grow_secret(struct etcd_run *run, size_t need);

/* Give f the mlen bytes at m as its message (shortened, made printable),
   unless they carry the token of run back. */
void etcd_fault_text(const struct etcd_run *run, struct etcd_fault *f,
                     const char *m, size_t mlen);

/* Check the len bytes at t, the token of the 200 authenticate response
   resp, and keep them as the header of later requests (secret memory). */
enum ei_status etcd_keep_token(struct etcd_run *run,
                               const struct ei_http_response *resp,
                               const char *t, size_t len, struct ei_error *err);

/*
 * etcd_kv_key - the checks of the idx'th key of a page, klen bytes at key
 * (mod_rev -1: the response had no valid revision for it), before its
 * value is looked at: *seg_n gets its name's segments, in run->seg (0: no
 * name below the prefix, to be skipped), and run->loc its locator.
 *
 * etcd_kv_emit - emit the vlen bytes at val as the value of the key that
 * etcd_kv_key has just checked.  val stays the caller's to wipe.
 *
 * etcd_kv - both for a key whose value is at hand.
 */
enum ei_status etcd_kv_key(struct etcd_run *run, const char *key, size_t klen,
                           long long mod_rev, size_t idx, const char *member,
                           size_t *seg_n, struct ei_error *err);
enum ei_status etcd_kv_emit(struct etcd_run *run, size_t seg_n, const char *val,
                            size_t vlen, struct ei_error *err);
enum ei_status etcd_kv(struct etcd_run *run, const char *key, size_t klen,
                       const char *val, size_t vlen, long long mod_rev,
                       size_t idx, const char *member, struct ei_error *err);

/*
 * etcd_watch_judge - what message m of the stream w means: a change (an
 * event, a compaction: w->changed, w->next_rev), a failure (w->failed,
 * w->why) or nothing yet.  Returns true when the stream should end.
 *
 * etcd_watch_fail - mark w failed, why printf-formatted.
 *
 * etcd_watch_reserve - make w->buf at least need bytes, keeping its
 * content and wiping the old block.  Returns 0, or -1 out of memory.
 */
bool etcd_watch_judge(struct etcd_watching *w, const struct etcd_watch_msg *m);
void etcd_watch_fail(struct etcd_watching *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int etcd_watch_reserve(struct etcd_watching *w, size_t need);

#endif
