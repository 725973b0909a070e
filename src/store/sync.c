/* The sync thread: blocking libpq is fine here, this thread serves no requests. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <libpq-fe.h>
#include "tessera/clock.h"
#include "tessera/keyring.h"
#include "tessera/log.h"
#include "tessera/store.h"
#include "tessera/sync.h"

#define CHANNEL "tessera_changes"

/* what a change notification (its payload is the table's name) makes this node reload */
#define RELOAD_KEYS 1u
#define RELOAD_DIRECTORY 2u
#define RELOAD_REVOKED 4u
#define RELOAD_ALL 7u

struct st_ts_sync_t {
    double revoked_watermark;
    const ts_config_t *conf;
    const ts_kek_t *kek;
    ts_snapshots_t *snaps;
    pthread_t thread;
    int stop_pipe[2];
    PGconn *db;
    unsigned backoff_ms;
    atomic_int stopping; /* set with the stop pipe: no new work */
    atomic_int late;     /* the stop's deadline has passed: skip what is left (recording client use) */
    pthread_mutex_t cancel_mu;
    PGcancel *cancel; /* for db while connected: how ts_sync_stop_by interrupts a query that outlives the deadline */
};

/* how often this node asks whether a key is due: often enough for short test periods, at most once a minute */
static unsigned rotation_check_ms(const ts_config_t *conf)
{
    unsigned s = conf->key_rotation_period / 4;
    if (s > 60)
        s = 60;
    if (s < 1)
        s = 1;
    return s * 1000;
}

static int load_keyring(PGconn *db, const ts_kek_t *kek, ts_snapshots_t *snaps, char *err, size_t errlen)
{
    ts_keyring_t *ring = ts_store_keys_load(db, kek, err, errlen);
    if (ring == NULL)
        return -1;
    ts_slot_publish(&snaps->keyring, &ring->super);
    return 0;
}

static int load_directory(PGconn *db, ts_snapshots_t *snaps, char *err, size_t errlen)
{
    ts_directory_t *d = ts_store_directory_load(db, err, errlen);
    if (d == NULL)
        return -1;
    ts_slot_publish(&snaps->directory, &d->super);
    return 0;
}

int ts_snapshots_init(ts_snapshots_t *snaps)
{
    ts_slot_init(&snaps->keyring);
    ts_slot_init(&snaps->directory);
    snaps->revoked = ts_revoked_create();
    snaps->usage = ts_usage_create();
    return snaps->revoked != NULL && snaps->usage != NULL ? 0 : -1;
}

void ts_snapshots_dispose(ts_snapshots_t *snaps)
{
    ts_slot_dispose(&snaps->keyring);
    ts_slot_dispose(&snaps->directory);
    ts_revoked_destroy(snaps->revoked);
    snaps->revoked = NULL;
    ts_usage_destroy(snaps->usage);
    snaps->usage = NULL;
}

/* writes clients.last_used_at for the clients this node authenticated since the last time */
static void flush_usage(ts_sync_t *s)
{
    char err[512];
    if (ts_store_clients_mark_used(s->db, s->snaps->usage, err, sizeof(err)) != 0)
        ts_log_warn("sync: recording client use failed: %s", err);
}

static int rotate(PGconn *db, const ts_config_t *conf, const ts_kek_t *kek, char *err, size_t errlen)
{
    ts_rotation_t r;
    if (ts_store_keys_rotate(db, kek, conf->key_rotation_period, conf->key_retention, 0, &r, err, errlen) != 0)
        return -1;
    if (r.activated + r.retired + r.generated + r.removed > 0)
        ts_log_info("key rotation: %d activated, %d retired, %d generated, %d removed", r.activated, r.retired, r.generated,
                    r.removed);
    return 0;
}

