/**
 * Property-based tests (fast-check): hostile input at every users/posts/auth endpoint over real HTTP.
 * Properties: never a 5xx, errors always in the API's shape without internals, requests built to be rejected
 * leave every table (accounts and sessions included) exactly as it was, reads by anonymous callers and plain users
 * never show another user's email or draft, and no hostile Authorization header gets past the guard.
 * Issue 11's shapes too: non-object array items, prototype-named keys, lone surrogates, invisible characters in
 * names and titles, bytes that are not UTF-8, and emails that look like (or are another spelling of) a taken one.
 */
import { isEmail, length } from 'class-validator';
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
  // Names are trimmed before their length is checked: too long means too long after trimming.
  fc.string({ unit: 'grapheme-ascii', minLength: 101, maxLength: 400 }).filter((name) => name.trim().length > 100),
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
const invalidTitle = fc.oneof(fc.constantFrom('', 't\u0000'), fc.string({ minLength: 256, maxLength: 600 }).filter((title) => title.trim().length > 255), hugeNumbers, fc.boolean(), fc.constant(null));
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

// ---- issue 11: hostile shapes ----------------------------------------------------------

/** Anything but a JSON object, where an array of objects is expected. */
const nonObjectItem = fc.oneof(fc.constant(null), fc.integer(), fc.boolean(), fc.string({ maxLength: 8 }), fc.array(hostileScalar, { maxLength: 2 }));
/** Every name Object.prototype has: a plain object "knows" them all, so a whitelist looked up in one let them pass. */
const prototypeKey = fc.constantFrom(...Object.getOwnPropertyNames(Object.prototype));
/** Printable ASCII (fast-check's default unit) around one lone surrogate code unit: never part of a pair. */
const withLoneSurrogate = fc
  .tuple(fc.string({ maxLength: 10 }), fc.integer({ min: 0xd800, max: 0xdfff }), fc.string({ maxLength: 10 }))
  .map(([before, code, after]) => `${before}${String.fromCharCode(code)}${after}`);
const letters = (max: number) => fc.stringMatching(new RegExp(`^[A-Za-z]{1,${max}}$`));
/** Controls, format characters (bidi, zero-width, soft hyphen, BOM, tags), separators and private use. */
const invisibleChar = fc
  .oneof(
    fc.integer({ min: 0x00, max: 0x1f }),
    fc.integer({ min: 0x7f, max: 0x9f }),
    fc.integer({ min: 0x200b, max: 0x200f }),
    fc.integer({ min: 0x202a, max: 0x202e }),
    fc.integer({ min: 0x2060, max: 0x2069 }).filter((code) => code !== 0x2065),
    fc.integer({ min: 0xe000, max: 0xf8ff }),
    fc.constantFrom(0xad, 0x61c, 0x180e, 0x2028, 0x2029, 0xfeff, 0xfff9, 0xe0001, 0xf0000, 0x10fffd),
  )
  .map((code) => String.fromCodePoint(code));
/** A name or a title with one of those between letters (at the ends, trimming may take some of them away). */
const textWithInvisible = fc.tuple(letters(20), invisibleChar, letters(20)).map(([before, char, after]) => `${before}${char}${after}`);
const CYRILLIC_TWINS: Record<string, string> = { a: '\u0430', c: '\u0441', e: '\u0435', o: '\u043e', p: '\u0440', x: '\u0445', y: '\u0443', i: '\u0456' };
/** Addresses that print like an ordinary one and must be refused (400), whether or not that one exists. */
const confusableEmail = fc.oneof(
  // A Latin letter swapped for its Cyrillic twin, among Latin letters of the same part (local part or domain label).
  fc
    .tuple(fc.stringMatching(/^[a-z]{1,10}$/), fc.constantFrom(...Object.keys(CYRILLIC_TWINS)), fc.stringMatching(/^[a-z]{0,10}$/), fc.boolean())
    .map(([before, letter, after, inLocalPart]) => {
      const part = `${before}${CYRILLIC_TWINS[letter]}${after}`;
      return inLocalPart ? `${part}@example.com` : `root@${part}.com`;
    }),
  // An invisible character or a space strictly inside an address (trimming takes only the ends).
  fc
    .tuple(fc.emailAddress(), fc.oneof(invisibleChar, fc.constantFrom(' ', '\u00a0', '\u3000')), fc.nat())
    .map(([email, char, at]) => {
      const index = 1 + (at % (email.length - 1));
      return `${email.slice(0, index)}${char}${email.slice(index)}`;
    }),
  // A combining mark left on a plain letter: the Turkish İ (i + U+0307 once lower-cased), or marks with no composed form.
  fc
    .tuple(fc.stringMatching(/^[a-z]{0,8}$/), fc.constantFrom('\u0130', 'i\u0307', 'a\u0332', 'x\u0301', 'q\u0308', 'ROOT\u0338'), fc.stringMatching(/^[a-z]{0,8}$/))
    .map(([before, twisted, after]) => `${before}${twisted}${after}@example.com`),
);
/** Another spelling of `email`: random capitals, surrounding white space, and decomposed (NFD) or not. */
const spellingOf = (email: string) =>
  fc
    .tuple(
      fc.array(fc.boolean(), { minLength: email.length, maxLength: email.length }),
      fc.constantFrom('', ' ', '\t', '\u00a0'),
      fc.constantFrom('', '  ', '\u3000', '\n'),
      fc.boolean(),
    )
    .map(([capitals, lead, trail, decompose]) => {
      const cased = [...email].map((char, index) => (capitals[index] ? char.toUpperCase() : char)).join('');
      return `${lead}${decompose ? cased.normalize('NFD') : cased}${trail}`;
    });
