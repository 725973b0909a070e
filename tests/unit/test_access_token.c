/* src/oauth/access_token.c: JWT access tokens per RFC 9068. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "tessera/oauth.h"

#define NOW 1700000000
#define ISSUER "https://as.example.com"

static ts_key_t *es_key, *rs_key, *public_only;
static json_t *default_aud;
static const char *role_items[] = {"reader", "writer"};
static const ts_strs_t two_roles = {role_items, 2};

static int setup(void **state)
{
    json_t *jwk;
    if ((es_key = ts_key_generate(TS_ALG_ES256)) == NULL || (rs_key = ts_key_generate(TS_ALG_RS256)) == NULL ||
        (jwk = ts_key_public_jwk(es_key)) == NULL)
        return -1;
    public_only = ts_key_import_jwk(jwk);
    json_decref(jwk);
    default_aud = json_string("https://api.example.com");
    return public_only != NULL && default_aud != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    ts_key_free(es_key);
    ts_key_free(rs_key);
    ts_key_free(public_only);
    json_decref(default_aud);
    return 0;
}

static const ts_key_t *lookup(void *cb_ctx, const char *kid, ts_jws_alg_t alg)
{
    const ts_key_t *key = cb_ctx;
    return kid != NULL && strcmp(kid, ts_key_kid(key)) == 0 && alg == ts_key_alg(key) ? key : NULL;
}

static ts_access_token_t sample(void)
{
    return (ts_access_token_t){.issuer = ISSUER, .subject = "svc", .client_id = "svc", .scope = "read write", .aud = default_aud,
                               .roles = &two_roles, .now = NOW, .ttl = 600};
}

/* signs t with key, verifies it as at+jwt and returns its claims (and header) */
static json_t *issue(const ts_key_t *key, const ts_access_token_t *t, json_t **header, char jti[TS_JTI_LEN + 1])
{
    char *tok = NULL, myjti[TS_JTI_LEN + 1];
    json_t *claims = NULL;
    assert_int_equal(ts_oauth_access_token_sign(key, t, &tok, jti != NULL ? jti : myjti), 0);
    assert_non_null(tok);
    assert_int_equal(ts_jws_verify(tok, strlen(tok), TS_ALG_MASK(ts_key_alg(key)), "at+jwt", lookup, (void *)key, &claims, header),
                     TS_JWS_OK);
    free(tok);
    return claims;
}

static void registered_claims_are_present(void **state)
{
    ts_access_token_t t = sample();
    json_t *c = issue(es_key, &t, NULL, NULL);
    assert_string_equal(json_string_value(json_object_get(c, "iss")), ISSUER);
    assert_string_equal(json_string_value(json_object_get(c, "sub")), "svc");
    assert_string_equal(json_string_value(json_object_get(c, "client_id")), "svc");
    assert_string_equal(json_string_value(json_object_get(c, "aud")), "https://api.example.com");
    assert_string_equal(json_string_value(json_object_get(c, "scope")), "read write");
    assert_true(json_is_integer(json_object_get(c, "iat")));
    assert_int_equal(json_integer_value(json_object_get(c, "iat")), NOW);
    assert_true(json_is_integer(json_object_get(c, "exp")));
    assert_int_equal(json_integer_value(json_object_get(c, "exp")), NOW + 600);
    /* nothing that was not asked for */
    assert_null(json_object_get(c, "auth_time"));
    assert_null(json_object_get(c, "grant_id"));
    json_decref(c);
}

static void header_says_at_jwt_and_names_the_key(void **state)
{
    ts_access_token_t t = sample();
    json_t *h = NULL, *c = issue(rs_key, &t, &h, NULL);
    assert_string_equal(json_string_value(json_object_get(h, "typ")), "at+jwt");
    assert_string_equal(json_string_value(json_object_get(h, "alg")), "RS256");
    assert_string_equal(json_string_value(json_object_get(h, "kid")), ts_key_kid(rs_key));
    json_decref(h);
    json_decref(c);
}

