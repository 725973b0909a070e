/* Request bodies of the admin API against their declared schemas (src/http/admin_schema.h). The formats reuse
 * the validators of what operators register (src/oauth/client_metadata.c), so the admin API, `tessera apply`
 * and the CLI accept exactly the same values. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "http/admin_schema.h"
#include "tessera/oauth_metadata.h"
#include "tessera/errmsg.h"

/* a member name from the body is echoed only when it is short plain text */
static const char *printable(const char *s)
{
    size_t n = 0;
    for (; s[n] != '\0'; ++n)
        if ((unsigned char)s[n] < 0x20 || (unsigned char)s[n] >= 0x7f || n >= 64)
            return "(a name with unusual characters)";
    return n != 0 ? s : "(an empty name)";
}

/* characters (code points) of a string jansson has already checked to be UTF-8 */
static size_t utf8_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; ++i)
        n += ((unsigned char)s[i] & 0xc0) != 0x80;
    return n;
}

static const char *type_name(ts_admin_type_t t)
{
    switch (t) {
    case TS_ADMIN_STRING:
        return "a string";
    case TS_ADMIN_BOOLEAN:
        return "true or false";
    case TS_ADMIN_INTEGER:
        return "an integer";
    case TS_ADMIN_STRINGS:
        return "an array of strings";
    case TS_ADMIN_OBJECT:
        return "an object";
    }
    return "a value";
}

static int check_enum(const char *field, const char *s, const char *const *values, char *err, size_t errlen)
{
    char list[256];
    size_t off = 0;

    for (const char *const *v = values; *v != NULL; ++v)
        if (strcmp(*v, s) == 0)
            return 0;
    list[0] = '\0';
    for (const char *const *v = values; *v != NULL && off < sizeof(list); ++v)
        off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s", v == values ? "" : ", ", *v);
    return ts_fail(err, errlen, "%s: expected one of: %s", field, list);
}

/* the string s (len bytes, no NUL inside) of field, by its format; where names it in messages */
static int check_format(const char *where, ts_admin_format_t format, const char *s, char *err, size_t errlen)
{
    switch (format) {
    case TS_ADMIN_ANY:
        return 0;
    case TS_ADMIN_TEXT:
        return ts_oauth_check_text(where, s, SIZE_MAX, err, errlen);
    case TS_ADMIN_CLIENT_ID: {
        char inner[256];
        if (ts_oauth_check_client_id(s, inner, sizeof(inner)) == 0)
            return 0;
        /* its message names client_id itself: name the field this value is in instead */
        const char *what = strncmp(inner, "client_id: ", 11) == 0 ? inner + 11 : inner;
        return ts_fail(err, errlen, "%s: %s", where, what);
    }
    case TS_ADMIN_URI:
        return ts_oauth_check_redirect_uri(where, s, err, errlen);
    case TS_ADMIN_EMAIL:
        return ts_oauth_check_email(where, s, err, errlen);
    case TS_ADMIN_USERNAME:
        return ts_oauth_check_username(where, s, err, errlen);
    case TS_ADMIN_ROLE_NAME:
        return ts_oauth_check_role_name(where, s, err, errlen);
    case TS_ADMIN_SCOPE:
        return ts_oauth_check_scope(where, s, err, errlen);
    case TS_ADMIN_SCOPE_TOKEN:
        if (strchr(s, ' ') != NULL)
            return ts_fail(err, errlen, "%s: one scope per item, without spaces", where);
        return ts_oauth_check_scope(where, s, err, errlen);
    case TS_ADMIN_JWKS:
        return ts_fail(err, errlen, "%s: expected an object", where);
    }
    return ts_fail(err, errlen, "%s: unsupported format", where);
}

static int check_string(const ts_admin_field_t *f, const char *where, const json_t *v, size_t min, size_t max, char *err,
                        size_t errlen)
{
    const char *s = json_string_value(v);
    size_t len = json_string_length(v), chars;

    if (strlen(s) != len)
        return ts_fail(err, errlen, "%s: must not contain NUL characters", where);
    chars = utf8_chars(s, len);
    if (chars == 0 && min != 0)
        return ts_fail(err, errlen, "%s: must not be empty", where);
    if (chars < min)
        return ts_fail(err, errlen, "%s: shorter than %zu characters", where, min);
    if (max != 0 && chars > max)
        return ts_fail(err, errlen, "%s: longer than %zu characters", where, max);
    if (f->enum_values != NULL)
        return check_enum(where, s, f->enum_values, err, errlen);
    return check_format(where, f->format, s, err, errlen);
}

