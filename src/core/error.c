/* The one table from error code to RFC 6749 `error` string and HTTP status. */
#include "tessera/error.h"

static const ts_err_info_t table[TS_ERR__COUNT] = {
    [TS_OK] = {"", 200, "OK", ""},
    [TS_ERR_INVALID_REQUEST] = {"invalid_request", 400, "Bad Request", "the request is malformed"},
    [TS_ERR_INVALID_CLIENT] = {"invalid_client", 401, "Unauthorized", "client authentication failed"},
    [TS_ERR_INVALID_GRANT] = {"invalid_grant", 400, "Bad Request", "the grant is invalid, expired or revoked"},
    [TS_ERR_UNAUTHORIZED_CLIENT] = {"unauthorized_client", 400, "Bad Request", "the client may not use this grant type"},
    [TS_ERR_UNSUPPORTED_GRANT_TYPE] = {"unsupported_grant_type", 400, "Bad Request", "the grant type is not supported"},
    [TS_ERR_INVALID_SCOPE] = {"invalid_scope", 400, "Bad Request", "the requested scope is invalid"},
    [TS_ERR_ACCESS_DENIED] = {"access_denied", 403, "Forbidden", "access denied"},
    [TS_ERR_UNSUPPORTED_RESPONSE_TYPE] = {"unsupported_response_type", 400, "Bad Request", "the response type is not supported"},
    [TS_ERR_INVALID_TOKEN] = {"invalid_token", 401, "Unauthorized", "the access token is invalid"},
    [TS_ERR_INVALID_TARGET] = {"invalid_target", 400, "Bad Request", "the requested resource is invalid"},
    [TS_ERR_INSUFFICIENT_SCOPE] = {"insufficient_scope", 403, "Forbidden", "the access token does not grant this"},
    /* OpenID Connect Core §3.1.2.6: only ever sent to the redirect URI, so the status is nominal */
    [TS_ERR_LOGIN_REQUIRED] = {"login_required", 400, "Bad Request", "the user must sign in"},
    [TS_ERR_CONSENT_REQUIRED] = {"consent_required", 400, "Bad Request", "the user must consent"},
    [TS_ERR_INTERACTION_REQUIRED] = {"interaction_required", 400, "Bad Request", "the user must interact"},
    [TS_ERR_REQUEST_NOT_SUPPORTED] = {"request_not_supported", 400, "Bad Request", "request objects are not supported"},
    [TS_ERR_REQUEST_URI_NOT_SUPPORTED] = {"request_uri_not_supported", 400, "Bad Request", "request_uri is not supported"},
    [TS_ERR_NOT_FOUND] = {"not_found", 404, "Not Found", "no such endpoint"},
    [TS_ERR_METHOD_NOT_ALLOWED] = {"invalid_request", 405, "Method Not Allowed", "method not allowed"},
    [TS_ERR_UNSUPPORTED_MEDIA_TYPE] = {"invalid_request", 400, "Bad Request", "unsupported content type"},
    [TS_ERR_PAYLOAD_TOO_LARGE] = {"invalid_request", 413, "Payload Too Large", "the request body is too large"},
    [TS_ERR_HEADERS_TOO_LARGE] = {"invalid_request", 431, "Request Header Fields Too Large", "the request headers are too large"},
    [TS_ERR_TOO_MANY_REQUESTS] = {"too_many_requests", 429, "Too Many Requests", "too many requests"},
    [TS_ERR_TEMPORARILY_UNAVAILABLE] = {"temporarily_unavailable", 503, "Service Unavailable",
                                        "the service is temporarily unavailable"},
    [TS_ERR_SERVER_ERROR] = {"server_error", 500, "Internal Server Error", "internal error"},
    [TS_ERR_INSUFFICIENT_USER_AUTHENTICATION] = {"insufficient_user_authentication", 401, "Unauthorized",
                                                 "a more recent sign-in is required"},
    [TS_ERR_CONFLICT] = {"invalid_request", 409, "Conflict", "the record already exists"},
    [TS_ERR_INVALID_CLIENT_METADATA] = {"invalid_client_metadata", 400, "Bad Request", "the client metadata is invalid"},
    [TS_ERR_INVALID_REDIRECT_URI] = {"invalid_redirect_uri", 400, "Bad Request", "a redirect URI is invalid"},
};

const ts_err_info_t *ts_err_info(ts_err_t err)
{
    if ((unsigned)err >= TS_ERR__COUNT)
        err = TS_ERR_SERVER_ERROR;
    return &table[err];
}
