#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <tessera/crypto.h>

/* RFC 4648 §10 vectors; none of them reaches the characters where base64url differs from base64 */
static const struct {
    const char *plain, *encoded;
} rfc4648[] = {{"", ""},           {"f", "Zg"},          {"fo", "Zm8"},         {"foo", "Zm9v"},
               {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};

static void test_rfc4648_encode(void **state)
{
    size_t i;

    for (i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
        char out[16];
        memset(out, 'X', sizeof(out));
        assert_int_equal(ts_b64url_encode(rfc4648[i].plain, strlen(rfc4648[i].plain), out), strlen(rfc4648[i].encoded));
        assert_string_equal(out, rfc4648[i].encoded);
    }
}

static void test_rfc4648_decode(void **state)
{
    size_t i;

    for (i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
        unsigned char out[16];
        size_t outlen = 999;
        assert_int_equal(ts_b64url_decode(rfc4648[i].encoded, strlen(rfc4648[i].encoded), out, sizeof(out), &outlen), 0);
        assert_int_equal(outlen, strlen(rfc4648[i].plain));
        assert_memory_equal(out, rfc4648[i].plain, outlen);
    }
}

static void test_url_alphabet(void **state)
{
    /* base64 would give "+/8=" and "+/+/"; base64url must give '-' and '_' and no padding */
    static const unsigned char a[] = {0xfb, 0xff}, b[] = {0xfb, 0xef, 0xbe};
    unsigned char out[8];
    char enc[8];
    size_t n;

    ts_b64url_encode(a, sizeof(a), enc);
    assert_string_equal(enc, "-_8");
    ts_b64url_encode(b, sizeof(b), enc);
    assert_string_equal(enc, "----");
    assert_int_equal(ts_b64url_decode("-_8", 3, out, sizeof(out), &n), 0);
    assert_int_equal(n, 2);
    assert_memory_equal(out, a, 2);
    assert_int_equal(ts_b64url_decode("____", 4, out, sizeof(out), &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(out[0], 0xff);
    assert_int_equal(out[1], 0xff);
    assert_int_equal(out[2], 0xff);
}

static void test_round_trip_all_lengths(void **state)
{
    unsigned char in[300], out[300];
    char enc[TS_B64URL_ENCODED_LEN(300) + 1];
    size_t n, i, outlen;

    for (i = 0; i < sizeof(in); i++)
        in[i] = (unsigned char)(i * 37 + 11);
    for (n = 0; n <= sizeof(in); n++) {
        size_t len = ts_b64url_encode(in, n, enc);
        assert_int_equal(len, TS_B64URL_ENCODED_LEN(n));
        assert_int_equal(strlen(enc), len);
        assert_int_not_equal(len % 4, 1);
        assert_int_equal(ts_b64url_decode(enc, len, out, n, &outlen), 0);
        assert_int_equal(outlen, n);
        assert_memory_equal(out, in, n);
    }
}

static void test_encoded_len_macro(void **state)
{
    assert_int_equal(TS_B64URL_ENCODED_LEN(0), 0);
    assert_int_equal(TS_B64URL_ENCODED_LEN(1), 2);
    assert_int_equal(TS_B64URL_ENCODED_LEN(2), 3);
    assert_int_equal(TS_B64URL_ENCODED_LEN(3), 4);
    assert_int_equal(TS_B64URL_ENCODED_LEN(32), 43);
}

static void expect_reject(const char *in, size_t n)
{
    unsigned char out[64];
    size_t outlen = 12345;

    assert_int_equal(ts_b64url_decode(in, n, out, sizeof(out), &outlen), -1);
}

static void test_rejects_padding(void **state)
{
    expect_reject("Zg==", 4);
    expect_reject("Zg=", 3);
    expect_reject("Zm8=", 4);
    expect_reject("=", 1);
    expect_reject("====", 4);
}

static void test_rejects_whitespace(void **state)
{
    expect_reject("Zm9v Yg", 7);
    expect_reject("Zm9v\nYmFy", 9);
    expect_reject(" Zm9v", 5);
    expect_reject("Zm9v\t", 5);
    expect_reject("Zm9vYmFy\r\n", 10);
}

static void test_rejects_standard_alphabet(void **state)
{
    expect_reject("+/8", 3);
    expect_reject("Zm+v", 4);
    expect_reject("Zm/v", 4);
}

static void test_rejects_other_characters(void **state)
{
    expect_reject("Zm\0v", 4);
    expect_reject("Zm.v", 4);
    expect_reject("Zm9\x80", 4);
    expect_reject("Zm9\xff", 4);
    expect_reject("Zm9~", 4);
}

static void test_rejects_length_mod_4_is_1(void **state)
{
    expect_reject("Z", 1);
    expect_reject("Zm9vY", 5);
    expect_reject("Zm9vYmFyZ", 9);
}

static void test_rejects_nonzero_trailing_bits(void **state)
{
    unsigned char out[8];
    size_t n;

    /* "Zg" is "f"; "Zh".."Zv" differ only in the 4 unused bits */
    assert_int_equal(ts_b64url_decode("Zg", 2, out, sizeof(out), &n), 0);
    expect_reject("Zh", 2);
    expect_reject("Zv", 2);
    /* "Zm8" is "fo"; "Zm9" sets the 2 unused bits */
    assert_int_equal(ts_b64url_decode("Zm8", 3, out, sizeof(out), &n), 0);
    expect_reject("Zm9", 3);
    expect_reject("Zm_", 3);
}

static void test_capacity(void **state)
{
    unsigned char out[6];
    size_t n = 77;

    assert_int_equal(ts_b64url_decode("Zm9vYmFy", 8, out, 5, &n), -1);
    assert_int_equal(ts_b64url_decode("Zm9vYmFy", 8, out, 6, &n), 0);
    assert_int_equal(n, 6);
    assert_int_equal(ts_b64url_decode("Zm9vYmE", 7, out, 4, &n), -1);
    assert_int_equal(ts_b64url_decode("Zm9vYmE", 7, out, 5, &n), 0);
    assert_int_equal(n, 5);
}

static void test_empty(void **state)
{
    unsigned char out[1];
    char enc[1] = {'X'};
    size_t n = 77;

    assert_int_equal(ts_b64url_decode("", 0, out, 0, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(ts_b64url_encode("", 0, enc), 0);
    assert_int_equal(enc[0], '\0');
}

static void test_decode_respects_length(void **state)
{
    /* only n characters are read, so a longer string or one without a NUL is fine */
    unsigned char out[8];
    size_t n;

    assert_int_equal(ts_b64url_decode("Zm9vYmFy!!!!", 8, out, sizeof(out), &n), 0);
    assert_int_equal(n, 6);
    assert_memory_equal(out, "foobar", 6);
    assert_int_equal(ts_b64url_decode("Zm9v====", 4, out, sizeof(out), &n), 0);
    assert_int_equal(n, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_encode),
        cmocka_unit_test(test_rfc4648_decode),
        cmocka_unit_test(test_url_alphabet),
        cmocka_unit_test(test_round_trip_all_lengths),
        cmocka_unit_test(test_encoded_len_macro),
        cmocka_unit_test(test_rejects_padding),
        cmocka_unit_test(test_rejects_whitespace),
        cmocka_unit_test(test_rejects_standard_alphabet),
        cmocka_unit_test(test_rejects_other_characters),
        cmocka_unit_test(test_rejects_length_mod_4_is_1),
        cmocka_unit_test(test_rejects_nonzero_trailing_bits),
        cmocka_unit_test(test_capacity),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_decode_respects_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
