/* src/core/template.c (the template language) and src/core/pages.c (the page set built from templates/). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include "tessera/template.h"

/* ---- helpers ------------------------------------------------------------------------------------------- */

static json_t *vars_of(const char *json)
{
    json_error_t jerr;
    json_t *v;

    if (json == NULL)
        return NULL;
    if ((v = json_loads(json, 0, &jerr)) == NULL)
        fail_msg("bad test JSON %s: %s", json, jerr.text);
    return v;
}

/* renders src with vars (JSON text, or NULL); a malloc'd string */
static char *render_json(const char *src, const json_t *vars)
{
    char err[256], *out;
    size_t outlen;
    ts_template_t *t = ts_template_compile(src, strlen(src), err, sizeof(err));

    if (t == NULL)
        fail_msg("%s did not compile: %s", src, err);
    assert_int_equal(ts_template_render(t, vars, &out, &outlen), 0);
    assert_int_equal(strlen(out), outlen);
    ts_template_free(t);
    return out;
}

static void assert_renders(const char *src, const char *json, const char *expected)
{
    json_t *vars = vars_of(json);
    char *out = render_json(src, vars);

    if (strcmp(out, expected) != 0)
        fail_msg("%s with %s rendered\n  %s\nnot\n  %s", src, json != NULL ? json : "NULL", out, expected);
    free(out);
    json_decref(vars);
}

/* compiles src (len bytes), expecting a failure whose message contains each of the NULL-ended strings */
static void assert_rejected_n(const char *src, size_t len, ...)
{
    char err[256];
    const char *want;
    va_list ap;
    ts_template_t *t;

    memset(err, 'X', sizeof(err));
    if ((t = ts_template_compile(src, len, err, sizeof(err))) != NULL) {
        ts_template_free(t);
        fail_msg("compiled: %.*s", (int)(len < 200 ? len : 200), src);
    }
    assert_non_null(memchr(err, '\0', sizeof(err)));
    va_start(ap, len);
    while ((want = va_arg(ap, const char *)) != NULL)
        if (strstr(err, want) == NULL)
            fail_msg("error for %.*s is \"%s\", without \"%s\"", (int)(len < 200 ? len : 200), src, err, want);
    va_end(ap);
}

#define assert_rejected(src, ...) assert_rejected_n(src, strlen(src), __VA_ARGS__, NULL)

static size_t count_char(const char *s, char ch)
{
    size_t n = 0;
    for (; *s != '\0'; ++s)
        n += *s == ch;
    return n;
}

/* an attribute like onclick= anywhere in html */
static int has_event_handler(const char *html)
{
    for (const char *p = html; (p = strstr(p, " on")) != NULL; ++p) {
        const char *q = p + 3;
        while (*q >= 'a' && *q <= 'z')
            ++q;
        if (q > p + 3 && *q == '=')
            return 1;
    }
    return 0;
}

/* ---- variables ----------------------------------------------------------------------------------------- */

static void variables_render_strings_and_numbers(void **state)
{
    assert_renders("Hello, {{name}}!", "{\"name\":\"Ada\"}", "Hello, Ada!");
    assert_renders("{{i}} {{neg}} {{big}}", "{\"i\":42,\"neg\":-7,\"big\":9007199254740993}", "42 -7 9007199254740993");
    assert_renders("{{r}} {{s}} {{e}}", "{\"r\":1.5,\"s\":0.1,\"e\":1e300}", "1.5 0.1 1e+300");
    assert_renders("{{u}}", "{\"u\":\"caf\\u00e9 \\u20ac\"}", "caf\xc3\xa9 \xe2\x82\xac");
}

static void variables_literals_objects_and_arrays_render_empty(void **state)
{
    assert_renders("[{{t}}|{{f}}|{{n}}|{{o}}|{{a}}]", "{\"t\":true,\"f\":false,\"n\":null,\"o\":{\"x\":1},\"a\":[1,2]}", "[||||]");
}

static void variables_missing_names_render_empty(void **state)
{
    assert_renders("a{{missing}}b", "{}", "ab");
    assert_renders("a{{missing}}b{{#missing}}x{{/missing}}{{^missing}}y{{/missing}}", NULL, "aby");
    assert_renders("{{user.missing}}{{user.name.first}}{{nothing.at.all}}", "{\"user\":{\"name\":\"n\"}}", "");
}

static void variables_allow_spaces_inside_the_tag(void **state)
{
    assert_renders("{{ a }}{{\ta\t}}{{# t }}y{{/ t }}{{^ f }}n{{/f}}", "{\"a\":\"x\",\"t\":true,\"f\":false}", "xxyn");
}

static void variables_dotted_names_read_members(void **state)
{
    static const char vars[] = "{\"user\":{\"name\":\"n\",\"roles\":[\"a\",\"b\"],\"org\":{\"id\":3}},\"s\":\"str\"}";
    assert_renders("{{user.name}}/{{user.org.id}}/{{#user.roles}}{{.}}{{/user.roles}}", vars, "n/3/ab");
    assert_renders("[{{s.length}}]", vars, "[]");
}

static void text_outside_tags_is_copied_as_it_is(void **state)
{
    static const char src[] = "<p class=\"x\" title='y'>a & b { } }} {x} = /</p>\n";
    assert_renders(src, NULL, src);
    assert_renders("", NULL, "");
}

