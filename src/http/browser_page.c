/* Pages and redirects of the browser endpoints. Every page carries the same strict policy: no script at all,
 * the stylesheet from this origin, no framing, and forms that may only go here (and on to the client). */
#include <stdio.h>
#include <string.h>
#include "http/browser.h"
#include "http/cookie.h"

int ts_browser_secure(const ts_app_t *app)
{
    return strncmp(app->conf->issuer, "https://", 8) == 0;
}

/* "https://app.example:8443" of a URI, or "com.example.app:" for a private-use scheme (RFC 8252 §7.1) */
static h2o_iovec_t origin_of(const char *uri)
{
    const char *sep = strstr(uri, "://"), *colon = strchr(uri, ':');
    if (sep != NULL && sep == colon)
        return h2o_iovec_init(uri, (size_t)(sep + 3 - uri) + strcspn(sep + 3, "/?#"));
    return colon != NULL ? h2o_iovec_init(uri, (size_t)(colon + 1 - uri)) : h2o_iovec_init("", 0);
}

/* CSP source expressions may not hold ';', ',' or whitespace; a registered URI never does, but the header must
 * not be splittable even if one did */
static int csp_safe(h2o_iovec_t v)
{
    for (size_t i = 0; i < v.len; ++i)
        if (v.base[i] <= ' ' || v.base[i] == ';' || v.base[i] == ',' || v.base[i] == '\'' || (unsigned char)v.base[i] >= 0x7f)
            return 0;
    return 1;
}

int ts_browser_page(h2o_req_t *req, int status, ts_page_t page, json_t *vars, const char *form_target)
{
    const ts_app_t *app = ts_http_worker(req)->app;
    char *html = NULL;
    size_t len = 0;

    if (vars == NULL)
        vars = json_object();
    json_object_set_new(vars, "lang", json_string("en"));
    json_object_set_new(vars, "issuer", json_string(app->conf->issuer));
    int ret = ts_template_render(app->pages->pages[page], vars, &html, &len);
    json_decref(vars);
    if (ret != 0)
        return ts_http_send_error(req, TS_ERR_SERVER_ERROR, NULL);

    h2o_iovec_t origin = form_target != NULL ? origin_of(form_target) : h2o_iovec_init("", 0);
    if (!csp_safe(origin))
        origin = h2o_iovec_init("", 0);
    char *csp = h2o_mem_alloc_pool(&req->pool, 256 + origin.len);
    snprintf(csp, 256 + origin.len,
             "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'%s%.*s; frame-ancestors 'none'; "
             "base-uri 'none'",
             origin.len != 0 ? " " : "", (int)origin.len, origin.base);
    ts_http_header(req, "content-security-policy", csp);
    ts_http_send(req, status, "text/html; charset=utf-8", html, len);
    free(html);
    return 0;
}

int ts_browser_error_page(h2o_req_t *req, int status, ts_err_t err, const char *why)
{
    const ts_err_info_t *info = ts_err_info(err);
    json_t *vars = json_pack("{s:s, s:s}", "error", info->code, "error_description", why != NULL ? why : info->description);
    return ts_browser_page(req, status, TS_PAGE_ERROR, vars, NULL);
}

/* appends "&name=value" (or "?" first) to b, percent-encoding everything outside RFC 3986's unreserved set */
static void append_param(h2o_mem_pool_t *pool, h2o_iovec_t *b, size_t cap, const char *name, const char *value)
{
    static const char hex[] = "0123456789ABCDEF";
    char *p = b->base + b->len, *end = b->base + cap - 1;

    (void)pool;
    if (p + strlen(name) + 2 > end)
        return;
    *p++ = memchr(b->base, '?', b->len) != NULL ? '&' : '?';
    p += sprintf(p, "%s=", name); /* Flawfinder: ignore - bounded by the check above; names are ours */
    for (const unsigned char *v = (const unsigned char *)value; *v != '\0' && p + 3 <= end; ++v) {
        if ((*v >= 'A' && *v <= 'Z') || (*v >= 'a' && *v <= 'z') || (*v >= '0' && *v <= '9') || strchr("-._~", *v) != NULL) {
            *p++ = (char)*v;
        } else {
            *p++ = '%';
            *p++ = hex[*v >> 4];
            *p++ = hex[*v & 15];
        }
    }
    *p = '\0';
    b->len = (size_t)(p - b->base);
}

