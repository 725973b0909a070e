/* src/oauth/client_metadata.c: what a client registration may contain. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "tessera/crypto.h"
#include "tessera/oauth_metadata.h"

static char err[1024];

#define ACCEPT(call) assert_int_equal((err[0] = '\0', (call)), 0)
/* rejected, with a message that starts with the field name */
#define REJECT(call, field)                                                                                                        \
    do {                                                                                                                           \
        err[0] = '\0';                                                                                                             \
        assert_int_equal((call), -1);                                                                                              \
        if (strncmp(err, field, strlen(field)) != 0)                                                                               \
            fail_msg("message '%s' does not start with '%s'", err, field);                                                         \
    } while (0)

static const char *const code_grants[] = {"authorization_code", "refresh_token"};
static const char *const cc_grant[] = {"client_credentials"};
static const char *const one_uri[] = {"https://app.example.com/cb"};

/* a web client that passes every rule; tests change one thing at a time */
static ts_client_metadata_t web_client(void)
{
    ts_client_metadata_t md = {0};
    md.client_id = "web-app";
    md.client_name = "Web App";
    md.token_endpoint_auth_method = "client_secret_basic";
    md.grant_types = code_grants;
    md.num_grant_types = 2;
    md.redirect_uris = one_uri;
    md.num_redirect_uris = 1;
    md.scope = "openid profile email";
    md.default_scope = "openid";
    md.require_pkce = 1;
    return md;
}

static json_t *jwks_of(ts_jws_alg_t alg)
{
    ts_key_t *key = ts_key_generate(alg);
    json_t *jwks;
    assert_non_null(key);
    jwks = json_pack("{s:[o]}", "keys", ts_key_public_jwk(key));
    ts_key_free(key);
    return jwks;
}

/* ---- client_id ---------------------------------------------------------------------------------- */

static void test_client_id_accepts_the_unreserved_charset(void **state)
{
    char longest[TS_CLIENT_ID_MAX + 1];
    memset(longest, 'a', TS_CLIENT_ID_MAX);
    longest[TS_CLIENT_ID_MAX] = '\0';
    ACCEPT(ts_oauth_check_client_id("Az09._~-", err, sizeof(err)));
    ACCEPT(ts_oauth_check_client_id(longest, err, sizeof(err)));
}

static void test_client_id_rejects_other_characters_and_lengths(void **state)
{
    char toolong[TS_CLIENT_ID_MAX + 2];
    memset(toolong, 'a', TS_CLIENT_ID_MAX + 1);
    toolong[TS_CLIENT_ID_MAX + 1] = '\0';
    REJECT(ts_oauth_check_client_id("", err, sizeof(err)), "client_id");
    REJECT(ts_oauth_check_client_id(NULL, err, sizeof(err)), "client_id");
    REJECT(ts_oauth_check_client_id(toolong, err, sizeof(err)), "client_id");
    REJECT(ts_oauth_check_client_id("a b", err, sizeof(err)), "client_id");
    REJECT(ts_oauth_check_client_id("a/b", err, sizeof(err)), "client_id");
    REJECT(ts_oauth_check_client_id("a:b", err, sizeof(err)), "client_id");
    REJECT(ts_oauth_check_client_id("caf\xc3\xa9", err, sizeof(err)), "client_id");
}

/* ---- redirect URIs ------------------------------------------------------------------------------- */

static void test_redirect_uri_accepts_https_loopback_http_and_private_use(void **state)
{
    static const char *const good[] = {
        "https://app.example.com/cb",
        "https://app.example.com:8443/oauth/callback?x=1&y=%20",
        "https://[2001:db8::1]/cb",
        "HTTPS://App.Example.com/cb",
        "http://127.0.0.1/cb",
        "http://127.0.0.1:51004/cb",
        "http://[::1]:8080/cb",
        "http://localhost:3000/callback",
        "com.example.app:/oauth2redirect/example-provider",
        "com.example.app://callback",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); ++i) {
        err[0] = '\0';
        if (ts_oauth_check_redirect_uri("redirect_uris[0]", good[i], err, sizeof(err)) != 0)
            fail_msg("'%s' rejected: %s", good[i], err);
    }
}

