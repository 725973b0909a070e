// What this proves: a person in a real browser (Chromium, driven by playwright-core) can sign in to
// applications through Tessera with the Authorization Code flow and PKCE (RFC 6749 §4.1, RFC 7636,
// OpenID Connect Core §3.1), as docs/browser-flows.md specifies, and independent client software
// (openid-client v6 for the protocol, jose for the signatures) accepts what comes back. Tessera runs
// over TLS with a self-signed certificate that openid-client trusts exactly (no verification turned
// off); Chromium, which cannot be handed a private CA here, ignores certificate errors.
//
// Covered: the login and consent pages (and their security headers), the code and its exchange for a
// confidential (client_secret_basic) and a public (none + PKCE) client, ID tokens (iss, aud, azp,
// nonce, at_hash, auth_time, amr; RS256 and ES256) verified against the JWKS, RFC 9068 access tokens,
// UserInfo, the session cookie, single sign-on, prompt=none/login, consent denied, a wrong password,
// CSRF on the login form, refresh token rotation with reuse detection (RFC 9700 §4.14), authorization
// code reuse revoking what the first exchange issued, errors that must never be redirected, and
// RP-initiated logout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import * as client from 'openid-client';
import * as jose from 'jose';
import { startServer, waitFor } from '../integration/lib.mjs';
import { basicAuth, databaseWith, fetchTrusting, makeCert, newSecret, request, requestForm, tempDir } from './lib.mjs';
import {
  browserMissing, consent, describe, launchBrowser, login, onConsentPage, onLoginPage, screenshot, startRedirectTarget,
  waitForRedirectTo,
} from './browser.mjs';

// without Chromium or playwright-core the tests are skipped, except in CI, where that is a failure
const missing = browserMissing();
const skip = missing && !process.env.CI ? missing : false;

const SESSION_COOKIE = '__Host-tessera_session';
const SCOPE = 'openid profile email';
const INCORRECT = 'Incorrect username or password.';
const secrets = { webapp: newSecret(), rs: newSecret() };
const user = (username, name) => ({ username, password: `pw-${username}-${newSecret().slice(0, 12)}`, email: `${username}@example.test`, name });
const users = {
  alice: user('alice', 'Alice Liddell'), bob: user('bob', 'Bob Builder'), carol: user('carol', 'Carol Danvers'),
  dave: user('dave', 'Dave Bowman'), erin: user('erin', 'Erin Brockovich'), frank: user('frank', 'Frank Poole'),
  grace: user('grace', 'Grace Hopper'),
};

let dir, ca, rp, CB, LOGGED_OUT, srv, meta, JWKS, webapp, spa, browser, tlsFetch;

before(async () => {
  if (skip) return;
  if (missing) throw new Error(missing);
  dir = tempDir('e2e-browser');
  const cert = makeCert(dir, 'tessera');
  ca = fs.readFileSync(cert.crt);
  rp = await startRedirectTarget();
  CB = rp.url('/cb');
  LOGGED_OUT = rp.url('/logged-out');
  const code = ['authorization_code'];
  const url = databaseWith('e2e_browser', {
    roles: [{ name: 'reader', scopes: ['orders:read'] }],
    clients: [
      { client_id: 'webapp', client_name: 'Web App', client_secret: secrets.webapp, token_endpoint_auth_method: 'client_secret_basic',
        grant_types: [...code, 'refresh_token'], redirect_uris: [CB], post_logout_redirect_uris: [LOGGED_OUT], scope: SCOPE },
      { client_id: 'spa', client_name: 'Single Page App', token_endpoint_auth_method: 'none', grant_types: code,
        redirect_uris: [CB], scope: SCOPE, id_token_signed_response_alg: 'ES256' },
      // a resource server that may introspect, to see what code reuse revoked
      { client_id: 'rs', client_secret: secrets.rs, token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['client_credentials'], scope: 'orders:read', may_introspect: true },
    ],
    users: Object.values(users),
  }, dir);
  srv = await startServer({ url, https: true,
    env: { TESSERA_TLS_CERTIFICATE_FILE: cert.crt, TESSERA_TLS_PRIVATE_KEY_FILE: cert.key } });
  tlsFetch = fetchTrusting(ca);
  const opts = { [client.customFetch]: tlsFetch };
  webapp = await client.discovery(new URL(srv.issuer), 'webapp', secrets.webapp, client.ClientSecretBasic(secrets.webapp), opts);
  spa = await client.discovery(new URL(srv.issuer), 'spa', { id_token_signed_response_alg: 'ES256' }, client.None(), opts);
  // openid-client verifies ID token signatures too, not only their claims
  client.enableNonRepudiationChecks(webapp);
  client.enableNonRepudiationChecks(spa);
  meta = webapp.serverMetadata();
  const jwks = await request(meta.jwks_uri, { ca });
  assert.equal(jwks.status, 200, `GET ${meta.jwks_uri}: ${jwks.status} ${jwks.text}`);
  JWKS = jose.createLocalJWKSet(jwks.json);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  if (srv && (srv.child.exitCode !== null || srv.child.signalCode !== null)) {
    console.error(`tessera died during the tests (${srv.child.exitCode ?? srv.child.signalCode}):\n${srv.logs.join('').slice(-4000)}`);
  }
  await srv?.stop();
  await rp?.close();
});

