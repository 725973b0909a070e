/* The set of clients used since the last flush (see include/tessera/usage.h): open addressing over atomic
 * slots, 0 meaning empty (client primary keys start at 1).
 *
 * Taking a mark empties its slot, which leaves holes in probe sequences. A client marked again later may then
 * land in an earlier hole while its older mark still sits further on: it is in the set twice, and the UPDATE
 * that writes the marks does not mind. What matters is that a mark is never lost: a note either sees its pk
 * (then a take has not emptied that slot yet, so the mark is still to be written) or stores it. */
#include <stdatomic.h>
#include <stdlib.h>
#include "tessera/usage.h"

#define MASK (TS_USAGE_SLOTS - 1)
#define MAX_PROBES 64 /* a note never walks far: past this many taken slots the set counts as full */

_Static_assert((TS_USAGE_SLOTS & MASK) == 0, "TS_USAGE_SLOTS must be a power of two");

struct st_ts_usage_t {
    _Atomic uint64_t dropped;
    size_t cursor; /* where the next take starts: the taker's alone */
    /* 512 KiB of address space, but calloc'd pages stay unmapped (or the shared zero page) until a mark
     * lands in them, and a take only writes the slots it found marked */
    _Atomic int64_t slots[TS_USAGE_SLOTS];
};

/* Fibonacci hashing: consecutive primary keys spread over the table */
static size_t slot_of(int64_t pk)
{
    return (size_t)(((uint64_t)pk * 0x9E3779B97F4A7C15ull) >> (64 - 16)) & MASK;
}

_Static_assert(TS_USAGE_SLOTS == 1 << 16, "slot_of takes 16 bits of the hash");

ts_usage_t *ts_usage_create(void)
{
    /* all-zero bits are a valid value of every lock-free atomic integer here */
    return calloc(1, sizeof(ts_usage_t));
}

void ts_usage_destroy(ts_usage_t *u)
{
    free(u);
}

void ts_usage_note(ts_usage_t *u, int64_t pk)
{
    if (u == NULL || pk <= 0)
        return;
    size_t i = slot_of(pk);
    for (unsigned n = 0; n < MAX_PROBES; ++n, i = (i + 1) & MASK) {
        int64_t v = atomic_load_explicit(&u->slots[i], memory_order_relaxed);
        if (v == pk)
            return;
        if (v == 0) {
            int64_t expected = 0;
            if (atomic_compare_exchange_strong_explicit(&u->slots[i], &expected, pk, memory_order_relaxed, memory_order_relaxed) ||
                expected == pk)
                return;
            /* another client took this slot first: keep probing */
        }
    }
    atomic_fetch_add_explicit(&u->dropped, 1, memory_order_relaxed);
}

size_t ts_usage_take(ts_usage_t *u, int64_t *out, size_t cap)
{
    size_t n = 0, k;

    if (u == NULL)
        return 0;
    for (k = 0; k < TS_USAGE_SLOTS && n < cap; ++k) {
        size_t i = (u->cursor + k) & MASK;
        /* look before writing: an empty slot's page is never dirtied */
        if (atomic_load_explicit(&u->slots[i], memory_order_relaxed) == 0)
            continue;
        int64_t v = atomic_exchange_explicit(&u->slots[i], 0, memory_order_relaxed);
        if (v != 0)
            out[n++] = v;
    }
    u->cursor = (u->cursor + k) & MASK;
    return n;
}

uint64_t ts_usage_dropped(ts_usage_t *u)
{
    return atomic_load_explicit(&u->dropped, memory_order_relaxed);
}
