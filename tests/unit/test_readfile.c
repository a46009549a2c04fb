/* SPDX-License-Identifier: MIT */
/* Unit tests of ei_readfile (src/readfile.c): file kinds, the checks of
   private files, size limits, secret buffers and NUL termination. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "readfile.h"

#define MIB       ((size_t)1024 * 1024)
#define CANARY    "EI_CANARY_7f3a"
#define BIG_LEN   ((size_t)100000)
#define PATH_SIZE 512

/* What to create at the case's path before reading it. */
enum rf_kind {
    RF_FILE,       /* a regular file with content and mode */
    RF_MISSING,    /* nothing */
    RF_UNDER_FILE, /* a path whose parent is a regular file (ENOTDIR) */
    RF_DIR,        /* a directory */
    RF_FIFO,       /* a named pipe with no writer */
    RF_SYMLINK,    /* a symlink to a regular file with content and mode */
    RF_BIG,        /* a regular file of BIG_LEN bytes */
    RF_PROC,       /* /proc/self/status: st_size says 0 */
};

struct rf_case {
    const char *name;
    enum rf_kind kind;
    const char *file; /* file name in the temp dir; NULL: the case name */
    const char *content;
    size_t content_len; /* 0: strlen(content) */
    mode_t mode;
    unsigned flags;
    size_t max_len;
    bool needs_nonroot; /* root reads anything: skipped as root */
    enum ei_status want;
    const char *want_text; /* substring of err.text, "" for none */
    int want_errnum;
    bool want_chmod;         /* the text holds "chmod 600 " + shell path */
    const char *want_quoted; /* the text holds this (path quoting) */
};

static const struct rf_case cases[] = {
    {.name = "missing",
     .kind = RF_MISSING,
     .max_len = MIB,
     .want = EI_NOTFOUND,
     .want_text = "no such file"},
    {.name = "parent-not-dir",
     .kind = RF_UNDER_FILE,
     .max_len = MIB,
     .want = EI_NOTFOUND,
     .want_text = "no such file"},
    {.name = "directory",
     .kind = RF_DIR,
     .max_len = MIB,
     .want = EI_IOERROR,
     .want_text = "not a regular file"},
    {.name = "fifo-no-writer",
     .kind = RF_FIFO,
     .max_len = MIB,
     .want = EI_IOERROR,
     .want_text = "not a regular file"},
    {.name = "fifo-private",
     .kind = RF_FIFO,
     .flags = EI_READ_PRIVATE,
     .max_len = MIB,
     .want = EI_IOERROR,
     .want_text = "not a regular file"},
    {.name = "private-0600",
     .kind = RF_FILE,
     .content = CANARY "\n",
     .mode = 0600,
     .flags = EI_READ_PRIVATE,
     .max_len = MIB,
     .want = EI_OK},
    {.name = "private-0400",
     .kind = RF_FILE,
     .content = CANARY,
     .mode = 0400,
     .flags = EI_READ_PRIVATE | EI_READ_SECRET,
     .max_len = MIB,
     .want = EI_OK},
    {.name = "private-0640",
     .kind = RF_FILE,
     .content = CANARY,
     .mode = 0640,
     .flags = EI_READ_PRIVATE,
     .max_len = MIB,
     .want = EI_DENIED,
     .want_text = "readable by group or others",
     .want_chmod = true},
    {.name = "private-0604",
     .kind = RF_FILE,
     .content = CANARY,
     .mode = 0604,
     .flags = EI_READ_PRIVATE | EI_READ_SECRET,
     .max_len = MIB,
     .want = EI_DENIED,
     .want_text = "readable by group or others",
     .want_chmod = true},
    {.name = "private-0644-quoted-path",
     .kind = RF_FILE,
     .file = "it's a key",
     .content = CANARY,
     .mode = 0644,
     .flags = EI_READ_PRIVATE,
     .max_len = MIB,
     .want = EI_DENIED,
     .want_text = "readable by group or others",
     .want_quoted = "/it'\\''s a key'"},
    {.name = "private-0620-writable-only",
     .kind = RF_FILE,
     .content = CANARY,
     .mode = 0620,
     .flags = EI_READ_PRIVATE,
     .max_len = MIB,
     .want = EI_OK},
    {.name = "plain-0644",
     .kind = RF_FILE,
     .content = CANARY,
     .mode = 0644,
     .max_len = MIB,
     .want = EI_OK},
    {.name = "private-symlink",
     .kind = RF_SYMLINK,
     .content = CANARY,
     .mode = 0600,
     .flags = EI_READ_PRIVATE,
     .max_len = MIB,
     .want = EI_DENIED,
     .want_text = "is a symbolic link"},
    {.name = "plain-symlink-followed",
     .kind = RF_SYMLINK,
     .content = CANARY,
     .mode = 0600,
     .max_len = MIB,
     .want = EI_OK},
    {.name = "unreadable-0000",
     .kind = RF_FILE,
     .content = CANARY,
     .mode = 0000,
     .max_len = MIB,
     .needs_nonroot = true,
     .want = EI_IOERROR,
     .want_text = "cannot open",
     .want_errnum = EACCES},
    {.name = "size-at-limit",
     .kind = RF_FILE,
     .content = "0123456789",
     .mode = 0600,
     .max_len = 10,
     .want = EI_OK},
    {.name = "size-over-limit",
     .kind = RF_FILE,
     .content = "0123456789X",
     .mode = 0600,
     .flags = EI_READ_SECRET,
     .max_len = 10,
     .want = EI_BADDATA,
     .want_text = "larger than 10 bytes"},
    {.name = "empty-limit-zero",
     .kind = RF_FILE,
     .content = "",
     .mode = 0600,
     .max_len = 0,
     .want = EI_OK},
    {.name = "one-byte-limit-zero",
     .kind = RF_FILE,
     .content = "x",
     .mode = 0600,
     .max_len = 0,
     .want = EI_BADDATA,
     .want_text = "larger than 0 bytes"},
    {.name = "empty-secret",
     .kind = RF_FILE,
     .content = "",
     .mode = 0600,
     .flags = EI_READ_SECRET,
     .max_len = MIB,
     .want = EI_OK},
    {.name = "embedded-nul",
     .kind = RF_FILE,
     .content = "a\0b\n",
     .content_len = 4,
     .mode = 0600,
     .flags = EI_READ_SECRET,
     .max_len = MIB,
     .want = EI_OK},
    {.name = "big-secret",
     .kind = RF_BIG,
     .mode = 0600,
     .flags = EI_READ_SECRET,
     .max_len = MIB,
     .want = EI_OK},
    {.name = "big-plain-over-limit",
     .kind = RF_BIG,
     .mode = 0600,
     .max_len = BIG_LEN - 1,
     .want = EI_BADDATA,
     .want_text = "larger than 99999 bytes"},
    {.name = "proc-grows-past-stat",
     .kind = RF_PROC,
     .flags = EI_READ_SECRET,
     .max_len = MIB,
     .want = EI_OK},
    {.name = "proc-over-limit",
     .kind = RF_PROC,
     .max_len = 16,
     .want = EI_BADDATA,
     .want_text = "larger than 16 bytes"},
};

