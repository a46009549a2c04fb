/* SPDX-License-Identifier: MIT */
/* The seal commands: keygen, encrypt and set for ejson-compatible sealed
   files, written atomically and byte-for-byte outside what changes. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "../providers/common/ejson.h"
#include "diag.h"
#include "readfile.h"
#include "secmem.h"
#include "seal.h"

#define SEAL_ENV_PREFIX  "environment."
#define SEAL_ENVIRONMENT "environment"
#define SEAL_PUBLIC_KEY  "_public_key"
#define SEAL_INDENT      "  " /* for a member added to an empty object */
#define SEAL_CHUNK       4096

static int seal_write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static const char *seal_keydir(const char *keydir)
{
    if (keydir != NULL)
        return keydir;
    /* main.c and the library may read the environment; providers may not */
    const char *env = getenv("EJSON_KEYDIR");
    return env != NULL && env[0] != '\0' ? env : EI_SEAL_KEYDIR;
}

/* Create the key folder PATH[0..dir_len) and its missing parents, 0700
   each: on a fresh machine /opt/ejson/keys does not exist yet, and ejson
   users expect keygen to make it.  A folder that exists is left as it is. */
static int seal_make_keydir(char *path, size_t dir_len, struct ei_error *err)
{
    char saved = path[dir_len];
    path[dir_len] = '\0';
    int rc = 0;
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            int e = errno;
            /* EI_IOERROR for EACCES too: a key file in an existing folder
               that is not writable fails the same way (exit 66) */
            ei_error_set(err, EI_IOERROR, e, NULL, path,
                         "cannot create the key folder (give another with "
                         "-k DIR or EJSON_KEYDIR)");
            rc = -1;
        }
        *p = c;
        if (rc != 0 || c == '\0')
            break;
    }
    path[dir_len] = saved;
    return rc;
}

static int seal_write_key(const char *path, const char *text, size_t len,
                          struct ei_error *err)
{
    int fd =
        open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        int e = errno;
        const char *why = e == EEXIST   ? "already exists; a private key is "
                                          "never overwritten"
                          : e == ENOENT ? "cannot create (does the key "
                                          "folder exist?)"
                                        : "cannot create";
        ei_error_set(err, EI_IOERROR, e, NULL, path, "%s", why);
        return -1;
    }
    /* umask may only take bits away; make the mode exactly 0600 */
    if (fchmod(fd, 0600) != 0 || seal_write_all(fd, text, len) != 0 ||
        fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(path);
        ei_error_set(err, EI_IOERROR, e, NULL, path, "cannot write");
        return -1;
    }
    if (close(fd) != 0) {
        int e = errno;
        unlink(path);
        ei_error_set(err, EI_IOERROR, e, NULL, path, "cannot write");
        return -1;
    }
    return 0;
}

