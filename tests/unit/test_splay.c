/* SPDX-License-Identifier: MIT */
/* Unit tests of the random delays that keep a fleet apart: the start and
   restart splay, and the full jitter of HTTP retries.  Their spread is
   checked with a chi-square test over many seeded draws (bounds generous
   enough never to fail by chance with a fixed seed), and two processes
   started at once must not draw the same delays. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "http.h"
#include "secmem.h"
#include "splay.h"

#define BUCKETS 20
#define DRAWS   100000
/* chi-square with 19 degrees of freedom: p = 0.0001 is about 50.8; a
   uniform source stays far below, a skewed one (a modulo bias of a few
   percent, a range cut short) goes far above */
#define CHI2_MAX 50.8

/* xorshift32: seeded, so a failure reproduces */
static uint32_t xorshift(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Chi-square of counts over BUCKETS buckets of the values 0..max, where
   value v falls in bucket v * BUCKETS / (max + 1): each bucket expects
   draws times its share of the values (widths differ by one at most). */
static double chi2(const long *count, int64_t max, long draws)
{
    int64_t n = max + 1;
    double sum = 0;
    for (int64_t b = 0; b < BUCKETS; b++) {
        int64_t first = (b * n + BUCKETS - 1) / BUCKETS;
        int64_t next = ((b + 1) * n + BUCKETS - 1) / BUCKETS;
        double expect = (double)draws * (double)(next - first) / (double)n;
        double d = (double)count[b] - expect;
        sum += d * d / expect;
    }
    return sum;
}

/* The splay: uniform over [0, max], both ends reached. */
static void test_splay_uniform(void **state)
{
    (void)state;
    static const int64_t maxes[] = {1, 19, 999, 2000, 30000, 3600000};
    uint32_t seed = 0x9e3779b9u;
    for (size_t m = 0; m < sizeof(maxes) / sizeof(maxes[0]); m++) {
        int64_t max = maxes[m];
        long count[BUCKETS] = {0};
        int64_t lo = INT64_MAX, hi = -1;
        for (long i = 0; i < DRAWS; i++) {
            int64_t d = ei_splay_pick(max, xorshift(&seed));
            if (d < 0 || d > max)
                fail_msg("max %lld: %lld out of range", (long long)max,
                         (long long)d);
            lo = d < lo ? d : lo;
            hi = d > hi ? d : hi;
            /* buckets of equal width over the max + 1 values */
            count[(size_t)(d * BUCKETS / (max + 1))]++;
        }
        assert_int_equal(lo, 0);
        if (max < 100000)
            assert_int_equal(hi, max);
        if (max + 1 >= BUCKETS) {
            double x = chi2(count, max, DRAWS);
            if (x > CHI2_MAX)
                fail_msg("max %lld: chi-square %.1f", (long long)max, x);
        }
    }
    /* the ends of the random range map to the ends of the delays */
    assert_int_equal(ei_splay_pick(1000, 0), 0);
    assert_int_equal(ei_splay_pick(1000, UINT32_MAX), 1000);
    assert_int_equal(ei_splay_pick(0, UINT32_MAX), 0);
    assert_int_equal(ei_splay_pick(-5, 12345), 0);
}

/* Full jitter: each retry's delay uniform over [0, ceiling]. */
static void test_backoff_uniform(void **state)
{
    (void)state;
    uint32_t seed = 0x2545f491u;
    for (unsigned attempt = 0; attempt < 8; attempt++) {
        int64_t top = 50LL << attempt;
        if (top > 2000)
            top = 2000;
        long count[BUCKETS] = {0};
        for (long i = 0; i < DRAWS; i++) {
            int64_t d =
                ei_http_backoff(attempt, 50, 2000, -1, 100000, xorshift(&seed));
            assert_true(d >= 0 && d <= top);
            count[(size_t)(d * BUCKETS / (top + 1))]++;
        }
        double x = chi2(count, top, DRAWS);
        if (x > CHI2_MAX)
            fail_msg("attempt %u: chi-square %.1f", attempt, x);
    }
}

/*
 * Two processes forked in the same instant (same time, consecutive pids,
 * the same memory image) each draw a sequence from the real source: the
 * sequences differ.  A source seeded from the time or the pid, or one
 * whose state the fork copied, would repeat them.
 */
#define SEQ 8

static void draw_into(int fd)
{
    int64_t v[SEQ];
    for (int i = 0; i < SEQ; i++)
        v[i] = ei_splay_draw(3600000);
    ssize_t w = write(fd, v, sizeof(v));
    _exit(w == (ssize_t)sizeof(v) ? 0 : 1);
}

static void test_processes_differ(void **state)
{
    (void)state;
    /* the parent draws first, so that any state of the source exists
       before the fork copies it */
    int64_t parent = ei_splay_draw(3600000);
    (void)parent;
    int fds[2][2];
    pid_t pid[2];
    for (int p = 0; p < 2; p++) {
        assert_int_equal(pipe(fds[p]), 0);
        pid[p] = fork();
        assert_true(pid[p] >= 0);
        if (pid[p] == 0) {
            close(fds[p][0]);
            draw_into(fds[p][1]);
        }
        close(fds[p][1]);
    }
    int64_t seq[2][SEQ];
    for (int p = 0; p < 2; p++) {
        size_t got = 0;
        while (got < sizeof(seq[p])) {
            ssize_t r =
                read(fds[p][0], (char *)seq[p] + got, sizeof(seq[p]) - got);
            assert_true(r > 0);
            got += (size_t)r;
        }
        close(fds[p][0]);
        int status;
        assert_int_equal(waitpid(pid[p], &status, 0), pid[p]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    assert_memory_not_equal(seq[0], seq[1], sizeof(seq[0]));
    /* and within one process the draws are not all the same */
    int same = 0;
    for (int i = 1; i < SEQ; i++)
        same += seq[0][i] == seq[0][0];
    assert_true(same < SEQ - 1);
}

int main(void)
{
    if (ei_secmem_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_splay_uniform),
        cmocka_unit_test(test_backoff_uniform),
        cmocka_unit_test(test_processes_differ),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
