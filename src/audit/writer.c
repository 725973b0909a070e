/* The audit writer: loop threads queue events (ts_audit_emit copies and returns), one writer thread with its own
 * blocking connection appends them in batches (every BATCH_MS or BATCH_MAX events, whichever comes first). When
 * the database is away the writer keeps its batch and retries with backoff while the queue fills (up to
 * QUEUE_MAX events, then new ones are dropped and counted). Before that the log fails closed: after
 * audit_fail_closed_after without a successful append, or past QUEUE_HIGH_WATER, ts_audit_accepting says no and
 * the endpoints refuse what they would record. ts_audit_stop writes what is queued, waiting at most
 * shutdown_timeout for the database, and puts what is left in the server's log.
 *
 * The alert rules see every event as it is emitted, under the queue's lock (so alerts do not wait for the
 * database); an alert is queued as an event of its own right after the one that raised it, logged at level
 * alert, counted, and handed to the webhook thread. */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "audit/webhook.h"
#include "tessera/alerts.h"
#include "tessera/audit.h"
#include "tessera/audit_store.h"
#include "tessera/clock.h"
#include "tessera/log.h"

#define QUEUE_MAX 65536
/* from here on the log refuses more (ts_audit_accepting): the rest is headroom for requests already under way
 * and for the refusals themselves */
#define QUEUE_HIGH_WATER (QUEUE_MAX / 4 * 3)
#define BATCH_MAX 512
#define BATCH_MS 200
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define ALERT_KEYS 4096

/* field bounds: an event is a line of evidence, not a document */
#define NAME_MAX_LEN 256 /* actor, target */
#define ACTION_MAX_LEN 64
#define SOURCE_MAX_LEN 64
#define DETAILS_MAX_LEN 8192

/* one queued event: the strings live in data, after the struct */
typedef struct st_item_t {
    int64_t at_us;
    ts_audit_outcome_t outcome;
    char *actor, *action, *target, *source, *details;
    char data[];
} item_t;

struct st_ts_audit_t {
    const ts_config_t *conf;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* wakes the writer: a full batch, or stop */
    item_t **queue;    /* ring of QUEUE_MAX */
    size_t head, count;
    int stopping;
    uint64_t deadline;   /* once stopping: the database may be waited for until then (monotonic ms) */
    ts_alerts_t *alerts; /* under mu */
    ts_webhook_t *webhook;
    ts_pgconn_t *db; /* the writer thread's */
    int db_down_logged;
    uint64_t failing_since; /* the writer's first failed append since its last success (monotonic ms), or 0 */
    _Atomic int refusing;   /* see ts_audit_accepting */
    _Atomic uint64_t written, dropped, raised;
};

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- copying and cleaning events ----------------------------------------------------------------- */

static size_t bounded(const char *s, size_t max)
{
    return s == NULL ? 0 : strnlen(s, max);
}

/* copies s (at most n bytes) to *at and returns the copy, or NULL for NULL */
static char *put(char **at, const char *s, size_t n)
{
    if (s == NULL)
        return NULL;
    char *copy = *at;
    memcpy(copy, s, n); /* Flawfinder: ignore - the item was sized for every field */
    copy[n] = '\0';
    *at += n + 1;
    return copy;
}

static item_t *item_new(const ts_audit_event_t *e, int64_t at_us)
{
    size_t la = bounded(e->actor, NAME_MAX_LEN), lc = bounded(e->action, ACTION_MAX_LEN), lt = bounded(e->target, NAME_MAX_LEN);
    size_t ls = bounded(e->source, SOURCE_MAX_LEN), ld = bounded(e->details, DETAILS_MAX_LEN + 1);
    const char *details = e->details;

    if (ld > DETAILS_MAX_LEN) {
        details = "{\"truncated\":true}";
        ld = strlen(details);
    }
    item_t *it = malloc(sizeof(*it) + la + lc + lt + ls + ld + 5);
    if (it == NULL)
        return NULL;
    char *at = it->data;
    it->at_us = at_us;
    it->outcome = e->outcome;
    it->actor = put(&at, e->actor, la);
    it->action = put(&at, e->action, lc);
    it->target = put(&at, e->target, lt);
    it->source = put(&at, e->source, ls);
    it->details = put(&at, details, ld);
    return it;
}

