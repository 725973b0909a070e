/* Which registered redirect URI a request names. Exact byte comparison (RFC 9700 §2.1, §4.1.3): any
 * normalization (case, percent-encoding, dot segments, default ports) is a place where our idea of "the same
 * URI" and the browser's can differ, which is how open redirectors happen. The one exception is RFC 8252
 * §7.3: a native app listening on a loopback interface gets whatever port the OS gave it, so an http
 * loopback URI matches with any port, and in nothing else. */
#include <string.h>
#include "tessera/oauth_browser.h"

#define HTTP "http://"

/* the parts of an http URI that the loopback rule looks at */
typedef struct st_http_uri_t {
    const char *host;
    size_t host_len;
    const char *rest; /* from the end of the authority on: path, query (and whatever follows) */
} http_uri_t;

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* ":" 1*5DIGIT in 1-65535; an empty port is refused, since it only ever appears in crafted URIs */
static int valid_port(const char *p, const char *end)
{
    unsigned long port = 0;

    if (p == end || end - p > 5)
        return 0;
    for (; p < end; ++p) {
        if (!is_digit((unsigned char)*p))
            return 0;
        port = port * 10 + (unsigned long)(*p - '0');
    }
    return port >= 1 && port <= 65535;
}

/* splits "http://host[:port]rest"; 0 when uri is not of that shape. Userinfo is refused outright rather than
 * skipped: "http://127.0.0.1@evil.com/" must never look like a loopback URI. */
static int parse_http(const char *uri, http_uri_t *out)
{
    const char *auth, *end, *host_end;

    if (strncmp(uri, HTTP, strlen(HTTP)) != 0)
        return 0;
    auth = uri + strlen(HTTP);
    /* '\\' ends the authority too in browsers (WHATWG URL, special schemes); stopping there keeps the port
     * check from running past it, and the byte comparison of rest then fails for it */
    end = auth + strcspn(auth, "/?#\\");
    if (memchr(auth, '@', (size_t)(end - auth)) != NULL)
        return 0;
    if (*auth == '[') {
        const char *close = memchr(auth, ']', (size_t)(end - auth));
        if (close == NULL)
            return 0;
        host_end = close + 1;
    } else {
        const char *colon = memchr(auth, ':', (size_t)(end - auth));
        host_end = colon != NULL ? colon : end;
    }
    if (host_end < end && (*host_end != ':' || !valid_port(host_end + 1, end)))
        return 0;
    out->host = auth;
    out->host_len = (size_t)(host_end - auth);
    out->rest = end;
    return 1;
}

static int host_is(const http_uri_t *u, const char *name)
{
    return u->host_len == strlen(name) && memcmp(u->host, name, u->host_len) == 0;
}

/* registered is http on a loopback host and uri is the same but for the port */
static int loopback_match(const char *registered, const char *uri)
{
    http_uri_t r, u;

    if (!parse_http(registered, &r) || !(host_is(&r, "127.0.0.1") || host_is(&r, "[::1]") || host_is(&r, "localhost")))
        return 0;
    if (!parse_http(uri, &u))
        return 0;
    return u.host_len == r.host_len && memcmp(u.host, r.host, r.host_len) == 0 && strcmp(u.rest, r.rest) == 0;
}

const char *ts_redirect_uri_match(const ts_strs_t *registered, const char *uri)
{
    if (registered == NULL || uri == NULL)
        return NULL;
    for (size_t i = 0; i < registered->len; ++i)
        if (strcmp(registered->items[i], uri) == 0)
            return registered->items[i];
    for (size_t i = 0; i < registered->len; ++i)
        if (loopback_match(registered->items[i], uri))
            return registered->items[i];
    return NULL;
}
