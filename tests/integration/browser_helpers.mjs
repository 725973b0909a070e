// Helpers for the browser-flow integration tests (browser_errors.test.mjs, browser_tokens.test.mjs): what a
// browser does, without a browser. Requests go out with node:http and never follow redirects (like fetch with
// redirect: 'manual', but with the one thing fetch cannot do here: choose the source address, so that tests of
// failed logins each get their own per-address throttle in 127.0.0.0/8 and leave 127.0.0.1 alone). A tiny
// cookie jar plays the browser's part; the login and consent forms are read out of the HTML.
import assert from 'node:assert/strict';
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { cli, createDatabase } from './lib.mjs';

export const SECRET = 'tsbrowser-'.padEnd(48, 's');
export const INCORRECT = 'Incorrect username or password.';

/** RFC 6749 §2.3.1: form-urlencoded, joined, base64 */
export const basic = (id, secret = SECRET) => {
  const enc = (s) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
};

/** a migrated database with spec ({clients, users, roles}) applied with `tessera apply` */
export function databaseWith(prefix, spec) {
  const url = createDatabase(prefix);
  const m = cli(['migrate'], { env: { DATABASE_URL: url } });
  assert.equal(m.status, 0, `migrate: ${m.stderr}`);
  const file = path.join(process.env.TESSERA_TEST_TMP ?? '/tmp', `browser-${process.pid}-${randomBytes(4).toString('hex')}.json`);
  fs.writeFileSync(file, JSON.stringify(spec), { mode: 0o600 });
  const r = cli(['apply', file], { env: { DATABASE_URL: url } });
  fs.rmSync(file, { force: true });
  assert.equal(r.status, 0, `tessera apply: ${r.stdout}${r.stderr}`);
  return url;
}

