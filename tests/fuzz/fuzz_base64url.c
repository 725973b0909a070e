/* ts_b64url_decode and ts_b64url_encode (src/crypto/base64url.c), strict RFC 4648 §5 without padding, as
 * every JWS part, JWK member and key file goes through them. Invariants: what decodes re-encodes to exactly
 * the input (one encoding per value); a buffer one byte too small is refused, never overrun; and any bytes
 * survive encode then decode. */
#include "fuzz.h"
#include "tessera/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    size_t cap = size / 4 * 3 + 2, n = 0, m = 0;
    unsigned char *out = malloc(cap), *back;
    char *enc = malloc(TS_B64URL_ENCODED_LEN(size) + 1);

    FUZZ_ASSERT(out != NULL && enc != NULL);
    if (ts_b64url_decode(in, size, out, cap, &n) == 0) {
        char *again = malloc(TS_B64URL_ENCODED_LEN(n) + 1);
        FUZZ_ASSERT(again != NULL && n <= size / 4 * 3 + 2);
        FUZZ_ASSERT(ts_b64url_encode(out, n, again) == size && memcmp(again, in, size) == 0);
        free(again);
        /* exactly n bytes of room is enough, one less is refused */
        unsigned char *exact = malloc(n != 0 ? n : 1);
        FUZZ_ASSERT(exact != NULL && ts_b64url_decode(in, size, exact, n, &m) == 0 && m == n && memcmp(exact, out, n) == 0);
        if (n != 0)
            FUZZ_ASSERT(ts_b64url_decode(in, size, exact, n - 1, &m) == -1);
        free(exact);
    }
    /* the input as bytes: encode, then decode */
    FUZZ_ASSERT(ts_b64url_encode(data, size, enc) == TS_B64URL_ENCODED_LEN(size) && enc[TS_B64URL_ENCODED_LEN(size)] == '\0');
    FUZZ_ASSERT((back = malloc(size != 0 ? size : 1)) != NULL);
    FUZZ_ASSERT(ts_b64url_decode(enc, strlen(enc), back, size, &m) == 0 && m == size && memcmp(back, data, size) == 0);
    free(back);
    free(enc);
    free(out);
    return 0;
}
