/* src/oauth/scope.c: scope syntax (RFC 6749 §3.3), the allowed/default policy, and what the subject's roles allow. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "tessera/oauth.h"

static const char *allowed_items[] = {
    "read", "write", "admin", "openid", "a!#[]~z",
    /* tokens the syntax forbids, allowed here so that only the syntax check can refuse them */
    "a\"b", "a\\b", "a\x7f" "b", "caf\xc3\xa9", "tab\tbed"};
static const ts_strs_t allowed = {allowed_items, sizeof(allowed_items) / sizeof(allowed_items[0])};
static const char *default_items[] = {"read", "openid"};
static const ts_strs_t defaults = {default_items, 2};
static const ts_strs_t none = {NULL, 0};

static char out[TS_SCOPE_MAX];
static const char *why;

static ts_err_t resolve(const char *requested)
{
    memset(out, 'X', sizeof(out));
    why = NULL;
    return ts_oauth_scope_resolve(requested, &allowed, &defaults, out, sizeof(out), &why);
}

static void assert_resolves(const char *requested, const char *want)
{
    ts_err_t err = resolve(requested);
    if (err != TS_OK)
        fail_msg("'%s' refused: %s", requested != NULL ? requested : "(none)", why != NULL ? why : "(no reason)");
    assert_string_equal(out, want);
}

static void assert_malformed(const char *requested)
{
    ts_err_t err = resolve(requested);
    if (err != TS_ERR_INVALID_SCOPE || why == NULL || strncmp(why, "malformed scope", 15) != 0)
        fail_msg("'%s': err %d, why %s", requested, err, why != NULL ? why : "(null)");
}

static void absent_or_empty_request_gets_the_defaults(void **state)
{
    assert_resolves(NULL, "read openid");
    assert_resolves("", "read openid");
}

static void no_defaults_give_an_empty_scope(void **state)
{
    memset(out, 'X', sizeof(out));
    assert_int_equal(ts_oauth_scope_resolve(NULL, &allowed, &none, out, sizeof(out), &why), TS_OK);
    assert_string_equal(out, "");
}

static void allowed_subset_is_granted_in_request_order(void **state)
{
    assert_resolves("write", "write");
    assert_resolves("write read", "write read");
    assert_resolves("admin openid write read", "admin openid write read");
    /* every printable character but '"' and '\' is allowed in a token */
    assert_resolves("a!#[]~z read", "a!#[]~z read");
}

static void repeated_tokens_are_granted_once_in_first_order(void **state)
{
    assert_resolves("write read write admin read", "write read admin");
    assert_resolves("read read read", "read");
}

static void token_that_is_a_prefix_of_a_granted_one_is_not_a_repeat(void **state)
{
    static const char *items[] = {"rea", "read", "ad", "read:all"};
    static const ts_strs_t a = {items, 4};
    assert_int_equal(ts_oauth_scope_resolve("read rea read:all ad", &a, &defaults, out, sizeof(out), &why), TS_OK);
    assert_string_equal(out, "read rea read:all ad");
}

static void token_not_allowed_is_invalid_scope(void **state)
{
    assert_int_equal(resolve("read delete"), TS_ERR_INVALID_SCOPE);
    assert_non_null(why);
    assert_int_equal(resolve("READ"), TS_ERR_INVALID_SCOPE);
    assert_int_equal(resolve("rea"), TS_ERR_INVALID_SCOPE);
    assert_int_equal(ts_oauth_scope_resolve("read", &none, &defaults, out, sizeof(out), &why), TS_ERR_INVALID_SCOPE);
}

/* RFC 6749 §5.2: a malformed scope is invalid_scope */
static void characters_outside_nqchar_are_malformed(void **state)
{
    assert_malformed("a\"b");
    assert_malformed("read a\\b");
    assert_malformed("a\x7f" "b");
    assert_malformed("caf\xc3\xa9");
    assert_malformed("tab\tbed");
}

static void empty_tokens_are_malformed(void **state)
{
    assert_malformed("read  write");
    assert_malformed(" read");
    assert_malformed("read ");
    assert_malformed(" ");
    assert_malformed("  ");
}

