/* src/oauth/authorize.c: the authorization request's checks (RFC 6749 §4.1.1, OpenID Connect Core §3.1.2.1,
 * RFC 7636, RFC 8707), their order, and which errors may be redirected. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "tessera/oauth_browser.h"

#define CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
#define APP_CB "https://app.example.com/cb"
#define RP_CB "https://rp.example.com/cb"

static ts_directory_t *dir;
static ts_authz_request_t out;
static ts_authz_error_t e;

/* ---- building the directory by hand ---------------------------------------------------------------- */

static ts_strs_t strs(const char **items, size_t n)
{
    const char **copy = ts_arena_alloc(&dir->arena, (n + 1) * sizeof(*copy));
    assert_non_null(copy);
    for (size_t i = 0; i < n; ++i)
        copy[i] = ts_arena_strdup(&dir->arena, items[i]);
    return (ts_strs_t){copy, n};
}
#define STRS(...) strs((const char *[]){__VA_ARGS__}, sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *))

static ts_client_t *add_client(const char *id, ts_auth_method_t method, int require_pkce)
{
    ts_client_t *c = ts_arena_alloc(&dir->arena, sizeof(*c));
    assert_non_null(c);
    c->client_id = ts_arena_strdup(&dir->arena, id);
    c->auth_method = method;
    c->grant_types = TS_GRANT_AUTHORIZATION_CODE | TS_GRANT_REFRESH_TOKEN;
    c->require_pkce = require_pkce;
    c->active = 1;
    c->scopes = STRS("openid", "profile", "email", "api:read");
    c->default_scopes = STRS("api:read");
    c->redirect_uris = STRS(APP_CB, "http://127.0.0.1/cb");
    assert_int_equal(ts_strmap_put(&dir->clients, c->client_id, strlen(c->client_id), c), 0);
    return c;
}

static int setup(void **state)
{
    ts_client_t *c;

    if ((dir = ts_directory_create()) == NULL)
        return -1;
    /* a native or browser app: PKCE */
    add_client("public", TS_AUTH_NONE, 1);
    /* a confidential OpenID client that may use the nonce instead of PKCE */
    c = add_client("conf", TS_AUTH_CLIENT_SECRET_BASIC, 0);
    c->redirect_uris = STRS(RP_CB);
    c->default_scopes = STRS("openid", "profile");
    /* one redirect URI, no openid by default: may leave redirect_uri out of a plain OAuth request */
    c = add_client("single", TS_AUTH_CLIENT_SECRET_BASIC, 1);
    c->redirect_uris = STRS(RP_CB);
    c = add_client("no-redirect", TS_AUTH_CLIENT_SECRET_BASIC, 1);
    c->redirect_uris = (ts_strs_t){NULL, 0};
    c = add_client("machine", TS_AUTH_CLIENT_SECRET_BASIC, 1);
    c->grant_types = TS_GRANT_CLIENT_CREDENTIALS;
    c = add_client("disabled", TS_AUTH_NONE, 1);
    c->active = 0;
    /* registration refuses this row; should one reach the directory, PKCE is still required */
    add_client("public-no-pkce", TS_AUTH_NONE, 0);
    return 0;
}

static int teardown(void **state)
{
    ts_ref_release(&dir->super);
    return 0;
}

/* a request from the public client that passes every check */
static ts_authz_params_t pkce_request(void)
{
    return (ts_authz_params_t){.client_id = "public",
                               .redirect_uri = APP_CB,
                               .response_type = "code",
                               .scope = "openid profile",
                               .state = "xyz",
                               .code_challenge = CHALLENGE,
                               .code_challenge_method = "S256"};
}

/* a request from the confidential client without PKCE, protected by its nonce */
static ts_authz_params_t nonce_request(void)
{
    return (ts_authz_params_t){.client_id = "conf",
                               .redirect_uri = RP_CB,
                               .response_type = "code",
                               .scope = "openid email",
                               .state = "abc",
                               .nonce = "n-0S6_WzA2Mj"};
}

static ts_err_t check(const ts_authz_params_t *in)
{
    memset(&out, 0x5a, sizeof(out));
    memset(&e, 0x5a, sizeof(e));
    return ts_oauth_authorize_check(dir, "https://api.example.com", in, &out, &e);
}

