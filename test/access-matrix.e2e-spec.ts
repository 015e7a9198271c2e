/**
 * Who may do what, as tested (issue 10, "Who may do what"): every operation of openapi.json × {anonymous, another
 * user, the owner, an admin} → the status, generated from the one table below. A route without a row fails the
 * coverage test, so a new operation cannot ship without a rule.
 *
 * Each cell runs on fresh fixtures: the owner (a user with a password, a published post, a draft and a deleted
 * post), another user, an admin and a deleted user, each with a live session of its own. A denied request (401/403/404) and any GET leave every row of
 * every table as it was; a 401 says `WWW-Authenticate: Bearer`. Generated modules add their rows in
 * `test/access/<module>.access.ts` (an `accessRules` array), collected here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PasswordHasher } from '../src/users/password-hasher';
import { IDENTITIES, rule, to, unique, type Identity, type Rule, type World } from './access/access-rules';
import { expectApiError } from './utils/fixtures';
import { OPENAPI_FILE } from './utils/openapi-validator';
import { createTestApp, type TestApp } from './utils/test-app';

const OWNER_PASSWORD = 'owner password 1234';

const email = () => `${unique('new')}@example.com`;

/** The owner logs in (as a client would) for a refresh token of their own. */
async function ownerRefreshToken(w: World, t: TestApp): Promise<string> {
  const login = await t.request('POST', '/api/v1/auth/login', { as: null, body: { email: w.owner.email, password: OWNER_PASSWORD } });
  expect(login.status).toBe(200);
  return login.body.refreshToken;
}

const U = '/api/v1/users';
const P = '/api/v1/posts';
const A = '/api/v1/auth';

