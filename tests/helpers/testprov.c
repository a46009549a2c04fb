/* SPDX-License-Identifier: MIT */
/* A provider for tests whose entries, flags, failures and delay all come
   from its options; built with -DTESTPROV_SECRET it is "testprov-secret",
   with -DTESTPROV_SODIUM "testprov-sodium", which links libsodium and
   takes secret memory of its own in configure (an uninitialised copy of
   libsodium aborts there). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <envinject/provider.h>
#ifdef TESTPROV_SODIUM
#include <sodium.h>
#endif

/*
 * Options (all lists accept a single string):
 *   entries          "KEY=VALUE", emitted VERBATIM (also the ARG)
 *   paths            "a/b/c=VALUE", emitted as segments for the key mapping
 *   secret_entries   "KEY=VALUE", VERBATIM | SECRET
 *   plain_entries    "KEY=VALUE", VERBATIM | PLAIN
 *   literal_entries  "KEY=VALUE", VERBATIM | LITERAL
 *   nul_entries      "KEY=VALUE", VERBATIM, the value with its NUL byte
 *   unset            "KEY", VERBATIM | UNSET with an empty value
 *   fail             notfound|unavailable|baddata|denied: returned after
 *                    everything was emitted
 *   fail_quiet       fail without recording an error text
 *   ignore_sink_errors  go on and return EI_OK when the sink refuses
 *   sleep_ms         delay before emitting (UNAVAILABLE past the deadline)
 *   refs             "NAME=VALUE": lookup of "ref+PROVIDER://NAME" emits
 *                    every VALUE listed for NAME
 *   ref_fail         like fail, for lookup
 *   refs_empty_ok    lookup of an unlisted NAME emits nothing, returns OK
 *   ignore           option names to mark read, so a test may query them
 *                    through the host table after configure
 */

#if defined(TESTPROV_SECRET)
#define TP_NAME  "testprov-secret"
#define TP_ARG   NULL
#define TP_FLAGS EI_PROV_SECRET
#elif defined(TESTPROV_SODIUM)
#define TP_NAME  "testprov-sodium"
#define TP_ARG   "entries"
#define TP_FLAGS 0
#else
#define TP_NAME  "testprov"
#define TP_ARG   "entries"
#define TP_FLAGS EI_PROV_REMOTE
#endif

/* One list option and the entry flags it is emitted with. */
static const struct {
    const char *option;
    unsigned flags;
    bool split; /* "a/b/c=VALUE": the name is split into segments */
    bool nul;   /* the value is emitted with its terminating NUL */
    bool bare;  /* a name alone, emitted with an empty value */
} tp_lists[] = {
    {"entries", EI_ENTRY_VERBATIM, false, false, false},
    {"paths", 0, true, false, false},
    {"secret_entries", EI_ENTRY_VERBATIM | EI_ENTRY_SECRET, false, false,
     false},
    {"plain_entries", EI_ENTRY_VERBATIM | EI_ENTRY_PLAIN, false, false, false},
    {"literal_entries", EI_ENTRY_VERBATIM | EI_ENTRY_LITERAL, false, false,
     false},
    {"nul_entries", EI_ENTRY_VERBATIM, false, true, false},
    {"unset", EI_ENTRY_VERBATIM | EI_ENTRY_UNSET, false, false, true},
    /* not emitted by fetch: read by lookup */
    {"refs", 0, false, false, false},
};
#define TP_REFS    (TP_LISTS_N - 1)
#define TP_LISTS_N (sizeof(tp_lists) / sizeof(tp_lists[0]))

static const struct {
    const char *name;
    enum ei_status status;
} tp_fails[] = {
    {"notfound", EI_NOTFOUND},
    {"unavailable", EI_UNAVAILABLE},
    {"baddata", EI_BADDATA},
    {"denied", EI_DENIED},
};

struct tp_state {
    const struct ei_host *host;
    const char *const *lists[TP_LISTS_N];
    enum ei_status fail;
    const char *fail_name;
    enum ei_status ref_fail;
    const char *ref_fail_name;
    bool refs_empty_ok;
    bool fail_quiet;
    bool ignore_sink_errors;
    long long sleep_ms;
};

