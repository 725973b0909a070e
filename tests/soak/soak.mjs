// The soak: mixed traffic against one `tessera serve` for SOAK_SECONDS (default 600), sampling the
// server's RSS and open descriptors every SOAK_SAMPLE_SECONDS (5). Started by tests/soak/run.sh, which
// provides a private PostgreSQL (DATABASE_URL), a migrated database and TESSERA_BIN.
//
// Traffic, from SOAK_CONCURRENCY (16) loops, mostly over keep-alive connections and one request in ten on a
// fresh connection: client credentials (client_secret_basic, client_secret_post, and private_key_jwt one
// time in ten), introspection (JSON, and one in five as a signed JWT), revocation of one token in four
// followed by its introspection, JWKS (one in three with If-None-Match), /readyz, and refusals (a wrong
// secret, an unknown path); and, one loop in four, a person's grant: /authorize on the session of a user signed
// in once (SSO), the code exchanged with its PKCE verifier, the refresh token rotated, /userinfo with the
// access token. Rate limits are set high enough never to refuse, so that their code runs on
// every /token and /introspect without 429s. Access tokens live 60 s, so that the revoked set and the
// verification caches reach their steady size in the first minute.
//
// Fails when any request gets a 5xx or a network error, when RSS grows by more than SOAK_RSS_GROWTH_KB
// (8192) over the second half, or when, after the clients have disconnected, the server holds more
// descriptors than before the traffic began.
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { startServer, sleep, waitFor } from '../integration/lib.mjs';
import { SECRET, apply, assertionKey, basic, service } from '../integration/m2m_helpers.mjs';
import { Jar, pkce, signIn } from '../integration/browser_helpers.mjs';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
const SAMPLE_S = Number(process.env.SOAK_SAMPLE_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 16);
const RSS_GROWTH_KB = Number(process.env.SOAK_RSS_GROWTH_KB ?? 8192);
const url = process.env.DATABASE_URL;

const rssKb = (pid) => Number(fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m)[1]);
const fdCount = (pid) => fs.readdirSync(`/proc/${pid}/fd`).length;
/* what each descriptor is (socket:[inode], pipe:[...], a path), to name a leak when there is one */
const fdTargets = (pid) => fs.readdirSync(`/proc/${pid}/fd`).map((fd) => { try { return fs.readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { return '?'; } });

const WEB_CB = 'https://app.example/cb';
const SOAK_USER = { username: 'soak', password: `pw-soak-${randomBytes(8).toString('hex')}`, email: 'soak@example.test', name: 'Soak' };
const signer = assertionKey();
apply(url, {
  clients: [
    service('soak-basic'),
    service('soak-post', { token_endpoint_auth_method: 'client_secret_post' }),
    service('soak-jwt', { token_endpoint_auth_method: 'private_key_jwt', client_secret: undefined, jwks: { keys: [signer.jwk] } }),
    service('soak-gateway', { may_introspect: true }),
    { client_id: 'soak-web', client_secret: SECRET, skip_consent: true, grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [WEB_CB], scope: 'openid profile email' },
  ],
  users: [SOAK_USER],
});
const srv = await startServer({ url, env: {
  TESSERA_ACCESS_TOKEN_TTL: '60s',
  TESSERA_RATE_LIMIT_CLIENT_RATE: '1000000', TESSERA_RATE_LIMIT_CLIENT_BURST: '1000000',
  TESSERA_RATE_LIMIT_ADDRESS_RATE: '1000000', TESSERA_RATE_LIMIT_ADDRESS_BURST: '1000000',
  /* the access log would be a line per request kept by this process for the whole run */
  TESSERA_LOG_LEVEL: 'warn',
} });
const webJar = new Jar();
const pid = srv.child.pid;
const port = srv.port;

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
const counts = { requests: 0, failures: 0, byStatus: {} };
const failures = [];

function request(method, path, { headers = {}, body, fresh = Math.random() < 0.1 } = {}) {
  return new Promise((resolve) => {
    const h = { ...headers };
    if (body !== undefined) {
      h['content-type'] = 'application/x-www-form-urlencoded';
      h['content-length'] = Buffer.byteLength(body);
    }
    if (fresh) h.connection = 'close';
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: h, agent: fresh ? false : agent, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        counts.requests++;
        counts.byStatus[res.statusCode] = (counts.byStatus[res.statusCode] ?? 0) + 1;
        if (res.statusCode >= 500) {
          counts.failures++;
          if (failures.length < 20) failures.push(`${method} ${path}: ${res.statusCode} ${text.slice(0, 200)}`);
        }
        resolve({ status: res.statusCode, headers: res.headers, text });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => {
      counts.requests++;
      counts.failures++;
      if (failures.length < 20) failures.push(`${method} ${path}: ${e.message}`);
      resolve({ status: 0, text: '' });
    });
    req.end(body);
  });
}

