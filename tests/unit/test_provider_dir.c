/* SPDX-License-Identifier: MIT */
/* Unit tests of the dir provider (providers/dir.c) through the fake host;
   link with -Wl,--wrap=malloc for the allocation-failure test. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include <envinject/provider.h>

#include "expand.h"
#include "host.h"

extern const struct ei_provider ei_provider_dir;

#define CANARY    "EI_CANARY_d1r5"
#define PATH_SIZE 512
#define OPTS_N    4
#define ENV_N     4
#define NODES_N   12
#define WANT_N    8
#define DL_NONE   0  /* no deadline given to fetch */
#define DL_PASSED -1 /* a deadline already passed */
#define MAX_FILES 10000
#define K8S_TS    "..2024_01_01_00_00_00.123456789"

/* --- allocation failure through ld --wrap=malloc --- */

void *__real_malloc(size_t n);
void *__wrap_malloc(size_t n);

/* malloc calls that succeed before one fails; -1: never fail */
static long chaos_countdown = -1;

void *__wrap_malloc(size_t n)
{
    if (chaos_countdown == 0)
        return NULL;
    if (chaos_countdown > 0)
        chaos_countdown--;
    return __real_malloc(n);
}

/* --- the table --- */

enum node_kind { N_END = 0, N_FILE, N_DIR, N_LINK, N_FIFO };

/* Something to create in the case's folder, in order. */
struct node {
    enum node_kind kind;
    const char *path;    /* relative to the case's folder */
    const char *content; /* N_FILE; N_LINK: the link's target */
    size_t len;          /* 0: strlen(content) */
    int mode;            /* 0: leave the default */
};

struct want_entry {
    const char *name; /* NULL ends the list */
    const char *value;
    size_t len;          /* 0: strlen(value) */
    const char *locator; /* "%D" stands for the case's folder */
};

struct dir_case {
    const char *name;
    const char *opts[OPTS_N];   /* "%D" stands for the case's folder */
    const char *environ[ENV_N]; /* "%D" likewise */
    struct node nodes[NODES_N];
    size_t max_value_len; /* 0: the fake's default */
    int deadline;         /* DL_* or milliseconds */
    size_t fail_at;
    bool needs_nonroot; /* permission checks do not bind root */
    enum ei_status want_configure;
    enum ei_status want;
    const char *want_text;
    const char *want_locator;
    int want_errnum;
    struct want_entry entries[WANT_N];
    const char *log_has;
};