static void test_redirect_uri_rejects_what_exact_matching_forbids(void **state)
{
    static const char *const bad[] = {
        "",
        "/relative/cb",
        "app.example.com/cb",
        "https://app.example.com/cb#fragment",
        "https://app.example.com/cb#",
        "https://*.example.com/cb",
        "https://app.example.com/*",
        "http://app.example.com/cb",
        "http://127.0.0.2/cb",
        "http://localhost.evil.com/cb",
        "https://user:pass@app.example.com/cb",
        "https://user@app.example.com/cb",
        "http://user@127.0.0.1/cb",
        "com.example.app://evil@host/cb",
        "https://app.example.com/c b",
        "https://app.example.com/cb\n",
        "https://app.example.com/cb\t",
        "https://app.example.com/\x7f",
        "https://app.example.com/caf\xc3\xa9",
        "https://app.example.com\\@evil.com/",
        "https:///cb",
        "https://",
        "https:app.example.com/cb",
        "https://app.example.com:0/cb",
        "https://app.example.com:65536/cb",
        "https://app.example.com:/cb",
        "https://app.example.com:80a/cb",
        "https://[::1/cb",
        "https://app.example.com/%zz",
        "https://app.example.com/%4",
        "javascript:alert(1)",
        "data:text/html,hi",
        "file:///etc/passwd",
        "myapp:/cb",
        "com.example.app:",
        "com.example.app:/",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        err[0] = '\0';
        if (ts_oauth_check_redirect_uri("redirect_uris[3]", bad[i], err, sizeof(err)) != -1)
            fail_msg("'%s' accepted", bad[i]);
        if (strncmp(err, "redirect_uris[3]", 16) != 0)
            fail_msg("message '%s' does not name the field", err);
    }
}

static void test_redirect_uri_length_limit(void **state)
{
    char uri[TS_REDIRECT_URI_MAX + 2];
    size_t prefix = strlen("https://a.example/");

    memcpy(uri, "https://a.example/", prefix);
    memset(uri + prefix, 'x', TS_REDIRECT_URI_MAX - prefix);
    uri[TS_REDIRECT_URI_MAX] = '\0';
    ACCEPT(ts_oauth_check_redirect_uri("redirect_uris[0]", uri, err, sizeof(err)));
    uri[TS_REDIRECT_URI_MAX] = 'x';
    uri[TS_REDIRECT_URI_MAX + 1] = '\0';
    REJECT(ts_oauth_check_redirect_uri("redirect_uris[0]", uri, err, sizeof(err)), "redirect_uris[0]");
}

static void test_redirect_uri_message_does_not_echo_control_characters(void **state)
{
    REJECT(ts_oauth_check_redirect_uri("redirect_uris[0]", "https://a.example/\x1b[2J", err, sizeof(err)), "redirect_uris[0]");
    assert_null(strchr(err, '\x1b'));
}

/* ---- scopes -------------------------------------------------------------------------------------- */

static void test_scope_accepts_nqchar_tokens(void **state)
{
    ACCEPT(ts_oauth_check_scope("scope", "openid", err, sizeof(err)));
    ACCEPT(ts_oauth_check_scope("scope", "openid profile api:read https://api.example.com/x!#$[]~", err, sizeof(err)));
}

static void test_scope_rejects_bad_tokens_and_spacing(void **state)
{
    REJECT(ts_oauth_check_scope("scope", "", err, sizeof(err)), "scope");
    REJECT(ts_oauth_check_scope("scope", " openid", err, sizeof(err)), "scope");
    REJECT(ts_oauth_check_scope("scope", "openid ", err, sizeof(err)), "scope");
    REJECT(ts_oauth_check_scope("scope", "openid  profile", err, sizeof(err)), "scope");
    REJECT(ts_oauth_check_scope("scope", "openid\tprofile", err, sizeof(err)), "scope");
    REJECT(ts_oauth_check_scope("scope", "a\"b", err, sizeof(err)), "scope");
    REJECT(ts_oauth_check_scope("scope", "a\\b", err, sizeof(err)), "scope");
    REJECT(ts_oauth_check_scope("scope", "caf\xc3\xa9", err, sizeof(err)), "scope");
    REJECT(ts_oauth_check_scope("default_scope", "openid profile openid", err, sizeof(err)), "default_scope");
}

