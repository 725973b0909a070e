/* ts_oauth_resources (src/oauth/resource.c) on the resource parameters of a token request (RFC 8707): the
 * input is one value per line, each a C string as the form parser leaves it. Invariants: success only for at
 * most TS_RESOURCES_MAX absolute URIs without a fragment or whitespace, and aud is then the default, the one
 * value, or the values in order without repeats. */
#include <ctype.h>
#include "fuzz.h"
#include "tessera/oauth.h"

#define DEFAULT_RESOURCE "https://api.example.com"
#define MAX_VALUES (TS_RESOURCES_MAX + 2)

static void check_value(const char *v)
{
    const char *colon = strchr(v, ':');

    FUZZ_ASSERT(isalpha((unsigned char)v[0]) && colon != NULL && colon[1] != '\0' && strlen(v) <= 2000);
    for (const char *p = v; *p != '\0'; ++p)
        FUZZ_ASSERT((unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f && *p != '#');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size), *values[MAX_VALUES];
    size_t n = size == 0 ? 0 : fuzz_split(s, '\n', values, MAX_VALUES);
    const char *why = NULL;
    json_t *aud = NULL;
    ts_err_t err = ts_oauth_resources((const char *const *)values, n, DEFAULT_RESOURCE, &aud, &why);

    if (err == TS_OK) {
        FUZZ_ASSERT(n <= TS_RESOURCES_MAX && aud != NULL);
        for (size_t i = 0; i < n; ++i)
            check_value(values[i]);
        if (n == 0) {
            FUZZ_ASSERT(json_is_string(aud) && strcmp(json_string_value(aud), DEFAULT_RESOURCE) == 0);
        } else if (n == 1) {
            FUZZ_ASSERT(json_is_string(aud) && strcmp(json_string_value(aud), values[0]) == 0);
        } else {
            /* the values in order, each once */
            size_t k = 0;
            FUZZ_ASSERT(json_is_array(aud) && json_array_size(aud) >= 1 && json_array_size(aud) <= n);
            for (size_t i = 0; i < n; ++i) {
                int seen = 0;
                for (size_t j = 0; j < i; ++j)
                    seen |= strcmp(values[i], values[j]) == 0;
                if (!seen)
                    FUZZ_ASSERT(strcmp(json_string_value(json_array_get(aud, k++)), values[i]) == 0);
            }
            FUZZ_ASSERT(k == json_array_size(aud));
        }
    } else {
        FUZZ_ASSERT(err == TS_ERR_INVALID_TARGET && aud == NULL && why != NULL);
    }
    json_decref(aud);
    free(s);
    return 0;
}
