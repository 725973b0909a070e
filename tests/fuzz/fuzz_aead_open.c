/* ts_crypto_open (src/crypto/aead.c) on a sealed blob, as private keys come back from the database: the
 * input is one byte n, then n bytes of associated data (the kid), then the blob, opened under a fixed KEK
 * (make_seeds.mjs seals the seeds under it). Invariants: what opens is NUL-terminated, seals again and
 * opens to the same bytes, and never opens under other associated data; anything sealed opens. */
#include <openssl/crypto.h>
#include "fuzz.h"
#include "tessera/crypto.h"

static ts_kek_t kek;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    memset(kek.key, 0x42, sizeof(kek.key));
    return 0;
}

/* seals pt and opens it again: the same bytes come back */
static void round_trip(const unsigned char *aad, size_t aadlen, const unsigned char *pt, size_t ptlen)
{
    unsigned char *sealed, *opened;
    size_t sealed_len, opened_len;

    FUZZ_ASSERT(ts_crypto_seal(&kek, aad, aadlen, pt, ptlen, &sealed, &sealed_len) == 0);
    FUZZ_ASSERT(ts_crypto_open(&kek, aad, aadlen, sealed, sealed_len, &opened, &opened_len) == 0);
    FUZZ_ASSERT(opened_len == ptlen && (ptlen == 0 || memcmp(opened, pt, ptlen) == 0));
    free(opened);
    free(sealed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t aadlen = size != 0 ? data[0] : 0;
    unsigned char *aad, *blob, *out = NULL, *out2 = NULL;
    size_t bloblen, outlen = 0, outlen2 = 0;

    if (size == 0 || 1 + aadlen > size)
        return 0;
    bloblen = size - 1 - aadlen;
    /* exactly sized copies: ASan sees a read past either */
    aad = (unsigned char *)fuzz_bytes(data + 1, aadlen);
    blob = (unsigned char *)fuzz_bytes(data + 1 + aadlen, bloblen);
    if (ts_crypto_open(&kek, aadlen != 0 ? aad : NULL, aadlen, blob, bloblen, &out, &outlen) == 0) {
        FUZZ_ASSERT(out != NULL && out[outlen] == '\0' && outlen + 29 == bloblen);
        round_trip(aad, aadlen, out, outlen);
        /* the associated data is bound: one more byte of it and the blob does not open */
        unsigned char *longer = malloc(aadlen + 1);
        FUZZ_ASSERT(longer != NULL);
        memcpy(longer, aad, aadlen);
        longer[aadlen] = 'x';
        FUZZ_ASSERT(ts_crypto_open(&kek, longer, aadlen + 1, blob, bloblen, &out2, &outlen2) == -1 && out2 == NULL);
        free(longer);
        OPENSSL_cleanse(out, outlen);
        free(out);
    } else {
        FUZZ_ASSERT(out == NULL && outlen == 0);
    }
    /* the input itself, sealed and opened */
    round_trip(aad, aadlen, blob, bloblen);
    free(blob);
    free(aad);
    return 0;
}
