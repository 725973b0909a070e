/* Blocking work off the loop threads (see src/http/offload.h): worker pthreads take jobs from one bounded
 * FIFO, and a finished job travels back to the loop that asked as an h2o_multithread message (H2O_NOTES.md
 * §8), where its done callback runs.
 *
 * A job is QUEUED, then RUNNING, then DONE (sent to its loop); its state and the cancelled flag change under
 * the pool's lock. Once DONE, only its loop thread touches it. A return (one per loop) counts the jobs that
 * may still reach it, so that it can be destroyed while some are in flight: those are then freed where they
 * end up, without their done. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <h2o/multithread.h>
#include <openssl/crypto.h>
#include "http/offload.h"

#define DEFAULT_THREADS 2u
#define DEFAULT_QUEUE_MAX 64u

typedef enum en_job_state_t { JOB_QUEUED, JOB_RUNNING, JOB_DONE } job_state_t;

struct st_ts_offload_job_t {
    h2o_multithread_message_t super; /* how the job travels back to its loop */
    h2o_linklist_t pending;          /* in pool->queue while QUEUED */
    ts_offload_pool_t *pool;
    ts_offload_return_t *ret;
    ts_offload_work_cb work;
    ts_offload_done_cb done;
    job_state_t state; /* under pool->lock */
    int cancelled;     /* under pool->lock; once DONE, read and written on the loop thread only */
    size_t arg_size;
    max_align_t arg[]; /* the caller's copy: arg_size bytes, aligned for whatever the caller put there */
};

struct st_ts_offload_pool_t {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* a job was queued, or stopping */
    h2o_linklist_t queue;
    size_t queued, queue_max;
    int stopping;
    unsigned nthreads;
    pthread_t threads[];
};

struct st_ts_offload_return_t {
    h2o_multithread_receiver_t receiver; /* registered on the loop's queue */
    /* held while a job is sent to receiver: once closing is set under it, nothing more arrives */
    pthread_mutex_t lock;
    size_t refs; /* jobs queued, running or in transit to this return */
    int closing; /* ts_offload_return_destroy ran: the last job out frees the return */
};

/* ---- returns ------------------------------------------------------------------------------------- */

static void return_release(ts_offload_return_t *r)
{
    pthread_mutex_lock(&r->lock);
    int last = --r->refs == 0 && r->closing;
    pthread_mutex_unlock(&r->lock);
    if (last) {
        pthread_mutex_destroy(&r->lock);
        free(r);
    }
}

/* the arg copy may hold a password (argon2id): it is wiped before the memory goes back */
static void job_free(ts_offload_job_t *job)
{
    ts_offload_return_t *r = job->ret;

    OPENSSL_cleanse(job->arg, job->arg_size);
    free(job);
    return_release(r);
}

static void on_jobs_done(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    while (!h2o_linklist_is_empty(messages)) {
        ts_offload_job_t *job = H2O_STRUCT_FROM_MEMBER(ts_offload_job_t, super.link, messages->next);
        h2o_linklist_unlink(&job->super.link); /* NOLINT(clang-analyzer-unix.Malloc): unlink advances the list's head */
        if (!job->cancelled)
            job->done(job->arg);
        job_free(job);
    }
}

ts_offload_return_t *ts_offload_return_create(h2o_multithread_queue_t *queue)
{
    ts_offload_return_t *r = calloc(1, sizeof(*r));

    if (r == NULL)
        return NULL;
    pthread_mutex_init(&r->lock, NULL);
    h2o_multithread_register_receiver(queue, &r->receiver, on_jobs_done);
    return r;
}

void ts_offload_return_destroy(ts_offload_return_t *r)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->lock);
    r->closing = 1;
    /* Jobs already sent and not yet delivered: h2o asserts that a receiver has no messages when it is
     * unregistered, and offers no way to take them back. Taking them off the list directly is safe here:
     * only workers add to it, under r->lock, which we hold; only this loop thread takes from it. */
    while (!h2o_linklist_is_empty(&r->receiver._messages)) {
        ts_offload_job_t *job = H2O_STRUCT_FROM_MEMBER(ts_offload_job_t, super.link, r->receiver._messages.next);
        h2o_linklist_unlink(&job->super.link); /* NOLINT(clang-analyzer-unix.Malloc): unlink advances the list's head */
        OPENSSL_cleanse(job->arg, job->arg_size);
        free(job);
        --r->refs;
    }
    /* before r->lock goes: once it does, the last job out may free r */
    h2o_multithread_unregister_receiver(r->receiver.queue, &r->receiver);
    int last = r->refs == 0;
    pthread_mutex_unlock(&r->lock);
    if (last) {
        pthread_mutex_destroy(&r->lock);
        free(r);
    }
}

/* on a worker thread, once work has run: to the loop, or freed when the loop's return has gone */
static void deliver(ts_offload_job_t *job)
{
    ts_offload_return_t *r = job->ret;

    pthread_mutex_lock(&r->lock);
    if (!r->closing) {
        h2o_multithread_send_message(&r->receiver, &job->super);
        pthread_mutex_unlock(&r->lock);
        return;
    }
    pthread_mutex_unlock(&r->lock);
    job_free(job);
}

