/* grant_type=authorization_code (RFC 6749 §4.1.3, RFC 7636 §4.6). Using the code marks it spent in the same
 * statement that reads it, so two concurrent uses cannot both succeed; a second use revokes what the first
 * one issued (RFC 6749 §4.1.2). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http/audit_http.h"
#include "http/token_user.h"
#include "tessera/oauth_browser.h"

typedef struct st_code_flow_t {
    ts_user_grant_t grant;
    char family[37];
    char refresh[TS_HANDLE_MAX];
} code_flow_t;

static void on_refresh_stored(ts_reqctx_t *ctx, const ts_db_result_t *res, const char *err)
{
    code_flow_t *f = ctx->flow;
    if (err != NULL || ts_db_result_rows(res) != 1) {
        ts_log_error("storing a refresh token: %s", err != NULL ? err : "the user is gone");
        ts_reqctx_unavailable(ctx);
        return;
    }
    f->grant.refresh_token = f->refresh;
    ts_token_reply_user(ctx, &f->grant);
    ts_crypto_cleanse(f->refresh, sizeof(f->refresh));
}

/* the code's columns, as TS_STMT_CODE_USE returns them */
enum { C_FIRST, C_FAMILY, C_CLIENT, C_SUBJECT, C_REDIRECT, C_SCOPE, C_RESOURCES, C_CHALLENGE, C_NONCE, C_AUTH_TIME, C_AMR, C_ACR, C_EXP, C_REDIRECT_GIVEN };

/* the checks of RFC 6749 §4.1.3 and RFC 7636 §4.6 on a code used for the first time; NULL when it passes */
static const char *check_code(ts_reqctx_t *ctx, const ts_db_result_t *res)
{
    const char *redirect_uri = ts_http_param(&ctx->params, "redirect_uri");
    const char *verifier = ts_http_param(&ctx->params, "code_verifier");
    const char *challenge = ts_db_result_value(res, 0, C_CHALLENGE);
    const ts_client_t *c = ctx->auth.client;

    if (strtoll(ts_db_result_value(res, 0, C_CLIENT), NULL, 10) != c->pk)
        return "the code was issued to another client";
    if (strtoll(ts_db_result_value(res, 0, C_EXP), NULL, 10) <= ctx->now)
        return "the code has expired";
    /* RFC 6749 §4.1.3: repeated exactly when the authorization request had it */
    if (redirect_uri != NULL ? strcmp(redirect_uri, ts_db_result_value(res, 0, C_REDIRECT)) != 0
                             : strcmp(ts_db_result_value(res, 0, C_REDIRECT_GIVEN), "t") == 0)
        return "redirect_uri does not match the authorization request";
    if (challenge == NULL && verifier != NULL)
        return "code_verifier sent for a code issued without code_challenge"; /* RFC 9700 §2.1.1: PKCE downgrade */
    if (challenge != NULL && verifier == NULL)
        return "code_verifier is required";
    if (challenge != NULL && !ts_pkce_s256_matches(verifier, strlen(verifier), challenge))
        return "code_verifier does not match the code_challenge";
    return NULL;
}

