/* SPDX-License-Identifier: MIT */
/* What every AWS provider shares: the region, the endpoint, the credential
   chain of the AWS SDKs, and the signed JSON 1.1 call with its error
   mapping and throttling back-off. */
#ifndef EI_PROVIDERS_AWS_CREDS_H
#define EI_PROVIDERS_AWS_CREDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <envinject/provider.h>

/* Room for a description of where credentials came from. */
#define EI_AWS_SOURCE_LEN 256
/* Room for an AWS error code such as "ThrottlingException". */
#define EI_AWS_CODE_LEN 96

/* One AWS service: a JSON 1.1 API, or a REST one (ei_aws_request). */
struct ei_aws_service {
    const char *name;          /* signing name and host prefix: "ssm" */
    const char *target_prefix; /* X-Amz-Target prefix: "AmazonSSM." */
    const char *endpoint_env;  /* "AWS_ENDPOINT_URL_SSM" */
};

/*
 * Credentials, every string in secret memory.  source says where they
 * came from ("the environment (AWS_ACCESS_KEY_ID)") and is the only part
 * that may appear in a message.
 */
struct ei_aws_creds {
    char *access_key_id;
    char *secret_access_key;
    char *session_token; /* NULL for long-term credentials */
    char source[EI_AWS_SOURCE_LEN];
    /* when they expire, in seconds since the epoch; 0: never (long-term
       keys, a process or variable that named no expiry) */
    int64_t expires;
};

/* Temporary credentials are fetched anew this long before they expire
   (the JavaScript SDK's margin: a request signed just before the end
   must still arrive in time). */
#define EI_AWS_REFRESH_MARGIN_S 300

struct ei_aws;

/*
 * Configure (no I/O): read the layer options region, endpoint and profile
 * and the environment variables that choose region, endpoint and
 * credential source; open the service's HTTP client when the endpoint is
 * known already.  EI_BADCONFIG with err for a malformed option.  *out is
 * freed with ei_aws_close.
 */
enum ei_status ei_aws_open(const struct ei_host *host,
                           const struct ei_aws_service *svc,
                           struct ei_aws **out, struct ei_error *err);

/*
 * As ei_aws_open, for a service whose host prefix is not its signing
 * name (host_prefix "appconfigdata", signed as "appconfig"; NULL: the
 * name) or whose option "profile" means something else (profile_opt:
 * the option that names the shared-file profile; NULL: "profile").  Both
 * strings must outlive *out.
 */
enum ei_status ei_aws_open_as(const struct ei_host *host,
                              const struct ei_aws_service *svc,
                              const char *host_prefix, const char *profile_opt,
                              struct ei_aws **out, struct ei_error *err);

/*
 * Resolve the region and the credentials, in the order of the AWS SDKs:
 * AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN);
 * web identity (AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE, through STS
 * AssumeRoleWithWebIdentity); the profile (layer option, then
 * AWS_PROFILE, then "default") of the shared credentials and config
 * files: role_arn (STS AssumeRole with the credentials of source_profile
 * or credential_source, or web_identity_token_file), static keys,
 * credential_process; the container endpoint
 * (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI); EC2 instance
 * metadata (IMDSv2) unless AWS_EC2_METADATA_DISABLED=true.  Later calls
 * return at once while the credentials are good for more than
 * EI_AWS_REFRESH_MARGIN_S seconds, and run the chain again after.
 * EI_DENIED when no source gives credentials or a source is broken,
 * EI_BADCONFIG when no region is set or a profile is inconsistent,
 * EI_UNAVAILABLE when a credential endpoint or STS does not answer in
 * time.
 */
enum ei_status ei_aws_resolve(struct ei_aws *a, const struct ei_deadline *dl,
                              struct ei_error *err);

/* After ei_aws_resolve: the credentials (until the next resolve), the
   region, the endpoint. */
const struct ei_aws_creds *ei_aws_credentials(const struct ei_aws *a);
const char *ei_aws_region(const struct ei_aws *a);
const char *ei_aws_endpoint(const struct ei_aws *a);
/* The service's HTTP client (NULL before the endpoint is known), for
   host->http_header after ei_aws_request. */
struct ei_http *ei_aws_http(const struct ei_aws *a);

