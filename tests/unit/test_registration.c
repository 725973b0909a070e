/* src/http/registration_request.c: what a client may register about itself (RFC 7591 §2), with the defaults the
 * RFC names, unknown members ignored, and each refusal carrying the RFC 7591 error and the field at fault. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "http/registration.h"

#define ALLOWED "openid profile email offline_access api:read"

static char err[1024];

static void parse_ok(const char *body, ts_registration_t *r)
{
    err[0] = '\0';
    if (ts_registration_parse(body, strlen(body), "c1", ALLOWED, r, err, sizeof(err)) != TS_OK)
        fail_msg("refused %s: %s", body, err);
}

/* body is refused with error e and a message starting with "<field>: " */
static void refused(const char *body, ts_err_t e, const char *field)
{
    ts_registration_t r;
    char prefix[128];
    err[0] = '\0';
    ts_err_t got = ts_registration_parse(body, strlen(body), "c1", ALLOWED, &r, err, sizeof(err));
    if (got == TS_OK) {
        ts_registration_dispose(&r);
        fail_msg("accepted %s", body);
    }
    assert_int_equal(got, e);
    snprintf(prefix, sizeof(prefix), "%s: ", field);
    if (strncmp(err, prefix, strlen(prefix)) != 0)
        fail_msg("message '%s' does not start with '%s' (%s)", err, prefix, body);
}

static void test_defaults(void **state)
{
    (void)state;
    ts_registration_t r;
    parse_ok("{\"redirect_uris\":[\"https://rp.example/cb\"]}", &r);
    assert_string_equal(r.token_endpoint_auth_method, "client_secret_basic");
    assert_int_equal(r.num_grant_types, 1);
    assert_string_equal(r.grant_types[0], "authorization_code");
    assert_string_equal(r.scope, ALLOWED);
    assert_string_equal(r.id_token_signed_response_alg, "RS256");
    assert_null(r.client_name);
    assert_null(r.jwks);
    assert_null(r.client_id);
    ts_registration_dispose(&r);
}

static void test_fields_and_unknown_members(void **state)
{
    (void)state;
    ts_registration_t r;
    parse_ok("{\"client_id\":\"c1\",\"client_secret\":\"s3cr3t-s3cr3t\",\"client_name\":\"App\",\"token_endpoint_auth_method\":\"none\","
             "\"grant_types\":[\"authorization_code\",\"refresh_token\"],\"response_types\":[\"code\"],"
             "\"redirect_uris\":[\"https://rp.example/cb\",\"http://127.0.0.1:9/cb\"],\"post_logout_redirect_uris\":[\"https://rp.example/bye\"],"
             "\"scope\":\"openid api:read\",\"id_token_signed_response_alg\":\"ES256\",\"logo_uri\":\"https://x\",\"contacts\":[\"a@b\"],"
             "\"skip_consent\":true,\"roles\":[\"admin\"],\"software_statement\":\"eyJ...\",\"client_id_issued_at\":1}",
             &r);
    assert_string_equal(r.client_id, "c1");
    assert_string_equal(r.client_secret, "s3cr3t-s3cr3t");
    assert_string_equal(r.client_name, "App");
    assert_int_equal(r.num_grant_types, 2);
    assert_true(ts_registration_has_grant(&r, "refresh_token"));
    assert_false(ts_registration_has_grant(&r, "client_credentials"));
    assert_int_equal(r.num_redirect_uris, 2);
    assert_string_equal(r.redirect_uris[1], "http://127.0.0.1:9/cb");
    assert_int_equal(r.num_post_logout_redirect_uris, 1);
    assert_string_equal(r.scope, "openid api:read");
    assert_string_equal(r.id_token_signed_response_alg, "ES256");
    ts_registration_dispose(&r);
    parse_ok("{\"grant_types\":[\"client_credentials\"],\"response_types\":[],\"scope\":\"api:read\",\"jwks_uri\":null}", &r);
    ts_registration_dispose(&r);
}

static void test_refusals(void **state)
{
    (void)state;
    refused("{\"redirect_uris\":[\"http://rp.example/cb\"]}", TS_ERR_INVALID_REDIRECT_URI, "redirect_uris[0]");
    refused("{\"redirect_uris\":[\"https://rp.example/cb#x\"]}", TS_ERR_INVALID_REDIRECT_URI, "redirect_uris[0]");
    refused("{}", TS_ERR_INVALID_REDIRECT_URI, "redirect_uris");
    refused("{\"redirect_uris\":[\"https://a/cb\"],\"scope\":\"openid admin\"}", TS_ERR_INVALID_CLIENT_METADATA, "scope");
    refused("{\"redirect_uris\":[\"https://a/cb\"],\"scope\":\"openid  profile\"}", TS_ERR_INVALID_CLIENT_METADATA, "scope");
    refused("{\"redirect_uris\":[\"https://a/cb\"],\"response_types\":[\"id_token\"]}", TS_ERR_INVALID_CLIENT_METADATA, "response_types[0]");
    refused("{\"redirect_uris\":[\"https://a/cb\"],\"response_types\":[]}", TS_ERR_INVALID_CLIENT_METADATA, "response_types");
    refused("{\"grant_types\":[\"client_credentials\"],\"response_types\":[\"code\"]}", TS_ERR_INVALID_CLIENT_METADATA, "response_types");
    refused("{\"redirect_uris\":[\"https://a/cb\"],\"jwks_uri\":\"https://a/jwks\"}", TS_ERR_INVALID_CLIENT_METADATA, "jwks_uri");
    refused("{\"grant_types\":[\"client_credentials\"],\"token_endpoint_auth_method\":\"private_key_jwt\"}", TS_ERR_INVALID_CLIENT_METADATA,
            "jwks");
    refused("{\"grant_types\":[\"client_credentials\"],\"token_endpoint_auth_method\":\"none\"}", TS_ERR_INVALID_CLIENT_METADATA,
            "grant_types");
    refused("{\"grant_types\":[\"password\"]}", TS_ERR_INVALID_CLIENT_METADATA, "grant_types[0]");
    refused("{\"grant_types\":[],\"redirect_uris\":[\"https://a/cb\"]}", TS_ERR_INVALID_CLIENT_METADATA, "grant_types");
    refused("{\"client_id\":\"a b\",\"redirect_uris\":[\"https://a/cb\"]}", TS_ERR_INVALID_CLIENT_METADATA, "client_id");
    refused("{\"client_name\":7,\"redirect_uris\":[\"https://a/cb\"]}", TS_ERR_INVALID_CLIENT_METADATA, "client_name");
    refused("{\"a\":1,\"a\":2}", TS_ERR_INVALID_CLIENT_METADATA, "body");
    refused("[1]", TS_ERR_INVALID_CLIENT_METADATA, "body");
    refused("", TS_ERR_INVALID_CLIENT_METADATA, "body");
}

static void test_secret_never_echoed(void **state)
{
    (void)state;
    ts_registration_t r;
    const char *body = "{\"client_secret\":\"hunter2hunter2hunter2\",\"redirect_uris\":[\"https://a/cb\"],\"scope\":\"nope\"}";
    assert_int_not_equal(ts_registration_parse(body, strlen(body), "c1", ALLOWED, &r, err, sizeof(err)), TS_OK);
    assert_null(strstr(err, "hunter2"));
    body = "{\"client_secret\":7,\"redirect_uris\":[\"https://a/cb\"]}";
    assert_int_not_equal(ts_registration_parse(body, strlen(body), "c1", ALLOWED, &r, err, sizeof(err)), TS_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_fields_and_unknown_members),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_secret_never_echoed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
