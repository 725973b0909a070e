#ifndef TESSERA_RATELIMIT_H
#define TESSERA_RATELIMIT_H

/* Token buckets keyed by short strings ("c:<client_id>", "a:<address>"), one table shared by every loop
 * thread of the process (src/core/ratelimit.c). The table has a fixed number of entries, split into shards
 * that each have their own mutex; memory is allocated once, at creation, and never grows.
 *
 * Time is the caller's: a monotonic clock in milliseconds, so that tests can drive it. A clock that steps
 * back (or two threads whose readings cross) refills nothing; it never takes tokens away.
 *
 * Keys are identified by a 128-bit SipHash-2-4 of the whole key under a random secret chosen at creation:
 * the table stores no key bytes, keys of any length cost the same memory, and nobody who cannot see the
 * secret can make two keys share a bucket or pile keys into one hash chain.
 *
 * When a shard is full, a new key takes the place of the entry, among the EVICT_SAMPLE least recently used
 * ones, that will be full again soonest: a full bucket carries no information, so it goes first and
 * evicting it changes nothing. Otherwise the evicted owner gains at most its missing tokens. A client that
 * is being limited keeps its entry recent by asking, and the fresh entries an attacker floods in (burst - 1
 * tokens left) refill long before a drained one, so flooding with distinct keys does not reset a drained
 * bucket; the test "flood_does_not_reset_a_limited_bucket" checks this. ts_ratelimit_stats() reports how
 * many evictions lost information (evicted_active): if that grows, the table is too small. */
#include <stddef.h>
#include <stdint.h>

/** entries the server's limiter holds (about 60 bytes each) */
#define TS_RATELIMIT_DEFAULT_CAPACITY 65536

typedef struct st_ts_ratelimit_t ts_ratelimit_t;

typedef struct st_ts_ratelimit_result_t {
    unsigned limit;          /* the burst: the most requests allowed at once */
    unsigned remaining;      /* whole tokens left after this request */
    uint64_t retry_after_ms; /* until the next request would be allowed; 0 when remaining > 0 */
    uint64_t reset_ms;       /* until the bucket is full again */
    uint32_t streak;         /* limited: refusals in a row for this key, this one included (saturates); else 0 */
} ts_ratelimit_result_t;

typedef struct st_ts_ratelimit_stats_t {
    uint64_t allowed;        /* takes that returned 1, unlimited ones included */
    uint64_t limited;        /* takes that returned 0 */
    uint64_t evicted;        /* entries replaced because their shard was full */
    uint64_t evicted_active; /* of those, the ones whose bucket was not full yet (information lost) */
    size_t entries;          /* keys held now */
    size_t capacity;         /* the most keys it can hold */
} ts_ratelimit_stats_t;

/** a limiter holding at least capacity keys (rounded up to fill its shards); NULL when capacity is 0, out
 *  of memory, or the kernel gives no randomness for the hash secret */
ts_ratelimit_t *ts_ratelimit_create(size_t capacity);
/** frees the limiter; no thread may be using it */
void ts_ratelimit_destroy(ts_ratelimit_t *rl);
/** takes one token from key's bucket (created full) refilled at rate_per_sec up to burst tokens: 1 allowed,
 *  0 limited; out (may be NULL) describes the bucket afterwards. rate_per_sec 0 (or negative, or NaN) means
 *  no limit: always 1, no entry made. burst 0 counts as 1. Thread-safe. */
int ts_ratelimit_take(ts_ratelimit_t *rl, const char *key, size_t keylen, double rate_per_sec, unsigned burst, uint64_t now_ms,
                      ts_ratelimit_result_t *out);
/** the counters and the number of entries (each shard locked in turn, briefly) */
void ts_ratelimit_stats(ts_ratelimit_t *rl, ts_ratelimit_stats_t *out);

/** SipHash-2-4 with 128-bit output (the reference's vectors_sip128); for the tests */
void ts_ratelimit__siphash128(const uint8_t key[16], const void *data, size_t len, uint8_t out[16]);

#endif
