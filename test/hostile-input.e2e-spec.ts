/**
 * Issue 11, hostile input: every request built to be refused gets a clear 4xx in the API's words and changes
 * nothing (users, posts, sessions and refresh tokens compared before and after), over real HTTP.
 *
 * Covered: non-object items in arrays of objects, keys named like Object.prototype members (body and query),
 * bytes that are not UTF-8 and charsets that are not UTF-8, lone UTF-16 surrogates, control and invisible
 * characters in names, titles and bodies, lengths in code points, look-alike emails on every path that takes one,
 * and the harness's own check that no 4xx message is worded by a library.
 */
import { BadRequestException, Controller, Get, Module, Param } from '@nestjs/common';
import { User } from '../src/users/models/user.model';
import { createPost as createPostThroughApi, createUser as createUserThroughApi, expectApiError } from './utils/fixtures';
import { createTestApp, type RequestOptions, type TestApp, type TestResponse } from './utils/test-app';

const INVISIBLE_MESSAGE = 'must not contain control or invisible formatting characters';
const CHARSET_MESSAGE = 'Request bodies must be JSON in UTF-8: send charset=utf-8 or no charset';

/** `message` of an error body as a list, whether the API sent one string or several. */
function messages(response: TestResponse): string[] {
  const message: unknown = response.body?.message;
  return Array.isArray(message) ? message : [String(message)];
}

