/* src/oauth/client_auth.c: client authentication by exactly one method, the one the client registered
 * (RFC 6749 §2.3, RFC 7523 §3). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "tessera/oauth.h"
#include "tessera/oauth_metadata.h"

#define NOW 1700000000
#define ISSUER "https://as.example.com"
#define ENDPOINT "https://as.example.com/token"

static ts_directory_t *dir;
static ts_secret_hasher_t hasher;
static ts_client_auth_ctx_t ctx;
/* owned by the directory (it frees its clients' keys) */
static ts_key_t *es_key, *rs_key, *two_a, *two_b, *basic_key;
/* not registered anywhere */
static ts_key_t *stranger;

/* ---- building the directory by hand ---------------------------------------------------------------- */

static ts_client_t *add_client(const char *id, ts_auth_method_t method)
{
    ts_client_t *c = ts_arena_alloc(&dir->arena, sizeof(*c));
    assert_non_null(c);
    c->client_id = ts_arena_strdup(&dir->arena, id);
    c->auth_method = method;
    c->active = 1;
    assert_int_equal(ts_strmap_put(&dir->clients, c->client_id, strlen(c->client_id), c), 0);
    return c;
}

static void add_secret(ts_client_t *c, const char *secret, int64_t expires_at)
{
    ts_client_secret_t *s = ts_arena_alloc(&dir->arena, (c->num_secrets + 1) * sizeof(*s));
    char *hash = ts_arena_alloc(&dir->arena, TS_SECRET_HASH_LEN);
    assert_non_null(s);
    assert_non_null(hash);
    if (c->num_secrets != 0)
        memcpy(s, c->secrets, c->num_secrets * sizeof(*s));
    ts_secret_hash(&hasher, secret, strlen(secret), hash);
    s[c->num_secrets].hash = hash;
    s[c->num_secrets].expires_at = expires_at;
    c->secrets = s;
    c->num_secrets++;
}

static void add_key(ts_client_t *c, ts_key_t *key)
{
    ts_key_t **keys = ts_arena_alloc(&dir->arena, (c->num_keys + 1) * sizeof(*keys));
    assert_non_null(keys);
    assert_non_null(key);
    if (c->num_keys != 0)
        memcpy(keys, c->keys, c->num_keys * sizeof(*keys));
    keys[c->num_keys++] = key;
    c->keys = keys;
}

/* n characters repeating pattern, in a static buffer */
static const char *long_secret(size_t n, const char *pattern)
{
    static char buf[TS_CLIENT_SECRET_MAX + 8];
    size_t plen = strlen(pattern);
    assert_true(n < sizeof(buf));
    for (size_t i = 0; i < n; ++i)
        buf[i] = pattern[i % plen];
    buf[n] = '\0';
    return buf;
}

static int setup(void **state)
{
    ts_kek_t kek;
    ts_client_t *c;

    memset(kek.key, 0x5a, sizeof(kek.key));
    if (ts_secret_hasher_init(&hasher, &kek) != 0 || (dir = ts_directory_create()) == NULL)
        return -1;
    if ((es_key = ts_key_generate(TS_ALG_ES256)) == NULL || (rs_key = ts_key_generate(TS_ALG_RS256)) == NULL ||
        (two_a = ts_key_generate(TS_ALG_ES256)) == NULL || (two_b = ts_key_generate(TS_ALG_ES256)) == NULL ||
        (basic_key = ts_key_generate(TS_ALG_ES256)) == NULL ||
        (stranger = ts_key_generate(TS_ALG_ES256)) == NULL)
        return -1;

    c = add_client("basic-client", TS_AUTH_CLIENT_SECRET_BASIC);
    add_secret(c, "basic-secret", 0);
    /* no real client has an empty id; this one shows that Basic refuses an empty id before any lookup */
    c = add_client("", TS_AUTH_CLIENT_SECRET_BASIC);
    add_secret(c, "empty-id-secret", 0);
    /* registered keys, but registered for client_secret_basic */
    c = add_client("basic-with-keys", TS_AUTH_CLIENT_SECRET_BASIC);
    add_secret(c, "bwk-secret", 0);
    add_key(c, basic_key);
    c = add_client("long-secret", TS_AUTH_CLIENT_SECRET_BASIC);
    add_secret(c, long_secret(512, "S"), 0);
    c = add_client("too-long-secret", TS_AUTH_CLIENT_SECRET_BASIC);
    add_secret(c, long_secret(513, "S"), 0);
    c = add_client("encoded-secret", TS_AUTH_CLIENT_SECRET_BASIC);
    add_secret(c, long_secret(TS_CLIENT_SECRET_MAX, "ab+/"), 0);
    c = add_client("a:b", TS_AUTH_CLIENT_SECRET_BASIC);
    add_secret(c, "p:w% x", 0);
    c = add_client("post-client", TS_AUTH_CLIENT_SECRET_POST);
    add_secret(c, "post-secret", 0);
    c = add_client("disabled", TS_AUTH_CLIENT_SECRET_BASIC);
    add_secret(c, "disabled-secret", 0);
    c->active = 0;
    c = add_client("rotated", TS_AUTH_CLIENT_SECRET_BASIC);
    add_secret(c, "expired-secret", NOW - 1);
    add_secret(c, "expires-now", NOW);
    add_secret(c, "grace-secret", NOW + 3600);
    add_secret(c, "new-secret", 0);
    add_client("public", TS_AUTH_NONE);
    c = add_client("public-disabled", TS_AUTH_NONE);
    c->active = 0;
    c = add_client("jwt-es", TS_AUTH_PRIVATE_KEY_JWT);
    add_key(c, es_key);
    c = add_client("jwt-rs", TS_AUTH_PRIVATE_KEY_JWT);
    add_key(c, rs_key);
    c = add_client("jwt-two", TS_AUTH_PRIVATE_KEY_JWT);
    add_key(c, two_a);
    add_key(c, two_b);

    ctx = (ts_client_auth_ctx_t){dir, &hasher, ISSUER, ENDPOINT, NOW};
    return 0;
}

