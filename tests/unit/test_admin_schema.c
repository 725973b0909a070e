/* src/http/admin_schema.c and the admin API's declared bodies: every mismatch is refused with a message that
 * starts with the field at fault, before anything else happens. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "http/admin.h"

static char err[1024];

/* body (JSON text) passes schema */
static void accepts(const ts_admin_schema_t *schema, const char *body)
{
    err[0] = '\0';
    json_t *v = ts_admin_schema_parse(schema, body, strlen(body), err, sizeof(err));
    if (v == NULL)
        fail_msg("%s refused %s: %s", schema->name, body, err);
    json_decref(v);
}

/* body is refused with a message that starts with "<field>: " and contains what (when non-NULL) */
static void rejects(const ts_admin_schema_t *schema, const char *body, const char *field, const char *what)
{
    char prefix[128];
    err[0] = '\0';
    json_t *v = ts_admin_schema_parse(schema, body, strlen(body), err, sizeof(err));
    if (v != NULL) {
        json_decref(v);
        fail_msg("%s accepted %s", schema->name, body);
    }
    snprintf(prefix, sizeof(prefix), "%s: ", field);
    if (strncmp(err, prefix, strlen(prefix)) != 0)
        fail_msg("message '%s' does not start with '%s'", err, prefix);
    if (what != NULL && strstr(err, what) == NULL)
        fail_msg("message '%s' does not say '%s'", err, what);
}

static const char *const colours[] = {"red", "green", NULL};
static const ts_admin_field_t sample_fields[] = {
    {.name = "id", .type = TS_ADMIN_STRING, .flags = TS_ADMIN_REQUIRED, .min = 1, .max = 8, .format = TS_ADMIN_CLIENT_ID},
    {.name = "note", .type = TS_ADMIN_STRING, .flags = TS_ADMIN_NULLABLE, .min = 1, .max = 5, .format = TS_ADMIN_TEXT},
    {.name = "on", .type = TS_ADMIN_BOOLEAN},
    {.name = "n", .type = TS_ADMIN_INTEGER, .imin = 1, .imax = 10},
    {.name = "colour", .type = TS_ADMIN_STRING, .max = 8, .enum_values = colours},
    {.name = "tags", .type = TS_ADMIN_STRINGS, .max = 2, .item_max = 4, .format = TS_ADMIN_ROLE_NAME},
    {.name = "secret", .type = TS_ADMIN_STRING, .flags = TS_ADMIN_SECRET, .min = 8, .max = 16},
    {.name = NULL},
};
static const ts_admin_schema_t sample = {"sample", sample_fields, NULL};

static void test_accepts_what_the_schema_declares(void **state)
{
    accepts(&sample, "{\"id\":\"a\"}");
    accepts(&sample, "{\"id\":\"abc-1.2\",\"note\":null,\"on\":false,\"n\":10,\"colour\":\"green\",\"tags\":[\"x\",\"y:z\"]}");
    accepts(&sample, "{\"id\":\"a\",\"note\":\"\xc3\xa9t\xc3\xa9s\"}"); /* 4 characters, 6 bytes */
    accepts(&sample, "{\"id\":\"a\",\"tags\":[]}");
}

static void test_unknown_fields_are_refused(void **state)
{
    rejects(&sample, "{\"id\":\"a\",\"colour\":\"red\",\"color\":\"red\"}", "color", "unknown field");
    rejects(&sample, "{\"id\":\"a\",\"\":1}", "(an empty name)", "unknown field");
    rejects(&sample, "{\"id\":\"a\",\"\\u0001x\":1}", "(a name with unusual characters)", "unknown field");
}

static void test_required_and_null(void **state)
{
    rejects(&sample, "{}", "id", "required");
    rejects(&sample, "{\"id\":null}", "id", "required");
    rejects(&sample, "{\"id\":\"a\",\"on\":null}", "on", "expected true or false");
}

