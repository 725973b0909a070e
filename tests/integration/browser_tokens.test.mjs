// The tokens of the browser flows (docs/browser-flows.md "Tokens") against a real server and PostgreSQL:
// grant_type=authorization_code (RFC 6749 §4.1.3, RFC 7636 §4.6) and its errors, ID tokens (OIDC Core §2,
// §3.1.3.6) verified against /jwks.json with node:crypto, refresh token rotation and reuse detection
// (RFC 9700 §4.14), and /userinfo (OIDC Core §5.3, RFC 6750). Sign-in happens without a browser: the helpers
// walk /authorize and /login with a cookie jar; the clients here skip consent, so a session gives a code at once.
//
// The server runs with authorization_code_ttl=5s (the minimum), so the expired-code test waits only a few
// seconds; every other code is exchanged within milliseconds of its issue.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sleep, startServer, waitFor } from './lib.mjs';
import {
  Jar, SECRET, atHash, authParams, authorize, basic, databaseWith, decode, isLoginPage, login, request, show, signIn, tessera,
  tokenRequest, verifyJws,
} from './browser_helpers.mjs';

const CB = 'https://app.example/cb';
const SPA_CB = 'https://spa.example/cb';
const LEGACY_CB = 'https://legacy.example/cb';
const SCOPE = 'openid profile email';
const CODE_TTL = 5;
const CODE = ['authorization_code'];

const user = (username) => ({ username, password: `pw-${username}-${randomBytes(8).toString('hex')}`,
  email: `${username}@example.test`, name: `${username[0].toUpperCase()}${username.slice(1)} Example` });
const alice = user('alice'), zed = user('zed'), yan = user('yan');

let url, srv, jwks;
const aliceJar = new Jar();
let aliceLogin; // {from, to}: the wall-clock window (ms) of alice's login
let early; // a code issued right after start, for the expiry test at the end

before(async () => {
  const common = { client_secret: SECRET, token_endpoint_auth_method: 'client_secret_basic', skip_consent: true };
  url = databaseWith('browser_tok', {
    clients: [
      { client_id: 'web', ...common, grant_types: [...CODE, 'refresh_token'], redirect_uris: [CB], scope: SCOPE },
      { client_id: 'web2', ...common, grant_types: [...CODE, 'refresh_token'], redirect_uris: [CB], scope: SCOPE },
      { client_id: 'spa', token_endpoint_auth_method: 'none', grant_types: CODE, redirect_uris: [SPA_CB], scope: SCOPE,
        skip_consent: true, id_token_signed_response_alg: 'ES256' },
      { client_id: 'legacy', ...common, grant_types: CODE, redirect_uris: [LEGACY_CB], scope: 'openid profile', require_pkce: false },
      { client_id: 'm2m', client_secret: SECRET, grant_types: ['client_credentials'], scope: 'api:read', default_scope: 'api:read' },
      { client_id: 'rs', client_secret: SECRET, grant_types: ['client_credentials'], scope: 'api:read', may_introspect: true },
    ],
    users: [alice, zed, yan],
  });
  srv = await startServer({ url, env: { TESSERA_AUTHORIZATION_CODE_TTL: `${CODE_TTL}s` } });
  const keys = await request(`${srv.issuer}/jwks.json`);
  assert.equal(keys.status, 200, show(keys));
  jwks = keys.json;
  // alice's session, and the first code: the one that will have expired by the last test
  const page = await authorize(srv, authParams('web', CB).params, { jar: aliceJar });
  assert.ok(isLoginPage(page), show(page));
  aliceLogin = { from: Date.now() };
  const r = await login(srv, page, alice.username, alice.password, { jar: aliceJar });
  aliceLogin.to = Date.now();
  assert.equal(r.status, 303, `skip_consent: straight back with a code: ${show(r)}`);
  early = { ...(await code()), at: Date.now() };
});

after(async () => {
  if (srv && (srv.child.exitCode !== null || srv.child.signalCode !== null))
    console.error(`tessera died during the tests:\n${srv.logs.join('').slice(-4000)}`);
  await srv?.stop();
});

/** a fresh code for client (alice's session by default): {code, verifier, state, nonce} */
async function code(clientId = 'web', redirectUri = CB, extra = {}, jar = aliceJar, u = alice) {
  const s = await signIn(srv, jar, clientId, redirectUri, { user: u, extra });
  assert.match(s.code ?? '', /^tsac_/, `a code: ${s.back}`);
  return s;
}

