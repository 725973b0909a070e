/* src/oauth/id_token.c: ID tokens (OpenID Connect Core §2) and at_hash (§3.1.3.6), signed with RS256 and
 * ES256 and read back through ts_jws_verify. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include "tessera/oauth_browser.h"

#define NOW 1700000000
#define ISSUER "https://as.example.com"
#define ACCESS_TOKEN "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1LTEifQ.c2lnbmF0dXJl"

static ts_key_t *es_key, *rs_key;
static const char *amr_items[] = {"pwd", "mfa"};
static const ts_strs_t amr = {amr_items, 2};
static const ts_strs_t no_amr = {NULL, 0};
static const ts_user_t alice = {.id = 1, .subject = "u-1", .username = "alice", .email = "alice@example.com", .email_verified = 1,
                                .name = "Alice Liddell", .active = 1};

static int setup(void **state)
{
    es_key = ts_key_generate(TS_ALG_ES256);
    rs_key = ts_key_generate(TS_ALG_RS256);
    return es_key != NULL && rs_key != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    ts_key_free(es_key);
    ts_key_free(rs_key);
    return 0;
}

static const ts_key_t *lookup(void *cb_ctx, const char *kid, ts_jws_alg_t alg)
{
    const ts_key_t *key = cb_ctx;
    return kid != NULL && strcmp(kid, ts_key_kid(key)) == 0 && alg == ts_key_alg(key) ? key : NULL;
}

/* base64url(left half of SHA-256(s)), computed with OpenSSL alone */
static void expected_at_hash(const char *s, char out[64])
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    int len;

    SHA256((const unsigned char *)s, strlen(s), digest);
    len = EVP_EncodeBlock((unsigned char *)out, digest, SHA256_DIGEST_LENGTH / 2);
    while (len > 0 && out[len - 1] == '=')
        out[--len] = '\0';
    for (int i = 0; i < len; ++i)
        out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
}

static ts_id_token_t full(void)
{
    return (ts_id_token_t){.issuer = ISSUER,
                           .subject = "u-1",
                           .client_id = "rp",
                           .nonce = "n-0S6_WzA2Mj",
                           .access_token = ACCESS_TOKEN,
                           .acr = "urn:example:loa:1",
                           .amr = &amr,
                           .user = &alice,
                           .scope = "openid profile email",
                           .auth_time = NOW - 30,
                           .now = NOW,
                           .ttl = 300};
}

static ts_id_token_t minimal(void)
{
    return (ts_id_token_t){.issuer = ISSUER, .subject = "u-1", .client_id = "rp", .now = NOW, .ttl = 300};
}

/* signs t, verifies it as typ JWT with key and returns its claims; the header is checked here */
static json_t *issue(const ts_key_t *key, const ts_id_token_t *t)
{
    char *tok = NULL;
    json_t *claims = NULL, *header = NULL;

    assert_int_equal(ts_oauth_id_token_sign(key, t, &tok), 0);
    assert_non_null(tok);
    assert_int_equal(ts_jws_verify(tok, strlen(tok), TS_ALG_MASK(ts_key_alg(key)), "JWT", lookup, (void *)key, &claims, &header),
                     TS_JWS_OK);
    assert_string_equal(json_string_value(json_object_get(header, "typ")), "JWT");
    assert_string_equal(json_string_value(json_object_get(header, "alg")), ts_jws_alg_name(ts_key_alg(key)));
    assert_string_equal(json_string_value(json_object_get(header, "kid")), ts_key_kid(key));
    /* not an access token: a resource server checking typ at+jwt refuses it */
    assert_int_equal(ts_jws_verify(tok, strlen(tok), TS_ALG_MASK(ts_key_alg(key)), "at+jwt", lookup, (void *)key, NULL, NULL),
                     TS_JWS_TYP_MISMATCH);
    json_decref(header);
    free(tok);
    return claims;
}

static const char *str(const json_t *claims, const char *name)
{
    const json_t *v = json_object_get(claims, name);
    if (!json_is_string(v))
        fail_msg("claim %s is not a string", name);
    return json_string_value(v);
}

static json_int_t num(const json_t *claims, const char *name)
{
    const json_t *v = json_object_get(claims, name);
    if (!json_is_integer(v))
        fail_msg("claim %s is not an integer", name);
    return json_integer_value(v);
}

