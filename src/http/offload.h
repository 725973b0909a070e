#ifndef TESSERA_HTTP_OFFLOAD_H
#define TESSERA_HTTP_OFFLOAD_H

/* CPU-heavy work (argon2id) off the loop threads: a small pool of worker threads runs `work`, and `done`
 * runs afterwards on the loop thread that asked, through that loop's h2o_multithread queue. The pool is
 * bounded: when its queue is full, ts_offload returns NULL and the caller answers 503. */
#include "tessera/http.h"

typedef struct st_ts_offload_pool_t ts_offload_pool_t;
typedef struct st_ts_offload_job_t ts_offload_job_t;

/** runs on a worker thread; must not touch the loop */
typedef void (*ts_offload_work_cb)(void *arg);
/** runs on the asking loop thread once work has run, unless the job was cancelled */
typedef void (*ts_offload_done_cb)(void *arg);

/** threads worker threads (0: 2), at most queue_max jobs waiting (0: 64); NULL when out of memory or threads */
ts_offload_pool_t *ts_offload_pool_create(unsigned threads, size_t queue_max);
/** stops the threads after the running jobs; jobs still queued are dropped (their done never runs). Jobs
 *  that finished still reach their loops. Call it once no loop will call ts_offload or ts_offload_cancel
 *  on this pool any more (at shutdown, after the loop threads). */
void ts_offload_pool_destroy(ts_offload_pool_t *pool);

/** per loop thread: the queue through which finished jobs come back to this loop */
typedef struct st_ts_offload_return_t ts_offload_return_t;
ts_offload_return_t *ts_offload_return_create(h2o_multithread_queue_t *queue);
/** on its loop thread (not from a done), before the queue is destroyed: unregisters from the queue. Its jobs
 *  may still be queued, running or on their way: none of their done runs any more, and each is freed where
 *  it ends up (so the pools must outlive them); their handles must not be cancelled afterwards. */
void ts_offload_return_destroy(ts_offload_return_t *r);

/** copies arg_size bytes at arg into memory the job owns; work and then done get that copy (done may read what
 *  work wrote into it). done runs on ret's loop thread; the copy is freed right after done returns. NULL when
 *  the pool's queue is full: answer 503. */
ts_offload_job_t *ts_offload(ts_offload_pool_t *pool, ts_offload_return_t *ret, ts_offload_work_cb work, ts_offload_done_cb done,
                             const void *arg, size_t arg_size);
/** the asker has gone (call on ret's loop thread, before done ran; a job's handle is invalid once its done
 *  has returned): done will not run; the copy is freed once work has finished (or at once if it had not
 *  started) */
void ts_offload_cancel(ts_offload_job_t *job);

#endif
