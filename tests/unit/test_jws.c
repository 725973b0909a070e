#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <tessera/crypto.h>

#define ES (TS_ALG_MASK(TS_ALG_ES256))
#define RS (TS_ALG_MASK(TS_ALG_RS256))
#define BOTH (ES | RS)

static ts_key_t *es_key, *rs_key, *es_public;
static EVP_PKEY *es_priv, *rs_priv; /* the same keys, read back by OpenSSL for the test's own signer */

typedef struct {
    const ts_key_t *keys[4];
    int calls;
    int got_kid;
    char kid[256];
    ts_jws_alg_t alg;
} keyset_t;

/* finds by kid whatever the alg, so a token can name a key of the other type; without a kid, the first key of alg */
static const ts_key_t *lookup(void *ctx, const char *kid, ts_jws_alg_t alg)
{
    keyset_t *ks = ctx;
    size_t i;

    ks->calls++;
    ks->got_kid = kid != NULL;
    snprintf(ks->kid, sizeof(ks->kid), "%s", kid != NULL ? kid : "");
    ks->alg = alg;
    for (i = 0; i < 4 && ks->keys[i] != NULL; i++)
        if (kid != NULL ? strcmp(ts_key_kid(ks->keys[i]), kid) == 0 : ts_key_alg(ks->keys[i]) == alg)
            return ks->keys[i];
    return NULL;
}

static keyset_t keyset(void)
{
    keyset_t ks = {{es_key, rs_key, NULL, NULL}, 0, 0, "", 0};
    return ks;
}

static EVP_PKEY *read_private(const ts_key_t *key)
{
    unsigned char *der;
    const unsigned char *p;
    size_t len;
    EVP_PKEY *pkey;

    if (ts_key_export_private(key, &der, &len) != 0)
        return NULL;
    p = der;
    pkey = d2i_AutoPrivateKey(NULL, &p, (long)len);
    ts_crypto_cleanse(der, len);
    free(der);
    return pkey;
}

static int setup(void **state)
{
    json_t *jwk;

    if ((es_key = ts_key_generate(TS_ALG_ES256)) == NULL || (rs_key = ts_key_generate(TS_ALG_RS256)) == NULL)
        return -1;
    if ((es_priv = read_private(es_key)) == NULL || (rs_priv = read_private(rs_key)) == NULL)
        return -1;
    if ((jwk = ts_key_public_jwk(es_key)) == NULL)
        return -1;
    es_public = ts_key_import_jwk(jwk);
    json_decref(jwk);
    return es_public != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    ts_key_free(es_key);
    ts_key_free(rs_key);
    ts_key_free(es_public);
    EVP_PKEY_free(es_priv);
    EVP_PKEY_free(rs_priv);
    return 0;
}

/* base64url via OpenSSL's base64; appends to out */
static void b64u_append(char *out, const void *in, size_t n)
{
    char *p = out + strlen(out);
    int len = EVP_EncodeBlock((unsigned char *)p, in, (int)n), i;

    while (len > 0 && p[len - 1] == '=')
        p[--len] = '\0';
    for (i = 0; i < len; i++)
        p[i] = p[i] == '+' ? '-' : p[i] == '/' ? '_' : p[i];
}

enum sig_form { SIG_JWS, SIG_DER };

/* the test's own JWS signer: any header and payload bytes, signed with OpenSSL directly; malloc'd */
static char *raw_token(EVP_PKEY *pkey, const char *header, const char *payload, enum sig_form form)
{
    size_t cap = 4 * (strlen(header) + strlen(payload)) / 3 + 2048, siglen;
    char *tok = calloc(1, cap);
    unsigned char sig[1024], raw[64];
    const unsigned char *p = sig;
    EVP_MD_CTX *md = EVP_MD_CTX_new();

    assert_non_null(tok);
    b64u_append(tok, header, strlen(header));
    strcat(tok, ".");
    b64u_append(tok, payload, strlen(payload));
    siglen = sizeof(sig);
    assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pkey), 1);
    assert_int_equal(EVP_DigestSign(md, sig, &siglen, (unsigned char *)tok, strlen(tok)), 1);
    EVP_MD_CTX_free(md);
    strcat(tok, ".");
    if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC && form == SIG_JWS) {
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)siglen);
        const BIGNUM *r, *s;
        assert_non_null(es);
        ECDSA_SIG_get0(es, &r, &s);
        assert_int_equal(BN_bn2binpad(r, raw, 32), 32);
        assert_int_equal(BN_bn2binpad(s, raw + 32, 32), 32);
        ECDSA_SIG_free(es);
        b64u_append(tok, raw, 64);
    } else {
        b64u_append(tok, sig, siglen);
    }
    return tok;
}

/* the token with its signature part replaced by base64url(sig) */
static char *with_signature(const char *tok, const void *sig, size_t siglen)
{
    char *out = calloc(1, strlen(tok) + siglen * 2 + 8);

    assert_non_null(out);
    memcpy(out, tok, (size_t)(strrchr(tok, '.') + 1 - tok));
    b64u_append(out, sig, siglen);
    return out;
}

