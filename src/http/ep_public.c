/* The public, cacheable documents: discovery, JWKS and the pages' stylesheet. */
#include <string.h>
#include "http/endpoints.h"
#include "tessera/keyring.h"
#include "tessera/template.h"

static int send_document(h2o_req_t *req, h2o_iovec_t body)
{
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("public, max-age=3600"));
    return ts_http_send(req, 200, "application/json", body.base, body.len);
}

int ts_ep_discovery_oidc(h2o_req_t *req)
{
    return send_document(req, ts_http_worker(req)->app->discovery_oidc);
}

int ts_ep_stylesheet(h2o_req_t *req)
{
    const ts_pages_t *pages = ts_http_worker(req)->app->pages;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("public, max-age=3600"));
    return ts_http_send(req, 200, "text/css; charset=utf-8", pages->stylesheet, pages->stylesheet_len);
}

int ts_ep_discovery_oauth(h2o_req_t *req)
{
    return send_document(req, ts_http_worker(req)->app->discovery_oauth);
}

/* RFC 7232 §3.2: a list of entity tags or "*"; weak and strong compare alike for GET */
static int etag_matches(h2o_req_t *req, const char *etag)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_IF_NONE_MATCH, -1);
    if (i == -1)
        return 0;
    h2o_iovec_t v = req->headers.entries[i].value;
    size_t n = strlen(etag);
    for (size_t pos = 0; pos < v.len;) {
        while (pos < v.len && (v.base[pos] == ' ' || v.base[pos] == ','))
            ++pos;
        if (pos + 2 <= v.len && v.base[pos] == 'W' && v.base[pos + 1] == '/')
            pos += 2;
        size_t start = pos;
        while (pos < v.len && v.base[pos] != ',')
            ++pos;
        size_t len = pos - start;
        while (len > 0 && v.base[start + len - 1] == ' ')
            --len;
        if ((len == 1 && v.base[start] == '*') || (len == n && memcmp(v.base + start, etag, n) == 0))
            return 1;
    }
    return 0;
}

/* Clients may cache the key set: a new signing key is published as "next" a whole rotation period before
 * it signs, so a cache much younger than that period already knows it. */
int ts_ep_jwks(h2o_req_t *req)
{
    ts_keyring_t *ring = (ts_keyring_t *)ts_slot_acquire(&ts_http_worker(req)->app->snaps->keyring);

    if (ring == NULL)
        return ts_http_send_error(req, TS_ERR_TEMPORARILY_UNAVAILABLE, "signing keys not loaded");
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("public, max-age=300"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ETAG, NULL, h2o_strdup(&req->pool, ring->etag, SIZE_MAX).base,
                   strlen(ring->etag));
    if (etag_matches(req, ring->etag))
        ts_http_send(req, 304, NULL, "", 0);
    else
        ts_http_send(req, 200, "application/jwk-set+json", ring->jwks, ring->jwks_len);
    ts_ref_release(&ring->super);
    return 0;
}
