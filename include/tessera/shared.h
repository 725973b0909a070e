#ifndef TESSERA_SHARED_H
#define TESSERA_SHARED_H

/* Immutable snapshots shared by every thread and swapped whole: a reader takes a reference, uses the
 * snapshot as long as it likes and releases it; the last release destroys it. */
#include <pthread.h>
#include <stdatomic.h>

typedef struct st_ts_ref_t {
    atomic_int refs;
    void (*destroy)(struct st_ts_ref_t *self);
} ts_ref_t;

typedef struct st_ts_slot_t {
    pthread_mutex_t lock; /* held only to read the pointer and take a reference */
    ts_ref_t *current;
} ts_slot_t;

/** sets up an empty slot */
void ts_slot_init(ts_slot_t *slot);
/** releases the current snapshot */
void ts_slot_dispose(ts_slot_t *slot);
/** the current snapshot with a reference taken, or NULL when none was published */
ts_ref_t *ts_slot_acquire(ts_slot_t *slot);
/** replaces the current snapshot (the slot takes over next's reference) */
void ts_slot_publish(ts_slot_t *slot, ts_ref_t *next);
/** a new object starts with one reference */
void ts_ref_init(ts_ref_t *ref, void (*destroy)(ts_ref_t *));
void ts_ref_release(ts_ref_t *ref);

#endif
