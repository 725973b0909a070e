/* POST /register (RFC 7591) and GET, PUT, DELETE /register/{client_id} (RFC 7592), when registration_enabled
 * (docs/registration.md). On the loop threads with the asynchronous database path, like /token: each step is one
 * statement. The registration access token and a client secret are shown once and stored only as hashes, so a
 * read answers with the registration access token it was given and never shows the client secret again. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http/audit_http.h"
#include "http/endpoints.h"
#include "http/limits.h"
#include "http/registration.h"
#include "http/reqctx.h"
#include "tessera/log.h"

#define PREFIX "/register/"
#define DIRECTORY_POLLS 400 /* of 5 ms: how long a change may take to reach this loop's directory */
#define INITIAL_TOKEN_MIN 20
#define INITIAL_TOKEN_MAX 512
#define CLIENT_ID_BYTES 16
#define TOKEN_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/="

typedef enum en_op_t { OP_CREATE, OP_READ, OP_UPDATE, OP_DELETE } op_t;
static const char *const op_names[] = {"create", "read", "update", "delete"};

typedef struct st_reg_flow_t {
    ts_reqctx_t *ctx;
    op_t op;
    ts_registration_t reg;
    char client_id[TS_CLIENT_ID_MAX + 1];
    char token[TS_HANDLE_MAX]; /* the registration access token: a new one (create), or the one presented */
    char token_hash[44];
    char secret[TS_HANDLE_MAX]; /* a client secret to show (new, or the one an update named), or "" */
    char secret_hash[TS_SECRET_HASH_LEN];
    json_t *answer; /* create, update: sent once this loop's directory has the change (NULL for a delete) */
    h2o_timeout_entry_t wait;
    unsigned polls;
} reg_flow_t;

/* ---- what the flows share ------------------------------------------------------------------------ */

static void on_flow_dispose(void *p)
{
    reg_flow_t *f = p;
    if (h2o_timeout_is_linked(&f->wait))
        h2o_timeout_unlink(&f->wait);
    ts_registration_dispose(&f->reg);
    json_decref(f->answer);
    ts_crypto_cleanse(f->token, sizeof(f->token));
    ts_crypto_cleanse(f->secret, sizeof(f->secret));
}

static void on_poll(h2o_timeout_entry_t *entry);

static reg_flow_t *flow_create(ts_reqctx_t *ctx, op_t op)
{
    reg_flow_t *f = h2o_mem_alloc_shared(&ctx->req->pool, sizeof(*f), on_flow_dispose);
    memset(f, 0, sizeof(*f));
    f->ctx = ctx;
    f->op = op;
    f->wait.cb = on_poll;
    ctx->flow = f;
    return f;
}

static void audit_refusal(reg_flow_t *f, ts_err_t err)
{
    ts_http_audit(f->ctx->req, "registration.refuse", TS_AUDIT_FAILURE, NULL, NULL,
                  json_pack("{s:s, s:s}", "operation", op_names[f->op], "error", ts_err_info(err)->code));
}

/* 401 for a missing, wrong or revoked token, or a client that is not there (RFC 7592 §2: the same answer) */
static int refuse_token(reg_flow_t *f, const char *why)
{
    audit_refusal(f, TS_ERR_INVALID_TOKEN);
    ts_http_header(f->ctx->req, "www-authenticate", "Bearer realm=\"tessera\", error=\"invalid_token\"");
    return ts_http_send_error(f->ctx->req, TS_ERR_INVALID_TOKEN, why);
}

static int refuse(reg_flow_t *f, ts_err_t err, const char *why)
{
    audit_refusal(f, err);
    return ts_http_send_error(f->ctx->req, err, why);
}

static int not_enabled(h2o_req_t *req)
{
    if (ts_http_rate_limit_address_or_reply(req) != 0)
        return 0;
    return ts_http_send_error(req, TS_ERR_NOT_FOUND, NULL);
}

/* the metadata parameters ($3..$10 of the statements, src/store/statements.c) of a registration */
typedef struct st_md_params_t {
    const char *values[8];
    char *owned[4];
} md_params_t;

static char *strings_json(const char *const *items, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < n; ++i)
        json_array_append_new(arr, json_string(items[i]));
    char *text = arr != NULL ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    return text;
}

