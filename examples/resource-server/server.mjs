// A small resource API protected by Tessera: notes that belong to people. Every request's bearer token is
// introspected at Tessera (RFC 7662); the answer's scope and roles decide what the caller may do (the access
// matrix below), and its `sub` decides whose notes they are (ownership: no one reaches another person's note by
// guessing its id, OWASP API1:2023 "Broken Object Level Authorization"). Node only, no dependencies.
//
//   TESSERA_ISSUER=http://127.0.0.1:8080 RS_CLIENT_ID=notes-api RS_CLIENT_SECRET=... \
//   RS_AUDIENCE=http://127.0.0.1:8081 PORT=8081 node server.mjs
//
// See README.md next to this file.
import http from 'node:http';
import { fileURLToPath } from 'node:url';

/**
 * The access matrix: for each route, the scope the token must carry, and the roles that may act on any note
 * rather than only their own. Anything not listed is 404.
 */
export const ACCESS = {
  'GET /notes': { scope: 'notes:read', anyOwner: ['admin'] }, // lists the caller's notes (admin: every note)
  'GET /notes/:id': { scope: 'notes:read', anyOwner: ['admin'] }, // admin may read any note
  'PUT /notes/:id': { scope: 'notes:write', anyOwner: [] }, // only the owner writes; a new id becomes the caller's
};

const MAX_BODY = 16 * 1024;
const ID = /^[A-Za-z0-9_-]{1,64}$/;

class HttpError extends Error {
  constructor(status, error, description, headers = {}) {
    super(description);
    Object.assign(this, { status, error, headers });
  }
}

/** the route key of ACCESS for a method and path, and the note id in it */
function route(method, pathname) {
  const m = /^\/notes(?:\/([^/]*))?$/.exec(pathname);
  if (!m) throw new HttpError(404, 'not_found', 'no such resource');
  if (m[1] !== undefined && !ID.test(m[1])) throw new HttpError(404, 'not_found', 'no such note');
  const key = `${method} ${m[1] === undefined ? '/notes' : '/notes/:id'}`;
  if (!ACCESS[key]) {
    const allow = Object.keys(ACCESS).filter((k) => k.endsWith(m[1] === undefined ? ' /notes' : ' /notes/:id')).map((k) => k.split(' ')[0]);
    throw new HttpError(405, 'method_not_allowed', `use ${allow.join(' or ')}`, { allow: allow.join(', ') });
  }
  return { key, id: m[1] };
}

/** RFC 6750 §2.1: the token of "Authorization: Bearer <token>" */
function bearer(req) {
  const m = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(req.headers.authorization ?? '');
  if (!m) throw new HttpError(401, 'invalid_request', 'a bearer token is required', { 'www-authenticate': 'Bearer realm="notes"' });
  return m[1];
}

/**
 * Asks Tessera about token (RFC 7662) as this API's own client, which Tessera registered with may_introspect.
 * Returns the answer when the token is an active access token for this audience; throws 401 otherwise, 503
 * when Tessera cannot be asked.
 */
async function introspect(config, token) {
  const enc = (s) => encodeURIComponent(s).replace(/%20/g, '+'); // RFC 6749 §2.3.1
  let r;
  try {
    r = await fetch(config.introspectionEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json',
        authorization: `Basic ${Buffer.from(`${enc(config.clientId)}:${enc(config.clientSecret)}`).toString('base64')}` },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
      signal: AbortSignal.timeout(5000),
    });
  } catch {
    throw new HttpError(503, 'temporarily_unavailable', 'the authorization server cannot be reached', { 'retry-after': '5' });
  }
  if (r.status !== 200) throw new HttpError(503, 'temporarily_unavailable', `introspection failed (HTTP ${r.status})`);
  const info = await r.json();
  const invalid = (why) => new HttpError(401, 'invalid_token', why, { 'www-authenticate': `Bearer realm="notes", error="invalid_token"` });
  // inactive: expired, revoked, or its user or client disabled; a refresh token is not a bearer token
  if (info.active !== true) throw invalid('the token is not active');
  if (info.token_type !== 'Bearer' || typeof info.sub !== 'string') throw invalid('not an access token');
  const aud = Array.isArray(info.aud) ? info.aud : [info.aud];
  if (config.audience && !aud.includes(config.audience)) throw invalid('the token is for another audience');
  return { sub: info.sub, scopes: (info.scope ?? '').split(' ').filter(Boolean), roles: Array.isArray(info.roles) ? info.roles : [] };
}