int ts_sync_prime(const ts_config_t *conf, const ts_kek_t *kek, ts_snapshots_t *snaps, char *err, size_t errlen)
{
    PGconn *db = ts_store_connect(conf, "tessera-sync", err, errlen);
    int ret = -1, have, latest = ts_store_schema_latest();

    if (db == NULL)
        return -1;
    if ((have = ts_store_schema_version(db)) != latest) {
        snprintf(err, errlen, "database schema is at version %d, this build needs %d: run `tessera migrate`", have, latest);
        goto out;
    }
    /* a node starting beside another may find the other one bootstrapping the keys under the rotation
     * lock: wait (bounded) until they are committed rather than start without them */
    for (int attempt = 0;; ++attempt) {
        if (rotate(db, conf, kek, err, errlen) != 0 || load_keyring(db, kek, snaps, err, errlen) != 0)
            goto out;
        ts_ref_t *ring = ts_slot_acquire(&snaps->keyring);
        int ready = ts_keyring_ready((ts_keyring_t *)ring);
        ts_ref_release(ring);
        if (ready)
            break;
        if (attempt == 50) {
            snprintf(err, errlen, "no current signing keys after waiting for the rotation lock");
            goto out;
        }
        usleep(200 * 1000);
    }
    double watermark = 0;
    if (load_directory(db, snaps, err, errlen) != 0 || ts_store_revoked_load(db, snaps->revoked, &watermark, err, errlen) != 0)
        goto out;
    ret = 0;
out:
    ts_store_close(db);
    return ret;
}

/* waits up to ms for the database socket (when connected) or the stop pipe; 1 when asked to stop */
static int wait_for(ts_sync_t *s, int ms)
{
    struct pollfd fds[2] = {{.fd = s->stop_pipe[0], .events = POLLIN}, {.fd = s->db != NULL ? PQsocket(s->db) : -1, .events = POLLIN}};
    int r = poll(fds, 2, ms < 0 ? 0 : ms);
    return r > 0 && (fds[0].revents & POLLIN) != 0;
}

static void disconnect(ts_sync_t *s)
{
    pthread_mutex_lock(&s->cancel_mu);
    PQfreeCancel(s->cancel);
    s->cancel = NULL;
    pthread_mutex_unlock(&s->cancel_mu);
    PQfinish(s->db);
    s->db = NULL;
}

static int connect_and_listen(ts_sync_t *s)
{
    char err[512];
    if ((s->db = ts_store_connect(s->conf, "tessera-sync", err, sizeof(err))) == NULL) {
        if (s->backoff_ms == 0)
            ts_log_warn("sync: %s", err);
        return -1;
    }
    pthread_mutex_lock(&s->cancel_mu);
    s->cancel = PQgetCancel(s->db);
    pthread_mutex_unlock(&s->cancel_mu);
    if (ts_store_exec(s->db, "LISTEN " CHANNEL, err, sizeof(err)) != 0) {
        ts_log_warn("sync: LISTEN failed: %s", err);
        disconnect(s);
        return -1;
    }
    ts_log_info("sync: listening for changes");
    return 0;
}

static unsigned reload_for_table(const char *table)
{
    if (strcmp(table, "signing_keys") == 0)
        return RELOAD_KEYS;
    if (strcmp(table, "revoked_tokens") == 0)
        return RELOAD_REVOKED;
    return RELOAD_DIRECTORY; /* clients, client_secrets, users, roles and the role assignments */
}

/* reads notifications (consume: from the socket, which must be readable; else only those libpq already parsed
 * while it ran our own queries); returns what to reload (0: nothing), or -1 when the connection broke */
static int take_notifications(ts_sync_t *s, int consume)
{
    PGnotify *n;
    unsigned what = 0;

    if (consume && !PQconsumeInput(s->db))
        return -1;
    while ((n = PQnotifies(s->db)) != NULL) {
        what |= reload_for_table(n->extra);
        PQfreemem(n);
    }
    return (int)what;
}

static void reload(ts_sync_t *s, unsigned what)
{
    char err[512] = "";
    int failed = ((what & RELOAD_KEYS) && load_keyring(s->db, s->kek, s->snaps, err, sizeof(err)) != 0) ||
                 ((what & RELOAD_DIRECTORY) && load_directory(s->db, s->snaps, err, sizeof(err)) != 0) ||
                 ((what & RELOAD_REVOKED) &&
                  ts_store_revoked_load(s->db, s->snaps->revoked, &s->revoked_watermark, err, sizeof(err)) != 0);
    if (failed) {
        ts_log_error("sync: reload failed: %s", err);
        if (PQstatus(s->db) != CONNECTION_OK)
            disconnect(s);
    }
}

