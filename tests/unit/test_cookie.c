/* src/http/cookie.c: finding our cookies in Cookie headers, their names, and the Set-Cookie we send. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "http/cookie.h"

static int find(const char *header, const char *name, char *out, size_t cap)
{
    return ts_cookie_find(header, strlen(header), name, out, cap);
}

static void finds_among_others(void **state)
{
    char out[TS_COOKIE_VALUE_MAX + 1];

    assert_int_equal(find("a=1; tessera_session=tsss_AbC-_9; b=2", "tessera_session", out, sizeof(out)), 11);
    assert_string_equal(out, "tsss_AbC-_9");
    assert_int_equal(find("tessera_session=first", "tessera_session", out, sizeof(out)), 5);
    assert_string_equal(out, "first");
    assert_int_equal(find("a=1;b=2;tessera_session=last", "tessera_session", out, sizeof(out)), 4); /* no spaces */
    assert_string_equal(out, "last");
    assert_int_equal(find("a=1;   \ttessera_session=x  ", "tessera_session", out, sizeof(out)), 1);
    assert_string_equal(out, "x");
    assert_int_equal(find("a=1; b=2", "b", out, sizeof(out)), 1);
    assert_string_equal(out, "2");
}

static void first_of_duplicates(void **state)
{
    char out[32];

    assert_int_equal(find("s=one; s=two", "s", out, sizeof(out)), 3);
    assert_string_equal(out, "one");
    /* the first decides, even when it is bad: a cookie planted next to ours does not get a second chance */
    assert_int_equal(find("s=b\\d; s=good", "s", out, sizeof(out)), -1);
    assert_int_equal(find("s=; s=good", "s", out, sizeof(out)), -1);
}

static void quoted(void **state)
{
    char out[32];

    assert_int_equal(find("s=\"tsss_q\"; t=1", "s", out, sizeof(out)), 6);
    assert_string_equal(out, "tsss_q");
    assert_int_equal(find("s=\"\"", "s", out, sizeof(out)), -1);      /* empty inside the quotes */
    assert_int_equal(find("s=\"", "s", out, sizeof(out)), -1);        /* one quote alone */
    assert_int_equal(find("s=\"abc", "s", out, sizeof(out)), -1);     /* unbalanced */
    assert_int_equal(find("s=a\"b\"", "s", out, sizeof(out)), -1);    /* quotes inside */
    assert_int_equal(find("s=\"a b\"", "s", out, sizeof(out)), -1);   /* a space is no cookie-octet, quoted or not */
    assert_int_equal(find("s=\"\"x\"\"", "s", out, sizeof(out)), -1); /* doubled quotes */
}

static void missing_and_empty(void **state)
{
    char out[32];

    assert_int_equal(find("", "s", out, sizeof(out)), -1);
    assert_string_equal(out, "");
    assert_int_equal(find("a=1; b=2", "s", out, sizeof(out)), -1);
    assert_int_equal(find("s", "s", out, sizeof(out)), -1);   /* no "=" */
    assert_int_equal(find("s=", "s", out, sizeof(out)), -1);  /* empty value */
    assert_int_equal(find("s= ", "s", out, sizeof(out)), -1); /* blank value */
    assert_int_equal(find(";;; ; s=", "s", out, sizeof(out)), -1);
    assert_int_equal(find(";;; ;s=v;", "s", out, sizeof(out)), 1); /* stray separators are skipped */
    assert_int_equal(find("=v; s=w", "s", out, sizeof(out)), 1);   /* a nameless pair is skipped */
    assert_string_equal(out, "w");
    assert_int_equal(find("a=1; b=2", "s", out, 0), -1); /* no room at all */
}

