/* src/core/arena.c: bump allocation for snapshots. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "tessera/arena.h"

static int all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; ++i)
        if (p[i] != 0)
            return 0;
    return 1;
}

static void allocations_are_zeroed_aligned_and_disjoint(void **state)
{
    static const size_t sizes[] = {1, 0, 15, 16, 17, 100, 3, 4096, 1};
    unsigned char *p[sizeof(sizes) / sizeof(sizes[0])];
    ts_arena_t a;
    ts_arena_init(&a);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); ++i) {
        p[i] = ts_arena_alloc(&a, sizes[i]);
        assert_non_null(p[i]);
        assert_int_equal((uintptr_t)p[i] % 16, 0);
        assert_true(all_zero(p[i], sizes[i]));
        memset(p[i], (int)i + 1, sizes[i]);
    }
    /* writing each one left the others alone */
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); ++i)
        for (size_t k = 0; k < sizes[i]; ++k)
            assert_int_equal(p[i][k], i + 1);
    ts_arena_dispose(&a);
}

static void memory_reused_after_dispose_is_zeroed_again(void **state)
{
    ts_arena_t a;
    for (int round = 0; round < 3; ++round) {
        ts_arena_init(&a);
        for (int i = 0; i < 50; ++i) {
            unsigned char *p = ts_arena_alloc(&a, 3000);
            assert_non_null(p);
            assert_true(all_zero(p, 3000));
            memset(p, 0xff, 3000);
        }
        ts_arena_dispose(&a);
        assert_null(a.chunks);
    }
}

static void allocations_larger_than_a_chunk_work(void **state)
{
    ts_arena_t a;
    ts_arena_init(&a);
    unsigned char *small = ts_arena_alloc(&a, 10);
    unsigned char *big = ts_arena_alloc(&a, 200000);
    unsigned char *after = ts_arena_alloc(&a, 10);
    assert_non_null(small);
    assert_non_null(big);
    assert_non_null(after);
    assert_true(all_zero(big, 200000));
    memset(big, 0xab, 200000);
    memset(small, 1, 10);
    memset(after, 2, 10);
    assert_int_equal(big[0], 0xab);
    assert_int_equal(big[199999], 0xab);
    assert_int_equal(small[9], 1);
    ts_arena_dispose(&a);
}

static void many_allocations_span_many_chunks(void **state)
{
    ts_arena_t a;
    uint32_t **p = calloc(20000, sizeof(*p));
    assert_non_null(p);
    ts_arena_init(&a);
    for (uint32_t i = 0; i < 20000; ++i) {
        p[i] = ts_arena_alloc(&a, 24);
        assert_non_null(p[i]);
        p[i][0] = i;
        p[i][5] = ~i;
    }
    for (uint32_t i = 0; i < 20000; ++i) {
        assert_int_equal(p[i][0], i);
        assert_int_equal(p[i][5], ~i);
    }
    ts_arena_dispose(&a);
    free(p);
}

static void strdup_copies_and_keeps_null(void **state)
{
    ts_arena_t a;
    char src[] = "client-one";
    ts_arena_init(&a);
    char *copy = ts_arena_strdup(&a, src);
    assert_non_null(copy);
    assert_ptr_not_equal(copy, src);
    src[0] = 'X';
    assert_string_equal(copy, "client-one");
    assert_null(ts_arena_strdup(&a, NULL));
    assert_string_equal(ts_arena_strdup(&a, ""), "");
    ts_arena_dispose(&a);
}

static void impossible_sizes_fail(void **state)
{
    ts_arena_t a;
    ts_arena_init(&a);
    assert_null(ts_arena_alloc(&a, SIZE_MAX / 2 + 1));
    assert_null(ts_arena_alloc(&a, SIZE_MAX - 16));
    ts_arena_dispose(&a);
}

static void sizes_that_overflow_when_rounded_fail(void **state)
{
    ts_arena_t a;
    ts_arena_init(&a);
    void *p = ts_arena_alloc(&a, SIZE_MAX);
    void *q = ts_arena_alloc(&a, SIZE_MAX - 14);
    ts_arena_dispose(&a);
    assert_null(p);
    assert_null(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(allocations_are_zeroed_aligned_and_disjoint),
        cmocka_unit_test(memory_reused_after_dispose_is_zeroed_again),
        cmocka_unit_test(allocations_larger_than_a_chunk_work),
        cmocka_unit_test(many_allocations_span_many_chunks),
        cmocka_unit_test(strdup_copies_and_keeps_null),
        cmocka_unit_test(impossible_sizes_fail),
        cmocka_unit_test(sizes_that_overflow_when_rounded_fail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
