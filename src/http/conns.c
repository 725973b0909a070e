/* The accepted connections of a loop: what a graceful stop needs to find, and what a TLS reload must keep alive. */
#include <stdlib.h>
#include <sys/socket.h>
#include <openssl/ssl.h>
#include "http/conns.h"

typedef struct st_conn_t {
    h2o_linklist_t link; /* in ts_worker_t.open_conns */
    h2o_socket_t *sock;
    ts_worker_t *w;
    SSL_CTX *ssl_ctx; /* a reference of its own (NULL without TLS) */
    void (*closed)(ts_worker_t *w);
} conn_t;

static void on_conn_close(void *data)
{
    conn_t *c = data;
    ts_worker_t *w = c->w;
    void (*closed)(ts_worker_t *) = c->closed;

    h2o_linklist_unlink(&c->link);
    SSL_CTX_free(c->ssl_ctx);
    free(c);
    w->conns--;
    if (closed != NULL)
        closed(w);
}

int ts_conns_accept(ts_worker_t *w, h2o_socket_t *sock, void (*closed)(ts_worker_t *w))
{
    conn_t *c = malloc(sizeof(*c));

    if (c == NULL) {
        h2o_socket_close(sock);
        return -1;
    }
    *c = (conn_t){.sock = sock, .w = w, .ssl_ctx = w->accept_ctx.ssl_ctx, .closed = closed};
    if (c->ssl_ctx != NULL)
        SSL_CTX_up_ref(c->ssl_ctx);
    h2o_linklist_insert(&w->open_conns, &c->link);
    w->conns++;
    sock->on_close.cb = on_conn_close;
    sock->on_close.data = c;
    h2o_accept(&w->accept_ctx, sock);
    return 0;
}

void ts_conns_shut_idle(ts_worker_t *w)
{
    for (h2o_linklist_t *l = w->open_conns.next; l != &w->open_conns; l = l->next) {
        conn_t *c = H2O_STRUCT_FROM_MEMBER(conn_t, link, l);
        if (h2o_socket_is_reading(c->sock) && c->sock->input->size == 0)
            shutdown(h2o_socket_get_fd(c->sock), SHUT_RD);
    }
}