#define ACCEPTS(in)                                                                                                                \
    do {                                                                                                                           \
        ts_err_t err_ = check(in);                                                                                                 \
        if (err_ != TS_OK)                                                                                                         \
            fail_msg("refused (err %d): %s", err_, e.why != NULL ? e.why : "(no reason)");                                         \
    } while (0)

/* the error, whether it may be redirected, and the reason; a redirected error has its redirect URI */
static void refuses_(int line, const ts_authz_params_t *in, ts_err_t want, int redirect, const char *why_part)
{
    ts_err_t err = check(in);
    if (err != want || e.err != want || e.redirect != redirect || e.why == NULL || strstr(e.why, why_part) == NULL)
        fail_msg("line %d: err %d/%d redirect %d why '%s'; expected err %d redirect %d why containing '%s'", line, err, e.err,
                 e.redirect, e.why != NULL ? e.why : "(null)", want, redirect, why_part);
    if (redirect && (out.redirect_uri == NULL || ts_redirect_uri_match(&out.client->redirect_uris, out.redirect_uri) == NULL))
        fail_msg("line %d: a redirected error without a registered redirect URI", line);
}
#define REFUSES(in, want, redirect, why_part) refuses_(__LINE__, in, want, redirect, why_part)

/* ---- happy paths ------------------------------------------------------------------------------------ */

static void pkce_request_from_a_public_client_is_accepted(void **state)
{
    ts_authz_params_t in = pkce_request();
    ACCEPTS(&in);
    assert_string_equal(out.client->client_id, "public");
    assert_ptr_equal(out.redirect_uri, in.redirect_uri);
    assert_string_equal(out.state, "xyz");
    assert_string_equal(out.scope, "openid profile");
    assert_true(out.openid);
    assert_string_equal(out.code_challenge, CHALLENGE);
    assert_null(out.nonce);
    assert_int_equal(out.prompt, 0);
    assert_int_equal(out.max_age, -1);
    assert_null(out.login_hint);
    assert_null(out.ui_locales);
    assert_null(out.acr_values);
    assert_int_equal(out.num_resources, 0);
}

static void nonce_request_from_a_confidential_client_without_pkce_is_accepted(void **state)
{
    ts_authz_params_t in = nonce_request();
    in.prompt = "login consent";
    in.max_age = "3600";
    in.login_hint = "alice";
    in.ui_locales = "fr-CA fr en";
    in.acr_values = "urn:mace:incommon:iap:silver";
    in.display = "popup";
    in.id_token_hint = "eyJ...";
    ACCEPTS(&in);
    assert_string_equal(out.client->client_id, "conf");
    assert_string_equal(out.redirect_uri, RP_CB);
    assert_string_equal(out.scope, "openid email");
    assert_true(out.openid);
    assert_null(out.code_challenge);
    assert_string_equal(out.nonce, "n-0S6_WzA2Mj");
    assert_int_equal(out.prompt, TS_PROMPT_LOGIN | TS_PROMPT_CONSENT);
    assert_int_equal(out.max_age, 3600);
    assert_string_equal(out.login_hint, "alice");
    assert_string_equal(out.ui_locales, "fr-CA fr en");
    assert_string_equal(out.acr_values, "urn:mace:incommon:iap:silver");
}

static void confidential_client_may_also_use_pkce(void **state)
{
    ts_authz_params_t in = nonce_request();
    in.nonce = NULL;
    in.scope = "profile";
    in.code_challenge = CHALLENGE;
    in.code_challenge_method = "S256";
    ACCEPTS(&in);
    assert_false(out.openid);
    assert_string_equal(out.code_challenge, CHALLENGE);
}

static void loopback_redirect_keeps_the_port_that_was_sent(void **state)
{
    ts_authz_params_t in = pkce_request();
    in.redirect_uri = "http://127.0.0.1:53211/cb";
    ACCEPTS(&in);
    assert_string_equal(out.redirect_uri, "http://127.0.0.1:53211/cb");
}

static void absent_scope_gets_the_defaults(void **state)
{
    ts_authz_params_t in = pkce_request();
    in.scope = NULL;
    ACCEPTS(&in);
    assert_string_equal(out.scope, "api:read");
    assert_false(out.openid);
    in = nonce_request();
    in.scope = NULL;
    ACCEPTS(&in);
    assert_string_equal(out.scope, "openid profile");
    assert_true(out.openid);
}

