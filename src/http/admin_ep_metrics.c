/* GET /metrics on the admin listener: Prometheus text format (version 0.0.4). Only what this process already
 * knows costs nothing to read: the snapshots' sizes, the revoked set, the rate limiter's counters, the admin
 * API's own counters and the audit writer's. Per node: a scraper asks each node. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "http/admin.h"

typedef struct st_text_t {
    char buf[8192];
    size_t len;
} text_t;

static void put(text_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(text_t *t, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (t->len >= sizeof(t->buf))
        return;
    va_start(ap, fmt);
    /* Flawfinder: ignore (next line) - fmt is checked at each call: the variadic wrapper has a printf format attribute */
    n = vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
    va_end(ap);
    t->len = n < 0 ? sizeof(t->buf) : t->len + (size_t)n;
}

static void metric(text_t *t, const char *name, const char *type, const char *help)
{
    put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void directory_metrics(text_t *t, const ts_app_t *app)
{
    ts_directory_t *dir = (ts_directory_t *)ts_slot_acquire(&app->snaps->directory);
    if (dir == NULL)
        return;
    metric(t, "tessera_directory_records", "gauge", "Records in this node's directory snapshot.");
    put(t, "tessera_directory_records{kind=\"client\"} %zu\n", dir->clients.size);
    put(t, "tessera_directory_records{kind=\"user\"} %zu\n", dir->users.size);
    put(t, "tessera_directory_records{kind=\"role\"} %zu\n", dir->roles.size);
    ts_ref_release(&dir->super);
}

static void keyring_metrics(text_t *t, const ts_app_t *app)
{
    static const char *const states[] = {[TS_KEY_NEXT] = "next", [TS_KEY_CURRENT] = "current", [TS_KEY_RETIRED] = "retired"};
    size_t count[3] = {0, 0, 0};
    ts_keyring_t *ring = (ts_keyring_t *)ts_slot_acquire(&app->snaps->keyring);

    if (ring == NULL)
        return;
    for (size_t i = 0; i < ring->count; ++i)
        if ((unsigned)ring->entries[i].state < 3)
            count[ring->entries[i].state]++;
    ts_ref_release(&ring->super);
    metric(t, "tessera_signing_keys", "gauge", "Published signing keys by state (both algorithms).");
    for (size_t s = 0; s < 3; ++s)
        put(t, "tessera_signing_keys{state=\"%s\"} %zu\n", states[s], count[s]);
}

int ts_admin_ep_metrics(ts_admin_req_t *ar)
{
    const ts_app_t *app = ar->app;
    ts_admin_stats_t stats = ts_admin__stats(ar->admin);
    text_t *t = h2o_mem_alloc_pool(&ar->req->pool, sizeof(*t));

    t->len = 0;
    metric(t, "tessera_build_info", "gauge", "The running version.");
    put(t, "tessera_build_info{version=\"%s\"} 1\n", TESSERA_VERSION);
    metric(t, "tessera_start_time_seconds", "gauge", "When the server started, in seconds since the Unix epoch.");
    put(t, "tessera_start_time_seconds %lld\n", (long long)stats.started_at);
    directory_metrics(t, app);
    keyring_metrics(t, app);
    metric(t, "tessera_revoked_entries", "gauge", "Revoked token ids and grant families held in memory.");
    put(t, "tessera_revoked_entries %zu\n", ts_revoked_size(app->snaps->revoked));
    if (app->ratelimit != NULL) {
        ts_ratelimit_stats_t rl;
        ts_ratelimit_stats(app->ratelimit, &rl);
        metric(t, "tessera_ratelimit_allowed_total", "counter", "Requests the rate limits let through.");
        put(t, "tessera_ratelimit_allowed_total %llu\n", (unsigned long long)rl.allowed);
        metric(t, "tessera_ratelimit_limited_total", "counter", "Requests refused with 429 by the rate limits.");
        put(t, "tessera_ratelimit_limited_total %llu\n", (unsigned long long)rl.limited);
        metric(t, "tessera_ratelimit_evicted_active_total", "counter",
               "Rate-limit entries evicted before their bucket refilled (the table is too small if this grows).");
        put(t, "tessera_ratelimit_evicted_active_total %llu\n", (unsigned long long)rl.evicted_active);
        metric(t, "tessera_ratelimit_entries", "gauge", "Keys the rate limiter holds.");
        put(t, "tessera_ratelimit_entries %zu\n", rl.entries);
    }
    metric(t, "tessera_admin_requests_total", "counter", "Requests to the admin listener.");
    put(t, "tessera_admin_requests_total %llu\n", (unsigned long long)stats.requests);
    metric(t, "tessera_admin_requests_refused_total", "counter", "Admin requests refused for want of a valid admin token.");
    put(t, "tessera_admin_requests_refused_total %llu\n", (unsigned long long)stats.refused);
    uint64_t written, dropped, alerts;
    ts_audit_counters(app->audit, &written, &dropped, &alerts);
    metric(t, "tessera_audit_events_written_total", "counter", "Audit events written to the database.");
    put(t, "tessera_audit_events_written_total %llu\n", (unsigned long long)written);
    metric(t, "tessera_audit_events_dropped_total", "counter", "Audit events dropped because the queue was full.");
    put(t, "tessera_audit_events_dropped_total %llu\n", (unsigned long long)dropped);
    metric(t, "tessera_audit_alerts_total", "counter", "Alerts raised by the audit rules.");
    put(t, "tessera_audit_alerts_total %llu\n", (unsigned long long)alerts);
    if (t->len >= sizeof(t->buf))
        return ts_http_send_error(ar->req, TS_ERR_SERVER_ERROR, NULL);
    return ts_http_send(ar->req, 200, "text/plain; version=0.0.4; charset=utf-8", t->buf, t->len);
}
