/* `tessera apply FILE.json`: makes the roles, clients and users a file describes exist as described.
 *
 * Declarative and idempotent: applying the same file twice changes nothing the second time. Each object
 * describes its record completely, so a field left out takes its default (for clients, RFC 7591 names and
 * the CLI's defaults: client_secret_basic, client_credentials, PKCE required). Three things are kept when
 * left out, since a file should not undo what an operator did on purpose or have to carry what it cannot
 * know: "status" (so `tessera user disable` sticks), a client's secrets and a user's password. Given, a
 * secret or password replaces the stored one only when it does not verify against it.
 *
 * The whole file is checked before the database is touched; then everything runs in one transaction
 * (roles, then clients, then users), so a failure leaves the database as it was. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "tessera/cli.h"
#include "tessera/oauth_metadata.h"
#include "tessera/records.h"
#include "tessera/errmsg.h"
#include "cli/apply_fields.h"

#define USAGE "usage: tessera apply FILE.json   (FILE may be - for stdin)"
#define FILE_MAX (1024 * 1024)
#define OBJECTS_MAX 10000
#define PASSWORD_MIN 8
#define NAME_MAX_CHARS 200
/* an arbitrary constant that names "Tessera apply" among advisory locks: two applies run one after the other */
#define APPLY_LOCK "7351003"

typedef struct st_want_client_t {
    ts_client_record_t rec;
    const char *secret; /* points into the parsed document, which is wiped at the end */
    int has_status;
} want_client_t;

typedef struct st_want_user_t {
    ts_user_record_t rec;
    const char *password; /* points into the parsed document, which is wiped at the end */
    int has_status;
} want_user_t;

typedef struct st_tally_t {
    unsigned created, updated, unchanged;
} tally_t;

typedef struct st_plan_t {
    json_t *doc;
    ts_role_record_t *roles;
    size_t num_roles;
    want_client_t *clients;
    size_t num_clients;
    want_user_t *users;
    size_t num_users;
    int need_hasher;
    ts_secret_hasher_t hasher;
    json_t *new_secrets; /* client_id -> generated secret, shown once after the commit */
    tally_t roles_tally, clients_tally, users_tally;
} plan_t;

/* ---- parsing the three kinds of object ----------------------------------------------------------- */

static int parse_role(json_t *obj, size_t index, ts_role_record_t *r, char *err, size_t errlen)
{
    static const char *const fields[] = {"name", "description", "scopes", NULL};
    char where[160];
    const char *name, *description, **scopes = NULL;
    size_t nscopes;
    int ret = -1;

    snprintf(where, sizeof(where), "roles[%zu]", index);
    if (ts_apply__check_fields(obj, fields, where, err, errlen) != 0 || ts_apply__get_string(obj, "name", 1, where, &name, err, errlen) != 0)
        return -1;
    if (ts_oauth_check_role_name("name", name, err, errlen) != 0)
        return ts_apply__located(where, err, errlen);
    snprintf(where, sizeof(where), "role '%s' (roles[%zu])", name, index);
    if (ts_apply__get_string(obj, "description", 0, where, &description, err, errlen) != 0 ||
        ts_apply__get_strings(obj, "scopes", TS_SCOPE_TOKENS_MAX, where, &scopes, &nscopes, NULL, err, errlen) != 0)
        return -1;
    if ((description != NULL && ts_oauth_check_text("description", description, TS_ROLE_DESCRIPTION_MAX, err, errlen) != 0) ||
        ts_oauth_check_scope_list("scopes", scopes, nscopes, err, errlen) != 0) {
        ts_apply__located(where, err, errlen);
        goto exit;
    }
    if ((r->name = strdup(name)) == NULL || (description != NULL && (r->description = strdup(description)) == NULL) ||
        ts_apply__push_all(&r->scopes, scopes, nscopes) != 0) {
        ts_fail(err, errlen, "out of memory");
        goto exit;
    }
    ret = 0;
exit:
    free(scopes);
    return ret;
}

