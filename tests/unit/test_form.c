/* src/http/form.c: form and query decoding. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "tessera/http.h"

static h2o_mem_pool_t pool;

static int setup(void **state)
{
    h2o_mem_init_pool(&pool);
    return 0;
}

static int teardown(void **state)
{
    h2o_mem_clear_pool(&pool);
    return 0;
}

static ts_err_t parse(const char *s, ts_params_t *p, const char **why)
{
    *why = NULL;
    return ts_http_parse_form(&pool, s, strlen(s), NULL, p, why);
}

static void decodes_plus_and_percent(void **state)
{
    ts_params_t p;
    const char *why;
    assert_int_equal(parse("grant_type=client_credentials&scope=a+b%20c&x%41=%e2%82%ac&empty=&flag", &p, &why), TS_OK);
    assert_int_equal(p.count, 5);
    assert_string_equal(ts_http_param(&p, "grant_type"), "client_credentials");
    assert_string_equal(ts_http_param(&p, "scope"), "a b c");
    assert_string_equal(ts_http_param(&p, "xA"), "\xe2\x82\xac");
    assert_string_equal(ts_http_param(&p, "empty"), "");
    assert_string_equal(ts_http_param(&p, "flag"), "");
    assert_null(ts_http_param(&p, "missing"));
    assert_int_equal(p.items[1].value_len, 5);
}

static void empty_input_and_stray_ampersands(void **state)
{
    ts_params_t p;
    const char *why;
    assert_int_equal(parse("", &p, &why), TS_OK);
    assert_int_equal(p.count, 0);
    assert_int_equal(parse("&&a=1&&", &p, &why), TS_OK);
    assert_int_equal(p.count, 1);
}

static void rejects_repeated_parameters(void **state)
{
    ts_params_t p;
    const char *why;
    assert_int_equal(parse("scope=a&scope=b", &p, &why), TS_ERR_INVALID_REQUEST);
    assert_string_equal(why, "repeated parameter");
    /* the same name spelled with an escape is the same parameter */
    assert_int_equal(parse("scope=a&sc%6fpe=b", &p, &why), TS_ERR_INVALID_REQUEST);
}

static void repeatable_names_are_kept_in_order(void **state)
{
    static const char *const repeatable[] = {"resource", NULL};
    const char *values[4], *why = NULL;
    ts_params_t p;
    const char *s = "resource=https%3A%2F%2Fa&scope=x&resource=https%3A%2F%2Fb";
    assert_int_equal(ts_http_parse_form(&pool, s, strlen(s), repeatable, &p, &why), TS_OK);
    assert_int_equal(ts_http_param_all(&p, "resource", values, 4), 2);
    assert_string_equal(values[0], "https://a");
    assert_string_equal(values[1], "https://b");
    s = "scope=x&scope=y&resource=z";
    assert_int_equal(ts_http_parse_form(&pool, s, strlen(s), repeatable, &p, &why), TS_ERR_INVALID_REQUEST);
}

static void rejects_bad_escapes_and_nul(void **state)
{
    static const char *const bad[] = {"a=%", "a=%4", "a=%zz", "a=%4g", "a=b%00c", "%=1", "=value"};
    ts_params_t p;
    const char *why;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i)
        if (parse(bad[i], &p, &why) != TS_ERR_INVALID_REQUEST)
            fail_msg("accepted %s", bad[i]);
}

static void bounds_counts_and_lengths(void **state)
{
    ts_params_t p;
    const char *why;
    char *s = malloc(64 * 1024);
    size_t n = 0;

    for (int i = 0; i < TS_FORM_MAX_PARAMS; ++i)
        n += (size_t)sprintf(s + n, "p%d=1&", i);
    s[n] = '\0';
    assert_int_equal(parse(s, &p, &why), TS_OK);
    assert_int_equal(p.count, TS_FORM_MAX_PARAMS);
    strcpy(s + n, "one=more");
    assert_int_equal(parse(s, &p, &why), TS_ERR_INVALID_REQUEST);
    assert_string_equal(why, "too many parameters");

    strcpy(s, "v=");
    memset(s + 2, 'x', TS_FORM_MAX_VALUE);
    s[2 + TS_FORM_MAX_VALUE] = '\0';
    assert_int_equal(parse(s, &p, &why), TS_OK);
    strcpy(s + 2 + TS_FORM_MAX_VALUE, "x");
    assert_int_equal(parse(s, &p, &why), TS_ERR_INVALID_REQUEST);

    memset(s, 'n', TS_FORM_MAX_NAME + 1);
    strcpy(s + TS_FORM_MAX_NAME + 1, "=1");
    assert_int_equal(parse(s, &p, &why), TS_ERR_INVALID_REQUEST);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decodes_plus_and_percent),
        cmocka_unit_test(empty_input_and_stray_ampersands),
        cmocka_unit_test(rejects_repeated_parameters),
        cmocka_unit_test(repeatable_names_are_kept_in_order),
        cmocka_unit_test(rejects_bad_escapes_and_nul),
        cmocka_unit_test(bounds_counts_and_lengths),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
