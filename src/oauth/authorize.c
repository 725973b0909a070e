/* The authorization request (RFC 6749 §4.1.1, OpenID Connect Core §3.1.2.1, RFC 7636, RFC 8707): every rule
 * that decides whether a browser may go on to sign in, in the order the header gives. Until the client and
 * its redirect URI are known to be genuine, an error is shown on our own page: redirecting it would make us
 * an open redirector (RFC 6749 §4.1.2.1, RFC 9700 §4.11). */
#include <string.h>
#include "tessera/oauth_browser.h"
#include "tessera/oauth_metadata.h"

#define MAX_AGE_DIGITS 10

/* RFC 6749 §3.1: "parameters sent without a value MUST be treated as if they were omitted" */
static const char *given(const char *s)
{
    return s != NULL && *s != '\0' ? s : NULL;
}

static ts_err_t fail(ts_authz_error_t *e, ts_err_t err, const char *why, int redirect)
{
    e->err = err;
    e->why = why;
    e->redirect = redirect;
    return err;
}

/* 1 when the space-separated list s has the token tok */
static int has_token(const char *s, const char *tok, size_t toklen)
{
    while (s != NULL && *s != '\0') {
        size_t n = strcspn(s, " ");
        if (n == toklen && memcmp(s, tok, n) == 0)
            return 1;
        s += n;
        s += *s == ' ';
    }
    return 0;
}

int ts_scope_subset(const char *requested, const char *granted)
{
    while (requested != NULL && *requested != '\0') {
        size_t n = strcspn(requested, " ");
        if (n != 0 && !has_token(granted, requested, n))
            return 0;
        requested += n;
        requested += *requested == ' ';
    }
    return 1;
}

/* Whether this will be an OpenID request, before the scope is checked: the scope as sent, or the client's
 * defaults when none was sent (those are what the request will get). */
static int wants_openid(const ts_client_t *client, const char *scope)
{
    if (scope != NULL)
        return has_token(scope, "openid", 6);
    return ts_strs_contains(&client->default_scopes, "openid");
}

/* state, nonce and the hints are echoed in a redirect, stored with the interaction and (nonce) signed into
 * the ID token: bounded, and UTF-8 without control characters so that each of those places takes them */
static int text_ok(const char *s)
{
    char ignored[8];
    return s == NULL || (strlen(s) <= TS_STATE_MAX && ts_oauth_check_text("", s, TS_STATE_MAX, ignored, sizeof(ignored)) == 0);
}

static ts_err_t check_client(const ts_directory_t *dir, const ts_authz_params_t *in, ts_authz_request_t *out, ts_authz_error_t *e)
{
    const ts_client_t *client = ts_directory_client(dir, given(in->client_id));
    const char *redirect_uri = given(in->redirect_uri);

    if (client == NULL || !client->active)
        return fail(e, TS_ERR_INVALID_REQUEST, "unknown client", 0);
    out->client = client;
    if (redirect_uri == NULL) {
        /* RFC 6749 §3.1.2.3 lets a client with one registered URI leave it out; OpenID Connect never does */
        if (client->redirect_uris.len != 1 || wants_openid(client, given(in->scope)))
            return fail(e, TS_ERR_INVALID_REQUEST, "redirect_uri is required", 0);
        out->redirect_uri = client->redirect_uris.items[0];
        return TS_OK;
    }
    if (ts_redirect_uri_match(&client->redirect_uris, redirect_uri) == NULL)
        return fail(e, TS_ERR_INVALID_REQUEST, "redirect_uri is not registered for this client", 0);
    /* the URI as sent: for a loopback one, its port is where the app listens */
    out->redirect_uri = redirect_uri;
    return TS_OK;
}