static void test_scope_limits(void **state)
{
    char token[TS_SCOPE_TOKEN_MAX + 2], many[TS_SCOPE_TOKENS_MAX * 4 + 8];
    size_t off = 0;

    memset(token, 'a', TS_SCOPE_TOKEN_MAX);
    token[TS_SCOPE_TOKEN_MAX] = '\0';
    ACCEPT(ts_oauth_check_scope("scope", token, err, sizeof(err)));
    token[TS_SCOPE_TOKEN_MAX] = 'a';
    token[TS_SCOPE_TOKEN_MAX + 1] = '\0';
    REJECT(ts_oauth_check_scope("scope", token, err, sizeof(err)), "scope");

    for (int i = 0; i < TS_SCOPE_TOKENS_MAX; ++i)
        off += (size_t)sprintf(many + off, "%ss%d", i == 0 ? "" : " ", i);
    ACCEPT(ts_oauth_check_scope("scope", many, err, sizeof(err)));
    sprintf(many + off, " extra");
    REJECT(ts_oauth_check_scope("scope", many, err, sizeof(err)), "scope");
}

static void test_scope_list(void **state)
{
    static const char *const good[] = {"admin:read", "admin:write"};
    static const char *const spaced[] = {"admin:read admin:write"};
    static const char *const twice[] = {"a", "b", "a"};
    static const char *const empty[] = {""};

    ACCEPT(ts_oauth_check_scope_list("scopes", good, 2, err, sizeof(err)));
    ACCEPT(ts_oauth_check_scope_list("scopes", NULL, 0, err, sizeof(err)));
    REJECT(ts_oauth_check_scope_list("scopes", spaced, 1, err, sizeof(err)), "scopes[0]");
    REJECT(ts_oauth_check_scope_list("scopes", twice, 3, err, sizeof(err)), "scopes[2]");
    REJECT(ts_oauth_check_scope_list("scopes", empty, 1, err, sizeof(err)), "scopes[0]");
}

/* ---- grant types, methods, secrets, names -------------------------------------------------------- */

static void test_grant_types_and_auth_methods(void **state)
{
    ACCEPT(ts_oauth_check_grant_type("grant_types[0]", "authorization_code", err, sizeof(err)));
    ACCEPT(ts_oauth_check_grant_type("grant_types[0]", "client_credentials", err, sizeof(err)));
    ACCEPT(ts_oauth_check_grant_type("grant_types[0]", "refresh_token", err, sizeof(err)));
    REJECT(ts_oauth_check_grant_type("grant_types[0]", "implicit", err, sizeof(err)), "grant_types[0]");
    REJECT(ts_oauth_check_grant_type("grant_types[0]", "password", err, sizeof(err)), "grant_types[0]");
    REJECT(ts_oauth_check_grant_type("grant_types[0]", "Authorization_Code", err, sizeof(err)), "grant_types[0]");

    ACCEPT(ts_oauth_check_auth_method("token_endpoint_auth_method", "client_secret_basic", err, sizeof(err)));
    ACCEPT(ts_oauth_check_auth_method("token_endpoint_auth_method", "client_secret_post", err, sizeof(err)));
    ACCEPT(ts_oauth_check_auth_method("token_endpoint_auth_method", "private_key_jwt", err, sizeof(err)));
    ACCEPT(ts_oauth_check_auth_method("token_endpoint_auth_method", "none", err, sizeof(err)));
    REJECT(ts_oauth_check_auth_method("token_endpoint_auth_method", "client_secret_jwt", err, sizeof(err)),
           "token_endpoint_auth_method");
    REJECT(ts_oauth_check_auth_method("token_endpoint_auth_method", "tls_client_auth", err, sizeof(err)),
           "token_endpoint_auth_method");

    assert_true(ts_oauth_auth_method_uses_secret("client_secret_basic"));
    assert_true(ts_oauth_auth_method_uses_secret("client_secret_post"));
    assert_false(ts_oauth_auth_method_uses_secret("private_key_jwt"));
    assert_false(ts_oauth_auth_method_uses_secret("none"));
}

