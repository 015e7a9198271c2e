/**
 * Request transactions under concurrency, through real HTTP against PostgreSQL: racing creates of one email,
 * whole multi-row writes, a pool of 10 under 100 parallel mutating requests (no starvation, nothing leaked),
 * overlapping bulk upserts without deadlocks, and the configured isolation level doing its job.
 *
 * Requests act as the harness admin (t.admin): each one also runs the auth guard's session check on a pooled
 * connection before its transaction. The admin is a user row of its own, left out of the row checks below.
 */
import { TransactionProbeModule } from './support/transaction-probe.module';
import { poolStats } from './utils/fixtures';
import { afterSessionProbe } from './utils/session-probe';
import { createTestApp, type TestApp, type TestResponse } from './utils/test-app';

function statusCounts(responses: TestResponse[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const { status } of responses) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

function shuffled<T>(items: T[], seed: number): T[] {
  const result = [...items];
  let state = seed;
  for (let i = result.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const j = state % (i + 1);
    [result[i], result[j]] = [result[j], result[i]];
  }
  return result;
}

const POOL_MAX = 10;

describe('Concurrency (e2e)', () => {
  describe(`default isolation, pool max ${POOL_MAX}`, () => {
    let t: TestApp;

    beforeAll(async () => {
      // A short acquire timeout: starvation would show up as 503s within seconds instead of hanging.
      t = await createTestApp({
        imports: [TransactionProbeModule],
        env: { DB_POOL_MAX: String(POOL_MAX), DB_POOL_MIN: '0', DB_POOL_ACQUIRE_MS: '5000' },
      });
    });

    afterAll(async () => {
      await t.close();
    });

    beforeEach(async () => {
      await t.truncate();
    });

    it('30 parallel POST /users with one email (in varying case): exactly one 201 and 29 × 409', async () => {
      const responses = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          t.request('POST', '/api/v1/users', { body: { name: `Racer ${i}`, email: i % 2 ? 'race@example.com' : ' RACE@Example.com' } }),
        ),
      );
      expect(statusCounts(responses)).toEqual({ 201: 1, 409: 29 });
      expect(await t.rows('SELECT email FROM users WHERE id <> $1', [t.admin.id])).toEqual([{ email: 'race@example.com' }]);
    });

    it('30 parallel POST /users/with-posts with one email: one 201, 29 × 409, and only the winner’s posts exist', async () => {
      const responses = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          t.request('POST', '/api/v1/users/with-posts', {
            body: { name: `Racer ${i}`, email: 'race@example.com', posts: [1, 2, 3].map((n) => ({ title: `R${i}-${n}`, body: 'b' })) },
          }),
        ),
      );
      expect(statusCounts(responses)).toEqual({ 201: 1, 409: 29 });
      const winner = responses.find((response) => response.status === 201)!.body;
      const posts = await t.rows('SELECT "authorId", title FROM posts ORDER BY id');
      expect(posts).toEqual(winner.posts.map((post: any) => ({ authorId: winner.id, title: post.title })));
    });

    it('20 parallel POST /users/with-posts: every user is stored with all of its posts', async () => {
      const responses = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          t.request('POST', '/api/v1/users/with-posts', {
            body: { name: `Author ${i}`, email: `author${i}@example.com`, posts: Array.from({ length: i + 1 }, (_, n) => ({ title: `A${i}-P${n}`, body: 'b' })) },
          }),
        ),
      );
      expect(statusCounts(responses)).toEqual({ 201: 20 });
      const counts = await t.rows<{ email: string; posts: number }>(
        `SELECT u.email, count(p.id)::int AS posts FROM users u LEFT JOIN posts p ON p."authorId" = u.id WHERE u.id <> $1 GROUP BY u.email`,
        [t.admin.id],
      );
      expect(counts).toHaveLength(20);
      for (const { email, posts } of counts) expect(posts).toBe(Number(/author(\d+)@/.exec(email)![1]) + 1);
      expect(await t.rows('SELECT count(*)::int AS n FROM posts')).toEqual([{ n: 210 }]);
    });

    it(`100 parallel mutating requests on a pool of ${POOL_MAX}: no acquire time-out, nested transactions included, nothing leaked`, async () => {
      const seedEmails = Array.from({ length: 20 }, (_, i) => `seed${i}@example.com`);
      const seeded = await t.request('POST', '/api/v1/users/bulk', { body: { users: seedEmails.map((email, i) => ({ name: `Seed ${i}`, email })) } });
      const ids: number[] = seeded.body.data.map((user: { id: number }) => user.id);
      const requests: Array<() => Promise<TestResponse>> = [];
      for (let i = 0; i < 100; i++) {
        const kind = i % 5;
        if (kind === 0) {
          requests.push(() =>
            t.request('POST', '/api/v1/users/with-posts', { body: { name: `Load ${i}`, email: `load${i}@example.com`, posts: [{ title: 'T', body: 'B' }] } }),
          );
        } else if (kind === 1) {
          // Holds its connection ~20 ms, then nests: with a second pooled connection per request this starves the pool.
          requests.push(() => t.request('POST', '/api/v1/test-tx/nested', { body: { email: `nested${i}@example.com`, sleepMs: 20 } }));
        } else if (kind === 2) {
          requests.push(() => t.request('PATCH', `/api/v1/users/${ids[i % 20]}`, { body: { name: `Renamed ${i}` } }));
        } else if (kind === 3) {
          requests.push(() =>
            t.request('POST', '/api/v1/users/bulk', { body: { users: shuffled(seedEmails.slice(0, 10), i).map((email) => ({ name: `Bulk ${i}`, email })) } }),
          );
        } else {
          requests.push(() => t.request('POST', '/api/v1/posts', { body: { title: `Post ${i}`, body: 'B', authorId: ids[i % 20] } }));
        }
      }
      const responses = await Promise.all(requests.map((send) => send()));
      const failures = responses.filter((response) => response.status >= 300).map((response) => [response.status, response.body]);
      expect(failures).toEqual([]);

      const pool = poolStats(t.sequelize);
      expect({ using: pool.using, waiting: pool.waiting }).toEqual({ using: 0, waiting: 0 });
      expect(pool.size).toBeLessThanOrEqual(POOL_MAX);
      // Seen from the server: this app's other connections are all idle, none left inside a transaction.
      const sessions = await t.rows<{ state: string }>(
        `SELECT state FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = $1 AND pid <> pg_backend_pid()`,
        ['nest-sequelize-service'],
      );
      // Behind a transaction pooler the server's connections are the pooler's (its pool size), not this app's: the
      // app's own pool is bounded above either way.
      if (process.env.DATABASE_POOLER !== 'transaction') expect(sessions.length).toBeLessThan(POOL_MAX);
      expect(sessions.filter((session) => session.state !== 'idle')).toEqual([]);
    });

    it(`30 parallel requests that nest a transaction after holding their connection, pool of ${POOL_MAX}: all succeed`, async () => {
      // Were a nested transaction a second pooled connection, ${POOL_MAX} requests would hold the whole pool while
      // each waits for one more: every request would then fail with an acquire time-out (503).
      const responses = await Promise.all(
        Array.from({ length: 30 }, (_, i) => t.request('POST', '/api/v1/test-tx/nested', { body: { email: `n${i}@example.com`, sleepMs: 50 } })),
      );
      expect(statusCounts(responses)).toEqual({ 201: 30 });
      for (const { body } of responses) expect(body.inner.pid).toBe(body.outer.pid);
      expect(await t.rows('SELECT count(*)::int AS n FROM users WHERE id <> $1', [t.admin.id])).toEqual([{ n: 90 }]);
    });

    it('10 parallel bulk upserts of the same 100 emails in different orders: no deadlock, 100 users', async () => {
      const emails = Array.from({ length: 100 }, (_, i) => `shared${i}@example.com`);
      const responses = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          t.request('POST', '/api/v1/users/bulk', { body: { users: shuffled(emails, i + 1).map((email) => ({ name: `Batch ${i}`, email })) } }),
        ),
      );
      expect(statusCounts(responses)).toEqual({ 200: 10 });
      const names = await t.rows<{ name: string; n: number }>('SELECT name, count(*)::int AS n FROM users WHERE id <> $1 GROUP BY name', [t.admin.id]);
      // Each batch is atomic: the last one to commit renamed all 100 rows.
      expect(names).toEqual([{ name: expect.stringMatching(/^Batch \d$/), n: 100 }]);
    });

    it('READ COMMITTED (the default) lets a write skew through: both requests succeed', async () => {
      const barrier = `skew-rc-${Date.now()}`;
      const responses = await Promise.all(
        ['one', 'two'].map((who) => t.request('POST', '/api/v1/test-tx/write-skew', { body: { email: `${who}@example.com`, barrier } })),
      );
      expect(statusCounts(responses)).toEqual({ 201: 2 });
    });
  });

  describe('DB_ISOLATION_LEVEL=SERIALIZABLE', () => {
    let t: TestApp;

    beforeAll(async () => {
      t = await createTestApp({ imports: [TransactionProbeModule], env: { DB_ISOLATION_LEVEL: 'SERIALIZABLE' } });
    });

    afterAll(async () => {
      await t.close();
    });

    beforeEach(async () => {
      await t.truncate();
    });

    it('request transactions run at the configured level', async () => {
      const { result: response, statements } = await t.captureStatements(() => t.request('POST', '/api/v1/test-tx/probe'));
      expect(response.body.isolation).toBe('serializable');
      // After the guard's session check, which runs before the transaction, at the server's default level.
      expect(afterSessionProbe(statements).slice(0, 2)).toEqual(['START TRANSACTION;', 'SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;']);
    });

    it('a write skew between two requests: one succeeds, the other gets 503 with Retry-After and leaves nothing', async () => {
      // Sequelize warns when a COMMIT fails (here: the serialization failure is raised at commit time).
      const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
      const barrier = `skew-ser-${Date.now()}`;
      const responses = await Promise.all(
        ['one', 'two'].map((who) => t.request('POST', '/api/v1/test-tx/write-skew', { body: { email: `${who}@example.com`, barrier } })),
      );
      expect(statusCounts(responses)).toEqual({ 201: 1, 503: 1 });
      const failed = responses.find((response) => response.status === 503)!;
      expect(failed.headers.get('retry-after')).toMatch(/^[1-3]$/);
      expect(failed.body).toMatchObject({ statusCode: 503, message: expect.stringMatching(/retry/i) });
      // One of the two new admins; the harness admin (counted by both requests' reads) is not one of them.
      expect(await t.rows(`SELECT count(*)::int AS n FROM users WHERE role = 'admin' AND id <> $1`, [t.admin.id])).toEqual([{ n: 1 }]);
      for (const [message] of warn.mock.calls) expect(String(message)).toMatch(/could not serialize access/);
      warn.mockRestore();
    });
  });
});
