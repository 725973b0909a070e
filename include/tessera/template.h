#ifndef TESSERA_TEMPLATE_H
#define TESSERA_TEMPLATE_H

/* The HTML pages (login, consent, error, logout) from templates/: a small Mustache-like language in which
 * every substitution is HTML-escaped and there is no way to write raw text into the page. Templates are
 * compiled once at start-up (a syntax error stops the server there, not at the first login); rendering
 * never fails on data, only on memory.
 *
 * Syntax: {{name}} the escaped value (strings as they are, integers in decimal, true/false/null: empty);
 * {{#name}}...{{/name}} the body once for true / a non-empty string / a number / an object (whose members
 * are then looked up first), once per element of an array (the element being the innermost scope, {{.}}
 * naming it), never for false / null / "" / [] / a missing name; {{^name}}...{{/name}} the body only when
 * {{#name}} would not render it; {{! comment }}. Names are [A-Za-z0-9_.-]{1,64}; sections nest up to 8 deep.
 * Escaping: & < > " ' ` = / become character references, so a value is safe in text and in quoted
 * attributes. Nothing is ever emitted unescaped (no {{{ }}} and no {{& }}: they are syntax errors). */
#include <stddef.h>
#include <jansson.h>

typedef struct st_ts_template_t ts_template_t;

/** compiles src; NULL with a message (naming the line) in err on a syntax error */
ts_template_t *ts_template_compile(const char *src, size_t len, char *err, size_t errlen);
/** renders with vars (a JSON object; NULL: none) into a malloc'd NUL-terminated string. 0, or -1 when memory
 *  runs out or the output would pass 1 MiB (or the rendering about a million steps: nested sections over
 *  large arrays) */
int ts_template_render(const ts_template_t *t, const json_t *vars, char **out, size_t *outlen);
void ts_template_free(ts_template_t *t);

/* The page set. */
typedef enum en_ts_page_t { TS_PAGE_LOGIN, TS_PAGE_CONSENT, TS_PAGE_ERROR, TS_PAGE_LOGOUT, TS_PAGE__COUNT } ts_page_t;

typedef struct st_ts_pages_t {
    ts_template_t *pages[TS_PAGE__COUNT];
    char *stylesheet; /* templates/style.css, served at /assets/style.css */
    size_t stylesheet_len;
} ts_pages_t;

/** compiles the pages built into the binary (templates/ at build time), or, when dir is non-NULL and
 *  non-empty, the files login.html, consent.html, error.html, logout.html and style.css from dir (for
 *  operators who restyle them). NULL with err when a file is missing or does not compile. */
ts_pages_t *ts_pages_load(const char *dir, char *err, size_t errlen);
void ts_pages_free(ts_pages_t *p);

#endif
