/* POST /revoke (RFC 7009). A client revokes only its own tokens; anything else (unknown, malformed,
 * another client's) is answered 200 all the same, so the endpoint tells a caller nothing about tokens that
 * are not its own. The revocation is written to the database (every node learns of it through NOTIFY) and
 * added to this node's set at once. */
#include <stdio.h>
#include <string.h>
#include "http/audit_http.h"
#include "http/endpoints.h"
#include "http/reqctx.h"

/* the longest an access token can live: a family's revocation must outlast every token issued from it */
#define MAX_ACCESS_TOKEN_TTL "86400"

static int done(ts_reqctx_t *ctx)
{
    ts_http_no_store(ctx->req);
    return ts_http_send(ctx->req, 200, NULL, "", 0);
}

/* what was revoked, by id (a jti, a grant family), or why nothing was: the caller is answered 200 either way */
static void audit(ts_reqctx_t *ctx, int revoked, const char *token_type, const char *id_name, const char *id, const char *reason)
{
    json_t *d = json_pack("{s:s}", "token_type", token_type);
    if (d != NULL && id != NULL)
        json_object_set_new(d, id_name, json_string(id));
    if (d != NULL && reason != NULL)
        json_object_set_new(d, "reason", json_string(reason));
    ts_http_audit(ctx->req, "revoke", revoked ? TS_AUDIT_SUCCESS : TS_AUDIT_FAILURE, ctx->auth.client->client_id, NULL, d);
}

static void on_jti_revoked(ts_reqctx_t *ctx, const ts_db_result_t *res, const char *err)
{
    if (err != NULL) {
        ts_reqctx_unavailable(ctx);
        return;
    }
    audit(ctx, 1, "access_token", "jti", ctx->flow, NULL);
    done(ctx);
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
    if (ts_db_result_rows(res) > 0)
        audit(ctx, 1, "refresh_token", "grant", ts_db_result_value(res, 0, 0), NULL);
    else
        audit(ctx, 0, "refresh_token", NULL, NULL, "unknown, already revoked, or another client's");
    done(ctx);
}

static void revoke_access_token(ts_reqctx_t *ctx, const char *token, size_t len)
{
    json_t *claims = NULL;
    char pk[24], exp[24];

    if (ts_jws_verify(token, len, TS_ALG_MASK(TS_ALG_ES256) | TS_ALG_MASK(TS_ALG_RS256), "at+jwt", ts_keyring_lookup, ctx->ring,
                      &claims, NULL) != TS_JWS_OK) {
        audit(ctx, 0, "access_token", NULL, NULL, "not a token of this server");
        done(ctx);
        return;
    }
    const char *client_id = json_string_value(json_object_get(claims, "client_id"));
    const char *jti = json_string_value(json_object_get(claims, "jti"));
    json_int_t expires = json_integer_value(json_object_get(claims, "exp"));
    if (client_id == NULL || jti == NULL || strcmp(client_id, ctx->auth.client->client_id) != 0 || expires <= ctx->now) {
        audit(ctx, 0, "access_token", "jti", jti, expires <= ctx->now ? "expired" : "another client's");
        json_decref(claims);
        done(ctx); /* not this client's, or dead already */
        return;
    }
    ctx->flow = (void *)ts_http_strdup(ctx->req, jti); /* for the audit event once it is stored */
    ts_revoked_add(ctx->worker->app->snaps->revoked, TS_REVOKED_JTI, jti, expires);
    snprintf(pk, sizeof(pk), "%lld", (long long)ctx->auth.client->pk);
    snprintf(exp, sizeof(exp), "%lld", (long long)expires);
    const char *params[3] = {jti, pk, exp};
    ts_reqctx_query(ctx, TS_STMT_REVOKE_JTI, 3, params, on_jti_revoked);
    json_decref(claims);
}

static void revoke_token(ts_reqctx_t *ctx)
{
    const char *token = ts_http_param(&ctx->params, "token");
    size_t len;

    if (token == NULL) {
        ts_http_send_error(ctx->req, TS_ERR_INVALID_REQUEST, "token is required");
        return;
    }
    len = strlen(token);
    /* token_type_hint is only a hint: the token's own shape decides (RFC 7009 §2.1) */
    if (strncmp(token, TS_PREFIX_REFRESH_TOKEN, strlen(TS_PREFIX_REFRESH_TOKEN)) == 0 && len < TS_HANDLE_MAX) {
        char hash[44], pk[24];
        ts_crypto_handle_hash(token, len, hash);
        snprintf(pk, sizeof(pk), "%lld", (long long)ctx->auth.client->pk);
        const char *params[3] = {hash, pk, MAX_ACCESS_TOKEN_TTL};
        ts_reqctx_query(ctx, TS_STMT_REVOKE_REFRESH, 3, params, on_family_revoked);
        return;
    }
    if (memchr(token, '.', len) != NULL) {
        revoke_access_token(ctx, token, len);
        return;
    }
    audit(ctx, 0, "unknown", NULL, NULL, "not a token of this server");
    done(ctx);
}

int ts_ep_revoke(h2o_req_t *req)
{
    ts_reqctx_t *ctx = ts_reqctx_create_or_reply(req, NULL);
    if (ctx != NULL)
        ts_reqctx_authenticate(ctx, "/revoke", revoke_token);
    return 0;
}
