#ifndef TESSERA_REVOKED_H
#define TESSERA_REVOKED_H

/* The revoked-token set every introspection consults: access token ids ('j') and grant families ('f').
 * Unlike the other snapshots it changes one entry at a time (each revocation, on every node within
 * milliseconds), so it is a shared set under a read-write lock rather than a copy per change. Entries
 * leave once the tokens they name have expired anyway. */
#include <stddef.h>
#include <stdint.h>

#define TS_REVOKED_JTI 'j'
#define TS_REVOKED_FAMILY 'f'

typedef struct st_ts_revoked_t ts_revoked_t;

ts_revoked_t *ts_revoked_create(void);
void ts_revoked_destroy(ts_revoked_t *set);
/** adds (or extends) an entry; 0 or -1 (out of memory, or value longer than 256 bytes) */
int ts_revoked_add(ts_revoked_t *set, char kind, const char *value, int64_t expires_at);
/** 1 when value of that kind is revoked */
int ts_revoked_has(ts_revoked_t *set, char kind, const char *value);
/** drops entries that expired before now; returns how many */
size_t ts_revoked_purge(ts_revoked_t *set, int64_t now);
size_t ts_revoked_size(ts_revoked_t *set);

#endif
