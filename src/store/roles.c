/* The roles table and the two assignment tables (user_roles, client_roles), plus the few helpers that
 * clients.c and users.c share with this file. Blocking libpq, for the CLI. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>
#include "tessera/records.h"

/* ---- shared helpers ------------------------------------------------------------------------------ */

void ts_strlist_dispose(ts_strlist_t *l)
{
    for (size_t i = 0; i < l->len; ++i)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->len = 0;
}

static void say(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    /* Flawfinder: ignore (next line) - fmt is checked at each call: the variadic wrapper has a printf format attribute */
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* PostgreSQL's primary message only: the DETAIL lines may quote row values */
static void describe_failure(PGconn *db, PGresult *res, const char *what, char *err, size_t errlen)
{
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

    if (state != NULL && strcmp(state, "23505") == 0) {
        say(err, errlen, "%s already exists", what);
    } else if (state != NULL && strcmp(state, "23514") == 0) {
        say(err, errlen, "%s: a value is out of the range the database allows (%s)", what, primary != NULL ? primary : "check");
    } else if (primary != NULL) {
        say(err, errlen, "%s: %s", what, primary);
    } else {
        say(err, errlen, "%s: %s", what, PQerrorMessage(db));
        err[strcspn(err, "\n")] = '\0';
    }
}

PGresult *ts_store__query(ts_pgconn_t *db, const char *sql, int nparams, const char *const *params, const char *what, char *err,
                          size_t errlen)
{
    PGresult *res = PQexecParams(db, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;

    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return res;
    describe_failure(db, res, what, err, errlen);
    PQclear(res);
    return NULL;
}

int ts_store__get(ts_pgconn_t *db, const ts_store_kind_t *kind, const char *sql, int nparams, const char *const *params,
                  const char *what, void *out, char *err, size_t errlen)
{
    PGresult *res;
    int ret;

    memset(out, 0, kind->size);
    if ((res = ts_store__query(db, sql, nparams, params, what, err, errlen)) == NULL)
        return -1;
    if (PQntuples(res) == 0) {
        say(err, errlen, "%s not found", what);
        ret = TS_STORE_NOT_FOUND;
    } else if ((ret = kind->from_row(res, 0, out)) != 0) {
        say(err, errlen, "out of memory");
    }
    PQclear(res);
    return ret;
}

int ts_store__list(ts_pgconn_t *db, const ts_store_kind_t *kind, const char *sql, const char *what, void **out, size_t *n,
                   char *err, size_t errlen)
{
    PGresult *res;
    char *items = NULL;
    size_t made = 0, rows;

    *out = NULL;
    *n = 0;
    if ((res = ts_store__query(db, sql, 0, NULL, what, err, errlen)) == NULL)
        return -1;
    rows = (size_t)PQntuples(res);
    if (rows > 0 && (items = calloc(rows, kind->size)) == NULL)
        goto oom;
    for (; made < rows; ++made)
        if (kind->from_row(res, (int)made, items + made * kind->size) != 0)
            goto oom;
    PQclear(res);
    *out = items;
    *n = rows;
    return 0;
oom:
    for (size_t i = 0; i < made; ++i)
        kind->dispose(items + i * kind->size);
    free(items);
    PQclear(res);
    say(err, errlen, "out of memory");
    return -1;
}

static int run(PGconn *db, const char *sql, char *err, size_t errlen)
{
    PGresult *res = ts_store__query(db, sql, 0, NULL, "database", err, errlen);
    PQclear(res);
    return res != NULL ? 0 : -1;
}

/* Savepoints with one name nest: RELEASE and ROLLBACK TO act on the newest. */
int ts_store__begin(ts_pgconn_t *db, int *nested, char *err, size_t errlen)
{
    *nested = PQtransactionStatus(db) != PQTRANS_IDLE;
    return run(db, *nested ? "SAVEPOINT ts_store" : "BEGIN", err, errlen);
}

int ts_store__end(ts_pgconn_t *db, int nested, int ret, char *err, size_t errlen)
{
    char ignored[256];

    if (ret == 0) {
        if (run(db, nested ? "RELEASE SAVEPOINT ts_store" : "COMMIT", err, errlen) == 0)
            return 0;
        ret = -1;
    }
    if (nested) {
        run(db, "ROLLBACK TO SAVEPOINT ts_store", ignored, sizeof(ignored));
        run(db, "RELEASE SAVEPOINT ts_store", ignored, sizeof(ignored));
    } else {
        run(db, "ROLLBACK", ignored, sizeof(ignored));
    }
    return ret;
}

char *ts_store__strlist_json(const ts_strlist_t *l)
{
    json_t *arr = json_array();
    char *out = NULL;

    if (arr == NULL)
        return NULL;
    for (size_t i = 0; i < l->len; ++i)
        if (json_array_append_new(arr, json_string(l->items[i])) != 0)
            goto exit;
    out = json_dumps(arr, JSON_COMPACT);
exit:
    json_decref(arr);
    return out;
}

int ts_store__strlist_parse(ts_strlist_t *l, const char *json_text)
{
    json_t *arr, *item;
    size_t i;
    int ret = 0;

    if (json_text == NULL || *json_text == '\0')
        return 0;
    if ((arr = json_loads(json_text, 0, NULL)) == NULL)
        return -1;
    if (json_is_null(arr)) {
        json_decref(arr);
        return 0;
    }
    if (!json_is_array(arr))
        ret = -1;
    json_array_foreach(arr, i, item) {
        if (!json_is_string(item) || ts_strlist_push(l, json_string_value(item)) != 0) {
            ret = -1;
            break;
        }
    }
    json_decref(arr);
    return ret;
}

char *ts_store__dup(const char *s, int *oom)
{
    char *copy;
    if (s == NULL)
        return NULL;
    if ((copy = strdup(s)) == NULL)
        *oom = 1;
    return copy;
}

/* ---- roles --------------------------------------------------------------------------------------- */

#define ROLE_COLUMNS                                                                                                               \
    "name, description, to_json(scopes), " TS_STORE_ISO8601("created_at") ", " TS_STORE_ISO8601("updated_at")

void ts_role_record_dispose(ts_role_record_t *r)
{
    free(r->name);
    free(r->description);
    ts_strlist_dispose(&r->scopes);
    free(r->created_at);
    free(r->updated_at);
    memset(r, 0, sizeof(*r));
}

static const char *value_or_null(PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

/* one row into *out, a ts_role_record_t (the shape ts_store_kind_t asks for) */
static int role_from_row(PGresult *res, int row, void *out)
{
    ts_role_record_t *r = out;
    int oom = 0;

    memset(r, 0, sizeof(*r));
    r->name = ts_store__dup(value_or_null(res, row, 0), &oom);
    r->description = ts_store__dup(value_or_null(res, row, 1), &oom);
    if (ts_store__strlist_parse(&r->scopes, value_or_null(res, row, 2)) != 0)
        oom = 1;
    r->created_at = ts_store__dup(value_or_null(res, row, 3), &oom);
    r->updated_at = ts_store__dup(value_or_null(res, row, 4), &oom);
    if (oom) {
        ts_role_record_dispose(r);
        return -1;
    }
    return 0;
}

static void role_what(char *what, size_t cap, const char *name)
{
    snprintf(what, cap, "role '%.64s'", name);
}

int ts_store_role_create(ts_pgconn_t *db, const ts_role_record_t *r, char *err, size_t errlen)
{
    char what[96], *scopes = ts_store__strlist_json(&r->scopes);
    const char *params[3] = {r->name, r->description, scopes};
    PGresult *res;

    role_what(what, sizeof(what), r->name);
    if (scopes == NULL) {
        say(err, errlen, "out of memory");
        return -1;
    }
    res = ts_store__query(db,
                          "INSERT INTO roles (name, description, scopes) "
                          "VALUES ($1, $2, ARRAY(SELECT jsonb_array_elements_text($3::jsonb)))",
                          3, params, what, err, errlen);
    free(scopes);
    PQclear(res);
    return res != NULL ? 0 : -1;
}

static void role_dispose(void *r)
{
    ts_role_record_dispose(r);
}

static const ts_store_kind_t role_kind = {sizeof(ts_role_record_t), role_from_row, role_dispose};

int ts_store_role_get(ts_pgconn_t *db, const char *name, ts_role_record_t *out, char *err, size_t errlen)
{
    char what[96];
    const char *params[1] = {name};

    role_what(what, sizeof(what), name);
    return ts_store__get(db, &role_kind, "SELECT " ROLE_COLUMNS " FROM roles WHERE name = $1", 1, params, what, out, err, errlen);
}

int ts_store_role_list(ts_pgconn_t *db, ts_role_record_t **out, size_t *n, char *err, size_t errlen)
{
    void *items;
    int ret = ts_store__list(db, &role_kind, "SELECT " ROLE_COLUMNS " FROM roles ORDER BY name", "roles", &items, n, err, errlen);
    *out = items;
    return ret;
}

/* 0 when the statement touched a row, TS_STORE_NOT_FOUND when none, -1 on error */
static int affected(PGresult *res, const char *what, char *err, size_t errlen)
{
    int ret;
    if (res == NULL)
        return -1;
    /* Flawfinder: ignore - NOLINTNEXTLINE(cert-err34-c): libpq's row count: digits, or "" (0) */
    ret = atoi(PQcmdTuples(res)) > 0 || PQntuples(res) > 0 ? 0 : TS_STORE_NOT_FOUND;
    if (ret == TS_STORE_NOT_FOUND)
        say(err, errlen, "%s not found", what);
    PQclear(res);
    return ret;
}

int ts_store_role_update(ts_pgconn_t *db, const ts_role_record_t *r, char *err, size_t errlen)
{
    char what[96], *scopes = ts_store__strlist_json(&r->scopes);
    const char *params[3] = {r->name, r->description, scopes};
    PGresult *res;

    role_what(what, sizeof(what), r->name);
    if (scopes == NULL) {
        say(err, errlen, "out of memory");
        return -1;
    }
    res = ts_store__query(db,
                          "UPDATE roles SET description = $2, scopes = ARRAY(SELECT jsonb_array_elements_text($3::jsonb)), "
                          "updated_at = now() WHERE name = $1",
                          3, params, what, err, errlen);
    free(scopes);
    return affected(res, what, err, errlen);
}

int ts_store_role_delete(ts_pgconn_t *db, const char *name, char *err, size_t errlen)
{
    char what[96];
    const char *params[1] = {name};

    role_what(what, sizeof(what), name);
    return affected(ts_store__query(db, "DELETE FROM roles WHERE name = $1", 1, params, what, err, errlen), what, err, errlen);
}

/* ---- assignments --------------------------------------------------------------------------------- */

/* The first of names that no role has, so that a typo fails instead of silently granting less. */
static int check_roles_exist(PGconn *db, const char *names_json, char *err, size_t errlen)
{
    const char *params[1] = {names_json};
    PGresult *res = ts_store__query(db,
                                    "SELECT n FROM jsonb_array_elements_text($1::jsonb) AS n "
                                    "WHERE NOT EXISTS (SELECT 1 FROM roles WHERE name = n) LIMIT 1",
                                    1, params, "roles", err, errlen);
    int ret = 0;

    if (res == NULL)
        return -1;
    if (PQntuples(res) > 0) {
        say(err, errlen, "unknown role '%.64s'", PQgetvalue(res, 0, 0));
        ret = -1;
    }
    PQclear(res);
    return ret;
}

/* owner_sql locks the owner named $1; del_sql deletes the assignments not in $2 and ins_sql inserts the
 * missing ones, so that assignments which stay keep their granted_at. */
static int set_roles(PGconn *db, const char *owner_sql, const char *del_sql, const char *ins_sql, const char *key,
                     const ts_strlist_t *roles, const char *what, char *err, size_t errlen)
{
    char *names = ts_store__strlist_json(roles);
    const char *params[2] = {key, names};
    PGresult *res = NULL;
    int nested, ret = -1;

    if (names == NULL) {
        say(err, errlen, "out of memory");
        return -1;
    }
    if (ts_store__begin(db, &nested, err, errlen) != 0) {
        free(names);
        return -1;
    }
    if ((res = ts_store__query(db, owner_sql, 1, params, what, err, errlen)) == NULL)
        goto exit;
    if (PQntuples(res) == 0) {
        say(err, errlen, "%s not found", what);
        ret = TS_STORE_NOT_FOUND;
        goto exit;
    }
    PQclear(res);
    res = NULL;
    if (check_roles_exist(db, names, err, errlen) != 0)
        goto exit;
    if ((res = ts_store__query(db, del_sql, 2, params, what, err, errlen)) == NULL)
        goto exit;
    PQclear(res);
    if ((res = ts_store__query(db, ins_sql, 2, params, what, err, errlen)) == NULL)
        goto exit;
    ret = 0;
exit:
    PQclear(res);
    free(names);
    return ts_store__end(db, nested, ret, err, errlen);
}

int ts_store_user_set_roles(ts_pgconn_t *db, const char *username, const ts_strlist_t *roles, char *err, size_t errlen)
{
    char what[160];

    snprintf(what, sizeof(what), "user '%.128s'", username);
    return set_roles(db, "SELECT id FROM users WHERE lower(username) = lower($1) FOR UPDATE",
                     "DELETE FROM user_roles WHERE user_id = (SELECT id FROM users WHERE lower(username) = lower($1)) "
                     "AND role_id NOT IN (SELECT r.id FROM roles r WHERE r.name IN "
                     "(SELECT jsonb_array_elements_text($2::jsonb)))",
                     "INSERT INTO user_roles (user_id, role_id) SELECT u.id, r.id FROM users u, roles r "
                     "WHERE lower(u.username) = lower($1) AND r.name IN (SELECT jsonb_array_elements_text($2::jsonb)) "
                     "ON CONFLICT DO NOTHING",
                     username, roles, what, err, errlen);
}

int ts_store_client_set_roles(ts_pgconn_t *db, const char *client_id, const ts_strlist_t *roles, char *err, size_t errlen)
{
    char what[160];

    snprintf(what, sizeof(what), "client '%.128s'", client_id);
    return set_roles(db, "SELECT id FROM clients WHERE client_id = $1 FOR UPDATE",
                     "DELETE FROM client_roles WHERE client_pk = (SELECT id FROM clients WHERE client_id = $1) "
                     "AND role_id NOT IN (SELECT r.id FROM roles r WHERE r.name IN "
                     "(SELECT jsonb_array_elements_text($2::jsonb)))",
                     "INSERT INTO client_roles (client_pk, role_id) SELECT c.id, r.id FROM clients c, roles r "
                     "WHERE c.client_id = $1 AND r.name IN (SELECT jsonb_array_elements_text($2::jsonb)) "
                     "ON CONFLICT DO NOTHING",
                     client_id, roles, what, err, errlen);
}

/* One statement, so the checks and the change see the same rows: $1 the owner's key, $2 the role. It returns whether
 * the owner and the role exist and how many assignments changed. */
#define ASSIGN_SQL(owner_cte, change_cte)                                                                                          \
    "WITH o AS (" owner_cte "), r AS (SELECT id FROM roles WHERE name = $2), ch AS (" change_cte " RETURNING 1) "                  \
    "SELECT (SELECT count(*) FROM o), (SELECT count(*) FROM r), (SELECT count(*) FROM ch)"
#define USER_OWNER "SELECT id FROM users WHERE lower(username) = lower($1)"
#define CLIENT_OWNER "SELECT id FROM clients WHERE client_id = $1"

int ts_store_role_assign(ts_pgconn_t *db, const char *role, const char *kind, const char *key, int grant, int *changed, char *err,
                         size_t errlen)
{
    static const struct {
        const char *kind, *grant_sql, *revoke_sql;
    } kinds[] = {
        {"user",
         ASSIGN_SQL(USER_OWNER, "INSERT INTO user_roles (user_id, role_id) SELECT o.id, r.id FROM o, r ON CONFLICT DO NOTHING"),
         ASSIGN_SQL(USER_OWNER, "DELETE FROM user_roles WHERE user_id IN (SELECT id FROM o) AND role_id IN (SELECT id FROM r)")},
        {"client",
         ASSIGN_SQL(CLIENT_OWNER,
                    "INSERT INTO client_roles (client_pk, role_id) SELECT o.id, r.id FROM o, r ON CONFLICT DO NOTHING"),
         ASSIGN_SQL(CLIENT_OWNER,
                    "DELETE FROM client_roles WHERE client_pk IN (SELECT id FROM o) AND role_id IN (SELECT id FROM r)")},
    };
    const char *params[2] = {key, role};
    char what[160];
    PGresult *res;
    int ret = -1;

    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); ++i) {
        if (strcmp(kind, kinds[i].kind) != 0)
            continue;
        snprintf(what, sizeof(what), "%s '%.128s'", kind, key);
        if ((res = ts_store__query(db, grant ? kinds[i].grant_sql : kinds[i].revoke_sql, 2, params, what, err, errlen)) == NULL)
            return -1;
        if (strcmp(PQgetvalue(res, 0, 0), "0") == 0) {
            say(err, errlen, "%s not found", what);
            ret = TS_STORE_NOT_FOUND;
        } else if (strcmp(PQgetvalue(res, 0, 1), "0") == 0) {
            role_what(what, sizeof(what), role);
            say(err, errlen, "%s not found", what);
            ret = TS_STORE_NOT_FOUND;
        } else {
            *changed = strcmp(PQgetvalue(res, 0, 2), "0") != 0;
            ret = 0;
        }
        PQclear(res);
        return ret;
    }
    say(err, errlen, "unknown kind of role holder '%.32s'", kind);
    return -1;
}