static void md_params_dispose(md_params_t *p)
{
    for (size_t i = 0; i < sizeof(p->owned) / sizeof(p->owned[0]); ++i)
        free(p->owned[i]);
}

static int md_params_make(const ts_registration_t *r, md_params_t *p)
{
    memset(p, 0, sizeof(*p));
    p->owned[0] = strings_json(r->grant_types, r->num_grant_types);
    p->owned[1] = strings_json(r->redirect_uris, r->num_redirect_uris);
    p->owned[2] = strings_json(r->post_logout_redirect_uris, r->num_post_logout_redirect_uris);
    p->owned[3] = r->jwks != NULL ? json_dumps(r->jwks, JSON_COMPACT) : NULL;
    if (p->owned[0] == NULL || p->owned[1] == NULL || p->owned[2] == NULL || (r->jwks != NULL && p->owned[3] == NULL)) {
        md_params_dispose(p);
        return -1;
    }
    p->values[0] = r->client_name;
    p->values[1] = r->token_endpoint_auth_method;
    p->values[2] = p->owned[0];
    p->values[3] = p->owned[1];
    p->values[4] = p->owned[2];
    p->values[5] = r->scope;
    p->values[6] = p->owned[3];
    p->values[7] = r->id_token_signed_response_alg;
    return 0;
}

/* a JSON array from its text, or an empty one */
static json_t *list_json(const char *text)
{
    json_t *v = text != NULL ? json_loads(text, 0, NULL) : NULL;
    if (json_is_array(v))
        return v;
    json_decref(v);
    return json_array();
}

/* the Client Information Response (RFC 7591 §3.2.1, RFC 7592 §3) from a row of REGISTRATION_COLUMNS */
static json_t *answer_json(reg_flow_t *f, const ts_db_result_t *res)
{
    const char *issuer = f->ctx->worker->app->conf->issuer, *v;
    const char *method = ts_db_result_value(res, 0, 2);
    json_t *grants = list_json(ts_db_result_value(res, 0, 3)), *g;
    int code = 0;
    size_t i;
    char uri[1024];

    json_array_foreach(grants, i, g) {
        code |= json_is_string(g) && strcmp(json_string_value(g), "authorization_code") == 0;
    }
    snprintf(uri, sizeof(uri), "%s" PREFIX "%s", issuer, f->client_id);
    json_t *out = json_pack("{s:s, s:I, s:s, s:o, s:o, s:o, s:o, s:s, s:s, s:s, s:s}", "client_id", f->client_id,
                            "client_id_issued_at", (json_int_t)strtoll(ts_db_result_value(res, 0, 9), NULL, 10),
                            "token_endpoint_auth_method", method, "grant_types", grants, "response_types",
                            code ? json_pack("[s]", "code") : json_array(), "redirect_uris", list_json(ts_db_result_value(res, 0, 4)),
                            "post_logout_redirect_uris", list_json(ts_db_result_value(res, 0, 5)), "scope",
                            ts_db_result_value(res, 0, 6), "id_token_signed_response_alg", ts_db_result_value(res, 0, 8),
                            "registration_access_token", f->token, "registration_client_uri", uri);
    if (out == NULL)
        return NULL;
    if ((v = ts_db_result_value(res, 0, 1)) != NULL)
        json_object_set_new(out, "client_name", json_string(v));
    if ((v = ts_db_result_value(res, 0, 7)) != NULL)
        json_object_set_new(out, "jwks", json_loads(v, 0, NULL));
    if (ts_oauth_auth_method_uses_secret(method)) {
        if (f->secret[0] != '\0')
            json_object_set_new(out, "client_secret", json_string(f->secret));
        json_object_set_new(out, "client_secret_expires_at", json_integer(0)); /* RFC 7591 §3.2.1: 0 is never */
    }
    return out;
}

static int send_answer(reg_flow_t *f, int status, json_t *answer)
{
    ts_http_no_store(f->ctx->req);
    return ts_http_send_json(f->ctx->req, status, answer);
}

/* a fresh client secret into f (shown once) and its keyed hash */
static int new_secret(reg_flow_t *f)
{
    if (ts_crypto_handle_new(TS_PREFIX_CLIENT_SECRET, f->secret, sizeof(f->secret)) != 0)
        return -1;
    ts_secret_hash(&f->ctx->worker->app->hasher, f->secret, strlen(f->secret), f->secret_hash);
    return f->secret_hash[0] != '\0' ? 0 : -1;
}