/* RFC 6749 §3.1: a parameter without a value is treated as omitted */
static void empty_parameters_count_as_absent(void **state)
{
    ts_authz_params_t in = pkce_request();
    in.response_mode = "";
    in.request = "";
    in.request_uri = "";
    in.prompt = "";
    in.max_age = "";
    in.state = "";
    in.nonce = "";
    in.login_hint = "";
    ACCEPTS(&in);
    assert_null(out.state);
    assert_null(out.nonce);
    assert_null(out.login_hint);
    assert_int_equal(out.prompt, 0);
    assert_int_equal(out.max_age, -1);
    in = pkce_request();
    in.code_challenge = "";
    in.code_challenge_method = "";
    REFUSES(&in, TS_ERR_INVALID_REQUEST, 1, "code_challenge is required");
}

/* ---- client and redirect URI: never redirected -------------------------------------------------------- */

static void unknown_missing_or_disabled_client_shows_the_error_page(void **state)
{
    static const char *ids[] = {NULL, "", "nobody", "disabled", "PUBLIC", "public "};
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); ++i) {
        ts_authz_params_t in = pkce_request();
        in.client_id = ids[i];
        REFUSES(&in, TS_ERR_INVALID_REQUEST, 0, "unknown client");
    }
}

static void unregistered_redirect_uri_shows_the_error_page(void **state)
{
    static const char *uris[] = {RP_CB, /* another client's */
                                 APP_CB "/", "https://app.example.com/cb?x=1", "https://app.example.com/cb#f",
                                 "https://evil.example.com/cb", "http://127.0.0.1@evil.example.com/cb", "https://127.0.0.1:5000/cb"};
    for (size_t i = 0; i < sizeof(uris) / sizeof(uris[0]); ++i) {
        ts_authz_params_t in = pkce_request();
        in.redirect_uri = uris[i];
        REFUSES(&in, TS_ERR_INVALID_REQUEST, 0, "redirect_uri is not registered");
    }
    ts_authz_params_t in = pkce_request();
    in.client_id = "no-redirect";
    REFUSES(&in, TS_ERR_INVALID_REQUEST, 0, "redirect_uri is not registered");
}

static void missing_redirect_uri_is_allowed_only_with_one_registered_and_without_openid(void **state)
{
    ts_authz_params_t in = pkce_request();
    in.client_id = "single";
    in.redirect_uri = NULL;
    in.scope = "api:read";
    ACCEPTS(&in);
    assert_string_equal(out.redirect_uri, RP_CB);
    /* OpenID Connect Core §3.1.2.1: redirect_uri is required */
    in.scope = "api:read openid";
    REFUSES(&in, TS_ERR_INVALID_REQUEST, 0, "redirect_uri is required");
    in.redirect_uri = "";
    REFUSES(&in, TS_ERR_INVALID_REQUEST, 0, "redirect_uri is required");
    /* two registered: which one is meant? */
    in = pkce_request();
    in.redirect_uri = NULL;
    in.scope = "api:read";
    REFUSES(&in, TS_ERR_INVALID_REQUEST, 0, "redirect_uri is required");
    /* none registered */
    in.client_id = "no-redirect";
    REFUSES(&in, TS_ERR_INVALID_REQUEST, 0, "redirect_uri is required");
    /* no scope sent, but the defaults make it an OpenID request */
    in = nonce_request();
    in.redirect_uri = NULL;
    in.scope = NULL;
    REFUSES(&in, TS_ERR_INVALID_REQUEST, 0, "redirect_uri is required");
    /* a malformed scope is the scope check's business, once the redirect URI is known */
    in.scope = "profile  email";
    REFUSES(&in, TS_ERR_INVALID_SCOPE, 1, "malformed scope");
    assert_string_equal(out.redirect_uri, RP_CB);
}

/* ---- redirected errors ------------------------------------------------------------------------------- */

static void request_objects_are_not_supported(void **state)
{
    ts_authz_params_t in = pkce_request();
    in.request = "eyJhbGciOiJub25lIn0.e30.";
    REFUSES(&in, TS_ERR_REQUEST_NOT_SUPPORTED, 1, "request objects");
    assert_string_equal(out.state, "xyz");
    in.request = NULL;
    in.request_uri = "urn:ietf:params:oauth:request_uri:abc";
    REFUSES(&in, TS_ERR_REQUEST_URI_NOT_SUPPORTED, 1, "request_uri");
}

