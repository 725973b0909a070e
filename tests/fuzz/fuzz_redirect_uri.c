/* The validators of src/oauth/client_metadata.c on one string: redirect URIs (RFC 8252 §7, RFC 9700 §2.1)
 * first, then the other registered values (client_id, names, e-mail, scope, secret, grant type, method).
 * The input is a C string as the CLI or an apply file gives it. Invariants: an accepted redirect URI has no
 * fragment, wildcard, userinfo, whitespace or control character, and plain http only on a loopback host;
 * every message fits its buffer, even a tiny one, and is NUL-terminated. */
#include <strings.h>
#include "fuzz.h"
#include "tessera/oauth_metadata.h"

#define SMALL 24

/* host of "scheme://authority..." as the validator should see it */
static int is_loopback_http(const char *uri)
{
    const char *auth = uri + strlen("http://"), *end = auth + strcspn(auth, "/?");
    const char *host_end = *auth == '[' ? memchr(auth, ']', (size_t)(end - auth)) : memchr(auth, ':', (size_t)(end - auth));

    if (*auth == '[' && host_end == NULL)
        return 0;
    host_end = *auth == '[' ? host_end + 1 : host_end != NULL ? host_end : end;
    size_t n = (size_t)(host_end - auth);
    return (n == 9 && strncasecmp(auth, "127.0.0.1", n) == 0) || (n == 5 && strncasecmp(auth, "[::1]", n) == 0) ||
           (n == 9 && strncasecmp(auth, "localhost", n) == 0);
}

static void check_accepted_uri(const char *uri)
{
    size_t len = strlen(uri);

    FUZZ_ASSERT(len > 0 && len <= TS_REDIRECT_URI_MAX);
    FUZZ_ASSERT(strchr(uri, '#') == NULL && strchr(uri, '*') == NULL);
    for (size_t i = 0; i < len; ++i)
        FUZZ_ASSERT((unsigned char)uri[i] > 0x20 && (unsigned char)uri[i] < 0x7f && strchr("\"<>\\^`{|}", uri[i]) == NULL);
    if (strncasecmp(uri, "http://", 7) == 0 || strncasecmp(uri, "https://", 8) == 0) {
        const char *auth = strstr(uri, "//") + 2;
        FUZZ_ASSERT(memchr(auth, '@', strcspn(auth, "/?")) == NULL);
        FUZZ_ASSERT(strcspn(auth, "/?") > 0);
    } else {
        FUZZ_ASSERT(strncasecmp(uri, "http:", 5) != 0 && strncasecmp(uri, "https:", 6) != 0);
    }
    if (strncasecmp(uri, "http://", 7) == 0)
        FUZZ_ASSERT(is_loopback_http(uri));
}

/* r = check with a roomy buffer and with a tiny one: the same verdict, and both messages terminated */
#define BOTH(r, call_big, call_small)                                                                                              \
    do {                                                                                                                           \
        memset(big, 0x7f, sizeof(big));                                                                                            \
        memset(small, 0x7f, SMALL);                                                                                                \
        int r1_ = (call_big), r2_ = (call_small);                                                                                  \
        FUZZ_ASSERT(r1_ == r2_ && (r1_ == 0 || r1_ == -1));                                                                        \
        if (r1_ != 0)                                                                                                              \
            FUZZ_ASSERT(memchr(big, '\0', sizeof(big)) != NULL && memchr(small, '\0', SMALL) != NULL);                             \
        r = r1_;                                                                                                                   \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size), big[512];
    char *small = malloc(SMALL); /* exactly sized: ASan sees a message that overruns it */
    int r;

    FUZZ_ASSERT(small != NULL);
    BOTH(r, ts_oauth_check_redirect_uri("redirect_uris[0]", s, big, sizeof(big)),
         ts_oauth_check_redirect_uri("redirect_uris[0]", s, small, SMALL));
    if (r == 0)
        check_accepted_uri(s);
    BOTH(r, ts_oauth_check_client_id(s, big, sizeof(big)), ts_oauth_check_client_id(s, small, SMALL));
    BOTH(r, ts_oauth_check_username("username", s, big, sizeof(big)), ts_oauth_check_username("username", s, small, SMALL));
    BOTH(r, ts_oauth_check_role_name("name", s, big, sizeof(big)), ts_oauth_check_role_name("name", s, small, SMALL));
    BOTH(r, ts_oauth_check_email("email", s, big, sizeof(big)), ts_oauth_check_email("email", s, small, SMALL));
    BOTH(r, ts_oauth_check_text("client_name", s, TS_CLIENT_NAME_MAX, big, sizeof(big)),
         ts_oauth_check_text("client_name", s, TS_CLIENT_NAME_MAX, small, SMALL));
    BOTH(r, ts_oauth_check_scope("scope", s, big, sizeof(big)), ts_oauth_check_scope("scope", s, small, SMALL));
    BOTH(r, ts_oauth_check_client_secret("client_secret", s, big, sizeof(big)),
         ts_oauth_check_client_secret("client_secret", s, small, SMALL));
    BOTH(r, ts_oauth_check_grant_type("grant_types[0]", s, big, sizeof(big)),
         ts_oauth_check_grant_type("grant_types[0]", s, small, SMALL));
    BOTH(r, ts_oauth_check_auth_method("token_endpoint_auth_method", s, big, sizeof(big)),
         ts_oauth_check_auth_method("token_endpoint_auth_method", s, small, SMALL));
    free(small);
    free(s);
    return 0;
}
