/* The template language of include/tessera/template.h. Compiling turns the source into a flat node list in
 * which a section node knows where its body ends, so rendering is a loop plus one recursive call per open
 * section (at most SECTION_DEPTH deep). Every substitution goes through append_escaped: there is no node
 * type that writes a value raw. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tessera/template.h"

#define SOURCE_MAX (64 * 1024)
#define OUTPUT_MAX (1024 * 1024)
/* Nested sections over arrays multiply: eight levels of 1000-element arrays around an empty body write
 * nothing yet take 10^24 steps, so the work is bounded as well as the output. Our pages take a few hundred
 * steps; a million is still more than it takes to fill OUTPUT_MAX from text of ten bytes a node. */
#define STEPS_MAX (1024 * 1024)
#define SECTION_DEPTH 8
#define NAME_MAX_LEN 64

typedef enum en_node_type_t { NODE_TEXT, NODE_VAR, NODE_SECTION, NODE_INVERTED } node_type_t;

typedef struct st_node_t {
    node_type_t type;
    uint32_t off, len; /* the text, or the name, in the template's copy of its source */
    uint32_t end;      /* sections: the index of the first node after the body */
} node_t;

struct st_ts_template_t {
    char *src;
    node_t *nodes;
    size_t num_nodes, cap_nodes;
};

/* ---- compiling ----------------------------------------------------------------------------------------- */

typedef struct st_open_section_t {
    size_t node;
    unsigned line;
} open_section_t;

typedef struct st_compiler_t {
    ts_template_t *t;
    const char *src;
    size_t len;
    unsigned line; /* of the position being read */
    open_section_t open[SECTION_DEPTH];
    size_t num_open;
    char *err;
    size_t errlen;
} compiler_t;

static void fail(compiler_t *c, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fail(compiler_t *c, unsigned line, const char *fmt, ...)
{
    char msg[192];
    va_list ap;

    if (c->err == NULL || c->errlen == 0)
        return;
    va_start(ap, fmt);
    /* Flawfinder: ignore (next line) - fmt is checked at each call: the wrapper has a printf format attribute */
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "line %u: %s", line, msg);
}

static unsigned count_lines(const char *s, size_t len)
{
    unsigned n = 0;
    for (const char *p = s, *end = s + len; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; ++p)
        ++n;
    return n;
}

static int add_node(compiler_t *c, node_type_t type, size_t off, size_t len)
{
    ts_template_t *t = c->t;

    if (t->num_nodes == t->cap_nodes) {
        size_t cap = t->cap_nodes == 0 ? 32 : t->cap_nodes * 2;
        node_t *nodes = realloc(t->nodes, cap * sizeof(*nodes));
        if (nodes == NULL) {
            fail(c, c->line, "out of memory");
            return -1;
        }
        t->nodes = nodes;
        t->cap_nodes = cap;
    }
    /* off and len fit: the source is at most SOURCE_MAX bytes */
    t->nodes[t->num_nodes++] = (node_t){type, (uint32_t)off, (uint32_t)len, 0};
    return 0;
}

static int is_name_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-';
}

/* "." alone names the innermost scope; otherwise dots separate members, so none may be empty */
static int is_valid_name(const char *s, size_t len)
{
    if (len == 0 || len > NAME_MAX_LEN)
        return 0;
    for (size_t i = 0; i < len; ++i)
        if (!is_name_char(s[i]))
            return 0;
    if (len == 1 && s[0] == '.')
        return 1;
    if (s[0] == '.' || s[len - 1] == '.')
        return 0;
    for (size_t i = 1; i < len; ++i)
        if (s[i] == '.' && s[i - 1] == '.')
            return 0;
    return 1;
}

static int close_section(compiler_t *c, size_t off, size_t len)
{
    const char *name = c->src + off;

    if (c->num_open == 0) {
        fail(c, c->line, "{{/%.*s}} closes no open section", (int)len, name);
        return -1;
    }
    open_section_t *o = &c->open[c->num_open - 1];
    node_t *n = &c->t->nodes[o->node];
    if (n->len != len || memcmp(c->src + n->off, name, len) != 0) {
        fail(c, c->line, "{{/%.*s}} does not close {{%c%.*s}} of line %u", (int)len, name, n->type == NODE_SECTION ? '#' : '^',
             (int)n->len, c->src + n->off, o->line);
        return -1;
    }
    n->end = (uint32_t)c->t->num_nodes;
    c->num_open--;
    return 0;
}

