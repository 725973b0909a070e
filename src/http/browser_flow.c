/* The steps shared by /authorize, /login and /consent: after a sign-in, decide between the consent page,
 * consent_required and the code; start an interaction (the login page); issue the code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http/browser.h"
#include "http/cookie.h"

ts_flow_t *ts_browser_flow(ts_reqctx_t *ctx)
{
    if (ctx->flow == NULL) {
        ctx->flow = h2o_mem_alloc_pool(&ctx->req->pool, sizeof(ts_flow_t));
        memset(ctx->flow, 0, sizeof(ts_flow_t));
    }
    return ctx->flow;
}

static json_t *nullable(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

const char *ts_authz_serialize(h2o_req_t *req, const ts_authz_t *a)
{
    json_t *doc = json_pack("{s:s, s:s, s:b, s:o, s:s, s:o, s:o, s:o, s:o, s:I, s:I, s:s}", "client_id", a->client->client_id,
                            "redirect_uri", a->redirect_uri, "redirect_uri_given", a->redirect_uri_given, "state", nullable(a->state), "scope", a->scope, "nonce",
                            nullable(a->nonce), "code_challenge", nullable(a->code_challenge), "login_hint", nullable(a->login_hint),
                            "ui_locales", nullable(a->ui_locales), "prompt", (json_int_t)a->prompt, "max_age", (json_int_t)a->max_age,
                            "resources", a->resources);
    char *text = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    const char *out = ts_http_strdup(req, text);
    free(text);
    return out;
}

static const char *member(h2o_req_t *req, const json_t *doc, const char *name)
{
    return ts_http_strdup(req, json_string_value(json_object_get(doc, name)));
}

int ts_authz_parse(h2o_req_t *req, const ts_directory_t *dir, const char *text, ts_authz_t *out)
{
    json_t *doc = text != NULL ? json_loads(text, 0, NULL) : NULL;
    const char *client_id = doc != NULL ? json_string_value(json_object_get(doc, "client_id")) : NULL;
    const ts_client_t *c = client_id != NULL ? ts_directory_client(dir, client_id) : NULL;

    if (c == NULL || !c->active) {
        json_decref(doc);
        return -1;
    }
    *out = (ts_authz_t){.client = c,
                        .redirect_uri = member(req, doc, "redirect_uri"),
                        .redirect_uri_given = json_is_true(json_object_get(doc, "redirect_uri_given")),
                        .state = member(req, doc, "state"),
                        .scope = member(req, doc, "scope"),
                        .nonce = member(req, doc, "nonce"),
                        .code_challenge = member(req, doc, "code_challenge"),
                        .login_hint = member(req, doc, "login_hint"),
                        .ui_locales = member(req, doc, "ui_locales"),
                        .prompt = (unsigned)json_integer_value(json_object_get(doc, "prompt")),
                        .max_age = json_integer_value(json_object_get(doc, "max_age")),
                        .resources = member(req, doc, "resources")};
    json_decref(doc);
    if (out->redirect_uri == NULL || out->scope == NULL || out->resources == NULL)
        return -1;
    out->openid = ts_scope_subset("openid", out->scope);
    return 0;
}

void ts_authz_from_request(h2o_req_t *req, const ts_authz_request_t *r, ts_authz_t *a)
{
    json_t *resources = json_array();
    for (size_t i = 0; i < r->num_resources; ++i)
        json_array_append_new(resources, json_string(r->resources[i]));
    char *text = json_dumps(resources, JSON_COMPACT);
    json_decref(resources);
    *a = (ts_authz_t){.client = r->client,
                      .redirect_uri = r->redirect_uri,
                      .state = r->state,
                      .scope = ts_http_strdup(req, r->scope),
                      .nonce = r->nonce,
                      .code_challenge = r->code_challenge,
                      .login_hint = r->login_hint,
                      .ui_locales = r->ui_locales,
                      .prompt = r->prompt,
                      .max_age = r->max_age,
                      .openid = r->openid,
                      .resources = ts_http_strdup(req, text != NULL ? text : "[]")};
    free(text);
}

static const char *display_name(const ts_client_t *c)
{
    return c == NULL ? "" : c->client_name != NULL && *c->client_name != '\0' ? c->client_name : c->client_id;
}

int ts_browser_login_page(ts_reqctx_t *ctx, int status, const char *interaction, const char *csrf, const char *login_hint,
                          const char *error)
{
    ts_flow_t *f = ts_browser_flow(ctx);
    json_t *vars = json_pack("{s:s, s:s, s:s}", "client_name", display_name(f->authz.client), "interaction", interaction,
                             "csrf_token", csrf);
    if (vars != NULL && login_hint != NULL)
        json_object_set_new(vars, "login_hint", json_string(login_hint));
    if (vars != NULL && error != NULL)
        json_object_set_new(vars, "error", json_string(error));
    return ts_browser_page(ctx->req, status, TS_PAGE_LOGIN, vars, f->authz.redirect_uri);
}

/* what a person is agreeing to, in their words; a scope we know nothing about is shown by its name */
static const char *scope_description(const char *scope)
{
    static const struct {
        const char *name, *text;
    } known[] = {
        {"openid", "Know who you are (your user ID)"},
        {"profile", "See your name and username"},
        {"email", "See your email address"},
        {"offline_access", "Keep access while you are away"},
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); ++i)
        if (strcmp(known[i].name, scope) == 0)
            return known[i].text;
    return "Use this permission on your behalf";
}

