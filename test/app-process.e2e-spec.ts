import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import * as path from 'node:path';
import { MIGRATION_LOCK_SQL_KEY } from '../src/database/migration-lock';
import { createScratchDatabase, withAdmin } from './setup/test-databases';
import { AppProcess, freePort } from './utils/app-process';
import { makeTempDir } from './utils/temp-cluster';

/** One statement on its own short-lived connection. */
const query = <T extends Record<string, unknown>>(url: string, sql: string, values: unknown[] = []): Promise<T[]> =>
  withAdmin(url, async (client) => (await client.query<T>(sql, values)).rows);

/** Runs `body` while a session of the test holds the app's migration lock, as an instance mid-migration would. */
const holdingMigrationLock = (url: string, body: (release: () => Promise<void>) => Promise<void>): Promise<void> =>
  withAdmin(url, async (holder) => {
    await holder.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK_SQL_KEY})`);
    await body(async () => {
      await holder.query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK_SQL_KEY})`);
    });
  });

describe('the app as a process', () => {
  it('refuses to start on invalid configuration, naming the variable', async () => {
    const app = AppProcess.spawn({ DATABASE_URL: 'postgres://127.0.0.1:1/none', DB_POOL_MAX: 'lots' }, await freePort());
    const exit = await app.waitForExit();
    expect(exit.code).toBe(1);
    expect(app.logs).toMatch(/Invalid environment configuration/);
    expect(app.logs).toMatch(/DB_POOL_MAX="lots"/);
  });

  describe('with the embedded PostgreSQL (DATABASE_URL unset)', () => {
    let dataDir: string;
    let pgPort: number;
    let env: Record<string, string>;
    const appDatabaseUrl = () => `postgres://postgres@127.0.0.1:${pgPort}/app`;

    let parent: string;

    beforeAll(async () => {
      parent = await makeTempDir('embedded');
      dataDir = path.join(parent, 'pg');
      pgPort = await freePort();
      env = { EMBEDDED_PG_DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(pgPort) };
    });

    afterAll(async () => {
      await rm(parent, { recursive: true, force: true });
    });

    it('migrates at start, keeps data across a stop and start, and shuts down in order', async () => {
      const first = await AppProcess.start(env);
      expect(first.logs).toContain(`embedded PostgreSQL on 127.0.0.1:${pgPort}`);
      expect(first.logs).toMatch(/docs at http:\/\/127\.0\.0\.1:\d+\/docs/);
      expect((await fetch(`${first.baseUrl}/health`)).status).toBe(200);
      const applied = await query<{ name: string }>(appDatabaseUrl(), 'SELECT name FROM "SequelizeMeta"');
      expect(applied.length).toBeGreaterThan(0);
      await query(appDatabaseUrl(), 'CREATE TABLE kept (value text)');
      await query(appDatabaseUrl(), 'INSERT INTO kept VALUES ($1)', ['survives restarts']);

      first.kill('SIGTERM');
      expect(await first.waitForExit()).toEqual({ code: 0, signal: null });
      expect(existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);

      const second = await AppProcess.start(env);
      expect(await query(appDatabaseUrl(), 'SELECT value FROM kept')).toEqual([{ value: 'survives restarts' }]);
      second.kill('SIGINT');
      expect(await second.waitForExit()).toEqual({ code: 0, signal: null });
    });

    it('recovers after the app is killed with SIGKILL', async () => {
      const crashed = await AppProcess.start(env);
      crashed.kill('SIGKILL');
      await crashed.waitForExit();
      // The server outlives its owner: it still holds the port and the lock file.
      expect(existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(true);

      const recovered = await AppProcess.start(env);
      expect(recovered.logs).toMatch(/orphaned PostgreSQL/);
      expect((await fetch(`${recovered.baseUrl}/health`)).status).toBe(200);
      expect(await query(appDatabaseUrl(), 'SELECT value FROM kept')).toEqual([{ value: 'survives restarts' }]);
      recovered.kill('SIGTERM');
      expect(await recovered.waitForExit()).toEqual({ code: 0, signal: null });
    });

    it('stops cleanly when SIGTERM arrives during start-up, leaving no server behind', async () => {
      const app = AppProcess.spawn(env, await freePort());
      // The riskiest moment: PostgreSQL is up, the app is not yet.
      while (!existsSync(path.join(dataDir, 'postmaster.pid'))) await new Promise((resolve) => setTimeout(resolve, 10));
      app.kill('SIGTERM');
      const exit = await app.waitForExit();
      expect(exit.signal).toBeNull();
      expect([0, 1]).toContain(exit.code);
      expect(existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);
    });
  });

  describe('with an external DATABASE_URL', () => {
    it('refuses to start with pending migrations, naming them', async () => {
      const url = await createScratchDatabase('pending');
      const app = AppProcess.spawn({ DATABASE_URL: url }, await freePort());
      expect((await app.waitForExit()).code).toBe(1);
      expect(app.logs).toMatch(/pending migration\(s\): \d+-create-users\.js/);
      expect(app.logs).toMatch(/npm run db:migrate/);
    });

    it('applies them itself with MIGRATE_ON_START=true', async () => {
      const url = await createScratchDatabase('migrate_on_start');
      const app = await AppProcess.start({ DATABASE_URL: url, MIGRATE_ON_START: 'true' });
      const tables = await query<{ tablename: string }>(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
      expect(tables.map((table) => table.tablename)).toEqual(expect.arrayContaining(['SequelizeMeta', 'posts', 'users']));
      app.kill('SIGTERM');
      expect((await app.waitForExit()).code).toBe(0);
    });

    it('instances starting together with MIGRATE_ON_START=true take turns on a lock: one applies, the others wait and find nothing left', async () => {
      const url = await createScratchDatabase('migrate_together');
      // Holding the lock lines every instance up behind it, so all of them race for it the moment it is released.
      await holdingMigrationLock(url, async (release) => {
        const apps = await Promise.all(
          [1, 2, 3].map(async () => AppProcess.spawn({ DATABASE_URL: url, MIGRATE_ON_START: 'true', LOG_LEVEL: 'info' }, await freePort())),
        );
        for (const app of apps) await app.waitForOutput(/Another instance is applying migrations; waiting/, 30_000);
        // While they wait nothing is applied and nothing serves.
        expect(await query(url, `SELECT to_regclass('public.users') AS users`)).toEqual([{ users: null }]);
        for (const app of apps) await expect(fetch(`${app.baseUrl}/health`)).rejects.toThrow();

        await release();
        for (const app of apps) await app.waitForOutput(/API listening/, 60_000);
        for (const app of apps) expect((await fetch(`${app.baseUrl}/health`)).status).toBe(200);
        const applied = await query<{ name: string }>(url, 'SELECT name FROM "SequelizeMeta" ORDER BY name');
        expect(applied.length).toBeGreaterThanOrEqual(2);
        expect(new Set(applied.map((row) => row.name)).size).toBe(applied.length);
        expect(apps.filter((app) => /Applied \d+ migration\(s\)/.test(app.logs))).toHaveLength(1);
        for (const app of apps) app.kill('SIGTERM');
        for (const app of apps) expect((await app.waitForExit()).code).toBe(0);
      });
    });

    it('an instance waiting for the migration lock stops promptly on SIGTERM, having applied nothing', async () => {
      const url = await createScratchDatabase('migrate_wait_sigterm');
      await holdingMigrationLock(url, async () => {
        const app = AppProcess.spawn({ DATABASE_URL: url, MIGRATE_ON_START: 'true', LOG_LEVEL: 'info' }, await freePort());
        await app.waitForOutput(/Another instance is applying migrations; waiting/, 30_000);
        const signalled = Date.now();
        app.kill('SIGTERM');
        const exit = await app.waitForExit();
        expect(Date.now() - signalled).toBeLessThan(5_000);
        expect(exit.signal).toBeNull();
        expect([0, 1]).toContain(exit.code);
        expect(await query(url, `SELECT to_regclass('public.users') AS users`)).toEqual([{ users: null }]);
        // The waiter left no session behind (the holder's own is the only one on this database).
        const sessions = await query<{ n: number }>(url, `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`);
        expect(sessions).toEqual([{ n: 1 }]);
      });
    });

    it('logs each request as JSON with its request id, and never the body or credentials', async () => {
      const url = await createScratchDatabase('logging');
      const app = await AppProcess.start({ DATABASE_URL: url, MIGRATE_ON_START: 'true', LOG_LEVEL: 'info' });
      const response = await fetch(`${app.baseUrl}/api/v1/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer s3cr3t-token', 'x-request-id': 'log-probe-1' },
        body: JSON.stringify({ name: 'Logged Person', email: 'logged-person@example.com' }),
      });
      expect(response.status).toBe(201);
      await app.waitForOutput(/log-probe-1/, 10_000);
      app.kill('SIGTERM');
      await app.waitForExit();

      const line = app.logs.split('\n').find((entry) => entry.includes('log-probe-1'))!;
      expect(JSON.parse(line)).toMatchObject({ reqId: 'log-probe-1', req: { method: 'POST', url: '/api/v1/users' }, res: { statusCode: 201 } });
      expect(app.logs).not.toMatch(/s3cr3t-token|logged-person@example\.com|Logged Person/);
    });

    it('finishes an in-flight request on SIGTERM, then exits 0', async () => {
      const url = await createScratchDatabase('shutdown');
      const app = await AppProcess.start({ DATABASE_URL: url, MIGRATE_ON_START: 'true' });
      const body = JSON.stringify({ name: 'In Flight', email: 'in-flight@example.com' });

      // The request is in flight while its body is still arriving; SIGTERM lands in between.
      const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
        const request = httpRequest(
          { host: '127.0.0.1', port: app.port, method: 'POST', path: '/api/v1/users', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
          (res) => {
            let text = '';
            res.on('data', (chunk: Buffer) => (text += chunk.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
          },
        );
        request.on('error', reject);
        request.write(body.slice(0, 10));
        setTimeout(() => {
          app.kill('SIGTERM');
          setTimeout(() => request.end(body.slice(10)), 500);
        }, 200);
      });

      const result = await response;
      expect(result.status).toBe(201);
      expect(JSON.parse(result.body)).toMatchObject({ email: 'in-flight@example.com' });
      expect(await app.waitForExit()).toEqual({ code: 0, signal: null });
      expect(await query(url, 'SELECT email FROM users')).toEqual([{ email: 'in-flight@example.com' }]);
    });
  });
});
