// What this proves: a service that knows nothing about Tessera but the standards can use it. An
// independent OAuth client (openid-client v6) discovers Tessera from its metadata (RFC 8414 / OIDC
// Discovery), gets access tokens with the client credentials grant (RFC 6749 §4.4) authenticating with
// client_secret_basic, client_secret_post and private_key_jwt (RFC 7523), and an independent JOSE
// library (jose) verifies each token against the published JWKS as an RFC 9068 JWT access token (typ
// at+jwt, ES256, exact issuer, audience from RFC 8707 resource indicators). A resource server client
// introspects tokens (RFC 7662, and the signed JWT response of RFC 9701), the owner revokes them (RFC
// 7009) and introspection then answers {"active":false}. Errors are the RFC 6749 §5.2 ones.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import * as jose from 'jose';
import { cli, startServer, waitFor } from '../integration/lib.mjs';
import { basicAuth, databaseWith, getJson, newSecret, peek, postForm, show, tempDir } from './lib.mjs';

const dir = tempDir('e2e-cc');
const RESOURCE = 'https://orders.example.test/api';

const secrets = { basic: newSecret(), post: newSecret(), gateway: newSecret(), nointro: newSecret(),
  disabled: newSecret(), codeonly: newSecret(), short: newSecret(),
  // RFC 6749 §2.3.1: Basic credentials are form-urlencoded first, so these characters must survive
  odd: `p+a/s=s%w:o&rd-${newSecret()}` };
let jwtKeys, otherKeys, srv, meta, JWKS, dbUrl;

before(async () => {
  jwtKeys = await jose.generateKeyPair('ES256', { extractable: true });
  otherKeys = await jose.generateKeyPair('ES256', { extractable: true });
  const pub = { ...(await jose.exportJWK(jwtKeys.publicKey)), alg: 'ES256', use: 'sig', kid: 'svc-jwt-1' };
  const cc = ['client_credentials'];
  dbUrl = databaseWith('e2e_cc', {
    roles: [{ name: 'reader', scopes: ['orders:read'] }, { name: 'writer', scopes: ['orders:write'] }],
    clients: [
      { client_id: 'svc-basic', client_secret: secrets.basic, token_endpoint_auth_method: 'client_secret_basic',
        grant_types: cc, scope: 'orders:read orders:write', default_scope: 'orders:read', roles: ['reader', 'writer'] },
      { client_id: 'svc-post', client_secret: secrets.post, token_endpoint_auth_method: 'client_secret_post',
        grant_types: cc, scope: 'orders:read orders:write', default_scope: 'orders:read', roles: ['writer'] },
      { client_id: 'svc-jwt', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [pub] },
        grant_types: cc, scope: 'orders:read', default_scope: 'orders:read', roles: ['reader'] },
      { client_id: 'gateway', client_secret: secrets.gateway, token_endpoint_auth_method: 'client_secret_basic',
        grant_types: cc, scope: 'orders:read', may_introspect: true },
      { client_id: 'no-introspect', client_secret: secrets.nointro, token_endpoint_auth_method: 'client_secret_basic',
        grant_types: cc, scope: 'orders:read', may_introspect: false },
      { client_id: 'svc-disabled', client_secret: secrets.disabled, token_endpoint_auth_method: 'client_secret_basic',
        grant_types: cc, scope: 'orders:read', status: 'disabled' },
      { client_id: 'code-only', client_secret: secrets.codeonly, token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code'], redirect_uris: ['https://app.example.test/cb'], scope: 'orders:read' },
      { client_id: 'svc-odd', client_secret: secrets.odd, token_endpoint_auth_method: 'client_secret_basic',
        grant_types: cc, scope: 'orders:read', default_scope: 'orders:read' },
      { client_id: 'svc-short', client_secret: secrets.short, token_endpoint_auth_method: 'client_secret_basic',
        grant_types: cc, scope: 'orders:read', default_scope: 'orders:read', access_token_ttl: 30 },
    ],
  }, dir);
  srv = await startServer({ url: dbUrl });
  meta = await getJson(`${srv.issuer}/.well-known/oauth-authorization-server`);
  JWKS = jose.createRemoteJWKSet(new URL(meta.jwks_uri));
});

