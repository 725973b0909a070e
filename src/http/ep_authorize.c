/* GET|POST /authorize (RFC 6749 §4.1.1, OpenID Connect Core §3.1.2). The request is checked by
 * ts_oauth_authorize_check; then the session (if any) decides between the login page, the consent page and
 * the code. See docs/browser-flows.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http/browser.h"
#include "http/cookie.h"
#include "http/endpoints.h"

static const char *const repeatable[] = {"resource", NULL};

static void read_params(const ts_params_t *p, ts_authz_params_t *in)
{
    *in = (ts_authz_params_t){
        .client_id = ts_http_param(p, "client_id"),
        .redirect_uri = ts_http_param(p, "redirect_uri"),
        .response_type = ts_http_param(p, "response_type"),
        .response_mode = ts_http_param(p, "response_mode"),
        .scope = ts_http_param(p, "scope"),
        .state = ts_http_param(p, "state"),
        .nonce = ts_http_param(p, "nonce"),
        .code_challenge = ts_http_param(p, "code_challenge"),
        .code_challenge_method = ts_http_param(p, "code_challenge_method"),
        .prompt = ts_http_param(p, "prompt"),
        .max_age = ts_http_param(p, "max_age"),
        .login_hint = ts_http_param(p, "login_hint"),
        .ui_locales = ts_http_param(p, "ui_locales"),
        .acr_values = ts_http_param(p, "acr_values"),
        .display = ts_http_param(p, "display"),
        .id_token_hint = ts_http_param(p, "id_token_hint"),
        .request = ts_http_param(p, "request"),
        .request_uri = ts_http_param(p, "request_uri"),
    };
    in->num_resources = ts_http_param_all(p, "resource", in->resources, TS_RESOURCES_MAX + 1);
}

/* with no session that will do: the login page, or login_required when the client said prompt=none */
static void need_login(ts_reqctx_t *ctx)
{
    ts_flow_t *f = ts_browser_flow(ctx);
    if ((f->authz.prompt & TS_PROMPT_NONE) != 0) {
        ts_browser_redirect(ctx, &f->authz, NULL, TS_ERR_LOGIN_REQUIRED, NULL);
        return;
    }
    ts_browser_start_login(ctx);
}

static void on_session(ts_reqctx_t *ctx, const ts_db_result_t *res, const char *err)
{
    ts_flow_t *f = ts_browser_flow(ctx);
    const ts_user_t *user;

    if (err != NULL) {
        ts_log_error("looking up a session: %s", err);
        ts_browser_error_page(ctx->req, 500, TS_ERR_SERVER_ERROR, NULL);
        return;
    }
    if (ts_db_result_rows(res) != 1 || (user = ts_directory_user(ctx->dir, ts_db_result_value(res, 0, 1))) == NULL ||
        !user->active) {
        need_login(ctx);
        return;
    }
    f->who = (ts_signin_t){.user = user,
                           .session_id = ts_http_strdup(ctx->req, ts_db_result_value(res, 0, 0)),
                           .auth_time = strtoll(ts_db_result_value(res, 0, 2), NULL, 10),
                           .amr = ts_http_strdup(ctx->req, ts_db_result_value(res, 0, 3)),
                           .consented = ts_http_strdup(ctx->req, ts_db_result_value(res, 0, 5))};
    /* OIDC Core §3.1.2.1: prompt=login and an exceeded max_age both ask for the person again */
    if ((f->authz.prompt & TS_PROMPT_LOGIN) != 0 || (f->authz.max_age >= 0 && ctx->now - f->who.auth_time > f->authz.max_age)) {
        need_login(ctx);
        return;
    }
    ts_browser_continue(ctx);
}

int ts_ep_authorize(h2o_req_t *req)
{
    ts_reqctx_t *ctx = ts_reqctx_create_browser_or_reply(req, repeatable);
    const ts_app_t *app;
    ts_authz_params_t in;
    ts_authz_request_t r;
    ts_authz_error_t e = {0};
    char session[TS_COOKIE_VALUE_MAX + 1];

    if (ctx == NULL)
        return 0;
    app = ctx->worker->app;
    read_params(&ctx->params, &in);
    if (ts_oauth_authorize_check(ctx->dir, app->conf->default_resource, &in, &r, &e) != TS_OK) {
        if (!e.redirect)
            return ts_browser_error_page(req, 400, e.err, e.why);
        ts_authz_t a = {.client = r.client, .redirect_uri = r.redirect_uri, .state = r.state};
        return ts_browser_redirect(ctx, &a, NULL, e.err, e.why);
    }
    ts_flow_t *f = ts_browser_flow(ctx);
    ts_authz_from_request(req, &r, &f->authz);
    f->authz.redirect_uri_given = in.redirect_uri != NULL && *in.redirect_uri != '\0';

    int n = ts_http_cookie_get(req, TS_COOKIE_SESSION, app->secure_cookies, session, sizeof(session));
    if (n <= 0) {
        need_login(ctx);
        return 0;
    }
    char hash[44], idle[24], pk[24];
    ts_crypto_handle_hash(session, (size_t)n, hash);
    ts_crypto_cleanse(session, sizeof(session));
    snprintf(idle, sizeof(idle), "%u", app->conf->session_idle_timeout);
    snprintf(pk, sizeof(pk), "%lld", (long long)f->authz.client->pk);
    const char *params[3] = {hash, idle, pk};
    ts_reqctx_query(ctx, TS_STMT_SESSION_GET, 3, params, on_session);
    return 0;
}