static int consent_page(ts_reqctx_t *ctx)
{
    ts_flow_t *f = ts_browser_flow(ctx);
    json_t *scopes = json_array();
    const char *p = f->authz.scope;

    while (*p != '\0') {
        size_t n = strcspn(p, " ");
        char name[256];
        if (n != 0 && n < sizeof(name)) {
            memcpy(name, p, n); /* Flawfinder: ignore - n < sizeof(name), checked above */
            name[n] = '\0';
            json_array_append_new(scopes, json_pack("{s:s, s:s}", "name", name, "description", scope_description(name)));
        }
        p += n + (p[n] == ' ');
    }
    json_t *vars = json_pack("{s:s, s:s, s:s, s:s, s:o}", "client_name", display_name(f->authz.client), "interaction", f->handle,
                             "csrf_token", f->csrf, "username", f->who.user->username, "scopes", scopes);
    return ts_browser_page(ctx->req, 200, TS_PAGE_CONSENT, vars, f->authz.redirect_uri);
}

/* ---- interactions ------------------------------------------------------------------------------------ */

/* the browser's binding cookie: the one it has, or a new one set on this response */
static int browser_binding(ts_reqctx_t *ctx, char hash[44])
{
    int secure = ctx->worker->app->secure_cookies;
    char value[TS_HANDLE_MAX];
    int n = ts_http_cookie_get(ctx->req, TS_COOKIE_BROWSER, secure, value, sizeof(value));

    if (n <= 0) {
        if (ts_crypto_handle_new(TS_PREFIX_BROWSER, value, sizeof(value)) != 0)
            return -1;
        n = (int)strlen(value);
        ts_http_cookie_set(ctx->req, TS_COOKIE_BROWSER, secure, value, 0);
    }
    ts_crypto_handle_hash(value, (size_t)n, hash);
    ts_crypto_cleanse(value, sizeof(value));
    return 0;
}

static void on_interaction_created(ts_reqctx_t *ctx, const ts_db_result_t *res, const char *err)
{
    ts_flow_t *f = ts_browser_flow(ctx);
    (void)res;
    if (err != NULL) {
        ts_log_error("storing an interaction: %s", err);
        ts_browser_error_page(ctx->req, 500, TS_ERR_SERVER_ERROR, NULL);
        return;
    }
    if (f->who.user != NULL)
        consent_page(ctx);
    else
        ts_browser_login_page(ctx, 200, f->handle, f->csrf, f->authz.login_hint, NULL);
}

/* stores an interaction for the flow's request (and user, when signed in already) and shows its page */
static void start_interaction(ts_reqctx_t *ctx)
{
    ts_flow_t *f = ts_browser_flow(ctx);
    char browser[44], handle_hash[44], csrf_hash[44], pk[24], ttl[24];

    if (browser_binding(ctx, browser) != 0 || ts_crypto_handle_new(TS_PREFIX_INTERACTION, f->handle, sizeof(f->handle)) != 0 ||
        ts_crypto_handle_new(TS_PREFIX_CSRF, f->csrf, sizeof(f->csrf)) != 0) {
        ts_browser_error_page(ctx->req, 500, TS_ERR_SERVER_ERROR, NULL);
        return;
    }
    ts_crypto_handle_hash(f->handle, strlen(f->handle), handle_hash);
    ts_crypto_handle_hash(f->csrf, strlen(f->csrf), csrf_hash);
    snprintf(pk, sizeof(pk), "%lld", (long long)f->authz.client->pk);
    snprintf(ttl, sizeof(ttl), "%d", TS_INTERACTION_TTL);
    const char *params[8] = {handle_hash, browser, csrf_hash, pk, ts_authz_serialize(ctx->req, &f->authz),
                             f->who.user != NULL ? f->who.user->subject : NULL, f->who.session_id, ttl};
    ts_reqctx_query(ctx, TS_STMT_INTERACTION_CREATE, 8, params, on_interaction_created);
}

