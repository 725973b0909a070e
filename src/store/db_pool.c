/* Non-blocking libpq driven by the h2o event loop of one thread. Each connection is a small state machine
 * (down -> connecting -> preparing -> idle <-> busy); any failure takes it back to down, fails what it was
 * running and retries with growing backoff. h2o watches a dup() of the libpq socket, because
 * h2o_socket_close() closes the fd it wraps and PQfinish() closes libpq's. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libpq-fe.h>
#include <h2o/linklist.h>
#include <h2o/timeout.h>
#include "store/statements.h"
#include "tessera/db_pool.h"
#include "tessera/log.h"
#include "tessera/store.h"

#define MAX_CONNS 32
static const unsigned backoff_ms[] = {100, 250, 500, 1000, 2000, 5000};
#define BACKOFF_LEVELS (sizeof(backoff_ms) / sizeof(backoff_ms[0]))

typedef enum en_conn_state_t { C_DOWN, C_CONNECTING, C_PREPARING, C_IDLE, C_BUSY } conn_state_t;

struct st_ts_db_query_t {
    h2o_linklist_t link; /* in pool->waiting while queued */
    ts_db_pool_t *pool;
    ts_stmt_t stmt;
    int nparams;
    char **params;
    ts_db_cb cb; /* NULL once cancelled */
    void *ctx;
    int delivered;
};

typedef struct st_conn_t {
    ts_db_pool_t *pool;
    PGconn *pg;
    h2o_socket_t *sock;
    int pgfd; /* libpq's fd that sock watches a dup of */
    conn_state_t state;
    int prepared;
    ts_db_query_t *running;
    h2o_timeout_entry_t deadline;
    h2o_timeout_entry_t retry;
    unsigned backoff;
} conn_t;

struct st_ts_db_pool_t {
    h2o_loop_t *loop;
    const ts_config_t *conf;
    char **keywords, **values;
    h2o_timeout_t deadline_timeout;
    h2o_timeout_t retry_timeouts[BACKOFF_LEVELS];
    h2o_linklist_t waiting;
    size_t nwaiting;
    unsigned nconns;
    conn_t conns[MAX_CONNS];
};

static void start_connect(conn_t *c);
static void dispatch(ts_db_pool_t *pool);

static void query_free(ts_db_query_t *q)
{
    for (int i = 0; i < q->nparams; ++i)
        free(q->params[i]);
    free(q->params);
    free(q);
}

/* delivers the outcome once (unless cancelled) and frees the query */
static void query_finish(ts_db_query_t *q, const PGresult *res, const char *err)
{
    if (q->cb != NULL)
        q->cb(q->ctx, res, err);
    query_free(q);
}

static void unwatch(conn_t *c)
{
    if (c->sock != NULL) {
        h2o_socket_close(c->sock);
        c->sock = NULL;
    }
}

static void on_readable(h2o_socket_t *sock, const char *err);

