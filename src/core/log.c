/* One JSON object per line on stderr, so that log shippers need no parser of ours. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "tessera/log.h"

static ts_log_level_t min_level = TS_LOG_INFO;
static const char *const names[] = {"debug", "info", "warn", "error", "alert"};

void ts_log_set_level(ts_log_level_t level)
{
    min_level = level;
}

int ts_log_level_parse(const char *s, ts_log_level_t *out)
{
    for (int i = TS_LOG_DEBUG; i <= TS_LOG_ERROR; ++i)
        if (strcmp(s, names[i]) == 0) {
            *out = (ts_log_level_t)i;
            return 0;
        }
    return -1;
}

/* JSON string escaping into a bounded buffer; a message that does not fit is cut, never overflowed. */
static size_t escape(char *out, size_t cap, const char *in)
{
    size_t n = 0;
    for (; *in != '\0' && n + 7 < cap; ++in) {
        unsigned char ch = (unsigned char)*in;
        if (ch == '"' || ch == '\\') {
            out[n++] = '\\';
            out[n++] = (char)ch;
        } else if (ch < 0x20 || ch == 0x7f) {
            n += (size_t)snprintf(out + n, cap - n, "\\u%04x", ch);
        } else {
            out[n++] = (char)ch;
        }
    }
    out[n] = '\0';
    return n;
}

void ts_log(ts_log_level_t level, const char *fmt, ...)
{
    char msg[1024], esc[2048], stamp[40];
    struct timespec ts;
    struct tm tm;
    va_list ap;

    if (level < min_level)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap); /* Flawfinder: ignore - ts_log() has a printf format attribute */
    va_end(ap);
    escape(esc, sizeof(esc), msg);
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    /* one fprintf per line: stdio's lock keeps lines from different threads whole */
    fprintf(stderr, "{\"time\":\"%s.%03ldZ\",\"level\":\"%s\",\"msg\":\"%s\"}\n", stamp, ts.tv_nsec / 1000000, names[level], esc);
}

void ts_log_access(const char *method, size_t method_len, const char *path, size_t path_len, int status, size_t bytes,
                   const char *peer, double ms)
{
    char m[24], p[1024], esc_m[64], esc_p[2048], esc_peer[128], stamp[40];
    struct timespec ts;
    struct tm tm;

    if (TS_LOG_INFO < min_level)
        return;
    snprintf(m, sizeof(m), "%.*s", (int)(method_len < sizeof(m) ? method_len : sizeof(m) - 1), method);
    snprintf(p, sizeof(p), "%.*s", (int)(path_len < sizeof(p) ? path_len : sizeof(p) - 1), path);
    escape(esc_m, sizeof(esc_m), m);
    escape(esc_p, sizeof(esc_p), p);
    escape(esc_peer, sizeof(esc_peer), peer != NULL ? peer : "");
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr,
            "{\"time\":\"%s.%03ldZ\",\"level\":\"info\",\"type\":\"access\",\"method\":\"%s\",\"path\":\"%s\",\"status\":%d,"
            "\"bytes\":%zu,\"peer\":\"%s\",\"ms\":%.3f}\n",
            stamp, ts.tv_nsec / 1000000, esc_m, esc_p, status, bytes, esc_peer, ms);
}
