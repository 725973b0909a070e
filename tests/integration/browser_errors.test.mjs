// The browser flows' error paths (docs/browser-flows.md) against a real server and PostgreSQL, without a
// browser: /authorize (what is shown on our own page and what is redirected, RFC 6749 §4.1.2.1, RFC 9207),
// /login (binding, CSRF, wrong credentials, throttling), /consent, sessions and their cookie, RP-initiated
// logout, and discovery. Requests never follow redirects; a small cookie jar plays the browser.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sleep, startServer, waitFor } from './lib.mjs';
import {
  INCORRECT, Jar, SECRET, assertErrorPage, assertErrorRedirect, assertPageHeaders, assertRedirect, authParams, authorize,
  basic, databaseWith, decode, formOf, isConsentPage, isErrorPage, isLoginPage, login, parseSetCookie, rand, request, show, signIn,
  submit, tessera, tokenRequest,
} from './browser_helpers.mjs';

const CB = 'https://app.example/cb';
const SPA_CB = 'https://spa.example/cb';
const LOOPBACK = 'http://127.0.0.1/cb';
const LOGGED_OUT = 'https://app.example/logged-out';
const SESSION = 'tessera_session', BROWSER = 'tessera_browser';
const CODE = ['authorization_code'];

const user = (username, extra = {}) => ({ username, password: `pw-${username}-${randomBytes(8).toString('hex')}`,
  email: `${username}@example.test`, name: `${username[0].toUpperCase()}${username.slice(1)} Example`, ...extra });
// one user per concern, so that throttling and sessions of one test never touch another; carol is disabled
const NAMES = ['alice', 'bob', 'bert', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'kim', 'leo'];
const users = Object.fromEntries(NAMES.map((n) => [n, user(n, n === 'carol' ? { status: 'disabled' } : {})]));

/** a distinct loopback source address per test that fails logins: the throttle counts failures per address */
let nextAddress = 10;
const freshAddress = () => `127.0.0.${nextAddress++}`;

let url, srv;

before(async () => {
  url = databaseWith('browser_err', {
    clients: [
      { client_id: 'web', client_name: 'Web App', client_secret: SECRET, token_endpoint_auth_method: 'client_secret_basic',
        grant_types: [...CODE, 'refresh_token'], redirect_uris: [CB], post_logout_redirect_uris: [LOGGED_OUT],
        scope: 'openid profile email' },
      { client_id: 'spa', client_name: 'Single Page App', token_endpoint_auth_method: 'none', grant_types: CODE,
        redirect_uris: [SPA_CB], scope: 'openid profile' },
      { client_id: 'native', token_endpoint_auth_method: 'none', grant_types: CODE, redirect_uris: [LOOPBACK], scope: 'openid' },
      { client_id: 'legacy', client_secret: SECRET, grant_types: CODE, redirect_uris: ['https://legacy.example/cb'],
        scope: 'openid profile api:read', require_pkce: false },
      { client_id: 'trusted', client_secret: SECRET, grant_types: CODE, redirect_uris: ['https://trusted.example/cb'],
        scope: 'openid profile', skip_consent: true },
      { client_id: 'doomed', client_secret: SECRET, grant_types: CODE, redirect_uris: ['https://doomed.example/cb'], scope: 'openid' },
      { client_id: 'm2m', client_secret: SECRET, grant_types: ['client_credentials'], scope: 'api:read' },
      { client_id: 'nocode', client_secret: SECRET, grant_types: ['client_credentials'], redirect_uris: ['https://nocode.example/cb'],
        scope: 'openid' },
    ],
    users: Object.values(users),
  });
  srv = await startServer({ url });
});

after(async () => {
  if (srv && (srv.child.exitCode !== null || srv.child.signalCode !== null))
    console.error(`tessera died during the tests:\n${srv.logs.join('').slice(-4000)}`);
  await srv?.stop();
});

/** a fresh login page for web (a new interaction bound to jar) */
async function loginPage(jar, clientId = 'web', redirectUri = CB, extra = {}) {
  const r = await authorize(srv, authParams(clientId, redirectUri, extra).params, { jar });
  assert.ok(isLoginPage(r), `the login page: ${show(r)}`);
  return r;
}

/** signs jar in to web as u and allows; returns what signIn returns */
const signedIn = (jar, u, extra = {}) => signIn(srv, jar, 'web', CB, { user: u, extra });

/** exchanges a code of web for tokens */
async function exchange(s) {
  const r = await tokenRequest(srv, { grant_type: 'authorization_code', code: s.code, redirect_uri: CB, code_verifier: s.verifier },
    { authorization: basic('web') });
  assert.equal(r.status, 200, show(r));
  return r.json;
}

/* ---- discovery --------------------------------------------------------------------------------------- */

test('discovery advertises the browser flows as they are', async () => {
  const r = await request(`${srv.issuer}/.well-known/openid-configuration`);
  assert.equal(r.status, 200, show(r));
  const m = r.json;
  assert.deepEqual(m.code_challenge_methods_supported, ['S256']);
  assert.equal(m.authorization_response_iss_parameter_supported, true);
  assert.equal(m.authorization_endpoint, `${srv.issuer}/authorize`);
  assert.equal(m.end_session_endpoint, `${srv.issuer}/logout`);
  assert.equal(m.userinfo_endpoint, `${srv.issuer}/userinfo`);
  assert.deepEqual(m.response_types_supported, ['code']);
  assert.ok(m.id_token_signing_alg_values_supported.includes('RS256'), 'RS256 is mandatory to implement (OIDC Core §15.1)');
  for (const c of ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'at_hash', 'amr', 'azp', 'name', 'email'])
    assert.ok(m.claims_supported.includes(c), `claims_supported has ${c}`);
  assert.equal(m.request_parameter_supported, false);
  assert.equal(m.request_uri_parameter_supported, false);
});