static int client_record(const ts_client_metadata_t *md, const json_t *obj, const char *where, want_client_t *w, char *err,
                         size_t errlen)
{
    ts_client_record_t *c = &w->rec;

    if (ts_apply__get_bool(obj, "skip_consent", 0, where, &c->skip_consent, err, errlen) != 0 ||
        ts_apply__get_bool(obj, "may_introspect", 0, where, &c->may_introspect, err, errlen) != 0 ||
        ts_apply__get_role_names(obj, where, &c->roles, err, errlen) != 0 ||
        ts_apply__get_status(obj, where, &c->status, &w->has_status, err, errlen) != 0)
        return -1;
    if ((c->client_id = strdup(md->client_id)) == NULL ||
        (md->client_name != NULL && (c->client_name = strdup(md->client_name)) == NULL) ||
        (c->token_endpoint_auth_method = strdup(md->token_endpoint_auth_method)) == NULL ||
        ts_apply__push_all(&c->grant_types, md->grant_types, md->num_grant_types) != 0 ||
        ts_apply__push_all(&c->redirect_uris, md->redirect_uris, md->num_redirect_uris) != 0 ||
        ts_apply__push_all(&c->post_logout_redirect_uris, md->post_logout_redirect_uris, md->num_post_logout_redirect_uris) != 0 ||
        (md->scope != NULL && ts_strlist_split(&c->scopes, md->scope, ' ') != 0) ||
        (md->default_scope != NULL && ts_strlist_split(&c->default_scopes, md->default_scope, ' ') != 0) ||
        (c->id_token_signed_response_alg = strdup(md->id_token_signed_response_alg != NULL ? md->id_token_signed_response_alg
                                                                                            : "RS256")) == NULL)
        return ts_fail(err, errlen, "out of memory");
    c->jwks = json_incref((json_t *)md->jwks);
    c->require_pkce = md->require_pkce;
    c->access_token_ttl = (int)md->access_token_ttl;
    w->secret = md->client_secret;
    return 0;
}

static int parse_client(json_t *obj, size_t index, want_client_t *w, char *err, size_t errlen)
{
    static const char *const fields[] = {"client_id", "client_name", "client_secret", "redirect_uris", "post_logout_redirect_uris",
                                         "grant_types", "scope", "default_scope", "token_endpoint_auth_method", "jwks",
                                         "skip_consent", "require_pkce", "may_introspect", "access_token_ttl",
                                         "id_token_signed_response_alg", "roles", "status", NULL};
    static const char *const default_grants[] = {"client_credentials"};
    ts_client_metadata_t md = {0};
    const char **grants = NULL, **redirects = NULL, **logouts = NULL;
    const json_t *ttl, *jwks;
    char where[200];
    int grants_given, ret = -1;

    snprintf(where, sizeof(where), "clients[%zu]", index);
    if (ts_apply__check_fields(obj, fields, where, err, errlen) != 0 ||
        ts_apply__get_string(obj, "client_id", 1, where, &md.client_id, err, errlen) != 0)
        return -1;
    if (ts_oauth_check_client_id(md.client_id, err, errlen) != 0)
        return ts_apply__located(where, err, errlen);
    snprintf(where, sizeof(where), "client '%s' (clients[%zu])", md.client_id, index);
    if (ts_apply__get_string(obj, "client_name", 0, where, &md.client_name, err, errlen) != 0 ||
        ts_apply__get_string(obj, "client_secret", 0, where, &md.client_secret, err, errlen) != 0 ||
        ts_apply__get_string(obj, "token_endpoint_auth_method", 0, where, &md.token_endpoint_auth_method, err, errlen) != 0 ||
        ts_apply__get_string(obj, "scope", 0, where, &md.scope, err, errlen) != 0 ||
        ts_apply__get_string(obj, "default_scope", 0, where, &md.default_scope, err, errlen) != 0 ||
        ts_apply__get_string(obj, "id_token_signed_response_alg", 0, where, &md.id_token_signed_response_alg, err, errlen) != 0 ||
        ts_apply__get_bool(obj, "require_pkce", 1, where, &md.require_pkce, err, errlen) != 0 ||
        ts_apply__get_strings(obj, "grant_types", 8, where, &grants, &md.num_grant_types, &grants_given, err, errlen) != 0 ||
        ts_apply__get_strings(obj, "redirect_uris", TS_REDIRECT_URIS_MAX, where, &redirects, &md.num_redirect_uris, NULL, err, errlen) !=
            0 ||
        ts_apply__get_strings(obj, "post_logout_redirect_uris", TS_REDIRECT_URIS_MAX, where, &logouts, &md.num_post_logout_redirect_uris,
                    NULL, err, errlen) != 0)
        goto exit;
    if (md.token_endpoint_auth_method == NULL)
        md.token_endpoint_auth_method = "client_secret_basic";
    md.grant_types = grants;
    if (!grants_given) {
        md.grant_types = default_grants;
        md.num_grant_types = 1;
    }
    md.redirect_uris = redirects;
    md.post_logout_redirect_uris = logouts;
    if ((jwks = json_object_get(obj, "jwks")) != NULL && !json_is_null(jwks))
        md.jwks = jwks;
    if ((ttl = json_object_get(obj, "access_token_ttl")) != NULL && !json_is_null(ttl)) {
        if (!json_is_integer(ttl) || json_integer_value(ttl) < TS_ACCESS_TOKEN_TTL_MIN ||
            json_integer_value(ttl) > TS_ACCESS_TOKEN_TTL_MAX) {
            ts_fail(err, errlen, "%s: access_token_ttl: expected an integer from %d to %d (seconds), or null for the server default",
                 where, TS_ACCESS_TOKEN_TTL_MIN, TS_ACCESS_TOKEN_TTL_MAX);
            goto exit;
        }
        md.access_token_ttl = (long)json_integer_value(ttl);
    }
    if (ts_oauth_check_client_metadata(&md, err, errlen) != 0) {
        ts_apply__located(where, err, errlen);
        goto exit;
    }
    ret = client_record(&md, obj, where, w, err, errlen);
exit:
    free(grants);
    free(redirects);
    free(logouts);
    return ret;
}