void ts_browser_start_login(ts_reqctx_t *ctx)
{
    ts_browser_flow(ctx)->who = (ts_signin_t){0};
    start_interaction(ctx);
}

int ts_browser_apply_roles(ts_reqctx_t *ctx)
{
    ts_flow_t *f = ts_browser_flow(ctx);
    char scope[TS_SCOPE_MAX];

    if (ts_oauth_scope_for_roles(ctx->dir, f->authz.scope, &f->who.user->roles, scope, sizeof(scope)) != TS_OK) {
        ts_browser_error_page(ctx->req, 500, TS_ERR_SERVER_ERROR, NULL);
        return -1;
    }
    if (strcmp(scope, f->authz.scope) != 0)
        f->authz.scope = ts_http_strdup(ctx->req, scope);
    return 0;
}

void ts_browser_continue(ts_reqctx_t *ctx)
{
    ts_flow_t *f = ts_browser_flow(ctx);
    const ts_authz_t *a = &f->authz;

    if (a->client == NULL || f->who.user == NULL) { /* every caller has both: a request and who signed in */
        ts_browser_error_page(ctx->req, 500, TS_ERR_SERVER_ERROR, NULL);
        return;
    }
    /* before the consent decision: the page shows, and remembered consent is compared with, what can be granted */
    if (ts_browser_apply_roles(ctx) != 0)
        return;
    int need_consent = !a->client->skip_consent && ((a->prompt & TS_PROMPT_CONSENT) != 0 || f->who.consented == NULL ||
                                                    !ts_scope_subset(a->scope, f->who.consented));

    if (!need_consent) {
        ts_browser_issue_code(ctx, NULL);
        return;
    }
    if ((a->prompt & TS_PROMPT_NONE) != 0) {
        ts_browser_redirect(ctx, a, NULL, TS_ERR_CONSENT_REQUIRED, NULL);
        return;
    }
    if (*f->interaction_hash != '\0') {
        /* signed in within this interaction: it is already stored, and its handle and token were posted */
        consent_page(ctx);
        return;
    }
    start_interaction(ctx);
}

/* ---- codes ----------------------------------------------------------------------------------------------- */

static void on_code_issued(ts_reqctx_t *ctx, const ts_db_result_t *res, const char *err)
{
    ts_flow_t *f = ts_browser_flow(ctx);
    if (err != NULL) {
        ts_log_error("storing an authorization code: %s", err);
        ts_browser_error_page(ctx->req, 500, TS_ERR_SERVER_ERROR, NULL);
    } else if (ts_db_result_rows(res) != 1) {
        /* the interaction was completed already (a form posted twice), or the user is gone */
        ts_browser_error_page(ctx->req, 400, TS_ERR_INVALID_REQUEST,
                              "this sign-in has already been completed: go back to the application");
    } else {
        ts_browser_redirect(ctx, &f->authz, f->handle, TS_OK, NULL);
    }
    ts_crypto_cleanse(f->handle, sizeof(f->handle));
}

void ts_browser_issue_code(ts_reqctx_t *ctx, const char *consent)
{
    ts_flow_t *f = ts_browser_flow(ctx);
    const ts_authz_t *a = &f->authz;
    char hash[44], pk[24], auth_time[24], ttl[24];

    if (ts_crypto_handle_new(TS_PREFIX_AUTH_CODE, f->handle, sizeof(f->handle)) != 0) {
        ts_browser_error_page(ctx->req, 500, TS_ERR_SERVER_ERROR, NULL);
        return;
    }
    ts_crypto_handle_hash(f->handle, strlen(f->handle), hash);
    snprintf(pk, sizeof(pk), "%lld", (long long)a->client->pk);
    snprintf(auth_time, sizeof(auth_time), "%lld", (long long)f->who.auth_time);
    snprintf(ttl, sizeof(ttl), "%u", ctx->worker->app->conf->authorization_code_ttl);
    const char *params[15] = {hash,
                              pk,
                              f->who.user->subject,
                              f->who.session_id,
                              a->redirect_uri,
                              a->scope,
                              a->resources,
                              a->code_challenge,
                              a->nonce,
                              auth_time,
                              f->who.amr != NULL ? f->who.amr : "",
                              ttl,
                              *f->interaction_hash != '\0' ? f->interaction_hash : NULL,
                              consent,
                              a->redirect_uri_given ? "true" : "false"};
    ts_reqctx_query(ctx, TS_STMT_CODE_ISSUE, 15, params, on_code_issued);
}
