/**
 * The benchmark's baseline: the endpoints the scenarios exercise, written with raw `pg` on `node:http`,
 * as a careful developer would without a framework or an ORM. It is what the app is measured against,
 * so it must do the same work honestly: the same pool size, the same JSON shapes (issue 3), bound
 * parameters, BEGIN/COMMIT around writes, soft-delete filters, and validation that rejects bad input
 * with 400 (404 when missing, 409 on a taken email, 422 for a missing author).
 *
 * Access control as in the app (issue 10): reads are anonymous, so users come without `email` and with
 * their published posts only. Writes need `Authorization: Bearer <access token>`: the same JWT the app
 * issues, verified with the same library and options (HS256 only, issuer, audience, expiry), then the
 * same one-statement check that its login session is live (401 otherwise), then the policy: a user
 * posts as themselves and changes only themselves, admins anyone (403 otherwise).
 *
 * It covers only the subset of the contract the benchmark touches; any other query parameter is a 400,
 * and so is a token on a read (reads with a token, which the app also serves, are not implemented).
 *
 * Env: DATABASE_URL, PORT, HOST (default 127.0.0.1), DB_POOL_MAX (default 10), JWT_SECRET, JWT_ISSUER,
 * JWT_AUDIENCE (required: the harness passes the app's values).
 */
import { createHmac, hkdfSync, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import jwt from 'jsonwebtoken';
import { Pool, type PoolClient } from 'pg';

const MAX_INT = 2_147_483_647;
const MAX_BODY_BYTES = 1024 * 1024;
const DEFAULT_POSTS_LIMIT = 10;
const MAX_POSTS_LIMIT = 50;
const MAX_EMBEDDED_POSTS = 200;

// Anonymous readers never see an email, so reads do not fetch it (a user who changed themselves gets theirs).
const PUBLIC_USER_COLUMNS = 'id, name, role, "createdAt", "updatedAt"';
const POST_COLUMNS = 'id, title, body, published, "authorId", "createdAt", "updatedAt"';

// Fixed statements: the only variable parts are bound parameters. Anonymous readers see published posts only.
const SQL = {
  // The app's check of an access token's login session (src/sessions/sessions.service.ts), word for word.
  liveSession: 'SELECT 1 FROM sessions WHERE id = $1 AND "userId" = $2 AND "revokedAt" IS NULL AND "expiresAt" > now()',
  userById: `SELECT ${PUBLIC_USER_COLUMNS} FROM users WHERE id = $1 AND "deletedAt" IS NULL`,
  countUsers: 'SELECT count(*)::int AS total FROM users WHERE "deletedAt" IS NULL',
  // Pages read one row more than they return: whether it exists says whether a next page (and its cursor) does.
  pageUsers: `SELECT ${PUBLIC_USER_COLUMNS} FROM users WHERE "deletedAt" IS NULL ORDER BY "createdAt" DESC, id DESC LIMIT $1 OFFSET $2`,
  // include=posts (issue 11), the app's statement (src/posts/posts.service.ts latestByAuthors) for an anonymous reader:
  // per user, how many published posts they have and the newest $2 of them (posts_author_id_created_at_id_live).
  latestPublishedPostsOfUsers: `SELECT a.id AS "ownerId", c."postCount", latest.*
    FROM unnest($1::int[]) AS a(id)
    CROSS JOIN LATERAL (SELECT count(*)::int AS "postCount" FROM posts p WHERE p."authorId" = a.id AND p."deletedAt" IS NULL AND p.published) c
    LEFT JOIN LATERAL (
      SELECT ${POST_COLUMNS} FROM posts p WHERE p."authorId" = a.id AND p."deletedAt" IS NULL AND p.published ORDER BY p."createdAt" DESC, p.id DESC LIMIT $2
    ) latest ON TRUE
    ORDER BY a.id, latest."createdAt" DESC, latest.id DESC`,
  countPublishedPosts: 'SELECT count(*)::int AS total FROM posts WHERE published AND "deletedAt" IS NULL',
  pagePublishedPosts: `SELECT ${POST_COLUMNS} FROM posts WHERE published AND "deletedAt" IS NULL ORDER BY "createdAt" DESC, id DESC LIMIT $1 OFFSET $2`,
  // A cursor page (issue 15): the rows after the cursor's (createdAt, id), as one would write it by hand.
  pagePublishedPostsAfter: `SELECT ${POST_COLUMNS} FROM posts WHERE published AND "deletedAt" IS NULL AND ("createdAt", id) < ($2, $3)
    ORDER BY "createdAt" DESC, id DESC LIMIT $1`,
  // q (issue 11): the app's filter, a case-insensitive substring of title or body, which the pg_trgm GIN indexes
  // posts_title_trgm_live and posts_body_trgm_live serve; $1 is the pattern of containsPattern below.
  // As the app sends it (the Post model's `matching` scope): the indexes searched with the term's first 32 characters
  // ($1, a LIKE pattern), the whole term ($2) rechecked by posts_text_contains (see the migration for its cost).
  countMatchingPosts: `SELECT count(*)::int AS total FROM posts WHERE (title ILIKE $1 OR body ILIKE $1)
    AND posts_text_contains(title, body, $2) = true AND published AND "deletedAt" IS NULL`,
  pageMatchingPosts: `SELECT ${POST_COLUMNS} FROM posts WHERE (title ILIKE $1 OR body ILIKE $1)
    AND posts_text_contains(title, body, $2) = true AND published AND "deletedAt" IS NULL
    ORDER BY "createdAt" DESC, id DESC LIMIT $3 OFFSET $4`,
  // The author check rides on the INSERT itself: no row inserted means no live author (the FK alone
  // would accept a soft-deleted one).
  insertPost: `INSERT INTO posts (title, body, published, "authorId", "createdAt", "updatedAt")
    SELECT $1::varchar, $2::text, $3::boolean, $4::int, now(), now()
    WHERE EXISTS (SELECT 1 FROM users WHERE id = $4::int AND "deletedAt" IS NULL)
    RETURNING ${POST_COLUMNS}`,
  // The previous role comes back with the new row (locked and read in the same statement): a role that actually
  // changed ends the user's sessions, as in the app.
  updateUser: `UPDATE users u SET
      name = COALESCE($2, u.name),
      email = COALESCE($3, u.email),
      role = COALESCE($4, u.role),
      "updatedAt" = now()
    FROM (SELECT id, role FROM users WHERE id = $1 AND "deletedAt" IS NULL FOR UPDATE) previous
    WHERE u.id = previous.id
    RETURNING u.id, u.name, u.email, u.role, u."createdAt", u."updatedAt", previous.role AS "previousRole"`,
  // The audit trail (issue 14): one row per changed row, in the write's transaction, as the app's hooks write it.
  insertAudit: `INSERT INTO audit_events ("actorId", action, "tableName", "rowId", changes, "requestId") VALUES ($1, $2, $3, $4, $5, $6)`,
  revokeSessions: 'UPDATE sessions SET "revokedAt" = now(), "updatedAt" = now() WHERE "userId" = $1 AND "revokedAt" IS NULL',
} as const;

class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string | string[],
  ) {
    super(Array.isArray(message) ? message.join('; ') : message);
    this.messages = message;
  }
  readonly messages: string | string[];
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  500: 'Internal Server Error',
};

