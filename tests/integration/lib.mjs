// Shared helpers for the Node integration tests. tests/run.sh sets PG_DIR, DATABASE_URL, TESSERA_BIN,
// TESSERA_KEY_ENCRYPTION_KEY and TESSERA_TEST_TMP.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import httpModule from 'node:http';
import httpsModule from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const TOP = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = process.env.TESSERA_BIN ?? path.join(TOP, 'build/tessera');
export const PG_DIR = process.env.PG_DIR;

const asPostgres = (cmd, args) =>
  process.getuid() === 0 ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];

/** runs SQL as the cluster's superuser in database db */
export function superSql(sql, db = 'postgres') {
  const [cmd, args] = asPostgres('psql', ['-h', `${PG_DIR}/run`, '-U', 'postgres', '-d', db, '-qAtX', '-v',
    'ON_ERROR_STOP=1', '-c', sql]);
  return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
}

/** a new empty database owned by tessera; returns its URL */
export function createDatabase(prefix = 't') {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  superSql(`CREATE DATABASE ${name} OWNER tessera`);
  return `postgresql:///${name}?host=${PG_DIR}/run&user=tessera`;
}

/** runs SQL as tessera against url */
export function sql(url, query) {
  return execFileSync('psql', [url, '-qAtX', '-v', 'ON_ERROR_STOP=1', '-c', query], { encoding: 'utf8' }).trim();
}

/** runs `tessera args...` synchronously; returns {status, stdout, stderr} */
export function cli(args, { env = {}, input } = {}) {
  const r = spawnSync(BIN, args, { env: { ...process.env, ...env }, input, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** a free loopback TCP port */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** polls fn until it returns a truthy value or timeoutMs passes; returns the value or throws */
export async function waitFor(fn, timeoutMs = 10_000, stepMs = 50) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e; }
    await sleep(stepMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}

/** GET /readyz on 127.0.0.1:port (certificate unchecked: it only asks whether the server is ready); the status or 0 */
function readyStatus(port, tls) {
  return new Promise((resolve) => {
    const req = (tls ? httpsModule : httpModule).request({ host: '127.0.0.1', port, path: '/readyz', rejectUnauthorized: false,
      timeout: 1000, agent: false }, (res) => { res.resume(); resolve(res.statusCode); });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** starts `tessera serve` on a free port against url; resolves once it listens and (waitReady, up to 5 s) /readyz is 200 */
export async function startServer({ url, env = {}, args = [], https = false, waitReady = true } = {}) {
  const port = await freePort();
  const issuer = `${https ? 'https' : 'http'}://127.0.0.1:${port}`;
  const logs = [];
  const child = spawn(BIN, ['serve', ...args], {
    env: { ...process.env, DATABASE_URL: url, TESSERA_LISTEN: `127.0.0.1:${port}`, TESSERA_ISSUER: issuer,
      TESSERA_THREADS: '2', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  /* every server's output is also kept on disk when the run asks, so that tests/check_logs.mjs can read it all */
  const file = process.env.TESSERA_TEST_LOG_DIR ? path.join(process.env.TESSERA_TEST_LOG_DIR, `tessera-${port}-${Date.now()}.log`) : null;
  const keep = (d) => { logs.push(d.toString()); if (file) fs.appendFileSync(file, d); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const server = { child, port, issuer, logs, exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const r = await exited; clearTimeout(t); return r;
    } };
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`server exited: ${logs.join('')}`);
      return await new Promise((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
        s.on('error', () => resolve(false));
      });
    }, 15_000);
  } catch (e) {
    await server.stop('SIGKILL');
    throw new Error(`${e.message}\n${logs.join('')}`);
  }
  /* listening comes before the database connections: a test's first request would otherwise race them. A
   * server that is meant to start without its database (an outage test) is simply not ready after a while. */
  if (waitReady) {
    const end = Date.now() + 5_000;
    while (Date.now() < end && child.exitCode === null && (await readyStatus(port, https)) !== 200)
      await sleep(25);
  }
  return server;
}
