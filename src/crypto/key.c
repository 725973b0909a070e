#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <tessera/crypto.h>
#include "internal.h"

#define RSA_MIN_BITS 2048
#define RSA_GENERATE_BITS 2048
/* nobody needs more, and the cost of a verify grows with the cube of the size */
#define RSA_MAX_BITS 8192
#define EC_COORD_LEN 32

static const char *const jwk_private_members[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};

const char *ts_jws_alg_name(ts_jws_alg_t alg)
{
    switch (alg) {
    case TS_ALG_RS256:
        return "RS256";
    case TS_ALG_ES256:
        return "ES256";
    }
    return NULL;
}

int ts_jws_alg_parse(const char *name, ts_jws_alg_t *out)
{
    if (name == NULL)
        return -1;
    if (strcmp(name, "RS256") == 0) {
        *out = TS_ALG_RS256;
        return 0;
    }
    if (strcmp(name, "ES256") == 0) {
        *out = TS_ALG_ES256;
        return 0;
    }
    return -1;
}

static int is_p256(const EVP_PKEY *pkey)
{
    char name[64];
    size_t len;

    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name), &len) != 1)
        return 0;
    return strcmp(name, "prime256v1") == 0 || strcmp(name, "P-256") == 0;
}

/* the key must be of the type alg needs and of a size we accept */
static int check_pkey(const EVP_PKEY *pkey, ts_jws_alg_t alg)
{
    switch (alg) {
    case TS_ALG_RS256: {
        int bits = EVP_PKEY_get_bits(pkey);
        return EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA && bits >= RSA_MIN_BITS && bits <= RSA_MAX_BITS ? 0 : -1;
    }
    case TS_ALG_ES256:
        return EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC && is_p256(pkey) ? 0 : -1;
    }
    return -1;
}

/* base64url of a BIGNUM parameter, left-padded with zeros to padto bytes (0: minimal length, as JWA wants for n and e) */
static json_t *bn_param_json(const EVP_PKEY *pkey, const char *name, int padto)
{
    BIGNUM *bn = NULL;
    unsigned char *bin = NULL;
    char *b64 = NULL;
    json_t *ret = NULL;
    int len;

    if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1)
        return NULL;
    len = padto != 0 ? padto : BN_num_bytes(bn);
    if (len <= 0 || BN_num_bytes(bn) > len)
        goto exit;
    if ((bin = malloc((size_t)len)) == NULL || (b64 = malloc(TS_B64URL_ENCODED_LEN((size_t)len) + 1)) == NULL)
        goto exit;
    if (BN_bn2binpad(bn, bin, len) != len)
        goto exit;
    ts_b64url_encode(bin, (size_t)len, b64);
    ret = json_string(b64);

exit:
    free(b64);
    free(bin);
    BN_free(bn);
    return ret;
}

/* the RFC 7638 required members: {e, kty, n} or {crv, kty, x, y} */
static json_t *required_members(const EVP_PKEY *pkey, ts_jws_alg_t alg)
{
    json_t *obj = json_object();

    if (obj == NULL)
        return NULL;
    switch (alg) {
    case TS_ALG_RS256:
        if (json_object_set_new(obj, "kty", json_string("RSA")) != 0 ||
            json_object_set_new(obj, "n", bn_param_json(pkey, OSSL_PKEY_PARAM_RSA_N, 0)) != 0 ||
            json_object_set_new(obj, "e", bn_param_json(pkey, OSSL_PKEY_PARAM_RSA_E, 0)) != 0)
            goto fail;
        return obj;
    case TS_ALG_ES256:
        if (json_object_set_new(obj, "kty", json_string("EC")) != 0 || json_object_set_new(obj, "crv", json_string("P-256")) != 0 ||
            json_object_set_new(obj, "x", bn_param_json(pkey, OSSL_PKEY_PARAM_EC_PUB_X, EC_COORD_LEN)) != 0 ||
            json_object_set_new(obj, "y", bn_param_json(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, EC_COORD_LEN)) != 0)
            goto fail;
        return obj;
    }
fail:
    json_decref(obj);
    return NULL;
}

