/* `tessera role create|delete|list|grant|revoke`. A role grants a set of scopes to the users and clients that hold
 * it; a scope that some role lists is granted to no one else (docs/roles.md). A change reaches running servers at
 * once: the tables' triggers NOTIFY the sync thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tessera/cli.h"
#include "tessera/oauth_metadata.h"
#include "tessera/records.h"

#define USAGE_CREATE "usage: tessera role create NAME [--description TEXT] [--scopes \"a b\"]"
#define USAGE                                                                                                                      \
    "usage: tessera role create|delete|list|grant|revoke ...\n"                                                                    \
    "  create NAME [--description TEXT] [--scopes \"a b\"]   add a role granting these scopes\n"                                   \
    "  delete NAME                                         delete a role; its holders lose it\n"                                   \
    "  list                                                list roles and their scopes\n"                                          \
    "  grant ROLE --user USERNAME | --client CLIENT_ID     give a user or a client the role\n"                                     \
    "  revoke ROLE --user USERNAME | --client CLIENT_ID    take it away"

#define DESCRIPTION_MAX_CHARS 500 /* roles.description in sql/001_schema.sql */

/* Text output goes to a terminal: control bytes from the database must not reach it as they are. */
static void put_safe(const char *s)
{
    for (; *s != '\0'; ++s)
        putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

static json_t *role_json(const ts_role_record_t *r)
{
    json_t *scopes = json_array();
    for (size_t i = 0; scopes != NULL && i < r->scopes.len; ++i)
        json_array_append_new(scopes, json_string(r->scopes.items[i]));
    return json_pack("{s:s, s:o, s:o, s:s, s:s}", "name", r->name, "description",
                     r->description != NULL ? json_string(r->description) : json_null(), "scopes", scopes, "created_at",
                     r->created_at, "updated_at", r->updated_at);
}

/* NAME as the only positional argument at argv[2]; usage exit code when it is missing or malformed */
static int role_name(const char *arg, const char *usage, const char **name)
{
    char err[512];

    if (arg == NULL || arg[0] == '-')
        return ts_cli_usage("%s", usage);
    if (ts_oauth_check_role_name("NAME", arg, err, sizeof(err)) != 0)
        return ts_cli_usage("%s", err);
    *name = arg;
    return TS_EXIT_OK;
}

static int parse_create(int argc, char **argv, ts_role_record_t *r)
{
    char err[512];
    const char *v = NULL;
    int ret;

    if ((ret = role_name(argc > 2 ? argv[2] : NULL, USAGE_CREATE, &v)) != TS_EXIT_OK)
        return ret;
    if (v == NULL) /* role_name sets it on success; the analyzer cannot see ts_cli_usage's return value */
        return TS_EXIT_USAGE;
    if ((r->name = strdup(v)) == NULL)
        return ts_cli_fail("out of memory");
    for (int i = 3; i < argc; ++i) {
        if ((v = ts_cli_option(argc, argv, &i, "--description")) != NULL) {
            if (ts_oauth_check_text("--description", v, DESCRIPTION_MAX_CHARS, err, sizeof(err)) != 0)
                return ts_cli_usage("%s", err);
            free(r->description);
            if ((r->description = strdup(v)) == NULL)
                return ts_cli_fail("out of memory");
        } else if ((v = ts_cli_option(argc, argv, &i, "--scopes")) != NULL) {
            if (*v != '\0' && ts_oauth_check_scope("--scopes", v, err, sizeof(err)) != 0)
                return ts_cli_usage("%s", err);
            ts_strlist_dispose(&r->scopes);
            if (ts_strlist_split(&r->scopes, v, ' ') != 0)
                return ts_cli_fail("out of memory");
        } else if (strcmp(argv[i], "--description") == 0 || strcmp(argv[i], "--scopes") == 0) {
            return ts_cli_usage("%s needs a value", argv[i]);
        } else if (argv[i][0] == '-') {
            return ts_cli_usage("unknown option '%s'\n%s", argv[i], USAGE_CREATE);
        } else {
            return ts_cli_usage("unexpected argument '%s'\n%s", argv[i], USAGE_CREATE);
        }
    }
    return TS_EXIT_OK;
}

static int cmd_create(ts_cli_t *cli, int argc, char **argv)
{
    ts_role_record_t r = {0};
    char err[1024];
    int ret;

    if ((ret = parse_create(argc, argv, &r)) != TS_EXIT_OK)
        goto exit;
    if (ts_cli_open_db(cli) != 0) {
        ret = TS_EXIT_FAILURE;
        goto exit;
    }
    if (ts_store_role_create(cli->db, &r, err, sizeof(err)) != 0) {
        ret = ts_cli_fail("%s", err);
        goto exit;
    }
    if (cli->json) {
        ts_role_record_t stored;
        if (ts_store_role_get(cli->db, r.name, &stored, err, sizeof(err)) != 0) {
            ret = ts_cli_fail("%s", err);
            goto exit;
        }
        ts_cli_print_json(role_json(&stored));
        ts_role_record_dispose(&stored);
    } else {
        char *scopes = ts_strlist_join(&r.scopes, " ");
        printf("created role %s (scopes: %s)\n", r.name, scopes != NULL && *scopes != '\0' ? scopes : "none");
        free(scopes);
    }
    ret = TS_EXIT_OK;
exit:
    ts_role_record_dispose(&r);
    return ret;
}

static int cmd_delete(ts_cli_t *cli, int argc, char **argv)
{
    const char *name = NULL;
    char err[1024];
    int ret;

    if (argc != 3)
        return ts_cli_usage("usage: tessera role delete NAME");
    if ((ret = role_name(argv[2], "usage: tessera role delete NAME", &name)) != TS_EXIT_OK)
        return ret;
    if (ts_cli_open_db(cli) != 0)
        return TS_EXIT_FAILURE;
    if (ts_store_role_delete(cli->db, name, err, sizeof(err)) != 0)
        return ts_cli_fail("%s", err);
    if (cli->json)
        ts_cli_print_json(json_pack("{s:s}", "deleted", name));
    else
        printf("deleted role %s\n", name);
    return TS_EXIT_OK;
}

static int cmd_list(ts_cli_t *cli, int argc, char **argv)
{
    ts_role_record_t *roles;
    size_t n;
    char err[1024];

    (void)argv;
    if (argc > 2)
        return ts_cli_usage("usage: tessera role list");
    if (ts_cli_open_db(cli) != 0)
        return TS_EXIT_FAILURE;
    if (ts_store_role_list(cli->db, &roles, &n, err, sizeof(err)) != 0)
        return ts_cli_fail("%s", err);
    if (cli->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; ++i)
            json_array_append_new(arr, role_json(roles + i));
        ts_cli_print_json(arr);
    } else {
        printf("%-24s %-40s %s\n", "NAME", "SCOPES", "DESCRIPTION");
        for (size_t i = 0; i < n; ++i) {
            char *scopes = ts_strlist_join(&roles[i].scopes, " ");
            printf("%-24s %-40s ", roles[i].name, scopes != NULL && *scopes != '\0' ? scopes : "-");
            put_safe(roles[i].description != NULL ? roles[i].description : "");
            putchar('\n');
            free(scopes);
        }
    }
    for (size_t i = 0; i < n; ++i)
        ts_role_record_dispose(roles + i);
    free(roles);
    return TS_EXIT_OK;
}

