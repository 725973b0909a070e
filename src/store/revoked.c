/* Reads revocations into the in-memory set: everything on a full load, only the recent ones on NOTIFY. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>
#include "tessera/store.h"

/* revoked_at is the revoking transaction's start time, and transactions commit out of that order:
 * reading a window behind the newest seen catches the late ones */
#define SLACK_SECONDS "10"

int ts_store_revoked_load(ts_pgconn_t *db, ts_revoked_t *set, double *watermark, char *err, size_t errlen)
{
    char since[32];
    const char *params[1] = {since};
    snprintf(since, sizeof(since), "%.6f", *watermark);
    PGresult *res = PQexecParams(db,
                                 "SELECT kind, value, extract(epoch FROM expires_at)::bigint, extract(epoch FROM revoked_at) "
                                 "FROM revoked_tokens WHERE expires_at > now() "
                                 "AND revoked_at >= to_timestamp($1::double precision) - interval '" SLACK_SECONDS " seconds'",
                                 1, NULL, params, NULL, NULL, 0);
    int ret = 0;

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        char line[400];
        snprintf(err, errlen, "loading revocations: %s", ts_store_first_line(PQerrorMessage(db), line, sizeof(line)));
        PQclear(res);
        return -1;
    }
    for (int i = 0; i < PQntuples(res); ++i) {
        char kind = strcmp(PQgetvalue(res, i, 0), "family") == 0 ? TS_REVOKED_FAMILY : TS_REVOKED_JTI;
        if (ts_revoked_add(set, kind, PQgetvalue(res, i, 1), strtoll(PQgetvalue(res, i, 2), NULL, 10)) != 0)
            ret = -1;
        double at = strtod(PQgetvalue(res, i, 3), NULL);
        if (at > *watermark)
            *watermark = at;
    }
    PQclear(res);
    if (ret != 0)
        snprintf(err, errlen, "loading revocations: out of memory");
    return ret;
}

int ts_store_housekeeping(ts_pgconn_t *db, char *err, size_t errlen)
{
    /* rows about tokens that have expired name nothing that could still be used; a spent code or refresh
     * token is kept until its own expiry, so that a replay is still recognized (and revokes its family) */
    return ts_store_exec(db,
                         "DELETE FROM revoked_tokens WHERE expires_at < now() - interval '1 hour'; "
                         "DELETE FROM used_assertions WHERE expires_at < now() - interval '1 hour'; "
                         "DELETE FROM interactions WHERE expires_at < now() - interval '1 hour'; "
                         "DELETE FROM authorization_codes WHERE expires_at < now() - interval '1 hour'; "
                         "DELETE FROM refresh_tokens WHERE expires_at < now() - interval '1 hour'; "
                         "DELETE FROM sessions WHERE expires_at < now() - interval '1 hour' "
                         "OR ended_at < now() - interval '1 hour'; "
                         /* a rotated-out secret past its grace period: no node keeps it (the directory loads only live
                          * ones), so its removal is quiet rather than a reload of every node's directory */
                         "SELECT set_config('tessera.quiet', 'on', true); "
                         "DELETE FROM client_secrets WHERE expires_at < now() - interval '1 hour'",
                         err, errlen);
}
