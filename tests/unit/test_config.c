/* src/core/config.c: the table, the parsers and the whole-configuration checks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "tessera/config.h"

static char err[1024];

static void clear_env(void)
{
    static const char *const vars[] = {"TESSERA_ISSUER", "TESSERA_LISTEN", "TESSERA_THREADS", "DATABASE_URL",
                                       "TESSERA_BEHIND_TLS_PROXY", "TESSERA_KEY_ROTATION_PERIOD"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); ++i)
        unsetenv(vars[i]);
}

static char *write_conf(const char *text)
{
    static char path[] = "/tmp/tessera-conf-XXXXXX";
    strcpy(path, "/tmp/tessera-conf-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static int load_text(ts_config_t *c, const char *text)
{
    char *path = write_conf(text);
    int r = ts_config_load(c, path, err, sizeof(err));
    unlink(path);
    return r;
}

static void defaults_are_valid(void **state)
{
    ts_config_t c;
    clear_env();
    assert_int_equal(ts_config_load(&c, NULL, err, sizeof(err)), 0);
    assert_string_equal(c.issuer, "http://127.0.0.1:8080");
    assert_string_equal(c.listen_host, "127.0.0.1");
    assert_int_equal(c.listen_port, 8080);
    assert_int_equal(c.max_request_body, 16384);
    assert_int_equal(c.key_rotation_period, 30 * 86400);
    assert_int_equal(c.http2, 0);
    ts_config_dispose(&c);
}

static void file_values_and_comments(void **state)
{
    ts_config_t c;
    clear_env();
    assert_int_equal(load_text(&c, "# comment\n\n  threads   4 \nmax_request_body 32k\nshutdown_timeout 2m\nhttp2 yes\n"
                                   "listen [::1]:9000\nissuer https://auth.example.com\n"),
                     0);
    assert_int_equal(c.threads, 4);
    assert_int_equal(c.max_request_body, 32768);
    assert_int_equal(c.shutdown_timeout, 120);
    assert_int_equal(c.http2, 1);
    assert_string_equal(c.listen_host, "::1");
    assert_int_equal(c.listen_port, 9000);
    ts_config_dispose(&c);
}

static void unknown_key_is_named(void **state)
{
    ts_config_t c;
    clear_env();
    assert_int_equal(load_text(&c, "threads 2\nthreadz 3\n"), -1);
    assert_non_null(strstr(err, "threadz"));
    assert_non_null(strstr(err, ":2:"));
    ts_config_dispose(&c);
}

static void invalid_values_are_named(void **state)
{
    static const char *const bad[] = {"threads 65\n",          "threads -1\n",          "threads 2x\n",
                                      "http2 maybe\n",          "max_request_body 10\n", "max_request_body 2m\n",
                                      "shutdown_timeout 0\n",   "shutdown_timeout 5w\n", "listen 127.0.0.1\n",
                                      "listen 127.0.0.1:0\n",   "listen :80\n",          "listen 127.0.0.1:99999\n",
                                      "issuer ftp://x\n",       "issuer https://a/b/\n", "issuer https://a?x=1\n",
                                      "issuer http://example.com\n", "log_level loud\n", "db_pool_size 0\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        ts_config_t c;
        clear_env();
        char key[64];
        sscanf(bad[i], "%63s", key);
        assert_int_equal(load_text(&c, bad[i]), -1);
        if (strstr(err, key) == NULL)
            fail_msg("error for '%s' does not name the key: %s", bad[i], err);
        ts_config_dispose(&c);
    }
}

static void environment_overrides_file(void **state)
{
    ts_config_t c;
    clear_env();
    setenv("TESSERA_THREADS", "3", 1);
    setenv("DATABASE_URL", "postgresql:///x", 1);
    assert_int_equal(load_text(&c, "threads 8\ndatabase dbname=y\n"), 0);
    assert_int_equal(c.threads, 3);
    assert_string_equal(c.database, "postgresql:///x");
    assert_int_equal(c.database_source, TS_CONFIG_ENV);
    ts_config_dispose(&c);
    setenv("TESSERA_THREADS", "lots", 1);
    assert_int_equal(ts_config_load(&c, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "TESSERA_THREADS"));
    ts_config_dispose(&c);
    clear_env();
}

static void plain_http_on_public_address_is_refused(void **state)
{
    ts_config_t c;
    clear_env();
    assert_int_equal(load_text(&c, "listen 0.0.0.0:8080\n"), -1);
    assert_non_null(strstr(err, "listen"));
    ts_config_dispose(&c);
    assert_int_equal(load_text(&c, "listen 0.0.0.0:8080\nbehind_tls_proxy yes\n"), 0);
    ts_config_dispose(&c);
    assert_int_equal(load_text(&c, "listen 0.0.0.0:8443\ntls_certificate_file /x.pem\n"), -1);
    assert_non_null(strstr(err, "tls_private_key_file"));
    ts_config_dispose(&c);
}

static void admin_listener(void **state)
{
    ts_config_t c;
    clear_env();
    unsetenv("TESSERA_ADMIN_LISTEN");
    assert_int_equal(load_text(&c, ""), 0);
    assert_string_equal(c.admin_listen_host, "127.0.0.1");
    assert_int_equal(c.admin_listen_port, 8081);
    assert_int_equal(c.admin_listen_source, TS_CONFIG_DEFAULT);
    assert_int_equal(c.admin_step_up_max_age, 300);
    ts_config_dispose(&c);
    /* empty: no admin listener */
    assert_int_equal(load_text(&c, "admin_listen\n"), 0);
    assert_null(c.admin_listen_host);
    ts_config_dispose(&c);
    /* plain HTTP off loopback carries admin tokens in the clear */
    assert_int_equal(load_text(&c, "admin_listen 0.0.0.0:9443\n"), -1);
    assert_true(strncmp(err, "admin_listen:", 13) == 0);
    ts_config_dispose(&c);
    assert_int_equal(load_text(&c, "admin_listen 0.0.0.0:9443\nbehind_tls_proxy yes\n"), 0);
    ts_config_dispose(&c);
    assert_int_equal(load_text(&c, "admin_listen 0.0.0.0:9443\nadmin_tls_certificate_file /x.pem\n"), -1);
    assert_non_null(strstr(err, "admin_tls_private_key_file"));
    ts_config_dispose(&c);
    assert_int_equal(load_text(&c, "admin_listen 0.0.0.0:9443\nadmin_tls_certificate_file /x.pem\nadmin_tls_private_key_file /k.pem\n"), 0);
    ts_config_dispose(&c);
    /* the same address as the public listener, when chosen, is a mistake; the default then just stays off */
    assert_int_equal(load_text(&c, "listen 127.0.0.1:9000\nadmin_listen 127.0.0.1:9000\n"), -1);
    ts_config_dispose(&c);
    assert_int_equal(load_text(&c, "listen 127.0.0.1:8081\n"), 0);
    ts_config_dispose(&c);
    assert_int_equal(load_text(&c, "admin_listen 127.0.0.1\n"), -1);
    assert_true(strncmp(err, "admin_listen:", 13) == 0);
    ts_config_dispose(&c);
    assert_int_equal(load_text(&c, "admin_step_up_max_age 10s\n"), -1);
    ts_config_dispose(&c);
    clear_env();
}

