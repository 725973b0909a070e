/* The audit_events table: appending chained batches and reading rows back in id order.
 *
 * Appenders on every node (and the CLI) extend one chain: each batch takes an advisory lock for its transaction,
 * reads the newest row, and numbers and chains its rows after it. The ids are the newest id + 1, not the
 * table's sequence: a sequence value taken by a batch that then rolls back would leave a gap, and a gap is how
 * `audit verify` recognises a removed row. The hashes are computed here in C over the values as PostgreSQL will
 * print them back (jsonb and inet normalise their input), so that the verifier hashes exactly what it reads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libpq-fe.h>
#include "tessera/audit_store.h"

#define PAGE 1000
#define PARAMS_PER_ROW 10 /* the columns a row is written with */

/* microseconds since the epoch, in UTC, without depending on the session's time zone or on extract()
 * returning numeric (PostgreSQL 14+) rather than double */
#define AT_US_SQL                                                                                                                  \
    "extract(epoch FROM date_trunc('second', at AT TIME ZONE 'UTC'))::bigint * 1000000 + "                                         \
    "extract(microseconds FROM at AT TIME ZONE 'UTC')::bigint % 1000000"
#define COLUMNS                                                                                                                    \
    "id, " AT_US_SQL ", actor, action, target, outcome, source, details, encode(prev_hash, 'hex'), "                               \
    "encode(hash, 'hex'), to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

static void pg_error(PGconn *db, const char *what, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: %s", what, PQerrorMessage(db));
    err[strcspn(err, "\n")] = '\0';
}

/* the SQLSTATE of this thread's last failed statement here, to tell a refused row from a passing trouble */
static _Thread_local char last_state[6];

/* runs sql expecting tuples (or, with want_tuples 0, a command); the result or NULL with err */
/* keeps the SQLSTATE of a failed result (res may be NULL) and the error's first line in err */
static void failed(PGconn *db, const PGresult *res, const char *what, char *err, size_t errlen)
{
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    snprintf(last_state, sizeof(last_state), "%s", state != NULL ? state : "");
    pg_error(db, what, err, errlen);
}

static PGresult *run(PGconn *db, const char *sql, int n, const char *const *params, int want_tuples, const char *what, char *err,
                     size_t errlen)
{
    PGresult *res = PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != (want_tuples ? PGRES_TUPLES_OK : PGRES_COMMAND_OK)) {
        failed(db, res, what, err, errlen);
        PQclear(res);
        return NULL;
    }
    return res;
}

/* "2026-01-02 03:04:05.123456+00": exact, whatever the session's time zone */
static void format_at(int64_t at_us, char *out, size_t cap)
{
    time_t secs = (time_t)(at_us / 1000000);
    long us = (long)(at_us % 1000000);
    struct tm tm;
    if (us < 0)
        us += 1000000, secs -= 1;
    gmtime_r(&secs, &tm);
    snprintf(out, cap, "%04d-%02d-%02d %02d:%02d:%02d.%06ld+00", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, us);
}

/* a text[] literal of the n values (NULL elements for NULL): each one quoted, backslash and double quote escaped */
static char *array_literal(const char *const *values, size_t n)
{
    size_t cap = 3, len = 0;
    char *out;

    for (size_t i = 0; i < n; ++i)
        cap += (values[i] != NULL ? 2 * strlen(values[i]) + 2 : 4) + 1;
    if ((out = malloc(cap)) == NULL)
        return NULL;
    out[len++] = '{';
    for (size_t i = 0; i < n; ++i) {
        if (i != 0)
            out[len++] = ',';
        if (values[i] == NULL) {
            memcpy(out + len, "NULL", 4); /* Flawfinder: ignore - cap counts 4 for it */
            len += 4;
            continue;
        }
        out[len++] = '"';
        for (const char *v = values[i]; *v != '\0'; ++v) {
            if (*v == '"' || *v == '\\')
                out[len++] = '\\';
            out[len++] = *v;
        }
        out[len++] = '"';
    }
    out[len++] = '}';
    out[len] = '\0';
    return out;
}

/* the values of details and source as PostgreSQL will print them back (its output functions, which text results
 * use; not a cast to text, which would add /32 to an address): one short statement for the batch, its values in
 * two array parameters */