static int parse_user(json_t *obj, size_t index, want_user_t *w, char *err, size_t errlen)
{
    static const char *const fields[] = {"username", "password", "email", "name", "roles", "status", NULL};
    ts_user_record_t *u = &w->rec;
    const char *username, *email, *name;
    char where[200];

    snprintf(where, sizeof(where), "users[%zu]", index);
    if (ts_apply__check_fields(obj, fields, where, err, errlen) != 0 || ts_apply__get_string(obj, "username", 1, where, &username, err, errlen) != 0)
        return -1;
    if (ts_oauth_check_username("username", username, err, errlen) != 0)
        return ts_apply__located(where, err, errlen);
    snprintf(where, sizeof(where), "user '%s' (users[%zu])", username, index);
    if (ts_apply__get_string(obj, "password", 0, where, &w->password, err, errlen) != 0 ||
        ts_apply__get_string(obj, "email", 0, where, &email, err, errlen) != 0 || ts_apply__get_string(obj, "name", 0, where, &name, err, errlen) != 0)
        return -1;
    if (w->password != NULL && (strlen(w->password) < PASSWORD_MIN || strlen(w->password) > TS_PASSWORD_MAX))
        return ts_fail(err, errlen, "%s: password: must have %d to %d characters", where, PASSWORD_MIN, TS_PASSWORD_MAX);
    if ((email != NULL && ts_oauth_check_email("email", email, err, errlen) != 0) ||
        (name != NULL && ts_oauth_check_text("name", name, NAME_MAX_CHARS, err, errlen) != 0))
        return ts_apply__located(where, err, errlen);
    if (ts_apply__get_role_names(obj, where, &u->roles, err, errlen) != 0 ||
        ts_apply__get_status(obj, where, &u->status, &w->has_status, err, errlen) != 0)
        return -1;
    if ((u->username = strdup(username)) == NULL || (email != NULL && (u->email = strdup(email)) == NULL) ||
        (name != NULL && (u->name = strdup(name)) == NULL))
        return ts_fail(err, errlen, "out of memory");
    return 0;
}

