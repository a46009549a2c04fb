/* SPDX-License-Identifier: MIT */
/* Unit tests of diagnostics: the exit-code contract, the first-wins error
   record with its truncation, and the shape and filtering of stderr lines. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "diag.h"

/* Longest line emit_line writes, newline included (its buffer less NUL). */
#define LINE_MAX_LEN 1023

/* --- capturing stderr --- */

struct capture {
    FILE *tmp;
    int saved;
    char buf[4096];
    size_t len;
};

static void capture_begin(struct capture *c)
{
    memset(c, 0, sizeof(*c));
    c->tmp = tmpfile();
    assert_non_null(c->tmp);
    fflush(stderr);
    c->saved = dup(STDERR_FILENO);
    assert_true(c->saved >= 0);
    assert_true(dup2(fileno(c->tmp), STDERR_FILENO) >= 0);
}

/* Restores stderr before anything is asserted, so failures stay visible. */
static const char *capture_end(struct capture *c)
{
    fflush(stderr);
    int rc = dup2(c->saved, STDERR_FILENO);
    close(c->saved);
    assert_true(rc >= 0);
    rewind(c->tmp);
    c->len = fread(c->buf, 1, sizeof(c->buf) - 1, c->tmp);
    c->buf[c->len] = '\0';
    fclose(c->tmp);
    return c->buf;
}

static size_t count_char(const char *s, char ch)
{
    size_t n = 0;
    for (; *s != '\0'; s++)
        n += *s == ch;
    return n;
}

#define REPEAT_MAX 5000

/* Static storage: a failed assertion jumps out of the test and must not
   leave a leak behind. */
static const char *repeat(char (*buf)[REPEAT_MAX + 1], char ch, size_t n)
{
    assert_true(n <= REPEAT_MAX);
    memset(*buf, ch, n);
    (*buf)[n] = '\0';
    return *buf;
}

/* --- exit codes --- */

/* The contract's table (envinject(1), EXIT STATUS), in enum order. */
static const struct {
    enum ei_status status;
    int code;
} exit_cases[] = {
    {EI_OK, 0},         {EI_NOTFOUND, 66}, {EI_UNAVAILABLE, 69},
    {EI_BADDATA, 65},   {EI_DENIED, 77},   {EI_BADCONFIG, 78},
    {EI_IOERROR, 66},   {EI_NOMEM, 70},    {EI_INTERNAL, 70},
    {EI_OSERR, 71},     {EI_USAGE, 64},    {EI_FINDINGS, 1},
    {EI_CANTEXEC, 126}, {EI_NOPROG, 127},  {EI_CANTCREAT, 73},
};

static void test_exit_codes(void **state)
{
    assert_int_equal(sizeof(exit_cases) / sizeof(exit_cases[0]), EI_STATUS_MAX);
    for (size_t i = 0; i < sizeof(exit_cases) / sizeof(exit_cases[0]); i++) {
        assert_int_equal(exit_cases[i].status, (enum ei_status)i);
        assert_int_equal(ei_exit_code(exit_cases[i].status),
                         exit_cases[i].code);
        const char *t = ei_status_text(exit_cases[i].status);
        assert_non_null(t);
        assert_true(t[0] >= 'a' && t[0] <= 'z');
        assert_string_not_equal(t, "unknown status");
    }
}

static void test_exit_code_unknown(void **state)
{
    static const int unknown[] = {EI_STATUS_MAX, EI_STATUS_MAX + 1, 255, -1,
                                  1000000};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        assert_int_equal(ei_exit_code((enum ei_status)unknown[i]), 70);
        assert_string_equal(ei_status_text((enum ei_status)unknown[i]),
                            "unknown status");
    }
}

/* --- the error record --- */

static void test_error_set_fields(void **state)
{
    struct ei_error err = {0};
    enum ei_status st = ei_error_set(&err, EI_BADDATA, ENOENT, "file",
                                     "a.env:3", "bad line (%d bytes)", 12);
    assert_int_equal(st, EI_BADDATA);
    assert_int_equal(err.status, EI_BADDATA);
    assert_int_equal(err.errnum, ENOENT);
    assert_string_equal(err.layer, "file");
    assert_string_equal(err.locator, "a.env:3");
    assert_string_equal(err.text, "bad line (12 bytes)");
}

