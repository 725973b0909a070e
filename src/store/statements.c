/* Every statement a loop thread may run, prepared once per connection. */
#include "store/statements.h"

/* what a registration answer shows of client c: client_id, client_name, token_endpoint_auth_method, grant_types
 * (JSON), redirect_uris (JSON), post_logout_redirect_uris (JSON), scope, jwks, id_token_signed_response_alg,
 * client_id_issued_at (unix seconds) */
#define REGISTRATION_COLUMNS(c)                                                                                                    \
    c ".client_id, " c ".client_name, " c ".token_endpoint_auth_method, to_json(" c ".grant_types)::text, "                      \
    "to_json(" c ".redirect_uris)::text, to_json(" c ".post_logout_redirect_uris)::text, array_to_string(" c ".scopes, ' '), "  \
    c ".jwks::text, " c ".id_token_signed_response_alg, floor(extract(epoch FROM " c ".created_at))::bigint"
/* the metadata parameters, from $3 on, in the order of the client's columns: client_name, method, grant_types,
 * redirect_uris, post_logout_redirect_uris (JSON arrays), scope (space-separated; also the default scope), jwks,
 * id_token_signed_response_alg */
#define REGISTRATION_VALUES                                                                                                        \
    "$3, $4, ARRAY(SELECT jsonb_array_elements_text($5::jsonb)), ARRAY(SELECT jsonb_array_elements_text($6::jsonb)), "            \
    "ARRAY(SELECT jsonb_array_elements_text($7::jsonb)), string_to_array($8::text, ' '), string_to_array($8::text, ' '), "        \
    "$9::jsonb, $10"

