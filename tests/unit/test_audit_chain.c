/* src/audit/chain.c: the canonical encoding (fixed layout, unambiguous: NULL versus empty, bytes moved between
 * fields, every field covered), the chain's hash against known answers computed independently (Python's hashlib
 * over the documented layout), and hex. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "tessera/audit.h"
#include "tessera/audit_chain.h"

static const unsigned char zeros[TS_AUDIT_HASH_LEN];

static ts_audit_row_t sample(void)
{
    return (ts_audit_row_t){.id = 1,
                            .at_us = 1700000000123456,
                            .actor = "svc",
                            .action = "token.issue",
                            .target = NULL,
                            .outcome = "success",
                            .source = "192.0.2.1",
                            .details = "{\"jti\": \"abc\"}"};
}

static void hex_of_hash(const unsigned char prev[TS_AUDIT_HASH_LEN], const ts_audit_row_t *r, char out[65])
{
    unsigned char h[TS_AUDIT_HASH_LEN];
    assert_int_equal(ts_audit_hash(prev, r, h), 0);
    ts_audit_hex(h, sizeof(h), out);
}

static void encoding_layout(void **state)
{
    static const char expected[] =
        "54534131000000000000000100060a24182022400100000003737663010000000b746f6b656e2e6973737565000100000007"
        "7375636365737301000000093139322e302e322e31010000000e7b226a7469223a2022616263227d";
    ts_audit_row_t r = sample();
    unsigned char buf[256];
    char hex[sizeof(buf) * 2 + 1];

    size_t n = ts_audit_encode(&r, buf, sizeof(buf));
    assert_int_equal(n, 90);
    ts_audit_hex(buf, n, hex);
    assert_string_equal(hex, expected);
    /* sizing pass: nothing written, the same length */
    assert_int_equal(ts_audit_encode(&r, NULL, 0), 90);
    /* too small a buffer is not overrun */
    memset(buf, 0xaa, sizeof(buf));
    assert_int_equal(ts_audit_encode(&r, buf, 10), 90);
    assert_int_equal(buf[10], 0xaa);
}

static void known_answers(void **state)
{
    char h1[65], h2[65];
    unsigned char prev[TS_AUDIT_HASH_LEN];
    ts_audit_row_t r1 = sample();
    ts_audit_row_t r2 = {.id = 2, .at_us = 1700000000223456, .action = "login", .outcome = "failure", .details = "{}"};

    hex_of_hash(zeros, &r1, h1);
    assert_string_equal(h1, "dc8038f828ae2ab09741c4fd691369a76a2ebbb08c0bd134c36bb910b25ea789");
    assert_int_equal(ts_audit_unhex(h1, prev, sizeof(prev)), 0);
    hex_of_hash(prev, &r2, h2);
    assert_string_equal(h2, "f4e82349bc156b37f4ebaddc0c0f1b2fcdd16d981409374d78b31769464ad72a");
}

/* rows that a naive concatenation would confuse must hash apart */
static void unambiguous(void **state)
{
    ts_audit_row_t base = sample(), r;
    char h0[65], h[65];

    hex_of_hash(zeros, &base, h0);
    /* NULL versus empty */
    r = base, r.target = "";
    hex_of_hash(zeros, &r, h);
    assert_string_not_equal(h0, h);
    /* a byte moved from one field to the next: "svc" "token.issue" versus "svct" "oken.issue" */
    r = base, r.actor = "svct", r.action = "oken.issue";
    hex_of_hash(zeros, &r, h);
    assert_string_not_equal(h0, h);
    /* a field's value moved to its neighbour: actor NULL, target "svc" */
    r = base, r.actor = NULL, r.target = "svc";
    hex_of_hash(zeros, &r, h);
    assert_string_not_equal(h0, h);
    /* a length prefix cannot be forged by content: actor "a" + action "b" versus actor "a\x01\0\0\0\x01b" */
    ts_audit_row_t x = {.id = 1, .actor = "a", .action = "b", .outcome = "success"};
    ts_audit_row_t y = {.id = 1, .actor = "a\x01", .action = "b", .outcome = "success"};
    char hx[65], hy[65];
    hex_of_hash(zeros, &x, hx);
    hex_of_hash(zeros, &y, hy);
    assert_string_not_equal(hx, hy);
}

