#ifndef TESSERA_KEYRING_H
#define TESSERA_KEYRING_H

/* The signing keys every thread uses: parsed once per change, shared read-only (a ts_ref_t snapshot). */
#include <stddef.h>
#include <time.h>
#include "tessera/crypto.h"
#include "tessera/shared.h"

typedef enum en_ts_key_state_t { TS_KEY_NEXT, TS_KEY_CURRENT, TS_KEY_RETIRED } ts_key_state_t;

typedef struct st_ts_keyring_entry_t {
    ts_key_t *key;
    ts_key_state_t state;
} ts_keyring_entry_t;

typedef struct st_ts_keyring_t {
    ts_ref_t super;
    ts_keyring_entry_t *entries; /* next, current and retired keys: everything JWKS publishes */
    size_t count;
    char *jwks;                  /* the /jwks.json body, rendered once */
    size_t jwks_len;
    char etag[48];               /* quoted base64url SHA-256 of the body */
} ts_keyring_t;

/* One key row as the store reads it; the private part is still sealed under the KEK. */
typedef struct st_ts_keyring_row_t {
    const char *kid;
    const char *alg;
    const char *state;
    const unsigned char *sealed;
    size_t sealed_len;
} ts_keyring_row_t;

/** builds a keyring from rows (removed keys must not be passed); decrypts with kek, checks each kid matches
 *  its key, renders JWKS. NULL with err when anything does not decrypt or parse. */
ts_keyring_t *ts_keyring_build(const ts_keyring_row_t *rows, size_t n, const ts_kek_t *kek, char *err, size_t errlen);
/** the key that signs now for alg, or NULL */
const ts_key_t *ts_keyring_current(const ts_keyring_t *ring, ts_jws_alg_t alg);
/** any published key with that kid and alg (for verification), or NULL */
const ts_key_t *ts_keyring_find(const ts_keyring_t *ring, const char *kid, ts_jws_alg_t alg);
/** 1 when both RS256 and ES256 have a current key */
int ts_keyring_ready(const ts_keyring_t *ring);
/** a ts_jws_key_lookup_cb over a keyring (ctx is the keyring) */
const ts_key_t *ts_keyring_lookup(void *ring, const char *kid, ts_jws_alg_t alg);
/** seals a new key's private part for storage (aad = kid); *out malloc'd */
int ts_keyring_seal_key(const ts_key_t *key, const ts_kek_t *kek, unsigned char **out, size_t *outlen);

#endif
