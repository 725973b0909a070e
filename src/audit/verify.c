/* `tessera audit verify`: walks the chain in id order, a page at a time, and stops at the first row that does not
 * fit. For each row, in this order:
 *   - its id follows the previous one (the first is 1): a gap is a removed row;
 *   - its prev_hash is the previous row's hash (zeros for the first): otherwise a row before it was removed or
 *     replaced, or it was inserted out of order;
 *   - its hash is SHA-256(prev_hash || its content): otherwise the row itself was changed.
 * Someone able to rewrite every hash from the changed row onwards makes a chain that is intact in itself: keep
 * the head (the newest id and hash, printed by verify) somewhere else and compare (docs/audit.md). */
#include <stdio.h>
#include <string.h>
#include "tessera/audit.h"
#include "tessera/audit_store.h"

typedef struct st_walk_t {
    ts_audit_verify_t *out;
    int64_t prev_id;
    unsigned char prev[TS_AUDIT_HASH_LEN];
    int broken;
    int oom;
} walk_t;

static int bad(walk_t *w, int64_t id, const char *why)
{
    w->out->first_bad = id;
    snprintf(w->out->why, sizeof(w->out->why), "%s", why);
    w->broken = 1;
    return 1;
}

static int on_row(void *arg, const ts_audit_stored_t *r)
{
    walk_t *w = arg;
    unsigned char prev[TS_AUDIT_HASH_LEN], hash[TS_AUDIT_HASH_LEN], want[TS_AUDIT_HASH_LEN];
    char why[160];
    int64_t id = r->row.id;

    w->out->rows++;
    if (id != w->prev_id + 1) {
        if (w->prev_id == 0)
            snprintf(why, sizeof(why), "the chain must begin at id 1, it begins at %lld: earlier rows were removed", (long long)id);
        else if (id > w->prev_id + 1)
            snprintf(why, sizeof(why), "id gap after row %lld: %lld row(s) removed", (long long)w->prev_id,
                     (long long)(id - w->prev_id - 1));
        else
            snprintf(why, sizeof(why), "id out of order after row %lld", (long long)w->prev_id);
        return bad(w, id, why);
    }
    if (r->prev_hash == NULL || ts_audit_unhex(r->prev_hash, prev, sizeof(prev)) != 0)
        return bad(w, id, "prev_hash is missing or malformed");
    if (r->hash == NULL || ts_audit_unhex(r->hash, hash, sizeof(hash)) != 0)
        return bad(w, id, "hash is missing or malformed");
    if (memcmp(prev, w->prev, sizeof(prev)) != 0) {
        if (w->prev_id == 0)
            snprintf(why, sizeof(why), "prev_hash of the first row is not zero: rows before it were removed");
        else
            snprintf(why, sizeof(why),
                     "prev_hash is not the hash of row %lld: a row was removed or replaced before it, or it was inserted "
                     "out of order",
                     (long long)w->prev_id);
        return bad(w, id, why);
    }
    if (ts_audit_hash(prev, &r->row, want) != 0) {
        w->oom = 1;
        return 1;
    }
    if (memcmp(want, hash, sizeof(hash)) != 0)
        return bad(w, id, "hash does not match the row's content: the row was changed");
    memcpy(w->prev, hash, sizeof(hash)); /* Flawfinder: ignore - both TS_AUDIT_HASH_LEN */
    w->prev_id = id;
    return 0;
}

int ts_audit_verify(ts_pgconn_t *db, ts_audit_verify_t *out, char *err, size_t errlen)
{
    walk_t w = {.out = out};
    ts_audit_query_t q = {.after_id = INT64_MIN};

    memset(out, 0, sizeof(*out));
    if (ts_store_audit_scan(db, &q, on_row, &w, err, errlen) != 0)
        return -1;
    if (w.oom) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (w.broken)
        return 1;
    out->last_id = w.prev_id;
    ts_audit_hex(w.prev, sizeof(w.prev), out->head);
    return 0;
}
