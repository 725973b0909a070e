// A real browser for the end-to-end tests: Debian's Chromium (/usr/bin/chromium, installed by
// scripts/deps.sh --test) driven headless over CDP by playwright-core (which downloads no browser of
// its own). One browser per test file, one fresh context (cookie jar) per test, every wait bounded.
// Also the pieces a browser flow needs: a redirect target that plays the relying party's redirect_uri,
// and helpers for Tessera's login and consent pages (templates/login.html, templates/consent.html).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { TOP } from '../integration/lib.mjs';

export const CHROMIUM = process.env.TESSERA_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.join(TOP, 'build/test-output/screenshots');
/** the page's default timeout: no single wait in a browser test lasts longer */
export const PAGE_TIMEOUT = 10_000;

let playwright;
try {
  playwright = await import('playwright-core');
} catch (e) {
  playwright = { missing: `playwright-core is not installed (npm ci --prefix tests/e2e): ${e.message}` };
}

/** why the browser tests cannot run here, or null when they can */
export function browserMissing() {
  if (playwright.missing) return playwright.missing;
  if (!fs.existsSync(CHROMIUM)) return `${CHROMIUM} is missing (install the Debian package chromium: scripts/deps.sh --test)`;
  return null;
}

/**
 * Launches headless Chromium. Returns { browser, newPage(t), close() }: newPage makes a fresh context
 * (its own cookies) and page with bounded timeouts, closed by t.after (when t is given) and by close().
 */
export async function launchBrowser() {
  const why = browserMissing();
  if (why) throw new Error(why);
  const browser = await playwright.chromium.launch({
    executablePath: CHROMIUM, headless: true, timeout: 30_000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--ignore-certificate-errors'],
  });
  const contexts = new Set();
  return {
    browser,
    async newPage(t) {
      const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 900, height: 800 } });
      contexts.add(context);
      context.setDefaultTimeout(PAGE_TIMEOUT);
      context.setDefaultNavigationTimeout(PAGE_TIMEOUT);
      const page = await context.newPage();
      const close = async () => { contexts.delete(context); await context.close().catch(() => {}); };
      t?.after(close);
      return { context, page, close };
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => {});
      contexts.clear();
      // bounded: a browser that does not quit is killed with its process
      await Promise.race([browser.close(), new Promise((r) => setTimeout(r, 10_000))]);
      try { browser.process?.()?.kill('SIGKILL'); } catch { /* gone */ }
    },
  };
}

const isPath = (r, p) => { try { return new URL(r.url()).pathname === p; } catch { return false; } };

/** the page shows Tessera's login form */
export const onLoginPage = async (page) => (await page.locator('form[action="/login"] input[name="password"]').count()) > 0;
/** the page shows Tessera's consent form */
export const onConsentPage = async (page) => (await page.locator('form[action="/consent"] button[name="decision"]').count()) > 0;

/**
 * Fills Tessera's login form (which must be on the page, or appear within the page timeout) and
 * submits it. Resolves with the response to POST /login (a 303 on to the client, 200 with the consent
 * page or the login page again, 429 when throttled).
 */
export async function login(page, username, password) {
  const form = page.locator('form[action="/login"]');
  await form.locator('input[name="password"]').waitFor({ state: 'visible' });
  await form.locator('input[name="username"]').fill(username);
  await form.locator('input[name="password"]').fill(password);
  const [response] = await Promise.all([
    page.waitForResponse((r) => isPath(r, '/login') && r.request().method() === 'POST'),
    form.locator('button[type="submit"]').click(),
  ]);
  await page.waitForLoadState('domcontentloaded');
  return response;
}

/**
 * Clicks "allow" or "deny" on Tessera's consent page (waiting for it within the page timeout).
 * Resolves with the response to POST /consent.
 */
export async function consent(page, decision) {
  assert.ok(decision === 'allow' || decision === 'deny', `consent decision: ${decision}`);
  const button = page.locator(`form[action="/consent"] button[name="decision"][value="${decision}"]`);
  await button.waitFor({ state: 'visible' });
  const [response] = await Promise.all([
    page.waitForResponse((r) => isPath(r, '/consent') && r.request().method() === 'POST'),
    button.click(),
  ]);
  return response;
}

/**
 * Waits (bounded) until the page's URL starts with prefix, e.g. the client's redirect_uri; resolves
 * with that URL. On a time-out the error says where the browser is and what it shows.
 */
export async function waitForRedirectTo(page, prefix, timeout = PAGE_TIMEOUT) {
  const at = (u) => String(u).startsWith(prefix);
  if (!at(page.url())) {
    try {
      await page.waitForURL(at, { timeout, waitUntil: 'commit' });
    } catch (e) {
      throw new Error(`no redirect to ${prefix} within ${timeout} ms: ${e.message.split('\n')[0]}\n${await describe(page)}`);
    }
  }
  return new URL(page.url());
}

/** where the page is and what it shows, for assertion messages */
export async function describe(page) {
  let text = '';
  try { text = (await page.locator('body').innerText({ timeout: 2_000 })).slice(0, 1500); } catch { /* no body */ }
  return `browser at ${page.url()}\n--- page text\n${text}`;
}

/**
 * A relying party's redirect endpoint: a plain HTTP server on a free loopback port that records every
 * request (path and query) and answers 200 with a tiny page. http on 127.0.0.1 is a potentially
 * trustworthy origin, so Chromium follows Tessera's 303 there without a mixed-content warning.
 */
export async function startRedirectTarget() {
  const hits = [];
  const server = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://127.0.0.1');
    hits.push({ method: req.method, path: u.pathname, query: Object.fromEntries(u.searchParams), url: u });
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(`<!doctype html><title>relying party</title><p>relying party got ${u.pathname}</p>`);
  });
  server.keepAliveTimeout = 1_000;
  await new Promise((resolve, reject) => { server.on('error', reject); server.listen(0, '127.0.0.1', resolve); });
  const base = `http://127.0.0.1:${server.address().port}`;
  return {
    base, hits,
    url: (p) => `${base}${p}`,
    /** the recorded requests to path p */
    to: (p) => hits.filter((h) => h.path === p),
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}

/** true when buf is a PNG file (signature and an IHDR chunk) */
export function isPng(buf) {
  return buf.length > 33 && buf.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
    && buf.subarray(12, 16).toString('latin1') === 'IHDR';
}

/**
 * Screenshot of the whole page into build/test-output/screenshots/NAME.png; asserts a non-empty PNG and
 * tells the path through t.diagnostic. Returns the path.
 */
export async function screenshot(page, name, t) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true, timeout: PAGE_TIMEOUT });
  const buf = fs.readFileSync(file);
  assert.ok(buf.length > 100 && isPng(buf), `${file} is not a non-empty PNG (${buf.length} bytes)`);
  t?.diagnostic(`screenshot: ${file}`);
  return file;
}
