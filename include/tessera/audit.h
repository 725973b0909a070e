#ifndef TESSERA_AUDIT_H
#define TESSERA_AUDIT_H

/* The audit log (src/audit/): who did what, from where, when, with what outcome, in an append-only table
 * whose rows are hash-chained (each row's hash covers the previous row's hash and its own content), so that
 * `tessera audit verify` finds a row changed, removed or inserted out of order.
 *
 * The server never writes an event on a loop thread: ts_audit_emit copies the event into a bounded queue and
 * returns; a writer thread with its own connection appends the queue in batches (one transaction per batch,
 * under an advisory lock so that nodes extend one chain), and flushes what is queued before it stops. The
 * same events feed the alert rules (thresholds per key in a sliding window), which raise alert events, a log
 * line at alert level, a counter, and optionally a webhook POST.
 *
 * Events never carry secrets: an actor or target is a client_id, a user's subject, a kid or "cli"; personal
 * data is kept to an id. */
#include <stddef.h>
#include <stdint.h>
#include "tessera/config.h"
#include "tessera/store.h"

typedef enum en_ts_audit_outcome_t { TS_AUDIT_SUCCESS, TS_AUDIT_FAILURE, TS_AUDIT_ALERT } ts_audit_outcome_t;

/* Actions, by convention "area.verb": login, logout, token.issue, token.refuse, introspect.refuse, revoke,
 * ratelimit, refresh.reuse, code.replay, admin.<record>.<verb> (admin.client.create, ...), key.rotate, alert. */
typedef struct st_ts_audit_event_t {
    const char *actor;   /* client_id, user subject, "cli", "system"; NULL: unknown */
    const char *action;  /* required */
    const char *target;  /* NULL: none */
    ts_audit_outcome_t outcome;
    const char *source;  /* the peer's address, or NULL */
    const char *details; /* a JSON object as text (no secrets), or NULL */
} ts_audit_event_t;

typedef struct st_ts_audit_t ts_audit_t;

/** starts the writer thread (its own connection from conf) and the alert rules from conf. NULL with err. */
ts_audit_t *ts_audit_start(const ts_config_t *conf, char *err, size_t errlen);
/** writes everything queued (waiting up to conf's shutdown_timeout for the database), then stops; NULL is a no-op */
void ts_audit_stop(ts_audit_t *a);
/** the same with the whole stop bounded by deadline (CLOCK_MONOTONIC milliseconds), the writer and the webhook
 *  sharing it: the server passes what is left of its own shutdown_timeout */
void ts_audit_stop_by(ts_audit_t *a, uint64_t deadline);
/** queues a copy of e; never blocks on the database (a full queue drops the event and counts it); a is NULL-safe */
void ts_audit_emit(ts_audit_t *a, const ts_audit_event_t *e);
/** 0 while the log cannot take more: the writer has failed to append for audit_fail_closed_after (a read-only or
 *  full database, a revoked privilege, an outage), or the queue is three-quarters full. Whoever would record an
 *  action then refuses it (503) rather than do it unrecorded (docs/audit.md, "Failing closed"). a is NULL-safe (1). */
int ts_audit_accepting(const ts_audit_t *a);
/** counters for /metrics: events written, events dropped, alerts raised */
void ts_audit_counters(const ts_audit_t *a, uint64_t *written, uint64_t *dropped, uint64_t *alerts);

/** appends one event now, in the caller's transaction if one is open (the CLI's way; the append lock is then held until
 *  the caller ends it, so write the event last). 0 or -1 with err */
int ts_audit_write(ts_pgconn_t *db, const ts_audit_event_t *e, char *err, size_t errlen);

typedef struct st_ts_audit_verify_t {
    int64_t rows;      /* rows checked */
    int64_t first_bad; /* id of the first row that does not fit the chain, or 0 */
    char why[160];     /* what is wrong with it */
    int64_t last_id;   /* intact: the newest row's id (0: the log is empty) */
    char head[65];     /* intact: the newest row's hash in hex, to note down elsewhere (removing the newest rows
                        * leaves a chain that is intact in itself: only an earlier head shows it) */
} ts_audit_verify_t;

/** walks the whole chain in id order, a page at a time: 0 intact, 1 broken (out->first_bad, out->why), -1 with err
 *  when it could not read */
int ts_audit_verify(ts_pgconn_t *db, ts_audit_verify_t *out, char *err, size_t errlen);

/** "success", "failure" or "alert" */
const char *ts_audit_outcome_name(ts_audit_outcome_t outcome);

#endif
