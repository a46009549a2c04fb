/* SPDX-License-Identifier: MIT */
/*
 * Benchmark of the launchdarkly evaluator (not a test): 1,000 flags of 10
 * rules each, evaluated for one context, CPU time per pass.  Every rule has
 * two clauses over a mix of operators (in, startsWith, contains, a number
 * comparison, semver, a regular expression, a segment) and none matches,
 * so each pass walks every rule of every flag, then buckets the context
 * with SHA-1 for the fallthrough rollout: the most work a flag can ask.
 *
 * Run from the top of the source tree: contrib/bench-launchdarkly.sh
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "launchdarkly/eval.h"

#define FLAGS  1000
#define RULES  10
#define PASSES 50

static json_t *clause(const char *attr, const char *op, json_t *values)
{
    return json_pack("{s:s, s:s, s:o, s:b}", "attribute", attr, "op", op,
                     "values", values, "negate", 0);
}

static json_t *build(void)
{
    json_t *flags = json_object();
    for (int f = 0; f < FLAGS; f++) {
        json_t *rules = json_array();
        for (int r = 0; r < RULES; r++) {
            json_t *c2;
            switch (r % 6) {
            case 0:
                c2 = clause("email", "startsWith", json_pack("[s]", "zz"));
                break;
            case 1:
                c2 = clause("name", "contains", json_pack("[s]", "xyz"));
                break;
            case 2:
                c2 = clause("age", "greaterThan", json_pack("[i]", 99));
                break;
            case 3:
                c2 = clause("version", "semVerLessThan",
                            json_pack("[s]", "1.0.0"));
                break;
            case 4:
                c2 = clause("email", "matches",
                            json_pack("[s]", "^[a-c]+@corp\\.(com|net)$"));
                break;
            default:
                c2 = clause("", "segmentMatch", json_pack("[s]", "beta"));
                break;
            }
            json_t *c1 =
                clause("country", "in", json_pack("[s,s]", "de", "fr"));
            json_array_append_new(rules,
                                  json_pack("{s:s, s:i, s:[o,o]}", "id", "r",
                                            "variation", 1, "clauses", c1, c2));
        }
        char key[32];
        snprintf(key, sizeof(key), "flag-%04d", f);
        json_object_set_new(
            flags, key,
            json_pack("{s:s, s:b, s:s, s:[b,b], s:i, s:o, s:{s:{s:[{s:i,s:i},"
                      "{s:i,s:i}]}}}",
                      "key", key, "on", 1, "salt", "salt", "variations", 0, 1,
                      "offVariation", 0, "rules", rules, "fallthrough",
                      "rollout", "variations", "variation", 0, "weight", 50000,
                      "variation", 1, "weight", 50000));
    }
    json_t *segs =
        json_pack("{s:{s:s, s:s, s:[s], s:[], s:[{s:[{s:s,s:s,s:[s],s:b}]}]}}",
                  "beta", "key", "beta", "salt", "sb", "included", "someone",
                  "excluded", "rules", "clauses", "attribute", "plan", "op",
                  "in", "values", "gold", "negate", 0);
    return json_pack("{s:o, s:o}", "flags", flags, "segments", segs);
}

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(void)
{
    json_t *data = build();
    json_t *ctx =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s}", "kind", "user", "key",
                  "user-42", "country", "us", "email", "ann@example.com",
                  "name", "Ann", "age", 30, "version", "2.3.4");
    double took[PASSES];
    size_t values = 0;
    for (int p = 0; p < PASSES; p++) {
        double t0 = cpu_ms();
        char why[LD_WHY_LEN];
        bool nomem;
        struct ld_eval *ev = ld_eval_new(data, ctx, why, sizeof(why), &nomem);
        if (ev == NULL) {
            fprintf(stderr, "bench: %s\n", why);
            return 1;
        }
        const char *key;
        json_t *flag;
        json_object_foreach(json_object_get(data, "flags"), key, flag)
        {
            struct ld_result r;
            ld_eval_flag(ev, key, &r);
            if (r.outcome != LD_VALUE) {
                fprintf(stderr, "bench: %s: %s\n", key, r.why);
                return 1;
            }
            values += p == 0;
        }
        ld_eval_free(ev);
        took[p] = cpu_ms() - t0;
    }
    qsort(took, PASSES, sizeof(took[0]), cmp);
    printf("%d flags x %d rules, one context: %zu values; CPU per pass: "
           "min %.2f ms, median %.2f ms, max %.2f ms (%d passes)\n",
           FLAGS, RULES, values, took[0], took[PASSES / 2], took[PASSES - 1],
           PASSES);
    json_decref(ctx);
    json_decref(data);
    return took[PASSES / 2] < 10.0 ? 0 : 1;
}
