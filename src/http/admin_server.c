/* The admin listener: one thread with its own h2o loop, listener (TLS when configured) and one blocking
 * PostgreSQL connection. Handlers run to completion on this thread, database calls included: the public loops
 * never wait for the admin API, and the admin API answers one request at a time, which its traffic (an
 * operator, a console, a provisioning script) allows. Nothing of the public listener is served here, and
 * nothing of this is served there. */
#include <errno.h>
#include <netdb.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <h2o/multithread.h>
#include "http/admin.h"
#include "http/conns.h"
#include "http/methods.h"
#include "tessera/audit.h"
#include "http/audit_http.h"
#include "http/ratelimit_http.h"
#include "http/tls.h"
#include "tessera/log.h"

#define ADMIN_MAX_CONNS 64 /* at it, the listener pauses: connections wait in the backlog */
#define KEY_MAX 256        /* bytes of a name in a path, or of a list cursor's key */

struct st_ts_admin_t {
    ts_worker_t w; /* first, with w.app = &app: the response helpers find the app through req->conn->ctx */
    ts_app_t app;  /* a copy of the public listener's (its audit writer included), with tls telling whether
                    * this listener speaks it */
    ts_kek_t kek;
    h2o_globalconf_t globalconf;
    SSL_CTX *ssl_ctx;
    ts_pgconn_t *db; /* NULL until the first request that needs it, and after the connection broke */
    int64_t started_at;
    uint64_t requests, refused;
    sem_t ready; /* posted by the admin thread once its context can take the stop message */
};

/* to the admin thread: stop, or (ssl_ctx set) take this TLS context for new connections */
typedef struct st_control_msg_t {
    h2o_multithread_message_t super;
    SSL_CTX *ssl_ctx; /* one reference, owned by the message */
} control_msg_t;

/* ---- routing --------------------------------------------------------------------------------------- */

/* '*' is one path segment: the name of a record */
static const struct {
    const char *pattern;
    unsigned method;
    int (*fn)(ts_admin_req_t *ar);
} routes[] = {
    {"/admin/v1/clients", M_GET, ts_admin_ep_clients_list},
    {"/admin/v1/clients", M_POST, ts_admin_ep_client_create},
    {"/admin/v1/clients/*", M_GET, ts_admin_ep_client_get},
    {"/admin/v1/clients/*", M_PUT, ts_admin_ep_client_update},
    {"/admin/v1/clients/*", M_DELETE, ts_admin_ep_client_delete},
    {"/admin/v1/clients/*/secret", M_POST, ts_admin_ep_client_secret},
    {"/admin/v1/users", M_GET, ts_admin_ep_users_list},
    {"/admin/v1/users", M_POST, ts_admin_ep_user_create},
    {"/admin/v1/users/*", M_GET, ts_admin_ep_user_get},
    {"/admin/v1/users/*", M_PUT, ts_admin_ep_user_update},
    {"/admin/v1/users/*", M_DELETE, ts_admin_ep_user_delete},
    {"/admin/v1/users/*/password", M_POST, ts_admin_ep_user_password},
    {"/admin/v1/roles", M_GET, ts_admin_ep_roles_list},
    {"/admin/v1/roles", M_POST, ts_admin_ep_role_create},
    {"/admin/v1/roles/*", M_GET, ts_admin_ep_role_get},
    {"/admin/v1/roles/*", M_PUT, ts_admin_ep_role_update},
    {"/admin/v1/roles/*", M_DELETE, ts_admin_ep_role_delete},
    {"/admin/v1/keys", M_GET, ts_admin_ep_keys_list},
    {"/admin/v1/keys/rotate", M_POST, ts_admin_ep_keys_rotate},
    {"/admin/v1/audit", M_GET, ts_admin_ep_audit_list},
    {"/metrics", M_GET, ts_admin_ep_metrics},
};

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* path matches pattern; the '*' segment, percent-decoded, goes to *key (pool). 0 when it does not match, or when
 * the segment is empty or decodes to something no name can hold (NUL, '/'). */
