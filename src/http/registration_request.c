/* A registration request, as src/http/registration.h describes. The declared fields use the admin API's
 * schema checker (types, bounds, formats); what only a self-registering client is held to follows it. */
#include <stdio.h>
#include <string.h>
#include "http/admin_schema.h"
#include "http/registration.h"

static const char *const auth_methods[] = {"client_secret_basic", "client_secret_post", "private_key_jwt", "none", NULL};
static const char *const grant_types[] = {"authorization_code", "client_credentials", "refresh_token", NULL};
static const char *const response_types[] = {"code", NULL};
static const char *const id_token_algs[] = {"RS256", "ES256", NULL};

/* Fields RFC 7591 defines that are stored elsewhere or not at all (client_uri, logo_uri, contacts, tos_uri,
 * policy_uri, software_id, software_version, software_statement) are ignored with every other unknown member.
 * client_secret_expires_at, client_id_issued_at, registration_access_token and registration_client_uri are the
 * server's to say (RFC 7592 §2.2): ignored too. */
static const ts_admin_field_t fields[] = {
    {.name = "client_id", .type = TS_ADMIN_STRING, .min = 1, .max = TS_CLIENT_ID_MAX, .format = TS_ADMIN_CLIENT_ID},
    {.name = "client_secret", .type = TS_ADMIN_STRING, .flags = TS_ADMIN_SECRET, .min = 1, .max = TS_CLIENT_SECRET_MAX},
    {.name = "client_name", .type = TS_ADMIN_STRING, .flags = TS_ADMIN_NULLABLE, .min = 1, .max = TS_CLIENT_NAME_MAX,
     .format = TS_ADMIN_TEXT},
    {.name = "token_endpoint_auth_method", .type = TS_ADMIN_STRING, .flags = TS_ADMIN_NULLABLE, .max = 32,
     .enum_values = auth_methods},
    {.name = "grant_types", .type = TS_ADMIN_STRINGS, .flags = TS_ADMIN_NULLABLE, .min = 1, .max = 3, .item_max = 32,
     .enum_values = grant_types},
    {.name = "response_types", .type = TS_ADMIN_STRINGS, .flags = TS_ADMIN_NULLABLE, .max = 1, .item_max = 32,
     .enum_values = response_types},
    {.name = "redirect_uris", .type = TS_ADMIN_STRINGS, .flags = TS_ADMIN_NULLABLE, .max = TS_REDIRECT_URIS_MAX,
     .item_max = TS_REDIRECT_URI_MAX, .format = TS_ADMIN_URI},
    {.name = "post_logout_redirect_uris", .type = TS_ADMIN_STRINGS, .flags = TS_ADMIN_NULLABLE, .max = TS_REDIRECT_URIS_MAX,
     .item_max = TS_REDIRECT_URI_MAX, .format = TS_ADMIN_URI},
    {.name = "scope", .type = TS_ADMIN_STRING, .flags = TS_ADMIN_NULLABLE, .min = 1, .max = 4096, .format = TS_ADMIN_SCOPE},
    {.name = "jwks", .type = TS_ADMIN_OBJECT, .flags = TS_ADMIN_NULLABLE, .format = TS_ADMIN_JWKS},
    {.name = "id_token_signed_response_alg", .type = TS_ADMIN_STRING, .flags = TS_ADMIN_NULLABLE, .max = 8,
     .enum_values = id_token_algs},
    {.name = NULL},
};
static const ts_admin_schema_t schema = {"client registration", fields, NULL, 1};

static ts_err_t refuse(const char *msg, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s", msg);
    return strncmp(msg, "redirect_uris", 13) == 0 ? TS_ERR_INVALID_REDIRECT_URI : TS_ERR_INVALID_CLIENT_METADATA;
}

static const char *string_of(const json_t *body, const char *name)
{
    return json_string_value(ts_admin_field(body, name));
}

/* the strings of the array body[name] (checked by the schema) into items */
static size_t strings_of(const json_t *body, const char *name, const char **items)
{
    const json_t *arr = ts_admin_field(body, name), *v;
    size_t i;
    json_array_foreach(arr, i, v) {
        items[i] = json_string_value(v);
    }
    return arr != NULL ? json_array_size(arr) : 0;
}

int ts_registration_has_grant(const ts_registration_t *r, const char *grant_type)
{
    for (size_t i = 0; i < r->num_grant_types; ++i)
        if (strcmp(r->grant_types[i], grant_type) == 0)
            return 1;
    return 0;
}

