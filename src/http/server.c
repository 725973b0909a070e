/* Process shape: the main thread only waits for signals; `threads` loop threads each run an h2o context
 * with their own SO_REUSEPORT listener and database pool. The main thread talks to them through h2o's
 * multithread queue (the only thread-safe way into a loop). */
#include <errno.h>
#include <netdb.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <h2o/multithread.h>
#include "http/endpoints.h"
#include "http/admin.h"
#include "http/conns.h"
#include "http/offload.h"
#include "http/tls.h"
#include "tessera/audit.h"
#include "tessera/clock.h"
#include "tessera/log.h"
#include "tessera/oauth.h"
#include "tessera/template.h"
#include "tessera/throttle.h"

struct st_ts_server_t {
    const ts_config_t *conf;
    ts_app_t app;
    h2o_globalconf_t globalconf;
    SSL_CTX *ssl_ctx;
    ts_worker_t *workers;
    unsigned nworkers;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    sem_t ready; /* posted by each worker once it can take control messages */
    ts_admin_t *admin; /* NULL: no admin listener */
};

typedef enum en_control_t { CONTROL_STOP, CONTROL_SET_TLS } control_t;

typedef struct st_control_msg_t {
    h2o_multithread_message_t super;
    control_t type;
    SSL_CTX *ssl_ctx; /* CONTROL_SET_TLS: one reference, owned by the message */
} control_msg_t;

