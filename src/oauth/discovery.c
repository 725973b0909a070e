/* Authorization server metadata (RFC 8414) and OpenID Provider metadata (Discovery 1.0). Only what the
 * server actually does is advertised: each endpoint appears here when its handler exists. */
#include <stdio.h>
#include "tessera/oauth.h"

static void set_url(json_t *doc, const char *key, const char *issuer, const char *path)
{
    json_t *s = json_sprintf("%s%s", issuer, path);
    json_object_set_new(doc, key, s);
}

json_t *ts_oauth_discovery(const ts_config_t *conf, int openid)
{
    json_t *doc = json_object();
    if (doc == NULL)
        return NULL;
    json_object_set_new(doc, "issuer", json_string(conf->issuer));
    set_url(doc, "jwks_uri", conf->issuer, "/jwks.json");
    (void)openid; /* the OpenID-only members arrive with ID tokens */
    return doc;
}