// The contract. Columns: anonymous, another user, the owner (the user themselves / the post's author), an admin.
// 401 no token on a protected route · 403 authenticated, not allowed · 404 not even visible to the caller.
//
//   operation                                 target                                          anon other owner admin
const HAND_WRITTEN: readonly Rule[] = [
  // Users
  rule('GET    /api/v1/users',                   'list',                                         200, 200, 200, 200, () => to(`${U}?limit=100`)),
  rule('GET    /api/v1/users',                   'list, include=posts',                          200, 200, 200, 200, () => to(`${U}?include=posts&limit=100`)),
  rule('GET    /api/v1/users',                   'filter by email (admins only)',                403, 403, 403, 200, (w) => to(`${U}?email=${encodeURIComponent(w.owner.email)}`)),
  rule('GET    /api/v1/users/stats/top-authors', 'report',                                       200, 200, 200, 200, () => to(`${U}/stats/top-authors`)),
  rule('GET    /api/v1/users/{id}',              'the owner',                                    200, 200, 200, 200, (w) => to(`${U}/${w.owner.id}`)),
  rule('GET    /api/v1/users/{id}',              'the owner, include=posts',                     200, 200, 200, 200, (w) => to(`${U}/${w.owner.id}?include=posts`)),
  rule('GET    /api/v1/users/{id}',              'a deleted user',                               404, 404, 404, 404, (w) => to(`${U}/${w.deletedUser}`)),
  rule('GET    /api/v1/users/{id}/posts',        "the owner's posts",                            200, 200, 200, 200, (w) => to(`${U}/${w.owner.id}/posts`)),
  rule('POST   /api/v1/users',                   'a user',                                       401, 403, 403, 201, () => to(U, { name: 'New User', email: email() })),
  rule('POST   /api/v1/users',                   'an admin (role: admin)',                       401, 403, 403, 201, () => to(U, { name: 'New Admin', email: email(), role: 'admin' })),
  rule('POST   /api/v1/users/with-posts',        'a user with a post',                           401, 403, 403, 201, () => to(`${U}/with-posts`, { name: 'New User', email: email(), posts: [{ title: 'T', body: 'B' }] })),
  rule('POST   /api/v1/users/bulk',              'a new user',                                   401, 403, 403, 200, () => to(`${U}/bulk`, { users: [{ name: 'New User', email: email() }] })),
  rule('POST   /api/v1/users/bulk',              "the owner's row (rename by email)",            401, 403, 403, 200, (w) => to(`${U}/bulk`, { users: [{ name: 'Renamed', email: w.owner.email }] })),
  rule('PATCH  /api/v1/users/{id}',              'the owner: name',                              401, 403, 200, 200, (w) => to(`${U}/${w.owner.id}`, { name: 'Renamed' })),
  rule('PATCH  /api/v1/users/{id}',              'the owner: email',                             401, 403, 200, 200, (w) => to(`${U}/${w.owner.id}`, { email: email() })),
  rule('PATCH  /api/v1/users/{id}',              'the owner: role',                              401, 403, 403, 200, (w) => to(`${U}/${w.owner.id}`, { role: 'admin' })),
  rule('PATCH  /api/v1/users/{id}',              'the owner: password + currentPassword',        401, 403, 200, 200, (w) => to(`${U}/${w.owner.id}`, { password: 'a brand new password', currentPassword: OWNER_PASSWORD })),
  rule('DELETE /api/v1/users/{id}',              'the owner',                                    401, 403, 204, 204, (w) => to(`${U}/${w.owner.id}`)),
  rule('POST   /api/v1/users/{id}/restore',      'a deleted user',                               401, 403, 403, 200, (w) => to(`${U}/${w.deletedUser}/restore`)),
  rule('POST   /api/v1/users/{id}/restore',      'the owner (live)',                             401, 403, 403, 200, (w) => to(`${U}/${w.owner.id}/restore`)),

  // Audit trail
  rule('GET    /api/v1/audit',                   'the trail',                                    401, 403, 403, 200, () => to('/api/v1/audit')),
  rule('GET    /api/v1/audit',                   "the owner's history",                          401, 403, 403, 200, (w) => to(`/api/v1/audit?table=users&rowId=${w.owner.id}`)),

  // Posts
  rule('GET    /api/v1/posts',                   'list',                                         200, 200, 200, 200, () => to(`${P}?limit=100`)),
  rule('GET    /api/v1/posts/{id}',              "the owner's published post",                   200, 200, 200, 200, (w) => to(`${P}/${w.published}`)),
  rule('GET    /api/v1/posts/{id}',              "the owner's draft",                            404, 404, 200, 200, (w) => to(`${P}/${w.draft}`)),
  rule('GET    /api/v1/posts/{id}',              "the owner's deleted post",                     404, 404, 404, 404, (w) => to(`${P}/${w.deletedPost}`)),
  rule('POST   /api/v1/posts',                   'no authorId (the caller)',                     401, 201, 201, 201, () => to(P, { title: 'T', body: 'B' })),
  rule('POST   /api/v1/posts',                   'authorId: the owner',                          401, 403, 201, 201, (w) => to(P, { title: 'T', body: 'B', authorId: w.owner.id })),
  rule('PATCH  /api/v1/posts/{id}',              "the owner's published post: title",            401, 403, 200, 200, (w) => to(`${P}/${w.published}`, { title: 'Edited' })),
  rule('PATCH  /api/v1/posts/{id}',              "the owner's draft: title",                     401, 404, 200, 200, (w) => to(`${P}/${w.draft}`, { title: 'Edited' })),
  rule('PATCH  /api/v1/posts/{id}',              "the owner's published post: authorId → other", 401, 403, 403, 200, (w) => to(`${P}/${w.published}`, { authorId: w.other.id })),
  rule('PATCH  /api/v1/posts/{id}',              "the owner's deleted post: title",              401, 404, 404, 404, (w) => to(`${P}/${w.deletedPost}`, { title: 'Edited' })),
  rule('PUT    /api/v1/posts/{id}/tags',         "the owner's published post",                   401, 403, 200, 200, (w) => to(`${P}/${w.published}/tags`, { tags: ['tagged'] })),
  rule('PUT    /api/v1/posts/{id}/tags',         "the owner's draft",                            401, 404, 200, 200, (w) => to(`${P}/${w.draft}/tags`, { tags: ['tagged'] })),
  rule('GET    /api/v1/posts',                   'filter by a tag',                              200, 200, 200, 200, () => to(`${P}?tag=tagged`)),
  rule('DELETE /api/v1/posts/{id}',              "the owner's published post",                   401, 403, 204, 204, (w) => to(`${P}/${w.published}`)),
  rule('DELETE /api/v1/posts/{id}',              "the owner's draft",                            401, 404, 204, 204, (w) => to(`${P}/${w.draft}`)),
  rule('DELETE /api/v1/posts/{id}',              "the owner's deleted post",                     401, 404, 404, 404, (w) => to(`${P}/${w.deletedPost}`)),
  rule('POST   /api/v1/posts/{id}/restore',      "the owner's deleted post",                     401, 404, 200, 200, (w) => to(`${P}/${w.deletedPost}/restore`)),
  rule('POST   /api/v1/posts/{id}/restore',      "the owner's published post (live)",            401, 403, 200, 200, (w) => to(`${P}/${w.published}/restore`)),
  rule('POST   /api/v1/posts/{id}/restore',      "the owner's draft (live)",                     401, 404, 200, 200, (w) => to(`${P}/${w.draft}/restore`)),

  // Accounts (a token sent to a public route must be valid, and is then irrelevant)
  rule('POST   /api/v1/auth/register',           'a new account',                                201, 201, 201, 201, () => to(`${A}/register`, { name: 'Newcomer', email: email(), password: 'newcomer password 1' })),
  rule('POST   /api/v1/auth/login',              "the owner's credentials",                      200, 200, 200, 200, (w) => to(`${A}/login`, { email: w.owner.email, password: OWNER_PASSWORD })),
  rule('POST   /api/v1/auth/login',              'a wrong password',                             401, 401, 401, 401, (w) => to(`${A}/login`, { email: w.owner.email, password: 'not the password' })),
  rule('POST   /api/v1/auth/refresh',            "the owner's refresh token",                    200, 200, 200, 200, async (w, t) => to(`${A}/refresh`, { refreshToken: await ownerRefreshToken(w, t) })),
  rule('POST   /api/v1/auth/logout',             "the caller's session",                         401, 204, 204, 204, () => to(`${A}/logout`)),
  rule('GET    /api/v1/auth/me',                 'the caller',                                   401, 200, 200, 200, () => to(`${A}/me`)),

  // Probes
  rule('GET    /health',                         'liveness and database',                        200, 200, 200, 200, () => to('/health')),
  rule('GET    /health/live',                    'liveness',                                     200, 200, 200, 200, () => to('/health/live')),
  rule('GET    /health/ready',                   'readiness',                                    200, 200, 200, 200, () => to('/health/ready')),
];

