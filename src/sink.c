/* SPDX-License-Identifier: MIT */
/* The sink a layer hands to its provider's fetch: key mapping, the
   layer's key filter, the secret decision, and staging. */
#include <errno.h>
#include <string.h>

#include "../providers/common/keyglob.h"

#include "diag.h"
#include "envset.h"
#include "layer.h"
#include "secmem.h"
#include "sink.h"

int ei_key_map(const char *const *name, size_t name_n, bool case_preserve,
               char *out, size_t out_len)
{
    size_t o = 0;
    if (name_n == 0 || out_len == 0)
        return -1;
    for (size_t i = 0; i < name_n; i++) {
        if (i > 0) {
            if (o + 1 >= out_len)
                return -1;
            out[o++] = '_';
        }
        for (const unsigned char *p = (const unsigned char *)name[i];
             *p != '\0'; p++) {
            if (o == 0 && *p >= '0' && *p <= '9') {
                if (o + 1 >= out_len)
                    return -1;
                out[o++] = '_';
            }
            if (o + 1 >= out_len)
                return -1;
            char c = (char)*p;
            if (c >= 'a' && c <= 'z')
                c = case_preserve ? c : (char)(c - 'a' + 'A');
            else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '_'))
                c = '_';
            out[o++] = c;
        }
    }
    if (o == 0)
        return -1;
    out[o] = '\0';
    return 0;
}

/* The length of name's segments joined by '/', without the NUL. */
static size_t joined_len(const char *const *name, size_t name_n)
{
    size_t len = name_n - 1;
    for (size_t i = 0; i < name_n; i++)
        len += strlen(name[i]);
    return len;
}

/* name's segments joined by '/' at out, which has room for them */
static void join_name(char *out, const char *const *name, size_t name_n)
{
    for (size_t i = 0; i < name_n; i++) {
        if (i > 0)
            *out++ = '/';
        out = stpcpy(out, name[i]);
    }
}

/* A key is NUL-terminated: the glob needs no copy of it, so there is no
   out of memory to report. */
static bool glob_any(const char *const *globs, const char *key)
{
    size_t len = strlen(key);
    for (; *globs != NULL; globs++)
        if (ei_keyglob_match(*globs, key, len, 0) > 0)
            return true;
    return false;
}

const char *ei_key_filter(const char *prefix, bool strip_prefix,
                          const char *const *include,
                          const char *const *exclude, const char *key)
{
    if (prefix != NULL) {
        size_t pl = strlen(prefix);
        if (strncmp(key, prefix, pl) != 0)
            return NULL;
        if (strip_prefix) {
            key += pl;
            if (!ei_key_valid(key, strlen(key)))
                return NULL; /* nothing, or a digit, left after the prefix */
        }
    }
    if (include != NULL && !glob_any(include, key))
        return NULL;
    if (exclude != NULL && glob_any(exclude, key))
        return NULL;
    return key;
}

const char *ei_sink_filter(const struct ei_layer *l, const char *key)
{
    const char *prefix =
        (l->prov->flags & EI_PROV_OWN_PREFIX) ? NULL : l->opts.prefix;
    return ei_key_filter(prefix, l->opts.strip_prefix, l->opts.include,
                         l->opts.exclude, key);
}

