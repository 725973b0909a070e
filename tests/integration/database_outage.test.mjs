// The database goes away and comes back: readiness says 503 with Retry-After at once (never a hang or
// a 5xx other than 503), what lives in snapshots keeps being served, and service recovers by itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cli, createDatabase, startServer, waitFor, TOP, PG_DIR } from './lib.mjs';

const pg = (cmd) => execFileSync(`${TOP}/scripts/pg.sh`, [PG_DIR, cmd], { encoding: 'utf8' });

test('PostgreSQL stopped and restarted under a running server', async (t) => {
  const url = createDatabase('outage');
  assert.equal(cli(['migrate'], { env: { DATABASE_URL: url } }).status, 0);
  const srv = await startServer({ url });
  t.after(async () => { pg('start'); await srv.stop(); });

  assert.equal((await fetch(`${srv.issuer}/readyz`)).status, 200);
  pg('stop');

  for (let i = 0; i < 20; i++) {
    const started = Date.now();
    const r = await fetch(`${srv.issuer}/readyz`, { signal: AbortSignal.timeout(5000) });
    assert.equal(r.status, 503);
    assert.match(r.headers.get('retry-after'), /^\d+$/);
    assert.equal((await r.json()).error, 'temporarily_unavailable');
    assert.ok(Date.now() - started < 1000, 'answered at once, not after a wait');
    const j = await fetch(`${srv.issuer}/jwks.json`);
    assert.equal(j.status, 200, 'JWKS comes from memory');
    await new Promise((r2) => setTimeout(r2, 50));
  }

  pg('start');
  const t0 = Date.now();
  await waitFor(async () => (await fetch(`${srv.issuer}/readyz`)).status === 200, 15_000, 100);
  const recovered = Date.now() - t0;
  assert.ok(recovered < 10_000, `recovered in ${recovered} ms`);

  // the sync connection is back too: a rotation made now still reaches the server
  const before = (await (await fetch(`${srv.issuer}/jwks.json`)).json()).keys.length;
  assert.equal(cli(['keys', 'rotate'], { env: { DATABASE_URL: url } }).status, 0);
  await waitFor(async () => (await (await fetch(`${srv.issuer}/jwks.json`)).json()).keys.length > before, 10_000, 50);
});

