/**
 * GET /metrics: what a Prometheus scraper sees after some traffic (requests by route template, requests in flight,
 * the pool, statements by kind, database errors, event-loop lag, memory), who may read it, and the slow-request and
 * slow-query log lines.
 */
import { Controller, Get, Logger, Module } from '@nestjs/common';
import { UniqueConstraintError } from 'sequelize';
import { Sequelize } from 'sequelize-typescript';
import { Public } from '../src/common/access/actor';
import { TransactionalRoutes } from '../src/common/interceptors/transactional-routes.decorator';
import { MetricsService } from '../src/observability/metrics.service';
import { createTestApp, type TestApp } from './utils/test-app';

/** A test-only route whose one statement takes ~60 ms. */
@TransactionalRoutes()
@Controller({ path: 'test-slow', version: '1' })
class SlowController {
  constructor(private readonly sequelize: Sequelize) {}

  @Public()
  @Get()
  async slow(): Promise<{ ok: true }> {
    await this.sequelize.query('SELECT pg_sleep(0.06)');
    return { ok: true };
  }
}

@Module({ controllers: [SlowController] })
class SlowModule {}

const METRICS_TOKEN = 'a-metrics-token-of-32-characters';

async function scrape(t: TestApp, headers: Record<string, string> = {}): Promise<{ status: number; contentType: string | null; text: string }> {
  const response = await fetch(`${t.baseUrl}/metrics`, { headers });
  return { status: response.status, contentType: response.headers.get('content-type'), text: await response.text() };
}

/** The value of one sample line, e.g. `http_requests_in_flight`, or `…_count{kind="SELECT"}` given its labels. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^(\w+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((pair) => [pair[1], pair[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return undefined;
}

describe('GET /metrics, open (test environment, no METRICS_TOKEN)', () => {
  let t: TestApp;
  let postId: number;

  beforeAll(async () => {
    t = await createTestApp({ imports: [SlowModule], env: { SLOW_QUERY_MS: '30', SLOW_REQUEST_MS: '40' } });
    const created = await t.request('POST', '/api/v1/posts', { body: { title: 'Measured', body: 'Body', authorId: t.admin.id } });
    expect(created.status).toBe(201);
    postId = created.body.id;
    for (let i = 0; i < 3; i++) expect((await t.request('GET', `/api/v1/posts/${postId}`)).status).toBe(200);
    expect((await t.request('GET', '/api/v1/posts/987654')).status).toBe(404);
    expect((await fetch(`${t.baseUrl}/no/such/path/${postId}`)).status).toBe(404);
  });

  afterAll(async () => {
    await t.close();
  });

  it('serves the text exposition format, labelled by route template, never by raw path', async () => {
    const { status, contentType, text } = await scrape(t);
    expect(status).toBe(200);
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(text).toContain('# TYPE http_request_duration_seconds histogram');
    expect(sample(text, 'http_request_duration_seconds_count', { method: 'GET', route: '/api/v1/posts/:id', status_code: '200' })).toBe(3);
    expect(sample(text, 'http_request_duration_seconds_count', { method: 'GET', route: '/api/v1/posts/:id', status_code: '404' })).toBe(1);
    expect(sample(text, 'http_request_duration_seconds_count', { method: 'POST', route: '/api/v1/posts', status_code: '201' })).toBe(1);
    // Unknown paths share one series; no id of any request appears as a label.
    expect(sample(text, 'http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status_code: '404' })).toBe(1);
    expect(text).not.toMatch(new RegExp(`route="[^"]*/${postId}"`));
    expect(text).not.toMatch(/="[^"]*\/987654/);
  });

  it('counts requests in flight (this scrape is one) and shows the pool', async () => {
    const { text } = await scrape(t);
    expect(sample(text, 'http_requests_in_flight')).toBe(1);
    const size = sample(text, 'db_pool_connections');
    expect(size).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'db_pool_connections_idle')! + sample(text, 'db_pool_connections_in_use')!).toBe(size);
    expect(sample(text, 'db_pool_waiting')).toBe(0);
  });

  it('counts a transaction\'s connection in use until its COMMIT, through a savepoint\'s rollback', async () => {
    const pool = async () => {
      const { text } = await scrape(t);
      const [size, idle, inUse] = ['db_pool_connections', 'db_pool_connections_idle', 'db_pool_connections_in_use'].map((name) => sample(text, name)!);
      expect(idle + inUse).toBe(size);
      return inUse;
    };
    expect(await pool()).toBe(0);
    const transaction = await t.sequelize.transaction();
    try {
      await t.sequelize.query('SELECT 1', { transaction });
      expect(await pool()).toBe(1);
      // ROLLBACK TO SAVEPOINT keeps the connection; a statement outside the transaction takes another and returns it.
      const savepoint = await t.sequelize.transaction({ transaction });
      await savepoint.rollback();
      await t.sequelize.query('SELECT 2');
      expect(await pool()).toBe(1);
    } finally {
      await transaction.commit();
    }
    expect(await pool()).toBe(0);
  });

  it('times statements by kind: the POST\'s BEGIN, INSERT and COMMIT, the GETs\' SELECTs', async () => {
    expect(Boolean(t.sequelize.hasHook('beforeQuery'))).toBe(true);
    const { text } = await scrape(t);
    for (const kind of ['BEGIN', 'INSERT', 'COMMIT']) expect([kind, sample(text, 'db_query_duration_seconds_count', { kind })! >= 1]).toEqual([kind, true]);
    expect(sample(text, 'db_query_duration_seconds_count', { kind: 'SELECT' })).toBeGreaterThanOrEqual(4);
  });

  it('counts database errors by class', async () => {
    expect((await scrape(t)).text).toContain('# TYPE db_errors_total counter');
    // As the exception filter reports them: by class, or by the fault's kind when it has classified one.
    t.app.get(MetricsService).databaseError(new UniqueConstraintError({}));
    t.app.get(MetricsService).databaseError(new Error('Connection terminated unexpectedly'), 'connection-lost');
    t.app.get(MetricsService).databaseError({ constructor: { name: 'not a "label"' } });
    const { text } = await scrape(t);
    expect(sample(text, 'db_errors_total', { class: 'UniqueConstraintError' })).toBe(1);
    expect(sample(text, 'db_errors_total', { class: 'connection-lost' })).toBe(1);
    expect(sample(text, 'db_errors_total', { class: 'Unknown' })).toBe(1);
    expect(text).not.toContain('terminated');
  });

  it('shows the process: event-loop lag and memory', async () => {
    const { text } = await scrape(t);
    expect(sample(text, 'nodejs_eventloop_lag_p99_seconds')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(10_000_000);
    expect(sample(text, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(1_000_000);
  });

  it('takes a Bearer token sent to it for no access token (no 401 from the AuthGuard)', async () => {
    const response = await scrape(t, { authorization: 'Bearer not-a-jwt' });
    expect(response.status).toBe(200);
  });

  it('logs a slow statement once, at warn, with its kind, time and request id, and the slow request', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    try {
      const response = await t.request('GET', '/api/v1/test-slow', { as: null, headers: { 'x-request-id': 'slow-query-probe' } });
      expect(response.status).toBe(200);
      const entries = warn.mock.calls.map((call) => call[0] as Record<string, unknown>);
      const slowQueries = entries.filter((entry) => entry.msg === 'slow query');
      expect(slowQueries).toEqual([{ msg: 'slow query', kind: 'SELECT', ms: expect.any(Number), reqId: 'slow-query-probe' }]);
      expect(slowQueries[0].ms).toBeGreaterThanOrEqual(30);
      const slowRequests = entries.filter((entry) => entry.msg === 'slow request');
      expect(slowRequests).toEqual([
        { msg: 'slow request', reqId: 'slow-query-probe', method: 'GET', route: '/api/v1/test-slow', status: 200, ms: expect.any(Number) },
      ]);
      // Never the statement or a value.
      expect(JSON.stringify(entries)).not.toContain('pg_sleep');
    } finally {
      warn.mockRestore();
    }
  });
});

