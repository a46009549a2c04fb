/* SPDX-License-Identifier: MIT */
/* Reading audit records (JSON Lines, one record a line, as run --audit
   writes them) for diff --against: the last line is the record. */
#ifndef EI_AUDITREAD_H
#define EI_AUDITREAD_H

#include <stddef.h>

#include "audit.h"
#include "envinject/provider.h"

/* The record format this envinject reads. */
#define EI_AUDIT_RECORD_VERSION 1
/* The largest record file read (an audit log of many starts included). */
#define EI_AUDIT_FILE_MAX ((size_t)64 << 20)

/* What messages call the file "-" (standard input). */
#define EI_AUDIT_STDIN_NAME "standard input"

/* One key of a record: its name, the layer that gave it, its value's
   keyed hash (64 lowercase hex digits). */
struct ei_audit_entry {
    char *name;
    char *layer;
    char hash[EI_AUDIT_HASH_HEX];
};

struct ei_audit_record {
    size_t line; /* its line in the file, from 1 */
    char key_id[EI_AUDIT_ID_HEX];
    char *environment; /* "" when the record names none */
    char *time;
    struct ei_audit_entry *keys; /* sorted by name, no name twice */
    size_t keys_n;
    /* the keys the start's command line unset (run -u): NULL-terminated,
       empty when the record has none */
    char **unset;
};

/*
 * Parse the text of a record file (len bytes, no NUL needed): JSON Lines,
 * one record a line, a final newline allowed.  The last line must be a
 * record of version EI_AUDIT_RECORD_VERSION with every field of the
 * format (members this version does not know are ignored), and is
 * returned; earlier lines are not read (an audit log's line torn by a full
 * disk does not spoil the records after it).  name is the file for messages.  NULL with err on failure:
 * EI_BADDATA with locator "NAME:LINE" and a text naming the field (never
 * the text of the line), EI_NOMEM.  Free the result with
 * ei_audit_record_free.
 */
struct ei_audit_record *ei_audit_record_parse(const char *text, size_t len,
                                              const char *name,
                                              struct ei_error *err);

/*
 * ei_audit_record_parse on the file at path, or on standard input when
 * path is "-".  Errors as ei_readfile gives them (EI_NOTFOUND, 66, for a
 * missing file; EI_BADDATA over EI_AUDIT_FILE_MAX) and as the parser's.
 */
struct ei_audit_record *ei_audit_record_read(const char *path,
                                             struct ei_error *err);

/* The entry of key name in r, or NULL. */
const struct ei_audit_entry *
ei_audit_record_get(const struct ei_audit_record *r, const char *name);

void ei_audit_record_free(struct ei_audit_record *r);

#endif
