/* application/x-www-form-urlencoded, strictly: OAuth parameters must not repeat (RFC 6749 §3.1), and
 * every size is bounded before anything is copied. */
#include <string.h>
#include <strings.h>
#include "tessera/http.h"
#include "tessera/text.h"

static int listed(const char *const *names, const char *name)
{
    for (; names != NULL && *names != NULL; ++names)
        if (strcmp(*names, name) == 0)
            return 1;
    return 0;
}

ts_err_t ts_http_parse_form(h2o_mem_pool_t *pool, const char *s, size_t len, const char *const *repeatable, ts_params_t *out,
                            const char **why)
{
    const char *end = s + len;

    out->count = 0;
    while (s < end) {
        const char *amp = memchr(s, '&', (size_t)(end - s)), *pair_end = amp != NULL ? amp : end;
        const char *eq = memchr(s, '=', (size_t)(pair_end - s));
        const char *name = s, *value = eq != NULL ? eq + 1 : pair_end;
        size_t name_len = (size_t)((eq != NULL ? eq : pair_end) - name), value_len = (size_t)(pair_end - value);

        s = pair_end + (amp != NULL);
        if (name_len == 0 && value_len == 0)
            continue; /* "a=1&&b=2" and a trailing '&' are harmless */
        if (name_len == 0 || name_len > TS_FORM_MAX_NAME * 3 || value_len > TS_FORM_MAX_VALUE * 3) {
            *why = name_len == 0 ? "parameter without a name" : "parameter too long";
            return TS_ERR_INVALID_REQUEST;
        }
        if (out->count == TS_FORM_MAX_PARAMS) {
            *why = "too many parameters";
            return TS_ERR_INVALID_REQUEST;
        }
        char *dname = h2o_mem_alloc_pool(pool, name_len + 1), *dvalue = h2o_mem_alloc_pool(pool, value_len + 1);
        ssize_t nl = ts_form_decode(name, name_len, dname), vl = ts_form_decode(value, value_len, dvalue);
        if (nl < 0 || vl < 0) {
            *why = "malformed percent-encoding";
            return TS_ERR_INVALID_REQUEST;
        }
        if (nl > TS_FORM_MAX_NAME || vl > TS_FORM_MAX_VALUE) {
            *why = "parameter too long";
            return TS_ERR_INVALID_REQUEST;
        }
        if (ts_http_param(out, dname) != NULL && !listed(repeatable, dname)) {
            *why = "repeated parameter";
            return TS_ERR_INVALID_REQUEST;
        }
        out->items[out->count++] = (ts_param_t){dname, dvalue, (size_t)vl};
    }
    return TS_OK;
}

const char *ts_http_param(const ts_params_t *params, const char *name)
{
    for (size_t i = 0; i < params->count; ++i)
        if (strcmp(params->items[i].name, name) == 0)
            return params->items[i].value;
    return NULL;
}

size_t ts_http_param_all(const ts_params_t *params, const char *name, const char **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < params->count && n < max; ++i)
        if (strcmp(params->items[i].name, name) == 0)
            out[n++] = params->items[i].value;
    return n;
}

/* the request's Content-Type is type, optionally followed by parameters such as "; charset=UTF-8" */
static int has_content_type(h2o_req_t *req, const char *type, size_t n)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
    if (i == -1)
        return 0;
    h2o_iovec_t v = req->headers.entries[i].value;
    if (v.len < n || strncasecmp(v.base, type, n) != 0)
        return 0;
    return v.len == n || v.base[n] == ';' || v.base[n] == ' ';
}

int ts_http_is_form(h2o_req_t *req)
{
    return has_content_type(req, H2O_STRLIT("application/x-www-form-urlencoded"));
}

int ts_http_is_json(h2o_req_t *req)
{
    return has_content_type(req, H2O_STRLIT("application/json"));
}

int ts_http_read_form_or_reply(h2o_req_t *req, const char *const *repeatable, ts_params_t *out)
{
    const char *why = NULL;

    if (!ts_http_is_form(req)) {
        ts_http_send_error(req, TS_ERR_UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/x-www-form-urlencoded");
        return -1;
    }
    if (ts_http_parse_form(&req->pool, req->entity.base != NULL ? req->entity.base : "", req->entity.len, repeatable, out, &why) != TS_OK) {
        ts_http_send_error(req, TS_ERR_INVALID_REQUEST, why);
        return -1;
    }
    return 0;
}
