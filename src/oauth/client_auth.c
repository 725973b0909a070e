/* Client authentication at the token, introspection and revocation endpoints (RFC 6749 §2.3, RFC 7523).
 * Exactly one method per request, and only the one the client registered. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "tessera/oauth.h"
#include "tessera/text.h"

#define MAX_CREDENTIAL 512
#define ENCODED_MAX (3 * MAX_CREDENTIAL) /* every byte may arrive as %XX */

static ts_err_t reject(ts_client_auth_t *out, ts_err_t err, const char *why)
{
    out->client = NULL;
    out->why = why;
    return err;
}

/* "Basic base64(urlencode(id) ":" urlencode(secret))"; id and secret (each MAX_CREDENTIAL + 1 bytes) receive the
 * decoded parts. The limits apply after decoding: a legal secret may take three times its length encoded. */
static int parse_basic(const char *h, size_t len, char *id, char *secret)
{
    unsigned char raw[2 * ENCODED_MAX + 2];
    char part[ENCODED_MAX + 1];
    ssize_t n, dn;

    if (len < 6 || strncasecmp(h, "Basic ", 6) != 0)
        return -1;
    h += 6, len -= 6;
    while (len > 0 && *h == ' ')
        ++h, --len;
    if ((n = ts_base64_decode(h, len, raw, sizeof(raw) - 1)) < 0)
        return -1;
    raw[n] = '\0';
    if (memchr(raw, '\0', (size_t)n) != NULL)
        return -1;
    const char *colon = strchr((const char *)raw, ':');
    if (colon == NULL)
        return -1;
    size_t idlen = (size_t)(colon - (const char *)raw), secretlen = (size_t)n - idlen - 1;
    if (idlen == 0 || idlen > ENCODED_MAX || secretlen > ENCODED_MAX)
        return -1;
    if ((dn = ts_form_decode((const char *)raw, idlen, part)) < 0 || dn > MAX_CREDENTIAL)
        return -1;
    memcpy(id, part, (size_t)dn + 1); /* Flawfinder: ignore - dn <= MAX_CREDENTIAL checked above; id has MAX_CREDENTIAL + 1 */
    if ((dn = ts_form_decode(colon + 1, secretlen, part)) < 0 || dn > MAX_CREDENTIAL) {
        ts_crypto_cleanse(part, sizeof(part));
        return -1;
    }
    /* Flawfinder: ignore (next line) - dn <= MAX_CREDENTIAL checked above; secret has MAX_CREDENTIAL + 1 */
    memcpy(secret, part, (size_t)dn + 1);
    ts_crypto_cleanse(part, sizeof(part));
    ts_crypto_cleanse(raw, sizeof(raw));
    return 0;
}

static int secret_matches(const ts_client_auth_ctx_t *ctx, const ts_client_t *c, const char *secret)
{
    int ok = 0;
    size_t len = strlen(secret);
    /* every live secret is checked, so the time taken does not depend on which one matched */
    for (size_t i = 0; i < c->num_secrets; ++i) {
        int live = c->secrets[i].expires_at == 0 || c->secrets[i].expires_at > ctx->now;
        ok |= ts_secret_verify(ctx->hasher, secret, len, c->secrets[i].hash) & live;
    }
    return ok;
}

/* credentials that prove the client still fail when it is disabled, but then the caller knows why */
static ts_err_t accept_if_active(const ts_client_t *c, ts_client_auth_t *out)
{
    if (!c->active) {
        out->disabled = 1;
        return reject(out, TS_ERR_INVALID_CLIENT, "client authentication failed");
    }
    out->client = c;
    return TS_OK;
}

static ts_err_t by_secret(const ts_client_auth_ctx_t *ctx, const char *id, const char *secret, ts_auth_method_t method,
                          ts_client_auth_t *out)
{
    const ts_client_t *c = ts_directory_client(ctx->dir, id);

    out->method = method;
    out->claimed = c;
    if (c == NULL || c->auth_method != method || !secret_matches(ctx, c, secret))
        return reject(out, TS_ERR_INVALID_CLIENT, "client authentication failed");
    return accept_if_active(c, out);
}

/* ---- private_key_jwt ---------------------------------------------------------------------------- */

