/* `tessera keys list|rotate` */
#include <stdio.h>
#include <string.h>
#include "tessera/cli.h"

static const char *or_dash(json_t *row, const char *key)
{
    const char *s = json_string_value(json_object_get(row, key));
    return s != NULL ? s : "-";
}

static int list(ts_cli_t *cli)
{
    char err[512];
    json_t *keys = ts_store_keys_list(cli->db, err, sizeof(err));
    size_t i;
    json_t *row;

    if (keys == NULL)
        return ts_cli_fail("%s", err);
    if (cli->json) {
        ts_cli_print_json(keys);
        return TS_EXIT_OK;
    }
    printf("%-44s %-6s %-8s %-28s %s\n", "KID", "ALG", "STATE", "ACTIVATED", "RETIRED");
    json_array_foreach(keys, i, row)
    {
        printf("%-44s %-6s %-8s %-28s %s\n", or_dash(row, "kid"), or_dash(row, "alg"), or_dash(row, "state"),
               or_dash(row, "activated_at"), or_dash(row, "retired_at"));
    }
    json_decref(keys);
    return TS_EXIT_OK;
}

static int rotate(ts_cli_t *cli)
{
    char err[512];
    ts_rotation_t r;

    if (ts_cli_load_kek(cli) != 0)
        return TS_EXIT_FAILURE;
    if (ts_store_keys_rotate(cli->db, &cli->kek, cli->conf.key_rotation_period, cli->conf.key_retention, 1, &r, err,
                             sizeof(err)) != 0)
        return ts_cli_fail("%s", err);
    if (cli->json) {
        ts_cli_print_json(json_pack("{s:i, s:i, s:i, s:i}", "activated", r.activated, "retired", r.retired, "generated",
                                    r.generated, "removed", r.removed));
    } else {
        printf("rotated: %d key(s) activated, %d retired, %d generated, %d removed\n", r.activated, r.retired, r.generated,
               r.removed);
    }
    return TS_EXIT_OK;
}

int ts_cli_keys(ts_cli_t *cli, int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "list") != 0 && strcmp(argv[1], "rotate") != 0))
        return ts_cli_usage("usage: tessera keys list|rotate");
    if (ts_cli_open_db(cli) != 0)
        return TS_EXIT_FAILURE;
    return strcmp(argv[1], "list") == 0 ? list(cli) : rotate(cli);
}