/* ---- /authorize: errors shown on our own page ---------------------------------------------------------- */

test('/authorize: an unknown or missing client, or a redirect_uri not registered exactly, gets the error page, never a redirect',
  async () => {
    const base = authParams('web', CB).params;
    const cases = {
      'unknown client': { ...base, client_id: 'ghost' },
      'missing client_id': (({ client_id, ...rest }) => rest)(base),
      'empty client_id': { ...base, client_id: '' },
      'client_id differing in case': { ...base, client_id: 'WEB' },
      'unregistered redirect_uri': { ...base, redirect_uri: 'https://evil.example/cb' },
      'trailing slash': { ...base, redirect_uri: `${CB}/` },
      'added query': { ...base, redirect_uri: `${CB}?next=1` },
      'added fragment': { ...base, redirect_uri: `${CB}#x` },
      'host case': { ...base, redirect_uri: 'https://APP.example/cb' },
      'path case': { ...base, redirect_uri: 'https://app.example/CB' },
      'explicit default port': { ...base, redirect_uri: 'https://app.example:443/cb' },
      'http instead of https': { ...base, redirect_uri: 'http://app.example/cb' },
      'another client\'s redirect_uri': { ...base, redirect_uri: SPA_CB },
      'redirect_uri left out of an OpenID request': (({ redirect_uri, ...rest }) => rest)(base),
      'a client without the authorization_code grant (no redirect URIs)': { ...base, client_id: 'm2m' },
    };
    for (const [name, params] of Object.entries(cases)) {
      const r = await authorize(srv, params);
      try {
        assertErrorPage(r, 400, { error: 'invalid_request' });
        assert.ok(!r.text.includes('evil.example'), 'the page does not link to the unverified URI');
        assert.equal(r.setCookies.length, 0, 'no interaction was started');
      } catch (e) {
        e.message = `${name}: ${e.message}`;
        throw e;
      }
    }
    // a repeated parameter (RFC 6749 §3.1) is refused before anything is trusted
    const repeated = await request(`${srv.issuer}/authorize?${new URLSearchParams(base)}&redirect_uri=${encodeURIComponent(CB)}`);
    assertErrorPage(repeated, 400, { error: 'invalid_request' });
    // the redirect check comes first: even a wrong response_type is not redirected to an unregistered URI
    const both = await authorize(srv, { ...base, redirect_uri: `${CB}/`, response_type: 'token' });
    assertErrorPage(both, 400, { error: 'invalid_request' });
  });

test('/authorize: a client disabled with `tessera client disable` gets the error page', async () => {
  const params = authParams('doomed', 'https://doomed.example/cb', { scope: 'openid' }).params;
  assert.ok(isLoginPage(await authorize(srv, params)), 'the client works before it is disabled');
  tessera(url, 'client', 'disable', 'doomed');
  const r = await waitFor(async () => {
    const x = await authorize(srv, params);
    return x.status === 400 ? x : null;
  }, 10_000, 100);
  assertErrorPage(r, 400, { error: 'invalid_request' });
});

test('/authorize: an http loopback redirect URI may differ in the port only (RFC 8252 §7.3)', async () => {
  const ok = await authorize(srv, authParams('native', 'http://127.0.0.1:4567/cb', { scope: 'openid' }).params);
  assert.ok(isLoginPage(ok), `the login page for a loopback URI with a port: ${show(ok)}`);
  assertPageHeaders(ok, 'http://127.0.0.1:4567');
  const exact = await authorize(srv, authParams('native', LOOPBACK, { scope: 'openid' }).params);
  assert.ok(isLoginPage(exact), show(exact));
  for (const uri of ['http://127.0.0.1:4567/cb/', 'http://127.0.0.1:4567/other', 'http://localhost:4567/cb', 'https://127.0.0.1:4567/cb',
    'http://127.0.0.1:4567/cb?x=1', 'http://127.0.0.1:0/cb', 'http://127.0.0.1:/cb', 'http://127.0.0.1@evil.example:4567/cb']) {
    const r = await authorize(srv, authParams('native', uri, { scope: 'openid' }).params);
    assertErrorPage(r, 400, { error: 'invalid_request' });
  }
});

/* ---- /authorize: errors redirected to the client ------------------------------------------------------- */

