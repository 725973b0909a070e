// Markdown summary of one benchmark run: node summarize.mjs RUN_DIR [FAILED_STEP...]
// Reads RUN_DIR/meta.json, RUN_DIR/raw.jsonl (rows of the peers' common/bench.mjs, tagged with a
// case by run.sh) and RUN_DIR/revocation.json; prints the tables to stdout.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir, ...failed] = process.argv.slice(2);
if (!dir) { console.error('usage: node summarize.mjs RUN_DIR [FAILED_STEP...]'); process.exit(2); }
const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8'));
const rows = existsSync(join(dir, 'raw.jsonl'))
  ? readFileSync(join(dir, 'raw.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
const revocation = existsSync(join(dir, 'revocation.json')) ? JSON.parse(readFileSync(join(dir, 'revocation.json'), 'utf8')) : null;

const median = (a) => { const s = [...a].sort((x, y) => x - y); const n = s.length; return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2; };
const fmt = (v, d) => (v >= 1000 && d === 0 ? Math.round(v).toLocaleString('en-US') : v.toFixed(d));
const stat = (a, d) => (a.length > 1 ? `${fmt(median(a), d)} [${fmt(Math.min(...a), d)}–${fmt(Math.max(...a), d)}]` : fmt(a[0], d));
const ratio = (x, y) => (y > 0 ? `${x / y >= 10 ? (x / y).toFixed(0) : (x / y).toFixed(2)}×` : '–');

const CASES = [
  ['token', 'client_credentials (client_secret_basic)'],
  ['introspect-one', 'introspection, one token repeated'],
  ['introspect-distinct', `introspection, ${fmt(meta.pool, 0)} distinct tokens`],
  ['jwks', 'JWKS GET'],
];
const SERVERS = [ // peer, variant, label; Tessera first, then the peers
  ['tessera', null, 'Tessera'],
  ['oidc-provider', 'jwt-ES256', 'oidc-provider (JWT ES256, in memory)'],
  ['oidc-provider', 'jwt-RS256', 'oidc-provider (JWT RS256, in memory)'],
  ['oidc-provider', 'opaque', 'oidc-provider (opaque, in memory)'],
  ['oidc-provider', 'opaque-pg', 'oidc-provider (opaque, PostgreSQL adapter)'],
  ['glewlwyd', 'ES256', 'Glewlwyd (JWT ES256, PostgreSQL)'],
  ['glewlwyd', 'RS256', 'Glewlwyd (JWT RS256, PostgreSQL)'],
];
const label = (peer, variant) => {
  if (peer === 'tessera') return `**Tessera** (${variant === 'opaque' ? 'opaque' : `JWT ${variant}`}, PostgreSQL)`;
  const s = SERVERS.find(([p, v]) => p === peer && v === variant);
  return s ? s[2] : `${peer} (${variant})`;
};
const rank = (peer, variant) => {
  const i = SERVERS.findIndex(([p, v]) => p === peer && (v === null || variant === undefined || v === variant));
  return i < 0 ? 99 : i;
};

// RSS idle of a server instance: bench.mjs reads it when it starts; the first invocation after a
// fresh start has the idle figure, later ones (after load) only more, so take the smallest per round
const idle = new Map();
for (const r of rows) {
  const k = [r.peer, r.variant, r.round].join('|');
  idle.set(k, Math.min(idle.get(k) ?? Infinity, r.rss_idle_kb));
}
// one row per (case, peer, variant, round): the last attempt
const last = new Map();
for (const r of rows) last.set([r.case, r.peer, r.variant, r.round].join('|'), r);
const groups = new Map();
for (const r of last.values()) {
  const k = [r.case, r.peer, r.variant].join('|');
  if (!groups.has(k)) groups.set(k, []);
  groups.get(k).push(r);
}
const med = (g, f) => median(g.map(f));
const tessera = (c) => [...groups.entries()].find(([k]) => k.startsWith(`${c}|tessera|`))?.[1];

const out = [];
const p = (s = '') => out.push(s);
const http = rows.length > 0;
p(`## Benchmark: ${http ? 'Tessera and its peers' : 'Tessera'} (${meta.quick ? 'QUICK smoke run, not for publication' : http ? `medians of ${meta.rounds} interleaved rounds` : 'revocation propagation only'})`);
p();
p(`Command: \`${meta.command}\` — run ${meta.run}, ${meta.date}.`);
p(`Machine: ${meta.cores} cores (${meta.cpu}), ${meta.os}; everything on 127.0.0.1.`);
if (http) p(`Load: ${meta.wrk}, \`wrk -t${meta.threads} -c${meta.conns} -d${meta.duration_s}s\` after a ${meta.warmup_s} s warm-up,`
  + ` driven by the peers' \`common/bench.mjs\` (waits for a quiet machine before each run);`
  + ` ${meta.rounds} round${meta.rounds > 1 ? 's' : ''}, the server order reversed on even rounds.`);
p(`Versions: ${Object.entries(meta.versions).map(([k, v]) => `${k}: ${v}`).join('; ') || meta.tessera}.`);
p();

const peersSeen = [...new Set([...groups.keys()].map((k) => k.split('|')[1]).filter((x) => x !== 'tessera'))]
  .sort((a, b) => rank(a) - rank(b));
const NAMES = { 'oidc-provider': 'oidc-provider', glewlwyd: 'Glewlwyd' };
const pname = (x) => NAMES[x] ?? x;
if (http && peersSeen.length) {
  p('### Tessera/peer (req/s, ratio of medians; > 1: Tessera serves more)');
  p();
  p('Against each peer\'s fastest variant measured for that benchmark (all of them are in the next table).');
  p();
  p(`| benchmark | Tessera req/s | ${peersSeen.map((x) => `${pname(x)} req/s | Tessera/${pname(x)}`).join(' | ')} |`);
  p(`|---|---|${peersSeen.map(() => '---|---').join('|')}|`);
  for (const [c, name] of CASES) {
    const t = tessera(c);
    const cells = peersSeen.map((peer) => {
      const best = [...groups.entries()].filter(([k]) => k.startsWith(`${c}|${peer}|`))
        .map(([, g]) => ({ variant: g[0].variant, rps: med(g, (r) => r.rps) }))
        .sort((a, b) => b.rps - a.rps)[0];
      if (!best) return '– | –';
      return `${fmt(best.rps, 0)} (${best.variant}) | ${t ? `**${ratio(med(t, (r) => r.rps), best.rps)}**` : '–'}`;
    });
    p(`| ${name} | ${t ? fmt(med(t, (r) => r.rps), 0) : 'not measured'} | ${cells.join(' | ')} |`);
  }
  p();
}

if (http) {
p('### All runs');
p();
p('| benchmark | server | n | req/s | p50 ms | p99 ms | non-2xx | RSS idle → peak MiB | DB PSS peak MiB | CPU µs/req (server+DB) | Tessera/peer req/s | Tessera/peer p99 | noisy |');
p('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const [c, name] of CASES) {
  const keys = [...groups.keys()].filter((k) => k.startsWith(`${c}|`))
    .sort((a, b) => rank(...a.split('|').slice(1)) - rank(...b.split('|').slice(1)));
  if (!keys.length) { p(`| ${name} | not measured | | | | | | | | | | | |`); continue; }
  const t = tessera(c);
  keys.forEach((k, i) => {
    const g = groups.get(k); const [, peer, variant] = k.split('|');
    const idleMiB = median(g.map((r) => idle.get([r.peer, r.variant, r.round].join('|')) / 1024));
    const isT = peer === 'tessera';
    const db = g.some((r) => r.db_pss_peak_kb) ? stat(g.map((r) => r.db_pss_peak_kb / 1024), 0) : '–';
    const non2xx = g.reduce((a, r) => a + r.non2xx + r.sock_err, 0);
    p(`| ${i === 0 ? name : ''} | ${label(peer, variant)} | ${g.length} | ${stat(g.map((r) => r.rps), 0)} | ${stat(g.map((r) => r.p50_ms), 2)}`
      + ` | ${stat(g.map((r) => r.p99_ms), 1)} | ${non2xx} | ${fmt(idleMiB, 1)} → ${stat(g.map((r) => r.rss_peak_kb / 1024), 1)} | ${db}`
      + ` | ${stat(g.map((r) => r.cpu_us_per_req), 0)}`
      + ` | ${!isT && t ? ratio(med(t, (r) => r.rps), med(g, (r) => r.rps)) : '–'}`
      + ` | ${!isT && t ? ratio(med(t, (r) => r.p99_ms), med(g, (r) => r.p99_ms)) : '–'}`
      + ` | ${g.filter((r) => r.clean === false).length} |`);
  });
}
p();
p('n: rounds; values are medians [min–max] over them. RSS is the server process (all processes of'
  + ' the program); PostgreSQL is counted apart (PSS of the cluster backing the server: Tessera\'s'
  + ' private one, the peers\' shared one on :5501). CPU per request includes the database\'s.'
  + ' Tessera/peer p99 below 1 means Tessera answers faster. Noisy: runs during which other processes'
  + ' used more than 0.35 core (bench.mjs retries such runs).'
  + (!peersSeen.includes('oidc-provider') ? '' : ' oidc-provider cannot introspect its own JWT access tokens, so its introspection rows use its'
  + ` opaque tokens (variants: ${meta.oidc_introspect_variant}); its in-memory store is an LRU of about`
  + ' 1,000 entries that forgets the rest of a larger pool, so its distinct-token row uses the PostgreSQL'
  + ' adapter.')
  + (!(meta.jwt_cache_slots > 0) ? '' : ` Tessera keeps a direct-mapped cache of ${fmt(meta.jwt_cache_slots, 0)}`
  + ` verified tokens per loop thread: with ${fmt(meta.pool, 0)} tokens in round robin about`
  + ` ${Math.round(100 * Math.exp(-meta.pool / meta.jwt_cache_slots))} % of the distinct-token lookups hit it.`));
p();
}

p('### Revocation propagation');
p();
if (revocation) {
  const v = (x) => (x === null ? 'timeout' : x.toFixed(1));
  p(`Three Tessera nodes on one PostgreSQL; ${revocation.revocations} times a token issued on A is revoked on B,`
    + ` and A and C are polled (introspection every ${revocation.poll_interval_ms} ms, at most ${revocation.poll_timeout_ms} ms)`
    + ' from the 200 of /revoke until they answer `active:false`.');
  p();
  p('| nodes answering active:false | n | p50 ms | p90 ms | p99 ms | max ms | timeouts |');
  p('|---|---|---|---|---|---|---|');
  for (const [k, name] of [['everywhere', 'A and C (the later of the two)'], ['A', 'A (issued the token)'], ['C', 'C']]) {
    const s = revocation[k];
    p(`| ${name} | ${s.n} | ${v(s.p50_ms)} | ${v(s.p90_ms)} | ${v(s.p99_ms)} | ${v(s.max_ms)} | ${s.timeouts} |`);
  }
  p();
  p(`Aim p99 < ${revocation.aim_p99_ms} ms: **${revocation.ok ? 'met' : 'NOT met'}**.`
    + (revocation.revoking_node_still_active ? ` B itself still answered active:true ${revocation.revoking_node_still_active} times after its 200.` : ''));
} else {
  p('Not measured in this run.');
}
if (failed.length) {
  p();
  p('### Steps that failed');
  p();
  for (const f of failed) p(`- ${f}`);
}
console.log(out.join('\n'));