#define CASES_N (sizeof cases / sizeof cases[0])

static char tmpdir[PATH_SIZE];

static void tmp_path(char *out, size_t out_len, const char *file)
{
    int n = snprintf(out, out_len, "%s/%s", tmpdir, file);
    assert_true(n > 0 && (size_t)n < out_len);
}

static void write_file(const char *path, const char *data, size_t len,
                       mode_t mode)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static char *big_content(void)
{
    char *p = malloc(BIG_LEN);
    assert_non_null(p);
    for (size_t i = 0; i < BIG_LEN; i++)
        p[i] = (char)('a' + i % 26);
    return p;
}

/* Create what the case reads; returns the path and the expected bytes. */
static void prepare(const struct rf_case *c, char *path, size_t path_len,
                    char **expect, size_t *expect_len)
{
    const char *file = c->file != NULL ? c->file : c->name;
    int n = snprintf(path, path_len, "%s/%s", tmpdir, file);
    assert_true(n > 0 && (size_t)n < path_len);
    size_t len = c->content_len != 0
                     ? c->content_len
                     : (c->content != NULL ? strlen(c->content) : 0);
    *expect = NULL;
    *expect_len = 0;
    char target[PATH_SIZE];
    switch (c->kind) {
    case RF_FILE:
        write_file(path, c->content, len, c->mode);
        break;
    case RF_MISSING:
        break;
    case RF_UNDER_FILE:
        write_file(path, "x", 1, 0600);
        n = snprintf(path, path_len, "%s/%s/x", tmpdir, file);
        assert_true(n > 0 && (size_t)n < path_len);
        return;
    case RF_DIR:
        assert_int_equal(mkdir(path, 0700), 0);
        return;
    case RF_FIFO:
        assert_int_equal(mkfifo(path, 0600), 0);
        return;
    case RF_SYMLINK:
        n = snprintf(target, sizeof target, "%s.target", path);
        assert_true(n > 0 && (size_t)n < sizeof target);
        write_file(target, c->content, len, c->mode);
        assert_int_equal(symlink(target, path), 0);
        break;
    case RF_BIG:
        *expect = big_content();
        *expect_len = BIG_LEN;
        write_file(path, *expect, BIG_LEN, c->mode);
        return;
    case RF_PROC:
        n = snprintf(path, path_len, "/proc/self/status");
        assert_true(n > 0 && (size_t)n < path_len);
        return;
    }
    if (c->content != NULL) {
        *expect = malloc(len + 1);
        assert_non_null(*expect);
        memcpy(*expect, c->content, len);
        *expect_len = len;
    }
}