/* the tag whose "{{" is at src[start], its inside being src[start + 2 .. close) */
static int compile_tag(compiler_t *c, size_t start, size_t close)
{
    size_t p = start + 2, off, len;
    char sigil = c->src[p];

    switch (sigil) {
    case '!':
        return 0;
    case '{':
        fail(c, c->line, "{{{ (unescaped output) is not supported");
        return -1;
    case '&':
        fail(c, c->line, "{{& (unescaped output) is not supported");
        return -1;
    case '>':
    case '<':
    case '=':
    case '$':
        fail(c, c->line, "{{%c is not supported", sigil);
        return -1;
    case '#':
    case '^':
    case '/':
        ++p;
        break;
    default:
        sigil = 0;
        break;
    }
    while (p < close && (c->src[p] == ' ' || c->src[p] == '\t'))
        ++p;
    off = p;
    while (p < close && c->src[p] != ' ' && c->src[p] != '\t')
        ++p;
    len = p - off;
    while (p < close && (c->src[p] == ' ' || c->src[p] == '\t'))
        ++p;
    if (p != close || !is_valid_name(c->src + off, len)) {
        /* the inside can be long and hold anything: show a bounded, printable part of it */
        size_t n = close - (start + 2), shown = 0;
        char buf[24];
        for (size_t i = 0; i < n && shown + 1 < sizeof(buf); ++i) {
            unsigned char ch = (unsigned char)c->src[start + 2 + i];
            buf[shown++] = (char)(ch >= 0x20 && ch < 0x7f ? ch : '?');
        }
        buf[shown] = '\0';
        fail(c, c->line, "bad name in {{%s%s}}: names are 1 to %d of [A-Za-z0-9_.-]", buf, shown < n ? "..." : "", NAME_MAX_LEN);
        return -1;
    }
    switch (sigil) {
    case '#':
    case '^':
        if (c->num_open == SECTION_DEPTH) {
            fail(c, c->line, "sections nest more than %d deep", SECTION_DEPTH);
            return -1;
        }
        if (add_node(c, sigil == '#' ? NODE_SECTION : NODE_INVERTED, off, len) != 0)
            return -1;
        c->open[c->num_open++] = (open_section_t){c->t->num_nodes - 1, c->line};
        return 0;
    case '/':
        return close_section(c, off, len);
    default:
        return add_node(c, NODE_VAR, off, len);
    }
}

static int compile(compiler_t *c)
{
    size_t pos = 0;

    while (pos < c->len) {
        const char *open = memmem(c->src + pos, c->len - pos, "{{", 2);
        size_t start = open != NULL ? (size_t)(open - c->src) : c->len, close;

        if (start > pos && add_node(c, NODE_TEXT, pos, start - pos) != 0)
            return -1;
        c->line += count_lines(c->src + pos, start - pos);
        if (open == NULL)
            break;
        const char *end = memmem(c->src + start + 2, c->len - start - 2, "}}", 2);
        if (end == NULL) {
            fail(c, c->line, "{{ is never closed by }}");
            return -1;
        }
        close = (size_t)(end - c->src);
        if (compile_tag(c, start, close) != 0)
            return -1;
        c->line += count_lines(c->src + start, close - start);
        pos = close + 2;
    }
    if (c->num_open != 0) {
        open_section_t *o = &c->open[c->num_open - 1];
        node_t *n = &c->t->nodes[o->node];
        fail(c, o->line, "{{%c%.*s}} is never closed", n->type == NODE_SECTION ? '#' : '^', (int)n->len, c->src + n->off);
        return -1;
    }
    return 0;
}

