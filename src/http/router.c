/* Exact-path routing. h2o's own path registration matches prefixes, so one handler takes everything and
 * this table decides, which also gives every unknown path and wrong method the same JSON error. */
#include <string.h>
#include <strings.h>
#include "http/browser.h"
#include "http/endpoints.h"
#include "tessera/audit.h"
#include "http/limits.h"
#include "http/methods.h"

#define LIMITED_HERE 0 /* the router takes the address's token */
#define LIMITED_INSIDE 1 /* the handler does (src/http/reqctx.c), and the client's too */

/* what the endpoint does is an audit event (a sign-in, a token, a revocation, a registration): while the audit log
 * cannot be written it answers 503 instead (ts_audit_accepting; docs/audit.md, "Failing closed") */
#define UNRECORDED 0
#define RECORDED 1      /* the 503 as JSON */
#define RECORDED_PAGE 2 /* the 503 as the HTML error page (a person's browser) */

static const struct {
    const char *path;
    unsigned methods;
    int (*fn)(h2o_req_t *req);
    int limits;
    int recorded;
} routes[] = {
    {"/.well-known/openid-configuration", M_GET, ts_ep_discovery_oidc, LIMITED_HERE, UNRECORDED},
    {"/.well-known/oauth-authorization-server", M_GET, ts_ep_discovery_oauth, LIMITED_HERE, UNRECORDED},
    {"/jwks.json", M_GET, ts_ep_jwks, LIMITED_HERE, UNRECORDED},
    {"/healthz", M_GET, ts_ep_healthz, LIMITED_HERE, UNRECORDED},
    {"/readyz", M_GET, ts_ep_readyz, LIMITED_HERE, UNRECORDED},
    {"/token", M_POST, ts_ep_token, LIMITED_INSIDE, RECORDED},
    /* a read: gateways keep working; only its refusals are events, and those are what a full queue drops */
    {"/introspect", M_POST, ts_ep_introspect, LIMITED_INSIDE, UNRECORDED},
    {"/revoke", M_POST, ts_ep_revoke, LIMITED_INSIDE, RECORDED},
    {"/authorize", M_GET | M_POST, ts_ep_authorize, LIMITED_INSIDE, RECORDED_PAGE},
    {"/login", M_POST, ts_ep_login, LIMITED_INSIDE, RECORDED_PAGE},
    {"/consent", M_POST, ts_ep_consent, LIMITED_INSIDE, RECORDED_PAGE},
    {"/logout", M_GET | M_POST, ts_ep_logout, LIMITED_INSIDE, RECORDED_PAGE},
    {"/userinfo", M_GET | M_POST, ts_ep_userinfo, LIMITED_INSIDE, UNRECORDED},
    {"/assets/style.css", M_GET, ts_ep_stylesheet, LIMITED_HERE, UNRECORDED},
    {"/register", M_POST, ts_ep_register, LIMITED_INSIDE, RECORDED},
    /* the one path with a parameter: /register/{client_id} (RFC 7592), matched on this prefix */
    {"/register/", M_GET | M_PUT | M_DELETE, ts_ep_registration, LIMITED_INSIDE, RECORDED},
};

/* path is the route's (exact), or begins with a route ending in '/' and has something after it */
static int matches(h2o_iovec_t path, const char *route)
{
    size_t n = strlen(route);
    if (route[n - 1] == '/')
        return path.len > n && memcmp(path.base, route, n) == 0;
    return h2o_memis(path.base, path.len, route, n);
}

static size_t header_bytes(h2o_req_t *req)
{
    size_t total = 0;
    for (size_t i = 0; i < req->headers.size; ++i)
        total += req->headers.entries[i].name->len + req->headers.entries[i].value.len + 4;
    return total;
}

#define AUDIT_UNAVAILABLE "the audit log cannot be written at the moment; try again later"

static int audit_unavailable(h2o_req_t *req, int page)
{
    ts_http_header(req, "retry-after", "5");
    if (page)
        return ts_browser_error_page(req, 503, TS_ERR_TEMPORARILY_UNAVAILABLE, AUDIT_UNAVAILABLE);
    return ts_http_send_error(req, TS_ERR_TEMPORARILY_UNAVAILABLE, AUDIT_UNAVAILABLE);
}

int ts_http_route(h2o_handler_t *self, h2o_req_t *req)
{
    ts_worker_t *w = ts_http_worker(req);
    h2o_iovec_t path = req->path_normalized;

    if (ts_http_ambiguous_framing(req))
        return ts_http_refuse_framing(req);
    if (header_bytes(req) > w->app->conf->max_header_bytes)
        return ts_http_send_error(req, TS_ERR_HEADERS_TOO_LARGE, NULL);
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); ++i) {
        if (!matches(path, routes[i].path))
            continue;
        if ((ts_http_method_bit(req) & routes[i].methods) == 0) {
            ts_http_header(req, "allow", ts_http_allow_value(req, routes[i].methods));
            return ts_http_send_error(req, TS_ERR_METHOD_NOT_ALLOWED, NULL);
        }
        if (routes[i].limits == LIMITED_HERE && ts_http_rate_limit_address_or_reply(req) != 0)
            return 0;
        if (routes[i].recorded != UNRECORDED && !ts_audit_accepting(w->app->audit))
            return audit_unavailable(req, routes[i].recorded == RECORDED_PAGE);
        return routes[i].fn(req);
    }
    /* a scanner walking unknown paths spends the same tokens as anyone */
    if (ts_http_rate_limit_address_or_reply(req) != 0)
        return 0;
    return ts_http_send_error(req, TS_ERR_NOT_FOUND, NULL);
}
