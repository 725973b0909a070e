#ifndef TESSERA_RECORDS_H
#define TESSERA_RECORDS_H

/* Blocking CRUD on clients, users and roles, for the CLI (src/store/{clients,users,roles}.c).
 *
 * Every function returns 0 on success or -1 with a message in err; the ones that look a record up by its
 * name return TS_STORE_NOT_FOUND (also with a message) when there is none. A unique violation reads
 * "... already exists". Functions that run several statements do so atomically: in their own transaction,
 * or under a savepoint when the caller already opened one (as `tessera apply` does).
 *
 * Records never carry secret or password hashes; the two functions that return hashes exist only to check a
 * candidate against them and say so in their names. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "tessera/store.h"

#define TS_STORE_NOT_FOUND 1

/* A list of strings; the array and every string are malloc'd and owned by the list. */
typedef struct st_ts_strlist_t {
    char **items;
    size_t len;
} ts_strlist_t;

/** appends a copy of s; 0 or -1 (out of memory) */
static int ts_strlist_push(ts_strlist_t *l, const char *s);
/** appends every token of s separated by sep (empty tokens skipped); 0 or -1 */
static int ts_strlist_split(ts_strlist_t *l, const char *s, char sep);
/** 1 when s is in the list */
static int ts_strlist_contains(const ts_strlist_t *l, const char *s);
/** 1 when a and b hold the same strings in the same order */
static int ts_strlist_equal(const ts_strlist_t *a, const ts_strlist_t *b);
/** 1 when a and b hold the same strings, whatever the order (no duplicates assumed) */
static int ts_strlist_same_set(const ts_strlist_t *a, const ts_strlist_t *b);
/** a malloc'd string of the items joined by sep ("" when empty); NULL when out of memory */
static char *ts_strlist_join(const ts_strlist_t *l, const char *sep);
void ts_strlist_dispose(ts_strlist_t *l);

/* ---- clients ------------------------------------------------------------------------------------- */

typedef struct st_ts_client_secret_info_t {
    char *created_at;
    char *expires_at; /* NULL: no expiry */
} ts_client_secret_info_t;

/* One row of clients, with the names of its roles. Timestamps are ISO 8601 UTC ("2025-01-31T12:00:00Z").
 * On input (create, update) only the metadata fields, status and roles are read. */
typedef struct st_ts_client_record_t {
    char *client_id;
    char *client_name; /* NULL: none */
    char *token_endpoint_auth_method;
    ts_strlist_t grant_types;
    ts_strlist_t redirect_uris;
    ts_strlist_t post_logout_redirect_uris;
    ts_strlist_t scopes;
    ts_strlist_t default_scopes;
    json_t *jwks; /* NULL: none; owned */
    int skip_consent;
    int require_pkce;
    char *id_token_signed_response_alg; /* NULL on input: RS256 */
    int access_token_ttl;               /* 0: the server default */
    int may_introspect;
    char *status; /* "active" or "disabled"; NULL on input: active */
    ts_strlist_t roles;
    /* output only */
    char *created_at;
    char *updated_at;
    char *last_used_at; /* NULL: never */
    ts_client_secret_info_t *secrets; /* the unexpired secrets, oldest first */
    size_t num_secrets;
} ts_client_record_t;

void ts_client_record_dispose(ts_client_record_t *c);

/** inserts c, its roles (by name; an unknown role fails) and, when secret_hash is non-NULL, its first secret */
int ts_store_client_create(ts_pgconn_t *db, const ts_client_record_t *c, const char *secret_hash, char *err, size_t errlen);
/** fills *out (dispose it) */
int ts_store_client_get(ts_pgconn_t *db, const char *client_id, ts_client_record_t *out, char *err, size_t errlen);
/** every client ordered by client_id; *out is malloc'd (dispose each, then free) */
int ts_store_client_list(ts_pgconn_t *db, ts_client_record_t **out, size_t *n, char *err, size_t errlen);
/** replaces the metadata, status and roles of the client named c->client_id */
int ts_store_client_update(ts_pgconn_t *db, const ts_client_record_t *c, char *err, size_t errlen);
/** deletes the client; its secrets, roles, codes and tokens go with it */
int ts_store_client_delete(ts_pgconn_t *db, const char *client_id, char *err, size_t errlen);
/** status is "active" or "disabled"; nothing else about the client changes */
int ts_store_client_set_status(ts_pgconn_t *db, const char *client_id, const char *status, char *err, size_t errlen);
/** adds a secret without touching the others */
int ts_store_client_secret_add(ts_pgconn_t *db, const char *client_id, const char *secret_hash, char *err, size_t errlen);
/** adds a secret, and every other secret of the client that would outlive now() + grace_seconds (or never
 *  expire) gets expires_at = now() + grace_seconds */