int ei_seal_keygen(const char *keydir, const char *out_file, bool write_stdout,
                   FILE *out, struct ei_error *err)
{
    if (write_stdout && out_file != NULL) {
        ei_error_set(err, EI_USAGE, 0, NULL, "seal keygen",
                     "--print-private and --out exclude each other");
        return -1;
    }
    if (sodium_init() < 0) {
        ei_error_set(err, EI_INTERNAL, 0, NULL, "seal keygen",
                     "sodium_init failed");
        return -1;
    }
    unsigned char pk[EI_EJSON_KEY_LEN];
    char pk_hex[EI_EJSON_KEY_HEX_LEN + 1];
    unsigned char *sk = ei_sodium_malloc(EI_EJSON_KEY_LEN);
    char *sk_hex = ei_sodium_malloc(EI_EJSON_KEY_HEX_LEN + 2);
    char *path = NULL;
    int rc = -1;
    if (sk == NULL || sk_hex == NULL) {
        ei_error_set(err, EI_NOMEM, ENOMEM, NULL, "seal keygen",
                     "out of memory");
        goto done;
    }
    crypto_box_keypair(pk, sk);
    ei_ejson_key_to_hex(pk, pk_hex);
    ei_ejson_key_to_hex(sk, sk_hex);
    sodium_memzero(sk, EI_EJSON_KEY_LEN);

    if (write_stdout) {
        fprintf(out, "Public Key:\n%s\nPrivate Key:\n%s\n", pk_hex, sk_hex);
    } else {
        const char *target = out_file;
        if (target == NULL) {
            const char *dir = seal_keydir(keydir);
            size_t n = strlen(dir) + 1 + EI_EJSON_KEY_HEX_LEN + 1;
            path = malloc(n);
            if (path == NULL) {
                ei_error_set(err, EI_NOMEM, ENOMEM, NULL, "seal keygen",
                             "out of memory");
                goto done;
            }
            snprintf(path, n, "%s/%s", dir, pk_hex);
            target = path;
            if (seal_make_keydir(path, strlen(dir), err) != 0)
                goto done;
        }
        sk_hex[EI_EJSON_KEY_HEX_LEN] = '\n';
        if (seal_write_key(target, sk_hex, EI_EJSON_KEY_HEX_LEN + 1, err) != 0)
            goto done;
        fprintf(out, "%s\n", pk_hex);
    }
    if (fflush(out) != 0 || ferror(out)) {
        ei_error_set(err, EI_OSERR, errno, NULL, "seal keygen",
                     write_stdout ? "cannot write the key pair to the output"
                                  : "the key is written, but its public half "
                                    "cannot be written to the output");
        goto done;
    }
    rc = 0;
done:
    sodium_free(sk);
    sodium_free(sk_hex);
    free(path);
    return rc;
}

/*
 * Replace the file behind path with data: a temporary file in the same
 * folder, the old mode (and owner, where allowed), fsync, rename, fsync of
 * the folder.  A symbolic link is resolved first so that the link stays
 * and its target is replaced, as an in-place write would do.
 */
static int seal_replace(const char *path, const char *data, size_t len,
                        struct ei_error *err)
{
    char *real = realpath(path, NULL);
    if (real == NULL) {
        ei_error_set(err, EI_IOERROR, errno, NULL, path, "cannot resolve");
        return -1;
    }
    struct stat st;
    if (stat(real, &st) != 0) {
        ei_error_set(err, EI_IOERROR, errno, NULL, path, "cannot stat");
        free(real);
        return -1;
    }
    const char *slash = strrchr(real, '/');
    size_t dir_len = slash != NULL ? (size_t)(slash - real) : 0;
    const char *base = slash != NULL ? slash + 1 : real;
    size_t tmp_len = dir_len + strlen(base) + 16;
    char *tmp = malloc(tmp_len);
    char *dir = malloc(dir_len + 2);
    if (tmp == NULL || dir == NULL) {
        free(tmp);
        free(dir);
        free(real);
        ei_error_set(err, EI_NOMEM, ENOMEM, NULL, path, "out of memory");
        return -1;
    }
    snprintf(tmp, tmp_len, "%.*s/.%s.XXXXXX", (int)dir_len, real, base);
    snprintf(dir, dir_len + 2, "%.*s", (int)(dir_len == 0 ? 1 : dir_len),
             dir_len == 0 ? "/" : real);
    int rc = -1;
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        ei_error_set(err, EI_IOERROR, errno, NULL, path,
                     "cannot create a temporary file next to it");
        goto out;
    }
    if ((st.st_uid != geteuid() || st.st_gid != getegid()) &&
        fchown(fd, st.st_uid, st.st_gid) != 0) {
        /* not allowed: the file becomes ours, as any editor would do */
    }
    if (fchmod(fd, st.st_mode & 07777) != 0 ||
        seal_write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        ei_error_set(err, EI_IOERROR, e, NULL, path, "cannot write");
        goto out;
    }
    if (close(fd) != 0 || rename(tmp, real) != 0) {
        int e = errno;
        unlink(tmp);
        ei_error_set(err, EI_IOERROR, e, NULL, path, "cannot replace");
        goto out;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        /* the rename is done; a folder that cannot be synced is no error */
        (void)fsync(dfd);
        close(dfd);
    }
    rc = 0;