test('/authorize: after a valid redirect_uri, errors go back with 303, error, error_description, state and iss', async () => {
  const state = 'st a+b/c=d&e';
  const p = (extra, client = 'web', uri = CB) => authParams(client, uri, { state, ...extra }).params;
  const cases = [
    ['response_type missing', p({ response_type: null }), 'invalid_request'],
    ['response_type empty', p({ response_type: '' }), 'invalid_request'],
    ['response_type=token', p({ response_type: 'token' }), 'unsupported_response_type'],
    ['response_type="code id_token"', p({ response_type: 'code id_token' }), 'unsupported_response_type'],
    ['response_mode=fragment', p({ response_mode: 'fragment' }), 'invalid_request'],
    ['request', p({ request: 'eyJhbGciOiJub25lIn0.eyJzdGF0ZSI6IngifQ.' }), 'request_not_supported'],
    ['request_uri', p({ request_uri: 'https://app.example/request.jwt' }), 'request_uri_not_supported'],
    ['scope not allowed', p({ scope: 'openid admin' }), 'invalid_scope'],
    ['malformed scope', p({ scope: 'openid  profile' }), 'invalid_scope'],
    ['PKCE missing (public client)', p({ code_challenge: null, code_challenge_method: null, scope: 'openid profile' }, 'spa', SPA_CB), 'invalid_request'],
    ['PKCE missing (require_pkce by default)', p({ code_challenge: null, code_challenge_method: null }), 'invalid_request'],
    ['code_challenge_method=plain', p({ code_challenge_method: 'plain' }), 'invalid_request'],
    ['code_challenge without method (plain)', p({ code_challenge_method: null }), 'invalid_request'],
    ['code_challenge_method without code_challenge', p({ code_challenge: null }), 'invalid_request'],
    ['code_challenge too short', p({ code_challenge: 'abc' }), 'invalid_request'],
    ['code_challenge with characters outside base64url', p({ code_challenge: `${'A'.repeat(42)}+` }), 'invalid_request'],
    ['code_challenge too long', p({ code_challenge: 'A'.repeat(44) }), 'invalid_request'],
    ['prompt="none login"', p({ prompt: 'none login' }), 'invalid_request'],
    ['unknown prompt value', p({ prompt: 'sometimes' }), 'invalid_request'],
    ['max_age not a number', p({ max_age: 'soon' }), 'invalid_request'],
    ['max_age negative', p({ max_age: '-1' }), 'invalid_request'],
    ['nonce with a control character', p({ nonce: 'a\u0001b' }), 'invalid_request'],
    ['resource with a fragment', p({ resource: 'https://api.example/#x' }), 'invalid_target'],
    ['a client without the authorization_code grant', p({ scope: 'openid' }, 'nocode', 'https://nocode.example/cb'),
      'unauthorized_client'],
  ];
  for (const [name, params, error] of cases) {
    const r = await authorize(srv, params);
    try {
      assertErrorRedirect(r, srv, params.redirect_uri, state, error);
      assert.equal(r.text, '', 'a redirect has no body');
      assert.equal(r.setCookies.length, 0, 'no interaction was started');
    } catch (e) {
      e.message = `${name}: ${e.message}`;
      throw e;
    }
  }
  // without state, none comes back
  const r = await authorize(srv, authParams('web', CB, { state: null, response_type: 'token' }).params);
  const back = assertErrorRedirect(r, srv, CB, undefined, 'unsupported_response_type');
  assert.ok(!back.searchParams.has('state'));
});

test('/authorize: an empty state is treated as omitted (RFC 6749 §3.1), and a refused one is not echoed', async () => {
  const empty = await authorize(srv, authParams('web', CB, { state: '', response_type: 'token' }).params);
  const back = assertErrorRedirect(empty, srv, CB, undefined, 'unsupported_response_type');
  assert.ok(!back.searchParams.has('state'), `no state parameter: ${empty.location}`);
  for (const state of ['a\u0001b', 'x'.repeat(5000)]) {
    const r = await authorize(srv, authParams('web', CB, { state }).params);
    const b = assertErrorRedirect(r, srv, CB, undefined, 'invalid_request');
    assert.ok(!b.searchParams.has('state'), `a refused state is not echoed: ${r.location.slice(0, 200)}`);
  }
});

test('/authorize: require_pkce false asks for openid and a nonce instead', async () => {
  const uri = 'https://legacy.example/cb';
  const noPkce = { code_challenge: null, code_challenge_method: null };
  const withoutNonce = authParams('legacy', uri, { ...noPkce, scope: 'openid', nonce: null });
  assertErrorRedirect(await authorize(srv, withoutNonce.params), srv, uri, withoutNonce.state, 'invalid_request');
  const withoutOpenid = authParams('legacy', uri, { ...noPkce, scope: 'api:read' });
  assertErrorRedirect(await authorize(srv, withoutOpenid.params), srv, uri, withoutOpenid.state, 'invalid_request');
  const ok = await authorize(srv, authParams('legacy', uri, { ...noPkce, scope: 'openid' }).params);
  assert.ok(isLoginPage(ok), `the login page with a nonce and no PKCE: ${show(ok)}`);
  const withPkce = await authorize(srv, authParams('legacy', uri, { scope: 'openid', nonce: null }).params);
  assert.ok(isLoginPage(withPkce), `PKCE alone is fine too: ${show(withPkce)}`);
});

test('/authorize: prompt=none without a session redirects with login_required', async () => {
  const jar = new Jar();
  const { params, state } = authParams('web', CB, { prompt: 'none' });
  const r = await authorize(srv, params, { jar });
  assertErrorRedirect(r, srv, CB, state, 'login_required');
});

test('/authorize: POST with a form body works like GET; unknown parameters are ignored', async () => {
  const jar = new Jar();
  const { params } = authParams('web', CB, { unknown_param: 'whatever', display: 'popup', ui_locales: 'en', acr_values: 'x' });
  const r = await request(`${srv.issuer}/authorize`, { form: params, jar });
  assert.ok(isLoginPage(r), `POST /authorize shows the login page: ${show(r)}`);
  assertPageHeaders(r, 'https://app.example');
  assert.ok(jar.get(BROWSER), 'the browser binding cookie is set');
  const form = formOf(r.text);
  assert.match(form.fields.interaction, /^tsi_/);
  assert.match(form.fields.csrf_token, /^tsx_/);
  // and a redirected error from a POST carries the same
  const bad = await request(`${srv.issuer}/authorize`, { form: { ...params, response_type: 'token' } });
  assertErrorRedirect(bad, srv, CB, params.state, 'unsupported_response_type');
  // a JSON body is not a form
  const json = await request(`${srv.issuer}/authorize`, { method: 'POST', body: JSON.stringify(params),
    headers: { 'content-type': 'application/json' } });
  assertErrorPage(json, 400);
});