describe('hostile input is answered with a 4xx and changes nothing (e2e)', () => {
  let t: TestApp;
  const password = 'a passphrase long enough';

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(async () => {
    await t.close();
  });

  beforeEach(async () => {
    await t.truncate();
  });

  /** Every row a refused request could have touched. */
  async function snapshot(): Promise<string> {
    const tables = await Promise.all(
      ['users', 'posts', 'sessions', 'refresh_tokens'].map((table) => t.rows(`SELECT * FROM ${table} ORDER BY 1, 2`)),
    );
    return JSON.stringify(tables);
  }

  /** Sends the request and checks it was answered `status` in the API's error shape, with no row changed. */
  async function refused(status: number, method: string, path: string, options: RequestOptions = {}): Promise<TestResponse> {
    const before = await snapshot();
    const response = await t.request(method, path, options);
    expect([method, path, response.status]).toEqual([method, path, status]);
    expectApiError(response, status);
    expect(await snapshot()).toBe(before);
    return response;
  }

  const json = { 'content-type': 'application/json' };

  /** Sends raw bytes as a JSON body (fetch with a Buffer: the harness sends strings, which are always UTF-8). */
  async function sendBytes(method: string, path: string, bytes: Buffer, as: string | null = t.admin.token): Promise<{ status: number; body: any }> {
    const response = await fetch(`${t.baseUrl}${path}`, {
      method,
      headers: { ...json, ...(as !== null && { authorization: `Bearer ${as}` }) },
      body: bytes,
    });
    return { status: response.status, body: await response.json() };
  }

  const createUser = (body: Record<string, unknown>) => createUserThroughApi(t, body);
  const createPost = (authorId: number, body: Record<string, unknown> = {}) => createPostThroughApi(t, authorId, body);

  describe('items that are not objects where objects are expected', () => {
    it.each([
      ['[[]]', [[]], 0],
      ['[1]', [1], 0],
      ['[null]', [null], 0],
      ['["Ada"]', ['Ada'], 0],
      ['[true]', [true], 0],
      ['[valid, []]', [{ name: 'Valid User', email: 'valid@example.com' }, []], 1],
    ])('POST /users/bulk with users %s is a 400 naming the item', async (_case, users, index) => {
      const response = await refused(400, 'POST', '/api/v1/users/bulk', { body: { users } });
      expect(messages(response)).toContain(`users.${index} must be an object`);
    });

    it.each([
      ['[[]]', [[]], 0],
      ['[1]', [1], 0],
      ['[null]', [null], 0],
      ['["text"]', ['text'], 0],
      ['[valid, null]', [{ title: 'Fine', body: 'Fine' }, null], 1],
    ])('POST /users/with-posts with posts %s is a 400 naming the item, and creates no user', async (_case, posts, index) => {
      const response = await refused(400, 'POST', '/api/v1/users/with-posts', { body: { name: 'With Posts', email: 'with-posts@example.com', posts } });
      expect(messages(response)).toContain(`posts.${index} must be an object`);
    });

    // The item's own message and nothing else: class-validator's "each value in nested property users must be either
    // object or array" (prefixed with the path) used to come with it.
    it.each([
      ['[1]', [1], 0],
      ['[null]', [null], 0],
      ['["x"]', ['x'], 0],
      ['[[]]', [[]], 0],
      ['[valid, 1]', [{ name: 'Valid User', email: 'valid@example.com' }, 1], 1],
    ])('POST /users/bulk with users %s: the message list is exactly ["users.<i> must be an object"]', async (_case, users, index) => {
      const response = await refused(400, 'POST', '/api/v1/users/bulk', { body: { users } });
      expect(response.body.message).toEqual([`users.${index} must be an object`]);
    });

    it.each([
      ['[1]', [1], 0],
      ['[null]', [null], 0],
      ['["x"]', ['x'], 0],
      ['[valid, 1]', [{ title: 'Fine', body: 'Fine' }, 1], 1],
    ])('POST /users/with-posts with posts %s: the message list is exactly ["posts.<i> must be an object"]', async (_case, posts, index) => {
      const response = await refused(400, 'POST', '/api/v1/users/with-posts', { body: { name: 'With Posts', email: 'with-posts@example.com', posts } });
      expect(response.body.message).toEqual([`posts.${index} must be an object`]);
    });

    it.each([
      ['an object', { users: { 0: { name: 'Ada', email: 'ada@example.com' } } }, 'users must be an array'],
      ['a string', { users: 'Ada' }, 'users must be an array'],
    ])('POST /users/bulk with users as %s is a 400', async (_case, body, message) => {
      const response = await refused(400, 'POST', '/api/v1/users/bulk', { body });
      expect(messages(response)).toContain(message);
    });
  });

  describe('keys named like Object.prototype members', () => {
    const prototypeKeys = ['constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString', '__defineGetter__', '__lookupSetter__', 'prototype'];

    it.each(prototypeKeys)('%s at the top of a POST /users body is a 400 naming it', async (key) => {
      const response = await refused(400, 'POST', '/api/v1/users', { body: { name: 'Ada Lovelace', email: 'ada@example.com', [key]: 1 } });
      expect(response.body.message).toBe(`property ${key} should not exist`);
    });

    it('nested in a bulk row: {"users":[{"name":"A","email":"a@x.io","constructor":1}]}, worded as any unknown nested key', async () => {
      const response = await refused(400, 'POST', '/api/v1/users/bulk', {
        rawBody: '{"users":[{"name":"A","email":"a@x.io","constructor":1}]}',
        headers: json,
      });
      expect(response.body.message).toBe('users.0.property constructor should not exist');
      // With an otherwise valid row (the name above is also too short), the key alone is the reason.
      const valid = await refused(400, 'POST', '/api/v1/users/bulk', {
        body: { users: [{ name: 'Ada', email: 'ada@example.com' }, { name: 'Bob', email: 'bob@example.com', toString: 'x' }] },
      });
      expect(valid.body.message).toBe('users.1.property toString should not exist');
      // The same words the ValidationPipe uses for any other unknown key there.
      const unknown = await refused(400, 'POST', '/api/v1/users/bulk', { body: { users: [{ name: 'Bob', email: 'bob@example.com', isAdmin: true }] } });
      expect(messages(unknown)).toEqual(['users.0.property isAdmin should not exist']);
    });

    it('prototype nested in a bulk row and in a post of with-posts, worded as any unknown nested key', async () => {
      const bulk = await refused(400, 'POST', '/api/v1/users/bulk', {
        body: { users: [{ name: 'Ada', email: 'ada@example.com' }, { name: 'Bob', email: 'bob@example.com', prototype: { role: 'admin' } }] },
      });
      expect(bulk.body.message).toBe('users.1.property prototype should not exist');
      const withPosts = await refused(400, 'POST', '/api/v1/users/with-posts', {
        body: { name: 'Ada', email: 'ada@example.com', posts: [{ title: 'T', body: 'B', prototype: 1 }] },
      });
      expect(withPosts.body.message).toBe('posts.0.property prototype should not exist');
    });

    it('prototype on every other write: PATCH /users/:id, POST and PATCH /posts, register and login', async () => {
      const user = await createUser({ name: 'Target', email: 'target@example.com' });
      const post = await createPost(user.id);
      const cases: Array<[string, string, Record<string, unknown>, string | null]> = [
        ['PATCH', `/api/v1/users/${user.id}`, { name: 'Renamed', prototype: 1 }, t.admin.token],
        ['POST', '/api/v1/posts', { title: 'T', body: 'B', authorId: user.id, prototype: {} }, t.admin.token],
        ['PATCH', `/api/v1/posts/${post.id}`, { title: 'Renamed', prototype: 'x' }, t.admin.token],
        ['POST', '/api/v1/auth/register', { name: 'New', email: 'new@example.com', password, prototype: 1 }, null],
        ['POST', '/api/v1/auth/login', { email: 'target@example.com', password, prototype: 1 }, null],
      ];
      for (const [method, path, body, as] of cases) {
        const response = await refused(400, method, path, { body, as });
        expect([path, response.body.message]).toEqual([path, 'property prototype should not exist']);
      }
    });

    it('nested in a post of with-posts, and with an object value', async () => {
      const response = await refused(400, 'POST', '/api/v1/users/with-posts', {
        body: { name: 'Ada', email: 'ada@example.com', posts: [{ title: 'T', body: 'B', hasOwnProperty: { x: 1 } }] },
      });
      expect(response.body.message).toBe('posts.0.property hasOwnProperty should not exist');
    });

    it('on every other write: PATCH /users/:id, POST and PATCH /posts, register and login', async () => {
      const user = await createUser({ name: 'Target', email: 'target@example.com' });
      const post = await createPost(user.id);
      await refused(400, 'PATCH', `/api/v1/users/${user.id}`, { body: { name: 'Renamed', valueOf: 1 } });
      await refused(400, 'POST', '/api/v1/posts', { body: { title: 'T', body: 'B', authorId: user.id, constructor: { prototype: null } } });
      await refused(400, 'PATCH', `/api/v1/posts/${post.id}`, { body: { title: 'Renamed', toString: 'x' } });
      const register = await refused(400, 'POST', '/api/v1/auth/register', { as: null, body: { name: 'New', email: 'new@example.com', password, constructor: 1 } });
      expect(register.body.message).toBe('property constructor should not exist');
      await refused(400, 'POST', '/api/v1/auth/login', { as: null, body: { email: 'new@example.com', password, toString: 1 } });
      expect((await t.request('GET', `/api/v1/users/${user.id}`)).body.name).toBe('Target');
      expect((await t.request('GET', `/api/v1/posts/${post.id}`)).body.title).toBe('A title');
    });

    it.each([
      ['{"name":"Ada","email":"proto@example.com","__proto__":{"role":"admin"}}'],
      ['{"name":"Ada","email":"proto@example.com","constructor":{"prototype":{"role":"admin"}}}'],
      ['{"users":[{"name":"Ada","email":"proto@example.com","__proto__":{"role":"admin"}}]}'],
    ])('prototype poisoning %s is a 400', async (rawBody) => {
      const path = rawBody.startsWith('{"users"') ? '/api/v1/users/bulk' : '/api/v1/users';
      await refused(400, 'POST', path, { rawBody, headers: json });
      expect(({} as Record<string, unknown>).role).toBeUndefined();
    });

    // The JSON parser keeps such keys as plain own properties (JSON.parse never sets a prototype), so they are refused
    // by name like any unknown key, not answered "Body is not valid JSON".
    it.each([
      ['POST', '/api/v1/users', '{"name":"Ada","email":"proto@example.com","__proto__":{"role":"admin"}}', 'property __proto__ should not exist'],
      ['POST', '/api/v1/users', '{"__proto__":{}}', 'property __proto__ should not exist'],
      ['POST', '/api/v1/users', '{"constructor":{"prototype":{}}}', 'property constructor should not exist'],
      ['POST', '/api/v1/users', '{"name":"Ada","email":"proto@example.com","constructor":{"prototype":{"role":"admin"}}}', 'property constructor should not exist'],
      ['POST', '/api/v1/users', '{"name":"Ada","email":"proto@example.com","prototype":{"role":"admin"}}', 'property prototype should not exist'],
      ['POST', '/api/v1/users/bulk', '{"users":[{"name":"Ada","email":"proto@example.com","__proto__":{"role":"admin"}}]}', 'users.0.property __proto__ should not exist'],
      ['POST', '/api/v1/users/with-posts', '{"name":"Ada","email":"proto@example.com","posts":[{"title":"T","body":"B","__proto__":{"published":true}}]}', 'posts.0.property __proto__ should not exist'],
      ['POST', '/api/v1/auth/register', '{"name":"Ada","email":"proto@example.com","password":"a passphrase long enough","__proto__":{"role":"admin"}}', 'property __proto__ should not exist'],
      ['POST', '/api/v1/auth/login', '{"email":"proto@example.com","password":"a passphrase long enough","__proto__":{}}', 'property __proto__ should not exist'],
    ])('%s %s with %s is a 400 naming the key', async (method, path, rawBody, message) => {
      const response = await refused(400, method, path, { rawBody, headers: json, as: path.startsWith('/api/v1/auth/') ? null : undefined });
      expect(response.body.message).toBe(message);
      expect(({} as Record<string, unknown>).role).toBeUndefined();
    });

    it('__proto__ and constructor.prototype in PATCH bodies are refused by name, the row unchanged', async () => {
      const user = await createUser({ name: 'Target', email: 'target@example.com' });
      const post = await createPost(user.id);
      const patchUser = await refused(400, 'PATCH', `/api/v1/users/${user.id}`, { rawBody: '{"name":"Renamed","__proto__":{"role":"admin"}}', headers: json });
      expect(patchUser.body.message).toBe('property __proto__ should not exist');
      const patchPost = await refused(400, 'PATCH', `/api/v1/posts/${post.id}`, { rawBody: '{"constructor":{"prototype":{"published":true}}}', headers: json });
      expect(patchPost.body.message).toBe('property constructor should not exist');
      expect((await t.request('GET', `/api/v1/users/${user.id}`)).body).toMatchObject({ name: 'Target', role: 'user' });
    });

    it.each([
      ['/api/v1/users', 'toString=1', 'toString'],
      ['/api/v1/users', 'constructor=x', 'constructor'],
      ['/api/v1/users', 'limit=5&hasOwnProperty=1', 'hasOwnProperty'],
      ['/api/v1/posts', 'valueOf=', 'valueOf'],
      ['/api/v1/users/stats/top-authors', '__defineGetter__=1', '__defineGetter__'],
      ['/health', 'constructor=x', 'constructor'],
      ['/health', 'toString=1', 'toString'],
      ['/api/v1/users', 'prototype=1', 'prototype'],
      ['/api/v1/posts', 'limit=5&prototype=1', 'prototype'],
      ['/api/v1/users/stats/top-authors', 'prototype=x', 'prototype'],
      ['/health', 'prototype=1', 'prototype'],
      ['/api/v1/users', '__proto__=x', '__proto__'],
    ])('GET %s?%s is a 400 naming the key', async (path, query, key) => {
      const response = await t.request('GET', `${path}?${query}`);
      expectApiError(response, 400);
      expect(response.body.message).toBe(`property ${key} should not exist`);
    });

    it('a prototype key in the query of a write refuses the write', async () => {
      const user = await createUser({ name: 'Target', email: 'target@example.com' });
      await refused(400, 'PATCH', `/api/v1/users/${user.id}?constructor=1`, { body: { name: 'Renamed' } });
      await refused(400, 'DELETE', `/api/v1/users/${user.id}?toString=1`);
      await refused(400, 'PATCH', `/api/v1/users/${user.id}?prototype=1`, { body: { name: 'Renamed' } });
      await refused(400, 'DELETE', `/api/v1/users/${user.id}?prototype=1`);
    });

    it('?__proto__=x is a 400 like any unknown key, not silently dropped', async () => {
      const response = await t.request('GET', '/api/v1/users?__proto__=x');
      expectApiError(response, 400);
      expect(response.body.message).toEqual(expect.stringContaining('__proto__'));
    });
  });

  describe('bytes and charsets that are not UTF-8', () => {
    const around = (bytes: number[]) =>
      Buffer.concat([Buffer.from('{"name":"Ad'), Buffer.from(bytes), Buffer.from('a Lovelace","email":"bytes@example.com"}')]);

    it('the same request with valid UTF-8 bytes is accepted (the bytes reach the app as sent)', async () => {
      const response = await sendBytes('POST', '/api/v1/users', around([0xc3, 0xa9]));
      expect(response.status).toBe(201);
      expect(response.body.name).toBe('Adéa Lovelace');
    });

    it.each([
      ['0xFF', [0xff]],
      ['a lone continuation byte 0x80', [0x80]],
      ['overlong 0xC0 0xAF', [0xc0, 0xaf]],
      ['a truncated sequence 0xE2 0x82', [0xe2, 0x82]],
      ['an encoded surrogate 0xED 0xA0 0x80', [0xed, 0xa0, 0x80]],
      ['beyond U+10FFFF 0xF4 0x90 0x80 0x80', [0xf4, 0x90, 0x80, 0x80]],
      ['Latin-1 é (0xE9)', [0xe9]],
    ])('%s in a body is a 400 on POST /users, register and PATCH, writing nothing', async (_case, bytes) => {
      const user = await createUser({ name: 'Target', email: 'target@example.com' });
      const before = await snapshot();
      for (const [method, path, as] of [
        ['POST', '/api/v1/users', t.admin.token],
        ['POST', '/api/v1/auth/register', null],
        ['PATCH', `/api/v1/users/${user.id}`, t.admin.token],
      ] as const) {
        const body = path.endsWith('register') ? Buffer.concat([around(bytes).subarray(0, -1), Buffer.from(`,"password":"${password}"}`)]) : around(bytes);
        const response = await sendBytes(method, path, body, as);
        expect([method, path, response.status, response.body]).toEqual([method, path, 400, { statusCode: 400, error: 'Bad Request', message: 'Request body is not valid UTF-8' }]);
      }
      // A truncated sequence at the very end of the body, too.
      const truncated = await sendBytes('POST', '/api/v1/posts', Buffer.concat([Buffer.from(`{"title":"T","body":"B","authorId":${user.id},"x":"`), Buffer.from(bytes)]));
      expect(truncated.status).toBe(400);
      expect(await snapshot()).toBe(before);
    });

    it.each(['application/json; charset=latin1', 'application/json; charset=iso-8859-1', 'application/json; charset=ISO-8859-1', 'application/json; charset=utf-16', 'application/json;charset="windows-1252"'])(
      '%s is a 415 on POST /users, POST /posts and register, writing nothing',
      async (contentType) => {
        const user = await createUser({ name: 'Author', email: 'author@example.com' });
        const headers = { 'content-type': contentType };
        const response = await refused(415, 'POST', '/api/v1/users', { rawBody: JSON.stringify({ name: 'Zoë', email: 'zoe@example.com' }), headers });
        expect(response.body.message).toBe(CHARSET_MESSAGE);
        await refused(415, 'POST', '/api/v1/posts', { rawBody: JSON.stringify({ title: 'Café', body: 'B', authorId: user.id }), headers });
        await refused(415, 'POST', '/api/v1/auth/register', { as: null, rawBody: JSON.stringify({ name: 'Zoë', email: 'zoe@example.com', password }), headers });
      },
    );

    it.each([
      ['application/json; charset=utf-8; charset=latin1', CHARSET_MESSAGE],
      ['application/json; charset=latin1; charset=utf-8', CHARSET_MESSAGE],
      ['application/json; charset=utf-8; charset=utf-8', CHARSET_MESSAGE],
      ['application/json;charset=utf-8;charset=iso-8859-1', CHARSET_MESSAGE],
      ['application/json; charset', CHARSET_MESSAGE],
      ['application/json; charset=', CHARSET_MESSAGE],
      ['application/json; charset=""', CHARSET_MESSAGE],
      // Not a JSON media type at all (it starts with "charset=utf-8,"): refused before any parser, in the filter's words.
      ['charset=utf-8, application/json; charset=latin1', 'Unsupported Media Type'],
    ])('%s (several charsets, or none named) is a 415 on POST /users, POST /posts and register, writing nothing', async (contentType, message) => {
      const user = await createUser({ name: 'Author', email: 'author@example.com' });
      const headers = { 'content-type': contentType };
      const response = await refused(415, 'POST', '/api/v1/users', { rawBody: JSON.stringify({ name: 'Zoë', email: 'zoe@example.com' }), headers });
      expect(response.body.message).toBe(message);
      await refused(415, 'POST', '/api/v1/posts', { rawBody: JSON.stringify({ title: 'Café', body: 'B', authorId: user.id }), headers });
      await refused(415, 'POST', '/api/v1/auth/register', { as: null, rawBody: JSON.stringify({ name: 'Zoë', email: 'zoe@example.com', password }), headers });
    });

    it('a Latin-1 encoded body declared as Latin-1 is a 415, not re-read as something else', async () => {
      const before = await snapshot();
      const response = await fetch(`${t.baseUrl}/api/v1/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=iso-8859-1', authorization: `Bearer ${t.admin.token}` },
        body: Buffer.from('{"name":"Zo\u00eb","email":"zoe@example.com"}', 'latin1'),
      });
      expect(response.status).toBe(415);
      expect(await snapshot()).toBe(before);
    });

    it.each([
      'application/json; charset=utf-8',
      'application/json; charset=UTF-8',
      'application/json;charset=utf8',
      'application/json; charset=UTF8',
      'application/json; charset="utf-8"',
      'application/json; charset="UTF-8"',
      'application/json ; charset = utf-8',
      'application/json',
    ])(
      '%s is accepted, and non-ASCII text arrives intact',
      async (contentType) => {
        const name = 'Zoë Ωmega 東京 😀';
        const response = await t.request('POST', '/api/v1/users', { rawBody: JSON.stringify({ name, email: 'zoe@example.com' }), headers: { 'content-type': contentType } });
        expect(response.status).toBe(201);
        expect(response.body.name).toBe(name);
        expect(await t.rows(`SELECT name FROM users WHERE email = 'zoe@example.com'`)).toEqual([{ name }]);
      },
    );
  });

  describe('lone UTF-16 surrogates (valid JSON escapes, but not text)', () => {
    it.each(['\\ud800', '\\udc00', '\\udc00\\ud800', '\\ud83d'])('%s in a name, an email or a key is a 400 naming the field', async (escape) => {
      const send = (rawBody: string) => refused(400, 'POST', '/api/v1/users', { rawBody, headers: json });
      expect((await send(`{"name":"Ad${escape}a","email":"s@example.com"}`)).body.message).toBe('name must not contain lone UTF-16 surrogates');
      expect((await send(`{"name":"Ada","email":"s${escape}@example.com"}`)).body.message).toBe('email must not contain lone UTF-16 surrogates');
      expect((await send(`{"name":"Ada","email":"s@example.com","k${escape}":1}`)).body.message).toBe('A key in the body contains a lone UTF-16 surrogate');
    });

    it('in a title, a body, nested rows and posts, register and login, each naming the path', async () => {
      const user = await createUser({ name: 'Author', email: 'author@example.com' });
      const post = await createPost(user.id);
      const cases: Array<[string, string, string, string | null, string]> = [
        ['POST', '/api/v1/posts', `{"title":"T\\ud800","body":"B","authorId":${user.id}}`, t.admin.token, 'title must not contain lone UTF-16 surrogates'],
        ['POST', '/api/v1/posts', `{"title":"T","body":"B\\udfff","authorId":${user.id}}`, t.admin.token, 'body must not contain lone UTF-16 surrogates'],
        ['PATCH', `/api/v1/posts/${post.id}`, '{"body":"\\ud800 x"}', t.admin.token, 'body must not contain lone UTF-16 surrogates'],
        ['PATCH', `/api/v1/users/${user.id}`, '{"name":"\\udbff\\udbff"}', t.admin.token, 'name must not contain lone UTF-16 surrogates'],
        ['POST', '/api/v1/users/bulk', '{"users":[{"name":"Ada","email":"a@example.com"},{"name":"B\\ud800b","email":"b@example.com"}]}', t.admin.token, 'users.1.name must not contain lone UTF-16 surrogates'],
        ['POST', '/api/v1/users/with-posts', '{"name":"Ada","email":"a@example.com","posts":[{"title":"\\udc00","body":"B"}]}', t.admin.token, 'posts.0.title must not contain lone UTF-16 surrogates'],
        ['POST', '/api/v1/users/with-posts', '{"name":"Ada","email":"a@example.com","posts":[{"title":"T","body":"B","\\ud800":1}]}', t.admin.token, 'A key in posts.0 contains a lone UTF-16 surrogate'],
        ['POST', '/api/v1/auth/register', `{"name":"Ad\\ud800a","email":"a@example.com","password":"${password}"}`, null, 'name must not contain lone UTF-16 surrogates'],
        ['POST', '/api/v1/auth/login', `{"email":"a@example.com","password":"${password}\\ud800"}`, null, 'password must not contain lone UTF-16 surrogates'],
      ];
      for (const [method, path, rawBody, as, message] of cases) {
        const response = await refused(400, method, path, { rawBody, headers: json, as });
        expect([path, response.body.message]).toEqual([path, message]);
      }
      expect((await t.request('GET', `/api/v1/posts/${post.id}`)).body.body).toBe('A body');
    });

    it('a proper surrogate pair is text: accepted and stored as one character', async () => {
      const response = await t.request('POST', '/api/v1/users', { rawBody: '{"name":"Ada \\ud83d\\ude00","email":"pair@example.com"}', headers: json });
      expect(response.status).toBe(201);
      expect(response.body.name).toBe('Ada 😀');
      expect(await t.rows(`SELECT char_length(name) AS n FROM users WHERE email = 'pair@example.com'`)).toEqual([{ n: 5 }]);
    });
  });

  describe('control and invisible characters in names and titles', () => {
    const hidden: Array<[string, string]> = [
      ['U+0000 NUL', '\u0000'],
      ['U+0007 BEL', '\u0007'],
      ['U+001B ESC', '\u001b'],
      ['U+200B zero-width space', '\u200b'],
      ['U+200E left-to-right mark', '\u200e'],
      ['U+202E right-to-left override', '\u202e'],
      ['U+2066 left-to-right isolate', '\u2066'],
      ['U+FEFF byte order mark', '\ufeff'],
      ['U+00AD soft hyphen', '\u00ad'],
      ['U+2028 line separator', '\u2028'],
      ['U+200D zero-width joiner between letters', '\u200d'],
      ['U+0085 next line (C1)', '\u0085'],
      ['U+E000 private use', '\ue000'],
      ['U+2800 braille pattern blank', '\u2800'],
      ['U+FFFC object replacement character', '\ufffc'],
      ['U+0378 (unassigned)', '\u0378'],
      ['U+FFFF (a noncharacter)', '\uffff'],
      ['U+FDD0 (a noncharacter)', '\ufdd0'],
    ];

    it.each(hidden)('%s inside a name or a title is a 400 on every path that takes one', async (_case, char) => {
      const user = await createUser({ name: 'Author', email: 'author@example.com' });
      const post = await createPost(user.id);
      const name = `Ad${char}a Lovelace`;
      const title = `Hello${char} world`;
      const cases: Array<[string, string, unknown, string | null, string]> = [
        ['POST', '/api/v1/users', { name, email: 'new@example.com' }, t.admin.token, `name ${INVISIBLE_MESSAGE}`],
        ['PATCH', `/api/v1/users/${user.id}`, { name }, t.admin.token, `name ${INVISIBLE_MESSAGE}`],
        ['POST', '/api/v1/users/bulk', { users: [{ name, email: 'new@example.com' }] }, t.admin.token, `users.0.name ${INVISIBLE_MESSAGE}`],
        ['POST', '/api/v1/users/with-posts', { name, email: 'new@example.com', posts: [] }, t.admin.token, `name ${INVISIBLE_MESSAGE}`],
        ['POST', '/api/v1/users/with-posts', { name: 'Ada', email: 'new@example.com', posts: [{ title, body: 'B' }] }, t.admin.token, `posts.0.title ${INVISIBLE_MESSAGE}`],
        ['POST', '/api/v1/auth/register', { name, email: 'new@example.com', password }, null, `name ${INVISIBLE_MESSAGE}`],
        ['POST', '/api/v1/posts', { title, body: 'B', authorId: user.id }, t.admin.token, `title ${INVISIBLE_MESSAGE}`],
        ['PATCH', `/api/v1/posts/${post.id}`, { title }, t.admin.token, `title ${INVISIBLE_MESSAGE}`],
      ];
      for (const [method, path, body, as, message] of cases) {
        const response = await refused(400, method, path, { body, as });
        expect([path, messages(response)]).toEqual([path, expect.arrayContaining([message])]);
      }
    });

    it.each([
      ['two combining marks alone', '\u0301\u0301'],
      ['a combining mark before a letter', '\u0301x'],
      ['a combining mark after leading spaces (trimmed first)', '  \u0301xy'],
    ])('a name or a title that starts with %s is a 400 on every path that takes one', async (_case, text) => {
      const user = await createUser({ name: 'Author', email: 'author@example.com' });
      const post = await createPost(user.id);
      const message = 'must not start with a combining mark';
      const cases: Array<[string, string, unknown, string | null, string]> = [
        ['POST', '/api/v1/users', { name: text, email: 'new@example.com' }, t.admin.token, `name ${message}`],
        ['PATCH', `/api/v1/users/${user.id}`, { name: text }, t.admin.token, `name ${message}`],
        ['POST', '/api/v1/users/bulk', { users: [{ name: text, email: 'new@example.com' }] }, t.admin.token, `users.0.name ${message}`],
        ['POST', '/api/v1/users/with-posts', { name: text, email: 'new@example.com', posts: [] }, t.admin.token, `name ${message}`],
        ['POST', '/api/v1/users/with-posts', { name: 'Ada', email: 'new@example.com', posts: [{ title: text, body: 'B' }] }, t.admin.token, `posts.0.title ${message}`],
        ['POST', '/api/v1/auth/register', { name: text, email: 'new@example.com', password }, null, `name ${message}`],
        ['POST', '/api/v1/posts', { title: text, body: 'B', authorId: user.id }, t.admin.token, `title ${message}`],
        ['PATCH', `/api/v1/posts/${post.id}`, { title: text }, t.admin.token, `title ${message}`],
      ];
      for (const [method, path, body, as, expected] of cases) {
        const response = await refused(400, method, path, { body, as });
        expect([path, messages(response)]).toEqual([path, [expected]]);
      }
    });

    it.each([
      ['precomposed accents', 'José García', 'José García'],
      ['decomposed accents, composed on the way in', 'Jose\u0301 Garci\u0301a', 'José García'],
      ['surrounding spaces, trimmed', '  \u00a0Zoë Ångström\u3000 ', 'Zoë Ångström'],
      ['an emoji with zero-width joiners', '👩‍💻 Ada', '👩‍💻 Ada'],
      ['a flag sequence with a variation selector', '🏳️‍🌈 Pride', '🏳️‍🌈 Pride'],
      ['a family emoji', '👨‍👩‍👧 Family', '👨‍👩‍👧 Family'],
      ['CJK', '東京 太郎', '東京 太郎'],
      ['Arabic', 'محمد علي', 'محمد علي'],
      ['Hebrew with combining points', 'שָׁלוֹם', 'שָׁלוֹם'.normalize('NFC')],
      ['Devanagari', 'देवनागरी नाम', 'देवनागरी नाम'],
      ['an emoji with a variation selector', '☺️ Smile', '☺️ Smile'],
      ['a combining mark on a letter that has no composed form', 'Ŋ\u0301ada', 'Ŋ\u0301ada'],
    ])('a name and a title with %s are accepted, trimmed and composed (NFC)', async (_case, sent, stored) => {
      const created = await t.request('POST', '/api/v1/users', { body: { name: sent, email: 'text@example.com' } });
      expect(created.status).toBe(201);
      expect(created.body.name).toBe(stored);
      expect(created.body.name.normalize('NFC')).toBe(created.body.name);
      const post = await t.request('POST', '/api/v1/posts', { body: { title: sent, body: 'B', authorId: created.body.id } });
      expect(post.status).toBe(201);
      expect(post.body.title).toBe(stored);
      expect(await t.rows('SELECT name FROM users WHERE id = $1', [created.body.id])).toEqual([{ name: stored }]);
      expect(await t.rows('SELECT title FROM posts WHERE id = $1', [post.body.id])).toEqual([{ title: stored }]);
      // And the same on updates and in bulk.
      const patched = await t.request('PATCH', `/api/v1/users/${created.body.id}`, { body: { name: ` ${sent} ` } });
      expect(patched.body.name).toBe(stored);
      const bulk = await t.request('POST', '/api/v1/users/bulk', { body: { users: [{ name: sent, email: 'bulk-text@example.com' }] } });
      expect(bulk.status).toBe(200);
      expect(bulk.body.data[0].name).toBe(stored);
    });

    it.each([
      ['spaces', '   '],
      ['tabs and newlines', ' \t\n '],
      ['no-break and ideographic spaces', '\u00a0\u3000\u00a0'],
      ['an empty string', ''],
    ])('a name or title of only %s is a 400 (too short once trimmed)', async (_case, blank) => {
      const user = await createUser({ name: 'Author', email: 'author@example.com' });
      const post = await createPost(user.id);
      const nameMessage = 'name must be between 2 and 100 characters long';
      const titleMessage = 'title must be between 1 and 255 characters long';
      expect(messages(await refused(400, 'POST', '/api/v1/users', { body: { name: blank, email: 'blank@example.com' } }))).toContain(nameMessage);
      expect(messages(await refused(400, 'PATCH', `/api/v1/users/${user.id}`, { body: { name: blank } }))).toContain(nameMessage);
      expect(messages(await refused(400, 'POST', '/api/v1/auth/register', { as: null, body: { name: blank, email: 'blank@example.com', password } }))).toContain(nameMessage);
      expect(messages(await refused(400, 'POST', '/api/v1/posts', { body: { title: blank, body: 'B', authorId: user.id } }))).toContain(titleMessage);
      expect(messages(await refused(400, 'PATCH', `/api/v1/posts/${post.id}`, { body: { title: blank } }))).toContain(titleMessage);
      expect(messages(await refused(400, 'POST', '/api/v1/users/bulk', { body: { users: [{ name: blank, email: 'blank@example.com' }] } }))).toContain(`users.0.${nameMessage}`);
    });

    it('lengths are counted in characters (code points), not UTF-16 units', async () => {
      const hundred = '😀'.repeat(100);
      const created = await t.request('POST', '/api/v1/users', { body: { name: hundred, email: 'emoji@example.com' } });
      expect(created.status).toBe(201);
      expect(await t.rows('SELECT char_length(name) AS n FROM users WHERE id = $1', [created.body.id])).toEqual([{ n: 100 }]);
      await refused(400, 'POST', '/api/v1/users', { body: { name: `${hundred}😀`, email: 'emoji2@example.com' } });
      const title = await t.request('POST', '/api/v1/posts', { body: { title: '東'.repeat(255), body: 'B', authorId: created.body.id } });
      expect(title.status).toBe(201);
      await refused(400, 'POST', '/api/v1/posts', { body: { title: '😀'.repeat(256), body: 'B', authorId: created.body.id } });
    });

    it('a two-character name that is an emoji and its variation selector (☺️, 2 code points) is accepted on every path', async () => {
      // The DTO counts code points, as PostgreSQL does; the model's own length rule must not count differently and
      // refuse on some paths what the DTO lets through (and the raw-SQL PATCH accepts).
      const name = '\u263a\ufe0f';
      const target = await createUser({ name: 'Target', email: 'target@example.com' });
      const answers = {
        create: (await t.request('POST', '/api/v1/users', { body: { name, email: 'smile@example.com' } })).status,
        patch: (await t.request('PATCH', `/api/v1/users/${target.id}`, { body: { name } })).status,
        bulk: (await t.request('POST', '/api/v1/users/bulk', { body: { users: [{ name, email: 'smile-bulk@example.com' }] } })).status,
        withPosts: (await t.request('POST', '/api/v1/users/with-posts', { body: { name, email: 'smile-posts@example.com', posts: [] } })).status,
        register: (await t.request('POST', '/api/v1/auth/register', { as: null, body: { name, email: 'smile-account@example.com', password } })).status,
      };
      expect(answers).toEqual({ create: 201, patch: 200, bulk: 200, withPosts: 201, register: 201 });
    });
  });

  describe('post bodies (prose)', () => {
    let author: any;
    beforeEach(async () => {
      author = await createUser({ name: 'Author', email: 'author@example.com' });
    });

    it('keeps tabs and line breaks exactly as sent', async () => {
      const body = 'Line one\n\tindented\r\nline three\rend\n';
      const post = await t.request('POST', '/api/v1/posts', { body: { title: 'Prose', body, authorId: author.id } });
      expect(post.status).toBe(201);
      expect(post.body.body).toBe(body);
      expect(await t.rows('SELECT body FROM posts WHERE id = $1', [post.body.id])).toEqual([{ body }]);
    });

    it.each([
      ['U+0007 BEL', '\u0007'],
      ['U+0000 NUL', '\u0000'],
      ['U+001B ESC', '\u001b'],
      ['U+000B vertical tab', '\u000b'],
      ['U+007F DEL', '\u007f'],
      ['U+0085 next line', '\u0085'],
    ])('refuses a body with %s on create, update and with-posts', async (_case, char) => {
      const message = 'body must not contain control characters other than tab and line breaks';
      const body = `ring the ${char} bell`;
      const post = await createPost(author.id, { body: 'Original' });
      expect(messages(await refused(400, 'POST', '/api/v1/posts', { body: { title: 'T', body, authorId: author.id } }))).toContain(message);
      expect(messages(await refused(400, 'PATCH', `/api/v1/posts/${post.id}`, { body: { body } }))).toContain(message);
      expect(messages(await refused(400, 'POST', '/api/v1/users/with-posts', { body: { name: 'Ada', email: 'ada@example.com', posts: [{ title: 'T', body }] } }))).toContain(
        `posts.0.${message}`,
      );
      expect((await t.request('GET', `/api/v1/posts/${post.id}`)).body.body).toBe('Original');
    });

    it('accepts exactly 20,000 characters, astral ones included, and refuses 20,001', async () => {
      for (const unit of ['😀', 'x']) {
        const exact = unit.repeat(20_000);
        const post = await t.request('POST', '/api/v1/posts', { body: { title: `Long ${unit}`, body: exact, authorId: author.id } });
        expect([unit, post.status]).toEqual([unit, 201]);
        expect(await t.rows('SELECT char_length(body) AS n FROM posts WHERE id = $1', [post.body.id])).toEqual([{ n: 20_000 }]);
        const over = await refused(400, 'POST', '/api/v1/posts', { body: { title: 'Too long', body: exact + unit, authorId: author.id } });
        expect(messages(over)).toContain('body must be between 1 and 20000 characters long');
        await refused(400, 'PATCH', `/api/v1/posts/${post.body.id}`, { body: { body: exact + unit } });
        // Mixed: 19,999 emoji and one letter are 20,000 characters (39,999 UTF-16 units).
        const mixed = await t.request('PATCH', `/api/v1/posts/${post.body.id}`, { body: { body: `${'😀'.repeat(19_999)}a` } });
        expect(mixed.status).toBe(200);
      }
    });
  });

  describe('look-alike emails', () => {
    // Precomposed é (U+00E9), as stored.
    const jose = 'jos\u00e9@example.com';
    let ada: any;
    let joseUser: any;

    beforeEach(async () => {
      ada = await createUser({ name: 'Ada', email: 'ada@example.com' });
      joseUser = await createUser({ name: 'José', email: jose });
    });

    /** Spellings of the two addresses above: the same account once normalised. */
    const sameAccount: Array<[string, string, () => any]> = [
      ['upper case and a trailing space', 'ADA@EXAMPLE.COM ', () => ada],
      ['e + U+0301 for é', 'jose\u0301@example.com', () => joseUser],
      ['upper case, decomposed É', 'JOSE\u0301@Example.com', () => joseUser],
    ];
    /** Addresses that would print like one of them but are another string: refused outright. */
    const confusable: Array<[string, string, RegExp]> = [
      ['a Cyrillic а among Latin letters', 'ad\u0430@example.com', /^(users\.0\.)?email must not mix writing systems/],
      ['a Cyrillic а in the domain', 'ada@ex\u0430mple.com', /^(users\.0\.)?email must not mix writing systems/],
      ['a zero-width space', 'ad\u200ba@example.com', /^(users\.0\.)?email must not contain spaces, control or invisible characters$/],
      ['a Turkish dotted İ (lower-cases to i + U+0307)', '\u0130da@example.com', /^(users\.0\.)?email must not put combining marks on plain letters$/],
      ['a combining mark that composes with nothing (a + U+0332)', 'ada\u0332@example.com', /^(users\.0\.)?email must not put combining marks on plain letters$/],
      ['a no-break space', 'ada\u00a0@example.com', /^(users\.0\.)?email must not contain spaces, control or invisible characters$/],
      // A mark on a Latin letter (not only an ASCII one), or on nothing at the start of a part, only draws a look-alike.
      ['a dotless ı with a combining dot above (prints as i)', '\u0131\u0307stanbul@x.test', /^(users\.0\.)?email must not put combining marks on plain letters$/],
      ['a dotless ȷ with a combining dot above (prints as j)', '\u0237\u0307ohn@x.test', /^(users\.0\.)?email must not put combining marks on plain letters$/],
      ['a combining mark at the start of the address', '\u0301user@x.test', /^(users\.0\.)?email must not put combining marks on plain letters$/],
      ['a dotless ı with a combining long solidus overlay', '\u0131\u0338stanbul@x.test', /^(users\.0\.)?email must not put combining marks on plain letters$/],
      ['a quoted local part', '"ada"@example.com', /^(users\.0\.)?email must not be a quoted address$/],
    ];

    it('the stored form is composed: created as e + U+0301, stored and returned as é', async () => {
      const created = await createUser({ name: 'René', email: 'rene\u0301@example.com' });
      expect(created.email).toBe('ren\u00e9@example.com');
      expect(await t.rows('SELECT email, char_length(email) AS n FROM users WHERE id = $1', [created.id])).toEqual([{ email: 'ren\u00e9@example.com', n: 16 }]);
    });

    it.each(sameAccount)('POST /users with %s is a 409: the same account', async (_case, email) => {
      const response = await refused(409, 'POST', '/api/v1/users', { body: { name: 'Twin', email } });
      expect(response.body.message).toMatch(/email/);
    });

    it.each(confusable)('POST /users with %s is a 400', async (_case, email, message) => {
      const response = await refused(400, 'POST', '/api/v1/users', { body: { name: 'Twin', email } });
      expect(messages(response)).toEqual(expect.arrayContaining([expect.stringMatching(message)]));
    });

    it.each(sameAccount)('PATCH of another user to %s is a 409; of the owner, no change', async (_case, email, owner) => {
      const other = await createUser({ name: 'Other', email: 'other@example.com' });
      await refused(409, 'PATCH', `/api/v1/users/${other.id}`, { body: { email } });
      const own = await t.request('PATCH', `/api/v1/users/${owner().id}`, { body: { email } });
      expect(own.status).toBe(200);
      expect(own.body.email).toBe(owner().email);
    });

    it.each(confusable)('PATCH to %s is a 400', async (_case, email, message) => {
      const response = await refused(400, 'PATCH', `/api/v1/users/${ada.id}`, { body: { email } });
      expect(messages(response)).toEqual(expect.arrayContaining([expect.stringMatching(message)]));
    });

    it.each(sameAccount)('POST /users/bulk with %s updates that account instead of adding one', async (_case, email, owner) => {
      const response = await t.request('POST', '/api/v1/users/bulk', { body: { users: [{ name: 'Renamed By Bulk', email }] } });
      expect(response.status).toBe(200);
      expect(response.body.data).toEqual([expect.objectContaining({ id: owner().id, email: owner().email, name: 'Renamed By Bulk' })]);
      expect(await t.rows('SELECT count(*)::int AS n FROM users WHERE email = $1', [owner().email])).toEqual([{ n: 1 }]);
      expect(await t.rows('SELECT count(*)::int AS n FROM users')).toEqual([{ n: 3 }]);
    });

    it('POST /users/bulk with é in both forms in one batch is a 400 (a repeated email)', async () => {
      const response = await refused(400, 'POST', '/api/v1/users/bulk', {
        body: { users: [{ name: 'One', email: 'zoe\u0301@example.com' }, { name: 'Two', email: 'ZO\u00c9@example.com' }] },
      });
      expect(messages(response)).toContain('users.1.email duplicates users.0.email');
    });

    it.each([
      ['ß and ss', 'straße@x.test', 'STRASSE@x.test'],
      ['capital ẞ and ss', 'STRA\u1e9eE@x.test', 'strasse@x.test'],
      ['capital ẞ and ß', 'STRA\u1e9eE@x.test', 'straße@x.test'],
      ['dotless ı and i', '\u0131stanbul@x.test', 'istanbul@x.test'],
      ['final ς and σ', 'λόγο\u03c2@x.test', 'λόγο\u03c3@x.test'],
    ])('POST /users/bulk with %s in one batch is a 400 (a repeated email)', async (_case, one, other) => {
      const response = await refused(400, 'POST', '/api/v1/users/bulk', { body: { users: [{ name: 'One', email: one }, { name: 'Two', email: other }] } });
      expect(messages(response)).toEqual(['users.1.email duplicates users.0.email']);
    });

    it.each(confusable)('POST /users/bulk with %s is a 400 naming the row', async (_case, email, message) => {
      const response = await refused(400, 'POST', '/api/v1/users/bulk', { body: { users: [{ name: 'Twin', email }] } });
      expect(messages(response)).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(message.source.replace('^(users\\.0\\.)?', '^users\\.0\\.')))]));
    });

    it.each(sameAccount)('POST /users/with-posts with %s is a 409, creating neither user nor posts', async (_case, email) => {
      await refused(409, 'POST', '/api/v1/users/with-posts', { body: { name: 'Twin', email, posts: [{ title: 'T', body: 'B' }] } });
    });

    it.each(confusable)('POST /users/with-posts with %s is a 400', async (_case, email) => {
      await refused(400, 'POST', '/api/v1/users/with-posts', { body: { name: 'Twin', email, posts: [{ title: 'T', body: 'B' }] } });
    });

    it.each(sameAccount)('POST /auth/register with %s is a 409', async (_case, email) => {
      await refused(409, 'POST', '/api/v1/auth/register', { as: null, body: { name: 'Twin', email, password } });
    });

    it.each(confusable)('POST /auth/register with %s is a 400', async (_case, email, message) => {
      const response = await refused(400, 'POST', '/api/v1/auth/register', { as: null, body: { name: 'Twin', email, password } });
      expect(messages(response)).toEqual(expect.arrayContaining([expect.stringMatching(message)]));
    });

    it('login with the decomposed or upper-case spelling of a registered precomposed email works', async () => {
      const registered = await t.request('POST', '/api/v1/auth/register', { as: null, body: { name: 'Zoé', email: 'zo\u00e9@example.com', password } });
      expect(registered.status).toBe(201);
      for (const email of ['zoe\u0301@example.com', 'ZOE\u0301@EXAMPLE.COM', ' ZO\u00c9@example.com ']) {
        const login = await t.request('POST', '/api/v1/auth/login', { as: null, body: { email, password } });
        expect([email, login.status]).toEqual([email, 200]);
        expect(login.body.user.id).toBe(registered.body.user.id);
        expect(login.body.user.email).toBe('zo\u00e9@example.com');
      }
    });

    /**
     * Spellings that lower-casing alone kept apart and case folding makes one: [first, second, the stored form].
     * Each pair is one account whichever spelling comes first.
     */
    const folded: Array<[string, string, string, string]> = [
      ['ß, then ss', 'straße@x.test', 'strasse@x.test', 'strasse@x.test'],
      ['ss, then ß', 'strasse@x.test', 'Straße@x.test', 'strasse@x.test'],
      ['dotless ı, then i', '\u0131stanbul@x.test', 'istanbul@x.test', 'istanbul@x.test'],
      ['i, then dotless ı', 'Istanbul@x.test', '\u0131stanbul@x.test', 'istanbul@x.test'],
      ['final ς, then σ', 'λόγο\u03c2@x.test', 'λόγο\u03c3@x.test', 'λόγο\u03c2@x.test'],
      ['σ, then upper case', 'λόγο\u03c3@x.test', 'ΛΌΓΟΣ@X.TEST', 'λόγο\u03c2@x.test'],
      ['capital ẞ, then ss', 'STRA\u1e9eE@x.test', 'strasse@x.test', 'strasse@x.test'],
      ['ß, then capital ẞ', 'straße@x.test', 'stra\u1e9ee@x.test', 'strasse@x.test'],
    ];

    it.each(folded)('%s: one account (the second spelling is a 409 on create, register and patch, and logs in)', async (_case, first, second, stored) => {
      const account = await t.request('POST', '/api/v1/auth/register', { as: null, body: { name: 'First', email: first, password } });
      expect(account.status).toBe(201);
      expect(account.body.user.email).toBe(stored);
      expect(await t.rows('SELECT email FROM users WHERE id = $1', [account.body.user.id])).toEqual([{ email: stored }]);
      await refused(409, 'POST', '/api/v1/users', { body: { name: 'Second', email: second } });
      await refused(409, 'POST', '/api/v1/auth/register', { as: null, body: { name: 'Second', email: second, password } });
      await refused(409, 'PATCH', `/api/v1/users/${ada.id}`, { body: { email: second } });
      for (const email of [first, second, stored]) {
        const login = await t.request('POST', '/api/v1/auth/login', { as: null, body: { email, password } });
        expect([email, login.status, login.body.user?.id]).toEqual([email, 200, account.body.user.id]);
      }
      const found = await t.request('GET', `/api/v1/users?email=${encodeURIComponent(second)}`);
      expect(found.body.data.map((user: any) => user.id)).toEqual([account.body.user.id]);
    });

    it('a Devanagari address, whose vowel signs are combining marks, is accepted: created, registered, logged in', async () => {
      const created = await createUser({ name: 'Namaste', email: 'नमस्ते@example.com' });
      expect(created.email).toBe('नमस्ते@example.com');
      const registered = await t.request('POST', '/api/v1/auth/register', { as: null, body: { name: 'Svagat', email: 'स्वागत@example.com', password } });
      expect(registered.status).toBe(201);
      const login = await t.request('POST', '/api/v1/auth/login', { as: null, body: { email: 'स्वागत@example.com', password } });
      expect([login.status, login.body.user.id]).toEqual([200, registered.body.user.id]);
    });

    it('an address of 254 characters is accepted and stored whole; one of 255 is a 400 on create, patch and register', async () => {
      const address = (length: number) => `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(length - 64 - 1 - 128 - 4)}.com`;
      expect([address(254).length, address(255).length]).toEqual([254, 255]);
      const created = await createUser({ name: 'Longest', email: address(254) });
      expect(created.email).toBe(address(254));
      expect(await t.rows('SELECT char_length(email) AS n FROM users WHERE id = $1', [created.id])).toEqual([{ n: 254 }]);
      const message = 'email must be between 1 and 254 characters long';
      expect(messages(await refused(400, 'POST', '/api/v1/users', { body: { name: 'Too Long', email: address(255) } }))).toContain(message);
      expect(messages(await refused(400, 'PATCH', `/api/v1/users/${ada.id}`, { body: { email: address(255) } }))).toContain(message);
      expect(messages(await refused(400, 'POST', '/api/v1/auth/register', { as: null, body: { name: 'Too Long', email: address(255), password } }))).toContain(message);
    });

    it('the served OpenAPI document gives every email the app takes a maxLength of 254', async () => {
      const document = (await t.request('GET', '/docs-json')).body;
      const schemas: Record<string, { properties?: Record<string, { maxLength?: number }> }> = document.components.schemas;
      const taken = ['CreateUser', 'UpdateUser', 'NewUser', 'CreateUserWithPosts', 'Register', 'Login'];
      expect(Object.fromEntries(taken.map((name) => [name, schemas[name]?.properties?.email?.maxLength]))).toEqual(Object.fromEntries(taken.map((name) => [name, 254])));
      const filter = document.paths['/api/v1/users'].get.parameters.find((parameter: { name: string }) => parameter.name === 'email');
      expect(filter.schema.maxLength).toBe(254);
    });

    it.each(confusable)('POST /auth/login with %s is a 400, opening no session', async (_case, email) => {
      await refused(400, 'POST', '/api/v1/auth/login', { as: null, body: { email, password } });
    });

    it('GET /users?email= finds the account under any spelling of it and refuses confusables', async () => {
      for (const [, email, owner] of sameAccount) {
        const response = await t.request('GET', `/api/v1/users?email=${encodeURIComponent(email)}`);
        expect([email, response.status, response.body.data?.map((user: any) => user.id)]).toEqual([email, 200, [owner().id]]);
      }
      for (const [, email] of confusable) {
        const response = await t.request('GET', `/api/v1/users?email=${encodeURIComponent(email)}`);
        expectApiError(response, 400);
      }
    });
  });

  describe('query strings that are not percent-encoded UTF-8', () => {
    it.each([
      ['q=%FF', '/api/v1/posts'],
      ['q=%ED%A0%80', '/api/v1/posts'],
      ['q=%E2%82', '/api/v1/users'],
      ['q=abc%C0%AF', '/api/v1/users'],
      ['%FF=1', '/api/v1/users'],
      ['sort=name&q=caf%E9', '/api/v1/posts'],
      ['x=%FF', '/health'],
    ])('?%s on GET %s is a 400', async (query, path) => {
      const response = await t.request('GET', `${path}?${query}`);
      expectApiError(response, 400);
      expect(response.body.message).toBe('The query string is not valid percent-encoded UTF-8');
    });

    it('a query string with %FF refuses a write', async () => {
      const user = await createUser({ name: 'Target', email: 'target@example.com' });
      await refused(400, 'PATCH', `/api/v1/users/${user.id}?x=%FF`, { body: { name: 'Renamed' } });
    });

    it('valid percent-encoded UTF-8 (and a literal % that is not an escape sequence) still searches', async () => {
      const author = await createUser({ name: 'Author', email: 'author@example.com' });
      const post = await createPost(author.id, { title: 'Café €5 100% sure', published: true });
      for (const q of ['caf%C3%A9', '%E2%82%AC5%20100', '100%25']) {
        const response = await t.request('GET', `/api/v1/posts?q=${q}`);
        expect([q, response.status, response.body.data?.map((p: any) => p.id)]).toEqual([q, 200, [post.id]]);
      }
    });
  });
});

/** Test-only routes that answer a 4xx worded by a library, and one that lets a real Sequelize ValidationError reach the filter. */
@Controller({ path: 'test-wording', version: '1' })
class WordingProbeController {
  @Get('http/:kind')
  http(@Param('kind') kind: string): never {
    const worded: Record<string, string | string[]> = {
      orm: 'Validation isEmail on email failed',
      'not-null': ['name is required', 'Post.title cannot be null'],
      postgres: 'invalid input syntax for type integer: "x"',
      fastify: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
      unique: 'users_email_live_unique must be unique',
      own: 'name must be between 2 and 100 characters long',
    };
    throw new BadRequestException(worded[kind]);
  }

  @Get('orm-validation')
  async ormValidation(): Promise<never> {
    await User.build({ name: null as unknown as string, email: 'not an email' }).validate();
    throw new Error('the model accepted an invalid user');
  }
}

@Module({ controllers: [WordingProbeController] })
class WordingProbeModule {}

describe('the harness refuses 4xx messages in a library’s words (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ imports: [WordingProbeModule] });
  });

  afterAll(async () => {
    await t.close();
  });

  it.each(['orm', 'not-null', 'postgres', 'fastify', 'unique'])('a 400 worded by a library (%s) fails the request', async (kind) => {
    await expect(t.request('GET', `/api/v1/test-wording/http/${kind}`)).rejects.toThrow(/GET \/api\/v1\/test-wording\/http\/.+ answered 400 in a library's words/);
  });

  it('a 400 in the API’s words passes', async () => {
    const response = await t.request('GET', '/api/v1/test-wording/http/own');
    expect(response.body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'name must be between 2 and 100 characters long' });
  });

  it('a Sequelize ValidationError reaching the filter is answered in the API’s words', async () => {
    const response = await t.request('GET', '/api/v1/test-wording/orm-validation');
    expect(response.status).toBe(400);
    expect(response.body.message).toEqual(expect.arrayContaining(['name is required', 'email must be an email address']));
  });
});
