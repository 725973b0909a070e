// `tessera doctor` against real PostgreSQL: a clean setup has no findings (exit 0); each kind of problem (demo
// accounts, unused users and clients, old secrets, keys off their schedule, insecure redirect URIs, a broken
// audit chain) is named (exit 1), in text and as JSON lines; a development issuer allows demo accounts; usage and
// connection errors exit 2. And clients.last_used_at, which the doctor's unused-client check reads: the sync thread writes
// it within a sync interval of a client's use, and once more when the server stops.
import { test, before } from 'node:test';
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { cli, createDatabase, sleep, sql, startServer, superSql, waitFor } from './lib.mjs';
import { SECRET, apply, basic, post, service, token } from './m2m_helpers.mjs';

const ISSUER = 'https://id.example.com';
const DEV_ISSUER = 'http://127.0.0.1:8080';
let url;

const doctor = (args = [], env = {}) =>
  cli(['doctor', ...args], { env: { DATABASE_URL: url, TESSERA_ISSUER: ISSUER, ...env } });
const q = (query) => sql(url, query);
const dbName = (u) => new URL(u).pathname.slice(1);
const lines = (stdout) => stdout.split('\n').filter((l) => l.startsWith('['));
const findings = (stdout) => stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));

const CLEAN = {
  clients: [
    service('billing-service'),
    { client_id: 'web-portal', client_secret: SECRET, grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: ['https://portal.example.com/cb', 'http://127.0.0.1/cb', 'com.example.app:/cb'],
      post_logout_redirect_uris: ['https://portal.example.com/bye'], scope: 'openid profile' },
    service('reports-job'),
  ],
  users: [{ username: 'alice', password: 'correct horse battery', email: 'alice@corp.example' }],
};

before(() => {
  url = createDatabase('doctor');
  for (const args of [['migrate'], ['keys', 'rotate']]) {
    const r = cli(args, { env: { DATABASE_URL: url } });
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  }
  apply(url, CLEAN);
});

test('a clean setup has no findings and exits 0', () => {
  const r = doctor();
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal(r.stdout, 'no findings\n');
  const j = doctor(['--json']);
  assert.equal(j.status, 0, j.stderr);
  assert.equal(j.stdout, '');
});

