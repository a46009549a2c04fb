/* SPDX-License-Identifier: MIT */
/* Scratch folders and the loadable test providers, for the unit tests of
   the layer, resolution and registry modules. */
#ifndef EI_TESTS_TESTFS_H
#define EI_TESTS_TESTFS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

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

#endif
