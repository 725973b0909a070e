/* POST /introspect (RFC 7662), and its JWT answer (RFC 9701). JWT access tokens are judged from memory;
 * refresh tokens, which are opaque handles, need one query. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "http/audit_http.h"
#include "http/endpoints.h"
#include "http/reqctx.h"
#include "tessera/jwt_cache.h"

#define INTROSPECTION_JWT "application/token-introspection+jwt"

static int wants_jwt(h2o_req_t *req)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_ACCEPT, -1);
    return i != -1 && h2o_strstr(req->headers.entries[i].value.base, req->headers.entries[i].value.len, H2O_STRLIT(INTROSPECTION_JWT)) !=
                          SIZE_MAX;
}

/* RFC 9701 §5: the answer wrapped in a JWT signed by the server, addressed to the caller */
static int send_as_jwt(ts_reqctx_t *ctx, json_t *answer)
{
    const ts_key_t *key = ts_keyring_current(ctx->ring, TS_ALG_RS256);
    json_t *claims = json_pack("{s:s, s:s, s:I, s:o}", "iss", ctx->worker->app->conf->issuer, "aud", ctx->auth.client->client_id,
                               "iat", (json_int_t)ctx->now, "token_introspection", answer);
    char *jwt = NULL;
    int ok = key != NULL && claims != NULL && ts_jws_sign(key, "token-introspection+jwt", claims, &jwt) == 0;

    json_decref(claims);
    if (!ok)
        return ts_reqctx_unavailable(ctx);
    ts_http_no_store(ctx->req);
    ts_http_send(ctx->req, 200, INTROSPECTION_JWT, jwt, strlen(jwt));
    free(jwt);
    return 0;
}

static int answer(ts_reqctx_t *ctx, json_t *active)
{
    if (active == NULL)
        active = json_pack("{s:b}", "active", 0); /* and nothing else (RFC 7662 §2.2) */
    if (wants_jwt(ctx->req))
        return send_as_jwt(ctx, active);
    ts_http_no_store(ctx->req);
    return ts_http_send_json(ctx->req, 200, active);
}

/* signature first (or the cache of tokens this thread already verified), then the judgement of the moment */
json_t *ts_reqctx_judge_access_token(ts_reqctx_t *ctx, const char *token, size_t len)
{
    ts_jwt_cache_t *cache = ctx->worker->jwt_cache;
    const char *kid = NULL;
    const json_t *claims = cache != NULL ? ts_jwt_cache_get(cache, token, len, ctx->now, &kid) : NULL;
    ts_introspect_ctx_t ictx = {ctx->dir, ctx->worker->app->snaps->revoked, ctx->worker->app->conf->issuer, ctx->now};

    /* a cached token still needs its key to be published: a removed key takes its tokens with it */
    if (claims != NULL && (ts_keyring_find(ctx->ring, kid, TS_ALG_ES256) != NULL || ts_keyring_find(ctx->ring, kid, TS_ALG_RS256) != NULL))
        return ts_oauth_introspect_access_token(&ictx, claims);

    json_t *verified = NULL, *header = NULL;
    if (ts_jws_verify(token, len, TS_ALG_MASK(TS_ALG_ES256) | TS_ALG_MASK(TS_ALG_RS256), "at+jwt", ts_keyring_lookup, ctx->ring,
                      &verified, &header) != TS_JWS_OK)
        return NULL;
    json_t *result = ts_oauth_introspect_access_token(&ictx, verified);
    json_t *exp = json_object_get(verified, "exp");
    if (cache != NULL && json_is_integer(exp))
        ts_jwt_cache_put(cache, token, len, json_string_value(json_object_get(header, "kid")), verified, json_integer_value(exp));
    json_decref(verified);
    json_decref(header);
    return result;
}

static void on_refresh_row(ts_reqctx_t *ctx, const ts_db_result_t *res, const char *err)
{
    if (err != NULL || ts_db_result_rows(res) != 1) {
        answer(ctx, NULL);
        return;
    }
    const char *client_id = ts_db_result_value(res, 0, 0), *subject = ts_db_result_value(res, 0, 1);
    const char *scope = ts_db_result_value(res, 0, 2), *family = ts_db_result_value(res, 0, 5);
    const ts_client_t *c = ts_directory_client(ctx->dir, client_id);
    const ts_user_t *u = subject != NULL ? ts_directory_user(ctx->dir, subject) : NULL;
    if (c == NULL || !c->active || (subject != NULL && (u == NULL || !u->active)) ||
        ts_revoked_has(ctx->worker->app->snaps->revoked, TS_REVOKED_FAMILY, family)) {
        answer(ctx, NULL);
        return;
    }
    json_t *r = json_pack("{s:b, s:s, s:s, s:s, s:I, s:I, s:s}", "active", 1, "iss", ctx->worker->app->conf->issuer, "client_id",
                          client_id, "sub", subject != NULL ? subject : client_id, "iat",
                          (json_int_t)strtoll(ts_db_result_value(res, 0, 3), NULL, 10), "exp",
                          (json_int_t)strtoll(ts_db_result_value(res, 0, 4), NULL, 10), "token_type", "refresh_token");
    if (r != NULL && scope != NULL && *scope != '\0')
        json_object_set_new(r, "scope", json_string(scope));
    answer(ctx, r);
}

static void introspect(ts_reqctx_t *ctx)
{
    const char *token = ts_http_param(&ctx->params, "token");

    if (!ctx->auth.client->may_introspect) {
        ts_http_audit(ctx->req, "introspect.refuse", TS_AUDIT_FAILURE, ctx->auth.client->client_id, NULL,
                      json_pack("{s:s}", "error", "access_denied"));
        ts_http_send_error(ctx->req, TS_ERR_ACCESS_DENIED, "this client may not introspect tokens");
        return;
    }
    if (token == NULL) {
        ts_http_send_error(ctx->req, TS_ERR_INVALID_REQUEST, "token is required");
        return;
    }
    /* the hint is only a hint: the token's own shape decides (RFC 7662 §2.1) */
    size_t len = strlen(token);
    if (strncmp(token, TS_PREFIX_REFRESH_TOKEN, strlen(TS_PREFIX_REFRESH_TOKEN)) == 0 && len < TS_HANDLE_MAX) {
        char hash[44];
        ts_crypto_handle_hash(token, len, hash);
        const char *params[1] = {hash};
        ts_reqctx_query(ctx, TS_STMT_INTROSPECT_REFRESH, 1, params, on_refresh_row);
        return;
    }
    answer(ctx, memchr(token, '.', len) != NULL ? ts_reqctx_judge_access_token(ctx, token, len) : NULL);
}

int ts_ep_introspect(h2o_req_t *req)
{
    ts_reqctx_t *ctx = ts_reqctx_create_or_reply(req, NULL);
    if (ctx != NULL)
        ts_reqctx_authenticate(ctx, "/introspect", introspect);
    return 0;
}
