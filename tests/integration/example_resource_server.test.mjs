// examples/resource-server against a real Tessera: a resource API that introspects every bearer token, enforces
// its access matrix (scope per route, role admin may read any note) and ownership by the token's sub (BOLA).
// People sign in without a browser (browser_helpers.mjs) to a client that skips consent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { TOP, cli, freePort, startServer, waitFor } from './lib.mjs';
import { Jar, SECRET, basic, databaseWith, decode, request, show, signIn, tokenRequest } from './browser_helpers.mjs';

const CB = 'https://notes-app.example/cb';
const user = (username, roles) => ({ username, password: `pw-${username}-${randomBytes(8).toString('hex')}`, roles });
const alice = user('alice', ['user']), bob = user('bob', ['user']), ada = user('ada', ['admin', 'user']), eve = user('eve', []);

let url, srv, rs, rsUrl;
const rsLogs = [];

before(async () => {
  url = databaseWith('example_rs', {
    // the default role user gets the notes scopes: no one without it can be granted them
    roles: [{ name: 'user', description: 'People who keep notes', scopes: ['notes:read', 'notes:write'] }],
    clients: [
      { client_id: 'notes-app', client_secret: SECRET, grant_types: ['authorization_code', 'refresh_token'],
        redirect_uris: [CB], scope: 'openid notes:read notes:write', skip_consent: true },
      { client_id: 'notes-api', client_secret: SECRET, grant_types: ['client_credentials'], may_introspect: true },
    ],
    users: [alice, bob, ada, eve],
  });
  srv = await startServer({ url });
  await waitFor(async () => (await request(`${srv.issuer}/readyz`)).status === 200); // the database pool is up
  const port = await freePort();
  rsUrl = `http://127.0.0.1:${port}`;
  rs = spawn(process.execPath, [path.join(TOP, 'examples/resource-server/server.mjs')], {
    env: { ...process.env, TESSERA_ISSUER: srv.issuer, RS_CLIENT_ID: 'notes-api', RS_CLIENT_SECRET: SECRET, RS_AUDIENCE: rsUrl,
      PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  rs.stdout.on('data', (d) => rsLogs.push(d.toString()));
  rs.stderr.on('data', (d) => rsLogs.push(d.toString()));
  await waitFor(async () => {
    if (rs.exitCode !== null) throw new Error(`the example exited: ${rsLogs.join('')}`);
    return (await request(`${rsUrl}/healthz`).catch(() => ({}))).status === 200;
  });
});

after(async () => {
  if (rs && rs.exitCode === null) {
    rs.kill('SIGTERM');
    await new Promise((resolve) => rs.once('exit', resolve));
  }
  await srv?.stop();
});

/** u signs in to notes-app for scope, with this API as the token's audience (RFC 8707); the token response */
async function tokensFor(u, scope = 'openid notes:read notes:write') {
  const s = await signIn(srv, new Jar(), 'notes-app', CB, { user: u, extra: { scope, resource: rsUrl } });
  const r = await tokenRequest(srv, { grant_type: 'authorization_code', code: s.code, redirect_uri: CB, code_verifier: s.verifier },
    { authorization: basic('notes-app') });
  assert.equal(r.status, 200, show(r));
  return r.json;
}

const api = (method, p, token, body) => request(`${rsUrl}${p}`, {
  method, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
  ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
});

function assertRefused(r, status, error) {
  assert.equal(r.status, status, show(r));
  assert.equal(r.json?.error, error, show(r));
  assert.equal(r.json.text, undefined, 'nothing of the note');
}

let aliceT, bobT, adaT;

test('an owner writes and reads their own note; the owner is the token\'s sub', async () => {
  aliceT = await tokensFor(alice);
  const sub = decode(aliceT.access_token).claims.sub;
  let r = await api('PUT', '/notes/alice-1', aliceT.access_token, { text: 'buy milk' });
  assert.equal(r.status, 201, show(r));
  assert.equal(r.json.owner, sub);
  r = await api('GET', '/notes/alice-1', aliceT.access_token);
  assert.equal(r.status, 200, show(r));
  assert.deepEqual([r.json.id, r.json.owner, r.json.text], ['alice-1', sub, 'buy milk']);
  r = await api('PUT', '/notes/alice-1', aliceT.access_token, { text: 'buy oat milk' });
  assert.equal(r.status, 200, show(r));
});

test('another user\'s note is refused exactly like a missing one (BOLA), for reading and for writing', async () => {
  bobT = await tokensFor(bob);
  assert.deepEqual(decode(bobT.access_token).claims.roles, ['user']);
  const other = await api('GET', '/notes/alice-1', bobT.access_token);
  assertRefused(other, 404, 'not_found');
  const missing = await api('GET', '/notes/no-such-note', bobT.access_token);
  assert.deepEqual([missing.status, missing.json], [other.status, other.json], 'the answers cannot tell them apart');
  assertRefused(await api('PUT', '/notes/alice-1', bobT.access_token, { text: 'pwned' }), 404, 'not_found');
  assert.equal((await api('GET', '/notes/alice-1', aliceT.access_token)).json.text, 'buy oat milk', 'unchanged');
  // bob's own notes are his; the list shows only them
  assert.equal((await api('PUT', '/notes/bob-1', bobT.access_token, { text: 'call mum' })).status, 201);
  const list = await api('GET', '/notes', bobT.access_token);
  assert.deepEqual(list.json.notes.map((n) => n.id), ['bob-1']);
});

test('a missing scope is refused with 403 insufficient_scope', async () => {
  const readOnly = await tokensFor(alice, 'openid notes:read');
  assert.equal(readOnly.scope, 'openid notes:read');
  assert.equal((await api('GET', '/notes/alice-1', readOnly.access_token)).status, 200);
  const r = await api('PUT', '/notes/alice-1', readOnly.access_token, { text: 'x' });
  assertRefused(r, 403, 'insufficient_scope');
  assert.match(r.headers['www-authenticate'], /error="insufficient_scope", scope="notes:write"/);
  // eve lacks the role user: Tessera does not grant her the notes scopes at all
  const e = await tokensFor(eve);
  assert.equal(e.scope, 'openid');
  assertRefused(await api('GET', '/notes', e.access_token), 403, 'insufficient_scope');
});

test('admin reads any note, but cannot change another person\'s', async () => {
  adaT = await tokensFor(ada);
  assert.deepEqual(decode(adaT.access_token).claims.roles, ['admin', 'user']);
  const r = await api('GET', '/notes/alice-1', adaT.access_token);
  assert.equal(r.status, 200, show(r));
  assert.equal(r.json.text, 'buy oat milk');
  assert.deepEqual((await api('GET', '/notes', adaT.access_token)).json.notes.map((n) => n.id).sort(), ['alice-1', 'bob-1']);
  assertRefused(await api('PUT', '/notes/alice-1', adaT.access_token, { text: 'edited by admin' }), 403, 'forbidden');
});

test('no token, a revoked token, a refresh token or a token for another audience: 401', async () => {
  const none = await api('GET', '/notes/alice-1');
  assertRefused(none, 401, 'invalid_request');
  assert.match(none.headers['www-authenticate'], /^Bearer realm="notes"/);

  const t = await tokensFor(alice);
  assert.equal((await api('GET', '/notes/alice-1', t.access_token)).status, 200);
  const rv = await request(`${srv.issuer}/revoke`, { form: { token: t.access_token, token_type_hint: 'access_token' },
    headers: { authorization: basic('notes-app') } });
  assert.equal(rv.status, 200, show(rv));
  const revoked = await api('GET', '/notes/alice-1', t.access_token);
  assertRefused(revoked, 401, 'invalid_token');
  assert.match(revoked.headers['www-authenticate'], /error="invalid_token"/);

  assertRefused(await api('GET', '/notes/alice-1', aliceT.refresh_token), 401, 'invalid_token');
  // a token whose aud is Tessera's default, not this API
  const s = await signIn(srv, new Jar(), 'notes-app', CB, { user: alice, extra: { scope: 'openid notes:read' } });
  const elsewhere = await tokenRequest(srv, { grant_type: 'authorization_code', code: s.code, redirect_uri: CB,
    code_verifier: s.verifier }, { authorization: basic('notes-app') });
  assertRefused(await api('GET', '/notes/alice-1', elsewhere.json.access_token), 401, 'invalid_token');
  assertRefused(await api('GET', '/notes/alice-1', 'not-a-token'), 401, 'invalid_token');
});

test('a role taken away at Tessera shows at the API at once: admin no longer reads other people\'s notes', async () => {
  assert.equal((await api('GET', '/notes/alice-1', adaT.access_token)).status, 200);
  const r = cli(['role', 'revoke', 'admin', '--user', 'ada'], { env: { DATABASE_URL: url } });
  assert.equal(r.status, 0, r.stderr);
  await waitFor(async () => (await api('GET', '/notes/alice-1', adaT.access_token)).status === 404, 2_000, 20);
  assert.equal((await api('GET', '/notes', adaT.access_token)).json.notes.length, 0, 'ada has no notes of her own');
});
