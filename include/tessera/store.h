#ifndef TESSERA_STORE_H
#define TESSERA_STORE_H

/* Blocking PostgreSQL access for the CLI and the sync thread (never for loop threads: see db_pool.h).
 * src/store/ is the only code that includes libpq-fe.h; others see PGconn as an opaque struct. */
#include <stddef.h>
#include "tessera/config.h"

struct pg_conn;
typedef struct pg_conn ts_pgconn_t;

/** connects with the configured database and password file (a password written into the config text is
 *  refused). application_name tells operators which part of Tessera holds the connection. NULL + err on failure. */
ts_pgconn_t *ts_store_connect(const ts_config_t *conf, const char *application_name, char *err, size_t errlen);
void ts_store_close(ts_pgconn_t *db);
/** the libpq keyword/value arrays for the same connection, for asynchronous connects (malloc'd; free with
 *  ts_store_conn_params_free) */
int ts_store_conn_params(const ts_config_t *conf, const char *application_name, char ***keywords, char ***values, char *err,
                         size_t errlen);
void ts_store_conn_params_free(char **keywords, char **values);

/** copies the first line of a libpq message into buf (libpq's messages span lines; log lines must not) */
const char *ts_store_first_line(const char *message, char *buf, size_t cap);
/** runs a statement without results (BEGIN, COMMIT, ...); -1 with err */
int ts_store_exec(ts_pgconn_t *db, const char *sql, char *err, size_t errlen);

/** applies every migration not yet recorded, in one transaction under an advisory lock.
 *  *applied gets how many ran (0 when the schema is current). -1 with err (nothing applied). */
int ts_store_migrate(ts_pgconn_t *db, int *applied, char *err, size_t errlen);
/** the newest migration version recorded in the database, 0 when none; -1 on error */
int ts_store_schema_version(ts_pgconn_t *db);
/** the newest migration version this binary knows */
int ts_store_schema_latest(void);


/* ---- signing keys (src/store/keys.c) ------------------------------------------------------------ */
#include "tessera/keyring.h"

typedef struct st_ts_rotation_t {
    int generated; /* keys created */
    int activated; /* next keys promoted to current */
    int retired;   /* current keys retired */
    int removed;   /* retired keys past retention, private part erased */
    int skipped;   /* another node held the rotation lock */
} ts_rotation_t;

/** reads every published key and builds a keyring; NULL with err */
ts_keyring_t *ts_store_keys_load(ts_pgconn_t *db, const ts_kek_t *kek, char *err, size_t errlen);
/** under the rotation lock: creates missing keys (a current and a next per algorithm), promotes next to current
 *  when the current one is older than rotation_period (or always when force), removes retired keys older than
 *  retention. Without force it does nothing when another node holds the lock. 0 or -1 with err. */
int ts_store_keys_rotate(ts_pgconn_t *db, const ts_kek_t *kek, unsigned rotation_period, unsigned retention, int force,
                         ts_rotation_t *report, char *err, size_t errlen);
/** the same, naming who asked in the audit event (key.rotate) written in the rotation's transaction when keys
 *  changed or force is set; ts_store_keys_rotate names "cli" when forced, "system" for the schedule */
int ts_store_keys_rotate_as(ts_pgconn_t *db, const ts_kek_t *kek, unsigned rotation_period, unsigned retention, int force,
                            const char *actor, ts_rotation_t *report, char *err, size_t errlen);
/** every key row (removed ones too) as a JSON array of {kid, alg, state, created_at, activated_at, retired_at,
 *  removed_at}; NULL with err */
json_t *ts_store_keys_list(ts_pgconn_t *db, char *err, size_t errlen);

/* ---- the directory snapshot (src/store/directory.c) ------------------------------------------- */
#include "tessera/directory.h"

/** loads every client, user and role (one repeatable-read transaction); NULL with err */
ts_directory_t *ts_store_directory_load(ts_pgconn_t *db, char *err, size_t errlen);

/* ---- revocations (src/store/revoked.c) ---------------------------------------------------------- */
#include "tessera/revoked.h"

/** adds to set every revocation newer than *watermark (unix seconds; 0 loads all) and advances it */
int ts_store_revoked_load(ts_pgconn_t *db, ts_revoked_t *set, double *watermark, char *err, size_t errlen);
/** deletes rows that no longer matter, an hour after they stopped mattering: revocations and used assertion ids
 *  of expired tokens, expired interactions, codes, refresh tokens and sessions, client secrets past their grace */
int ts_store_housekeeping(ts_pgconn_t *db, char *err, size_t errlen);

/* ---- client use (src/store/usage.c) ------------------------------------------------------------- */
#include "tessera/usage.h"

/** takes every mark out of usage and sets clients.last_used_at = now() for them, without the change
 *  notification (nothing any node keeps in memory changes). On failure the marks go back into usage for the
 *  next attempt; -1 with err. */
int ts_store_clients_mark_used(ts_pgconn_t *db, ts_usage_t *usage, char *err, size_t errlen);

#endif
