/* ts_oauth_scope_resolve (src/oauth/scope.c) on a requested scope. With three or more lines the input is
 * "allowed\ndefaults\nrequested" (allowed and defaults space-separated, as a client's registration); with
 * fewer, the whole input is requested from a fixed client. Invariants: on success the output is single-space
 * separated tokens, each once, each allowed and requested (or, when nothing is requested, the defaults),
 * every requested token granted, at most 64 of them, within the buffer; on failure, a reason. The requested
 * scope also goes through ts_oauth_scope_for_roles (check_roles). */
#include "fuzz.h"
#include "tessera/oauth.h"

#define MAX_LIST 80

static const char *fixed_allowed[] = {"openid", "profile", "email", "api:read", "api:write", "offline_access", "a", "b"};
static const char *fixed_defaults[] = {"api:read", "profile"};

static int listed(const char *const *items, size_t n, const char *tok, size_t len)
{
    for (size_t i = 0; i < n; ++i)
        if (strlen(items[i]) == len && memcmp(items[i], tok, len) == 0)
            return 1;
    return 0;
}

/* splits s (modified) at spaces into items, skipping empty tokens */
static size_t tokens(char *s, const char **items, size_t max)
{
    char *parts[MAX_LIST];
    size_t n = 0, k = fuzz_split(s, ' ', parts, max);

    for (size_t i = 0; i < k; ++i)
        if (*parts[i] != '\0')
            items[n++] = parts[i];
    return n;
}

static void check(const char *requested, const ts_strs_t *allowed, const ts_strs_t *defaults)
{
    char *out = malloc(TS_SCOPE_MAX); /* exactly sized: ASan sees an overrun */
    const char *why = NULL, *req_tokens[TS_SCOPE_MAX];
    size_t nreq = 0, count = 0;
    ts_err_t err;

    FUZZ_ASSERT(out != NULL);
    err = ts_oauth_scope_resolve(requested, allowed, defaults, out, TS_SCOPE_MAX, &why);
    if (err != TS_OK) {
        FUZZ_ASSERT(err == TS_ERR_INVALID_SCOPE && why != NULL);
        free(out);
        return;
    }
    FUZZ_ASSERT(strlen(out) < TS_SCOPE_MAX);
    if (requested != NULL && *requested != '\0') {
        /* every requested token is well-formed and granted */
        char *copy = strdup(requested);
        char *parts[TS_SCOPE_MAX];
        FUZZ_ASSERT(copy != NULL);
        nreq = fuzz_split(copy, ' ', parts, TS_SCOPE_MAX);
        for (size_t i = 0; i < nreq; ++i) {
            size_t len = strlen(parts[i]);
            FUZZ_ASSERT(len > 0 && len <= 128);
            for (size_t k = 0; k < len; ++k)
                FUZZ_ASSERT(parts[i][k] == 0x21 || (parts[i][k] >= 0x23 && parts[i][k] <= 0x5b) ||
                            (parts[i][k] >= 0x5d && parts[i][k] <= 0x7e));
            FUZZ_ASSERT(listed(allowed->items, allowed->len, parts[i], len));
            req_tokens[i] = parts[i];
        }
        for (const char *p = out; *p != '\0';) {
            size_t len = strcspn(p, " ");
            FUZZ_ASSERT(listed(req_tokens, nreq, p, len));
            p += len + (p[len] == ' ');
        }
        for (size_t i = 0; i < nreq; ++i) {
            int found = 0;
            for (const char *p = out; *p != '\0' && !found;) {
                size_t len = strcspn(p, " ");
                found = len == strlen(req_tokens[i]) && memcmp(p, req_tokens[i], len) == 0;
                p += len + (p[len] == ' ');
            }
            FUZZ_ASSERT(found);
        }
        free(copy);
    }
    /* single spaces between non-empty tokens, none repeated when requested */
    FUZZ_ASSERT(out[0] != ' ' && (out[0] == '\0' || out[strlen(out) - 1] != ' ') && strstr(out, "  ") == NULL);
    for (const char *p = out; *p != '\0'; ++count) {
        size_t len = strcspn(p, " ");
        if (requested != NULL && *requested != '\0') {
            FUZZ_ASSERT(listed(allowed->items, allowed->len, p, len));
            for (const char *q = p + len + (p[len] == ' '); *q != '\0';) {
                size_t qlen = strcspn(q, " ");
                FUZZ_ASSERT(qlen != len || memcmp(p, q, len) != 0);
                q += qlen + (q[qlen] == ' ');
            }
        } else {
            FUZZ_ASSERT(listed(defaults->items, defaults->len, p, len));
        }
        p += len + (p[len] == ' ');
    }
    FUZZ_ASSERT(requested == NULL || *requested == '\0' || count <= 64);
    free(out);
}