static size_t decode_signature(const char *tok, unsigned char *sig, size_t cap)
{
    const char *s = strrchr(tok, '.') + 1;
    size_t n;

    assert_int_equal(ts_b64url_decode(s, strlen(s), sig, cap, &n), 0);
    return n;
}

static ts_jws_result_t verify(const char *tok, unsigned allowed, const char *typ, keyset_t *ks)
{
    json_t *claims = (json_t *)1, *header = (json_t *)1;
    ts_jws_result_t r = ts_jws_verify(tok, strlen(tok), allowed, typ, lookup, ks, &claims, &header);

    if (r == TS_JWS_OK) {
        assert_true(json_is_object(claims));
        assert_true(json_is_object(header));
        json_decref(claims);
        json_decref(header);
    } else {
        assert_null(claims);
        assert_null(header);
    }
    return r;
}

static char *signed_header(EVP_PKEY *pkey, const char *header)
{
    return raw_token(pkey, header, "{\"sub\":\"alice\"}", SIG_JWS);
}

static json_t *sample_claims(void)
{
    json_t *c = json_pack("{s:s, s:s, s:i, s:s, s:[s,s]}", "iss", "https://as.example", "sub", "alice", "exp", 2000000000, "name",
                          "J\xc3\xbcrgen \xe2\x9c\x93", "aud", "a", "b");
    assert_non_null(c);
    return c;
}

static void check_sign_verify(const ts_key_t *key, size_t sig_chars)
{
    json_t *claims = sample_claims(), *got = NULL, *hdr = NULL;
    char *tok = NULL;
    keyset_t ks = keyset();

    assert_int_equal(ts_jws_sign(key, "at+jwt", claims, &tok), 0);
    assert_non_null(tok);
    assert_int_equal(strlen(strrchr(tok, '.') + 1), sig_chars);
    assert_int_equal(ts_jws_verify(tok, strlen(tok), BOTH, "at+jwt", lookup, &ks, &got, &hdr), TS_JWS_OK);
    assert_true(json_equal(got, claims));
    assert_int_equal(json_object_size(hdr), 3);
    assert_string_equal(json_string_value(json_object_get(hdr, "alg")), ts_jws_alg_name(ts_key_alg(key)));
    assert_string_equal(json_string_value(json_object_get(hdr, "typ")), "at+jwt");
    assert_string_equal(json_string_value(json_object_get(hdr, "kid")), ts_key_kid(key));
    /* the callback got the token's kid and alg */
    assert_int_equal(ks.calls, 1);
    assert_int_equal(ks.got_kid, 1);
    assert_string_equal(ks.kid, ts_key_kid(key));
    assert_int_equal(ks.alg, ts_key_alg(key));
    /* only the key's own algorithm being allowed is enough; the other one alone is not */
    assert_int_equal(verify(tok, TS_ALG_MASK(ts_key_alg(key)), NULL, &ks), TS_JWS_OK);
    assert_int_equal(verify(tok, BOTH & ~TS_ALG_MASK(ts_key_alg(key)), NULL, &ks), TS_JWS_ALG_REJECTED);
    /* header may be NULL */
    json_decref(got);
    assert_int_equal(ts_jws_verify(tok, strlen(tok), BOTH, NULL, lookup, &ks, &got, NULL), TS_JWS_OK);
    json_decref(got);
    json_decref(hdr);
    json_decref(claims);
    free(tok);
}

static void test_sign_verify_es256(void **state)
{
    check_sign_verify(es_key, 86);
}

static void test_sign_verify_rs256(void **state)
{
    check_sign_verify(rs_key, 342);
}

static void test_verify_with_public_only_key(void **state)
{
    json_t *claims = sample_claims();
    char *tok;
    keyset_t ks = {{es_public, NULL, NULL, NULL}, 0, 0, "", 0};

    assert_int_equal(ts_jws_sign(es_key, NULL, claims, &tok), 0);
    assert_int_equal(verify(tok, ES, NULL, &ks), TS_JWS_OK);
    free(tok);
    /* a public key cannot sign */
    tok = (char *)"unchanged";
    assert_int_equal(ts_jws_sign(es_public, NULL, claims, &tok), -1);
    assert_null(tok);
    json_decref(claims);
}

static void test_sign_rejects(void **state)
{
    json_t *arr = json_array(), *claims = sample_claims();
    char *tok;

    assert_int_equal(ts_jws_sign(es_key, NULL, arr, &tok), -1);
    assert_int_equal(ts_jws_sign(es_key, NULL, NULL, &tok), -1);
    assert_int_equal(ts_jws_sign(NULL, NULL, claims, &tok), -1);
    json_decref(arr);
    json_decref(claims);
}

