#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <tessera/crypto.h>

static const char hex_key[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
/* the same 32 bytes in base64url */
static const char b64_key[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

static void fixed_kek(ts_kek_t *kek)
{
    size_t i;

    for (i = 0; i < 32; i++)
        kek->key[i] = (unsigned char)i;
}

static void test_kek_hex(void **state)
{
    ts_kek_t kek, want;

    fixed_kek(&want);
    memset(&kek, 0xee, sizeof(kek));
    assert_int_equal(ts_kek_parse(hex_key, strlen(hex_key), &kek), 0);
    assert_memory_equal(kek.key, want.key, 32);
    assert_int_equal(ts_kek_parse("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", 64, &kek), 0);
    assert_memory_equal(kek.key, want.key, 32);
}

static void test_kek_b64url(void **state)
{
    ts_kek_t kek, want;

    fixed_kek(&want);
    memset(&kek, 0xee, sizeof(kek));
    assert_int_equal(ts_kek_parse(b64_key, strlen(b64_key), &kek), 0);
    assert_memory_equal(kek.key, want.key, 32);
}

static void test_kek_trims_whitespace(void **state)
{
    static const char *const ok[] = {"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
                                     "  000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\r\n",
                                     "\tAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8 \n\n"};
    ts_kek_t kek, want;
    size_t i;

    fixed_kek(&want);
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        memset(&kek, 0xee, sizeof(kek));
        assert_int_equal(ts_kek_parse(ok[i], strlen(ok[i]), &kek), 0);
        assert_memory_equal(kek.key, want.key, 32);
    }
}

static void test_kek_rejects(void **state)
{
    static const char *const bad[] = {
        "",
        "\n",
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1",    /* 63 hex */
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f0",  /* 65 hex */
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g",   /* not hex */
        "0001020304050607 8090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",   /* inner space */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",                       /* padded */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh",                         /* 42 chars */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9",                        /* trailing bits set */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+",                        /* standard alphabet */
        "AAECAwQFBgcICQoLDA0ODx AREhMUFRYXGBkaGxwdHh",                        /* inner space, 43 long */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8AAECAwQFBgcICQoLDA0ODxA", /* 64 chars of base64url */
    };
    ts_kek_t kek;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(ts_kek_parse(bad[i], strlen(bad[i]), &kek), -1);
    /* a NUL inside the counted length is not whitespace */
    assert_int_equal(ts_kek_parse("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\0", 65, &kek), -1);
    assert_int_equal(ts_kek_parse(NULL, 0, &kek), -1);
}

static void seal_ok(const ts_kek_t *kek, const char *aad, const void *pt, size_t ptlen, unsigned char **out, size_t *outlen)
{
    assert_int_equal(ts_crypto_seal(kek, aad, aad != NULL ? strlen(aad) : 0, pt, ptlen, out, outlen), 0);
    assert_non_null(*out);
    assert_int_equal(*outlen, 1 + 12 + ptlen + 16);
    assert_int_equal((*out)[0], 1);
}

static void expect_open_fails(const ts_kek_t *kek, const char *aad, const unsigned char *in, size_t inlen)
{
    unsigned char *pt = (unsigned char *)"sentinel";
    size_t ptlen = 99;

    assert_int_equal(ts_crypto_open(kek, aad, aad != NULL ? strlen(aad) : 0, in, inlen, &pt, &ptlen), -1);
    assert_null(pt);
}

static void test_round_trip(void **state)
{
    static const size_t lens[] = {0, 1, 15, 16, 17, 100, 4096};
    unsigned char pt[4096], *ct, *back;
    size_t i, ctlen, backlen;
    ts_kek_t kek;

    fixed_kek(&kek);
    for (i = 0; i < sizeof(pt); i++)
        pt[i] = (unsigned char)(i * 7);
    for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        seal_ok(&kek, "kid-1", pt, lens[i], &ct, &ctlen);
        if (lens[i] >= 16) /* the ciphertext is not the plaintext */
            assert_memory_not_equal(ct + 13, pt, lens[i]);
        assert_int_equal(ts_crypto_open(&kek, "kid-1", 5, ct, ctlen, &back, &backlen), 0);
        assert_non_null(back);
        assert_int_equal(backlen, lens[i]);
        assert_memory_equal(back, pt, lens[i]);
        free(back);
        free(ct);
    }
}

static void test_no_aad_round_trip(void **state)
{
    unsigned char *ct, *back;
    size_t ctlen, backlen;
    ts_kek_t kek;

    fixed_kek(&kek);
    seal_ok(&kek, NULL, "hello", 5, &ct, &ctlen);
    assert_int_equal(ts_crypto_open(&kek, NULL, 0, ct, ctlen, &back, &backlen), 0);
    assert_int_equal(backlen, 5);
    assert_memory_equal(back, "hello", 5);
    free(back);
    /* and once there is aad, it is needed */
    expect_open_fails(&kek, "x", ct, ctlen);
    free(ct);
}

static void test_nonces_differ(void **state)
{
    unsigned char *a, *b;
    size_t alen, blen;
    ts_kek_t kek;

    fixed_kek(&kek);
    seal_ok(&kek, "aad", "same plaintext", 14, &a, &alen);
    seal_ok(&kek, "aad", "same plaintext", 14, &b, &blen);
    assert_memory_not_equal(a + 1, b + 1, 12);
    assert_memory_not_equal(a + 13, b + 13, alen - 13);
    free(a);
    free(b);
}

