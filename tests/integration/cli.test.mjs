// The operator CLI against real PostgreSQL: `tessera client ...`, `tessera user ...` and `tessera apply`.
// Every secret the CLI shows must be absent from the database; every failure must leave it as it was.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cli, createDatabase, sql } from './lib.mjs';

let url, tmp;
const run = (args, opts = {}) => cli(args, { ...opts, env: { DATABASE_URL: url, ...(opts.env ?? {}) } });
const json = (args, opts) => {
  const r = run([...args, '--format', 'json'], opts);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
};
const q = (query) => sql(url, query);
const lit = (s) => `'${s.replaceAll("'", "''")}'`;
let files = 0;
const writeJson = (value) => {
  const f = path.join(tmp, `apply-${++files}.json`);
  writeFileSync(f, typeof value === 'string' ? value : JSON.stringify(value));
  return f;
};

// Everything apply may touch, as one value: equal snapshots mean nothing was written.
const snapshot = () => q(`SELECT md5(concat_ws('|',
    (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM clients t),
    (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM client_secrets t),
    (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM users t),
    (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM roles t),
    (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM user_roles t),
    (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM client_roles t)))`);

// No table holds the raw secret, in any column.
const assertNotStored = (secret) => {
  for (const table of ['clients', 'client_secrets', 'users', 'roles', 'audit_events']) {
    assert.equal(q(`SELECT count(*) FROM ${table} t WHERE t::text LIKE '%' || ${lit(secret)} || '%'`), '0', `${table} holds it`);
  }
  assert.equal(q(`SELECT count(*) FROM client_secrets WHERE secret_hash LIKE '%' || ${lit(secret)} || '%'`), '0');
};

const textSecret = (stdout) => {
  const m = stdout.match(/^client_secret: (\S+)$/m);
  assert.ok(m, `no client_secret line in: ${stdout}`);
  return m[1];
};

before(() => {
  url = createDatabase('cli');
  tmp = mkdtempSync(path.join(process.env.TESSERA_TEST_TMP ?? os.tmpdir(), 'cli-'));
  const m = run(['migrate']);
  assert.equal(m.status, 0, m.stderr);
});

// the apply files hold test passwords and secrets
after(() => rmSync(tmp, { recursive: true, force: true }));

// ---- client -------------------------------------------------------------------------------------

test('client create prints the generated secret once and stores only its hash', () => {
  const r = run(['client', 'create', 'svc-one', '--name', 'Service One', '--scope', 'api:read api:write']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^client_id: svc-one$/m);
  const secret = textSecret(r.stdout);
  assert.match(secret, /^tscs_[A-Za-z0-9_-]{43}$/);
  assertNotStored(secret);
  assert.equal(q(`SELECT count(*) FROM client_secrets s JOIN clients c ON c.id = s.client_pk
                  WHERE c.client_id = 'svc-one' AND s.expires_at IS NULL AND s.secret_hash LIKE 'hs1$%'`), '1');
  // the CLI's defaults
  assert.equal(q(`SELECT token_endpoint_auth_method || ' ' || array_to_string(grant_types, ',') || ' ' || require_pkce
                  || ' ' || array_to_string(scopes, ',') FROM clients WHERE client_id = 'svc-one'`),
  'client_secret_basic client_credentials true api:read,api:write');
});

test('client create --format json gives client_id and client_secret', () => {
  const out = json(['client', 'create', 'svc-json', '--access-token-ttl', '300', '--may-introspect']);
  assert.equal(out.client_id, 'svc-json');
  assert.match(out.client_secret, /^tscs_/);
  assertNotStored(out.client_secret);
  assert.equal(q(`SELECT access_token_ttl || ' ' || may_introspect FROM clients WHERE client_id = 'svc-json'`), '300 true');
});

