/* /admin/v1/audit: the audit log, newest first, a page at a time (the cursor is the id of the last event
 * shown). Events carry ids, never secrets; their hash chain is checked by `tessera audit verify`, not here. */
#include <stdlib.h>
#include "http/admin.h"

int ts_admin_ep_audit_list(ts_admin_req_t *ar)
{
    unsigned limit;
    const char *after;
    char err[512], *next = NULL;
    ts_pgconn_t *db;
    json_t *items;

    if (ts_admin_page_params_or_reply(ar, &limit, &after) != 0)
        return 0;
    /* the audit cursor is an id (at most 18 digits: a bigint): anything else was not given out by this API */
    for (const char *p = after; p != NULL && *p != '\0'; ++p)
        if (*p < '0' || *p > '9' || p - after >= 18)
            return ts_http_send_error(ar->req, TS_ERR_INVALID_REQUEST, "after: not a cursor this API gave out");
    if ((db = ts_admin_db_or_reply(ar)) == NULL)
        return 0;
    if ((items = ts_store_admin_page(db, TS_ADMIN_LIST_AUDIT, after, limit, &next, err, sizeof(err))) == NULL)
        return ts_admin_store_error(ar, -1, err, "audit event");
    ts_admin_send_page(ar, items, next);
    free(next);
    return 0;
}