/* `grant|revoke ROLE --user USERNAME | --client CLIENT_ID`: exactly one holder */
static int assign(ts_cli_t *cli, int argc, char **argv, int grant)
{
    const char *role = NULL, *kind = NULL, *key = NULL, *v;
    char usage[96], err[1024];
    int ret, changed = 0;

    snprintf(usage, sizeof(usage), "usage: tessera role %s ROLE --user USERNAME | --client CLIENT_ID", argv[1]);
    for (int i = 2; i < argc; ++i) {
        const char *k = NULL;
        if ((v = ts_cli_option(argc, argv, &i, "--user")) != NULL) {
            if (ts_oauth_check_username("--user", v, err, sizeof(err)) != 0)
                return ts_cli_usage("%s", err);
            k = "user";
        } else if ((v = ts_cli_option(argc, argv, &i, "--client")) != NULL) {
            if (ts_oauth_check_client_id(v, err, sizeof(err)) != 0)
                return ts_cli_usage("--client: %s", err);
            k = "client";
        } else if (strcmp(argv[i], "--user") == 0 || strcmp(argv[i], "--client") == 0) {
            return ts_cli_usage("%s needs a value", argv[i]);
        } else if (argv[i][0] == '-') {
            return ts_cli_usage("unknown option '%s'\n%s", argv[i], usage);
        } else if (role == NULL) {
            if ((ret = role_name(argv[i], usage, &role)) != TS_EXIT_OK)
                return ret;
            continue;
        } else {
            return ts_cli_usage("unexpected argument '%s'\n%s", argv[i], usage);
        }
        if (kind != NULL)
            return ts_cli_usage("give one --user or one --client\n%s", usage);
        kind = k;
        key = v;
    }
    if (role == NULL || kind == NULL)
        return ts_cli_usage("%s", usage);
    if (ts_cli_open_db(cli) != 0)
        return TS_EXIT_FAILURE;
    if (ts_store_role_assign(cli->db, role, kind, key, grant, &changed, err, sizeof(err)) != 0)
        return ts_cli_fail("%s", err);
    if (cli->json) {
        ts_cli_print_json(
            json_pack("{s:s, s:s, s:b, s:b}", "role", role, kind, key, grant ? "granted" : "revoked", 1, "changed", changed));
    } else if (changed) {
        printf("%s role %s %s %s ", grant ? "granted" : "revoked", role, grant ? "to" : "from", kind);
        put_safe(key);
        putchar('\n');
    } else {
        printf("%s ", kind);
        put_safe(key);
        printf(" %s role %s\n", grant ? "already has" : "does not have", role);
    }
    return TS_EXIT_OK;
}

static int cmd_grant(ts_cli_t *cli, int argc, char **argv)
{
    return assign(cli, argc, argv, 1);
}

static int cmd_revoke(ts_cli_t *cli, int argc, char **argv)
{
    return assign(cli, argc, argv, 0);
}

int ts_cli_role(ts_cli_t *cli, int argc, char **argv)
{
    static const ts_cli_subcommand_t subcommands[] = {
        {"create", cmd_create}, {"delete", cmd_delete}, {"list", cmd_list}, {"grant", cmd_grant}, {"revoke", cmd_revoke},
    };

    return ts_cli_dispatch(cli, argc, argv, subcommands, sizeof(subcommands) / sizeof(subcommands[0]), "role", USAGE);
}
