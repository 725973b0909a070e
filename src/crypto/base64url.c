#include <string.h>
#include <openssl/crypto.h>
#include <tessera/crypto.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* value of a base64url character, or -1 for anything outside the alphabet (padding included) */
static int sextet(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

size_t ts_b64url_encode(const void *in, size_t n, char *out)
{
    const unsigned char *src = in;
    size_t i, o = 0;

    for (i = 0; i + 3 <= n; i += 3) {
        unsigned long v = (unsigned long)src[i] << 16 | (unsigned long)src[i + 1] << 8 | src[i + 2];
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = alphabet[v >> 6 & 63];
        out[o++] = alphabet[v & 63];
    }
    if (n - i == 1) {
        unsigned long v = (unsigned long)src[i] << 16;
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
    } else if (n - i == 2) {
        unsigned long v = (unsigned long)src[i] << 16 | (unsigned long)src[i + 1] << 8;
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = alphabet[v >> 6 & 63];
    }
    out[o] = '\0';
    return o;
}

int ts_b64url_decode(const char *in, size_t n, unsigned char *out, size_t cap, size_t *outlen)
{
    const unsigned char *src = (const unsigned char *)in;
    size_t rem = n % 4, need, i, o = 0;
    int v[4];

    /* a lone trailing character carries only 6 bits, less than one byte: never valid */
    if (rem == 1 || (n != 0 && in == NULL))
        return -1;
    need = n / 4 * 3 + (rem == 0 ? 0 : rem - 1);
    if (need > cap)
        return -1;

    for (i = 0; i + 4 <= n; i += 4) {
        if ((v[0] = sextet(src[i])) < 0 || (v[1] = sextet(src[i + 1])) < 0 || (v[2] = sextet(src[i + 2])) < 0 ||
            (v[3] = sextet(src[i + 3])) < 0)
            goto bad;
        out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
        out[o++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
        out[o++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
    }
    /* the unused low bits of the last character must be zero, or two encodings would decode alike */
    if (rem == 2) {
        if ((v[0] = sextet(src[i])) < 0 || (v[1] = sextet(src[i + 1])) < 0 || (v[1] & 15) != 0)
            goto bad;
        out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
    } else if (rem == 3) {
        if ((v[0] = sextet(src[i])) < 0 || (v[1] = sextet(src[i + 1])) < 0 || (v[2] = sextet(src[i + 2])) < 0 || (v[2] & 3) != 0)
            goto bad;
        out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
        out[o++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
    }
    *outlen = o;
    return 0;

bad:
    /* the output may be a secret (a KEK, a key): leave nothing half-decoded behind */
    if (o != 0)
        OPENSSL_cleanse(out, o);
    return -1;
}
