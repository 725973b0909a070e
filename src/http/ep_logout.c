/* GET|POST /logout: RP-Initiated Logout 1.0. With an id_token_hint we signed (it may have expired) for the
 * signed-in user, the session ends at once; otherwise the person confirms on a page whose form carries a token
 * derived from their session, so another site cannot sign them out. post_logout_redirect_uri must be
 * registered exactly for the client the hint or client_id names; without one the "signed out" page shows. */
#include <string.h>
#include "http/browser.h"
#include "http/cookie.h"
#include "http/endpoints.h"

typedef struct st_logout_t {
    const char *redirect; /* a registered post-logout URI, or NULL */
    const char *state;
    const char *client_id;
    int by_hint; /* ending only the hint's user's session */
    char session_hash[44];
    char confirm[TS_SECRET_HASH_LEN];
} logout_t;

static int finish(ts_reqctx_t *ctx)
{
    logout_t *l = ctx->flow;
    ts_http_cookie_set(ctx->req, TS_COOKIE_SESSION, ctx->worker->app->secure_cookies, NULL, 0);
    if (l->redirect != NULL)
        return ts_browser_redirect_state(ctx->req, l->redirect, l->state);
    return ts_browser_page(ctx->req, 200, TS_PAGE_LOGOUT, json_pack("{s:b}", "signed_out", 1), NULL);
}

static int confirm_page(ts_reqctx_t *ctx)
{
    logout_t *l = ctx->flow;
    json_t *vars = json_pack("{s:b, s:s}", "confirm", 1, "csrf_token", l->confirm);
    if (vars != NULL && l->redirect != NULL)
        json_object_set_new(vars, "post_logout_redirect_uri", json_string(l->redirect));
    if (vars != NULL && l->state != NULL)
        json_object_set_new(vars, "state", json_string(l->state));
    if (vars != NULL && l->client_id != NULL)
        json_object_set_new(vars, "client_id", json_string(l->client_id));
    return ts_browser_page(ctx->req, 200, TS_PAGE_LOGOUT, vars, l->redirect);
}

static void on_ended(ts_reqctx_t *ctx, const ts_db_result_t *res, const char *err)
{
    logout_t *l = ctx->flow;
    if (err != NULL) {
        ts_log_error("ending a session: %s", err);
        ts_browser_error_page(ctx->req, 500, TS_ERR_SERVER_ERROR, NULL);
        return;
    }
    if (l->by_hint && ts_db_result_rows(res) == 0) {
        confirm_page(ctx); /* the session is someone else's (or over): let the person in front of it decide */
        return;
    }
    finish(ctx);
}

static void end_session(ts_reqctx_t *ctx, const char *subject)
{
    logout_t *l = ctx->flow;
    const char *params[2] = {l->session_hash, subject};
    ts_reqctx_query(ctx, TS_STMT_SESSION_END, 2, params, on_ended);
}

/* the confirmation form's token: bound to this browser's session, useless anywhere else */
static void confirm_token(const ts_app_t *app, const char *session, size_t len, char out[TS_SECRET_HASH_LEN])
{
    char input[TS_COOKIE_VALUE_MAX + 9];
    int n = snprintf(input, sizeof(input), "logout:%.*s", (int)len, session);
    ts_secret_hash(&app->hasher, input, (size_t)n, out);
    ts_crypto_cleanse(input, sizeof(input));
}

/* the claims of an ID token we signed, whatever its expiry; NULL when it is not one */
static json_t *read_hint(ts_reqctx_t *ctx, const char *hint)
{
    json_t *claims = NULL;
    size_t len = strlen(hint);
    if (len > TS_JWS_MAX_LEN || ts_jws_verify(hint, len, TS_ALG_MASK(TS_ALG_ES256) | TS_ALG_MASK(TS_ALG_RS256), "JWT",
                                              ts_keyring_lookup, ctx->ring, &claims, NULL) != TS_JWS_OK)
        return NULL;
    const char *iss = json_string_value(json_object_get(claims, "iss"));
    if (iss == NULL || strcmp(iss, ctx->worker->app->conf->issuer) != 0 || !json_is_string(json_object_get(claims, "sub")) ||
        !json_is_string(json_object_get(claims, "aud"))) {
        json_decref(claims);
        return NULL;
    }
    return claims;
}

int ts_ep_logout(h2o_req_t *req)
{
    ts_reqctx_t *ctx = ts_reqctx_create_browser_or_reply(req, NULL);
    if (ctx == NULL)
        return 0;
    const ts_app_t *app = ctx->worker->app;
    const char *hint = ts_http_param(&ctx->params, "id_token_hint"), *client_id = ts_http_param(&ctx->params, "client_id");
    const char *uri = ts_http_param(&ctx->params, "post_logout_redirect_uri"), *csrf = ts_http_param(&ctx->params, "csrf_token");
    logout_t *l = h2o_mem_alloc_pool(&req->pool, sizeof(*l));
    json_t *claims = NULL;

    memset(l, 0, sizeof(*l));
    ctx->flow = l;
    l->state = ts_http_param(&ctx->params, "state");
    if (hint != NULL && (claims = read_hint(ctx, hint)) == NULL)
        return ts_browser_error_page(req, 400, TS_ERR_INVALID_REQUEST, "id_token_hint is not an ID token issued here");
    const char *aud = claims != NULL ? json_string_value(json_object_get(claims, "aud")) : NULL;
    if (aud != NULL && client_id != NULL && strcmp(aud, client_id) != 0) {
        json_decref(claims);
        return ts_browser_error_page(req, 400, TS_ERR_INVALID_REQUEST, "client_id does not match the id_token_hint");
    }
    const ts_client_t *client = ts_directory_client(ctx->dir, aud != NULL ? aud : client_id != NULL ? client_id : "");
    if (uri != NULL) {
        if (client == NULL || !ts_strs_contains(&client->post_logout_redirect_uris, uri)) {
            json_decref(claims);
            return ts_browser_error_page(req, 400, TS_ERR_INVALID_REQUEST,
                                         "post_logout_redirect_uri is not registered for this client");
        }
        l->redirect = uri;
    }

    char session[TS_COOKIE_VALUE_MAX + 1];
    l->client_id = client != NULL ? client->client_id : NULL;
    int n = ts_http_cookie_get(req, TS_COOKIE_SESSION, app->secure_cookies, session, sizeof(session));
    if (n <= 0) {
        json_decref(claims);
        return finish(ctx); /* nobody is signed in here */
    }
    ts_crypto_handle_hash(session, (size_t)n, l->session_hash);
    confirm_token(app, session, (size_t)n, l->confirm);
    ts_crypto_cleanse(session, sizeof(session));
    if (csrf != NULL && h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST"))) {
        json_decref(claims);
        if (strlen(csrf) != strlen(l->confirm) || !ts_crypto_equal(csrf, l->confirm, strlen(l->confirm)))
            return ts_browser_error_page(req, 403, TS_ERR_ACCESS_DENIED, "the sign-out form is stale: sign out again");
        end_session(ctx, NULL);
        return 0;
    }
    if (claims != NULL) {
        /* only the hint's user is signed out this way: another user's session needs their own confirmation */
        l->by_hint = 1;
        end_session(ctx, ts_http_strdup(req, json_string_value(json_object_get(claims, "sub"))));
        json_decref(claims);
        return 0;
    }
    return confirm_page(ctx);
}
