/* The admin API's connection and its paginated lists. Blocking libpq, for the admin thread (one connection,
 * one request at a time) and the CLI. Each list is read by keyset: "the next limit rows after this key", in
 * the C collation so that the order and the comparison agree whatever the database's locale. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>
#include "tessera/admin_store.h"
#include "tessera/records.h"

int ts_store_admin_connected(ts_pgconn_t *db)
{
    return db != NULL && PQstatus(db) == CONNECTION_OK;
}

int ts_store_admin_ensure(ts_pgconn_t **db, const ts_config_t *conf, char *err, size_t errlen)
{
    char sql[64];

    if (*db != NULL && PQstatus(*db) == CONNECTION_OK && PQtransactionStatus(*db) == PQTRANS_IDLE)
        return 0;
    if (*db != NULL) {
        ts_store_close(*db); /* broken, or left inside a transaction by a failure: start afresh */
        *db = NULL;
    }
    if ((*db = ts_store_connect(conf, "tessera-admin", err, errlen)) == NULL)
        return -1;
    /* the admin thread waits for every statement: none may hold it longer than a query of the loops may */
    snprintf(sql, sizeof(sql), "SET statement_timeout = %u", conf->db_query_timeout * 1000u);
    if (ts_store_exec(*db, sql, err, errlen) != 0) {
        ts_store_close(*db);
        *db = NULL;
        return -1;
    }
    return 0;
}

/* $1: the key after which the page starts (NULL: the first page); $2: how many rows (limit + 1, so that a
 * last extra row says whether more follow). Column 0 is the row's key, column 1 its summary as JSON. */
static const char *const page_sql[] = {
    [TS_ADMIN_LIST_CLIENTS] =
        "SELECT c.client_id, json_build_object('client_id', c.client_id, 'client_name', c.client_name, 'status', c.status, "
        "'token_endpoint_auth_method', c.token_endpoint_auth_method, 'grant_types', to_json(c.grant_types), 'roles', "
        "(SELECT coalesce(json_agg(r.name ORDER BY r.name), '[]') FROM client_roles cr JOIN roles r ON r.id = cr.role_id "
        "WHERE cr.client_pk = c.id)) FROM clients c "
        "WHERE $1::text IS NULL OR c.client_id COLLATE \"C\" > $1::text COLLATE \"C\" "
        "ORDER BY c.client_id COLLATE \"C\" LIMIT $2::integer",
    [TS_ADMIN_LIST_USERS] =
        "SELECT lower(u.username), json_build_object('subject', u.subject, 'username', u.username, 'email', u.email, "
        "'name', u.name, 'status', u.status, 'roles', "
        "(SELECT coalesce(json_agg(r.name ORDER BY r.name), '[]') FROM user_roles ur JOIN roles r ON r.id = ur.role_id "
        "WHERE ur.user_id = u.id)) FROM users u "
        "WHERE $1::text IS NULL OR lower(u.username) COLLATE \"C\" > lower($1::text) COLLATE \"C\" "
        "ORDER BY lower(u.username) COLLATE \"C\" LIMIT $2::integer",
    [TS_ADMIN_LIST_ROLES] =
        "SELECT r.name, json_build_object('name', r.name, 'description', r.description, 'scopes', to_json(r.scopes)) "
        "FROM roles r WHERE $1::text IS NULL OR r.name COLLATE \"C\" > $1::text COLLATE \"C\" "
        "ORDER BY r.name COLLATE \"C\" LIMIT $2::integer",
    [TS_ADMIN_LIST_AUDIT] = "SELECT e.id::text, json_build_object('id', e.id, 'at', " TS_STORE_ISO8601(
        "e.at") ", 'actor', e.actor, 'action', "
                "e.action, 'target', e.target, 'outcome', e.outcome, 'source', host(e.source), 'details', e.details) "
                "FROM audit_events e WHERE $1::bigint IS NULL OR e.id < $1::bigint ORDER BY e.id DESC LIMIT $2::integer",
};

json_t *ts_store_admin_page(ts_pgconn_t *db, ts_admin_list_t list, const char *after, unsigned limit, char **next, char *err,
                            size_t errlen)
{
    char count[16];
    const char *params[2] = {after, count};
    PGresult *res;
    json_t *items;
    int rows;

    *next = NULL;
    if ((unsigned)list >= sizeof(page_sql) / sizeof(page_sql[0]) || limit == 0 || limit > TS_ADMIN_PAGE_MAX) {
        snprintf(err, errlen, "page: invalid list or limit");
        return NULL;
    }
    snprintf(count, sizeof(count), "%u", limit + 1);
    if ((res = ts_store__query(db, page_sql[list], 2, params, "list", err, errlen)) == NULL)
        return NULL;
    rows = PQntuples(res);
    if ((items = json_array()) == NULL)
        goto oom;
    for (int i = 0; i < rows && (unsigned)i < limit; ++i) {
        json_t *item = json_loads(PQgetvalue(res, i, 1), 0, NULL);
        if (item == NULL || json_array_append_new(items, item) != 0)
            goto oom;
    }
    if ((unsigned)rows > limit && (*next = strdup(PQgetvalue(res, (int)limit - 1, 0))) == NULL)
        goto oom;
    PQclear(res);
    return items;
oom:
    json_decref(items);
    PQclear(res);
    snprintf(err, errlen, "out of memory");
    return NULL;
}