static void test_client_secret_bounds(void **state)
{
    char secret[TS_CLIENT_SECRET_MAX + 2];

    memset(secret, 'k', sizeof(secret));
    secret[TS_CLIENT_SECRET_MIN] = '\0';
    ACCEPT(ts_oauth_check_client_secret("client_secret", secret, err, sizeof(err)));
    secret[TS_CLIENT_SECRET_MIN - 1] = '\0';
    REJECT(ts_oauth_check_client_secret("client_secret", secret, err, sizeof(err)), "client_secret");
    memset(secret, 'k', sizeof(secret));
    secret[TS_CLIENT_SECRET_MAX] = '\0';
    ACCEPT(ts_oauth_check_client_secret("client_secret", secret, err, sizeof(err)));
    secret[TS_CLIENT_SECRET_MAX] = 'k';
    secret[TS_CLIENT_SECRET_MAX + 1] = '\0';
    REJECT(ts_oauth_check_client_secret("client_secret", secret, err, sizeof(err)), "client_secret");
    REJECT(ts_oauth_check_client_secret("client_secret", "0123456789abcdef 0123456789abcdef", err, sizeof(err)), "client_secret");
    REJECT(ts_oauth_check_client_secret("client_secret", "0123456789abcdef0123456789abcdef\n", err, sizeof(err)),
           "client_secret");
    /* the message never repeats the secret */
    REJECT(ts_oauth_check_client_secret("client_secret", "tooshort-but-secret", err, sizeof(err)), "client_secret");
    assert_null(strstr(err, "tooshort-but-secret"));
}

static void test_usernames_roles_emails_and_text(void **state)
{
    ACCEPT(ts_oauth_check_username("username", "alice.smith+test@example.com", err, sizeof(err)));
    REJECT(ts_oauth_check_username("username", "alice'smith", err, sizeof(err)), "username");
    REJECT(ts_oauth_check_username("username", "alice smith", err, sizeof(err)), "username");
    REJECT(ts_oauth_check_username("username", "", err, sizeof(err)), "username");
    ACCEPT(ts_oauth_check_role_name("name", "billing:admin", err, sizeof(err)));
    REJECT(ts_oauth_check_role_name("name", "Admin", err, sizeof(err)), "name");
    REJECT(ts_oauth_check_role_name("roles[1]", "a b", err, sizeof(err)), "roles[1]");
    ACCEPT(ts_oauth_check_email("email", "a@example.com", err, sizeof(err)));
    REJECT(ts_oauth_check_email("email", "example.com", err, sizeof(err)), "email");
    REJECT(ts_oauth_check_email("email", "a@b@example.com", err, sizeof(err)), "email");
    REJECT(ts_oauth_check_email("email", "a @example.com", err, sizeof(err)), "email");
    ACCEPT(ts_oauth_check_text("client_name", "Caf\xc3\xa9 \xe2\x98\x95 App", 200, err, sizeof(err)));
    REJECT(ts_oauth_check_text("client_name", "evil\x1b[31m", 200, err, sizeof(err)), "client_name");
    REJECT(ts_oauth_check_text("client_name", "bidi \xe2\x80\xae", 200, err, sizeof(err)), "client_name");
    REJECT(ts_oauth_check_text("client_name", "bad \xc3", 200, err, sizeof(err)), "client_name");
    REJECT(ts_oauth_check_text("client_name", "abcdef", 5, err, sizeof(err)), "client_name");
    /* characters, not bytes, are counted */
    ACCEPT(ts_oauth_check_text("client_name", "\xc3\xa9\xc3\xa9\xc3\xa9", 3, err, sizeof(err)));
}

/* ---- JWK Sets ------------------------------------------------------------------------------------ */

static void test_jwks_counts_usable_keys(void **state)
{
    json_t *rsa = jwks_of(TS_ALG_RS256), *ec = jwks_of(TS_ALG_ES256);
    size_t usable = 99;

    json_array_extend(json_object_get(rsa, "keys"), json_object_get(ec, "keys"));
    json_array_append_new(json_object_get(rsa, "keys"), json_pack("{s:s, s:s, s:s}", "kty", "OKP", "crv", "Ed25519", "x", "abc"));
    ACCEPT(ts_oauth_check_jwks("jwks", rsa, &usable, err, sizeof(err)));
    assert_int_equal(usable, 2);
    json_decref(rsa);
    json_decref(ec);
}

