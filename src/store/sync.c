/* The sync thread: blocking libpq is fine here, this thread serves no requests. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <libpq-fe.h>
#include "tessera/keyring.h"
#include "tessera/log.h"
#include "tessera/store.h"
#include "tessera/sync.h"

#define CHANNEL "tessera_changes"

struct st_ts_sync_t {
    const ts_config_t *conf;
    const ts_kek_t *kek;
    ts_snapshots_t *snaps;
    pthread_t thread;
    int stop_pipe[2];
    PGconn *db;
    unsigned backoff_ms;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

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
    if (ts_store_exec(s->db, "LISTEN " CHANNEL, err, sizeof(err)) != 0) {
        ts_log_warn("sync: LISTEN failed: %s", err);
        disconnect(s);
        return -1;
    }
    ts_log_info("sync: listening for changes");
    return 0;
}

/* reads notifications; returns 1 when something this node caches changed, -1 when the connection broke */
static int take_notifications(ts_sync_t *s)
{
    PGnotify *n;
    int changed = 0;

    if (!PQconsumeInput(s->db))
        return -1;
    while ((n = PQnotifies(s->db)) != NULL) {
        changed = 1;
        PQfreemem(n);
    }
    return changed;
}

static void reload(ts_sync_t *s)
{
    char err[512];
    if (load_keyring(s->db, s->kek, s->snaps, err, sizeof(err)) != 0) {
        ts_log_error("sync: reload failed: %s", err);
        if (PQstatus(s->db) != CONNECTION_OK)
            disconnect(s);
    }
}

static void *run(void *arg)
{
    ts_sync_t *s = arg;
    uint64_t next_reload = 0, next_rotation = now_ms() + rotation_check_ms(s->conf);
    char err[512];

    for (;;) {
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
        uint64_t now = now_ms();
        if (now >= next_reload) {
            reload(s);
            next_reload = now + (uint64_t)s->conf->sync_interval * 1000;
        }
        if (s->db != NULL && now >= next_rotation) {
            if (rotate(s->db, s->conf, s->kek, err, sizeof(err)) != 0)
                ts_log_error("sync: key rotation failed: %s", err);
            next_rotation = now + rotation_check_ms(s->conf);
        }
        if (s->db == NULL)
            continue;
        uint64_t until = next_reload < next_rotation ? next_reload : next_rotation;
        now = now_ms();
        if (wait_for(s, until > now ? (int)(until - now) : 0))
            break;
        int changed = take_notifications(s);
        if (changed < 0) {
            char line[256];
            ts_log_warn("sync: connection lost: %s", ts_store_first_line(PQerrorMessage(s->db), line, sizeof(line)));
            disconnect(s);
        } else if (changed) {
            reload(s);
        }
    }
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
    if (pipe(s->stop_pipe) != 0) {
        free(s);
        return NULL;
    }
    if (pthread_create(&s->thread, NULL, run, s) != 0) {
        close(s->stop_pipe[0]);
        close(s->stop_pipe[1]);
        free(s);
        return NULL;
    }
    return s;
}

void ts_sync_stop(ts_sync_t *s)
{
    if (s == NULL)
        return;
    ssize_t r;
    do
        r = write(s->stop_pipe[1], "x", 1);
    while (r < 0 && errno == EINTR);
    pthread_join(s->thread, NULL);
    close(s->stop_pipe[0]);
    close(s->stop_pipe[1]);
    free(s);
}