static void test_case(void **state)
{
    const struct rf_case *c = *state;
    if (c->needs_nonroot && geteuid() == 0)
        skip();
    char path[PATH_SIZE];
    char *expect = NULL;
    size_t expect_len = 0;
    prepare(c, path, sizeof path, &expect, &expect_len);

    struct ei_buf buf;
    memset(&buf, 0xa5, sizeof buf);
    struct ei_error err = {0};
    enum ei_status st = ei_readfile(path, c->flags, c->max_len, &buf, &err);
    assert_int_equal(st, c->want);
    assert_int_equal(err.status, c->want);

    if (c->want == EI_OK) {
        assert_non_null(buf.data);
        assert_int_equal(buf.secret, (c->flags & EI_READ_SECRET) != 0);
        assert_int_equal(buf.data[buf.len], '\0');
        if (c->kind == RF_PROC) {
            /* st_size is 0 there: all of it must have been read anyway */
            assert_true(buf.len > 32);
            assert_memory_equal(buf.data, "Name:", 5);
            assert_int_equal(strlen(buf.data), buf.len);
        } else {
            assert_int_equal(buf.len, expect_len);
            if (expect_len > 0)
                assert_memory_equal(buf.data, expect, expect_len);
        }
    } else {
        assert_null(buf.data);
        assert_int_equal(buf.len, 0);
        assert_string_equal(err.locator, path);
        assert_string_equal(err.layer, "");
        assert_non_null(strstr(err.text, c->want_text));
        assert_null(strstr(err.text, CANARY));
        assert_int_equal(err.errnum, c->want_errnum);
        if (c->want_chmod) {
            char hint[PATH_SIZE + 16];
            snprintf(hint, sizeof hint, "chmod 600 %s", path);
            assert_non_null(strstr(err.text, hint));
        }
        if (c->want_quoted != NULL) {
            assert_non_null(strstr(err.text, "chmod 600 '"));
            assert_non_null(strstr(err.text, c->want_quoted));
        }
    }
    ei_readfile_free(&buf);
    assert_null(buf.data);
    assert_int_equal(buf.len, 0);
    free(expect);
}

/* Freeing twice, a zeroed buffer and NULL are all harmless. */
static void test_free_safe(void **state)
{
    struct ei_buf buf = {0};
    ei_readfile_free(&buf);
    ei_readfile_free(NULL);
    char path[PATH_SIZE];
    tmp_path(path, sizeof path, "free-safe");
    write_file(path, "abc", 3, 0600);
    for (unsigned flags = 0; flags <= EI_READ_SECRET; flags++) {
        struct ei_error err = {0};
        assert_int_equal(ei_readfile(path, flags, MIB, &buf, &err), EI_OK);
        assert_int_equal(buf.len, 3);
        ei_readfile_free(&buf);
        ei_readfile_free(&buf);
        assert_null(buf.data);
    }
}

/* The first recorded error wins: a second failure leaves err alone. */
static void test_first_error_wins(void **state)
{
    char path[PATH_SIZE];
    tmp_path(path, sizeof path, "does-not-exist");
    struct ei_error err = {0};
    struct ei_buf buf;
    assert_int_equal(ei_readfile(path, 0, MIB, &buf, &err), EI_NOTFOUND);
    assert_int_equal(ei_readfile(tmpdir, 0, MIB, &buf, &err), EI_IOERROR);
    assert_int_equal(err.status, EI_NOTFOUND);
    assert_string_equal(err.locator, path);
    assert_int_equal(ei_readfile(path, 0, MIB, &buf, NULL), EI_NOTFOUND);
}

static int rm_tree(const char *dir)
{
    char cmd[PATH_SIZE + 16];
    int n = snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (n < 0 || (size_t)n >= sizeof cmd)
        return -1;
    return system(cmd) == 0 ? 0 : -1;
}

static int group_setup(void **state)
{
    if (sodium_init() < 0)
        return -1;
    const char *base = getenv("TMPDIR");
    int n = snprintf(tmpdir, sizeof tmpdir, "%s/test_readfile.XXXXXX",
                     base != NULL && base[0] != '\0' ? base : "/tmp");
    if (n < 0 || (size_t)n >= sizeof tmpdir || mkdtemp(tmpdir) == NULL)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    return rm_tree(tmpdir);
}

int main(void)
{
    struct CMUnitTest tests[CASES_N + 2];
    for (size_t i = 0; i < CASES_N; i++) {
        tests[i] =
            (struct CMUnitTest)cmocka_unit_test_prestate(test_case, NULL);
        tests[i].name = cases[i].name;
        tests[i].initial_state = (void *)&cases[i];
    }
    tests[CASES_N] = (struct CMUnitTest)cmocka_unit_test(test_free_safe);
    tests[CASES_N + 1] =
        (struct CMUnitTest)cmocka_unit_test(test_first_error_wins);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
