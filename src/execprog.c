/* SPDX-License-Identifier: MIT */
/* The last step of run: the program's environment, the size check against
   the kernel's limits, the PATH search in the resulting environment and the
   execve. */
#include "execprog.h"

#include <errno.h>
#include <limits.h>
#include <endian.h>
#include <paths.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "../providers/common/keyglob.h"
#include "config.h"
#include "diag.h"
#include "envset.h"
#include "registry.h"
#include "resolve.h"

/* Linux's MAX_ARG_STRLEN: the longest single argv or envp string, counted
   with its NUL, is 32 pages. */
#define EI_ARG_STRLEN_PAGES 32

/* Linux caps the argument area at 3/4 of _STK_LIM (8 MiB) whatever the
   stack limit, so an unlimited stack does not lift ARG_MAX above this. */
#define EI_LINUX_ARG_CAP ((long)6 * 1024 * 1024)

/* How many of the largest strings the ARG_MAX message names. */
#define EI_LARGEST_N 3

/* Longest key, and longest program name, quoted in a message. */
#define EI_MSG_NAME_MAX 64
#define EI_MSG_PROG_MAX 240

/* The default search path when the environment has no PATH (confstr). */
#define EI_DEFPATH_LEN 256
#define EI_DEFPATH     "/bin:/usr/bin"

/* A string of the inherited environment, or a resolved key, with its
   key located.  32 bytes, not 40: a resolution of 200 keys takes a page
   of items less.  The lengths fit: a key is at most EI_KEY_MAX bytes, a
   string of environ or argv at most the kernel's 32 pages, and items_new
   refuses more than UINT32_MAX items. */
struct env_item {
    const char *s;
    uint32_t key_len;
    uint32_t idx; /* position in environ: the first of duplicates wins; or
                   in the resolution's set */
    /* the key's first 16 bytes, big-endian and padded with zeros (no key
       holds one), so that most comparisons are of two integers */
    uint64_t head[2];
};

static int key_cmp(const char *a, size_t a_len, const char *b, size_t b_len)
{
    int c = memcmp(a, b, a_len < b_len ? a_len : b_len);
    if (c != 0)
        return c;
    return (a_len > b_len) - (a_len < b_len);
}

#define ITEM_HEAD_LEN sizeof(((struct env_item *)0)->head)

static void item_set(struct env_item *it, const char *s, size_t key_len,
                     size_t idx)
{
    unsigned char b[ITEM_HEAD_LEN] = {0};
    memcpy(b, s, key_len < sizeof b ? key_len : sizeof b);
    memcpy(it->head, b, sizeof b);
    it->head[0] = be64toh(it->head[0]);
    it->head[1] = be64toh(it->head[1]);
    it->s = s;
    it->key_len = (uint32_t)key_len;
    it->idx = (uint32_t)idx;
}

/* item_key_cmp of items whose heads are alike: the keys begin alike (no
   key holds a zero), so the rest or the lengths decide. */
static int item_key_cmp_tail(const struct env_item *a, const struct env_item *b)
{
    if (a->key_len > ITEM_HEAD_LEN && b->key_len > ITEM_HEAD_LEN)
        return key_cmp(a->s + ITEM_HEAD_LEN, a->key_len - ITEM_HEAD_LEN,
                       b->s + ITEM_HEAD_LEN, b->key_len - ITEM_HEAD_LEN);
    return (a->key_len > b->key_len) - (a->key_len < b->key_len);
}

/* By key as key_cmp orders them; small enough to be inlined in the sort,
   where most comparisons end at the heads. */
static inline int item_key_cmp(const struct env_item *a,
                               const struct env_item *b)
{
    if (a->head[0] != b->head[0])
        return a->head[0] < b->head[0] ? -1 : 1;
    if (a->head[1] != b->head[1])
        return a->head[1] < b->head[1] ? -1 : 1;
    return item_key_cmp_tail(a, b);
}

