/* Bearer tokens in the Authorization header (RFC 6750 §2.1), for the endpoints that take them: the admin API
 * and client registration management. */
#include <string.h>
#include <strings.h>
#include "tessera/http.h"

const char *ts_http_bearer_token(h2o_req_t *req, size_t *len, const char **why)
{
    ssize_t h = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    const h2o_iovec_t *v;

    *why = NULL;
    if (h == -1)
        return NULL;
    if (h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, h) != -1) {
        *why = "more than one Authorization header";
        return NULL;
    }
    v = &req->headers.entries[h].value;
    if (v->len < 7 || strncasecmp(v->base, "Bearer ", 7) != 0)
        return NULL; /* RFC 6750 §3.1: an unsupported authentication method is no credentials */
    const char *t = v->base + 7;
    size_t n = v->len - 7;
    while (n > 0 && *t == ' ')
        ++t, --n;
    if (n == 0 || n > TS_JWS_MAX_LEN) {
        *why = "the bearer token is empty or too long";
        return NULL;
    }
    for (size_t i = 0; i < n; ++i)
        if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=", t[i]) == NULL) {
            *why = "the bearer token has characters a token cannot have";
            return NULL;
        }
    *len = n;
    return h2o_strdup(&req->pool, t, n).base;
}