/** the matrix's scope for key: throws 403 insufficient_scope (RFC 6750 §3.1) when the token lacks it */
function requireScope(key, caller) {
  const { scope } = ACCESS[key];
  if (!caller.scopes.includes(scope)) {
    throw new HttpError(403, 'insufficient_scope', `${scope} is required`,
      { 'www-authenticate': `Bearer realm="notes", error="insufficient_scope", scope="${scope}"` });
  }
}

/** whether the matrix lets the caller do key on notes that are not theirs */
const onAnyNote = (key, caller) =>
  caller.scopes.includes(ACCESS[key].scope) && ACCESS[key].anyOwner.some((role) => caller.roles.includes(role));

async function readBody(req) {
  const chunks = [];
  let n = 0;
  for await (const c of req) {
    n += c.length;
    if (n > MAX_BODY) throw new HttpError(413, 'too_large', `at most ${MAX_BODY} bytes`);
    chunks.push(c);
  }
  let body;
  try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { body = undefined; }
  if (typeof body?.text !== 'string') throw new HttpError(400, 'invalid_request', 'the body must be JSON {"text": "..."}');
  return body;
}

const view = (id, note) => ({ id, owner: note.owner, text: note.text, updated_at: note.updatedAt });

/**
 * The handlers, after the token and the matrix have passed. Ownership: a note whose owner is not the caller's
 * sub is answered exactly like a note that does not exist (404), so ids cannot be probed; only a role the
 * matrix names for the route (admin for reading) reaches other people's notes.
 */
async function handle(req, key, id, caller, notes) {
  const any = onAnyNote(key, caller);
  if (key === 'GET /notes') {
    const mine = [...notes].filter(([, n]) => any || n.owner === caller.sub);
    return [200, { notes: mine.map(([i, n]) => view(i, n)) }];
  }
  const note = notes.get(id);
  const visible = note !== undefined && (note.owner === caller.sub || any);
  if (key === 'GET /notes/:id') {
    if (!visible) throw new HttpError(404, 'not_found', 'no such note');
    return [200, view(id, note)];
  }
  // PUT: a new id becomes the caller's; an existing note only its owner may change
  if (note !== undefined && note.owner !== caller.sub) {
    // one who may read it (admin) knows it exists: tell them it is read-only for them
    if (onAnyNote('GET /notes/:id', caller)) throw new HttpError(403, 'forbidden', 'you may read this note, not change it');
    throw new HttpError(404, 'not_found', 'no such note');
  }
  const { text } = await readBody(req);
  const updated = { owner: caller.sub, text, updatedAt: new Date().toISOString() };
  notes.set(id, updated);
  return [note === undefined ? 201 : 200, view(id, updated)];
}

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

/**
 * An http.Server serving the notes API. config: {introspectionEndpoint, clientId, clientSecret, audience}
 * (audience: the value the token's aud must contain, e.g. this API's URL requested as an RFC 8707 resource;
 * empty: not checked). notes: the store, a Map id -> {owner, text, updatedAt}.
 */
export function createNotesServer(config, notes = new Map()) {
  return http.createServer(async (req, res) => {
    const { pathname } = new URL(req.url, 'http://localhost');
    try {
      if (req.method === 'GET' && pathname === '/healthz') return send(res, 200, { ok: true });
      const { key, id } = route(req.method, pathname);
      const caller = await introspect(config, bearer(req)); // the roles are the subject's current ones
      requireScope(key, caller);
      const [status, body] = await handle(req, key, id, caller, notes);
      return send(res, status, body);
    } catch (e) {
      if (!(e instanceof HttpError)) {
        console.error(e);
        return send(res, 500, { error: 'server_error' });
      }
      return send(res, e.status, { error: e.error, error_description: e.message }, e.headers);
    }
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const env = process.env;
  const issuer = env.TESSERA_ISSUER ?? 'http://127.0.0.1:8080';
  const config = {
    introspectionEndpoint: env.INTROSPECTION_ENDPOINT ?? `${issuer}/introspect`,
    clientId: env.RS_CLIENT_ID ?? 'notes-api',
    clientSecret: env.RS_CLIENT_SECRET,
    audience: env.RS_AUDIENCE ?? '',
  };
  if (!config.clientSecret) {
    console.error('notes: set RS_CLIENT_SECRET (the secret of the notes API\'s own client at Tessera)');
    process.exit(2);
  }
  const port = Number(env.PORT ?? 8081), host = env.HOST ?? '127.0.0.1';
  const server = createNotesServer(config);
  server.listen(port, host, () => console.log(`notes: listening on http://${host}:${server.address().port}`));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
  process.on('SIGINT', () => server.close(() => process.exit(0)));
}
