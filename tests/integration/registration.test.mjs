// Dynamic client registration (RFC 7591) and its management protocol (RFC 7592; docs/registration.md) against a
// real server and PostgreSQL: the initial access token, what a self-registered client gets and may not get, using
// the registration at once (client_credentials, a browser code flow with a public client), reading, replacing and
// deleting it with the registration access token, the errors, the audit events, and that none of it exists while
// registration_enabled is off.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { sql, startServer, waitFor } from './lib.mjs';
import { Jar, SECRET, basic, databaseWith, request, show, signIn, tokenRequest } from './browser_helpers.mjs';

const CB = 'https://rp.example/cb';
const INITIAL = `iat-${randomBytes(24).toString('base64url')}`;
const alice = { username: 'alice', password: `pw-alice-${randomBytes(8).toString('hex')}` };

let url, srv, closed;
const q = (query) => sql(url, query);

before(async () => {
  url = databaseWith('reg', {
    roles: [{ name: 'reports', description: 'Reads the reports API', scopes: ['reports:read'] }],
    clients: [{ client_id: 'gw', client_secret: SECRET, grant_types: ['client_credentials'], scope: 'api:read', may_introspect: true }],
    users: [alice],
  });
  const tokenFile = path.join(process.env.TESSERA_TEST_TMP ?? '/tmp', `iat-${process.pid}-${randomBytes(4).toString('hex')}`);
  fs.writeFileSync(tokenFile, `${INITIAL}\n`, { mode: 0o600 });
  srv = await startServer({ url, env: {
    TESSERA_REGISTRATION_ENABLED: 'yes', TESSERA_REGISTRATION_INITIAL_ACCESS_TOKEN_FILE: tokenFile,
    TESSERA_REGISTRATION_SCOPES: 'openid profile email offline_access api:read reports:read',
  } });
  closed = await startServer({ url }); // the same database, registration off (the default)
});

after(async () => {
  for (const s of [srv, closed])
    if (s && (s.child.exitCode !== null || s.child.signalCode !== null))
      console.error(`tessera died during the tests:\n${s.logs.join('').slice(-4000)}`);
  await srv?.stop();
  await closed?.stop();
});

const json = (obj) => JSON.stringify(obj);
const register = (body, token = INITIAL, s = srv) => request(`${s.issuer}/register`, {
  method: 'POST', body: typeof body === 'string' ? body : json(body),
  headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
});
const manage = (reg, method, body, token = reg.registration_access_token) => request(reg.registration_client_uri, {
  method, ...(body !== undefined ? { body: json(body) } : {}),
  headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
});
const clientCredentials = (reg, form = {}, secret = reg.client_secret) =>
  tokenRequest(srv, { grant_type: 'client_credentials', ...form }, { authorization: basic(reg.client_id, secret) });

const service = { client_name: 'Reports job', grant_types: ['client_credentials'], scope: 'api:read reports:read' };

test('discovery advertises the registration endpoint only when registration is enabled', async () => {
  const open = (await request(`${srv.issuer}/.well-known/openid-configuration`)).json;
  assert.equal(open.registration_endpoint, `${srv.issuer}/register`);
  assert.equal((await request(`${srv.issuer}/.well-known/oauth-authorization-server`)).json.registration_endpoint, `${srv.issuer}/register`);
  const off = (await request(`${closed.issuer}/.well-known/openid-configuration`)).json;
  assert.equal(off.registration_endpoint, undefined);
  for (const [method, p] of [['POST', '/register'], ['GET', '/register/anything'], ['DELETE', '/register/anything']]) {
    const r = await request(`${closed.issuer}${p}`, { method, headers: { authorization: `Bearer ${INITIAL}` }, body: method === 'POST' ? '{}' : undefined });
    assert.equal(r.status, 404, `${method} ${p} with registration off: ${show(r)}`);
  }
});