static const struct dir_case cases[] = {
    {.name = "sorted-and-trimmed-once",
     .opts = {"path=s"},
     .nodes = {{N_DIR, "s"},
               {N_FILE, "s/c", "C\n\n"},
               {N_FILE, "s/a", CANARY "\n"},
               {N_FILE, "s/b", "B"},
               {N_FILE, "s/B", "upper"}},
     .entries = {{"B", "upper", 0, "%D/s/B"},
                 {"a", CANARY, 0, "%D/s/a"},
                 {"b", "B", 0, "%D/s/b"},
                 {"c", "C\n", 0, "%D/s/c"}}},
    {.name = "names-not-mapped-by-provider",
     .opts = {"path=s"},
     .nodes = {{N_DIR, "s"},
               {N_FILE, "s/db-password", "pw"},
               {N_FILE, "s/with space", "x"},
               {N_FILE, "s/UPPER.lower", "y"}},
     .entries = {{"UPPER.lower", "y", 0, "%D/s/UPPER.lower"},
                 {"db-password", "pw", 0, "%D/s/db-password"},
                 {"with space", "x", 0, "%D/s/with space"}}},
    {.name = "dotfiles-subdirs-fifos-skipped",
     .opts = {"path=s"},
     .nodes = {{N_DIR, "s"},
               {N_FILE, "s/.hidden", CANARY},
               {N_DIR, "s/sub"},
               {N_FILE, "s/sub/inner", CANARY},
               {N_FIFO, "s/pipe"},
               {N_FILE, "s/x", "1"}},
     .entries = {{"x", "1", 0, "%D/s/x"}},
     .log_has = "%D/s/pipe: skipped: not a regular file\n"
                "%D/s/sub: skipped: not a regular file"},
    {.name = "kubernetes-secret-volume",
     .opts = {"path=secrets"},
     .nodes = {{N_DIR, "secrets"},
               {N_DIR, "secrets/" K8S_TS},
               {N_FILE, "secrets/" K8S_TS "/db-password", CANARY "\n"},
               {N_FILE, "secrets/" K8S_TS "/api-key", "k"},
               {N_LINK, "secrets/..data", K8S_TS},
               {N_LINK, "secrets/db-password", "..data/db-password"},
               {N_LINK, "secrets/api-key", "..data/api-key"}},
     .entries = {{"api-key", "k", 0, "%D/secrets/api-key"},
                 {"db-password", CANARY, 0, "%D/secrets/db-password"}}},
    {.name = "dangling-symlink-skipped",
     .opts = {"path=s"},
     .nodes = {{N_DIR, "s"},
               {N_LINK, "s/gone", "nowhere"},
               {N_LINK, "s/loop", "loop"},
               {N_FILE, "s/ok", "v"}},
     .entries = {{"ok", "v", 0, "%D/s/ok"}},
     .log_has = "%D/s/gone: skipped: dangling"},
    {.name = "symlink-to-dir-skipped",
     .opts = {"path=s"},
     .nodes = {{N_DIR, "s"}, {N_DIR, "s/d"}, {N_LINK, "s/l", "d"}},
     .log_has = "%D/s/l: skipped: not a regular file"},
    {.name = "trim-newline-false",
     .opts = {"path=s", "trim_newline=false"},
     .nodes = {{N_DIR, "s"}, {N_FILE, "s/a", "a\n"}, {N_FILE, "s/b", "b\r\n"}},
     .entries = {{"a", "a\n", 0, "%D/s/a"}, {"b", "b\r\n", 0, "%D/s/b"}}},
    {.name = "trim-newline-keeps-cr",
     .opts = {"path=s", "trim_newline=yes"},
     .nodes = {{N_DIR, "s"}, {N_FILE, "s/b", "b\r\n"}, {N_FILE, "s/e", ""}},
     .entries = {{"b", "b\r", 0, "%D/s/b"}, {"e", "", 0, "%D/s/e"}}},
    {.name = "trim-newline-bad-value",
     .opts = {"path=s", "trim_newline=maybe"},
     .want_configure = EI_BADCONFIG,
     .want_text = "trim_newline: not a boolean"},
    {.name = "nul-byte-rejected",
     .opts = {"path=s"},
     .nodes = {{N_DIR, "s"},
               {N_FILE, "s/a", "fine"},
               {N_FILE, "s/db-password", "pw\0" CANARY, 3 + sizeof CANARY}},
     .want = EI_BADDATA,
     .want_text = "db-password: the file holds a NUL byte at offset 2",
     .want_locator = "%D/s/db-password"},
    {.name = "missing-folder",
     .opts = {"path=nope"},
     .want = EI_NOTFOUND,
     .want_text = "no such folder",
     .want_locator = "%D/nope"},
    {.name = "path-is-a-file",
     .opts = {"path=f"},
     .nodes = {{N_FILE, "f", "x"}},
     .want = EI_IOERROR,
     .want_text = "not a folder",
     .want_locator = "%D/f"},
    {.name = "path-under-a-file",
     .opts = {"path=f/s"},
     .nodes = {{N_FILE, "f", "x"}},
     .want = EI_NOTFOUND,
     .want_text = "no such folder",
     .want_locator = "%D/f/s"},
    {.name = "absolute-path-trailing-slash",
     .opts = {"path=%D/s//"},
     .nodes = {{N_DIR, "s"}, {N_FILE, "s/a", "1"}},
     .entries = {{"a", "1", 0, "%D/s/a"}}},
    {.name = "credentials-directory-default",
     .environ = {"CREDENTIALS_DIRECTORY=%D/creds"},
     .nodes = {{N_DIR, "creds"}, {N_FILE, "creds/token", CANARY}},
     .entries = {{"token", CANARY, 0, "%D/creds/token"}}},
    {.name = "path-option-beats-credentials-directory",
     .opts = {"path=s"},
     .environ = {"CREDENTIALS_DIRECTORY=%D/creds"},
     .nodes = {{N_DIR, "creds"},
               {N_FILE, "creds/token", "no"},
               {N_DIR, "s"},
               {N_FILE, "s/a", "yes"}},
     .entries = {{"a", "yes", 0, "%D/s/a"}}},
    {.name = "path-missing",
     .environ = {"OTHER=1"},
     .want_configure = EI_BADCONFIG,
     .want_text = "path is required (or set CREDENTIALS_DIRECTORY)"},
    {.name = "credentials-directory-empty",
     .environ = {"CREDENTIALS_DIRECTORY="},
     .want_configure = EI_BADCONFIG,
     .want_text = "path is required (or set CREDENTIALS_DIRECTORY)"},
    {.name = "path-empty",
     .opts = {"path="},
     .want_configure = EI_BADCONFIG,
     .want_text = "path must not be empty"},
    {.name = "unreadable-file",
     .opts = {"path=s"},
     .nodes = {{N_DIR, "s"}, {N_FILE, "s/a", CANARY, 0, 0200}},
     .needs_nonroot = true,
     .want = EI_IOERROR,
     .want_text = "cannot open",
     .want_locator = "%D/s/a",
     .want_errnum = EACCES},
    {.name = "unreadable-folder",
     .opts = {"path=s"},
     .nodes = {{N_DIR, "s", NULL, 0, 0300}},
     .needs_nonroot = true,
     .want = EI_IOERROR,
     .want_text = "cannot open the folder",
     .want_locator = "%D/s",
     .want_errnum = EACCES},
    {.name = "file-over-limit",
     .opts = {"path=s"},
     .nodes = {{N_DIR, "s"}, {N_FILE, "s/a", CANARY}},
     .max_value_len = 8,
     .want = EI_BADDATA,
     .want_text = "larger than 8 bytes",
     .want_locator = "%D/s/a"},
    {.name = "sink-fails",
     .opts = {"path=s"},
     .nodes = {{N_DIR, "s"}, {N_FILE, "s/a", "1"}, {N_FILE, "s/b", "2"}},
     .fail_at = 2,
     .want = EI_INTERNAL,
     .want_text = "failing emit 2"},
    {.name = "deadline-passed",
     .opts = {"path=s"},
     .nodes = {{N_DIR, "s"}, {N_FILE, "s/a", "1"}},
     .deadline = DL_PASSED,
     .want = EI_UNAVAILABLE,
     .want_text = "timed out after 0 of 1 files",
     .want_locator = "%D/s"},
    {.name = "deadline-ahead",
     .opts = {"path=s"},
     .nodes = {{N_DIR, "s"}, {N_FILE, "s/a", "1"}},
     .deadline = 60000,
     .entries = {{"a", "1", 0, "%D/s/a"}}},
    {.name = "empty-folder", .opts = {"path=s"}, .nodes = {{N_DIR, "s"}}},
};

