// Token pool for the distinct-token introspection run.
//   node pool.mjs fetch PEER_JSON OUT N   issues N tokens at the peer's token endpoint (16 in
//                                          flight), checks a sample is active, writes them to OUT
//                                          form-encoded, one per line
//   node pool.mjs check PEER_JSON OUT     introspects a sample of OUT again: all must be active
// PEER_JSON is a description as read by the peers' common/bench.mjs (endpoints.token and
// endpoints.introspect: url, body, auth). Bounded: POOL_TIMEOUT_S for the whole
// fetch (default 60 s + 50 ms per token), 10 s per request, at most 20 failed requests.
import { readFileSync, writeFileSync } from 'node:fs';

const [mode, peerFile, out, nArg] = process.argv.slice(2);
if (!['fetch', 'check'].includes(mode) || !peerFile || !out) {
  console.error('usage: node pool.mjs fetch PEER_JSON OUT N | check PEER_JSON OUT');
  process.exit(2);
}
const peer = JSON.parse(readFileSync(peerFile, 'utf8'));
const tok = peer.endpoints.token;
const intro = peer.endpoints.introspect;
const DEADLINE = Date.now() + Number(process.env.POOL_TIMEOUT_S || 60 + Number(nArg || 0) / 20) * 1000;
const INFLIGHT = 16;
const SAMPLE = 50;

async function post(url, auth, body) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, text: await res.text() };
}

async function issue() {
  const r = await post(tok.url, tok.auth, tok.body);
  if (r.status !== 200) throw new Error(`token endpoint: ${r.status} ${r.text.slice(0, 200)}`);
  const at = JSON.parse(r.text).access_token;
  if (typeof at !== 'string' || !at) throw new Error(`token endpoint: no access_token in ${r.text.slice(0, 200)}`);
  return encodeURIComponent(at);
}

// every k-th token of the pool, SAMPLE of them (first and last included)
async function checkSample(pool) {
  const idx = new Set([0, pool.length - 1]);
  for (let k = 0; k < SAMPLE; k += 1) idx.add(Math.floor((k * pool.length) / SAMPLE));
  for (const i of idx) {
    const r = await post(intro.url, intro.auth, `token=${pool[i]}&token_type_hint=access_token`);
    if (r.status !== 200 || !/"active"\s*:\s*true/.test(r.text)) {
      throw new Error(`${peer.peer}: pool token ${i} not active: ${r.status} ${r.text.slice(0, 200)}`);
    }
  }
  return idx.size;
}

if (mode === 'fetch') {
  const n = Number(nArg);
  if (!(n > 0)) { console.error('pool.mjs: N must be > 0'); process.exit(2); }
  const pool = [];
  let failures = 0;
  const t0 = Date.now();
  let next = 0;
  async function worker() {
    while (next < n) {
      if (Date.now() > DEADLINE) throw new Error(`pool: only ${pool.length}/${n} tokens before the deadline`);
      next += 1;
      try {
        pool.push(await issue());
      } catch (e) {
        failures += 1; next -= 1;
        if (failures > 20) throw e;
      }
    }
  }
  await Promise.all(Array.from({ length: INFLIGHT }, worker));
  if (new Set(pool).size !== pool.length) throw new Error('pool: the token endpoint returned duplicate tokens');
  const checked = await checkSample(pool);
  writeFileSync(out, `${pool.join('\n')}\n`);
  console.log(`pool: ${pool.length} distinct tokens from ${peer.peer} in ${((Date.now() - t0) / 1000).toFixed(1)} s`
    + ` (${failures} retried), ${checked} checked active`);
} else {
  const pool = readFileSync(out, 'utf8').split('\n').filter(Boolean);
  const checked = await checkSample(pool);
  console.log(`pool: ${checked} of ${pool.length} tokens still active after the run`);
}
