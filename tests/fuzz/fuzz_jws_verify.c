/* ts_jws_verify (src/crypto/jws.c) on a compact JWS, with ES256 and RS256 allowed, as access tokens and
 * assertions are checked. A token is verified against a fixed key set (fuzz_keys.h: ES256 kid fuzz-es,
 * RS256 kid fuzz-rs) that the token seeds are signed for (make_seeds.mjs); a sign-mode input (fuzz_sign.h)
 * is signed by the harness and verified against that key alone, so the fuzzer also reaches what follows the
 * signature. Invariants: claims and header are objects exactly when the result is TS_JWS_OK, the header's alg
 * is allowed and the key's, no crit; a typ requirement only ever turns a success into TS_JWS_TYP_MISMATCH,
 * and leaving the token's algorithm out of the allowed set turns it into TS_JWS_ALG_REJECTED. */
#include <strings.h>
#include "fuzz.h"
#include "fuzz_keys.h"
#include "fuzz_sign.h"

typedef struct st_keyset_t {
    ts_key_t *keys[2];
    size_t n;
} keyset_t;

static keyset_t fixed, generated;

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
    fixed = (keyset_t){{import(FUZZ_JWK_ES256), import(FUZZ_JWK_RS256)}, 2};
    generated = (keyset_t){{ts_key_generate(TS_ALG_ES256)}, 1};
    FUZZ_ASSERT(generated.keys[0] != NULL);
    return 0;
}

/* by kid when the header has one, else the first key of that algorithm */
static const ts_key_t *lookup(void *ctx, const char *kid, ts_jws_alg_t alg)
{
    const keyset_t *set = ctx;

    for (size_t i = 0; i < set->n; ++i) {
        if (kid != NULL ? strcmp(ts_key_kid(set->keys[i]), kid) == 0 : ts_key_alg(set->keys[i]) == alg)
            return set->keys[i];
    }
    return NULL;
}

/* a sign-mode token names no kid the harness knows unless the fuzzer copies the generated one: any kid will do */
static const ts_key_t *lookup_generated(void *ctx, const char *kid, ts_jws_alg_t alg)
{
    return generated.keys[0];
}

static void check(const char *token, size_t size, ts_jws_key_lookup_cb cb, void *cb_ctx)
{
    const unsigned allowed = TS_ALG_MASK(TS_ALG_ES256) | TS_ALG_MASK(TS_ALG_RS256);
    json_t *claims = NULL, *header = NULL, *claims2 = NULL;
    ts_jws_result_t res, res2;
    ts_jws_alg_t alg = TS_ALG_ES256;

    res = ts_jws_verify(token, size, allowed, NULL, cb, cb_ctx, &claims, &header);
    FUZZ_ASSERT(res >= TS_JWS_OK && res < TS_JWS_TYP_MISMATCH);
    if (res == TS_JWS_OK) {
        FUZZ_ASSERT(json_is_object(claims) && json_is_object(header));
        FUZZ_ASSERT(ts_jws_alg_parse(json_string_value(json_object_get(header, "alg")), &alg) == 0);
        FUZZ_ASSERT((allowed & TS_ALG_MASK(alg)) != 0);
        FUZZ_ASSERT(json_object_get(header, "crit") == NULL);
    } else {
        FUZZ_ASSERT(claims == NULL && header == NULL);
    }

    /* the same token where a typ is required (RFC 9068 access tokens) */
    res2 = ts_jws_verify(token, size, allowed, "at+jwt", cb, cb_ctx, &claims2, NULL);
    if (res == TS_JWS_OK) {
        const char *typ = json_string_value(json_object_get(header, "typ"));
        FUZZ_ASSERT(res2 == TS_JWS_OK || res2 == TS_JWS_TYP_MISMATCH);
        FUZZ_ASSERT((res2 == TS_JWS_OK) ==
                    (typ != NULL && (strcasecmp(typ, "at+jwt") == 0 || strcasecmp(typ, "application/at+jwt") == 0)));
        FUZZ_ASSERT(res2 != TS_JWS_OK || json_equal(claims, claims2));
        /* and where only the other algorithm is allowed */
        FUZZ_ASSERT(ts_jws_verify(token, size, allowed & ~TS_ALG_MASK(alg), NULL, cb, cb_ctx, NULL, NULL) == TS_JWS_ALG_REJECTED);
    } else {
        FUZZ_ASSERT(res2 == res && claims2 == NULL);
    }
    json_decref(claims2);
    json_decref(header);
    json_decref(claims);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *header, *payload;
    size_t hlen, plen, len;
    char *token;

    if (fuzz_sign_split(data, size, &header, &hlen, &payload, &plen)) {
        token = fuzz_sign_es256(generated.keys[0], header, hlen, payload, plen, &len);
        check(token, len, lookup_generated, NULL);
    } else {
        token = fuzz_bytes(data, size);
        check(token, size, lookup, &fixed);
    }
    free(token);
    return 0;
}
