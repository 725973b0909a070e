/* src/core/ratelimit.c: token buckets on a fake clock, the bounded table and its eviction, and threads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include <jansson.h>
#include "http/ratelimit_http.h"
#include "tessera/config.h"
#include "tessera/http.h"
#include "tessera/ratelimit.h"

static int take(ts_ratelimit_t *rl, const char *key, double rate, unsigned burst, uint64_t now, ts_ratelimit_result_t *r)
{
    return ts_ratelimit_take(rl, key, strlen(key), rate, burst, now, r);
}

static void siphash_reference_vectors(void **state)
{
    /* vectors_sip128 of the reference implementation: key 00..0f, message 00..(n-1) */
    static const struct {
        size_t len;
        uint8_t out[16];
    } vectors[] = {
        {0, {0xa3, 0x81, 0x7f, 0x04, 0xba, 0x25, 0xa8, 0xe6, 0x6d, 0xf6, 0x72, 0x14, 0xc7, 0x55, 0x02, 0x93}},
        {1, {0xda, 0x87, 0xc1, 0xd8, 0x6b, 0x99, 0xaf, 0x44, 0x34, 0x76, 0x59, 0x11, 0x9b, 0x22, 0xfc, 0x45}},
        {7, {0xa1, 0xf1, 0xeb, 0xbe, 0xd8, 0xdb, 0xc1, 0x53, 0xc0, 0xb8, 0x4a, 0xa6, 0x1f, 0xf0, 0x82, 0x39}},
        {8, {0x3b, 0x62, 0xa9, 0xba, 0x62, 0x58, 0xf5, 0x61, 0x0f, 0x83, 0xe2, 0x64, 0xf3, 0x14, 0x97, 0xb4}},
        {15, {0x54, 0x93, 0xe9, 0x99, 0x33, 0xb0, 0xa8, 0x11, 0x7e, 0x08, 0xec, 0x0f, 0x97, 0xcf, 0xc3, 0xd9}},
        {16, {0x6e, 0xe2, 0xa4, 0xca, 0x67, 0xb0, 0x54, 0xbb, 0xfd, 0x33, 0x15, 0xbf, 0x85, 0x23, 0x05, 0x77}},
    };
    uint8_t key[16], msg[16], out[16];
    for (int i = 0; i < 16; ++i)
        key[i] = msg[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); ++i) {
        ts_ratelimit__siphash128(key, msg, vectors[i].len, out);
        if (memcmp(out, vectors[i].out, 16) != 0)
            fail_msg("siphash128 of %zu bytes differs from the reference", vectors[i].len);
    }
}

static void burst_then_limited(void **state)
{
    ts_ratelimit_t *rl = ts_ratelimit_create(1024);
    ts_ratelimit_result_t r;

    assert_non_null(rl);
    for (unsigned i = 0; i < 5; ++i) {
        assert_int_equal(take(rl, "c:app", 10, 5, 1000, &r), 1);
        assert_int_equal(r.limit, 5);
        assert_int_equal(r.remaining, 4 - i);
        assert_int_equal(r.streak, 0);
    }
    assert_int_equal(r.retry_after_ms, 100); /* allowed, but the next one would not be */
    assert_int_equal(r.reset_ms, 500);
    assert_int_equal(take(rl, "c:app", 10, 5, 1000, &r), 0);
    assert_int_equal(r.remaining, 0);
    assert_int_equal(r.retry_after_ms, 100);
    assert_int_equal(r.reset_ms, 500);
    assert_int_equal(r.streak, 1);
    assert_int_equal(take(rl, "c:app", 10, 5, 1000, &r), 0);
    assert_int_equal(r.streak, 2);
    /* another key has its own bucket */
    assert_int_equal(take(rl, "c:other", 10, 5, 1000, &r), 1);
    assert_int_equal(r.remaining, 4);
    assert_int_equal(r.retry_after_ms, 0);
    assert_int_equal(r.reset_ms, 100);

    ts_ratelimit_stats_t st;
    ts_ratelimit_stats(rl, &st);
    assert_int_equal(st.allowed, 6);
    assert_int_equal(st.limited, 2);
    assert_int_equal(st.entries, 2);
    ts_ratelimit_destroy(rl);
}

