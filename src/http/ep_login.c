/* POST /login: the login page's form. The interaction and its binding are checked, then the password, with
 * argon2id on a worker thread (an unknown user is checked against a dummy hash, so that it costs the same).
 * Failures are throttled per account and per address; the message never says which part was wrong. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http/audit_http.h"
#include "http/browser.h"
#include "http/cookie.h"
#include "http/endpoints.h"
#include "http/offload.h"
#include "http/ratelimit_http.h"
#include "tessera/throttle.h"

#define WRONG_CREDENTIALS "Incorrect username or password."

/* what the worker thread needs: copies, since the request may go away while it runs */
typedef struct st_check_t {
    ts_reqctx_t *ctx;
    char phc[TS_PASSWORD_HASH_MAX];
    char password[TS_PASSWORD_MAX + 1];
    size_t password_len;
    int known;  /* the user exists, is active, and phc is theirs */
    int result; /* 1 when the password matched */
} check_t;

typedef struct st_login_t {
    const char *interaction, *csrf, *username;
    char account_key[160], address_key[TS_HTTP_ADDRESS_KEY_MAX];
    int64_t user_id;
} login_t;

static login_t *login_of(ts_reqctx_t *ctx)
{
    return (login_t *)(ts_browser_flow(ctx) + 1);
}

static void on_work(void *arg)
{
    check_t *c = arg;
    c->result = ts_password_verify(c->phc, c->password, c->password_len) == 1 && c->known;
    ts_crypto_cleanse(c->password, sizeof(c->password));
}

static void on_logged_in(ts_reqctx_t *ctx, const ts_db_result_t *res, const char *err)
{
    ts_flow_t *f = ts_browser_flow(ctx);
    const ts_app_t *app = ctx->worker->app;

    if (err != NULL || ts_db_result_rows(res) != 1) {
        ts_log_error("storing a session: %s", err != NULL ? err : "no row");
        ts_browser_error_page(ctx->req, 500, TS_ERR_SERVER_ERROR, NULL);
        return;
    }
    ts_http_cookie_set(ctx->req, TS_COOKIE_SESSION, app->secure_cookies, f->handle, 0);
    ts_crypto_cleanse(f->handle, sizeof(f->handle));
    ts_http_audit(ctx->req, "login", TS_AUDIT_SUCCESS, f->who.user->subject, NULL,
                  json_pack("{s:s, s:s}", "client_id", f->authz.client->client_id, "method", "pwd"));
    f->who.session_id = ts_http_strdup(ctx->req, ts_db_result_value(res, 0, 0));
    f->who.auth_time = strtoll(ts_db_result_value(res, 0, 1), NULL, 10);
    f->who.amr = "pwd";
    const char *consented = ts_db_result_value(res, 0, 2);
    f->who.consented = ts_http_strdup(ctx->req, consented);
    /* the consent page, if it comes, belongs to the same interaction: its posted handle and token go on */
    login_t *l = login_of(ctx);
    snprintf(f->handle, sizeof(f->handle), "%s", l->interaction);
    snprintf(f->csrf, sizeof(f->csrf), "%s", l->csrf);
    ts_browser_continue(ctx);
}

static void on_checked(void *arg)
{
    check_t *c = arg;
    ts_reqctx_t *ctx = c->ctx;
    ts_flow_t *f = ts_browser_flow(ctx);
    login_t *l = login_of(ctx);
    const ts_app_t *app = ctx->worker->app;

    ctx->job = NULL;
    if (!c->result) {
        unsigned failures = ts_throttle_fail(app->login_throttle, l->account_key, ctx->now);
        ts_throttle_fail(app->login_throttle, l->address_key, ctx->now);
        /* the account by its subject, never the name typed (which may be someone's password typed in the wrong box) */
        ts_log_info("sign-in failed for %s from %s (%u in a row)", f->who.user != NULL ? f->who.user->subject : "an unknown account",
                    l->address_key + 2, failures);
        /* the account by its subject when it exists; never the username typed */
        ts_http_audit(ctx->req, "login", TS_AUDIT_FAILURE, NULL, f->who.user != NULL ? f->who.user->subject : NULL,
                      json_pack("{s:s, s:s}", "client_id", f->authz.client->client_id, "reason", "wrong credentials"));
        ts_browser_login_page(ctx, 200, l->interaction, l->csrf, l->username, WRONG_CREDENTIALS);
        return;
    }
    ts_throttle_clear(app->login_throttle, l->account_key);
    char session_hash[44], user_id[24], lifetime[24], pk[24];
    if (ts_crypto_handle_new(TS_PREFIX_SESSION, f->handle, sizeof(f->handle)) != 0) {
        ts_browser_error_page(ctx->req, 500, TS_ERR_SERVER_ERROR, NULL);
        return;
    }
    ts_crypto_handle_hash(f->handle, strlen(f->handle), session_hash);
    snprintf(user_id, sizeof(user_id), "%lld", (long long)l->user_id);
    snprintf(lifetime, sizeof(lifetime), "%u", app->conf->session_lifetime);
    snprintf(pk, sizeof(pk), "%lld", (long long)f->authz.client->pk);
    const char *params[5] = {f->interaction_hash, session_hash, user_id, lifetime, pk};
    ts_reqctx_query(ctx, TS_STMT_LOGIN_COMPLETE, 5, params, on_logged_in);
}

