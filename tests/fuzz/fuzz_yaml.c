/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the YAML reader (ei_yamlflat_parse, ei_yaml_to_json)
   on arbitrary bytes, checking what every entry and every error must look
   like, that aliases never expand past their bound, and that the reader's
   own flattening gives what jsonflat gives for its JSON tree. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <envinject/provider.h>
#include <jansson.h>

#include "jsonflat.h"
#include "yamlflat.h"

/* A callback that refuses an entry now and then, to exercise the stop. */
#define FUZZ_STOP_EVERY 7
/* More entries than 100,000 copied nodes and the input's own can give. */
#define FUZZ_MAX_ENTRIES (100000 + 1024 * 1024)

struct fuzz_ctx {
    size_t calls;
    bool stop;
    uint64_t sum; /* of every name and value, in order */
};

/* FNV-1a over len bytes and a separator, folded into *sum. */
static void fuzz_sum(uint64_t *sum, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        *sum = (*sum ^ (unsigned char)s[i]) * UINT64_C(0x100000001b3);
    *sum = (*sum ^ 0x100) * UINT64_C(0x100000001b3);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_emit(void *ctx, const char *const *name, size_t name_n,
                     const char *value, size_t value_len, int line,
                     unsigned flags, struct ei_error *err)
{
    struct fuzz_ctx *f = ctx;
    /* every entry carries the line of its key */
    if (name_n == 0 || name_n > 64 || value == NULL || line <= 0 ||
        flags != 0 || value[value_len] != '\0' || strlen(value) != value_len)
        abort();
    for (size_t i = 0; i < name_n; i++)
        if (name[i] == NULL || name[i][0] == '\0')
            abort();
    if (++f->calls > FUZZ_MAX_ENTRIES)
        abort();
    for (size_t i = 0; i < name_n; i++)
        fuzz_sum(&f->sum, name[i], strlen(name[i]));
    fuzz_sum(&f->sum, value, value_len);
    if (f->stop && f->calls % FUZZ_STOP_EVERY == 0) {
        if (err->status == EI_OK) {
            err->status = EI_DENIED;
            memcpy(err->locator, "fuzz", sizeof("fuzz"));
            memcpy(err->text, "stopped", sizeof("stopped"));
        }
        return -1;
    }
    return 0;
}

/* jsonflat's entries come without a line: only names and values count */
static int fuzz_walked(void *ctx, const char *const *name, size_t name_n,
                       const char *value, size_t value_len, int line,
                       unsigned flags, struct ei_error *err)
{
    (void)line;
    (void)flags;
    (void)err;
    struct fuzz_ctx *f = ctx;
    f->calls++;
    for (size_t i = 0; i < name_n; i++)
        fuzz_sum(&f->sum, name[i], strlen(name[i]));
    fuzz_sum(&f->sum, value, value_len);
    return 0;
}

static void check_error(enum ei_status st, const struct ei_error *err)
{
    if (st != err->status)
        abort();
    if (st != EI_OK &&
        (err->text[0] == '\0' || strchr(err->text, '\n') != NULL ||
         strncmp(err->locator, "fuzz", 4) != 0))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the first byte picks the environment the documents are read for */
    static const char *const profiles[] = {NULL, "prod", "dev", "default"};
    const char *profile = size > 0 ? profiles[data[0] % 4] : NULL;
    struct fuzz_ctx f = {0, size > 0 && data[size - 1] == '\n', 0};
    struct ei_error err = {0};
    enum ei_status st = ei_yamlflat_parse((const char *)data, size, "fuzz",
                                          profile, fuzz_emit, &f, &err);
    check_error(st, &err);
    enum ei_status st1 = st;
    struct ei_error err1 = err;
    json_t *out = NULL;
    err = (struct ei_error){0};
    st = ei_yaml_to_json((const char *)data, size, "fuzz", profile, &out, &err);
    check_error(st, &err);
    if ((st == EI_OK) != json_is_object(out))
        abort();
    if (st == EI_OK && !f.stop) {
        /* the same entries as jsonflat's walk of the same tree, or the
           same error */
        struct fuzz_ctx g = {0, false, 0};
        struct ei_error gerr = {0};
        enum ei_status gst =
            ei_jsonflat_walk(out, NULL, 0, "fuzz", fuzz_walked, &g, &gerr);
        if (gst != st1 || g.calls != f.calls || g.sum != f.sum ||
            strcmp(gerr.text, err1.text) != 0)
            abort();
    }
    json_decref(out);
    return 0;
}
