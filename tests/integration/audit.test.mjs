// The audit log (docs/audit.md) against a real server and PostgreSQL: what a running server records (by id,
// never a secret), the append-only table, `tessera audit verify` finding a changed, removed or out-of-order row
// (tampering as the cluster's superuser, on copies of one database), events written before a clean stop, an
// alert at its threshold + 1 and not below (audit event, log line at level alert, webhook POST), `audit tail`
// and `audit export` as JSON lines, and a whole browser sign-in whose handles never reach the table.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { BIN, cli, createDatabase, sleep, sql, startServer, superSql, waitFor } from './lib.mjs';
import { SECRET, apply, basic, decode, post, service, token } from './m2m_helpers.mjs';
import * as B from './browser_helpers.mjs';

const dbName = (url) => new URL(url).pathname.slice(1);
const count = (url, where = 'true') => Number(sql(url, `SELECT count(*) FROM audit_events WHERE ${where}`));
/** the events where, oldest first, with source as an address and details as an object */
const events = (url, where = 'true') => JSON.parse(sql(url,
  `SELECT coalesce(json_agg(e ORDER BY e.id), '[]') FROM (SELECT id, actor, action, target, outcome, host(source) AS source,
     details FROM audit_events WHERE ${where}) e`));
const verify = (url) => cli(['audit', 'verify'], { env: { DATABASE_URL: url } });
const tessera = (url, ...args) => cli(args, { env: { DATABASE_URL: url } });
/** SQL as the superuser with the append-only trigger out of the way: what an intruder with full access does */
const tamper = (url, statements) =>
  superSql(`BEGIN; SET LOCAL session_replication_role = replica; ${statements}; COMMIT;`, dbName(url));
/** a copy of url's database (nothing may be connected to it) */
function copyOf(url) {
  const name = `${dbName(url)}_${randomBytes(3).toString('hex')}`;
  superSql(`CREATE DATABASE ${name} TEMPLATE ${dbName(url)} OWNER tessera`);
  return url.replace(`/${dbName(url)}?`, `/${name}?`);
}
const drop = (url) => superSql(`DROP DATABASE IF EXISTS ${dbName(url)}`);

/* the documented chain (include/tessera/audit_chain.h), written again independently of the C code */
const AT_US = `extract(epoch FROM date_trunc('second', at AT TIME ZONE 'UTC'))::bigint * 1000000
               + extract(microseconds FROM at AT TIME ZONE 'UTC')::bigint % 1000000`;
const stored = (url, where = 'true') => JSON.parse(sql(url,
  `SELECT coalesce(json_agg(r ORDER BY r.id), '[]') FROM (SELECT id, (${AT_US})::text AS at_us, actor, action, target, outcome,
     CASE WHEN source IS NULL THEN NULL ELSE format('%s', source) END AS source, details::text AS details,
     encode(prev_hash, 'hex') AS prev_hash, encode(hash, 'hex') AS hash FROM audit_events WHERE ${where}) r`));
function rowHash(prevHex, r) {
  const i64 = (v) => { const b = Buffer.alloc(8); b.writeBigInt64BE(BigInt(v)); return b; };
  const parts = [Buffer.from('TSA1'), i64(r.id), i64(r.at_us)];
  for (const f of [r.actor, r.action, r.target, r.outcome, r.source, r.details]) {
    if (f === null) { parts.push(Buffer.from([0])); continue; }
    const bytes = Buffer.from(f, 'utf8'), len = Buffer.alloc(4);
    len.writeUInt32BE(bytes.length);
    parts.push(Buffer.from([1]), len, bytes);
  }
  return createHash('sha256').update(Buffer.from(prevHex, 'hex')).update(Buffer.concat(parts)).digest('hex');
}

let url, srv, issued;

before(async () => {
  url = createDatabase('audit');
  assert.equal(tessera(url, 'migrate').status, 0);
  apply(url, { clients: [service('svc'), service('nosy')] });
  srv = await startServer({ url });
});

