/* ts_oauth_authorize_check (src/oauth/authorize.c) against a small fixed directory. The input is one
 * parameter per line in the order of FIELDS below, each a C string as the query or form parser leaves it
 * ("~" alone: the parameter is absent, as are lines past the end); the lines after them are resource values.
 * Invariants: on success the client is active with the code grant, the redirect URI is the one sent (or the
 * only registered one) and one ts_redirect_uri_match accepts for that client, a PKCE client has a
 * well-formed S256 challenge and any other an OpenID request with a nonce, the scope is the client's and what
 * was asked, and every bounded value is in bounds. On failure there is a reason; a redirected error has an
 * active client and a redirect URI that matches; one that is not redirected is invalid_request. Independently
 * of the request, a redirect URI that matches without being equal differs only in an http loopback port. */
#include "fuzz.h"
#include "tessera/oauth_browser.h"

enum {
    F_CLIENT_ID,
    F_REDIRECT_URI,
    F_RESPONSE_TYPE,
    F_RESPONSE_MODE,
    F_SCOPE,
    F_STATE,
    F_NONCE,
    F_CODE_CHALLENGE,
    F_CODE_CHALLENGE_METHOD,
    F_PROMPT,
    F_MAX_AGE,
    F_LOGIN_HINT,
    F_UI_LOCALES,
    F_ACR_VALUES,
    F_DISPLAY,
    F_ID_TOKEN_HINT,
    F_REQUEST,
    F_REQUEST_URI,
    FIELDS
};
#define MAX_LINES (FIELDS + TS_RESOURCES_MAX + 2)

static ts_directory_t *dir;

static ts_strs_t strs(const char *const *items, size_t n)
{
    const char **copy = ts_arena_alloc(&dir->arena, (n + 1) * sizeof(*copy));
    FUZZ_ASSERT(copy != NULL);
    for (size_t i = 0; i < n; ++i)
        FUZZ_ASSERT((copy[i] = ts_arena_strdup(&dir->arena, items[i])) != NULL);
    return (ts_strs_t){copy, n};
}
#define STRS(...) strs((const char *[]){__VA_ARGS__}, sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *))

static ts_client_t *add_client(const char *id, ts_auth_method_t method, int require_pkce)
{
    ts_client_t *c = ts_arena_alloc(&dir->arena, sizeof(*c));

    FUZZ_ASSERT(c != NULL);
    c->client_id = ts_arena_strdup(&dir->arena, id);
    c->auth_method = method;
    c->grant_types = TS_GRANT_AUTHORIZATION_CODE | TS_GRANT_REFRESH_TOKEN;
    c->require_pkce = require_pkce;
    c->active = 1;
    c->scopes = STRS("openid", "profile", "email", "api:read");
    c->default_scopes = STRS("api:read");
    c->redirect_uris = STRS("https://app.example.com/cb", "http://127.0.0.1/cb", "http://[::1]:8080/cb?x=1", "http://localhost/",
                            "com.example.app:/oauth");
    FUZZ_ASSERT(ts_strmap_put(&dir->clients, c->client_id, strlen(c->client_id), c) == 0);
    return c;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    ts_client_t *c;

    FUZZ_ASSERT((dir = ts_directory_create()) != NULL);
    add_client("public", TS_AUTH_NONE, 1);
    c = add_client("conf", TS_AUTH_CLIENT_SECRET_BASIC, 0);
    c->redirect_uris = STRS("https://rp.example.com/cb");
    c->default_scopes = STRS("openid", "profile");
    c = add_client("single", TS_AUTH_CLIENT_SECRET_POST, 1);
    c->redirect_uris = STRS("http://localhost:3000/");
    c = add_client("machine", TS_AUTH_CLIENT_SECRET_BASIC, 1);
    c->grant_types = TS_GRANT_CLIENT_CREDENTIALS;
    c = add_client("disabled", TS_AUTH_NONE, 1);
    c->active = 0;
    add_client("public-no-pkce", TS_AUTH_NONE, 0);
    return 0;
}

/* s with ":port" after an http loopback host removed (port: the digits that follow); *port_len is the number
 * of those digits, or -1 when there was no ':'. NULL when s is not an http loopback URI. malloc'd. */