static void render_output_is_nul_terminated_with_its_length(void **state)
{
    char err[256], *out = NULL;
    size_t outlen = 99;
    ts_template_t *t = ts_template_compile("", 0, err, sizeof(err));

    assert_non_null(t);
    assert_int_equal(ts_template_render(t, NULL, &out, &outlen), 0);
    assert_non_null(out);
    assert_int_equal(outlen, 0);
    assert_int_equal(out[0], '\0');
    free(out);
    ts_template_free(t);
}

static void compiled_template_keeps_its_own_copy_of_the_source(void **state)
{
    char src[] = "<b>{{x}}</b>", err[256], *out;
    size_t outlen;
    json_t *vars = vars_of("{\"x\":\"y\"}");
    ts_template_t *t = ts_template_compile(src, strlen(src), err, sizeof(err));

    assert_non_null(t);
    memset(src, '#', strlen(src));
    for (int i = 0; i < 2; ++i) {
        assert_int_equal(ts_template_render(t, vars, &out, &outlen), 0);
        assert_string_equal(out, "<b>y</b>");
        free(out);
    }
    ts_template_free(t);
    json_decref(vars);
}

static void compile_reads_only_len_bytes(void **state)
{
    char err[256], *out;
    size_t outlen;
    ts_template_t *t = ts_template_compile("ab{{x}}", 2, err, sizeof(err));

    assert_non_null(t);
    assert_int_equal(ts_template_render(t, NULL, &out, &outlen), 0);
    assert_string_equal(out, "ab");
    free(out);
    ts_template_free(t);
    /* cut inside a tag: an unclosed tag, not a read past len */
    assert_rejected_n("{{x}}", 4, "line 1", NULL);
}

/* ---- escaping ------------------------------------------------------------------------------------------ */

static void escaping_covers_every_special_character(void **state)
{
    assert_renders("{{v}}", "{\"v\":\"&<>\\\"'`=/\"}", "&amp;&lt;&gt;&quot;&#39;&#96;&#61;&#47;");
    assert_renders("{{v}}", "{\"v\":\"a&&b\"}", "a&amp;&amp;b");
    /* an existing reference is escaped again: values are text, never markup */
    assert_renders("{{v}}", "{\"v\":\"&amp;\"}", "&amp;amp;");
}

static void escaping_applies_in_every_position(void **state)
{
    static const char vars[] = "{\"v\":\"<i>\",\"a\":[\"<i>\"],\"o\":{\"v\":\"<o>\"}}";
    assert_renders("{{v}}|{{#a}}{{.}}{{/a}}|{{#o}}{{v}}{{/o}}|{{o.v}}|{{#v}}{{.}}{{/v}}", vars,
                   "&lt;i&gt;|&lt;i&gt;|&lt;o&gt;|&lt;o&gt;|&lt;i&gt;");
}

static void escaping_keeps_attribute_breaking_payloads_inside_the_attribute(void **state)
{
    static const char *const payloads[] = {"\"><script>alert(1)</script>",
                                           "' onmouseover=alert(1) x='",
                                           "\" onfocus=\"alert(1)\" autofocus=\"",
                                           "javascript:alert(1)//",
                                           "</textarea><svg onload=alert(1)>",
                                           "`${alert(1)}`",
                                           "<!--",
                                           "]]>"};
    static const char src[] = "<input value=\"{{v}}\"><a title='{{v}}'>{{v}}</a>";
    size_t lt = count_char(src, '<'), gt = count_char(src, '>'), dq = count_char(src, '"'), sq = count_char(src, '\'');

    for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); ++i) {
        json_t *vars = json_pack("{ss}", "v", payloads[i]);
        char *out = render_json(src, vars);
        if (count_char(out, '<') != lt || count_char(out, '>') != gt || count_char(out, '"') != dq || count_char(out, '\'') != sq ||
            count_char(out, '`') != 0 || strstr(out, "=alert") != NULL)
            fail_msg("%s escaped as %s", payloads[i], out);
        free(out);
        json_decref(vars);
    }
}

static void escaping_turns_a_nul_into_a_replacement_character(void **state)
{
    json_t *vars = json_object();
    json_object_set_new(vars, "v", json_stringn("a\0b", 3));
    char *out = render_json("{{v}}", vars);
    assert_string_equal(out, "a\357\277\275b"); /* U+FFFD */
    free(out);
    json_decref(vars);
}

/* ---- sections ------------------------------------------------------------------------------------------ */

static void sections_render_for_truthy_values_once(void **state)
{
    static const char *const truthy[] = {"true", "\"x\"", "0", "1", "-1.5", "{}", "{\"a\":1}"};
    static const char *const falsy[] = {"false", "null", "\"\"", "[]"};
    char json[64];

    for (size_t i = 0; i < sizeof(truthy) / sizeof(truthy[0]); ++i) {
        snprintf(json, sizeof(json), "{\"v\":%s}", truthy[i]);
        assert_renders("[{{#v}}yes{{/v}}{{^v}}no{{/v}}]", json, "[yes]");
    }
    for (size_t i = 0; i < sizeof(falsy) / sizeof(falsy[0]); ++i) {
        snprintf(json, sizeof(json), "{\"v\":%s}", falsy[i]);
        assert_renders("[{{#v}}yes{{/v}}{{^v}}no{{/v}}]", json, "[no]");
    }
    assert_renders("[{{#v}}yes{{/v}}{{^v}}no{{/v}}]", "{}", "[no]");
}

