#ifndef TESSERA_ERROR_H
#define TESSERA_ERROR_H

/* One code for every failure an OAuth caller can see; src/core/error.c maps each to its RFC 6749
 * `error` string and HTTP status, and only src/http renders it. */
typedef enum en_ts_err_t {
    TS_OK = 0,
    TS_ERR_INVALID_REQUEST,
    TS_ERR_INVALID_CLIENT,
    TS_ERR_INVALID_GRANT,
    TS_ERR_UNAUTHORIZED_CLIENT,
    TS_ERR_UNSUPPORTED_GRANT_TYPE,
    TS_ERR_INVALID_SCOPE,
    TS_ERR_ACCESS_DENIED,
    TS_ERR_UNSUPPORTED_RESPONSE_TYPE,
    TS_ERR_INVALID_TOKEN,
    TS_ERR_INVALID_TARGET,
    TS_ERR_INSUFFICIENT_SCOPE,
    TS_ERR_LOGIN_REQUIRED,
    TS_ERR_CONSENT_REQUIRED,
    TS_ERR_INTERACTION_REQUIRED,
    TS_ERR_REQUEST_NOT_SUPPORTED,
    TS_ERR_REQUEST_URI_NOT_SUPPORTED,
    TS_ERR_NOT_FOUND,
    TS_ERR_METHOD_NOT_ALLOWED,
    TS_ERR_UNSUPPORTED_MEDIA_TYPE,
    TS_ERR_PAYLOAD_TOO_LARGE,
    TS_ERR_HEADERS_TOO_LARGE,
    TS_ERR_TOO_MANY_REQUESTS,
    TS_ERR_TEMPORARILY_UNAVAILABLE,
    TS_ERR_SERVER_ERROR,
    TS_ERR_INSUFFICIENT_USER_AUTHENTICATION, /* RFC 9470: the sign-in behind the token is too old (admin step-up) */
    TS_ERR_CONFLICT,                         /* the record already exists (admin API) */
    TS_ERR_INVALID_CLIENT_METADATA,          /* RFC 7591 §3.2.2: a registration names a value we refuse */
    TS_ERR_INVALID_REDIRECT_URI,             /* RFC 7591 §3.2.2: one of its redirect_uris is refused */
    TS_ERR__COUNT
} ts_err_t;

typedef struct st_ts_err_info_t {
    const char *code;   /* RFC 6749 `error` value */
    int status;         /* HTTP status */
    const char *reason; /* HTTP reason phrase */
    const char *description; /* default error_description */
} ts_err_info_t;

/** the error table row for err (TS_ERR_SERVER_ERROR's row for anything out of range) */
const ts_err_info_t *ts_err_info(ts_err_t err);

#endif