static void token_over_128_characters_is_malformed(void **state)
{
    static char t128[129], t129[130];
    static const char *items[] = {t128, t129};
    static const ts_strs_t a = {items, 2};
    memset(t128, 't', 128);
    memset(t129, 't', 129);
    assert_int_equal(ts_oauth_scope_resolve(t128, &a, &defaults, out, sizeof(out), &why), TS_OK);
    assert_string_equal(out, t128);
    assert_int_equal(ts_oauth_scope_resolve(t129, &a, &defaults, out, sizeof(out), &why), TS_ERR_INVALID_SCOPE);
    assert_non_null(strstr(why, "too long"));
}

static void more_than_64_distinct_tokens_are_refused(void **state)
{
    static char names[70][8];
    static const char *items[70];
    static const ts_strs_t a = {items, 70};
    char req[70 * 8] = "";
    for (int i = 0; i < 70; ++i) {
        snprintf(names[i], sizeof(names[i]), "s%d", i);
        items[i] = names[i];
    }
    for (int i = 0; i < 64; ++i) {
        strcat(req, i == 0 ? "" : " ");
        strcat(req, names[i]);
    }
    assert_int_equal(ts_oauth_scope_resolve(req, &a, &defaults, out, sizeof(out), &why), TS_OK);
    assert_string_equal(out, req);
    /* repeats do not count */
    strcat(req, " s0 s1 s63");
    assert_int_equal(ts_oauth_scope_resolve(req, &a, &defaults, out, sizeof(out), &why), TS_OK);
    strcat(req, " s64");
    assert_int_equal(ts_oauth_scope_resolve(req, &a, &defaults, out, sizeof(out), &why), TS_ERR_INVALID_SCOPE);
    assert_string_equal(why, "too many scopes");
}

static void request_of_scope_max_characters_is_refused(void **state)
{
    /* repeats of "r": within the token count, so only the length can refuse them */
    static const char *items[] = {"r", "rr"};
    static const ts_strs_t a = {items, 2};
    char *req = malloc(TS_SCOPE_MAX + 1);
    size_t n = 1;
    assert_non_null(req);
    req[0] = 'r';
    while (n < TS_SCOPE_MAX - 1) {
        req[n++] = ' ';
        req[n++] = 'r';
    }
    req[n] = '\0';
    assert_int_equal(strlen(req), TS_SCOPE_MAX - 1);
    assert_int_equal(ts_oauth_scope_resolve(req, &a, &defaults, out, sizeof(out), &why), TS_OK);
    assert_string_equal(out, "r");
    strcat(req, "r");
    assert_int_equal(ts_oauth_scope_resolve(req, &a, &defaults, out, sizeof(out), &why), TS_ERR_INVALID_SCOPE);
    assert_string_equal(why, "scope too long");
    free(req);
}

static void output_buffer_too_small_is_an_error_not_an_overflow(void **state)
{
    char small[16];
    memset(small, 'X', sizeof(small));
    /* "write read" needs 11 bytes */
    assert_int_equal(ts_oauth_scope_resolve("write read", &allowed, &defaults, small, 10, &why), TS_ERR_INVALID_SCOPE);
    assert_non_null(why);
    assert_true(memchr(small, '\0', 10) != NULL);
    for (size_t i = 10; i < sizeof(small); ++i)
        assert_int_equal(small[i], 'X');
    assert_int_equal(ts_oauth_scope_resolve("write read", &allowed, &defaults, small, 11, &why), TS_OK);
    assert_string_equal(small, "write read");
    /* the defaults too: "read openid" needs 12 */
    memset(small, 'X', sizeof(small));
    assert_int_equal(ts_oauth_scope_resolve(NULL, &allowed, &defaults, small, 11, &why), TS_ERR_INVALID_SCOPE);
    for (size_t i = 11; i < sizeof(small); ++i)
        assert_int_equal(small[i], 'X');
    assert_int_equal(ts_oauth_scope_resolve(NULL, &allowed, &defaults, small, 12, &why), TS_OK);
    assert_string_equal(small, "read openid");
}

static void single_token_that_exactly_fits_is_accepted(void **state)
{
    char small[8];
    assert_int_equal(ts_oauth_scope_resolve("read", &allowed, &defaults, small, 5, &why), TS_OK);
    assert_string_equal(small, "read");
}