static int match(h2o_req_t *req, const char *pattern, h2o_iovec_t path, const char **key)
{
    const char *p = path.base, *end = path.base + path.len;

    for (; *pattern != '\0'; ++pattern) {
        if (*pattern != '*') {
            if (p == end || *p != *pattern)
                return 0;
            ++p;
            continue;
        }
        const char *seg = p;
        while (p < end && *p != '/')
            ++p;
        if (p == seg || (size_t)(p - seg) > KEY_MAX)
            return 0;
        char *out = h2o_mem_alloc_pool(&req->pool, (size_t)(p - seg) + 1);
        size_t n = 0;
        for (const char *s = seg; s < p; ++s) {
            int hi, lo;
            if (*s == '%' && s + 2 < p && (hi = hexval(s[1])) >= 0 && (lo = hexval(s[2])) >= 0) {
                out[n] = (char)(hi * 16 + lo);
                s += 2;
            } else {
                out[n] = *s;
            }
            if (out[n] == '\0' || out[n] == '/')
                return 0;
            ++n;
        }
        out[n] = '\0';
        *key = out;
    }
    return p == end;
}

static size_t header_bytes(h2o_req_t *req)
{
    size_t total = 0;
    for (size_t i = 0; i < req->headers.size; ++i)
        total += req->headers.entries[i].name->len + req->headers.entries[i].value.len + 4;
    return total;
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    ts_admin_t *admin = H2O_STRUCT_FROM_MEMBER(ts_admin_t, w.ctx, req->conn->ctx);
    ts_admin_req_t ar = {.req = req, .admin = admin, .app = &admin->app, .now = (int64_t)time(NULL)};
    unsigned allowed = 0, method = ts_http_method_bit(req);
    const char *key = NULL;

    ++admin->requests;
    if (ts_http_ambiguous_framing(req))
        return ts_http_refuse_framing(req);
    if (header_bytes(req) > admin->app.conf->max_header_bytes)
        return ts_http_send_error(req, TS_ERR_HEADERS_TOO_LARGE, NULL);
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); ++i) {
        if (!match(req, routes[i].pattern, req->path_normalized, &key))
            continue;
        allowed |= routes[i].method;
        if ((routes[i].method & method) == 0)
            continue;
        ar.key = key;
        /* only POST and PUT take a body: one sent anyway would be ignored, which a caller should hear about */
        if ((method & (M_GET | M_DELETE)) != 0 && req->entity.base != NULL && req->entity.len != 0)
            return ts_http_send_error(req, TS_ERR_INVALID_REQUEST, "body: this request takes no body");
        if (routes[i].fn == ts_admin_ep_metrics && admin->app.conf->admin_metrics_public)
            return routes[i].fn(&ar);
        if (ts_admin_authenticate_or_reply(req, &admin->app, ar.now, &ar.caller) != 0) {
            ++admin->refused;
            return 0;
        }
        /* every change is an audit event: none while the log cannot be written (docs/audit.md, "Failing closed") */
        if ((method & M_GET) == 0 && !ts_audit_accepting(admin->app.audit)) {
            ts_http_header(req, "retry-after", "5");
            return ts_http_send_error(req, TS_ERR_TEMPORARILY_UNAVAILABLE,
                                      "the audit log cannot be written at the moment; try again later");
        }
        return routes[i].fn(&ar);
    }
    if (allowed != 0) {
        ts_http_header(req, "allow", ts_http_allow_value(req, allowed));
        return ts_http_send_error(req, TS_ERR_METHOD_NOT_ALLOWED, NULL);
    }
    return ts_http_send_error(req, TS_ERR_NOT_FOUND, NULL);
}

/* ---- what the handlers share ----------------------------------------------------------------------- */

ts_pgconn_t *ts_admin_db_or_reply(ts_admin_req_t *ar)
{
    char err[512];

    if (ts_store_admin_ensure(&ar->admin->db, ar->app->conf, err, sizeof(err)) == 0)
        return ar->admin->db;
    ts_log_warn("admin API: no database connection: %s", err);
    ts_http_header(ar->req, "retry-after", "1");
    ts_http_send_error(ar->req, TS_ERR_TEMPORARILY_UNAVAILABLE, "the database is unavailable");
    return NULL;
}

