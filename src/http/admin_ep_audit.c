/* /admin/v1/audit: the audit log, newest first, a page at a time (the cursor is the id of the last event
 * shown). Events carry ids, never secrets; their hash chain is checked by `tessera audit verify`, not here. */
#include "http/admin.h"

int ts_admin_ep_audit_list(ts_admin_req_t *ar)
{
    return ts_admin_list(ar, TS_ADMIN_LIST_AUDIT, "audit event");
}