test('/authorize: the login page carries login_hint and the client name', async () => {
  const r = await authorize(srv, authParams('web', CB, { login_hint: 'alice' }).params);
  assert.ok(isLoginPage(r), show(r));
  assert.match(r.text, /value="alice"/);
  assert.match(r.text, /Web App/);
});

/* ---- /login ------------------------------------------------------------------------------------------ */

test('/login: an incomplete form is refused with the error page (400)', async () => {
  const jar = new Jar();
  const page = await loginPage(jar);
  const f = formOf(page.text).fields;
  const full = { ...f, username: users.alice.username, password: users.alice.password };
  for (const missing of ['interaction', 'csrf_token', 'username', 'password']) {
    const { [missing]: _, ...form } = full;
    const r = await request(`${srv.issuer}/login`, { form, jar });
    try { assertErrorPage(r, 400, { error: 'invalid_request' }); } catch (e) { e.message = `without ${missing}: ${e.message}`; throw e; }
  }
  const get = await request(`${srv.issuer}/login`, { jar });
  assert.equal(get.status, 405, show(get));
  const notForm = await request(`${srv.issuer}/login`, { method: 'POST', body: JSON.stringify(full), jar,
    headers: { 'content-type': 'application/json' } });
  assertErrorPage(notForm, 400);
});

test('/login: a wrong CSRF token, or a missing or different browser cookie, gets 403', async () => {
  const jar = new Jar();
  const page = await loginPage(jar);
  const u = users.alice;
  const wrongCsrf = await submit(srv, page, { username: u.username, password: u.password, csrf_token: `tsx_${rand()}` }, { jar });
  assertErrorPage(wrongCsrf, 403, { error: 'access_denied' });
  const emptyCsrf = await submit(srv, page, { username: u.username, password: u.password, csrf_token: '' }, { jar });
  assert.ok([400, 403].includes(emptyCsrf.status), show(emptyCsrf));
  assert.ok(isErrorPage(emptyCsrf));
  const noCookie = await submit(srv, page, { username: u.username, password: u.password });
  assertErrorPage(noCookie, 403, { error: 'access_denied' });
  const other = new Jar();
  await loginPage(other); // another browser, with its own binding cookie
  const otherCookie = await submit(srv, page, { username: u.username, password: u.password }, { jar: other });
  assertErrorPage(otherCookie, 403, { error: 'access_denied' });
  const forged = new Jar([[BROWSER, `tsb_${rand()}`]]);
  assertErrorPage(await submit(srv, page, { username: u.username, password: u.password }, { jar: forged }), 403);
  for (const r of [wrongCsrf, noCookie, otherCookie]) assert.ok(!r.setCookies.some((c) => c.startsWith(`${SESSION}=`)), 'no session');
  // none of that used the interaction up: the genuine form still signs in
  const ok = await login(srv, page, u.username, u.password, { jar });
  assert.ok(isConsentPage(ok), `the genuine form still works: ${show(ok)}`);
});

test('/login: an unknown interaction gets the error page (400)', async () => {
  const jar = new Jar();
  const page = await loginPage(jar);
  const r = await submit(srv, page, { interaction: `tsi_${rand()}`, username: users.alice.username, password: users.alice.password },
    { jar });
  assertErrorPage(r, 400, { error: 'invalid_request' });
  const notAHandle = await submit(srv, page, { interaction: 'x'.repeat(300), username: 'a', password: 'b' }, { jar });
  assertErrorPage(notAHandle, 400);
});

test('/login: a wrong password and an unknown user fail the same way', async (t) => {
  const jar = new Jar();
  const page = await loginPage(jar);
  const wrong = await login(srv, page, users.dave.username, 'not-the-password', { jar, from: freshAddress() });
  const unknown = await login(srv, page, 'nobody-here', 'not-the-password', { jar, from: freshAddress() });
  for (const r of [wrong, unknown]) {
    assert.equal(r.status, 200, show(r));
    assert.ok(isLoginPage(r), 'the login page again');
    assert.ok(r.text.includes(INCORRECT), `"${INCORRECT}" shown: ${show(r)}`);
    assert.ok(!r.setCookies.some((c) => c.startsWith(`${SESSION}=`)), 'no session');
    assertPageHeaders(r, 'https://app.example');
  }
  assert.equal(wrong.text.replace(/dave/g, 'U'), unknown.text.replace(/nobody-here/g, 'U'), 'the same page but for the username');
  // the form stays usable, with the username kept
  assert.equal(formOf(wrong.text).fields.interaction, formOf(page.text).fields.interaction);
  assert.match(wrong.text, /value="dave"/);
  // timings, for information: a few more of each, interleaved (each known user fails once, each from its own address)
  const times = { wrong: [wrong.ms], unknown: [unknown.ms] };
  for (const known of [users.kim, users.leo]) {
    for (const kind of known === users.kim ? ['unknown', 'wrong'] : ['wrong', 'unknown']) {
      const r = await login(srv, page, kind === 'wrong' ? known.username : `nobody-${rand()}`, 'not-the-password',
        { jar, from: freshAddress() });
      assert.equal(r.status, 200, show(r));
      assert.ok(r.text.includes(INCORRECT), show(r));
      times[kind].push(r.ms);
    }
  }
  const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1].toFixed(1);
  t.diagnostic(`wrong password: ${times.wrong.map((x) => x.toFixed(1)).join(', ')} ms (median ${median(times.wrong)}); `
    + `unknown user: ${times.unknown.map((x) => x.toFixed(1)).join(', ')} ms (median ${median(times.unknown)})`);
});

