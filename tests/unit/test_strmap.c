/* src/core/strmap.c: string-keyed open addressing with backward-shift deletion. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "tessera/strmap.h"

#define GET(m, s) ts_strmap_get((m), (s), strlen(s))

static void empty_map_finds_nothing(void **state)
{
    ts_strmap_t m;
    ts_strmap_init(&m);
    assert_null(GET(&m, "a"));
    assert_int_equal(ts_strmap_remove(&m, "a", 1), 0);
    assert_int_equal(m.size, 0);
    ts_strmap_dispose(&m);
}

static void put_then_get(void **state)
{
    ts_strmap_t m;
    int a = 1, b = 2;
    ts_strmap_init(&m);
    assert_int_equal(ts_strmap_put(&m, "alpha", 5, &a), 0);
    assert_int_equal(ts_strmap_put(&m, "beta", 4, &b), 0);
    assert_ptr_equal(GET(&m, "alpha"), &a);
    assert_ptr_equal(GET(&m, "beta"), &b);
    assert_null(GET(&m, "gamma"));
    assert_int_equal(m.size, 2);
    ts_strmap_dispose(&m);
}

static void put_of_an_existing_key_replaces_its_value(void **state)
{
    ts_strmap_t m;
    int a = 1, b = 2;
    char key2[] = "alpha"; /* an equal key at another address */
    ts_strmap_init(&m);
    assert_int_equal(ts_strmap_put(&m, "alpha", 5, &a), 0);
    assert_int_equal(ts_strmap_put(&m, key2, 5, &b), 0);
    assert_ptr_equal(GET(&m, "alpha"), &b);
    assert_int_equal(m.size, 1);
    ts_strmap_dispose(&m);
}

static void keys_compare_by_length_and_bytes(void **state)
{
    ts_strmap_t m;
    int v[5];
    ts_strmap_init(&m);
    assert_int_equal(ts_strmap_put(&m, "ab", 2, &v[0]), 0);
    assert_int_equal(ts_strmap_put(&m, "abc", 3, &v[1]), 0);
    assert_int_equal(ts_strmap_put(&m, "", 0, &v[2]), 0);
    assert_int_equal(ts_strmap_put(&m, "a\0b", 3, &v[3]), 0);
    assert_int_equal(ts_strmap_put(&m, "a\0c", 3, &v[4]), 0);
    assert_ptr_equal(ts_strmap_get(&m, "abc", 2), &v[0]); /* a prefix of a longer buffer */
    assert_ptr_equal(ts_strmap_get(&m, "abc", 3), &v[1]);
    assert_ptr_equal(ts_strmap_get(&m, "", 0), &v[2]);
    assert_ptr_equal(ts_strmap_get(&m, "a\0b", 3), &v[3]);
    assert_ptr_equal(ts_strmap_get(&m, "a\0c", 3), &v[4]);
    assert_null(ts_strmap_get(&m, "a", 1));
    assert_null(ts_strmap_get(&m, "AB", 2));
    assert_int_equal(m.size, 5);
    ts_strmap_dispose(&m);
}

static void remove_takes_out_only_that_key(void **state)
{
    ts_strmap_t m;
    int a = 1, b = 2;
    ts_strmap_init(&m);
    ts_strmap_put(&m, "a", 1, &a);
    ts_strmap_put(&m, "b", 1, &b);
    assert_int_equal(ts_strmap_remove(&m, "a", 1), 1);
    assert_int_equal(ts_strmap_remove(&m, "a", 1), 0);
    assert_null(GET(&m, "a"));
    assert_ptr_equal(GET(&m, "b"), &b);
    assert_int_equal(m.size, 1);
    ts_strmap_dispose(&m);
}

static void hash_is_stable_and_length_sensitive(void **state)
{
    assert_true(ts_strmap_hash("client", 6) == ts_strmap_hash("client", 6));
    assert_true(ts_strmap_hash("client", 6) != ts_strmap_hash("client", 5));
    assert_true(ts_strmap_hash("", 0) != ts_strmap_hash("\0", 1));
}

/* ---- against a reference ------------------------------------------------------------------------------- */

