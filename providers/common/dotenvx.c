/* SPDX-License-Identifier: MIT */
/* dotenvx's encrypted values in dotenv files: the key's name, where the
   key is found, and the decryption of "encrypted:BASE64". */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <envinject/provider.h>

#include "dotenv.h"
#include "dotenvx.h"
#include "ecies.h"

#define DX_PREFIX_LEN  (sizeof EI_DOTENVX_PREFIX - 1)
#define DX_HEX_KEY_LEN (2 * EI_ECIES_KEY_LEN)
#define DX_WHY_LEN     160

bool ei_dotenvx_is_public_name(const char *key)
{
    size_t n = sizeof EI_DOTENVX_PUBLIC - 1;
    return strncmp(key, EI_DOTENVX_PUBLIC, n) == 0 &&
           (key[n] == '\0' || key[n] == '_');
}

/* dotenvx's environment of a file name (conventions/environment.js):
   the parts after ".env." (two at most, joined with '_'), or for a name
   without them the name with its first ".env" read as "development". */
static int dx_environment(const char *name, char *out, size_t out_len)
{
    const char *parts = NULL; /* after the second '.' */
    const char *dot = strchr(name, '.');
    if (dot != NULL)
        dot = strchr(dot + 1, '.');
    if (dot != NULL)
        parts = dot + 1;
    size_t n = 0;
    if (parts != NULL) {
        const char *third = strchr(parts, '.');
        const char *end = third != NULL ? strchr(third + 1, '.') : NULL;
        n = end != NULL ? (size_t)(end - parts) : strlen(parts);
        if (n >= out_len)
            return -1;
        memcpy(out, parts, n);
        out[n] = '\0';
        char *d = strchr(out, '.');
        if (d != NULL)
            *d = '_';
        return 0;
    }
    const char *env = strstr(name, ".env");
    if (env == NULL)
        n = (size_t)snprintf(out, out_len, "%s", name);
    else
        n = (size_t)snprintf(out, out_len, "%.*sdevelopment%s",
                             (int)(env - name), name, env + 4);
    return n < out_len ? 0 : -1;
}

int ei_dotenvx_key_name(const char *path, const char *public_name, char *out,
                        size_t out_len)
{
    size_t n;
    if (public_name != NULL) {
        n = (size_t)snprintf(out, out_len, "%s%s", EI_DOTENVX_PRIVATE,
                             public_name + sizeof EI_DOTENVX_PUBLIC - 1);
        return n < out_len ? 0 : -1;
    }
    const char *base = strrchr(path, '/');
    base = base != NULL ? base + 1 : path;
    char name[EI_DOTENVX_NAME_MAX];
    n = strlen(base);
    if (n >= sizeof(name))
        return -1;
    for (size_t i = 0; i <= n; i++)
        name[i] = (char)tolower((unsigned char)base[i]);
    if (strncmp(name, ".env", 4) == 0 && n >= 4 &&
        strcmp(name + n - 4, ".txt") == 0)
        name[n - 4] = '\0';
    if (strcmp(name, ".env") == 0) {
        n = (size_t)snprintf(out, out_len, "%s", EI_DOTENVX_PRIVATE);
        return n < out_len ? 0 : -1;
    }
    char env[EI_DOTENVX_NAME_MAX];
    if (dx_environment(name, env, sizeof(env)) < 0)
        return -1;
    for (char *c = env; *c != '\0'; c++)
        *c = (char)toupper((unsigned char)*c);
    n = (size_t)snprintf(out, out_len, "%s_%s", EI_DOTENVX_PRIVATE, env);
    return n < out_len ? 0 : -1;
}

