/* Rate limits on the wire. The RateLimit-* headers go on every response of a limited endpoint, not only on
 * 429s: they cost three small header strings in the request pool, nothing next to the database round trip
 * and signature of /token or /introspect, and they let a well-behaved client slow down before it is refused.
 *
 * Header values follow draft-ietf-httpapi-ratelimit-headers (the RateLimit-Limit/-Remaining/-Reset
 * fields): Limit is the burst, Remaining the whole tokens left, Reset the seconds (rounded up) until the
 * bucket is full again. Retry-After on a 429 is the seconds (rounded up, at least 1) until one token is. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "http/audit_http.h"
#include "http/ratelimit_http.h"
#include "tessera/clock.h"
#include "tessera/http.h"
#include "tessera/log.h"

#define LOG_KEY_MAX 128

static uint64_t seconds_up(uint64_t ms)
{
    return ms / 1000 + (ms % 1000 != 0);
}

static void set_header(h2o_req_t *req, const char *name, uint64_t value)
{
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)value);
    h2o_iovec_t v = h2o_strdup(&req->pool, buf, (size_t)n);
    h2o_set_header_by_str(&req->pool, &req->res.headers, name, strlen(name), 1, v.base, v.len, 1);
}

/* the remaining count an earlier check put on this response, or -1 */
static long long previous_remaining(h2o_req_t *req)
{
    ssize_t i = h2o_find_header_by_str(&req->res.headers, H2O_STRLIT("ratelimit-remaining"), -1);
    long long v = 0;

    if (i == -1)
        return -1;
    h2o_iovec_t s = req->res.headers.entries[i].value;
    for (size_t k = 0; k < s.len && k < 18 && s.base[k] >= '0' && s.base[k] <= '9'; ++k)
        v = v * 10 + (s.base[k] - '0');
    return v;
}

/* One response, one policy: when both the address and the client limit apply, a client learns about the
 * one that will refuse it first, and a 429 always describes the limit that refused it (force). */
static void add_ratelimit_headers(h2o_req_t *req, const ts_ratelimit_result_t *r, int force)
{
    long long prev = previous_remaining(req);
    if (!force && prev != -1 && prev <= (long long)r->remaining)
        return;
    set_header(req, "ratelimit-limit", r->limit);
    set_header(req, "ratelimit-remaining", r->remaining);
    set_header(req, "ratelimit-reset", seconds_up(r->reset_ms));
}

/* keys are client_ids or addresses, but a client_id is whatever the request said: keep the log line printable */
static int log_refusal(const char *kind, const char *key, const ts_ratelimit_result_t *r, uint64_t retry_s)
{
    char safe[LOG_KEY_MAX + 4];
    size_t n = 0;

    /* a client that keeps knocking is logged at its 1st, 2nd, 4th, 8th... refusal in a row, not at each */
    if ((r->streak & (r->streak - 1)) != 0)
        return 0;
    /* cppcheck-suppress arrayIndexThenCheck ; key is a C string: key[n] is read only after key[0..n-1] were not NUL */
    for (; key[n] != '\0' && n < LOG_KEY_MAX; ++n)
        safe[n] = key[n] > 0x20 && key[n] < 0x7f ? key[n] : '?'; /* NOLINT(bugprone-narrowing-conversions): a char either way */
    if (key[n] != '\0') {
        memcpy(safe + n, "...", 3); /* Flawfinder: ignore - safe has LOG_KEY_MAX + 4 bytes, n <= LOG_KEY_MAX */
        n += 3;
    }
    safe[n] = '\0';
    ts_log_warn("rate limit: %s %s refused (%u in a row), retry after %llu s", kind, safe, r->streak, (unsigned long long)retry_s);
    return 1;
}

static int send_429(h2o_req_t *req, const char *kind, uint64_t retry_s)
{
    char desc[96], *body;
    json_t *json;

    snprintf(desc, sizeof(desc), "rate limit exceeded for this %s; retry after %llu s", kind, (unsigned long long)retry_s);
    json = json_pack("{s:s, s:s, s:s, s:I}", "error", "too_many_requests", "error_description", desc, "limit", kind, "retry_after",
                     (json_int_t)retry_s);
    body = json != NULL ? json_dumps(json, JSON_COMPACT) : NULL;
    json_decref(json);
    if (body == NULL)
        return ts_http_send_error(req, TS_ERR_TOO_MANY_REQUESTS, NULL);
    ts_http_send(req, 429, "application/json", body, strlen(body));
    free(body);
    return 0;
}

