/* Table-driven configuration: every key, its type, bounds and default in one place (as Redis's
 * src/config.c does). Values are checked as they are loaded; the result is frozen before threads start. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tessera/config.h"
#include "tessera/oauth_metadata.h"
#include "tessera/errmsg.h"

typedef enum en_type_t { T_STRING, T_BOOL, T_UINT, T_DURATION, T_SIZE, T_LOGLEVEL } type_t;

typedef struct st_config_row_t {
    const char *name;
    type_t type;
    size_t offset;
    unsigned long long min, max;
    const char *defval;
} config_row_t;

#define F(field) offsetof(ts_config_t, field)
#define DAY (24u * 3600u)

static const config_row_t rows[] = {
    {"issuer", T_STRING, F(issuer), 0, 0, "http://127.0.0.1:8080"},
    {"listen", T_STRING, F(listen), 0, 0, "127.0.0.1:8080"},
    {"threads", T_UINT, F(threads), 0, 64, "0"},
    {"behind_tls_proxy", T_BOOL, F(behind_tls_proxy), 0, 1, "no"},
    {"tls_certificate_file", T_STRING, F(tls_certificate_file), 0, 0, ""},
    {"tls_private_key_file", T_STRING, F(tls_private_key_file), 0, 0, ""},
    {"http2", T_BOOL, F(http2), 0, 1, "no"},
    {"max_request_body", T_SIZE, F(max_request_body), 1024, 1024 * 1024, "16k"},
    {"max_header_bytes", T_SIZE, F(max_header_bytes), 1024, 64 * 1024, "16k"},
    {"shutdown_timeout", T_DURATION, F(shutdown_timeout), 1, 300, "10s"},
    {"request_timeout", T_DURATION, F(request_timeout), 1, 300, "10s"},
    {"max_connections", T_UINT, F(max_connections), 1, 1000000, "4096"},
    {"database", T_STRING, F(database), 0, 0, ""},
    {"database_password_file", T_STRING, F(database_password_file), 0, 0, ""},
    {"db_pool_size", T_UINT, F(db_pool_size), 1, 32, "2"},
    {"db_query_timeout", T_DURATION, F(db_query_timeout), 1, 300, "5s"},
    {"db_max_queue", T_UINT, F(db_max_queue), 1, 100000, "512"},
    {"key_encryption_key_file", T_STRING, F(key_encryption_key_file), 0, 0, ""},
    {"key_rotation_period", T_DURATION, F(key_rotation_period), 5, 365 * DAY, "30d"},
    {"key_retention", T_DURATION, F(key_retention), 5, 365 * DAY, "2d"},
    {"sync_interval", T_DURATION, F(sync_interval), 1, 3600, "60s"},
    {"log_level", T_LOGLEVEL, F(log_level), 0, 0, "info"},
    {"access_log", T_BOOL, F(access_log), 0, 1, "yes"},
    {"access_token_ttl", T_DURATION, F(access_token_ttl), 30, DAY, "10m"},
    {"access_token_alg", T_STRING, F(access_token_alg), 0, 0, "ES256"},
    {"default_resource", T_STRING, F(default_resource), 0, 0, ""},
    {"rate_limit_client_rate", T_UINT, F(rate_limit_client_rate), 0, 1000000, "100"},
    {"rate_limit_client_burst", T_UINT, F(rate_limit_client_burst), 1, 1000000, "200"},
    {"rate_limit_address_rate", T_UINT, F(rate_limit_address_rate), 0, 1000000, "200"},
    {"rate_limit_address_burst", T_UINT, F(rate_limit_address_burst), 1, 1000000, "400"},
    {"session_lifetime", T_DURATION, F(session_lifetime), 60, 90 * DAY, "12h"},
    {"session_idle_timeout", T_DURATION, F(session_idle_timeout), 60, 90 * DAY, "2h"},
    {"authorization_code_ttl", T_DURATION, F(authorization_code_ttl), 5, 600, "60s"},
    {"id_token_ttl", T_DURATION, F(id_token_ttl), 30, DAY, "1h"},
    {"refresh_token_lifetime", T_DURATION, F(refresh_token_lifetime), 60, 365 * DAY, "30d"},
    {"refresh_token_idle_timeout", T_DURATION, F(refresh_token_idle_timeout), 60, 365 * DAY, "7d"},
    {"password_threads", T_UINT, F(password_threads), 1, 64, "2"},
    {"templates_dir", T_STRING, F(templates_dir), 0, 0, ""},
    {"admin_listen", T_STRING, F(admin_listen), 0, 0, "127.0.0.1:8081"},
    {"admin_tls_certificate_file", T_STRING, F(admin_tls_certificate_file), 0, 0, ""},
    {"admin_tls_private_key_file", T_STRING, F(admin_tls_private_key_file), 0, 0, ""},
    {"admin_step_up_max_age", T_DURATION, F(admin_step_up_max_age), 30, DAY, "5m"},
    {"admin_metrics_public", T_BOOL, F(admin_metrics_public), 0, 1, "no"},
    {"alert_failed_logins", T_STRING, F(alert_failed_logins), 0, 0, "50/10m"},
    {"alert_invalid_client", T_STRING, F(alert_invalid_client), 0, 0, "20/1m"},
    {"alert_refresh_reuse", T_STRING, F(alert_refresh_reuse), 0, 0, "0/1h"},
    {"alert_code_replay", T_STRING, F(alert_code_replay), 0, 0, "0/1h"},
    {"alert_webhook_url", T_STRING, F(alert_webhook_url), 0, 0, ""},
    {"audit_fail_closed_after", T_DURATION, F(audit_fail_closed_after), 1, 3600, "30s"},
    {"registration_enabled", T_BOOL, F(registration_enabled), 0, 1, "no"},
    {"registration_initial_access_token_file", T_STRING, F(registration_initial_access_token_file), 0, 0, ""},
    {"registration_scopes", T_STRING, F(registration_scopes), 0, 0, "openid profile email offline_access"},
    {"registration_max_clients", T_UINT, F(registration_max_clients), 1, 10000000, "10000"},
};

#define MAX_LINE 4096

static const config_row_t *find_row(const char *key)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); ++i)
        if (strcmp(rows[i].name, key) == 0)
            return &rows[i];
    return NULL;
}

static int parse_uint(const char *s, unsigned long long max, unsigned long long *out, const char **rest)
{
    if (!isdigit((unsigned char)*s))
        return -1;
    unsigned long long v = 0;
    for (; isdigit((unsigned char)*s); ++s) {
        v = v * 10 + (unsigned)(*s - '0');
        if (v > max)
            return -1;
    }
    *out = v;
    *rest = s;
    return 0;
}

int ts_config_parse_duration(const char *s, unsigned max, unsigned *out)
{
    unsigned long long v, mul = 1;
    const char *rest;
    if (parse_uint(s, max, &v, &rest) != 0)
        return -1;
    switch (*rest) {
    case '\0':
    case 's':
        break;
    case 'm':
        mul = 60;
        break;
    case 'h':
        mul = 3600;
        break;
    case 'd':
        mul = DAY;
        break;
    default:
        return -1;
    }
    if (*rest != '\0' && rest[1] != '\0')
        return -1;
    if (v * mul > max)
        return -1;
    *out = (unsigned)(v * mul);
    return 0;
}

int ts_config_parse_size(const char *s, size_t max, size_t *out)
{
    unsigned long long v, mul = 1;
    const char *rest;
    if (parse_uint(s, max, &v, &rest) != 0)
        return -1;
    if (*rest == 'k' || *rest == 'K')
        mul = 1024;
    else if (*rest == 'm' || *rest == 'M')
        mul = 1024 * 1024;
    else if (*rest != '\0')
        return -1;
    if (*rest != '\0' && rest[1] != '\0')
        return -1;
    if (v * mul > max)
        return -1;
    *out = (size_t)(v * mul);
    return 0;
}

static int parse_bool(const char *s, int *out)
{
    if (strcmp(s, "yes") == 0 || strcmp(s, "on") == 0 || strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
        *out = 1;
    else if (strcmp(s, "no") == 0 || strcmp(s, "off") == 0 || strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
        *out = 0;
    else
        return -1;
    return 0;
}

static int has_control_chars(const char *s)
{
    for (; *s != '\0'; ++s)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

int ts_config_set(ts_config_t *c, const char *key, const char *value, ts_config_source_t source, char *err, size_t errlen)
{
    const config_row_t *row = find_row(key);
    char *field = (char *)c + (row != NULL ? row->offset : 0);

    if (row == NULL)
        return ts_fail(err, errlen, "unknown configuration key '%s'", key);
    if (strlen(value) >= MAX_LINE || has_control_chars(value))
        return ts_fail(err, errlen, "%s: value has control characters or is too long", key);

    switch (row->type) {
    case T_STRING: {
        char *copy = strdup(value);
        if (copy == NULL)
            return ts_fail(err, errlen, "%s: out of memory", key);
        free(*(char **)field);
        /* not a leak: copy goes into the row's field (freed by ts_config_dispose()); gcc 12's analyzer loses it at the offset */