static PGresult *normalize(PGconn *db, const ts_audit_row_t *rows, size_t n, char *err, size_t errlen)
{
    const char **details = calloc(n, sizeof(*details)), **sources = calloc(n, sizeof(*sources));
    char *params[2] = {NULL, NULL};
    PGresult *res = NULL;

    if (details == NULL || sources == NULL)
        goto oom;
    for (size_t i = 0; i < n; ++i) {
        details[i] = rows[i].details != NULL ? rows[i].details : "{}";
        sources[i] = rows[i].source;
    }
    if ((params[0] = array_literal(details, n)) == NULL || (params[1] = array_literal(sources, n)) == NULL)
        goto oom;
    res = run(db, "SELECT v.d::jsonb, v.s::inet FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS v(d, s, n) ORDER BY v.n",
              2, (const char *const *)params, 1, "normalising audit events", err, errlen);
    if (res != NULL && (size_t)PQntuples(res) != n) {
        snprintf(err, errlen, "normalising audit events: %d rows for %zu", PQntuples(res), n);
        PQclear(res);
        res = NULL;
    }
    goto out;
oom:
    snprintf(err, errlen, "out of memory");
out:
    free(details);
    free(sources);
    free(params[0]);
    free(params[1]);
    return res;
}

/* the newest row's id and hash (zeros and 0 for an empty table) */
static int newest(PGconn *db, int64_t *id, unsigned char hash[TS_AUDIT_HASH_LEN], char *err, size_t errlen)
{
    PGresult *res = run(db, "SELECT id, encode(hash, 'hex') FROM audit_events ORDER BY id DESC LIMIT 1", 0, NULL, 1,
                        "reading the newest audit event", err, errlen);
    if (res == NULL)
        return -1;
    *id = 0;
    memset(hash, 0, TS_AUDIT_HASH_LEN);
    if (PQntuples(res) == 1) {
        *id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        /* a newest row without a valid hash (only tampering makes one) is chained to as zeros: the log goes on,
         * and `audit verify` reports that row */
        if (PQgetisnull(res, 0, 1) || ts_audit_unhex(PQgetvalue(res, 0, 1), hash, TS_AUDIT_HASH_LEN) != 0)
            memset(hash, 0, TS_AUDIT_HASH_LEN);
    }
    PQclear(res);
    return 0;
}

/* one field of COPY's text format: backslash, tab, newline and carriage return escaped, \N for NULL; then the
 * column separator, or the row's end. At most 2 * strlen(v) + 3 bytes. */
static size_t put_field(char *out, const char *v, int last)
{
    size_t n = 0;

    if (v == NULL) {
        out[n++] = '\\';
        out[n++] = 'N';
    }
    for (; v != NULL && *v != '\0'; ++v) {
        const char *esc = *v == '\\' ? "\\\\" : *v == '\n' ? "\\n" : *v == '\r' ? "\\r" : *v == '\t' ? "\\t" : NULL;
        if (esc != NULL)
            out[n++] = esc[0], out[n++] = esc[1];
        else
            out[n++] = *v;
    }
    out[n++] = last ? '\n' : '\t';
    return n;
}

static size_t field_room(const char *v)
{
    return 2 * (v != NULL ? strlen(v) : 0) + 3;
}

/* the rows, numbered and chained after last_id and prev, in one COPY: PostgreSQL then parses and plans no
 * statement of ten parameters a row, which the multi-row INSERT before it did for every batch (README,
 * Performance: the token path went from 25,858 to 32,501 requests a second) */