static void test_wrong_types(void **state)
{
    rejects(&sample, "{\"id\":1}", "id", "expected a string");
    rejects(&sample, "{\"id\":\"a\",\"on\":\"yes\"}", "on", "expected true or false");
    rejects(&sample, "{\"id\":\"a\",\"n\":1.5}", "n", "expected an integer");
    rejects(&sample, "{\"id\":\"a\",\"n\":\"3\"}", "n", "expected an integer");
    rejects(&sample, "{\"id\":\"a\",\"tags\":\"x\"}", "tags", "expected an array of strings");
    rejects(&sample, "{\"id\":\"a\",\"tags\":[\"x\",3]}", "tags[1]", "expected a string");
    rejects(&sample, "{\"id\":\"a\",\"note\":[]}", "note", "expected a string or null");
}

static void test_lengths_and_bounds(void **state)
{
    rejects(&sample, "{\"id\":\"abcdefghi\"}", "id", "longer than 8");
    rejects(&sample, "{\"id\":\"\"}", "id", "must not be empty");
    rejects(&sample, "{\"id\":\"a\",\"note\":\"\xc3\xa9t\xc3\xa9s!!\"}", "note", "longer than 5");
    rejects(&sample, "{\"id\":\"a\",\"n\":0}", "n", "from 1 to 10");
    rejects(&sample, "{\"id\":\"a\",\"n\":11}", "n", "from 1 to 10");
    rejects(&sample, "{\"id\":\"a\",\"tags\":[\"a\",\"b\",\"c\"]}", "tags", "more than 2 items");
    rejects(&sample, "{\"id\":\"a\",\"tags\":[\"abcde\"]}", "tags[0]", "longer than 4");
    rejects(&sample, "{\"id\":\"a\",\"tags\":[\"a\",\"a\"]}", "tags[1]", "repeats tags[0]");
    rejects(&sample, "{\"id\":\"a\",\"secret\":\"short\"}", "secret", "shorter than 8");
}

static void test_formats_and_enums(void **state)
{
    rejects(&sample, "{\"id\":\"a b\"}", "id", NULL);
    rejects(&sample, "{\"id\":\"a\",\"note\":\"a\\nb\"}", "note", "control characters");
    rejects(&sample, "{\"id\":\"a\",\"colour\":\"blue\"}", "colour", "expected one of: red, green");
    rejects(&sample, "{\"id\":\"a\",\"tags\":[\"Upper\"]}", "tags[0]", NULL);
    rejects(&sample, "{\"id\":\"a\\u0000b\"}", "body", "not valid JSON"); /* jansson refuses \u0000 itself */
}

static void test_not_an_object(void **state)
{
    rejects(&sample, "", "body", "not valid JSON");
    rejects(&sample, "[1]", "body", "expected a JSON object");
    rejects(&sample, "{\"id\":\"a\",\"id\":\"b\"}", "body", "repeated");
    rejects(&sample, "{\"id\":\"a\"} x", "body", "not valid JSON");
}

static void test_secret_values_are_never_echoed(void **state)
{
    rejects(&sample, "{\"id\":\"a\",\"secret\":\"hunter2hunter2hunter2\"}", "secret", "longer than 16");
    assert_null(strstr(err, "hunter2"));
}

static void test_body_size_limit(void **state)
{
    static char big[TS_ADMIN_BODY_MAX + 64];
    memset(big, ' ', sizeof(big) - 1);
    memcpy(big, "{\"id\":\"a\"}", 10); /* Flawfinder: ignore - fits */
    big[sizeof(big) - 1] = '\0';
    rejects(&sample, big, "body", "larger than");
}

