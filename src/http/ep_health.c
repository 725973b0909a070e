/* /healthz: the process answers. /readyz: it can do its work: keys loaded and the database answering. */
#include <stdio.h>
#include "http/endpoints.h"
#include "tessera/keyring.h"

int ts_ep_healthz(h2o_req_t *req)
{
    static const char body[] = "{\"status\":\"ok\"}";
    return ts_http_send(req, 200, "application/json", body, sizeof(body) - 1);
}

typedef struct st_ready_probe_t {
    h2o_req_t *req;
    ts_db_query_t *query;
} ready_probe_t;

static int not_ready(h2o_req_t *req, const char *why)
{
    char retry[16];
    snprintf(retry, sizeof(retry), "%u", ts_db_pool_retry_after(ts_http_worker(req)->db));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, h2o_strdup(&req->pool, retry, SIZE_MAX).base,
                   strlen(retry));
    return ts_http_send_error(req, TS_ERR_TEMPORARILY_UNAVAILABLE, why);
}

static void on_ping(void *ctx, const ts_db_result_t *res, const char *err)
{
    ready_probe_t *probe = ctx;
    probe->query = NULL; /* the query is gone once this runs */
    if (err != NULL) {
        not_ready(probe->req, "database unavailable");
        return;
    }
    static const char body[] = "{\"status\":\"ready\",\"database\":\"up\",\"keys\":\"loaded\"}";
    ts_http_send(probe->req, 200, "application/json", body, sizeof(body) - 1);
}

/* the client went away while the ping was in flight */
static void on_probe_dispose(void *p)
{
    ready_probe_t *probe = p;
    if (probe->query != NULL)
        ts_db_cancel(probe->query);
}

int ts_ep_readyz(h2o_req_t *req)
{
    ts_worker_t *w = ts_http_worker(req);
    ts_keyring_t *ring = (ts_keyring_t *)ts_slot_acquire(&w->app->snaps->keyring);
    int keys_ok = ts_keyring_ready(ring);

    ts_ref_release(ring != NULL ? &ring->super : NULL);
    if (!keys_ok)
        return not_ready(req, "signing keys not loaded");
    ready_probe_t *probe = h2o_mem_alloc_shared(&req->pool, sizeof(*probe), on_probe_dispose);
    probe->req = req;
    if ((probe->query = ts_db_query(w->db, TS_STMT_PING, 0, NULL, on_ping, probe)) == NULL)
        return not_ready(req, "database unavailable");
    return 0;
}
