#ifndef TESSERA_OAUTH_METADATA_H
#define TESSERA_OAUTH_METADATA_H

/* Validation of what operators register: client metadata (RFC 7591 names), and the names of users and
 * roles. Pure functions: no database, no sockets. Every function returns 0, or -1 with a message in err
 * that starts with the name of the field at fault. Messages never repeat a client secret. */
#include <stddef.h>
#include <jansson.h>

#define TS_CLIENT_ID_MAX 128
#define TS_CLIENT_NAME_MAX 200
#define TS_REDIRECT_URI_MAX 2000
#define TS_REDIRECT_URIS_MAX 100 /* per list */
#define TS_SCOPE_TOKEN_MAX 128
#define TS_SCOPE_TOKENS_MAX 64
#define TS_CLIENT_SECRET_MIN 32
#define TS_CLIENT_SECRET_MAX 512
#define TS_JWKS_KEYS_MAX 100
#define TS_ACCESS_TOKEN_TTL_MIN 30
#define TS_ACCESS_TOKEN_TTL_MAX 86400
#define TS_USERNAME_MAX 128
#define TS_EMAIL_MAX 254
#define TS_ROLE_NAME_MAX 64
#define TS_ROLE_DESCRIPTION_MAX 500

/* A client as its operator describes it. Pointers are borrowed; NULL (or a zero count) means "not given". */
typedef struct st_ts_client_metadata_t {
    const char *client_id;
    const char *client_name;
    const char *token_endpoint_auth_method; /* NULL: client_secret_basic */
    const char *const *grant_types;
    size_t num_grant_types;
    const char *const *redirect_uris;
    size_t num_redirect_uris;
    const char *const *post_logout_redirect_uris;
    size_t num_post_logout_redirect_uris;
    const char *scope;         /* space-separated: the scopes the client may ask for */
    const char *default_scope; /* space-separated: what it gets when it asks for none */
    const json_t *jwks;        /* {"keys": [...]} */
    const char *client_secret; /* supplied by the operator (apply file); NULL when generated or unused */
    const char *id_token_signed_response_alg; /* NULL: RS256 */
    long access_token_ttl;                    /* 0: the server default */
    int require_pkce;
} ts_client_metadata_t;

/** checks every field of md and the rules that tie them together */
int ts_oauth_check_client_metadata(const ts_client_metadata_t *md, char *err, size_t errlen);

/** ^[A-Za-z0-9._~-]{1,128}$ */
int ts_oauth_check_client_id(const char *client_id, char *err, size_t errlen);
/** absolute, exact (no fragment, no wildcard), https, http on a loopback host, or a private-use scheme with a dot
 *  (RFC 8252 §7.1); no userinfo, no whitespace or control characters; at most 2000 characters */
int ts_oauth_check_redirect_uri(const char *field, const char *uri, char *err, size_t errlen);
/** RFC 6749 §3.3: space-separated NQCHAR tokens, single spaces, no duplicates, <= 128 chars each, <= 64 tokens */
int ts_oauth_check_scope(const char *field, const char *scope, char *err, size_t errlen);
/** the same rules for scopes given one per item */
int ts_oauth_check_scope_list(const char *field, const char *const *scopes, size_t n, char *err, size_t errlen);
/** authorization_code, client_credentials or refresh_token */
int ts_oauth_check_grant_type(const char *field, const char *grant_type, char *err, size_t errlen);
/** client_secret_basic, client_secret_post, private_key_jwt or none */
int ts_oauth_check_auth_method(const char *field, const char *method, char *err, size_t errlen);
/** 1 for the methods that authenticate with a client secret (client_secret_basic, client_secret_post) */
int ts_oauth_auth_method_uses_secret(const char *method);
/** an operator-supplied secret: 32 to 512 visible ASCII characters */
int ts_oauth_check_client_secret(const char *field, const char *secret, char *err, size_t errlen);
/** a JWK Set of public keys: *usable (may be NULL) gets how many keys ts_key_import_jwk accepts */
int ts_oauth_check_jwks(const char *field, const json_t *jwks, size_t *usable, char *err, size_t errlen);

/** ^[A-Za-z0-9._@+-]{1,128}$, as the users table requires */
int ts_oauth_check_username(const char *field, const char *username, char *err, size_t errlen);
/** ^[a-z0-9._:-]{1,64}$, as the roles table requires */
int ts_oauth_check_role_name(const char *field, const char *name, char *err, size_t errlen);
/** local@domain, at most 254 characters, no whitespace or control characters */
int ts_oauth_check_email(const char *field, const char *email, char *err, size_t errlen);
/** free text shown to people (client or user name, description): no control characters, at most max characters */
int ts_oauth_check_text(const char *field, const char *text, size_t max, char *err, size_t errlen);

#endif