static void test_error_first_wins(void **state)
{
    struct ei_error err = {0};
    ei_error_set(&err, EI_DENIED, EACCES, "vault", "secret/x", "first");
    /* the second status is returned but nothing of it is recorded */
    assert_int_equal(ei_error_set(&err, EI_BADCONFIG, ENOENT, "other",
                                  "elsewhere", "second"),
                     EI_BADCONFIG);
    assert_int_equal(err.status, EI_DENIED);
    assert_int_equal(err.errnum, EACCES);
    assert_string_equal(err.layer, "vault");
    assert_string_equal(err.locator, "secret/x");
    assert_string_equal(err.text, "first");

    /* after a clear the next error is recorded again */
    ei_error_clear(&err);
    assert_int_equal(err.status, EI_OK);
    assert_int_equal(err.errnum, 0);
    assert_string_equal(err.layer, "");
    assert_string_equal(err.locator, "");
    assert_string_equal(err.text, "");
    ei_error_set(&err, EI_NOPROG, 0, NULL, NULL, "third");
    assert_int_equal(err.status, EI_NOPROG);
    assert_string_equal(err.text, "third");
    assert_string_equal(err.layer, "");
    assert_string_equal(err.locator, "");
}

static void test_error_null(void **state)
{
    /* callers that do not care pass NULL: the status still comes back */
    assert_int_equal(ei_error_set(NULL, EI_NOMEM, ENOMEM, "l", "w", "x"),
                     EI_NOMEM);
    ei_error_layer(NULL, "x");
    ei_error_clear(NULL);
    struct ei_error err = {0};
    ei_error_set(&err, EI_USAGE, 0, NULL, NULL, "no layer");
    assert_string_equal(err.layer, "");
    ei_error_layer(&err, NULL);
    assert_string_equal(err.layer, "");
}

/* Lengths around each field's size: fits, fits exactly, one too many. */
static const size_t trunc_cases[] = {
    0,
    1,
    EI_ERR_LAYER_LEN - 1,
    EI_ERR_LAYER_LEN,
    EI_ERR_LOCATOR_LEN - 1,
    EI_ERR_LOCATOR_LEN,
    EI_ERR_TEXT_LEN - 1,
    EI_ERR_TEXT_LEN,
    REPEAT_MAX,
};

static void check_field(const char *got, size_t field_len, size_t in_len)
{
    if (in_len < field_len) {
        assert_int_equal(strlen(got), in_len);
        for (size_t i = 0; i < in_len; i++)
            assert_int_equal(got[i], 'x');
        return;
    }
    /* the start is kept, and "..." says that it is not whole */
    assert_int_equal(strlen(got), field_len - 1);
    for (size_t i = 0; i < field_len - 4; i++)
        assert_int_equal(got[i], 'x');
    assert_string_equal(got + field_len - 4, "...");
}

static void test_error_truncation(void **state)
{
    for (size_t i = 0; i < sizeof(trunc_cases) / sizeof(trunc_cases[0]); i++) {
        static char buf[REPEAT_MAX + 1];
        const char *s = repeat(&buf, 'x', trunc_cases[i]);
        struct ei_error err;
        memset(&err, 'Z', sizeof(err)); /* garbage must not survive */
        err.status = EI_OK;
        ei_error_set(&err, EI_BADDATA, 0, s, s, "%s", s);
        check_field(err.layer, sizeof(err.layer), trunc_cases[i]);
        check_field(err.locator, sizeof(err.locator), trunc_cases[i]);
        check_field(err.text, sizeof(err.text), trunc_cases[i]);

        struct ei_error e2 = {0};
        ei_error_set(&e2, EI_BADDATA, 0, NULL, NULL, "none");
        ei_error_layer(&e2, s);
        check_field(e2.layer, sizeof(e2.layer), trunc_cases[i]);
    }
}

static void test_error_layer(void **state)
{
    struct ei_error err = {0};
    ei_error_set(&err, EI_BADDATA, 0, NULL, "x.json:1", "bad");
    ei_error_layer(&err, "file#2");
    assert_string_equal(err.layer, "file#2");
    /* a layer named by the provider itself is kept */
    ei_error_layer(&err, "other");
    assert_string_equal(err.layer, "file#2");
    assert_string_equal(err.locator, "x.json:1");
    assert_string_equal(err.text, "bad");
    assert_int_equal(err.status, EI_BADDATA);
}

/* --- stderr lines --- */

enum kind { K_ERROR, K_MSG };

