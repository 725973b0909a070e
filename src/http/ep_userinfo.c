/* GET|POST /userinfo (OpenID Connect Core §5.3) with a bearer token (RFC 6750): in the Authorization header,
 * or, on POST, the form body's access_token; never the query string (RFC 9700 §4.3.2). Answered from memory:
 * the token is judged as introspection judges it, the claims come from the directory snapshot. */
#include <strings.h>
#include <string.h>
#include "http/endpoints.h"
#include "http/reqctx.h"
#include "tessera/oauth_browser.h"

static int bearer_error(h2o_req_t *req, ts_err_t err, const char *why)
{
    /* RFC 6750 §3: a request without any token gets the challenge alone, without an error code */
    const char *challenge = err == TS_OK                       ? "Bearer realm=\"tessera\""
                            : err == TS_ERR_INSUFFICIENT_SCOPE ? "Bearer realm=\"tessera\", error=\"insufficient_scope\", scope=\"openid\""
                            : err == TS_ERR_INVALID_REQUEST    ? "Bearer realm=\"tessera\", error=\"invalid_request\""
                                                               : "Bearer realm=\"tessera\", error=\"invalid_token\"";
    ts_http_header(req, "www-authenticate", challenge);
    return ts_http_send_error(req, err == TS_OK ? TS_ERR_INVALID_TOKEN : err, why);
}

/* the token from the Authorization header or the form body; exactly one place (RFC 6750 §2) */
static int find_token(ts_reqctx_t *ctx, const char **token, size_t *len)
{
    h2o_req_t *req = ctx->req;
    ssize_t h = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    const char *in_body = NULL;

    *token = NULL;
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST")) && ts_http_is_form(req)) {
        const char *why;
        if (ts_http_parse_form(&req->pool, req->entity.base != NULL ? req->entity.base : "", req->entity.len, NULL, &ctx->params,
                               &why) != TS_OK)
            return -1;
        in_body = ts_http_param(&ctx->params, "access_token");
    }
    if (h != -1) {
        h2o_iovec_t v = req->headers.entries[h].value;
        if (in_body != NULL || v.len < 7 || strncasecmp(v.base, "Bearer ", 7) != 0)
            return -1;
        *token = v.base + 7;
        *len = v.len - 7;
        while (*len != 0 && **token == ' ')
            ++*token, --*len;
        return *len != 0 ? 0 : -1;
    }
    if (in_body != NULL) {
        *token = in_body;
        *len = strlen(in_body);
    }
    return 0;
}

int ts_ep_userinfo(h2o_req_t *req)
{
    ts_reqctx_t *ctx = ts_reqctx_create_bare_or_reply(req);
    const char *token;
    size_t len;

    if (ctx == NULL)
        return 0;
    if (find_token(ctx, &token, &len) != 0)
        return bearer_error(req, TS_ERR_INVALID_REQUEST, "the access token must be sent once, as a bearer token");
    if (token == NULL)
        return bearer_error(req, TS_OK, "an access token is required");
    json_t *active = len <= TS_JWS_MAX_LEN && memchr(token, '.', len) != NULL ? ts_reqctx_judge_access_token(ctx, token, len) : NULL;
    if (active == NULL)
        return bearer_error(req, TS_ERR_INVALID_TOKEN, "the access token is invalid, expired or revoked");
    const char *scope = json_string_value(json_object_get(active, "scope"));
    const char *sub = json_string_value(json_object_get(active, "sub"));
    const ts_user_t *user = sub != NULL ? ts_directory_user(ctx->dir, sub) : NULL;
    if (user == NULL || scope == NULL || !ts_scope_subset("openid", scope)) {
        json_decref(active);
        return bearer_error(req, TS_ERR_INSUFFICIENT_SCOPE, "the access token was not issued for openid");
    }
    json_t *claims = ts_oauth_user_claims(user, scope);
    json_decref(active);
    ts_http_no_store(req);
    return ts_http_send_json(req, 200, claims);
}