/** POST /token grant_type=authorization_code for s, as clientId (Basic with SECRET; 'none' for public clients) */
function exchange(s, { client = 'web', redirectUri = CB, auth = 'basic', form = {} } = {}) {
  const base = { grant_type: 'authorization_code', code: s.code, redirect_uri: redirectUri, code_verifier: s.verifier };
  const all = Object.fromEntries(Object.entries({ ...base, ...form }).filter(([, v]) => v !== null && v !== undefined));
  if (auth === 'none') return tokenRequest(srv, { ...all, client_id: client });
  return tokenRequest(srv, all, auth === 'basic' ? { authorization: basic(client) } : {});
}

/** exchanges and asserts success; returns the JSON body */
async function tokens(s, opts) {
  const r = await exchange(s, opts);
  assert.equal(r.status, 200, show(r));
  return r.json;
}

const refresh = (rt, { client = 'web', scope } = {}) =>
  tokenRequest(srv, { grant_type: 'refresh_token', refresh_token: rt, ...(scope !== undefined ? { scope } : {}) },
    { authorization: basic(client) });

/** an RFC 6749 §5.2 error response with the given code */
function assertTokenError(r, error, status) {
  assert.equal(r.json?.error, error, show(r));
  if (status) assert.equal(r.status, status, show(r));
  else assert.ok(r.status === 400 || r.status === 401, show(r));
  assert.equal(r.json.access_token, undefined);
  assert.match(r.headers['cache-control'] ?? '', /no-store/);
}

async function introspect(token) {
  const r = await tokenRequestTo('/introspect', { token }, 'rs');
  assert.equal(r.status, 200, show(r));
  return r.json;
}
const tokenRequestTo = (path, form, client) => request(`${srv.issuer}${path}`, { form, headers: { authorization: basic(client) } });

const userinfo = (token, opts = {}) => request(`${srv.issuer}/userinfo`, { headers: { authorization: `Bearer ${token}` }, ...opts });

const nowS = () => Math.floor(Date.now() / 1000);

/* ---- authorization_code: success and the ID token ---------------------------------------------------- */

test('authorization_code: the response, the access token and the RS256 ID token with every claim', async () => {
  const s = await code();
  const r = await exchange(s);
  assert.equal(r.status, 200, show(r));
  assert.match(r.headers['cache-control'] ?? '', /no-store/);
  const t = r.json;
  assert.equal(t.token_type, 'Bearer');
  assert.equal(t.scope, SCOPE);
  assert.ok(Number.isInteger(t.expires_in) && t.expires_in > 0);
  assert.match(t.refresh_token, /^tsr_/);

  const at = decode(t.access_token);
  assert.equal(at.header.typ, 'at+jwt');
  assert.ok(verifyJws(t.access_token, jwks), 'the access token verifies against /jwks.json');
  assert.equal(at.claims.iss, srv.issuer);
  assert.equal(at.claims.client_id, 'web');
  assert.equal(at.claims.scope, SCOPE);
  assert.ok(at.claims.grant_id, 'grant_id (RFC 9068 profile of this server)');
  assert.ok(Number.isInteger(at.claims.auth_time), 'auth_time in the access token');

  const id = decode(t.id_token);
  assert.equal(id.header.alg, 'RS256', 'RS256 by default');
  assert.equal(id.header.typ, 'JWT');
  assert.ok(id.header.kid);
  assert.ok(verifyJws(t.id_token, jwks), 'the ID token verifies against /jwks.json');
  const c = id.claims;
  assert.equal(c.iss, srv.issuer);
  assert.equal(c.sub, at.claims.sub);
  assert.ok(c.aud === 'web' || (Array.isArray(c.aud) && c.aud.includes('web')), `aud: ${JSON.stringify(c.aud)}`);
  assert.equal(c.azp, 'web');
  assert.ok(Math.abs(c.iat - nowS()) <= 5, `iat is now: ${c.iat}`);
  assert.equal(c.exp - c.iat, 3600, 'exp: id_token_ttl (1 h by default) after iat');
  assert.equal(c.nonce, s.nonce);
  assert.equal(c.at_hash, atHash(t.access_token), 'at_hash: left half of SHA-256 of the access token');
  assert.deepEqual(c.amr, ['pwd']);
  assert.ok(c.auth_time >= Math.floor(aliceLogin.from / 1000) && c.auth_time <= Math.ceil(aliceLogin.to / 1000),
    `auth_time ${c.auth_time} is alice's login (${aliceLogin.from}..${aliceLogin.to} ms)`);
  assert.equal(at.claims.auth_time, c.auth_time);
  // a signature over other claims does not verify
  const [h, p, sig] = t.id_token.split('.');
  const forged = `${h}.${Buffer.from(JSON.stringify({ ...c, sub: 'mallory' })).toString('base64url')}.${sig}`;
  assert.equal(verifyJws(forged, jwks), false);
});