static const struct {
    enum kind kind;
    int level; /* message level, or the error's status */
    const char *layer, *locator, *text;
    int errnum;
    const char *want_head; /* strerror(errnum) is appended by the test */
} line_cases[] = {
    {K_ERROR, EI_DENIED, "vault", "secret/app/prod",
     "permission denied (HTTP 403)", 0,
     "envinject: vault (secret/app/prod): permission denied (HTTP 403)"},
    {K_ERROR, EI_NOTFOUND, "file", "/etc/app/a.env", "cannot open", ENOENT,
     "envinject: file (/etc/app/a.env): cannot open"},
    {K_ERROR, EI_BADCONFIG, NULL, "envinject.conf:12", "unknown setting 'x'", 0,
     "envinject: envinject.conf:12: unknown setting 'x'"},
    {K_ERROR, EI_BADCONFIG, "env", NULL, "option x must be a string", 0,
     "envinject: env: option x must be a string"},
    {K_ERROR, EI_USAGE, NULL, NULL, "no command given", 0,
     "envinject: no command given"},
    {K_ERROR, EI_OSERR, "", "", "cannot write the output", EPIPE,
     "envinject: cannot write the output"},
    /* a record without text falls back on the status's name */
    {K_ERROR, EI_BADDATA, "file", NULL, "", 0, "envinject: file: "},
    {K_MSG, EI_LOG_WARN, "file", "a.env", "optional layer skipped", 0,
     "envinject: warning: file (a.env): optional layer skipped"},
    {K_MSG, EI_LOG_WARN, NULL, NULL, "no keys", 0,
     "envinject: warning: no keys"},
    {K_MSG, EI_LOG_WARN, NULL, "here:1", "w", 0,
     "envinject: warning: here:1: w"},
    {K_MSG, EI_LOG_INFO, "env", NULL, "12 keys in 3 ms", 0,
     "envinject: env: 12 keys in 3 ms"},
    {K_MSG, EI_LOG_DEBUG, "etcd", "http://127.0.0.1:2379", "GET 200", 0,
     "envinject: etcd (http://127.0.0.1:2379): GET 200"},
};

static void test_line_shape(void **state)
{
    ei_diag_set_level(2);
    for (size_t i = 0; i < sizeof(line_cases) / sizeof(line_cases[0]); i++) {
        struct capture c;
        capture_begin(&c);
        if (line_cases[i].kind == K_ERROR) {
            struct ei_error err = {0};
            ei_error_set(&err, (enum ei_status)line_cases[i].level,
                         line_cases[i].errnum, line_cases[i].layer,
                         line_cases[i].locator, "%s", line_cases[i].text);
            ei_diag_error(&err);
        } else {
            ei_diag_msg((enum ei_log_level)line_cases[i].level,
                        line_cases[i].layer, line_cases[i].locator, "%s",
                        line_cases[i].text);
        }
        const char *got = capture_end(&c);
        char want[1024];
        if (line_cases[i].kind == K_ERROR && line_cases[i].text[0] == '\0')
            snprintf(want, sizeof(want), "%s%s\n", line_cases[i].want_head,
                     ei_status_text((enum ei_status)line_cases[i].level));
        else if (line_cases[i].errnum != 0)
            snprintf(want, sizeof(want), "%s: %s\n", line_cases[i].want_head,
                     strerror(line_cases[i].errnum));
        else
            snprintf(want, sizeof(want), "%s\n", line_cases[i].want_head);
        assert_string_equal(got, want);
    }
    ei_diag_set_level(0);
}

static void test_error_nothing_recorded(void **state)
{
    struct capture c;
    capture_begin(&c);
    struct ei_error err = {0};
    ei_diag_error(&err);
    ei_diag_error(NULL);
    assert_string_equal(capture_end(&c), "");
}

/* Which messages each verbosity shows; errors always show. */
static const struct {
    int verbosity;
    bool warn, info, debug;
} level_cases[] = {
    {-1, false, false, false},
    {0, true, false, false},
    {1, true, true, false},
    {2, true, true, true},
};

static void test_levels(void **state)
{
    for (size_t i = 0; i < sizeof(level_cases) / sizeof(level_cases[0]); i++) {
        ei_diag_set_level(level_cases[i].verbosity);
        assert_int_equal(ei_diag_level(), level_cases[i].verbosity);
        struct capture c;
        capture_begin(&c);
        ei_diag_msg(EI_LOG_WARN, NULL, NULL, "W");
        ei_diag_msg(EI_LOG_INFO, NULL, NULL, "I");
        ei_diag_msg(EI_LOG_DEBUG, NULL, NULL, "D");
        struct ei_error err = {0};
        ei_error_set(&err, EI_BADDATA, 0, NULL, NULL, "E");
        ei_diag_error(&err);
        const char *got = capture_end(&c);
        assert_int_equal(strstr(got, "envinject: warning: W\n") != NULL,
                         level_cases[i].warn);
        assert_int_equal(strstr(got, "envinject: I\n") != NULL,
                         level_cases[i].info);
        assert_int_equal(strstr(got, "envinject: D\n") != NULL,
                         level_cases[i].debug);
        assert_non_null(strstr(got, "envinject: E\n"));
        assert_int_equal(count_char(got, '\n'), 1 + level_cases[i].warn +
                                                    level_cases[i].info +
                                                    level_cases[i].debug);
    }
    ei_diag_set_level(0);
}

