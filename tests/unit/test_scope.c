/* src/oauth/scope.c: scope syntax (RFC 6749 §3.3) and the allowed/default policy. */
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
