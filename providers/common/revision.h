/* SPDX-License-Identifier: MIT */
/* Reporting the revision of what a layer read (host.revision), for the
   audit record: as it is, or as "sha256:" and the hex digest of bytes. */
#ifndef EI_PROVIDERS_REVISION_H
#define EI_PROVIDERS_REVISION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <envinject/provider.h>
#include <sodium.h>

/* "sha256:" + 64 hex digits + NUL */
#define EI_REVISION_SHA256_LEN (7 + 2 * crypto_hash_sha256_BYTES + 1)

/* Report text, when the host takes revisions (an older one does not). */
static inline void ei_revision_report(const struct ei_host *h, const char *text)
{
    if (EI_HOST_HAS(h, revision))
        h->revision(h, text);
}

/*
 * Report an ETag as HTTP quotes it ("..." or W/"..."): one a server sent
 * without the quotes gets them, so that the audit record knows it for a
 * content revision (keyed for a secret layer) whatever the server wrote.
 */
static inline void ei_revision_etag(const struct ei_host *h, const char *etag)
{
    if (etag[0] == '"' || strncmp(etag, "W/\"", 3) == 0) {
        ei_revision_report(h, etag);
        return;
    }
    char text[EI_REVISION_MAX + 1];
    int n = snprintf(text, sizeof(text), "\"%s\"", etag);
    /* too long for a revision: none, rather than one cut short */
    if (n > 0 && (size_t)n < sizeof(text))
        ei_revision_report(h, text);
}

/* Report "sha256:" and the hex digest that st ends with. */
static inline void ei_revision_report_sha256(const struct ei_host *h,
                                             crypto_hash_sha256_state *st)
{
    unsigned char d[crypto_hash_sha256_BYTES];
    char text[EI_REVISION_SHA256_LEN] = "sha256:";
    crypto_hash_sha256_final(st, d);
    sodium_bin2hex(text + 7, sizeof(text) - 7, d, sizeof(d));
    ei_revision_report(h, text);
}

/* Whether the host keeps a revision of this fetch (an older one does
   not say: then it may). */
static inline bool ei_revision_wanted(const struct ei_host *h)
{
    return !EI_HOST_HAS(h, revision_wanted) || h->revision_wanted(h);
}

/* Report "sha256:" and the hex digest of len bytes of data, when the
   host wants a revision: hashing a file costs more than parsing it. */
static inline void ei_revision_sha256(const struct ei_host *h, const void *data,
                                      size_t len)
{
    if (!ei_revision_wanted(h))
        return;
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, data, len);
    ei_revision_report_sha256(h, &st);
}

#endif