static int resolve(ts_server_t *s, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *res;
    char port[8];
    int r;

    snprintf(port, sizeof(port), "%u", s->conf->listen_port);
    if ((r = getaddrinfo(s->conf->listen_host, port, &hints, &res)) != 0) {
        snprintf(err, errlen, "listen: cannot resolve '%s': %s", s->conf->listen_host, gai_strerror(r));
        return -1;
    }
    memcpy(&s->addr, res->ai_addr, res->ai_addrlen); /* Flawfinder: ignore - ai_addrlen <= sizeof(struct sockaddr_storage) */
    s->addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static int open_listener(ts_server_t *s, int reuseport, char *err, size_t errlen)
{
    int fd = socket(s->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), on = 1;

    if (fd < 0) {
        snprintf(err, errlen, "listen: socket: %s", strerror(errno));
        return -1;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
        (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0) ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) != 0 || bind(fd, (struct sockaddr *)&s->addr, s->addrlen) != 0 ||
        (reuseport && listen(fd, 1024) != 0)) {
        snprintf(err, errlen, "listen %s: %s", s->conf->listen, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* SO_REUSEPORT would let a second server on the same port silently share its traffic; a plain bind
 * first proves the port is free. */
static int open_listeners(ts_server_t *s, char *err, size_t errlen)
{
    int probe = open_listener(s, 0, err, errlen);
    if (probe < 0)
        return -1;
    close(probe);
    for (unsigned i = 0; i < s->nworkers; ++i)
        if ((s->workers[i].listen_fd = open_listener(s, 1, err, errlen)) < 0)
            return -1;
    return 0;
}

static void on_accept(h2o_socket_t *listener, const char *err);

/* The listener is level-triggered: a connection it cannot take (at max_conns, or accept() failing for want of
 * descriptors) would wake the loop again at once, forever. So it stops reading the listener until a
 * connection closes (or, after EMFILE, a moment has passed); meanwhile new connections wait in the backlog. */
static void pause_accepting(ts_worker_t *w, const char *why)
{
    if (w->accept_paused || w->listener == NULL)
        return;
    h2o_socket_read_stop(w->listener);
    w->accept_paused = 1;
    uint64_t now = h2o_now(w->ctx.loop);
    if (w->limit_warned_at == 0 || now - w->limit_warned_at >= 10000) {
        w->limit_warned_at = now;
        ts_log_warn("worker %u: not accepting new connections for now: %s (%zu open)", w->index, why, w->conns);
    }
}

static void resume_accepting(ts_worker_t *w)
{
    if (!w->accept_paused || w->listener == NULL || w->stopping || w->conns >= w->max_conns ||
        h2o_timeout_is_linked(&w->accept_retry_entry))
        return;
    w->accept_paused = 0;
    h2o_socket_read_start(w->listener, on_accept);
}

/* A loop starts accepting once its database connections are up (or after WARMUP_MS without them: then it
 * answers 503 with Retry-After rather than nothing), so that a request never reaches a loop whose pool is still
 * connecting while /readyz, answered by another loop, says ready. Meanwhile connections wait in the backlog. */
#define WARMUP_MS 3000

static void on_accept_retry(h2o_timeout_entry_t *entry)
{
    ts_worker_t *w = H2O_STRUCT_FROM_MEMBER(ts_worker_t, accept_retry_entry, entry);
    if (w->warmup_until != 0) {
        if (!ts_db_pool_up(w->db) && h2o_now(w->ctx.loop) < w->warmup_until) {
            h2o_timeout_link(w->ctx.loop, &w->accept_retry, &w->accept_retry_entry);
            return;
        }
        w->warmup_until = 0;
    }
    resume_accepting(w);
}

/* h2o's own graceful stop (GOAWAY) ends HTTP/2 connections, which read all the time and so never look idle */
static void close_idle_conns(ts_worker_t *w)
{
    if (!w->app->conf->http2)
        ts_conns_shut_idle(w);
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    ts_worker_t *w = listener->data;
    h2o_socket_t *sock;

    if (err != NULL)
        return;
    /* a bounded batch, so that one busy listener cannot starve the loop's other sockets */
    for (int i = 0; i < 16; ++i) {
        if (w->conns >= w->max_conns) {
            pause_accepting(w, "max_connections reached");
            return;
        }
        if ((sock = h2o_evloop_socket_accept(listener)) == NULL) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                pause_accepting(w, strerror(errno));
                h2o_timeout_link(w->ctx.loop, &w->accept_retry, &w->accept_retry_entry);
            }
            return;
        }
        if (ts_conns_accept(w, sock, resume_accepting) != 0)
            return;
    }
}

static void on_stop_poll(h2o_timeout_entry_t *entry)
{
    ts_worker_t *w = H2O_STRUCT_FROM_MEMBER(ts_worker_t, stop_entry, entry);
    if (w->conns == 0 || h2o_now(w->ctx.loop) >= w->stop_deadline) {
        if (w->conns != 0)
            ts_log_warn("worker %u: %zu connection(s) still open at the shutdown deadline", w->index, w->conns);
        w->stopping = 2;
        return;
    }
    close_idle_conns(w);
    h2o_timeout_link(w->ctx.loop, &w->stop_poll, &w->stop_entry);
}

static void begin_stop(ts_worker_t *w)
{
    if (w->stopping)
        return;
    w->stopping = 1;
    if (h2o_timeout_is_linked(&w->accept_retry_entry))
        h2o_timeout_unlink(&w->accept_retry_entry);
    if (!w->accept_paused)
        h2o_socket_read_stop(w->listener);
    h2o_socket_close(w->listener);
    w->listener = NULL;
    h2o_context_request_shutdown(&w->ctx);
    w->stop_deadline = h2o_now(w->ctx.loop) + (uint64_t)w->app->conf->shutdown_timeout * 1000;
    close_idle_conns(w);
    h2o_timeout_link(w->ctx.loop, &w->stop_poll, &w->stop_entry);
}

static void on_control(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    ts_worker_t *w = H2O_STRUCT_FROM_MEMBER(ts_worker_t, control, receiver);

    while (!h2o_linklist_is_empty(messages)) {
        control_msg_t *msg = H2O_STRUCT_FROM_MEMBER(control_msg_t, super.link, messages->next);
        h2o_linklist_unlink(&msg->super.link); /* NOLINT(clang-analyzer-unix.Malloc): unlink advances messages->next */
        if (msg->type == CONTROL_STOP) {
            begin_stop(w);
        } else {
            /* each connection holds its own reference to the context it was accepted under (conns.c) */
            SSL_CTX *old = w->accept_ctx.ssl_ctx;
            w->accept_ctx.ssl_ctx = msg->ssl_ctx;
            SSL_CTX_free(old);
        }
        free(msg);
    }
}

/* libh2o 2.2.5 keeps, per thread, up to 16 freed memory-pool chunks and 16 socket input buffers for reuse, and
 * never releases them: a loop thread that ends loses them (LeakSanitizer reports them at exit). Empties both
 * caches; called last on a loop thread (the admin thread's too). */
void ts_http__release_thread_caches(void)
{
    /* socket buffers: the cache is exported; each allocation takes one entry from it while it holds any */
    h2o_mem_recycle_t *buffers = &h2o_socket_buffer_prototype.allocator;
    while (buffers->cnt != 0)
        free(h2o_mem_alloc_recycle(buffers, 0));
    /* pool chunks: the cache is private to libh2o, but a fresh pool's first allocation takes one chunk from it
     * (or mallocs one when it is empty); that chunk is freed here instead of going back */
    for (size_t i = 0; i < 16; ++i) {
        h2o_mem_pool_t pool;
        h2o_mem_init_pool(&pool);
        h2o_mem_alloc_pool(&pool, 1);
        free(pool.chunks);
    }
}

/* Runs first on the worker's own thread. libh2o's socket buffers come from a thread-local cache picked when the
 * socket is made, and h2o_context_init makes the context's message-queue socket: made on the main thread, every
 * loop would take and return buffers of the main thread's cache at once (at the stop, all of them), corrupting
 * it. The main thread waits on `ready` before it may send a control message. */
static void worker_init(ts_worker_t *w)
{
    h2o_context_init(&w->ctx, h2o_evloop_create(), &w->server->globalconf);
    h2o_multithread_register_receiver(w->ctx.queue, &w->control, on_control);
    sem_post(&w->server->ready);
}

static void *worker_main(void *arg)
{
    ts_worker_t *w = arg;
    worker_init(w);
    h2o_evloop_t *loop = w->ctx.loop;

    h2o_timeout_init(loop, &w->stop_poll, 100);
    w->stop_entry.cb = on_stop_poll;
    h2o_timeout_init(loop, &w->accept_retry, 100);
    w->accept_retry_entry.cb = on_accept_retry;
    h2o_timeout_init(loop, &w->registration_poll, 5);
    h2o_linklist_init_anchor(&w->open_conns);
    w->accept_ctx.ctx = &w->ctx;
    w->accept_ctx.hosts = w->server->globalconf.hosts;
    w->db = ts_db_pool_create(loop, w->app->conf, "tessera");
    w->jwt_cache = ts_jwt_cache_create(4096);
    w->offload_return = ts_offload_return_create(w->ctx.queue);
    w->listener = h2o_evloop_socket_create(loop, w->listen_fd, H2O_SOCKET_FLAG_DONT_READ);
    w->listener->data = w;
    w->accept_paused = 1; /* until the database connections are up: see on_accept_retry */
    w->warmup_until = h2o_now(loop) + WARMUP_MS;
    h2o_timeout_link(loop, &w->accept_retry, &w->accept_retry_entry);

    while (w->stopping != 2)
        h2o_evloop_run(loop, INT32_MAX);

    if (w->conns != 0)
        return NULL; /* connections still hold the context: the process exits without tearing it down */
    ts_db_pool_destroy(w->db);
    ts_jwt_cache_destroy(w->jwt_cache);
    ts_offload_return_destroy(w->offload_return);
    if (h2o_timeout_is_linked(&w->stop_entry))
        h2o_timeout_unlink(&w->stop_entry);
    h2o_timeout_dispose(loop, &w->stop_poll);
    h2o_timeout_dispose(loop, &w->accept_retry);
    h2o_timeout_dispose(loop, &w->registration_poll);
    h2o_multithread_unregister_receiver(w->ctx.queue, &w->control);
    SSL_CTX_free(w->accept_ctx.ssl_ctx);
    /* h2o_context_request_shutdown() armed HTTP/2's graceful-shutdown timer, which dispose asserts is idle */
    if (h2o_timeout_is_linked(&w->ctx.http2._graceful_shutdown_timeout))
        h2o_timeout_unlink(&w->ctx.http2._graceful_shutdown_timeout);
    h2o_context_dispose(&w->ctx);
    h2o_evloop_run(loop, 0); /* reaps the queue's socket, which dispose closed */
    h2o_evloop_destroy(loop);
    ts_http__release_thread_caches();
    return NULL;
}

static void send_control(ts_worker_t *w, control_t type, SSL_CTX *ssl_ctx)
{
    control_msg_t *msg = calloc(1, sizeof(*msg));
    if (msg == NULL)
        return;
    msg->type = type;
    msg->ssl_ctx = ssl_ctx;
    h2o_multithread_send_message(&w->control, &msg->super);
}

/* SIGHUP: the public listener's certificate, then the admin listener's, each kept when its new files are bad */
static void reload_tls(ts_server_t *s)
{
    char err[512];
    SSL_CTX *fresh;

    if (s->ssl_ctx == NULL) {
        ts_log_info("SIGHUP: no TLS configured on the public listener, nothing to reload there");
    } else if ((fresh = ts_tls_create(s->conf, err, sizeof(err))) == NULL) {
        ts_log_error("SIGHUP: keeping the current certificate: %s", err);
    } else {
        for (unsigned i = 0; i < s->nworkers; ++i) {
            SSL_CTX_up_ref(fresh);
            send_control(&s->workers[i], CONTROL_SET_TLS, fresh);
        }
        SSL_CTX_free(fresh);
        ts_log_info("SIGHUP: TLS certificate reloaded");
    }
    if (s->admin == NULL || *s->conf->admin_tls_certificate_file == '\0')
        return;
    if (ts_admin_reload_tls(s->admin, err, sizeof(err)) != 0)
        ts_log_error("SIGHUP: admin listener keeping its current certificate: %s", err);
    else
        ts_log_info("SIGHUP: admin TLS certificate reloaded");
}

static void setup_globalconf(ts_server_t *s)
{
    h2o_globalconf_t *g = &s->globalconf;

    h2o_config_init(g);
    g->server_name = h2o_iovec_init(H2O_STRLIT("tessera"));
    g->max_request_entity_size = s->conf->max_request_body;
    /* h2o's HTTP/1 request timer runs from the first byte awaited to the last byte of the body (and over an idle
     * keep-alive wait); it is not restarted by each byte received, so a trickling client (slowloris) is cut off */
    g->http1.req_timeout = (uint64_t)s->conf->request_timeout * 1000;
    g->http2.idle_timeout = (uint64_t)s->conf->request_timeout * 1000;
    g->handshake_timeout = (uint64_t)s->conf->request_timeout * 1000;
    /* h2c upgrade off: libh2o 2.2.5 predates the HTTP/2 rapid-reset fix (CVE-2023-44487) */
    g->http1.upgrade_to_http2 = s->conf->http2 && s->ssl_ctx == NULL;
    h2o_hostconf_t *host = h2o_config_register_host(g, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    h2o_create_handler(path, sizeof(h2o_handler_t))->on_req = ts_http_route;
}

static h2o_iovec_t render(json_t *doc)
{
    char *s = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    return h2o_iovec_init(s, s != NULL ? strlen(s) : 0);
}

/* Each connection is a descriptor. Raises the soft open-file limit to fit max_connections (plus what the
 * listeners, loops, database and sync connections need); returns the number of connections the limit allows. */
static size_t connection_limit(const ts_config_t *conf, unsigned nworkers)
{
    size_t want = conf->max_connections, reserve = 64 + (size_t)nworkers * (2 * conf->db_pool_size + 8);
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want + reserve)
        return want;
    rlim_t wanted = want + reserve;
    if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= wanted) {
        rl.rlim_cur = wanted;
    } else {
        rl.rlim_cur = rl.rlim_max;
    }
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur >= want + reserve)
        return want;
    size_t fit = rl.rlim_cur > reserve + nworkers ? (size_t)rl.rlim_cur - reserve : nworkers;
    ts_log_warn("max_connections %u lowered to %zu: the open-file limit is %llu (raise the hard limit: ulimit -Hn, "
                "systemd LimitNOFILE)",
                conf->max_connections, fit, (unsigned long long)rl.rlim_cur);
    return fit;
}