test('PostgreSQL stopped in the middle of a load run', { timeout: 90_000 }, async (t) => {
  const { Jar, SECRET, basic, databaseWith, signIn, tokenRequest, request } = await import('./browser_helpers.mjs');
  const CB = 'https://app.example/cb';
  const user = { username: 'loaded', password: 'pw-loaded-0123456789', email: 'l@example.test', name: 'Load' };
  const url = databaseWith('outage_load', {
    clients: [
      { client_id: 'svc', client_secret: SECRET, grant_types: ['client_credentials'], scope: 'api:read', default_scope: 'api:read',
        may_introspect: true },
      { client_id: 'web', client_secret: SECRET, skip_consent: true, grant_types: ['authorization_code', 'refresh_token'],
        redirect_uris: [CB], scope: 'openid profile email' },
    ],
    users: [user],
  });
  /* the load is one client from one address: rate limits would answer it with 429s */
  const srv = await startServer({ url, env: { TESSERA_RATE_LIMIT_CLIENT_RATE: '0', TESSERA_RATE_LIMIT_ADDRESS_RATE: '0' } });
  t.after(async () => { pg('start'); await srv.stop(); });
  const jar = new Jar();
  const s = await signIn(srv, jar, 'web', CB, { user });
  const first = await tokenRequest(srv, { grant_type: 'authorization_code', code: s.code, redirect_uri: CB, code_verifier: s.verifier },
    { authorization: basic('web') });
  assert.equal(first.status, 200);
  const m2m = await tokenRequest(srv, { grant_type: 'client_credentials' }, { authorization: basic('svc') });
  const accessToken = m2m.json.access_token;

  // four kinds of traffic side by side: two need only memory, two need the database
  let rt = first.json.refresh_token, running = true;
  const seen = { token: {}, introspect: {}, refresh: {}, authorize: {} };
  const slowest = { ms: 0 };
  const count = (kind, r) => {
    seen[kind][r.status] = (seen[kind][r.status] ?? 0) + 1;
    slowest.ms = Math.max(slowest.ms, r.ms);
  };
  const loop = async (kind, once) => {
    while (running) {
      count(kind, await once());
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  const loops = [
    loop('token', () => tokenRequest(srv, { grant_type: 'client_credentials' }, { authorization: basic('svc') })),
    loop('introspect', () => request(`${srv.issuer}/introspect`, { form: { token: accessToken }, headers: { authorization: basic('svc') } })),
    loop('refresh', async () => {
      const r = await tokenRequest(srv, { grant_type: 'refresh_token', refresh_token: rt }, { authorization: basic('web') });
      if (r.status === 200) rt = r.json.refresh_token;
      return r;
    }),
    loop('authorize', () => request(`${srv.issuer}/authorize?${new URLSearchParams({ client_id: 'web', redirect_uri: CB,
      response_type: 'code', scope: 'openid', code_challenge: s.params.code_challenge, code_challenge_method: 'S256' })}`, { jar })),
  ];
  await new Promise((r) => setTimeout(r, 500));
  pg('stop');
  const outage = { token: seen.token[200] ?? 0, introspect: seen.introspect[200] ?? 0 };
  await waitFor(async () => (seen.refresh[503] ?? 0) > 0 && (seen.authorize[503] ?? 0) > 0, 10_000, 20);
  await new Promise((r) => setTimeout(r, 1000));
  const during = { token: (seen.token[200] ?? 0) - outage.token, introspect: (seen.introspect[200] ?? 0) - outage.introspect };
  pg('start');
  await waitFor(async () => (await fetch(`${srv.issuer}/readyz`)).status === 200, 15_000, 100);
  const refreshedBefore = seen.refresh[200] ?? 0;
  await waitFor(async () => (seen.refresh[200] ?? 0) > refreshedBefore, 10_000, 20);
  running = false;
  await Promise.all(loops);

  t.diagnostic(`statuses: ${JSON.stringify(seen)}, slowest answer ${slowest.ms.toFixed(0)} ms`);
  for (const kind of ['token', 'introspect'])
    assert.deepEqual(Object.keys(seen[kind]), ['200'], `${kind}: served from memory throughout`);
  assert.ok(during.token > 0 && during.introspect > 0, `tokens issued and introspected while the database was down: ${JSON.stringify(during)}`);
  assert.deepEqual(Object.keys(seen.refresh).sort(), ['200', '503'], 'refresh: 200, or 503 while the database is down');
  assert.deepEqual(Object.keys(seen.authorize).sort(), ['303', '503'], 'authorize: a code, or 503 while the database is down');
  assert.ok(slowest.ms < 5000, 'nothing waited on the missing database');
  // the grant survived: the last refresh token issued still works
  const last = await tokenRequest(srv, { grant_type: 'refresh_token', refresh_token: rt }, { authorization: basic('web') });
  assert.equal(last.status, 200, `the grant goes on after the outage: ${last.text}`);
});

test('a stop while PostgreSQL is down takes shutdown_timeout in all, however the wait is shared', { timeout: 60_000 }, async (t) => {
  // a request still arriving holds the loops for most of the budget, then the audit writer has an event it cannot
  // write: both must fit in the one shutdown_timeout (they used to get one each). The request ends before the
  // deadline, so that the loops tear down cleanly (one still open at the deadline is left to the process's exit).
  const net = await import('node:net');
  const { SECRET, basic, databaseWith, tokenRequest } = await import('./browser_helpers.mjs');
  const url = databaseWith('outage_stop', {
    clients: [{ client_id: 'svc', client_secret: SECRET, grant_types: ['client_credentials'], scope: 'api:read' }],
  });
  const srv = await startServer({ url, env: { TESSERA_SHUTDOWN_TIMEOUT: '3s', TESSERA_REQUEST_TIMEOUT: '60s' } });
  t.after(async () => { pg('start'); await srv.stop(); });

  pg('stop');
  const issued = await tokenRequest(srv, { grant_type: 'client_credentials' }, { authorization: basic('svc') });
  assert.equal(issued.status, 200, 'tokens come from memory; their audit event waits in the queue');
  const slow = net.connect(srv.port, '127.0.0.1');
  await new Promise((resolve) => slow.on('connect', resolve));
  slow.on('error', () => {});
  slow.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Slow: ');
  await new Promise((r) => setTimeout(r, 200));

  const started = Date.now();
  const stopped = srv.stop();
  setTimeout(() => slow.write('a\r\n\r\n'), 2_700); // the request ends 2.7 s into the 3 s budget
  await stopped;
  const took = Date.now() - started;
  slow.destroy();
  t.diagnostic(`stopped in ${took} ms (shutdown_timeout 3 s)`);
  const log = srv.logs.join('');
  assert.match(log, /audit: unwritten event [^\n]*token\.issue/, 'the queued event went to the log');
  assert.doesNotMatch(log, /still open at the shutdown deadline/);
  assert.ok(took < 4_800, `the stop took ${took} ms`);
});

test('a stop while the sync thread waits on a lock takes shutdown_timeout, not as long as the lock is held', { timeout: 60_000 }, async (t) => {
  const { spawn } = await import('node:child_process');
  const { sql } = await import('./lib.mjs');
  const url = createDatabase('outage_lock');
  assert.equal(cli(['migrate'], { env: { DATABASE_URL: url } }).status, 0);
  const srv = await startServer({ url, env: { TESSERA_SHUTDOWN_TIMEOUT: '2s' } });
  t.after(() => srv.stop());

  // another session holds the users table; the sync thread's next directory reload waits for it
  const holder = spawn('psql', [url, '-qAtX', '-v', 'ON_ERROR_STOP=1'], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => holder.kill('SIGKILL'));
  let held = '';
  holder.stdout.on('data', (d) => { held += d; });
  holder.stdin.write("BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE; SELECT 'locked';\n");
  await waitFor(() => held.includes('locked'), 5_000, 20);
  sql(url, "NOTIFY tessera_changes, 'users'");
  await waitFor(() => sql(url, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'tessera-sync' " +
    "AND wait_event_type = 'Lock'") === '1', 5_000, 20);

  const started = Date.now();
  const r = await srv.stop();
  const took = Date.now() - started;
  t.diagnostic(`stopped in ${took} ms (shutdown_timeout 2 s) with the lock still held`);
  assert.equal(r.code, 0, srv.logs.join('').slice(-2000));
  assert.ok(took < 3_500, `the stop took ${took} ms`);
  assert.match(srv.logs.join(''), /sync: still busy with PostgreSQL at the shutdown deadline: its query is cancelled/);
  assert.equal(held.includes('locked'), true);
  holder.stdin.end('ROLLBACK;\n');
});
