/* src/oauth/introspect.c: the RFC 7662 answer for a verified access token, judged against the current
 * directory and revocations. */
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

static const char *svc_roles_v1[] = {"svc-reader", "svc-writer"}, *svc_roles_v2[] = {"svc-reader"};
static const char *user_roles_v1[] = {"admin", "user"}, *user_roles_v2[] = {"user", "auditor", "ops"};

static ts_directory_t *dir, *dir2;
static ts_revoked_t *revoked;
static ts_introspect_ctx_t ctx;

static void add_client(ts_directory_t *d, const char *id, int active, const char **roles, size_t nroles)
{
    ts_client_t *c = ts_arena_alloc(&d->arena, sizeof(*c));
    assert_non_null(c);
    c->client_id = ts_arena_strdup(&d->arena, id);
    c->auth_method = TS_AUTH_CLIENT_SECRET_BASIC;
    c->active = active;
    c->roles = (ts_strs_t){roles, nroles};
    assert_int_equal(ts_strmap_put(&d->clients, c->client_id, strlen(c->client_id), c), 0);
}

static void add_user(ts_directory_t *d, const char *subject, int active, const char **roles, size_t nroles)
{
    ts_user_t *u = ts_arena_alloc(&d->arena, sizeof(*u));
    assert_non_null(u);
    u->subject = ts_arena_strdup(&d->arena, subject);
    u->username = u->subject;
    u->active = active;
    u->roles = (ts_strs_t){roles, nroles};
    assert_int_equal(ts_strmap_put(&d->users, u->subject, strlen(u->subject), u), 0);
}

/* the same clients and users with other roles, as the next sync would publish */
static ts_directory_t *make_dir(const char **svc_roles, size_t nsvc, const char **user_roles, size_t nuser)
{
    ts_directory_t *d = ts_directory_create();
    assert_non_null(d);
    add_client(d, "svc", 1, svc_roles, nsvc);
    add_client(d, "app", 1, NULL, 0);
    add_client(d, "off", 0, svc_roles, nsvc);
    add_user(d, "u-1", 1, user_roles, nuser);
    add_user(d, "u-off", 0, user_roles, nuser);
    return d;
}

static int setup(void **state)
{
    dir = make_dir(svc_roles_v1, 2, user_roles_v1, 2);
    dir2 = make_dir(svc_roles_v2, 1, user_roles_v2, 3);
    revoked = ts_revoked_create();
    ctx = (ts_introspect_ctx_t){dir, revoked, ISSUER, NOW};
    return revoked != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    ts_ref_release(&dir->super);
    ts_ref_release(&dir2->super);
    ts_revoked_destroy(revoked);
    return 0;
}

/* what client_credentials issues: sub is the client, no auth_time */
static json_t *client_token(void)
{
    json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:[]}", "iss", ISSUER, "sub", "svc", "client_id", "svc", "aud",
                          "https://api.example.com", "scope", "read write", "iat", (json_int_t)(NOW - 10), "exp",
                          (json_int_t)(NOW + 300), "jti", "jti-client", "roles");
    assert_non_null(c);
    return c;
}

/* what a user's grant issues: sub is the user, auth_time and grant_id present */
static json_t *user_token(void)
{
    json_t *c = json_pack("{s:s, s:s, s:s, s:[s,s], s:I, s:I, s:I, s:s, s:s}", "iss", ISSUER, "sub", "u-1", "client_id", "app",
                          "aud", "https://a.example", "https://b.example", "iat", (json_int_t)(NOW - 10), "exp",
                          (json_int_t)(NOW + 300), "auth_time", (json_int_t)(NOW - 100), "jti", "jti-user", "grant_id",
                          "family-1");
    assert_non_null(c);
    return c;
}

static json_t *roles(const char *const *names, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; ++i)
        json_array_append_new(a, json_string(names[i]));
    return a;
}

static void assert_roles(const json_t *r, const char *const *names, size_t n)
{
    json_t *want = roles(names, n);
    assert_true(json_equal(json_object_get(r, "roles"), want));
    json_decref(want);
}

