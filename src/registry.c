/* SPDX-License-Identifier: MIT */
/* Providers: the built-in table and the loader of shared objects. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef EI_HAVE_DLOPEN
#include <dlfcn.h>
#endif

#include <jansson.h>
#include <sodium.h>

#include "diag.h"
#include "layer.h"
#include "registry.h"
#include "secmem.h"

#ifndef EI_PROVIDER_DIR
#define EI_PROVIDER_DIR "/usr/local/lib/envinject/providers"
#endif

#define PROVIDER_NAME_MAX 64
#define LOADED_MAX        64

/* configure lists the built-in providers as X(ident) ... (ei_autoconf.h):
   adding one touches nothing here */
#define X(ident) extern const struct ei_provider ei_provider_##ident;
EI_BUILTIN_PROVIDERS
#undef X

static const struct ei_provider *const builtin[] = {
#define X(ident) &ei_provider_##ident,
    EI_BUILTIN_PROVIDERS
#undef X
    NULL};

#ifdef EI_HAVE_DLOPEN
/* Shared objects loaded so far; the registry's own state (style.md 2.5). */
static struct {
    void *handle;
    const struct ei_provider *prov;
    int fd; /* open while loaded: glibc knows the object as /proc/self/fd/N */
} loaded[LOADED_MAX];
static size_t loaded_n;
#endif

const struct ei_provider *const *ei_registry_builtin(void)
{
    return builtin;
}

bool ei_registry_can_load(void)
{
#ifdef EI_HAVE_DLOPEN
    return true;
#else
    return false;
#endif
}

const char *ei_registry_default_path(void)
{
    return EI_PROVIDER_DIR;
}

/* Lowercase letters, digits and '-': a name is also a file name. */
static bool name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > PROVIDER_NAME_MAX)
        return false;
    for (const char *p = name; *p != '\0'; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '-'))
            return false;
    return true;
}

int ei_registry_check(const struct ei_provider *p, const char *file_name,
                      const char *where, struct ei_error *err)
{
    if (p->abi != EI_PROVIDER_ABI)
        return ei_error_set(err, EI_BADCONFIG, 0, NULL, where,
                            "provider built for ABI %u, this envinject has "
                            "ABI %d",
                            (unsigned)p->abi, EI_PROVIDER_ABI),
               -1;
    /* every field up to destroy is read, so the descriptor must hold it */
    size_t need = offsetof(struct ei_provider, destroy) + sizeof(p->destroy);
    if (p->size < need)
        return ei_error_set(err, EI_BADCONFIG, 0, NULL, where,
                            "provider descriptor too small (%u bytes, need "
                            "%zu)",
                            (unsigned)p->size, need),
               -1;
    if (p->name == NULL || strcmp(p->name, file_name) != 0)
        return ei_error_set(err, EI_BADCONFIG, 0, NULL, where,
                            "provider calls itself '%.64s', expected '%s'",
                            p->name != NULL ? p->name : "(null)", file_name),
               -1;
    if (p->configure == NULL || p->fetch == NULL || p->destroy == NULL)
        return ei_error_set(err, EI_BADCONFIG, 0, NULL, where,
                            "provider lacks configure, fetch or destroy"),
               -1;
    return 0;
}

static const struct ei_provider *find_builtin(const char *name)
{
    for (const struct ei_provider *const *p = builtin; *p != NULL; p++)
        if (strcmp((*p)->name, name) == 0)
            return *p;
    return NULL;
}

#ifdef EI_HAVE_DLOPEN
/* Owned by root or by us, and writable by nobody else (as doas checks). */
static int check_owner(const struct stat *st, const char *path,
                       struct ei_error *err)
{
    if (st->st_uid != 0 && st->st_uid != geteuid())
        return ei_error_set(err, EI_BADCONFIG, 0, NULL, path,
                            "refused: owned by uid %u, neither root nor the "
                            "user running envinject",
                            (unsigned)st->st_uid),
               -1;
    if (st->st_mode & (S_IWGRP | S_IWOTH))
        return ei_error_set(err, EI_BADCONFIG, 0, NULL, path,
                            "refused: writable by group or others (chmod "
                            "go-w %s)",
                            path),
               -1;
    return 0;
}