static char *without_loopback_port(const char *s, int *port_len, long *port)
{
    static const char *const hosts[] = {"http://127.0.0.1", "http://[::1]", "http://localhost"};
    char *out;

    for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); ++i) {
        size_t h = strlen(hosts[i]), digits;
        if (strncmp(s, hosts[i], h) != 0)
            continue;
        if (s[h] != ':' && s[h] != '/' && s[h] != '?' && s[h] != '#' && s[h] != '\0')
            return NULL;
        digits = s[h] == ':' ? strspn(s + h + 1, "0123456789") : 0;
        *port_len = s[h] == ':' ? (int)digits : -1;
        *port = digits > 0 && digits < 10 ? strtol(s + h + 1, NULL, 10) : -1;
        FUZZ_ASSERT((out = malloc(strlen(s) + 1)) != NULL);
        memcpy(out, s, h);
        strcpy(out + h, s + h + (s[h] == ':' ? 1 + digits : 0));
        return out;
    }
    return NULL;
}

/* a match that is not byte-for-byte equal is the registered http loopback URI with another, valid port */
static void check_match(const ts_client_t *client, const char *uri)
{
    const char *reg = ts_redirect_uri_match(&client->redirect_uris, uri);
    char *a, *b;
    int a_len, b_len;
    long a_port, b_port;

    if (reg == NULL || strcmp(reg, uri) == 0)
        return;
    FUZZ_ASSERT(strchr(uri, '@') == NULL && strchr(uri, '#') == NULL && strchr(uri, '\\') == NULL);
    FUZZ_ASSERT((a = without_loopback_port(uri, &a_len, &a_port)) != NULL &&
                (b = without_loopback_port(reg, &b_len, &b_port)) != NULL);
    FUZZ_ASSERT(strcmp(a, b) == 0);
    FUZZ_ASSERT(a_len == -1 || (a_len >= 1 && a_len <= 5 && a_port >= 1 && a_port <= 65535));
    free(a);
    free(b);
}

static void check_tokens_allowed(const char *scope, const ts_strs_t *allowed)
{
    char tok[TS_SCOPE_MAX];

    for (const char *p = scope; *p != '\0';) {
        size_t n = strcspn(p, " ");
        FUZZ_ASSERT(n > 0 && n < sizeof(tok));
        memcpy(tok, p, n);
        tok[n] = '\0';
        FUZZ_ASSERT(ts_strs_contains(allowed, tok));
        p += n;
        p += *p == ' ';
    }
}

static void check_accepted(const ts_authz_params_t *in, const ts_authz_request_t *out)
{
    const ts_client_t *c = out->client;

    FUZZ_ASSERT(c != NULL && c == ts_directory_client(dir, in->client_id) && c->active);
    FUZZ_ASSERT((c->grant_types & TS_GRANT_AUTHORIZATION_CODE) != 0);
    FUZZ_ASSERT(out->redirect_uri != NULL && ts_redirect_uri_match(&c->redirect_uris, out->redirect_uri) != NULL);
    if (in->redirect_uri != NULL && *in->redirect_uri != '\0')
        FUZZ_ASSERT(out->redirect_uri == in->redirect_uri);
    else
        FUZZ_ASSERT(c->redirect_uris.len == 1 && out->redirect_uri == c->redirect_uris.items[0] && !out->openid);
    FUZZ_ASSERT(strcmp(in->response_type, "code") == 0);
    FUZZ_ASSERT(in->request == NULL || *in->request == '\0');
    FUZZ_ASSERT(in->request_uri == NULL || *in->request_uri == '\0');
    if (out->code_challenge != NULL) {
        FUZZ_ASSERT(out->code_challenge == in->code_challenge && strcmp(in->code_challenge_method, "S256") == 0);
        FUZZ_ASSERT(ts_pkce_challenge_valid(out->code_challenge, strlen(out->code_challenge)));
    } else {
        FUZZ_ASSERT(!c->require_pkce && c->auth_method != TS_AUTH_NONE && out->openid && out->nonce != NULL && *out->nonce != '\0');
    }
    FUZZ_ASSERT(strlen(out->scope) < TS_SCOPE_MAX);
    check_tokens_allowed(out->scope, &c->scopes);
    if (in->scope != NULL && *in->scope != '\0')
        FUZZ_ASSERT(ts_scope_subset(out->scope, in->scope) && ts_scope_subset(in->scope, out->scope));
    else
        check_tokens_allowed(out->scope, &c->default_scopes);
    FUZZ_ASSERT(out->openid == ts_scope_subset("openid", out->scope));
    FUZZ_ASSERT((out->prompt & ~15u) == 0 && ((out->prompt & TS_PROMPT_NONE) == 0 || out->prompt == TS_PROMPT_NONE));
    FUZZ_ASSERT(out->max_age >= -1 && out->max_age <= 9999999999LL);
    FUZZ_ASSERT((out->max_age == -1) == (in->max_age == NULL || *in->max_age == '\0'));
    FUZZ_ASSERT(out->state == NULL || strlen(out->state) <= TS_STATE_MAX);
    FUZZ_ASSERT(out->nonce == NULL || strlen(out->nonce) <= TS_STATE_MAX);
    FUZZ_ASSERT(out->login_hint == NULL || strlen(out->login_hint) <= TS_STATE_MAX);
    FUZZ_ASSERT(out->ui_locales == NULL || strlen(out->ui_locales) <= TS_STATE_MAX);
    FUZZ_ASSERT(out->acr_values == NULL || strlen(out->acr_values) <= TS_STATE_MAX);
    FUZZ_ASSERT(out->num_resources == in->num_resources && out->num_resources <= TS_RESOURCES_MAX);
    for (size_t i = 0; i < out->num_resources; ++i)
        FUZZ_ASSERT(out->resources[i] == in->resources[i] && strchr(out->resources[i], '#') == NULL);
    /* a JSON string can carry the nonce into the ID token */
    if (out->nonce != NULL) {
        json_t *j = json_string(out->nonce);
        FUZZ_ASSERT(j != NULL);
        json_decref(j);
    }
}