/* By key, then by idx. */
static inline int item_cmp(const struct env_item *a, const struct env_item *b)
{
    int c = item_key_cmp(a, b);
    if (c != 0)
        return c;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

/* The longest run that items_sort sorts by insertion. */
#define ITEM_RUN 8

/* A merge sort of v[0..n) with tmp (n / 2 items) beside it: qsort would
   call a comparison through a pointer some 2,000 times at every start. */
static void items_sort(struct env_item *v, size_t n, struct env_item *tmp)
{
    if (n <= ITEM_RUN) {
        for (size_t i = 1; i < n; i++) {
            struct env_item it = v[i];
            size_t j = i;
            for (; j > 0 && item_cmp(&it, &v[j - 1]) < 0; j--)
                v[j] = v[j - 1];
            v[j] = it;
        }
        return;
    }
    size_t half = n / 2;
    items_sort(v, half, tmp);
    items_sort(v + half, n - half, tmp);
    /* halves already in order, as a file's keys often are: no merge */
    if (item_cmp(&v[half - 1], &v[half]) < 0)
        return;
    memcpy(tmp, v, half * sizeof(*v));
    size_t i = 0, j = half, k = 0;
    while (i < half && j < n)
        v[k++] = item_cmp(&v[j], &tmp[i]) < 0 ? v[j++] : tmp[i++];
    while (i < half)
        v[k++] = tmp[i++];
}

/* Room for total items, and after them items_sort's for total. */
static struct env_item *items_new(size_t total)
{
    if (total > UINT32_MAX ||
        total > SIZE_MAX / sizeof(struct env_item) / 2 - 1)
        return NULL;
    return malloc((total + total / 2 + 1) * sizeof(struct env_item));
}

/* Whether v[0..n), sorted, holds the key of it. */
static bool items_have(const struct env_item *v, size_t n,
                       const struct env_item *it)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = item_key_cmp(it, &v[mid]);
        if (c == 0)
            return true;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return false;
}

/* Sort v[0..n) and drop the duplicates after the first of each key;
   the number kept. */
static size_t items_sort_unique(struct env_item *v, size_t n,
                                struct env_item *tmp)
{
    items_sort(v, n, tmp);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (kept == 0 || item_key_cmp(&v[kept - 1], &v[i]) != 0)
            v[kept++] = v[i];
    return kept;
}

static size_t list_len(const char *const *v)
{
    size_t n = 0;
    while (v != NULL && v[n] != NULL)
        n++;
    return n;
}

/* "key=value" at *at, which moves past its NUL. */
static char *put_kv(char **at, const char *key, size_t key_len,
                    const char *value, size_t value_len)
{
    char *s = *at;
    memcpy(s, key, key_len);
    s[key_len] = '=';
    memcpy(s + key_len + 1, value, value_len);
    s[key_len + 1 + value_len] = '\0';
    *at = s + key_len + value_len + 2;
    return s;
}

/* What run removes from the program's environment: names (sorted, for
   items_have) and globs. */
struct removal {
    struct env_item *names;
    size_t names_n;
    uint64_t name_lens; /* bit l % 64: a name of length l */
    size_t globs_min_len; /* no glob matches a shorter name */
    struct ei_keyglob *globs;
    size_t globs_n;
    struct ei_keyglob_set glob_set;
};

static bool is_glob(const char *pattern)
{
    return strpbrk(pattern, "*?[") != NULL;
}

static void removal_free(struct removal *rm)
{
    free(rm->names);
    free(rm->globs);
}

static void count_pattern(const char *pattern, void *ctx)
{
    (void)pattern;
    (*(size_t *)ctx)++;
}

static void add_name(struct removal *rm, const char *name)
{
    item_set(&rm->names[rm->names_n], name, strlen(name), rm->names_n);
    rm->names_n++;
}

static void add_pattern(const char *pattern, void *ctx)
{
    struct removal *rm = ctx;
    if (is_glob(pattern))
        ei_keyglob_compile(&rm->globs[rm->globs_n++], pattern);
    else
        add_name(rm, pattern);
}

/* Every key removed from the result: UNSET entries of the resolution (with
   unset_entries), the configuration's and the command line's unset lists,
   the private key, and the variables that providers consume; each name
   once. */
