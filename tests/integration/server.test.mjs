// `tessera serve` against real PostgreSQL: discovery, JWKS (rotation across nodes via NOTIFY), health,
// the JSON error shape, request bounds, HTTP/2 off, graceful stop, start-up refusals.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import fs from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { cli, createDatabase, startServer, waitFor, freePort, sleep, BIN } from './lib.mjs';
import { spawnSync } from 'node:child_process';

let url, a, b;

before(async () => {
  url = createDatabase('srv');
  const m = cli(['migrate'], { env: { DATABASE_URL: url } });
  assert.equal(m.status, 0, m.stderr);
  a = await startServer({ url });
  b = await startServer({ url });
});

after(async () => {
  await a?.stop();
  await b?.stop();
});

const jwks = async (srv) => (await fetch(`${srv.issuer}/jwks.json`)).json();

test('discovery documents name the exact issuer and only what exists', async () => {
  for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
    const r = await fetch(a.issuer + path);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^application\/json/);
    const doc = await r.json();
    assert.equal(doc.issuer, a.issuer);
    assert.equal(doc.jwks_uri, `${a.issuer}/jwks.json`);
    // nothing is advertised that is not served
    for (const [key, value] of Object.entries(doc)) {
      if (key.endsWith('_endpoint') || key === 'jwks_uri') {
        const probe = await fetch(value, { method: 'OPTIONS' });
        assert.notEqual(probe.status, 404, `${key} -> ${value} is advertised but not served`);
      }
    }
  }
});

test('JWKS publishes public members only, with kid/kty/alg/use, both algorithms, ETag and caching', async () => {
  const r = await fetch(`${a.issuer}/jwks.json`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^application\/jwk-set\+json/);
  assert.match(r.headers.get('cache-control'), /max-age=\d+/);
  const etag = r.headers.get('etag');
  assert.match(etag, /^"[A-Za-z0-9_-]+"$/);
  const { keys } = await r.json();
  assert.ok(keys.length >= 4, 'current and next for RS256 and ES256');
  for (const k of keys) {
    for (const m of ['kid', 'kty', 'alg', 'use']) assert.ok(k[m], `${m} missing`);
    for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) assert.equal(k[secret], undefined);
    assert.equal(k.use, 'sig');
    createPublicKey({ key: k, format: 'jwk' }); // a usable public key
  }
  assert.deepEqual(new Set(keys.map((k) => k.alg)), new Set(['RS256', 'ES256']));
  const again = await fetch(`${a.issuer}/jwks.json`, { headers: { 'if-none-match': etag } });
  assert.equal(again.status, 304);
});

test('a key rotated with the CLI reaches every node within a second, and the new signer was published before', async () => {
  const beforeA = await jwks(a);
  const kidsBefore = new Set(beforeA.keys.map((k) => k.kid));
  const listBefore = JSON.parse(cli(['--format', 'json', 'keys', 'list'], { env: { DATABASE_URL: url } }).stdout);
  const nextBefore = listBefore.filter((k) => k.state === 'next').map((k) => k.kid);
  assert.equal(nextBefore.length, 2);

  const r = cli(['keys', 'rotate'], { env: { DATABASE_URL: url } });
  assert.equal(r.status, 0, r.stderr);
  const t0 = Date.now();
  for (const srv of [a, b]) {
    await waitFor(async () => (await jwks(srv)).keys.length > beforeA.keys.length, 1000, 20);
  }
  assert.ok(Date.now() - t0 < 1000);
  const listAfter = JSON.parse(cli(['--format', 'json', 'keys', 'list'], { env: { DATABASE_URL: url } }).stdout);
  const currentAfter = listAfter.filter((k) => k.state === 'current').map((k) => k.kid);
  assert.deepEqual(currentAfter.sort(), nextBefore.sort());
  for (const kid of currentAfter) assert.ok(kidsBefore.has(kid), 'the new signing key was in JWKS before it signed');
  const afterB = await jwks(b);
  for (const kid of kidsBefore) assert.ok(afterB.keys.some((k) => k.kid === kid), 'retired keys stay published');
});

test('health and readiness', async () => {
  const h = await fetch(`${a.issuer}/healthz`);
  assert.equal(h.status, 200);
  const r = await fetch(`${a.issuer}/readyz`);
  assert.equal(r.status, 200);
  assert.equal((await r.json()).database, 'up');
});

test('errors are RFC 6749 JSON: unknown path 404, wrong method 405 with Allow', async () => {
  const nf = await fetch(`${a.issuer}/nope`);
  assert.equal(nf.status, 404);
  assert.deepEqual(Object.keys(await nf.json()).sort(), ['error', 'error_description']);
  const m = await fetch(`${a.issuer}/jwks.json`, { method: 'DELETE' });
  assert.equal(m.status, 405);
  assert.equal(m.headers.get('allow'), 'GET, HEAD');
  assert.equal((await m.json()).error, 'invalid_request');
  assert.equal(m.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(m.headers.get('cache-control'), 'no-store');
});

function rawRequest(port, payload, { timeoutMs = 5000 } = {}) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let data = '';
    s.setTimeout(timeoutMs, () => { s.destroy(); resolve(data || 'TIMEOUT'); });
    s.on('data', (d) => { data += d; });
    s.on('end', () => resolve(data));
    s.on('error', () => resolve(data || 'ERROR'));
    s.write(payload);
  });
}

