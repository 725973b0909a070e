/* PKCE (RFC 7636): the syntax of verifiers and challenges, and the S256 comparison. Only S256 exists here:
 * "plain" sends the verifier itself through the browser, which is what PKCE is meant to keep out of it. */
#include <string.h>
#include "tessera/oauth_browser.h"

#define VERIFIER_MIN 43
#define VERIFIER_MAX 128
#define CHALLENGE_LEN TS_B64URL_ENCODED_LEN(32)

static int is_alnum(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int ts_pkce_verifier_valid(const char *s, size_t len)
{
    if (s == NULL || len < VERIFIER_MIN || len > VERIFIER_MAX)
        return 0;
    /* unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~" (§4.1) */
    for (size_t i = 0; i < len; ++i)
        if (!is_alnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '.' && s[i] != '_' && s[i] != '~')
            return 0;
    return 1;
}

int ts_pkce_challenge_valid(const char *s, size_t len)
{
    unsigned char raw[32];
    size_t n;

    if (s == NULL || len != CHALLENGE_LEN)
        return 0;
    /* the strict decoder also refuses non-zero trailing bits: such a challenge could never equal our own
     * encoding of a hash, so it is refused when the code is asked for rather than when it is redeemed */
    return ts_b64url_decode(s, len, raw, sizeof(raw), &n) == 0 && n == sizeof(raw);
}

int ts_pkce_s256_matches(const char *verifier, size_t len, const char *challenge)
{
    unsigned char digest[32];
    char expected[CHALLENGE_LEN + 1];

    if (!ts_pkce_verifier_valid(verifier, len) || challenge == NULL || !ts_pkce_challenge_valid(challenge, strlen(challenge)))
        return 0;
    ts_crypto_sha256(verifier, len, digest);
    ts_b64url_encode(digest, sizeof(digest), expected);
    return ts_crypto_equal(expected, challenge, CHALLENGE_LEN);
}