test('authorization_code: ID token auth_time is never after iat (the time of the login, not rounded up)', async () => {
  const jar = new Jar();
  const req = authParams('web', CB);
  const page = await authorize(srv, req.params, { jar });
  assert.ok(isLoginPage(page), show(page));
  // sign in at 0.6 s past a whole second, and exchange the code within the same second
  await sleep((600 - (Date.now() % 1000) + 1000) % 1000);
  const r = await login(srv, page, yan.username, yan.password, { jar });
  const to = Date.now();
  assert.equal(r.status, 303, show(r));
  const t = await tokens({ code: new URL(r.location).searchParams.get('code'), verifier: req.verifier });
  const id = decode(t.id_token).claims, at = decode(t.access_token).claims;
  assert.ok(id.auth_time <= Math.floor(to / 1000), `auth_time ${id.auth_time} is not after the login (done at ${to} ms)`);
  assert.ok(id.auth_time <= id.iat, `auth_time ${id.auth_time} <= iat ${id.iat}`);
  assert.ok(at.auth_time <= at.iat, `access token auth_time ${at.auth_time} <= iat ${at.iat}`);
});

test('authorization_code: ES256 ID token for a client registered so; a public client; no refresh token without the grant',
  async () => {
    const s = await code('spa', SPA_CB);
    const t = await tokens(s, { client: 'spa', redirectUri: SPA_CB, auth: 'none' });
    const id = decode(t.id_token);
    assert.equal(id.header.alg, 'ES256');
    assert.ok(verifyJws(t.id_token, jwks), 'the ES256 ID token verifies against /jwks.json');
    assert.equal(id.claims.aud, 'spa');
    assert.equal(id.claims.azp, 'spa');
    assert.equal(id.claims.nonce, s.nonce);
    assert.equal(id.claims.at_hash, atHash(t.access_token));
    assert.equal(t.refresh_token, undefined, 'no refresh token for a client without the refresh_token grant');
    const r = await tokenRequest(srv, { grant_type: 'refresh_token', refresh_token: 'tsr_whatever', client_id: 'spa' });
    assertTokenError(r, 'unauthorized_client');
  });

test('authorization_code: a scope without openid gets no ID token', async () => {
  const s = await code('web', CB, { scope: 'profile' });
  const t = await tokens(s);
  assert.equal(t.scope, 'profile');
  assert.equal(t.id_token, undefined);
});

/* ---- authorization_code: errors ---------------------------------------------------------------------- */

test('authorization_code: a wrong or missing code_verifier is invalid_grant', async () => {
  const wrong = await exchange({ ...(await code()), verifier: randomBytes(32).toString('base64url') });
  assertTokenError(wrong, 'invalid_grant', 400);
  const missing = await exchange({ ...(await code()), verifier: null });
  assertTokenError(missing, 'invalid_grant', 400);
  const malformed = await exchange({ ...(await code()), verifier: 'short' });
  assertTokenError(malformed, 'invalid_request', 400);
});

test('authorization_code: a code_verifier for a code issued without a challenge is refused (PKCE downgrade)', async () => {
  const noPkce = { code_challenge: null, code_challenge_method: null, scope: 'openid' };
  const s = await code('legacy', LEGACY_CB, noPkce);
  const r = await exchange({ ...s, verifier: randomBytes(32).toString('base64url') }, { client: 'legacy', redirectUri: LEGACY_CB });
  assertTokenError(r, 'invalid_grant', 400);
  // without a verifier the same kind of code works, with the nonce in the ID token
  const ok = await code('legacy', LEGACY_CB, noPkce);
  const t = await tokens({ ...ok, verifier: null }, { client: 'legacy', redirectUri: LEGACY_CB });
  assert.equal(decode(t.id_token).claims.nonce, ok.nonce);
});

