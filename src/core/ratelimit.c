/* Token buckets in a fixed, sharded hash table (see include/tessera/ratelimit.h for the policy).
 *
 * Tokens are fixed-point: UNIT micro-tokens per token, and a rate is micro-tokens per millisecond
 * (rate_per_sec * 1000), so refills, "retry after" and "full again" are exact integer arithmetic and a
 * client that waits the retry_after_ms it was given is always allowed. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "tessera/ratelimit.h"

#define UNIT 1000000u /* micro-tokens per token */
#define RATE_MAX 1e9  /* tokens per second; more is clamped (and is no limit in practice) */
#define SHARDS_MAX 64u
#define SHARD_MIN_ENTRIES 8u /* fewer shards for small tables, so each shard has room to choose a victim */
#define EVICT_SAMPLE 16u     /* least recently used entries considered for eviction */
#define NIL UINT32_MAX

typedef struct st_entry_t {
    uint64_t id[2];        /* keyed hash of the key */
    uint64_t tokens;       /* micro-tokens as of last_ms */
    uint64_t last_ms;      /* the latest time seen for this key */
    uint64_t full_at_ms;   /* when the bucket is full again: from then on it carries no information */
    uint32_t chain;        /* next entry in the hash chain, or in the free list */
    uint32_t newer, older; /* LRU list */
    uint32_t streak;       /* refusals in a row */
} entry_t;

typedef struct st_shard_t {
    _Alignas(64) pthread_mutex_t lock; /* a cache line of its own: shards do not slow each other down */
    entry_t *entries;
    uint32_t *heads; /* nbuckets chain heads */
    uint32_t free;   /* free list */
    uint32_t newest, oldest;
    uint32_t count;
    /* counted under the lock, in the shard's own cache line: one shared atomic would bounce between cores */
    uint64_t allowed, limited, evicted, evicted_active;
} shard_t;

struct st_ts_ratelimit_t {
    shard_t *shards;
    entry_t *entries;
    uint32_t *heads;
    uint32_t nshards, per_shard, bucket_mask;
    uint8_t seed[16];
    _Atomic uint64_t unlimited; /* takes with no limit, which touch no shard */
};

/* ---- SipHash-2-4, 128-bit output (Aumasson and Bernstein's reference, siphash.c) ------------------ */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                                                   \
    do {                                                                                                                           \
        v0 += v1;                                                                                                                  \
        v1 = ROTL(v1, 13);                                                                                                         \
        v1 ^= v0;                                                                                                                  \
        v0 = ROTL(v0, 32);                                                                                                         \
        v2 += v3;                                                                                                                  \
        v3 = ROTL(v3, 16);                                                                                                         \
        v3 ^= v2;                                                                                                                  \
        v0 += v3;                                                                                                                  \
        v3 = ROTL(v3, 21);                                                                                                         \
        v3 ^= v0;                                                                                                                  \
        v2 += v1;                                                                                                                  \
        v1 = ROTL(v1, 17);                                                                                                         \
        v1 ^= v2;                                                                                                                  \
        v2 = ROTL(v2, 32);                                                                                                         \
    } while (0)

static uint64_t load64_le(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i)
        v = (v << 8) | p[i];
    return v;
}

static void store64_le(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; ++i, v >>= 8)
        p[i] = (uint8_t)v;
}

