/* The clients and client_secrets tables. Blocking libpq, for the CLI. Secrets arrive here already
 * hashed; nothing in this file returns a hash except ts_store_client_secret_hashes_for_verify. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>
#include "tessera/records.h"

#define CLIENT_COLUMNS                                                                                                             \
    "c.client_id, c.client_name, c.token_endpoint_auth_method, to_json(c.grant_types), to_json(c.redirect_uris), "                \
    "to_json(c.post_logout_redirect_uris), to_json(c.scopes), to_json(c.default_scopes), c.jwks, c.skip_consent, "                 \
    "c.require_pkce, c.id_token_signed_response_alg, c.access_token_ttl, c.may_introspect, c.status, "                             \
    "(SELECT coalesce(json_agg(r.name ORDER BY r.name), '[]') FROM client_roles cr JOIN roles r ON r.id = cr.role_id "            \
    "WHERE cr.client_pk = c.id), " TS_STORE_ISO8601("c.created_at") ", " TS_STORE_ISO8601("c.updated_at") ", "                   \
    TS_STORE_ISO8601("c.last_used_at") ", "                                                                                        \
    "(SELECT coalesce(json_agg(json_build_object('created_at', " TS_STORE_ISO8601("s.created_at") ", 'expires_at', "               \
    TS_STORE_ISO8601("s.expires_at") ") ORDER BY s.created_at, s.id), '[]') FROM client_secrets s "                               \
    "WHERE s.client_pk = c.id AND (s.expires_at IS NULL OR s.expires_at > now()))"

/* the metadata parameters $2.. of INSERT and UPDATE, in this order */
#define CLIENT_VALUES                                                                                                              \
    "$2, coalesce($3, 'client_secret_basic'), ARRAY(SELECT jsonb_array_elements_text($4::jsonb)), "                               \
    "ARRAY(SELECT jsonb_array_elements_text($5::jsonb)), ARRAY(SELECT jsonb_array_elements_text($6::jsonb)), "                     \
    "ARRAY(SELECT jsonb_array_elements_text($7::jsonb)), ARRAY(SELECT jsonb_array_elements_text($8::jsonb)), $9::jsonb, "          \
    "$10::boolean, $11::boolean, coalesce($12, 'RS256'), $13::integer, $14::boolean, coalesce($15, 'active')"
#define NUM_CLIENT_PARAMS 15

static void what_client(char *what, size_t cap, const char *client_id)
{
    snprintf(what, cap, "client '%.128s'", client_id);
}

