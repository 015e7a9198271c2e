import { Draining } from '../src/health/draining';
import { createMarkedDatabase, createScratchDatabase, withAdmin } from './setup/test-databases';
import { TempCluster } from './utils/temp-cluster';
import { createTestApp, type TestApp } from './utils/test-app';

// Probes are anonymous: every request here sends no token, unless it says otherwise.
const ANONYMOUS = { as: null };

const READY_BODY = { status: 'ok', info: { database: { status: 'up' }, migrations: { status: 'up' } } };

describe('GET /health', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await createTestApp();
  });

  afterAll(async () => {
    await testApp.close();
  });

  it('answers 200 with the database up and no pending migration, as /health/ready does', async () => {
    for (const path of ['/health', '/health/ready']) {
      const response = await testApp.request('GET', path, ANONYMOUS);
      expect([path, response.status]).toEqual([path, 200]);
      expect(response.body).toMatchObject(READY_BODY);
    }
  });

  it('answers /health/live without touching the database', async () => {
    const { result, statements } = await testApp.captureStatements(() => testApp.request('GET', '/health/live', ANONYMOUS));
    expect(result.status).toBe(200);
    expect(result.body).toEqual({ status: 'ok' });
    expect(statements).toEqual([]);
  });

  it('is served outside the versioned API prefix', async () => {
    for (const path of ['/api/v1/health', '/api/v1/health/live', '/api/v1/health/ready']) {
      expect([path, (await testApp.request('GET', path, ANONYMOUS)).status]).toEqual([path, 404]);
    }
  });
});

describe('while draining (after SIGTERM, before the server closes)', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await createTestApp();
    testApp.app.get(Draining).start();
  });

  afterAll(async () => {
    await testApp.close();
  });

  it('is not ready, without asking the database, and says why', async () => {
    for (const path of ['/health/ready', '/health']) {
      const { result, statements } = await testApp.captureStatements(() => testApp.request('GET', path, ANONYMOUS));
      expect([path, result.status]).toEqual([path, 503]);
      expect(result.body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'Unhealthy: draining' });
      expect(result.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
      expect(statements).toEqual([]);
    }
  });

  it('stays alive and keeps serving the API, asking keep-alive clients to reconnect elsewhere', async () => {
    const live = await testApp.request('GET', '/health/live', ANONYMOUS);
    expect(live.status).toBe(200);
    expect(live.headers.get('connection')).toBe('close');
    const created = await testApp.request('POST', '/api/v1/users', { body: { name: 'Drained Dana', email: 'drained-dana@example.com' } });
    expect(created.status).toBe(201);
    expect(created.headers.get('connection')).toBe('close');
  });
});

