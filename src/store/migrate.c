/* Applies the embedded migrations: one transaction, one advisory lock, so that two nodes starting
 * together cannot both run them and a failure leaves nothing half-applied. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>
#include "store/migrations.h"
#include "tessera/store.h"

/* an arbitrary constant that names "Tessera schema migration" among advisory locks */
#define MIGRATION_LOCK "7351002"

int ts_store_schema_latest(void)
{
    int latest = 0;
    for (const ts_migration_t *m = ts_migrations; m->name != NULL; ++m)
        latest = m->version;
    return latest;
}

static int current_version(PGconn *db)
{
    PGresult *res = PQexec(db, "SELECT coalesce(max(version), 0) FROM tessera_schema");
    int v = -1;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
        /* Flawfinder: ignore - NOLINTNEXTLINE(cert-err34-c): coalesce(max(integer), 0) is always a number */
        v = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    return v;
}

int ts_store_schema_version(ts_pgconn_t *db)
{
    PGresult *res = PQexec(db, "SELECT to_regclass('tessera_schema') IS NOT NULL");
    int exists = PQresultStatus(res) == PGRES_TUPLES_OK && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return exists ? current_version(db) : 0;
}

static int apply_one(PGconn *db, const ts_migration_t *m, char *err, size_t errlen)
{
    char version[16];
    const char *params[2] = {version, m->name};
    PGresult *res;

    if (ts_store_exec(db, m->sql, err, errlen) != 0) {
        char inner[400];
        snprintf(inner, sizeof(inner), "%s", err);
        snprintf(err, errlen, "migration %s failed: %s", m->name, inner);
        return -1;
    }
    snprintf(version, sizeof(version), "%d", m->version);
    res = PQexecParams(db, "INSERT INTO tessera_schema (version, name) VALUES ($1, $2)", 2, NULL, params, NULL, NULL, 0);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        snprintf(err, errlen, "recording migration %s failed: %s", m->name, PQerrorMessage(db));
    PQclear(res);
    return ok ? 0 : -1;
}

int ts_store_migrate(ts_pgconn_t *db, int *applied, char *err, size_t errlen)
{
    int have;

    *applied = 0;
    if (ts_store_exec(db, "BEGIN", err, errlen) != 0)
        return -1;
    if (ts_store_exec(db, "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ")", err, errlen) != 0 ||
        ts_store_exec(db,
                      "CREATE TABLE IF NOT EXISTS tessera_schema (version integer PRIMARY KEY, name text NOT NULL, "
                      "applied_at timestamptz NOT NULL DEFAULT now())",
                      err, errlen) != 0)
        goto fail;
    if ((have = current_version(db)) < 0) {
        snprintf(err, errlen, "cannot read tessera_schema: %s", PQerrorMessage(db));
        goto fail;
    }
    for (const ts_migration_t *m = ts_migrations; m->name != NULL; ++m) {
        if (m->version <= have)
            continue;
        if (apply_one(db, m, err, errlen) != 0)
            goto fail;
        ++*applied;
    }
    if (ts_store_exec(db, "COMMIT", err, errlen) != 0) {
        *applied = 0;
        return -1;
    }
    return 0;
fail:
    *applied = 0;
    PQclear(PQexec(db, "ROLLBACK"));
    return -1;
}
