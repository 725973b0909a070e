#ifndef TESSERA_USAGE_H
#define TESSERA_USAGE_H

/* Which clients this node has authenticated since the sync thread last wrote clients.last_used_at.
 *
 * The token path only marks a client's primary key here: no I/O and no lock, an atomic load when the client is
 * already marked (the common case: a busy client is marked once per interval and then only read) and one
 * compare-and-swap the first time. The sync thread takes the marks every sync_interval and writes them with one
 * UPDATE. It is a set, not a queue, so a client used 30,000 times a second costs one entry.
 *
 * The set belongs to the node's snapshots (ts_snapshots_t.usage): both the loop threads and the sync thread
 * already hold those, and they live exactly as long as the server. */
#include <stddef.h>
#include <stdint.h>

#define TS_USAGE_SLOTS 65536 /* distinct clients per interval; marks beyond what fits are dropped and counted */

typedef struct st_ts_usage_t ts_usage_t;

/** an empty set; NULL when out of memory */
ts_usage_t *ts_usage_create(void);
void ts_usage_destroy(ts_usage_t *u);
/** marks the client pk (> 0) as used; never blocks, any thread. u may be NULL (nothing is recorded). */
void ts_usage_note(ts_usage_t *u, int64_t pk);
/** moves up to cap marked pks into out and unmarks them; returns how many (fewer than cap: the set was walked to the
 *  end). A pk marked again while this runs may come out twice, here or next time. One taker at a time. */
size_t ts_usage_take(ts_usage_t *u, int64_t *out, size_t cap);
/** marks dropped because the set was full, since it was created */
uint64_t ts_usage_dropped(ts_usage_t *u);

#endif
