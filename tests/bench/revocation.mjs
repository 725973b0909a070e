// Revocation propagation: three Tessera nodes (A, B, C) on one PostgreSQL. REVOCATIONS times: a
// token is issued on A and seen active on A and C; it is revoked on B; from the moment B's 200
// arrives, A and C are polled (introspection, POLL_INTERVAL_MS apart, at most POLL_TIMEOUT_MS) until
// they answer active:false. Reports p50/p99/max per node and for "inactive everywhere" (the later
// of A and C); the aim is p99 under 100 ms.
//
// Run by tests/bench/run.sh (`run.sh --only revocation` runs only this part), which provides:
//   BENCH_BIN (tessera binary), DATABASE_URL (migrated, with the client), TESSERA_KEY_ENCRYPTION_KEY,
//   BENCH_CLIENT_ID / BENCH_CLIENT_SECRET (client_secret_basic, may_introspect), BENCH_PORT (first of
//   three ports, default 9310), REVOCATIONS (100), BENCH_OUT (JSON result file), BENCH_LOG_DIR
//   (node logs and revocation.pids), POLL_INTERVAL_MS (1), POLL_TIMEOUT_MS (2000).
import { spawn } from 'node:child_process';
import { appendFileSync, openSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const env = (k, d) => {
  const v = process.env[k] ?? d;
  if (v === undefined || v === '') { console.error(`revocation.mjs: ${k} is not set (run it through tests/bench/run.sh)`); process.exit(2); }
  return v;
};
const BIN = env('BENCH_BIN');
env('DATABASE_URL');
env('TESSERA_KEY_ENCRYPTION_KEY');
const CLIENT_ID = env('BENCH_CLIENT_ID');
const CLIENT_SECRET = env('BENCH_CLIENT_SECRET');
const BASE_PORT = Number(env('BENCH_PORT', '9310'));
const N = Number(env('REVOCATIONS', '100'));
const OUT = process.env.BENCH_OUT || '';
const LOG_DIR = env('BENCH_LOG_DIR', '.');
const POLL_INTERVAL_MS = Number(env('POLL_INTERVAL_MS', '1'));
const POLL_TIMEOUT_MS = Number(env('POLL_TIMEOUT_MS', '2000'));
const WARMUP = 3;
const AIM_P99_MS = 100;
if (!(N > 0 && N <= 10_000)) { console.error('revocation.mjs: REVOCATIONS must be 1..10000'); process.exit(2); }
const DEADLINE = Date.now() + 60_000 + (N + WARMUP) * (2 * POLL_TIMEOUT_MS + 3_000);

const AUTH = `Basic ${Buffer.from(`${encodeURIComponent(CLIENT_ID)}:${encodeURIComponent(CLIENT_SECRET)}`).toString('base64')}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// one issuer for the three nodes, as behind a load balancer: a token from A is valid on C
const ISSUER = `http://127.0.0.1:${BASE_PORT}`;

const nodes = [];
let stopping = false;

function portBusy(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

async function startNode(name, port) {
  if (await portBusy(port)) throw new Error(`port ${port} is in use (set BENCH_PORT)`);
  const logFile = path.join(LOG_DIR, `revocation-${name}.log`);
  const fd = openSync(logFile, 'w');
  const child = spawn(BIN, ['serve'], {
    env: { ...process.env, TESSERA_LISTEN: `127.0.0.1:${port}`, TESSERA_ISSUER: ISSUER },
    stdio: ['ignore', fd, fd],
  });
  appendFileSync(path.join(LOG_DIR, 'revocation.pids'), `${child.pid}\n`);
  const node = { name, port, url: `http://127.0.0.1:${port}`, child, logFile, exited: false };
  node.exit = new Promise((resolve) => child.on('exit', (code, sig) => {
    node.exited = true;
    if (!stopping) console.error(`revocation.mjs: node ${name} exited (${code ?? sig}), see ${logFile}`);
    resolve();
  }));
  nodes.push(node);
  const end = Date.now() + 30_000;
  for (;;) {
    if (node.exited) throw new Error(`node ${name} exited at start, see ${logFile}`);
    try {
      const r = await fetch(`${node.url}/readyz`, { signal: AbortSignal.timeout(2_000) });
      await r.arrayBuffer();
      if (r.status === 200) return node;
    } catch { /* not listening yet */ }
    if (Date.now() > end) throw new Error(`node ${name} not ready in 30 s, see ${logFile}`);
    await sleep(100);
  }
}

async function stopAll() {
  stopping = true;
  for (const n of nodes) if (!n.exited) n.child.kill('SIGTERM');
  await Promise.race([Promise.all(nodes.map((n) => n.exit)), sleep(15_000)]);
  for (const n of nodes) if (!n.exited) n.child.kill('SIGKILL');
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => { stopAll().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143)); });
}

