/* ts_store_housekeeping against real PostgreSQL: what no longer matters goes, what still does stays, and
 * removing rotated-out client secrets does not make every node reload its directory. Needs DATABASE_URL. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include "tessera/store.h"
#include "pg_fixture.h"


static void sql(const char *q)
{
    if (ts_store_exec(db, q, err, sizeof(err)) != 0)
        fail_msg("%s: %s", q, err);
}

static long count(const char *q)
{
    PGresult *res = PQexec(db, q);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", q, PQerrorMessage(db));
    long n = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return n;
}

static void expired_secrets_go_quietly(void **state)
{
    PGnotify *n;
    int client_secrets_notified = 0;
    (void)state;

    sql("DELETE FROM clients WHERE client_id = 'hk'");
    sql("INSERT INTO clients (client_id) VALUES ('hk')");
    sql("INSERT INTO client_secrets (client_pk, secret_hash, expires_at) SELECT id, 'past-grace', now() - interval '2 hours' "
        "FROM clients WHERE client_id = 'hk'");
    sql("INSERT INTO client_secrets (client_pk, secret_hash, expires_at) SELECT id, 'in-grace', now() - interval '10 minutes' "
        "FROM clients WHERE client_id = 'hk'");
    sql("INSERT INTO client_secrets (client_pk, secret_hash, expires_at) SELECT id, 'rotating', now() + interval '1 day' "
        "FROM clients WHERE client_id = 'hk'");
    sql("INSERT INTO client_secrets (client_pk, secret_hash) SELECT id, 'current' FROM clients WHERE client_id = 'hk'");
    sql("INSERT INTO revoked_tokens (kind, value, expires_at) VALUES ('jti', 'hk-old', now() - interval '2 hours'), "
        "('jti', 'hk-live', now() + interval '1 hour') ON CONFLICT DO NOTHING");
    sql("LISTEN tessera_changes");
    while ((n = PQnotifies(db)) != NULL) /* whatever the set-up announced */
        PQfreemem(n);

    assert_int_equal(ts_store_housekeeping(db, err, sizeof(err)), 0);

    assert_int_equal(count("SELECT count(*) FROM client_secrets s JOIN clients c ON c.id = s.client_pk WHERE c.client_id = 'hk' "
                           "AND s.secret_hash = 'past-grace'"),
                     0);
    assert_int_equal(count("SELECT count(*) FROM client_secrets s JOIN clients c ON c.id = s.client_pk WHERE c.client_id = 'hk'"), 3);
    assert_int_equal(count("SELECT count(*) FROM revoked_tokens WHERE value = 'hk-old'"), 0);
    assert_int_equal(count("SELECT count(*) FROM revoked_tokens WHERE value = 'hk-live'"), 1);
    PQconsumeInput(db);
    while ((n = PQnotifies(db)) != NULL) {
        client_secrets_notified |= strcmp(n->extra, "client_secrets") == 0;
        PQfreemem(n);
    }
    assert_false(client_secrets_notified);
    sql("UNLISTEN tessera_changes");
    sql("DELETE FROM clients WHERE client_id = 'hk'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(expired_secrets_go_quietly),
    };
    return cmocka_run_group_tests(tests, pg_fixture_setup, pg_fixture_teardown);
}
