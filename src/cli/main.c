/* `tessera [--config FILE] [--format text|json] COMMAND ...`: global options may stand anywhere. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tessera/cli.h"

static const struct {
    const char *name;
    ts_cli_command_fn fn;
    const char *help;
} commands[] = {
    {"serve", ts_cli_serve, "run the server"},
    {"migrate", ts_cli_migrate, "apply database migrations (idempotent)"},
    {"client", ts_cli_client, "create|list|show|delete|rotate-secret clients"},
    {"user", ts_cli_user, "create|passwd|disable|enable|list users"},
    {"role", ts_cli_role, "create|delete|list|grant|revoke roles"},
    {"keys", ts_cli_keys, "list|rotate signing keys"},
    {"apply", ts_cli_apply, "create or update the clients, users and roles a JSON file describes"},
    {"audit", ts_cli_audit, "tail|verify|export the hash-chained audit log"},
    {"doctor", ts_cli_doctor, "list what an operator should act on (exit 1 when anything is found)"},
};

static void usage(FILE *fp)
{
    fprintf(fp, "usage: tessera [--config FILE] [--format text|json] COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); ++i)
        fprintf(fp, "  %-8s %s\n", commands[i].name, commands[i].help);
    fprintf(fp, "\nThe configuration comes from FILE (or $TESSERA_CONFIG), then TESSERA_* environment variables.\n");
}

/* Takes the global options out of argv wherever they stand, so `tessera client list --format json` works. */
static int strip_global_options(ts_cli_t *cli, int *argc, char **argv)
{
    int out = 1;
    for (int i = 1; i < *argc; ++i) {
        const char *v;
        if ((v = ts_cli_option(*argc, argv, &i, "--config")) != NULL) {
            cli->config_path = v;
        } else if ((v = ts_cli_option(*argc, argv, &i, "--format")) != NULL) {
            if (strcmp(v, "json") == 0)
                cli->json = 1;
            else if (strcmp(v, "text") == 0)
                cli->json = 0;
            else
                return ts_cli_usage("--format: expected text or json, got '%s'", v);
        } else if (strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "--format") == 0) {
            return ts_cli_usage("%s needs a value", argv[i]);
        } else {
            argv[out++] = argv[i];
        }
    }
    *argc = out;
    argv[out] = NULL;
    return 0;
}

int ts_cli_main(int argc, char **argv)
{
    ts_cli_t cli = {0};
    char err[1024];
    int ret;

    if ((ret = strip_global_options(&cli, &argc, argv)) != 0)
        return ret;
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? TS_EXIT_USAGE : TS_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("tessera %s\n", TESSERA_VERSION);
        return TS_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); ++i) {
        if (strcmp(argv[1], commands[i].name) != 0)
            continue;
        /* Flawfinder: ignore (next line) - the documented config path variable, chosen by the operator */
        if (cli.config_path == NULL && (cli.config_path = getenv("TESSERA_CONFIG")) != NULL && *cli.config_path == '\0')
            cli.config_path = NULL;
        if (ts_config_load(&cli.conf, cli.config_path, err, sizeof(err)) != 0) {
            ts_config_dispose(&cli.conf);
            return ts_cli_usage("configuration: %s", err);
        }
        ts_log_set_level(cli.conf.log_level);
        ret = commands[i].fn(&cli, argc - 1, argv + 1);
        if (cli.db != NULL)
            ts_store_close(cli.db);
        ts_crypto_cleanse(&cli.kek, sizeof(cli.kek));
        ts_config_dispose(&cli.conf);
        return ret;
    }
    usage(stderr);
    return ts_cli_usage("unknown command '%s'", argv[1]);
}