test('/login: a disabled user with the right password gets "Incorrect username or password."', async () => {
  const jar = new Jar();
  const page = await loginPage(jar);
  const r = await login(srv, page, users.carol.username, users.carol.password, { jar, from: freshAddress() });
  assert.equal(r.status, 200, show(r));
  assert.ok(r.text.includes(INCORRECT), show(r));
  assert.equal(jar.get(SESSION), undefined);
});

test('/login: an over-long username or password gets the error page (400)', async () => {
  const jar = new Jar();
  const page = await loginPage(jar);
  assertErrorPage(await login(srv, page, 'u'.repeat(129), 'whatever', { jar, from: freshAddress() }), 400, { error: 'invalid_request' });
  assertErrorPage(await login(srv, page, 'alice', 'p'.repeat(1025), { jar, from: freshAddress() }), 400, { error: 'invalid_request' });
});

/** n failed logins for username on page, each from its own address (so only the account is counted) */
async function failures(page, jar, username, n, from = () => freshAddress()) {
  for (let i = 0; i < n; ++i) {
    const r = await login(srv, page, username, `wrong-${i}`, { jar, from: from() });
    assert.equal(r.status, 200, `failure ${i + 1}: ${show(r)}`);
    assert.ok(r.text.includes(INCORRECT), `failure ${i + 1}: ${show(r)}`);
  }
}

function assertThrottled(r) {
  assert.equal(r.status, 429, show(r));
  assert.ok(isLoginPage({ ...r, status: 200 }), `the login page: ${show(r)}`);
  assert.match(r.text, /Too many failed attempts/);
  const retry = Number(r.headers['retry-after']);
  assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 300, `Retry-After: ${r.headers['retry-after']}`);
  assertPageHeaders(r, 'https://app.example');
  assert.equal(r.setCookies.filter((c) => c.startsWith(`${SESSION}=`)).length, 0, 'no session');
}

test('/login: after 3 failures in a row the 4th attempt at once is refused with 429 and Retry-After', async () => {
  const jar = new Jar();
  const page = await loginPage(jar);
  // the throttle counts whole seconds: start early in one, so that "at once" stays within the first 1 s wait
  while (Date.now() % 1000 > 300) await sleep(20);
  await failures(page, jar, users.bob.username, 3);
  // the right password, from yet another address: the account alone is throttled
  const fourth = await login(srv, page, users.bob.username, users.bob.password, { jar, from: freshAddress() });
  assertThrottled(fourth);
});

/**
 * One more failure for username, once the throttle lets it through (bounded): after it the wait is at least
 * 2 s, so an attempt made right away falls surely within it, whatever second the clock is in.
 */
async function failOnceAllowed(page, jar, username, from) {
  const end = Date.now() + 5_000;
  for (;;) {
    const r = await login(srv, page, username, 'wrong-again', { jar, from: from() });
    if (r.status !== 429) {
      assert.ok(r.status === 200 && r.text.includes(INCORRECT), show(r));
      return;
    }
    assertThrottled(r);
    assert.ok(Date.now() < end, 'the throttle let an attempt through within 5 s');
    await sleep(200);
  }
}

test('/login: failures are throttled per account (any address) and per address (any account)', async () => {
  // per account: 3 failures, each from another address, then a 4th when allowed (the wait after it is 2 s)
  const jar = new Jar();
  const page = await loginPage(jar);
  await failures(page, jar, users.bert.username, 3);
  await failOnceAllowed(page, jar, users.bert.username, freshAddress);
  const right = await login(srv, page, users.bert.username, users.bert.password, { jar, from: freshAddress() });
  assertThrottled(right);
  assert.match(right.text, /value="bert"/);
  // the interaction survives: it is still the same form
  assert.equal(formOf(right.text).fields.interaction, formOf(page.text).fields.interaction);
  // per address: 4 unknown accounts from one address, then a fifth (real, right password) from it
  const address = freshAddress();
  const jar2 = new Jar();
  const page2 = await loginPage(jar2);
  for (let i = 1; i <= 3; ++i) await failures(page2, jar2, `nobody${i}`, 1, () => address);
  await failOnceAllowed(page2, jar2, 'nobody4', () => address);
  const fromThere = await login(srv, page2, users.heidi.username, users.heidi.password, { jar: jar2, from: address });
  assertThrottled(fromThere);
  // heidi herself, from elsewhere, is not throttled
  const elsewhere = await login(srv, page2, users.heidi.username, users.heidi.password, { jar: jar2, from: freshAddress() });
  assert.ok(isConsentPage(elsewhere), `another address signs in: ${show(elsewhere)}`);
});

/* ---- /consent ---------------------------------------------------------------------------------------- */

/** jar signed in to web as u, on the consent page (not yet answered) */
async function consentPage(jar, u, extra = {}) {
  const req = authParams('web', CB, extra);
  const page = await authorize(srv, req.params, { jar });
  const r = isLoginPage(page) ? await login(srv, page, u.username, u.password, { jar }) : page;
  assert.ok(isConsentPage(r), `the consent page: ${show(r)}`);
  assertPageHeaders(r, 'https://app.example');
  return { ...req, page: r };
}