const utf8 = new TextDecoder('utf-8', { fatal: true });
/** Byte sequences that are not UTF-8: stray continuation bytes, overlong forms, encoded surrogates, truncations, > U+10FFFF. */
const invalidUtf8 = fc
  .oneof(
    fc.uint8Array({ minLength: 1, maxLength: 6 }),
    fc.constantFrom([0xff], [0xfe], [0x80], [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80], [0xe9]).map((bytes) => Uint8Array.from(bytes)),
  )
  .filter((bytes) => {
    try {
      utf8.decode(bytes);
      return false;
    } catch {
      return true;
    }
  })
  .map((bytes) => Buffer.from(bytes));

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
  const live = { admin: 0, user: 0, post: 0, draft: 0, adminEmail: '', userEmail: '', accentedEmail: '' };
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
    const allEmails = [live.adminEmail, live.userEmail, live.accentedEmail, 'gone@example.com', harnessAdminEmail];
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
        // A stack frame reads `at fn (file.js:1:2)`; plain English ("at least … (id, title)") is no leak.
        expect(JSON.stringify(response.body)).not.toMatch(/sequelize|node_modules|\.js:\d+|\bat [^"]*\([^"]*:\d+:\d+\)/i);
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
    // Precomposed é: its decomposed and upper-case spellings are the same account.
    live.accentedEmail = 'ren\u00e9e@example.com';
    await make('/api/v1/users', { name: 'Renée', email: live.accentedEmail });
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

  describe('issue 11: hostile shapes are a 400 (or a 409) that writes nothing', () => {
    const SHAPE_RUNS = Math.max(10, Math.ceil(RUNS / 2));
    const validRow = fc.record({ name: fc.constantFrom('Row One', 'Row Two'), email: fc.emailAddress() });
    const validPost = fc.record({ title: fc.constantFrom('A title', 'Another'), body: fc.constantFrom('A body', 'More') });
    /** `message` of an error body as a list. */
    const messagesOf = (response: TestResponse): string[] => (Array.isArray(response.body.message) ? response.body.message : [response.body.message]);

    it('a non-object item among users (bulk) or posts (with-posts) is a 400 naming the first one', async () => {
      const shape = fc.tuple(
        fc.constantFrom('users', 'posts'),
        fc.array(fc.oneof(validRow, validPost), { maxLength: 3 }),
        nonObjectItem,
        fc.array(fc.oneof(validRow, validPost, nonObjectItem), { maxLength: 3 }),
      );
      await fc.assert(
        fc.asyncProperty(shape, async ([field, before, bad, after]) => {
          const items = [...before, bad, ...after];
          const [path, body] =
            field === 'users'
              ? ['/api/v1/users/bulk', { users: items }]
              : ['/api/v1/users/with-posts', { name: 'Fuzz Author', email: 'fuzz-author@example.com', posts: items }];
          const response = await rejectedWithoutChange('POST', path, body);
          expect(response.status).toBe(400);
          expect(messagesOf(response)).toContain(`${field}.${before.length} must be an object`);
        }),
        { numRuns: SHAPE_RUNS },
      );
    });

    it('a key named like an Object.prototype member, at the top or nested, is a 400 naming its path', async () => {
      const shape = fc.tuple(
        prototypeKey,
        hostileValue,
        fc.constantFrom('POST /users', 'PATCH /users/:id', 'POST /posts', 'POST /auth/register', 'POST /users/bulk', 'POST /users/with-posts'),
        fc.nat({ max: 2 }),
      );
      await fc.assert(
        fc.asyncProperty(shape, async ([key, value, route, index]) => {
          const item = (valid: Record<string, unknown>) => ({ ...valid, [key]: value });
          const rows = Array.from({ length: index }, (_, i) => ({ name: `Row ${i}`, email: `row-${i}@example.com` }));
          const cases: Record<string, [string, string, unknown, string | null | undefined, string]> = {
            'POST /users': ['POST', '/api/v1/users', item({ name: 'Fuzz', email: 'fuzz-proto@example.com' }), undefined, ''],
            'PATCH /users/:id': ['PATCH', `/api/v1/users/${live.user}`, item({ name: 'Renamed' }), undefined, ''],
            'POST /posts': ['POST', '/api/v1/posts', item({ title: 'T', body: 'B', authorId: live.user }), undefined, ''],
            'POST /auth/register': ['POST', '/api/v1/auth/register', item({ name: 'Fuzz', email: 'fuzz-proto@example.com', password: 'long enough password' }), null, ''],
            'POST /users/bulk': ['POST', '/api/v1/users/bulk', { users: [...rows, item({ name: 'Fuzz', email: 'fuzz-proto@example.com' })] }, undefined, `users.${index}.`],
            'POST /users/with-posts': [
              'POST',
              '/api/v1/users/with-posts',
              { name: 'Fuzz', email: 'fuzz-proto@example.com', posts: [...rows.map(() => ({ title: 'T', body: 'B' })), item({ title: 'T', body: 'B' })] },
              undefined,
              `posts.${index}.`,
            ],
          };
          const [method, path, body, as, prefix] = cases[route];
          const response = await rejectedWithoutChange(method, path, body, as);
          expect(response.status).toBe(400);
          // "__proto__" is kept by the JSON parser as a plain key and refused by name, like every other one.
          expect(response.body.message).toBe(`${prefix}property ${key} should not exist`);
        }),
        { numRuns: SHAPE_RUNS },
      );
    });

    it('a prototype-named query parameter is a 400 on every read, whoever asks', async () => {
      const paths = fc.constantFrom('/api/v1/users', '/api/v1/posts', '/api/v1/users/stats/top-authors', '/health', `/api/v1/users/LIVE/posts`);
      const others = fc.array(fc.tuple(fc.constantFrom('limit', 'offset', 'sort', 'include'), plausibleQueryValues), { maxLength: 3 });
      await fc.assert(
        fc.asyncProperty(paths, prototypeKey, fc.oneof(hostileString, plausibleQueryValues), others, readers, async (template, key, value, pairs, reader) => {
          const query = new URLSearchParams([...pairs, [key, value]]).toString();
          const response = await t.request('GET', `${template.replace('LIVE', String(live.user))}?${query}`, actingAs(reader));
          assertSafe(response);
          expect([query, response.status, response.body.message]).toEqual([query, 400, `property ${key} should not exist`]);
        }),
        { numRuns: SHAPE_RUNS },
      );
      expect(await snapshot()).toBe(before);
    });

    it('a lone surrogate in any string or key of a body is a 400 naming where', async () => {
      const shape = fc.tuple(
        withLoneSurrogate,
        fc.constantFrom('user name', 'user email', 'user key', 'post title', 'post body', 'bulk name', 'with-posts title', 'register email', 'login password'),
      );
      await fc.assert(
        fc.asyncProperty(shape, async ([text, where]) => {
          const cases: Record<string, [string, unknown, string | null | undefined, string]> = {
            'user name': ['/api/v1/users', { name: text, email: 'fuzz-s@example.com' }, undefined, 'name must not contain lone UTF-16 surrogates'],
            'user email': ['/api/v1/users', { name: 'Fuzz', email: text }, undefined, 'email must not contain lone UTF-16 surrogates'],
            'user key': ['/api/v1/users', { name: 'Fuzz', email: 'fuzz-s@example.com', [text]: 1 }, undefined, 'A key in the body contains a lone UTF-16 surrogate'],
            'post title': ['/api/v1/posts', { title: text, body: 'B', authorId: live.user }, undefined, 'title must not contain lone UTF-16 surrogates'],
            'post body': ['/api/v1/posts', { title: 'T', body: text, authorId: live.user }, undefined, 'body must not contain lone UTF-16 surrogates'],
            'bulk name': ['/api/v1/users/bulk', { users: [{ name: 'Fuzz', email: 'fuzz-s@example.com' }, { name: text, email: 'fuzz-t@example.com' }] }, undefined, 'users.1.name must not contain lone UTF-16 surrogates'],
            'with-posts title': ['/api/v1/users/with-posts', { name: 'Fuzz', email: 'fuzz-s@example.com', posts: [{ title: text, body: 'B' }] }, undefined, 'posts.0.title must not contain lone UTF-16 surrogates'],
            'register email': ['/api/v1/auth/register', { name: 'Fuzz', email: text, password: 'long enough password' }, null, 'email must not contain lone UTF-16 surrogates'],
            'login password': ['/api/v1/auth/login', { email: live.userEmail, password: text }, null, 'password must not contain lone UTF-16 surrogates'],
          };
          const [path, body, as, message] = cases[where];
          const response = await rejectedWithoutChange('POST', path, body, as);
          expect([where, response.status, response.body.message]).toEqual([where, 400, message]);
        }),
        { numRuns: SHAPE_RUNS },
      );
    });

    it('a control or invisible character inside a name or a title is a 400 on every path that takes one', async () => {
      const shape = fc.tuple(textWithInvisible, fc.constantFrom('POST /users', 'PATCH /users/:id', 'bulk', 'with-posts name', 'with-posts title', 'register', 'POST /posts', 'PATCH /posts/:id'));
      await fc.assert(
        fc.asyncProperty(shape, async ([text, where]) => {
          const cases: Record<string, [string, string, unknown, string | null | undefined, string]> = {
            'POST /users': ['POST', '/api/v1/users', { name: text, email: 'fuzz-i@example.com' }, undefined, 'name'],
            'PATCH /users/:id': ['PATCH', `/api/v1/users/${live.user}`, { name: text }, undefined, 'name'],
            bulk: ['POST', '/api/v1/users/bulk', { users: [{ name: text, email: 'fuzz-i@example.com' }] }, undefined, 'users.0.name'],
            'with-posts name': ['POST', '/api/v1/users/with-posts', { name: text, email: 'fuzz-i@example.com', posts: [] }, undefined, 'name'],
            'with-posts title': ['POST', '/api/v1/users/with-posts', { name: 'Fuzz', email: 'fuzz-i@example.com', posts: [{ title: text, body: 'B' }] }, undefined, 'posts.0.title'],
            register: ['POST', '/api/v1/auth/register', { name: text, email: 'fuzz-i@example.com', password: 'long enough password' }, null, 'name'],
            'POST /posts': ['POST', '/api/v1/posts', { title: text, body: 'B', authorId: live.user }, undefined, 'title'],
            'PATCH /posts/:id': ['PATCH', `/api/v1/posts/${live.draft}`, { title: text }, undefined, 'title'],
          };
          const [method, path, body, as, field] = cases[where];
          const response = await rejectedWithoutChange(method, path, body, as);
          expect(response.status).toBe(400);
          expect([where, JSON.stringify(text), messagesOf(response)]).toEqual([
            where,
            JSON.stringify(text),
            expect.arrayContaining([`${field} must not contain control or invisible formatting characters`]),
          ]);
        }),
        { numRuns: SHAPE_RUNS },
      );
    });

    it('a body that is not UTF-8 is a 400, whichever bytes and wherever in the text', async () => {
      await fc.assert(
        fc.asyncProperty(invalidUtf8, fc.constantFrom('name', 'email'), async (bytes, field) => {
          const values = { name: 'Fuzz Bytes', email: 'fuzz-bytes@example.com' };
          const [head, tail] = values[field].split('z');
          const raw = Buffer.concat([
            Buffer.from(`{${field === 'name' ? '' : `"name":"${values.name}",`}"${field}":"${head}`),
            bytes,
            Buffer.from(`${tail}"${field === 'name' ? `,"email":"${values.email}"` : ''}}`),
          ]);
          const response = await fetch(`${t.baseUrl}/api/v1/users`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${t.admin.token}` },
            body: raw,
          });
          expect([bytes.toString('hex'), response.status, await response.json()]).toEqual([
            bytes.toString('hex'),
            400,
            { statusCode: 400, error: 'Bad Request', message: 'Request body is not valid UTF-8' },
          ]);
          expect(await snapshot()).toBe(before);
        }),
        { numRuns: SHAPE_RUNS },
      );
    });

    it('an email that looks like another is a 400 on every path that takes one; another spelling of a taken one is that account', async () => {
      const takesEmail = fc.constantFrom('POST /users', 'PATCH /users/:id', 'bulk', 'with-posts', 'register', 'login', 'GET /users?email=');
      const send = (route: string, email: string): Promise<TestResponse> => {
        switch (route) {
          case 'POST /users':
            return rejectedWithoutChange('POST', '/api/v1/users', { name: 'Twin', email });
          case 'PATCH /users/:id':
            return rejectedWithoutChange('PATCH', `/api/v1/users/${live.user}`, { email });
          case 'bulk':
            return rejectedWithoutChange('POST', '/api/v1/users/bulk', { users: [{ name: 'Twin', email: 'twin@example.com' }, { name: 'Twin', email }] });
          case 'with-posts':
            return rejectedWithoutChange('POST', '/api/v1/users/with-posts', { name: 'Twin', email, posts: [{ title: 'T', body: 'B' }] });
          case 'register':
            return rejectedWithoutChange('POST', '/api/v1/auth/register', { name: 'Twin', email, password: 'long enough password' }, null);
          case 'login':
            return rejectedWithoutChange('POST', '/api/v1/auth/login', { email, password: 'long enough password' }, null);
          default:
            return t.request('GET', `/api/v1/users?email=${encodeURIComponent(email)}`);
        }
      };
      await fc.assert(
        fc.asyncProperty(confusableEmail, takesEmail, async (email, route) => {
          const response = await send(route, email);
          assertSafe(response);
          expect([route, JSON.stringify(email), response.status]).toEqual([route, JSON.stringify(email), 400]);
          expect(messagesOf(response).some((message) => /email /.test(message))).toBe(true);
        }),
        { numRuns: SHAPE_RUNS },
      );
      expect(await snapshot()).toBe(before);

      const taken = fc.constantFrom(live.adminEmail, live.userEmail, live.accentedEmail).chain((email) => fc.tuple(fc.constant(email), spellingOf(email)));
      const conflicting = fc.constantFrom('POST /users', 'PATCH /users/:id', 'with-posts', 'register');
      await fc.assert(
        fc.asyncProperty(taken, conflicting, async ([email, spelling], route) => {
          // PATCH of the plain user to its own address is no conflict: the property is about someone else's.
          if (route === 'PATCH /users/:id' && email === live.userEmail) return;
          const response = await send(route, spelling);
          expect([route, JSON.stringify(spelling), response.status]).toEqual([route, JSON.stringify(spelling), 409]);
        }),
        { numRuns: SHAPE_RUNS },
      );
      // The same spellings find the account (admins may filter by email).
      await fc.assert(
        fc.asyncProperty(taken, async ([email, spelling]) => {
          const response = await t.request('GET', `/api/v1/users?email=${encodeURIComponent(spelling)}`);
          expect([JSON.stringify(spelling), response.status, response.body.data?.map((user: { email: string }) => user.email)]).toEqual([JSON.stringify(spelling), 200, [email]]);
        }),
        { numRuns: SHAPE_RUNS },
      );
    });
  });

  describe('accepted hostile content round-trips unchanged', () => {
    it('names and titles full of quotes, SQL, unicode and LIKE wildcards are stored (trimmed, NFC) and searched literally', async () => {
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
            // The only acceptable refusals: outside 2..100 code points once trimmed, a control or invisible character, a leading mark.
            // A name may break more than one of them ("\t\u000e": one character once trimmed, and a control one).
            expect(user.status).toBe(400);
            expect(user.body.message.length).toBeGreaterThan(0);
            for (const message of user.body.message) {
              expect(message).toMatch(/^name (must be between 2 and 100 characters long|must not contain control or invisible formatting characters|must not start with a combining mark)$/);
            }
            return;
          }
          // Names and titles are stored trimmed and composed; bodies exactly as sent.
          const stored = text.normalize('NFC').trim();
          expect(user.body.name).toBe(stored);
          const post = await t.request('POST', '/api/v1/posts', { body: { title: text, body: text, authorId: user.body.id } });
          expect(post.status).toBe(201);
          expect(post.body.title).toBe(stored);
          expect(post.body.body).toBe(text);
          // Searched by the stored title: q needs 3–200 characters with a trigram to look up (3 letters or digits in a row).
          const found = await t.request('GET', `/api/v1/posts?authorId=${user.body.id}&q=${encodeURIComponent(stored)}`);
          if (!length(stored, 3, 200) || !/[\p{L}\p{N}]{3}/u.test(stored)) {
            expect(found.status).toBe(400);
            return;
          }
          expect(found.status).toBe(200);
          expect(found.body.data.map((p: { id: number }) => p.id)).toEqual([post.body.id]);
        }),
        { numRuns: RUNS },
      );
    });
  });
});
