#ifndef TESSERA_CONFIG_H
#define TESSERA_CONFIG_H

#include <stddef.h>
#include "tessera/log.h"

/* Where a value came from: the CLI refuses secrets written into the config text itself. */
typedef enum en_ts_config_source_t { TS_CONFIG_DEFAULT, TS_CONFIG_FILE, TS_CONFIG_ENV } ts_config_source_t;

/* Loaded once before any thread starts and read-only afterwards. Durations are in seconds. */
typedef struct st_ts_config_t {
    char *issuer;
    char *listen;      /* as written: "host:port" or "[v6]:port" */
    char *listen_host; /* parsed from listen */
    unsigned listen_port;
    unsigned threads; /* 0 = one per core */
    int behind_tls_proxy;
    char *tls_certificate_file;
    char *tls_private_key_file;
    int http2;
    size_t max_request_body;
    size_t max_header_bytes;
    unsigned shutdown_timeout;
    unsigned request_timeout; /* a request's headers and body, and an idle keep-alive connection */
    unsigned max_connections; /* open client connections per process */
    char *database;
    ts_config_source_t database_source;
    char *database_password_file;
    unsigned db_pool_size;
    unsigned db_query_timeout;
    unsigned db_max_queue;
    char *key_encryption_key_file;
    unsigned key_rotation_period;
    unsigned key_retention;
    unsigned sync_interval;
    ts_log_level_t log_level;
    int access_log; /* one JSON line per response: method, path (never the query), status, bytes, peer, time */
    unsigned access_token_ttl;
    char *access_token_alg;  /* "ES256" or "RS256" */
    char *default_resource;  /* the aud of tokens requested without a resource; empty: the issuer */
    /* token buckets on /token and /introspect: requests per second (0 = no limit) and burst */
    unsigned rate_limit_client_rate; /* per client_id */
    unsigned rate_limit_client_burst;
    unsigned rate_limit_address_rate; /* per source address */
    unsigned rate_limit_address_burst;
    /* browser flows */
    unsigned session_lifetime;         /* absolute: a sign-in lasts at most this long */
    unsigned session_idle_timeout;     /* a session unused this long has ended */
    unsigned authorization_code_ttl;
    unsigned id_token_ttl;
    unsigned refresh_token_lifetime;     /* absolute, from the sign-in */
    unsigned refresh_token_idle_timeout; /* a refresh token unused this long has expired */
    unsigned password_threads;           /* argon2id workers */
    char *templates_dir;                 /* empty: the pages built into the binary */
    /* the admin API's own listener (src/http/admin_server.c) */
    char *admin_listen;                  /* "host:port"; empty: no admin listener */
    ts_config_source_t admin_listen_source; /* the default address may be busy (a second node): then no admin API */
    char *admin_listen_host;             /* parsed from admin_listen (NULL when it is empty) */
    unsigned admin_listen_port;
    char *admin_tls_certificate_file;    /* both set: the admin listener speaks TLS */
    char *admin_tls_private_key_file;
    unsigned admin_step_up_max_age;      /* dangerous admin operations need a sign-in at most this old */
    int admin_metrics_public;            /* /metrics on the admin listener without a token */
    /* alert rules over audit events (src/audit/alerts.c): "N/WINDOW" (more than N in WINDOW) or "off" */
    char *alert_failed_logins;  /* per source address */
    char *alert_invalid_client; /* per source address */
    char *alert_refresh_reuse;  /* per client */
    char *alert_code_replay;    /* per client */
    char *alert_webhook_url;    /* http:// or https:// URL alerts are POSTed to; empty: none */
    unsigned audit_fail_closed_after; /* the audit log unwritable this long: refuse what it would have to record */
    /* dynamic client registration (RFC 7591, RFC 7592; src/http/ep_register.c) */
    int registration_enabled;
    char *registration_initial_access_token_file; /* its token is required to register; empty: open registration */
    char *registration_scopes; /* the scopes a client may register for (role-gated ones still need a role) */
    unsigned registration_max_clients; /* self-registered clients at most, all nodes together */
} ts_config_t;

/** fills c with the defaults, then the file at path (NULL: none), then TESSERA_* environment variables
 *  (and DATABASE_URL), then checks the whole. -1 with a message naming the key in err. */
int ts_config_load(ts_config_t *c, const char *path, char *err, size_t errlen);
/** sets one key from text, as a line of the file would; -1 with a message in err */
int ts_config_set(ts_config_t *c, const char *key, const char *value, ts_config_source_t source, char *err, size_t errlen);
/** parses "90", "30s", "15m", "12h", "7d" into seconds; -1 when malformed or over max */
int ts_config_parse_duration(const char *s, unsigned max, unsigned *out);
/** parses "16384", "16k", "1m" into bytes; -1 when malformed or over max */
int ts_config_parse_size(const char *s, size_t max, size_t *out);
/** 1 when host names a loopback address (127.0.0.0/8, ::1, localhost) */
int ts_config_host_is_loopback(const char *host);
/** parses an alert threshold "50/10m" (more than 50 in 10 minutes; count up to 1000000, window 1s to 7d); "off" or ""
 *  gives count 0 and window 0 (no alert). -1 when malformed */
int ts_config_parse_threshold(const char *s, unsigned *count, unsigned *window);
void ts_config_dispose(ts_config_t *c);

#endif
