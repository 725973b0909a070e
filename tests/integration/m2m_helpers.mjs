// Helpers for the machine-to-machine tests: seeding clients, calling /token, /introspect and /revoke,
// and signing private_key_jwt assertions with node:crypto (no JOSE library on purpose: it is what we test).
import { createPrivateKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { cli } from './lib.mjs';

export const SECRET = 'tssecret-'.padEnd(48, 'x');
export const basic = (id, secret = SECRET) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

let n = 0;
/** applies a {clients, users, roles} document to url; throws on failure */
export function apply(url, doc) {
  const f = path.join(process.env.TESSERA_TEST_TMP ?? '/tmp', `m2m-${process.pid}-${++n}.json`);
  fs.writeFileSync(f, JSON.stringify(doc));
  const r = cli(['apply', f], { env: { DATABASE_URL: url } });
  fs.rmSync(f);
  if (r.status !== 0) throw new Error(`apply failed: ${r.stderr}`);
}

export const service = (id, extra = {}) => ({
  client_id: id, client_secret: SECRET, grant_types: ['client_credentials'], scope: 'api:read api:write',
  default_scope: 'api:read', ...extra,
});

export async function post(srv, endpoint, form, headers = {}) {
  const r = await fetch(`${srv.issuer}${endpoint}`, {
    method: 'POST', body: new URLSearchParams(form).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  });
  const text = await r.text();
  let body = text;
  try { body = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, headers: r.headers, body, text };
}

export async function token(srv, id, form = {}, secret = SECRET) {
  const r = await post(srv, '/token', { grant_type: 'client_credentials', ...form }, { authorization: basic(id, secret) });
  if (r.status !== 200) throw new Error(`token: ${r.status} ${r.text}`);
  return r.body.access_token;
}

export async function introspect(srv, tok, caller = 'gateway', headers = {}) {
  const r = await post(srv, '/introspect', { token: tok }, { authorization: basic(caller), ...headers });
  if (r.status !== 200) throw new Error(`introspect: ${r.status} ${r.text}`);
  return r.body;
}

export const decode = (jwt) => jwt.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url')));

/** an ES256 key pair: the public JWK (with kid) for registration, and a signer of client assertions */
export function assertionKey(kid = `k${randomBytes(4).toString('hex')}`) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' };
  const key = createPrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' }));
  return {
    jwk,
    assertion(claims, header = {}) {
      const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const input = `${enc({ alg: 'ES256', kid, typ: 'JWT', ...header })}.${enc(claims)}`;
      const sig = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
      return `${input}.${sig}`;
    },
  };
}