/**
 * A test with its own browser context. fn(t, page, context, step): step(name, fn) is a subtest. A
 * failure, of the test or a step, carries where the browser was and Tessera's log.
 */
function browserTest(name, fn, timeout = 90_000) {
  test(name, { skip, timeout }, async (t) => {
    const { page, context } = await browser.newPage(t);
    const explain = async (e) => {
      e.message += `\n${await describe(page)}\n--- tessera log (tail)\n${srv.logs.join('').slice(-3000)}`;
      return e;
    };
    const step = (stepName, stepFn) => t.test(stepName, async () => {
      try { await stepFn(); } catch (e) { throw await explain(e); }
    });
    try {
      await fn(t, page, context, step);
    } catch (e) {
      throw await explain(e);
    }
  });
}

const s256 = (x) => createHash('sha256').update(x).digest();
const atHash = (at) => s256(at).subarray(0, 16).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

/** a fresh authorization request URL for config, with PKCE S256, state and nonce */
async function authRequest(config, params = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState(), nonce = client.randomNonce();
  const all = { redirect_uri: CB, scope: SCOPE, state, nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...params };
  // a parameter given as undefined or null is left out
  const url = client.buildAuthorizationUrl(config, Object.fromEntries(Object.entries(all).filter(([, v]) => v != null)));
  return { url, verifier, state, nonce: all.nonce ?? undefined };
}

/**
 * Starts an authorization in page and signs in as u: the login page, then the consent page when
 * decision is 'allow' or 'deny' (null: no consent page is expected). Resolves with the request and the
 * URL the browser was sent back to (back).
 */
async function signIn(page, config, u, { decision = 'allow', params = {} } = {}) {
  const req = await authRequest(config, params);
  const first = await page.goto(req.url.href);
  assert.equal(first.status(), 200, `GET /authorize: the login page (HTTP ${first.status()})`);
  assert.ok(await onLoginPage(page), 'the login page is the response to /authorize');
  const lr = await login(page, u.username, u.password);
  if (decision) {
    assert.equal(lr.status(), 200, `POST /login answers with the consent page (HTTP ${lr.status()})`);
    const cr = await consent(page, decision);
    assert.equal(cr.status(), 303, `POST /consent redirects with 303 (HTTP ${cr.status()})`);
  } else {
    assert.equal(lr.status(), 303, `POST /login redirects to the client with 303 (HTTP ${lr.status()})`);
  }
  const back = await waitForRedirectTo(page, CB);
  return { ...req, back };
}

/** the RFC 9207 / RFC 6749 §4.1.2 checks on the URL the browser came back with; returns the code */
function assertCode(req) {
  const q = req.back.searchParams;
  assert.equal(q.get('error'), null, `an error came back: ${req.back}`);
  assert.match(q.get('code') ?? '', /^tsac_/, `a tsac_ code: ${req.back}`);
  assert.equal(q.get('state'), req.state, 'state comes back unchanged');
  assert.equal(q.get('iss'), srv.issuer, 'iss is the issuer (RFC 9207)');
  return q.get('code');
}

