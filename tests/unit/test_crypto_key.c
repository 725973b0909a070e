#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <tessera/crypto.h>

/* RFC 7638 §3.1 */
static const char rfc7638_n[] =
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_"
    "2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_"
    "FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-"
    "bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
static const char rfc7638_thumbprint[] = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
/* the same n with a leading zero octet, as some encoders write it */
static const char rfc7638_n_zero[] =
    "ANL8e2oKHmxnEErrj4iyV2abTfZ53a0Jm1xKbNmogBW1oTO_C4VseHG23wALVU_Os8LtUSu2jxRcboQ0dS-rUqHPwSRAj3m1ikV4wWQohVeJ96JJ44TLLZ-"
    "uLWf9lvuSbBmOB3OZ_cgVwK8Jfd5are_0TecOgn9IeEMkOb_uuWBo0EdPxQ1tkL86mN-vEEDInALWkqs7PCiWYJ2G_XO3dM4HQGR87uqjEL0S-YWo659Z_"
    "dQmzqWyEg9PKjS8q3ZLfmxU1oQCOLzEBYelnmbtHzOJRXdjXEcK91z5LCDR2kPhv8QZ4iKm8NC7NYxeOPnLBQrq_pBIFPGsGqScyp6gyoM";

static ts_key_t *es_key, *rs_key;

static int setup(void **state)
{
    es_key = ts_key_generate(TS_ALG_ES256);
    rs_key = ts_key_generate(TS_ALG_RS256);
    return es_key != NULL && rs_key != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    ts_key_free(es_key);
    ts_key_free(rs_key);
    return 0;
}

/* base64url through OpenSSL's base64, not the module's encoder; malloc'd */
static char *b64u(const unsigned char *in, size_t n)
{
    char *out = malloc(n / 3 * 4 + 8);
    int len, i;

    assert_non_null(out);
    len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    while (len > 0 && out[len - 1] == '=')
        out[--len] = '\0';
    for (i = 0; i < len; i++)
        out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    return out;
}

static char *bn_b64u(const EVP_PKEY *pkey, const char *name, int pad)
{
    BIGNUM *bn = NULL;
    unsigned char buf[1100];
    int len;
    char *ret;

    assert_int_equal(EVP_PKEY_get_bn_param(pkey, name, &bn), 1);
    len = pad != 0 ? pad : BN_num_bytes(bn);
    assert_int_equal(BN_bn2binpad(bn, buf, len), len);
    BN_free(bn);
    ret = b64u(buf, (size_t)len);
    return ret;
}

static char *sha256_b64u(const char *s)
{
    unsigned char md[32];
    unsigned int mdlen;

    assert_int_equal(EVP_Digest(s, strlen(s), md, &mdlen, EVP_sha256(), NULL), 1);
    return b64u(md, mdlen);
}

/* the private key as an EVP_PKEY, read back from the module's DER by OpenSSL */
static EVP_PKEY *private_pkey(const ts_key_t *key)
{
    unsigned char *der;
    const unsigned char *p;
    size_t len;
    EVP_PKEY *pkey;

    assert_int_equal(ts_key_export_private(key, &der, &len), 0);
    p = der;
    pkey = d2i_AutoPrivateKey(NULL, &p, (long)len);
    assert_non_null(pkey);
    ts_crypto_cleanse(der, len);
    free(der);
    return pkey;
}