static void assert_one_line(const char *got)
{
    size_t len = strlen(got);
    assert_true(len > 0);
    assert_true(len <= LINE_MAX_LEN);
    assert_int_equal(count_char(got, '\n'), 1);
    assert_int_equal(got[len - 1], '\n');
    assert_memory_equal(got, "envinject: ", 11);
}

static void test_long_lines(void **state)
{
    static char b1[REPEAT_MAX + 1], b2[REPEAT_MAX + 1], b3[REPEAT_MAX + 1];
    const char *huge = repeat(&b1, 't', REPEAT_MAX);
    const char *layer = repeat(&b2, 'l', REPEAT_MAX);
    const char *loc = repeat(&b3, 'p', REPEAT_MAX);
    ei_diag_set_level(2);
    for (int with_errno = 0; with_errno < 2; with_errno++) {
        struct capture c;
        capture_begin(&c);
        struct ei_error err = {0};
        ei_error_set(&err, EI_BADDATA, with_errno ? ENOENT : 0, layer, loc,
                     "%s", huge);
        ei_diag_error(&err);
        const char *got = capture_end(&c);
        assert_one_line(got);
        /* the fields were cut in the record; the line keeps all three */
        assert_non_null(strstr(got, "l... (p"));
        assert_non_null(strstr(got, "p...): t"));
        char tail[128];
        snprintf(tail, sizeof(tail), "t...%s%s\n", with_errno ? ": " : "",
                 with_errno ? strerror(ENOENT) : "");
        assert_string_equal(got + strlen(got) - strlen(tail), tail);
    }
    for (int warn = 0; warn < 2; warn++) {
        struct capture c;
        capture_begin(&c);
        ei_diag_msg(warn ? EI_LOG_WARN : EI_LOG_DEBUG, layer, loc, "%s", huge);
        const char *got = capture_end(&c);
        assert_one_line(got);
        assert_string_equal(got + strlen(got) - 5, "t...\n");
        const char *head = warn ? "envinject: warning: " : "envinject: ";
        assert_memory_equal(got, head, strlen(head));
        /* BUG: a layer and locator longer than the line are dropped whole
           (emit_line does not advance past a cut snprintf, and the text
           overwrites them), so the message no longer says where. */
        assert_int_equal(got[strlen(head)], 'l');
        assert_non_null(strstr(got, " (p"));
    }
    ei_diag_set_level(0);
}

/* Names and texts can come from files; a message must stay one line. */
static const struct {
    const char *layer, *locator, *text;
} ctl_cases[] = {
    {"file", "a.env:1", "bad key 'A\nenvinject: forged line'"},
    {"we\nird", NULL, "text"},
    {NULL, "x.json:1\r\n", "dup"},
};

static void test_control_chars(void **state)
{
    for (size_t i = 0; i < sizeof(ctl_cases) / sizeof(ctl_cases[0]); i++) {
        struct capture c;
        capture_begin(&c);
        struct ei_error err = {0};
        ei_error_set(&err, EI_BADDATA, 0, ctl_cases[i].layer,
                     ctl_cases[i].locator, "%s", ctl_cases[i].text);
        ei_diag_error(&err);
        ei_diag_msg(EI_LOG_WARN, ctl_cases[i].layer, ctl_cases[i].locator, "%s",
                    ctl_cases[i].text);
        const char *got = capture_end(&c);
        /* BUG: emit_line copies newlines of names and texts into stderr,
           so one message becomes several lines (and can forge one). */
        assert_int_equal(count_char(got, '\n'), 2);
        assert_null(strchr(got, '\r'));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exit_codes),
        cmocka_unit_test(test_exit_code_unknown),
        cmocka_unit_test(test_error_set_fields),
        cmocka_unit_test(test_error_first_wins),
        cmocka_unit_test(test_error_null),
        cmocka_unit_test(test_error_truncation),
        cmocka_unit_test(test_error_layer),
        cmocka_unit_test(test_line_shape),
        cmocka_unit_test(test_error_nothing_recorded),
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_control_chars),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
