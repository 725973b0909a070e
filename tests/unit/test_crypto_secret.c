#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <tessera/crypto.h>

static void fixed_kek(ts_kek_t *kek)
{
    size_t i;

    for (i = 0; i < 32; i++)
        kek->key[i] = (unsigned char)i;
}

/* the expected value computed with other OpenSSL interfaces than the module uses (EVP_PKEY HKDF, EVP_MAC) */
static void independent_hash(const ts_kek_t *kek, const char *secret, size_t len, char out[64])
{
    static const char info[] = "tessera client secret v1";
    unsigned char key[32], mac[32];
    size_t keylen = sizeof(key), maclen = sizeof(mac);
    EVP_PKEY_CTX *pctx;
    EVP_MAC *hmac;
    EVP_MAC_CTX *mctx;
    OSSL_PARAM params[2];
    int n, i;

    assert_non_null(pctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL));
    assert_int_equal(EVP_PKEY_derive_init(pctx), 1);
    assert_int_equal(EVP_PKEY_CTX_set_hkdf_md(pctx, EVP_sha256()), 1);
    assert_int_equal(EVP_PKEY_CTX_set1_hkdf_key(pctx, kek->key, 32), 1);
    assert_int_equal(EVP_PKEY_CTX_add1_hkdf_info(pctx, (const unsigned char *)info, (int)strlen(info)), 1);
    assert_int_equal(EVP_PKEY_derive(pctx, key, &keylen), 1);
    EVP_PKEY_CTX_free(pctx);

    assert_non_null(hmac = EVP_MAC_fetch(NULL, "HMAC", NULL));
    assert_non_null(mctx = EVP_MAC_CTX_new(hmac));
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    assert_int_equal(EVP_MAC_init(mctx, key, sizeof(key), params), 1);
    assert_int_equal(EVP_MAC_update(mctx, (const unsigned char *)secret, len), 1);
    assert_int_equal(EVP_MAC_final(mctx, mac, &maclen, sizeof(mac)), 1);
    EVP_MAC_CTX_free(mctx);
    EVP_MAC_free(hmac);

    memcpy(out, "hs1$", 4);
    n = EVP_EncodeBlock((unsigned char *)out + 4, mac, 32);
    assert_int_equal(n, 44);
    out[4 + 43] = '\0'; /* drop the '=' */
    for (i = 4; out[i] != '\0'; i++)
        out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
}

static void test_known_answer_vector(void **state)
{
    /* computed offline with Python's hmac module: HKDF-SHA256(ikm = 00..1f, no salt, info), then HMAC-SHA256 */
    ts_secret_hasher_t h;
    ts_kek_t kek;
    char out[TS_SECRET_HASH_LEN];

    fixed_kek(&kek);
    assert_int_equal(ts_secret_hasher_init(&h, &kek), 0);
    ts_secret_hash(&h, "tscs_example-secret", 19, out);
    assert_string_equal(out, "hs1$I1x5fpdSaQe-tB1h44cWmK1rhCp9NjjGpUiopn0covk");
    ts_secret_hash(&h, "", 0, out);
    assert_string_equal(out, "hs1$D12wDaCMR3UZZNIKo3hrjD7dhsf2bCbVWeVtItWPyqs");
}

static void test_matches_independent_openssl(void **state)
{
    /* secret-scan: allow (made-up secrets) */
    static const char *const secrets[] = {"a", "tscs_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG", "with\0nul"};
    static const size_t lens[] = {1, 48, 8};
    ts_secret_hasher_t h;
    ts_kek_t kek;
    char out[TS_SECRET_HASH_LEN], want[64];
    size_t i;

    fixed_kek(&kek);
    kek.key[0] = 0x42;
    assert_int_equal(ts_secret_hasher_init(&h, &kek), 0);
    for (i = 0; i < 3; i++) {
        independent_hash(&kek, secrets[i], lens[i], want);
        ts_secret_hash(&h, secrets[i], lens[i], out);
        assert_int_equal(strlen(out), 47);
        assert_string_equal(out, want);
    }
}

static void test_verify(void **state)
{
    static const char secret[] = "tscs_s3cr3t-value-that-is-long-enough-000000"; /* secret-scan: allow (made up) */
    ts_secret_hasher_t h, other;
    ts_kek_t kek;
    char stored[TS_SECRET_HASH_LEN], tampered[TS_SECRET_HASH_LEN + 1];

    fixed_kek(&kek);
    assert_int_equal(ts_secret_hasher_init(&h, &kek), 0);
    ts_secret_hash(&h, secret, strlen(secret), stored);
    assert_int_equal(ts_secret_verify(&h, secret, strlen(secret), stored), 1);

    assert_int_equal(ts_secret_verify(&h, secret, strlen(secret) - 1, stored), 0);
    /* secret-scan: allow (made up) */
    assert_int_equal(ts_secret_verify(&h, "tscs_s3cr3t-value-that-is-long-enough-000001", strlen(secret), stored), 0);
    assert_int_equal(ts_secret_verify(&h, "", 0, stored), 0);
    assert_int_equal(ts_secret_verify(&h, secret, strlen(secret), NULL), 0);
    assert_int_equal(ts_secret_verify(&h, secret, strlen(secret), ""), 0);

    strcpy(tampered, stored);
    tampered[20] = tampered[20] == 'A' ? 'B' : 'A';
    assert_int_equal(ts_secret_verify(&h, secret, strlen(secret), tampered), 0);
    strcpy(tampered, stored);
    tampered[46] = '\0';
    assert_int_equal(ts_secret_verify(&h, secret, strlen(secret), tampered), 0);
    strcpy(tampered, stored);
    strcat(tampered, "x");
    assert_int_equal(ts_secret_verify(&h, secret, strlen(secret), tampered), 0);
    strcpy(tampered, stored);
    tampered[2] = '2';
    assert_int_equal(ts_secret_verify(&h, secret, strlen(secret), tampered), 0);

    /* another KEK derives another hashing key */
    kek.key[5] ^= 0x80;
    assert_int_equal(ts_secret_hasher_init(&other, &kek), 0);
    assert_memory_not_equal(other.key, h.key, 32);
    assert_int_equal(ts_secret_verify(&other, secret, strlen(secret), stored), 0);
}

static void test_hasher_key_is_not_the_kek(void **state)
{
    ts_secret_hasher_t h;
    ts_kek_t kek;

    fixed_kek(&kek);
    assert_int_equal(ts_secret_hasher_init(&h, &kek), 0);
    assert_memory_not_equal(h.key, kek.key, 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answer_vector),
        cmocka_unit_test(test_matches_independent_openssl),
        cmocka_unit_test(test_verify),
        cmocka_unit_test(test_hasher_key_is_not_the_kek),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
