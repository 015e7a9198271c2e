import Fastify, { type FastifyInstance } from 'fastify';
import { registerLoadShedding, SERVER_BUSY_BODY } from './load-shedding';

describe('registerLoadShedding', () => {
  let app: FastifyInstance;
  let inFlight: () => number;
  let release: () => void;
  let gate: Promise<void>;

  beforeEach(async () => {
    app = Fastify();
    ({ inFlight } = registerLoadShedding(app, 2));
    gate = new Promise((resolve) => (release = resolve));
    app.get('/slow', async () => {
      await gate;
      return { ok: true };
    });
    app.get('/fail', async () => {
      await gate;
      throw new Error('boom');
    });
    app.get('/health/live', async () => ({ status: 'ok' }));
    app.get('/health/ready', async () => ({ status: 'ok' }));
    app.get('/health', async () => ({ status: 'ok' }));
    await app.ready();
  });

  afterEach(async () => {
    release();
    await app.close();
  });

  it('answers the request beyond the limit at once with 503, a jittered Retry-After and the API error body', async () => {
    const first = app.inject({ method: 'GET', url: '/slow' });
    const second = app.inject({ method: 'GET', url: '/fail' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(inFlight()).toBe(2);

    const shed = await app.inject({ method: 'GET', url: '/slow' });
    expect(shed.statusCode).toBe(503);
    expect(shed.json()).toEqual(SERVER_BUSY_BODY);
    expect(SERVER_BUSY_BODY).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'Server busy, retry later' });
    expect(shed.headers['retry-after']).toMatch(/^[1-3]$/);

    release();
    expect((await first).statusCode).toBe(200);
    expect((await second).statusCode).toBe(500);
    await new Promise((resolve) => setImmediate(resolve));
    // Successes and errors alike leave the count: the next requests are served.
    expect(inFlight()).toBe(0);
    expect((await app.inject({ method: 'GET', url: '/slow' })).statusCode).toBe(200);
  });

  it('never sheds the health probes (liveness, readiness, the combined one), with or without a query string', async () => {
    const held = [app.inject({ method: 'GET', url: '/slow' }), app.inject({ method: 'GET', url: '/slow' })];
    await new Promise((resolve) => setImmediate(resolve));
    expect((await app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/health/ready?verbose=1' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/health/livex' })).statusCode).toBe(503);
    release();
    await Promise.all(held);
  });
});
