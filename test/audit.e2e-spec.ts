/**
 * The audit trail and the declared cascades through real HTTP: every write to users and posts, whatever its path
 * (single, bulk, cascade), records one audit row per changed row inside the request transaction; GET /audit shows
 * them to admins. Also: a request refused before its first statement (invalid body, access denied) sends no BEGIN.
 */
import { createPost, createUser, expectApiError } from './utils/fixtures';
import { afterSessionProbe } from './utils/session-probe';
import { createTestApp, type TestApp } from './utils/test-app';

const BEGIN = /^(START TRANSACTION|BEGIN)/;
const AUDIT_INSERT = /^\s*INSERT INTO audit_events/;

interface AuditRow {
  actorId: number | null;
  action: string;
  tableName: string;
  rowId: string;
  changes: Record<string, unknown>;
  requestId: string | null;
}

describe('Audit trail and cascades (e2e)', () => {
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

  const events = (table: string, rowId: number | string) =>
    t.rows<AuditRow>(
      'SELECT "actorId", action, "tableName", "rowId", changes, "requestId" FROM audit_events WHERE "tableName" = $1 AND "rowId" = $2 ORDER BY id',
      [table, String(rowId)],
    );

  describe('written by the models\' hooks, in the request transaction', () => {
    it('create, update, delete and restore of a user: actor, request id, changed fields; a password only as redacted', async () => {
      const created = await t.request('POST', '/api/v1/users', { body: { name: 'Audited', email: 'Audited@Example.com', password: 'correct horse battery' } });
      expect(created.status).toBe(201);
      const id = created.body.id as number;
      const requestId = created.headers.get('x-request-id');
      expect(await events('users', id)).toEqual([
        {
          actorId: t.admin.id,
          action: 'create',
          tableName: 'users',
          rowId: String(id),
          changes: { name: 'Audited', email: 'audited@example.com', role: 'user', password: '[redacted]' },
          requestId,
        },
      ]);

      expect((await t.request('PATCH', `/api/v1/users/${id}`, { body: { name: 'Renamed', password: 'another long secret' } })).status).toBe(200);
      expect((await t.request('DELETE', `/api/v1/users/${id}`)).status).toBe(204);
      expect((await t.request('POST', `/api/v1/users/${id}/restore`)).status).toBe(200);
      const trail = await events('users', id);
      expect(trail.map((event) => event.action)).toEqual(['create', 'update', 'delete', 'restore']);
      expect(trail[1].changes).toEqual({ name: 'Renamed', password: '[redacted]' });
      expect(Object.keys(trail[2].changes)).toEqual(['deletedAt']);
      expect(trail[3].changes).toEqual({ deletedAt: null });
      // No hash, in any form, anywhere in the trail.
      const [{ passwordHash }] = await t.rows<{ passwordHash: string }>('SELECT "passwordHash" FROM users WHERE id = $1', [id]);
      expect(JSON.stringify(await t.rows('SELECT changes FROM audit_events'))).not.toContain(passwordHash.slice(10));
    });

    it('a user\'s delete cascades to its posts with one timestamp, audited in the same request; restore brings back only those', async () => {
      const author = await createUser(t);
      const [kept, alone] = [await createPost(t, author.id), await createPost(t, author.id)];
      expect((await t.request('DELETE', `/api/v1/posts/${alone.id}`)).status).toBe(204);

      const deleted = await t.request('DELETE', `/api/v1/users/${author.id}`);
      expect(deleted.status).toBe(204);
      const [user] = await t.rows<{ deletedAt: Date }>('SELECT "deletedAt" FROM users WHERE id = $1', [author.id]);
      const [post] = await t.rows<{ deletedAt: Date }>('SELECT "deletedAt" FROM posts WHERE id = $1', [kept.id]);
      expect(post.deletedAt).toEqual(user.deletedAt);
      const postTrail = await events('posts', kept.id);
      expect(postTrail.map((event) => event.action)).toEqual(['create', 'delete']);
      expect(postTrail[1].requestId).toBe(deleted.headers.get('x-request-id'));

      expect((await t.request('POST', `/api/v1/users/${author.id}/restore`)).status).toBe(200);
      expect((await t.request('GET', `/api/v1/posts/${kept.id}`)).status).toBe(200);
      expect((await t.request('GET', `/api/v1/posts/${alone.id}`)).status).toBe(404);
      expect((await events('posts', kept.id)).map((event) => event.action)).toEqual(['create', 'delete', 'restore']);
      expect((await events('posts', alone.id)).map((event) => event.action)).toEqual(['create', 'delete']);
    });

    it('a post cannot be restored while its author is deleted (409, nothing changes)', async () => {
      const author = await createUser(t);
      const post = await createPost(t, author.id);
      expect((await t.request('DELETE', `/api/v1/users/${author.id}`)).status).toBe(204);
      const refused = await t.request('POST', `/api/v1/posts/${post.id}/restore`);
      expectApiError(refused, 409);
      expect(refused.body.message).toMatch(/restore the user first/);
      expect((await events('posts', post.id)).map((event) => event.action)).toEqual(['create', 'delete']);
    });

    it('a bulk upsert of 1,000 users writes their audit rows in one statement: creates and updates told apart', async () => {
      await createUser(t, { email: 'user-0@bulk.example.com', name: 'Before' });
      const users = Array.from({ length: 1000 }, (_, i) => ({ name: `Bulk ${i}`, email: `user-${i}@bulk.example.com` }));
      const { result, statements } = await t.captureStatements(() => t.request('POST', '/api/v1/users/bulk', { body: { users } }));
      expect(result.status).toBe(200);
      expect(statements.filter((sql) => AUDIT_INSERT.test(sql))).toHaveLength(1);
      const counts = await t.rows<{ action: string; n: number }>(
        `SELECT action, count(*)::int AS n FROM audit_events WHERE "requestId" = $1 GROUP BY action ORDER BY action`,
        [result.headers.get('x-request-id')],
      );
      expect(counts).toEqual([
        { action: 'create', n: 999 },
        { action: 'update', n: 1 },
      ]);
      const updated = await events('users', result.body.data[0].id);
      expect(updated.at(-1)).toMatchObject({ action: 'update', changes: { name: 'Bulk 0' } });
    });

    it('is rolled back with the request: a failed write leaves no audit row', async () => {
      // The user and its audit row are written, then the database refuses the post: the request rolls back.
      await t.sequelize.query(`
        CREATE FUNCTION test_reject_audited() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'rejected' USING ERRCODE = '23514'; END $$;
        CREATE TRIGGER test_reject_audited BEFORE INSERT ON posts FOR EACH ROW EXECUTE FUNCTION test_reject_audited();`);
      try {
        const { result, statements } = await t.captureStatements(() =>
          t.request('POST', '/api/v1/users/with-posts', { body: { name: 'Half', email: 'half@example.com', posts: [{ title: 'T', body: 'B' }] } }),
        );
        expectApiError(result, 400);
        expect(statements.filter((sql) => AUDIT_INSERT.test(sql))).toHaveLength(1);
        expect(statements.at(-1)).toMatch(/^ROLLBACK/);
        expect(await t.rows('SELECT count(*)::int AS n FROM audit_events')).toEqual([{ n: 0 }]);
      } finally {
        await t.sequelize.query('DROP TRIGGER test_reject_audited ON posts; DROP FUNCTION test_reject_audited();');
      }
    });

    it('a restore the cascade rules refuse writes nothing', async () => {
      const author = await createUser(t);
      const post = await createPost(t, author.id);
      expect((await t.request('DELETE', `/api/v1/users/${author.id}`)).status).toBe(204);
      const before = await t.rows('SELECT * FROM audit_events ORDER BY id');
      const { result, statements } = await t.captureStatements(() => t.request('POST', `/api/v1/posts/${post.id}/restore`));
      expectApiError(result, 409);
      expect(statements.at(-1)).toMatch(/^ROLLBACK/);
      expect(await t.rows('SELECT * FROM audit_events ORDER BY id')).toEqual(before);
      expect(await t.rows('SELECT "deletedAt" IS NOT NULL AS deleted FROM posts WHERE id = $1', [post.id])).toEqual([{ deleted: true }]);
    });
  });

  describe('validation and access checks before BEGIN', () => {
    it('an invalid body sends no statement after the session check: no BEGIN, no ROLLBACK', async () => {
      const { result, statements } = await t.captureStatements(() => t.request('POST', '/api/v1/posts', { body: { title: '', body: 42 } }));
      expectApiError(result, 400);
      expect(afterSessionProbe(statements)).toEqual([]);
    });

    it('a write the policy refuses sends no BEGIN either', async () => {
      const user = await createUser(t);
      const token = await t.tokenFor(user);
      const { result, statements } = await t.captureStatements(() =>
        t.request('PATCH', `/api/v1/users/${t.admin.id}`, { body: { name: 'Hijack' }, as: token }),
      );
      expectApiError(result, 403);
      expect(afterSessionProbe(statements)).toEqual([]);
    });

    it('a valid write still runs in one transaction', async () => {
      const author = await createUser(t);
      const { result, statements } = await t.captureStatements(() => t.request('POST', '/api/v1/posts', { body: { title: 'T', body: 'B', authorId: author.id } }));
      expect(result.status).toBe(201);
      const transaction = afterSessionProbe(statements);
      expect(transaction[0]).toMatch(BEGIN);
      expect(transaction.filter((sql) => BEGIN.test(sql))).toHaveLength(1);
      expect(transaction.at(-1)).toMatch(/^COMMIT/);
    });
  });

  describe('lock, decide, write', () => {
    it('a PATCH reads its row once, locked, and writes it through the model: lock, UPDATE, audit row', async () => {
      const author = await createUser(t);
      const post = await createPost(t, author.id);
      const { result, statements } = await t.captureStatements(() => t.request('PATCH', `/api/v1/posts/${post.id}`, { body: { title: 'Once' } }));
      expect(result.status).toBe(200);
      expect(result.body.title).toBe('Once');
      const transaction = afterSessionProbe(statements);
      expect(transaction[0]).toMatch(BEGIN);
      expect(transaction.at(-1)).toMatch(/^COMMIT/);
      const work = transaction.slice(1, -1);
      expect(work).toHaveLength(3);
      expect(work[0]).toMatch(/^SELECT .* FROM "posts" .* FOR UPDATE/s);
      expect(work[1]).toMatch(/^UPDATE "posts"/);
      expect(work[2]).toMatch(AUDIT_INSERT);
    });

    it('a PATCH that changes nothing answers the row it locked, writing nothing', async () => {
      const author = await createUser(t);
      const post = await createPost(t, author.id);
      const { result, statements } = await t.captureStatements(() => t.request('PATCH', `/api/v1/posts/${post.id}`, { body: {} }));
      expect(result.status).toBe(200);
      expect(result.body).toMatchObject({ id: post.id, title: post.title });
      expect(afterSessionProbe(statements).slice(1, -1)).toHaveLength(1);
    });
  });

  describe('GET /api/v1/audit', () => {
    it('admins page through the trail newest first, filtered by table and row', async () => {
      const author = await createUser(t);
      const post = await createPost(t, author.id);
      await t.request('PATCH', `/api/v1/posts/${post.id}`, { body: { title: 'Changed' } });

      const all = await t.request('GET', '/api/v1/audit?limit=2');
      expect(all.status).toBe(200);
      expect(all.body.meta).toMatchObject({ limit: 2, offset: 0 });
      expect(all.body.meta.total).toBeGreaterThanOrEqual(3);
      expect(all.body.data[0]).toMatchObject({ action: 'update', table: 'posts', rowId: String(post.id), changes: { title: 'Changed' }, actorId: t.admin.id });
      expect(BigInt(all.body.data[0].id)).toBeGreaterThan(BigInt(all.body.data[1].id));

      const row = await t.request('GET', `/api/v1/audit?table=posts&rowId=${post.id}`);
      expect(row.body.data.map((event: { action: string }) => event.action)).toEqual(['update', 'create']);
      expect(row.body.meta.total).toBe(2);
      const users = await t.request('GET', '/api/v1/audit?table=users&offset=0&limit=100');
      expect(users.body.data.every((event: { table: string }) => event.table === 'users')).toBe(true);
    });

    it('is for admins only: 401 anonymous, 403 for a user', async () => {
      const user = await createUser(t);
      expectApiError(await t.request('GET', '/api/v1/audit', { as: null }), 401);
      expectApiError(await t.request('GET', '/api/v1/audit', { as: await t.tokenFor(user) }), 403);
    });

    it.each([
      ['rowId without table', 'rowId=1'],
      ['a table name with SQL in it', 'table=users;drop'],
      ['an over-long row id', `table=users&rowId=${'9'.repeat(65)}`],
      ['an unknown parameter', 'sort=id'],
      ['a limit out of range', 'limit=1000'],
    ])('400 for %s', async (_what, query) => {
      expectApiError(await t.request('GET', `/api/v1/audit?${query}`), 400);
    });
  });
});
