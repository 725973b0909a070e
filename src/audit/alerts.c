/* Sliding-window counters per (rule, key). Each key keeps SLOTS counters, each covering a twentieth of the
 * rule's window: the count is the sum of the slots of the last window, so an event stops counting between
 * window - window/20 and window after it happened, and memory per key is fixed. Keys live in a fixed pool
 * (allocated once) indexed by a hash table and ordered by last use: a new key takes a free entry or the least
 * recently used one. An attacker spreading over more addresses than the pool holds evades the per-address
 * count; the pool is sized so that this takes thousands of addresses within one window. */
#include <stdlib.h>
#include <string.h>
#include "tessera/alerts.h"

#define SLOTS 20

typedef struct st_entry_t {
    struct st_entry_t *hnext;         /* hash chain */
    struct st_entry_t *newer, *older; /* use order: a->newest ... a->oldest */
    ts_alert_rule_id_t rule;
    char key[TS_ALERT_KEY_MAX];
    uint64_t slot_no[SLOTS]; /* which slot (now / slot width) each counter holds */
    uint32_t count[SLOTS];
    uint64_t quiet_until; /* fired: not again before this (ms) */
} entry_t;

struct st_ts_alerts_t {
    ts_alert_rule_t rules[TS_ALERT_RULES];
    entry_t *pool, **buckets, *newest, *oldest;
    size_t capacity, used, nbuckets;
};

static const char *const names[TS_ALERT_RULES] = {"failed_logins", "invalid_client", "refresh_reuse", "code_replay"};

const char *ts_alerts_rule_name(ts_alert_rule_id_t rule)
{
    return rule < TS_ALERT_RULES ? names[rule] : "unknown";
}

void ts_alerts_rules_from_config(const ts_config_t *conf, ts_alert_rule_t rules[TS_ALERT_RULES])
{
    const char *text[TS_ALERT_RULES] = {conf->alert_failed_logins, conf->alert_invalid_client, conf->alert_refresh_reuse,
                                        conf->alert_code_replay};
    for (int i = 0; i < TS_ALERT_RULES; ++i)
        if (text[i] == NULL || ts_config_parse_threshold(text[i], &rules[i].threshold, &rules[i].window) != 0)
            rules[i] = (ts_alert_rule_t){0, 0};
}

ts_alerts_t *ts_alerts_create(const ts_alert_rule_t rules[TS_ALERT_RULES], size_t max_keys)
{
    ts_alerts_t *a = calloc(1, sizeof(*a));

    if (a == NULL || max_keys == 0)
        goto fail;
    memcpy(a->rules, rules, sizeof(a->rules)); /* Flawfinder: ignore - same type and size */
    a->capacity = max_keys;
    for (a->nbuckets = 16; a->nbuckets < max_keys; a->nbuckets *= 2)
        ;
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): buckets is an array of pointers */
    if ((a->pool = calloc(max_keys, sizeof(*a->pool))) == NULL || (a->buckets = calloc(a->nbuckets, sizeof(*a->buckets))) == NULL)
        goto fail;
    return a;
fail:
    ts_alerts_destroy(a);
    return NULL;
}

void ts_alerts_destroy(ts_alerts_t *a)
{
    if (a == NULL)
        return;
    free(a->pool);
    free(a->buckets);
    free(a);
}

size_t ts_alerts_tracked(const ts_alerts_t *a)
{
    return a->used;
}

/* the rule e counts under, and its key; -1 when none matches */
static int match(const ts_audit_event_t *e, const char **key)
{
    const char *src = e->source != NULL ? e->source : "unknown", *actor = e->actor != NULL ? e->actor : "unknown";

    if (e->action == NULL)
        return -1;
    if (strcmp(e->action, "login") == 0 && e->outcome == TS_AUDIT_FAILURE)
        return *key = src, TS_ALERT_FAILED_LOGINS;
    if (strcmp(e->action, "client.auth") == 0 && e->outcome == TS_AUDIT_FAILURE)
        return *key = src, TS_ALERT_INVALID_CLIENT;
    if (strcmp(e->action, "refresh.reuse") == 0)
        return *key = actor, TS_ALERT_REFRESH_REUSE;
    if (strcmp(e->action, "code.replay") == 0)
        return *key = actor, TS_ALERT_CODE_REPLAY;
    return -1;
}