static void test_es256_signatures_always_64_bytes(void **state)
{
    /* r or s below 2^248 happens about once in 64 signatures: the R || S padding must hold for every one */
    json_t *claims = json_pack("{s:i}", "i", 0);
    keyset_t ks = keyset();
    int i;

    for (i = 0; i < 300; i++) {
        char *tok;
        json_object_set_new(claims, "i", json_integer(i));
        assert_int_equal(ts_jws_sign(es_key, NULL, claims, &tok), 0);
        assert_int_equal(strlen(strrchr(tok, '.') + 1), 86);
        assert_int_equal(verify(tok, ES, NULL, &ks), TS_JWS_OK);
        free(tok);
    }
    json_decref(claims);
}

static char *public_pem(const ts_key_t *key, EVP_PKEY *priv, int *len)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data, *pem;
    long n;

    assert_int_equal(PEM_write_bio_PUBKEY(bio, priv), 1);
    n = BIO_get_mem_data(bio, &data);
    pem = malloc((size_t)n + 1);
    memcpy(pem, data, (size_t)n);
    pem[n] = '\0';
    *len = (int)n;
    BIO_free(bio);
    return pem;
}

static char *private_pem(EVP_PKEY *priv, int *len)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data, *pem;
    long n;

    assert_int_equal(PEM_write_bio_PrivateKey(bio, priv, NULL, NULL, 0, NULL, NULL), 1);
    n = BIO_get_mem_data(bio, &data);
    pem = malloc((size_t)n + 1);
    memcpy(pem, data, (size_t)n);
    pem[n] = '\0';
    *len = (int)n;
    BIO_free(bio);
    return pem;
}

/* libjwt 1.10.2 as an independent verifier; it takes the alg from the token, so the alg is checked after */
static void check_libjwt_verifies(const ts_key_t *key, EVP_PKEY *priv, jwt_alg_t want)
{
    json_t *claims = sample_claims();
    char *tok, *pem;
    int pemlen;
    jwt_t *jwt = NULL;

    assert_int_equal(ts_jws_sign(key, "JWT", claims, &tok), 0);
    pem = public_pem(key, priv, &pemlen);
    assert_int_equal(jwt_decode(&jwt, tok, (const unsigned char *)pem, pemlen), 0);
    assert_non_null(jwt);
    assert_int_equal(jwt_get_alg(jwt), want);
    assert_string_equal(jwt_get_grant(jwt, "sub"), "alice");
    assert_string_equal(jwt_get_grant(jwt, "name"), "J\xc3\xbcrgen \xe2\x9c\x93");
    assert_int_equal(jwt_get_grant_int(jwt, "exp"), 2000000000);
    assert_string_equal(jwt_get_header(jwt, "kid"), ts_key_kid(key));
    jwt_free(jwt);

    /* control: the same verifier refuses a token whose signature was changed */
    {
        unsigned char sig[512];
        size_t n = decode_signature(tok, sig, sizeof(sig));
        char *bad;
        sig[n / 2] ^= 0x01;
        bad = with_signature(tok, sig, n);
        jwt = NULL;
        assert_int_not_equal(jwt_decode(&jwt, bad, (const unsigned char *)pem, pemlen), 0);
        jwt_free(jwt);
        free(bad);
    }
    free(pem);
    free(tok);
    json_decref(claims);
}

static void test_libjwt_verifies_es256(void **state)
{
    check_libjwt_verifies(es_key, es_priv, JWT_ALG_ES256);
}

static void test_libjwt_verifies_rs256(void **state)
{
    check_libjwt_verifies(rs_key, rs_priv, JWT_ALG_RS256);
}

/* the other direction: tokens libjwt signs are accepted */
static void check_libjwt_signed(const ts_key_t *key, EVP_PKEY *priv, jwt_alg_t alg)
{
    jwt_t *jwt;
    int pemlen;
    char *pem = private_pem(priv, &pemlen), *tok;
    keyset_t ks = keyset();
    json_t *claims, *header;

    assert_int_equal(jwt_new(&jwt), 0);
    assert_int_equal(jwt_set_alg(jwt, alg, (const unsigned char *)pem, pemlen), 0);
    assert_int_equal(jwt_add_header(jwt, "kid", ts_key_kid(key)), 0);
    assert_int_equal(jwt_add_grant(jwt, "sub", "bob"), 0);
    assert_non_null(tok = jwt_encode_str(jwt));
    assert_int_equal(ts_jws_verify(tok, strlen(tok), BOTH, "JWT", lookup, &ks, &claims, &header), TS_JWS_OK);
    assert_string_equal(json_string_value(json_object_get(claims, "sub")), "bob");
    json_decref(claims);
    json_decref(header);
    free(tok);
    jwt_free(jwt);
    OPENSSL_cleanse(pem, (size_t)pemlen);
    free(pem);
}

static void test_libjwt_signed_es256(void **state)
{
    check_libjwt_signed(es_key, es_priv, JWT_ALG_ES256);
}

static void test_libjwt_signed_rs256(void **state)
{
    check_libjwt_signed(rs_key, rs_priv, JWT_ALG_RS256);
}

