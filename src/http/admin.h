#ifndef TESSERA_HTTP_ADMIN_H
#define TESSERA_HTTP_ADMIN_H

/* The admin API (docs/admin-api.md): its own thread, h2o loop, listener and blocking PostgreSQL connection.
 * Handlers run on that thread and may call the blocking store functions (records.h) directly: the public
 * loops never wait for them, and admin traffic is rare. The price: one admin request at a time. */
#include <stdint.h>
#include "http/admin_schema.h"
#include "tessera/admin_store.h"
#include "tessera/audit.h"
#include "tessera/http.h"
#include "tessera/records.h"

typedef struct st_ts_admin_t ts_admin_t;

/** starts the admin thread and listener for app (whose conf names them), or does nothing when admin_listen is
 *  empty or its default address is taken (a warning says so): *out is then NULL. app is copied (start the audit
 *  writer before); kek (copied) rotates keys. -1 with err when the configured listener cannot be set up. */
int ts_admin_start(const ts_app_t *app, const ts_kek_t *kek, ts_admin_t **out, char *err, size_t errlen);
/** stops accepting, lets requests in progress finish (at most shutdown_timeout), joins the thread and frees
 *  everything; NULL is a no-op */
void ts_admin_stop(ts_admin_t *admin);
/** SIGHUP: reads the admin certificate and key again and hands them to the admin thread (new connections use them;
 *  open ones keep theirs). 0 (also when there is no admin listener or it has no TLS), or -1 with err: the current
 *  certificate stays. Call on the main thread. */
int ts_admin_reload_tls(ts_admin_t *admin, char *err, size_t errlen);

/* Who called: from a verified access token of this server, judged at this moment. */
typedef struct st_ts_admin_caller_t {
    const char *subject;   /* the token's sub (a user's subject, or the client_id for client credentials) */
    const char *client_id; /* the client the token was issued to */
    int64_t auth_time;     /* when the person signed in; 0: no person (client credentials) */
} ts_admin_caller_t;

/* One admin request while its handler runs (everything lives in the request's pool). */
typedef struct st_ts_admin_req_t {
    h2o_req_t *req;
    ts_admin_t *admin;
    const ts_app_t *app;
    ts_admin_caller_t caller;
    const char *key; /* the {name} path segment, or NULL */
    int64_t now;
} ts_admin_req_t;

/* ---- src/http/admin_auth.c ---------------------------------------------------------------------- */

/** the caller of req, from its bearer token: it must verify, be active, carry the tessera:admin scope, and
 *  its subject must hold the admin role now. Sends 401 (invalid_token) or 403 (insufficient_scope) with
 *  WWW-Authenticate itself and returns -1. */
int ts_admin_authenticate_or_reply(h2o_req_t *req, const ts_app_t *app, int64_t now, ts_admin_caller_t *out);
/** for a dangerous operation: the caller's sign-in must be at most admin_step_up_max_age old (a token without
 *  one, as client credentials give, never is). Sends 401 insufficient_user_authentication (RFC 9470) itself
 *  and returns -1. */
int ts_admin_step_up_or_reply(ts_admin_req_t *ar);

/* ---- src/http/admin_server.c: what the handlers share ------------------------------------------- */

/** the admin thread's database connection, reconnected when needed; NULL after sending 503 */
ts_pgconn_t *ts_admin_db_or_reply(ts_admin_req_t *ar);
/** the request body checked against schema (a new reference); NULL after sending 400 or 413 */
json_t *ts_admin_body_or_reply(ts_admin_req_t *ar, const ts_admin_schema_t *schema);
/** an update's start: the body checked against schema, the record's name in the path checked by valid_key (which
 *  answers when it refuses), and the database into *db. The body (a new reference), or NULL when answered. */
json_t *ts_admin_update_or_reply(ts_admin_req_t *ar, const ts_admin_schema_t *schema, int (*valid_key)(ts_admin_req_t *ar),
                                 ts_pgconn_t **db);
/** {"fields": [the names of body's members]}: the details of an update's audit event (a new reference) */
json_t *ts_admin_changed_fields(const json_t *body);
/** the list parameters of the query string (?limit=1..100&after=CURSOR); -1 after sending 400. *after is the
 *  decoded key, in the pool, or NULL */