static int return_closing(ts_offload_return_t *r)
{
    pthread_mutex_lock(&r->lock);
    int closing = r->closing;
    pthread_mutex_unlock(&r->lock);
    return closing;
}

/* ---- the pool ------------------------------------------------------------------------------------ */

static void *worker_main(void *arg)
{
    ts_offload_pool_t *pool = arg;

    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (!pool->stopping && h2o_linklist_is_empty(&pool->queue))
            pthread_cond_wait(&pool->cond, &pool->lock);
        if (pool->stopping)
            break; /* what is still queued is dropped by ts_offload_pool_destroy */
        ts_offload_job_t *job = H2O_STRUCT_FROM_MEMBER(ts_offload_job_t, pending, pool->queue.next);
        h2o_linklist_unlink(&job->pending);
        --pool->queued;
        job->state = JOB_RUNNING;
        pthread_mutex_unlock(&pool->lock);

        /* nobody would see the result of a job whose loop has gone */
        if (!return_closing(job->ret))
            job->work(job->arg);

        pthread_mutex_lock(&pool->lock);
        int cancelled = job->cancelled;
        job->state = JOB_DONE;
        pthread_mutex_unlock(&pool->lock);
        /* cancelled while running: freed here rather than through the loop, which would only drop it */
        if (cancelled)
            job_free(job);
        else
            deliver(job);
        pthread_mutex_lock(&pool->lock);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

static void stop_threads(ts_offload_pool_t *pool, unsigned started)
{
    pthread_mutex_lock(&pool->lock);
    pool->stopping = 1;
    pthread_cond_broadcast(&pool->cond);
    pthread_mutex_unlock(&pool->lock);
    for (unsigned i = 0; i < started; ++i)
        pthread_join(pool->threads[i], NULL);
}

ts_offload_pool_t *ts_offload_pool_create(unsigned threads, size_t queue_max)
{
    ts_offload_pool_t *pool;

    if (threads == 0)
        threads = DEFAULT_THREADS;
    if ((pool = calloc(1, offsetof(ts_offload_pool_t, threads) + threads * sizeof(pthread_t))) == NULL)
        return NULL;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->cond, NULL);
    h2o_linklist_init_anchor(&pool->queue);
    pool->queue_max = queue_max != 0 ? queue_max : DEFAULT_QUEUE_MAX;
    for (pool->nthreads = 0; pool->nthreads < threads; ++pool->nthreads) {
        if (pthread_create(&pool->threads[pool->nthreads], NULL, worker_main, pool) != 0) {
            stop_threads(pool, pool->nthreads);
            pthread_cond_destroy(&pool->cond);
            pthread_mutex_destroy(&pool->lock);
            free(pool);
            return NULL;
        }
    }
    return pool;
}

void ts_offload_pool_destroy(ts_offload_pool_t *pool)
{
    if (pool == NULL)
        return;
    stop_threads(pool, pool->nthreads);
    /* no thread is left to take the lock; the jobs still queued never started */
    while (!h2o_linklist_is_empty(&pool->queue)) {
        ts_offload_job_t *job = H2O_STRUCT_FROM_MEMBER(ts_offload_job_t, pending, pool->queue.next);
        h2o_linklist_unlink(&job->pending); /* NOLINT(clang-analyzer-unix.Malloc): unlink advances the list's head */
        job_free(job);
    }
    pthread_cond_destroy(&pool->cond);
    pthread_mutex_destroy(&pool->lock);
    free(pool);
}

ts_offload_job_t *ts_offload(ts_offload_pool_t *pool, ts_offload_return_t *ret, ts_offload_work_cb work, ts_offload_done_cb done,
                             const void *arg, size_t arg_size)
{
    ts_offload_job_t *job;

    if (arg_size > SIZE_MAX - sizeof(*job) || (job = calloc(1, sizeof(*job) + arg_size)) == NULL)
        return NULL;
    job->pool = pool;
    job->ret = ret;
    job->work = work;
    job->done = done;
    job->arg_size = arg_size;
    if (arg_size != 0)
        memcpy(job->arg, arg, arg_size); /* Flawfinder: ignore - job->arg was allocated with arg_size bytes */
    pthread_mutex_lock(&ret->lock);
    ++ret->refs;
    pthread_mutex_unlock(&ret->lock);

    pthread_mutex_lock(&pool->lock);
    if (pool->stopping || pool->queued >= pool->queue_max) {
        pthread_mutex_unlock(&pool->lock);
        job_free(job);
        return NULL;
    }
    job->state = JOB_QUEUED;
    h2o_linklist_insert(&pool->queue, &job->pending); /* before the anchor: at the tail */
    ++pool->queued;
    pthread_cond_signal(&pool->cond);
    pthread_mutex_unlock(&pool->lock);
    return job;
}

void ts_offload_cancel(ts_offload_job_t *job)
{
    ts_offload_pool_t *pool = job->pool;

    pthread_mutex_lock(&pool->lock);
    if (job->state == JOB_QUEUED) {
        h2o_linklist_unlink(&job->pending);
        --pool->queued;
        pthread_mutex_unlock(&pool->lock);
        job_free(job);
        return;
    }
    /* RUNNING: the worker frees it when work returns; DONE: on_jobs_done frees it without calling done */
    job->cancelled = 1;
    pthread_mutex_unlock(&pool->lock);
}
