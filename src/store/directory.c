/* Loads the directory snapshot: four queries, whatever the number of rows, run by the sync thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>
#include "tessera/directory.h"
#include "tessera/store.h"

typedef struct st_by_pk_t {
    int64_t pk;
    ts_client_t *client;
} by_pk_t;

static int fill_strs(ts_arena_t *a, const char *json_text, ts_strs_t *out)
{
    json_t *arr = json_loads(json_text != NULL ? json_text : "[]", 0, NULL), *v;
    size_t i;
    int ret = 0;

    out->len = 0;
    out->items = NULL;
    if (!json_is_array(arr)) {
        json_decref(arr);
        return -1;
    }
    if (json_array_size(arr) > 0 && (out->items = ts_arena_alloc(a, json_array_size(arr) * sizeof(char *))) == NULL)
        ret = -1;
    /* gcc 12's analyzer, like clang's (NOLINT below), takes the two json_array_size() calls to differ */
#ifndef __clang__
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-null-dereference"
#endif
    json_array_foreach(arr, i, v)
    {
        /* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): items is allocated (or ret set) when the array has elements */
        if (ret != 0 || !json_is_string(v) || (out->items[out->len++] = ts_arena_strdup(a, json_string_value(v))) == NULL) {
            ret = -1;
            break;
        }
    }
#ifndef __clang__
#pragma GCC diagnostic pop
#endif
    json_decref(arr);
    return ret;
}

static PGresult *query(PGconn *db, const char *sql, char *err, size_t errlen)
{
    PGresult *res = PQexec(db, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        char line[400];
        snprintf(err, errlen, "loading the directory: %s", ts_store_first_line(PQerrorMessage(db), line, sizeof(line)));
        PQclear(res);
        return NULL;
    }
    return res;
}

