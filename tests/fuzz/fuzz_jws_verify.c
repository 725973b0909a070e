/* ts_jws_verify (src/crypto/jws.c) on a compact JWS, with a fixed key set (fuzz_keys.h: one ES256 key, kid
 * fuzz-es, one RS256 key, kid fuzz-rs) and ES256 and RS256 allowed, as access tokens and assertions are
 * checked. The seeds are signed for these keys (make_seeds.mjs), so the fuzzer starts past the signature.
 * Invariants: claims and header are objects exactly when the result is TS_JWS_OK, the header's alg is
 * the key's, and a typ requirement only ever turns a success into TS_JWS_TYP_MISMATCH. */
#include <strings.h>
#include "fuzz.h"
#include "fuzz_keys.h"
#include "tessera/crypto.h"

static ts_key_t *keys[2];

static ts_key_t *import(const char *text)
{
    json_t *jwk = json_loads(text, 0, NULL);
    ts_key_t *key = ts_key_import_jwk(jwk);

    FUZZ_ASSERT(key != NULL);
    json_decref(jwk);
    return key;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    keys[0] = import(FUZZ_JWK_ES256);
    keys[1] = import(FUZZ_JWK_RS256);
    return 0;
}

/* by kid when the header has one, else the only key of that algorithm */
static const ts_key_t *lookup(void *ctx, const char *kid, ts_jws_alg_t alg)
{
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); ++i) {
        if (kid != NULL ? strcmp(ts_key_kid(keys[i]), kid) == 0 : ts_key_alg(keys[i]) == alg)
            return keys[i];
    }
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const unsigned allowed = TS_ALG_MASK(TS_ALG_ES256) | TS_ALG_MASK(TS_ALG_RS256);
    char *token = fuzz_bytes(data, size);
    json_t *claims = NULL, *header = NULL, *claims2 = NULL;
    ts_jws_result_t res, res2;
    ts_jws_alg_t alg;

    res = ts_jws_verify(token, size, allowed, NULL, lookup, NULL, &claims, &header);
    FUZZ_ASSERT(res >= TS_JWS_OK && res <= TS_JWS_TYP_MISMATCH && res != TS_JWS_TYP_MISMATCH);
    if (res == TS_JWS_OK) {
        FUZZ_ASSERT(json_is_object(claims) && json_is_object(header));
        FUZZ_ASSERT(ts_jws_alg_parse(json_string_value(json_object_get(header, "alg")), &alg) == 0);
        FUZZ_ASSERT((allowed & TS_ALG_MASK(alg)) != 0);
        FUZZ_ASSERT(json_object_get(header, "crit") == NULL);
    } else {
        FUZZ_ASSERT(claims == NULL && header == NULL);
    }

    /* the same token where a typ is required (RFC 9068 access tokens) */
    res2 = ts_jws_verify(token, size, allowed, "at+jwt", lookup, NULL, &claims2, NULL);
    if (res == TS_JWS_OK) {
        const char *typ = json_string_value(json_object_get(header, "typ"));
        FUZZ_ASSERT(res2 == TS_JWS_OK || res2 == TS_JWS_TYP_MISMATCH);
        FUZZ_ASSERT((res2 == TS_JWS_OK) == (typ != NULL && (strcasecmp(typ, "at+jwt") == 0 ||
                                                             strcasecmp(typ, "application/at+jwt") == 0)));
        FUZZ_ASSERT(res2 != TS_JWS_OK || json_equal(claims, claims2));
    } else {
        FUZZ_ASSERT(res2 == res && claims2 == NULL);
    }
    /* and where only the other algorithm is allowed */
    if (res == TS_JWS_OK)
        FUZZ_ASSERT(ts_jws_verify(token, size, allowed & ~TS_ALG_MASK(alg), NULL, lookup, NULL, NULL, NULL) == TS_JWS_ALG_REJECTED);

    json_decref(claims2);
    json_decref(header);
    json_decref(claims);
    free(token);
    return 0;
}