/** The rows every generated module brings along. */
function generatedRules(): Rule[] {
  const folder = join(__dirname, 'access');
  return readdirSync(folder)
    .filter((file) => file.endsWith('.access.ts'))
    .sort()
    // Collected by file name when Jest collects the cells (synchronously): a static import would mean editing this file.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    .flatMap((file) => (require(join(folder, file)) as { accessRules: Rule[] }).accessRules);
}

const MATRIX: readonly Rule[] = [...HAND_WRITTEN, ...generatedRules()];

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;

/** Every operation of the committed document, as "METHOD /path" (the document is checked against the app elsewhere). */
function documentedOperations(): string[] {
  const document = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as { paths: Record<string, Record<string, unknown>> };
  return Object.entries(document.paths).flatMap(([path, item]) =>
    HTTP_METHODS.filter((method) => item[method] !== undefined).map((method) => `${method.toUpperCase()} ${path}`),
  );
}

const operationOf = (rule: Rule) => `${rule.method} ${rule.route}`;

function matchesRoute(route: string, path: string): boolean {
  const pattern = route.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/?]+');
  return new RegExp(`^${pattern}(\\?.*)?$`).test(path);
}

// A cell's world in one statement rather than nine requests, as every cell (4 per row) needs a fresh one. The
// owner's password hash is computed once (argon2id, by the app's own hasher); deletedAt is a JS Date (millisecond
// precision), as the app writes it, so that restoring the deleted user finds it.
const WORLD_SQL = `
  WITH people AS (
    INSERT INTO users (name, email, role, "passwordHash", "deletedAt")
    VALUES ('Owner', $1, 'user', $5, NULL), ('Other', $2, 'user', NULL, NULL),
           ('Admin', $3, 'admin', NULL, NULL), ('Ghost', $4, 'user', NULL, $6::timestamptz)
    RETURNING id, name
  ), writings AS (
    INSERT INTO posts (title, body, published, "authorId", "deletedAt")
    SELECT kind.title, 'A body', kind.published, people.id, kind."deletedAt"
    FROM people, (VALUES ('Published', true, NULL), ('Draft', false, NULL), ('Deleted', true, $6::timestamptz))
      AS kind (title, published, "deletedAt")
    WHERE people.name = 'Owner'
    RETURNING id, title
  )
  SELECT (SELECT json_object_agg(name, id) FROM people) AS users, (SELECT json_object_agg(title, id) FROM writings) AS posts`;

