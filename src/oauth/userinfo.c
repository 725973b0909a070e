/* The user's claims as the granted scope releases them (OpenID Connect Core §5.4), for the UserInfo endpoint
 * and the ID token alike, so both always say the same thing. */
#include <string.h>
#include "tessera/oauth_browser.h"

/* the ID token's own claims, then those ts_oauth_user_claims can release */
const char *const ts_oauth_claims_supported[] = {"sub",
                                                 "iss",
                                                 "aud",
                                                 "exp",
                                                 "iat",
                                                 "auth_time",
                                                 "nonce",
                                                 "at_hash",
                                                 "acr",
                                                 "amr",
                                                 "azp",
                                                 "name",
                                                 "preferred_username",
                                                 "email",
                                                 "email_verified",
                                                 NULL};

/* a claim whose value is unknown is left out rather than sent empty (§5.3.2) */
static int add_string(json_t *claims, const char *name, const char *value)
{
    if (value == NULL || *value == '\0')
        return 0;
    return json_object_set_new(claims, name, json_string(value));
}

json_t *ts_oauth_user_claims(const ts_user_t *user, const char *scope)
{
    json_t *claims = json_object();
    int failed;

    if (claims == NULL)
        return NULL;
    failed = add_string(claims, "sub", user->subject) != 0;
    if (ts_scope_subset("profile", scope))
        failed |= add_string(claims, "name", user->name) != 0 || add_string(claims, "preferred_username", user->username) != 0;
    if (ts_scope_subset("email", scope) && user->email != NULL && *user->email != '\0')
        failed |= add_string(claims, "email", user->email) != 0 ||
                  json_object_set_new(claims, "email_verified", json_boolean(user->email_verified)) != 0;
    if (failed) {
        json_decref(claims);
        return NULL;
    }
    return claims;
}