after(async () => {
  if (srv && (srv.child.exitCode !== null || srv.child.signalCode !== null)) {
    console.error(`tessera died during the tests (${srv.child.exitCode ?? srv.child.signalCode}):\n${srv.logs.join('').slice(-4000)}`);
  }
  await srv?.stop();
});

const insecure = { execute: [client.allowInsecureRequests] };
const basicConfig = (id, secret) =>
  client.discovery(new URL(srv.issuer), id, secret, client.ClientSecretBasic(secret), insecure);
const gatewayConfig = () => basicConfig('gateway', secrets.gateway);

/** verifies an access token as RFC 9068 requires a resource server to; returns {payload, protectedHeader} */
function verifyAccessToken(token, audience) {
  return jose.jwtVerify(token, JWKS, { issuer: srv.issuer, typ: 'at+jwt', algorithms: ['ES256'],
    requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'], ...(audience ? { audience } : {}) });
}

/** the RFC 9068 §2.2 claims every client credentials token carries */
function checkClaims(payload, clientId, scope, expiresIn) {
  assert.equal(payload.iss, srv.issuer, 'iss is the issuer identifier exactly (RFC 9068 §2.2)');
  assert.equal(payload.sub, clientId, 'sub is the client for client credentials (RFC 9068 §2.2)');
  assert.equal(payload.client_id, clientId);
  assert.equal(payload.scope, scope);
  assert.ok(typeof payload.aud === 'string' ? payload.aud.length > 0 : Array.isArray(payload.aud) && payload.aud.length > 0,
    `aud is required (RFC 9068 §2.2): ${JSON.stringify(payload.aud)}`);
  assert.ok(Array.isArray(payload.roles), `roles is an array (RFC 9068 §2.2.3.1): ${JSON.stringify(payload.roles)}`);
  assert.equal(typeof payload.jti, 'string');
  assert.ok(payload.jti.length >= 16, 'jti is unique enough to be unguessable');
  const now = Math.floor(Date.now() / 1000);
  assert.ok(Math.abs(payload.iat - now) <= 60, `iat ${payload.iat} is now (${now})`);
  if (expiresIn !== undefined) assert.ok(Math.abs(payload.exp - payload.iat - expiresIn) <= 2,
    `exp - iat (${payload.exp - payload.iat}) matches expires_in (${expiresIn})`);
}

/** a plain JSON copy of a library result (drops symbol-keyed bookkeeping) */
const plain = (x) => JSON.parse(JSON.stringify(x));
/** aud as a list, whichever of the two RFC 7519 §4.1.3 forms it came in */
const auds = (a) => [a].flat();

/**
 * RFC 6749 §5.2: failed client authentication is invalid_client; 401 is a MUST when the client tried
 * the Authorization header, and a MAY (so 400 or 401) otherwise.
 */
function assertInvalidClient(r, viaHeader, what = '') {
  assert.equal(r.json?.error, 'invalid_client', `${what}: ${show(r)}`);
  if (viaHeader) {
    assert.equal(r.status, 401, `${what}: ${show(r)}`);
    assert.ok(r.headers.get('www-authenticate'), `${what}: RFC 6749 §5.2 401 after Authorization carries WWW-Authenticate`);
  } else {
    assert.ok(r.status === 400 || r.status === 401, `${what}: ${show(r)}`);
  }
}

async function introspect(token, headers = {}, auth = basicAuth('gateway', secrets.gateway)) {
  return postForm(meta.introspection_endpoint, { token }, { authorization: auth, ...headers });
}

test('metadata: both discovery documents advertise the token, introspection and revocation endpoints', async () => {
  for (const p of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
    const m = await getJson(`${srv.issuer}${p}`);
    assert.equal(m.issuer, srv.issuer, p);
    for (const [k, v] of [['token_endpoint', '/token'], ['introspection_endpoint', '/introspect'], ['revocation_endpoint', '/revoke'],
      ['jwks_uri', '/jwks.json']]) {
      assert.equal(m[k], `${srv.issuer}${v}`, `${p} ${k}`);
    }
    assert.ok(m.grant_types_supported?.includes('client_credentials'), `${p} grant_types_supported: ${m.grant_types_supported}`);
    for (const a of ['client_secret_basic', 'client_secret_post', 'private_key_jwt']) {
      assert.ok(m.token_endpoint_auth_methods_supported?.includes(a), `${p} token_endpoint_auth_methods_supported has ${a}`);
    }
    // RFC 8414 §2: MUST be present when private_key_jwt is advertised
    assert.ok(m.token_endpoint_auth_signing_alg_values_supported?.includes('ES256'),
      `${p} token_endpoint_auth_signing_alg_values_supported: ${m.token_endpoint_auth_signing_alg_values_supported}`);
    assert.ok(!m.token_endpoint_auth_signing_alg_values_supported.includes('none'), 'RFC 8414 §2: "none" MUST NOT be used');
  }
  // openid-client finds the same endpoints through either discovery document
  for (const algorithm of ['oidc', 'oauth2']) {
    const c = await client.discovery(new URL(srv.issuer), 'svc-basic', secrets.basic, client.ClientSecretBasic(secrets.basic),
      { ...insecure, algorithm });
    const m = c.serverMetadata();
    assert.equal(m.issuer, srv.issuer, algorithm);
    assert.equal(m.introspection_endpoint, `${srv.issuer}/introspect`, algorithm);
    assert.equal(m.revocation_endpoint, `${srv.issuer}/revoke`, algorithm);
  }
});

test('client_secret_basic: discovery, client credentials, jose verifies an RFC 9068 token, introspect, revoke', async () => {
  const config = await basicConfig('svc-basic', secrets.basic);
  assert.equal(config.serverMetadata().token_endpoint, `${srv.issuer}/token`);

  const tokens = await client.clientCredentialsGrant(config, { scope: 'orders:read orders:write' });
  assert.equal(tokens.token_type, 'bearer'); // openid-client lowercases; the raw value is checked below
  assert.equal(typeof tokens.expires_in, 'number');
  assert.ok(tokens.expires_in > 0);
  assert.equal(tokens.refresh_token, undefined, 'RFC 6749 §4.4.3: a refresh token SHOULD NOT be included');
  assert.deepEqual(tokens.scope.split(' ').sort(), ['orders:read', 'orders:write']);

  const { payload, protectedHeader } = await verifyAccessToken(tokens.access_token);
  assert.equal(protectedHeader.typ, 'at+jwt');
  assert.equal(protectedHeader.alg, 'ES256');
  const jwks = await getJson(meta.jwks_uri);
  assert.ok(jwks.keys.some((k) => k.kid === protectedHeader.kid && k.alg === 'ES256'), `kid ${protectedHeader.kid} is in the JWKS`);
  checkClaims(payload, 'svc-basic', tokens.scope, tokens.expires_in);
  assert.deepEqual([...payload.roles].sort(), ['reader', 'writer']);

  // RFC 7662 through openid-client, by a resource server allowed to introspect
  const gw = await gatewayConfig();
  const info = await client.tokenIntrospection(gw, tokens.access_token);
  assert.equal(info.active, true);
  assert.equal(info.client_id, 'svc-basic');
  assert.equal(info.sub, 'svc-basic');
  assert.equal(info.iss, srv.issuer);
  assert.equal(info.scope, payload.scope);
  assert.equal(info.exp, payload.exp);
  assert.equal(info.iat, payload.iat);
  assert.deepEqual(auds(info.aud), auds(payload.aud));
  assert.equal(String(info.token_type).toLowerCase(), 'bearer', `token_type: ${info.token_type}`);
  assert.deepEqual([...info.roles].sort(), ['reader', 'writer']);

  // RFC 7009 through openid-client, by the client the token was issued to
  await client.tokenRevocation(config, tokens.access_token);
  const gone = await client.tokenIntrospection(gw, tokens.access_token);
  assert.deepEqual(plain(gone), { active: false }, 'RFC 7662 §2.2: an inactive token answers active:false and nothing else');
  // revoking it again, or something that was never a token, is still 200 (RFC 7009 §2.2)
  await client.tokenRevocation(config, tokens.access_token);
  await client.tokenRevocation(config, 'not-a-token-at-all');
});

test('client_secret_basic with a secret that needs form-urlencoding (RFC 6749 §2.3.1)', async () => {
  const config = await basicConfig('svc-odd', secrets.odd);
  const { access_token: at } = await client.clientCredentialsGrant(config);
  assert.equal((await verifyAccessToken(at)).payload.client_id, 'svc-odd');
  // the secret put in the header without form-urlencoding decodes to a different secret
  const raw = await postForm(meta.token_endpoint, { grant_type: 'client_credentials' },
    { authorization: `Basic ${Buffer.from(`svc-odd:${secrets.odd}`).toString('base64')}` });
  assert.equal(raw.status, 401, `the secret without form-urlencoding is a different secret: ${show(raw)}`);
});

test('client_credentials raw response: Bearer, no-store, and the requested scope defaulting', async () => {
  const r = await postForm(meta.token_endpoint, { grant_type: 'client_credentials' },
    { authorization: basicAuth('svc-basic', secrets.basic) });
  assert.equal(r.status, 200, show(r));
  assert.match(r.headers.get('content-type'), /^application\/json/);
  assert.match(r.headers.get('cache-control') ?? '', /no-store/, 'RFC 6749 §5.1: Cache-Control: no-store');
  assert.match(r.headers.get('pragma') ?? '', /no-cache/, 'RFC 6749 §5.1: Pragma: no-cache');
  assert.equal(r.json.token_type, 'Bearer');
  assert.equal(typeof r.json.access_token, 'string');
  assert.ok(Number.isInteger(r.json.expires_in), `expires_in: ${r.json.expires_in}`);
  assert.equal(r.json.scope, 'orders:read', 'without scope the default_scope is granted');
  const { payload } = await verifyAccessToken(r.json.access_token);
  checkClaims(payload, 'svc-basic', 'orders:read', r.json.expires_in);
});

test('client_secret_post: openid-client ClientSecretPost', async () => {
  const config = await client.discovery(new URL(srv.issuer), 'svc-post', secrets.post, client.ClientSecretPost(secrets.post),
    insecure);
  const tokens = await client.clientCredentialsGrant(config, { scope: 'orders:write' });
  assert.equal(tokens.scope, 'orders:write');
  const { payload } = await verifyAccessToken(tokens.access_token);
  checkClaims(payload, 'svc-post', 'orders:write', tokens.expires_in);
  assert.deepEqual(payload.roles, ['writer']);
  // orders:read is listed by the role reader, which svc-post lacks (docs/roles.md)
  await assert.rejects(client.clientCredentialsGrant(config, { scope: 'orders:read' }), (e) => e.error === 'invalid_scope');
  // the client revokes its own token with the same authentication method
  await client.tokenRevocation(config, tokens.access_token);
  assert.deepEqual(plain(await client.tokenIntrospection(await gatewayConfig(), tokens.access_token)), { active: false });
});

test('private_key_jwt: openid-client PrivateKeyJwt with a key registered in the client\'s jwks (RFC 7523)', async () => {
  const config = await client.discovery(new URL(srv.issuer), 'svc-jwt', {}, client.PrivateKeyJwt(jwtKeys.privateKey), insecure);
  const tokens = await client.clientCredentialsGrant(config);
  assert.equal(tokens.scope, 'orders:read');
  const { payload } = await verifyAccessToken(tokens.access_token);
  checkClaims(payload, 'svc-jwt', 'orders:read', tokens.expires_in);
  const info = await client.tokenIntrospection(await gatewayConfig(), tokens.access_token);
  assert.equal(info.active, true);
  assert.equal(info.client_id, 'svc-jwt');
  await client.tokenRevocation(config, tokens.access_token);
  assert.equal((await client.tokenIntrospection(await gatewayConfig(), tokens.access_token)).active, false);
});

/** a client assertion made by hand (RFC 7523 §3) */
async function assertion(key, { aud, iss = 'svc-jwt', sub = 'svc-jwt', exp = '60s', kid = 'svc-jwt-1' } = {}) {
  return new jose.SignJWT({}).setProtectedHeader({ alg: 'ES256', kid }).setIssuer(iss).setSubject(sub).setAudience(aud)
    .setIssuedAt().setExpirationTime(exp).setJti(newSecret()).sign(key);
}
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

test('private_key_jwt: the token endpoint URL as audience works; a foreign key, a wrong sub or an expired assertion is invalid_client', async () => {
  const ok = await postForm(meta.token_endpoint, { grant_type: 'client_credentials', client_id: 'svc-jwt',
    client_assertion_type: JWT_BEARER, client_assertion: await assertion(jwtKeys.privateKey, { aud: meta.token_endpoint }) });
  assert.equal(ok.status, 200, `RFC 7523 §3: the token endpoint URL MAY be the audience: ${show(ok)}`);

  const bad = [
    ['signed by an unregistered key', await assertion(otherKeys.privateKey, { aud: srv.issuer })],
    ['sub is another client', await assertion(jwtKeys.privateKey, { aud: srv.issuer, sub: 'svc-basic' })],
    ['audience is someone else', await assertion(jwtKeys.privateKey, { aud: 'https://other.example.test' })],
    ['expired', await assertion(jwtKeys.privateKey, { aud: srv.issuer, exp: Math.floor(Date.now() / 1000) - 600 })],
    ['without exp (RFC 7523 §3 item 4: MUST contain exp)', await new jose.SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'svc-jwt-1' })
      .setIssuer('svc-jwt').setSubject('svc-jwt').setAudience(srv.issuer).setIssuedAt().setJti(newSecret()).sign(jwtKeys.privateKey)],
    ['alg none', `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: 'svc-jwt',
      sub: 'svc-jwt', aud: srv.issuer, exp: Math.floor(Date.now() / 1000) + 60, jti: newSecret() })).toString('base64url')}.`],
  ];
  for (const [what, a] of bad) {
    const r = await postForm(meta.token_endpoint, { grant_type: 'client_credentials', client_id: 'svc-jwt',
      client_assertion_type: JWT_BEARER, client_assertion: a });
    assertInvalidClient(r, false, what);
  }
});

