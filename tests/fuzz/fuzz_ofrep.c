/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the parser of OFREP bulk evaluation replies
   (providers/ofrep_parse.h) on arbitrary bytes, checking every flag and
   every skip it hands over and every error. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <envinject/provider.h>

#include "ofrep_parse.h"
#include "safetext.h"

/* The parser needs only the host's safe_text. */
static const struct ei_host text_host = {
    .abi = EI_HOST_ABI,
    .size = sizeof(struct ei_host),
    .safe_text = ei_host_safe_text,
};

/* A callback that refuses a flag now and then, to exercise the stop. */
#define FUZZ_STOP_EVERY 5

struct fuzz_ctx {
    size_t calls;
    bool stop;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_flag(void *ctx, const char *key, const char *value,
                     size_t value_len, const char *variant,
                     struct ei_error *err)
{
    struct fuzz_ctx *f = ctx;
    if (key == NULL || key[0] == '\0' || value == NULL ||
        value[value_len] != '\0' || strlen(value) != value_len)
        abort();
    (void)variant;
    if (f->stop && ++f->calls % FUZZ_STOP_EVERY == 0) {
        if (err->status == EI_OK) {
            err->status = EI_DENIED;
            memcpy(err->text, "stopped", sizeof("stopped"));
        }
        return -1;
    }
    return 0;
}

static void fuzz_skip(void *ctx, const char *key, const char *code,
                      const char *details)
{
    if (key == NULL || key[0] == '\0' || (code == NULL && details != NULL))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct ei_ofrep_cb cb = {.flag = fuzz_flag,
                                          .skip = fuzz_skip};
    struct fuzz_ctx f = {0, size > 0 && data[size - 1] == '\n'};
    struct ei_error err = {0};
    enum ei_status st = ei_ofrep_parse_bulk(&text_host, (const char *)data,
                                            size, "fuzz", &cb, &f, &err);
    if (st != err.status)
        abort();
    if (st != EI_OK &&
        (err.text[0] == '\0' || strchr(err.text, '\n') != NULL ||
         strchr(err.locator, '\n') != NULL))
        abort();
    return 0;
}