static void test_raw_signer_control(void **state)
{
    /* the test's own signer makes tokens that verify, so the negative tests below fail for their stated reason */
    char hdr[256], *tok;
    keyset_t ks = keyset();

    snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\"}", ts_key_kid(es_key));
    tok = signed_header(es_priv, hdr);
    assert_int_equal(verify(tok, BOTH, NULL, &ks), TS_JWS_OK);
    free(tok);
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"RS256\",\"kid\":\"%s\",\"typ\":\"at+jwt\"}", ts_key_kid(rs_key));
    tok = signed_header(rs_priv, hdr);
    assert_int_equal(verify(tok, BOTH, "at+jwt", &ks), TS_JWS_OK);
    free(tok);
}

static void test_alg_none(void **state)
{
    char tok[512] = "";
    char hdr[256];
    keyset_t ks = keyset();

    snprintf(hdr, sizeof(hdr), "{\"alg\":\"none\",\"kid\":\"%s\"}", ts_key_kid(es_key));
    b64u_append(tok, hdr, strlen(hdr));
    strcat(tok, ".");
    b64u_append(tok, "{\"sub\":\"admin\"}", 15);
    strcat(tok, ".");
    assert_int_equal(verify(tok, BOTH, NULL, &ks), TS_JWS_ALG_REJECTED);
    strcat(tok, "AAAA");
    assert_int_equal(verify(tok, BOTH, NULL, &ks), TS_JWS_ALG_REJECTED);
    assert_int_equal(ks.calls, 0);
    /* none spelled otherwise is no better */
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"None\",\"kid\":\"%s\"}", ts_key_kid(es_key));
    tok[0] = '\0';
    b64u_append(tok, hdr, strlen(hdr));
    strcat(tok, ".e30.AAAA");
    assert_int_equal(verify(tok, BOTH, NULL, &ks), TS_JWS_ALG_REJECTED);
}

static void test_hs256_key_confusion(void **state)
{
    /* the classic attack: HMAC keyed with the RSA public key PEM, which an attacker can download */
    char tok[1024] = "", hdr[256], *pem;
    unsigned char mac[32];
    unsigned int maclen;
    int pemlen;
    keyset_t ks = keyset();

    pem = public_pem(rs_key, rs_priv, &pemlen);
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"HS256\",\"kid\":\"%s\"}", ts_key_kid(rs_key));
    b64u_append(tok, hdr, strlen(hdr));
    strcat(tok, ".");
    b64u_append(tok, "{\"sub\":\"admin\"}", 15);
    assert_non_null(HMAC(EVP_sha256(), pem, pemlen, (unsigned char *)tok, strlen(tok), mac, &maclen));
    strcat(tok, ".");
    b64u_append(tok, mac, maclen);
    assert_int_equal(verify(tok, BOTH, NULL, &ks), TS_JWS_ALG_REJECTED);
    assert_int_equal(verify(tok, ~0u, NULL, &ks), TS_JWS_ALG_REJECTED);
    assert_int_equal(ks.calls, 0);
    free(pem);
}

static void test_alg_not_allowed(void **state)
{
    json_t *claims = sample_claims();
    char *tok;
    keyset_t ks = keyset();

    assert_int_equal(ts_jws_sign(es_key, NULL, claims, &tok), 0);
    assert_int_equal(verify(tok, RS, NULL, &ks), TS_JWS_ALG_REJECTED);
    assert_int_equal(verify(tok, 0, NULL, &ks), TS_JWS_ALG_REJECTED);
    assert_int_equal(ks.calls, 0);
    free(tok);
    json_decref(claims);
}

static void test_alg_mismatching_key(void **state)
{
    /* the header names a kid whose key is of the other type */
    char hdr[256], *tok;
    keyset_t ks = keyset();

    snprintf(hdr, sizeof(hdr), "{\"alg\":\"RS256\",\"kid\":\"%s\"}", ts_key_kid(es_key));
    tok = signed_header(rs_priv, hdr);
    assert_int_equal(verify(tok, BOTH, NULL, &ks), TS_JWS_ALG_REJECTED);
    assert_int_equal(ks.alg, TS_ALG_RS256);
    free(tok);
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\"}", ts_key_kid(rs_key));
    tok = signed_header(es_priv, hdr);
    assert_int_equal(verify(tok, BOTH, NULL, &ks), TS_JWS_ALG_REJECTED);
    free(tok);
}

static void test_alg_header_forms(void **state)
{
    char hdr[256], *tok;
    keyset_t ks = keyset();

    tok = signed_header(es_priv, "{\"kid\":\"x\"}");
    assert_int_equal(verify(tok, BOTH, NULL, &ks), TS_JWS_MALFORMED);
    free(tok);
    tok = signed_header(es_priv, "{\"alg\":7}");
    assert_int_equal(verify(tok, BOTH, NULL, &ks), TS_JWS_MALFORMED);
    free(tok);
    tok = signed_header(es_priv, "{\"alg\":[\"ES256\"]}");
    assert_int_equal(verify(tok, BOTH, NULL, &ks), TS_JWS_MALFORMED);
    free(tok);
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"es256\",\"kid\":\"%s\"}", ts_key_kid(es_key));
    tok = signed_header(es_priv, hdr);
    assert_int_equal(verify(tok, BOTH, NULL, &ks), TS_JWS_ALG_REJECTED);
    free(tok);
}

