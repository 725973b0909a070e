/* The queries behind `tessera doctor`: read-only, one statement each, every row built as a JSON object by
 * PostgreSQL. None of them selects a secret hash or a private key. */
#include <stdio.h>
#include <string.h>
#include <libpq-fe.h>
#include "tessera/doctor.h"
#include "tessera/records.h"

#define DAYS_SINCE(col) "floor(extract(epoch FROM now() - " col ") / 86400)::bigint"

/* runs sql (text parameters), whose rows are one json column each, and returns them as an array */
static json_t *rows_json(PGconn *db, const char *sql, int n, const char *const *params, const char *what, char *err,
                         size_t errlen)
{
    PGresult *res = PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0);
    json_t *out = NULL;

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "%s: %s", what, PQerrorMessage(db));
        err[strcspn(err, "\n")] = '\0';
        goto exit;
    }
    if ((out = json_array()) == NULL)
        goto oom;
    for (int i = 0; i < PQntuples(res); ++i) {
        json_t *row = json_loads(PQgetvalue(res, i, 0), JSON_REJECT_DUPLICATES, NULL);
        if (row == NULL || json_array_append_new(out, row) != 0)
            goto oom;
    }
exit:
    PQclear(res);
    return out;
oom:
    snprintf(err, errlen, "%s: out of memory", what);
    json_decref(out);
    out = NULL;
    goto exit;
}

json_t *ts_store_doctor_named_like(ts_pgconn_t *db, const char *pattern, char *err, size_t errlen)
{
    const char *params[1] = {pattern};
    return rows_json(db,
                     "SELECT j FROM ("
                     "SELECT 1 AS k, username AS n, json_build_object('kind', 'user', 'name', username, 'created_at', "
                     TS_STORE_ISO8601("created_at") ") AS j FROM users WHERE status = 'active' AND username ~* $1 "
                     "UNION ALL "
                     "SELECT 2, client_id, json_build_object('kind', 'client', 'name', client_id, 'created_at', "
                     TS_STORE_ISO8601("created_at") ") FROM clients WHERE status = 'active' AND client_id ~* $1) t ORDER BY k, n",
                     1, params, "looking for demo accounts", err, errlen);
}

json_t *ts_store_doctor_unused(ts_pgconn_t *db, unsigned days, char *err, size_t errlen)
{
    char d[16];
    const char *params[1] = {d};

    snprintf(d, sizeof(d), "%u", days);
    return rows_json(db,
                     "SELECT j FROM ("
                     "SELECT 1 AS k, username AS n, json_build_object('kind', 'user', 'name', username, 'last_used_at', "
                     TS_STORE_ISO8601("last_login_at") ", 'since', " TS_STORE_ISO8601("coalesce(last_login_at, created_at)")
                     ", 'days', " DAYS_SINCE("coalesce(last_login_at, created_at)") ") AS j FROM users "
                     "WHERE status = 'active' AND coalesce(last_login_at, created_at) < now() - make_interval(days => $1::int) "
                     "UNION ALL "
                     "SELECT 2, client_id, json_build_object('kind', 'client', 'name', client_id, 'last_used_at', "
                     TS_STORE_ISO8601("last_used_at") ", 'since', " TS_STORE_ISO8601("since") ", 'days', "
                     DAYS_SINCE("since") ", 'self_registered', EXISTS (SELECT 1 FROM client_registrations r "
                     "WHERE r.client_pk = c.id)) FROM ("
                     "SELECT id, client_id, last_used_at, coalesce(last_used_at, greatest(created_at, "
                     "(SELECT applied_at FROM tessera_schema WHERE name LIKE '%_quiet_changes'))) AS since "
                     "FROM clients WHERE status = 'active') c "
                     "WHERE since < now() - make_interval(days => $1::int)"
                     ") t ORDER BY k, n",
                     1, params, "looking for unused accounts", err, errlen);
}

json_t *ts_store_doctor_old_secrets(ts_pgconn_t *db, unsigned days, char *err, size_t errlen)
{
    char d[16];
    const char *params[1] = {d};

    snprintf(d, sizeof(d), "%u", days);
    return rows_json(db,
                     "SELECT json_build_object('client_id', c.client_id, 'created_at', " TS_STORE_ISO8601("s.created_at")
                     ", 'expires_at', " TS_STORE_ISO8601("s.expires_at") ", 'days', " DAYS_SINCE("s.created_at") ") "
                     "FROM client_secrets s JOIN clients c ON c.id = s.client_pk "
                     "WHERE c.status = 'active' AND (s.expires_at IS NULL OR s.expires_at > now()) "
                     "AND s.created_at < now() - make_interval(days => $1::int) ORDER BY c.client_id, s.created_at",
                     1, params, "looking for old client secrets", err, errlen);
}

json_t *ts_store_doctor_keys(ts_pgconn_t *db, char *err, size_t errlen)
{
    return rows_json(db,
                     "SELECT json_build_object('kid', kid, 'alg', alg, 'state', state, 'since', " TS_STORE_ISO8601("t.since")
                     ", 'age', floor(extract(epoch FROM now() - t.since))::bigint) "
                     "FROM (SELECT kid, alg, state, CASE state WHEN 'current' THEN activated_at WHEN 'retired' THEN retired_at "
                     "ELSE created_at END AS since, created_at FROM signing_keys WHERE state <> 'removed') t "
                     "ORDER BY alg, created_at",
                     0, NULL, "reading the signing keys", err, errlen);
}

json_t *ts_store_doctor_plain_uris(ts_pgconn_t *db, char *err, size_t errlen)
{
    return rows_json(db,
                     "SELECT json_build_object('client_id', client_id, 'field', field, 'uri', uri) FROM ("
                     "SELECT c.client_id, 'redirect_uris' AS field, u.uri, u.n FROM clients c, "
                     "unnest(c.redirect_uris) WITH ORDINALITY u(uri, n) WHERE c.status = 'active' "
                     "UNION ALL "
                     "SELECT c.client_id, 'post_logout_redirect_uris', u.uri, u.n FROM clients c, "
                     "unnest(c.post_logout_redirect_uris) WITH ORDINALITY u(uri, n) WHERE c.status = 'active') t "
                     "WHERE uri !~* '^https://' ORDER BY client_id, field DESC, n",
                     0, NULL, "reading redirect URIs", err, errlen);
}
