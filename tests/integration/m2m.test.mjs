// Machine to machine on one node: client credentials (RFC 6749 §4.4) with every client authentication
// method, RFC 9068 access tokens, introspection (RFC 7662, and RFC 9701's JWT answer), revocation (RFC 7009),
// errors exactly as RFC 6749 §5.2, and rate limits.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, randomBytes, verify } from 'node:crypto';
import { cli, createDatabase, sql, startServer } from './lib.mjs';
import { SECRET, apply, assertionKey, basic, decode, introspect, post, service, token } from './m2m_helpers.mjs';

let url, srv;
const pkjwt = assertionKey();

before(async () => {
  url = createDatabase('m2m');
  assert.equal(cli(['migrate'], { env: { DATABASE_URL: url } }).status, 0);
  apply(url, {
    roles: [{ name: 'reader', scopes: ['api:read'] }],
    clients: [
      service('svc', { roles: ['reader'] }),
      service('poster', { token_endpoint_auth_method: 'client_secret_post' }),
      service('other'),
      service('gateway', { may_introspect: true }),
      service('signer', { token_endpoint_auth_method: 'private_key_jwt', client_secret: undefined, jwks: { keys: [pkjwt.jwk] } }),
      { client_id: 'webapp', client_secret: SECRET, grant_types: ['authorization_code'], redirect_uris: ['https://app.example/cb'],
        scope: 'openid' },
      service('short', { access_token_ttl: 60 }),
    ],
  });
  srv = await startServer({ url });
});

after(() => srv?.stop());

test('client_secret_basic gets an RFC 9068 access token, not cacheable', async () => {
  const r = await post(srv, '/token', { grant_type: 'client_credentials' }, { authorization: basic('svc') });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('cache-control'), 'no-store');
  assert.equal(r.headers.get('pragma'), 'no-cache');
  assert.equal(r.body.token_type, 'Bearer');
  assert.equal(r.body.expires_in, 600);
  assert.equal(r.body.scope, 'api:read', 'no scope asked: the default scopes');
  const [header, claims] = decode(r.body.access_token);
  assert.equal(header.typ, 'at+jwt');
  assert.equal(header.alg, 'ES256');
  const jwks = await (await fetch(`${srv.issuer}/jwks.json`)).json();
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  assert.ok(jwk, 'kid published');
  const [h, p, s] = r.body.access_token.split('.');
  assert.ok(verify('sha256', Buffer.from(`${h}.${p}`), { key: createPublicKey({ key: jwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' },
    Buffer.from(s, 'base64url')));
  assert.equal(claims.iss, srv.issuer);
  assert.equal(claims.sub, 'svc');
  assert.equal(claims.client_id, 'svc');
  assert.equal(claims.aud, srv.issuer);
  assert.deepEqual(claims.roles, ['reader']);
  assert.equal(claims.exp - claims.iat, 600);
  assert.match(claims.jti, /^[A-Za-z0-9_-]{22}$/);
});

test('scope: a subset is granted, anything else is invalid_scope; per-client lifetime', async () => {
  const r = await post(srv, '/token', { grant_type: 'client_credentials', scope: 'api:write api:read api:write' }, { authorization: basic('svc') });
  assert.equal(r.body.scope, 'api:write api:read');
  const bad = await post(srv, '/token', { grant_type: 'client_credentials', scope: 'api:read admin' }, { authorization: basic('svc') });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error, 'invalid_scope');
  const [, claims] = decode(await token(srv, 'short'));
  assert.equal(claims.exp - claims.iat, 60);
});

test('resource indicators set aud (RFC 8707)', async () => {
  const one = decode(await token(srv, 'svc', { resource: 'https://api.example/orders' }))[1];
  assert.equal(one.aud, 'https://api.example/orders');
  const form = new URLSearchParams([['grant_type', 'client_credentials'], ['resource', 'https://a.example'], ['resource', 'https://b.example']]);
  const r = await fetch(`${srv.issuer}/token`, { method: 'POST', body: form.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('svc') } });
  assert.deepEqual(decode((await r.json()).access_token)[1].aud, ['https://a.example', 'https://b.example']);
  const bad = await post(srv, '/token', { grant_type: 'client_credentials', resource: 'https://api.example/#frag' }, { authorization: basic('svc') });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error, 'invalid_target');
});