/* ts_oauth_scope_for_roles on scope, for a subject holding the role "held" of a fixed directory. Invariants: the
 * output is the input's tokens in order, each once, less exactly the gated ones (listed by a role) that "held"
 * does not list; the identity scopes are never taken out. */
static const char *held_scopes[] = {"b", "api:read"}, *other_scopes[] = {"api:write", "a", "openid", "b"};
static const char *subject_roles[] = {"held", "missing"};

static ts_directory_t *roles_dir(void)
{
    static ts_directory_t *d;
    static ts_role_t held = {"held", {held_scopes, 2}}, other = {"other", {other_scopes, 4}};

    if (d == NULL) {
        FUZZ_ASSERT((d = ts_directory_create()) != NULL);
        FUZZ_ASSERT(ts_strmap_put(&d->roles, held.name, strlen(held.name), &held) == 0);
        FUZZ_ASSERT(ts_strmap_put(&d->roles, other.name, strlen(other.name), &other) == 0);
    }
    return d;
}

static void check_roles(const char *scope)
{
    static const ts_strs_t roles = {subject_roles, 2};
    char *out = malloc(TS_SCOPE_MAX); /* exactly sized: ASan sees an overrun */
    const char *kept[TS_SCOPE_MAX];
    size_t nkept = 0;
    ts_err_t err;

    FUZZ_ASSERT(out != NULL);
    err = ts_oauth_scope_for_roles(roles_dir(), scope, &roles, out, TS_SCOPE_MAX);
    if (err != TS_OK) {
        FUZZ_ASSERT(err == TS_ERR_INVALID_SCOPE && strlen(scope) >= TS_SCOPE_MAX);
        free(out);
        return;
    }
    FUZZ_ASSERT(strlen(out) <= strlen(scope) && strstr(out, "  ") == NULL && out[0] != ' ');
    /* which input tokens must be kept: the first of each, unless gated and not held */
    for (const char *p = scope; *p != '\0';) {
        size_t len = strcspn(p, " ");
        int identity = listed((const char *[]){"openid", "profile", "email", "offline_access"}, 4, p, len);
        int gated = listed(held_scopes, 2, p, len) || listed(other_scopes, 4, p, len);
        int seen = 0;
        for (size_t i = 0; i < nkept && !seen; ++i)
            seen = strcspn(kept[i], " ") == len && memcmp(kept[i], p, len) == 0;
        if (len != 0 && (identity || !gated || listed(held_scopes, 2, p, len)) && !seen)
            kept[nkept++] = p;
        p += len + (p[len] == ' ');
    }
    /* the output is exactly those, in order */
    const char *p = out;
    for (size_t i = 0; i < nkept; ++i) {
        size_t len = strcspn(kept[i], " ");
        FUZZ_ASSERT(strncmp(p, kept[i], len) == 0 && (p[len] == ' ' || p[len] == '\0'));
        p += len + (p[len] == ' ');
    }
    FUZZ_ASSERT(*p == '\0');
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size), *lines[3];
    const char *allowed_items[MAX_LIST], *default_items[MAX_LIST];
    ts_strs_t allowed = {fixed_allowed, sizeof(fixed_allowed) / sizeof(fixed_allowed[0])};
    ts_strs_t defaults = {fixed_defaults, sizeof(fixed_defaults) / sizeof(fixed_defaults[0])};
    const char *requested = s;

    const char *nl = strchr(s, '\n');

    if (nl != NULL && strchr(nl + 1, '\n') != NULL) {
        fuzz_split(s, '\n', lines, 3);
        allowed = (ts_strs_t){allowed_items, tokens(lines[0], allowed_items, MAX_LIST)};
        defaults = (ts_strs_t){default_items, tokens(lines[1], default_items, MAX_LIST)};
        requested = lines[2];
    }
    check(requested, &allowed, &defaults);
    check(NULL, &allowed, &defaults);
    check_roles(requested);
    free(s);
    return 0;
}