/* ---- ts_oauth_scope_for_roles ------------------------------------------------------------------------ */

static const char *admin_scopes[] = {"tessera:admin", "write"};
static const char *editor_scopes[] = {"write", "read:all"};
static const char *sneaky_scopes[] = {"openid", "email"}; /* a role cannot gate the identity scopes */

/* roles admin, editor, sneaky and empty (no scopes) */
static ts_directory_t *roles_dir(void)
{
    static const struct {
        const char *name;
        const char **scopes;
        size_t n;
    } defs[] = {{"admin", admin_scopes, 2}, {"editor", editor_scopes, 2}, {"sneaky", sneaky_scopes, 2}, {"empty", NULL, 0}};
    ts_directory_t *d = ts_directory_create();
    assert_non_null(d);
    for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); ++i) {
        ts_role_t *r = ts_arena_alloc(&d->arena, sizeof(*r));
        assert_non_null(r);
        r->name = defs[i].name;
        r->scopes = (ts_strs_t){defs[i].scopes, defs[i].n};
        assert_int_equal(ts_strmap_put(&d->roles, r->name, strlen(r->name), r), 0);
    }
    return d;
}

static void assert_for_roles(const ts_directory_t *d, const char *scope, const char **roles, size_t nroles, const char *want)
{
    ts_strs_t held = {roles, nroles};
    memset(out, 'X', sizeof(out));
    assert_int_equal(ts_oauth_scope_for_roles(d, scope, &held, out, sizeof(out)), TS_OK);
    assert_string_equal(out, want);
}

static void without_roles_in_the_directory_nothing_is_gated(void **state)
{
    ts_directory_t *d = ts_directory_create();
    assert_non_null(d);
    assert_for_roles(d, "read write tessera:admin openid", NULL, 0, "read write tessera:admin openid");
    ts_ref_release(&d->super);
    /* no directory at all: the same */
    assert_for_roles(NULL, "read write", NULL, 0, "read write");
}

static void gated_scope_needs_a_role_that_lists_it(void **state)
{
    ts_directory_t *d = roles_dir();
    const char *admin[] = {"admin"}, *editor[] = {"editor"}, *empty[] = {"empty"};
    assert_for_roles(d, "tessera:admin", NULL, 0, "");
    assert_for_roles(d, "tessera:admin", empty, 1, "");
    assert_for_roles(d, "tessera:admin", editor, 1, "");
    assert_for_roles(d, "tessera:admin", admin, 1, "tessera:admin");
    /* write is listed by two roles: either will do */
    assert_for_roles(d, "write", admin, 1, "write");
    assert_for_roles(d, "write", editor, 1, "write");
    assert_for_roles(d, "write read:all", admin, 1, "write");
    ts_ref_release(&d->super);
}

static void scope_no_role_lists_is_left_to_the_client_registration(void **state)
{
    ts_directory_t *d = roles_dir();
    assert_for_roles(d, "read", NULL, 0, "read");
    assert_for_roles(d, "api:read tessera:admin api:write", NULL, 0, "api:read api:write");
    ts_ref_release(&d->super);
}

static void identity_scopes_are_never_gated(void **state)
{
    ts_directory_t *d = roles_dir(); /* "sneaky" lists openid and email */
    assert_for_roles(d, "openid profile email offline_access", NULL, 0, "openid profile email offline_access");
    assert_for_roles(d, "openid tessera:admin email", NULL, 0, "openid email");
    ts_ref_release(&d->super);
}

static void several_roles_grant_the_union(void **state)
{
    ts_directory_t *d = roles_dir();
    const char *both[] = {"editor", "admin"};
    assert_for_roles(d, "read:all openid tessera:admin write other", both, 2, "read:all openid tessera:admin write other");
    ts_ref_release(&d->super);
}

static void unknown_role_names_grant_nothing(void **state)
{
    ts_directory_t *d = roles_dir();
    /* a role deleted since the token's subject got it, or a typo: no scope, and no crash */
    const char *ghosts[] = {"ghost", "ADMIN", "admin ", ""};
    assert_for_roles(d, "tessera:admin read", ghosts, 4, "read");
    ts_ref_release(&d->super);
}