void ts_ratelimit__siphash128(const uint8_t key[16], const void *data, size_t len, uint8_t out[16])
{
    const uint8_t *in = data, *end = in + (len & ~(size_t)7);
    uint64_t k0 = load64_le(key), k1 = load64_le(key + 8);
    uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = (0x646f72616e646f6dULL ^ k1) ^ 0xee, v2 = 0x6c7967656e657261ULL ^ k0,
             v3 = 0x7465646279746573ULL ^ k1;
    uint64_t b = (uint64_t)len << 56, m;

    for (; in != end; in += 8) {
        m = load64_le(in);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    for (size_t i = 0; i < (len & 7); ++i)
        b |= (uint64_t)in[i] << (8 * i);
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xee;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    store64_le(out, v0 ^ v1 ^ v2 ^ v3);
    v1 ^= 0xdd;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    store64_le(out + 8, v0 ^ v1 ^ v2 ^ v3);
}

/* ---- create, destroy, stats ---------------------------------------------------------------------- */

static uint32_t pow2_at_least(uint32_t n)
{
    uint32_t p = 1;
    while (p < n)
        p <<= 1;
    return p;
}

static int random_seed(uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = getrandom(buf, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

ts_ratelimit_t *ts_ratelimit_create(size_t capacity)
{
    ts_ratelimit_t *rl;
    uint32_t nbuckets;

    if (capacity == 0 || capacity > (size_t)1 << 30)
        return NULL;
    if ((rl = calloc(1, sizeof(*rl))) == NULL)
        return NULL;
    rl->nshards = SHARDS_MAX;
    while (rl->nshards > 1 && capacity / rl->nshards < SHARD_MIN_ENTRIES)
        rl->nshards >>= 1;
    rl->per_shard = (uint32_t)((capacity + rl->nshards - 1) / rl->nshards);
    nbuckets = pow2_at_least(rl->per_shard);
    rl->bucket_mask = nbuckets - 1;
    rl->shards = aligned_alloc(64, rl->nshards * sizeof(shard_t));
    rl->entries = calloc((size_t)rl->nshards * rl->per_shard, sizeof(entry_t));
    rl->heads = malloc((size_t)rl->nshards * nbuckets * sizeof(uint32_t));
    if (rl->shards == NULL || rl->entries == NULL || rl->heads == NULL || random_seed(rl->seed, sizeof(rl->seed)) != 0) {
        free(rl->shards);
        free(rl->entries);
        free(rl->heads);
        free(rl);
        return NULL;
    }
    memset(rl->heads, 0xff, (size_t)rl->nshards * nbuckets * sizeof(uint32_t)); /* NIL */
    for (uint32_t s = 0; s < rl->nshards; ++s) {
        shard_t *sh = rl->shards + s;
        memset(sh, 0, sizeof(*sh));
        pthread_mutex_init(&sh->lock, NULL);
        sh->entries = rl->entries + (size_t)s * rl->per_shard;
        sh->heads = rl->heads + (size_t)s * nbuckets;
        sh->newest = sh->oldest = NIL;
        for (uint32_t i = 0; i < rl->per_shard; ++i)
            sh->entries[i].chain = i + 1 < rl->per_shard ? i + 1 : NIL;
        sh->free = 0;
    }
    return rl;
}

void ts_ratelimit_destroy(ts_ratelimit_t *rl)
{
    if (rl == NULL)
        return;
    for (uint32_t s = 0; s < rl->nshards; ++s)
        pthread_mutex_destroy(&rl->shards[s].lock);
    free(rl->shards);
    free(rl->entries);
    free(rl->heads);
    free(rl);
}

void ts_ratelimit_stats(ts_ratelimit_t *rl, ts_ratelimit_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    out->allowed = atomic_load_explicit(&rl->unlimited, memory_order_relaxed);
    out->capacity = (size_t)rl->nshards * rl->per_shard;
    for (uint32_t s = 0; s < rl->nshards; ++s) {
        shard_t *sh = rl->shards + s;
        pthread_mutex_lock(&sh->lock);
        out->allowed += sh->allowed;
        out->limited += sh->limited;
        out->evicted += sh->evicted;
        out->evicted_active += sh->evicted_active;
        out->entries += sh->count;
        pthread_mutex_unlock(&sh->lock);
    }
}

/* ---- the table (called with the shard locked) ---------------------------------------------------- */

static void lru_unlink(shard_t *sh, uint32_t i)
{
    entry_t *e = sh->entries + i;
    if (e->newer != NIL)
        sh->entries[e->newer].older = e->older;
    else
        sh->newest = e->older;
    if (e->older != NIL)
        sh->entries[e->older].newer = e->newer;
    else
        sh->oldest = e->newer;
}

static void lru_push_newest(shard_t *sh, uint32_t i)
{
    entry_t *e = sh->entries + i;
    e->newer = NIL;
    e->older = sh->newest;
    if (sh->newest != NIL)
        sh->entries[sh->newest].newer = i;
    sh->newest = i;
    if (sh->oldest == NIL)
        sh->oldest = i;
}

static uint32_t find(ts_ratelimit_t *rl, shard_t *sh, const uint64_t id[2])
{
    for (uint32_t i = sh->heads[id[0] & rl->bucket_mask]; i != NIL; i = sh->entries[i].chain)
        if (sh->entries[i].id[0] == id[0] && sh->entries[i].id[1] == id[1])
            return i;
    return NIL;
}

static void chain_unlink(ts_ratelimit_t *rl, shard_t *sh, uint32_t victim)
{
    uint32_t *link = &sh->heads[sh->entries[victim].id[0] & rl->bucket_mask];
    while (*link != victim)
        link = &sh->entries[*link].chain;
    *link = sh->entries[victim].chain;
}

/* The entry to give up when the shard is full: among the least recently used, the one that is full again
 * soonest (a full one at once). Ties go to the more recently used, so that a drained bucket at the very
 * end of the list is not the first to go when everything looks alike. */
static uint32_t pick_victim(shard_t *sh, uint64_t now_ms)
{
    uint32_t best = NIL, n = 0;
    for (uint32_t i = sh->oldest; i != NIL && n < EVICT_SAMPLE; i = sh->entries[i].newer, ++n) {
        if (sh->entries[i].full_at_ms <= now_ms)
            return i;
        if (best == NIL || sh->entries[i].full_at_ms <= sh->entries[best].full_at_ms)
            best = i;
    }
    return best;
}

static uint32_t insert(ts_ratelimit_t *rl, shard_t *sh, const uint64_t id[2], uint64_t now_ms)
{
    uint32_t i = sh->free;

    if (i != NIL) {
        sh->free = sh->entries[i].chain;
        ++sh->count;
    } else {
        i = pick_victim(sh, now_ms);
        ++sh->evicted;
        if (sh->entries[i].full_at_ms > now_ms)
            ++sh->evicted_active;
        chain_unlink(rl, sh, i);
        lru_unlink(sh, i);
    }
    entry_t *e = sh->entries + i;
    memset(e, 0, sizeof(*e));
    e->id[0] = id[0];
    e->id[1] = id[1];
    e->chain = sh->heads[id[0] & rl->bucket_mask];
    sh->heads[id[0] & rl->bucket_mask] = i;
    lru_push_newest(sh, i);
    return i;
}

/* ceil(a / b) for b > 0 */
static uint64_t div_up(uint64_t a, uint64_t b)
{
    return a / b + (a % b != 0);
}

static void refill(entry_t *e, uint64_t rate_u, uint64_t burst_u, uint64_t now_ms)
{
    if (e->tokens > burst_u) /* the burst was lowered */
        e->tokens = burst_u;
    if (now_ms <= e->last_ms)
        return;
    uint64_t elapsed = now_ms - e->last_ms, missing = burst_u - e->tokens;
    /* comparing first keeps elapsed * rate_u from overflowing after a long idle time */
    if (elapsed >= div_up(missing, rate_u))
        e->tokens = burst_u;
    else
        e->tokens += elapsed * rate_u;
    e->last_ms = now_ms;
}

/* ---- take ---------------------------------------------------------------------------------------- */

int ts_ratelimit_take(ts_ratelimit_t *rl, const char *key, size_t keylen, double rate_per_sec, unsigned burst, uint64_t now_ms,
                      ts_ratelimit_result_t *out)
{
    ts_ratelimit_result_t dummy;
    uint8_t digest[16];
    uint64_t id[2], rate_u, burst_u;
    int allowed;

    if (out == NULL)
        out = &dummy;
    if (burst == 0)
        burst = 1;
    if (!(rate_per_sec > 0)) { /* no limit; NaN lands here too */
        *out = (ts_ratelimit_result_t){.limit = burst, .remaining = burst};
        atomic_fetch_add_explicit(&rl->unlimited, 1, memory_order_relaxed);
        return 1;
    }
    /* NOLINTNEXTLINE(bugprone-integer-division): UNIT / 1000 is exactly 1000 micro-tokens per millisecond */
    rate_u = (uint64_t)((rate_per_sec < RATE_MAX ? rate_per_sec : RATE_MAX) * (UNIT / 1000) + 0.5);
    if (rate_u == 0) /* below a token every 1000 s */
        rate_u = 1;
    burst_u = (uint64_t)burst * UNIT;

    ts_ratelimit__siphash128(rl->seed, key, keylen, digest);
    id[0] = load64_le(digest);
    id[1] = load64_le(digest + 8);
    shard_t *sh = rl->shards + (id[1] & (rl->nshards - 1));

    pthread_mutex_lock(&sh->lock);
    uint32_t i = find(rl, sh, id);
    entry_t *e;
    if (i == NIL) {
        e = sh->entries + insert(rl, sh, id, now_ms);
        e->tokens = burst_u;
        e->last_ms = now_ms;
    } else {
        e = sh->entries + i;
        refill(e, rate_u, burst_u, now_ms);
        lru_unlink(sh, i);
        lru_push_newest(sh, i);
    }
    if ((allowed = e->tokens >= UNIT)) {
        e->tokens -= UNIT;
        e->streak = 0;
        ++sh->allowed;
    } else {
        if (e->streak < UINT32_MAX)
            ++e->streak;
        ++sh->limited;
    }
    e->full_at_ms = e->last_ms + div_up(burst_u - e->tokens, rate_u);
    /* e->last_ms may be ahead of now_ms when readings from two threads cross: measure from now_ms */
    uint64_t ready_at = e->tokens >= UNIT ? now_ms : e->last_ms + div_up(UNIT - e->tokens, rate_u);
    out->limit = burst;
    out->remaining = (unsigned)(e->tokens / UNIT);
    out->retry_after_ms = ready_at > now_ms ? ready_at - now_ms : 0;
    out->reset_ms = e->full_at_ms > now_ms ? e->full_at_ms - now_ms : 0;
    out->streak = allowed ? 0 : e->streak;
    pthread_mutex_unlock(&sh->lock);
    return allowed;
}
