#ifndef TESSERA_OAUTH_BROWSER_H
#define TESSERA_OAUTH_BROWSER_H

/* The browser flows' decisions (Authorization Code with PKCE, OpenID Connect): plain structs in and out, no
 * sockets, SQL or cookies, so that every rule is unit-testable. src/http/ep_authorize.c and friends do I/O. */
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "tessera/crypto.h"
#include "tessera/directory.h"
#include "tessera/error.h"
#include "tessera/oauth.h"

/* ---- PKCE, RFC 7636 (src/oauth/pkce.c) ------------------------------------------------------------ */

/** 1 when s is a code_verifier: 43 to 128 characters of [A-Za-z0-9-._~] (§4.1) */
int ts_pkce_verifier_valid(const char *s, size_t len);
/** 1 when s is an S256 code_challenge: exactly 43 base64url characters that decode to 32 bytes (§4.2; the two
 *  unused trailing bits zero, as every encoder writes them) */
int ts_pkce_challenge_valid(const char *s, size_t len);
/** 1 when base64url(SHA-256(verifier)) equals challenge (compared in constant time); 0 otherwise, also for a
 *  verifier or challenge of the wrong syntax */
int ts_pkce_s256_matches(const char *verifier, size_t len, const char *challenge);

/* ---- redirect URIs (src/oauth/redirect_match.c) --------------------------------------------------- */

/** the registered URI that uri equals exactly (byte for byte: no normalization, RFC 9700 §4.1.3), or, when
 *  the registered one is http on a loopback host (127.0.0.1, [::1] or localhost), equals except for the port,
 *  which may be present, absent or different (RFC 8252 §7.3). NULL when none matches. */
const char *ts_redirect_uri_match(const ts_strs_t *registered, const char *uri);

/* ---- the authorization request (src/oauth/authorize.c) -------------------------------------------- */

/* The raw parameters as the browser sent them (query or form); NULL when absent. */
typedef struct st_ts_authz_params_t {
    const char *client_id;
    const char *redirect_uri;
    const char *response_type;
    const char *response_mode;
    const char *scope;
    const char *state;
    const char *nonce;
    const char *code_challenge;
    const char *code_challenge_method;
    const char *prompt;
    const char *max_age;
    const char *login_hint;
    const char *ui_locales;
    const char *acr_values;
    const char *display;
    const char *id_token_hint;
    const char *request;
    const char *request_uri;
    const char *resources[TS_RESOURCES_MAX + 1];
    size_t num_resources; /* as many as were sent, up to TS_RESOURCES_MAX + 1 (one more is an error) */
} ts_authz_params_t;

#define TS_PROMPT_NONE 1u
#define TS_PROMPT_LOGIN 2u
#define TS_PROMPT_CONSENT 4u
#define TS_PROMPT_SELECT_ACCOUNT 8u

#define TS_STATE_MAX 2048 /* state, nonce, login_hint, ui_locales, acr_values: longer is invalid_request */

/* A request that passed every check; pointers point into the params or the directory. */
typedef struct st_ts_authz_request_t {
    const ts_client_t *client;
    const char *redirect_uri; /* as sent (the code is bound to it), or the only registered one when omitted */
    const char *state;        /* NULL: none */
    char scope[TS_SCOPE_MAX]; /* resolved against the client's scopes and defaults */
    int openid;               /* "openid" is in scope: OpenID Connect rules apply */
    const char *nonce;
    const char *code_challenge; /* NULL only for a client registered with require_pkce false */
    unsigned prompt;            /* TS_PROMPT_* bits */
    int64_t max_age;            /* -1: none */
    const char *login_hint;
    const char *ui_locales;
    const char *acr_values;
    const char *resources[TS_RESOURCES_MAX];
    size_t num_resources;
} ts_authz_request_t;

typedef struct st_ts_authz_error_t {
    ts_err_t err;
    const char *why;
    /* 0: the client or redirect URI cannot be trusted, show the error page and never redirect; 1: send the
     * error to out->redirect_uri (with state and iss) */
    int redirect;
} ts_authz_error_t;

/** checks an authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, RFC 7636, RFC 8707) in this order:
 *  client_id known and active, redirect_uri registered (both failures: redirect = 0); then, redirectable:
 *  request / request_uri (not supported), response_type exactly "code", response_mode absent or "query",
 *  grant type allowed, scope, PKCE (S256 only, "plain" refused; required unless the client has require_pkce
 *  false, in which case a nonce is required instead; always required of a public client), nonce required
 *  without PKCE, prompt (none with other values is invalid), max_age a non-negative integer of at most 10 digits, state/nonce/
 *  login_hint/ui_locales/acr_values at most TS_STATE_MAX bytes of UTF-8 without control characters, resources.
 *  A parameter sent empty counts as absent (RFC 6749 §3.1). On success returns TS_OK and fills out; otherwise
 *  fills e (out->redirect_uri, and out->state unless the state itself was refused, set when e->redirect). */
ts_err_t ts_oauth_authorize_check(const ts_directory_t *dir, const char *default_resource, const ts_authz_params_t *in,
                                  ts_authz_request_t *out, ts_authz_error_t *e);

/** 1 when every scope token of requested is among those of granted (both space-separated) */
int ts_scope_subset(const char *requested, const char *granted);

/* ---- ID tokens (src/oauth/id_token.c) -------------------------------------------------------------- */

typedef struct st_ts_id_token_t {
    const char *issuer;
    const char *subject;
    const char *client_id; /* aud (a single string) and azp */
    const char *nonce;     /* NULL: none */
    const char *access_token; /* NULL: no at_hash */
    const char *acr;          /* NULL: none */
    const ts_strs_t *amr;     /* NULL or empty: none */
    const ts_user_t *user;    /* claims for the granted scopes, when non-NULL (profile, email) */
    const char *scope;        /* granted scope, to choose those claims */
    int64_t auth_time;
    int64_t now;
    unsigned ttl;
} ts_id_token_t;

/** at_hash (OIDC Core §3.1.3.6): base64url of the left half of SHA-256 of the token; 22 characters + NUL
 *  (the hash for RS256 and ES256 alike) */
void ts_oauth_at_hash(const char *access_token, char out[23]);
/** signs the ID token with key (alg from the key, typ JWT); *out malloc'd. 0 or -1 */
int ts_oauth_id_token_sign(const ts_key_t *key, const ts_id_token_t *t, char **out);

/* ---- UserInfo (src/oauth/userinfo.c) ------------------------------------------------------------- */

/** the claims of user released by scope: sub always; "profile": name, preferred_username; "email": email,
 *  email_verified. Claims whose value is unknown are left out. A new object. */
json_t *ts_oauth_user_claims(const ts_user_t *user, const char *scope);
/** the claim names Tessera can release, for discovery's claims_supported (NULL-terminated) */
extern const char *const ts_oauth_claims_supported[];

#endif
