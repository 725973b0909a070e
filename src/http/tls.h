#ifndef TESSERA_HTTP_TLS_H
#define TESSERA_HTTP_TLS_H

#include <openssl/ssl.h>
#include "tessera/config.h"

/** a server SSL_CTX from the configured certificate chain and key: TLS 1.2+, AEAD ciphers, ALPN http/1.1
 *  (and h2 when http2 is on). NULL with err. */
SSL_CTX *ts_tls_create(const ts_config_t *conf, char *err, size_t errlen);

#endif
