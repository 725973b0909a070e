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