static void test_tampered_payload(void **state)
{
    json_t *claims = sample_claims();
    char *tok, *forged, *dot1, *dot2;
    keyset_t ks = keyset();

    assert_int_equal(ts_jws_sign(es_key, NULL, claims, &tok), 0);
    /* swap in another payload, keeping header and signature */
    dot1 = strchr(tok, '.');
    dot2 = strchr(dot1 + 1, '.');
    forged = calloc(1, strlen(tok) + 128);
    memcpy(forged, tok, (size_t)(dot1 + 1 - tok));
    b64u_append(forged, "{\"sub\":\"admin\"}", 15);
    strcat(forged, dot2);
    assert_int_equal(verify(forged, ES, NULL, &ks), TS_JWS_BAD_SIGNATURE);
    free(forged);
    /* change one character in the middle of the payload */
    dot1[10] = dot1[10] == 'A' ? 'B' : 'A';
    assert_int_equal(verify(tok, ES, NULL, &ks), TS_JWS_BAD_SIGNATURE);
    free(tok);
    json_decref(claims);
}

static void check_tampered_signature(const ts_key_t *key)
{
    json_t *claims = sample_claims();
    char *tok, *bad;
    unsigned char sig[512];
    size_t n, i;
    keyset_t ks = keyset();

    assert_int_equal(ts_jws_sign(key, NULL, claims, &tok), 0);
    n = decode_signature(tok, sig, sizeof(sig));
    for (i = 0; i < n; i += (n > 64 ? 17 : 1)) {
        sig[i] ^= 0x20;
        bad = with_signature(tok, sig, n);
        assert_int_equal(verify(bad, BOTH, NULL, &ks), TS_JWS_BAD_SIGNATURE);
        free(bad);
        sig[i] ^= 0x20;
    }
    bad = with_signature(tok, sig, n); /* restored: control */
    assert_int_equal(verify(bad, BOTH, NULL, &ks), TS_JWS_OK);
    free(bad);
    free(tok);
    json_decref(claims);
}

static void test_tampered_signature_es256(void **state)
{
    check_tampered_signature(es_key);
}

static void test_tampered_signature_rs256(void **state)
{
    check_tampered_signature(rs_key);
}

static void test_wrong_signature_length(void **state)
{
    json_t *claims = sample_claims();
    char *tok, *bad, hdr[256];
    unsigned char sig[600], zeros[64] = {0};
    size_t n;
    keyset_t ks = keyset();

    /* ES256: a byte short, a byte long, all zeros, and the DER form OpenSSL produces */
    assert_int_equal(ts_jws_sign(es_key, NULL, claims, &tok), 0);
    n = decode_signature(tok, sig, sizeof(sig));
    assert_int_equal(n, 64);
    bad = with_signature(tok, sig, 63);
    assert_int_equal(verify(bad, ES, NULL, &ks), TS_JWS_BAD_SIGNATURE);
    free(bad);
    sig[64] = 0;
    bad = with_signature(tok, sig, 65);
    assert_int_equal(verify(bad, ES, NULL, &ks), TS_JWS_BAD_SIGNATURE);
    free(bad);
    bad = with_signature(tok, zeros, 64);
    assert_int_equal(verify(bad, ES, NULL, &ks), TS_JWS_BAD_SIGNATURE);
    free(bad);
    free(tok);
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\"}", ts_key_kid(es_key));
    tok = raw_token(es_priv, hdr, "{\"sub\":\"alice\"}", SIG_DER);
    assert_int_equal(verify(tok, ES, NULL, &ks), TS_JWS_BAD_SIGNATURE);
    free(tok);

    /* RS256: the signature is exactly the modulus size */
    assert_int_equal(ts_jws_sign(rs_key, NULL, claims, &tok), 0);
    n = decode_signature(tok, sig, sizeof(sig));
    assert_int_equal(n, 256);
    bad = with_signature(tok, sig, 255);
    assert_int_equal(verify(bad, RS, NULL, &ks), TS_JWS_BAD_SIGNATURE);
    free(bad);
    memmove(sig + 1, sig, 256);
    sig[0] = 0;
    bad = with_signature(tok, sig, 257);
    assert_int_equal(verify(bad, RS, NULL, &ks), TS_JWS_BAD_SIGNATURE);
    free(bad);
    free(tok);
    json_decref(claims);
}

