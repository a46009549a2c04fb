/* SPDX-License-Identifier: MIT */
/* Random delays that keep a fleet from acting at once (splay.h). */
#include <errno.h>
#include <time.h>

#include <sodium.h>

#include "splay.h"

int64_t ei_splay_pick(int64_t max_ms, uint32_t random)
{
    if (max_ms <= 0)
        return 0;
    return (int64_t)(((uint64_t)random * ((uint64_t)max_ms + 1u)) >> 32);
}

int64_t ei_splay_draw(int64_t max_ms)
{
    return ei_splay_pick(max_ms, randombytes_random());
}

void ei_splay_sleep(int64_t ms)
{
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000),
                          .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}
