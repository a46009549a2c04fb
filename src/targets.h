/* SPDX-License-Identifier: MIT */
/* Values written for other programs' readers: Docker's --env-file,
   systemd's EnvironmentFile=, and YAML (flat files and Kubernetes
   manifests).  Each writer either writes what its reader reads back as
   the same bytes, or refuses with EI_BADDATA naming the key. */
#ifndef EI_TARGETS_H
#define EI_TARGETS_H

#include <stdbool.h>
#include <stddef.h>

#include "envinject/provider.h"
#include "obuf.h"

/* "KEY=value\n" for docker run --env-file. */
int ei_target_docker(struct obuf *b, const char *key, const char *val,
                     size_t len, struct ei_error *err);

/* "KEY=\"value\"\n" for systemd's EnvironmentFile=. */
int ei_target_systemd(struct obuf *b, const char *key, const char *val,
                      size_t len, struct ei_error *err);

/* A YAML mapping key and ": ": plain where every YAML reader takes it for
   that string, else double-quoted (-1 with err when it is not UTF-8). */
int ei_target_yaml_key(struct obuf *b, const char *key, struct ei_error *err);

/* s as a YAML double-quoted scalar; key names the value in an error. */
int ei_target_yaml_string(struct obuf *b, const char *key, const char *s,
                          size_t n, struct ei_error *err);

/* s in base64 (RFC 4648, padded), double-quoted: a Secret's data. */
int ei_target_base64(struct obuf *b, const char *s, size_t n);

/* A Kubernetes object name: an RFC 1123 subdomain (lowercase letters,
   digits, '-' and '.', alphanumeric at both ends, at most 253). */
bool ei_target_k8s_name_ok(const char *name);

/* A ConfigMap or Secret data key: [-._a-zA-Z0-9]+, at most 253, not "."
   and not starting with "..". */
bool ei_target_k8s_key_ok(const char *key);

#endif