#ifndef __clang__
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
#endif
        *(char **)field = copy;
        if (strcmp(key, "database") == 0)
            c->database_source = source;
        if (strcmp(key, "admin_listen") == 0)
            c->admin_listen_source = source;
#ifndef __clang__
#pragma GCC diagnostic pop
#endif
        return 0;
    }
    case T_BOOL:
        if (parse_bool(value, (int *)field) != 0)
            return ts_fail(err, errlen, "%s: expected yes or no, got '%s'", key, value);
        return 0;
    case T_UINT: {
        unsigned long long v;
        const char *rest;
        if (parse_uint(value, row->max, &v, &rest) != 0 || *rest != '\0' || v < row->min)
            return ts_fail(err, errlen, "%s: expected a whole number from %llu to %llu, got '%s'", key, row->min, row->max, value);
        *(unsigned *)field = (unsigned)v;
        return 0;
    }
    case T_DURATION: {
        unsigned v;
        if (ts_config_parse_duration(value, (unsigned)row->max, &v) != 0 || v < row->min)
            return ts_fail(err, errlen, "%s: expected a duration (like 30s, 15m, 12h, 7d) from %llus to %llus, got '%s'", key, row->min,
                        row->max, value);
        *(unsigned *)field = v;
        return 0;
    }
    case T_SIZE: {
        size_t v;
        if (ts_config_parse_size(value, (size_t)row->max, &v) != 0 || v < row->min)
            return ts_fail(err, errlen, "%s: expected a size (like 16k) from %llu to %llu bytes, got '%s'", key, row->min, row->max,
                        value);
        *(size_t *)field = v;
        return 0;
    }
    case T_LOGLEVEL:
        if (ts_log_level_parse(value, (ts_log_level_t *)field) != 0)
            return ts_fail(err, errlen, "%s: expected debug, info, warn or error, got '%s'", key, value);
        return 0;
    }
    return ts_fail(err, errlen, "%s: unsupported type", key);
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        ++s;
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