int ei_dotenvx_parse_keys(const char *text, size_t len,
                          unsigned char (*keys)[EI_ECIES_KEY_LEN])
{
    int n = 0;
    size_t pos = 0;
    for (;;) {
        const char *comma = memchr(text + pos, ',', len - pos);
        size_t end = comma != NULL ? (size_t)(comma - text) : len;
        size_t a = pos, b = end;
        while (a < b && (text[a] == ' ' || text[a] == '\t'))
            a++;
        while (b > a && (text[b - 1] == ' ' || text[b - 1] == '\t'))
            b--;
        size_t bin_len = 0;
        const char *hex_end = NULL;
        if (n == EI_DOTENVX_MAX_KEYS || b - a != DX_HEX_KEY_LEN ||
            sodium_hex2bin(keys[n], EI_ECIES_KEY_LEN, text + a, b - a, NULL,
                           &bin_len, &hex_end) != 0 ||
            bin_len != EI_ECIES_KEY_LEN || hex_end != text + b) {
            sodium_memzero(keys, EI_DOTENVX_MAX_KEYS * EI_ECIES_KEY_LEN);
            return -1;
        }
        n++;
        if (comma == NULL)
            return n;
        pos = end + 1;
    }
}

size_t ei_dotenvx_plain_max(size_t value_len)
{
    size_t blob = value_len / 4 * 3 + 3;
    return blob > EI_ECIES_OVERHEAD ? blob - EI_ECIES_OVERHEAD : 1;
}

/* Standard base64 as dotenvx writes it, the padding optional. */
static int dx_base64(const char *b64, size_t len, unsigned char *blob,
                     size_t cap, size_t *blob_len)
{
    static const int variants[] = {sodium_base64_VARIANT_ORIGINAL,
                                   sodium_base64_VARIANT_ORIGINAL_NO_PADDING};
    for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
        const char *end = NULL;
        if (sodium_base642bin(blob, cap, b64, len, NULL, blob_len, &end,
                              variants[i]) == 0 &&
            end == b64 + len)
            return 0;
    }
    return -1;
}

enum ei_dotenvx_result
ei_dotenvx_decrypt(struct ei_ecies *e,
                   const unsigned char (*keys)[EI_ECIES_KEY_LEN], size_t keys_n,
                   const char *value, size_t value_len, unsigned char *out,
                   size_t *out_len)
{
    *out_len = 0;
    if (value_len < DX_PREFIX_LEN ||
        memcmp(value, EI_DOTENVX_PREFIX, DX_PREFIX_LEN) != 0)
        return EI_DOTENVX_NOT_BASE64;
    const char *b64 = value + DX_PREFIX_LEN;
    size_t b64_len = value_len - DX_PREFIX_LEN;
    size_t cap = b64_len / 4 * 3 + 3;
    unsigned char *blob = malloc(cap);
    if (blob == NULL)
        return EI_DOTENVX_NOMEM;
    size_t blob_len = 0;
    enum ei_dotenvx_result res = EI_DOTENVX_WRONG_KEY;
    if (b64_len == 0 || dx_base64(b64, b64_len, blob, cap, &blob_len) < 0)
        res = EI_DOTENVX_NOT_BASE64;
    for (size_t i = 0; res == EI_DOTENVX_WRONG_KEY && i < keys_n; i++) {
        switch (ei_ecies_decrypt(e, keys[i], blob, blob_len, out, out_len)) {
        case EI_ECIES_OK:
            res = EI_DOTENVX_OK;
            break;
        case EI_ECIES_AUTH:
            break; /* the next key may open it, as dotenvx tries each */
        case EI_ECIES_BADKEY:
            res = EI_DOTENVX_BAD_KEY;
            break;
        case EI_ECIES_MALFORMED:
            res = EI_DOTENVX_MALFORMED;
            break;
        case EI_ECIES_FAILED:
            res = EI_DOTENVX_NOMEM;
            break;
        }
    }
    free(blob);
    return res;
}

/* --- the file: its public key, its private key, its values --- */

/* What the first walk over the file learns. */
struct dx_scan {
    char public_name[EI_DOTENVX_NAME_MAX];
    unsigned char public_key[EI_ECIES_PUB_LEN];
    bool have_public;   /* public_name set */
    bool public_key_ok; /* public_key holds the file's public key */
    int encrypted_line; /* first line with an encrypted value, 0: none */
};

static bool dx_encrypted(const char *value, size_t len)
{
    return len >= DX_PREFIX_LEN &&
           memcmp(value, EI_DOTENVX_PREFIX, DX_PREFIX_LEN) == 0;
}