static void check_full(const ts_key_t *key)
{
    ts_id_token_t t = full();
    json_t *c = issue(key, &t);
    char want[64];

    assert_string_equal(str(c, "iss"), ISSUER);
    assert_string_equal(str(c, "sub"), "u-1");
    /* a single audience, as a string */
    assert_string_equal(str(c, "aud"), "rp");
    assert_string_equal(str(c, "azp"), "rp");
    assert_int_equal(num(c, "iat"), NOW);
    assert_int_equal(num(c, "exp"), NOW + 300);
    assert_int_equal(num(c, "auth_time"), NOW - 30);
    assert_string_equal(str(c, "nonce"), "n-0S6_WzA2Mj");
    expected_at_hash(ACCESS_TOKEN, want);
    assert_string_equal(str(c, "at_hash"), want);
    assert_string_equal(str(c, "acr"), "urn:example:loa:1");
    assert_true(json_is_array(json_object_get(c, "amr")));
    assert_int_equal(json_array_size(json_object_get(c, "amr")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(c, "amr"), 0)), "pwd");
    assert_string_equal(json_string_value(json_array_get(json_object_get(c, "amr"), 1)), "mfa");
    assert_string_equal(str(c, "name"), "Alice Liddell");
    assert_string_equal(str(c, "preferred_username"), "alice");
    assert_string_equal(str(c, "email"), "alice@example.com");
    assert_true(json_is_true(json_object_get(c, "email_verified")));
    assert_int_equal(json_object_size(c), 15);
    json_decref(c);
}

static void es256_token_carries_every_claim(void **state)
{
    check_full(es_key);
}

static void rs256_token_carries_every_claim(void **state)
{
    check_full(rs_key);
}

static void absent_values_leave_their_claims_out(void **state)
{
    ts_id_token_t t = minimal();
    json_t *c = issue(es_key, &t);
    static const char *absent[] = {"auth_time", "nonce", "at_hash", "acr", "amr", "name", "preferred_username", "email",
                                   "email_verified"};

    for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); ++i)
        if (json_object_get(c, absent[i]) != NULL)
            fail_msg("claim %s present", absent[i]);
    assert_int_equal(json_object_size(c), 6);
    json_decref(c);
    /* an empty amr list is no amr */
    t.amr = &no_amr;
    c = issue(rs_key, &t);
    assert_null(json_object_get(c, "amr"));
    json_decref(c);
}

static void user_claims_follow_the_granted_scope(void **state)
{
    ts_id_token_t t = full();
    json_t *c;

    t.scope = "openid";
    c = issue(es_key, &t);
    assert_null(json_object_get(c, "name"));
    assert_null(json_object_get(c, "email"));
    json_decref(c);
    t.scope = "openid email";
    c = issue(es_key, &t);
    assert_null(json_object_get(c, "name"));
    assert_null(json_object_get(c, "preferred_username"));
    assert_string_equal(str(c, "email"), "alice@example.com");
    json_decref(c);
}

static void sub_is_the_tokens_subject_not_overridden_by_the_user(void **state)
{
    ts_id_token_t t = full();
    ts_user_t other = alice;
    json_t *c;

    other.subject = "someone-else";
    t.user = &other;
    c = issue(es_key, &t);
    assert_string_equal(str(c, "sub"), "u-1");
    json_decref(c);
}

static void at_hash_known_answers(void **state)
{
    char got[23], want[64];
    static const char *tokens[] = {ACCESS_TOKEN, "", "a", "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"};

    for (size_t i = 0; i < sizeof(tokens) / sizeof(tokens[0]); ++i) {
        memset(got, 'X', sizeof(got));
        ts_oauth_at_hash(tokens[i], got);
        expected_at_hash(tokens[i], want);
        assert_int_equal(strlen(got), 22);
        assert_string_equal(got, want);
    }
    /* the access token and at_hash of OpenID Connect Core's Appendix A examples */
    ts_oauth_at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y", got);
    assert_string_equal(got, "77QmUPtjPfzWtF2AnpK9RQ");
}

static void missing_required_values_fail(void **state)
{
    char *tok = (char *)"untouched";
    ts_id_token_t t = minimal();

    t.issuer = NULL;
    assert_int_equal(ts_oauth_id_token_sign(es_key, &t, &tok), -1);
    assert_null(tok);
    t = minimal();
    t.subject = NULL;
    assert_int_equal(ts_oauth_id_token_sign(es_key, &t, &tok), -1);
    t = minimal();
    t.client_id = NULL;
    assert_int_equal(ts_oauth_id_token_sign(es_key, &t, &tok), -1);
    /* a value that is not UTF-8 cannot be a JSON string */
    t = minimal();
    t.nonce = "\xff";
    assert_int_equal(ts_oauth_id_token_sign(es_key, &t, &tok), -1);
    assert_null(tok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(es256_token_carries_every_claim),
        cmocka_unit_test(rs256_token_carries_every_claim),
        cmocka_unit_test(absent_values_leave_their_claims_out),
        cmocka_unit_test(user_claims_follow_the_granted_scope),
        cmocka_unit_test(sub_is_the_tokens_subject_not_overridden_by_the_user),
        cmocka_unit_test(at_hash_known_answers),
        cmocka_unit_test(missing_required_values_fail),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
