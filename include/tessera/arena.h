#ifndef TESSERA_ARENA_H
#define TESSERA_ARENA_H

/* Bump allocation for snapshots: everything a snapshot holds is freed at once with it. */
#include <stddef.h>

typedef struct st_ts_arena_chunk_t ts_arena_chunk_t;
typedef struct st_ts_arena_t {
    ts_arena_chunk_t *chunks;
    size_t used, cap;
} ts_arena_t;

void ts_arena_init(ts_arena_t *a);
void ts_arena_dispose(ts_arena_t *a);
/** zeroed, 16-byte aligned memory; NULL when out of memory */
void *ts_arena_alloc(ts_arena_t *a, size_t size);
/** a copy of s (NULL stays NULL); NULL when out of memory */
char *ts_arena_strdup(ts_arena_t *a, const char *s);

#endif