static void test_jwks_rejects_private_material_and_bad_shapes(void **state)
{
    json_t *jwks = jwks_of(TS_ALG_ES256), *v;

    json_object_set_new(json_array_get(json_object_get(jwks, "keys"), 0), "d", json_string("AAAA"));
    REJECT(ts_oauth_check_jwks("jwks", jwks, NULL, err, sizeof(err)), "jwks.keys[0]");
    json_decref(jwks);

    REJECT(ts_oauth_check_jwks("jwks", v = json_pack("[]"), NULL, err, sizeof(err)), "jwks");
    json_decref(v);
    REJECT(ts_oauth_check_jwks("jwks", v = json_pack("{s:[]}", "keys"), NULL, err, sizeof(err)), "jwks");
    json_decref(v);
    REJECT(ts_oauth_check_jwks("jwks", v = json_pack("{s:s}", "keys", "x"), NULL, err, sizeof(err)), "jwks");
    json_decref(v);
    REJECT(ts_oauth_check_jwks("jwks", v = json_pack("{s:[i]}", "keys", 1), NULL, err, sizeof(err)), "jwks.keys[0]");
    json_decref(v);
    REJECT(ts_oauth_check_jwks("jwks", v = json_pack("{s:[{s:s, s:s}]}", "keys", "kty", "oct", "k", "c2VjcmV0"), NULL, err,
                               sizeof(err)),
           "jwks.keys[0]");
    json_decref(v);
}

/* ---- the whole client ---------------------------------------------------------------------------- */

static void test_metadata_accepts_typical_clients(void **state)
{
    ts_client_metadata_t md = web_client();
    json_t *jwks = jwks_of(TS_ALG_ES256);
    static const char *const native_uris[] = {"com.example.app:/cb", "http://127.0.0.1/cb"};

    ACCEPT(ts_oauth_check_client_metadata(&md, err, sizeof(err)));

    /* machine-to-machine with a file-supplied secret */
    md = (ts_client_metadata_t){.client_id = "svc", .grant_types = cc_grant, .num_grant_types = 1, .require_pkce = 1,
                                .client_secret = "0123456789abcdef0123456789abcdef", .access_token_ttl = 300};
    ACCEPT(ts_oauth_check_client_metadata(&md, err, sizeof(err)));

    /* a native public client */
    md = web_client();
    md.token_endpoint_auth_method = "none";
    md.redirect_uris = native_uris;
    md.num_redirect_uris = 2;
    ACCEPT(ts_oauth_check_client_metadata(&md, err, sizeof(err)));

    /* private_key_jwt with a usable key */
    md = web_client();
    md.token_endpoint_auth_method = "private_key_jwt";
    md.jwks = jwks;
    ACCEPT(ts_oauth_check_client_metadata(&md, err, sizeof(err)));
    json_decref(jwks);
}

