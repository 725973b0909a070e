// The admin API (docs/admin-api.md) against a real server and PostgreSQL: its own listener, bearer tokens of
// this Tessera carrying the admin role and the tessera:admin scope, step-up (RFC 9470) for dangerous
// operations, declared body schemas, keyset pagination, no secret or hash in any answer, and the audit log.
// Tokens come from the browser flow without a browser (browser_helpers.mjs): the 'console' client skips
// consent, so a session gives a code at once; an old sign-in is made by moving the session's auth_time back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { freePort, sql, startServer, waitFor } from './lib.mjs';
import { Jar, SECRET, basic, databaseWith, decode, request, show, signIn, tokenRequest } from './browser_helpers.mjs';

const CB = 'https://console.example/cb';
const ADMIN_SCOPE = 'openid tessera:admin';
const user = (username, roles = []) => ({ username, password: `pw-${username}-${randomBytes(8).toString('hex')}`, roles });
const root = user('root', ['admin']), pat = user('pat'), victim = user('victim'), victim2 = user('victim2');

let url, srv, admin; // admin: the admin listener's origin
let rootToken, ccToken;

before(async () => {
  url = databaseWith('admin', {
    roles: [{ name: 'admin', scopes: ['tessera:admin'] }, { name: 'reader', scopes: ['api:read'] }],
    clients: [
      { client_id: 'console', client_secret: SECRET, skip_consent: true, grant_types: ['authorization_code', 'refresh_token'],
        redirect_uris: [CB], scope: ADMIN_SCOPE },
      { client_id: 'ops', client_secret: SECRET, grant_types: ['client_credentials'], scope: 'tessera:admin', roles: ['admin'] },
      { client_id: 'svc', client_secret: SECRET, grant_types: ['client_credentials'], scope: 'api:read', roles: ['admin', 'reader'] },
    ],
    users: [root, pat, victim, victim2],
  });
  const port = await freePort();
  srv = await startServer({ url, env: { TESSERA_ADMIN_LISTEN: `127.0.0.1:${port}` } });
  admin = `http://127.0.0.1:${port}`;
  rootToken = (await userToken(root)).token;
  ccToken = await clientToken('ops', 'tessera:admin');
});

after(async () => {
  if (srv && (srv.child.exitCode !== null || srv.child.signalCode !== null))
    console.error(`tessera died during the tests:\n${srv.logs.join('')}`);
  const r = await srv?.stop();
  if (r) assert.equal(r.code, 0, `a clean stop: ${srv.logs.join('').slice(-2000)}`);
});

/** a person's access token through 'console': {token, jar}; a new jar signs in (a fresh auth_time) */
async function userToken(u, { jar = new Jar(), scope = ADMIN_SCOPE } = {}) {
  const s = await signIn(srv, jar, 'console', CB, { user: u, extra: { scope } });
  assert.match(s.code ?? '', /^tsac_/, `a code: ${s.back}`);
  const r = await tokenRequest(srv, { grant_type: 'authorization_code', code: s.code, redirect_uri: CB, code_verifier: s.verifier },
    { authorization: basic('console') });
  assert.equal(r.status, 200, show(r));
  return { token: r.json.access_token, jar };
}

async function clientToken(id, scope) {
  const r = await tokenRequest(srv, { grant_type: 'client_credentials', scope }, { authorization: basic(id) });
  assert.equal(r.status, 200, show(r));
  return r.json.access_token;
}

