#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <argon2.h>
#include <cmocka.h>
#include <tessera/crypto.h>

/* argon2 at the library's cost is ~50 ms a call: the hashes are made once and shared by the tests */
static char hash_pw[TS_PASSWORD_HASH_MAX];
static char hash_nul[TS_PASSWORD_HASH_MAX];

static int setup(void **state)
{
    if (ts_password_hash("correct horse battery staple", 28, hash_pw, sizeof(hash_pw)) != 0)
        return -1;
    if (ts_password_hash("a\0b", 3, hash_nul, sizeof(hash_nul)) != 0)
        return -1;
    return 0;
}

static void test_hash_format(void **state)
{
    /* PHC: $argon2id$v=19$m=19456,t=2,p=1$<22 chars of salt>$<43 chars of hash> */
    static const char prefix[] = "$argon2id$v=19$m=19456,t=2,p=1$";
    const char *salt = hash_pw + strlen(prefix), *dollar;

    assert_memory_equal(hash_pw, prefix, strlen(prefix));
    assert_non_null(dollar = strchr(salt, '$'));
    assert_int_equal(dollar - salt, 22);
    assert_int_equal(strlen(dollar + 1), 43);
    assert_true(strlen(hash_pw) < TS_PASSWORD_HASH_MAX);
}

static void test_verify_match_and_mismatch(void **state)
{
    assert_int_equal(ts_password_verify(hash_pw, "correct horse battery staple", 28), 1);
    assert_int_equal(ts_password_verify(hash_pw, "correct horse battery stapl", 27), 0);
    assert_int_equal(ts_password_verify(hash_pw, "Correct horse battery staple", 28), 0);
    assert_int_equal(ts_password_verify(hash_pw, "", 0), 0);
}

static void test_length_counts_not_nul(void **state)
{
    /* passwords are byte strings: a NUL inside is part of the password */
    assert_int_equal(ts_password_verify(hash_nul, "a\0b", 3), 1);
    assert_int_equal(ts_password_verify(hash_nul, "a\0c", 3), 0);
    assert_int_equal(ts_password_verify(hash_nul, "a", 1), 0);
}

static void test_salts_differ(void **state)
{
    char again[TS_PASSWORD_HASH_MAX];

    assert_int_equal(ts_password_hash("correct horse battery staple", 28, again, sizeof(again)), 0);
    assert_string_not_equal(again, hash_pw);
}

static void test_verify_foreign_parameters(void **state)
{
    /* a hash made by argon2 directly with other (cheap) parameters still verifies: the PHC string carries them */
    static const unsigned char salt[16] = "0123456789abcdef";
    char phc[TS_PASSWORD_HASH_MAX];

    assert_int_equal(argon2id_hash_encoded(1, 64, 1, "pw", 2, salt, sizeof(salt), 32, phc, sizeof(phc)), ARGON2_OK);
    assert_int_equal(ts_password_verify(phc, "pw", 2), 1);
    assert_int_equal(ts_password_verify(phc, "pW", 2), 0);
}

static void test_malformed(void **state)
{
    static const char *const bad[] = {
        "",
        "garbage",
        "$argon2i$v=19$m=64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$kfDzSZXA9qMzvJ2OCp98Vx4d3KGbiUoI6i6A1IwCwqo",
        "$argon2d$v=19$m=64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$kfDzSZXA9qMzvJ2OCp98Vx4d3KGbiUoI6i6A1IwCwqo",
        "$argon2id$v=16$m=64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$kfDzSZXA9qMzvJ2OCp98Vx4d3KGbiUoI6i6A1IwCwqo",
        "$argon2id$m=64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$kfDzSZXA9qMzvJ2OCp98Vx4d3KGbiUoI6i6A1IwCwqo",
        "$argon2id$v=19$m=64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg",
        "$argon2id$v=19$m=64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$",
        "$argon2id$v=19$m=64,t=1,p=1$!!!$kfDzSZXA9qMzvJ2OCp98Vx4d3KGbiUoI6i6A1IwCwqo",
        "$argon2id$v=19$m=64,t=1$MDEyMzQ1Njc4OWFiY2RlZg$kfDzSZXA9qMzvJ2OCp98Vx4d3KGbiUoI6i6A1IwCwqo",
        "$argon2id$v=19$m=,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$kfDzSZXA9qMzvJ2OCp98Vx4d3KGbiUoI6i6A1IwCwqo",
        "$argon2id$v=19$m=-64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$kfDzSZXA9qMzvJ2OCp98Vx4d3KGbiUoI6i6A1IwCwqo",
        /* costs nobody would store: refused without running them */
        "$argon2id$v=19$m=4194304,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$kfDzSZXA9qMzvJ2OCp98Vx4d3KGbiUoI6i6A1IwCwqo",
        "$argon2id$v=19$m=64,t=100000,p=1$MDEyMzQ1Njc4OWFiY2RlZg$kfDzSZXA9qMzvJ2OCp98Vx4d3KGbiUoI6i6A1IwCwqo",
        "$argon2id$v=19$m=64,t=1,p=255$MDEyMzQ1Njc4OWFiY2RlZg$kfDzSZXA9qMzvJ2OCp98Vx4d3KGbiUoI6i6A1IwCwqo",
        "$argon2id$v=19$m=99999999999,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$kfDzSZXA9qMzvJ2OCp98Vx4d3KGbiUoI6i6A1IwCwqo",
    };
    size_t i;

    /* control: the well-formed string the bad ones are made from is a plain mismatch */
    assert_int_equal(ts_password_verify(
                         "$argon2id$v=19$m=64,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$kfDzSZXA9qMzvJ2OCp98Vx4d3KGbiUoI6i6A1IwCwqo", "pw", 2),
                     0);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(ts_password_verify(bad[i], "pw", 2), -1);
    assert_int_equal(ts_password_verify(NULL, "pw", 2), -1);
}

static void test_truncated_real_hash_is_malformed(void **state)
{
    char cut[TS_PASSWORD_HASH_MAX];

    strcpy(cut, hash_pw);
    *strrchr(cut, '$') = '\0';
    assert_int_equal(ts_password_verify(cut, "correct horse battery staple", 28), -1);
}

static void test_too_long(void **state)
{
    char *pw = malloc(TS_PASSWORD_MAX + 1), out[TS_PASSWORD_HASH_MAX];

    assert_non_null(pw);
    memset(pw, 'p', TS_PASSWORD_MAX + 1);
    assert_int_equal(ts_password_hash(pw, TS_PASSWORD_MAX + 1, out, sizeof(out)), -1);
    assert_int_equal(ts_password_verify(hash_pw, pw, TS_PASSWORD_MAX + 1), 0);
    /* the limit itself is allowed */
    assert_int_equal(ts_password_hash(pw, TS_PASSWORD_MAX, out, sizeof(out)), 0);
    assert_int_equal(ts_password_verify(out, pw, TS_PASSWORD_MAX), 1);
    free(pw);
}

static void test_small_buffer(void **state)
{
    char out[64];

    memset(out, 'X', sizeof(out));
    assert_int_equal(ts_password_hash("pw", 2, out, sizeof(out)), -1);
    assert_int_equal(out[sizeof(out) - 1], 'X');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_format),
        cmocka_unit_test(test_verify_match_and_mismatch),
        cmocka_unit_test(test_length_counts_not_nul),
        cmocka_unit_test(test_salts_differ),
        cmocka_unit_test(test_verify_foreign_parameters),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_truncated_real_hash_is_malformed),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_small_buffer),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