static int load_file(ts_config_t *c, const char *path, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "r"); /* Flawfinder: ignore - the operator's configuration file, read-only */
    char line[MAX_LINE + 2], msg[512];
    unsigned lineno = 0;
    int ret = 0;

    if (fp == NULL)
        return ts_fail(err, errlen, "cannot open configuration file %s: %s", path, strerror(errno));
    while (fgets(line, sizeof(line), fp) != NULL) {
        ++lineno;
        if (strchr(line, '\n') == NULL && !feof(fp)) {
            ret = ts_fail(err, errlen, "%s:%u: line too long", path, lineno);
            break;
        }
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        char *key = s, *value = s;
        while (*value != '\0' && !isspace((unsigned char)*value))
            ++value;
        if (*value != '\0')
            *value++ = '\0';
        value = trim(value);
        if (ts_config_set(c, key, value, TS_CONFIG_FILE, msg, sizeof(msg)) != 0) {
            ret = ts_fail(err, errlen, "%s:%u: %s", path, lineno, msg);
            break;
        }
    }
    fclose(fp);
    return ret;
}

static int load_env(ts_config_t *c, char *err, size_t errlen)
{
    char envname[80], msg[512];
    const char *v;

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); ++i) {
        snprintf(envname, sizeof(envname), "TESSERA_%s", rows[i].name);
        for (char *p = envname; *p != '\0'; ++p)
            *p = (char)toupper((unsigned char)*p);
        /* Flawfinder: ignore (next line) - TESSERA_<KEY> overrides by design; ts_config_set() validates them */
        if ((v = getenv(envname)) != NULL && ts_config_set(c, rows[i].name, v, TS_CONFIG_ENV, msg, sizeof(msg)) != 0)
            return ts_fail(err, errlen, "environment %s: %s", envname, msg);
    }
    /* Flawfinder: ignore (next line) - documented; validated by ts_config_set() */
    if ((v = getenv("DATABASE_URL")) != NULL && *v != '\0' && ts_config_set(c, "database", v, TS_CONFIG_ENV, msg, sizeof(msg)) != 0)
        return ts_fail(err, errlen, "environment DATABASE_URL: %s", msg);
    return 0;
}

