/* `tessera serve`: keys and snapshots first (blocking is fine before the loops start), then the loops. */
#include "tessera/cli.h"
#include "tessera/clock.h"
#include "tessera/http.h"
#include "tessera/log.h"
#include "tessera/sync.h"

int ts_cli_serve(ts_cli_t *cli, int argc, char **argv)
{
    ts_snapshots_t snaps;
    ts_secret_hasher_t hasher;
    ts_sync_t *sync;
    char err[1024];
    uint64_t stop_deadline = 0;
    int ret = TS_EXIT_FAILURE;

    if (argc > 1)
        return ts_cli_usage("usage: tessera serve");
    if (ts_cli_load_kek(cli) != 0)
        return TS_EXIT_FAILURE;
    if (ts_snapshots_init(&snaps) != 0)
        return ts_cli_fail("out of memory");
    if (ts_sync_prime(&cli->conf, &cli->kek, &snaps, err, sizeof(err)) != 0) {
        ts_log_error("cannot start: %s", err);
        goto out;
    }
    /* before the first thread starts; until here (one thread, nothing to flush) a SIGTERM simply ends the start */
    ts_server_block_signals();
    if ((sync = ts_sync_start(&cli->conf, &cli->kek, &snaps)) == NULL) {
        ts_log_error("cannot start the sync thread");
        goto out;
    }
    if (ts_secret_hasher_init(&hasher, &cli->kek) == 0 && ts_server_run(&cli->conf, &snaps, &cli->kek, &hasher, &stop_deadline) == 0)
        ret = TS_EXIT_OK;
    ts_crypto_cleanse(&hasher, sizeof(hasher));
    /* inside the stop's one budget (a server that never started gives it a full one) */
    if (stop_deadline == 0)
        stop_deadline = ts_monotonic_ms() + (uint64_t)cli->conf.shutdown_timeout * 1000;
    ts_sync_stop_by(sync, stop_deadline);
out:
    ts_snapshots_dispose(&snaps);
    return ret;
}