static int teardown(void **state)
{
    ts_ref_release(&dir->super);
    ts_key_free(stranger);
    return 0;
}

/* ---- requests ---------------------------------------------------------------------------------------- */

static ts_client_auth_t out;

static ts_err_t authenticate(const ts_client_credentials_t *in)
{
    memset(&out, 0xa5, sizeof(out));
    return ts_oauth_client_authenticate(&ctx, in, &out);
}

/* "Basic " + base64(raw[0..len)) in a static buffer */
static const char *basic_n(const char *raw, size_t len)
{
    static char header[2048];
    strcpy(header, "Basic ");
    EVP_EncodeBlock((unsigned char *)header + 6, (const unsigned char *)raw, (int)len);
    return header;
}

static const char *basic(const char *raw)
{
    return basic_n(raw, strlen(raw));
}

static ts_client_credentials_t with_header(const char *authorization)
{
    return (ts_client_credentials_t){.authorization = authorization, .authorization_len = strlen(authorization)};
}

static void assert_refused(ts_err_t got, ts_err_t want)
{
    assert_int_equal(got, want);
    assert_null(out.client);
    assert_non_null(out.why);
}

static void assert_client(ts_err_t got, const char *client_id, ts_auth_method_t method)
{
    if (got != TS_OK)
        fail_msg("refused %s: %s", client_id, out.why);
    assert_non_null(out.client);
    assert_string_equal(out.client->client_id, client_id);
    assert_int_equal(out.method, method);
}

/* ---- client_secret_basic ----------------------------------------------------------------------------- */

static void basic_with_right_secret_is_accepted(void **state)
{
    ts_client_credentials_t in = with_header(basic("basic-client:basic-secret"));
    assert_client(authenticate(&in), "basic-client", TS_AUTH_CLIENT_SECRET_BASIC);
    assert_int_equal(out.basic_attempted, 1);
}

static void basic_scheme_is_case_insensitive(void **state)
{
    char header[2100];
    snprintf(header, sizeof(header), "bAsIc   %s", basic("basic-client:basic-secret") + 6);
    ts_client_credentials_t in = with_header(header);
    assert_client(authenticate(&in), "basic-client", TS_AUTH_CLIENT_SECRET_BASIC);
}

static void basic_id_and_secret_are_form_decoded(void **state)
{
    /* RFC 6749 §2.3.1: both are application/x-www-form-urlencoded before they are joined by ':' */
    ts_client_credentials_t in = with_header(basic("a%3Ab:p%3Aw%25+x"));
    assert_client(authenticate(&in), "a:b", TS_AUTH_CLIENT_SECRET_BASIC);
    /* undecoded, the first ':' would split "a:b" */
    in = with_header(basic("a:b:p:w% x"));
    assert_refused(authenticate(&in), TS_ERR_INVALID_CLIENT);
}

static void basic_with_wrong_secret_is_refused(void **state)
{
    static const char *const wrong[] = {"basic-client:basic-secreT", "basic-client:basic-secret ", "basic-client:",
                                        "basic-client:post-secret"};
    for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); ++i) {
        ts_client_credentials_t in = with_header(basic(wrong[i]));
        assert_refused(authenticate(&in), TS_ERR_INVALID_CLIENT);
        assert_int_equal(out.basic_attempted, 1);
    }
}

static void unknown_client_is_refused(void **state)
{
    ts_client_credentials_t in = with_header(basic("nobody:basic-secret"));
    assert_refused(authenticate(&in), TS_ERR_INVALID_CLIENT);
    in = (ts_client_credentials_t){.client_id = "nobody", .client_secret = "post-secret"};
    assert_refused(authenticate(&in), TS_ERR_INVALID_CLIENT);
}