test('authorization_code: a redirect_uri other than the request\'s is invalid_grant', async () => {
  for (const uri of ['https://app.example/other', `${CB}/`, 'https://APP.example/cb']) {
    const r = await exchange(await code(), { redirectUri: uri });
    assertTokenError(r, 'invalid_grant', 400);
  }
});

test('authorization_code: redirect_uri left out although the authorization request had one', async () => {
  const r = await exchange(await code(), { form: { redirect_uri: null } });
  assert.ok(r.json?.error === 'invalid_request' || r.json?.error === 'invalid_grant', show(r));
});

test('authorization_code: the code of another client is invalid_grant', async () => {
  const r = await exchange(await code(), { client: 'web2' });
  assertTokenError(r, 'invalid_grant', 400);
  const unknown = await exchange({ code: `tsac_${randomBytes(32).toString('base64url')}`, verifier: randomBytes(32).toString('base64url') });
  assertTokenError(unknown, 'invalid_grant', 400);
  const notACode = await exchange({ code: 'hello', verifier: randomBytes(32).toString('base64url') });
  assertTokenError(notACode, 'invalid_grant', 400);
  const none = await exchange({ code: null, verifier: null });
  assertTokenError(none, 'invalid_request', 400);
});

test('authorization_code: reuse is invalid_grant and revokes what the first use issued', async () => {
  const s = await code();
  const first = await tokens(s);
  assert.equal((await introspect(first.access_token)).active, true, 'active before the reuse');
  assert.equal((await userinfo(first.access_token)).status, 200);
  const second = await exchange(s);
  assertTokenError(second, 'invalid_grant', 400);
  const r = await refresh(first.refresh_token);
  assertTokenError(r, 'invalid_grant', 400);
  assert.equal((await introspect(first.access_token)).active, false, 'the access token of the first use is revoked');
  assert.equal((await userinfo(first.access_token)).status, 401, 'and useless at /userinfo');
  assert.ok(srv.logs.join('').includes('authorization code replayed'), 'the replay is logged');
});

test('authorization_code: client authentication (public with a secret, confidential without) and the grant type', async () => {
  const s = await code('spa', SPA_CB);
  const withSecret = await tokenRequest(srv, { grant_type: 'authorization_code', code: s.code, redirect_uri: SPA_CB,
    code_verifier: s.verifier, client_id: 'spa', client_secret: SECRET });
  assertTokenError(withSecret, 'invalid_client');
  const viaBasic = await exchange(await code('spa', SPA_CB), { client: 'spa', redirectUri: SPA_CB });
  assertTokenError(viaBasic, 'invalid_client');
  const anonymous = await exchange(await code(), { auth: 'none' });
  assertTokenError(anonymous, 'invalid_client', 401);
  const noId = await exchange(await code(), { auth: 'nothing' });
  assertTokenError(noId, 'invalid_client', 401);
  const wrongSecret = await tokenRequest(srv, { grant_type: 'authorization_code', code: (await code()).code, redirect_uri: CB },
    { authorization: basic('web', `${SECRET}x`) });
  assertTokenError(wrongSecret, 'invalid_client', 401);
  assert.match(wrongSecret.headers['www-authenticate'] ?? '', /^Basic/);
  const m2m = await tokenRequest(srv, { grant_type: 'authorization_code', code: (await code()).code, redirect_uri: CB },
    { authorization: basic('m2m') });
  assertTokenError(m2m, 'unauthorized_client', 400);
});

/* ---- refresh_token ----------------------------------------------------------------------------------- */

