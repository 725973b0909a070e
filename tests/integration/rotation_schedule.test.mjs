// Scheduled rotation with several nodes: it happens on its own, once per period in all, not once per node,
// and every node serves the same key set afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cli, createDatabase, sql, startServer, sleep, waitFor } from './lib.mjs';

test('two nodes rotate on schedule exactly once per period between them', async (t) => {
  const url = createDatabase('sched');
  assert.equal(cli(['migrate'], { env: { DATABASE_URL: url } }).status, 0);
  const env = { TESSERA_KEY_ROTATION_PERIOD: '5s', TESSERA_KEY_RETENTION: '60s' };
  const a = await startServer({ url, env });
  const b = await startServer({ url, env });
  t.after(async () => { await a.stop(); await b.stop(); });

  const start = Date.now();
  await sleep(12_500);
  const elapsed = (Date.now() - start) / 1000;
  const rows = sql(url, "SELECT alg || ' ' || count(*) FROM signing_keys GROUP BY alg ORDER BY alg").split('\n');
  for (const row of rows) {
    const [alg, n] = row.split(' ');
    const rotations = Number(n) - 2; // bootstrap made a current and a next
    assert.ok(rotations >= 1, `${alg}: no scheduled rotation in ${elapsed}s`);
    assert.ok(rotations <= Math.ceil(elapsed / 5) + 1, `${alg}: ${rotations} rotations in ${elapsed}s: more than one node rotated`);
  }
  assert.equal(sql(url, "SELECT count(*) FROM signing_keys WHERE state = 'current'"), '2');
  assert.equal(sql(url, "SELECT count(*) FROM signing_keys WHERE state = 'next'"), '2');
  const kids = async (srv) => (await (await fetch(`${srv.issuer}/jwks.json`)).json()).keys.map((k) => k.kid).sort().join();
  await waitFor(async () => (await kids(a)) === (await kids(b)), 2000, 50);
});