test('resource indicator (RFC 8707) sets aud, and jose checks it', async () => {
  const config = await basicConfig('svc-basic', secrets.basic);
  const tokens = await client.clientCredentialsGrant(config, { scope: 'orders:read', resource: RESOURCE });
  const { payload } = await verifyAccessToken(tokens.access_token, RESOURCE);
  assert.deepEqual(auds(payload.aud), [RESOURCE], 'RFC 8707 §2 / RFC 9068 §3: aud is the requested resource');
  await assert.rejects(verifyAccessToken(tokens.access_token, 'https://elsewhere.example.test/'), /aud/);
  const info = await client.tokenIntrospection(await gatewayConfig(), tokens.access_token);
  assert.deepEqual(auds(info.aud), [RESOURCE]);

  // RFC 8707 §2: a resource that is not an absolute URI, or has a fragment, is invalid_target
  for (const resource of ['orders', 'https://orders.example.test/api#frag']) {
    const r = await postForm(meta.token_endpoint, { grant_type: 'client_credentials', resource },
      { authorization: basicAuth('svc-basic', secrets.basic) });
    assert.equal(r.status, 400, `${resource}: ${show(r)}`);
    assert.equal(r.json?.error, 'invalid_target', `${resource}: ${show(r)}`);
  }
});

