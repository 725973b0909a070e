/* ts_http_parse_form (src/http/form.c) on a query string: the input is a request target ("/authorize?..."),
 * as h2o hands it over, and what follows the first '?' is parsed with the same invariants as a form body. */
#define FUZZ_FORM_NO_MAIN
#include "fuzz_form.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *q = memchr(data, '?', size);
    size_t off = q != NULL ? (size_t)(q + 1 - data) : 0;
    char *query = fuzz_bytes(data + off, size - off);

    parse_and_check(query, size - off);
    free(query);
    return 0;
}
