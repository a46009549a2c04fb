/* SPDX-License-Identifier: MIT */
/* Random delays that keep a fleet from acting at once: the start splay
   of run and the restart splay of run --watch. */
#ifndef EI_SPLAY_H
#define EI_SPLAY_H

#include <stdint.h>

/*
 * A delay uniform in [0, max_ms] from one 32-bit random value (multiply
 * and shift: no modulo bias); 0 when max_ms <= 0.  max_ms must be below
 * 2^32.
 */
int64_t ei_splay_pick(int64_t max_ms, uint32_t random);

/*
 * ei_splay_pick with a value from libsodium's randombytes (the kernel's
 * getrandom), never from the time or the process id: processes started
 * in the same instant draw different delays.
 */
int64_t ei_splay_draw(int64_t max_ms);

/* Sleep ms milliseconds, going on after signals that are handled. */
void ei_splay_sleep(int64_t ms);

#endif