static int insert(PGconn *db, const ts_audit_row_t *rows, size_t n, PGresult *norm, int64_t last_id,
                  unsigned char prev[TS_AUDIT_HASH_LEN], char *err, size_t errlen)
{
    /* id, at (with its zone), the two hashes as bytea hex (\x...), and their separators */
    enum { FIXED_ROOM = 24 + 64 + 2 * (2 * (2 * TS_AUDIT_HASH_LEN + 2) + 3) + 16 };
    size_t cap = 1, len = 0;
    char *buf;
    PGresult *res;
    int ret = -1;

    for (size_t i = 0; i < n; ++i)
        cap += FIXED_ROOM + field_room(rows[i].actor) + field_room(rows[i].action) + field_room(rows[i].target) +
               field_room(rows[i].outcome) + field_room(PQgetvalue(norm, (int)i, 0)) + field_room(PQgetvalue(norm, (int)i, 1));
    if ((buf = malloc(cap)) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; ++i) {
        ts_audit_row_t r = rows[i];
        unsigned char hash[TS_AUDIT_HASH_LEN];
        char id[24], at[64], prev_hex[2 * TS_AUDIT_HASH_LEN + 3] = "\\x", hash_hex[2 * TS_AUDIT_HASH_LEN + 3] = "\\x";
        r.id = last_id + 1 + (int64_t)i;
        r.details = PQgetvalue(norm, (int)i, 0);
        r.source = PQgetisnull(norm, (int)i, 1) ? NULL : PQgetvalue(norm, (int)i, 1);
        if (ts_audit_hash(prev, &r, hash) != 0) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        snprintf(id, sizeof(id), "%lld", (long long)r.id);
        format_at(r.at_us, at, sizeof(at));
        ts_audit_hex(prev, TS_AUDIT_HASH_LEN, prev_hex + 2);
        ts_audit_hex(hash, TS_AUDIT_HASH_LEN, hash_hex + 2);
        memcpy(prev, hash, TS_AUDIT_HASH_LEN); /* Flawfinder: ignore - both TS_AUDIT_HASH_LEN */
        const char *fields[PARAMS_PER_ROW] = {id, at, r.actor, r.action, r.target, r.outcome, r.source, r.details, prev_hex, hash_hex};
        for (size_t f = 0; f < PARAMS_PER_ROW; ++f)
            len += put_field(buf + len, fields[f], f == PARAMS_PER_ROW - 1);
    }
    res = PQexec(db, "COPY audit_events (id, at, actor, action, target, outcome, source, details, prev_hash, hash) FROM STDIN");
    if (PQresultStatus(res) != PGRES_COPY_IN) {
        failed(db, res, "appending audit events", err, errlen);
        PQclear(res);
        goto out;
    }
    PQclear(res);
    /* a failure here shows again in the result below, which also ends the COPY */
    if (PQputCopyData(db, buf, (int)len) == 1)
        PQputCopyEnd(db, NULL);
    else
        PQputCopyEnd(db, "the audit writer could not send the rows");
    ret = 0;
    while ((res = PQgetResult(db)) != NULL) {
        if (ret == 0 && PQresultStatus(res) != PGRES_COMMAND_OK) {
            failed(db, res, "appending audit events", err, errlen);
            ret = -1;
        }
        PQclear(res);
    }
out:
    free(buf);
    return ret;
}

/* runs a statement without parameters whose result does not matter; 0 or -1 with err */
static int exec(PGconn *db, const char *sql, int want_tuples, const char *what, char *err, size_t errlen)
{
    PGresult *res = run(db, sql, 0, NULL, want_tuples, what, err, errlen);
    PQclear(res);
    return res != NULL ? 0 : -1;
}

int ts_store_audit_session(ts_pgconn_t *db, char *err, size_t errlen)
{
    return exec(db, "SET lock_timeout = '5s'", 0, "setting up the audit connection", err, errlen) == 0 &&
                   exec(db, "SET statement_timeout = '15s'", 0, "setting up the audit connection", err, errlen) == 0
               ? 0
               : -1;
}

/* data exceptions (22...: bad text for inet or jsonb, bad encoding) and not-null or check violations: the rows */
static ts_audit_fail_t classify(PGconn *db)
{
    if (PQstatus(db) != CONNECTION_OK || strncmp(last_state, "08", 2) == 0)
        return TS_AUDIT_FAIL_CONNECTION;
    if (strncmp(last_state, "22", 2) == 0 || strcmp(last_state, "23502") == 0 || strcmp(last_state, "23514") == 0)
        return TS_AUDIT_FAIL_ROWS;
    return TS_AUDIT_FAIL_OTHER;
}

int ts_store_audit_append(ts_pgconn_t *db, const ts_audit_row_t *rows, size_t n, ts_audit_fail_t *why, char *err, size_t errlen)
{
    int own = PQtransactionStatus(db) == PQTRANS_IDLE;
    unsigned char prev[TS_AUDIT_HASH_LEN];
    int64_t last_id;
    PGresult *norm = NULL;

    last_state[0] = '\0';
    if (why != NULL)
        *why = TS_AUDIT_FAIL_NONE;
    if (n == 0)
        return 0;
    if (own && exec(db, "BEGIN", 0, "beginning an audit append", err, errlen) != 0)
        goto fail;
    if (exec(db, "SELECT pg_advisory_xact_lock(" TS_AUDIT_LOCK ")", 1, "taking the audit append lock", err, errlen) != 0)
        goto fail;
    if (newest(db, &last_id, prev, err, errlen) != 0 || (norm = normalize(db, rows, n, err, errlen)) == NULL ||
        insert(db, rows, n, norm, last_id, prev, err, errlen) != 0)
        goto fail;
    PQclear(norm);
    norm = NULL;
    if (own && exec(db, "COMMIT", 0, "committing audit events", err, errlen) != 0)
        goto fail;
    return 0;
fail:
    PQclear(norm);
    if (why != NULL)
        *why = classify(db);
    /* a transaction of the caller's stays for the caller to roll back */
    if (own && PQtransactionStatus(db) != PQTRANS_IDLE && PQstatus(db) == CONNECTION_OK)
        PQclear(PQexec(db, "ROLLBACK"));
    return -1;
}

