#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "tessera/revoked.h"
#include "tessera/strmap.h"

#define MAX_VALUE 256

typedef struct st_entry_t {
    int64_t expires_at;
    size_t keylen;
    char key[]; /* kind, ':', value */
} entry_t;

struct st_ts_revoked_t {
    pthread_rwlock_t lock;
    ts_strmap_t map; /* key -> entry_t (which owns the key) */
};

ts_revoked_t *ts_revoked_create(void)
{
    ts_revoked_t *set = calloc(1, sizeof(*set));
    if (set == NULL)
        return NULL;
    pthread_rwlock_init(&set->lock, NULL);
    ts_strmap_init(&set->map);
    return set;
}

void ts_revoked_destroy(ts_revoked_t *set)
{
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->map.capacity; ++i)
        if (set->map.slots[i].key != NULL)
            free(set->map.slots[i].value);
    ts_strmap_dispose(&set->map);
    pthread_rwlock_destroy(&set->lock);
    free(set);
}

static size_t make_key(char *buf, char kind, const char *value, size_t len)
{
    buf[0] = kind;
    buf[1] = ':';
    memcpy(buf + 2, value, len); /* Flawfinder: ignore - callers check len <= MAX_VALUE; buf is MAX_VALUE + 2 */
    return len + 2;
}

int ts_revoked_add(ts_revoked_t *set, char kind, const char *value, int64_t expires_at)
{
    size_t len = strlen(value);
    char key[MAX_VALUE + 2];
    int ret = 0;

    if (len > MAX_VALUE)
        return -1;
    size_t keylen = make_key(key, kind, value, len);
    pthread_rwlock_wrlock(&set->lock);
    entry_t *e = ts_strmap_get(&set->map, key, keylen);
    if (e != NULL) {
        if (expires_at > e->expires_at)
            e->expires_at = expires_at;
    } else if ((e = malloc(sizeof(*e) + keylen)) == NULL) {
        ret = -1;
    } else {
        e->expires_at = expires_at;
        e->keylen = keylen;
        memcpy(e->key, key, keylen); /* Flawfinder: ignore - e was allocated with keylen bytes for key */
        if (ts_strmap_put(&set->map, e->key, keylen, e) != 0) {
            free(e);
            ret = -1;
        }
    }
    pthread_rwlock_unlock(&set->lock);
    return ret;
}

int ts_revoked_has(ts_revoked_t *set, char kind, const char *value)
{
    size_t len = strlen(value);
    char key[MAX_VALUE + 2];
    if (len > MAX_VALUE)
        return 0;
    size_t keylen = make_key(key, kind, value, len);
    pthread_rwlock_rdlock(&set->lock);
    int found = ts_strmap_get(&set->map, key, keylen) != NULL;
    pthread_rwlock_unlock(&set->lock);
    return found;
}

size_t ts_revoked_purge(ts_revoked_t *set, int64_t now)
{
    size_t removed = 0;
    pthread_rwlock_wrlock(&set->lock);
    /* removal shifts later entries back, so rescan a slot after removing from it */
    for (size_t i = 0; i < set->map.capacity;) {
        entry_t *e = set->map.slots[i].key != NULL ? set->map.slots[i].value : NULL;
        if (e != NULL && e->expires_at < now) {
            ts_strmap_remove(&set->map, e->key, e->keylen);
            free(e);
            ++removed;
            continue;
        }
        ++i;
    }
    pthread_rwlock_unlock(&set->lock);
    return removed;
}

size_t ts_revoked_size(ts_revoked_t *set)
{
    pthread_rwlock_rdlock(&set->lock);
    size_t n = set->map.size;
    pthread_rwlock_unlock(&set->lock);
    return n;
}