static void durations_and_sizes(void **state)
{
    unsigned d;
    size_t s;
    assert_int_equal(ts_config_parse_duration("90", 1000, &d), 0);
    assert_int_equal(d, 90);
    assert_int_equal(ts_config_parse_duration("7d", 1000000, &d), 0);
    assert_int_equal(d, 604800);
    assert_int_equal(ts_config_parse_duration("7d", 1000, &d), -1);
    assert_int_equal(ts_config_parse_duration("", 1000, &d), -1);
    assert_int_equal(ts_config_parse_duration("1ms", 1000, &d), -1);
    assert_int_equal(ts_config_parse_duration("99999999999999999999", 4000000000u, &d), -1);
    assert_int_equal(ts_config_parse_size("1m", 2000000, &s), 0);
    assert_int_equal(s, 1048576);
    assert_int_equal(ts_config_parse_size("16K", 20000, &s), 0);
    assert_int_equal(s, 16384);
    assert_int_equal(ts_config_parse_size("16kb", 20000, &s), -1);
}

static void line_too_long_and_control_chars(void **state)
{
    ts_config_t c;
    char *big = malloc(10000);
    clear_env();
    memset(big, 'a', 9990);
    memcpy(big, "issuer ", 7);
    strcpy(big + 9990, "\n");
    assert_int_equal(load_text(&c, big), -1);
    ts_config_dispose(&c);
    free(big);
    assert_int_equal(ts_config_set(&c, "issuer", "http://127.0.0.1\x01", TS_CONFIG_FILE, err, sizeof(err)), -1);
}

static void registration_keys(void **state)
{
    ts_config_t c;
    (void)state;
    clear_env();
    assert_int_equal(load_text(&c, "issuer http://127.0.0.1:8080\n"), 0);
    assert_int_equal(c.registration_enabled, 0);
    assert_string_equal(c.registration_scopes, "openid profile email offline_access");
    assert_string_equal(c.registration_initial_access_token_file, "");
    ts_config_dispose(&c);
    assert_int_equal(load_text(&c, "registration_enabled yes\nregistration_scopes openid api:read\n"), 0);
    assert_int_equal(c.registration_enabled, 1);
    assert_string_equal(c.registration_scopes, "openid api:read");
    ts_config_dispose(&c);
    assert_int_equal(load_text(&c, "registration_scopes openid  api\\x\n"), -1);
    assert_non_null(strstr(err, "registration_scopes"));
    ts_config_dispose(&c);
}

/* the commented configuration shipped in conf/ loads as it is */
static void shipped_file_loads(void **state)
{
    ts_config_t c;
    char path[4096];
    const char *top = getenv("TESSERA_SOURCE_DIR");
    (void)state;
    if (top == NULL)
        skip();
    clear_env();
    snprintf(path, sizeof(path), "%s/conf/tessera.conf", top);
    if (ts_config_load(&c, path, err, sizeof(err)) != 0)
        fail_msg("conf/tessera.conf: %s", err);
    ts_config_dispose(&c);
}

static void loopback_hosts(void **state)
{
    assert_true(ts_config_host_is_loopback("127.0.0.1"));
    assert_true(ts_config_host_is_loopback("127.1.2.3"));
    assert_true(ts_config_host_is_loopback("::1"));
    assert_true(ts_config_host_is_loopback("localhost"));
    assert_false(ts_config_host_is_loopback("0.0.0.0"));
    assert_false(ts_config_host_is_loopback("128.0.0.1"));
    assert_false(ts_config_host_is_loopback("localhost.example.com"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_are_valid),
        cmocka_unit_test(file_values_and_comments),
        cmocka_unit_test(unknown_key_is_named),
        cmocka_unit_test(invalid_values_are_named),
        cmocka_unit_test(environment_overrides_file),
        cmocka_unit_test(plain_http_on_public_address_is_refused),
        cmocka_unit_test(admin_listener),
        cmocka_unit_test(durations_and_sizes),
        cmocka_unit_test(line_too_long_and_control_chars),
        cmocka_unit_test(loopback_hosts),
        cmocka_unit_test(registration_keys),
        cmocka_unit_test(shipped_file_loads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