/*
 * With jansson and libsodium linked into envinject (static dependencies,
 * configure's default), a provider that links them gets copies of its own
 * from the shared libraries, which nothing has set up: sodium_malloc in an
 * uninitialised libsodium aborts, and jansson would free decoded strings
 * without wiping them.  Those copies get what main gave the core's own
 * (envinject-provider(3) promises that the core initialises libsodium).
 * With shared libraries dlsym finds the very functions the core called,
 * and nothing is done twice.  -1 when sodium_init fails.
 */
static int init_library_copies(void *h)
{
    int (*sodium_init_fn)(void) = NULL;
    void (*alloc_funcs_fn)(json_malloc_t, json_free_t) = NULL;
    /* POSIX's way from dlsym's object pointer to a function pointer */
    *(void **)&sodium_init_fn = dlsym(h, "sodium_init");
    *(void **)&alloc_funcs_fn = dlsym(h, "json_set_alloc_funcs");
    /* the core's own first: main leaves it to the first secret
       allocation, and a provider may call libsodium from configure */
    if (sodium_init() < 0 || (sodium_init_fn != NULL &&
                              sodium_init_fn != sodium_init &&
                              sodium_init_fn() < 0))
        return -1;
    if (alloc_funcs_fn != NULL && alloc_funcs_fn != json_set_alloc_funcs)
        alloc_funcs_fn(ei_wipe_malloc, ei_wipe_free);
    return 0;
}

static const struct ei_provider *load_one(const char *dir, const char *name,
                                          bool *absent, struct ei_error *err)
{
    char path[PATH_MAX];
    *absent = false;
    if (snprintf(path, sizeof(path), "%s/%s.so", dir, name) >=
        (int)sizeof(path))
        return NULL;
    /* O_NONBLOCK: a FIFO is refused below instead of waiting for a writer */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR) {
            *absent = true;
            return NULL;
        }
        ei_error_set(err, EI_BADCONFIG, errno, NULL, path,
                     errno == ELOOP ? "refused: a symbolic link"
                                    : "cannot open provider");
        return NULL;
    }
    struct stat st, dst;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        ei_error_set(err, EI_BADCONFIG, 0, NULL, path,
                     "refused: not a regular file");
        close(fd);
        return NULL;
    }
    if (check_owner(&st, path, err) < 0 ||
        (stat(dir, &dst) == 0 && check_owner(&dst, dir, err) < 0)) {
        close(fd);
        return NULL;
    }
    if (loaded_n == LOADED_MAX) {
        ei_error_set(err, EI_BADCONFIG, 0, NULL, path,
                     "too many providers loaded");
        close(fd);
        return NULL;
    }
    /* load what was checked, not whatever the path names by now */
    char fdpath[64];
    snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
    void *h = dlopen(fdpath, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL)
        h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        ei_error_set(err, EI_BADCONFIG, 0, NULL, path,
                     "cannot load: %.160s (ldd %s lists missing libraries)",
                     dlerror(), path);
        close(fd);
        return NULL;
    }
    const struct ei_provider *p = dlsym(h, EI_PROVIDER_SYMBOL);
    if (p == NULL) {
        ei_error_set(err, EI_BADCONFIG, 0, NULL, path, "refused: no symbol %s",
                     EI_PROVIDER_SYMBOL);
        dlclose(h);
        close(fd);
        return NULL;
    }
    if (ei_registry_check(p, name, path, err) < 0) {
        dlclose(h);
        close(fd);
        return NULL;
    }
    if (init_library_copies(h) < 0) {
        ei_error_set(err, EI_INTERNAL, 0, NULL, path,
                     "cannot initialise the provider's libsodium");
        dlclose(h);
        close(fd);
        return NULL;
    }
    loaded[loaded_n].fd = fd;
    loaded[loaded_n].handle = h;
    loaded[loaded_n].prov = p;
    loaded_n++;
    return p;
}
#endif