static void disabled_client_is_refused(void **state)
{
    ts_client_credentials_t in = with_header(basic("disabled:disabled-secret"));
    assert_refused(authenticate(&in), TS_ERR_INVALID_CLIENT);
    assert_int_equal(out.disabled, 1); /* right credentials: the grant endpoints say invalid_grant */
    in = (ts_client_credentials_t){.client_id = "public-disabled"};
    assert_refused(authenticate(&in), TS_ERR_INVALID_CLIENT);
    assert_int_equal(out.disabled, 1);
    in = with_header(basic("disabled:wrong-secret"));
    assert_refused(authenticate(&in), TS_ERR_INVALID_CLIENT);
    assert_int_equal(out.disabled, 0); /* a wrong secret learns nothing about the client's status */
}

static void post_client_using_basic_is_refused(void **state)
{
    ts_client_credentials_t in = with_header(basic("post-client:post-secret"));
    assert_refused(authenticate(&in), TS_ERR_INVALID_CLIENT);
    assert_int_equal(out.basic_attempted, 1);
}

static void basic_client_using_post_is_refused(void **state)
{
    ts_client_credentials_t in = {.client_id = "basic-client", .client_secret = "basic-secret"};
    assert_refused(authenticate(&in), TS_ERR_INVALID_CLIENT);
    assert_int_equal(out.basic_attempted, 0);
}

static void two_methods_at_once_are_an_invalid_request(void **state)
{
    const char *assertion = "x.y.z";
    ts_client_credentials_t in = with_header(basic("basic-client:basic-secret"));
    in.client_secret = "basic-secret";
    assert_refused(authenticate(&in), TS_ERR_INVALID_REQUEST);
    assert_int_equal(out.basic_attempted, 1);

    in = with_header(basic("basic-client:basic-secret"));
    in.client_assertion_type = TS_CLIENT_ASSERTION_TYPE;
    in.client_assertion = assertion;
    assert_refused(authenticate(&in), TS_ERR_INVALID_REQUEST);

    in = (ts_client_credentials_t){.client_id = "post-client", .client_secret = "post-secret",
                                   .client_assertion_type = TS_CLIENT_ASSERTION_TYPE, .client_assertion = assertion};
    assert_refused(authenticate(&in), TS_ERR_INVALID_REQUEST);
}

static void client_id_parameter_must_match_basic(void **state)
{
    ts_client_credentials_t in = with_header(basic("basic-client:basic-secret"));
    in.client_id = "post-client";
    assert_refused(authenticate(&in), TS_ERR_INVALID_CLIENT);
    assert_int_equal(out.basic_attempted, 1);
    in.client_id = "basic-client";
    assert_client(authenticate(&in), "basic-client", TS_AUTH_CLIENT_SECRET_BASIC);
}

static void malformed_basic_is_refused_with_basic_attempted(void **state)
{
    char headers[16][2200];
    size_t n = 0;
    char longid[600], longsecret[600];

    strcpy(headers[n++], "Basic !!!!");                               /* not base64 */
    strcpy(headers[n++], basic("no-colon"));                          /* no ':' */
    strcpy(headers[n++], basic(":empty-id-secret"));                  /* empty id */
    /* "basic-client:basic-secret" is 25 bytes: its base64 ends in "==" */
    strcpy(headers[n], basic("basic-client:basic-secret"));
    assert_non_null(strstr(headers[n], "=="));
    *strchr(headers[n++], '=') = '\0'; /* padding missing */
    strcpy(headers[n], basic("basic-client:basic-secret"));
    strchr(headers[n], '=')[-1] += 1; /* 'A' -> 'B': non-canonical trailing bits */
    ++n;
    strcpy(headers[n++], basic_n("basic-client\0x:basic-secret", 27));  /* NUL in the id */
    strcpy(headers[n++], basic_n("basic-client:basic-secret\0x", 27));  /* NUL in the secret */
    strcpy(headers[n++], basic("basic%zz:basic-secret"));               /* bad escape in the id */
    strcpy(headers[n++], basic("basic-client:basic%00secret"));         /* encoded NUL in the secret */
    memset(longid, 'i', 513);
    strcpy(longid + 513, ":basic-secret");
    strcpy(headers[n++], basic(longid)); /* id over 512 */
    strcpy(longsecret, "basic-client:");
    memset(longsecret + 13, 's', 513);
    longsecret[13 + 513] = '\0';
    strcpy(headers[n++], basic(longsecret)); /* secret over 512 */
    snprintf(headers[n++], sizeof(headers[0]), "Bearer %s", basic("basic-client:basic-secret") + 6);
    strcpy(headers[n++], "Basic");
    for (size_t i = 0; i < n; ++i) {
        ts_client_credentials_t in = with_header(headers[i]);
        ts_err_t err = authenticate(&in);
        if (err != TS_ERR_INVALID_CLIENT || out.client != NULL || out.basic_attempted != 1)
            fail_msg("header %zu (%.60s): err %d, basic_attempted %d", i, headers[i], err, out.basic_attempted);
    }
}

static void basic_secret_of_512_characters_is_accepted(void **state)
{
    char raw[600];
    snprintf(raw, sizeof(raw), "long-secret:%s", long_secret(512, "S"));
    ts_client_credentials_t in = with_header(basic(raw));
    assert_client(authenticate(&in), "long-secret", TS_AUTH_CLIENT_SECRET_BASIC);
}

