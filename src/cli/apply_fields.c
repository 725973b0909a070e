/* Reading the fields of `tessera apply`'s objects (src/cli/apply.c): each reader checks the type, names the
 * object and the field in its message (where: "clients[3]"), and points into the parsed document. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/apply_fields.h"
#include "tessera/errmsg.h"
#include "tessera/oauth_metadata.h"

#define ROLES_PER_OBJECT_MAX 100

/* field names from the file are echoed in messages only when they are plain text */
static const char *printable(const char *s)
{
    size_t n = 0;
    for (; s[n] != '\0'; ++n)
        if ((unsigned char)s[n] < 0x20 || (unsigned char)s[n] >= 0x7f || n >= 64)
            return "(a name with unusual characters)";
    return s;
}

int ts_apply__check_fields(json_t *obj, const char *const *allowed, const char *where, char *err, size_t errlen)
{
    const char *key;
    json_t *value;

    if (!json_is_object(obj))
        return ts_fail(err, errlen, "%s: must be an object", where);
    json_object_foreach(obj, key, value) {
        const char *const *a;
        for (a = allowed; *a != NULL && strcmp(*a, key) != 0; ++a)
            ;
        if (*a == NULL)
            return ts_fail(err, errlen, "%s: unknown field '%s'", where, printable(key));
    }
    return 0;
}

int ts_apply__get_string(const json_t *obj, const char *key, int required, const char *where, const char **out, char *err,
                      size_t errlen)
{
    const json_t *v = json_object_get(obj, key);

    *out = NULL;
    if (v == NULL || json_is_null(v))
        return required ? ts_fail(err, errlen, "%s: %s: required", where, key) : 0;
    if (!json_is_string(v))
        return ts_fail(err, errlen, "%s: %s: expected a string", where, key);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return ts_fail(err, errlen, "%s: %s: must not contain NUL characters", where, key);
    *out = json_string_value(v);
    return 0;
}

int ts_apply__get_bool(const json_t *obj, const char *key, int dflt, const char *where, int *out, char *err, size_t errlen)
{
    const json_t *v = json_object_get(obj, key);

    *out = dflt;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return ts_fail(err, errlen, "%s: %s: expected true or false", where, key);
    *out = json_is_true(v);
    return 0;
}

int ts_apply__get_strings(const json_t *obj, const char *key, size_t max, const char *where, const char ***out, size_t *n,
                       int *present, char *err, size_t errlen)
{
    const json_t *v = json_object_get(obj, key), *item;
    size_t i;

    *out = NULL;
    *n = 0;
    if (present != NULL)
        *present = v != NULL && !json_is_null(v);
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_array(v))
        return ts_fail(err, errlen, "%s: %s: expected an array of strings", where, key);
    if (json_array_size(v) > max)
        return ts_fail(err, errlen, "%s: %s: more than %zu items", where, key, max);
    if (json_array_size(v) == 0)
        return 0;
    if ((*out = calloc(json_array_size(v), sizeof(char *))) == NULL)
        return ts_fail(err, errlen, "out of memory");
    json_array_foreach(v, i, item) {
        const char *s = json_string_value(item); /* NULL for anything but a string */
        if (s == NULL || strlen(s) != json_string_length(item)) {
            free(*out);
            *out = NULL;
            return ts_fail(err, errlen, "%s: %s[%zu]: expected a string", where, key, i);
        }
        (*out)[i] = s;
    }
    *n = json_array_size(v);
    return 0;
}

int ts_apply__push_all(ts_strlist_t *l, const char *const *items, size_t n)
{
    for (size_t i = 0; i < n; ++i)
        if (ts_strlist_push(l, items[i]) != 0)
            return -1;
    return 0;
}

int ts_apply__get_role_names(const json_t *obj, const char *where, ts_strlist_t *roles, char *err, size_t errlen)
{
    const char **names;
    size_t n;
    char field[32], why[256];
    int ret = 0;

    if (ts_apply__get_strings(obj, "roles", ROLES_PER_OBJECT_MAX, where, &names, &n, NULL, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < n && ret == 0; ++i) {
        snprintf(field, sizeof(field), "roles[%zu]", i);
        if (ts_oauth_check_role_name(field, names[i], why, sizeof(why)) != 0)
            ret = ts_fail(err, errlen, "%s: %s", where, why);
        /* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker): ts_apply__get_strings fills all n slots with non-NULL strings; the analyzer does not follow it */
        else if (ts_strlist_contains(roles, names[i]))
            ret = ts_fail(err, errlen, "%s: %s: role '%s' is listed twice", where, field, names[i]);
        /* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker): ts_apply__get_strings fills all n slots with non-NULL strings; the analyzer does not follow it */
        else if (ts_strlist_push(roles, names[i]) != 0)
            ret = ts_fail(err, errlen, "out of memory");
    }
    free(names);
    return ret;
}

int ts_apply__get_status(const json_t *obj, const char *where, char **status, int *has_status, char *err, size_t errlen)
{
    const char *s;

    if (ts_apply__get_string(obj, "status", 0, where, &s, err, errlen) != 0)
        return -1;
    *has_status = s != NULL;
    if (s == NULL)
        return 0;
    if (strcmp(s, "active") != 0 && strcmp(s, "disabled") != 0)
        return ts_fail(err, errlen, "%s: status: expected \"active\" or \"disabled\"", where);
    if ((*status = strdup(s)) == NULL)
        return ts_fail(err, errlen, "out of memory");
    return 0;
}

int ts_apply__located(const char *where, char *err, size_t errlen)
{
    char inner[768];
    snprintf(inner, sizeof(inner), "%s", err);
    return ts_fail(err, errlen, "%s: %s", where, inner);
}