/* replaces what PostgreSQL's text type refuses or a log reader would trip on: invalid UTF-8 (a field cut in the
 * middle of a character included) and control characters become '?' */
static void clean_text(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (p != NULL && *p != '\0') {
        size_t n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 ? 4 : 0;
        int ok = n != 0 && (n != 2 || *p >= 0xc2);
        for (size_t i = 1; ok && i < n; ++i)
            ok = (p[i] & 0xc0) == 0x80;
        if (ok && n == 3)
            ok = !(p[0] == 0xe0 && p[1] < 0xa0) && !(p[0] == 0xed && p[1] >= 0xa0); /* overlong, surrogates */
        if (ok && n == 4)
            ok = !(p[0] == 0xf0 && p[1] < 0x90) && !(p[0] == 0xf4 && p[1] >= 0x90) && p[0] <= 0xf4;
        if (!ok || (n == 1 && (*p < 0x20 || *p == 0x7f))) {
            *p++ = '?';
            continue;
        }
        p += n;
    }
}

/* makes the item storable: text PostgreSQL accepts, an address inet accepts, details a JSON object */
static void item_clean(item_t *it)
{
    unsigned char addr[16];
    static char unknown[] = "unknown", invalid[] = "{\"invalid_details\":true}", empty[] = "{}";

    clean_text(it->actor);
    clean_text(it->action);
    clean_text(it->target);
    if (it->action == NULL || *it->action == '\0')
        it->action = unknown;
    if (it->source != NULL && inet_pton(AF_INET, it->source, addr) != 1 && inet_pton(AF_INET6, it->source, addr) != 1)
        it->source = NULL;
    if (it->details == NULL) {
        it->details = empty;
        return;
    }
    json_t *j = json_loads(it->details, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(j))
        it->details = invalid;
    json_decref(j);
}

static ts_audit_row_t item_row(const item_t *it)
{
    return (ts_audit_row_t){.at_us = it->at_us,
                            .actor = it->actor,
                            .action = it->action,
                            .target = it->target,
                            .outcome = ts_audit_outcome_name(it->outcome),
                            .source = it->source,
                            .details = it->details};
}

/* ---- the queue ------------------------------------------------------------------------------------ */

/* queues it (under mu); 0, or -1 when the queue is full */
static int push(ts_audit_t *a, item_t *it)
{
    if (a->count == QUEUE_MAX)
        return -1;
    a->queue[(a->head + a->count) % QUEUE_MAX] = it;
    if (++a->count == BATCH_MAX)
        pthread_cond_signal(&a->cv);
    if (a->count >= QUEUE_HIGH_WATER && !atomic_load(&a->refusing)) {
        atomic_store(&a->refusing, 1);
        ts_log_error("audit: %d events wait to be written: refusing what would add more until they are", QUEUE_HIGH_WATER);
    }
    return 0;
}

int ts_audit_accepting(const ts_audit_t *a)
{
    return a == NULL || !atomic_load(&((ts_audit_t *)a)->refusing); /* atomics are read through a non-const pointer */
}

/* after each append the writer decides whether the log accepts more: not while it has failed for longer than
 * audit_fail_closed_after, nor while the queue is above its high-water mark */
static void judge_accepting(ts_audit_t *a, int wrote)
{
    uint64_t now = ts_monotonic_ms();
    size_t queued;

    if (wrote)
        a->failing_since = 0;
    else if (a->failing_since == 0)
        a->failing_since = now;
    pthread_mutex_lock(&a->mu);
    queued = a->count;
    pthread_mutex_unlock(&a->mu);
    int refuse = (a->failing_since != 0 && now - a->failing_since >= (uint64_t)a->conf->audit_fail_closed_after * 1000) ||
                 queued >= QUEUE_HIGH_WATER;
    if (refuse != atomic_exchange(&a->refusing, refuse)) {
        if (refuse && queued < QUEUE_HIGH_WATER)
            ts_log_error("audit: the log has not been written for %us: refusing what it would have to record until it is",
                         a->conf->audit_fail_closed_after);
        else if (!refuse)
            ts_log_info("audit: the log is written again: accepting requests");
    }
}

/* copies e into the queue (or counts it dropped); with alert non-NULL the rules see it first, and *alert is filled
 * when it raises one (returns 1) */
