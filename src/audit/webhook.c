/* A deliberately small HTTP/1.1 client for the alert webhook: one POST per connection ("Connection: close"),
 * non-blocking sockets driven by poll() against one deadline (connect, TLS handshake, request and status line
 * all count), TLS 1.2+ with the certificate checked against the system's CAs and the host name, and only the
 * status line of the answer read. Alerts are rare: no keep-alive, no redirects, no retries. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include "audit/webhook.h"
#include "tessera/clock.h"
#include "tessera/log.h"

#define QUEUE_MAX 32
#define TIMEOUT_MS 5000

struct st_ts_webhook_t {
    ts_webhook_url_t url;
    SSL_CTX *ssl_ctx;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *queue[QUEUE_MAX];
    size_t head, count;
    int stopping;
    uint64_t deadline; /* once stopping: give up on what is still queued after this (ms) */
};

int ts_audit__webhook_parse(const char *url, ts_webhook_url_t *out, char *err, size_t errlen)
{
    const char *p, *end, *host_end;
    size_t hostlen;

    memset(out, 0, sizeof(*out));
    if (strncmp(url, "https://", 8) == 0)
        out->tls = 1, p = url + 8;
    else if (strncmp(url, "http://", 7) == 0)
        p = url + 7;
    else
        goto bad;
    end = p + strcspn(p, "/?#");
    if (memchr(p, '@', (size_t)(end - p)) != NULL)
        goto bad; /* no credentials in the authority */
    if (*p == '[') {
        if ((host_end = memchr(p, ']', (size_t)(end - p))) == NULL)
            goto bad;
        hostlen = (size_t)(host_end - p - 1);
        memcpy(out->host, p + 1, hostlen < sizeof(out->host) ? hostlen : 0); /* Flawfinder: ignore - bounded */
        host_end++;
    } else {
        host_end = memchr(p, ':', (size_t)(end - p));
        if (host_end == NULL)
            host_end = end;
        hostlen = (size_t)(host_end - p);
        memcpy(out->host, p, hostlen < sizeof(out->host) ? hostlen : 0); /* Flawfinder: ignore - bounded */
    }
    if (hostlen == 0 || hostlen >= sizeof(out->host))
        goto bad;
    if (host_end < end) {
        if (*host_end != ':' || end - host_end - 1 < 1 || end - host_end - 1 > 5)
            goto bad;
        snprintf(out->port, sizeof(out->port), "%.*s", (int)(end - host_end - 1), host_end + 1);
        long port = strtol(out->port, NULL, 10); /* at most 5 digits: no overflow */
        if (strspn(out->port, "0123456789") != strlen(out->port) || port < 1 || port > 65535)
            goto bad;
    } else {
        snprintf(out->port, sizeof(out->port), "%s", out->tls ? "443" : "80");
    }
    size_t pathlen = strcspn(end, "#");
    if (pathlen >= sizeof(out->path) - 1)
        goto bad;
    snprintf(out->path, sizeof(out->path), "%s%.*s", *end == '/' ? "" : "/", (int)pathlen, end);
    snprintf(out->shown, sizeof(out->shown), "%s://%s%s%s:%s", out->tls ? "https" : "http", strchr(out->host, ':') ? "[" : "",
             out->host, strchr(out->host, ':') ? "]" : "", out->port);
    return 0;
bad:
    snprintf(err, errlen, "alert_webhook_url: not an http:// or https:// URL with a host (and no user:password@)");
    return -1;
}

/* waits until fd is ready for events or the deadline passes; 0 or -1 */
static int wait_fd(int fd, short events, uint64_t deadline)
{
    for (;;) {
        uint64_t now = ts_monotonic_ms();
        if (now >= deadline)
            return -1;
        struct pollfd p = {.fd = fd, .events = events};
        int r = poll(&p, 1, (int)(deadline - now));
        if (r > 0)
            return 0;
        if (r < 0 && errno != EINTR)
            return -1;
    }
}

static int connect_to(const ts_webhook_url_t *u, uint64_t deadline, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res, *ai;
    int fd = -1, r;

    /* getaddrinfo() has no deadline of its own: the resolver's timeouts bound it (this thread only) */
    if ((r = getaddrinfo(u->host, u->port, &hints, &res)) != 0) {
        snprintf(err, errlen, "cannot resolve %s: %s", u->host, gai_strerror(r));
        return -1;
    }
    snprintf(err, errlen, "cannot connect");
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol)) < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        int soerr = errno;
        socklen_t len = sizeof(soerr);
        if (errno == EINPROGRESS && wait_fd(fd, POLLOUT, deadline) == 0 &&
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0)
            break;
        snprintf(err, errlen, "cannot connect: %s", soerr == EINPROGRESS ? "timed out" : strerror(soerr));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