static void basic_secret_over_512_characters_is_refused(void **state)
{
    /* even for a client registered with it: registration allows TS_CLIENT_SECRET_MAX (512) characters */
    char raw[600];
    snprintf(raw, sizeof(raw), "too-long-secret:%s", long_secret(513, "S"));
    ts_client_credentials_t in = with_header(basic(raw));
    assert_refused(authenticate(&in), TS_ERR_INVALID_CLIENT);
    assert_int_equal(out.basic_attempted, 1);
}

static void basic_longest_registrable_secret_form_encoded_is_accepted(void **state)
{
    char raw[1200] = "encoded-secret:";
    for (int i = 0; i < TS_CLIENT_SECRET_MAX / 4; ++i)
        strcat(raw, "ab%2B%2F");
    ts_client_credentials_t in = with_header(basic(raw));
    assert_client(authenticate(&in), "encoded-secret", TS_AUTH_CLIENT_SECRET_BASIC);
}

/* ---- secret rotation ------------------------------------------------------------------------------------ */

static void expired_rotated_secret_is_refused(void **state)
{
    ts_client_credentials_t in = with_header(basic("rotated:expired-secret"));
    assert_refused(authenticate(&in), TS_ERR_INVALID_CLIENT);
    /* expires_at is the first second it no longer works */
    in = with_header(basic("rotated:expires-now"));
    assert_refused(authenticate(&in), TS_ERR_INVALID_CLIENT);
}

static void old_secret_works_until_it_expires(void **state)
{
    ts_client_credentials_t in = with_header(basic("rotated:grace-secret"));
    assert_client(authenticate(&in), "rotated", TS_AUTH_CLIENT_SECRET_BASIC);
    in = with_header(basic("rotated:new-secret"));
    assert_client(authenticate(&in), "rotated", TS_AUTH_CLIENT_SECRET_BASIC);
    ctx.now = NOW + 3600;
    in = with_header(basic("rotated:grace-secret"));
    assert_refused(authenticate(&in), TS_ERR_INVALID_CLIENT);
    ctx.now = NOW;
}

/* ---- client_secret_post, none, no credentials ------------------------------------------------------------ */

static void post_with_right_secret_is_accepted(void **state)
{
    ts_client_credentials_t in = {.client_id = "post-client", .client_secret = "post-secret"};
    assert_client(authenticate(&in), "post-client", TS_AUTH_CLIENT_SECRET_POST);
    assert_int_equal(out.basic_attempted, 0);
    in.client_secret = "post-secreT";
    assert_refused(authenticate(&in), TS_ERR_INVALID_CLIENT);
}

static void post_without_client_id_is_refused(void **state)
{
    ts_client_credentials_t in = {.client_secret = "post-secret"};
    assert_refused(authenticate(&in), TS_ERR_INVALID_CLIENT);
}

static void public_client_with_only_client_id_is_accepted(void **state)
{
    ts_client_credentials_t in = {.client_id = "public"};
    assert_client(authenticate(&in), "public", TS_AUTH_NONE);
}

static void public_client_with_a_secret_is_refused(void **state)
{
    ts_client_credentials_t in = {.client_id = "public", .client_secret = "anything"};
    assert_refused(authenticate(&in), TS_ERR_INVALID_CLIENT);
    in = with_header(basic("public:"));
    assert_refused(authenticate(&in), TS_ERR_INVALID_CLIENT);
}

static void confidential_client_with_only_client_id_is_refused(void **state)
{
    static const char *const ids[] = {"basic-client", "post-client", "jwt-es", "nobody"};
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); ++i) {
        ts_client_credentials_t in = {.client_id = ids[i]};
        assert_refused(authenticate(&in), TS_ERR_INVALID_CLIENT);
    }
}

static void no_credentials_is_refused(void **state)
{
    ts_client_credentials_t in = {0};
    assert_refused(authenticate(&in), TS_ERR_INVALID_CLIENT);
    assert_int_equal(out.basic_attempted, 0);
}

/* ---- private_key_jwt ------------------------------------------------------------------------------------- */

static json_t *claims_for(const char *client_id)
{
    json_t *c = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}", "iss", client_id, "sub", client_id, "aud", ISSUER, "iat",
                          (json_int_t)NOW, "exp", (json_int_t)(NOW + 60), "jti", "assertion-1");
    assert_non_null(c);
    return c;
}

/* signs claims with key and authenticates with the result (client_id NULL: not sent); claims are consumed */
static ts_err_t assert_with(const ts_key_t *key, json_t *claims, const char *client_id)
{
    char *jwt = NULL;
    assert_int_equal(ts_jws_sign(key, NULL, claims, &jwt), 0);
    json_decref(claims);
    ts_client_credentials_t in = {.client_id = client_id, .client_assertion_type = TS_CLIENT_ASSERTION_TYPE,
                                  .client_assertion = jwt};
    ts_err_t err = authenticate(&in);
    free(jwt);
    return err;
}