static void test_every_bit_flip_fails(void **state)
{
    /* version byte, nonce, ciphertext and tag: flipping any single bit must not authenticate */
    unsigned char *ct;
    size_t ctlen, i;
    int bit;
    ts_kek_t kek;

    fixed_kek(&kek);
    seal_ok(&kek, "aad", "secret private key bytes", 24, &ct, &ctlen);
    for (i = 0; i < ctlen; i++) {
        for (bit = 0; bit < 8; bit++) {
            ct[i] ^= (unsigned char)(1 << bit);
            expect_open_fails(&kek, "aad", ct, ctlen);
            ct[i] ^= (unsigned char)(1 << bit);
        }
    }
    free(ct);
}

static void test_wrong_aad_fails(void **state)
{
    unsigned char *ct;
    size_t ctlen;
    ts_kek_t kek;

    fixed_kek(&kek);
    seal_ok(&kek, "kid-A", "payload", 7, &ct, &ctlen);
    expect_open_fails(&kek, "kid-B", ct, ctlen);
    expect_open_fails(&kek, "kid-", ct, ctlen);
    expect_open_fails(&kek, "kid-AA", ct, ctlen);
    expect_open_fails(&kek, NULL, ct, ctlen);
    free(ct);
}

static void test_wrong_key_fails(void **state)
{
    unsigned char *ct;
    size_t ctlen;
    ts_kek_t kek, other;

    fixed_kek(&kek);
    other = kek;
    other.key[31] ^= 1;
    seal_ok(&kek, "aad", "payload", 7, &ct, &ctlen);
    expect_open_fails(&other, "aad", ct, ctlen);
    free(ct);
}

static void test_truncated_and_extended_fail(void **state)
{
    unsigned char *ct, *longer;
    size_t ctlen, n;
    ts_kek_t kek;

    fixed_kek(&kek);
    seal_ok(&kek, "aad", "payload", 7, &ct, &ctlen);
    for (n = 0; n < ctlen; n++)
        expect_open_fails(&kek, "aad", ct, n);
    longer = malloc(ctlen + 1);
    assert_non_null(longer);
    memcpy(longer, ct, ctlen);
    longer[ctlen] = 0;
    expect_open_fails(&kek, "aad", longer, ctlen + 1);
    free(longer);
    free(ct);
}

static void test_format_matches_plain_gcm(void **state)
{
    /* decrypt ts_crypto_seal's output with OpenSSL directly, and the reverse: the layout is the documented one */
    static const char aad[] = "kid-x";
    static const unsigned char nonce[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    unsigned char *ct, buf[64], mine[1 + 12 + 10 + 16], *back;
    size_t ctlen, backlen;
    int n, m;
    ts_kek_t kek;
    EVP_CIPHER_CTX *ctx;

    fixed_kek(&kek);
    seal_ok(&kek, aad, "0123456789", 10, &ct, &ctlen);
    assert_non_null(ctx = EVP_CIPHER_CTX_new());
    assert_int_equal(EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, kek.key, ct + 1), 1);
    assert_int_equal(EVP_DecryptUpdate(ctx, NULL, &n, (const unsigned char *)aad, 5), 1);
    assert_int_equal(EVP_DecryptUpdate(ctx, buf, &n, ct + 13, 10), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, ct + 23), 1);
    assert_int_equal(EVP_DecryptFinal_ex(ctx, buf + n, &m), 1);
    assert_memory_equal(buf, "0123456789", 10);
    EVP_CIPHER_CTX_free(ctx);
    free(ct);

    mine[0] = 1;
    memcpy(mine + 1, nonce, 12);
    assert_non_null(ctx = EVP_CIPHER_CTX_new());
    assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, kek.key, nonce), 1);
    assert_int_equal(EVP_EncryptUpdate(ctx, NULL, &n, (const unsigned char *)aad, 5), 1);
    assert_int_equal(EVP_EncryptUpdate(ctx, mine + 13, &n, (const unsigned char *)"abcdefghij", 10), 1);
    assert_int_equal(EVP_EncryptFinal_ex(ctx, mine + 23, &m), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, mine + 23), 1);
    EVP_CIPHER_CTX_free(ctx);
    assert_int_equal(ts_crypto_open(&kek, aad, 5, mine, sizeof(mine), &back, &backlen), 0);
    assert_int_equal(backlen, 10);
    assert_memory_equal(back, "abcdefghij", 10);
    free(back);

    /* the version byte is checked even when the rest authenticates */
    mine[0] = 2;
    expect_open_fails(&kek, aad, mine, sizeof(mine));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kek_hex),
        cmocka_unit_test(test_kek_b64url),
        cmocka_unit_test(test_kek_trims_whitespace),
        cmocka_unit_test(test_kek_rejects),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_no_aad_round_trip),
        cmocka_unit_test(test_nonces_differ),
        cmocka_unit_test(test_every_bit_flip_fails),
        cmocka_unit_test(test_wrong_aad_fails),
        cmocka_unit_test(test_wrong_key_fails),
        cmocka_unit_test(test_truncated_and_extended_fail),
        cmocka_unit_test(test_format_matches_plain_gcm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
