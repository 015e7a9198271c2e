/**
 * Read replicas (DATABASE_READ_URLS) against a real streaming replica that the harness builds from the machine's
 * PostgreSQL binaries (test/utils/replica-set.ts). Each server logs every statement with its application name, so
 * each test reads where the app sent what: reads outside a transaction to the replica; writes, and every statement
 * of a request transaction, to the primary; a writer's own reads to the primary for a while after its write (tested
 * under lag the test injects by pausing the replica's replay); and reads back on the primary while the replica is
 * behind the bound or down, and on the replica again once it is back.
 */
import Redis from 'ioredis';
import { APPLICATION_NAME } from '../src/database/connection-options';
import { ReplicaMonitor } from '../src/database/replicas/replica-monitor';
import { createMarkedDatabase, withAdmin } from './setup/test-databases';
import { createUser } from './utils/fixtures';
import { ReplicaSet } from './utils/replica-set';
import { createTestApp, type TestApp } from './utils/test-app';

const MAX_LAG_MS = 2500;
const PROBE_MS = 100;
/** How long a writer's reads stay on the primary (recent-writers.ts). */
const PINNED_MS = MAX_LAG_MS + 2 * PROBE_MS;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('read replicas (e2e, a real streaming replica)', () => {
  let set: ReplicaSet;
  let t: TestApp;
  let monitor: ReplicaMonitor;
  let user: { id: number; token: string };

  beforeAll(async () => {
    set = await ReplicaSet.start('replicas');
    const database = 'replicas_app';
    await withAdmin(set.primary.url('postgres'), (client) => createMarkedDatabase(client, database));
    await set.caughtUp();
    t = await createTestApp({
      env: {
        DATABASE_URL: set.primary.url(database),
        DATABASE_READ_URLS: set.replica.url(database),
        MIGRATE_ON_START: 'true',
        DB_REPLICA_MAX_LAG_MS: String(MAX_LAG_MS),
        DB_REPLICA_PROBE_MS: String(PROBE_MS),
      },
    });
    monitor = t.app.get(ReplicaMonitor);
    const created = await createUser(t);
    user = { id: created.id, token: await t.tokenFor({ id: created.id, role: 'user' }) };
    await set.caughtUp();
    // Past every pin the setup made (the user's login, the admin's writes).
    await sleep(PINNED_MS);
  }, 120_000);

  afterAll(async () => {
    await t?.close();
    await set?.destroy();
  });

  /** Runs `fn`, then the statements the app sent to each server meanwhile. */
  async function where<T>(fn: () => Promise<T>): Promise<{ result: T; primary: string[]; replica: string[] }> {
    const [fromPrimary, fromReplica] = await Promise.all([set.primary.logSize(), set.replica.logSize()]);
    const result = await fn();
    // The log is written by the server process: give it a moment to reach the file.
    await sleep(100);
    const [primary, replica] = await Promise.all([set.primary.statements(APPLICATION_NAME, fromPrimary), set.replica.statements(APPLICATION_NAME, fromReplica)]);
    return { result, primary: primary.filter(isApps), replica: replica.filter(isApps) };
  }

  /** The requests' statements: not the monitor's probes, nor the idempotency sweeper's (a timer of its own). */
  const isApps = (sql: string) => !/pg_current_wal_lsn|pg_last_wal_replay_lsn|idempotency_keys/.test(sql);

  async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(monitor.status())}`);
      await sleep(PROBE_MS);
    }
  }

  const inRotation = () => monitor.status().every((replica) => replica.inRotation);

  it('a read outside a transaction goes to the replica; the primary sees none of it', async () => {
    await waitFor(inRotation, 'the replica in rotation');
    const marker = `marker${Date.now()}`;
    const { result, primary, replica } = await where(() => t.request('GET', `/api/v1/posts?q=${marker}`, { as: null }));
    expect(result.status).toBe(200);
    expect(replica.some((sql) => sql.includes(marker))).toBe(true);
    expect(primary.some((sql) => sql.includes(marker))).toBe(false);
  });

  it("a write, and every statement of its request's transaction (reads included), goes to the primary", async () => {
    const { result, primary, replica } = await where(async () => {
      const created = await t.request('POST', '/api/v1/posts', { as: user.token, body: { title: `Written ${Date.now()}`, body: 'B', published: true } });
      expect(created.status).toBe(201);
      return t.request('PATCH', `/api/v1/posts/${created.body.id}`, { as: user.token, body: { title: `Changed ${Date.now()}` } });
    });
    expect(result.status).toBe(200);
    expect(primary.some((sql) => /^INSERT INTO "posts"/.test(sql))).toBe(true);
    expect(primary.some((sql) => /^UPDATE "posts"/.test(sql))).toBe(true);
    expect(primary).toEqual(expect.arrayContaining(['START TRANSACTION;', 'COMMIT;']));
    // The PATCH reads its row (locked) inside the transaction, before the UPDATE: on the primary too.
    expect(primary.some((sql) => /^SELECT .* FROM "posts" .*FOR UPDATE/.test(sql))).toBe(true);
    expect(replica).toEqual([]);
  });

  describe('read-your-writes under replication lag (the replica stops applying WAL)', () => {
    beforeAll(async () => {
      await sleep(PINNED_MS);
      await set.pauseReplay();
    });

    afterAll(async () => {
      await set.resumeReplay();
      await set.caughtUp();
    });

    it("the writer reads its new post at once, from the primary; an anonymous reader, from the lagging replica, does not see it yet", async () => {
      const created = await t.request('POST', '/api/v1/posts', { as: user.token, body: { title: 'Fresh', body: 'B', published: true } });
      expect(created.status).toBe(201);
      const own = await where(() => t.request('GET', `/api/v1/posts/${created.body.id}`, { as: user.token }));
      expect(own.result.status).toBe(200);
      expect(own.result.body.title).toBe('Fresh');
      expect(own.primary.some((sql) => sql.includes('FROM "posts"'))).toBe(true);
      expect(own.replica).toEqual([]);

      // Within the lag bound the replica stays in rotation: another reader is served from it, and it is behind.
      expect(inRotation()).toBe(true);
      const other = await where(() => t.request('GET', `/api/v1/posts/${created.body.id}`, { as: null }));
      expect(other.result.status).toBe(404);
      expect(other.replica.some((sql) => sql.includes('FROM "posts"'))).toBe(true);
    });

    it('a replica further behind than DB_REPLICA_MAX_LAG_MS is out of rotation: every read goes to the primary, and sees the write', async () => {
      const created = await t.request('POST', '/api/v1/posts', { as: user.token, body: { title: 'Later', body: 'B', published: true } });
      await waitFor(() => !inRotation(), 'the replica out of rotation', MAX_LAG_MS + 5_000);
      expect(monitor.status()[0].reason).toMatch(/behind the primary/);
      const read = await where(() => t.request('GET', `/api/v1/posts/${created.body.id}`, { as: null }));
      expect(read.result.status).toBe(200);
      expect(read.replica).toEqual([]);
      expect(read.primary.some((sql) => sql.includes('FROM "posts"'))).toBe(true);
    });
  });

  describe('logins under replication lag', () => {
    beforeAll(async () => {
      await waitFor(inRotation, 'the replica back in rotation');
      await set.pauseReplay();
    });

    afterAll(async () => {
      await set.resumeReplay();
      await set.caughtUp();
      await sleep(PINNED_MS);
    });

    it('a login reads the account from the primary: a password changed a moment ago is the one that works', async () => {
      const email = `replica-${Date.now()}@example.com`;
      const registered = await t.request('POST', '/api/v1/auth/register', { as: null, body: { name: 'Lagged', email, password: 'the first password' } });
      expect(registered.status).toBe(201);
      const id = registered.body.user?.id ?? (await t.rows<{ id: number }>('SELECT id FROM users WHERE email = $1', [email]))[0].id;
      const changed = await t.request('PATCH', `/api/v1/users/${id}`, {
        as: registered.body.accessToken,
        body: { password: 'the second password', currentPassword: 'the first password' },
      });
      expect(changed.status).toBe(200);
      // Still within the lag bound: the replica would answer if asked, and has not seen this account.
      expect(inRotation()).toBe(true);
      const login = await where(() => t.request('POST', '/api/v1/auth/login', { as: null, body: { email, password: 'the second password' } }));
      expect(login.result.status).toBe(200);
      expect(login.replica).toEqual([]);
      expect((await t.request('POST', '/api/v1/auth/login', { as: null, body: { email, password: 'the first password' } })).status).toBe(401);
    });
  });

  it('once the replica has caught up it is back in rotation, and serves reads again', async () => {
    await waitFor(inRotation, 'the replica back in rotation');
    const read = await where(() => t.request('GET', '/api/v1/posts?limit=1', { as: null }));
    expect(read.result.status).toBe(200);
    expect(read.replica.some((sql) => sql.includes('FROM "posts"'))).toBe(true);
    expect(read.primary).toEqual([]);
  });

  it('a replica that stops is taken out of rotation (reads from the primary, no errors); started again, it serves again', async () => {
    await set.replica.stop();
    await waitFor(() => !inRotation(), 'the stopped replica out of rotation');
    expect(monitor.status()[0].reason).toMatch(/unreachable/);
    for (let i = 0; i < 5; i++) {
      const read = await where(() => t.request('GET', '/api/v1/posts?limit=1', { as: null }));
      expect(read.result.status).toBe(200);
      expect(read.primary.some((sql) => sql.includes('FROM "posts"'))).toBe(true);
    }

    await set.replica.start();
    await waitFor(inRotation, 'the restarted replica in rotation', 30_000);
    // Connections the pool held to the stopped server are dropped as they are found dead; then reads are the replica's.
    let served: string[] = [];
    for (let attempt = 0; attempt < 20 && served.length === 0; attempt++) {
      const read = await where(() => t.request('GET', '/api/v1/posts?limit=1', { as: null }));
      expect(read.result.status).toBe(200);
      served = read.replica.filter((sql) => sql.includes('FROM "posts"'));
    }
    expect(served.length).toBeGreaterThan(0);
  });

  // Last: two more apps in this process rebind the models to the newest Sequelize, which closing them leaves closed.
  // The pin itself is what is shared here, through Redis: each app's hook asks its own Redis client.
  it('with REDIS_URL, a write made through one instance pins the writer\'s reads on every instance', async () => {
    // One deployment: a shared Redis, and one JWT_SECRET so that a token of one instance is good on the other.
    const redis = { REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', JWT_SECRET: 'replica tests: a secret shared by both instances' };
    const env = { DATABASE_URL: set.primary.url('replicas_app'), DATABASE_READ_URLS: set.replica.url('replicas_app'), DB_REPLICA_MAX_LAG_MS: String(MAX_LAG_MS), DB_REPLICA_PROBE_MS: String(PROBE_MS), ...redis };
    const redisClient = new Redis(redis.REDIS_URL);
    const [a, b] = [await createTestApp({ env }), await createTestApp({ env })];
    try {
      const writer = await createUser(a);
      const token = await a.tokenFor({ id: writer.id, role: 'user' });
      await sleep(PINNED_MS);
      const other = b.app.get(ReplicaMonitor);
      await waitFor(() => other.status().every((replica) => replica.inRotation), "the second instance's replica in rotation");
      await set.pauseReplay();
      try {
        const created = await a.request('POST', '/api/v1/posts', { as: token, body: { title: 'Through A', body: 'B', published: true } });
        expect(created.status).toBe(201);
        // The pin is in Redis (not only in instance a's memory), keyed by the database and the writer.
        const pins = await redisClient.keys(`recent-writer:*:${writer.id}`);
        expect(pins).toHaveLength(1);
        const own = await b.request('GET', `/api/v1/posts/${created.body.id}`, { as: token });
        expect(own.status).toBe(200);
        expect((await b.request('GET', `/api/v1/posts/${created.body.id}`, { as: null })).status).toBe(404);
      } finally {
        await set.resumeReplay();
        await set.caughtUp();
      }
    } finally {
      await a.close();
      await b.close();
      redisClient.disconnect();
    }
  });
});
