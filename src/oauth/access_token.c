/* JWT access tokens per RFC 9068. */
#include <string.h>
#include "tessera/oauth.h"

int ts_oauth_access_token_sign(const ts_key_t *key, const ts_access_token_t *t, char **out, char jti[TS_JTI_LEN + 1])
{
    unsigned char raw[16];
    json_t *claims, *roles;
    int ret;

    if (ts_crypto_random(raw, sizeof(raw)) != 0)
        return -1;
    ts_b64url_encode(raw, sizeof(raw), jti);
    if ((roles = json_array()) == NULL)
        return -1;
    for (size_t i = 0; t->roles != NULL && i < t->roles->len; ++i)
        json_array_append_new(roles, json_string(t->roles->items[i]));
    claims = json_pack("{s:s, s:s, s:O, s:s, s:o, s:I, s:I, s:s}", "iss", t->issuer, "sub", t->subject, "aud", t->aud, "client_id",
                       /* NOLINTNEXTLINE(bugprone-misplaced-widening-cast): int64_t and json_int_t are both 64 bits wide */
                       t->client_id, "roles", roles, "iat", (json_int_t)t->now, "exp", (json_int_t)(t->now + t->ttl), "jti", jti);
    if (claims == NULL)
        return -1;
    if (t->scope != NULL && *t->scope != '\0')
        json_object_set_new(claims, "scope", json_string(t->scope));
    if (t->grant_id != NULL)
        json_object_set_new(claims, "grant_id", json_string(t->grant_id));
    if (t->auth_time != 0)
        json_object_set_new(claims, "auth_time", json_integer(t->auth_time));
    ret = ts_jws_sign(key, "at+jwt", claims, out);
    json_decref(claims);
    return ret;
}