test('introspection as a signed JWT (RFC 9701), verified with jose', async () => {
  const config = await basicConfig('svc-basic', secrets.basic);
  const tokens = await client.clientCredentialsGrant(config, { scope: 'orders:read' });
  const r = await introspect(tokens.access_token, { accept: 'application/token-introspection+jwt' });
  assert.equal(r.status, 200, show(r));
  assert.match(r.headers.get('content-type') ?? '', /^application\/token-introspection\+jwt/, 'RFC 9701 §5');
  const { payload, protectedHeader } = await jose.jwtVerify(r.text, JWKS, {
    issuer: srv.issuer, audience: 'gateway', typ: 'token-introspection+jwt', requiredClaims: ['iat'],
    algorithms: meta.introspection_signing_alg_values_supported ?? ['ES256', 'RS256'] });
  assert.equal(protectedHeader.typ, 'token-introspection+jwt');
  const ti = payload.token_introspection;
  assert.equal(typeof ti, 'object', `token_introspection claim: ${JSON.stringify(payload)}`);
  assert.equal(ti.active, true);
  assert.equal(ti.client_id, 'svc-basic');
  assert.equal(ti.scope, 'orders:read');
  assert.equal(ti.iss, srv.issuer);
  assert.equal(ti.exp, peek(tokens.access_token).claims.exp);

  // the same for a revoked token: a signed answer whose token_introspection is {"active":false}
  await client.tokenRevocation(config, tokens.access_token);
  const r2 = await introspect(tokens.access_token, { accept: 'application/token-introspection+jwt' });
  assert.equal(r2.status, 200, show(r2));
  const v2 = await jose.jwtVerify(r2.text, JWKS, { issuer: srv.issuer, audience: 'gateway', typ: 'token-introspection+jwt' });
  assert.deepEqual(v2.payload.token_introspection, { active: false });
});

