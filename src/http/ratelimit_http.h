#ifndef TESSERA_HTTP_RATELIMIT_HTTP_H
#define TESSERA_HTTP_RATELIMIT_HTTP_H

/* Rate limiting at the HTTP edge (src/http/ratelimit_http.c): the token buckets of tessera/ratelimit.h
 * turned into RateLimit-* headers (draft-ietf-httpapi-ratelimit-headers) and 429 responses. */
#include <h2o.h>
#include "tessera/ratelimit.h"

/** room for ts_http_peer_address (an IPv6 address in text, NUL included) */
#define TS_HTTP_ADDRESS_MAX 46
/** room for ts_http_peer_rate_key ("a:" + address + "/64") */
#define TS_HTTP_ADDRESS_KEY_MAX 52

/** takes a token for key (built by the caller: "c:<client_id>", "a:<address>"; never a secret) from rl.
 *  Allowed: adds RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset (seconds, rounded up) and returns 0;
 *  when an earlier check on the same request already added them, the stricter one (fewer remaining) stays.
 *  Limited: sends 429 with Retry-After, the RateLimit-* headers, Cache-Control: no-store and
 *  {"error":"too_many_requests", ...}, logs it, and returns -1. kind ("client", "address") names the limit
 *  in the response. rl NULL or rate 0: no limit, no headers, 0. */
int ts_http_rate_limit_or_reply(h2o_req_t *req, ts_ratelimit_t *rl, const char *kind, const char *key, double rate, unsigned burst);
/** the peer's address as text in buf ("192.0.2.1", "2001:db8::1"; an IPv4-mapped IPv6 address is shown as
 *  IPv4); NULL when unknown (no peer name, not an IP socket) or cap is too small */
const char *ts_http_peer_address(h2o_req_t *req, char *buf, size_t cap);
/** the address rate-limit key for the peer: "a:192.0.2.1" for IPv4 and "a:2001:db8:1:2::/64" for IPv6, whose
 *  /64 is one subscriber (anyone holding one can use 2^64 addresses); NULL as for ts_http_peer_address */
const char *ts_http_peer_rate_key(h2o_req_t *req, char *buf, size_t cap);

#endif