static void refill_over_time(void **state)
{
    ts_ratelimit_t *rl = ts_ratelimit_create(1024);
    ts_ratelimit_result_t r;

    for (int i = 0; i < 5; ++i)
        assert_int_equal(take(rl, "a:192.0.2.1", 10, 5, 1000, &r), 1);
    assert_int_equal(take(rl, "a:192.0.2.1", 10, 5, 1099, &r), 0);
    assert_int_equal(r.retry_after_ms, 1);
    assert_int_equal(r.reset_ms, 401);
    assert_int_equal(take(rl, "a:192.0.2.1", 10, 5, 1100, &r), 1); /* exactly one token back */
    assert_int_equal(r.remaining, 0);
    /* 250 ms: two and a half tokens */
    assert_int_equal(take(rl, "a:192.0.2.1", 10, 5, 1350, &r), 1);
    assert_int_equal(take(rl, "a:192.0.2.1", 10, 5, 1350, &r), 1);
    assert_int_equal(take(rl, "a:192.0.2.1", 10, 5, 1350, &r), 0);
    assert_int_equal(r.retry_after_ms, 50);
    /* a long pause fills the bucket, and no more than that */
    assert_int_equal(take(rl, "a:192.0.2.1", 10, 5, 1000 + 86400000ull * 365, &r), 1);
    assert_int_equal(r.remaining, 4);
    ts_ratelimit_destroy(rl);
}

/* whatever the rate, waiting the retry_after_ms given is enough, and one millisecond less is not */
static void retry_after_is_exact(void **state)
{
    static const double rates[] = {3, 7, 0.5, 0.3, 1000, 1e6, 123.456};
    ts_ratelimit_t *rl = ts_ratelimit_create(1024);
    ts_ratelimit_result_t r;
    char key[32];

    for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); ++i) {
        snprintf(key, sizeof(key), "c:rate-%zu", i);
        uint64_t now = 5000;
        assert_int_equal(take(rl, key, rates[i], 2, now, &r), 1);
        assert_int_equal(take(rl, key, rates[i], 2, now, &r), 1);
        for (int round = 0; round < 5; ++round) {
            int drained = 0;
            while (take(rl, key, rates[i], 2, now, &r) == 1) /* a fast rate may have refilled it whole */
                assert_true(++drained <= 2);
            uint64_t wait = r.retry_after_ms;
            assert_true(wait >= 1);
            if (wait > 1) {
                assert_int_equal(take(rl, key, rates[i], 2, now + wait - 1, &r), 0);
                assert_int_equal(r.retry_after_ms, 1);
            }
            now += wait;
            assert_int_equal(take(rl, key, rates[i], 2, now, &r), 1);
        }
    }
    /* 3 per second: a token every 333.3 ms, so 334 ms to wait; full again 667 ms after the first take */
    assert_int_equal(take(rl, "c:three", 3, 2, 0, &r), 1);
    assert_int_equal(r.reset_ms, 334);
    assert_int_equal(take(rl, "c:three", 3, 2, 0, &r), 1);
    assert_int_equal(r.reset_ms, 667);
    assert_int_equal(take(rl, "c:three", 3, 2, 0, &r), 0);
    assert_int_equal(r.retry_after_ms, 334);
    /* 0.5 per second: 2 s */
    assert_int_equal(take(rl, "c:half", 0.5, 1, 0, &r), 1);
    assert_int_equal(take(rl, "c:half", 0.5, 1, 0, &r), 0);
    assert_int_equal(r.retry_after_ms, 2000);
    assert_int_equal(r.reset_ms, 2000);
    ts_ratelimit_destroy(rl);
}

