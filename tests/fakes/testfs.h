/* SPDX-License-Identifier: MIT */
/* Scratch folders and the loadable test providers, for the unit tests of
   the layer, resolution and registry modules. */
#ifndef EI_TESTS_TESTFS_H
#define EI_TESTS_TESTFS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"

/* Remove a tree, restoring write permission a test took away. */
void testfs_rm_rf(const char *path);

/* Write a file whole with mode; -1 on any failure. */
int testfs_write_file(const char *path, const char *content, mode_t mode);

/* Copy a file with mode; -1 on any failure. */
int testfs_copy_file(const char *from, const char *to, mode_t mode);

/* dir/name into out; the calling test fails rather than truncate. */
void testfs_join(char *out, size_t len, const char *dir, const char *name);

/*
 * Make a scratch folder $TMPDIR/ei-TAG-XXXXXX in root (root_len bytes)
 * with a "prov" folder holding testprov.so and testprov-secret.so copied
 * from $TESTPROV_SO and $TESTPROV_SECRET_SO, and load both through the
 * registry.  *loaded tells whether they could be (no dlopen, or the
 * variables unset: tests that need them skip).  -1 on a real failure.
 */
int testfs_setup(char *root, size_t root_len, const char *tag, bool *loaded);

/* Unload the providers and remove the scratch folder. */
void testfs_teardown(const char *root);

/* Skip the calling test when testfs_setup could not load the providers. */
void testfs_need_providers(bool loaded);

/* One file of a case: name is relative, one level of folder is made. */
struct testfs_file {
    const char *name;
    const char *content;
};

/* A fresh folder root/cN for one case; its path goes to dir. */
void testfs_case_dir(const char *root, char *dir, size_t len);

/* Write up to n files, stopping at the first without a name; files may
   be NULL. */
void testfs_make_files(const char *dir, const struct testfs_file *files,
                       size_t n);

/* Write DIR/envinject.conf = the provider_path line of root/prov (line 1),
   then text, and load it with one --layer spec (NULL: none). */
struct ei_config *testfs_load_config(const char *root, const char *dir,
                                     const char *text, const char *spec,
                                     struct ei_error *err);

/* Checks that report a failed row and go on; testfs_check_rows fails the
   test when any did since the last call. */
void testfs_row_fail(const char *what, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void testfs_check_rows(void);

#endif
