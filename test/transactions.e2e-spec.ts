/**
 * Request transactions (issue 4) through real HTTP against PostgreSQL: one transaction per mutating request,
 * committed before the reply, rolled back on any failure; GETs without one; nesting as savepoints on the same
 * connection; isolation from config; transient failures as 503. Also the two atomic multi-row endpoints.
 *
 * Requests act as the harness admin (t.admin), so each one starts with the auth guard's session check, before and
 * outside the request's transaction: captured statements are checked after it (afterSessionProbe). The admin is a
 * user row of its own, left out of the row checks below.
 */
import fc from 'fast-check';
import { beginPendingTransaction, inTransaction, openRequestTransaction } from '../src/common/database/transaction-context';
import { MAX_ID } from '../src/common/validation/input-rules';
import { TransactionProbeModule } from './support/transaction-probe.module';
import { expectApiError, poolStats } from './utils/fixtures';
import { afterSessionProbe } from './utils/session-probe';
import { createTestApp, type TestApp } from './utils/test-app';

const BEGIN = /^(START TRANSACTION|BEGIN)\b/i;
const TRANSACTION_CONTROL = /^(START TRANSACTION|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|SET TRANSACTION)\b/i;

describe('Request transactions (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ imports: [TransactionProbeModule] });
  });

  afterAll(async () => {
    await t.close();
  });

  beforeEach(async () => {
    await t.truncate();
  });

  afterEach(() => {
    // Whatever a test did, no request may keep a connection checked out.
    expect(poolStats(t.sequelize).using).toBe(0);
  });

  const users = (email: string) => t.rows('SELECT id, name, email, role FROM users WHERE email = $1', [email]);

  describe('rollback', () => {
    it.each([
      ['an HTTP exception', { failWith: 'http' }, 418],
      ['an unexpected error', { failWith: 'error' }, 500],
      ['a database error (unique violation)', { failWith: 'unique' }, 409],
      ['an HTTP exception after a nested (savepoint) write', { failWith: 'http', nested: true }, 418],
    ])('a failure after the first write leaves nothing behind: %s', async (_label, failure, status) => {
      const email = `doomed-${status}@example.com`;
      const { result: response, statements } = await t.captureStatements(() =>
        t.request('POST', '/api/v1/test-tx/write-then-fail', { body: { email, ...failure } }),
      );
      expectApiError(response, status);
      expect(afterSessionProbe(statements)[0]).toMatch(BEGIN);
      expect(statements.filter((sql) => /^INSERT INTO "users"/.test(sql)).length).toBeGreaterThanOrEqual(1);
      expect(statements.at(-1)).toMatch(/^ROLLBACK;$/);
      expect(statements.some((sql) => /^COMMIT/.test(sql))).toBe(false);
      expect(await users(email)).toEqual([]);
    });

    it('a with-posts request whose last post the database rejects leaves neither the user nor any post', async () => {
      // A trigger stands in for any failure of the second statement after the first has succeeded.
      await t.sequelize.query(`
        CREATE FUNCTION test_reject_post() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.title = 'reject me' THEN RAISE EXCEPTION 'rejected' USING ERRCODE = '23514'; END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER test_reject_post BEFORE INSERT ON posts FOR EACH ROW EXECUTE FUNCTION test_reject_post();`);
      try {
        const response = await t.request('POST', '/api/v1/users/with-posts', {
          body: { name: 'Half', email: 'half@example.com', posts: [{ title: 'fine', body: 'B' }, { title: 'reject me', body: 'B' }] },
        });
        expectApiError(response, 400);
        expect(await users('half@example.com')).toEqual([]);
        expect(await t.rows('SELECT id FROM posts')).toEqual([]);
      } finally {
        await t.sequelize.query('DROP TRIGGER test_reject_post ON posts; DROP FUNCTION test_reject_post();');
      }
    });
  });

  describe('a database error caught by the handler', () => {
    it('is not reported as a success: the aborted transaction answers 500 and nothing is written', async () => {
      const { result: response, statements } = await t.captureStatements(() =>
        t.request('POST', '/api/v1/test-tx/swallow', { body: { email: 'swallow@example.com' } }),
      );
      expectApiError(response, 500);
      expect(afterSessionProbe(statements)[0]).toMatch(BEGIN);
      expect(statements.at(-1)).toMatch(/^ROLLBACK;$/);
      expect(await users('swallow@example.com')).toEqual([]);
    });

    it('is fine inside a nested transaction: the savepoint is rolled back and the rest commits', async () => {
      const response = await t.request('POST', '/api/v1/test-tx/swallow', { body: { email: 'savepoint@example.com', viaSavepoint: true } });
      expect(response.status).toBe(201);
      expect((await users('savepoint@example.com')).map((user) => user.name)).toEqual(['First']);
    });
  });

  describe('commit before reply', () => {
    it('a 2xx is sent only after COMMIT has completed, so an immediate read sees the write', async () => {
      const delayMs = 300;
      // Every COMMIT the app sends waits first: if the reply were not waiting for the commit,
      // the read below would run before the row is visible to other connections.
      // (The SQL is not known yet in beforeQuery; Sequelize marks its COMMIT query and the transaction instead.)
      t.sequelize.addHook('beforeQuery', 'delay-commit', async (options) => {
        const { completesTransaction, transaction } = options as { completesTransaction?: boolean; transaction?: { finished?: string } };
        if (completesTransaction && transaction?.finished === 'commit') await new Promise((resolve) => setTimeout(resolve, delayMs));
      });
      try {
        const started = Date.now();
        const response = await t.request('POST', '/api/v1/users/with-posts', {
          body: { name: 'Visible', email: 'visible@example.com', posts: [{ title: 'P1', body: 'B1' }] },
        });
        const elapsed = Date.now() - started;
        expect(response.status).toBe(201);
        // Read on another connection, outside any request: committed data only.
        expect(await users('visible@example.com')).toHaveLength(1);
        expect(await t.rows('SELECT title FROM posts WHERE "authorId" = $1', [response.body.id])).toEqual([{ title: 'P1' }]);
        expect(elapsed).toBeGreaterThanOrEqual(delayMs - 20);
      } finally {
        t.sequelize.removeHook('beforeQuery', 'delay-commit');
      }
    });
  });

  describe('one transaction per mutating request', () => {
    it('POST sends exactly BEGIN, its writes and COMMIT, with no isolation statement at the default level', async () => {
      const { result: response, statements } = await t.captureStatements(() =>
        t.request('POST', '/api/v1/users/with-posts', {
          body: { name: 'Lean', email: 'lean@example.com', posts: [{ title: 'A', body: 'a' }, { title: 'B', body: 'b' }] },
        }),
      );
      expect(response.status).toBe(201);
      const transaction = afterSessionProbe(statements);
      // Each write followed by its audit rows (one INSERT for both posts).
      expect(transaction).toHaveLength(6);
      expect(transaction[0]).toMatch(/^START TRANSACTION;$/);
      expect(transaction[1]).toMatch(/^INSERT INTO "users"/);
      expect(transaction[2]).toMatch(/^\s*INSERT INTO audit_events/);
      expect(transaction[3]).toMatch(/^INSERT INTO "posts"/);
      expect(transaction[4]).toMatch(/^\s*INSERT INTO audit_events/);
      expect(transaction[5]).toMatch(/^COMMIT;$/);
    });

    it('PATCH, DELETE and POST restore each run in one transaction; the delete/restore cascades run inside it', async () => {
      const created = await t.request('POST', '/api/v1/users/with-posts', {
        body: { name: 'Cascade', email: 'cascade@example.com', posts: [{ title: 'A', body: 'a' }] },
      });
      const id = created.body.id as number;
      for (const [method, path, status] of [
        ['PATCH', `/api/v1/users/${id}`, 200],
        ['DELETE', `/api/v1/users/${id}`, 204],
        ['POST', `/api/v1/users/${id}/restore`, 200],
      ] as const) {
        const { result: response, statements } = await t.captureStatements(() =>
          t.request(method, path, method === 'PATCH' ? { body: { name: 'Renamed' } } : {}),
        );
        expect(response.status).toBe(status);
        expect(statements.filter((sql) => BEGIN.test(sql))).toHaveLength(1);
        expect(afterSessionProbe(statements)[0]).toMatch(BEGIN);
        expect(statements.at(-1)).toMatch(/^COMMIT;$/);
        // The declared cascade: the user's posts are updated between the BEGIN and the COMMIT of the same request.
        if (method !== 'PATCH') expect(statements.filter((sql) => /^UPDATE "posts" SET "deletedAt"/.test(sql))).toHaveLength(1);
      }
      expect(await t.rows('SELECT "deletedAt" FROM posts WHERE "authorId" = $1', [id])).toEqual([{ deletedAt: null }]);
    });

    it('a failed delete (404) rolls back and answers 404', async () => {
      // The largest valid id: user ids are not restarted between tests, so a small one might exist.
      const { result: response, statements } = await t.captureStatements(() => t.request('DELETE', `/api/v1/users/${MAX_ID}`));
      expectApiError(response, 404);
      expect(afterSessionProbe(statements)[0]).toMatch(BEGIN);
      expect(statements.at(-1)).toMatch(/^ROLLBACK;$/);
    });
  });

  describe('reads', () => {
    it.each([
      ['GET', '/api/v1/users?include=posts'],
      ['GET', '/api/v1/users/1?include=posts'],
      ['GET', '/api/v1/posts?include=author'],
      ['GET', '/api/v1/users/stats/top-authors'],
      ['GET', '/api/v1/test-tx/probe'],
      ['HEAD', '/api/v1/users'],
      ['GET', '/health'],
    ])('%s %s opens no transaction', async (method, path) => {
      await t.request('POST', '/api/v1/users/with-posts', { body: { name: 'Reader', email: 'reader@example.com', posts: [{ title: 'A', body: 'a' }] } });
      const { result: response, statements } = await t.captureStatements(() => t.request(method, path));
      expect(response.status).toBeLessThan(500);
      expect(afterSessionProbe(statements).length).toBeGreaterThan(0);
      expect(statements.filter((sql) => TRANSACTION_CONTROL.test(sql))).toEqual([]);
    });

    it('the probe reports no transaction for a GET and one for a POST', async () => {
      expect((await t.request('GET', '/api/v1/test-tx/probe')).body.transactionId).toBeNull();
      expect((await t.request('POST', '/api/v1/test-tx/probe')).body.transactionId).toEqual(expect.any(String));
    });
  });

  describe('@Transactional', () => {
    it('@Transactional() gives a GET a transaction', async () => {
      const { result: response, statements } = await t.captureStatements(() => t.request('GET', '/api/v1/test-tx/probe-forced'));
      expect(response.status).toBe(200);
      expect(response.body.transactionId).toEqual(expect.any(String));
      expect(afterSessionProbe(statements)[0]).toMatch(BEGIN);
      expect(statements.at(-1)).toMatch(/^COMMIT;$/);
    });

    it('@Transactional(false) runs a POST without one', async () => {
      const { result: response, statements } = await t.captureStatements(() => t.request('POST', '/api/v1/test-tx/probe-opted-out'));
      expect(response.status).toBe(200);
      expect(response.body.transactionId).toBeNull();
      expect(afterSessionProbe(statements).length).toBeGreaterThan(0);
      expect(statements.filter((sql) => TRANSACTION_CONTROL.test(sql))).toEqual([]);
    });

    it('@Transactional({ isolationLevel }) overrides the configured level for its route', async () => {
      const { result: response, statements } = await t.captureStatements(() => t.request('POST', '/api/v1/test-tx/probe-repeatable-read'));
      expect(response.body.isolation).toBe('repeatable read');
      expect(statements).toContain('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ;');
      expect((await t.request('POST', '/api/v1/test-tx/probe')).body.isolation).toBe('read committed');
    });
  });

  describe('a request transaction whose BEGIN fails', () => {
    it('answers with the database error and gives its connection back to the pool', async () => {
      // The BEGIN succeeds and its SET TRANSACTION fails: Sequelize rolls back and cleans up, which must release.
      const options = { isolationLevel: 'NO SUCH LEVEL' as never };
      for (let i = 0; i < 3; i++) {
        const failure = await openRequestTransaction(t.sequelize, options, { audit: { actorId: null, requestId: null } }, () => beginPendingTransaction()!).catch(
          (error: unknown) => error,
        );
        expect((failure as Error).name).toBe('SequelizeDatabaseError');
      }
      expect(poolStats(t.sequelize).using).toBe(0);
      expect((await t.request('GET', '/api/v1/users?limit=1')).status).toBe(200);
    });
  });

  describe('nested transactions', () => {
    it('inTransaction() inside a request is a SAVEPOINT of the request transaction, on the same connection', async () => {
      const { result: response, statements } = await t.captureStatements(() =>
        t.request('POST', '/api/v1/test-tx/nested', { body: { email: 'n@example.com' } }),
      );
      expect(response.status).toBe(201);
      const { outer, inner } = response.body;
      expect(inner.transactionId).toBe(outer.transactionId);
      expect(inner.transactionName).not.toBe(outer.transactionName);
      expect(inner.pid).toBe(outer.pid);
      expect(afterSessionProbe(statements)[0]).toMatch(BEGIN);
      expect(statements.filter((sql) => BEGIN.test(sql))).toHaveLength(1);
      expect(statements.filter((sql) => /^SAVEPOINT /.test(sql))).toHaveLength(1);
      expect((await t.rows('SELECT name FROM users WHERE id <> $1 ORDER BY id', [t.admin.id])).map((row) => row.name)).toEqual(['Outer', 'Inner', 'After']);
    });

    it('a failed nested transaction rolls back to its savepoint; the request still commits the rest', async () => {
      const { result: response, statements } = await t.captureStatements(() =>
        t.request('POST', '/api/v1/test-tx/nested', { body: { email: 'f@example.com', failInner: true } }),
      );
      expect(response.status).toBe(201);
      expect(afterSessionProbe(statements)[0]).toMatch(BEGIN);
      expect(statements.filter((sql) => /^ROLLBACK TO SAVEPOINT /.test(sql))).toHaveLength(1);
      expect(statements.at(-1)).toMatch(/^COMMIT;$/);
      expect((await t.rows('SELECT name FROM users WHERE id <> $1 ORDER BY id', [t.admin.id])).map((row) => row.name)).toEqual(['Outer', 'After']);
    });

    it('outside a request inTransaction() is an ordinary top-level transaction', async () => {
      const { statements } = await t.captureStatements(() => inTransaction(t.sequelize, () => t.sequelize.query('SELECT 1')));
      expect(statements).toEqual(['START TRANSACTION;', 'SELECT 1', 'COMMIT;']);
    });
  });

  describe('transient database failures', () => {
    it.each(['40001', '40P01'])('SQLSTATE %s → 503 with Retry-After, rolled back', async (sqlstate) => {
      const response = await t.request('POST', '/api/v1/test-tx/raise', { body: { sqlstate } });
      expectApiError(response, 503);
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    });

    it('a real deadlock between two requests: one 503 with Retry-After, the other succeeds', async () => {
      const [a, b] = await Promise.all(
        ['a@example.com', 'b@example.com'].map((email) => t.request('POST', '/api/v1/users', { body: { name: 'Lock', email } })),
      );
      const barrier = `deadlock-${Date.now()}`;
      const responses = await Promise.all([
        t.request('POST', '/api/v1/test-tx/lock-pair', { body: { first: a.body.id, second: b.body.id, barrier } }),
        t.request('POST', '/api/v1/test-tx/lock-pair', { body: { first: b.body.id, second: a.body.id, barrier } }),
      ]);
      expect(responses.map((response) => response.status).sort()).toEqual([200, 503]);
      const failed = responses.find((response) => response.status === 503)!;
      expectApiError(failed, 503);
      expect(failed.headers.get('retry-after')).toMatch(/^[1-3]$/);
    });
  });

  describe('POST /users/with-posts', () => {
    const post = (n: number) => ({ title: `Post ${n}`, body: `Body ${n}`, published: n % 2 === 0 });

    it('201: the user with its posts, in order, normalised email, defaults applied', async () => {
      const response = await t.request('POST', '/api/v1/users/with-posts', {
        body: { name: 'Writer', email: '  Writer@Example.COM ', role: 'admin', posts: [post(1), post(2), { title: 'Draft', body: 'x' }] },
      });
      expect(response.status).toBe(201);
      const { posts, ...user } = response.body;
      expect(user).toEqual({
        id: expect.any(Number),
        name: 'Writer',
        email: 'writer@example.com',
        role: 'admin',
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      expect(posts.map((p: any) => [p.title, p.published, p.authorId])).toEqual([
        ['Post 1', false, user.id],
        ['Post 2', true, user.id],
        ['Draft', false, user.id],
      ]);
      expect(Object.keys(posts[0]).sort()).toEqual(['authorId', 'body', 'createdAt', 'id', 'published', 'title', 'updatedAt']);
      const stored = await t.request('GET', `/api/v1/users/${user.id}?include=posts`);
      expect(stored.body.posts).toHaveLength(3);
    });

    it('accepts no posts and exactly 100 posts', async () => {
      const none = await t.request('POST', '/api/v1/users/with-posts', { body: { name: 'None', email: 'none@example.com', posts: [] } });
      expect(none.status).toBe(201);
      expect(none.body.posts).toEqual([]);
      const many = await t.request('POST', '/api/v1/users/with-posts', {
        body: { name: 'Many', email: 'many@example.com', posts: Array.from({ length: 100 }, (_, i) => post(i)) },
      });
      expect(many.status).toBe(201);
      expect(many.body.posts).toHaveLength(100);
    });

    it.each([
      ['101 posts', { posts: Array.from({ length: 101 }, (_, i) => post(i)) }, /posts must contain no more than 100 elements/],
      ['200 000 posts (rejected before anything walks them)', { posts: Array.from({ length: 200_000 }, () => 1) }, /Request body has more than 5000 fields/],
      ['an invalid post (index named)', { posts: [post(1), { title: '', body: 'x' }] }, /posts\.1\.title/],
      ['a post with an authorId', { posts: [{ ...post(1), authorId: 1 }] }, /posts\.0\.property authorId should not exist/],
      ['posts missing', { posts: undefined }, /posts must be an array/],
      ['posts not an array', { posts: { title: 'x' } }, /posts must be an array/],
      ['a post that is not an object', { posts: ['x'] }, /posts\.0 must be an object/],
      ['an invalid email', { email: 'nope' }, /email must be an email/],
      ['a too short name', { name: 'A' }, /name must be between 2 and 100 characters long/],
    ])('400 for %s, nothing created', async (_label, override, message) => {
      const response = await t.request('POST', '/api/v1/users/with-posts', {
        body: { name: 'Valid Name', email: 'valid@example.com', posts: [post(1)], ...override },
      });
      expectApiError(response, 400);
      expect(JSON.stringify(response.body.message)).toMatch(message);
      expect(await t.rows('SELECT id FROM users')).toEqual([{ id: t.admin.id }]);
    });

    it('409 when a live user has the email (any case); nothing created', async () => {
      await t.request('POST', '/api/v1/users', { body: { name: 'Owner', email: 'owner@example.com' } });
      const response = await t.request('POST', '/api/v1/users/with-posts', {
        body: { name: 'Thief', email: 'OWNER@example.com', posts: [post(1)] },
      });
      expectApiError(response, 409);
      expect(await t.rows('SELECT id FROM posts')).toEqual([]);
    });
  });

  describe('POST /users/bulk', () => {
    it('200: creates new users and updates the name of existing ones, which keep their role; response in request order', async () => {
      const existing = await t.request('POST', '/api/v1/users', { body: { name: 'Old Name', email: 'old@example.com', role: 'admin' } });
      const { result: response, statements } = await t.captureStatements(() =>
        t.request('POST', '/api/v1/users/bulk', {
          body: {
            users: [
              { name: 'Zed', email: 'zed@example.com' },
              { name: 'New Name', email: ' OLD@Example.com ', role: 'user' },
              { name: 'Amy', email: 'amy@example.com', role: 'admin' },
            ],
          },
        }),
      );
      expect(response.status).toBe(200);
      expect(response.body.data.map((u: any) => [u.name, u.email, u.role])).toEqual([
        ['Zed', 'zed@example.com', 'user'],
        ['New Name', 'old@example.com', 'admin'],
        ['Amy', 'amy@example.com', 'admin'],
      ]);
      expect(response.body.data[1].id).toBe(existing.body.id);
      expect(response.body.data[1].createdAt).toBe(existing.body.createdAt);
      expect(Date.parse(response.body.data[1].updatedAt)).toBeGreaterThan(Date.parse(existing.body.updatedAt));
      // One INSERT for the whole batch, with the partial index's predicate in its ON CONFLICT clause.
      const inserts = statements.filter((sql) => /^INSERT INTO "users"/.test(sql));
      expect(inserts).toHaveLength(1);
      // And one INSERT of their audit rows, whatever their number.
      expect(statements.filter((sql) => /^\s*INSERT INTO audit_events/.test(sql))).toHaveLength(1);
      expect(inserts[0]).toMatch(/ON CONFLICT \("email"\) WHERE "deletedAt" IS NULL DO UPDATE SET "name"=EXCLUDED."name","updatedAt"=EXCLUDED."updatedAt"/);
      expect(await t.rows('SELECT count(*)::int AS n FROM users WHERE id <> $1', [t.admin.id])).toEqual([{ n: 3 }]);
    });

    it('a soft-deleted user does not hold its address: the bulk creates a new live user', async () => {
      const old = await t.request('POST', '/api/v1/users', { body: { name: 'Gone', email: 'gone@example.com' } });
      expect((await t.request('DELETE', `/api/v1/users/${old.body.id}`)).status).toBe(204);
      const response = await t.request('POST', '/api/v1/users/bulk', { body: { users: [{ name: 'Back', email: 'gone@example.com' }] } });
      expect(response.status).toBe(200);
      expect(response.body.data[0].id).not.toBe(old.body.id);
      expect(await t.rows('SELECT name, "deletedAt" IS NULL AS live FROM users WHERE id <> $1 ORDER BY id', [t.admin.id])).toEqual([
        { name: 'Gone', live: false },
        { name: 'Back', live: true },
      ]);
    });

    it('accepts 1000 rows in one request', async () => {
      const rows = Array.from({ length: 1000 }, (_, i) => ({ name: `User ${i}`, email: `user${i}@example.com` }));
      const response = await t.request('POST', '/api/v1/users/bulk', { body: { users: rows } });
      expect(response.status).toBe(200);
      expect(response.body.data).toHaveLength(1000);
      expect(response.body.data[999].email).toBe('user999@example.com');
    });

    it.each([
      ['no rows', { users: [] }, 400, /users must contain at least 1 elements/],
      ['1001 rows', { users: Array.from({ length: 1001 }, (_, i) => ({ name: 'Name', email: `u${i}@example.com` })) }, 400, /no more than 1000/],
      ['an invalid row (index named)', { users: [{ name: 'Fine', email: 'fine@example.com' }, { name: 'Bad', email: 'not-an-email' }] }, 400, /users\.1\.email must be an email/],
      ['an unknown field in a row', { users: [{ name: 'Fine', email: 'fine@example.com', id: 5 }] }, 400, /users\.0\.property id should not exist/],
      ['a repeated email (after normalisation)', { users: [{ name: 'One', email: 'dup@example.com' }, { name: 'Two', email: 'fine@example.com' }, { name: 'Three', email: ' DUP@example.com' }] }, 400, /users\.2\.email duplicates users\.0\.email/],
      ['users not an array', { users: 'x' }, 400, /users must be an array/],
      ['~300 000 empty rows (rejected before anything walks them)', { users: Array.from({ length: 300_000 }, () => ({})) }, 400, /Request body has more than 5000 fields/],
      ['a body over 1 MiB', { users: Array.from({ length: 1000 }, (_, i) => ({ name: 'N'.repeat(100), email: `${'e'.repeat(200)}${i}@example.com`, role: 'user', pad: 'p'.repeat(800) })) }, 413, /too large/i],
    ])('%s → its status, nothing written', async (_label, body, status, message) => {
      await t.request('POST', '/api/v1/users', { body: { name: 'Keep', email: 'fine@example.com' } });
      const response = await t.request('POST', '/api/v1/users/bulk', { body });
      expectApiError(response, status);
      expect(JSON.stringify(response.body.message)).toMatch(message);
      expect(await t.rows('SELECT name, email FROM users WHERE id <> $1', [t.admin.id])).toEqual([{ name: 'Keep', email: 'fine@example.com' }]);
    });
  });

  describe('hostile input to the multi-row endpoints (fast-check)', () => {
    const hostile = fc.oneof(
      fc.constantFrom("' OR '1'='1", '1; DROP TABLE users; --', '\u0000', '__proto__', '\ud83d\ude00', '%_\\', 'x'.repeat(300)),
      fc.string({ unit: 'binary', maxLength: 20 }),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.string({ maxLength: 3 }), { maxLength: 2 }),
    );
    const row = fc.record(
      { name: fc.oneof(fc.constant('Valid Name'), hostile), email: fc.oneof(fc.emailAddress(), hostile), role: fc.oneof(fc.constantFrom('user', 'admin'), hostile) },
      { requiredKeys: [] },
    );
    const post = fc.record({ title: fc.oneof(fc.constant('Title'), hostile), body: fc.oneof(fc.constant('Body'), hostile), published: fc.oneof(fc.boolean(), hostile) }, { requiredKeys: [] });
    const bodies = {
      '/api/v1/users/bulk': fc.oneof(fc.record({ users: fc.oneof(fc.array(row, { maxLength: 5 }), hostile) }), fc.anything({ maxDepth: 2 })),
      '/api/v1/users/with-posts': fc.oneof(
        fc.record({ name: fc.oneof(fc.constant('Valid Name'), hostile), email: fc.oneof(fc.emailAddress(), hostile), posts: fc.oneof(fc.array(post, { maxLength: 4 }), hostile) }),
        fc.anything({ maxDepth: 2 }),
      ),
    };

    it.each(Object.keys(bodies) as Array<keyof typeof bodies>)('POST %s: never a 5xx, and a rejected request writes nothing', async (path) => {
      const count = async () => (await t.rows('SELECT (SELECT count(*) FROM users)::int AS users, (SELECT count(*) FROM posts)::int AS posts'))[0];
      await fc.assert(
        fc.asyncProperty(bodies[path], async (body) => {
          const before = await count();
          const response = await t.request('POST', path, { rawBody: JSON.stringify(body) ?? 'null', headers: { 'content-type': 'application/json' } });
          expect(response.status).toBeLessThan(500);
          if (response.status >= 400) {
            expectApiError(response, response.status);
            expect(await count()).toEqual(before);
          }
        }),
        { numRuns: 60 },
      );
    });
  });
});
