#ifndef TESSERA_HTTP_METHODS_H
#define TESSERA_HTTP_METHODS_H

/* Request methods as bits, for the route tables of both listeners (router.c, admin_server.c). */
#include "tessera/http.h"

#define M_GET 1u /* GET and HEAD */
#define M_POST 2u
#define M_PUT 4u
#define M_DELETE 8u

/** the bit of req's method; 0 for any other method */
unsigned ts_http_method_bit(h2o_req_t *req);
/** the Allow header value for the bits (RFC 9110 §10.2.1), in req's pool */
const char *ts_http_allow_value(h2o_req_t *req, unsigned methods);

#endif
