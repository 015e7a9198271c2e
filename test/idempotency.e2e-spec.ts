/**
 * Idempotency keys (issue 15) through real HTTP: a retry with the same key and body gets the first answer and writes
 * nothing; another body is a 422; a retry while the first still runs is a 409; keys are per caller and expire; a
 * request that fails stores nothing; 20 concurrent POSTs with one key create one post.
 */
import { IdempotencySweeper } from '../src/idempotency/idempotency-sweeper';
import { createUser, expectApiError } from './utils/fixtures';
import { createTestApp, type TestApp } from './utils/test-app';

describe('Idempotency keys (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(async () => {
    await t.close();
  });

  beforeEach(async () => {
    await t.truncate();
  });

  const postsTitled = async (title: string) => (await t.rows('SELECT id FROM posts WHERE title = $1', [title])).length;

  function post(authorId: number, key: string | undefined, title = 'Once', as?: string) {
    return t.request('POST', '/api/v1/posts', { body: { title, body: 'B', authorId }, headers: key === undefined ? {} : { 'idempotency-key': key }, as });
  }

  it('a retry with the same key and body: the first answer again, marked replayed, and no second write', async () => {
    const author = await createUser(t);
    const first = await post(author.id, 'retry-1');
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const again = await post(author.id, 'retry-1');
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(JSON.stringify(again.body)).toBe(JSON.stringify(first.body));
    expect(await postsTitled('Once')).toBe(1);
    expect(await t.rows('SELECT action FROM audit_events WHERE "tableName" = $1', ['posts'])).toEqual([{ action: 'create' }]);
  });

  it('the same key with another body or on another route: 422, nothing written', async () => {
    const author = await createUser(t);
    expect((await post(author.id, 'reused')).status).toBe(201);
    expectApiError(await post(author.id, 'reused', 'Something else'), 422);
    expectApiError(await t.request('POST', '/api/v1/users', { body: { name: 'Other', email: 'other@example.com' }, headers: { 'idempotency-key': 'reused' } }), 422);
    expect(await postsTitled('Something else')).toBe(0);
    expect(await t.rows('SELECT id FROM users WHERE email = $1', ['other@example.com'])).toEqual([]);
  });

  it('keys belong to their caller: the same key from another user is another request', async () => {
    const [ada, bob] = [await createUser(t), await createUser(t)];
    const [adaToken, bobToken] = [await t.tokenFor(ada), await t.tokenFor(bob)];
    expect((await post(ada.id, 'shared', 'By Ada', adaToken)).status).toBe(201);
    const bobs = await post(bob.id, 'shared', 'By Bob', bobToken);
    expect(bobs.status).toBe(201);
    expect(bobs.headers.get('idempotent-replayed')).toBeNull();
    expect(await postsTitled('By Bob')).toBe(1);
  });

  it('a request that fails stores nothing: the key may be used again for a corrected request', async () => {
    const author = await createUser(t);
    expectApiError(await post(2_147_483_647, 'fix-and-retry'), 422);
    const fixed = await post(author.id, 'fix-and-retry');
    expect(fixed.status).toBe(201);
    expect(fixed.headers.get('idempotent-replayed')).toBeNull();
  });

  it.each([
    ['empty', ''],
    ['a space', 'a b'],
    ['256 characters', 'k'.repeat(256)],
  ])('400 for a key that is %s, nothing written', async (_, key) => {
    const author = await createUser(t);
    expectApiError(await post(author.id, key), 400);
    expect(await postsTitled('Once')).toBe(0);
  });

  it('a retry while the first request still runs: 409 at once; after it, the replay', async () => {
    const author = await createUser(t);
    // Hold the author's row so that the first POST waits on its share lock (well under the app's lock timeout).
    const holder = await t.sequelize.transaction();
    await t.sequelize.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', { bind: [author.id], transaction: holder });
    const first = post(author.id, 'slow');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    expectApiError(await post(author.id, 'slow'), 409);
    expect(Date.now() - started).toBeLessThan(1000);
    await holder.commit();
    expect((await first).status).toBe(201);
    const replay = await post(author.id, 'slow');
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await postsTitled('Once')).toBe(1);
  });

  it('20 concurrent POSTs with one key: one post; every answer the same 201 or a 409', async () => {
    const author = await createUser(t);
    const responses = await Promise.all(Array.from({ length: 20 }, () => post(author.id, 'stampede', 'Stampede')));
    expect(await postsTitled('Stampede')).toBe(1);
    const created = responses.filter((response) => response.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(responses.filter((response) => response.status !== 201).every((response) => response.status === 409)).toBe(true);
    for (const response of created) expect(response.body).toEqual(created[0].body);
  });

  it('expired keys run anew, and the sweeper deletes them', async () => {
    const author = await createUser(t);
    expect((await post(author.id, 'old', 'Expiring')).status).toBe(201);
    await t.rows(`UPDATE idempotency_keys SET "expiresAt" = now() - interval '1 second' WHERE key = 'old'`);
    const after = await post(author.id, 'old', 'Expiring');
    expect(after.status).toBe(201);
    expect(after.headers.get('idempotent-replayed')).toBeNull();
    expect(await postsTitled('Expiring')).toBe(2);

    await t.rows(`UPDATE idempotency_keys SET "expiresAt" = now() - interval '1 second'`);
    expect(await t.app.get(IdempotencySweeper).run()).toBe(1);
    expect(await t.rows('SELECT key FROM idempotency_keys')).toEqual([]);
  });

  it('sweepers running at once (as on several instances) delete each expired key once, skip what another holds, and never wait', async () => {
    const EXPIRED = 4_500;
    const insertKeys = (prefix: string, count: number, expires: string) =>
      t.rows(
        `INSERT INTO idempotency_keys ("actorId", key, route, fingerprint, status, body, "createdAt", "expiresAt")
         SELECT $1, $2 || g, 'POST /api/v1/posts', repeat('0', 64), 201, '{}', now(), now() + $3::interval FROM generate_series(1, $4) AS g`,
        [t.admin.id, prefix, expires, count],
      );
    await insertKeys('expired-', EXPIRED, '-1 minute');
    await insertKeys('live-', 50, '1 hour');
    const sweeper = t.app.get(IdempotencySweeper);

    // Another sweeper (or a slow one) holding 100 expired keys: the others skip them instead of waiting on its locks.
    const holder = await t.sequelize.transaction();
    try {
      await t.sequelize.query(`SELECT key FROM idempotency_keys WHERE key LIKE 'expired-%' ORDER BY key LIMIT 100 FOR UPDATE`, { transaction: holder });
      let swept = 0;
      for (let round = 0; round < 20; round++) {
        const counts = await Promise.all(Array.from({ length: 4 }, () => sweeper.run()));
        swept += counts.reduce((sum, count) => sum + count, 0);
        if (counts.every((count) => count === 0)) break;
      }
      expect(swept).toBe(EXPIRED - 100);
    } finally {
      await holder.rollback();
    }
    expect(await sweeper.run()).toBe(100);
    const [{ expired, live }] = await t.rows<{ expired: number; live: number }>(
      `SELECT count(*) FILTER (WHERE key LIKE 'expired-%')::int AS expired, count(*) FILTER (WHERE key LIKE 'live-%')::int AS live FROM idempotency_keys`,
    );
    expect({ expired, live }).toEqual({ expired: 0, live: 50 });
  });

  it('the key names the path, not the query string: a long query does not break the stored answer', async () => {
    const author = await createUser(t);
    const response = await t.request('POST', `/api/v1/posts?${'pad='.padEnd(700, 'x')}`, { body: { title: 'Padded', body: 'B', authorId: author.id }, headers: { 'idempotency-key': 'padded' } });
    expect(response.status).not.toBeGreaterThanOrEqual(500);
    expect(await t.rows('SELECT route FROM idempotency_keys WHERE key = $1', ['padded'])).toEqual(response.status === 201 ? [{ route: 'POST /api/v1/posts' }] : []);
  });

  it('other creating routes take keys too: a bulk upsert replays its answer', async () => {
    const body = { users: [{ name: 'Bulk One', email: 'bulk1@example.com' }] };
    const first = await t.request('POST', '/api/v1/users/bulk', { body, headers: { 'idempotency-key': 'bulk-1' } });
    expect(first.status).toBeLessThan(300);
    const again = await t.request('POST', '/api/v1/users/bulk', { body, headers: { 'idempotency-key': 'bulk-1' } });
    expect(again.status).toBe(first.status);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
  });
});