static void response_type_must_be_code(void **state)
{
    ts_authz_params_t in = pkce_request();
    in.response_type = NULL;
    REFUSES(&in, TS_ERR_INVALID_REQUEST, 1, "response_type is required");
    static const char *types[] = {"token", "id_token", "code id_token", "code token", "CODE", "code ", "none"};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); ++i) {
        in.response_type = types[i];
        REFUSES(&in, TS_ERR_UNSUPPORTED_RESPONSE_TYPE, 1, "response_type code");
    }
}

static void response_mode_must_be_query(void **state)
{
    ts_authz_params_t in = pkce_request();
    in.response_mode = "query";
    ACCEPTS(&in);
    static const char *modes[] = {"fragment", "form_post", "query.jwt", "jwt", "QUERY"};
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); ++i) {
        in.response_mode = modes[i];
        REFUSES(&in, TS_ERR_INVALID_REQUEST, 1, "response_mode");
    }
}

static void client_needs_the_authorization_code_grant(void **state)
{
    ts_authz_params_t in = pkce_request();
    in.client_id = "machine";
    REFUSES(&in, TS_ERR_UNAUTHORIZED_CLIENT, 1, "authorization code grant");
}

static void scope_must_be_allowed_and_well_formed(void **state)
{
    ts_authz_params_t in = pkce_request();
    in.scope = "openid admin";
    REFUSES(&in, TS_ERR_INVALID_SCOPE, 1, "may not request");
    in.scope = "openid ";
    REFUSES(&in, TS_ERR_INVALID_SCOPE, 1, "malformed");
    in.scope = "openid \"x\"";
    REFUSES(&in, TS_ERR_INVALID_SCOPE, 1, "malformed");
}

static void pkce_method_must_be_s256_with_a_challenge(void **state)
{
    ts_authz_params_t in = pkce_request();
    in.code_challenge = NULL;
    REFUSES(&in, TS_ERR_INVALID_REQUEST, 1, "code_challenge_method without code_challenge");
    in = pkce_request();
    in.code_challenge_method = "plain";
    REFUSES(&in, TS_ERR_INVALID_REQUEST, 1, "only S256 is supported");
    in.code_challenge_method = "s256";
    REFUSES(&in, TS_ERR_INVALID_REQUEST, 1, "only S256 is supported");
    in.code_challenge_method = "S512";
    REFUSES(&in, TS_ERR_INVALID_REQUEST, 1, "only S256 is supported");
    /* RFC 7636 §4.3: no method means plain */
    in.code_challenge_method = NULL;
    REFUSES(&in, TS_ERR_INVALID_REQUEST, 1, "code_challenge_method S256 is required");
    /* even for a client that does not need PKCE: a challenge it sends is checked */
    in = nonce_request();
    in.code_challenge = CHALLENGE;
    in.code_challenge_method = "plain";
    REFUSES(&in, TS_ERR_INVALID_REQUEST, 1, "only S256 is supported");
}

static void pkce_challenge_must_be_well_formed(void **state)
{
    static const char *bad[] = {"short", CHALLENGE "A", CHALLENGE "=", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw/cM",
                                /* a verifier-length plain value */
                                "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk.", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        ts_authz_params_t in = pkce_request();
        in.code_challenge = bad[i];
        REFUSES(&in, TS_ERR_INVALID_REQUEST, 1, "malformed code_challenge");
    }
}

static void pkce_is_required_unless_the_client_opted_out(void **state)
{
    ts_authz_params_t in = pkce_request();
    in.code_challenge = NULL;
    in.code_challenge_method = NULL;
    in.nonce = "n";
    REFUSES(&in, TS_ERR_INVALID_REQUEST, 1, "code_challenge is required");
    in.client_id = "single";
    in.redirect_uri = RP_CB;
    REFUSES(&in, TS_ERR_INVALID_REQUEST, 1, "code_challenge is required");
    /* a public client always needs it (RFC 9700 §2.1.1), whatever the directory says */
    in.client_id = "public-no-pkce";
    in.redirect_uri = APP_CB;
    REFUSES(&in, TS_ERR_INVALID_REQUEST, 1, "code_challenge is required");
}

