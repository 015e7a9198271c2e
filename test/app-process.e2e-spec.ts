import { randomBytes } from 'node:crypto';
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

/** Sends a JSON request to a spawned app; the body comes back parsed when there is one. */
async function send(app: AppProcess, method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}) {
  const response = await fetch(`${app.baseUrl}${path}`, {
    method,
    headers: { ...(options.body !== undefined && { 'content-type': 'application/json' }), ...options.headers },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}

/**
 * An admin of a spawned production app, made the way an operator could without the harness: registration (which
 * always gives role `user`), promotion in the database, then a login, whose token carries the new role.
 */
async function registerAdmin(app: AppProcess, url: string, email: string) {
  const password = 'an admin passphrase for the test';
  const registered = await send(app, 'POST', '/api/v1/auth/register', { body: { name: 'Process Admin', email, password } });
  expect(registered.status).toBe(201);
  expect(registered.body?.user.role).toBe('user');
  await query(url, `UPDATE users SET role = 'admin' WHERE id = $1`, [registered.body?.user.id]);
  const login = await send(app, 'POST', '/api/v1/auth/login', { body: { email, password } });
  expect(login.status).toBe(200);
  expect(login.body?.user.role).toBe('admin');
  return { id: login.body?.user.id as number, email, password, accessToken: login.body?.accessToken as string, refreshToken: login.body?.refreshToken as string };
}

describe('the app as a process', () => {
  it('refuses to start on invalid configuration, naming the variable', async () => {
    const app = AppProcess.spawn({ DATABASE_URL: 'postgres://127.0.0.1:1/none', DB_POOL_MAX: 'lots' }, await freePort());
    const exit = await app.waitForExit();
    expect(exit.code).toBe(1);
    expect(app.logs).toMatch(/Invalid environment configuration/);
    expect(app.logs).toMatch(/DB_POOL_MAX="lots"/);
  });

  it.each([
    ['without JWT_SECRET', '', /JWT_SECRET: missing/],
    ['with a JWT_SECRET of 31 bytes', 'k'.repeat(31), /JWT_SECRET: 31 bytes/],
    // Counted in bytes, not characters: 16 characters of 2 bytes each would pass, 15 are 30 bytes.
    ['with a JWT_SECRET of 15 two-byte characters', 'é'.repeat(15), /JWT_SECRET: 30 bytes/],
  ])('refuses to start in production %s, naming JWT_SECRET and never printing it', async (_case, secret, message) => {
    const app = AppProcess.spawn({ DATABASE_URL: 'postgres://127.0.0.1:1/none', NODE_ENV: 'production', JWT_SECRET: secret }, await freePort());
    const exit = await app.waitForExit();
    expect(exit.code).toBe(1);
    expect(app.logs).toMatch(/Invalid environment configuration/);
    expect(app.logs).toMatch(message);
    expect(app.logs).toMatch(/at least 32 bytes/);
    // Refused at validation, before any connection attempt to the (unreachable) database.
    expect(app.logs).not.toMatch(/ECONNREFUSED|API listening/);
    if (secret) expect(app.logs).not.toContain(secret);
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

    it('warns at start when rate limits would be counted per process (no REDIS_URL), and not when they are shared', async () => {
      const url = await createScratchDatabase('rate_limit_store');
      const warning = /REDIS_URL is not set: rate limits are counted in this process/;
      const alone = await AppProcess.start({ DATABASE_URL: url, MIGRATE_ON_START: 'true', RATE_LIMIT: 'on', REDIS_URL: '' });
      alone.kill('SIGTERM');
      expect((await alone.waitForExit()).code).toBe(0);
      expect(alone.logs).toMatch(warning);
      const shared = await AppProcess.start({ DATABASE_URL: url, RATE_LIMIT: 'on', REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379' });
      shared.kill('SIGTERM');
      expect((await shared.waitForExit()).code).toBe(0);
      expect(shared.logs).not.toMatch(warning);
      expect(shared.logs).toMatch(/API listening/);
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
      const jwtSecret = randomBytes(48).toString('base64');
      const app = await AppProcess.start({ DATABASE_URL: url, MIGRATE_ON_START: 'true', LOG_LEVEL: 'info', JWT_SECRET: jwtSecret });
      const admin = await registerAdmin(app, url, 'logged-admin@example.com');
      const created = await send(app, 'POST', '/api/v1/users', {
        headers: { authorization: `Bearer ${admin.accessToken}`, 'x-request-id': 'log-probe-1' },
        body: { name: 'Logged Person', email: 'logged-person@example.com', password: 'the created user passphrase' },
      });
      expect(created.status).toBe(201);
      // A refused credential is not logged either.
      const refused = await send(app, 'POST', '/api/v1/users', {
        headers: { authorization: 'Bearer s3cr3t-token', 'x-request-id': 'log-probe-2' },
        body: { name: 'Refused Person', email: 'refused-person@example.com' },
      });
      expect(refused.status).toBe(401);
      const refreshed = await send(app, 'POST', '/api/v1/auth/refresh', { headers: { 'x-request-id': 'log-probe-3' }, body: { refreshToken: admin.refreshToken } });
      expect(refreshed.status).toBe(200);
      await app.waitForOutput(/log-probe-3/, 10_000);
      app.kill('SIGTERM');
      await app.waitForExit();

      const line = (id: string) => JSON.parse(app.logs.split('\n').find((entry) => entry.includes(id))!);
      expect(line('log-probe-1')).toMatchObject({ reqId: 'log-probe-1', req: { method: 'POST', url: '/api/v1/users' }, res: { statusCode: 201 } });
      expect(line('log-probe-2')).toMatchObject({ reqId: 'log-probe-2', res: { statusCode: 401 } });
      expect(line('log-probe-3')).toMatchObject({ reqId: 'log-probe-3', req: { url: '/api/v1/auth/refresh' }, res: { statusCode: 200 } });
      const secrets = [
        's3cr3t-token',
        'logged-person@example.com',
        'Logged Person',
        'Refused Person',
        'the created user passphrase',
        admin.email,
        admin.password,
        admin.accessToken,
        admin.refreshToken,
        refreshed.body?.accessToken as string,
        refreshed.body?.refreshToken as string,
        '$argon2',
        jwtSecret,
      ];
      for (const secret of secrets) expect([secret, app.logs.includes(secret)]).toEqual([secret, false]);
    });

    it('finishes an in-flight request on SIGTERM, then exits 0', async () => {
      const url = await createScratchDatabase('shutdown');
      const app = await AppProcess.start({ DATABASE_URL: url, MIGRATE_ON_START: 'true' });
      const admin = await registerAdmin(app, url, 'shutdown-admin@example.com');
      const body = JSON.stringify({ name: 'In Flight', email: 'in-flight@example.com' });

      // The request is in flight while its body is still arriving; SIGTERM lands in between.
      const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
        const request = httpRequest(
          {
            host: '127.0.0.1',
            port: app.port,
            method: 'POST',
            path: '/api/v1/users',
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${admin.accessToken}` },
          },
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
      expect(await query(url, 'SELECT email FROM users ORDER BY id')).toEqual([{ email: admin.email }, { email: 'in-flight@example.com' }]);
    });
  });
});