json_t *ts_admin_body_or_reply(ts_admin_req_t *ar, const ts_admin_schema_t *schema)
{
    char err[512];
    json_t *body;

    /* no body at all reads as {}: an endpoint whose fields are all optional can be called without one */
    if (ar->req->entity.len == 0 && h2o_find_header(&ar->req->headers, H2O_TOKEN_CONTENT_TYPE, -1) == -1) {
        if ((body = ts_admin_schema_parse(schema, "{}", 2, err, sizeof(err))) == NULL)
            ts_http_send_error(ar->req, TS_ERR_INVALID_REQUEST, err);
        return body;
    }
    if (ar->req->entity.len > TS_ADMIN_BODY_MAX) {
        ts_http_send_error(ar->req, TS_ERR_PAYLOAD_TOO_LARGE, "the request body is larger than 64 KiB");
        return NULL;
    }
    if (!ts_http_is_json(ar->req)) {
        ts_http_send_error(ar->req, TS_ERR_UNSUPPORTED_MEDIA_TYPE, "body: the content type must be application/json");
        return NULL;
    }
    if ((body = ts_admin_schema_parse(schema, ar->req->entity.base, ar->req->entity.len, err, sizeof(err))) == NULL)
        ts_http_send_error(ar->req, TS_ERR_INVALID_REQUEST, err);
    return body;
}

json_t *ts_admin_update_or_reply(ts_admin_req_t *ar, const ts_admin_schema_t *schema, int (*valid_key)(ts_admin_req_t *ar),
                                 ts_pgconn_t **db)
{
    json_t *body = ts_admin_body_or_reply(ar, schema);

    if (body != NULL && (!valid_key(ar) || (*db = ts_admin_db_or_reply(ar)) == NULL)) {
        json_decref(body);
        return NULL;
    }
    return body;
}

json_t *ts_admin_changed_fields(const json_t *body)
{
    json_t *names = json_array(), *v;
    const char *name;

    json_object_foreach ((json_t *)body, name, v)
        json_array_append_new(names, json_string(name));
    return json_pack("{s:o}", "fields", names);
}

int ts_admin_page_params_or_reply(ts_admin_req_t *ar, unsigned *limit, const char **after)
{
    h2o_req_t *req = ar->req;
    ts_params_t params;
    const char *why = NULL, *v;
    size_t at = req->query_at != SIZE_MAX ? req->query_at + 1 : req->path.len;

    *limit = TS_ADMIN_PAGE_DEFAULT;
    *after = NULL;
    if (ts_http_parse_form(&req->pool, req->path.base + at, req->path.len - at, NULL, &params, &why) != TS_OK) {
        ts_http_send_error(req, TS_ERR_INVALID_REQUEST, why);
        return -1;
    }
    for (size_t i = 0; i < params.count; ++i)
        if (strcmp(params.items[i].name, "limit") != 0 && strcmp(params.items[i].name, "after") != 0) {
            ts_http_send_error(req, TS_ERR_INVALID_REQUEST, "unknown query parameter: only limit and after are allowed");
            return -1;
        }
    if ((v = ts_http_param(&params, "limit")) != NULL) {
        unsigned n = 0;
        size_t i = 0;
        for (; v[i] >= '0' && v[i] <= '9' && i < 4; ++i)
            n = n * 10 + (unsigned)(v[i] - '0');
        if (i == 0 || v[i] != '\0' || n < 1 || n > TS_ADMIN_PAGE_MAX) {
            ts_http_send_error(req, TS_ERR_INVALID_REQUEST, "limit: expected an integer from 1 to 100");
            return -1;
        }
        *limit = n;
    }
    if ((v = ts_http_param(&params, "after")) != NULL) {
        unsigned char raw[KEY_MAX + 1];
        size_t len;
        if (ts_b64url_decode(v, strlen(v), raw, KEY_MAX, &len) != 0 || len == 0 || memchr(raw, '\0', len) != NULL) {
            ts_http_send_error(req, TS_ERR_INVALID_REQUEST, "after: not a cursor this API gave out");
            return -1;
        }
        *after = h2o_strdup(&req->pool, (const char *)raw, len).base;
    }
    return 0;
}