static int send_see_other(h2o_req_t *req, h2o_iovec_t location)
{
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_LOCATION, NULL, location.base, location.len);
    return ts_http_send(req, 303, NULL, "", 0);
}

/* room for a redirect: the URI plus every parameter at three bytes per input byte */
static h2o_iovec_t redirect_buffer(h2o_req_t *req, const char *uri, size_t extra, size_t *cap)
{
    size_t n = strlen(uri);
    *cap = n + extra * 3 + 256;
    h2o_iovec_t b = h2o_iovec_init(h2o_mem_alloc_pool(&req->pool, *cap), n);
    memcpy(b.base, uri, n + 1); /* Flawfinder: ignore - *cap > n + 1 by construction */
    return b;
}

int ts_browser_redirect(ts_reqctx_t *ctx, const ts_authz_t *a, const char *code, ts_err_t err, const char *why)
{
    h2o_req_t *req = ctx->req;
    const char *issuer = ctx->worker->app->conf->issuer;
    const char *state = a->state;
    size_t cap, extra = strlen(issuer) + (state != NULL ? strlen(state) : 0) + (code != NULL ? strlen(code) : 0) +
                        (why != NULL ? strlen(why) : 0) + 64;
    h2o_iovec_t b = redirect_buffer(req, a->redirect_uri, extra, &cap);

    if (code != NULL) {
        append_param(&req->pool, &b, cap, "code", code);
    } else {
        append_param(&req->pool, &b, cap, "error", ts_err_info(err)->code);
        append_param(&req->pool, &b, cap, "error_description", why != NULL ? why : ts_err_info(err)->description);
    }
    if (state != NULL)
        append_param(&req->pool, &b, cap, "state", state);
    append_param(&req->pool, &b, cap, "iss", issuer); /* RFC 9207 */
    return send_see_other(req, b);
}

int ts_browser_redirect_state(h2o_req_t *req, const char *uri, const char *state)
{
    size_t cap;
    h2o_iovec_t b = redirect_buffer(req, uri, state != NULL ? strlen(state) : 0, &cap);
    if (state != NULL)
        append_param(&req->pool, &b, cap, "state", state);
    return send_see_other(req, b);
}

int ts_browser_check_binding_or_reply(ts_reqctx_t *ctx, const char *browser_hash, const char *csrf_hash, const char *csrf)
{
    const ts_app_t *app = ctx->worker->app;
    char cookie[TS_COOKIE_VALUE_MAX + 1], got[44];
    int ok = 1;
    int n = ts_http_cookie_get(ctx->req, TS_COOKIE_BROWSER, app->secure_cookies, cookie, sizeof(cookie));

    /* both are compared whole, in constant time: neither mismatch may be told apart by timing */
    if (n <= 0 || browser_hash == NULL || strlen(browser_hash) != 43)
        ok = 0;
    ts_crypto_handle_hash(n > 0 ? cookie : "", n > 0 ? (size_t)n : 0, got);
    ok &= browser_hash != NULL && strlen(browser_hash) == 43 && ts_crypto_equal(got, browser_hash, 43);
    ts_crypto_handle_hash(csrf, strlen(csrf), got);
    ok &= csrf_hash != NULL && strlen(csrf_hash) == 43 && ts_crypto_equal(got, csrf_hash, 43);
    if (ok)
        return 0;
    ts_browser_error_page(ctx->req, 403, TS_ERR_ACCESS_DENIED,
                          "this sign-in was started in another browser or tab, or the form is stale: go back to the application and "
                          "start again");
    return -1;
}
