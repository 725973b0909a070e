/* The users table. Blocking libpq, for the CLI. Usernames match without regard to case, as the unique
 * index on lower(username) does; passwords arrive here already hashed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>
#include "tessera/records.h"

#define USER_COLUMNS                                                                                                               \
    "u.subject, u.username, u.email, u.email_verified, u.name, u.status, "                                                         \
    "(SELECT coalesce(json_agg(r.name ORDER BY r.name), '[]') FROM user_roles ur JOIN roles r ON r.id = ur.role_id "              \
    "WHERE ur.user_id = u.id), " TS_STORE_ISO8601("u.created_at") ", " TS_STORE_ISO8601("u.updated_at") ", "                     \
    TS_STORE_ISO8601("u.password_changed_at") ", " TS_STORE_ISO8601("u.last_login_at")

static void what_user(char *what, size_t cap, const char *username)
{
    snprintf(what, cap, "user '%.128s'", username);
}

static const char *value_or_null(PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

void ts_user_record_dispose(ts_user_record_t *u)
{
    free(u->subject);
    free(u->username);
    free(u->email);
    free(u->name);
    free(u->status);
    ts_strlist_dispose(&u->roles);
    free(u->created_at);
    free(u->updated_at);
    free(u->password_changed_at);
    free(u->last_login_at);
    memset(u, 0, sizeof(*u));
}

/* one row into *out, a ts_user_record_t (the shape ts_store_kind_t asks for) */
static int user_from_row(PGresult *res, int row, void *out)
{
    ts_user_record_t *u = out;
    int oom = 0;

    memset(u, 0, sizeof(*u));
    u->subject = ts_store__dup(value_or_null(res, row, 0), &oom);
    u->username = ts_store__dup(value_or_null(res, row, 1), &oom);
    u->email = ts_store__dup(value_or_null(res, row, 2), &oom);
    u->email_verified = PQgetvalue(res, row, 3)[0] == 't';
    u->name = ts_store__dup(value_or_null(res, row, 4), &oom);
    u->status = ts_store__dup(value_or_null(res, row, 5), &oom);
    if (ts_store__strlist_parse(&u->roles, value_or_null(res, row, 6)) != 0)
        oom = 1;
    u->created_at = ts_store__dup(value_or_null(res, row, 7), &oom);
    u->updated_at = ts_store__dup(value_or_null(res, row, 8), &oom);
    u->password_changed_at = ts_store__dup(value_or_null(res, row, 9), &oom);
    u->last_login_at = ts_store__dup(value_or_null(res, row, 10), &oom);
    if (oom) {
        ts_user_record_dispose(u);
        return -1;
    }
    return 0;
}

/* 0 when the statement touched a row, TS_STORE_NOT_FOUND with a message when none */
static int touched(PGresult *res, const char *what, char *err, size_t errlen)
{
    int ret;
    if (res == NULL)
        return -1;
    /* Flawfinder: ignore - NOLINTNEXTLINE(cert-err34-c): libpq's row count: digits, or "" (0) */
    ret = atoi(PQcmdTuples(res)) > 0 ? 0 : TS_STORE_NOT_FOUND;
    if (ret == TS_STORE_NOT_FOUND)
        snprintf(err, errlen, "%s not found", what);
    PQclear(res);
    return ret;
}

