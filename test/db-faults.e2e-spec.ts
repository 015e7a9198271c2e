/**
 * Database faults injected between the app and PostgreSQL (a TCP proxy, test/utils/fault-proxy.ts) under a small
 * steady load of reads and writes: every request answers within its bound, every failure is a 503 with a jittered
 * Retry-After (never a 500), the app recovers by itself, and no acknowledged write is lost. Each fault prints the
 * time to the first 503, the worst latency during the fault and the time to recover after it ends.
 */
import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { DatabaseError, QueryTypes } from 'sequelize';
import { databaseFault } from '../src/common/database/database-faults';
import { createScratchDatabase } from './setup/test-databases';
import { FaultProxy } from './utils/fault-proxy';
import { createTestApp, type TestApp, type TestResponse } from './utils/test-app';

const LIMITS = {
  DB_CONNECT_TIMEOUT_MS: 1000,
  DB_STATEMENT_TIMEOUT_MS: 1000,
  DB_QUERY_TIMEOUT_MS: 1500,
  DB_LOCK_TIMEOUT_MS: 800,
  DB_KEEPALIVE_IDLE_MS: 1000,
  MAX_IN_FLIGHT_REQUESTS: 6,
};
/** Scheduling, a second round trip (a ROLLBACK after the failure), a 2-core machine shared with other work. */
const MARGIN_MS = 1500;
const POOL_ACQUIRE_MS = 30_000;
const UNAVAILABLE = 'Database unavailable, retry later';
const BUSY = 'Server busy, retry later';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Sample {
  kind: 'read' | 'write';
  status: number;
  startedAt: number;
  ms: number;
  retryAfter: string | null;
  message?: unknown;
  email?: string;
}

interface Figures {
  firstFailureMs: number;
  worstDuringMs: number;
  recoverMs: number;
}

