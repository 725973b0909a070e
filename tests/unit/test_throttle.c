/* src/core/throttle.c: the delay sequence on a fake clock, clearing, forgetting, the bounded table and its
 * eviction, independent and long keys, and threads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "tessera/throttle.h"

#define T0 1700000000

static void delay_sequence(void **state)
{
    ts_throttle_t *t = ts_throttle_create(16);
    /* the wait right after the k-th failure in a row */
    static const unsigned expected[] = {0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300};

    assert_non_null(t);
    assert_int_equal(ts_throttle_wait(t, "acct:alice", T0), 0);
    for (unsigned k = 1; k <= sizeof(expected) / sizeof(expected[0]); ++k) {
        assert_int_equal(ts_throttle_fail(t, "acct:alice", T0), k);
        if (ts_throttle_wait(t, "acct:alice", T0) != expected[k - 1])
            fail_msg("after failure %u: wait %u, expected %u", k, ts_throttle_wait(t, "acct:alice", T0), expected[k - 1]);
    }
    ts_throttle_destroy(t);
}

static void wait_counts_down(void **state)
{
    ts_throttle_t *t = ts_throttle_create(16);

    for (int i = 0; i < TS_THROTTLE_FREE + 2; ++i) /* 4 s to wait */
        ts_throttle_fail(t, "k", T0);
    assert_int_equal(ts_throttle_wait(t, "k", T0), 4);
    assert_int_equal(ts_throttle_wait(t, "k", T0 + 1), 3);
    assert_int_equal(ts_throttle_wait(t, "k", T0 + 3), 1);
    assert_int_equal(ts_throttle_wait(t, "k", T0 + 4), 0);
    assert_int_equal(ts_throttle_wait(t, "k", T0 + 1000), 0);
    /* the run goes on after the wait: the next failure doubles it */
    assert_int_equal(ts_throttle_fail(t, "k", T0 + 4), TS_THROTTLE_FREE + 3);
    assert_int_equal(ts_throttle_wait(t, "k", T0 + 4), 8);
    /* a clock that went back does not make anyone wait more than the maximum */
    assert_int_equal(ts_throttle_wait(t, "k", T0 - 100000), TS_THROTTLE_MAX_DELAY);
    ts_throttle_destroy(t);
}

static void clear_after_success(void **state)
{
    ts_throttle_t *t = ts_throttle_create(16);

    for (int i = 0; i < 6; ++i)
        ts_throttle_fail(t, "acct:bob", T0);
    assert_true(ts_throttle_wait(t, "acct:bob", T0) > 0);
    ts_throttle_clear(t, "acct:bob");
    assert_int_equal(ts_throttle_wait(t, "acct:bob", T0), 0);
    assert_int_equal(ts_throttle__count(t), 0);
    assert_int_equal(ts_throttle_fail(t, "acct:bob", T0), 1); /* a fresh run */
    ts_throttle_clear(t, "acct:nobody");                      /* clearing an absent key is harmless */
    assert_int_equal(ts_throttle__count(t), 1);
    ts_throttle_destroy(t);
}

static void forget_after_quiet_time(void **state)
{
    ts_throttle_t *t = ts_throttle_create(16);

    for (int i = 0; i < 10; ++i)
        ts_throttle_fail(t, "ip:192.0.2.1", T0);
    assert_int_equal(ts_throttle_wait(t, "ip:192.0.2.1", T0 + TS_THROTTLE_FORGET - 1), 0); /* waited out, still counted */
    assert_int_equal(ts_throttle_fail(t, "ip:192.0.2.1", T0 + TS_THROTTLE_FORGET - 1), 11);
    /* forgotten TS_THROTTLE_FORGET after the latest failure, not the first */
    int64_t last = T0 + TS_THROTTLE_FORGET - 1;
    assert_int_equal(ts_throttle_wait(t, "ip:192.0.2.1", last + TS_THROTTLE_FORGET - 1), 0);
    assert_int_equal(ts_throttle_fail(t, "ip:192.0.2.1", last + TS_THROTTLE_FORGET - 1), 12);
    last += TS_THROTTLE_FORGET - 1;
    assert_int_equal(ts_throttle_fail(t, "ip:192.0.2.1", last + TS_THROTTLE_FORGET), 1);
    assert_int_equal(ts_throttle_wait(t, "ip:192.0.2.1", last + TS_THROTTLE_FORGET), 0);
    assert_int_equal(ts_throttle__count(t), 1);
    ts_throttle_destroy(t);
}

static void independent_keys(void **state)
{
    ts_throttle_t *t = ts_throttle_create(0);

    assert_non_null(t);
    for (int i = 0; i < 4; ++i)
        ts_throttle_fail(t, "acct:alice", T0);
    assert_int_equal(ts_throttle_wait(t, "acct:alice", T0), 2);
    assert_int_equal(ts_throttle_wait(t, "acct:alicf", T0), 0);
    assert_int_equal(ts_throttle_wait(t, "acct:alic", T0), 0);
    assert_int_equal(ts_throttle_wait(t, "", T0), 0);
    assert_int_equal(ts_throttle_fail(t, "ip:198.51.100.7", T0), 1);
    assert_int_equal(ts_throttle_fail(t, "", T0), 1);
    assert_int_equal(ts_throttle_fail(t, "acct:alice", T0), 5);
    ts_throttle_clear(t, "ip:198.51.100.7");
    assert_int_equal(ts_throttle_wait(t, "acct:alice", T0), 4);
    assert_int_equal(ts_throttle__count(t), 2);
    ts_throttle_destroy(t);
}

