#!/usr/bin/env bash
# `make run`: the server on its embedded default. Without DATABASE_URL it starts (creating it the first
# time) a private PostgreSQL cluster in ./var/pg; it generates a development key-encryption key into ./var
# when none is given, applies migrations, seeds the demo clients and user, and serves on 127.0.0.1:8080.
# Ctrl-C stops the server (and the private cluster) cleanly; the next run reuses both.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$(realpath "${1:-$top/build/tessera}")
var="$top/var"
mkdir -p "$var"
chmod 755 "$var"

export TESSERA_CONFIG=${TESSERA_CONFIG:-$top/conf/tessera.conf}
own_pg=""
if [ -z "${DATABASE_URL:-}" ]; then
    DATABASE_URL=$("$top/scripts/pg.sh" "$var/pg" start)
    export DATABASE_URL
    own_pg=1
fi
stop_pg() { if [ -n "$own_pg" ]; then "$top/scripts/pg.sh" "$var/pg" stop || true; fi; }
trap stop_pg EXIT

if [ -z "${TESSERA_KEY_ENCRYPTION_KEY:-}" ] && [ -z "${TESSERA_KEY_ENCRYPTION_KEY_FILE:-}" ]; then
    if [ ! -s "$var/kek" ]; then
        (umask 077 && openssl rand -hex 32 >"$var/kek")
        echo "run: generated a development key-encryption key in var/kek (keep it: it decrypts the signing keys)"
    fi
    export TESSERA_KEY_ENCRYPTION_KEY_FILE="$var/kek"
fi

"$bin" migrate

demo="$var/demo.json"
if [ ! -s "$demo" ]; then
    secret=$(openssl rand -hex 32)
    password=$(openssl rand -base64 12 | tr -d '/+=')
    (umask 077 && cat >"$demo" <<JSON
{
  "clients": [
    {"client_id": "demo-service", "client_name": "Demo service (client credentials)",
     "client_secret": "$secret", "token_endpoint_auth_method": "client_secret_basic",
     "grant_types": ["client_credentials"], "scope": "api:read api:write", "default_scope": "api:read",
     "may_introspect": true},
    {"client_id": "demo-app", "client_name": "Demo app (public, PKCE)",
     "token_endpoint_auth_method": "none", "grant_types": ["authorization_code", "refresh_token"],
     "redirect_uris": ["http://127.0.0.1:3000/callback"],
     "post_logout_redirect_uris": ["http://127.0.0.1:3000/"],
     "scope": "openid profile email offline_access api:read"}
  ],
  "users": [
    {"username": "demo", "password": "$password", "email": "demo@example.com", "name": "Demo User"}
  ]
}
JSON
    )
fi
"$bin" apply "$demo" >/dev/null

secret=$(sed -n 's/.*"client_secret": "\([^"]*\)".*/\1/p' "$demo")
password=$(sed -n 's/.*"password": "\([^"]*\)".*/\1/p' "$demo")
# secret-scan: allow (RFC 7636 Appendix B's example verifier: public on purpose, for the demo)
pkce_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk
# secret-scan: allow (and its S256 challenge)
pkce_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM
where="private cluster in var/pg"
[ -n "$own_pg" ] || where="\$DATABASE_URL"
cat <<BANNER

  Tessera is starting on http://127.0.0.1:8080 (database: $where)

  demo confidential client  client_id demo-service   client_secret $secret
  demo public client        client_id demo-app       redirect_uri http://127.0.0.1:3000/callback (PKCE)
  demo user                 username  demo           password $password
  (kept in var/demo.json)

  Try:
    curl -s http://127.0.0.1:8080/.well-known/openid-configuration
    curl -s -u demo-service:$secret -d grant_type=client_credentials http://127.0.0.1:8080/token
    curl -s -u demo-service:$secret -d token=<access_token> http://127.0.0.1:8080/introspect
    curl -s -u demo-service:$secret -d token=<access_token> http://127.0.0.1:8080/revoke

  Sign in as the demo user in a browser (PKCE with RFC 7636's example verifier; nothing listens on
  :3000, so copy the code from the address bar it lands on):
    http://127.0.0.1:8080/authorize?client_id=demo-app&response_type=code&scope=openid%20profile%20email&redirect_uri=http://127.0.0.1:3000/callback&state=demo&code_challenge=$pkce_challenge&code_challenge_method=S256
    curl -s -d grant_type=authorization_code -d client_id=demo-app -d code=<code> \
         -d redirect_uri=http://127.0.0.1:3000/callback -d code_verifier=$pkce_verifier \
         http://127.0.0.1:8080/token

  Ctrl-C stops it.

BANNER

# Ctrl-C reaches both this script and the server; the server finishes in-flight requests and exits,
# then the EXIT trap stops the private cluster.
trap '' INT
"$bin" serve &
server=$!
trap 'kill -TERM $server 2>/dev/null || true' TERM
wait $server || true
wait $server 2>/dev/null || true