test('registering needs the initial access token', async () => {
  for (const [token, why] of [[null, /required/], ['wrong-token-0123456789abcdef', /invalid/], [`${INITIAL}x`, /invalid/]]) {
    const r = await register(service, token);
    assert.equal(r.status, 401, show(r));
    assert.equal(r.json.error, 'invalid_token');
    assert.match(r.json.error_description, why);
    assert.match(r.headers['www-authenticate'], /^Bearer realm="tessera", error="invalid_token"/);
  }
  assert.equal(q("SELECT count(*) FROM client_registrations"), '0');
});

test('a confidential service registers and gets tokens at once; what only an operator may set is ignored', async () => {
  const r = await register({ ...service, skip_consent: true, may_introspect: true, roles: ['admin'], require_pkce: false,
    client_id: 'chosen-by-me', software_id: 'ignored', logo_uri: 'https://rp.example/logo.png' });
  assert.equal(r.status, 201, show(r));
  assert.equal(r.headers['cache-control'], 'no-store');
  const reg = r.json;
  assert.match(reg.client_id, /^[A-Za-z0-9_-]{22}$/, 'a client_id the server chose');
  assert.notEqual(reg.client_id, 'chosen-by-me');
  assert.match(reg.client_secret, /^tscs_[A-Za-z0-9_-]{43}$/);
  assert.equal(reg.client_secret_expires_at, 0);
  assert.match(reg.registration_access_token, /^tsra_[A-Za-z0-9_-]{43}$/);
  assert.equal(reg.registration_client_uri, `${srv.issuer}/register/${reg.client_id}`);
  assert.ok(Math.abs(reg.client_id_issued_at - Date.now() / 1000) < 60);
  assert.equal(reg.token_endpoint_auth_method, 'client_secret_basic', 'the RFC 7591 default');
  assert.deepEqual(reg.grant_types, ['client_credentials']);
  assert.deepEqual(reg.response_types, []);
  assert.equal(reg.scope, 'api:read reports:read');
  assert.equal(reg.client_name, 'Reports job');
  for (const k of ['skip_consent', 'may_introspect', 'roles', 'require_pkce', 'software_id', 'logo_uri']) assert.equal(reg[k], undefined, k);

  // stored as hashes only, with the operator-only settings at their safe defaults
  const row = q(`SELECT c.skip_consent, c.may_introspect, c.require_pkce, (SELECT count(*) FROM client_roles cr WHERE cr.client_pk = c.id),
    r.token_hash = '${reg.registration_access_token}', (SELECT bool_and(s.secret_hash <> '${reg.client_secret}') FROM client_secrets s WHERE s.client_pk = c.id)
    FROM clients c JOIN client_registrations r ON r.client_pk = c.id WHERE c.client_id = '${reg.client_id}'`);
  assert.equal(row, 'f|f|t|0|f|t');

  // usable at once: the answer waited for this node's directory
  const t = await clientCredentials(reg, { scope: 'api:read' });
  assert.equal(t.status, 200, show(t));
  // a role-gated scope still needs the role, registered or not
  const gated = await clientCredentials(reg, { scope: 'reports:read' });
  assert.equal(gated.status, 400, show(gated));
  assert.equal(gated.json.error, 'invalid_scope');
  // may_introspect was ignored
  const intro = await request(`${srv.issuer}/introspect`, { form: { token: t.json.access_token }, headers: { authorization: basic(reg.client_id, reg.client_secret) } });
  assert.notEqual(intro.status, 200, `a self-registered client may not introspect: ${show(intro)}`);
});

