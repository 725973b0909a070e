#include <stdio.h>
#include "http/limits.h"
#include "http/ratelimit_http.h"
#include "tessera/http.h"

int ts_http_rate_limit_address_or_reply(h2o_req_t *req)
{
    const ts_app_t *app = ts_http_worker(req)->app;
    char key[TS_HTTP_ADDRESS_KEY_MAX];

    if (app->conf->rate_limit_address_rate == 0 || ts_http_peer_rate_key(req, key, sizeof(key)) == NULL)
        return 0;
    return ts_http_rate_limit_or_reply(req, app->ratelimit, "address", key, app->conf->rate_limit_address_rate,
                                       app->conf->rate_limit_address_burst);
}

int ts_http_rate_limit_client_or_reply(h2o_req_t *req, const char *client_id)
{
    const ts_app_t *app = ts_http_worker(req)->app;
    char key[160];

    if (app->conf->rate_limit_client_rate == 0)
        return 0;
    snprintf(key, sizeof(key), "c:%s", client_id);
    return ts_http_rate_limit_or_reply(req, app->ratelimit, "client", key, app->conf->rate_limit_client_rate,
                                       app->conf->rate_limit_client_burst);
}