test('introspection: a tampered, foreign-signed or garbage token is inactive', async () => {
  const config = await basicConfig('svc-basic', secrets.basic);
  const { access_token: at } = await client.clientCredentialsGrant(config);
  const [h, p, s] = at.split('.');
  const claims = JSON.parse(Buffer.from(p, 'base64url'));
  const widened = Buffer.from(JSON.stringify({ ...claims, scope: 'orders:read orders:write admin' })).toString('base64url');
  const forged = await new jose.SignJWT(claims).setProtectedHeader(peek(at).header).sign(otherKeys.privateKey);
  const flipped = s.slice(0, -2) + (s.at(-2) === 'A' ? 'B' : 'A') + s.at(-1);
  for (const [what, token] of [['payload changed', `${h}.${widened}.${s}`], ['signed by another key', forged],
    ['signature changed', `${h}.${p}.${flipped}`], ['alg none', `${Buffer.from('{"alg":"none","typ":"at+jwt"}').toString('base64url')}.${p}.`],
    ['garbage', 'garbage'], ['empty-ish', 'x']]) {
    const r = await introspect(token);
    assert.equal(r.status, 200, `${what}: ${show(r)}`);
    assert.deepEqual(r.json, { active: false }, `${what}: ${show(r)}`);
  }
  assert.equal((await introspect(at)).json.active, true, 'the untouched token is still active');
});

