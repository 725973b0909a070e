#ifndef TESSERA_HTTP_H
#define TESSERA_HTTP_H

/* The HTTP layer: the only code that includes h2o.h. */
#include <pthread.h>
#include <h2o.h>
#include <jansson.h>
#include "tessera/config.h"
#include "tessera/db_pool.h"
#include "tessera/error.h"
#include "tessera/crypto.h"
#include "tessera/jwt_cache.h"
#include "tessera/ratelimit.h"
#include "tessera/sync.h"

typedef struct st_ts_server_t ts_server_t;

/* What a handler needs from the process: read-only after start-up. */
typedef struct st_ts_app_t {
    const ts_config_t *conf;
    ts_snapshots_t *snaps;
    int tls;                     /* the listener speaks TLS */
    ts_secret_hasher_t hasher;   /* checks client secrets */
    ts_jws_alg_t access_token_alg;
    ts_ratelimit_t *ratelimit;   /* shared by every loop thread of this node */
    h2o_iovec_t discovery_oidc;  /* /.well-known/openid-configuration body */
    h2o_iovec_t discovery_oauth; /* /.well-known/oauth-authorization-server body */
    /* browser flows */
    struct st_ts_pages_t *pages;              /* the compiled HTML pages */
    struct st_ts_throttle_t *login_throttle;  /* failed sign-ins per account and per address */
    struct st_ts_offload_pool_t *password_pool; /* argon2id off the loop threads */
    char dummy_password_hash[TS_PASSWORD_HASH_MAX]; /* checked for unknown users, so they cost the same */
    int secure_cookies;                       /* the issuer is https: cookies are __Host- and Secure */
    struct st_ts_audit_t *audit;              /* the audit log's writer (NULL-safe to emit to) */
    /* dynamic client registration: registering needs the initial access token whose SHA-256 this is */
    int registration_token_required;
    unsigned char registration_token_sha256[32];
} ts_app_t;

/* One loop thread: its own h2o context, listener, and database connections. */
typedef struct st_ts_worker_t {
    h2o_context_t ctx; /* first: handlers get back to the worker from req->conn->ctx */
    h2o_accept_ctx_t accept_ctx;
    ts_server_t *server;
    const ts_app_t *app;
    unsigned index;
    pthread_t thread;
    int listen_fd;
    h2o_socket_t *listener;
    ts_db_pool_t *db;
    ts_jwt_cache_t *jwt_cache; /* tokens this thread has verified */
    struct st_ts_offload_return_t *offload_return; /* finished password checks come back to this loop */
    size_t conns; /* open client connections, for the graceful stop */
    h2o_linklist_t open_conns; /* each one (conns.c's conn_t), to close the idle ones when stopping */
    size_t max_conns;   /* this thread's share of max_connections: at it, the listener pauses */
    int accept_paused;  /* the listener is not being read: at max_conns, or out of descriptors */
    uint64_t warmup_until; /* not accepting yet: waiting for the database connections until then (0: done) */
    uint64_t limit_warned_at;
    h2o_timeout_t accept_retry; /* after EMFILE/ENFILE: try accepting again a little later */
    h2o_timeout_entry_t accept_retry_entry;
    h2o_multithread_receiver_t control;
    int stopping;
    uint64_t stop_deadline;
    h2o_timeout_t stop_poll;
    h2o_timeout_entry_t stop_entry;
    h2o_timeout_t registration_poll; /* a client just registered: is it in this loop's directory yet? */
} ts_worker_t;

/** the worker that runs req */
static inline ts_worker_t *ts_http_worker(h2o_req_t *req)
{
    return H2O_STRUCT_FROM_MEMBER(ts_worker_t, ctx, req->conn->ctx);
}

/** runs the server until SIGTERM/SIGINT (graceful stop) ; SIGHUP reloads the TLS certificate. kek is for the
 *  admin API's key rotation. *stop_deadline gets the time (CLOCK_MONOTONIC, in ms) by which the whole stop is
 *  to be done, shutdown_timeout after the signal, for what the caller still has to stop. 0 on a clean stop. */
int ts_server_run(const ts_config_t *conf, ts_snapshots_t *snaps, const ts_kek_t *kek, const ts_secret_hasher_t *hasher,
                  uint64_t *stop_deadline);
