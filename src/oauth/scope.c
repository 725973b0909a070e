/* Scope handling (RFC 6749 §3.3): syntax first, then policy. */
#include <string.h>
#include "tessera/oauth.h"

#define MAX_TOKENS 64
#define MAX_TOKEN_LEN 128

/* scope-token = 1*( %x21 / %x23-5B / %x5D-7E ) */
static int nqchar(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

static int already(const char *out, size_t outlen, const char *tok, size_t toklen)
{
    for (const char *p = out; p < out + outlen;) {
        const char *sp = memchr(p, ' ', (size_t)(out + outlen - p)), *end = sp != NULL ? sp : out + outlen;
        if ((size_t)(end - p) == toklen && memcmp(p, tok, toklen) == 0)
            return 1;
        p = end + 1;
    }
    return 0;
}

static ts_err_t append(char *out, size_t cap, size_t *len, const char *tok, size_t toklen, const char **why)
{
    if (*len + (*len > 0) + toklen + 1 > cap) {
        *why = "scope too long";
        return TS_ERR_INVALID_SCOPE;
    }
    if (*len > 0)
        out[(*len)++] = ' ';
    memcpy(out + *len, tok, toklen); /* Flawfinder: ignore - room checked above */
    *len += toklen;
    out[*len] = '\0';
    return TS_OK;
}

ts_err_t ts_oauth_scope_resolve(const char *requested, const ts_strs_t *allowed, const ts_strs_t *defaults, char *out, size_t cap,
                                const char **why)
{
    size_t len = 0, count = 0;
    ts_err_t err;

    out[0] = '\0';
    if (requested == NULL || *requested == '\0') {
        for (size_t i = 0; i < defaults->len; ++i)
            if ((err = append(out, cap, &len, defaults->items[i], strlen(defaults->items[i]), why)) != TS_OK)
                return err;
        return TS_OK;
    }
    if (strlen(requested) >= TS_SCOPE_MAX) {
        *why = "scope too long";
        return TS_ERR_INVALID_SCOPE;
    }
    for (const char *p = requested; *p != '\0';) {
        const char *end = p;
        while (*end != '\0' && *end != ' ')
            ++end;
        size_t n = (size_t)(end - p);
        if (n == 0 || n > MAX_TOKEN_LEN) {
            *why = n == 0 ? "malformed scope: empty scope token" : "malformed scope: scope token too long";
            return TS_ERR_INVALID_SCOPE;
        }
        for (size_t i = 0; i < n; ++i)
            if (!nqchar((unsigned char)p[i])) {
                *why = "malformed scope: character not allowed";
                return TS_ERR_INVALID_SCOPE;
            }
        char tok[MAX_TOKEN_LEN + 1];
        memcpy(tok, p, n); /* Flawfinder: ignore - n <= MAX_TOKEN_LEN checked above */
        tok[n] = '\0';
        if (!ts_strs_contains(allowed, tok)) {
            *why = "the client may not request this scope";
            return TS_ERR_INVALID_SCOPE;
        }
        if (!already(out, len, p, n)) {
            if (++count > MAX_TOKENS) {
                *why = "too many scopes";
                return TS_ERR_INVALID_SCOPE;
            }
            if ((err = append(out, cap, &len, p, n, why)) != TS_OK)
                return err;
        }
        p = *end == ' ' ? end + 1 : end;
        if (*end == ' ' && *p == '\0') {
            *why = "malformed scope: trailing space";
            return TS_ERR_INVALID_SCOPE;
        }
    }
    return TS_OK;
}

/* ---- roles (docs/roles.md) ------------------------------------------------------------------------- */

/* about the person, consented by them: never gated by a role */
static const char *const identity_scopes[] = {"openid", "profile", "email", "offline_access"};

static int strs_contains_n(const ts_strs_t *l, const char *tok, size_t n)
{
    for (size_t i = 0; i < l->len; ++i)
        if (strncmp(l->items[i], tok, n) == 0 && l->items[i][n] == '\0')
            return 1;
    return 0;
}

static int is_identity(const char *tok, size_t n)
{
    for (size_t i = 0; i < sizeof(identity_scopes) / sizeof(identity_scopes[0]); ++i)
        if (strncmp(identity_scopes[i], tok, n) == 0 && identity_scopes[i][n] == '\0')
            return 1;
    return 0;
}

/* some role of the directory lists the scope */
static int gated(const ts_directory_t *dir, const char *tok, size_t n)
{
    for (size_t i = 0; i < dir->roles.capacity; ++i) {
        const ts_role_t *r = dir->roles.slots[i].value;
        if (dir->roles.slots[i].key != NULL && strs_contains_n(&r->scopes, tok, n))
            return 1;
    }
    return 0;
}

/* one of the subject's roles (names; unknown ones grant nothing) lists the scope */
static int held(const ts_directory_t *dir, const ts_strs_t *roles, const char *tok, size_t n)
{
    for (size_t i = 0; roles != NULL && i < roles->len; ++i) {
        const ts_role_t *r = ts_directory_role(dir, roles->items[i]);
        if (r != NULL && strs_contains_n(&r->scopes, tok, n))
            return 1;
    }
    return 0;
}

ts_err_t ts_oauth_scope_for_roles(const ts_directory_t *dir, const char *scope, const ts_strs_t *roles, char *out, size_t cap)
{
    const char *why;
    size_t len = 0;
    ts_err_t err;

    if (cap == 0)
        return TS_ERR_INVALID_SCOPE;
    out[0] = '\0';
    for (const char *p = scope != NULL ? scope : ""; *p != '\0';) {
        size_t n = strcspn(p, " ");
        int keep = is_identity(p, n) || dir == NULL || !gated(dir, p, n) || held(dir, roles, p, n);
        if (n != 0 && keep && !already(out, len, p, n) && (err = append(out, cap, &len, p, n, &why)) != TS_OK)
            return err;
        p += n + (p[n] == ' ');
    }
    return TS_OK;
}