static int enqueue(ts_audit_t *a, const ts_audit_event_t *e, int64_t at_us, ts_alert_t *alert)
{
    int alerted = 0, queued = -1;
    item_t *it = item_new(e, at_us);

    pthread_mutex_lock(&a->mu);
    if (alert != NULL)
        alerted = ts_alerts_observe(a->alerts, e, ts_monotonic_ms(), alert);
    if (it != NULL && !a->stopping)
        queued = push(a, it);
    pthread_mutex_unlock(&a->mu);
    if (queued != 0) {
        uint64_t n = atomic_fetch_add(&a->dropped, 1) + 1;
        free(it);
        /* logged at the 1st, 2nd, 4th, 8th... so that a long outage does not flood the log */
        if ((n & (n - 1)) == 0)
            ts_log_error("audit: event dropped (%llu so far): the queue is full or the writer has stopped", (unsigned long long)n);
    }
    return alerted;
}

/* ---- alerts --------------------------------------------------------------------------------------- */

static void raise_alert(ts_audit_t *a, const ts_alert_t *al, const char *source, int64_t at_us)
{
    const char *rule = ts_alerts_rule_name(al->rule);
    char window[24], stamp[40], *details, *hook;
    time_t secs = (time_t)(at_us / 1000000);
    struct tm tm;

    snprintf(window, sizeof(window), "%us", al->window);
    gmtime_r(&secs, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *d = json_pack("{s:s, s:s, s:i, s:i, s:s}", "rule", rule, "key", al->key, "count", (int)al->count, "threshold",
                          (int)al->threshold, "window", window);
    details = d != NULL ? json_dumps(d, JSON_COMPACT) : NULL;
    json_decref(d);
    ts_log(TS_LOG_ALERT, "alert %s: %u events for %s within %s (threshold %u)", rule, al->count, al->key, window, al->threshold);
    atomic_fetch_add(&a->raised, 1);
    /* queued right after the event that raised it; not itself shown to the rules */
    enqueue(
        a,
        &(ts_audit_event_t){
            .actor = "system", .action = "alert", .target = rule, .outcome = TS_AUDIT_ALERT, .source = source, .details = details},
        at_us, NULL);
    if (a->webhook != NULL) {
        json_t *body = json_pack("{s:s, s:s, s:i, s:i, s:s, s:s}", "alert", rule, "key", al->key, "count", (int)al->count,
                                 "threshold", (int)al->threshold, "window", window, "at", stamp);
        if ((hook = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL) != NULL)
            ts_audit__webhook_send(a->webhook, hook);
        free(hook);
        json_decref(body);
    }
    free(details);
}

void ts_audit_emit(ts_audit_t *a, const ts_audit_event_t *e)
{
    ts_alert_t alert;

    if (a == NULL || e == NULL)
        return;
    int64_t at_us = wall_us();
    if (enqueue(a, e, at_us, &alert))
        raise_alert(a, &alert, alert.rule == TS_ALERT_FAILED_LOGINS || alert.rule == TS_ALERT_INVALID_CLIENT ? e->source : NULL,
                    at_us);
}

void ts_audit_counters(const ts_audit_t *a, uint64_t *written, uint64_t *dropped, uint64_t *alerts)
{
    ts_audit_t *m = (ts_audit_t *)a; /* atomics are read through a non-const pointer */
    *written = a != NULL ? atomic_load(&m->written) : 0;
    *dropped = a != NULL ? atomic_load(&m->dropped) : 0;
    *alerts = a != NULL ? atomic_load(&m->raised) : 0;
}

/* ---- the writer thread ---------------------------------------------------------------------------- */

static void free_items(item_t **items, size_t n)
{
    for (size_t i = 0; i < n; ++i)
        free(items[i]);
}

static int append(ts_audit_t *a, item_t **items, size_t n, ts_audit_fail_t *why, char *err, size_t errlen)
{
    ts_audit_row_t rows[BATCH_MAX];
    for (size_t i = 0; i < n; ++i)
        rows[i] = item_row(items[i]);
    return ts_store_audit_append(a->db, rows, n, why, err, errlen);
}

static void log_down(ts_audit_t *a, const char *err)
{
    if (!a->db_down_logged)
        ts_log_error("audit: %s; keeping events queued and retrying", err);
    a->db_down_logged = 1;
}

/* the database refused a row of the batch: writes them one at a time and drops those it refuses (cleaning makes
 * this all but impossible: it is the safety net against one event blocking the log). Stops at any other failure
 * and keeps what was not tried. Returns how many are kept (moved to the front of items). */
static size_t write_one_by_one(ts_audit_t *a, item_t **items, size_t n, ts_audit_fail_t *why)
{
    size_t kept = 0, i;
    char err[512];

    for (i = 0; i < n; ++i) {
        if (append(a, items + i, 1, why, err, sizeof(err)) == 0) {
            atomic_fetch_add(&a->written, 1);
        } else if (*why == TS_AUDIT_FAIL_ROWS) {
            ts_log_error("audit: event %s dropped: %s", items[i]->action, err);
            atomic_fetch_add(&a->dropped, 1);
        } else {
            break;
        }
        free(items[i]);
        items[i] = NULL;
    }
    for (; i < n; ++i)
        items[kept++] = items[i];
    return kept;
}

/* writes the batch; *n becomes what is left to retry later (0: done with, written or refused rows dropped) */
static int write_batch(ts_audit_t *a, item_t **items, size_t *n)
{
    char err[512];
    ts_audit_fail_t why = TS_AUDIT_FAIL_NONE;

    if (a->db == NULL) {
        if ((a->db = ts_store_connect(a->conf, "tessera-audit", err, sizeof(err))) == NULL) {
            log_down(a, err);
            return -1;
        }
        /* a stuck lock or statement must not hold the writer (and the shutdown) for ever */
        if (ts_store_audit_session(a->db, err, sizeof(err)) != 0) {
            ts_store_close(a->db);
            a->db = NULL;
            log_down(a, err);
            return -1;
        }
    }
    if (append(a, items, *n, &why, err, sizeof(err)) == 0) {
        if (a->db_down_logged)
            ts_log_info("audit: writing events again");
        a->db_down_logged = 0;
        atomic_fetch_add(&a->written, *n);
        free_items(items, *n);
        *n = 0;
        return 0;
    }
    if (why == TS_AUDIT_FAIL_ROWS)
        *n = write_one_by_one(a, items, *n, &why);
    if (why == TS_AUDIT_FAIL_CONNECTION) {
        ts_store_close(a->db);
        a->db = NULL;
    }
    if (*n == 0)
        return 0;
    log_down(a, err);
    return -1;
}

/* an event the database never took, as a JSON line in the server's log (no secrets: events never hold any) */
static void log_unwritten(const item_t *it)
{
    json_t *j = json_pack("{s:I, s:s?, s:s, s:s?, s:s, s:s?, s:o?}", "at_us", (json_int_t)it->at_us, "actor", it->actor, "action",
                          it->action, "target", it->target, "outcome", ts_audit_outcome_name(it->outcome), "source", it->source,
                          "details", json_loads(it->details, 0, NULL));
    char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
    ts_log_error("audit: unwritten event %s", text != NULL ? text : it->action);
    free(text);
    json_decref(j);
}

/* waits on the writer's condition until ms from now (or a signal); called with mu held */
static void wait_ms(ts_audit_t *a, uint64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000)
        ts.tv_sec++, ts.tv_nsec -= 1000000000;
    pthread_cond_timedwait(&a->cv, &a->mu, &ts);
}