static void sections_repeat_over_arrays_of_objects(void **state)
{
    assert_renders("<ul>{{#items}}<li>{{name}}={{n}}</li>{{/items}}</ul>",
                   "{\"items\":[{\"name\":\"a\",\"n\":1},{\"name\":\"b\",\"n\":2},{\"name\":\"c\"}]}",
                   "<ul><li>a=1</li><li>b=2</li><li>c=</li></ul>");
}

static void sections_repeat_over_arrays_of_strings_with_dot(void **state)
{
    assert_renders("{{#tags}}[{{.}}]{{/tags}}", "{\"tags\":[\"a\",\"b&c\",\"\",7,true]}", "[a][b&amp;c][][7][]");
    /* an array of arrays: the element is an array, iterated by {{#.}} */
    assert_renders("{{#rows}}({{#.}}{{.}}{{/.}}){{/rows}}", "{\"rows\":[[1,2],[3]]}", "(12)(3)");
}

static void sections_over_a_value_make_it_the_dot(void **state)
{
    assert_renders("{{#s}}<{{.}}>{{/s}}{{#n}}<{{.}}>{{/n}}", "{\"s\":\"str\",\"n\":5}", "<str><5>");
    /* at the top, {{.}} is the vars object: no text */
    assert_renders("[{{.}}]", "{\"a\":1}", "[]");
}

static void sections_over_an_object_look_up_its_members_first(void **state)
{
    assert_renders("{{#user}}{{name}} <{{email}}>{{/user}} {{name}}",
                   "{\"name\":\"outer\",\"user\":{\"name\":\"inner\",\"email\":\"i@example.com\"}}", "inner <i@example.com> outer");
}

static void sections_fall_back_to_outer_scopes(void **state)
{
    static const char vars[] = "{\"label\":\"R\",\"title\":\"T\",\"user\":{\"name\":\"u\","
                               "\"items\":[{\"name\":\"a\"},{\"name\":\"b\",\"label\":\"L\"},\"s\"]}}";
    assert_renders("{{#user}}{{#items}}{{name}}:{{label}}:{{title}},{{/items}}{{/user}}", vars, "a:R:T,b:L:T,u:R:T,");
    /* true, strings and numbers have no members: lookups pass through them */
    assert_renders("{{#t}}{{#s}}{{x}}{{/s}}{{/t}}", "{\"t\":true,\"s\":\"str\",\"x\":\"outer\"}", "outer");
    /* a null member still counts as found: it hides the outer value */
    assert_renders("{{#o}}[{{x}}]{{/o}}", "{\"x\":\"outer\",\"o\":{\"x\":null}}", "[]");
}

static void sections_nest_eight_deep(void **state)
{
    assert_renders("{{#a}}{{#b}}{{#c}}{{#d}}{{#e}}{{#f}}{{#g}}{{#h}}{{x}}{{/h}}{{/g}}{{/f}}{{/e}}{{/d}}{{/c}}{{/b}}{{/a}}",
                   "{\"a\":1,\"b\":1,\"c\":1,\"d\":1,\"e\":1,\"f\":1,\"g\":1,\"h\":{\"x\":\"deep\"}}", "deep");
}

static void inverted_sections_render_only_when_the_section_would_not(void **state)
{
    static const char src[] = "{{^v}}empty{{/v}}";
    assert_renders(src, "{\"v\":[]}", "empty");
    assert_renders(src, "{\"v\":\"\"}", "empty");
    assert_renders(src, "{\"v\":null}", "empty");
    assert_renders(src, "{\"v\":false}", "empty");
    assert_renders(src, NULL, "empty");
    assert_renders(src, "{\"v\":[0]}", "");
    assert_renders(src, "{\"v\":0}", "");
    assert_renders(src, "{\"v\":{}}", "");
    /* no new scope: the body sees what is outside */
    assert_renders("{{#o}}{{^missing}}{{x}}{{/missing}}{{/o}}", "{\"o\":{\"x\":\"in\"}}", "in");
}

static void comments_render_nothing(void **state)
{
    assert_renders("a{{! a comment }}b{{!\nspans\nlines\n}}c{{!}}d{{! {{#x {{{y <b> }}e", NULL, "abcde");
    /* lines inside a comment still count */
    assert_rejected("{{!\n\n}}\n{{{x}}}", "line 4");
}

/* ---- syntax errors ------------------------------------------------------------------------------------- */

static void syntax_unclosed_tags_are_rejected(void **state)
{
    assert_rejected("text\n{{name", "line 2", "never closed");
    assert_rejected("{{", "line 1");
    assert_rejected("a\nb\n{{! comment", "line 3");
    assert_rejected("{{name}", "line 1");
}

static void syntax_unescaped_output_is_rejected(void **state)
{
    assert_rejected("\n\n{{{x}}}", "line 3", "{{{");
    assert_rejected("{{&x}}", "line 1", "{{&");
    assert_rejected("{{& x}}", "line 1");
}

static void syntax_unbalanced_sections_are_rejected(void **state)
{
    assert_rejected("{{#a}}\n{{/b}}", "line 2", "{{/b}}", "{{#a}}");
    assert_rejected("x\n{{#a}}{{#b}}{{/a}}{{/b}}", "line 2");
    assert_rejected("{{/a}}", "line 1", "{{/a}}");
    assert_rejected("{{#a}}{{/a}}\n{{/a}}", "line 2");
    assert_rejected("x\n{{#a}}\ny\n", "line 2", "{{#a}}", "never closed");
    assert_rejected("{{#a}}{{^b}}\n", "line 1", "{{^b}}");
    assert_rejected("{{^a}}{{/b}}", "line 1");
}