#define CASES_N (sizeof cases / sizeof cases[0])

static char tmpdir[PATH_SIZE];

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static void make_nodes(const struct dir_case *c, const char *dir)
{
    assert_int_equal(mkdir(dir, 0700), 0);
    for (size_t i = 0; i < NODES_N && c->nodes[i].kind != N_END; i++) {
        const struct node *nd = &c->nodes[i];
        char path[PATH_SIZE];
        int n = snprintf(path, sizeof path, "%s/%s", dir, nd->path);
        assert_true(n > 0 && (size_t)n < sizeof path);
        switch (nd->kind) {
        case N_FILE:
            write_file(path, nd->content,
                       nd->len != 0 ? nd->len : strlen(nd->content));
            break;
        case N_DIR:
            assert_int_equal(mkdir(path, 0700), 0);
            break;
        case N_LINK:
            assert_int_equal(symlink(nd->content, path), 0);
            break;
        case N_FIFO:
            assert_int_equal(mkfifo(path, 0600), 0);
            break;
        case N_END:
            break;
        }
        if (nd->mode != 0)
            assert_int_equal(chmod(path, (mode_t)nd->mode), 0);
    }
}

static void check_entries(const struct dir_case *c, const struct fake_sink *fs,
                          const char *dir)
{
    size_t want_n = 0;
    while (want_n < WANT_N && c->entries[want_n].name != NULL)
        want_n++;
    assert_int_equal(fs->n, want_n);
    for (size_t i = 0; i < want_n; i++) {
        const struct want_entry *w = &c->entries[i];
        const struct fake_entry *e = &fs->entries[i];
        char *locator = expand_dir(w->locator, dir);
        size_t len = w->len != 0 ? w->len : strlen(w->value);
        assert_string_equal(e->name, w->name);
        assert_int_equal(e->name_n, 1);
        assert_int_equal(e->value_len, len);
        assert_memory_equal(e->value, w->value, len);
        /* secret by the layer (EI_PROV_SECRET), mapped by the core */
        assert_int_equal(e->flags, 0);
        assert_non_null(e->locator);
        assert_string_equal(e->locator, locator);
        free(locator);
    }
}

