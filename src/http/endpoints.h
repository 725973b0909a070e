#ifndef TESSERA_HTTP_ENDPOINTS_H
#define TESSERA_HTTP_ENDPOINTS_H

#include "tessera/http.h"

/* Handlers: each receives a request whose path and method the router has already checked. */
int ts_ep_discovery_oidc(h2o_req_t *req);
int ts_ep_discovery_oauth(h2o_req_t *req);
int ts_ep_jwks(h2o_req_t *req);
int ts_ep_healthz(h2o_req_t *req);
int ts_ep_readyz(h2o_req_t *req);
int ts_ep_token(h2o_req_t *req);
int ts_ep_introspect(h2o_req_t *req);
int ts_ep_revoke(h2o_req_t *req);
int ts_ep_authorize(h2o_req_t *req);
int ts_ep_login(h2o_req_t *req);
int ts_ep_consent(h2o_req_t *req);
int ts_ep_logout(h2o_req_t *req);
int ts_ep_userinfo(h2o_req_t *req);
int ts_ep_stylesheet(h2o_req_t *req);
/* dynamic client registration (src/http/ep_register.c): 404 unless registration_enabled */
int ts_ep_register(h2o_req_t *req);     /* POST /register (RFC 7591) */
int ts_ep_registration(h2o_req_t *req); /* GET, PUT, DELETE /register/{client_id} (RFC 7592) */
/** reads registration_initial_access_token_file into app (nothing when it is not set); -1 with err */
int ts_registration_load_token(ts_app_t *app, char *err, size_t errlen);

/** the single h2o handler: bounds the request, finds the route, answers 404/405 itself */
int ts_http_route(h2o_handler_t *self, h2o_req_t *req);

#endif