/* ---- POST /register ------------------------------------------------------------------------------- */

static unsigned grant_bits(const ts_registration_t *r)
{
    unsigned bits = 0;
    for (size_t i = 0; i < r->num_grant_types; ++i)
        bits |= strcmp(r->grant_types[i], "authorization_code") == 0   ? TS_GRANT_AUTHORIZATION_CODE
                : strcmp(r->grant_types[i], "client_credentials") == 0 ? TS_GRANT_CLIENT_CREDENTIALS
                : strcmp(r->grant_types[i], "refresh_token") == 0      ? TS_GRANT_REFRESH_TOKEN
                                                                       : 0;
    return bits;
}

static int same_strings(const ts_strs_t *have, const char *const *want, size_t n)
{
    if (have->len != n)
        return 0;
    for (size_t i = 0; i < n; ++i)
        if (strcmp(have->items[i], want[i]) != 0)
            return 0;
    return 1;
}

/* what a client uses at once after registering or updating: how it authenticates (and a secret just issued),
 * its grants and its redirect URIs */
static int holds_update(const ts_client_t *c, const reg_flow_t *f)
{
    ts_auth_method_t method;

    if (ts_auth_method_parse(f->reg.token_endpoint_auth_method, &method) != 0 || c->auth_method != method ||
        c->grant_types != grant_bits(&f->reg) || !same_strings(&c->redirect_uris, f->reg.redirect_uris, f->reg.num_redirect_uris))
        return 0;
    if (f->secret_hash[0] == '\0') /* no secret issued now */
        return 1;
    for (size_t i = 0; i < c->num_secrets; ++i)
        if (strcmp(c->secrets[i].hash, f->secret_hash) == 0)
            return 1;
    return 0;
}

/* whether this loop's directory has what f stored: the new client, the updated one, or no client for a delete */
static int directory_has_it(reg_flow_t *f)
{
    ts_slot_t *slot = &f->ctx->worker->app->snaps->directory;
    ts_directory_t *dir = (ts_directory_t *)ts_slot_acquire(slot);
    const ts_client_t *c = dir != NULL ? ts_directory_client(dir, f->client_id) : NULL;
    int has = dir != NULL && (f->op == OP_DELETE ? c == NULL : c != NULL && holds_update(c, f));
    if (dir != NULL)
        ts_ref_release(&dir->super);
    return has;
}

/* A client may use what it just did at once (a token request right after registering or changing its redirect
 * URIs; a deleted client is refused at once): the answer waits until the sync thread has brought the change
 * into this loop's directory, a few milliseconds, 2 s at most. */
static void send_when_usable(reg_flow_t *f)
{
    static const int status[] = {[OP_CREATE] = 201, [OP_READ] = 200, [OP_UPDATE] = 200, [OP_DELETE] = 204};

    if (directory_has_it(f) || ++f->polls > DIRECTORY_POLLS) {
        if (f->polls > DIRECTORY_POLLS)
            ts_log_warn("registration: the %s of client %s is not in the directory after %d ms; answering anyway",
                        op_names[f->op], f->client_id, DIRECTORY_POLLS * 5);
        json_t *answer = f->answer;
        f->answer = NULL;
        if (answer == NULL)
            ts_http_send(f->ctx->req, status[f->op], NULL, "", 0);
        else
            send_answer(f, status[f->op], answer);
        return;
    }
    h2o_timeout_link(f->ctx->worker->ctx.loop, &f->ctx->worker->registration_poll, &f->wait);
}

static void on_poll(h2o_timeout_entry_t *entry)
{
    send_when_usable(H2O_STRUCT_FROM_MEMBER(reg_flow_t, wait, entry));
}