const pool = new Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.DB_POOL_MAX ?? 10),
});

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    console.error(`baseline: ${name} must be set (the harness passes the app's value)`);
    process.exit(1);
  }
  return value;
}

// The app's verification options (src/auth/tokens.service.ts): the algorithm pinned, issuer and audience checked;
// jsonwebtoken checks exp and nbf itself.
const JWT_SECRET = required('JWT_SECRET');
const VERIFY_OPTIONS: jwt.VerifyOptions & { complete?: false } = {
  algorithms: ['HS256'],
  issuer: required('JWT_ISSUER'),
  audience: required('JWT_AUDIENCE'),
};
// Page cursors as the app writes them (src/common/pagination/paginator.ts): the last row's sort keys, and an HMAC over
// them and what the list was asked for, with the key the app derives from the same JWT_SECRET; so one cursor serves both.
const CURSOR_KEY = Buffer.from(hkdfSync('sha256', Buffer.from(JWT_SECRET), Buffer.alloc(0), 'page cursor v1', 32));
const NEWEST_FIRST = [
  ['createdAt', 'DESC'],
  ['id', 'DESC'],
];
const CURSOR = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** As the app's Paginator: the list's name, its order and the filters that decide its rows. */
function cursorBinding(list: string, filters: Array<[string, unknown]>): string {
  return JSON.stringify([list, NEWEST_FIRST, filters]);
}

function cursorMac(payload: string, binding: string): Buffer {
  return createHmac('sha256', CURSOR_KEY).update(binding).update('\0').update(payload).digest();
}

