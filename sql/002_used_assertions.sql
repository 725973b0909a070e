-- private_key_jwt (RFC 7523 §3): every client assertion's jti is usable once. Rows can go once the
-- assertion has expired, since an expired assertion is refused anyway.
CREATE TABLE used_assertions (
    client_pk  bigint NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    jti        text NOT NULL CHECK (length(jti) <= 256),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (client_pk, jti)
);
CREATE INDEX used_assertions_expiry ON used_assertions (expires_at);
