/* private_key_jwt (RFC 7523) through ts_oauth_client_authenticate (src/oauth/client_auth.c): the input is
 * the client_assertion form parameter. The unverified `sub` picks the client, ts_jws_verify checks the
 * signature with that client's keys (fuzz_keys.h: jwt-es has the ES256 key, jwt-rs the RS256 one), then
 * the claims are checked at a fixed clock. A sign-mode input (fuzz_sign.h) is signed by the harness with the
 * key of client jwt-gen, so the fuzzer reaches the claim checks with claims of its own. Invariants: success
 * names the active private_key_jwt client that is iss and sub, for this server as aud, with the assertion's
 * jti to use up and an exp within TS_CLIENT_ASSERTION_MAX_LIFETIME. */
#include "fuzz.h"
#include "fuzz_keys.h"
#include "fuzz_sign.h"
#include "tessera/oauth.h"

static ts_directory_t *dir;
static ts_secret_hasher_t hasher;
static ts_client_auth_ctx_t ctx;
static ts_key_t *gen_key; /* jwt-gen's, owned by the directory */

static void add_client(const char *id, ts_key_t *key, int active)
{
    ts_client_t *c = ts_arena_alloc(&dir->arena, sizeof(*c));

    FUZZ_ASSERT(c != NULL);
    memset(c, 0, sizeof(*c));
    FUZZ_ASSERT((c->keys = ts_arena_alloc(&dir->arena, sizeof(*c->keys))) != NULL);
    c->client_id = ts_arena_strdup(&dir->arena, id);
    c->auth_method = TS_AUTH_PRIVATE_KEY_JWT;
    c->active = active;
    /* the directory frees its clients' keys */
    FUZZ_ASSERT((c->keys[0] = key) != NULL);
    c->num_keys = 1;
    FUZZ_ASSERT(ts_strmap_put(&dir->clients, c->client_id, strlen(c->client_id), c) == 0);
}

static ts_key_t *import(const char *text)
{
    json_t *jwk = json_loads(text, 0, NULL);
    ts_key_t *key = ts_key_import_jwk(jwk);

    json_decref(jwk);
    return key;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    ts_kek_t kek;

    memset(kek.key, 0x5a, sizeof(kek.key));
    FUZZ_ASSERT(ts_secret_hasher_init(&hasher, &kek) == 0 && (dir = ts_directory_create()) != NULL);
    add_client("jwt-es", import(FUZZ_JWK_ES256), 1);
    add_client("jwt-rs", import(FUZZ_JWK_RS256), 1);
    add_client("jwt-disabled", import(FUZZ_JWK_ES256), 0);
    add_client("jwt-gen", gen_key = ts_key_generate(TS_ALG_ES256), 1);
    ctx = (ts_client_auth_ctx_t){dir, &hasher, FUZZ_ISSUER, FUZZ_ISSUER "/token", FUZZ_NOW};
    return 0;
}

/* v is a JSON string equal to s, all of it (no NUL hiding a tail) */
static int is_string(const json_t *v, const char *s)
{
    return json_is_string(v) && json_string_length(v) == strlen(s) && strcmp(json_string_value(v), s) == 0;
}

/* what a successful authentication must have seen in the assertion */
static void check_claims(const char *assertion, const ts_client_auth_t *out)
{
    const char *dot1 = strchr(assertion, '.'), *dot2 = strchr(dot1 + 1, '.');
    unsigned char *payload = malloc((size_t)(dot2 - dot1));
    size_t n;
    json_t *claims, *aud;
    const char *id = out->client->client_id;

    FUZZ_ASSERT(payload != NULL && ts_b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), payload, (size_t)(dot2 - dot1), &n) == 0);
    FUZZ_ASSERT((claims = json_loadb((const char *)payload, n, JSON_REJECT_DUPLICATES, NULL)) != NULL);
    FUZZ_ASSERT(is_string(json_object_get(claims, "iss"), id) && is_string(json_object_get(claims, "sub"), id));
    FUZZ_ASSERT(is_string(json_object_get(claims, "jti"), out->jti));
    FUZZ_ASSERT(json_integer_value(json_object_get(claims, "exp")) == out->assertion_exp);
    aud = json_object_get(claims, "aud");
    if (json_is_string(aud)) {
        FUZZ_ASSERT(is_string(aud, FUZZ_ISSUER) || is_string(aud, FUZZ_ISSUER "/token"));
    } else {
        size_t i, found = 0;
        json_t *v;
        FUZZ_ASSERT(json_is_array(aud));
        json_array_foreach(aud, i, v)
        {
            found |= is_string(v, FUZZ_ISSUER) || is_string(v, FUZZ_ISSUER "/token");
        }
        FUZZ_ASSERT(found);
    }
    json_decref(claims);
    free(payload);
}

static void authenticate(char *assertion, int signed_here)
{
    ts_client_credentials_t in = {.client_assertion_type = TS_CLIENT_ASSERTION_TYPE, .client_assertion = assertion};
    ts_client_auth_t out;
    ts_err_t err = ts_oauth_client_authenticate(&ctx, &in, &out);

    if (err == TS_OK) {
        FUZZ_ASSERT(out.client != NULL && out.client->active && out.client->auth_method == TS_AUTH_PRIVATE_KEY_JWT);
        FUZZ_ASSERT(out.method == TS_AUTH_PRIVATE_KEY_JWT);
        FUZZ_ASSERT(!signed_here || strcmp(out.client->client_id, "jwt-gen") == 0);
        FUZZ_ASSERT(out.jti[0] != '\0' && strlen(out.jti) < sizeof(out.jti));
        FUZZ_ASSERT(out.assertion_exp > FUZZ_NOW && out.assertion_exp <= FUZZ_NOW + TS_CLIENT_ASSERTION_MAX_LIFETIME);
        check_claims(assertion, &out);
        /* a client_id beside the assertion must be the same client */
        in.client_id = strcmp(out.client->client_id, "jwt-es") == 0 ? "jwt-rs" : "jwt-es";
        FUZZ_ASSERT(ts_oauth_client_authenticate(&ctx, &in, &out) == TS_ERR_INVALID_CLIENT && out.client == NULL);
    } else {
        FUZZ_ASSERT((err == TS_ERR_INVALID_CLIENT || err == TS_ERR_INVALID_REQUEST) && out.client == NULL && out.why != NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *header, *payload;
    size_t hlen, plen, len;
    char *assertion;

    if (fuzz_sign_split(data, size, &header, &hlen, &payload, &plen)) {
        assertion = fuzz_sign_es256(gen_key, header, hlen, payload, plen, &len);
        authenticate(assertion, 1);
    } else {
        /* a form value: NUL-terminated, no NUL inside */
        assertion = fuzz_cstr(data, size);
        authenticate(assertion, 0);
    }
    free(assertion);
    return 0;
}
