/* ts_http_parse_form (src/http/form.c) on a request body, as /token, /introspect and /revoke receive it:
 * the bytes are not NUL-terminated. Invariants: never more than TS_FORM_MAX_PARAMS parameters; every
 * accepted name and value within its limit and free of NUL; no repeats but the allowed ones; and
 * re-encoding what was parsed and parsing it again gives the same parameters. */
#include "fuzz.h"
#include "fuzz_pool.h"
#include "tessera/http.h"

#ifndef FORM_REPEATABLE
#define FORM_REPEATABLE "resource"
#endif
static const char *const repeatable[] = {FORM_REPEATABLE, NULL};

static int is_repeatable(const char *name)
{
    for (size_t i = 0; repeatable[i] != NULL; ++i)
        if (strcmp(repeatable[i], name) == 0)
            return 1;
    return 0;
}

/* %XX for every byte but the unreserved ones, so that the encoding parses back to exactly s */
static size_t encode(const char *s, size_t len, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    for (size_t i = 0; i < len; ++i) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
            c == '~') {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    return o;
}

static void check_params(const ts_params_t *p)
{
    FUZZ_ASSERT(p->count <= TS_FORM_MAX_PARAMS);
    for (size_t i = 0; i < p->count; ++i) {
        const ts_param_t *it = &p->items[i];
        size_t name_len = strlen(it->name);
        FUZZ_ASSERT(name_len > 0 && name_len <= TS_FORM_MAX_NAME);
        FUZZ_ASSERT(it->value_len <= TS_FORM_MAX_VALUE && strlen(it->value) == it->value_len);
        if (!is_repeatable(it->name))
            FUZZ_ASSERT(ts_http_param(p, it->name) == it->value); /* the first and only one */
    }
    for (size_t r = 0; repeatable[r] != NULL; ++r) {
        const char *all[TS_FORM_MAX_PARAMS];
        size_t n = 0, got = ts_http_param_all(p, repeatable[r], all, TS_FORM_MAX_PARAMS);
        for (size_t i = 0; i < p->count; ++i)
            if (strcmp(p->items[i].name, repeatable[r]) == 0)
                FUZZ_ASSERT(n < got && all[n++] == p->items[i].value); /* every one, in order */
        FUZZ_ASSERT(n == got && ts_http_param_all(p, repeatable[r], all, n / 2) == n / 2);
    }
}

/* re-encodes p and parses the result into q */
static void reparse(h2o_mem_pool_t *pool, const ts_params_t *p, ts_params_t *q)
{
    size_t cap = 1, len = 0;
    const char *why = NULL;
    char *buf;

    for (size_t i = 0; i < p->count; ++i)
        cap += 3 * (strlen(p->items[i].name) + p->items[i].value_len) + 2;
    FUZZ_ASSERT((buf = malloc(cap)) != NULL);
    for (size_t i = 0; i < p->count; ++i) {
        if (i != 0)
            buf[len++] = '&';
        len += encode(p->items[i].name, strlen(p->items[i].name), buf + len);
        buf[len++] = '=';
        len += encode(p->items[i].value, p->items[i].value_len, buf + len);
    }
    FUZZ_ASSERT(ts_http_parse_form(pool, buf, len, repeatable, q, &why) == TS_OK);
    free(buf);
}

/* parses s[0..size) (exactly sized, not NUL-terminated) and checks the result */
static void parse_and_check(const char *s, size_t size)
{
    h2o_mem_pool_t pool;
    ts_params_t p, q;
    const char *why = NULL;
    ts_err_t err;

    h2o_mem_init_pool(&pool);
    err = ts_http_parse_form(&pool, s, size, repeatable, &p, &why);
    FUZZ_ASSERT(p.count <= TS_FORM_MAX_PARAMS);
    if (err == TS_OK) {
        check_params(&p);
        reparse(&pool, &p, &q);
        FUZZ_ASSERT(q.count == p.count);
        for (size_t i = 0; i < p.count; ++i) {
            FUZZ_ASSERT(strcmp(q.items[i].name, p.items[i].name) == 0);
            FUZZ_ASSERT(q.items[i].value_len == p.items[i].value_len && strcmp(q.items[i].value, p.items[i].value) == 0);
        }
    } else {
        FUZZ_ASSERT(err == TS_ERR_INVALID_REQUEST && why != NULL);
    }
    h2o_mem_clear_pool(&pool);
}

#ifndef FUZZ_FORM_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *body = fuzz_bytes(data, size);

    parse_and_check(body, size);
    free(body);
    return 0;
}
#endif
