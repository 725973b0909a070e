#ifndef TESSERA_LOG_H
#define TESSERA_LOG_H

typedef enum en_ts_log_level_t { TS_LOG_DEBUG, TS_LOG_INFO, TS_LOG_WARN, TS_LOG_ERROR, TS_LOG_ALERT } ts_log_level_t;

/** messages below this level are dropped; set once at start-up */
void ts_log_set_level(ts_log_level_t level);
/** parses "debug", "info", "warn", "error"; -1 when unknown */
int ts_log_level_parse(const char *s, ts_log_level_t *out);
/** writes one JSON line {"time","level","msg"} to stderr; never pass secrets */
void ts_log(ts_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** the access log line of one response: {"time","level":"info","type":"access","method","path","status","bytes",
 *  "peer","ms"}. The caller passes the path without its query string. */
void ts_log_access(const char *method, size_t method_len, const char *path, size_t path_len, int status, size_t bytes,
                   const char *peer, double ms);

#define ts_log_debug(...) ts_log(TS_LOG_DEBUG, __VA_ARGS__)
#define ts_log_info(...) ts_log(TS_LOG_INFO, __VA_ARGS__)
#define ts_log_warn(...) ts_log(TS_LOG_WARN, __VA_ARGS__)
#define ts_log_error(...) ts_log(TS_LOG_ERROR, __VA_ARGS__)

#endif
