/* Dynamic client registration requests (src/http/registration_request.c), as they arrive at POST /register and
 * PUT /register/{client_id}: the bytes are the body (not NUL-terminated). Invariants: an accepted request holds
 * to what a self-registered client may be (a known method, one to three grants, a redirect URI for the code grant,
 * only allowed scopes, PKCE); a refused one has the RFC 7591 error for its field and a NUL-terminated message that
 * names the field and never holds the client_secret it was given (unless another member holds it too: a refused
 * redirect URI is quoted back). */
#include "fuzz.h"
#include "http/registration.h"

#define ALLOWED "openid profile email offline_access api:read"

static int allowed(const char *scope)
{
    char copy[4200];
    snprintf(copy, sizeof(copy), "%s", scope);
    for (char *save = NULL, *tok = strtok_r(copy, " ", &save); tok != NULL; tok = strtok_r(NULL, " ", &save)) {
        char padded[200];
        snprintf(padded, sizeof(padded), " %s ", tok);
        if (strstr(" " ALLOWED " ", padded) == NULL)
            return 0;
    }
    return 1;
}

static void check_accepted(const ts_registration_t *r)
{
    FUZZ_ASSERT(ts_oauth_auth_method_uses_secret(r->token_endpoint_auth_method) || strcmp(r->token_endpoint_auth_method, "none") == 0 ||
                strcmp(r->token_endpoint_auth_method, "private_key_jwt") == 0);
    FUZZ_ASSERT(r->num_grant_types >= 1 && r->num_grant_types <= 3);
    if (ts_registration_has_grant(r, "authorization_code"))
        FUZZ_ASSERT(r->num_redirect_uris >= 1);
    FUZZ_ASSERT(r->scope != NULL && allowed(r->scope));
    FUZZ_ASSERT(json_object_get(r->body, "jwks_uri") == NULL || json_is_null(json_object_get(r->body, "jwks_uri")));
    if (strcmp(r->token_endpoint_auth_method, "private_key_jwt") == 0)
        FUZZ_ASSERT(r->jwks != NULL);
}

/* whether text is in a key or a string value of v (client_secret's own value aside) */
static int appears_in(const json_t *v, const char *text)
{
    const char *key;
    json_t *member;
    size_t i;

    if (json_is_string(v))
        return strstr(json_string_value(v), text) != NULL;
    if (json_is_array(v)) {
        json_array_foreach (v, i, member)
            if (appears_in(member, text))
                return 1;
        return 0;
    }
    json_object_foreach ((json_t *)v, key, member)
        if (strstr(key, text) != NULL || (strcmp(key, "client_secret") != 0 && appears_in(member, text)))
            return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ts_registration_t r;
    char err[512];
    char *text = malloc(size + 1); /* the body's bytes, then a guard: ASan sees any read past them */

    FUZZ_ASSERT(text != NULL);
    memcpy(text, data, size);
    memset(err, 0x7f, sizeof(err));
    ts_err_t e = ts_registration_parse(text, size, "fuzz-client", ALLOWED, &r, err, sizeof(err));
    if (e == TS_OK) {
        check_accepted(&r);
        ts_registration_dispose(&r);
    } else {
        FUZZ_ASSERT(e == TS_ERR_INVALID_CLIENT_METADATA || e == TS_ERR_INVALID_REDIRECT_URI);
        FUZZ_ASSERT(memchr(err, '\0', sizeof(err)) != NULL && strstr(err, ": ") != NULL);
        FUZZ_ASSERT((e == TS_ERR_INVALID_REDIRECT_URI) == (strncmp(err, "redirect_uris", 13) == 0));
        /* a secret of some length never comes back in a message */
        json_t *doc = json_loadb(text, size, JSON_REJECT_DUPLICATES, NULL);
        const char *secret = json_string_value(json_object_get(doc, "client_secret"));
        if (secret != NULL && strlen(secret) >= 12 && !appears_in(doc, secret))
            FUZZ_ASSERT(strstr(err, secret) == NULL);
        json_decref(doc);
    }
    free(text);
    return 0;
}
