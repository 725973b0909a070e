#ifndef TESSERA_CLI_APPLY_FIELDS_H
#define TESSERA_CLI_APPLY_FIELDS_H

/* The field readers of `tessera apply` (src/cli/apply_fields.c). Each returns 0, or -1 with a message in err that
 * starts with where (the object: "clients[3]") and the field. Strings point into the parsed document. */
#include <stddef.h>
#include <jansson.h>
#include "tessera/records.h"

/** -1 unless obj is an object whose every key is one of allowed (NULL-terminated) */
int ts_apply__check_fields(json_t *obj, const char *const *allowed, const char *where, char *err, size_t errlen);
/** the string at key; absent and null both mean "not given" (*out = NULL), an error when required */
int ts_apply__get_string(const json_t *obj, const char *key, int required, const char *where, const char **out, char *err,
                         size_t errlen);
/** the boolean at key, dflt when absent or null */
int ts_apply__get_bool(const json_t *obj, const char *key, int dflt, const char *where, int *out, char *err, size_t errlen);
/** the array of at most max strings at key: *out is a malloc'd array (NULL when empty); *present (may be NULL)
 *  tells whether the field was given */
int ts_apply__get_strings(const json_t *obj, const char *key, size_t max, const char *where, const char ***out, size_t *n,
                          int *present, char *err, size_t errlen);
/** appends copies of the n items to l; -1 when out of memory */
int ts_apply__push_all(ts_strlist_t *l, const char *const *items, size_t n);
/** the role names a client or a user lists ("roles"): valid, each once, appended to roles */
int ts_apply__get_role_names(const json_t *obj, const char *where, ts_strlist_t *roles, char *err, size_t errlen);
/** "status": "active" or "disabled" into *status (malloc'd) when given; *has_status tells whether it was */
int ts_apply__get_status(const json_t *obj, const char *where, char **status, int *has_status, char *err, size_t errlen);
/** prefixes err (a validator's message) with where; returns -1 */
int ts_apply__located(const char *where, char *err, size_t errlen);

#endif