/*
 * One JSON 1.1 call: resolve if needed, sign, send, and retry throttling
 * with back-off and jitter inside the deadline (the HTTP engine retries
 * 5xx and 429 itself).  locator names what was asked (a secret id, a
 * path) in errors.  EI_OK with resp holding a 200 answer (free it with
 * ei_aws_response_free); else the status the AWS error code maps to:
 * EI_NOTFOUND (ResourceNotFoundException, ParameterNotFound), EI_DENIED
 * (signature, unknown or expired credentials, access denied, KMS),
 * EI_UNAVAILABLE (throttled until the deadline, 5xx), EI_BADCONFIG
 * (ValidationException and the like), EI_BADDATA (BadRequestException,
 * with AWS's message, and anything else).  With
 * secret set, the response body lives in secret memory.
 */
enum ei_status ei_aws_call(struct ei_aws *a, const char *operation,
                           const char *body, size_t body_len, bool secret,
                           const char *locator, const struct ei_deadline *dl,
                           struct ei_http_response *resp, struct ei_error *err);

/*
 * One signed request of a REST protocol (AppConfig Data): as ei_aws_call,
 * with the method, the path, the query (encoded as SigV4 wants it, or
 * NULL) and extra header lines (signed, as "Name: value") given, and
 * EI_HTTP_* flags for the HTTP engine.  The error code comes from
 * X-Amzn-ErrorType when the answer has it, else from the body.  EI_OK
 * with resp holding any 2xx answer; errors as for ei_aws_call.
 */
enum ei_status ei_aws_request(struct ei_aws *a, const char *method,
                              const char *path, const char *query,
                              const char *const *extra, size_t extra_n,
                              const char *body, size_t body_len,
                              unsigned http_flags, const char *locator,
                              const struct ei_deadline *dl,
                              struct ei_http_response *resp,
                              struct ei_error *err);

void ei_aws_response_free(struct ei_aws *a, struct ei_http_response *resp);

/*
 * Record the error an AWS error code stands for (as ei_aws_call does),
 * for errors reported inside a 200 answer (BatchGetSecretValue).  status
 * is the HTTP status, 0 when there is none; message (may be NULL) is
 * AWS's text, shown only for codes where it helps (access denied), cut
 * and cleaned to one line.  Returns the status recorded.
 */
enum ei_status ei_aws_fail(const struct ei_aws *a, const char *code,
                           long status, const char *message,
                           const char *locator, struct ei_error *err);

/* Wipe and free; the HTTP clients are the host's to close.  NULL is
   fine. */
void ei_aws_close(struct ei_aws *a);

/*
 * The error code of an AWS error response: "__type" (or "code"), the part
 * after the last '#' and before any ':', as botocore reads it; else
 * "HTTP <status>".  Writes at most code_len bytes including the NUL;
 * returns 1 when the body named a code, 0 when the status was used.
 */
int ei_aws_error_code(const char *body, size_t len, long status, char *code,
                      size_t code_len);

/*
 * Find key in the INI text of a shared credentials file (config false:
 * section "[PROFILE]") or config file (config true: "[profile PROFILE]",
 * or "[default]" for the profile "default").  Keys compare without case;
 * the last occurrence wins.  With key NULL, tells whether the section
 * exists.  Returns 1 with *val, *val_len (into buf, trimmed) set, or 0.
 */
int ei_aws_ini_find(const char *buf, size_t len, bool config,
                    const char *profile, const char *key, const char **val,
                    size_t *val_len);

/*
 * Parse a credentials document of the container endpoint or of instance
 * metadata (imds true: "Code" must be "Success" when present, and Token
 * and Expiration are required).  Fills out with copies in secret memory
 * (host->secret_alloc); returns EI_OK, EI_DENIED (an error document),
 * EI_BADDATA (malformed) or EI_NOMEM, with err naming locator.
 */
enum ei_status ei_aws_parse_creds(const struct ei_host *host, const char *body,
                                  size_t len, bool imds, const char *locator,
                                  struct ei_aws_creds *out,
                                  struct ei_error *err);

/* Whether n bytes of s make an access key id (letters and digits, at
   most 128), or a secret key or session token (printable ASCII without
   blanks). */
bool ei_aws_key_id_valid(const char *s, size_t n);
bool ei_aws_token_valid(const char *s, size_t n);

/* Wipe and free the strings of creds (not creds itself). */
void ei_aws_creds_clear(const struct ei_host *host, struct ei_aws_creds *creds);

#endif
