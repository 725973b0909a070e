/* src/core/usage.c: the set of clients used since the last flush of clients.last_used_at. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <cmocka.h>
#include "tessera/usage.h"

static ts_usage_t *set;

static int setup(void **state)
{
    return (set = ts_usage_create()) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    ts_usage_destroy(set);
    set = NULL;
    return 0;
}

static int cmp_pk(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void noted_client_is_taken_once(void **state)
{
    int64_t out[8];
    ts_usage_note(set, 42);
    assert_int_equal(ts_usage_take(set, out, 8), 1);
    assert_int_equal(out[0], 42);
    assert_int_equal(ts_usage_take(set, out, 8), 0);
}

static void noting_many_times_keeps_one_mark(void **state)
{
    int64_t out[8];
    for (int i = 0; i < 1000; ++i)
        ts_usage_note(set, 7);
    assert_int_equal(ts_usage_take(set, out, 8), 1);
    assert_int_equal(out[0], 7);
}

static void zero_and_negative_pks_are_ignored(void **state)
{
    int64_t out[8];
    ts_usage_note(set, 0);
    ts_usage_note(set, -5);
    ts_usage_note(NULL, 3); /* no set: nothing happens */
    assert_int_equal(ts_usage_take(set, out, 8), 0);
    assert_int_equal(ts_usage_take(NULL, out, 8), 0);
}

static void take_stops_at_cap_and_resumes(void **state)
{
    int64_t out[1000], all[1000];
    size_t got = 0, n;

    for (int64_t pk = 1; pk <= 1000; ++pk)
        ts_usage_note(set, pk);
    while ((n = ts_usage_take(set, out, 300)) > 0) {
        assert_true(n <= 300);
        assert_true(got + n <= 1000);
        memcpy(all + got, out, n * sizeof(*out));
        got += n;
    }
    assert_int_equal(got, 1000);
    qsort(all, got, sizeof(*all), cmp_pk);
    for (size_t i = 0; i < got; ++i)
        assert_int_equal(all[i], (int64_t)i + 1);
    assert_int_equal(ts_usage_dropped(set), 0);
}

static void marks_after_a_take_are_kept_for_the_next(void **state)
{
    int64_t out[8];
    ts_usage_note(set, 1);
    assert_int_equal(ts_usage_take(set, out, 8), 1);
    ts_usage_note(set, 1);
    ts_usage_note(set, 2);
    assert_int_equal(ts_usage_take(set, out, 8), 2);
    qsort(out, 2, sizeof(*out), cmp_pk);
    assert_int_equal(out[0], 1);
    assert_int_equal(out[1], 2);
}

static void a_full_set_drops_and_counts(void **state)
{
    int64_t *out = malloc(TS_USAGE_SLOTS * sizeof(*out));
    size_t n;

    assert_non_null(out);
    for (int64_t pk = 1; pk <= TS_USAGE_SLOTS + 1000; ++pk)
        ts_usage_note(set, pk);
    n = ts_usage_take(set, out, TS_USAGE_SLOTS);
    /* bounded: never more than the table holds, and what did not fit was counted */
    assert_true(n <= TS_USAGE_SLOTS);
    assert_int_equal(n + ts_usage_dropped(set), TS_USAGE_SLOTS + 1000);
    assert_int_equal(ts_usage_take(set, out, TS_USAGE_SLOTS), 0);
    free(out);
}

/* ---- concurrent notes and takes: no mark is lost ------------------------------------------------- */

#define WRITERS 4
#define PKS_PER_WRITER 5000
#define ROUNDS 200

static atomic_int writers_done;

static void *writer(void *arg)
{
    int64_t base = (int64_t)(intptr_t)arg * PKS_PER_WRITER;
    for (int r = 0; r < ROUNDS; ++r)
        for (int64_t i = 1; i <= PKS_PER_WRITER; ++i)
            ts_usage_note(set, base + i);
    atomic_fetch_add(&writers_done, 1);
    return NULL;
}

static void concurrent_notes_are_never_lost(void **state)
{
    pthread_t threads[WRITERS];
    unsigned char *seen = calloc(WRITERS * PKS_PER_WRITER + 1, 1);
    int64_t out[512];
    size_t n;

    assert_non_null(seen);
    atomic_store(&writers_done, 0);
    for (intptr_t t = 0; t < WRITERS; ++t)
        assert_int_equal(pthread_create(&threads[t], NULL, writer, (void *)t), 0);
    /* take while the writers run, then once more after they are done */
    while (atomic_load(&writers_done) < WRITERS)
        while ((n = ts_usage_take(set, out, 512)) > 0)
            for (size_t i = 0; i < n; ++i) {
                assert_true(out[i] >= 1 && out[i] <= WRITERS * PKS_PER_WRITER);
                seen[out[i]] = 1;
            }
    for (int t = 0; t < WRITERS; ++t)
        pthread_join(threads[t], NULL);
    while ((n = ts_usage_take(set, out, 512)) > 0)
        for (size_t i = 0; i < n; ++i)
            seen[out[i]] = 1;
    assert_int_equal(ts_usage_dropped(set), 0);
    for (int64_t pk = 1; pk <= WRITERS * PKS_PER_WRITER; ++pk)
        if (!seen[pk])
            fail_msg("client %lld was used but never taken", (long long)pk);
    free(seen);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(noted_client_is_taken_once, setup, teardown),
        cmocka_unit_test_setup_teardown(noting_many_times_keeps_one_mark, setup, teardown),
        cmocka_unit_test_setup_teardown(zero_and_negative_pks_are_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(take_stops_at_cap_and_resumes, setup, teardown),
        cmocka_unit_test_setup_teardown(marks_after_a_take_are_kept_for_the_next, setup, teardown),
        cmocka_unit_test_setup_teardown(a_full_set_drops_and_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(concurrent_notes_are_never_lost, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