int ts_admin_send_page(ts_admin_req_t *ar, json_t *items, const char *next)
{
    json_t *cursor = json_null();

    if (next != NULL && strlen(next) <= KEY_MAX) {
        char enc[TS_B64URL_ENCODED_LEN(KEY_MAX) + 1];
        ts_b64url_encode(next, strlen(next), enc);
        cursor = json_string(enc);
    }
    return ts_http_send_json(ar->req, 200, json_pack("{s:o, s:o}", "items", items, "next", cursor));
}

int ts_admin_list(ts_admin_req_t *ar, ts_admin_list_t kind, const char *what)
{
    unsigned limit;
    const char *after;
    char err[512], *next = NULL;
    ts_pgconn_t *db;
    json_t *items;

    if (ts_admin_page_params_or_reply(ar, &limit, &after) != 0)
        return 0;
    /* the audit cursor is an id (at most 18 digits: a bigint): anything else was not given out by this API */
    for (const char *p = after; kind == TS_ADMIN_LIST_AUDIT && p != NULL && *p != '\0'; ++p)
        if (*p < '0' || *p > '9' || p - after >= 18)
            return ts_http_send_error(ar->req, TS_ERR_INVALID_REQUEST, "after: not a cursor this API gave out");
    if ((db = ts_admin_db_or_reply(ar)) == NULL)
        return 0;
    if ((items = ts_store_admin_page(db, kind, after, limit, &next, err, sizeof(err))) == NULL)
        return ts_admin_store_error(ar, -1, err, what);
    ts_admin_send_page(ar, items, next);
    free(next);
    return 0;
}

int ts_admin_store_error(ts_admin_req_t *ar, int ret, const char *err, const char *what)
{
    char why[160];

    if (ret == TS_STORE_NOT_FOUND) {
        snprintf(why, sizeof(why), "no such %s", what);
        return ts_http_send_error(ar->req, TS_ERR_NOT_FOUND, why);
    }
    if (strstr(err, "already exists") != NULL) {
        snprintf(why, sizeof(why), "such a %s already exists", what);
        return ts_http_send_error(ar->req, TS_ERR_CONFLICT, why);
    }
    if (strncmp(err, "unknown role '", 14) == 0) {
        /* the name was checked against the role-name format, so it is safe to repeat */
        snprintf(why, sizeof(why), "roles: %.120s", err);
        return ts_http_send_error(ar->req, TS_ERR_INVALID_REQUEST, why);
    }
    if (!ts_store_admin_connected(ar->admin->db)) {
        ts_log_warn("admin API: the database connection broke: %s", err);
        ts_http_header(ar->req, "retry-after", "1");
        return ts_http_send_error(ar->req, TS_ERR_TEMPORARILY_UNAVAILABLE, "the database is unavailable");
    }
    ts_log_error("admin API: %s", err);
    return ts_http_send_error(ar->req, TS_ERR_SERVER_ERROR, NULL);
}

void ts_admin_audit(ts_admin_req_t *ar, const char *action, const char *target, int ok, json_t *details)
{
    /* who acted through which client: a person's token names both */
    if (ar->caller.client_id != NULL && ar->caller.subject != NULL && strcmp(ar->caller.client_id, ar->caller.subject) != 0) {
        if (details == NULL)
            details = json_object();
        json_object_set_new(details, "client_id", json_string(ar->caller.client_id));
    }
    ts_http_audit(ar->req, action, ok ? TS_AUDIT_SUCCESS : TS_AUDIT_FAILURE, ar->caller.subject, target, details);
}