static void test_metadata_consistency_rules(void **state)
{
    static const char *const public_cc[] = {"authorization_code", "client_credentials"};
    static const char *const refresh_only[] = {"client_credentials", "refresh_token"};
    static const char *const twice[] = {"authorization_code", "authorization_code"};
    static const char *const bad_uris[] = {"https://a.example/cb", "https://a.example/cb"};
    json_t *unusable = json_pack("{s:[{s:s, s:s, s:s}]}", "keys", "kty", "OKP", "crv", "Ed25519", "x", "abc");
    ts_client_metadata_t md;

    md = web_client();
    md.token_endpoint_auth_method = "none";
    md.grant_types = public_cc;
    REJECT(ts_oauth_check_client_metadata(&md, err, sizeof(err)), "grant_types");

    md = web_client();
    md.token_endpoint_auth_method = "none";
    md.require_pkce = 0;
    REJECT(ts_oauth_check_client_metadata(&md, err, sizeof(err)), "require_pkce");

    md = web_client();
    md.num_redirect_uris = 0;
    REJECT(ts_oauth_check_client_metadata(&md, err, sizeof(err)), "redirect_uris");

    md = web_client();
    md.grant_types = refresh_only;
    REJECT(ts_oauth_check_client_metadata(&md, err, sizeof(err)), "grant_types");

    md = web_client();
    md.grant_types = twice;
    REJECT(ts_oauth_check_client_metadata(&md, err, sizeof(err)), "grant_types[1]");

    md = web_client();
    md.num_grant_types = 0;
    REJECT(ts_oauth_check_client_metadata(&md, err, sizeof(err)), "grant_types");

    md = web_client();
    md.redirect_uris = bad_uris;
    md.num_redirect_uris = 2;
    REJECT(ts_oauth_check_client_metadata(&md, err, sizeof(err)), "redirect_uris[1]");

    md = web_client();
    md.token_endpoint_auth_method = "private_key_jwt";
    REJECT(ts_oauth_check_client_metadata(&md, err, sizeof(err)), "jwks");
    md.jwks = unusable;
    REJECT(ts_oauth_check_client_metadata(&md, err, sizeof(err)), "jwks");

    md = web_client();
    md.token_endpoint_auth_method = "none";
    md.client_secret = "0123456789abcdef0123456789abcdef";
    REJECT(ts_oauth_check_client_metadata(&md, err, sizeof(err)), "client_secret");

    md = web_client();
    md.client_secret = "short";
    REJECT(ts_oauth_check_client_metadata(&md, err, sizeof(err)), "client_secret");

    md = web_client();
    md.default_scope = "admin";
    REJECT(ts_oauth_check_client_metadata(&md, err, sizeof(err)), "default_scope");

    md = web_client();
    md.scope = "openid  profile";
    REJECT(ts_oauth_check_client_metadata(&md, err, sizeof(err)), "scope");

    md = web_client();
    md.access_token_ttl = 10;
    REJECT(ts_oauth_check_client_metadata(&md, err, sizeof(err)), "access_token_ttl");
    md.access_token_ttl = 86401;
    REJECT(ts_oauth_check_client_metadata(&md, err, sizeof(err)), "access_token_ttl");

    md = web_client();
    md.id_token_signed_response_alg = "none";
    REJECT(ts_oauth_check_client_metadata(&md, err, sizeof(err)), "id_token_signed_response_alg");

    md = web_client();
    md.token_endpoint_auth_method = "client_secret_jwt";
    REJECT(ts_oauth_check_client_metadata(&md, err, sizeof(err)), "token_endpoint_auth_method");

    md = web_client();
    md.client_name = "evil\x07";
    REJECT(ts_oauth_check_client_metadata(&md, err, sizeof(err)), "client_name");

    md = web_client();
    md.client_id = "bad id";
    REJECT(ts_oauth_check_client_metadata(&md, err, sizeof(err)), "client_id");

    json_decref(unusable);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_id_accepts_the_unreserved_charset),
        cmocka_unit_test(test_client_id_rejects_other_characters_and_lengths),
        cmocka_unit_test(test_redirect_uri_accepts_https_loopback_http_and_private_use),
        cmocka_unit_test(test_redirect_uri_rejects_what_exact_matching_forbids),
        cmocka_unit_test(test_redirect_uri_length_limit),
        cmocka_unit_test(test_redirect_uri_message_does_not_echo_control_characters),
        cmocka_unit_test(test_scope_accepts_nqchar_tokens),
        cmocka_unit_test(test_scope_rejects_bad_tokens_and_spacing),
        cmocka_unit_test(test_scope_limits),
        cmocka_unit_test(test_scope_list),
        cmocka_unit_test(test_grant_types_and_auth_methods),
        cmocka_unit_test(test_client_secret_bounds),
        cmocka_unit_test(test_usernames_roles_emails_and_text),
        cmocka_unit_test(test_jwks_counts_usable_keys),
        cmocka_unit_test(test_jwks_rejects_private_material_and_bad_shapes),
        cmocka_unit_test(test_metadata_accepts_typical_clients),
        cmocka_unit_test(test_metadata_consistency_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
