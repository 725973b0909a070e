/* ts_key_import_jwk (src/crypto/key.c) on a JSON document, as private_key_jwt clients register their keys,
 * and ts_oauth_check_jwks (src/oauth/client_metadata.c) when the document is a JWK Set. Invariants: an
 * imported key is public only, of RS256 or ES256, with a kid of at most 128 characters; exporting it with
 * ts_key_public_jwk and importing that again gives the same key (for RSA: when the import passes again). */
#include "fuzz.h"
#include "tessera/crypto.h"
#include "tessera/oauth_metadata.h"

static void check_key(const json_t *jwk, ts_key_t *key)
{
    json_t *pub, *pub2;
    ts_key_t *again;

    FUZZ_ASSERT(!ts_key_has_private(key));
    FUZZ_ASSERT(ts_key_alg(key) == TS_ALG_ES256 || ts_key_alg(key) == TS_ALG_RS256);
    FUZZ_ASSERT(strlen(ts_key_kid(key)) > 0 && strlen(ts_key_kid(key)) <= 128);
    if (json_is_string(json_object_get(jwk, "kid")))
        FUZZ_ASSERT(strcmp(ts_key_kid(key), json_string_value(json_object_get(jwk, "kid"))) == 0);
    FUZZ_ASSERT((pub = ts_key_public_jwk(key)) != NULL);
    /* OpenSSL's RSA public check (SP 800-56B) runs Miller-Rabin with random bases on n: a bogus composite
     * modulus may pass one import and fail the next. EC keys are judged deterministically. */
    if ((again = ts_key_import_jwk(pub)) == NULL && ts_key_alg(key) == TS_ALG_RS256) {
        json_decref(pub);
        return;
    }
    FUZZ_ASSERT(again != NULL);
    FUZZ_ASSERT(ts_key_alg(again) == ts_key_alg(key) && strcmp(ts_key_kid(again), ts_key_kid(key)) == 0);
    FUZZ_ASSERT((pub2 = ts_key_public_jwk(again)) != NULL && json_equal(pub, pub2));
    json_decref(pub2);
    json_decref(pub);
    ts_key_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    ts_key_t *key;
    char err[256];
    size_t usable = 0, i;
    json_t *k;

    if (doc == NULL)
        return 0;
    if ((key = ts_key_import_jwk(doc)) != NULL) {
        check_key(doc, key);
        ts_key_free(key);
    }
    if (json_is_object(doc) && json_object_get(doc, "keys") != NULL) {
        if (ts_oauth_check_jwks("jwks", doc, &usable, err, sizeof(err)) == 0) {
            size_t n = 0, rsa = 0;
            json_array_foreach(json_object_get(doc, "keys"), i, k)
            {
                if ((key = ts_key_import_jwk(k)) != NULL) {
                    ++n;
                    ts_key_free(key);
                }
                rsa +=
                    json_is_string(json_object_get(k, "kty")) && strcmp(json_string_value(json_object_get(k, "kty")), "RSA") == 0;
            }
            /* the count is exact unless an RSA key met OpenSSL's randomized check (see check_key) */
            FUZZ_ASSERT(usable <= json_array_size(json_object_get(doc, "keys")));
            FUZZ_ASSERT(rsa != 0 || usable == n);
        } else {
            FUZZ_ASSERT(usable == 0 && strlen(err) < sizeof(err));
        }
    }
    json_decref(doc);
    return 0;
}