static void syntax_bad_names_are_rejected(void **state)
{
    static const char *const bad[] = {"{{}}",     "{{ }}",   "{{#}}",     "{{/}}",    "{{a b}}",         "{{a!}}",    "{{a<b}}",
                                      "{{a..b}}", "{{.a}}",  "{{a.}}",    "{{..}}",   "{{>part}}",       "{{<part}}", "{{=<% %>=}}",
                                      "{{$blk}}", "{{a}b}}", "{{\"x\"}}", "{{a\nb}}", "{{#a b}}{{/a b}}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i)
        assert_rejected(bad[i], "line 1");
    assert_rejected("ok\n\n\n\n{{bad name}}", "line 5", "bad name");

    char name[70];
    memset(name, 'n', sizeof(name));
    snprintf(name, sizeof(name), "{{%.*s}}", 64, "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn");
    assert_renders(name, NULL, "");
    snprintf(name, sizeof(name), "{{%.*s}}", 65, "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn");
    assert_rejected(name, "line 1");
    assert_renders("{{a-b_C.9}}{{.}}", "{\"a-b_C\":{\"9\":\"ok\"}}", "ok");
}

static void syntax_nesting_deeper_than_eight_is_rejected(void **state)
{
    assert_rejected(
        "{{#a}}{{#b}}{{#c}}{{#d}}{{#e}}{{#f}}{{#g}}{{#h}}\n{{^i}}{{/i}}{{/h}}{{/g}}{{/f}}{{/e}}{{/d}}{{/c}}{{/b}}{{/a}}", "line 2",
        "8");
}

static void syntax_templates_over_64_kib_are_rejected(void **state)
{
    size_t max = 64 * 1024;
    char *src = malloc(max + 2);

    assert_non_null(src);
    memset(src, 'x', max + 1);
    for (size_t i = 99; i < max; i += 100)
        src[i] = '\n';
    src[max + 1] = '\0';
    assert_rejected_n(src, max + 1, "line 656", "65536", NULL);

    char err[256], *out;
    size_t outlen;
    ts_template_t *t = ts_template_compile(src, max, err, sizeof(err));
    assert_non_null(t);
    assert_int_equal(ts_template_render(t, NULL, &out, &outlen), 0);
    assert_int_equal(outlen, max);
    free(out);
    ts_template_free(t);
    free(src);
}

static void syntax_nul_bytes_are_rejected(void **state)
{
    assert_rejected_n("a\nb\0c", 5, "line 2", NULL);
}

static void syntax_error_messages_fit_any_buffer(void **state)
{
    char err[8];

    memset(err, 'X', sizeof(err));
    assert_null(ts_template_compile("{{#a}}", 6, err, sizeof(err)));
    assert_int_equal(strlen(err), sizeof(err) - 1);
    assert_null(ts_template_compile("{{#a}}", 6, NULL, 0));
    assert_null(ts_template_compile("{{#a}}", 6, err, 0));
    /* a long bad tag is shown cut short */
    char long_tag[600], big[256];
    memset(long_tag, '!', sizeof(long_tag));
    memcpy(long_tag, "{{a ", 4);
    memcpy(long_tag + sizeof(long_tag) - 3, "}}", 3);
    assert_null(ts_template_compile(long_tag, strlen(long_tag), big, sizeof(big)));
    assert_non_null(strstr(big, "line 1"));
    assert_true(strlen(big) < 200);
}

/* ---- bounds -------------------------------------------------------------------------------------------- */

static void render_output_is_bounded_at_1_mib(void **state)
{
    size_t max = 1024 * 1024;
    char *s = malloc(max + 2), err[256], *out = (char *)"untouched";
    size_t outlen = 1;
    ts_template_t *t = ts_template_compile("{{s}}", 5, err, sizeof(err));
    json_t *vars = json_object();

    assert_non_null(s);
    assert_non_null(t);
    memset(s, 'x', max + 1);
    json_object_set_new(vars, "s", json_stringn(s, max));
    assert_int_equal(ts_template_render(t, vars, &out, &outlen), 0);
    assert_int_equal(outlen, max);
    free(out);
    json_object_set_new(vars, "s", json_stringn(s, max + 1));
    assert_int_equal(ts_template_render(t, vars, &out, &outlen), -1);
    assert_null(out);
    assert_int_equal(outlen, 0);
    /* escaping counts: 300 KiB of '<' is 1.2 MiB of "&lt;" */
    memset(s, '<', max / 3);
    json_object_set_new(vars, "s", json_stringn(s, max / 3));
    assert_int_equal(ts_template_render(t, vars, &out, &outlen), -1);
    ts_template_free(t);

    /* and repetition: a small value over a long array */
    t = ts_template_compile("{{#a}}{{s}}{{/a}}", 17, err, sizeof(err));
    assert_non_null(t);
    json_t *a = json_array();
    for (int i = 0; i < 2000; ++i)
        json_array_append_new(a, json_true());
    json_object_set_new(vars, "a", a);
    json_object_set_new(vars, "s", json_stringn(s, 1024));
    assert_int_equal(ts_template_render(t, vars, &out, &outlen), -1);
    ts_template_free(t);
    json_decref(vars);
    free(s);
}

static void render_work_is_bounded_for_nested_arrays(void **state)
{
    /* 100^8 iterations of an empty body: no output, but refused rather than run */
    char err[256], *out;
    size_t outlen;
    static const char src[] = "{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{/a}}{{/a}}{{/a}}{{/a}}{{/a}}{{/a}}{{/a}}{{/a}}";
    ts_template_t *t = ts_template_compile(src, strlen(src), err, sizeof(err));
    json_t *vars = json_object(), *a = json_array();

    assert_non_null(t);
    for (int i = 0; i < 100; ++i)
        json_array_append_new(a, json_integer(i));
    json_object_set_new(vars, "a", a);
    assert_int_equal(ts_template_render(t, vars, &out, &outlen), -1);
    assert_null(out);
    ts_template_free(t);
    json_decref(vars);
}

/* ---- the pages ----------------------------------------------------------------------------------------- */

static const char *const page_names[TS_PAGE__COUNT] = {"login", "consent", "error", "logout"};

/* realistic vars for each page, with every string value replaced by s when s is non-NULL */
static json_t *page_vars(ts_page_t page, const char *s)
{
    json_t *v = NULL;
    switch (page) {
    case TS_PAGE_LOGIN:
        v = json_pack("{ss ss ss ss ss ss ss}", "lang", "en", "client_name", "Example App", "issuer", "https://id.example.com",
                      "interaction", "int-4f2a", "csrf_token", "csrf-9Zq", "login_hint", "alice", "error",
                      "Wrong username or password");
        break;
    case TS_PAGE_CONSENT:
        v = json_pack("{ss ss ss ss ss ss s[{ss ss} {ss ss}]}", "lang", "en", "client_name", "Example App", "issuer",
                      "https://id.example.com", "interaction", "int-4f2a", "csrf_token", "csrf-9Zq", "username", "alice", "scopes",
                      "name", "openid", "description", "Know who you are", "name", "api:read", "description", "Read your data");
        break;
    case TS_PAGE_ERROR:
        v = json_pack("{ss ss ss ss ss}", "lang", "en", "client_name", "Example App", "issuer", "https://id.example.com", "error",
                      "invalid_request", "error_description", "The redirect_uri is not registered");
        break;
    case TS_PAGE_LOGOUT:
        v = json_pack("{ss ss ss sb ss ss ss ss}", "lang", "en", "client_name", "Example App", "issuer", "https://id.example.com",
                      "confirm", 1, "csrf_token", "csrf-9Zq", "post_logout_redirect_uri", "https://app.example.com/bye", "state",
                      "st-77", "client_id", "example-app");
        break;
    default:
        break;
    }
    assert_non_null(v);
    if (s != NULL) {
        /* every string, including those in the scope list */
        json_t *stack[8] = {v};
        size_t n = 1;
        while (n > 0) {
            json_t *cur = stack[--n], *member;
            const char *key;
            size_t i;
            if (json_is_object(cur)) {
                json_object_foreach(cur, key, member)
                {
                    if (json_is_string(member))
                        json_string_set(member, s);
                    else if (json_is_object(member) || json_is_array(member))
                        stack[n++] = member;
                }
            } else {
                json_array_foreach(cur, i, member)
                {
                    if (json_is_string(member))
                        json_string_set(member, s);
                    else if (json_is_object(member) || json_is_array(member))
                        stack[n++] = member;
                }
            }
        }
    }
    return v;
}

/* not inlined: gcc 12 at -O2 then takes the returned string for a pointer to the local `out` (-Wdangling-pointer) */
static __attribute__((noinline)) char *render_page(const ts_pages_t *p, ts_page_t page, const json_t *vars)
{
    char *out = NULL;
    size_t outlen = 0;
    assert_int_equal(ts_template_render(p->pages[page], vars, &out, &outlen), 0);
    return out;
}

static void assert_contains(const char *page, const char *html, const char *want)
{
    if (strstr(html, want) == NULL)
        fail_msg("the %s page lacks %s:\n%s", page, want, html);
}

static void assert_lacks(const char *page, const char *html, const char *unwanted)
{
    if (strstr(html, unwanted) != NULL)
        fail_msg("the %s page has %s:\n%s", page, unwanted, html);
}

static void pages_load_from_the_binary(void **state)
{
    char err[256];
    ts_pages_t *p = ts_pages_load(NULL, err, sizeof(err));

    if (p == NULL)
        fail_msg("%s", err);
    for (int i = 0; i < TS_PAGE__COUNT; ++i)
        assert_non_null(p->pages[i]);
    assert_non_null(p->stylesheet);
    assert_true(p->stylesheet_len > 100);
    assert_int_equal(strlen(p->stylesheet), p->stylesheet_len);
    assert_non_null(strstr(p->stylesheet, ".card"));
    ts_pages_free(p);
    /* "" is the same as NULL */
    assert_non_null(p = ts_pages_load("", err, sizeof(err)));
    ts_pages_free(p);
    ts_pages_free(NULL);
}

static void pages_share_the_head_and_obey_the_csp(void **state)
{
    ts_pages_t *p = ts_pages_load(NULL, NULL, 0);

    assert_non_null(p);
    for (int i = 0; i < TS_PAGE__COUNT; ++i) {
        json_t *vars = page_vars((ts_page_t)i, NULL);
        char *html = render_page(p, (ts_page_t)i, vars);
        assert_true(strncmp(html, "<!doctype html>\n", 16) == 0);
        assert_contains(page_names[i], html, "<html lang=\"en\">");
        assert_contains(page_names[i], html, "<meta charset=\"utf-8\">");
        assert_contains(page_names[i], html, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        assert_contains(page_names[i], html, "<link rel=\"stylesheet\" href=\"/assets/style.css\">");
        assert_lacks(page_names[i], html, "<script");
        assert_lacks(page_names[i], html, "<style");
        assert_lacks(page_names[i], html, "style=");
        assert_false(has_event_handler(html));
        assert_lacks(page_names[i], html, "{{");
        free(html);
        json_decref(vars);
    }
    ts_pages_free(p);
}

static void pages_login_has_the_form(void **state)
{
    ts_pages_t *p = ts_pages_load(NULL, NULL, 0);
    json_t *vars = page_vars(TS_PAGE_LOGIN, NULL);
    char *html = render_page(p, TS_PAGE_LOGIN, vars);
    static const char *const want[] = {
        "<title>Sign in</title>",
        "<form action=\"/login\" method=\"post\">",
        "<input type=\"hidden\" name=\"interaction\" value=\"int-4f2a\">",
        "<input type=\"hidden\" name=\"csrf_token\" value=\"csrf-9Zq\">",
        "<label for=\"username\">",
        "<input id=\"username\" name=\"username\" autocomplete=\"username\"",
        "value=\"alice\"",
        "<label for=\"password\">",
        "<input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required",
        "<button type=\"submit\">Sign in</button>",
        "<p class=\"error\" role=\"alert\">Wrong username or password</p>",
        "Example App",
        "https:&#47;&#47;id.example.com",
    };

    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); ++i)
        assert_contains("login", html, want[i]);
    free(html);
    /* without an error, no alert; without a hint, an empty username */
    json_object_del(vars, "error");
    json_object_del(vars, "login_hint");
    json_object_del(vars, "client_name");
    html = render_page(p, TS_PAGE_LOGIN, vars);
    assert_lacks("login", html, "role=\"alert\"");
    assert_lacks("login", html, "class=\"error\"");
    assert_contains("login", html, "value=\"\"");
    assert_lacks("login", html, "Example App");
    free(html);
    json_decref(vars);
    ts_pages_free(p);
}

