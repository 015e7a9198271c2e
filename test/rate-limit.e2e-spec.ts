/**
 * Rate limits, on (every other suite runs with RATE_LIMIT=off): the default budget per client IP, the strict
 * per-IP and per-email budgets of the credential routes, 429 with Retry-After in the API's error shape, counts
 * shared through Redis, and requests still served when Redis is down.
 *
 * Fastify's trustProxy is off, so the client IP is the socket's peer address and X-Forwarded-For changes nothing.
 * Every 127.x.y.z address reaches the app over loopback on Linux: requests that must come from different clients
 * are sent from different local addresses.
 */
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import Redis from 'ioredis';
import { freePort } from './utils/app-process';
import { expectApiError } from './utils/fixtures';
import { openApiValidator } from './utils/openapi-validator';
import { createTestApp, type TestApp, type TestResponse } from './utils/test-app';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const WRONG_PASSWORD = 'not-the-password-at-all';

interface SendOptions {
  /** The local address the request leaves from: the client IP the app sees. */
  from: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** An anonymous request from `from`, checked against openapi.json as TestApp.request checks its own. */
function send(t: TestApp, method: string, path: string, options: SendOptions): Promise<TestResponse> {
  const { port } = new URL(t.baseUrl);
  const text = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers = { ...(text !== undefined && { 'content-type': 'application/json' }), ...options.headers };
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, localAddress: options.from, method, path, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(response.headers)) {
          for (const item of ([] as string[]).concat(value ?? [])) responseHeaders.append(name, item);
        }
        const status = response.statusCode ?? 0;
        try {
          openApiValidator().assert({ method, url: path, status, headers: responseHeaders, text: body });
        } catch (error) {
          reject(error as Error);
          return;
        }
        const isJson = (responseHeaders.get('content-type') ?? '').includes('application/json');
        resolve({ status, headers: responseHeaders, body: isJson && body ? JSON.parse(body) : body });
      });
    });
    request.on('error', reject);
    request.end(text);
  });
}

const login = (t: TestApp, from: string, email: string, password = WRONG_PASSWORD, headers?: Record<string, string>) =>
  send(t, 'POST', '/api/v1/auth/login', { from, body: { email, password }, headers });

const uniqueEmail = (label: string) => `${label}-${randomUUID()}@example.com`;

/** A 429 as the API promises it: the error shape, Retry-After in whole seconds within the window, no internals. */
function expectTooManyRequests(response: TestResponse, windowSeconds: number): void {
  expectApiError(response, 429);
  expect(response.body.message).toMatch(/Retry-After/);
  const retryAfter = response.headers.get('retry-after');
  expect(retryAfter).toMatch(/^\d+$/);
  expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  expect(Number(retryAfter)).toBeLessThanOrEqual(windowSeconds);
  // The per-throttler headers of @nestjs/throttler would name the limits' internals.
  expect([...response.headers.keys()].filter((name) => /ratelimit|retry-after-/i.test(name))).toEqual([]);
  expect(response.headers.get('cache-control')).toBe('no-store');
}

/** Sends `count` requests one after the other and returns their statuses. */
async function statuses(count: number, sendOne: (index: number) => Promise<TestResponse>): Promise<number[]> {
  const result: number[] = [];
  for (let index = 0; index < count; index++) result.push((await sendOne(index)).status);
  return result;
}

