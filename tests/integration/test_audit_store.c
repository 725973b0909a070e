/* ts_store_audit_append against real PostgreSQL: rows go in by COPY and their normalised values through array
 * parameters, so every byte that either format escapes (backslash, tab, newline, carriage return, double quote,
 * the text "\N") must come back as it went in, NULL must stay apart from the empty string, the chain must verify,
 * and a row the database refuses must leave nothing of its batch behind. Needs DATABASE_URL. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include "tessera/audit.h"
#include "tessera/audit_store.h"
#include "tessera/store.h"
#include "pg_fixture.h"


static int64_t newest_id(void)
{
    PGresult *res = PQexec(db, "SELECT coalesce(max(id), 0) FROM audit_events");
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        fail_msg("%s", PQerrorMessage(db));
    int64_t id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return id;
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

#define ROWS 4

typedef struct st_seen_t {
    ts_audit_row_t want[ROWS];
    size_t n;
} seen_t;

static void same_text(const char *got, const char *want, const char *what)
{
    if (want == NULL) {
        if (got != NULL)
            fail_msg("%s: NULL stored as '%s'", what, got);
        return;
    }
    if (got == NULL || strcmp(got, want) != 0)
        fail_msg("%s: stored '%s', sent '%s'", what, got != NULL ? got : "(NULL)", want);
}

static int on_row(void *arg, const ts_audit_stored_t *r)
{
    seen_t *seen = arg;
    assert_true(seen->n < ROWS);
    const ts_audit_row_t *want = &seen->want[seen->n++];
    assert_int_equal(r->row.at_us, want->at_us);
    same_text(r->row.actor, want->actor, "actor");
    same_text(r->row.action, want->action, "action");
    same_text(r->row.target, want->target, "target");
    same_text(r->row.outcome, want->outcome, "outcome");
    return 0;
}

static void every_escaped_byte_comes_back(void **state)
{
    const int64_t at = now_us();
    const ts_audit_row_t rows[ROWS] = {
        {.at_us = at, .actor = "tab\there", .action = "test.escape", .target = "new\nline\rreturn", .outcome = "success",
         .source = "192.0.2.1", .details = "{\"path\": \"C:\\\\dir\\\\file\", \"quote\": \"say \\\"hi\\\"\"}"},
        {.at_us = at + 1, .actor = "\\N", .action = "test.escape", .target = "", .outcome = "failure", .source = NULL,
         .details = "{\n\t\"raw\": \"whitespace between tokens\",\r\n \"n\": 2.50, \"e\": \"\\u00e9\\t\"}"},
        {.at_us = at + 2, .actor = NULL, .action = "test.escape", .target = "back\\slash \"quoted\" {braces,comma}", .outcome = "alert",
         .source = "2001:db8::1", .details = NULL},
        {.at_us = at + 3, .actor = "NULL", .action = "test.escape", .target = NULL, .outcome = "success", .source = "::ffff:10.0.0.1",
         .details = "{\"array\": [\"{\\\"nested\\\"}\", null, \"NULL\"]}"},
    };
    seen_t seen = {.n = 0};
    ts_audit_verify_t v;
    ts_audit_fail_t why;
    (void)state;

    int64_t before = newest_id();
    if (ts_store_audit_append(db, rows, ROWS, &why, err, sizeof(err)) != 0)
        fail_msg("append: %s", err);
    assert_int_equal(why, TS_AUDIT_FAIL_NONE);
    assert_int_equal(newest_id(), before + ROWS);

    memcpy(seen.want, rows, sizeof(rows)); /* Flawfinder: ignore - the same type and size */
    ts_audit_query_t q = {.after_id = before};
    if (ts_store_audit_scan(db, &q, on_row, &seen, err, sizeof(err)) != 0)
        fail_msg("scan: %s", err);
    assert_int_equal(seen.n, ROWS);

    PGresult *res = PQexec(db, "SELECT details->>'path', details->>'quote', details->>'e', host(source), source IS NULL, "
                               "details IS NULL FROM audit_events WHERE action = 'test.escape' ORDER BY id DESC LIMIT 4");
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(res), 4);
    assert_string_equal(PQgetvalue(res, 3, 0), "C:\\dir\\file");
    assert_string_equal(PQgetvalue(res, 3, 1), "say \"hi\"");
    assert_string_equal(PQgetvalue(res, 3, 3), "192.0.2.1");
    assert_string_equal(PQgetvalue(res, 2, 2), "\xc3\xa9\t");
    assert_string_equal(PQgetvalue(res, 2, 4), "t");
    assert_string_equal(PQgetvalue(res, 1, 3), "2001:db8::1");
    PQclear(res);

    /* the hashes were computed over what PostgreSQL stored: the chain holds */
    if (ts_audit_verify(db, &v, err, sizeof(err)) != 0)
        fail_msg("verify: %s (row %lld: %s)", err, (long long)v.first_bad, v.why);
}

static void a_refused_row_leaves_nothing_of_its_batch(void **state)
{
    const ts_audit_row_t rows[2] = {
        {.at_us = now_us(), .actor = "fine", .action = "test.refused", .outcome = "success", .source = "192.0.2.2", .details = "{}"},
        {.at_us = now_us(), .actor = "bad", .action = "test.refused", .outcome = "success", .source = "not an address", .details = "{}"},
    };
    ts_audit_fail_t why;
    (void)state;

    int64_t before = newest_id();
    assert_int_equal(ts_store_audit_append(db, rows, 2, &why, err, sizeof(err)), -1);
    assert_int_equal(why, TS_AUDIT_FAIL_ROWS);
    assert_int_equal(newest_id(), before);
    /* and the connection takes the next batch */
    if (ts_store_audit_append(db, rows, 1, &why, err, sizeof(err)) != 0)
        fail_msg("append after a refusal: %s", err);
    assert_int_equal(newest_id(), before + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_escaped_byte_comes_back),
        cmocka_unit_test(a_refused_row_leaves_nothing_of_its_batch),
    };
    return cmocka_run_group_tests(tests, pg_fixture_setup, pg_fixture_teardown);
}
