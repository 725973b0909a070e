#include <stddef.h>
#include "tessera/shared.h"

void ts_ref_init(ts_ref_t *ref, void (*destroy)(ts_ref_t *))
{
    atomic_init(&ref->refs, 1);
    ref->destroy = destroy;
}

void ts_ref_release(ts_ref_t *ref)
{
    if (ref != NULL && atomic_fetch_sub_explicit(&ref->refs, 1, memory_order_acq_rel) == 1)
        ref->destroy(ref);
}

void ts_slot_init(ts_slot_t *slot)
{
    pthread_mutex_init(&slot->lock, NULL);
    slot->current = NULL;
}

void ts_slot_dispose(ts_slot_t *slot)
{
    ts_ref_release(slot->current);
    slot->current = NULL;
    pthread_mutex_destroy(&slot->lock);
}

ts_ref_t *ts_slot_acquire(ts_slot_t *slot)
{
    ts_ref_t *ref;
    pthread_mutex_lock(&slot->lock);
    if ((ref = slot->current) != NULL)
        atomic_fetch_add_explicit(&ref->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&slot->lock);
    return ref;
}

void ts_slot_publish(ts_slot_t *slot, ts_ref_t *next)
{
    ts_ref_t *old;
    pthread_mutex_lock(&slot->lock);
    old = slot->current;
    slot->current = next;
    pthread_mutex_unlock(&slot->lock);
    ts_ref_release(old);
}
