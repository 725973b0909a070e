#include <pthread.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <tessera/crypto.h>
#include "internal.h"

#define ES256_SIG_LEN 64
#define ES256_COORD_LEN 32

/* DER ECDSA-Sig-Value -> the fixed 64-byte R || S that JWA §3.4 requires */
static int ecdsa_der_to_raw(const unsigned char *der, size_t derlen, unsigned char raw[ES256_SIG_LEN])
{
    const unsigned char *p = der;
    const BIGNUM *r, *s;
    ECDSA_SIG *sig;
    int ret = -1;

    if (derlen > LONG_MAX || (sig = d2i_ECDSA_SIG(NULL, &p, (long)derlen)) == NULL)
        return -1;
    ECDSA_SIG_get0(sig, &r, &s);
    if (BN_bn2binpad(r, raw, ES256_COORD_LEN) == ES256_COORD_LEN &&
        BN_bn2binpad(s, raw + ES256_COORD_LEN, ES256_COORD_LEN) == ES256_COORD_LEN)
        ret = 0;
    ECDSA_SIG_free(sig);
    return ret;
}

/* R || S -> DER for EVP; *der is OPENSSL_malloc'd */
static int ecdsa_raw_to_der(const unsigned char raw[ES256_SIG_LEN], unsigned char **der, size_t *derlen)
{
    ECDSA_SIG *sig;
    BIGNUM *r = BN_bin2bn(raw, ES256_COORD_LEN, NULL), *s = BN_bin2bn(raw + ES256_COORD_LEN, ES256_COORD_LEN, NULL);
    int len;

    *der = NULL;
    if (r == NULL || s == NULL || (sig = ECDSA_SIG_new()) == NULL) {
        BN_free(r);
        BN_free(s);
        return -1;
    }
    ECDSA_SIG_set0(sig, r, s); /* sig owns r and s from here */
    len = i2d_ECDSA_SIG(sig, der);
    ECDSA_SIG_free(sig);
    if (len <= 0)
        return -1;
    *derlen = (size_t)len;
    return 0;
}

