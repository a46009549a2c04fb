/* SPDX-License-Identifier: MIT */
/* Unit tests of safetext: the one sanitiser behind the host's safe_text,
   one row for what each provider's former private copy handled. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "safetext.h"

struct text_case {
    const char *name;
    const char *in;
    size_t in_len; /* 0: strlen(in) */
    size_t out_len;
    unsigned flags;
    const char *want;
};

static const struct text_case cases[] = {
    {"plain text is kept", "config/app/DB_HOST", 0, 64, 0,
     "config/app/DB_HOST"},
    {"empty", "", 0, 8, 0, ""},
    /* every sanitiser: a server or a file must not forge a line */
    {"newline, CR, tab, ESC, DEL as ?", "a\nb\rc\td\x1b[31me\x7f", 0, 64, 0,
     "a?b?c?d?[31me?"},
    {"a NUL inside the length (sealed and consul take lengths)", "ab\0cd", 5,
     16, 0, "ab?cd"},
    /* consul, vault, sealed, aws, etcd kept UTF-8 as it is */
    {"UTF-8 kept by default", "caf\xc3\xa9", 0, 16, 0, "caf\xc3\xa9"},
    /* env: a name that is no key may be any bytes: ASCII only */
    {"EI_TEXT_ASCII: bytes above 0x7e as ?", "caf\xc3\xa9~", 0, 16,
     EI_TEXT_ASCII, "caf??~"},
    /* etcd: text shown between single quotes */
    {"EI_TEXT_QUOTE: ' as ?", "it's", 0, 16, EI_TEXT_QUOTE, "it?s"},
    {"' kept without EI_TEXT_QUOTE", "it's", 0, 16, 0, "it's"},
    /* consul_show, vault_show, sealed_show, env's log: cut with "..." */
    {"exact fit: no cut", "abcd", 0, 4 + EI_TEXT_EXTRA, 0, "abcd"},
    {"one byte over: cut", "abcde", 0, 4 + EI_TEXT_EXTRA, 0, "abcd..."},
    {"cut after control bytes are replaced", "\n\n\n\n\n", 0, 4 + EI_TEXT_EXTRA,
     0, "????..."},
    {"length bounds the input, not the NUL", "abcdef", 3, 16, 0, "abc"},
    /* the smallest buffers */
    {"out_len EI_TEXT_EXTRA keeps no text", "abc", 0, EI_TEXT_EXTRA, 0, "..."},
    {"out_len below EI_TEXT_EXTRA: empty", "abc", 0, 3, 0, ""},
    {"out_len 1: empty", "abc", 0, 1, 0, ""},
};

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct text_case *c = &cases[i];
        char out[128];
        memset(out, 'X', sizeof(out));
        size_t len = c->in_len != 0 ? c->in_len : strlen(c->in);
        const char *got = ei_safe_text(out, c->out_len, c->in, len, c->flags);
        print_message("%s\n", c->name);
        assert_ptr_equal(got, out);
        assert_string_equal(out, c->want);
        assert_true(strlen(out) < c->out_len);
        /* nothing is written past out_len */
        assert_int_equal(out[c->out_len], 'X');
    }
}

static void test_edges(void **state)
{
    (void)state;
    char out[8] = "keep";
    /* out_len 0: nothing written at all */
    assert_ptr_equal(ei_safe_text(out, 0, "abc", 3, 0), out);
    assert_string_equal(out, "keep");
    assert_null(ei_safe_text(NULL, 8, "abc", 3, 0));
    assert_string_equal(ei_safe_text(out, sizeof(out), NULL, 3, 0), "");
    /* the host's entry is the same function */
    struct ei_host h = {.size = sizeof(h), .safe_text = ei_host_safe_text};
    assert_true(EI_HOST_HAS(&h, safe_text));
    assert_string_equal(h.safe_text(&h, out, sizeof(out), "a\nb", 3, 0), "a?b");
    /* an older host's table ends before safe_text */
    h.size = (uint32_t)offsetof(struct ei_host, safe_text);
    assert_false(EI_HOST_HAS(&h, safe_text));
}

/* A host error that records what it was given, as the core's does. */
static enum ei_status record_error(const struct ei_host *h,
                                   struct ei_error *err, enum ei_status status,
                                   int errnum, const char *locator,
                                   const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static enum ei_status record_error(const struct ei_host *h,
                                   struct ei_error *err, enum ei_status status,
                                   int errnum, const char *locator,
                                   const char *fmt, ...)
{
    (void)h;
    (void)errnum;
    (void)locator;
    va_list ap;
    va_start(ap, fmt);
    err->status = status;
    vsnprintf(err->text, sizeof(err->text), fmt, ap);
    va_end(ap);
    return status;
}

static enum ei_status no_open(const struct ei_host *h,
                              const char *const *endpoints, size_t n,
                              struct ei_http **out, struct ei_error *err)
{
    (void)h;
    (void)endpoints;
    (void)n;
    (void)out;
    (void)err;
    return EI_INTERNAL;
}

static enum ei_status no_request(struct ei_http *c,
                                 const struct ei_http_request *req,
                                 const struct ei_deadline *dl,
                                 struct ei_http_response *resp,
                                 struct ei_error *err)
{
    (void)c;
    (void)req;
    (void)dl;
    (void)resp;
    (void)err;
    return EI_INTERNAL;
}

static void no_free(struct ei_http *c, struct ei_http_response *resp)
{
    (void)c;
    (void)resp;
}

static void no_close(struct ei_http *c)
{
    (void)c;
}

/* EI_HOST_REQUIRE_HTTP: all four functions of the engine, within size. */
static void test_require_http(void **state)
{
    (void)state;
    struct ei_host h = {.size = sizeof(h),
                        .error = record_error,
                        .http_open = no_open,
                        .http_request = no_request,
                        .http_response_free = no_free,
                        .http_close = no_close};
    struct ei_error err = {0};
    assert_int_equal(EI_HOST_REQUIRE_HTTP(&h, &err), EI_OK);
    assert_int_equal(err.status, EI_OK);
    h.http_request = NULL;
    assert_int_equal(EI_HOST_REQUIRE_HTTP(&h, &err), EI_INTERNAL);
    assert_string_equal(err.text, "this envinject has no HTTP engine");
    h.http_request = no_request;
    memset(&err, 0, sizeof(err));
    /* a table that ends before http_close */
    h.size = (uint32_t)offsetof(struct ei_host, http_close);
    assert_int_equal(EI_HOST_REQUIRE_HTTP(&h, &err), EI_INTERNAL);
}

static void test_error_status(void **state)
{
    (void)state;
    struct ei_error err = {0};
    assert_int_equal(ei_error_status(NULL, EI_BADCONFIG), EI_BADCONFIG);
    assert_int_equal(ei_error_status(&err, EI_INTERNAL), EI_INTERNAL);
    err.status = EI_NOMEM;
    assert_int_equal(ei_error_status(&err, EI_BADCONFIG), EI_NOMEM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_require_http),
        cmocka_unit_test(test_error_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
