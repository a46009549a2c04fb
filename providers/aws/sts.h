/* SPDX-License-Identifier: MIT */
/* The parsers of the temporary-credential sources: STS answers (the AWS
   Query protocol's XML), the JSON of the process credential protocol, and
   the ISO 8601 times both carry.  Pure functions of their input, fuzzed
   (tests/fuzz/fuzz_aws.c). */
#ifndef EI_PROVIDERS_AWS_STS_H
#define EI_PROVIDERS_AWS_STS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <envinject/provider.h>

#include "creds.h"

/* The API version every STS Query request names. */
#define EI_AWS_STS_VERSION "2011-06-15"
/* Room for an STS error message kept for a message (cut by safe_text). */
#define EI_AWS_STS_MESSAGE_LEN 256

/*
 * Parse an ISO 8601 UTC time as AWS writes it ("2024-01-01T00:00:00Z",
 * with optional fractional seconds, "Z" or a "+HH:MM" offset) into
 * seconds since the epoch.  0, or -1 when malformed.
 */
int ei_aws_parse_time(const char *s, size_t n, int64_t *out);

/*
 * Walk an XML document strictly: one root element, an optional XML
 * declaration, comments, attributes (skipped), no DOCTYPE, no CDATA, no
 * processing instructions, end tags matching, at most
 * EI_AWS_XML_DEPTH levels.  For each element that holds no element, call
 * leaf with the local names (prefix dropped) from the root down and its
 * text, entities decoded (the five predefined ones and character
 * references).  scratch has room for len + 1 bytes and receives decoded
 * text (secret memory for a secret answer).  Returns 0, the first
 * non-zero value leaf returned, or -1 when the document is malformed.
 */
#define EI_AWS_XML_DEPTH 16
struct ei_aws_xml_name {
    const char *s;
    size_t n;
};
typedef int (*ei_aws_xml_leaf)(void *ctx, const struct ei_aws_xml_name *path,
                               size_t depth, const char *text, size_t len);
int ei_aws_xml_walk(const char *buf, size_t len, char *scratch,
                    ei_aws_xml_leaf leaf, void *ctx);

/*
 * The credentials of a 200 answer to STS operation op ("AssumeRole",
 * "AssumeRoleWithWebIdentity"): <opResponse><opResult><Credentials> with
 * AccessKeyId, SecretAccessKey, SessionToken and Expiration, each once.
 * Fills out (secret memory, expires set); EI_OK, EI_BADDATA with err
 * naming locator, or EI_NOMEM.
 */
enum ei_status ei_aws_sts_parse_creds(const struct ei_host *host,
                                      const char *op, const char *body,
                                      size_t len, const char *locator,
                                      struct ei_aws_creds *out,
                                      struct ei_error *err);

/*
 * The Code and Message of an STS error answer
 * (<ErrorResponse><Error><Code>...).  Returns 1 with code (and message,
 * "" when absent) filled, else 0 (code "HTTP status").
 */
int ei_aws_sts_error(const char *body, size_t len, long status, char *code,
                     size_t code_len, char *message, size_t message_len);

/*
 * The output of a credential_process: a JSON object with "Version": 1,
 * AccessKeyId, SecretAccessKey, optional SessionToken and Expiration.
 * Fills out (expires 0 without an Expiration); EI_OK, EI_BADDATA (err
 * says what is wrong, never a value) or EI_NOMEM.
 */
enum ei_status ei_aws_parse_process(const struct ei_host *host,
                                    const char *body, size_t len,
                                    const char *locator,
                                    struct ei_aws_creds *out,
                                    struct ei_error *err);

#endif
