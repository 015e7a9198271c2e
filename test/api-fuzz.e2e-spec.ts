/**
 * Property-based tests (fast-check): hostile input at every users/posts/auth endpoint over real HTTP.
 * Properties: never a 5xx, errors always in the API's shape without internals, requests built to be rejected
 * leave every table (accounts and sessions included) exactly as it was, reads by anonymous callers and plain users
 * never show another user's email or draft, and no hostile Authorization header gets past the guard.
 */
import { isEmail } from 'class-validator';
import fc from 'fast-check';
import { createTestApp, type TestApp, type TestResponse } from './utils/test-app';

const RUNS = Number(process.env.FUZZ_RUNS ?? 60);

// ---- hostile building blocks -------------------------------------------------------------

const injections = fc.constantFrom(
  "' OR '1'='1",
  '1; DROP TABLE users; --',
  '"; DELETE FROM posts; --',
  "1) UNION SELECT * FROM users --",
  '$1',
  '%',
  '_',
  '\\',
  '\\%_',
  '\u0000',
  'a\u0000b',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  '${jndi:ldap://x}',
  '__proto__',
  'constructor',
  'toString',
  'NaN',
  'Infinity',
  '-0',
  '1e308',
  '0x10',
  ' 1',
  '１',
  '٣',
  '\u202e',
  '\ud83d\ude00',
  'true',
  'null',
);
const hugeNumbers = fc.constantFrom(2147483648, -2147483649, 9007199254740993, 1e308, -1e308, 1.5, -0, Number.MAX_SAFE_INTEGER);
const hostileString = fc.oneof(
  { weight: 3, arbitrary: injections },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', minLength: 256, maxLength: 3000 }) },
);
const hostileScalar = fc.oneof(hostileString, hugeNumbers, fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
const hostileValue = fc.oneof(
  { weight: 4, arbitrary: hostileScalar },
  { weight: 1, arbitrary: fc.array(hostileScalar, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 6 }), hostileScalar, { maxKeys: 3 }) },
);

// Values a field accepts: hostile in content, valid in form (so another part must make the request fail).
const validName = fc.oneof(
  injections.filter((s) => s.length >= 2 && !s.includes('\u0000')),
  fc.string({ unit: 'grapheme', minLength: 2, maxLength: 40 }),
);
const invalidName = fc.oneof(
  fc.constantFrom('', 'a', 'x'.repeat(101), 'ok\u0000ok'),
  fc.string({ unit: 'grapheme-ascii', minLength: 101, maxLength: 400 }),
  hugeNumbers,
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 2 }),
);
const invalidEmail = fc.oneof(hostileValue, fc.emailAddress().map((email) => `${email}\u0000`)).filter(
  (value) => typeof value !== 'string' || !isEmail(value.trim()),
);
const invalidRole = hostileValue.filter((value) => value !== 'user' && value !== 'admin' && value !== undefined);
const invalidTitle = fc.oneof(fc.constantFrom('', 't\u0000'), fc.string({ minLength: 256, maxLength: 600 }), hugeNumbers, fc.boolean(), fc.constant(null));
const invalidBody = fc.oneof(fc.constantFrom('', '\u0000'), fc.integer(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 }));
const invalidPublished = hostileValue.filter((value) => typeof value !== 'boolean');
// Not 'constructor': class-transformer drops that key silently (prototype-pollution guard), so the rest of the body
// would be accepted. '__proto__' is refused by Fastify's JSON parser.
const unknownKey = fc.constantFrom('id', 'deletedAt', 'createdAt', 'password', '__proto__', 'isAdmin', 'posts', 'author');
// Users take a `password` now (admins may set one): what a user body must still refuse is the stored hash and the rest.
const unknownUserKey = fc.constantFrom('id', 'deletedAt', 'createdAt', 'passwordHash', '__proto__', 'isAdmin', 'posts', 'author');

