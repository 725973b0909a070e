#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tessera/arena.h"

#define CHUNK 65536

struct st_ts_arena_chunk_t {
    ts_arena_chunk_t *next;
    _Alignas(16) unsigned char bytes[];
};

void ts_arena_init(ts_arena_t *a)
{
    memset(a, 0, sizeof(*a));
}

void ts_arena_dispose(ts_arena_t *a)
{
    while (a->chunks != NULL) {
        ts_arena_chunk_t *next = a->chunks->next;
        free(a->chunks);
        a->chunks = next;
    }
    memset(a, 0, sizeof(*a));
}

void *ts_arena_alloc(ts_arena_t *a, size_t size)
{
    if (size > SIZE_MAX / 2)
        return NULL; /* before rounding, which would wrap near SIZE_MAX */
    size = (size + 15) & ~(size_t)15;
    if (a->chunks == NULL || a->used + size > a->cap) {
        size_t cap = size > CHUNK ? size : CHUNK;
        ts_arena_chunk_t *c = malloc(sizeof(*c) + cap);
        if (c == NULL)
            return NULL;
        c->next = a->chunks;
        a->chunks = c;
        a->used = 0;
        a->cap = cap;
    }
    void *p = a->chunks->bytes + a->used;
    a->used += size;
    memset(p, 0, size);
    return p;
}

char *ts_arena_strdup(ts_arena_t *a, const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = ts_arena_alloc(a, n);
    if (p != NULL)
        memcpy(p, s, n); /* Flawfinder: ignore - p has n = strlen(s) + 1 bytes */
    return p;
}
