/* SPDX-License-Identifier: MIT */
/* Where a locator points in the working tree: the file and line that a
   check report and a CI annotation name. */
#ifndef EI_PLACE_H
#define EI_PLACE_H

/*
 * The file a locator names, "PATH:LINE" or "PATH" (a file layer's value, a
 * place in the configuration), when PATH, taken relative to dir unless it
 * is absolute, is a regular file.  Returns the file's name relative to the
 * working directory when the file lies below it, else its absolute name
 * (malloc'd; free it), and sets *line to LINE, or to 0 when the locator
 * has none.  Returns NULL when the locator names no file (an etcd key,
 * "$HOME", a missing file) or when out of memory.  dir NULL is the
 * working directory.
 */
char *ei_place_file(const char *locator, const char *dir, long *line);

#endif
