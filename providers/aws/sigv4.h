/* SPDX-License-Identifier: MIT */
/* AWS Signature Version 4 for every AWS provider: a pure function of its
   inputs (no clock, no randomness, no I/O), so that the AWS test-suite
   vectors check it byte for byte at every step. */
#ifndef EI_PROVIDERS_AWS_SIGV4_H
#define EI_PROVIDERS_AWS_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define EI_SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define EI_SIGV4_KEY_LEN   32 /* an HMAC-SHA256 or SHA-256 output */
#define EI_SIGV4_HEX_LEN   64 /* the same in lowercase hex */
#define EI_SIGV4_DATE_LEN  16 /* YYYYMMDD'T'HHMMSS'Z' */
#define EI_SIGV4_DAY_LEN   8  /* YYYYMMDD */

/*
 * A request as it will be sent.  path is the absolute path without the
 * query ("" means "/"); query is the query string without '?' (NULL or ""
 * for none).  headers are headers_n "Name: value" (or "Name:value")
 * lines, every one of them signed; they must include Host and X-Amz-Date.
 * payload is the exact body (NULL with payload_len 0 for none).
 */
struct ei_sigv4_request {
    const char *method;
    const char *path;
    const char *query;
    const char *const *headers;
    size_t headers_n;
    const void *payload;
    size_t payload_len;
};

/* The four keys of the derivation (the last one signs). */
struct ei_sigv4_keys {
    unsigned char date[EI_SIGV4_KEY_LEN];
    unsigned char region[EI_SIGV4_KEY_LEN];
    unsigned char service[EI_SIGV4_KEY_LEN];
    unsigned char signing[EI_SIGV4_KEY_LEN];
};

/*
 * Every intermediate of one signature, kept so tests can compare each
 * step.  Strings are malloc'd and NUL-terminated; ei_sigv4_free wipes
 * the keys and frees the strings.
 */
struct ei_sigv4 {
    char *canonical_request;
    char *signed_headers; /* "host;x-amz-date" */
    char payload_hash[EI_SIGV4_HEX_LEN + 1];
    char request_hash[EI_SIGV4_HEX_LEN + 1]; /* of the canonical request */
    char *scope; /* DAY/REGION/SERVICE/aws4_request */
    char *string_to_sign;
    struct ei_sigv4_keys keys;
    char signature[EI_SIGV4_HEX_LEN + 1];
    char *authorization; /* the value of the Authorization header */
};

/* What a signature needs to know of the credentials. */
struct ei_sigv4_creds {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /* NULL or "" for long-term credentials */
};

/*
 * Format t (seconds since the epoch) as an X-Amz-Date value into out,
 * which has room for EI_SIGV4_DATE_LEN + 1 bytes.  -1 when t is outside
 * the years 1970-9999.
 */
int ei_sigv4_amz_date(time_t t, char *out);

/*
 * Percent-encode len bytes of in as SigV4 wants: everything except
 * A-Z a-z 0-9 - _ . ~ (and '/' when keep_slash) becomes %XX in upper-case
 * hex.  Returns a malloc'd string, NULL when out of memory.
 */
char *ei_sigv4_uri_encode(const char *in, size_t len, bool keep_slash);

/*
 * Step 1: the canonical request, and the signed-header list.  Both are
 * malloc'd (the caller frees them).  Returns 0, or -1 with errno EINVAL
 * for a malformed request (no method, a path not starting with '/', a
 * header line without ':' or with an empty or invalid name, a CR or LF
 * in a header, a malformed %XX in the query) or ENOMEM.
 */
int ei_sigv4_canonical_request(const struct ei_sigv4_request *req, char **creq,
                               char **signed_headers);

/*
 * Step 4: the signing key from the secret key, the day (YYYYMMDD), the
 * region and the service.  The caller wipes out when done.
 */
void ei_sigv4_signing_key(const char *secret, size_t secret_len,
                          const char *day, const char *region,
                          const char *service, struct ei_sigv4_keys *out);

/*
 * All steps.  amz_date is the X-Amz-Date value the request carries;
 * region and service make the scope.  Returns 0 with out filled, or -1
 * with errno EINVAL (malformed request or date) or ENOMEM; out is then
 * cleared.  Free out with ei_sigv4_free in either case.
 */
int ei_sigv4_sign(const struct ei_sigv4_request *req, const char *amz_date,
                  const char *region, const char *service,
                  const struct ei_sigv4_creds *creds, struct ei_sigv4 *out);

void ei_sigv4_free(struct ei_sigv4 *s);

/*
 * The headers of a signed request: "Host: host", "X-Amz-Date: amz_date",
 * "X-Amz-Security-Token: token" when creds carry one (signed, as the
 * services require), the extra lines in their order, and last
 * "Authorization: ...".  The result is a malloc'd NULL-terminated array
 * of malloc'd lines for ei_http_request; free it with
 * ei_sigv4_headers_free, which wipes every line.  NULL with errno set as
 * for ei_sigv4_sign.
 */
char **ei_sigv4_headers(const char *method, const char *host, const char *path,
                        const char *query, const char *const *extra,
                        size_t extra_n, const void *payload, size_t payload_len,
                        const char *amz_date, const char *region,
                        const char *service,
                        const struct ei_sigv4_creds *creds);

void ei_sigv4_headers_free(char **headers);

#endif