int ts_http_rate_limit_or_reply(h2o_req_t *req, ts_ratelimit_t *rl, const char *kind, const char *key, double rate, unsigned burst)
{
    ts_ratelimit_result_t r;
    uint64_t retry_s;

    if (rl == NULL || !(rate > 0))
        return 0;
    if (ts_ratelimit_take(rl, key, strlen(key), rate, burst, ts_monotonic_ms(), &r)) {
        add_ratelimit_headers(req, &r, 0);
        return 0;
    }
    retry_s = seconds_up(r.retry_after_ms);
    if (retry_s == 0)
        retry_s = 1;
    /* audited where it is logged (1st, 2nd, 4th... refusal in a row); a client key is "c:" + an authenticated client_id */
    if (log_refusal(kind, key, &r, retry_s))
        ts_http_audit(req, "ratelimit", TS_AUDIT_FAILURE, strncmp(key, "c:", 2) == 0 ? key + 2 : NULL, NULL,
                      json_pack("{s:s, s:I, s:I}", "limit", kind, "in_a_row", (json_int_t)r.streak, "retry_after", (json_int_t)retry_s));
    add_ratelimit_headers(req, &r, 1);
    set_header(req, "retry-after", retry_s);
    ts_http_no_store(req);
    send_429(req, kind, retry_s);
    return -1;
}

/* ---- the peer's address -------------------------------------------------------------------------- */

/* the peer as an IPv4 address (family AF_INET, 4 bytes) or IPv6 (AF_INET6, 16 bytes); 0 when unknown */
static int peer_ip(h2o_req_t *req, uint8_t addr[16])
{
    struct sockaddr_storage ss;

    if (req->conn == NULL || req->conn->callbacks == NULL || req->conn->callbacks->get_peername == NULL)
        return 0;
    memset(&ss, 0, sizeof(ss));
    if (req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss) == 0)
        return 0;
    if (ss.ss_family == AF_INET) {
        memcpy(addr, &((struct sockaddr_in *)&ss)->sin_addr, 4); /* Flawfinder: ignore - addr is 16 bytes */
        return AF_INET;
    }
    if (ss.ss_family == AF_INET6) {
        const struct in6_addr *a6 = &((struct sockaddr_in6 *)&ss)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a6)) {
            memcpy(addr, a6->s6_addr + 12, 4); /* Flawfinder: ignore - addr is 16 bytes */
            return AF_INET;
        }
        memcpy(addr, a6->s6_addr, 16); /* Flawfinder: ignore - addr is 16 bytes */
        return AF_INET6;
    }
    return 0;
}

const char *ts_http_peer_address(h2o_req_t *req, char *buf, size_t cap)
{
    uint8_t addr[16];
    int family = peer_ip(req, addr);

    if (family == 0 || inet_ntop(family, addr, buf, (socklen_t)cap) == NULL)
        return NULL;
    return buf;
}

const char *ts_http_peer_rate_key(h2o_req_t *req, char *buf, size_t cap)
{
    uint8_t addr[16];
    int family = peer_ip(req, addr);

    if (family == 0 || cap < TS_HTTP_ADDRESS_KEY_MAX)
        return NULL;
    if (family == AF_INET6)
        memset(addr + 8, 0, 8);
    /* Flawfinder: ignore - NOLINTNEXTLINE(bugprone-not-null-terminated-result): inet_ntop() writes the rest and the NUL */
    memcpy(buf, "a:", 2);
    if (inet_ntop(family, addr, buf + 2, (socklen_t)(cap - 2)) == NULL)
        return NULL;
    if (family == AF_INET6)
        strcat(buf, "/64"); /* Flawfinder: ignore - cap >= TS_HTTP_ADDRESS_KEY_MAX: a:, an IPv6 address, /64, NUL */
    return buf;
}