test('/consent: deny redirects with access_denied, state and iss', async () => {
  const jar = new Jar();
  const c = await consentPage(jar, users.grace);
  assert.match(c.page.text, /See your email address/);
  const r = await submit(srv, c.page, { decision: 'deny' }, { jar });
  assertErrorRedirect(r, srv, CB, c.state, 'access_denied');
  // the interaction is completed: the same form again (either answer) is refused
  assertErrorPage(await submit(srv, c.page, { decision: 'allow' }, { jar }), 400, { error: 'invalid_request' });
  // denying remembered nothing: prompt=none still needs consent
  const none = authParams('web', CB, { prompt: 'none' });
  assertErrorRedirect(await authorize(srv, none.params, { jar }), srv, CB, none.state, 'consent_required');
});

test('/consent: replaying the form after allow gets the error page (already completed)', async () => {
  const jar = new Jar();
  const c = await consentPage(jar, users.ivan);
  const r = await submit(srv, c.page, { decision: 'allow' }, { jar });
  const back = assertRedirect(r, srv, CB, c.state);
  assert.match(back.searchParams.get('code') ?? '', /^tsac_/);
  const again = await submit(srv, c.page, { decision: 'allow' }, { jar });
  assertErrorPage(again, 400, { error: 'invalid_request' });
  assert.match(again.text, /already been completed|expired or was completed/);
  assertErrorPage(await submit(srv, c.page, { decision: 'deny' }, { jar }), 400);
});

test('/consent: a wrong CSRF token or another browser gets 403; a bad decision 400', async () => {
  const jar = new Jar();
  const c = await consentPage(jar, users.judy);
  assertErrorPage(await submit(srv, c.page, { decision: 'allow', csrf_token: `tsx_${rand()}` }, { jar }), 403, { error: 'access_denied' });
  assertErrorPage(await submit(srv, c.page, { decision: 'allow' }), 403, { error: 'access_denied' });
  assertErrorPage(await submit(srv, c.page, { decision: 'maybe' }, { jar }), 400, { error: 'invalid_request' });
  assertErrorPage(await submit(srv, c.page, { decision: '' }, { jar }), 400);
  assertErrorPage(await submit(srv, c.page, { interaction: `tsi_${rand()}`, decision: 'allow' }, { jar }), 400);
  // and the genuine answer still goes through
  const back = assertRedirect(await submit(srv, c.page, { decision: 'allow' }, { jar }), srv, CB, c.state);
  assert.match(back.searchParams.get('code'), /^tsac_/);
});

test('/authorize: prompt=none with a session but no consent redirects with consent_required', async () => {
  const jar = new Jar();
  await consentPage(jar, users.alice); // signed in, consent page left unanswered
  assert.ok(jar.get(SESSION), 'the session cookie was set at login');
  const none = authParams('web', CB, { prompt: 'none' });
  assertErrorRedirect(await authorize(srv, none.params, { jar }), srv, CB, none.state, 'consent_required');
  // a client the user never saw: the same
  const spa = authParams('spa', SPA_CB, { prompt: 'none', scope: 'openid' });
  assertErrorRedirect(await authorize(srv, spa.params, { jar }), srv, SPA_CB, spa.state, 'consent_required');
});

/* ---- sessions ---------------------------------------------------------------------------------------- */

/** resolves when the wall clock is at ms (0..999) past a whole second, give or take a few ms (waits < 1 s) */
const alignTo = (ms) => sleep((ms - (Date.now() % 1000) + 1000) % 1000);

/* frank's session for the max_age tests: signed in at 0.6 s past a whole second (where rounding auth_time up once hid an elapsed second) */
const frank = { jar: new Jar(), at: 0 };

test('sessions: the cookie, consent remembered, prompt=login/consent/none, max_age', async () => {
  const jar = frank.jar;
  const req = authParams('web', CB);
  const page = await authorize(srv, req.params, { jar });
  await alignTo(600);
  frank.at = Date.now();
  const loggedIn = await login(srv, page, users.frank.username, users.frank.password, { jar });
  assert.ok(isConsentPage(loggedIn), show(loggedIn));
  const first = { ...req, responses: [page, loggedIn] };
  first.code = assertRedirect(await submit(srv, loggedIn, { decision: 'allow' }, { jar }), srv, CB, req.state).searchParams.get('code');
  assert.match(first.code, /^tsac_/);
  // the cookies as set on plain http (no __Host- prefix, no Secure)
  const loginResponse = first.responses[1];
  const set = loginResponse.setCookies.map(parseSetCookie);
  const session = set.find((c) => c.name === SESSION);
  assert.ok(session, `Set-Cookie ${SESSION}: ${loginResponse.setCookies}`);
  assert.ok(!set.some((c) => c.name.startsWith('__Host-')), 'no __Host- prefix on plain http');
  const browserCookie = first.responses[0].setCookies.map(parseSetCookie).find((c) => c.name === BROWSER);
  assert.ok(browserCookie, `Set-Cookie ${BROWSER} on the login page`);
  for (const c of [session, browserCookie]) {
    assert.equal(c.attrs.httponly, true, `HttpOnly: ${c.line}`);
    assert.equal(c.attrs.samesite, 'Lax', `SameSite=Lax: ${c.line}`);
    assert.equal(c.attrs.path, '/', `Path=/: ${c.line}`);
    assert.equal(c.attrs.secure, undefined, `no Secure on plain http: ${c.line}`);
    assert.equal(c.attrs.domain, undefined, `host-only: ${c.line}`);
    assert.match(c.value, /^[A-Za-z0-9_-]+$/);
  }
  assert.match(session.value, /^tsss_/);

  // consent remembered: straight back with a code
  const again = authParams('web', CB);
  const r = await authorize(srv, again.params, { jar });
  const back = assertRedirect(r, srv, CB, again.state);
  assert.match(back.searchParams.get('code'), /^tsac_/);
  // a narrower request is covered by the consent too
  const narrower = authParams('web', CB, { scope: 'openid' });
  assertRedirect(await authorize(srv, narrower.params, { jar }), srv, CB, narrower.state);
  // prompt=none now works
  const none = authParams('web', CB, { prompt: 'none' });
  assert.match(assertRedirect(await authorize(srv, none.params, { jar }), srv, CB, none.state).searchParams.get('code'), /^tsac_/);
  // prompt=login asks again, and so does prompt=consent
  assert.ok(isLoginPage(await authorize(srv, authParams('web', CB, { prompt: 'login' }).params, { jar })), 'prompt=login: login page');
  const consent = await authorize(srv, authParams('web', CB, { prompt: 'consent' }).params, { jar });
  assert.ok(isConsentPage(consent), `prompt=consent: consent page: ${show(consent)}`);
  assert.match(consent.text, /frank/);
  // max_age: a generous one passes
  const generous = authParams('web', CB, { max_age: '3600' });
  assertRedirect(await authorize(srv, generous.params, { jar }), srv, CB, generous.state);
  // a session cookie that is not ours is no session
  const forged = new Jar([[SESSION, `tsss_${rand()}`]]);
  assert.ok(isLoginPage(await authorize(srv, authParams('web', CB).params, { jar: forged })));
});

