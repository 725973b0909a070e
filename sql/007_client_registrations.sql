-- Dynamic client registration (RFC 7591, RFC 7592; docs/registration.md). A client that registered itself has
-- one row here with the keyed hash of its registration access token, which lets it read, update and delete its
-- own registration at /register/{client_id}. Clients made by an operator (CLI, apply, admin API) have none,
-- so they cannot be managed that way. The row goes with its client.
CREATE TABLE client_registrations (
    client_pk   bigint PRIMARY KEY REFERENCES clients (id) ON DELETE CASCADE,
    token_hash  text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);
