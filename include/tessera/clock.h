#ifndef TESSERA_CLOCK_H
#define TESSERA_CLOCK_H

/* The one clock for deadlines, timeouts and rates: monotonic, so that a wall-clock step never stretches or cuts
 * them. Its milliseconds mean something only against each other (the stop deadline travels between threads). */
#include <stdint.h>
#include <time.h>

static inline uint64_t ts_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#endif
