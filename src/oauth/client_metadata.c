/* Validation of client metadata and of user and role names, before anything reaches the database.
 * The rules follow RFC 6749 §3.1.2 and §3.3, RFC 8252 §7 and RFC 9700 §2.1 (exact redirect URIs). */
#include <stdio.h>
#include <string.h>
#include "tessera/crypto.h"
#include "tessera/oauth_metadata.h"
#include "tessera/errmsg.h"

/* shown in messages instead of a whole value, so that a long or odd value cannot flood the terminal */
#define SHOWN 80

static int is_alpha(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_hex(int c)
{
    return is_digit(c) || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
}

static int ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int equal_nocase(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    if (alen != blen)
        return 0;
    for (size_t i = 0; i < alen; ++i)
        if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
            return 0;
    return 1;
}

/* every byte of s is in set (an ASCII class given as a predicate) and 1 <= len <= max */
static int matches_class(const char *s, size_t max, int (*in_class)(int))
{
    size_t n = 0;
    for (; s[n] != '\0'; ++n)
        if (n >= max || !in_class((unsigned char)s[n]))
            return 0;
    return n > 0;
}

static int client_id_char(int c)
{
    return is_alpha(c) || is_digit(c) || c == '.' || c == '_' || c == '~' || c == '-';
}

static int username_char(int c)
{
    return is_alpha(c) || is_digit(c) || c == '.' || c == '_' || c == '@' || c == '+' || c == '-';
}

static int role_name_char(int c)
{
    return (c >= 'a' && c <= 'z') || is_digit(c) || c == '.' || c == '_' || c == ':' || c == '-';
}

int ts_oauth_check_client_id(const char *client_id, char *err, size_t errlen)
{
    if (client_id == NULL || *client_id == '\0')
        return ts_fail(err, errlen, "client_id: required");
    if (!matches_class(client_id, TS_CLIENT_ID_MAX, client_id_char))
        return ts_fail(err, errlen, "client_id: use 1 to %d characters from A-Z a-z 0-9 . _ ~ -", TS_CLIENT_ID_MAX);
    return 0;
}

int ts_oauth_check_username(const char *field, const char *username, char *err, size_t errlen)
{
    if (username == NULL || *username == '\0')
        return ts_fail(err, errlen, "%s: required", field);
    if (!matches_class(username, TS_USERNAME_MAX, username_char))
        return ts_fail(err, errlen, "%s: use 1 to %d characters from A-Z a-z 0-9 . _ @ + -", field, TS_USERNAME_MAX);
    return 0;
}

int ts_oauth_check_role_name(const char *field, const char *name, char *err, size_t errlen)
{
    if (name == NULL || *name == '\0')
        return ts_fail(err, errlen, "%s: required", field);
    if (!matches_class(name, TS_ROLE_NAME_MAX, role_name_char))
        return ts_fail(err, errlen, "%s: use 1 to %d characters from a-z 0-9 . _ : -", field, TS_ROLE_NAME_MAX);
    return 0;
}

/* Decodes one UTF-8 sequence at s (strict: no overlong forms, no surrogates); returns its length or 0. */
static size_t utf8_decode(const unsigned char *s, unsigned *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if (s[0] >= 0xc2 && s[0] <= 0xdf && (s[1] & 0xc0) == 0x80) {
        *cp = ((s[0] & 0x1fu) << 6) | (s[1] & 0x3fu);
        return 2;
    }
    if (s[0] >= 0xe0 && s[0] <= 0xef && (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80) {
        *cp = ((s[0] & 0x0fu) << 12) | ((s[1] & 0x3fu) << 6) | (s[2] & 0x3fu);
        return *cp >= 0x800 && (*cp < 0xd800 || *cp > 0xdfff) ? 3 : 0;
    }
    if (s[0] >= 0xf0 && s[0] <= 0xf4 && (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80) {
        *cp = ((s[0] & 0x07u) << 18) | ((s[1] & 0x3fu) << 12) | ((s[2] & 0x3fu) << 6) | (s[3] & 0x3fu);
        return *cp >= 0x10000 && *cp <= 0x10ffff ? 4 : 0;
    }
    return 0;
}

int ts_oauth_check_text(const char *field, const char *text, size_t max, char *err, size_t errlen)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t chars = 0, n;
    unsigned cp;

    if (text == NULL || *text == '\0')
        return ts_fail(err, errlen, "%s: must not be empty", field);
    for (; *p != '\0'; p += n) {
        if ((n = utf8_decode(p, &cp)) == 0)
            return ts_fail(err, errlen, "%s: not valid UTF-8", field);
        /* C0/C1 controls and bidirectional overrides could rewrite what an operator sees in a terminal or page */
        if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
            return ts_fail(err, errlen, "%s: must not contain control characters", field);
        if (++chars > max)
            return ts_fail(err, errlen, "%s: longer than %zu characters", field, max);
    }
    return 0;
}

int ts_oauth_check_email(const char *field, const char *email, char *err, size_t errlen)
{
    const char *at;

    if (email == NULL || *email == '\0')
        return ts_fail(err, errlen, "%s: must not be empty", field);
    if (strlen(email) > TS_EMAIL_MAX)
        return ts_fail(err, errlen, "%s: longer than %d characters", field, TS_EMAIL_MAX);
    for (const unsigned char *p = (const unsigned char *)email; *p != '\0'; ++p)
        if (*p <= 0x20 || *p == 0x7f)
            return ts_fail(err, errlen, "%s: must not contain whitespace or control characters", field);
    at = strrchr(email, '@');
    if (at == NULL || at == email || at[1] == '\0' || strchr(email, '@') != at)
        return ts_fail(err, errlen, "%s: expected an address like name@example.com", field);
    return 0;
}

/* ---- redirect URIs ------------------------------------------------------------------------------- */

/* RFC 3986 allows these and nothing else (unreserved, gen-delims, sub-delims, '%'): bytes outside it
 * (space, quotes, '<', '\', non-ASCII, ...) are where browsers and parsers start to disagree. */
static int uri_char(int c)
{
    if (c <= 0x20 || c >= 0x7f)
        return 0;
    return strchr("\"<>\\^`{|}", c) == NULL;
}

static int host_char(int c)
{
    return is_alpha(c) || is_digit(c) || c == '.' || c == '-' || c == '_' || c == '~';
}

/* scheme "://" authority: checks host and port and refuses userinfo. loopback_only restricts the host to
 * the ones RFC 8252 §7.3 allows for plain http. */
static int check_authority(const char *field, const char *uri, const char *rest, int loopback_only, char *err, size_t errlen)
{
    const char *auth, *host_end, *end;
    size_t alen;

    if (strncmp(rest, "//", 2) != 0)
        return ts_fail(err, errlen, "%s: '%.*s' needs a host (scheme://host/path)", field, SHOWN, uri);
    auth = rest + 2;
    alen = strcspn(auth, "/?");
    end = auth + alen;
    if (memchr(auth, '@', alen) != NULL)
        return ts_fail(err, errlen, "%s: '%.*s' must not contain userinfo (user@host)", field, SHOWN, uri);
    if (alen == 0)
        return ts_fail(err, errlen, "%s: '%.*s' needs a host (scheme://host/path)", field, SHOWN, uri);
    if (auth[0] == '[') {
        const char *close = memchr(auth, ']', alen);
        if (close == NULL || close == auth + 1)
            return ts_fail(err, errlen, "%s: '%.*s' has a malformed IPv6 host", field, SHOWN, uri);
        for (const char *p = auth + 1; p < close; ++p)
            if (!is_hex((unsigned char)*p) && *p != ':' && *p != '.')
                return ts_fail(err, errlen, "%s: '%.*s' has a malformed IPv6 host", field, SHOWN, uri);
        host_end = close + 1;
    } else {
        const char *colon = memchr(auth, ':', alen);
        host_end = colon != NULL ? colon : end;
        if (host_end == auth)
            return ts_fail(err, errlen, "%s: '%.*s' needs a host (scheme://host/path)", field, SHOWN, uri);
        for (const char *p = auth; p < host_end; ++p)
            if (!host_char((unsigned char)*p))
                return ts_fail(err, errlen, "%s: '%.*s' has a host with characters outside A-Z a-z 0-9 . - _ ~", field, SHOWN, uri);
    }
    if (host_end < end) {
        unsigned long port = 0;
        const char *p = host_end + 1;
        if (*host_end != ':' || p == end || end - p > 5)
            return ts_fail(err, errlen, "%s: '%.*s' has a malformed port", field, SHOWN, uri);
        for (; p < end; ++p) {
            if (!is_digit((unsigned char)*p))
                return ts_fail(err, errlen, "%s: '%.*s' has a malformed port", field, SHOWN, uri);
            port = port * 10 + (unsigned long)(*p - '0');
        }
        if (port == 0 || port > 65535)
            return ts_fail(err, errlen, "%s: '%.*s' has a port outside 1-65535", field, SHOWN, uri);
    }
    if (loopback_only) {
        size_t hlen = (size_t)(host_end - auth);
        if (!equal_nocase(auth, hlen, "127.0.0.1") && !equal_nocase(auth, hlen, "[::1]") && !equal_nocase(auth, hlen, "localhost"))
            return ts_fail(err, errlen,
                        "%s: '%.*s' uses http, which is allowed only for 127.0.0.1, [::1] or localhost; use https",
                        field, SHOWN, uri);
    }
    return 0;
}

int ts_oauth_check_redirect_uri(const char *field, const char *uri, char *err, size_t errlen)
{
    size_t len, slen;

    if (uri == NULL || *uri == '\0')
        return ts_fail(err, errlen, "%s: must not be empty", field);
    if ((len = strlen(uri)) > TS_REDIRECT_URI_MAX)
        return ts_fail(err, errlen, "%s: longer than %d characters", field, TS_REDIRECT_URI_MAX);
    /* nothing of the value is echoed until every byte is known to be printable */
    for (size_t i = 0; i < len; ++i) {
        unsigned char c = (unsigned char)uri[i];
        if (!uri_char(c))
            return ts_fail(err, errlen, "%s: contains whitespace, a control character or a character not allowed in a URI "
                        "(at offset %zu)", field, i);
        if (c == '%' && (!is_hex((unsigned char)uri[i + 1]) || !is_hex((unsigned char)uri[i + 2])))
            return ts_fail(err, errlen, "%s: '%.*s' has a '%%' that does not start a %%XX escape", field, SHOWN, uri);
    }
    if (strchr(uri, '#') != NULL)
        return ts_fail(err, errlen, "%s: '%.*s' must not contain a fragment ('#')", field, SHOWN, uri);
    if (strchr(uri, '*') != NULL)
        return ts_fail(err, errlen, "%s: '%.*s' contains '*': wildcards are not supported, register each URI exactly", field,
                    SHOWN, uri);
    if (!is_alpha((unsigned char)uri[0]))
        return ts_fail(err, errlen, "%s: '%.*s' is not an absolute URI (scheme:...)", field, SHOWN, uri);
    for (slen = 1; is_alpha((unsigned char)uri[slen]) || is_digit((unsigned char)uri[slen]) || uri[slen] == '+' ||
                   uri[slen] == '-' || uri[slen] == '.';
         ++slen)
        ;
    if (uri[slen] != ':')
        return ts_fail(err, errlen, "%s: '%.*s' is not an absolute URI (scheme:...)", field, SHOWN, uri);

    const char *rest = uri + slen + 1;
    if (equal_nocase(uri, slen, "https"))
        return check_authority(field, uri, rest, 0, err, errlen);
    if (equal_nocase(uri, slen, "http"))
        return check_authority(field, uri, rest, 1, err, errlen);
    if (memchr(uri, '.', slen) != NULL) {
        /* RFC 8252 §7.1: com.example.app:/callback; an authority, when present, still may not carry userinfo */
        if (*rest == '\0' || strcmp(rest, "/") == 0 || strcmp(rest, "//") == 0)
            return ts_fail(err, errlen, "%s: '%.*s' needs a path after the scheme, like com.example.app:/callback", field, SHOWN,
                        uri);
        if (strncmp(rest, "//", 2) == 0 && memchr(rest + 2, '@', strcspn(rest + 2, "/?")) != NULL)
            return ts_fail(err, errlen, "%s: '%.*s' must not contain userinfo (user@host)", field, SHOWN, uri);
        return 0;
    }
    return ts_fail(err, errlen,
                "%s: scheme '%.*s' is not allowed: use https, http on 127.0.0.1, [::1] or localhost, or a private-use "
                "scheme containing a dot such as com.example.app:/callback (RFC 8252 section 7.1)",
                field, (int)(slen < SHOWN ? slen : SHOWN), uri);
}

/* ---- scopes -------------------------------------------------------------------------------------- */

/* RFC 6749 §3.3: NQCHAR = %x21 / %x23-5B / %x5D-7E */
static int nqchar(int c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

typedef struct st_token_t {
    const char *s;
    size_t len;
} token_t;

/* checks one token and that it is not among the count already seen; adds it to seen */
static int check_scope_token(const char *field, const char *tok, size_t len, token_t *seen, size_t *count, char *err, size_t errlen)
{
    if (len == 0)
        return ts_fail(err, errlen, "%s: empty scope token (separate scopes with single spaces, without leading or trailing "
                    "spaces)", field);
    for (size_t i = 0; i < len; ++i)
        if (!nqchar((unsigned char)tok[i]))
            return ts_fail(err, errlen, "%s: a scope may contain only printable ASCII other than space, '\"' and '\\' "
                        "(RFC 6749 section 3.3)", field);
    if (len > TS_SCOPE_TOKEN_MAX)
        return ts_fail(err, errlen, "%s: scope '%.*s...' is longer than %d characters", field, 40, tok, TS_SCOPE_TOKEN_MAX);
    for (size_t i = 0; i < *count; ++i)
        if (seen[i].len == len && memcmp(seen[i].s, tok, len) == 0)
            return ts_fail(err, errlen, "%s: scope '%.*s' is listed twice", field, (int)len, tok);
    if (*count >= TS_SCOPE_TOKENS_MAX)
        return ts_fail(err, errlen, "%s: more than %d scopes", field, TS_SCOPE_TOKENS_MAX);
    seen[*count].s = tok;
    seen[*count].len = len;
    ++*count;
    return 0;
}

/* splits scope into seen (at most TS_SCOPE_TOKENS_MAX) while checking it */
static int split_scope(const char *field, const char *scope, token_t *seen, size_t *count, char *err, size_t errlen)
{
    const char *p = scope;

    *count = 0;
    if (scope == NULL || *scope == '\0')
        return ts_fail(err, errlen, "%s: must not be empty (leave it out for none)", field);
    for (;;) {
        size_t n = strcspn(p, " ");
        if (check_scope_token(field, p, n, seen, count, err, errlen) != 0)
            return -1;
        if (p[n] == '\0')
            return 0;
        p += n + 1;
    }
}

int ts_oauth_check_scope(const char *field, const char *scope, char *err, size_t errlen)
{
    token_t seen[TS_SCOPE_TOKENS_MAX];
    size_t count;
    return split_scope(field, scope, seen, &count, err, errlen);
}

int ts_oauth_check_scope_list(const char *field, const char *const *scopes, size_t n, char *err, size_t errlen)
{
    token_t seen[TS_SCOPE_TOKENS_MAX];
    size_t count = 0;
    char item[64];

    for (size_t i = 0; i < n; ++i) {
        snprintf(item, sizeof(item), "%s[%zu]", field, i);
        if (scopes[i] == NULL || strchr(scopes[i], ' ') != NULL)
            return ts_fail(err, errlen, "%s: one scope per item, without spaces", item);
        if (check_scope_token(item, scopes[i], strlen(scopes[i]), seen, &count, err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* ---- grant types, authentication methods, secrets, keys ----------------------------------------- */

static const char *const grant_types[] = {"authorization_code", "client_credentials", "refresh_token"};
static const char *const auth_methods[] = {"client_secret_basic", "client_secret_post", "private_key_jwt", "none"};

static int one_of(const char *s, const char *const *set, size_t n)
{
    for (size_t i = 0; s != NULL && i < n; ++i)
        if (strcmp(s, set[i]) == 0)
            return 1;
    return 0;
}

static int has(const char *const *list, size_t n, const char *s)
{
    return one_of(s, list, n);
}

int ts_oauth_check_grant_type(const char *field, const char *grant_type, char *err, size_t errlen)
{
    if (one_of(grant_type, grant_types, sizeof(grant_types) / sizeof(grant_types[0])))
        return 0;
    if (grant_type != NULL && (strcmp(grant_type, "implicit") == 0 || strcmp(grant_type, "password") == 0))
        return ts_fail(err, errlen, "%s: the %s grant is not supported (RFC 9700 section 2.1.2 and 2.4 advise against it)", field,
                    grant_type);
    return ts_fail(err, errlen, "%s: expected authorization_code, client_credentials or refresh_token", field);
}

int ts_oauth_check_auth_method(const char *field, const char *method, char *err, size_t errlen)
{
    if (one_of(method, auth_methods, sizeof(auth_methods) / sizeof(auth_methods[0])))
        return 0;
    return ts_fail(err, errlen, "%s: expected client_secret_basic, client_secret_post, private_key_jwt or none", field);
}

int ts_oauth_auth_method_uses_secret(const char *method)
{
    return method == NULL || strcmp(method, "client_secret_basic") == 0 || strcmp(method, "client_secret_post") == 0;
}

int ts_oauth_check_client_secret(const char *field, const char *secret, char *err, size_t errlen)
{
    size_t len;

    if (secret == NULL)
        return ts_fail(err, errlen, "%s: required", field);
    len = strlen(secret);
    if (len < TS_CLIENT_SECRET_MIN)
        return ts_fail(err, errlen, "%s: shorter than %d characters; generate one with `openssl rand -base64 32`", field,
                    TS_CLIENT_SECRET_MIN);
    if (len > TS_CLIENT_SECRET_MAX)
        return ts_fail(err, errlen, "%s: longer than %d characters", field, TS_CLIENT_SECRET_MAX);
    for (size_t i = 0; i < len; ++i)
        if ((unsigned char)secret[i] <= 0x20 || (unsigned char)secret[i] >= 0x7f)
            return ts_fail(err, errlen, "%s: only visible ASCII characters (no spaces) are allowed", field);
    return 0;
}

/* members that only a private or symmetric JWK has (RFC 7518 §6.2.2, §6.3.2, §6.4.1) */
static const char *const private_members[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};

int ts_oauth_check_jwks(const char *field, const json_t *jwks, size_t *usable, char *err, size_t errlen)
{
    const json_t *keys, *key;
    size_t i, good = 0;

    if (usable != NULL)
        *usable = 0;
    if (!json_is_object(jwks))
        return ts_fail(err, errlen, "%s: must be a JWK Set, {\"keys\": [...]}", field);
    keys = json_object_get(jwks, "keys");
    if (!json_is_array(keys))
        return ts_fail(err, errlen, "%s: must be a JWK Set with a \"keys\" array", field);
    if (json_array_size(keys) == 0)
        return ts_fail(err, errlen, "%s: has no keys", field);
    if (json_array_size(keys) > TS_JWKS_KEYS_MAX)
        return ts_fail(err, errlen, "%s: more than %d keys", field, TS_JWKS_KEYS_MAX);
    json_array_foreach(keys, i, key) {
        if (!json_is_object(key))
            return ts_fail(err, errlen, "%s.keys[%zu]: must be an object", field, i);
        for (size_t m = 0; m < sizeof(private_members) / sizeof(private_members[0]); ++m)
            if (json_object_get(key, private_members[m]) != NULL)
                return ts_fail(err, errlen, "%s.keys[%zu]: contains private key material (\"%s\"); register only the public key",
                            field, i, private_members[m]);
        ts_key_t *k = ts_key_import_jwk(key);
        if (k != NULL) {
            ++good;
            ts_key_free(k);
        }
    }
    if (usable != NULL)
        *usable = good;
    return 0;
}

/* ---- the whole client ---------------------------------------------------------------------------- */

static int check_uri_list(const char *field, const char *const *uris, size_t n, char *err, size_t errlen)
{
    char item[64];

    if (n > TS_REDIRECT_URIS_MAX)
        return ts_fail(err, errlen, "%s: more than %d URIs", field, TS_REDIRECT_URIS_MAX);
    for (size_t i = 0; i < n; ++i) {
        snprintf(item, sizeof(item), "%s[%zu]", field, i);
        if (ts_oauth_check_redirect_uri(item, uris[i], err, errlen) != 0)
            return -1;
        for (size_t j = 0; j < i; ++j)
            if (strcmp(uris[i], uris[j]) == 0)
                return ts_fail(err, errlen, "%s: '%.*s' is listed twice", item, SHOWN, uris[i]);
    }
    return 0;
}

static int check_grant_types(const ts_client_metadata_t *md, char *err, size_t errlen)
{
    char item[64];

    if (md->num_grant_types == 0)
        return ts_fail(err, errlen, "grant_types: at least one grant type is needed");
    for (size_t i = 0; i < md->num_grant_types; ++i) {
        snprintf(item, sizeof(item), "grant_types[%zu]", i);
        if (ts_oauth_check_grant_type(item, md->grant_types[i], err, errlen) != 0)
            return -1;
        if (has(md->grant_types, i, md->grant_types[i]))
            return ts_fail(err, errlen, "%s: %s is listed twice", item, md->grant_types[i]);
    }
    return 0;
}

static int check_scopes(const ts_client_metadata_t *md, char *err, size_t errlen)
{
    token_t allowed[TS_SCOPE_TOKENS_MAX], defaults[TS_SCOPE_TOKENS_MAX];
    size_t nallowed = 0, ndefaults = 0;

    if (md->scope != NULL && split_scope("scope", md->scope, allowed, &nallowed, err, errlen) != 0)
        return -1;
    if (md->default_scope == NULL)
        return 0;
    if (split_scope("default_scope", md->default_scope, defaults, &ndefaults, err, errlen) != 0)
        return -1;
    /* a default the client may not ask for itself would widen what it gets by asking for nothing */
    for (size_t i = 0; i < ndefaults; ++i) {
        size_t j;
        for (j = 0; j < nallowed; ++j)
            if (allowed[j].len == defaults[i].len && memcmp(allowed[j].s, defaults[i].s, defaults[i].len) == 0)
                break;
        if (j == nallowed)
            return ts_fail(err, errlen, "default_scope: '%.*s' is not among the client's allowed scopes (scope)",
                        (int)defaults[i].len, defaults[i].s);
    }
    return 0;
}

static int check_rules(const ts_client_metadata_t *md, const char *method, size_t usable_keys, char *err, size_t errlen)
{
    int code = has(md->grant_types, md->num_grant_types, "authorization_code");

    if (strcmp(method, "none") == 0) {
        if (has(md->grant_types, md->num_grant_types, "client_credentials"))
            return ts_fail(err, errlen, "grant_types: client_credentials needs an authenticated client; "
                        "token_endpoint_auth_method none cannot use it");
        /* RFC 9700 §2.1.1: public clients MUST use PKCE */
        if (!md->require_pkce)
            return ts_fail(err, errlen, "require_pkce: a public client (token_endpoint_auth_method none) must use PKCE");
    }
    if (code && md->num_redirect_uris == 0)
        return ts_fail(err, errlen, "redirect_uris: the authorization_code grant needs at least one redirect URI");
    /* RFC 6749 §4.4.3: client_credentials issues no refresh token, so refresh_token alone could never be used */
    if (has(md->grant_types, md->num_grant_types, "refresh_token") && !code)
        return ts_fail(err, errlen, "grant_types: refresh_token needs authorization_code");
    if (strcmp(method, "private_key_jwt") == 0) {
        if (md->jwks == NULL)
            return ts_fail(err, errlen, "jwks: private_key_jwt needs the client's public keys");
        if (usable_keys == 0)
            return ts_fail(err, errlen, "jwks: no key is a usable RS256 or ES256 signing key (RSA >= 2048 bits or EC P-256)");
    }
    if (md->client_secret != NULL && !ts_oauth_auth_method_uses_secret(method))
        return ts_fail(err, errlen, "client_secret: token_endpoint_auth_method %s does not use a client secret", method);
    return 0;
}

int ts_oauth_check_client_metadata(const ts_client_metadata_t *md, char *err, size_t errlen)
{
    const char *method = md->token_endpoint_auth_method != NULL ? md->token_endpoint_auth_method : "client_secret_basic";
    size_t usable_keys = 0;

    if (ts_oauth_check_client_id(md->client_id, err, errlen) != 0)
        return -1;
    if (md->client_name != NULL && ts_oauth_check_text("client_name", md->client_name, TS_CLIENT_NAME_MAX, err, errlen) != 0)
        return -1;
    if (ts_oauth_check_auth_method("token_endpoint_auth_method", method, err, errlen) != 0)
        return -1;
    if (check_grant_types(md, err, errlen) != 0)
        return -1;
    if (check_uri_list("redirect_uris", md->redirect_uris, md->num_redirect_uris, err, errlen) != 0 ||
        check_uri_list("post_logout_redirect_uris", md->post_logout_redirect_uris, md->num_post_logout_redirect_uris, err,
                       errlen) != 0)
        return -1;
    if (check_scopes(md, err, errlen) != 0)
        return -1;
    if (md->jwks != NULL && ts_oauth_check_jwks("jwks", md->jwks, &usable_keys, err, errlen) != 0)
        return -1;
    if (md->client_secret != NULL && ts_oauth_check_client_secret("client_secret", md->client_secret, err, errlen) != 0)
        return -1;
    if (md->id_token_signed_response_alg != NULL && strcmp(md->id_token_signed_response_alg, "RS256") != 0 &&
        strcmp(md->id_token_signed_response_alg, "ES256") != 0)
        return ts_fail(err, errlen, "id_token_signed_response_alg: expected RS256 or ES256");
    if (md->access_token_ttl != 0 &&
        (md->access_token_ttl < TS_ACCESS_TOKEN_TTL_MIN || md->access_token_ttl > TS_ACCESS_TOKEN_TTL_MAX))
        return ts_fail(err, errlen, "access_token_ttl: expected %d to %d seconds", TS_ACCESS_TOKEN_TTL_MIN, TS_ACCESS_TOKEN_TTL_MAX);
    return check_rules(md, method, usable_keys, err, errlen);
}
