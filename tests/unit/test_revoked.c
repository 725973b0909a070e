/* src/core/revoked.c: the revoked access-token ids and grant families, purged once they expire. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "tessera/revoked.h"

static ts_revoked_t *set;

static int setup(void **state)
{
    return (set = ts_revoked_create()) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    ts_revoked_destroy(set);
    set = NULL;
    return 0;
}

static void added_value_is_revoked(void **state)
{
    assert_int_equal(ts_revoked_has(set, TS_REVOKED_JTI, "abc"), 0);
    assert_int_equal(ts_revoked_add(set, TS_REVOKED_JTI, "abc", 100), 0);
    assert_int_equal(ts_revoked_has(set, TS_REVOKED_JTI, "abc"), 1);
    assert_int_equal(ts_revoked_has(set, TS_REVOKED_JTI, "ab"), 0);
    assert_int_equal(ts_revoked_has(set, TS_REVOKED_JTI, "abcd"), 0);
    assert_int_equal(ts_revoked_has(set, TS_REVOKED_JTI, ""), 0);
    assert_int_equal(ts_revoked_size(set), 1);
}

static void kinds_are_separate(void **state)
{
    assert_int_equal(ts_revoked_add(set, TS_REVOKED_FAMILY, "x", 100), 0);
    assert_int_equal(ts_revoked_has(set, TS_REVOKED_FAMILY, "x"), 1);
    assert_int_equal(ts_revoked_has(set, TS_REVOKED_JTI, "x"), 0);
    assert_int_equal(ts_revoked_add(set, TS_REVOKED_JTI, "x", 100), 0);
    assert_int_equal(ts_revoked_size(set), 2);
}

static void adding_twice_keeps_one_entry(void **state)
{
    assert_int_equal(ts_revoked_add(set, TS_REVOKED_JTI, "dup", 100), 0);
    assert_int_equal(ts_revoked_add(set, TS_REVOKED_JTI, "dup", 100), 0);
    assert_int_equal(ts_revoked_size(set), 1);
}

static void values_up_to_256_bytes(void **state)
{
    char v[300];
    memset(v, 'v', 256);
    v[256] = '\0';
    assert_int_equal(ts_revoked_add(set, TS_REVOKED_JTI, v, 100), 0);
    assert_int_equal(ts_revoked_has(set, TS_REVOKED_JTI, v), 1);
    strcpy(v + 256, "w");
    assert_int_equal(ts_revoked_add(set, TS_REVOKED_JTI, v, 100), -1);
    assert_int_equal(ts_revoked_has(set, TS_REVOKED_JTI, v), 0);
    assert_int_equal(ts_revoked_size(set), 1);
}

static void purge_drops_entries_that_expired_before_now(void **state)
{
    ts_revoked_add(set, TS_REVOKED_JTI, "old", 99);
    ts_revoked_add(set, TS_REVOKED_JTI, "edge", 100);
    ts_revoked_add(set, TS_REVOKED_FAMILY, "new", 101);
    assert_int_equal(ts_revoked_purge(set, 100), 1);
    assert_int_equal(ts_revoked_has(set, TS_REVOKED_JTI, "old"), 0);
    assert_int_equal(ts_revoked_has(set, TS_REVOKED_JTI, "edge"), 1);
    assert_int_equal(ts_revoked_has(set, TS_REVOKED_FAMILY, "new"), 1);
    assert_int_equal(ts_revoked_size(set), 2);
    assert_int_equal(ts_revoked_purge(set, 102), 2);
    assert_int_equal(ts_revoked_size(set), 0);
    assert_int_equal(ts_revoked_purge(set, 1000), 0);
}

static void adding_again_extends_but_never_shortens(void **state)
{
    ts_revoked_add(set, TS_REVOKED_JTI, "t", 100);
    ts_revoked_add(set, TS_REVOKED_JTI, "t", 200);
    assert_int_equal(ts_revoked_purge(set, 150), 0);
    assert_int_equal(ts_revoked_has(set, TS_REVOKED_JTI, "t"), 1);
    ts_revoked_add(set, TS_REVOKED_JTI, "t", 120);
    assert_int_equal(ts_revoked_purge(set, 150), 0);
    assert_int_equal(ts_revoked_has(set, TS_REVOKED_JTI, "t"), 1);
    assert_int_equal(ts_revoked_purge(set, 201), 1);
    assert_int_equal(ts_revoked_has(set, TS_REVOKED_JTI, "t"), 0);
}

static void set_is_usable_after_purging_everything(void **state)
{
    char v[16];
    for (int i = 0; i < 100; ++i) {
        snprintf(v, sizeof(v), "v%d", i);
        ts_revoked_add(set, TS_REVOKED_JTI, v, 10);
    }
    assert_int_equal(ts_revoked_purge(set, 11), 100);
    assert_int_equal(ts_revoked_add(set, TS_REVOKED_JTI, "v5", 20), 0);
    assert_int_equal(ts_revoked_has(set, TS_REVOKED_JTI, "v5"), 1);
    assert_int_equal(ts_revoked_has(set, TS_REVOKED_JTI, "v6"), 0);
    assert_int_equal(ts_revoked_size(set), 1);
}

/* ---- purge against a reference ---------------------------------------------------------------------------- */

