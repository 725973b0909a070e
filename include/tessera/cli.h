#ifndef TESSERA_CLI_H
#define TESSERA_CLI_H

#include <jansson.h>
#include "tessera/config.h"
#include "tessera/crypto.h"
#include "tessera/store.h"

/* exit codes of every command */
#define TS_EXIT_OK 0
#define TS_EXIT_FAILURE 1 /* the command ran and failed (database down, not found, ...) */
#define TS_EXIT_USAGE 2   /* the command line was wrong */

typedef struct st_ts_cli_t {
    const char *config_path; /* --config, or TESSERA_CONFIG, or NULL */
    int json;                /* --format json */
    ts_config_t conf;        /* loaded before any command runs */
    ts_pgconn_t *db;         /* NULL until ts_cli_open_db */
    ts_kek_t kek;            /* valid once ts_cli_load_kek succeeded */
    int have_kek;
} ts_cli_t;

typedef int (*ts_cli_command_fn)(ts_cli_t *cli, int argc, char **argv);

/* one subcommand of a command: `tessera client create` */
typedef struct st_ts_cli_subcommand_t {
    const char *name;
    ts_cli_command_fn fn;
} ts_cli_subcommand_t;

/** runs the one of the n subs that argv[1] names; `help` and `--help` print usage, anything else is a usage error
 *  that names the command (noun). Returns the exit code. */
int ts_cli_dispatch(ts_cli_t *cli, int argc, char **argv, const ts_cli_subcommand_t *subs, size_t n, const char *noun,
                    const char *usage);

/** `tessera ...`: global options, then one command; returns the process exit code */
int ts_cli_main(int argc, char **argv);

/** opens cli->db (blocking) or prints why not; 0 or -1 */
int ts_cli_open_db(ts_cli_t *cli);
/** loads the key-encryption key from TESSERA_KEY_ENCRYPTION_KEY or key_encryption_key_file; 0 or -1 (printed) */
int ts_cli_load_kek(ts_cli_t *cli);
/** prints "tessera: <message>" to stderr and returns TS_EXIT_USAGE */
int ts_cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** prints "tessera: <message>" to stderr and returns TS_EXIT_FAILURE */
int ts_cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** prints a JSON value on stdout (compact, one line) and steals the reference */
void ts_cli_print_json(json_t *value);
/** reads a secret line from stdin (no echo when it is a terminal) into out; 0 or -1 */
int ts_cli_read_secret(const char *prompt, char *out, size_t cap);
/** parses --name VALUE / --name=VALUE options: returns the value when argv[*i] is that option (advancing *i), else NULL */
const char *ts_cli_option(int argc, char **argv, int *i, const char *name);

int ts_cli_serve(ts_cli_t *cli, int argc, char **argv);
int ts_cli_migrate(ts_cli_t *cli, int argc, char **argv);
int ts_cli_client(ts_cli_t *cli, int argc, char **argv);
int ts_cli_user(ts_cli_t *cli, int argc, char **argv);
int ts_cli_role(ts_cli_t *cli, int argc, char **argv);
int ts_cli_keys(ts_cli_t *cli, int argc, char **argv);
int ts_cli_apply(ts_cli_t *cli, int argc, char **argv);
int ts_cli_audit(ts_cli_t *cli, int argc, char **argv);

/** records a change the command made as an audit event (actor "cli", details gets the operator's uid; details is
 *  stolen, may be NULL). The change is already made: a failure is a warning on stderr and -1. */
int ts_cli_audit_change(ts_cli_t *cli, const char *action, const char *target, json_t *details);
int ts_cli_doctor(ts_cli_t *cli, int argc, char **argv);

#endif
