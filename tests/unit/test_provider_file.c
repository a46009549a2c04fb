/* SPDX-License-Identifier: MIT */
/* The file provider's use of the host: secret memory for the file of a
   secret layer only, and a content hash only when a revision is wanted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../fakes/host.h"
#include "cfgscan.h"

extern const struct ei_provider ei_provider_file;

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* a dotenv file and the revision of its bytes (sha256sum) */
#define DOTENV_TEXT "A=1\n"
#define DOTENV_REV                                                             \
    "sha256:"                                                                  \
    "91d6a3d55e9fea7911c537afae6607c77fa8bc0f3a76c375e104ac5a8cfa84db"

static char dir[64];
static char path_opt[128];
static char cfg_opt[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/ei-test-file.XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    char p[96];
    snprintf(p, sizeof p, "%s/a.env", dir);
    FILE *f = fopen(p, "w");
    if (f == NULL || fputs(DOTENV_TEXT, f) < 0 || fclose(f) != 0)
        return -1;
    snprintf(path_opt, sizeof path_opt, "path=%s", p);
    snprintf(p, sizeof p, "%s/inc.cfg", dir);
    f = fopen(p, "w");
    if (f == NULL || fputs("b = \"2\";\n", f) < 0 || fclose(f) != 0)
        return -1;
    snprintf(p, sizeof p, "%s/top.cfg", dir);
    f = fopen(p, "w");
    if (f == NULL || fputs("@include \"inc.cfg\"\na = \"1\";\n", f) < 0 ||
        fclose(f) != 0)
        return -1;
    snprintf(cfg_opt, sizeof cfg_opt, "path=%s", p);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    const char *names[] = {"a.env", "inc.cfg", "top.cfg"};
    char p[96];
    for (size_t i = 0; i < N_ELEMS(names); i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
    return 0;
}

/* How the scanned copy of a libconfig file was freed (ld --wrap). */
void __real_ei_cfgscan_free(char *text, size_t len);
void __real_ei_cfgscan_free_plain(char *text);
void __wrap_ei_cfgscan_free(char *text, size_t len);
void __wrap_ei_cfgscan_free_plain(char *text);
static unsigned wiped_frees, plain_frees;

void __wrap_ei_cfgscan_free(char *text, size_t len)
{
    wiped_frees++;
    __real_ei_cfgscan_free(text, len);
}

void __wrap_ei_cfgscan_free_plain(char *text)
{
    plain_frees++;
    __real_ei_cfgscan_free_plain(text);
}

/* Configure and fetch opt's file once; the entries are in fs. */
static void fetch_once(struct fake_host *fh, struct fake_sink *fs)
{
    void *st = NULL;
    struct ei_error err = {0};
    assert_int_equal(ei_provider_file.configure(fake_host_host(fh), &st, &err),
                     EI_OK);
    struct ei_deadline dl;
    fake_deadline(&dl, 10000);
    fake_sink_init(fs);
    assert_int_equal(ei_provider_file.fetch(st, &fs->sink, &dl, &err), EI_OK);
    ei_provider_file.destroy(st);
}

/* The file (and what it includes) goes to secret memory when the layer is
   secret, or when the host is too old to say; else to ordinary memory.
   The scanned copy of a libconfig file is wiped only in the first case. */
static void test_read_flags(void **state)
{
    (void)state;
    static const struct {
        bool old_host, layer_secret;
        unsigned want;
    } rows[] = {
        {false, false, 0},
        {false, true, EI_READ_SECRET},
        {true, false, EI_READ_SECRET},
    };
    for (size_t r = 0; r < N_ELEMS(rows); r++) {
        for (int which = 0; which < 2; which++) {
            const char *opts[] = {which == 0 ? path_opt : cfg_opt, NULL};
            struct fake_host *fh = fake_host_new(opts, NULL, NULL);
            assert_non_null(fh);
            fake_host_set_layer_secret(fh, rows[r].layer_secret);
            if (rows[r].old_host)
                fake_host_set_size(fh, offsetof(struct ei_host, layer_secret));
            struct fake_sink fs;
            wiped_frees = plain_frees = 0;
            fetch_once(fh, &fs);
            /* the libconfig file's last read is its @include */
            assert_int_equal(fake_host_read_flags(fh), rows[r].want);
            bool secret = rows[r].want == EI_READ_SECRET;
            assert_int_equal(wiped_frees, which == 1 && secret);
            assert_int_equal(plain_frees, which == 1 && !secret);
            const struct fake_entry *e = fake_sink_find(&fs, "a");
            if (which == 0)
                e = fake_sink_find(&fs, "A");
            assert_non_null(e);
            assert_string_equal(e->value, "1");
            if (which == 1) {
                assert_non_null(fake_sink_find(&fs, "b"));
            }
            fake_sink_free(&fs);
            fake_host_free(fh);
        }
    }
}

/* The file's SHA-256 is its revision, computed only when one is wanted
   (or the host is too old to say). */
static void test_revision(void **state)
{
    (void)state;
    static const struct {
        bool old_host, wanted;
        bool reported;
    } rows[] = {
        {false, true, true},
        {false, false, false},
        {true, false, true},
    };
    for (size_t r = 0; r < N_ELEMS(rows); r++) {
        const char *opts[] = {path_opt, NULL};
        struct fake_host *fh = fake_host_new(opts, NULL, NULL);
        assert_non_null(fh);
        fake_host_set_revision_wanted(fh, rows[r].wanted);
        if (rows[r].old_host)
            fake_host_set_size(fh, offsetof(struct ei_host, layer_secret));
        struct fake_sink fs;
        fetch_once(fh, &fs);
        const char *rev = fake_host_revision(fh);
        if (rows[r].reported) {
            assert_non_null(rev);
            assert_string_equal(rev, DOTENV_REV);
        } else {
            assert_null(rev);
        }
        assert_non_null(fake_sink_find(&fs, "A"));
        fake_sink_free(&fs);
        fake_host_free(fh);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_flags),
        cmocka_unit_test(test_revision),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
