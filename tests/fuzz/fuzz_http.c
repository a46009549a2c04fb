/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the parsers of the http provider
   (providers/http_parse.h) on arbitrary bytes: the Spring Cloud Config
   Environment reader, checking every property it hands over and every
   error, and JSON Pointers (syntax and evaluation) on a fixed document
   and on the input read as JSON. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <envinject/provider.h>
#include <jansson.h>

#include "http_parse.h"
#include "safetext.h"

/* The parsers need only the host's safe_text. */
static const struct ei_host text_host = {
    .abi = EI_HOST_ABI,
    .size = sizeof(struct ei_host),
    .safe_text = ei_host_safe_text,
};

/* A callback that refuses a property now and then, to exercise the stop. */
#define FUZZ_STOP_EVERY 5
/* The longest input tried as a pointer. */
#define FUZZ_PTR_MAX 256

/* RFC 6901's example document, with nesting for the pointers to walk. */
static const char fuzz_doc[] =
    "{\"foo\": [\"bar\", \"baz\", {\"q\": [0, {\"r\": null}]}], \"\": 0, "
    "\"a/b\": 1, \"c%d\": 2, \"e^f\": 3, \"g|h\": 4, \"i\\\\j\": 5, "
    "\"k\\\"l\": 6, \" \": 7, \"m~n\": 8, \"~1\": {\"01\": true}}";

struct fuzz_ctx {
    size_t calls;
    bool stop;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_property(void *ctx, const char *const *name, size_t name_n,
                         const char *value, size_t value_len, const char *key,
                         const char *source, struct ei_error *err)
{
    struct fuzz_ctx *f = ctx;
    if (name_n == 0 || value == NULL || value[value_len] != '\0' ||
        strlen(value) != value_len || key == NULL || source == NULL)
        abort();
    /* segments are never empty, and relaxed binding dropped the dashes */
    for (size_t i = 0; i < name_n; i++)
        if (name[i] == NULL || name[i][0] == '\0' ||
            strchr(name[i], '-') != NULL)
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

static void fuzz_error_ok(enum ei_status st, const struct ei_error *err)
{
    if (st != err->status)
        abort();
    if (st != EI_OK &&
        (err->text[0] == '\0' || strchr(err->text, '\n') != NULL ||
         strchr(err->locator, '\n') != NULL))
        abort();
}

static void fuzz_pointer(const uint8_t *data, size_t size)
{
    if (size > FUZZ_PTR_MAX)
        return;
    char ptr[FUZZ_PTR_MAX + 1];
    memcpy(ptr, data, size);
    ptr[size] = '\0';
    size_t bad = 0;
    if (ei_jsonptr_check(ptr, &bad) < 0) {
        if (bad > strlen(ptr))
            abort();
        return;
    }
    json_t *doc = json_loads(fuzz_doc, 0, NULL);
    if (doc == NULL)
        abort();
    const json_t *out = NULL;
    struct ei_error err = {0};
    enum ei_status st = ei_jsonptr_eval(doc, ptr, "fuzz", &out, &err);
    fuzz_error_ok(st, &err);
    if ((st == EI_OK) != (out != NULL))
        abort();
    /* the empty pointer is the document itself */
    if (ptr[0] == '\0' && out != doc)
        abort();
    json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_ctx f = {0, size > 0 && data[size - 1] == '\n'};
    struct ei_error err = {0};
    size_t keys = 0;
    enum ei_status st = ei_spring_parse(&text_host, (const char *)data, size,
                                        "fuzz", fuzz_property, &f, &keys, &err);
    fuzz_error_ok(st, &err);
    if (st == EI_OK && keys > size)
        abort();
    fuzz_pointer(data, size);
    /* the input as a document, with a fixed pointer */
    json_t *doc = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (doc != NULL) {
        static const char *const ptrs[] = {"", "/", "/propertySources/0",
                                           "/a/0/b", "/~0/~1"};
        for (size_t i = 0; i < sizeof(ptrs) / sizeof(ptrs[0]); i++) {
            const json_t *out = NULL;
            struct ei_error e = {0};
            fuzz_error_ok(ei_jsonptr_eval(doc, ptrs[i], "fuzz", &out, &e), &e);
        }
        json_decref(doc);
    }
    return 0;
}