out:
    free(tmp);
    free(dir);
    free(real);
    return rc;
}

static int seal_read(const char *file, struct ei_buf *buf, struct ei_error *err)
{
    return ei_readfile(file, EI_READ_SECRET, EI_SEAL_FILE_MAX, buf, err) ==
                   EI_OK
               ? 0
               : -1;
}

static struct ei_ejson_sealer *
seal_sealer(const char *file, const unsigned char *pk, struct ei_error *err)
{
    struct ei_ejson_sealer *s = ei_sodium_malloc(sizeof(*s));
    if (s == NULL) {
        ei_error_set(err, EI_NOMEM, ENOMEM, NULL, file, "out of memory");
        return NULL;
    }
    if (ei_ejson_sealer_init(s, pk, NULL) != 0) {
        sodium_free(s);
        ei_error_set(err, EI_BADDATA, 0, NULL, file,
                     "_public_key is not a usable public key");
        return NULL;
    }
    return s;
}

int ei_seal_encrypt(const char *file, FILE *out, struct ei_error *err)
{
    if (sodium_init() < 0) {
        ei_error_set(err, EI_INTERNAL, 0, NULL, file, "sodium_init failed");
        return -1;
    }
    struct ei_buf buf;
    if (seal_read(file, &buf, err) != 0)
        return -1;
    int rc = -1;
    struct ei_ejson_result res;
    memset(&res, 0, sizeof(res));
    struct ei_ejson_sealer *s = NULL;
    unsigned char pk[EI_EJSON_KEY_LEN];
    if (ei_ejson_public_key(buf.data, buf.len, EI_EJSON_MULTILINE, file, pk,
                            err) != EI_OK)
        goto done;
    s = seal_sealer(file, pk, err);
    if (s == NULL)
        goto done;
    if (ei_ejson_encrypt(buf.data, buf.len, file, s, &res, err) != EI_OK)
        goto done;
    if (res.changed && seal_replace(file, res.data, res.len, err) != 0)
        goto done;
    for (size_t i = 0; i < res.paths_n; i++)
        fprintf(out, "encrypted %s\n", res.paths[i]);
    if (fflush(out) != 0 || ferror(out)) {
        ei_error_set(err, EI_OSERR, errno, NULL, file,
                     "encrypted, but cannot write the report to the output");
        goto done;
    }
    rc = 0;
done:
    if (s != NULL) {
        ei_ejson_sealer_wipe(s);
        sodium_free(s);
    }
    ei_ejson_result_fini(&res);
    ei_readfile_free(&buf);
    return rc;
}

