/* ts_cookie_find (src/http/cookie.c) on a Cookie header, and ts_http_cookie_set on the same bytes as a value.
 * The first byte chooses the options (bit 0: secure, the rest: a small buffer size); the rest is the header
 * value, as h2o gives it: a length, no terminating NUL. Invariants: a found value fits the buffer, is
 * NUL-terminated, is all cookie-octets and stands in the header as name=value or name="value"; a smaller
 * buffer finds the same value or nothing; a failure leaves an empty string. A value that
 * ts_http_cookie_set accepts is read back unchanged from the Set-Cookie it wrote; one it refuses is one
 * ts_cookie_find could not have returned. */
#include "fuzz.h"
#include "http/cookie.h"

static const char *names[] = {TS_COOKIE_SESSION, "__Host-tessera_session", TS_COOKIE_BROWSER, "s", "a b", ""};

static int is_cookie_octet(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) || (c >= 0x3c && c <= 0x5b) ||
           (c >= 0x5d && c <= 0x7e);
}

/* ts_cookie_find with an exactly sized buffer, checked; returns its result, the value copied to value */
static int find_checked(const char *header, size_t len, const char *name, size_t cap, char *value)
{
    char *out = malloc(cap != 0 ? cap : 1); /* exactly sized: ASan sees an overrun */
    int n;

    FUZZ_ASSERT(out != NULL);
    n = ts_cookie_find(header, len, name, out, cap);
    FUZZ_ASSERT(n >= -1);
    if (n < 0) {
        FUZZ_ASSERT(cap == 0 || out[0] == '\0');
        free(out);
        return n;
    }
    FUZZ_ASSERT(n > 0 && (size_t)n <= cap - 1 && out[n] == '\0');
    for (int i = 0; i < n; ++i)
        FUZZ_ASSERT(is_cookie_octet((unsigned char)out[i]));

    /* it stands in the header as name=value or name="value", where a pair can start */
    size_t name_len = strlen(name), need = name_len + (size_t)n + 3;
    char *plain = malloc(need), *quoted = malloc(need);
    FUZZ_ASSERT(plain != NULL && quoted != NULL);
    snprintf(plain, need, "%s=%s", name, out);
    snprintf(quoted, need, "%s=\"%s\"", name, out);
    int seen = 0;
    for (size_t at = 0; at < len && !seen; ++at) {
        if (at != 0 && header[at - 1] != ';' && header[at - 1] != ' ' && header[at - 1] != '\t')
            continue;
        seen = (len - at >= strlen(plain) && memcmp(header + at, plain, strlen(plain)) == 0) ||
               (len - at >= strlen(quoted) && memcmp(header + at, quoted, strlen(quoted)) == 0);
    }
    FUZZ_ASSERT(seen);
    free(plain);
    free(quoted);
    memcpy(value, out, (size_t)n + 1);
    free(out);
    return n;
}

/* the value as a Set-Cookie, read back */
static void set_round_trip(const char *value, int secure, unsigned max_age)
{
    static h2o_req_t req; /* only its pool and header lists are used */
    char name[64], got[TS_COOKIE_VALUE_MAX + 1];
    size_t vlen = strlen(value);

    memset(&req, 0, sizeof(req));
    h2o_mem_init_pool(&req.pool);
    int r = ts_http_cookie_set(&req, TS_COOKIE_SESSION, secure, value, max_age);
    ssize_t i = h2o_find_header(&req.res.headers, H2O_TOKEN_SET_COOKIE, -1);
    if (r != 0) {
        FUZZ_ASSERT(i == -1);
        /* refused: ts_cookie_find would not have returned it either */
        int readable = vlen != 0 && vlen <= TS_COOKIE_VALUE_MAX;
        for (size_t k = 0; k < vlen && readable; ++k)
            readable = is_cookie_octet((unsigned char)value[k]);
        FUZZ_ASSERT(!readable);
    } else {
        FUZZ_ASSERT(i != -1);
        const h2o_iovec_t *h = &req.res.headers.entries[i].value;
        const char *semi = memchr(h->base, ';', h->len);
        FUZZ_ASSERT(semi != NULL);
        FUZZ_ASSERT(ts_cookie_name(TS_COOKIE_SESSION, secure, name, sizeof(name)) != NULL);
        FUZZ_ASSERT(ts_cookie_find(h->base, (size_t)(semi - h->base), name, got, sizeof(got)) == (int)vlen);
        FUZZ_ASSERT(strcmp(got, value) == 0);
        FUZZ_ASSERT(memmem(h->base, h->len, "; Path=/", 8) != NULL && memmem(h->base, h->len, "; HttpOnly", 10) != NULL);
        FUZZ_ASSERT((memmem(h->base, h->len, "; Secure", 8) != NULL) == (secure != 0));
        FUZZ_ASSERT(memchr(h->base, '\r', h->len) == NULL && memchr(h->base, '\n', h->len) == NULL);
    }
    h2o_mem_clear_pool(&req.pool);
}

/* a deleting Set-Cookie is the same whatever max_age says */
static void check_delete(int secure, unsigned max_age)
{
    static h2o_req_t req;
    const char *want = secure ? "__Host-" TS_COOKIE_SESSION "=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax"
                              : TS_COOKIE_SESSION "=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax";

    memset(&req, 0, sizeof(req));
    h2o_mem_init_pool(&req.pool);
    FUZZ_ASSERT(ts_http_cookie_set(&req, TS_COOKIE_SESSION, secure, NULL, max_age) == 0);
    ssize_t i = h2o_find_header(&req.res.headers, H2O_TOKEN_SET_COOKIE, -1);
    FUZZ_ASSERT(i != -1 &&
                h2o_memis(req.res.headers.entries[i].value.base, req.res.headers.entries[i].value.len, want, strlen(want)));
    h2o_mem_clear_pool(&req.pool);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned flags = data[0];
    char *header = fuzz_bytes(data + 1, size - 1), value[TS_COOKIE_VALUE_MAX + 1], small_value[TS_COOKIE_VALUE_MAX + 1];
    size_t len = size - 1, small_cap = (flags >> 1) % 17; /* 0 to 16, 0 included */

    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); ++k) {
        int n = find_checked(header, len, names[k], TS_COOKIE_VALUE_MAX + 1, value);
        int small = find_checked(header, len, names[k], small_cap, small_value);
        /* a smaller buffer gives the same value, or nothing when it does not fit */
        if (n >= 0 && (size_t)n < small_cap)
            FUZZ_ASSERT(small == n && strcmp(small_value, value) == 0);
        else
            FUZZ_ASSERT(small == -1);
    }
    char *s = fuzz_cstr(data + 1, size - 1);
    set_round_trip(s, flags & 1, flags);
    check_delete(flags & 1, flags);
    free(s);
    free(header);
    return 0;
}