static int watch(conn_t *c)
{
    int fd;
    unwatch(c);
    c->pgfd = PQsocket(c->pg);
    if (c->pgfd < 0 || (fd = dup(c->pgfd)) < 0)
        return -1;
    c->sock = h2o_evloop_socket_create(c->pool->loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    c->sock->data = c;
    h2o_socket_read_start(c->sock, on_readable);
    return 0;
}

static int pool_is_up(const ts_db_pool_t *pool)
{
    for (unsigned i = 0; i < pool->nconns; ++i)
        if (pool->conns[i].state == C_IDLE || pool->conns[i].state == C_BUSY)
            return 1;
    return 0;
}

static void fail_waiting(ts_db_pool_t *pool)
{
    while (!h2o_linklist_is_empty(&pool->waiting)) {
        ts_db_query_t *q = H2O_STRUCT_FROM_MEMBER(ts_db_query_t, link, pool->waiting.next);
        h2o_linklist_unlink(&q->link);
        pool->nwaiting--;
        query_finish(q, NULL, "unavailable");
    }
}

static void broken(conn_t *c, const char *why)
{
    ts_db_pool_t *pool = c->pool;
    int was_up = c->state == C_IDLE || c->state == C_BUSY;
    ts_db_query_t *q = c->running;

    char line[256];
    if (was_up || c->backoff == 0)
        ts_log_warn("database connection lost: %s", ts_store_first_line(why, line, sizeof(line)));
    c->running = NULL;
    if (h2o_timeout_is_linked(&c->deadline))
        h2o_timeout_unlink(&c->deadline);
    unwatch(c);
    PQfinish(c->pg);
    c->pg = NULL;
    c->state = C_DOWN;
    h2o_timeout_link(pool->loop, &pool->retry_timeouts[c->backoff], &c->retry);
    if (c->backoff + 1 < BACKOFF_LEVELS)
        c->backoff++;
    if (q != NULL)
        query_finish(q, NULL, "unavailable");
    if (!pool_is_up(pool))
        fail_waiting(pool);
}

static void on_retry(h2o_timeout_entry_t *entry)
{
    start_connect(H2O_STRUCT_FROM_MEMBER(conn_t, retry, entry));
}

static void on_deadline(h2o_timeout_entry_t *entry)
{
    conn_t *c = H2O_STRUCT_FROM_MEMBER(conn_t, deadline, entry);
    broken(c, c->state == C_BUSY ? "query timed out" : "connect timed out");
}

static void arm_deadline(conn_t *c)
{
    if (h2o_timeout_is_linked(&c->deadline))
        h2o_timeout_unlink(&c->deadline);
    h2o_timeout_link(c->pool->loop, &c->pool->deadline_timeout, &c->deadline);
}

static void on_writable(h2o_socket_t *sock, const char *err);

/* sends what libpq has buffered; asks the loop to call back when the socket can take more */
static int flush(conn_t *c)
{
    int r = PQflush(c->pg);
    if (r == 1)
        h2o_socket_notify_write(c->sock, on_writable);
    return r < 0 ? -1 : 0;
}

static void prepare_next(conn_t *c)
{
    if (c->prepared == TS_STMT__COUNT) {
        c->state = C_IDLE;
        c->backoff = 0;
        h2o_timeout_unlink(&c->deadline);
        ts_log_debug("database connection ready");
        dispatch(c->pool);
        return;
    }
    const ts_statement_t *s = &ts_statements[c->prepared];
    if (!PQsendPrepare(c->pg, s->name, s->sql, s->nparams, NULL) || flush(c) != 0)
        broken(c, PQerrorMessage(c->pg));
}

static void poll_connect(conn_t *c)
{
    PostgresPollingStatusType st = PQconnectPoll(c->pg);
    if (st != PGRES_POLLING_FAILED && PQsocket(c->pg) != c->pgfd && watch(c) != 0) {
        broken(c, "lost the connection's socket");
        return;
    }
    switch (st) {
    case PGRES_POLLING_WRITING:
        h2o_socket_notify_write(c->sock, on_writable);
        break;
    case PGRES_POLLING_OK:
        if (PQsetnonblocking(c->pg, 1) != 0) {
            broken(c, "cannot make the connection non-blocking");
            return;
        }
        c->state = C_PREPARING;
        c->prepared = 0;
        prepare_next(c);
        break;
    case PGRES_POLLING_FAILED:
        broken(c, PQerrorMessage(c->pg));
        break;
    default: /* reading: the read watch calls back */
        break;
    }
}

static void start_connect(conn_t *c)
{
    c->pg = PQconnectStartParams((const char *const *)c->pool->keywords, (const char *const *)c->pool->values, 1);
    if (c->pg == NULL || PQstatus(c->pg) == CONNECTION_BAD) {
        broken(c, c->pg != NULL ? PQerrorMessage(c->pg) : "out of memory");
        return;
    }
    if (watch(c) != 0) {
        broken(c, "no socket");
        return;
    }
    c->state = C_CONNECTING;
    arm_deadline(c);
    poll_connect(c);
}

static void run(conn_t *c, ts_db_query_t *q)
{
    const ts_statement_t *s = &ts_statements[q->stmt];
    c->state = C_BUSY;
    c->running = q;
    arm_deadline(c);
    if (!PQsendQueryPrepared(c->pg, s->name, q->nparams, (const char *const *)q->params, NULL, NULL, 0) || flush(c) != 0)
        broken(c, PQerrorMessage(c->pg));
}

static void dispatch(ts_db_pool_t *pool)
{
    for (unsigned i = 0; i < pool->nconns && !h2o_linklist_is_empty(&pool->waiting); ++i) {
        conn_t *c = &pool->conns[i];
        if (c->state != C_IDLE)
            continue;
        ts_db_query_t *q = H2O_STRUCT_FROM_MEMBER(ts_db_query_t, link, pool->waiting.next);
        h2o_linklist_unlink(&q->link);
        pool->nwaiting--;
        run(c, q);
    }
}

/* one result per statement, then NULL: the NULL ends it and frees the connection for the next one */
static void on_result(conn_t *c, PGresult *res)
{
    ExecStatusType st = PQresultStatus(res);

    if (c->state == C_PREPARING) {
        if (st != PGRES_COMMAND_OK) {
            ts_log_error("preparing statement %s failed: %s", ts_statements[c->prepared].name, PQresultErrorMessage(res));
            c->prepared = -1;
        }
        return;
    }
    ts_db_query_t *q = c->running;
    if (q == NULL || q->delivered)
        return;
    q->delivered = 1;
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
        if (q->cb != NULL)
            q->cb(q->ctx, res, NULL);
    } else if (q->cb != NULL) {
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        q->cb(q->ctx, NULL, state != NULL ? state : "error");
    }
    q->cb = NULL;
}