static unsigned thread_count(const ts_config_t *conf)
{
    long n = conf->threads != 0 ? (long)conf->threads : sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 64 ? 64 : (unsigned)n;
}

static void stop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
}

/* A shell starts background jobs with SIGINT ignored, and an ignored signal never reaches sigwait: the
 * defaults are restored first. */
void ts_server_block_signals(void)
{
    sigset_t set;

    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGPIPE, SIG_IGN);
    stop_signals(&set);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static int wait_for_signals(ts_server_t *s, const sigset_t *set)
{
    for (;;) {
        int sig;
        if (sigwait(set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            reload_tls(s);
            continue;
        }
        ts_log_info("received %s: finishing in-flight requests (at most %us)", sig == SIGTERM ? "SIGTERM" : "SIGINT",
                    s->conf->shutdown_timeout);
        return 0;
    }
}

/* what the browser endpoints share: pages, sign-in throttling, the password threads, and a dummy hash that
 * an unknown username is checked against so that it costs what a known one does */
static int init_browser(ts_app_t *app, char *err, size_t errlen)
{
    unsigned char pw[16];

    app->secure_cookies = strncmp(app->conf->issuer, "https://", 8) == 0;
    if ((app->pages = ts_pages_load(app->conf->templates_dir, err, errlen)) == NULL)
        return -1;
    if ((app->login_throttle = ts_throttle_create(0)) == NULL ||
        (app->password_pool = ts_offload_pool_create(app->conf->password_threads, 1024)) == NULL || ts_crypto_random(pw, sizeof(pw)) != 0 ||
        ts_password_hash((const char *)pw, sizeof(pw), app->dummy_password_hash, sizeof(app->dummy_password_hash)) != 0) {
        snprintf(err, errlen, "setting up the sign-in pages: out of memory");
        return -1;
    }
    return 0;
}

static void dispose_browser(ts_app_t *app)
{
    if (app->password_pool != NULL)
        ts_offload_pool_destroy(app->password_pool);
    if (app->login_throttle != NULL)
        ts_throttle_destroy(app->login_throttle);
    if (app->pages != NULL)
        ts_pages_free(app->pages);
}

int ts_server_run(const ts_config_t *conf, ts_snapshots_t *snaps, const ts_kek_t *kek, const ts_secret_hasher_t *hasher,
                  uint64_t *out_deadline)
{
    ts_server_t s = {.conf = conf};
    sem_init(&s.ready, 0, 0);
    ts_admin_t *admin = NULL;
    char err[512];
    sigset_t set;
    uint64_t stop_deadline = 0;
    int ret = -1;

    ts_server_block_signals(); /* again, for a caller that did not: every thread started here inherits the mask */
    stop_signals(&set);
    s.nworkers = thread_count(conf);
    s.workers = calloc(s.nworkers, sizeof(*s.workers));
    s.app = (ts_app_t){.conf = conf, .snaps = snaps, .tls = *conf->tls_certificate_file != '\0', .hasher = *hasher,
                       .ratelimit = ts_ratelimit_create(65536)};
    ts_jws_alg_parse(conf->access_token_alg, &s.app.access_token_alg);
    s.app.discovery_oidc = render(ts_oauth_discovery(conf, 1));
    s.app.discovery_oauth = render(ts_oauth_discovery(conf, 0));
    if (init_browser(&s.app, err, sizeof(err)) != 0 || ts_registration_load_token(&s.app, err, sizeof(err)) != 0) {
        ts_log_error("%s", err);
        goto out;
    }
    if (s.workers == NULL || s.app.ratelimit == NULL || s.app.discovery_oidc.base == NULL || s.app.discovery_oauth.base == NULL) {
        ts_log_error("out of memory");
        goto out;
    }
    size_t max_conns = connection_limit(conf, s.nworkers);
    for (unsigned i = 0; i < s.nworkers; ++i)
        s.workers[i] = (ts_worker_t){.server = &s, .app = &s.app, .index = i, .listen_fd = -1,
                                     .max_conns = (max_conns + s.nworkers - 1) / s.nworkers};
    if (s.app.tls && (s.ssl_ctx = ts_tls_create(conf, err, sizeof(err))) == NULL) {
        ts_log_error("%s", err);
        goto out;
    }
    if (conf->http2)
        ts_log_warn("http2 is on: libh2o 2.2.5 lacks the HTTP/2 rapid-reset (CVE-2023-44487) mitigation; "
                    "put a maintained proxy in front before exposing it");
    if (resolve(&s, err, sizeof(err)) != 0 || open_listeners(&s, err, sizeof(err)) != 0) {
        ts_log_error("%s", err);
        goto out;
    }
    setup_globalconf(&s);

    /* the audit writer before anything that emits (loops, admin) */
    if ((s.app.audit = ts_audit_start(conf, err, sizeof(err))) == NULL) {
        ts_log_error("%s", err);
        goto out;
    }

    /* the admin thread first: if its listener cannot be set up, nothing else runs */
    if (ts_admin_start(&s.app, kek, &admin, err, sizeof(err)) != 0) {
        ts_log_error("%s", err);
        goto out;
    }
    s.admin = admin; /* for SIGHUP */
    for (unsigned i = 0; i < s.nworkers; ++i) {
        if (s.ssl_ctx != NULL)
            SSL_CTX_up_ref(s.ssl_ctx);
        s.workers[i].accept_ctx.ssl_ctx = s.ssl_ctx;
        pthread_create(&s.workers[i].thread, NULL, worker_main, &s.workers[i]);
    }
    for (unsigned i = 0; i < s.nworkers; ++i)
        sem_wait(&s.ready);
    ts_log_info("tessera %s listening on %s://%s (%u threads), issuer %s", TESSERA_VERSION, s.app.tls ? "https" : "http",
                conf->listen, s.nworkers, conf->issuer);
    ret = wait_for_signals(&s, &set);
    /* one budget for the whole stop: in-flight requests, then the audit log (and its webhook) and the sync thread
     * (serve.c) get what is left */
    stop_deadline = ts_monotonic_ms() + (uint64_t)conf->shutdown_timeout * 1000;
    *out_deadline = stop_deadline;
    for (unsigned i = 0; i < s.nworkers; ++i)
        send_control(&s.workers[i], CONTROL_STOP, NULL);
    s.admin = NULL;
    ts_admin_stop(admin);
    for (unsigned i = 0; i < s.nworkers; ++i)
        pthread_join(s.workers[i].thread, NULL);
    ts_log_info("stopped");
out:
    for (unsigned i = 0; s.workers != NULL && i < s.nworkers; ++i)
        if (s.workers[i].listen_fd >= 0 && s.workers[i].thread == 0)
            close(s.workers[i].listen_fd);
    if (s.globalconf.hosts != NULL)
        h2o_config_dispose(&s.globalconf);
    SSL_CTX_free(s.ssl_ctx);
    free(s.app.discovery_oidc.base);
    free(s.app.discovery_oauth.base);
    ts_ratelimit_destroy(s.app.ratelimit);
    /* every emitter has stopped: writes what is queued (a failed start-up gives it a full shutdown_timeout) */
    ts_audit_stop_by(s.app.audit, stop_deadline != 0 ? stop_deadline : ts_monotonic_ms() + (uint64_t)conf->shutdown_timeout * 1000);
    dispose_browser(&s.app);
    ts_crypto_cleanse(&s.app.hasher, sizeof(s.app.hasher));
    ts_crypto_cleanse(s.app.registration_token_sha256, sizeof(s.app.registration_token_sha256));
    free(s.workers);
    sem_destroy(&s.ready);
    return ret;
}