/** blocks SIGTERM, SIGINT and SIGHUP in the calling thread, and so in every thread it starts afterwards, for
 *  ts_server_run's sigwait alone to take them. Call it before the first thread starts: a thread that does not
 *  block them would get one that arrives while the main thread is busy, and SIGHUP's default ends the process. */
void ts_server_block_signals(void);
/** empties libh2o's per-thread caches, which it never frees; called last on a loop thread (server.c) */
void ts_http__release_thread_caches(void);

/* ---- responses (src/http/respond.c) ------------------------------------------------------------ */

/** sends {"error", "error_description"} with err's status; description NULL uses the table's. Returns 0. */
int ts_http_send_error(h2o_req_t *req, ts_err_t err, const char *description);
/** sends body (copied) with status and content type; adds the security headers. Returns 0. */
int ts_http_send(h2o_req_t *req, int status, const char *content_type, const char *body, size_t len);
/** serializes json (stolen) and sends it with status. Returns 0. */
int ts_http_send_json(h2o_req_t *req, int status, json_t *json);
/** adds a response header */
void ts_http_header(h2o_req_t *req, const char *name, const char *value);
/** a copy of s in req's pool (NULL stays NULL): database values outlive only their callback */
const char *ts_http_strdup(h2o_req_t *req, const char *s);
/** adds Cache-Control: no-store and Pragma: no-cache, for responses that carry tokens or secrets */
void ts_http_no_store(h2o_req_t *req);

/* ---- request parameters (src/http/form.c) ----------------------------------------------------- */

typedef struct st_ts_param_t {
    const char *name;
    const char *value;
    size_t value_len;
} ts_param_t;

#define TS_FORM_MAX_PARAMS 64
#define TS_FORM_MAX_NAME 64
#define TS_FORM_MAX_VALUE 8192

typedef struct st_ts_params_t {
    ts_param_t items[TS_FORM_MAX_PARAMS];
    size_t count;
} ts_params_t;

/** decodes application/x-www-form-urlencoded (also a query string) into pool memory: '+' and %XX decoded,
 *  values NUL-terminated; a repeated name (other than those listed in repeatable, a NULL-terminated list, or
 *  NULL), a malformed escape, a NUL byte, more than TS_FORM_MAX_PARAMS parameters or an over-long name or
 *  value is TS_ERR_INVALID_REQUEST with *why set. */
ts_err_t ts_http_parse_form(h2o_mem_pool_t *pool, const char *s, size_t len, const char *const *repeatable, ts_params_t *out,
                            const char **why);
/** the (first) value of name, or NULL */
const char *ts_http_param(const ts_params_t *params, const char *name);
/** every value of name, in order, into out (at most max); returns how many */
size_t ts_http_param_all(const ts_params_t *params, const char *name, const char **out, size_t max);
/** 1 when req's Content-Type is application/x-www-form-urlencoded (parameters allowed) */
int ts_http_is_form(h2o_req_t *req);
/** 1 when an HTTP/1 request's framing can be read two ways (Content-Length with Transfer-Encoding, either
 *  repeated, an obs-fold line): a proxy in front might see another request in it (src/http/framing.c) */
int ts_http_ambiguous_framing(h2o_req_t *req);
/** answers such a request 400 and closes the connection after it (RFC 9112 §6.3, §5.2) */
int ts_http_refuse_framing(h2o_req_t *req);
/** 1 when req's Content-Type is application/json (parameters allowed) */
int ts_http_is_json(h2o_req_t *req);
/** the b64token of RFC 6750 §2.1 from the one Authorization header (NUL-terminated, in req's pool, *len set). NULL
 *  with *why NULL when there is none or it names another scheme (RFC 6750 §3.1: no credentials); NULL with *why
 *  set when it is malformed (repeated, empty, too long, characters a token cannot have). Never looked for in the
 *  query string or a form body (RFC 9700 §2.1: not in URLs). */
const char *ts_http_bearer_token(h2o_req_t *req, size_t *len, const char **why);
/** parses req's body as a form: the content type must be application/x-www-form-urlencoded; sends the error
 *  response itself and returns -1 on failure */
int ts_http_read_form_or_reply(h2o_req_t *req, const char *const *repeatable, ts_params_t *out);

#endif
