#ifndef TESSERA_HTTP_ADMIN_SCHEMA_H
#define TESSERA_HTTP_ADMIN_SCHEMA_H

/* Declared request bodies of the admin API: each endpoint that takes a body names its fields in a table
 * (type, required, bounds, format, allowed values), and the body is checked against it before anything else
 * happens. Pure: no h2o, no database. Every message starts with the field at fault ("redirect_uris[2]: ...")
 * and never repeats a value given for a secret (password). */
#include <stddef.h>
#include <jansson.h>

/* A body may be at most this large (a larger one is 413). */
#define TS_ADMIN_BODY_MAX (64 * 1024)

typedef enum en_ts_admin_type_t {
    TS_ADMIN_STRING,
    TS_ADMIN_BOOLEAN,
    TS_ADMIN_INTEGER,
    TS_ADMIN_STRINGS, /* an array of strings */
    TS_ADMIN_OBJECT,  /* a JSON object, checked as a whole by its format */
} ts_admin_type_t;

typedef enum en_ts_admin_format_t {
    TS_ADMIN_ANY,         /* any string without NUL (what a password may be) */
    TS_ADMIN_TEXT,        /* shown to people: no control characters */
    TS_ADMIN_CLIENT_ID,   /* ^[A-Za-z0-9._~-]{1,128}$ */
    TS_ADMIN_URI,         /* a redirect URI: absolute, exact, https or loopback http or a private-use scheme */
    TS_ADMIN_EMAIL,       /* local@domain */
    TS_ADMIN_USERNAME,    /* ^[A-Za-z0-9._@+-]{1,128}$ */
    TS_ADMIN_ROLE_NAME,   /* ^[a-z0-9._:-]{1,64}$ */
    TS_ADMIN_SCOPE,       /* space-separated scope tokens (RFC 6749 §3.3) */
    TS_ADMIN_SCOPE_TOKEN, /* one scope token */
    TS_ADMIN_JWKS,        /* a JWK Set of public keys */
} ts_admin_format_t;

#define TS_ADMIN_REQUIRED 1u /* absent or null: "<field>: required" */
#define TS_ADMIN_NULLABLE 2u /* null is allowed (it clears the value); otherwise null is a type error */
#define TS_ADMIN_SECRET 4u   /* never echoed in a message */

typedef struct st_ts_admin_field_t {
    const char *name;
    ts_admin_type_t type;
    unsigned flags;
    size_t min, max;                /* string: characters; array: items (0 max: no bound beyond the body's) */
    long long imin, imax;           /* integer: the range */
    ts_admin_format_t format;       /* of the string, or of each item of an array */
    size_t item_max;                /* array: characters per item (0: the format's own bound) */
    const char *const *enum_values; /* NULL-terminated; of the string, or of each item */
} ts_admin_field_t;

typedef struct st_ts_admin_schema_t {
    const char *name;               /* for logs and tests */
    const ts_admin_field_t *fields; /* ends with a row whose name is NULL */
    const ts_admin_field_t *more;   /* a second such table (the fields endpoints share), or NULL */
    int ignore_unknown;             /* members no table names are ignored, not refused (RFC 7591 §2 wants that) */
} ts_admin_schema_t;

/** checks body against schema: an object, no field the schema does not name (unless it ignores them), every required field there,
 *  every field of its type, bounds, format and allowed values. 0, or -1 with "<field>: <what is wrong>" in err. */
int ts_admin_schema_check(const ts_admin_schema_t *schema, const json_t *body, char *err, size_t errlen);
/** parses text (len bytes) as JSON and checks it: a new reference, or NULL with err ("body: ..." when it is not
 *  a JSON object, a repeated member included) */
json_t *ts_admin_schema_parse(const ts_admin_schema_t *schema, const char *text, size_t len, char *err, size_t errlen);

/** the value of field in body when it is given and not null, else NULL */
const json_t *ts_admin_field(const json_t *body, const char *field);

#endif
