#ifndef TESSERA_OAUTH_H
#define TESSERA_OAUTH_H

/* OAuth and OpenID Connect logic: plain structs and JSON in and out; no sockets, SQL or raw keys. */
#include <stdint.h>
#include <jansson.h>
#include "tessera/config.h"
#include "tessera/crypto.h"
#include "tessera/directory.h"
#include "tessera/error.h"
#include "tessera/revoked.h"

/** the metadata document; openid selects /.well-known/openid-configuration over RFC 8414's */
json_t *ts_oauth_discovery(const ts_config_t *conf, int openid);

/* ---- scope (src/oauth/scope.c) -------------------------------------------------------------------- */

#define TS_SCOPE_MAX 4096
/** the scope a request gets: requested (NULL or empty: the defaults) must be RFC 6749 §3.3 syntax and every
 *  token in allowed; out receives the space-joined tokens, each once, in request order. TS_ERR_INVALID_SCOPE
 *  (RFC 6749 §5.2: "invalid, unknown, malformed") with *why. */
ts_err_t ts_oauth_scope_resolve(const char *requested, const ts_strs_t *allowed, const ts_strs_t *defaults, char *out, size_t cap,
                                const char **why);
/** the part of scope (space-separated, already resolved) that a subject holding roles (names) may have, in order: a
 *  scope some role of dir lists is kept only when one of roles lists it; a scope no role lists, and openid, profile,
 *  email and offline_access, are kept (docs/roles.md). TS_ERR_INVALID_SCOPE when out is too small. */
ts_err_t ts_oauth_scope_for_roles(const ts_directory_t *dir, const char *scope, const ts_strs_t *roles, char *out, size_t cap);

/* ---- resource indicators (src/oauth/resource.c) ----------------------------------------------------- */

#define TS_RESOURCES_MAX 8
/** RFC 8707: each value an absolute URI without a fragment; *aud becomes the default (n == 0), a string (one)
 *  or an array. TS_ERR_INVALID_TARGET with *why. */
ts_err_t ts_oauth_resources(const char *const *values, size_t n, const char *default_resource, json_t **aud, const char **why);

/* ---- client authentication (src/oauth/client_auth.c) ---------------------------------------------- */

typedef struct st_ts_client_credentials_t {
    const char *authorization; /* the Authorization header value, or NULL */
    size_t authorization_len;
    const char *client_id; /* form parameters, NULL when absent */
    const char *client_secret;
    const char *client_assertion_type;
    const char *client_assertion;
} ts_client_credentials_t;

typedef struct st_ts_client_auth_ctx_t {
    const ts_directory_t *dir;
    const ts_secret_hasher_t *hasher;
    const char *issuer;
    const char *endpoint_url; /* also accepted as a client assertion's audience */
    int64_t now;
} ts_client_auth_ctx_t;

typedef struct st_ts_client_auth_t {
    const ts_client_t *client; /* set on success */
    const ts_client_t *claimed; /* the registered client the credentials named, success or not (NULL: unknown id) */
    ts_auth_method_t method;
    int basic_attempted; /* a failure then needs WWW-Authenticate: Basic (RFC 6749 §5.2) */
    int disabled;        /* the credentials were right, but the client is disabled */
    const char *why;     /* error_description on failure */
    char jti[257];       /* private_key_jwt: the assertion id the caller must use up exactly once */
    int64_t assertion_exp;
} ts_client_auth_t;

#define TS_CLIENT_ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#define TS_CLIENT_ASSERTION_MAX_LIFETIME 300 /* seconds from now to exp */

/** authenticates the client by exactly one method: client_secret_basic, client_secret_post, private_key_jwt
 *  (RFC 7523) or, for public clients, none. The method must be the one the client registered, and the client
 *  must be active. TS_ERR_INVALID_CLIENT or TS_ERR_INVALID_REQUEST with out->why. */
ts_err_t ts_oauth_client_authenticate(const ts_client_auth_ctx_t *ctx, const ts_client_credentials_t *in, ts_client_auth_t *out);

/* ---- access tokens (src/oauth/access_token.c) ----------------------------------------------------- */

typedef struct st_ts_access_token_t {
    const char *issuer;
    const char *subject;
    const char *client_id;
    const char *scope; /* space-separated; empty: no scope claim */
    const json_t *aud;
    const ts_strs_t *roles;
    const char *grant_id; /* the refresh-token family it came from, or NULL */
    int64_t auth_time;    /* 0: no user authentication */
    int64_t now;
    unsigned ttl;
} ts_access_token_t;

#define TS_JTI_LEN 22 /* base64url of 16 random bytes */
/** signs an RFC 9068 access token (typ at+jwt) with key; *out malloc'd; jti receives its id. 0 or -1 */
int ts_oauth_access_token_sign(const ts_key_t *key, const ts_access_token_t *t, char **out, char jti[TS_JTI_LEN + 1]);

/* ---- introspection (src/oauth/introspect.c) -------------------------------------------------------- */

typedef struct st_ts_introspect_ctx_t {
    const ts_directory_t *dir;
    ts_revoked_t *revoked;
    const char *issuer;
    int64_t now;
} ts_introspect_ctx_t;

/** the RFC 7662 answer for a JWT access token whose signature has been verified: NULL when it is not active
 *  (wrong issuer, expired, not yet valid, revoked, its client or user unknown or disabled), else a new object
 *  with active:true and the current roles of its subject. */
json_t *ts_oauth_introspect_access_token(const ts_introspect_ctx_t *ctx, const json_t *claims);

#endif