static const char *val(PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static int load_roles(PGconn *db, ts_directory_t *d, char *err, size_t errlen)
{
    PGresult *res = query(db, "SELECT name, array_to_json(scopes)::text FROM roles", err, errlen);
    int ret = 0;
    if (res == NULL)
        return -1;
    for (int i = 0; i < PQntuples(res) && ret == 0; ++i) {
        ts_role_t *r = ts_arena_alloc(&d->arena, sizeof(*r));
        if (r == NULL || (r->name = ts_arena_strdup(&d->arena, val(res, i, 0))) == NULL ||
            fill_strs(&d->arena, val(res, i, 1), &r->scopes) != 0 || ts_strmap_put(&d->roles, r->name, strlen(r->name), r) != 0)
            ret = -1;
    }
    PQclear(res);
    if (ret != 0)
        snprintf(err, errlen, "loading roles: out of memory");
    return ret;
}

/* the registered JWKS of a private_key_jwt client; keys that do not parse are skipped (registration
 * validated them, so that only happens for algorithms a newer version added) */
static int load_jwks(ts_directory_t *d, ts_client_t *c, const char *text)
{
    json_t *jwks = text != NULL ? json_loads(text, 0, NULL) : NULL, *keys = json_object_get(jwks, "keys"), *jwk;
    size_t i;

    if (json_array_size(keys) > 0 && (c->keys = ts_arena_alloc(&d->arena, json_array_size(keys) * sizeof(ts_key_t *))) == NULL) {
        json_decref(jwks);
        return -1;
    }
    json_array_foreach(keys, i, jwk)
    {
        ts_key_t *k = ts_key_import_jwk(jwk);
        if (k != NULL)
            c->keys[c->num_keys++] = k;
    }
    json_decref(jwks);
    return 0;
}

static int grant_bits(ts_arena_t *a, const char *json_text, unsigned *out)
{
    ts_strs_t grants;
    if (fill_strs(a, json_text, &grants) != 0)
        return -1;
    *out = 0;
    for (size_t i = 0; i < grants.len; ++i) {
        if (strcmp(grants.items[i], "authorization_code") == 0)
            *out |= TS_GRANT_AUTHORIZATION_CODE;
        else if (strcmp(grants.items[i], "client_credentials") == 0)
            *out |= TS_GRANT_CLIENT_CREDENTIALS;
        else if (strcmp(grants.items[i], "refresh_token") == 0)
            *out |= TS_GRANT_REFRESH_TOKEN;
    }
    return 0;
}

/* val() is NULL only for SQL NULL, and the columns passed to strtoll()/strcmp() here are NOT NULL or coalesced */
#ifndef __clang__
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-null-argument"
#endif
static int fill_client(ts_directory_t *d, PGresult *res, int i, ts_client_t *c)
{
    ts_arena_t *a = &d->arena;
    c->pk = strtoll(val(res, i, 0), NULL, 10);
    if ((c->client_id = ts_arena_strdup(a, val(res, i, 1))) == NULL)
        return -1;
    c->client_name = ts_arena_strdup(a, val(res, i, 2));
    if (ts_auth_method_parse(val(res, i, 3), &c->auth_method) != 0)
        c->auth_method = TS_AUTH_CLIENT_SECRET_BASIC;
    if (grant_bits(a, val(res, i, 4), &c->grant_types) != 0 || fill_strs(a, val(res, i, 5), &c->scopes) != 0 ||
        fill_strs(a, val(res, i, 6), &c->default_scopes) != 0 || fill_strs(a, val(res, i, 7), &c->redirect_uris) != 0 ||
        fill_strs(a, val(res, i, 8), &c->post_logout_redirect_uris) != 0 || load_jwks(d, c, val(res, i, 9)) != 0 ||
        fill_strs(a, val(res, i, 16), &c->roles) != 0)
        return -1;
    c->skip_consent = strcmp(val(res, i, 10), "t") == 0;
    c->require_pkce = strcmp(val(res, i, 11), "t") == 0;
    c->may_introspect = strcmp(val(res, i, 12), "t") == 0;
    if (ts_jws_alg_parse(val(res, i, 13), &c->id_token_alg) != 0)
        c->id_token_alg = TS_ALG_RS256;
    c->access_token_ttl = (unsigned)strtoul(val(res, i, 14), NULL, 10);
    c->active = strcmp(val(res, i, 15), "active") == 0;
    return 0;
}
#ifndef __clang__
#pragma GCC diagnostic pop
#endif

static int cmp_pk(const void *a, const void *b)
{
    int64_t x = ((const by_pk_t *)a)->pk, y = ((const by_pk_t *)b)->pk;
    return x < y ? -1 : x > y;
}

static int load_secrets(PGconn *db, ts_directory_t *d, by_pk_t *index, size_t n, char *err, size_t errlen)
{
    PGresult *res = query(db,
                          "SELECT client_pk, secret_hash, coalesce(extract(epoch FROM expires_at)::bigint, 0), "
                          "count(*) OVER (PARTITION BY client_pk) FROM client_secrets "
                          "WHERE expires_at IS NULL OR expires_at > now() ORDER BY client_pk, id",
                          err, errlen);
    if (res == NULL)
        return -1;
    for (int i = 0; i < PQntuples(res); ++i) {
        by_pk_t key = {strtoll(val(res, i, 0), NULL, 10), NULL}, *hit = bsearch(&key, index, n, sizeof(*index), cmp_pk);
        if (hit == NULL)
            continue; /* a client created after the clients query ran: the next reload has both */
        ts_client_t *c = hit->client;
        if (c->secrets == NULL &&
            (c->secrets = ts_arena_alloc(&d->arena, (size_t)strtoul(val(res, i, 3), NULL, 10) * sizeof(*c->secrets))) == NULL)
            goto oom;
        ts_client_secret_t *s = &c->secrets[c->num_secrets++];
        if ((s->hash = ts_arena_strdup(&d->arena, val(res, i, 1))) == NULL)
            goto oom;
        s->expires_at = strtoll(val(res, i, 2), NULL, 10);
    }
    PQclear(res);
    return 0;
oom:
    PQclear(res);
    snprintf(err, errlen, "loading client secrets: out of memory");
    return -1;
}

static int load_clients(PGconn *db, ts_directory_t *d, char *err, size_t errlen)
{
    PGresult *res = query(db,
                          "SELECT c.id, c.client_id, c.client_name, c.token_endpoint_auth_method, "
                          "array_to_json(c.grant_types)::text, array_to_json(c.scopes)::text, "
                          "array_to_json(c.default_scopes)::text, array_to_json(c.redirect_uris)::text, "
                          "array_to_json(c.post_logout_redirect_uris)::text, c.jwks::text, c.skip_consent, c.require_pkce, "
                          "c.may_introspect, c.id_token_signed_response_alg, coalesce(c.access_token_ttl, 0), c.status, "
                          "coalesce((SELECT json_agg(r.name ORDER BY r.name) FROM client_roles cr JOIN roles r ON r.id = cr.role_id "
                          "WHERE cr.client_pk = c.id), '[]')::text FROM clients c ORDER BY c.id",
                          err, errlen);
    by_pk_t *index;
    size_t n = 0;
    int ret = -1;

    if (res == NULL)
        return -1;
    if ((index = calloc((size_t)PQntuples(res) + 1, sizeof(*index))) == NULL)
        goto out;
    for (int i = 0; i < PQntuples(res); ++i) {
        ts_client_t *c = ts_arena_alloc(&d->arena, sizeof(*c));
        if (c == NULL || fill_client(d, res, i, c) != 0 || ts_strmap_put(&d->clients, c->client_id, strlen(c->client_id), c) != 0)
            goto out;
        index[n++] = (by_pk_t){c->pk, c};
    }
    ret = load_secrets(db, d, index, n, err, errlen);
out:
    if (ret != 0 && *err == '\0')
        snprintf(err, errlen, "loading clients: out of memory");
    free(index);
    PQclear(res);
    return ret;
}

static int load_users(PGconn *db, ts_directory_t *d, char *err, size_t errlen)
{
    PGresult *res = query(db,
                          "SELECT u.id, u.subject::text, u.username, u.email, u.email_verified, u.name, u.status, "
                          "coalesce((SELECT json_agg(r.name ORDER BY r.name) FROM user_roles ur JOIN roles r ON r.id = ur.role_id "
                          "WHERE ur.user_id = u.id), '[]')::text FROM users u",
                          err, errlen);
    int ret = 0;
    if (res == NULL)
        return -1;
    for (int i = 0; i < PQntuples(res) && ret == 0; ++i) {
        ts_user_t *u = ts_arena_alloc(&d->arena, sizeof(*u));
        if (u == NULL || (u->subject = ts_arena_strdup(&d->arena, val(res, i, 1))) == NULL ||
            (u->username = ts_arena_strdup(&d->arena, val(res, i, 2))) == NULL || fill_strs(&d->arena, val(res, i, 7), &u->roles) != 0) {
            ret = -1;
            break;
        }
        u->id = strtoll(val(res, i, 0), NULL, 10);
        u->email = ts_arena_strdup(&d->arena, val(res, i, 3));
        u->email_verified = strcmp(val(res, i, 4), "t") == 0;
        u->name = ts_arena_strdup(&d->arena, val(res, i, 5));
        u->active = strcmp(val(res, i, 6), "active") == 0;
        if (ts_strmap_put(&d->users, u->subject, strlen(u->subject), u) != 0)
            ret = -1;
    }
    PQclear(res);
    if (ret != 0)
        snprintf(err, errlen, "loading users: out of memory");
    return ret;
}

ts_directory_t *ts_store_directory_load(ts_pgconn_t *db, char *err, size_t errlen)
{
    ts_directory_t *d = ts_directory_create();

    *err = '\0';
    if (d == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    /* one snapshot of the database for all four queries */
    if (ts_store_exec(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err, errlen) != 0)
        goto fail;
    if (load_roles(db, d, err, errlen) != 0 || load_clients(db, d, err, errlen) != 0 || load_users(db, d, err, errlen) != 0) {
        PQclear(PQexec(db, "ROLLBACK"));
        goto fail;
    }
    if (ts_store_exec(db, "COMMIT", err, errlen) != 0)
        goto fail;
    return d;
fail:
    ts_ref_release(&d->super);
    return NULL;
}