int ts_store_user_create(ts_pgconn_t *db, const ts_user_record_t *u, const char *password_hash, char subject[37], char *err,
                         size_t errlen)
{
    char what[160];
    const char *params[6] = {u->username, password_hash, u->email, u->email_verified ? "t" : "f", u->name, u->status};
    PGresult *res;
    int nested, ret = -1;

    what_user(what, sizeof(what), u->username);
    if (ts_store__begin(db, &nested, err, errlen) != 0)
        return -1;
    res = ts_store__query(db,
                          "INSERT INTO users (username, password_hash, email, email_verified, name, status) "
                          "VALUES ($1, $2, $3, $4::boolean, $5, coalesce($6, 'active')) RETURNING subject",
                          6, params, what, err, errlen);
    if (res == NULL)
        goto exit;
    if (subject != NULL)
        snprintf(subject, 37, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (u->roles.len != 0 && ts_store_user_set_roles(db, u->username, &u->roles, err, errlen) != 0)
        goto exit;
    ret = 0;
exit:
    return ts_store__end(db, nested, ret, err, errlen);
}

static void user_dispose(void *u)
{
    ts_user_record_dispose(u);
}

static const ts_store_kind_t user_kind = {sizeof(ts_user_record_t), user_from_row, user_dispose};

int ts_store_user_get(ts_pgconn_t *db, const char *username, ts_user_record_t *out, char *err, size_t errlen)
{
    char what[160];
    const char *params[1] = {username};

    what_user(what, sizeof(what), username);
    return ts_store__get(db, &user_kind, "SELECT " USER_COLUMNS " FROM users u WHERE lower(u.username) = lower($1)", 1, params, what,
                         out, err, errlen);
}

int ts_store_user_list(ts_pgconn_t *db, ts_user_record_t **out, size_t *n, char *err, size_t errlen)
{
    void *items;
    int ret = ts_store__list(db, &user_kind, "SELECT " USER_COLUMNS " FROM users u ORDER BY lower(u.username)", "users", &items, n,
                             err, errlen);
    *out = items;
    return ret;
}

int ts_store_user_update(ts_pgconn_t *db, const ts_user_record_t *u, char *err, size_t errlen)
{
    char what[160];
    const char *params[5] = {u->username, u->email, u->email_verified ? "t" : "f", u->name, u->status};
    PGresult *res;
    int nested, ret = -1;

    what_user(what, sizeof(what), u->username);
    if (ts_store__begin(db, &nested, err, errlen) != 0)
        return -1;
    res = ts_store__query(db,
                          "UPDATE users SET email = $2, email_verified = $3::boolean, name = $4, "
                          "status = coalesce($5, 'active'), updated_at = now() WHERE lower(username) = lower($1)",
                          5, params, what, err, errlen);
    if ((ret = touched(res, what, err, errlen)) != 0)
        goto exit;
    ret = ts_store_user_set_roles(db, u->username, &u->roles, err, errlen);
exit:
    return ts_store__end(db, nested, ret, err, errlen);
}

int ts_store_user_delete(ts_pgconn_t *db, const char *username, char *err, size_t errlen)
{
    char what[160];
    const char *params[1] = {username};

    what_user(what, sizeof(what), username);
    return touched(ts_store__query(db, "DELETE FROM users WHERE lower(username) = lower($1)", 1, params, what, err, errlen), what,
                   err, errlen);
}

int ts_store_user_set_password(ts_pgconn_t *db, const char *username, const char *password_hash, char *err, size_t errlen)
{
    char what[160];
    const char *params[2] = {username, password_hash};

    what_user(what, sizeof(what), username);
    return touched(ts_store__query(db,
                                   "UPDATE users SET password_hash = $2, password_changed_at = now(), updated_at = now() "
                                   "WHERE lower(username) = lower($1)",
                                   2, params, what, err, errlen),
                   what, err, errlen);
}

int ts_store_user_set_status(ts_pgconn_t *db, const char *username, const char *status, char *err, size_t errlen)
{
    char what[160];
    const char *params[2] = {username, status};

    what_user(what, sizeof(what), username);
    return touched(ts_store__query(db, "UPDATE users SET status = $2, updated_at = now() WHERE lower(username) = lower($1)", 2,
                                   params, what, err, errlen),
                   what, err, errlen);
}

int ts_store_user_password_hash_for_verify(ts_pgconn_t *db, const char *username, char *out, size_t cap, char *err,
                                           size_t errlen)
{
    char what[160];
    const char *params[1] = {username};
    PGresult *res;
    int ret = 0;

    what_user(what, sizeof(what), username);
    if ((res = ts_store__query(db, "SELECT password_hash FROM users WHERE lower(username) = lower($1)", 1, params, what, err,
                               errlen)) == NULL)
        return -1;
    if (PQntuples(res) == 0) {
        snprintf(err, errlen, "%s not found", what);
        ret = TS_STORE_NOT_FOUND;
    } else if ((size_t)PQgetlength(res, 0, 0) >= cap) {
        snprintf(err, errlen, "%s: the stored password hash is longer than expected", what);
        ret = -1;
    } else {
        /* Flawfinder: ignore (next line) - length < cap checked above */
        memcpy(out, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0) + 1);
    }
    PQclear(res);
    return ret;
}