test('introspection needs an authenticated client allowed to introspect (RFC 7662 §2.1, §2.3, §4)', async () => {
  const { access_token: at } = await client.clientCredentialsGrant(await basicConfig('svc-basic', secrets.basic));
  const none = await postForm(meta.introspection_endpoint, { token: at });
  assert.ok(none.status === 400 || none.status === 401, `no client authentication: ${show(none)}`);
  assert.ok(none.json?.active !== true, show(none));
  assertInvalidClient(await introspect(at, {}, basicAuth('gateway', newSecret())), true, 'wrong secret (RFC 7662 §2.3)');
  // a valid client without may_introspect learns nothing about the token
  const nope = await introspect(at, {}, basicAuth('no-introspect', secrets.nointro));
  assert.ok(nope.json?.active !== true, `a client without may_introspect got an answer: ${show(nope)}`);
  assert.ok([200, 401, 403].includes(nope.status), show(nope));
  // a missing token parameter is invalid_request (RFC 7662 §2.1: token is REQUIRED)
  // a wrong token_type_hint does not hide the token (RFC 7662 §2.1: the server MUST extend its search)
  const hinted = await postForm(meta.introspection_endpoint, { token: at, token_type_hint: 'refresh_token' },
    { authorization: basicAuth('gateway', secrets.gateway) });
  assert.equal(hinted.json?.active, true, show(hinted));
  const missing = await postForm(meta.introspection_endpoint, {}, { authorization: basicAuth('gateway', secrets.gateway) });
  assert.equal(missing.status, 400, show(missing));
  assert.equal(missing.json?.error, 'invalid_request', show(missing));
});

