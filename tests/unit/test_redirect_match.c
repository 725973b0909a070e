/* src/oauth/redirect_match.c: exact matching of redirect URIs (RFC 9700 §2.1), with only the port of an http
 * loopback URI allowed to differ (RFC 8252 §7.3). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "tessera/oauth_browser.h"

static const char *web_items[] = {"https://app.example.com/cb", "https://app.example.com:8443/cb?x=1", "com.example.app:/oauth"};
static const ts_strs_t web = {web_items, 3};
static const char *loop_items[] = {"http://127.0.0.1/cb", "http://[::1]:8080/cb?x=1", "http://localhost/", "https://localhost/cb"};
static const ts_strs_t loop = {loop_items, 4};

#define MATCHES(list, uri, want)                                                                                                   \
    do {                                                                                                                           \
        const char *got_ = ts_redirect_uri_match(&(list), (uri));                                                                  \
        if (got_ == NULL || strcmp(got_, (want)) != 0)                                                                             \
            fail_msg("'%s' matched %s, expected %s", (uri), got_ != NULL ? got_ : "nothing", (want));                              \
    } while (0)
#define NO_MATCH(list, uri)                                                                                                        \
    do {                                                                                                                           \
        const char *got_ = ts_redirect_uri_match(&(list), (uri));                                                                  \
        if (got_ != NULL)                                                                                                          \
            fail_msg("'%s' matched %s", (uri), got_);                                                                              \
    } while (0)

static void exact_uri_matches_and_returns_the_registered_one(void **state)
{
    for (size_t i = 0; i < web.len; ++i) {
        char copy[128];
        strcpy(copy, web_items[i]);
        /* the registered string itself, not the caller's */
        assert_ptr_equal(ts_redirect_uri_match(&web, copy), web_items[i]);
    }
    assert_ptr_equal(ts_redirect_uri_match(&loop, "http://localhost/"), loop_items[2]);
}

static void any_other_byte_does_not_match(void **state)
{
    NO_MATCH(web, "https://app.example.com/cb/");
    NO_MATCH(web, "https://app.example.com/");
    NO_MATCH(web, "https://app.example.com/c");
    NO_MATCH(web, "https://app.example.com/CB");
    NO_MATCH(web, "https://APP.example.com/cb");
    NO_MATCH(web, "HTTPS://app.example.com/cb");
    NO_MATCH(web, "https://app.example.com/cb?");
    NO_MATCH(web, "https://app.example.com/cb?x=1");
    NO_MATCH(web, "https://app.example.com:8443/cb?x=2");
    NO_MATCH(web, "https://app.example.com:8443/cb?x=1&y=2");
    NO_MATCH(web, "https://app.example.com:8443/cb");
    NO_MATCH(web, "https://app.example.com/%63b");
    NO_MATCH(web, "https://app.example.com/./cb");
    NO_MATCH(web, "https://app.example.com/cb ");
    NO_MATCH(web, " https://app.example.com/cb");
    NO_MATCH(web, "");
    NO_MATCH(web, "com.example.app:/oauth/x");
    assert_null(ts_redirect_uri_match(&web, NULL));
}

static void fragment_never_matches(void **state)
{
    NO_MATCH(web, "https://app.example.com/cb#");
    NO_MATCH(web, "https://app.example.com/cb#x");
    NO_MATCH(loop, "http://127.0.0.1:5000/cb#x");
    NO_MATCH(loop, "http://127.0.0.1:5000#/cb");
    NO_MATCH(loop, "http://localhost:5000/#");
}

static void non_loopback_port_must_match(void **state)
{
    NO_MATCH(web, "https://app.example.com:443/cb");
    NO_MATCH(web, "https://app.example.com:8080/cb");
    NO_MATCH(web, "https://app.example.com/cb?x=1");
    NO_MATCH(web, "https://app.example.com:8444/cb?x=1");
}

static void loopback_port_may_differ_either_way(void **state)
{
    /* registered without a port: any port, or none */
    MATCHES(loop, "http://127.0.0.1:5000/cb", "http://127.0.0.1/cb");
    MATCHES(loop, "http://127.0.0.1:1/cb", "http://127.0.0.1/cb");
    MATCHES(loop, "http://127.0.0.1:65535/cb", "http://127.0.0.1/cb");
    MATCHES(loop, "http://localhost:49152/", "http://localhost/");
    /* registered with a port: another port, or none */
    MATCHES(loop, "http://[::1]:8080/cb?x=1", "http://[::1]:8080/cb?x=1");
    MATCHES(loop, "http://[::1]:9999/cb?x=1", "http://[::1]:8080/cb?x=1");
    MATCHES(loop, "http://[::1]/cb?x=1", "http://[::1]:8080/cb?x=1");
}

