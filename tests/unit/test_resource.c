/* src/oauth/resource.c: resource indicators (RFC 8707 §2) become the access token's aud. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "tessera/oauth.h"

#define DEFAULT "https://api.example.com"

static json_t *aud;
static const char *why;

static ts_err_t resources(const char *const *values, size_t n)
{
    json_decref(aud);
    aud = (json_t *)1;
    why = NULL;
    return ts_oauth_resources(values, n, DEFAULT, &aud, &why);
}

static int teardown(void **state)
{
    json_decref(aud);
    aud = NULL;
    return 0;
}

static void assert_refused(const char *const *values, size_t n)
{
    ts_err_t err = resources(values, n);
    if (err != TS_ERR_INVALID_TARGET || aud != NULL || why == NULL)
        fail_msg("'%s' (n %zu): err %d", n > 0 ? values[0] : "", n, err);
}

static void none_gives_the_default(void **state)
{
    assert_int_equal(resources(NULL, 0), TS_OK);
    assert_true(json_is_string(aud));
    assert_string_equal(json_string_value(aud), DEFAULT);
}

static void one_gives_a_string(void **state)
{
    const char *v[] = {"https://billing.example.com/v1?tenant=7"};
    assert_int_equal(resources(v, 1), TS_OK);
    assert_true(json_is_string(aud));
    assert_string_equal(json_string_value(aud), v[0]);
}

static void several_give_an_array_without_repeats(void **state)
{
    const char *v[] = {"https://a.example", "urn:example:b", "https://a.example", "https://c.example", "urn:example:b"};
    json_t *want = json_pack("[s,s,s]", "https://a.example", "urn:example:b", "https://c.example");
    assert_int_equal(resources(v, 5), TS_OK);
    assert_true(json_is_array(aud));
    assert_true(json_equal(aud, want));
    json_decref(want);
}

static void absolute_uris_of_any_scheme_are_accepted(void **state)
{
    static const char *const good[] = {"urn:ietf:params:oauth:x", "https://h", "a+b-c.d:x", "HTTPS://H.EXAMPLE/%7Ex",
                                       "mailto:a@b.example"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); ++i)
        if (resources(&good[i], 1) != TS_OK)
            fail_msg("refused %s", good[i]);
}

static void fragment_is_refused(void **state)
{
    const char *v[] = {"https://a.example/api#part"};
    const char *w[] = {"https://a.example/#"};
    assert_refused(v, 1);
    assert_refused(w, 1);
}

static void relative_references_are_refused(void **state)
{
    static const char *const bad[] = {"/api", "api/v1", "//a.example/api", "", "1http://a.example", "ht_tp://a.example",
                                      "https:", ":x", "?q=1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i)
        assert_refused(&bad[i], 1);
}

static void control_space_and_non_ascii_are_refused(void **state)
{
    static const char *const bad[] = {"https://a.example/\x01", "https://a.example/a b", "https://a.example/\t",
                                      "https://a.example/\r\n", "https://a.example/\x7f", "https://a.example/caf\xc3\xa9"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i)
        assert_refused(&bad[i], 1);
}

static void one_bad_value_among_good_ones_refuses_all(void **state)
{
    const char *v[] = {"https://a.example", "https://b.example", "https://c.example#x"};
    assert_refused(v, 3);
}

static void more_than_eight_are_refused(void **state)
{
    const char *v[TS_RESOURCES_MAX + 1];
    for (size_t i = 0; i <= TS_RESOURCES_MAX; ++i)
        v[i] = "https://a.example";
    assert_int_equal(resources(v, TS_RESOURCES_MAX), TS_OK);
    assert_int_equal(json_array_size(aud), 1);
    assert_refused(v, TS_RESOURCES_MAX + 1);
}

static void overlong_uri_is_refused(void **state)
{
    char *s = malloc(2100);
    const char *v[] = {s};
    assert_non_null(s);
    strcpy(s, "https://a.example/");
    memset(s + 18, 'x', 2000 - 18);
    s[2000] = '\0';
    assert_int_equal(resources(v, 1), TS_OK);
    strcat(s, "x");
    assert_refused(v, 1);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(none_gives_the_default, teardown),
        cmocka_unit_test_teardown(one_gives_a_string, teardown),
        cmocka_unit_test_teardown(several_give_an_array_without_repeats, teardown),
        cmocka_unit_test_teardown(absolute_uris_of_any_scheme_are_accepted, teardown),
        cmocka_unit_test_teardown(fragment_is_refused, teardown),
        cmocka_unit_test_teardown(relative_references_are_refused, teardown),
        cmocka_unit_test_teardown(control_space_and_non_ascii_are_refused, teardown),
        cmocka_unit_test_teardown(one_bad_value_among_good_ones_refuses_all, teardown),
        cmocka_unit_test_teardown(more_than_eight_are_refused, teardown),
        cmocka_unit_test_teardown(overlong_uri_is_refused, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
