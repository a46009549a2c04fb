/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the parser of Consul KV replies
   (providers/consul_parse.h) on arbitrary bytes, checking every entry it
   hands over and every error. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <envinject/provider.h>

#include "consul_parse.h"
#include "safetext.h"

/* The parser needs only the host's safe_text. */
static const struct ei_host text_host = {
    .abi = EI_HOST_ABI,
    .size = sizeof(struct ei_host),
    .safe_text = ei_host_safe_text,
};

/* A callback that refuses an entry now and then, to exercise the stop. */
#define FUZZ_STOP_EVERY 5

struct fuzz_ctx {
    const char *prefix;
    size_t calls;
    bool stop;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_entry(void *ctx, const char *key, const char *const *name,
                      size_t name_n, const char *value, size_t value_len,
                      long long modify_index, struct ei_error *err)
{
    struct fuzz_ctx *f = ctx;
    size_t pl = strlen(f->prefix);
    if (key == NULL || strncmp(key, f->prefix, pl) != 0 ||
        key[strlen(key) - 1] == '/' || name_n == 0 || value == NULL ||
        value[value_len] != '\0' || strlen(value) != value_len ||
        modify_index < 0)
        abort();
    for (size_t i = 0; i < name_n; i++)
        if (name[i] == NULL || name[i][0] == '\0' ||
            strchr(name[i], '/') != NULL)
            abort();
    if (f->stop && ++f->calls % FUZZ_STOP_EVERY == 0) {
        if (err->status == EI_OK) {
            err->status = EI_DENIED;
            memcpy(err->text, "stopped", sizeof("stopped"));
        }
        return -1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const prefixes[] = {"", "config/app/"};
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        struct fuzz_ctx f = {prefixes[i], 0,
                             size > 0 && data[size - 1] == '\n'};
        struct ei_error err = {0};
        size_t keys = 0;
        enum ei_status st = ei_consul_parse_kv(&text_host, (const char *)data,
                                               size, prefixes[i], "fuzz",
                                               fuzz_entry, &f, &keys, &err);
        if (st != err.status)
            abort();
        if (st != EI_OK &&
            (err.text[0] == '\0' || strchr(err.text, '\n') != NULL ||
             strchr(err.locator, '\n') != NULL))
            abort();
        if (st == EI_OK && keys > size)
            abort();
    }
    return 0;
}
