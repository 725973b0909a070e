#ifndef TESSERA_OAUTH_H
#define TESSERA_OAUTH_H

/* OAuth and OpenID Connect logic: plain structs and JSON in and out; no sockets, SQL or raw keys. */
#include <jansson.h>
#include "tessera/config.h"

/** the metadata document; openid selects /.well-known/openid-configuration over RFC 8414's */
json_t *ts_oauth_discovery(const ts_config_t *conf, int openid);

#endif