static const char *member(const json_t *obj, const char *name)
{
    const json_t *v = json_object_get(obj, name);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

static json_t *rfc7638_jwk(const char *n)
{
    json_t *jwk = json_pack("{s:s, s:s, s:s}", "kty", "RSA", "n", n, "e", "AQAB");
    assert_non_null(jwk);
    return jwk;
}

static void test_alg_names(void **state)
{
    static const char *const bad[] = {"none", "None", "HS256", "es256", "rs256", "RS256 ", " ES256", "RS384", "ES512", "PS256", ""};
    ts_jws_alg_t alg;
    size_t i;

    assert_string_equal(ts_jws_alg_name(TS_ALG_RS256), "RS256");
    assert_string_equal(ts_jws_alg_name(TS_ALG_ES256), "ES256");
    assert_int_equal(ts_jws_alg_parse("RS256", &alg), 0);
    assert_int_equal(alg, TS_ALG_RS256);
    assert_int_equal(ts_jws_alg_parse("ES256", &alg), 0);
    assert_int_equal(alg, TS_ALG_ES256);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(ts_jws_alg_parse(bad[i], &alg), -1);
    assert_int_equal(ts_jws_alg_parse(NULL, &alg), -1);
    assert_int_not_equal(TS_ALG_MASK(TS_ALG_RS256), TS_ALG_MASK(TS_ALG_ES256));
}

static void test_generate_es256(void **state)
{
    json_t *jwk = ts_key_public_jwk(es_key);
    unsigned char buf[64];
    size_t n;

    assert_int_equal(ts_key_alg(es_key), TS_ALG_ES256);
    assert_int_equal(ts_key_has_private(es_key), 1);
    assert_int_equal(strlen(ts_key_kid(es_key)), 43);
    assert_non_null(jwk);
    assert_string_equal(member(jwk, "kty"), "EC");
    assert_string_equal(member(jwk, "crv"), "P-256");
    assert_string_equal(member(jwk, "alg"), "ES256");
    assert_string_equal(member(jwk, "use"), "sig");
    assert_string_equal(member(jwk, "kid"), ts_key_kid(es_key));
    assert_int_equal(ts_b64url_decode(member(jwk, "x"), strlen(member(jwk, "x")), buf, sizeof(buf), &n), 0);
    assert_int_equal(n, 32);
    assert_int_equal(ts_b64url_decode(member(jwk, "y"), strlen(member(jwk, "y")), buf, sizeof(buf), &n), 0);
    assert_int_equal(n, 32);
    /* public members only */
    assert_int_equal(json_object_size(jwk), 7);
    assert_null(json_object_get(jwk, "d"));
    json_decref(jwk);
}

static void test_generate_rs256(void **state)
{
    json_t *jwk = ts_key_public_jwk(rs_key);
    unsigned char buf[600];
    size_t n;

    assert_int_equal(ts_key_alg(rs_key), TS_ALG_RS256);
    assert_int_equal(ts_key_has_private(rs_key), 1);
    assert_int_equal(strlen(ts_key_kid(rs_key)), 43);
    assert_non_null(jwk);
    assert_string_equal(member(jwk, "kty"), "RSA");
    assert_string_equal(member(jwk, "alg"), "RS256");
    assert_string_equal(member(jwk, "use"), "sig");
    assert_string_equal(member(jwk, "kid"), ts_key_kid(rs_key));
    assert_string_equal(member(jwk, "e"), "AQAB");
    assert_int_equal(ts_b64url_decode(member(jwk, "n"), strlen(member(jwk, "n")), buf, sizeof(buf), &n), 0);
    assert_int_equal(n, 256);
    assert_true(buf[0] & 0x80);
    assert_int_equal(json_object_size(jwk), 6);
    assert_null(json_object_get(jwk, "d"));
    assert_null(json_object_get(jwk, "p"));
    json_decref(jwk);
}

static void test_generated_keys_differ(void **state)
{
    ts_key_t *other = ts_key_generate(TS_ALG_ES256);

    assert_non_null(other);
    assert_string_not_equal(ts_key_kid(other), ts_key_kid(es_key));
    ts_key_free(other);
    assert_null(ts_key_generate((ts_jws_alg_t)0));
    assert_null(ts_key_generate((ts_jws_alg_t)3));
}

static void test_ec_thumbprint_independent(void **state)
{
    EVP_PKEY *pkey = private_pkey(es_key);
    char *x = bn_b64u(pkey, OSSL_PKEY_PARAM_EC_PUB_X, 32), *y = bn_b64u(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, 32), canon[256], *tp;
    json_t *jwk = ts_key_public_jwk(es_key);

    assert_string_equal(member(jwk, "x"), x);
    assert_string_equal(member(jwk, "y"), y);
    snprintf(canon, sizeof(canon), "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", x, y);
    tp = sha256_b64u(canon);
    assert_string_equal(ts_key_kid(es_key), tp);
    free(tp);
    free(x);
    free(y);
    json_decref(jwk);
    EVP_PKEY_free(pkey);
}

static void test_rsa_thumbprint_independent(void **state)
{
    EVP_PKEY *pkey = private_pkey(rs_key);
    char *n = bn_b64u(pkey, OSSL_PKEY_PARAM_RSA_N, 0), *e = bn_b64u(pkey, OSSL_PKEY_PARAM_RSA_E, 0), canon[1024], *tp;
    json_t *jwk = ts_key_public_jwk(rs_key);

    assert_string_equal(member(jwk, "n"), n);
    assert_string_equal(member(jwk, "e"), e);
    snprintf(canon, sizeof(canon), "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", e, n);
    tp = sha256_b64u(canon);
    assert_string_equal(ts_key_kid(rs_key), tp);
    free(tp);
    free(n);
    free(e);
    json_decref(jwk);
    EVP_PKEY_free(pkey);
}

static void test_rfc7638_example(void **state)
{
    json_t *jwk = rfc7638_jwk(rfc7638_n), *pub;
    ts_key_t *key;
    unsigned char *der = NULL;
    size_t len;

    key = ts_key_import_jwk(jwk);
    assert_non_null(key);
    assert_string_equal(ts_key_kid(key), rfc7638_thumbprint);
    assert_int_equal(ts_key_alg(key), TS_ALG_RS256);
    assert_int_equal(ts_key_has_private(key), 0);
    assert_int_equal(ts_key_export_private(key, &der, &len), -1);
    assert_null(der);
    pub = ts_key_public_jwk(key);
    assert_string_equal(member(pub, "n"), rfc7638_n);
    assert_string_equal(member(pub, "e"), "AQAB");
    assert_string_equal(member(pub, "kid"), rfc7638_thumbprint);
    json_decref(pub);
    ts_key_free(key);

    /* the RFC's own JWK also names alg and kid: the kid given wins */
    assert_int_equal(json_object_set_new(jwk, "alg", json_string("RS256")), 0);
    assert_int_equal(json_object_set_new(jwk, "kid", json_string("2011-04-29")), 0);
    key = ts_key_import_jwk(jwk);
    assert_non_null(key);
    assert_string_equal(ts_key_kid(key), "2011-04-29");
    ts_key_free(key);
    json_decref(jwk);
}

static void test_rfc7638_leading_zero_is_canonicalised(void **state)
{
    json_t *jwk = rfc7638_jwk(rfc7638_n_zero), *pub;
    ts_key_t *key = ts_key_import_jwk(jwk);

    assert_non_null(key);
    assert_string_equal(ts_key_kid(key), rfc7638_thumbprint);
    pub = ts_key_public_jwk(key);
    assert_string_equal(member(pub, "n"), rfc7638_n);
    json_decref(pub);
    ts_key_free(key);
    json_decref(jwk);
}

static void check_private_round_trip(const ts_key_t *key)
{
    unsigned char *der, *der2;
    const unsigned char *p;
    size_t len, len2;
    PKCS8_PRIV_KEY_INFO *p8;
    ts_key_t *back;
    json_t *a, *b;

    assert_int_equal(ts_key_export_private(key, &der, &len), 0);
    /* it is PKCS#8 */
    p = der;
    assert_non_null(p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)len));
    assert_ptr_equal(p, der + len);
    PKCS8_PRIV_KEY_INFO_free(p8);

    back = ts_key_import_private(ts_key_alg(key), der, len);
    assert_non_null(back);
    assert_int_equal(ts_key_has_private(back), 1);
    assert_int_equal(ts_key_alg(back), ts_key_alg(key));
    assert_string_equal(ts_key_kid(back), ts_key_kid(key));
    a = ts_key_public_jwk(key);
    b = ts_key_public_jwk(back);
    assert_true(json_equal(a, b));
    json_decref(a);
    json_decref(b);
    assert_int_equal(ts_key_export_private(back, &der2, &len2), 0);
    assert_int_equal(len2, len);
    assert_memory_equal(der2, der, len);
    ts_crypto_cleanse(der2, len2);
    free(der2);
    ts_key_free(back);

    /* refused under the other algorithm, and when cut or padded */
    assert_null(ts_key_import_private(ts_key_alg(key) == TS_ALG_ES256 ? TS_ALG_RS256 : TS_ALG_ES256, der, len));
    assert_null(ts_key_import_private(ts_key_alg(key), der, len - 1));
    assert_null(ts_key_import_private(ts_key_alg(key), der, len / 2));
    assert_null(ts_key_import_private(ts_key_alg(key), der, 0));
    der2 = malloc(len + 1);
    memcpy(der2, der, len);
    der2[len] = 0;
    assert_null(ts_key_import_private(ts_key_alg(key), der2, len + 1));
    free(der2);
    ts_crypto_cleanse(der, len);
    free(der);
}