static void rate_zero_is_unlimited(void **state)
{
    ts_ratelimit_t *rl = ts_ratelimit_create(64);
    ts_ratelimit_result_t r;
    ts_ratelimit_stats_t st;

    for (int i = 0; i < 10000; ++i)
        assert_int_equal(take(rl, "c:free", 0, 1, 0, &r), 1);
    assert_int_equal(take(rl, "c:free", -5, 1, 0, &r), 1);
    assert_int_equal(take(rl, "c:free", NAN, 1, 0, &r), 1);
    assert_int_equal(r.retry_after_ms, 0);
    assert_int_equal(r.reset_ms, 0);
    ts_ratelimit_stats(rl, &st);
    assert_int_equal(st.entries, 0);
    assert_int_equal(st.allowed, 10002);
    assert_int_equal(st.limited, 0);
    /* the NULL result is allowed */
    assert_int_equal(ts_ratelimit_take(rl, "k", 1, 1, 1, 0, NULL), 1);
    assert_int_equal(ts_ratelimit_take(rl, "k", 1, 1, 1, 0, NULL), 0);
    ts_ratelimit_destroy(rl);
}

static void burst_zero_counts_as_one(void **state)
{
    ts_ratelimit_t *rl = ts_ratelimit_create(64);
    ts_ratelimit_result_t r;

    assert_int_equal(take(rl, "c:x", 1, 0, 0, &r), 1);
    assert_int_equal(r.limit, 1);
    assert_int_equal(take(rl, "c:x", 1, 0, 0, &r), 0);
    assert_int_equal(r.retry_after_ms, 1000);
    ts_ratelimit_destroy(rl);
}

/* keys are hashed whole: long keys that differ only at the end, and keys with a NUL, stay apart */
static void long_and_binary_keys(void **state)
{
    ts_ratelimit_t *rl = ts_ratelimit_create(1024);
    char a[5000], b[5000];

    memset(a, 'x', sizeof(a));
    memcpy(b, a, sizeof(b));
    b[sizeof(b) - 1] = 'y';
    assert_int_equal(ts_ratelimit_take(rl, a, sizeof(a), 1, 1, 0, NULL), 1);
    assert_int_equal(ts_ratelimit_take(rl, a, sizeof(a), 1, 1, 0, NULL), 0);
    assert_int_equal(ts_ratelimit_take(rl, b, sizeof(b), 1, 1, 0, NULL), 1);
    assert_int_equal(ts_ratelimit_take(rl, a, sizeof(a) - 1, 1, 1, 0, NULL), 1); /* a prefix is another key */
    assert_int_equal(ts_ratelimit_take(rl, "c:a\0b", 5, 1, 1, 0, NULL), 1);
    assert_int_equal(ts_ratelimit_take(rl, "c:a\0c", 5, 1, 1, 0, NULL), 1);
    assert_int_equal(ts_ratelimit_take(rl, "c:a", 3, 1, 1, 0, NULL), 1);
    assert_int_equal(ts_ratelimit_take(rl, "", 0, 1, 1, 0, NULL), 1);
    assert_int_equal(ts_ratelimit_take(rl, "", 0, 1, 1, 0, NULL), 0);
    ts_ratelimit_destroy(rl);
}

/* readings from two threads can cross: an earlier time refills nothing and takes nothing back */
static void clock_going_back(void **state)
{
    ts_ratelimit_t *rl = ts_ratelimit_create(64);
    ts_ratelimit_result_t r;

    assert_int_equal(take(rl, "c:t", 10, 1, 1000, &r), 1);
    assert_int_equal(take(rl, "c:t", 10, 1, 500, &r), 0);
    assert_int_equal(r.retry_after_ms, 600); /* measured from the caller's clock */
    assert_int_equal(take(rl, "c:t", 10, 1, 1099, &r), 0);
    assert_int_equal(take(rl, "c:t", 10, 1, 1100, &r), 1);
    ts_ratelimit_destroy(rl);
}

