/* The Authorization header through ts_oauth_client_authenticate (src/oauth/client_auth.c): "Basic " and
 * base64 (ts_base64_decode) of urlencoded id ":" urlencoded secret (ts_form_decode), against a small
 * directory. The header value arrives as h2o gives it: a length, no terminating NUL. Invariants: success
 * names an active client_secret_basic client; a failure leaves no client and says why. */
#include "fuzz.h"
#include "tessera/oauth.h"

#define NOW 1700000000

static ts_directory_t *dir;
static ts_secret_hasher_t hasher;
static ts_client_auth_ctx_t ctx;

static ts_client_t *add_client(const char *id, ts_auth_method_t method, const char *secret, int64_t expires_at)
{
    ts_client_t *c = ts_arena_alloc(&dir->arena, sizeof(*c));

    FUZZ_ASSERT(c != NULL);
    memset(c, 0, sizeof(*c));
    c->client_id = ts_arena_strdup(&dir->arena, id);
    c->auth_method = method;
    c->active = 1;
    if (secret != NULL) {
        char *hash = ts_arena_alloc(&dir->arena, TS_SECRET_HASH_LEN);
        FUZZ_ASSERT((c->secrets = ts_arena_alloc(&dir->arena, sizeof(*c->secrets))) != NULL && hash != NULL);
        ts_secret_hash(&hasher, secret, strlen(secret), hash);
        c->secrets[0] = (ts_client_secret_t){hash, expires_at};
        c->num_secrets = 1;
    }
    FUZZ_ASSERT(ts_strmap_put(&dir->clients, c->client_id, strlen(c->client_id), c) == 0);
    return c;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    ts_kek_t kek;

    memset(kek.key, 0x5a, sizeof(kek.key));
    FUZZ_ASSERT(ts_secret_hasher_init(&hasher, &kek) == 0 && (dir = ts_directory_create()) != NULL);
    /* base64 of "basic-client:basic-secret" is the first seed */
    add_client("basic-client", TS_AUTH_CLIENT_SECRET_BASIC, "basic-secret", 0);
    add_client("a:b", TS_AUTH_CLIENT_SECRET_BASIC, "p:w% x", 0);
    add_client("post-client", TS_AUTH_CLIENT_SECRET_POST, "post-secret", 0);
    add_client("expired", TS_AUTH_CLIENT_SECRET_BASIC, "expired-secret", NOW - 1);
    add_client("disabled", TS_AUTH_CLIENT_SECRET_BASIC, "disabled-secret", 0)->active = 0;
    add_client("public", TS_AUTH_NONE, NULL, 0);
    ctx = (ts_client_auth_ctx_t){dir, &hasher, "https://as.example.com", "https://as.example.com/token", NOW};
    return 0;
}

static void authenticate(const char *header, size_t len, const char *client_id)
{
    ts_client_credentials_t in = {.authorization = header, .authorization_len = len, .client_id = client_id};
    ts_client_auth_t out;
    ts_err_t err = ts_oauth_client_authenticate(&ctx, &in, &out);

    FUZZ_ASSERT(out.basic_attempted);
    if (err == TS_OK) {
        FUZZ_ASSERT(out.client != NULL && out.client->active && out.client->auth_method == TS_AUTH_CLIENT_SECRET_BASIC);
        FUZZ_ASSERT(out.method == TS_AUTH_CLIENT_SECRET_BASIC);
        FUZZ_ASSERT(strcmp(out.client->client_id, "expired") != 0);
        FUZZ_ASSERT(client_id == NULL || strcmp(out.client->client_id, client_id) == 0);
    } else {
        FUZZ_ASSERT(err == TS_ERR_INVALID_CLIENT && out.client == NULL && out.why != NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *header = fuzz_bytes(data, size);

    authenticate(header, size, NULL);
    /* a client_id form parameter beside the header must name the same client */
    authenticate(header, size, "basic-client");
    free(header);
    return 0;
}