const struct ei_provider *ei_registry_find(const char *name,
                                           const char *const *path,
                                           struct ei_error *err)
{
    const struct ei_provider *p = find_builtin(name);
    if (p != NULL)
        return p;
    if (!name_valid(name))
        return ei_error_set(err, EI_BADCONFIG, 0, NULL, NULL,
                            "invalid provider name (expected lowercase "
                            "letters, digits and '-')"),
               NULL;
#ifdef EI_HAVE_DLOPEN
    for (size_t i = 0; i < loaded_n; i++)
        if (strcmp(loaded[i].prov->name, name) == 0)
            return loaded[i].prov;
    for (size_t i = 0; path != NULL && path[i] != NULL; i++) {
        bool absent;
        p = load_one(path[i], name, &absent, err);
        if (p != NULL || !absent)
            return p;
    }
    bool absent;
    p = load_one(EI_PROVIDER_DIR, name, &absent, err);
    if (p != NULL || !absent)
        return p;
#endif
    return ei_error_set(err, EI_BADCONFIG, 0, NULL, NULL,
                        "unknown provider '%s' (envinject providers lists "
                        "them)",
                        name),
           NULL;
}

void ei_registry_each(const char *const *path,
                      void (*fn)(const struct ei_provider *p, const char *file,
                                 const struct ei_error *refused, void *ctx),
                      void *ctx)
{
    for (const struct ei_provider *const *p = builtin; *p != NULL; p++)
        fn(*p, NULL, NULL, ctx);
#ifdef EI_HAVE_DLOPEN
    size_t dirs_n = 0;
    while (path != NULL && path[dirs_n] != NULL)
        dirs_n++;
    for (size_t i = 0; i <= dirs_n; i++) {
        const char *dir = i < dirs_n ? path[i] : EI_PROVIDER_DIR;
        DIR *d = opendir(dir);
        if (d == NULL)
            continue;
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            size_t n = strlen(de->d_name);
            if (n < 4 || strcmp(de->d_name + n - 3, ".so") != 0)
                continue;
            char name[PROVIDER_NAME_MAX + 1];
            if (n - 3 > PROVIDER_NAME_MAX)
                continue;
            memcpy(name, de->d_name, n - 3);
            name[n - 3] = '\0';
            char file[PATH_MAX];
            snprintf(file, sizeof(file), "%s/%s", dir, de->d_name);
            struct ei_error e = {0};
            if (find_builtin(name) != NULL) {
                ei_error_set(&e, EI_BADCONFIG, 0, NULL, file,
                             "refused: %s is a built-in provider", name);
                fn(NULL, file, &e, ctx);
                continue;
            }
            bool absent;
            const struct ei_provider *p =
                name_valid(name) ? load_one(dir, name, &absent, &e) : NULL;
            if (p == NULL && e.status == EI_OK)
                ei_error_set(&e, EI_BADCONFIG, 0, NULL, file,
                             "refused: invalid provider name");
            fn(p, file, p != NULL ? NULL : &e, ctx);
        }
        closedir(d);
    }
#else
    (void)path;
#endif
}

static bool is_builtin(const struct ei_provider *p)
{
    for (const struct ei_provider *const *b = builtin; *b != NULL; b++)
        if (*b == p)
            return true;
    return false;
}

static void each_pattern(const struct ei_provider *p,
                         void (*fn)(const char *pattern, void *ctx), void *ctx)
{
    /* appended to the descriptor: an older provider's ends before it */
    size_t need =
        offsetof(struct ei_provider, env_consumed) + sizeof(p->env_consumed);
    if (p == NULL || p->size < need)
        return;
    for (const char *const *c = p->env_consumed; c != NULL && *c != NULL; c++)
        fn(*c, ctx);
}

void ei_registry_each_consumed(const struct ei_layer *layers, size_t layers_n,
                               void (*fn)(const char *pattern, void *ctx),
                               void *ctx)
{
    for (const struct ei_provider *const *b = builtin; *b != NULL; b++)
        each_pattern(*b, fn, ctx);
    for (size_t i = 0; i < layers_n; i++) {
        const struct ei_provider *p = layers[i].prov;
        bool seen = is_builtin(p);
        for (size_t j = 0; j < i && !seen; j++)
            seen = layers[j].prov == p;
        if (!seen)
            each_pattern(p, fn, ctx);
    }
}

void ei_registry_unload(void)
{
#ifdef EI_HAVE_DLOPEN
    for (size_t i = 0; i < loaded_n; i++) {
        dlclose(loaded[i].handle);
        close(loaded[i].fd);
    }
    loaded_n = 0;
#endif
}