/* one connection, plain or TLS */
typedef struct st_conn_t {
    int fd;
    SSL *ssl;
} conn_t;

/* drives an SSL call that may want to read or write: >0 done, -1 failed */
static int ssl_wait(conn_t *c, int r, uint64_t deadline)
{
    switch (SSL_get_error(c->ssl, r)) {
    case SSL_ERROR_WANT_READ:
        return wait_fd(c->fd, POLLIN, deadline) == 0 ? 0 : -1;
    case SSL_ERROR_WANT_WRITE:
        return wait_fd(c->fd, POLLOUT, deadline) == 0 ? 0 : -1;
    default:
        return -1;
    }
}

static int tls_handshake(conn_t *c, SSL_CTX *ctx, const ts_webhook_url_t *u, uint64_t deadline, char *err, size_t errlen)
{
    unsigned char ip[16];
    int is_ip = inet_pton(AF_INET, u->host, ip) == 1 || inet_pton(AF_INET6, u->host, ip) == 1, r;

    if ((c->ssl = SSL_new(ctx)) == NULL || SSL_set_fd(c->ssl, c->fd) != 1)
        goto fail;
    /* the certificate must name the host we asked for: SNI and the name check for a name, the address for an IP */
    if (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), u->host) != 1
              : (SSL_set_tlsext_host_name(c->ssl, u->host) != 1 || SSL_set1_host(c->ssl, u->host) != 1))
        goto fail;
    while ((r = SSL_connect(c->ssl)) != 1)
        if (ssl_wait(c, r, deadline) != 0)
            goto fail;
    return 0;
fail : {
    long v = c->ssl != NULL ? SSL_get_verify_result(c->ssl) : X509_V_OK;
    snprintf(err, errlen, "TLS handshake failed%s%s", v != X509_V_OK ? ": " : "",
             v != X509_V_OK ? X509_verify_cert_error_string(v) : "");
    ERR_clear_error();
}
    return -1;
}