static void without_pkce_an_openid_request_with_a_nonce_is_required(void **state)
{
    ts_authz_params_t in = nonce_request();
    in.nonce = NULL;
    REFUSES(&in, TS_ERR_INVALID_REQUEST, 1, "nonce is required");
    in.nonce = "";
    REFUSES(&in, TS_ERR_INVALID_REQUEST, 1, "nonce is required");
    /* no openid: a nonce protects nothing, since no ID token will carry it */
    in.nonce = "n";
    in.scope = "profile";
    REFUSES(&in, TS_ERR_INVALID_REQUEST, 1, "code_challenge is required");
}

static void prompt_values_are_known_and_none_stands_alone(void **state)
{
    static const struct {
        const char *prompt;
        unsigned bits;
    } ok[] = {{"none", TS_PROMPT_NONE},
              {"login", TS_PROMPT_LOGIN},
              {"consent", TS_PROMPT_CONSENT},
              {"select_account", TS_PROMPT_SELECT_ACCOUNT},
              {"consent login", TS_PROMPT_LOGIN | TS_PROMPT_CONSENT},
              {"login login", TS_PROMPT_LOGIN},
              {"select_account consent login", TS_PROMPT_LOGIN | TS_PROMPT_CONSENT | TS_PROMPT_SELECT_ACCOUNT}};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); ++i) {
        ts_authz_params_t in = pkce_request();
        in.prompt = ok[i].prompt;
        ACCEPTS(&in);
        assert_int_equal(out.prompt, ok[i].bits);
    }
    static const char *unknown[] = {"None", "create", "login x", "nonelogin", "login\tconsent", "login,consent"};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); ++i) {
        ts_authz_params_t in = pkce_request();
        in.prompt = unknown[i];
        REFUSES(&in, TS_ERR_INVALID_REQUEST, 1, "unknown prompt value");
    }
    static const char *malformed[] = {" login", "login ", "login  consent", " "};
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); ++i) {
        ts_authz_params_t in = pkce_request();
        in.prompt = malformed[i];
        REFUSES(&in, TS_ERR_INVALID_REQUEST, 1, "malformed prompt");
    }
    static const char *combined[] = {"none login", "consent none", "none none login", "select_account none"};
    for (size_t i = 0; i < sizeof(combined) / sizeof(combined[0]); ++i) {
        ts_authz_params_t in = pkce_request();
        in.prompt = combined[i];
        REFUSES(&in, TS_ERR_INVALID_REQUEST, 1, "prompt none cannot be combined");
    }
}

static void max_age_is_a_non_negative_integer_of_at_most_ten_digits(void **state)
{
    static const struct {
        const char *text;
        int64_t value;
    } ok[] = {{"0", 0}, {"1", 1}, {"10000", 10000}, {"0000000001", 1}, {"9999999999", 9999999999LL}};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); ++i) {
        ts_authz_params_t in = pkce_request();
        in.max_age = ok[i].text;
        ACCEPTS(&in);
        assert_int_equal(out.max_age, ok[i].value);
    }
    static const char *bad[] = {"-1", "+1", "1.5", "1e3", " 1", "1 ", "abc", "0x10", "12345678901", "99999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        ts_authz_params_t in = pkce_request();
        in.max_age = bad[i];
        REFUSES(&in, TS_ERR_INVALID_REQUEST, 1, "max_age");
    }
}

/* a string of n copies of c, malloc'd */
static char *filled(size_t n, char c)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static void long_or_malformed_texts_are_refused(void **state)
{
    char *at_limit = filled(TS_STATE_MAX, 's'), *over = filled(TS_STATE_MAX + 1, 's');
    static const char *fields[] = {"state", "nonce", "login_hint", "ui_locales", "acr_values"};
    static const char *malformed[] = {"a\001b", "a\nb", "\xff", "caf\xc3", "\xc0\xaf"};

    for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); ++f) {
        ts_authz_params_t in = pkce_request();
        const char **all[] = {&in.state, &in.nonce, &in.login_hint, &in.ui_locales, &in.acr_values}, **field = all[f];
        char why[64];
        snprintf(why, sizeof(why), "%s too long", fields[f]);
        *field = at_limit;
        ACCEPTS(&in);
        *field = over;
        REFUSES(&in, TS_ERR_INVALID_REQUEST, 1, why);
        for (size_t m = 0; m < sizeof(malformed) / sizeof(malformed[0]); ++m) {
            *field = malformed[m];
            REFUSES(&in, TS_ERR_INVALID_REQUEST, 1, why);
        }
        /* UTF-8 is fine */
        *field = "caf\xc3\xa9 \xe2\x9c\x93";
        ACCEPTS(&in);
    }
    free(at_limit);
    free(over);
}

