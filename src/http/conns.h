#ifndef TESSERA_HTTP_CONNS_H
#define TESSERA_HTTP_CONNS_H

/* The accepted connections of one loop (the public loops' and the admin thread's), shared by server.c and
 * admin_server.c. */
#include "tessera/http.h"

/** tracks sock in w->open_conns and hands it to h2o under w->accept_ctx. The connection keeps its own reference
 *  to the TLS context it was accepted under until it closes: libh2o 2.2.5 makes a connection's SSL object only
 *  when its first bytes arrive, from the bare SSL_CTX pointer it was given, so a certificate reload that freed the
 *  old context at once crashed a connection accepted just before it. closed (may be NULL) runs on the loop
 *  after each close, once w->conns counts it gone. -1 (sock closed) when out of memory. */
int ts_conns_accept(ts_worker_t *w, h2o_socket_t *sock, void (*closed)(ts_worker_t *w));

/** While stopping: h2o 2.2.5 refuses keep-alive only to requests parsed after the stop began, and leaves an idle
 *  keep-alive connection open until the client closes it or request_timeout passes. A connection is idle when
 *  h2o waits to read and nothing of a request has arrived: its read side is shut, which h2o reads as the client
 *  closing, and it closes the connection itself. Connections with a request in progress are left to finish. */
void ts_conns_shut_idle(ts_worker_t *w);

#endif