/* RFC 7638: SHA-256 over the required members, sorted, with no whitespace. Every value is a plain
 * ASCII string without escapes, so jansson's compact sorted output is exactly the canonical form. */
static int thumbprint(const EVP_PKEY *pkey, ts_jws_alg_t alg, char out[44])
{
    json_t *obj;
    char *text;
    unsigned char md[32];

    if ((obj = required_members(pkey, alg)) == NULL)
        return -1;
    text = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(obj);
    if (text == NULL)
        return -1;
    ts_crypto_sha256(text, strlen(text), md);
    free(text);
    ts_b64url_encode(md, sizeof(md), out);
    return 0;
}

/* takes ownership of pkey, freeing it on failure; kid NULL means the thumbprint */
static ts_key_t *key_new(EVP_PKEY *pkey, ts_jws_alg_t alg, int has_private, const char *kid)
{
    ts_key_t *key;

    if (check_pkey(pkey, alg) != 0 || (key = calloc(1, sizeof(*key))) == NULL) {
        EVP_PKEY_free(pkey);
        return NULL;
    }
    key->pkey = pkey;
    key->alg = alg;
    key->has_private = has_private;
    if (kid != NULL) {
        if (strlen(kid) > TS_KEY_KID_MAX)
            goto fail;
        strcpy(key->kid, kid); /* Flawfinder: ignore - length checked just above */
    } else if (thumbprint(pkey, alg, key->kid) != 0) {
        goto fail;
    }
    return key;

fail:
    ts_key_free(key);
    return NULL;
}

ts_key_t *ts_key_generate(ts_jws_alg_t alg)
{
    EVP_PKEY *pkey = NULL;
    ts_key_t *key = NULL;

    ERR_set_mark();
    switch (alg) {
    case TS_ALG_RS256:
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)RSA_GENERATE_BITS);
        break;
    case TS_ALG_ES256:
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        break;
    }
    if (pkey != NULL)
        key = key_new(pkey, alg, 1, NULL);
    ERR_pop_to_mark();
    return key;
}

int ts_key_export_private(const ts_key_t *key, unsigned char **der, size_t *len)
{
    OSSL_ENCODER_CTX *ectx;
    unsigned char *data = NULL;
    size_t dlen = 0;
    int ret = -1;

    *der = NULL;
    *len = 0;
    if (key == NULL || !key->has_private)
        return -1;
    ERR_set_mark();
    ectx = OSSL_ENCODER_CTX_new_for_pkey(key->pkey, EVP_PKEY_KEYPAIR, "DER", "PrivateKeyInfo", NULL);
    if (ectx == NULL || OSSL_ENCODER_CTX_get_num_encoders(ectx) == 0 || OSSL_ENCODER_to_data(ectx, &data, &dlen) != 1 || dlen == 0)
        goto exit;
    /* the caller frees with free(), which need not be what OPENSSL_malloc uses */
    if ((*der = malloc(dlen)) == NULL)
        goto exit;
    memcpy(*der, data, dlen); /* Flawfinder: ignore - *der was just allocated with dlen bytes */
    *len = dlen;
    ret = 0;

exit:
    OPENSSL_clear_free(data, dlen);
    OSSL_ENCODER_CTX_free(ectx);
    ERR_pop_to_mark();
    return ret;
}

ts_key_t *ts_key_import_private(ts_jws_alg_t alg, const unsigned char *der, size_t len)
{
    PKCS8_PRIV_KEY_INFO *p8;
    EVP_PKEY *pkey = NULL;
    ts_key_t *key = NULL;
    const unsigned char *p = der;

    if (der == NULL || len == 0 || len > LONG_MAX)
        return NULL;
    ERR_set_mark();
    /* PKCS#8 only (OSSL_DECODER would also take the traditional forms), and nothing after it:
     * trailing bytes mean the blob is not what we wrote */
    if ((p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)len)) != NULL) {
        if (p == der + len)
            pkey = EVP_PKCS82PKEY(p8);
        PKCS8_PRIV_KEY_INFO_free(p8); /* clears the key bytes it holds */
    }
    if (pkey != NULL)
        key = key_new(pkey, alg, 1, NULL);
    ERR_pop_to_mark();
    return key;
}

