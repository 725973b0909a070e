#include <string.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <tessera/crypto.h>

#define HASH_PREFIX "hs1$"
#define HASH_PREFIX_LEN (sizeof(HASH_PREFIX) - 1)
#define HASH_LEN (HASH_PREFIX_LEN + 43) /* without the NUL */

/* Changing this string changes every stored client secret hash: it names the purpose and version. */
static const char hkdf_info[] = "tessera client secret v1";

int ts_secret_hasher_init(ts_secret_hasher_t *h, const ts_kek_t *kek)
{
    EVP_KDF *kdf = NULL;
    EVP_KDF_CTX *kctx = NULL;
    OSSL_PARAM params[4];
    int ret = -1;

    if (h == NULL || kek == NULL)
        return -1;
    if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL)
        goto exit;
    if ((kctx = EVP_KDF_CTX_new(kdf)) == NULL)
        goto exit;
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)kek->key, sizeof(kek->key));
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)hkdf_info, sizeof(hkdf_info) - 1);
    params[3] = OSSL_PARAM_construct_end();
    if (EVP_KDF_derive(kctx, h->key, sizeof(h->key), params) != 1) {
        OPENSSL_cleanse(h->key, sizeof(h->key));
        goto exit;
    }
    ret = 0;

exit:
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);
    return ret;
}

void ts_secret_hash(const ts_secret_hasher_t *h, const char *secret, size_t len, char out[TS_SECRET_HASH_LEN])
{
    static const unsigned char empty = 0;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;

    /* an empty string never equals a stored hash, so a failure here cannot be mistaken for a match */
    out[0] = '\0';
    if (h == NULL || (secret == NULL && len != 0))
        return;
    if (HMAC(EVP_sha256(), h->key, sizeof(h->key), len != 0 ? (const unsigned char *)secret : &empty, len, mac, &maclen) == NULL ||
        maclen != 32)
        return;
    memcpy(out, HASH_PREFIX, HASH_PREFIX_LEN); /* Flawfinder: ignore - out is TS_SECRET_HASH_LEN: prefix + 43 + NUL */
    ts_b64url_encode(mac, 32, out + HASH_PREFIX_LEN);
    OPENSSL_cleanse(mac, sizeof(mac));
}

int ts_secret_verify(const ts_secret_hasher_t *h, const char *secret, size_t len, const char *stored)
{
    char computed[TS_SECRET_HASH_LEN];
    int ok;

    if (stored == NULL || strnlen(stored, HASH_LEN + 1) != HASH_LEN)
        return 0;
    ts_secret_hash(h, secret, len, computed);
    if (computed[0] == '\0')
        return 0;
    ok = CRYPTO_memcmp(computed, stored, HASH_LEN) == 0;
    OPENSSL_cleanse(computed, sizeof(computed));
    return ok;
}