after(async () => { await srv?.stop(); });

test('a running server records authentication, issuance, refusals and revocation by id, and the chain verifies', async () => {
  const bad = await post(srv, '/token', { grant_type: 'client_credentials' }, { authorization: basic('svc', 'not-the-secret') });
  assert.equal(bad.status, 401);
  const unknown = await post(srv, '/token', { grant_type: 'client_credentials' }, { authorization: basic('nobody-here') });
  assert.equal(unknown.status, 401);
  issued = await token(srv, 'svc');
  const refused = await post(srv, '/token', { grant_type: 'password' }, { authorization: basic('svc') });
  assert.equal(refused.body.error, 'unsupported_grant_type');
  const nosy = await post(srv, '/introspect', { token: issued }, { authorization: basic('nosy') });
  assert.equal(nosy.status, 403);
  const revoked = await post(srv, '/revoke', { token: issued }, { authorization: basic('svc') });
  assert.equal(revoked.status, 200);

  const all = await waitFor(() => { const e = events(url, "action <> 'key.rotate'"); return e.length >= 6 && e; });
  const [auth1, auth2, issue, refuse, intro, revoke] = all;
  assert.deepEqual([auth1.action, auth1.outcome, auth1.actor, auth1.source], ['client.auth', 'failure', 'svc', '127.0.0.1']);
  assert.equal(auth1.details.endpoint, '/token');
  assert.deepEqual([auth2.action, auth2.actor], ['client.auth', null], 'an unknown client_id is not recorded');
  assert.deepEqual([issue.action, issue.outcome, issue.actor, issue.target], ['token.issue', 'success', 'svc', 'svc']);
  assert.equal(issue.details.grant_type, 'client_credentials');
  assert.equal(issue.details.jti, decode(issued)[1].jti, 'the token by its id');
  // refused before the client authenticates: no actor
  assert.deepEqual([refuse.action, refuse.actor, refuse.details.error, refuse.details.grant_type],
    ['token.refuse', null, 'unsupported_grant_type', 'other']);
  assert.deepEqual([intro.action, intro.actor, intro.outcome], ['introspect.refuse', 'nosy', 'failure']);
  assert.deepEqual([revoke.action, revoke.actor, revoke.outcome, revoke.details.jti], ['revoke', 'svc', 'success', issue.details.jti]);
  const text = sql(url, `SELECT string_agg(concat_ws(' ', actor, action, target, source, details), E'\\n') FROM audit_events`);
  assert.ok(!text.includes(issued) && !text.includes(SECRET) && !text.includes('not-the-secret') && !text.includes('nobody-here'));

  const v = verify(url);
  assert.equal(v.status, 0, v.stderr);
  assert.match(v.stdout, /^audit log intact: \d+ rows, newest id \d+, head hash [0-9a-f]{64}\n$/);
  // the documented encoding, computed here, gives every stored hash
  let prev = '0'.repeat(64);
  for (const r of stored(url)) {
    assert.equal(r.prev_hash, prev, `row ${r.id} links to the one before`);
    assert.equal(rowHash(prev, r), r.hash, `row ${r.id}'s hash`);
    prev = r.hash;
  }
});

test('the application\'s role cannot change, remove or truncate audit rows', () => {
  for (const q of ["UPDATE audit_events SET outcome = 'failure'", 'DELETE FROM audit_events', 'TRUNCATE audit_events'])
    assert.throws(() => sql(url, q), /append-only/, q);
  assert.equal(verify(url).status, 0);
});

test('events queued just before a clean SIGTERM are written', async () => {
  const before = count(url, "action = 'client.auth'");
  const n = 30;
  const rs = await Promise.all(Array.from({ length: n }, () =>
    post(srv, '/token', { grant_type: 'client_credentials' }, { authorization: basic('svc', 'wrong-one') })));
  assert.ok(rs.every((r) => r.status === 401));
  const r = await srv.stop('SIGTERM'); // at once: the writer's next batch is not due yet
  assert.equal(r.code, 0, srv.logs.join(''));
  srv = null;
  assert.equal(count(url, "action = 'client.auth'"), before + n);
  assert.equal(verify(url).status, 0);
});