static int removal_list(const struct ei_resolution *r,
                        const struct ei_exec_opts *o, bool unset_entries,
                        struct removal *rm)
{
    const struct ei_envset *final =
        r != NULL && unset_entries ? r->final : NULL;
    const struct ei_config *cfg = r != NULL ? r->cfg : NULL;
    const struct ei_layer *layers = r != NULL ? r->layers : NULL;
    size_t layers_n = layers != NULL ? r->layers_n : 0;
    size_t final_n = final != NULL ? ei_envset_count(final) : 0;
    size_t cfg_n = cfg != NULL ? list_len((const char *const *)cfg->unset) : 0;
    size_t opt_n = o != NULL ? list_len(o->unset) : 0;
    size_t consumed_n = 0;
    ei_registry_each_consumed(layers, layers_n, count_pattern, &consumed_n);

    memset(rm, 0, sizeof(*rm));
    if (final_n > SIZE_MAX / sizeof(char *) - cfg_n - opt_n - 3 ||
        final_n + cfg_n + opt_n + 3 > SIZE_MAX / sizeof(char *) - consumed_n)
        return -1;
    size_t names_max = final_n + cfg_n + opt_n + 3 + consumed_n;
    rm->names = items_new(names_max);
    rm->globs = malloc((consumed_n + 1) * sizeof(*rm->globs));
    if (rm->names == NULL || rm->globs == NULL) {
        removal_free(rm);
        return -1;
    }
    for (size_t i = 0; i < final_n; i++) {
        const struct ei_entry *e = ei_envset_at(final, i);
        if (e != NULL && (e->flags & EI_ENTRY_UNSET) != 0)
            add_name(rm, e->key);
    }
    for (size_t i = 0; i < cfg_n; i++)
        add_name(rm, cfg->unset[i]);
    for (size_t i = 0; i < opt_n; i++)
        add_name(rm, o->unset[i]);
    /* The core's own rule, not left to a provider: the sealed provider
       declares the key too, but it may be a shared object that no layer
       loaded, and then nothing else would drop it. */
    add_name(rm, EI_PRIVATE_KEY_ENV);
    add_name(rm, EI_CACHE_KEY_ENV);
    add_name(rm, EI_AUDIT_KEY_ENV);
    ei_registry_each_consumed(layers, layers_n, add_pattern, rm);
    ei_keyglob_set_init(&rm->glob_set, rm->globs, rm->globs_n, 0);
    rm->globs_min_len = SIZE_MAX;
    for (size_t i = 0; i < rm->globs_n; i++) {
        const struct ei_keyglob *g = &rm->globs[i];
        /* a glob of '*' and literal bytes needs those bytes in the name;
           fnmatch's may match anything */
        size_t need = g->kind == EI_KEYGLOB_FNMATCH ? 0 : g->core_len;
        if (need < rm->globs_min_len)
            rm->globs_min_len = need;
    }

    rm->names_n =
        items_sort_unique(rm->names, rm->names_n, rm->names + names_max);
    for (size_t i = 0; i < rm->names_n; i++)
        rm->name_lens |= (uint64_t)1 << (rm->names[i].key_len % 64);
    return 0;
}

/* Whether a removed name has key_len bytes, as far as name_lens says. */
static inline bool name_len_taken(const struct removal *rm, size_t key_len)
{
    return ((rm->name_lens >> (key_len % 64)) & 1) != 0;
}

/* removed_any of a key that may be removed. */
static int removed_search(const struct removal *rm, const char *key,
                          size_t key_len)
{
    if (name_len_taken(rm, key_len)) {
        struct env_item it;
        item_set(&it, key, key_len, 0);
        if (items_have(rm->names, rm->names_n, &it))
            return 1;
    }
    if (key_len < rm->globs_min_len)
        return 0;
    return ei_keyglob_set_any(&rm->glob_set, key, key_len);
}

/* Whether key[0..key_len) is removed: 1, 0, or -1 when out of memory. */
static inline int removed_any(const struct removal *rm, const char *key,
                              size_t key_len)
{
    /* most keys have a length that no removed name has, and are shorter
       than the consumed globs (DOTENV_PRIVATE_KEY_*): two tests, inlined,
       instead of a call, the search and the glob set's */
    if (!name_len_taken(rm, key_len) && key_len < rm->globs_min_len)
        return 0;
    return removed_search(rm, key, key_len);
}

struct ei_exec_filter {
    struct removal rm;
};

