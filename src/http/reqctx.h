#ifndef TESSERA_HTTP_REQCTX_H
#define TESSERA_HTTP_REQCTX_H

/* The state of one protocol request (token, introspection, revocation) while it may wait on the database:
 * the snapshots it started with (kept alive by references) and its parsed form, in the request's pool. If
 * the client goes away mid-query, the pool's dispose callback cancels the query and drops the references. */
#include "tessera/directory.h"
#include "tessera/http.h"
#include "tessera/keyring.h"
#include "tessera/oauth.h"

typedef struct st_ts_reqctx_t ts_reqctx_t;
typedef void (*ts_reqctx_db_cb)(ts_reqctx_t *ctx, const ts_db_result_t *res, const char *err);

struct st_ts_reqctx_t {
    h2o_req_t *req;
    ts_worker_t *worker;
    ts_directory_t *dir;
    ts_keyring_t *ring;
    ts_params_t params;
    ts_client_auth_t auth;
    int64_t now;
    ts_db_query_t *query;
    ts_reqctx_db_cb on_db;
    void (*next)(ts_reqctx_t *ctx); /* what runs once the client is authenticated */
    struct st_ts_offload_job_t *job;  /* password check under way: cancelled if the request goes */
    void *flow;                       /* the endpoint's own state, in the request's pool */
    const char *why;                  /* an error_description (a literal) to send once a query is done */
    int grant_needs_active_client;    /* a disabled client's grant is invalid_grant (its grants died with it) */
};

/** a context for req, with the current snapshots and the parsed form body (repeatable: names that may
 *  repeat). Sends the error itself (400 for a bad form, 503 while snapshots are missing) and returns NULL. */
ts_reqctx_t *ts_reqctx_create_or_reply(h2o_req_t *req, const char *const *repeatable);
/** a context with the snapshots but no parameters (the caller reads what it needs) */
ts_reqctx_t *ts_reqctx_create_bare_or_reply(h2o_req_t *req);
/** the same for a browser endpoint: parameters from the query (GET, HEAD) or the form body (POST), and errors
 *  as the HTML error page */
ts_reqctx_t *ts_reqctx_create_browser_or_reply(h2o_req_t *req, const char *const *repeatable);
/** runs a prepared statement for ctx; cb gets the outcome. Sends 503 itself when the database is unavailable. */
void ts_reqctx_query(ts_reqctx_t *ctx, ts_stmt_t stmt, int n, const char *const *params, ts_reqctx_db_cb cb);
/** answers 503 with Retry-After */
int ts_reqctx_unavailable(ts_reqctx_t *ctx);
/** authenticates the client from the request (ctx->auth), using up a private_key_jwt assertion's jti, then
 *  calls next; on failure sends the error (401 with WWW-Authenticate when Basic was tried). endpoint is the
 *  path, whose URL a client assertion may name as its audience. */
void ts_reqctx_authenticate(ts_reqctx_t *ctx, const char *endpoint, void (*next)(ts_reqctx_t *ctx));
/** the RFC 7662 answer for an access token (a new object with active:true), or NULL when it is not active: its
 *  signature is checked (or found in this thread's cache of verified tokens), then expiry, revocation and the
 *  status of its client and user at this moment */
json_t *ts_reqctx_judge_access_token(ts_reqctx_t *ctx, const char *token, size_t len);
/** sends err for ctx, with WWW-Authenticate when it is invalid_client */
int ts_reqctx_error(ts_reqctx_t *ctx, ts_err_t err, const char *why);

#endif
