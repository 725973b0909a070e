// TLS: 1.2+ only, HSTS on every response, and SIGHUP swaps the certificate without a restart, on the public
// listener and on the admin listener.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import path from 'node:path';
import { cli, createDatabase, freePort, sleep, startServer, waitFor } from './lib.mjs';

const dir = fs.mkdtempSync(path.join(process.env.TESSERA_TEST_TMP ?? '/tmp', 'tls-'));

function makeCert(name) {
  const key = path.join(dir, `${name}.key`), crt = path.join(dir, `${name}.crt`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', crt], { stdio: 'ignore' });
  return { key, crt };
}

function peerCert(port, opts = {}) {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts }, () => {
      const c = s.getPeerCertificate();
      const proto = s.getProtocol();
      s.end();
      resolve({ cn: c.subject.CN, proto });
    });
    s.on('error', reject);
  });
}

/* a connection the server has accepted but whose TLS handshake has not begun: libh2o 2.2.5 makes its SSL object
 * only when the ClientHello arrives, from the context it was accepted under */
async function quietConnection(port) {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
  await sleep(200); // the loop accepts it
  return sock;
}

function handshakeOver(sock) {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ socket: sock, rejectUnauthorized: false }, () => {
      const cn = s.getPeerCertificate().subject.CN;
      s.end();
      resolve(cn);
    });
    s.on('error', reject);
  });
}

function get(port, p) {
  return new Promise((resolve, reject) => {
    https.get({ host: '127.0.0.1', port, path: p, rejectUnauthorized: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res));
    }).on('error', reject);
  });
}

test('TLS with HSTS, no TLS 1.1, and certificate reload on SIGHUP', async (t) => {
  const url = createDatabase('tls');
  assert.equal(cli(['migrate'], { env: { DATABASE_URL: url } }).status, 0);
  const live = { key: path.join(dir, 'live.key'), crt: path.join(dir, 'live.crt') };
  const one = makeCert('one'), two = makeCert('two');
  fs.copyFileSync(one.key, live.key);
  fs.copyFileSync(one.crt, live.crt);

  const srv = await startServer({ url, https: true,
    env: { TESSERA_TLS_CERTIFICATE_FILE: live.crt, TESSERA_TLS_PRIVATE_KEY_FILE: live.key } });
  t.after(() => srv.stop());

  assert.equal((await peerCert(srv.port)).cn, 'one');
  const res = await get(srv.port, '/healthz');
  assert.equal(res.statusCode, 200);
  assert.match(res.headers['strict-transport-security'], /max-age=\d+/);
  const nf = await get(srv.port, '/nope');
  assert.equal(nf.statusCode, 404);
  assert.ok(nf.headers['strict-transport-security'], 'HSTS on errors too');
  await assert.rejects(peerCert(srv.port, { maxVersion: 'TLSv1.1', minVersion: 'TLSv1' }));

  const accepted = await quietConnection(srv.port);
  fs.copyFileSync(two.key, live.key);
  fs.copyFileSync(two.crt, live.crt);
  srv.child.kill('SIGHUP');
  await waitFor(async () => (await peerCert(srv.port)).cn === 'two', 5000, 50);
  assert.equal(await handshakeOver(accepted), 'one', 'a connection accepted before the reload still completes, on the old context');
  assert.equal((await get(srv.port, '/healthz')).statusCode, 200);

  // a broken certificate on SIGHUP keeps the old one
  fs.writeFileSync(live.crt, 'not a certificate');
  srv.child.kill('SIGHUP');
  await waitFor(() => srv.logs.join('').includes('keeping the current certificate'), 5000, 50);
  assert.equal((await peerCert(srv.port)).cn, 'two');
});

test('the admin listener reloads its own certificate on SIGHUP, and keeps it when the new one is bad', async (t) => {
  const url = createDatabase('tls_admin');
  assert.equal(cli(['migrate'], { env: { DATABASE_URL: url } }).status, 0);
  const live = { key: path.join(dir, 'admin-live.key'), crt: path.join(dir, 'admin-live.crt') };
  const one = makeCert('admin-one'), two = makeCert('admin-two');
  fs.copyFileSync(one.key, live.key);
  fs.copyFileSync(one.crt, live.crt);
  const adminPort = await freePort();
  const srv = await startServer({ url, env: { TESSERA_ADMIN_LISTEN: `127.0.0.1:${adminPort}`,
    TESSERA_ADMIN_TLS_CERTIFICATE_FILE: live.crt, TESSERA_ADMIN_TLS_PRIVATE_KEY_FILE: live.key } });
  t.after(() => srv.stop());

  assert.equal((await peerCert(adminPort)).cn, 'admin-one');
  const accepted = await quietConnection(adminPort);
  fs.copyFileSync(two.key, live.key);
  fs.copyFileSync(two.crt, live.crt);
  srv.child.kill('SIGHUP');
  await waitFor(async () => (await peerCert(adminPort)).cn === 'admin-two', 5000, 50);
  assert.equal(await handshakeOver(accepted), 'admin-one', 'a connection accepted before the reload still completes');
  assert.match(srv.logs.join(''), /SIGHUP: admin TLS certificate reloaded/);
  assert.equal((await get(adminPort, '/admin/v1/clients')).statusCode, 401, 'served over the new certificate');

  fs.writeFileSync(live.crt, 'not a certificate');
  srv.child.kill('SIGHUP');
  await waitFor(() => srv.logs.join('').includes('admin listener keeping its current certificate'), 5000, 50);
  assert.equal((await peerCert(adminPort)).cn, 'admin-two');
  const r = await srv.stop();
  assert.equal(r.code, 0, 'a clean stop after the swaps');
});