static void refused_state_is_not_echoed(void **state)
{
    char *over = filled(TS_STATE_MAX + 1, 's');
    ts_authz_params_t in = pkce_request();
    in.state = over;
    REFUSES(&in, TS_ERR_INVALID_REQUEST, 1, "state too long");
    assert_null(out.state);
    /* nor with an earlier error */
    in.response_type = "token";
    REFUSES(&in, TS_ERR_UNSUPPORTED_RESPONSE_TYPE, 1, "response_type");
    assert_null(out.state);
    in.state = "ok";
    REFUSES(&in, TS_ERR_UNSUPPORTED_RESPONSE_TYPE, 1, "response_type");
    assert_string_equal(out.state, "ok");
    free(over);
}

static void resources_are_absolute_uris_and_at_most_eight(void **state)
{
    ts_authz_params_t in = pkce_request();
    for (size_t i = 0; i < TS_RESOURCES_MAX; ++i)
        in.resources[i] = i % 2 == 0 ? "https://api.example.com" : "urn:example:other";
    in.num_resources = TS_RESOURCES_MAX;
    ACCEPTS(&in);
    assert_int_equal(out.num_resources, TS_RESOURCES_MAX);
    for (size_t i = 0; i < TS_RESOURCES_MAX; ++i)
        assert_ptr_equal(out.resources[i], in.resources[i]);
    in.resources[TS_RESOURCES_MAX] = "https://api3.example.com";
    in.num_resources = TS_RESOURCES_MAX + 1;
    REFUSES(&in, TS_ERR_INVALID_TARGET, 1, "too many resource");
    /* more than the caller can hold is still too many, and is not read */
    in.num_resources = 1000;
    REFUSES(&in, TS_ERR_INVALID_TARGET, 1, "too many resource");
    static const char *bad[] = {"/relative", "api.example.com", "https://api.example.com/#frag", "", "https://a b"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        in = pkce_request();
        in.resources[0] = "https://api.example.com";
        in.resources[1] = bad[i];
        in.num_resources = 2;
        REFUSES(&in, TS_ERR_INVALID_TARGET, 1, "absolute URI");
    }
    in.resources[1] = NULL;
    REFUSES(&in, TS_ERR_INVALID_TARGET, 1, "absolute URI");
}

/* with every check failing, fixing them one at a time shows the errors in the documented order */
static void errors_come_in_the_documented_order(void **state)
{
    char *long_state = filled(TS_STATE_MAX + 1, 's');
    ts_authz_params_t in = {.client_id = "nobody",
                            .redirect_uri = "https://evil.example.com/",
                            .request = "x",
                            .request_uri = "x",
                            .response_type = "token",
                            .response_mode = "fragment",
                            .scope = "admin",
                            .code_challenge_method = "plain",
                            .prompt = "none login",
                            .max_age = "-1",
                            .state = long_state,
                            .resources = {"relative"},
                            .num_resources = 1};

    REFUSES(&in, TS_ERR_INVALID_REQUEST, 0, "unknown client");
    in.client_id = "machine";
    REFUSES(&in, TS_ERR_INVALID_REQUEST, 0, "redirect_uri is not registered");
    in.redirect_uri = APP_CB;
    REFUSES(&in, TS_ERR_REQUEST_NOT_SUPPORTED, 1, "request objects");
    in.request = NULL;
    REFUSES(&in, TS_ERR_REQUEST_URI_NOT_SUPPORTED, 1, "request_uri");
    in.request_uri = NULL;
    REFUSES(&in, TS_ERR_UNSUPPORTED_RESPONSE_TYPE, 1, "response_type");
    in.response_type = "code";
    REFUSES(&in, TS_ERR_INVALID_REQUEST, 1, "response_mode");
    in.response_mode = NULL;
    REFUSES(&in, TS_ERR_UNAUTHORIZED_CLIENT, 1, "grant");
    in.client_id = "conf";
    in.redirect_uri = RP_CB;
    REFUSES(&in, TS_ERR_INVALID_SCOPE, 1, "may not request");
    in.scope = "openid";
    REFUSES(&in, TS_ERR_INVALID_REQUEST, 1, "code_challenge_method without code_challenge");
    in.code_challenge_method = NULL;
    REFUSES(&in, TS_ERR_INVALID_REQUEST, 1, "nonce is required");
    in.nonce = "n";
    REFUSES(&in, TS_ERR_INVALID_REQUEST, 1, "prompt none cannot be combined");
    in.prompt = "none";
    REFUSES(&in, TS_ERR_INVALID_REQUEST, 1, "max_age");
    in.max_age = "0";
    REFUSES(&in, TS_ERR_INVALID_REQUEST, 1, "state too long");
    in.state = "s";
    REFUSES(&in, TS_ERR_INVALID_TARGET, 1, "absolute URI");
    in.resources[0] = "https://api.example.com";
    ACCEPTS(&in);
    assert_int_equal(out.prompt, TS_PROMPT_NONE);
    assert_int_equal(out.max_age, 0);
    free(long_state);
}