json_t *ts_admin_strlist_json(const ts_strlist_t *l)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < l->len; ++i)
        json_array_append_new(arr, json_string(l->items[i]));
    return arr;
}

json_t *ts_admin_nullable(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

int ts_admin_strlist_from_json(ts_strlist_t *l, const json_t *array)
{
    size_t i;
    const json_t *v;
    json_array_foreach(array, i, v)
    {
        if (ts_strlist_push(l, json_string_value(v)) != 0)
            return -1;
    }
    return 0;
}

const ts_kek_t *ts_admin__kek(const ts_admin_t *admin)
{
    return &admin->kek;
}

ts_admin_stats_t ts_admin__stats(const ts_admin_t *admin)
{
    return (ts_admin_stats_t){.started_at = admin->started_at, .requests = admin->requests, .refused = admin->refused};
}

/* ---- connections and the loop --------------------------------------------------------------------- */

static void on_accept(h2o_socket_t *listener, const char *err);

static void resume_accepting(ts_worker_t *w)
{
    if (!w->accept_paused || w->listener == NULL || w->stopping || w->conns >= w->max_conns)
        return;
    w->accept_paused = 0;
    h2o_socket_read_start(w->listener, on_accept);
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    ts_worker_t *w = listener->data;
    h2o_socket_t *sock;

    if (err != NULL)
        return;
    for (int i = 0; i < 16; ++i) {
        if (w->conns >= w->max_conns) {
            h2o_socket_read_stop(w->listener); /* until a connection closes: the rest wait in the backlog */
            w->accept_paused = 1;
            return;
        }
        if ((sock = h2o_evloop_socket_accept(listener)) == NULL)
            return;
        if (ts_conns_accept(w, sock, resume_accepting) != 0)
            return;
    }
}

static void on_stop_poll(h2o_timeout_entry_t *entry)
{
    ts_worker_t *w = H2O_STRUCT_FROM_MEMBER(ts_worker_t, stop_entry, entry);
    if (w->conns == 0 || h2o_now(w->ctx.loop) >= w->stop_deadline) {
        if (w->conns != 0)
            ts_log_warn("admin API: %zu connection(s) still open at the shutdown deadline", w->conns);
        w->stopping = 2;
        return;
    }
    ts_conns_shut_idle(w);
    h2o_timeout_link(w->ctx.loop, &w->stop_poll, &w->stop_entry);
}

static void on_control(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    ts_worker_t *w = H2O_STRUCT_FROM_MEMBER(ts_worker_t, control, receiver);
    ts_admin_t *admin = H2O_STRUCT_FROM_MEMBER(ts_admin_t, w, w);
    int stop = 0;

    while (!h2o_linklist_is_empty(messages)) {
        control_msg_t *msg = H2O_STRUCT_FROM_MEMBER(control_msg_t, super.link, messages->next);
        h2o_linklist_unlink(&msg->super.link); /* NOLINT(clang-analyzer-unix.Malloc): unlink advances messages->next */
        if (msg->ssl_ctx != NULL) {
            /* each connection holds its own reference to the context it was accepted under (conns.c) */
            SSL_CTX *old = admin->ssl_ctx;
            admin->ssl_ctx = w->accept_ctx.ssl_ctx = msg->ssl_ctx;
            SSL_CTX_free(old);
        } else {
            stop = 1;
        }
        free(msg);
    }
    if (!stop || w->stopping)
        return;
    w->stopping = 1;
    if (!w->accept_paused)
        h2o_socket_read_stop(w->listener);
    h2o_socket_close(w->listener);
    w->listener = NULL;
    h2o_context_request_shutdown(&w->ctx);
    w->stop_deadline = h2o_now(w->ctx.loop) + (uint64_t)w->app->conf->shutdown_timeout * 1000;
    ts_conns_shut_idle(w);
    h2o_timeout_link(w->ctx.loop, &w->stop_poll, &w->stop_entry);
}

static void *admin_main(void *arg)
{
    ts_admin_t *admin = arg;
    ts_worker_t *w = &admin->w;

    /* made on this thread, for the reason src/http/server.c's worker_init gives (thread-local socket buffers) */
    h2o_context_init(&w->ctx, h2o_evloop_create(), &admin->globalconf);
    h2o_multithread_register_receiver(w->ctx.queue, &w->control, on_control);
    sem_post(&admin->ready);
    h2o_evloop_t *loop = w->ctx.loop;

    h2o_timeout_init(loop, &w->stop_poll, 100);
    w->stop_entry.cb = on_stop_poll;
    h2o_linklist_init_anchor(&w->open_conns);
    w->accept_ctx.ctx = &w->ctx;
    w->accept_ctx.hosts = admin->globalconf.hosts;
    w->accept_ctx.ssl_ctx = admin->ssl_ctx;
    w->listener = h2o_evloop_socket_create(loop, w->listen_fd, H2O_SOCKET_FLAG_DONT_READ);
    w->listen_fd = -1; /* the listener socket owns it now */
    w->listener->data = w;
    h2o_socket_read_start(w->listener, on_accept);

    while (w->stopping != 2)
        h2o_evloop_run(loop, INT32_MAX);

    if (admin->db != NULL) {
        ts_store_close(admin->db);
        admin->db = NULL;
    }
    if (w->conns != 0)
        return NULL; /* connections still hold the context: the process exits without tearing it down */
    if (h2o_timeout_is_linked(&w->stop_entry))
        h2o_timeout_unlink(&w->stop_entry);
    h2o_timeout_dispose(loop, &w->stop_poll);
    h2o_multithread_unregister_receiver(w->ctx.queue, &w->control);
    if (h2o_timeout_is_linked(&w->ctx.http2._graceful_shutdown_timeout))
        h2o_timeout_unlink(&w->ctx.http2._graceful_shutdown_timeout);
    h2o_context_dispose(&w->ctx);
    h2o_evloop_run(loop, 0); /* reaps the queue's socket, which dispose closed */
    h2o_evloop_destroy(loop);
    w->ctx.loop = NULL;
    ts_http__release_thread_caches();
    return NULL;
}

/* ---- start and stop -------------------------------------------------------------------------------- */

/* a bound, listening socket for the admin address; -1 with errno kept and err set */
static int open_listener(const ts_config_t *conf, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *res;
    char port[8];
    int r, fd, on = 1, saved;

    snprintf(port, sizeof(port), "%u", conf->admin_listen_port);
    if ((r = getaddrinfo(conf->admin_listen_host, port, &hints, &res)) != 0) {
        snprintf(err, errlen, "admin_listen: cannot resolve '%s': %s", conf->admin_listen_host, gai_strerror(r));
        errno = EINVAL;
        return -1;
    }
    if ((fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) != 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 ||
        listen(fd, 128) != 0) {
        saved = errno;
        snprintf(err, errlen, "admin_listen %s: %s", conf->admin_listen, strerror(saved));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        errno = saved;
        return -1;
    }
    freeaddrinfo(res);
    return fd;
}

static SSL_CTX *admin_tls(const ts_config_t *conf, char *err, size_t errlen)
{
    /* the public listener's TLS setup with the admin files; HTTP/1.1 only */
    ts_config_t tls_conf = *conf;
    char inner[400];
    SSL_CTX *ctx;

    tls_conf.tls_certificate_file = conf->admin_tls_certificate_file;
    tls_conf.tls_private_key_file = conf->admin_tls_private_key_file;
    tls_conf.http2 = 0;
    if ((ctx = ts_tls_create(&tls_conf, inner, sizeof(inner))) == NULL)
        snprintf(err, errlen, "admin TLS (admin_tls_certificate_file, admin_tls_private_key_file): %s", inner);
    return ctx;
}

static void admin_free(ts_admin_t *admin)
{
    if (admin->w.listen_fd >= 0) /* the thread never took it */
        close(admin->w.listen_fd);
    if (admin->globalconf.hosts != NULL)
        h2o_config_dispose(&admin->globalconf);
    SSL_CTX_free(admin->ssl_ctx);
    ts_crypto_cleanse(&admin->kek, sizeof(admin->kek));
    free(admin);
}

int ts_admin_start(const ts_app_t *app, const ts_kek_t *kek, ts_admin_t **out, char *err, size_t errlen)
{
    const ts_config_t *conf = app->conf;
    ts_admin_t *admin;

    *out = NULL;
    if (*conf->admin_listen == '\0') {
        ts_log_info("admin API: off (admin_listen is empty)");
        return 0;
    }
    if ((admin = calloc(1, sizeof(*admin))) == NULL) {
        snprintf(err, errlen, "admin API: out of memory");
        return -1;
    }
    admin->w.listen_fd = -1;
    admin->app = *app;
    admin->app.tls = *conf->admin_tls_certificate_file != '\0';
    admin->kek = *kek;
    admin->started_at = (int64_t)time(NULL);
    if ((admin->w.listen_fd = open_listener(conf, err, errlen)) < 0) {
        if (errno == EADDRINUSE && conf->admin_listen_source == TS_CONFIG_DEFAULT) {
            ts_log_warn("admin API: off: the default admin_listen address %s is taken (another node on this machine?); "
                        "set admin_listen to a free address, or to nothing to silence this",
                        conf->admin_listen);
            admin_free(admin);
            return 0;
        }
        admin_free(admin);
        return -1;
    }
    if (admin->app.tls && (admin->ssl_ctx = admin_tls(conf, err, errlen)) == NULL) {
        admin_free(admin);
        return -1;
    }

    h2o_globalconf_t *g = &admin->globalconf;
    h2o_config_init(g);
    g->server_name = h2o_iovec_init(H2O_STRLIT("tessera"));
    g->max_request_entity_size = TS_ADMIN_BODY_MAX; /* larger: 413 before any of this runs */
    g->http1.req_timeout = (uint64_t)conf->request_timeout * 1000;
    g->handshake_timeout = (uint64_t)conf->request_timeout * 1000;
    g->http1.upgrade_to_http2 = 0; /* HTTP/1.1 only, as the public listener by default */
    h2o_hostconf_t *host = h2o_config_register_host(g, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    h2o_create_handler(path, sizeof(h2o_handler_t))->on_req = on_req;

    admin->w.app = &admin->app;
    admin->w.max_conns = ADMIN_MAX_CONNS;
    sem_init(&admin->ready, 0, 0);
    if (pthread_create(&admin->w.thread, NULL, admin_main, admin) != 0) {
        snprintf(err, errlen, "admin API: cannot start its thread");
        sem_destroy(&admin->ready);
        admin_free(admin);
        return -1;
    }
    sem_wait(&admin->ready); /* its context exists: ts_admin_stop may send the stop message */
    sem_destroy(&admin->ready);
    ts_log_info("admin API listening on %s://%s", admin->app.tls ? "https" : "http", conf->admin_listen);
    *out = admin;
    return 0;
}

int ts_admin_reload_tls(ts_admin_t *admin, char *err, size_t errlen)
{
    control_msg_t *msg;
    SSL_CTX *fresh;

    if (admin == NULL || !admin->app.tls)
        return 0;
    if ((fresh = admin_tls(admin->app.conf, err, errlen)) == NULL)
        return -1;
    if ((msg = calloc(1, sizeof(*msg))) == NULL) {
        SSL_CTX_free(fresh);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    msg->ssl_ctx = fresh;
    h2o_multithread_send_message(&admin->w.control, &msg->super);
    return 0;
}

void ts_admin_stop(ts_admin_t *admin)
{
    control_msg_t *msg;

    if (admin == NULL)
        return;
    if ((msg = calloc(1, sizeof(*msg))) != NULL)
        h2o_multithread_send_message(&admin->w.control, &msg->super);
    pthread_join(admin->w.thread, NULL);
    if (admin->w.conns != 0)
        return; /* the context is still in use by connections that outlived the deadline: the process is exiting */
    admin_free(admin);
}