test('revocation: needs client authentication, only touches the caller\'s own tokens, 200 otherwise (RFC 7009)', async () => {
  const config = await basicConfig('svc-basic', secrets.basic);
  const { access_token: at } = await client.clientCredentialsGrant(config);

  assertInvalidClient(await postForm(meta.revocation_endpoint, { token: at }), false, 'RFC 7009 §2.1: unauthenticated');
  assertInvalidClient(await postForm(meta.revocation_endpoint, { token: at }, { authorization: basicAuth('svc-basic', newSecret()) }),
    true, 'RFC 7009 §2.1: wrong secret');
  assert.equal((await introspect(at)).json.active, true);

  // another client cannot revoke it (RFC 7009 §2.1: the AS verifies the token was issued to the caller)
  const other = await postForm(meta.revocation_endpoint, { token: at, token_type_hint: 'access_token' },
    { authorization: basicAuth('no-introspect', secrets.nointro) });
  assert.ok(other.status === 200 || other.status === 400, show(other));
  assert.equal((await introspect(at)).json.active, true, 'a token stays active when another client "revokes" it');

  // an unknown token_type_hint is not an error the AS must raise for tokens it can find (RFC 7009 §2.1)
  const hinted = await postForm(meta.revocation_endpoint, { token: at, token_type_hint: 'refresh_token' },
    { authorization: basicAuth('svc-basic', secrets.basic) });
  assert.equal(hinted.status, 200, `a wrong hint still revokes (RFC 7009 §2.1 "extend its search"): ${show(hinted)}`);
  assert.deepEqual((await introspect(at)).json, { active: false });

  const missing = await postForm(meta.revocation_endpoint, {}, { authorization: basicAuth('svc-basic', secrets.basic) });
  assert.equal(missing.status, 400, `token is REQUIRED: ${show(missing)}`);
  assert.equal(missing.json?.error, 'invalid_request', show(missing));
});