static void *writer_main(void *arg)
{
    ts_audit_t *a = arg;
    item_t *batch[BATCH_MAX];
    size_t n = 0;
    uint64_t backoff = 0;

    for (;;) {
        pthread_mutex_lock(&a->mu);
        size_t fresh = n;
        if (n == 0) {
            if (a->count < BATCH_MAX && !a->stopping)
                wait_ms(a, BATCH_MS);
            for (; n < BATCH_MAX && a->count > 0; ++n, a->head = (a->head + 1) % QUEUE_MAX, a->count--)
                batch[n] = a->queue[a->head];
        }
        int stopping = a->stopping;
        uint64_t deadline = a->deadline;
        pthread_mutex_unlock(&a->mu);
        if (n == 0) {
            if (stopping)
                break;
            continue;
        }
        for (size_t i = fresh; i < n; ++i)
            item_clean(batch[i]); /* off the loop threads: they only copied */
        int wrote = write_batch(a, batch, &n) == 0;
        judge_accepting(a, wrote);
        if (wrote) {
            backoff = 0;
            continue;
        }
        uint64_t now = ts_monotonic_ms();
        if (stopping && now >= deadline)
            break;
        backoff = backoff == 0 ? BACKOFF_MIN_MS : backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
        pthread_mutex_lock(&a->mu);
        wait_ms(a, stopping && deadline - now < backoff ? deadline - now : backoff);
        pthread_mutex_unlock(&a->mu);
    }
    /* what could not be written before the deadline goes to the log, one line each, so that it is not lost */
    pthread_mutex_lock(&a->mu);
    size_t lost = n + a->count;
    for (size_t i = 0; i < n; ++i)
        log_unwritten(batch[i]);
    free_items(batch, n);
    for (; a->count > 0; a->head = (a->head + 1) % QUEUE_MAX, a->count--) {
        item_clean(a->queue[a->head]);
        log_unwritten(a->queue[a->head]);
        free(a->queue[a->head]);
    }
    pthread_mutex_unlock(&a->mu);
    if (lost > 0) {
        atomic_fetch_add(&a->dropped, lost);
        ts_log_error("audit: %zu event(s) not written: the database was unavailable until the shutdown deadline; each is "
                     "in the log above as \"audit: unwritten event\"",
                     lost);
    }
    if (a->db != NULL)
        ts_store_close(a->db);
    a->db = NULL;
    return NULL;
}