/* introspects claims (consumed) and says whether the token is active; *r receives the answer when it is */
static int active(json_t *claims, json_t **r)
{
    json_t *got = ts_oauth_introspect_access_token(&ctx, claims);
    json_decref(claims);
    if (got != NULL)
        assert_true(json_is_true(json_object_get(got, "active")));
    if (r != NULL)
        *r = got;
    else
        json_decref(got);
    return got != NULL;
}

static void client_token_is_active_with_the_clients_roles(void **state)
{
    json_t *r;
    assert_true(active(client_token(), &r));
    assert_string_equal(json_string_value(json_object_get(r, "iss")), ISSUER);
    assert_string_equal(json_string_value(json_object_get(r, "sub")), "svc");
    assert_string_equal(json_string_value(json_object_get(r, "client_id")), "svc");
    assert_string_equal(json_string_value(json_object_get(r, "jti")), "jti-client");
    assert_string_equal(json_string_value(json_object_get(r, "token_type")), "Bearer");
    assert_string_equal(json_string_value(json_object_get(r, "scope")), "read write");
    assert_string_equal(json_string_value(json_object_get(r, "aud")), "https://api.example.com");
    assert_int_equal(json_integer_value(json_object_get(r, "exp")), NOW + 300);
    assert_int_equal(json_integer_value(json_object_get(r, "iat")), NOW - 10);
    /* the current roles, not the (empty) ones in the token */
    assert_roles(r, svc_roles_v1, 2);
    json_decref(r);
}

static void user_token_is_active_with_the_users_roles(void **state)
{
    json_t *r, *aud = json_pack("[s,s]", "https://a.example", "https://b.example");
    assert_true(active(user_token(), &r));
    assert_string_equal(json_string_value(json_object_get(r, "sub")), "u-1");
    assert_string_equal(json_string_value(json_object_get(r, "client_id")), "app");
    assert_true(json_equal(json_object_get(r, "aud"), aud));
    assert_null(json_object_get(r, "scope"));
    assert_roles(r, user_roles_v1, 2);
    json_decref(aud);
    json_decref(r);
}

static void token_naming_the_client_as_a_user_is_judged_as_a_user_token(void **state)
{
    /* sub == client_id but with auth_time: the user "svc" does not exist */
    json_t *c = client_token();
    json_object_set_new(c, "auth_time", json_integer(NOW - 100));
    assert_false(active(c, NULL));
}

static void role_changes_show_at_the_next_introspection(void **state)
{
    json_t *r;
    ctx.dir = dir2;
    assert_true(active(client_token(), &r));
    assert_roles(r, svc_roles_v2, 1);
    json_decref(r);
    assert_true(active(user_token(), &r));
    assert_roles(r, user_roles_v2, 3);
    json_decref(r);
    ctx.dir = dir;
    assert_true(active(user_token(), &r));
    assert_roles(r, user_roles_v1, 2);
    json_decref(r);
}

static void wrong_issuer_is_inactive(void **state)
{
    static const char *const bad[] = {"https://evil.example.com", ISSUER "/", "https://AS.example.com", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        json_t *c = client_token();
        json_object_set_new(c, "iss", json_string(bad[i]));
        assert_false(active(c, NULL));
    }
}

static void expired_token_is_inactive(void **state)
{
    json_t *c = client_token();
    json_object_set_new(c, "exp", json_integer(NOW));
    assert_false(active(c, NULL));
    c = client_token();
    json_object_set_new(c, "exp", json_integer(NOW + 1));
    assert_true(active(c, NULL));
    ctx.now = NOW + 300;
    assert_false(active(user_token(), NULL));
    ctx.now = NOW;
}

static void token_not_yet_valid_is_inactive(void **state)
{
    json_t *c = client_token();
    json_object_set_new(c, "nbf", json_integer(NOW + 1));
    assert_false(active(c, NULL));
    c = client_token();
    json_object_set_new(c, "nbf", json_integer(NOW));
    assert_true(active(c, NULL));
    c = client_token();
    json_object_set_new(c, "nbf", json_string("0"));
    assert_false(active(c, NULL));
}

