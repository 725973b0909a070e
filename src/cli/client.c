/* `tessera client create|list|show|delete|rotate-secret|disable|enable`. A generated secret is printed once, at create
 * or rotate-secret, and only its keyed hash is stored. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "tessera/cli.h"
#include "tessera/oauth_metadata.h"
#include "tessera/records.h"

#define USAGE_CREATE                                                                                                               \
    "usage: tessera client create CLIENT_ID [--name N] [--auth-method M] [--grant-type G]... [--redirect-uri U]...\n"             \
    "         [--post-logout-redirect-uri U]... [--scope \"a b\"] [--default-scope \"a\"] [--skip-consent] [--no-pkce]\n"         \
    "         [--may-introspect] [--jwks-file F] [--access-token-ttl SECONDS]"
#define USAGE_ROTATE "usage: tessera client rotate-secret CLIENT_ID [--grace DURATION]"
#define USAGE                                                                                                                      \
    "usage: tessera client create|list|show|delete|rotate-secret|disable|enable ...\n"                                            \
    "  create CLIENT_ID [options]          register a client (a secret is printed once)\n"                                       \
    "  list                                list clients\n"                                                                        \
    "  show CLIENT_ID                      show one client (never its secrets)\n"                                                 \
    "  delete CLIENT_ID                    delete a client and everything issued to it\n"                                         \
    "  rotate-secret CLIENT_ID [--grace D] new secret; older ones expire after D (default 24h)\n"                                 \
    "  disable CLIENT_ID                   refuse the client's authentication and tokens\n"                                       \
    "  enable CLIENT_ID                    allow them again"

#define JWKS_FILE_MAX (256 * 1024)
#define GRACE_DEFAULT (24 * 3600)
#define GRACE_MAX (90 * 24 * 3600)

/* ---- output -------------------------------------------------------------------------------------- */

/* Text output goes to a terminal: control bytes from the database must not reach it as they are. */
static void put_safe(const char *s)
{
    for (; *s != '\0'; ++s)
        putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

static void put_line(const char *label, const char *value)
{
    printf("%-29s ", label);
    put_safe(value != NULL ? value : "");
    putchar('\n');
}

static void put_list(const char *label, const ts_strlist_t *l)
{
    printf("%-29s ", label);
    for (size_t i = 0; i < l->len; ++i) {
        if (i != 0)
            putchar(' ');
        put_safe(l->items[i]);
    }
    putchar('\n');
}

static json_t *strlist_json(const ts_strlist_t *l)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < l->len; ++i)
        json_array_append_new(arr, json_string(l->items[i]));
    return arr;
}

/* space-separated, as RFC 7591 writes scope; NULL when empty */
static json_t *scope_json(const ts_strlist_t *l)
{
    char *s;
    json_t *v;
    if (l->len == 0 || (s = ts_strlist_join(l, " ")) == NULL)
        return json_null();
    v = json_string(s);
    free(s);
    return v;
}

