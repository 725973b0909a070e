/* src/oauth/userinfo.c: which user claims a scope releases (OpenID Connect Core §5.4), and the
 * claims_supported list. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "tessera/oauth_browser.h"

static const ts_user_t alice = {.id = 1, .subject = "u-1", .username = "alice", .email = "alice@example.com", .email_verified = 1,
                                .name = "Alice Liddell", .active = 1};

/* the claims as "name=value" lines in key order, for a compact comparison */
static void assert_claims(const ts_user_t *user, const char *scope, const char *want)
{
    json_t *c = ts_oauth_user_claims(user, scope);
    char *got;

    assert_non_null(c);
    got = json_dumps(c, JSON_SORT_KEYS | JSON_COMPACT);
    assert_non_null(got);
    if (strcmp(got, want) != 0)
        fail_msg("scope '%s': got %s, expected %s", scope != NULL ? scope : "(null)", got, want);
    free(got);
    json_decref(c);
}

static void sub_alone_without_profile_or_email(void **state)
{
    assert_claims(&alice, "openid", "{\"sub\":\"u-1\"}");
    assert_claims(&alice, "", "{\"sub\":\"u-1\"}");
    assert_claims(&alice, NULL, "{\"sub\":\"u-1\"}");
    assert_claims(&alice, "openid api:read", "{\"sub\":\"u-1\"}");
}

static void profile_releases_name_and_preferred_username(void **state)
{
    assert_claims(&alice, "openid profile", "{\"name\":\"Alice Liddell\",\"preferred_username\":\"alice\",\"sub\":\"u-1\"}");
}

static void email_releases_email_and_email_verified(void **state)
{
    assert_claims(&alice, "openid email", "{\"email\":\"alice@example.com\",\"email_verified\":true,\"sub\":\"u-1\"}");
    ts_user_t unverified = alice;
    unverified.email_verified = 0;
    assert_claims(&unverified, "email openid", "{\"email\":\"alice@example.com\",\"email_verified\":false,\"sub\":\"u-1\"}");
}

static void both_scopes_release_both_sets(void **state)
{
    assert_claims(&alice, "email profile openid",
                  "{\"email\":\"alice@example.com\",\"email_verified\":true,\"name\":\"Alice Liddell\","
                  "\"preferred_username\":\"alice\",\"sub\":\"u-1\"}");
}

static void scope_tokens_are_compared_whole(void **state)
{
    assert_claims(&alice, "openid profiles emails", "{\"sub\":\"u-1\"}");
    assert_claims(&alice, "openid prof mail", "{\"sub\":\"u-1\"}");
    assert_claims(&alice, "openid PROFILE EMAIL", "{\"sub\":\"u-1\"}");
}

static void missing_values_are_left_out(void **state)
{
    ts_user_t bare = {.subject = "u-2", .username = "bob", .email_verified = 1, .active = 1};
    /* no email: no email_verified either, which would otherwise describe nothing */
    assert_claims(&bare, "openid profile email", "{\"preferred_username\":\"bob\",\"sub\":\"u-2\"}");
    bare.email = "";
    bare.name = "";
    assert_claims(&bare, "openid profile email", "{\"preferred_username\":\"bob\",\"sub\":\"u-2\"}");
    bare.username = NULL;
    assert_claims(&bare, "openid profile email", "{\"sub\":\"u-2\"}");
}

static void claims_supported_lists_every_claim_once(void **state)
{
    static const char *want[] = {"sub", "iss",  "aud",  "exp",  "iat",  "auth_time", "nonce", "at_hash", "acr", "amr",
                                 "azp", "name", "preferred_username", "email", "email_verified"};
    size_t n = 0;

    for (; ts_oauth_claims_supported[n] != NULL; ++n) {
        for (size_t k = 0; k < n; ++k)
            assert_string_not_equal(ts_oauth_claims_supported[k], ts_oauth_claims_supported[n]);
    }
    assert_int_equal(n, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < n; ++i) {
        int found = 0;
        for (size_t k = 0; k < n; ++k)
            found |= strcmp(want[i], ts_oauth_claims_supported[k]) == 0;
        if (!found)
            fail_msg("%s missing from claims_supported", want[i]);
    }
    /* every claim ts_oauth_user_claims can release is listed */
    json_t *c = ts_oauth_user_claims(&alice, "openid profile email");
    const char *name;
    json_t *v;
    json_object_foreach(c, name, v) {
        int found = 0;
        for (size_t k = 0; k < n; ++k)
            found |= strcmp(name, ts_oauth_claims_supported[k]) == 0;
        if (!found)
            fail_msg("%s released but not in claims_supported", name);
    }
    json_decref(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sub_alone_without_profile_or_email),
        cmocka_unit_test(profile_releases_name_and_preferred_username),
        cmocka_unit_test(email_releases_email_and_email_verified),
        cmocka_unit_test(both_scopes_release_both_sets),
        cmocka_unit_test(scope_tokens_are_compared_whole),
        cmocka_unit_test(missing_values_are_left_out),
        cmocka_unit_test(claims_supported_lists_every_claim_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