static void on_code(ts_reqctx_t *ctx, const ts_db_result_t *res, const char *err)
{
    code_flow_t *f = ctx->flow;
    const ts_client_t *c = ctx->auth.client;
    const ts_config_t *conf = ctx->worker->app->conf;
    const char *why;

    if (err != NULL) {
        ts_log_error("using an authorization code: %s", err);
        ts_reqctx_unavailable(ctx);
        return;
    }
    if (ts_db_result_rows(res) != 1) {
        ts_reqctx_error(ctx, TS_ERR_INVALID_GRANT, "unknown authorization code");
        return;
    }
    if (strcmp(ts_db_result_value(res, 0, C_FIRST), "t") != 0) {
        const char *family = ts_db_result_value(res, 0, C_FAMILY);
        ts_log_warn("authorization code replayed by client %s: revoking grant %s", c->client_id, family);
        ts_http_audit(ctx->req, "code.replay", TS_AUDIT_FAILURE, c->client_id, ts_db_result_value(res, 0, C_SUBJECT),
                      json_pack("{s:s?, s:s}", "grant", family, "response", "grant revoked"));
        ts_token_revoke_family_and_fail(ctx, family, strtoll(ts_db_result_value(res, 0, C_CLIENT), NULL, 10),
                                        "the authorization code has already been used");
        return;
    }
    if ((why = check_code(ctx, res)) != NULL) {
        ts_reqctx_error(ctx, TS_ERR_INVALID_GRANT, why);
        return;
    }
    const ts_user_t *user = ts_directory_user(ctx->dir, ts_db_result_value(res, 0, C_SUBJECT));
    if (user == NULL || !user->active) {
        ts_reqctx_error(ctx, TS_ERR_INVALID_GRANT, "the user is disabled");
        return;
    }
    const char *scope = ts_http_strdup(ctx->req, ts_db_result_value(res, 0, C_SCOPE));
    f->grant = (ts_user_grant_t){.user = user,
                                 .scope = scope,
                                 .granted_scope = scope,
                                 .resources = ts_http_strdup(ctx->req, ts_db_result_value(res, 0, C_RESOURCES)),
                                 .family = f->family,
                                 .nonce = ts_http_strdup(ctx->req, ts_db_result_value(res, 0, C_NONCE)),
                                 .amr = ts_http_strdup(ctx->req, ts_db_result_value(res, 0, C_AMR)),
                                 .auth_time = strtoll(ts_db_result_value(res, 0, C_AUTH_TIME), NULL, 10)};
    if ((c->grant_types & TS_GRANT_REFRESH_TOKEN) == 0) {
        ts_token_reply_user(ctx, &f->grant);
        return;
    }
    char hash[44], pk[24], auth_time[24], idle[24], lifetime[24];
    if (ts_crypto_handle_new(TS_PREFIX_REFRESH_TOKEN, f->refresh, sizeof(f->refresh)) != 0) {
        ts_reqctx_unavailable(ctx);
        return;
    }
    ts_crypto_handle_hash(f->refresh, strlen(f->refresh), hash);
    snprintf(pk, sizeof(pk), "%lld", (long long)c->pk);
    snprintf(auth_time, sizeof(auth_time), "%lld", (long long)f->grant.auth_time);
    snprintf(idle, sizeof(idle), "%u", conf->refresh_token_idle_timeout);
    snprintf(lifetime, sizeof(lifetime), "%u", conf->refresh_token_lifetime);
    const char *params[9] = {hash, f->family, pk, user->subject, scope, f->grant.resources, auth_time, idle, lifetime};
    ts_reqctx_query(ctx, TS_STMT_REFRESH_INSERT, 9, params, on_refresh_stored);
}

void ts_token_authorization_code(ts_reqctx_t *ctx)
{
    const char *code = ts_http_param(&ctx->params, "code");
    const char *verifier = ts_http_param(&ctx->params, "code_verifier");
    code_flow_t *f;
    char hash[44];

    if ((ctx->auth.client->grant_types & TS_GRANT_AUTHORIZATION_CODE) == 0) {
        ts_reqctx_error(ctx, TS_ERR_UNAUTHORIZED_CLIENT, "the client may not use the authorization_code grant");
        return;
    }
    if (code == NULL) {
        ts_reqctx_error(ctx, TS_ERR_INVALID_REQUEST, "code is required");
        return;
    }
    if (verifier != NULL && !ts_pkce_verifier_valid(verifier, strlen(verifier))) {
        ts_reqctx_error(ctx, TS_ERR_INVALID_REQUEST, "code_verifier must be 43 to 128 unreserved characters");
        return;
    }
    if (strncmp(code, TS_PREFIX_AUTH_CODE, strlen(TS_PREFIX_AUTH_CODE)) != 0 || strlen(code) >= TS_HANDLE_MAX) {
        ts_reqctx_error(ctx, TS_ERR_INVALID_GRANT, "unknown authorization code");
        return;
    }
    f = h2o_mem_alloc_pool(&ctx->req->pool, sizeof(*f));
    memset(f, 0, sizeof(*f));
    ctx->flow = f;
    if (ts_token_new_family(f->family) != 0) {
        ts_reqctx_unavailable(ctx);
        return;
    }
    ts_crypto_handle_hash(code, strlen(code), hash);
    const char *params[2] = {hash, f->family};
    ts_reqctx_query(ctx, TS_STMT_CODE_USE, 2, params, on_code);
}