test('client_secret_post, and the registered method is enforced', async () => {
  const ok = await post(srv, '/token', { grant_type: 'client_credentials', client_id: 'poster', client_secret: SECRET });
  assert.equal(ok.status, 200);
  const viaBasic = await post(srv, '/token', { grant_type: 'client_credentials' }, { authorization: basic('poster') });
  assert.equal(viaBasic.status, 401);
  assert.equal(viaBasic.body.error, 'invalid_client');
  const viaPost = await post(srv, '/token', { grant_type: 'client_credentials', client_id: 'svc', client_secret: SECRET });
  assert.equal(viaPost.status, 401);
});

test('RFC 6749 §5.2 errors', async () => {
  const wrong = await post(srv, '/token', { grant_type: 'client_credentials' }, { authorization: basic('svc', 'nope') });
  assert.equal(wrong.status, 401);
  assert.match(wrong.headers.get('www-authenticate'), /^Basic realm="tessera"/);
  assert.deepEqual(Object.keys(wrong.body).sort(), ['error', 'error_description']);
  const unknown = await post(srv, '/token', { grant_type: 'client_credentials' }, { authorization: basic('ghost') });
  assert.equal(unknown.status, 401);
  const none = await post(srv, '/token', { grant_type: 'client_credentials' });
  assert.equal(none.status, 401);
  assert.equal(none.body.error, 'invalid_client');
  const two = await post(srv, '/token', { grant_type: 'client_credentials', client_id: 'svc', client_secret: SECRET }, { authorization: basic('svc') });
  assert.equal(two.status, 400);
  assert.equal(two.body.error, 'invalid_request');
  const noGrant = await post(srv, '/token', {}, { authorization: basic('svc') });
  assert.equal(noGrant.body.error, 'invalid_request');
  const password = await post(srv, '/token', { grant_type: 'password', username: 'a', password: 'b' }, { authorization: basic('svc') });
  assert.equal(password.body.error, 'unsupported_grant_type');
  const unauthorized = await post(srv, '/token', { grant_type: 'client_credentials' }, { authorization: basic('webapp') });
  assert.equal(unauthorized.status, 400);
  assert.equal(unauthorized.body.error, 'unauthorized_client');
  const repeated = await post(srv, '/token', 'grant_type=client_credentials&scope=api:read&scope=api:write', { authorization: basic('svc') });
  assert.equal(repeated.status, 400);
  assert.equal(repeated.body.error, 'invalid_request');
  const json = await fetch(`${srv.issuer}/token`, { method: 'POST', body: '{"grant_type":"client_credentials"}',
    headers: { 'content-type': 'application/json', authorization: basic('svc') } });
  assert.equal(json.status, 400);
  assert.equal((await json.json()).error, 'invalid_request');
  const get = await fetch(`${srv.issuer}/token`);
  assert.equal(get.status, 405);
});

test('private_key_jwt: a fresh assertion works once, a replay or a bad one does not', async () => {
  const now = Math.floor(Date.now() / 1000);
  const claims = (extra = {}) => ({ iss: 'signer', sub: 'signer', aud: `${srv.issuer}/token`, iat: now, exp: now + 60,
    jti: randomBytes(8).toString('hex'), ...extra });
  const form = (assertion) => ({ grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion });
  const a = pkjwt.assertion(claims());
  const first = await post(srv, '/token', form(a));
  assert.equal(first.status, 200, first.text);
  const replay = await post(srv, '/token', form(a));
  assert.equal(replay.status, 401);
  assert.equal(replay.body.error, 'invalid_client');
  for (const bad of [claims({ aud: 'https://elsewhere.example' }), claims({ exp: now - 5 }), claims({ exp: now + 3600 }),
    claims({ iss: 'other' }), claims({ jti: undefined })]) {
    const r = await post(srv, '/token', form(pkjwt.assertion(bad)));
    assert.equal(r.status, 401, JSON.stringify(bad));
  }
  const issuerAud = await post(srv, '/token', form(pkjwt.assertion(claims({ aud: [srv.issuer] }))));
  assert.equal(issuerAud.status, 200);
  const stranger = assertionKey(pkjwt.jwk.kid);
  const forged = await post(srv, '/token', form(stranger.assertion(claims())));
  assert.equal(forged.status, 401);
});