static void test_case(void **state)
{
    const struct dir_case *c = *state;
    if (c->needs_nonroot && geteuid() == 0)
        skip();
    char dir[PATH_SIZE];
    int n = snprintf(dir, sizeof dir, "%s/%s", tmpdir, c->name);
    assert_true(n > 0 && (size_t)n < sizeof dir);
    make_nodes(c, dir);

    char **opts = expand_dir_list(c->opts, OPTS_N, dir);
    char **env = expand_dir_list(c->environ, ENV_N, dir);
    struct fake_host *fh =
        fake_host_new((const char *const *)opts, (const char *const *)env, dir);
    assert_non_null(fh);
    if (c->max_value_len != 0)
        fake_host_set_max_value_len(fh, c->max_value_len);
    const struct ei_host *h = fake_host_host(fh);

    struct ei_error err = {0};
    void *st = NULL;
    enum ei_status got = ei_provider_dir.configure(h, &st, &err);
    assert_int_equal(got, c->want_configure);
    assert_int_equal(err.status, c->want_configure);
    assert_int_equal(fake_host_reads(fh), 0);
    if (got != EI_OK) {
        assert_null(st);
        assert_non_null(strstr(err.text, c->want_text));
        goto done;
    }
    assert_null(fake_host_unused(fh));

    struct fake_sink fs;
    fake_sink_init(&fs);
    fs.fail_at = c->fail_at;
    struct ei_deadline dl;
    fake_deadline(&dl, c->deadline == DL_PASSED ? -1000 : c->deadline);
    got = ei_provider_dir.fetch(st, &fs.sink,
                                c->deadline == DL_NONE ? NULL : &dl, &err);
    assert_int_equal(got, c->want);
    assert_int_equal(err.status, c->want);
    assert_false(fs.abi_violation);
    if (got == EI_OK) {
        check_entries(c, &fs, dir);
    } else {
        assert_non_null(strstr(err.text, c->want_text));
        assert_int_equal(err.errnum, c->want_errnum);
        if (c->want_locator != NULL) {
            char *loc = expand_dir(c->want_locator, dir);
            assert_string_equal(err.locator, loc);
            free(loc);
        }
    }
    if (c->log_has != NULL) {
        char *want_log = expand_dir(c->log_has, dir);
        assert_non_null(strstr(fake_host_log(fh), want_log));
        free(want_log);
    }
    fake_sink_free(&fs);
    ei_provider_dir.destroy(st);
done:
    assert_null(strstr(err.text, CANARY));
    assert_null(strstr(fake_host_log(fh), CANARY));
    fake_host_free(fh);
    expand_list_free(opts);
    expand_list_free(env);
}

