/* src/audit/alerts.c on a fake clock: a rule fires when the count goes over its threshold and not below, once
 * per window per key, keys and rules are separate, old events leave the window, memory stays bounded; and the
 * threshold syntax of the configuration. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "tessera/alerts.h"

#define T0 1700000000000ull /* ms */
#define SEC 1000ull

static ts_alerts_t *rules(unsigned threshold, unsigned window, size_t max_keys)
{
    ts_alert_rule_t r[TS_ALERT_RULES];
    for (int i = 0; i < TS_ALERT_RULES; ++i)
        r[i] = (ts_alert_rule_t){threshold, window};
    ts_alerts_t *a = ts_alerts_create(r, max_keys);
    assert_non_null(a);
    return a;
}

static int bad_client(ts_alerts_t *a, const char *addr, uint64_t now, ts_alert_t *out)
{
    ts_audit_event_t e = {.action = "client.auth", .outcome = TS_AUDIT_FAILURE, .source = addr};
    return ts_alerts_observe(a, &e, now, out);
}

static void fires_over_threshold_not_below(void **state)
{
    ts_alerts_t *a = rules(3, 60, 64);
    ts_alert_t al;

    for (int i = 1; i <= 3; ++i)
        assert_int_equal(bad_client(a, "192.0.2.1", T0 + (uint64_t)i * SEC, &al), 0);
    assert_int_equal(bad_client(a, "192.0.2.1", T0 + 4 * SEC, &al), 1);
    assert_int_equal(al.rule, TS_ALERT_INVALID_CLIENT);
    assert_string_equal(al.key, "192.0.2.1");
    assert_int_equal(al.count, 4);
    assert_int_equal(al.threshold, 3);
    assert_int_equal(al.window, 60);
    assert_string_equal(ts_alerts_rule_name(al.rule), "invalid_client");
    ts_alerts_destroy(a);
}

static void once_per_window(void **state)
{
    ts_alerts_t *a = rules(3, 60, 64);
    ts_alert_t al;
    int fired = 0;

    for (int i = 0; i < 50; ++i) /* a flood within the window: one alert */
        fired += bad_client(a, "192.0.2.1", T0 + (uint64_t)i * 100, &al);
    assert_int_equal(fired, 1);
    /* still flooding after the window has passed since the alert: one more */
    fired = 0;
    for (int i = 0; i < 50; ++i)
        fired += bad_client(a, "192.0.2.1", T0 + 70 * SEC + (uint64_t)i * 100, &al);
    assert_int_equal(fired, 1);
    ts_alerts_destroy(a);
}

static void zero_threshold_fires_on_first(void **state)
{
    ts_alerts_t *a = rules(0, 3600, 64);
    ts_audit_event_t e = {.action = "refresh.reuse", .outcome = TS_AUDIT_FAILURE, .actor = "webapp"};
    ts_alert_t al;

    assert_int_equal(ts_alerts_observe(a, &e, T0, &al), 1);
    assert_int_equal(al.rule, TS_ALERT_REFRESH_REUSE);
    assert_string_equal(al.key, "webapp");
    assert_int_equal(al.count, 1);
    assert_int_equal(ts_alerts_observe(a, &e, T0 + SEC, &al), 0);
    e.action = "code.replay";
    assert_int_equal(ts_alerts_observe(a, &e, T0 + SEC, &al), 1);
    assert_int_equal(al.rule, TS_ALERT_CODE_REPLAY);
    ts_alerts_destroy(a);
}

static void keys_are_separate(void **state)
{
    ts_alerts_t *a = rules(3, 60, 64);
    ts_alert_t al;

    for (int i = 0; i < 3; ++i) {
        assert_int_equal(bad_client(a, "192.0.2.1", T0, &al), 0);
        assert_int_equal(bad_client(a, "192.0.2.2", T0, &al), 0);
    }
    assert_int_equal(bad_client(a, "192.0.2.1", T0, &al), 1);
    assert_string_equal(al.key, "192.0.2.1");
    assert_int_equal(bad_client(a, "192.0.2.2", T0, &al), 1);
    assert_string_equal(al.key, "192.0.2.2");
    ts_alerts_destroy(a);
}

