/* src/audit/writer.c and webhook.c without a database: alerts are raised as events are emitted (the database
 * being away does not delay them), nothing queued is silently lost at stop (written + dropped = emitted), a
 * full queue drops and counts, NULL is a no-op; the webhook's URL parsing and one POST to a local listener. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "audit/webhook.h"
#include "tessera/audit.h"

/* a configuration whose database is nowhere: every connection attempt fails at once */
static void load_conf(ts_config_t *c)
{
    char err[256];
    setenv("TESSERA_ALERT_INVALID_CLIENT", "3/1m", 1);
    setenv("TESSERA_SHUTDOWN_TIMEOUT", "1s", 1);
    setenv("DATABASE_URL", "postgresql:///none?host=/nonexistent-tessera-test", 1);
    assert_int_equal(ts_config_load(c, NULL, err, sizeof(err)), 0);
    unsetenv("TESSERA_ALERT_INVALID_CLIENT");
    unsetenv("TESSERA_SHUTDOWN_TIMEOUT");
    unsetenv("DATABASE_URL");
}

static void alerts_without_database(void **state)
{
    ts_config_t c;
    char err[256];
    uint64_t written, dropped, alerts;

    load_conf(&c);
    ts_audit_t *a = ts_audit_start(&c, err, sizeof(err));
    assert_non_null(a);
    ts_audit_event_t e = {.action = "client.auth", .outcome = TS_AUDIT_FAILURE, .source = "192.0.2.7"};
    for (int i = 0; i < 3; ++i)
        ts_audit_emit(a, &e);
    ts_audit_counters(a, &written, &dropped, &alerts);
    assert_int_equal(alerts, 0);
    ts_audit_emit(a, &e);
    ts_audit_counters(a, &written, &dropped, &alerts);
    assert_int_equal(alerts, 1);
    ts_audit_emit(a, &e);
    ts_audit_counters(a, &written, &dropped, &alerts);
    assert_int_equal(alerts, 1);
    ts_audit_stop(a); /* waits shutdown_timeout (1 s) for the database, then counts what it could not write */
    ts_config_dispose(&c);
}

static void full_queue_drops_and_counts(void **state)
{
    ts_config_t c;
    char err[256];
    uint64_t written, dropped, alerts;
    const int n = 70000; /* more than the queue holds */

    load_conf(&c);
    ts_audit_t *a = ts_audit_start(&c, err, sizeof(err));
    assert_non_null(a);
    ts_audit_event_t e = {.actor = "svc", .action = "token.issue", .outcome = TS_AUDIT_SUCCESS, .details = "{\"jti\":\"x\"}"};
    for (int i = 0; i < n; ++i)
        ts_audit_emit(a, &e);
    ts_audit_counters(a, &written, &dropped, &alerts);
    assert_int_equal(written, 0);
    assert_true(dropped >= (uint64_t)(n - 65536 - 512));
    assert_true(dropped <= (uint64_t)(n - 65536));
    ts_audit_emit(NULL, &e); /* no writer: nothing happens */
    ts_audit_counters(NULL, &written, &dropped, &alerts);
    assert_int_equal(written + dropped + alerts, 0);
    ts_audit_stop(NULL);
    ts_audit_stop(a);
    ts_config_dispose(&c);
}

/* ---- the webhook ----------------------------------------------------------------------------------- */

static void url_parsing(void **state)
{
    ts_webhook_url_t u;
    char err[256];

    assert_int_equal(ts_audit__webhook_parse("https://hooks.example.com/services/T0/B0/secret?x=1#frag", &u, err, sizeof(err)), 0);
    assert_true(u.tls);
    assert_string_equal(u.host, "hooks.example.com");
    assert_string_equal(u.port, "443");
    assert_string_equal(u.path, "/services/T0/B0/secret?x=1");
    assert_string_equal(u.shown, "https://hooks.example.com:443"); /* never the path: it may hold a token */
    assert_int_equal(ts_audit__webhook_parse("http://127.0.0.1:8099", &u, err, sizeof(err)), 0);
    assert_false(u.tls);
    assert_string_equal(u.port, "8099");
    assert_string_equal(u.path, "/");
    assert_int_equal(ts_audit__webhook_parse("http://[::1]:81/a", &u, err, sizeof(err)), 0);
    assert_string_equal(u.host, "::1");
    assert_string_equal(u.shown, "http://[::1]:81");
    static const char *const bad[] = {"ftp://x/",    "http://",         "http:///a",   "http://user:pw@host/",
                                      "http://h:0/", "http://h:99999/", "http://h:x/", "http://[::1/"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i)
        if (ts_audit__webhook_parse(bad[i], &u, err, sizeof(err)) != -1)
            fail_msg("'%s' accepted", bad[i]);
}

typedef struct st_listener_t {
    int fd;
    char got[4096];
} listener_t;

static void *serve_once(void *arg)
{
    listener_t *l = arg;
    int c = accept(l->fd, NULL, NULL);
    size_t n = 0;
    ssize_t r;
    if (c < 0)
        return NULL;
    /* headers, then a body of Content-Length bytes */
    while (n + 1 < sizeof(l->got) && (r = recv(c, l->got + n, sizeof(l->got) - 1 - n, 0)) > 0) {
        n += (size_t)r;
        l->got[n] = '\0';
        char *end = strstr(l->got, "\r\n\r\n"), *cl = strstr(l->got, "Content-Length: ");
        if (end != NULL && cl != NULL && n >= (size_t)(end + 4 - l->got) + (size_t)atoi(cl + 16))
            break;
    }
    static const char answer[] = "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
    send(c, answer, sizeof(answer) - 1, MSG_NOSIGNAL);
    close(c);
    return NULL;
}

static void post_to_listener(void **state)
{
    listener_t l = {0};
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    pthread_t t;
    ts_webhook_url_t u;
    char url[64], err[256];

    assert_true((l.fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
    assert_int_equal(bind(l.fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(l.fd, 1), 0);
    assert_int_equal(getsockname(l.fd, (struct sockaddr *)&sa, &len), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/hook?k=1", ntohs(sa.sin_port));
    assert_int_equal(ts_audit__webhook_parse(url, &u, err, sizeof(err)), 0);
    assert_int_equal(pthread_create(&t, NULL, serve_once, &l), 0);
    assert_int_equal(ts_audit__webhook_post_now(&u, NULL, "{\"alert\":\"x\"}", 2000, err, sizeof(err)), 204);
    pthread_join(t, NULL);
    close(l.fd);
    assert_non_null(strstr(l.got, "POST /hook?k=1 HTTP/1.1\r\n"));
    assert_non_null(strstr(l.got, "Content-Type: application/json\r\n"));
    assert_non_null(strstr(l.got, "\r\n\r\n{\"alert\":\"x\"}"));

    /* nobody listening: a clear error, quickly */
    assert_int_equal(ts_audit__webhook_post_now(&u, NULL, "{}", 2000, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "connect"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(alerts_without_database),
        cmocka_unit_test(full_queue_drops_and_counts),
        cmocka_unit_test(url_parsing),
        cmocka_unit_test(post_to_listener),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