static int sink_emit(struct ei_sink *sink, const char *const *name,
                     size_t name_n, const char *value, size_t value_len,
                     const char *locator, unsigned flags, struct ei_error *err)
{
    struct ei_layer *l = sink->ctx;
    char keybuf[EI_KEY_MAX + 1];
    const char *key;
    size_t key_len;

    if (name_n == 0 || name[0] == NULL)
        return ei_error_set(err, EI_INTERNAL, 0, l->name, locator,
                            "provider emitted an entry without a name"),
               -1;
    if (flags & EI_ENTRY_VERBATIM) {
        key = name[0];
        key_len = ei_key_len(key, EI_KEY_MAX);
        if (key_len == 0)
            return ei_error_set(err, EI_BADDATA, 0, l->name, locator,
                                "'%.64s' is not a valid variable name", key),
                   -1;
    } else {
        if (ei_key_map(name, name_n, l->opts.case_preserve, keybuf,
                       sizeof(keybuf)) < 0)
            return ei_error_set(err, EI_BADDATA, 0, l->name, locator,
                                "a source name maps to an empty key or to "
                                "one longer than %d bytes",
                                EI_KEY_MAX),
                   -1;
        key = keybuf;
        key_len = strlen(keybuf);
    }
    if (value_len > l->max_value_len)
        return ei_error_set(err, EI_BADDATA, 0, l->name, locator,
                            "%s: value of %zu bytes is larger than "
                            "max_value_size (%zu)",
                            key, value_len, l->max_value_len),
               -1;
    if (memchr(value, '\0', value_len) != NULL)
        return ei_error_set(err, EI_BADDATA, 0, l->name, locator,
                            "%s: value contains a NUL byte", key),
               -1;

    /* a removal names an inherited variable as it is, so it is not
       filtered or renamed; a layer without a filter (most of them)
       costs no call an entry */
    if (!(flags & EI_ENTRY_UNSET) &&
        (l->opts.prefix != NULL || l->opts.include != NULL ||
         l->opts.exclude != NULL)) {
        const char *kept = ei_sink_filter(l, key);
        if (kept == NULL)
            return 0;
        key_len -= (size_t)(kept - key); /* a prefix stripped */
        key = kept;
    }

    /* an entry the provider calls plain (an SSM String) stays plain in a
       layer that is secret by default, but not when the user said
       secret = true for the whole layer */
    bool secret =
        (flags & EI_ENTRY_SECRET) ||
        (l->opts.secret && (l->opts.secret_given || !(flags & EI_ENTRY_PLAIN)));

    /*
     * The entry, its key, locator and source, and its value when it is
     * not secret, in one piece of the store (which zeroes it, so every
     * string is terminated), and the staging set adopts that entry: one
     * allocation an entry instead of four, and no copy of the struct.
     * The lengths are of strings and a value that exist side by side in
     * memory, so their sum does not overflow.
     */
    size_t loc_len = locator != NULL ? strlen(locator) + 1 : 0;
    size_t src_len =
        (flags & EI_ENTRY_VERBATIM) ? 0 : joined_len(name, name_n) + 1;
    size_t val_len = secret ? 0 : value_len + 1;
    struct ei_entry *e = ei_store_alloc(
        l->entries, sizeof(*e) + key_len + 1 + loc_len + src_len + val_len);
    if (e == NULL)
        goto oom;
    char *p = (char *)(e + 1);
    memcpy(p, key, key_len);
    e->key = p;
    p += key_len + 1;
    if (locator != NULL) {
        memcpy(p, locator, loc_len - 1);
        e->locator = p;
        p += loc_len;
    }
    if (src_len > 0) {
        join_name(p, name, name_n);
        e->source = p;
        p += src_len;
    }
    if (secret) {
        e->value = ei_store_strndup(l->secrets, value, value_len);
        if (e->value == NULL)
            goto oom;
    } else {
        memcpy(p, value, value_len);
        e->value = p;
    }
    e->value_len = value_len;
    e->flags = flags & (EI_ENTRY_LITERAL | EI_ENTRY_UNSET);
    if (secret)
        e->flags |= EI_ENTRY_SECRET;
    e->layer = l->index;
    /* one lookup, not two: a clash found after the adoption fails the
       layer, and a failed layer's staging set is thrown away */
    struct ei_entry *old;
    if (ei_envset_adopt(l->staged, e, &old) != 0)
        goto oom;
    if (e->source != NULL && old != NULL && old->source != NULL &&
        strcmp(old->source, e->source) != 0)
        return ei_error_set(err, EI_BADDATA, 0, l->name, locator,
                            "'%.100s' and '%.100s' both map to %s", old->source,
                            e->source, e->key),
               -1;
    return 0;
oom:
    return ei_error_set(err, EI_NOMEM, ENOMEM, l->name, NULL, "out of memory"),
           -1;
}

void ei_sink_init(struct ei_sink *sink, struct ei_layer *l)
{
    sink->ctx = l;
    sink->emit = sink_emit;
}