test('a public client registers and runs the authorization code flow with PKCE', async () => {
  const r = await register({ client_name: 'SPA', token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'], redirect_uris: [CB], scope: 'openid profile offline_access' });
  assert.equal(r.status, 201, show(r));
  const reg = r.json;
  assert.equal(reg.client_secret, undefined);
  assert.equal(reg.client_secret_expires_at, undefined);
  assert.deepEqual(reg.response_types, ['code']);
  const jar = new Jar();
  const s = await signIn(srv, jar, reg.client_id, CB, { user: alice, extra: { scope: 'openid profile offline_access' } });
  assert.ok(s.code, `a code: ${s.back}`);
  const tok = await tokenRequest(srv, { grant_type: 'authorization_code', code: s.code, redirect_uri: CB, code_verifier: s.verifier, client_id: reg.client_id });
  assert.equal(tok.status, 200, show(tok));
  assert.ok(tok.json.id_token && tok.json.refresh_token);
  // without PKCE a self-registered public client gets nowhere
  const noPkce = await request(`${srv.issuer}/authorize?${new URLSearchParams({ client_id: reg.client_id, redirect_uri: CB,
    response_type: 'code', scope: 'openid', state: 's', nonce: 'n' })}`, { jar });
  assert.equal(noPkce.status, 303, show(noPkce));
  assert.match(noPkce.location, /error=invalid_request/);
});

test('bad metadata is refused with the RFC 7591 error naming the field', async () => {
  const cases = [
    [{ redirect_uris: ['http://rp.example/cb'] }, 'invalid_redirect_uri', /^redirect_uris\[0\]: /],
    [{ redirect_uris: ['https://rp.example/*'] }, 'invalid_redirect_uri', /^redirect_uris\[0\]: /],
    [{ redirect_uris: ['https://rp.example/cb#frag'] }, 'invalid_redirect_uri', /^redirect_uris\[0\]: /],
    [{ grant_types: ['authorization_code'] }, 'invalid_redirect_uri', /^redirect_uris: /],
    [{ redirect_uris: [CB], scope: 'openid tessera:admin' }, 'invalid_client_metadata', /^scope: 'tessera:admin' cannot be registered/],
    [{ redirect_uris: [CB], grant_types: ['implicit'] }, 'invalid_client_metadata', /^grant_types\[0\]: /],
    [{ redirect_uris: [CB], response_types: ['token'] }, 'invalid_client_metadata', /^response_types\[0\]: /],
    [{ grant_types: ['client_credentials'], response_types: ['code'] }, 'invalid_client_metadata', /^response_types: /],
    [{ redirect_uris: [CB], token_endpoint_auth_method: 'tls_client_auth' }, 'invalid_client_metadata', /^token_endpoint_auth_method: /],
    [{ redirect_uris: [CB], token_endpoint_auth_method: 'private_key_jwt' }, 'invalid_client_metadata', /^jwks: /],
    [{ redirect_uris: [CB], jwks_uri: 'https://rp.example/jwks' }, 'invalid_client_metadata', /^jwks_uri: /],
    [{ redirect_uris: [CB], client_name: 'a\u0007b' }, 'invalid_client_metadata', /^client_name: /],
    [{ redirect_uris: 'https://rp.example/cb' }, 'invalid_redirect_uri', /^redirect_uris: expected/],
    [{ redirect_uris: [CB], id_token_signed_response_alg: 'none' }, 'invalid_client_metadata', /^id_token_signed_response_alg: /],
    ['{"redirect_uris": ["https://rp.example/cb"], "redirect_uris": []}', 'invalid_client_metadata', /^body: .*repeated/],
    ['not json', 'invalid_client_metadata', /^body: not valid JSON/],
    ['[]', 'invalid_client_metadata', /^body: expected a JSON object/],
  ];
  const before = q('SELECT count(*) FROM clients');
  for (const [body, error, description] of cases) {
    const r = await register(body);
    assert.equal(r.status, 400, `${json(body)}: ${show(r)}`);
    assert.equal(r.json.error, error, json(body));
    assert.match(r.json.error_description, description, json(body));
  }
  const wrongType = await request(`${srv.issuer}/register`, { method: 'POST', body: 'redirect_uris=x',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${INITIAL}` } });
  assert.equal(wrongType.status, 400, show(wrongType));
  assert.equal(wrongType.json.error, 'invalid_request');
  const big = await register({ redirect_uris: [CB], client_name: 'x'.repeat(64 * 1024) });
  assert.equal(big.status, 413, show(big));
  assert.equal(q('SELECT count(*) FROM clients'), before, 'nothing was stored');
});

test('RFC 7592: read, replace and delete with the registration access token', async () => {
  const reg = (await register({ client_name: 'Web app', grant_types: ['authorization_code'], redirect_uris: [CB],
    post_logout_redirect_uris: ['https://rp.example/bye'], scope: 'openid profile' })).json;

  // read: the same metadata, the token it was read with, never the secret again
  const read = await manage(reg, 'GET');
  assert.equal(read.status, 200, show(read));
  assert.equal(read.headers['cache-control'], 'no-store');
  const { client_secret: secret, ...rest } = reg;
  assert.deepEqual(read.json, { ...rest, client_secret_expires_at: 0 });
  assert.ok(secret);

  // wrong token, another client's token, no token, a client that is not there: all 401
  const other = (await register(service)).json;
  for (const [r, label] of [
    [await manage(reg, 'GET', undefined, `tsra_${randomBytes(32).toString('base64url')}`), 'a made-up token'],
    [await manage(reg, 'GET', undefined, other.registration_access_token), "another client's token"],
    [await manage(reg, 'GET', undefined, null), 'no token'],
    [await request(`${srv.issuer}/register/nobody`, { headers: { authorization: `Bearer ${reg.registration_access_token}` } }), 'no such client'],
    [await request(`${srv.issuer}/register/gw`, { headers: { authorization: `Bearer ${reg.registration_access_token}` } }), 'a client an operator made'],
  ]) {
    assert.equal(r.status, 401, `${label}: ${show(r)}`);
    assert.equal(r.json.error, 'invalid_token', label);
    assert.match(r.headers['www-authenticate'], /error="invalid_token"/, label);
  }

  // replace: omitted fields are removed, client_id must be named, a secret named must be the current one
  const noId = await manage(reg, 'PUT', { grant_types: ['authorization_code'], redirect_uris: [CB] });
  assert.equal(noId.status, 400, show(noId));
  assert.match(noId.json.error_description, /^client_id: /);
  const wrongSecret = await manage(reg, 'PUT', { client_id: reg.client_id, client_secret: `tscs_${'x'.repeat(43)}`,
    grant_types: ['authorization_code'], redirect_uris: [CB] });
  assert.equal(wrongSecret.status, 400, show(wrongSecret));
  assert.equal(wrongSecret.json.error, 'invalid_client_metadata');
  assert.match(wrongSecret.json.error_description, /^client_secret: /);
  const badUri = await manage(reg, 'PUT', { client_id: reg.client_id, redirect_uris: ['http://rp.example/cb'] });
  assert.equal(badUri.status, 400, show(badUri));
  assert.equal(badUri.json.error, 'invalid_redirect_uri');

  const put = await manage(reg, 'PUT', { client_id: reg.client_id, client_secret: secret, grant_types: ['authorization_code', 'client_credentials'],
    redirect_uris: ['https://rp.example/new'], scope: 'openid api:read', registration_access_token: 'ignored', client_id_issued_at: 1 });
  assert.equal(put.status, 200, show(put));
  assert.equal(put.json.client_name, undefined, 'omitted: removed');
  assert.deepEqual(put.json.post_logout_redirect_uris, []);
  assert.deepEqual(put.json.redirect_uris, ['https://rp.example/new']);
  assert.equal(put.json.client_secret, secret, 'the secret it named, shown back');
  assert.equal(put.json.client_id_issued_at, reg.client_id_issued_at);
  assert.equal(put.json.registration_access_token, reg.registration_access_token);
  // the answer came once this node's directory had the change: the new grant works at once, not eventually
  const granted = await clientCredentials(reg, { scope: 'api:read' });
  assert.equal(granted.status, 200, show(granted));

  // moving to a public client drops the secret; moving back issues a new one
  const pub = await manage(reg, 'PUT', { client_id: reg.client_id, token_endpoint_auth_method: 'none', redirect_uris: [CB] });
  assert.equal(pub.status, 200, show(pub));
  assert.equal(pub.json.client_secret, undefined);
  assert.equal(q(`SELECT count(*) FROM client_secrets s JOIN clients c ON c.id = s.client_pk WHERE c.client_id = '${reg.client_id}'`), '0');
  const back = await manage(reg, 'PUT', { client_id: reg.client_id, token_endpoint_auth_method: 'client_secret_post',
    grant_types: ['client_credentials'], scope: 'api:read' });
  assert.equal(back.status, 200, show(back));
  assert.match(back.json.client_secret, /^tscs_/);
  assert.notEqual(back.json.client_secret, secret);
  const issued = await tokenRequest(srv, { grant_type: 'client_credentials', client_id: reg.client_id, client_secret: back.json.client_secret });
  assert.equal(issued.status, 200, `the new secret works at once: ${show(issued)}`);
  const held = issued.json.access_token;
  const introspect = async () => (await request(`${srv.issuer}/introspect`, { form: { token: held }, headers: { authorization: basic('gw') } })).json;
  assert.equal((await introspect()).active, true);

  // delete: gone, its token with it, and the client can no longer authenticate
  const del = await manage(reg, 'DELETE');
  assert.equal(del.status, 204, show(del));
  assert.equal((await manage(reg, 'GET')).status, 401);
  assert.equal((await manage(reg, 'DELETE')).status, 401);
  assert.equal(q(`SELECT count(*) FROM clients WHERE client_id = '${reg.client_id}'`), '0');
  const refused = await tokenRequest(srv, { grant_type: 'client_credentials', client_id: reg.client_id, client_secret: back.json.client_secret });
  assert.equal(refused.status, 401, `refused at once: ${show(refused)}`);
  assert.equal((await introspect()).active, false, 'the tokens it held are no longer active');

  // methods the endpoints do not have
  const patch = await request(`${srv.issuer}/register/${other.client_id}`, { method: 'PATCH', headers: { authorization: `Bearer ${other.registration_access_token}` } });
  assert.equal(patch.status, 405, show(patch));
  assert.equal(patch.headers.allow, 'GET, HEAD, PUT, DELETE');
  const getList = await request(`${srv.issuer}/register`);
  assert.equal(getList.status, 405, show(getList));
  assert.doesNotMatch(srv.logs.join(''), /not in the directory after/, 'every answer waited for its change, not for the time limit');
});

test('registrations, changes and refusals are audit events; no token or secret in them', async () => {
  const rows = await waitFor(() => {
    const out = q("SELECT action || ' ' || outcome || ' ' || coalesce(actor, '-') || ' ' || coalesce(details::text, '') FROM audit_events " +
      "WHERE action LIKE 'registration.%' ORDER BY id");
    return /registration\.delete success/.test(out) && /registration\.refuse failure - .*invalid_redirect_uri/.test(out) ? out : null;
  }, 5_000);
  assert.match(rows, /registration\.create success [A-Za-z0-9_-]{22} \{.*"grant_types": \["client_credentials"\]/);
  assert.match(rows, /registration\.refuse failure - \{"error": "invalid_token", "operation": "create"\}/);
  assert.match(rows, /registration\.refuse failure - \{"error": "invalid_token", "operation": "read"\}/);
  assert.match(rows, /registration\.update success [A-Za-z0-9_-]{22} \{"new_secret": true/);
  assert.doesNotMatch(rows, /tsra_|tscs_|iat-/);
});

test('registration_max_clients: past it registering is refused, and a deletion makes room again', async (t) => {
  const capped = databaseWith('regcap', {});
  const s = await startServer({ url: capped, env: { TESSERA_REGISTRATION_ENABLED: 'yes', TESSERA_REGISTRATION_MAX_CLIENTS: '2' } });
  t.after(() => s.stop());
  const job = { client_name: 'Capped job', grant_types: ['client_credentials'] };
  const first = await register(job, null, s), second = await register(job, null, s);
  assert.equal(first.status, 201, show(first));
  assert.equal(second.status, 201, show(second));
  const third = await register(job, null, s);
  assert.equal(third.status, 403, show(third));
  assert.equal(third.json.error, 'access_denied');
  assert.match(third.json.error_description, /no more registrations/);
  assert.equal(sql(capped, 'SELECT count(*) FROM clients'), '2', 'nothing of the refused one is stored');
  assert.match(s.logs.join(''), /registration_max_clients \(2\)/);
  assert.equal((await manage(first.json, 'DELETE')).status, 204);
  const again = await register(job, null, s);
  assert.equal(again.status, 201, show(again));
  assert.equal(sql(capped, 'SELECT count(*) FROM client_registrations'), '2');
});
