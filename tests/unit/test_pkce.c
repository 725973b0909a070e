/* src/oauth/pkce.c: code_verifier and S256 code_challenge syntax, and the S256 comparison (RFC 7636). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "tessera/oauth_browser.h"

/* RFC 7636 Appendix B */
#define RFC_VERIFIER "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define RFC_CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

/* n characters repeating pattern, in a static buffer */
static const char *repeat(size_t n, const char *pattern)
{
    static char buf[256];
    size_t plen = strlen(pattern);
    assert_true(n < sizeof(buf));
    for (size_t i = 0; i < n; ++i)
        buf[i] = pattern[i % plen];
    buf[n] = '\0';
    return buf;
}

static int verifier_ok(const char *s)
{
    return ts_pkce_verifier_valid(s, strlen(s));
}

static int challenge_ok(const char *s)
{
    return ts_pkce_challenge_valid(s, strlen(s));
}

static void rfc7636_appendix_b_vector_matches(void **state)
{
    assert_true(verifier_ok(RFC_VERIFIER));
    assert_true(challenge_ok(RFC_CHALLENGE));
    assert_true(ts_pkce_s256_matches(RFC_VERIFIER, strlen(RFC_VERIFIER), RFC_CHALLENGE));
}

static void verifier_length_is_43_to_128(void **state)
{
    assert_false(verifier_ok(""));
    assert_false(verifier_ok(repeat(42, "a")));
    assert_true(verifier_ok(repeat(43, "a")));
    assert_true(verifier_ok(repeat(128, "a")));
    assert_false(verifier_ok(repeat(129, "a")));
    assert_false(ts_pkce_verifier_valid(NULL, 0));
}

static void verifier_allows_only_unreserved_characters(void **state)
{
    assert_true(verifier_ok(repeat(66, "AZaz09-._~")));
    static const char *bad[] = {"+", "/", "=", " ", "%", "#", "\xc3\xa9", "\x7f", "\t", "!", "*"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        char v[64];
        memset(v, 'a', sizeof(v));
        memcpy(v + 20, bad[i], strlen(bad[i]));
        if (ts_pkce_verifier_valid(v, sizeof(v)))
            fail_msg("verifier with '%s' accepted", bad[i]);
    }
    /* a NUL inside the given length is not a character of the verifier either */
    char v[50];
    memset(v, 'a', sizeof(v));
    v[10] = '\0';
    assert_false(ts_pkce_verifier_valid(v, sizeof(v)));
}

static void challenge_is_exactly_43_base64url_characters(void **state)
{
    assert_false(challenge_ok(""));
    assert_false(challenge_ok(RFC_CHALLENGE "A"));
    assert_false(challenge_ok(repeat(42, "A")));
    assert_true(challenge_ok(repeat(43, "A")));
    /* the padded and standard-alphabet forms are not base64url */
    assert_false(challenge_ok("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM="));
    assert_false(challenge_ok("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw/cM"));
    assert_false(challenge_ok("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"));
    assert_false(challenge_ok("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c "));
    assert_false(ts_pkce_challenge_valid(NULL, 0));
    /* 43 characters carry 258 bits: the last two must be zero for 32 bytes, as every real encoder makes them */
    assert_false(challenge_ok("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"));
}

static void wrong_verifier_does_not_match(void **state)
{
    char v[] = RFC_VERIFIER;
    v[0] = 'e';
    assert_false(ts_pkce_s256_matches(v, strlen(v), RFC_CHALLENGE));
    /* the challenge itself, sent as the verifier (what "plain" would do) */
    assert_false(ts_pkce_s256_matches(RFC_CHALLENGE, strlen(RFC_CHALLENGE), RFC_CHALLENGE));
    /* a prefix of the right verifier */
    assert_false(ts_pkce_s256_matches(RFC_VERIFIER, strlen(RFC_VERIFIER) - 1, RFC_CHALLENGE));
}

static void malformed_input_never_matches(void **state)
{
    assert_false(ts_pkce_s256_matches(NULL, 0, RFC_CHALLENGE));
    assert_false(ts_pkce_s256_matches(RFC_VERIFIER, strlen(RFC_VERIFIER), NULL));
    assert_false(ts_pkce_s256_matches(RFC_VERIFIER, strlen(RFC_VERIFIER), ""));
    assert_false(ts_pkce_s256_matches(RFC_VERIFIER, strlen(RFC_VERIFIER), RFC_CHALLENGE "="));
    /* a challenge that differs only past its 43rd character is a different, invalid challenge */
    assert_false(ts_pkce_s256_matches(RFC_VERIFIER, strlen(RFC_VERIFIER), RFC_CHALLENGE "x"));
    /* too short a verifier, even when its hash were given */
    assert_false(ts_pkce_s256_matches("abc", 3, "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc7636_appendix_b_vector_matches),
        cmocka_unit_test(verifier_length_is_43_to_128),
        cmocka_unit_test(verifier_allows_only_unreserved_characters),
        cmocka_unit_test(challenge_is_exactly_43_base64url_characters),
        cmocka_unit_test(wrong_verifier_does_not_match),
        cmocka_unit_test(malformed_input_never_matches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