async function post(node, p, body) {
  if (Date.now() > DEADLINE) throw new Error('overall deadline passed');
  const res = await fetch(`${node.url}${p}`, {
    method: 'POST',
    headers: { authorization: AUTH, 'content-type': 'application/x-www-form-urlencoded' },
    body,
    signal: AbortSignal.timeout(5_000),
  });
  return res;
}
async function issue(node) {
  const res = await post(node, '/token', 'grant_type=client_credentials&scope=api:read');
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${node.name} /token: ${res.status} ${text.slice(0, 200)}`);
  return JSON.parse(text).access_token;
}
async function active(node, token) {
  const res = await post(node, '/introspect', `token=${encodeURIComponent(token)}&token_type_hint=access_token`);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${node.name} /introspect: ${res.status} ${text.slice(0, 200)}`);
  const j = JSON.parse(text);
  if (typeof j.active !== 'boolean') throw new Error(`${node.name} /introspect: no "active" in ${text.slice(0, 200)}`);
  return j.active;
}
// ms from t0 until node answers active:false (Infinity after POLL_TIMEOUT_MS)
async function untilInactive(node, token, t0) {
  for (let polls = 1; ; polls += 1) {
    const a = await active(node, token);
    const t = performance.now() - t0;
    if (!a) return { ms: t, polls };
    if (t > POLL_TIMEOUT_MS) return { ms: Infinity, polls };
    await sleep(POLL_INTERVAL_MS);
  }
}

// nearest-rank percentile of sorted values
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
const stats = (values) => {
  const s = [...values].sort((x, y) => x - y);
  const r = (v) => (Number.isFinite(v) ? +v.toFixed(2) : null); // null: timed out
  return { n: s.length, timeouts: s.filter((v) => !Number.isFinite(v)).length,
    p50_ms: r(pct(s, 50)), p90_ms: r(pct(s, 90)), p99_ms: r(pct(s, 99)), max_ms: r(s[s.length - 1]), min_ms: r(s[0]) };
};

let exitCode = 0;
try {
  const [A, B, C] = [await startNode('A', BASE_PORT), await startNode('B', BASE_PORT + 1), await startNode('C', BASE_PORT + 2)];
  writeFileSync(path.join(LOG_DIR, 'revocation.nodes'), nodes.map((n) => `${n.name} ${n.url} pid ${n.child.pid}`).join('\n'));
  const times = { A: [], C: [], all: [] };
  let polls = 0; let bStillActive = 0;
  const t0run = Date.now();
  for (let i = -WARMUP; i < N; i += 1) {
    if (nodes.some((n) => n.exited)) throw new Error('a node exited during the run');
    const token = await issue(A);
    const [onA, onC] = await Promise.all([active(A, token), active(C, token)]);
    if (!onA || !onC) throw new Error(`fresh token not active (A ${onA}, C ${onC}): nodes disagree on the issuer or keys`);
    const res = await post(B, '/revoke', `token=${encodeURIComponent(token)}&token_type_hint=access_token`);
    const t0 = performance.now(); // B's 200 (status line and headers) has arrived
    const rtext = await res.text();
    if (res.status !== 200) throw new Error(`B /revoke: ${res.status} ${rtext.slice(0, 200)}`);
    const [ra, rc, onB] = await Promise.all([untilInactive(A, token, t0), untilInactive(C, token, t0), active(B, token)]);
    if (onB) bStillActive += 1;
    if (i < 0) continue; // warm-up
    polls += ra.polls + rc.polls;
    times.A.push(ra.ms); times.C.push(rc.ms); times.all.push(Math.max(ra.ms, rc.ms));
  }
  const result = {
    nodes: 3, revocations: N, warmup: WARMUP, poll_interval_ms: POLL_INTERVAL_MS, poll_timeout_ms: POLL_TIMEOUT_MS,
    polls_per_revocation: +(polls / N).toFixed(1), revoking_node_still_active: bStillActive,
    duration_s: +((Date.now() - t0run) / 1000).toFixed(1), aim_p99_ms: AIM_P99_MS,
    everywhere: stats(times.all), A: stats(times.A), C: stats(times.C),
  };
  result.ok = result.everywhere.timeouts === 0 && result.everywhere.p99_ms !== null && result.everywhere.p99_ms < AIM_P99_MS
    && bStillActive === 0;
  if (OUT) writeFileSync(OUT, `${JSON.stringify(result, null, 1)}\n`);
  const f = (s) => `p50 ${s.p50_ms ?? 'timeout'} ms, p99 ${s.p99_ms ?? 'timeout'} ms, max ${s.max_ms ?? 'timeout'} ms, ${s.timeouts} timeouts`;
  console.log(`revocation propagation over ${N} revocations (3 nodes, revoke on B, ${result.polls_per_revocation} polls each):`);
  console.log(`  inactive on A and C: ${f(result.everywhere)}  (aim p99 < ${AIM_P99_MS} ms: ${result.ok ? 'met' : 'NOT met'})`);
  console.log(`  A (issuer node):     ${f(result.A)}`);
  console.log(`  C (third node):      ${f(result.C)}`);
  if (bStillActive) console.log(`  B still answered active:true after its own 200 on /revoke ${bStillActive} times`);
} catch (e) {
  console.error(`revocation.mjs: ${e.message}`);
  for (const n of nodes) console.error(`  node ${n.name}: ${n.logFile}`);
  exitCode = 1;
} finally {
  await stopAll();
}
process.exit(exitCode);