ts_template_t *ts_template_compile(const char *src, size_t len, char *err, size_t errlen)
{
    compiler_t c = {.src = src, .len = len, .line = 1, .err = err, .errlen = errlen};

    if (err != NULL && errlen != 0)
        err[0] = '\0';
    if (len > SOURCE_MAX) {
        fail(&c, 1 + count_lines(src, SOURCE_MAX), "the template is longer than %d bytes", SOURCE_MAX);
        return NULL;
    }
    /* a NUL would end the page early for any code that takes it as a C string */
    const char *nul = memchr(src, '\0', len);
    if (nul != NULL) {
        fail(&c, 1 + count_lines(src, (size_t)(nul - src)), "NUL byte in the template");
        return NULL;
    }
    if ((c.t = calloc(1, sizeof(*c.t))) == NULL || (c.t->src = malloc(len != 0 ? len : 1)) == NULL) {
        fail(&c, 1, "out of memory");
        free(c.t);
        return NULL;
    }
    if (len != 0)
        memcpy(c.t->src, src, len); /* Flawfinder: ignore - c.t->src was allocated with len + 1 bytes */
    c.src = c.t->src;
    if (compile(&c) != 0) {
        ts_template_free(c.t);
        return NULL;
    }
    return c.t;
}

void ts_template_free(ts_template_t *t)
{
    if (t == NULL)
        return;
    free(t->src);
    free(t->nodes);
    free(t);
}

/* ---- rendering ----------------------------------------------------------------------------------------- */

typedef enum en_render_status_t { RENDER_OK, RENDER_NOMEM, RENDER_TOO_LARGE, RENDER_TOO_LONG } render_status_t;

typedef struct st_renderer_t {
    const ts_template_t *t;
    const json_t *scopes[1 + SECTION_DEPTH]; /* the vars, then one per open section */
    size_t num_scopes;
    char *buf;
    size_t len, cap;
    size_t steps;
    render_status_t status;
} renderer_t;

/* room for n more bytes and the final NUL */
static int reserve(renderer_t *r, size_t n)
{
    size_t cap;
    char *buf;

    if (n > OUTPUT_MAX - r->len) {
        r->status = RENDER_TOO_LARGE;
        return -1;
    }
    if (r->buf != NULL && r->len + n < r->cap)
        return 0;
    for (cap = r->cap != 0 ? r->cap : 4096; cap <= r->len + n; cap *= 2)
        ;
    if ((buf = realloc(r->buf, cap)) == NULL) {
        r->status = RENDER_NOMEM;
        return -1;
    }
    r->buf = buf;
    r->cap = cap;
    return 0;
}

static int append(renderer_t *r, const char *s, size_t n)
{
    if (reserve(r, n) != 0)
        return -1;
    memcpy(r->buf + r->len, s, n); /* Flawfinder: ignore - reserve() made room for n more bytes */
    r->len += n;
    return 0;
}

/* the character reference for ch, or NULL when ch is written as it is */
static const char *escape_of(unsigned char ch)
{
    switch (ch) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&quot;";
    case '\'':
        return "&#39;";
    case '`':
        return "&#96;";
    case '=':
        return "&#61;";
    case '/':
        return "&#47;";
    case '\0':
        return "\xef\xbf\xbd"; /* U+FFFD, as an HTML parser would read a NUL anyway */
    default:
        return NULL;
    }
}

static int append_escaped(renderer_t *r, const char *s, size_t n)
{
    size_t run = 0;

    for (size_t i = 0; i < n; ++i) {
        const char *ref = escape_of((unsigned char)s[i]);
        if (ref == NULL)
            continue;
        if (append(r, s + run, i - run) != 0 || append(r, ref, strlen(ref)) != 0)
            return -1;
        run = i + 1;
    }
    return append(r, s + run, n - run);
}