test('refresh_token: rotation; the spent token again revokes the whole family', async () => {
  const t1 = await tokens(await code());
  const r2 = await refresh(t1.refresh_token);
  assert.equal(r2.status, 200, show(r2));
  const t2 = r2.json;
  assert.match(t2.refresh_token, /^tsr_/);
  assert.notEqual(t2.refresh_token, t1.refresh_token, 'a new refresh token');
  assert.notEqual(t2.access_token, t1.access_token);
  assert.equal(t2.scope, SCOPE);
  assert.equal(decode(t2.access_token).claims.grant_id, decode(t1.access_token).claims.grant_id, 'the same grant');
  // OIDC Core §12.2: a refreshed ID token keeps iss, sub, aud, azp and auth_time, and has no nonce
  assert.ok(t2.id_token, 'openid was granted: an ID token on refresh');
  assert.ok(verifyJws(t2.id_token, jwks));
  const id1 = decode(t1.id_token).claims, id2 = decode(t2.id_token).claims;
  for (const k of ['iss', 'sub', 'aud', 'azp', 'auth_time']) assert.deepEqual(id2[k], id1[k], `refreshed ID token ${k}`);
  assert.equal(id2.nonce, undefined, 'no nonce in a refreshed ID token');
  assert.equal(id2.at_hash, atHash(t2.access_token));
  // the old one again: refused, and the family with it
  assertTokenError(await refresh(t1.refresh_token), 'invalid_grant', 400);
  assertTokenError(await refresh(t2.refresh_token), 'invalid_grant', 400);
  assert.equal((await introspect(t2.access_token)).active, false, 'the access tokens of the family are revoked');
  assert.ok(srv.logs.join('').includes('refresh token reuse'), 'the reuse is logged');
});

test('refresh_token: scope may narrow the access token, not widen the grant', async () => {
  const t = await tokens(await code());
  const narrow = await refresh(t.refresh_token, { scope: 'openid' });
  assert.equal(narrow.status, 200, show(narrow));
  assert.equal(narrow.json.scope, 'openid');
  assert.equal(decode(narrow.json.access_token).claims.scope, 'openid');
  const info = await userinfo(narrow.json.access_token);
  assert.equal(info.status, 200, show(info));
  assert.deepEqual(Object.keys(info.json), ['sub'], 'openid alone releases sub only');
  // the grant keeps its scope: the next refresh without scope gets all of it again
  const full = await refresh(narrow.json.refresh_token);
  assert.equal(full.status, 200, show(full));
  assert.equal(full.json.scope, SCOPE);
  for (const scope of ['openid admin', 'openid profile email offline_access', 'api:read']) {
    assertTokenError(await refresh(full.json.refresh_token, { scope }), 'invalid_scope', 400);
  }
});

test('refresh_token: another client\'s refresh token is invalid_grant', async () => {
  const t = await tokens(await code());
  assertTokenError(await refresh(t.refresh_token, { client: 'web2' }), 'invalid_grant', 400);
  assertTokenError(await refresh(`tsr_${randomBytes(32).toString('base64url')}`), 'invalid_grant', 400);
  assertTokenError(await refresh('nonsense'), 'invalid_grant', 400);
  // it did not spend the token: its client still can
  const ok = await refresh(t.refresh_token);
  assert.equal(ok.status, 200, show(ok));
});

test('refresh_token: a user disabled with `tessera user disable` gets invalid_grant; their access token stops working', async () => {
  const jar = new Jar();
  const s = await code('web', CB, {}, jar, zed);
  const t = await tokens(s);
  assert.equal((await userinfo(t.access_token)).status, 200);
  tessera(url, 'user', 'disable', zed.username);
  let rt = t.refresh_token;
  // the change reaches the server by NOTIFY; until then a refresh still rotates (follow it)
  const r = await waitFor(async () => {
    const x = await refresh(rt);
    if (x.status === 200) { rt = x.json.refresh_token; return null; }
    return x;
  }, 10_000, 100);
  assertTokenError(r, 'invalid_grant', 400);
  assert.equal((await userinfo(t.access_token)).status, 401, 'a disabled user\'s access token is not active');
  // and the session no longer signs them in
  assert.ok(isLoginPage(await authorize(srv, authParams('web', CB).params, { jar })), 'the login page');
});

/* ---- /userinfo --------------------------------------------------------------------------------------- */