/* strict base64url of a JSON string member into out; -1 when absent, not a string or not decodable */
static int jwk_bytes(const json_t *jwk, const char *name, unsigned char *out, size_t cap, size_t *len)
{
    const json_t *v = json_object_get(jwk, name);

    if (!json_is_string(v))
        return -1;
    return ts_b64url_decode(json_string_value(v), json_string_length(v), out, cap, len);
}

static EVP_PKEY *pkey_fromdata(const char *type, OSSL_PARAM_BLD *bld)
{
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;

    if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL || (ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) == NULL ||
        EVP_PKEY_fromdata_init(ctx) != 1 || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pkey;
}

static EVP_PKEY *rsa_from_jwk(const json_t *jwk)
{
    /* room for RSA_MAX_BITS plus a leading zero some encoders add */
    unsigned char nbin[RSA_MAX_BITS / 8 + 1], ebin[64];
    size_t nlen, elen;
    BIGNUM *n = NULL, *e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    EVP_PKEY *pkey = NULL;

    if (jwk_bytes(jwk, "n", nbin, sizeof(nbin), &nlen) != 0 || jwk_bytes(jwk, "e", ebin, sizeof(ebin), &elen) != 0)
        return NULL;
    if ((n = BN_bin2bn(nbin, (int)nlen, NULL)) == NULL || (e = BN_bin2bn(ebin, (int)elen, NULL)) == NULL)
        goto exit;
    if (BN_num_bits(n) < RSA_MIN_BITS || BN_num_bits(n) > RSA_MAX_BITS || !BN_is_odd(e) || BN_is_one(e) || BN_cmp(e, n) >= 0)
        goto exit;
    if ((bld = OSSL_PARAM_BLD_new()) == NULL || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1)
        goto exit;
    pkey = pkey_fromdata("RSA", bld);

exit:
    OSSL_PARAM_BLD_free(bld);
    BN_free(e);
    BN_free(n);
    return pkey;
}

static EVP_PKEY *ec_from_jwk(const json_t *jwk)
{
    unsigned char point[1 + 2 * EC_COORD_LEN];
    size_t xlen, ylen;
    const json_t *crv = json_object_get(jwk, "crv");
    OSSL_PARAM_BLD *bld = NULL;
    EVP_PKEY *pkey = NULL;

    if (!json_is_string(crv) || strcmp(json_string_value(crv), "P-256") != 0)
        return NULL;
    /* JWA requires full-length coordinates, so anything but 32 bytes each is not a P-256 point */
    point[0] = 0x04;
    if (jwk_bytes(jwk, "x", point + 1, EC_COORD_LEN, &xlen) != 0 || xlen != EC_COORD_LEN ||
        jwk_bytes(jwk, "y", point + 1 + EC_COORD_LEN, EC_COORD_LEN, &ylen) != 0 || ylen != EC_COORD_LEN)
        return NULL;
    if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)) != 1)
        goto exit;
    pkey = pkey_fromdata("EC", bld);

exit:
    OSSL_PARAM_BLD_free(bld);
    return pkey;
}

/* on the curve and not the point at infinity for EC; SP 800-56B checks (odd n and e, no small factors) for RSA */
static int public_check(EVP_PKEY *pkey)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    int ok = ctx != NULL && EVP_PKEY_public_check(ctx) == 1;

    EVP_PKEY_CTX_free(ctx);
    return ok ? 0 : -1;
}