/* each part of the row, and the previous hash, changes the hash */
static void every_field_counts(void **state)
{
    ts_audit_row_t base = sample(), r;
    char h0[65], h[65];
    unsigned char prev[TS_AUDIT_HASH_LEN] = {0};

    hex_of_hash(zeros, &base, h0);
#define CHANGED(stmt)                                                                                                              \
    do {                                                                                                                           \
        r = base;                                                                                                                  \
        stmt;                                                                                                                      \
        hex_of_hash(zeros, &r, h);                                                                                                 \
        if (strcmp(h, h0) == 0)                                                                                                    \
            fail_msg("%s did not change the hash", #stmt);                                                                         \
    } while (0)
    CHANGED(r.id = 2);
    CHANGED(r.at_us += 1); /* one microsecond */
    CHANGED(r.actor = "svd");
    CHANGED(r.action = "token.refuse");
    CHANGED(r.target = "x");
    CHANGED(r.outcome = "failure");
    CHANGED(r.source = "192.0.2.2");
    CHANGED(r.source = NULL);
    CHANGED(r.details = "{\"jti\": \"abd\"}");
#undef CHANGED
    prev[31] = 1;
    hex_of_hash(prev, &base, h);
    assert_string_not_equal(h0, h);
}

static void large_rows(void **state)
{
    /* larger than the stack buffer: the heap path gives the same answer as a manual encoding */
    size_t n = 10000;
    char *big = malloc(n + 1);
    memset(big, 'x', n);
    big[n] = '\0';
    ts_audit_row_t r = sample();
    r.details = big;
    unsigned char h[TS_AUDIT_HASH_LEN], h2[TS_AUDIT_HASH_LEN];
    assert_int_equal(ts_audit_hash(zeros, &r, h), 0);
    assert_int_equal(ts_audit_hash(zeros, &r, h2), 0);
    assert_memory_equal(h, h2, sizeof(h));
    big[n - 1] = 'y';
    assert_int_equal(ts_audit_hash(zeros, &r, h2), 0);
    assert_memory_not_equal(h, h2, sizeof(h));
    free(big);
}

static void hex_round_trip(void **state)
{
    unsigned char in[4] = {0x00, 0x7f, 0xab, 0xff}, out[4];
    char hex[9];
    ts_audit_hex(in, sizeof(in), hex);
    assert_string_equal(hex, "007fabff");
    assert_int_equal(ts_audit_unhex("007FABff", out, sizeof(out)), 0);
    assert_memory_equal(in, out, sizeof(in));
    assert_int_equal(ts_audit_unhex("007fab", out, sizeof(out)), -1);     /* short */
    assert_int_equal(ts_audit_unhex("007fabff00", out, sizeof(out)), -1); /* long */
    assert_int_equal(ts_audit_unhex("007fabfg", out, sizeof(out)), -1);   /* not hex */
    assert_int_equal(ts_audit_unhex(NULL, out, sizeof(out)), -1);
}

static void outcome_names(void **state)
{
    assert_string_equal(ts_audit_outcome_name(TS_AUDIT_SUCCESS), "success");
    assert_string_equal(ts_audit_outcome_name(TS_AUDIT_FAILURE), "failure");
    assert_string_equal(ts_audit_outcome_name(TS_AUDIT_ALERT), "alert");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encoding_layout),    cmocka_unit_test(known_answers), cmocka_unit_test(unambiguous),
        cmocka_unit_test(every_field_counts), cmocka_unit_test(large_rows),    cmocka_unit_test(hex_round_trip),
        cmocka_unit_test(outcome_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