#define N 5000
static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* ref[i]: expiry of value i, or -1 when it is not in the set */
static void check_against(const int64_t *ref)
{
    char v[16];
    size_t n = 0;
    for (int i = 0; i < N; ++i) {
        snprintf(v, sizeof(v), "%c%d", i % 2 ? 'j' : 'f', i);
        int want = ref[i] >= 0;
        if (ts_revoked_has(set, i % 2 ? TS_REVOKED_JTI : TS_REVOKED_FAMILY, v) != want)
            fail_msg("%s: has %d, want %d (expiry %lld)", v, !want, want, (long long)ref[i]);
        n += (size_t)want;
    }
    assert_int_equal(ts_revoked_size(set), n);
}

static void purges_between_many_adds_match_a_reference(void **state)
{
    static int64_t ref[N];
    char v[16];
    int64_t now = 0;
    for (int i = 0; i < N; ++i)
        ref[i] = -1;
    for (int step = 0; step < 60; ++step) {
        /* a few hundred adds (some of them repeats) expiring within the next 40 ticks */
        for (int k = 0; k < 400; ++k) {
            int i = (int)(next() % N);
            int64_t exp = now + (int64_t)(next() % 40);
            snprintf(v, sizeof(v), "%c%d", i % 2 ? 'j' : 'f', i);
            assert_int_equal(ts_revoked_add(set, i % 2 ? TS_REVOKED_JTI : TS_REVOKED_FAMILY, v, exp), 0);
            if (exp > ref[i])
                ref[i] = exp;
        }
        now += 1 + (int64_t)(next() % 5);
        size_t want = 0;
        for (int i = 0; i < N; ++i)
            if (ref[i] >= 0 && ref[i] < now) {
                ref[i] = -1;
                ++want;
            }
        assert_int_equal(ts_revoked_purge(set, now), want);
        check_against(ref);
    }
    now += 100;
    ts_revoked_purge(set, now);
    assert_int_equal(ts_revoked_size(set), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(added_value_is_revoked, setup, teardown),
        cmocka_unit_test_setup_teardown(kinds_are_separate, setup, teardown),
        cmocka_unit_test_setup_teardown(adding_twice_keeps_one_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(values_up_to_256_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(purge_drops_entries_that_expired_before_now, setup, teardown),
        cmocka_unit_test_setup_teardown(adding_again_extends_but_never_shortens, setup, teardown),
        cmocka_unit_test_setup_teardown(set_is_usable_after_purging_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(purges_between_many_adds_match_a_reference, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