/** The page of `rows` (read with one row more than `limit`) and the cursor after it, null on the last page. */
function pageOf<T extends { createdAt: Date; id: number }>(rows: T[], limit: number, binding: string): { data: T[]; nextCursor: string | null } {
  if (rows.length <= limit) return { data: rows, nextCursor: null };
  const data = rows.slice(0, limit);
  const last = data[limit - 1];
  const payload = Buffer.from(JSON.stringify([last.createdAt.toISOString(), last.id])).toString('base64url');
  return { data, nextCursor: `${payload}.${cursorMac(payload, binding).toString('base64url')}` };
}

function parseCursor(params: URLSearchParams, binding: string): [string, number] | undefined {
  const values = params.getAll('cursor');
  if (values.length === 0) return undefined;
  const invalid = new HttpError(400, 'cursor is not valid for this list');
  if (values.length > 1 || values[0].length > 2048 || !CURSOR.test(values[0])) throw invalid;
  const [payload, mac] = values[0].split('.');
  const given = Buffer.from(mac, 'base64url');
  const expected = cursorMac(payload, binding);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid;
  const keys = JSON.parse(Buffer.from(payload, 'base64url').toString()) as unknown;
  if (!Array.isArray(keys) || keys.length !== 2 || typeof keys[0] !== 'string' || typeof keys[1] !== 'number') throw invalid;
  return [keys[0], keys[1]];
}

const BEARER = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*) *$/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Actor {
  id: number;
  role: 'user' | 'admin';
  sessionId: string;
}

/** The actor a token names, or undefined when it is not a valid, current access token (the app's rules). */
function verifyAccessToken(token: string): Actor | undefined {
  let claims: jwt.JwtPayload | string;
  try {
    claims = jwt.verify(token, JWT_SECRET, VERIFY_OPTIONS);
  } catch {
    return undefined;
  }
  if (typeof claims !== 'object') return undefined;
  const id = typeof claims.sub === 'string' && /^[1-9]\d{0,9}$/.test(claims.sub) ? Number(claims.sub) : NaN;
  if (!Number.isSafeInteger(id) || typeof claims.sid !== 'string' || !UUID.test(claims.sid)) return undefined;
  if (claims.role !== 'user' && claims.role !== 'admin') return undefined;
  return { id, role: claims.role, sessionId: claims.sid };
}

/** The caller of a write: a valid access token whose login session is live (one statement), else 401. */
async function authenticate(req: IncomingMessage): Promise<Actor> {
  const header = req.headers.authorization;
  if (header === undefined) throw new HttpError(401, 'Authentication required: send Authorization: Bearer <access token>');
  const token = BEARER.exec(header)?.[1];
  if (!token) throw new HttpError(401, 'The Authorization header must be "Bearer <access token>"');
  const actor = verifyAccessToken(token);
  if (!actor) throw new HttpError(401, 'Invalid or expired access token');
  const { rowCount } = await pool.query(SQL.liveSession, [actor.sessionId, actor.id]);
  if (!rowCount) throw new HttpError(401, 'The session of this access token has ended: log in again');
  return actor;
}

/** Reads are served to anonymous callers only (see the top of the file). */
function rejectToken(req: IncomingMessage): void {
  if (req.headers.authorization !== undefined) throw new HttpError(400, 'this baseline serves anonymous reads only');
}

/**
 * The response headers every API answer of the app carries (its @fastify/helmet configuration and Cache-Control,
 * src/app.setup.ts), sent here too so that both servers put the same bytes on the wire.
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self';script-src 'self';style-src 'self' 'unsafe-inline';img-src 'self' data:;font-src 'self' data:;connect-src 'self';object-src 'none';base-uri 'self';form-action 'self';frame-ancestors 'none'",
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
  'cache-control': 'no-store',
};

function send(res: ServerResponse, status: number, payload: unknown): void {
  const body = JSON.stringify(payload);
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function sendError(res: ServerResponse, status: number, message: string | string[]): void {
  send(res, status, { statusCode: status, error: REASONS[status] ?? 'Error', message });
}

/** A positive 32-bit integer written in plain decimal, or undefined. */
function parseId(raw: string | null | undefined): number | undefined {
  if (raw == null || !/^[1-9][0-9]{0,9}$/.test(raw)) return undefined;
  const value = Number(raw);
  return value <= MAX_INT ? value : undefined;
}

