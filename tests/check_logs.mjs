// After a test run: no log line of any server the tests started holds a token, a code, a session, a client
// secret or a password. The tests use real secrets of every kind; if one reaches a log, this finds it.
//   node tests/check_logs.mjs DIR     (DIR: where tests/integration/lib.mjs kept the servers' output)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = process.argv[2];
const top = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const patterns = [
  [/\bts(?:r|ac|ss|cs|i|x|b|ra)_[A-Za-z0-9_-]{43}\b/, 'an opaque handle (refresh token, code, session, secret, registration access token, interaction, CSRF or browser cookie)'],
  [/eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+/, 'a JWT'],
  [/client_secret=|password=|code_verifier=|client_assertion=/i, 'a credential parameter'],
  [/\b(?:Basic|Bearer) [A-Za-z0-9+/=._-]{16,}/, 'an Authorization header value'],
];

/* the literal secrets and passwords written in the tests themselves */
function literals() {
  const found = new Set();
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.name === 'node_modules') continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.m?js$/.test(e.name))
        for (const m of fs.readFileSync(p, 'utf8').matchAll(/(?:password|secret|SECRET)\w*['"]?\s*[:=]\s*'([^'$`\\]{12,})'/g))
          found.add(m[1]);
    }
  };
  walk(path.join(top, 'tests'));
  return [...found];
}

if (!dir || !fs.existsSync(dir)) {
  console.log('check_logs: no server logs were kept');
  process.exit(0);
}
const secrets = literals();
let files = 0, lines = 0, bad = 0;
for (const name of fs.readdirSync(dir)) {
  ++files;
  const text = fs.readFileSync(path.join(dir, name), 'utf8');
  for (const line of text.split('\n')) {
    ++lines;
    const hit = patterns.find(([re]) => re.test(line))?.[1] ?? (secrets.some((s) => line.includes(s)) ? 'a secret from the tests' : null);
    if (hit && bad++ < 20) console.error(`${name}: ${hit}: ${line.slice(0, 300)}`);
  }
}
console.log(`check_logs: ${files} server logs, ${lines} lines, ${secrets.length} literal secrets looked for: ${bad} finding(s)`);
process.exit(bad === 0 ? 0 : 1);
