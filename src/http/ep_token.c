/* POST /token: grant_type=client_credentials (RFC 6749 §4.4) here, authorization_code and refresh_token in
 * ep_token_code.c and ep_token_refresh.c. client_credentials comes from the snapshots alone: the database is
 * touched only to use up a private_key_jwt assertion's jti. */
#include <stdio.h>
#include <string.h>
#include "http/audit_http.h"
#include "http/endpoints.h"
#include "http/reqctx.h"
#include "http/token_user.h"

static const char *const repeatable[] = {"resource", NULL};

static int reply_with_token(ts_reqctx_t *ctx, const char *scope, json_t *aud)
{
    const ts_app_t *app = ctx->worker->app;
    const ts_client_t *c = ctx->auth.client;
    const ts_key_t *key = ts_keyring_current(ctx->ring, app->access_token_alg);
    unsigned ttl = c->access_token_ttl != 0 ? c->access_token_ttl : app->conf->access_token_ttl;
    ts_access_token_t t = {.issuer = app->conf->issuer, .subject = c->client_id, .client_id = c->client_id, .scope = scope,
                           .aud = aud, .roles = &c->roles, .now = ctx->now, .ttl = ttl};
    char *token = NULL, jti[TS_JTI_LEN + 1];

    if (key == NULL || ts_oauth_access_token_sign(key, &t, &token, jti) != 0)
        return ts_reqctx_unavailable(ctx);
    json_t *body = json_pack("{s:s, s:s, s:i}", "access_token", token, "token_type", "Bearer", "expires_in", (int)ttl);
    free(token);
    /* the token's id, never the token */
    ts_http_audit(ctx->req, "token.issue", TS_AUDIT_SUCCESS, c->client_id, c->client_id,
                  json_pack("{s:s, s:s, s:s}", "grant_type", "client_credentials", "scope", scope, "jti", jti));
    if (body != NULL && *scope != '\0')
        json_object_set_new(body, "scope", json_string(scope));
    ts_http_no_store(ctx->req);
    return ts_http_send_json(ctx->req, 200, body);
}

static void client_credentials(ts_reqctx_t *ctx)
{
    const ts_client_t *c = ctx->auth.client;
    const char *resources[TS_RESOURCES_MAX + 1], *why = NULL, *asked = ts_http_param(&ctx->params, "scope");
    char resolved[TS_SCOPE_MAX], scope[TS_SCOPE_MAX];
    json_t *aud = NULL;
    ts_err_t err;

    if ((c->grant_types & TS_GRANT_CLIENT_CREDENTIALS) == 0) {
        ts_reqctx_error(ctx, TS_ERR_UNAUTHORIZED_CLIENT, "the client may not use the client_credentials grant");
        return;
    }
    if ((err = ts_oauth_scope_resolve(asked, &c->scopes, &c->default_scopes, resolved, sizeof(resolved), &why)) != TS_OK) {
        ts_reqctx_error(ctx, err, why);
        return;
    }
    /* the client is the subject: its roles decide the role-gated scopes (docs/roles.md) */
    if ((err = ts_oauth_scope_for_roles(ctx->dir, resolved, &c->roles, scope, sizeof(scope))) != TS_OK ||
        (*scope == '\0' && asked != NULL && *asked != '\0')) {
        ts_reqctx_error(ctx, TS_ERR_INVALID_SCOPE, "the client's roles do not allow this scope");
        return;
    }
    size_t n = ts_http_param_all(&ctx->params, "resource", resources, TS_RESOURCES_MAX + 1);
    const ts_config_t *conf = ctx->worker->app->conf;
    if ((err = ts_oauth_resources(resources, n, *conf->default_resource != '\0' ? conf->default_resource : conf->issuer, &aud,
                                  &why)) != TS_OK) {
        ts_reqctx_error(ctx, err, why);
        return;
    }
    reply_with_token(ctx, scope, aud);
    json_decref(aud);
}

int ts_ep_token(h2o_req_t *req)
{
    ts_reqctx_t *ctx = ts_reqctx_create_or_reply(req, repeatable);
    const char *grant;

    if (ctx == NULL)
        return 0;
    if ((grant = ts_http_param(&ctx->params, "grant_type")) == NULL)
        return ts_reqctx_error(ctx, TS_ERR_INVALID_REQUEST, "grant_type is required");
    if (strcmp(grant, "client_credentials") == 0) {
        ts_reqctx_authenticate(ctx, "/token", client_credentials);
    } else if (strcmp(grant, "authorization_code") == 0) {
        ctx->grant_needs_active_client = 1;
        ts_reqctx_authenticate(ctx, "/token", ts_token_authorization_code);
    } else if (strcmp(grant, "refresh_token") == 0) {
        ctx->grant_needs_active_client = 1;
        ts_reqctx_authenticate(ctx, "/token", ts_token_refresh);
    } else {
        return ts_reqctx_error(ctx, TS_ERR_UNSUPPORTED_GRANT_TYPE, NULL);
    }
    return 0;
}
