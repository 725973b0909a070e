/* src/core/text.c: form decoding and strict standard base64 (RFC 4648 §4). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include "tessera/text.h"

/* ---- ts_form_decode ------------------------------------------------------------------------------------- */

static ssize_t form(const char *s, char *out)
{
    memset(out, 'X', 64);
    return ts_form_decode(s, strlen(s), out);
}

static void form_plus_is_space_and_escapes_are_bytes(void **state)
{
    char out[64];
    assert_int_equal(form("a+b%20c%2Bd%2b%41%e2%82%AC", out), 12);
    assert_memory_equal(out, "a b c+d+A\xe2\x82\xac", 13);
}

static void form_empty_input_is_an_empty_string(void **state)
{
    char out[64];
    assert_int_equal(form("", out), 0);
    assert_int_equal(out[0], '\0');
}

static void form_output_is_nul_terminated_at_the_decoded_length(void **state)
{
    char out[64];
    assert_int_equal(ts_form_decode("abcdef", 3, out), 3);
    assert_string_equal(out, "abc");
}

static void form_bad_escapes_are_refused(void **state)
{
    static const char *const bad[] = {"%", "%4", "a%", "a%4", "%G1", "%1G", "%zz", "% 1", "%-1", "%+1"};
    char out[64];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i)
        if (form(bad[i], out) != -1)
            fail_msg("accepted %s", bad[i]);
}

static void form_escape_cut_by_the_length_is_refused(void **state)
{
    /* the bytes after len must not be read as the rest of the escape */
    char out[64];
    assert_int_equal(ts_form_decode("a%41", 3, out), -1);
    assert_int_equal(ts_form_decode("a%41", 2, out), -1);
    assert_int_equal(ts_form_decode("a%41", 4, out), 2);
}

static void form_nul_is_refused_encoded_or_raw(void **state)
{
    char out[64];
    assert_int_equal(form("a%00b", out), -1);
    assert_int_equal(ts_form_decode("a\0b", 3, out), -1);
}

/* ---- ts_base64_decode ----------------------------------------------------------------------------------- */

static ssize_t b64(const char *s, unsigned char *out, size_t cap)
{
    return ts_base64_decode(s, strlen(s), out, cap);
}

static void base64_rfc4648_test_vectors(void **state)
{
    /* RFC 4648 §10 */
    static const char *const vec[][2] = {{"", ""},         {"Zg==", "f"},         {"Zm8=", "fo"},          {"Zm9v", "foo"},
                                         {"Zm9vYg==", "foob"}, {"Zm9vYmE=", "fooba"}, {"Zm9vYmFy", "foobar"}};
    unsigned char out[16];
    for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); ++i) {
        ssize_t n = b64(vec[i][0], out, sizeof(out));
        if (n != (ssize_t)strlen(vec[i][1]) || memcmp(out, vec[i][1], (size_t)n) != 0)
            fail_msg("%s decoded to %zd bytes", vec[i][0], n);
    }
}

static void base64_uses_plus_and_slash(void **state)
{
    unsigned char out[8];
    assert_int_equal(b64("+/+/", out, sizeof(out)), 3);
    assert_memory_equal(out, "\xfb\xff\xbf", 3);
    assert_int_equal(b64("-_-_", out, sizeof(out)), -1);
}

static void base64_padding_is_required_and_only_at_the_end(void **state)
{
    static const char *const bad[] = {"Zg",       "Zm8",      "Zg=",    "Zg===",  "Zm8==", "====",     "Z===",
                                      "=Zm9",     "Zm=v",     "Zg==Zm9v", "Zm8=Zm9v", "Zg==\n", " Zg==", "Zm9v====",
                                      "Zm9vYg=", "Zm9vY==="};
    unsigned char out[16];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i)
        if (b64(bad[i], out, sizeof(out)) != -1)
            fail_msg("accepted '%s'", bad[i]);
}

