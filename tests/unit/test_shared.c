/* src/core/shared.c: reference-counted snapshots and the slot that publishes them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "tessera/shared.h"

typedef struct {
    ts_ref_t super;
    int id;
    atomic_int *destroyed; /* counts this object's destructions */
} snap_t;

static atomic_int destroyed[64];
static atomic_int total_destroyed;

static void destroy(ts_ref_t *ref)
{
    snap_t *s = (snap_t *)ref;
    atomic_fetch_add(s->destroyed, 1);
    atomic_fetch_add(&total_destroyed, 1);
    free(s);
}

static snap_t *snap(int id)
{
    snap_t *s = malloc(sizeof(*s));
    assert_non_null(s);
    ts_ref_init(&s->super, destroy);
    s->id = id;
    s->destroyed = &destroyed[id % 64];
    return s;
}

static int reset(void **state)
{
    for (int i = 0; i < 64; ++i)
        atomic_store(&destroyed[i], 0);
    atomic_store(&total_destroyed, 0);
    return 0;
}

static void last_release_destroys_exactly_once(void **state)
{
    snap_t *s = snap(1);
    ts_slot_t slot;
    ts_slot_init(&slot);
    ts_slot_publish(&slot, &s->super); /* the slot holds the first reference */
    ts_ref_t *r1 = ts_slot_acquire(&slot), *r2 = ts_slot_acquire(&slot);
    assert_ptr_equal(r1, &s->super);
    assert_ptr_equal(r2, &s->super);
    ts_ref_release(r1);
    ts_slot_dispose(&slot);
    assert_int_equal(atomic_load(&destroyed[1]), 0);
    ts_ref_release(r2);
    assert_int_equal(atomic_load(&destroyed[1]), 1);
}

static void object_not_in_a_slot_dies_at_its_own_release(void **state)
{
    snap_t *s = snap(2);
    ts_ref_release(&s->super);
    assert_int_equal(atomic_load(&destroyed[2]), 1);
    ts_ref_release(NULL);
    assert_int_equal(atomic_load(&total_destroyed), 1);
}

static void empty_slot_gives_null(void **state)
{
    ts_slot_t slot;
    ts_slot_init(&slot);
    assert_null(ts_slot_acquire(&slot));
    ts_slot_dispose(&slot);
    assert_int_equal(atomic_load(&total_destroyed), 0);
}

static void publishing_releases_the_old_snapshot_after_its_readers(void **state)
{
    ts_slot_t slot;
    ts_slot_init(&slot);
    ts_slot_publish(&slot, &snap(3)->super);
    ts_ref_t *reader = ts_slot_acquire(&slot);
    ts_slot_publish(&slot, &snap(4)->super);
    /* the reader still has the old one */
    assert_int_equal(atomic_load(&destroyed[3]), 0);
    assert_int_equal(((snap_t *)reader)->id, 3);
    ts_ref_t *now = ts_slot_acquire(&slot);
    assert_int_equal(((snap_t *)now)->id, 4);
    ts_ref_release(now);
    ts_ref_release(reader);
    assert_int_equal(atomic_load(&destroyed[3]), 1);
    /* publishing with no reader destroys the old one at once */
    ts_slot_publish(&slot, &snap(5)->super);
    assert_int_equal(atomic_load(&destroyed[4]), 1);
    ts_slot_dispose(&slot);
    assert_int_equal(atomic_load(&destroyed[5]), 1);
    assert_int_equal(atomic_load(&total_destroyed), 3);
}

/* ---- readers on other threads --------------------------------------------------------------------------- */

enum { PUBLISHES = 20000 };
static ts_slot_t shared_slot;
static atomic_int stop;
static atomic_int destroyed_nth[PUBLISHES]; /* one counter per published snapshot */

static void *reader(void *arg)
{
    while (!atomic_load(&stop)) {
        ts_ref_t *r = ts_slot_acquire(&shared_slot);
        if (r != NULL) {
            /* held, so not destroyed (and, under valgrind, not freed) */
            if (atomic_load(((snap_t *)r)->destroyed) != 0)
                abort();
            ts_ref_release(r);
        }
    }
    return NULL;
}

static void concurrent_readers_never_see_a_destroyed_snapshot(void **state)
{
    pthread_t t[2];
    ts_slot_init(&shared_slot);
    atomic_store(&stop, 0);
    for (int i = 0; i < 2; ++i)
        assert_int_equal(pthread_create(&t[i], NULL, reader, NULL), 0);
    for (int i = 0; i < PUBLISHES; ++i) {
        snap_t *s = malloc(sizeof(*s));
        assert_non_null(s);
        ts_ref_init(&s->super, destroy);
        s->id = i;
        s->destroyed = &destroyed_nth[i];
        ts_slot_publish(&shared_slot, &s->super);
        if (i % 100 == 0)
            sched_yield();
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < 2; ++i)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    /* every replaced snapshot is gone, each exactly once; the current one goes with the slot */
    assert_int_equal(atomic_load(&total_destroyed), PUBLISHES - 1);
    for (int i = 0; i < PUBLISHES - 1; ++i)
        assert_int_equal(atomic_load(&destroyed_nth[i]), 1);
    ts_slot_dispose(&shared_slot);
    assert_int_equal(atomic_load(&destroyed_nth[PUBLISHES - 1]), 1);
    assert_int_equal(atomic_load(&total_destroyed), PUBLISHES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(last_release_destroys_exactly_once, reset),
        cmocka_unit_test_setup(object_not_in_a_slot_dies_at_its_own_release, reset),
        cmocka_unit_test_setup(empty_slot_gives_null, reset),
        cmocka_unit_test_setup(publishing_releases_the_old_snapshot_after_its_readers, reset),
        cmocka_unit_test_setup(concurrent_readers_never_see_a_destroyed_snapshot, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