int ts_config_parse_threshold(const char *s, unsigned *count, unsigned *window)
{
    unsigned long long n;
    const char *rest;

    if (*s == '\0' || strcmp(s, "off") == 0) {
        *count = *window = 0;
        return 0;
    }
    if (parse_uint(s, 1000000, &n, &rest) != 0 || *rest != '/' || ts_config_parse_duration(rest + 1, 7 * DAY, window) != 0 ||
        *window == 0)
        return -1;
    *count = (unsigned)n;
    return 0;
}

/* the alert rules and the webhook they may call (src/audit/) */
static int check_alerts(const ts_config_t *c, char *err, size_t errlen)
{
    const char *names[] = {"alert_failed_logins", "alert_invalid_client", "alert_refresh_reuse", "alert_code_replay"};
    const char *values[] = {c->alert_failed_logins, c->alert_invalid_client, c->alert_refresh_reuse, c->alert_code_replay};
    const char *url = c->alert_webhook_url;
    unsigned n, w;

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); ++i)
        if (ts_config_parse_threshold(values[i], &n, &w) != 0)
            return ts_fail(err, errlen, "%s: expected COUNT/WINDOW (more than COUNT events in WINDOW, like 50/10m) or off, got '%s'",
                        names[i], values[i]);
    if (*url != '\0' && ((strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) || strpbrk(url, " \"<>\\") != NULL ||
                         strlen(url) > 1024))
        return ts_fail(err, errlen, "alert_webhook_url: expected an http:// or https:// URL, got '%s'", url);
    return 0;
}

int ts_config_host_is_loopback(const char *host)
{
    return strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 || strncmp(host, "127.", 4) == 0;
}

/* "host:port" or "[v6]:port" of the key named key into *host (malloc'd) and *port */
static int parse_host_port(const char *key, const char *value, char **host, unsigned *port_out, char *err, size_t errlen)
{
    const char *s = value, *colon;
    size_t hostlen;

    if (*s == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close[1] != ':')
            return ts_fail(err, errlen, "%s: expected [address]:port, got '%s'", key, value);
        ++s;
        hostlen = (size_t)(close - s);
        colon = close + 1;
    } else {
        if ((colon = strrchr(s, ':')) == NULL || memchr(s, ':', (size_t)(colon - s)) != NULL)
            return ts_fail(err, errlen, "%s: expected address:port, got '%s'", key, value);
        hostlen = (size_t)(colon - s);
    }
    unsigned long long port;
    const char *rest;
    if (hostlen == 0 || parse_uint(colon + 1, 65535, &port, &rest) != 0 || *rest != '\0' || port == 0)
        return ts_fail(err, errlen, "%s: expected address:port with a port from 1 to 65535, got '%s'", key, value);
    free(*host);
    if ((*host = strndup(s, hostlen)) == NULL)
        return ts_fail(err, errlen, "%s: out of memory", key);
    *port_out = (unsigned)port;
    return 0;
}

static int parse_listen(ts_config_t *c, char *err, size_t errlen)
{
    return parse_host_port("listen", c->listen, &c->listen_host, &c->listen_port, err, errlen);
}

/* The admin listener: its own address (empty: none), TLS when both files are given. Plain HTTP on a
 * non-loopback address would carry admin bearer tokens in the clear: refused unless a TLS proxy is in front. */
