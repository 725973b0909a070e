#ifndef TESSERA_SYNC_H
#define TESSERA_SYNC_H

/* Keeps this node's in-memory snapshots current: a dedicated thread with its own direct connection
 * LISTENs for changes (transaction-mode poolers drop LISTEN, hence direct), reloads what changed, reloads
 * everything every sync_interval as a safety net, and runs the key rotation schedule. */
#include "tessera/config.h"
#include "tessera/crypto.h"
#include "tessera/shared.h"

typedef struct st_ts_sync_t ts_sync_t;

#include "tessera/revoked.h"
#include "tessera/usage.h"

typedef struct st_ts_snapshots_t {
    ts_slot_t keyring;     /* ts_keyring_t */
    ts_slot_t directory;   /* ts_directory_t */
    ts_revoked_t *revoked; /* shared set, updated in place */
    ts_usage_t *usage;     /* clients authenticated since the sync thread last wrote clients.last_used_at */
} ts_snapshots_t;

/** empty slots and set; -1 when out of memory */
int ts_snapshots_init(ts_snapshots_t *snaps);
void ts_snapshots_dispose(ts_snapshots_t *snaps);

/** blocking start-up step: checks the schema is current, creates missing keys, loads every snapshot once.
 *  -1 with err (the server must not start). */
int ts_sync_prime(const ts_config_t *conf, const ts_kek_t *kek, ts_snapshots_t *snaps, char *err, size_t errlen);
/** starts the sync thread; NULL on failure */
ts_sync_t *ts_sync_start(const ts_config_t *conf, const ts_kek_t *kek, ts_snapshots_t *snaps);
/** stops and joins the thread; past deadline (CLOCK_MONOTONIC, in ms) its PostgreSQL work is cancelled */
void ts_sync_stop_by(ts_sync_t *sync, uint64_t deadline);

#endif