/* ---- the whole file ------------------------------------------------------------------------------ */

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int by_name_nocase(const void *a, const void *b)
{
    return strcasecmp(*(const char *const *)a, *(const char *const *)b);
}

/* names[i] is the name of the i-th object; sorting a copy finds a repeated one in n log n */
static int check_unique(const char **names, size_t n, int nocase, const char *what, char *err, size_t errlen)
{
    int (*cmp)(const void *, const void *) = nocase ? by_name_nocase : by_name;

    qsort(names, n, sizeof(*names), cmp);
    for (size_t i = 1; i < n; ++i)
        if (cmp(&names[i - 1], &names[i]) == 0)
            return ts_fail(err, errlen, "%s '%s' is described twice%s", what, names[i], nocase ? " (names ignore case)" : "");
    return 0;
}

static const json_t *get_array(json_t *doc, const char *key, size_t *n, char *err, size_t errlen)
{
    const json_t *v = json_object_get(doc, key);

    *n = 0;
    if (v == NULL)
        return NULL;
    if (!json_is_array(v)) {
        ts_fail(err, errlen, "%s: expected an array", key);
        return v;
    }
    *n = json_array_size(v);
    return v;
}

static int parse_plan(plan_t *p, char *err, size_t errlen)
{
    static const char *const top[] = {"roles", "clients", "users", NULL};
    const json_t *roles, *clients, *users;
    const char **names = NULL;
    size_t i;
    int ret = -1;

    err[0] = '\0';
    if (!json_is_object(p->doc))
        return ts_fail(err, errlen, "the file must hold an object {\"roles\": [...], \"clients\": [...], \"users\": [...]}");
    if (ts_apply__check_fields(p->doc, top, "the file", err, errlen) != 0) {
        char inner[256];
        snprintf(inner, sizeof(inner), "%s", err);
        return ts_fail(err, errlen, "%s (expected only roles, clients and users)", inner);
    }
    roles = get_array(p->doc, "roles", &p->num_roles, err, errlen);
    clients = get_array(p->doc, "clients", &p->num_clients, err, errlen);
    users = get_array(p->doc, "users", &p->num_users, err, errlen);
    if (err[0] != '\0')
        return -1;
    if (p->num_roles + p->num_clients + p->num_users > OBJECTS_MAX)
        return ts_fail(err, errlen, "the file describes more than %d objects", OBJECTS_MAX);
    if ((p->num_roles != 0 && (p->roles = calloc(p->num_roles, sizeof(*p->roles))) == NULL) ||
        (p->num_clients != 0 && (p->clients = calloc(p->num_clients, sizeof(*p->clients))) == NULL) ||
        (p->num_users != 0 && (p->users = calloc(p->num_users, sizeof(*p->users))) == NULL) ||
        (names = calloc(OBJECTS_MAX + 1, sizeof(*names))) == NULL)
        return ts_fail(err, errlen, "out of memory");

    for (i = 0; i < p->num_roles; ++i) {
        if (parse_role(json_array_get(roles, i), i, &p->roles[i], err, errlen) != 0)
            goto exit;
        names[i] = p->roles[i].name;
    }
    if (check_unique(names, p->num_roles, 0, "role", err, errlen) != 0)
        goto exit;
    for (i = 0; i < p->num_clients; ++i) {
        if (parse_client(json_array_get(clients, i), i, &p->clients[i], err, errlen) != 0)
            goto exit;
        names[i] = p->clients[i].rec.client_id;
        if (ts_oauth_auth_method_uses_secret(p->clients[i].rec.token_endpoint_auth_method))
            p->need_hasher = 1;
    }
    if (check_unique(names, p->num_clients, 0, "client", err, errlen) != 0)
        goto exit;
    for (i = 0; i < p->num_users; ++i) {
        if (parse_user(json_array_get(users, i), i, &p->users[i], err, errlen) != 0)
            goto exit;
        names[i] = p->users[i].rec.username;
    }
    if (check_unique(names, p->num_users, 1, "user", err, errlen) != 0)
        goto exit;
    ret = 0;
exit:
    free(names);
    return ret;
}