/* jwt-es's own key signs */
static ts_err_t es_assertion(json_t *claims)
{
    return assert_with(es_key, claims, NULL);
}

static void private_key_jwt_es256_is_accepted(void **state)
{
    json_t *c = claims_for("jwt-es");
    json_object_set_new(c, "jti", json_string("es-jti-42"));
    json_object_set_new(c, "exp", json_integer(NOW + 120));
    assert_client(assert_with(es_key, c, NULL), "jwt-es", TS_AUTH_PRIVATE_KEY_JWT);
    assert_string_equal(out.jti, "es-jti-42");
    assert_int_equal(out.assertion_exp, NOW + 120);
    assert_int_equal(out.basic_attempted, 0);
}

static void private_key_jwt_rs256_is_accepted(void **state)
{
    json_t *c = claims_for("jwt-rs");
    json_object_set_new(c, "jti", json_string("rs-jti"));
    assert_client(assert_with(rs_key, c, "jwt-rs"), "jwt-rs", TS_AUTH_PRIVATE_KEY_JWT);
    assert_string_equal(out.jti, "rs-jti");
    assert_int_equal(out.assertion_exp, NOW + 60);
}

static void wrong_client_assertion_type_is_an_invalid_request(void **state)
{
    static const char *const types[] = {"urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
                                        "URN:IETF:PARAMS:OAUTH:CLIENT-ASSERTION-TYPE:JWT-BEARER", "", NULL};
    char *jwt = NULL;
    json_t *c = claims_for("jwt-es");
    assert_int_equal(ts_jws_sign(es_key, NULL, c, &jwt), 0);
    json_decref(c);
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); ++i) {
        ts_client_credentials_t in = {.client_assertion_type = types[i], .client_assertion = jwt};
        assert_refused(authenticate(&in), TS_ERR_INVALID_REQUEST);
    }
    free(jwt);
}

static void assertion_type_without_assertion_is_refused(void **state)
{
    ts_client_credentials_t in = {.client_assertion_type = TS_CLIENT_ASSERTION_TYPE};
    assert_refused(authenticate(&in), TS_ERR_INVALID_CLIENT);
    in.client_assertion = "not-a-jwt";
    assert_refused(authenticate(&in), TS_ERR_INVALID_CLIENT);
}

static void assertion_iss_must_equal_sub(void **state)
{
    json_t *c = claims_for("jwt-es");
    json_object_set_new(c, "iss", json_string("jwt-rs"));
    assert_refused(es_assertion(c), TS_ERR_INVALID_CLIENT);
    c = claims_for("jwt-es");
    json_object_del(c, "iss");
    assert_refused(es_assertion(c), TS_ERR_INVALID_CLIENT);
}

static void assertion_of_another_client_is_refused(void **state)
{
    /* jwt-es's key signing an assertion that claims to be jwt-rs: the lookup picks jwt-rs's keys */
    assert_refused(assert_with(es_key, claims_for("jwt-rs"), NULL), TS_ERR_INVALID_CLIENT);
    /* and a client that does not use private_key_jwt cannot start to */
    assert_refused(assert_with(es_key, claims_for("basic-client"), NULL), TS_ERR_INVALID_CLIENT);
}

static void assertion_with_wrong_audience_is_refused(void **state)
{
    static const char *const bad[] = {"https://evil.example.com", ISSUER "/", "https://as.example.com/introspect", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        json_t *c = claims_for("jwt-es");
        json_object_set_new(c, "aud", json_string(bad[i]));
        assert_refused(es_assertion(c), TS_ERR_INVALID_CLIENT);
    }
    json_t *c = claims_for("jwt-es");
    json_object_del(c, "aud");
    assert_refused(es_assertion(c), TS_ERR_INVALID_CLIENT);
    c = claims_for("jwt-es");
    json_object_set_new(c, "aud", json_pack("[s,s]", "https://a.example", "https://b.example"));
    assert_refused(es_assertion(c), TS_ERR_INVALID_CLIENT);
    c = claims_for("jwt-es");
    json_object_set_new(c, "aud", json_integer(1));
    assert_refused(es_assertion(c), TS_ERR_INVALID_CLIENT);
}

static void assertion_audience_array_with_issuer_is_accepted(void **state)
{
    json_t *c = claims_for("jwt-es");
    json_object_set_new(c, "aud", json_pack("[s,s]", "https://other.example", ISSUER));
    assert_client(es_assertion(c), "jwt-es", TS_AUTH_PRIVATE_KEY_JWT);
}

static void assertion_audience_nested_in_an_array_is_refused(void **state)
{
    json_t *c = claims_for("jwt-es");
    json_object_set_new(c, "aud", json_pack("[[s]]", ISSUER));
    assert_refused(es_assertion(c), TS_ERR_INVALID_CLIENT);
}