describe('database faults (e2e, through a fault-injecting proxy)', () => {
  let proxy: FaultProxy;
  let t: TestApp;
  let direct: Client;
  const acknowledged: string[] = [];
  const figures: Record<string, Figures> = {};
  let sequence = 0;

  beforeAll(async () => {
    // The faults are the network's between the app and PostgreSQL, with the app's own limits (sent per connection):
    // behind a pooler (whose limits are the server's, pooled-session-limits.ts) the proxy still goes to the server.
    const url = process.env.DATABASE_MIGRATION_URL ?? process.env.DATABASE_URL!;
    proxy = await FaultProxy.start(url);
    t = await createTestApp({
      env: { DATABASE_URL: proxy.via(url), ...Object.fromEntries(Object.entries(LIMITS).map(([key, value]) => [key, String(value)])) },
    });
    direct = new Client({ connectionString: url });
    await direct.connect();
  });

  afterAll(async () => {
    console.log(`Fault figures (ms):\n${Object.entries(figures).map(([name, f]) => `  ${name}: first 503 ${f.firstFailureMs}, worst during ${f.worstDuringMs}, recovered ${f.recoverMs}`).join('\n')}`);
    await proxy?.pass();
    await t?.close();
    await direct?.end();
    await proxy?.close();
  });

  let consoleWarn: jest.SpyInstance;
  beforeEach(() => {
    // Sequelize warns (console.warn) when a COMMIT or ROLLBACK fails under a fault, and discards that connection.
    consoleWarn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  });

  afterEach(async () => {
    for (const [message] of consoleWarn.mock.calls) expect(String(message)).toMatch(/We are killing its connection/);
    consoleWarn.mockRestore();
    await proxy.pass();
    // No acknowledged write lost: every 201 so far is in the database (read directly, not through the proxy).
    const { rows } = await direct.query<{ email: string }>('SELECT email FROM users WHERE email = ANY($1)', [acknowledged]);
    expect(rows.map((row) => row.email).sort()).toEqual([...acknowledged].sort());
  });

  async function send(kind: Sample['kind']): Promise<Sample> {
    const startedAt = Date.now();
    const email = kind === 'write' ? `fault-${process.pid}-${(sequence += 1)}@example.com` : undefined;
    let response: TestResponse;
    try {
      response =
        kind === 'write'
          ? await t.request('POST', '/api/v1/users', { body: { name: 'Fault Load', email } })
          : await t.request('GET', '/api/v1/users?limit=5');
    } catch (error) {
      // An answer the API does not document (a 500) fails the validator: kept as a sample that fails the checks.
      return { kind, status: -1, startedAt, ms: Date.now() - startedAt, retryAfter: null, message: String(error) };
    }
    if (response.status === 201) acknowledged.push(email!);
    return { kind, status: response.status, startedAt, ms: Date.now() - startedAt, retryAfter: response.headers.get('retry-after'), message: response.body?.message, email };
  }

  /** A steady load (reads and writes, `workers` at a time) while `episode` injects and ends a fault. */
  async function underLoad(name: string, episode: (samples: Sample[]) => Promise<{ faultAt: number; restoredAt: number }>, workers = 3) {
    const samples: Sample[] = [];
    let running = true;
    const load = Promise.all(
      Array.from({ length: workers }, async (_, worker) => {
        for (let i = worker; running; i++) samples.push(await send(i % 2 === 0 ? 'read' : 'write'));
      }),
    );
    await sleep(300);
    const { faultAt, restoredAt } = await episode(samples);
    // Recovered: a request that started after the fault ended has succeeded.
    await waitFor(() => samples.some((s) => s.startedAt >= restoredAt && s.status >= 200 && s.status < 300), 10_000, `${name}: no success after recovery`);
    await sleep(300);
    running = false;
    await load;

    expect(samples.filter((s) => ![200, 201, 503].includes(s.status))).toEqual([]);
    for (const failed of samples.filter((s) => s.status === 503)) {
      expect(failed.retryAfter).toMatch(/^[1-3]$/);
      expect([UNAVAILABLE, BUSY, 'Temporary conflict, retry the request']).toContain(failed.message);
    }
    const firstFailure = samples.filter((s) => s.status === 503).map((s) => s.startedAt + s.ms)[0];
    // Every request the fault could touch: in flight when it began, or started before it ended.
    const during = samples.filter((s) => s.startedAt + s.ms >= faultAt && s.startedAt < restoredAt);
    const recovered = samples.find((s) => s.startedAt >= restoredAt && s.status < 300)!;
    const result = {
      firstFailureMs: firstFailure === undefined ? NaN : firstFailure - faultAt,
      worstDuringMs: Math.max(...during.map((s) => s.ms)),
      recoverMs: recovered.startedAt + recovered.ms - restoredAt,
    };
    figures[name] = result;
    // After the recovery every request succeeds again.
    const settled = samples.filter((s) => s.startedAt >= recovered.startedAt + recovered.ms);
    expect(settled.filter((s) => s.status >= 300)).toEqual([]);
    return { samples, figures: result };
  }

  it('a network blackhole: 503 within the query/connect bound, fast 503s after, recovery when the network returns', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const error = jest.spyOn(Logger.prototype, 'error');
    try {
      let settledAt = 0;
      let restored = 0;
      let connectAttempts = 0;
      const { samples, figures: f } = await underLoad('blackhole', async (samples) => {
        const faultAt = Date.now();
        proxy.blackhole();
        await waitFor(() => samples.some((s) => s.status === 503), 10_000, 'no 503 during the blackhole');
        // Once every connection has met its bound, the outage is known: later requests are refused at once,
        // without each trying a connection of its own (the breaker lets one probe through at a time).
        await sleep(LIMITS.DB_CONNECT_TIMEOUT_MS + LIMITS.DB_QUERY_TIMEOUT_MS);
        settledAt = Date.now();
        const acceptedBefore = proxy.accepted;
        await sleep(2000);
        connectAttempts = proxy.accepted - acceptedBefore;
        restored = Date.now();
        await proxy.pass();
        return { faultAt, restoredAt: restored };
      });
      const whileKnownDown = samples.filter((s) => s.startedAt >= settledAt && s.startedAt + s.ms < restored);
      expect(whileKnownDown.length).toBeGreaterThan(10);
      for (const sample of whileKnownDown) {
        expect(sample.status).toBe(503);
        expect(sample.ms).toBeLessThan(250);
      }
      // Probes only: one at a time, every 500 ms, each bounded by the connect time-out.
      expect(connectAttempts).toBeLessThanOrEqual(4);
      expect(f.firstFailureMs).toBeLessThan(LIMITS.DB_QUERY_TIMEOUT_MS + MARGIN_MS);
      // At most two bounds: a query inside the transaction that gets no answer ends its connection first, so the
      // ROLLBACK fails at once; but when the BEGIN itself gets none, Sequelize sends its ROLLBACK on that connection
      // before the app sees the error, and it waits out a second query timeout.
      expect(f.worstDuringMs).toBeLessThan(2 * LIMITS.DB_QUERY_TIMEOUT_MS + MARGIN_MS);
      expect(f.recoverMs).toBeLessThan(2 * LIMITS.DB_CONNECT_TIMEOUT_MS + MARGIN_MS);
      // Database faults are warnings, never errors; the outage is announced once, not once per refused request.
      expect(error).not.toHaveBeenCalled();
      expect(warn.mock.calls.filter(([entry]) => /database unreachable/.test(String((entry as { msg?: string }).msg))).length).toBeLessThanOrEqual(1);
    } finally {
      warn.mockRestore();
      error.mockRestore();
    }
  });

  it('connections cut mid-query (a PATCH waiting on a row lock): 503, not 500, and the next requests succeed', async () => {
    const user = await t.request('POST', '/api/v1/users', { body: { name: 'Cut Target', email: `cut-${process.pid}@example.com` } });
    expect(user.status).toBe(201);
    acknowledged.push(user.body.email);
    await direct.query('BEGIN');
    try {
      await direct.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [user.body.id]);
      const startedAt = Date.now();
      const patch = t.request('PATCH', `/api/v1/users/${user.body.id}`, { body: { name: 'Cut Renamed' } });
      await sleep(300);
      proxy.cutAll();
      const response = await patch;
      const ms = Date.now() - startedAt;
      expect(response.status).toBe(503);
      expect(response.body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: UNAVAILABLE });
      expect(response.headers.get('retry-after')).toMatch(/^[1-3]$/);
      expect(ms).toBeLessThan(300 + MARGIN_MS);
    } finally {
      await direct.query('ROLLBACK');
    }
    const recoverStart = Date.now();
    const after = await t.request('GET', `/api/v1/users/${user.body.id}`);
    expect(after.status).toBe(200);
    expect(after.body.name).toBe('Cut Target');
    figures['cut mid-query'] = { firstFailureMs: 0, worstDuringMs: 0, recoverMs: Date.now() - recoverStart };

    const { figures: f } = await underLoad('cut under load', async () => {
      const faultAt = Date.now();
      proxy.cutAll();
      await sleep(500);
      proxy.cutAll();
      return { faultAt, restoredAt: Date.now() };
    });
    expect(f.worstDuringMs).toBeLessThan(MARGIN_MS);
  });

  it('the database unreachable (connections refused): fast 503s, far under the pool acquire time, recovery without restart', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const log = jest.spyOn(Logger.prototype, 'log');
    const error = jest.spyOn(Logger.prototype, 'error');
    try {
      const { samples, figures: f } = await underLoad(
        'refused',
        async (samples) => {
          const faultAt = Date.now();
          await proxy.refuse();
          await waitFor(() => samples.some((s) => s.status === 503), 5_000, 'no 503 while refused');
          await sleep(2500);
          const restoredAt = Date.now();
          await proxy.pass();
          return { faultAt, restoredAt };
        },
        4,
      );
      const refused = samples.filter((s) => s.status === 503);
      expect(refused.length).toBeGreaterThan(10);
      expect(f.firstFailureMs).toBeLessThan(MARGIN_MS);
      // Each 503 is fast: the breaker answers, nobody queues for the pool's 30 s.
      expect(Math.max(...refused.map((s) => s.ms))).toBeLessThan(Math.min(POOL_ACQUIRE_MS / 10, MARGIN_MS));
      expect(f.recoverMs).toBeLessThan(1000 + MARGIN_MS);
      expect(error).not.toHaveBeenCalled();
      const messages = (spy: jest.SpyInstance) => spy.mock.calls.map(([entry]) => String((entry as { msg?: string }).msg ?? entry));
      expect(messages(warn).filter((msg) => /^database unreachable: /.test(msg))).toHaveLength(1);
      expect(messages(log).filter((msg) => msg === 'database reachable again')).toHaveLength(1);
    } finally {
      warn.mockRestore();
      log.mockRestore();
      error.mockRestore();
    }
    expect((await t.request('GET', '/api/v1/users')).status).toBe(200);
  });

  it('a held row lock: the PATCH answers 503 within lock_timeout, the row unchanged; reads go on', async () => {
    const user = await t.request('POST', '/api/v1/users', { body: { name: 'Locked Target', email: `locked-${process.pid}@example.com` } });
    expect(user.status).toBe(201);
    acknowledged.push(user.body.email);
    await direct.query('BEGIN');
    let samples: Array<{ status: number; ms: number; body: unknown; retryAfter: string | null }>;
    try {
      await direct.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [user.body.id]);
      samples = await Promise.all(
        Array.from({ length: 3 }, async () => {
          const startedAt = Date.now();
          const response = await t.request('PATCH', `/api/v1/users/${user.body.id}`, { body: { name: 'Never Written' } });
          return { status: response.status, ms: Date.now() - startedAt, body: response.body, retryAfter: response.headers.get('retry-after') };
        }),
      );
      const read = await t.request('GET', `/api/v1/users/${user.body.id}`);
      expect(read.status).toBe(200);
    } finally {
      await direct.query('ROLLBACK');
    }
    for (const sample of samples) {
      expect(sample.status).toBe(503);
      expect(sample.body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: UNAVAILABLE });
      expect(sample.retryAfter).toMatch(/^[1-3]$/);
      expect(sample.ms).toBeGreaterThanOrEqual(LIMITS.DB_LOCK_TIMEOUT_MS - 50);
      expect(sample.ms).toBeLessThan(LIMITS.DB_LOCK_TIMEOUT_MS + MARGIN_MS);
    }
    const { rows } = await direct.query('SELECT name FROM users WHERE id = $1', [user.body.id]);
    expect(rows).toEqual([{ name: 'Locked Target' }]);
    const worst = Math.max(...samples.map((s) => s.ms));
    figures['held lock'] = { firstFailureMs: Math.min(...samples.map((s) => s.ms)), worstDuringMs: worst, recoverMs: 0 };
    // The lock is gone: the same PATCH goes through.
    const patched = await t.request('PATCH', `/api/v1/users/${user.body.id}`, { body: { name: 'Written' } });
    expect(patched.status).toBe(200);
  });

  it('a burst beyond MAX_IN_FLIGHT_REQUESTS: the excess gets 503 "Server busy" at once, the rest complete, nothing waits unbounded', async () => {
    const user = await t.request('POST', '/api/v1/users', { body: { name: 'Burst Target', email: `burst-${process.pid}@example.com` } });
    expect(user.status).toBe(201);
    acknowledged.push(user.body.email);
    await direct.query('BEGIN');
    let results: Array<{ status: number; ms: number; message: unknown; retryAfter: string | null }>;
    try {
      await direct.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [user.body.id]);
      const burst = Array.from({ length: 20 }, async (_, i) => {
        const startedAt = Date.now();
        const response = await t.request('PATCH', `/api/v1/users/${user.body.id}`, { body: { name: `Burst ${i}` } });
        return { status: response.status, ms: Date.now() - startedAt, message: response.body.message, retryAfter: response.headers.get('retry-after') };
      });
      await sleep(300);
      // The orchestrator's probe is never shed, even at the limit.
      const live = await fetch(`${t.baseUrl}/health/live`);
      expect(live.status).not.toBe(503);
      await direct.query('ROLLBACK');
      results = await Promise.all(burst);
    } catch (error) {
      await direct.query('ROLLBACK');
      throw error;
    }
    const busy = results.filter((r) => r.message === BUSY);
    const served = results.filter((r) => r.message !== BUSY);
    expect(busy.length).toBeGreaterThanOrEqual(20 - LIMITS.MAX_IN_FLIGHT_REQUESTS);
    for (const refused of busy) {
      expect(refused.status).toBe(503);
      expect(refused.retryAfter).toMatch(/^[1-3]$/);
      expect(refused.ms).toBeLessThan(250);
    }
    expect(served.length).toBeGreaterThan(0);
    for (const done of served) expect(done.status).toBe(200);
    expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(LIMITS.DB_LOCK_TIMEOUT_MS + MARGIN_MS);
    figures['burst'] = { firstFailureMs: Math.min(...busy.map((r) => r.ms)), worstDuringMs: Math.max(...results.map((r) => r.ms)), recoverMs: 0 };

    // The count of requests in flight came back down (also for requests whose client went away).
    const aborted = Array.from({ length: LIMITS.MAX_IN_FLIGHT_REQUESTS }, () => AbortSignal.timeout(100));
    await direct.query('BEGIN');
    await direct.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [user.body.id]);
    await Promise.allSettled(
      aborted.map((signal) =>
        fetch(`${t.baseUrl}/api/v1/users/${user.body.id}`, {
          method: 'PATCH',
          signal,
          headers: { authorization: `Bearer ${t.admin.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'Aborted' }),
        }),
      ),
    );
    await direct.query('ROLLBACK');
    await sleep(LIMITS.DB_LOCK_TIMEOUT_MS + 200);
    const after = await Promise.all(Array.from({ length: LIMITS.MAX_IN_FLIGHT_REQUESTS }, () => t.request('GET', '/api/v1/users?limit=1')));
    expect(after.map((r) => r.status)).toEqual(Array(LIMITS.MAX_IN_FLIGHT_REQUESTS).fill(200));
  });

  it('a connection whose query got no answer (client-side query_timeout) is never used again: its late answer reaches no later query', async () => {
    await select(t.sequelize, 'SELECT 1 AS one', []);
    proxy.blackhole();
    const startedAt = Date.now();
    const failure = await select(t.sequelize, `SELECT 'stale' AS v`, []).catch((error: unknown) => error);
    const ms = Date.now() - startedAt;
    expect(failure).toBeInstanceOf(DatabaseError);
    expect(databaseFault(failure)).toEqual({ kind: 'no-answer', reason: 'Query read timeout' });
    expect(ms).toBeLessThan(LIMITS.DB_QUERY_TIMEOUT_MS + MARGIN_MS);
    // Sequelize marks the connection invalid; the pool destroys it at its next acquire instead of lending it.
    await proxy.pass();
    await waitFor(async () => (await t.request('GET', '/api/v1/users?limit=1')).status === 200, 5_000, 'no recovery');
    for (let i = 0; i < 5; i++) expect(await select(t.sequelize, 'SELECT $1::text AS v', [`fresh-${i}`])).toEqual([{ v: `fresh-${i}` }]);
  });
});


describe('start-up migrations (e2e)', () => {
  it('are not bound by the pool\'s statement, lock and query time-outs (a migration may wait or run long)', async () => {
    const url = await createScratchDatabase('faults_migrate');
    const holder = new Client({ connectionString: url });
    await holder.connect();
    let app: TestApp | undefined;
    try {
      // The bookkeeping table exists and is locked against writes: each migration's record waits for it, far
      // longer than the app's lock and statement time-outs.
      await holder.query('CREATE TABLE "SequelizeMeta" (name varchar(255) PRIMARY KEY)');
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE "SequelizeMeta" IN EXCLUSIVE MODE');
      const starting = createTestApp({
        env: { DATABASE_URL: url, MIGRATE_ON_START: 'true', DB_LOCK_TIMEOUT_MS: '100', DB_STATEMENT_TIMEOUT_MS: '100', DB_QUERY_TIMEOUT_MS: '150' },
      });
      const started = starting.then((value) => (app = value));
      await sleep(1500);
      await holder.query('COMMIT');
      await started;
      const pending = await holder.query<{ n: number }>('SELECT count(*)::int AS n FROM "SequelizeMeta"');
      expect(pending.rows[0].n).toBeGreaterThan(0);
      expect((await app!.request('GET', '/api/v1/users')).status).toBe(200);
      // The app's own connections are bounded.
      const [{ timeout }] = await app!.rows<{ timeout: string }>(`SELECT current_setting('statement_timeout') AS timeout`);
      expect(timeout).toBe('100ms');
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await app?.close();
      await holder.end();
    }
  });
});

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, message: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(message);
    await sleep(25);
  }
}

function select(sequelize: TestApp['sequelize'], sql: string, bind: unknown[]): Promise<object[]> {
  return sequelize.query(sql, { bind, type: QueryTypes.SELECT });
}
