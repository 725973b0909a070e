/* The keyring table: loading, listing and the rotation schedule. Rotation runs on one node at a time
 * (an advisory lock); the row triggers NOTIFY every node, which then reloads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>
#include "tessera/audit.h"
#include "tessera/store.h"

/* an arbitrary constant that names "Tessera key rotation" among advisory locks */
#define ROTATION_LOCK "7351003"

static void pg_error(PGconn *db, const char *what, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: %s", what, PQerrorMessage(db));
    err[strcspn(err, "\n")] = '\0';
}

ts_keyring_t *ts_store_keys_load(ts_pgconn_t *db, const ts_kek_t *kek, char *err, size_t errlen)
{
    PGresult *res = PQexecParams(db,
                                 "SELECT kid, alg, state, private_key_enc FROM signing_keys WHERE state <> 'removed' "
                                 "ORDER BY alg, created_at",
                                 0, NULL, NULL, NULL, NULL, 1);
    ts_keyring_t *ring = NULL;

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        pg_error(db, "loading signing keys", err, errlen);
        PQclear(res);
        return NULL;
    }
    int n = PQntuples(res);
    ts_keyring_row_t *rows = calloc((size_t)n + 1, sizeof(*rows));
    if (rows == NULL) {
        snprintf(err, errlen, "out of memory");
        PQclear(res);
        return NULL;
    }
    /* binary format: text columns arrive as their bytes, and libpq NUL-terminates every value */
    for (int i = 0; i < n; ++i)
        rows[i] = (ts_keyring_row_t){PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
                                     (const unsigned char *)PQgetvalue(res, i, 3), (size_t)PQgetlength(res, i, 3)};
    ring = ts_keyring_build(rows, (size_t)n, kek, err, errlen);
    free(rows);
    PQclear(res);
    return ring;
}

static int insert_key(PGconn *db, ts_jws_alg_t alg, const char *state, const ts_kek_t *kek, char *err, size_t errlen)
{
    ts_key_t *key = ts_key_generate(alg);
    unsigned char *sealed = NULL;
    size_t sealed_len;
    char *jwk = NULL;
    int ok = 0;

    if (key == NULL || ts_keyring_seal_key(key, kek, &sealed, &sealed_len) != 0) {
        snprintf(err, errlen, "cannot generate a %s key", ts_jws_alg_name(alg));
        goto out;
    }
    json_t *pub = ts_key_public_jwk(key);
    jwk = json_dumps(pub, JSON_COMPACT);
    json_decref(pub);
    const char *values[5] = {ts_key_kid(key), ts_jws_alg_name(alg), state, (const char *)sealed, jwk};
    int lengths[5] = {0, 0, 0, (int)sealed_len, 0};
    int formats[5] = {0, 0, 0, 1, 0};
    PGresult *res = PQexecParams(db,
                                 "INSERT INTO signing_keys (kid, alg, state, private_key_enc, public_jwk, activated_at) "
                                 "VALUES ($1, $2, $3, $4, $5::jsonb, CASE WHEN $3 = 'current' THEN now() END)",
                                 5, NULL, values, lengths, formats, 0);
    ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        pg_error(db, "storing a new key", err, errlen);
    PQclear(res);
out:
    free(sealed);
    free(jwk);
    ts_key_free(key);
    return ok ? 0 : -1;
}

/* runs an UPDATE with the given parameters and returns how many rows it changed, or -1 */
static int update(PGconn *db, const char *sql, int n, const char *const *params, char *err, size_t errlen)
{
    PGresult *res = PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0);
    int count = -1;
    if (PQresultStatus(res) == PGRES_COMMAND_OK)
        count = atoi(PQcmdTuples(res)); /* Flawfinder: ignore - NOLINT(cert-err34-c): libpq's row count: digits, or "" (0) */
    else
        pg_error(db, "updating signing keys", err, errlen);
    PQclear(res);
    return count;
}

static int count_state(PGconn *db, const char *alg, const char *state)
{
    const char *params[2] = {alg, state};
    PGresult *res = PQexecParams(db, "SELECT count(*) FROM signing_keys WHERE alg = $1 AND state = $2", 2, NULL, params, NULL,
                                 NULL, 0);
    /* Flawfinder: ignore - NOLINTNEXTLINE(cert-err34-c): count(*) is always a decimal number */
    int n = PQresultStatus(res) == PGRES_TUPLES_OK ? atoi(PQgetvalue(res, 0, 0)) : -1;
    PQclear(res);
    return n;
}

static int rotate_alg(PGconn *db, ts_jws_alg_t alg, const ts_kek_t *kek, const char *period, int force, ts_rotation_t *r,
                      char *err, size_t errlen)
{
    const char *name = ts_jws_alg_name(alg);
    int n;

    if (count_state(db, name, "current") == 0) {
        /* a missing current key is bootstrap: promote a waiting next key, else make one */
        const char *p1[1] = {name};
        if ((n = update(db, "UPDATE signing_keys SET state = 'current', activated_at = now() WHERE alg = $1 AND state = 'next'", 1,
                        p1, err, errlen)) < 0)
            return -1;
        if (n == 0) {
            if (insert_key(db, alg, "current", kek, err, errlen) != 0)
                return -1;
            r->generated++;
        } else {
            r->activated++;
        }
    } else {
        const char *p2[2] = {name, period};
        const char *due = force ? "SELECT 1 FROM signing_keys WHERE alg = $1 AND state = 'current' AND $2::text IS NOT NULL"
                                : "SELECT 1 FROM signing_keys WHERE alg = $1 AND state = 'current' "
                                  "AND activated_at + make_interval(secs => $2::bigint) <= now()";
        PGresult *res = PQexecParams(db, due, 2, NULL, p2, NULL, NULL, 0);
        int is_due = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0;
        PQclear(res);
        if (is_due && count_state(db, name, "next") > 0) {
            const char *p1[1] = {name};
            if ((n = update(db, "UPDATE signing_keys SET state = 'retired', retired_at = now() WHERE alg = $1 AND state = 'current'",
                            1, p1, err, errlen)) < 0)
                return -1;
            r->retired += n;
            if ((n = update(db, "UPDATE signing_keys SET state = 'current', activated_at = now() WHERE alg = $1 AND state = 'next'",
                            1, p1, err, errlen)) < 0)
                return -1;
            r->activated += n;
        }
    }
    if (count_state(db, name, "next") == 0) {
        if (insert_key(db, alg, "next", kek, err, errlen) != 0)
            return -1;
        r->generated++;
    }
    return 0;
}