static ts_err_t check_response(const ts_authz_params_t *in, ts_authz_error_t *e)
{
    const char *response_type = given(in->response_type), *response_mode = given(in->response_mode);

    if (given(in->request) != NULL)
        return fail(e, TS_ERR_REQUEST_NOT_SUPPORTED, "request objects are not supported", 1);
    if (given(in->request_uri) != NULL)
        return fail(e, TS_ERR_REQUEST_URI_NOT_SUPPORTED, "request_uri is not supported", 1);
    if (response_type == NULL)
        return fail(e, TS_ERR_INVALID_REQUEST, "response_type is required", 1);
    if (strcmp(response_type, "code") != 0)
        return fail(e, TS_ERR_UNSUPPORTED_RESPONSE_TYPE, "only response_type code is supported", 1);
    if (response_mode != NULL && strcmp(response_mode, "query") != 0)
        return fail(e, TS_ERR_INVALID_REQUEST, "only response_mode query is supported", 1);
    return TS_OK;
}

static ts_err_t check_pkce(const ts_authz_params_t *in, ts_authz_request_t *out, ts_authz_error_t *e)
{
    const char *challenge = given(in->code_challenge), *method = given(in->code_challenge_method);
    const ts_client_t *client = out->client;

    if (method != NULL && challenge == NULL)
        return fail(e, TS_ERR_INVALID_REQUEST, "code_challenge_method without code_challenge", 1);
    if (method != NULL && strcmp(method, "S256") != 0)
        return fail(e, TS_ERR_INVALID_REQUEST, "only S256 is supported", 1);
    /* RFC 7636 §4.3: an absent method means plain, which is refused */
    if (challenge != NULL && method == NULL)
        return fail(e, TS_ERR_INVALID_REQUEST, "code_challenge_method S256 is required", 1);
    if (challenge != NULL && !ts_pkce_challenge_valid(challenge, strlen(challenge)))
        return fail(e, TS_ERR_INVALID_REQUEST, "malformed code_challenge", 1);
    if (challenge != NULL) {
        out->code_challenge = challenge;
        return TS_OK;
    }
    /* public clients must use PKCE (RFC 9700 §2.1.1) whatever their registration says; registration refuses
     * the combination, and this keeps a stray directory row from weakening it */
    if (client->require_pkce || client->auth_method == TS_AUTH_NONE)
        return fail(e, TS_ERR_INVALID_REQUEST, "code_challenge is required", 1);
    /* the OAuth 2.1 alternative for a confidential OpenID client: the nonce binds the code to the session */
    if (!out->openid)
        return fail(e, TS_ERR_INVALID_REQUEST, "code_challenge is required without openid", 1);
    if (given(in->nonce) == NULL)
        return fail(e, TS_ERR_INVALID_REQUEST, "nonce is required without code_challenge", 1);
    return TS_OK;
}

static ts_err_t check_prompt(const char *prompt, unsigned *out, ts_authz_error_t *e)
{
    static const struct {
        const char *name;
        unsigned bit;
    } values[] = {{"none", TS_PROMPT_NONE},
                  {"login", TS_PROMPT_LOGIN},
                  {"consent", TS_PROMPT_CONSENT},
                  {"select_account", TS_PROMPT_SELECT_ACCOUNT}};

    *out = 0;
    for (const char *p = prompt; p != NULL && *p != '\0';) {
        size_t n = strcspn(p, " "), i;
        for (i = 0; i < sizeof(values) / sizeof(values[0]); ++i)
            if (n == strlen(values[i].name) && memcmp(p, values[i].name, n) == 0)
                break;
        if (n == 0 || (p[n] == ' ' && p[n + 1] == '\0'))
            return fail(e, TS_ERR_INVALID_REQUEST, "malformed prompt", 1);
        if (i == sizeof(values) / sizeof(values[0]))
            return fail(e, TS_ERR_INVALID_REQUEST, "unknown prompt value", 1);
        *out |= values[i].bit;
        p += n;
        p += *p == ' ';
    }
    /* OpenID Connect Core §3.1.2.1 */
    if ((*out & TS_PROMPT_NONE) != 0 && *out != TS_PROMPT_NONE)
        return fail(e, TS_ERR_INVALID_REQUEST, "prompt none cannot be combined with other values", 1);
    return TS_OK;
}

static ts_err_t check_max_age(const char *max_age, int64_t *out, ts_authz_error_t *e)
{
    size_t n = 0;

    *out = -1;
    if (max_age == NULL)
        return TS_OK;
    for (; max_age[n] != '\0'; ++n)
        if (max_age[n] < '0' || max_age[n] > '9' || n >= MAX_AGE_DIGITS)
            return fail(e, TS_ERR_INVALID_REQUEST, "max_age must be a non-negative integer", 1);
    *out = 0;
    for (size_t i = 0; i < n; ++i)
        *out = *out * 10 + (max_age[i] - '0');
    return TS_OK;
}

