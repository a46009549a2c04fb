/* SPDX-License-Identifier: MIT */
/* libFuzzer target: ei_cfgflat_parse on arbitrary bytes (no include
   folder, so no file is ever opened), checking what every entry and
   every error must look like. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <envinject/provider.h>

#include "cfgflat.h"

/* A callback that refuses an entry now and then, to exercise the stop. */
#define FUZZ_STOP_EVERY 7

struct fuzz_ctx {
    size_t calls;
    bool stop;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_emit(void *ctx, const char *const *name, size_t name_n,
                     const char *value, size_t value_len, int line,
                     unsigned flags, struct ei_error *err)
{
    struct fuzz_ctx *f = ctx;
    if (name_n == 0 || name_n > 64 || value == NULL || line <= 0 ||
        flags != 0 || value[value_len] != '\0' || strlen(value) != value_len)
        abort();
    for (size_t i = 0; i < name_n; i++)
        if (name[i] == NULL || name[i][0] == '\0')
            abort();
    if (f->stop && ++f->calls % FUZZ_STOP_EVERY == 0) {
        if (err->status == EI_OK) {
            err->status = EI_DENIED;
            memcpy(err->locator, "fuzz", sizeof("fuzz"));
            memcpy(err->text, "stopped", sizeof("stopped"));
        }
        return -1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_ctx f = {0, size > 0 && data[size - 1] == '\n'};
    struct ei_error err = {0};
    enum ei_status st = ei_cfgflat_parse((const char *)data, size, "fuzz", NULL,
                                         fuzz_emit, &f, &err);
    if (st != err.status)
        abort();
    if (st != EI_OK && (err.text[0] == '\0' || strchr(err.text, '\n') != NULL ||
                        strncmp(err.locator, "fuzz", 4) != 0))
        abort();
    return 0;
}