/* the real endpoints' tables */
static void test_client_schemas(void **state)
{
    accepts(&ts_admin_client_create_schema, "{\"client_id\":\"svc\"}");
    accepts(&ts_admin_client_create_schema,
            "{\"client_id\":\"web\",\"client_name\":\"Web\",\"token_endpoint_auth_method\":\"client_secret_post\","
            "\"grant_types\":[\"authorization_code\",\"refresh_token\"],\"redirect_uris\":[\"https://app.example/cb\"],"
            "\"scope\":\"openid profile\",\"default_scope\":\"openid\",\"skip_consent\":true,\"require_pkce\":true,"
            "\"may_introspect\":false,\"access_token_ttl\":300,\"id_token_signed_response_alg\":\"ES256\",\"roles\":[\"user\"],"
            "\"status\":\"active\",\"post_logout_redirect_uris\":[],\"jwks\":null}");
    rejects(&ts_admin_client_create_schema, "{}", "client_id", "required");
    rejects(&ts_admin_client_create_schema, "{\"client_id\":\"svc\",\"client_secret\":\"x\"}", "client_secret", "unknown field");
    rejects(&ts_admin_client_create_schema, "{\"client_id\":\"svc\",\"grant_types\":[\"password\"]}", "grant_types[0]",
            "expected one of");
    rejects(&ts_admin_client_create_schema, "{\"client_id\":\"svc\",\"redirect_uris\":[\"http://evil.example/cb\"]}",
            "redirect_uris[0]", NULL);
    rejects(&ts_admin_client_create_schema, "{\"client_id\":\"svc\",\"access_token_ttl\":5}", "access_token_ttl", "from 30");
    rejects(&ts_admin_client_create_schema, "{\"client_id\":\"svc\",\"scope\":\"a  b\"}", "scope", NULL);
    rejects(&ts_admin_client_create_schema, "{\"client_id\":\"svc\",\"jwks\":{\"keys\":[]}}", "jwks", NULL);
    rejects(&ts_admin_client_create_schema, "{\"client_id\":\"svc\",\"status\":\"gone\"}", "status", "active, disabled");
    rejects(&ts_admin_client_update_schema, "{\"client_id\":\"other\"}", "client_id", "unknown field");
    accepts(&ts_admin_client_secret_schema, "{}");
    accepts(&ts_admin_client_secret_schema, "{\"grace_period\":0}");
    rejects(&ts_admin_client_secret_schema, "{\"grace_period\":-1}", "grace_period", NULL);
}

static void test_user_and_role_schemas(void **state)
{
    accepts(&ts_admin_user_create_schema, "{\"username\":\"alice\",\"password\":\"correct horse\",\"email\":\"a@example.com\"}");
    rejects(&ts_admin_user_create_schema, "{\"username\":\"alice\"}", "password", "required");
    rejects(&ts_admin_user_create_schema, "{\"username\":\"al ice\",\"password\":\"correct horse\"}", "username", NULL);
    rejects(&ts_admin_user_create_schema, "{\"username\":\"alice\",\"password\":\"short\"}", "password", "shorter than 8");
    rejects(&ts_admin_user_create_schema, "{\"username\":\"alice\",\"password\":\"correct horse\",\"email\":\"nope\"}", "email",
            NULL);
    rejects(&ts_admin_user_create_schema, "{\"username\":\"alice\",\"password\":\"correct horse\",\"password_hash\":\"x\"}",
            "password_hash", "unknown field");
    rejects(&ts_admin_user_update_schema, "{\"password\":\"correct horse\"}", "password", "unknown field");
    rejects(&ts_admin_user_update_schema, "{\"roles\":[\"Admin\"]}", "roles[0]", NULL);
    accepts(&ts_admin_user_update_schema, "{\"name\":null,\"email\":null,\"roles\":[],\"status\":\"disabled\"}");
    accepts(&ts_admin_role_create_schema, "{\"name\":\"reader\",\"scopes\":[\"api:read\"]}");
    rejects(&ts_admin_role_create_schema, "{\"name\":\"reader\",\"scopes\":[\"api:read api:write\"]}", "scopes[0]", "one scope");
    rejects(&ts_admin_role_create_schema, "{\"name\":\"reader\",\"description\":\"x\",\"extra\":1}", "extra", "unknown field");
    accepts(&ts_admin_empty_schema, "{}");
    rejects(&ts_admin_empty_schema, "{\"force\":true}", "force", "unknown field");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts_what_the_schema_declares),
        cmocka_unit_test(test_unknown_fields_are_refused),
        cmocka_unit_test(test_required_and_null),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_lengths_and_bounds),
        cmocka_unit_test(test_formats_and_enums),
        cmocka_unit_test(test_not_an_object),
        cmocka_unit_test(test_secret_values_are_never_echoed),
        cmocka_unit_test(test_body_size_limit),
        cmocka_unit_test(test_client_schemas),
        cmocka_unit_test(test_user_and_role_schemas),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