static void on_statement_done(conn_t *c)
{
    if (c->state == C_PREPARING) {
        if (c->prepared < 0) {
            broken(c, "a statement did not prepare");
            return;
        }
        c->prepared++;
        prepare_next(c);
        return;
    }
    ts_db_query_t *q = c->running;
    c->running = NULL;
    c->state = C_IDLE;
    h2o_timeout_unlink(&c->deadline);
    if (q != NULL)
        query_finish(q, NULL, q->delivered ? NULL : "no result");
    dispatch(c->pool);
}

static void drain_notifies(PGconn *pg)
{
    PGnotify *n;
    while ((n = PQnotifies(pg)) != NULL)
        PQfreemem(n);
}

static void on_readable(h2o_socket_t *sock, const char *err)
{
    conn_t *c = sock->data;

    if (c->state == C_CONNECTING) {
        poll_connect(c);
        return;
    }
    if (!PQconsumeInput(c->pg)) {
        broken(c, PQerrorMessage(c->pg));
        return;
    }
    drain_notifies(c->pg);
    while (c->state == C_BUSY || c->state == C_PREPARING) {
        if (PQisBusy(c->pg))
            return;
        PGresult *res = PQgetResult(c->pg);
        if (res == NULL) {
            on_statement_done(c);
            continue;
        }
        on_result(c, res);
        PQclear(res);
    }
    if (c->state == C_IDLE && PQstatus(c->pg) == CONNECTION_BAD)
        broken(c, "connection closed");
}

static void on_writable(h2o_socket_t *sock, const char *err)
{
    conn_t *c = sock->data;

    if (c->state == C_CONNECTING) {
        poll_connect(c);
        return;
    }
    if (err != NULL || flush(c) != 0)
        broken(c, err != NULL ? err : PQerrorMessage(c->pg));
}

ts_db_pool_t *ts_db_pool_create(h2o_loop_t *loop, const ts_config_t *conf, const char *application_name)
{
    ts_db_pool_t *pool = calloc(1, sizeof(*pool));
    char err[512];

    if (pool == NULL)
        return NULL;
    if (ts_store_conn_params(conf, application_name, &pool->keywords, &pool->values, err, sizeof(err)) != 0) {
        ts_log_error("%s", err);
        free(pool);
        return NULL;
    }
    pool->loop = loop;
    pool->conf = conf;
    pool->nconns = conf->db_pool_size < MAX_CONNS ? conf->db_pool_size : MAX_CONNS;
    h2o_linklist_init_anchor(&pool->waiting);
    h2o_timeout_init(loop, &pool->deadline_timeout, (uint64_t)conf->db_query_timeout * 1000);
    for (size_t i = 0; i < BACKOFF_LEVELS; ++i)
        h2o_timeout_init(loop, &pool->retry_timeouts[i], backoff_ms[i]);
    for (unsigned i = 0; i < pool->nconns; ++i) {
        conn_t *c = &pool->conns[i];
        c->pool = pool;
        c->pgfd = -1;
        c->deadline.cb = on_deadline;
        c->retry.cb = on_retry;
        start_connect(c);
    }
    return pool;
}