static const ts_key_t *client_key(void *cb_ctx, const char *kid, ts_jws_alg_t alg)
{
    const ts_client_t *c = cb_ctx;
    const ts_key_t *only = NULL;
    size_t candidates = 0;

    for (size_t i = 0; i < c->num_keys; ++i) {
        if (ts_key_alg(c->keys[i]) != alg)
            continue;
        if (kid != NULL && strcmp(ts_key_kid(c->keys[i]), kid) == 0)
            return c->keys[i];
        only = c->keys[i];
        ++candidates;
    }
    /* without a kid, only an unambiguous key will do */
    return kid == NULL && candidates == 1 ? only : NULL;
}

/* the unverified `sub` of an assertion, to know whose keys to verify it with */
static int assertion_subject(const char *jwt, char *sub, size_t cap)
{
    const char *dot1 = strchr(jwt, '.'), *dot2 = dot1 != NULL ? strchr(dot1 + 1, '.') : NULL;
    unsigned char payload[TS_JWS_MAX_LEN];
    size_t n;
    json_t *claims;
    int ret = -1;

    if (dot2 == NULL || ts_b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), payload, sizeof(payload), &n) != 0)
        return -1;
    if ((claims = json_loadb((const char *)payload, n, JSON_REJECT_DUPLICATES, NULL)) == NULL)
        return -1;
    const char *s = json_string_value(json_object_get(claims, "sub"));
    if (s != NULL && strlen(s) < cap) {
        strcpy(sub, s); /* Flawfinder: ignore - strlen(s) < cap checked just above */
        ret = 0;
    }
    json_decref(claims);
    return ret;
}

/* NOLINTNEXTLINE(misc-no-recursion): one level at most: an array recurses only into its string elements */
static int audience_ok(const ts_client_auth_ctx_t *ctx, const json_t *aud)
{
    if (json_is_string(aud)) {
        const char *a = json_string_value(aud);
        return strcmp(a, ctx->issuer) == 0 || (ctx->endpoint_url != NULL && strcmp(a, ctx->endpoint_url) == 0);
    }
    size_t i;
    json_t *v;
    /* RFC 7519 §4.1.3: a string or an array of strings, nothing deeper */
    json_array_foreach(aud, i, v)
    {
        if (json_is_string(v) && audience_ok(ctx, v))
            return 1;
    }
    return 0;
}

static ts_err_t check_assertion_claims(const ts_client_auth_ctx_t *ctx, const ts_client_t *c, const json_t *claims,
                                       ts_client_auth_t *out)
{
    const char *iss = json_string_value(json_object_get(claims, "iss")), *sub = json_string_value(json_object_get(claims, "sub"));
    const char *jti = json_string_value(json_object_get(claims, "jti"));
    json_t *exp = json_object_get(claims, "exp"), *iat = json_object_get(claims, "iat"), *nbf = json_object_get(claims, "nbf");

    if (iss == NULL || sub == NULL || strcmp(iss, c->client_id) != 0 || strcmp(sub, c->client_id) != 0)
        return reject(out, TS_ERR_INVALID_CLIENT, "client assertion: iss and sub must be the client_id");
    if (!audience_ok(ctx, json_object_get(claims, "aud")))
        return reject(out, TS_ERR_INVALID_CLIENT, "client assertion: aud must name this authorization server");
    if (!json_is_integer(exp) || json_integer_value(exp) <= ctx->now)
        return reject(out, TS_ERR_INVALID_CLIENT, "client assertion: expired or without exp");
    if (json_integer_value(exp) > ctx->now + TS_CLIENT_ASSERTION_MAX_LIFETIME)
        return reject(out, TS_ERR_INVALID_CLIENT, "client assertion: exp too far in the future");
    /* a little clock skew is tolerated for iat and nbf, as FAPI 2.0 expects */
    if ((iat != NULL && (!json_is_integer(iat) || json_integer_value(iat) > ctx->now + 10)) ||
        (nbf != NULL && (!json_is_integer(nbf) || json_integer_value(nbf) > ctx->now + 10)))
        return reject(out, TS_ERR_INVALID_CLIENT, "client assertion: not yet valid");
    if (jti == NULL || *jti == '\0' || strlen(jti) >= sizeof(out->jti))
        return reject(out, TS_ERR_INVALID_CLIENT, "client assertion: jti missing or too long");
    strcpy(out->jti, jti); /* Flawfinder: ignore - strlen(jti) < sizeof(out->jti) checked above */
    out->assertion_exp = json_integer_value(exp);
    return TS_OK;
}

