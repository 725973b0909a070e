// What this proves: a client that knows only the standards can register itself with Tessera and use what it
// got. openid-client v6 finds registration_endpoint in the metadata (RFC 8414), registers with the initial
// access token (RFC 7591 §3) once with client_secret_post and once with private_key_jwt and its own public key
// in jwks, and then gets client-credentials tokens as each, which jose verifies against Tessera's JWKS. The
// registration access token then reads the registration back (RFC 7592 §2.1) and deletes it (§2.3), after which
// the client can no longer get tokens.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import * as jose from 'jose';
import { startServer } from '../integration/lib.mjs';
import { databaseWith, getJson, tempDir } from './lib.mjs';

const dir = tempDir('e2e-reg');
const INITIAL = randomBytes(32).toString('base64url');
const insecure = { execute: [client.allowInsecureRequests] };
let srv, JWKS;

before(async () => {
  const url = databaseWith('e2e_reg', { clients: [] }, dir);
  const tokenFile = path.join(dir, 'initial-access-token');
  fs.writeFileSync(tokenFile, INITIAL, { mode: 0o600 });
  srv = await startServer({ url, env: { TESSERA_REGISTRATION_ENABLED: 'yes',
    TESSERA_REGISTRATION_INITIAL_ACCESS_TOKEN_FILE: tokenFile, TESSERA_REGISTRATION_SCOPES: 'orders:read orders:write' } });
  const meta = await getJson(`${srv.issuer}/.well-known/oauth-authorization-server`);
  assert.equal(meta.registration_endpoint, `${srv.issuer}/register`);
  JWKS = jose.createRemoteJWKSet(new URL(meta.jwks_uri));
});

after(async () => {
  if (srv && (srv.child.exitCode !== null || srv.child.signalCode !== null))
    console.error(`tessera died during the tests:\n${srv.logs.join('').slice(-4000)}`);
  await srv?.stop();
});

const verify = (token) => jose.jwtVerify(token, JWKS, { issuer: srv.issuer, typ: 'at+jwt', algorithms: ['ES256'] });

test('openid-client registers a client_secret_post client, gets a token, reads and deletes its registration', async () => {
  // client_secret_post: what openid-client authenticates with when it is given a secret and nothing else
  const config = await client.dynamicClientRegistration(new URL(srv.issuer),
    { client_name: 'Orders job', grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_post',
      scope: 'orders:read' },
    undefined, { ...insecure, initialAccessToken: INITIAL });
  const meta = config.clientMetadata();
  assert.match(meta.client_secret, /^tscs_/);
  assert.equal(meta.client_secret_expires_at, 0);
  const tokens = await client.clientCredentialsGrant(config, { scope: 'orders:read' });
  const { payload } = await verify(tokens.access_token);
  assert.equal(payload.client_id, config.clientMetadata().client_id);
  assert.equal(payload.scope, 'orders:read');

  const auth = { authorization: `Bearer ${meta.registration_access_token}` };
  const read = await fetch(meta.registration_client_uri, { headers: auth });
  assert.equal(read.status, 200);
  const info = await read.json();
  assert.equal(info.client_id, meta.client_id);
  assert.equal(info.client_name, 'Orders job');
  assert.equal(info.client_secret, undefined, 'the secret is shown once');
  assert.equal((await fetch(meta.registration_client_uri, { method: 'DELETE', headers: auth })).status, 204);
  await assert.rejects(async () => {
    // the directory forgets the client within milliseconds: a short, bounded wait
    for (let i = 0; i < 100; ++i) { await client.clientCredentialsGrant(config); await new Promise((r) => setTimeout(r, 20)); }
  }, (e) => e.status === 401 && (e.error === 'invalid_client' || e.code === 'OAUTH_WWW_AUTHENTICATE_CHALLENGE'));
});

test('openid-client registers a private_key_jwt client with its public key and authenticates with it', async () => {
  const keys = await jose.generateKeyPair('ES256', { extractable: true });
  const pub = { ...(await jose.exportJWK(keys.publicKey)), alg: 'ES256', use: 'sig', kid: 'reg-1' };
  const config = await client.dynamicClientRegistration(new URL(srv.issuer),
    { grant_types: ['client_credentials'], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [pub] } },
    client.PrivateKeyJwt({ key: keys.privateKey, kid: 'reg-1' }), { ...insecure, initialAccessToken: INITIAL });
  assert.equal(config.clientMetadata().client_secret, undefined);
  const tokens = await client.clientCredentialsGrant(config);
  const { payload } = await verify(tokens.access_token);
  assert.equal(payload.scope, 'orders:read orders:write', 'no scope asked: every scope it registered for');
  await assert.rejects(client.dynamicClientRegistration(new URL(srv.issuer), { grant_types: ['client_credentials'] }, undefined,
    { ...insecure, initialAccessToken: 'not-the-initial-access-token' }), (e) => e.status === 401);
});