int ts_admin_page_params_or_reply(ts_admin_req_t *ar, unsigned *limit, const char **after);
/** sends {"items": items (stolen), "next": the cursor for next (a key, or NULL)} */
int ts_admin_send_page(ts_admin_req_t *ar, json_t *items, const char *next);
/** GET of a paginated collection (?limit&after): reads the page and sends it; what names a record in errors */
int ts_admin_list(ts_admin_req_t *ar, ts_admin_list_t kind, const char *what);
/** answers a failed store call (ret from records.h, err its message) about what (e.g. "client"): 404, 409,
 *  400 for an unknown role, 503 when the database went away, else 500 (the message only in the log) */
int ts_admin_store_error(ts_admin_req_t *ar, int ret, const char *err, const char *what);
/** records an admin change in the audit log: action ("admin.client.create"), target, success or failure;
 *  details (a JSON object, stolen, may be NULL) must hold no secret */
void ts_admin_audit(ts_admin_req_t *ar, const char *action, const char *target, int ok, json_t *details);
/** JSON helpers for the handlers */
json_t *ts_admin_strlist_json(const ts_strlist_t *l);
json_t *ts_admin_nullable(const char *s);
/** copies the strings of a JSON array into l (appending); 0 or -1 (out of memory) */
int ts_admin_strlist_from_json(ts_strlist_t *l, const json_t *array);

/* ---- the handlers (src/http/admin_ep_*.c) -------------------------------------------------------- */

int ts_admin_ep_clients_list(ts_admin_req_t *ar);
int ts_admin_ep_client_create(ts_admin_req_t *ar);
int ts_admin_ep_client_get(ts_admin_req_t *ar);
int ts_admin_ep_client_update(ts_admin_req_t *ar);
int ts_admin_ep_client_delete(ts_admin_req_t *ar);
int ts_admin_ep_client_secret(ts_admin_req_t *ar);
int ts_admin_ep_users_list(ts_admin_req_t *ar);
int ts_admin_ep_user_create(ts_admin_req_t *ar);
int ts_admin_ep_user_get(ts_admin_req_t *ar);
int ts_admin_ep_user_update(ts_admin_req_t *ar);
int ts_admin_ep_user_delete(ts_admin_req_t *ar);
int ts_admin_ep_user_password(ts_admin_req_t *ar);
int ts_admin_ep_roles_list(ts_admin_req_t *ar);
int ts_admin_ep_role_create(ts_admin_req_t *ar);
int ts_admin_ep_role_get(ts_admin_req_t *ar);
int ts_admin_ep_role_update(ts_admin_req_t *ar);
int ts_admin_ep_role_delete(ts_admin_req_t *ar);
int ts_admin_ep_keys_list(ts_admin_req_t *ar);
int ts_admin_ep_keys_rotate(ts_admin_req_t *ar);
int ts_admin_ep_audit_list(ts_admin_req_t *ar);
int ts_admin_ep_metrics(ts_admin_req_t *ar);

/** the key-encryption key (keys/rotate) and counters (/metrics) of the admin thread */
const ts_kek_t *ts_admin__kek(const ts_admin_t *admin);
typedef struct st_ts_admin_stats_t {
    int64_t started_at; /* unix seconds */
    uint64_t requests;  /* admin requests answered, by class */
    uint64_t refused;   /* 401 and 403 */
} ts_admin_stats_t;
ts_admin_stats_t ts_admin__stats(const ts_admin_t *admin);

/* the declared bodies (src/http/admin_ep_*.c), exported for the unit tests */
extern const ts_admin_schema_t ts_admin_client_create_schema, ts_admin_client_update_schema, ts_admin_client_secret_schema;
extern const ts_admin_schema_t ts_admin_user_create_schema, ts_admin_user_update_schema, ts_admin_user_password_schema;
extern const ts_admin_schema_t ts_admin_role_create_schema, ts_admin_role_update_schema, ts_admin_empty_schema;

/** the role whose holders may use the admin API, and the scope their tokens must carry */
#define TS_ADMIN_API_ROLE "admin"
#define TS_ADMIN_API_SCOPE "tessera:admin"

#endif
