-- Browser flows: an interaction carries a validated authorization request from /authorize through the
-- login and consent pages. Its handle travels in the page's form; it is bound to the browser that began
-- it (a cookie whose hash is stored here) and to a CSRF token, both stored hashed.
CREATE TABLE interactions (
    handle_hash  text PRIMARY KEY,
    browser_hash text NOT NULL,
    csrf_hash    text NOT NULL,
    client_pk    bigint NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    request      jsonb NOT NULL,
    user_id      bigint REFERENCES users (id) ON DELETE CASCADE,   -- set once the user has signed in
    session_id   bigint REFERENCES sessions (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    completed_at timestamptz
);
CREATE INDEX interactions_expiry ON interactions (expires_at);
CREATE INDEX sessions_expiry ON sessions (expires_at);
CREATE INDEX refresh_tokens_client ON refresh_tokens (client_pk);
CREATE INDEX authorization_codes_family ON authorization_codes (grant_family);

-- RFC 6749 §4.1.3: the token request must repeat redirect_uri exactly when the authorization request had one
ALTER TABLE authorization_codes ADD COLUMN redirect_uri_given boolean NOT NULL DEFAULT true;
