import { MAX_BODY_DEPTH, MAX_BODY_FIELDS } from '../src/common/guards/request-input.guard';
import { createTestApp, type TestApp } from './utils/test-app';

describe('request bodies: content type, shape and size limits (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
    // Other files of this worker leave rows behind (only the harness admin is removed on close): start from none.
    await t.truncate();
  });

  afterAll(async () => {
    await t.close();
  });

  const userCount = async () => (await t.rows<{ n: number }>('SELECT count(*)::int AS n FROM users'))[0].n;

  it('rejects a body nested deeper than the limit with 400, not a crash', async () => {
    const deep = `${'['.repeat(50_000)}"x"${']'.repeat(50_000)}`;
    const before = await userCount();
    const response = await t.request('POST', '/api/v1/users', {
      rawBody: `{"name":${deep},"email":"deep@example.com"}`,
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ statusCode: 400, error: 'Bad Request', message: `Request body is nested more than ${MAX_BODY_DEPTH} levels deep` });
    expect(await userCount()).toBe(before);
  });

  const wideBody = (fields: Record<string, unknown>) => {
    const wide: Record<string, unknown> = { ...fields };
    for (let i = 0; i < MAX_BODY_FIELDS; i++) wide[`k${i}`] = i;
    return wide;
  };

  it('rejects a body with too many fields before validating them, and opens no transaction', async () => {
    const { result, statements } = await t.captureStatements(() => t.request('POST', '/api/v1/users', { body: wideBody({ name: 'Wide', email: 'wide@example.com' }) }));
    expect(result.status).toBe(400);
    expect(result.body.message).toBe(`Request body has more than ${MAX_BODY_FIELDS} fields`);
    // The only statement is the auth guard's look-up of the caller's session, which runs first: no BEGIN, no write.
    expect(statements).toEqual([expect.stringMatching(/^SELECT 1 FROM sessions WHERE /)]);
  });

  it('rejects a body with too many fields on an anonymous route (register) without touching the database', async () => {
    const { result, statements } = await t.captureStatements(() =>
      t.request('POST', '/api/v1/auth/register', { as: null, body: wideBody({ name: 'Wide', email: 'wide-account@example.com', password: 'a long enough passphrase' }) }),
    );
    expect(result.status).toBe(400);
    expect(result.body.message).toBe(`Request body has more than ${MAX_BODY_FIELDS} fields`);
    expect(statements).toEqual([]);
  });

  it('checks who is calling before the body: an anonymous oversized-shape write is a 401', async () => {
    const { result, statements } = await t.captureStatements(() => t.request('POST', '/api/v1/users', { as: null, body: wideBody({ name: 'Wide', email: 'wide@example.com' }) }));
    expect(result.status).toBe(401);
    expect(statements).toEqual([]);
  });

  it.each(['null', '[]', '"text"', '7'])('answers 400 to a PATCH whose body is %s, changing nothing', async (raw) => {
    const created = await t.request('POST', '/api/v1/users', { body: { name: 'Patched', email: `patched-${raw.length}@example.com` } });
    const response = await t.request('PATCH', `/api/v1/users/${created.body.id}`, { rawBody: raw, headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(400);
    expect(response.body.message).toBe('Request body must be a JSON object');
    expect((await t.request('GET', `/api/v1/users/${created.body.id}`)).body).toEqual(created.body);
  });

  it('still accepts the largest legitimate body: a bulk upsert of 1000 users', async () => {
    const users = Array.from({ length: 1000 }, (_, i) => ({ name: `Bulk ${i}`, email: `bulk-${i}@example.com`, role: 'user' }));
    const response = await t.request('POST', '/api/v1/users/bulk', { body: { users } });
    expect(response.status).toBe(200);
    expect(response.body.data).toHaveLength(1000);
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/xml'])('answers 415 to a %s body, creating nothing', async (contentType) => {
    const response = await t.request('POST', '/api/v1/users', { rawBody: 'name=Plain&email=plain@example.com', headers: { 'content-type': contentType } });
    expect(response.status).toBe(415);
    expect(response.body).toMatchObject({ statusCode: 415, error: 'Unsupported Media Type' });
    expect(await t.rows("SELECT id FROM users WHERE email = 'plain@example.com'")).toEqual([]);
  });
});