test('token endpoint errors are RFC 6749 §5.2', async () => {
  const tok = (params, auth) => postForm(meta.token_endpoint, params, auth ? { authorization: auth } : {});
  const cc = { grant_type: 'client_credentials' };
  const authFailures = [
    ['wrong secret', cc, basicAuth('svc-basic', newSecret())],
    ['unknown client', cc, basicAuth('nobody', newSecret())],
    ['no authentication', cc, null],
    ['wrong secret in the body', { ...cc, client_id: 'svc-post', client_secret: newSecret() }, null],
    ['Basic and client_secret_post at once (RFC 6749 §2.3: MUST NOT use more than one method)',
      { ...cc, client_id: 'svc-post', client_secret: secrets.post }, basicAuth('svc-post', secrets.post)],
  ];
  for (const [what, params, auth] of authFailures) {
    const r = await tok(params, auth);
    assert.ok(r.status === 400 || r.status === 401, `${what}: ${show(r)}`);
    if (what.startsWith('Basic and')) {
      assert.ok(['invalid_request', 'invalid_client'].includes(r.json?.error), `${what}: ${show(r)}`);
    } else {
      assertInvalidClient(r, Boolean(auth), what);
    }
    assert.match(r.headers.get('cache-control') ?? '', /no-store/, `${what}: error responses are no-store too`);
  }
  const disabled = await tok(cc, basicAuth('svc-disabled', secrets.disabled));
  assert.ok(['invalid_client', 'unauthorized_client'].includes(disabled.json?.error), `disabled client: ${show(disabled)}`);
  assert.equal(disabled.json?.access_token, undefined);

  const others = [
    ['scope not allowed', { ...cc, scope: 'admin' }, basicAuth('svc-basic', secrets.basic), 'invalid_scope'],
    ['grant not registered', cc, basicAuth('code-only', secrets.codeonly), 'unauthorized_client'],
    ['unknown grant', { grant_type: 'urn:example:nope' }, basicAuth('svc-basic', secrets.basic), 'unsupported_grant_type'],
    ['no grant_type', {}, basicAuth('svc-basic', secrets.basic), 'invalid_request'],
    ['grant_type twice (RFC 6749 §3.2)', new URLSearchParams([['grant_type', 'client_credentials'], ['grant_type', 'client_credentials']]),
      basicAuth('svc-basic', secrets.basic), 'invalid_request'],
    ['scope twice (RFC 6749 §3.2)', new URLSearchParams([['grant_type', 'client_credentials'], ['scope', 'orders:read'],
      ['scope', 'orders:write']]), basicAuth('svc-basic', secrets.basic), 'invalid_request'],
  ];
  for (const [what, params, auth, error] of others) {
    const r = await tok(params, auth);
    assert.equal(r.status, 400, `${what}: ${show(r)}`);
    assert.equal(r.json?.error, error, `${what}: ${show(r)}`);
    assert.match(r.headers.get('cache-control') ?? '', /no-store/, `${what}: error responses are no-store too`);
  }
});

test('a client made with `tessera client create` works; `tessera client disable` refuses it and its tokens', async () => {
  const env = { env: { DATABASE_URL: dbUrl } };
  const made = cli(['client', 'create', 'svc-cli', '--format', 'json', '--auth-method', 'client_secret_post',
    '--scope', 'orders:read', '--default-scope', 'orders:read'], env);
  assert.equal(made.status, 0, made.stderr);
  const { client_secret: secret } = JSON.parse(made.stdout);
  const tok = () => postForm(meta.token_endpoint, { grant_type: 'client_credentials', client_id: 'svc-cli', client_secret: secret });
  // the running server learns of the new client by itself (bounded wait)
  await waitFor(async () => (await tok()).status === 200, 10_000, 100);

  const config = await client.discovery(new URL(srv.issuer), 'svc-cli', secret, client.ClientSecretPost(secret), insecure);
  const { access_token: at } = await client.clientCredentialsGrant(config);
  const { payload } = await verifyAccessToken(at);
  assert.equal(payload.client_id, 'svc-cli');
  assert.equal((await introspect(at)).json.active, true);

  const off = cli(['client', 'disable', 'svc-cli'], env);
  assert.equal(off.status, 0, off.stderr);
  await waitFor(async () => (await tok()).json?.error === 'invalid_client', 10_000, 100);
  await waitFor(async () => (await introspect(at)).json?.active === false, 10_000, 100);
  assert.deepEqual((await introspect(at)).json, { active: false }, 'a disabled client\'s token is inactive');

  const on = cli(['client', 'enable', 'svc-cli'], env);
  assert.equal(on.status, 0, on.stderr);
  await waitFor(async () => (await tok()).status === 200, 10_000, 100);
});

test('an expired token is inactive (access_token_ttl 30 s)', { timeout: 90_000 }, async () => {
  const { access_token: at, expires_in: ttl } = await client.clientCredentialsGrant(await basicConfig('svc-short', secrets.short));
  assert.ok(ttl <= 30, `expires_in ${ttl} honours the client's access_token_ttl`);
  const { exp } = peek(at).claims;
  assert.equal((await introspect(at)).json.active, true);
  await waitFor(async () => (await introspect(at)).json?.active === false, (ttl + 15) * 1000, 500)
    .catch((e) => { e.message += `\n--- tessera log (tail)\n${srv.logs.join('').slice(-4000)}`; throw e; });
  assert.ok(Date.now() / 1000 >= exp, 'it turned inactive only once exp had passed');
});
