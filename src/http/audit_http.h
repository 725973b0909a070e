#ifndef TESSERA_HTTP_AUDIT_HTTP_H
#define TESSERA_HTTP_AUDIT_HTTP_H

/* Audit events from the HTTP layer (src/http/audit_http.c): the request's peer address as the source. */
#include <h2o.h>
#include <jansson.h>
#include "tessera/audit.h"

/** queues an event about req on this node's audit writer (nothing when there is none): source is the peer's
 *  address; details (stolen, may be NULL) must hold no secret, token, code or password */
void ts_http_audit(h2o_req_t *req, const char *action, ts_audit_outcome_t outcome, const char *actor, const char *target,
                   json_t *details);

#endif
