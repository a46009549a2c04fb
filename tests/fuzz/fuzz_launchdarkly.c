/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the latest-all reader and LaunchDarkly's evaluator
   (providers/launchdarkly/eval.h) on arbitrary bytes, judged by jansson:
   the reader must take exactly the documents jansson takes (with
   "flags" an object), see the same flags in the same order, and every
   value it gives must be the variation jansson reads at that index; every
   flag is evaluated for a few contexts. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "launchdarkly/eval.h"

/* a user with attributes of every type, and a multi-kind context */
static const char *const contexts[] = {
    "{\"kind\":\"user\",\"key\":\"userKeyA\",\"country\":\"de\",\"age\":41,"
    "\"score\":0.5,\"beta\":true,\"groups\":[\"admin\",\"dev\"],"
    "\"email\":\"ann@example.com\",\"version\":\"2.1.0-rc.1\","
    "\"signup\":\"2023-06-15T10:30:00.25Z\",\"address\":{\"city\":\"Berlin\"}}",
    "{\"kind\":\"multi\",\"user\":{\"key\":\"u1\",\"anonymous\":true},"
    "\"org\":{\"key\":\"o1\",\"plan\":\"pro\"}}",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check(const struct ld_result *r, const json_t *flag)
{
    if (r->outcome == LD_VALUE) {
        const json_t *vars = json_object_get(flag, "variations");
        if (r->variation < 0 || !json_is_array(vars) ||
            (size_t)r->variation >= json_array_size(vars) ||
            !json_equal(json_array_get(vars, (size_t)r->variation),
                        (json_t *)r->value))
            abort();
    } else if (r->why[0] == '\0' || memchr(r->why, '\0', LD_WHY_LEN) == NULL) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[LD_WHY_LEN];
    bool nomem = false;
    struct ld_data *doc =
        ld_data_load((const char *)data, size, why, sizeof(why), &nomem);
    json_t *ref =
        json_loadb((const char *)data, size, JSON_DECODE_INT_AS_REAL, NULL);
    const json_t *flags = json_object_get(ref, "flags");
    const json_t *segs = json_object_get(ref, "segments");
    bool valid = json_is_object(ref) && json_is_object(flags) &&
                 (segs == NULL || json_is_null(segs) || json_is_object(segs));
    if ((doc != NULL) != valid || (doc == NULL && why[0] == '\0'))
        abort();
    if (doc == NULL) {
        json_decref(ref);
        return 0;
    }
    /* the same flags, in jansson's order */
    if (ld_data_flag_count(doc) != json_object_size(flags))
        abort();
    size_t i = 0;
    const char *key;
    json_t *flag;
    json_object_foreach((json_t *)flags, key, flag)
    {
        bool deleted;
        double version;
        const char *k = ld_data_flag(doc, i++, &deleted, &version);
        if (strcmp(k, key) != 0 ||
            deleted != json_is_true(json_object_get(flag, "deleted")))
            abort();
    }
    for (size_t c = 0; c < sizeof(contexts) / sizeof(contexts[0]); c++) {
        json_t *ctx = json_loads(contexts[c], 0, NULL);
        struct ld_eval *ev = ld_eval_new(doc, ctx, why, sizeof(why), &nomem);
        if (ev == NULL)
            abort();
        json_object_foreach((json_t *)flags, key, flag)
        {
            struct ld_result r;
            ld_eval_flag(ev, key, &r);
            fuzz_check(&r, flag);
        }
        ld_eval_free(ev);
        json_decref(ctx);
    }
    ld_data_free(doc);
    json_decref(ref);
    return 0;
}