static void loopback_everything_but_the_port_is_exact(void **state)
{
    NO_MATCH(loop, "http://127.0.0.1:5000/cb/");
    NO_MATCH(loop, "http://127.0.0.1:5000/CB");
    NO_MATCH(loop, "http://127.0.0.1:5000/cb?x=1");
    NO_MATCH(loop, "http://127.0.0.1:5000");
    NO_MATCH(loop, "http://[::1]:9999/cb");
    NO_MATCH(loop, "http://[::1]:9999/cb?x=2");
    NO_MATCH(loop, "http://LOCALHOST:5000/");
    NO_MATCH(loop, "http://Localhost/");
    NO_MATCH(loop, "HTTP://127.0.0.1:5000/cb");
    /* another loopback spelling is another host */
    NO_MATCH(loop, "http://localhost:5000/cb");
    NO_MATCH(loop, "http://127.0.0.2:5000/cb");
    NO_MATCH(loop, "http://[0:0:0:0:0:0:0:1]:8080/cb?x=1");
    NO_MATCH(loop, "http://127.1:5000/cb");
    NO_MATCH(loop, "http://2130706433:5000/cb");
}

static void loopback_port_must_be_a_port(void **state)
{
    NO_MATCH(loop, "http://127.0.0.1:/cb");
    NO_MATCH(loop, "http://127.0.0.1:0/cb");
    NO_MATCH(loop, "http://127.0.0.1:65536/cb");
    NO_MATCH(loop, "http://127.0.0.1:123456/cb");
    NO_MATCH(loop, "http://127.0.0.1:-1/cb");
    NO_MATCH(loop, "http://127.0.0.1:+80/cb");
    NO_MATCH(loop, "http://127.0.0.1:80:80/cb");
    NO_MATCH(loop, "http://127.0.0.1: 80/cb");
    NO_MATCH(loop, "http://[::1]x:8080/cb?x=1");
    NO_MATCH(loop, "http://[::1:8080/cb?x=1");
}

static void https_loopback_gets_no_exception(void **state)
{
    MATCHES(loop, "https://localhost/cb", "https://localhost/cb");
    NO_MATCH(loop, "https://localhost:8443/cb");
    NO_MATCH(loop, "https://127.0.0.1:5000/cb");
    /* nor does http on a loopback host registered only for https */
    NO_MATCH(loop, "http://localhost:5000/cb");
}

static void userinfo_and_suffix_tricks_do_not_match(void **state)
{
    NO_MATCH(loop, "http://127.0.0.1@evil.com/cb");
    NO_MATCH(loop, "http://127.0.0.1:5000@evil.com/cb");
    NO_MATCH(loop, "http://user@127.0.0.1/cb");
    NO_MATCH(loop, "http://user:pw@127.0.0.1:5000/cb");
    NO_MATCH(loop, "http://127.0.0.1.evil.com/cb");
    NO_MATCH(loop, "http://127.0.0.1.evil.com:5000/cb");
    NO_MATCH(loop, "http://localhost.evil.com/");
    NO_MATCH(loop, "http://localhost:5000.evil.com/");
    NO_MATCH(loop, "http://[::1].evil.com:8080/cb?x=1");
    NO_MATCH(loop, "http://[::1]@evil.com/cb?x=1");
    NO_MATCH(loop, "http://127.0.0.1\\@evil.com/cb");
    NO_MATCH(loop, "http://127.0.0.1:5000\\@evil.com/cb");
    NO_MATCH(loop, "http://127.0.0.1:5000\\.evil.com/cb");
    NO_MATCH(loop, "http://evil.com/cb");
    NO_MATCH(loop, "http://evil.com:5000/cb");
    NO_MATCH(loop, "http://evil.com?http://127.0.0.1/cb");
    NO_MATCH(loop, "http:///127.0.0.1/cb");
    NO_MATCH(loop, "http:/127.0.0.1/cb");
    NO_MATCH(loop, "//127.0.0.1/cb");
}

static void empty_registration_matches_nothing(void **state)
{
    const ts_strs_t none = {NULL, 0};
    NO_MATCH(none, "https://app.example.com/cb");
    NO_MATCH(none, "http://127.0.0.1/cb");
    assert_null(ts_redirect_uri_match(NULL, "https://app.example.com/cb"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exact_uri_matches_and_returns_the_registered_one),
        cmocka_unit_test(any_other_byte_does_not_match),
        cmocka_unit_test(fragment_never_matches),
        cmocka_unit_test(non_loopback_port_must_match),
        cmocka_unit_test(loopback_port_may_differ_either_way),
        cmocka_unit_test(loopback_everything_but_the_port_is_exact),
        cmocka_unit_test(loopback_port_must_be_a_port),
        cmocka_unit_test(https_loopback_gets_no_exception),
        cmocka_unit_test(userinfo_and_suffix_tricks_do_not_match),
        cmocka_unit_test(empty_registration_matches_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
