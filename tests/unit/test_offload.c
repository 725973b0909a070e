/* src/http/offload.c: work on the pool's threads and done back on the loop thread, the bounded queue,
 * cancelling a queued and a running job, and tearing a return or a pool down with jobs in flight. Leaks
 * show under the sanitizer build (tests/sanitize.sh). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <h2o/multithread.h>
#include "http/offload.h"

/* what the workers report; reset by setup */
static struct {
    atomic_int started;  /* work began */
    atomic_int finished; /* work returned */
    atomic_int release;  /* lets a gated work return */
} w;

/* touched by done, so on the loop thread only */
static struct {
    int done;
    int wrong; /* done off the loop thread, work on it, or a bad result */
    int cancelled_done;
} l;

typedef struct st_fixture_t {
    h2o_evloop_t *loop;
    h2o_multithread_queue_t *queue;
    ts_offload_return_t *ret;
    ts_offload_pool_t *pool;
    pthread_t loop_thread;
} fixture_t;

static fixture_t f;

/* the job's argument: copied into the job, written by work and read by done */
typedef struct st_calc_t {
    int input;
    int gated;       /* work waits for w.release */
    int sleep_ms;    /* work sleeps this long */
    int must_not_be; /* done must never run */
    long output;
    pthread_t work_thread;
} calc_t;

static void work(void *arg)
{
    calc_t *c = arg;

    atomic_fetch_add(&w.started, 1);
    c->work_thread = pthread_self();
    c->output = (long)c->input * c->input;
    if (c->sleep_ms != 0)
        usleep((useconds_t)c->sleep_ms * 1000);
    while (c->gated && !atomic_load(&w.release))
        usleep(1000);
    atomic_fetch_add(&w.finished, 1);
}

static void done(void *arg)
{
    calc_t *c = arg;

    if (!pthread_equal(pthread_self(), f.loop_thread) || pthread_equal(c->work_thread, f.loop_thread) ||
        c->output != (long)c->input * c->input)
        ++l.wrong;
    if (c->must_not_be)
        ++l.cancelled_done;
    ++l.done;
}

