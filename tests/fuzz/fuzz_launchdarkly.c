/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the latest-all parser and LaunchDarkly's evaluator
   (providers/launchdarkly/eval.h) on arbitrary bytes: every flag of the
   document evaluated for a few contexts, checking every result. */
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

static void fuzz_check(const struct ld_result *r, const json_t *doc,
                       const char *key)
{
    if (r->outcome == LD_VALUE) {
        const json_t *vars = json_object_get(
            json_object_get(json_object_get(doc, "flags"), key), "variations");
        if (r->variation < 0 || !json_is_array(vars) ||
            (size_t)r->variation >= json_array_size(vars) ||
            json_array_get(vars, (size_t)r->variation) != r->value)
            abort();
    } else if (r->why[0] == '\0' || memchr(r->why, '\0', LD_WHY_LEN) == NULL) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[LD_WHY_LEN];
    bool nomem = false;
    json_t *doc =
        ld_data_load((const char *)data, size, why, sizeof(why), &nomem);
    if (doc == NULL) {
        if (why[0] == '\0')
            abort();
        return 0;
    }
    for (size_t c = 0; c < sizeof(contexts) / sizeof(contexts[0]); c++) {
        json_t *ctx = json_loads(contexts[c], 0, NULL);
        struct ld_eval *ev = ld_eval_new(doc, ctx, why, sizeof(why), &nomem);
        if (ev == NULL)
            abort();
        const char *key;
        json_t *flag;
        json_object_foreach(json_object_get(doc, "flags"), key, flag)
        {
            struct ld_result r;
            ld_eval_flag(ev, key, &r);
            fuzz_check(&r, doc, key);
        }
        ld_eval_free(ev);
        json_decref(ctx);
    }
    json_decref(doc);
    return 0;
}
