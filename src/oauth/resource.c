/* Resource indicators (RFC 8707): where the access token may be used, carried in `aud`. */
#include <ctype.h>
#include <string.h>
#include "tessera/oauth.h"

#define MAX_RESOURCE 2000

/* absolute URI (scheme ":" hier-part) without a fragment, printable ASCII only */
static int valid_resource(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > MAX_RESOURCE || !isalpha((unsigned char)s[0]))
        return 0;
    const char *colon = strchr(s, ':');
    if (colon == NULL || colon[1] == '\0')
        return 0;
    for (const char *p = s; p < colon; ++p)
        if (!isalnum((unsigned char)*p) && *p != '+' && *p != '-' && *p != '.')
            return 0;
    for (const char *p = s; *p != '\0'; ++p)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '#')
            return 0;
    return 1;
}

ts_err_t ts_oauth_resources(const char *const *values, size_t n, const char *default_resource, json_t **aud, const char **why)
{
    *aud = NULL;
    if (n > TS_RESOURCES_MAX) {
        *why = "too many resource parameters";
        return TS_ERR_INVALID_TARGET;
    }
    for (size_t i = 0; i < n; ++i)
        if (!valid_resource(values[i])) {
            *why = "resource must be an absolute URI without a fragment";
            return TS_ERR_INVALID_TARGET;
        }
    if (n == 0) {
        *aud = json_string(default_resource);
        return TS_OK;
    }
    if (n == 1) {
        *aud = json_string(values[0]);
        return TS_OK;
    }
    *aud = json_array();
    for (size_t i = 0; i < n; ++i) {
        int dup = 0;
        for (size_t j = 0; j < i; ++j)
            dup |= strcmp(values[i], values[j]) == 0;
        if (!dup)
            json_array_append_new(*aud, json_string(values[i]));
    }
    return TS_OK;
}