/** an admin API call: method, path (under the admin origin), token, JSON body (an object, or raw text) */
function api(method, path, { token = rootToken, body, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  if (body !== undefined && typeof body !== 'string') body = JSON.stringify(body);
  if (body !== undefined) h['content-type'] ??= 'application/json';
  return request(`${admin}${path}`, { method, headers: h, body });
}

/** no answer of the admin API carries a secret's or a password's hash */
function assertNoHashes(r) {
  assert.doesNotMatch(r.text, /hs1\$|\$argon2|secret_hash|password_hash|"password"/, `no hash or password: ${show(r)}`);
}

/** walks a list with ?limit=n, following next; returns every item */
async function walk(path, n, token = rootToken) {
  const items = [];
  let next = null, pages = 0;
  do {
    const q = new URLSearchParams({ limit: String(n), ...(next ? { after: next } : {}) });
    const r = await api('GET', `${path}?${q}`, { token });
    assert.equal(r.status, 200, show(r));
    assertNoHashes(r);
    assert.ok(r.json.items.length <= n, 'a page holds at most limit items');
    items.push(...r.json.items);
    next = r.json.next;
    assert.ok(++pages < 50, 'the walk ends');
  } while (next !== null);
  return items;
}

function assertFieldError(r, field, what) {
  assert.equal(r.status, 400, show(r));
  assert.equal(r.json.error, 'invalid_request');
  assert.ok(r.json.error_description.startsWith(`${field}: `), `names ${field}: ${r.json.error_description}`);
  if (what) assert.match(r.json.error_description, what);
}

/** a token whose sign-in is older than admin_step_up_max_age (5 min): the session's auth_time moved back,
 *  then a new authorization in the same session (SSO, no login page) */
async function staleToken(u) {
  const { jar } = await userToken(u);
  sql(url, `UPDATE sessions SET auth_time = now() - interval '10 minutes' WHERE user_id = (SELECT id FROM users WHERE username = '${u.username}')`);
  const { token } = await userToken(u, { jar });
  const age = Math.floor(Date.now() / 1000) - decode(token).claims.auth_time;
  assert.ok(age >= 590, `the token carries the old auth_time (${age} s ago)`);
  return token;
}

function assertStepUp(r) {
  assert.equal(r.status, 401, show(r));
  assert.equal(r.json.error, 'insufficient_user_authentication');
  const www = r.headers['www-authenticate'] ?? '';
  assert.match(www, /^Bearer /);
  assert.match(www, /error="insufficient_user_authentication"/);
  assert.match(www, /max_age=300/);
}

/* ---- who may call -------------------------------------------------------------------------------------- */

test('no token: 401 with a Bearer challenge and no error code (RFC 6750 §3.1)', async () => {
  const r = await api('GET', '/admin/v1/clients', { token: null });
  assert.equal(r.status, 401, show(r));
  assert.match(r.headers['www-authenticate'] ?? '', /^Bearer realm="tessera-admin"$/);
});

test('a token that is not ours, or malformed: 401 invalid_token', async () => {
  const [h, p] = rootToken.split('.');
  const forged = `${h}.${p}.${Buffer.from('not a signature').toString('base64url')}`;
  for (const token of [forged, 'garbage.token.here']) {
    const r = await api('GET', '/admin/v1/clients', { token });
    assert.equal(r.status, 401, show(r));
    assert.match(r.headers['www-authenticate'] ?? '', /error="invalid_token"/);
  }
  // another scheme is no bearer credentials at all (RFC 6750 §3.1)
  const basicAuth = await api('GET', '/admin/v1/clients', { token: null, headers: { authorization: basic('ops') } });
  assert.equal(basicAuth.status, 401, show(basicAuth));
  assert.match(basicAuth.headers['www-authenticate'] ?? '', /^Bearer realm="tessera-admin"$/);
});

test("a plain user's token: 403", async () => {
  const { token } = await userToken(pat);
  const r = await api('GET', '/admin/v1/clients', { token });
  assert.equal(r.status, 403, show(r));
  assert.equal(r.json.error, 'insufficient_scope');
  assert.match(r.headers['www-authenticate'] ?? '', /error="insufficient_scope", scope="tessera:admin"/);
});

test('an admin token without the tessera:admin scope: 403 insufficient_scope', async () => {
  const { token } = await userToken(root, { scope: 'openid' });
  const r = await api('GET', '/admin/v1/users', { token });
  assert.equal(r.status, 403, show(r));
  assert.equal(r.json.error, 'insufficient_scope');
  assert.match(r.json.error_description, /tessera:admin/);
  // a client holding the admin role, but whose token has no tessera:admin scope
  const svc = await api('GET', '/admin/v1/users', { token: await clientToken('svc', 'api:read') });
  assert.equal(svc.status, 403, show(svc));
});

test('request smuggling: an ambiguous framing on the admin port gets 400 and a closed connection', async () => {
  const hidden = 'DELETE /admin/v1/clients/svc HTTP/1.1\r\nHost: x\r\n\r\n';
  const payload = `POST /admin/v1/roles HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ccToken}\r\n` +
    `Content-Length: ${5 + hidden.length}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${hidden}`;
  const { port } = new URL(admin);
  const { data, closed } = await new Promise((resolve) => {
    const sock = net.connect(Number(port), '127.0.0.1');
    let got = '';
    const t = setTimeout(() => { sock.destroy(); resolve({ data: got, closed: false }); }, 3000);
    sock.setEncoding('latin1');
    sock.on('data', (d) => { got += d; });
    sock.on('close', () => { clearTimeout(t); resolve({ data: got, closed: true }); });
    sock.on('error', () => {});
    sock.on('connect', () => sock.write(payload, 'latin1'));
  });
  assert.deepEqual([...data.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1])), [400], data.slice(0, 300));
  assert.ok(closed, 'the connection is closed after the 400');
  assert.match(data, /ambiguous message framing/);
});

