// Three `tessera serve` nodes on one PostgreSQL: what must hold across nodes (a revocation, a disabled
// client, a new key) reaches every node within a second, through LISTEN/NOTIFY.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cli, createDatabase, startServer, waitFor } from './lib.mjs';
import { apply, basic, introspect, post, service, token } from './m2m_helpers.mjs';

let url, nodes;

before(async () => {
  url = createDatabase('nodes');
  assert.equal(cli(['migrate'], { env: { DATABASE_URL: url } }).status, 0);
  apply(url, { clients: [service('svc'), service('gateway', { may_introspect: true })] });
  nodes = [];
  // one issuer for the whole deployment, as behind a load balancer
  for (let i = 0; i < 3; i++) nodes.push(await startServer({ url, env: { TESSERA_ISSUER: 'http://127.0.0.1' } }));
});

after(async () => {
  for (const n of nodes ?? []) await n.stop();
});

const within = async (ms, fn) => {
  const t0 = Date.now();
  await waitFor(fn, ms, 10);
  return Date.now() - t0;
};

test('issued on A, active on B, revoked through C, inactive on A and B within a second', async () => {
  const [a, b, c] = nodes;
  const tok = await token(a, 'svc');
  assert.equal((await introspect(b, tok)).active, true);
  const r = await post(c, '/revoke', { token: tok }, { authorization: basic('svc') });
  assert.equal(r.status, 200);
  const took = await within(1000, async () => !(await introspect(a, tok)).active && !(await introspect(b, tok)).active);
  assert.ok(took < 1000, `${took} ms`);
});

test('a client disabled with the CLI gets no tokens and its tokens die on every node within a second', async () => {
  const tokens = await Promise.all(nodes.map((n) => token(n, 'svc')));
  for (const n of nodes) for (const t of tokens) assert.equal((await introspect(n, t)).active, true);
  assert.equal(cli(['client', 'disable', 'svc'], { env: { DATABASE_URL: url } }).status, 0);
  const took = await within(1000, async () => {
    for (const n of nodes) {
      for (const t of tokens) if ((await introspect(n, t)).active) return false;
      if ((await post(n, '/token', { grant_type: 'client_credentials' }, { authorization: basic('svc') })).status !== 401) return false;
    }
    return true;
  });
  assert.ok(took < 1000, `${took} ms`);
  assert.equal(cli(['client', 'enable', 'svc'], { env: { DATABASE_URL: url } }).status, 0);
  await within(1000, async () => (await introspect(nodes[0], tokens[0])).active);
});

test('a key rotated on one node appears in every node\'s JWKS', async () => {
  const kids = async (n) => (await (await fetch(`${n.issuer}/jwks.json`)).json()).keys.map((k) => k.kid).sort().join();
  const before = await kids(nodes[0]);
  assert.equal(cli(['keys', 'rotate'], { env: { DATABASE_URL: url } }).status, 0);
  const took = await within(1000, async () => {
    const all = await Promise.all(nodes.map(kids));
    return all.every((k) => k === all[0] && k !== before);
  });
  assert.ok(took < 1000, `${took} ms`);
  // a token signed by the new current key introspects everywhere
  const tok = await token(nodes[2], 'svc');
  for (const n of nodes) assert.equal((await introspect(n, tok)).active, true);
});
