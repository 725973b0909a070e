#ifndef TESSERA_THROTTLE_H
#define TESSERA_THROTTLE_H

/* Failed-login throttling, per account and per source address, with growing delays: after
 * TS_THROTTLE_FREE failures in a row a key must wait 1 s before its next attempt, then 2 s, 4 s, ...
 * up to TS_THROTTLE_MAX_DELAY. A success clears the key. Failures are forgotten TS_THROTTLE_FORGET seconds
 * after the last one. Per node, in memory, thread-safe; bounded in entries (the oldest entries are
 * evicted first, so a flood of distinct keys cannot grow it). */
#include <stddef.h>
#include <stdint.h>

#define TS_THROTTLE_FREE 3
#define TS_THROTTLE_MAX_DELAY 300
#define TS_THROTTLE_FORGET 3600

typedef struct st_ts_throttle_t ts_throttle_t;

/** max_entries bounds the memory (0: 65536); NULL when it is over 2^24, out of memory, or the kernel gives no
 *  randomness for the hash secret */
ts_throttle_t *ts_throttle_create(size_t max_entries);
void ts_throttle_destroy(ts_throttle_t *t);
/** seconds the key must still wait before it may try (0: it may try now) */
unsigned ts_throttle_wait(ts_throttle_t *t, const char *key, int64_t now);
/** records a failure; returns the number of failures in a row */
unsigned ts_throttle_fail(ts_throttle_t *t, const char *key, int64_t now);
/** forgets the key (after a success) */
void ts_throttle_clear(ts_throttle_t *t, const char *key);
/** the number of keys held (forgotten ones included until they are looked up or evicted); for the tests */
size_t ts_throttle__count(ts_throttle_t *t);

#endif