static void test_unknown_kid(void **state)
{
    char *tok;
    keyset_t ks = keyset();

    tok = signed_header(es_priv, "{\"alg\":\"ES256\",\"kid\":\"no-such-key\"}");
    assert_int_equal(verify(tok, BOTH, NULL, &ks), TS_JWS_UNKNOWN_KEY);
    assert_int_equal(ks.calls, 1);
    assert_string_equal(ks.kid, "no-such-key");
    /* no lookup at all */
    assert_int_equal(ts_jws_verify(tok, strlen(tok), BOTH, NULL, NULL, NULL, NULL, NULL), TS_JWS_UNKNOWN_KEY);
    free(tok);
}

static void test_no_kid_passes_null(void **state)
{
    char *tok;
    keyset_t ks = keyset();

    tok = signed_header(es_priv, "{\"alg\":\"ES256\"}");
    assert_int_equal(verify(tok, BOTH, NULL, &ks), TS_JWS_OK);
    assert_int_equal(ks.got_kid, 0);
    free(tok);
    tok = signed_header(es_priv, "{\"alg\":\"ES256\",\"kid\":5}");
    assert_int_equal(verify(tok, BOTH, NULL, &ks), TS_JWS_MALFORMED);
    free(tok);
}

static void test_crit_header(void **state)
{
    char hdr[256], *tok;
    keyset_t ks = keyset();

    snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\",\"crit\":[\"exp\"],\"exp\":1}", ts_key_kid(es_key));
    tok = signed_header(es_priv, hdr);
    assert_int_equal(verify(tok, BOTH, NULL, &ks), TS_JWS_MALFORMED);
    free(tok);
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\",\"crit\":[]}", ts_key_kid(es_key));
    tok = signed_header(es_priv, hdr);
    assert_int_equal(verify(tok, BOTH, NULL, &ks), TS_JWS_MALFORMED);
    free(tok);
}

static ts_jws_result_t verify_typ(const char *token_typ, const char *want)
{
    char hdr[256], *tok;
    keyset_t ks = keyset();
    ts_jws_result_t r;

    if (token_typ != NULL)
        snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\",\"typ\":%s}", ts_key_kid(es_key), token_typ);
    else
        snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\"}", ts_key_kid(es_key));
    tok = signed_header(es_priv, hdr);
    r = verify(tok, ES, want, &ks);
    free(tok);
    return r;
}

static void test_typ(void **state)
{
    assert_int_equal(verify_typ("\"at+jwt\"", "at+jwt"), TS_JWS_OK);
    assert_int_equal(verify_typ("\"AT+JWT\"", "at+jwt"), TS_JWS_OK);
    assert_int_equal(verify_typ("\"application/at+jwt\"", "at+jwt"), TS_JWS_OK);
    assert_int_equal(verify_typ("\"Application/AT+jwt\"", "at+jwt"), TS_JWS_OK);
    assert_int_equal(verify_typ("\"at+jwt\"", "application/at+jwt"), TS_JWS_OK);
    assert_int_equal(verify_typ("\"JWT\"", "at+jwt"), TS_JWS_TYP_MISMATCH);
    assert_int_equal(verify_typ(NULL, "at+jwt"), TS_JWS_TYP_MISMATCH);
    assert_int_equal(verify_typ("\"\"", "at+jwt"), TS_JWS_TYP_MISMATCH);
    assert_int_equal(verify_typ("\"text/at+jwt\"", "at+jwt"), TS_JWS_TYP_MISMATCH);
    assert_int_equal(verify_typ("\"application/\"", "at+jwt"), TS_JWS_TYP_MISMATCH);
    assert_int_equal(verify_typ("\"at+jwt2\"", "at+jwt"), TS_JWS_TYP_MISMATCH);
    assert_int_equal(verify_typ("\"applicationat+jwt\"", "at+jwt"), TS_JWS_TYP_MISMATCH);
    /* no expectation: any typ, or none */
    assert_int_equal(verify_typ("\"JWT\"", NULL), TS_JWS_OK);
    assert_int_equal(verify_typ(NULL, NULL), TS_JWS_OK);
    /* typ that is not a string is malformed whatever is expected */
    assert_int_equal(verify_typ("1", "at+jwt"), TS_JWS_MALFORMED);
    assert_int_equal(verify_typ("[\"at+jwt\"]", NULL), TS_JWS_MALFORMED);
}

static void test_sign_typ_omitted(void **state)
{
    json_t *claims = sample_claims(), *got, *hdr;
    char *tok;
    keyset_t ks = keyset();

    assert_int_equal(ts_jws_sign(es_key, NULL, claims, &tok), 0);
    assert_int_equal(ts_jws_verify(tok, strlen(tok), ES, NULL, lookup, &ks, &got, &hdr), TS_JWS_OK);
    assert_null(json_object_get(hdr, "typ"));
    assert_int_equal(json_object_size(hdr), 2);
    json_decref(got);
    json_decref(hdr);
    assert_int_equal(verify(tok, ES, "JWT", &ks), TS_JWS_TYP_MISMATCH);
    free(tok);
    json_decref(claims);
}