static void revoked_token_is_inactive(void **state)
{
    ts_revoked_t *saved = ctx.revoked;
    ctx.revoked = ts_revoked_create();
    assert_int_equal(ts_revoked_add(ctx.revoked, TS_REVOKED_JTI, "jti-client", NOW + 300), 0);
    assert_false(active(client_token(), NULL));
    assert_true(active(user_token(), NULL));
    /* a family id of the same spelling is another entry */
    assert_int_equal(ts_revoked_add(ctx.revoked, TS_REVOKED_FAMILY, "jti-user", NOW + 300), 0);
    assert_true(active(user_token(), NULL));
    ts_revoked_destroy(ctx.revoked);
    ctx.revoked = saved;
}

static void revoked_grant_family_makes_its_tokens_inactive(void **state)
{
    ts_revoked_t *saved = ctx.revoked;
    ctx.revoked = ts_revoked_create();
    assert_int_equal(ts_revoked_add(ctx.revoked, TS_REVOKED_FAMILY, "family-1", NOW + 3600), 0);
    assert_false(active(user_token(), NULL));
    json_t *c = user_token();
    json_object_set_new(c, "grant_id", json_string("family-2"));
    assert_true(active(c, NULL));
    /* a token without a family is not affected */
    c = user_token();
    json_object_del(c, "grant_id");
    assert_true(active(c, NULL));
    ts_revoked_destroy(ctx.revoked);
    ctx.revoked = saved;
}

static void disabled_or_unknown_client_is_inactive(void **state)
{
    json_t *c = client_token();
    json_object_set_new(c, "sub", json_string("off"));
    json_object_set_new(c, "client_id", json_string("off"));
    assert_false(active(c, NULL));
    c = user_token();
    json_object_set_new(c, "client_id", json_string("off"));
    assert_false(active(c, NULL));
    c = client_token();
    json_object_set_new(c, "sub", json_string("gone"));
    json_object_set_new(c, "client_id", json_string("gone"));
    assert_false(active(c, NULL));
    c = user_token();
    json_object_set_new(c, "client_id", json_string("gone"));
    assert_false(active(c, NULL));
}

static void disabled_or_unknown_user_is_inactive(void **state)
{
    json_t *c = user_token();
    json_object_set_new(c, "sub", json_string("u-off"));
    assert_false(active(c, NULL));
    c = user_token();
    json_object_set_new(c, "sub", json_string("u-gone"));
    assert_false(active(c, NULL));
    /* a client token whose sub is not its client_id is a user token */
    c = client_token();
    json_object_set_new(c, "sub", json_string("app"));
    assert_false(active(c, NULL));
}

static void missing_or_mistyped_claims_make_it_inactive(void **state)
{
    static const char *const required[] = {"iss", "sub", "client_id", "jti", "exp", "iat"};
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); ++i) {
        json_t *c = client_token();
        json_object_del(c, required[i]);
        if (active(c, NULL))
            fail_msg("active without %s", required[i]);
        c = client_token();
        json_object_set_new(c, required[i], json_is_string(json_object_get(c, required[i])) ? json_integer(1) : json_string("1"));
        if (active(c, NULL))
            fail_msg("active with a mistyped %s", required[i]);
    }
    assert_true(active(client_token(), NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(client_token_is_active_with_the_clients_roles),
        cmocka_unit_test(user_token_is_active_with_the_users_roles),
        cmocka_unit_test(token_naming_the_client_as_a_user_is_judged_as_a_user_token),
        cmocka_unit_test(role_changes_show_at_the_next_introspection),
        cmocka_unit_test(wrong_issuer_is_inactive),
        cmocka_unit_test(expired_token_is_inactive),
        cmocka_unit_test(token_not_yet_valid_is_inactive),
        cmocka_unit_test(revoked_token_is_inactive),
        cmocka_unit_test(revoked_grant_family_makes_its_tokens_inactive),
        cmocka_unit_test(disabled_or_unknown_client_is_inactive),
        cmocka_unit_test(disabled_or_unknown_user_is_inactive),
        cmocka_unit_test(missing_or_mistyped_claims_make_it_inactive),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