static void over_long(void **state)
{
    char header[512], out[TS_COOKIE_VALUE_MAX + 1];

    memcpy(header, "s=", 2);
    memset(header + 2, 'A', TS_COOKIE_VALUE_MAX);
    header[2 + TS_COOKIE_VALUE_MAX] = '\0';
    assert_int_equal(find(header, "s", out, sizeof(out)), TS_COOKIE_VALUE_MAX); /* exactly cap - 1 fits */
    assert_int_equal(strlen(out), TS_COOKIE_VALUE_MAX);
    strcat(header, "A");
    assert_int_equal(find(header, "s", out, sizeof(out)), -1);
    assert_string_equal(out, "");
    assert_int_equal(find("s=abcd", "s", out, 4), -1); /* cap 4 holds 3 characters */
    assert_int_equal(find("s=abc", "s", out, 4), 3);
}

static void bad_characters(void **state)
{
    static const char *bad[] = {"s=a,b", "s=a\\b", "s=a\"b", "s=a\tb", "s=a\x7f", "s=\x01", "s=caf\xc3\xa9", "s=a b"};
    char out[32];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i)
        if (find(bad[i], "s", out, sizeof(out)) != -1)
            fail_msg("accepted %s", bad[i]);
    /* a NUL inside the header: bounded by the length, not by the NUL */
    assert_int_equal(ts_cookie_find("s=a\0b", 5, "s", out, sizeof(out)), -1);
    assert_int_equal(ts_cookie_find("x=\0; s=ok", 9, "s", out, sizeof(out)), 2);
    assert_string_equal(out, "ok");
    /* the edges of cookie-octet */
    assert_int_equal(find("s=!#+-:<[]~", "s", out, sizeof(out)), 9);
    /* ';' ends the value: the rest is another (nameless) pair */
    assert_int_equal(find("s=a;b", "s", out, sizeof(out)), 1);
}

static void bounded_by_len(void **state)
{
    char out[32];
    const char *header = "s=abcdef; t=1";

    /* only the first 5 bytes are the header: the value ends there */
    assert_int_equal(ts_cookie_find(header, 5, "s", out, sizeof(out)), 3);
    assert_string_equal(out, "abc");
    assert_int_equal(ts_cookie_find(header, 1, "s", out, sizeof(out)), -1);
    assert_int_equal(ts_cookie_find(header, 0, "s", out, sizeof(out)), -1);
}

static void names_that_contain_others(void **state)
{
    char out[32];

    assert_int_equal(find("xtessera_session=evil", "tessera_session", out, sizeof(out)), -1);
    assert_int_equal(find("tessera_session_x=evil", "tessera_session", out, sizeof(out)), -1);
    assert_int_equal(find("tessera=evil", "tessera_session", out, sizeof(out)), -1);
    assert_int_equal(find("Tessera_Session=evil", "tessera_session", out, sizeof(out)), -1); /* case matters */
    assert_int_equal(find("xtessera_session=evil; tessera_session=good", "tessera_session", out, sizeof(out)), 4);
    assert_string_equal(out, "good");
    assert_int_equal(find("a=tessera_session=evil; tessera_session=good", "tessera_session", out, sizeof(out)), 4);
    assert_string_equal(out, "good");
}

static void host_prefix(void **state)
{
    char name[64], out[32];

    assert_string_equal(ts_cookie_name(TS_COOKIE_SESSION, 1, name, sizeof(name)), "__Host-tessera_session");
    assert_string_equal(ts_cookie_name(TS_COOKIE_BROWSER, 0, name, sizeof(name)), "tessera_browser");
    assert_null(ts_cookie_name(TS_COOKIE_SESSION, 1, name, 22)); /* needs 23 with the NUL */
    assert_non_null(ts_cookie_name(TS_COOKIE_SESSION, 1, name, 23));
    assert_null(ts_cookie_name(TS_COOKIE_SESSION, 0, name, 15));

    /* on TLS only the prefixed one counts: a plain one may have been set by a sibling host or over http */
    ts_cookie_name(TS_COOKIE_SESSION, 1, name, sizeof(name));
    assert_int_equal(find("tessera_session=plain", name, out, sizeof(out)), -1);
    assert_int_equal(find("tessera_session=plain; __Host-tessera_session=host", name, out, sizeof(out)), 4);
    assert_string_equal(out, "host");
    /* and without TLS the prefixed one is not ours either */
    assert_int_equal(find("__Host-tessera_session=host", "tessera_session", out, sizeof(out)), -1);
}

