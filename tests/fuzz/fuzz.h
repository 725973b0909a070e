#ifndef TESSERA_FUZZ_H
#define TESSERA_FUZZ_H

/* Shared by the libFuzzer harnesses of tests/fuzz: each is one LLVMFuzzerTestOneInput over one parser of
 * untrusted input, plus the invariants that are cheap to check. A broken invariant aborts, so libFuzzer
 * keeps the input like any other crash. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_ASSERT(cond)                                                                                                          \
    do {                                                                                                                           \
        if (!(cond)) {                                                                                                             \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond);                                           \
            abort();                                                                                                               \
        }                                                                                                                          \
    } while (0)

/* a malloc'd copy of data[0..size) cut at the first NUL and NUL-terminated, as a C string parameter would
 * arrive; exactly sized, so ASan sees a read past its end */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t n = nul != NULL ? (size_t)(nul - data) : size;
    char *s = malloc(n + 1);

    FUZZ_ASSERT(s != NULL);
    if (n != 0)
        memcpy(s, data, n);
    s[n] = '\0';
    return s;
}

/* a malloc'd copy of exactly size bytes (at least one byte allocated), without a terminating NUL, as an
 * HTTP header value or a request body arrives */
static inline char *fuzz_bytes(const uint8_t *data, size_t size)
{
    char *s = malloc(size != 0 ? size : 1);

    FUZZ_ASSERT(s != NULL);
    if (size != 0)
        memcpy(s, data, size);
    return s;
}

/* splits s (modified) at each sep into at most max items; returns how many */
static inline size_t fuzz_split(char *s, char sep, char **items, size_t max)
{
    size_t n = 0;

    while (n < max) {
        items[n++] = s;
        if ((s = strchr(s, sep)) == NULL)
            break;
        *s++ = '\0';
    }
    return n;
}

#endif