static void test_part_count(void **state)
{
    json_t *claims = sample_claims();
    char *tok, buf[2048];
    keyset_t ks = keyset();

    assert_int_equal(ts_jws_sign(es_key, NULL, claims, &tok), 0);
    snprintf(buf, sizeof(buf), "%s.", tok);
    assert_int_equal(verify(buf, ES, NULL, &ks), TS_JWS_MALFORMED);
    snprintf(buf, sizeof(buf), "%s.AAAA", tok);
    assert_int_equal(verify(buf, ES, NULL, &ks), TS_JWS_MALFORMED);
    snprintf(buf, sizeof(buf), "%s.AAAA.AAAA", tok);
    assert_int_equal(verify(buf, ES, NULL, &ks), TS_JWS_MALFORMED);
    snprintf(buf, sizeof(buf), "%s", tok);
    *strrchr(buf, '.') = '\0';
    assert_int_equal(verify(buf, ES, NULL, &ks), TS_JWS_MALFORMED);
    snprintf(buf, sizeof(buf), ".%s", tok);
    assert_int_equal(verify(buf, ES, NULL, &ks), TS_JWS_MALFORMED);
    assert_int_equal(verify("", ES, NULL, &ks), TS_JWS_MALFORMED);
    assert_int_equal(verify("..", ES, NULL, &ks), TS_JWS_MALFORMED);
    assert_int_equal(verify("a.b.c", ES, NULL, &ks), TS_JWS_MALFORMED);
    assert_int_equal(ts_jws_verify(NULL, 10, ES, NULL, lookup, &ks, NULL, NULL), TS_JWS_MALFORMED);
    /* a NUL counted in the length is not part of a valid token */
    assert_int_equal(ts_jws_verify(tok, strlen(tok) + 1, ES, NULL, lookup, &ks, NULL, NULL), TS_JWS_MALFORMED);
    /* a length shorter than the string is honoured: cut to 84 signature characters, 63 bytes, it is well formed but short */
    assert_int_equal(ts_jws_verify(tok, strlen(tok) - 2, ES, NULL, lookup, &ks, NULL, NULL), TS_JWS_BAD_SIGNATURE);
    assert_int_equal(ks.calls, 1);
    free(tok);
    json_decref(claims);
}

static void test_bad_base64(void **state)
{
    json_t *claims = sample_claims();
    char *tok, buf[2048], *dot1, *dot2;
    keyset_t ks = keyset();

    assert_int_equal(ts_jws_sign(es_key, NULL, claims, &tok), 0);
    dot1 = strchr(tok, '.');
    dot2 = strchr(dot1 + 1, '.');

    /* padding on the header */
    snprintf(buf, sizeof(buf), "%.*s=%s", (int)(dot1 - tok), tok, dot1);
    assert_int_equal(verify(buf, ES, NULL, &ks), TS_JWS_MALFORMED);
    /* standard-alphabet character in the payload */
    snprintf(buf, sizeof(buf), "%s", tok);
    buf[dot1 - tok + 5] = '+';
    assert_int_equal(verify(buf, ES, NULL, &ks), TS_JWS_MALFORMED);
    /* whitespace in the signature */
    snprintf(buf, sizeof(buf), "%.*s %s", (int)(dot2 - tok + 10), tok, dot2 + 10);
    assert_int_equal(verify(buf, ES, NULL, &ks), TS_JWS_MALFORMED);
    /* padding on the signature */
    snprintf(buf, sizeof(buf), "%s==", tok);
    assert_int_equal(verify(buf, ES, NULL, &ks), TS_JWS_MALFORMED);
    /* 86 characters carry 64 bytes and 4 spare bits, which must be zero */
    snprintf(buf, sizeof(buf), "%s", tok);
    {
        char *last = buf + strlen(buf) - 1;
        static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        int v = (int)(strchr(alpha, *last) - alpha);
        *last = alpha[v | 1];
    }
    assert_int_equal(verify(buf, ES, NULL, &ks), TS_JWS_MALFORMED);
    assert_int_equal(ks.calls, 0);
    free(tok);
    json_decref(claims);
}

static void test_non_object_parts(void **state)
{
    static const char *const payloads[] = {"[1,2]", "\"alice\"", "42", "null", "{", "", "{\"a\":1} x", "{\"a\":\"\\u0000\"}"};
    char hdr[256], *tok;
    keyset_t ks = keyset();
    size_t i;

    snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\"}", ts_key_kid(es_key));
    for (i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
        tok = raw_token(es_priv, hdr, payloads[i], SIG_JWS);
        assert_int_equal(verify(tok, ES, NULL, &ks), TS_JWS_MALFORMED);
        free(tok);
    }
    tok = raw_token(es_priv, "[\"ES256\"]", "{}", SIG_JWS);
    assert_int_equal(verify(tok, ES, NULL, &ks), TS_JWS_MALFORMED);
    free(tok);
    /* control: an empty object is a fine payload */
    tok = raw_token(es_priv, hdr, "{}", SIG_JWS);
    assert_int_equal(verify(tok, ES, NULL, &ks), TS_JWS_OK);
    free(tok);
}