static void base64_non_canonical_trailing_bits_are_refused(void **state)
{
    /* "Zg==" and "Zm8=" are f and fo; any other last character leaves bits that padding discards */
    static const char *const bad[] = {"Zh==", "Zp==", "Zv==", "Zm9=", "Zm+=", "Zm/="};
    unsigned char out[16];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i)
        if (b64(bad[i], out, sizeof(out)) != -1)
            fail_msg("accepted '%s'", bad[i]);
    assert_int_equal(b64("Zw==", out, sizeof(out)), 1);
    assert_int_equal(out[0], 'g');
    assert_int_equal(b64("Zm4=", out, sizeof(out)), 2);
}

static void base64_characters_outside_the_alphabet_are_refused(void **state)
{
    static const char *const bad[] = {"Zm9*", "Zm 9", "Zm9\t", "Z\x80" "9v", "Zm.v"};
    unsigned char out[16];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i)
        if (b64(bad[i], out, sizeof(out)) != -1)
            fail_msg("accepted '%s'", bad[i]);
    assert_int_equal(ts_base64_decode("Zm\0v", 4, out, sizeof(out)), -1);
}

static void base64_reads_only_len_bytes(void **state)
{
    /* a length that is not a multiple of 4 is refused even when the bytes after it would complete the input */
    unsigned char out[16];
    assert_int_equal(ts_base64_decode("Zm9vYmFy", 6, out, sizeof(out)), -1);
    assert_int_equal(ts_base64_decode("Zm9vYmFy", 4, out, sizeof(out)), 3);
    assert_int_equal(ts_base64_decode("Zg==Zm9v", 4, out, sizeof(out)), 1);
}

static void base64_never_writes_past_cap(void **state)
{
    unsigned char out[8];
    memset(out, 0xee, sizeof(out));
    assert_int_equal(b64("Zm9vYmFy", out, 5), -1);
    assert_int_equal(out[5], 0xee);
    assert_int_equal(b64("Zm9vYmE=", out, 5), 5);
    assert_int_equal(out[5], 0xee);
    assert_int_equal(b64("Zg==", out, 0), -1);
    assert_int_equal(b64("", out, 0), 0);
}

static void base64_round_trips_openssl_encodings(void **state)
{
    unsigned char in[64], enc[100], out[64];
    uint32_t x = 12345;
    for (size_t n = 0; n <= sizeof(in); ++n) {
        for (int rep = 0; rep < 20; ++rep) {
            for (size_t i = 0; i < n; ++i) {
                x = x * 1103515245u + 12345u;
                in[i] = (unsigned char)(x >> 16);
            }
            int len = EVP_EncodeBlock(enc, in, (int)n);
            ssize_t got = ts_base64_decode((char *)enc, (size_t)len, out, sizeof(out));
            if (got != (ssize_t)n || memcmp(in, out, n) != 0)
                fail_msg("%zu bytes: %s decoded to %zd", n, enc, got);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(form_plus_is_space_and_escapes_are_bytes),
        cmocka_unit_test(form_empty_input_is_an_empty_string),
        cmocka_unit_test(form_output_is_nul_terminated_at_the_decoded_length),
        cmocka_unit_test(form_bad_escapes_are_refused),
        cmocka_unit_test(form_escape_cut_by_the_length_is_refused),
        cmocka_unit_test(form_nul_is_refused_encoded_or_raw),
        cmocka_unit_test(base64_rfc4648_test_vectors),
        cmocka_unit_test(base64_uses_plus_and_slash),
        cmocka_unit_test(base64_padding_is_required_and_only_at_the_end),
        cmocka_unit_test(base64_non_canonical_trailing_bits_are_refused),
        cmocka_unit_test(base64_characters_outside_the_alphabet_are_refused),
        cmocka_unit_test(base64_reads_only_len_bytes),
        cmocka_unit_test(base64_never_writes_past_cap),
        cmocka_unit_test(base64_round_trips_openssl_encodings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