static void reasons_do_not_echo_the_request(void **state)
{
    ts_authz_params_t in = pkce_request();
    in.scope = "openid <script>";
    check(&in);
    assert_null(strstr(e.why, "<script>"));
    in = pkce_request();
    in.prompt = "<script>";
    check(&in);
    assert_null(strstr(e.why, "<script>"));
    in = pkce_request();
    in.client_id = "<script>";
    check(&in);
    assert_null(strstr(e.why, "<script>"));
}

/* ---- ts_scope_subset -------------------------------------------------------------------------------- */

static void scope_subset_compares_whole_tokens(void **state)
{
    assert_true(ts_scope_subset("openid", "openid profile"));
    assert_true(ts_scope_subset("profile openid", "openid profile"));
    assert_true(ts_scope_subset("openid openid", "openid"));
    assert_true(ts_scope_subset("", "openid"));
    assert_true(ts_scope_subset(NULL, "openid"));
    assert_true(ts_scope_subset("", ""));
    assert_false(ts_scope_subset("email", "openid profile"));
    assert_false(ts_scope_subset("open", "openid"));
    assert_false(ts_scope_subset("openid", "open"));
    assert_false(ts_scope_subset("openidx", "openid"));
    assert_false(ts_scope_subset("openid profile", "openid"));
    assert_false(ts_scope_subset("openid", ""));
    assert_false(ts_scope_subset("openid", NULL));
    assert_false(ts_scope_subset("api", "api:read"));
    assert_false(ts_scope_subset("read", "api:read"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pkce_request_from_a_public_client_is_accepted),
        cmocka_unit_test(nonce_request_from_a_confidential_client_without_pkce_is_accepted),
        cmocka_unit_test(confidential_client_may_also_use_pkce),
        cmocka_unit_test(loopback_redirect_keeps_the_port_that_was_sent),
        cmocka_unit_test(absent_scope_gets_the_defaults),
        cmocka_unit_test(empty_parameters_count_as_absent),
        cmocka_unit_test(unknown_missing_or_disabled_client_shows_the_error_page),
        cmocka_unit_test(unregistered_redirect_uri_shows_the_error_page),
        cmocka_unit_test(missing_redirect_uri_is_allowed_only_with_one_registered_and_without_openid),
        cmocka_unit_test(request_objects_are_not_supported),
        cmocka_unit_test(response_type_must_be_code),
        cmocka_unit_test(response_mode_must_be_query),
        cmocka_unit_test(client_needs_the_authorization_code_grant),
        cmocka_unit_test(scope_must_be_allowed_and_well_formed),
        cmocka_unit_test(pkce_method_must_be_s256_with_a_challenge),
        cmocka_unit_test(pkce_challenge_must_be_well_formed),
        cmocka_unit_test(pkce_is_required_unless_the_client_opted_out),
        cmocka_unit_test(without_pkce_an_openid_request_with_a_nonce_is_required),
        cmocka_unit_test(prompt_values_are_known_and_none_stands_alone),
        cmocka_unit_test(max_age_is_a_non_negative_integer_of_at_most_ten_digits),
        cmocka_unit_test(long_or_malformed_texts_are_refused),
        cmocka_unit_test(refused_state_is_not_echoed),
        cmocka_unit_test(resources_are_absolute_uris_and_at_most_eight),
        cmocka_unit_test(errors_come_in_the_documented_order),
        cmocka_unit_test(reasons_do_not_echo_the_request),
        cmocka_unit_test(scope_subset_compares_whole_tokens),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
