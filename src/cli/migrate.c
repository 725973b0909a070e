#include <stdio.h>
#include "tessera/cli.h"

int ts_cli_migrate(ts_cli_t *cli, int argc, char **argv)
{
    char err[1024];
    int applied;

    if (argc > 1)
        return ts_cli_usage("usage: tessera migrate");
    if (ts_cli_open_db(cli) != 0)
        return TS_EXIT_FAILURE;
    if (ts_store_migrate(cli->db, &applied, err, sizeof(err)) != 0)
        return ts_cli_fail("%s", err);
    int version = ts_store_schema_version(cli->db);
    if (cli->json) {
        ts_cli_print_json(json_pack("{s:i, s:i}", "applied", applied, "version", version));
    } else if (applied == 0) {
        printf("schema is current (version %d)\n", version);
    } else {
        printf("applied %d migration(s); schema version %d\n", applied, version);
    }
    return TS_EXIT_OK;
}