/** the error redirect: error, state and iss (RFC 6749 §4.1.2.1, RFC 9207) */
function assertErrorRedirect(back, error, state) {
  const q = back.searchParams;
  assert.equal(q.get('error'), error, `error=${error}: ${back}`);
  assert.equal(q.get('code'), null, 'no code with an error');
  assert.equal(q.get('state'), state, 'state comes back with the error');
  assert.equal(q.get('iss'), srv.issuer, 'iss comes back with the error (RFC 9207)');
}

const exchange = (config, req, checks = {}) => client.authorizationCodeGrant(config, req.back,
  { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce, idTokenExpected: true, ...checks });

/**
 * The token response of an authorization code exchange, checked as an independent client would:
 * the ID token verified with jose against the JWKS (OIDC Core §3.1.3.7), the access token as RFC 9068.
 * Returns { id, at } (their payloads).
 */
async function checkTokens(tokens, req, clientId, alg) {
  assert.equal(tokens.token_type, 'bearer');
  assert.ok(tokens.expires_in > 0, `expires_in ${tokens.expires_in}`);
  assert.deepEqual(tokens.scope.split(' ').sort(), SCOPE.split(' ').sort(), `scope: ${tokens.scope}`);
  assert.equal(typeof tokens.id_token, 'string', 'an ID token for openid');

  const { payload: id, protectedHeader: h } = await jose.jwtVerify(tokens.id_token, JWKS, { issuer: srv.issuer, audience: clientId,
    algorithms: [alg], requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'at_hash'] });
  assert.equal(h.alg, alg, `the ID token is ${alg}`);
  assert.equal(id.iss, srv.issuer);
  assert.ok([id.aud].flat().includes(clientId), `aud ${JSON.stringify(id.aud)}`);
  assert.equal(id.azp, clientId, 'azp is the client');
  assert.equal(id.nonce, req.nonce, 'the nonce of the request');
  assert.equal(id.at_hash, atHash(tokens.access_token), 'at_hash is the left half of SHA-256 of the access token');
  assert.ok(Array.isArray(id.amr) && id.amr.length > 0, `amr: ${JSON.stringify(id.amr)}`);
  assert.ok(Number.isInteger(id.auth_time) && id.auth_time <= now() + 5 && id.auth_time > now() - 600,
    `auth_time ${id.auth_time} is a recent NumericDate`);
  assert.ok(id.auth_time <= id.iat + 1, 'auth_time is not after iat');
  assert.ok(id.exp > now(), 'not expired');
  assert.equal(typeof id.sub, 'string');
  assert.ok(id.sub.length > 0);
  // openid-client validated the same token: the claims it hands out agree
  assert.equal(tokens.claims().sub, id.sub);

  const { payload: at } = await jose.jwtVerify(tokens.access_token, JWKS, { issuer: srv.issuer, typ: 'at+jwt',
    requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'] });
  assert.equal(at.client_id, clientId);
  assert.equal(at.sub, id.sub, 'the access token is for the same user');
  assert.equal(at.auth_time, id.auth_time, 'the access token carries auth_time');
  assert.equal(typeof at.grant_id, 'string', 'the access token carries grant_id');
  return { id, at };
}

/** UserInfo through openid-client (which checks sub), and the claims for "openid profile email" */
async function checkUserInfo(config, accessToken, sub, u) {
  const info = await client.fetchUserInfo(config, accessToken, sub);
  assert.equal(info.sub, sub);
  assert.equal(info.name, u.name);
  assert.equal(info.preferred_username, u.username);
  assert.equal(info.email, u.email);
  assert.equal(typeof info.email_verified, 'boolean', `email_verified: ${info.email_verified}`);
}

/** RFC 6749 §5.2 error from openid-client */
const oauthError = (error) => (e) => {
  assert.equal(e.error, error, `expected ${error}, got ${e.error ?? e.code}: ${e.message} ${JSON.stringify(e.cause ?? '')}`);
  return true;
};

const introspect = (token) => requestForm(meta.introspection_endpoint, { token },
  { headers: { authorization: basicAuth('rs', secrets.rs) }, ca });

test('discovery advertises the browser-flow endpoints', { skip }, () => {
  for (const [k, p] of [['authorization_endpoint', '/authorize'], ['token_endpoint', '/token'], ['userinfo_endpoint', '/userinfo'],
    ['end_session_endpoint', '/logout'], ['jwks_uri', '/jwks.json']]) {
    assert.equal(meta[k], `${srv.issuer}${p}`, k);
  }
  assert.ok(meta.response_types_supported?.includes('code'), `response_types_supported: ${meta.response_types_supported}`);
  assert.ok(meta.code_challenge_methods_supported?.includes('S256'), `code_challenge_methods_supported: ${meta.code_challenge_methods_supported}`);
  assert.ok(!meta.code_challenge_methods_supported.includes('plain'), 'plain PKCE is not offered');
  assert.ok(meta.grant_types_supported?.includes('authorization_code'), `grant_types_supported: ${meta.grant_types_supported}`);
  assert.ok(meta.grant_types_supported.includes('refresh_token'));
  for (const a of ['RS256', 'ES256']) {
    assert.ok(meta.id_token_signing_alg_values_supported?.includes(a), `id_token_signing_alg_values_supported: ${meta.id_token_signing_alg_values_supported}`);
  }
});

browserTest('confidential client: login page, consent, code, tokens, ID token, UserInfo, session cookie, SSO', async (t, page, context, step) => {
  const u = users.alice;
  const req = await authRequest(webapp);
  const first = await page.goto(req.url.href);
  await step('the login page is the response to /authorize, with its security headers', async () => {
    assert.equal(first.status(), 200);
    assert.ok(await onLoginPage(page), 'a login form');
    const h = first.headers();
    const csp = h['content-security-policy'] ?? '';
    assert.match(csp, /frame-ancestors 'none'/, `CSP: ${csp}`);
    assert.match(csp, /default-src 'none'/, `CSP: ${csp}`);
    const formAction = csp.split(';').map((d) => d.trim()).find((d) => d.startsWith('form-action')) ?? '';
    assert.ok(formAction.split(/\s+/).includes("'self'"), `form-action allows 'self': ${csp}`);
    assert.ok(formAction.split(/\s+/).includes(rp.base), `form-action allows the client's origin ${rp.base}: ${csp}`);
    assert.equal(h['x-frame-options'], 'DENY');
    assert.match(h['cache-control'] ?? '', /no-store/);
    assert.match(await page.locator('body').innerText(), /Web App/, 'the page names the client');
    await screenshot(page, 'browser-login-page', t);
  });

  const lr = await login(page, u.username, u.password);
  await step('after login: the session cookie is __Host-, Secure, HttpOnly, SameSite=Lax', async () => {
    const cookies = await context.cookies(srv.issuer);
    const c = cookies.find((x) => x.name === SESSION_COOKIE);
    assert.ok(c, `a ${SESSION_COOKIE} cookie: ${cookies.map((x) => x.name).join(', ')}`);
    assert.equal(c.secure, true, 'Secure');
    assert.equal(c.httpOnly, true, 'HttpOnly');
    assert.equal(c.sameSite, 'Lax', 'SameSite=Lax');
    assert.equal(c.path, '/', '__Host- cookies have Path=/');
    assert.equal(c.domain, '127.0.0.1', '__Host- cookies are host-only');
    assert.ok(c.value.length >= 32, 'an unguessable handle');
  });

  await step('the consent page is the response to POST /login, with the same headers', async () => {
    assert.equal(lr.status(), 200);
    assert.ok(await onConsentPage(page), 'a consent form');
    const h = lr.headers();
    assert.match(h['content-security-policy'] ?? '', /frame-ancestors 'none'/);
    assert.equal(h['x-frame-options'], 'DENY');
    const text = await page.locator('body').innerText();
    assert.match(text, /Web App/, 'the page names the client');
    assert.match(text, /alice/, 'the page names the signed-in user');
    await screenshot(page, 'browser-consent-page', t);
  });

  const cr = await consent(page, 'allow');
  assert.equal(cr.status(), 303, 'POST /consent redirects with 303');
  req.back = await waitForRedirectTo(page, CB);
  const code = assertCode(req);
  assert.ok(rp.to('/cb').some((hit) => hit.query.code === code), 'the relying party received the code');

  const tokens = await exchange(webapp, req);
  const { id } = await checkTokens(tokens, req, 'webapp', 'RS256');
  assert.match(tokens.refresh_token ?? '', /^tsr_/, 'a tsr_ refresh token (the client has the refresh_token grant)');
  await checkUserInfo(webapp, tokens.access_token, id.sub, u);

  await step('SSO: a second authorization goes straight back with a code (no login, no consent), same auth_time', async () => {
    const again = await authRequest(webapp);
    const resp = await page.goto(again.url.href);
    const from = resp.request().redirectedFrom();
    assert.ok(from && new URL(from.url()).pathname === '/authorize', `/authorize redirected: ${resp.url()}`);
    assert.equal((await from.response()).status(), 303, '/authorize answers 303');
    again.back = await waitForRedirectTo(page, CB);
    assertCode(again);
    const t2 = await exchange(webapp, again);
    const { id: id2 } = await checkTokens(t2, again, 'webapp', 'RS256');
    assert.equal(id2.sub, id.sub);
    assert.equal(id2.auth_time, id.auth_time, 'auth_time is when the user authenticated, not this request');
  });

  await step('UserInfo needs openid in the token: 403 insufficient_scope without it, 401 invalid_token for garbage', async () => {
    const narrow = await authRequest(webapp, { scope: 'profile', nonce: null });
    await page.goto(narrow.url.href);
    narrow.back = await waitForRedirectTo(page, CB);
    assertCode(narrow);
    const t3 = await client.authorizationCodeGrant(webapp, narrow.back, { pkceCodeVerifier: narrow.verifier, expectedState: narrow.state });
    assert.equal(t3.id_token, undefined, 'no ID token without openid');
    assert.equal(t3.scope, 'profile');
    const r = await request(meta.userinfo_endpoint, { headers: { authorization: `Bearer ${t3.access_token}` }, ca });
    assert.equal(r.status, 403, `HTTP ${r.status} ${r.text}`);
    assert.match(r.headers['www-authenticate'] ?? '', /^Bearer\b.*error="insufficient_scope"/, `WWW-Authenticate: ${r.headers['www-authenticate']}`);
    const g = await request(meta.userinfo_endpoint, { headers: { authorization: 'Bearer not-a-token' }, ca });
    assert.equal(g.status, 401, `HTTP ${g.status} ${g.text}`);
    assert.match(g.headers['www-authenticate'] ?? '', /^Bearer\b.*error="invalid_token"/, `WWW-Authenticate: ${g.headers['www-authenticate']}`);
    const none = await request(meta.userinfo_endpoint, { ca });
    assert.equal(none.status, 401, `no token: HTTP ${none.status} ${none.text}`);
    assert.match(none.headers['www-authenticate'] ?? '', /^Bearer/);
    // POST with the token in the form body (RFC 6750 §2.2) works as well
    const post = await requestForm(meta.userinfo_endpoint, { access_token: tokens.access_token }, { ca });
    assert.equal(post.status, 200, `POST /userinfo: HTTP ${post.status} ${post.text}`);
    assert.equal(post.json?.sub, id.sub);
  });

  await step('prompt=login shows the login page despite the session', async () => {
    const forced = await authRequest(webapp, { prompt: 'login' });
    const resp = await page.goto(forced.url.href);
    assert.equal(resp.status(), 200);
    assert.ok(await onLoginPage(page), 'the login page');
    assert.equal(rp.hits.filter((h) => h.query.state === forced.state).length, 0, 'nothing went to the client');
  });
});

browserTest('public client (none + PKCE, ES256 ID token): login, consent, code exchange, UserInfo; a wrong verifier is refused', async (t, page) => {
  const u = users.alice;
  const req = await signIn(page, spa, u, { decision: 'allow' });
  assertCode(req);
  const tokens = await exchange(spa, req);
  const { id } = await checkTokens(tokens, req, 'spa', 'ES256');
  assert.equal(tokens.refresh_token, undefined, 'no refresh token: the client does not have the refresh_token grant');
  await checkUserInfo(spa, tokens.access_token, id.sub, u);

  // PKCE: another code of the same session, exchanged with the wrong verifier
  const other = await authRequest(spa);
  await page.goto(other.url.href);
  other.back = await waitForRedirectTo(page, CB);
  const code = assertCode(other);
  const wrong = await requestForm(meta.token_endpoint, { grant_type: 'authorization_code', client_id: 'spa', code, redirect_uri: CB,
    code_verifier: client.randomPKCECodeVerifier() }, { ca });
  assert.equal(wrong.status, 400, `wrong code_verifier: HTTP ${wrong.status} ${wrong.text}`);
  assert.equal(wrong.json?.error, 'invalid_grant', `wrong code_verifier: ${wrong.text}`);
  const missingVerifier = await requestForm(meta.token_endpoint, { grant_type: 'authorization_code', client_id: 'spa', code,
    redirect_uri: CB }, { ca });
  assert.equal(missingVerifier.status, 400, `no code_verifier: HTTP ${missingVerifier.status} ${missingVerifier.text}`);
  assert.ok(['invalid_grant', 'invalid_request'].includes(missingVerifier.json?.error), `no code_verifier: ${missingVerifier.text}`);
});

browserTest('prompt=none without a session redirects with login_required (and iss)', async (t, page) => {
  const req = await authRequest(webapp, { prompt: 'none' });
  await page.goto(req.url.href);
  const back = await waitForRedirectTo(page, CB);
  assertErrorRedirect(back, 'login_required', req.state);
});

browserTest('consent denied redirects with access_denied; prompt=none that needs consent gets consent_required', async (t, page) => {
  const req = await signIn(page, webapp, users.bob, { decision: 'deny' });
  assertErrorRedirect(req.back, 'access_denied', req.state);
  // bob has a session now, but has granted webapp nothing
  const silent = await authRequest(webapp, { prompt: 'none' });
  await page.goto(silent.url.href);
  assertErrorRedirect(await waitForRedirectTo(page, CB), 'consent_required', silent.state);
});

browserTest('a wrong password re-renders the login page with an error and no redirect; the right one then works', async (t, page, context) => {
  const u = users.carol;
  const req = await authRequest(webapp);
  await page.goto(req.url.href);
  for (const [username, password] of [[u.username, `${u.password}-wrong`], ['nobody-here', u.password]]) {
    const r = await login(page, username, password);
    assert.equal(r.status(), 200, `POST /login with a wrong password: HTTP ${r.status()}`);
    assert.equal(new URL(page.url()).origin, srv.issuer, 'the browser stays at Tessera');
    await page.getByText(INCORRECT, { exact: true }).waitFor({ state: 'visible' });
    assert.ok(await onLoginPage(page), 'the login form again');
    assert.equal(rp.hits.filter((h) => h.query.state === req.state).length, 0, 'nothing went to the client');
    assert.equal((await context.cookies(srv.issuer)).find((c) => c.name === SESSION_COOKIE), undefined, 'no session');
  }
  await screenshot(page, 'browser-login-incorrect', t);
  // the re-rendered form carries a working interaction and CSRF token
  const lr = await login(page, u.username, u.password);
  assert.equal(lr.status(), 200, 'the consent page');
  await consent(page, 'allow');
  req.back = await waitForRedirectTo(page, CB);
  assertCode(req);
});

browserTest('the login form is bound to the browser: no cookie or a wrong CSRF token gets the error page (403)', async (t, page, context) => {
  const u = users.grace;
  const req = await authRequest(webapp);
  await page.goto(req.url.href);
  const interaction = await page.locator('form[action="/login"] input[name="interaction"]').getAttribute('value');
  const csrf = await page.locator('form[action="/login"] input[name="csrf_token"]').getAttribute('value');
  assert.ok(interaction && csrf, 'the form carries interaction and csrf_token');
  const form = { interaction, csrf_token: csrf, username: u.username, password: u.password };
  // another browser (no cookies) posting this browser's form
  const foreign = await requestForm(`${srv.issuer}/login`, form, { ca, headers: { accept: 'text/html' } });
  assert.equal(foreign.status, 403, `without the browser cookie: HTTP ${foreign.status}`);
  assert.equal(foreign.headers['set-cookie']?.some((c) => c.startsWith(`${SESSION_COOKIE}=`)) ?? false, false, 'no session');
  // this browser's cookies, but a forged CSRF token
  const forged = await context.request.post(`${srv.issuer}/login`, { form: { ...form, csrf_token: `${csrf}x` }, maxRedirects: 0 });
  assert.equal(forged.status(), 403, `a wrong CSRF token: HTTP ${forged.status()}`);
  assert.equal((await context.cookies(srv.issuer)).find((c) => c.name === SESSION_COOKIE), undefined, 'no session');
  assert.equal(rp.hits.filter((h) => h.query.state === req.state).length, 0, 'nothing went to the client');
});

browserTest('refresh tokens rotate; a spent one revokes the whole family (RFC 9700 §4.14)', async (t, page) => {
  const req = await signIn(page, webapp, users.dave, { decision: 'allow' });
  const tokens = await exchange(webapp, req);
  const { id } = await checkTokens(tokens, req, 'webapp', 'RS256');
  const rt1 = tokens.refresh_token;
  assert.match(rt1 ?? '', /^tsr_/);

  const r2 = await client.refreshTokenGrant(webapp, rt1);
  const rt2 = r2.refresh_token;
  assert.match(rt2 ?? '', /^tsr_/, 'a new refresh token');
  assert.notEqual(rt2, rt1, 'rotated');
  assert.notEqual(r2.access_token, tokens.access_token);
  const { payload: at2 } = await jose.jwtVerify(r2.access_token, JWKS, { issuer: srv.issuer, typ: 'at+jwt' });
  assert.equal(at2.sub, id.sub);
  assert.deepEqual(r2.scope.split(' ').sort(), SCOPE.split(' ').sort(), 'the same scope');
  await checkUserInfo(webapp, r2.access_token, id.sub, users.dave);

  // scope may narrow
  const r3 = await client.refreshTokenGrant(webapp, rt2, { scope: 'openid' });
  assert.equal(r3.scope, 'openid', 'narrowed');
  const rt3 = r3.refresh_token;
  assert.ok(rt3 && rt3 !== rt2, 'rotated again');
  await assert.rejects(client.refreshTokenGrant(webapp, rt3, { scope: `${SCOPE} orders:read` }), oauthError('invalid_scope'),
    'scope cannot widen beyond the grant');

  // the spent rt1 presented again: refused, and the family (rt3 too) is revoked
  await assert.rejects(client.refreshTokenGrant(webapp, rt1), oauthError('invalid_grant'), 'a spent refresh token');
  await assert.rejects(client.refreshTokenGrant(webapp, rt3), oauthError('invalid_grant'),
    'after reuse of a spent token the newest one of the family is revoked too');
  await waitFor(() => srv.logs.join('').includes('refresh token reuse'), 5_000, 100)
    .catch(() => assert.fail('Tessera logs "refresh token reuse"'));
});

browserTest('authorization code reuse: invalid_grant, and what the first exchange issued is revoked', async (t, page) => {
  const req = await signIn(page, webapp, users.erin, { decision: 'allow' });
  const code = assertCode(req);
  const tokens = await exchange(webapp, req);
  await checkTokens(tokens, req, 'webapp', 'RS256');
  assert.equal((await introspect(tokens.access_token)).json?.active, true, 'the access token is active at first');

  const params = { grant_type: 'authorization_code', code, redirect_uri: CB, code_verifier: req.verifier };
  const again = await requestForm(meta.token_endpoint, params, { headers: { authorization: basicAuth('webapp', secrets.webapp) }, ca });
  assert.equal(again.status, 400, `second use of the code: HTTP ${again.status} ${again.text}`);
  assert.equal(again.json?.error, 'invalid_grant', again.text);
  assert.equal(again.json?.access_token, undefined);

  await waitFor(async () => (await introspect(tokens.access_token)).json?.active === false, 5_000, 100)
    .catch(async () => assert.fail(`the first access token still introspects as ${(await introspect(tokens.access_token)).text}`));
  assert.deepEqual((await introspect(tokens.access_token)).json, { active: false });
  await assert.rejects(client.refreshTokenGrant(webapp, tokens.refresh_token), oauthError('invalid_grant'),
    'the first exchange\'s refresh token is revoked');
  const ui = await request(meta.userinfo_endpoint, { headers: { authorization: `Bearer ${tokens.access_token}` }, ca });
  assert.equal(ui.status, 401, `UserInfo with the revoked access token: HTTP ${ui.status} ${ui.text}`);
});

browserTest('authorization errors: an unknown client or unregistered redirect_uri gets the error page, never a redirect', async (t, page) => {
  const base = await authRequest(webapp);
  const evil = 'https://evil.example.test/cb';
  for (const [what, change] of [['unknown client_id', { client_id: 'nope' }], ['unregistered redirect_uri', { redirect_uri: evil }],
    ['redirect_uri with an extra path', { redirect_uri: `${CB}/x` }]]) {
    const u = new URL(base.url);
    for (const [k, v] of Object.entries(change)) u.searchParams.set(k, v);
    const resp = await page.goto(u.href);
    assert.equal(resp.status(), 400, `${what}: HTTP ${resp.status()}`);
    assert.equal(new URL(page.url()).origin, srv.issuer, `${what}: the browser stays at Tessera`);
    assert.equal(resp.request().redirectedFrom(), null, `${what}: no redirect`);
    assert.equal(resp.headers()['x-frame-options'], 'DENY', `${what}: the error page has the page headers`);
    assert.equal(await onLoginPage(page), false);
  }
  assert.equal(rp.hits.filter((h) => h.query.state === base.state).length, 0, 'nothing went to the client');

  // with a trusted client and redirect URI, errors are redirected
  for (const [what, change, error] of [['no code_challenge (PKCE required)', { code_challenge: null, code_challenge_method: null }, 'invalid_request'],
    ['plain PKCE', { code_challenge_method: 'plain' }, 'invalid_request'],
    ['response_type=token', { response_type: 'token' }, 'unsupported_response_type'],
    ['a scope the client may not ask for', { scope: 'openid orders:write' }, 'invalid_scope']]) {
    const u = new URL(base.url);
    const state = client.randomState();
    u.searchParams.set('state', state);
    for (const [k, v] of Object.entries(change)) { if (v === null) u.searchParams.delete(k); else u.searchParams.set(k, v); }
    await page.goto(u.href);
    const back = await waitForRedirectTo(page, CB);
    assertErrorRedirect(back, error, state);
  }
});

browserTest('logout: id_token_hint + registered post_logout_redirect_uri + state ends the session; the next authorization shows the login page', async (t, page, context) => {
  const u = users.frank;
  const req = await signIn(page, webapp, u, { decision: 'allow' });
  const tokens = await exchange(webapp, req);
  await checkTokens(tokens, req, 'webapp', 'RS256');
  assert.ok((await context.cookies(srv.issuer)).some((c) => c.name === SESSION_COOKIE), 'signed in');

  const state = client.randomState();
  const end = client.buildEndSessionUrl(webapp, { id_token_hint: tokens.id_token, post_logout_redirect_uri: LOGGED_OUT, state });
  assert.equal(`${end.origin}${end.pathname}`, `${srv.issuer}/logout`);
  await page.goto(end.href);
  const back = await waitForRedirectTo(page, LOGGED_OUT);
  assert.equal(back.searchParams.get('state'), state, 'state comes back');
  const left = (await context.cookies(srv.issuer)).find((c) => c.name === SESSION_COOKIE);
  if (left) t.diagnostic(`the ${SESSION_COOKIE} cookie is still in the browser after logout (the session behind it must be gone)`);

  const next = await authRequest(webapp);
  const resp = await page.goto(next.url.href);
  assert.equal(resp.status(), 200, `after logout /authorize answers with the login page (HTTP ${resp.status()})`);
  assert.ok(await onLoginPage(page), 'the login page again: the session ended');
  // and signing in again works, without consent (the grant outlives the session)
  const lr = await login(page, u.username, u.password);
  assert.equal(lr.status(), 303, 'no consent page: frank already granted these scopes');
  next.back = await waitForRedirectTo(page, CB);
  assertCode(next);
});

browserTest('logout without a hint asks for confirmation, then shows the signed-out page', async (t, page) => {
  const u = users.frank;
  const req = await authRequest(webapp);
  await page.goto(req.url.href);
  await login(page, u.username, u.password);
  await waitForRedirectTo(page, CB);
  const resp = await page.goto(`${srv.issuer}/logout`);
  assert.equal(resp.status(), 200);
  const confirm = page.locator('form[action="/logout"] button[type="submit"]');
  await confirm.waitFor({ state: 'visible' });
  assert.equal(resp.headers()['x-frame-options'], 'DENY');
  await confirm.click();
  await page.getByText('You have been signed out.').waitFor({ state: 'visible' });
  const next = await authRequest(webapp);
  await page.goto(next.url.href);
  assert.ok(await onLoginPage(page), 'the login page again: the session ended');
});
