#include <stdio.h>
#include <string.h>
#include <time.h>
#include "http/audit_http.h"
#include "http/browser.h"
#include "http/limits.h"
#include "http/offload.h"
#include "http/reqctx.h"

static void on_dispose(void *p)
{
    ts_reqctx_t *ctx = p;
    if (ctx->job != NULL)
        ts_offload_cancel(ctx->job);
    if (ctx->query != NULL)
        ts_db_cancel(ctx->query);
    if (ctx->dir != NULL)
        ts_ref_release(&ctx->dir->super);
    if (ctx->ring != NULL)
        ts_ref_release(&ctx->ring->super);
}

int ts_reqctx_unavailable(ts_reqctx_t *ctx)
{
    char retry[16];
    snprintf(retry, sizeof(retry), "%u", ts_db_pool_retry_after(ctx->worker->db));
    ts_http_header(ctx->req, "retry-after", retry);
    return ts_http_send_error(ctx->req, TS_ERR_TEMPORARILY_UNAVAILABLE, NULL);
}

/* a zeroed context for req, once the source address has a rate-limit token (else the 429 is sent: NULL) */
static ts_reqctx_t *begin_or_reply(h2o_req_t *req)
{
    ts_reqctx_t *ctx = h2o_mem_alloc_shared(&req->pool, sizeof(*ctx), on_dispose);

    memset(ctx, 0, sizeof(*ctx));
    ctx->req = req;
    ctx->worker = ts_http_worker(req);
    ctx->now = (int64_t)time(NULL);
    return ts_http_rate_limit_address_or_reply(req) == 0 ? ctx : NULL;
}

/* the directory and keyring the request works with from here on; 503 while either is missing */
static ts_reqctx_t *take_snapshots_or_reply(ts_reqctx_t *ctx)
{
    const ts_app_t *app = ctx->worker->app;

    ctx->dir = (ts_directory_t *)ts_slot_acquire(&app->snaps->directory);
    ctx->ring = (ts_keyring_t *)ts_slot_acquire(&app->snaps->keyring);
    if (ctx->dir == NULL || ctx->ring == NULL) {
        ts_reqctx_unavailable(ctx);
        return NULL;
    }
    return ctx;
}

ts_reqctx_t *ts_reqctx_create_or_reply(h2o_req_t *req, const char *const *repeatable)
{
    ts_reqctx_t *ctx = begin_or_reply(req);

    if (ctx == NULL || ts_http_read_form_or_reply(req, repeatable, &ctx->params) != 0)
        return NULL;
    return take_snapshots_or_reply(ctx);
}

ts_reqctx_t *ts_reqctx_create_bare_or_reply(h2o_req_t *req)
{
    ts_reqctx_t *ctx = begin_or_reply(req);
    return ctx != NULL ? take_snapshots_or_reply(ctx) : NULL;
}

ts_reqctx_t *ts_reqctx_create_browser_or_reply(h2o_req_t *req, const char *const *repeatable)
{
    ts_reqctx_t *ctx = begin_or_reply(req);
    const char *why = NULL;
    ts_err_t err;

    if (ctx == NULL)
        return NULL;
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST"))) {
        err = ts_http_is_form(req) ? ts_http_parse_form(&req->pool, req->entity.base != NULL ? req->entity.base : "", req->entity.len,
                                                        repeatable, &ctx->params, &why)
                                   : TS_ERR_UNSUPPORTED_MEDIA_TYPE;
    } else {
        size_t at = req->query_at != SIZE_MAX ? req->query_at + 1 : req->path.len;
        err = ts_http_parse_form(&req->pool, req->path.base + at, req->path.len - at, repeatable, &ctx->params, &why);
    }
    if (err != TS_OK) {
        ts_browser_error_page(req, 400, err == TS_ERR_UNSUPPORTED_MEDIA_TYPE ? TS_ERR_INVALID_REQUEST : err,
                              why != NULL ? why : "the form must be application/x-www-form-urlencoded");
        return NULL;
    }
    return take_snapshots_or_reply(ctx);
}

static void on_query(void *p, const ts_db_result_t *res, const char *err)
{
    ts_reqctx_t *ctx = p;
    ctx->query = NULL; /* gone once this runs */
    if (err != NULL && (strcmp(err, "unavailable") == 0 || strcmp(err, "timeout") == 0)) {
        ts_reqctx_unavailable(ctx);
        return;
    }
    ctx->on_db(ctx, res, err);
}

void ts_reqctx_query(ts_reqctx_t *ctx, ts_stmt_t stmt, int n, const char *const *params, ts_reqctx_db_cb cb)
{
    ctx->on_db = cb;
    if ((ctx->query = ts_db_query(ctx->worker->db, stmt, n, params, on_query, ctx)) == NULL)
        ts_reqctx_unavailable(ctx);
}

/* every refused client authentication (at any endpoint) and every refused token request is an audit event; the
 * actor is a client_id only when it names a registered client (never what an unknown caller typed) */