/* A fail option: 0 (absent or valid, *status set), -1 (err filled). */
static int tp_fail_option(const struct ei_host *h, const char *option,
                          enum ei_status *status, const char **name,
                          struct ei_error *err)
{
    const char *fail = NULL;
    if (h->opt_string(h, option, &fail, err) < 0)
        return -1;
    *status = EI_OK;
    if (fail == NULL)
        return 0;
    size_t n = sizeof(tp_fails) / sizeof(tp_fails[0]);
    for (size_t i = 0; i < n; i++)
        if (strcmp(fail, tp_fails[i].name) == 0) {
            *status = tp_fails[i].status;
            *name = tp_fails[i].name;
            return 0;
        }
    h->error(h, err, EI_BADCONFIG, 0, option,
             "%s must be notfound, unavailable, baddata or denied", option);
    return -1;
}

static enum ei_status tp_configure(const struct ei_host *h, void **statep,
                                   struct ei_error *err)
{
    struct tp_state st = {.host = h, .fail = EI_OK};
#ifdef TESTPROV_SODIUM
    /* the ABI promises an initialised libsodium, this object's copy too */
    void *secret = sodium_malloc(32);
    if (secret == NULL)
        return h->error(h, err, EI_NOMEM, 0, NULL, "sodium_malloc failed");
    sodium_free(secret);
#endif
    for (size_t i = 0; i < TP_LISTS_N; i++) {
        size_t n = 0;
        if (h->opt_list(h, tp_lists[i].option, &st.lists[i], &n, err) < 0)
            return ei_error_status(err, EI_BADCONFIG);
        for (size_t j = 0; j < n && !tp_lists[i].bare; j++)
            if (strchr(st.lists[i][j], '=') == NULL)
                return h->error(h, err, EI_BADCONFIG, 0, tp_lists[i].option,
                                "%s[%zu] has no '='", tp_lists[i].option, j);
    }
    if (tp_fail_option(h, "fail", &st.fail, &st.fail_name, err) < 0 ||
        tp_fail_option(h, "ref_fail", &st.ref_fail, &st.ref_fail_name, err) <
            0 ||
        h->opt_bool(h, "refs_empty_ok", &st.refs_empty_ok, err) < 0 ||
        h->opt_bool(h, "fail_quiet", &st.fail_quiet, err) < 0 ||
        h->opt_bool(h, "ignore_sink_errors", &st.ignore_sink_errors, err) < 0 ||
        h->opt_int(h, "sleep_ms", &st.sleep_ms, err) < 0)
        return ei_error_status(err, EI_BADCONFIG);
    if (st.sleep_ms < 0 || st.sleep_ms > 60000)
        return h->error(h, err, EI_BADCONFIG, 0, "sleep_ms",
                        "sleep_ms must be from 0 to 60000");

    /* mark the listed options read, whatever their type: the test reads
       them itself through the host table, and its errors are not ours */
    const char *const *ignore = NULL;
    if (h->opt_list(h, "ignore", &ignore, NULL, err) < 0)
        return ei_error_status(err, EI_BADCONFIG);
    for (; ignore != NULL && *ignore != NULL; ignore++) {
        struct ei_error scratch = {0};
        const char *s;
        (void)h->opt_string(h, *ignore, &s, &scratch);
    }

    struct tp_state *p = malloc(sizeof(*p));
    if (p == NULL)
        return h->error(h, err, EI_NOMEM, ENOMEM, NULL, "out of memory");
    *p = st;
    *statep = p;
    return EI_OK;
}

