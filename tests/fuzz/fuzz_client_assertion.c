/* private_key_jwt (RFC 7523) through ts_oauth_client_authenticate (src/oauth/client_auth.c): the input is
 * the client_assertion form parameter. The unverified `sub` picks the client, ts_jws_verify checks the
 * signature with that client's keys (fuzz_keys.h: jwt-es has the ES256 key, jwt-rs the RS256 one), then
 * the claims are checked at a fixed clock. Invariants: success names the active private_key_jwt client the
 * assertion claims to be, with a jti to use up, and never outlives TS_CLIENT_ASSERTION_MAX_LIFETIME. */
#include "fuzz.h"
#include "fuzz_keys.h"
#include "tessera/oauth.h"

static ts_directory_t *dir;
static ts_secret_hasher_t hasher;
static ts_client_auth_ctx_t ctx;

static void add_client(const char *id, const char *jwk_text, int active)
{
    ts_client_t *c = ts_arena_alloc(&dir->arena, sizeof(*c));
    json_t *jwk = json_loads(jwk_text, 0, NULL);

    FUZZ_ASSERT(c != NULL);
    memset(c, 0, sizeof(*c));
    FUZZ_ASSERT((c->keys = ts_arena_alloc(&dir->arena, sizeof(*c->keys))) != NULL);
    c->client_id = ts_arena_strdup(&dir->arena, id);
    c->auth_method = TS_AUTH_PRIVATE_KEY_JWT;
    c->active = active;
    /* the directory frees its clients' keys */
    FUZZ_ASSERT((c->keys[0] = ts_key_import_jwk(jwk)) != NULL);
    c->num_keys = 1;
    json_decref(jwk);
    FUZZ_ASSERT(ts_strmap_put(&dir->clients, c->client_id, strlen(c->client_id), c) == 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    ts_kek_t kek;

    memset(kek.key, 0x5a, sizeof(kek.key));
    FUZZ_ASSERT(ts_secret_hasher_init(&hasher, &kek) == 0 && (dir = ts_directory_create()) != NULL);
    add_client("jwt-es", FUZZ_JWK_ES256, 1);
    add_client("jwt-rs", FUZZ_JWK_RS256, 1);
    add_client("jwt-disabled", FUZZ_JWK_ES256, 0);
    ctx = (ts_client_auth_ctx_t){dir, &hasher, FUZZ_ISSUER, FUZZ_ISSUER "/token", FUZZ_NOW};
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a form value: NUL-terminated, no NUL inside */
    char *assertion = fuzz_cstr(data, size);
    ts_client_credentials_t in = {.client_assertion_type = TS_CLIENT_ASSERTION_TYPE, .client_assertion = assertion};
    ts_client_auth_t out;
    ts_err_t err = ts_oauth_client_authenticate(&ctx, &in, &out);

    if (err == TS_OK) {
        FUZZ_ASSERT(out.client != NULL && out.client->active && out.client->auth_method == TS_AUTH_PRIVATE_KEY_JWT);
        FUZZ_ASSERT(out.method == TS_AUTH_PRIVATE_KEY_JWT);
        FUZZ_ASSERT(out.jti[0] != '\0' && strlen(out.jti) < sizeof(out.jti));
        FUZZ_ASSERT(out.assertion_exp > FUZZ_NOW && out.assertion_exp <= FUZZ_NOW + TS_CLIENT_ASSERTION_MAX_LIFETIME);
        /* a client_id beside the assertion must be the same client */
        in.client_id = strcmp(out.client->client_id, "jwt-es") == 0 ? "jwt-rs" : "jwt-es";
        FUZZ_ASSERT(ts_oauth_client_authenticate(&ctx, &in, &out) == TS_ERR_INVALID_CLIENT && out.client == NULL);
    } else {
        FUZZ_ASSERT((err == TS_ERR_INVALID_CLIENT || err == TS_ERR_INVALID_REQUEST) && out.client == NULL && out.why != NULL);
    }
    free(assertion);
    return 0;
}