void ts_db_pool_destroy(ts_db_pool_t *pool)
{
    if (pool == NULL)
        return;
    for (unsigned i = 0; i < pool->nconns; ++i) {
        conn_t *c = &pool->conns[i];
        if (h2o_timeout_is_linked(&c->deadline))
            h2o_timeout_unlink(&c->deadline);
        if (h2o_timeout_is_linked(&c->retry))
            h2o_timeout_unlink(&c->retry);
        if (c->running != NULL)
            query_finish(c->running, NULL, "unavailable");
        c->running = NULL;
        unwatch(c);
        PQfinish(c->pg);
        c->pg = NULL;
        c->state = C_DOWN;
    }
    fail_waiting(pool);
    h2o_timeout_dispose(pool->loop, &pool->deadline_timeout);
    for (size_t i = 0; i < BACKOFF_LEVELS; ++i)
        h2o_timeout_dispose(pool->loop, &pool->retry_timeouts[i]);
    ts_store_conn_params_free(pool->keywords, pool->values);
    free(pool);
}

int ts_db_pool_up(const ts_db_pool_t *pool)
{
    return pool_is_up(pool);
}

unsigned ts_db_pool_retry_after(const ts_db_pool_t *pool)
{
    unsigned ms = backoff_ms[BACKOFF_LEVELS - 1];
    for (unsigned i = 0; i < pool->nconns; ++i)
        if (pool->conns[i].backoff < BACKOFF_LEVELS && backoff_ms[pool->conns[i].backoff] < ms)
            ms = backoff_ms[pool->conns[i].backoff];
    return (ms + 999) / 1000;
}

ts_db_query_t *ts_db_query(ts_db_pool_t *pool, ts_stmt_t stmt, int nparams, const char *const *params, ts_db_cb cb, void *ctx)
{
    ts_db_query_t *q;

    if (!pool_is_up(pool) || pool->nwaiting >= pool->conf->db_max_queue || nparams != ts_statements[stmt].nparams)
        return NULL;
    if ((q = calloc(1, sizeof(*q))) == NULL)
        return NULL;
    q->pool = pool;
    q->stmt = stmt;
    q->cb = cb;
    q->ctx = ctx;
    if (nparams > 0 && (q->params = calloc((size_t)nparams, sizeof(char *))) == NULL) {
        free(q);
        return NULL;
    }
    /* not a leak: each copy is stored in q->params (freed by query_free()); gcc 12's analyzer loses stores into heap arrays */
#ifndef __clang__
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
#endif
    for (q->nparams = 0; q->nparams < nparams; ++q->nparams)
        if (params[q->nparams] != NULL && (q->params[q->nparams] = strdup(params[q->nparams])) == NULL) {
            query_free(q);
            return NULL;
        }
#ifndef __clang__
#pragma GCC diagnostic pop
#endif
    h2o_linklist_insert(&pool->waiting, &q->link);
    pool->nwaiting++;
    dispatch(pool);
    return q;
}

void ts_db_cancel(ts_db_query_t *q)
{
    q->cb = NULL;
    if (h2o_linklist_is_linked(&q->link)) {
        /* still queued: nothing of it is on the wire, so it can go now */
        h2o_linklist_unlink(&q->link);
        q->pool->nwaiting--;
        query_free(q);
    }
}

int ts_db_result_rows(const ts_db_result_t *res)
{
    return PQntuples(res);
}

const char *ts_db_result_value(const ts_db_result_t *res, int row, int col)
{
    if (row < 0 || row >= PQntuples(res) || col < 0 || col >= PQnfields(res) || PQgetisnull(res, row, col))
        return NULL;
    return PQgetvalue(res, row, col);
}
