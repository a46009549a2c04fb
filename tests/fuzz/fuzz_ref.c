/* SPDX-License-Identifier: MIT */
/* libFuzzer target: ei_ref_next over arbitrary bytes, then each found
   reference's parameters and its fragment against the same bytes as an
   answer, checking what every reference must look like. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <envinject/provider.h>

#include "ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    size_t at = 0;
    for (int n = 0; n < 64; n++) {
        struct ei_ref ref;
        const char *why = NULL;
        int got = ei_ref_next(s, size, at, &ref, &why);
        if (got == 0)
            break;
        if (ref.start < at || ref.end <= ref.start || ref.end > size)
            abort();
        if (got < 0) {
            if (why == NULL)
                abort();
            at = ref.end;
            continue;
        }
        if (ref.path_len == 0 || ref.path < s + ref.start ||
            ref.path + ref.path_len > s + ref.end ||
            (ref.fragment != NULL &&
             ref.fragment + ref.fragment_len > s + ref.end))
            abort();
        char out[64];
        (void)ei_ref_param(&ref, "region", out, sizeof(out));
        static const char *const known[] = {"region", "version", NULL};
        const char *bad = NULL;
        size_t bad_len = 0;
        if (!ei_ref_params_known(&ref, known, &bad, &bad_len) && bad == NULL)
            abort();
        if (ref.fragment != NULL) {
            char *picked = NULL;
            size_t picked_len = 0;
            struct ei_error err = {0};
            enum ei_status st =
                ei_ref_pick(&ref, s, size, &picked, &picked_len, &err);
            if ((st == EI_OK) != (picked != NULL))
                abort();
            if (picked != NULL && picked[picked_len] != '\0')
                abort();
            free(picked);
        }
        at = ref.end;
    }
    return 0;
}
