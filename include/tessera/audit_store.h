#ifndef TESSERA_AUDIT_STORE_H
#define TESSERA_AUDIT_STORE_H

/* The audit_events table (src/store/audit.c): appending a chained batch, and reading rows in id order a page at
 * a time. Blocking: the audit writer thread and the CLI only. */
#include <stddef.h>
#include <stdint.h>
#include "tessera/audit_chain.h"
#include "tessera/store.h"

/* an arbitrary constant that names "Tessera audit append" among advisory locks (7351002: migrations, 7351003: key
 * rotation) */
#define TS_AUDIT_LOCK "7351005"

/* why an append failed */
typedef enum en_ts_audit_fail_t {
    TS_AUDIT_FAIL_NONE,
    TS_AUDIT_FAIL_CONNECTION, /* the connection is gone */
    TS_AUDIT_FAIL_ROWS,       /* the database refuses a row's values (a data exception, a check constraint) */
    TS_AUDIT_FAIL_OTHER       /* anything else: a timeout, a missing table... worth retrying later */
} ts_audit_fail_t;

/** appends rows (their id is ignored) in one transaction under the append lock, or inside the caller's transaction
 *  when one is open: reads the newest row, numbers the rows after it (id + 1, so ids have no gaps) and chains
 *  them. 0, or -1 with err and *why (may be NULL); nothing is appended then. */
int ts_store_audit_append(ts_pgconn_t *db, const ts_audit_row_t *rows, size_t n, ts_audit_fail_t *why, char *err, size_t errlen);
/** bounds how long the audit writer's connection waits for the append lock and for a statement; 0 or -1 with err */
int ts_store_audit_session(ts_pgconn_t *db, char *err, size_t errlen);

/* one stored row as read back */
typedef struct st_ts_audit_stored_t {
    ts_audit_row_t row;
    const char *at;        /* ISO 8601 in UTC with microseconds: 2026-01-02T03:04:05.123456Z */
    const char *prev_hash; /* hex, or NULL */
    const char *hash;      /* hex, or NULL */
} ts_audit_stored_t;

typedef struct st_ts_audit_query_t {
    int64_t after_id;  /* rows with a larger id */
    const char *since; /* at >= since (a timestamp PostgreSQL reads), or NULL */
    const char *until; /* at < until, or NULL */
    int64_t newest;    /* > 0: only the newest this many rows (still delivered oldest first) */
} ts_audit_query_t;

/** calls cb for each row q selects, in id order, reading a page at a time (memory stays bounded); a cb that
 *  returns non-zero stops the walk. 0, or -1 with err. */
int ts_store_audit_scan(ts_pgconn_t *db, const ts_audit_query_t *q, int (*cb)(void *arg, const ts_audit_stored_t *r), void *arg,
                        char *err, size_t errlen);
/** 0 when s reads as a timestamp to PostgreSQL; -1 with err */
int ts_store_audit_check_time(ts_pgconn_t *db, const char *s, char *err, size_t errlen);

#endif