test('every kind of problem is named, and the exit status is 1', () => {
  apply(url, {
    clients: [service('test-client')],
    users: [{ username: 'demo', password: 'demo-password' }],
  });
  q(`UPDATE clients SET redirect_uris = redirect_uris || '{http://portal.example.com/cb}',
       post_logout_redirect_uris = post_logout_redirect_uris || '{http://portal.example.com/bye}'
     WHERE client_id = 'web-portal'`);
  q(`UPDATE users SET last_login_at = now() - interval '200 days' WHERE username = 'alice'`);
  q(`UPDATE clients SET last_used_at = now() - interval '120 days' WHERE client_id = 'billing-service'`);
  q(`UPDATE client_secrets SET created_at = now() - interval '400 days'
     WHERE client_pk = (SELECT id FROM clients WHERE client_id = 'web-portal')`);
  // a rotation makes a retired key; then: the current ES256 key signs far past key_rotation_period (30d), the
  // retired one stays past key_retention (2d), and RS256 has no next key
  assert.equal(cli(['keys', 'rotate'], { env: { DATABASE_URL: url } }).status, 0);
  q(`UPDATE signing_keys SET activated_at = now() - interval '60 days' WHERE alg = 'ES256' AND state = 'current'`);
  q(`UPDATE signing_keys SET retired_at = now() - interval '10 days' WHERE alg = 'ES256' AND state = 'retired'`);
  q(`DELETE FROM signing_keys WHERE alg = 'RS256' AND state = 'next'`);
  const esCurrent = q(`SELECT kid FROM signing_keys WHERE alg = 'ES256' AND state = 'current'`);
  const esRetired = q(`SELECT kid FROM signing_keys WHERE alg = 'ES256' AND state = 'retired'`);

  const r = doctor();
  assert.equal(r.status, 1, r.stdout + r.stderr);
  const out = lines(r.stdout);
  const has = (re) => assert.ok(out.some((l) => re.test(l)), `no line matching ${re} in:\n${r.stdout}`);
  has(/^\[demo-user\] demo: .*https:\/\/id\.example\.com/);
  has(/^\[demo-client\] test-client: /);
  has(/^\[unused-user\] alice: last signed in \S+ \(200 days ago; --unused-days 90\)/);
  has(/^\[unused-client\] billing-service: last used \S+ \(120 days ago/);
  has(/^\[old-secret\] web-portal: a secret created \S+ \(400 days ago; --secret-max-age-days 180\) is valid with no expiry/);
  has(new RegExp(`^\\[key-schedule\\] ${esCurrent}: the current ES256 key has signed since \\S+ \\(60 days\\)`));
  has(new RegExp(`^\\[key-schedule\\] ${esRetired}: retired \\S+ \\(10 days ago\\), past key_retention \\(2 days\\)`));
  has(/^\[key-schedule\] RS256: no next key/);
  has(/^\[insecure-redirect-uri\] web-portal: redirect_uris: 'http:\/\/portal\.example\.com\/cb' uses http/);
  has(/^\[insecure-redirect-uri\] web-portal: post_logout_redirect_uris: 'http:\/\/portal\.example\.com\/bye' uses http/);
  assert.equal(out.length, 10, r.stdout);
  assert.match(r.stdout, /^10 findings$/m);
  // grouped by check, in a fixed order
  const order = ['demo-user', 'demo-client', 'unused-user', 'unused-client', 'old-secret', 'key-schedule', 'insecure-redirect-uri'];
  const checks = out.map((l) => l.slice(1, l.indexOf(']')));
  assert.deepEqual(checks, [...checks].sort((a, b) => order.indexOf(a) - order.indexOf(b)));
  // the loopback and private-use redirect URIs, the recent users and clients: fine
  assert.doesNotMatch(r.stdout, /'http:\/\/127\.0\.0\.1\/cb'|com\.example\.app|reports-job|\] demo:.*unused/);
  // never a secret or a hash
  assert.ok(!r.stdout.includes(SECRET) && !r.stdout.includes('hs1$'));

  const j = doctor(['--json']);
  assert.equal(j.status, 1, j.stderr);
  const all = findings(j.stdout);
  assert.equal(all.length, 10);
  for (const f of all) assert.deepEqual(Object.keys(f).sort(), ['check', 'detail', 'subject']);
  assert.deepEqual([...new Set(all.map((f) => f.check))], order);
  assert.ok(all.some((f) => f.check === 'unused-user' && f.subject === 'alice'));
  // the global --format json is the same thing
  assert.equal(doctor(['--format', 'json']).stdout, j.stdout);
});

test('a development issuer (http on loopback) allows demo accounts', () => {
  const r = doctor([], { TESSERA_ISSUER: DEV_ISSUER });
  assert.equal(r.status, 1, r.stderr); // the other findings remain
  assert.doesNotMatch(r.stdout, /demo-user|demo-client/);
  assert.match(r.stdout, /\[unused-user\] alice/);
});

test('--unused-days and --secret-max-age-days move the thresholds', () => {
  const r = doctor(['--unused-days', '365', '--secret-max-age-days=500']);
  assert.equal(r.status, 1, r.stderr);
  assert.doesNotMatch(r.stdout, /unused-|old-secret/);
  assert.match(doctor(['--unused-days=100']).stdout, /\[unused-client\] billing-service: .*--unused-days 100\)/);
  assert.doesNotMatch(doctor(['--unused-days=150']).stdout, /billing-service/);
});