static int send_all(conn_t *c, const char *buf, size_t len, uint64_t deadline)
{
    while (len > 0) {
        ssize_t n;
        if (c->ssl != NULL) {
            int r = SSL_write(c->ssl, buf, len > 65536 ? 65536 : (int)len);
            if (r <= 0) {
                if (ssl_wait(c, r, deadline) != 0)
                    return -1;
                continue;
            }
            n = r;
        } else if ((n = send(c->fd, buf, len, MSG_NOSIGNAL)) < 0) {
            if ((errno != EAGAIN && errno != EINTR) || wait_fd(c->fd, POLLOUT, deadline) != 0)
                return -1;
            continue;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* reads until the status line is complete (or cap bytes, or the end); the bytes read, or -1 */
static ssize_t read_status(conn_t *c, char *buf, size_t cap, uint64_t deadline)
{
    size_t got = 0;
    while (got + 1 < cap && memchr(buf, '\n', got) == NULL) {
        ssize_t n;
        if (c->ssl != NULL) {
            int r = SSL_read(c->ssl, buf + got, (int)(cap - 1 - got));
            if (r <= 0) {
                if (SSL_get_error(c->ssl, r) == SSL_ERROR_ZERO_RETURN)
                    break;
                if (ssl_wait(c, r, deadline) != 0)
                    return got > 0 ? (ssize_t)got : -1;
                continue;
            }
            n = r;
        } else if ((n = recv(c->fd, buf + got, cap - 1 - got, 0)) < 0) {
            if ((errno != EAGAIN && errno != EINTR) || wait_fd(c->fd, POLLIN, deadline) != 0)
                return got > 0 ? (ssize_t)got : -1;
            continue;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    buf[got] = '\0';
    return (ssize_t)got;
}

/* "HTTP/1.x NNN ...": NNN, or -1 */
static int status_code(const char *line)
{
    if (strncmp(line, "HTTP/1.", 7) != 0 || (line[7] != '0' && line[7] != '1') || line[8] != ' ')
        return -1;
    int code = 0;
    for (int i = 9; i < 12; ++i) {
        if (line[i] < '0' || line[i] > '9')
            return -1;
        code = code * 10 + (line[i] - '0');
    }
    return code;
}

int ts_audit__webhook_post_now(const ts_webhook_url_t *u, void *ssl_ctx, const char *body, int timeout_ms, char *err, size_t errlen)
{
    uint64_t deadline = ts_monotonic_ms() + (uint64_t)timeout_ms;
    conn_t c = {.fd = -1};
    char head[1600], status[512] = "";
    int ret = -1, code;
    size_t blen = strlen(body);

    if ((c.fd = connect_to(u, deadline, err, errlen)) < 0)
        return -1;
    if (u->tls && (ssl_ctx == NULL || tls_handshake(&c, ssl_ctx, u, deadline, err, errlen) != 0))
        goto out;
    int hl = snprintf(head, sizeof(head),
                      "POST %s HTTP/1.1\r\nHost: %s%s%s%s%s\r\nUser-Agent: tessera/%s\r\nContent-Type: application/json\r\n"
                      "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                      u->path, strchr(u->host, ':') ? "[" : "", u->host, strchr(u->host, ':') ? "]" : "",
                      strcmp(u->port, u->tls ? "443" : "80") != 0 ? ":" : "",
                      strcmp(u->port, u->tls ? "443" : "80") != 0 ? u->port : "", TESSERA_VERSION, blen);
    if (hl < 0 || (size_t)hl >= sizeof(head)) {
        snprintf(err, errlen, "request too long");
        goto out;
    }
    if (send_all(&c, head, (size_t)hl, deadline) != 0 || send_all(&c, body, blen, deadline) != 0) {
        snprintf(err, errlen, "sending the request failed or timed out");
        goto out;
    }
    if (read_status(&c, status, sizeof(status), deadline) < 0 || (code = status_code(status)) < 0) {
        snprintf(err, errlen, "no HTTP status line in the answer");
        goto out;
    }
    ret = code;
out:
    if (c.ssl != NULL) {
        SSL_shutdown(c.ssl); /* one try: we are closing anyway */
        SSL_free(c.ssl);
        ERR_clear_error();
    }
    close(c.fd);
    return ret;
}

static void *webhook_main(void *arg)
{
    ts_webhook_t *w = arg;
    char err[256];

    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (w->count == 0 && !w->stopping)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->count == 0)
            break;
        if (w->stopping && ts_monotonic_ms() >= w->deadline) {
            ts_log_warn("alert webhook %s: %zu alert(s) not sent before shutdown", w->url.shown, w->count);
            for (; w->count > 0; --w->count, w->head = (w->head + 1) % QUEUE_MAX)
                free(w->queue[w->head]);
            break;
        }
        char *body = w->queue[w->head];
        w->head = (w->head + 1) % QUEUE_MAX;
        w->count--;
        pthread_mutex_unlock(&w->mu);
        int status = ts_audit__webhook_post_now(&w->url, w->ssl_ctx, body, TIMEOUT_MS, err, sizeof(err));
        if (status < 0)
            ts_log_warn("alert webhook %s: %s", w->url.shown, err);
        else if (status < 200 || status > 299)
            ts_log_warn("alert webhook %s answered %d", w->url.shown, status);
        free(body);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

ts_webhook_t *ts_audit__webhook_start(const char *url, char *err, size_t errlen)
{
    ts_webhook_t *w = calloc(1, sizeof(*w));

    if (w == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (ts_audit__webhook_parse(url, &w->url, err, errlen) != 0)
        goto fail;
    if (w->url.tls) {
        if ((w->ssl_ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
            SSL_CTX_set_min_proto_version(w->ssl_ctx, TLS1_2_VERSION) != 1 || SSL_CTX_set_default_verify_paths(w->ssl_ctx) != 1) {
            snprintf(err, errlen, "alert_webhook_url: cannot set up TLS");
            goto fail;
        }
        SSL_CTX_set_verify(w->ssl_ctx, SSL_VERIFY_PEER, NULL);
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->thread, NULL, webhook_main, w) != 0) {
        snprintf(err, errlen, "cannot start the alert webhook thread");
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        goto fail;
    }
    return w;
fail:
    SSL_CTX_free(w->ssl_ctx);
    free(w);
    return NULL;
}

void ts_audit__webhook_send(ts_webhook_t *w, const char *body)
{
    char *copy = strdup(body);
    if (copy == NULL)
        return;
    pthread_mutex_lock(&w->mu);
    if (w->count == QUEUE_MAX || w->stopping) {
        pthread_mutex_unlock(&w->mu);
        ts_log_warn("alert webhook %s: too many alerts waiting, one dropped", w->url.shown);
        free(copy);
        return;
    }
    w->queue[(w->head + w->count) % QUEUE_MAX] = copy;
    w->count++;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void ts_audit__webhook_stop(ts_webhook_t *w, uint64_t deadline)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = 1;
    w->deadline = deadline;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    SSL_CTX_free(w->ssl_ctx);
    free(w);
}
