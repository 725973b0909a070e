#include <stdint.h>
#include <stdio.h>
#include "http/methods.h"

unsigned ts_http_method_bit(h2o_req_t *req)
{
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) ||
        h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD")))
        return M_GET;
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST")))
        return M_POST;
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("PUT")))
        return M_PUT;
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("DELETE")))
        return M_DELETE;
    return 0;
}

const char *ts_http_allow_value(h2o_req_t *req, unsigned methods)
{
    char buf[48];
    snprintf(buf, sizeof(buf), "%s%s%s%s", (methods & M_GET) ? ", GET, HEAD" : "", (methods & M_POST) ? ", POST" : "",
             (methods & M_PUT) ? ", PUT" : "", (methods & M_DELETE) ? ", DELETE" : "");
    return h2o_strdup(&req->pool, buf[0] != '\0' ? buf + 2 : buf, SIZE_MAX).base;
}