int ts_store_client_secret_rotate(ts_pgconn_t *db, const char *client_id, const char *secret_hash, unsigned grace_seconds,
                                  char *err, size_t errlen);
/** removes every secret of the client, then adds secret_hash unless it is NULL */
int ts_store_client_secret_replace(ts_pgconn_t *db, const char *client_id, const char *secret_hash, char *err, size_t errlen);
/** the hashes of the unexpired secrets, only to verify a candidate secret against; never display them */
int ts_store_client_secret_hashes_for_verify(ts_pgconn_t *db, const char *client_id, ts_strlist_t *out, char *err,
                                             size_t errlen);

/* ---- users --------------------------------------------------------------------------------------- */

/* One row of users (never its password hash), with the names of its roles. Usernames match without regard to case. */
typedef struct st_ts_user_record_t {
    char *subject; /* output only: the uuid used as `sub` */
    char *username;
    char *email; /* NULL: none */
    int email_verified;
    char *name;   /* NULL: none */
    char *status; /* "active" or "disabled"; NULL on input: active */
    ts_strlist_t roles;
    /* output only */
    char *created_at;
    char *updated_at;
    char *password_changed_at;
    char *last_login_at; /* NULL: never */
} ts_user_record_t;

void ts_user_record_dispose(ts_user_record_t *u);

/** inserts u with password_hash (an argon2id PHC string) and its roles; subject (may be NULL) gets the new uuid */
int ts_store_user_create(ts_pgconn_t *db, const ts_user_record_t *u, const char *password_hash, char subject[37], char *err,
                         size_t errlen);
int ts_store_user_get(ts_pgconn_t *db, const char *username, ts_user_record_t *out, char *err, size_t errlen);
/** every user ordered by username; *out is malloc'd (dispose each, then free) */
int ts_store_user_list(ts_pgconn_t *db, ts_user_record_t **out, size_t *n, char *err, size_t errlen);
/** replaces email, email_verified, name, status and roles of the user named u->username */
int ts_store_user_update(ts_pgconn_t *db, const ts_user_record_t *u, char *err, size_t errlen);
int ts_store_user_delete(ts_pgconn_t *db, const char *username, char *err, size_t errlen);
/** stores a new password hash and sets password_changed_at */
int ts_store_user_set_password(ts_pgconn_t *db, const char *username, const char *password_hash, char *err, size_t errlen);
/** status is "active" or "disabled" */
int ts_store_user_set_status(ts_pgconn_t *db, const char *username, const char *status, char *err, size_t errlen);
/** the stored hash, only to verify a candidate password against; never display it */
int ts_store_user_password_hash_for_verify(ts_pgconn_t *db, const char *username, char *out, size_t cap, char *err,
                                           size_t errlen);

/* ---- roles --------------------------------------------------------------------------------------- */

typedef struct st_ts_role_record_t {
    char *name;
    char *description; /* NULL: none */
    ts_strlist_t scopes;
    /* output only */
    char *created_at;
    char *updated_at;
} ts_role_record_t;

void ts_role_record_dispose(ts_role_record_t *r);

int ts_store_role_create(ts_pgconn_t *db, const ts_role_record_t *r, char *err, size_t errlen);
int ts_store_role_get(ts_pgconn_t *db, const char *name, ts_role_record_t *out, char *err, size_t errlen);
/** every role ordered by name; *out is malloc'd (dispose each, then free) */
int ts_store_role_list(ts_pgconn_t *db, ts_role_record_t **out, size_t *n, char *err, size_t errlen);
/** replaces description and scopes of the role named r->name */
int ts_store_role_update(ts_pgconn_t *db, const ts_role_record_t *r, char *err, size_t errlen);
int ts_store_role_delete(ts_pgconn_t *db, const char *name, char *err, size_t errlen);
/** makes the user's roles exactly roles (names; an unknown one fails and changes nothing) */
int ts_store_user_set_roles(ts_pgconn_t *db, const char *username, const ts_strlist_t *roles, char *err, size_t errlen);
/** makes the client's roles exactly roles (names; an unknown one fails and changes nothing) */
int ts_store_client_set_roles(ts_pgconn_t *db, const char *client_id, const ts_strlist_t *roles, char *err, size_t errlen);
/** gives (grant != 0) or takes away one role from a user (kind "user", key a username) or a client (kind "client", key
 *  a client_id); *changed = 0 when it already had (did not have) it. TS_STORE_NOT_FOUND when the role, user or client
 *  does not exist. */
int ts_store_role_assign(ts_pgconn_t *db, const char *role, const char *kind, const char *key, int grant, int *changed,
                         char *err, size_t errlen);

/* ---- shared by src/store/{clients,users,roles}.c (defined in roles.c); not for other modules ------ */

struct pg_result;
/** runs sql with text parameters (NULL = SQL NULL); NULL with err on failure, where what names the record for
 *  "<what> already exists" and similar messages. The caller PQclears the result. */