describe('rate limits (in memory)', () => {
  // The default budget is above the per-IP budget of the credential routes, so a 429 on them is theirs.
  const LIMITS = { RATE_LIMIT_MAX: 5, AUTH_RATE_LIMIT_PER_IP: 3, AUTH_RATE_LIMIT_PER_EMAIL: 2 };
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      env: {
        RATE_LIMIT: 'on',
        RATE_LIMIT_MAX: String(LIMITS.RATE_LIMIT_MAX),
        RATE_LIMIT_WINDOW_MS: '60000',
        AUTH_RATE_LIMIT_PER_IP: String(LIMITS.AUTH_RATE_LIMIT_PER_IP),
        AUTH_RATE_LIMIT_PER_EMAIL: String(LIMITS.AUTH_RATE_LIMIT_PER_EMAIL),
        AUTH_RATE_LIMIT_WINDOW_MS: '60000',
        REDIS_URL: '',
      },
    });
  });

  afterAll(async () => {
    await t.truncate();
    await t.close();
  });

  it('limits login attempts per IP, whichever emails they name, and a forged X-Forwarded-For does not reset it', async () => {
    const from = '127.0.0.10';
    expect(await statuses(LIMITS.AUTH_RATE_LIMIT_PER_IP, () => login(t, from, uniqueEmail('ip')))).toEqual([401, 401, 401]);

    expectTooManyRequests(await login(t, from, uniqueEmail('ip')), 60);
    expectTooManyRequests(await login(t, from, uniqueEmail('ip'), WRONG_PASSWORD, { 'x-forwarded-for': '203.0.113.7' }), 60);
    // Another client is not affected.
    expect((await login(t, '127.0.0.11', uniqueEmail('ip'))).status).toBe(401);
  });

  it('limits refresh attempts per IP', async () => {
    const from = '127.0.0.12';
    const refresh = () => send(t, 'POST', '/api/v1/auth/refresh', { from, body: { refreshToken: randomUUID() } });
    expect(await statuses(LIMITS.AUTH_RATE_LIMIT_PER_IP, refresh)).toEqual([401, 401, 401]);
    expectTooManyRequests(await refresh(), 60);
  });

  it('limits login attempts per email whatever the IP; even the right password waits; other emails pass', async () => {
    const email = uniqueEmail('victim');
    const password = 'the-right-password-1';
    expect((await t.request('POST', '/api/v1/users', { body: { name: 'Victim', email, password } })).status).toBe(201);

    // One attempt per address: no per-IP budget comes near its limit.
    expect((await login(t, '127.0.0.13', email)).status).toBe(401);
    expect((await login(t, '127.0.0.14', email)).status).toBe(401);
    expectTooManyRequests(await login(t, '127.0.0.15', email, password), 60);
    // The same address written differently is the same account.
    expectTooManyRequests(await login(t, '127.0.0.16', `  ${email.toUpperCase()} `, password), 60);

    expect((await login(t, '127.0.0.15', uniqueEmail('other'))).status).toBe(401);
  });

  it('limits registrations per email whatever the IP', async () => {
    const email = uniqueEmail('register');
    const register = (from: string) => send(t, 'POST', '/api/v1/auth/register', { from, body: { name: 'Newcomer', email, password: 'a-long-enough-password' } });
    expect((await register('127.0.0.17')).status).toBe(201);
    expect((await register('127.0.0.18')).status).toBe(409);
    expectTooManyRequests(await register('127.0.0.19'), 60);
  });

  it('limits every client on an ordinary route with the default budget; health probes are not limited', async () => {
    const from = '127.0.0.20';
    const list = () => send(t, 'GET', '/api/v1/posts', { from });
    expect(await statuses(LIMITS.RATE_LIMIT_MAX, list)).toEqual(Array(LIMITS.RATE_LIMIT_MAX).fill(200));
    expectTooManyRequests(await list(), 60);
    // A token does not buy a larger budget: the client is its address.
    expectTooManyRequests(await send(t, 'GET', '/api/v1/posts', { from, headers: { authorization: `Bearer ${t.admin.token}` } }), 60);
    expect((await send(t, 'GET', '/api/v1/posts', { from: '127.0.0.21' })).status).toBe(200);

    expect(await statuses(LIMITS.RATE_LIMIT_MAX + 3, () => send(t, 'GET', '/health', { from }))).toEqual(Array(LIMITS.RATE_LIMIT_MAX + 3).fill(200));
  });

  it('counts one budget per client across routes: moving to another endpoint buys nothing', async () => {
    const from = '127.0.0.22';
    const routes = ['/api/v1/posts', '/api/v1/users', '/api/v1/users/stats/top-authors', '/api/v1/posts?published=true', '/api/v1/users?limit=1'];
    const answers: number[] = [];
    for (const path of routes) answers.push((await send(t, 'GET', path, { from })).status);
    expect(answers).toEqual(Array(LIMITS.RATE_LIMIT_MAX).fill(200));
    expectTooManyRequests(await send(t, 'GET', '/api/v1/users/stats/top-authors?limit=2', { from }), 60);
  });

  it('counts login and registration attempts for one email together', async () => {
    const email = uniqueEmail('both');
    expect((await login(t, '127.0.0.23', email)).status).toBe(401);
    const register = await send(t, 'POST', '/api/v1/auth/register', { from: '127.0.0.24', body: { name: 'Both', email, password: 'a-long-enough-password' } });
    expect(register.status).toBe(201);
    expectTooManyRequests(await login(t, '127.0.0.25', email, 'a-long-enough-password'), 60);
  });
});