struct ei_exec_filter *ei_exec_filter_new(const struct ei_resolution *r,
                                          const char *const *unset)
{
    struct ei_exec_filter *f = malloc(sizeof(*f));
    const struct ei_exec_opts o = {.unset = unset};
    if (f != NULL && removal_list(r, &o, true, &f->rm) < 0) {
        free(f);
        f = NULL;
    }
    return f;
}

int ei_exec_filter_removes(const struct ei_exec_filter *f, const char *key)
{
    return removed_any(&f->rm, key, strlen(key));
}

void ei_exec_filter_free(struct ei_exec_filter *f)
{
    if (f != NULL)
        removal_free(&f->rm);
    free(f);
}

/* Items sorted by key, and the bytes their "key=value" strings take. */
struct env_list {
    struct env_item *v;
    size_t n;
    size_t bytes;   /* with the strings' NULs */
    size_t longest; /* the longest string, with its NUL */
};

/* Count a "key=value" string into l->bytes and l->longest: -1 when that
   overflows. */
static int list_count(struct env_list *l, size_t key_len, size_t value_len)
{
    if (key_len > SIZE_MAX - 2 || value_len > SIZE_MAX - 2 - key_len ||
        key_len + 2 + value_len > SIZE_MAX - l->bytes)
        return -1;
    size_t size = key_len + 2 + value_len;
    l->bytes += size;
    if (size > l->longest)
        l->longest = size;
    return 0;
}

/* What ei_exec_envp knew of the block it returns, kept before the array:
   the sizes that ei_exec_check_size measures string by string. */
struct envp_head {
    size_t n;       /* strings */
    size_t bytes;   /* of the strings, with their NULs */
    size_t longest; /* the longest string, with its NUL */
};

/* The resolution's keys that are set and not removed, sorted, and in
   unset those of its UNSET entries (the removal has none of them: this is
   the one pass over the set); -1 when out of memory. */
static int resolved_list(const struct ei_envset *final,
                         const struct removal *rm, struct env_list *l,
                         struct env_list *unset)
{
    size_t total = ei_envset_count(final);
    l->v = items_new(total);
    if (l->v == NULL)
        return -1;
    for (size_t i = 0; i < total; i++) {
        const struct ei_entry *e = ei_envset_at(final, i);
        if ((e->flags & EI_ENTRY_UNSET) != 0) {
            if (unset->v == NULL && (unset->v = items_new(total)) == NULL)
                return -1;
            item_set(&unset->v[unset->n++], e->key, strlen(e->key), i);
            continue;
        }
        size_t key_len = strlen(e->key);
        int gone = removed_any(rm, e->key, key_len);
        if (gone < 0 || (gone == 0 && list_count(l, key_len, e->value_len) < 0))
            return -1;
        if (gone == 0)
            item_set(&l->v[l->n++], e->key, key_len, i);
    }
    items_sort(l->v, l->n, l->v + total);
    if (unset->v != NULL)
        items_sort(unset->v, unset->n, unset->v + total);
    return 0;
}

/* The inherited strings whose key is neither resolved (res, unset) nor
   removed, sorted by key, duplicates after the first dropped (getenv finds
   the first one too); -1 when out of memory. */
static int inherited_list(const char *const *inherited,
                          const struct env_list *res,
                          const struct env_list *unset,
                          const struct removal *rm, struct env_list *l)
{
    size_t total = list_len(inherited);
    l->v = items_new(total);
    if (l->v == NULL)
        return -1;
    for (size_t i = 0; i < total; i++) {
        const char *eq = strchr(inherited[i], '=');
        /* without a key there is nothing to set or unset: dropped */
        if (eq == NULL || eq == inherited[i])
            continue;
        struct env_item *it = &l->v[l->n];
        item_set(it, inherited[i], (size_t)(eq - inherited[i]), i);
        /* A resolved key replaces the string, and an env layer resolves
           every variable: a search among the sorted resolved keys costs
           less than sorting the string with the others, and leaves no
           equal keys for the merge (some 20 K instructions a start). */
        if (items_have(res->v, res->n, it) ||
            items_have(unset->v, unset->n, it))
            continue;
        int gone = removed_any(rm, it->s, it->key_len);
        if (gone < 0)
            return -1;
        if (gone == 0)
            l->n++;
    }
    l->n = items_sort_unique(l->v, l->n, l->v + total);
    for (size_t i = 0; i < l->n; i++) {
        const struct env_item *it = &l->v[i];
        if (list_count(l, it->key_len, strlen(it->s + it->key_len + 1)) < 0)
            return -1;
    }
    return 0;
}