static void rules_are_separate(void **state)
{
    ts_alerts_t *a = rules(3, 60, 64);
    ts_alert_t al;
    ts_audit_event_t login = {.action = "login", .outcome = TS_AUDIT_FAILURE, .source = "192.0.2.1"};
    ts_audit_event_t ok = {.action = "client.auth", .outcome = TS_AUDIT_SUCCESS, .source = "192.0.2.1"};
    ts_audit_event_t other = {.action = "token.refuse", .outcome = TS_AUDIT_FAILURE, .source = "192.0.2.1"};

    for (int i = 0; i < 3; ++i) {
        assert_int_equal(bad_client(a, "192.0.2.1", T0, &al), 0);
        assert_int_equal(ts_alerts_observe(a, &login, T0, &al), 0);
    }
    /* neither successes nor other actions count */
    for (int i = 0; i < 10; ++i) {
        assert_int_equal(ts_alerts_observe(a, &ok, T0, &al), 0);
        assert_int_equal(ts_alerts_observe(a, &other, T0, &al), 0);
    }
    assert_int_equal(ts_alerts_observe(a, &login, T0, &al), 1);
    assert_int_equal(al.rule, TS_ALERT_FAILED_LOGINS);
    assert_int_equal(bad_client(a, "192.0.2.1", T0, &al), 1);
    assert_int_equal(al.rule, TS_ALERT_INVALID_CLIENT);
    ts_alerts_destroy(a);
}

static void old_events_leave_the_window(void **state)
{
    ts_alerts_t *a = rules(3, 60, 64);
    ts_alert_t al;

    for (int i = 0; i < 3; ++i)
        assert_int_equal(bad_client(a, "192.0.2.1", T0, &al), 0);
    /* a minute and a second later the first three are gone: 1, 2, 3 in the new window... */
    for (int i = 0; i < 3; ++i)
        assert_int_equal(bad_client(a, "192.0.2.1", T0 + 61 * SEC + (uint64_t)i, &al), 0);
    /* ...and the fourth within it fires */
    assert_int_equal(bad_client(a, "192.0.2.1", T0 + 62 * SEC, &al), 1);
    assert_int_equal(al.count, 4);

    /* within the window (less one slot, a twentieth of it), events still count */
    ts_alerts_t *b = rules(3, 60, 64);
    for (int i = 0; i < 3; ++i)
        assert_int_equal(bad_client(b, "192.0.2.9", T0, &al), 0);
    assert_int_equal(bad_client(b, "192.0.2.9", T0 + 56 * SEC, &al), 1);
    ts_alerts_destroy(b);
    ts_alerts_destroy(a);
}

static void disabled_rule(void **state)
{
    ts_alerts_t *a = rules(0, 0, 64);
    ts_alert_t al;
    for (int i = 0; i < 100; ++i)
        assert_int_equal(bad_client(a, "192.0.2.1", T0, &al), 0);
    assert_int_equal(ts_alerts_tracked(a), 0);
    ts_alerts_destroy(a);
}

static void bounded_memory(void **state)
{
    ts_alerts_t *a = rules(3, 60, 8);
    ts_alert_t al;
    char addr[32];

    for (int i = 0; i < 1000; ++i) {
        snprintf(addr, sizeof(addr), "10.0.%d.%d", i / 256, i % 256);
        assert_int_equal(bad_client(a, addr, T0, &al), 0);
        assert_true(ts_alerts_tracked(a) <= 8);
    }
    assert_int_equal(ts_alerts_tracked(a), 8);
    /* a key seen recently is kept while others come and go */
    for (int i = 0; i < 3; ++i)
        bad_client(a, "192.0.2.1", T0, &al);
    for (int i = 0; i < 6; ++i) {
        snprintf(addr, sizeof(addr), "10.1.0.%d", i);
        bad_client(a, addr, T0, &al);
    }
    assert_int_equal(bad_client(a, "192.0.2.1", T0, &al), 1);
    ts_alerts_destroy(a);
}