test('verify names a row whose content was changed', () => {
  const copy = copyOf(url);
  try {
    tamper(copy, "UPDATE audit_events SET outcome = 'success' WHERE id = 3");
    const v = verify(copy);
    assert.equal(v.status, 1, v.stdout + v.stderr);
    assert.match(v.stderr, /audit log broken at row 3: hash does not match the row's content/);
    const j = cli(['audit', 'verify', '--format', 'json'], { env: { DATABASE_URL: copy } });
    assert.equal(j.status, 1);
    assert.deepEqual((({ intact, row }) => ({ intact, row }))(JSON.parse(j.stdout)), { intact: false, row: 3 });
  } finally { drop(copy); }
});

test('verify names the row after a removed one, and a removed first row', () => {
  let copy = copyOf(url);
  try {
    tamper(copy, 'DELETE FROM audit_events WHERE id = 4');
    const v = verify(copy);
    assert.equal(v.status, 1);
    assert.match(v.stderr, /broken at row 5: id gap after row 3: 1 row\(s\) removed/);
  } finally { drop(copy); }
  copy = copyOf(url);
  try {
    tamper(copy, 'DELETE FROM audit_events WHERE id = 1');
    assert.match(verify(copy).stderr, /broken at row 2: the chain must begin at id 1/);
  } finally { drop(copy); }
});

test('verify names a row inserted out of order', () => {
  const copy = copyOf(url);
  try {
    // an old row replayed at the end: its prev_hash and hash are genuine, but for another place in the chain
    tamper(copy, `INSERT INTO audit_events (id, at, actor, action, target, outcome, source, details, prev_hash, hash)
                  SELECT (SELECT max(id) + 1 FROM audit_events), at, actor, action, target, outcome, source, details, prev_hash, hash
                  FROM audit_events WHERE id = 2`);
    const last = Number(sql(copy, 'SELECT max(id) FROM audit_events'));
    const v = verify(copy);
    assert.equal(v.status, 1);
    assert.match(v.stderr, new RegExp(`broken at row ${last}: prev_hash is not the hash of row ${last - 1}`));
  } finally { drop(copy); }
});

test('a row rewritten with a fresh hash breaks the next link; a rewritten tail needs the noted head', () => {
  const head = /head hash ([0-9a-f]{64})/.exec(verify(url).stdout)[1];
  const copy = copyOf(url);
  try {
    const rows = stored(copy);
    const k = 3, row = rows[k - 1];
    const forged = rowHash(row.prev_hash, { ...row, outcome: 'success' });
    tamper(copy, `UPDATE audit_events SET outcome = 'success', hash = decode('${forged}', 'hex') WHERE id = ${k}`);
    assert.match(verify(copy).stderr, new RegExp(`broken at row ${k + 1}: prev_hash is not the hash of row ${k}`));
    // rewriting every hash after it too makes a chain intact in itself: only the head noted earlier shows it
    let prev = forged;
    const updates = [];
    for (const r of rows.slice(k)) {
      const h = rowHash(prev, r);
      updates.push(`UPDATE audit_events SET prev_hash = decode('${prev}', 'hex'), hash = decode('${h}', 'hex') WHERE id = ${r.id}`);
      prev = h;
    }
    tamper(copy, updates.join('; '));
    const v = verify(copy);
    assert.equal(v.status, 0, v.stderr);
    assert.notEqual(/head hash ([0-9a-f]{64})/.exec(v.stdout)[1], head);
  } finally { drop(copy); }
});

test('audit tail and export print JSON lines; CLI changes are recorded', async () => {
  assert.equal(tessera(url, 'client', 'disable', 'nosy').status, 0);
  const [change] = events(url, "action = 'admin.client.disable'");
  assert.deepEqual([change.actor, change.target, change.outcome], ['cli', 'nosy', 'success']);
  assert.equal(typeof change.details.uid, 'number');

  const total = count(url);
  const lines = (s) => s.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const tail = tessera(url, 'audit', 'tail', '-n', '3');
  assert.equal(tail.status, 0, tail.stderr);
  const t = lines(tail.stdout);
  assert.deepEqual(t.map((e) => e.id), [total - 2, total - 1, total]);
  assert.equal(t[2].action, 'admin.client.disable');
  const exp = tessera(url, 'audit', 'export');
  assert.equal(exp.status, 0, exp.stderr);
  const all = lines(exp.stdout);
  assert.equal(all.length, total);
  for (let i = 0; i < all.length; ++i) {
    assert.match(all[i].at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.match(all[i].hash, /^[0-9a-f]{64}$/);
    assert.equal(all[i].prev_hash, i === 0 ? '0'.repeat(64) : all[i - 1].hash);
    assert.equal(typeof all[i].details, 'object');
  }
  assert.equal(tessera(url, 'audit', 'export', '--since', '2999-01-01T00:00:00Z').stdout, '');
  const window = lines(tessera(url, 'audit', 'export', '--since', all[1].at, '--until', all[3].at).stdout);
  assert.deepEqual(window.map((e) => e.id), [all[1].id, all[2].id]);
  assert.equal(tessera(url, 'audit', 'export', '--since', 'yesterday-ish').status, 2);
  assert.equal(tessera(url, 'audit', 'frobnicate').status, 2);

  // --follow: what is written afterwards, until SIGINT
  const child = spawn(BIN, ['audit', 'tail', '-n', '0', '--follow'], { env: { ...process.env, DATABASE_URL: url } });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  await sleep(300);
  assert.equal(tessera(url, 'client', 'enable', 'nosy').status, 0);
  await waitFor(() => out.includes('admin.client.enable'), 5000);
  assert.equal(lines(out).length, 1, out);
  child.kill('SIGINT');
  assert.equal(await exited, 0);
});

test('the writer keeps events while it cannot reach the database, and one refused row does not hold up the rest', async () => {
  const db = createDatabase('audit_writer');
  assert.equal(tessera(db, 'migrate').status, 0);
  apply(db, { clients: [service('svc')] });
  const s = await startServer({ url: db });
  const fail = () => post(s, '/token', { grant_type: 'client_credentials' }, { authorization: basic('svc', 'nope-nope') });
  try {
    await fail();
    await waitFor(() => count(db, "action = 'client.auth'") === 1);
    // the writer's connection is cut and no new one is allowed; the server's other connections stay
    superSql(`ALTER DATABASE ${dbName(db)} ALLOW_CONNECTIONS false`);
    superSql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${dbName(db)}'
              AND application_name = 'tessera-audit'`);
    for (let i = 0; i < 5; ++i) await fail();
    // the writer tries, fails, and keeps trying with the events in hand (the database cannot be read meanwhile)
    await waitFor(() => /"level":"error","msg":"audit: [^\n]*; keeping events queued and retrying"/.test(s.logs.join('')));
    await sleep(500);
    assert.doesNotMatch(s.logs.join(''), /audit: writing events again/);
    superSql(`ALTER DATABASE ${dbName(db)} ALLOW_CONNECTIONS true`);
    await waitFor(() => count(db, "action = 'client.auth'") === 6, 15_000);
    await waitFor(() => /audit: writing events again/.test(s.logs.join('')));

    // a constraint the events do not expect: the revocation's row is refused, its batch neighbours go in
    superSql(`ALTER TABLE audit_events ADD CONSTRAINT test_no_revoke CHECK (action <> 'revoke')`, dbName(db));
    const t = await token(s, 'svc');
    const [r1, r2, r3] = await Promise.all([fail(), post(s, '/revoke', { token: t }, { authorization: basic('svc') }), fail()]);
    assert.deepEqual([r1.status, r2.status, r3.status], [401, 200, 401]);
    await waitFor(() => count(db, "action = 'client.auth'") === 8);
    await waitFor(() => /audit: event revoke dropped/.test(s.logs.join('')));
    assert.equal(count(db, "action = 'revoke'"), 0);
    assert.equal(count(db, "action = 'token.issue'"), 1);
  } finally {
    superSql(`ALTER DATABASE ${dbName(db)} ALLOW_CONNECTIONS true`);
    await s.stop();
  }
  assert.equal(verify(db).status, 0);
});

test('an audit log that cannot be written: what it would record is refused (503), nothing done is lost', async () => {
  const db = createDatabase('audit_closed');
  assert.equal(tessera(db, 'migrate').status, 0);
  apply(db, { clients: [service('svc'), service('gw', { may_introspect: true })] });
  const s = await startServer({ url: db, env: { TESSERA_AUDIT_FAIL_CLOSED_AFTER: '1s', TESSERA_SHUTDOWN_TIMEOUT: '1s' } });
  const issue = () => post(s, '/token', { grant_type: 'client_credentials' }, { authorization: basic('svc') });
  const jtis = [];
  try {
    const first = await token(s, 'svc');
    jtis.push(decode(first)[1].jti);
    await waitFor(() => count(db, "action = 'token.issue'") === 1);

    // the database refuses the writer's rows as a read-only or full one would (any refusal but a row's own values)
    superSql('REVOKE INSERT ON audit_events FROM tessera', dbName(db));
    let refused;
    const end = Date.now() + 15_000;
    while (!refused && Date.now() < end) {
      const r = await issue();
      if (r.status === 200) jtis.push(decode(r.body.access_token)[1].jti);
      else if (r.status === 503) refused = r;
      else assert.fail(`token: ${r.status} ${r.text}`);
      await sleep(20);
    }
    assert.ok(refused, 'token requests are refused once the log has not been written for audit_fail_closed_after');
    assert.equal(refused.body.error, 'temporarily_unavailable');
    assert.match(refused.body.error_description, /audit log cannot be written/);
    assert.equal(refused.headers.get('retry-after'), '5');
    assert.ok(jtis.length >= 2, `tokens issued while the events could still queue: ${jtis.length}`);
    assert.match(s.logs.join(''), /audit: the log has not been written for 1s: refusing/);
    // reads go on: a gateway's introspection, the keys
    const intro = await post(s, '/introspect', { token: first }, { authorization: basic('gw') });
    assert.equal(intro.status, 200, intro.text);
    assert.equal(intro.body.active, true);
    assert.equal((await fetch(`${s.issuer}/jwks.json`)).status, 200);
    assert.equal((await post(s, '/revoke', { token: first }, { authorization: basic('svc') })).status, 503, 'a revocation is a change');

    // writable again: the queued events go in, requests are taken again, and every token issued has its event
    superSql('GRANT INSERT ON audit_events TO tessera', dbName(db));
    await waitFor(async () => (await issue()).status === 200, 15_000);
    await waitFor(() => /audit: the log is written again: accepting requests/.test(s.logs.join('')));
    await waitFor(() => {
      const recorded = new Set(events(db, "action = 'token.issue'").map((e) => e.details.jti));
      return jtis.every((j) => recorded.has(j));
    }, 10_000);

    // a stop while the log cannot be written: what is still queued goes to the server's log, one line each
    superSql('REVOKE INSERT ON audit_events FROM tessera', dbName(db));
    const last = await issue();
    assert.equal(last.status, 200, last.text);
    const lastJti = decode(last.body.access_token)[1].jti;
    await s.stop();
    const log = s.logs.join('');
    assert.match(log, new RegExp(`audit: unwritten event [^\\n]*token\\.issue[^\\n]*${lastJti}`));
    assert.match(log, /audit: \d+ event\(s\) not written/);
  } finally {
    superSql('GRANT INSERT ON audit_events TO tessera', dbName(db));
    await s.stop();
  }
  assert.equal(verify(db).status, 0);
});

/* ---- alerts --------------------------------------------------------------------------------------------- */

/** a webhook receiver: every POST's JSON body in posts */
async function hookServer() {
  const posts = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => { posts.push({ path: req.url, type: req.headers['content-type'], body: JSON.parse(body) }); res.writeHead(204).end(); });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { posts, url: `http://127.0.0.1:${server.address().port}/hooks/alerts?k=1`, close: () => new Promise((r) => server.close(r)) };
}

test('an alert fires at threshold + 1 and not below: an event, a log line at level alert, a webhook POST', async () => {
  const hook = await hookServer();
  const db = createDatabase('audit_alert');
  assert.equal(tessera(db, 'migrate').status, 0);
  apply(db, { clients: [service('svc')] });
  const s = await startServer({ url: db, env: { TESSERA_ALERT_INVALID_CLIENT: '3/1m', TESSERA_ALERT_WEBHOOK_URL: hook.url } });
  const fail = () => post(s, '/token', { grant_type: 'client_credentials' }, { authorization: basic('svc', 'wrong-again') });
  const alertLines = () => s.logs.join('').split('\n').filter((l) => l.includes('"level":"alert"'));
  try {
    for (let i = 0; i < 3; ++i) assert.equal((await fail()).status, 401);
    await waitFor(() => count(db, "action = 'client.auth'") === 3);
    await sleep(500); // longer than a batch: an alert would be written by now
    assert.equal(count(db, "action = 'alert'"), 0);
    assert.equal(hook.posts.length, 0);
    assert.equal(alertLines().length, 0);

    assert.equal((await fail()).status, 401);
    await waitFor(() => count(db, "action = 'alert'") === 1 && hook.posts.length === 1);
    const [a] = events(db, "action = 'alert'");
    assert.deepEqual([a.actor, a.target, a.outcome, a.source], ['system', 'invalid_client', 'alert', '127.0.0.1']);
    assert.deepEqual((({ rule, key, count: n, threshold, window }) => ({ rule, key, n, threshold, window }))(a.details),
      { rule: 'invalid_client', key: '127.0.0.1', n: 4, threshold: 3, window: '60s' });
    assert.equal(alertLines().length, 1);
    assert.match(alertLines()[0], /invalid_client: 4 events for 127\.0\.0\.1/);
    const [p] = hook.posts;
    assert.equal(p.path, '/hooks/alerts?k=1');
    assert.equal(p.type, 'application/json');
    assert.deepEqual((({ alert, key, count: n, window }) => ({ alert, key, n, window }))(p.body),
      { alert: 'invalid_client', key: '127.0.0.1', n: 4, window: '60s' });
    assert.match(p.body.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    // more of the same within the window: no second alert
    for (let i = 0; i < 3; ++i) await fail();
    await waitFor(() => count(db, "action = 'client.auth'") === 7);
    await sleep(500);
    assert.equal(count(db, "action = 'alert'"), 1);
    assert.equal(hook.posts.length, 1);
  } finally {
    await s.stop();
    await hook.close();
  }
  assert.equal(verify(db).status, 0);
});

/* ---- a whole browser sign-in: nothing secret in the table ---------------------------------------------- */

test('sign-in, code, refresh, reuse and replay are recorded by id; no handle, token, secret, password or username', async () => {
  const CB = 'https://app.example/cb';
  const alice = { username: 'alice.audit', password: `pw-${randomBytes(12).toString('hex')}` };
  const db = B.databaseWith('audit_browser', {
    clients: [{ client_id: 'web', client_secret: B.SECRET, token_endpoint_auth_method: 'client_secret_basic', skip_consent: true,
      grant_types: ['authorization_code', 'refresh_token'], redirect_uris: [CB], scope: 'openid profile' }],
    users: [alice],
  });
  const s = await startServer({ url: db });
  const seen = []; // every secret value this test handles
  try {
    const jar = new B.Jar();
    const req = B.authParams('web', CB, { scope: 'openid profile' });
    const page = await B.authorize(s, req.params, { jar });
    assert.ok(B.isLoginPage(page), B.show(page));
    const wrong = await B.login(s, page, alice.username, 'not-her-password', { jar });
    assert.ok(wrong.text.includes(B.INCORRECT));
    const back = await B.login(s, wrong, alice.username, alice.password, { jar });
    assert.equal(back.status, 303, B.show(back));
    const code = new URL(back.location).searchParams.get('code');
    const form = { grant_type: 'authorization_code', code, redirect_uri: CB, code_verifier: req.verifier };
    const t1 = await B.tokenRequest(s, form, { authorization: B.basic('web') });
    assert.equal(t1.status, 200, B.show(t1));
    const t2 = await B.tokenRequest(s, { grant_type: 'refresh_token', refresh_token: t1.json.refresh_token }, { authorization: B.basic('web') });
    assert.equal(t2.status, 200, B.show(t2));
    const reuse = await B.tokenRequest(s, { grant_type: 'refresh_token', refresh_token: t1.json.refresh_token }, { authorization: B.basic('web') });
    assert.equal(reuse.json.error, 'invalid_grant');
    const replay = await B.tokenRequest(s, form, { authorization: B.basic('web') });
    assert.equal(replay.json.error, 'invalid_grant');
    seen.push(code, req.verifier, t1.json.access_token, t1.json.refresh_token, t1.json.id_token, t2.json.access_token,
      t2.json.refresh_token, t2.json.id_token, alice.password, 'not-her-password', B.SECRET, ...jar.cookies.values());
    const sub = B.decode(t1.json.id_token).claims.sub;

    // the refusal of each replay may be emitted after the alert it raised: wait for both
    await waitFor(() => count(db, "action = 'alert'") === 2 && count(db, "action = 'token.refuse'") === 2);
    const e = events(db, "action <> 'key.rotate'");
    const find = (action, outcome) => e.filter((x) => x.action === action && (!outcome || x.outcome === outcome));
    const [lf] = find('login', 'failure');
    assert.deepEqual([lf.actor, lf.target, lf.details.client_id], [null, sub, 'web'], 'the account by its subject');
    assert.equal(find('login', 'success')[0].actor, sub);
    assert.deepEqual(find('token.issue').map((x) => [x.actor, x.target, x.details.grant_type]),
      [['web', sub, 'authorization_code'], ['web', sub, 'refresh_token']]);
    assert.equal(find('refresh.reuse')[0].actor, 'web');
    assert.equal(find('code.replay')[0].actor, 'web');
    assert.deepEqual(find('alert').map((x) => x.details.rule).sort(), ['code_replay', 'refresh_reuse']);
    assert.deepEqual(find('token.refuse').map((x) => x.details.error), ['invalid_grant', 'invalid_grant']);

    const text = sql(db, `SELECT string_agg(concat_ws(' ', actor, action, target, outcome, source, details), E'\\n') FROM audit_events`);
    for (const v of seen) assert.ok(v && !text.includes(v), `a secret value in the audit log: ${String(v).slice(0, 12)}...`);
    assert.ok(!text.includes(alice.username), 'the username');
    assert.doesNotMatch(text, /\bts(?:r|ac|ss|cs|i|x|b)_[A-Za-z0-9_-]{20,}/, 'an opaque handle');
    assert.doesNotMatch(text, /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\./, 'a JWT');
  } finally {
    await s.stop();
  }
  assert.equal(verify(db).status, 0);
});