/* Passwords and secrets sit in the document as jansson strings: wipe them before jansson frees them. */
static void wipe_strings(json_t *arr, const char *key)
{
    size_t i;
    json_t *obj, *v;

    json_array_foreach(arr, i, obj) {
        if ((v = json_object_get(obj, key)) != NULL && json_is_string(v))
            ts_crypto_cleanse((char *)json_string_value(v), json_string_length(v));
    }
}

static void plan_dispose(plan_t *p)
{
    const char *key;
    json_t *v;

    for (size_t i = 0; i < p->num_roles && p->roles != NULL; ++i)
        ts_role_record_dispose(&p->roles[i]);
    for (size_t i = 0; i < p->num_clients && p->clients != NULL; ++i)
        ts_client_record_dispose(&p->clients[i].rec);
    for (size_t i = 0; i < p->num_users && p->users != NULL; ++i)
        ts_user_record_dispose(&p->users[i].rec);
    free(p->roles);
    free(p->clients);
    free(p->users);
    if (p->doc != NULL) {
        wipe_strings(json_object_get(p->doc, "clients"), "client_secret");
        wipe_strings(json_object_get(p->doc, "users"), "password");
        json_decref(p->doc);
    }
    if (p->new_secrets != NULL) {
        json_object_foreach(p->new_secrets, key, v)
            ts_crypto_cleanse((char *)json_string_value(v), json_string_length(v));
        json_decref(p->new_secrets);
    }
    ts_crypto_cleanse(&p->hasher, sizeof(p->hasher));
}

/* ---- applying ------------------------------------------------------------------------------------ */