static void long_keys_are_cut(void **state)
{
    ts_alerts_t *a = rules(0, 60, 8);
    ts_audit_event_t e = {.action = "refresh.reuse", .outcome = TS_AUDIT_FAILURE};
    char actor[300];
    ts_alert_t al;

    memset(actor, 'c', sizeof(actor) - 1);
    actor[sizeof(actor) - 1] = '\0';
    e.actor = actor;
    assert_int_equal(ts_alerts_observe(a, &e, T0, &al), 1);
    assert_int_equal(strlen(al.key), TS_ALERT_KEY_MAX - 1);
    ts_alerts_destroy(a);
}

static void threshold_syntax(void **state)
{
    unsigned n, w;
    assert_int_equal(ts_config_parse_threshold("50/10m", &n, &w), 0);
    assert_int_equal(n, 50);
    assert_int_equal(w, 600);
    assert_int_equal(ts_config_parse_threshold("0/1h", &n, &w), 0);
    assert_int_equal(n, 0);
    assert_int_equal(w, 3600);
    assert_int_equal(ts_config_parse_threshold("3/1m", &n, &w), 0);
    assert_int_equal(ts_config_parse_threshold("off", &n, &w), 0);
    assert_int_equal(w, 0);
    assert_int_equal(ts_config_parse_threshold("", &n, &w), 0);
    assert_int_equal(w, 0);
    static const char *const bad[] = {"50", "50/", "/10m", "x/1m", "5/0s", "5/8d", "5/10x", "-1/1m", "1000001/1m", "5/10m "};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i)
        if (ts_config_parse_threshold(bad[i], &n, &w) != -1)
            fail_msg("'%s' accepted", bad[i]);
}

static void config_rules(void **state)
{
    ts_config_t c;
    ts_alert_rule_t r[TS_ALERT_RULES];
    char err[256];

    assert_int_equal(ts_config_load(&c, NULL, err, sizeof(err)), 0);
    ts_alerts_rules_from_config(&c, r);
    assert_int_equal(r[TS_ALERT_FAILED_LOGINS].threshold, 50);
    assert_int_equal(r[TS_ALERT_FAILED_LOGINS].window, 600);
    assert_int_equal(r[TS_ALERT_INVALID_CLIENT].threshold, 20);
    assert_int_equal(r[TS_ALERT_INVALID_CLIENT].window, 60);
    assert_int_equal(r[TS_ALERT_REFRESH_REUSE].threshold, 0);
    assert_int_equal(r[TS_ALERT_REFRESH_REUSE].window, 3600);
    assert_int_equal(ts_config_set(&c, "alert_failed_logins", "off", TS_CONFIG_FILE, err, sizeof(err)), 0);
    ts_alerts_rules_from_config(&c, r);
    assert_int_equal(r[TS_ALERT_FAILED_LOGINS].window, 0);
    ts_config_dispose(&c);

    /* a malformed rule or webhook stops start-up, naming the key */
    setenv("TESSERA_ALERT_INVALID_CLIENT", "20", 1);
    assert_int_equal(ts_config_load(&c, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "alert_invalid_client"));
    ts_config_dispose(&c);
    unsetenv("TESSERA_ALERT_INVALID_CLIENT");
    setenv("TESSERA_ALERT_WEBHOOK_URL", "ftp://example.com/", 1);
    assert_int_equal(ts_config_load(&c, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "alert_webhook_url"));
    ts_config_dispose(&c);
    setenv("TESSERA_ALERT_WEBHOOK_URL", "https://hooks.example.com/x?y=1", 1);
    assert_int_equal(ts_config_load(&c, NULL, err, sizeof(err)), 0);
    ts_config_dispose(&c);
    unsetenv("TESSERA_ALERT_WEBHOOK_URL");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fires_over_threshold_not_below),
        cmocka_unit_test(once_per_window),
        cmocka_unit_test(zero_threshold_fires_on_first),
        cmocka_unit_test(keys_are_separate),
        cmocka_unit_test(rules_are_separate),
        cmocka_unit_test(old_events_leave_the_window),
        cmocka_unit_test(disabled_rule),
        cmocka_unit_test(bounded_memory),
        cmocka_unit_test(long_keys_are_cut),
        cmocka_unit_test(threshold_syntax),
        cmocka_unit_test(config_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