static void on_created(ts_reqctx_t *ctx, const ts_db_result_t *res, const char *err)
{
    reg_flow_t *f = ctx->flow;

    if (err == NULL && ts_db_result_rows(res) == 0) {
        ts_log_warn("registration: refused, there are registration_max_clients (%u) self-registered clients already",
                    ctx->worker->app->conf->registration_max_clients);
        refuse(f, TS_ERR_ACCESS_DENIED, "this server takes no more registrations");
        return;
    }
    if (err != NULL || ts_db_result_rows(res) != 1 || (f->answer = answer_json(f, res)) == NULL) {
        ts_log_error("registration: storing client %s failed: %s", f->client_id, err != NULL ? err : "no row");
        refuse(f, TS_ERR_SERVER_ERROR, NULL);
        return;
    }
    ts_http_audit(ctx->req, "registration.create", TS_AUDIT_SUCCESS, f->client_id, NULL,
                  json_pack("{s:s, s:O}", "token_endpoint_auth_method", f->reg.token_endpoint_auth_method, "grant_types",
                            json_object_get(f->answer, "grant_types")));
    send_when_usable(f);
}

/* the initial access token, when registering needs one (RFC 7591 §3) */
static int initial_token_ok(reg_flow_t *f)
{
    const ts_app_t *app = f->ctx->worker->app;
    unsigned char digest[32];
    const char *why, *token;
    size_t len;

    if (!app->registration_token_required)
        return 1;
    if ((token = ts_http_bearer_token(f->ctx->req, &len, &why)) != NULL) {
        ts_crypto_sha256(token, len, digest);
        if (ts_crypto_equal(digest, app->registration_token_sha256, sizeof(digest)))
            return 1;
    }
    refuse_token(f, token == NULL && why == NULL ? "an initial access token is required to register a client"
                                                 : "the initial access token is invalid");
    return 0;
}

/* a client_id nobody chose: 128 random bits, base64url */
static int new_client_id(char *out)
{
    unsigned char raw[CLIENT_ID_BYTES];
    if (ts_crypto_random(raw, sizeof(raw)) != 0)
        return -1;
    ts_b64url_encode(raw, sizeof(raw), out);
    return 0;
}

int ts_ep_register(h2o_req_t *req)
{
    const ts_app_t *app = ts_http_worker(req)->app;
    ts_reqctx_t *ctx;
    reg_flow_t *f;
    md_params_t p;
    char err[512];
    ts_err_t e;

    if (!app->conf->registration_enabled)
        return not_enabled(req);
    if ((ctx = ts_reqctx_create_bare_or_reply(req)) == NULL)
        return 0;
    f = flow_create(ctx, OP_CREATE);
    if (!initial_token_ok(f))
        return 0;
    if (!ts_http_is_json(req))
        return refuse(f, TS_ERR_UNSUPPORTED_MEDIA_TYPE, "the body must be application/json");
    if (new_client_id(f->client_id) != 0)
        return refuse(f, TS_ERR_SERVER_ERROR, NULL);
    if ((e = ts_registration_parse(req->entity.base, req->entity.len, f->client_id, app->conf->registration_scopes, &f->reg, err,
                                   sizeof(err))) != TS_OK)
        return refuse(f, e, err);
    if ((ts_oauth_auth_method_uses_secret(f->reg.token_endpoint_auth_method) && new_secret(f) != 0) ||
        ts_crypto_handle_new(TS_PREFIX_REGISTRATION_TOKEN, f->token, sizeof(f->token)) != 0 || md_params_make(&f->reg, &p) != 0)
        return refuse(f, TS_ERR_SERVER_ERROR, NULL);
    ts_crypto_handle_hash(f->token, strlen(f->token), f->token_hash);
    char max_clients[16];
    snprintf(max_clients, sizeof(max_clients), "%u", app->conf->registration_max_clients);
    const char *params[12] = {f->client_id, f->token_hash};
    for (size_t i = 0; i < 8; ++i)
        params[2 + i] = p.values[i];
    params[10] = f->secret[0] != '\0' ? f->secret_hash : NULL;
    params[11] = max_clients;
    ts_reqctx_query(ctx, TS_STMT_REGISTRATION_CREATE, 12, params, on_created);
    md_params_dispose(&p);
    return 0;
}

/* ---- GET, PUT, DELETE /register/{client_id} --------------------------------------------------------- */

static void on_read(ts_reqctx_t *ctx, const ts_db_result_t *res, const char *err)
{
    reg_flow_t *f = ctx->flow;

    if (err != NULL || ts_db_result_rows(res) != 1) {
        refuse_token(f, "the registration access token is invalid, or the client is not there");
        return;
    }
    send_answer(f, 200, answer_json(f, res));
}