static void test_private_round_trip_es256(void **state)
{
    check_private_round_trip(es_key);
}

static void test_private_round_trip_rs256(void **state)
{
    check_private_round_trip(rs_key);
}

/* PKCS#8 DER of pkey made by OpenSSL without the module */
static size_t pkcs8_of(EVP_PKEY *pkey, unsigned char **der)
{
    PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(pkey);
    int len;

    assert_non_null(p8);
    *der = NULL;
    len = i2d_PKCS8_PRIV_KEY_INFO(p8, der);
    assert_true(len > 0);
    PKCS8_PRIV_KEY_INFO_free(p8);
    return (size_t)len;
}

static void test_import_private_rejects(void **state)
{
    EVP_PKEY *pkey;
    unsigned char *der, *trad = NULL;
    size_t len;
    int tlen;
    ts_key_t *key;

    /* control: a PKCS#8 P-256 key made by OpenSSL itself is accepted */
    assert_non_null(pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"));
    len = pkcs8_of(pkey, &der);
    assert_non_null(key = ts_key_import_private(TS_ALG_ES256, der, len));
    ts_key_free(key);
    OPENSSL_free(der);
    EVP_PKEY_free(pkey);

    assert_non_null(pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024));
    len = pkcs8_of(pkey, &der);
    assert_null(ts_key_import_private(TS_ALG_RS256, der, len));
    OPENSSL_free(der);
    EVP_PKEY_free(pkey);

    assert_non_null(pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"));
    len = pkcs8_of(pkey, &der);
    assert_null(ts_key_import_private(TS_ALG_ES256, der, len));
    OPENSSL_free(der);
    EVP_PKEY_free(pkey);

    /* the traditional RSAPrivateKey form is not PKCS#8 */
    pkey = private_pkey(rs_key);
    assert_true((tlen = i2d_PrivateKey(pkey, &trad)) > 0);
    assert_null(ts_key_import_private(TS_ALG_RS256, trad, (size_t)tlen));
    OPENSSL_free(trad);
    EVP_PKEY_free(pkey);

    assert_null(ts_key_import_private(TS_ALG_ES256, (const unsigned char *)"\x30\x03\x02\x01\x00", 5));
    assert_null(ts_key_import_private(TS_ALG_ES256, NULL, 10));
}

static void check_jwk_round_trip(const ts_key_t *key)
{
    json_t *jwk = ts_key_public_jwk(key), *again;
    ts_key_t *pub = ts_key_import_jwk(jwk);
    unsigned char *der = NULL;
    size_t len;

    assert_non_null(pub);
    assert_string_equal(ts_key_kid(pub), ts_key_kid(key));
    assert_int_equal(ts_key_alg(pub), ts_key_alg(key));
    assert_int_equal(ts_key_has_private(pub), 0);
    assert_int_equal(ts_key_export_private(pub, &der, &len), -1);
    again = ts_key_public_jwk(pub);
    assert_true(json_equal(again, jwk));
    json_decref(again);
    ts_key_free(pub);

    /* without the kid it comes back as the thumbprint, which is what we generate */
    json_object_del(jwk, "kid");
    pub = ts_key_import_jwk(jwk);
    assert_non_null(pub);
    assert_string_equal(ts_key_kid(pub), ts_key_kid(key));
    ts_key_free(pub);
    json_decref(jwk);
}

static void test_jwk_round_trip_es256(void **state)
{
    check_jwk_round_trip(es_key);
}

static void test_jwk_round_trip_rs256(void **state)
{
    check_jwk_round_trip(rs_key);
}

/* imports a copy of base with name set to value (value NULL: name removed); returns whether it was accepted */
static int import_with(const json_t *base, const char *name, json_t *value)
{
    json_t *jwk = json_deep_copy(base);
    ts_key_t *key;
    int ok;

    if (value != NULL)
        json_object_set_new(jwk, name, value);
    else
        json_object_del(jwk, name);
    key = ts_key_import_jwk(jwk);
    ok = key != NULL;
    ts_key_free(key);
    json_decref(jwk);
    return ok;
}

/* base64url of a coordinate of jwk with the last bit flipped: off the curve for any valid point */
static json_t *flipped(const json_t *jwk, const char *name)
{
    unsigned char buf[32];
    size_t n;
    char *s;
    json_t *ret;

    assert_int_equal(ts_b64url_decode(member(jwk, name), 43, buf, sizeof(buf), &n), 0);
    buf[31] ^= 1;
    s = b64u(buf, 32);
    ret = json_string(s);
    free(s);
    return ret;
}

static void test_jwk_rejects_ec(void **state)
{
    json_t *jwk = ts_key_public_jwk(es_key);
    unsigned char zero[32] = {0}, x33[33];
    char *z = b64u(zero, 32), *long_x;

    assert_true(import_with(jwk, "use", json_string("sig"))); /* control */
    assert_false(import_with(jwk, "kty", json_string("RSA")));
    assert_false(import_with(jwk, "kty", json_string("oct")));
    assert_false(import_with(jwk, "kty", json_string("OKP")));
    assert_false(import_with(jwk, "kty", json_string("ec")));
    assert_false(import_with(jwk, "kty", json_integer(2)));
    assert_false(import_with(jwk, "kty", NULL));
    assert_false(import_with(jwk, "alg", json_string("RS256")));
    assert_false(import_with(jwk, "alg", json_string("HS256")));
    assert_false(import_with(jwk, "alg", json_string("none")));
    assert_false(import_with(jwk, "alg", json_string("ES384")));
    assert_false(import_with(jwk, "alg", json_true()));
    assert_false(import_with(jwk, "crv", json_string("P-384")));
    assert_false(import_with(jwk, "crv", json_string("secp256k1")));
    assert_false(import_with(jwk, "crv", NULL));
    assert_false(import_with(jwk, "x", NULL));
    assert_false(import_with(jwk, "y", NULL));
    assert_false(import_with(jwk, "y", flipped(jwk, "y")));
    assert_false(import_with(jwk, "x", flipped(jwk, "x")));
    assert_false(import_with(jwk, "x", json_string(z)));
    assert_false(import_with(jwk, "x", json_string("AAAA")));
    memset(x33, 0, sizeof(x33));
    assert_int_equal(ts_b64url_decode(member(jwk, "x"), 43, x33 + 1, 32, &(size_t){0}), 0);
    long_x = b64u(x33, 33); /* leading zero: 33 bytes, not the full-length form JWA requires */
    assert_false(import_with(jwk, "x", json_string(long_x)));
    free(long_x);
    assert_false(import_with(jwk, "d", json_string(z)));
    assert_false(import_with(jwk, "use", json_string("enc")));
    {
        /* padded coordinate */
        char padded[64];
        snprintf(padded, sizeof(padded), "%s=", member(jwk, "x"));
        assert_false(import_with(jwk, "x", json_string(padded)));
    }
    {
        /* both coordinates zero: not a point */
        json_t *both = json_deep_copy(jwk);
        json_object_set_new(both, "x", json_string(z));
        assert_false(import_with(both, "y", json_string(z)));
        json_decref(both);
    }
    free(z);
    json_decref(jwk);
}

static void test_jwk_rejects_rsa(void **state)
{
    json_t *jwk = ts_key_public_jwk(rs_key), *shortjwk;
    EVP_PKEY *small;
    char *n, *e;

    assert_true(import_with(jwk, "alg", json_string("RS256"))); /* control */
    assert_false(import_with(jwk, "alg", json_string("ES256")));
    assert_false(import_with(jwk, "alg", json_string("PS256")));
    assert_false(import_with(jwk, "kty", json_string("EC")));
    assert_false(import_with(jwk, "e", NULL));
    assert_false(import_with(jwk, "n", NULL));
    assert_false(import_with(jwk, "e", json_string("")));
    assert_false(import_with(jwk, "e", json_string("AQAC"))); /* even */
    assert_false(import_with(jwk, "e", json_string("AQ")));   /* 1 */
    assert_false(import_with(jwk, "e", json_integer(65537)));
    assert_false(import_with(jwk, "n", json_string("not base64!")));
    assert_false(import_with(jwk, "d", json_string("AQAB")));
    assert_false(import_with(jwk, "p", json_string("AQAB")));
    assert_false(import_with(jwk, "qi", json_string("AQAB")));
    assert_false(import_with(jwk, "use", json_string("enc")));

    {
        /* an even modulus has the factor 2: the public-key check refuses it */
        unsigned char nbin[256];
        size_t nlen;
        char *even;
        assert_int_equal(ts_b64url_decode(member(jwk, "n"), strlen(member(jwk, "n")), nbin, sizeof(nbin), &nlen), 0);
        nbin[nlen - 1] &= 0xfe;
        even = b64u(nbin, nlen);
        assert_false(import_with(jwk, "n", json_string(even)));
        free(even);
    }

    assert_non_null(small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024));
    n = bn_b64u(small, OSSL_PKEY_PARAM_RSA_N, 0);
    e = bn_b64u(small, OSSL_PKEY_PARAM_RSA_E, 0);
    shortjwk = json_pack("{s:s, s:s, s:s}", "kty", "RSA", "n", n, "e", e);
    assert_null(ts_key_import_jwk(shortjwk));
    json_decref(shortjwk);
    free(n);
    free(e);
    EVP_PKEY_free(small);
    json_decref(jwk);
}