static const char *value(PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static int deliver(PGresult *res, int row, int (*cb)(void *, const ts_audit_stored_t *), void *arg, int64_t *last_id)
{
    ts_audit_stored_t r = {.row = {.id = strtoll(PQgetvalue(res, row, 0), NULL, 10),
                                   .at_us = strtoll(PQgetvalue(res, row, 1), NULL, 10),
                                   .actor = value(res, row, 2),
                                   .action = value(res, row, 3),
                                   .target = value(res, row, 4),
                                   .outcome = value(res, row, 5),
                                   .source = value(res, row, 6),
                                   .details = value(res, row, 7)},
                           .prev_hash = value(res, row, 8),
                           .hash = value(res, row, 9),
                           .at = value(res, row, 10)};
    *last_id = r.row.id;
    return cb(arg, &r);
}

int ts_store_audit_scan(ts_pgconn_t *db, const ts_audit_query_t *q, int (*cb)(void *arg, const ts_audit_stored_t *r), void *arg,
                        char *err, size_t errlen)
{
    char sql[2048], inner[1900], after[24], limit[24];
    const char *params[4];
    int n = 0, stopped = 0;
    int64_t last_id = q->after_id;

    /* the filters, then the page: keyset pagination on the primary key */
    int len = snprintf(sql, sizeof(sql), "SELECT %s FROM audit_events WHERE id > $1", COLUMNS);
    params[n++] = after;
    if (q->since != NULL) {
        params[n++] = q->since;
        len += snprintf(sql + len, sizeof(sql) - (size_t)len, " AND at >= $%d::timestamptz", n);
    }
    if (q->until != NULL) {
        params[n++] = q->until;
        len += snprintf(sql + len, sizeof(sql) - (size_t)len, " AND at < $%d::timestamptz", n);
    }
    params[n++] = limit;
    if (q->newest > 0) {
        /* the newest rows, oldest first: one query (the caller bounds the count) */
        size_t l = strlen(sql);
        if (l >= sizeof(inner)) {
            snprintf(err, errlen, "audit query too long");
            return -1;
        }
        memcpy(inner, sql, l + 1); /* Flawfinder: ignore - l < sizeof(inner) */
        snprintf(sql, sizeof(sql), "SELECT * FROM (%s ORDER BY id DESC LIMIT $%d) t ORDER BY 1", inner, n);
        snprintf(after, sizeof(after), "%lld", (long long)last_id);
        snprintf(limit, sizeof(limit), "%lld", (long long)q->newest);
        PGresult *res = run(db, sql, n, params, 1, "reading audit events", err, errlen);
        if (res == NULL)
            return -1;
        for (int i = 0; i < PQntuples(res) && !stopped; ++i)
            stopped = deliver(res, i, cb, arg, &last_id);
        PQclear(res);
        return 0;
    }
    snprintf(sql + len, sizeof(sql) - (size_t)len, " ORDER BY id LIMIT $%d", n);
    snprintf(limit, sizeof(limit), "%d", PAGE);
    for (;;) {
        snprintf(after, sizeof(after), "%lld", (long long)last_id);
        PGresult *res = run(db, sql, n, params, 1, "reading audit events", err, errlen);
        if (res == NULL)
            return -1;
        int rows = PQntuples(res);
        for (int i = 0; i < rows && !stopped; ++i)
            stopped = deliver(res, i, cb, arg, &last_id);
        PQclear(res);
        if (stopped || rows < PAGE)
            return 0;
    }
}

int ts_store_audit_check_time(ts_pgconn_t *db, const char *s, char *err, size_t errlen)
{
    const char *params[1] = {s};
    PGresult *res = run(db, "SELECT $1::timestamptz", 1, params, 1, "not a timestamp", err, errlen);
    if (res == NULL)
        return -1;
    PQclear(res);
    return 0;
}
