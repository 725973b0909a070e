#ifndef TESSERA_HTTP_COOKIE_H
#define TESSERA_HTTP_COOKIE_H

/* Cookies (RFC 6265). Tessera sets two: the session and the browser binding of an interaction. On TLS (or
 * behind a TLS proxy) they are "__Host-" prefixed and Secure; on plain http (a loopback development setup)
 * browsers refuse both, so the names lose the prefix. Always Path=/, HttpOnly, SameSite=Lax. */
#include <stddef.h>
#include "tessera/http.h"

#define TS_COOKIE_SESSION "tessera_session"
#define TS_COOKIE_BROWSER "tessera_browser"
#define TS_COOKIE_VALUE_MAX 128

/** finds the cookie called name in one Cookie header value ("a=1; b=2"); copies its value (without quotes)
 *  into out and returns its length, or -1 when it is absent, empty, longer than cap - 1 or holds characters
 *  outside RFC 6265's cookie-octet. A name that appears twice: the first one. */
int ts_cookie_find(const char *header, size_t len, const char *name, char *out, size_t cap);
/** the cookie name (with "__Host-" when secure) as the browser stores it */
const char *ts_cookie_name(const char *base, int secure, char *buf, size_t cap);
/** looks the cookie (base name, prefixed when secure) up in every Cookie header of req; as ts_cookie_find */
int ts_http_cookie_get(h2o_req_t *req, const char *base, int secure, char *out, size_t cap);
/** adds Set-Cookie for base=value (Path=/; HttpOnly; SameSite=Lax; Secure and "__Host-" when secure), with
 *  Max-Age when max_age > 0, or a deleting one (Max-Age=0) when value is NULL. 0 when added; -1, adding
 *  nothing, when value is empty, longer than TS_COOKIE_VALUE_MAX or holds characters outside cookie-octet */
int ts_http_cookie_set(h2o_req_t *req, const char *base, int secure, const char *value, unsigned max_age);

#endif
