/* Failed-login throttling (see include/tessera/throttle.h for the policy): a bounded hash table of keys,
 * each with its run of failures, under one mutex.
 *
 * Keys are usernames and addresses, chosen by whoever is trying to log in, so they are not stored: an entry
 * holds the 128-bit SipHash of its key under a random secret. That bounds the memory of a key of any length,
 * two distinct keys meet with probability 2^-128, and nobody who does not know the secret can aim keys at
 * one hash chain to make lookups slow. Entries sit in a least-recently-failed list, so the oldest is found
 * without a scan when the table is full. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "tessera/ratelimit.h"
#include "tessera/throttle.h"

#define DEFAULT_ENTRIES 65536u
#define MAX_ENTRIES (1u << 24)
#define EVICT_SAMPLE 16u /* oldest entries considered when one must go */
#define NIL UINT32_MAX

typedef struct st_entry_t {
    uint64_t id[2];        /* keyed hash of the key */
    int64_t last_failure;  /* latest failure seen */
    int64_t next_allowed;  /* no attempt before this */
    uint32_t failures;     /* in a row */
    uint32_t chain;        /* next in the hash chain, or in the free list */
    uint32_t newer, older; /* least-recently-failed list */
} entry_t;

struct st_ts_throttle_t {
    pthread_mutex_t lock;
    entry_t *entries;
    uint32_t *heads;
    uint32_t capacity, used; /* entries[used..capacity) have never been handed out */
    uint32_t count, free, newest, oldest, bucket_mask;
    uint8_t seed[16];
};

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

ts_throttle_t *ts_throttle_create(size_t max_entries)
{
    ts_throttle_t *t;
    uint32_t nbuckets = 1;

    if (max_entries == 0)
        max_entries = DEFAULT_ENTRIES;
    if (max_entries > MAX_ENTRIES || (t = calloc(1, sizeof(*t))) == NULL)
        return NULL;
    t->capacity = (uint32_t)max_entries;
    while (nbuckets < t->capacity)
        nbuckets <<= 1;
    t->bucket_mask = nbuckets - 1;
    /* calloc: pages of entries that are never used are never touched */
    t->entries = calloc(t->capacity, sizeof(entry_t));
    t->heads = malloc(nbuckets * sizeof(uint32_t));
    if (t->entries == NULL || t->heads == NULL || random_seed(t->seed, sizeof(t->seed)) != 0) {
        free(t->entries);
        free(t->heads);
        free(t);
        return NULL;
    }
    memset(t->heads, 0xff, nbuckets * sizeof(uint32_t)); /* NIL */
    t->free = t->newest = t->oldest = NIL;
    pthread_mutex_init(&t->lock, NULL);
    return t;
}

void ts_throttle_destroy(ts_throttle_t *t)
{
    if (t == NULL)
        return;
    pthread_mutex_destroy(&t->lock);
    free(t->entries);
    free(t->heads);
    free(t);
}

/* ---- the table (called with the lock held) -------------------------------------------------------- */

static void hash_key(const ts_throttle_t *t, const char *key, uint64_t id[2])
{
    uint8_t digest[16];

    ts_ratelimit__siphash128(t->seed, key, strlen(key), digest);
    id[0] = id[1] = 0;
    for (int i = 7; i >= 0; --i) {
        id[0] = (id[0] << 8) | digest[i];
        id[1] = (id[1] << 8) | digest[8 + i];
    }
}

static void list_unlink(ts_throttle_t *t, uint32_t i)
{
    entry_t *e = t->entries + i;
    if (e->newer != NIL)
        t->entries[e->newer].older = e->older;
    else
        t->newest = e->older;
    if (e->older != NIL)
        t->entries[e->older].newer = e->newer;
    else
        t->oldest = e->newer;
}

static void list_push_newest(ts_throttle_t *t, uint32_t i)
{
    entry_t *e = t->entries + i;
    e->newer = NIL;
    e->older = t->newest;
    if (t->newest != NIL)
        t->entries[t->newest].newer = i;
    t->newest = i;
    if (t->oldest == NIL)
        t->oldest = i;
}

static void chain_unlink(ts_throttle_t *t, uint32_t i)
{
    uint32_t *link = &t->heads[t->entries[i].id[0] & t->bucket_mask];
    while (*link != i)
        link = &t->entries[*link].chain;
    *link = t->entries[i].chain;
}

static void remove_entry(ts_throttle_t *t, uint32_t i)
{
    chain_unlink(t, i);
    list_unlink(t, i);
    t->entries[i].chain = t->free;
    t->free = i;
    --t->count;
}

static int forgotten(const entry_t *e, int64_t now)
{
    /* unsigned: a difference of two int64_t may not fit one */
    return now > e->last_failure && (uint64_t)now - (uint64_t)e->last_failure >= TS_THROTTLE_FORGET;
}