static void pages_consent_lists_the_scopes_and_both_decisions(void **state)
{
    ts_pages_t *p = ts_pages_load(NULL, NULL, 0);
    json_t *vars = page_vars(TS_PAGE_CONSENT, NULL);
    char *html = render_page(p, TS_PAGE_CONSENT, vars);
    static const char *const want[] = {
        "<title>Allow access?</title>",
        "Example App wants to access your account",
        "alice",
        "<form action=\"/consent\" method=\"post\">",
        "name=\"interaction\" value=\"int-4f2a\"",
        "name=\"csrf_token\" value=\"csrf-9Zq\"",
        "<li>Know who you are <code>openid</code></li>",
        "<li>Read your data <code>api:read</code></li>",
        "<button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button>",
        "<button type=\"submit\" name=\"decision\" value=\"deny\"",
        ">Deny</button>",
    };

    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); ++i)
        assert_contains("consent", html, want[i]);
    free(html);
    json_object_del(vars, "client_name");
    html = render_page(p, TS_PAGE_CONSENT, vars);
    assert_contains("consent", html, "An application wants to access your account");
    free(html);
    json_decref(vars);
    ts_pages_free(p);
}

static void pages_error_shows_the_code_and_no_way_back_to_the_client(void **state)
{
    ts_pages_t *p = ts_pages_load(NULL, NULL, 0);
    json_t *vars = page_vars(TS_PAGE_ERROR, NULL);
    char *html;

    json_object_set_new(vars, "redirect_uri", json_string("https://evil.example/cb"));
    html = render_page(p, TS_PAGE_ERROR, vars);
    assert_contains("error", html, "<title>Something went wrong</title>");
    assert_contains("error", html, "invalid_request");
    assert_contains("error", html, "The redirect_uri is not registered");
    /* the stylesheet is the only link, and there is no form */
    const char *first_link = strstr(html, "href=");
    assert_non_null(first_link);
    assert_true(first_link == strstr(html, "href=\"/assets/style.css\""));
    assert_null(strstr(first_link + 1, "href="));
    assert_lacks("error", html, "<form");
    assert_lacks("error", html, "evil.example");
    free(html);
    json_decref(vars);
    ts_pages_free(p);
}