/* the key.rotate audit event, last in the rotation's transaction: the change and its record commit together */
static int audit_rotation(PGconn *db, const char *actor, int force, const ts_rotation_t *r, char *err, size_t errlen)
{
    if (!force && r->activated + r->retired + r->generated + r->removed == 0)
        return 0;
    PGresult *res = PQexec(db, "SELECT coalesce(json_agg(kid ORDER BY alg), '[]') FROM signing_keys WHERE state = 'current'");
    json_t *current = PQresultStatus(res) == PGRES_TUPLES_OK ? json_loads(PQgetvalue(res, 0, 0), 0, NULL) : NULL;
    PQclear(res);
    json_t *d = json_pack("{s:b, s:i, s:i, s:i, s:i, s:o}", "forced", force, "activated", r->activated, "retired", r->retired,
                          "generated", r->generated, "removed", r->removed, "current", current != NULL ? current : json_array());
    char *details = d != NULL ? json_dumps(d, JSON_COMPACT) : NULL;
    json_decref(d);
    int ret = ts_audit_write(db, &(ts_audit_event_t){.actor = actor, .action = "key.rotate", .outcome = TS_AUDIT_SUCCESS, .details = details},
                             err, errlen);
    free(details);
    return ret;
}

int ts_store_keys_rotate(ts_pgconn_t *db, const ts_kek_t *kek, unsigned rotation_period, unsigned retention, int force,
                         ts_rotation_t *report, char *err, size_t errlen)
{
    return ts_store_keys_rotate_as(db, kek, rotation_period, retention, force, force ? "cli" : "system", report, err, errlen);
}

int ts_store_keys_rotate_as(ts_pgconn_t *db, const ts_kek_t *kek, unsigned rotation_period, unsigned retention, int force,
                            const char *actor, ts_rotation_t *report, char *err, size_t errlen)
{
    static const ts_jws_alg_t algs[] = {TS_ALG_RS256, TS_ALG_ES256};
    char period[16], keep[16];
    PGresult *res;

    memset(report, 0, sizeof(*report));
    *err = '\0';
    snprintf(period, sizeof(period), "%u", rotation_period);
    snprintf(keep, sizeof(keep), "%u", retention);
    if (ts_store_exec(db, "BEGIN", err, errlen) != 0)
        return -1;
    res = PQexec(db, force ? "SELECT pg_advisory_xact_lock(" ROTATION_LOCK "), true"
                           : "SELECT pg_try_advisory_xact_lock(" ROTATION_LOCK ")");
    int locked = PQresultStatus(res) == PGRES_TUPLES_OK && strcmp(PQgetvalue(res, 0, force ? 1 : 0), "t") == 0;
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        pg_error(db, "taking the rotation lock", err, errlen);
    PQclear(res);
    if (!locked) {
        PQclear(PQexec(db, "ROLLBACK"));
        report->skipped = 1;
        return *err == '\0' ? 0 : -1;
    }
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); ++i)
        if (rotate_alg(db, algs[i], kek, period, force, report, err, errlen) != 0)
            goto fail;
    const char *p1[1] = {keep};
    int n = update(db,
                   "UPDATE signing_keys SET state = 'removed', private_key_enc = NULL, removed_at = now() "
                   "WHERE state = 'retired' AND retired_at + make_interval(secs => $1::bigint) <= now()",
                   1, p1, err, errlen);
    if (n < 0)
        goto fail;
    report->removed = n;
    if (audit_rotation(db, actor, force, report, err, errlen) != 0)
        goto fail;
    if (ts_store_exec(db, "COMMIT", err, errlen) != 0) {
        memset(report, 0, sizeof(*report));
        return -1;
    }
    return 0;
fail:
    PQclear(PQexec(db, "ROLLBACK"));
    memset(report, 0, sizeof(*report));
    return -1;
}

json_t *ts_store_keys_list(ts_pgconn_t *db, char *err, size_t errlen)
{
    static const char *const cols[] = {"kid", "alg", "state", "created_at", "activated_at", "retired_at", "removed_at"};
    PGresult *res = PQexec(db,
                           "SELECT kid, alg, state, to_json(created_at)#>>'{}', to_json(activated_at)#>>'{}', "
                           "to_json(retired_at)#>>'{}', to_json(removed_at)#>>'{}' FROM signing_keys "
                           "ORDER BY alg, created_at");
    json_t *list;

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        pg_error(db, "listing keys", err, errlen);
        PQclear(res);
        return NULL;
    }
    list = json_array();
    for (int i = 0; i < PQntuples(res); ++i) {
        json_t *row = json_object();
        for (int c = 0; c < 7; ++c)
            json_object_set_new(row, cols[c], PQgetisnull(res, i, c) ? json_null() : json_string(PQgetvalue(res, i, c)));
        json_array_append_new(list, row);
    }
    PQclear(res);
    return list;
}