/** `tessera args...` against url; asserts success */
export function tessera(url, ...args) {
  const r = cli(args, { env: { DATABASE_URL: url } });
  assert.equal(r.status, 0, `tessera ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

/* ---- the cookie jar ------------------------------------------------------------------------------------ */

/** parses one Set-Cookie line: {name, value, attrs: {lower-case name: value or true}} */
export function parseSetCookie(line) {
  const [pair, ...rest] = line.split(';');
  const eq = pair.indexOf('=');
  const attrs = {};
  for (const a of rest) {
    const i = a.indexOf('=');
    const k = (i === -1 ? a : a.slice(0, i)).trim().toLowerCase();
    if (k) attrs[k] = i === -1 ? true : a.slice(i + 1).trim();
  }
  return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attrs, line };
}

/** one browser's cookies for the one origin the tests talk to (no domain or path matching needed) */
export class Jar {
  constructor(entries = []) { this.cookies = new Map(entries); }
  /** takes the Set-Cookie lines of a response */
  update(lines = []) {
    for (const line of lines) {
      const c = parseSetCookie(line);
      if (c.attrs['max-age'] !== undefined && Number(c.attrs['max-age']) <= 0) this.cookies.delete(c.name);
      else if (c.value === '') this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
  }
  get(name) { return this.cookies.get(name); }
  set(name, value) { this.cookies.set(name, value); }
  delete(name) { this.cookies.delete(name); }
  /** the Cookie header, or undefined when the jar is empty */
  header() { return this.cookies.size ? [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') : undefined; }
  /** an independent copy (a second tab that kept the old cookies) */
  clone() { return new Jar([...this.cookies]); }
}

/* ---- requests ------------------------------------------------------------------------------------------ */

/**
 * One request; redirects are never followed. form: an object or [[k, v]...] sent as
 * application/x-www-form-urlencoded (POST unless method says otherwise). jar: sends its cookies and takes the
 * response's. from: the local (source) address. Returns {status, headers, text, json, location, setCookies,
 * ms}; headers are node's lower-cased object.
 */
export function request(url, { method, headers = {}, form, body, jar, from, timeoutMs = 15_000 } = {}) {
  const u = new URL(url);
  const h = { ...headers };
  if (form !== undefined) {
    body = new URLSearchParams(form).toString();
    h['content-type'] ??= 'application/x-www-form-urlencoded';
  }
  method ??= body !== undefined ? 'POST' : 'GET';
  if (body !== undefined) h['content-length'] = Buffer.byteLength(body);
  const cookie = jar?.header();
  if (cookie && h.cookie === undefined) h.cookie = cookie;
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = http.request(u, { method, headers: h, timeout: timeoutMs, agent: false, ...(from ? { localAddress: from } : {}) },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json;
          try { json = JSON.parse(text); } catch { json = undefined; }
          const setCookies = res.headers['set-cookie'] ?? [];
          jar?.update(setCookies);
          resolve({ status: res.statusCode, headers: res.headers, text, json, setCookies,
            location: res.headers.location, ms: Number(process.hrtime.bigint() - started) / 1e6 });
        });
        res.on('error', reject);
      });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** describes a response for assertion messages */
export const show = (r) => `HTTP ${r.status} ${r.location ? `-> ${r.location} ` : ''}${r.text.slice(0, 400)}`;

/** the hidden inputs of the page's (first) form, and its action: {action, fields} */
export function formOf(html) {
  const m = /<form action="([^"]*)" method="post">([\s\S]*?)<\/form>/.exec(html);
  if (!m) return null;
  const named = { amp: '&', lt: '<', gt: '>', quot: '"' };
  const unescape = (s) => s.replace(/&(?:#(\d+)|#x([0-9a-f]+)|(amp|lt|gt|quot));/gi,
    (_, d, x, n) => (d ? String.fromCharCode(Number(d)) : x ? String.fromCharCode(parseInt(x, 16)) : named[n.toLowerCase()]));
  const fields = {};
  for (const i of m[2].matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields[i[1]] = unescape(i[2]);
  return { action: m[1], fields };
}

export const isLoginPage = (r) => r.status === 200 && /<h1>Sign in<\/h1>/.test(r.text) && /action="\/login"/.test(r.text);
export const isConsentPage = (r) => r.status === 200 && /<h1>Allow access\?<\/h1>/.test(r.text) && /action="\/consent"/.test(r.text);
export const isErrorPage = (r) => /<h1>Something went wrong<\/h1>/.test(r.text);

/**
 * The checks every HTML page must pass (docs/browser-flows.md "Pages and headers"); formOrigin: the origin
 * the CSP's form-action must name besides 'self' (undefined: 'self' alone)
 */
export function assertPageHeaders(r, formOrigin) {
  assert.match(r.headers['content-type'] ?? '', /^text\/html/, `an HTML page: ${show(r)}`);
  const csp = r.headers['content-security-policy'];
  assert.ok(csp, 'Content-Security-Policy is present');
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.match(csp, /base-uri 'none'/);
  assert.match(csp, /style-src 'self'/);
  assert.doesNotMatch(csp, /script-src/);
  const formAction = /form-action ([^;]*)/.exec(csp)?.[1];
  assert.equal(formAction, formOrigin ? `'self' ${formOrigin}` : "'self'", `form-action in ${csp}`);
  assert.equal(r.headers['x-frame-options'], 'DENY');
  assert.match(r.headers['cache-control'] ?? '', /no-store/);
}

/** an error page: status, no Location, the headers, and the error code (and description, if given) shown */
export function assertErrorPage(r, status, { error, description } = {}) {
  assert.equal(r.status, status, show(r));
  assert.equal(r.location, undefined, 'an error page never redirects');
  assert.ok(isErrorPage(r), `the error page: ${show(r)}`);
  assertPageHeaders(r);
  if (error) assert.ok(r.text.includes(`<code>${error}</code>`), `error code ${error} shown: ${show(r)}`);
  if (description) assert.ok(r.text.includes(description), `"${description}" shown: ${show(r)}`);
}

/** a 303 back to the client; returns the Location as a URL after checking its prefix, iss and state */
export function assertRedirect(r, srv, redirectUri, state) {
  assert.equal(r.status, 303, show(r));
  assert.ok(r.location?.startsWith(`${redirectUri}?`), `redirected to ${redirectUri}: ${r.location}`);
  const back = new URL(r.location);
  assert.equal(back.searchParams.get('iss'), srv.issuer, 'iss is the issuer (RFC 9207)');
  assert.equal(back.searchParams.get('state'), state ?? null, 'state is echoed exactly');
  return back;
}

/** an error redirect with error (and error_description present) */
export function assertErrorRedirect(r, srv, redirectUri, state, error) {
  const back = assertRedirect(r, srv, redirectUri, state);
  assert.equal(back.searchParams.get('error'), error, `error in ${r.location}`);
  assert.ok(back.searchParams.get('error_description'), `error_description in ${r.location}`);
  assert.equal(back.searchParams.get('code'), null, 'no code with an error');
  return back;
}

/* ---- the protocol -------------------------------------------------------------------------------------- */

/** RFC 7636 S256 */
export function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export const rand = () => randomBytes(9).toString('base64url');

/**
 * The parameters of a typical authorization request for client (PKCE S256, state, nonce); extra overrides
 * them, a value of null leaves one out. Returns {params, verifier, state, nonce}.
 */
export function authParams(clientId, redirectUri, extra = {}) {
  const { verifier, challenge } = pkce();
  const all = { client_id: clientId, redirect_uri: redirectUri, response_type: 'code', scope: 'openid profile email',
    state: rand(), nonce: rand(), code_challenge: challenge, code_challenge_method: 'S256', ...extra };
  const params = Object.fromEntries(Object.entries(all).filter(([, v]) => v !== null && v !== undefined));
  return { params, verifier, state: params.state, nonce: params.nonce };
}

/** GET /authorize?params with jar */
export const authorize = (srv, params, opts = {}) =>
  request(`${srv.issuer}/authorize?${new URLSearchParams(params)}`, opts);

/** POSTs the page's form (its hidden fields, plus extra) to its action */
export function submit(srv, page, extra = {}, opts = {}) {
  const f = formOf(page.text);
  assert.ok(f, `a form on the page: ${show(page)}`);
  return request(`${srv.issuer}${f.action}`, { form: { ...f.fields, ...extra }, ...opts });
}

/** the login page's form submitted with username and password */
export const login = (srv, page, username, password, opts = {}) => submit(srv, page, { username, password }, opts);

/**
 * The whole journey with jar: /authorize (params from authParams), the login page (when it comes), the consent
 * page (when it comes: decision), and the 303 back. Returns {back (URL), code, verifier, state, nonce,
 * responses}.
 */
export async function signIn(srv, jar, clientId, redirectUri, { user, extra = {}, decision = 'allow' } = {}) {
  const req = authParams(clientId, redirectUri, extra);
  const responses = [];
  let r = await authorize(srv, req.params, { jar });
  responses.push(r);
  if (isLoginPage(r)) {
    assert.ok(user, `a login page came, but no user to sign in: ${show(r)}`);
    r = await login(srv, r, user.username, user.password, { jar });
    responses.push(r);
  }
  if (isConsentPage(r)) {
    r = await submit(srv, r, { decision }, { jar });
    responses.push(r);
  }
  const back = assertRedirect(r, srv, redirectUri, req.state);
  return { ...req, back, code: back.searchParams.get('code'), responses };
}

/** POST /token with the form and headers */
export const tokenRequest = (srv, form, headers = {}) => request(`${srv.issuer}/token`, { form, headers });

/** the compact JWS's header and claims, unverified */
export function decode(jwt) {
  const [h, p] = jwt.split('.');
  return { header: JSON.parse(Buffer.from(h, 'base64url')), claims: JSON.parse(Buffer.from(p, 'base64url')) };
}

/** verifies jwt's signature (RS256 or ES256) with the key of its kid in jwks (node:crypto only) */
export function verifyJws(jwt, jwks) {
  const [h, p, s] = jwt.split('.');
  const { alg, kid } = JSON.parse(Buffer.from(h, 'base64url'));
  const jwk = jwks.keys.find((k) => k.kid === kid);
  assert.ok(jwk, `kid ${kid} is published in the JWKS`);
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  const data = Buffer.from(`${h}.${p}`), sig = Buffer.from(s, 'base64url');
  if (alg === 'RS256') return verify('sha256', data, key, sig);
  if (alg === 'ES256') return verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, sig);
  throw new Error(`unexpected alg ${alg}`);
}

/** OIDC Core §3.1.3.6: base64url of the left half of SHA-256 of the access token */
export const atHash = (accessToken) => createHash('sha256').update(accessToken).digest().subarray(0, 16).toString('base64url');
