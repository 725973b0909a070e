/* POST /consent: the consent page's form. Allow remembers the consent and issues the code; deny sends
 * access_denied to the client. Either way the interaction is completed, so the form cannot be replayed. */
#include <stdlib.h>
#include <string.h>
#include "http/browser.h"
#include "http/endpoints.h"

static void on_denied(ts_reqctx_t *ctx, const ts_db_result_t *res, const char *err)
{
    ts_flow_t *f = ts_browser_flow(ctx);
    if (err != NULL || ts_db_result_rows(res) != 1) {
        ts_browser_error_page(ctx->req, 400, TS_ERR_INVALID_REQUEST, "this sign-in has already been completed");
        return;
    }
    ts_browser_redirect(ctx, &f->authz, NULL, TS_ERR_ACCESS_DENIED, "the user denied the request");
}

static void on_interaction(ts_reqctx_t *ctx, const ts_db_result_t *res, const char *err)
{
    ts_flow_t *f = ts_browser_flow(ctx);
    const char *decision = ts_http_param(&ctx->params, "decision");

    if (err != NULL) {
        ts_log_error("looking up an interaction: %s", err);
        ts_browser_error_page(ctx->req, 500, TS_ERR_SERVER_ERROR, NULL);
        return;
    }
    if (ts_db_result_rows(res) != 1) {
        ts_browser_error_page(ctx->req, 400, TS_ERR_INVALID_REQUEST,
                              "this sign-in has expired or was completed: go back to the application and start again");
        return;
    }
    if (ts_browser_check_binding_or_reply(ctx, ts_db_result_value(res, 0, 0), ts_db_result_value(res, 0, 1), f->csrf) != 0)
        return;
    if (ts_authz_parse(ctx->req, ctx->dir, ts_db_result_value(res, 0, 2), &f->authz) != 0 ||
        (f->who.user = ts_directory_user(ctx->dir, ts_db_result_value(res, 0, 3))) == NULL || !f->who.user->active) {
        ts_browser_error_page(ctx->req, 400, TS_ERR_INVALID_REQUEST, "the application or the account is no longer available");
        return;
    }
    f->who.session_id = ts_http_strdup(ctx->req, ts_db_result_value(res, 0, 4));
    f->who.auth_time = strtoll(ts_db_result_value(res, 0, 5), NULL, 10);
    f->who.amr = ts_http_strdup(ctx->req, ts_db_result_value(res, 0, 6));
    if (strcmp(decision, "allow") == 0) {
        /* a request stored before sign-in holds the scope as asked: cut it to the user's current roles */
        if (ts_browser_apply_roles(ctx) != 0)
            return;
        ts_browser_issue_code(ctx, f->authz.scope);
        return;
    }
    const char *params[1] = {f->interaction_hash};
    ts_reqctx_query(ctx, TS_STMT_INTERACTION_COMPLETE, 1, params, on_denied);
}

int ts_ep_consent(h2o_req_t *req)
{
    ts_reqctx_t *ctx = ts_reqctx_create_browser_or_reply(req, NULL);
    const char *interaction, *csrf, *decision;

    if (ctx == NULL)
        return 0;
    interaction = ts_http_param(&ctx->params, "interaction");
    csrf = ts_http_param(&ctx->params, "csrf_token");
    decision = ts_http_param(&ctx->params, "decision");
    if (interaction == NULL || csrf == NULL || decision == NULL || strlen(interaction) >= TS_HANDLE_MAX ||
        strlen(csrf) >= TS_HANDLE_MAX || (strcmp(decision, "allow") != 0 && strcmp(decision, "deny") != 0))
        return ts_browser_error_page(req, 400, TS_ERR_INVALID_REQUEST, "the consent form is incomplete");
    ts_flow_t *f = ts_browser_flow(ctx);
    ts_crypto_handle_hash(interaction, strlen(interaction), f->interaction_hash);
    memcpy(f->csrf, csrf, strlen(csrf) + 1); /* Flawfinder: ignore - checked shorter than TS_HANDLE_MAX above */
    const char *params[1] = {f->interaction_hash};
    ts_reqctx_query(ctx, TS_STMT_INTERACTION_GET, 1, params, on_interaction);
    return 0;
}