test('introspection: the caller must be allowed; active answers carry the RFC 7662 members', async () => {
  const tok = await token(srv, 'svc', { scope: 'api:read api:write' });
  const denied = await post(srv, '/introspect', { token: tok }, { authorization: basic('other') });
  assert.equal(denied.status, 403);
  const anon = await post(srv, '/introspect', { token: tok });
  assert.equal(anon.status, 401);
  const r = await post(srv, '/introspect', { token: tok }, { authorization: basic('gateway') });
  assert.equal(r.headers.get('cache-control'), 'no-store');
  const a = r.body;
  assert.equal(a.active, true);
  for (const m of ['scope', 'client_id', 'sub', 'aud', 'iss', 'exp', 'iat', 'token_type', 'roles']) assert.ok(m in a, m);
  assert.equal(a.scope, 'api:read api:write');
  assert.equal(a.token_type, 'Bearer');
  assert.deepEqual(a.roles, ['reader']);
  for (const junk of ['', 'x', 'a.b.c', tok.slice(0, -2), `${tok}x`, 'tsr_nothing', tok.replace(/\.[^.]+\./, '.e30.')]) {
    const j = await post(srv, '/introspect', { token: junk }, { authorization: basic('gateway') });
    assert.equal(j.status, junk === '' ? 200 : 200);
    assert.deepEqual(j.body, { active: false }, `for ${junk.slice(0, 20)}`);
  }
  const missing = await post(srv, '/introspect', {}, { authorization: basic('gateway') });
  assert.equal(missing.status, 400);
});

test('introspection as a signed JWT (RFC 9701)', async () => {
  const tok = await token(srv, 'svc');
  const r = await post(srv, '/introspect', { token: tok }, { authorization: basic('gateway'), accept: 'application/token-introspection+jwt' });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'application/token-introspection+jwt');
  const [header, claims] = decode(r.text);
  assert.equal(header.typ, 'token-introspection+jwt');
  assert.equal(header.alg, 'RS256');
  const jwk = (await (await fetch(`${srv.issuer}/jwks.json`)).json()).keys.find((k) => k.kid === header.kid);
  const [h, p, s] = r.text.split('.');
  assert.ok(verify('sha256', Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(s, 'base64url')));
  assert.equal(claims.iss, srv.issuer);
  assert.equal(claims.aud, 'gateway');
  assert.equal(claims.token_introspection.active, true);
  assert.equal(claims.token_introspection.client_id, 'svc');
});

test('revocation: own tokens only, unknown tokens 200, and the answer changes at once', async () => {
  const mine = await token(srv, 'svc');
  const theirs = await token(srv, 'other');
  const r1 = await post(srv, '/revoke', { token: theirs }, { authorization: basic('svc') });
  assert.equal(r1.status, 200);
  assert.equal((await introspect(srv, theirs)).active, true, "another client's token is left alone");
  for (const junk of ['nonsense', 'a.b.c', 'tsr_unknown']) {
    assert.equal((await post(srv, '/revoke', { token: junk, token_type_hint: 'refresh_token' }, { authorization: basic('svc') })).status, 200);
  }
  const r2 = await post(srv, '/revoke', { token: mine, token_type_hint: 'refresh_token' }, { authorization: basic('svc') });
  assert.equal(r2.status, 200);
  assert.deepEqual(await introspect(srv, mine), { active: false });
  assert.equal(sql(url, "SELECT count(*) FROM revoked_tokens WHERE kind = 'jti'"), '1');
  const unauth = await post(srv, '/revoke', { token: mine });
  assert.equal(unauth.status, 401);
  const noToken = await post(srv, '/revoke', {}, { authorization: basic('svc') });
  assert.equal(noToken.status, 400);
});