char **ei_exec_envp(const struct ei_resolution *r, const char *const *inherited,
                    const struct ei_exec_opts *o, struct ei_error *err)
{
    struct removal rm = {0};
    struct env_list inh = {0}, res = {0}, unset = {0};

    /* the resolution's UNSET entries come with its other keys */
    if (removal_list(r, o, false, &rm) < 0)
        goto nomem;
    if (r != NULL && r->final != NULL &&
        resolved_list(r->final, &rm, &res, &unset) < 0)
        goto nomem;
    if ((o == NULL || !o->pristine) &&
        inherited_list(inherited, &res, &unset, &rm, &inh) < 0)
        goto nomem;
    /* one allocation for the array and its strings: a few hundred
       mallocs (and as many frees) fewer at every start */
    size_t n = inh.n + res.n;
    size_t array = sizeof(struct envp_head) + (n + 1) * sizeof(char *);
    if (n > SIZE_MAX / sizeof(char *) - 1 - sizeof(struct envp_head) ||
        inh.bytes > SIZE_MAX - res.bytes ||
        inh.bytes + res.bytes > SIZE_MAX - array)
        goto nomem;
    struct envp_head *head = malloc(array + inh.bytes + res.bytes);
    if (head == NULL)
        goto nomem;
    head->n = n;
    head->bytes = inh.bytes + res.bytes;
    head->longest = inh.longest > res.longest ? inh.longest : res.longest;
    char **out = (char **)(head + 1);
    char *at = (char *)(out + n + 1);

    /* Both lists are sorted by key, and no key is in both: one merge. */
    size_t i = 0, j = 0;
    for (size_t k = 0; k < n; k++) {
        if (j == res.n ||
            (i < inh.n && item_key_cmp(&inh.v[i], &res.v[j]) < 0)) {
            const struct env_item *it = &inh.v[i++];
            const char *value = it->s + it->key_len + 1;
            out[k] = put_kv(&at, it->s, it->key_len, value, strlen(value));
        } else {
            const struct env_item *it = &res.v[j++];
            const struct ei_entry *e = ei_envset_at(r->final, it->idx);
            out[k] = put_kv(&at, it->s, it->key_len, e->value, e->value_len);
        }
    }
    out[n] = NULL;
    removal_free(&rm);
    free(inh.v);
    free(res.v);
    free(unset.v);
    return out;

nomem:
    removal_free(&rm);
    free(inh.v);
    free(res.v);
    free(unset.v);
    ei_error_set(err, EI_NOMEM, ENOMEM, NULL, NULL,
                 "cannot build the program's environment");
    return NULL;
}

static struct envp_head *envp_head(char *const *envp)
{
    return (struct envp_head *)envp - 1;
}

void ei_exec_envp_free(char **envp)
{
    if (envp == NULL)
        return;
    /* the strings are in the array's allocation, after it */
    struct envp_head *head = envp_head(envp);
    sodium_memzero(envp + head->n + 1, head->bytes);
    free(head);
}

void ei_exec_wipe_dropped(char **env, char *const *envp)
{
    for (size_t i = 0; env != NULL && env[i] != NULL; i++) {
        char *eq = strchr(env[i], '=');
        if (eq == NULL)
            continue;
        size_t n = (size_t)(eq - env[i]) + 1; /* "KEY=" */
        bool passed = false;
        for (size_t j = 0; envp[j] != NULL && !passed; j++)
            passed = strncmp(envp[j], env[i], n) == 0;
        if (!passed)
            sodium_memzero(eq + 1, strlen(eq + 1));
    }
}

/* One of the largest strings: a key of envp, or an argument. */
struct big {
    const char *name;
    size_t name_len;
    size_t arg; /* argument index when name is NULL */
    size_t size;
};