const form = (o) => new URLSearchParams(o).toString();

/* a person's grant on the session signed in at the start: SSO /authorize, code, refresh, userinfo */
async function personGrant() {
  const { verifier, challenge } = pkce();
  const a = await request('GET', `/authorize?${form({ client_id: 'soak-web', redirect_uri: WEB_CB, response_type: 'code',
    scope: 'openid profile', code_challenge: challenge, code_challenge_method: 'S256', state: 's' })}`, { headers: { cookie: webJar.header() } });
  const code = a.headers?.location ? new URL(a.headers.location).searchParams.get('code') : null;
  if (!code) return;
  const t = await request('POST', '/token', { body: form({ grant_type: 'authorization_code', code, redirect_uri: WEB_CB,
    code_verifier: verifier }), headers: { authorization: basic('soak-web') } });
  if (t.status !== 200) return;
  const { access_token: at, refresh_token: rt } = JSON.parse(t.text);
  await request('POST', '/token', { body: form({ grant_type: 'refresh_token', refresh_token: rt }), headers: { authorization: basic('soak-web') } });
  await request('GET', '/userinfo', { headers: { authorization: `Bearer ${at}` } });
}

async function getToken(i) {
  if (i % 10 === 9) {
    const now = Math.floor(Date.now() / 1000);
    const assertion = signer.assertion({ iss: 'soak-jwt', sub: 'soak-jwt', aud: srv.issuer, iat: now, exp: now + 60,
      jti: randomBytes(12).toString('base64url') });
    return request('POST', '/token', { body: form({ grant_type: 'client_credentials', client_assertion_type:
      'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }) });
  }
  if (i % 2 === 0) {
    return request('POST', '/token', { body: form({ grant_type: 'client_credentials' }), headers: { authorization: basic('soak-basic') } });
  }
  return request('POST', '/token', { body: form({ grant_type: 'client_credentials', client_id: 'soak-post', client_secret: SECRET }) });
}

let running = true;
let etag;
async function loop(k) {
  for (let i = k; running; i += CONCURRENCY) {
    const t = await getToken(i);
    const tok = t.status === 200 ? JSON.parse(t.text).access_token : undefined;
    if (tok) {
      const accept = i % 5 === 0 ? { accept: 'application/token-introspection+jwt' } : {};
      await request('POST', '/introspect', { body: form({ token: tok }), headers: { authorization: basic('soak-gateway'), ...accept } });
      // i % 4 == 0: soak-basic revokes its own token; i % 8 == 3: soak-post revokes its own (or, when i % 10
      // is 9, soak-jwt's, which is answered 200 and changes nothing)
      let revoke;
      if (i % 4 === 0) revoke = { body: form({ token: tok }), headers: { authorization: basic('soak-basic') } };
      else if (i % 8 === 3) revoke = { body: form({ token: tok, client_id: 'soak-post', client_secret: SECRET }) };
      if (revoke) {
        await request('POST', '/revoke', revoke);
        await request('POST', '/introspect', { body: form({ token: tok }), headers: { authorization: basic('soak-gateway') } });
      }
    }
    const j = await request('GET', '/jwks.json', { headers: i % 3 === 0 && etag ? { 'if-none-match': etag } : {} });
    if (j.headers?.etag) etag = j.headers.etag;
    if (i % 2 === 0) await request('GET', '/readyz');
    if (i % 20 === 0) await request('POST', '/token', { body: form({ grant_type: 'client_credentials' }), headers: { authorization: basic('soak-basic', 'wrong'.padEnd(48, 'x')) } });
    if (i % 20 === 10) await request('GET', '/nope');
    if (k % 4 === 0) await personGrant();
  }
}

const samples = [];
const sample = (t) => {
  const s = { t, rssKb: rssKb(pid), fds: fdCount(pid), requests: counts.requests };
  samples.push(s);
  console.log(`soak: t=${String(t).padStart(4)}s  RSS ${(s.rssKb / 1024).toFixed(1).padStart(7)} MB  fds ${String(s.fds).padStart(4)}  requests ${s.requests}`);
};

let ok = false;
try {
  await signIn(srv, webJar, 'soak-web', WEB_CB, { user: SOAK_USER });
  /* the sign-in's audit events make the audit writer open its connection (it connects with its first batch,
   * within 200 ms): part of the steady state, so it belongs to the baseline of descriptors */
  await sleep(1000);
  const fdsBefore = fdCount(pid);
  const targetsBefore = fdTargets(pid);
  const rssBefore = rssKb(pid);
  console.log(`soak: ${SECONDS}s of mixed traffic from ${CONCURRENCY} loops against pid ${pid}; before: RSS ${(rssBefore / 1024).toFixed(1)} MB, ${fdsBefore} fds`);
  const started = Date.now();
  const loops = Array.from({ length: CONCURRENCY }, (_, k) => loop(k));
  for (let t = SAMPLE_S; t <= SECONDS; t += SAMPLE_S) {
    await sleep(started + t * 1000 - Date.now());
    sample(t);
  }
  running = false;
  await Promise.all(loops);
  const elapsed = (Date.now() - started) / 1000;
  agent.destroy();
  // the server notices the closed keep-alive connections at once; its descriptors must come back
  let fdsAfter = fdCount(pid);
  try { await waitFor(() => (fdsAfter = fdCount(pid)) <= fdsBefore, 5000, 100); } catch { /* reported below */ }

  const rss = samples.map((s) => s.rssKb);
  const mid = samples[Math.floor(samples.length / 2) - 1] ?? samples[0];
  const secondHalf = samples.slice(Math.floor(samples.length / 2));
  const growth = Math.max(...secondHalf.map((s) => s.rssKb)) - mid.rssKb;
  const mb = (kb) => `${(kb / 1024).toFixed(1)} MB`;
  console.log(`soak: ${counts.requests} requests in ${elapsed.toFixed(0)} s (${(counts.requests / elapsed).toFixed(0)}/s), statuses ${JSON.stringify(counts.byStatus)}, ${counts.failures} failures`);
  console.log(`soak: RSS start ${mb(rss[0])}, peak ${mb(Math.max(...rss))}, end ${mb(rss[rss.length - 1])}; ` +
    `growth over the second half (from t=${mid.t}s) ${mb(growth)} (limit ${mb(RSS_GROWTH_KB)})`);
  console.log(`soak: fds before ${fdsBefore}, start ${samples[0].fds}, peak ${Math.max(...samples.map((s) => s.fds))}, ` +
    `end ${samples[samples.length - 1].fds}, after the clients left ${fdsAfter}`);
  for (const f of failures) console.log(`soak: failure: ${f}`);
  assert.equal(counts.failures, 0, 'requests failed');
  assert.ok(growth <= RSS_GROWTH_KB, `RSS grew ${mb(growth)} over the second half`);
  const added = fdTargets(pid).filter((t) => !targetsBefore.includes(t));
  assert.ok(fdsAfter <= fdsBefore, `descriptors leaked: ${fdsBefore} before, ${fdsAfter} after (new: ${added.join(', ')})`);
  ok = true;
} finally {
  running = false;
  const { code } = await srv.stop();
  if (code !== 0 || !ok) {
    console.log(srv.logs.join('').slice(-4000));
    ok = false;
  }
  console.log(ok ? 'soak: PASS' : 'soak: FAIL');
  process.exitCode = ok ? 0 : 1;
}
