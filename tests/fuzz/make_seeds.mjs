#!/usr/bin/env node
// Writes the seeds that need keys (signed tokens, sealed blobs, JWKs) and fuzz_keys.h, the public keys the
// harnesses verify with. Fresh keys on every run and no private key kept: run it again, then rebuild, to
// change the seeds. Node's own crypto only.  Usage: node tests/fuzz/make_seeds.mjs
import { createCipheriv, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const NOW = 1700000000; // the harnesses' clock
const ISSUER = 'https://as.example.com';
const KEK = Buffer.alloc(32, 0x42); // fuzz_aead_open.c's key-encryption key

const b64u = (b) => Buffer.from(b).toString('base64url');
const json = (o) => b64u(JSON.stringify(o));

function seed(name, file, data) {
  mkdirSync(join(here, 'corpus', name), { recursive: true });
  writeFileSync(join(here, 'corpus', name, file), data);
}

const es = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rs = generateKeyPairSync('rsa', { modulusLength: 2048 });
const esPub = { kty: 'EC', crv: 'P-256', kid: 'fuzz-es', alg: 'ES256', use: 'sig', ...pick(es.publicKey.export({ format: 'jwk' }), 'x', 'y') };
const rsPub = { kty: 'RSA', kid: 'fuzz-rs', alg: 'RS256', use: 'sig', ...pick(rs.publicKey.export({ format: 'jwk' }), 'n', 'e') };

function pick(o, ...keys) {
  return Object.fromEntries(keys.map((k) => [k, o[k]]));
}

function jws(header, claims, alg = header.alg) {
  const input = `${json(header)}.${typeof claims === 'string' ? b64u(claims) : json(claims)}`;
  const sig = alg === 'ES256'
    ? sign('sha256', Buffer.from(input), { key: es.privateKey, dsaEncoding: 'ieee-p1363' })
    : sign('sha256', Buffer.from(input), rs.privateKey);
  return `${input}.${b64u(sig)}`;
}

// ---- the public keys, for the harnesses
const cstr = (o) => JSON.stringify(JSON.stringify(o));
writeFileSync(join(here, 'fuzz_keys.h'), `/* Written by make_seeds.mjs: the public keys the seed tokens are signed for. */
#ifndef TESSERA_FUZZ_KEYS_H
#define TESSERA_FUZZ_KEYS_H
#define FUZZ_NOW ${NOW}
#define FUZZ_ISSUER "${ISSUER}"
#define FUZZ_JWK_ES256 ${cstr(esPub)}
#define FUZZ_JWK_RS256 ${cstr(rsPub)}
#endif
`);

// ---- jws_verify: tokens for the harness's key set (kids fuzz-es and fuzz-rs)
const at = { iss: ISSUER, sub: 'user-1', aud: 'https://api.example.com', client_id: 'c1', scope: 'api:read', iat: NOW, exp: NOW + 600, jti: 'j1' };
seed('jws_verify', 'es256_kid', jws({ alg: 'ES256', typ: 'at+jwt', kid: 'fuzz-es' }, at));
seed('jws_verify', 'rs256_kid', jws({ alg: 'RS256', typ: 'at+jwt', kid: 'fuzz-rs' }, at));
seed('jws_verify', 'es256_no_kid', jws({ alg: 'ES256' }, { sub: 'x', roles: ['a', 'b'], n: 1.5, t: true, z: null }));
seed('jws_verify', 'typ_application', jws({ alg: 'ES256', typ: 'application/at+JWT', kid: 'fuzz-es' }, at));
seed('jws_verify', 'payload_not_object', jws({ alg: 'ES256', kid: 'fuzz-es' }, '[1,2,3]'));
seed('jws_verify', 'alg_kid_mismatch', jws({ alg: 'RS256', kid: 'fuzz-es' }, at, 'RS256'));
seed('jws_verify', 'crit', jws({ alg: 'ES256', kid: 'fuzz-es', crit: ['exp'] }, at));
seed('jws_verify', 'alg_none', `${json({ alg: 'none' })}.${json(at)}.`);
seed('jws_verify', 'alg_hs256', `${json({ alg: 'HS256', kid: 'fuzz-es' })}.${json(at)}.${b64u(randomBytes(32))}`);
seed('jws_verify', 'jwe_five_parts', `${json({ alg: 'RSA-OAEP', enc: 'A256GCM' })}.${b64u(randomBytes(8))}.${b64u(randomBytes(12))}.${b64u(randomBytes(20))}.${b64u(randomBytes(16))}`);
seed('jws_verify', 'duplicate_member', `${b64u('{"alg":"ES256","alg":"RS256"}')}.${json(at)}.${b64u(randomBytes(64))}`);

// ---- client_assertion: RFC 7523 assertions for the directory's jwt-es and jwt-rs
const assertion = (sub, extra = {}) => ({ iss: sub, sub, aud: `${ISSUER}/token`, iat: NOW - 5, exp: NOW + 120, jti: `jti-${sub}`, ...extra });
seed('client_assertion', 'es256', jws({ alg: 'ES256', kid: 'fuzz-es' }, assertion('jwt-es')));
seed('client_assertion', 'rs256_no_kid', jws({ alg: 'RS256' }, assertion('jwt-rs')));
seed('client_assertion', 'aud_array', jws({ alg: 'ES256', typ: 'JWT' }, assertion('jwt-es', { aud: ['https://other.example', ISSUER], nbf: NOW })));
seed('client_assertion', 'expired', jws({ alg: 'ES256' }, assertion('jwt-es', { exp: NOW - 1 })));
seed('client_assertion', 'too_long_lived', jws({ alg: 'ES256' }, assertion('jwt-es', { exp: NOW + 3600 })));
seed('client_assertion', 'iss_differs', jws({ alg: 'ES256' }, assertion('jwt-es', { iss: 'jwt-rs' })));
seed('client_assertion', 'unknown_client', jws({ alg: 'ES256' }, assertion('nobody')));
seed('client_assertion', 'unsigned', `${json({ alg: 'none' })}.${json(assertion('jwt-es'))}.`);

// ---- aead_open: one byte n, then n bytes of associated data, then ts_crypto_seal's output
function sealed(aad, pt) {
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', KEK, nonce);
  c.setAAD(aad);
  const ct = Buffer.concat([c.update(pt), c.final()]);
  return Buffer.concat([Buffer.from([aad.length]), aad, Buffer.from([1]), nonce, ct, c.getAuthTag()]);
}
seed('aead_open', 'key', sealed(Buffer.from('fuzz-es'), randomBytes(138)));
seed('aead_open', 'empty_plaintext', sealed(Buffer.alloc(0), Buffer.alloc(0)));
seed('aead_open', 'text', sealed(Buffer.from('kid-1'), Buffer.from('hello, world')));
const bad = sealed(Buffer.from('kid-1'), Buffer.from('tampered'));
bad[bad.length - 1] ^= 1;
seed('aead_open', 'bad_tag', bad);

// ---- jwk_import: public JWKs and a set
seed('jwk_import', 'ec', JSON.stringify(esPub));
seed('jwk_import', 'rsa', JSON.stringify(rsPub));
seed('jwk_import', 'ec_bare', JSON.stringify({ kty: 'EC', crv: 'P-256', x: esPub.x, y: esPub.y }));
seed('jwk_import', 'rsa_enc', JSON.stringify({ ...rsPub, use: 'enc' }));
seed('jwk_import', 'ec_private', JSON.stringify({ ...esPub, d: es.privateKey.export({ format: 'jwk' }).d.replace(/./g, 'A') }));
seed('jwk_import', 'jwks', JSON.stringify({ keys: [esPub, rsPub] }));
console.log('seeds and fuzz_keys.h written');
