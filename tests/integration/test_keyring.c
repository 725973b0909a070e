/* The keyring against real PostgreSQL: migrations twice, bootstrap, rotation (a token signed before it
 * still verifies after; the next key is published before it signs), retention, the rotation lock, and
 * libjwt 1.10.2 as an independent verifier of what Tessera signs. Needs DATABASE_URL (tests/run.sh). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <jwt.h>
#include <libpq-fe.h>
#include <openssl/pem.h>
#include "crypto/internal.h"
#include "tessera/keyring.h"
#include "tessera/store.h"

static ts_config_t conf;
static ts_pgconn_t *db;
static ts_kek_t kek;
static char err[1024];

static void sql(const char *q)
{
    if (ts_store_exec(db, q, err, sizeof(err)) != 0)
        fail_msg("%s: %s", q, err);
}

static int setup(void **state)
{
    if (ts_config_load(&conf, NULL, err, sizeof(err)) != 0 || (db = ts_store_connect(&conf, "test", err, sizeof(err))) == NULL) {
        fprintf(stderr, "setup: %s\n", err);
        return -1;
    }
    ts_crypto_random(kek.key, sizeof(kek.key));
    return 0;
}

static int teardown(void **state)
{
    ts_store_close(db);
    ts_config_dispose(&conf);
    return 0;
}

static void migrations_apply_once(void **state)
{
    int applied;
    assert_int_equal(ts_store_migrate(db, &applied, err, sizeof(err)), 0);
    assert_int_equal(ts_store_schema_version(db), ts_store_schema_latest());
    assert_int_equal(ts_store_migrate(db, &applied, err, sizeof(err)), 0);
    assert_int_equal(applied, 0);
    sql("DELETE FROM signing_keys");
}

/* typ JWT: libjwt 1.10.2 refuses any other typ (such as at+jwt) */
static char *sign(const ts_keyring_t *ring, ts_jws_alg_t alg)
{
    json_t *claims = json_pack("{s:s, s:s, s:I}", "iss", "https://issuer.test", "sub", "alice", "exp", (json_int_t)time(NULL) + 600);
    char *token = NULL;
    assert_int_equal(ts_jws_sign(ts_keyring_current(ring, alg), "JWT", claims, &token), 0);
    json_decref(claims);
    return token;
}

static ts_jws_result_t verify(const ts_keyring_t *ring, const char *token, ts_jws_alg_t alg)
{
    json_t *claims = NULL;
    ts_jws_result_t r = ts_jws_verify(token, strlen(token), TS_ALG_MASK(alg), "JWT", ts_keyring_lookup, (void *)ring, &claims, NULL);
    json_decref(claims);
    return r;
}

/* libjwt must accept the token with the key from our JWKS, and report the algorithm we pinned */
static void libjwt_accepts(const ts_keyring_t *ring, const char *token, ts_jws_alg_t alg)
{
    json_t *jwks = json_loads(ring->jwks, 0, NULL), *jwk;
    const char *kid = ts_key_kid(ts_keyring_current(ring, alg));
    size_t i;
    int found = 0;

    json_array_foreach(json_object_get(jwks, "keys"), i, jwk)
    {
        if (strcmp(json_string_value(json_object_get(jwk, "kid")), kid) != 0)
            continue;
        ts_key_t *pub = ts_key_import_jwk(jwk);
        assert_non_null(pub);
        BIO *bio = BIO_new(BIO_s_mem());
        PEM_write_bio_PUBKEY(bio, pub->pkey);
        char *pem;
        long len = BIO_get_mem_data(bio, &pem);
        jwt_t *jwt = NULL;
        assert_int_equal(jwt_decode(&jwt, token, (const unsigned char *)pem, (int)len), 0);
        assert_int_equal(jwt_get_alg(jwt), alg == TS_ALG_ES256 ? JWT_ALG_ES256 : JWT_ALG_RS256);
        assert_string_equal(jwt_get_grant(jwt, "sub"), "alice");
        jwt_free(jwt);
        BIO_free(bio);
        ts_key_free(pub);
        found = 1;
    }
    json_decref(jwks);
    assert_true(found);
}

static int published(const ts_keyring_t *ring, const char *kid)
{
    return strstr(ring->jwks, kid) != NULL;
}

