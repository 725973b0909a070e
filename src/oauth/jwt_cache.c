#include <stdlib.h>
#include <string.h>
#include "tessera/jwt_cache.h"
#include "tessera/strmap.h"

typedef struct st_slot_t {
    char *token; /* NULL: empty */
    size_t len;
    char kid[130];
    json_t *claims;
    int64_t exp;
} slot_t;

struct st_ts_jwt_cache_t {
    slot_t *slots;
    size_t mask;
};

ts_jwt_cache_t *ts_jwt_cache_create(size_t slots)
{
    size_t n = 1;
    while (n < slots)
        n <<= 1;
    ts_jwt_cache_t *c = calloc(1, sizeof(*c));
    if (c == NULL || (c->slots = calloc(n, sizeof(slot_t))) == NULL) {
        free(c);
        return NULL;
    }
    c->mask = n - 1;
    return c;
}

static void clear(slot_t *s)
{
    free(s->token);
    json_decref(s->claims);
    memset(s, 0, sizeof(*s));
}

void ts_jwt_cache_destroy(ts_jwt_cache_t *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i <= c->mask; ++i)
        clear(&c->slots[i]);
    free(c->slots);
    free(c);
}

const json_t *ts_jwt_cache_get(ts_jwt_cache_t *c, const char *token, size_t len, int64_t now, const char **kid)
{
    slot_t *s = &c->slots[ts_strmap_hash(token, len) & c->mask];
    if (s->token == NULL || s->len != len || memcmp(s->token, token, len) != 0)
        return NULL;
    if (s->exp <= now) {
        clear(s);
        return NULL;
    }
    *kid = s->kid;
    return s->claims;
}

void ts_jwt_cache_put(ts_jwt_cache_t *c, const char *token, size_t len, const char *kid, json_t *claims, int64_t exp)
{
    slot_t *s = &c->slots[ts_strmap_hash(token, len) & c->mask];
    char *copy;
    if (strlen(kid) >= sizeof(s->kid) || (copy = malloc(len)) == NULL)
        return;
    clear(s);
    memcpy(copy, token, len); /* Flawfinder: ignore - copy was just allocated with len bytes */
    s->token = copy;
    s->len = len;
    strcpy(s->kid, kid); /* Flawfinder: ignore - strlen(kid) < sizeof(s->kid) checked above */
    s->claims = json_incref(claims);
    s->exp = exp;
}
