-- Tessera schema: everything the server persists. Opaque handles (codes, refresh tokens, sessions)
-- are stored only as base64url(SHA-256(handle)); secrets only as keyed hashes; private keys only
-- encrypted under the key-encryption key, which never enters the database.

CREATE TABLE clients (
    id                          bigserial PRIMARY KEY,
    client_id                   text NOT NULL UNIQUE CHECK (client_id ~ '^[A-Za-z0-9._~-]{1,128}$'),
    client_name                 text CHECK (length(client_name) <= 200),
    token_endpoint_auth_method  text NOT NULL DEFAULT 'client_secret_basic'
                                CHECK (token_endpoint_auth_method IN
                                       ('client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none')),
    grant_types                 text[] NOT NULL DEFAULT '{}'
                                CHECK (grant_types <@ ARRAY['authorization_code', 'client_credentials', 'refresh_token']),
    redirect_uris               text[] NOT NULL DEFAULT '{}',
    post_logout_redirect_uris   text[] NOT NULL DEFAULT '{}',
    scopes                      text[] NOT NULL DEFAULT '{}',   -- what the client may ask for
    default_scopes              text[] NOT NULL DEFAULT '{}',   -- what it gets when it asks for none
    jwks                        jsonb,                          -- public keys for private_key_jwt
    skip_consent                boolean NOT NULL DEFAULT false, -- first-party clients
    require_pkce                boolean NOT NULL DEFAULT true,
    id_token_signed_response_alg text NOT NULL DEFAULT 'RS256' CHECK (id_token_signed_response_alg IN ('RS256', 'ES256')),
    access_token_ttl            integer CHECK (access_token_ttl BETWEEN 30 AND 86400),  -- NULL: server default
    may_introspect              boolean NOT NULL DEFAULT false,
    status                      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now(),
    last_used_at                timestamptz
);

-- A rotated secret keeps working until expires_at (the grace period); NULL means no expiry.
CREATE TABLE client_secrets (
    id          bigserial PRIMARY KEY,
    client_pk   bigint NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    secret_hash text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz
);
CREATE INDEX client_secrets_client ON client_secrets (client_pk);

CREATE TABLE users (
    id                  bigserial PRIMARY KEY,
    subject             uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),  -- the `sub`: never reassigned
    username            text NOT NULL CHECK (username ~ '^[A-Za-z0-9._@+-]{1,128}$'),
    password_hash       text NOT NULL,                                   -- argon2id PHC string
    email               text CHECK (length(email) <= 254),
    email_verified      boolean NOT NULL DEFAULT false,
    name                text CHECK (length(name) <= 200),
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    password_changed_at timestamptz NOT NULL DEFAULT now(),
    last_login_at       timestamptz
);
-- usernames are unique regardless of case, so "Alice" cannot impersonate "alice"
CREATE UNIQUE INDEX users_username ON users (lower(username));

CREATE TABLE roles (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9._:-]{1,64}$'),
    description text CHECK (length(description) <= 500),
    scopes      text[] NOT NULL DEFAULT '{}',  -- the scopes this role allows
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE user_roles (
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id    bigint NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, role_id)
);

CREATE TABLE client_roles (
    client_pk  bigint NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    role_id    bigint NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client_pk, role_id)
);

-- Keys move next -> current -> retired -> removed. A removed key loses its private part.
CREATE TABLE signing_keys (
    kid             text PRIMARY KEY,
    alg             text NOT NULL CHECK (alg IN ('RS256', 'ES256')),
    state           text NOT NULL CHECK (state IN ('next', 'current', 'retired', 'removed')),
    private_key_enc bytea,         -- AES-256-GCM under the key-encryption key, aad = kid
    public_jwk      jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    activated_at    timestamptz,
    retired_at      timestamptz,
    removed_at      timestamptz,
    CHECK ((state = 'removed') = (private_key_enc IS NULL))
);
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys (alg) WHERE state = 'current';
CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys (alg) WHERE state = 'next';

CREATE TABLE sessions (
    id           bigserial PRIMARY KEY,
    session_hash text NOT NULL UNIQUE,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auth_time    timestamptz NOT NULL,
    acr          text,
    amr          text[] NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    ended_at     timestamptz
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE consents (
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_pk  bigint NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scopes     text[] NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, client_pk)
);

CREATE TABLE authorization_codes (
    code_hash             text PRIMARY KEY,
    client_pk             bigint NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_id               bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id            bigint REFERENCES sessions (id) ON DELETE SET NULL,
    redirect_uri          text NOT NULL,
    scopes                text[] NOT NULL,
    resources             text[] NOT NULL DEFAULT '{}',
    code_challenge        text,
    code_challenge_method text CHECK (code_challenge_method = 'S256'),
    nonce                 text,
    auth_time             timestamptz NOT NULL,
    acr                   text,
    amr                   text[] NOT NULL DEFAULT '{}',
    created_at            timestamptz NOT NULL DEFAULT now(),
    expires_at            timestamptz NOT NULL,
    used_at               timestamptz,
    grant_family          uuid   -- what the first use issued, revoked on a second use
);
CREATE INDEX authorization_codes_expiry ON authorization_codes (expires_at);

-- Every rotation adds a row in the same family; reuse of a used row revokes the family.
CREATE TABLE refresh_tokens (
    token_hash      text PRIMARY KEY,
    family_id       uuid NOT NULL,
    parent_hash     text,
    client_pk       bigint NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_id         bigint REFERENCES users (id) ON DELETE CASCADE,
    scopes          text[] NOT NULL,
    resources       text[] NOT NULL DEFAULT '{}',
    auth_time       timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    idle_expires_at timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    used_at         timestamptz,
    revoked_at      timestamptz
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expiry ON refresh_tokens (expires_at);

-- Revoked access tokens (by jti) and revoked grant families (every access token issued from them).
-- Rows can go once expires_at has passed: the tokens they name are dead by then anyway.
CREATE TABLE revoked_tokens (
    kind       text NOT NULL CHECK (kind IN ('jti', 'family')),
    value      text NOT NULL,
    client_pk  bigint REFERENCES clients (id) ON DELETE CASCADE,
    revoked_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (kind, value)
);
CREATE INDEX revoked_tokens_expiry ON revoked_tokens (expires_at);

CREATE TABLE audit_events (
    id         bigserial PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    actor      text,            -- a client_id, user subject or "cli"; never a secret
    action     text NOT NULL,
    target     text,
    outcome    text NOT NULL CHECK (outcome IN ('success', 'failure', 'alert')),
    source     inet,
    details    jsonb NOT NULL DEFAULT '{}',
    prev_hash  bytea,
    hash       bytea
);

-- Every node keeps snapshots of these tables in memory; a change tells them all at once.
CREATE FUNCTION tessera_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tessera_changes', TG_TABLE_NAME);
    RETURN NULL;
END $$;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['clients', 'client_secrets', 'users', 'roles', 'user_roles', 'client_roles',
                             'signing_keys', 'revoked_tokens']
    LOOP
        EXECUTE format('CREATE TRIGGER %I_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I
                        FOR EACH STATEMENT EXECUTE FUNCTION tessera_notify_change()', t, t);
    END LOOP;
END $$;