static void big_note(struct big *top, const struct big *b)
{
    for (size_t i = 0; i < EI_LARGEST_N; i++) {
        if (top[i].size < b->size) {
            memmove(&top[i + 1], &top[i],
                    (EI_LARGEST_N - 1 - i) * sizeof(*top));
            top[i] = *b;
            return;
        }
    }
}

static void big_describe(const struct big *b, char *buf, size_t len)
{
    int n;
    if (b->name != NULL)
        n = snprintf(buf, len, "%.*s (%zu bytes)",
                     (int)(b->name_len < EI_MSG_NAME_MAX ? b->name_len
                                                         : EI_MSG_NAME_MAX),
                     b->name, b->size);
    else
        n = snprintf(buf, len, "argument %zu (%zu bytes)", b->arg, b->size);
    if (n < 0 || (size_t)n >= len)
        buf[0] = '\0';
}

static long arg_max(void)
{
    long max = sysconf(_SC_ARG_MAX);
#ifdef __linux__
    if (max < 0 || max > EI_LINUX_ARG_CAP)
        max = EI_LINUX_ARG_CAP;
#endif
    return max;
}

/* The kernel's limit on one string of argv or envp, with its NUL. */
static size_t per_string_max(void)
{
    long page = sysconf(_SC_PAGESIZE);
    return (page > 0 ? (size_t)page : 4096) * EI_ARG_STRLEN_PAGES;
}

int ei_exec_check_size(char *const *argv, char *const *envp,
                       struct ei_error *err)
{
    size_t per_string = per_string_max();
    size_t total = 0;
    struct big top[EI_LARGEST_N];
    memset(top, 0, sizeof(top));

    for (size_t i = 0; argv != NULL && argv[i] != NULL; i++) {
        size_t size = strlen(argv[i]) + 1;
        if (size > per_string)
            return ei_error_set(err, EI_CANTEXEC, 0, NULL, NULL,
                                "argument %zu (%zu bytes) exceeds the system "
                                "limit of %zu bytes per argument",
                                i, size, per_string);
        total += size + sizeof(char *);
        struct big b = {NULL, 0, i, size};
        big_note(top, &b);
    }
    for (size_t i = 0; envp != NULL && envp[i] != NULL; i++) {
        size_t size = strlen(envp[i]) + 1;
        const char *eq = strchr(envp[i], '=');
        size_t key_len = eq != NULL ? (size_t)(eq - envp[i]) : size - 1;
        if (size > per_string)
            return ei_error_set(
                err, EI_CANTEXEC, 0, NULL, NULL,
                "value of %.*s (%zu bytes) exceeds the system limit of %zu "
                "bytes per variable",
                (int)(key_len < EI_MSG_NAME_MAX ? key_len : EI_MSG_NAME_MAX),
                envp[i], size, per_string);
        total += size + sizeof(char *);
        struct big b = {envp[i], key_len, 0, size};
        big_note(top, &b);
    }

    long max = arg_max();
    if (max < 0 || total <= (size_t)max)
        return 0;

    char names[EI_LARGEST_N][EI_MSG_NAME_MAX + 48];
    for (size_t i = 0; i < EI_LARGEST_N; i++) {
        names[i][0] = '\0';
        if (top[i].size > 0)
            big_describe(&top[i], names[i], sizeof(names[i]));
    }
    return ei_error_set(err, EI_CANTEXEC, 0, NULL, NULL,
                        "environment and arguments (%zu bytes) exceed "
                        "ARG_MAX (%ld); largest: %s%s%s%s%s",
                        total, max, names[0], names[1][0] ? ", " : "", names[1],
                        names[2][0] ? ", " : "", names[2]);
}

int ei_exec_check_envp(char *const *argv, char *const *envp,
                       struct ei_error *err)
{
    /* the sizes of envp's strings were noted as they were written: only
       the arguments are measured, not some 200 strings again */
    const struct envp_head *head = envp_head(envp);
    size_t per_string = per_string_max();
    bool fits = head->longest <= per_string;
    size_t total = head->bytes + head->n * sizeof(char *);
    for (size_t i = 0; argv != NULL && argv[i] != NULL; i++) {
        size_t size = strlen(argv[i]) + 1;
        fits = fits && size <= per_string;
        total += size + sizeof(char *);
    }
    long max = arg_max();
    if (fits && (max < 0 || total <= (size_t)max))
        return 0;
    /* what does not fit is named by the check that measures */
    return ei_exec_check_size(argv, envp, err);
}

