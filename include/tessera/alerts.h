#ifndef TESSERA_ALERTS_H
#define TESSERA_ALERTS_H

/* Alert rules over audit events (src/audit/alerts.c): a rule counts the events it matches per key (a source
 * address, a client_id) in a sliding window, and fires once when the count goes over its threshold ("more than
 * 50 in 10 minutes"); for that key it stays quiet until a window has passed. Memory is bounded: at most max_keys
 * keys are tracked, the least recently seen one making room for a new one. Not thread-safe: the audit writer
 * thread is its only user. */
#include <stddef.h>
#include <stdint.h>
#include "tessera/audit.h"
#include "tessera/config.h"

typedef enum en_ts_alert_rule_id_t {
    TS_ALERT_FAILED_LOGINS,  /* action login, outcome failure; per source address */
    TS_ALERT_INVALID_CLIENT, /* action client.auth, outcome failure; per source address */
    TS_ALERT_REFRESH_REUSE,  /* action refresh.reuse; per client */
    TS_ALERT_CODE_REPLAY,    /* action code.replay; per client */
    TS_ALERT_RULES
} ts_alert_rule_id_t;

typedef struct st_ts_alert_rule_t {
    unsigned threshold; /* fires when the count in the window exceeds this */
    unsigned window;    /* seconds; 0: the rule is off */
} ts_alert_rule_t;

#define TS_ALERT_KEY_MAX 64

typedef struct st_ts_alert_t {
    ts_alert_rule_id_t rule;
    char key[TS_ALERT_KEY_MAX];
    unsigned count; /* events in the window when it fired */
    unsigned threshold;
    unsigned window;
} ts_alert_t;

typedef struct st_ts_alerts_t ts_alerts_t;

/** the rules as configured (alert_failed_logins, ...), already validated by ts_config_load */
void ts_alerts_rules_from_config(const ts_config_t *conf, ts_alert_rule_t rules[TS_ALERT_RULES]);
/** a rule set tracking at most max_keys keys over all rules; NULL when out of memory */
ts_alerts_t *ts_alerts_create(const ts_alert_rule_t rules[TS_ALERT_RULES], size_t max_keys);
void ts_alerts_destroy(ts_alerts_t *a);
/** counts e (seen at now_ms, a monotonic clock) under the rule it matches; 1 with *out filled when that raises an
 *  alert, else 0 */
int ts_alerts_observe(ts_alerts_t *a, const ts_audit_event_t *e, uint64_t now_ms, ts_alert_t *out);
/** keys tracked now (at most max_keys) */
size_t ts_alerts_tracked(const ts_alerts_t *a);
/** "failed_logins", "invalid_client", "refresh_reuse", "code_replay" */
const char *ts_alerts_rule_name(ts_alert_rule_id_t rule);

#endif