static void check_refused(ts_err_t err, const ts_authz_request_t *out, const ts_authz_error_t *e)
{
    FUZZ_ASSERT(err > TS_OK && err < TS_ERR__COUNT && e->err == err && e->why != NULL && *e->why != '\0');
    FUZZ_ASSERT(e->redirect == 0 || e->redirect == 1);
    if (e->redirect) {
        FUZZ_ASSERT(out->client != NULL && out->client->active);
        FUZZ_ASSERT(out->redirect_uri != NULL && ts_redirect_uri_match(&out->client->redirect_uris, out->redirect_uri) != NULL);
        FUZZ_ASSERT(out->state == NULL || strlen(out->state) <= TS_STATE_MAX);
    } else {
        FUZZ_ASSERT(err == TS_ERR_INVALID_REQUEST);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *lines[MAX_LINES] = {0};
    const char *field[FIELDS] = {0};
    size_t n = 0;
    ts_authz_params_t in = {0};
    ts_authz_request_t out;
    ts_authz_error_t e;
    ts_err_t err;

    /* each line its own exactly sized allocation, so that ASan sees a read past any of them */
    for (size_t pos = 0; size != 0 && pos <= size && n < MAX_LINES;) {
        const uint8_t *nl = memchr(data + pos, '\n', size - pos);
        size_t len = nl != NULL ? (size_t)(nl - (data + pos)) : size - pos;
        lines[n++] = fuzz_cstr(data + pos, len);
        pos += len + 1;
        if (nl == NULL)
            break;
    }
    for (size_t i = 0; i < FIELDS && i < n; ++i)
        field[i] = strcmp(lines[i], "~") == 0 ? NULL : lines[i];
    in = (ts_authz_params_t){.client_id = field[F_CLIENT_ID],
                             .redirect_uri = field[F_REDIRECT_URI],
                             .response_type = field[F_RESPONSE_TYPE],
                             .response_mode = field[F_RESPONSE_MODE],
                             .scope = field[F_SCOPE],
                             .state = field[F_STATE],
                             .nonce = field[F_NONCE],
                             .code_challenge = field[F_CODE_CHALLENGE],
                             .code_challenge_method = field[F_CODE_CHALLENGE_METHOD],
                             .prompt = field[F_PROMPT],
                             .max_age = field[F_MAX_AGE],
                             .login_hint = field[F_LOGIN_HINT],
                             .ui_locales = field[F_UI_LOCALES],
                             .acr_values = field[F_ACR_VALUES],
                             .display = field[F_DISPLAY],
                             .id_token_hint = field[F_ID_TOKEN_HINT],
                             .request = field[F_REQUEST],
                             .request_uri = field[F_REQUEST_URI]};
    for (size_t i = FIELDS; i < n && in.num_resources < TS_RESOURCES_MAX + 1; ++i)
        in.resources[in.num_resources++] = lines[i];

    memset(&out, 0x5a, sizeof(out));
    memset(&e, 0x5a, sizeof(e));
    err = ts_oauth_authorize_check(dir, "https://api.example.com", &in, &out, &e);
    if (err == TS_OK)
        check_accepted(&in, &out);
    else
        check_refused(err, &out, &e);
    if (in.redirect_uri != NULL) {
        static const char *const ids[] = {"public", "conf", "single"};
        for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); ++i)
            check_match(ts_directory_client(dir, ids[i]), in.redirect_uri);
    }
    for (size_t i = 0; i < n; ++i)
        free(lines[i]);
    return 0;
}