const ts_statement_t ts_statements[TS_STMT__COUNT] = {
    [TS_STMT_PING] = {"ping", "SELECT 1", 0},
    [TS_STMT_USE_ASSERTION] = {"use_assertion",
                               "INSERT INTO used_assertions (client_pk, jti, expires_at) "
                               "VALUES ($1::bigint, $2, to_timestamp($3::bigint)) ON CONFLICT DO NOTHING RETURNING 1",
                               3},
    [TS_STMT_REVOKE_JTI] = {"revoke_jti",
                            "INSERT INTO revoked_tokens (kind, value, client_pk, expires_at) "
                            "VALUES ('jti', $1, $2::bigint, to_timestamp($3::bigint)) ON CONFLICT DO NOTHING",
                            3},
    /* the whole family goes: every refresh token of the grant, and (by its id) every access token issued from it */
    [TS_STMT_REVOKE_REFRESH] = {"revoke_refresh",
                                "WITH fam AS (SELECT family_id FROM refresh_tokens WHERE token_hash = $1 AND client_pk = $2::bigint), "
                                "upd AS (UPDATE refresh_tokens SET revoked_at = coalesce(revoked_at, now()) "
                                "WHERE family_id IN (SELECT family_id FROM fam) RETURNING family_id, expires_at) "
                                "INSERT INTO revoked_tokens (kind, value, client_pk, expires_at) "
                                "SELECT 'family', family_id::text, $2::bigint, max(expires_at) + make_interval(secs => $3::bigint) "
                                "FROM upd GROUP BY family_id ON CONFLICT (kind, value) DO UPDATE "
                                "SET expires_at = greatest(revoked_tokens.expires_at, excluded.expires_at) "
                                "RETURNING value, extract(epoch FROM expires_at)::bigint",
                                3},
    [TS_STMT_INTROSPECT_REFRESH] = {"introspect_refresh",
                                    "SELECT c.client_id, u.subject::text, array_to_string(rt.scopes, ' '), "
                                    "extract(epoch FROM rt.created_at)::bigint, "
                                    "extract(epoch FROM least(rt.expires_at, rt.idle_expires_at))::bigint, rt.family_id::text "
                                    "FROM refresh_tokens rt JOIN clients c ON c.id = rt.client_pk "
                                    "LEFT JOIN users u ON u.id = rt.user_id WHERE rt.token_hash = $1 AND rt.revoked_at IS NULL "
                                    "AND rt.used_at IS NULL AND rt.expires_at > now() AND rt.idle_expires_at > now()",
                                    1},

    /* ---- browser flows ---- */
    /* session hash, idle timeout (s), client pk -> session id, subject, auth_time, amr, acr, the scopes the
     * user consented to for that client (NULL: none). A live session is touched (idle expiry moves on). */
    [TS_STMT_SESSION_GET] = {"session_get",
                             "WITH s AS (UPDATE sessions SET last_seen_at = now() WHERE session_hash = $1 AND ended_at IS NULL "
                             "AND expires_at > now() AND last_seen_at > now() - make_interval(secs => $2::bigint) "
                             "RETURNING id, user_id, auth_time, amr, acr) "
                             "SELECT s.id, u.subject::text, floor(extract(epoch FROM s.auth_time))::bigint, array_to_string(s.amr, ' '), "
                             "s.acr, (SELECT array_to_string(c.scopes, ' ') FROM consents c "
                             "WHERE c.user_id = s.user_id AND c.client_pk = $3::bigint) "
                             "FROM s JOIN users u ON u.id = s.user_id",
                             3},
    /* session hash, subject (NULL: whoever's) -> one row when a live session ended */
    [TS_STMT_SESSION_END] = {"session_end",
                             "UPDATE sessions s SET ended_at = now() FROM users u WHERE s.session_hash = $1 AND u.id = s.user_id "
                             "AND s.ended_at IS NULL AND ($2::text IS NULL OR u.subject::text = $2::text) RETURNING 1",
                             2},
    /* handle hash, browser hash, csrf hash, client pk, request (JSON), subject and session id when signed in
     * (or NULL), lifetime (s) */
    [TS_STMT_INTERACTION_CREATE] = {"interaction_create",
                                    "INSERT INTO interactions (handle_hash, browser_hash, csrf_hash, client_pk, request, user_id, "
                                    "session_id, expires_at) VALUES ($1, $2, $3, $4::bigint, $5::jsonb, "
                                    "(SELECT id FROM users WHERE subject::text = $6::text), $7::bigint, "
                                    "now() + make_interval(secs => $8::bigint))",
                                    8},
    /* handle hash, username -> browser hash, csrf hash, request, and the user (id, subject, password hash,
     * status; NULLs when there is no such user) */
    [TS_STMT_INTERACTION_LOGIN_GET] = {"interaction_login_get",
                                       "SELECT i.browser_hash, i.csrf_hash, i.request::text, u.id, u.subject::text, u.password_hash, "
                                       "u.status FROM interactions i LEFT JOIN users u ON lower(u.username) = lower($2::text) "
                                       "WHERE i.handle_hash = $1 AND i.expires_at > now() AND i.completed_at IS NULL",
                                       2},
    /* handle hash -> browser hash, csrf hash, request, subject, session id, auth_time, amr, acr: an
     * interaction whose user has signed in */
    [TS_STMT_INTERACTION_GET] = {"interaction_get",
                                 "SELECT i.browser_hash, i.csrf_hash, i.request::text, u.subject::text, i.session_id, "
                                 "floor(extract(epoch FROM s.auth_time))::bigint, array_to_string(s.amr, ' '), s.acr "
                                 "FROM interactions i JOIN users u ON u.id = i.user_id JOIN sessions s ON s.id = i.session_id "
                                 "WHERE i.handle_hash = $1 AND i.expires_at > now() AND i.completed_at IS NULL",
                                 1},
    /* handle hash -> one row when it was still open */
    [TS_STMT_INTERACTION_COMPLETE] = {"interaction_complete",
                                      "UPDATE interactions SET completed_at = now() WHERE handle_hash = $1 AND completed_at IS NULL "
                                      "RETURNING 1",
                                      1},
    /* handle hash, session hash, user id, session lifetime (s), client pk -> session id, auth_time, and the
     * scopes the user consented to for that client (NULL: none) */
    [TS_STMT_LOGIN_COMPLETE] = {"login_complete",
                                "WITH s AS (INSERT INTO sessions (session_hash, user_id, auth_time, amr, expires_at) "
                                "VALUES ($2, $3::bigint, now(), '{pwd}', now() + make_interval(secs => $4::bigint)) "
                                "RETURNING id, auth_time), "
                                /* last_login_at is in no snapshot: tessera.quiet keeps the users trigger from making every node reload */
                                "q AS (SELECT set_config('tessera.quiet', 'on', true) AS quiet), "
                                "u AS (UPDATE users SET last_login_at = now() WHERE id = $3::bigint AND EXISTS (SELECT 1 FROM q)), "
                                "i AS (UPDATE interactions SET user_id = $3::bigint, session_id = (SELECT id FROM s) "
                                "WHERE handle_hash = $1) "
                                "SELECT s.id, floor(extract(epoch FROM s.auth_time))::bigint, (SELECT array_to_string(c.scopes, ' ') "
                                "FROM consents c WHERE c.user_id = $3::bigint AND c.client_pk = $5::bigint) FROM s",
                                5},
    /* code hash, client pk, subject, session id, redirect_uri, scope (space-separated), resources (JSON
     * array), code_challenge, nonce, auth_time, amr (space-separated), lifetime (s), the interaction it
     * completes (or NULL), scope to remember as consented (or NULL), whether the request named the
     * redirect_uri -> one row when issued. With an
     * interaction, only its first completion issues a code. */
    [TS_STMT_CODE_ISSUE] = {"code_issue",
                            "WITH i AS (UPDATE interactions SET completed_at = now() WHERE handle_hash = $13::text "
                            "AND completed_at IS NULL RETURNING 1), "
                            "u AS (SELECT id FROM users WHERE subject::text = $3::text AND ($13::text IS NULL OR EXISTS "
                            "(SELECT 1 FROM i))), "
                            "c AS (INSERT INTO consents (user_id, client_pk, scopes) SELECT id, $2::bigint, "
                            "string_to_array($14::text, ' ') FROM u WHERE $14::text IS NOT NULL "
                            "ON CONFLICT (user_id, client_pk) DO UPDATE SET granted_at = now(), "
                            "scopes = ARRAY(SELECT DISTINCT unnest(consents.scopes || excluded.scopes))) "
                            "INSERT INTO authorization_codes (code_hash, client_pk, user_id, session_id, redirect_uri, scopes, "
                            "resources, code_challenge, code_challenge_method, nonce, auth_time, amr, expires_at, redirect_uri_given) "
                            "SELECT $1, $2::bigint, u.id, $4::bigint, $5, string_to_array($6::text, ' '), "
                            "ARRAY(SELECT jsonb_array_elements_text($7::jsonb)), $8::text, "
                            "CASE WHEN $8::text IS NULL THEN NULL ELSE 'S256' END, $9::text, to_timestamp($10::bigint), "
                            "string_to_array($11::text, ' '), now() + make_interval(secs => $12::bigint), $15::boolean FROM u "
                            "RETURNING 1",
                            15},
    /* code hash, a new family id -> first use?, family id, client pk, subject, redirect_uri, scope, resources
     * (JSON), code_challenge, nonce, auth_time, amr, acr, expires_at, redirect_uri given?. Marks the code used; the row lock makes
     * two concurrent uses see each other. */
    [TS_STMT_CODE_USE] = {"code_use",
                          "WITH p AS (SELECT code_hash, used_at FROM authorization_codes WHERE code_hash = $1 FOR UPDATE) "
                          "UPDATE authorization_codes ac SET used_at = coalesce(ac.used_at, now()), "
                          "grant_family = coalesce(ac.grant_family, $2::uuid) FROM p, users u "
                          "WHERE ac.code_hash = p.code_hash AND u.id = ac.user_id "
                          "RETURNING p.used_at IS NULL, ac.grant_family::text, ac.client_pk, u.subject::text, ac.redirect_uri, "
                          "array_to_string(ac.scopes, ' '), array_to_json(ac.resources)::text, ac.code_challenge, ac.nonce, "
                          "floor(extract(epoch FROM ac.auth_time))::bigint, array_to_string(ac.amr, ' '), ac.acr, "
                          "extract(epoch FROM ac.expires_at)::bigint, ac.redirect_uri_given",
                          2},
    /* family id, client pk, longest access token lifetime (s) -> the revoked family and until when */
    [TS_STMT_FAMILY_REVOKE] = {"family_revoke",
                               "WITH upd AS (UPDATE refresh_tokens SET revoked_at = coalesce(revoked_at, now()) "
                               "WHERE family_id = $1::uuid RETURNING expires_at) "
                               "INSERT INTO revoked_tokens (kind, value, client_pk, expires_at) VALUES ('family', $1::text, "
                               "$2::bigint, greatest((SELECT max(expires_at) FROM upd), now()) + make_interval(secs => $3::bigint)) "
                               "ON CONFLICT (kind, value) DO UPDATE SET expires_at = greatest(revoked_tokens.expires_at, "
                               "excluded.expires_at) RETURNING value, extract(epoch FROM expires_at)::bigint",
                               3},
    /* token hash, family id, client pk, subject, scope, resources (JSON), auth_time, idle timeout (s), lifetime (s) */
    [TS_STMT_REFRESH_INSERT] = {"refresh_insert",
                                "INSERT INTO refresh_tokens (token_hash, family_id, client_pk, user_id, scopes, resources, "
                                "auth_time, idle_expires_at, expires_at) SELECT $1, $2::uuid, $3::bigint, u.id, "
                                "string_to_array($5::text, ' '), ARRAY(SELECT jsonb_array_elements_text($6::jsonb)), "
                                "to_timestamp($7::bigint), now() + make_interval(secs => least($8::bigint, $9::bigint)), "
                                "now() + make_interval(secs => $9::bigint) FROM users u WHERE u.subject::text = $4::text "
                                "RETURNING 1",
                                9},
    /* token hash -> family id, client pk, subject, scope, resources (JSON), auth_time, spent?, revoked?,
     * live? (neither expiry passed) */
    [TS_STMT_REFRESH_GET] = {"refresh_get",
                             "SELECT rt.family_id::text, rt.client_pk, u.subject::text, array_to_string(rt.scopes, ' '), "
                             "array_to_json(rt.resources)::text, floor(extract(epoch FROM rt.auth_time))::bigint, "
                             "rt.used_at IS NOT NULL, rt.revoked_at IS NOT NULL, "
                             "rt.expires_at > now() AND rt.idle_expires_at > now() "
                             "FROM refresh_tokens rt LEFT JOIN users u ON u.id = rt.user_id WHERE rt.token_hash = $1",
                             1},
    /* old hash, new hash, idle timeout (s) -> one row when the old token was live and unspent: it is spent
     * now and the new one carries on its family, scope, resources and absolute expiry */
    [TS_STMT_REFRESH_ROTATE] = {"refresh_rotate",
                                "WITH old AS (UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1 AND used_at IS NULL "
                                "AND revoked_at IS NULL AND expires_at > now() AND idle_expires_at > now() RETURNING *) "
                                "INSERT INTO refresh_tokens (token_hash, family_id, parent_hash, client_pk, user_id, scopes, "
                                "resources, auth_time, idle_expires_at, expires_at) SELECT $2, family_id, $1, client_pk, user_id, "
                                "scopes, resources, auth_time, least(expires_at, now() + make_interval(secs => $3::bigint)), "
                                "expires_at FROM old RETURNING 1",
                                3},

    /* ---- dynamic client registration ---- */
    /* client_id, registration token hash, REGISTRATION_VALUES, secret hash (NULL: none), the most self-registered
     * clients there may be -> REGISTRATION_COLUMNS, or no row when there are that many already (concurrent
     * registrations may pass the mark by their number). A self-registered client gets the defaults for what only
     * an operator may set (no roles, consent asked, PKCE required, no introspection). */
    [TS_STMT_REGISTRATION_CREATE] = {"registration_create",
                                     "WITH c AS (INSERT INTO clients (client_id, client_name, token_endpoint_auth_method, "
                                     "grant_types, redirect_uris, post_logout_redirect_uris, scopes, default_scopes, jwks, "
                                     "id_token_signed_response_alg) SELECT $1, " REGISTRATION_VALUES " WHERE (SELECT count(*) "
                                     "FROM client_registrations) < $12::bigint RETURNING *), "
                                     "s AS (INSERT INTO client_secrets (client_pk, secret_hash) SELECT id, $11 FROM c "
                                     "WHERE $11::text IS NOT NULL), "
                                     "r AS (INSERT INTO client_registrations (client_pk, token_hash) SELECT id, $2 FROM c) "
                                     "SELECT " REGISTRATION_COLUMNS("c") " FROM c",
                                     12},
    /* client_id, registration token hash, hash of a client secret to check (or NULL) -> REGISTRATION_COLUMNS,
     * has a live secret?, the secret checked is live? (NULL when none was given) */
    [TS_STMT_REGISTRATION_GET] = {"registration_get",
                                  "SELECT " REGISTRATION_COLUMNS("c") ", EXISTS (SELECT 1 FROM client_secrets s WHERE "
                                  "s.client_pk = c.id AND (s.expires_at IS NULL OR s.expires_at > now())), "
                                  "CASE WHEN $3::text IS NULL THEN NULL ELSE EXISTS (SELECT 1 FROM client_secrets s WHERE "
                                  "s.client_pk = c.id AND s.secret_hash = $3::text AND (s.expires_at IS NULL OR s.expires_at > now())) END "
                                  "FROM clients c JOIN client_registrations r ON r.client_pk = c.id "
                                  "WHERE c.client_id = $1 AND r.token_hash = $2",
                                  3},
    /* client_id, registration token hash, REGISTRATION_VALUES, a new secret's hash (or NULL), drop the secrets?
     * -> REGISTRATION_COLUMNS. Replaces the metadata a client may register; what an operator set stays. */
    [TS_STMT_REGISTRATION_UPDATE] = {"registration_update",
                                     "WITH c AS (UPDATE clients c SET (client_name, token_endpoint_auth_method, grant_types, "
                                     "redirect_uris, post_logout_redirect_uris, scopes, default_scopes, jwks, "
                                     "id_token_signed_response_alg) = (" REGISTRATION_VALUES "), updated_at = now() "
                                     "FROM client_registrations r WHERE r.client_pk = c.id AND c.client_id = $1 AND r.token_hash = $2 "
                                     "RETURNING c.*), "
                                     "d AS (DELETE FROM client_secrets WHERE $12::boolean AND client_pk IN (SELECT id FROM c)), "
                                     "s AS (INSERT INTO client_secrets (client_pk, secret_hash) SELECT id, $11 FROM c "
                                     "WHERE $11::text IS NOT NULL) "
                                     "SELECT " REGISTRATION_COLUMNS("c") " FROM c",
                                     12},
    /* client_id, registration token hash -> one row when the client was deleted (its grants and tokens go with it) */
    [TS_STMT_REGISTRATION_DELETE] = {"registration_delete",
                                     "DELETE FROM clients c USING client_registrations r WHERE r.client_pk = c.id "
                                     "AND c.client_id = $1 AND r.token_hash = $2 RETURNING 1",
                                     2},
};