static void pages_logout_confirms_with_only_the_values_present(void **state)
{
    ts_pages_t *p = ts_pages_load(NULL, NULL, 0);
    json_t *vars = page_vars(TS_PAGE_LOGOUT, NULL);
    char *html = render_page(p, TS_PAGE_LOGOUT, vars);
    static const char *const want[] = {
        "<title>Sign out?</title>",
        "<form action=\"/logout\" method=\"post\">",
        "<input type=\"hidden\" name=\"csrf_token\" value=\"csrf-9Zq\">",
        "<input type=\"hidden\" name=\"post_logout_redirect_uri\" value=\"https:&#47;&#47;app.example.com&#47;bye\">",
        "<input type=\"hidden\" name=\"state\" value=\"st-77\">",
        "<input type=\"hidden\" name=\"client_id\" value=\"example-app\">",
        "<button type=\"submit\">Sign out</button>",
    };

    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); ++i)
        assert_contains("logout", html, want[i]);
    assert_lacks("logout", html, "You have been signed out.");
    free(html);

    json_object_del(vars, "post_logout_redirect_uri");
    json_object_del(vars, "state");
    json_object_set_new(vars, "client_id", json_string(""));
    html = render_page(p, TS_PAGE_LOGOUT, vars);
    assert_contains("logout", html, "name=\"csrf_token\"");
    assert_lacks("logout", html, "post_logout_redirect_uri");
    assert_lacks("logout", html, "name=\"state\"");
    assert_lacks("logout", html, "name=\"client_id\"");
    free(html);
    json_decref(vars);

    vars = json_pack("{ss ss sb}", "lang", "en", "issuer", "https://id.example.com", "signed_out", 1);
    html = render_page(p, TS_PAGE_LOGOUT, vars);
    assert_contains("logout", html, "<title>Signed out</title>");
    assert_contains("logout", html, "You have been signed out.");
    assert_lacks("logout", html, "<form");
    assert_lacks("logout", html, "Sign out?");
    free(html);
    json_decref(vars);
    ts_pages_free(p);
}