test('bounded input: big bodies 413, big headers 431, garbage never a 5xx', async () => {
  const big = await fetch(`${a.issuer}/healthz`, { method: 'POST', body: 'x'.repeat(64 * 1024),
    headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  assert.equal(big.status, 413);
  const hdr = await fetch(`${a.issuer}/healthz`, { headers: { 'x-filler': 'y'.repeat(20 * 1024) } });
  assert.equal(hdr.status, 431);
  assert.equal((await hdr.json()).error, 'invalid_request');
  const junk = [
    'GARBAGE\r\n\r\n',
    'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    'GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET /jwks.json?a=1&a=2 HTTP/1.1\r\nHost: x\r\n\r\n',
    `GET /${'a'.repeat(10000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    'POST /jwks.json HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\na=b',
  ];
  for (const payload of junk) {
    const res = await rawRequest(a.port, payload);
    const status = Number((res.match(/^HTTP\/1\.1 (\d{3})/) || [])[1] ?? 0);
    assert.ok(status === 0 || status < 500, `${JSON.stringify(payload.slice(0, 40))} -> ${res.slice(0, 60)}`);
  }
  assert.equal((await fetch(`${a.issuer}/healthz`)).status, 200, 'still serving');
});

test('HTTP/2 is off by default: no h2c prior knowledge', async () => {
  const outcome = await new Promise((resolve) => {
    const session = http2.connect(a.issuer);
    session.on('error', () => resolve('refused'));
    const req = session.request({ ':path': '/healthz' });
    req.on('response', () => { resolve('served'); });
    req.on('error', () => resolve('refused'));
    req.end();
    setTimeout(() => resolve('refused'), 3000);
  });
  assert.equal(outcome, 'refused');
});

test('SIGTERM stops accepting, lets an in-flight request finish and exits 0', async () => {
  const c = await startServer({ url });
  // a request whose body is still arriving when SIGTERM lands
  const sock = net.connect(c.port, '127.0.0.1');
  let answer = '';
  sock.on('data', (d) => { answer += d; });
  sock.on('error', () => {});
  await new Promise((r) => sock.on('connect', r));
  sock.write('POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n' +
    'Content-Length: 10\r\n\r\nabcde');
  await sleep(200);
  c.child.kill('SIGTERM');
  await sleep(300);
  sock.write('fghij');
  const { code } = await c.exited;
  assert.equal(code, 0, c.logs.join(''));
  assert.match(answer, /^HTTP\/1\.1 405 /, 'the in-flight request got its answer');
  sock.destroy();
  await assert.rejects(fetch(`${c.issuer}/healthz`), 'no longer accepting');
});

// a process-directed signal goes to any thread that does not block it: one that arrives while the main thread is
// busy (a reload, a log line) would otherwise reach a pool or sync thread, where SIGHUP's default ends the process
test('only the main thread takes SIGTERM, SIGINT and SIGHUP: every other thread blocks them', async () => {
  const pid = a.child.pid;
  const stopSignals = (1n << 0n) | (1n << 1n) | (1n << 14n); // SIGHUP, SIGINT, SIGTERM: bit signo - 1
  const threads = fs.readdirSync(`/proc/${pid}/task`).filter((tid) => Number(tid) !== pid);
  assert.ok(threads.length >= 4, `loops, password and sync threads (${threads.length})`);
  for (const tid of threads) {
    const status = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
    const blocked = BigInt(`0x${status.match(/^SigBlk:\s*([0-9a-f]+)$/m)[1]}`);
    assert.equal(blocked & stopSignals, stopSignals, `thread ${tid} blocks them`);
  }
  for (let i = 0; i < 50; ++i) a.child.kill('SIGHUP'); // a burst, some landing while the main thread is busy
  await waitFor(() => a.logs.join('').split('SIGHUP: no TLS').length > 1, 5000, 20);
  assert.equal((await fetch(`${a.issuer}/healthz`)).status, 200);
  assert.equal(a.child.exitCode, null, 'still running');
});

test('start-up refusals name what is wrong', async () => {
  const port = await freePort();
  const run = (env, args = ['serve']) => spawnSync(BIN, args, { env: { ...process.env, DATABASE_URL: url, ...env },
    encoding: 'utf8', timeout: 20_000 });
  let r = run({ TESSERA_LISTEN: `0.0.0.0:${port}` });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /listen: refusing plain HTTP/);
  r = run({ TESSERA_THREADS: 'many' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /TESSERA_THREADS/);
  r = run({ TESSERA_LISTEN: `127.0.0.1:${a.port}` });
  assert.notEqual(r.status, 0, 'a port in use is refused, not shared through SO_REUSEPORT');
  assert.match(r.stderr, /Address already in use/);
  r = run({ TESSERA_KEY_ENCRYPTION_KEY: 'short' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /key-encryption key/);
  const fresh = createDatabase('old');
  r = run({ DATABASE_URL: fresh, TESSERA_LISTEN: `127.0.0.1:${port}` });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /tessera migrate/);
});
