/**
 * pooledSelect (src/common/database/pooled-select.ts) against PostgreSQL: the by-id read's short path must behave
 * like `sequelize.query` wherever a caller could tell the difference: transactions, errors, the pool, hooks.
 */
import { ConnectionAcquireTimeoutError, DatabaseError, QueryTypes, UniqueConstraintError } from 'sequelize';
import { pooledSelect } from '../src/common/database/pooled-select';
import { expectApiError, poolStats } from './utils/fixtures';
import { afterSessionProbe } from './utils/session-probe';
import { createTestApp, type TestApp } from './utils/test-app';


describe('pooledSelect (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ env: { DB_POOL_MAX: '2', DB_POOL_MIN: '0', DB_POOL_ACQUIRE_MS: '300' } });
  });

  afterAll(async () => {
    await t.close();
  });

  afterEach(() => {
    expect(poolStats(t.sequelize).using).toBe(0);
  });

  it('returns the rows with the connection type parsers Sequelize installs (numbers, dates, booleans)', async () => {
    const rows = await pooledSelect<{ n: number; at: Date; yes: boolean; nothing: null }>(
      t.sequelize,
      `SELECT $1::int AS n, '2026-01-02T03:04:05.678Z'::timestamptz AS at, true AS yes, NULL AS nothing`,
      [41],
    );
    const viaSequelize = await t.sequelize.query(
      `SELECT $1::int AS n, '2026-01-02T03:04:05.678Z'::timestamptz AS at, true AS yes, NULL AS nothing`,
      { bind: [41], type: QueryTypes.SELECT },
    );
    expect(rows).toEqual([{ n: 41, at: new Date('2026-01-02T03:04:05.678Z'), yes: true, nothing: null }]);
    expect(rows).toEqual(viaSequelize);
  });

  it('binds parameters, never interpolates them', async () => {
    const hostile = `'); DROP TABLE users; --`;
    await expect(pooledSelect(t.sequelize, 'SELECT $1::text AS v', [hostile])).resolves.toEqual([{ v: hostile }]);
    await expect(t.rows(`SELECT to_regclass('users')::text AS t`)).resolves.toEqual([{ t: 'users' }]);
  });

  it('inside a transaction joins it: it sees the uncommitted row, on the same backend', async () => {
    const seen = await t.sequelize.transaction(async () => {
      const [{ pid }] = await t.sequelize.query<{ pid: number }>('SELECT pg_backend_pid() AS pid', { type: QueryTypes.SELECT });
      await t.sequelize.query(`INSERT INTO users (name, email, role, "createdAt", "updatedAt") VALUES ('Tx', 'tx@example.com', 'user', now(), now())`);
      const rows = await pooledSelect<{ email: string; pid: number }>(t.sequelize, 'SELECT email, pg_backend_pid() AS pid FROM users WHERE email = $1', [
        'tx@example.com',
      ]);
      return { pid, rows };
    });
    expect(seen.rows).toEqual([{ email: 'tx@example.com', pid: seen.pid }]);
    await t.truncate();
  });

  it('outside a transaction does not see another connection’s uncommitted row', async () => {
    const transaction = await t.sequelize.transaction({ transaction: null });
    try {
      await t.sequelize.query(`INSERT INTO users (name, email, role, "createdAt", "updatedAt") VALUES ('Tx', 'open@example.com', 'user', now(), now())`, {
        transaction,
      });
      await expect(pooledSelect(t.sequelize, 'SELECT id FROM users WHERE email = $1', ['open@example.com'])).resolves.toEqual([]);
    } finally {
      await transaction.rollback();
    }
  });

  it("turns a statement error into Sequelize's DatabaseError with the SQLSTATE, and releases the connection", async () => {
    const error = await pooledSelect(t.sequelize, 'SELECT 1 / $1::int AS x', [0]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as DatabaseError).parent).toMatchObject({ code: '22012' });
    expect((error as DatabaseError).sql).toBe('SELECT 1 / $1::int AS x');
    // Both connections are still usable: nothing leaked, nothing left in a failed state.
    await expect(Promise.all([pooledSelect(t.sequelize, 'SELECT 1 AS one', []), pooledSelect(t.sequelize, 'SELECT 2 AS two', [])])).resolves.toEqual([
      [{ one: 1 }],
      [{ two: 2 }],
    ]);
  });

  it("maps errors with the dialect's own rules: a unique violation from a data-modifying CTE is a UniqueConstraintError", async () => {
    const insert = `WITH created AS (
      INSERT INTO users (name, email, role, "createdAt", "updatedAt") VALUES ('Cte', $1, 'user', now(), now()) RETURNING id
    ) SELECT id FROM created`;
    await pooledSelect(t.sequelize, insert, ['cte@example.com']);
    const viaPooled = await pooledSelect(t.sequelize, insert, ['cte@example.com']).catch((caught: unknown) => caught);
    const viaSequelize = await t.sequelize.query(insert, { bind: ['cte@example.com'], type: QueryTypes.SELECT }).catch((caught: unknown) => caught);
    expect(viaPooled).toBeInstanceOf(UniqueConstraintError);
    expect(viaSequelize).toBeInstanceOf(UniqueConstraintError);
    expect((viaPooled as UniqueConstraintError).fields).toEqual((viaSequelize as UniqueConstraintError).fields);
    await t.truncate();
  });

  it('passes string parameters as Sequelize does (NUL escaped)', async () => {
    const sql = 'SELECT $1::text AS v, length($1::text) AS n';
    const viaSequelize = await t.sequelize.query(sql, { bind: ['a\0b'], type: QueryTypes.SELECT });
    await expect(pooledSelect(t.sequelize, sql, ['a\0b'])).resolves.toEqual(viaSequelize);
  });

  it('a read that outlives its transaction runs outside it, as sequelize.query does (Sequelize clears it from the context)', async () => {
    let releaseOuter!: () => void;
    // A second transaction kept open keeps the async context tracking on while the late read runs.
    const outer = t.sequelize.transaction({ transaction: null }, () => new Promise<void>((resolve) => (releaseOuter = resolve)));
    const sql = `SELECT current_setting('transaction_isolation') AS isolation, txid_current_if_assigned() IS NULL AS fresh`;
    let lateReads!: Promise<unknown[]>;
    await t.sequelize.transaction({ isolationLevel: 'SERIALIZABLE' as never }, async () => {
      // Not awaited: this work outlives the transaction it was started in.
      lateReads = new Promise((resolve) => setTimeout(resolve, 50)).then(() =>
        Promise.all([pooledSelect(t.sequelize, sql, []), t.sequelize.query(sql, { type: QueryTypes.SELECT })]),
      );
    });
    const [viaPooled, viaSequelize] = await lateReads;
    releaseOuter();
    await outer;
    expect(viaPooled).toEqual([{ isolation: 'read committed', fresh: true }]);
    expect(viaPooled).toEqual(viaSequelize);
  });

  it("waits for the pool like any query, and times out with Sequelize's ConnectionAcquireTimeoutError", async () => {
    const holders = [t.sequelize.transaction({ transaction: null }), t.sequelize.transaction({ transaction: null })];
    const held = await Promise.all(holders);
    try {
      await expect(pooledSelect(t.sequelize, 'SELECT 1 AS one', [])).rejects.toBeInstanceOf(ConnectionAcquireTimeoutError);
      const waiting = pooledSelect(t.sequelize, 'SELECT 1 AS one', []);
      await held[0].rollback();
      await expect(waiting).resolves.toEqual([{ one: 1 }]);
    } finally {
      await Promise.all(held.filter((transaction) => !(transaction as unknown as { finished?: string }).finished).map((transaction) => transaction.rollback()));
    }
  });

  it('many more reads than connections all complete and return every connection', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => pooledSelect<{ i: number }>(t.sequelize, 'SELECT $1::int AS i', [i])));
    expect(results.map(([row]) => row.i)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('is seen by the afterQuery hook (statement capture), as one statement per GET /users/:id', async () => {
    const created = await t.request('POST', '/api/v1/users', { body: { name: 'Hooked', email: 'hooked@example.com' } });
    const { result, statements } = await t.captureStatements(() => t.request('GET', `/api/v1/users/${created.body.id}`));
    expect(result.status).toBe(200);
    expect(result.body).toEqual(created.body);
    // Sent as the harness admin: the guard's session check, then the route's one statement.
    const route = afterSessionProbe(statements);
    expect(route).toHaveLength(1);
    expect(route[0]).toMatch(/^SELECT .* FROM "?users"? .*WHERE/s);
    await t.truncate();
  });

  it('answers 503 with Retry-After through the API when the pool is exhausted, like any other query', async () => {
    const held = await Promise.all([t.sequelize.transaction({ transaction: null }), t.sequelize.transaction({ transaction: null })]);
    try {
      // Anonymous: with a token the guard's session check (sequelize.query) would meet the empty pool first.
      const response = await t.request('GET', '/api/v1/users/1', { as: null });
      expectApiError(response, 503);
      expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    } finally {
      await Promise.all(held.map((transaction) => transaction.rollback()));
    }
  });
});