static size_t bucket_of(const ts_alerts_t *a, int rule, const char *key)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)rule; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; ++p)
        h = (h ^ *p) * 1099511628211ull;
    return (size_t)(h & (a->nbuckets - 1));
}

static void unlink_use(ts_alerts_t *a, entry_t *e)
{
    if (e->newer != NULL)
        e->newer->older = e->older;
    else
        a->newest = e->older;
    if (e->older != NULL)
        e->older->newer = e->newer;
    else
        a->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void push_newest(ts_alerts_t *a, entry_t *e)
{
    e->older = a->newest;
    e->newer = NULL;
    if (a->newest != NULL)
        a->newest->newer = e;
    a->newest = e;
    if (a->oldest == NULL)
        a->oldest = e;
}

static void unlink_hash(ts_alerts_t *a, entry_t *e)
{
    for (entry_t **p = &a->buckets[bucket_of(a, e->rule, e->key)]; *p != NULL; p = &(*p)->hnext)
        if (*p == e) {
            *p = e->hnext;
            return;
        }
}

static entry_t *lookup_or_add(ts_alerts_t *a, int rule, const char *key)
{
    char k[TS_ALERT_KEY_MAX];
    size_t n = strlen(key);
    if (n >= sizeof(k))
        n = sizeof(k) - 1;
    memcpy(k, key, n); /* Flawfinder: ignore - n < sizeof(k) */
    k[n] = '\0';

    size_t b = bucket_of(a, rule, k);
    for (entry_t *e = a->buckets[b]; e != NULL; e = e->hnext)
        if (e->rule == (ts_alert_rule_id_t)rule && strcmp(e->key, k) == 0) {
            unlink_use(a, e);
            push_newest(a, e);
            return e;
        }
    entry_t *e;
    if (a->used < a->capacity) {
        e = &a->pool[a->used++];
    } else {
        e = a->oldest;
        unlink_use(a, e);
        unlink_hash(a, e);
    }
    memset(e, 0, sizeof(*e));
    e->rule = (ts_alert_rule_id_t)rule;
    memcpy(e->key, k, n + 1); /* Flawfinder: ignore - n < sizeof(e->key) */
    e->hnext = a->buckets[b];
    a->buckets[b] = e;
    push_newest(a, e);
    return e;
}

int ts_alerts_observe(ts_alerts_t *a, const ts_audit_event_t *ev, uint64_t now_ms, ts_alert_t *out)
{
    const char *key = NULL;
    int rule = a != NULL ? match(ev, &key) : -1;

    if (rule < 0 || a->rules[rule].window == 0)
        return 0;
    const ts_alert_rule_t *r = &a->rules[rule];
    uint64_t width = (uint64_t)r->window * 1000 / SLOTS, slot, total = 0;
    if (width == 0)
        width = 1;
    slot = now_ms / width;

    entry_t *e = lookup_or_add(a, rule, key);
    size_t i = (size_t)(slot % SLOTS);
    if (e->slot_no[i] != slot) {
        e->slot_no[i] = slot;
        e->count[i] = 0;
    }
    if (e->count[i] < UINT32_MAX)
        e->count[i]++;
    for (size_t j = 0; j < SLOTS; ++j)
        if (e->slot_no[j] <= slot && slot - e->slot_no[j] < SLOTS)
            total += e->count[j];
    if (total <= r->threshold || now_ms < e->quiet_until)
        return 0;
    e->quiet_until = now_ms + (uint64_t)r->window * 1000;
    *out = (ts_alert_t){.rule = (ts_alert_rule_id_t)rule,
                        .count = total > UINT32_MAX ? UINT32_MAX : (unsigned)total,
                        .threshold = r->threshold,
                        .window = r->window};
    memcpy(out->key, e->key, sizeof(out->key)); /* Flawfinder: ignore - same size */
    return 1;
}