static void assertion_audience_may_be_the_endpoint_url(void **state)
{
    json_t *c = claims_for("jwt-es");
    json_object_set_new(c, "aud", json_string(ENDPOINT));
    assert_client(es_assertion(c), "jwt-es", TS_AUTH_PRIVATE_KEY_JWT);
    /* but only when the caller names one */
    ctx.endpoint_url = NULL;
    c = claims_for("jwt-es");
    json_object_set_new(c, "aud", json_string(ENDPOINT));
    assert_refused(es_assertion(c), TS_ERR_INVALID_CLIENT);
    ctx.endpoint_url = ENDPOINT;
}

static void expired_assertion_is_refused(void **state)
{
    static const int64_t exps[] = {NOW - 1, NOW};
    for (size_t i = 0; i < sizeof(exps) / sizeof(exps[0]); ++i) {
        json_t *c = claims_for("jwt-es");
        json_object_set_new(c, "exp", json_integer(exps[i]));
        assert_refused(es_assertion(c), TS_ERR_INVALID_CLIENT);
    }
    json_t *c = claims_for("jwt-es");
    json_object_del(c, "exp");
    assert_refused(es_assertion(c), TS_ERR_INVALID_CLIENT);
    c = claims_for("jwt-es");
    json_object_set_new(c, "exp", json_string("1700000060"));
    assert_refused(es_assertion(c), TS_ERR_INVALID_CLIENT);
}

static void assertion_living_too_long_is_refused(void **state)
{
    json_t *c = claims_for("jwt-es");
    json_object_set_new(c, "exp", json_integer(NOW + TS_CLIENT_ASSERTION_MAX_LIFETIME + 1));
    assert_refused(es_assertion(c), TS_ERR_INVALID_CLIENT);
    c = claims_for("jwt-es");
    json_object_set_new(c, "exp", json_integer(NOW + TS_CLIENT_ASSERTION_MAX_LIFETIME));
    assert_client(es_assertion(c), "jwt-es", TS_AUTH_PRIVATE_KEY_JWT);
}

static void assertion_from_the_future_is_refused(void **state)
{
    static const char *const names[] = {"iat", "nbf"};
    for (size_t i = 0; i < 2; ++i) {
        json_t *c = claims_for("jwt-es");
        json_object_set_new(c, names[i], json_integer(NOW + 11));
        assert_refused(es_assertion(c), TS_ERR_INVALID_CLIENT);
        /* ten seconds of clock skew are tolerated */
        c = claims_for("jwt-es");
        json_object_set_new(c, names[i], json_integer(NOW + 10));
        assert_client(es_assertion(c), "jwt-es", TS_AUTH_PRIVATE_KEY_JWT);
        c = claims_for("jwt-es");
        json_object_set_new(c, names[i], json_string("now"));
        assert_refused(es_assertion(c), TS_ERR_INVALID_CLIENT);
    }
}

static void assertion_without_jti_is_refused(void **state)
{
    char longjti[300];
    json_t *c = claims_for("jwt-es");
    json_object_del(c, "jti");
    assert_refused(es_assertion(c), TS_ERR_INVALID_CLIENT);
    c = claims_for("jwt-es");
    json_object_set_new(c, "jti", json_string(""));
    assert_refused(es_assertion(c), TS_ERR_INVALID_CLIENT);
    c = claims_for("jwt-es");
    json_object_set_new(c, "jti", json_integer(7));
    assert_refused(es_assertion(c), TS_ERR_INVALID_CLIENT);
    /* out->jti holds 256 characters, not 257 */
    memset(longjti, 'j', 257);
    longjti[257] = '\0';
    c = claims_for("jwt-es");
    json_object_set_new(c, "jti", json_string(longjti));
    assert_refused(es_assertion(c), TS_ERR_INVALID_CLIENT);
    longjti[256] = '\0';
    c = claims_for("jwt-es");
    json_object_set_new(c, "jti", json_string(longjti));
    assert_client(es_assertion(c), "jwt-es", TS_AUTH_PRIVATE_KEY_JWT);
    assert_string_equal(out.jti, longjti);
}

static void assertion_signed_with_another_key_is_refused(void **state)
{
    /* the stranger's own kid names no registered key */
    assert_refused(assert_with(stranger, claims_for("jwt-es"), NULL), TS_ERR_INVALID_CLIENT);
    /* the other registered key of another client */
    assert_refused(assert_with(two_a, claims_for("jwt-es"), NULL), TS_ERR_INVALID_CLIENT);
}

/* ---- hand-made tokens: any header, signed with OpenSSL directly ---------------------------------------- */

static EVP_PKEY *read_private(const ts_key_t *key)
{
    unsigned char *der;
    const unsigned char *p;
    size_t len;
    EVP_PKEY *pkey;

    assert_int_equal(ts_key_export_private(key, &der, &len), 0);
    p = der;
    pkey = d2i_AutoPrivateKey(NULL, &p, (long)len);
    ts_crypto_cleanse(der, len);
    free(der);
    assert_non_null(pkey);
    return pkey;
}

static void b64u_append(char *dst, const void *in, size_t n)
{
    ts_b64url_encode(in, n, dst + strlen(dst));
}

/* header.payload.signature with the signature made by key (NULL: an empty signature), or by HMAC-SHA256 under
 * hmac_key when that is non-NULL; malloc'd */