static int check_field(const ts_admin_field_t *f, const json_t *v, char *err, size_t errlen)
{
    char where[96];
    const json_t *item;
    size_t i;

    switch (f->type) {
    case TS_ADMIN_STRING:
        if (!json_is_string(v))
            break;
        return check_string(f, f->name, v, f->min, f->max, err, errlen);
    case TS_ADMIN_BOOLEAN:
        if (!json_is_boolean(v))
            break;
        return 0;
    case TS_ADMIN_INTEGER:
        if (!json_is_integer(v))
            break;
        if (json_integer_value(v) < f->imin || json_integer_value(v) > f->imax)
            return ts_fail(err, errlen, "%s: expected an integer from %lld to %lld", f->name, f->imin, f->imax);
        return 0;
    case TS_ADMIN_STRINGS:
        if (!json_is_array(v))
            break;
        if (json_array_size(v) < f->min)
            return ts_fail(err, errlen, "%s: needs at least %zu item(s)", f->name, f->min);
        if (f->max != 0 && json_array_size(v) > f->max)
            return ts_fail(err, errlen, "%s: more than %zu items", f->name, f->max);
        json_array_foreach(v, i, item)
        {
            snprintf(where, sizeof(where), "%s[%zu]", f->name, i);
            if (!json_is_string(item))
                return ts_fail(err, errlen, "%s: expected a string", where);
            if (check_string(f, where, item, 1, f->item_max, err, errlen) != 0)
                return -1;
            for (size_t j = 0; j < i; ++j)
                if (json_equal(json_array_get(v, j), item))
                    return ts_fail(err, errlen, "%s: repeats %s[%zu]", where, f->name, j);
        }
        return 0;
    case TS_ADMIN_OBJECT:
        if (!json_is_object(v))
            break;
        if (f->format == TS_ADMIN_JWKS)
            return ts_oauth_check_jwks(f->name, v, NULL, err, errlen);
        return 0;
    }
    return ts_fail(err, errlen, "%s: expected %s%s", f->name, type_name(f->type), (f->flags & TS_ADMIN_NULLABLE) ? " or null" : "");
}

/* the row of schema that names key, or NULL */
static const ts_admin_field_t *find_field(const ts_admin_schema_t *schema, const char *key)
{
    const ts_admin_field_t *tables[2] = {schema->fields, schema->more};
    for (size_t t = 0; t < 2; ++t)
        for (const ts_admin_field_t *f = tables[t]; f != NULL && f->name != NULL; ++f)
            if (strcmp(f->name, key) == 0)
                return f;
    return NULL;
}

static int check_present(const ts_admin_field_t *f, const json_t *body, char *err, size_t errlen)
{
    const json_t *v = json_object_get(body, f->name);

    if (v == NULL || (json_is_null(v) && !(f->flags & TS_ADMIN_NULLABLE))) {
        if (f->flags & TS_ADMIN_REQUIRED)
            return ts_fail(err, errlen, "%s: required", f->name);
        if (v == NULL)
            return 0;
        return ts_fail(err, errlen, "%s: expected %s", f->name, type_name(f->type));
    }
    return json_is_null(v) ? 0 : check_field(f, v, err, errlen);
}

int ts_admin_schema_check(const ts_admin_schema_t *schema, const json_t *body, char *err, size_t errlen)
{
    const ts_admin_field_t *tables[2] = {schema->fields, schema->more};
    const char *key;
    const json_t *v;

    if (!json_is_object(body))
        return ts_fail(err, errlen, "body: expected a JSON object");
    /* unknown members first: a misspelt optional field must not pass as "not given" */
    json_object_foreach((json_t *)body, key, v)
    {
        if (!schema->ignore_unknown && find_field(schema, key) == NULL)
            return ts_fail(err, errlen, "%s: unknown field", printable(key));
    }
    for (size_t t = 0; t < 2; ++t)
        for (const ts_admin_field_t *f = tables[t]; f != NULL && f->name != NULL; ++f)
            if (check_present(f, body, err, errlen) != 0)
                return -1;
    return 0;
}

json_t *ts_admin_schema_parse(const ts_admin_schema_t *schema, const char *text, size_t len, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *body;

    if (len > TS_ADMIN_BODY_MAX) {
        ts_fail(err, errlen, "body: larger than %d bytes", TS_ADMIN_BODY_MAX);
        return NULL;
    }
    /* a repeated member would let two readers of one body see different values */
    if ((body = json_loadb(text != NULL ? text : "", len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
        ts_fail(err, errlen, "body: not valid JSON (%s at line %d, column %d)",
             strstr(jerr.text, "duplicate") != NULL ? "a member is repeated" : "syntax error", jerr.line, jerr.column);
        return NULL;
    }
    if (ts_admin_schema_check(schema, body, err, errlen) != 0) {
        json_decref(body);
        return NULL;
    }
    return body;
}

const json_t *ts_admin_field(const json_t *body, const char *field)
{
    const json_t *v = json_object_get(body, field);
    return v != NULL && !json_is_null(v) ? v : NULL;
}
