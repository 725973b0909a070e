/* Who may use the admin API: a bearer access token signed by this server (RFC 9068), judged as introspection
 * judges it (signature with our algorithms and keys, expiry, revocation, its client and user still active),
 * addressed to this server, carrying the tessera:admin scope, whose subject holds the admin role at this
 * moment (a role taken away takes effect at the next request, not when the token expires). Dangerous
 * operations also need a recent sign-in (RFC 9470 step-up). Nothing here touches the database. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "http/admin.h"
#include "tessera/oauth.h"

#define REALM "Bearer realm=\"tessera-admin\""

static int unauthorized(h2o_req_t *req, const char *error, const char *why)
{
    char value[256];
    if (error != NULL)
        snprintf(value, sizeof(value), "%s, error=\"%s\", error_description=\"%s\"", REALM, error, why);
    else
        snprintf(value, sizeof(value), "%s", REALM);
    ts_http_header(req, "www-authenticate", value);
    ts_http_send_error(req, TS_ERR_INVALID_TOKEN, why);
    return -1;
}

static int forbidden(h2o_req_t *req, const char *why)
{
    char value[256];
    snprintf(value, sizeof(value), "%s, error=\"insufficient_scope\", scope=\"%s\", error_description=\"%s\"", REALM,
             TS_ADMIN_API_SCOPE, why);
    ts_http_header(req, "www-authenticate", value);
    ts_http_send_error(req, TS_ERR_INSUFFICIENT_SCOPE, why);
    return -1;
}

static int has_token(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; p != NULL && *p != '\0';) {
        size_t m = strcspn(p, " ");
        if (m == n && strncmp(p, word, n) == 0)
            return 1;
        p += m + (p[m] == ' ');
    }
    return 0;
}

static int array_has(const json_t *arr, const char *s)
{
    size_t i;
    const json_t *v;
    if (json_is_string(arr))
        return strcmp(json_string_value(arr), s) == 0;
    json_array_foreach(arr, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
            return 1;
    }
    return 0;
}

/* the verdict on a token that verified: 0 with *out filled, else the response is sent and -1 returned */
static int judge(h2o_req_t *req, const ts_app_t *app, const ts_directory_t *dir, const json_t *claims, int64_t now,
                 ts_admin_caller_t *out)
{
    ts_introspect_ctx_t ictx = {dir, app->snaps->revoked, app->conf->issuer, now};
    json_t *answer = ts_oauth_introspect_access_token(&ictx, claims);
    const json_t *auth_time = json_object_get(claims, "auth_time");
    int ret = -1;

    if (answer == NULL)
        return unauthorized(req, "invalid_token", "the access token is not active");
    /* RFC 9068 §4: a token addressed to some other resource is not for us, whatever its scope says */
    if (!array_has(json_object_get(answer, "aud"), app->conf->issuer)) {
        unauthorized(req, "invalid_token", "the access token is not addressed to this server");
        goto exit;
    }
    if (!has_token(json_string_value(json_object_get(answer, "scope")), TS_ADMIN_API_SCOPE)) {
        forbidden(req, "the access token lacks the " TS_ADMIN_API_SCOPE " scope");
        goto exit;
    }
    if (!array_has(json_object_get(answer, "roles"), TS_ADMIN_API_ROLE)) {
        forbidden(req, "the token's subject does not hold the " TS_ADMIN_API_ROLE " role");
        goto exit;
    }
    out->subject = ts_http_strdup(req, json_string_value(json_object_get(answer, "sub")));
    out->client_id = ts_http_strdup(req, json_string_value(json_object_get(answer, "client_id")));
    out->auth_time = json_is_integer(auth_time) && json_integer_value(auth_time) > 0 ? (int64_t)json_integer_value(auth_time) : 0;
    ret = 0;
exit:
    json_decref(answer);
    return ret;
}

int ts_admin_authenticate_or_reply(h2o_req_t *req, const ts_app_t *app, int64_t now, ts_admin_caller_t *out)
{
    const char *why, *token;
    size_t len = 0;
    json_t *claims = NULL;
    int ret;

    memset(out, 0, sizeof(*out));
    if ((token = ts_http_bearer_token(req, &len, &why)) == NULL) {
        if (why == NULL) /* RFC 6750 §3.1: no credentials we take, so no error code */
            return unauthorized(req, NULL, "a bearer access token with the " TS_ADMIN_API_SCOPE " scope is required");
        ts_http_send_error(req, TS_ERR_INVALID_REQUEST, why);
        return -1;
    }
    ts_directory_t *dir = (ts_directory_t *)ts_slot_acquire(&app->snaps->directory);
    ts_keyring_t *ring = (ts_keyring_t *)ts_slot_acquire(&app->snaps->keyring);
    if (dir == NULL || ring == NULL) {
        ts_http_header(req, "retry-after", "1");
        ts_http_send_error(req, TS_ERR_TEMPORARILY_UNAVAILABLE, NULL);
        ret = -1;
    } else if (ts_jws_verify(token, len, TS_ALG_MASK(TS_ALG_ES256) | TS_ALG_MASK(TS_ALG_RS256), "at+jwt", ts_keyring_lookup, ring,
                             &claims, NULL) != TS_JWS_OK) {
        ret = unauthorized(req, "invalid_token", "the access token is invalid");
    } else {
        ret = judge(req, app, dir, claims, now, out);
    }
    json_decref(claims);
    if (dir != NULL)
        ts_ref_release(&dir->super);
    if (ring != NULL)
        ts_ref_release(&ring->super);
    return ret;
}

int ts_admin_step_up_or_reply(ts_admin_req_t *ar)
{
    unsigned max_age = ar->app->conf->admin_step_up_max_age;
    char value[384];
    const char *why;

    if (ar->caller.auth_time == 0)
        why = "this operation needs a person's recent sign-in; a token without one (client credentials) cannot do it";
    else if (ar->now - ar->caller.auth_time > (int64_t)max_age)
        why = "this operation needs a more recent sign-in";
    else
        return 0;
    /* RFC 9470 §3: max_age tells the client what to ask for at the authorization endpoint */
    snprintf(value, sizeof(value), "%s, error=\"insufficient_user_authentication\", error_description=\"%s\", max_age=%u", REALM,
             why, max_age);
    ts_http_header(ar->req, "www-authenticate", value);
    ts_http_send_error(ar->req, TS_ERR_INSUFFICIENT_USER_AUTHENTICATION, why);
    return -1;
}