const validPassword = fc.string({ minLength: 12, maxLength: 60 });
const invalidPassword = fc.oneof(
  fc.string({ maxLength: 11 }),
  fc.string({ minLength: 129, maxLength: 300 }),
  fc.constantFrom('twelve chars\u0000 and more'),
  hugeNumbers,
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 2 }),
);
// What registration must refuse to take from the body (role above all).
const registerUnknownKey = fc.constantFrom('role', 'id', 'passwordHash', 'isAdmin', 'deletedAt', 'createdAt', '__proto__');

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)), maxLength: 200 });
const base64url = fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'), maxLength: 120 });
// Sendable header values (fetch refuses control characters) that are not a valid access token of this app.
const hostileAuthorization = fc.oneof(
  printable,
  printable.map((text) => `Bearer ${text}`),
  fc.tuple(base64url, base64url, base64url).map(([header, payload, signature]) => `Bearer ${header}.${payload}.${signature}`),
  fc.constantFrom(
    '',
    'Bearer',
    'Bearer  ',
    'Basic dXNlcjpwYXNzd29yZA==',
    'Bearer null',
    'Bearer undefined',
    'Bearer a.b.c',
    'Bearer ..',
    // {"alg":"none","typ":"JWT"}.{"sub":"1","role":"admin"}. with no signature
    'Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiIxIiwicm9sZSI6ImFkbWluIn0.',
    // Long, but under Node's 16 KiB header limit (beyond it Node answers 431 before the app, and the document rightly omits it).
    `Bearer ${'a'.repeat(8_000)}.b.c`,
  ),
);

const queryKeys = fc.constantFrom(
  'limit',
  'offset',
  'sort',
  'include',
  'published',
  'role',
  'email',
  'q',
  'authorId',
  '__proto__',
  'constructor',
  'where',
  'limit[]',
  'sort[0]',
  'order',
);
const plausibleQueryValues = fc.constantFrom('posts', 'author', 'true', 'false', '-createdAt', 'name,-id', 'title', '1', '20', '100', '0', 'admin', 'user');
const hostileQuery = fc
  .array(fc.tuple(fc.oneof(queryKeys, fc.string({ maxLength: 8 })), fc.oneof(hostileString, plausibleQueryValues)), { maxLength: 5 })
  .map((pairs) => new URLSearchParams(pairs).toString());

