#ifndef TESSERA_HTTP_TOKEN_USER_H
#define TESSERA_HTTP_TOKEN_USER_H

/* The token response of the grants a person stands behind (authorization_code, refresh_token): an access
 * token for the user, the refresh token the grant stored, and an ID token when openid was granted. */
#include "http/reqctx.h"

/* the longest an access token can live: a family's revocation must outlast every token issued from it */
#define TS_MAX_ACCESS_TOKEN_TTL "86400"

typedef struct st_ts_user_grant_t {
    const ts_user_t *user;
    const char *scope;         /* the access token's (may be narrower than the grant's) */
    const char *granted_scope; /* the grant's: decides the ID token */
    const char *resources;     /* JSON array of RFC 8707 resources the grant names */
    const char *family;        /* the grant id that revocation works on */
    const char *nonce;         /* NULL: none (always so on refresh) */
    const char *amr;           /* space-separated, or NULL */
    int64_t auth_time;
    const char *refresh_token; /* already stored, or NULL */
} ts_user_grant_t;

/** signs and sends the tokens for g (200, no-store) */
int ts_token_reply_user(ts_reqctx_t *ctx, const ts_user_grant_t *g);
/** a random version 4 UUID, the id of a new grant family */
int ts_token_new_family(char out[37]);
/** revokes family (refresh tokens and, by grant_id, access tokens) here and in the database, then sends
 *  invalid_grant with why */
void ts_token_revoke_family_and_fail(ts_reqctx_t *ctx, const char *family, int64_t client_pk, const char *why);

/* the grants, run once the client is authenticated */
void ts_token_authorization_code(ts_reqctx_t *ctx);
void ts_token_refresh(ts_reqctx_t *ctx);

#endif
