/* PKCE (src/oauth/pkce.c): the input is "verifier\nchallenge", the verifier as length-counted bytes (as the
 * form parser hands it over, NULs included) and the challenge as a C string. Invariants: each syntax check
 * agrees with a plain reading of RFC 7636 §4.1/§4.2; ts_pkce_s256_matches is true exactly when both are
 * well-formed and the challenge is base64url(SHA-256(verifier)) as OpenSSL computes it, so it also accepts
 * the verifier with its own challenge. */
#include <openssl/sha.h>
#include "fuzz.h"
#include "tessera/oauth_browser.h"

static int unreserved(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

static int b64url_index(int c)
{
    const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const char *p = c != '\0' ? strchr(alphabet, c) : NULL;
    return p != NULL ? (int)(p - alphabet) : -1;
}

static int verifier_oracle(const char *v, size_t n)
{
    if (n < 43 || n > 128)
        return 0;
    for (size_t i = 0; i < n; ++i)
        if (!unreserved((unsigned char)v[i]))
            return 0;
    return 1;
}

/* 43 characters = 258 bits for 256: the last character carries two zero bits */
static int challenge_oracle(const char *c, size_t n)
{
    if (n != 43)
        return 0;
    for (size_t i = 0; i < n; ++i)
        if (b64url_index((unsigned char)c[i]) < 0)
            return 0;
    return b64url_index((unsigned char)c[42]) % 4 == 0;
}

/* base64url(SHA-256(v)) with OpenSSL and a hand-written encoder */
static void challenge_of(const char *v, size_t n, char out[44])
{
    const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char d[33] = {0};
    size_t o = 0;

    SHA256((const unsigned char *)v, n, d);
    for (size_t i = 0; i < 33; i += 3) {
        unsigned long w = (unsigned long)d[i] << 16 | (unsigned long)d[i + 1] << 8 | d[i + 2];
        for (int k = 18; k >= 0 && o < 43; k -= 6)
            out[o++] = alphabet[w >> k & 63];
    }
    out[43] = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t vlen = nl != NULL ? (size_t)(nl - data) : size;
    char *verifier = fuzz_bytes(data, vlen); /* exactly sized, no NUL: ASan sees any read past vlen */
    char *challenge = nl != NULL ? fuzz_cstr(nl + 1, size - vlen - 1) : NULL;
    char own[44];
    int v_ok = ts_pkce_verifier_valid(verifier, vlen);

    FUZZ_ASSERT(v_ok == verifier_oracle(verifier, vlen));
    challenge_of(verifier, vlen, own);
    FUZZ_ASSERT(ts_pkce_challenge_valid(own, strlen(own)));
    FUZZ_ASSERT(ts_pkce_s256_matches(verifier, vlen, own) == v_ok);
    if (challenge != NULL) {
        int c_ok = ts_pkce_challenge_valid(challenge, strlen(challenge));
        FUZZ_ASSERT(c_ok == challenge_oracle(challenge, strlen(challenge)));
        FUZZ_ASSERT(ts_pkce_s256_matches(verifier, vlen, challenge) == (v_ok && c_ok && strcmp(own, challenge) == 0));
        /* the challenge taken as a verifier ("plain") never matches itself */
        FUZZ_ASSERT(!ts_pkce_s256_matches(challenge, strlen(challenge), challenge));
        free(challenge);
    }
    FUZZ_ASSERT(!ts_pkce_s256_matches(verifier, vlen, NULL));
    free(verifier);
    return 0;
}