static int append_value(renderer_t *r, const json_t *v)
{
    char num[64];
    int n;

    switch (json_typeof(v)) {
    case JSON_STRING:
        return append_escaped(r, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        /* Flawfinder: ignore (next line) - a constant format: JSON_INTEGER_FORMAT is jansson's "lld" */
        n = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        n = snprintf(num, sizeof(num), "%g", json_real_value(v));
        break;
    default:
        return 0; /* true, false, null, objects and arrays have no text */
    }
    return append_escaped(r, num, n > 0 && (size_t)n < sizeof(num) ? (size_t)n : 0);
}

/* the length of the first member of a dotted name */
static size_t first_member(const char *name, size_t len)
{
    const char *dot = memchr(name, '.', len);
    return dot != NULL ? (size_t)(dot - name) : len;
}

/* the value of name in the scopes, innermost first; NULL when missing */
static const json_t *lookup(const renderer_t *r, const char *name, size_t len)
{
    const json_t *v = NULL;
    size_t seg;

    if (len == 1 && name[0] == '.')
        return r->scopes[r->num_scopes - 1];
    seg = first_member(name, len);
    for (size_t i = r->num_scopes; i-- > 0 && v == NULL;)
        if (json_is_object(r->scopes[i]))
            v = json_object_getn(r->scopes[i], name, seg);
    /* the rest of a dotted name is read inside the first match only, as Mustache does */
    while (v != NULL && seg < len) {
        name += seg + 1;
        len -= seg + 1;
        seg = first_member(name, len);
        v = json_is_object(v) ? json_object_getn(v, name, seg) : NULL;
    }
    return v;
}

static int is_truthy(const json_t *v)
{
    if (v == NULL)
        return 0;
    switch (json_typeof(v)) {
    case JSON_FALSE:
    case JSON_NULL:
        return 0;
    case JSON_STRING:
        return json_string_length(v) != 0;
    case JSON_ARRAY:
        return json_array_size(v) != 0;
    default:
        return 1;
    }
}

static int step(renderer_t *r)
{
    if (++r->steps > STEPS_MAX) {
        r->status = RENDER_TOO_LONG;
        return -1;
    }
    return 0;
}

static int render_nodes(renderer_t *r, size_t from, size_t to);

/* the body of a section once, with scope as its innermost scope */
/* NOLINTNEXTLINE(misc-no-recursion): sections nest at most SECTION_DEPTH deep, checked when compiling */
static int render_body(renderer_t *r, const node_t *n, size_t index, const json_t *scope)
{
    int ret;

    if (step(r) != 0)
        return -1;
    r->scopes[r->num_scopes++] = scope; /* fits: compiling bounded the nesting */
    ret = render_nodes(r, index + 1, n->end);
    r->num_scopes--;
    return ret;
}

/* NOLINTNEXTLINE(misc-no-recursion): bounded by the nesting limit, as render_body */
static int render_section(renderer_t *r, size_t index)
{
    const node_t *n = &r->t->nodes[index];
    const json_t *v = lookup(r, r->t->src + n->off, n->len);

    if (n->type == NODE_INVERTED)
        return is_truthy(v) ? 0 : render_nodes(r, index + 1, n->end);
    if (!is_truthy(v))
        return 0;
    if (!json_is_array(v))
        return render_body(r, n, index, v);
    for (size_t i = 0; i < json_array_size(v); ++i)
        if (render_body(r, n, index, json_array_get(v, i)) != 0)
            return -1;
    return 0;
}

/* NOLINTNEXTLINE(misc-no-recursion): bounded by the nesting limit, as render_body */
static int render_nodes(renderer_t *r, size_t from, size_t to)
{
    for (size_t i = from; i < to;) {
        const node_t *n = &r->t->nodes[i];
        if (step(r) != 0)
            return -1;
        switch (n->type) {
        case NODE_TEXT:
            if (append(r, r->t->src + n->off, n->len) != 0)
                return -1;
            ++i;
            break;
        case NODE_VAR: {
            const json_t *v = lookup(r, r->t->src + n->off, n->len);
            if (v != NULL && append_value(r, v) != 0)
                return -1;
            ++i;
            break;
        }
        case NODE_SECTION:
        case NODE_INVERTED:
            if (render_section(r, i) != 0)
                return -1;
            i = n->end;
            break;
        }
    }
    return 0;
}

/* ts_template_render, with the reason for a failure (tests/fuzz/fuzz_template.c checks it) */
static render_status_t render(const ts_template_t *t, const json_t *vars, char **out, size_t *outlen)
{
    renderer_t r = {.t = t, .scopes = {vars}, .num_scopes = 1};

    *out = NULL;
    *outlen = 0;
    /* reserving nothing still makes room for the NUL when nothing was written */
    if (render_nodes(&r, 0, t->num_nodes) != 0 || reserve(&r, 0) != 0) {
        free(r.buf);
        return r.status;
    }
    r.buf[r.len] = '\0';
    *out = r.buf;
    *outlen = r.len;
    return RENDER_OK;
}

int ts_template_render(const ts_template_t *t, const json_t *vars, char **out, size_t *outlen)
{
    return render(t, vars, out, outlen) == RENDER_OK ? 0 : -1;
}
