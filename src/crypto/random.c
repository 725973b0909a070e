#include <limits.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <tessera/crypto.h>

int ts_crypto_random(void *buf, size_t len)
{
    unsigned char *p = buf;

    /* RAND_bytes takes an int, so feed it in slices rather than truncate a size_t */
    while (len > 0) {
        int chunk = len > INT_MAX ? INT_MAX : (int)len;
        if (RAND_bytes(p, chunk) != 1)
            return -1;
        p += chunk;
        len -= (size_t)chunk;
    }
    return 0;
}

void ts_crypto_sha256(const void *data, size_t len, unsigned char out[32])
{
    static const unsigned char empty = 0;

    SHA256(len != 0 ? data : &empty, len, out);
}

int ts_crypto_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

void ts_crypto_cleanse(void *p, size_t len)
{
    if (p != NULL && len != 0)
        OPENSSL_cleanse(p, len);
}

int ts_crypto_handle_new(const char *prefix, char *out, size_t cap)
{
    unsigned char raw[TS_HANDLE_RANDOM_BYTES];
    size_t plen;

    if (prefix == NULL || out == NULL)
        return -1;
    plen = strnlen(prefix, 9);
    if (plen > 8 || cap < plen + TS_B64URL_ENCODED_LEN(TS_HANDLE_RANDOM_BYTES) + 1)
        return -1;
    if (ts_crypto_random(raw, sizeof(raw)) != 0)
        return -1;
    memcpy(out, prefix, plen); /* Flawfinder: ignore - cap checked above for prefix, encoding and NUL */
    ts_b64url_encode(raw, sizeof(raw), out + plen);
    OPENSSL_cleanse(raw, sizeof(raw));
    return 0;
}

void ts_crypto_handle_hash(const char *handle, size_t len, char out[44])
{
    unsigned char md[32];

    ts_crypto_sha256(handle, len, md);
    ts_b64url_encode(md, sizeof(md), out);
}
