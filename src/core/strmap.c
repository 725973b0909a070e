#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "tessera/strmap.h"

static uint64_t seed;
static pthread_once_t seed_once = PTHREAD_ONCE_INIT;

static void init_seed(void)
{
    if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
        seed = (uint64_t)(uintptr_t)&seed ^ 0x9e3779b97f4a7c15ull;
}

/* seeded FNV-1a with a final avalanche (splitmix64): cheap, and keys are short */
uint64_t ts_strmap_hash(const char *key, size_t keylen)
{
    pthread_once(&seed_once, init_seed);
    uint64_t h = 0xcbf29ce484222325ull ^ seed;
    for (size_t i = 0; i < keylen; ++i) {
        h ^= (unsigned char)key[i];
        h *= 0x100000001b3ull;
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    return h ^ (h >> 31);
}

void ts_strmap_init(ts_strmap_t *m)
{
    memset(m, 0, sizeof(*m));
}

void ts_strmap_dispose(ts_strmap_t *m)
{
    free(m->slots);
    memset(m, 0, sizeof(*m));
}

static ts_strmap_entry_t *find(const ts_strmap_t *m, const char *key, size_t keylen, uint64_t h)
{
    size_t mask = m->capacity - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        ts_strmap_entry_t *e = &m->slots[i];
        if (e->key == NULL || (e->hash == h && e->keylen == keylen && memcmp(e->key, key, keylen) == 0))
            return e;
    }
}

static int grow(ts_strmap_t *m)
{
    size_t cap = m->capacity == 0 ? 16 : m->capacity * 2;
    ts_strmap_t bigger = {calloc(cap, sizeof(ts_strmap_entry_t)), cap, 0};
    if (bigger.slots == NULL)
        return -1;
    for (size_t i = 0; i < m->capacity; ++i)
        if (m->slots[i].key != NULL) {
            *find(&bigger, m->slots[i].key, m->slots[i].keylen, m->slots[i].hash) = m->slots[i];
            bigger.size++;
        }
    free(m->slots);
    *m = bigger;
    return 0;
}

int ts_strmap_put(ts_strmap_t *m, const char *key, size_t keylen, void *value)
{
    uint64_t h = ts_strmap_hash(key, keylen);
    if ((m->size + 1) * 4 > m->capacity * 3 && grow(m) != 0)
        return -1;
    ts_strmap_entry_t *e = find(m, key, keylen, h);
    if (e->key == NULL)
        m->size++;
    *e = (ts_strmap_entry_t){key, keylen, h, value};
    return 0;
}

void *ts_strmap_get(const ts_strmap_t *m, const char *key, size_t keylen)
{
    if (m->capacity == 0)
        return NULL;
    ts_strmap_entry_t *e = find(m, key, keylen, ts_strmap_hash(key, keylen));
    return e->key != NULL ? e->value : NULL;
}

int ts_strmap_remove(ts_strmap_t *m, const char *key, size_t keylen)
{
    if (m->capacity == 0)
        return 0;
    ts_strmap_entry_t *e = find(m, key, keylen, ts_strmap_hash(key, keylen));
    if (e->key == NULL)
        return 0;
    /* backward-shift deletion keeps every probe chain unbroken without tombstones */
    size_t mask = m->capacity - 1, i = (size_t)(e - m->slots);
    for (size_t j = (i + 1) & mask; m->slots[j].key != NULL; j = (j + 1) & mask) {
        size_t home = m->slots[j].hash & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) {
            m->slots[i] = m->slots[j];
            i = j;
        }
    }
    m->slots[i].key = NULL;
    m->size--;
    return 1;
}