describe('rate limits: the window', () => {
  it('serves the client again once the Retry-After it was given has passed', async () => {
    const t = await createTestApp({ env: { RATE_LIMIT: 'on', RATE_LIMIT_MAX: '2', RATE_LIMIT_WINDOW_MS: '2000', REDIS_URL: '' } });
    try {
      const from = '127.0.0.30';
      const list = () => send(t, 'GET', '/api/v1/posts', { from });
      expect(await statuses(2, list)).toEqual([200, 200]);
      const refused = await list();
      expectTooManyRequests(refused, 2);
      await new Promise((resolve) => setTimeout(resolve, Number(refused.headers.get('retry-after')) * 1000 + 200));
      expect((await list()).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});

describe('behind a proxy (TRUST_PROXY)', () => {
  it("counts each client by the address the trusted proxy reports, not the proxy's own", async () => {
    const t = await createTestApp({ env: { RATE_LIMIT: 'on', RATE_LIMIT_MAX: '2', TRUST_PROXY: '127.0.0.0/8', REDIS_URL: '' } });
    try {
      const via = (client: string) => send(t, 'GET', '/api/v1/posts', { from: '127.0.0.40', headers: { 'x-forwarded-for': client } });
      expect(await statuses(2, () => via('198.51.100.1'))).toEqual([200, 200]);
      expectTooManyRequests(await via('198.51.100.1'), 60);
      // Same proxy, another client behind it: a budget of its own.
      expect((await via('198.51.100.2')).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});

describe('RATE_LIMIT=off', () => {
  it('answers no 429 however far past the limits a client goes', async () => {
    const t = await createTestApp({
      env: { RATE_LIMIT: 'off', RATE_LIMIT_MAX: '1', AUTH_RATE_LIMIT_PER_IP: '1', AUTH_RATE_LIMIT_PER_EMAIL: '1', REDIS_URL: '' },
    });
    try {
      const from = '127.0.0.40';
      expect(await statuses(4, () => send(t, 'GET', '/api/v1/posts', { from }))).toEqual([200, 200, 200, 200]);
      const email = uniqueEmail('off');
      expect(await statuses(4, () => login(t, from, email))).toEqual([401, 401, 401, 401]);
    } finally {
      await t.close();
    }
  });
});

describe('rate limits in Redis', () => {
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
    await redis.connect().catch((error: unknown) => {
      throw new Error(
        `These tests need Redis at ${REDIS_URL} (.ci/run starts it; locally: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" ` +
          `--appendonly no), or TEST_REDIS_URL pointing at one: ${String(error)}`,
      );
    });
  });

  afterAll(async () => {
    redis.disconnect();
  });

  it('shares the counts of two instances', async () => {
    // Per-IP budgets far above what this test sends: only the per-email count (of an email unique to this run,
    // so nothing of an earlier run or of another process on this Redis can interfere) reaches its limit.
    const env = {
      RATE_LIMIT: 'on',
      REDIS_URL,
      RATE_LIMIT_MAX: '1000',
      AUTH_RATE_LIMIT_PER_IP: '1000',
      AUTH_RATE_LIMIT_PER_EMAIL: '3',
      AUTH_RATE_LIMIT_WINDOW_MS: '60000',
    };
    const first = await createTestApp({ env });
    const second = await createTestApp({ env });
    try {
      const email = uniqueEmail('shared');
      expect((await login(first, '127.0.0.50', email)).status).toBe(401);
      expect((await login(second, '127.0.0.50', email)).status).toBe(401);
      expect((await login(first, '127.0.0.51', email)).status).toBe(401);
      // The fourth attempt is over the limit of 3 on either instance, though each saw at most 2: the count is shared.
      expectTooManyRequests(await login(second, '127.0.0.52', email), 60);
      expectTooManyRequests(await login(first, '127.0.0.53', email), 60);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('still serves requests, without counting them, when Redis cannot be reached', async () => {
    const closedPort = await freePort();
    const t = await createTestApp({ env: { RATE_LIMIT: 'on', REDIS_URL: `redis://127.0.0.1:${closedPort}`, RATE_LIMIT_MAX: '1', AUTH_RATE_LIMIT_PER_IP: '1' } });
    try {
      const from = '127.0.0.60';
      const started = Date.now();
      // Far past RATE_LIMIT_MAX=1: nothing is counted, nothing refused, nothing fails.
      expect(await statuses(3, () => send(t, 'GET', '/api/v1/posts', { from }))).toEqual([200, 200, 200]);
      expect(await statuses(3, () => login(t, from, uniqueEmail('no-redis')))).toEqual([401, 401, 401]);
      // Not queued behind the connection attempts either: six requests in well under their command timeout each.
      expect(Date.now() - started).toBeLessThan(6000);
    } finally {
      await t.close();
    }
  });
});
