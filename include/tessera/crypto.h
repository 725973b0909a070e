#ifndef TESSERA_CRYPTO_H
#define TESSERA_CRYPTO_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* ---- randomness, hashing, comparison ---------------------------------------------------------- */

/** fills buf with len bytes from the OpenSSL CSPRNG; 0 or -1 */
int ts_crypto_random(void *buf, size_t len);
/** SHA-256 of data */
void ts_crypto_sha256(const void *data, size_t len, unsigned char out[32]);
/** 1 when the n bytes at a and b are equal; time depends on n only */
int ts_crypto_equal(const void *a, const void *b, size_t n);
/** wipes len bytes at p in a way the compiler keeps */
void ts_crypto_cleanse(void *p, size_t len);

/* ---- base64url (RFC 4648 §5, no padding) ------------------------------------------------------ */

#define TS_B64URL_ENCODED_LEN(n) (((n) * 4 + 2) / 3)
/** encodes n bytes into out (which must hold TS_B64URL_ENCODED_LEN(n) + 1 bytes, NUL-terminated); returns the length */
size_t ts_b64url_encode(const void *in, size_t n, char *out);
/** strict decode: no padding, no whitespace, no characters outside the alphabet, unused trailing bits zero.
 *  Writes at most cap bytes; 0 on success with *outlen set, -1 on bad input or when cap is too small. */
int ts_b64url_decode(const char *in, size_t n, unsigned char *out, size_t cap, size_t *outlen);

/* ---- opaque handles ---------------------------------------------------------------------------- */

/* Readable prefixes let secret scanners spot a leaked handle. */
#define TS_PREFIX_CLIENT_SECRET "tscs_"
#define TS_PREFIX_REFRESH_TOKEN "tsr_"
#define TS_PREFIX_AUTH_CODE "tsac_"
#define TS_PREFIX_SESSION "tsss_"
#define TS_PREFIX_REGISTRATION_TOKEN "tsra_" /* RFC 7592 registration access token */
#define TS_HANDLE_RANDOM_BYTES 32
/** largest handle: prefix (up to 8) + base64url of 32 bytes + NUL */
#define TS_HANDLE_MAX (8 + TS_B64URL_ENCODED_LEN(TS_HANDLE_RANDOM_BYTES) + 1)
/** writes prefix + base64url(32 random bytes) into out (cap >= TS_HANDLE_MAX); 0 or -1 */
int ts_crypto_handle_new(const char *prefix, char *out, size_t cap);
/** the value stored for a handle: base64url(SHA-256(handle)), 43 characters + NUL */
void ts_crypto_handle_hash(const char *handle, size_t len, char out[44]);

/* ---- key-encryption key and AES-256-GCM ------------------------------------------------------- */

typedef struct st_ts_kek_t {
    unsigned char key[32];
} ts_kek_t;

/** parses a 32-byte key written as 64 hex digits or 43 base64url characters (surrounding whitespace ignored) */
int ts_kek_parse(const char *text, size_t len, ts_kek_t *out);
/** encrypts pt under kek with a random 96-bit nonce, binding aad; *out (malloc'd, caller frees) is
 *  version byte 1 || nonce(12) || ciphertext || tag(16). 0 or -1 */
int ts_crypto_seal(const ts_kek_t *kek, const void *aad, size_t aadlen, const void *pt, size_t ptlen, unsigned char **out,
                   size_t *outlen);
/** reverses ts_crypto_seal; -1 when the key, aad or data do not authenticate. *out is malloc'd; caller cleanses and frees */
int ts_crypto_open(const ts_kek_t *kek, const void *aad, size_t aadlen, const unsigned char *in, size_t inlen, unsigned char **out,
                   size_t *outlen);

/* ---- client secrets ----------------------------------------------------------------------------- */

/* Client secrets are 256-bit server-generated values (or >= 32 characters from an apply file): a
 * keyed fast hash is enough, since guessing the input is hopeless; the key (derived from the KEK)
 * keeps a stolen database from being useful to test guesses offline. */
typedef struct st_ts_secret_hasher_t {
    unsigned char key[32];
} ts_secret_hasher_t;
#define TS_SECRET_HASH_LEN 48 /* "hs1$" + 43 base64url + NUL */
/** derives the hashing key from the KEK (HKDF-SHA256, info "tessera client secret v1"); 0 or -1 */
int ts_secret_hasher_init(ts_secret_hasher_t *h, const ts_kek_t *kek);
/** out = "hs1$" + base64url(HMAC-SHA256(key, secret)) */
void ts_secret_hash(const ts_secret_hasher_t *h, const char *secret, size_t len, char out[TS_SECRET_HASH_LEN]);
/** 1 when secret hashes to stored (constant time in the secret), else 0 */
int ts_secret_verify(const ts_secret_hasher_t *h, const char *secret, size_t len, const char *stored);