static void jti_is_22_base64url_characters_and_matches_the_claim(void **state)
{
    ts_access_token_t t = sample();
    char jti1[TS_JTI_LEN + 1], jti2[TS_JTI_LEN + 1];
    json_t *c1 = issue(es_key, &t, NULL, jti1), *c2 = issue(es_key, &t, NULL, jti2);
    assert_int_equal(strlen(jti1), 22);
    assert_int_equal(strspn(jti1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 22);
    assert_string_equal(json_string_value(json_object_get(c1, "jti")), jti1);
    assert_string_equal(json_string_value(json_object_get(c2, "jti")), jti2);
    assert_string_not_equal(jti1, jti2);
    json_decref(c1);
    json_decref(c2);
}

static void empty_or_absent_scope_is_omitted(void **state)
{
    ts_access_token_t t = sample();
    t.scope = "";
    json_t *c = issue(es_key, &t, NULL, NULL);
    assert_null(json_object_get(c, "scope"));
    json_decref(c);
    t.scope = NULL;
    c = issue(es_key, &t, NULL, NULL);
    assert_null(json_object_get(c, "scope"));
    json_decref(c);
}

static void roles_are_an_array_even_when_empty(void **state)
{
    ts_access_token_t t = sample();
    json_t *want = json_pack("[s,s]", "reader", "writer"), *empty = json_array();
    json_t *c = issue(es_key, &t, NULL, NULL);
    assert_true(json_equal(json_object_get(c, "roles"), want));
    json_decref(c);
    t.roles = NULL;
    c = issue(es_key, &t, NULL, NULL);
    assert_true(json_equal(json_object_get(c, "roles"), empty));
    json_decref(c);
    json_decref(want);
    json_decref(empty);
}

static void audience_array_is_kept(void **state)
{
    ts_access_token_t t = sample();
    json_t *aud = json_pack("[s,s]", "https://a.example", "https://b.example");
    t.aud = aud;
    json_t *c = issue(es_key, &t, NULL, NULL);
    assert_true(json_equal(json_object_get(c, "aud"), aud));
    json_decref(c);
    json_decref(aud);
}

static void user_token_carries_auth_time_and_grant_id(void **state)
{
    ts_access_token_t t = sample();
    t.subject = "3f0c-user";
    t.auth_time = NOW - 50;
    t.grant_id = "family-9";
    t.ttl = 1;
    json_t *c = issue(es_key, &t, NULL, NULL);
    assert_string_equal(json_string_value(json_object_get(c, "sub")), "3f0c-user");
    assert_string_equal(json_string_value(json_object_get(c, "client_id")), "svc");
    assert_int_equal(json_integer_value(json_object_get(c, "auth_time")), NOW - 50);
    assert_string_equal(json_string_value(json_object_get(c, "grant_id")), "family-9");
    assert_int_equal(json_integer_value(json_object_get(c, "exp")), NOW + 1);
    json_decref(c);
}

static void public_key_cannot_sign(void **state)
{
    ts_access_token_t t = sample();
    char *tok = (char *)1, jti[TS_JTI_LEN + 1];
    assert_int_equal(ts_oauth_access_token_sign(public_only, &t, &tok, jti), -1);
    assert_null(tok);
}

static void missing_required_value_fails_without_a_token(void **state)
{
    /* aud and the strings are required (RFC 9068 §2.2); under valgrind this also shows nothing leaks */
    ts_access_token_t t = sample();
    char *tok = NULL, jti[TS_JTI_LEN + 1];
    t.aud = NULL;
    assert_int_equal(ts_oauth_access_token_sign(es_key, &t, &tok, jti), -1);
    assert_null(tok);
    t = sample();
    t.client_id = NULL;
    assert_int_equal(ts_oauth_access_token_sign(es_key, &t, &tok, jti), -1);
    assert_null(tok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(registered_claims_are_present),
        cmocka_unit_test(header_says_at_jwt_and_names_the_key),
        cmocka_unit_test(jti_is_22_base64url_characters_and_matches_the_claim),
        cmocka_unit_test(empty_or_absent_scope_is_omitted),
        cmocka_unit_test(roles_are_an_array_even_when_empty),
        cmocka_unit_test(audience_array_is_kept),
        cmocka_unit_test(user_token_carries_auth_time_and_grant_id),
        cmocka_unit_test(public_key_cannot_sign),
        cmocka_unit_test(missing_required_value_fails_without_a_token),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