static void on_updated(ts_reqctx_t *ctx, const ts_db_result_t *res, const char *err)
{
    reg_flow_t *f = ctx->flow;

    if (err != NULL || ts_db_result_rows(res) != 1) {
        refuse_token(f, "the registration access token is invalid, or the client is not there");
        return;
    }
    if ((f->answer = answer_json(f, res)) == NULL) {
        refuse(f, TS_ERR_SERVER_ERROR, NULL);
        return;
    }
    ts_http_audit(ctx->req, "registration.update", TS_AUDIT_SUCCESS, f->client_id, NULL,
                  json_pack("{s:s, s:b}", "token_endpoint_auth_method", f->reg.token_endpoint_auth_method, "new_secret",
                            f->secret_hash[0] != '\0'));
    send_when_usable(f);
}

/* The token is good and the client is there (res: REGISTRATION_COLUMNS, has a live secret?, the secret named
 * is live?). RFC 7592 §2.2: a secret the request names must be the current one, and a client never picks its
 * own. A client that moves to secret authentication gets a new secret; one that moves away loses its secrets. */
static void on_update_checked(ts_reqctx_t *ctx, const ts_db_result_t *res, const char *err)
{
    reg_flow_t *f = ctx->flow;
    md_params_t p;

    if (err != NULL || ts_db_result_rows(res) != 1) {
        refuse_token(f, "the registration access token is invalid, or the client is not there");
        return;
    }
    int has_secret = strcmp(ts_db_result_value(res, 0, 10), "t") == 0;
    int uses_secret = ts_oauth_auth_method_uses_secret(f->reg.token_endpoint_auth_method);
    const char *named = ts_db_result_value(res, 0, 11);
    if (named != NULL && strcmp(named, "t") != 0) {
        refuse(f, TS_ERR_INVALID_CLIENT_METADATA, "client_secret: not the current secret of this client");
        return;
    }
    f->secret_hash[0] = '\0';
    if (uses_secret && !has_secret && new_secret(f) != 0) {
        refuse(f, TS_ERR_SERVER_ERROR, NULL);
        return;
    }
    if (uses_secret && has_secret && f->reg.client_secret != NULL)
        snprintf(f->secret, sizeof(f->secret), "%s", f->reg.client_secret); /* named and checked: shown back */
    if (md_params_make(&f->reg, &p) != 0) {
        refuse(f, TS_ERR_SERVER_ERROR, NULL);
        return;
    }
    const char *params[12] = {f->client_id, f->token_hash};
    for (size_t i = 0; i < 8; ++i)
        params[2 + i] = p.values[i];
    params[10] = f->secret_hash[0] != '\0' ? f->secret_hash : NULL;
    params[11] = !uses_secret && has_secret ? "t" : "f";
    ts_reqctx_query(ctx, TS_STMT_REGISTRATION_UPDATE, 12, params, on_updated);
    md_params_dispose(&p);
}

/* PUT: the body is checked before the token is looked up (what it says about the body is the caller's own) */
static void update(reg_flow_t *f)
{
    const ts_app_t *app = f->ctx->worker->app;
    h2o_req_t *req = f->ctx->req;
    char err[512];
    ts_err_t e;

    if (!ts_http_is_json(req)) {
        refuse(f, TS_ERR_UNSUPPORTED_MEDIA_TYPE, "the body must be application/json");
        return;
    }
    if ((e = ts_registration_parse(req->entity.base, req->entity.len, f->client_id, app->conf->registration_scopes, &f->reg, err,
                                   sizeof(err))) != TS_OK) {
        refuse(f, e, err);
        return;
    }
    if (f->reg.client_id == NULL || strcmp(f->reg.client_id, f->client_id) != 0) {
        refuse(f, TS_ERR_INVALID_CLIENT_METADATA, "client_id: required, and must be this client's (RFC 7592 §2.2)");
        return;
    }
    if (f->reg.client_secret != NULL)
        ts_secret_hash(&app->hasher, f->reg.client_secret, strlen(f->reg.client_secret), f->secret_hash);
    const char *params[3] = {f->client_id, f->token_hash, f->reg.client_secret != NULL ? f->secret_hash : NULL};
    ts_reqctx_query(f->ctx, TS_STMT_REGISTRATION_GET, 3, params, on_update_checked);
}

