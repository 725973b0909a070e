#ifndef TESSERA_FUZZ_SIGN_H
#define TESSERA_FUZZ_SIGN_H

/* A mutated token never carries a valid signature, so the code behind the signature check (payload parsing,
 * typ, claims) would only ever see the seeds. The "sign mode" of the JWS harnesses signs what the fuzzer
 * wrote instead: an input starting with '{' (no compact JWS does: '{' is not base64url) is
 * "HEADER\nPAYLOAD", or only PAYLOAD under {"alg":"ES256"} when there is no newline, and both are used as
 * raw bytes, signed with an ES256 key made at start-up. */
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include "crypto/internal.h"
#include "fuzz.h"
#include "tessera/crypto.h"

/* 1 when data is a sign-mode input; *header and *payload then point into data */
static int fuzz_sign_split(const uint8_t *data, size_t size, const uint8_t **header, size_t *hlen, const uint8_t **payload,
                           size_t *plen)
{
    static const char default_header[] = "{\"alg\":\"ES256\"}";
    const uint8_t *nl;

    if (size == 0 || data[0] != '{')
        return 0;
    if ((nl = memchr(data, '\n', size)) != NULL) {
        *header = data;
        *hlen = (size_t)(nl - data);
        *payload = nl + 1;
        *plen = size - *hlen - 1;
    } else {
        *header = (const uint8_t *)default_header;
        *hlen = sizeof(default_header) - 1;
        *payload = data;
        *plen = size;
    }
    return 1;
}

/* base64url(header) "." base64url(payload) "." base64url(R || S), malloc'd and NUL-terminated; key is ES256 */
static char *fuzz_sign_es256(const ts_key_t *key, const uint8_t *header, size_t hlen, const uint8_t *payload, size_t plen,
                             size_t *len)
{
    size_t cap = TS_B64URL_ENCODED_LEN(hlen) + TS_B64URL_ENCODED_LEN(plen) + TS_B64URL_ENCODED_LEN(64) + 3, pos, derlen = 80;
    char *out = malloc(cap);
    unsigned char der[80], raw[64];
    const unsigned char *p = der;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    ECDSA_SIG *sig;
    const BIGNUM *r, *s;

    FUZZ_ASSERT(out != NULL && md != NULL && key->alg == TS_ALG_ES256);
    pos = ts_b64url_encode(header, hlen, out);
    out[pos++] = '.';
    pos += ts_b64url_encode(payload, plen, out + pos);
    FUZZ_ASSERT(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key->pkey) == 1 &&
                EVP_DigestSign(md, der, &derlen, (const unsigned char *)out, pos) == 1);
    FUZZ_ASSERT((sig = d2i_ECDSA_SIG(NULL, &p, (long)derlen)) != NULL);
    ECDSA_SIG_get0(sig, &r, &s);
    FUZZ_ASSERT(BN_bn2binpad(r, raw, 32) == 32 && BN_bn2binpad(s, raw + 32, 32) == 32);
    out[pos++] = '.';
    pos += ts_b64url_encode(raw, sizeof(raw), out + pos);
    ECDSA_SIG_free(sig);
    EVP_MD_CTX_free(md);
    *len = pos;
    return out;
}

#endif