static ts_offload_job_t *submit(calc_t c)
{
    return ts_offload(f.pool, f.ret, work, done, &c, sizeof(c));
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* runs the loop until *count reaches want, for 5 s at most */
static void run_until(const int *count, int want)
{
    double deadline = now_s() + 5;
    while (*count < want && now_s() < deadline)
        h2o_evloop_run(f.loop, 10);
    assert_int_equal(*count, want);
}

/* waits (without running the loop) until a worker counter reaches want, for 5 s at most */
static void wait_for(atomic_int *counter, int want)
{
    double deadline = now_s() + 5;
    while (atomic_load(counter) < want && now_s() < deadline)
        usleep(1000);
    assert_int_equal(atomic_load(counter), want);
}

static int setup_with(unsigned threads, size_t queue_max)
{
    memset(&w, 0, sizeof(w));
    memset(&l, 0, sizeof(l));
    f.loop_thread = pthread_self();
    f.loop = h2o_evloop_create();
    f.queue = h2o_multithread_create_queue(f.loop);
    f.ret = ts_offload_return_create(f.queue);
    f.pool = ts_offload_pool_create(threads, queue_max);
    return f.ret != NULL && f.pool != NULL ? 0 : -1;
}

static int setup_two_threads(void **state)
{
    return setup_with(2, 64);
}

static int setup_two_threads_deep(void **state)
{
    return setup_with(2, 256);
}

static int setup_one_thread(void **state)
{
    return setup_with(1, 2);
}

static int teardown(void **state)
{
    atomic_store(&w.release, 1);
    ts_offload_pool_destroy(f.pool);
    ts_offload_return_destroy(f.ret);
    h2o_multithread_destroy_queue(f.queue);
    h2o_evloop_run(f.loop, 0); /* reaps the queue's socket */
    h2o_evloop_destroy(f.loop);
    memset(&f, 0, sizeof(f));
    return 0;
}

static void done_on_loop_after_work_elsewhere(void **state)
{
    enum { N = 50 };

    for (int i = 0; i < N; ++i)
        assert_non_null(submit((calc_t){.input = i}));
    run_until(&l.done, N);
    assert_int_equal(l.wrong, 0);
    assert_int_equal(atomic_load(&w.finished), N);
}

static void default_sizes(void **state)
{
    ts_offload_pool_t *pool = ts_offload_pool_create(0, 0);
    assert_non_null(pool);
    ts_offload_pool_destroy(pool);
}

static void queue_full(void **state)
{
    /* one thread, two places: the thread is held busy, two wait, the fourth is refused */
    assert_non_null(submit((calc_t){.input = 1, .gated = 1}));
    wait_for(&w.started, 1);
    assert_non_null(submit((calc_t){.input = 2}));
    assert_non_null(submit((calc_t){.input = 3}));
    assert_null(submit((calc_t){.input = 4}));
    atomic_store(&w.release, 1);
    run_until(&l.done, 3);
    assert_int_equal(l.wrong, 0);
    /* and there is room again */
    assert_non_null(submit((calc_t){.input = 5}));
    run_until(&l.done, 4);
}

static void cancel_queued(void **state)
{
    assert_non_null(submit((calc_t){.input = 1, .gated = 1}));
    wait_for(&w.started, 1);
    ts_offload_job_t *job = submit((calc_t){.input = 2, .must_not_be = 1});
    assert_non_null(job);
    ts_offload_cancel(job);
    assert_non_null(submit((calc_t){.input = 3}));
    assert_non_null(submit((calc_t){.input = 4})); /* the cancelled job's place is free again */
    atomic_store(&w.release, 1);
    run_until(&l.done, 3); /* FIFO: the cancelled one would have come before the last two */
    assert_int_equal(l.cancelled_done, 0);
    assert_int_equal(atomic_load(&w.started), 3); /* its work never ran either */
}

static void cancel_running(void **state)
{
    ts_offload_job_t *job = submit((calc_t){.input = 1, .sleep_ms = 100, .must_not_be = 1});
    assert_non_null(job);
    wait_for(&w.started, 1);
    ts_offload_cancel(job);
    wait_for(&w.finished, 1);
    assert_non_null(submit((calc_t){.input = 2}));
    run_until(&l.done, 1);
    assert_int_equal(l.cancelled_done, 0);
    assert_int_equal(l.wrong, 0);
}

static void cancel_after_work_before_done(void **state)
{
    ts_offload_job_t *job = submit((calc_t){.input = 1, .must_not_be = 1});
    assert_non_null(job);
    wait_for(&w.finished, 1); /* its message is on the way: the loop has not run */
    usleep(10000);
    ts_offload_cancel(job);
    assert_non_null(submit((calc_t){.input = 2}));
    run_until(&l.done, 1);
    assert_int_equal(l.cancelled_done, 0);
}

static void cancel_in_every_state(void **state)
{
    enum { N = 200 };
    ts_offload_job_t *jobs[N];
    int kept = 0;

    /* by the time the loop cancels them, some are still queued, some running, some on their way back */
    for (int i = 0; i < N; ++i) {
        jobs[i] = submit((calc_t){.input = i, .must_not_be = i % 3 == 0});
        assert_non_null(jobs[i]);
        kept += i % 3 != 0;
    }
    for (int i = 0; i < N; i += 3)
        ts_offload_cancel(jobs[i]);
    run_until(&l.done, kept);
    assert_int_equal(l.cancelled_done, 0);
    assert_int_equal(l.wrong, 0);
}

static void return_destroyed_with_jobs_in_flight(void **state)
{
    /* one delivered but not yet run on the loop, one running, two queued */
    assert_non_null(submit((calc_t){.input = 1, .must_not_be = 1}));
    wait_for(&w.finished, 1);
    usleep(10000);
    assert_non_null(submit((calc_t){.input = 2, .gated = 1, .must_not_be = 1}));
    wait_for(&w.started, 2);
    assert_non_null(submit((calc_t){.input = 3, .must_not_be = 1}));
    assert_non_null(submit((calc_t){.input = 4, .must_not_be = 1}));
    ts_offload_return_destroy(f.ret);
    f.ret = NULL;
    atomic_store(&w.release, 1);
    /* the running one finishes and is dropped; the queued ones are not worked on */
    wait_for(&w.finished, 2);
    usleep(20000);
    for (int i = 0; i < 5; ++i)
        h2o_evloop_run(f.loop, 10);
    assert_int_equal(l.done, 0);
    assert_int_equal(atomic_load(&w.started), 2);
}

static void pool_destroyed_with_jobs_queued(void **state)
{
    assert_non_null(submit((calc_t){.input = 1, .sleep_ms = 30}));
    wait_for(&w.started, 1);
    assert_non_null(submit((calc_t){.input = 2, .must_not_be = 1}));
    assert_non_null(submit((calc_t){.input = 3, .must_not_be = 1}));
    ts_offload_pool_destroy(f.pool); /* waits for the running one, drops the queued ones */
    f.pool = NULL;
    run_until(&l.done, 1);
    assert_int_equal(l.cancelled_done, 0);
    assert_int_equal(atomic_load(&w.started), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(done_on_loop_after_work_elsewhere, setup_two_threads, teardown),
        cmocka_unit_test(default_sizes),
        cmocka_unit_test_setup_teardown(queue_full, setup_one_thread, teardown),
        cmocka_unit_test_setup_teardown(cancel_queued, setup_one_thread, teardown),
        cmocka_unit_test_setup_teardown(cancel_running, setup_two_threads, teardown),
        cmocka_unit_test_setup_teardown(cancel_after_work_before_done, setup_two_threads, teardown),
        cmocka_unit_test_setup_teardown(cancel_in_every_state, setup_two_threads_deep, teardown),
        cmocka_unit_test_setup_teardown(return_destroyed_with_jobs_in_flight, setup_one_thread, teardown),
        cmocka_unit_test_setup_teardown(pool_destroyed_with_jobs_queued, setup_one_thread, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
