#ifndef TESSERA_STRMAP_H
#define TESSERA_STRMAP_H

/* A string-keyed hash map with open addressing. Keys are not copied: they must outlive the map (snapshots
 * keep them in their arena). The hash is seeded per process so that inserted keys cannot be chosen to
 * collide. Not thread-safe for writers; any number of readers once built. */
#include <stddef.h>
#include <stdint.h>

typedef struct st_ts_strmap_entry_t {
    const char *key;
    size_t keylen;
    uint64_t hash;
    void *value;
} ts_strmap_entry_t;

typedef struct st_ts_strmap_t {
    ts_strmap_entry_t *slots;
    size_t capacity; /* a power of two, or 0 */
    size_t size;
} ts_strmap_t;

void ts_strmap_init(ts_strmap_t *m);
void ts_strmap_dispose(ts_strmap_t *m);
/** inserts or replaces; 0 or -1 (out of memory) */
int ts_strmap_put(ts_strmap_t *m, const char *key, size_t keylen, void *value);
/** the value for key, or NULL */
void *ts_strmap_get(const ts_strmap_t *m, const char *key, size_t keylen);
/** removes key; 1 when it was there */
int ts_strmap_remove(ts_strmap_t *m, const char *key, size_t keylen);
/** the seeded hash used by the map (also handy for sharding) */
uint64_t ts_strmap_hash(const char *key, size_t keylen);

#endif
