#ifndef TESSERA_DB_POOL_H
#define TESSERA_DB_POOL_H

/* PostgreSQL on a loop thread: a few non-blocking libpq connections per thread, driven by the thread's
 * h2o event loop, with prepared statements, a bounded wait queue, per-query deadlines and reconnection
 * with backoff. A loop thread never waits on the database: when no connection is up, a query fails at
 * once and the caller answers 503. */
#include <h2o/socket.h>
#include "tessera/config.h"

typedef struct st_ts_db_pool_t ts_db_pool_t;
typedef struct st_ts_db_query_t ts_db_query_t;
struct pg_result;
typedef struct pg_result ts_db_result_t;

/** called once per query on the loop thread: res is NULL when err is set ("unavailable", "timeout", or the
 *  server's message). res is only valid during the call. */
typedef void (*ts_db_cb)(void *ctx, const ts_db_result_t *res, const char *err);

/* prepared statements, by index into the table in src/store/statements.c */
typedef enum en_ts_stmt_t {
    TS_STMT_PING,
    TS_STMT_USE_ASSERTION,     /* client_pk, jti, exp (unix seconds): one row when the jti was unused */
    TS_STMT_REVOKE_JTI,        /* jti, client_pk, exp */
    TS_STMT_REVOKE_REFRESH,    /* token hash, client_pk, longest access token lifetime: the family revoked */
    TS_STMT_INTROSPECT_REFRESH, /* token hash: the live refresh token */
    /* browser flows: parameters and columns are listed with each statement in src/store/statements.c */
    TS_STMT_SESSION_GET,
    TS_STMT_SESSION_END,
    TS_STMT_INTERACTION_CREATE,
    TS_STMT_INTERACTION_LOGIN_GET,
    TS_STMT_INTERACTION_GET,
    TS_STMT_INTERACTION_COMPLETE,
    TS_STMT_LOGIN_COMPLETE,
    TS_STMT_CODE_ISSUE,
    TS_STMT_CODE_USE,
    TS_STMT_FAMILY_REVOKE,
    TS_STMT_REFRESH_INSERT,
    TS_STMT_REFRESH_GET,
    TS_STMT_REFRESH_ROTATE,
    /* dynamic client registration (RFC 7591, RFC 7592) */
    TS_STMT_REGISTRATION_CREATE,
    TS_STMT_REGISTRATION_GET,
    TS_STMT_REGISTRATION_UPDATE,
    TS_STMT_REGISTRATION_DELETE,
    TS_STMT__COUNT
} ts_stmt_t;

/** creates the pool and starts connecting (nothing blocks). conf must outlive the pool. */
ts_db_pool_t *ts_db_pool_create(h2o_loop_t *loop, const ts_config_t *conf, const char *application_name);
/** closes every connection and fails whatever is queued; call on the loop thread */
void ts_db_pool_destroy(ts_db_pool_t *pool);
/** 1 when at least one connection is ready */
int ts_db_pool_up(const ts_db_pool_t *pool);
/** seconds a caller should suggest in Retry-After while the pool is down */
unsigned ts_db_pool_retry_after(const ts_db_pool_t *pool);

/** runs a prepared statement (params are copied). Returns NULL, without calling cb, when the database is
 *  unavailable or the queue is full: answer 503. Otherwise cb runs later, exactly once, unless cancelled. */
ts_db_query_t *ts_db_query(ts_db_pool_t *pool, ts_stmt_t stmt, int nparams, const char *const *params, ts_db_cb cb, void *ctx);
/** the caller has gone (e.g. the client disconnected): cb will not be called. Only valid before cb ran:
 *  once cb has been called the query is gone, so the caller must forget q inside cb. */
void ts_db_cancel(ts_db_query_t *q);

int ts_db_result_rows(const ts_db_result_t *res);
/** NULL for SQL NULL */
const char *ts_db_result_value(const ts_db_result_t *res, int row, int col);

#endif
