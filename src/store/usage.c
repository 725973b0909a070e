/* clients.last_used_at, written by the sync thread from the marks the loop threads leave in the node's usage
 * set (include/tessera/usage.h), so that authenticating a client never waits for a write. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>
#include "tessera/store.h"

#define BATCH 1024 /* primary keys per UPDATE */

static void pg_error(PGconn *db, const char *what, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: %s", what, PQerrorMessage(db));
    err[strcspn(err, "\n")] = '\0';
}

/* "{1,2,3}", the text form of a bigint[]; malloc'd, NULL when out of memory */
static char *pk_array(const int64_t *pks, size_t n)
{
    size_t cap = n * 21 + 3, off = 0;
    char *s = malloc(cap);

    if (s == NULL)
        return NULL;
    s[off++] = '{';
    for (size_t i = 0; i < n; ++i)
        off += (size_t)snprintf(s + off, cap - off, "%s%lld", i != 0 ? "," : "", (long long)pks[i]);
    s[off++] = '}';
    s[off] = '\0';
    return s;
}

/* one transaction: tessera.quiet keeps the change trigger from making every node reload its directory
 * (sql/004_quiet_changes.sql); last_used_at is not part of any snapshot */
static int write_batch(PGconn *db, const int64_t *pks, size_t n, char *err, size_t errlen)
{
    char *array = pk_array(pks, n);
    const char *params[1] = {array};
    PGresult *res;
    int ok;

    if (array == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (ts_store_exec(db, "BEGIN", err, errlen) != 0) {
        free(array);
        return -1;
    }
    res = PQexec(db, "SELECT set_config('tessera.quiet', 'on', true)");
    ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    PQclear(res);
    if (ok) {
        res = PQexecParams(db, "UPDATE clients SET last_used_at = now() WHERE id = ANY($1::bigint[])", 1, NULL, params, NULL, NULL,
                           0);
        ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        PQclear(res);
    }
    free(array);
    if (!ok) {
        pg_error(db, "updating clients.last_used_at", err, errlen);
        PQclear(PQexec(db, "ROLLBACK"));
        return -1;
    }
    return ts_store_exec(db, "COMMIT", err, errlen);
}

int ts_store_clients_mark_used(ts_pgconn_t *db, ts_usage_t *usage, char *err, size_t errlen)
{
    int64_t pks[BATCH];
    size_t n;

    do {
        if ((n = ts_usage_take(usage, pks, BATCH)) == 0)
            break;
        if (write_batch(db, pks, n, err, errlen) != 0) {
            for (size_t i = 0; i < n; ++i)
                ts_usage_note(usage, pks[i]); /* the next flush tries again */
            return -1;
        }
    } while (n == BATCH);
    return 0;
}
