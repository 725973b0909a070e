/* grant_type=refresh_token (RFC 6749 §6) with rotation: every use spends the token and issues its successor in
 * the same family. A spent token presented again means two parties hold it, so the whole family is revoked
 * (RFC 9700 §4.14.2). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http/audit_http.h"
#include "http/token_user.h"
#include "tessera/oauth_browser.h"

typedef struct st_refresh_flow_t {
    ts_user_grant_t grant;
    char family[37];
    char old_hash[44];
    char next[TS_HANDLE_MAX];
    int64_t client_pk;
} refresh_flow_t;

enum { R_FAMILY, R_CLIENT, R_SUBJECT, R_SCOPE, R_RESOURCES, R_AUTH_TIME, R_SPENT, R_REVOKED, R_LIVE };

static void reuse_detected(ts_reqctx_t *ctx, refresh_flow_t *f)
{
    ts_log_warn("refresh token reuse by client %s: revoking grant %s", ctx->auth.client->client_id, f->family);
    ts_http_audit(ctx->req, "refresh.reuse", TS_AUDIT_FAILURE, ctx->auth.client->client_id, NULL,
                  json_pack("{s:s, s:s}", "grant", f->family, "response", "grant revoked"));
    ts_token_revoke_family_and_fail(ctx, f->family, f->client_pk, "the refresh token has already been used");
}

static void on_rotated(ts_reqctx_t *ctx, const ts_db_result_t *res, const char *err)
{
    refresh_flow_t *f = ctx->flow;
    if (err != NULL) {
        ts_log_error("rotating a refresh token: %s", err);
        ts_reqctx_unavailable(ctx);
        return;
    }
    if (ts_db_result_rows(res) != 1) {
        reuse_detected(ctx, f); /* spent between our read and our write: another request used it at the same time */
        return;
    }
    f->grant.refresh_token = f->next;
    ts_token_reply_user(ctx, &f->grant);
    ts_crypto_cleanse(f->next, sizeof(f->next));
}

static void on_token(ts_reqctx_t *ctx, const ts_db_result_t *res, const char *err)
{
    refresh_flow_t *f = ctx->flow;
    const ts_client_t *c = ctx->auth.client;
    const char *scope = ts_http_param(&ctx->params, "scope");

    if (err != NULL) {
        ts_log_error("reading a refresh token: %s", err);
        ts_reqctx_unavailable(ctx);
        return;
    }
    if (ts_db_result_rows(res) != 1) {
        ts_reqctx_error(ctx, TS_ERR_INVALID_GRANT, "unknown refresh token");
        return;
    }
    snprintf(f->family, sizeof(f->family), "%s", ts_db_result_value(res, 0, R_FAMILY));
    f->client_pk = strtoll(ts_db_result_value(res, 0, R_CLIENT), NULL, 10);
    if (f->client_pk != c->pk) {
        ts_reqctx_error(ctx, TS_ERR_INVALID_GRANT, "the refresh token was issued to another client");
        return;
    }
    if (strcmp(ts_db_result_value(res, 0, R_REVOKED), "t") == 0) {
        ts_reqctx_error(ctx, TS_ERR_INVALID_GRANT, "the refresh token has been revoked");
        return;
    }
    if (strcmp(ts_db_result_value(res, 0, R_SPENT), "t") == 0) {
        reuse_detected(ctx, f);
        return;
    }
    if (strcmp(ts_db_result_value(res, 0, R_LIVE), "t") != 0) {
        ts_reqctx_error(ctx, TS_ERR_INVALID_GRANT, "the refresh token has expired");
        return;
    }
    const char *subject = ts_db_result_value(res, 0, R_SUBJECT);
    const ts_user_t *user = subject != NULL ? ts_directory_user(ctx->dir, subject) : NULL;
    if (user == NULL || !user->active) {
        ts_reqctx_error(ctx, TS_ERR_INVALID_GRANT, "the user is disabled");
        return;
    }
    const char *granted = ts_http_strdup(ctx->req, ts_db_result_value(res, 0, R_SCOPE));
    /* RFC 6749 §6: a narrower scope for this access token; the grant itself keeps its scope */
    if (scope != NULL && (*scope == '\0' || !ts_scope_subset(scope, granted))) {
        ts_reqctx_error(ctx, TS_ERR_INVALID_SCOPE, "scope may only narrow what was granted");
        return;
    }
    /* the user's current roles: a role revoked since the grant stops working at this refresh (docs/roles.md) */
    char allowed[TS_SCOPE_MAX];
    if (ts_oauth_scope_for_roles(ctx->dir, scope != NULL ? scope : granted, &user->roles, allowed, sizeof(allowed)) != TS_OK) {
        ts_reqctx_error(ctx, TS_ERR_INVALID_SCOPE, "scope too long");
        return;
    }
    f->grant = (ts_user_grant_t){.user = user,
                                 .scope = ts_http_strdup(ctx->req, allowed),
                                 .granted_scope = granted,
                                 .resources = ts_http_strdup(ctx->req, ts_db_result_value(res, 0, R_RESOURCES)),
                                 .family = f->family,
                                 .auth_time = ts_db_result_value(res, 0, R_AUTH_TIME) != NULL
                                                  ? strtoll(ts_db_result_value(res, 0, R_AUTH_TIME), NULL, 10)
                                                  : 0};
    char next_hash[44], idle[24];
    if (ts_crypto_handle_new(TS_PREFIX_REFRESH_TOKEN, f->next, sizeof(f->next)) != 0) {
        ts_reqctx_unavailable(ctx);
        return;
    }
    ts_crypto_handle_hash(f->next, strlen(f->next), next_hash);
    snprintf(idle, sizeof(idle), "%u", ctx->worker->app->conf->refresh_token_idle_timeout);
    const char *params[3] = {f->old_hash, next_hash, idle};
    ts_reqctx_query(ctx, TS_STMT_REFRESH_ROTATE, 3, params, on_rotated);
}

void ts_token_refresh(ts_reqctx_t *ctx)
{
    const char *token = ts_http_param(&ctx->params, "refresh_token");
    refresh_flow_t *f;

    if ((ctx->auth.client->grant_types & TS_GRANT_REFRESH_TOKEN) == 0) {
        ts_reqctx_error(ctx, TS_ERR_UNAUTHORIZED_CLIENT, "the client may not use the refresh_token grant");
        return;
    }
    if (token == NULL) {
        ts_reqctx_error(ctx, TS_ERR_INVALID_REQUEST, "refresh_token is required");
        return;
    }
    if (strncmp(token, TS_PREFIX_REFRESH_TOKEN, strlen(TS_PREFIX_REFRESH_TOKEN)) != 0 || strlen(token) >= TS_HANDLE_MAX) {
        ts_reqctx_error(ctx, TS_ERR_INVALID_GRANT, "unknown refresh token");
        return;
    }
    f = h2o_mem_alloc_pool(&ctx->req->pool, sizeof(*f));
    memset(f, 0, sizeof(*f));
    ctx->flow = f;
    ts_crypto_handle_hash(token, strlen(token), f->old_hash);
    const char *params[1] = {f->old_hash};
    ts_reqctx_query(ctx, TS_STMT_REFRESH_GET, 1, params, on_token);
}