ts_audit_t *ts_audit_start(const ts_config_t *conf, char *err, size_t errlen)
{
    ts_audit_t *a = calloc(1, sizeof(*a));
    ts_alert_rule_t rules[TS_ALERT_RULES];

    /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
    if (a == NULL || (a->queue = calloc(QUEUE_MAX, sizeof(*a->queue))) == NULL) {
        snprintf(err, errlen, "audit: out of memory");
        goto fail;
    }
    a->conf = conf;
    ts_alerts_rules_from_config(conf, rules);
    if ((a->alerts = ts_alerts_create(rules, ALERT_KEYS)) == NULL) {
        snprintf(err, errlen, "audit: out of memory");
        goto fail;
    }
    if (*conf->alert_webhook_url != '\0' && (a->webhook = ts_audit__webhook_start(conf->alert_webhook_url, err, errlen)) == NULL)
        goto fail;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&a->cv, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&a->mu, NULL);
    if (pthread_create(&a->thread, NULL, writer_main, a) != 0) {
        snprintf(err, errlen, "audit: cannot start the writer thread");
        pthread_cond_destroy(&a->cv);
        pthread_mutex_destroy(&a->mu);
        goto fail;
    }
    return a;
fail:
    if (a != NULL) {
        ts_audit__webhook_stop(a->webhook, 0);
        ts_alerts_destroy(a->alerts);
        free(a->queue);
        free(a);
    }
    return NULL;
}

void ts_audit_stop(ts_audit_t *a)
{
    ts_audit_stop_by(a, ts_monotonic_ms() + (a != NULL ? (uint64_t)a->conf->shutdown_timeout * 1000 : 0));
}

void ts_audit_stop_by(ts_audit_t *a, uint64_t deadline)
{
    uint64_t written, dropped, alerts;

    if (a == NULL)
        return;
    pthread_mutex_lock(&a->mu);
    a->stopping = 1;
    a->deadline = deadline;
    pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->thread, NULL);
    ts_audit__webhook_stop(a->webhook, deadline); /* what time the writer left */
    ts_audit_counters(a, &written, &dropped, &alerts);
    ts_log_info("audit: stopped (%llu events written, %llu dropped, %llu alerts)", (unsigned long long)written,
                (unsigned long long)dropped, (unsigned long long)alerts);
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
    ts_alerts_destroy(a->alerts);
    free(a->queue);
    free(a);
}

/* ---- the CLI's way: one event now, in the caller's transaction ------------------------------------ */

int ts_audit_write(ts_pgconn_t *db, const ts_audit_event_t *e, char *err, size_t errlen)
{
    item_t *it = item_new(e, wall_us());
    if (it == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    item_clean(it);
    ts_audit_row_t row = item_row(it);
    int ret = ts_store_audit_append(db, &row, 1, NULL, err, errlen);
    free(it);
    return ret;
}