test('a client that never used the server counts from when use began to be recorded', () => {
  q(`UPDATE clients SET created_at = now() - interval '300 days' WHERE client_id = 'reports-job'`);
  assert.doesNotMatch(doctor().stdout, /reports-job/);
  q(`UPDATE tessera_schema SET applied_at = now() - interval '200 days' WHERE name LIKE '%_quiet_changes'`);
  assert.match(doctor().stdout, /^\[unused-client\] reports-job: no use recorded since \S+ \(200 days; --unused-days 90\): disable or delete the client$/m);
  // the same client, had it registered itself: only deleting it makes sense
  q(`INSERT INTO client_registrations (client_pk, token_hash) SELECT id, 'doctor-test' FROM clients WHERE client_id = 'reports-job'`);
  assert.match(doctor().stdout, /^\[unused-client\] reports-job: no use recorded .*: it registered itself \(dynamic registration\): delete it$/m);
  q(`DELETE FROM client_registrations WHERE token_hash = 'doctor-test'`);
});

test('disabled accounts are not reported: the operator has acted', () => {
  assert.equal(cli(['user', 'disable', 'demo'], { env: { DATABASE_URL: url } }).status, 0);
  assert.equal(cli(['client', 'disable', 'test-client'], { env: { DATABASE_URL: url } }).status, 0);
  assert.doesNotMatch(doctor().stdout, /demo-user|demo-client/);
});

test('once everything is fixed, the exit status is 0 again', () => {
  q(`UPDATE users SET last_login_at = now()`);
  q(`UPDATE clients SET last_used_at = now(),
       redirect_uris = array_remove(redirect_uris, 'http://portal.example.com/cb'),
       post_logout_redirect_uris = array_remove(post_logout_redirect_uris, 'http://portal.example.com/bye')`);
  assert.equal(cli(['client', 'rotate-secret', 'web-portal', '--grace', '0s'], { env: { DATABASE_URL: url } }).status, 0);
  q(`UPDATE signing_keys SET activated_at = now() WHERE state = 'current'`);
  q(`DELETE FROM signing_keys WHERE state = 'retired'`);
  assert.equal(cli(['keys', 'rotate'], { env: { DATABASE_URL: url } }).status, 0);
  const r = doctor();
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal(r.stdout, 'no findings\n');
});

// audit_events refuses UPDATE and DELETE through a trigger (sql/006_audit.sql); a superuser can get past it, and
// the chain is what then shows the change
const asSuperuser = (statement) => superSql(`SET session_replication_role = replica; ${statement}`, dbName(url));

test('a changed audit row is named as a break in the hash chain', (t) => {
  assert.equal(doctor().status, 0);
  const newest = Number(q('SELECT coalesce(max(id), 0) FROM audit_events'));
  if (newest === 0) {
    t.skip('no audit rows were written by the commands before (the next test forges one)');
    return;
  }
  const target = q(`SELECT coalesce(target, '') FROM audit_events WHERE id = ${newest}`);
  asSuperuser(`UPDATE audit_events SET target = 'someone-else' WHERE id = ${newest}`);
  try {
    const r = doctor();
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`^\\[audit-chain\\] audit_events id ${newest}: hash does not match the row's content`));
    assert.equal(lines(r.stdout).length, 1, r.stdout);
  } finally {
    asSuperuser(`UPDATE audit_events SET target = ${target === '' ? 'NULL' : `'${target}'`} WHERE id = ${newest}`);
  }
  assert.equal(doctor().status, 0);
});

test('a row slipped into the audit log is named as a break in the hash chain', () => {
  assert.equal(doctor().status, 0);
  // appended behind the audit writer's back: it follows the chain's head, but its hash is not that of its content
  const rows = Number(q('SELECT coalesce(max(id), 0) FROM audit_events')); // ids have no gaps
  superSql(`INSERT INTO audit_events (id, actor, action, target, outcome, prev_hash, hash)
            VALUES (${rows + 1}, 'cli', 'admin.client.delete', 'web-portal', 'success',
                    coalesce((SELECT hash FROM audit_events WHERE id = ${rows}), decode(repeat('00', 32), 'hex')),
                    decode(repeat('00', 32), 'hex'))`, dbName(url));
  try {
    const r = doctor();
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`^\\[audit-chain\\] audit_events id ${rows + 1}: hash does not match the row's content`));
    assert.equal(lines(r.stdout).length, 1, r.stdout);
    const [f] = findings(doctor(['--json']).stdout);
    assert.deepEqual([f.check, f.subject], ['audit-chain', `audit_events id ${rows + 1}`]);
  } finally {
    asSuperuser(`DELETE FROM audit_events WHERE id = ${rows + 1}`);
  }
  assert.equal(doctor().status, 0);
});