static ts_err_t check_texts(const ts_authz_params_t *in, ts_authz_error_t *e)
{
    if (!text_ok(given(in->state)))
        return fail(e, TS_ERR_INVALID_REQUEST, "state too long or malformed", 1);
    if (!text_ok(given(in->nonce)))
        return fail(e, TS_ERR_INVALID_REQUEST, "nonce too long or malformed", 1);
    if (!text_ok(given(in->login_hint)))
        return fail(e, TS_ERR_INVALID_REQUEST, "login_hint too long or malformed", 1);
    if (!text_ok(given(in->ui_locales)))
        return fail(e, TS_ERR_INVALID_REQUEST, "ui_locales too long or malformed", 1);
    if (!text_ok(given(in->acr_values)))
        return fail(e, TS_ERR_INVALID_REQUEST, "acr_values too long or malformed", 1);
    return TS_OK;
}

/* RFC 8707 §2: syntax only here; which resources a client may name is the token endpoint's concern */
static ts_err_t check_resources(const char *default_resource, const ts_authz_params_t *in, ts_authz_request_t *out,
                                ts_authz_error_t *e)
{
    json_t *aud = NULL;
    const char *why = "too many resource parameters";
    ts_err_t err = TS_ERR_INVALID_TARGET;

    if (in->num_resources <= TS_RESOURCES_MAX) {
        for (size_t i = 0; i < in->num_resources; ++i)
            if (in->resources[i] == NULL)
                return fail(e, TS_ERR_INVALID_TARGET, "resource must be an absolute URI without a fragment", 1);
        err = ts_oauth_resources(in->resources, in->num_resources, default_resource, &aud, &why);
        json_decref(aud);
    }
    if (err != TS_OK)
        return fail(e, err, why, 1);
    for (size_t i = 0; i < in->num_resources; ++i)
        out->resources[i] = in->resources[i];
    out->num_resources = in->num_resources;
    return TS_OK;
}

ts_err_t ts_oauth_authorize_check(const ts_directory_t *dir, const char *default_resource, const ts_authz_params_t *in,
                                  ts_authz_request_t *out, ts_authz_error_t *e)
{
    const char *why = NULL;
    ts_err_t err;

    memset(out, 0, sizeof(*out));
    out->max_age = -1;
    *e = (ts_authz_error_t){TS_OK, NULL, 0};
    if ((err = check_client(dir, in, out, e)) != TS_OK)
        return err;
    /* from here on errors go back to the client with state; a state we would refuse is not echoed */
    out->state = text_ok(given(in->state)) ? given(in->state) : NULL;
    if ((err = check_response(in, e)) != TS_OK)
        return err;
    if ((out->client->grant_types & TS_GRANT_AUTHORIZATION_CODE) == 0)
        return fail(e, TS_ERR_UNAUTHORIZED_CLIENT, "the client may not use the authorization code grant", 1);
    if ((err = ts_oauth_scope_resolve(given(in->scope), &out->client->scopes, &out->client->default_scopes, out->scope,
                                      sizeof(out->scope), &why)) != TS_OK)
        return fail(e, err, why != NULL ? why : "invalid scope", 1);
    out->openid = has_token(out->scope, "openid", 6);
    if ((err = check_pkce(in, out, e)) != TS_OK)
        return err;
    if ((err = check_prompt(given(in->prompt), &out->prompt, e)) != TS_OK)
        return err;
    if ((err = check_max_age(given(in->max_age), &out->max_age, e)) != TS_OK)
        return err;
    if ((err = check_texts(in, e)) != TS_OK)
        return err;
    if ((err = check_resources(default_resource, in, out, e)) != TS_OK)
        return err;
    out->nonce = given(in->nonce);
    out->login_hint = given(in->login_hint);
    out->ui_locales = given(in->ui_locales);
    out->acr_values = given(in->acr_values);
    return TS_OK;
}
