#include <stdlib.h>
#include "http/audit_http.h"
#include "http/ratelimit_http.h"
#include "tessera/http.h"

void ts_http_audit(h2o_req_t *req, const char *action, ts_audit_outcome_t outcome, const char *actor, const char *target,
                   json_t *details)
{
    ts_audit_t *audit = ts_http_worker(req)->app->audit;
    char addr[TS_HTTP_ADDRESS_MAX], *text = NULL;

    if (audit == NULL) {
        json_decref(details);
        return;
    }
    if (details != NULL)
        text = json_dumps(details, JSON_COMPACT);
    json_decref(details);
    ts_audit_emit(audit, &(ts_audit_event_t){.actor = actor,
                                             .action = action,
                                             .target = target,
                                             .outcome = outcome,
                                             .source = ts_http_peer_address(req, addr, sizeof(addr)),
                                             .details = text});
    free(text);
}
