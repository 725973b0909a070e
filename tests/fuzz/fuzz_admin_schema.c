/* The admin API's request bodies (src/http/admin_schema.c) against every declared schema of the endpoints
 * (src/http/admin_ep_*.c). The first byte picks the schema; the rest is the body, as it arrives (not
 * NUL-terminated). Invariants: an accepted body is an object whose every member the schema declares, with
 * each required one present; a refused one has a message that names a field ("<field>: ..."), is
 * NUL-terminated and never repeats the value of a password. */
#include "fuzz.h"
#include "http/admin.h"

static const ts_admin_schema_t *const schemas[] = {
    &ts_admin_client_create_schema, &ts_admin_client_update_schema, &ts_admin_client_secret_schema,
    &ts_admin_user_create_schema,   &ts_admin_user_update_schema,   &ts_admin_user_password_schema,
    &ts_admin_role_create_schema,   &ts_admin_role_update_schema,   &ts_admin_empty_schema,
};

static const ts_admin_field_t *declared(const ts_admin_schema_t *s, const char *key)
{
    const ts_admin_field_t *tables[2] = {s->fields, s->more};
    for (size_t t = 0; t < 2; ++t)
        for (const ts_admin_field_t *f = tables[t]; f != NULL && f->name != NULL; ++f)
            if (strcmp(f->name, key) == 0)
                return f;
    return NULL;
}

static void check_accepted(const ts_admin_schema_t *s, const json_t *body)
{
    const ts_admin_field_t *tables[2] = {s->fields, s->more};
    const char *key;
    json_t *v;

    FUZZ_ASSERT(json_is_object(body));
    json_object_foreach((json_t *)body, key, v) {
        FUZZ_ASSERT(declared(s, key) != NULL);
    }
    for (size_t t = 0; t < 2; ++t)
        for (const ts_admin_field_t *f = tables[t]; f != NULL && f->name != NULL; ++f)
            if (f->flags & TS_ADMIN_REQUIRED)
                FUZZ_ASSERT(ts_admin_field(body, f->name) != NULL);
}

/* the body again with its password replaced by as many snowmen (U+2603) as it had characters: whatever the
 * outcome, the message must not hold one. (Checking for the original value would also find it where it
 * merely coincides with the message's own words.) */
static void check_password_not_echoed(const ts_admin_schema_t *s, const char *text, size_t len)
{
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    const char *pw = json_string_value(json_object_get(doc, "password"));
    char err[512], *marker, *again;

    if (pw != NULL) {
        size_t chars = 0;
        for (const char *p = pw; *p != '\0'; ++p)
            chars += ((unsigned char)*p & 0xc0) != 0x80;
        FUZZ_ASSERT((marker = malloc(chars * 3 + 1)) != NULL);
        for (size_t i = 0; i < chars; ++i)
            memcpy(marker + 3 * i, "\xe2\x98\x83", 3);
        marker[chars * 3] = '\0';
        json_object_set_new(doc, "password", json_string(marker));
        FUZZ_ASSERT((again = json_dumps(doc, 0)) != NULL);
        json_t *body = ts_admin_schema_parse(s, again, strlen(again), err, sizeof(err));
        if (body == NULL)
            FUZZ_ASSERT(strstr(err, "\xe2\x98\x83") == NULL);
        json_decref(body);
        free(again);
        free(marker);
    }
    json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];

    if (size == 0)
        return 0;
    const ts_admin_schema_t *s = schemas[data[0] % (sizeof(schemas) / sizeof(schemas[0]))];
    char *text = malloc(size); /* exactly the body's bytes: ASan sees any read past them */
    FUZZ_ASSERT(text != NULL);
    memcpy(text, data + 1, size - 1);
    memset(err, 0x7f, sizeof(err));
    json_t *body = ts_admin_schema_parse(s, text, size - 1, err, sizeof(err));
    if (body != NULL)
        check_accepted(s, body);
    else
        FUZZ_ASSERT(memchr(err, '\0', sizeof(err)) != NULL && strstr(err, ": ") != NULL);
    json_decref(body);
    check_password_not_echoed(s, text, size - 1);
    free(text);
    return 0;
}
