import { createMarkedDatabase, withAdmin } from './setup/test-databases';
import { TempCluster } from './utils/temp-cluster';
import { createTestApp, type TestApp } from './utils/test-app';

// Probes are anonymous: every request here sends no token, unless it says otherwise.
const ANONYMOUS = { as: null };

describe('GET /health', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await createTestApp();
  });

  afterAll(async () => {
    await testApp.close();
  });

  it('answers 200 with the database up', async () => {
    const response = await testApp.request('GET', '/health', ANONYMOUS);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'ok', info: { database: { status: 'up' } } });
  });

  it('is served outside the versioned API prefix', async () => {
    expect((await testApp.request('GET', '/api/v1/health', ANONYMOUS)).status).toBe(404);
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

  it('reports 503 from /health and from the API, with Retry-After, and recovers', async () => {
    expect((await testApp.request('GET', '/health', ANONYMOUS)).status).toBe(200);
    expect((await testApp.request('GET', '/api/v1/users', ANONYMOUS)).status).toBe(200);

    await cluster.server.stop();
    const health = await testApp.request('GET', '/health', ANONYMOUS);
    expect(health.status).toBe(503);
    expect(health.body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'Unhealthy: database down' });
    expect(health.headers.get('retry-after')).toMatch(/^\d+$/);

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
    expect((await testApp.request('GET', '/health', ANONYMOUS)).status).toBe(200);
    expect((await testApp.request('GET', '/api/v1/users', ANONYMOUS)).status).toBe(200);
    expect((await testApp.request('GET', '/api/v1/users')).status).toBe(200);
  });
});
