/* Cookies (RFC 6265): reading our two cookies out of Cookie headers and writing Set-Cookie for them.
 *
 * The Cookie header is attacker-controlled and arrives as a length-delimited value that is not
 * NUL-terminated, so every scan below is bounded by the length and never by a terminator. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "http/cookie.h"

#define HOST_PREFIX "__Host-"

/* cookie-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E (RFC 6265 §4.1.1): no CTLs, space, DQUOTE,
 * comma, semicolon or backslash */
static int is_cookie_octet(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) || (c >= 0x3c && c <= 0x5b) ||
           (c >= 0x5d && c <= 0x7e);
}

/* token (RFC 2616 §2.2), which cookie-name is: visible ASCII except the separators */
static int is_token_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?={}", c) == NULL;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* The first pair called name in header[0..len): 1 with its raw value span (quotes and all), 0 when there
 * is none. Pairs that do not parse are skipped, so one odd cookie of another site does not hide ours. */
static int find_pair(const char *header, size_t len, const char *name, size_t name_len, const char **value, size_t *value_len)
{
    const char *p = header, *end = header + len;

    while (p < end) {
        const char *semi = memchr(p, ';', (size_t)(end - p)), *pair_end = semi != NULL ? semi : end;
        while (p < pair_end && is_space(*p))
            ++p;
        const char *eq = memchr(p, '=', (size_t)(pair_end - p));
        if (eq != NULL && (size_t)(eq - p) == name_len && memcmp(p, name, name_len) == 0) {
            const char *v = eq + 1, *v_end = pair_end;
            /* browsers send "; " between pairs; trailing blanks before the ";" are tolerated all the same */
            while (v_end > v && is_space(v_end[-1]))
                --v_end;
            *value = v;
            *value_len = (size_t)(v_end - v);
            return 1;
        }
        p = semi != NULL ? semi + 1 : end;
    }
    return 0;
}

/* copies the value (without its quotes) to out: its length, or -1 when it is empty, too long or not all
 * cookie-octets */
static int copy_value(const char *v, size_t len, char *out, size_t cap)
{
    if (len >= 2 && v[0] == '"' && v[len - 1] == '"') {
        ++v;
        len -= 2;
    }
    if (len == 0 || len >= cap || len > INT_MAX)
        return -1;
    for (size_t i = 0; i < len; ++i)
        if (!is_cookie_octet((unsigned char)v[i]))
            return -1;
    memcpy(out, v, len); /* Flawfinder: ignore - len < cap checked above */
    out[len] = '\0';
    return (int)len;
}

int ts_cookie_find(const char *header, size_t len, const char *name, char *out, size_t cap)
{
    const char *v;
    size_t vlen;

    if (cap == 0)
        return -1;
    out[0] = '\0';
    if (!find_pair(header, len, name, strlen(name), &v, &vlen))
        return -1;
    return copy_value(v, vlen, out, cap);
}

const char *ts_cookie_name(const char *base, int secure, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%s%s", secure ? HOST_PREFIX : "", base);
    return n >= 0 && (size_t)n < cap ? buf : NULL;
}

int ts_http_cookie_get(h2o_req_t *req, const char *base, int secure, char *out, size_t cap)
{
    char name[128];
    const char *v;
    size_t vlen;

    if (cap == 0)
        return -1;
    out[0] = '\0';
    if (ts_cookie_name(base, secure, name, sizeof(name)) == NULL)
        return -1;
    /* HTTP/2 clients may split the cookies over several headers (RFC 9113 §8.2.3): the first pair decides,
     * whichever header it is in */
    for (ssize_t i = -1; (i = h2o_find_header(&req->headers, H2O_TOKEN_COOKIE, i)) != -1;) {
        const h2o_iovec_t *value = &req->headers.entries[i].value;
        if (find_pair(value->base, value->len, name, strlen(name), &v, &vlen))
            return copy_value(v, vlen, out, cap);
    }
    return -1;
}

int ts_http_cookie_set(h2o_req_t *req, const char *base, int secure, const char *value, unsigned max_age)
{
    char name[128], max_age_attr[32] = "";
    size_t vlen = value != NULL ? strlen(value) : 0;

    if (ts_cookie_name(base, secure, name, sizeof(name)) == NULL || *base == '\0')
        return -1;
    for (const char *p = name; *p != '\0'; ++p)
        if (!is_token_char((unsigned char)*p))
            return -1;
    /* ours are base64url handles; anything else would need quoting or would split the header, and could
     * never be read back by ts_cookie_find: refuse it rather than send a cookie we would not accept */
    if (value != NULL && (vlen == 0 || vlen > TS_COOKIE_VALUE_MAX))
        return -1;
    for (size_t i = 0; i < vlen; ++i)
        if (!is_cookie_octet((unsigned char)value[i]))
            return -1;
    if (value == NULL)
        snprintf(max_age_attr, sizeof(max_age_attr), "; Max-Age=0");
    else if (max_age > 0)
        snprintf(max_age_attr, sizeof(max_age_attr), "; Max-Age=%u", max_age);

    const char *secure_attr = secure ? "; Secure" : "";
    size_t cap = strlen(name) + 1 + vlen + sizeof("; Path=/") + strlen(max_age_attr) + sizeof("; HttpOnly") + strlen(secure_attr) +
                 sizeof("; SameSite=Lax");
    char *buf = h2o_mem_alloc_pool(&req->pool, cap);
    int n = snprintf(buf, cap, "%s=%s; Path=/%s; HttpOnly%s; SameSite=Lax", name, value != NULL ? value : "", max_age_attr,
                     secure_attr);
    if (n < 0 || (size_t)n >= cap)
        return -1;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_SET_COOKIE, NULL, buf, (size_t)n);
    return 0;
}