test('a full web client keeps every option; a public client gets no secret', () => {
  let r = run(['client', 'create', 'web', '--name', 'Web', '--auth-method', 'client_secret_post',
    '--grant-type', 'authorization_code', '--grant-type', 'refresh_token',
    '--redirect-uri', 'https://app.example.com/cb', '--redirect-uri=https://app.example.com/cb2',
    '--post-logout-redirect-uri', 'https://app.example.com/bye', '--scope', 'openid profile', '--default-scope', 'openid',
    '--skip-consent']);
  assert.equal(r.status, 0, r.stderr);
  const shown = json(['client', 'show', 'web']);
  assert.equal(shown.client_id, 'web');
  assert.equal(shown.client_name, 'Web');
  assert.equal(shown.token_endpoint_auth_method, 'client_secret_post');
  assert.deepEqual(shown.grant_types, ['authorization_code', 'refresh_token']);
  assert.deepEqual(shown.redirect_uris, ['https://app.example.com/cb', 'https://app.example.com/cb2']);
  assert.deepEqual(shown.post_logout_redirect_uris, ['https://app.example.com/bye']);
  assert.equal(shown.scope, 'openid profile');
  assert.equal(shown.default_scope, 'openid');
  assert.equal(shown.skip_consent, true);
  assert.equal(shown.require_pkce, true);
  assert.equal(shown.secrets.length, 1);

  r = run(['client', 'create', 'spa', '--auth-method', 'none', '--grant-type', 'authorization_code',
    '--redirect-uri', 'http://127.0.0.1:8080/cb', '--redirect-uri', 'com.example.app:/cb']);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /client_secret/);
  assert.equal(q(`SELECT count(*) FROM client_secrets s JOIN clients c ON c.id = s.client_pk WHERE c.client_id = 'spa'`), '0');
  r = run(['client', 'rotate-secret', 'spa']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no secret/);
});

test('private_key_jwt takes its public keys from --jwks-file and refuses private ones', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pub = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'ES256', use: 'sig' };
  const good = writeJson({ keys: [pub] });
  let r = run(['client', 'create', 'jwt-client', '--auth-method', 'private_key_jwt', '--jwks-file', good]);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /client_secret/);
  assert.equal(q(`SELECT jwks->'keys'->0->>'kid' FROM clients WHERE client_id = 'jwt-client'`), 'k1');

  const priv = writeJson({ keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'k2' }] });
  r = run(['client', 'create', 'jwt-bad', '--auth-method', 'private_key_jwt', '--jwks-file', priv]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /private key material/);
  r = run(['client', 'create', 'jwt-none', '--auth-method', 'private_key_jwt']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /jwks/);
  assert.equal(q(`SELECT count(*) FROM clients WHERE client_id IN ('jwt-bad', 'jwt-none')`), '0');
});

test('client list and show, in text and JSON, never print a secret or its hash', () => {
  const r = run(['client', 'list']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^svc-one\s+active\s+client_secret_basic/m);
  const list = json(['client', 'list']);
  assert.ok(Array.isArray(list));
  assert.ok(list.some((c) => c.client_id === 'web'));
  const text = run(['client', 'show', 'svc-one']);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /^client_name:\s+Service One$/m);
  for (const out of [r.stdout, JSON.stringify(list), text.stdout]) {
    assert.doesNotMatch(out, /hs1\$|tscs_|secret_hash/);
  }
});

test('rotate-secret adds a secret and gives the old ones the grace period', () => {
  const first = json(['client', 'create', 'rot']).client_secret;
  const oldHash = q(`SELECT s.secret_hash FROM client_secrets s JOIN clients c ON c.id = s.client_pk WHERE c.client_id = 'rot'`);

  const r = run(['client', 'rotate-secret', 'rot']);
  assert.equal(r.status, 0, r.stderr);
  const second = textSecret(r.stdout);
  assert.notEqual(second, first);
  assertNotStored(first);
  assertNotStored(second);
  const rows = q(`SELECT s.secret_hash = ${lit(oldHash)}, s.expires_at IS NULL,
                         coalesce(abs(extract(epoch FROM s.expires_at - now()) - 86400) < 120, false)
                  FROM client_secrets s JOIN clients c ON c.id = s.client_pk WHERE c.client_id = 'rot' ORDER BY s.id`);
  // the old hash kept, expiring in 24 h; the new one without expiry
  assert.equal(rows, 't|f|t\nf|t|f');

  // a shorter grace pulls every older deadline in; JSON output
  const out = json(['client', 'rotate-secret', 'rot', '--grace', '1h']);
  assert.match(out.client_secret, /^tscs_/);
  assert.equal(out.client_id, 'rot');
  assertNotStored(out.client_secret);
  assert.equal(q(`SELECT count(*) FROM client_secrets s JOIN clients c ON c.id = s.client_pk WHERE c.client_id = 'rot'
                  AND s.expires_at IS NOT NULL AND abs(extract(epoch FROM s.expires_at - now()) - 3600) < 120`), '2');
  assert.equal(q(`SELECT count(*) FROM client_secrets s JOIN clients c ON c.id = s.client_pk WHERE c.client_id = 'rot'
                  AND s.expires_at IS NULL`), '1');
  assert.equal(json(['client', 'show', 'rot']).secrets.length, 3);

  assert.equal(run(['client', 'rotate-secret', 'rot', '--grace', 'soon']).status, 2);
  const missing = run(['client', 'rotate-secret', 'no-such-client']);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /not found/);
});