static void pages_never_emit_a_value_unescaped(void **state)
{
    static const char *const payloads[] = {"\"><script>alert(1)</script>", "' onmouseover=alert(1) x='",
                                           "</title><img src=x onerror=alert(1)>", "{{csrf_token}}"};
    ts_pages_t *p = ts_pages_load(NULL, NULL, 0);

    assert_non_null(p);
    for (int i = 0; i < TS_PAGE__COUNT; ++i) {
        json_t *plain = page_vars((ts_page_t)i, "x");
        char *ref = render_page(p, (ts_page_t)i, plain);
        for (size_t k = 0; k < sizeof(payloads) / sizeof(payloads[0]); ++k) {
            json_t *hostile = page_vars((ts_page_t)i, payloads[k]);
            char *html = render_page(p, (ts_page_t)i, hostile);
            /* the markup is the same as with harmless values: the payload added no tag, quote or attribute */
            if (count_char(html, '<') != count_char(ref, '<') || count_char(html, '>') != count_char(ref, '>') ||
                count_char(html, '"') != count_char(ref, '"') || count_char(html, '\'') != count_char(ref, '\'') ||
                count_char(html, '=') != count_char(ref, '='))
                fail_msg("the %s page let %s through:\n%s", page_names[i], payloads[k], html);
            assert_lacks(page_names[i], html, "<script");
            assert_lacks(page_names[i], html, "onmouseover=");
            assert_lacks(page_names[i], html, "onerror=");
            assert_false(has_event_handler(html));
            free(html);
            json_decref(hostile);
        }
        free(ref);
        json_decref(plain);
    }
    ts_pages_free(p);
}

/* ---- pages from a directory ---------------------------------------------------------------------------- */

static const char *const dir_files[] = {"login.html", "consent.html", "error.html", "logout.html", "style.css"};

