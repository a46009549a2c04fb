/* SPDX-License-Identifier: MIT */
/* LaunchDarkly's flag evaluation, as its server-side SDKs do it, over the
   data of GET /sdk/latest-all and one context: usable without a host, so
   that it can be judged alone against the SDK's own answers. */
#ifndef EI_LD_EVAL_H
#define EI_LD_EVAL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* Room for the reason of an error or of a missing value. */
#define LD_WHY_LEN 256

struct ld_data;

/*
 * Read a latest-all body (len bytes): an object whose "flags" member is
 * an object of flags, "segments" (optional) an object of segments; other
 * members are ignored, as the SDKs do.  Numbers are read as doubles, as
 * JavaScript reads them.  The flags and segments are compiled for
 * evaluation once, here.  Returns the data (free it with ld_data_free),
 * or NULL with why filled (the shape of the problem, never a value);
 * *nomem tells an allocation failure apart.
 */
struct ld_data *ld_data_load(const char *buf, size_t len, char *why,
                             size_t why_len, bool *nomem);
void ld_data_free(struct ld_data *data);

/* The flags of data, in the order of the document (a repeated name in
   the place of its first, with its last value, as jansson reads it). */
size_t ld_data_flag_count(const struct ld_data *data);

/* Flag i's key (owned by data); *deleted whether it is marked deleted,
 *version its version (0 when it has none). */
const char *ld_data_flag(const struct ld_data *data, size_t i, bool *deleted,
                         double *version);

struct ld_eval;

/*
 * Whether context is one the SDKs accept (see ld_eval_new): 0, or -1 with
 * why filled.  No library is loaded: for checking options early.
 */
int ld_context_check(const json_t *context, char *why, size_t why_len);

/*
 * An evaluator for one context over data (borrowed: it must outlive the
 * evaluator).  context is a context as the SDKs take it: a single kind
 * {"kind": K, "key": KEY, attributes...} or {"kind": "multi", K1: {...},
 * K2: {...}}.  NULL with why filled when the context is not valid,
 * libcrypto cannot be loaded, or memory ran out (*nomem set).
 */
struct ld_eval *ld_eval_new(const struct ld_data *data, const json_t *context,
                            char *why, size_t why_len, bool *nomem);
void ld_eval_free(struct ld_eval *ev);

enum ld_outcome {
    LD_VALUE,   /* variation and value set */
    LD_NOVALUE, /* off (or a prerequisite failed) without an offVariation:
                   the caller's default */
    LD_ERROR    /* cannot be evaluated faithfully: why says why */
};

struct ld_result {
    enum ld_outcome outcome;
    long variation;      /* LD_VALUE: the index into variations */
    const json_t *value; /* LD_VALUE: borrowed from the data */
    char why[LD_WHY_LEN];
};

/*
 * Evaluate the flag stored under key (not deleted).  LD_ERROR for a flag
 * that is missing or deleted too.  LD_ERROR also when memory ran out
 * (why says so).
 */
void ld_eval_flag(struct ld_eval *ev, const char *key, struct ld_result *res);

/*
 * The bucket of a hash input ("flagKey.salt.value" or "seed.value"):
 * the first 15 hex digits of its SHA-1 over 0xFFFFFFFFFFFFFFF, in [0, 1].
 * 0, or -1 when libcrypto failed.
 */
int ld_bucket_of(const char *input, size_t len, double *out);

#endif