static void scope_names_match_exactly_not_by_prefix(void **state)
{
    ts_directory_t *d = roles_dir();
    const char *editor[] = {"editor"};
    /* "read" is not gated by "read:all", "tessera:admi" and "writes" are not "tessera:admin" and "write" */
    assert_for_roles(d, "read tessera:admi writes read:al", NULL, 0, "read tessera:admi writes read:al");
    assert_for_roles(d, "read:all", NULL, 0, "");
    assert_for_roles(d, "read:all", editor, 1, "read:all");
    ts_ref_release(&d->super);
}

static void order_is_kept_and_repeats_and_empty_tokens_dropped(void **state)
{
    ts_directory_t *d = roles_dir();
    const char *editor[] = {"editor"};
    assert_for_roles(d, "write openid tessera:admin write  openid read", editor, 1, "write openid read");
    assert_for_roles(d, "", editor, 1, "");
    assert_for_roles(d, NULL, editor, 1, "");
    assert_for_roles(d, "tessera:admin", editor, 1, "");
    ts_ref_release(&d->super);
}

static void no_roles_list_is_like_an_empty_one(void **state)
{
    ts_directory_t *d = roles_dir();
    memset(out, 'X', sizeof(out));
    assert_int_equal(ts_oauth_scope_for_roles(d, "write read", NULL, out, sizeof(out)), TS_OK);
    assert_string_equal(out, "read");
    ts_ref_release(&d->super);
}

static void roles_output_too_small_is_an_error_not_an_overflow(void **state)
{
    ts_directory_t *d = roles_dir();
    const char *admin[] = {"admin"};
    ts_strs_t held = {admin, 1};
    char small[16];
    memset(small, 'X', sizeof(small));
    /* "write openid" needs 13 bytes; what is dropped (read:all) takes no room */
    assert_int_equal(ts_oauth_scope_for_roles(d, "write read:all openid", &held, small, 12), TS_ERR_INVALID_SCOPE);
    assert_true(memchr(small, '\0', 12) != NULL);
    for (size_t i = 12; i < sizeof(small); ++i)
        assert_int_equal(small[i], 'X');
    assert_int_equal(ts_oauth_scope_for_roles(d, "write", &held, small, 0), TS_ERR_INVALID_SCOPE);
    assert_int_equal(small[0], 'w'); /* nothing written */
    assert_int_equal(ts_oauth_scope_for_roles(d, "write read:all openid", &held, small, 13), TS_OK);
    assert_string_equal(small, "write openid");
    ts_ref_release(&d->super);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(absent_or_empty_request_gets_the_defaults),
        cmocka_unit_test(no_defaults_give_an_empty_scope),
        cmocka_unit_test(allowed_subset_is_granted_in_request_order),
        cmocka_unit_test(repeated_tokens_are_granted_once_in_first_order),
        cmocka_unit_test(token_that_is_a_prefix_of_a_granted_one_is_not_a_repeat),
        cmocka_unit_test(token_not_allowed_is_invalid_scope),
        cmocka_unit_test(characters_outside_nqchar_are_malformed),
        cmocka_unit_test(empty_tokens_are_malformed),
        cmocka_unit_test(token_over_128_characters_is_malformed),
        cmocka_unit_test(more_than_64_distinct_tokens_are_refused),
        cmocka_unit_test(request_of_scope_max_characters_is_refused),
        cmocka_unit_test(output_buffer_too_small_is_an_error_not_an_overflow),
        cmocka_unit_test(single_token_that_exactly_fits_is_accepted),
        cmocka_unit_test(without_roles_in_the_directory_nothing_is_gated),
        cmocka_unit_test(gated_scope_needs_a_role_that_lists_it),
        cmocka_unit_test(scope_no_role_lists_is_left_to_the_client_registration),
        cmocka_unit_test(identity_scopes_are_never_gated),
        cmocka_unit_test(several_roles_grant_the_union),
        cmocka_unit_test(unknown_role_names_grant_nothing),
        cmocka_unit_test(scope_names_match_exactly_not_by_prefix),
        cmocka_unit_test(order_is_kept_and_repeats_and_empty_tokens_dropped),
        cmocka_unit_test(no_roles_list_is_like_an_empty_one),
        cmocka_unit_test(roles_output_too_small_is_an_error_not_an_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
