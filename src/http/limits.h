#ifndef TESSERA_HTTP_LIMITS_H
#define TESSERA_HTTP_LIMITS_H

/* The configured rate limits of the protocol endpoints, per source address and per client. */
#include <h2o.h>

/** 0 when the request's source address is within its limit; else the 429 has been sent and -1 returned */
int ts_http_rate_limit_address_or_reply(h2o_req_t *req);
/** the same for an identified client */
int ts_http_rate_limit_client_or_reply(h2o_req_t *req, const char *client_id);

#endif
