// What this proves: a relying party that no one here wrote signs people in through Tessera. Apache
// httpd 2.4 with mod_auth_openidc (Debian's packages) protects /protected/ with `AuthType
// openid-connect`; it learns everything about Tessera from its discovery document (fetched over TLS,
// trusting exactly Tessera's self-signed certificate), sends the browser to Tessera with PKCE S256,
// redeems the code with client_secret_basic, validates the ID token and serves the page. Chromium plays
// the person: it opens the protected page, lands on Tessera's login page, signs in, allows access on
// the consent page and sees the protected page. Screenshots of the login and consent pages go to
// build/test-output/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, startServer } from '../integration/lib.mjs';
import { apacheMissing, startApacheRp } from './apache.mjs';
import { browserMissing, consent, describe, launchBrowser, login, onConsentPage, onLoginPage, screenshot } from './browser.mjs';
import { databaseWith, makeCert, newSecret, tempDir } from './lib.mjs';

// without the packages the test is skipped, except in CI, where that is a failure
const missing = apacheMissing() ?? browserMissing();
const skip = missing && !process.env.CI ? missing : false;

const CLIENT_ID = 'intranet';
const SECRET = newSecret();
const SCOPE = 'openid email profile';
const MARKER = `protected intranet page ${newSecret().slice(0, 10)}`;
const PAGE = `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Intranet</title></head>\n<body><h1>${MARKER}</h1></body></html>\n`;
const USER = { username: 'hedy', password: `pw-hedy-${newSecret().slice(0, 12)}`, email: 'hedy@example.test', name: 'Hedy Lamarr' };

const LOCATIONS = String.raw`
<Location "/protected/">
    AuthType openid-connect
    Require valid-user
    Header set X-Remote-User "expr=%{REMOTE_USER}"
    Header set X-Claim-Email "expr=%{reqenv:OIDC_CLAIM_email}"
    Header set Cache-Control "no-store"
</Location>
`;

let dir, srv, apache, browser, base, redirectUri;

before(async () => {
  if (skip) return;
  if (missing) throw new Error(missing);
  dir = tempDir('e2e-rp');
  const cert = makeCert(dir, 'tessera');
  // the redirect URI names Apache's port, so the port is chosen before the client is registered
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  redirectUri = `${base}/protected/redirect_uri`;
  const url = databaseWith('e2e_rp', {
    clients: [
      { client_id: CLIENT_ID, client_name: 'Intranet (Apache)', client_secret: SECRET, token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code'], redirect_uris: [redirectUri], scope: SCOPE },
    ],
    users: [USER],
  }, dir);
  srv = await startServer({ url, https: true,
    env: { TESSERA_TLS_CERTIFICATE_FILE: cert.crt, TESSERA_TLS_PRIVATE_KEY_FILE: cert.key } });
  apache = await startApacheRp({
    dir: path.join(dir, 'apache'), port, metadataUrl: `${srv.issuer}/.well-known/openid-configuration`,
    clientId: CLIENT_ID, clientSecret: SECRET, redirectUri, scope: SCOPE, caFile: cert.crt,
    files: { 'protected/index.html': PAGE }, locations: LOCATIONS,
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await apache?.stop();
  if (srv && (srv.child.exitCode !== null || srv.child.signalCode !== null)) {
    console.error(`tessera died during the tests (${srv.child.exitCode ?? srv.child.signalCode}):\n${srv.logs.join('').slice(-4000)}`);
  }
  await srv?.stop();
});

test('Apache mod_auth_openidc: Chromium opens /protected/, signs in at Tessera, consents, and sees the page',
  { skip, timeout: 120_000 }, async (t) => {
    const { page, context } = await browser.newPage(t);
    // a failing step carries where the browser was, Apache's error log (mod_auth_openidc logs at debug) and Tessera's log
    const step = (name, fn) => t.test(name, async () => {
      try {
        await fn();
      } catch (e) {
        e.message += `\n${await describe(page)}\n${apache.logs()}\n--- tessera log (tail)\n${srv.logs.join('').slice(-3000)}`;
        throw e;
      }
    });

    let login200;
    await step('the protected page sends the browser to Tessera\'s login page (Authorization Code + PKCE S256)', async () => {
      const resp = await page.goto(`${base}/protected/`);
      const at = new URL(page.url());
      assert.equal(at.origin, srv.issuer, 'the browser is at Tessera');
      assert.equal(at.pathname, '/authorize');
      const q = at.searchParams;
      assert.equal(q.get('client_id'), CLIENT_ID);
      assert.equal(q.get('redirect_uri'), redirectUri);
      assert.equal(q.get('response_type'), 'code');
      assert.equal(q.get('code_challenge_method'), 'S256');
      assert.ok(q.get('code_challenge') && q.get('state') && q.get('nonce'), `challenge, state and nonce: ${at}`);
      assert.deepEqual(q.get('scope').split(' ').sort(), SCOPE.split(' ').sort());
      assert.equal(resp.status(), 200, `the login page (HTTP ${resp.status()})`);
      assert.ok(await onLoginPage(page), 'a login form');
      assert.match(await page.locator('body').innerText(), /Intranet \(Apache\)/, 'the login page names the client');
      await screenshot(page, 'rp-login-page', t);
    });

    await step('signing in shows the consent page', async () => {
      login200 = await login(page, USER.username, USER.password);
      assert.equal(login200.status(), 200, `POST /login: HTTP ${login200.status()}`);
      assert.ok(await onConsentPage(page), 'a consent form');
      const text = await page.locator('body').innerText();
      assert.match(text, /Intranet \(Apache\)/, 'the consent page names the client');
      assert.match(text, /hedy/, 'the consent page names the user');
      await screenshot(page, 'rp-consent-page', t);
    });

    await step('allowing access lands on the protected page, served to the signed-in user', async () => {
      const target = `${base}/protected/`;
      const served = page.waitForResponse((r) => r.url() === target && r.status() === 200);
      const cr = await consent(page, 'allow');
      assert.equal(cr.status(), 303, `POST /consent: HTTP ${cr.status()}`);
      const resp = await served;
      await page.waitForURL(target, { waitUntil: 'load' });
      assert.equal(await page.locator('h1').innerText(), MARKER, 'the protected page');
      const h = resp.headers();
      assert.ok(h['x-remote-user'], `REMOTE_USER (the sub claim) is set: ${JSON.stringify(h)}`);
      assert.equal(h['x-claim-email'], USER.email, 'mod_auth_openidc got the email claim');
      // the way there: Tessera sent the browser to mod_auth_openidc's redirect URI with a code, state and iss
      const access = fs.readFileSync(path.join(apache.dir, 'access.log'), 'utf8');
      assert.match(access, /"GET \/protected\/redirect_uri\?[^"]*\bcode=tsac_[^"]*" 302 /, `access.log:\n${access}`);
    });

    await step('the Apache session holds: the page opens again without a detour', async () => {
      const resp = await page.goto(`${base}/protected/`);
      assert.equal(resp.status(), 200);
      assert.equal(resp.request().redirectedFrom(), null, 'no redirect');
      assert.equal(await page.locator('h1').innerText(), MARKER);
      const cookies = await context.cookies(base);
      assert.ok(cookies.some((c) => c.name.startsWith('mod_auth_openidc_session')), `Apache's session cookie: ${cookies.map((c) => c.name)}`);
    });
  });