/* ---- passwords (argon2id, PHC strings) -------------------------------------------------------- */

#define TS_PASSWORD_HASH_MAX 160
#define TS_PASSWORD_MAX 1024
/** argon2id with the library's parameters (m=19 MiB, t=2, p=1, 16-byte salt); out gets the PHC string. 0 or -1.
 *  CPU-heavy: never call on a loop thread. */
int ts_password_hash(const char *pw, size_t len, char *out, size_t cap);
/** 1 match, 0 mismatch, -1 malformed hash. CPU-heavy: never call on a loop thread. */
int ts_password_verify(const char *phc, const char *pw, size_t len);

/* ---- signing keys and JWS --------------------------------------------------------------------- */

typedef enum en_ts_jws_alg_t { TS_ALG_RS256 = 1, TS_ALG_ES256 = 2 } ts_jws_alg_t;
#define TS_ALG_MASK(a) (1u << (a))

/** "RS256" / "ES256" */
const char *ts_jws_alg_name(ts_jws_alg_t alg);
/** exact, case-sensitive; -1 for anything else (including "none" and HS*) */
int ts_jws_alg_parse(const char *name, ts_jws_alg_t *out);

/* A parsed key: the EVP_PKEY is made once and shared read-only by every thread. */
typedef struct st_ts_key_t ts_key_t;

/** generates RSA-2048 (RS256) or P-256 (ES256); kid is the RFC 7638 thumbprint. NULL on failure.
 *  CPU-heavy for RSA: never call on a loop thread. */
ts_key_t *ts_key_generate(ts_jws_alg_t alg);
/** PKCS#8 DER of the private key, malloc'd; caller cleanses and frees. 0 or -1 */
int ts_key_export_private(const ts_key_t *key, unsigned char **der, size_t *len);
/** parses PKCS#8 DER; refuses a key whose type does not fit alg, or RSA under 2048 bits. kid is recomputed. */
ts_key_t *ts_key_import_private(ts_jws_alg_t alg, const unsigned char *der, size_t len);
/** parses one public JWK (kty RSA or EC/P-256); its alg member, when present, must be RS256 or ES256 and fit kty.
 *  The kid is taken from the JWK when present (<= 128 chars), else the thumbprint. NULL when invalid. */
ts_key_t *ts_key_import_jwk(const json_t *jwk);
/** {kty, kid, alg, use:"sig", n, e} or {kty, crv, kid, alg, use:"sig", x, y}: public members only */
json_t *ts_key_public_jwk(const ts_key_t *key);
const char *ts_key_kid(const ts_key_t *key);
ts_jws_alg_t ts_key_alg(const ts_key_t *key);
int ts_key_has_private(const ts_key_t *key);
void ts_key_free(ts_key_t *key);

/** signs header {alg, typ (when non-NULL), kid} and claims; *out is a malloc'd NUL-terminated compact JWS. 0 or -1 */
int ts_jws_sign(const ts_key_t *key, const char *typ, const json_t *claims, char **out);

typedef enum en_ts_jws_result_t {
    TS_JWS_OK = 0,
    TS_JWS_MALFORMED,       /* not three base64url parts of JSON objects, too long, crit present, ... */
    TS_JWS_ALG_REJECTED,    /* header alg not among the allowed ones, or not the key's */
    TS_JWS_UNKNOWN_KEY,     /* the lookup found no key */
    TS_JWS_BAD_SIGNATURE,
    TS_JWS_TYP_MISMATCH
} ts_jws_result_t;

/** finds the key for a kid (kid NULL when the header has none); returns NULL when there is none */
typedef const ts_key_t *(*ts_jws_key_lookup_cb)(void *ctx, const char *kid, ts_jws_alg_t alg);

#define TS_JWS_MAX_LEN 16384
/** verifies a compact JWS. The algorithm must be in allowed_algs (a TS_ALG_MASK set) and equal the key's own;
 *  the token never chooses it. When typ is non-NULL the header typ must equal it (case-insensitive, an
 *  "application/" prefix allowed as RFC 7515 §4.1.9 says). On TS_JWS_OK *claims (and *header, when
 *  header is non-NULL) hold new references the caller decrefs. */
ts_jws_result_t ts_jws_verify(const char *token, size_t len, unsigned allowed_algs, const char *typ, ts_jws_key_lookup_cb lookup,
                              void *lookup_ctx, json_t **claims, json_t **header);

#endif