static void eviction_keeps_memory_bounded(void **state)
{
    ts_ratelimit_t *rl = ts_ratelimit_create(1000);
    ts_ratelimit_stats_t st;
    char key[32];

    ts_ratelimit_stats(rl, &st);
    assert_true(st.capacity >= 1000 && st.capacity < 1000 + 64);
    for (int i = 0; i < 100000; ++i) {
        snprintf(key, sizeof(key), "a:10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        assert_int_equal(take(rl, key, 1, 10, (uint64_t)i, NULL), 1); /* a new key always starts full */
    }
    ts_ratelimit_stats(rl, &st);
    assert_true(st.entries <= st.capacity);
    assert_true(st.entries > st.capacity * 9 / 10);
    assert_int_equal(st.evicted, 100000 - st.entries);
    assert_int_equal(st.allowed, 100000);
    ts_ratelimit_destroy(rl);
}

/* a bucket that is full again carries nothing: it is what goes when room is needed */
static void full_buckets_go_first(void **state)
{
    ts_ratelimit_t *rl = ts_ratelimit_create(512);
    ts_ratelimit_stats_t before, after;
    char key[32];

    for (int i = 0; i < 2048; ++i) {
        snprintf(key, sizeof(key), "c:old-%d", i);
        take(rl, key, 10, 10, 0, NULL);
    }
    ts_ratelimit_stats(rl, &before);
    assert_true(before.evicted_active > 0); /* none of them had refilled */
    /* few enough that no shard gets more new keys than it has old entries (8) */
    for (int i = 0; i < 32; ++i) {
        snprintf(key, sizeof(key), "c:new-%d", i);
        take(rl, key, 10, 10, 1000, NULL); /* every old bucket is full by now */
    }
    ts_ratelimit_stats(rl, &after);
    assert_int_equal(after.evicted - before.evicted, 32);
    assert_int_equal(after.evicted_active, before.evicted_active);
    ts_ratelimit_destroy(rl);
}

static void flood_does_not_reset_a_limited_bucket(void **state)
{
    static const size_t capacities[] = {64, 4096};
    ts_ratelimit_result_t r;
    char key[32];

    for (size_t c = 0; c < sizeof(capacities) / sizeof(capacities[0]); ++c) {
        ts_ratelimit_t *rl = ts_ratelimit_create(capacities[c]);
        ts_ratelimit_stats_t st;
        /* the attacker drains its own bucket, then floods distinct keys to push it out, all within a millisecond */
        for (int i = 0; i < 10; ++i)
            assert_int_equal(take(rl, "c:attacker", 1, 10, 0, &r), 1);
        assert_int_equal(take(rl, "c:attacker", 1, 10, 0, &r), 0);
        size_t flood = capacities[c] * 20;
        for (size_t i = 0; i < flood; ++i) {
            snprintf(key, sizeof(key), "c:flood-%zu", i);
            take(rl, key, 1, 10, 0, NULL);
        }
        ts_ratelimit_stats(rl, &st);
        assert_true(st.evicted > 0);
        assert_true(st.entries <= st.capacity);
        assert_int_equal(take(rl, "c:attacker", 1, 10, 0, &r), 0);
        assert_int_equal(r.streak, 2); /* the same entry, not a new one */

        /* flooding with drained keys (11 requests each) makes every candidate look alike: still kept */
        for (size_t i = 0; i < capacities[c] * 4; ++i) {
            snprintf(key, sizeof(key), "c:drained-%zu", i);
            for (int k = 0; k < 11; ++k)
                take(rl, key, 1, 10, 0, NULL);
        }
        assert_int_equal(take(rl, "c:attacker", 1, 10, 0, &r), 0);
        assert_int_equal(r.streak, 3);
        /* and it refills on its schedule */
        assert_int_equal(take(rl, "c:attacker", 1, 10, 999, &r), 0);
        assert_int_equal(take(rl, "c:attacker", 1, 10, 1000, &r), 1);
        ts_ratelimit_destroy(rl);
    }
}

/* ---- threads ------------------------------------------------------------------------------------- */

#define THREADS 4
#define TAKES 20000
#define HOT_BURST 1000

typedef struct st_worker_arg_t {
    ts_ratelimit_t *rl;
    int index;
    unsigned hot_allowed, allowed, limited;
} worker_arg_t;

static void *hammer(void *p)
{
    worker_arg_t *a = p;
    char key[32];

    for (int i = 0; i < TAKES; ++i) {
        /* one key every thread shares, with (almost) no refill, and many keys that force evictions */
        if (ts_ratelimit_take(a->rl, "c:hot", 5, 0.001, HOT_BURST, 0, NULL))
            ++a->hot_allowed;
        snprintf(key, sizeof(key), "a:%d-%d", a->index, i % 3000);
        if (ts_ratelimit_take(a->rl, key, strlen(key), 100, 5, (uint64_t)i, NULL))
            ++a->allowed;
        else
            ++a->limited;
    }
    return NULL;
}

static void threads_keep_totals_consistent(void **state)
{
    ts_ratelimit_t *rl = ts_ratelimit_create(2048);
    pthread_t threads[THREADS];
    worker_arg_t args[THREADS];
    ts_ratelimit_stats_t st;
    uint64_t hot = 0, allowed = 0, limited = 0;

    for (int t = 0; t < THREADS; ++t) {
        args[t] = (worker_arg_t){.rl = rl, .index = t};
        assert_int_equal(pthread_create(&threads[t], NULL, hammer, &args[t]), 0);
    }
    for (int t = 0; t < THREADS; ++t) {
        pthread_join(threads[t], NULL);
        hot += args[t].hot_allowed;
        allowed += args[t].allowed;
        limited += args[t].limited;
    }
    ts_ratelimit_stats(rl, &st);
    /* nothing lost to races: the shared bucket gave exactly its burst */
    assert_int_equal(hot, HOT_BURST);
    assert_int_equal(st.allowed, hot + allowed);
    assert_int_equal(st.limited, (uint64_t)THREADS * TAKES - hot + limited);
    assert_int_equal(st.allowed + st.limited, (uint64_t)THREADS * TAKES * 2);
    assert_true(st.entries <= st.capacity);
    ts_ratelimit_destroy(rl);
}

/* ---- HTTP: src/http/ratelimit_http.c on an in-process connection (H2O_NOTES.md §10) --------------- */

typedef struct st_loopback_t {
    h2o_conn_t super;
    h2o_req_t req;
    h2o_ostream_t ostr;
    h2o_buffer_t *body;
    int done;
} loopback_t;

typedef struct st_limit_t {
    const char *kind, *key;
    double rate;
    unsigned burst;
} limit_t;

static struct {
    h2o_globalconf_t globalconf;
    ts_app_t app;
    ts_worker_t worker;
    ts_ratelimit_t *rl;
    limit_t limits[2];
    size_t num_limits;
    struct sockaddr_storage peer;
    socklen_t peerlen;
} http;

static void on_loopback_send(h2o_ostream_t *self, h2o_req_t *req, h2o_iovec_t *bufs, size_t cnt, h2o_send_state_t state)
{
    loopback_t *lb = H2O_STRUCT_FROM_MEMBER(loopback_t, ostr, self);
    for (size_t i = 0; i < cnt; ++i) {
        h2o_buffer_reserve(&lb->body, bufs[i].len);
        memcpy(lb->body->bytes + lb->body->size, bufs[i].base, bufs[i].len);
        lb->body->size += bufs[i].len;
    }
    if (h2o_send_state_is_in_progress(state))
        h2o_proceed_response(req);
    else
        lb->done = 1;
}

static socklen_t on_peername(h2o_conn_t *conn, struct sockaddr *sa)
{
    memcpy(sa, &http.peer, http.peerlen);
    return http.peerlen;
}

/* what an endpoint does: the limits in order, then its own answer */
static int on_limited_req(h2o_handler_t *self, h2o_req_t *req)
{
    for (size_t i = 0; i < http.num_limits; ++i) {
        const limit_t *l = http.limits + i;
        if (ts_http_rate_limit_or_reply(req, http.rl, l->kind, l->key, l->rate, l->burst) != 0)
            return 0;
    }
    static const char ok[] = "{}";
    return ts_http_send(req, 200, "application/json", ok, sizeof(ok) - 1);
}

static int http_setup(void **state)
{
    memset(&http, 0, sizeof(http));
    h2o_config_init(&http.globalconf);
    h2o_hostconf_t *host = h2o_config_register_host(&http.globalconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    h2o_create_handler(path, sizeof(h2o_handler_t))->on_req = on_limited_req;
    http.worker.app = &http.app;
    h2o_context_init(&http.worker.ctx, h2o_evloop_create(), &http.globalconf);
    http.rl = ts_ratelimit_create(1024);
    return http.rl != NULL ? 0 : -1;
}

static int http_teardown(void **state)
{
    h2o_evloop_t *loop = http.worker.ctx.loop;
    ts_ratelimit_destroy(http.rl);
    h2o_context_dispose(&http.worker.ctx);
    h2o_evloop_run(loop, 0);
    h2o_evloop_destroy(loop);
    h2o_config_dispose(&http.globalconf);
    return 0;
}

static loopback_t *loopback_create(void)
{
    static const h2o_conn_callbacks_t callbacks = {.get_peername = on_peername};
    loopback_t *lb =
        (loopback_t *)h2o_create_connection(sizeof(*lb), &http.worker.ctx, http.globalconf.hosts, (struct timeval){0}, &callbacks);
    memset((char *)lb + sizeof(lb->super), 0, sizeof(*lb) - sizeof(lb->super));
    h2o_init_request(&lb->req, &lb->super, NULL);
    h2o_buffer_init(&lb->body, &h2o_socket_buffer_prototype);
    lb->ostr.do_send = on_loopback_send;
    lb->req._ostr_top = &lb->ostr;
    return lb;
}

static void loopback_destroy(loopback_t *lb)
{
    h2o_buffer_dispose(&lb->body);
    h2o_dispose_request(&lb->req);
    free(lb);
}

static loopback_t *post(void)
{
    loopback_t *lb = loopback_create();
    lb->req.input.method = h2o_iovec_init(H2O_STRLIT("POST"));
    lb->req.input.path = h2o_iovec_init(H2O_STRLIT("/token"));
    lb->req.input.authority = h2o_iovec_init(H2O_STRLIT("default"));
    lb->req.input.scheme = &H2O_URL_SCHEME_HTTP;
    lb->req.version = 0x101;
    h2o_process_request(&lb->req);
    while (!lb->done)
        h2o_evloop_run(http.worker.ctx.loop, 10);
    return lb;
}

/* the value of the only header called name (fails when there are several); NULL when none */
static const char *header(loopback_t *lb, const char *name)
{
    static char value[256];
    ssize_t i = h2o_find_header_by_str(&lb->req.res.headers, name, strlen(name), -1);
    if (i == -1)
        return NULL;
    assert_int_equal(h2o_find_header_by_str(&lb->req.res.headers, name, strlen(name), i), -1);
    h2o_iovec_t v = lb->req.res.headers.entries[i].value;
    snprintf(value, sizeof(value), "%.*s", (int)v.len, v.base);
    return value;
}

static void set_limits(const limit_t *limits, size_t n)
{
    memcpy(http.limits, limits, n * sizeof(*limits));
    http.num_limits = n;
}

static void http_allowed_carries_ratelimit_headers(void **state)
{
    set_limits((limit_t[]){{"client", "c:app", 10, 3}}, 1);
    loopback_t *lb = post();
    assert_int_equal(lb->req.res.status, 200);
    assert_string_equal(header(lb, "ratelimit-limit"), "3");
    assert_string_equal(header(lb, "ratelimit-remaining"), "2");
    assert_string_equal(header(lb, "ratelimit-reset"), "1"); /* 100 ms, rounded up */
    assert_null(header(lb, "retry-after"));
    loopback_destroy(lb);
}

static void http_limited_is_429_with_retry_after(void **state)
{
    set_limits((limit_t[]){{"client", "c:slow", 0.1, 2}}, 1);
    loopback_destroy(post());
    loopback_destroy(post());
    loopback_t *lb = post();
    assert_int_equal(lb->req.res.status, 429);
    assert_string_equal(header(lb, "retry-after"), "10");
    assert_string_equal(header(lb, "ratelimit-limit"), "2");
    assert_string_equal(header(lb, "ratelimit-remaining"), "0");
    assert_string_equal(header(lb, "ratelimit-reset"), "20");
    assert_string_equal(header(lb, "cache-control"), "no-store");
    assert_string_equal(header(lb, "content-type"), "application/json");
    json_t *body = json_loadb(lb->body->bytes, lb->body->size, 0, NULL);
    assert_non_null(body);
    assert_string_equal(json_string_value(json_object_get(body, "error")), "too_many_requests");
    assert_string_equal(json_string_value(json_object_get(body, "error_description")),
                        "rate limit exceeded for this client; retry after 10 s");
    assert_string_equal(json_string_value(json_object_get(body, "limit")), "client");
    assert_int_equal(json_integer_value(json_object_get(body, "retry_after")), 10);
    assert_int_equal(json_object_size(body), 4);
    json_decref(body);
    loopback_destroy(lb);
}

/* Retry-After is never 0, even when the token is due within the millisecond */
static void http_retry_after_is_at_least_one(void **state)
{
    set_limits((limit_t[]){{"address", "a:192.0.2.9", 100000, 1}}, 1);
    loopback_t *lb;
    int refused = 0;
    for (int i = 0; i < 50 && !refused; ++i) {
        lb = post();
        if (lb->req.res.status == 429) {
            refused = 1;
            assert_string_equal(header(lb, "retry-after"), "1");
            json_t *body = json_loadb(lb->body->bytes, lb->body->size, 0, NULL);
            assert_string_equal(json_string_value(json_object_get(body, "limit")), "address");
            json_decref(body);
        }
        loopback_destroy(lb);
    }
    assert_true(refused);
}

/* two limits on one request: one set of headers, from the one closer to refusing */
static void http_two_limits_show_the_stricter(void **state)
{
    set_limits((limit_t[]){{"address", "a:192.0.2.1", 100, 50}, {"client", "c:two", 1, 3}}, 2);
    loopback_t *lb = post();
    assert_int_equal(lb->req.res.status, 200);
    assert_string_equal(header(lb, "ratelimit-limit"), "3");
    assert_string_equal(header(lb, "ratelimit-remaining"), "2");
    loopback_destroy(lb);
    set_limits((limit_t[]){{"client", "c:two-b", 1, 3}, {"address", "a:192.0.2.2", 100, 50}}, 2);
    lb = post();
    assert_string_equal(header(lb, "ratelimit-limit"), "3");
    assert_string_equal(header(lb, "ratelimit-remaining"), "2");
    loopback_destroy(lb);
    /* the client limit refuses after the address limit let it through */
    set_limits((limit_t[]){{"address", "a:192.0.2.3", 100, 50}, {"client", "c:two-c", 1, 1}}, 2);
    loopback_destroy(post());
    lb = post();
    assert_int_equal(lb->req.res.status, 429);
    assert_string_equal(header(lb, "ratelimit-limit"), "1");
    assert_string_equal(header(lb, "ratelimit-remaining"), "0");
    loopback_destroy(lb);
    /* the address limit let through its last token, then the client limit refused: the 429 describes the client's */
    set_limits((limit_t[]){{"address", "a:192.0.2.4", 0.001, 2}, {"client", "c:two-d", 0.001, 1}}, 2);
    loopback_destroy(post());
    lb = post();
    assert_int_equal(lb->req.res.status, 429);
    assert_string_equal(header(lb, "ratelimit-limit"), "1");
    assert_string_equal(header(lb, "ratelimit-remaining"), "0");
    assert_string_equal(header(lb, "ratelimit-reset"), "1000");
    loopback_destroy(lb);
}

static void http_no_limit_adds_nothing(void **state)
{
    set_limits((limit_t[]){{"client", "c:free", 0, 1}}, 1);
    for (int i = 0; i < 5; ++i) {
        loopback_t *lb = post();
        assert_int_equal(lb->req.res.status, 200);
        assert_null(header(lb, "ratelimit-limit"));
        loopback_destroy(lb);
    }
}

static void set_peer(int family, const char *text)
{
    memset(&http.peer, 0, sizeof(http.peer));
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&http.peer;
        sin->sin_family = AF_INET;
        assert_int_equal(inet_pton(AF_INET, text, &sin->sin_addr), 1);
        http.peerlen = sizeof(*sin);
    } else if (family == AF_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&http.peer;
        sin6->sin6_family = AF_INET6;
        assert_int_equal(inet_pton(AF_INET6, text, &sin6->sin6_addr), 1);
        http.peerlen = sizeof(*sin6);
    } else {
        http.peer.ss_family = (sa_family_t)family;
        http.peerlen = family == 0 ? 0 : sizeof(sa_family_t);
    }
}

static void peer_address_and_rate_key(void **state)
{
    static const struct {
        int family;
        const char *peer, *address, *key;
    } cases[] = {
        {AF_INET, "192.0.2.7", "192.0.2.7", "a:192.0.2.7"},
        {AF_INET6, "::ffff:198.51.100.4", "198.51.100.4", "a:198.51.100.4"},
        {AF_INET6, "2001:db8:1:2:3:4:5:6", "2001:db8:1:2:3:4:5:6", "a:2001:db8:1:2::/64"},
        {AF_INET6, "::1", "::1", "a:::/64"},
        {AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
         "a:ffff:ffff:ffff:ffff::/64"},
    };
    char buf[TS_HTTP_ADDRESS_KEY_MAX], small[8];
    loopback_t *lb = loopback_create();

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        set_peer(cases[i].family, cases[i].peer);
        assert_string_equal(ts_http_peer_address(&lb->req, buf, TS_HTTP_ADDRESS_MAX), cases[i].address);
        assert_string_equal(ts_http_peer_rate_key(&lb->req, buf, sizeof(buf)), cases[i].key);
    }
    assert_null(ts_http_peer_address(&lb->req, small, sizeof(small))); /* does not fit */
    assert_null(ts_http_peer_rate_key(&lb->req, small, sizeof(small)));
    set_peer(AF_UNIX, NULL);
    assert_null(ts_http_peer_address(&lb->req, buf, sizeof(buf)));
    set_peer(0, NULL); /* get_peername failed */
    assert_null(ts_http_peer_address(&lb->req, buf, sizeof(buf)));
    loopback_destroy(lb);
}

