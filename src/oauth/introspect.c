/* What RFC 7662 says about a verified access token, judged against this moment's directory and revocations:
 * a revoked token, a disabled client or user, or a role change shows at the very next introspection. */
#include <string.h>
#include "tessera/oauth.h"

static json_t *roles_json(const ts_strs_t *roles)
{
    json_t *a = json_array();
    for (size_t i = 0; i < roles->len; ++i)
        json_array_append_new(a, json_string(roles->items[i]));
    return a;
}

json_t *ts_oauth_introspect_access_token(const ts_introspect_ctx_t *ctx, const json_t *claims)
{
    const char *iss = json_string_value(json_object_get(claims, "iss")), *sub = json_string_value(json_object_get(claims, "sub"));
    const char *client_id = json_string_value(json_object_get(claims, "client_id"));
    const char *jti = json_string_value(json_object_get(claims, "jti")), *gid = json_string_value(json_object_get(claims, "grant_id"));
    json_t *exp = json_object_get(claims, "exp"), *iat = json_object_get(claims, "iat"), *nbf = json_object_get(claims, "nbf");
    const ts_client_t *client;
    const ts_strs_t *roles;

    if (iss == NULL || strcmp(iss, ctx->issuer) != 0 || sub == NULL || client_id == NULL || jti == NULL || !json_is_integer(exp) ||
        !json_is_integer(iat))
        return NULL;
    if (json_integer_value(exp) <= ctx->now || (nbf != NULL && (!json_is_integer(nbf) || json_integer_value(nbf) > ctx->now)))
        return NULL;
    if (ts_revoked_has(ctx->revoked, TS_REVOKED_JTI, jti) || (gid != NULL && ts_revoked_has(ctx->revoked, TS_REVOKED_FAMILY, gid)))
        return NULL;
    if ((client = ts_directory_client(ctx->dir, client_id)) == NULL || !client->active)
        return NULL;
    if (strcmp(sub, client_id) == 0 && !json_object_get(claims, "auth_time")) {
        roles = &client->roles;
    } else {
        const ts_user_t *user = ts_directory_user(ctx->dir, sub);
        if (user == NULL || !user->active)
            return NULL;
        roles = &user->roles;
    }

    json_t *r = json_pack("{s:b, s:s, s:s, s:s, s:O, s:O, s:s, s:s, s:o}", "active", 1, "iss", iss, "sub", sub, "client_id", client_id,
                          "exp", exp, "iat", iat, "jti", jti, "token_type", "Bearer", "roles", roles_json(roles));
    json_t *scope = json_object_get(claims, "scope"), *aud = json_object_get(claims, "aud");
    if (r != NULL && json_is_string(scope))
        json_object_set(r, "scope", scope);
    if (r != NULL && aud != NULL)
        json_object_set(r, "aud", aud);
    return r;
}