test('sessions: max_age=0 with a session 1.1 s old shows the login page', async () => {
  assert.ok(frank.at, 'the session test ran');
  await sleep(Math.max(0, frank.at + 1100 - Date.now()));
  const r = await authorize(srv, authParams('web', CB, { max_age: '0' }).params, { jar: frank.jar });
  assert.ok(isLoginPage(r), `max_age=0 with a 1.1 s old session: login page: ${show(r)}`);
});

test('sessions: max_age=0 with a session over 2 s old shows the login page (prompt=none: login_required)', async () => {
  assert.ok(frank.at, 'the session test ran');
  await sleep(Math.max(0, frank.at + 2100 - Date.now()));
  const strict = await authorize(srv, authParams('web', CB, { max_age: '0' }).params, { jar: frank.jar });
  assert.ok(isLoginPage(strict), `max_age=0 with an older session: login page: ${show(strict)}`);
  const strictNone = authParams('web', CB, { max_age: '0', prompt: 'none' });
  assertErrorRedirect(await authorize(srv, strictNone.params, { jar: frank.jar }), srv, CB, strictNone.state, 'login_required');
  // signing in again on that page completes the request: consent is remembered, so straight back with a code
  const again = authParams('web', CB, { max_age: '0' });
  const page = await authorize(srv, again.params, { jar: frank.jar });
  assert.ok(isLoginPage(page), show(page));
  const r = await login(srv, page, users.frank.username, users.frank.password, { jar: frank.jar });
  assert.match(assertRedirect(r, srv, CB, again.state).searchParams.get('code'), /^tsac_/);
});

test('sessions: a skip_consent client gets the code right after login; the session serves other clients', async () => {
  const jar = new Jar();
  const s = await signIn(srv, jar, 'trusted', 'https://trusted.example/cb', { user: users.heidi, extra: { scope: 'openid profile' } });
  assert.equal(s.responses.length, 2, 'the login page, then straight back');
  assert.equal(s.responses[1].status, 303);
  assert.match(s.code, /^tsac_/);
  // the same session at another client: no login page, the consent page
  const other = await authorize(srv, authParams('web', CB).params, { jar });
  assert.ok(isConsentPage(other), `single sign-on, then consent: ${show(other)}`);
});

/* ---- /logout ----------------------------------------------------------------------------------------- */

test('/logout: id_token_hint with a registered post_logout_redirect_uri ends the session at once', async () => {
  const jar = new Jar();
  const tokens = await exchange(await signedIn(jar, users.erin));
  const before = jar.clone();
  const r = await request(`${srv.issuer}/logout?${new URLSearchParams({ id_token_hint: tokens.id_token,
    post_logout_redirect_uri: LOGGED_OUT, state: 'bye now' })}`, { jar });
  assert.equal(r.status, 303, show(r));
  assert.equal(r.location, `${LOGGED_OUT}?state=bye%20now`);
  const cleared = r.setCookies.map(parseSetCookie).find((c) => c.name === SESSION);
  assert.ok(cleared, `the session cookie is cleared: ${r.setCookies}`);
  assert.equal(cleared.value, '');
  assert.equal(cleared.attrs['max-age'], '0');
  assert.equal(jar.get(SESSION), undefined);
  // the session is over on the server too: the old cookie no longer signs anyone in
  assert.ok(isLoginPage(await authorize(srv, authParams('web', CB).params, { jar: before })), 'the old cookie: login page');
  const none = authParams('web', CB, { prompt: 'none' });
  assertErrorRedirect(await authorize(srv, none.params, { jar: before }), srv, CB, none.state, 'login_required');
  // the same hint again, by POST, with no session left here: straight back to the client
  const again = await request(`${srv.issuer}/logout`, { form: { id_token_hint: tokens.id_token, post_logout_redirect_uri: LOGGED_OUT } });
  assert.equal(again.status, 303, show(again));
  assert.equal(again.location, LOGGED_OUT);
});

