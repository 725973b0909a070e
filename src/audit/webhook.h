#ifndef TESSERA_AUDIT_WEBHOOK_H
#define TESSERA_AUDIT_WEBHOOK_H

/* The alert webhook (src/audit/webhook.c): a thread of its own POSTs queued JSON bodies to one URL, each within a
 * bounded time, so that neither the loop threads nor the audit writer ever wait on it. */
#include <stddef.h>
#include <stdint.h>

typedef struct st_ts_webhook_t ts_webhook_t;

/* a parsed http:// or https:// URL */
typedef struct st_ts_webhook_url_t {
    int tls;
    char host[256]; /* without brackets for an IPv6 literal */
    char port[8];
    char path[1024]; /* with the query, "/" when empty */
    char shown[300]; /* scheme://host:port, for log lines: the path may hold a token */
} ts_webhook_url_t;

/** parses url; 0 or -1 with err */
int ts_audit__webhook_parse(const char *url, ts_webhook_url_t *out, char *err, size_t errlen);
/** one POST of body (application/json) within timeout_ms: the response's status, or -1 with err */
int ts_audit__webhook_post_now(const ts_webhook_url_t *u, void *ssl_ctx, const char *body, int timeout_ms, char *err,
                               size_t errlen);

/** starts the thread for url; NULL with err */
ts_webhook_t *ts_audit__webhook_start(const char *url, char *err, size_t errlen);
/** queues a copy of body; when too many are waiting it is dropped (and logged) */
void ts_audit__webhook_send(ts_webhook_t *w, const char *body);
/** sends what is queued until deadline (CLOCK_MONOTONIC milliseconds; 0: give up at once), then stops the thread;
 *  NULL is a no-op */
void ts_audit__webhook_stop(ts_webhook_t *w, uint64_t deadline);

#endif