test('client delete removes the client and its secrets; unknown clients exit 1', () => {
  json(['client', 'create', 'doomed']);
  const r = run(['client', 'delete', 'doomed']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(q(`SELECT count(*) FROM clients WHERE client_id = 'doomed'`), '0');
  assert.equal(q(`SELECT count(*) FROM client_secrets s WHERE NOT EXISTS (SELECT 1 FROM clients c WHERE c.id = s.client_pk)`),
    '0');
  for (const args of [['client', 'delete', 'doomed'], ['client', 'show', 'doomed']]) {
    const again = run(args);
    assert.equal(again.status, 1, args.join(' '));
    assert.match(again.stderr, /client 'doomed' not found/);
  }
  assert.deepEqual(json(['client', 'delete', 'svc-json']), { deleted: 'svc-json' });
});

test('client disable and enable set the status and nothing else; unknown clients exit 1', () => {
  json(['client', 'create', 'toggle']);
  const row = () => q(`SELECT status FROM clients WHERE client_id = 'toggle'`);
  const secrets = () => q(`SELECT string_agg(s.secret_hash || coalesce(s.expires_at::text, ''), ',' ORDER BY s.id)
                           FROM client_secrets s JOIN clients c ON c.id = s.client_pk WHERE c.client_id = 'toggle'`);
  const before = secrets();
  let r = run(['client', 'disable', 'toggle']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'client toggle disabled\n');
  assert.equal(row(), 'disabled');
  assert.equal(json(['client', 'show', 'toggle']).status, 'disabled');
  assert.match(run(['client', 'list']).stdout, /^toggle\s+disabled\s/m);
  // disabling twice is not an error
  assert.deepEqual(json(['client', 'disable', 'toggle']), { client_id: 'toggle', status: 'disabled' });
  r = run(['client', 'enable', 'toggle']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'client toggle enabled\n');
  assert.equal(row(), 'active');
  assert.deepEqual(json(['client', 'disable', 'toggle']), { client_id: 'toggle', status: 'disabled' });
  assert.deepEqual(json(['client', 'enable', 'toggle']), { client_id: 'toggle', status: 'active' });
  assert.equal(row(), 'active');
  assert.equal(secrets(), before, 'the secrets changed');

  for (const cmd of ['disable', 'enable']) {
    const missing = run(['client', cmd, 'no-such-client']);
    assert.equal(missing.status, 1, cmd);
    assert.match(missing.stderr, /client 'no-such-client' not found/);
    assert.equal(missing.stdout, '');
    const usage = [[], ['a', 'b'], ['--force']].map((extra) => run(['client', cmd, ...extra]));
    for (const u of usage) {
      assert.equal(u.status, 2, `${cmd}: ${u.stderr}`);
      assert.match(u.stderr, new RegExp(`usage: tessera client ${cmd} CLIENT_ID`));
      assert.equal(u.stdout, '');
    }
  }
  assert.equal(row(), 'active');
});

test('client usage errors exit 2 and say what is wrong', () => {
  const before = snapshot();
  const cases = [
    [['client'], /usage/],
    [['client', 'frobnicate'], /unknown client command/],
    [['client', 'create'], /CLIENT_ID/],
    [['client', 'create', 'x', '--bogus'], /unknown option '--bogus'/],
    [['client', 'create', 'x', '--grant-type'], /--grant-type needs a value/],
    [['client', 'create', 'x', 'y'], /unexpected argument/],
    [['client', 'create', 'bad id'], /client_id/],
    [['client', 'create', 'x', '--grant-type', 'password'], /grant_types\[0\]/],
    [['client', 'create', 'x', '--grant-type', 'authorization_code'], /redirect_uris/],
    [['client', 'create', 'x', '--grant-type', 'authorization_code', '--redirect-uri', 'http://example.com/cb'],
      /redirect_uris\[0\].*https/],
    [['client', 'create', 'x', '--grant-type', 'authorization_code', '--redirect-uri', 'https://a.example/cb#x'],
      /fragment/],
    [['client', 'create', 'x', '--grant-type', 'authorization_code', '--redirect-uri', 'https://*.example/cb'],
      /wildcard/],
    [['client', 'create', 'x', '--auth-method', 'none'], /client_credentials/],
    [['client', 'create', 'x', '--auth-method', 'magic'], /token_endpoint_auth_method/],
    [['client', 'create', 'x', '--scope', 'a  b'], /scope/],
    [['client', 'create', 'x', '--scope', 'a', '--default-scope', 'b'], /default_scope/],
    [['client', 'create', 'x', '--access-token-ttl', '5'], /--access-token-ttl/],
    [['client', 'show'], /usage/],
    [['client', 'list', 'extra'], /usage/],
  ];
  for (const [args, message] of cases) {
    const r = run(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    assert.equal(r.stdout, '');
  }
  assert.equal(snapshot(), before);
});

test('a duplicate client_id exits 1 with "already exists"', () => {
  const r = run(['client', 'create', 'svc-one']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /client 'svc-one' already exists/);
  assert.doesNotMatch(r.stdout, /tscs_/);
});

// ---- user ---------------------------------------------------------------------------------------

test('user create reads the password from stdin and stores an argon2id hash', () => {
  let r = run(['user', 'create', 'alice', '--email', 'alice@example.com', '--name', 'Alice'], { input: 'correct horse battery\n' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /created user alice \(subject [0-9a-f-]{36}\)/);
  assert.match(q(`SELECT password_hash FROM users WHERE username = 'alice'`), /^\$argon2id\$/);
  assertNotStored('correct horse battery');

  const out = json(['user', 'create', 'bob'], { input: 'bob-password-1\n' });
  assert.equal(out.username, 'bob');
  assert.match(out.subject, /^[0-9a-f-]{36}$/);

  r = run(['user', 'create', 'ALICE'], { input: 'whatever-password\n' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /already exists/);
});

test('user create with roles needs the roles to exist', () => {
  let r = run(['user', 'create', 'carol', '--role', 'no-such-role'], { input: 'carol-password\n' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /unknown role 'no-such-role'/);
  assert.equal(q(`SELECT count(*) FROM users WHERE username = 'carol'`), '0');

  q(`INSERT INTO roles (name, scopes) VALUES ('staff', '{api:read}')`);
  r = run(['user', 'create', 'carol', '--role', 'staff'], { input: 'carol-password\n' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(q(`SELECT r.name FROM user_roles ur JOIN users u ON u.id = ur.user_id JOIN roles r ON r.id = ur.role_id
                  WHERE u.username = 'carol'`), 'staff');
});

test('user passwd replaces the hash; disable and enable set the status', () => {
  const before = q(`SELECT password_hash FROM users WHERE username = 'alice'`);
  let r = run(['user', 'passwd', 'alice'], { input: 'a new long password\n' });
  assert.equal(r.status, 0, r.stderr);
  const after = q(`SELECT password_hash FROM users WHERE username = 'alice'`);
  assert.notEqual(after, before);
  assert.match(after, /^\$argon2id\$/);

  r = run(['user', 'disable', 'alice']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(q(`SELECT status FROM users WHERE username = 'alice'`), 'disabled');
  assert.deepEqual(json(['user', 'enable', 'Alice']), { username: 'Alice', status: 'active' });
  assert.equal(q(`SELECT status FROM users WHERE username = 'alice'`), 'active');
});

test('user list shows users without password hashes', () => {
  const r = run(['user', 'list']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^alice\s+active\s+[0-9a-f-]{36}\s+alice@example\.com/m);
  const users = json(['user', 'list']);
  const carol = users.find((u) => u.username === 'carol');
  assert.deepEqual(carol.roles, ['staff']);
  for (const out of [r.stdout, JSON.stringify(users)]) assert.doesNotMatch(out, /argon2|password_hash/);
});

test('user errors: usage exits 2, unknown users exit 1, weak or missing passwords are refused', () => {
  const before = snapshot();
  const usage = [
    [['user'], /usage/],
    [['user', 'create'], /USERNAME/],
    [['user', 'create', 'dave', '--email'], /--email needs a value/],
    [['user', 'create', 'dave', '--email', 'not-an-address'], /--email/],
    [['user', 'create', 'bad name'], /USERNAME/],
    [['user', 'create', 'dave', '--role', 'Bad Role'], /--role/],
    [['user', 'disable'], /usage/],
  ];
  for (const [args, message] of usage) {
    const r = run(args, { input: 'long-enough-password\n' });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  let r = run(['user', 'create', 'dave'], { input: 'short\n' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /8 to 1024 characters/);
  r = run(['user', 'create', 'dave'], { input: '' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /password/);
  for (const args of [['user', 'passwd', 'nobody'], ['user', 'disable', 'nobody'], ['user', 'enable', 'nobody']]) {
    r = run(args, { input: 'long-enough-password\n' });
    assert.equal(r.status, 1, args.join(' '));
    assert.match(r.stderr, /user 'nobody' not found/);
  }
  assert.equal(snapshot(), before);
});

// ---- apply --------------------------------------------------------------------------------------

const FILE_SECRET = 'file-secret-0123456789abcdefghijklmnop';
const baseFile = () => ({
  roles: [
    // not 'admin': sql/005_default_roles.sql creates that one, and apply would count it as updated
    { name: 'operator', scopes: ['ops:read', 'ops:write'], description: 'Operators' },
    { name: 'reader', scopes: ['api:read'] },
  ],
  clients: [
    { client_id: 'apply-web', client_name: 'Apply Web', client_secret: FILE_SECRET,
      grant_types: ['authorization_code', 'refresh_token'], redirect_uris: ['https://web.example.com/cb'],
      scope: 'openid profile', default_scope: 'openid', roles: ['reader'] },
    { client_id: 'apply-spa', token_endpoint_auth_method: 'none', grant_types: ['authorization_code'],
      redirect_uris: ['http://localhost:5173/cb'], scope: 'openid' },
    { client_id: 'apply-m2m', scope: 'api:read', roles: ['operator', 'reader'], access_token_ttl: 600, may_introspect: true },
  ],
  users: [
    { username: 'erin', password: 'erin-password-1', email: 'erin@example.com', name: 'Erin', roles: ['operator'] },
  ],
});

test('apply creates, then applying the same file again changes nothing', () => {
  const file = writeJson(baseFile());
  const r = run(['apply', file]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^roles: 2 created, 0 updated, 0 unchanged$/m);
  assert.match(r.stdout, /^clients: 3 created, 0 updated, 0 unchanged$/m);
  assert.match(r.stdout, /^users: 1 created, 0 updated, 0 unchanged$/m);
  // the secret-based client without a secret in the file got one, shown once
  const m = r.stdout.match(/^client_secret for apply-m2m: (tscs_\S+)$/m);
  assert.ok(m, r.stdout);
  assertNotStored(m[1]);
  assertNotStored(FILE_SECRET);
  assertNotStored('erin-password-1');
  assert.doesNotMatch(r.stdout, /apply-web|apply-spa/);
  assert.equal(q(`SELECT count(*) FROM client_secrets s JOIN clients c ON c.id = s.client_pk WHERE c.client_id = 'apply-spa'`),
    '0');
  assert.equal(q(`SELECT string_agg(r.name, ',' ORDER BY r.name) FROM client_roles cr JOIN clients c ON c.id = cr.client_pk
                  JOIN roles r ON r.id = cr.role_id WHERE c.client_id = 'apply-m2m'`), 'operator,reader');

  const before = snapshot();
  const out = json(['apply', file]);
  assert.deepEqual(out, {
    roles: { created: 0, updated: 0, unchanged: 2 },
    clients: { created: 0, updated: 0, unchanged: 3 },
    users: { created: 0, updated: 0, unchanged: 1 },
  });
  assert.equal(snapshot(), before, 'a second apply wrote something');
});

test('apply updates what changed and only that', () => {
  const file = baseFile();
  file.roles[0].description = 'Ops';
  file.clients[0].redirect_uris.push('https://web.example.com/cb2');
  file.users[0].roles = ['operator', 'reader'];
  const before = q(`SELECT string_agg(secret_hash, ',' ORDER BY id) FROM client_secrets`);
  const out = json(['apply', writeJson(file)]);
  assert.deepEqual(out.roles, { created: 0, updated: 1, unchanged: 1 });
  assert.deepEqual(out.clients, { created: 0, updated: 1, unchanged: 2 });
  assert.deepEqual(out.users, { created: 0, updated: 1, unchanged: 0 });
  assert.equal(out.secrets, undefined);
  assert.equal(q(`SELECT description FROM roles WHERE name = 'operator'`), 'Ops');
  assert.equal(q(`SELECT array_length(redirect_uris, 1) FROM clients WHERE client_id = 'apply-web'`), '2');
  assert.equal(q(`SELECT string_agg(secret_hash, ',' ORDER BY id) FROM client_secrets`), before, 'secrets were rewritten');
});

test('apply replaces a secret or password only when the file gives a different one', () => {
  const file = baseFile();
  file.roles[0].description = 'Ops';
  file.clients[0].redirect_uris.push('https://web.example.com/cb2');
  file.users[0].roles = ['operator', 'reader'];
  const oldHash = q(`SELECT s.secret_hash FROM client_secrets s JOIN clients c ON c.id = s.client_pk
                     WHERE c.client_id = 'apply-web'`);
  const oldPassword = q(`SELECT password_hash FROM users WHERE username = 'erin'`);
  const newSecret = 'another-file-secret-abcdefghijklmnopqrstuvwxyz';
  file.clients[0].client_secret = newSecret;
  file.users[0].password = 'erin-password-2';
  const out = json(['apply', writeJson(file)]);
  assert.deepEqual(out.clients, { created: 0, updated: 1, unchanged: 2 });
  assert.deepEqual(out.users, { created: 0, updated: 1, unchanged: 0 });
  const hashes = q(`SELECT s.secret_hash FROM client_secrets s JOIN clients c ON c.id = s.client_pk
                    WHERE c.client_id = 'apply-web'`);
  assert.equal(hashes.split('\n').length, 1);
  assert.notEqual(hashes, oldHash);
  assertNotStored(newSecret);
  assert.notEqual(q(`SELECT password_hash FROM users WHERE username = 'erin'`), oldPassword);
  const again = json(['apply', writeJson(file)]);
  assert.deepEqual(again.clients, { created: 0, updated: 0, unchanged: 3 });
  assert.deepEqual(again.users, { created: 0, updated: 0, unchanged: 1 });
});

test('apply keeps a status set outside the file when the file says nothing about it', () => {
  const file = baseFile();
  file.roles[0].description = 'Ops';
  file.clients[0].redirect_uris.push('https://web.example.com/cb2');
  file.clients[0].client_secret = 'another-file-secret-abcdefghijklmnopqrstuvwxyz';
  file.users[0].roles = ['operator', 'reader'];
  file.users[0].password = 'erin-password-2';
  assert.equal(run(['user', 'disable', 'erin']).status, 0);
  let out = json(['apply', writeJson(file)]);
  assert.deepEqual(out.users, { created: 0, updated: 0, unchanged: 1 });
  assert.equal(q(`SELECT status FROM users WHERE username = 'erin'`), 'disabled');
  file.users[0].status = 'active';
  file.clients[2].status = 'disabled';
  out = json(['apply', writeJson(file)]);
  assert.deepEqual(out.users, { created: 0, updated: 1, unchanged: 0 });
  assert.equal(q(`SELECT status FROM users WHERE username = 'erin'`), 'active');
  assert.equal(q(`SELECT status FROM clients WHERE client_id = 'apply-m2m'`), 'disabled');
});

test('an invalid file exits non-zero, names the problem and writes nothing', () => {
  const before = snapshot();
  const variant = (change) => { const f = baseFile(); change(f); f.roles.push({ name: 'brand-new-role' }); return f; };
  const cases = [
    ['unknown top-level field', { ...baseFile(), groups: [] }, /unknown field 'groups'/],
    ['unknown client field', variant((f) => { f.clients[0].colour = 'blue'; }), /clients\[0\].*unknown field 'colour'/],
    ['unknown user field', variant((f) => { f.users[0].admin = true; }), /users\[0\].*unknown field 'admin'/],
    ['short secret', variant((f) => { f.clients[0].client_secret = 'too-short'; }), /client_secret/],
    ['bad redirect URI', variant((f) => { f.clients[0].redirect_uris = ['http://web.example.com/cb']; }), /redirect_uris\[0\]/],
    ['unknown role', variant((f) => { f.clients[1].roles = ['ghost']; }), /apply-spa.*unknown role 'ghost'/],
    ['unknown role for a user', variant((f) => { f.users[0].roles = ['ghost']; }), /erin.*unknown role 'ghost'/],
    ['secret for a public client', variant((f) => { f.clients[1].client_secret = FILE_SECRET; }), /client_secret/],
    ['missing client_id', variant((f) => { delete f.clients[0].client_id; }), /clients\[0\]: client_id: required/],
    ['duplicate client', variant((f) => { f.clients.push({ client_id: 'apply-web' }); }), /apply-web.*twice/],
    ['duplicate user ignoring case', variant((f) => { f.users.push({ username: 'ERIN', password: 'xxxxxxxxxx' }); }),
      /twice/],
    ['wrong type', variant((f) => { f.clients[0].skip_consent = 'yes'; }), /skip_consent/],
    ['new user without password', variant((f) => { f.users.push({ username: 'frank' }); }), /frank.*password/],
    ['roles not an array', { roles: {} }, /roles: expected an array/],
    ['not JSON', '{"roles": [', /apply-\d+\.json:\d+:\d+/],
    ['duplicate key', '{"roles": [], "roles": []}', /duplicate/],
    ['too large', JSON.stringify({ roles: [{ name: 'x', description: 'y'.repeat(1024 * 1024) }] }), /larger than/],
  ];
  for (const [name, content, message] of cases) {
    const r = run(['apply', writeJson(content)]);
    assert.notEqual(r.status, 0, `${name}: exit 0`);
    assert.match(r.stderr, message, name);
    assert.equal(r.stdout, '', name);
    assert.equal(snapshot(), before, `${name}: something was written`);
  }
  assert.equal(q(`SELECT count(*) FROM roles WHERE name = 'brand-new-role'`), '0');
  let r = run(['apply']);
  assert.equal(r.status, 2);
  r = run(['apply', path.join(tmp, 'missing.json')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /cannot open/);
});

test('apply output in JSON carries the generated secrets under "secrets"', () => {
  const out = json(['apply', writeJson({ clients: [{ client_id: 'apply-new', scope: 'api:read' }] })]);
  assert.deepEqual(out.clients, { created: 1, updated: 0, unchanged: 0 });
  assert.deepEqual(Object.keys(out.secrets), ['apply-new']);
  assert.match(out.secrets['apply-new'], /^tscs_/);
  assertNotStored(out.secrets['apply-new']);
  // switching to a public client removes its secrets; switching back generates a new one
  let again = json(['apply', writeJson({ clients: [{ client_id: 'apply-new', token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code'], redirect_uris: ['https://x.example/cb'] }] })]);
  assert.deepEqual(again.clients, { created: 0, updated: 1, unchanged: 0 });
  assert.equal(q(`SELECT count(*) FROM client_secrets s JOIN clients c ON c.id = s.client_pk WHERE c.client_id = 'apply-new'`),
    '0');
  again = json(['apply', writeJson({ clients: [{ client_id: 'apply-new', scope: 'api:read' }] })]);
  assert.match(again.secrets['apply-new'], /^tscs_/);
});