static int dx_scan_entry(void *ctx, const char *const *name, size_t name_n,
                         const char *value, size_t value_len, int line,
                         unsigned flags, struct ei_error *err)
{
    struct dx_scan *s = ctx;
    (void)name_n;
    (void)flags;
    (void)err;
    if (!s->have_public && ei_dotenvx_is_public_name(name[0]) &&
        strlen(name[0]) < sizeof(s->public_name)) {
        snprintf(s->public_name, sizeof(s->public_name), "%s", name[0]);
        s->have_public = true;
        size_t bin_len = 0;
        s->public_key_ok =
            sodium_hex2bin(s->public_key, sizeof(s->public_key), value,
                           value_len, NULL, &bin_len, NULL) == 0 &&
            bin_len == EI_ECIES_PUB_LEN && value_len == 2 * EI_ECIES_PUB_LEN;
    }
    if (s->encrypted_line == 0 && dx_encrypted(value, value_len))
        s->encrypted_line = line;
    return 0;
}

/* The state of the second walk. */
struct dx_run {
    const struct ei_host *h;
    const char *display;
    const struct dx_scan *scan;
    char key_name[EI_DOTENVX_NAME_MAX];
    const char *key_source; /* "the environment" or the keys file */
    unsigned char (*keys)[EI_ECIES_KEY_LEN]; /* secret memory */
    int keys_n;
    struct ei_ecies *ecies;
    ei_emit_fn emit;
    void *ctx;
};

static enum ei_status dx_nomem(const struct dx_run *r, struct ei_error *err)
{
    return r->h->error(r->h, err, EI_NOMEM, 0, r->display, "out of memory");
}

/* Whether any key is the private half of the file's public key. */
static bool dx_key_matches(const struct dx_run *r)
{
    for (int i = 0; i < r->keys_n; i++) {
        unsigned char pub[EI_ECIES_PUB_LEN];
        if (ei_ecies_public_key(r->ecies, r->keys[i], pub) == EI_ECIES_OK &&
            memcmp(pub, r->scan->public_key, sizeof(pub)) == 0)
            return true;
    }
    return false;
}

static int dx_fail(const struct dx_run *r, enum ei_dotenvx_result res,
                   const char *key, size_t blob_len, int line,
                   struct ei_error *err)
{
    const struct ei_host *h = r->h;
    char loc[EI_ERR_LOCATOR_LEN];
    snprintf(loc, sizeof(loc), "%s:%d", r->display, line);
    switch (res) {
    case EI_DOTENVX_NOT_BASE64:
        h->error(h, err, EI_BADDATA, 0, loc,
                 "%s: encrypted value is not base64 (%zu bytes)", key,
                 blob_len);
        break;
    case EI_DOTENVX_MALFORMED:
        h->error(h, err, EI_BADDATA, 0, loc,
                 "%s: malformed encrypted value (not what dotenvx writes: "
                 "too short, or no secp256k1 point)",
                 key);
        break;
    case EI_DOTENVX_BAD_KEY:
        h->error(h, err, EI_DENIED, 0, loc,
                 "%s (from %s) is not a secp256k1 private key", r->key_name,
                 r->key_source);
        break;
    case EI_DOTENVX_WRONG_KEY:
        if (r->scan->public_key_ok && !dx_key_matches(r))
            h->error(h, err, EI_DENIED, 0, loc,
                     "cannot decrypt %s: %s (from %s) is not the private "
                     "key of %s",
                     key, r->key_name, r->key_source, r->scan->public_name);
        else
            h->error(h, err, EI_DENIED, 0, loc,
                     "cannot decrypt %s with %s (from %s): wrong private key, "
                     "or the value was altered",
                     key, r->key_name, r->key_source);
        break;
    default:
        dx_nomem(r, err);
        break;
    }
    return -1;
}

