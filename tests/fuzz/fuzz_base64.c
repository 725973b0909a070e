/* ts_base64_decode (src/core/text.c), strict standard base64 with padding, as the Basic authorization
 * header carries it. Invariants: what decodes is exactly OpenSSL's encoding of the result (one encoding per
 * value), a buffer one byte too small is refused and never overrun, and OpenSSL's encoding of any bytes
 * decodes back to them. */
#include <openssl/evp.h>
#include "fuzz.h"
#include "tessera/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t cap = size / 4 * 3;
    unsigned char *out = malloc(cap != 0 ? cap : 1), *enc = malloc((size + 2) / 3 * 4 + 1), *back;
    ssize_t n;

    FUZZ_ASSERT(out != NULL && enc != NULL);
    if ((n = ts_base64_decode((const char *)data, size, out, cap)) >= 0) {
        unsigned char *again = malloc(((size_t)n + 2) / 3 * 4 + 1);
        FUZZ_ASSERT(again != NULL);
        FUZZ_ASSERT((size_t)EVP_EncodeBlock(again, out, (int)n) == size && memcmp(again, data, size) == 0);
        free(again);
        if (n != 0) {
            unsigned char *small = malloc((size_t)n - 1 != 0 ? (size_t)n - 1 : 1);
            FUZZ_ASSERT(small != NULL && ts_base64_decode((const char *)data, size, small, (size_t)n - 1) == -1);
            free(small);
        }
    }
    /* the input as bytes: OpenSSL encodes, we decode */
    if (size <= 1 << 20) {
        int len = EVP_EncodeBlock(enc, data, (int)size);
        FUZZ_ASSERT((back = malloc(size != 0 ? size : 1)) != NULL);
        FUZZ_ASSERT(ts_base64_decode((const char *)enc, (size_t)len, back, size) == (ssize_t)size && memcmp(back, data, size) == 0);
        free(back);
    }
    free(enc);
    free(out);
    return 0;
}
