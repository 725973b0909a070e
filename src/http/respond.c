/* Every response leaves through here, so every response carries the same security headers, and every
 * error has the RFC 6749 shape and nothing else (no internals). */
#include <string.h>
#include <sys/time.h>
#include "http/ratelimit_http.h"
#include "tessera/http.h"
#include "tessera/log.h"

void ts_http_header(h2o_req_t *req, const char *name, const char *value)
{
    h2o_add_header_by_str(&req->pool, &req->res.headers, name, strlen(name), 0, NULL, value, strlen(value));
}

const char *ts_http_strdup(h2o_req_t *req, const char *s)
{
    return s != NULL ? h2o_strdup(&req->pool, s, SIZE_MAX).base : NULL;
}

void ts_http_no_store(h2o_req_t *req)
{
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("pragma"), 0, NULL, H2O_STRLIT("no-cache"));
}

static void add_security_headers(h2o_req_t *req)
{
    const ts_app_t *app = ts_http_worker(req)->app;

    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-content-type-options"), 0, NULL, H2O_STRLIT("nosniff"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("referrer-policy"), 0, NULL, H2O_STRLIT("no-referrer"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-frame-options"), 0, NULL, H2O_STRLIT("DENY"));
    if (app->tls)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_STRICT_TRANSPORT_SECURITY, NULL,
                       H2O_STRLIT("max-age=31536000; includeSubDomains"));
    /* what does not say otherwise is not for caches */
    if (h2o_find_header(&req->res.headers, H2O_TOKEN_CACHE_CONTROL, -1) == -1)
        ts_http_no_store(req);
    /* JSON and the like load nothing and may be framed by nobody; pages set their own, stricter in what they allow */
    if (h2o_find_header_by_str(&req->res.headers, H2O_STRLIT("content-security-policy"), -1) == -1)
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("content-security-policy"), 0, NULL,
                              H2O_STRLIT("default-src 'none'; frame-ancestors 'none'"));
}

static const char *reason_phrase(int status)
{
    if (status == 303)
        return "See Other";
    if (status == 304)
        return "Not Modified";
    if (status == 201)
        return "Created";
    if (status == 204)
        return "No Content";
    for (int e = 1; e < TS_ERR__COUNT; ++e)
        if (ts_err_info((ts_err_t)e)->status == status)
            return ts_err_info((ts_err_t)e)->reason;
    return "OK";
}

/* path_normalized holds no query string: codes, state and hints never reach the log */
static void log_access(h2o_req_t *req, int status, size_t len)
{
    char peer[TS_HTTP_ADDRESS_MAX];
    struct timeval now;
    gettimeofday(&now, NULL);
    double ms = h2o_timeval_is_null(&req->timestamps.request_begin_at)
                    ? 0
                    : (double)h2o_timeval_subtract(&req->timestamps.request_begin_at, &now) / 1000.0;
    ts_log_access(req->method.base, req->method.len, req->path_normalized.base, req->path_normalized.len, status, len,
                  ts_http_peer_address(req, peer, sizeof(peer)), ms);
}

int ts_http_send(h2o_req_t *req, int status, const char *content_type, const char *body, size_t len)
{
    req->res.status = status;
    req->res.reason = reason_phrase(status);
    if (content_type != NULL)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type, strlen(content_type));
    add_security_headers(req);
    const ts_app_t *app = ts_http_worker(req)->app;
    if (app != NULL && app->conf != NULL && app->conf->access_log)
        log_access(req, status, len);
    /* RFC 9110 §8.6: no Content-Length on a 204 (SIZE_MAX: h2o sends none, and never chunks a 204) */
    req->res.content_length = status == 204 ? SIZE_MAX : len;
    h2o_send_inline(req, body, len);
    return 0;
}

int ts_http_send_json(h2o_req_t *req, int status, json_t *json)
{
    char *body = json != NULL ? json_dumps(json, JSON_COMPACT) : NULL;
    json_decref(json);
    if (body == NULL)
        return ts_http_send_error(req, TS_ERR_SERVER_ERROR, NULL);
    ts_http_send(req, status, "application/json", body, strlen(body));
    free(body);
    return 0;
}

int ts_http_send_error(h2o_req_t *req, ts_err_t err, const char *description)
{
    const ts_err_info_t *info = ts_err_info(err);
    json_t *body = json_pack("{s:s, s:s}", "error", info->code, "error_description",
                             description != NULL ? description : info->description);
    char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;

    json_decref(body);
    ts_http_no_store(req);
    if (text == NULL) {
        static const char fallback[] = "{\"error\":\"server_error\"}";
        return ts_http_send(req, 500, "application/json", fallback, sizeof(fallback) - 1);
    }
    ts_http_send(req, info->status, "application/json", text, strlen(text));
    free(text);
    return 0;
}
