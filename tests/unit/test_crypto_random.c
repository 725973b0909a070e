#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <tessera/crypto.h>

#define HANDLE_COUNT 2000

static void hex(const unsigned char *in, size_t n, char *out)
{
    size_t i;

    for (i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", in[i]);
}

/* base64url done through OpenSSL's base64 plus a character swap, independent of the module */
static void openssl_b64url(const unsigned char *in, size_t n, char *out)
{
    int len = EVP_EncodeBlock((unsigned char *)out, in, (int)n), i;

    while (len > 0 && out[len - 1] == '=')
        out[--len] = '\0';
    for (i = 0; i < len; i++) {
        if (out[i] == '+')
            out[i] = '-';
        else if (out[i] == '/')
            out[i] = '_';
    }
}

static void test_random_fills(void **state)
{
    unsigned char a[64], b[64], zero[64] = {0};

    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    assert_int_equal(ts_crypto_random(a, sizeof(a)), 0);
    assert_int_equal(ts_crypto_random(b, sizeof(b)), 0);
    assert_memory_not_equal(a, zero, sizeof(a));
    assert_memory_not_equal(a, b, sizeof(a));
    assert_int_equal(ts_crypto_random(a, 0), 0);
}

static void test_random_large_buffer_covers_every_byte(void **state)
{
    /* 1 MiB of output takes every byte value; a stuck or short fill would not */
    size_t n = 1 << 20, i;
    unsigned char *buf = calloc(1, n);
    unsigned counts[256] = {0};

    assert_non_null(buf);
    assert_int_equal(ts_crypto_random(buf, n), 0);
    for (i = 0; i < n; i++)
        counts[buf[i]]++;
    for (i = 0; i < 256; i++) {
        assert_true(counts[i] > 3000); /* expected 4096 */
        assert_true(counts[i] < 5200);
    }
    /* the tail is filled too */
    assert_memory_not_equal(buf + n - 32, (unsigned char[32]){0}, 32);
    free(buf);
}

static void test_sha256_known_answers(void **state)
{
    unsigned char md[32];
    char h[65];

    ts_crypto_sha256("abc", 3, md);
    hex(md, 32, h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    ts_crypto_sha256("", 0, md);
    hex(md, 32, h);
    assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    ts_crypto_sha256(NULL, 0, md);
    hex(md, 32, h);
    assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    ts_crypto_sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, md);
    hex(md, 32, h);
    assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_equal(void **state)
{
    assert_int_equal(ts_crypto_equal("abcdef", "abcdef", 6), 1);
    assert_int_equal(ts_crypto_equal("abcdef", "abcdeg", 6), 0);
    assert_int_equal(ts_crypto_equal("xbcdef", "abcdef", 6), 0);
    assert_int_equal(ts_crypto_equal("abc", "xyz", 0), 1);
    assert_int_equal(ts_crypto_equal("a\0b", "a\0c", 3), 0);
}

static void test_cleanse(void **state)
{
    unsigned char buf[33], zero[33] = {0};

    memset(buf, 0xa5, sizeof(buf));
    ts_crypto_cleanse(buf, sizeof(buf));
    assert_memory_equal(buf, zero, sizeof(buf));
    ts_crypto_cleanse(NULL, 0);
}

static void check_handle(const char *prefix, const char *h)
{
    size_t plen = strlen(prefix), i;
    unsigned char raw[40];
    size_t rawlen;

    assert_int_equal(strlen(h), plen + 43);
    assert_memory_equal(h, prefix, plen);
    for (i = plen; h[i] != '\0'; i++)
        assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", h[i]));
    assert_int_equal(ts_b64url_decode(h + plen, 43, raw, sizeof(raw), &rawlen), 0);
    assert_int_equal(rawlen, TS_HANDLE_RANDOM_BYTES);
}

static void test_handle_prefixes(void **state)
{
    static const char *const prefixes[] = {
        TS_PREFIX_CLIENT_SECRET, TS_PREFIX_REFRESH_TOKEN, TS_PREFIX_AUTH_CODE, TS_PREFIX_SESSION, "", "12345678"};
    char h[TS_HANDLE_MAX];
    size_t i;

    for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        memset(h, 'X', sizeof(h));
        assert_int_equal(ts_crypto_handle_new(prefixes[i], h, sizeof(h)), 0);
        check_handle(prefixes[i], h);
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void test_handles_unique(void **state)
{
    char(*hs)[TS_HANDLE_MAX] = calloc(HANDLE_COUNT, TS_HANDLE_MAX);
    size_t i;

    assert_non_null(hs);
    for (i = 0; i < HANDLE_COUNT; i++)
        assert_int_equal(ts_crypto_handle_new(TS_PREFIX_REFRESH_TOKEN, hs[i], TS_HANDLE_MAX), 0);
    qsort(hs, HANDLE_COUNT, TS_HANDLE_MAX, cmp_str);
    for (i = 1; i < HANDLE_COUNT; i++)
        assert_string_not_equal(hs[i - 1], hs[i]);
    free(hs);
}

static void test_handle_rejects(void **state)
{
    char h[TS_HANDLE_MAX + 8];

    /* exact fit is fine, one short is not */
    assert_int_equal(ts_crypto_handle_new("tsr_", h, 4 + 43 + 1), 0);
    assert_int_equal(ts_crypto_handle_new("tsr_", h, 4 + 43), -1);
    assert_int_equal(ts_crypto_handle_new("123456789", h, sizeof(h)), -1);
    assert_int_equal(ts_crypto_handle_new(NULL, h, sizeof(h)), -1);
    assert_int_equal(ts_crypto_handle_new("tsr_", h, 0), -1);
}

static void test_handle_hash(void **state)
{
    static const char handle[] = "tsr_Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9v"; /* secret-scan: allow (made up) */
    unsigned char md[32];
    unsigned int mdlen;
    char expect[64], got[44], other[44];

    assert_int_equal(EVP_Digest(handle, strlen(handle), md, &mdlen, EVP_sha256(), NULL), 1);
    openssl_b64url(md, mdlen, expect);
    memset(got, 'X', sizeof(got));
    ts_crypto_handle_hash(handle, strlen(handle), got);
    assert_int_equal(strlen(got), 43);
    assert_string_equal(got, expect);

    /* only len bytes count */
    ts_crypto_handle_hash(handle, strlen(handle) - 1, other);
    assert_string_not_equal(got, other);
    /* fixed vector: base64url(SHA-256("abc")) */
    ts_crypto_handle_hash("abc", 3, got);
    assert_string_equal(got, "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_fills),
        cmocka_unit_test(test_random_large_buffer_covers_every_byte),
        cmocka_unit_test(test_sha256_known_answers),
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_cleanse),
        cmocka_unit_test(test_handle_prefixes),
        cmocka_unit_test(test_handles_unique),
        cmocka_unit_test(test_handle_rejects),
        cmocka_unit_test(test_handle_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