static void on_deleted(ts_reqctx_t *ctx, const ts_db_result_t *res, const char *err)
{
    reg_flow_t *f = ctx->flow;

    if (err != NULL || ts_db_result_rows(res) != 1) {
        refuse_token(f, "the registration access token is invalid, or the client is not there");
        return;
    }
    ts_http_audit(ctx->req, "registration.delete", TS_AUDIT_SUCCESS, f->client_id, NULL, NULL);
    send_when_usable(f);
}

static op_t op_of(h2o_req_t *req)
{
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("PUT")))
        return OP_UPDATE;
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("DELETE")))
        return OP_DELETE;
    return OP_READ;
}

int ts_ep_registration(h2o_req_t *req)
{
    const ts_app_t *app = ts_http_worker(req)->app;
    h2o_iovec_t path = req->path_normalized;
    size_t n = path.len - (sizeof(PREFIX) - 1), len;
    const char *token, *why;
    char err[256];
    ts_reqctx_t *ctx;
    reg_flow_t *f;

    if (!app->conf->registration_enabled)
        return not_enabled(req);
    if ((ctx = ts_reqctx_create_bare_or_reply(req)) == NULL)
        return 0;
    f = flow_create(ctx, op_of(req));
    if ((token = ts_http_bearer_token(req, &len, &why)) == NULL)
        return refuse_token(f, why != NULL ? why : "the registration access token is required");
    /* RFC 7592 §2: a client that is not there is answered like a wrong token */
    if (n > TS_CLIENT_ID_MAX || len >= sizeof(f->token))
        return refuse_token(f, "the registration access token is invalid, or the client is not there");
    memcpy(f->client_id, path.base + sizeof(PREFIX) - 1, n); /* Flawfinder: ignore - n <= TS_CLIENT_ID_MAX, checked above */
    f->client_id[n] = '\0';
    if (ts_oauth_check_client_id(f->client_id, err, sizeof(err)) != 0)
        return refuse_token(f, "the registration access token is invalid, or the client is not there");
    memcpy(f->token, token, len); /* Flawfinder: ignore - len < sizeof(f->token), checked above */
    f->token[len] = '\0';
    ts_crypto_handle_hash(f->token, len, f->token_hash);
    switch (f->op) {
    case OP_UPDATE:
        update(f);
        break;
    case OP_DELETE:
        ts_reqctx_query(ctx, TS_STMT_REGISTRATION_DELETE, 2, (const char *[]){f->client_id, f->token_hash}, on_deleted);
        break;
    default:
        ts_reqctx_query(ctx, TS_STMT_REGISTRATION_GET, 3, (const char *[]){f->client_id, f->token_hash, NULL}, on_read);
        break;
    }
    return 0;
}

/* ---- start-up ------------------------------------------------------------------------------------- */

int ts_registration_load_token(ts_app_t *app, char *err, size_t errlen)
{
    const char *path = app->conf->registration_initial_access_token_file;
    char buf[INITIAL_TOKEN_MAX + 2];
    size_t n;
    FILE *fp;

    if (!app->conf->registration_enabled)
        return 0;
    if (*path == '\0') {
        ts_log_warn("registration_enabled with no registration_initial_access_token_file: anyone who reaches %s/register "
                    "can register a client (docs/registration.md)", app->conf->issuer);
        return 0;
    }
    /* Flawfinder: ignore - registration_initial_access_token_file, the operator's choice, read-only */
    if ((fp = fopen(path, "r")) == NULL) {
        snprintf(err, errlen, "registration_initial_access_token_file: cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        --n;
    buf[n] = '\0';
    if (n < INITIAL_TOKEN_MIN || n > INITIAL_TOKEN_MAX || strspn(buf, TOKEN_CHARS) != n) {
        ts_crypto_cleanse(buf, sizeof(buf));
        snprintf(err, errlen,
                 "registration_initial_access_token_file: %s must hold one token of %d to %d characters (letters, digits, "
                 "-._~+/=)",
                 path, INITIAL_TOKEN_MIN, INITIAL_TOKEN_MAX);
        return -1;
    }
    ts_crypto_sha256(buf, n, app->registration_token_sha256);
    ts_crypto_cleanse(buf, sizeof(buf));
    app->registration_token_required = 1;
    return 0;
}