/* RFC 7591 §2.1: response type code goes with the authorization_code grant, and only with it */
static int check_response_types(const ts_registration_t *r, char *err, size_t errlen)
{
    const json_t *rt = ts_admin_field(r->body, "response_types");
    int code = rt != NULL && json_array_size(rt) == 1, wants_code = ts_registration_has_grant(r, "authorization_code");

    if (rt == NULL || code == wants_code)
        return 0;
    snprintf(err, errlen, "response_types: %s", wants_code ? "must be [\"code\"] for the authorization_code grant"
                                                           : "must be empty unless grant_types has authorization_code");
    return -1;
}

/* every token of scope is one of allowed's */
static int check_allowed_scopes(const char *scope, const char *allowed, char *err, size_t errlen)
{
    for (const char *p = scope; *p != '\0';) {
        size_t n = strcspn(p, " "), found = 0;
        for (const char *a = allowed; *a != '\0' && !found;) {
            size_t m = strcspn(a, " ");
            found = m == n && memcmp(a, p, n) == 0;
            a += m + (a[m] == ' ');
        }
        if (!found) {
            snprintf(err, errlen, "scope: '%.*s' cannot be registered here (registration_scopes allows '%.200s')", (int)(n > 128 ? 128 : n),
                     p, allowed);
            return -1;
        }
        p += n + (p[n] == ' ');
    }
    return 0;
}

ts_err_t ts_registration_parse(const char *text, size_t len, const char *client_id, const char *allowed_scopes,
                               ts_registration_t *out, char *err, size_t errlen)
{
    char msg[512];
    ts_registration_t *r = out;

    memset(r, 0, sizeof(*r));
    if ((r->body = ts_admin_schema_parse(&schema, text, len, msg, sizeof(msg))) == NULL)
        return refuse(msg, err, errlen);
    if (ts_admin_field(r->body, "jwks_uri") != NULL) {
        ts_registration_dispose(r);
        return refuse("jwks_uri: not supported; send the public keys as jwks", err, errlen);
    }
    r->client_id = string_of(r->body, "client_id");
    r->client_secret = string_of(r->body, "client_secret");
    r->client_name = string_of(r->body, "client_name");
    r->token_endpoint_auth_method = string_of(r->body, "token_endpoint_auth_method");
    if (r->token_endpoint_auth_method == NULL)
        r->token_endpoint_auth_method = "client_secret_basic";
    if ((r->num_grant_types = strings_of(r->body, "grant_types", r->grant_types)) == 0) {
        r->grant_types[0] = "authorization_code";
        r->num_grant_types = 1;
    }
    r->num_redirect_uris = strings_of(r->body, "redirect_uris", r->redirect_uris);
    r->num_post_logout_redirect_uris = strings_of(r->body, "post_logout_redirect_uris", r->post_logout_redirect_uris);
    r->scope = string_of(r->body, "scope");
    if (r->scope == NULL)
        r->scope = allowed_scopes;
    r->jwks = ts_admin_field(r->body, "jwks");
    r->id_token_signed_response_alg = string_of(r->body, "id_token_signed_response_alg");
    if (r->id_token_signed_response_alg == NULL)
        r->id_token_signed_response_alg = "RS256";

    ts_client_metadata_t md = {
        .client_id = client_id,
        .client_name = r->client_name,
        .token_endpoint_auth_method = r->token_endpoint_auth_method,
        .grant_types = r->grant_types,
        .num_grant_types = r->num_grant_types,
        .redirect_uris = r->redirect_uris,
        .num_redirect_uris = r->num_redirect_uris,
        .post_logout_redirect_uris = r->post_logout_redirect_uris,
        .num_post_logout_redirect_uris = r->num_post_logout_redirect_uris,
        .scope = r->scope,
        .default_scope = r->scope,
        .jwks = r->jwks,
        .id_token_signed_response_alg = r->id_token_signed_response_alg,
        .require_pkce = 1, /* a self-registered client always uses PKCE */
    };
    if (check_response_types(r, msg, sizeof(msg)) != 0 || check_allowed_scopes(r->scope, allowed_scopes, msg, sizeof(msg)) != 0 ||
        ts_oauth_check_client_metadata(&md, msg, sizeof(msg)) != 0) {
        ts_registration_dispose(r);
        return refuse(msg, err, errlen);
    }
    return TS_OK;
}

void ts_registration_dispose(ts_registration_t *r)
{
    json_decref(r->body);
    memset(r, 0, sizeof(*r));
}
