/**
 * Request transactions (issue 4) through real HTTP against PostgreSQL: one transaction per mutating request,
 * committed before the reply, rolled back on any failure; GETs without one; nesting as savepoints on the same
 * connection; isolation from config; transient failures as 503. Also the two atomic multi-row endpoints.
 */
import type { Sequelize } from 'sequelize-typescript';
import { TransactionProbeModule } from './support/transaction-probe.module';
import { createTestApp, type TestApp } from './utils/test-app';

const BEGIN = /^(START TRANSACTION|BEGIN)\b/i;
const TRANSACTION_CONTROL = /^(START TRANSACTION|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|SET TRANSACTION)\b/i;

async function dbRows<T = any>(sequelize: Sequelize, sql: string, bind: unknown[] = []): Promise<T[]> {
  const [rows] = await sequelize.query(sql, { bind });
  return rows as T[];
}

function expectError(response: { status: number; body: any }, status: number): void {
  expect(response.status).toBe(status);
  expect(response.body).toMatchObject({ statusCode: status, error: expect.any(String) });
  expect(JSON.stringify(response.body)).not.toMatch(/sequelize|\bSELECT\b|\bINSERT\b|\bUPDATE\b|stack|SQLSTATE/i);
}

function poolStats(sequelize: Sequelize): { size: number; available: number; using: number; waiting: number } {
  const pool = (sequelize.connectionManager as unknown as { pool: { size: number; available: number; using: number; waiting: number } }).pool;
  return { size: pool.size, available: pool.available, using: pool.using, waiting: pool.waiting };
}

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

  const users = (email: string) => dbRows(t.sequelize, 'SELECT id, name, email, role FROM users WHERE email = $1', [email]);

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
      expectError(response, status);
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
        expectError(response, 400);
        expect(await users('half@example.com')).toEqual([]);
        expect(await dbRows(t.sequelize, 'SELECT id FROM posts')).toEqual([]);
      } finally {
        await t.sequelize.query('DROP TRIGGER test_reject_post ON posts; DROP FUNCTION test_reject_post();');
      }
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
        expect(await dbRows(t.sequelize, 'SELECT title FROM posts WHERE "authorId" = $1', [response.body.id])).toEqual([{ title: 'P1' }]);
        expect(elapsed).toBeGreaterThanOrEqual(delayMs - 20);
      } finally {
        t.sequelize.removeHook('beforeQuery', 'delay-commit');
      }
    });
  });
});