struct pg_result *ts_store__query(ts_pgconn_t *db, const char *sql, int nparams, const char *const *params, const char *what,
                                  char *err, size_t errlen);
/* how ts_store__get and ts_store__list make and free the records of one table */
typedef struct st_ts_store_kind_t {
    size_t size;                                                 /* of one record */
    int (*from_row)(struct pg_result *res, int row, void *out); /* 0, or -1 when out of memory */
    void (*dispose)(void *record);
} ts_store_kind_t;
/** the record of the one row sql finds (params as for ts_store__query) into *out: 0, TS_STORE_NOT_FOUND with
 *  "<what> not found", or -1 with err */
int ts_store__get(ts_pgconn_t *db, const ts_store_kind_t *kind, const char *sql, int nparams, const char *const *params,
                  const char *what, void *out, char *err, size_t errlen);
/** the records of every row sql finds, in its order, as a malloc'd array (*out, *n; NULL and 0 when none): 0, or
 *  -1 with err and nothing allocated */
int ts_store__list(ts_pgconn_t *db, const ts_store_kind_t *kind, const char *sql, const char *what, void **out, size_t *n,
                   char *err, size_t errlen);
/** opens a transaction, or a savepoint when the caller has one open (*nested = 1) */
int ts_store__begin(ts_pgconn_t *db, int *nested, char *err, size_t errlen);
/** commits (or releases the savepoint) when ret is 0, else rolls it back; returns ret, or -1 when the commit fails */
int ts_store__end(ts_pgconn_t *db, int nested, int ret, char *err, size_t errlen);
/** the list as a JSON array text for a `$n::jsonb` parameter; malloc'd, NULL when out of memory */
char *ts_store__strlist_json(const ts_strlist_t *l);
/** fills l from a JSON array of strings (NULL or SQL NULL text: empty); 0 or -1 */
int ts_store__strlist_parse(ts_strlist_t *l, const char *json_text);
/** malloc'd copy of s, or NULL when s is NULL; sets *oom when the copy fails */
char *ts_store__dup(const char *s, int *oom);
/** SQL for a timestamptz column as ISO 8601 UTC text */
#define TS_STORE_ISO8601(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* ---- inline definitions ------------------------------------------------------------------------ */

inline int ts_strlist_push(ts_strlist_t *l, const char *s)
{
    char **items, *copy;
    if ((copy = strdup(s)) == NULL)
        return -1;
    if ((items = realloc(l->items, (l->len + 1) * sizeof(*items))) == NULL) {
        free(copy);
        return -1;
    }
    l->items = items;
    /* not a leak: copy lives on in l->items; gcc 12's analyzer loses track of it in the realloc'd array */
#ifndef __clang__
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
#endif
    l->items[l->len++] = copy;
#ifndef __clang__
#pragma GCC diagnostic pop
#endif
    return 0;
}

inline int ts_strlist_split(ts_strlist_t *l, const char *s, char sep)
{
    while (*s != '\0') {
        size_t n = strcspn(s, (char[2]){sep, '\0'});
        if (n != 0) {
            char *tok = strndup(s, n);
            int ret = tok != NULL ? ts_strlist_push(l, tok) : -1;
            free(tok);
            if (ret != 0)
                return -1;
        }
        s += n;
        if (*s == sep)
            ++s;
    }
    return 0;
}

inline int ts_strlist_contains(const ts_strlist_t *l, const char *s)
{
    for (size_t i = 0; i < l->len; ++i)
        if (strcmp(l->items[i], s) == 0)
            return 1;
    return 0;
}

inline int ts_strlist_equal(const ts_strlist_t *a, const ts_strlist_t *b)
{
    if (a->len != b->len)
        return 0;
    for (size_t i = 0; i < a->len; ++i)
        if (strcmp(a->items[i], b->items[i]) != 0)
            return 0;
    return 1;
}

inline int ts_strlist_same_set(const ts_strlist_t *a, const ts_strlist_t *b)
{
    if (a->len != b->len)
        return 0;
    for (size_t i = 0; i < a->len; ++i)
        if (!ts_strlist_contains(b, a->items[i]))
            return 0;
    return 1;
}

inline char *ts_strlist_join(const ts_strlist_t *l, const char *sep)
{
    size_t total = 1, seplen = strlen(sep), off = 0;
    char *out;
    for (size_t i = 0; i < l->len; ++i)
        total += strlen(l->items[i]) + seplen;
    if ((out = malloc(total)) == NULL)
        return NULL;
    for (size_t i = 0; i < l->len; ++i) {
        size_t n = strlen(l->items[i]);
        if (i != 0) {
            memcpy(out + off, sep, seplen);
            off += seplen;
        }
        memcpy(out + off, l->items[i], n);
        off += n;
    }
    out[off] = '\0';
    return out;
}

#endif