static const char *value_or_null(PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static int is_true(PGresult *res, int row, int col)
{
    return !PQgetisnull(res, row, col) && PQgetvalue(res, row, col)[0] == 't';
}

void ts_client_record_dispose(ts_client_record_t *c)
{
    free(c->client_id);
    free(c->client_name);
    free(c->token_endpoint_auth_method);
    ts_strlist_dispose(&c->grant_types);
    ts_strlist_dispose(&c->redirect_uris);
    ts_strlist_dispose(&c->post_logout_redirect_uris);
    ts_strlist_dispose(&c->scopes);
    ts_strlist_dispose(&c->default_scopes);
    json_decref(c->jwks);
    free(c->id_token_signed_response_alg);
    free(c->status);
    ts_strlist_dispose(&c->roles);
    free(c->created_at);
    free(c->updated_at);
    free(c->last_used_at);
    for (size_t i = 0; i < c->num_secrets; ++i) {
        free(c->secrets[i].created_at);
        free(c->secrets[i].expires_at);
    }
    free(c->secrets);
    memset(c, 0, sizeof(*c));
}

static int secrets_from_json(ts_client_record_t *c, const char *text)
{
    json_t *arr = json_loads(text, 0, NULL), *item;
    size_t i;
    int oom = 0;

    if (!json_is_array(arr))
        goto fail;
    if (json_array_size(arr) > 0 && (c->secrets = calloc(json_array_size(arr), sizeof(*c->secrets))) == NULL)
        goto fail;
    json_array_foreach(arr, i, item) {
        c->secrets[i].created_at = ts_store__dup(json_string_value(json_object_get(item, "created_at")), &oom);
        c->secrets[i].expires_at = ts_store__dup(json_string_value(json_object_get(item, "expires_at")), &oom);
        c->num_secrets = i + 1;
    }
    json_decref(arr);
    return oom ? -1 : 0;
fail:
    json_decref(arr);
    return -1;
}

/* one row into *out, a ts_client_record_t (the shape ts_store_kind_t asks for) */
static int client_from_row(PGresult *res, int row, void *out)
{
    ts_client_record_t *c = out;
    int oom = 0;
    const char *v;

    memset(c, 0, sizeof(*c));
    c->client_id = ts_store__dup(value_or_null(res, row, 0), &oom);
    c->client_name = ts_store__dup(value_or_null(res, row, 1), &oom);
    c->token_endpoint_auth_method = ts_store__dup(value_or_null(res, row, 2), &oom);
    if (ts_store__strlist_parse(&c->grant_types, value_or_null(res, row, 3)) != 0 ||
        ts_store__strlist_parse(&c->redirect_uris, value_or_null(res, row, 4)) != 0 ||
        ts_store__strlist_parse(&c->post_logout_redirect_uris, value_or_null(res, row, 5)) != 0 ||
        ts_store__strlist_parse(&c->scopes, value_or_null(res, row, 6)) != 0 ||
        ts_store__strlist_parse(&c->default_scopes, value_or_null(res, row, 7)) != 0)
        oom = 1;
    if ((v = value_or_null(res, row, 8)) != NULL && (c->jwks = json_loads(v, 0, NULL)) == NULL)
        oom = 1;
    c->skip_consent = is_true(res, row, 9);
    c->require_pkce = is_true(res, row, 10);
    c->id_token_signed_response_alg = ts_store__dup(value_or_null(res, row, 11), &oom);
    /* Flawfinder: ignore - NOLINTNEXTLINE(cert-err34-c): an integer column (CHECK 30..86400), so always a valid number */
    c->access_token_ttl = (v = value_or_null(res, row, 12)) != NULL ? atoi(v) : 0;
    c->may_introspect = is_true(res, row, 13);
    c->status = ts_store__dup(value_or_null(res, row, 14), &oom);
    if (ts_store__strlist_parse(&c->roles, value_or_null(res, row, 15)) != 0)
        oom = 1;
    c->created_at = ts_store__dup(value_or_null(res, row, 16), &oom);
    c->updated_at = ts_store__dup(value_or_null(res, row, 17), &oom);
    c->last_used_at = ts_store__dup(value_or_null(res, row, 18), &oom);
    if (secrets_from_json(c, PQgetvalue(res, row, 19)) != 0)
        oom = 1;
    if (oom) {
        ts_client_record_dispose(c);
        return -1;
    }
    return 0;
}

/* The text parameters $1..$15 for c; the malloc'd ones are listed in owned (freed by free_params). */
typedef struct st_client_params_t {
    const char *values[NUM_CLIENT_PARAMS];
    char *owned[6];
    char ttl[16];
} client_params_t;

static void free_params(client_params_t *p)
{
    for (size_t i = 0; i < sizeof(p->owned) / sizeof(p->owned[0]); ++i)
        free(p->owned[i]);
}

static int make_params(const ts_client_record_t *c, client_params_t *p)
{
    memset(p, 0, sizeof(*p));
    p->owned[0] = ts_store__strlist_json(&c->grant_types);
    p->owned[1] = ts_store__strlist_json(&c->redirect_uris);
    p->owned[2] = ts_store__strlist_json(&c->post_logout_redirect_uris);
    p->owned[3] = ts_store__strlist_json(&c->scopes);
    p->owned[4] = ts_store__strlist_json(&c->default_scopes);
    if (c->jwks != NULL && (p->owned[5] = json_dumps(c->jwks, JSON_COMPACT)) == NULL)
        goto oom;
    for (int i = 0; i < 5; ++i)
        if (p->owned[i] == NULL)
            goto oom;
    snprintf(p->ttl, sizeof(p->ttl), "%d", c->access_token_ttl);
    p->values[0] = c->client_id;
    p->values[1] = c->client_name;
    p->values[2] = c->token_endpoint_auth_method;
    for (int i = 0; i < 5; ++i)
        p->values[3 + i] = p->owned[i];
    p->values[8] = p->owned[5];
    p->values[9] = c->skip_consent ? "t" : "f";
    p->values[10] = c->require_pkce ? "t" : "f";
    p->values[11] = c->id_token_signed_response_alg;
    p->values[12] = c->access_token_ttl != 0 ? p->ttl : NULL;
    p->values[13] = c->may_introspect ? "t" : "f";
    p->values[14] = c->status;
    return 0;
oom:
    free_params(p);
    return -1;
}

static int insert_secret(PGconn *db, const char *client_id, const char *secret_hash, const char *what, char *err, size_t errlen)
{
    const char *params[2] = {client_id, secret_hash};
    PGresult *res = ts_store__query(db,
                                    "INSERT INTO client_secrets (client_pk, secret_hash) "
                                    "SELECT id, $2 FROM clients WHERE client_id = $1",
                                    2, params, what, err, errlen);
    int ret;

    if (res == NULL)
        return -1;
    /* Flawfinder: ignore - NOLINTNEXTLINE(cert-err34-c): libpq's row count: digits, or "" (0) */
    ret = atoi(PQcmdTuples(res)) == 1 ? 0 : TS_STORE_NOT_FOUND;
    if (ret == TS_STORE_NOT_FOUND)
        snprintf(err, errlen, "%s not found", what);
    PQclear(res);
    return ret;
}

int ts_store_client_create(ts_pgconn_t *db, const ts_client_record_t *c, const char *secret_hash, char *err, size_t errlen)
{
    char what[160];
    client_params_t p;
    PGresult *res;
    int nested, ret = -1;

    what_client(what, sizeof(what), c->client_id);
    if (make_params(c, &p) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (ts_store__begin(db, &nested, err, errlen) != 0) {
        free_params(&p);
        return -1;
    }
    res = ts_store__query(db,
                          "INSERT INTO clients (client_id, client_name, token_endpoint_auth_method, grant_types, "
                          "redirect_uris, post_logout_redirect_uris, scopes, default_scopes, jwks, skip_consent, require_pkce, "
                          "id_token_signed_response_alg, access_token_ttl, may_introspect, status) VALUES ($1, " CLIENT_VALUES
                          ")",
                          NUM_CLIENT_PARAMS, p.values, what, err, errlen);
    free_params(&p);
    if (res == NULL)
        goto exit;
    PQclear(res);
    if (secret_hash != NULL && insert_secret(db, c->client_id, secret_hash, what, err, errlen) != 0)
        goto exit;
    if (c->roles.len != 0 && ts_store_client_set_roles(db, c->client_id, &c->roles, err, errlen) != 0)
        goto exit;
    ret = 0;
exit:
    return ts_store__end(db, nested, ret, err, errlen);
}

static void client_dispose(void *c)
{
    ts_client_record_dispose(c);
}

static const ts_store_kind_t client_kind = {sizeof(ts_client_record_t), client_from_row, client_dispose};

int ts_store_client_get(ts_pgconn_t *db, const char *client_id, ts_client_record_t *out, char *err, size_t errlen)
{
    char what[160];
    const char *params[1] = {client_id};

    what_client(what, sizeof(what), client_id);
    return ts_store__get(db, &client_kind, "SELECT " CLIENT_COLUMNS " FROM clients c WHERE c.client_id = $1", 1, params, what, out,
                         err, errlen);
}

int ts_store_client_list(ts_pgconn_t *db, ts_client_record_t **out, size_t *n, char *err, size_t errlen)
{
    void *items;
    int ret = ts_store__list(db, &client_kind, "SELECT " CLIENT_COLUMNS " FROM clients c ORDER BY c.client_id", "clients", &items, n,
                             err, errlen);
    *out = items;
    return ret;
}

int ts_store_client_update(ts_pgconn_t *db, const ts_client_record_t *c, char *err, size_t errlen)
{
    char what[160];
    client_params_t p;
    PGresult *res;
    int nested, ret = -1;

    what_client(what, sizeof(what), c->client_id);
    if (make_params(c, &p) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (ts_store__begin(db, &nested, err, errlen) != 0) {
        free_params(&p);
        return -1;
    }
    res = ts_store__query(db,
                          "UPDATE clients SET (client_name, token_endpoint_auth_method, grant_types, redirect_uris, "
                          "post_logout_redirect_uris, scopes, default_scopes, jwks, skip_consent, require_pkce, "
                          "id_token_signed_response_alg, access_token_ttl, may_introspect, status) = (" CLIENT_VALUES
                          "), updated_at = now() WHERE client_id = $1",
                          NUM_CLIENT_PARAMS, p.values, what, err, errlen);
    free_params(&p);
    if (res == NULL)
        goto exit;
    if (atoi(PQcmdTuples(res)) == 0) { /* Flawfinder: ignore - NOLINT(cert-err34-c): libpq's row count: digits, or "" (0) */
        snprintf(err, errlen, "%s not found", what);
        ret = TS_STORE_NOT_FOUND;
        PQclear(res);
        goto exit;
    }
    PQclear(res);
    if (ts_store_client_set_roles(db, c->client_id, &c->roles, err, errlen) != 0)
        goto exit;
    ret = 0;
exit:
    return ts_store__end(db, nested, ret, err, errlen);
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

int ts_store_client_delete(ts_pgconn_t *db, const char *client_id, char *err, size_t errlen)
{
    char what[160];
    const char *params[1] = {client_id};

    what_client(what, sizeof(what), client_id);
    return touched(ts_store__query(db, "DELETE FROM clients WHERE client_id = $1", 1, params, what, err, errlen), what, err,
                   errlen);
}

int ts_store_client_set_status(ts_pgconn_t *db, const char *client_id, const char *status, char *err, size_t errlen)
{
    char what[160];
    const char *params[2] = {client_id, status};

    what_client(what, sizeof(what), client_id);
    return touched(ts_store__query(db, "UPDATE clients SET status = $2, updated_at = now() WHERE client_id = $1", 2, params, what,
                                   err, errlen),
                   what, err, errlen);
}

int ts_store_client_secret_add(ts_pgconn_t *db, const char *client_id, const char *secret_hash, char *err, size_t errlen)
{
    char what[160];

    what_client(what, sizeof(what), client_id);
    return insert_secret(db, client_id, secret_hash, what, err, errlen);
}

int ts_store_client_secret_rotate(ts_pgconn_t *db, const char *client_id, const char *secret_hash, unsigned grace_seconds,
                                  char *err, size_t errlen)
{
    char what[160], grace[16];
    const char *params[3] = {client_id, secret_hash, grace};

    what_client(what, sizeof(what), client_id);
    snprintf(grace, sizeof(grace), "%u", grace_seconds);
    /* One statement, so the new secret and the old ones' deadline land together. The UPDATE cannot see the
     * row the INSERT adds: both run on the statement's snapshot. */
    return touched(ts_store__query(db,
                                   "WITH c AS (SELECT id FROM clients WHERE client_id = $1 FOR UPDATE), "
                                   "old AS (UPDATE client_secrets SET expires_at = now() + $3::integer * interval '1 second' "
                                   "WHERE client_pk = (SELECT id FROM c) AND (expires_at IS NULL OR "
                                   "expires_at > now() + $3::integer * interval '1 second') RETURNING id) "
                                   "INSERT INTO client_secrets (client_pk, secret_hash) SELECT id, $2 FROM c",
                                   3, params, what, err, errlen),
                   what, err, errlen);
}

int ts_store_client_secret_replace(ts_pgconn_t *db, const char *client_id, const char *secret_hash, char *err, size_t errlen)
{
    char what[160];
    const char *params[2] = {client_id, secret_hash};
    PGresult *res;
    int ret;

    what_client(what, sizeof(what), client_id);
    if (secret_hash == NULL) {
        /* the client may have had no secret at all: only its absence is an error */
        ts_client_record_t probe;
        if ((ret = ts_store_client_get(db, client_id, &probe, err, errlen)) != 0)
            return ret;
        ts_client_record_dispose(&probe);
        res = ts_store__query(db, "DELETE FROM client_secrets WHERE client_pk = (SELECT id FROM clients WHERE client_id = $1)",
                              1, params, what, err, errlen);
        PQclear(res);
        return res != NULL ? 0 : -1;
    }
    return touched(ts_store__query(db,
                                   "WITH c AS (SELECT id FROM clients WHERE client_id = $1 FOR UPDATE), "
                                   "gone AS (DELETE FROM client_secrets WHERE client_pk = (SELECT id FROM c)) "
                                   "INSERT INTO client_secrets (client_pk, secret_hash) SELECT id, $2 FROM c",
                                   2, params, what, err, errlen),
                   what, err, errlen);
}

int ts_store_client_secret_hashes_for_verify(ts_pgconn_t *db, const char *client_id, ts_strlist_t *out, char *err,
                                             size_t errlen)
{
    char what[160];
    const char *params[1] = {client_id};
    PGresult *res;

    what_client(what, sizeof(what), client_id);
    if ((res = ts_store__query(db,
                               "SELECT s.secret_hash FROM client_secrets s JOIN clients c ON c.id = s.client_pk "
                               "WHERE c.client_id = $1 AND (s.expires_at IS NULL OR s.expires_at > now()) ORDER BY s.id",
                               1, params, what, err, errlen)) == NULL)
        return -1;
    for (int i = 0; i < PQntuples(res); ++i) {
        if (ts_strlist_push(out, PQgetvalue(res, i, 0)) != 0) {
            ts_strlist_dispose(out);
            PQclear(res);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    PQclear(res);
    return 0;
}
