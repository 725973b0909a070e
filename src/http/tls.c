#include <stdio.h>
#include <openssl/err.h>
#include "http/tls.h"
#include "tessera/http.h"

static const h2o_iovec_t http1_only[] = {{H2O_STRLIT("http/1.1")}, {NULL}};

static void openssl_error(const char *what, char *err, size_t errlen)
{
    char buf[256];
    ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
    snprintf(err, errlen, "%s: %s", what, buf);
    ERR_clear_error();
}

SSL_CTX *ts_tls_create(const ts_config_t *conf, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    if (ctx == NULL) {
        openssl_error("TLS", err, errlen);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
    /* TLS 1.2: forward-secret AEAD suites only (BCP 195); TLS 1.3 suites are all fine */
    if (SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20") != 1) {
        openssl_error("tls cipher list", err, errlen);
        goto fail;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, conf->tls_certificate_file) != 1) {
        openssl_error("tls_certificate_file", err, errlen);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, conf->tls_private_key_file, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        openssl_error("tls_private_key_file", err, errlen);
        goto fail;
    }
    h2o_ssl_register_alpn_protocols(ctx, conf->http2 ? h2o_http2_alpn_protocols : http1_only);
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}