describe('GET /metrics with METRICS_TOKEN', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ env: { METRICS_TOKEN } });
  });

  afterAll(async () => {
    await t.close();
  });

  it('answers 401 with WWW-Authenticate without the token or with a wrong one, 200 with it', async () => {
    const refused: Array<Record<string, string>> = [{}, { authorization: `Bearer ${METRICS_TOKEN}x` }, { authorization: 'Bearer short' }, { authorization: METRICS_TOKEN }, { authorization: `Bearer ${t.admin.token}` }];
    for (const headers of refused) {
      const response = await fetch(`${t.baseUrl}/metrics`, { headers });
      expect([headers, response.status]).toEqual([headers, 401]);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
      expect(await response.json()).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    }
    const { status, text } = await scrape(t, { authorization: `Bearer ${METRICS_TOKEN}` });
    expect(status).toBe(200);
    expect(text).toContain('# TYPE http_request_duration_seconds histogram');
  });
});

describe('GET /metrics in production without METRICS_TOKEN', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      env: { NODE_ENV: 'production', JWT_SECRET: 'a-production-secret-of-at-least-32-bytes', LOG_LEVEL: 'warn', SLOW_QUERY_MS: '0', SLOW_REQUEST_MS: '0' },
    });
  });

  afterAll(async () => {
    await t.close();
  });

  it('is off: 404 in the API error shape, and nothing is measured (no statement hook, no registry)', async () => {
    expect(Boolean(t.sequelize.hasHook('beforeQuery'))).toBe(false);
    await t.request('GET', '/api/v1/posts');
    const response = await fetch(`${t.baseUrl}/metrics`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ statusCode: 404, error: 'Not Found', message: 'Cannot GET /metrics' });
    expect(response.headers.get('x-request-id')).toBeTruthy();
    expect(t.app.get(MetricsService).enabled).toBe(false);
    expect(await t.app.get(MetricsService).render()).toBeUndefined();
  });
});
