// Helpers shared by the end-to-end tests (the integration helpers in ../integration/lib.mjs do the
// database, the CLI and starting servers; these add what an outside client needs).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { cli, createDatabase } from '../integration/lib.mjs';

export const TMP = process.env.TESSERA_TEST_TMP ?? '/tmp';

/** a fresh directory under TESSERA_TEST_TMP */
export function tempDir(prefix) {
  const dir = fs.mkdtempSync(path.join(TMP, `${prefix}-`));
  fs.chmodSync(dir, 0o755);
  return dir;
}

/** a random client secret acceptable to `tessera apply` (>= 32 characters) */
export const newSecret = () => randomBytes(32).toString('base64url');

/** a migrated database with `spec` ({clients, roles, users}) applied through `tessera apply` */
export function databaseWith(prefix, spec, dir) {
  const url = createDatabase(prefix);
  const m = cli(['migrate'], { env: { DATABASE_URL: url } });
  assert.equal(m.status, 0, `migrate: ${m.stderr}`);
  apply(url, spec, dir);
  return url;
}

/** `tessera apply` of spec against url; asserts success */
export function apply(url, spec, dir) {
  const file = path.join(dir, `apply-${randomBytes(4).toString('hex')}.json`);
  fs.writeFileSync(file, JSON.stringify(spec, null, 2), { mode: 0o600 });
  const r = cli(['apply', file], { env: { DATABASE_URL: url } });
  assert.equal(r.status, 0, `tessera apply: ${r.stdout}${r.stderr}`);
}

/** a self-signed P-256 certificate for 127.0.0.1 (CA:TRUE, so it can serve as its own trust anchor) */
export function makeCert(dir, name) {
  const key = path.join(dir, `${name}.key`), crt = path.join(dir, `${name}.crt`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-keyout', key, '-out', crt], { stdio: 'ignore' });
  fs.chmodSync(crt, 0o644);
  return { key, crt };
}

/** RFC 6749 §2.3.1: client_id and secret are form-urlencoded before they are joined and base64-encoded */
export function basicAuth(id, secret) {
  const enc = (s) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
}

/** POSTs an application/x-www-form-urlencoded body; returns {status, headers, text, json} */
export async function postForm(url, params, headers = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...headers },
    body: new URLSearchParams(params).toString(),
    signal: AbortSignal.timeout(15_000),
  }).catch((e) => { throw new Error(`POST ${url}: ${e.message}${e.cause ? ` (${e.cause.code ?? ''} ${e.cause.message})` : ''}`); });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}

/** GET and parse JSON */
export async function getJson(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  assert.equal(res.status, 200, `GET ${url}: ${res.status}`);
  return res.json();
}

/** the JOSE header and claims of a compact JWS, unverified (for messages and shape checks only) */
export function peek(jwt) {
  const [h, p] = jwt.split('.');
  return { header: JSON.parse(Buffer.from(h, 'base64url')), claims: JSON.parse(Buffer.from(p, 'base64url')) };
}

/** describes a response for assertion messages */
export const show = (r) => `HTTP ${r.status} ${r.text}`;

/**
 * One HTTP(S) request with node:http/https, so that a private CA (`ca`) can be trusted for just this
 * call. Returns {status, headers, text, json}; headers are node's lower-cased object.
 */
export function request(url, { method = 'GET', headers = {}, body, ca, timeoutMs = 15_000 } = {}) {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(u, { method, headers: body !== undefined ? { 'content-length': Buffer.byteLength(body), ...headers } : headers,
      ...(ca ? { ca } : {}), timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** POST a form with request() */
export const requestForm = (url, params, { headers = {}, ca } = {}) => request(url, { method: 'POST', ca,
  headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...headers },
  body: new URLSearchParams(params).toString() });

/**
 * A Fetch API function for openid-client's customFetch (and anything else that takes one) that trusts
 * exactly the PEM certificate(s) `ca`: it sends each request with node:https and `ca`, so a self-signed
 * Tessera is verified, not waved through. Bodies as openid-client sends them: a string, URLSearchParams,
 * a Buffer/Uint8Array or none. Redirects are not followed (openid-client asks for redirect: 'manual').
 */
export function fetchTrusting(ca, { timeoutMs = 15_000 } = {}) {
  return async (input, init = {}) => {
    const url = input instanceof Request ? input.url : String(input);
    const method = (init.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const headers = {};
    new Headers(init.headers ?? (input instanceof Request ? input.headers : {})).forEach((v, k) => { headers[k] = v; });
    let body = init.body;
    if (body instanceof URLSearchParams) {
      headers['content-type'] ??= 'application/x-www-form-urlencoded;charset=UTF-8';
      body = body.toString();
    } else if (body instanceof Uint8Array) {
      body = Buffer.from(body);
    } else if (body !== undefined && body !== null && typeof body !== 'string') {
      throw new TypeError(`fetchTrusting: unsupported body type ${Object.prototype.toString.call(body)}`);
    }
    if (init.signal?.aborted) throw init.signal.reason ?? new Error('aborted');
    const r = await request(url, { method, headers, body: body ?? undefined, ca, timeoutMs });
    const h = new Headers();
    for (const [k, v] of Object.entries(r.headers)) for (const one of [v].flat()) h.append(k, String(one));
    const nullBody = [101, 204, 205, 304].includes(r.status);
    return new Response(nullBody ? null : r.text, { status: r.status, headers: h });
  };
}