describe('when the database goes away', () => {
  let cluster: TempCluster;
  let testApp: TestApp;

  beforeAll(async () => {
    cluster = await TempCluster.start('health');
    await withAdmin(cluster.server.url(), (client) => createMarkedDatabase(client, 'health_probe'));
    testApp = await createTestApp({
      env: { DATABASE_URL: cluster.server.url('health_probe'), MIGRATE_ON_START: 'true', DB_POOL_ACQUIRE_MS: '2000' },
    });
  });

  afterAll(async () => {
    await testApp.close();
    await cluster.destroy();
  });

  it('reports 503 from /health, /health/ready and the API, with Retry-After, stays live, and recovers', async () => {
    expect((await testApp.request('GET', '/health', ANONYMOUS)).status).toBe(200);
    expect((await testApp.request('GET', '/health/ready', ANONYMOUS)).status).toBe(200);
    expect((await testApp.request('GET', '/api/v1/users', ANONYMOUS)).status).toBe(200);

    await cluster.server.stop();
    for (const path of ['/health', '/health/ready']) {
      const started = performance.now();
      const health = await testApp.request('GET', path, ANONYMOUS);
      // HEALTH_DB_TIMEOUT_MS (1000 by default) bounds the wait, whatever the pool's acquire time (2000 here).
      expect([path, performance.now() - started < 1_500]).toEqual([path, true]);
      expect([path, health.status]).toEqual([path, 503]);
      expect(health.body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'Unhealthy: database down' });
      expect(health.headers.get('retry-after')).toMatch(/^\d+$/);
    }
    // Liveness does not depend on the database: an orchestrator must not restart a process for an outage.
    const live = await testApp.request('GET', '/health/live', ANONYMOUS);
    expect(live.status).toBe(200);
    expect(live.body).toEqual({ status: 'ok' });

    // Anonymous, the route's own query meets the outage; with a token (the harness admin's), the guard's session
    // check does first: a 503 either way, never a 401 or a 500.
    for (let attempt = 0; attempt < 3; attempt++) {
      for (const options of [ANONYMOUS, {}]) {
        const api = await testApp.request('GET', '/api/v1/users', options);
        expect(api.status).toBe(503);
        expect(api.headers.get('retry-after')).toMatch(/^\d+$/);
        expect(api.body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: expect.any(String) });
      }
    }

    await cluster.restart();
    // Back without a restart of the app, once the database is seen again (the pool's next connection, or a probe).
    const recovered = Date.now();
    while ((await testApp.request('GET', '/health/ready', ANONYMOUS)).status !== 200) {
      expect(Date.now() - recovered).toBeLessThan(5_000);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await testApp.request('GET', '/health', ANONYMOUS)).status).toBe(200);
    expect((await testApp.request('GET', '/api/v1/users', ANONYMOUS)).status).toBe(200);
    expect((await testApp.request('GET', '/api/v1/users')).status).toBe(200);
  });
});

describe('with a migration pending', () => {
  let testApp: TestApp;
  let newest: string;
  let url: string;

  beforeAll(async () => {
    url = await createScratchDatabase('health_pending');
    testApp = await createTestApp({ env: { DATABASE_URL: url, MIGRATE_ON_START: 'true' } });
    // The app started on an up-to-date schema; forgetting the newest migration's record makes it pending again, as a
    // rolled-back deploy would. Nothing asked for readiness yet, so nothing is remembered.
    const [row] = await testApp.rows<{ name: string }>('DELETE FROM "SequelizeMeta" WHERE name = (SELECT max(name) FROM "SequelizeMeta") RETURNING name');
    newest = row.name;
  });

  afterAll(async () => {
    await testApp.close();
  });

  it('is not ready until it is applied, stays live, and then remembers that none is pending', async () => {
    for (const path of ['/health/ready', '/health']) {
      const response = await testApp.request('GET', path, ANONYMOUS);
      expect([path, response.status]).toEqual([path, 503]);
      expect(response.body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'Unhealthy: migrations pending' });
      expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    }
    expect((await testApp.request('GET', '/health/live', ANONYMOUS)).status).toBe(200);

    // A check that cannot finish in time (the bookkeeping table locked) is not taken for "none pending".
    await withAdmin(url, async (client) => {
      await client.query('BEGIN');
      await client.query('LOCK TABLE "SequelizeMeta" IN ACCESS EXCLUSIVE MODE');
      try {
        const started = performance.now();
        const response = await testApp.request('GET', '/health/ready', ANONYMOUS);
        expect(performance.now() - started).toBeLessThan(1_500);
        expect(response.status).toBe(503);
        expect(response.body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'Unhealthy: migrations unchecked' });
      } finally {
        await client.query('ROLLBACK');
      }
    });

    await testApp.rows('INSERT INTO "SequelizeMeta" (name) VALUES ($1)', [newest]);
    const ready = await testApp.request('GET', '/health/ready', ANONYMOUS);
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject(READY_BODY);

    // Migrations change only with a deploy: from now on a probe costs one ping, not a read of SequelizeMeta.
    const { result, statements } = await testApp.captureStatements(() => testApp.request('GET', '/health/ready', ANONYMOUS));
    expect(result.status).toBe(200);
    expect(statements).toEqual(['SELECT 1']);
  });
});
