/**
 * DATABASE_POOLER=transaction, checked on a direct connection (the whole suite also runs through PgBouncer:
 * `npm run test:e2e:pooler`): the app sends no session settings, takes its limits from the server's settings for its
 * role and database, refuses to start when those are not the configured ones, and still applies migrations unbounded.
 */
import { Environment } from '../src/config/environment';
import { createScratchDatabase, setServerLimits, withAdmin, harnessState } from './setup/test-databases';
import { createTestApp, type TestApp } from './utils/test-app';

const LIMITS = { DB_STATEMENT_TIMEOUT_MS: '300', DB_LOCK_TIMEOUT_MS: '200', DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: '1000', DB_QUERY_TIMEOUT_MS: '2000' };

function pooledEnv(url: string): Record<string, string> {
  return { DATABASE_URL: url, DATABASE_MIGRATION_URL: url, DATABASE_POOLER: 'transaction', MIGRATE_ON_START: 'true', ...LIMITS };
}

async function limitsOf(url: string, values: Record<string, string>): Promise<void> {
  const database = new URL(url).pathname.slice(1);
  const environment = Object.assign(new Environment(), {
    DB_STATEMENT_TIMEOUT_MS: Number(values.DB_STATEMENT_TIMEOUT_MS),
    DB_LOCK_TIMEOUT_MS: Number(values.DB_LOCK_TIMEOUT_MS),
    DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: Number(values.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS),
  });
  await withAdmin(harnessState().adminUrl, (client) => setServerLimits(client, database, environment.databaseLimits));
}

describe('DATABASE_POOLER=transaction (e2e)', () => {
  it("refuses to start while the server's limits for the role are not the configured ones, naming the fix", async () => {
    const url = await createScratchDatabase('pooler_unset');
    await expect(createTestApp({ env: pooledEnv(url) })).rejects.toThrow(
      /DATABASE_POOLER=transaction: .*statement_timeout is 0 ms where DB_STATEMENT_TIMEOUT_MS is 300.*ALTER ROLE ".+" IN DATABASE ".+" SET statement_timeout = 300;/,
    );
    // Other limits than the configured ones are refused as well, not only none.
    await limitsOf(url, { ...LIMITS, DB_LOCK_TIMEOUT_MS: '5000' });
    await expect(createTestApp({ env: pooledEnv(url) })).rejects.toThrow(/lock_timeout is 5000 ms where DB_LOCK_TIMEOUT_MS is 200/);
  });

  describe('with the limits set on the server', () => {
    let t: TestApp;
    let url: string;

    beforeAll(async () => {
      url = await createScratchDatabase('pooler_set');
      await limitsOf(url, LIMITS);
      t = await createTestApp({ env: pooledEnv(url) });
    });

    afterAll(async () => {
      await t?.close();
    });

    it('starts, migrated (migrations run unbounded: the server limits are for the app), and serves', async () => {
      expect((await t.rows('SELECT count(*)::int AS n FROM "SequelizeMeta"'))[0].n).toBeGreaterThan(0);
      expect((await t.request('GET', '/api/v1/posts')).status).toBe(200);
    });

    it("the app's connections run under the server's limits, and a statement beyond them is cancelled by the server", async () => {
      const [settings] = await t.rows("SELECT current_setting('statement_timeout') AS statement, current_setting('lock_timeout') AS lock");
      expect(settings).toEqual({ statement: '300ms', lock: '200ms' });
      await expect(t.sequelize.query('SELECT pg_sleep(1)')).rejects.toMatchObject({ parent: { code: '57014' } });
    });

    it("sends no session state: Sequelize's per-connection SETs are left out (a pooler would leave them on a shared connection)", async () => {
      // Sequelize otherwise runs SET client_min_messages TO warning and SET TIME ZONE '+00:00' on each new connection.
      const [session] = await t.rows("SELECT current_setting('client_min_messages') AS messages, current_setting('TimeZone') AS zone");
      const [server] = await t.rows("SELECT reset_val AS messages FROM pg_settings WHERE name = 'client_min_messages'");
      expect(session.messages).toBe(server.messages);
      expect(session.zone).not.toBe('<+00>-00');
    });
  });
});
