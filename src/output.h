/* SPDX-License-Identifier: MIT */
/* Writers for print, explain, check and diff: the one place where values
   become text for people, and so the one redaction point. */
#ifndef EI_OUTPUT_H
#define EI_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "envinject/provider.h"
#include "obuf.h"

struct ei_resolution;
struct ei_entry;

enum ei_format {
    EI_FMT_DOTENV = 0,
    EI_FMT_ENV,
    EI_FMT_SHELL,
    EI_FMT_JSON,
    EI_FMT_GITHUB,
    EI_FMT_TABLE,
    EI_FMT_TEXT, /* check and diff */
    EI_FMT_DOCKER,
    EI_FMT_SYSTEMD,
    EI_FMT_K8S,
    EI_FMT_YAML,
    EI_FMT_AUDIT /* print: the audit record (audit.h) */
};

/* Parse a format name; -1 when unknown. */
int ei_format_parse(const char *name);
const char *ei_format_name(enum ei_format fmt);

/* The text shown for a value in place of a secret. */
#define EI_REDACTED "<secret>"

/*
 * The value to show for e: its text when reveal is true or e is not
 * secret, EI_REDACTED otherwise (*len set accordingly).
 */
const char *ei_output_value(const struct ei_entry *e, bool reveal, size_t *len);

struct ei_print_opts {
    enum ei_format format;
    bool origin;
    bool reveal;
    const char *const *keys; /* only these (in this order), or NULL: all */
    size_t keys_n;
    /* github with reveal: the assignments go here (the $GITHUB_ENV file),
       the ::add-mask:: commands to out; NULL: both to out, masks first */
    FILE *github_env;
    const char *name; /* k8s: the objects' name (checked here) */
};

/*
 * print: every resolved key (sorted), or the keys named.  A named key that
 * is not resolved is an error (EI_NOTFOUND, nothing printed).  The env
 * format refuses values with a newline, dotenv those that sh and dotenv
 * readers would not read back alike, docker, systemd, k8s and yaml those
 * that their readers would not (EI_BADDATA naming the key).  Without
 * reveal, the machine formats leave secrets out (dotenv, shell, docker,
 * systemd and yaml as a comment, k8s leaves out the Secret) and table
 * shows EI_REDACTED; with reveal, github writes an
 * ::add-mask:: line for each line of every secret before the assignments.
 * Writes to out only once everything is checked.  Returns the number of
 * secrets left out, -1 with err.
 */
long ei_output_print(FILE *out, const struct ei_resolution *r,
                     const struct ei_print_opts *o, struct ei_error *err);

/* A value as print --format=dotenv writes it after "KEY=": -1 with err
   (EI_BADDATA naming key) for a value no dotenv quoting keeps alike. */
int ei_output_dotenv_value(struct obuf *b, const char *key, const char *s,
                           size_t n, struct ei_error *err);

/* explain: for each key, every layer that had it, in order, the value
   each gave (redacted), which one won and the final value. */
int ei_output_explain(FILE *out, const struct ei_resolution *r,
                      const char *const *keys, size_t keys_n, bool reveal,
                      struct ei_error *err);

/*
 * check: the problems of r->problems, in EI_FMT_TEXT, JSON or GITHUB, each
 * with the place to look: the file and line that set the value when it is
 * a file, else the rule's place in the configuration.
 */
int ei_output_check(FILE *out, const struct ei_resolution *r,
                    enum ei_format fmt, struct ei_error *err);

/*
 * check when resolution failed with nothing to validate (no resolution):
 * the failure as the one problem, of rule EI_RULE_ERROR.  config_dir (the
 * configuration's folder, may be NULL) is where relative locators start.
 */
int ei_output_check_failure(FILE *out, const struct ei_error *failure,
                            const char *config_dir, enum ei_format fmt,
                            struct ei_error *err);

struct ei_audit_record;
struct ei_audit_key;

struct ei_diff_opts {
    enum ei_format format; /* EI_FMT_TEXT or EI_FMT_JSON */
    bool reveal;
    const char *const *expect; /* globs of the keys that may differ, or NULL */
};

/*
 * diff: keys only in a, only in b, and values that differ (secrets are
 * compared, never shown unless o->reveal); a key that o->expect matches
 * is marked expected when its values differ.  Returns the number of the
 * differences that fail --exit-code (the unexpected ones and every key in
 * one environment only), -1 on error.
 */
long ei_output_diff(FILE *out, const struct ei_resolution *a,
                    const char *name_a, const struct ei_resolution *b,
                    const char *name_b, const struct ei_diff_opts *o,
                    struct ei_error *err);

/*
 * diff --against: the resolution r of environment name against the audit
 * record rec, whose hashes the caller checked were made with key k: keys
 * only in the record, only in r, and keys whose values' keyed hashes
 * differ, shown with the layers that gave them; never a value (o->reveal
 * plays no part).  Returns what ei_output_diff does.
 */
long ei_output_against(FILE *out, const struct ei_resolution *r,
                       const char *name, const struct ei_audit_record *rec,
                       const struct ei_audit_key *k,
                       const struct ei_diff_opts *o, struct ei_error *err);

#endif
