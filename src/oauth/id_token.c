/* ID tokens (OpenID Connect Core §2, §3.1.3.6): what the client learns about the sign-in, signed like the
 * access tokens but with typ JWT, so that neither can be passed off as the other. */
#include <string.h>
#include "tessera/oauth_browser.h"

void ts_oauth_at_hash(const char *access_token, char out[23])
{
    unsigned char digest[32];

    /* the hash named by the ID token's alg: SHA-256 for both RS256 and ES256 */
    ts_crypto_sha256(access_token, strlen(access_token), digest);
    ts_b64url_encode(digest, sizeof(digest) / 2, out);
}

/* the profile and email claims the granted scope releases; sub is already there */
static int add_user_claims(json_t *claims, const ts_user_t *user, const char *scope)
{
    json_t *released = ts_oauth_user_claims(user, scope), *value;
    const char *name;

    if (released == NULL)
        return -1;
    json_object_foreach(released, name, value) {
        if (strcmp(name, "sub") != 0 && json_object_get(claims, name) == NULL)
            json_object_set(claims, name, value);
    }
    json_decref(released);
    return 0;
}

static int add_string(json_t *claims, const char *name, const char *value)
{
    return value == NULL || json_object_set_new(claims, name, json_string(value)) == 0 ? 0 : -1;
}

static int add_optional(json_t *claims, const ts_id_token_t *t)
{
    char at_hash[23];

    if (t->auth_time > 0 && json_object_set_new(claims, "auth_time", json_integer(t->auth_time)) != 0)
        return -1;
    if (add_string(claims, "nonce", t->nonce) != 0 || add_string(claims, "acr", t->acr) != 0)
        return -1;
    if (t->access_token != NULL) {
        ts_oauth_at_hash(t->access_token, at_hash);
        if (add_string(claims, "at_hash", at_hash) != 0)
            return -1;
    }
    if (t->amr != NULL && t->amr->len != 0) {
        json_t *amr = json_array();
        for (size_t i = 0; amr != NULL && i < t->amr->len; ++i)
            if (json_array_append_new(amr, json_string(t->amr->items[i])) != 0) {
                json_decref(amr);
                amr = NULL;
            }
        if (json_object_set_new(claims, "amr", amr) != 0)
            return -1;
    }
    return t->user != NULL ? add_user_claims(claims, t->user, t->scope) : 0;
}

int ts_oauth_id_token_sign(const ts_key_t *key, const ts_id_token_t *t, char **out)
{
    json_t *claims;
    int ret = -1;

    *out = NULL;
    /* aud is the one client, so azp adds nothing the RP needs; it is sent anyway because some RPs look for it */
    claims = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "iss", t->issuer, "sub", t->subject, "aud", t->client_id, "azp",
                       /* NOLINTNEXTLINE(bugprone-misplaced-widening-cast): int64_t and json_int_t are both 64 bits wide */
                       t->client_id, "exp", (json_int_t)(t->now + t->ttl), "iat", (json_int_t)t->now);
    if (claims == NULL)
        return -1;
    if (add_optional(claims, t) == 0)
        ret = ts_jws_sign(key, "JWT", claims, out);
    json_decref(claims);
    return ret;
}
