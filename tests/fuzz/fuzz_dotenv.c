/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the dotenv reader: checks what every entry and every
   error must look like, whatever the input. */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <envinject/provider.h>

#include "dotenv.h"

#define FUZZ_FILE      "fuzz.env"
#define FUZZ_MAX_VALUE ((size_t)1048576)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_state {
    size_t size;   /* input length: bounds line numbers and values */
    int last_line; /* entries come in file order */
    size_t n;
};

static void fuzz_check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_dotenv: invariant broken: %s\n", what);
        abort();
    }
}

static int fuzz_emit(void *ctx, const char *const *name, size_t name_n,
                     const char *value, size_t value_len, int line,
                     unsigned flags, struct ei_error *err)
{
    struct fuzz_state *st = ctx;
    fuzz_check(name_n == 1 && name[0] != NULL, "one name segment");
    const char *k = name[0];
    fuzz_check(k[0] == '_' || (k[0] >= 'A' && k[0] <= 'Z') ||
                   (k[0] >= 'a' && k[0] <= 'z'),
               "key starts with a letter or '_'");
    for (const char *c = k; *c != '\0'; c++)
        fuzz_check(*c == '_' || (*c >= 'A' && *c <= 'Z') ||
                       (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9'),
                   "key characters");
    fuzz_check(value != NULL && value[value_len] == '\0', "value terminated");
    fuzz_check(strlen(value) == value_len, "no NUL inside a value");
    fuzz_check(value_len <= FUZZ_MAX_VALUE && value_len < st->size,
               "value length bounded");
    fuzz_check((flags & EI_ENTRY_VERBATIM) != 0, "VERBATIM set");
    fuzz_check((flags & ~(EI_ENTRY_VERBATIM | EI_ENTRY_LITERAL)) == 0,
               "no other flags");
    fuzz_check(line >= 1 && line >= st->last_line &&
                   (size_t)line <= st->size + 1,
               "line in order and in range");
    fuzz_check(err != NULL && err->status == EI_OK, "no error before emit");
    st->last_line = line;
    st->n++;
    return 0;
}

static void fuzz_check_text(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    fuzz_check(n > 0 && n < cap, "text present and terminated");
    for (size_t i = 0; i < n; i++)
        fuzz_check(s[i] >= ' ' && s[i] < 0x7f, "text printable on one line");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_state st = {.size = size};
    struct ei_error err = {0};
    enum ei_status rc = ei_dotenv_parse((const char *)data, size, FUZZ_FILE,
                                        fuzz_emit, &st, &err);
    fuzz_check(rc == EI_OK || rc == EI_BADDATA || rc == EI_NOMEM,
               "known status");
    fuzz_check(err.status == rc, "status recorded");
    if (rc != EI_OK) {
        fuzz_check_text(err.text, sizeof err.text);
        fuzz_check(strncmp(err.locator, FUZZ_FILE, strlen(FUZZ_FILE)) == 0,
                   "locator names the file");
        fuzz_check_text(err.locator, sizeof err.locator);
    }
    return 0;
}