/* Wait ms, or until the deadline if that comes first (then 1). */
static int tp_sleep(const struct tp_state *st, const struct ei_deadline *dl)
{
    long long ms = st->sleep_ms;
    long long left = (long long)st->host->remaining_ms(st->host, dl);
    bool late = ms > left;
    if (late)
        ms = left;
    struct timespec ts = {.tv_sec = ms / 1000,
                          .tv_nsec = (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
    return late ? 1 : 0;
}

/* Emit one "NAME=VALUE" item of list i. */
static int tp_emit_one(const struct tp_state *st, struct ei_sink *sink,
                       size_t i, size_t j, const char *item,
                       struct ei_error *err)
{
    const char *eq = tp_lists[i].bare ? NULL : strchr(item, '=');
    size_t name_len = eq != NULL ? (size_t)(eq - item) : strlen(item);
    const char *value = eq != NULL ? eq + 1 : "";
    size_t value_len = strlen(value) + (tp_lists[i].nul ? 1 : 0);
    char *name = malloc(name_len + 1);
    const char **seg = malloc((name_len + 1) * sizeof(*seg));
    if (name == NULL || seg == NULL) {
        free(name);
        free(seg);
        return st->host->error(st->host, err, EI_NOMEM, ENOMEM, NULL,
                               "out of memory"),
               -1;
    }
    memcpy(name, item, name_len);
    name[name_len] = '\0';
    size_t n = 1;
    seg[0] = name;
    if (tp_lists[i].split)
        for (char *p = name; *p != '\0'; p++)
            if (*p == '/') {
                *p = '\0';
                seg[n++] = p + 1;
            }
    char locator[96];
    snprintf(locator, sizeof(locator), "%s[%zu]", tp_lists[i].option, j);
    int rc = sink->emit(sink, seg, n, value, value_len, locator,
                        tp_lists[i].flags, err);
    free(seg);
    free(name);
    return rc;
}

static enum ei_status tp_fetch(void *state, struct ei_sink *sink,
                               const struct ei_deadline *dl,
                               struct ei_error *err)
{
    struct tp_state *st = state;
    const struct ei_host *h = st->host;
    if (st->sleep_ms > 0 && tp_sleep(st, dl) > 0)
        return h->error(h, err, EI_UNAVAILABLE, ETIMEDOUT, NULL,
                        "timed out after %lld ms", st->sleep_ms);
    for (size_t i = 0; i < TP_REFS; i++) {
        for (size_t j = 0; st->lists[i] != NULL && st->lists[i][j] != NULL;
             j++) {
            if (tp_emit_one(st, sink, i, j, st->lists[i][j], err) < 0 &&
                !st->ignore_sink_errors)
                return ei_error_status(err, EI_INTERNAL);
        }
    }
    if (st->fail == EI_OK)
        return EI_OK;
    if (st->fail_quiet)
        return st->fail;
    return h->error(h, err, st->fail, 0, "fail", "simulated failure: %s",
                    st->fail_name);
}

/* "ref+testprov://NAME": every refs item NAME=VALUE, in order. */
static enum ei_status tp_lookup(void *state, const char *ref,
                                struct ei_sink *sink,
                                const struct ei_deadline *dl,
                                struct ei_error *err)
{
    struct tp_state *st = state;
    const struct ei_host *h = st->host;
    if (st->ref_fail != EI_OK)
        return h->error(h, err, st->ref_fail, 0, "ref_fail",
                        "simulated lookup failure: %s", st->ref_fail_name);
    static const char scheme[] = "ref+" TP_NAME "://";
    if (strncmp(ref, scheme, sizeof(scheme) - 1) != 0)
        return h->error(h, err, EI_BADDATA, 0, NULL,
                        "not a " TP_NAME " reference");
    const char *name = ref + sizeof(scheme) - 1;
    size_t len = strlen(name), found = 0;
    for (size_t j = 0;
         st->lists[TP_REFS] != NULL && st->lists[TP_REFS][j] != NULL; j++) {
        const char *item = st->lists[TP_REFS][j];
        if (strncmp(item, name, len) != 0 || item[len] != '=')
            continue;
        found++;
        if (tp_emit_one(st, sink, TP_REFS, j, item, err) < 0)
            return ei_error_status(err, EI_INTERNAL);
    }
    if (found == 0 && !st->refs_empty_ok)
        return h->error(h, err, EI_NOTFOUND, 0, NULL,
                        "no reference of %zu bytes listed", len);
    return EI_OK;
}

static void tp_destroy(void *state)
{
    free(state);
}

#if defined(TESTPROV_SECRET)
EI_PROVIDER_DEFINE(testprov_secret) = {
#elif defined(TESTPROV_SODIUM)
EI_PROVIDER_DEFINE(testprov_sodium) = {
#else
EI_PROVIDER_DEFINE(testprov) = {
#endif
    .abi = EI_PROVIDER_ABI,
    .size = sizeof(struct ei_provider),
    .name = TP_NAME,
    .summary = "a provider for tests, driven by its options",
    .arg_option = TP_ARG,
    .flags = TP_FLAGS,
    .configure = tp_configure,
    .fetch = tp_fetch,
    .lookup = tp_lookup,
    .destroy = tp_destroy,
};