static void long_keys(void **state)
{
    ts_throttle_t *t = ts_throttle_create(16);
    size_t len = 100000;
    char *a = malloc(len + 1), *b = malloc(len + 1);

    assert_non_null(a);
    assert_non_null(b);
    memset(a, 'x', len);
    a[len] = '\0';
    memcpy(b, a, len + 1);
    b[len - 1] = 'y'; /* differs only at the very end, far past any prefix */
    for (int i = 0; i < 4; ++i)
        ts_throttle_fail(t, a, T0);
    assert_int_equal(ts_throttle_wait(t, a, T0), 2);
    assert_int_equal(ts_throttle_wait(t, b, T0), 0);
    b[len - 1] = 'x';
    assert_int_equal(ts_throttle_wait(t, b, T0), 2); /* an equal copy is the same key */
    b[len - 1] = '\0';                               /* a prefix is another key */
    assert_int_equal(ts_throttle_wait(t, b, T0), 0);
    ts_throttle_destroy(t);
    free(a);
    free(b);
}

static void bounded_with_eviction(void **state)
{
    ts_throttle_t *t = ts_throttle_create(4);
    char key[32];

    for (int i = 0; i < 1000; ++i) {
        snprintf(key, sizeof(key), "ip:%d", i);
        assert_int_equal(ts_throttle_fail(t, key, T0 + i), 1);
        assert_true(ts_throttle__count(t) <= 4);
    }
    assert_int_equal(ts_throttle__count(t), 4);
    /* the four newest are held, the oldest were given up */
    assert_int_equal(ts_throttle_fail(t, "ip:999", T0 + 1000), 2);
    assert_int_equal(ts_throttle_fail(t, "ip:996", T0 + 1000), 2);
    assert_int_equal(ts_throttle_fail(t, "ip:0", T0 + 1000), 1); /* evicted: a fresh run, and ip:997 goes */
    assert_int_equal(ts_throttle_fail(t, "ip:998", T0 + 1000), 2);
    assert_int_equal(ts_throttle_fail(t, "ip:997", T0 + 1000), 1);
    ts_throttle_destroy(t);
}

static void flood_does_not_evict_throttled_key(void **state)
{
    ts_throttle_t *t = ts_throttle_create(8);
    char key[32];

    for (int i = 0; i < 10; ++i)
        ts_throttle_fail(t, "acct:victim", T0);
    unsigned wait = ts_throttle_wait(t, "acct:victim", T0);
    assert_true(wait > 0);
    /* an attacker failing once each with many addresses: the least recently failed entry is the victim's,
     * but it is holding a delay, so the one-failure entries go first */
    for (int i = 0; i < 10000; ++i) {
        snprintf(key, sizeof(key), "ip:203.0.113.%d", i);
        ts_throttle_fail(t, key, T0 + 1);
    }
    assert_int_equal(ts_throttle__count(t), 8);
    assert_int_equal(ts_throttle_wait(t, "acct:victim", T0), wait);
    ts_throttle_destroy(t);
}

static void evicts_oldest_when_all_throttled(void **state)
{
    ts_throttle_t *t = ts_throttle_create(2);

    for (int i = 0; i < 5; ++i) {
        ts_throttle_fail(t, "a", T0);
        ts_throttle_fail(t, "b", T0 + 1);
    }
    assert_true(ts_throttle_wait(t, "a", T0 + 1) > 0);
    ts_throttle_fail(t, "c", T0 + 2); /* no key without a delay: the least recently failed one, a, goes */
    assert_int_equal(ts_throttle_wait(t, "a", T0 + 2), 0);
    assert_true(ts_throttle_wait(t, "b", T0 + 2) > 0);
    assert_int_equal(ts_throttle__count(t), 2);
    ts_throttle_destroy(t);
}

static void create_limits(void **state)
{
    assert_null(ts_throttle_create((size_t)1 << 30));
    ts_throttle_destroy(NULL);
}

#define THREADS 4
#define ROUNDS 20000

static void *hammer(void *arg)
{
    ts_throttle_t *t = arg;
    char key[32];
    for (int i = 0; i < ROUNDS; ++i) {
        snprintf(key, sizeof(key), "k%d", i % 50);
        ts_throttle_fail(t, key, T0 + i / 100);
        ts_throttle_wait(t, key, T0 + i / 100);
        if (i % 7 == 0)
            ts_throttle_clear(t, key);
    }
    return NULL;
}

static void threads(void **state)
{
    ts_throttle_t *t = ts_throttle_create(32);
    pthread_t th[THREADS];

    for (int i = 0; i < THREADS; ++i)
        assert_int_equal(pthread_create(&th[i], NULL, hammer, t), 0);
    for (int i = 0; i < THREADS; ++i)
        pthread_join(th[i], NULL);
    assert_true(ts_throttle__count(t) <= 32);
    ts_throttle_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(delay_sequence),
        cmocka_unit_test(wait_counts_down),
        cmocka_unit_test(clear_after_success),
        cmocka_unit_test(forget_after_quiet_time),
        cmocka_unit_test(independent_keys),
        cmocka_unit_test(long_keys),
        cmocka_unit_test(bounded_with_eviction),
        cmocka_unit_test(flood_does_not_evict_throttled_key),
        cmocka_unit_test(evicts_oldest_when_all_throttled),
        cmocka_unit_test(create_limits),
        cmocka_unit_test(threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
