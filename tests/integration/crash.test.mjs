// SIGKILL in the middle of authorization-code and refresh-token traffic: what the database holds afterwards is
// whole. Each rotation spends the old refresh token and stores its successor in one statement, and each code
// is spent in the statement that reads it, so a crash leaves no spent token without a successor and no family
// with two live tokens; a client whose answer was lost in the crash holds a spent token, which then fails
// cleanly (invalid_grant, the family revoked) instead of forking the grant. A restarted server carries on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sleep, sql, startServer, waitFor } from './lib.mjs';
import { Jar, SECRET, basic, databaseWith, show, signIn, tokenRequest } from './browser_helpers.mjs';

const CB = 'https://app.example/cb';
const CHAINS = 6;   // refresh chains rotating side by side
const CODES = 12;   // codes exchanged while the server dies
const user = { username: 'crash', password: 'pw-crash-0123456789', email: 'crash@example.test', name: 'Crash Test' };

let url, srv;
/* the traffic is one client from one address: rate limits would answer it with 429s */
const env = { TESSERA_RATE_LIMIT_CLIENT_RATE: '0', TESSERA_RATE_LIMIT_ADDRESS_RATE: '0' };

/** a server on url once its database connections are up */
async function startReady() {
  const s = await startServer({ url, env });
  await waitFor(async () => (await fetch(`${s.issuer}/readyz`)).status === 200, 10_000, 50);
  return s;
}

before(async () => {
  url = databaseWith('crash', {
    clients: [{ client_id: 'web', client_secret: SECRET, token_endpoint_auth_method: 'client_secret_basic', skip_consent: true,
      grant_types: ['authorization_code', 'refresh_token'], redirect_uris: [CB], scope: 'openid profile email' }],
    users: [user],
  });
  srv = await startReady();
});

after(async () => {
  await srv?.stop('SIGKILL');
});

const exchange = (s) => tokenRequest(srv, { grant_type: 'authorization_code', code: s.code, redirect_uri: CB, code_verifier: s.verifier },
  { authorization: basic('web') });
const refresh = (server, rt) => tokenRequest(server, { grant_type: 'refresh_token', refresh_token: rt }, { authorization: basic('web') });

/** rotates rt until the server stops answering; returns the last token received and whether a request was cut */
async function chain(rt, stop) {
  let rotations = 0;
  for (;;) {
    let r;
    try {
      r = await refresh(srv, rt);
    } catch {
      return { rt, rotations, cut: true }; /* the answer to this request was lost: it may or may not have happened */
    }
    assert.equal(r.status, 200, `before the crash every rotation succeeds: ${show(r)}`);
    rt = r.json.refresh_token;
    ++rotations;
    if (stop.now)
      return { rt, rotations, cut: false };
  }
}

test('SIGKILL during code exchanges and refresh rotation leaves every grant whole', { timeout: 60_000 }, async (t) => {
  const jar = new Jar();
  const first = await signIn(srv, jar, 'web', CB, { user });
  const codes = [first];
  for (let i = 1; i < CHAINS + CODES; ++i) codes.push(await signIn(srv, jar, 'web', CB, { user }));
  const starts = [];
  for (const s of codes.slice(0, CHAINS)) {
    const r = await exchange(s);
    assert.equal(r.status, 200, show(r));
    starts.push(r.json.refresh_token);
  }

  // traffic: the chains rotate, the remaining codes are exchanged one after another, and the server is killed
  const stop = { now: false };
  const chains = starts.map((rt) => chain(rt, stop));
  const pending = codes.slice(CHAINS);
  const exchanges = (async () => {
    const out = [];
    for (const s of pending) {
      try {
        const r = await exchange(s);
        out.push({ s, status: r.status });
      } catch {
        out.push({ s, status: 'cut' });
      }
      await sleep(50); /* spread over the moment of the crash */
    }
    return out;
  })();
  await sleep(400);
  srv.child.kill('SIGKILL');
  await srv.exited;
  stop.now = true;
  const ended = await Promise.all(chains);
  const exchanged = await exchanges;
  assert.ok(ended.some((c) => c.rotations > 0), 'the chains rotated before the crash');
  const codeStatuses = exchanged.reduce((m, e) => ({ ...m, [e.status]: (m[e.status] ?? 0) + 1 }), {});
  t.diagnostic(`rotations before the crash: ${ended.map((c) => c.rotations).join(' ')}; cut chains: ${ended.filter((c) => c.cut).length}; `
    + `code exchanges: ${JSON.stringify(codeStatuses)}`);

  // the database, as the crash left it
  const forks = sql(url, `SELECT count(*) FROM (SELECT family_id FROM refresh_tokens WHERE used_at IS NULL AND revoked_at IS NULL
                          GROUP BY family_id HAVING count(*) > 1) f`);
  assert.equal(forks, '0', 'no family has two live refresh tokens');
  const orphans = sql(url, `SELECT count(*) FROM refresh_tokens p WHERE p.used_at IS NOT NULL
                            AND NOT EXISTS (SELECT 1 FROM refresh_tokens c WHERE c.parent_hash = p.token_hash)`);
  assert.equal(orphans, '0', 'every spent refresh token has its successor');

  // a new server on the same database carries on
  srv = await startReady();
  for (const c of ended) {
    const r = await refresh(srv, c.rt);
    if (r.status === 200) continue;
    /* only a chain whose last request was cut can hold a token the crash spent */
    assert.ok(c.cut && r.status === 400 && r.json?.error === 'invalid_grant', `chain after restart: ${show(r)} (cut: ${c.cut})`);
  }
  for (const { s, status } of exchanged) {
    const r = await exchange(s);
    if (status === 200 || status === 'cut') {
      /* used (or maybe used, when the answer was lost): a second use is refused, whatever happened */
      assert.ok(r.status === 200 ? status === 'cut' : r.json?.error === 'invalid_grant', `code after restart: ${show(r)} (${status})`);
    } else {
      assert.fail(`a code exchange failed before the crash: ${status}`);
    }
  }
  const notTried = sql(url, `SELECT count(*) FROM authorization_codes WHERE used_at IS NULL AND expires_at > now()`);
  assert.equal(notTried, '0', 'every code was tried');
  assert.doesNotMatch(srv.logs.join(''), /"level":"error"/, 'the restarted server logged no error');
});