test('usage errors and an unreachable database exit 2', () => {
  for (const args of [['--unused-days', '0'], ['--unused-days'], ['--secret-max-age-days', 'x'], ['--frobnicate'], ['extra']]) {
    const r = doctor(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.equal(r.stdout, '');
  }
  const dir = fs.mkdtempSync(path.join(process.env.TESSERA_TEST_TMP ?? '/tmp', 'doctor-'));
  const r = doctor([], { DATABASE_URL: `postgresql:///nothing?host=${dir}&user=tessera` });
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /cannot connect/);
  assert.equal(r.stdout, '');
});

// ---- clients.last_used_at -------------------------------------------------------------------------

const lastUsed = (db, id) => sql(db, `SELECT coalesce(last_used_at::text, '') FROM clients WHERE client_id = '${id}'`);

test('a client used at /token gets last_used_at within a sync interval; a refused one does not', async () => {
  const db = createDatabase('doctor_use');
  assert.equal(cli(['migrate'], { env: { DATABASE_URL: db } }).status, 0);
  apply(db, { clients: [service('svc-used'), service('svc-idle'), service('svc-refused')] });
  const srv = await startServer({ url: db, env: { TESSERA_SYNC_INTERVAL: '1s' } });
  try {
    assert.equal(lastUsed(db, 'svc-used'), '');
    // the write changes nothing any node keeps in memory: it must not make every node reload its directory
    const listener = spawn('psql', [db, '-qAtX', '-c', 'LISTEN tessera_changes', '-c', 'SELECT pg_sleep(3)'], { encoding: 'utf8' });
    let heard = '';
    listener.stdout.on('data', (d) => { heard += d; });
    const listened = new Promise((r) => listener.on('exit', r));
    await sleep(300);
    const before = Date.now();
    await token(srv, 'svc-used');
    const refused = await post(srv, '/token', { grant_type: 'client_credentials' }, { authorization: basic('svc-refused', 'wrong') });
    assert.equal(refused.status, 401);
    await waitFor(() => lastUsed(db, 'svc-used') !== '', 5000, 100);
    assert.ok(Date.now() - before < 3500, 'written within a sync interval (1s), give or take a reload');
    // the write is at the database's now(), after the use
    assert.equal(sql(db, `SELECT last_used_at > now() - interval '10 seconds' FROM clients WHERE client_id = 'svc-used'`), 't');
    await sleep(1500); // another interval
    assert.equal(lastUsed(db, 'svc-idle'), '');
    assert.equal(lastUsed(db, 'svc-refused'), '');
    await listened;
    assert.doesNotMatch(heard, /notification/, 'recording client use sent a change notification');
  } finally {
    await srv.stop();
  }
});

test('what was used since the last flush is written when the server stops', async () => {
  const db = createDatabase('doctor_stop');
  assert.equal(cli(['migrate'], { env: { DATABASE_URL: db } }).status, 0);
  apply(db, { clients: [service('svc-late')] });
  const srv = await startServer({ url: db, env: { TESSERA_SYNC_INTERVAL: '1h' } });
  try {
    await waitFor(async () => (await fetch(`${srv.issuer}/readyz`)).status === 200);
    await sleep(500); // past the sync thread's first pass, which it makes at once
    await token(srv, 'svc-late');
    assert.equal(lastUsed(db, 'svc-late'), '', 'not before the next interval');
  } finally {
    const { code } = await srv.stop();
    assert.equal(code, 0, srv.logs.join(''));
  }
  assert.notEqual(lastUsed(db, 'svc-late'), '');
});