test('refresh tokens introspect from the database and revoke with their whole family', async () => {
  const handle = `tsr_${randomBytes(32).toString('base64url')}`;
  const hash = (await import('node:crypto')).createHash('sha256').update(handle).digest('base64url');
  const family = sql(url, 'SELECT gen_random_uuid()');
  sql(url, `INSERT INTO refresh_tokens (token_hash, family_id, client_pk, scopes, idle_expires_at, expires_at)
            SELECT '${hash}', '${family}', id, '{api:read}', now() + interval '1 hour', now() + interval '1 day' FROM clients WHERE client_id = 'svc'`);
  const a = await introspect(srv, handle);
  assert.equal(a.active, true);
  assert.equal(a.token_type, 'refresh_token');
  assert.equal(a.client_id, 'svc');
  assert.equal(a.scope, 'api:read');
  assert.equal((await post(srv, '/revoke', { token: handle }, { authorization: basic('other') })).status, 200);
  assert.equal((await introspect(srv, handle)).active, true, 'another client cannot revoke it');
  assert.equal((await post(srv, '/revoke', { token: handle, token_type_hint: 'access_token' }, { authorization: basic('svc') })).status, 200);
  assert.deepEqual(await introspect(srv, handle), { active: false });
  assert.equal(sql(url, `SELECT count(*) FROM revoked_tokens WHERE kind = 'family' AND value = '${family}'`), '1');
});

test('role changes and a disabled client show in the very next introspection', async () => {
  const tok = await token(srv, 'svc');
  assert.deepEqual((await introspect(srv, tok)).roles, ['reader']);
  apply(url, { roles: [{ name: 'reader', scopes: ['api:read'] }, { name: 'writer', scopes: ['api:write'] }],
    clients: [service('svc', { roles: ['reader', 'writer'] })] });
  const { waitFor } = await import('./lib.mjs');
  await waitFor(async () => (await introspect(srv, tok)).roles?.length === 2, 2000, 20);
  assert.equal(cli(['client', 'disable', 'svc'], { env: { DATABASE_URL: url } }).status, 0);
  await waitFor(async () => (await introspect(srv, tok)).active === false, 2000, 20);
  const refused = await post(srv, '/token', { grant_type: 'client_credentials' }, { authorization: basic('svc') });
  assert.equal(refused.status, 401);
  assert.equal(cli(['client', 'enable', 'svc'], { env: { DATABASE_URL: url } }).status, 0);
  await waitFor(async () => (await introspect(srv, tok)).active === true, 2000, 20);
});

test('rate limits: 429 with Retry-After, RateLimit-* and a JSON body naming the limit', async (t) => {
  const limited = await startServer({ url, env: { TESSERA_RATE_LIMIT_CLIENT_RATE: '1', TESSERA_RATE_LIMIT_CLIENT_BURST: '3' } });
  t.after(() => limited.stop());
  const statuses = [];
  let last;
  for (let i = 0; i < 6; i++) {
    last = await post(limited, '/token', { grant_type: 'client_credentials' }, { authorization: basic('other') });
    statuses.push(last.status);
  }
  assert.deepEqual(statuses.slice(0, 3), [200, 200, 200]);
  assert.equal(statuses[5], 429);
  assert.match(last.headers.get('retry-after'), /^[1-9]\d*$/);
  assert.ok(last.headers.get('ratelimit-limit'));
  assert.equal(last.headers.get('ratelimit-remaining'), '0');
  assert.ok(last.headers.get('ratelimit-reset'));
  assert.equal(last.body.error, 'too_many_requests');
  assert.equal(last.body.limit, 'client');
  assert.ok(last.body.retry_after >= 1);
  // another client is not affected
  assert.equal((await post(limited, '/token', { grant_type: 'client_credentials', client_id: 'poster', client_secret: SECRET })).status, 200);
  assert.ok(limited.logs.join('').includes('rate limit'), 'rejections are logged');
});
