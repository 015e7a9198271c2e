/**
 * The OpenAPI document as a product: the committed openapi.json is what the app serves, it is complete by the
 * rules of issue 5, it says which operations need a bearer token as issue 10 has it, the statuses raised below
 * the controllers are real and declared, and the response validator that every e2e request goes through catches
 * what it should.
 */
import { readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { createTestApp, type TestApp } from './utils/test-app';
import { OPENAPI_FILE, OpenApiValidator } from './utils/openapi-validator';

type Json = Record<string, any>;

const committed: Json = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8'));
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;
const operations = Object.entries<Json>(committed.paths).flatMap(([path, item]) =>
  METHODS.filter((method) => item[method]).map((method) => ({ path, method, operation: item[method] as Json })),
);
const label = ({ method, path }: { method: string; path: string }) => `${method.toUpperCase()} ${path}`;

const BEARER_ONLY = [{ bearer: [] }];
const BEARER_OR_ANONYMOUS = [{}, { bearer: [] }];
/** Public (served to anonymous callers too) as the document says it; the guard's agreement is checked below. */
const isPublic = ({ operation }: { operation: Json }) => (operation.security as Json[] | undefined)?.some((entry) => Object.keys(entry).length === 0) ?? false;

function resolve(node: Json): Json {
  let current = node;
  while (current?.$ref) {
    current = (current.$ref as string)
      .slice(2)
      .split('/')
      .reduce<Json>((value, segment) => value[segment], committed);
  }
  return current;
}

describe('openapi.json', () => {
  describe('is what the app serves', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp();
    });
    afterAll(async () => {
      await t.close();
    });

    it('equals /docs-json (run `npm run openapi` after changing controllers or DTOs)', async () => {
      const served = await t.request('GET', '/docs-json');
      expect(served.status).toBe(200);
      expect(served.body).toEqual(committed);
    });
  });

  describe('is complete', () => {
    // That the document lists exactly the routes the app serves is checked against the app's route log
    // (test/logging.e2e-spec.ts), so a new module needs no edit here.
    it('gives every operation a unique operation id and uses every declared tag', () => {
      const ids = operations.map(({ operation }) => operation.operationId);
      expect(new Set(ids).size).toBe(ids.length);
      const used = new Set(operations.flatMap(({ operation }) => operation.tags ?? []));
      expect(committed.tags.map((tag: Json) => tag.name).filter((name: string) => !used.has(name))).toEqual([]);
    });

    it('gives every operation a summary, one described tag and a readable operation id', () => {
      const tags = new Map<string, string>(committed.tags.map((tag: Json) => [tag.name, tag.description]));
      for (const entry of operations) {
        const { operation } = entry;
        expect([label(entry), typeof operation.summary === 'string' && operation.summary.length > 0]).toEqual([label(entry), true]);
        expect([label(entry), operation.operationId]).toEqual([label(entry), expect.stringMatching(/^[a-z][A-Za-z]+$/)]);
        expect([label(entry), operation.tags?.length, tags.get(operation.tags?.[0])]).toEqual([label(entry), 1, expect.any(String)]);
      }
    });

    it('bounds every integer parameter and sets the defaults the service applies', () => {
      for (const entry of operations) {
        for (const parameter of (entry.operation.parameters ?? []) as Json[]) {
          const where = `${label(entry)} ${parameter.name}`;
          expect([where, parameter.schema]).toEqual([where, expect.any(Object)]);
          if (parameter.schema.type === 'integer') {
            expect([where, typeof parameter.schema.minimum, typeof parameter.schema.maximum]).toEqual([where, 'number', 'number']);
          }
        }
      }
      const listUsers = operations.find(({ operation }) => operation.operationId === 'listUsers')!.operation;
      const parameter = (name: string) => listUsers.parameters.find((candidate: Json) => candidate.name === name).schema;
      expect(parameter('limit')).toMatchObject({ type: 'integer', minimum: 1, maximum: 100, default: 20 });
      expect(parameter('offset')).toMatchObject({ type: 'integer', minimum: 0, default: 0 });
      expect(parameter('sort')).toMatchObject({ type: 'string', default: '-createdAt' });
      expect(parameter('role')).toMatchObject({ enum: ['user', 'admin'] });
      expect(parameter('include')).toMatchObject({ enum: ['posts'] });
    });

    it('gives every request body a schema with an example for each field a client must send', () => {
      const bodies = operations.filter(({ operation }) => operation.requestBody);
      expect(bodies.length).toBeGreaterThan(0);
      const missing: string[] = [];
      const walk = (schema: Json, where: string, seen: Set<Json>) => {
        const resolved = resolve(schema);
        if (seen.has(resolved)) return;
        seen.add(resolved);
        if (resolved.type === 'array') return walk(resolved.items, `${where}[]`, seen);
        for (const name of (resolved.required ?? []) as string[]) {
          const property = resolved.properties[name];
          const target = resolve(property.allOf?.[0] ?? property);
          if (target.type === 'object' || target.type === 'array') walk(target, `${where}.${name}`, seen);
          else if (property.example === undefined && target.example === undefined) missing.push(`${where}.${name}`);
        }
      };
      for (const entry of bodies) {
        const media = entry.operation.requestBody.content['application/json'];
        expect([label(entry), entry.operation.requestBody.required, media?.schema?.$ref]).toEqual([label(entry), true, expect.any(String)]);
        walk(media.schema, label(entry), new Set());
      }
      expect(missing).toEqual([]);
    });

    it('declares a success response with a typed body (none for 204) and the shared error schema for every error', () => {
      for (const entry of operations) {
        const responses = entry.operation.responses as Json;
        const success = Object.keys(responses).filter((status) => status.startsWith('2'));
        expect([label(entry), success.length]).toEqual([label(entry), 1]);
        const content = resolve(responses[success[0]]).content;
        if (success[0] === '204') expect([label(entry), content]).toEqual([label(entry), undefined]);
        else expect([label(entry), content?.['application/json']?.schema]).toEqual([label(entry), expect.any(Object)]);

        for (const [status, response] of Object.entries<Json>(responses)) {
          const where = `${label(entry)} ${status}`;
          expect([where, resolve(response).description]).toEqual([where, expect.stringMatching(/\S/)]);
          // 408 and 431 are answered for the connection before any of the app runs: no request id.
          if (status === '408' || status === '431') expect([where, resolve(response).headers]).toEqual([where, undefined]);
          else expect([where, resolve(response).headers?.['X-Request-Id']]).toEqual([where, expect.any(Object)]);
          if (Number(status) >= 400) {
            expect([where, resolve(response).content['application/json'].schema]).toEqual([where, { $ref: '#/components/schemas/ErrorResponse' }]);
          }
        }
      }
    });

    it('declares the statuses raised below the controllers: 400/413/415 for bodies, 503 with Retry-After everywhere but liveness', () => {
      for (const entry of operations) {
        const statuses = Object.keys(entry.operation.responses);
        if (entry.operation.requestBody) expect([label(entry), statuses]).toEqual([label(entry), expect.arrayContaining(['400', '413', '415'])]);
        if ((entry.operation.parameters ?? []).length > 0) expect([label(entry), statuses]).toEqual([label(entry), expect.arrayContaining(['400'])]);
        // Liveness does no I/O and is never shed (see getLiveness below).
        if (entry.path === '/health/live') continue;
        expect([label(entry), statuses]).toEqual([label(entry), expect.arrayContaining(['503'])]);
        expect(entry.operation.responses['503'].headers['Retry-After']).toEqual({ $ref: '#/components/headers/Retry-After' });
      }
    });

    it('declares the error statuses of the API contract', () => {
      const statusesOf = (operationId: string) =>
        Object.keys(operations.find(({ operation }) => operation.operationId === operationId)!.operation.responses);
      expect(statusesOf('createUser')).toEqual(expect.arrayContaining(['201', '400', '409']));
      expect(statusesOf('getUser')).toEqual(expect.arrayContaining(['200', '400', '404']));
      expect(statusesOf('updateUser')).toEqual(expect.arrayContaining(['200', '400', '404', '409']));
      expect(statusesOf('deleteUser')).toEqual(expect.arrayContaining(['204', '404']));
      expect(statusesOf('restoreUser')).toEqual(expect.arrayContaining(['200', '404', '409']));
      expect(statusesOf('listUserPosts')).toEqual(expect.arrayContaining(['200', '400', '404']));
      expect(statusesOf('createPost')).toEqual(expect.arrayContaining(['201', '400', '422']));
      expect(statusesOf('updatePost')).toEqual(expect.arrayContaining(['200', '400', '404', '422']));
      expect(statusesOf('createUserWithPosts')).toEqual(expect.arrayContaining(['201', '400', '409']));
      expect(statusesOf('bulkUpsertUsers')).toEqual(expect.arrayContaining(['200', '400', '413']));
      // A token sent to health must be valid too (401); probes are never rate limited (no 429).
      expect(statusesOf('getHealth')).toEqual(['200', '400', '401', '408', '431', '503']);
      expect(statusesOf('getReadiness')).toEqual(['200', '400', '401', '408', '431', '503']);
      // Liveness does no I/O: nothing it depends on can be unavailable.
      expect(statusesOf('getLiveness')).toEqual(['200', '400', '401', '408', '431']);
      expect(statusesOf('register')).toEqual(expect.arrayContaining(['201', '400', '409', '429']));
      expect(statusesOf('login')).toEqual(expect.arrayContaining(['200', '400', '401', '429']));
      expect(statusesOf('refresh')).toEqual(expect.arrayContaining(['200', '400', '401', '429']));
      expect(statusesOf('logout')).toEqual(expect.arrayContaining(['204', '401']));
      expect(statusesOf('getMe')).toEqual(expect.arrayContaining(['200', '401']));
    });

    it('declares the bearer scheme, and which operations need it, as the access table has it', () => {
      expect(committed.components.securitySchemes).toEqual({ bearer: expect.objectContaining({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }) });
      // No document-wide default: each operation says it, so a new route cannot inherit the wrong answer.
      expect(committed.security).toBeUndefined();
      for (const entry of operations) {
        expect([label(entry), entry.operation.security]).toEqual([label(entry), isPublic(entry) ? BEARER_OR_ANONYMOUS : BEARER_ONLY]);
      }
    });

    it('documents 401 with WWW-Authenticate everywhere, and 403 and 429 on every operation that needs a token', () => {
      for (const entry of operations) {
        const responses = entry.operation.responses as Json;
        // A token that is sent must be valid on any route, public ones included.
        expect([label(entry), resolve(responses['401'] ?? {}).headers?.['WWW-Authenticate']]).toEqual([
          label(entry),
          { $ref: '#/components/headers/WWW-Authenticate' },
        ]);
        if (entry.operation.security.length === 1) {
          expect([label(entry), Object.keys(responses)]).toEqual([label(entry), expect.arrayContaining(['401', '403', '429'])]);
        }
        if (responses['429']) expect([label(entry), responses['429'].headers['Retry-After']]).toEqual([label(entry), { $ref: '#/components/headers/Retry-After' }]);
        // Every route but the health probes is rate limited.
        expect([label(entry), '429' in responses]).toEqual([label(entry), !entry.path.startsWith('/health')]);
      }
      expect(committed.components.headers['WWW-Authenticate']).toMatchObject({ required: true, schema: { type: 'string' } });
    });

    it('never documents a password or its hash in a response', () => {
      const leaks: string[] = [];
      const walk = (node: unknown, where: string): void => {
        if (Array.isArray(node)) return node.forEach((item, index) => walk(item, `${where}[${index}]`));
        if (typeof node !== 'object' || node === null) return;
        for (const [key, value] of Object.entries(node)) {
          if (/password/i.test(key) && where.includes('.properties')) leaks.push(`${where}.${key}`);
          walk(value, `${where}.${key}`);
        }
      };
      for (const name of ['User', 'UserWithPosts', 'Tokens', 'Post']) walk(committed.components.schemas[name], name);
      expect(leaks).toEqual([]);
      // Where a password is taken, the document says it is write-only.
      for (const name of ['Register', 'Login']) expect(committed.components.schemas[name].properties.password).toMatchObject({ format: 'password', writeOnly: true });
    });

    it('types the list envelopes per resource, with meta described', () => {
      const envelope = (operationId: string) =>
        resolve(operations.find(({ operation }) => operation.operationId === operationId)!.operation.responses['200'].content['application/json'].schema);
      for (const [operationId, item] of [
        ['listUsers', 'User'],
        ['listPosts', 'Post'],
        ['listUserPosts', 'Post'],
      ]) {
        const schema = envelope(operationId);
        expect(schema.required).toEqual(expect.arrayContaining(['data', 'meta']));
        expect(schema.properties.data).toMatchObject({ type: 'array', items: { $ref: `#/components/schemas/${item}` } });
        const meta = resolve(schema.properties.meta.allOf?.[0] ?? schema.properties.meta);
        // total and offset depend on the page (withTotal, cursor); limit and nextCursor are always there.
        expect(meta.required).toEqual(expect.arrayContaining(['limit', 'nextCursor']));
        expect(meta.required).not.toEqual(expect.arrayContaining(['total']));
        expect(meta.properties.nextCursor).toMatchObject({ type: 'string', nullable: true });
        for (const field of ['total', 'limit', 'offset', 'nextCursor']) expect([field, meta.properties[field].description]).toEqual([field, expect.any(String)]);
      }
    });

    it('defines the one error schema as the filter sends it', () => {
      expect(committed.components.schemas.ErrorResponse).toMatchObject({
        required: ['statusCode', 'error', 'message'],
        properties: { message: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] } },
      });
    });
  });

  describe('statuses raised below the controllers are real (the harness validates each response)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp();
    });
    afterAll(async () => {
      await t.close();
    });

    it('malformed JSON → 400', async () => {
      const response = await t.request('POST', '/api/v1/users', { rawBody: '{"name":', headers: { 'content-type': 'application/json' } });
      expect(response.status).toBe(400);
    });

    it('a body over 1 MiB → 413', async () => {
      const response = await t.request('POST', '/api/v1/posts', { body: { title: 't', body: 'x'.repeat(1024 * 1024 + 1), authorId: 1 } });
      expect(response.status).toBe(413);
    });

    it('a body that is not JSON → 415', async () => {
      const response = await t.request('PATCH', '/api/v1/users/1', { rawBody: '<user/>', headers: { 'content-type': 'application/xml' } });
      expect(response.status).toBe(415);
    });

    it('a path parameter over the router limit → 414 in the error shape, with the request id', async () => {
      const response = await t.request('GET', `/api/v1/users/${'9'.repeat(101)}/posts`);
      expect(response.status).toBe(414);
      expect(response.body).toEqual({ statusCode: 414, error: STATUS_CODES[414], message: expect.any(String) });
    });

    it('a malformed URL → 400 in the error shape, with the request id', async () => {
      const response = await t.request('GET', '/api/v1/posts/%E0%A4%A');
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ statusCode: 400, error: STATUS_CODES[400], message: expect.any(String) });
    });

    it('an unversioned or unknown path → 404 in the error shape', async () => {
      const response = await t.request('GET', '/api/v2/users');
      expect(response.status).toBe(404);
      expect(response.body).toMatchObject({ statusCode: 404, error: STATUS_CODES[404] });
    });

    it('every operation that needs a token answers 401 with WWW-Authenticate without one; the public ones serve anonymous callers', async () => {
      const refused: Array<[string, string | null]> = [];
      for (const entry of operations) {
        const path = entry.path.replace('{id}', '1');
        const response = await t.request(entry.method.toUpperCase(), path, { as: null, ...(entry.operation.requestBody && { body: {} }) });
        if (response.status === 401) refused.push([label(entry), response.headers.get('www-authenticate')]);
      }
      const protectedOperations = operations.filter((entry) => !isPublic(entry));
      expect(protectedOperations.length).toBeGreaterThan(0);
      expect(protectedOperations.length).toBeLessThan(operations.length);
      expect(refused).toEqual(protectedOperations.map((entry) => [label(entry), 'Bearer realm="api"']));
    });

    it('a token that is not valid → 401 on every operation, public ones included, before any body is looked at', async () => {
      for (const entry of operations) {
        const path = entry.path.replace('{id}', '1');
        const response = await t.request(entry.method.toUpperCase(), path, { as: 'not.a.token', ...(entry.operation.requestBody && { body: {} }) });
        expect([label(entry), response.status, response.headers.get('www-authenticate')]).toEqual([label(entry), 401, 'Bearer realm="api", error="invalid_token"']);
      }
    });

    it('echoes a plain X-Request-Id and replaces a hostile one', async () => {
      const echoed = await t.request('GET', '/api/v1/users', { headers: { 'x-request-id': 'client-42' } });
      expect(echoed.headers.get('x-request-id')).toBe('client-42');
      const replaced = await t.request('GET', '/api/v1/users', { headers: { 'x-request-id': 'a b\tc' } });
      expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  describe('the response validator', () => {
    const validator = new OpenApiValidator(committed);
    const headers = (extra: Record<string, string> = {}) => new Headers({ 'x-request-id': 'r', 'content-type': 'application/json', ...extra });
    const user = { id: 1, name: 'Ada', email: 'ada@example.com', role: 'user', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z' };
    const check = (method: string, url: string, status: number, body: unknown, extra?: Record<string, string>) =>
      validator.problems({ method, url, status, headers: headers(extra), text: body === undefined ? '' : JSON.stringify(body) });

    it('accepts a conforming response', () => {
      expect(check('GET', '/api/v1/users/1?include=posts', 200, { ...user, posts: [] })).toEqual([]);
      expect(check('GET', '/api/v1/users?limit=1', 200, { data: [user], meta: { total: 1, limit: 1, offset: 0, nextCursor: null } })).toEqual([]);
    });

    it('rejects a status the operation does not declare', () => {
      expect(check('GET', '/api/v1/users/1', 500, { statusCode: 500, error: 'Internal Server Error', message: 'x' })).toEqual([
        expect.stringMatching(/status 500 is not declared for getUser/),
      ]);
    });

    it('accepts a user without email (what callers other than the user and admins get)', () => {
      const { email: _email, ...withoutEmail } = user;
      expect(check('GET', '/api/v1/users/1', 200, withoutEmail)).toEqual([]);
    });

    it('rejects a body that misses a field, has a wrong type, or carries an undeclared one', () => {
      const { name: _name, ...withoutName } = user;
      expect(check('GET', '/api/v1/users/1', 200, withoutName).join()).toMatch(/must have required property 'name'/);
      expect(check('GET', '/api/v1/users/1', 200, { ...user, email: 42 }).join()).toMatch(/\/email must be string/);
      expect(check('GET', '/api/v1/users/1', 200, { ...user, passwordHash: '$argon2id$' }).join()).toMatch(/additional properties \(passwordHash\)/);
      expect(check('GET', '/api/v1/users/1', 200, { ...user, id: '1' }).join()).toMatch(/\/id must be integer/);
      expect(check('GET', '/api/v1/users/1', 200, { ...user, deletedAt: null }).join()).toMatch(/additional properties \(deletedAt\)/);
      expect(check('GET', '/api/v1/users/1', 200, { ...user, createdAt: 'yesterday' }).join()).toMatch(/createdAt must match format "date-time"/);
    });

    it('rejects an error body out of the shared shape, and a missing X-Request-Id or WWW-Authenticate', () => {
      expect(check('GET', '/api/v1/users/1', 404, { message: 'nope' }).join()).toMatch(/required property 'statusCode'/);
      const problems = validator.problems({ method: 'DELETE', url: '/api/v1/users/1', status: 204, headers: new Headers(), text: '' });
      expect(problems.join()).toMatch(/required header X-Request-Id is missing/);
      const unauthorized = { statusCode: 401, error: 'Unauthorized', message: 'Authentication required' };
      expect(check('POST', '/api/v1/users', 401, unauthorized).join()).toMatch(/required header WWW-Authenticate is missing/);
      expect(check('POST', '/api/v1/users', 401, unauthorized, { 'www-authenticate': 'Bearer realm="api"' })).toEqual([]);
    });

    it('routes static segments before parameters, and unknown routes to 404 only', () => {
      expect(check('POST', '/api/v1/users/bulk', 200, { data: [user] })).toEqual([]);
      expect(check('GET', '/api/v1/users/bulk', 400, { statusCode: 400, error: 'Bad Request', message: ['id must be an integer number'] })).toEqual([]);
      expect(check('PUT', '/api/v1/users/1', 404, { statusCode: 404, error: 'Not Found', message: 'Cannot PUT /api/v1/users/1' })).toEqual([]);
      expect(check('PUT', '/api/v1/users/1', 200, user).join()).toMatch(/no operation in the document serves PUT/);
    });
  });
});
