/* Tokens for a person's grant: access token (RFC 9068), refresh token, ID token (OIDC Core §3.1.3.3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http/audit_http.h"
#include "http/token_user.h"
#include "tessera/oauth_browser.h"

int ts_token_new_family(char out[37])
{
    unsigned char b[16];
    if (ts_crypto_random(b, sizeof(b)) != 0)
        return -1;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
             b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return 0;
}

/* the aud of the access token: the grant's resources, or the default */
static json_t *audience(ts_reqctx_t *ctx, const char *resources)
{
    const ts_config_t *conf = ctx->worker->app->conf;
    json_t *list = json_loads(resources != NULL ? resources : "[]", 0, NULL), *aud = NULL;
    const char *values[TS_RESOURCES_MAX];
    size_t n = 0;
    const char *why;

    for (size_t i = 0; json_is_array(list) && i < json_array_size(list) && n < TS_RESOURCES_MAX; ++i)
        if (json_is_string(json_array_get(list, i)))
            values[n++] = json_string_value(json_array_get(list, i));
    if (ts_oauth_resources(values, n, *conf->default_resource != '\0' ? conf->default_resource : conf->issuer, &aud, &why) != TS_OK)
        aud = NULL;
    json_decref(list);
    return aud;
}

int ts_token_reply_user(ts_reqctx_t *ctx, const ts_user_grant_t *g)
{
    const ts_app_t *app = ctx->worker->app;
    const ts_client_t *c = ctx->auth.client;
    const ts_key_t *at_key = ts_keyring_current(ctx->ring, app->access_token_alg);
    const ts_key_t *id_key = ts_keyring_current(ctx->ring, c->id_token_alg);
    unsigned ttl = c->access_token_ttl != 0 ? c->access_token_ttl : app->conf->access_token_ttl;
    json_t *aud = audience(ctx, g->resources), *body;
    char *access = NULL, *id = NULL, jti[TS_JTI_LEN + 1];
    ts_strs_t amr = {0};
    const char *amr_items[1] = {g->amr};

    if (aud == NULL || at_key == NULL || id_key == NULL) {
        json_decref(aud);
        return ts_reqctx_unavailable(ctx);
    }
    ts_access_token_t t = {.issuer = app->conf->issuer, .subject = g->user->subject, .client_id = c->client_id, .scope = g->scope,
                           .aud = aud, .roles = &g->user->roles, .grant_id = g->family, .auth_time = g->auth_time,
                           .now = ctx->now, .ttl = ttl};
    int ret = ts_oauth_access_token_sign(at_key, &t, &access, jti);
    json_decref(aud);
    if (ret != 0)
        return ts_reqctx_unavailable(ctx);
    if (ts_scope_subset("openid", g->granted_scope)) {
        if (g->amr != NULL && *g->amr != '\0' && strchr(g->amr, ' ') == NULL) /* one method is all we record */
            amr = (ts_strs_t){amr_items, 1};
        ts_id_token_t it = {.issuer = app->conf->issuer, .subject = g->user->subject, .client_id = c->client_id, .nonce = g->nonce,
                            .access_token = access, .amr = &amr, .auth_time = g->auth_time, .now = ctx->now,
                            .ttl = app->conf->id_token_ttl};
        if (ts_oauth_id_token_sign(id_key, &it, &id) != 0) {
            free(access);
            return ts_reqctx_unavailable(ctx);
        }
    }
    body = json_pack("{s:s, s:s, s:i, s:s}", "access_token", access, "token_type", "Bearer", "expires_in", (int)ttl, "scope",
                     g->scope);
    if (body != NULL && g->refresh_token != NULL)
        json_object_set_new(body, "refresh_token", json_string(g->refresh_token));
    if (body != NULL && id != NULL)
        json_object_set_new(body, "id_token", json_string(id));
    free(access);
    free(id);
    /* ids only: the token's jti and the grant's family, never a token or a refresh handle */
    const char *grant = ts_http_param(&ctx->params, "grant_type");
    ts_http_audit(ctx->req, "token.issue", TS_AUDIT_SUCCESS, c->client_id, g->user->subject,
                  json_pack("{s:s, s:s?, s:s, s:s?}", "grant_type",
                            grant != NULL && strcmp(grant, "refresh_token") == 0 ? "refresh_token" : "authorization_code", "scope",
                            g->scope, "jti", jti, "grant", g->family));
    ts_http_no_store(ctx->req);
    return ts_http_send_json(ctx->req, 200, body);
}

static void on_family_revoked(ts_reqctx_t *ctx, const ts_db_result_t *res, const char *err)
{
    if (err != NULL) {
        ts_reqctx_unavailable(ctx);
        return;
    }
    for (int i = 0; i < ts_db_result_rows(res); ++i)
        ts_revoked_add(ctx->worker->app->snaps->revoked, TS_REVOKED_FAMILY, ts_db_result_value(res, i, 0),
                       strtoll(ts_db_result_value(res, i, 1), NULL, 10));
    ts_reqctx_error(ctx, TS_ERR_INVALID_GRANT, ctx->why);
}

void ts_token_revoke_family_and_fail(ts_reqctx_t *ctx, const char *family, int64_t client_pk, const char *why)
{
    char pk[24];
    snprintf(pk, sizeof(pk), "%lld", (long long)client_pk);
    ctx->why = why;
    const char *params[3] = {family, pk, TS_MAX_ACCESS_TOKEN_TTL};
    ts_reqctx_query(ctx, TS_STMT_FAMILY_REVOKE, 3, params, on_family_revoked);
}
