#ifndef TESSERA_FUZZ_POOL_H
#define TESSERA_FUZZ_POOL_H

/* h2o's memory pool, replaced for the harnesses that include this file (once per binary): h2o carves many
 * allocations out of one 4 KiB chunk, so a parser that writes past its allocation would only scribble on
 * its neighbour and ASan would never see it. Here every allocation is its own malloc, with ASan's
 * redzones around it. The executable's definitions take precedence over libh2o's; only the pools of the
 * harness itself (never h2o's own objects) go through them. */
#include <h2o/memory.h>
#include "fuzz.h"

typedef struct st_fuzz_pool_block_t {
    struct st_fuzz_pool_block_t *next;
    void *mem;
} fuzz_pool_block_t;

static fuzz_pool_block_t *fuzz_pool_blocks;

void h2o_mem_init_pool(h2o_mem_pool_t *pool)
{
    memset(pool, 0, sizeof(*pool));
}

void *h2o_mem_alloc_pool(h2o_mem_pool_t *pool, size_t sz)
{
    fuzz_pool_block_t *b = malloc(sizeof(*b));

    FUZZ_ASSERT(b != NULL && (b->mem = malloc(sz != 0 ? sz : 1)) != NULL);
    b->next = fuzz_pool_blocks;
    fuzz_pool_blocks = b;
    return b->mem;
}

void h2o_mem_clear_pool(h2o_mem_pool_t *pool)
{
    while (fuzz_pool_blocks != NULL) {
        fuzz_pool_block_t *b = fuzz_pool_blocks;
        fuzz_pool_blocks = b->next;
        free(b->mem);
        free(b);
    }
}

#endif