static void rotation_keeps_old_tokens_valid_and_publishes_next_first(void **state)
{
    ts_rotation_t r;
    ts_keyring_t *before, *after;

    assert_int_equal(ts_store_keys_rotate(db, &kek, 3600, 600, 0, &r, err, sizeof(err)), 0);
    assert_int_equal(r.generated, 4); /* bootstrap: current and next for both algorithms */
    assert_non_null(before = ts_store_keys_load(db, &kek, err, sizeof(err)));
    assert_true(ts_keyring_ready(before));
    assert_int_equal(before->count, 4);

    /* a second scheduled run changes nothing: the current keys are young */
    assert_int_equal(ts_store_keys_rotate(db, &kek, 3600, 600, 0, &r, err, sizeof(err)), 0);
    assert_int_equal(r.generated + r.activated + r.retired + r.removed, 0);

    char *es = sign(before, TS_ALG_ES256), *rs = sign(before, TS_ALG_RS256);
    libjwt_accepts(before, es, TS_ALG_ES256);
    libjwt_accepts(before, rs, TS_ALG_RS256);

    assert_int_equal(ts_store_keys_rotate(db, &kek, 3600, 600, 1, &r, err, sizeof(err)), 0);
    assert_int_equal(r.activated, 2);
    assert_int_equal(r.retired, 2);
    assert_int_equal(r.generated, 2);
    assert_non_null(after = ts_store_keys_load(db, &kek, err, sizeof(err)));
    assert_int_equal(after->count, 6);
    assert_string_not_equal(after->etag, before->etag);

    /* tokens signed before the rotation still verify, and nothing verifies with the wrong algorithm */
    assert_int_equal(verify(after, es, TS_ALG_ES256), TS_JWS_OK);
    assert_int_equal(verify(after, rs, TS_ALG_RS256), TS_JWS_OK);
    assert_int_equal(verify(after, es, TS_ALG_RS256), TS_JWS_ALG_REJECTED);

    /* the key that signs now was already in the JWKS published before the rotation */
    for (int a = TS_ALG_RS256; a <= TS_ALG_ES256; ++a) {
        const char *now_current = ts_key_kid(ts_keyring_current(after, (ts_jws_alg_t)a));
        assert_string_not_equal(now_current, ts_key_kid(ts_keyring_current(before, (ts_jws_alg_t)a)));
        assert_true(published(before, now_current));
        char *fresh = sign(after, (ts_jws_alg_t)a);
        libjwt_accepts(after, fresh, (ts_jws_alg_t)a);
        free(fresh);
    }

    /* past retention, retired keys are removed: their private part erased, gone from JWKS, tokens dead */
    sql("UPDATE signing_keys SET retired_at = now() - interval '1 hour' WHERE state = 'retired'");
    assert_int_equal(ts_store_keys_rotate(db, &kek, 3600, 600, 0, &r, err, sizeof(err)), 0);
    assert_int_equal(r.removed, 2);
    ts_keyring_t *pruned = ts_store_keys_load(db, &kek, err, sizeof(err));
    assert_non_null(pruned);
    assert_int_equal(pruned->count, 4);
    assert_int_equal(verify(pruned, es, TS_ALG_ES256), TS_JWS_UNKNOWN_KEY);
    assert_false(published(pruned, ts_key_kid(ts_keyring_current(before, TS_ALG_ES256))));
    PGresult *res = PQexec(db, "SELECT count(*) FROM signing_keys WHERE state = 'removed' AND private_key_enc IS NULL");
    assert_string_equal(PQgetvalue(res, 0, 0), "2");
    PQclear(res);

    free(es);
    free(rs);
    ts_ref_release(&before->super);
    ts_ref_release(&after->super);
    ts_ref_release(&pruned->super);
}

static void scheduled_rotation_when_due(void **state)
{
    ts_rotation_t r;
    sql("UPDATE signing_keys SET activated_at = now() - interval '2 hours' WHERE state = 'current'");
    assert_int_equal(ts_store_keys_rotate(db, &kek, 3600, 600, 0, &r, err, sizeof(err)), 0);
    assert_int_equal(r.activated, 2);
    assert_int_equal(r.retired, 2);
}

static void private_keys_are_sealed_at_rest(void **state)
{
    ts_kek_t wrong;
    PGresult *res = PQexec(db, "SELECT count(*) FROM signing_keys WHERE position('PRIVATE' in encode(private_key_enc, 'escape')) > 0");
    assert_string_equal(PQgetvalue(res, 0, 0), "0");
    PQclear(res);
    ts_crypto_random(wrong.key, sizeof(wrong.key));
    assert_null(ts_store_keys_load(db, &wrong, err, sizeof(err)));
    assert_non_null(strstr(err, "decrypt"));
}

static void another_node_holding_the_lock_skips_the_schedule(void **state)
{
    ts_rotation_t r;
    ts_pgconn_t *other = ts_store_connect(&conf, "test-other", err, sizeof(err));
    assert_non_null(other);
    assert_int_equal(ts_store_exec(other, "BEGIN", err, sizeof(err)), 0);
    assert_int_equal(ts_store_exec(other, "SELECT pg_advisory_xact_lock(7351003)", err, sizeof(err)), 0);
    sql("UPDATE signing_keys SET activated_at = now() - interval '2 hours' WHERE state = 'current'");
    assert_int_equal(ts_store_keys_rotate(db, &kek, 3600, 600, 0, &r, err, sizeof(err)), 0);
    assert_int_equal(r.skipped, 1);
    assert_int_equal(r.activated, 0);
    assert_int_equal(ts_store_exec(other, "ROLLBACK", err, sizeof(err)), 0);
    ts_store_close(other);
    assert_int_equal(ts_store_keys_rotate(db, &kek, 3600, 600, 0, &r, err, sizeof(err)), 0);
    assert_int_equal(r.activated, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(migrations_apply_once),
        cmocka_unit_test(rotation_keeps_old_tokens_valid_and_publishes_next_first),
        cmocka_unit_test(scheduled_rotation_when_due),
        cmocka_unit_test(private_keys_are_sealed_at_rest),
        cmocka_unit_test(another_node_holding_the_lock_skips_the_schedule),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