test('/logout: an unregistered post_logout_redirect_uri or a forged id_token_hint gets the error page', async () => {
  const jar = new Jar();
  const tokens = await exchange(await signedIn(jar, users.erin));
  const logout = (params) => request(`${srv.issuer}/logout?${new URLSearchParams(params)}`, { jar });
  for (const uri of ['https://evil.example/', `${LOGGED_OUT}/`, CB, `${LOGGED_OUT}?x=1`]) {
    const r = await logout({ id_token_hint: tokens.id_token, post_logout_redirect_uri: uri });
    assertErrorPage(r, 400, { error: 'invalid_request' });
  }
  assertErrorPage(await logout({ client_id: 'spa', post_logout_redirect_uri: LOGGED_OUT }), 400);
  assertErrorPage(await logout({ post_logout_redirect_uri: LOGGED_OUT }), 400);
  const [h, p, s] = tokens.id_token.split('.');
  const claims = decode(tokens.id_token).claims;
  const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const forgeries = {
    'claims changed': `${h}.${enc({ ...claims, sub: 'someone-else' })}.${s}`,
    'alg none': `${enc({ alg: 'none', typ: 'JWT' })}.${p}.`,
    'signature altered': `${h}.${p}.${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`,
    'not a JWT': 'hello',
  };
  for (const [name, hint] of Object.entries(forgeries)) {
    const r = await logout({ id_token_hint: hint, post_logout_redirect_uri: LOGGED_OUT });
    try { assertErrorPage(r, 400, { error: 'invalid_request' }); } catch (e) { e.message = `${name}: ${e.message}`; throw e; }
  }
  assertErrorPage(await logout({ id_token_hint: tokens.id_token, client_id: 'spa' }), 400, { error: 'invalid_request' });
  // none of that signed the person out
  const still = authParams('web', CB);
  assertRedirect(await authorize(srv, still.params, { jar }), srv, CB, still.state);
});

test('/logout: without a hint, a confirmation page whose form posts a CSRF token', async () => {
  const jar = new Jar();
  await signedIn(jar, users.erin);
  const before = jar.clone();
  const page = await request(`${srv.issuer}/logout?${new URLSearchParams({ client_id: 'web', post_logout_redirect_uri: LOGGED_OUT,
    state: 's1' })}`, { jar });
  assert.equal(page.status, 200, show(page));
  assertPageHeaders(page, 'https://app.example');
  const form = formOf(page.text);
  assert.equal(form.action, '/logout');
  assert.ok(form.fields.csrf_token, `a csrf_token field: ${page.text}`);
  assert.equal(form.fields.post_logout_redirect_uri, LOGGED_OUT);
  assert.equal(form.fields.state, 's1');
  assert.ok(!page.setCookies.some((c) => c.startsWith(`${SESSION}=`)), 'not signed out yet');
  // a wrong token: 403, still signed in
  assertErrorPage(await submit(srv, page, { csrf_token: 'wrong' }, { jar }), 403, { error: 'access_denied' });
  const tok = form.fields.csrf_token;
  assertErrorPage(await submit(srv, page, { csrf_token: `${tok.slice(0, -1)}${tok.endsWith('A') ? 'B' : 'A'}` }, { jar }), 403);
  // the token is bound to the session: another signed-in browser cannot use it
  const other = new Jar();
  await signedIn(other, users.erin);
  assertErrorPage(await submit(srv, page, {}, { jar: other }), 403);
  const still = authParams('web', CB);
  assertRedirect(await authorize(srv, still.params, { jar }), srv, CB, still.state);
  // a GET with the token does not sign out either (the form is a POST)
  const get = await request(`${srv.issuer}/logout?${new URLSearchParams(form.fields)}`, { jar });
  assert.equal(get.status, 200, show(get));
  assert.ok(formOf(get.text), 'the confirmation page again');
  // the right one: signed out, back to the client with state
  const r = await submit(srv, page, {}, { jar });
  assert.equal(r.status, 303, show(r));
  assert.equal(r.location, `${LOGGED_OUT}?state=s1`);
  assert.ok(r.setCookies.some((c) => c.startsWith(`${SESSION}=;`)), `cleared: ${r.setCookies}`);
  assert.ok(isLoginPage(await authorize(srv, authParams('web', CB).params, { jar: before })), 'the old cookie: login page');
});

test('/logout: without a hint or a URI, the signed-out page; a hint for another user asks first', async () => {
  const jar = new Jar();
  await signedIn(jar, users.erin);
  const page = await request(`${srv.issuer}/logout`, { jar });
  assert.equal(page.status, 200, show(page));
  assertPageHeaders(page);
  const r = await submit(srv, page, {}, { jar });
  assert.equal(r.status, 200, show(r));
  assert.match(r.text, /You have been signed out/);
  assertPageHeaders(r);
  // nobody signed in: the signed-out page at once
  const nobody = await request(`${srv.issuer}/logout`);
  assert.equal(nobody.status, 200);
  assert.match(nobody.text, /You have been signed out/);
  // a valid hint, but for someone else than who is signed in here: confirmation, not sign-out
  const other = new Jar();
  const erinTokens = await exchange(await signedIn(other, users.erin));
  const mine = new Jar();
  await signedIn(mine, users.judy);
  const confirm = await request(`${srv.issuer}/logout?${new URLSearchParams({ id_token_hint: erinTokens.id_token })}`, { jar: mine });
  assert.equal(confirm.status, 200, show(confirm));
  assert.ok(formOf(confirm.text)?.fields.csrf_token, 'the confirmation page');
  assert.ok(!confirm.setCookies.some((c) => c.startsWith(`${SESSION}=`)), 'judy is still signed in');
  const still = authParams('web', CB);
  assertRedirect(await authorize(srv, still.params, { jar: mine }), srv, CB, still.state);
});