function parseIntParam(params: URLSearchParams, name: string, min: number, max: number, fallback: number): number {
  const raw = params.get(name);
  if (raw === null) return fallback;
  if (!/^(0|[1-9][0-9]{0,9})$/.test(raw)) throw new HttpError(400, `${name} must be an integer`);
  const value = Number(raw);
  if (value < min || value > max) throw new HttpError(400, `${name} must be between ${min} and ${max}`);
  return value;
}

function parseBooleanParam(params: URLSearchParams, name: string): boolean | undefined {
  const raw = params.get(name);
  if (raw === null) return undefined;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new HttpError(400, `${name} must be true or false`);
}

function rejectUnknownParams(params: URLSearchParams, allowed: readonly string[]): void {
  const seen = new Set<string>();
  for (const key of params.keys()) {
    if (!allowed.includes(key)) throw new HttpError(400, `unknown query parameter ${key}`);
    if (seen.has(key)) throw new HttpError(400, `${key} given more than once`);
    seen.add(key);
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) throw new HttpError(415, 'content-type must be application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'request body too large');
    chunks.push(chunk);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'body is not valid JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new HttpError(400, 'body must be a JSON object');
  return value as Record<string, unknown>;
}

function checkKeys(body: Record<string, unknown>, allowed: readonly string[]): string[] {
  return Object.keys(body)
    .filter((key) => !allowed.includes(key))
    .map((key) => `property ${key} should not exist`);
}

function isString(value: unknown, min: number, max: number): value is string {
  return typeof value === 'string' && value.length >= min && value.length <= max;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

async function inTransaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

async function getUser(req: IncomingMessage, res: ServerResponse, rawId: string, params: URLSearchParams): Promise<void> {
  rejectToken(req);
  rejectUnknownParams(params, []);
  const id = parseId(rawId);
  if (id === undefined) throw new HttpError(400, 'id must be a positive integer');
  const { rows } = await pool.query(SQL.userById, [id]);
  if (rows.length === 0) throw new HttpError(404, `user ${id} not found`);
  send(res, 200, rows[0]);
}

async function listUsers(req: IncomingMessage, res: ServerResponse, params: URLSearchParams): Promise<void> {
  rejectToken(req);
  rejectUnknownParams(params, ['limit', 'offset', 'include', 'published', 'postsLimit']);
  const limit = parseIntParam(params, 'limit', 1, 100, 20);
  const offset = parseIntParam(params, 'offset', 0, MAX_INT, 0);
  const include = params.get('include');
  if (include !== null && include !== 'posts') throw new HttpError(400, 'include must be posts');
  const published = parseBooleanParam(params, 'published');
  if (published !== undefined && include === null) throw new HttpError(400, 'published needs include=posts');
  // The app's bounds (src/users/dto/user-query.dto.ts): 10 posts per user unless asked, at most 200 per page.
  const postsLimit = parseIntParam(params, 'postsLimit', 1, MAX_POSTS_LIMIT, Math.min(DEFAULT_POSTS_LIMIT, Math.floor(MAX_EMBEDDED_POSTS / limit)));
  if (params.has('postsLimit') && include === null) throw new HttpError(400, 'postsLimit needs include=posts');
  if (postsLimit * limit > MAX_EMBEDDED_POSTS) throw new HttpError(400, `limit × postsLimit must not exceed ${MAX_EMBEDDED_POSTS}`);

  const [count, page] = await Promise.all([pool.query(SQL.countUsers), pool.query(SQL.pageUsers, [limit + 1, offset])]);
  // include, postsLimit and published shape the embedded posts, not which users the list holds: no binding.
  const { data, nextCursor } = pageOf(page.rows as Array<{ id: number; createdAt: Date }>, limit, cursorBinding('users', []));
  const users = data as Array<Record<string, unknown> & { id: number; postCount?: number; posts?: unknown[] }>;
  if (include === 'posts' && users.length > 0) {
    const byAuthor = new Map<number, (typeof users)[number]>();
    for (const user of users) {
      user.postCount = 0;
      user.posts = [];
      byAuthor.set(user.id, user);
    }
    // published=false asks an anonymous caller's question with a known answer: no drafts are visible.
    if (published !== false) {
      const { rows } = await pool.query(SQL.latestPublishedPostsOfUsers, [users.map((user) => user.id), postsLimit]);
      for (const { ownerId, postCount, ...post } of rows) {
        const user = byAuthor.get(ownerId)!;
        user.postCount = postCount;
        if (post.id !== null) user.posts!.push(post);
      }
    }
  }
  send(res, 200, { data: users, meta: { total: count.rows[0].total, limit, offset, nextCursor } });
}

/** The app's `q` bounds (src/posts/dto/post-query.dto.ts): 3–200 characters with a trigram (3 letters or digits in a row) to look up. */
function parseSearchParam(params: URLSearchParams): string | undefined {
  const q = params.get('q');
  if (q === null) return undefined;
  if (q.length < 3 || q.length > 200 || q.includes('\0') || !/[\p{L}\p{N}]{3}/u.test(q)) {
    throw new HttpError(400, 'q must be 3 to 200 characters, with 3 letters or digits in a row');
  }
  return q;
}

/** The app's indexedPiece: how much of a term the trigram indexes are searched with. */
const INDEXED_SEARCH_CHARS = 32;

/** A LIKE pattern matching `text` literally anywhere (the app's containsPattern): `%`, `_` and `\` lose their meaning. */
function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, '\\$&')}%`;
}

async function listPosts(req: IncomingMessage, res: ServerResponse, params: URLSearchParams): Promise<void> {
  rejectToken(req);
  rejectUnknownParams(params, ['limit', 'offset', 'published', 'q', 'cursor', 'withTotal']);
  const limit = parseIntParam(params, 'limit', 1, 100, 20);
  const offset = parseIntParam(params, 'offset', 0, 10_000, 0);
  const q = parseSearchParam(params);
  const published = parseBooleanParam(params, 'published');
  const filters: Array<[string, unknown]> = [];
  if (published !== undefined) filters.push(['published', published]);
  if (q !== undefined) filters.push(['q', q.toLowerCase()]);
  const binding = cursorBinding('posts', filters);
  const after = parseCursor(params, binding);
  if (after && offset > 0) throw new HttpError(400, 'offset cannot be combined with cursor');
  if (after && q !== undefined) throw new HttpError(400, 'the baseline pages searches by offset only');
  // As the app: offset pages are counted unless withTotal=false, cursor pages only with withTotal=true.
  const withTotal = parseBooleanParam(params, 'withTotal') ?? after === undefined;
  const window = after ? {} : { offset };
  // Anonymous callers see published posts only, whether they ask for published=true or not; published=false
  // has a known answer (no drafts are visible).
  if (published === false) return send(res, 200, { data: [], meta: { ...(withTotal && { total: 0 }), limit, ...window, nextCursor: null } });
  const piece = q === undefined ? undefined : [...q].slice(0, INDEXED_SEARCH_CHARS).join('');
  const pattern = piece === undefined ? undefined : containsPattern(piece);
  const [count, page] = await Promise.all([
    withTotal ? pool.query(pattern === undefined ? SQL.countPublishedPosts : SQL.countMatchingPosts, pattern === undefined ? [] : [pattern, q]) : undefined,
    pattern !== undefined
      ? pool.query(SQL.pageMatchingPosts, [pattern, q, limit + 1, offset])
      : after
        ? pool.query(SQL.pagePublishedPostsAfter, [limit + 1, after[0], after[1]])
        : pool.query(SQL.pagePublishedPosts, [limit + 1, offset]),
  ]);
  const { data, nextCursor } = pageOf(page.rows, limit, binding);
  send(res, 200, { data, meta: { ...(count && { total: count.rows[0].total }), limit, ...window, nextCursor } });
}

// Writes, in the app's order: the body is read (415, 413, malformed JSON), then the caller authenticated (401), then
// the parameters and body validated (400), then the policy asked (403), and only then a transaction opened.

async function createPost(req: IncomingMessage, res: ServerResponse, params: URLSearchParams): Promise<void> {
  const body = await readJson(req);
  const actor = await authenticate(req);
  rejectUnknownParams(params, []);
  const problems = checkKeys(body, ['title', 'body', 'published', 'authorId']);
  if (!isString(body.title, 1, 255)) problems.push('title must be a string of 1 to 255 characters');
  if (!isString(body.body, 1, 1_000_000)) problems.push('body must be a non-empty string');
  if (body.published !== undefined && typeof body.published !== 'boolean') problems.push('published must be a boolean');
  if (body.authorId !== undefined && (!Number.isInteger(body.authorId) || (body.authorId as number) < 1 || (body.authorId as number) > MAX_INT)) {
    problems.push('authorId must be a positive integer');
  }
  if (problems.length > 0) throw new HttpError(400, problems);
  // The author is the caller unless authorId names another user, which only admins may.
  const authorId = (body.authorId as number | undefined) ?? actor.id;
  if (actor.role !== 'admin' && authorId !== actor.id) throw new HttpError(403, `Not allowed to write posts as user ${authorId}`);

  const post = await inTransaction(async (client) => {
    const { rows } = await client.query(SQL.insertPost, [body.title, body.body, body.published ?? false, authorId]);
    if (rows.length === 0) throw new HttpError(422, `author ${authorId} does not exist`);
    const changes = { title: rows[0].title, body: rows[0].body, published: rows[0].published, authorId };
    await client.query(SQL.insertAudit, [actor.id, 'create', 'posts', String(rows[0].id), JSON.stringify(changes), randomUUID()]);
    return rows[0];
  });
  send(res, 201, post);
}

async function updateUser(req: IncomingMessage, res: ServerResponse, rawId: string, params: URLSearchParams): Promise<void> {
  const body = await readJson(req);
  const actor = await authenticate(req);
  rejectUnknownParams(params, []);
  const id = parseId(rawId);
  if (id === undefined) throw new HttpError(400, 'id must be a positive integer');
  const problems = checkKeys(body, ['name', 'email', 'role']);
  if (body.name !== undefined && !isString(body.name, 2, 100)) problems.push('name must be a string of 2 to 100 characters');
  if (body.email !== undefined && !(isString(body.email, 3, 255) && EMAIL.test(body.email.trim()))) problems.push('email must be an email');
  if (body.role !== undefined && body.role !== 'user' && body.role !== 'admin') problems.push('role must be user or admin');
  if (problems.length > 0) throw new HttpError(400, problems);
  // A user changes only themselves and never a role; admins change anyone. Either may see the email they get back.
  if (actor.role !== 'admin' && (actor.id !== id || body.role !== undefined)) {
    throw new HttpError(403, `Not allowed to ${body.role === undefined ? 'change' : 'change the role of'} user ${id}`);
  }

  const email = typeof body.email === 'string' ? body.email.trim().toLowerCase() : null;
  try {
    const user = await inTransaction(async (client) => {
      const { rows } = await client.query(SQL.updateUser, [id, body.name ?? null, email, body.role ?? null]);
      if (rows.length === 0) throw new HttpError(404, `user ${id} not found`);
      const { previousRole, ...row } = rows[0];
      const changes = Object.fromEntries(Object.entries({ name: body.name, email, role: body.role }).filter(([, value]) => value !== undefined && value !== null));
      await client.query(SQL.insertAudit, [actor.id, 'update', 'users', String(id), JSON.stringify(changes), randomUUID()]);
      if (previousRole !== row.role) await client.query(SQL.revokeSessions, [id]);
      return row;
    });
    send(res, 200, user);
  } catch (error) {
    if ((error as { code?: string }).code === '23505') throw new HttpError(409, 'email already taken');
    throw error;
  }
}

async function health(res: ServerResponse): Promise<void> {
  await pool.query('SELECT 1');
  send(res, 200, { status: 'ok' });
}

const USER_PATH = /^\/api\/v1\/users\/([^/]+)$/;

async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const params = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
  const method = req.method;

  if (path === '/api/v1/users') {
    if (method === 'GET') return listUsers(req, res, params);
  } else if (path === '/api/v1/posts') {
    if (method === 'GET') return listPosts(req, res, params);
    if (method === 'POST') return createPost(req, res, params);
  } else if (path === '/health') {
    if (method === 'GET') return health(res);
  } else {
    const match = USER_PATH.exec(path);
    if (match) {
      if (method === 'GET') return getUser(req, res, match[1], params);
      if (method === 'PATCH') return updateUser(req, res, match[1], params);
    }
  }
  throw new HttpError(404, `Cannot ${method} ${path}`);
}

const server = createServer((req, res) => {
  route(req, res).catch((error: unknown) => {
    if (error instanceof HttpError) {
      // RFC 6750, as the app: the scheme, and whether the token that was sent is the problem.
      if (error.statusCode === 401) {
        res.setHeader('www-authenticate', req.headers.authorization === undefined ? 'Bearer realm="api"' : 'Bearer realm="api", error="invalid_token"');
      }
      return sendError(res, error.statusCode, error.messages);
    }
    console.error('baseline: unexpected error', error);
    if (!res.headersSent) sendError(res, 500, 'Internal server error');
  });
});

server.keepAliveTimeout = 72_000;
server.listen(Number(process.env.PORT ?? 3001), process.env.HOST ?? '127.0.0.1');

function shutdown(): void {
  server.close();
  server.closeAllConnections();
  pool.end().finally(() => process.exit(0));
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
