/* SPDX-License-Identifier: MIT */
/* Scratch folders and the loadable test providers, for the unit tests of
   the layer, resolution and registry modules. */
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "registry.h"
#include "testfs.h"

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    /* a test may have left a folder without write permission */
    if (flag == FTW_DP)
        chmod(path, 0700);
    return remove(path);
}

void testfs_rm_rf(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int testfs_write_file(const char *path, const char *content, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    size_t n = strlen(content);
    ssize_t w = write(fd, content, n);
    if (close(fd) < 0 || w != (ssize_t)n)
        return -1;
    return chmod(path, mode);
}

int testfs_copy_file(const char *from, const char *to, mode_t mode)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return -1;
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (out < 0) {
        close(in);
        return -1;
    }
    char buf[65536];
    ssize_t n;
    int rc = 0;
    while ((n = read(in, buf, sizeof(buf))) > 0)
        if (write(out, buf, (size_t)n) != n)
            rc = -1;
    if (n < 0)
        rc = -1;
    close(in);
    if (close(out) < 0)
        rc = -1;
    return rc < 0 ? -1 : chmod(to, mode);
}

void testfs_join(char *out, size_t len, const char *dir, const char *name)
{
    int n = snprintf(out, len, "%s/%s", dir, name);
    assert_true(n > 0 && (size_t)n < len);
}

int testfs_setup(char *root, size_t root_len, const char *tag, bool *loaded)
{
    *loaded = false;
    const char *t = getenv("TMPDIR");
    int n = snprintf(root, root_len, "%s/ei-%s-XXXXXX",
                     t != NULL && t[0] == '/' ? t : "/tmp", tag);
    if (n < 0 || (size_t)n >= root_len || mkdtemp(root) == NULL)
        return -1;
    char prov[PATH_MAX + 32], to[PATH_MAX + 64];
    snprintf(prov, sizeof(prov), "%s/prov", root);
    if (mkdir(prov, 0755) < 0 || chmod(prov, 0755) < 0)
        return -1;
    const char *so = getenv("TESTPROV_SO");
    const char *so_secret = getenv("TESTPROV_SECRET_SO");
#ifndef EI_HAVE_DLOPEN
    so = NULL; /* the loader is compiled out */
#endif
    if (so == NULL || so_secret == NULL || access(so, R_OK) != 0 ||
        access(so_secret, R_OK) != 0)
        return 0; /* the tests that need them skip */
    snprintf(to, sizeof(to), "%s/testprov.so", prov);
    if (testfs_copy_file(so, to, 0755) < 0)
        return -1;
    snprintf(to, sizeof(to), "%s/testprov-secret.so", prov);
    if (testfs_copy_file(so_secret, to, 0755) < 0)
        return -1;
    const char *path[] = {prov, NULL};
    struct ei_error err = {0};
    const struct ei_provider *p1 = ei_registry_find("testprov", path, &err);
    const struct ei_provider *p2 =
        ei_registry_find("testprov-secret", path, &err);
    if (p1 == NULL || p2 == NULL || strcmp(p2->name, "testprov-secret") != 0) {
        print_error("cannot load the test providers: %s\n", err.text);
        return -1;
    }
    *loaded = true;
    return 0;
}

void testfs_teardown(const char *root)
{
    ei_registry_unload();
    testfs_rm_rf(root);
}

void testfs_need_providers(bool loaded)
{
    if (!loaded) {
        print_error("skipped: no dlopen, or TESTPROV_SO or "
                    "TESTPROV_SECRET_SO not set or unreadable\n");
        skip();
    }
}

void testfs_case_dir(const char *root, char *dir, size_t len)
{
    static unsigned seq;
    int n = snprintf(dir, len, "%s/c%u", root, seq++);
    assert_true(n > 0 && (size_t)n < len);
    assert_int_equal(mkdir(dir, 0700), 0);
}

void testfs_make_files(const char *dir, const struct testfs_file *files,
                       size_t n)
{
    for (size_t i = 0; files != NULL && i < n && files[i].name != NULL; i++) {
        char path[PATH_MAX];
        testfs_join(path, sizeof(path), dir, files[i].name);
        char *slash = strrchr(path, '/');
        if (slash > path + strlen(dir)) {
            *slash = '\0';
            mkdir(path, 0700);
            *slash = '/';
        }
        assert_int_equal(testfs_write_file(path, files[i].content, 0600), 0);
    }
}

struct ei_config *testfs_load_config(const char *root, const char *dir,
                                     const char *text, const char *spec,
                                     struct ei_error *err)
{
    char path[PATH_MAX];
    testfs_join(path, sizeof(path), dir, "envinject.conf");
    size_t n = strlen(root) + strlen(text) + 64;
    char *body = malloc(n);
    assert_non_null(body);
    snprintf(body, n, "provider_path = [\"%s/prov\"];\n%s\n", root, text);
    assert_int_equal(testfs_write_file(path, body, 0600), 0);
    free(body);
    const char *specs[] = {spec, NULL};
    struct ei_config_args args = {
        .path = path,
        .path_given = true,
        .layer_specs = specs,
        .layer_specs_n = spec != NULL ? 1 : 0,
    };
    return ei_config_load(&args, err);
}

static int row_failures;

void testfs_row_fail(const char *what, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    print_error("%s: %s\n", what, msg);
    row_failures++;
}

void testfs_check_rows(void)
{
    int n = row_failures;
    row_failures = 0;
    if (n > 0)
        fail_msg("%d check%s failed", n, n == 1 ? "" : "s");
}
