#ifndef TESSERA_CRYPTO_INTERNAL_H
#define TESSERA_CRYPTO_INTERNAL_H

/* Shared between the files of src/crypto only: nothing outside this folder may see an EVP_PKEY. */

#include <openssl/evp.h>
#include <tessera/crypto.h>

#define TS_KEY_KID_MAX 128

struct st_ts_key_t {
    EVP_PKEY *pkey; /* owned; read-only once the key is built, so threads may share it */
    ts_jws_alg_t alg;
    char kid[TS_KEY_KID_MAX + 1];
    int has_private;
};

#endif