/* the live entry of id, or NIL; an entry past TS_THROTTLE_FORGET is removed on the way */
static uint32_t find(ts_throttle_t *t, const uint64_t id[2], int64_t now)
{
    for (uint32_t i = t->heads[id[0] & t->bucket_mask]; i != NIL; i = t->entries[i].chain) {
        if (t->entries[i].id[0] != id[0] || t->entries[i].id[1] != id[1])
            continue;
        if (!forgotten(t->entries + i, now))
            return i;
        remove_entry(t, i);
        return NIL;
    }
    return NIL;
}

/* The entry to give up when the table is full: among the least recently failed, one that is forgotten or
 * holds no delay yet, else the least recently failed of all. Preferring those means a flood of keys that
 * fail once each (cheap for an attacker) cannot push out an account that is being throttled. */
static uint32_t pick_victim(ts_throttle_t *t, int64_t now)
{
    uint32_t n = 0;
    for (uint32_t i = t->oldest; i != NIL && n < EVICT_SAMPLE; i = t->entries[i].newer, ++n)
        if (forgotten(t->entries + i, now) || t->entries[i].failures < TS_THROTTLE_FREE)
            return i;
    return t->oldest;
}

static uint32_t insert(ts_throttle_t *t, const uint64_t id[2], int64_t now)
{
    uint32_t i;

    if (t->free != NIL) {
        i = t->free;
        t->free = t->entries[i].chain;
    } else if (t->used < t->capacity) {
        i = t->used++;
    } else {
        remove_entry(t, pick_victim(t, now));
        i = t->free;
        t->free = t->entries[i].chain;
    }
    entry_t *e = t->entries + i;
    memset(e, 0, sizeof(*e));
    e->id[0] = id[0];
    e->id[1] = id[1];
    e->last_failure = e->next_allowed = now;
    e->chain = t->heads[id[0] & t->bucket_mask];
    t->heads[id[0] & t->bucket_mask] = i;
    list_push_newest(t, i);
    ++t->count;
    return i;
}

/* seconds to wait after the k-th failure in a row: none before the TS_THROTTLE_FREE-th, then 1, 2, 4, ... */
static int64_t delay_after(uint32_t k)
{
    if (k < TS_THROTTLE_FREE)
        return 0;
    uint32_t doublings = k - TS_THROTTLE_FREE;
    /* 2^9 already exceeds any sensible maximum; stopping there keeps the shift defined */
    if (doublings >= 9 || ((int64_t)1 << doublings) > TS_THROTTLE_MAX_DELAY)
        return TS_THROTTLE_MAX_DELAY;
    return (int64_t)1 << doublings;
}

/* ---- the interface ------------------------------------------------------------------------------- */

unsigned ts_throttle_wait(ts_throttle_t *t, const char *key, int64_t now)
{
    uint64_t id[2];
    unsigned wait = 0;

    hash_key(t, key, id);
    pthread_mutex_lock(&t->lock);
    uint32_t i = find(t, id, now);
    /* more than the maximum only when the clock went back: never make anyone wait longer than that */
    if (i != NIL && t->entries[i].next_allowed > now)
        wait = (uint64_t)t->entries[i].next_allowed - (uint64_t)now > TS_THROTTLE_MAX_DELAY
                   ? TS_THROTTLE_MAX_DELAY
                   : (unsigned)(t->entries[i].next_allowed - now);
    pthread_mutex_unlock(&t->lock);
    return wait;
}

unsigned ts_throttle_fail(ts_throttle_t *t, const char *key, int64_t now)
{
    uint64_t id[2];
    unsigned failures;

    hash_key(t, key, id);
    pthread_mutex_lock(&t->lock);
    uint32_t i = find(t, id, now);
    if (i == NIL) {
        i = insert(t, id, now);
    } else {
        list_unlink(t, i);
        list_push_newest(t, i);
    }
    entry_t *e = t->entries + i;
    if (e->failures < UINT32_MAX)
        ++e->failures;
    /* two threads may read the clock in one order and get here in the other: keep the later time */
    if (now > e->last_failure)
        e->last_failure = now;
    int64_t delay = delay_after(e->failures), next = now > INT64_MAX - delay ? INT64_MAX : now + delay;
    if (next > e->next_allowed)
        e->next_allowed = next;
    failures = e->failures;
    pthread_mutex_unlock(&t->lock);
    return failures;
}

void ts_throttle_clear(ts_throttle_t *t, const char *key)
{
    uint64_t id[2];

    hash_key(t, key, id);
    pthread_mutex_lock(&t->lock);
    for (uint32_t i = t->heads[id[0] & t->bucket_mask]; i != NIL; i = t->entries[i].chain) {
        if (t->entries[i].id[0] == id[0] && t->entries[i].id[1] == id[1]) {
            remove_entry(t, i);
            break;
        }
    }
    pthread_mutex_unlock(&t->lock);
}

size_t ts_throttle__count(ts_throttle_t *t)
{
    pthread_mutex_lock(&t->lock);
    size_t n = t->count;
    pthread_mutex_unlock(&t->lock);
    return n;
}