static char *raw_token(const ts_key_t *key, const char *hmac_key, const char *header, const json_t *claims)
{
    char *payload = json_dumps(claims, JSON_COMPACT);
    char *tok = calloc(1, 2 * (strlen(header) + strlen(payload)) + 1024);
    unsigned char sig[512], raw[64];
    size_t siglen = sizeof(sig);

    assert_non_null(tok);
    b64u_append(tok, header, strlen(header));
    strcat(tok, ".");
    b64u_append(tok, payload, strlen(payload));
    free(payload);
    if (hmac_key != NULL) {
        unsigned int maclen = 0;
        assert_non_null(HMAC(EVP_sha256(), hmac_key, (int)strlen(hmac_key), (unsigned char *)tok, strlen(tok), sig, &maclen));
        strcat(tok, ".");
        b64u_append(tok, sig, maclen);
        return tok;
    }
    if (key == NULL) {
        strcat(tok, ".");
        return tok;
    }
    EVP_PKEY *pkey = read_private(key);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pkey), 1);
    assert_int_equal(EVP_DigestSign(md, sig, &siglen, (unsigned char *)tok, strlen(tok)), 1);
    EVP_MD_CTX_free(md);
    strcat(tok, ".");
    if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC) {
        const unsigned char *p = sig;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)siglen);
        const BIGNUM *r, *s;
        assert_non_null(es);
        ECDSA_SIG_get0(es, &r, &s);
        assert_int_equal(BN_bn2binpad(r, raw, 32), 32);
        assert_int_equal(BN_bn2binpad(s, raw + 32, 32), 32);
        ECDSA_SIG_free(es);
        b64u_append(tok, raw, 64);
    } else {
        b64u_append(tok, sig, siglen);
    }
    EVP_PKEY_free(pkey);
    return tok;
}

static ts_err_t assert_raw(char *jwt, const char *client_id)
{
    ts_client_credentials_t in = {.client_id = client_id, .client_assertion_type = TS_CLIENT_ASSERTION_TYPE,
                                  .client_assertion = jwt};
    ts_err_t err = authenticate(&in);
    free(jwt);
    return err;
}

static void raw_token_helper_makes_acceptable_assertions(void **state)
{
    /* so that the refusals below are about their one difference */
    char header[256];
    json_t *c = claims_for("jwt-es");
    snprintf(header, sizeof(header), "{\"alg\":\"ES256\",\"kid\":\"%s\"}", ts_key_kid(es_key));
    assert_client(assert_raw(raw_token(es_key, NULL, header, c), NULL), "jwt-es", TS_AUTH_PRIVATE_KEY_JWT);
    json_decref(c);
}

static void assertion_with_registered_kid_but_foreign_signature_is_refused(void **state)
{
    char header[256];
    json_t *c = claims_for("jwt-es");
    snprintf(header, sizeof(header), "{\"alg\":\"ES256\",\"kid\":\"%s\"}", ts_key_kid(es_key));
    assert_refused(assert_raw(raw_token(stranger, NULL, header, c), NULL), TS_ERR_INVALID_CLIENT);
    json_decref(c);
}

static void assertion_with_alg_none_or_hs256_is_refused(void **state)
{
    char header[256];
    json_t *c = claims_for("jwt-es");
    assert_refused(assert_raw(raw_token(NULL, NULL, "{\"alg\":\"none\"}", c), NULL), TS_ERR_INVALID_CLIENT);
    snprintf(header, sizeof(header), "{\"alg\":\"none\",\"kid\":\"%s\"}", ts_key_kid(es_key));
    assert_refused(assert_raw(raw_token(NULL, NULL, header, c), NULL), TS_ERR_INVALID_CLIENT);
    snprintf(header, sizeof(header), "{\"alg\":\"HS256\",\"kid\":\"%s\"}", ts_key_kid(es_key));
    assert_refused(assert_raw(raw_token(NULL, "secret", header, c), NULL), TS_ERR_INVALID_CLIENT);
    /* the algorithm of the other key type, signed by the registered key: refused too */
    snprintf(header, sizeof(header), "{\"alg\":\"RS256\",\"kid\":\"%s\"}", ts_key_kid(es_key));
    assert_refused(assert_raw(raw_token(es_key, NULL, header, c), NULL), TS_ERR_INVALID_CLIENT);
    json_decref(c);
}

static void assertion_without_kid_needs_an_unambiguous_key(void **state)
{
    json_t *c = claims_for("jwt-es");
    assert_client(assert_raw(raw_token(es_key, NULL, "{\"alg\":\"ES256\"}", c), NULL), "jwt-es", TS_AUTH_PRIVATE_KEY_JWT);
    json_decref(c);
    /* jwt-two has two ES256 keys: without a kid, neither is chosen, even the one that signed */
    c = claims_for("jwt-two");
    assert_refused(assert_raw(raw_token(two_a, NULL, "{\"alg\":\"ES256\"}", c), NULL), TS_ERR_INVALID_CLIENT);
    assert_refused(assert_raw(raw_token(two_b, NULL, "{\"alg\":\"ES256\"}", c), NULL), TS_ERR_INVALID_CLIENT);
    json_decref(c);
    /* with kids, both work */
    assert_client(assert_with(two_a, claims_for("jwt-two"), NULL), "jwt-two", TS_AUTH_PRIVATE_KEY_JWT);
    assert_client(assert_with(two_b, claims_for("jwt-two"), NULL), "jwt-two", TS_AUTH_PRIVATE_KEY_JWT);
}

