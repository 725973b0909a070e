/* Exact-path routing. h2o's own path registration matches prefixes, so one handler takes everything and
 * this table decides, which also gives every unknown path and wrong method the same JSON error. */
#include <string.h>
#include "http/endpoints.h"

#define M_GET 1u  /* GET and HEAD */
#define M_POST 2u

static const struct {
    const char *path;
    unsigned methods;
    int (*fn)(h2o_req_t *req);
} routes[] = {
    {"/.well-known/openid-configuration", M_GET, ts_ep_discovery_oidc},
    {"/.well-known/oauth-authorization-server", M_GET, ts_ep_discovery_oauth},
    {"/jwks.json", M_GET, ts_ep_jwks},
    {"/healthz", M_GET, ts_ep_healthz},
    {"/readyz", M_GET, ts_ep_readyz},
    {"/token", M_POST, ts_ep_token},
    {"/introspect", M_POST, ts_ep_introspect},
    {"/revoke", M_POST, ts_ep_revoke},
};

static unsigned method_bit(h2o_req_t *req)
{
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) ||
        h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD")))
        return M_GET;
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST")))
        return M_POST;
    return 0;
}

static const char *allow_value(unsigned methods)
{
    return methods == M_GET ? "GET, HEAD" : methods == M_POST ? "POST" : "GET, HEAD, POST";
}

static size_t header_bytes(h2o_req_t *req)
{
    size_t total = 0;
    for (size_t i = 0; i < req->headers.size; ++i)
        total += req->headers.entries[i].name->len + req->headers.entries[i].value.len + 4;
    return total;
}

int ts_http_route(h2o_handler_t *self, h2o_req_t *req)
{
    ts_worker_t *w = ts_http_worker(req);
    h2o_iovec_t path = req->path_normalized;

    if (header_bytes(req) > w->app->conf->max_header_bytes)
        return ts_http_send_error(req, TS_ERR_HEADERS_TOO_LARGE, NULL);
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); ++i) {
        if (!h2o_memis(path.base, path.len, routes[i].path, strlen(routes[i].path)))
            continue;
        if ((method_bit(req) & routes[i].methods) == 0) {
            ts_http_header(req, "allow", allow_value(routes[i].methods));
            return ts_http_send_error(req, TS_ERR_METHOD_NOT_ALLOWED, NULL);
        }
        return routes[i].fn(req);
    }
    return ts_http_send_error(req, TS_ERR_NOT_FOUND, NULL);
}