/* ---- with an h2o request (only its pool and header lists are used) -------------------------------- */

typedef struct st_req_fixture_t {
    h2o_req_t req;
} req_fixture_t;

static int setup_req(void **state)
{
    req_fixture_t *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    h2o_mem_init_pool(&f->req.pool);
    *state = f;
    return 0;
}

static int teardown_req(void **state)
{
    req_fixture_t *f = *state;
    h2o_mem_clear_pool(&f->req.pool);
    free(f);
    return 0;
}

static void add_cookie_header(h2o_req_t *req, const char *value)
{
    h2o_add_header(&req->pool, &req->headers, H2O_TOKEN_COOKIE, NULL, value, strlen(value));
}

/* the value of the n-th set-cookie response header, or NULL */
static const char *set_cookie(h2o_req_t *req, size_t n, char *buf, size_t cap)
{
    ssize_t i = -1;
    do {
        if ((i = h2o_find_header(&req->res.headers, H2O_TOKEN_SET_COOKIE, i)) == -1)
            return NULL;
    } while (n-- != 0);
    const h2o_iovec_t *v = &req->res.headers.entries[i].value;
    assert_true(v->len < cap);
    memcpy(buf, v->base, v->len);
    buf[v->len] = '\0';
    return buf;
}

static void get_over_several_headers(void **state)
{
    h2o_req_t *req = &((req_fixture_t *)*state)->req;
    char out[TS_COOKIE_VALUE_MAX + 1];

    assert_int_equal(ts_http_cookie_get(req, TS_COOKIE_SESSION, 1, out, sizeof(out)), -1); /* no header at all */
    add_cookie_header(req, "a=1; tessera_session=plain");
    assert_int_equal(ts_http_cookie_get(req, TS_COOKIE_SESSION, 1, out, sizeof(out)), -1);
    assert_int_equal(ts_http_cookie_get(req, TS_COOKIE_SESSION, 0, out, sizeof(out)), 5);
    assert_string_equal(out, "plain");
    /* HTTP/2 sends each cookie in a header of its own */
    add_cookie_header(req, "__Host-tessera_session=tsss_h");
    add_cookie_header(req, "__Host-tessera_session=tsss_later");
    assert_int_equal(ts_http_cookie_get(req, TS_COOKIE_SESSION, 1, out, sizeof(out)), 6);
    assert_string_equal(out, "tsss_h");
    assert_int_equal(ts_http_cookie_get(req, TS_COOKIE_BROWSER, 1, out, sizeof(out)), -1);
}

static void get_first_header_decides(void **state)
{
    h2o_req_t *req = &((req_fixture_t *)*state)->req;
    char out[32];

    add_cookie_header(req, "tessera_browser=bad,value");
    add_cookie_header(req, "tessera_browser=good");
    assert_int_equal(ts_http_cookie_get(req, TS_COOKIE_BROWSER, 0, out, sizeof(out)), -1);
}

static void set_secure(void **state)
{
    h2o_req_t *req = &((req_fixture_t *)*state)->req;
    char buf[256];

    assert_int_equal(ts_http_cookie_set(req, TS_COOKIE_SESSION, 1, "tsss_AbC-_9", 3600), 0);
    assert_string_equal(set_cookie(req, 0, buf, sizeof(buf)),
                        "__Host-tessera_session=tsss_AbC-_9; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax");
    assert_int_equal(ts_http_cookie_set(req, TS_COOKIE_BROWSER, 1, "tsbr_x", 0), 0); /* a session cookie */
    assert_string_equal(set_cookie(req, 1, buf, sizeof(buf)),
                        "__Host-tessera_browser=tsbr_x; Path=/; HttpOnly; Secure; SameSite=Lax");
    assert_int_equal(ts_http_cookie_set(req, TS_COOKIE_SESSION, 1, NULL, 3600), 0);
    assert_string_equal(set_cookie(req, 2, buf, sizeof(buf)),
                        "__Host-tessera_session=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax");
    assert_null(set_cookie(req, 3, buf, sizeof(buf)));
}

