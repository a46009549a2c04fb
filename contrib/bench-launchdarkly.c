/* SPDX-License-Identifier: MIT */
/*
 * Benchmark of the launchdarkly evaluator (not a test): 1,000 flags of 10
 * rules each, evaluated for one context, CPU time per pass.  Every rule has
 * two clauses: the first is one of a mix of operators (startsWith,
 * contains, a number comparison, semver, a regular expression, a segment
 * with included, excluded and a rule), the second an "in"; the first never
 * matches, so each pass evaluates every operator of the mix 1,000 times or
 * more and walks every rule of every flag, then buckets the context with
 * SHA-1 for the fallthrough rollout: the most work a flag can ask.
 *
 * It prints three figures, each the median of its passes:
 *   parse     ld_data_load() of the document's text (the scan, the
 *             compilation of every flag and segment) and ld_data_free();
 *   evaluate  ld_eval_new(), every flag, ld_eval_free(): what the issue's
 *             budget of 10 ms is about;
 *   the size of the text.
 * With an argument, it also writes the document's text to that file (for
 * envinject's own run in contrib/bench-launchdarkly.sh).  Exits 1 when the
 * median evaluation passes 10 ms.
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

#define FLAGS 1000
#define RULES 10
#ifndef PASSES
#define PASSES 50
#endif

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
                                            "variation", 1, "clauses", c2, c1));
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

static double median(double *took, int n)
{
    qsort(took, (size_t)n, sizeof(took[0]), cmp);
    return took[n / 2];
}

int main(int argc, char **argv)
{
    json_t *built = build();
    char *text = json_dumps(built, JSON_COMPACT);
    json_decref(built);
    if (text == NULL) {
        fprintf(stderr, "bench: out of memory\n");
        return 1;
    }
    size_t text_len = strlen(text);
    if (argc > 1) {
        FILE *f = fopen(argv[1], "w");
        if (f == NULL || fwrite(text, 1, text_len, f) != text_len ||
            fclose(f) != 0) {
            perror(argv[1]);
            return 1;
        }
    }
    char why[LD_WHY_LEN];
    bool nomem;
    double parse[PASSES], took[PASSES];
    struct ld_data *data = NULL;
    for (int p = 0; p < PASSES; p++) {
        double t0 = cpu_ms();
        struct ld_data *d =
            ld_data_load(text, text_len, why, sizeof(why), &nomem);
        if (d == NULL) {
            fprintf(stderr, "bench: %s\n", why);
            return 1;
        }
        if (p + 1 < PASSES)
            ld_data_free(d);
        else
            data = d;
        parse[p] = cpu_ms() - t0;
    }
    json_t *ctx =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s}", "kind", "user", "key",
                  "user-42", "country", "us", "email", "ann@example.com",
                  "name", "Ann", "age", 30, "version", "2.3.4");
    size_t values = 0;
    for (int p = 0; p < PASSES; p++) {
        double t0 = cpu_ms();
        struct ld_eval *ev = ld_eval_new(data, ctx, why, sizeof(why), &nomem);
        if (ev == NULL) {
            fprintf(stderr, "bench: %s\n", why);
            return 1;
        }
        for (size_t i = 0; i < ld_data_flag_count(data); i++) {
            bool deleted;
            double version;
            const char *key = ld_data_flag(data, i, &deleted, &version);
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
    double best = took[0];
    for (int p = 1; p < PASSES; p++)
        best = took[p] < best ? took[p] : best;
    double eval_ms = median(took, PASSES);
    printf("%d flags x %d rules, one context: %zu values, %zu bytes of "
           "JSON\n",
           FLAGS, RULES, values, text_len);
    printf("  parse (ld_data_load): median %.2f ms CPU\n",
           median(parse, PASSES));
    printf("  evaluate (all flags): median %.2f ms CPU, min %.2f ms "
           "(%d passes)\n",
           eval_ms, best, PASSES);
    json_decref(ctx);
    ld_data_free(data);
    free(text);
    return eval_ms < 10.0 ? 0 : 1;
}
