/* ts_oauth_scope_resolve (src/oauth/scope.c) on a requested scope. With three or more lines the input is
 * "allowed\ndefaults\nrequested" (allowed and defaults space-separated, as a client's registration); with
 * fewer, the whole input is requested from a fixed client. Invariants: on success the output is single-space
 * separated tokens, each once, each allowed and requested (or, when nothing is requested, the defaults),
 * every requested token granted, at most 64 of them, within the buffer; on failure, a reason. */
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
    free(s);
    return 0;
}