test('the admin API is not on the public port, and the public endpoints are not on the admin port', async () => {
  const onPublic = await request(`${srv.issuer}/admin/v1/clients`, { headers: { authorization: `Bearer ${rootToken}` } });
  assert.equal(onPublic.status, 404, show(onPublic));
  const metricsOnPublic = await request(`${srv.issuer}/metrics`);
  assert.equal(metricsOnPublic.status, 404, show(metricsOnPublic));
  for (const path of ['/.well-known/openid-configuration', '/jwks.json', '/healthz', '/authorize']) {
    const r = await api('GET', path);
    assert.equal(r.status, 404, `${path}: ${show(r)}`);
  }
  const token = await api('POST', '/token', { body: 'grant_type=client_credentials', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  assert.equal(token.status, 404, show(token));
  const method = await api('PATCH', '/admin/v1/clients');
  assert.equal(method.status, 405, show(method));
  assert.equal(method.headers.allow, 'GET, HEAD, POST');
});

/* ---- clients ------------------------------------------------------------------------------------------- */

test('clients: create (the secret shown once), read, update, list a page at a time, delete', async () => {
  const made = [];
  for (const id of ['app-c', 'app-a', 'app-b']) {
    const r = await api('POST', '/admin/v1/clients', { body: { client_id: id, client_name: `App ${id}`, scope: 'api:read' } });
    assert.equal(r.status, 201, show(r));
    assert.equal(r.headers.location, `/admin/v1/clients/${id}`);
    assert.match(r.json.client_secret, /^tscs_[A-Za-z0-9_-]{43}$/, 'a generated secret, shown once');
    assert.deepEqual(r.json.grant_types, ['client_credentials'], 'the default grant');
    assertNoHashes(r);
    made.push(r.json);
  }
  // the secret works at /token
  const tok = await tokenRequest(srv, { grant_type: 'client_credentials' }, { authorization: basic('app-a', made[1].client_secret) });
  assert.equal(tok.status, 200, show(tok));

  const got = await api('GET', '/admin/v1/clients/app-a');
  assert.equal(got.status, 200, show(got));
  assert.equal(got.json.client_secret, undefined, 'never shown again');
  assert.equal(got.json.secrets.length, 1);
  assert.deepEqual(Object.keys(got.json.secrets[0]).sort(), ['created_at', 'expires_at']);
  assertNoHashes(got);

  const all = await walk('/admin/v1/clients', 2);
  const ids = all.map((c) => c.client_id);
  assert.deepEqual(ids, [...ids].sort(), 'ordered by client_id');
  for (const id of ['app-a', 'app-b', 'app-c', 'console', 'ops', 'svc']) assert.ok(ids.includes(id), `${id} is listed`);
  assert.equal(new Set(ids).size, ids.length, 'no client twice');
  assert.deepEqual(Object.keys(all[0]).sort(), ['client_id', 'client_name', 'grant_types', 'roles', 'status',
    'token_endpoint_auth_method'], 'a list shows a summary');

  const put = await api('PUT', '/admin/v1/clients/app-b', { body: { client_name: 'Renamed', status: 'disabled' } });
  assert.equal(put.status, 200, show(put));
  assert.equal(put.json.client_name, 'Renamed');
  assert.equal(put.json.status, 'disabled');
  assert.equal(put.json.scope, 'api:read', 'fields not named keep their values');
  const fields = await waitFor(() => sql(url, "SELECT details->'fields' FROM audit_events WHERE action = 'admin.client.update' " +
    "AND target = 'app-b' AND outcome = 'success' ORDER BY id DESC LIMIT 1"), 5_000);
  assert.deepEqual(JSON.parse(fields).sort(), ['client_name', 'status'], 'the audit event names the fields changed, not their values');

  const rot = await api('POST', '/admin/v1/clients/app-a/secret', { body: { grace_period: 0 } });
  assert.equal(rot.status, 200, show(rot));
  assert.match(rot.json.client_secret, /^tscs_/);
  await waitFor(async () => (await tokenRequest(srv, { grant_type: 'client_credentials' },
    { authorization: basic('app-a', rot.json.client_secret) })).status === 200);

  const bad = await api('POST', '/admin/v1/clients', { body: { client_id: 'web', grant_types: ['authorization_code'] } });
  assertFieldError(bad, 'redirect_uris', /redirect URI/);
  const dup = await api('POST', '/admin/v1/clients', { body: { client_id: 'app-a' } });
  assert.equal(dup.status, 409, show(dup));
  const unknownRole = await api('POST', '/admin/v1/clients', { body: { client_id: 'app-z', roles: ['nosuchrole'] } });
  assertFieldError(unknownRole, 'roles', /nosuchrole/);
  const missing = await api('GET', '/admin/v1/clients/nope');
  assert.equal(missing.status, 404, show(missing));

  const del = await api('DELETE', '/admin/v1/clients/app-c', { token: (await userToken(root)).token });
  assert.equal(del.status, 204, show(del));
  assert.equal((await api('GET', '/admin/v1/clients/app-c')).status, 404);
});

/* ---- users --------------------------------------------------------------------------------------------- */

test('users: create with a password, read, update, list a page at a time, set the password', async () => {
  const names = ['u-3', 'U-1', 'u-2'];
  for (const username of names) {
    const r = await api('POST', '/admin/v1/users', { body: { username, password: 'correct horse battery', email: `${username}@example.test`, roles: ['reader'] } });
    assert.equal(r.status, 201, show(r));
    assert.match(r.json.subject, /^[0-9a-f-]{36}$/);
    assert.deepEqual(r.json.roles, ['reader']);
    assertNoHashes(r);
  }
  const all = await walk('/admin/v1/users', 2);
  const listed = all.map((u) => u.username.toLowerCase());
  assert.deepEqual(listed, [...listed].sort(), 'ordered by username, ignoring case');
  for (const n of [...names, 'root', 'pat'].map((s) => s.toLowerCase())) assert.ok(listed.includes(n), `${n} is listed`);

  const got = await api('GET', '/admin/v1/users/u-1'); // case-insensitive
  assert.equal(got.status, 200, show(got));
  assert.equal(got.json.username, 'U-1');
  assertNoHashes(got);

  const put = await api('PUT', '/admin/v1/users/u-2', { body: { name: 'User Two', email: null } });
  assert.equal(put.status, 200, show(put));
  assert.equal(put.json.name, 'User Two');
  assert.equal(put.json.email, null);
  assert.deepEqual(put.json.roles, ['reader'], 'roles not named stay');

  // a name in the path may be percent-encoded
  const odd = await api('POST', '/admin/v1/users', { body: { username: 'o+d@d', password: 'correct horse battery' } });
  assert.equal(odd.status, 201, show(odd));
  assert.equal((await api('GET', `/admin/v1/users/${encodeURIComponent('o+d@d')}`)).json?.username, 'o+d@d');
  assert.equal((await api('GET', '/admin/v1/users/o+d@d')).json?.username, 'o+d@d');
  assert.equal((await api('GET', '/admin/v1/users/o%2Fd')).status, 404);

  const pw = await api('POST', '/admin/v1/users/u-3/password', { body: { password: 'a new long password' } });
  assert.equal(pw.status, 204, show(pw));
  // the new password signs in
  const { token } = await userToken({ username: 'u-3', password: 'a new long password' }, { scope: 'openid' });
  assert.ok(token);
});

/* ---- roles --------------------------------------------------------------------------------------------- */

test('roles: create, read, update, list a page at a time, delete', async () => {
  for (const name of ['r-c', 'r-a', 'r-b']) {
    const r = await api('POST', '/admin/v1/roles', { body: { name, description: `role ${name}`, scopes: [`api:${name}`] } });
    assert.equal(r.status, 201, show(r));
  }
  const names = (await walk('/admin/v1/roles', 2)).map((r) => r.name);
  assert.deepEqual(names, [...names].sort());
  for (const n of ['admin', 'reader', 'r-a', 'r-b', 'r-c']) assert.ok(names.includes(n), `${n} is listed`);
  const put = await api('PUT', '/admin/v1/roles/r-a', { body: { scopes: ['api:x', 'api:y'] } });
  assert.equal(put.status, 200, show(put));
  assert.deepEqual(put.json.scopes, ['api:x', 'api:y']);
  assert.equal(put.json.description, 'role r-a');
  const del = await api('DELETE', '/admin/v1/roles/r-c');
  assert.equal(del.status, 204, show(del));
  assert.equal((await api('GET', '/admin/v1/roles/r-c')).status, 404);
});

/* ---- declared bodies ----------------------------------------------------------------------------------- */

test('a body that does not fit its schema: 400 naming the field, and nothing is written', async () => {
  assertFieldError(await api('POST', '/admin/v1/users', { body: { username: 'x1', password: 'long enough pw', admin: true } }), 'admin', /unknown field/);
  assertFieldError(await api('POST', '/admin/v1/users', { body: { username: 'x2', password: 'long enough pw', email_verified: 'yes' } }), 'email_verified', /true or false/);
  assertFieldError(await api('POST', '/admin/v1/users', { body: { username: 'x3', password: 'long enough pw', name: 'n'.repeat(201) } }), 'name', /longer than 200/);
  assertFieldError(await api('POST', '/admin/v1/users', { body: { username: 'x4', password: 'long enough pw', status: 'gone' } }), 'status', /one of: active, disabled/);
  assertFieldError(await api('POST', '/admin/v1/users', { body: { username: 'x5' } }), 'password', /required/);
  assertFieldError(await api('POST', '/admin/v1/clients', { body: { client_id: 'x6', grant_types: ['implicit'] } }), 'grant_types[0]');
  assertFieldError(await api('POST', '/admin/v1/clients', { body: { client_id: 'x7', client_secret: 'chosen-by-me-chosen-by-me-chosen-by-me' } }), 'client_secret', /unknown field/);
  assertFieldError(await api('PUT', '/admin/v1/users/pat', { body: { roles: 'admin' } }), 'roles', /array of strings/);
  assertFieldError(await api('POST', '/admin/v1/roles', { body: '{"name": "x8", "name": "x9"}' }), 'body', /repeated/);
  assertFieldError(await api('POST', '/admin/v1/roles', { body: 'name=x10' }), 'body', /not valid JSON/);
  assertFieldError(await api('POST', '/admin/v1/roles', { body: '{"name":"x11"}', headers: { 'content-type': 'text/plain' } }), 'body', /application\/json/);
  const big = await api('POST', '/admin/v1/roles', { body: JSON.stringify({ name: 'x12', description: 'd'.repeat(70 * 1024) }) });
  assert.equal(big.status, 413, show(big));
  for (const u of ['x1', 'x2', 'x3', 'x4', 'x5'])
    assert.equal((await api('GET', `/admin/v1/users/${u}`)).status, 404, `${u} was not created`);
  const badLimit = await api('GET', '/admin/v1/users?limit=101');
  assertFieldError(badLimit, 'limit');
  const badCursor = await api('GET', '/admin/v1/users?after=***');
  assertFieldError(badCursor, 'after');
  assert.equal((await api('GET', '/admin/v1/users?sort=name')).status, 400, 'an unknown query parameter');
  assertFieldError(await api('DELETE', '/admin/v1/users/pat', { body: { force: true } }), 'body', /takes no body/);
  assert.equal((await api('GET', '/admin/v1/users/pat')).status, 200, 'pat is still there');
});

/* ---- step-up ------------------------------------------------------------------------------------------- */

test('an admin token without step-up cannot delete', async () => {
  const stale = await staleToken(root);
  // it can still read
  assert.equal((await api('GET', '/admin/v1/users/victim', { token: stale })).status, 200);
  const r = await api('DELETE', '/admin/v1/users/victim', { token: stale });
  assertStepUp(r);
  assert.equal((await api('GET', '/admin/v1/users/victim')).status, 200, 'the user is still there');
  assertStepUp(await api('DELETE', '/admin/v1/clients/svc', { token: stale }));
  assertStepUp(await api('POST', '/admin/v1/keys/rotate', { token: stale }));
  assertStepUp(await api('PUT', '/admin/v1/users/pat', { token: stale, body: { roles: ['admin'] } }));
  assertStepUp(await api('PUT', '/admin/v1/users/root', { token: stale, body: { roles: [] } }));
  assertStepUp(await api('POST', '/admin/v1/users', { token: stale, body: { username: 'newadmin', password: 'long enough pw', roles: ['admin'] } }));
  assertStepUp(await api('PUT', '/admin/v1/clients/ops', { token: stale, body: { status: 'disabled' } }));
  assertStepUp(await api('DELETE', '/admin/v1/roles/admin', { token: stale }));
  // changes that do not touch admin rights need no step-up
  const rename = await api('PUT', '/admin/v1/users/pat', { token: stale, body: { name: 'Pat' } });
  assert.equal(rename.status, 200, show(rename));

  // a fresh sign-in may
  const { token: fresh } = await userToken(root);
  const del = await api('DELETE', '/admin/v1/users/victim', { token: fresh });
  assert.equal(del.status, 204, show(del));
  assert.equal((await api('GET', '/admin/v1/users/victim')).status, 404);
});

test('a client-credentials admin token can list but never do a dangerous operation', async () => {
  const list = await api('GET', '/admin/v1/clients', { token: ccToken });
  assert.equal(list.status, 200, show(list));
  const r = await api('DELETE', '/admin/v1/users/victim2', { token: ccToken });
  assertStepUp(r);
  assert.match(r.json.error_description, /client credentials/);
  assertStepUp(await api('DELETE', '/admin/v1/clients/svc', { token: ccToken }));
  assert.equal((await api('GET', '/admin/v1/users/victim2', { token: ccToken })).status, 200);
});

test('an admin whose role is taken away is refused at the next request', async () => {
  const { token: patToken } = await userToken(pat); // no admin yet: tessera:admin is not granted, or not honoured
  assert.equal((await api('GET', '/admin/v1/users', { token: patToken })).status, 403);
  const { token: fresh } = await userToken(root);
  const grant = await api('PUT', '/admin/v1/users/pat', { token: fresh, body: { roles: ['admin'] } });
  assert.equal(grant.status, 200, show(grant));
  const { token: patAdmin } = await waitFor(async () => {
    const t = await userToken(pat);
    return decode(t.token).claims.scope.includes('tessera:admin') ? t : null;
  });
  assert.equal((await api('GET', '/admin/v1/users', { token: patAdmin })).status, 200);
  const revoke = await api('PUT', '/admin/v1/users/pat', { token: fresh, body: { roles: [] } });
  assert.equal(revoke.status, 200, show(revoke));
  await waitFor(async () => (await api('GET', '/admin/v1/users', { token: patAdmin })).status === 403);
});

/* ---- keys, audit, metrics ------------------------------------------------------------------------------ */

test('keys: listed without private parts; rotation with a fresh sign-in', async () => {
  const before = await api('GET', '/admin/v1/keys');
  assert.equal(before.status, 200, show(before));
  assert.ok(before.json.items.length >= 4, 'a current and a next key per algorithm');
  for (const k of before.json.items) {
    assert.deepEqual(Object.keys(k).sort(), ['activated_at', 'alg', 'created_at', 'kid', 'removed_at', 'retired_at', 'state']);
  }
  const { token } = await userToken(root);
  const r = await api('POST', '/admin/v1/keys/rotate', { token });
  assert.equal(r.status, 200, show(r));
  assert.equal(r.json.activated, 2);
  assert.equal(r.json.retired, 2);
  assert.equal(r.json.generated, 2);
  // the token signed before the rotation still works (its key is retired, still published)
  assert.equal((await api('GET', '/admin/v1/keys', { token: rootToken })).status, 200);
  assertFieldError(await api('POST', '/admin/v1/keys/rotate', { token, body: { force: true } }), 'force', /unknown field/);
});

test('audit: the changes made here are in the log, newest first, a page at a time', async () => {
  const first = await api('GET', '/admin/v1/audit?limit=5');
  assert.equal(first.status, 200, show(first));
  assert.ok(first.json.items.length <= 5);
  const events = await waitFor(async () => {
    const all = await walk('/admin/v1/audit', 50);
    return all.some((e) => e.action === 'admin.user.delete') ? all : null;
  });
  const ids = events.map((e) => e.id);
  assert.deepEqual(ids, [...ids].sort((a, b) => b - a), 'newest first');
  const del = events.find((e) => e.action === 'admin.user.delete' && e.outcome === 'success');
  assert.ok(del, 'the deletion was recorded');
  assert.match(del.target, /^[0-9a-f-]{36}$/, 'a user is named by subject');
  assert.equal(del.source, '127.0.0.1');
  for (const action of ['admin.client.create', 'admin.user.create', 'admin.role.create', 'key.rotate'])
    assert.ok(events.some((e) => e.action === action), `${action} was recorded`);
  assert.doesNotMatch(JSON.stringify(events), /tscs_|correct horse|a new long password|hs1\$|\$argon2/, 'no secret in the log');
});

test('/metrics: Prometheus text for an admin token only', async () => {
  const r = await api('GET', '/metrics');
  assert.equal(r.status, 200, show(r));
  assert.match(r.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  assert.match(r.text, /^# TYPE tessera_directory_records gauge$/m);
  assert.match(r.text, /^tessera_directory_records\{kind="client"\} \d+$/m);
  assert.match(r.text, /^tessera_signing_keys\{state="current"\} 2$/m);
  assert.match(r.text, /^tessera_admin_requests_total \d+$/m);
  assert.equal((await api('GET', '/metrics', { token: null })).status, 401);
});
