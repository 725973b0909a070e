#ifndef TESSERA_HTTP_BROWSER_H
#define TESSERA_HTTP_BROWSER_H

/* What the browser endpoints (/authorize, /login, /consent, /logout) share: pages with their security
 * headers, redirects back to the client, and the authorization request as it travels from /authorize
 * through the login and consent pages (stored with the interaction as JSON). See docs/browser-flows.md. */
#include "http/reqctx.h"
#include "tessera/oauth_browser.h"
#include "tessera/template.h"

#define TS_INTERACTION_TTL 600 /* seconds to sign in and consent */
#define TS_PREFIX_INTERACTION "tsi_"
#define TS_PREFIX_CSRF "tsx_"
#define TS_PREFIX_BROWSER "tsb_"

/* The authorization request once checked; strings live in the request's pool. */
typedef struct st_ts_authz_t {
    const ts_client_t *client;
    const char *redirect_uri;
    int redirect_uri_given; /* the request named it (else it was the client's only one): the token request must too */
    const char *state;
    const char *scope;
    const char *nonce;
    const char *code_challenge;
    const char *login_hint;
    const char *ui_locales;
    unsigned prompt;
    int64_t max_age;
    int openid;
    const char *resources; /* JSON array text */
} ts_authz_t;

/* Who is signed in, when a session (or a fresh login) says so. */
typedef struct st_ts_signin_t {
    const ts_user_t *user;
    const char *session_id;
    int64_t auth_time;
    const char *amr;       /* space-separated */
    const char *consented; /* the scopes this user consented to for the client; NULL: none */
} ts_signin_t;

/* The state a browser endpoint keeps across its database round trips (ctx->flow, in the request's pool). */
typedef struct st_ts_flow_t {
    ts_authz_t authz;
    ts_signin_t who;
    char handle[TS_HANDLE_MAX];          /* a handle being issued: an interaction's or a code */
    char csrf[TS_HANDLE_MAX];            /* the interaction's CSRF token */
    char interaction_hash[44];           /* the interaction being completed, or "" */
    const char *message;                 /* for the login page */
} ts_flow_t;

/** ctx's flow, created zeroed on first use */
ts_flow_t *ts_browser_flow(ts_reqctx_t *ctx);

/** the request as JSON text (pool memory) to store with an interaction */
const char *ts_authz_serialize(h2o_req_t *req, const ts_authz_t *a);
/** reads it back; the client must still be in dir and active. -1 when it is not (or the text is bad). */
int ts_authz_parse(h2o_req_t *req, const ts_directory_t *dir, const char *json, ts_authz_t *out);
/** fills a from a request that ts_oauth_authorize_check accepted */
void ts_authz_from_request(h2o_req_t *req, const ts_authz_request_t *r, ts_authz_t *a);

/** whether cookies are Secure and "__Host-" prefixed: the issuer is https */
int ts_browser_secure(const ts_app_t *app);
/** renders page with vars (stolen; lang and issuer added) as text/html with the pages' CSP; form_target, when
 *  non-NULL, is a URI whose origin the page's forms may redirect to (Chromium applies form-action to the
 *  redirect that follows a form POST). Returns 0. */
int ts_browser_page(h2o_req_t *req, int status, ts_page_t page, json_t *vars, const char *form_target);
/** the error page: never a link or redirect back to a client that could not be trusted */
int ts_browser_error_page(h2o_req_t *req, int status, ts_err_t err, const char *why);
/** 303 to the client's redirect_uri with code, or error and error_description, and state and iss (RFC 9207) */
int ts_browser_redirect(ts_reqctx_t *ctx, const ts_authz_t *a, const char *code, ts_err_t err, const char *why);
/** 303 to uri with state (when non-NULL) added to its query */
int ts_browser_redirect_state(h2o_req_t *req, const char *uri, const char *state);

/** cuts the flow's scope to what the signed-in user's roles allow (docs/roles.md); sends the error page itself
 *  and returns -1 when it cannot */
int ts_browser_apply_roles(ts_reqctx_t *ctx);
/** what comes after sign-in: the consent page, a redirect with consent_required (prompt=none), or the code.
 *  interaction: the hash of the interaction being completed, or NULL (a session skipped the pages). */
void ts_browser_continue(ts_reqctx_t *ctx);
/** the login page for a (a new interaction bound to this browser); error is a message to show, or NULL */
void ts_browser_start_login(ts_reqctx_t *ctx);
/** issues the code for the flow's request and user and redirects with it, completing the flow's interaction
 *  (if any); consent: scopes to remember as consented (or NULL) */
void ts_browser_issue_code(ts_reqctx_t *ctx, const char *consent);
/** the login page for an existing interaction (handle and csrf as posted), e.g. after a failed attempt */
int ts_browser_login_page(ts_reqctx_t *ctx, int status, const char *interaction, const char *csrf, const char *login_hint,
                          const char *error);
/** checks the posted interaction's binding: the browser cookie and the CSRF token against their stored hashes.
 *  Sends the error page itself and returns -1 on a mismatch. */
int ts_browser_check_binding_or_reply(ts_reqctx_t *ctx, const char *browser_hash, const char *csrf_hash, const char *csrf);

#endif