static int same_str(const char *a, const char *b)
{
    return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

static int same_json(const json_t *a, const json_t *b)
{
    return a == NULL ? b == NULL : b != NULL && json_equal((json_t *)a, (json_t *)b);
}

static int apply_role(ts_pgconn_t *db, const ts_role_record_t *want, tally_t *tally, char *err, size_t errlen)
{
    ts_role_record_t have;
    int ret;

    if ((ret = ts_store_role_get(db, want->name, &have, err, errlen)) == TS_STORE_NOT_FOUND) {
        if (ts_store_role_create(db, want, err, errlen) != 0)
            return -1;
        ++tally->created;
        return 0;
    }
    if (ret != 0)
        return -1;
    if (same_str(want->description, have.description) && ts_strlist_equal(&want->scopes, &have.scopes)) {
        ++tally->unchanged;
    } else if ((ret = ts_store_role_update(db, want, err, errlen)) == 0) {
        ++tally->updated;
    }
    ts_role_record_dispose(&have);
    return ret != 0 ? -1 : 0;
}

static int client_differs(const ts_client_record_t *w, const ts_client_record_t *h)
{
    return !same_str(w->client_name, h->client_name) || !same_str(w->token_endpoint_auth_method, h->token_endpoint_auth_method) ||
           !ts_strlist_equal(&w->grant_types, &h->grant_types) || !ts_strlist_equal(&w->redirect_uris, &h->redirect_uris) ||
           !ts_strlist_equal(&w->post_logout_redirect_uris, &h->post_logout_redirect_uris) ||
           !ts_strlist_equal(&w->scopes, &h->scopes) || !ts_strlist_equal(&w->default_scopes, &h->default_scopes) ||
           !same_json(w->jwks, h->jwks) || w->skip_consent != h->skip_consent || w->require_pkce != h->require_pkce ||
           !same_str(w->id_token_signed_response_alg, h->id_token_signed_response_alg) ||
           w->access_token_ttl != h->access_token_ttl || w->may_introspect != h->may_introspect ||
           !same_str(w->status, h->status) || !ts_strlist_same_set(&w->roles, &h->roles);
}

/* hash of the secret the file gives, or of a new one (remembered in p->new_secrets); 0 or -1 */
static int secret_hash(plan_t *p, const want_client_t *w, char hash[TS_SECRET_HASH_LEN], char *err, size_t errlen)
{
    char secret[TS_HANDLE_MAX];

    if (w->secret != NULL) {
        ts_secret_hash(&p->hasher, w->secret, strlen(w->secret), hash);
    } else {
        if (ts_crypto_handle_new(TS_PREFIX_CLIENT_SECRET, secret, sizeof(secret)) != 0)
            return ts_fail(err, errlen, "cannot generate a client secret");
        ts_secret_hash(&p->hasher, secret, strlen(secret), hash);
        json_object_set_new(p->new_secrets, w->rec.client_id, json_string(secret));
        ts_crypto_cleanse(secret, sizeof(secret));
    }
    return hash[0] != '\0' ? 0 : ts_fail(err, errlen, "cannot hash the client secret");
}

/* Brings the stored secrets in line with the file; *changed is set when it wrote anything. */
static int apply_secret(ts_pgconn_t *db, plan_t *p, const want_client_t *w, const ts_client_record_t *have, int *changed,
                        char *err, size_t errlen)
{
    char hash[TS_SECRET_HASH_LEN];
    ts_strlist_t stored = {0};
    int matches = 0;

    if (!ts_oauth_auth_method_uses_secret(w->rec.token_endpoint_auth_method)) {
        /* a secret left behind would start working again if the method were switched back */
        if (have->num_secrets == 0)
            return 0;
        *changed = 1;
        return ts_store_client_secret_replace(db, w->rec.client_id, NULL, err, errlen) == 0 ? 0 : -1;
    }
    if (w->secret == NULL && have->num_secrets != 0)
        return 0;
    if (w->secret != NULL) {
        if (ts_store_client_secret_hashes_for_verify(db, w->rec.client_id, &stored, err, errlen) != 0)
            return -1;
        for (size_t i = 0; i < stored.len && !matches; ++i)
            matches = ts_secret_verify(&p->hasher, w->secret, strlen(w->secret), stored.items[i]);
        ts_strlist_dispose(&stored);
        if (matches)
            return 0;
    }
    if (secret_hash(p, w, hash, err, errlen) != 0)
        return -1;
    *changed = 1;
    return ts_store_client_secret_replace(db, w->rec.client_id, hash, err, errlen) == 0 ? 0 : -1;
}

static int apply_client(ts_pgconn_t *db, plan_t *p, want_client_t *w, char *err, size_t errlen)
{
    ts_client_record_t have;
    char hash[TS_SECRET_HASH_LEN];
    int ret, changed = 0;

    if ((ret = ts_store_client_get(db, w->rec.client_id, &have, err, errlen)) == TS_STORE_NOT_FOUND) {
        int uses_secret = ts_oauth_auth_method_uses_secret(w->rec.token_endpoint_auth_method);
        if (uses_secret && secret_hash(p, w, hash, err, errlen) != 0)
            return -1;
        if (ts_store_client_create(db, &w->rec, uses_secret ? hash : NULL, err, errlen) != 0)
            return -1;
        ++p->clients_tally.created;
        return 0;
    }
    if (ret != 0)
        return -1;
    if (!w->has_status && (w->rec.status = strdup(have.status)) == NULL) {
        ret = ts_fail(err, errlen, "out of memory");
        goto exit;
    }
    if (client_differs(&w->rec, &have)) {
        if ((ret = ts_store_client_update(db, &w->rec, err, errlen)) != 0)
            goto exit;
        changed = 1;
    }
    if ((ret = apply_secret(db, p, w, &have, &changed, err, errlen)) != 0)
        goto exit;
    if (changed)
        ++p->clients_tally.updated;
    else
        ++p->clients_tally.unchanged;
exit:
    ts_client_record_dispose(&have);
    return ret != 0 ? -1 : 0;
}

static int hash_password(const char *pw, char *hash, size_t cap, char *err, size_t errlen)
{
    if (ts_password_hash(pw, strlen(pw), hash, cap) != 0)
        return ts_fail(err, errlen, "cannot hash the password");
    return 0;
}

static int apply_user(ts_pgconn_t *db, plan_t *p, want_user_t *w, char *err, size_t errlen)
{
    ts_user_record_t have;
    char hash[TS_PASSWORD_HASH_MAX];
    int ret, changed = 0;

    if ((ret = ts_store_user_get(db, w->rec.username, &have, err, errlen)) == TS_STORE_NOT_FOUND) {
        if (w->password == NULL)
            return ts_fail(err, errlen, "password: required to create the user");
        if (hash_password(w->password, hash, sizeof(hash), err, errlen) != 0 ||
            ts_store_user_create(db, &w->rec, hash, NULL, err, errlen) != 0)
            return -1;
        ++p->users_tally.created;
        return 0;
    }
    if (ret != 0)
        return -1;
    /* the file cannot say whether an address was verified: keep what is known */
    w->rec.email_verified = have.email_verified && same_str(w->rec.email, have.email);
    if (!w->has_status && (w->rec.status = strdup(have.status)) == NULL) {
        ret = ts_fail(err, errlen, "out of memory");
        goto exit;
    }
    if (!same_str(w->rec.email, have.email) || !same_str(w->rec.name, have.name) || !same_str(w->rec.status, have.status) ||
        !ts_strlist_same_set(&w->rec.roles, &have.roles)) {
        if ((ret = ts_store_user_update(db, &w->rec, err, errlen)) != 0)
            goto exit;
        changed = 1;
    }
    if (w->password != NULL) {
        if ((ret = ts_store_user_password_hash_for_verify(db, w->rec.username, hash, sizeof(hash), err, errlen)) != 0)
            goto exit;
        if (ts_password_verify(hash, w->password, strlen(w->password)) != 1) {
            if ((ret = hash_password(w->password, hash, sizeof(hash), err, errlen)) != 0 ||
                (ret = ts_store_user_set_password(db, w->rec.username, hash, err, errlen)) != 0)
                goto exit;
            changed = 1;
        }
    }
    if (changed)
        ++p->users_tally.updated;
    else
        ++p->users_tally.unchanged;
exit:
    ts_user_record_dispose(&have);
    return ret != 0 ? -1 : 0;
}

static void rollback(ts_pgconn_t *db)
{
    char ignored[256];
    ts_store_exec(db, "ROLLBACK", ignored, sizeof(ignored));
}

/* Runs every change in one transaction; err names the object that failed. */
static int apply_plan(ts_pgconn_t *db, plan_t *p, char *err, size_t errlen)
{
    char where[200];

    if (ts_store_exec(db, "BEGIN", err, errlen) != 0)
        return -1;
    if (ts_store_exec(db, "SELECT pg_advisory_xact_lock(" APPLY_LOCK ")", err, errlen) != 0)
        goto fail;
    for (size_t i = 0; i < p->num_roles; ++i) {
        if (apply_role(db, &p->roles[i], &p->roles_tally, err, errlen) != 0) {
            snprintf(where, sizeof(where), "role '%s' (roles[%zu])", p->roles[i].name, i);
            goto located_fail;
        }
    }
    /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): no leak: p->clients is the plan's, freed by plan_dispose() */
    for (size_t i = 0; i < p->num_clients; ++i) {
        if (apply_client(db, p, &p->clients[i], err, errlen) != 0) {
            snprintf(where, sizeof(where), "client '%s' (clients[%zu])", p->clients[i].rec.client_id, i);
            goto located_fail;
        }
    }
    for (size_t i = 0; i < p->num_users; ++i) {
        if (apply_user(db, p, &p->users[i], err, errlen) != 0) {
            snprintf(where, sizeof(where), "user '%s' (users[%zu])", p->users[i].rec.username, i);
            goto located_fail;
        }
    }
    if (ts_store_exec(db, "COMMIT", err, errlen) != 0)
        goto fail;
    return 0;
located_fail:
    ts_apply__located(where, err, errlen);
fail:
    rollback(db);
    return -1;
}

