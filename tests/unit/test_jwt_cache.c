/* src/oauth/jwt_cache.c: the direct-mapped cache of tokens whose signature was verified. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "tessera/jwt_cache.h"
#include "tessera/strmap.h"

#define NOW 1700000000

static ts_jwt_cache_t *cache;
static json_t *claims_a, *claims_b;

static int setup(void **state)
{
    claims_a = json_pack("{s:s}", "sub", "a");
    claims_b = json_pack("{s:s}", "sub", "b");
    return claims_a != NULL && claims_b != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    ts_jwt_cache_destroy(cache);
    cache = NULL;
    /* the cache gave back every reference it took */
    assert_int_equal(claims_a->refcount, 1);
    assert_int_equal(claims_b->refcount, 1);
    json_decref(claims_a);
    json_decref(claims_b);
    return 0;
}

static const json_t *get(const char *token, int64_t now, const char **kid)
{
    const char *dummy;
    return ts_jwt_cache_get(cache, token, strlen(token), now, kid != NULL ? kid : &dummy);
}

static void put(const char *token, const char *kid, json_t *claims, int64_t exp)
{
    ts_jwt_cache_put(cache, token, strlen(token), kid, claims, exp);
}

/* two tokens that land in the same slot (same == 1) or in different ones of a table of mask + 1 slots */
static void pair(size_t mask, int same, char a[32], char b[32])
{
    strcpy(a, "tok.a.sig");
    uint64_t ha = ts_strmap_hash(a, strlen(a)) & mask;
    for (unsigned i = 0;; ++i) {
        snprintf(b, 32, "tok.b%u.sig", i);
        if (((ts_strmap_hash(b, strlen(b)) & mask) == ha) == same)
            return;
    }
}

static void put_token_is_found_with_its_kid(void **state)
{
    const char *kid = NULL;
    cache = ts_jwt_cache_create(64);
    assert_null(get("tok.a.sig", NOW, &kid));
    put("tok.a.sig", "kid-1", claims_a, NOW + 60);
    assert_ptr_equal(get("tok.a.sig", NOW, &kid), claims_a);
    assert_string_equal(kid, "kid-1");
    assert_int_equal(claims_a->refcount, 2);
}

static void other_tokens_are_not_found(void **state)
{
    char a[32], b[32];
    cache = ts_jwt_cache_create(1); /* every token lands in the one slot */
    pair(0, 1, a, b);
    put(a, "k", claims_a, NOW + 60);
    assert_null(get(b, NOW, NULL));
    /* a prefix, or the token with one more byte */
    assert_null(ts_jwt_cache_get(cache, a, strlen(a) - 1, NOW, &(const char *){NULL}));
    assert_null(get("tok.a.sig.", NOW, NULL));
    assert_null(get("tok.a.siG", NOW, NULL));
    assert_ptr_equal(get(a, NOW, NULL), claims_a);
}

static void expired_entry_is_a_miss_and_is_dropped(void **state)
{
    cache = ts_jwt_cache_create(8);
    put("tok.a.sig", "k", claims_a, NOW + 60);
    assert_non_null(get("tok.a.sig", NOW + 59, NULL));
    assert_null(get("tok.a.sig", NOW + 60, NULL));
    /* dropped: not found even at an earlier time, and the claims reference was given back */
    assert_null(get("tok.a.sig", NOW, NULL));
    assert_int_equal(claims_a->refcount, 1);
}

static void colliding_token_replaces_the_old_one(void **state)
{
    char a[32], b[32];
    cache = ts_jwt_cache_create(1024);
    pair(1023, 1, a, b);
    put(a, "ka", claims_a, NOW + 60);
    put(b, "kb", claims_b, NOW + 60);
    assert_null(get(a, NOW, NULL));
    assert_ptr_equal(get(b, NOW, NULL), claims_b);
    assert_int_equal(claims_a->refcount, 1);
}

static void tokens_in_different_slots_coexist(void **state)
{
    char a[32], b[32];
    /* 5 slots become 8 (not 4): tokens whose hashes agree in the low two bits but not in the third do not collide */
    cache = ts_jwt_cache_create(5);
    strcpy(a, "tok.a.sig");
    uint64_t ha = ts_strmap_hash(a, strlen(a));
    for (unsigned i = 0;; ++i) {
        snprintf(b, sizeof(b), "tok.b%u.sig", i);
        uint64_t hb = ts_strmap_hash(b, strlen(b));
        if ((ha & 3) == (hb & 3) && (ha & 4) != (hb & 4))
            break;
    }
    put(a, "ka", claims_a, NOW + 60);
    put(b, "kb", claims_b, NOW + 60);
    const char *kid;
    assert_ptr_equal(get(a, NOW, &kid), claims_a);
    assert_string_equal(kid, "ka");
    assert_ptr_equal(get(b, NOW, &kid), claims_b);
    assert_string_equal(kid, "kb");
}

static void putting_the_same_token_again_updates_it(void **state)
{
    const char *kid;
    cache = ts_jwt_cache_create(4);
    put("tok.a.sig", "k1", claims_a, NOW + 10);
    put("tok.a.sig", "k2", claims_b, NOW + 100);
    assert_ptr_equal(get("tok.a.sig", NOW + 50, &kid), claims_b);
    assert_string_equal(kid, "k2");
    assert_int_equal(claims_a->refcount, 1);
}

static void kid_longer_than_129_is_not_cached(void **state)
{
    char kid[200];
    const char *got;
    cache = ts_jwt_cache_create(4);
    memset(kid, 'k', 130);
    kid[130] = '\0';
    put("tok.a.sig", kid, claims_a, NOW + 60);
    assert_null(get("tok.a.sig", NOW, NULL));
    kid[129] = '\0';
    put("tok.a.sig", kid, claims_a, NOW + 60);
    assert_ptr_equal(get("tok.a.sig", NOW, &got), claims_a);
    assert_string_equal(got, kid);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(put_token_is_found_with_its_kid, setup, teardown),
        cmocka_unit_test_setup_teardown(other_tokens_are_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(expired_entry_is_a_miss_and_is_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(colliding_token_replaces_the_old_one, setup, teardown),
        cmocka_unit_test_setup_teardown(tokens_in_different_slots_coexist, setup, teardown),
        cmocka_unit_test_setup_teardown(putting_the_same_token_again_updates_it, setup, teardown),
        cmocka_unit_test_setup_teardown(kid_longer_than_129_is_not_cached, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