/* Read fd to the end into sodium_malloc'd memory. */
static char *seal_read_value(int fd, size_t *len, struct ei_error *err)
{
    size_t cap = SEAL_CHUNK, n = 0;
    char *p = ei_sodium_malloc(cap + 1);
    if (p == NULL) {
        ei_error_set(err, EI_NOMEM, ENOMEM, NULL, "stdin", "out of memory");
        return NULL;
    }
    for (;;) {
        if (n == cap) {
            if (cap > EI_SEAL_VALUE_MAX) {
                sodium_free(p);
                ei_error_set(err, EI_BADDATA, 0, NULL, "stdin",
                             "the value is larger than %u bytes",
                             EI_SEAL_VALUE_MAX);
                return NULL;
            }
            char *q = ei_sodium_malloc(cap * 2 + 1);
            if (q == NULL) {
                sodium_free(p);
                ei_error_set(err, EI_NOMEM, ENOMEM, NULL, "stdin",
                             "out of memory");
                return NULL;
            }
            memcpy(q, p, n);
            sodium_free(p);
            p = q;
            cap *= 2;
        }
        ssize_t r = read(fd, p + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            sodium_free(p);
            ei_error_set(err, EI_IOERROR, e, NULL, "stdin", "cannot read");
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (n > EI_SEAL_VALUE_MAX) {
        sodium_free(p);
        ei_error_set(err, EI_BADDATA, 0, NULL, "stdin",
                     "the value is larger than %u bytes", EI_SEAL_VALUE_MAX);
        return NULL;
    }
    /* "echo secret |" and here-strings add one; a value may end in more */
    if (n > 0 && p[n - 1] == '\n')
        n--;
    p[n] = '\0';
    *len = n;
    return p;
}

/* A member of the top-level object or of the environment object. */
struct seal_member {
    size_t key_start, key_len;
    size_t start, end;
    size_t depth;
    enum ei_ejson_type type;
};

struct seal_scan {
    struct seal_member *m;
    size_t n, cap;
    size_t root_start, root_end;
    const char *file;
};

static int seal_scan_visit(void *ctx, const struct ei_ejson_node *node,
                           struct ei_error *err)
{
    struct seal_scan *sc = ctx;
    if (node->depth == 0) {
        sc->root_start = node->start;
        sc->root_end = node->end;
        return 0;
    }
    if (node->depth > 2 || node->key_len == 0)
        return 0;
    if (sc->n == sc->cap) {
        size_t cap = sc->cap == 0 ? 16 : sc->cap * 2;
        struct seal_member *m = realloc(sc->m, cap * sizeof(*m));
        if (m == NULL) {
            ei_error_set(err, EI_NOMEM, ENOMEM, NULL, sc->file,
                         "out of memory");
            return -1;
        }
        sc->m = m;
        sc->cap = cap;
    }
    sc->m[sc->n++] = (struct seal_member){
        .key_start = node->key_start,
        .key_len = node->key_len,
        .start = node->start,
        .end = node->end,
        .depth = node->depth,
        .type = node->type,
    };
    return 0;
}

static bool seal_identifier(const char *s)
{
    if (*s == '\0')
        return false;
    for (const char *p = s; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        bool alpha =
            (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
        if (!alpha && (p == s || c < '0' || c > '9'))
            return false;
    }
    return true;
}

/* An edit of the file: bytes [at, at + del) become ins. */
struct seal_edit {
    size_t at, del;
    char *ins;
    size_t ins_len;
};

static bool seal_blank(char c)
{
    return c == ' ' || c == '\t';
}

/*
 * The text that adds member (name and value already JSON) to the container
 * [c_start, c_end) whose members are m[0..n), laid out like its last
 * member.  top: the top-level members, for the indent of an empty object.
 */
static int seal_plan_insert(const char *buf, size_t c_start, size_t c_end,
                            const struct seal_member *const *m, size_t n,
                            const struct seal_member *top_last,
                            const char *member, size_t member_len,
                            struct seal_edit *ed)
{
    char nl[3] = "\n";
    const char *lead; /* what goes between ',' (or '{') and the name */
    size_t lead_len;
    char *made = NULL;
    if (n > 0) {
        const struct seal_member *last = m[n - 1];
        size_t i = last->key_start;
        while (i > 0 && seal_blank(buf[i - 1]))
            i--;
        if (i == 0 || buf[i - 1] == '\n') {
            if (i >= 2 && buf[i - 2] == '\r')
                memcpy(nl, "\r\n", 3);
            size_t ind = last->key_start - i;
            made = malloc(strlen(nl) + ind + 1);
            if (made == NULL)
                return -1;
            memcpy(made, nl, strlen(nl));
            memcpy(made + strlen(nl), buf + i, ind);
            lead = made;
            lead_len = strlen(nl) + ind;
        } else if (n > 1) {
            size_t j = last->key_start;
            while (j > 0 && (seal_blank(buf[j - 1]) || buf[j - 1] == '\n' ||
                             buf[j - 1] == '\r'))
                j--;
            lead = buf + j;
            lead_len = last->key_start - j;
        } else {
            /* one member on the line of '{': space like its ": " does */
            size_t k = last->key_start + last->key_len;
            bool spaced = memchr(buf + k, ' ', last->start - k) != NULL;
            lead = " ";
            lead_len = spaced ? 1 : 0;
        }
        ed->at = last->end;
        ed->del = 0;
        ed->ins_len = 1 + lead_len + member_len;
        ed->ins = malloc(ed->ins_len + 1);
        if (ed->ins == NULL) {
            free(made);
            return -1;
        }
        ed->ins[0] = ',';
        memcpy(ed->ins + 1, lead, lead_len);
        memcpy(ed->ins + 1 + lead_len, member, member_len);
        free(made);
        return 0;
    }
    /* an empty object: one member on its own line, one level deeper */
    size_t ls = c_start;
    while (ls > 0 && buf[ls - 1] != '\n')
        ls--;
    size_t base = 0;
    while (ls + base < c_start && seal_blank(buf[ls + base]))
        base++;
    const char *unit = SEAL_INDENT;
    size_t unit_len = strlen(SEAL_INDENT);
    bool lines = false;
    if (top_last != NULL) {
        size_t i = top_last->key_start;
        while (i > 0 && seal_blank(buf[i - 1]))
            i--;
        if (i > 0 && buf[i - 1] == '\n') {
            lines = true;
            if (i >= 2 && buf[i - 2] == '\r')
                memcpy(nl, "\r\n", 3);
            if (top_last->key_start > i) {
                unit = buf + i;
                unit_len = top_last->key_start - i;
            }
        }
    }
    size_t nl_len = lines ? strlen(nl) : 0;
    size_t pre = lines ? nl_len + base + unit_len : 0;
    size_t tail_len = lines ? nl_len + base : 0;
    ed->at = c_start + 1;
    ed->del = c_end - 1 - ed->at; /* the blanks inside "{ }" */
    ed->ins_len = pre + member_len + tail_len;
    ed->ins = malloc(ed->ins_len + 1);
    if (ed->ins == NULL)
        return -1;
    char *w = ed->ins;
    if (lines) {
        memcpy(w, nl, nl_len);
        w += nl_len;
        memcpy(w, buf + ls, base);
        w += base;
        memcpy(w, unit, unit_len);
        w += unit_len;
    }
    memcpy(w, member, member_len);
    w += member_len;
    if (lines) {
        memcpy(w, nl, nl_len);
        w += nl_len;
        memcpy(w, buf + ls, base);
    }
    return 0;
}

/* The new value as JSON text: a quoted token, or quoted plain text. */
static char *seal_value_json(const char *file, const unsigned char *pk,
                             const char *value, size_t value_len, bool plain,
                             size_t *out_len, struct ei_error *err)
{
    if (plain) {
        if (!ei_ejson_utf8_valid(value, value_len)) {
            ei_error_set(err, EI_BADDATA, 0, NULL, "stdin",
                         "a value stored in plain text must be UTF-8");
            return NULL;
        }
        size_t n = ei_ejson_quote(value, value_len, NULL, 0);
        char *q = malloc(n + 1);
        if (q == NULL) {
            ei_error_set(err, EI_NOMEM, ENOMEM, NULL, file, "out of memory");
            return NULL;
        }
        ei_ejson_quote(value, value_len, q, n + 1);
        *out_len = n;
        return q;
    }
    struct ei_ejson_sealer *s = seal_sealer(file, pk, err);
    if (s == NULL)
        return NULL;
    size_t tl = ei_ejson_token_len(value_len);
    char *q = malloc(tl + 3);
    if (q == NULL || ei_ejson_seal(s, (const unsigned char *)value, value_len,
                                   NULL, q + 1, tl + 1) != 0) {
        free(q);
        ei_ejson_sealer_wipe(s);
        sodium_free(s);
        ei_error_set(err, EI_NOMEM, ENOMEM, NULL, file, "out of memory");
        return NULL;
    }
    ei_ejson_sealer_wipe(s);
    sodium_free(s);
    q[0] = '"';
    q[tl + 1] = '"';
    q[tl + 2] = '\0';
    *out_len = tl + 2;
    return q;
}

/* Apply ed to buf and collapse raw line breaks in strings, as encrypt. */
static char *seal_apply(const char *buf, size_t len, const struct seal_edit *ed,
                        size_t *out_len)
{
    size_t mid = len - ed->del + ed->ins_len;
    char *tmp = malloc(mid + 1);
    if (tmp == NULL)
        return NULL;
    memcpy(tmp, buf, ed->at);
    memcpy(tmp + ed->at, ed->ins, ed->ins_len);
    memcpy(tmp + ed->at + ed->ins_len, buf + ed->at + ed->del,
           len - ed->at - ed->del);
    size_t n = ei_ejson_collapse(tmp, mid, NULL);
    char *res = malloc(n + 1);
    if (res != NULL) {
        ei_ejson_collapse(tmp, mid, res);
        res[n] = '\0';
        *out_len = n;
    }
    sodium_memzero(tmp, mid);
    free(tmp);
    return res;
}

int ei_seal_set(const char *file, const char *key, int value_fd, FILE *out,
                struct ei_error *err)
{
    bool want_env = strncmp(key, SEAL_ENV_PREFIX, strlen(SEAL_ENV_PREFIX)) == 0;
    const char *name = want_env ? key + strlen(SEAL_ENV_PREFIX) : key;
    if (!seal_identifier(name)) {
        ei_error_set(err, EI_USAGE, 0, NULL, "seal set",
                     "'%s' is not a variable name ([A-Za-z_][A-Za-z0-9_]*, "
                     "optionally after environment.)",
                     key);
        return -1;
    }
    if (sodium_init() < 0) {
        ei_error_set(err, EI_INTERNAL, 0, NULL, file, "sodium_init failed");
        return -1;
    }
    bool plain = name[0] == '_';
    struct ei_buf buf;
    struct ei_error rerr = {0};
    if (ei_readfile(file, EI_READ_SECRET, EI_SEAL_FILE_MAX, &buf, &rerr) !=
        EI_OK) {
        if (rerr.status == EI_NOTFOUND)
            ei_error_set(err, EI_NOTFOUND, rerr.errnum, NULL, file,
                         "no such file; start one with {\"_public_key\": "
                         "\"HEX\"} (envinject seal keygen prints a key)");
        else if (err != NULL && err->status == EI_OK)
            *err = rerr;
        return -1;
    }
    int rc = -1;
    char *value = NULL, *vjson = NULL, *member = NULL, *data = NULL;
    size_t value_len = 0, vjson_len = 0, data_len = 0;
    struct seal_scan sc;
    memset(&sc, 0, sizeof(sc));
    sc.file = file;
    const struct seal_member **cont = NULL;
    struct seal_edit ed;
    memset(&ed, 0, sizeof(ed));
    unsigned char pk[EI_EJSON_KEY_LEN];

    if (ei_ejson_public_key(buf.data, buf.len, EI_EJSON_MULTILINE, file, pk,
                            err) != EI_OK ||
        ei_ejson_walk(buf.data, buf.len, EI_EJSON_MULTILINE, file,
                      seal_scan_visit, &sc, err) != EI_OK)
        goto done;

    const struct seal_member *env = NULL, *top_last = NULL;
    for (size_t i = 0; i < sc.n; i++) {
        if (sc.m[i].depth != 1)
            continue;
        top_last = &sc.m[i];
        if (ei_ejson_key_is(buf.data + sc.m[i].key_start, sc.m[i].key_len,
                            SEAL_ENVIRONMENT))
            env = &sc.m[i];
    }
    if (env != NULL && env->type != EI_EJSON_OBJECT) {
        ei_error_set(err, EI_BADDATA, 0, NULL, file,
                     "\"environment\" is not an object");
        goto done;
    }
    if (want_env && env == NULL) {
        ei_error_set(err, EI_USAGE, 0, NULL, file,
                     "no top-level environment object; give the key without "
                     "environment.");
        goto done;
    }
    if (env == NULL && (strcmp(name, SEAL_PUBLIC_KEY) == 0 ||
                        strcmp(name, SEAL_ENVIRONMENT) == 0)) {
        ei_error_set(err, EI_USAGE, 0, NULL, file,
                     "%s cannot be set with seal set", name);
        goto done;
    }

    value = seal_read_value(value_fd, &value_len, err);
    if (value == NULL)
        goto done;
    if (memchr(value, '\0', value_len) != NULL) {
        ei_error_set(err, EI_BADDATA, 0, NULL, "stdin",
                     "the value holds a NUL byte, which no environment "
                     "variable can hold");
        goto done;
    }
    vjson = seal_value_json(file, pk, value, value_len, plain, &vjson_len, err);
    if (vjson == NULL)
        goto done;

    size_t c_start = env != NULL ? env->start : sc.root_start;
    size_t c_end = env != NULL ? env->end : sc.root_end;
    size_t want_depth = env != NULL ? 2 : 1;
    cont = calloc(sc.n + 1, sizeof(*cont));
    if (cont == NULL) {
        ei_error_set(err, EI_NOMEM, ENOMEM, NULL, file, "out of memory");
        goto done;
    }
    size_t cont_n = 0;
    const struct seal_member *hit = NULL;
    for (size_t i = 0; i < sc.n; i++) {
        const struct seal_member *m = &sc.m[i];
        if (m->depth != want_depth || m->start < c_start || m->end > c_end)
            continue;
        cont[cont_n++] = m;
        if (ei_ejson_key_is(buf.data + m->key_start, m->key_len, name))
            hit = m;
    }
    if (hit != NULL) {
        ed.at = hit->start;
        ed.del = hit->end - hit->start;
        ed.ins = vjson;
        ed.ins_len = vjson_len;
        vjson = NULL;
    } else {
        /* copy the separator of the neighbours: ": " or ":" */
        const char *sep = ": ";
        size_t sep_len = 2;
        const struct seal_member *like =
            cont_n > 0 ? cont[cont_n - 1] : top_last;
        if (like != NULL) {
            sep = buf.data + like->key_start + like->key_len;
            sep_len = like->start - (like->key_start + like->key_len);
        }
        size_t member_len = strlen(name) + 2 + sep_len + vjson_len;
        member = malloc(member_len + 1);
        if (member == NULL) {
            ei_error_set(err, EI_NOMEM, ENOMEM, NULL, file, "out of memory");
            goto done;
        }
        snprintf(member, member_len + 1, "\"%s\"%.*s%s", name, (int)sep_len,
                 sep, vjson);
        if (seal_plan_insert(buf.data, c_start, c_end, cont, cont_n, top_last,
                             member, member_len, &ed) != 0) {
            ei_error_set(err, EI_NOMEM, ENOMEM, NULL, file, "out of memory");
            goto done;
        }
    }
    data = seal_apply(buf.data, buf.len, &ed, &data_len);
    if (data == NULL) {
        ei_error_set(err, EI_NOMEM, ENOMEM, NULL, file, "out of memory");
        goto done;
    }
    if (seal_replace(file, data, data_len, err) != 0)
        goto done;
    fprintf(out, "set %s%s (%s)\n", env != NULL ? SEAL_ENV_PREFIX : "", name,
            plain ? "plaintext" : "encrypted");
    if (fflush(out) != 0 || ferror(out)) {
        ei_error_set(err, EI_OSERR, errno, NULL, file,
                     "set, but cannot write the report to the output");
        goto done;
    }
    rc = 0;
done:
    if (value != NULL)
        sodium_free(value);
    if (vjson != NULL) {
        sodium_memzero(vjson, vjson_len);
        free(vjson);
    }
    if (ed.ins != NULL) {
        sodium_memzero(ed.ins, ed.ins_len);
        free(ed.ins);
    }
    if (member != NULL) {
        sodium_memzero(member, strlen(member));
        free(member);
    }
    if (data != NULL) {
        sodium_memzero(data, data_len);
        free(data);
    }
    free(cont);
    free(sc.m);
    ei_readfile_free(&buf);
    return rc;
}
