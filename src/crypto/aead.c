#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <tessera/crypto.h>
#include "tessera/text.h"

#define SEAL_VERSION 1
#define NONCE_LEN 12
#define TAG_LEN 16
#define OVERHEAD (1 + NONCE_LEN + TAG_LEN)

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int parse_hex(const char *text, unsigned char out[32])
{
    size_t i;

    for (i = 0; i < 32; i++) {
        int hi = ts_hex_value((unsigned char)text[2 * i]), lo = ts_hex_value((unsigned char)text[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

int ts_kek_parse(const char *text, size_t len, ts_kek_t *out)
{
    unsigned char key[32];
    size_t keylen;
    int ret = -1;

    if (text == NULL || out == NULL)
        return -1;
    /* key files usually end in a newline; anything inside the key is still rejected below */
    while (len > 0 && is_space(text[0])) {
        text++;
        len--;
    }
    while (len > 0 && is_space(text[len - 1]))
        len--;

    if (len == 64)
        ret = parse_hex(text, key);
    else if (len == 43)
        ret = ts_b64url_decode(text, len, key, sizeof(key), &keylen) == 0 && keylen == 32 ? 0 : -1;
    if (ret == 0)
        memcpy(out->key, key, sizeof(key)); /* Flawfinder: ignore - both are 32 bytes */
    OPENSSL_cleanse(key, sizeof(key));
    return ret;
}

int ts_crypto_seal(const ts_kek_t *kek, const void *aad, size_t aadlen, const void *pt, size_t ptlen, unsigned char **out,
                   size_t *outlen)
{
    EVP_CIPHER_CTX *ctx = NULL;
    unsigned char *buf = NULL;
    size_t total;
    int n;

    *out = NULL;
    *outlen = 0;
    /* EVP counts in int */
    if (kek == NULL || ptlen > INT_MAX - OVERHEAD || aadlen > INT_MAX || (ptlen != 0 && pt == NULL) || (aadlen != 0 && aad == NULL))
        return -1;
    total = OVERHEAD + ptlen;
    if ((buf = malloc(total)) == NULL)
        return -1;
    buf[0] = SEAL_VERSION;
    /* a random 96-bit nonce stays safe for far more than the 2^32 seals one KEK will ever see */
    if (ts_crypto_random(buf + 1, NONCE_LEN) != 0)
        goto fail;
    if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
        goto fail;
    if (EVP_EncryptInit_ex2(ctx, EVP_aes_256_gcm(), kek->key, buf + 1, NULL) != 1)
        goto fail;
    if (aadlen != 0 && EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aadlen) != 1)
        goto fail;
    if (ptlen != 0 && (EVP_EncryptUpdate(ctx, buf + 1 + NONCE_LEN, &n, pt, (int)ptlen) != 1 || (size_t)n != ptlen))
        goto fail;
    if (EVP_EncryptFinal_ex(ctx, buf + 1 + NONCE_LEN + ptlen, &n) != 1 || n != 0)
        goto fail;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG_LEN, buf + 1 + NONCE_LEN + ptlen) != 1)
        goto fail;
    EVP_CIPHER_CTX_free(ctx);
    *out = buf;
    *outlen = total;
    return 0;

fail:
    EVP_CIPHER_CTX_free(ctx);
    OPENSSL_cleanse(buf, total);
    free(buf);
    return -1;
}

int ts_crypto_open(const ts_kek_t *kek, const void *aad, size_t aadlen, const unsigned char *in, size_t inlen, unsigned char **out,
                   size_t *outlen)
{
    EVP_CIPHER_CTX *ctx = NULL;
    unsigned char *buf = NULL, tag[TAG_LEN];
    size_t ctlen;
    int n;

    *out = NULL;
    *outlen = 0;
    if (kek == NULL || in == NULL || inlen < OVERHEAD || in[0] != SEAL_VERSION || aadlen > INT_MAX || (aadlen != 0 && aad == NULL))
        return -1;
    ctlen = inlen - OVERHEAD;
    if (ctlen > INT_MAX)
        return -1;
    /* one spare byte so an empty plaintext still gets a pointer the caller can free */
    if ((buf = malloc(ctlen + 1)) == NULL)
        return -1;
    /* Flawfinder: ignore (next line) - inlen >= OVERHEAD: the tag is the last TAG_LEN bytes */
    memcpy(tag, in + 1 + NONCE_LEN + ctlen, TAG_LEN);
    if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
        goto fail;
    if (EVP_DecryptInit_ex2(ctx, EVP_aes_256_gcm(), kek->key, in + 1, NULL) != 1)
        goto fail;
    if (aadlen != 0 && EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aadlen) != 1)
        goto fail;
    if (ctlen != 0 && (EVP_DecryptUpdate(ctx, buf, &n, in + 1 + NONCE_LEN, (int)ctlen) != 1 || (size_t)n != ctlen))
        goto fail;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN, tag) != 1)
        goto fail;
    if (EVP_DecryptFinal_ex(ctx, buf + ctlen, &n) != 1)
        goto fail;
    EVP_CIPHER_CTX_free(ctx);
    buf[ctlen] = '\0';
    *out = buf;
    *outlen = ctlen;
    return 0;

fail:
    EVP_CIPHER_CTX_free(ctx);
    /* plaintext that failed authentication must not linger in freed memory */
    OPENSSL_cleanse(buf, ctlen + 1);
    free(buf);
    return -1;
}
