#ifndef TESSERA_HTTP_REGISTRATION_H
#define TESSERA_HTTP_REGISTRATION_H

/* Dynamic client registration requests (RFC 7591 §2 and §3.1, RFC 7592 §2.2): the JSON body a client sends to
 * register itself or to replace its registration, checked against the declared fields and the rules every
 * client follows (src/oauth/client_metadata.c), plus what a self-registered client may not do: ask for scopes
 * outside registration_scopes, use jwks_uri or response types other than code. Members this server does not
 * understand are ignored, as RFC 7591 §2 requires. Pure: no h2o, no database. */
#include <stddef.h>
#include <jansson.h>
#include "tessera/error.h"
#include "tessera/oauth_metadata.h"

typedef struct st_ts_registration_t {
    json_t *body;           /* the parsed request: every string below points into it */
    const char *client_id;  /* an update names its own client_id; NULL when not given */
    const char *client_secret; /* an update may name its current secret; NULL when not given */
    const char *client_name;
    const char *token_endpoint_auth_method; /* client_secret_basic when not given (RFC 7591 §2) */
    const char *grant_types[3];             /* authorization_code when not given */
    size_t num_grant_types;
    const char *redirect_uris[TS_REDIRECT_URIS_MAX];
    size_t num_redirect_uris;
    const char *post_logout_redirect_uris[TS_REDIRECT_URIS_MAX];
    size_t num_post_logout_redirect_uris;
    const char *scope;  /* every scope of registration_scopes when not given */
    const json_t *jwks; /* NULL when not given */
    const char *id_token_signed_response_alg; /* RS256 when not given */
} ts_registration_t;

/** parses the request body text (len bytes) for the client named client_id (the one to be created, or the one
 *  being updated) with allowed_scopes (space-separated) as what it may register for. TS_OK with *out filled
 *  (ts_registration_dispose() it), or TS_ERR_INVALID_REDIRECT_URI / TS_ERR_INVALID_CLIENT_METADATA with a
 *  message that starts with the field at fault in err (never the value of client_secret). */
ts_err_t ts_registration_parse(const char *text, size_t len, const char *client_id, const char *allowed_scopes,
                               ts_registration_t *out, char *err, size_t errlen);
void ts_registration_dispose(ts_registration_t *r);
/** 1 when the registration asks for grant_type */
int ts_registration_has_grant(const ts_registration_t *r, const char *grant_type);

#endif