static void test_duplicate_members(void **state)
{
    char hdr[256], *tok;
    keyset_t ks = keyset();

    snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\"}", ts_key_kid(es_key));
    tok = raw_token(es_priv, hdr, "{\"sub\":\"alice\",\"sub\":\"admin\"}", SIG_JWS);
    assert_int_equal(verify(tok, ES, NULL, &ks), TS_JWS_MALFORMED);
    free(tok);
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\",\"alg\":\"none\"}", ts_key_kid(es_key));
    tok = signed_header(es_priv, hdr);
    assert_int_equal(verify(tok, ES, NULL, &ks), TS_JWS_MALFORMED);
    free(tok);
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"other\",\"kid\":\"%s\"}", ts_key_kid(es_key));
    tok = signed_header(es_priv, hdr);
    assert_int_equal(verify(tok, ES, NULL, &ks), TS_JWS_MALFORMED);
    free(tok);
}

static void test_size_limit(void **state)
{
    /* grow a claim until the token passes TS_JWS_MAX_LEN: the last one at or under verifies, the first over does not */
    json_t *claims = json_object();
    char *pad = malloc(TS_JWS_MAX_LEN), *tok, *prev = NULL;
    size_t n = (TS_JWS_MAX_LEN - 400) * 3 / 4;
    keyset_t ks = keyset();

    assert_non_null(pad);
    for (;; n++) {
        memset(pad, 'x', n);
        pad[n] = '\0';
        json_object_set_new(claims, "pad", json_string(pad));
        assert_int_equal(ts_jws_sign(es_key, NULL, claims, &tok), 0);
        if (strlen(tok) > TS_JWS_MAX_LEN)
            break;
        free(prev);
        prev = tok;
    }
    assert_non_null(prev);
    assert_true(strlen(prev) >= TS_JWS_MAX_LEN - 4);
    assert_int_equal(verify(prev, ES, NULL, &ks), TS_JWS_OK);
    assert_int_equal(verify(tok, ES, NULL, &ks), TS_JWS_MALFORMED);
    free(tok);
    free(prev);
    free(pad);
    json_decref(claims);
}

static void *thread_main(void *arg)
{
    json_t *claims = json_pack("{s:s}", "sub", "threaded");
    keyset_t ks = keyset();
    long i, failures = 0;

    for (i = 0; i < 100; i++) {
        const ts_key_t *key = i % 4 == 0 ? rs_key : es_key;
        char *tok = NULL;
        json_t *got = NULL;
        if (ts_jws_sign(key, "at+jwt", claims, &tok) != 0 ||
            ts_jws_verify(tok, strlen(tok), BOTH, "at+jwt", lookup, &ks, &got, NULL) != TS_JWS_OK || !json_equal(got, claims))
            failures++;
        json_decref(got);
        free(tok);
    }
    json_decref(claims);
    return (void *)failures;
}

static void test_threads_share_keys(void **state)
{
    pthread_t t[2];
    void *r0, *r1;

    assert_int_equal(pthread_create(&t[0], NULL, thread_main, NULL), 0);
    assert_int_equal(pthread_create(&t[1], NULL, thread_main, NULL), 0);
    assert_int_equal(pthread_join(t[0], &r0), 0);
    assert_int_equal(pthread_join(t[1], &r1), 0);
    assert_int_equal((long)r0, 0);
    assert_int_equal((long)r1, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_verify_es256),
        cmocka_unit_test(test_sign_verify_rs256),
        cmocka_unit_test(test_verify_with_public_only_key),
        cmocka_unit_test(test_sign_rejects),
        cmocka_unit_test(test_es256_signatures_always_64_bytes),
        cmocka_unit_test(test_libjwt_verifies_es256),
        cmocka_unit_test(test_libjwt_verifies_rs256),
        cmocka_unit_test(test_libjwt_signed_es256),
        cmocka_unit_test(test_libjwt_signed_rs256),
        cmocka_unit_test(test_raw_signer_control),
        cmocka_unit_test(test_alg_none),
        cmocka_unit_test(test_hs256_key_confusion),
        cmocka_unit_test(test_alg_not_allowed),
        cmocka_unit_test(test_alg_mismatching_key),
        cmocka_unit_test(test_alg_header_forms),
        cmocka_unit_test(test_tampered_payload),
        cmocka_unit_test(test_tampered_signature_es256),
        cmocka_unit_test(test_tampered_signature_rs256),
        cmocka_unit_test(test_wrong_signature_length),
        cmocka_unit_test(test_unknown_kid),
        cmocka_unit_test(test_no_kid_passes_null),
        cmocka_unit_test(test_crit_header),
        cmocka_unit_test(test_typ),
        cmocka_unit_test(test_sign_typ_omitted),
        cmocka_unit_test(test_part_count),
        cmocka_unit_test(test_bad_base64),
        cmocka_unit_test(test_non_object_parts),
        cmocka_unit_test(test_duplicate_members),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_threads_share_keys),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