/* ---- configuration ------------------------------------------------------------------------------- */

static void config_keys(void **state)
{
    char err[512];
    ts_config_t c;

    assert_int_equal(ts_config_load(&c, NULL, err, sizeof(err)), 0);
    assert_int_equal(c.rate_limit_client_rate, 100);
    assert_int_equal(c.rate_limit_client_burst, 200);
    assert_int_equal(c.rate_limit_address_rate, 200);
    assert_int_equal(c.rate_limit_address_burst, 400);
    assert_int_equal(ts_config_set(&c, "rate_limit_client_rate", "0", TS_CONFIG_FILE, err, sizeof(err)), 0);
    assert_int_equal(c.rate_limit_client_rate, 0);
    assert_int_equal(ts_config_set(&c, "rate_limit_address_rate", "5000", TS_CONFIG_FILE, err, sizeof(err)), 0);
    assert_int_equal(c.rate_limit_address_rate, 5000);
    assert_int_equal(ts_config_set(&c, "rate_limit_client_burst", "0", TS_CONFIG_FILE, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "rate_limit_client_burst"));
    assert_int_equal(ts_config_set(&c, "rate_limit_address_burst", "1.5", TS_CONFIG_FILE, err, sizeof(err)), -1);
    assert_int_equal(ts_config_set(&c, "rate_limit_client_rate", "2000000", TS_CONFIG_FILE, err, sizeof(err)), -1);
    ts_config_dispose(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(siphash_reference_vectors),
        cmocka_unit_test(burst_then_limited),
        cmocka_unit_test(refill_over_time),
        cmocka_unit_test(retry_after_is_exact),
        cmocka_unit_test(rate_zero_is_unlimited),
        cmocka_unit_test(burst_zero_counts_as_one),
        cmocka_unit_test(long_and_binary_keys),
        cmocka_unit_test(clock_going_back),
        cmocka_unit_test(eviction_keeps_memory_bounded),
        cmocka_unit_test(full_buckets_go_first),
        cmocka_unit_test(flood_does_not_reset_a_limited_bucket),
        cmocka_unit_test(threads_keep_totals_consistent),
        cmocka_unit_test(config_keys),
    };
    const struct CMUnitTest http_tests[] = {
        cmocka_unit_test(http_allowed_carries_ratelimit_headers),
        cmocka_unit_test(http_limited_is_429_with_retry_after),
        cmocka_unit_test(http_retry_after_is_at_least_one),
        cmocka_unit_test(http_two_limits_show_the_stricter),
        cmocka_unit_test(http_no_limit_adds_nothing),
        cmocka_unit_test(peer_address_and_rate_key),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    failed += cmocka_run_group_tests(http_tests, http_setup, http_teardown);
    fflush(stdout);
    return failed;
}
