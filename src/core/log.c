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