test('/userinfo: claims by scope, by GET with a bearer token and by POST with the form', async () => {
  const profile = await tokens(await code('web', CB, { scope: 'openid profile' }));
  const sub = decode(profile.id_token).claims.sub;
  const g = await userinfo(profile.access_token);
  assert.equal(g.status, 200, show(g));
  assert.match(g.headers['content-type'], /^application\/json/);
  assert.match(g.headers['cache-control'] ?? '', /no-store/);
  assert.deepEqual(g.json, { sub, name: alice.name, preferred_username: alice.username }, 'no email without the email scope');
  const email = await tokens(await code('web', CB, { scope: 'openid email' }));
  const e = await userinfo(email.access_token);
  assert.equal(e.json.email, alice.email);
  assert.equal(typeof e.json.email_verified, 'boolean');
  assert.equal(e.json.name, undefined, 'no name without the profile scope');
  const p = await request(`${srv.issuer}/userinfo`, { form: { access_token: profile.access_token } });
  assert.equal(p.status, 200, show(p));
  assert.deepEqual(p.json, g.json);
  const viaHeader = await userinfo(profile.access_token, { method: 'POST' });
  assert.equal(viaHeader.status, 200, show(viaHeader));
});

test('/userinfo: no token is 401 with the bare challenge; a bad one invalid_token', async () => {
  const none = await request(`${srv.issuer}/userinfo`);
  assert.equal(none.status, 401, show(none));
  assert.equal(none.headers['www-authenticate'], 'Bearer realm="tessera"');
  const t = await tokens(await code());
  // never from the query string (RFC 9700 §4.3.2)
  const query = await request(`${srv.issuer}/userinfo?access_token=${encodeURIComponent(t.access_token)}`);
  assert.equal(query.status, 401, show(query));
  const [h, p, s] = t.access_token.split('.');
  for (const bad of ['garbage', 'a.b.c', `${h}.${p}.${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`, t.id_token]) {
    const r = await userinfo(bad);
    assert.equal(r.status, 401, show(r));
    assert.match(r.headers['www-authenticate'] ?? '', /^Bearer realm="tessera", error="invalid_token"/);
    assert.equal(r.json?.error, 'invalid_token');
  }
});

test('/userinfo: a client_credentials token is 403 insufficient_scope', async () => {
  const r = await tokenRequest(srv, { grant_type: 'client_credentials' }, { authorization: basic('m2m') });
  assert.equal(r.status, 200, show(r));
  const u = await userinfo(r.json.access_token);
  assert.equal(u.status, 403, show(u));
  assert.match(u.headers['www-authenticate'] ?? '', /error="insufficient_scope"/);
  assert.equal(u.json?.error, 'insufficient_scope');
  // a user's token without openid: the same
  const noOpenid = await tokens(await code('web', CB, { scope: 'profile' }));
  const n = await userinfo(noOpenid.access_token);
  assert.equal(n.status, 403, show(n));
  assert.equal(n.json?.error, 'insufficient_scope');
});

test('/userinfo: a token in both the header and the body is 400 invalid_request', async () => {
  const t = await tokens(await code());
  const r = await request(`${srv.issuer}/userinfo`, { form: { access_token: t.access_token },
    headers: { authorization: `Bearer ${t.access_token}` } });
  assert.equal(r.status, 400, show(r));
  assert.equal(r.json?.error, 'invalid_request');
  assert.match(r.headers['www-authenticate'] ?? '', /error="invalid_request"/);
  const basicScheme = await request(`${srv.issuer}/userinfo`, { headers: { authorization: basic('web') } });
  assert.ok(basicScheme.status === 400 || basicScheme.status === 401, show(basicScheme));
});

test('/userinfo: a token revoked at /revoke is 401', async () => {
  const t = await tokens(await code());
  assert.equal((await userinfo(t.access_token)).status, 200);
  const rv = await tokenRequestTo('/revoke', { token: t.access_token }, 'web');
  assert.equal(rv.status, 200, show(rv));
  const r = await userinfo(t.access_token);
  assert.equal(r.status, 401, show(r));
  assert.match(r.headers['www-authenticate'] ?? '', /error="invalid_token"/);
});

/* ---- last: the code issued at the start has expired by now ------------------------------------------- */

test(`authorization_code: a code older than authorization_code_ttl (${CODE_TTL} s) is invalid_grant`, async () => {
  await sleep(Math.max(0, early.at + (CODE_TTL + 1.2) * 1000 - Date.now()));
  const r = await exchange(early);
  assertTokenError(r, 'invalid_grant', 400);
  assert.match(r.json.error_description ?? '', /expired/);
});