describe('API under hostile input (fast-check, e2e)', () => {
  let t: TestApp;
  const live = { admin: 0, user: 0, post: 0, draft: 0, adminEmail: '', userEmail: '' };
  const deleted = { user: 0, post: 0 };
  let existingIds: Set<number>;
  let liveUserIds: Set<number>;
  let before: string;
  /** A live session of the plain user (live.user). */
  let userToken: string;
  let harnessAdminEmail: string;

  async function snapshot(): Promise<string> {
    const [users] = await t.sequelize.query('SELECT * FROM users ORDER BY id');
    const [posts] = await t.sequelize.query('SELECT * FROM posts ORDER BY id');
    const [sessions] = await t.sequelize.query('SELECT * FROM sessions ORDER BY id');
    const [refreshTokens] = await t.sequelize.query('SELECT * FROM refresh_tokens ORDER BY "tokenHash"');
    return JSON.stringify({ users, posts, sessions, refreshTokens });
  }

  type Reader = 'admin' | 'user' | 'anonymous';
  const readers = fc.constantFrom<Reader>('admin', 'user', 'anonymous');
  const actingAs = (reader: Reader) => (reader === 'admin' ? {} : { as: reader === 'user' ? userToken : null });

  /** Every object of a response body that is a user (has `email` or `role`) or a post (has `published`). */
  function records(node: unknown, found: Array<Record<string, unknown>> = []): Array<Record<string, unknown>> {
    if (Array.isArray(node)) node.forEach((item) => records(item, found));
    else if (typeof node === 'object' && node !== null) {
      if ('email' in node || 'role' in node || 'published' in node) found.push(node as Record<string, unknown>);
      Object.values(node).forEach((value) => records(value, found));
    }
    return found;
  }

  /** Issue 10's privacy rules, whatever the shape: emails only one's own, drafts only one's own (admins see all). */
  function assertPrivate(reader: Reader, body: unknown): void {
    if (reader === 'admin') return;
    const allEmails = [live.adminEmail, live.userEmail, 'gone@example.com', harnessAdminEmail];
    const visibleEmails = reader === 'user' ? [live.userEmail] : [];
    const text = JSON.stringify(body);
    for (const email of allEmails.filter((address) => !visibleEmails.includes(address))) expect([reader, email, text.includes(email)]).toEqual([reader, email, false]);
    for (const record of records(body)) {
      if ('email' in record) expect([reader, record.email]).toEqual([reader, visibleEmails[0]]);
      if (record.published === false) expect([reader, 'draft of', record.authorId]).toEqual([reader, 'draft of', reader === 'user' ? live.user : 'nobody']);
    }
  }

  function hostileId(): fc.Arbitrary<string> {
    return fc
      .oneof(
        hostileString,
        hugeNumbers.map(String),
        fc.integer({ min: 1000, max: 2 ** 31 - 1 }).map(String),
        fc.constantFrom('0', '-1', '00', '1.0', '2147483647', '2147483648', '%', '...', '%2e'),
      )
      // Never an existing row: these requests must not be able to change anything.
      // Not "", "." or "..": URL resolution would send a different path (".." even when percent-encoded).
      .filter((id) => !(/^\s*\d+\s*$/.test(id) && existingIds.has(Number(id))) && !['', '.', '..'].includes(id))
      .map((id) => encodeURIComponent(id));
  }

  /**
   * An authorId no post may be given: hostile, a deleted user, or an id no live user has. Ids are checked against
   * the live users: the users table is not truncated between files (the harness admin survives), so ids past 1000
   * are real users once a worker has run other suites.
   */
  function unusableAuthor(): fc.Arbitrary<unknown> {
    return fc
      .oneof(hostileValue, fc.constant(deleted.user), fc.integer({ min: 1000, max: 2 ** 31 - 1 }))
      .filter((value) => !(typeof value === 'number' && liveUserIds.has(value)));
  }

  function assertSafe(response: TestResponse): void {
    expect(response.status).toBeLessThan(500);
    if (response.status >= 400) {
      if (typeof response.body === 'object' && response.body !== null) {
        expect(response.body.statusCode).toBe(response.status);
        expect(typeof response.body.error).toBe('string');
        expect(JSON.stringify(response.body)).not.toMatch(/sequelize|node_modules|\.js:\d+|\bat .+\(/i);
      } else {
        // Only the HTTP layer itself (e.g. 431 for oversized headers) answers without the API's body.
        expect([404, 413, 414, 431]).toContain(response.status);
      }
    }
  }

  /** Sends the request (as the harness admin unless `as` says otherwise) and checks it was refused and wrote nothing. */
  async function rejectedWithoutChange(method: string, path: string, body?: unknown, as?: string | null): Promise<TestResponse> {
    const response = await t.request(method, path, { ...(body !== undefined && { body }), ...(as !== undefined && { as }) });
    assertSafe(response);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(await snapshot()).toBe(before);
    return response;
  }

  async function expectRejectedWithoutChange(method: string, path: string, body?: unknown): Promise<void> {
    await rejectedWithoutChange(method, path, body);
  }

  beforeAll(async () => {
    t = await createTestApp();
    await t.truncate();
    const make = async (path: string, body: unknown) => {
      const response = await t.request('POST', path, { body });
      expect(response.status).toBe(201);
      return response.body.id as number;
    };
    live.adminEmail = 'root@example.com';
    live.userEmail = 'plain@example.com';
    live.admin = await make('/api/v1/users', { name: 'Admin', email: live.adminEmail, role: 'admin' });
    live.user = await make('/api/v1/users', { name: 'Plain User', email: live.userEmail });
    deleted.user = await make('/api/v1/users', { name: 'Gone User', email: 'gone@example.com' });
    live.post = await make('/api/v1/posts', { title: '100% _real_ C:\\post', body: 'Body', authorId: live.admin, published: true });
    live.draft = await make('/api/v1/posts', { title: 'Draft', body: 'Body', authorId: live.user });
    await make('/api/v1/posts', { title: 'Of the gone', body: 'Body', authorId: deleted.user });
    deleted.post = await make('/api/v1/posts', { title: 'Deleted', body: 'Body', authorId: live.user });
    expect((await t.request('DELETE', `/api/v1/posts/${deleted.post}`)).status).toBe(204);
    expect((await t.request('DELETE', `/api/v1/users/${deleted.user}`)).status).toBe(204);
    const [rows] = await t.sequelize.query('SELECT id FROM users UNION SELECT id FROM posts');
    existingIds = new Set((rows as Array<{ id: number }>).map((row) => row.id));
    liveUserIds = new Set((await t.rows<{ id: number }>('SELECT id FROM users WHERE "deletedAt" IS NULL')).map((row) => row.id));
    userToken = await t.tokenFor({ id: live.user, role: 'user' });
    harnessAdminEmail = (await t.rows<{ email: string }>('SELECT email FROM users WHERE id = $1', [t.admin.id]))[0].email;
    before = await snapshot();
  });

  afterAll(async () => {
    await t.close();
  });

  describe('reads never fail and never write', () => {
    afterAll(async () => {
      expect(await snapshot()).toBe(before);
    });

    it.each([
      ['GET /users', '/api/v1/users'],
      ['GET /posts', '/api/v1/posts'],
      ['GET /users/stats/top-authors', '/api/v1/users/stats/top-authors'],
      ['GET /users/:id (live)', '/api/v1/users/LIVE_USER'],
      ['GET /users/:id/posts (live)', '/api/v1/users/LIVE_USER/posts'],
      ['GET /posts/:id (live)', '/api/v1/posts/LIVE_POST'],
    ])('%s with random query strings, by an admin, a plain user and an anonymous caller', async (_name, template) => {
      const path = template.replace('LIVE_USER', String(live.admin)).replace('LIVE_POST', String(live.post));
      await fc.assert(
        fc.asyncProperty(hostileQuery, readers, async (query, reader) => {
          const response = await t.request('GET', `${path}?${query}`, actingAs(reader));
          assertSafe(response);
          if (response.status === 200) assertPrivate(reader, response.body);
          if (response.status === 200 && 'meta' in response.body) {
            expect(Array.isArray(response.body.data)).toBe(true);
            expect(response.body.data.length).toBeLessThanOrEqual(response.body.meta.limit);
          }
        }),
        { numRuns: RUNS },
      );
    });

    it('the plain user’s own drafts and email, and every list and include shape, stay private to the right readers', async () => {
      const shapes = [
        '/api/v1/users?include=posts&limit=100',
        `/api/v1/users/${live.user}?include=posts`,
        `/api/v1/users/${live.user}/posts?limit=100`,
        '/api/v1/posts?include=author&limit=100',
        '/api/v1/posts?published=false&include=author',
        `/api/v1/posts?authorId=${live.user}&include=author`,
      ];
      for (const path of shapes) {
        for (const reader of ['admin', 'user', 'anonymous'] as const) {
          const response = await t.request('GET', path, actingAs(reader));
          expect([path, reader, response.status]).toEqual([path, reader, 200]);
          assertPrivate(reader, response.body);
          // Not vacuous: the draft is in every one of these shapes for its author and for admins, and the own email on oneself.
          const text = JSON.stringify(response.body);
          expect([path, reader, text.includes('"Draft"')]).toEqual([path, reader, reader !== 'anonymous']);
          if (path.startsWith(`/api/v1/users/${live.user}?`)) expect([path, reader, text.includes(live.userEmail)]).toEqual([path, reader, reader !== 'anonymous']);
        }
      }
    });

    it.each([
      ['GET /users/:id', '/api/v1/users/ID'],
      ['GET /users/:id/posts', '/api/v1/users/ID/posts'],
      ['GET /posts/:id', '/api/v1/posts/ID'],
    ])('%s with hostile ids answers 400, 404 or 414 (path parameter over the router limit)', async (_name, template) => {
      await fc.assert(
        fc.asyncProperty(hostileId(), readers, async (id, reader) => {
          const response = await t.request('GET', template.replace('ID', id), actingAs(reader));
          assertSafe(response);
          expect([400, 404, 414]).toContain(response.status);
        }),
        { numRuns: RUNS },
      );
    });
  });

  describe('rejected writes change nothing', () => {
    it('POST /users with a body that has at least one bad part', async () => {
      const body = fc.oneof(
        hostileValue,
        fc.record({ name: validName, email: invalidEmail }, { requiredKeys: ['email'] }),
        fc.record({ name: invalidName, email: fc.emailAddress() }),
        fc.record({ name: validName, email: fc.emailAddress(), role: invalidRole }),
        fc.record({ name: validName, email: fc.emailAddress(), password: invalidPassword }),
        fc.record({ name: validName, email: fc.constantFrom(live.adminEmail, ' ROOT@Example.com') }),
        fc
          .tuple(fc.record({ name: validName, email: fc.emailAddress() }), unknownUserKey, hostileValue)
          .map(([valid, key, value]) => ({ ...valid, [key]: value })),
      );
      await fc.assert(
        fc.asyncProperty(body, (payload) => expectRejectedWithoutChange('POST', '/api/v1/users', payload)),
        { numRuns: RUNS },
      );
    });

    it('PATCH /users/:id on a live user with a bad body, and on hostile ids', async () => {
      const bad = fc.oneof(
        fc.record({ name: invalidName }),
        fc.record({ email: invalidEmail }),
        fc.record({ role: invalidRole }),
        fc.record({ name: validName, email: fc.emailAddress(), role: invalidRole }),
        fc.record({ email: fc.constantFrom(live.adminEmail, 'Root@EXAMPLE.com ') }),
        fc.record({ password: invalidPassword }),
        fc.tuple(unknownUserKey, hostileValue).map(([key, value]) => ({ name: 'Valid Name', [key]: value })),
        // Not what serialises to `null`: a null body reaches the handler as an empty patch (200, no change).
        hostileScalar.filter((value) => JSON.stringify(value) !== 'null'),
      );
      await fc.assert(
        fc.asyncProperty(bad, (payload) => expectRejectedWithoutChange('PATCH', `/api/v1/users/${live.user}`, payload)),
        { numRuns: RUNS },
      );
      await fc.assert(
        fc.asyncProperty(hostileId(), validName, (id, name) => expectRejectedWithoutChange('PATCH', `/api/v1/users/${id}`, { name })),
        { numRuns: RUNS },
      );
    });

    it('DELETE and restore of users and posts with hostile ids', async () => {
      await fc.assert(
        fc.asyncProperty(
          hostileId(),
          fc.constantFrom('DELETE /users/ID', 'POST /users/ID/restore', 'DELETE /posts/ID', 'POST /posts/ID/restore'),
          async (id, route) => {
            const [method, path] = route.split(' ');
            await expectRejectedWithoutChange(method, `/api/v1${path.replace('ID', id)}`);
          },
        ),
        { numRuns: RUNS * 2 },
      );
    });

    it('POST /posts with a bad body or an author that is missing or deleted', async () => {
      const title = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 50 });
      const text = fc.oneof(injections.filter((s) => !s.includes('\u0000')), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 100 }));
      const body = fc.oneof(
        hostileValue,
        fc.record({ title: invalidTitle, body: text, authorId: fc.constant(live.user) }),
        fc.record({ title, body: invalidBody, authorId: fc.constant(live.user) }),
        fc.record({ title, body: text, authorId: fc.constant(live.user), published: invalidPublished }),
        fc.record({ title, body: text, authorId: unusableAuthor() }),
        fc
          .tuple(fc.record({ title, body: text, authorId: fc.constant(live.user) }), unknownKey, hostileValue)
          .map(([valid, key, value]) => ({ ...valid, [key]: value })),
      );
      await fc.assert(
        fc.asyncProperty(body, (payload) => expectRejectedWithoutChange('POST', '/api/v1/posts', payload)),
        { numRuns: RUNS },
      );
    });

    it('PATCH /posts/:id on a live post with a bad body, and on hostile ids', async () => {
      const bad = fc.oneof(
        fc.record({ title: invalidTitle }),
        fc.record({ body: invalidBody }),
        fc.record({ published: invalidPublished }),
        fc.record({ authorId: unusableAuthor() }),
        fc.record({ title: fc.constant('Fine title'), authorId: fc.constant(deleted.user) }),
        fc.tuple(unknownKey, hostileValue).map(([key, value]) => ({ title: 'Fine', [key]: value })),
      );
      await fc.assert(
        fc.asyncProperty(bad, (payload) => expectRejectedWithoutChange('PATCH', `/api/v1/posts/${live.draft}`, payload)),
        { numRuns: RUNS },
      );
      await fc.assert(
        fc.asyncProperty(hostileId(), (id) => expectRejectedWithoutChange('PATCH', `/api/v1/posts/${id}`, { title: 'Fine' })),
        { numRuns: RUNS },
      );
    });

    it('raw bodies: broken JSON, wrong content types, oversized payloads', async () => {
      const contentType = fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16', '');
      const raw = fc
        .oneof(fc.string({ unit: 'binary-ascii', maxLength: 200 }), fc.constantFrom('{', '{"name":', 'null', '[]', '""', '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{}}}'))
        // Not a parseable, complete user or post: such a request could legitimately write.
        .filter((text) => {
          try {
            const parsed = JSON.parse(text);
            return typeof parsed !== 'object' || parsed === null || !('name' in parsed || 'title' in parsed);
          } catch {
            return true;
          }
        });
      await fc.assert(
        fc.asyncProperty(raw, contentType, fc.constantFrom('/api/v1/users', '/api/v1/posts'), async (rawBody, type, path) => {
          const response = await t.request('POST', path, { rawBody, headers: type ? { 'content-type': type } : {} });
          assertSafe(response);
          expect(response.status).toBeGreaterThanOrEqual(400);
          expect(await snapshot()).toBe(before);
        }),
        { numRuns: RUNS },
      );

      const huge = JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024), email: 'huge@example.com' });
      const response = await t.request('POST', '/api/v1/users', { rawBody: huge, headers: { 'content-type': 'application/json' } });
      assertSafe(response);
      expect(response.status).toBe(413);
      expect(await snapshot()).toBe(before);
    });
  });

  describe('accounts and credentials under hostile input', () => {
    it('POST /auth/register with a body that has at least one bad part creates no account and no session', async () => {
      const body = fc.oneof(
        hostileValue,
        fc.record({ name: validName, email: fc.emailAddress(), password: invalidPassword }, { requiredKeys: ['name', 'email'] }),
        fc.record({ name: invalidName, email: fc.emailAddress(), password: validPassword }),
        fc.record({ name: validName, email: invalidEmail, password: validPassword }, { requiredKeys: ['password'] }),
        // Taken, whatever the case and spaces (the user's, an admin's): 409, after the hash and before any write.
        fc.record({ name: validName, email: fc.constantFrom(live.adminEmail, ' ROOT@Example.com', 'Plain@Example.COM '), password: validPassword }),
        fc
          .tuple(fc.record({ name: validName, email: fc.emailAddress(), password: validPassword }), registerUnknownKey, hostileValue)
          .map(([valid, key, value]) => ({ ...valid, [key]: value })),
      );
      await fc.assert(
        fc.asyncProperty(body, async (payload) => {
          const response = await rejectedWithoutChange('POST', '/api/v1/auth/register', payload, null);
          expect([400, 409]).toContain(response.status);
        }),
        { numRuns: RUNS },
      );
    });

    it('POST /auth/login without valid credentials answers 400 or one and the same 401, opening no session', async () => {
      const body = fc.oneof(
        hostileValue,
        fc.record({ email: fc.oneof(fc.emailAddress(), hostileString), password: fc.oneof(fc.string({ maxLength: 140 }), hostileString) }),
        // Existing accounts: created by an admin without a password (cannot log in), or deleted.
        fc.record({ email: fc.constantFrom(live.adminEmail, live.userEmail, 'gone@example.com', harnessAdminEmail), password: validPassword }),
        fc.tuple(fc.record({ email: fc.emailAddress(), password: validPassword }), unknownKey, hostileValue).map(([valid, key, value]) => ({ ...valid, [key]: value })),
      );
      const refusals = new Set<string>();
      await fc.assert(
        fc.asyncProperty(body, async (payload) => {
          const response = await rejectedWithoutChange('POST', '/api/v1/auth/login', payload, null);
          expect([400, 401]).toContain(response.status);
          if (response.status === 401) refusals.add(JSON.stringify(response.body));
        }),
        { numRuns: RUNS },
      );
      // An unknown email, a deleted account and one without a password are indistinguishable.
      expect(refusals.size).toBeLessThanOrEqual(1);
    });

    it('POST /auth/refresh with anything but a live refresh token answers 400 or 401 and changes nothing', async () => {
      const body = fc.oneof(
        hostileValue,
        fc.record({ refreshToken: fc.oneof(hostileString, base64url, hostileValue) }),
        fc.tuple(base64url, unknownKey, hostileValue).map(([refreshToken, key, value]) => ({ refreshToken, [key]: value })),
      );
      await fc.assert(
        fc.asyncProperty(body, async (payload) => {
          const response = await rejectedWithoutChange('POST', '/api/v1/auth/refresh', payload, null);
          expect([400, 401]).toContain(response.status);
        }),
        { numRuns: RUNS },
      );
    });

    it('a hostile Authorization header is a 401 on public and protected routes alike, even where the request is otherwise valid', async () => {
      const routes = fc.constantFrom(
        { method: 'GET', path: '/api/v1/users' },
        { method: 'GET', path: '/health' },
        { method: 'GET', path: '/api/v1/auth/me' },
        { method: 'POST', path: '/api/v1/posts', body: { title: 'Would be created', body: 'with a valid token' } },
        { method: 'PATCH', path: 'POST_PATH', body: { title: 'Would be renamed' } },
        { method: 'POST', path: '/api/v1/auth/logout' },
      );
      await fc.assert(
        fc.asyncProperty(hostileAuthorization, routes, async (authorization, route) => {
          const path = route.path === 'POST_PATH' ? `/api/v1/posts/${live.post}` : route.path;
          const response = await t.request(route.method, path, { ...(route.body && { body: route.body }), headers: { authorization } });
          assertSafe(response);
          expect([authorization.slice(0, 80), response.status]).toEqual([authorization.slice(0, 80), 401]);
          expect(response.headers.get('www-authenticate')).toBe('Bearer realm="api", error="invalid_token"');
          expect(await snapshot()).toBe(before);
        }),
        { numRuns: RUNS },
      );
    });
  });

  describe('accepted hostile content round-trips unchanged', () => {
    it('names and titles full of quotes, SQL, unicode and LIKE wildcards are stored and searched literally', async () => {
      const safeText = fc.oneof(
        injections.filter((s) => s.length >= 2 && !s.includes('\u0000')),
        fc.string({ unit: 'grapheme', minLength: 2, maxLength: 60 }),
        fc.string({ unit: 'binary', minLength: 2, maxLength: 60 }).filter((s) => !s.includes('\u0000')),
      );
      let n = 0;
      await fc.assert(
        fc.asyncProperty(safeText, async (text) => {
          const user = await t.request('POST', '/api/v1/users', { body: { name: text, email: `fuzz-${n++}@example.com` } });
          assertSafe(user);
          if (user.status !== 201) {
            // The only acceptable refusal: the text is outside 2..100 code points after all.
            expect(user.status).toBe(400);
            return;
          }
          expect(user.body.name).toBe(text);
          const post = await t.request('POST', '/api/v1/posts', { body: { title: text.slice(0, 255), body: text, authorId: user.body.id } });
          expect(post.status).toBe(201);
          expect(post.body.body).toBe(text);
          const found = await t.request('GET', `/api/v1/posts?authorId=${user.body.id}&q=${encodeURIComponent(text.slice(0, 200))}`);
          expect(found.status).toBe(200);
          expect(found.body.data.map((p: { id: number }) => p.id)).toEqual([post.body.id]);
        }),
        { numRuns: RUNS },
      );
    });
  });
});
