/* SPDX-License-Identifier: MIT */
/* The schema and require rules: reading them, defaults, types, and the
   problem list that check reports and run refuses to start with. */
#ifndef EI_SCHEMA_H
#define EI_SCHEMA_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "envinject/provider.h"

struct ei_envset;
struct ei_opt;
struct ei_store;

enum ei_type {
    EI_TYPE_STRING = 0,
    EI_TYPE_INT,
    EI_TYPE_BOOL,
    EI_TYPE_ENUM,
    EI_TYPE_URL,
    EI_TYPE_REGEX
};

/* One schema rule, as envinject.conf(5) describes it. */
struct ei_rule {
    char *key;
    enum ei_type type;
    bool has_min, has_max;
    long long min, max; /* int */
    char **values;      /* enum: NULL-terminated */
    size_t values_n;
    char *pattern; /* regex (and optionally string): POSIX ERE,
              matched against the whole value */
    regex_t re;
    bool re_ok;       /* re was compiled */
    char *def;        /* default value, or NULL */
    bool secret;      /* the key is secret whatever its layer */
    bool required;    /* also listed in require, or required = true */
    bool allow_empty; /* an empty value is set and passes the rule */
    char *where;      /* "envinject.conf:12" */
};

struct ei_schema {
    struct ei_rule *rules;
    size_t rules_n;
    char **require; /* keys that must be present; NULL-terminated */
    size_t require_n;
    size_t require_option_n; /* the last ones of require came from
                                --require (ei_schema_require_option) */
    char *require_where;     /* "envinject.conf:40" */
};

/* Rules of the problems that are failures, not findings (check): a layer
   that could not be read, and any other error that stopped resolution. */
#define EI_RULE_LAYER "layer"
#define EI_RULE_ERROR "error"

/* The place of a problem about a key required with --require. */
#define EI_WHERE_REQUIRE_OPTION "--require on the command line"

/* One finding of validation, or (for check) a failure that stopped it. */
struct ei_problem {
    char *key;           /* NULL for a failure that concerns no key */
    char *rule;          /* "require", "type", "min", "max", "enum", "pattern";
                            EI_RULE_LAYER, EI_RULE_ERROR for failures */
    char *message;       /* never contains the value */
    int layer;           /* layer whose value broke the rule: an index,
                            EI_LAYER_SCHEMA, or EI_LAYER_NONE for a key
                            that is not set */
    const char *locator; /* where that value was set ("dev.env:2"), NULL
                            when no value is involved */
    const char *where;   /* rule location, "envinject.conf:12", or
                            EI_WHERE_REQUIRE_OPTION; may be NULL */
};

struct ei_problems {
    struct ei_problem *v;
    size_t n;
};

/*
 * Read the rules of envinject.conf's schema group, given as the option
 * tree group (opt.h), into schema->rules, which must be empty.  file
 * is the configuration's name as messages show it: each rule's where is
 * "FILE:LINE".  No rule is checked against itself here (see
 * ei_schema_prepare).  -1 with err: EI_BADCONFIG, located at the rule
 * (at the values field for bad values), or EI_NOMEM; the rules read so
 * far stay for ei_schema_clear.
 */
int ei_schema_read(struct ei_schema *schema, const struct ei_opt *group,
                   const char *file, struct ei_error *err);

/* Free the rules (compiled regexes included); the struct itself stays. */
void ei_schema_clear(struct ei_schema *schema);

/* The rule for key, or NULL. */
const struct ei_rule *ei_schema_rule(const struct ei_schema *schema,
                                     const char *key);

/* Add key to the require list as given on the command line (--require):
   its problems are reported there.  -1 when out of memory. */
int ei_schema_require_option(struct ei_schema *schema, const char *key);

/* The keys that the rules and the require list name, sorted, each once
   (*n of them): a malloc'd array of pointers into schema.  NULL when out
   of memory. */
const char **ei_schema_keys(const struct ei_schema *schema, size_t *n);

/* The words a bool value may be (compared without regard to case). */
const char *const *ei_schema_bool_words(size_t *n);

/* Parse a type name ("int"); -1 when unknown. */
int ei_schema_type(const char *name);
const char *ei_schema_type_name(enum ei_type type);

/*
 * Compile patterns and check that each rule is consistent (min <= max,
 * enum has values, regex has a pattern, the default itself passes the
 * rule).  EI_BADCONFIG with the rule's location on failure.
 */
int ei_schema_prepare(struct ei_schema *schema, struct ei_error *err);

/*
 * Add the default of every rule whose key is absent (or unset) in set, as
 * an entry of layer EI_LAYER_SCHEMA whose locator is the rule's location;
 * mark keys that a rule declares secret.  Strings come from store (the
 * secret store for secret keys: pass both).  -1 with err when out of
 * memory.
 */
int ei_schema_apply(const struct ei_schema *schema, struct ei_envset *set,
                    struct ei_store *plain, struct ei_store *secret,
                    struct ei_error *err);

/*
 * Validate set against require and every rule; append each problem found
 * (all of them, not just the first) to out.  Returns the number found, or
 * -1 when out of memory.
 */
long ei_schema_check(const struct ei_schema *schema,
                     const struct ei_envset *set, struct ei_problems *out);

/*
 * Append a problem with a copy of key (may be NULL), rule and message;
 * locator and where are not copied and must outlive ps.  -1 when out of
 * memory (ps unchanged).
 */
int ei_problems_add(struct ei_problems *ps, const char *key, const char *rule,
                    const char *message, int layer, const char *locator,
                    const char *where);

void ei_problems_clear(struct ei_problems *p);

#endif
