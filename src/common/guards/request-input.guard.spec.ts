import { BadRequestException, type ExecutionContext } from '@nestjs/common';
import { RequestInputGuard, MAX_BODY_DEPTH, MAX_BODY_FIELDS } from './request-input.guard';

const contextFor = (request: { body?: unknown; url?: string; query?: Record<string, unknown> }) =>
  ({ getType: () => 'http', switchToHttp: () => ({ getRequest: () => ({ url: '/', query: {}, ...request }) }) }) as unknown as ExecutionContext;
const contextWith = (body: unknown) => contextFor({ body });

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let level = 0; level < depth; level++) value = [value];
  return value;
}

describe('RequestInputGuard', () => {
  const guard = new RequestInputGuard();

  it('lets ordinary and empty bodies through', () => {
    expect(guard.canActivate(contextWith(undefined))).toBe(true);
    expect(guard.canActivate(contextWith({ name: 'Ada', email: 'ada@example.com' }))).toBe(true);
    const bulk = { users: Array.from({ length: 1000 }, (_, i) => ({ name: `User ${i}`, email: `u${i}@example.com`, role: 'user' })) };
    expect(guard.canActivate(contextWith(bulk))).toBe(true);
  });

  it.each([null, [], [{ name: 'x' }], 42, 'text', true])('rejects a body that is not a JSON object (%p)', (body) => {
    expect(() => guard.canActivate(contextWith(body))).toThrow(new BadRequestException('Request body must be a JSON object'));
  });

  it('rejects a body with too many fields, counting keys and array items at every level', () => {
    const wide = Object.fromEntries(Array.from({ length: MAX_BODY_FIELDS + 1 }, (_, i) => [`k${i}`, i]));
    expect(() => guard.canActivate(contextWith(wide))).toThrow(new BadRequestException(`Request body has more than ${MAX_BODY_FIELDS} fields`));
    const spread = { a: Array.from({ length: 3000 }, () => 0), b: { c: Array.from({ length: 3000 }, () => 0) } };
    expect(() => guard.canActivate(contextWith(spread))).toThrow(/more than 5000 fields/);
  });

  it('rejects deep nesting without recursing into it', () => {
    expect(guard.canActivate(contextWith({ v: nested(MAX_BODY_DEPTH - 2) }))).toBe(true);
    expect(() => guard.canActivate(contextWith({ v: nested(MAX_BODY_DEPTH) }))).toThrow(/nested more than/);
    expect(() => guard.canActivate(contextWith({ v: nested(100_000) }))).toThrow(/nested more than/);
  });

  it('lets through a request that is not HTTP', () => {
    expect(guard.canActivate({ getType: () => 'rpc' } as unknown as ExecutionContext)).toBe(true);
  });

  describe('keys named like Object.prototype members', () => {
    const refusal = (message: string) => new BadRequestException(message);

    it.each(Object.getOwnPropertyNames(Object.prototype))('refuses %s at the top of a body', (key) => {
      // JSON.parse makes even "__proto__" an own key, as Fastify's parser would if it let it through.
      const body = JSON.parse(`{"name":"Ada",${JSON.stringify(key)}:1}`) as object;
      expect(() => guard.canActivate(contextWith(body))).toThrow(refusal(`property ${key} should not exist`));
    });

    it('names the path of a nested one the way the ValidationPipe names any unknown nested key', () => {
      const bulk: { users: object[] } = { users: [{ name: 'Ada', email: 'a@x.io' }, { name: 'Bob', email: 'b@x.io', constructor: 1 }] };
      expect(() => guard.canActivate(contextWith(bulk))).toThrow(refusal('users.1.property constructor should not exist'));
      const withPosts = { name: 'Ada', posts: [{ title: 'T', meta: { toString: 'x' } }] };
      expect(() => guard.canActivate(contextWith(withPosts))).toThrow(refusal('posts.0.meta.property toString should not exist'));
    });

    it('refuses `prototype` as well (class-validator\'s whitelist lets it through too), at the top and nested', () => {
      expect(() => guard.canActivate(contextWith({ name: 'Ada', prototype: 1 }))).toThrow(refusal('property prototype should not exist'));
      const bulk = { users: [{ name: 'Ada', email: 'a@x.io' }, { name: 'Bob', email: 'b@x.io', prototype: { role: 'admin' } }] };
      expect(() => guard.canActivate(contextWith(bulk))).toThrow(refusal('users.1.property prototype should not exist'));
      const withPosts = { name: 'Ada', email: 'a@x.io', posts: [{ title: 'T', body: 'B', prototype: null }] };
      expect(() => guard.canActivate(contextWith(withPosts))).toThrow(refusal('posts.0.property prototype should not exist'));
    });

    it.each([
      ['__proto__ at the top', '{"name":"Ada","__proto__":{"role":"admin"}}', 'property __proto__ should not exist'],
      ['__proto__ in a bulk row', '{"users":[{"name":"Ada","email":"a@x.io","__proto__":{"role":"admin"}}]}', 'users.0.property __proto__ should not exist'],
      ['__proto__ in a post of with-posts', '{"name":"Ada","posts":[{"title":"T","__proto__":{}}]}', 'posts.0.property __proto__ should not exist'],
      ['constructor.prototype', '{"constructor":{"prototype":{}}}', 'property constructor should not exist'],
      ['constructor.prototype after other keys', '{"name":"Ada","email":"a@x.io","constructor":{"prototype":{"role":"admin"}}}', 'property constructor should not exist'],
    ])('refuses prototype poisoning by name: %s', (_case, json, message) => {
      // As the JSON parser now hands them over: own keys of a plain object, the prototype untouched.
      const body = JSON.parse(json) as object;
      expect(() => guard.canActivate(contextWith(body))).toThrow(refusal(message));
      expect(({} as Record<string, unknown>).role).toBeUndefined();
    });

    it('lets through such names as values, other casings and longer keys', () => {
      const body = { name: 'constructor', title: 'toString', tags: ['hasOwnProperty', '__proto__', 'prototype'], Constructor: 1, constructorName: 1, valueOf_: 1, Prototype: 1, prototypes: 1 };
      expect(guard.canActivate(contextWith(body))).toBe(true);
    });

    it.each(['constructor', 'toString', 'hasOwnProperty', '__proto__', '__defineGetter__', 'prototype'])('refuses %s as a query parameter', (key) => {
      const query = Object.assign(Object.create(null) as Record<string, unknown>, { limit: '5', [key]: 'x' });
      expect(() => guard.canActivate(contextFor({ url: `/api/v1/users?limit=5&${key}=x`, query }))).toThrow(refusal(`property ${key} should not exist`));
    });

    it('lets ordinary query parameters through', () => {
      expect(guard.canActivate(contextFor({ url: '/api/v1/users?limit=5&sort=-name', query: { limit: '5', sort: '-name' } }))).toBe(true);
    });
  });

  describe('lone UTF-16 surrogates', () => {
    it.each([
      ['a top-level value', { name: 'Ad\ud800a' }, 'name must not contain lone UTF-16 surrogates'],
      ['a low surrogate alone', { title: '\udc00' }, 'title must not contain lone UTF-16 surrogates'],
      ['a reversed pair', { body: '\ude00\ud83d' }, 'body must not contain lone UTF-16 surrogates'],
      ['a value in a bulk row', { users: [{ name: 'Ada', email: 'a@x.io' }, { name: 'Bob', email: 'b\ud83d@x.io' }] }, 'users.1.email must not contain lone UTF-16 surrogates'],
      ['an array item', { tags: ['ok', 'x\udfff'] }, 'tags.1 must not contain lone UTF-16 surrogates'],
      ['a top-level key', { name: 'Ada', ['k\ud800']: 1 }, 'A key in the body contains a lone UTF-16 surrogate'],
      ['a nested key', { posts: [{ title: 'T', ['\udc00']: 1 }] }, 'A key in posts.0 contains a lone UTF-16 surrogate'],
    ])('refuses one in %s, naming where', (_case, body, message) => {
      expect(() => guard.canActivate(contextWith(body))).toThrow(new BadRequestException(message));
    });

    it('lets proper surrogate pairs through, in keys and values', () => {
      expect(guard.canActivate(contextWith({ name: 'Ada 😀', posts: [{ title: '👩‍💻', ['😀']: 'ok' }] }))).toBe(true);
    });
  });

  describe('query strings that are not percent-encoded UTF-8', () => {
    const message = 'The query string is not valid percent-encoded UTF-8';

    it.each(['/api/v1/posts?q=%FF', '/api/v1/posts?q=%ED%A0%80', '/api/v1/users?q=%E2%82', '/api/v1/users?q=abc%C0%AF', '/api/v1/users?%FF=1', '/api/v1/users?limit=5&q=caf%E9', '/health?x=%'])(
      'refuses %s',
      (url) => {
        expect(() => guard.canActivate(contextFor({ url, query: {} }))).toThrow(new BadRequestException(message));
      },
    );

    it.each(['/api/v1/posts?q=caf%C3%A9', '/api/v1/posts?q=%E2%82%AC%205&sort=-id', '/api/v1/posts?q=100%25', '/api/v1/posts?q=plain', '/api/v1/posts', '/api/v1/users/%FF', '/api/v1/users/%FF?limit=5'])(
      'lets %s through (valid, or no percent sign in the query string)',
      (url) => {
        expect(guard.canActivate(contextFor({ url, query: {} }))).toBe(true);
      },
    );
  });
});