static ts_err_t by_assertion(const ts_client_auth_ctx_t *ctx, const ts_client_credentials_t *in, ts_client_auth_t *out)
{
    char sub[MAX_CREDENTIAL + 1];
    const ts_client_t *c;
    json_t *claims = NULL;

    out->method = TS_AUTH_PRIVATE_KEY_JWT;
    if (in->client_assertion_type == NULL || strcmp(in->client_assertion_type, TS_CLIENT_ASSERTION_TYPE) != 0)
        return reject(out, TS_ERR_INVALID_REQUEST, "client_assertion_type must be " TS_CLIENT_ASSERTION_TYPE);
    if (in->client_assertion == NULL || assertion_subject(in->client_assertion, sub, sizeof(sub)) != 0)
        return reject(out, TS_ERR_INVALID_CLIENT, "client assertion is malformed");
    if (in->client_id != NULL && strcmp(in->client_id, sub) != 0)
        return reject(out, TS_ERR_INVALID_CLIENT, "client_id does not match the client assertion");
    c = ts_directory_client(ctx->dir, sub);
    out->claimed = c;
    if (c == NULL || c->auth_method != TS_AUTH_PRIVATE_KEY_JWT)
        return reject(out, TS_ERR_INVALID_CLIENT, "client authentication failed");
    if (ts_jws_verify(in->client_assertion, strlen(in->client_assertion), TS_ALG_MASK(TS_ALG_RS256) | TS_ALG_MASK(TS_ALG_ES256), NULL,
                      client_key, (void *)c, &claims, NULL) != TS_JWS_OK)
        return reject(out, TS_ERR_INVALID_CLIENT, "client assertion signature is invalid");
    ts_err_t err = check_assertion_claims(ctx, c, claims, out);
    json_decref(claims);
    return err == TS_OK ? accept_if_active(c, out) : err;
}

ts_err_t ts_oauth_client_authenticate(const ts_client_auth_ctx_t *ctx, const ts_client_credentials_t *in, ts_client_auth_t *out)
{
    char id[MAX_CREDENTIAL + 1], secret[MAX_CREDENTIAL + 1];
    int methods = (in->authorization != NULL) + (in->client_secret != NULL) + (in->client_assertion != NULL);
    ts_err_t err;

    memset(out, 0, sizeof(*out));
    out->basic_attempted = in->authorization != NULL;
    if (methods > 1)
        return reject(out, TS_ERR_INVALID_REQUEST, "more than one client authentication method");
    if (in->client_assertion != NULL || in->client_assertion_type != NULL)
        return by_assertion(ctx, in, out);
    if (in->authorization != NULL) {
        if (parse_basic(in->authorization, in->authorization_len, id, secret) != 0)
            return reject(out, TS_ERR_INVALID_CLIENT, "malformed Basic authorization");
        if (in->client_id != NULL && strcmp(in->client_id, id) != 0)
            err = reject(out, TS_ERR_INVALID_CLIENT, "client_id does not match the Authorization header");
        else
            err = by_secret(ctx, id, secret, TS_AUTH_CLIENT_SECRET_BASIC, out);
        ts_crypto_cleanse(secret, sizeof(secret));
        return err;
    }
    if (in->client_secret != NULL) {
        if (in->client_id == NULL)
            return reject(out, TS_ERR_INVALID_CLIENT, "client_secret without client_id");
        return by_secret(ctx, in->client_id, in->client_secret, TS_AUTH_CLIENT_SECRET_POST, out);
    }
    if (in->client_id != NULL) {
        /* a public client only says who it is */
        const ts_client_t *c = ts_directory_client(ctx->dir, in->client_id);
        out->method = TS_AUTH_NONE;
        out->claimed = c;
        if (c == NULL || c->auth_method != TS_AUTH_NONE)
            return reject(out, TS_ERR_INVALID_CLIENT, "client authentication failed");
        return accept_if_active(c, out);
    }
    return reject(out, TS_ERR_INVALID_CLIENT, "client authentication required");
}