ts_key_t *ts_key_import_jwk(const json_t *jwk)
{
    const json_t *kty, *alg, *use, *kid;
    const char *kid_str = NULL;
    ts_jws_alg_t key_alg, named_alg;
    EVP_PKEY *pkey;
    ts_key_t *key = NULL;
    size_t i;

    if (!json_is_object(jwk))
        return NULL;
    /* a private JWK pasted where a public one belongs is a leak to report, not something to use */
    for (i = 0; i < sizeof(jwk_private_members) / sizeof(jwk_private_members[0]); i++)
        if (json_object_get(jwk, jwk_private_members[i]) != NULL)
            return NULL;
    kty = json_object_get(jwk, "kty");
    if (!json_is_string(kty))
        return NULL;
    if (strcmp(json_string_value(kty), "RSA") == 0)
        key_alg = TS_ALG_RS256;
    else if (strcmp(json_string_value(kty), "EC") == 0)
        key_alg = TS_ALG_ES256;
    else
        return NULL;
    if ((alg = json_object_get(jwk, "alg")) != NULL &&
        (!json_is_string(alg) || ts_jws_alg_parse(json_string_value(alg), &named_alg) != 0 || named_alg != key_alg))
        return NULL;
    /* an encryption key must not be accepted as a signing key (RFC 7517 §4.2) */
    if ((use = json_object_get(jwk, "use")) != NULL && (!json_is_string(use) || strcmp(json_string_value(use), "sig") != 0))
        return NULL;
    if ((kid = json_object_get(jwk, "kid")) != NULL) {
        if (!json_is_string(kid) || json_string_length(kid) == 0 || json_string_length(kid) > TS_KEY_KID_MAX ||
            strlen(json_string_value(kid)) != json_string_length(kid))
            return NULL;
        kid_str = json_string_value(kid);
    }

    ERR_set_mark();
    pkey = key_alg == TS_ALG_RS256 ? rsa_from_jwk(jwk) : ec_from_jwk(jwk);
    if (pkey != NULL) {
        if (public_check(pkey) == 0)
            key = key_new(pkey, key_alg, 0, kid_str);
        else
            EVP_PKEY_free(pkey);
    }
    ERR_pop_to_mark();
    return key;
}

json_t *ts_key_public_jwk(const ts_key_t *key)
{
    json_t *req, *jwk = NULL;

    if (key == NULL || (req = required_members(key->pkey, key->alg)) == NULL)
        return NULL;
    if ((jwk = json_object()) == NULL)
        goto exit;
    /* members in the order the header documents, which is also what people expect to read */
    if (json_object_set(jwk, "kty", json_object_get(req, "kty")) != 0)
        goto fail;
    if (key->alg == TS_ALG_ES256 && json_object_set(jwk, "crv", json_object_get(req, "crv")) != 0)
        goto fail;
    if (json_object_set_new(jwk, "kid", json_string(key->kid)) != 0 ||
        json_object_set_new(jwk, "alg", json_string(ts_jws_alg_name(key->alg))) != 0 ||
        json_object_set_new(jwk, "use", json_string("sig")) != 0)
        goto fail;
    if (key->alg == TS_ALG_RS256) {
        if (json_object_set(jwk, "n", json_object_get(req, "n")) != 0 || json_object_set(jwk, "e", json_object_get(req, "e")) != 0)
            goto fail;
    } else if (json_object_set(jwk, "x", json_object_get(req, "x")) != 0 ||
               json_object_set(jwk, "y", json_object_get(req, "y")) != 0) {
        goto fail;
    }
    goto exit;

fail:
    json_decref(jwk);
    jwk = NULL;
exit:
    json_decref(req);
    return jwk;
}

const char *ts_key_kid(const ts_key_t *key)
{
    return key->kid;
}

ts_jws_alg_t ts_key_alg(const ts_key_t *key)
{
    return key->alg;
}

int ts_key_has_private(const ts_key_t *key)
{
    return key->has_private;
}

void ts_key_free(ts_key_t *key)
{
    if (key == NULL)
        return;
    EVP_PKEY_free(key->pkey);
    free(key);
}
