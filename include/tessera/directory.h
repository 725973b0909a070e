#ifndef TESSERA_DIRECTORY_H
#define TESSERA_DIRECTORY_H

/* The directory snapshot: every client, user and role, as the hot paths need them (token issuance and
 * introspection never query the database). Built by the sync thread, shared read-only, swapped whole. */
#include <stddef.h>
#include <stdint.h>
#include "tessera/arena.h"
#include "tessera/crypto.h"
#include "tessera/shared.h"
#include "tessera/strmap.h"

typedef enum en_ts_auth_method_t {
    TS_AUTH_CLIENT_SECRET_BASIC,
    TS_AUTH_CLIENT_SECRET_POST,
    TS_AUTH_PRIVATE_KEY_JWT,
    TS_AUTH_NONE
} ts_auth_method_t;

#define TS_GRANT_AUTHORIZATION_CODE 1u
#define TS_GRANT_CLIENT_CREDENTIALS 2u
#define TS_GRANT_REFRESH_TOKEN 4u

typedef struct st_ts_strs_t {
    const char **items;
    size_t len;
} ts_strs_t;

typedef struct st_ts_client_secret_t {
    const char *hash;   /* ts_secret_hash() form */
    int64_t expires_at; /* unix seconds; 0 = no expiry */
} ts_client_secret_t;

typedef struct st_ts_client_t {
    int64_t pk;
    const char *client_id;
    const char *client_name;
    ts_auth_method_t auth_method;
    unsigned grant_types;
    ts_strs_t scopes;         /* what it may ask for */
    ts_strs_t default_scopes; /* what it gets when it asks for none */
    ts_strs_t redirect_uris;
    ts_strs_t post_logout_redirect_uris;
    ts_strs_t roles;
    ts_client_secret_t *secrets;
    size_t num_secrets;
    ts_key_t **keys; /* private_key_jwt: the registered public keys */
    size_t num_keys;
    int active;
    int skip_consent;
    int require_pkce;
    int may_introspect;
    ts_jws_alg_t id_token_alg;
    unsigned access_token_ttl; /* 0: the server default */
} ts_client_t;

typedef struct st_ts_user_t {
    int64_t id;
    const char *subject;
    const char *username;
    const char *email;
    int email_verified;
    const char *name;
    int active;
    ts_strs_t roles;
} ts_user_t;

typedef struct st_ts_role_t {
    const char *name;
    ts_strs_t scopes;
} ts_role_t;

typedef struct st_ts_directory_t {
    ts_ref_t super;
    ts_arena_t arena;
    ts_strmap_t clients; /* client_id -> ts_client_t */
    ts_strmap_t users;   /* subject -> ts_user_t */
    ts_strmap_t roles;   /* name -> ts_role_t */
} ts_directory_t;

/** an empty directory to fill (one reference) */
ts_directory_t *ts_directory_create(void);
const ts_client_t *ts_directory_client(const ts_directory_t *d, const char *client_id);
const ts_user_t *ts_directory_user(const ts_directory_t *d, const char *subject);
const ts_role_t *ts_directory_role(const ts_directory_t *d, const char *name);
/** 1 when s is in the list */
int ts_strs_contains(const ts_strs_t *l, const char *s);
/** parses "client_secret_basic" etc.; -1 when unknown */
int ts_auth_method_parse(const char *s, ts_auth_method_t *out);
const char *ts_auth_method_name(ts_auth_method_t m);

#endif