async function buildWorld(t: TestApp, ownerPasswordHash: string): Promise<World> {
  await t.truncate();
  const ownerEmail = email();
  const [{ users, posts }] = await t.rows<{ users: Record<string, number>; posts: Record<string, number> }>(WORLD_SQL, [
    ownerEmail,
    email(),
    email(),
    email(),
    ownerPasswordHash,
    new Date(),
  ]);
  return {
    owner: { id: users.Owner, email: ownerEmail, token: await t.tokenFor({ id: users.Owner, role: 'user' }) },
    other: { id: users.Other, token: await t.tokenFor({ id: users.Other, role: 'user' }) },
    admin: { id: users.Admin, token: await t.tokenFor({ id: users.Admin, role: 'admin' }) },
    published: posts.Published,
    draft: posts.Draft,
    deletedPost: posts.Deleted,
    deletedUser: users.Ghost,
  };
}

function tokenOf(w: World, identity: Identity): string | null {
  return identity === 'anonymous' ? null : w[identity].token;
}

/** Every row of every application table, as JSON text, so that any change shows up as a diff. */
async function snapshot(t: TestApp): Promise<Record<string, string[]>> {
  const tables = await t.rows<{ name: string }>(
    `SELECT quote_ident(tablename) AS name FROM pg_tables
     WHERE schemaname = 'public' AND tablename NOT IN ('SequelizeMeta', 'SequelizeData') ORDER BY tablename`,
  );
  const state: Record<string, string[]> = {};
  for (const { name } of tables) {
    state[name] = (await t.rows<{ row: string }>(`SELECT to_jsonb(r)::text AS row FROM ${name} r ORDER BY 1`)).map(({ row }) => row);
  }
  // Guards against comparing nothing with nothing.
  expect(Object.keys(state)).toEqual(expect.arrayContaining(['posts', 'refresh_tokens', 'sessions', 'users']));
  return state;
}

const DENIED = new Set([401, 403, 404]);

describe('Access matrix (e2e)', () => {
  let t: TestApp;
  let ownerPasswordHash: string;

  beforeAll(async () => {
    t = await createTestApp();
    ownerPasswordHash = await t.app.get(PasswordHasher).hash(OWNER_PASSWORD);
  });

  afterAll(async () => {
    await t.close();
  });

  it('has a rule for every operation of openapi.json, and no rule for an operation it does not have', () => {
    const documented = documentedOperations();
    const ruled = new Set(MATRIX.map(operationOf));
    expect(documented).toEqual(expect.arrayContaining(['GET /health', 'GET /api/v1/users', 'POST /api/v1/auth/login']));
    expect(documented.filter((operation) => !ruled.has(operation))).toEqual([]);
    expect([...ruled].filter((operation) => !documented.includes(operation))).toEqual([]);
  });

  const cells = MATRIX.flatMap((rule) => IDENTITIES.map((identity) => ({ rule, identity, status: rule.expected[identity] })));

  it.each(cells)('$rule.method $rule.route · $rule.target · $identity → $status', async ({ rule, identity, status }) => {
    const w = await buildWorld(t, ownerPasswordHash);
    const call = await rule.call(w, t);
    expect(matchesRoute(rule.route, call.path)).toBe(true);

    const before = await snapshot(t);
    const response = await t.request(rule.method, call.path, { body: call.body, as: tokenOf(w, identity) });
    if (response.status !== status) throw new Error(`Expected ${status}, got ${response.status}: ${JSON.stringify(response.body)}`);

    if (status === 401) expect(response.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
    if (DENIED.has(status)) expectApiError(response, status);
    if (DENIED.has(status) || rule.method === 'GET') expect(await snapshot(t)).toEqual(before);
  });
});