/* OpenSSL 3 looks an algorithm up by name, under a lock, on every *_ex init: fetch SHA-256 once instead */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void fetch_sha256(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *sha256(void)
{
    pthread_once(&sha256_once, fetch_sha256);
    return sha256_md;
}

/* Setting up a signing context (EVP_PKEY_CTX and all) costs about a third of an ES256 signature in
 * OpenSSL 3.0; copying a ready one costs little. Each thread keeps ready contexts for the last few keys it
 * signed with. A template is matched by key address and kid: a new key at a freed key's address has
 * another kid (the kid is the key's thumbprint), and the template holds its own reference to its key. */
#define TEMPLATES 4
typedef struct st_sign_template_t {
    const ts_key_t *key;
    char kid[TS_KEY_KID_MAX + 1];
    EVP_MD_CTX *ctx;
} sign_template_t;
static _Thread_local sign_template_t templates[TEMPLATES];
static _Thread_local unsigned next_template;
static pthread_key_t templates_key;
static pthread_once_t templates_once = PTHREAD_ONCE_INIT;

/* runs when a thread that signed exits: its contexts would otherwise be lost */
static void free_templates(void *unused)
{
    for (unsigned i = 0; i < TEMPLATES; ++i) {
        EVP_MD_CTX_free(templates[i].ctx);
        templates[i].ctx = NULL;
        templates[i].key = NULL;
    }
}

static void create_templates_key(void)
{
    pthread_key_create(&templates_key, free_templates);
}

static EVP_MD_CTX *signing_context(const ts_key_t *key)
{
    sign_template_t *t = NULL;
    EVP_MD_CTX *md;

    for (unsigned i = 0; i < TEMPLATES; ++i)
        if (templates[i].key == key && templates[i].ctx != NULL && strcmp(templates[i].kid, key->kid) == 0)
            t = &templates[i];
    if (t == NULL) {
        pthread_once(&templates_once, create_templates_key);
        pthread_setspecific(templates_key, templates);
        t = &templates[next_template++ % TEMPLATES];
        EVP_MD_CTX_free(t->ctx);
        t->ctx = NULL;
        if ((md = EVP_MD_CTX_new()) == NULL || sha256() == NULL || EVP_DigestSignInit(md, NULL, sha256(), NULL, key->pkey) != 1) {
            EVP_MD_CTX_free(md);
            return NULL;
        }
        t->key = key;
        strcpy(t->kid, key->kid); /* Flawfinder: ignore - both are TS_KEY_KID_MAX + 1, and a key's kid is bounded when it is made */
        t->ctx = md;
    }
    if ((md = EVP_MD_CTX_new()) == NULL || EVP_MD_CTX_copy_ex(md, t->ctx) != 1) {
        EVP_MD_CTX_free(md);
        return NULL;
    }
    return md;
}

/* signs tbs; *sig is malloc'd and holds the JWS signature bytes (R || S for ES256) */
static int sign_bytes(const ts_key_t *key, const char *tbs, size_t tbslen, unsigned char **sig, size_t *siglen)
{
    EVP_MD_CTX *md = NULL;
    unsigned char *der = NULL;
    size_t derlen = 0;
    int ret = -1;

    *sig = NULL;
    /* a context per call: the EVP_PKEY is shared by every thread, a context is not */
    derlen = (size_t)EVP_PKEY_get_size(key->pkey);
    if ((md = signing_context(key)) == NULL || (der = malloc(derlen)) == NULL ||
        EVP_DigestSign(md, der, &derlen, (const unsigned char *)tbs, tbslen) != 1)
        goto exit;
    if (key->alg == TS_ALG_ES256) {
        unsigned char *raw = malloc(ES256_SIG_LEN);
        if (raw == NULL || ecdsa_der_to_raw(der, derlen, raw) != 0) {
            free(raw);
            goto exit;
        }
        *sig = raw;
        *siglen = ES256_SIG_LEN;
    } else {
        *sig = der;
        *siglen = derlen;
        der = NULL;
    }
    ret = 0;

exit:
    free(der);
    EVP_MD_CTX_free(md);
    return ret;
}

int ts_jws_sign(const ts_key_t *key, const char *typ, const json_t *claims, char **out)
{
    json_t *header = NULL;
    char *hjson = NULL, *cjson = NULL, *buf = NULL;
    unsigned char *sig = NULL;
    size_t hlen, clen, siglen = 0, pos, cap;
    int ret = -1;

    *out = NULL;
    if (key == NULL || !key->has_private || !json_is_object(claims))
        return -1;
    ERR_set_mark();
    if ((header = json_object()) == NULL || json_object_set_new(header, "alg", json_string(ts_jws_alg_name(key->alg))) != 0 ||
        (typ != NULL && json_object_set_new(header, "typ", json_string(typ)) != 0) ||
        json_object_set_new(header, "kid", json_string(key->kid)) != 0)
        goto exit;
    if ((hjson = json_dumps(header, JSON_COMPACT)) == NULL || (cjson = json_dumps(claims, JSON_COMPACT)) == NULL)
        goto exit;
    hlen = strlen(hjson);
    clen = strlen(cjson);
    /* EVP_PKEY_get_size bounds the signature: the modulus for RSA, more than the 64 bytes of R || S for ECDSA */
    cap = TS_B64URL_ENCODED_LEN(hlen) + 1 + TS_B64URL_ENCODED_LEN(clen) + 1 +
          TS_B64URL_ENCODED_LEN((size_t)EVP_PKEY_get_size(key->pkey)) + 1;
    if ((buf = malloc(cap)) == NULL)
        goto exit;
    pos = ts_b64url_encode(hjson, hlen, buf);
    buf[pos++] = '.';
    pos += ts_b64url_encode(cjson, clen, buf + pos);
    if (sign_bytes(key, buf, pos, &sig, &siglen) != 0 || TS_B64URL_ENCODED_LEN(siglen) + 2 > cap - pos)
        goto exit;
    buf[pos++] = '.';
    ts_b64url_encode(sig, siglen, buf + pos);
    *out = buf;
    buf = NULL;
    ret = 0;

exit:
    ERR_pop_to_mark();
    free(sig);
    free(buf);
    free(cjson);
    free(hjson);
    json_decref(header);
    return ret;
}

/* typ values compare as media types: case-insensitive, "application/" implied when there is no '/' (RFC 7515 §4.1.9) */
static const char *typ_short(const char *t)
{
    static const char app[] = "application/";

    if (strncasecmp(t, app, sizeof(app) - 1) == 0 && strchr(t + sizeof(app) - 1, '/') == NULL)
        return t + sizeof(app) - 1;
    return t;
}

static int typ_matches(const json_t *got, const char *want)
{
    return json_is_string(got) && strcasecmp(typ_short(json_string_value(got)), typ_short(want)) == 0;
}

/* strict base64url of one part into a malloc'd buffer; -1 for an empty or undecodable part */
static int decode_part(const char *part, size_t len, unsigned char **out, size_t *outlen)
{
    /* len <= TS_JWS_MAX_LEN, so this cannot overflow */
    size_t cap = len / 4 * 3 + 2;

    *out = NULL;
    if (len == 0 || (*out = malloc(cap)) == NULL)
        return -1;
    if (ts_b64url_decode(part, len, *out, cap, outlen) != 0) {
        free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

/* a JSON object, or NULL */
static json_t *parse_object(const unsigned char *buf, size_t len)
{
    /* duplicate names are how two parsers come to read different claims from one token */
    json_t *obj = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, NULL);

    if (obj != NULL && !json_is_object(obj)) {
        json_decref(obj);
        obj = NULL;
    }
    return obj;
}

static int verify_bytes(const ts_key_t *key, const char *tbs, size_t tbslen, const unsigned char *sig, size_t siglen)
{
    EVP_MD_CTX *md = NULL;
    unsigned char *der = NULL;
    size_t derlen;
    int ok = 0;

    if (key->alg == TS_ALG_ES256) {
        if (siglen != ES256_SIG_LEN || ecdsa_raw_to_der(sig, &der, &derlen) != 0)
            return 0;
        sig = der;
        siglen = derlen;
    } else if (siglen != (size_t)EVP_PKEY_get_size(key->pkey)) {
        return 0;
    }
    if ((md = EVP_MD_CTX_new()) != NULL && sha256() != NULL && EVP_DigestVerifyInit(md, NULL, sha256(), NULL, key->pkey) == 1 &&
        EVP_DigestVerify(md, sig, siglen, (const unsigned char *)tbs, tbslen) == 1)
        ok = 1;
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    return ok;
}

ts_jws_result_t ts_jws_verify(const char *token, size_t len, unsigned allowed_algs, const char *typ, ts_jws_key_lookup_cb lookup,
                              void *lookup_ctx, json_t **claims, json_t **header)
{
    const char *dot1, *dot2, *sigpart;
    size_t hlen, plen, slen, siglen, pbuflen, n;
    json_t *hdr = NULL, *payload = NULL, *v;
    const char *kid = NULL;
    unsigned char *hbuf = NULL, *pbuf = NULL, *sig = NULL;
    const ts_key_t *key;
    ts_jws_alg_t alg;
    ts_jws_result_t res = TS_JWS_MALFORMED;
    int ok;

    if (claims != NULL)
        *claims = NULL;
    if (header != NULL)
        *header = NULL;
    if (token == NULL || len == 0 || len > TS_JWS_MAX_LEN)
        return TS_JWS_MALFORMED;
    /* exactly three parts: JWE (five) and anything else stop here */
    if ((dot1 = memchr(token, '.', len)) == NULL || (dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token))) == NULL ||
        memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) != NULL)
        return TS_JWS_MALFORMED;
    hlen = (size_t)(dot1 - token);
    plen = (size_t)(dot2 - dot1 - 1);
    sigpart = dot2 + 1;
    slen = len - (size_t)(sigpart - token);

    if (decode_part(token, hlen, &hbuf, &n) != 0 || (hdr = parse_object(hbuf, n)) == NULL)
        goto exit;
    /* the algorithm is chosen by allowed_algs and the key; the header may only name one of those */
    if (!json_is_string(v = json_object_get(hdr, "alg")))
        goto exit;
    if (ts_jws_alg_parse(json_string_value(v), &alg) != 0 || (allowed_algs & TS_ALG_MASK(alg)) == 0) {
        res = TS_JWS_ALG_REJECTED;
        goto exit;
    }
    /* we understand no extension, so RFC 7515 §4.1.11 says to reject any token that demands one */
    if (json_object_get(hdr, "crit") != NULL)
        goto exit;
    if ((v = json_object_get(hdr, "kid")) != NULL) {
        if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
            goto exit;
        kid = json_string_value(v);
    }
    if ((v = json_object_get(hdr, "typ")) != NULL && !json_is_string(v))
        goto exit;
    /* the payload is checked for form now and parsed only once it is authentic */
    if (decode_part(dot1 + 1, plen, &pbuf, &pbuflen) != 0 || decode_part(sigpart, slen, &sig, &siglen) != 0)
        goto exit;

    if (lookup == NULL || (key = lookup(lookup_ctx, kid, alg)) == NULL) {
        res = TS_JWS_UNKNOWN_KEY;
        goto exit;
    }
    if (key->alg != alg) {
        res = TS_JWS_ALG_REJECTED;
        goto exit;
    }
    /* a failed verify leaves errors on this thread's queue, where h2o's next SSL_get_error would find them */
    ERR_set_mark();
    ok = verify_bytes(key, token, (size_t)(dot2 - token), sig, siglen);
    ERR_pop_to_mark();
    if (!ok) {
        res = TS_JWS_BAD_SIGNATURE;
        goto exit;
    }

    if ((payload = parse_object(pbuf, pbuflen)) == NULL)
        goto exit;
    if (typ != NULL && !typ_matches(json_object_get(hdr, "typ"), typ)) {
        res = TS_JWS_TYP_MISMATCH;
        goto exit;
    }

    res = TS_JWS_OK;
    if (claims != NULL) {
        *claims = payload;
        payload = NULL;
    }
    if (header != NULL) {
        *header = hdr;
        hdr = NULL;
    }

exit:
    free(sig);
    free(pbuf);
    free(hbuf);
    json_decref(payload);
    json_decref(hdr);
    return res;
}
