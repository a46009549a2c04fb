/* SPDX-License-Identifier: MIT */
/* Unit tests of ei_place_file (src/place.c): which locators name a file,
   the line, and names relative to the working directory. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "expand.h"
#include "place.h"

/* The tree the cases look at; the working directory is its root. */
static char root[PATH_MAX];    /* canonical */
static char outside[PATH_MAX]; /* canonical, not below root */
static char here[PATH_MAX];    /* the working directory before */

static void write_file(const char *path)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs("A=1\n", f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static char *canonical_tmpdir(char *buf)
{
    char tmpl[] = "/tmp/ei-place.XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    assert_non_null(realpath(tmpl, buf));
    return buf;
}

static int setup(void **state)
{
    (void)state;
    assert_non_null(getcwd(here, sizeof(here)));
    canonical_tmpdir(root);
    canonical_tmpdir(outside);
    assert_int_equal(chdir(root), 0);
    assert_int_equal(mkdir("conf", 0755), 0);
    assert_int_equal(mkdir("conf/sub", 0755), 0);
    write_file("conf/dev.env");
    write_file("conf/envinject.conf");
    write_file("top.env");
    write_file("a:1");
    char path[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/f.env", outside);
    write_file(path);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char path[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/f.env", outside);
    unlink(path);
    rmdir(outside);
    unlink("conf/dev.env");
    unlink("conf/envinject.conf");
    unlink("top.env");
    unlink("a:1");
    rmdir("conf/sub");
    rmdir("conf");
    assert_int_equal(chdir(here), 0);
    rmdir(root);
    return 0;
}

/* "@ROOT@" and "@OUT@" in a row stand for the two folders. */
static void expand_row(const char *in, char *out, size_t len)
{
    const struct expand_rule rules[] = {
        {.open = "@ROOT@", .sub = root},
        {.open = "@OUT@", .sub = outside},
    };
    expand_to(out, len, in, rules, sizeof rules / sizeof rules[0]);
}

static void test_places(void **state)
{
    (void)state;
    static const struct {
        const char *locator; /* NULL: none */
        const char *dir;     /* NULL: the working directory */
        const char *file;    /* NULL: names no file */
        long line;
    } rows[] = {
        /* a file layer's value, relative to the configuration's folder */
        {"dev.env:2", "conf", "conf/dev.env", 2},
        {"dev.env:2", "@ROOT@/conf", "conf/dev.env", 2},
        {"dev.env", "conf", "conf/dev.env", 0},
        /* a rule's place */
        {"envinject.conf:7", "@ROOT@/conf", "conf/envinject.conf", 7},
        {"top.env:1", NULL, "top.env", 1},
        {"./conf/./sub/../dev.env:3", NULL, "conf/dev.env", 3},
        {"@ROOT@/top.env:9", "conf", "top.env", 9},
        /* outside the working directory: absolute */
        {"@OUT@/f.env:4", NULL, "@OUT@/f.env", 4},
        /* a name with a colon, when no shorter file has it */
        {"a:1", NULL, "a:1", 0},
        /* no file */
        {"missing.env:1", NULL, NULL, 0},
        {"sub", "conf", NULL, 0},
        {"$HOME", NULL, NULL, 0},
        {"etcd /app/prod/DB_HOST@rev 42", NULL, NULL, 0},
        {"--require on the command line", NULL, NULL, 0},
        {"dev.env:", "conf", NULL, 0},
        {"dev.env:12345678901", "conf", NULL, 0},
        {"", NULL, NULL, 0},
        {NULL, NULL, NULL, 0},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char locator[PATH_MAX * 2], dir[PATH_MAX * 2], want[PATH_MAX * 2];
        if (rows[i].locator != NULL)
            expand_row(rows[i].locator, locator, sizeof(locator));
        if (rows[i].dir != NULL)
            expand_row(rows[i].dir, dir, sizeof(dir));
        if (rows[i].file != NULL)
            expand_row(rows[i].file, want, sizeof(want));
        long line = -1;
        char *file = ei_place_file(rows[i].locator != NULL ? locator : NULL,
                                   rows[i].dir != NULL ? dir : NULL, &line);
        if (rows[i].file == NULL) {
            if (file != NULL)
                fail_msg("row %zu (%s): %s, want no file", i, rows[i].locator,
                         file);
            assert_int_equal(line, 0);
            continue;
        }
        if (file == NULL || strcmp(file, want) != 0)
            fail_msg("row %zu (%s): %s, want %s", i, rows[i].locator,
                     file != NULL ? file : "(none)", want);
        assert_int_equal(line, rows[i].line);
        free(file);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_places),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