static int dx_entry(void *ctx, const char *const *name, size_t name_n,
                    const char *value, size_t value_len, int line,
                    unsigned flags, struct ei_error *err)
{
    struct dx_run *r = ctx;
    if (ei_dotenvx_is_public_name(name[0])) {
        r->h->log(r->h, EI_LOG_DEBUG,
                  "%s:%d: %s left out (dotenvx's public "
                  "key)",
                  r->display, line, name[0]);
        return 0;
    }
    if (!dx_encrypted(value, value_len))
        return r->emit(r->ctx, name, name_n, value, value_len, line, flags,
                       err);
    size_t cap = ei_dotenvx_plain_max(value_len);
    unsigned char *plain = r->h->secret_alloc(r->h, cap + 1);
    if (plain == NULL) {
        dx_nomem(r, err);
        return -1;
    }
    size_t plain_len = 0;
    enum ei_dotenvx_result res = ei_dotenvx_decrypt(
        r->ecies, (const unsigned char(*)[EI_ECIES_KEY_LEN])r->keys,
        (size_t)r->keys_n, value, value_len, plain, &plain_len);
    int rc;
    if (res != EI_DOTENVX_OK)
        rc = dx_fail(r, res, name[0], value_len - DX_PREFIX_LEN, line, err);
    else if (memchr(plain, '\0', plain_len) != NULL) {
        char loc[EI_ERR_LOCATOR_LEN];
        snprintf(loc, sizeof(loc), "%s:%d", r->display, line);
        r->h->error(r->h, err, EI_BADDATA, 0, loc,
                    "%s: the decrypted value holds a NUL byte", name[0]);
        rc = -1;
    } else {
        plain[plain_len] = '\0';
        /* a secret as written: no ${...} expansion in it (dotenvx expands
           decrypted values that were double-quoted; see the page) */
        rc = r->emit(r->ctx, name, name_n, (const char *)plain, plain_len, line,
                     EI_ENTRY_VERBATIM | EI_ENTRY_SECRET | EI_ENTRY_LITERAL,
                     err);
    }
    r->h->secret_free(r->h, plain, cap + 1);
    return rc;
}

/* What the keys file's walk looks for: the last assignment of a name. */
struct dx_keys_file {
    struct dx_run *r;
    int line; /* where the name was found, 0: not found */
    int n;
};

static int dx_keys_entry(void *ctx, const char *const *name, size_t name_n,
                         const char *value, size_t value_len, int line,
                         unsigned flags, struct ei_error *err)
{
    struct dx_keys_file *kf = ctx;
    (void)name_n;
    (void)flags;
    (void)err;
    if (strcmp(name[0], kf->r->key_name) != 0)
        return 0;
    kf->line = line;
    kf->n = ei_dotenvx_parse_keys(value, value_len, kf->r->keys);
    return 0;
}

static enum ei_status dx_bad_key_text(const struct dx_run *r, const char *loc,
                                      struct ei_error *err)
{
    return r->h->error(r->h, err, EI_DENIED, 0, loc,
                       "%s (from %s) is not a private key: expected 64 hex "
                       "digits, or several separated by commas",
                       r->key_name, r->key_source);
}

/* The private keys: from the environment, else from .env.keys beside the
   file; *keys_file is set when that file was read. */
static enum ei_status dx_find_keys(struct dx_run *r, const char *path,
                                   bool *keys_file, struct ei_error *err)
{
    const struct ei_host *h = r->h;
    const char *env = h->env_get(h, r->key_name);
    if (env != NULL && env[0] != '\0') {
        r->key_source = "the environment";
        r->keys_n = ei_dotenvx_parse_keys(env, strlen(env), r->keys);
        return r->keys_n > 0 ? EI_OK : dx_bad_key_text(r, r->display, err);
    }
    const char *slash = strrchr(path, '/');
    size_t dir_len = slash != NULL ? (size_t)(slash - path) + 1 : 0;
    size_t kp_len = dir_len + sizeof EI_DOTENVX_KEYS_FILE;
    char *kp = malloc(kp_len);
    if (kp == NULL)
        return dx_nomem(r, err);
    snprintf(kp, kp_len, "%.*s%s", (int)dir_len, path, EI_DOTENVX_KEYS_FILE);
    r->key_source = EI_DOTENVX_KEYS_FILE;
    struct ei_buf kb = {0};
    enum ei_status st =
        h->read_file(h, kp, EI_READ_SECRET | EI_READ_PRIVATE, &kb, err);
    if (st == EI_NOTFOUND) {
        if (err != NULL)
            memset(err, 0, sizeof(*err));
        st = h->error(h, err, EI_DENIED, 0, r->display,
                      "no private key to decrypt the values: set %s, or put "
                      "it in %s",
                      r->key_name, kp);
        free(kp);
        return st;
    }
    if (st != EI_OK) {
        free(kp);
        return st;
    }
    *keys_file = true;
    struct dx_keys_file kf = {.r = r};
    st = ei_dotenv_parse(kb.data, kb.len, kp, dx_keys_entry, &kf, err);
    h->buf_free(h, &kb);
    if (st == EI_OK && kf.line == 0)
        st = h->error(h, err, EI_DENIED, 0, r->display,
                      "no private key to decrypt the values: %s is neither "
                      "set nor in %s",
                      r->key_name, kp);
    if (st == EI_OK && kf.n <= 0) {
        char loc[EI_ERR_LOCATOR_LEN];
        snprintf(loc, sizeof(loc), "%s:%d", kp, kf.line);
        st = dx_bad_key_text(r, loc, err);
    }
    r->keys_n = kf.n > 0 ? kf.n : 0;
    free(kp);
    return st;
}