static void audit_refusal(ts_reqctx_t *ctx, ts_err_t err)
{
    static const char *const grants[] = {"client_credentials", "authorization_code", "refresh_token", NULL};
    h2o_iovec_t path = ctx->req->path_normalized;
    const ts_client_t *c = ctx->auth.client != NULL ? ctx->auth.client : ctx->auth.claimed;
    const char *grant = ts_http_param(&ctx->params, "grant_type"), *endpoint = "/token";
    int is_token = h2o_memis(path.base, path.len, H2O_STRLIT("/token"));

    if (h2o_memis(path.base, path.len, H2O_STRLIT("/introspect")))
        endpoint = "/introspect";
    else if (h2o_memis(path.base, path.len, H2O_STRLIT("/revoke")))
        endpoint = "/revoke";
    else if (!is_token)
        endpoint = "other";
    if (err == TS_ERR_INVALID_CLIENT) {
        ts_http_audit(ctx->req, "client.auth", TS_AUDIT_FAILURE, c != NULL ? c->client_id : NULL, NULL,
                      json_pack("{s:s, s:s, s:b}", "endpoint", endpoint, "error", "invalid_client", "disabled", ctx->auth.disabled));
        return;
    }
    if (!is_token)
        return;
    size_t i = 0;
    while (grant != NULL && grants[i] != NULL && strcmp(grant, grants[i]) != 0)
        ++i;
    ts_http_audit(ctx->req, "token.refuse", TS_AUDIT_FAILURE, c != NULL ? c->client_id : NULL, NULL,
                  json_pack("{s:s, s:s}", "error", ts_err_info(err)->code, "grant_type",
                            grant == NULL ? "none" : grants[i] != NULL ? grants[i] : "other"));
}

int ts_reqctx_error(ts_reqctx_t *ctx, ts_err_t err, const char *why)
{
    audit_refusal(ctx, err);
    if (err == TS_ERR_INVALID_CLIENT)
        ts_http_header(ctx->req, "www-authenticate", ctx->auth.basic_attempted || ctx->auth.method == TS_AUTH_CLIENT_SECRET_BASIC
                                                         ? "Basic realm=\"tessera\", error=\"invalid_client\""
                                                         : "Basic realm=\"tessera\"");
    return ts_http_send_error(ctx->req, err, why);
}

static void on_assertion_used(ts_reqctx_t *ctx, const ts_db_result_t *res, const char *err)
{
    if (err != NULL || ts_db_result_rows(res) != 1) {
        /* the jti was used before: a replayed assertion */
        ts_reqctx_error(ctx, TS_ERR_INVALID_CLIENT, "client assertion has already been used");
        return;
    }
    ctx->next(ctx);
}

void ts_reqctx_authenticate(ts_reqctx_t *ctx, const char *endpoint, void (*next)(ts_reqctx_t *ctx))
{
    h2o_req_t *req = ctx->req;
    const ts_app_t *app = ctx->worker->app;
    char url[512];
    ssize_t h = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    ts_client_credentials_t in = {
        .client_id = ts_http_param(&ctx->params, "client_id"),
        .client_secret = ts_http_param(&ctx->params, "client_secret"),
        .client_assertion_type = ts_http_param(&ctx->params, "client_assertion_type"),
        .client_assertion = ts_http_param(&ctx->params, "client_assertion"),
    };
    if (h != -1) {
        in.authorization = req->headers.entries[h].value.base;
        in.authorization_len = req->headers.entries[h].value.len;
    }
    snprintf(url, sizeof(url), "%s%s", app->conf->issuer, endpoint);
    ts_client_auth_ctx_t actx = {ctx->dir, &app->hasher, app->conf->issuer, url, ctx->now};
    ts_err_t err = ts_oauth_client_authenticate(&actx, &in, &ctx->auth);
    if (err != TS_OK && ctx->auth.disabled && ctx->grant_needs_active_client) {
        ts_reqctx_error(ctx, TS_ERR_INVALID_GRANT, "the client is disabled");
        return;
    }
    if (err != TS_OK) {
        ts_reqctx_error(ctx, err, ctx->auth.why);
        return;
    }
    ts_usage_note(app->snaps->usage, ctx->auth.client->pk); /* clients.last_used_at, written by the sync thread */
    if (ts_http_rate_limit_client_or_reply(req, ctx->auth.client->client_id) != 0)
        return;
    ctx->next = next;
    if (ctx->auth.method != TS_AUTH_PRIVATE_KEY_JWT) {
        next(ctx);
        return;
    }
    char pk[24], exp[24];
    snprintf(pk, sizeof(pk), "%lld", (long long)ctx->auth.client->pk);
    snprintf(exp, sizeof(exp), "%lld", (long long)ctx->auth.assertion_exp);
    const char *params[3] = {pk, ctx->auth.jti, exp};
    ts_reqctx_query(ctx, TS_STMT_USE_ASSERTION, 3, params, on_assertion_used);
}
