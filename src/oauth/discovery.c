/* Authorization server metadata (RFC 8414) and OpenID Provider metadata (Discovery 1.0). Only what the
 * server actually does is advertised: each endpoint appears here when its handler exists. */
#include <stdio.h>
#include "tessera/oauth.h"
#include "tessera/oauth_browser.h"

static void set_url(json_t *doc, const char *key, const char *issuer, const char *path)
{
    json_t *s = json_sprintf("%s%s", issuer, path);
    json_object_set_new(doc, key, s);
}

static json_t *strings(const char *const *items)
{
    json_t *a = json_array();
    for (; *items != NULL; ++items)
        json_array_append_new(a, json_string(*items));
    return a;
}

json_t *ts_oauth_discovery(const ts_config_t *conf, int openid)
{
    static const char *const auth_methods[] = {"client_secret_basic", "client_secret_post", "private_key_jwt", NULL};
    static const char *const algs[] = {"ES256", "RS256", NULL};
    static const char *const with_none[] = {"client_secret_basic", "client_secret_post", "private_key_jwt", "none", NULL};
    static const char *const grants[] = {"authorization_code", "refresh_token", "client_credentials", NULL};
    static const char *const prompts[] = {"none", "login", "consent", "select_account", NULL};
    static const char *const scopes[] = {"openid", "profile", "email", NULL};
    json_t *doc = json_object();

    if (doc == NULL)
        return NULL;
    json_object_set_new(doc, "issuer", json_string(conf->issuer));
    set_url(doc, "jwks_uri", conf->issuer, "/jwks.json");
    set_url(doc, "authorization_endpoint", conf->issuer, "/authorize");
    set_url(doc, "token_endpoint", conf->issuer, "/token");
    set_url(doc, "introspection_endpoint", conf->issuer, "/introspect");
    set_url(doc, "revocation_endpoint", conf->issuer, "/revoke");
    if (conf->registration_enabled)
        set_url(doc, "registration_endpoint", conf->issuer, "/register"); /* RFC 8414 §2, RFC 7591 */
    json_object_set_new(doc, "grant_types_supported", strings(grants));
    json_object_set_new(doc, "response_types_supported", json_pack("[s]", "code"));
    json_object_set_new(doc, "response_modes_supported", json_pack("[s]", "query"));
    json_object_set_new(doc, "code_challenge_methods_supported", json_pack("[s]", "S256")); /* plain exposes the verifier */
    json_object_set_new(doc, "authorization_response_iss_parameter_supported", json_true()); /* RFC 9207 */
    json_object_set_new(doc, "scopes_supported", strings(scopes));
    json_object_set_new(doc, "token_endpoint_auth_methods_supported", strings(with_none));
    json_object_set_new(doc, "token_endpoint_auth_signing_alg_values_supported", strings(algs));
    json_object_set_new(doc, "introspection_endpoint_auth_methods_supported", strings(auth_methods));
    json_object_set_new(doc, "introspection_endpoint_auth_signing_alg_values_supported", strings(algs));
    json_object_set_new(doc, "revocation_endpoint_auth_methods_supported", strings(with_none));
    json_object_set_new(doc, "revocation_endpoint_auth_signing_alg_values_supported", strings(algs));
    /* RFC 9701: the JWT form of introspection answers */
    json_object_set_new(doc, "introspection_signing_alg_values_supported", json_pack("[s]", "RS256"));
    json_object_set_new(doc, "request_parameter_supported", json_false());
    json_object_set_new(doc, "request_uri_parameter_supported", json_false());
    if (!openid)
        return doc;
    set_url(doc, "userinfo_endpoint", conf->issuer, "/userinfo");
    set_url(doc, "end_session_endpoint", conf->issuer, "/logout");
    json_object_set_new(doc, "subject_types_supported", json_pack("[s]", "public"));
    json_object_set_new(doc, "id_token_signing_alg_values_supported", json_pack("[s, s]", "RS256", "ES256"));
    json_object_set_new(doc, "claims_supported", strings(ts_oauth_claims_supported));
    json_object_set_new(doc, "prompt_values_supported", strings(prompts));
    json_object_set_new(doc, "claims_parameter_supported", json_false());
    return doc;
}