/*
 * Whether needle occurs in buf[0..len).  memchr jumps to each occurrence
 * of rare, a byte of needle chosen to be rare in dotenv files, and only
 * there are the bytes around compared: memmem looks at every byte, which
 * cost a tenth of the parse of a file of 80 lines.
 */
static bool dx_contains(const char *buf, size_t len, const char *needle,
                        char rare)
{
    size_t n = strlen(needle);
    size_t anchor = (size_t)(strchr(needle, rare) - needle);
    for (size_t i = anchor; i < len;) {
        const char *hit = memchr(buf + i, needle[anchor], len - i);
        if (hit == NULL)
            return false;
        i = (size_t)(hit - buf);
        size_t at = i - anchor;
        if (len - at >= n && memcmp(buf + at, needle, n) == 0)
            return true;
        i++;
    }
    return false;
}

enum ei_status ei_dotenvx_parse(const struct ei_host *h, const char *path,
                                const char *display, const char *buf,
                                size_t len, ei_emit_fn emit, void *ctx,
                                bool *keys_file, struct ei_error *err)
{
    *keys_file = false;
    /* the common case, a file dotenvx never touched, in one walk */
    if (!dx_contains(buf, len, EI_DOTENVX_PREFIX, ':') &&
        !dx_contains(buf, len, EI_DOTENVX_PUBLIC, 'B'))
        return ei_dotenv_parse(buf, len, display, emit, ctx, err);

    struct dx_scan scan = {0};
    enum ei_status st =
        ei_dotenv_parse(buf, len, display, dx_scan_entry, &scan, err);
    if (st != EI_OK)
        return st;
    struct dx_run r = {
        .h = h, .display = display, .scan = &scan, .emit = emit, .ctx = ctx};
    if (scan.encrypted_line > 0) {
        if (ei_dotenvx_key_name(path,
                                scan.have_public ? scan.public_name : NULL,
                                r.key_name, sizeof(r.key_name)) < 0)
            return h->error(h, err, EI_BADCONFIG, 0, display,
                            "the file's name is too long for a dotenvx key "
                            "name");
        size_t keys_size = EI_DOTENVX_MAX_KEYS * EI_ECIES_KEY_LEN;
        r.keys = h->secret_alloc(h, keys_size);
        if (r.keys == NULL)
            return dx_nomem(&r, err);
        st = dx_find_keys(&r, path, keys_file, err);
        char why[DX_WHY_LEN];
        if (st == EI_OK) {
            r.ecies = ei_ecies_new(why, sizeof(why));
            if (r.ecies == NULL)
                st = h->error(h, err, EI_DENIED, 0, display,
                              "cannot decrypt dotenvx values: %s", why);
        }
        if (st == EI_OK)
            st = ei_dotenv_parse(buf, len, display, dx_entry, &r, err);
        ei_ecies_free(r.ecies);
        h->secret_free(h, r.keys, keys_size);
        return st;
    }
    return ei_dotenv_parse(buf, len, display, dx_entry, &r, err);
}