static void write_file(const char *dir, const char *name, const char *data, size_t len)
{
    char path[512];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    assert_non_null(fp = fopen(path, "wb"));
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static void remove_dir(const char *dir)
{
    char path[512];
    for (size_t i = 0; i < sizeof(dir_files) / sizeof(dir_files[0]); ++i) {
        snprintf(path, sizeof(path), "%s/%s", dir, dir_files[i]);
        unlink(path);
    }
    rmdir(dir);
}

static void make_dir(char *dir)
{
    assert_non_null(mkdtemp(dir));
    for (size_t i = 0; i < sizeof(dir_files) / sizeof(dir_files[0]); ++i) {
        char body[64];
        snprintf(body, sizeof(body), "<p lang=\"{{lang}}\">%s</p>", dir_files[i]);
        write_file(dir, dir_files[i], body, strlen(body));
    }
}

static void pages_load_from_a_directory(void **state)
{
    char dir[] = "/tmp/tessera-template-XXXXXX", err[512], *html;
    json_t *vars = json_pack("{ss}", "lang", "fr");
    ts_pages_t *p;

    make_dir(dir);
    if ((p = ts_pages_load(dir, err, sizeof(err))) == NULL)
        fail_msg("%s", err);
    html = render_page(p, TS_PAGE_CONSENT, vars);
    assert_string_equal(html, "<p lang=\"fr\">consent.html</p>");
    free(html);
    assert_string_equal(p->stylesheet, "<p lang=\"{{lang}}\">style.css</p>");
    assert_int_equal(p->stylesheet_len, strlen(p->stylesheet));
    ts_pages_free(p);
    json_decref(vars);
    remove_dir(dir);
}

static void pages_from_a_directory_name_the_broken_file(void **state)
{
    char dir[] = "/tmp/tessera-template-XXXXXX", err[512];

    make_dir(dir);
    write_file(dir, "logout.html", "<p>\n{{#confirm}}\n", 17);
    memset(err, 'X', sizeof(err));
    err[sizeof(err) - 1] = '\0';
    assert_null(ts_pages_load(dir, err, sizeof(err)));
    assert_non_null(strstr(err, "logout.html"));
    assert_non_null(strstr(err, "line 2"));
    assert_non_null(strstr(err, dir));

    write_file(dir, "logout.html", "<p>ok</p>", 9);
    write_file(dir, "login.html", "{{{raw}}}", 9);
    assert_null(ts_pages_load(dir, err, sizeof(err)));
    assert_non_null(strstr(err, "login.html"));
    assert_non_null(strstr(err, "line 1"));
    write_file(dir, "login.html", "<p>ok</p>", 9);

    /* a file over 64 KiB, the stylesheet included */
    char *big = malloc(64 * 1024 + 1);
    assert_non_null(big);
    memset(big, 'a', 64 * 1024 + 1);
    write_file(dir, "style.css", big, 64 * 1024 + 1);
    assert_null(ts_pages_load(dir, err, sizeof(err)));
    assert_non_null(strstr(err, "style.css"));
    write_file(dir, "style.css", big, 64 * 1024);
    ts_pages_t *p = ts_pages_load(dir, err, sizeof(err));
    assert_non_null(p);
    assert_int_equal(p->stylesheet_len, 64 * 1024);
    ts_pages_free(p);
    free(big);

    /* a missing file */
    char path[512];
    snprintf(path, sizeof(path), "%s/error.html", dir);
    assert_int_equal(unlink(path), 0);
    assert_null(ts_pages_load(dir, err, sizeof(err)));
    assert_non_null(strstr(err, "error.html"));
    remove_dir(dir);

    assert_null(ts_pages_load("/nonexistent/tessera-templates", err, sizeof(err)));
    assert_non_null(strstr(err, "/nonexistent/tessera-templates/login.html"));
}

static void pages_built_in_are_the_files_of_templates(void **state)
{
    /* the embedding is byte-exact: loading the source tree's templates/ renders the same pages */
    const char *src = getenv("TESSERA_SOURCE_DIR");
    char dir[512], err[512];
    ts_pages_t *built_in, *from_dir;

    if (src == NULL)
        src = TESSERA_SOURCE_DIR;
    snprintf(dir, sizeof(dir), "%s/templates", src);
    assert_non_null(built_in = ts_pages_load(NULL, err, sizeof(err)));
    if ((from_dir = ts_pages_load(dir, err, sizeof(err))) == NULL)
        fail_msg("%s", err);
    assert_int_equal(built_in->stylesheet_len, from_dir->stylesheet_len);
    assert_memory_equal(built_in->stylesheet, from_dir->stylesheet, built_in->stylesheet_len);
    for (int i = 0; i < TS_PAGE__COUNT; ++i) {
        json_t *vars = page_vars((ts_page_t)i, NULL);
        char *a = render_page(built_in, (ts_page_t)i, vars), *b = render_page(from_dir, (ts_page_t)i, vars);
        assert_string_equal(a, b);
        free(a);
        free(b);
        json_decref(vars);
    }
    ts_pages_free(built_in);
    ts_pages_free(from_dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(variables_render_strings_and_numbers),
        cmocka_unit_test(variables_literals_objects_and_arrays_render_empty),
        cmocka_unit_test(variables_missing_names_render_empty),
        cmocka_unit_test(variables_allow_spaces_inside_the_tag),
        cmocka_unit_test(variables_dotted_names_read_members),
        cmocka_unit_test(text_outside_tags_is_copied_as_it_is),
        cmocka_unit_test(render_output_is_nul_terminated_with_its_length),
        cmocka_unit_test(compiled_template_keeps_its_own_copy_of_the_source),
        cmocka_unit_test(compile_reads_only_len_bytes),
        cmocka_unit_test(escaping_covers_every_special_character),
        cmocka_unit_test(escaping_applies_in_every_position),
        cmocka_unit_test(escaping_keeps_attribute_breaking_payloads_inside_the_attribute),
        cmocka_unit_test(escaping_turns_a_nul_into_a_replacement_character),
        cmocka_unit_test(sections_render_for_truthy_values_once),
        cmocka_unit_test(sections_repeat_over_arrays_of_objects),
        cmocka_unit_test(sections_repeat_over_arrays_of_strings_with_dot),
        cmocka_unit_test(sections_over_a_value_make_it_the_dot),
        cmocka_unit_test(sections_over_an_object_look_up_its_members_first),
        cmocka_unit_test(sections_fall_back_to_outer_scopes),
        cmocka_unit_test(sections_nest_eight_deep),
        cmocka_unit_test(inverted_sections_render_only_when_the_section_would_not),
        cmocka_unit_test(comments_render_nothing),
        cmocka_unit_test(syntax_unclosed_tags_are_rejected),
        cmocka_unit_test(syntax_unescaped_output_is_rejected),
        cmocka_unit_test(syntax_unbalanced_sections_are_rejected),
        cmocka_unit_test(syntax_bad_names_are_rejected),
        cmocka_unit_test(syntax_nesting_deeper_than_eight_is_rejected),
        cmocka_unit_test(syntax_templates_over_64_kib_are_rejected),
        cmocka_unit_test(syntax_nul_bytes_are_rejected),
        cmocka_unit_test(syntax_error_messages_fit_any_buffer),
        cmocka_unit_test(render_output_is_bounded_at_1_mib),
        cmocka_unit_test(render_work_is_bounded_for_nested_arrays),
        cmocka_unit_test(pages_load_from_the_binary),
        cmocka_unit_test(pages_share_the_head_and_obey_the_csp),
        cmocka_unit_test(pages_login_has_the_form),
        cmocka_unit_test(pages_consent_lists_the_scopes_and_both_decisions),
        cmocka_unit_test(pages_error_shows_the_code_and_no_way_back_to_the_client),
        cmocka_unit_test(pages_logout_confirms_with_only_the_values_present),
        cmocka_unit_test(pages_never_emit_a_value_unescaped),
        cmocka_unit_test(pages_load_from_a_directory),
        cmocka_unit_test(pages_from_a_directory_name_the_broken_file),
        cmocka_unit_test(pages_built_in_are_the_files_of_templates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
