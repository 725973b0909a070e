/* ts_template_compile and the renderer (src/core/template.c) on "TEMPLATE\0VARS": the template, then after the
 * first NUL the vars as JSON (a non-object is wrapped as {"v": ...}; no NUL: no vars). template.c is
 * included, as the unit tests do with the code they test, to see why a render failed and which text is
 * the template's own. Invariants: a template that does not compile has a message naming its line; one that
 * compiles always renders, failing only at the output or work bound, into exactly outlen bytes; and with
 * every non-empty string in the vars replaced by "<\"'&`=/>", the output has exactly the '<', '>', '"',
 * '\'', '`' and '=' of the same render with "x" instead: values never add markup. */
#include "fuzz.h"
#include "../../src/core/template.c"

static const char hostile[] = "<\"'&`=/>";
static const char special[] = "<>\"'`=";

/* a deep copy of v with every non-empty string (not the keys) replaced by s; emptiness, and so which
 * sections render, is kept */
static json_t *with_strings(const json_t *v, const char *s)
{
    json_t *copy, *member;
    const char *key;
    size_t i;

    switch (json_typeof(v)) {
    case JSON_STRING:
        return json_string(json_string_length(v) != 0 ? s : "");
    case JSON_OBJECT:
        FUZZ_ASSERT((copy = json_object()) != NULL);
        json_object_foreach((json_t *)v, key, member)
        {
            FUZZ_ASSERT(json_object_set_new(copy, key, with_strings(member, s)) == 0);
        }
        return copy;
    case JSON_ARRAY:
        FUZZ_ASSERT((copy = json_array()) != NULL);
        json_array_foreach(v, i, member)
        {
            FUZZ_ASSERT(json_array_append_new(copy, with_strings(member, s)) == 0);
        }
        return copy;
    default:
        return json_deep_copy(v);
    }
}

static void count_special(const char *s, size_t len, size_t counts[sizeof(special)])
{
    memset(counts, 0, sizeof(special) * sizeof(counts[0]));
    for (size_t i = 0; i < len; ++i) {
        const char *c = memchr(special, s[i], sizeof(special) - 1);
        if (c != NULL)
            counts[c - special]++;
    }
}

/* renders, checking the invariants of every render; the status, and the output when RENDER_OK */
static render_status_t render_checked(const ts_template_t *t, const json_t *vars, char **out, size_t *outlen)
{
    render_status_t status = render(t, vars, out, outlen);

    FUZZ_ASSERT(status == RENDER_OK || status == RENDER_TOO_LARGE || status == RENDER_TOO_LONG);
    if (status != RENDER_OK) {
        FUZZ_ASSERT(*out == NULL && *outlen == 0);
        return status;
    }
    FUZZ_ASSERT(*out != NULL && *outlen <= OUTPUT_MAX);
    /* neither the template nor an escaped value can hold a NUL */
    FUZZ_ASSERT(strlen(*out) == *outlen);
    return status;
}

static void check_values_add_no_markup(const ts_template_t *t, const json_t *vars)
{
    json_t *plain = with_strings(vars, "x"), *evil = with_strings(vars, hostile);
    char *a, *b;
    size_t alen, blen, ca[sizeof(special)], cb[sizeof(special)];

    FUZZ_ASSERT(plain != NULL && evil != NULL);
    if (render_checked(t, plain, &a, &alen) == RENDER_OK) {
        if (render_checked(t, evil, &b, &blen) == RENDER_OK) {
            count_special(a, alen, ca);
            count_special(b, blen, cb);
            for (size_t i = 0; i < sizeof(special) - 1; ++i)
                FUZZ_ASSERT(ca[i] == cb[i]);
            FUZZ_ASSERT(blen >= alen);
            free(b);
        }
        free(a);
    }
    json_decref(plain);
    json_decref(evil);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t tlen = nul != NULL ? (size_t)(nul - data) : size;
    char *src = fuzz_bytes(data, tlen), err[128], *out;
    json_t *vars = NULL;
    size_t outlen;
    ts_template_t *t;

    memset(err, 0x7f, sizeof(err));
    if ((t = ts_template_compile(src, tlen, err, sizeof(err))) == NULL) {
        FUZZ_ASSERT(memchr(err, '\0', sizeof(err)) != NULL && strncmp(err, "line ", 5) == 0);
        free(src);
        return 0;
    }
    if (nul != NULL && (vars = json_loadb((const char *)nul + 1, size - tlen - 1, 0, NULL)) != NULL && !json_is_object(vars))
        vars = json_pack("{so}", "v", vars);

    /* the template keeps its own copy: the input can go */
    memset(src, '{', tlen);
    free(src);
    if (render_checked(t, vars, &out, &outlen) == RENDER_OK) {
        /* rendering has no state: the same output again */
        char *again;
        size_t againlen;
        FUZZ_ASSERT(render(t, vars, &again, &againlen) == RENDER_OK);
        FUZZ_ASSERT(againlen == outlen && memcmp(again, out, outlen) == 0);
        free(again);
        free(out);
    }
    if (vars != NULL)
        check_values_add_no_markup(t, vars);
    json_decref(vars);
    ts_template_free(t);
    return 0;
}
