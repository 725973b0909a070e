/* Request smuggling defences shared by the public and the admin listeners. */
#include <string.h>
#include <strings.h>
#include "tessera/http.h"

/* libh2o 2.2.5 frames an HTTP/1 request by Transfer-Encoding when Content-Length is there too, reads the first
 * of repeated Content-Length fields, ignores obs-fold continuation lines, and keeps the connection open after
 * each. A proxy in front that frames such a request another way would have what follows it read here as a
 * request of its own (request smuggling). RFC 9112 §6.3 and §5.2: answer 400 and close the connection. h2o
 * keeps only the first of those fields, and not in req->headers, but it has not consumed the request yet:
 * its raw header block still begins the connection's input buffer, which is read here and never beyond. */
int ts_http_ambiguous_framing(h2o_req_t *req)
{
    h2o_socket_t *sock;

    if (req->version >= 0x200 || req->conn->callbacks == NULL || req->conn->callbacks->get_socket == NULL ||
        (sock = req->conn->callbacks->get_socket(req->conn)) == NULL || sock->input == NULL || sock->input->size == 0)
        return 0;
    const char *p = sock->input->bytes, *end = p + sock->input->size, *nl;
    unsigned content_length = 0, transfer_encoding = 0;
    if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL) /* the request line */
        return 0;
    for (p = nl + 1; p < end; p = nl + 1) {
        if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
            return 0; /* no end of the header block: not the raw request */
        size_t len = (size_t)(nl - p) - (nl > p && nl[-1] == '\r');
        if (len == 0)
            break;
        if (*p == ' ' || *p == '\t')
            return 1; /* obs-fold */
        if (len >= 15 && strncasecmp(p, "content-length:", 15) == 0)
            ++content_length;
        else if (len >= 18 && strncasecmp(p, "transfer-encoding:", 18) == 0)
            ++transfer_encoding;
    }
    return transfer_encoding != 0 ? content_length != 0 || transfer_encoding > 1 : content_length > 1;
}

int ts_http_refuse_framing(h2o_req_t *req)
{
    req->http1_is_persistent = 0; /* what follows on this connection cannot be trusted to be a request */
    return ts_http_send_error(req, TS_ERR_INVALID_REQUEST, "ambiguous message framing");
}
