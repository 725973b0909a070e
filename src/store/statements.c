/* Every statement a loop thread may run, prepared once per connection. */
#include "store/statements.h"

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
};