static int check_admin(ts_config_t *c, char *err, size_t errlen)
{
    int has_cert = *c->admin_tls_certificate_file != '\0', has_key = *c->admin_tls_private_key_file != '\0';

    if (has_cert != has_key)
        return ts_fail(err, errlen, "%s: admin TLS needs both admin_tls_certificate_file and admin_tls_private_key_file",
                    has_cert ? "admin_tls_private_key_file" : "admin_tls_certificate_file");
    if (*c->admin_listen == '\0')
        return 0;
    if (parse_host_port("admin_listen", c->admin_listen, &c->admin_listen_host, &c->admin_listen_port, err, errlen) != 0)
        return -1;
    if (!has_cert && !c->behind_tls_proxy && !ts_config_host_is_loopback(c->admin_listen_host))
        return ts_fail(err, errlen,
                    "admin_listen: refusing plain HTTP on non-loopback address '%s'; configure admin_tls_certificate_file "
                    "and admin_tls_private_key_file, or set behind_tls_proxy yes",
                    c->admin_listen_host);
    /* the default one then finds its address taken at start-up, and the server runs without the admin API */
    if (c->admin_listen_source != TS_CONFIG_DEFAULT && strcmp(c->admin_listen_host, c->listen_host) == 0 &&
        c->admin_listen_port == c->listen_port)
        return ts_fail(err, errlen, "admin_listen: must differ from listen ('%s')", c->listen);
    return 0;
}

/* The issuer is compared byte for byte by relying parties (RFC 8414 §3.3): keep it canonical. */
static int check_issuer(const ts_config_t *c, char *err, size_t errlen)
{
    const char *iss = c->issuer, *host;
    if (strncmp(iss, "https://", 8) == 0)
        host = iss + 8;
    else if (strncmp(iss, "http://", 7) == 0)
        host = iss + 7;
    else
        return ts_fail(err, errlen, "issuer: must be an https URL, got '%s'", iss);
    if (*host == '\0' || strpbrk(iss, "?#") != NULL || iss[strlen(iss) - 1] == '/' || strpbrk(iss, " \"<>\\") != NULL)
        return ts_fail(err, errlen, "issuer: must be an absolute URL without query, fragment or trailing slash, got '%s'", iss);
    if (host == iss + 7) {
        char h[256];
        size_t n = strcspn(host, ":/");
        if (n >= sizeof(h))
            return ts_fail(err, errlen, "issuer: host too long");
        memcpy(h, host, n); /* Flawfinder: ignore - n < sizeof(h) checked above */
        h[n] = '\0';
        if (strcmp(h, "[::1]") != 0 && !ts_config_host_is_loopback(h))
            return ts_fail(err, errlen, "issuer: plain http is only allowed for a loopback host, got '%s'", iss);
    }
    return 0;
}

static int check_all(ts_config_t *c, char *err, size_t errlen)
{
    if (strcmp(c->access_token_alg, "ES256") != 0 && strcmp(c->access_token_alg, "RS256") != 0)
        return ts_fail(err, errlen, "access_token_alg: expected ES256 or RS256, got '%s'", c->access_token_alg);
    if (check_issuer(c, err, errlen) != 0 || parse_listen(c, err, errlen) != 0)
        return -1;
    int has_cert = *c->tls_certificate_file != '\0', has_key = *c->tls_private_key_file != '\0';
    if (has_cert != has_key)
        return ts_fail(err, errlen, "%s: TLS needs both tls_certificate_file and tls_private_key_file",
                    has_cert ? "tls_private_key_file" : "tls_certificate_file");
    if (!has_cert && !c->behind_tls_proxy && !ts_config_host_is_loopback(c->listen_host))
        return ts_fail(err, errlen,
                    "listen: refusing plain HTTP on non-loopback address '%s'; configure TLS or set behind_tls_proxy yes",
                    c->listen_host);
    if (check_alerts(c, err, errlen) != 0)
        return -1;
    if (ts_oauth_check_scope("registration_scopes", c->registration_scopes, err, errlen) != 0)
        return -1;
    return check_admin(c, err, errlen);
}

int ts_config_load(ts_config_t *c, const char *path, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); ++i)
        if (ts_config_set(c, rows[i].name, rows[i].defval, TS_CONFIG_DEFAULT, err, errlen) != 0)
            return -1;
    if (path != NULL && load_file(c, path, err, errlen) != 0)
        return -1;
    if (load_env(c, err, errlen) != 0)
        return -1;
    return check_all(c, err, errlen);
}

void ts_config_dispose(ts_config_t *c)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); ++i)
        if (rows[i].type == T_STRING) {
            char **field = (char **)((char *)c + rows[i].offset);
            free(*field);
            *field = NULL;
        }
    free(c->listen_host);
    c->listen_host = NULL;
    free(c->admin_listen_host);
    c->admin_listen_host = NULL;
}