static json_t *nullable(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

static json_t *client_json(const ts_client_record_t *c)
{
    json_t *secrets = json_array();
    for (size_t i = 0; secrets != NULL && i < c->num_secrets; ++i)
        json_array_append_new(secrets, json_pack("{s:s, s:o}", "created_at", c->secrets[i].created_at, "expires_at",
                                                 nullable(c->secrets[i].expires_at)));
    return json_pack("{s:s, s:o, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:O?, s:b, s:b, s:b, s:s, s:o, s:o, s:o, s:s, s:s, s:o}",
                     "client_id", c->client_id, "client_name", nullable(c->client_name), "status", c->status,
                     "token_endpoint_auth_method", c->token_endpoint_auth_method, "grant_types", strlist_json(&c->grant_types),
                     "redirect_uris", strlist_json(&c->redirect_uris), "post_logout_redirect_uris",
                     strlist_json(&c->post_logout_redirect_uris), "scope", scope_json(&c->scopes), "default_scope",
                     scope_json(&c->default_scopes), "jwks", c->jwks, "skip_consent", c->skip_consent, "require_pkce",
                     c->require_pkce, "may_introspect", c->may_introspect, "id_token_signed_response_alg",
                     c->id_token_signed_response_alg, "access_token_ttl",
                     c->access_token_ttl != 0 ? json_integer(c->access_token_ttl) : json_null(), "roles",
                     strlist_json(&c->roles), "secrets", secrets, "created_at", c->created_at, "updated_at", c->updated_at,
                     "last_used_at", nullable(c->last_used_at));
}

static void print_client_text(const ts_client_record_t *c)
{
    char ttl[32];

    put_line("client_id:", c->client_id);
    put_line("client_name:", c->client_name);
    put_line("status:", c->status);
    put_line("token_endpoint_auth_method:", c->token_endpoint_auth_method);
    put_list("grant_types:", &c->grant_types);
    put_list("redirect_uris:", &c->redirect_uris);
    put_list("post_logout_redirect_uris:", &c->post_logout_redirect_uris);
    put_list("scope:", &c->scopes);
    put_list("default_scope:", &c->default_scopes);
    put_list("roles:", &c->roles);
    put_line("require_pkce:", c->require_pkce ? "true" : "false");
    put_line("skip_consent:", c->skip_consent ? "true" : "false");
    put_line("may_introspect:", c->may_introspect ? "true" : "false");
    put_line("id_token_signed_response_alg:", c->id_token_signed_response_alg);
    snprintf(ttl, sizeof(ttl), "%d", c->access_token_ttl);
    put_line("access_token_ttl:", c->access_token_ttl != 0 ? ttl : "server default");
    if (c->jwks != NULL)
        printf("%-29s %zu key(s)\n", "jwks:", json_array_size(json_object_get(c->jwks, "keys")));
    else
        put_line("jwks:", "none");
    for (size_t i = 0; i < c->num_secrets; ++i)
        printf("%-29s created %s, %s%s\n", i == 0 ? "secrets:" : "", c->secrets[i].created_at,
               c->secrets[i].expires_at != NULL ? "expires " : "no expiry",
               c->secrets[i].expires_at != NULL ? c->secrets[i].expires_at : "");
    if (c->num_secrets == 0)
        put_line("secrets:", "none");
    put_line("created_at:", c->created_at);
    put_line("updated_at:", c->updated_at);
    put_line("last_used_at:", c->last_used_at != NULL ? c->last_used_at : "never");
}

/* The one time a secret is shown. */
static void print_secret(ts_cli_t *cli, const char *client_id, const char *secret, json_t *extra)
{
    if (cli->json) {
        json_t *out = json_pack("{s:s}", "client_id", client_id);
        if (secret != NULL)
            json_object_set_new(out, "client_secret", json_string(secret));
        if (extra != NULL)
            json_object_update(out, extra);
        ts_cli_print_json(out);
    } else {
        printf("client_id: %s\n", client_id);
        if (secret != NULL)
            printf("client_secret: %s\n", secret);
    }
    json_decref(extra);
    fflush(stdout);
    if (secret != NULL)
        fprintf(stderr, "tessera: store the client secret now: it is not shown again\n");
}

/* ---- shared steps -------------------------------------------------------------------------------- */

static int unknown_option(const char *arg, const char *const *valued)
{
    for (; *valued != NULL; ++valued)
        if (strcmp(arg, *valued) == 0)
            return ts_cli_usage("%s needs a value", arg);
    return ts_cli_usage("unknown option '%s'", arg);
}

/* a fresh secret in secret (TS_HANDLE_MAX) and its hash in hash; exit code */
static int new_secret(ts_cli_t *cli, char *secret, char *hash)
{
    ts_secret_hasher_t hasher;
    int ret = TS_EXIT_OK;

    if (ts_cli_load_kek(cli) != 0)
        return TS_EXIT_FAILURE;
    if (ts_secret_hasher_init(&hasher, &cli->kek) != 0)
        return ts_cli_fail("cannot derive the client secret hashing key");
    if (ts_crypto_handle_new(TS_PREFIX_CLIENT_SECRET, secret, TS_HANDLE_MAX) != 0) {
        ret = ts_cli_fail("cannot generate a client secret (no randomness)");
    } else {
        ts_secret_hash(&hasher, secret, strlen(secret), hash);
        if (hash[0] == '\0')
            ret = ts_cli_fail("cannot hash the client secret");
    }
    ts_crypto_cleanse(&hasher, sizeof(hasher));
    return ret;
}

/* Reads a JWK Set, or a single JWK which it wraps into a set. */
static json_t *load_jwks(const char *path)
{
    json_error_t jerr;
    struct stat st;
    json_t *v;

    if (stat(path, &st) != 0) {
        ts_cli_usage("--jwks-file: cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    if (st.st_size > JWKS_FILE_MAX) {
        ts_cli_usage("--jwks-file: %s is larger than %d bytes", path, JWKS_FILE_MAX);
        return NULL;
    }
    if ((v = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
        ts_cli_usage("--jwks-file: %s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    if (json_is_object(v) && json_object_get(v, "kty") != NULL)
        v = json_pack("{s:[o]}", "keys", v);
    return v;
}

static int push_all(ts_strlist_t *l, const char *const *items, size_t n)
{
    for (size_t i = 0; i < n; ++i)
        if (ts_strlist_push(l, items[i]) != 0)
            return -1;
    return 0;
}

/* ---- create -------------------------------------------------------------------------------------- */

typedef struct st_create_args_t {
    ts_client_metadata_t md;
    const char **grants, **redirects, **logouts;
    const char *jwks_file;
    json_t *jwks;
    int skip_consent, may_introspect;
} create_args_t;

static int parse_create(int argc, char **argv, create_args_t *a)
{
    static const char *const valued[] = {"--name", "--auth-method", "--grant-type", "--redirect-uri", "--post-logout-redirect-uri",
                                         "--scope", "--default-scope", "--jwks-file", "--access-token-ttl", NULL};
    const char *v;
    unsigned ttl;

    a->md.require_pkce = 1;
    a->grants = calloc((size_t)argc + 1, sizeof(char *));
    a->redirects = calloc((size_t)argc, sizeof(char *));
    a->logouts = calloc((size_t)argc, sizeof(char *));
    if (a->grants == NULL || a->redirects == NULL || a->logouts == NULL)
        return ts_cli_fail("out of memory");
    a->md.grant_types = a->grants;
    a->md.redirect_uris = a->redirects;
    a->md.post_logout_redirect_uris = a->logouts;
    for (int i = 2; i < argc; ++i) {
        if ((v = ts_cli_option(argc, argv, &i, "--name")) != NULL) {
            a->md.client_name = v;
        } else if ((v = ts_cli_option(argc, argv, &i, "--auth-method")) != NULL) {
            a->md.token_endpoint_auth_method = v;
        } else if ((v = ts_cli_option(argc, argv, &i, "--grant-type")) != NULL) {
            a->grants[a->md.num_grant_types++] = v;
        } else if ((v = ts_cli_option(argc, argv, &i, "--redirect-uri")) != NULL) {
            a->redirects[a->md.num_redirect_uris++] = v;
        } else if ((v = ts_cli_option(argc, argv, &i, "--post-logout-redirect-uri")) != NULL) {
            a->logouts[a->md.num_post_logout_redirect_uris++] = v;
        } else if ((v = ts_cli_option(argc, argv, &i, "--scope")) != NULL) {
            a->md.scope = v;
        } else if ((v = ts_cli_option(argc, argv, &i, "--default-scope")) != NULL) {
            a->md.default_scope = v;
        } else if ((v = ts_cli_option(argc, argv, &i, "--jwks-file")) != NULL) {
            a->jwks_file = v;
        } else if ((v = ts_cli_option(argc, argv, &i, "--access-token-ttl")) != NULL) {
            if (ts_config_parse_duration(v, TS_ACCESS_TOKEN_TTL_MAX, &ttl) != 0 || ttl < TS_ACCESS_TOKEN_TTL_MIN)
                return ts_cli_usage("--access-token-ttl: expected %d to %d seconds, got '%s'", TS_ACCESS_TOKEN_TTL_MIN,
                                    TS_ACCESS_TOKEN_TTL_MAX, v);
            a->md.access_token_ttl = ttl;
        } else if (strcmp(argv[i], "--skip-consent") == 0) {
            a->skip_consent = 1;
        } else if (strcmp(argv[i], "--no-pkce") == 0) {
            a->md.require_pkce = 0;
        } else if (strcmp(argv[i], "--may-introspect") == 0) {
            a->may_introspect = 1;
        } else if (argv[i][0] == '-') {
            return unknown_option(argv[i], valued);
        } else if (a->md.client_id == NULL) {
            a->md.client_id = argv[i];
        } else {
            return ts_cli_usage("unexpected argument '%s'\n%s", argv[i], USAGE_CREATE);
        }
    }
    if (a->md.client_id == NULL)
        return ts_cli_usage("client create needs a CLIENT_ID\n%s", USAGE_CREATE);
    if (a->md.num_grant_types == 0)
        a->grants[a->md.num_grant_types++] = "client_credentials";
    if (a->md.token_endpoint_auth_method == NULL)
        a->md.token_endpoint_auth_method = "client_secret_basic";
    if (a->jwks_file != NULL && (a->jwks = load_jwks(a->jwks_file)) == NULL)
        return TS_EXIT_USAGE;
    a->md.jwks = a->jwks;
    return TS_EXIT_OK;
}

static int record_from_args(const create_args_t *a, ts_client_record_t *c)
{
    const ts_client_metadata_t *md = &a->md;

    memset(c, 0, sizeof(*c));
    /* NOLINTBEGIN(clang-analyzer-core.NonNullParamChecker): parse_create() sets client_id and the auth method whenever
     * it returns TS_EXIT_OK; the analyzer cannot see that ts_cli_fail() (in common.c) never returns TS_EXIT_OK */
    if ((c->client_id = strdup(md->client_id)) == NULL ||
        (md->client_name != NULL && (c->client_name = strdup(md->client_name)) == NULL) ||
        (c->token_endpoint_auth_method = strdup(md->token_endpoint_auth_method)) == NULL ||
        push_all(&c->grant_types, md->grant_types, md->num_grant_types) != 0 ||
        push_all(&c->redirect_uris, md->redirect_uris, md->num_redirect_uris) != 0 ||
        push_all(&c->post_logout_redirect_uris, md->post_logout_redirect_uris, md->num_post_logout_redirect_uris) != 0 ||
        (md->scope != NULL && ts_strlist_split(&c->scopes, md->scope, ' ') != 0) ||
        (md->default_scope != NULL && ts_strlist_split(&c->default_scopes, md->default_scope, ' ') != 0))
        return -1;
    /* NOLINTEND(clang-analyzer-core.NonNullParamChecker) */
    c->jwks = json_incref(a->jwks);
    c->skip_consent = a->skip_consent;
    c->require_pkce = md->require_pkce;
    c->access_token_ttl = (int)md->access_token_ttl;
    c->may_introspect = a->may_introspect;
    return 0;
}

static int cmd_create(ts_cli_t *cli, int argc, char **argv)
{
    create_args_t a = {0};
    ts_client_record_t c = {0};
    char err[1024], secret[TS_HANDLE_MAX] = "", hash[TS_SECRET_HASH_LEN];
    int ret, uses_secret;

    if ((ret = parse_create(argc, argv, &a)) != TS_EXIT_OK)
        goto exit;
    if (ts_oauth_check_client_metadata(&a.md, err, sizeof(err)) != 0) {
        ret = ts_cli_usage("%s", err);
        goto exit;
    }
    if (record_from_args(&a, &c) != 0) {
        ret = ts_cli_fail("out of memory");
        goto exit;
    }
    uses_secret = ts_oauth_auth_method_uses_secret(c.token_endpoint_auth_method);
    if (uses_secret && (ret = new_secret(cli, secret, hash)) != TS_EXIT_OK)
        goto exit;
    if (ts_cli_open_db(cli) != 0) {
        ret = TS_EXIT_FAILURE;
        goto exit;
    }
    if (ts_store_client_create(cli->db, &c, uses_secret ? hash : NULL, err, sizeof(err)) != 0) {
        ret = ts_cli_fail("%s", err);
        goto exit;
    }
    print_secret(cli, c.client_id, uses_secret ? secret : NULL, NULL);
    ts_cli_audit_change(cli, "admin.client.create", c.client_id,
                        json_pack("{s:s}", "token_endpoint_auth_method", c.token_endpoint_auth_method));
    ret = TS_EXIT_OK;
exit:
    ts_crypto_cleanse(secret, sizeof(secret));
    ts_client_record_dispose(&c);
    json_decref(a.jwks);
    free(a.grants);
    free(a.redirects);
    free(a.logouts);
    return ret;
}

/* ---- list, show, delete -------------------------------------------------------------------------- */

static int cmd_list(ts_cli_t *cli, int argc, char **argv)
{
    ts_client_record_t *clients;
    size_t n;
    char err[1024];

    if (argc > 2)
        return ts_cli_usage("usage: tessera client list");
    if (ts_cli_open_db(cli) != 0)
        return TS_EXIT_FAILURE;
    if (ts_store_client_list(cli->db, &clients, &n, err, sizeof(err)) != 0)
        return ts_cli_fail("%s", err);
    if (cli->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; ++i)
            json_array_append_new(arr, client_json(clients + i));
        ts_cli_print_json(arr);
    } else {
        printf("%-32s %-9s %-20s %-45s %s\n", "CLIENT_ID", "STATUS", "AUTH_METHOD", "GRANT_TYPES", "NAME");
        for (size_t i = 0; i < n; ++i) {
            char *grants = ts_strlist_join(&clients[i].grant_types, ",");
            printf("%-32s %-9s %-20s %-45s ", clients[i].client_id, clients[i].status, clients[i].token_endpoint_auth_method,
                   grants != NULL ? grants : "");
            put_safe(clients[i].client_name != NULL ? clients[i].client_name : "");
            putchar('\n');
            free(grants);
        }
    }
    for (size_t i = 0; i < n; ++i)
        ts_client_record_dispose(clients + i);
    free(clients);
    return TS_EXIT_OK;
}

static int one_client_id(int argc, char **argv, const char *usage, const char **client_id)
{
    if (argc != 3 || argv[2][0] == '-')
        return ts_cli_usage("%s", usage);
    *client_id = argv[2];
    return TS_EXIT_OK;
}

static int cmd_show(ts_cli_t *cli, int argc, char **argv)
{
    ts_client_record_t c;
    const char *client_id = NULL;
    char err[1024];
    int ret;

    if ((ret = one_client_id(argc, argv, "usage: tessera client show CLIENT_ID", &client_id)) != TS_EXIT_OK)
        return ret;
    if (ts_cli_open_db(cli) != 0)
        return TS_EXIT_FAILURE;
    if (ts_store_client_get(cli->db, client_id, &c, err, sizeof(err)) != 0)
        return ts_cli_fail("%s", err);
    if (cli->json)
        ts_cli_print_json(client_json(&c));
    else
        print_client_text(&c);
    ts_client_record_dispose(&c);
    return TS_EXIT_OK;
}

static int cmd_delete(ts_cli_t *cli, int argc, char **argv)
{
    const char *client_id = NULL;
    char err[1024];
    int ret;

    if ((ret = one_client_id(argc, argv, "usage: tessera client delete CLIENT_ID", &client_id)) != TS_EXIT_OK)
        return ret;
    if (ts_cli_open_db(cli) != 0)
        return TS_EXIT_FAILURE;
    if (ts_store_client_delete(cli->db, client_id, err, sizeof(err)) != 0)
        return ts_cli_fail("%s", err);
    ts_cli_audit_change(cli, "admin.client.delete", client_id, NULL);
    if (cli->json)
        ts_cli_print_json(json_pack("{s:s}", "deleted", client_id));
    else
        printf("deleted client %s\n", client_id);
    return TS_EXIT_OK;
}

static int set_status(ts_cli_t *cli, int argc, char **argv, const char *status, const char *verb)
{
    char usage[64], err[1024];
    const char *client_id = NULL;
    int ret;

    snprintf(usage, sizeof(usage), "usage: tessera client %s CLIENT_ID", argv[1]);
    if ((ret = one_client_id(argc, argv, usage, &client_id)) != TS_EXIT_OK)
        return ret;
    if (ts_cli_open_db(cli) != 0)
        return TS_EXIT_FAILURE;
    if (ts_store_client_set_status(cli->db, client_id, status, err, sizeof(err)) != 0)
        return ts_cli_fail("%s", err);
    ts_cli_audit_change(cli, strcmp(status, "active") == 0 ? "admin.client.enable" : "admin.client.disable", client_id, NULL);
    if (cli->json)
        ts_cli_print_json(json_pack("{s:s, s:s}", "client_id", client_id, "status", status));
    else
        printf("client %s %s\n", client_id, verb);
    return TS_EXIT_OK;
}

static int cmd_disable(ts_cli_t *cli, int argc, char **argv)
{
    return set_status(cli, argc, argv, "disabled", "disabled");
}

static int cmd_enable(ts_cli_t *cli, int argc, char **argv)
{
    return set_status(cli, argc, argv, "active", "enabled");
}

/* ---- rotate-secret ------------------------------------------------------------------------------- */

static int cmd_rotate(ts_cli_t *cli, int argc, char **argv)
{
    const char *client_id = NULL, *v;
    unsigned grace = GRACE_DEFAULT;
    ts_client_record_t c = {0};
    char err[1024], secret[TS_HANDLE_MAX] = "", hash[TS_SECRET_HASH_LEN];
    int ret;

    for (int i = 2; i < argc; ++i) {
        if ((v = ts_cli_option(argc, argv, &i, "--grace")) != NULL) {
            if (ts_config_parse_duration(v, GRACE_MAX, &grace) != 0)
                return ts_cli_usage("--grace: expected a duration such as 0, 30m, 24h or 7d (at most 90d), got '%s'", v);
        } else if (argv[i][0] == '-') {
            return unknown_option(argv[i], (const char *const[]){"--grace", NULL});
        } else if (client_id == NULL) {
            client_id = argv[i];
        } else {
            return ts_cli_usage("unexpected argument '%s'\n%s", argv[i], USAGE_ROTATE);
        }
    }
    if (client_id == NULL)
        return ts_cli_usage("client rotate-secret needs a CLIENT_ID\n%s", USAGE_ROTATE);
    if (ts_cli_open_db(cli) != 0)
        return TS_EXIT_FAILURE;
    if (ts_store_client_get(cli->db, client_id, &c, err, sizeof(err)) != 0)
        return ts_cli_fail("%s", err);
    if (!ts_oauth_auth_method_uses_secret(c.token_endpoint_auth_method)) {
        ret = ts_cli_fail("client '%s' authenticates with %s: it has no secret to rotate", client_id,
                          c.token_endpoint_auth_method);
        goto exit;
    }
    if ((ret = new_secret(cli, secret, hash)) != TS_EXIT_OK)
        goto exit;
    if (ts_store_client_secret_rotate(cli->db, client_id, hash, grace, err, sizeof(err)) != 0) {
        ret = ts_cli_fail("%s", err);
        goto exit;
    }
    print_secret(cli, client_id, secret, json_pack("{s:I}", "grace_seconds", (json_int_t)grace));
    ts_cli_audit_change(cli, "admin.client.secret_rotate", client_id, json_pack("{s:I}", "grace_seconds", (json_int_t)grace));
    if (!cli->json)
        fprintf(stderr, "tessera: older secrets of '%s' stop working in %u seconds\n", client_id, grace);
    ret = TS_EXIT_OK;
exit:
    ts_crypto_cleanse(secret, sizeof(secret));
    ts_client_record_dispose(&c);
    return ret;
}

int ts_cli_client(ts_cli_t *cli, int argc, char **argv)
{
    static const ts_cli_subcommand_t subcommands[] = {
        {"create", cmd_create},        {"list", cmd_list},       {"show", cmd_show},     {"delete", cmd_delete},
        {"rotate-secret", cmd_rotate}, {"disable", cmd_disable}, {"enable", cmd_enable},
    };

    return ts_cli_dispatch(cli, argc, argv, subcommands, sizeof(subcommands) / sizeof(subcommands[0]), "client", USAGE);
}
