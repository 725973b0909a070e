/* The JSON of `tessera apply FILE.json` (src/cli/apply.c): parse_plan checks the whole document (roles,
 * clients through ts_oauth_check_client_metadata, users) before anything touches the database. parse_plan
 * is static, so this file includes apply.c, as the unit tests do with the code they test; nothing of
 * apply.c runs but parsing. Invariants: a plan that parses has valid, unique names, every client with at
 * least one grant type and a known authentication method; plan_dispose frees it all either way. */
#include "fuzz.h"
#include "../../src/cli/apply.c"

static void check_plan(const plan_t *p)
{
    char err[256];

    for (size_t i = 0; i < p->num_roles; ++i)
        FUZZ_ASSERT(ts_oauth_check_role_name("name", p->roles[i].name, err, sizeof(err)) == 0);
    for (size_t i = 0; i < p->num_clients; ++i) {
        const ts_client_record_t *c = &p->clients[i].rec;
        FUZZ_ASSERT(ts_oauth_check_client_id(c->client_id, err, sizeof(err)) == 0);
        FUZZ_ASSERT(ts_oauth_check_auth_method("method", c->token_endpoint_auth_method, err, sizeof(err)) == 0);
        FUZZ_ASSERT(c->grant_types.len >= 1);
        for (size_t j = 0; j < c->redirect_uris.len; ++j)
            FUZZ_ASSERT(ts_oauth_check_redirect_uri("uri", c->redirect_uris.items[j], err, sizeof(err)) == 0);
        for (size_t j = 0; j < i; ++j)
            FUZZ_ASSERT(strcmp(p->clients[j].rec.client_id, c->client_id) != 0);
    }
    for (size_t i = 0; i < p->num_users; ++i) {
        FUZZ_ASSERT(ts_oauth_check_username("username", p->users[i].rec.username, err, sizeof(err)) == 0);
        for (size_t j = 0; j < i; ++j)
            FUZZ_ASSERT(strcasecmp(p->users[j].rec.username, p->users[i].rec.username) != 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    plan_t p = {0};
    char err[1024];

    if (size > FILE_MAX || (p.doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL)) == NULL)
        return 0;
    FUZZ_ASSERT((p.new_secrets = json_object()) != NULL);
    memset(err, 0x7f, sizeof(err));
    if (parse_plan(&p, err, sizeof(err)) == 0)
        check_plan(&p);
    else
        FUZZ_ASSERT(memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0');
    plan_dispose(&p);
    return 0;
}
