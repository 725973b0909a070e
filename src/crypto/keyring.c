/* Turns sealed key rows into parsed keys and a pre-rendered JWKS, once per change rather than per request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tessera/keyring.h"

static void destroy(ts_ref_t *ref)
{
    ts_keyring_t *ring = (ts_keyring_t *)ref;
    for (size_t i = 0; i < ring->count; ++i)
        ts_key_free(ring->entries[i].key);
    free(ring->entries);
    free(ring->jwks);
    free(ring);
}

static int parse_state(const char *s, ts_key_state_t *out)
{
    if (strcmp(s, "next") == 0)
        *out = TS_KEY_NEXT;
    else if (strcmp(s, "current") == 0)
        *out = TS_KEY_CURRENT;
    else if (strcmp(s, "retired") == 0)
        *out = TS_KEY_RETIRED;
    else
        return -1;
    return 0;
}

static ts_key_t *unseal(const ts_keyring_row_t *row, ts_jws_alg_t alg, const ts_kek_t *kek)
{
    unsigned char *der;
    size_t derlen;
    ts_key_t *key;

    if (ts_crypto_open(kek, row->kid, strlen(row->kid), row->sealed, row->sealed_len, &der, &derlen) != 0)
        return NULL;
    key = ts_key_import_private(alg, der, derlen);
    ts_crypto_cleanse(der, derlen);
    free(der);
    return key;
}

static int render_jwks(ts_keyring_t *ring)
{
    json_t *keys = json_array(), *doc;
    unsigned char digest[32];
    char b64[TS_B64URL_ENCODED_LEN(32) + 1];

    if (keys == NULL)
        return -1;
    for (size_t i = 0; i < ring->count; ++i)
        json_array_append_new(keys, ts_key_public_jwk(ring->entries[i].key));
    if ((doc = json_pack("{s:o}", "keys", keys)) == NULL)
        return -1;
    ring->jwks = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (ring->jwks == NULL)
        return -1;
    ring->jwks_len = strlen(ring->jwks);
    ts_crypto_sha256(ring->jwks, ring->jwks_len, digest);
    ts_b64url_encode(digest, 16, b64);
    snprintf(ring->etag, sizeof(ring->etag), "\"%s\"", b64);
    return 0;
}

ts_keyring_t *ts_keyring_build(const ts_keyring_row_t *rows, size_t n, const ts_kek_t *kek, char *err, size_t errlen)
{
    ts_keyring_t *ring = calloc(1, sizeof(*ring));

    if (ring == NULL || (n > 0 && (ring->entries = calloc(n, sizeof(*ring->entries))) == NULL)) {
        free(ring);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    ts_ref_init(&ring->super, destroy);
    for (size_t i = 0; i < n; ++i) {
        ts_jws_alg_t alg;
        ts_key_state_t state;
        if (ts_jws_alg_parse(rows[i].alg, &alg) != 0 || parse_state(rows[i].state, &state) != 0) {
            snprintf(err, errlen, "key %s: unknown algorithm or state", rows[i].kid);
            goto fail;
        }
        ts_key_t *key = unseal(&rows[i], alg, kek);
        if (key == NULL) {
            snprintf(err, errlen, "key %s: cannot decrypt or parse it (wrong key-encryption key?)", rows[i].kid);
            goto fail;
        }
        ring->entries[ring->count++] = (ts_keyring_entry_t){key, state};
        /* the row's kid is also the AEAD's associated data, so this only fails on a corrupted row */
        if (strcmp(ts_key_kid(key), rows[i].kid) != 0) {
            snprintf(err, errlen, "key %s: kid does not match the key", rows[i].kid);
            goto fail;
        }
    }
    if (render_jwks(ring) != 0) {
        snprintf(err, errlen, "cannot render JWKS");
        goto fail;
    }
    return ring;
fail:
    destroy(&ring->super);
    return NULL;
}

const ts_key_t *ts_keyring_current(const ts_keyring_t *ring, ts_jws_alg_t alg)
{
    for (size_t i = 0; i < ring->count; ++i)
        if (ring->entries[i].state == TS_KEY_CURRENT && ts_key_alg(ring->entries[i].key) == alg)
            return ring->entries[i].key;
    return NULL;
}

const ts_key_t *ts_keyring_find(const ts_keyring_t *ring, const char *kid, ts_jws_alg_t alg)
{
    if (kid == NULL)
        return NULL;
    for (size_t i = 0; i < ring->count; ++i)
        if (ts_key_alg(ring->entries[i].key) == alg && strcmp(ts_key_kid(ring->entries[i].key), kid) == 0)
            return ring->entries[i].key;
    return NULL;
}

const ts_key_t *ts_keyring_lookup(void *ring, const char *kid, ts_jws_alg_t alg)
{
    return ts_keyring_find(ring, kid, alg);
}

int ts_keyring_ready(const ts_keyring_t *ring)
{
    return ring != NULL && ts_keyring_current(ring, TS_ALG_RS256) != NULL && ts_keyring_current(ring, TS_ALG_ES256) != NULL;
}

int ts_keyring_seal_key(const ts_key_t *key, const ts_kek_t *kek, unsigned char **out, size_t *outlen)
{
    unsigned char *der;
    size_t derlen;
    int ret;

    if (ts_key_export_private(key, &der, &derlen) != 0)
        return -1;
    ret = ts_crypto_seal(kek, ts_key_kid(key), strlen(ts_key_kid(key)), der, derlen, out, outlen);
    ts_crypto_cleanse(der, derlen);
    free(der);
    return ret;
}