static void set_plain(void **state)
{
    h2o_req_t *req = &((req_fixture_t *)*state)->req;
    char buf[256];

    assert_int_equal(ts_http_cookie_set(req, TS_COOKIE_SESSION, 0, "tsss_1", 60), 0);
    assert_string_equal(set_cookie(req, 0, buf, sizeof(buf)), "tessera_session=tsss_1; Path=/; Max-Age=60; HttpOnly; SameSite=Lax");
    assert_int_equal(ts_http_cookie_set(req, TS_COOKIE_SESSION, 0, NULL, 0), 0);
    assert_string_equal(set_cookie(req, 1, buf, sizeof(buf)), "tessera_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
}

static void set_refuses_what_it_could_not_read_back(void **state)
{
    h2o_req_t *req = &((req_fixture_t *)*state)->req;
    char buf[256], longest[TS_COOKIE_VALUE_MAX + 2];
    static const char *bad[] = {"", "a;b", "a b", "a\r\nSet-Cookie: x=y", "a,b", "\"q\"", "a\\b", "caf\xc3\xa9"};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i)
        assert_int_equal(ts_http_cookie_set(req, TS_COOKIE_SESSION, 1, bad[i], 60), -1);
    memset(longest, 'A', TS_COOKIE_VALUE_MAX + 1);
    longest[TS_COOKIE_VALUE_MAX + 1] = '\0';
    assert_int_equal(ts_http_cookie_set(req, TS_COOKIE_SESSION, 1, longest, 60), -1);
    assert_int_equal(ts_http_cookie_set(req, "bad name", 1, "v", 60), -1);
    assert_int_equal(ts_http_cookie_set(req, "", 0, "v", 60), -1);
    assert_null(set_cookie(req, 0, buf, sizeof(buf))); /* nothing was added */
    longest[TS_COOKIE_VALUE_MAX] = '\0';
    assert_int_equal(ts_http_cookie_set(req, TS_COOKIE_SESSION, 1, longest, 60), 0);
    assert_non_null(set_cookie(req, 0, buf, sizeof(buf)));
}

static void set_then_get_round_trip(void **state)
{
    h2o_req_t *req = &((req_fixture_t *)*state)->req;
    char buf[256], out[TS_COOKIE_VALUE_MAX + 1];

    assert_int_equal(ts_http_cookie_set(req, TS_COOKIE_BROWSER, 1, "tsbr_Zz09-_", 600), 0);
    set_cookie(req, 0, buf, sizeof(buf));
    *strchr(buf, ';') = '\0'; /* what the browser sends back: name=value */
    add_cookie_header(req, buf);
    assert_int_equal(ts_http_cookie_get(req, TS_COOKIE_BROWSER, 1, out, sizeof(out)), 11);
    assert_string_equal(out, "tsbr_Zz09-_");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(finds_among_others),
        cmocka_unit_test(first_of_duplicates),
        cmocka_unit_test(quoted),
        cmocka_unit_test(missing_and_empty),
        cmocka_unit_test(over_long),
        cmocka_unit_test(bad_characters),
        cmocka_unit_test(bounded_by_len),
        cmocka_unit_test(names_that_contain_others),
        cmocka_unit_test(host_prefix),
        cmocka_unit_test_setup_teardown(get_over_several_headers, setup_req, teardown_req),
        cmocka_unit_test_setup_teardown(get_first_header_decides, setup_req, teardown_req),
        cmocka_unit_test_setup_teardown(set_secure, setup_req, teardown_req),
        cmocka_unit_test_setup_teardown(set_plain, setup_req, teardown_req),
        cmocka_unit_test_setup_teardown(set_refuses_what_it_could_not_read_back, setup_req, teardown_req),
        cmocka_unit_test_setup_teardown(set_then_get_round_trip, setup_req, teardown_req),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