/* The value of PATH in envp, or NULL. */
static const char *envp_path(char *const *envp)
{
    static const char key[] = "PATH=";
    for (size_t i = 0; envp[i] != NULL; i++)
        if (strncmp(envp[i], key, sizeof(key) - 1) == 0)
            return envp[i] + sizeof(key) - 1;
    return NULL;
}

/* What execvp does with a file the kernel cannot execute: hand it to the
   shell as a script.  Returns with errno set when that fails too. */
static void exec_shell(const char *file, char *const *argv, char *const *envp)
{
    char sh[] = _PATH_BSHELL;
    size_t n = list_len((const char *const *)argv);
    char **v = malloc((n + 2) * sizeof(*v));
    if (v == NULL) {
        errno = ENOMEM;
        return;
    }
    v[0] = sh;
    v[1] = (char *)file;
    for (size_t i = 1; i <= n; i++)
        v[i + 1] = argv[i];
    execve(_PATH_BSHELL, v, envp);
    int saved = errno;
    free(v);
    errno = saved;
}

/* The exit statuses of env(1): 127 only when there is no such file. */
static int exec_failed(const char *prog, int errnum, struct ei_error *err)
{
    int len = (int)strnlen(prog, EI_MSG_PROG_MAX);
    if (errnum == ENOENT)
        return ei_error_set(err, EI_NOPROG, 0, NULL, NULL, "%.*s: not found",
                            len, prog);
    if (errnum == EACCES)
        return ei_error_set(err, EI_CANTEXEC, 0, NULL, NULL,
                            "%.*s: permission denied", len, prog);
    return ei_error_set(err, EI_CANTEXEC, errnum, NULL, NULL,
                        "%.*s: cannot execute", len, prog);
}

int ei_exec(char *const *argv, char *const *envp, struct ei_error *err)
{
    char *const no_env[] = {NULL};
    if (envp == NULL)
        envp = no_env;
    if (argv == NULL || argv[0] == NULL || argv[0][0] == '\0')
        return ei_error_set(err, EI_NOPROG, 0, NULL, NULL,
                            "empty program name");
    const char *prog = argv[0];

    if (strchr(prog, '/') != NULL) {
        execve(prog, argv, envp);
        if (errno == ENOEXEC)
            exec_shell(prog, argv, envp);
        return exec_failed(prog, errno, err);
    }

    size_t prog_len = strlen(prog);
    if (prog_len > NAME_MAX)
        return exec_failed(prog, ENAMETOOLONG, err);

    /* The search uses the PATH the program will see, not envinject's own:
       a PATH set by a layer must decide which program runs. */
    const char *path = envp_path(envp);
    char defpath[EI_DEFPATH_LEN];
    if (path == NULL) {
        size_t n = confstr(_CS_PATH, defpath, sizeof(defpath));
        path = n > 0 && n <= sizeof(defpath) ? defpath : EI_DEFPATH;
    }

    bool seen_eacces = false;
    char file[PATH_MAX];
    for (const char *p = path;; p++) {
        const char *end = strchrnul(p, ':');
        size_t dir_len = (size_t)(end - p);
        /* an empty element is the current directory, as in execvp */
        const char *dir = dir_len > 0 ? p : ".";
        if (dir_len == 0)
            dir_len = 1;
        if (dir_len + 1 + prog_len + 1 <= sizeof(file)) {
            memcpy(file, dir, dir_len);
            file[dir_len] = '/';
            memcpy(file + dir_len + 1, prog, prog_len + 1);
            execve(file, argv, envp);
            switch (errno) {
            case EACCES:
                seen_eacces = true;
                break;
            case ENOENT:
            case ENOTDIR:
            case ENODEV:
            case ESTALE:
            case ETIMEDOUT:
                break;
            case ENOEXEC:
                exec_shell(file, argv, envp);
                return exec_failed(prog, errno, err);
            default:
                return exec_failed(prog, errno, err);
            }
        }
        p = end;
        if (*p == '\0')
            break;
    }
    return exec_failed(prog, seen_eacces ? EACCES : ENOENT, err);
}