static void *run(void *arg)
{
    ts_sync_t *s = arg;
    uint64_t next_reload = 0, next_rotation = ts_monotonic_ms() + rotation_check_ms(s->conf);
    char err[512];

    while (!atomic_load(&s->stopping)) {
        if (s->db == NULL) {
            if (connect_and_listen(s) != 0) {
                s->backoff_ms = s->backoff_ms == 0 ? 200 : (s->backoff_ms * 2 > 5000 ? 5000 : s->backoff_ms * 2);
                if (wait_for(s, (int)s->backoff_ms))
                    break;
                continue;
            }
            s->backoff_ms = 0;
            next_reload = 0; /* whatever changed while we were away */
        }
        uint64_t now = ts_monotonic_ms();
        if (now >= next_reload) {
            flush_usage(s);
            s->revoked_watermark = 0;
            reload(s, RELOAD_ALL);
            ts_revoked_purge(s->snaps->revoked, (int64_t)time(NULL));
            next_reload = now + (uint64_t)s->conf->sync_interval * 1000;
        }
        if (s->db != NULL && now >= next_rotation && !atomic_load(&s->stopping)) {
            if (rotate(s->db, s->conf, s->kek, err, sizeof(err)) != 0)
                ts_log_error("sync: key rotation failed: %s", err);
            else if (ts_store_housekeeping(s->db, err, sizeof(err)) != 0)
                ts_log_warn("sync: housekeeping failed: %s", err);
            next_rotation = now + rotation_check_ms(s->conf);
        }
        if (s->db == NULL)
            continue;
        /* a change announced while our own queries ran was read along with their results: the socket will not
         * wake us for it, so it is taken now rather than at the next timeout */
        int buffered = take_notifications(s, 0);
        if (buffered > 0) {
            reload(s, (unsigned)buffered);
            continue;
        }
        uint64_t until = next_reload < next_rotation ? next_reload : next_rotation;
        now = ts_monotonic_ms();
        if (wait_for(s, until > now ? (int)(until - now) : 0))
            break;
        int changed = s->db != NULL ? take_notifications(s, 1) : 0;
        if (changed < 0) {
            char line[256];
            ts_log_warn("sync: connection lost: %s", ts_store_first_line(PQerrorMessage(s->db), line, sizeof(line)));
            disconnect(s);
        } else if (changed) {
            reload(s, (unsigned)changed);
        }
    }
    if (s->db != NULL && !atomic_load(&s->late)) /* the loops have stopped: what they marked since the last flush */
        flush_usage(s);
    disconnect(s);
    return NULL;
}

ts_sync_t *ts_sync_start(const ts_config_t *conf, const ts_kek_t *kek, ts_snapshots_t *snaps)
{
    ts_sync_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->conf = conf;
    s->kek = kek;
    s->snaps = snaps;
    pthread_mutex_init(&s->cancel_mu, NULL);
    if (pipe(s->stop_pipe) != 0) {
        pthread_mutex_destroy(&s->cancel_mu);
        free(s);
        return NULL;
    }
    if (pthread_create(&s->thread, NULL, run, s) != 0) {
        close(s->stop_pipe[0]);
        close(s->stop_pipe[1]);
        pthread_mutex_destroy(&s->cancel_mu);
        free(s);
        return NULL;
    }
    return s;
}

/* Until the deadline the thread finishes what it is doing (a reload, a rotation) and records client use. After it,
 * whatever it waits for in PostgreSQL (a lock another session holds, a slow reload) is cancelled, every 100 ms
 * until it has returned, and it records nothing more. A connection attempt is not cancellable: connect_timeout
 * (5 s) bounds it. */
void ts_sync_stop_by(ts_sync_t *s, uint64_t deadline)
{
    char why[256];
    ssize_t r;
    int warned = 0;

    if (s == NULL)
        return;
    atomic_store(&s->stopping, 1);
    do
        r = write(s->stop_pipe[1], "x", 1);
    while (r < 0 && errno == EINTR);
    for (;;) {
        uint64_t now = ts_monotonic_ms(), wait = deadline > now ? deadline - now : 100;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t)(wait / 1000);
        until.tv_nsec += (long)(wait % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L)
            until.tv_sec += 1, until.tv_nsec -= 1000000000L;
        if (pthread_timedjoin_np(s->thread, NULL, &until) == 0)
            break;
        if (ts_monotonic_ms() < deadline)
            continue;
        atomic_store(&s->late, 1);
        pthread_mutex_lock(&s->cancel_mu);
        int sent = s->cancel != NULL && PQcancel(s->cancel, why, (int)sizeof(why));
        pthread_mutex_unlock(&s->cancel_mu);
        if (!warned) {
            ts_log_warn("sync: still busy with PostgreSQL at the shutdown deadline: %s", sent ? "its query is cancelled" : "waiting for it");
            warned = 1;
        }
    }
    close(s->stop_pipe[0]);
    close(s->stop_pipe[1]);
    pthread_mutex_destroy(&s->cancel_mu);
    free(s);
}