#define NKEYS 600
static char keys[NKEYS][16];

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void check_against(const ts_strmap_t *m, void *const *ref)
{
    size_t n = 0;
    for (size_t i = 0; i < NKEYS; ++i) {
        void *got = ts_strmap_get(m, keys[i], strlen(keys[i]));
        if (got != ref[i])
            fail_msg("key %s: got %p, want %p", keys[i], got, ref[i]);
        n += ref[i] != NULL;
    }
    assert_int_equal(m->size, n);
    /* every occupied slot is reachable from its home without crossing an empty one */
    for (size_t i = 0, mask = m->capacity - 1; i < m->capacity; ++i) {
        if (m->slots[i].key == NULL)
            continue;
        for (size_t j = m->slots[i].hash & mask; j != i; j = (j + 1) & mask)
            if (m->slots[j].key == NULL)
                fail_msg("slot %zu is cut off from its home", i);
    }
}

static void random_puts_and_removes_match_a_reference(void **state)
{
    static void *ref[NKEYS];
    static int values[NKEYS];
    ts_strmap_t m;
    ts_strmap_init(&m);
    for (size_t i = 0; i < NKEYS; ++i)
        snprintf(keys[i], sizeof(keys[i]), "k%zu", i);
    for (int round = 0; round < 40000; ++round) {
        size_t i = next() % NKEYS;
        /* remove more often in the second half, so the map fills up and empties again */
        int remove = (int)(next() % 100) < (round < 20000 ? 30 : 70);
        if (remove) {
            assert_int_equal(ts_strmap_remove(&m, keys[i], strlen(keys[i])), ref[i] != NULL);
            ref[i] = NULL;
        } else {
            values[i] = round;
            assert_int_equal(ts_strmap_put(&m, keys[i], strlen(keys[i]), &values[i]), 0);
            ref[i] = &values[i];
        }
        if (round % 997 == 0)
            check_against(&m, ref);
    }
    check_against(&m, ref);
    for (size_t i = 0; i < NKEYS; ++i)
        if (ref[i] != NULL)
            assert_int_equal(ts_strmap_remove(&m, keys[i], strlen(keys[i])), 1);
    assert_int_equal(m.size, 0);
    for (size_t i = 0; i < m.capacity; ++i)
        assert_null(m.slots[i].key);
    ts_strmap_dispose(&m);
}

static void removal_inside_a_cluster_that_wraps_around_keeps_every_key(void **state)
{
    /* keys whose home is one of the last two slots of a 16-slot table crowd across the end into slot 0.. */
    static char wrap[8][16];
    static int values[8];
    size_t n = 0;
    ts_strmap_t m;
    ts_strmap_init(&m);
    for (unsigned i = 0; n < 8; ++i) {
        char k[16];
        snprintf(k, sizeof(k), "w%u", i);
        if ((ts_strmap_hash(k, strlen(k)) & 15) >= 14)
            strcpy(wrap[n++], k);
    }
    for (size_t i = 0; i < 8; ++i)
        assert_int_equal(ts_strmap_put(&m, wrap[i], strlen(wrap[i]), &values[i]), 0);
    assert_int_equal(m.capacity, 16);
    /* remove each in turn from a fresh copy of the cluster; the others must stay reachable */
    for (size_t r = 0; r < 8; ++r) {
        assert_int_equal(ts_strmap_remove(&m, wrap[r], strlen(wrap[r])), 1);
        for (size_t i = 0; i < 8; ++i)
            assert_ptr_equal(ts_strmap_get(&m, wrap[i], strlen(wrap[i])), i == r ? NULL : &values[i]);
        assert_int_equal(ts_strmap_put(&m, wrap[r], strlen(wrap[r]), &values[r]), 0);
    }
    ts_strmap_dispose(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_map_finds_nothing),
        cmocka_unit_test(put_then_get),
        cmocka_unit_test(put_of_an_existing_key_replaces_its_value),
        cmocka_unit_test(keys_compare_by_length_and_bytes),
        cmocka_unit_test(remove_takes_out_only_that_key),
        cmocka_unit_test(hash_is_stable_and_length_sensitive),
        cmocka_unit_test(random_puts_and_removes_match_a_reference),
        cmocka_unit_test(removal_inside_a_cluster_that_wraps_around_keeps_every_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
