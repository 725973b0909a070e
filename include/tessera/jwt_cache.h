#ifndef TESSERA_JWT_CACHE_H
#define TESSERA_JWT_CACHE_H

/* Gateways introspect the same token again and again; checking its signature each time would cost more
 * than everything else. Each loop thread keeps a small direct-mapped cache of tokens whose signature it has
 * verified (one thread only: no locks, and jansson's reference counts are not atomic). Only the signature
 * is cached: expiry, revocation and the status of client and user are judged afresh on every call. */
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

typedef struct st_ts_jwt_cache_t ts_jwt_cache_t;

ts_jwt_cache_t *ts_jwt_cache_create(size_t slots);
void ts_jwt_cache_destroy(ts_jwt_cache_t *cache);
/** the verified claims of token (borrowed, valid until the next get or put), or NULL; *kid receives the signing kid */
const json_t *ts_jwt_cache_get(ts_jwt_cache_t *cache, const char *token, size_t len, int64_t now, const char **kid);
/** remembers that token verified with kid, until exp */
void ts_jwt_cache_put(ts_jwt_cache_t *cache, const char *token, size_t len, const char *kid, json_t *claims, int64_t exp);

#endif