static void on_interaction(ts_reqctx_t *ctx, const ts_db_result_t *res, const char *err)
{
    ts_flow_t *f = ts_browser_flow(ctx);
    login_t *l = login_of(ctx);
    const ts_app_t *app = ctx->worker->app;
    const char *password = ts_http_param(&ctx->params, "password");
    unsigned wait;

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
    if (ts_browser_check_binding_or_reply(ctx, ts_db_result_value(res, 0, 0), ts_db_result_value(res, 0, 1), l->csrf) != 0)
        return;
    if (ts_authz_parse(ctx->req, ctx->dir, ts_db_result_value(res, 0, 2), &f->authz) != 0) {
        ts_browser_error_page(ctx->req, 400, TS_ERR_INVALID_REQUEST, "the application is no longer available");
        return;
    }
    if ((wait = ts_throttle_wait(app->login_throttle, l->account_key, ctx->now)) != 0 ||
        (wait = ts_throttle_wait(app->login_throttle, l->address_key, ctx->now)) != 0) {
        char msg[128], retry[16];
        snprintf(msg, sizeof(msg), "Too many failed attempts. Try again in %u second%s.", wait, wait == 1 ? "" : "s");
        snprintf(retry, sizeof(retry), "%u", wait);
        ts_http_header(ctx->req, "retry-after", retry);
        ts_http_audit(ctx->req, "login", TS_AUDIT_FAILURE, NULL, ts_db_result_value(res, 0, 4),
                      json_pack("{s:s, s:s}", "client_id", f->authz.client->client_id, "reason", "throttled"));
        ts_browser_login_page(ctx, 429, l->interaction, l->csrf, l->username, msg);
        return;
    }

    check_t c = {.ctx = ctx, .password_len = strlen(password)};
    const char *user_id = ts_db_result_value(res, 0, 3), *subject = ts_db_result_value(res, 0, 4);
    const char *phc = ts_db_result_value(res, 0, 5), *status = ts_db_result_value(res, 0, 6);
    const ts_user_t *user = subject != NULL ? ts_directory_user(ctx->dir, subject) : NULL;
    c.known = user != NULL && user->active && status != NULL && strcmp(status, "active") == 0 && phc != NULL &&
              strlen(phc) < sizeof(c.phc);
    snprintf(c.phc, sizeof(c.phc), "%s", c.known ? phc : app->dummy_password_hash);
    memcpy(c.password, password, c.password_len); /* Flawfinder: ignore - the form bounds it below TS_PASSWORD_MAX */
    if (c.known) {
        l->user_id = strtoll(user_id, NULL, 10);
        f->who.user = user;
    }
    ctx->job = ts_offload(app->password_pool, ctx->worker->offload_return, on_work, on_checked, &c, sizeof(c));
    ts_crypto_cleanse(c.password, sizeof(c.password));
    if (ctx->job == NULL)
        ts_reqctx_unavailable(ctx);
}

/* "u:<username in lower case>": the same account however it is typed */
static void account_key(const char *username, char *out, size_t cap)
{
    size_t i = 0;
    snprintf(out, cap, "u:");
    for (i = 2; i + 1 < cap && username[i - 2] != '\0'; ++i)
        out[i] = (char)tolower((unsigned char)username[i - 2]);
    out[i] = '\0';
}

int ts_ep_login(h2o_req_t *req)
{
    ts_reqctx_t *ctx = ts_reqctx_create_browser_or_reply(req, NULL);
    const char *interaction, *csrf, *username, *password;

    if (ctx == NULL)
        return 0;
    interaction = ts_http_param(&ctx->params, "interaction");
    csrf = ts_http_param(&ctx->params, "csrf_token");
    username = ts_http_param(&ctx->params, "username");
    password = ts_http_param(&ctx->params, "password");
    if (interaction == NULL || csrf == NULL || username == NULL || password == NULL || strlen(interaction) >= TS_HANDLE_MAX ||
        strlen(csrf) >= TS_HANDLE_MAX)
        return ts_browser_error_page(req, 400, TS_ERR_INVALID_REQUEST, "the sign-in form is incomplete");
    if (strlen(username) > 128 || strlen(password) > TS_PASSWORD_MAX)
        return ts_browser_error_page(req, 400, TS_ERR_INVALID_REQUEST, "the username or password is too long");

    /* the flow and this endpoint's own state, side by side in the pool */
    ts_flow_t *f = h2o_mem_alloc_pool(&req->pool, sizeof(ts_flow_t) + sizeof(login_t));
    memset(f, 0, sizeof(ts_flow_t) + sizeof(login_t));
    ctx->flow = f;
    login_t *l = login_of(ctx);
    l->interaction = interaction;
    l->csrf = csrf;
    l->username = username;
    account_key(username, l->account_key, sizeof(l->account_key));
    if (ts_http_peer_rate_key(req, l->address_key, sizeof(l->address_key)) == NULL)
        snprintf(l->address_key, sizeof(l->address_key), "a:unknown");
    ts_crypto_handle_hash(interaction, strlen(interaction), f->interaction_hash);
    const char *params[2] = {f->interaction_hash, username};
    ts_reqctx_query(ctx, TS_STMT_INTERACTION_LOGIN_GET, 2, params, on_interaction);
    return 0;
}
