// Roles (docs/roles.md) against a real server and PostgreSQL: a scope that some role lists is granted only to a
// subject holding such a role (a user in the browser grants, the client in client_credentials); `tessera role
// grant|revoke` reaches the running server at once (introspection shows the subject's current roles), and the
// next refresh's access token follows the user's current roles; the default roles; the role CLI and its errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cli, sql, startServer, waitFor } from './lib.mjs';
import {
  Jar, SECRET, authorize, authParams, basic, databaseWith, decode, isConsentPage, isLoginPage, login, request, show, signIn,
  submit, tokenRequest,
} from './browser_helpers.mjs';

const CB = 'https://app.example/cb';
const CODE = ['authorization_code', 'refresh_token'];
const user = (username, roles = []) => ({ username, password: `pw-${username}-${randomBytes(8).toString('hex')}`, roles });
const alice = user('alice'), bob = user('bob', ['reports']), carol = user('carol');

let url, srv;
const run = (args, opts = {}) => cli(args, { ...opts, env: { DATABASE_URL: url, ...(opts.env ?? {}) } });
const runJson = (args) => {
  const r = run([...args, '--format', 'json']);
  assert.equal(r.status, 0, `tessera ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout);
};
const q = (query) => sql(url, query);

before(async () => {
  const common = { client_secret: SECRET, token_endpoint_auth_method: 'client_secret_basic' };
  url = databaseWith('roles', {
    roles: [{ name: 'reports', description: 'Reads the reports API', scopes: ['reports:read'] }],
    clients: [
      { client_id: 'web', ...common, grant_types: CODE, redirect_uris: [CB], scope: 'openid profile reports:read api:read',
        skip_consent: true },
      { client_id: 'asks', ...common, grant_types: CODE, redirect_uris: [CB], scope: 'openid profile reports:read' },
      { client_id: 'svc', ...common, grant_types: ['client_credentials'], scope: 'api:read reports:read tessera:admin',
        default_scope: 'api:read' },
      { client_id: 'gw', ...common, grant_types: ['client_credentials'], scope: 'api:read', may_introspect: true },
    ],
    users: [alice, bob, carol],
  });
  srv = await startServer({ url });
  await waitFor(async () => (await request(`${srv.issuer}/readyz`)).status === 200); // the database pool is up
});

after(async () => {
  if (srv && (srv.child.exitCode !== null || srv.child.signalCode !== null))
    console.error(`tessera died during the tests:\n${srv.logs.join('').slice(-4000)}`);
  await srv?.stop();
});

const jars = new Map();
/** signs u in to client (their session is kept) and exchanges the code: the token response */
async function browserTokens(u, scope, clientId = 'web') {
  if (!jars.has(u.username)) jars.set(u.username, new Jar());
  const s = await signIn(srv, jars.get(u.username), clientId, CB, { user: u, extra: { scope } });
  assert.match(s.code ?? '', /^tsac_/, `a code: ${s.back}`);
  const r = await tokenRequest(srv, { grant_type: 'authorization_code', code: s.code, redirect_uri: CB, code_verifier: s.verifier },
    { authorization: basic(clientId) });
  assert.equal(r.status, 200, show(r));
  return r.json;
}

const clientToken = (clientId, scope) =>
  tokenRequest(srv, { grant_type: 'client_credentials', ...(scope !== undefined ? { scope } : {}) }, { authorization: basic(clientId) });

async function introspect(token) {
  const r = await request(`${srv.issuer}/introspect`, { form: { token }, headers: { authorization: basic('gw') } });
  assert.equal(r.status, 200, show(r));
  return r.json;
}

const refresh = (rt) => tokenRequest(srv, { grant_type: 'refresh_token', refresh_token: rt }, { authorization: basic('web') });

/** how long (ms) until check(introspection of token) holds, polling; fails after 5 s */
async function msUntil(token, check) {
  const started = Date.now();
  await waitFor(async () => check(await introspect(token)), 5_000, 10);
  return Date.now() - started;
}

/* ---- the scope a subject gets --------------------------------------------------------------------------- */

test('browser grant: a user without the role does not get the gated scope; one with it does', async () => {
  const a = await browserTokens(alice, 'openid reports:read api:read');
  assert.equal(a.scope, 'openid api:read', 'reports:read is gated by the role reports, which alice lacks');
  assert.equal(decode(a.access_token).claims.scope, 'openid api:read');
  assert.deepEqual(decode(a.access_token).claims.roles, []);
  assert.ok(a.id_token, 'openid is never gated');

  const b = await browserTokens(bob, 'openid reports:read api:read');
  assert.equal(b.scope, 'openid reports:read api:read');
  assert.deepEqual(decode(b.access_token).claims.roles, ['reports']);
  const info = await introspect(b.access_token);
  assert.equal(info.scope, 'openid reports:read api:read');
  assert.deepEqual(info.roles, ['reports']);
});

test('browser grant: asking only for gated scopes the user lacks gives a code with an empty scope', async () => {
  const a = await browserTokens(alice, 'reports:read');
  assert.equal(a.scope, '');
  assert.equal(decode(a.access_token).claims.scope, undefined, 'no scope claim');
  assert.equal(a.id_token, undefined);
});

test('the consent page shows only what the user can be granted; remembered consent compares with that', async () => {
  const jar = new Jar();
  const req = authParams('asks', CB, { scope: 'openid reports:read' });
  let r = await authorize(srv, req.params, { jar });
  assert.ok(isLoginPage(r), show(r));
  r = await login(srv, r, carol.username, carol.password, { jar });
  assert.ok(isConsentPage(r), show(r));
  assert.doesNotMatch(r.text, /reports:read/, 'a scope carol cannot get is not offered');
  assert.match(r.text, /Know who you are/);
  r = await submit(srv, r, { decision: 'allow' }, { jar });
  assert.equal(r.status, 303, show(r));
  const code = new URL(r.location).searchParams.get('code');
  const t = await tokenRequest(srv, { grant_type: 'authorization_code', code, redirect_uri: CB, code_verifier: req.verifier },
    { authorization: basic('asks') });
  assert.equal(t.json?.scope, 'openid', show(t));
  // carol consented to "openid": the same request again needs no consent page, since reports:read is cut first
  const again = await signIn(srv, jar, 'asks', CB, { user: carol, extra: { scope: 'openid reports:read' } });
  assert.equal(again.responses.length, 1, `no login or consent page: ${again.responses.map(show).join('\n')}`);
  assert.match(again.code ?? '', /^tsac_/);
});

test('client_credentials: the client is the subject; a gated scope without the role is invalid_scope', async () => {
  let r = await clientToken('svc', 'reports:read');
  assert.equal(r.status, 400, show(r));
  assert.equal(r.json.error, 'invalid_scope');
  assert.equal(r.json.error_description, "the client's roles do not allow this scope");
  r = await clientToken('svc', 'tessera:admin');
  assert.equal(r.json?.error, 'invalid_scope', 'tessera:admin is gated by the default role admin');
  // what remains of a request is granted; the scope in the response says what
  r = await clientToken('svc', 'api:read reports:read');
  assert.equal(r.status, 200, show(r));
  assert.equal(r.json.scope, 'api:read');
  r = await clientToken('svc');
  assert.equal(r.json?.scope, 'api:read', 'no scope asked: the defaults, which are not gated');
});

test('role grant and revoke for a client: its next token follows, introspection at once', async (t) => {
  const before = await clientToken('svc', 'api:read');
  const tok = before.json.access_token;
  assert.deepEqual((await introspect(tok)).roles, []);
  assert.match(run(['role', 'grant', 'reports', '--client', 'svc']).stdout, /granted role reports to client svc/);
  const ms = await msUntil(tok, (i) => i.roles?.includes('reports'));
  assert.ok(ms < 1000, `introspection showed the new role after ${ms} ms`);
  t.diagnostic(`client role granted: introspection showed it after ${ms} ms`);
  let r = await clientToken('svc', 'api:read reports:read');
  assert.equal(r.json?.scope, 'api:read reports:read', show(r));
  assert.deepEqual(decode(r.json.access_token).claims.roles, ['reports']);
  r = await clientToken('svc', 'tessera:admin');
  assert.equal(r.json?.error, 'invalid_scope');

  assert.equal(run(['role', 'revoke', 'reports', '--client', 'svc']).status, 0);
  await msUntil(tok, (i) => i.active && i.roles?.length === 0);
  r = await clientToken('svc', 'reports:read');
  assert.equal(r.json?.error, 'invalid_scope', show(r));
});

test('role grant lets the next authorization get the scope; revoke shows in introspection at once and in the next refresh',
  async (t) => {
    const first = await browserTokens(carol, 'openid reports:read');
    assert.equal(first.scope, 'openid');

    let r = run(['role', 'grant', 'reports', '--user', 'carol']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /granted role reports to user carol/);
    let ms = await msUntil(first.access_token, (i) => i.roles?.includes('reports'));
    assert.ok(ms < 1000, `introspection showed the granted role after ${ms} ms`);
    t.diagnostic(`user role granted: introspection showed it after ${ms} ms`);

    const granted = await browserTokens(carol, 'openid reports:read');
    assert.equal(granted.scope, 'openid reports:read');
    assert.deepEqual(decode(granted.access_token).claims.roles, ['reports']);
    assert.ok(granted.refresh_token);

    r = run(['role', 'revoke', 'reports', '--user', 'carol']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /revoked role reports from user carol/);
    ms = await msUntil(granted.access_token, (i) => i.active === true && Array.isArray(i.roles) && i.roles.length === 0);
    assert.ok(ms < 1000, `introspection showed the revoked role after ${ms} ms`);
    t.diagnostic(`user role revoked: introspection showed it after ${ms} ms`);

    const next = await refresh(granted.refresh_token);
    assert.equal(next.status, 200, show(next));
    assert.equal(next.json.scope, 'openid', 'the new access token lacks the scope the role gave');
    assert.equal(decode(next.json.access_token).claims.scope, 'openid');
    assert.deepEqual(decode(next.json.access_token).claims.roles, []);

    // the grant itself kept its scope: with the role back, the next refresh has it again
    assert.equal(run(['role', 'grant', 'reports', '--user', 'carol']).status, 0);
    await msUntil(next.json.access_token, (i) => i.roles?.includes('reports'));
    const back = await refresh(next.json.refresh_token);
    assert.equal(back.json?.scope, 'openid reports:read', show(back));
    assert.equal(run(['role', 'revoke', 'reports', '--user', 'carol']).status, 0);
  });

test('deleting a role takes it from its holders and ungates its scopes', async () => {
  assert.equal(run(['role', 'create', 'temp', '--scopes', 'temp:x']).status, 0);
  assert.equal(run(['role', 'grant', 'temp', '--user', 'bob']).status, 0);
  const b = await browserTokens(bob, 'openid reports:read');
  await msUntil(b.access_token, (i) => i.roles?.includes('temp'));
  assert.equal(run(['role', 'delete', 'temp']).status, 0);
  await msUntil(b.access_token, (i) => i.active && !i.roles.includes('temp') && i.roles.includes('reports'));
  assert.equal(q(`SELECT count(*) FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE r.name = 'temp'`), '0');
});

/* ---- the default roles and the CLI ------------------------------------------------------------------------ */

test('the default roles admin, user and guest exist after migrate; admin gates tessera:admin', () => {
  const roles = runJson(['role', 'list']);
  const byName = Object.fromEntries(roles.map((r) => [r.name, r]));
  assert.deepEqual(byName.admin.scopes, ['tessera:admin']);
  assert.deepEqual(byName.user.scopes, []);
  assert.deepEqual(byName.guest.scopes, []);
  for (const name of ['admin', 'user', 'guest']) assert.ok(byName[name].description.length > 20, `${name} says what it is for`);
  assert.deepEqual(byName.reports, { name: 'reports', description: 'Reads the reports API', scopes: ['reports:read'],
    created_at: byName.reports.created_at, updated_at: byName.reports.updated_at });
  assert.match(byName.reports.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  // migrating again leaves an operator's change to a default role alone
  q(`UPDATE roles SET scopes = '{tessera:admin,ops:x}' WHERE name = 'admin'`);
  assert.equal(run(['migrate']).status, 0);
  assert.equal(q(`SELECT array_to_string(scopes, ' ') FROM roles WHERE name = 'admin'`), 'tessera:admin ops:x');
  q(`UPDATE roles SET scopes = '{tessera:admin}' WHERE name = 'admin'`);
});

test('role create, list, grant, revoke and delete', () => {
  let r = run(['role', 'create', 'auditor', '--description', 'Reads the audit log', '--scopes', 'audit:read audit:export']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'created role auditor (scopes: audit:read audit:export)\n');
  const created = runJson(['role', 'create', 'viewer']);
  assert.equal(created.name, 'viewer');
  assert.deepEqual(created.scopes, []);
  assert.equal(created.description, null);

  r = run(['role', 'list']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^NAME\s+SCOPES\s+DESCRIPTION$/m);
  assert.match(r.stdout, /^auditor\s+audit:read audit:export\s+Reads the audit log$/m);
  assert.match(r.stdout, /^viewer\s+-\s*$/m);
  assert.match(r.stdout, /^admin\s+tessera:admin\s+Operators/m);

  assert.deepEqual(runJson(['role', 'grant', 'auditor', '--user', 'ALICE']),
    { role: 'auditor', user: 'ALICE', granted: true, changed: true });
  r = run(['role', 'grant', 'auditor', '--user', 'alice']);
  assert.equal(r.status, 0, 'granting a role held already is not an error');
  assert.equal(r.stdout, 'user alice already has role auditor\n');
  assert.deepEqual(runJson(['role', 'grant', 'auditor', '--user', 'alice']).changed, false);
  assert.equal(run(['role', 'grant', 'viewer', '--client', 'gw']).stdout, 'granted role viewer to client gw\n');
  assert.equal(q(`SELECT string_agg(r.name, ',' ORDER BY r.name) FROM user_roles ur JOIN roles r ON r.id = ur.role_id
                  JOIN users u ON u.id = ur.user_id WHERE u.username = 'alice'`), 'auditor');
  const users = runJson(['user', 'list']);
  assert.deepEqual(users.find((u) => u.username === 'alice').roles, ['auditor']);

  r = run(['role', 'revoke', 'auditor', '--user', 'alice']);
  assert.equal(r.stdout, 'revoked role auditor from user alice\n');
  r = run(['role', 'revoke', 'auditor', '--user', 'alice']);
  assert.equal(r.status, 0);
  assert.equal(r.stdout, 'user alice does not have role auditor\n');
  assert.deepEqual(runJson(['role', 'revoke', 'viewer', '--client', 'gw']), { role: 'viewer', client: 'gw', revoked: true, changed: true });

  assert.deepEqual(runJson(['role', 'delete', 'auditor']), { deleted: 'auditor' });
  assert.equal(run(['role', 'delete', 'viewer']).stdout, 'deleted role viewer\n');
  const names = runJson(['role', 'list']).map((x) => x.name);
  assert.ok(!names.includes('auditor') && !names.includes('viewer'), names.join(','));
});

test('role errors: usage exits 2, unknown roles, users and clients exit 1, and nothing changes', () => {
  const snapshot = () => q(`SELECT md5(concat_ws('|',
    (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM roles t),
    (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM user_roles t),
    (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM client_roles t)))`);
  const before = snapshot();
  const usage = [
    [['role'], /usage: tessera role/],
    [['role', 'frobnicate'], /unknown role command 'frobnicate'/],
    [['role', 'create'], /usage: tessera role create NAME/],
    [['role', 'create', 'Bad Role'], /NAME/],
    [['role', 'create', 'x', '--scopes', 'a  b'], /--scopes/],
    [['role', 'create', 'x', '--scopes'], /--scopes needs a value/],
    [['role', 'create', 'x', '--description', 'y'.repeat(501)], /--description/],
    [['role', 'create', 'x', '--colour', 'blue'], /unknown option '--colour'/],
    [['role', 'create', 'x', 'y'], /unexpected argument 'y'/],
    [['role', 'delete'], /usage: tessera role delete NAME/],
    [['role', 'list', 'extra'], /usage: tessera role list/],
    [['role', 'grant', 'reports'], /usage: tessera role grant ROLE --user USERNAME \| --client CLIENT_ID/],
    [['role', 'grant', '--user', 'alice'], /usage: tessera role grant/],
    [['role', 'grant', 'reports', '--user', 'alice', '--client', 'gw'], /one --user or one --client/],
    [['role', 'grant', 'reports', '--user'], /--user needs a value/],
    [['role', 'revoke', 'reports', '--user', 'bad name'], /--user/],
    [['role', 'grant', 'Bad!', '--user', 'alice'], /NAME/],
  ];
  for (const [args, message] of usage) {
    const r = run(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.status} ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    assert.equal(r.stdout, '', args.join(' '));
  }
  const failures = [
    [['role', 'create', 'reports'], /role 'reports' already exists/],
    [['role', 'delete', 'ghost'], /role 'ghost' not found/],
    [['role', 'grant', 'ghost', '--user', 'alice'], /role 'ghost' not found/],
    [['role', 'revoke', 'ghost', '--client', 'gw'], /role 'ghost' not found/],
    [['role', 'grant', 'reports', '--user', 'nobody'], /user 'nobody' not found/],
    [['role', 'grant', 'reports', '--client', 'nobody'], /client 'nobody' not found/],
    [['role', 'revoke', 'reports', '--user', 'nobody'], /user 'nobody' not found/],
  ];
  for (const [args, message] of failures) {
    const r = run(args);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.status} ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
  assert.equal(snapshot(), before);
  // a database that is not there: exit 1
  const down = cli(['role', 'list'], { env: { DATABASE_URL: 'postgresql:///nope?host=/nonexistent' } });
  assert.equal(down.status, 1, down.stderr);
});