/* ---- input and output ---------------------------------------------------------------------------- */

static json_t *load_document(const char *path, char *err, size_t errlen)
{
    /* Flawfinder: ignore (next line) - the file the operator names on the command line, read-only */
    FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    json_error_t jerr;
    json_t *doc = NULL;
    char *buf;
    size_t n;

    if (fp == NULL) {
        ts_fail(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    if ((buf = malloc(FILE_MAX + 1)) == NULL) {
        ts_fail(err, errlen, "out of memory");
        goto exit;
    }
    n = fread(buf, 1, FILE_MAX + 1, fp);
    if (ferror(fp)) {
        ts_fail(err, errlen, "cannot read %s: %s", path, strerror(errno));
    } else if (n > FILE_MAX) {
        ts_fail(err, errlen, "%s is larger than %d bytes", path, FILE_MAX);
    } else if ((doc = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
        ts_fail(err, errlen, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
    }
    /* the buffer holds whatever secrets and passwords the file carries */
    ts_crypto_cleanse(buf, n);
    free(buf);
exit:
    /* fopen() never returns stdin, but gcc 12's analyzer assumes it may and then sees fp left open */
#ifndef __clang__
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-file-leak"
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
#endif
    if (fp != stdin)
        fclose(fp);
#ifndef __clang__
#pragma GCC diagnostic pop
#endif
    return doc;
}

static json_t *tally_json(const tally_t *t)
{
    return json_pack("{s:i, s:i, s:i}", "created", (int)t->created, "updated", (int)t->updated, "unchanged", (int)t->unchanged);
}

static void print_summary(ts_cli_t *cli, const plan_t *p)
{
    const char *client_id;
    json_t *secret;

    if (cli->json) {
        json_t *out = json_pack("{s:o, s:o, s:o}", "roles", tally_json(&p->roles_tally), "clients", tally_json(&p->clients_tally),
                                "users", tally_json(&p->users_tally));
        if (json_object_size(p->new_secrets) != 0)
            json_object_set(out, "secrets", p->new_secrets);
        ts_cli_print_json(out);
    } else {
        printf("roles: %u created, %u updated, %u unchanged\n", p->roles_tally.created, p->roles_tally.updated,
               p->roles_tally.unchanged);
        printf("clients: %u created, %u updated, %u unchanged\n", p->clients_tally.created, p->clients_tally.updated,
               p->clients_tally.unchanged);
        printf("users: %u created, %u updated, %u unchanged\n", p->users_tally.created, p->users_tally.updated,
               p->users_tally.unchanged);
        json_object_foreach(p->new_secrets, client_id, secret)
            printf("client_secret for %s: %s\n", client_id, json_string_value(secret));
    }
    fflush(stdout);
    if (json_object_size(p->new_secrets) != 0)
        fprintf(stderr, "tessera: store the generated client secrets now: they are not shown again\n");
}

int ts_cli_apply(ts_cli_t *cli, int argc, char **argv)
{
    plan_t p = {0};
    char err[1024];
    int ret = TS_EXIT_FAILURE;

    if (argc != 2 || (argv[1][0] == '-' && argv[1][1] != '\0'))
        return ts_cli_usage("%s", USAGE);
    if ((p.new_secrets = json_object()) == NULL)
        return ts_cli_fail("out of memory");
    if ((p.doc = load_document(argv[1], err, sizeof(err))) == NULL) {
        ret = ts_cli_fail("%s", err);
        goto exit;
    }
    if (parse_plan(&p, err, sizeof(err)) != 0) {
        ret = ts_cli_fail("%s; nothing was changed", err);
        goto exit;
    }
    if (p.need_hasher) {
        if (ts_cli_load_kek(cli) != 0)
            goto exit;
        if (ts_secret_hasher_init(&p.hasher, &cli->kek) != 0) {
            ret = ts_cli_fail("cannot derive the client secret hashing key");
            goto exit;
        }
    }
    if (ts_cli_open_db(cli) != 0)
        goto exit;
    if (apply_plan(cli->db, &p, err, sizeof(err)) != 0) {
        ret = ts_cli_fail("%s; nothing was changed", err);
        goto exit;
    }
    print_summary(cli, &p);
    ret = TS_EXIT_OK;
exit:
    plan_dispose(&p);
    return ret;
}