static void client_id_parameter_must_match_assertion_subject(void **state)
{
    assert_refused(assert_with(es_key, claims_for("jwt-es"), "jwt-rs"), TS_ERR_INVALID_CLIENT);
    assert_refused(assert_with(es_key, claims_for("jwt-es"), "jwt-es "), TS_ERR_INVALID_CLIENT);
    assert_client(assert_with(es_key, claims_for("jwt-es"), "jwt-es"), "jwt-es", TS_AUTH_PRIVATE_KEY_JWT);
}

static void client_registered_for_basic_cannot_use_private_key_jwt(void **state)
{
    /* its keys are in the directory, and the assertion is otherwise perfect */
    assert_refused(assert_with(basic_key, claims_for("basic-with-keys"), NULL), TS_ERR_INVALID_CLIENT);
    ts_client_credentials_t in = with_header(basic("basic-with-keys:bwk-secret"));
    assert_client(authenticate(&in), "basic-with-keys", TS_AUTH_CLIENT_SECRET_BASIC);
}

static void disabled_private_key_jwt_client_is_refused(void **state)
{
    ts_client_t *c = (ts_client_t *)ts_directory_client(dir, "jwt-es");
    c->active = 0;
    assert_refused(assert_with(es_key, claims_for("jwt-es"), NULL), TS_ERR_INVALID_CLIENT);
    c->active = 1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(basic_with_right_secret_is_accepted),
        cmocka_unit_test(basic_scheme_is_case_insensitive),
        cmocka_unit_test(basic_id_and_secret_are_form_decoded),
        cmocka_unit_test(basic_with_wrong_secret_is_refused),
        cmocka_unit_test(unknown_client_is_refused),
        cmocka_unit_test(disabled_client_is_refused),
        cmocka_unit_test(post_client_using_basic_is_refused),
        cmocka_unit_test(basic_client_using_post_is_refused),
        cmocka_unit_test(two_methods_at_once_are_an_invalid_request),
        cmocka_unit_test(client_id_parameter_must_match_basic),
        cmocka_unit_test(malformed_basic_is_refused_with_basic_attempted),
        cmocka_unit_test(basic_secret_of_512_characters_is_accepted),
        cmocka_unit_test(basic_secret_over_512_characters_is_refused),
        cmocka_unit_test(basic_longest_registrable_secret_form_encoded_is_accepted),
        cmocka_unit_test(expired_rotated_secret_is_refused),
        cmocka_unit_test(old_secret_works_until_it_expires),
        cmocka_unit_test(post_with_right_secret_is_accepted),
        cmocka_unit_test(post_without_client_id_is_refused),
        cmocka_unit_test(public_client_with_only_client_id_is_accepted),
        cmocka_unit_test(public_client_with_a_secret_is_refused),
        cmocka_unit_test(confidential_client_with_only_client_id_is_refused),
        cmocka_unit_test(no_credentials_is_refused),
        cmocka_unit_test(private_key_jwt_es256_is_accepted),
        cmocka_unit_test(private_key_jwt_rs256_is_accepted),
        cmocka_unit_test(wrong_client_assertion_type_is_an_invalid_request),
        cmocka_unit_test(assertion_type_without_assertion_is_refused),
        cmocka_unit_test(assertion_iss_must_equal_sub),
        cmocka_unit_test(assertion_of_another_client_is_refused),
        cmocka_unit_test(assertion_with_wrong_audience_is_refused),
        cmocka_unit_test(assertion_audience_array_with_issuer_is_accepted),
        cmocka_unit_test(assertion_audience_nested_in_an_array_is_refused),
        cmocka_unit_test(assertion_audience_may_be_the_endpoint_url),
        cmocka_unit_test(expired_assertion_is_refused),
        cmocka_unit_test(assertion_living_too_long_is_refused),
        cmocka_unit_test(assertion_from_the_future_is_refused),
        cmocka_unit_test(assertion_without_jti_is_refused),
        cmocka_unit_test(assertion_signed_with_another_key_is_refused),
        cmocka_unit_test(raw_token_helper_makes_acceptable_assertions),
        cmocka_unit_test(assertion_with_registered_kid_but_foreign_signature_is_refused),
        cmocka_unit_test(assertion_with_alg_none_or_hs256_is_refused),
        cmocka_unit_test(assertion_without_kid_needs_an_unambiguous_key),
        cmocka_unit_test(client_id_parameter_must_match_assertion_subject),
        cmocka_unit_test(client_registered_for_basic_cannot_use_private_key_jwt),
        cmocka_unit_test(disabled_private_key_jwt_client_is_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