static void test_jwk_rejects_non_objects(void **state)
{
    json_t *v = json_array();

    assert_null(ts_key_import_jwk(v));
    json_decref(v);
    v = json_string("{\"kty\":\"EC\"}");
    assert_null(ts_key_import_jwk(v));
    json_decref(v);
    assert_null(ts_key_import_jwk(NULL));
}

static void test_jwk_kid_rules(void **state)
{
    json_t *jwk = ts_key_public_jwk(es_key), *copy;
    char kid[200];
    ts_key_t *key;

    memset(kid, 'k', sizeof(kid));
    kid[128] = '\0';
    copy = json_deep_copy(jwk);
    json_object_set_new(copy, "kid", json_string(kid));
    assert_non_null(key = ts_key_import_jwk(copy));
    assert_string_equal(ts_key_kid(key), kid);
    ts_key_free(key);
    json_decref(copy);

    kid[128] = 'k';
    kid[129] = '\0';
    assert_false(import_with(jwk, "kid", json_string(kid)));
    assert_false(import_with(jwk, "kid", json_string("")));
    assert_false(import_with(jwk, "kid", json_integer(7)));
    assert_false(import_with(jwk, "kid", json_null()));
    json_decref(jwk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alg_names),
        cmocka_unit_test(test_generate_es256),
        cmocka_unit_test(test_generate_rs256),
        cmocka_unit_test(test_generated_keys_differ),
        cmocka_unit_test(test_ec_thumbprint_independent),
        cmocka_unit_test(test_rsa_thumbprint_independent),
        cmocka_unit_test(test_rfc7638_example),
        cmocka_unit_test(test_rfc7638_leading_zero_is_canonicalised),
        cmocka_unit_test(test_private_round_trip_es256),
        cmocka_unit_test(test_private_round_trip_rs256),
        cmocka_unit_test(test_import_private_rejects),
        cmocka_unit_test(test_jwk_round_trip_es256),
        cmocka_unit_test(test_jwk_round_trip_rs256),
        cmocka_unit_test(test_jwk_rejects_ec),
        cmocka_unit_test(test_jwk_rejects_rsa),
        cmocka_unit_test(test_jwk_rejects_non_objects),
        cmocka_unit_test(test_jwk_kid_rules),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