static void test_descriptor(void **state)
{
    const struct ei_provider *p = &ei_provider_dir;
    assert_int_equal(p->abi, EI_PROVIDER_ABI);
    assert_int_equal(p->size, sizeof(struct ei_provider));
    assert_string_equal(p->name, "dir");
    assert_string_equal(p->summary,
                        "a folder of files: name -> key, content -> value");
    assert_string_equal(p->arg_option, "path");
    assert_int_equal(p->flags, EI_PROV_SECRET);
    assert_non_null(p->configure);
    assert_non_null(p->fetch);
    assert_non_null(p->destroy);
    p->destroy(NULL);
}

/* At most MAX_FILES names are accepted: the limit itself works, one more
   is an error. */
static void test_file_limit(void **state)
{
    char dir[PATH_SIZE];
    int n = snprintf(dir, sizeof dir, "%s/limit", tmpdir);
    assert_true(n > 0 && (size_t)n < sizeof dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    char path[PATH_SIZE + 16];
    for (int i = 0; i <= MAX_FILES; i++) {
        n = snprintf(path, sizeof path, "%s/f%05d", dir, i);
        assert_true(n > 0 && (size_t)n < sizeof path);
        write_file(path, "", 0);
    }
    const char *opts[] = {"path=limit", NULL};
    for (int round = 0; round < 2; round++) {
        struct fake_host *fh = fake_host_new(opts, NULL, tmpdir);
        assert_non_null(fh);
        struct ei_error err = {0};
        void *st = NULL;
        assert_int_equal(
            ei_provider_dir.configure(fake_host_host(fh), &st, &err), EI_OK);
        struct fake_sink fs;
        fake_sink_init(&fs);
        enum ei_status got = ei_provider_dir.fetch(st, &fs.sink, NULL, &err);
        if (round == 0) {
            assert_int_equal(got, EI_BADDATA);
            assert_non_null(strstr(err.text, "more than 10000 files"));
            assert_int_equal(fs.n, 0);
            /* one fewer, and the folder is accepted */
            assert_int_equal(unlink(path), 0);
        } else {
            assert_int_equal(got, EI_OK);
            assert_int_equal(fs.n, MAX_FILES);
            assert_string_equal(fs.entries[0].name, "f00000");
            assert_string_equal(fs.entries[MAX_FILES - 1].name, "f09999");
        }
        fake_sink_free(&fs);
        ei_provider_dir.destroy(st);
        fake_host_free(fh);
    }
}

/* The revision: SHA-256 over name, NUL, length (8 bytes little-endian)
   and bytes of every file, in name order, when one is wanted; none when
   nothing keeps it (no hashing at every start without an audit record). */
static void test_revision(void **state)
{
    (void)state;
    char dir[PATH_SIZE];
    int n = snprintf(dir, sizeof dir, "%s/rev", tmpdir);
    assert_true(n > 0 && (size_t)n < sizeof dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    char path[PATH_SIZE + 16];
    snprintf(path, sizeof path, "%s/B", dir);
    write_file(path, "two\n", 4);
    snprintf(path, sizeof path, "%s/A", dir);
    write_file(path, "1", 1);
    /* A, NUL, 1 as 8 bytes, "1", then B, NUL, 4, "two\n" */
    static const unsigned char input[] = {
        'A', 0, 1, 0, 0, 0, 0, 0, 0, 0, '1',
        'B', 0, 4, 0, 0, 0, 0, 0, 0, 0, 't', 'w', 'o', '\n'};
    unsigned char d[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(d, input, sizeof(input));
    char want[7 + 2 * crypto_hash_sha256_BYTES + 1] = "sha256:";
    sodium_bin2hex(want + 7, sizeof(want) - 7, d, sizeof(d));
    const char *opts[] = {"path=rev", NULL};
    for (int wanted = 1; wanted >= 0; wanted--) {
        struct fake_host *fh = fake_host_new(opts, NULL, tmpdir);
        assert_non_null(fh);
        fake_host_set_revision_wanted(fh, wanted != 0);
        struct ei_error err = {0};
        void *st = NULL;
        assert_int_equal(
            ei_provider_dir.configure(fake_host_host(fh), &st, &err), EI_OK);
        struct fake_sink fs;
        fake_sink_init(&fs);
        assert_int_equal(ei_provider_dir.fetch(st, &fs.sink, NULL, &err),
                         EI_OK);
        assert_int_equal(fs.n, 2);
        if (wanted)
            assert_string_equal(fake_host_revision(fh), want);
        else
            assert_null(fake_host_revision(fh));
        fake_sink_free(&fs);
        ei_provider_dir.destroy(st);
        fake_host_free(fh);
    }
}

/* Every allocation failure ends in EI_NOMEM, without leaks, until there
   are enough allocations to succeed. */
static void test_out_of_memory(void **state)
{
    char dir[PATH_SIZE];
    int n = snprintf(dir, sizeof dir, "%s/oom", tmpdir);
    assert_true(n > 0 && (size_t)n < sizeof dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    const char *files[] = {"a", "b", "c"};
    for (size_t i = 0; i < 3; i++) {
        char path[PATH_SIZE + 8];
        n = snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        assert_true(n > 0 && (size_t)n < sizeof path);
        write_file(path, CANARY "\n", sizeof CANARY);
    }
    const char *opts[] = {"path=oom", NULL};
    bool succeeded = false;
    long failures = 0;
    for (long k = 0; !succeeded && k < 200; k++) {
        struct fake_host *fh = fake_host_new(opts, NULL, tmpdir);
        assert_non_null(fh);
        struct fake_sink fs;
        fake_sink_init(&fs);
        struct ei_error err = {0};
        void *st = NULL;
        chaos_countdown = k;
        enum ei_status got =
            ei_provider_dir.configure(fake_host_host(fh), &st, &err);
        if (got == EI_OK)
            got = ei_provider_dir.fetch(st, &fs.sink, NULL, &err);
        chaos_countdown = -1;
        if (got == EI_OK) {
            succeeded = true;
            assert_int_equal(fs.n, 3);
        } else {
            failures++;
            assert_int_equal(got, EI_NOMEM);
            assert_int_equal(err.status, EI_NOMEM);
        }
        fake_sink_free(&fs);
        ei_provider_dir.destroy(st);
        fake_host_free(fh);
    }
    assert_true(succeeded);
    assert_true(failures > 0);
}

static int group_setup(void **state)
{
    const char *base = getenv("TMPDIR");
    int n = snprintf(tmpdir, sizeof tmpdir, "%s/test_provider_dir.XXXXXX",
                     base != NULL && base[0] != '\0' ? base : "/tmp");
    if (n < 0 || (size_t)n >= sizeof tmpdir || mkdtemp(tmpdir) == NULL)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    char cmd[PATH_SIZE + 32];
    /* chmod first: the unreadable cases leave folders rm cannot enter */
    int n = snprintf(cmd, sizeof cmd, "chmod -R u+rwx '%s' && rm -rf '%s'",
                     tmpdir, tmpdir);
    if (n < 0 || (size_t)n >= sizeof cmd)
        return -1;
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    struct CMUnitTest tests[CASES_N + 4];
    for (size_t i = 0; i < CASES_N; i++) {
        tests[i] =
            (struct CMUnitTest)cmocka_unit_test_prestate(test_case, NULL);
        tests[i].name = cases[i].name;
        tests[i].initial_state = (void *)&cases[i];
    }
    tests[CASES_N] = (struct CMUnitTest)cmocka_unit_test(test_descriptor);
    tests[CASES_N + 1] = (struct CMUnitTest)cmocka_unit_test(test_file_limit);
    tests[CASES_N + 2] =
        (struct CMUnitTest)cmocka_unit_test(test_out_of_memory);
    tests[CASES_N + 3] = (struct CMUnitTest)cmocka_unit_test(test_revision);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
